#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentcfg.h"
#include "binding.h"
#include "fsutil.h"
#include "issuer.h"
#include "journal.h"
#include "log.h"
#include "probe.h"
#include "proto.h"
#include "renew.h"
#include "schedule.h"
#include "service.h"
#include "timeutil.h"
#include "xmalloc.h"

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

static const char *renew_state_names[RS__COUNT] = {
	"due", "issuing", "awaiting_certificate", "issued", "stopping",
	"unbinding", "binding", "starting", "verifying", "done", "failed",
	"rolling_back", "rolled_back",
};

enum renew_op {
	OP_IDLE = 0,	/* the state's side effect has not started */
	OP_RUNNING,
	OP_DONE,	/* op_rc / op_err hold its outcome */
};

struct renewer;

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
	int			 closing;
	void			(*close_cb)(void *);
	void			*close_arg;
};

static void	renew_step(struct renew *);
static void	renew_schedule(struct renewer *);

/* ---- helpers --------------------------------------------------------- */

static const char *
renew_state_name(enum renew_state s)
{
	return (unsigned)s < RS__COUNT ? renew_state_names[s] : "?";
}

static int
renew_state_parse(const char *s)
{
	int	i;

	for (i = 0; i < RS__COUNT; i++)
		if (s != NULL && strcmp(renew_state_names[i], s) == 0)
			return i;
	return -1;
}

static time_t
renew_now(struct renewer *r)
{
	time_t	now = timeutil_now();

	/* A timer fired for a moment the (test) clock has not reached. */
	return now < r->armed_for ? r->armed_for : now;
}

static void
renew_closed(uv_handle_t *h)
{
	struct renewer	*r = h->data;

	r->close_cb(r->close_arg);
}

static void
renew_maybe_closed(struct renewer *r)
{
	if (!r->closing || r->active != NULL || r->close_cb == NULL)
		return;
	if (!uv_is_closing((uv_handle_t *)&r->timer))
		uv_close((uv_handle_t *)&r->timer, renew_closed);
}

/* The binding as it stands: config keys, then run-time changes. */
static struct binding *
renew_effective(struct renewer *r, const char *name, char certhash[41],
    struct cv_err *err)
{
	struct journal_binding	 jb;
	struct binding		*base, *b = NULL;
	int			 rc;

	certhash[0] = '\0';
	if ((rc = journal_binding_get(r->j, name, &jb)) == -1) {
		cv_err_set(err, "binding '%s': the journal cannot be read",
		    name);
		return NULL;
	}
	base = conf_binding(r->cf, name);
	if (rc != 0 && base == NULL) {
		cv_err_set(err, "no binding named '%s'", name);
		return NULL;
	}
	if (base != NULL)
		b = binding_rebuild(base, rc == 0 ? jb.settings : NULL, err);
	else {
		base = binding_new(name, 0, 0);
		b = binding_rebuild(base, jb.settings, err);
		binding_free(base);
	}
	if (rc == 0) {
		snprintf(certhash, 41, "%s", jb.certhash);
		journal_binding_clear(&jb);
	}
	return b;
}

static void
renew_event(struct renew *rw, const char *kind, const char *sha1,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
renew_event(struct renew *rw, const char *kind, const char *sha1,
    const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	inventory_add_event(rw->r->inv, timeutil_now(), kind,
	    rw->b->cert_file, sha1 && *sha1 ? sha1 : NULL, "%s: %s",
	    rw->b->name, msg);
}

/* ---- transitions ----------------------------------------------------- */

/*
 * Commits the new state (durably), then -- only then -- lets renew_step
 * start its side effect.  A failed commit stops the renewal where it is:
 * nothing is done that the journal does not say.
 */
static int
renew_enter(struct renew *rw, enum renew_state s, const char *error,
    int64_t next_attempt, const char *detail)
{
	const int	 done = s == RS_DONE;

	if (journal_set_state(rw->r->j, rw->id, renew_state_name(s),
	    rw->new_sha1, error, next_attempt, detail, done ? rw->new_sha1 :
	    NULL, rw->b->name, timeutil_now()) == -1) {
		log_error("renewal %lld (%s): cannot journal %s",
		    (long long)rw->id, rw->b->name, renew_state_name(s));
		return -1;
	}
	rw->jfail = 0;
	rw->state = s;
	rw->op = OP_IDLE;
	rw->op_err.msg[0] = '\0';
	rw->op_detail[0] = '\0';
	log_info("renewal %lld (%s): %s%s%s", (long long)rw->id, rw->b->name,
	    renew_state_name(s), error && *error ? ": " : "",
	    error ? error : "");
#ifdef CV_TEST_HOOKS
	{
		const char	*at = getenv("CERTVIGIL_TEST_CRASH_AT");

		if (at != NULL && strcmp(at, renew_state_name(s)) == 0) {
			log_warn("CERTVIGIL_TEST_CRASH_AT=%s: exiting", at);
			_exit(99);
		}
	}
#endif
	return 0;
}

/* ---- asynchronous side effects --------------------------------------- */

static void
renew_work_run(uv_work_t *w)
{
	struct renew	*rw = w->data;

	rw->op_rc = 0;
	rw->work_fn(rw);
}

static void
renew_free(struct renew *rw)
{
	struct renewer	*r = rw->r;
	struct renew	**pp;

	for (pp = &r->active; *pp != NULL; pp = &(*pp)->next)
		if (*pp == rw) {
			*pp = rw->next;
			break;
		}
	binding_free(rw->b);
	conf_unref(rw->cf);
	free(rw);
	renew_maybe_closed(r);
}

static void
renew_timer_closed(uv_handle_t *h)
{
	renew_free(h->data);
}

/* Ends a renewal's life in memory (its journal row stays). */
static void
renew_release(struct renew *rw)
{
	if (rw->closing)
		return;
	rw->closing = 1;
	uv_close((uv_handle_t *)&rw->timer, renew_timer_closed);
}

/*
 * Whether the renewal has the service stopped or its files changed: then
 * it finishes (done or rolled back) before the daemon exits, so that a
 * shutdown never leaves a service down until the next start.
 */
static int
renew_service_down(const struct renew *rw)
{
	return (rw->state >= RS_STOPPING && rw->state <= RS_VERIFYING) ||
	    rw->state == RS_ROLLING_BACK;
}

static void
renew_op_done(struct renew *rw)
{
	rw->op = OP_DONE;
	if (rw->r->closing && !renew_service_down(rw)) {
		renew_release(rw);
		return;
	}
	renew_step(rw);
}

static void
renew_work_after(uv_work_t *w, int status)
{
	struct renew	*rw = w->data;

	if (status != 0) {
		rw->op_rc = -1;
		cv_err_set(&rw->op_err, "cancelled");
	}
	renew_op_done(rw);
}

static void
renew_work(struct renew *rw, void (*fn)(struct renew *))
{
	rw->op = OP_RUNNING;
	rw->now = renew_now(rw->r);
	rw->work_fn = fn;
	rw->work.data = rw;
	uv_queue_work(rw->r->loop, &rw->work, renew_work_run,
	    renew_work_after);
}

static void
renew_spawned(void *arg, int status, const char *detail)
{
	struct renew	*rw = arg;

	rw->op_rc = status == 0 ? 0 : -1;
	snprintf(rw->op_detail, sizeof(rw->op_detail), "%s", detail);
	if (status != 0)
		cv_err_set(&rw->op_err, "%s", detail);
	renew_op_done(rw);
}

/* Runs a command; no command at all succeeds at once. */
static void
renew_spawn(struct renew *rw, char *const *argv, char *const *env,
    int64_t timeout, const char *what)
{
	char	*log_path, err[512];

	rw->op = OP_RUNNING;
	if (argv == NULL) {
		rw->op_rc = 0;
		rw->op = OP_DONE;
		renew_step(rw);
		return;
	}
	xasprintf(&log_path, "%s/%lld.%s.log", rw->r->work_dir,
	    (long long)rw->id, what);
	if (service_run(rw->r->loop, argv, env, timeout, log_path,
	    renew_spawned, rw, NULL, err, sizeof(err)) == -1) {
		rw->op_rc = -1;
		cv_err_set(&rw->op_err, "%s: %s", what, err);
		rw->op = OP_DONE;
		free(log_path);
		renew_step(rw);
		return;
	}
	free(log_path);
}

static void
renew_timer_fired(uv_timer_t *t)
{
	struct renew	*rw = t->data;

	rw->op = OP_IDLE;
	renew_step(rw);
}

static void
renew_later(struct renew *rw, uint64_t ms)
{
	rw->op = OP_RUNNING;
	uv_timer_start(&rw->timer, renew_timer_fired, ms, 0);
}

/*
 * The journal could not record a step (disk full, I/O error).  Nothing
 * was done that it does not say, and every state's side effect is safe
 * to repeat, so the renewal stays where the journal left it and repeats
 * that state later (1 s, doubling to 60 s).  While the service is down
 * for it (stopping to starting), the third failure in a row starts the
 * rollback without the journal instead: a service is not left stopped
 * for a disk.  Should the daemon die in the middle of that, recovery
 * resumes from the journal's last word, which every sub-step tolerates.
 */
static void
renew_journal_failed(struct renew *rw)
{
	uint64_t	ms;
	int		down;

	rw->jfail++;
	down = rw->state >= RS_STOPPING && rw->state <= RS_STARTING;
	if (rw->r->closing && !down) {
		renew_release(rw);
		return;
	}
	/* Exiting: no waiting for the disk with the service down. */
	if (down && (rw->jfail >= 3 || rw->r->closing)) {
		log_error("renewal %lld (%s): the journal cannot be written "
		    "with the service down: rolling back without it",
		    (long long)rw->id, rw->b->name);
		rw->unjournaled = 1;
		rw->state = RS_ROLLING_BACK;
		rw->rb = 0;
		rw->op = OP_IDLE;
		renew_step(rw);
		return;
	}
	ms = 1000u << (rw->jfail > 6 ? 6 : rw->jfail - 1);
	if (ms > 60000)
		ms = 60000;
	log_warn("renewal %lld (%s): cannot journal; retrying %s in %llu s",
	    (long long)rw->id, rw->b->name, renew_state_name(rw->state),
	    (unsigned long long)(ms / 1000));
	renew_later(rw, ms);
}

/* Enters s (journaled) and goes on with it. */
static void
renew_advance(struct renew *rw, enum renew_state s, const char *detail)
{
	if (renew_enter(rw, s, "", 0, detail) == 0)
		renew_step(rw);
	else
		renew_journal_failed(rw);
}

/* ---- thread-pool work ------------------------------------------------ */

static void
renew_w_issue_local(struct renew *rw)
{
	rw->op_rc = issuer_local(rw->is, rw->b, rw->r->store, rw->id, rw->now,
	    rw->op_sha1, &rw->op_err);
}

static char *
renew_csr_path(struct renew *rw)
{
	char	*p;

	if (rw->is->type == ISSUER_CSR)
		xasprintf(&p, "%s/%s-%lld.csr", rw->is->outbox, rw->b->name,
		    (long long)rw->id);
	else
		xasprintf(&p, "%s/%lld.csr", rw->r->work_dir,
		    (long long)rw->id);
	return p;
}

static char *
renew_exec_out(struct renew *rw)
{
	char	*p;

	xasprintf(&p, "%s/%lld.crt", rw->r->work_dir, (long long)rw->id);
	return p;
}

static void
renew_w_request(struct renew *rw)
{
	char	*p = renew_csr_path(rw);

	rw->op_rc = issuer_request(rw->is, rw->b, rw->r->store, rw->id, p,
	    &rw->op_err);
	free(p);
}

static void
renew_w_collect(struct renew *rw)
{
	char	*p = rw->is->type == ISSUER_CSR ? xstrdup(rw->is->inbox) :
	    renew_exec_out(rw);

	rw->op_rc = issuer_collect(rw->r->store, rw->id, p, rw->op_sha1,
	    &rw->op_err);
	free(p);
}

static void
renew_w_validate(struct renew *rw)
{
	rw->op_rc = issuer_validate(rw->is, rw->b, rw->r->store, rw->new_sha1,
	    rw->now, &rw->op_err);
}

static void
renew_w_unbind(struct renew *rw)
{
	rw->op_rc = binding_unbind(rw->b, rw->id, &rw->op_err);
	/* Five sets of previous files are kept, as the store keeps five
	 * certificates; this renewal's set is the newest (rollback needs
	 * only it). */
	if (rw->op_rc == 0)
		binding_prune_aside(rw->b, BINDING_KEEP_STORE);
}

static void
renew_w_bind(struct renew *rw)
{
	int	changed;

	rw->op_rc = binding_bind(rw->b, rw->r->store, rw->new_sha1,
	    &rw->op_err);
	if (rw->op_rc == -1 || !rw->b->is_client || rw->b->agent_config ==
	    NULL)
		return;
	/* The agent reads its client certificate from these preferences. */
	rw->op_rc = agentcfg_set_client_cert(rw->b->agent_config,
	    (const char *const *)rw->b->agent_sections,
	    rw->b->nagent_sections, rw->b->cert_file, rw->b->key_file,
	    &changed, &rw->op_err);
}

static void
renew_w_restore(struct renew *rw)
{
	rw->op_rc = binding_restore(rw->b, rw->id, &rw->op_err);
}

/*
 * Servers that check client certificates after the handshake answer a
 * refused one over HTTP: nginx with 400 ("The SSL certificate error",
 * its internal 495/496), IIS with 403.7/403.16.  A beacon accepts a
 * client it answers any other way.
 */
static int
renew_http_refusal(int status)
{
	return status == 400 || status == 403 || status == 495 ||
	    status == 496;
}

/*
 * Probes until the endpoint serves want (and, for require_client_cert,
 * still refuses a client without a certificate); a [client] until the
 * beacon accepts the deployed client certificate.  Bounded by
 * verify_timeout.
 */
static void
renew_verify(struct renew *rw, const char *want)
{
	struct probe_opts	o;
	struct probe_result	res;
	struct cv_err		e;
	struct timespec		ts = { 0, 250 * 1000 * 1000 };
	char			host[256], port[16];
	time_t			deadline = time(NULL) + rw->b->verify_timeout;
	int			ok = 0;

	rw->op_rc = -1;
	if (binding_probe_target(rw->b, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		cv_err_set(&rw->op_err, "no address to probe (set probe)");
		return;
	}
	memset(&o, 0, sizeof(o));
	o.host = host;
	o.port = port;
	o.timeout_ms = 5000;
	if (rw->b->hostnameport != NULL)
		o.sni = host;
	if (rw->b->is_client) {
		o.cert_file = rw->b->cert_file;
		o.key_file = rw->b->key_file;
		o.ca_file = rw->b->ca_file;
	}
	snprintf(rw->op_err.msg, sizeof(rw->op_err.msg), "nothing probed");
	do {
		if (probe_run(&o, &res, &e) == -1) {
			cv_err_set(&rw->op_err, "probe %s:%s: %s", host, port,
			    e.msg);
		} else {
			if (rw->b->is_client)
				ok = res.with.accepted &&
				    !renew_http_refusal(res.with.http_status);
			else
				ok = res.nchain > 0 && want != NULL &&
				    strcmp(res.chain[0].sha1, want) == 0 &&
				    (!rw->b->require_client_cert ||
				    !res.without.accepted ||
				    res.without.cert_requested);
			if (!ok && rw->b->is_client && res.with.accepted)
				cv_err_set(&rw->op_err, "%s:%s refuses the "
				    "client certificate: HTTP %d after the "
				    "handshake", host, port,
				    res.with.http_status);
			else if (!ok && rw->b->is_client)
				cv_err_set(&rw->op_err, "%s:%s refuses the "
				    "client certificate: %s", host, port,
				    res.with.error);
			else if (!ok && res.nchain > 0 && want != NULL &&
			    strcmp(res.chain[0].sha1, want) != 0)
				cv_err_set(&rw->op_err, "%s:%s serves %s, not "
				    "%s", host, port, res.chain[0].sha1, want);
			else if (!ok)
				cv_err_set(&rw->op_err, "%s:%s no longer asks "
				    "for a client certificate "
				    "(require_client_cert = yes)", host, port);
			probe_result_free(&res);
		}
		if (ok)
			break;
		nanosleep(&ts, NULL);
	} while (time(NULL) < deadline);
	rw->op_rc = ok ? 0 : -1;
}

static void
renew_w_verify_new(struct renew *rw)
{
	renew_verify(rw, rw->new_sha1);
}

static void
renew_w_verify_old(struct renew *rw)
{
	renew_verify(rw, rw->old_sha1);
}

/* ---- the state machine ----------------------------------------------- */

/* After done: the store keeps the newest sets (the old one among them). */
static void
renew_prune_store(struct renew *rw)
{
	char	**old = NULL;
	size_t	  i;

	if (journal_store_add(rw->r->j, rw->new_sha1, rw->b->name,
	    timeutil_now(), BINDING_KEEP_STORE, rw->old_sha1, &old) == 0)
		for (i = 0; old[i] != NULL; i++)
			issuer_store_remove(rw->r->store, old[i]);
	for (i = 0; old != NULL && old[i] != NULL; i++)
		free(old[i]);
	free(old);
}

/* Failure before stopping: nothing was touched; retry with backoff. */
static void
renew_fail_early(struct renew *rw, const char *reason)
{
	char	why[sizeof(rw->op_err.msg)];

	int64_t	next = (int64_t)renew_now(rw->r) + sched_backoff(rw->attempt,
	    sched_hash(rw->b->name, rw->old_sha1) + (uint64_t)rw->id);
	char	ts[TIMEUTIL_RFC3339_LEN];

	/* reason may be op_err, which entering the next state clears. */
	snprintf(why, sizeof(why), "%s", reason);
	if (renew_enter(rw, RS_FAILED, why, next, why) == -1) {
		renew_journal_failed(rw);
		return;
	}
	renew_event(rw, "renewal_failed", rw->old_sha1, "%s (nothing was "
	    "touched; retrying)", why);
	log_warn("renewal %lld (%s) failed: %s; next attempt %s",
	    (long long)rw->id, rw->b->name, why,
	    timeutil_rfc3339((time_t)next, ts, sizeof(ts)));
	renew_release(rw);
}

/* Failure from stopping on: put the old certificate back. */
static void
renew_fail_late(struct renew *rw, const char *reason)
{
	char	why[sizeof(rw->op_err.msg)];

	snprintf(why, sizeof(why), "%s", reason);
	renew_event(rw, "renewal_failed", rw->new_sha1, "%s (rolling back)",
	    why);
	rw->rb = 0;
	if (renew_enter(rw, RS_ROLLING_BACK, why, 0, why) == -1) {
		renew_journal_failed(rw);
		return;
	}
	renew_step(rw);
}

/*
 * The only function that changes a renewal's state.  Called when the
 * state was entered (op idle: start its side effect) and again when that
 * side effect completes (op done: decide the next state).
 */
static void
renew_step(struct renew *rw)
{
	char	*env[6], *csr, *out;
	size_t	 i;

	if (rw->op == OP_RUNNING || rw->closing)
		return;
	switch (rw->state) {
	case RS_DUE:
		renew_advance(rw, RS_ISSUING, rw->is ?
		    issuer_type_name(rw->is->type) : NULL);
		return;
	case RS_ISSUING:
		if (rw->op == OP_IDLE) {
			if (rw->is == NULL) {
				renew_fail_early(rw, "no issuer (set issuer "
				    "= NAME in the binding)");
				return;
			}
			renew_work(rw, rw->is->type == ISSUER_LOCAL ?
			    renew_w_issue_local : renew_w_request);
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_early(rw, rw->op_err.msg);
			return;
		}
		if (rw->is->type == ISSUER_LOCAL) {
			memcpy(rw->new_sha1, rw->op_sha1, 41);
			renew_advance(rw, RS_ISSUED, rw->new_sha1);
			return;
		}
		if (rw->is->type == ISSUER_EXEC && rw->op_detail[0] == '\0') {
			/* The request is ready: run the command. */
			csr = renew_csr_path(rw);
			out = renew_exec_out(rw);
			unlink(out);
			xasprintf(&env[0], "CERTVIGIL_CSR=%s", csr);
			xasprintf(&env[1], "CERTVIGIL_CERT_OUT=%s", out);
			xasprintf(&env[2], "CERTVIGIL_BINDING=%s",
			    rw->b->name);
			xasprintf(&env[3], "CERTVIGIL_ENDPOINT=%s",
			    binding_endpoint(rw->b));
			xasprintf(&env[4], "CERTVIGIL_PURPOSE=%s",
			    rw->b->is_client ? "client" : "server");
			env[5] = NULL;
			free(csr);
			free(out);
			renew_spawn(rw, rw->is->command, env, rw->is->timeout,
			    "issuer");
			for (i = 0; i < 5; i++)
				free(env[i]);
			return;
		}
		if (renew_enter(rw, RS_AWAITING, "", 0, rw->op_detail[0] ?
		    rw->op_detail : "CSR in the outbox") == 0) {
			rw->await_since = renew_now(rw->r);
			renew_step(rw);
		} else
			renew_journal_failed(rw);
		return;
	case RS_AWAITING:
		if (rw->op == OP_IDLE) {
			renew_work(rw, renew_w_collect);
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_early(rw, rw->op_err.msg);
			return;
		}
		if (rw->op_rc == 1) {
			if (rw->is->type == ISSUER_EXEC) {
				renew_fail_early(rw, "the exec issuer left no "
				    "certificate for the key at "
				    "CERTVIGIL_CERT_OUT");
				return;
			}
			if (!rw->await_alerted && renew_now(rw->r) -
			    rw->await_since >= rw->is->alert_after) {
				rw->await_alerted = 1;
				renew_event(rw, "renewal_overdue", rw->old_sha1,
				    "no signed certificate in %s yet",
				    rw->is->inbox);
			}
			/* The inbox is small; a look every 2 s is cheap. */
			renew_later(rw, 2000);
			return;
		}
		memcpy(rw->new_sha1, rw->op_sha1, 41);
		renew_advance(rw, RS_ISSUED, rw->new_sha1);
		return;
	case RS_ISSUED:
		if (rw->op == OP_IDLE) {
			renew_work(rw, renew_w_validate);
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_early(rw, rw->op_err.msg);
			return;
		}
		renew_advance(rw, RS_STOPPING, NULL);
		return;
	case RS_STOPPING:
		if (rw->op == OP_IDLE) {
			renew_spawn(rw, rw->b->stop, NULL,
			    rw->b->service_timeout, "stop");
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_late(rw, rw->op_err.msg);
			return;
		}
		renew_advance(rw, RS_UNBINDING, rw->op_detail);
		return;
	case RS_UNBINDING:
		if (rw->op == OP_IDLE) {
			renew_work(rw, renew_w_unbind);
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_late(rw, rw->op_err.msg);
			return;
		}
		renew_advance(rw, RS_BINDING, NULL);
		return;
	case RS_BINDING:
		if (rw->op == OP_IDLE) {
			renew_work(rw, renew_w_bind);
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_late(rw, rw->op_err.msg);
			return;
		}
		renew_advance(rw, RS_STARTING, NULL);
		return;
	case RS_STARTING:
		if (rw->op == OP_IDLE) {
			renew_spawn(rw, rw->b->reload ? rw->b->reload :
			    rw->b->start, NULL, rw->b->service_timeout,
			    rw->b->reload ? "reload" : "start");
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_late(rw, rw->op_err.msg);
			return;
		}
		renew_advance(rw, RS_VERIFYING, rw->op_detail);
		return;
	case RS_VERIFYING:
		if (rw->op == OP_IDLE) {
			renew_work(rw, renew_w_verify_new);
			return;
		}
		if (rw->op_rc == -1) {
			renew_fail_late(rw, rw->op_err.msg);
			return;
		}
		if (renew_enter(rw, RS_DONE, "", 0, rw->new_sha1) == -1) {
			renew_journal_failed(rw);
			return;
		}
		renew_event(rw, "renewal_done", rw->new_sha1, "renewal %lld "
		    "done: now serving %s", (long long)rw->id, rw->new_sha1);
		renew_prune_store(rw);
		renew_release(rw);
		renew_schedule(rw->r);
		return;
	case RS_ROLLING_BACK:
		/* Sub-steps, each safe to repeat: stop, files back, start,
		 * the old thumbprint on the wire.  A failed (or hung and
		 * killed) stop does not hold the rollback up: the files go
		 * back and the idempotent start and the probe decide; any
		 * other failed sub-step starts the rollback over later. */
		if (rw->op == OP_DONE && rw->op_rc == -1 && rw->rb == 0) {
			renew_event(rw, "rollback_stop_failed", rw->old_sha1,
			    "%s (putting the files back anyway)",
			    rw->op_err.msg);
			log_warn("renewal %lld (%s): rollback stop failed: %s",
			    (long long)rw->id, rw->b->name, rw->op_err.msg);
		} else if (rw->op == OP_DONE && rw->op_rc == -1) {
			int64_t	d = sched_backoff(rw->attempt, (uint64_t)rw->id);

			if (rw->r->closing) {
				/* Exiting: the next start resumes it. */
				log_error("renewal %lld (%s): rollback step "
				    "failed: %s; the next start resumes the "
				    "rollback", (long long)rw->id, rw->b->name,
				    rw->op_err.msg);
				renew_release(rw);
				return;
			}
			renew_event(rw, "rollback_failed", rw->old_sha1,
			    "%s (trying again)", rw->op_err.msg);
			log_error("renewal %lld (%s): rollback step failed: %s",
			    (long long)rw->id, rw->b->name, rw->op_err.msg);
			rw->rb = 0;
			rw->attempt++;
			renew_later(rw, (uint64_t)(d > 60 ? 60 : d) * 1000);
			return;
		}
		if (rw->op == OP_DONE)
			rw->rb++;
		rw->op = OP_IDLE;
		switch (rw->rb) {
		case 0:
			renew_spawn(rw, rw->b->stop, NULL,
			    rw->b->service_timeout, "rollback-stop");
			return;
		case 1:
			renew_work(rw, renew_w_restore);
			return;
		case 2:
			renew_spawn(rw, rw->b->reload ? rw->b->reload :
			    rw->b->start, NULL, rw->b->service_timeout,
			    "rollback-start");
			return;
		case 3:
			if (rw->old_sha1[0] == '\0' && !rw->b->is_client) {
				rw->op = OP_DONE;
				rw->op_rc = 0;
				renew_step(rw);
				return;
			}
			renew_work(rw, renew_w_verify_old);
			return;
		default:
			break;
		}
		if (renew_enter(rw, RS_ROLLED_BACK, NULL, (int64_t)renew_now(
		    rw->r) + sched_backoff(rw->attempt, (uint64_t)rw->id),
		    rw->old_sha1) == -1) {
			if (rw->unjournaled == 1) {
				rw->unjournaled = 2;
				log_warn("renewal %lld (%s): serving the "
				    "previous certificate without the journal; "
				    "it will say so once it can be written",
				    (long long)rw->id, rw->b->name);
			}
			renew_journal_failed(rw);
			return;
		}
		renew_event(rw, "rolled_back", rw->old_sha1, "renewal %lld "
		    "rolled back: serving the previous certificate again",
		    (long long)rw->id);
		renew_release(rw);
		return;
	case RS_DONE:
	case RS_FAILED:
	case RS_ROLLED_BACK:
	case RS__COUNT:
		renew_release(rw);
		return;
	}
}

/* ---- starting renewals ----------------------------------------------- */

static struct renew *
renew_find(struct renewer *r, const char *name)
{
	struct renew	*rw;

	for (rw = r->active; rw != NULL; rw = rw->next)
		if (strcmp(rw->b->name, name) == 0 && !rw->closing)
			return rw;
	return NULL;
}

static struct renew *
renew_alloc(struct renewer *r, struct binding *b)
{
	struct renew	*rw = xcalloc(1, sizeof(*rw));

	rw->r = r;
	rw->b = b;
	rw->cf = conf_ref(r->cf);
	rw->is = b->issuer ? conf_issuer(r->cf, b->issuer) : NULL;
	uv_timer_init(r->loop, &rw->timer);
	rw->timer.data = rw;
	rw->next = r->active;
	r->active = rw;
	return rw;
}

static int
renew_start(struct renewer *r, struct binding *b, const char *certhash,
    const char *reason, struct cv_err *err)
{
	struct journal_row	 last;
	struct renew		*rw;
	int			 attempt = 1;

	if (journal_last(r->j, b->name, &last) == 0) {
		if ((!strcmp(last.state, "failed") ||
		    !strcmp(last.state, "rolled_back")) &&
		    !strcmp(last.old_sha1, certhash))
			attempt = last.attempt + 1;
		journal_row_clear(&last);
	}
	rw = renew_alloc(r, b);
	snprintf(rw->old_sha1, sizeof(rw->old_sha1), "%s", certhash);
	rw->attempt = attempt;
	rw->id = journal_create(r->j, b->name, certhash, attempt, reason,
	    timeutil_now());
	if (rw->id == -1) {
		renew_release(rw);
		return cv_err_set(err, "cannot write the journal");
	}
	inventory_add_event(r->inv, timeutil_now(), "renewal_started",
	    b->cert_file, *certhash ? certhash : NULL, "%s: renewal %lld (%s)",
	    b->name, (long long)rw->id, reason);
	renew_step(rw);
	return 0;
}

/* When b renews next; sets *emergency. */
static time_t
renew_when(struct renewer *r, const struct binding *b, const char *certhash,
    time_t nb, time_t na, time_t now, int *emergency)
{
	struct journal_row	last;
	time_t			m;

	m = sched_moment(&b->window, b->timezone, sched_due(nb, na,
	    &b->policy), na, b->emergency_before, now, sched_hash(b->name,
	    certhash), emergency);
	if (journal_last(r->j, b->name, &last) == 0) {
		if ((!strcmp(last.state, "failed") ||
		    !strcmp(last.state, "rolled_back")) &&
		    !strcmp(last.old_sha1, certhash) && last.next_attempt > m &&
		    !*emergency)
			m = sched_moment(&b->window, b->timezone,
			    (time_t)last.next_attempt, na,
			    b->emergency_before, now, sched_hash(b->name,
			    certhash), emergency);
		journal_row_clear(&last);
	}
	return m;
}

static void
renew_timer_cb(uv_timer_t *t)
{
	struct renewer	*r = t->data;

	renew_schedule(r);
}

/*
 * Drift: the deployed file (holding sha1) is not what the binding names
 * (certhash).  One event per new thumbprint found; cleared when the file
 * matches again.
 */
static void
renew_drift(struct renewer *r, const struct binding *b, const char *certhash,
    const char *sha1)
{
	json_t	*rep = json_object_get(r->drift, b->name);

	if (*certhash && *sha1 && strcmp(sha1, certhash) != 0) {
		if (rep != NULL && strcmp(json_string_value(rep), sha1) == 0)
			return;
		inventory_add_event(r->inv, timeutil_now(), "drift",
		    b->cert_file, sha1, "%s: %s holds %s, the binding names %s",
		    b->name, b->cert_file, sha1, certhash);
		json_object_set_new(r->drift, b->name, json_string(sha1));
	} else if (rep != NULL)
		json_object_del(r->drift, b->name);
}

void
renew_file_event(struct renewer *r, const char *path)
{
	struct binding	*b;
	struct cv_err	 e;
	const char	*name;
	char		 ch[41], sha1[41];

	if (r == NULL || r->closing || path == NULL ||
	    (name = json_string_value(json_object_get(r->cert_files,
	    path))) == NULL || renew_find(r, name) != NULL)
		return;
	if ((b = renew_effective(r, name, ch, &e)) == NULL)
		return;
	if (binding_deployed_sha1(b, sha1, NULL, NULL, &e) == 0)
		renew_drift(r, b, ch, sha1);
	binding_free(b);
}

/* Makes sure every binding has its row, checks drift, starts what is
 * due and arms the timer for the rest.  Also maps each binding's
 * cert_file to its name for renew_file_event. */
static void
renew_schedule(struct renewer *r)
{
	struct journal_binding	 jb;
	struct binding		*b;
	struct cv_err		 e;
	char			**names = NULL, sha1[41], ch[41];
	size_t			 n = 0, i;
	time_t			 now, nb, na, m, next = 0;
	int			 em, rc;

	if (r->closing)
		return;
	now = renew_now(r);
	r->armed_for = 0;
	json_object_clear(r->cert_files);
	/* Config bindings get a row, with the deployed thumbprint. */
	for (i = 0; i < r->cf->nbindings; i++) {
		b = r->cf->bindings[i];
		if ((rc = journal_binding_get(r->j, b->name, &jb)) == 0)
			journal_binding_clear(&jb);
		if (rc != 1)
			continue;	/* there, or the journal cannot tell */
		memset(&jb, 0, sizeof(jb));
		jb.name = b->name;
		jb.endpoint = (char *)binding_endpoint(b);
		jb.appid = b->appid;
		jb.source = (char *)"config";
		if (binding_deployed_sha1(b, sha1, NULL, NULL, &e) == 0)
			memcpy(jb.certhash, sha1, 41);
		jb.settings = json_object();
		journal_binding_add_new(r->j, &jb, timeutil_now());
		json_decref(jb.settings);
	}
	journal_binding_names(r->j, &names, &n);
	for (i = 0; i < n; i++) {
		if (renew_find(r, names[i]) != NULL)
			continue;
		if ((b = renew_effective(r, names[i], ch, &e)) == NULL)
			continue;
		if (b->cert_file != NULL)
			json_object_set_new(r->cert_files, b->cert_file,
			    json_string(b->name));
		if (binding_deployed_sha1(b, sha1, &nb, &na, &e) == -1) {
			binding_free(b);
			continue;
		}
		renew_drift(r, b, ch, sha1);
		if (b->issuer == NULL) {
			binding_free(b);
			continue;
		}
		m = renew_when(r, b, ch, nb, na, now, &em);
		if (m <= now) {
			if (em)
				inventory_add_event(r->inv, timeutil_now(),
				    "renewal_emergency", b->cert_file, ch,
				    "%s: expires before the next window "
				    "opens; renewing now", b->name);
			if (renew_start(r, b, ch, em ? "emergency" : "due",
			    &e) == -1)
				log_error("%s: %s", b->name, e.msg);
			continue;	/* b is the renewal's now */
		}
		if (next == 0 || m < next)
			next = m;
		binding_free(b);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (next != 0) {
		/* At most an hour: clock changes and reloads are noticed. */
		int64_t	d = (int64_t)next - (int64_t)now;

		if (d > 3600)
			d = 3600;
		else
			r->armed_for = next;
		uv_timer_start(&r->timer, renew_timer_cb, (uint64_t)d * 1000,
		    0);
	}
}

/* Renewals found mid-way: finished (from stopping on, or re-run before
 * it) or rolled back, each step from the start of its state. */
static void
renew_recover(struct renewer *r)
{
	struct journal_row	*rows;
	struct renew		*rw;
	struct binding		*b;
	struct cv_err		 e;
	char			 ch[41];
	size_t			 n, i;
	int			 s;

	if (journal_active(r->j, &rows, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		s = renew_state_parse(rows[i].state);
		if (s < 0 || (b = renew_effective(r, rows[i].binding, ch,
		    &e)) == NULL) {
			log_error("renewal %lld (%s): cannot resume: %s",
			    (long long)rows[i].id, rows[i].binding,
			    s < 0 ? "unknown state" : e.msg);
			continue;
		}
		rw = renew_alloc(r, b);
		rw->id = rows[i].id;
		rw->state = (enum renew_state)s;
		rw->attempt = rows[i].attempt;
		rw->await_since = (time_t)rows[i].updated;
		memcpy(rw->old_sha1, rows[i].old_sha1, 41);
		memcpy(rw->new_sha1, rows[i].new_sha1, 41);
		log_warn("renewal %lld (%s) found in state %s: resuming",
		    (long long)rw->id, b->name, rows[i].state);
		inventory_add_event(r->inv, timeutil_now(), "renewal_resumed",
		    b->cert_file, *rw->new_sha1 ? rw->new_sha1 : NULL,
		    "%s: renewal %lld resumed in state %s", b->name,
		    (long long)rw->id, rows[i].state);
		if (rw->state == RS_ISSUING && rw->is != NULL &&
		    rw->is->type == ISSUER_EXEC)
			rw->op_detail[0] = '\0';
		renew_step(rw);
	}
	journal_rows_free(rows, n);
}

struct renewer *
renew_new(uv_loop_t *loop, struct inventory *inv, struct config *cf,
    const char *state_dir)
{
	struct renewer	*r = xcalloc(1, sizeof(*r));
	struct cv_err	 e;

	r->loop = loop;
	r->inv = inv;
	r->cf = conf_ref(cf);
	r->state_dir = xstrdup(state_dir);
	xasprintf(&r->store, "%s/store", state_dir);
	xasprintf(&r->work_dir, "%s/work", state_dir);
	if (fsutil_mkdirs(r->store, 0700, &e) == -1 ||
	    fsutil_mkdirs(r->work_dir, 0700, &e) == -1)
		log_error("%s", e.msg);
	journal_open(inv, &r->j, &e);
	r->drift = json_object();
	r->cert_files = json_object();
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	renew_recover(r);
	renew_set_config(r, cf);
	return r;
}

/* Reports windows that cannot open before the certificate expires. */
static void
renew_check_windows(struct renewer *r)
{
	struct binding	*b;
	struct cv_err	 e;
	char		 sha1[41], ts[TIMEUTIL_RFC3339_LEN];
	time_t		 nb, na, o, c, now = timeutil_now();
	size_t		 i;

	for (i = 0; i < r->cf->nbindings; i++) {
		b = r->cf->bindings[i];
		if (b->window.n == 0 ||
		    binding_deployed_sha1(b, sha1, &nb, &na, &e) == -1)
			continue;
		if (sched_next_window(&b->window, b->timezone, sched_due(nb,
		    na, &b->policy) > now ? sched_due(nb, na, &b->policy) :
		    now, &o, &c) == -1 || o >= na) {
			log_error("%s:%d: [binding %s]: window '%s' does not "
			    "open before %s expires (%s); it will be renewed "
			    "outside the window", r->cf->file, b->line,
			    b->name, b->window_str, b->cert_file,
			    timeutil_rfc3339(na, ts, sizeof(ts)));
			inventory_add_event(r->inv, now, "window_unreachable",
			    b->cert_file, sha1, "%s: window '%s' does not open "
			    "before expiry", b->name, b->window_str);
		}
	}
}

void
renew_set_config(struct renewer *r, struct config *cf)
{
	if (cf != r->cf) {
		conf_unref(r->cf);
		r->cf = conf_ref(cf);
	}
	renew_check_windows(r);
	renew_schedule(r);
}

json_t *
renew_request(struct renewer *r, const char *name, int now,
    const char **code, struct cv_err *err)
{
	struct binding	*b;
	struct renew	*rw;
	char		 ch[41], sha1[41], ts[TIMEUTIL_RFC3339_LEN];
	time_t		 nb, na, m;
	int		 em;

	if ((rw = renew_find(r, name)) != NULL) {
		*code = PROTO_E_BUSY;
		cv_err_set(err, "%s: renewal %lld is already in state %s",
		    name, (long long)rw->id, renew_state_name(rw->state));
		return NULL;
	}
	if ((b = renew_effective(r, name, ch, err)) == NULL) {
		*code = PROTO_E_NOT_FOUND;
		return NULL;
	}
	if (b->issuer == NULL || conf_issuer(r->cf, b->issuer) == NULL) {
		*code = PROTO_E_BAD_REQUEST;
		cv_err_set(err, "%s: no issuer (set issuer = NAME)", name);
		binding_free(b);
		return NULL;
	}
	if (!now) {
		if (binding_deployed_sha1(b, sha1, &nb, &na, err) == -1) {
			*code = PROTO_E_BAD_REQUEST;
			binding_free(b);
			return NULL;
		}
		m = renew_when(r, b, ch, nb, na, renew_now(r), &em);
		if (m > renew_now(r)) {
			binding_free(b);
			return json_pack("{s:s, s:b, s:s}", "binding", name,
			    "started", 0, "next_renewal",
			    timeutil_rfc3339(m, ts, sizeof(ts)));
		}
	}
	if (renew_start(r, b, ch, now ? "forced" : "due", err) == -1) {
		*code = PROTO_E_INTERNAL;
		return NULL;
	}
	rw = renew_find(r, name);
	return json_pack("{s:s, s:b, s:I, s:s}", "binding", name, "started", 1,
	    "id", (json_int_t)(rw ? rw->id : 0), "state", rw ?
	    renew_state_name(rw->state) : "done");
}

json_t *
renew_list(struct renewer *r, const char *binding)
{
	return journal_list(r->j, binding);
}

/* ---- binding add / update / delete / show ---------------------------- */

static const char *
renew_arg(json_t *args, const char *k)
{
	return json_string_value(json_object_get(args, k));
}

static json_t *
renew_binding_json(struct renewer *r, const char *name)
{
	struct binding	*b;
	struct cv_err	 e;
	struct journal_binding jb;
	char		 ch[41], sha1[41], ts[TIMEUTIL_RFC3339_LEN], *s;
	time_t		 nb, na, m;
	int		 em;
	json_t		*o;
	struct issuer	*is;

	if ((b = renew_effective(r, name, ch, &e)) == NULL)
		return NULL;
	o = json_object();
	json_object_set_new(o, "name", json_string(b->name));
	json_object_set_new(o, b->hostnameport ? "hostnameport" : "ipport",
	    json_string(binding_endpoint(b)));
	json_object_set_new(o, "certhash", *ch ? json_string(ch) :
	    json_null());
	json_object_set_new(o, "appid", b->appid ? json_string(b->appid) :
	    json_null());
	if (journal_binding_get(r->j, name, &jb) == 0) {
		json_object_set_new(o, "source", json_string(jb.source));
		journal_binding_clear(&jb);
	}
	json_object_set_new(o, "client", json_boolean(b->is_client));
	json_object_set_new(o, "cert_file", json_string(b->cert_file ?
	    b->cert_file : ""));
	json_object_set_new(o, "key_file", json_string(b->key_file ?
	    b->key_file : ""));
	if (b->chain_file)
		json_object_set_new(o, "chain_file",
		    json_string(b->chain_file));
	if (b->fullchain_file)
		json_object_set_new(o, "fullchain_file",
		    json_string(b->fullchain_file));
	if (b->cert_file && binding_deployed_sha1(b, sha1, &nb, &na, &e) == 0)
		json_object_set_new(o, "deployed_sha1", json_string(sha1));
	else
		sha1[0] = '\0';
	json_object_set_new(o, "drift", json_boolean(*sha1 && *ch &&
	    strcmp(sha1, ch) != 0));
	s = binding_argv_str(b->stop);
	json_object_set_new(o, "stop", json_string(s));
	free(s);
	s = binding_argv_str(b->start);
	json_object_set_new(o, "start", json_string(s));
	free(s);
	s = binding_argv_str(b->reload);
	json_object_set_new(o, "reload", json_string(s));
	free(s);
	json_object_set_new(o, "require_client_cert",
	    json_boolean(b->require_client_cert));
	is = b->issuer ? conf_issuer(r->cf, b->issuer) : NULL;
	json_object_set_new(o, "issuer", b->issuer ? json_pack("{s:s, s:s}",
	    "name", b->issuer, "type", is ? issuer_type_name(is->type) :
	    "undefined") : json_null());
	json_object_set_new(o, "window", b->window_str ?
	    json_string(b->window_str) : json_null());
	json_object_set_new(o, "timezone", json_string(b->timezone ?
	    b->timezone : "local"));
	json_object_set_new(o, "renew_before", json_string(b->renew_before ?
	    b->renew_before : "1/3"));
	if (*sha1 && b->issuer != NULL) {
		m = renew_when(r, b, ch, nb, na, renew_now(r), &em);
		json_object_set_new(o, "not_after", json_string(
		    timeutil_rfc3339(na, ts, sizeof(ts))));
		json_object_set_new(o, "next_renewal", json_string(
		    timeutil_rfc3339(m, ts, sizeof(ts))));
		json_object_set_new(o, "emergency", json_boolean(em));
	} else
		json_object_set_new(o, "next_renewal", json_null());
	binding_free(b);
	return o;
}

static const char *
renew_binding_endpoint_arg(json_t *args)
{
	const char	*ep = renew_arg(args, "ipport");

	return ep ? ep : renew_arg(args, "hostnameport");
}

json_t *
renew_binding(struct renewer *r, const char *op, json_t *args,
    const char **code, struct cv_err *err)
{
	struct journal_binding	 jb;
	struct binding		*b = NULL, *base;
	const char		*ep = renew_binding_endpoint_arg(args);
	const char		*name = renew_arg(args, "name"), *k;
	json_t			*v, *arr, *settings = NULL, *res = NULL;
	char			**names, *certhash = NULL;
	size_t			 i, n;
	int			 rc, known, has_key;

	*code = PROTO_E_BAD_REQUEST;
	memset(&jb, 0, sizeof(jb));
	if (strcmp(op, "show") == 0) {
		arr = json_array();
		journal_binding_names(r->j, &names, &n);
		for (i = 0; i < n; i++) {
			v = renew_binding_json(r, names[i]);
			if (v != NULL && ep != NULL && strcmp(ep,
			    json_string_value(json_object_get(v,
			    json_object_get(v, "ipport") ? "ipport" :
			    "hostnameport"))) != 0) {
				json_decref(v);
				v = NULL;
			}
			if (v != NULL && name != NULL && strcmp(name,
			    names[i]) != 0) {
				json_decref(v);
				v = NULL;
			}
			if (v != NULL)
				json_array_append_new(arr, v);
			free(names[i]);
		}
		free(names);
		if ((ep != NULL || name != NULL) && json_array_size(arr) == 0) {
			json_decref(arr);
			*code = PROTO_E_NOT_FOUND;
			cv_err_set(err, "no binding for %s", ep ? ep : name);
			return NULL;
		}
		return arr;
	}
	if (ep == NULL && name == NULL) {
		cv_err_set(err, "ipport=, hostnameport= or name= is required");
		return NULL;
	}
	rc = ep != NULL ? journal_binding_by_endpoint(r->j, ep, &jb) :
	    journal_binding_get(r->j, name, &jb);
	if (strcmp(op, "add") == 0) {
		if (rc == 0) {
			cv_err_set(err, "%s is already bound (binding %s); "
			    "use binding update", jb.endpoint, jb.name);
			goto out;
		}
		if (ep == NULL || renew_arg(args, "certhash") == NULL ||
		    renew_arg(args, "appid") == NULL) {
			cv_err_set(err, "binding add needs ipport= (or "
			    "hostnameport=), certhash= and appid=");
			goto out;
		}
		if (name == NULL)
			name = ep;
		if (conf_binding(r->cf, name) != NULL) {
			cv_err_set(err, "binding %s is declared in %s", name,
			    r->cf->file);
			goto out;
		}
		jb.name = xstrdup(name);
		jb.source = xstrdup("runtime");
		jb.settings = json_object();
	} else if (rc != 0) {
		*code = PROTO_E_NOT_FOUND;
		cv_err_set(err, "no binding for %s", ep ? ep : name);
		goto out;
	} else if (strcmp(op, "delete") == 0) {
		if (strcmp(jb.source, "config") == 0 &&
		    conf_binding(r->cf, jb.name) != NULL) {
			cv_err_set(err, "binding %s is declared in %s: remove "
			    "it there and reload", jb.name, r->cf->file);
			goto out;
		}
		if (renew_find(r, jb.name) != NULL) {
			*code = PROTO_E_BUSY;
			cv_err_set(err, "binding %s is being renewed", jb.name);
			goto out;
		}
		journal_binding_delete(r->j, jb.name);
		res = json_pack("{s:s, s:b}", "name", jb.name, "deleted", 1);
		goto out;
	} else if (strcmp(op, "update") != 0) {
		cv_err_set(err, "binding: '%s' is not add, update, delete or "
		    "show", op);
		goto out;
	}
	/* add / update: every given key but name and certhash lands in the
	 * settings; what is not given stays as it was. */
	settings = json_deep_copy(jb.settings);
	json_object_foreach(args, k, v) {
		if (!strcmp(k, "name") || !strcmp(k, "certhash"))
			continue;
		if (!json_is_string(v)) {
			cv_err_set(err, "%s: a string is expected", k);
			goto out;
		}
		json_object_set(settings, k, v);
	}
	base = conf_binding(r->cf, jb.name);
	if (base == NULL)
		base = b = binding_new(jb.name, 0, 0);
	b = binding_rebuild(base, settings, err);
	if (base != conf_binding(r->cf, jb.name))
		binding_free(base);
	if (b == NULL)
		goto out;
	if (renew_arg(args, "certhash") != NULL) {
		if (binding_set_key(b, "certhash", renew_arg(args, "certhash"),
		    err) == -1)
			goto out;
		certhash = xstrdup(b->certhash);
		known = journal_cert_known(r->j, certhash, &has_key);
		if (known <= 0) {
			cv_err_set(err, "certhash %s is not in the inventory "
			    "(watch the directory that holds it, or add it to "
			    "a watched path)", certhash);
			goto out;
		}
		if (!has_key && b->cert_file && b->key_file) {
			char		 s1[41];
			struct cv_err	 e;
			gnutls_x509_privkey_t key = NULL;
			struct x509_load_opts lo;
			struct x509_file *f = NULL;

			memset(&lo, 0, sizeof(lo));
			if (binding_deployed_sha1(b, s1, NULL, NULL, &e) == 0 &&
			    !strcmp(s1, certhash) &&
			    pki_key_load(b->key_file, NULL, &key, &e) == 0 &&
			    x509_load_file(b->cert_file, &lo, &f, &e) == 0 &&
			    f->ncerts > 0 && pki_key_matches(key,
			    f->certs[pki_file_leaf(f)].crt))
				has_key = 1;
			if (key != NULL)
				gnutls_x509_privkey_deinit(key);
			x509_file_free(f);
		}
		if (!has_key) {
			cv_err_set(err, "certhash %s: the private key of this "
			    "certificate is not known (no watched file holds "
			    "it with its key, and key_file does not match)",
			    certhash);
			goto out;
		}
		snprintf(jb.certhash, sizeof(jb.certhash), "%s", certhash);
	}
	free(jb.endpoint);
	jb.endpoint = xstrdup(binding_endpoint(b));
	free(jb.appid);
	jb.appid = b->appid ? xstrdup(b->appid) : NULL;
	json_decref(jb.settings);
	jb.settings = settings;
	settings = NULL;
	if (journal_binding_put(r->j, &jb, timeutil_now()) == -1) {
		*code = PROTO_E_INTERNAL;
		cv_err_set(err, "cannot write the binding");
		goto out;
	}
	res = renew_binding_json(r, jb.name);
	renew_schedule(r);
out:
	free(certhash);
	binding_free(b);
	json_decref(settings);
	journal_binding_clear(&jb);
	return res;
}

void
renew_close(struct renewer *r, void (*cb)(void *), void *arg)
{
	struct renew	*rw, *next;

	r->closing = 1;
	r->close_cb = cb;
	r->close_arg = arg;
	uv_timer_stop(&r->timer);
	for (rw = r->active; rw != NULL; rw = next) {
		next = rw->next;
		if (renew_service_down(rw)) {
			/* It finishes first; a wait for a retry ends now. */
			log_info("renewal %lld (%s): finishing (%s) before "
			    "exiting", (long long)rw->id, rw->b->name,
			    renew_state_name(rw->state));
			if (uv_is_active((uv_handle_t *)&rw->timer))
				uv_timer_start(&rw->timer, renew_timer_fired,
				    0, 0);
			continue;
		}
		/* Running work or a command ends on its own, then releases. */
		if (rw->op != OP_RUNNING || uv_is_active((uv_handle_t *)
		    &rw->timer))
			renew_release(rw);
	}
	renew_maybe_closed(r);
}

void
renew_free_all(struct renewer *r)
{
	if (r == NULL)
		return;
	journal_close(r->j);
	json_decref(r->drift);
	json_decref(r->cert_files);
	conf_unref(r->cf);
	free(r->state_dir);
	free(r->store);
	free(r->work_dir);
	free(r);
}
