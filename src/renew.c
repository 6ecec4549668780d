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
#include "renew_int.h"
#include "schedule.h"
#include "service.h"
#include "timeutil.h"
#include "xmalloc.h"

static const char *renew_state_names[RS__COUNT] = {
	"due", "issuing", "awaiting_certificate", "issued", "stopping",
	"unbinding", "binding", "starting", "verifying", "done", "failed",
	"rolling_back", "rolled_back",
};

/* ---- helpers --------------------------------------------------------- */

const char *
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

time_t
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
	struct agentcfg_kv	 kv[3];
	const char		*sec[16];
	size_t			 i, n;
	int			 changed;

	rw->op_rc = binding_bind(rw->b, rw->r->store, rw->new_sha1,
	    &rw->op_err);
	if (rw->op_rc == -1 || !rw->b->is_client || rw->b->agent_config ==
	    NULL)
		return;
	/* The agent reads its client certificate from these preferences. */
	kv[0].key = "AddClientCertificateAndKey";
	kv[0].value = "True";
	kv[1].key = "SSLClientCertificateFile";
	kv[1].value = rw->b->cert_file;
	kv[2].key = "SSLClientPrivateKeyFile";
	kv[2].value = rw->b->key_file;
	n = 0;
	for (i = 0; i < rw->b->nagent_sections && n < 16; i++)
		sec[n++] = rw->b->agent_sections[i];
	if (n == 0)
		sec[n++] = AGENTCFG_COMMON_SECTION;
	rw->op_rc = agentcfg_update_file(rw->b->agent_config, sec, n, kv, 3,
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
void
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

struct renew *
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

int
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
	r->windows_done = json_object();
	r->dep = deployed_new(loop, inv, renew_deployed_ready, r);
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	renew_recover(r);
	renew_set_config(r, cf);
	return r;
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
	json_decref(r->windows_done);
	renew_eff_clear(r);
	deployed_free(r->dep);
	conf_unref(r->cf);
	free(r->state_dir);
	free(r->store);
	free(r->work_dir);
	free(r);
}
