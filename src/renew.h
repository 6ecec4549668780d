/*
 * The renewal engine: schedules each binding's renewal (schedule.c),
 * drives the journaled state machine (renew_step in renew.c owns every
 * transition), and answers the renew / renewals / binding requests.
 * Loop thread only; slow work goes to the thread pool.
 */
#ifndef CV_RENEW_H
#define CV_RENEW_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "conf.h"
#include "cverr.h"
#include "inventory.h"
#include "probe.h"

struct renewer;

/* Finishes or rolls back renewals found mid-way, then schedules. */
struct renewer	*renew_new(uv_loop_t *, struct inventory *, struct config *,
		    const char *state_dir);
/* A new config (SIGHUP): bindings re-read, schedule recomputed. */
void		 renew_set_config(struct renewer *, struct config *);
/* A watched file changed (a scanner event): if it is a binding's
 * cert_file, its thumbprint is compared with the binding's certhash at
 * once (a "drift" event when they differ). */
void		 renew_file_event(struct renewer *, const char *path);
/* "renew": starts (now) or reports when.  NULL + code/err on refusal. */
json_t		*renew_request(struct renewer *, const char *name, int now,
		    const char **code, struct cv_err *);
/*
 * "revoke" (issue 17): revokes TARGET (a binding's name: the certificate
 * it serves; or a SHA-1) at its ACME issuer on a worker thread, records
 * a "revoked" event and starts the serving binding's renewal.  reason:
 * an RFC 5280 name or NULL.  0: cb(arg, result, NULL, NULL) or cb(arg,
 * NULL, code, message) follows, once, on the loop (result is cb's);
 * -1: refused now (code, err), cb is never called.
 */
typedef void	(*renew_revoke_cb)(void *arg, json_t *result,
		    const char *code, const char *msg);
int		 renew_revoke(struct renewer *, const char *target,
		    const char *reason, renew_revoke_cb, void *arg,
		    const char **code, struct cv_err *);
/* "renewals": the journal, oldest first. */
/* renew NAME --check-ari (issue 17): polls the binding's ARI now. */
json_t		*renew_ari_check(struct renewer *, const char *name,
		    const char **code, struct cv_err *);
/* show --json's "ari": that of a binding serving sha1, or NULL. */
json_t		*renew_ari_for_cert(struct renewer *, const char *sha1);
json_t		*renew_list(struct renewer *, const char *binding);
/* "binding": op is add, update, delete or show.  Without root (root, or
 * the admin group with admin_may_run_commands), add and update take
 * tuning keys only (binding.h) and bindings of the config file are
 * read-only. */
json_t		*renew_binding(struct renewer *, const char *op, json_t *args,
		    int root, const char **code, struct cv_err *);
/* Issue 15: per binding, what the schedule knows (metrics.c's
 * certvigil_binding_* series); the caller frees the array. */
json_t		*renew_metrics(struct renewer *);
/*
 * The served-certificate watch (issue 15; served.c) reads the bindings
 * through these.  renew_watch_names: the bindings the journal knows (the
 * caller frees each name and the array).  renew_watch_binding: NAME's
 * effective binding (a reference: binding_free), its certhash ("" if not
 * known yet), the notAfter of what its cert_file holds (0: not known)
 * and whether a renewal of it is under way; NULL if there is none.
 */
struct binding;
void		 renew_watch_names(struct renewer *, char ***names, size_t *n);
struct binding	*renew_watch_binding(struct renewer *, const char *name,
		    char certhash[41], time_t *deployed_na, int *busy);
/* A renewal of NAME is under way (cheap: the active list). */
int		 renew_watch_busy(struct renewer *, const char *name);
/*
 * Each probe of a renewal's verify step (forward or rollback) is also
 * handed to hook, on the worker thread that made it: the hook copies
 * what it keeps.  res is NULL when no handshake was made (error says
 * why).
 */
struct renew_probe_report {
	const char			*binding;
	const char			*endpoint;	/* probe_endpoint_str */
	const char			*origin;	/* verify, rollback */
	const char			*want;		/* thumbprint expected */
	int				 require_client_cert;
	const struct probe_result	*res;
	const char			*error;
	uint64_t			 ms;
};
void		 renew_set_probe_hook(struct renewer *,
		    void (*)(void *, const struct renew_probe_report *),
		    void *arg);
/* Stops scheduling; in-flight steps end (their state stays journaled and
 * is resumed at the next start), then cb. */
void		 renew_close(struct renewer *, void (*cb)(void *), void *arg);
/* After the loop ended: frees the rest. */
void		 renew_free_all(struct renewer *);

#endif
