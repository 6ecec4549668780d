#include "config.h"

#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "alert.h"
#include "log.h"
#include "proto.h"
#include "timeutil.h"
#include "xmalloc.h"

#define ALERT_MAX_RUNS		4	/* alert_command processes at once */
#define ALERT_MAX_DELAY		3600	/* re-check at least hourly (s) */
#define ALERT_RETRY_CAP		3600	/* backoff ceiling (s) */
#define ALERT_KICK_MS		50	/* coalesce bursts of changes */
#define ALERT_BATCH		100	/* certificates per loop turn */
#define ALERT_TRIM_AFTER	10	/* full batches before a malloc_trim */
#define ALERT_RUNNING		INT64_MAX	/* next_attempt while running */

/* One alert_command process, its stdin pipe and its timeout. */
struct alert_run {
	uv_process_t	 proc;
	uv_pipe_t	 in;
	uv_timer_t	 timer;
	uv_write_t	 wreq;
	struct alert	*a;
	int64_t		 qid;
	int64_t		 attempts;
	char		*payload;
	int		 handles;
	int64_t		 status;
	int		 signal;
	int		 timed_out;
	int		 spawn_error;
};

/* Statements run once per certificate evaluated: prepared once (issue 16:
 * preparing them per certificate was 7.6% of a scan's loop thread). */
enum alert_st {
	AST_SENT,
	AST_CLEAR,
	AST_PASSED,
	AST__COUNT
};

static const char *alert_sql[AST__COUNT] = {
	[AST_SENT] = "INSERT OR IGNORE INTO alerts_sent(sha1, threshold, time,"
	    " sent) VALUES(?1, ?2, ?3, 1)",
	[AST_CLEAR] = "DELETE FROM alerts_sent WHERE sha1 = ?1"
	    " AND threshold = 'invalid'",
	[AST_PASSED] = "INSERT OR IGNORE INTO alerts_sent(sha1, threshold,"
	    " time, sent) VALUES(?1, ?2, ?3, 0)",
};

struct alert {
	uv_loop_t		*loop;
	sqlite3_stmt		*st[AST__COUNT];
	struct inventory	*inv;
	struct config		*cf;
	uv_timer_t		 deadline;
	uv_timer_t		 kick;
	uv_timer_t		 retry;
	int			 nruns;
	int64_t			 failures;
	/*
	 * status and metrics read these on every request: kept here, not
	 * counted in SQL each time (alerts_sent grows with the fleet).
	 */
	json_t			*counts;	/* threshold -> alerts sent */
	int64_t			 sent_total;
	int64_t			 queued;	/* rows in alert_queue */
	int			 closing;
	int			 backlog;	/* full batches in a row */
	int			 handles;
	void			(*close_cb)(void *);
	void			*close_arg;
};

static void	alert_queue_run(struct alert *);
static sqlite3 *alert_db(struct alert *);

/* The statement which, reset, prepared on first use; NULL on error. */
static sqlite3_stmt *
alert_stmt(struct alert *a, enum alert_st which)
{
	if (a->st[which] == NULL && sqlite3_prepare_v3(alert_db(a),
	    alert_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &a->st[which],
	    NULL) != SQLITE_OK) {
		a->st[which] = NULL;
		return NULL;
	}
	sqlite3_reset(a->st[which]);
	sqlite3_clear_bindings(a->st[which]);
	return a->st[which];
}
static void	alert_final(struct alert *);
static void	alert_load_counts(struct alert *);

char *
alert_threshold_label(int64_t s, char *buf, size_t len)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
	return buf;
}

static sqlite3 *
alert_db(struct alert *a)
{
	return inventory_db(a->inv);
}

/*
 * Supersession (issue 13 item 11) follows what is deployed, then the order
 * of issuance.  A certificate a binding names (bindings.certhash, read
 * here as a report: see HACKING) is live and never superseded.  The
 * copies a renewal moved aside (FILE.certvigil-ID, ID a renewal of the
 * journal: binding_aside_path) are never live: they supersede nothing,
 * and a certificate found only in them is superseded (history, like the
 * store; a file the renewal ends up serving is scanned under its own
 * name).  Otherwise a certificate is superseded by one of the same
 * subject and SANs in a live file that a binding names, or that was
 * issued later (notBefore; the later notAfter on a tie) -- not merely one
 * that expires later: a renewal by an issuer with days = 90 replaces a
 * 397-day certificate.
 */
#define ALERT_ASIDE(f)							\
	"EXISTS (SELECT 1 FROM renewals r WHERE substr(" f ".path,"	\
	" -length('.certvigil-' || r.id)) = '.certvigil-' || r.id)"
#define ALERT_SUPERSEDED						\
	" (NOT EXISTS (SELECT 1 FROM bindings b"			\
	"   WHERE b.certhash = lower(hex(c.sha1)))"			\
	" AND ((EXISTS (SELECT 1 FROM sources s4 JOIN files f4"		\
	"   ON f4.id = s4.file_id WHERE s4.cert = c.id AND f4.gone = 0)"	\
	"   AND NOT EXISTS (SELECT 1 FROM sources s3 JOIN files f3"	\
	"   ON f3.id = s3.file_id WHERE s3.cert = c.id AND f3.gone = 0"	\
	"   AND NOT " ALERT_ASIDE("f3") "))"				\
	" OR EXISTS (SELECT 1 FROM certs c2 JOIN sources s2"		\
	"   ON s2.cert = c2.id JOIN files f2 ON f2.id = s2.file_id"	\
	"   WHERE c2.subject = c.subject AND c2.san = c.san"		\
	"   AND c2.id <> c.id AND f2.gone = 0"				\
	"   AND NOT " ALERT_ASIDE("f2")					\
	"   AND (EXISTS (SELECT 1 FROM bindings b2"			\
	"     WHERE b2.certhash = lower(hex(c2.sha1)))"			\
	"     OR c2.not_before > c.not_before"				\
	"     OR (c2.not_before = c.not_before"				\
	"     AND c2.not_after > c.not_after)))))"

/* What the evaluation needs to know of one certificate. */
struct alert_cert {
	const char	*sha1, *subject, *paths, *watch;
	const char	*drift_path;	/* the pinned path that drifted */
	int64_t		 nb, na;
	int		 invalid, superseded, drift;
	int		 crl;	/* a CRL: na is its nextUpdate, subject its
				 * issuer, paths its file (issue 13) */
};

/*
 * Records and sends one alert unless this (certificate, kind) was sent
 * before.  kind: a threshold label ("14d"), "expired", "not_yet_valid",
 * "invalid" or "drift".
 */
/* The alert's event name (expiring, expired, crl_stale, ...) and its
 * one-line message for the log, the event and alert_command. */
static const char *
alert_message(const struct alert_cert *c, const char *kind, const char *na,
    int64_t days, char *msg, size_t len)
{
	const char	*event;

	event = strchr("0123456789", kind[0]) != NULL ? "expiring" : kind;
	if (c->crl) {
		/* A stale CRL fails mTLS like an expired certificate. */
		if (strcmp(kind, "expired") == 0) {
			snprintf(msg, len, "the CRL of %s is STALE: its "
			    "nextUpdate %s has passed", c->subject, na);
			return "crl_stale";
		}
		snprintf(msg, len, "the CRL of %s needs its next update in "
		    "%lld days (%s), within the %s threshold", c->subject,
		    (long long)days, na, kind);
		return "crl_expiring";
	}
	if (strcmp(event, "expiring") == 0)
		snprintf(msg, len, "%s expires in %lld days (%s), within the "
		    "%s threshold", c->subject, (long long)days, na, kind);
	else if (strcmp(event, "expired") == 0)
		snprintf(msg, len, "%s EXPIRED %s", c->subject, na);
	else if (strcmp(event, "not_yet_valid") == 0)
		snprintf(msg, len, "%s is not valid yet", c->subject);
	else if (strcmp(event, "drift") == 0)
		snprintf(msg, len, "%s is deployed at %s, where another "
		    "thumbprint is pinned (expect_sha1)", c->subject,
		    c->drift_path ? c->drift_path : "a pinned path");
	else
		snprintf(msg, len, "%s is invalid: a file holding it no longer "
		    "parses or its key does not match", c->subject);
	return event;
}

/* One alert_command run, its payload j (taken), queued (persisted). */
static void
alert_enqueue_json(struct alert *a, json_t *j, time_t now)
{
	static const char q[] = "INSERT INTO alert_queue(payload,"
	    " next_attempt) VALUES(?1, ?2)";
	sqlite3_stmt	*st;
	char		*payload;

	payload = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (sqlite3_prepare_v2(alert_db(a), q, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, payload, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)now);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_error("alert queue: %s",
			    sqlite3_errmsg(alert_db(a)));
		else
			a->queued++;
		sqlite3_finalize(st);
	}
	free(payload);
}

/* One alert_command run for the alert, queued (persisted) for the runner. */
static void
alert_enqueue(struct alert *a, const struct alert_cert *c, const char *event,
    const char *kind, const char *na, int64_t days, const char *msg,
    time_t now)
{
	/* subject, paths and msg are anyone's bytes (proto_string). */
	alert_enqueue_json(a, json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:o,"
	    " s:o}", "event", event, "threshold", kind, "sha1", c->sha1,
	    "subject", proto_string(c->subject), "not_after", na,
	    "days_left", (json_int_t)days, "paths", proto_string(c->paths),
	    "message", proto_string(msg)), now);
}

/*
 * Issue 15: the events of the renewal engine that need a person.  Each
 * goes to alert_command as it happens, with CERTVIGIL_EVENT naming it;
 * certificate alerts are alert_send's, and the served watch's
 * (served_drift, mtls_not_enforced and their _resolved) alert_notify's,
 * which knows the binding and the endpoint -- one path per kind, so no
 * event reaches alert_command twice.
 */
static const char *const alert_event_kinds[] = {
	"renewal_failed",	/* failed (also before a rollback) */
	"rolled_back",		/* serving the previous certificate again */
	"rollback_failed",	/* a rollback step failed; retried */
	"renewal_overdue",	/* the issuer has not answered in alert_after */
	"renewal_emergency",	/* renewing outside the window, now */
	"window_unreachable",	/* the window never opens before expiry */
};

int
alert_event_kind(const char *kind)
{
	size_t	i;

	for (i = 0; kind != NULL && i < sizeof(alert_event_kinds) /
	    sizeof(alert_event_kinds[0]); i++)
		if (strcmp(kind, alert_event_kinds[i]) == 0)
			return 1;
	return 0;
}

void
alert_event(struct alert *a, json_t *ev)
{
	const char	*kind = json_string_value(json_object_get(ev, "kind"));
	const char	*sha1 = json_string_value(json_object_get(ev, "sha1"));
	const char	*path = json_string_value(json_object_get(ev, "path"));
	const char	*msg = json_string_value(json_object_get(ev,
			    "message"));

	if (a->closing || !alert_event_kind(kind))
		return;
	log_msgid(LOG_LVL_WARN, "certvigil-alert", "%s %s %s: %s", kind,
	    sha1 ? sha1 : "-", path ? path : "-", msg ? msg : "");
	if (a->cf->alert_command == NULL)
		return;
	alert_enqueue_json(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:s}", "event", kind, "threshold", "", "sha1", sha1 ? sha1 : "",
	    "subject", "", "not_after", "", "paths", path ? path : "",
	    "message", msg ? msg : ""), timeutil_now());
	alert_queue_run(a);
}

static void
alert_send(struct alert *a, const struct alert_cert *c, const char *kind,
    time_t now)
{
	sqlite3_stmt	*st;
	char		 na[TIMEUTIL_RFC3339_LEN], msg[512], *first;
	const char	*event;
	int64_t		 days = timeutil_days_left((time_t)c->na, now);

	if ((st = alert_stmt(a, AST_SENT)) == NULL)
		return;
	sqlite3_bind_text(st, 1, c->sha1, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	sqlite3_step(st);
	sqlite3_reset(st);
	if (sqlite3_changes(alert_db(a)) == 0)
		return;		/* sent before */
	json_object_set_new(a->counts, kind, json_integer(json_integer_value(
	    json_object_get(a->counts, kind)) + 1));
	a->sent_total++;
	timeutil_rfc3339((time_t)c->na, na, sizeof(na));
	event = alert_message(c, kind, na, days, msg, sizeof(msg));
	/* A drift happened at the pinned path, not at the first one. */
	if (strcmp(event, "drift") == 0 && c->drift_path != NULL)
		first = xstrdup(c->drift_path);
	else
		first = xstrndup(c->paths, strcspn(c->paths, ":"));
	/* A stable message id, so log-based monitoring can match it. */
	log_msgid(LOG_LVL_WARN, "certvigil-alert", "%s %s %s: %s", event,
	    c->sha1, first, msg);
	inventory_add_event(a->inv, now, "alert", first, c->sha1, "%s: %s",
	    kind, msg);
	free(first);
	if (a->cf->alert_command != NULL)
		alert_enqueue(a, c, event, kind, na, days, msg, now);
}

static const int64_t *
alert_thresholds(struct alert *a, const char *watch, size_t *n)
{
	size_t	i;

	for (i = 0; watch != NULL && i < a->cf->nwatches; i++) {
		if (strcmp(a->cf->watches[i].name, watch) == 0 &&
		    a->cf->watches[i].alert_before != NULL) {
			*n = a->cf->watches[i].nalert_before;
			return a->cf->watches[i].alert_before;
		}
	}
	*n = a->cf->nalert_before;
	return a->cf->alert_before;
}

/*
 * Evaluates one certificate: sends what is due and returns when it must
 * be looked at again (0: never).
 */
static int64_t
alert_eval_one(struct alert *a, const struct alert_cert *c, time_t now)
{
	const int64_t	*t;
	sqlite3_stmt	*st;
	char		 label[32];
	int64_t		 next = 0, left = c->na - (int64_t)now;
	size_t		 n, i, smallest = (size_t)-1;

	if (c->invalid)
		alert_send(a, c, "invalid", now);
	else if ((st = alert_stmt(a, AST_CLEAR)) != NULL) {
		/* Valid again: a later breakage alerts again. */
		sqlite3_bind_text(st, 1, c->sha1, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	if (c->drift)
		alert_send(a, c, "drift", now);
	if ((int64_t)now < c->nb) {
		alert_send(a, c, "not_yet_valid", now);
		return c->nb;
	}
	if (left <= 0) {
		alert_send(a, c, "expired", now);
		return 0;
	}
	t = alert_thresholds(a, c->watch, &n);
	for (i = 0; i < n; i++) {
		if (left <= t[i])
			smallest = i;	/* descending: the last one crossed */
		else if (next == 0 || c->na - t[i] < next)
			next = c->na - t[i];
	}
	if (next == 0 || c->na < next)
		next = c->na;
	if (smallest == (size_t)-1)
		return next;
	/*
	 * Only the most urgent threshold crossed is sent; the larger ones
	 * are recorded as passed, so a restart or a clock jump never sends
	 * a burst of stale alerts.
	 */
	alert_send(a, c, alert_threshold_label(t[smallest], label,
	    sizeof(label)), now);
	if ((st = alert_stmt(a, AST_PASSED)) == NULL)
		return next;
	for (i = 0; i < smallest; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, c->sha1, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, alert_threshold_label(t[i], label,
		    sizeof(label)), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (int64_t)now);
		sqlite3_step(st);
	}
	sqlite3_reset(st);
	return next;
}

static void	alert_deadline_fire(uv_timer_t *);

/* Evaluates every certificate marked or due, then re-arms the timer. */
/* Evaluates the marked or due certificates in one transaction; how many. */
static int
alert_evaluate_due(struct alert *a, time_t now)
{
	static const char due[] = "SELECT lower(hex(c.sha1)), c.subject,"
	    " c.not_before,"
	    " c.not_after,"
	    " (SELECT group_concat(path, ':') FROM (SELECT f.path FROM sources s"
	    "   JOIN files f ON f.id = s.file_id WHERE s.cert = c.id"
	    "   AND f.gone = 0 ORDER BY f.path)),"
	    " (SELECT max(f.error IS NOT NULL OR coalesce(s.key_matches, 1) = 0)"
	    "   FROM sources s JOIN files f ON f.id = s.file_id"
	    "   WHERE s.cert = c.id AND f.gone = 0),"
	    ALERT_SUPERSEDED ","
	    " (SELECT f.watch FROM sources s JOIN files f ON f.id = s.file_id"
	    "   WHERE s.cert = c.id AND f.gone = 0 ORDER BY f.path LIMIT 1),"
	    " (SELECT count(*) FROM sources s JOIN files f ON f.id = s.file_id"
	    "   WHERE s.cert = c.id AND f.gone = 0 AND f.drift IS NOT NULL),"
	    " (SELECT f.path FROM sources s JOIN files f ON f.id = s.file_id"
	    "   WHERE s.cert = c.id AND f.gone = 0 AND f.drift IS NOT NULL"
	    "   ORDER BY f.path LIMIT 1), c.id"
	    " FROM certs c WHERE c.next_alert IS NOT NULL AND c.next_alert <= ?1"
	    " LIMIT ?2";
	static const char upd[] = "UPDATE certs SET next_alert = ?2,"
	    " superseded = ?3 WHERE id = ?1";
	static const char drop[] = "DELETE FROM alert_queue WHERE"
	    " json_extract(payload, '$.sha1') = ?1";
	sqlite3_stmt	*st, *up, *dq;
	struct alert_cert c;
	int64_t		 next;
	int		 n = 0;

	if (sqlite3_prepare_v2(alert_db(a), due, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(alert_db(a), upd, -1, &up, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(alert_db(a), drop, -1, &dq, NULL) != SQLITE_OK) {
		log_error("alerts: %s", sqlite3_errmsg(alert_db(a)));
		return 0;
	}
	inventory_begin(a->inv);
	sqlite3_bind_int64(st, 1, (int64_t)now);
	sqlite3_bind_int(st, 2, ALERT_BATCH);
	while (sqlite3_step(st) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.sha1 = (const char *)sqlite3_column_text(st, 0);
		c.subject = (const char *)sqlite3_column_text(st, 1);
		c.nb = sqlite3_column_int64(st, 2);
		c.na = sqlite3_column_int64(st, 3);
		c.paths = (const char *)sqlite3_column_text(st, 4);
		c.invalid = sqlite3_column_int(st, 5);
		c.superseded = sqlite3_column_int(st, 6);
		c.watch = (const char *)sqlite3_column_text(st, 7);
		c.drift = sqlite3_column_int(st, 8) > 0;
		c.drift_path = (const char *)sqlite3_column_text(st, 9);
		next = 0;
		if (c.paths != NULL && !c.superseded)
			next = alert_eval_one(a, &c, now);
		else if (c.superseded) {
			/* Replaced: its pending alert runs are dropped. */
			sqlite3_reset(dq);
			sqlite3_bind_text(dq, 1, c.sha1, -1, SQLITE_STATIC);
			sqlite3_step(dq);
			a->queued -= sqlite3_changes(alert_db(a));
		}
		sqlite3_reset(up);
		sqlite3_bind_int64(up, 1, sqlite3_column_int64(st, 10));
		if (next > 0)
			sqlite3_bind_int64(up, 2, next);
		else
			sqlite3_bind_null(up, 2);
		sqlite3_bind_int(up, 3, c.superseded);
		sqlite3_step(up);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	sqlite3_finalize(dq);
	inventory_commit(a->inv);
	return n;
}

/*
 * The CRLs due (issue 13 item 7): nextUpdate goes through the certificate
 * path, thresholds and alerts_sent (keyed by the CRL's SHA-1) included.
 */
static int
alert_evaluate_crls(struct alert *a, time_t now)
{
	static const char due[] = "SELECT path, idx, sha1, issuer,"
	    " next_update, watch FROM crls"
	    " WHERE next_alert IS NOT NULL AND next_alert <= ?1";
	static const char upd[] = "UPDATE crls SET next_alert = ?3"
	    " WHERE path = ?1 AND idx = ?2";
	sqlite3_stmt	*st, *up;
	struct alert_cert c;
	int64_t		 next;
	int		 n = 0;

	if (sqlite3_prepare_v2(alert_db(a), due, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(alert_db(a), upd, -1, &up, NULL) != SQLITE_OK) {
		log_error("alerts: %s", sqlite3_errmsg(alert_db(a)));
		return 0;
	}
	inventory_begin(a->inv);
	sqlite3_bind_int64(st, 1, (int64_t)now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.crl = 1;
		c.paths = (const char *)sqlite3_column_text(st, 0);
		c.sha1 = (const char *)sqlite3_column_text(st, 2);
		c.subject = (const char *)sqlite3_column_text(st, 3);
		c.na = sqlite3_column_int64(st, 4);
		c.watch = (const char *)sqlite3_column_text(st, 5);
		/* No nextUpdate: nothing ever falls due. */
		next = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 :
		    alert_eval_one(a, &c, now);
		sqlite3_reset(up);
		sqlite3_bind_value(up, 1, sqlite3_column_value(st, 0));
		sqlite3_bind_int(up, 2, sqlite3_column_int(st, 1));
		if (next > 0)
			sqlite3_bind_int64(up, 3, next);
		else
			sqlite3_bind_null(up, 3);
		sqlite3_step(up);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	inventory_commit(a->inv);
	return n;
}

/* One timer, at the next deadline of any certificate. */
static void
alert_arm(struct alert *a)
{
	static const char min[] = "SELECT min(m) FROM (SELECT min(next_alert)"
	    " m FROM certs UNION ALL SELECT min(next_alert) FROM crls)";
	sqlite3_stmt	*st;
	int64_t		 next = 0, delay;

	if (sqlite3_prepare_v2(alert_db(a), min, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL)
			next = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (next == 0) {
		uv_timer_stop(&a->deadline);
		return;
	}
	/*
	 * uv timers are monotonic and do not count suspend: capping the
	 * delay means a resume or a wall-clock jump is noticed within the
	 * hour, and re-evaluated as one state, never as a burst.
	 */
	delay = next - (int64_t)timeutil_now();
	if (delay < 0)
		delay = 0;
	if (delay > ALERT_MAX_DELAY)
		delay = ALERT_MAX_DELAY;
	uv_timer_start(&a->deadline, alert_deadline_fire,
	    (uint64_t)delay * 1000 + 1, 0);
}

static void	alert_kick_fire(uv_timer_t *);

static void
alert_evaluate(struct alert *a)
{
	int	n, ncrl;

	if (a->closing)
		return;
	n = alert_evaluate_due(a, timeutil_now());
	ncrl = alert_evaluate_crls(a, timeutil_now());
	if (n + ncrl > 0)
		log_debug("alerts: %d certificates, %d CRLs evaluated", n,
		    ncrl);
	/*
	 * A full scan marks every certificate: a batch per loop turn keeps
	 * status and the socket answering in between (10,000 at once held
	 * the loop ~170 ms).  1 ms, not 0: libuv 1.44 would run a timer
	 * restarted at 0 again in the same turn.
	 */
	if (n == ALERT_BATCH) {
		a->backlog++;
		uv_timer_start(&a->kick, alert_kick_fire, 1, 0);
		return;
	}
	/* After a full scan's catch-up (100,000 certificates: 30-60 s of
	 * batches) the heap is returned, as the scan returns its own
	 * (issue 16: 120 s after a 100k scan, RSS 34.5 -> 31.6 MiB). */
	if (a->backlog >= ALERT_TRIM_AFTER)
		malloc_trim(0);
	a->backlog = 0;
	alert_queue_run(a);
	alert_arm(a);
}

static void
alert_deadline_fire(uv_timer_t *t)
{
	alert_evaluate(t->data);
}

static void
alert_kick_fire(uv_timer_t *t)
{
	alert_evaluate(t->data);
}

void
alert_kick(struct alert *a)
{
	if (!a->closing && !uv_is_active((uv_handle_t *)&a->kick))
		uv_timer_start(&a->kick, alert_kick_fire, ALERT_KICK_MS, 0);
}

/* ---- alert_command ---------------------------------------------------- */

static void
alert_run_closed(uv_handle_t *h)
{
	struct alert_run	*r = h->data;
	struct alert		*a = r->a;
	sqlite3_stmt		*st;
	time_t			 now = timeutil_now();
	int64_t			 backoff;
	char			 why[128];
	json_t			*j;

	if (--r->handles > 0)
		return;
	a->nruns--;
	if (r->status == 0 && !r->timed_out && r->signal == 0 &&
	    !r->spawn_error) {
		if (sqlite3_prepare_v2(alert_db(a), "DELETE FROM alert_queue"
		    " WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, r->qid);
			if (sqlite3_step(st) == SQLITE_DONE &&
			    sqlite3_changes(alert_db(a)) > 0)
				a->queued--;
			sqlite3_finalize(st);
		}
	} else {
		if (r->spawn_error)
			snprintf(why, sizeof(why), "cannot run %s: %s",
			    a->cf->alert_command ? a->cf->alert_command[0] : "?",
			    uv_strerror(r->spawn_error));
		else if (r->timed_out)
			snprintf(why, sizeof(why), "killed after %llds",
			    (long long)a->cf->alert_timeout);
		else if (r->signal)
			snprintf(why, sizeof(why), "killed by signal %d",
			    r->signal);
		else
			snprintf(why, sizeof(why), "exit status %lld",
			    (long long)r->status);
		a->failures++;
		/* Doubling from alert_retry, capped, with 10% jitter. */
		backoff = a->cf->alert_retry << (r->attempts < 12 ?
		    r->attempts : 12);
		if (backoff > ALERT_RETRY_CAP)
			backoff = ALERT_RETRY_CAP;
		backoff += (int64_t)(random() % (backoff / 10 + 1));
		if (sqlite3_prepare_v2(alert_db(a), "UPDATE alert_queue SET"
		    " attempts = attempts + 1, next_attempt = ?2,"
		    " last_error = ?3 WHERE id = ?1", -1, &st, NULL)
		    == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, r->qid);
			sqlite3_bind_int64(st, 2, (int64_t)now + backoff);
			sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		log_warn("alert_command failed (%s); retry %lld in %llds", why,
		    (long long)r->attempts + 1, (long long)backoff);
		j = json_loads(r->payload, 0, NULL);
		inventory_add_event(a->inv, now, "alert_failed", NULL,
		    json_string_value(json_object_get(j, "sha1")),
		    "alert_command failed (%s); retry in %llds", why,
		    (long long)backoff);
		json_decref(j);
	}
	free(r->payload);
	free(r);
	if (a->closing) {
		if (a->nruns == 0 && a->handles == 0)
			alert_final(a);
		return;
	}
	alert_queue_run(a);
}

static void
alert_run_exit(uv_process_t *p, int64_t status, int sig)
{
	struct alert_run	*r = p->data;

	r->status = status;
	r->signal = sig;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, alert_run_closed);
	uv_close((uv_handle_t *)&r->proc, alert_run_closed);
}

static void
alert_run_timeout(uv_timer_t *t)
{
	struct alert_run	*r = t->data;

	r->timed_out = 1;
	uv_process_kill(&r->proc, SIGKILL);
}

static void
alert_run_written(uv_write_t *w, int status)
{
	struct alert_run	*r = w->data;

	(void)status;
	/* EOF on the command's stdin. */
	uv_close((uv_handle_t *)&r->in, alert_run_closed);
}

static char *
alert_env(const char *key, json_t *j, const char *field)
{
	json_t	*v = json_object_get(j, field);
	char	*s;

	if (json_is_integer(v))
		xasprintf(&s, "%s=%lld", key, (long long)json_integer_value(v));
	else
		xasprintf(&s, "%s=%s", key, json_string_value(v) ?
		    json_string_value(v) : "");
	return s;
}

static void
alert_run_start(struct alert *a, int64_t qid, int64_t attempts,
    const char *payload)
{
	uv_process_options_t	 o;
	uv_stdio_container_t	 io[3];
	struct alert_run	*r = xcalloc(1, sizeof(*r));
	json_t			*j = json_loads(payload, 0, NULL);
	char			*env[12], *line;
	uv_buf_t		 b;
	int			 rc, i;

	r->a = a;
	r->qid = qid;
	r->attempts = attempts;
	r->payload = xstrdup(payload);
	env[0] = alert_env("CERTVIGIL_EVENT", j, "event");
	env[1] = alert_env("CERTVIGIL_THRESHOLD", j, "threshold");
	env[2] = alert_env("CERTVIGIL_SHA1", j, "sha1");
	env[3] = alert_env("CERTVIGIL_SUBJECT", j, "subject");
	env[4] = alert_env("CERTVIGIL_NOT_AFTER", j, "not_after");
	env[5] = alert_env("CERTVIGIL_DAYS_LEFT", j, "days_left");
	env[6] = alert_env("CERTVIGIL_PATHS", j, "paths");
	env[7] = alert_env("CERTVIGIL_MESSAGE", j, "message");
	env[8] = xstrdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	env[9] = NULL;
	env[10] = NULL;
	env[11] = NULL;
	/* issue 15: alerts about a binding's endpoint */
	if (json_object_get(j, "binding") != NULL) {
		env[9] = alert_env("CERTVIGIL_BINDING", j, "binding");
		env[10] = alert_env("CERTVIGIL_ENDPOINT", j, "endpoint");
	}
	json_decref(j);
	memset(&o, 0, sizeof(o));
	o.file = a->cf->alert_command[0];
	o.args = a->cf->alert_command;
	o.env = env;
	o.exit_cb = alert_run_exit;
	io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	io[0].data.stream = (uv_stream_t *)&r->in;
	io[1].flags = UV_INHERIT_FD;
	io[1].data.fd = 2;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	o.stdio = io;
	o.stdio_count = 3;
	uv_pipe_init(a->loop, &r->in, 0);
	r->in.data = r->proc.data = r;
	a->nruns++;
	rc = uv_spawn(a->loop, &r->proc, &o);
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	if (rc != 0) {
		r->spawn_error = rc;
		r->handles = 2;
		uv_close((uv_handle_t *)&r->proc, alert_run_closed);
		uv_close((uv_handle_t *)&r->in, alert_run_closed);
		return;
	}
	r->handles = 3;
	uv_timer_init(a->loop, &r->timer);
	r->timer.data = r;
	uv_timer_start(&r->timer, alert_run_timeout,
	    (uint64_t)a->cf->alert_timeout * 1000, 0);
	/* The alert as one JSON object on stdin. */
	xasprintf(&line, "%s\n", payload);
	b = uv_buf_init(line, (unsigned)strlen(line));
	r->wreq.data = r;
	if (uv_try_write((uv_stream_t *)&r->in, &b, 1) == (int)b.len)
		uv_close((uv_handle_t *)&r->in, alert_run_closed);
	else if (uv_write(&r->wreq, (uv_stream_t *)&r->in, &b, 1,
	    alert_run_written) != 0)
		uv_close((uv_handle_t *)&r->in, alert_run_closed);
	free(line);
}

static void
alert_retry_fire(uv_timer_t *t)
{
	alert_queue_run(t->data);
}

/* Starts due alert_command runs; arms the retry timer for the rest. */
static void
alert_queue_run(struct alert *a)
{
	static const char sql[] = "SELECT id, attempts, payload, next_attempt"
	    " FROM alert_queue ORDER BY next_attempt, id";
	sqlite3_stmt	*st, *u;
	int64_t		 now = (int64_t)timeutil_now(), next = 0, at, id;

	if (a->closing || a->cf->alert_command == NULL)
		return;
	if (sqlite3_prepare_v2(alert_db(a), sql, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		at = sqlite3_column_int64(st, 3);
		if (at > now) {
			next = at;
			break;
		}
		if (a->nruns >= ALERT_MAX_RUNS)
			break;
		id = sqlite3_column_int64(st, 0);
		alert_run_start(a, id, sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
		/*
		 * In flight: parked at ALERT_RUNNING until it ends.  A crash
		 * leaves it there; alert_new() puts such runs back in line.
		 */
		if (sqlite3_prepare_v2(alert_db(a), "UPDATE alert_queue SET"
		    " next_attempt = ?2 WHERE id = ?1", -1, &u, NULL) ==
		    SQLITE_OK) {
			sqlite3_bind_int64(u, 1, id);
			sqlite3_bind_int64(u, 2, ALERT_RUNNING);
			sqlite3_step(u);
			sqlite3_finalize(u);
		}
	}
	sqlite3_finalize(st);
	if (next > 0 && next != ALERT_RUNNING)
		uv_timer_start(&a->retry, alert_retry_fire,
		    (uint64_t)(next - now) * 1000, 0);
}

/* ---- life cycle -------------------------------------------------------- */

static void
alert_final(struct alert *a)
{
	void	(*cb)(void *) = a->close_cb;
	void	*arg = a->close_arg;
	int	 i;

	for (i = 0; i < AST__COUNT; i++)
		sqlite3_finalize(a->st[i]);
	conf_unref(a->cf);
	json_decref(a->counts);
	free(a);
	cb(arg);
}

static void
alert_handle_closed(uv_handle_t *h)
{
	struct alert	*a = h->data;

	/* Runs in flight finish (or time out) first: work in hand. */
	if (--a->handles == 0 && a->nruns == 0)
		alert_final(a);
}

struct alert *
alert_new(uv_loop_t *loop, struct inventory *inv, struct config *cf)
{
	struct alert	*a = xcalloc(1, sizeof(*a));
	sqlite3_stmt	*st;

	a->loop = loop;
	a->inv = inv;
	a->cf = conf_ref(cf);
	uv_timer_init(loop, &a->deadline);
	uv_timer_init(loop, &a->kick);
	uv_timer_init(loop, &a->retry);
	a->deadline.data = a->kick.data = a->retry.data = a;
	/* Runs a crash interrupted are due again. */
	if (sqlite3_prepare_v2(alert_db(a), "UPDATE alert_queue SET"
	    " next_attempt = ?1 WHERE next_attempt = ?2", -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (int64_t)timeutil_now());
		sqlite3_bind_int64(st, 2, ALERT_RUNNING);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	alert_load_counts(a);
	return a;
}

void
alert_set_config(struct alert *a, struct config *cf)
{
	conf_unref(a->cf);
	a->cf = conf_ref(cf);
	/* Thresholds may have changed: look at everything again. */
	sqlite3_exec(alert_db(a), "UPDATE certs SET next_alert = 0;"
	    "UPDATE crls SET next_alert = 0", NULL, NULL, NULL);
	alert_kick(a);
}

void
alert_get_stats(struct alert *a, struct alert_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->command_failures = a->failures;
	s->queued = a->queued;
}

int64_t
alert_sent_total(struct alert *a)
{
	return a->sent_total;
}

json_t *
alert_counts(struct alert *a)
{
	return json_deep_copy(a->counts);
}

/* Loads the counters once, at start. */
static void
alert_load_counts(struct alert *a)
{
	sqlite3_stmt	*st;

	a->counts = json_object();
	if (sqlite3_prepare_v2(alert_db(a), "SELECT threshold, count(*) FROM"
	    " alerts_sent WHERE sent = 1 GROUP BY threshold ORDER BY"
	    " threshold", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(a->counts,
			    (const char *)sqlite3_column_text(st, 0),
			    json_integer(sqlite3_column_int64(st, 1)));
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(alert_db(a), "SELECT count(*) FROM alert_queue",
	    -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			a->queued = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
}

void
alert_close(struct alert *a, void (*cb)(void *), void *arg)
{
	a->closing = 1;
	a->close_cb = cb;
	a->close_arg = arg;
	a->handles = 3;
	uv_close((uv_handle_t *)&a->deadline, alert_handle_closed);
	uv_close((uv_handle_t *)&a->kick, alert_handle_closed);
	uv_close((uv_handle_t *)&a->retry, alert_handle_closed);
}

/* ---- alerts about a binding's endpoint (issue 15) ---------------------- */

void
alert_notify(struct alert *a, const char *event, const char *binding,
    const char *endpoint, const char *sha1, time_t na, const char *paths,
    const char *msg)
{
	char		 nas[TIMEUTIL_RFC3339_LEN];
	time_t		 now = timeutil_now();

	json_object_set_new(a->counts, event, json_integer(json_integer_value(
	    json_object_get(a->counts, event)) + 1));
	a->sent_total++;
	log_msgid(LOG_LVL_WARN, "certvigil-alert", "%s %s %s: %s", event,
	    sha1 ? sha1 : "-", endpoint, msg);
	if (a->cf->alert_command == NULL)
		return;
	alert_enqueue_json(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o,"
	    " s:o, s:s, s:s}", "event", event, "threshold", "", "sha1",
	    sha1 ? sha1 : "", "subject", "", "not_after", na ?
	    timeutil_rfc3339(na, nas, sizeof(nas)) : "", "days_left",
	    (json_int_t)(na ? timeutil_days_left(na, now) : 0), "paths",
	    proto_string(paths ? paths : ""), "message", proto_string(msg),
	    "binding", binding, "endpoint", endpoint), now);
	alert_queue_run(a);
}
