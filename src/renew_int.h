/*
 * The renewal engine's private parts, shared by its three files:
 *   renew.c          the state machine (renew_step) and recovery;
 *   renew_sched.c    scheduling, maintenance windows and drift;
 *   renew_binding.c  the renew / renewals / binding requests.
 * Loop thread only, as renew.h.
 */
#ifndef CV_RENEW_INT_H
#define CV_RENEW_INT_H

#include "deployed.h"
#include <time.h>
#include <uv.h>

#include "binding.h"
#include "conf.h"
#include "cverr.h"
#include "issuer.h"
#include "journal.h"
#include "renew.h"
#include "service.h"

/*
 * The renewal states, in journal order.  Each is committed before its
 * side effect starts, so a crash leaves a state whose side effect may or
 * may not have happened: every side effect can run twice.
 */
enum renew_state {
	RS_DUE = 0,	/* decided; nothing done */
	RS_ISSUING,	/* key and certificate (or CSR) being made */
	RS_AWAITING,	/* csr issuer: waiting for the inbox */
	RS_ISSUED,	/* new key + cert in the store; checked here */
	RS_STOPPING,	/* stop command (skipped with reload) */
	RS_UNBINDING,	/* live files moved aside */
	RS_BINDING,	/* new files written atomically */
	RS_STARTING,	/* start (or reload) command */
	RS_VERIFYING,	/* probing until the new thumbprint is served */
	RS_DONE,	/* final: the binding names the new certificate */
	RS_FAILED,	/* final: failed before stopping, nothing touched */
	RS_ROLLING_BACK, /* old files back, service started, old verified */
	RS_ROLLED_BACK,	/* final: serving the old certificate again */
	RS__COUNT
};

enum renew_op {
	OP_IDLE = 0,	/* the state's side effect has not started */
	OP_RUNNING,
	OP_DONE,	/* op_rc / op_err hold its outcome */
};

struct renew {
	struct renewer		*r;
	struct renew		*next;
	int64_t			 id;
	struct binding		*b;		/* effective; owned */
	struct config		*cf;		/* ref: the issuer lives here */
	const struct issuer	*is;
	enum renew_state	 state;
	enum renew_op		 op;
	int			 op_rc;
	struct cv_err		 op_err;
	char			 op_detail[SERVICE_OUTPUT_MAX + 64];
	char			 old_sha1[41];
	char			 new_sha1[41];
	char			 op_sha1[41];
	int			 attempt;
	int			 rb;		/* rolling back: sub-step */
	int			 jfail;		/* journal writes failed in a row */
	int			 unjournaled;	/* rolling back without it */
	int			 await_alerted;
	time_t			 await_since;
	time_t			 now;		/* for the worker */
	uv_work_t		 work;
	void			(*work_fn)(struct renew *);
	uv_timer_t		 timer;		/* polls and retries */
	int			 closing;
};

struct renewer {
	uv_loop_t		*loop;
	struct inventory	*inv;
	struct journal		*j;
	struct config		*cf;
	char			*state_dir;
	char			*store;
	char			*work_dir;
	uv_timer_t		 timer;		/* the next scheduled moment */
	time_t			 armed_for;
	struct renew		*active;
	json_t			*drift;		/* binding -> reported sha1 */
	json_t			*cert_files;	/* cert_file -> binding */
	struct deployed		*dep;		/* what cert_files hold */
	int			 dep_pending;	/* a read is out: redo */
	json_t			*windows_done;	/* bindings window-checked */
	struct renew_eff	*eff;		/* effective bindings */
	size_t			 neff;
	int			 closing;
	void			(*close_cb)(void *);
	void			*close_arg;
};

/* renew.c */
const char	*renew_state_name(enum renew_state);
time_t		 renew_now(struct renewer *);
void		 renew_step(struct renew *);
struct renew	*renew_find(struct renewer *, const char *name);
int		 renew_start(struct renewer *, struct binding *,
		    const char *certhash, const char *reason, struct cv_err *);

/* renew_sched.c */
void		 renew_schedule(struct renewer *);
void		 renew_check_windows(struct renewer *);
/* deployed_get() for b's cert_file; a pending read is noted, and the
 * schedule runs again when it is done (renew_deployed_ready). */
int		 renew_deployed(struct renewer *, const struct binding *,
		    struct deployed_leaf *, struct cv_err *);
void		 renew_deployed_ready(void *renewer);
time_t		 renew_when(struct renewer *, const struct binding *,
		    const char *certhash, time_t nb, time_t na, time_t now,
		    int *emergency);

/* renew_binding.c */
/* Forgets the effective bindings (a new configuration). */
void		 renew_eff_clear(struct renewer *);
struct binding	*renew_effective(struct renewer *, const char *name,
		    char certhash[41], struct cv_err *);

#endif
