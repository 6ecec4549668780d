/*
 * ARI on the loop (issue 17, RFC 9773): which bindings are polled and
 * when, their rows in the inventory's ari table (this file owns it), and
 * what a window does to the schedule (renew_when asks renew_ari_when).
 * The polls themselves (ari.c's ari_fetch: network, files) run on the
 * renewer's worker threads, never here.  Loop thread only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ari.h"
#include "inventory.h"
#include "log.h"
#include "proto.h"
#include "renew_int.h"
#include "schedule.h"
#include "timeutil.h"
#include "xmalloc.h"

struct ari_job {
	struct worker_job	 job;
	struct renewer		*r;
	char			*name, *certhash;
	char			*directory, *ca_file;
	char			*store_path, *cert_file;
	int64_t			 poll;
	time_t			 now;
	struct ari_result	 res;
};

static char *
ari_col(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

void
renew_ari_row_clear(struct renew_ari_row *row)
{
	free(row->explanation_url);
	free(row->last_error);
	free(row->cert_id);
	memset(row, 0, sizeof(*row));
}

/* 0: found; 1: none; -1: the inventory cannot tell. */
int
renew_ari_get(struct renewer *r, const char *name, struct renew_ari_row *row)
{
	static const char	*q = "SELECT certhash, cert_id, window_start, "
	    "window_end, explanation_url, next_poll, last_error, polled "
	    "FROM ari WHERE binding = ?";
	sqlite3_stmt		*st = NULL;
	int			 rc = -1;

	memset(row, 0, sizeof(*row));
	if (sqlite3_prepare_v2(inventory_db(r->inv), q, -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		snprintf(row->certhash, sizeof(row->certhash), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		row->cert_id = ari_col(st, 1);
		row->has_window = sqlite3_column_type(st, 2) != SQLITE_NULL;
		row->start = (time_t)sqlite3_column_int64(st, 2);
		row->end = (time_t)sqlite3_column_int64(st, 3);
		row->explanation_url = ari_col(st, 4);
		row->next_poll = (time_t)sqlite3_column_int64(st, 5);
		row->last_error = ari_col(st, 6);
		row->polled = (time_t)sqlite3_column_int64(st, 7);
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = 1;
		break;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * A poll's result as the binding's row.  A failed poll of the same
 * certificate keeps the window it had (a CA down for an hour does not
 * make certvigil forget what it said), with the error beside it.
 */
static void
renew_ari_put(struct renewer *r, const struct ari_job *j)
{
	static const char	*q = "INSERT OR REPLACE INTO ari(binding, "
	    "certhash, cert_id, window_start, window_end, explanation_url, "
	    "next_poll, last_error, polled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct renew_ari_row	 old;
	const struct ari_result	*res = &j->res;
	sqlite3_stmt		*st = NULL;
	int			 keep;

	keep = !res->has_window && renew_ari_get(r, j->name, &old) == 0 &&
	    strcmp(old.certhash, j->certhash) == 0 && old.has_window;
	if (sqlite3_prepare_v2(inventory_db(r->inv), q, -1, &st, NULL) !=
	    SQLITE_OK) {
		log_error("ari %s: %s", j->name,
		    sqlite3_errmsg(inventory_db(r->inv)));
		goto out;
	}
	sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, j->certhash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, res->cert_id, -1, SQLITE_STATIC);
	if (res->has_window || keep) {
		sqlite3_bind_int64(st, 4, res->has_window ? res->start :
		    old.start);
		sqlite3_bind_int64(st, 5, res->has_window ? res->end :
		    old.end);
		sqlite3_bind_text(st, 6, res->has_window ?
		    res->explanation_url : old.explanation_url, -1,
		    SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(st, 7, (int64_t)j->now + res->retry_s);
	sqlite3_bind_text(st, 8, res->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (int64_t)j->now);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("ari %s: %s", j->name,
		    sqlite3_errmsg(inventory_db(r->inv)));
out:
	sqlite3_finalize(st);
	if (keep)
		renew_ari_row_clear(&old);
}

static void
renew_ari_job_free(struct ari_job *j)
{
	free(j->name);
	free(j->certhash);
	free(j->directory);
	free(j->ca_file);
	free(j->store_path);
	free(j->cert_file);
	ari_result_free(&j->res);
	free(j);
}

/* Worker thread: the certificate as stored (what certvigil issued),
 * else as deployed. */
static void
renew_ari_work(struct worker_job *wj)
{
	struct ari_job	*j = wj->data;
	const char	*path = j->store_path;

	if (access(path, F_OK) == -1 && j->cert_file != NULL)
		path = j->cert_file;
	(void)ari_fetch(j->directory, j->ca_file, path, j->poll, j->now,
	    &j->res);
}

static void
renew_ari_done(struct worker_job *wj)
{
	struct ari_job	*j = wj->data;
	struct renewer	*r = j->r;

	json_object_del(r->ari_busy, j->name);
	if (!r->closing) {
		renew_ari_put(r, j);
		if (j->res.error != NULL)
			log_info("%s: ARI: %s", j->name, j->res.error);
		renew_schedule(r);
	}
	renew_ari_job_free(j);
}

/*
 * Polls b's renewal information now (force) or when its row says; the
 * time of the next poll otherwise (for the timer), 0 when b has no ARI.
 */
time_t
renew_ari_poll(struct renewer *r, const struct binding *b,
    const char *certhash, time_t now, int force)
{
	struct renew_ari_row	 row;
	struct ari_job		*j;
	const char		*dir, *ca;
	int64_t			 poll;
	int			 rc;

	if (b->issuer == NULL || *certhash == '\0' ||
	    !ari_issuer(conf_issuer(r->cf, b->issuer), &dir, &ca, &poll))
		return 0;
	if (r->closing || json_object_get(r->ari_busy, b->name) != NULL)
		return 0;
	/* A next poll further out than any interval was stored while the
	 * clock was ahead (a step back, a VM restore): poll now. */
	rc = renew_ari_get(r, b->name, &row);
	if (rc == 0 && !force && strcmp(row.certhash, certhash) == 0 &&
	    row.next_poll > now && (int64_t)row.next_poll - now <=
	    (poll > ARI_POLL_MAX ? poll : ARI_POLL_MAX)) {
		now = row.next_poll;
		renew_ari_row_clear(&row);
		return now;
	}
	if (rc == 0)
		renew_ari_row_clear(&row);
	/* The renewals' worker (renew.c starts it on first use too). */
	if (!r->worker_up) {
		if (worker_init(&r->worker, r->loop) != 0)
			return 0;
		r->worker_up = 1;
	}
	j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->name = xstrdup(b->name);
	j->certhash = xstrdup(certhash);
	j->directory = xstrdup(dir);
	j->ca_file = ca != NULL ? xstrdup(ca) : NULL;
	j->store_path = store_path(r->store, certhash, STORE_CERT);
	j->cert_file = b->cert_file != NULL ? xstrdup(b->cert_file) : NULL;
	j->poll = poll;
	j->now = now;
	j->job.work = renew_ari_work;
	j->job.done = renew_ari_done;
	j->job.data = j;
	json_object_set_new(r->ari_busy, b->name, json_true());
	worker_run(&r->worker, &j->job);
	return 0;
}

/*
 * The moment ARI sets for b (1), or 0: no window for the certificate it
 * serves (today's policy).  The window ends at notAfter at the latest;
 * *emergency is RENEW_ARI_EMERGENCY when it closes before the next
 * maintenance window opens.
 */
int
renew_ari_when(struct renewer *r, const struct binding *b,
    const char *certhash, time_t na, time_t now, time_t *m, int *emergency)
{
	struct renew_ari_row	 row;
	const char		*dir, *ca;
	int64_t			 poll;
	time_t			 end;
	int			 ok;

	if (b->issuer == NULL ||
	    !ari_issuer(conf_issuer(r->cf, b->issuer), &dir, &ca, &poll) ||
	    renew_ari_get(r, b->name, &row) != 0)
		return 0;
	ok = row.has_window && strcmp(row.certhash, certhash) == 0;
	if (ok) {
		end = row.end < na ? row.end : na;
		*m = sched_ari_moment_in(&b->window, b->zone, row.start, end,
		    now, sched_hash(b->name, certhash), emergency);
		if (*emergency)
			*emergency = RENEW_ARI_EMERGENCY;
	}
	renew_ari_row_clear(&row);
	return ok;
}

/* The explanation URL of b's window (for the emergency's event). */
char *
renew_ari_explanation(struct renewer *r, const char *name)
{
	struct renew_ari_row	 row;
	char			*s = NULL;

	if (renew_ari_get(r, name, &row) != 0)
		return NULL;
	if (row.explanation_url != NULL)
		s = xstrdup(row.explanation_url);
	renew_ari_row_clear(&row);
	return s;
}

static json_t *
renew_ari_time(time_t t, int have)
{
	char	ts[TIMEUTIL_RFC3339_LEN];

	return have ? json_string(timeutil_rfc3339(t, ts, sizeof(ts))) :
	    json_null();
}

/*
 * ari: {window_start, window_end, explanation_url, next_poll,
 * last_error, polled} for a binding with ARI; NULL (the caller writes
 * null) for others.  A row for another certificate than the one served
 * is not shown: its window is not this certificate's.
 */
json_t *
renew_ari_json(struct renewer *r, const struct binding *b,
    const char *certhash)
{
	struct renew_ari_row	 row;
	const char		*dir, *ca;
	int64_t			 poll;
	json_t			*o;
	int			 rc, same;

	if (b->issuer == NULL ||
	    !ari_issuer(conf_issuer(r->cf, b->issuer), &dir, &ca, &poll))
		return NULL;
	rc = renew_ari_get(r, b->name, &row);
	same = rc == 0 && strcmp(row.certhash, certhash) == 0;
	o = json_object();
	json_object_set_new(o, "window_start", renew_ari_time(row.start,
	    same && row.has_window));
	json_object_set_new(o, "window_end", renew_ari_time(row.end,
	    same && row.has_window));
	json_object_set_new(o, "explanation_url", same &&
	    row.explanation_url ? json_string(row.explanation_url) :
	    json_null());
	json_object_set_new(o, "next_poll", renew_ari_time(row.next_poll,
	    same));
	json_object_set_new(o, "last_error", same && row.last_error ?
	    json_string(row.last_error) : json_null());
	json_object_set_new(o, "polled", renew_ari_time(row.polled, same));
	json_object_set_new(o, "cert_id", same && row.cert_id ?
	    json_string(row.cert_id) : json_null());
	if (rc == 0)
		renew_ari_row_clear(&row);
	return o;
}

/* renew NAME --check-ari: a poll now; the reply says when it was
 * asked, so the CLI waits for a row polled at or after it. */
json_t *
renew_ari_check(struct renewer *r, const char *name, const char **code,
    struct cv_err *err)
{
	struct binding	*b;
	const char	*dir, *ca;
	int64_t		 poll;
	char		 ch[41];
	time_t		 now = renew_now(r);
	json_t		*o = NULL;

	if ((b = renew_effective(r, name, ch, err)) == NULL) {
		*code = PROTO_E_NOT_FOUND;
		return NULL;
	}
	if (b->issuer == NULL ||
	    !ari_issuer(conf_issuer(r->cf, b->issuer), &dir, &ca, &poll)) {
		*code = PROTO_E_BAD_REQUEST;
		cv_err_set(err, "%s: its issuer is not ACME, or has ari = no",
		    name);
	} else if (*ch == '\0') {
		*code = PROTO_E_BUSY;
		cv_err_set(err, "%s: the certificate it serves is not known "
		    "yet; ask again in a moment", name);
	} else {
		(void)renew_ari_poll(r, b, ch, now, 1);
		o = json_pack("{s:s, s:s, s:I}", "binding", name, "certhash",
		    ch, "asked", (json_int_t)now);
	}
	binding_free(b);
	return o;
}

/* show --json: the ari object of the first binding (by name) serving
 * sha1 with ARI, or NULL. */
json_t *
renew_ari_for_cert(struct renewer *r, const char *sha1)
{
	struct binding	*b;
	struct cv_err	 e;
	char		**names = NULL, ch[41];
	size_t		 n = 0, i;
	json_t		*o = NULL;

	if (r == NULL || sha1 == NULL)
		return NULL;
	journal_binding_names(r->j, &names, &n);
	for (i = 0; i < n; i++) {
		if (o == NULL && (b = renew_effective(r, names[i], ch,
		    &e)) != NULL) {
			if (strcmp(ch, sha1) == 0)
				o = renew_ari_json(r, b, ch);
			binding_free(b);
		}
		free(names[i]);
	}
	free(names);
	return o;
}
