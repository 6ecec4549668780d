#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "binding.h"
#include "log.h"
#include "probe.h"
#include "schedule.h"
#include "served.h"
#include "timeutil.h"
#include "worker.h"
#include "xmalloc.h"

#define SERVED_TIMEOUT_MS	5000	/* per connection */
/* The targets are rebuilt when bindings change (served_bindings_changed,
 * SIGHUP, a renewal's end); this is only a backstop.  At 30 s it was the
 * idle daemon's one wake-up in two (issue 16's make bench). */
#define SERVED_SYNC_MS		(3600 * 1000)
#define SERVED_FIRST_MAX	30	/* first probe after start, s */
#define SERVED_BUSY_MS		2000	/* a renewal is under way: again */

/* One endpoint of one binding, and when it is probed next. */
struct served_target {
	char			*binding;
	char			*endpoint;	/* probe_endpoint_str */
	char			*cert_file;
	struct probe_endpoint	 ep;
	int			 sni;
	int			 require_client_cert;
	int64_t			 interval;	/* seconds */
	uint64_t		 due;		/* uv_now() ms */
	unsigned		 epoch;		/* renewals ended */
	int			 running;
	int			 seen;
};

/* What one probe saw, by the watch or by a renewal's verify step. */
struct served_result {
	struct served_result	*next;
	char			*binding;
	char			*endpoint;
	const char		*origin;	/* static: watch, verify, ... */
	int			 stale;		/* a renewal ended meanwhile */
	char			 want[41];	/* renewal's; "" for the watch */
	int			 require_client_cert;
	int			 answered;	/* a TLS server answered */
	int			 have;		/* ...with a certificate */
	char			 sha1[41];
	time_t			 na;
	char			 protocol[32];
	int			 cert_requested;
	int			 accepted_without;
	char			*error;
	uint64_t		 ms;
	time_t			 time;
};

struct served_job {
	struct worker_job	 job;
	struct served		*s;
	struct probe_endpoint	 ep;
	int			 sni;
	unsigned		 epoch;		/* the target's, at start */
	struct served_result	*res;
};

struct served {
	uv_loop_t		*loop;
	struct inventory	*inv;
	struct config		*cf;
	struct renewer		*r;
	struct alert		*a;
	void			(*changed)(void *);
	void			*changed_arg;
	struct served_target	*t;
	size_t			 nt;
	uint64_t		 synced;	/* uv_now() of the last sync */
	int			 dirty;		/* sync at the next fire */
	json_t			*kicks;		/* cert_files: renewals ended */
	uv_timer_t		 timer;
	uv_async_t		 async;		/* renewal reports queued */
	uv_mutex_t		 mu;		/* guards reports */
	struct served_result	*reports;
	struct worker		 worker;
	int			 worker_up;
	int			 stopping;
	int			 handles;
	void			(*close_cb)(void *);
	void			*close_arg;
};

static void	served_arm(struct served *);

static sqlite3 *
served_db(struct served *s)
{
	return inventory_db(s->inv);
}

static void
served_result_free(struct served_result *x)
{
	free(x->binding);
	free(x->endpoint);
	free(x->error);
	free(x);
}

/* Copies what res (NULL: no handshake, error says why) tells. */
static void
served_fill(struct served_result *x, const struct probe_result *res,
    const char *error)
{
	if (res == NULL) {
		x->error = xstrdup(error != NULL ? error : "no handshake");
		return;
	}
	x->answered = 1;
	x->have = res->nchain > 0;
	if (res->nchain > 0) {
		snprintf(x->sha1, sizeof(x->sha1), "%s", res->chain[0].sha1);
		x->na = res->chain[0].not_after;
	} else
		x->error = xstrdup("no certificate was served");
	snprintf(x->protocol, sizeof(x->protocol), "%s", res->protocol);
	x->cert_requested = res->without.cert_requested;
	x->accepted_without = res->without.accepted;
}

/* ---- the targets ------------------------------------------------------ */

static struct served_target *
served_target_find(struct served *s, const char *binding,
    const char *endpoint)
{
	size_t	i;

	for (i = 0; i < s->nt; i++)
		if (strcmp(s->t[i].binding, binding) == 0 &&
		    strcmp(s->t[i].endpoint, endpoint) == 0)
			return &s->t[i];
	return NULL;
}

/*
 * The first probe after start (or after the binding appeared): within
 * the first SERVED_FIRST_MAX seconds (or the interval, if shorter), at a
 * point of the binding's own, so that a fleet restarted at once does not
 * probe in step.
 */
static uint64_t
served_first(struct served *s, const char *binding, const char *endpoint,
    int64_t iv)
{
	int64_t	span = iv < SERVED_FIRST_MAX ? iv : SERVED_FIRST_MAX;

	return uv_now(s->loop) + (sched_hash(binding, endpoint) %
	    (uint64_t)span) * 1000;
}

/*
 * After a probe: the next moment t > now with t = hash mod interval on
 * the real clock (sched_hash, as renewal moments are), so that restarts
 * keep the phase and hosts differ.
 */
static uint64_t
served_next(struct served *s, const struct served_target *t)
{
	int64_t	now = (int64_t)time(NULL), iv = t->interval, off, d;

	off = (int64_t)(sched_hash(t->binding, t->endpoint) % (uint64_t)iv);
	d = ((off - now) % iv + iv) % iv;
	if (d == 0)
		d = iv;
	return uv_now(s->loop) + (uint64_t)d * 1000;
}

static void
served_add_target(struct served *s, struct served_target *old, size_t nold,
    const struct binding *b, const struct binding_probe *bp)
{
	struct served_target	*t;
	char			 ep[300];
	size_t			 i;

	probe_endpoint_str(&bp->ep, ep, sizeof(ep));
	s->t = xreallocarray(s->t, s->nt + 1, sizeof(*s->t));
	t = &s->t[s->nt++];
	memset(t, 0, sizeof(*t));
	t->binding = xstrdup(b->name);
	t->endpoint = xstrdup(ep);
	t->cert_file = xstrdup(b->cert_file ? b->cert_file : "");
	t->ep = bp->ep;
	t->sni = b->hostnameport != NULL;
	t->require_client_cert = bp->require_client_cert;
	t->interval = b->probe_interval > 0 ? b->probe_interval :
	    s->cf->probe_interval;
	t->due = served_first(s, t->binding, t->endpoint, t->interval);
	for (i = 0; i < nold; i++) {
		if (strcmp(old[i].binding, t->binding) != 0 ||
		    strcmp(old[i].endpoint, t->endpoint) != 0)
			continue;
		t->running = old[i].running;
		t->epoch = old[i].epoch;
		/* Keeps its phase unless the interval changed. */
		if (old[i].interval == t->interval)
			t->due = old[i].due;
		break;
	}
}

/* Rows of endpoints no binding has any more: their series go too. */
static void
served_drop_stale(struct served *s)
{
	sqlite3_stmt	*st, *del;
	const char	*bn, *ep;

	if (sqlite3_prepare_v2(served_db(s), "SELECT binding, endpoint FROM"
	    " served", -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(served_db(s), "DELETE FROM served WHERE"
	    " binding = ?1 AND endpoint = ?2", -1, &del, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		bn = (const char *)sqlite3_column_text(st, 0);
		ep = (const char *)sqlite3_column_text(st, 1);
		if (served_target_find(s, bn, ep) != NULL)
			continue;
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, bn, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(del, 2, ep, -1, SQLITE_TRANSIENT);
		sqlite3_step(del);
	}
	sqlite3_finalize(del);
	sqlite3_finalize(st);
}

/*
 * The targets again from the bindings the journal knows: each server
 * binding's probe endpoints.  [client] bindings are not watched: their
 * certhash is the client certificate, not what the beacon serves.
 */
static void
served_sync(struct served *s)
{
	struct served_target	*old = s->t;
	struct binding_probe	 bp;
	struct binding		*b;
	struct cv_err		 e;
	size_t			 nold = s->nt, n, i, k;
	char			**names, ch[41];
	time_t			 na;
	int			 busy;

	s->t = NULL;
	s->nt = 0;
	renew_watch_names(s->r, &names, &n);
	for (i = 0; i < n; i++) {
		b = renew_watch_binding(s->r, names[i], ch, &na, &busy);
		for (k = 0; b != NULL && !b->is_client &&
		    k < binding_nprobes(b); k++)
			if (binding_probe_at(b, k, &bp, &e) == 0)
				served_add_target(s, old, nold, b, &bp);
		binding_free(b);
		free(names[i]);
	}
	free(names);
	for (i = 0; i < nold; i++) {
		free(old[i].binding);
		free(old[i].endpoint);
		free(old[i].cert_file);
	}
	free(old);
	served_drop_stale(s);
	s->synced = uv_now(s->loop);
	s->dirty = 0;
}

/* ---- probing (worker threads) ----------------------------------------- */

static void
served_work(struct worker_job *job)
{
	struct served_job	*j = job->data;
	struct probe_opts	 o;
	struct probe_result	 res;
	struct cv_err		 e;
	uint64_t		 t0 = uv_hrtime();

	memset(&o, 0, sizeof(o));
	o.host = j->ep.host;
	o.port = j->ep.port;
	o.starttls = j->ep.proto;
	o.timeout_ms = SERVED_TIMEOUT_MS;
	if (j->sni)
		o.sni = j->ep.host;
	if (probe_run(&o, &res, &e) == -1)
		served_fill(j->res, NULL, e.msg);
	else {
		served_fill(j->res, &res, NULL);
		probe_result_free(&res);
	}
	j->res->ms = (uv_hrtime() - t0) / 1000000;
}

static void	served_record(struct served *, struct served_result *);

static void
served_work_done(struct worker_job *job)
{
	struct served_job	*j = job->data;
	struct served		*s = j->s;
	struct served_target	*t;

	t = served_target_find(s, j->res->binding, j->res->endpoint);
	if (t != NULL) {
		t->running = 0;
		/* A renewal ended while this probe ran: what it saw may be
		 * from before (certhash changed since); probe again. */
		j->res->stale = t->epoch != j->epoch;
		t->due = j->res->stale ? uv_now(s->loop) + 500 :
		    served_next(s, t);
	}
	if (!s->stopping)
		served_record(s, j->res);
	served_result_free(j->res);
	free(j);
	if (!s->stopping)
		served_arm(s);
}

static void
served_start(struct served *s, struct served_target *t)
{
	struct served_job	*j;

	if (!s->worker_up)
		return;
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->ep = t->ep;
	j->sni = t->sni;
	j->epoch = t->epoch;
	j->res = xcalloc(1, sizeof(*j->res));
	j->res->binding = xstrdup(t->binding);
	j->res->endpoint = xstrdup(t->endpoint);
	j->res->origin = "watch";
	j->res->require_client_cert = t->require_client_cert;
	j->job.work = served_work;
	j->job.done = served_work_done;
	j->job.data = j;
	t->running = 1;
	worker_run(&s->worker, &j->job);
}

/* Endpoints of bindings whose renewal ended: due now (the renewal is
 * released right after its last event; served_fire retries while busy). */
static void
served_kicked(struct served *s, uint64_t now)
{
	json_t	*v;
	size_t	 i, k;

	json_array_foreach(s->kicks, k, v)
		for (i = 0; i < s->nt; i++)
			if (strcmp(s->t[i].cert_file, json_string_value(v)) == 0 &&
			    !s->t[i].running)
				s->t[i].due = now;
	json_array_clear(s->kicks);
}

static void
served_fire(uv_timer_t *h)
{
	struct served	*s = h->data;
	uint64_t	 now = uv_now(s->loop);
	size_t		 i;

	if (s->stopping)
		return;
	if (s->dirty || now - s->synced >= SERVED_SYNC_MS)
		served_sync(s);
	served_kicked(s, now);
	for (i = 0; i < s->nt; i++) {
		if (s->t[i].running || s->t[i].due > now)
			continue;
		/* Mid-renewal the service may be down or serve the new
		 * certificate before certhash says so: not a drift. */
		if (renew_watch_busy(s->r, s->t[i].binding)) {
			s->t[i].due = now + SERVED_BUSY_MS;
			continue;
		}
		served_start(s, &s->t[i]);
	}
	served_arm(s);
}

/* One timer at the earliest due target, at least every SERVED_SYNC_MS. */
static void
served_arm(struct served *s)
{
	uint64_t	now = uv_now(s->loop), at = s->synced + SERVED_SYNC_MS;
	size_t		i;

	if (s->stopping)
		return;
	for (i = 0; i < s->nt; i++)
		if (!s->t[i].running && s->t[i].due < at)
			at = s->t[i].due;
	if (s->dirty)
		at = now;
	uv_timer_start(&s->timer, served_fire, at > now ? at - now : 0, 0);
}

/* ---- judging and storing (the loop) ----------------------------------- */

/* The event, and the alert through the alert path. */
static void
served_event(struct served *s, const char *kind, const struct binding *b,
    const struct served_result *x, const char *msg)
{
	inventory_add_event(s->inv, timeutil_now(), kind, b->cert_file,
	    x->sha1[0] ? x->sha1 : NULL, "%s", msg);
	alert_notify(s->a, kind, b->name, x->endpoint, x->sha1, x->na,
	    b->cert_file, msg);
}

/*
 * served_drift once per served thumbprint (drift holds the one reported),
 * served_drift_resolved when the certhash is served again.  dna: what the
 * deployed cert_file holds expires then (0: not known).
 */
static void
served_judge_drift(struct served *s, const struct served_result *x,
    const struct binding *b, const char *expected, time_t dna,
    char drift[41])
{
	char	msg[900], na[TIMEUTIL_RFC3339_LEN], da[TIMEUTIL_RFC3339_LEN];
	int	n;

	if (strcmp(x->sha1, expected) == 0) {
		if (drift[0] == '\0')
			return;
		snprintf(msg, sizeof(msg), "%s: %s serves the binding's "
		    "certhash %s again (it served %s)", b->name, x->endpoint,
		    expected, drift);
		served_event(s, "served_drift_resolved", b, x, msg);
		drift[0] = '\0';
		return;
	}
	if (strcmp(drift, x->sha1) == 0)
		return;		/* reported */
	n = snprintf(msg, sizeof(msg), "%s: %s serves %s (notAfter %s), not "
	    "the binding's certhash %s", b->name, x->endpoint, x->sha1,
	    timeutil_rfc3339(x->na, na, sizeof(na)), expected);
	if (dna > 0 && x->na < dna && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, "; the served "
		    "certificate expires before the deployed one (%s): the "
		    "service was not reloaded", timeutil_rfc3339(dna, da,
		    sizeof(da)));
	served_event(s, "served_drift", b, x, msg);
	snprintf(drift, 41, "%s", x->sha1);
}

/* mtls_not_enforced once, mtls_not_enforced_resolved when it is over. */
static void
served_judge_mtls(struct served *s, const struct served_result *x,
    const struct binding *b, int *alerted)
{
	char	msg[600];

	if (x->accepted_without && !*alerted) {
		snprintf(msg, sizeof(msg), "%s: %s accepts a client without a "
		    "certificate (require_client_cert = yes)%s", b->name,
		    x->endpoint, x->cert_requested ? "" : "; it does not "
		    "even ask for one");
		served_event(s, "mtls_not_enforced", b, x, msg);
		*alerted = 1;
	} else if (!x->accepted_without && *alerted) {
		snprintf(msg, sizeof(msg), "%s: %s refuses clients without a "
		    "certificate again", b->name, x->endpoint);
		served_event(s, "mtls_not_enforced_resolved", b, x, msg);
		*alerted = 0;
	}
}

/* What was reported for the endpoint so far. */
static void
served_prev(struct served *s, const struct served_result *x, char drift[41],
    int *alerted)
{
	sqlite3_stmt	*st;
	const char	*d;

	drift[0] = '\0';
	*alerted = 0;
	if (sqlite3_prepare_v2(served_db(s), "SELECT drift_sha1, mtls_alerted"
	    " FROM served WHERE binding = ?1 AND endpoint = ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, x->binding, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->endpoint, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if ((d = (const char *)sqlite3_column_text(st, 0)) != NULL)
			snprintf(drift, 41, "%s", d);
		*alerted = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
}

static void
served_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL && *v != '\0')
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
served_store(struct served *s, const struct served_result *x,
    const char *expected, const char *drift, int alerted)
{
	static const char q[] = "INSERT OR REPLACE INTO served(binding,"
	    " endpoint, time, origin, sha1, not_after, protocol,"
	    " expected_sha1, require_client_cert, client_cert_required,"
	    " accepted_without_cert, error, duration_ms, drift_sha1,"
	    " mtls_alerted) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	    " ?11, ?12, ?13, ?14, ?15)";
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(served_db(s), q, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, x->binding, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)x->time);
	sqlite3_bind_text(st, 4, x->origin, -1, SQLITE_STATIC);
	served_text(st, 5, x->sha1);
	if (x->have)
		sqlite3_bind_int64(st, 6, (int64_t)x->na);
	served_text(st, 7, x->protocol);
	served_text(st, 8, expected);
	sqlite3_bind_int(st, 9, x->require_client_cert);
	if (x->answered) {
		sqlite3_bind_int(st, 10, x->cert_requested);
		sqlite3_bind_int(st, 11, x->accepted_without);
	}
	served_text(st, 12, x->error);
	sqlite3_bind_int64(st, 13, (int64_t)x->ms);
	served_text(st, 14, drift);
	sqlite3_bind_int(st, 15, alerted);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_warn("served: %s", sqlite3_errmsg(served_db(s)));
	sqlite3_finalize(st);
}

/*
 * Stores x as its endpoint's latest row.  Only the watch judges: a
 * renewal's verify probes expect the new (or restored) certificate
 * before certhash says so, and the renewal reports its own outcome.
 */
static void
served_record(struct served *s, struct served_result *x)
{
	struct binding	*b;
	const char	*expected;
	char		 ch[41], drift[41];
	time_t		 dna;
	int		 busy, alerted, judge;

	if ((b = renew_watch_binding(s->r, x->binding, ch, &dna, &busy)) ==
	    NULL)
		return;		/* deleted meanwhile */
	x->time = timeutil_now();
	judge = !strcmp(x->origin, "watch") && !busy && !x->stale;
	expected = !strcmp(x->origin, "watch") ? ch : x->want;
	served_prev(s, x, drift, &alerted);
	if (judge && x->have && *expected)
		served_judge_drift(s, x, b, expected, dna, drift);
	if (judge && x->answered && x->require_client_cert)
		served_judge_mtls(s, x, b, &alerted);
	served_store(s, x, expected, drift, alerted);
	binding_free(b);
	if (s->changed != NULL)
		s->changed(s->changed_arg);
}

/* ---- renewal reports (any thread -> the loop) ------------------------- */

void
served_report(void *arg, const struct renew_probe_report *rp)
{
	struct served		*s = arg;
	struct served_result	*x = xcalloc(1, sizeof(*x));

	x->binding = xstrdup(rp->binding);
	x->endpoint = xstrdup(rp->endpoint);
	x->origin = strcmp(rp->origin, "rollback") == 0 ? "rollback" :
	    "verify";
	snprintf(x->want, sizeof(x->want), "%s", rp->want ? rp->want : "");
	x->require_client_cert = rp->require_client_cert;
	served_fill(x, rp->res, rp->error);
	x->ms = rp->ms;
	uv_mutex_lock(&s->mu);
	x->next = s->reports;
	s->reports = x;
	uv_mutex_unlock(&s->mu);
	uv_async_send(&s->async);
}

static void
served_drain(uv_async_t *h)
{
	struct served		*s = h->data;
	struct served_result	*x, *next, *fifo = NULL;

	uv_mutex_lock(&s->mu);
	x = s->reports;
	s->reports = NULL;
	uv_mutex_unlock(&s->mu);
	for (; x != NULL; x = next) {	/* oldest first */
		next = x->next;
		x->next = fifo;
		fifo = x;
	}
	for (x = fifo; x != NULL; x = next) {
		next = x->next;
		if (!s->stopping)
			served_record(s, x);
		served_result_free(x);
	}
}

/* ---- binding show ----------------------------------------------------- */

static json_t *
served_bool(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() :
	    json_boolean(sqlite3_column_int(st, i));
}

static json_t *
served_str(sqlite3_stmt *st, int i)
{
	const char	*v = (const char *)sqlite3_column_text(st, i);

	return v != NULL ? json_string(v) : json_null();
}

/* One row as binding show's last_probe entry. */
static json_t *
served_row_json(sqlite3_stmt *st)
{
	const char	*sha1 = (const char *)sqlite3_column_text(st, 3);
	const char	*exp = (const char *)sqlite3_column_text(st, 6);
	char		 t[TIMEUTIL_RFC3339_LEN], na[TIMEUTIL_RFC3339_LEN];
	int		 rcc = sqlite3_column_int(st, 7), match, open;
	json_t		*o;

	match = sha1 != NULL && exp != NULL && strcmp(sha1, exp) == 0;
	open = sqlite3_column_int(st, 9);
	o = json_pack("{s:s, s:s, s:s, s:s}",
	    "endpoint", (const char *)sqlite3_column_text(st, 0),
	    "time", timeutil_rfc3339((time_t)sqlite3_column_int64(st, 1), t,
	    sizeof(t)),
	    "origin", (const char *)sqlite3_column_text(st, 2),
	    "result", sha1 == NULL ? "error" : exp != NULL && !match ?
	    "served_drift" : rcc && open ? "mtls_not_enforced" : "ok");
	json_object_set_new(o, "error", served_str(st, 10));
	json_object_set_new(o, "served_sha1", served_str(st, 3));
	json_object_set_new(o, "served_not_after", sha1 == NULL ? json_null() :
	    json_string(timeutil_rfc3339((time_t)sqlite3_column_int64(st, 4),
	    na, sizeof(na))));
	json_object_set_new(o, "expected_sha1", served_str(st, 6));
	json_object_set_new(o, "match", sha1 == NULL || exp == NULL ?
	    json_null() : json_boolean(match));
	json_object_set_new(o, "protocol", served_str(st, 5));
	json_object_set_new(o, "client_cert_required", served_bool(st, 8));
	json_object_set_new(o, "accepted_without_cert", served_bool(st, 9));
	json_object_set_new(o, "require_client_cert", json_boolean(rcc));
	json_object_set_new(o, "mtls_enforced", !rcc ||
	    sqlite3_column_type(st, 9) == SQLITE_NULL ? json_null() :
	    json_boolean(!open));
	json_object_set_new(o, "duration_ms",
	    json_integer(sqlite3_column_int64(st, 11)));
	return o;
}

void
served_annotate(struct served *s, json_t *bindings)
{
	static const char q[] = "SELECT endpoint, time, origin, sha1,"
	    " not_after, protocol, expected_sha1, require_client_cert,"
	    " client_cert_required, accepted_without_cert, error, duration_ms"
	    " FROM served WHERE binding = ?1 ORDER BY endpoint";
	sqlite3_stmt	*st;
	json_t		*o, *lp;
	size_t		 i;

	if (sqlite3_prepare_v2(served_db(s), q, -1, &st, NULL) != SQLITE_OK)
		return;
	json_array_foreach(bindings, i, o) {
		lp = json_array();
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, json_string_value(json_object_get(o,
		    "name")), -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(lp, served_row_json(st));
		json_object_set_new(o, "last_probe", lp);
	}
	sqlite3_finalize(st);
}

/* ---- life cycle -------------------------------------------------------- */

struct served *
served_new(uv_loop_t *loop, struct inventory *inv, struct config *cf,
    struct renewer *r, struct alert *a, void (*changed)(void *), void *arg)
{
	struct served	*s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->inv = inv;
	s->cf = conf_ref(cf);
	s->r = r;
	s->a = a;
	s->changed = changed;
	s->changed_arg = arg;
	s->kicks = json_array();
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	uv_mutex_init(&s->mu);
	uv_async_init(loop, &s->async, served_drain);
	s->async.data = s;
	if (worker_init(&s->worker, loop) == 0)
		s->worker_up = 1;
	else	/* then nothing is probed; verify probes are still stored */
		log_error("served: no probe threads: the watch is off");
	s->dirty = 1;
	served_arm(s);
	return s;
}

void
served_set_config(struct served *s, struct config *cf)
{
	conf_unref(s->cf);
	s->cf = conf_ref(cf);
	served_bindings_changed(s);
}

void
served_bindings_changed(struct served *s)
{
	s->dirty = 1;
	served_arm(s);	/* not once stopping */
}

void
served_renewal_ended(struct served *s, const char *path)
{
	size_t		i;

	if (s->stopping || path == NULL)
		return;
	for (i = 0; i < s->nt; i++)
		if (strcmp(s->t[i].cert_file, path) == 0)
			s->t[i].epoch++;
	/* Due once the targets are rebuilt (the binding may be new to
	 * them), outside the renewer's event: served_fire. */
	json_array_append_new(s->kicks, json_string(path));
	s->dirty = 1;
	served_arm(s);
}

void
served_stop(struct served *s)
{
	s->stopping = 1;
	uv_timer_stop(&s->timer);
}

static void
served_final(struct served *s)
{
	struct served_result	*x, *next;
	size_t			 i;

	for (x = s->reports; x != NULL; x = next) {
		next = x->next;
		served_result_free(x);
	}
	for (i = 0; i < s->nt; i++) {
		free(s->t[i].binding);
		free(s->t[i].endpoint);
		free(s->t[i].cert_file);
	}
	free(s->t);
	json_decref(s->kicks);
	uv_mutex_destroy(&s->mu);
	conf_unref(s->cf);
	s->close_cb(s->close_arg);
	free(s);
}

static void
served_handle_closed(uv_handle_t *h)
{
	struct served	*s = h->data;

	if (--s->handles == 0)
		served_final(s);
}

static void
served_worker_closed(struct worker *w)
{
	struct served	*s = (struct served *)(void *)((char *)w -
	    offsetof(struct served, worker));

	if (--s->handles == 0)
		served_final(s);
}

void
served_close(struct served *s, void (*cb)(void *), void *arg)
{
	served_stop(s);
	s->close_cb = cb;
	s->close_arg = arg;
	s->handles = s->worker_up ? 3 : 2;
	uv_close((uv_handle_t *)&s->timer, served_handle_closed);
	uv_close((uv_handle_t *)&s->async, served_handle_closed);
	if (s->worker_up)
		worker_close(&s->worker, served_worker_closed);
}
