#include "config.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "inventory.h"
#include "log.h"
#include "proto.h"
#include "timeutil.h"
#include "xmalloc.h"

/*
 * Numbered migrations: entry i takes the schema from version i to i + 1.
 * Never edit a released entry; append a new one.
 */
static const char *inventory_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE certs("
	"  sha1 TEXT PRIMARY KEY, sha256 TEXT NOT NULL, subject TEXT NOT NULL,"
	"  issuer TEXT NOT NULL, serial TEXT NOT NULL,"
	"  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
	"  key_type TEXT NOT NULL, key_bits INTEGER NOT NULL,"
	"  sig_alg TEXT NOT NULL, san TEXT NOT NULL, eku TEXT NOT NULL,"
	"  is_ca INTEGER NOT NULL, key_usage INTEGER NOT NULL,"
	"  role TEXT NOT NULL, first_seen INTEGER NOT NULL,"
	"  next_alert INTEGER DEFAULT 0, superseded INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX certs_next_alert ON certs(next_alert);"
	"CREATE INDEX certs_subject ON certs(subject);"
	"CREATE TABLE files("
	"  id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, watch TEXT,"
	"  format TEXT, inode INTEGER, size INTEGER, mtime_ns INTEGER,"
	"  error TEXT, gone INTEGER NOT NULL DEFAULT 0,"
	"  first_seen INTEGER NOT NULL, last_change INTEGER NOT NULL,"
	"  drift TEXT);"
	"CREATE TABLE sources("
	"  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL, sha1 TEXT NOT NULL REFERENCES certs(sha1),"
	"  has_key INTEGER NOT NULL, key_matches INTEGER,"
	"  PRIMARY KEY(file_id, idx));"
	"CREATE INDEX sources_sha1 ON sources(sha1);"
	"CREATE TABLE events("
	"  id INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,"
	"  path TEXT, sha1 TEXT, message TEXT NOT NULL);"
	"CREATE INDEX events_time ON events(time);"
	"CREATE INDEX events_sha1 ON events(sha1);"
	"CREATE INDEX events_path ON events(path);"
	/* One row per (certificate, threshold) alerted or suppressed. */
	"CREATE TABLE alerts_sent(sha1 TEXT NOT NULL, threshold TEXT NOT NULL,"
	"  time INTEGER NOT NULL, sent INTEGER NOT NULL,"
	"  PRIMARY KEY(sha1, threshold));"
	/* alert_command runs not yet done: retried until they succeed. */
	"CREATE TABLE alert_queue(id INTEGER PRIMARY KEY, payload TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,"
	"  last_error TEXT);",
	/* 1 -> 2: bindings and the renewal journal (issue 6; journal.c) */
	"CREATE TABLE bindings("
	"  name TEXT PRIMARY KEY, endpoint TEXT NOT NULL,"
	"  certhash TEXT, appid TEXT, source TEXT NOT NULL,"
	"  settings TEXT NOT NULL DEFAULT '{}',"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE TABLE renewals("
	"  id INTEGER PRIMARY KEY, binding TEXT NOT NULL, state TEXT NOT NULL,"
	"  old_sha1 TEXT, new_sha1 TEXT, attempt INTEGER NOT NULL,"
	"  reason TEXT NOT NULL, error TEXT, next_attempt INTEGER,"
	"  started INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX renewals_binding ON renewals(binding, id);"
	"CREATE TABLE renewal_steps("
	"  renewal INTEGER NOT NULL REFERENCES renewals(id) ON DELETE CASCADE,"
	"  state TEXT NOT NULL, time INTEGER NOT NULL, detail TEXT);"
	"CREATE INDEX renewal_steps_renewal ON renewal_steps(renewal);"
	"CREATE TABLE store("
	"  sha1 TEXT PRIMARY KEY, binding TEXT NOT NULL,"
	"  added INTEGER NOT NULL);"
	"CREATE INDEX store_binding ON store(binding, added);",
	/* 2 -> 3: what unbinding found live, which a rollback puts back
	 * (differs from old_sha1 when the binding had drifted; issue 11) */
	"ALTER TABLE renewals ADD COLUMN restored_sha1 TEXT;",
	/*
	 * 3 -> 4: CRLs read from watched files (issue 13 item 7).  Rows are
	 * inventory.c's (replaced whenever their file is read, deleted when
	 * it goes); next_alert is alert.c's, as certs.next_alert is.
	 */
	"CREATE TABLE crls("
	"  path TEXT NOT NULL, idx INTEGER NOT NULL, sha1 TEXT NOT NULL,"
	"  issuer TEXT NOT NULL, this_update INTEGER NOT NULL,"
	"  next_update INTEGER, revoked INTEGER NOT NULL, number TEXT,"
	"  watch TEXT, next_alert INTEGER DEFAULT 0,"
	"  PRIMARY KEY(path, idx));"
	"CREATE INDEX crls_next_alert ON crls(next_alert);",
	/* 4 -> 5 (issue 13 item 5):
	 * what was odd about a certificate read leniently, a JSON array
	 * of strings; NULL for rows written before (no warnings). */
	"ALTER TABLE certs ADD COLUMN warnings TEXT;",
	/* issue 14, part services (journal.c's): when the renewal's first
	 * service was stopped (ms since the epoch; kept across a crash) and
	 * the outage it measured, first stop to every probe served. */
	"ALTER TABLE renewals ADD COLUMN down_since_ms INTEGER;"
	"ALTER TABLE renewals ADD COLUMN downtime_ms INTEGER;",
	/*
	 * issue 15, "what is served, watched" (served.c owns it): the
	 * latest probe of each (binding, endpoint) -- by the watch or by a
	 * renewal's verify step -- and what was last reported for it
	 * (drift_sha1: the served thumbprint a served_drift went out for;
	 * mtls_alerted: mtls_not_enforced went out).
	 */
	"CREATE TABLE served("
	"  binding TEXT NOT NULL, endpoint TEXT NOT NULL,"
	"  time INTEGER NOT NULL, origin TEXT NOT NULL, sha1 TEXT,"
	"  not_after INTEGER, protocol TEXT, expected_sha1 TEXT,"
	"  require_client_cert INTEGER NOT NULL,"
	"  client_cert_required INTEGER, accepted_without_cert INTEGER,"
	"  error TEXT, duration_ms INTEGER NOT NULL,"
	"  drift_sha1 TEXT, mtls_alerted INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(binding, endpoint)) WITHOUT ROWID;",
	/* issue 17, part ARI (renew_ari.c's): each ACME binding's renewal
	 * information, for the certificate it served when polled; window_*
	 * NULL when no window is known; times in seconds since the epoch. */
	"CREATE TABLE ari("
	"  binding TEXT PRIMARY KEY, certhash TEXT NOT NULL, cert_id TEXT,"
	"  window_start INTEGER, window_end INTEGER, explanation_url TEXT,"
	"  next_poll INTEGER NOT NULL, last_error TEXT,"
	"  polled INTEGER NOT NULL);",
	/*
	 * 8 -> 9, issue 16, database bytes: certificates get an integer id
	 * and sources name it, and the thumbprints are stored as bytes
	 * (cv_unhex, inventory_open's).  Their hex text was 160 bytes a
	 * certificate, in four B-trees filled in random order (the certs
	 * key, its row, sources' row and sources_sha1); now a 20-byte key
	 * in one index, and sources, keyed by (file_id, idx) with no rowid,
	 * grow in file order.  SQL that wants the text says
	 * lower(hex(sha1)); the other tables keep their text thumbprints.
	 */
	"CREATE TABLE certs_v9("
	"  id INTEGER PRIMARY KEY, sha1 BLOB NOT NULL UNIQUE,"
	"  sha256 BLOB NOT NULL, subject TEXT NOT NULL,"
	"  issuer TEXT NOT NULL, serial TEXT NOT NULL,"
	"  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
	"  key_type TEXT NOT NULL, key_bits INTEGER NOT NULL,"
	"  sig_alg TEXT NOT NULL, san TEXT NOT NULL, eku TEXT NOT NULL,"
	"  is_ca INTEGER NOT NULL, key_usage INTEGER NOT NULL,"
	"  role TEXT NOT NULL, first_seen INTEGER NOT NULL,"
	"  next_alert INTEGER DEFAULT 0, superseded INTEGER NOT NULL DEFAULT 0,"
	"  warnings TEXT);"
	"INSERT INTO certs_v9(sha1, sha256, subject, issuer, serial,"
	"  not_before, not_after, key_type, key_bits, sig_alg, san, eku,"
	"  is_ca, key_usage, role, first_seen, next_alert, superseded,"
	"  warnings)"
	"  SELECT cv_unhex(sha1), cv_unhex(sha256), subject, issuer, serial,"
	"  not_before, not_after, key_type, key_bits, sig_alg, san, eku,"
	"  is_ca, key_usage, role, first_seen, next_alert, superseded,"
	"  warnings FROM certs ORDER BY first_seen, sha1;"
	"CREATE TABLE sources_v9("
	"  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL, cert INTEGER NOT NULL REFERENCES certs_v9(id),"
	"  has_key INTEGER NOT NULL, key_matches INTEGER,"
	"  PRIMARY KEY(file_id, idx)) WITHOUT ROWID;"
	"INSERT INTO sources_v9 SELECT s.file_id, s.idx, c.id, s.has_key,"
	"  s.key_matches FROM sources s"
	"  JOIN certs_v9 c ON c.sha1 = cv_unhex(s.sha1);"
	"DROP TABLE sources;"
	"DROP TABLE certs;"
	"ALTER TABLE certs_v9 RENAME TO certs;"
	"ALTER TABLE sources_v9 RENAME TO sources;"
	"CREATE INDEX certs_next_alert ON certs(next_alert);"
	"CREATE INDEX certs_subject ON certs(subject);"
	"CREATE INDEX sources_cert ON sources(cert);",
};

#define INV_SCHEMA_VERSION \
	((int)(sizeof(inventory_migrations) / sizeof(inventory_migrations[0])))

enum inv_stmt {
	S_FILE_GET,
	S_FILE_INSERT,
	S_FILE_UPDATE,
	S_FILE_ERROR,
	S_FILE_PROBLEM,
	S_FILE_GONE,
	S_SOURCES_GET,
	S_SOURCES_DEL,
	S_SOURCE_INSERT,
	S_CERT_INSERT,
	S_EVENT_INSERT,
	S_STAT_CACHE,
	S_MARK_SHA1,
	S_MARK_SUBJECT,
	S_MARK_NAMESAKES,
	S_FILE_DRIFT,
	S_FILE_LEAF,
	S_CRL_DEL,
	S_CRL_INSERT,
	S__COUNT
};

static const char *inventory_sql[S__COUNT] = {
	[S_FILE_GET] = "SELECT id, error, gone, drift IS NOT NULL FROM files"
	    " WHERE path = ?1",
	[S_FILE_INSERT] = "INSERT INTO files(path, watch, format, inode, size,"
	    " mtime_ns, error, gone, first_seen, last_change)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8)",
	[S_FILE_UPDATE] = "UPDATE files SET watch = ?2, format = ?3,"
	    " inode = ?4, size = ?5, mtime_ns = ?6, error = NULL, gone = 0,"
	    " last_change = ?7 WHERE id = ?1",
	[S_FILE_ERROR] = "UPDATE files SET watch = ?2, inode = ?3, size = ?4,"
	    " mtime_ns = ?5, error = ?6, gone = 0, last_change = ?7"
	    " WHERE id = ?1",
	[S_FILE_PROBLEM] = "UPDATE files SET error = ?2 WHERE id = ?1",
	[S_FILE_GONE] = "UPDATE files SET gone = 1, last_change = ?2"
	    " WHERE id = ?1",
	[S_SOURCES_GET] = "SELECT lower(hex(c.sha1)) FROM sources s"
	    " JOIN certs c ON c.id = s.cert WHERE s.file_id = ?1"
	    " ORDER BY s.idx",
	[S_SOURCES_DEL] = "DELETE FROM sources WHERE file_id = ?1",
	[S_SOURCE_INSERT] = "INSERT INTO sources(file_id, idx, cert, has_key,"
	    " key_matches) VALUES(?1, ?2,"
	    " (SELECT id FROM certs WHERE sha1 = ?3), ?4, ?5)",
	/* Already known: the latest watch decides its role (one statement,
	 * not a read then a write; issue 16). */
	[S_CERT_INSERT] = "INSERT INTO certs(sha1, sha256, subject,"
	    " issuer, serial, not_before, not_after, key_type, key_bits,"
	    " sig_alg, san, eku, is_ca, key_usage, role, first_seen, warnings)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17) ON CONFLICT(sha1) DO UPDATE"
	    " SET role = excluded.role WHERE role <> excluded.role",
	[S_EVENT_INSERT] = "INSERT INTO events(time, kind, path, sha1,"
	    " message) VALUES(?1, ?2, ?3, ?4, ?5)",
	/* Rows already due are not written again: a certificate the scan
	 * just inserted has next_alert 0, and rewriting it (row and index)
	 * was a write per certificate of every first scan (issue 16). */
	[S_MARK_SHA1] = "UPDATE certs SET next_alert = 0 WHERE sha1 = ?1"
	    " AND next_alert IS NOT 0",
	[S_MARK_SUBJECT] = "UPDATE certs SET next_alert = 0 WHERE subject = ?1"
	    " AND next_alert IS NOT 0",
	[S_MARK_NAMESAKES] = "UPDATE certs SET next_alert = 0 WHERE subject ="
	    " (SELECT subject FROM certs WHERE sha1 = ?1)"
	    " AND next_alert IS NOT 0",
	[S_FILE_DRIFT] = "UPDATE files SET drift = ?2 WHERE id = ?1",
	/* The leaf as pki_file_leaf() picks it, if the row is current. */
	[S_FILE_LEAF] = "SELECT lower(hex(c.sha1)), c.not_before, c.not_after"
	    " FROM files f JOIN sources s ON s.file_id = f.id"
	    " JOIN certs c ON c.id = s.cert"
	    " WHERE f.path = ?1 AND f.gone = 0 AND f.error IS NULL"
	    " AND f.inode = ?2 AND f.size = ?3 AND f.mtime_ns = ?4"
	    " ORDER BY c.is_ca, s.has_key DESC, s.idx LIMIT 1",
	[S_CRL_DEL] = "DELETE FROM crls WHERE path = ?1",
	[S_CRL_INSERT] = "INSERT INTO crls(path, idx, sha1, issuer,"
	    " this_update, next_update, revoked, number, watch)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_STAT_CACHE] = "SELECT path, inode, size, mtime_ns,"
	    " error IS NOT NULL FROM files WHERE gone = 0 ORDER BY path",
};

struct inventory {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*st[S__COUNT];
	inv_event_cb	 event_cb;
	void		*event_arg;
	int64_t		 generation;	/* bumped on every change */
	/* counts cache: valid while generation matches and before until */
	struct inv_counts cache;
	int64_t		 cache_gen;
	time_t		 cache_until;
	int64_t		 cache_expiring;
	int		 cache_lazy;	/* a full scan runs: see counts_lazy */
	/* A large first scan: "discovered" is counted, not recorded
	 * (inventory_quiet; issue 16). */
	int		 quiet;
	int64_t		 quiet_files;
	int		 yields;	/* inventory_set_yields */
	int64_t		 busy_since;	/* inventory_busy's first try */
};

static int
inventory_exec(struct inventory *inv, const char *sql, struct cv_err *err)
{
	char	*msg = NULL;

	if (sqlite3_exec(inv->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cv_err_set(err, "%s: %s", inv->path, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
inventory_user_version(struct inventory *inv, int *v, struct cv_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(inv->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return cv_err_set(err, "%s: %s", inv->path,
		    sqlite3_errmsg(inv->db));
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return cv_err_set(err, "%s: %s", inv->path,
		    sqlite3_errmsg(inv->db));
	return 0;
}

static int
inventory_migrate(struct inventory *inv, struct cv_err *err)
{
	char	 sql[64];
	int	 v, i;

	if (inventory_user_version(inv, &v, err) == -1)
		return -1;
	if (v > INV_SCHEMA_VERSION)
		return cv_err_set(err, "%s: inventory schema version %d is "
		    "newer than this certvigild understands (%d); refusing to "
		    "use it (upgrade certvigil, or move the file away)",
		    inv->path, v, INV_SCHEMA_VERSION);
	for (i = v; i < INV_SCHEMA_VERSION; i++) {
		/* Each step and its version bump commit together. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
		if (inventory_exec(inv, "BEGIN IMMEDIATE", err) == -1)
			return -1;
		if (inventory_exec(inv, inventory_migrations[i], err) == -1 ||
		    inventory_exec(inv, sql, err) == -1) {
			inventory_exec(inv, "ROLLBACK", NULL);
			cv_err_prefix(err, "migration %d -> %d", i, i + 1);
			return -1;
		}
		if (inventory_exec(inv, "COMMIT", err) == -1)
			return -1;
		log_info("%s: inventory schema migrated to version %d",
		    inv->path, i + 1);
	}
	return 0;
}

/*
 * Two connections write: the loop's and the scanner's writer thread's
 * (scan_writer.c; issue 16), whose transactions last a few milliseconds.
 * SQLite's own busy timeout sleeps 1, 2, 5 ... 100 ms between tries, so a
 * loop write behind a 3 ms transaction would wait 5 ms or more; this one
 * tries again every 100 us, for up to 5 s as before.  Polling alone is
 * not fair: the writer commits and begins again within microseconds, so
 * a waiter that polls rarely finds the lock free (a loop write waited
 * for a whole scan in tests/check_scan_writer).  A waiting connection
 * says so (inventory_wanted) and the writer, between its transactions,
 * lets it in first (inventory_yield).
 */
static int	inventory_wanted;

static int
inventory_busy(void *arg, int n)
{
	struct inventory	*inv = arg;
	struct timespec		 ts;
	int64_t			 now;

	/* 5 s of waiting, by the clock (each sleep lasts 100 us or more). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (n == 0)
		inv->busy_since = now;
	else if (now - inv->busy_since >= 5000000000LL)
		return 0;
	if (!inv->yields)
		__atomic_store_n(&inventory_wanted, 1, __ATOMIC_RELEASE);
	usleep(100);
	return 1;
}

void
inventory_set_yields(struct inventory *inv)
{
	inv->yields = 1;
}

void
inventory_yield(void)
{
	int	i;

	/* Three of the waiter's polls a round, 6 ms at most. */
	for (i = 0; i < 20 && __atomic_exchange_n(&inventory_wanted, 0,
	    __ATOMIC_ACQ_REL); i++)
		usleep(300);
}

static int
inventory_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits to bytes; -1 if s is not an even run of them or longer
 * than max bytes. */
static int
inventory_unhex(const char *s, size_t len, unsigned char *out, size_t max)
{
	size_t	i;
	int	hi, lo;

	if (len % 2 != 0 || len / 2 > max)
		return -1;
	for (i = 0; i < len; i += 2) {
		if ((hi = inventory_hexval(s[i])) < 0 ||
		    (lo = inventory_hexval(s[i + 1])) < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

/* SQL cv_unhex(text): its bytes, or NULL when it is not hex (a
 * thumbprint as certs stores it; the 8 -> 9 migration's). */
static void
inventory_sql_unhex(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char	*s = (const char *)sqlite3_value_text(argv[0]);
	unsigned char	 b[64];
	int		 n;

	(void)argc;
	if (s == NULL || (n = inventory_unhex(s, strlen(s), b,
	    sizeof(b))) < 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_blob(ctx, b, n, SQLITE_TRANSIENT);
}

/* Binds a hex thumbprint as the bytes certs stores (NULL: no match). */
static void
inventory_bind_hex(sqlite3_stmt *st, int i, const char *hex)
{
	unsigned char	b[64];
	int		n;

	if (hex == NULL || (n = inventory_unhex(hex, strlen(hex), b,
	    sizeof(b))) < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_blob(st, i, b, n, SQLITE_TRANSIENT);
}

int
inventory_open(const char *path, struct inventory **out,
    struct cv_err *err)
{
	struct inventory	*inv = xcalloc(1, sizeof(*inv));
	int			 i;

	*out = NULL;
	inv->path = xstrdup(path);
	inv->cache_gen = -1;
	if (sqlite3_open_v2(path, &inv->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		cv_err_set(err, "%s: %s", path, inv->db ?
		    sqlite3_errmsg(inv->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_handler(inv->db, inventory_busy, inv);
	sqlite3_create_function(inv->db, "cv_unhex", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	    inventory_sql_unhex, NULL, NULL);
	/*
	 * 8 MiB of page cache (issue 16): 32 MiB was a third of the RSS at
	 * 100,000 certificates and bought nothing measurable -- the loop's
	 * CPU for a 100k scan was 3.57 s with it, 3.38 s with 8 MiB.  The
	 * WAL is checkpointed every 4,000 pages (16 MiB) rather than 1,000:
	 * fewer checkpoints and fdatasyncs in a scan.
	 */
	if (inventory_exec(inv, "PRAGMA journal_mode = WAL", err) == -1 ||
	    inventory_exec(inv, "PRAGMA synchronous = NORMAL", err) == -1 ||
	    inventory_exec(inv, "PRAGMA foreign_keys = ON", err) == -1 ||
	    inventory_exec(inv, "PRAGMA cache_size = -8192", err) == -1 ||
	    inventory_exec(inv, "PRAGMA wal_autocheckpoint = 4000", err) == -1)
		goto fail;
	if (inventory_migrate(inv, err) == -1)
		goto fail;
	for (i = 0; i < S__COUNT; i++) {
		if (sqlite3_prepare_v3(inv->db, inventory_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &inv->st[i], NULL) != SQLITE_OK) {
			cv_err_set(err, "%s: %s", path,
			    sqlite3_errmsg(inv->db));
			goto fail;
		}
	}
	*out = inv;
	return 0;
fail:
	inventory_close(inv);
	return -1;
}

void
inventory_close(struct inventory *inv)
{
	int	i;

	if (inv == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(inv->st[i]);
	if (inv->db != NULL && sqlite3_close(inv->db) != SQLITE_OK)
		log_warn("%s: close: %s", inv->path, sqlite3_errmsg(inv->db));
	free(inv->path);
	free(inv);
}

void
inventory_set_event_cb(struct inventory *inv, inv_event_cb cb, void *arg)
{
	inv->event_cb = cb;
	inv->event_arg = arg;
}

int
inventory_begin(struct inventory *inv)
{
	struct cv_err	err;

	if (inventory_exec(inv, "BEGIN IMMEDIATE", &err) == -1) {
		log_error("%s", err.msg);
		return -1;
	}
	return 0;
}

int
inventory_commit(struct inventory *inv)
{
	struct cv_err	err;

	if (inventory_exec(inv, "COMMIT", &err) == -1) {
		log_error("%s", err.msg);
		inventory_exec(inv, "ROLLBACK", NULL);
		return -1;
	}
	return 0;
}

sqlite3 *
inventory_db(struct inventory *inv)
{
	return inv->db;
}

int64_t
inventory_generation(struct inventory *inv)
{
	return inv->generation;
}

void
inventory_touch(struct inventory *inv)
{
	inv->generation++;
}

void
inventory_emit(struct inventory *inv, json_t *ev)
{
	if (inv->event_cb != NULL)
		inv->event_cb(inv->event_arg, ev);
}

void
inventory_release_memory(struct inventory *inv)
{
	sqlite3_db_release_memory(inv->db);
}

static sqlite3_stmt *
inventory_stmt(struct inventory *inv, enum inv_stmt which)
{
	sqlite3_stmt	*st = inv->st[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Steps a statement that returns no rows; logs and returns -1 on error. */
static int
inventory_done(struct inventory *inv, sqlite3_stmt *st)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return -1;
	}
	return 0;
}

static void
inventory_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int
inventory_add_event(struct inventory *inv, time_t t, const char *kind,
    const char *path, const char *sha1, const char *fmt, ...)
{
	sqlite3_stmt	*st = inventory_stmt(inv, S_EVENT_INSERT);
	char		 msg[1024], ts[TIMEUTIL_RFC3339_LEN];
	va_list		 ap;
	json_t		*ev;
	int		 stored;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sqlite3_bind_int64(st, 1, (int64_t)t);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	inventory_bind_text(st, 3, path);
	inventory_bind_text(st, 4, sha1);
	sqlite3_bind_text(st, 5, msg, -1, SQLITE_STATIC);
	/* An event the inventory cannot store (disk full, I/O error) still
	 * goes to the log and, with "id": null, to the live stream: a
	 * renewal's end is not lost to a follower for a full disk. */
	stored = inventory_done(inv, st) == 0;
	if (stored)
		log_debug("event %s: %s%s%s", kind, path ? path : "",
		    path ? ": " : "", msg);
	else
		log_warn("event %s not recorded: %s%s%s", kind, path ? path :
		    "", path ? ": " : "", msg);
	if (inv->event_cb != NULL) {
		/* path and msg are anyone's bytes (proto_string). */
		ev = json_pack("{s:o, s:s, s:s, s:o, s:s?, s:o}",
		    "id", stored ? json_integer(sqlite3_last_insert_rowid(
		    inv->db)) : json_null(),
		    "time", timeutil_rfc3339(t, ts, sizeof(ts)), "kind", kind,
		    "path", proto_string(path), "sha1", sha1,
		    "message", proto_string(msg));
		inv->event_cb(inv->event_arg, ev);
		json_decref(ev);
	}
	return stored ? 0 : -1;
}

int
inventory_stat_cache(struct inventory *inv, struct inv_stat **out,
    size_t *n)
{
	sqlite3_stmt	*st = inventory_stmt(inv, S_STAT_CACHE);
	struct inv_stat	*v = NULL;
	size_t		 cap = 0, len = 0;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[len].path = xstrdup((const char *)sqlite3_column_text(st, 0));
		v[len].ino = sqlite3_column_int64(st, 1);
		v[len].size = sqlite3_column_int64(st, 2);
		v[len].mtime_ns = sqlite3_column_int64(st, 3);
		v[len].has_error = sqlite3_column_int(st, 4);
		len++;
	}
	sqlite3_reset(st);
	*out = v;
	*n = len;
	if (rc != SQLITE_DONE) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return -1;
	}
	return 0;
}

void
inventory_stat_cache_free(struct inv_stat *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

static char *
inventory_strv_json(char **v, size_t n)
{
	json_t	*a = json_array();
	char	*s;
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, proto_string(v[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static const char *
inventory_auto_role(const struct x509_cert *c, enum cert_role role)
{
	size_t	i;
	int	server = 0, client = 0;

	if (role != ROLE_AUTO)
		return conf_role_name(role);
	if (c->is_ca)
		return "ca";
	for (i = 0; i < c->neku; i++) {
		if (strcmp(c->eku[i], "serverAuth") == 0)
			server = 1;
		else if (strcmp(c->eku[i], "clientAuth") == 0)
			client = 1;
	}
	return client && !server ? "client" : "server";
}

static int
inventory_put_cert(struct inventory *inv, const struct x509_cert *c,
    const char *role, time_t now)
{
	sqlite3_stmt	*st = inventory_stmt(inv, S_CERT_INSERT);
	char		*san = inventory_strv_json(c->san, c->nsan);
	char		*eku = inventory_strv_json(c->eku, c->neku);
	char		*warn = c->nwarn > 0 ?
	    inventory_strv_json(c->warn, c->nwarn) : NULL;
	int		 rc;

	inventory_bind_hex(st, 1, c->sha1);
	inventory_bind_hex(st, 2, c->sha256);
	sqlite3_bind_text(st, 3, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->issuer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)c->not_before);
	sqlite3_bind_int64(st, 7, (int64_t)c->not_after);
	sqlite3_bind_text(st, 8, c->key_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, (int)c->key_bits);
	sqlite3_bind_text(st, 10, c->sig_alg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, san, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, eku, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 13, c->is_ca);
	sqlite3_bind_int(st, 14, (int)c->key_usage);
	sqlite3_bind_text(st, 15, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 16, (int64_t)now);
	if (warn != NULL)
		sqlite3_bind_text(st, 17, warn, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 17);
	rc = inventory_done(inv, st);
	free(san);
	free(eku);
	free(warn);
	return rc;
}

/*
 * Marks certificates for the alert engine: next_alert = 0 means "evaluate
 * now".  sha1s is a comma-separated list (a file's certificates).
 */
static void
inventory_mark(struct inventory *inv, const char *sha1s)
{
	sqlite3_stmt	*st;
	char		*copy, *tok, *save = NULL;

	if (sha1s == NULL)
		return;
	copy = xstrdup(sha1s);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		st = inventory_stmt(inv, S_MARK_SHA1);
		inventory_bind_hex(st, 1, tok);
		inventory_done(inv, st);
	}
	free(copy);
}

void
inventory_mark_namesakes(struct inventory *inv, const char *sha1)
{
	sqlite3_stmt	*st;

	if (sha1 == NULL || *sha1 == '\0')
		return;
	st = inventory_stmt(inv, S_MARK_NAMESAKES);
	inventory_bind_hex(st, 1, sha1);
	inventory_done(inv, st);
}

/* Looks a file up; *id 0 when unknown. */
static int
inventory_file_get(struct inventory *inv, const char *path, int64_t *id,
    int *had_error, int *gone, int *drift)
{
	sqlite3_stmt	*st = inventory_stmt(inv, S_FILE_GET);
	int		 rc;

	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	*id = 0;
	*had_error = *gone = *drift = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*had_error = sqlite3_column_type(st, 1) != SQLITE_NULL;
		*gone = sqlite3_column_int(st, 2);
		*drift = sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return -1;
	}
	return 0;
}

/* The thumbprints a file held, joined by ",", into a new string. */
static char *
inventory_file_sha1s(struct inventory *inv, int64_t id)
{
	sqlite3_stmt	*st = inventory_stmt(inv, S_SOURCES_GET);
	char		*s = xstrdup(""), *t;

	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		xasprintf(&t, "%s%s%s", s, *s ? "," : "",
		    (const char *)sqlite3_column_text(st, 0));
		free(s);
		s = t;
	}
	sqlite3_reset(st);
	return s;
}

static char *
inventory_x509_sha1s(const struct x509_file *f)
{
	char	*s = xstrdup(""), *t;
	size_t	 i;

	for (i = 0; i < f->ncerts; i++) {
		xasprintf(&t, "%s%s%s", s, *s ? "," : "", f->certs[i].sha1);
		free(s);
		s = t;
	}
	return s;
}

static int
inventory_file_error(struct inventory *inv, int64_t id, const char *path,
    const char *watch, const struct inv_stat *st, const char *error,
    int had_error, time_t now)
{
	sqlite3_stmt	*q;

	if (id == 0) {
		q = inventory_stmt(inv, S_FILE_INSERT);
		sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
		inventory_bind_text(q, 2, watch);
		sqlite3_bind_null(q, 3);
		sqlite3_bind_int64(q, 4, st->ino);
		sqlite3_bind_int64(q, 5, st->size);
		sqlite3_bind_int64(q, 6, st->mtime_ns);
		sqlite3_bind_text(q, 7, error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 8, (int64_t)now);
	} else {
		q = inventory_stmt(inv, S_FILE_ERROR);
		sqlite3_bind_int64(q, 1, id);
		inventory_bind_text(q, 2, watch);
		sqlite3_bind_int64(q, 3, st->ino);
		sqlite3_bind_int64(q, 4, st->size);
		sqlite3_bind_int64(q, 5, st->mtime_ns);
		sqlite3_bind_text(q, 6, error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 7, (int64_t)now);
	}
	if (inventory_done(inv, q) == -1)
		return -1;
	inv->generation++;
	if (id != 0) {
		char	*held = inventory_file_sha1s(inv, id);

		inventory_mark(inv, held);
		free(held);
	}
	/* One event per failure, not one per rescan of a still-bad file. */
	if (had_error)
		return 0;
	return inventory_add_event(inv, now, "parse_error", path, NULL, "%s%s",
	    error, id != 0 ? " (keeping its last good certificates)" : "");
}

/*
 * A pinned path (expect_sha1) that holds another thumbprint is drifting:
 * the deployed file no longer matches the certhash everyone relies on.
 * One event per new actual thumbprint; the flag clears when it matches.
 */
static int
inventory_drift(struct inventory *inv, int64_t id, const char *path,
    const char *expect, const char *old, const char *actual, int was,
    time_t now)
{
	sqlite3_stmt	*q;
	int		 drifting = expect != NULL && strstr(actual, expect) == NULL;

	/* A new row has no drift: nothing to clear (was comes with the
	 * files row, no statement prepared per file; issue 16). */
	if (!drifting && !was)
		return 0;
	q = inventory_stmt(inv, S_FILE_DRIFT);
	sqlite3_bind_int64(q, 1, id);
	if (drifting)
		sqlite3_bind_text(q, 2, expect, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 2);
	if (inventory_done(inv, q) == -1)
		return -1;
	/* Re-reading a file that still drifts to the same thumbprint: quiet. */
	if (!drifting || (was && old != NULL && strcmp(old, actual) == 0))
		return 0;
	return inventory_add_event(inv, now, "drift", path, actual,
	    "thumbprint drift: expected %s (certhash), found %s", expect,
	    actual);
}

/* The files row of a readable file: inserted, or updated with its old
 * sources deleted (their thumbprints returned in *old).  -1 on error. */
static int
inventory_file_put(struct inventory *inv, int64_t *id, const char *path,
    const char *watch, const struct inv_stat *st, const struct x509_file *f,
    time_t now, char **old)
{
	sqlite3_stmt	*q;

	if (*id == 0) {
		q = inventory_stmt(inv, S_FILE_INSERT);
		sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
		inventory_bind_text(q, 2, watch);
		sqlite3_bind_text(q, 3, x509_format_name(f->format), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(q, 4, st->ino);
		sqlite3_bind_int64(q, 5, st->size);
		sqlite3_bind_int64(q, 6, st->mtime_ns);
		sqlite3_bind_null(q, 7);
		sqlite3_bind_int64(q, 8, (int64_t)now);
		if (inventory_done(inv, q) == -1)
			return -1;
		*id = sqlite3_last_insert_rowid(inv->db);
		return 0;
	}
	*old = inventory_file_sha1s(inv, *id);
	q = inventory_stmt(inv, S_FILE_UPDATE);
	sqlite3_bind_int64(q, 1, *id);
	inventory_bind_text(q, 2, watch);
	sqlite3_bind_text(q, 3, x509_format_name(f->format), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, st->ino);
	sqlite3_bind_int64(q, 5, st->size);
	sqlite3_bind_int64(q, 6, st->mtime_ns);
	sqlite3_bind_int64(q, 7, (int64_t)now);
	if (inventory_done(inv, q) == -1)
		return -1;
	q = inventory_stmt(inv, S_SOURCES_DEL);
	sqlite3_bind_int64(q, 1, *id);
	return inventory_done(inv, q);
}

/* Each certificate of f, and a sources row tying it to file id. */
static int
inventory_file_certs(struct inventory *inv, int64_t id,
    const struct x509_file *f, enum cert_role role, time_t now)
{
	const struct x509_cert	*c;
	sqlite3_stmt		*q;
	size_t			 i;

	for (i = 0; i < f->ncerts; i++) {
		c = &f->certs[i];
		if (inventory_put_cert(inv, c, inventory_auto_role(c, role),
		    now) == -1)
			return -1;
		q = inventory_stmt(inv, S_SOURCE_INSERT);
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int(q, 2, (int)i);
		inventory_bind_hex(q, 3, c->sha1);
		sqlite3_bind_int(q, 4, c->has_private_key);
		if (c->key_matches < 0)
			sqlite3_bind_null(q, 5);
		else
			sqlite3_bind_int(q, 5, c->key_matches);
		if (inventory_done(inv, q) == -1)
			return -1;
	}
	return 0;
}

/* Records error on a file whose certificates were read all the same;
 * one parse_error event per new failure, as inventory_file_error. */
static int
inventory_file_problem(struct inventory *inv, int64_t id, const char *path,
    const char *error, int had_error, time_t now)
{
	sqlite3_stmt	*q = inventory_stmt(inv, S_FILE_PROBLEM);

	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, error, -1, SQLITE_STATIC);
	if (inventory_done(inv, q) == -1)
		return -1;
	if (had_error)
		return 0;
	return inventory_add_event(inv, now, "parse_error", path, NULL,
	    "%s (its certificates are still listed)", error);
}

/* The event that says what happened to a readable file. */
static int
inventory_file_event(struct inventory *inv, const char *path,
    const struct x509_file *f, const char *old, const char *new, int gone,
    int had_error, time_t now)
{
	const char	*first = f->certs[0].sha1;

	if ((old == NULL || gone) && inv->quiet) {
		inv->quiet_files++;
		return 0;
	}
	if (old == NULL || gone)
		return inventory_add_event(inv, now, "discovered", path, first,
		    "%zu certificate%s (%s): %s", f->ncerts,
		    f->ncerts == 1 ? "" : "s", x509_format_name(f->format),
		    f->certs[0].subject);
	if (strcmp(old, new) != 0)
		return inventory_add_event(inv, now, "thumbprint_changed",
		    path, first, "thumbprint changed from %s to %s", old, new);
	if (had_error)
		return inventory_add_event(inv, now, "recovered", path, first,
		    "the file reads again");
	return inventory_add_event(inv, now, "changed", path, first,
	    "file changed, same certificate%s", f->ncerts == 1 ? "" : "s");
}

/*
 * The CRLs of a readable file replace the ones it had (none, when it
 * holds certificates only).  New rows have next_alert 0: alert.c looks.
 */
static int
inventory_file_crls(struct inventory *inv, const char *path,
    const char *watch, const struct x509_file *f)
{
	const struct crl_info	*c;
	sqlite3_stmt		*q;
	size_t			 i;
	int			 rc = 0;

	q = inventory_stmt(inv, S_CRL_DEL);
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	if (inventory_done(inv, q) == -1)
		return -1;
	for (i = 0; i < f->ncrls && rc == 0; i++) {
		c = &f->crls[i];
		q = inventory_stmt(inv, S_CRL_INSERT);
		sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, (int)i);
		sqlite3_bind_text(q, 3, c->sha1, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, c->issuer, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, (int64_t)c->this_update);
		if (c->next_update == (time_t)-1)
			sqlite3_bind_null(q, 6);
		else
			sqlite3_bind_int64(q, 6, (int64_t)c->next_update);
		sqlite3_bind_int64(q, 7, (int64_t)c->revoked);
		inventory_bind_text(q, 8, c->number[0] ? c->number : NULL);
		inventory_bind_text(q, 9, watch);
		rc = inventory_done(inv, q);
	}
	return rc;
}

/* A file of CRLs only: a files row (so rescans skip it) and its CRLs. */
static int
inventory_crl_file(struct inventory *inv, int64_t id, const char *path,
    const char *watch, const struct inv_stat *st, const struct x509_file *f,
    int gone, time_t now)
{
	char	*old = NULL;
	int	 rc = -1;

	if (inventory_file_put(inv, &id, path, watch, st, f, now, &old) == -1 ||
	    inventory_file_crls(inv, path, watch, f) == -1)
		goto out;
	inv->generation++;
	inventory_mark(inv, old);	/* certificates it held before */
	rc = inventory_add_event(inv, now, old == NULL || gone ? "discovered" :
	    "changed", path, NULL, "%zu CRL%s (%s): %s", f->ncrls,
	    f->ncrls == 1 ? "" : "s", x509_format_name(f->format),
	    f->crls[0].issuer);
out:
	free(old);
	return rc;
}

int
inventory_apply_file(struct inventory *inv, const char *path,
    const char *watch, enum cert_role role, const struct inv_stat *st,
    const struct x509_file *f, const char *error, const char *expect_sha1,
    time_t now)
{
	sqlite3_stmt	*q;
	int64_t		 id;
	char		*old = NULL, *new = NULL;
	size_t		 i;
	int		 had_error, gone, drift, known, rc = -1;

	if (inventory_file_get(inv, path, &id, &had_error, &gone,
	    &drift) == -1)
		return -1;
	if (error == NULL && f != NULL && f->ncerts == 0 && f->ncrls > 0)
		return inventory_crl_file(inv, id, path, watch, st, f, gone,
		    now);
	if (f == NULL || f->ncerts == 0) {
		/* Key-only files are not certificates: nothing to record. */
		if (error == NULL && f != NULL && id == 0)
			return 0;
		return inventory_file_error(inv, id, path, watch, st,
		    error ? error : "no certificate found", had_error, now);
	}
	/* An unknown path has no crls rows (they go with its files row):
	 * no DELETE to run unless it has CRLs. */
	known = id != 0;
	if (inventory_file_put(inv, &id, path, watch, st, f, now, &old) == -1 ||
	    inventory_file_certs(inv, id, f, role, now) == -1 ||
	    ((known || f->ncrls > 0) &&
	    inventory_file_crls(inv, path, watch, f) == -1))
		goto out;
	/*
	 * A bad key, a missing password or junk after the blocks is the
	 * file's problem, not its certificates': they stay listed (state
	 * invalid, the reason in the error column) instead of vanishing.
	 */
	if (error != NULL && inventory_file_problem(inv, id, path, error,
	    had_error, now) == -1)
		goto out;
	inv->generation++;
	new = inventory_x509_sha1s(f);
	inventory_mark(inv, old);
	/* A newer certificate for the same name supersedes others.  Not
	 * in a first scan into an empty inventory: every row is this
	 * scan's, due already (next_alert 0), and the alert engine waits
	 * for the scan's end -- an index probe a certificate (issue 16). */
	for (i = 0; inv->quiet != INV_QUIET_FRESH && i < f->ncerts; i++) {
		q = inventory_stmt(inv, S_MARK_SUBJECT);
		sqlite3_bind_text(q, 1, f->certs[i].subject, -1,
		    SQLITE_STATIC);
		inventory_done(inv, q);
	}
	if (inventory_drift(inv, id, path, expect_sha1, old, new, drift,
	    now) == -1)
		goto out;
	rc = inventory_file_event(inv, path, f, old, new, gone,
	    had_error && error == NULL, now);
out:
	free(old);
	free(new);
	return rc;
}

int
inventory_has_certs(struct inventory *inv)
{
	sqlite3_stmt	*st;
	int		 has = 1;	/* on error: as before, mark */

	if (sqlite3_prepare_v2(inv->db, "SELECT EXISTS(SELECT 1 FROM certs)",
	    -1, &st, NULL) != SQLITE_OK)
		return 1;
	if (sqlite3_step(st) == SQLITE_ROW)
		has = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return has;
}

void
inventory_quiet(struct inventory *inv, int on, int64_t *files)
{
	if (files != NULL)
		*files = inv->quiet_files;
	inv->quiet = on;
	inv->quiet_files = 0;
}

int
inventory_mark_gone(struct inventory *inv, const char *path, time_t now)
{
	sqlite3_stmt	*q;
	int64_t		 id;
	char		*old;
	int		 had_error, gone, drift, rc;

	if (inventory_file_get(inv, path, &id, &had_error, &gone,
	    &drift) == -1)
		return -1;
	if (id == 0 || gone)
		return 0;
	q = inventory_stmt(inv, S_FILE_GONE);
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, (int64_t)now);
	if (inventory_done(inv, q) == -1 ||
	    inventory_file_crls(inv, path, NULL, &(struct x509_file){ 0 }) == -1)
		return -1;
	inv->generation++;
	old = inventory_file_sha1s(inv, id);
	inventory_mark(inv, old);
	rc = inventory_add_event(inv, now, "removed", path,
	    *old ? old : NULL, "file removed%s%s", *old ? "; it held " : "",
	    old);
	free(old);
	return rc;
}

/* ---- queries -------------------------------------------------------- */

const char *
inventory_state(time_t now, int64_t nb, int64_t na, int64_t expiring,
    int invalid, int superseded)
{
	if (invalid)
		return "invalid";
	if (superseded)
		return "superseded";
	if ((int64_t)now < nb)
		return "not_yet_valid";
	if ((int64_t)now >= na)
		return "expired";
	if (na - (int64_t)now <= expiring)
		return "expiring";
	return "valid";
}

/*
 * One row per (certificate, live source), grouped by certificate in C.
 * Columns: 0 sha1 .. 15 role, 16 path, 17 format, 18 idx, 19 has_key,
 * 20 key_matches, 21 error, 22 gone, 23 inode, 24 size, 25 mtime_ns,
 * 26 superseded, 27 drift, 28 warnings.
 */
#define INV_CERT_COLS \
	"lower(hex(c.sha1)), lower(hex(c.sha256)), c.subject, c.issuer," \
	" c.serial, c.not_before, c.not_after, c.key_type, c.key_bits," \
	" c.sig_alg, c.san, c.eku, c.is_ca, c.key_usage, c.role," \
	" c.first_seen, f.path, f.format," \
	" s.idx, s.has_key, s.key_matches, f.error, f.gone, f.inode, f.size," \
	" f.mtime_ns, c.superseded, f.drift, c.warnings"

/*
 * list and show write their JSON text directly: building a jansson tree of
 * 10,000 certificates x 25 keys and dumping it cost ~34 us a certificate,
 * five times the rest of the request.  SAN and EKU are stored as JSON
 * text (made by jansson) and are spliced in as they are.
 */
/* The inside of a JSON string; invalid UTF-8 becomes U+FFFD, so the
 * reply stays JSON. */
static void
inv_json_str_body(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (*p) {
		if (*p == '"' || *p == '\\') {
			buf_add(b, "\\", 1);
			buf_add(b, (const char *)p++, 1);
		} else if (*p < 0x20) {
			buf_fmt(b, "\\u%04x", *p++);
		} else if ((n = proto_utf8_len(p)) == 0) {
			buf_cat(b, "\\ufffd");
			p++;
		} else {
			buf_add(b, (const char *)p, n);
			p += n;
		}
	}
}

static void
inv_json_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_cat(b, "null");
		return;
	}
	buf_add(b, "\"", 1);
	inv_json_str_body(b, s);
	buf_add(b, "\"", 1);
}

static void
inv_json_key(struct buf *b, const char *key)
{
	buf_fmt(b, ",\"%s\":", key);
}

/* What one certificate's rows say, gathered before it is written. */
struct inv_src {
	char	*path, *format, *error, *drift;
	int	 idx, has_key, key_matches, gone;
	int64_t	 inode, size;
};

struct inv_cert {
	char		*col[16];	/* the certs columns, as text */
	int64_t		 nb, na;
	int		 superseded;
	char		*warnings;	/* JSON array text, or NULL */
	struct inv_src	*src;
	size_t		 nsrc, capsrc;
};

static char *
inv_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char	*t = sqlite3_column_text(st, i);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

static void
inv_cert_clear(struct inv_cert *c)
{
	size_t	i;

	for (i = 0; i < 16; i++)
		free(c->col[i]);
	free(c->warnings);
	for (i = 0; i < c->nsrc; i++) {
		free(c->src[i].path);
		free(c->src[i].format);
		free(c->src[i].error);
		free(c->src[i].drift);
	}
	free(c->src);
	memset(c, 0, sizeof(*c));
}

struct inv_walk {
	time_t			 now;
	int64_t			 expiring;
	const struct inv_filter	*filter;
	int			 with_sources;
};

static int
inventory_keep(const struct inv_walk *w, const struct inv_cert *c,
    const char *state, int any_live)
{
	const struct inv_filter	*fl = w->filter;
	size_t			 i;

	if (fl == NULL)
		return 1;
	if (!any_live && !fl->all)
		return 0;
	if (fl->expiring >= 0 && !((int64_t)w->now < c->na &&
	    c->na - (int64_t)w->now <= fl->expiring))
		return 0;
	if (fl->expired && strcmp(state, "expired") != 0)
		return 0;
	if (fl->invalid && strcmp(state, "invalid") != 0)
		return 0;
	if (fl->drift) {
		for (i = 0; i < c->nsrc; i++)
			if (!c->src[i].gone && c->src[i].drift != NULL)
				break;
		if (i == c->nsrc)
			return 0;
	}
	if (fl->role != NULL && strcmp(fl->role, c->col[14]) != 0)
		return 0;
	if (fl->path_glob != NULL) {
		for (i = 0; i < c->nsrc; i++)
			if (!c->src[i].gone &&
			    fnmatch(fl->path_glob, c->src[i].path, 0) == 0)
				break;
		if (i == c->nsrc)
			return 0;
	}
	return 1;
}

/* "paths": the files that hold c now. */
static void
inventory_write_paths(struct buf *b, const struct inv_cert *c)
{
	size_t	i;
	int	n = 0;

	buf_cat(b, ",\"paths\":[");
	for (i = 0; i < c->nsrc; i++) {
		if (c->src[i].gone)
			continue;
		if (n++)
			buf_add(b, ",", 1);
		inv_json_str(b, c->src[i].path);
	}
	buf_add(b, "]", 1);
}

/* "sources": every file c was read from, gone ones included. */
static void
inventory_write_sources(struct buf *b, const struct inv_cert *c)
{
	const struct inv_src	*s;
	size_t			 i;

	buf_cat(b, ",\"sources\":[");
	for (i = 0; i < c->nsrc; i++) {
		s = &c->src[i];
		buf_cat(b, i ? ",{\"path\":" : "{\"path\":");
		inv_json_str(b, s->path);
		inv_json_key(b, "format");
		inv_json_str(b, s->format);
		buf_fmt(b, ",\"index\":%d,\"has_private_key\":%s,"
		    "\"key_matches\":%s", s->idx, s->has_key ? "true" :
		    "false", s->key_matches < 0 ? "null" :
		    s->key_matches ? "true" : "false");
		inv_json_key(b, "error");
		inv_json_str(b, s->error);
		buf_fmt(b, ",\"gone\":%s,\"inode\":%lld,\"size\":%lld}",
		    s->gone ? "true" : "false", (long long)s->inode,
		    (long long)s->size);
	}
	buf_add(b, "]", 1);
}

/*
 * "warnings": what was odd about the certificate (read leniently: stored
 * JSON, spliced in) and about its files.  A file whose key (or tail) is
 * bad keeps its certificates; the problem is said here as "PATH:
 * problem", for each file that holds the certificate now.
 */
static void
inventory_write_warnings(struct buf *b, const struct inv_cert *c)
{
	size_t	i, len;
	int	n = 0;

	buf_cat(b, ",\"warnings\":[");
	if (c->warnings != NULL && (len = strlen(c->warnings)) > 2 &&
	    c->warnings[0] == '[') {
		buf_add(b, c->warnings + 1, len - 2);
		n++;
	}
	for (i = 0; i < c->nsrc; i++) {
		if (c->src[i].gone || c->src[i].error == NULL)
			continue;
		if (n++)
			buf_add(b, ",", 1);
		buf_add(b, "\"", 1);
		inv_json_str_body(b, c->src[i].path);
		buf_cat(b, ": ");
		inv_json_str_body(b, c->src[i].error);
		buf_add(b, "\"", 1);
	}
	buf_add(b, "]", 1);
}

/* Writes one certificate as a JSON object (the list/show shape). */
static void
inventory_write_cert(struct buf *b, const struct inv_walk *w,
    const struct inv_cert *c, int *first)
{
	char		 nb[TIMEUTIL_RFC3339_LEN], na[TIMEUTIL_RFC3339_LEN];
	const struct inv_src *lead = NULL, *s;
	const char	*state;
	size_t		 i;
	int		 invalid = 0, haskey = 0, km = -1;

	for (i = 0; i < c->nsrc; i++) {
		s = &c->src[i];
		if (s->gone)
			continue;
		if (lead == NULL)
			lead = s;
		if (s->error != NULL || s->key_matches == 0)
			invalid = 1;
		if (s->has_key) {
			haskey = 1;
			km = s->key_matches == 1;
		}
	}
	/* list --drift names the pinned path that drifted (issue 13). */
	for (i = 0; lead != NULL && w->filter != NULL && w->filter->drift &&
	    i < c->nsrc; i++)
		if (!c->src[i].gone && c->src[i].drift != NULL) {
			lead = &c->src[i];
			break;
		}
	state = lead != NULL ? inventory_state(w->now, c->nb, c->na,
	    w->expiring, invalid, c->superseded) : "gone";
	if (!inventory_keep(w, c, state, lead != NULL))
		return;
	if (lead == NULL)
		lead = &c->src[0];
	buf_cat(b, *first ? "{\"path\":" : ",{\"path\":");
	*first = 0;
	inv_json_str(b, lead->path);
	inv_json_key(b, "format");
	inv_json_str(b, lead->format ? lead->format : "");
	buf_fmt(b, ",\"index\":%d", lead->idx);
	inv_json_key(b, "sha1");
	inv_json_str(b, c->col[0]);
	inv_json_key(b, "sha256");
	inv_json_str(b, c->col[1]);
	inv_json_key(b, "subject");
	inv_json_str(b, c->col[2]);
	inv_json_key(b, "issuer");
	inv_json_str(b, c->col[3]);
	inv_json_key(b, "serial");
	inv_json_str(b, c->col[4]);
	buf_fmt(b, ",\"not_before\":\"%s\",\"not_after\":\"%s\"",
	    timeutil_rfc3339((time_t)c->nb, nb, sizeof(nb)),
	    timeutil_rfc3339((time_t)c->na, na, sizeof(na)));
	inv_json_key(b, "key_type");
	inv_json_str(b, c->col[7]);
	buf_fmt(b, ",\"key_bits\":%s", c->col[8]);
	inv_json_key(b, "sig_alg");
	inv_json_str(b, c->col[9]);
	buf_fmt(b, ",\"san\":%s,\"eku\":%s", c->col[10], c->col[11]);
	buf_fmt(b, ",\"is_ca\":%s,\"has_private_key\":%s,"
	    "\"key_matches\":%s", strcmp(c->col[12], "0") ? "true" : "false",
	    haskey ? "true" : "false", km < 0 ? "null" : km ? "true" :
	    "false");
	inv_json_key(b, "role");
	inv_json_str(b, c->col[14]);
	inventory_write_paths(b, c);
	buf_fmt(b, ",\"days_left\":%lld,\"state\":\"%s\"",
	    (long long)timeutil_days_left((time_t)c->na, w->now), state);
	inventory_write_warnings(b, c);
	if (w->with_sources)
		inventory_write_sources(b, c);
	buf_add(b, "}", 1);
}

/*
 * Walks rows in INV_CERT_COLS shape (grouped by certificate) and writes
 * a JSON array of certificate objects.  The caller frees the text.
 */
static char *
inventory_walk(struct inventory *inv, sqlite3_stmt *st,
    const struct inv_walk *w, size_t *len)
{
	struct buf	 b = { NULL, 0, 0 };
	struct inv_cert	 c;
	struct inv_src	*s;
	const char	*sha1;
	int		 rc, i, first = 1;

	memset(&c, 0, sizeof(c));
	buf_add(&b, "[", 1);
	for (;;) {
		rc = sqlite3_step(st);
		sha1 = rc == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(st, 0) : NULL;
		if (c.col[0] != NULL && (sha1 == NULL ||
		    strcmp(sha1, c.col[0]) != 0)) {
			inventory_write_cert(&b, w, &c, &first);
			inv_cert_clear(&c);
		}
		if (rc != SQLITE_ROW) {
			if (rc != SQLITE_DONE)
				log_error("%s: %s", inv->path,
				    sqlite3_errmsg(inv->db));
			break;
		}
		if (c.col[0] == NULL) {
			for (i = 0; i < 16; i++)
				c.col[i] = inv_col_dup(st, i);
			c.nb = sqlite3_column_int64(st, 5);
			c.na = sqlite3_column_int64(st, 6);
			c.superseded = sqlite3_column_int(st, 26);
			c.warnings = inv_col_dup(st, 28);
		}
		if (c.nsrc == c.capsrc) {
			c.capsrc = c.capsrc ? c.capsrc * 2 : 4;
			c.src = xreallocarray(c.src, c.capsrc, sizeof(*c.src));
		}
		s = &c.src[c.nsrc++];
		s->path = inv_col_dup(st, 16);
		s->format = inv_col_dup(st, 17);
		s->idx = sqlite3_column_int(st, 18);
		s->has_key = sqlite3_column_int(st, 19);
		s->key_matches = sqlite3_column_type(st, 20) == SQLITE_NULL ?
		    -1 : sqlite3_column_int(st, 20);
		s->error = inv_col_dup(st, 21);
		s->gone = sqlite3_column_int(st, 22);
		s->inode = sqlite3_column_int64(st, 23);
		s->size = sqlite3_column_int64(st, 24);
		s->drift = inv_col_dup(st, 27);
	}
	sqlite3_reset(st);
	buf_add(&b, "]", 1);
	*len = b.len;
	return b.p;
}

char *
inventory_list(struct inventory *inv, const struct inv_filter *filter,
    time_t now, int64_t expiring, size_t *len)
{
	static const char sql[] = "SELECT " INV_CERT_COLS " FROM certs c"
	    " JOIN sources s ON s.cert = c.id JOIN files f ON f.id = s.file_id"
	    " ORDER BY c.not_after, c.sha1, f.gone, f.path";
	sqlite3_stmt	*st;
	struct inv_walk	 w = { now, expiring, filter, 0 };
	char		*out;

	if (sqlite3_prepare_v2(inv->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		*len = 2;
		return xstrdup("[]");
	}
	out = inventory_walk(inv, st, &w, len);
	sqlite3_finalize(st);
	return out;
}

/*
 * The CRLs of live files, soonest nextUpdate first (none last), as a JSON
 * array: list --crls.  state: ok, expiring (within expiring seconds of
 * nextUpdate) or stale (nextUpdate passed).
 */
json_t *
inventory_crls(struct inventory *inv, time_t now, int64_t expiring)
{
	static const char sql[] = "SELECT path, idx, sha1, issuer,"
	    " this_update, next_update, revoked, number, watch FROM crls"
	    " ORDER BY next_update IS NULL, next_update, path, idx";
	char		 tu[TIMEUTIL_RFC3339_LEN], nu[TIMEUTIL_RFC3339_LEN];
	sqlite3_stmt	*st;
	json_t		*arr = json_array(), *o;
	int64_t		 na;

	if (sqlite3_prepare_v2(inv->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return arr;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		timeutil_rfc3339((time_t)sqlite3_column_int64(st, 4), tu,
		    sizeof(tu));
		o = json_pack("{s:o, s:i, s:s, s:o, s:s}", "path",
		    proto_string((const char *)sqlite3_column_text(st, 0)),
		    "index", sqlite3_column_int(st, 1), "sha1",
		    sqlite3_column_text(st, 2), "issuer",
		    proto_string((const char *)sqlite3_column_text(st, 3)),
		    "this_update", tu);
		if (sqlite3_column_type(st, 5) == SQLITE_NULL) {
			json_object_set_new(o, "next_update", json_null());
			json_object_set_new(o, "days_left", json_null());
			json_object_set_new(o, "state", json_string("ok"));
		} else {
			na = sqlite3_column_int64(st, 5);
			timeutil_rfc3339((time_t)na, nu, sizeof(nu));
			json_object_set_new(o, "next_update", json_string(nu));
			json_object_set_new(o, "days_left", json_integer(
			    timeutil_days_left((time_t)na, now)));
			json_object_set_new(o, "state", json_string(
			    na <= (int64_t)now ? "stale" :
			    na - (int64_t)now <= expiring ? "expiring" : "ok"));
		}
		json_object_set_new(o, "revoked", json_integer(
		    sqlite3_column_int64(st, 6)));
		json_object_set_new(o, "crl_number", sqlite3_column_type(st, 7)
		    == SQLITE_NULL ? json_null() : json_string((const char *)
		    sqlite3_column_text(st, 7)));
		json_object_set_new(o, "watch", sqlite3_column_type(st, 8) ==
		    SQLITE_NULL ? json_null() : json_string((const char *)
		    sqlite3_column_text(st, 8)));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

static int
inventory_is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F')))
			return 0;
	return 1;
}

static json_t *
inventory_event_row(sqlite3_stmt *st)
{
	char	ts[TIMEUTIL_RFC3339_LEN];

	return json_pack("{s:I, s:s, s:s, s:o, s:s?, s:o}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "time", timeutil_rfc3339((time_t)sqlite3_column_int64(st, 1), ts,
	    sizeof(ts)),
	    "kind", (const char *)sqlite3_column_text(st, 2),
	    "path", proto_string((const char *)sqlite3_column_text(st, 3)),
	    "sha1", (const char *)sqlite3_column_text(st, 4),
	    "message", proto_string((const char *)sqlite3_column_text(st,
	    5)));
}

/* A certificate's events: its own, and those at the paths holding it. */
static json_t *
inventory_cert_events(struct inventory *inv, const char *sha1)
{
	static const char sql[] = "SELECT id, time, kind, path, sha1, message"
	    " FROM events WHERE sha1 = ?1 OR path IN (SELECT f.path FROM"
	    " certs c JOIN sources s ON s.cert = c.id"
	    " JOIN files f ON f.id = s.file_id WHERE c.sha1 = cv_unhex(?1))"
	    " ORDER BY id";
	sqlite3_stmt	*st;
	json_t		*out = json_array();

	if (sqlite3_prepare_v2(inv->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return out;
	}
	sqlite3_bind_text(st, 1, sha1, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(out, inventory_event_row(st));
	sqlite3_finalize(st);
	return out;
}

json_t *
inventory_show(struct inventory *inv, const char *key, time_t now,
    int64_t expiring, const char **code, struct cv_err *err)
{
	/* A prefix: the thumbprints from the prefix padded with 0s to
	 * the prefix padded with fs (?1, ?2). */
	static const char by_sha1[] = "SELECT " INV_CERT_COLS " FROM certs c"
	    " JOIN sources s ON s.cert = c.id JOIN files f ON f.id = s.file_id"
	    " WHERE c.sha1 BETWEEN ?1 AND ?2"
	    " ORDER BY c.sha1, f.gone, f.path";
	/* A path: the file's certificates, the leaf with a key first. */
	static const char by_path[] = "SELECT " INV_CERT_COLS " FROM certs c"
	    " JOIN sources s ON s.cert = c.id JOIN files f ON f.id = s.file_id"
	    " WHERE c.id = (SELECT s2.cert FROM sources s2 JOIN files f2"
	    "  ON f2.id = s2.file_id JOIN certs c2 ON c2.id = s2.cert"
	    "  WHERE f2.path = ?1 ORDER BY c2.is_ca, s2.has_key DESC, s2.idx"
	    "  LIMIT 1) ORDER BY f.gone, f.path";
	struct inv_walk	 w = { now, expiring, NULL, 1 };
	sqlite3_stmt	*st;
	json_t		*arr, *o = NULL, *mine;
	const char	*sql;
	static const char zeros[41] =
	    "0000000000000000000000000000000000000000";
	char		 hex[41], bound[41], *text;
	size_t		 i, len;

	if (key[0] != '/') {
		if (strlen(key) < 4 || strlen(key) > 40 ||
		    !inventory_is_hex(key)) {
			*code = "bad_request";
			cv_err_set(err, "'%s' is neither an absolute path nor "
			    "a SHA-1 prefix of 4 to 40 hex digits", key);
			return NULL;
		}
		for (i = 0; key[i]; i++)
			hex[i] = (char)(key[i] | 0x20);
		hex[i] = '\0';
		key = hex;
		sql = by_sha1;
	} else
		sql = by_path;
	if (sqlite3_prepare_v2(inv->db, sql, -1, &st, NULL) != SQLITE_OK) {
		*code = "internal";
		cv_err_set(err, "%s", sqlite3_errmsg(inv->db));
		return NULL;
	}
	if (sql == by_sha1) {
		/* key: 4 to 40 lowercase hex digits (checked above) */
		memcpy(bound, zeros, sizeof(bound));
		memcpy(bound, key, strlen(key));
		inventory_bind_hex(st, 1, bound);
		memset(bound, 'f', sizeof(bound) - 1);
		memcpy(bound, key, strlen(key));
		inventory_bind_hex(st, 2, bound);
	} else
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	text = inventory_walk(inv, st, &w, &len);
	sqlite3_finalize(st);
	arr = json_loadb(text, len, 0, NULL);
	free(text);
	if (arr == NULL)
		arr = json_array();
	if (json_array_size(arr) == 0) {
		*code = "not_found";
		cv_err_set(err, "no certificate %s '%s' in the inventory",
		    sql == by_path ? "at" : "with thumbprint", key);
	} else if (json_array_size(arr) > 1) {
		*code = "ambiguous";
		cv_err_set(err, "'%s' matches %zu certificates; give more "
		    "digits", key, json_array_size(arr));
	} else {
		o = json_incref(json_array_get(arr, 0));
		mine = inventory_cert_events(inv, json_string_value(
		    json_object_get(o, "sha1")));
		json_object_set_new(o, "events", mine);
	}
	json_decref(arr);
	return o;
}

json_t *
inventory_events(struct inventory *inv, time_t since, int64_t after_id,
    int64_t before_id, int64_t limit)
{
	/* Forward from after_id (oldest first), or the newest before
	 * before_id (read newest first, returned oldest first). */
	static const char fwd[] = "SELECT id, time, kind, path, sha1, message"
	    " FROM events WHERE time >= ?1 AND id > ?2 AND id < ?3"
	    " ORDER BY id LIMIT ?4";
	static const char back[] = "SELECT id, time, kind, path, sha1, message"
	    " FROM events WHERE time >= ?1 AND id > ?2 AND id < ?3"
	    " ORDER BY id DESC LIMIT ?4";
	sqlite3_stmt	*st;
	json_t		*out = json_array();

	if (sqlite3_prepare_v2(inv->db, after_id >= 0 ? fwd : back, -1, &st,
	    NULL) != SQLITE_OK) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return out;
	}
	sqlite3_bind_int64(st, 1, (int64_t)since);
	sqlite3_bind_int64(st, 2, after_id >= 0 ? after_id : 0);
	sqlite3_bind_int64(st, 3, before_id > 0 ? before_id : INT64_MAX);
	sqlite3_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (after_id >= 0)
			json_array_append_new(out, inventory_event_row(st));
		else
			json_array_insert_new(out, 0, inventory_event_row(st));
	}
	sqlite3_finalize(st);
	return out;
}

/*
 * One statement of inventory_prune: deletes at most batch rows; returns
 * how many, or -1.
 */
static int64_t
inventory_prune_one(struct inventory *inv, const char *sql, int64_t a,
    int64_t batch)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if (sqlite3_prepare_v2(inv->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, batch);
	if (sqlite3_step(st) == SQLITE_DONE)
		n = sqlite3_changes(inv->db);
	else
		log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
	sqlite3_finalize(st);
	return n;
}

int64_t
inventory_prune(struct inventory *inv, time_t cutoff, int64_t max_rows,
    int64_t batch)
{
	/* Each through an index (events_time, the primary keys) but the
	 * files one, a scan of files; LIMIT bounds the work of a run. */
	static const char *sql[] = {
		"DELETE FROM events WHERE id IN (SELECT id FROM events"
		" WHERE time < ?1 ORDER BY time LIMIT ?2)",
		"DELETE FROM events WHERE id IN (SELECT id FROM events"
		" WHERE id <= (SELECT max(id) FROM events) - ?1"
		" ORDER BY id LIMIT ?2)",
		/* sources go with their file (ON DELETE CASCADE) */
		"DELETE FROM files WHERE id IN (SELECT id FROM files"
		" WHERE gone = 1 AND last_change < ?1 LIMIT ?2)",
		/* certificates nothing names any more: no file, binding,
		 * nor the store */
		"DELETE FROM certs WHERE id IN (SELECT c.id FROM certs c"
		" WHERE c.first_seen < ?1"
		" AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.cert = c.id)"
		" AND NOT EXISTS (SELECT 1 FROM bindings b"
		"  WHERE b.certhash = lower(hex(c.sha1)))"
		" AND NOT EXISTS (SELECT 1 FROM store t"
		"  WHERE t.sha1 = lower(hex(c.sha1)))"
		" LIMIT ?2)",
	};
	int64_t	 n, total = 0;
	size_t	 i;

	if (inventory_begin(inv) == -1)
		return -1;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		n = inventory_prune_one(inv, sql[i], i == 1 ? max_rows :
		    (int64_t)cutoff, batch);
		if (n == -1) {
			inventory_exec(inv, "ROLLBACK", NULL);
			return -1;
		}
		total += n;
	}
	if (inventory_commit(inv) == -1)
		return -1;
	if (total > 0)
		inv->generation++;
	return total;
}

/*
 * While a full scan runs (inventory_counts_lazy) the loop never counts
 * when it has counts at all: the scanner's writer thread counts on its
 * own connection, at most once a second, and installs the result
 * (inventory_counts_install).  Counting is O(certificates) -- 70 ms a
 * status request at 100,000 certificates when the loop did it (issue 16).
 */
void
inventory_counts_lazy(struct inventory *inv, int on)
{
	inv->cache_lazy = on;
}

void
inventory_counts_install(struct inventory *inv, const struct inv_counts *c,
    time_t until, int64_t expiring)
{
	inv->cache = *c;
	inv->cache_gen = inv->generation;
	inv->cache_until = until;
	inv->cache_expiring = expiring;
}

static void
inventory_count_state(struct inv_counts *c, const char *state)
{
	if (!strcmp(state, "valid"))
		c->valid++;
	else if (!strcmp(state, "expiring"))
		c->expiring++;
	else if (!strcmp(state, "expired"))
		c->expired++;
	else if (!strcmp(state, "not_yet_valid"))
		c->not_yet_valid++;
	else if (!strcmp(state, "superseded"))
		c->superseded++;
	else
		c->invalid++;
}

int
inventory_count(struct inventory *inv, time_t now, int64_t expiring,
    struct inv_counts *c, time_t *untilp)
{
	/* Per live certificate: its validity window and whether any live
	 * source is broken. */
	static const char certs_sql[] = "SELECT c.not_before, c.not_after,"
	    " max(f.error IS NOT NULL OR s.key_matches = 0), c.superseded"
	    " FROM certs c"
	    " JOIN sources s ON s.cert = c.id JOIN files f ON f.id = s.file_id"
	    " WHERE f.gone = 0 GROUP BY c.id";
	static const char files_sql[] = "SELECT count(*),"
	    " sum(error IS NOT NULL AND gone = 0), sum(gone) FROM files";
	sqlite3_stmt	*st;
	int64_t		 nb, na, t;
	time_t		 until = (time_t)INT64_MAX;

	memset(c, 0, sizeof(*c));
	if (sqlite3_prepare_v2(inv->db, certs_sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW) {
		nb = sqlite3_column_int64(st, 0);
		na = sqlite3_column_int64(st, 1);
		c->total++;
		inventory_count_state(c, inventory_state(now, nb, na, expiring,
		    sqlite3_column_int(st, 2), sqlite3_column_int(st, 3)));
		/* The next moment any of these states changes. */
		for (t = nb; ; t = na - expiring) {
			if (t > (int64_t)now && t < (int64_t)until)
				until = (time_t)t;
			if (t == na - expiring)
				break;
		}
		if (na > (int64_t)now && na < (int64_t)until)
			until = (time_t)na;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(inv->db, files_sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW) {
		c->files = sqlite3_column_int64(st, 0);
		c->file_errors = sqlite3_column_int64(st, 1);
		c->files_gone = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	*untilp = until;
	return 0;
fail:
	log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
	return -1;
}

int
inventory_counts(struct inventory *inv, time_t now, int64_t expiring,
    struct inv_counts *c)
{
	time_t	until;

	/*
	 * Cached until the inventory changes or the clock reaches the next
	 * state change of any certificate, so a status request costs no
	 * SQL in the steady state.
	 */
	if (inv->cache_gen >= 0 && now < inv->cache_until &&
	    inv->cache_expiring == expiring &&
	    (inv->cache_gen == inv->generation || inv->cache_lazy)) {
		*c = inv->cache;
		return 0;
	}
	if (inventory_count(inv, now, expiring, c, &until) == -1)
		return -1;
	inventory_counts_install(inv, c, until, expiring);
	return 0;
}

int64_t
inventory_db_size(struct inventory *inv)
{
	struct stat	st;
	char		*wal;
	int64_t		 n = 0;

	if (stat(inv->path, &st) == 0)
		n += st.st_size;
	xasprintf(&wal, "%s-wal", inv->path);
	if (stat(wal, &st) == 0)
		n += st.st_size;
	free(wal);
	return n;
}

int
inventory_file_leaf(struct inventory *inv, const struct inv_stat *st,
    char sha1[41], int64_t *nb, int64_t *na)
{
	sqlite3_stmt	*q = inventory_stmt(inv, S_FILE_LEAF);
	const char	*s;
	int		 rc;

	sqlite3_bind_text(q, 1, st->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, st->ino);
	sqlite3_bind_int64(q, 3, st->size);
	sqlite3_bind_int64(q, 4, st->mtime_ns);
	if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
		sqlite3_reset(q);
		if (rc != SQLITE_DONE)
			log_error("%s: %s", inv->path, sqlite3_errmsg(inv->db));
		return rc == SQLITE_DONE ? 1 : -1;
	}
	s = (const char *)sqlite3_column_text(q, 0);
	snprintf(sha1, 41, "%s", s ? s : "");
	*nb = sqlite3_column_int64(q, 1);
	*na = sqlite3_column_int64(q, 2);
	sqlite3_reset(q);
	return 0;
}
