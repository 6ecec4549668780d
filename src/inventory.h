/*
 * The SQLite inventory: schema and migrations, and every SQL statement.
 * Only the loop thread touches it.
 */
#ifndef CV_INVENTORY_H
#define CV_INVENTORY_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "conf.h"
#include "cverr.h"
#include "x509.h"

struct inventory;

/* What a file looked like when it was last read (the stat cache). */
struct inv_stat {
	char	*path;
	int64_t	 ino;
	int64_t	 size;
	int64_t	 mtime_ns;
	int	 has_error;	/* re-read on every full scan */
};

struct inv_counts {
	int64_t	total, valid, expiring, expired, not_yet_valid, invalid;
	int64_t	superseded;
	int64_t	files, file_errors, files_gone;
};

struct inv_filter {
	int64_t		 expiring;	/* -1: no filter; else within seconds */
	int		 expired;
	int		 invalid;
	int		 drift;		/* at a pinned path that drifted */
	int		 all;		/* include certs no live file holds */
	const char	*role;		/* NULL: any */
	const char	*path_glob;	/* NULL: any */
};

/* Called for every new event row (the daemon streams it to watchers). */
typedef void (*inv_event_cb)(void *arg, json_t *event);

int	 inventory_open(const char *path, struct inventory **, struct cv_err *);
void	 inventory_close(struct inventory *);
void	 inventory_set_event_cb(struct inventory *, inv_event_cb, void *);
int	 inventory_begin(struct inventory *);
int	 inventory_commit(struct inventory *);

/* Live (not gone) files, sorted by path (strcmp order).  Caller frees. */
int	 inventory_stat_cache(struct inventory *, struct inv_stat **, size_t *);
void	 inventory_stat_cache_free(struct inv_stat *, size_t);

/*
 * Records what a read of path found: f on success, or error (f NULL, or
 * partial) when it failed.  A failure keeps the file's last good
 * certificates.  Emits discovered/changed/thumbprint_changed/parse_error
 * events.
 */
int	 inventory_apply_file(struct inventory *, const char *path,
	    const char *watch, enum cert_role, const struct inv_stat *st,
	    const struct x509_file *f, const char *error,
	    const char *expect_sha1, time_t now);
/*
 * A binding's certhash changed (renewal done, binding add/update): the
 * certificates of that one's subject are evaluated again (supersession
 * follows what is deployed; alert.c).
 */
void	 inventory_mark_namesakes(struct inventory *, const char *sha1);
/* The file is gone: marks it, emits a "removed" event. */
int	 inventory_mark_gone(struct inventory *, const char *path, time_t now);

/*
 * Lazy (on = 1, while a full scan runs): inventory_counts returns the
 * last counts it has, however the inventory changed since; the scanner's
 * writer thread installs fresh ones (inventory_counts_install) at most a
 * second apart.  Exact again once off.
 */
void	 inventory_counts_lazy(struct inventory *, int on);
/* Counts taken elsewhere (another connection), valid until until. */
void	 inventory_counts_install(struct inventory *,
	    const struct inv_counts *, time_t until, int64_t expiring);
/*
 * Quiet (on = 1): files discovered are counted instead of recorded one
 * "discovered" event each -- a large first scan records one scan_finished
 * summary instead (scan.c; issue 16).  Each call returns the count so far
 * (files, may be NULL) and clears it.  on = INV_QUIET_FRESH: the certs
 * table was empty when the scan began, so every row is the scan's own
 * and already due: namesakes are not marked (inventory_apply_file).
 */
#define INV_QUIET_FRESH	2
void	 inventory_quiet(struct inventory *, int on, int64_t *files);
/* Whether the inventory holds any certificate (gone files' and the
 * store's included). */
int	 inventory_has_certs(struct inventory *);
int	 inventory_add_event(struct inventory *, time_t, const char *kind,
	    const char *path, const char *sha1, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

int	 inventory_counts(struct inventory *, time_t now, int64_t expiring,
	    struct inv_counts *);
/* Counts now, uncached; *until: when the first certificate's state
 * changes by the clock alone. */
int	 inventory_count(struct inventory *, time_t now, int64_t expiring,
	    struct inv_counts *, time_t *until);
/* The list as JSON text (an array); the caller frees it. */
char	*inventory_list(struct inventory *, const struct inv_filter *,
	    time_t now, int64_t expiring, size_t *len);
/* The CRLs of live files as a JSON array (list --crls; issue 13). */
json_t	*inventory_crls(struct inventory *, time_t now, int64_t expiring);
/* key: a SHA-1 prefix (4+ hex digits) or a path.  NULL + err if none. */
json_t	*inventory_show(struct inventory *, const char *key, time_t now,
	    int64_t expiring, const char **code, struct cv_err *);
/* Events since since: with after_id >= 0 the oldest limit after it;
 * with after_id < 0 the newest limit before before_id (0: none).  Either
 * way oldest first; limit 0 is no limit. */
json_t	*inventory_events(struct inventory *, time_t since, int64_t after_id,
	    int64_t before_id, int64_t limit);
int64_t	 inventory_db_size(struct inventory *);
/*
 * Retention (issue 12 item 9): deletes events older than cutoff and all
 * but the newest max_rows, files gone before cutoff with their sources,
 * and certificates nothing refers to any more -- at most batch rows of
 * each kind, in one transaction.  Returns the rows deleted, or -1.
 */
int64_t	 inventory_prune(struct inventory *, time_t cutoff, int64_t max_rows,
	    int64_t batch);
/* valid, expiring, expired, not_yet_valid, invalid or superseded. */
const char *inventory_state(time_t now, int64_t nb, int64_t na,
	    int64_t expiring, int invalid, int superseded);
/*
 * The leaf certificate of the file st->path as the scanner last read it,
 * only if the file still has st's inode, size and mtime: 0, 1 when the
 * inventory cannot tell (not watched, changed since, unreadable), -1 on
 * a database error.
 */
int	 inventory_file_leaf(struct inventory *, const struct inv_stat *st,
	    char sha1[41], int64_t *not_before, int64_t *not_after);
/* The connection, for subsystems with tables of their own (alerts). */
struct sqlite3	*inventory_db(struct inventory *);
int64_t	 inventory_generation(struct inventory *);
/* The inventory changed through another connection (caches go stale). */
void	 inventory_touch(struct inventory *);
/* An event another connection recorded, to this one's event callback. */
void	 inventory_emit(struct inventory *, json_t *);
/*
 * The scanner's writer connection: its waits for the write lock are not
 * announced, and it calls inventory_yield (any thread, outside a
 * transaction) to let a waiting connection take the lock first.
 */
void	 inventory_set_yields(struct inventory *);
void	 inventory_yield(void);
/* SQLite's unused page cache back to the heap. */
void	 inventory_release_memory(struct inventory *);

#endif
