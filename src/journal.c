#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "journal.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

struct journal {
	sqlite3		*db;
};

int
journal_open(struct inventory *inv, struct journal **out, struct cv_err *err)
{
	struct journal	*j = xcalloc(1, sizeof(*j));

	(void)err;
	j->db = inventory_db(inv);
	*out = j;
	return 0;
}

void
journal_close(struct journal *j)
{
	free(j);
}

static int
journal_exec(struct journal *j, const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("journal: %s: %s", sql, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *
journal_prep(struct journal *j, const char *sql)
{
	sqlite3_stmt	*st = NULL;

	if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("journal: %s: %s", sql, sqlite3_errmsg(j->db));
		return NULL;
	}
	return st;
}

static void
journal_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int
journal_run(struct journal *j, sqlite3_stmt *st)
{
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("journal: %s", sqlite3_errmsg(j->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* A durable transaction: FULL synchronous for the commit only (the scan's
 * batches keep NORMAL). */
static int
journal_begin(struct journal *j)
{
	if (journal_exec(j, "PRAGMA synchronous = FULL") == -1)
		return -1;
	return journal_exec(j, "BEGIN IMMEDIATE");
}

static int
journal_end(struct journal *j, int ok)
{
	int	rc = 0;

	if (ok)
		rc = journal_exec(j, "COMMIT");
	if (!ok || rc == -1) {
		/* A COMMIT that failed for a full disk or an I/O error has
		 * already rolled the transaction back. */
		if (!sqlite3_get_autocommit(j->db))
			journal_exec(j, "ROLLBACK");
		rc = -1;
	}
	journal_exec(j, "PRAGMA synchronous = NORMAL");
	return rc;
}

static int
journal_step_row(struct journal *j, int64_t id, const char *state,
    const char *detail, time_t now)
{
	sqlite3_stmt	*st = journal_prep(j, "INSERT INTO renewal_steps("
	    "renewal, state, time, detail) VALUES(?1, ?2, ?3, ?4)");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	journal_text(st, 2, state);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	journal_text(st, 4, detail);
	return journal_run(j, st);
}

int64_t
journal_create(struct journal *j, const char *binding, const char *old_sha1,
    int attempt, const char *reason, time_t now)
{
	sqlite3_stmt	*st;
	int64_t		 id = -1;
	int		 ok = 0;

	if (journal_begin(j) == -1)
		return -1;
	st = journal_prep(j, "INSERT INTO renewals(binding, state, old_sha1,"
	    " attempt, reason, started, updated)"
	    " VALUES(?1, 'due', ?2, ?3, ?4, ?5, ?5)");
	if (st != NULL) {
		journal_text(st, 1, binding);
		journal_text(st, 2, old_sha1 && *old_sha1 ? old_sha1 : NULL);
		sqlite3_bind_int(st, 3, attempt);
		journal_text(st, 4, reason);
		sqlite3_bind_int64(st, 5, (int64_t)now);
		if (journal_run(j, st) == 0) {
			id = sqlite3_last_insert_rowid(j->db);
			ok = journal_step_row(j, id, "due", reason, now) == 0;
		}
	}
	if (journal_end(j, ok) == -1)
		return -1;
	return id;
}

int
journal_set_state(struct journal *j, int64_t id, const char *state,
    const char *new_sha1, const char *error, int64_t next_attempt,
    const char *detail, const char *done_certhash, const char *binding,
    time_t now)
{
	sqlite3_stmt	*st;
	int		 ok = 0;

	if (journal_begin(j) == -1)
		return -1;
	st = journal_prep(j, "UPDATE renewals SET state = ?2,"
	    " new_sha1 = coalesce(?3, new_sha1),"
	    " error = CASE WHEN ?4 IS NULL THEN error WHEN ?4 = '' THEN NULL"
	    " ELSE ?4 END, next_attempt = ?5, updated = ?6 WHERE id = ?1");
	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	journal_text(st, 2, state);
	journal_text(st, 3, new_sha1 && *new_sha1 ? new_sha1 : NULL);
	journal_text(st, 4, error);
	if (next_attempt > 0)
		sqlite3_bind_int64(st, 5, next_attempt);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, (int64_t)now);
	if (journal_run(j, st) == -1 ||
	    journal_step_row(j, id, state, detail, now) == -1)
		goto out;
	if (done_certhash != NULL) {
		st = journal_prep(j, "UPDATE bindings SET certhash = ?2,"
		    " updated = ?3 WHERE name = ?1");
		if (st == NULL)
			goto out;
		journal_text(st, 1, binding);
		journal_text(st, 2, done_certhash);
		sqlite3_bind_int64(st, 3, (int64_t)now);
		if (journal_run(j, st) == -1)
			goto out;
	}
	ok = 1;
out:
	return journal_end(j, ok);
}

int
journal_set_output(struct journal *j, int64_t id, const char *state,
    const char *output)
{
	sqlite3_stmt	*st;

	st = journal_prep(j, "UPDATE renewal_steps SET detail = ?3"
	    " WHERE rowid = (SELECT max(rowid) FROM renewal_steps"
	    " WHERE renewal = ?1 AND state = ?2)");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	journal_text(st, 2, state);
	journal_text(st, 3, output);
	return journal_run(j, st);
}

int
journal_set_restored(struct journal *j, int64_t id, const char *sha1,
    time_t now)
{
	sqlite3_stmt	*st;
	int		 ok = 0;

	if (journal_begin(j) == -1)
		return -1;
	st = journal_prep(j, "UPDATE renewals SET restored_sha1 = ?2,"
	    " updated = ?3 WHERE id = ?1");
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		journal_text(st, 2, sha1 && *sha1 ? sha1 : NULL);
		sqlite3_bind_int64(st, 3, (int64_t)now);
		ok = journal_run(j, st) == 0;
	}
	return journal_end(j, ok);
}

/* One integer column of one renewal (issue 14's downtime columns). */
static int
journal_set_int(struct journal *j, const char *sql, int64_t id, int64_t v)
{
	sqlite3_stmt	*st = journal_prep(j, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, v);
	return journal_run(j, st);
}

int
journal_set_down_since(struct journal *j, int64_t id, int64_t ms)
{
	return journal_set_int(j, "UPDATE renewals SET down_since_ms = ?2"
	    " WHERE id = ?1 AND down_since_ms IS NULL", id, ms);
}

int
journal_set_downtime(struct journal *j, int64_t id, int64_t ms)
{
	return journal_set_int(j, "UPDATE renewals SET downtime_ms = ?2"
	    " WHERE id = ?1", id, ms);
}

int
journal_has_step(struct journal *j, int64_t id, const char *state)
{
	sqlite3_stmt	*st = journal_prep(j, "SELECT 1 FROM renewal_steps"
	    " WHERE renewal = ?1 AND state = ?2 LIMIT 1");
	int		 rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	journal_text(st, 2, state);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static char *
journal_col(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

static void
journal_col_sha1(sqlite3_stmt *st, int i, char out[41])
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	snprintf(out, 41, "%s", s ? (const char *)s : "");
}

#define JOURNAL_ROW_COLS "id, binding, state, old_sha1, new_sha1, attempt," \
	" reason, error, next_attempt, started, updated, restored_sha1," \
	" down_since_ms, downtime_ms"

static void
journal_row_read(sqlite3_stmt *st, struct journal_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->binding = journal_col(st, 1);
	r->state = journal_col(st, 2);
	journal_col_sha1(st, 3, r->old_sha1);
	journal_col_sha1(st, 4, r->new_sha1);
	r->attempt = sqlite3_column_int(st, 5);
	r->reason = journal_col(st, 6);
	r->error = journal_col(st, 7);
	r->next_attempt = sqlite3_column_int64(st, 8);
	r->started = sqlite3_column_int64(st, 9);
	r->updated = sqlite3_column_int64(st, 10);
	journal_col_sha1(st, 11, r->restored_sha1);
	r->down_since_ms = sqlite3_column_int64(st, 12);
}

void
journal_row_clear(struct journal_row *r)
{
	free(r->binding);
	free(r->state);
	free(r->reason);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

void
journal_rows_free(struct journal_row *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		journal_row_clear(&v[i]);
	free(v);
}

int
journal_active(struct journal *j, struct journal_row **out, size_t *n)
{
	sqlite3_stmt	*st = journal_prep(j, "SELECT " JOURNAL_ROW_COLS
	    " FROM renewals WHERE state NOT IN ('done', 'failed',"
	    " 'rolled_back') ORDER BY id");

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		journal_row_read(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	return 0;
}

int
journal_last(struct journal *j, const char *binding, struct journal_row *r)
{
	sqlite3_stmt	*st = journal_prep(j, "SELECT " JOURNAL_ROW_COLS
	    " FROM renewals WHERE binding = ?1 ORDER BY id DESC LIMIT 1");
	int		 rc = 1;

	memset(r, 0, sizeof(*r));
	if (st == NULL)
		return -1;
	journal_text(st, 1, binding);
	if (sqlite3_step(st) == SQLITE_ROW) {
		journal_row_read(st, r);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

json_t *
journal_list(struct journal *j, const char *binding)
{
	sqlite3_stmt	*st, *ss;
	json_t		*arr = json_array(), *o, *steps;
	char		 ts[TIMEUTIL_RFC3339_LEN];
	struct journal_row r;

	st = journal_prep(j, "SELECT " JOURNAL_ROW_COLS " FROM renewals"
	    " WHERE ?1 IS NULL OR binding = ?1 ORDER BY id");
	ss = journal_prep(j, "SELECT state, time, detail FROM renewal_steps"
	    " WHERE renewal = ?1 ORDER BY rowid");
	if (st == NULL || ss == NULL)
		goto out;
	journal_text(st, 1, binding);
	while (sqlite3_step(st) == SQLITE_ROW) {
		journal_row_read(st, &r);
		o = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:i, s:s, s:s?}",
		    "id", (json_int_t)r.id, "binding", r.binding, "state",
		    r.state, "old_sha1", *r.old_sha1 ? r.old_sha1 : NULL,
		    "new_sha1", *r.new_sha1 ? r.new_sha1 : NULL, "attempt",
		    r.attempt, "reason", r.reason ? r.reason : "", "error",
		    r.error);
		/* The rollback restores what unbinding found live; "drifted"
		 * when that was not the certificate the binding named. */
		json_object_set_new(o, "restored_sha1", *r.restored_sha1 ?
		    json_string(r.restored_sha1) : json_null());
		json_object_set_new(o, "drifted", json_boolean(*r.restored_sha1
		    && *r.old_sha1 && strcmp(r.restored_sha1, r.old_sha1) != 0));
		/* Issue 14: null while it runs (or for renewals before). */
		json_object_set_new(o, "downtime_ms", sqlite3_column_type(st,
		    13) == SQLITE_NULL ? json_null() :
		    json_integer(sqlite3_column_int64(st, 13)));
		json_object_set_new(o, "started", json_string(timeutil_rfc3339(
		    (time_t)r.started, ts, sizeof(ts))));
		json_object_set_new(o, "updated", json_string(timeutil_rfc3339(
		    (time_t)r.updated, ts, sizeof(ts))));
		json_object_set_new(o, "next_attempt", r.next_attempt ?
		    json_string(timeutil_rfc3339((time_t)r.next_attempt, ts,
		    sizeof(ts))) : json_null());
		/* Each step's time: "times" by state (the last time it was
		 * entered) and "steps" in order, with details. */
		steps = json_array();
		json_object_set_new(o, "times", json_object());
		sqlite3_reset(ss);
		sqlite3_bind_int64(ss, 1, r.id);
		while (sqlite3_step(ss) == SQLITE_ROW) {
			const char *state = (const char *)
			    sqlite3_column_text(ss, 0);

			timeutil_rfc3339((time_t)sqlite3_column_int64(ss, 1),
			    ts, sizeof(ts));
			json_array_append_new(steps, json_pack("{s:s, s:s, "
			    "s:s?}", "state", state, "time", ts, "detail",
			    (const char *)sqlite3_column_text(ss, 2)));
			json_object_set_new(json_object_get(o, "times"),
			    state, json_string(ts));
		}
		json_object_set_new(o, "steps", steps);
		json_array_append_new(arr, o);
		journal_row_clear(&r);
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ss);
	return arr;
}

/* ---- bindings -------------------------------------------------------- */

static void
journal_binding_read(sqlite3_stmt *st, struct journal_binding *b)
{
	const char	*s = (const char *)sqlite3_column_text(st, 5);

	memset(b, 0, sizeof(*b));
	b->name = journal_col(st, 0);
	b->endpoint = journal_col(st, 1);
	journal_col_sha1(st, 2, b->certhash);
	b->appid = journal_col(st, 3);
	b->source = journal_col(st, 4);
	b->settings = s ? json_loads(s, 0, NULL) : NULL;
	if (!json_is_object(b->settings)) {
		json_decref(b->settings);
		b->settings = json_object();
	}
}

#define JOURNAL_BINDING_COLS "name, endpoint, certhash, appid, source, settings"

static int
journal_binding_query(struct journal *j, const char *sql, const char *key,
    struct journal_binding *b)
{
	sqlite3_stmt	*st = journal_prep(j, sql);
	int		 rc;

	memset(b, 0, sizeof(*b));
	if (st == NULL)
		return -1;
	journal_text(st, 1, key);
	/* Not found (1) is not the same as cannot tell (-1): a caller that
	 * creates missing rows must not overwrite one it failed to read. */
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		journal_binding_read(st, b);
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = 1;
		break;
	default:
		log_error("journal: %s", sqlite3_errmsg(j->db));
		rc = -1;
		break;
	}
	sqlite3_finalize(st);
	return rc;
}

int
journal_binding_get(struct journal *j, const char *name,
    struct journal_binding *b)
{
	return journal_binding_query(j, "SELECT " JOURNAL_BINDING_COLS
	    " FROM bindings WHERE name = ?1", name, b);
}

int
journal_binding_by_endpoint(struct journal *j, const char *ep,
    struct journal_binding *b)
{
	return journal_binding_query(j, "SELECT " JOURNAL_BINDING_COLS
	    " FROM bindings WHERE endpoint = ?1", ep, b);
}

static int
journal_binding_write(struct journal *j, const struct journal_binding *b,
    time_t now, int replace)
{
	sqlite3_stmt	*st;
	char		*settings = json_dumps(b->settings ? b->settings :
	    json_object(), JSON_COMPACT | JSON_SORT_KEYS);
	int		 ok;

	if (journal_begin(j) == -1) {
		free(settings);
		return -1;
	}
	st = journal_prep(j, replace ? "INSERT INTO bindings(name, endpoint,"
	    " certhash, appid, source, settings, created, updated)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT(name) DO"
	    " UPDATE SET endpoint = ?2, certhash = ?3, appid = ?4,"
	    " source = ?5, settings = ?6, updated = ?7" :
	    "INSERT INTO bindings(name, endpoint, certhash, appid, source,"
	    " settings, created, updated)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
	    " ON CONFLICT(name) DO NOTHING");
	if (st != NULL) {
		journal_text(st, 1, b->name);
		journal_text(st, 2, b->endpoint);
		journal_text(st, 3, *b->certhash ? b->certhash : NULL);
		journal_text(st, 4, b->appid);
		journal_text(st, 5, b->source);
		journal_text(st, 6, settings);
		sqlite3_bind_int64(st, 7, (int64_t)now);
	}
	ok = journal_run(j, st) == 0;
	free(settings);
	return journal_end(j, ok);
}

int
journal_binding_put(struct journal *j, const struct journal_binding *b,
    time_t now)
{
	return journal_binding_write(j, b, now, 1);
}

int
journal_binding_add_new(struct journal *j, const struct journal_binding *b,
    time_t now)
{
	return journal_binding_write(j, b, now, 0);
}

int
journal_binding_delete(struct journal *j, const char *name)
{
	sqlite3_stmt	*st;
	int		 ok;

	if (journal_begin(j) == -1)
		return -1;
	st = journal_prep(j, "DELETE FROM bindings WHERE name = ?1");
	if (st != NULL)
		journal_text(st, 1, name);
	ok = journal_run(j, st) == 0;
	return journal_end(j, ok);
}

int
journal_binding_names(struct journal *j, char ***out, size_t *n)
{
	sqlite3_stmt	*st = journal_prep(j, "SELECT name FROM bindings"
	    " ORDER BY name");

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(char *));
		(*out)[(*n)++] = journal_col(st, 0);
	}
	sqlite3_finalize(st);
	return 0;
}

void
journal_binding_clear(struct journal_binding *b)
{
	free(b->name);
	free(b->endpoint);
	free(b->appid);
	free(b->source);
	json_decref(b->settings);
	memset(b, 0, sizeof(*b));
}

/* ---- store ----------------------------------------------------------- */

int
journal_store_add(struct journal *j, const char *sha1, const char *binding,
    time_t now, int keep, const char *keep_also, char ***old)
{
	sqlite3_stmt	*st;
	size_t		 n = 0;
	int		 ok = 0;

	*old = xcalloc(1, sizeof(char *));
	if (journal_begin(j) == -1)
		return -1;
	st = journal_prep(j, "INSERT OR REPLACE INTO store(sha1, binding,"
	    " added) VALUES(?1, ?2, ?3)");
	if (st == NULL)
		goto out;
	journal_text(st, 1, sha1);
	journal_text(st, 2, binding);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	if (journal_run(j, st) == -1)
		goto out;
	/* The newest keep + 1 (the new one and the previous keep) stay;
	 * keep_also (the certificate being replaced) stays even when it is
	 * older, but counts among the keep when it is not. */
	st = journal_prep(j, "SELECT sha1 FROM store WHERE binding = ?1"
	    " AND sha1 <> ?2 ORDER BY added DESC, rowid DESC"
	    " LIMIT -1 OFFSET ?3");
	if (st == NULL)
		goto out;
	journal_text(st, 1, binding);
	journal_text(st, 2, sha1);
	sqlite3_bind_int(st, 3, keep);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (keep_also != NULL && strcmp((const char *)
		    sqlite3_column_text(st, 0), keep_also) == 0)
			continue;
		*old = xreallocarray(*old, n + 2, sizeof(char *));
		(*old)[n++] = journal_col(st, 0);
		(*old)[n] = NULL;
	}
	sqlite3_finalize(st);
	for (n = 0; (*old)[n] != NULL; n++) {
		st = journal_prep(j, "DELETE FROM store WHERE sha1 = ?1");
		if (st == NULL)
			goto out;
		journal_text(st, 1, (*old)[n]);
		if (journal_run(j, st) == -1)
			goto out;
	}
	ok = 1;
out:
	return journal_end(j, ok);
}

int
journal_cert_known(struct journal *j, const char *sha1, int *has_key)
{
	sqlite3_stmt	*st;
	int		 known = 0;

	*has_key = 0;
	st = journal_prep(j, "SELECT 1 FROM certs WHERE sha1 = cv_unhex(?1)");
	if (st == NULL)
		return -1;
	journal_text(st, 1, sha1);
	known = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	st = journal_prep(j, "SELECT 1 FROM certs c JOIN sources s"
	    " ON s.cert = c.id JOIN files f ON f.id = s.file_id"
	    " WHERE c.sha1 = cv_unhex(?1) AND f.gone = 0 AND"
	    " s.has_key = 1 AND s.key_matches = 1 UNION SELECT 1 FROM store"
	    " WHERE sha1 = ?1");
	if (st == NULL)
		return -1;
	journal_text(st, 1, sha1);
	*has_key = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return known;
}

/*
 * Issue 17 (revoke): the binding that serves sha1 (*served 1), else the
 * one the store kept it for (*served 0).  0 found (*name: caller frees),
 * 1 none, -1 error.
 */
int
journal_cert_binding(struct journal *j, const char *sha1, char **name,
    int *served)
{
	static const char	*q[2] = {
		"SELECT name FROM bindings WHERE certhash = ?1 ORDER BY name",
		"SELECT binding FROM store WHERE sha1 = ?1",
	};
	sqlite3_stmt		*st;
	int			 i;

	*name = NULL;
	*served = 0;
	for (i = 0; i < 2 && *name == NULL; i++) {
		if ((st = journal_prep(j, q[i])) == NULL)
			return -1;
		journal_text(st, 1, sha1);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*name = journal_col(st, 0);
			*served = i == 0;
		}
		sqlite3_finalize(st);
	}
	return *name != NULL ? 0 : 1;
}
