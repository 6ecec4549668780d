/*
 * The renewal engine's private parts, shared by its three files:
 *   renew.c          the state machine (renew_step) and recovery;
 *   renew_sched.c    scheduling, maintenance windows and drift;
 *   renew_binding.c  the renew / renewals / binding requests.
 * Loop thread only, as renew.h.
 */
#ifndef CV_RENEW_INT_H
#define CV_RENEW_INT_H

#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "deployed.h"

#include "binding.h"
#include "conf.h"
#include "cverr.h"
#include "issuer.h"
#include "journal.h"
#include "renew.h"
#include "renew_fsm.h"
#include "service.h"
#include "worker.h"

/* Which command of each service a state runs (issue 14). */
enum renew_svc_cmd {
	SVC_STOP = 0,	/* stop (none with reload) */
	SVC_START,	/* reload, else start */
	SVC_TEST,	/* config_test */
};

/* Where the current phase's side effect is. */
enum renew_op {
	OP_IDLE = 0,	/* not started */
	OP_RUNNING,	/* work, a command or a timer is out */
	OP_DONE,	/* outcome / op_err hold how it ended */
};

struct renew {
	struct renewer		*r;
	struct renew		*next;
	int64_t			 id;
	struct binding		*b;		/* effective; owned */
	struct config		*cf;		/* ref: the issuer lives here */
	const struct issuer	*is;
	enum renew_state	 state;
	enum renew_phase	 phase;		/* within state; not journaled */
	enum renew_op		 op;
	int			 op_rc;		/* work: 0 or -1 (outcome) */
	enum renew_outcome	 outcome;	/* op done: how */
	struct issuer_reply	 reply;		/* the issuer's last answer */
	struct cv_err		 op_err;
	char			 op_detail[SERVICE_OUTPUT_MAX + 64];
	char			 old_sha1[41];
	char			 new_sha1[41];
	char			 restored_sha1[41];	/* unbinding found live */
	char			 shown_detail[256];	/* the pending detail last
						 * written to the journal */
	char			 op_sha1[41];
	int			 attempt;
	int			 restored_new;	/* restored_sha1 learnt rolling
						 * back: to journal */
	time_t			 verify_deadline; /* probes until (real clock) */
	int			 jfail;		/* journal writes failed in a row */
	int			 unjournaled;	/* rolling back without it */
	int			 await_alerted;
	time_t			 await_since;
	time_t			 now;		/* for the worker */
	struct worker_job	 job;		/* renew_work's, own thread */
	void			(*work_fn)(struct renew *);
	uv_timer_t		 timer;		/* polls and retries */
	int			 closing;
	/* issue 14: the services' commands run one after another */
	enum renew_svc_cmd	 svc_cmd;
	size_t			 svc_i;		/* the one running */
	int			 svc_failed;	/* a rollback stop failed */
	int			 tested;	/* testing deployed the files:
						 * unbinding moves nothing */
	int64_t			 down_since_ms;	/* first stop; 0: none */
	char			 fail_why[512];	/* undone testing's reason */
};

struct renewer {
	uv_loop_t		*loop;
	struct inventory	*inv;
	struct journal		*j;
	struct config		*cf;
	char			*state_dir;
	struct store		*store;
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
	struct worker		 worker;	/* renew_work's threads */
	int			 worker_up;
	size_t			 neff;
	/* issue 15: the served watch's record of verify probes */
	void			(*probe_hook)(void *,
				    const struct renew_probe_report *);
	void			*probe_hook_arg;
	int			 closing;
	void			(*close_cb)(void *);
	void			*close_arg;
	json_t			*ari_busy;	/* bindings being polled (ARI) */
};

/* renew.c */
time_t		 renew_now(struct renewer *);
void		 renew_step(struct renew *);
struct renew	*renew_find(struct renewer *, const char *name);
int		 renew_start(struct renewer *, struct binding *,
		    const char *certhash, const char *reason, struct cv_err *);
/* The binding's newest renewal failed or rolled back on certhash? */
int		 renew_last_failed(struct renewer *, const char *name,
		    const char *certhash, int *attempt, int64_t *next_attempt);

/* renew_sched.c */
void		 renew_schedule(struct renewer *);
void		 renew_check_windows(struct renewer *);
/* deployed_get() for b's cert_file; a pending read is noted, and the
 * schedule runs again when it is done (renew_deployed_ready). */
int		 renew_deployed(struct renewer *, const struct binding *,
		    struct deployed_leaf *, struct cv_err *);
void		 renew_deployed_ready(void *renewer);
/* How many forms after cert_file (issue 14) hold another certificate
 * than certhash (paths appended to drifted); report: drift events. */
int		 renew_forms_drift(struct renewer *, const struct binding *,
		    const char *certhash, int report, json_t *drifted);
time_t		 renew_when(struct renewer *, const struct binding *,
		    const char *certhash, time_t nb, time_t na, time_t now,
		    int *emergency);

/* renew_binding.c */
/* Forgets the effective bindings (a new configuration). */
void		 renew_eff_clear(struct renewer *);
struct binding	*renew_effective(struct renewer *, const char *name,
		    char certhash[41], struct cv_err *);

/* renew_ari.c (issue 17, ARI; the inventory's ari table is its own) */
#define RENEW_ARI_EMERGENCY	2	/* renew_when's *emergency: ARI's */
struct renew_ari_row {
	char	 certhash[41];		/* the certificate polled */
	char	*cert_id;
	int	 has_window;
	time_t	 start, end, next_poll, polled;
	char	*explanation_url, *last_error;
};
int		 renew_ari_get(struct renewer *, const char *name,
		    struct renew_ari_row *);
void		 renew_ari_row_clear(struct renew_ari_row *);
time_t		 renew_ari_poll(struct renewer *, const struct binding *,
		    const char *certhash, time_t now, int force);
int		 renew_ari_when(struct renewer *, const struct binding *,
		    const char *certhash, time_t na, time_t now, time_t *m,
		    int *emergency);
char		*renew_ari_explanation(struct renewer *, const char *name);
json_t		*renew_ari_json(struct renewer *, const struct binding *,
		    const char *certhash);

#endif
