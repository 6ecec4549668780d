#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
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
#include "pki.h"
#include "probe.h"
#include "proto.h"
#include "renew.h"
#include "renew_int.h"
#include "schedule.h"
#include "service.h"
#include "store.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

/* ---- helpers --------------------------------------------------------- */

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
renew_worker_closed(struct worker *w)
{
	struct renewer	*r = (struct renewer *)((char *)w -
	    offsetof(struct renewer, worker));

	uv_close((uv_handle_t *)&r->timer, renew_closed);
}

static void
renew_maybe_closed(struct renewer *r)
{
	if (!r->closing || r->active != NULL || r->close_cb == NULL)
		return;
	/* No renewal left, so no job: the worker's handle, then the timer. */
	if (r->worker_up) {
		r->worker_up = 0;
		worker_close(&r->worker, renew_worker_closed);
	} else if (!uv_is_closing((uv_handle_t *)&r->timer) &&
	    !r->worker.closing)
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

	/* A stop or start command's output belongs to the state that ran
	 * it; losing it costs a line in renewals, never the transition. */
	if ((rw->state == RS_STOPPING || rw->state == RS_STARTING ||
	    rw->state == RS_TESTING) && rw->op_detail[0] != '\0' && !rw->unjournaled &&
	    journal_set_output(rw->r->j, rw->id, renew_state_name(rw->state),
	    rw->op_detail) == -1)
		log_warn("renewal %lld (%s): cannot journal the %s output",
		    (long long)rw->id, rw->b->name,
		    renew_state_name(rw->state));
	if (journal_set_state(rw->r->j, rw->id, renew_state_name(s),
	    rw->new_sha1, error, next_attempt, detail, done ? rw->new_sha1 :
	    NULL, rw->b->name, timeutil_now()) == -1) {
		log_error("renewal %lld (%s): cannot journal %s",
		    (long long)rw->id, rw->b->name, renew_state_name(s));
		return -1;
	}
	rw->jfail = 0;
	rw->state = s;
	rw->phase = renew_first_phase(s);
	rw->verify_deadline = 0;
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
renew_work_run(struct worker_job *j)
{
	struct renew	*rw = j->data;

	rw->op_rc = 0;
	rw->outcome = RO__COUNT;	/* unset: op_rc says */
	rw->work_fn(rw);
	if (rw->outcome == RO__COUNT)
		rw->outcome = rw->op_rc == 0 ? RO_OK : RO_ERROR;
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
	issuer_reply_clear(&rw->reply);
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
	return (rw->state >= RS_TESTING && rw->state <= RS_VERIFYING) ||
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
renew_work_after(struct worker_job *j)
{
	renew_op_done(j->data);
}

/*
 * Runs fn (a side effect: issue, unbind, bind, restore, verify) on a
 * thread of the renewal's own (worker.h), never on the shared pool: a
 * pool full of slow parses must not keep a service down (issue 12 item 6).
 */
static void
renew_work(struct renew *rw, void (*fn)(struct renew *))
{
	struct renewer	*r = rw->r;
	int		 rc;

	if (!r->worker_up) {
		if ((rc = worker_init(&r->worker, r->loop)) != 0) {
			log_error("renew: worker: %s", uv_strerror(rc));
			abort();
		}
		r->worker_up = 1;
	}
	rw->op = OP_RUNNING;
	rw->now = renew_now(r);
	rw->work_fn = fn;
	rw->job.work = renew_work_run;
	rw->job.done = renew_work_after;
	rw->job.data = rw;
	worker_run(&r->worker, &rw->job);
}

static void
renew_spawned(void *arg, int status, const char *detail)
{
	struct renew	*rw = arg;

	rw->outcome = status == 0 ? RO_OK : RO_ERROR;
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
		rw->outcome = RO_OK;
		rw->op = OP_DONE;
		renew_step(rw);
		return;
	}
	xasprintf(&log_path, "%s/%lld.%s.log", rw->r->work_dir,
	    (long long)rw->id, what);
	if (service_run(rw->r->loop, argv, env, timeout, log_path,
	    renew_spawned, rw, NULL, err, sizeof(err)) == -1) {
		rw->outcome = RO_ERROR;
		cv_err_set(&rw->op_err, "%s: %s", what, err);
		rw->op = OP_DONE;
		free(log_path);
		renew_step(rw);
		return;
	}
	free(log_path);
}

/* ---- the services' commands (issue 14) ------------------------------ */

/* Wall-clock milliseconds: an outage is measured across a restart. */
static int64_t
renew_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The command svc runs for cmd; NULL: none (that service skips it). */
static char *const *
renew_svc_argv(const struct binding *svc, enum renew_svc_cmd cmd)
{
	if (cmd == SVC_STOP)
		return svc->reload != NULL ? NULL : svc->stop;
	if (cmd == SVC_START)
		return svc->reload != NULL ? svc->reload : svc->start;
	return svc->config_test;
}

/* The step's name in logs and file names: stop, rollback-start, ... */
static const char *
renew_svc_what(const struct renew *rw, const struct binding *svc)
{
	const int	rb = rw->state == RS_ROLLING_BACK;

	if (rw->svc_cmd == SVC_STOP)
		return rb ? "rollback-stop" : "stop";
	if (rw->svc_cmd == SVC_TEST)
		return "config_test";
	if (rb)
		return "rollback-start";
	return svc->reload != NULL ? "reload" : "start";
}

static void	renew_svc_next(struct renew *);

/* Appends one service's output to the state's (named ones say whose). */
static void
renew_svc_output(struct renew *rw, const char *name, const char *detail)
{
	size_t	l = strlen(rw->op_detail);

	snprintf(rw->op_detail + l, sizeof(rw->op_detail) - l, "%s%s%s%s",
	    l ? "; " : "", name ? name : "", name ? ": " : "", detail);
}

/*
 * One service's command ended.  A failure ends the state's side effect
 * (the rest are not run), but a rollback's stop goes on with the next
 * service: the files go back and the starts and probes decide.
 */
static void
renew_svc_done(void *arg, int status, const char *detail)
{
	struct renew		*rw = arg;
	const struct binding	*svc = binding_service_at(rw->b, rw->svc_i);
	const char		*name = binding_service_name(svc);

	renew_svc_output(rw, name, detail);
	if (status != 0) {
		cv_err_set(&rw->op_err, "%s%s%s%s", name ? name : "",
		    name ? ": " : "", rw->svc_cmd == SVC_TEST ?
		    "config_test: " : "", detail);
		rw->svc_failed = 1;
		if (!(rw->svc_cmd == SVC_STOP && rw->state == RS_ROLLING_BACK))
			rw->svc_i = binding_nservices(rw->b);
	}
	rw->svc_i++;
	renew_svc_next(rw);
}

/* Runs the next service's command of the state, or ends the side effect
 * when none is left. */
static void
renew_svc_next(struct renew *rw)
{
	const struct binding	*svc;
	char *const		*argv = NULL;
	char			*log_path, err[512];
	const char		*name;

	for (; rw->svc_i < binding_nservices(rw->b); rw->svc_i++) {
		svc = binding_service_at(rw->b, rw->svc_i);
		if ((argv = renew_svc_argv(svc, rw->svc_cmd)) != NULL)
			break;
	}
	if (argv == NULL) {
		rw->outcome = rw->svc_failed ? RO_ERROR : RO_OK;
		renew_op_done(rw);
		return;
	}
	/* The outage starts with the first service stopped (issue 14). */
	if (rw->svc_cmd == SVC_STOP && rw->state == RS_STOPPING &&
	    rw->down_since_ms == 0) {
		rw->down_since_ms = renew_ms();
		if (journal_set_down_since(rw->r->j, rw->id,
		    rw->down_since_ms) == -1)
			log_warn("renewal %lld (%s): cannot journal when the "
			    "outage began", (long long)rw->id, rw->b->name);
	}
	name = binding_service_name(svc);
	xasprintf(&log_path, "%s/%lld.%s%s%s.log", rw->r->work_dir,
	    (long long)rw->id, renew_svc_what(rw, svc), name ? "." : "",
	    name ? name : "");
	if (service_run(rw->r->loop, argv, NULL, svc->service_timeout,
	    log_path, renew_svc_done, rw, NULL, err, sizeof(err)) == -1) {
		char	msg[sizeof(err) + 32];

		free(log_path);
		snprintf(msg, sizeof(msg), "%s: %s", renew_svc_what(rw, svc),
		    err);
		renew_svc_done(rw, -1, msg);
		return;
	}
	free(log_path);
}

/* Starts cmd of every service of the binding, in order. */
static void
renew_svc_run(struct renew *rw, enum renew_svc_cmd cmd)
{
	rw->op = OP_RUNNING;
	rw->svc_cmd = cmd;
	rw->svc_i = 0;
	rw->svc_failed = 0;
	renew_svc_next(rw);
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
		rw->phase = RP_RB_STOP;
		rw->verify_deadline = 0;
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

/* ---- the issuer (issuer.h's interface; never a type branch here) ---- */

/* What the issuer backends are given: the renewal, read-only. */
static void
renew_issuer_job(struct renew *rw, struct issuer_job *job)
{
	job->is = rw->is;
	job->b = rw->b;
	job->certhash = rw->old_sha1;
	job->st = rw->r->store;
	job->work_dir = rw->r->work_dir;
	job->id = rw->id;
	job->now = rw->now;
}

/* The issuer's answer as the transition rule's outcome. */
static void
renew_issuer_outcome(struct renew *rw, int rc)
{
	if (rc == -1) {
		rw->outcome = RO_ERROR;
		return;
	}
	switch (rw->reply.status) {
	case ISSUER_READY:
		rw->outcome = RO_READY;
		break;
	case ISSUER_PENDING:
		rw->outcome = RO_PENDING;
		break;
	case ISSUER_RUN:
		rw->outcome = RO_RUN;
		break;
	default:
		rw->outcome = RO_ERROR;
		break;
	}
}

/* issuing: READY (local), PENDING (csr: in the outbox) or RUN (exec). */
static void
renew_issue_request(struct renew *rw)
{
	struct issuer_job	job;

	renew_issuer_job(rw, &job);
	renew_issuer_outcome(rw, issuer_request(&job, &rw->reply,
	    &rw->op_err));
}

/* awaiting_certificate: READY, PENDING (csr inbox) or ERROR. */
static void
renew_issue_collect(struct renew *rw)
{
	struct issuer_job	job;

	renew_issuer_job(rw, &job);
	renew_issuer_outcome(rw, issuer_collect(&job, &rw->reply,
	    &rw->op_err));
}

/* issued: the new certificate passes the pki_check gate. */
static void
renew_issue_validate(struct renew *rw)
{
	struct issuer_job	job;

	renew_issuer_job(rw, &job);
	rw->op_rc = issuer_validate(&job, rw->new_sha1, &rw->op_err);
	/* Before anything is stopped: a deploy directory swapped for a
	 * link root would not follow fails the renewal here, with the
	 * service still serving the old certificate. */
	if (rw->op_rc == 0)
		rw->op_rc = binding_check_dirs(rw->b, &rw->op_err);
	/* A service tests its configuration: the files go in first. */
	if (rw->op_rc == 0 && binding_has_config_test(rw->b))
		rw->outcome = RO_TEST;
}

/* ---- thread-pool work ------------------------------------------------ */

/* Thumbprint of the leaf in path ("" if none can be read); a deploy
 * path, so its directory is walked (fsutil_open_deploy_dir's rule). */
static void
renew_file_sha1(const char *path, char sha1[41])
{
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	struct cv_err		 e;
	int			 leaf;

	sha1[0] = '\0';
	memset(&o, 0, sizeof(o));
	if (path != NULL && x509_load_path(path, FSUTIL_WALK_DIRS, &o, &f,
	    &e) == 0 &&
	    (leaf = pki_file_leaf(f)) != -1)
		memcpy(sha1, f->certs[leaf].sha1, 41);
	x509_file_free(f);
}

/*
 * Moves the live files aside, then reads what cert_file held from its
 * aside copy: that, not the journal's old_sha1, is what a rollback puts
 * back (they differ when the file was replaced by hand).  Read after the
 * move, so a second run (a crash in between) finds the same answer.
 */
static void
renew_w_unbind(struct renew *rw)
{
	char	*aside;

	rw->op_sha1[0] = '\0';
	/* After testing the live files are the new ones: their previous
	 * ones are aside already (issue 14). */
	if (!rw->tested)
		rw->op_rc = binding_unbind(rw->b, rw->id, &rw->op_err);
	if (rw->op_rc == 0 && rw->b->cert_file != NULL) {
		aside = binding_aside_path(rw->b->cert_file, rw->id);
		renew_file_sha1(aside, rw->op_sha1);
		free(aside);
	}
	/* Five sets of previous files are kept, as the store keeps five
	 * certificates; this renewal's set (the one rollback needs) is
	 * never deleted. */
	if (rw->op_rc == 0)
		binding_prune_aside(rw->b, BINDING_KEEP_STORE, rw->id);
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

/*
 * testing's deploy (issue 14): what an earlier run of it moved goes back
 * first (a crash after its bind would otherwise move the new files over
 * the old ones aside), then aside and the new files in, as unbinding and
 * binding do.
 */
static void
renew_w_test_deploy(struct renew *rw)
{
	rw->op_rc = binding_restore(rw->b, rw->id, &rw->op_err);
	if (rw->op_rc == 0) {
		rw->tested = 0;
		renew_w_unbind(rw);
		rw->tested = 1;
	}
	if (rw->op_rc == 0)
		rw->op_rc = binding_bind(rw->b, rw->r->store, rw->new_sha1,
		    &rw->op_err);
}

static void
renew_w_test_undo(struct renew *rw)
{
	rw->op_rc = binding_restore(rw->b, rw->id, &rw->op_err);
}

/* Files back; unless unbinding recorded it (a failure before then), what
 * cert_file holds now is what the rollback verifies. */
static void
renew_w_restore(struct renew *rw)
{
	rw->op_rc = binding_restore(rw->b, rw->id, &rw->op_err);
	if (rw->op_rc == 0 && rw->restored_sha1[0] == '\0' &&
	    rw->old_sha1[0] != '\0') {
		renew_file_sha1(rw->b->cert_file, rw->restored_sha1);
		rw->restored_new = rw->restored_sha1[0] != '\0';
	}
}

/* Whether res is what verification waits for; if not, why (op_err). */
static int
renew_probe_judge(struct renew *rw, const struct probe_result *res,
    const char *want, const struct binding_probe *bp, const char *where)
{
	int	ok;

	if (rw->b->is_client)
		ok = res->with.accepted;
	else
		ok = res->nchain > 0 && want != NULL &&
		    strcmp(res->chain[0].sha1, want) == 0 &&
		    (!bp->require_client_cert || !res->without.accepted ||
		    res->without.cert_requested);
	if (!ok && rw->b->is_client &&
	    probe_refused_after_handshake(res->with.http_status))
		cv_err_set(&rw->op_err, "%s refuses the client certificate: "
		    "HTTP %d after the handshake", where,
		    res->with.http_status);
	else if (!ok && rw->b->is_client)
		cv_err_set(&rw->op_err, "%s refuses the client certificate: "
		    "%s", where, res->with.error);
	else if (!ok && res->nchain > 0 && want != NULL &&
	    strcmp(res->chain[0].sha1, want) != 0)
		cv_err_set(&rw->op_err, "%s serves %s, not %s", where,
		    res->chain[0].sha1, want);
	else if (!ok)
		cv_err_set(&rw->op_err, "%s no longer asks for a client "
		    "certificate (require_client_cert = yes)", where);
	return ok;
}

/* Issue 15: the served watch records what each verify probe saw. */
static void
renew_probe_report(struct renew *rw, const struct binding_probe *bp,
    const char *want, const struct probe_result *res, const char *error,
    uint64_t t0)
{
	struct renew_probe_report	rp;
	char				ep[300];

	if (rw->r->probe_hook == NULL || rw->b->is_client)
		return;
	probe_endpoint_str(&bp->ep, ep, sizeof(ep));
	rp.binding = rw->b->name;
	rp.endpoint = ep;
	rp.origin = rw->state == RS_ROLLING_BACK ? "rollback" : "verify";
	rp.want = want;
	rp.require_client_cert = bp->require_client_cert;
	rp.res = res;
	rp.error = error;
	rp.ms = (uv_hrtime() - t0) / 1000000;
	rw->r->probe_hook(rw->r->probe_hook_arg, &rp);
}

/* One endpoint of the binding: 1 serves want, 0 not (op_err says). */
static int
renew_probe_one(struct renew *rw, const struct binding_probe *bp,
    const char *want)
{
	struct probe_opts	o;
	struct probe_result	res;
	struct cv_err		e;
	char			where[512], ep[300];
	uint64_t		t0;
	int			ok = 0;

	/* host:port as before, SCHEME://host:port for STARTTLS; a named
	 * service's probes say whose. */
	if (bp->spec != NULL && strstr(bp->spec, "://") != NULL)
		probe_endpoint_str(&bp->ep, ep, sizeof(ep));
	else
		snprintf(ep, sizeof(ep), "%s:%s", bp->ep.host, bp->ep.port);
	snprintf(where, sizeof(where), "%s%s%s", bp->service ? bp->service :
	    "", bp->service ? " " : "", ep);
	memset(&o, 0, sizeof(o));
	o.host = bp->ep.host;
	o.port = bp->ep.port;
	o.starttls = bp->ep.proto;
	o.timeout_ms = 5000;
	if (rw->b->hostnameport != NULL)
		o.sni = bp->ep.host;
	if (rw->b->is_client) {
		o.cert_file = rw->b->cert_file;
		o.key_file = rw->b->key_file;
		o.ca_file = rw->b->ca_file;
	}
	t0 = uv_hrtime();
	if (probe_run(&o, &res, &e) == -1) {
		cv_err_set(&rw->op_err, "probe %s: %s", where, e.msg);
		renew_probe_report(rw, bp, want, NULL, e.msg, t0);
	} else {
		ok = renew_probe_judge(rw, &res, want, bp, where);
		renew_probe_report(rw, bp, want, &res, NULL, t0);
		probe_result_free(&res);
	}
	return ok;
}

/*
 * Every endpoint of every service (binding_probe_at) must serve want
 * (and, for require_client_cert, still refuse a client without a
 * certificate); for a [client], the beacon must accept the deployed
 * client certificate.  Not yet and before verify_deadline: PENDING, and
 * the renewal's timer spaces the next attempt -- no pool thread sleeps
 * (they are the scanner's too).
 */
static void
renew_probe(struct renew *rw, const char *want)
{
	struct binding_probe	bp;
	struct cv_err		e;
	size_t			i, n = binding_nprobes(rw->b);
	int			ok = 1;

	rw->outcome = RO_ERROR;
	for (i = 0; i < n && ok; i++) {
		if (binding_probe_at(rw->b, i, &bp, &e) == -1) {
			cv_err_set(&rw->op_err, "no address to probe: %s",
			    e.msg);
			return;
		}
		ok = renew_probe_one(rw, &bp, want);
	}
	if (ok)
		rw->outcome = RO_OK;
	else if (time(NULL) < rw->verify_deadline)
		rw->outcome = RO_PENDING;
}

static void
renew_w_verify_new(struct renew *rw)
{
	renew_probe(rw, rw->new_sha1);
}

/* What the rollback put back: the restored files, drifted or not. */
static const char *
renew_rollback_sha1(const struct renew *rw)
{
	return rw->restored_sha1[0] ? rw->restored_sha1 : rw->old_sha1;
}

static int
renew_drifted(const struct renew *rw)
{
	return rw->restored_sha1[0] && rw->old_sha1[0] &&
	    strcmp(rw->restored_sha1, rw->old_sha1) != 0;
}

static void
renew_w_verify_old(struct renew *rw)
{
	renew_probe(rw, renew_rollback_sha1(rw));
}

/* ---- the state machine ----------------------------------------------- */


/*
 * The outage (issue 14): from the first service stopped to now (every
 * probe served, or the rollback verified); 0 when nothing was stopped
 * (reloads, a failure before stopping).  Journaled before the final
 * state, so a crash in between measures again on recovery.
 */
static int64_t
renew_set_downtime(struct renew *rw)
{
	int64_t	ms = rw->down_since_ms > 0 ? renew_ms() - rw->down_since_ms :
	    0;

	if (ms < 0)
		ms = 0;
	if (!rw->unjournaled && journal_set_downtime(rw->r->j, rw->id, ms) ==
	    -1)
		log_warn("renewal %lld (%s): cannot journal the outage (%lld "
		    "ms)", (long long)rw->id, rw->b->name, (long long)ms);
	return ms;
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
	renew_set_downtime(rw);
	if (renew_enter(rw, RS_FAILED, why, next, why) == -1) {
		renew_journal_failed(rw);
		return;
	}
	renew_event(rw, "renewal_failed", rw->old_sha1, "%s (nothing was "
	    "touched%s; retrying)", why, rw->tested ? ": the files were put "
	    "back before any service was stopped or reloaded" : "");
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
	if (renew_enter(rw, RS_ROLLING_BACK, why, 0, why) == -1) {
		renew_journal_failed(rw);
		return;
	}
	renew_step(rw);
}

/*
 * Unbinding is done: journal what cert_file held (the rollback restores
 * and verifies it), say so when it is not the certificate the binding
 * names, then bind.  A journal that cannot take it repeats unbinding,
 * which finds the same files aside.
 */
static void
renew_unbound(struct renew *rw)
{
	memcpy(rw->restored_sha1, rw->op_sha1, 41);
	if (journal_set_restored(rw->r->j, rw->id, rw->restored_sha1,
	    timeutil_now()) == -1) {
		renew_journal_failed(rw);
		return;
	}
	if (renew_drifted(rw))
		renew_event(rw, "renewal_drifted", rw->restored_sha1,
		    "renewal %lld: %s held %s, not %s (the binding had "
		    "drifted); a rollback would restore %s",
		    (long long)rw->id, rw->b->cert_file, rw->restored_sha1,
		    rw->old_sha1, rw->restored_sha1);
	renew_advance(rw, RS_BINDING, NULL);
}

/* Done: the binding names the new certificate (same transaction). */
static void
renew_done(struct renew *rw)
{
	int64_t	down = renew_set_downtime(rw);

	if (renew_enter(rw, RS_DONE, "", 0, rw->new_sha1) == -1) {
		renew_journal_failed(rw);
		return;
	}
	/* Before the event, which has the alert engine look again. */
	inventory_mark_namesakes(rw->r->inv, rw->new_sha1);
	inventory_mark_namesakes(rw->r->inv, rw->old_sha1);
	renew_event(rw, "renewal_done", rw->new_sha1, "renewal %lld "
	    "done: now serving %s", (long long)rw->id, rw->new_sha1);
	log_info("renewal %lld (%s): services down for %lld ms",
	    (long long)rw->id, rw->b->name, (long long)down);
	/* The store keeps the newest sets (the old one among them). */
	store_keep(rw->r->store, rw->b->name, rw->new_sha1, rw->old_sha1,
	    BINDING_KEEP_STORE, rw->id, timeutil_now());
	renew_release(rw);
	renew_schedule(rw->r);
}

/* Rolled back: serving what was live before (drifted or not) again. */
static void
renew_rolled_back(struct renew *rw)
{
	if (rw->restored_new && !rw->unjournaled &&
	    journal_set_restored(rw->r->j, rw->id, rw->restored_sha1,
	    timeutil_now()) == 0)
		rw->restored_new = 0;
	renew_set_downtime(rw);
	if (renew_enter(rw, RS_ROLLED_BACK, NULL, (int64_t)renew_now(
	    rw->r) + sched_backoff(rw->attempt, (uint64_t)rw->id),
	    renew_rollback_sha1(rw)) == -1) {
		if (rw->unjournaled == 1) {
			rw->unjournaled = 2;
			log_warn("renewal %lld (%s): serving the previous "
			    "certificate without the journal; it will say so "
			    "once it can be written", (long long)rw->id,
			    rw->b->name);
		}
		renew_journal_failed(rw);
		return;
	}
	if (renew_drifted(rw))
		renew_event(rw, "rolled_back", rw->restored_sha1, "renewal "
		    "%lld rolled back: serving the previous files again, "
		    "which hold %s: the binding had drifted (it names %s)",
		    (long long)rw->id, rw->restored_sha1, rw->old_sha1);
	else
		renew_event(rw, "rolled_back", rw->old_sha1, "renewal %lld "
		    "rolled back: serving the previous certificate again",
		    (long long)rw->id);
	renew_release(rw);
}

/* A failed (or hung and killed) rollback stop does not hold the rollback
 * up: the files go back and the idempotent start and the probe decide. */
static void
renew_rollback_stop_failed(struct renew *rw)
{
	renew_event(rw, "rollback_stop_failed", rw->old_sha1,
	    "%s (putting the files back anyway)", rw->op_err.msg);
	log_warn("renewal %lld (%s): rollback stop failed: %s",
	    (long long)rw->id, rw->b->name, rw->op_err.msg);
}

/* Any other rollback sub-step failed: the rollback starts over later. */
static void
renew_rollback_retry(struct renew *rw)
{
	int64_t	d = sched_backoff(rw->attempt, (uint64_t)rw->id);

	if (rw->r->closing) {
		/* Exiting: the next start resumes it. */
		log_error("renewal %lld (%s): rollback step failed: %s; the "
		    "next start resumes the rollback", (long long)rw->id,
		    rw->b->name, rw->op_err.msg);
		renew_release(rw);
		return;
	}
	renew_event(rw, "rollback_failed", rw->old_sha1,
	    "%s (trying again)", rw->op_err.msg);
	log_error("renewal %lld (%s): rollback step failed: %s",
	    (long long)rw->id, rw->b->name, rw->op_err.msg);
	rw->phase = RP_RB_STOP;
	rw->verify_deadline = 0;
	rw->attempt++;
	renew_later(rw, (uint64_t)(d > 60 ? 60 : d) * 1000);
}

/* Still pending: once past alert_after, renewal_overdue (once). */
static void
renew_wait(struct renew *rw)
{
	uint64_t	ms = 250;	/* between probes */

	if (rw->state == RS_AWAITING) {
		if (!rw->await_alerted && rw->reply.alert_after > 0 &&
		    renew_now(rw->r) - rw->await_since >=
		    rw->reply.alert_after) {
			rw->await_alerted = 1;
			renew_event(rw, "renewal_overdue", rw->old_sha1, "%s",
			    rw->reply.detail);
		}
		ms = rw->reply.retry_ms > 0 ? rw->reply.retry_ms : 2000;
		/* An issuer's progress (ACME: the order's step) shows in
		 * renewals; the issuer keeps its own durable record.  Only
		 * when it changed: polls come several times a second, and
		 * each write is a commit on the loop. */
		if (rw->reply.detail[0] != '\0' && strcmp(rw->reply.detail,
		    rw->shown_detail) != 0 && journal_set_output(rw->r->j,
		    rw->id, renew_state_name(rw->state),
		    rw->reply.detail) == 0)
			snprintf(rw->shown_detail, sizeof(rw->shown_detail),
			    "%s", rw->reply.detail);
	} else if (rw->state == RS_TESTING) {
		/* Exiting: the next start's deploy puts them back first. */
		if (rw->r->closing) {
			renew_release(rw);
			return;
		}
		/* The files could not be put back after a failed test. */
		log_error("renewal %lld (%s): cannot put the files back: %s; "
		    "trying again", (long long)rw->id, rw->b->name,
		    rw->op_err.msg);
		ms = 5000;
	}
	renew_later(rw, ms);
}

/* ---- side effects, one per state and phase --------------------------- */

/* The outcome is known at once (nothing to do). */
static void
renew_now_done(struct renew *rw, enum renew_outcome o)
{
	rw->op = OP_DONE;
	rw->outcome = o;
	renew_step(rw);
}

static void
renew_do_nothing(struct renew *rw)
{
	renew_now_done(rw, RO_OK);
}

/* A binding without an issuer (or one a reload removed) fails early. */
static int
renew_no_issuer(struct renew *rw)
{
	if (rw->is != NULL)
		return 0;
	cv_err_set(&rw->op_err, "no issuer (set issuer = NAME in the "
	    "binding)");
	renew_now_done(rw, RO_ERROR);
	return 1;
}

static void
renew_do_request(struct renew *rw)
{
	if (!renew_no_issuer(rw))
		renew_work(rw, renew_issue_request);
}

static void
renew_do_command(struct renew *rw)
{
	renew_spawn(rw, rw->reply.argv, rw->reply.env, rw->reply.timeout,
	    "issuer");
}

static void
renew_do_collect(struct renew *rw)
{
	if (!renew_no_issuer(rw))
		renew_work(rw, renew_issue_collect);
}

static void
renew_do_validate(struct renew *rw)
{
	if (!renew_no_issuer(rw))
		renew_work(rw, renew_issue_validate);
}

/* Every service's stop, in order (issue 14). */
static void
renew_do_stop(struct renew *rw)
{
	renew_svc_run(rw, SVC_STOP);
}

static void
renew_do_unbind(struct renew *rw)
{
	renew_work(rw, renew_w_unbind);
}

/* After testing the new files are in place already. */
static void
renew_do_bind(struct renew *rw)
{
	if (rw->tested)
		renew_now_done(rw, RO_OK);
	else
		renew_work(rw, renew_w_bind);
}

static void
renew_do_test_deploy(struct renew *rw)
{
	renew_work(rw, renew_w_test_deploy);
}

/* Every service's config_test, the new files in place and nothing
 * stopped or reloaded yet.  What deploy found live is journaled first:
 * a rollback restores and verifies it. */
static void
renew_do_test(struct renew *rw)
{
	memcpy(rw->restored_sha1, rw->op_sha1, 41);
	if (journal_set_restored(rw->r->j, rw->id, rw->restored_sha1,
	    timeutil_now()) == -1)
		log_warn("renewal %lld (%s): cannot journal what was live",
		    (long long)rw->id, rw->b->name);
	renew_svc_run(rw, SVC_TEST);
}

static void
renew_do_test_undo(struct renew *rw)
{
	renew_work(rw, renew_w_test_undo);
}

static void
renew_do_restore(struct renew *rw)
{
	renew_work(rw, renew_w_restore);
}

/* Every service's start (or reload), in order (issue 14). */
static void
renew_do_start(struct renew *rw)
{
	renew_svc_run(rw, SVC_START);
}

static void
renew_do_verify(struct renew *rw)
{
	/* Not for a rollback with nothing to compare (no old file). */
	if (rw->state == RS_ROLLING_BACK &&
	    renew_rollback_sha1(rw)[0] == '\0' && !rw->b->is_client) {
		renew_now_done(rw, RO_OK);
		return;
	}
	if (rw->verify_deadline == 0)
		rw->verify_deadline = time(NULL) + rw->b->verify_timeout;
	renew_work(rw, rw->state == RS_ROLLING_BACK ? renew_w_verify_old :
	    renew_w_verify_new);
}

static const struct {
	enum renew_state	 state;
	enum renew_phase	 phase;
	void			(*start)(struct renew *);
} renew_effects[] = {
	{ RS_DUE,		RP_NONE,		renew_do_nothing },
	{ RS_ISSUING,		RP_ISSUE_REQUEST,	renew_do_request },
	{ RS_ISSUING,		RP_ISSUE_COMMAND,	renew_do_command },
	{ RS_AWAITING,		RP_NONE,		renew_do_collect },
	{ RS_ISSUED,		RP_NONE,		renew_do_validate },
	{ RS_TESTING,		RP_TEST_DEPLOY,		renew_do_test_deploy },
	{ RS_TESTING,		RP_TEST_RUN,		renew_do_test },
	{ RS_TESTING,		RP_TEST_UNDO,		renew_do_test_undo },
	{ RS_STOPPING,		RP_NONE,		renew_do_stop },
	{ RS_UNBINDING,		RP_NONE,		renew_do_unbind },
	{ RS_BINDING,		RP_NONE,		renew_do_bind },
	{ RS_STARTING,		RP_NONE,		renew_do_start },
	{ RS_VERIFYING,		RP_NONE,		renew_do_verify },
	{ RS_ROLLING_BACK,	RP_RB_STOP,		renew_do_stop },
	{ RS_ROLLING_BACK,	RP_RB_RESTORE,		renew_do_restore },
	{ RS_ROLLING_BACK,	RP_RB_START,		renew_do_start },
	{ RS_ROLLING_BACK,	RP_RB_VERIFY,		renew_do_verify },
};

/* Starts the side effect of the renewal's state and phase; final states
 * (and a phase without one) have none: renew_next ends them. */
static void
renew_effect(struct renew *rw)
{
	size_t	i;

	for (i = 0; i < sizeof(renew_effects) / sizeof(renew_effects[0]); i++)
		if (renew_effects[i].state == rw->state &&
		    renew_effects[i].phase == rw->phase) {
			renew_effects[i].start(rw);
			return;
		}
	cv_err_set(&rw->op_err, "no side effect for %s/%s",
	    renew_state_name(rw->state), renew_phase_name(rw->phase));
	renew_now_done(rw, renew_state_final(rw->state) ? RO_OK : RO_ERROR);
}

/* What the journal says about entering s, from what led there. */
static const char *
renew_enter_detail(struct renew *rw, enum renew_state s)
{
	switch (s) {
	case RS_ISSUING:
		return rw->is ? issuer_type_name(rw->is) : NULL;
	case RS_AWAITING:
		/* After a command: its output; after a request: the reply's. */
		return rw->op_detail[0] ? rw->op_detail : rw->reply.detail[0] ?
		    rw->reply.detail : "CSR in the outbox";
	case RS_ISSUED:
		return rw->new_sha1;
	default:
		return NULL;
	}
}

/* Enters s (journaled) and goes on with it. */
static void
renew_go(struct renew *rw, enum renew_state s)
{
	if (s == RS_DONE) {
		renew_done(rw);
		return;
	}
	if (s == RS_ROLLED_BACK) {
		renew_rolled_back(rw);
		return;
	}
	if (s == RS_BINDING && rw->state == RS_UNBINDING) {
		renew_unbound(rw);
		return;
	}
	if (s == RS_ISSUED && rw->reply.sha1[0] != '\0')
		memcpy(rw->new_sha1, rw->reply.sha1, 41);
	if (renew_enter(rw, s, "", 0, renew_enter_detail(rw, s)) == -1) {
		renew_journal_failed(rw);
		return;
	}
	if (s == RS_TESTING)
		rw->tested = 1;
	if (s == RS_AWAITING)
		rw->await_since = renew_now(rw->r);
	renew_step(rw);
}

/*
 * The only function that changes a renewal's state.  Called when the
 * state (or phase) was entered (op idle: start its side effect) and
 * again when that side effect completes (op done: renew_next says what
 * follows; this carries it out).
 */
void
renew_step(struct renew *rw)
{
	struct renew_move	m;

	if (rw->op == OP_RUNNING || rw->closing)
		return;
	if (rw->op == OP_IDLE) {
		renew_effect(rw);
		return;
	}
	m = renew_next(rw->state, rw->phase, rw->outcome);
	switch (m.action) {
	case RA_ENTER:
		renew_go(rw, m.state);
		return;
	case RA_UNDO:
		/* What failed is the reason once the undoing is done. */
		snprintf(rw->fail_why, sizeof(rw->fail_why), "%s",
		    rw->op_err.msg);
		log_warn("renewal %lld (%s): %s: %s; putting the files back",
		    (long long)rw->id, rw->b->name, renew_phase_name(rw->phase),
		    rw->fail_why);
		goto run;
	case RA_PASS_OVER:
		renew_rollback_stop_failed(rw);
		/* FALLTHROUGH */
	case RA_RUN:
	run:
		rw->phase = m.phase;
		rw->verify_deadline = 0;
		rw->op = OP_IDLE;
		renew_step(rw);
		return;
	case RA_WAIT:
		renew_wait(rw);
		return;
	case RA_FAIL_EARLY:
		renew_fail_early(rw, rw->fail_why[0] ? rw->fail_why :
		    rw->op_err.msg);
		return;
	case RA_ROLLBACK:
		renew_fail_late(rw, rw->op_err.msg);
		return;
	case RA_RETRY:
		renew_rollback_retry(rw);
		return;
	case RA_END:
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

/*
 * Whether the binding's newest renewal failed (or rolled back) for this
 * certhash: then the next one is its attempt + 1 and waits for its
 * next_attempt.  Any other outcome, or another certhash, starts afresh.
 */
int
renew_last_failed(struct renewer *r, const char *name, const char *certhash,
    int *attempt, int64_t *next_attempt)
{
	struct journal_row	last;
	int			failed = 0;

	if (journal_last(r->j, name, &last) != 0)
		return 0;
	if ((!strcmp(last.state, "failed") ||
	    !strcmp(last.state, "rolled_back")) &&
	    !strcmp(last.old_sha1, certhash)) {
		failed = 1;
		if (attempt != NULL)
			*attempt = last.attempt;
		if (next_attempt != NULL)
			*next_attempt = last.next_attempt;
	}
	journal_row_clear(&last);
	return failed;
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
	struct renew		*rw;
	int			 attempt = 1, last;

	if (renew_last_failed(r, b->name, certhash, &last, NULL))
		attempt = last + 1;
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
		memcpy(rw->restored_sha1, rows[i].restored_sha1, 41);
		rw->down_since_ms = rows[i].down_since_ms;
		/* Deployed before stopping (issue 14): the journal says. */
		rw->tested = journal_has_step(r->j, rw->id, "testing") == 1;
		log_warn("renewal %lld (%s) found in state %s: resuming",
		    (long long)rw->id, b->name, rows[i].state);
		inventory_add_event(r->inv, timeutil_now(), "renewal_resumed",
		    b->cert_file, *rw->new_sha1 ? rw->new_sha1 : NULL,
		    "%s: renewal %lld resumed in state %s", b->name,
		    (long long)rw->id, rows[i].state);
		/* issuing asks the issuer again (its request is
		 * idempotent); rolling_back starts over from its stop. */
		rw->phase = renew_first_phase(rw->state);
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
	char		*path;
	int		 n;

	r->loop = loop;
	r->inv = inv;
	r->cf = conf_ref(cf);
	r->state_dir = xstrdup(state_dir);
	xasprintf(&path, "%s/store", state_dir);
	xasprintf(&r->work_dir, "%s/work", state_dir);
	journal_open(inv, &r->j, &e);
	r->store = store_new(path, r->j);
	free(path);
	if (store_mkdir(r->store, &e) == -1 ||
	    fsutil_mkdirs(r->work_dir, 0700, &e) == -1)
		log_error("%s", e.msg);
	else if ((n = store_clean(r->store)) > 0)
		log_info("%s: removed %d temporary files a crash left",
		    store_dir(r->store), n);
	r->drift = json_object();
	r->cert_files = json_object();
	r->windows_done = json_object();
	r->ari_busy = json_object();
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
	json_decref(r->ari_busy);
	renew_eff_clear(r);
	deployed_free(r->dep);
	conf_unref(r->cf);
	free(r->state_dir);
	store_free(r->store);
	free(r->work_dir);
	free(r);
}

void
renew_set_probe_hook(struct renewer *r,
    void (*hook)(void *, const struct renew_probe_report *), void *arg)
{
	r->probe_hook = hook;
	r->probe_hook_arg = arg;
}
