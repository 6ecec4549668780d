/*
 * Scanning: the full walk (thread pool), the stat cache merge, parsing in
 * batches on the thread pool, writing results from a thread of its own
 * (scan_writer.c) and applying their effects on the loop thread, and
 * the uv_fs_event watchers that make one changed file cost one file's work.
 */
#ifndef CV_SCAN_H
#define CV_SCAN_H

#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "conf.h"
#include "inventory.h"

struct scan;

struct scan_progress {
	int		 scanning;
	int64_t		 files_total;	/* queued by the current scan */
	int64_t		 files_done;
	uint64_t	 last_started_ms;	/* uv_now() of the last start */
	time_t		 last_started;
	time_t		 last_finished;	/* 0: never */
	double		 last_duration;	/* seconds */
	int64_t		 last_files_read;	/* by the last full scan */
	int64_t		 files_parsed;	/* since start, for metrics */
};

/* Called on the loop thread when a full scan has been applied. */
typedef void (*scan_done_cb)(void *arg, int first);

/*
 * inv: the loop's connection; winv: a second connection to the same
 * inventory, which the scanner takes for its writer thread (closed with
 * the scanner, or here on failure).  NULL + err when the thread cannot
 * start.
 */
struct scan	*scan_new(uv_loop_t *, struct inventory *inv,
		    struct inventory *winv, struct config *, scan_done_cb,
		    void *arg, struct cv_err *);
/* Starts a full scan (walk + merge); a scan already running is re-run
 * when it ends. */
void		 scan_full(struct scan *);
/* Replaces the config (SIGHUP): watchers are rebuilt by a full scan. */
void		 scan_set_config(struct scan *, struct config *);
void		 scan_get_progress(struct scan *, struct scan_progress *);
/*
 * Whether a configured watch path was absent (a glob: matched nothing)
 * at the last full scan and has not appeared since; the generation
 * changes whenever that set does (status caches on it).
 */
int		 scan_missing(struct scan *, const char *path);
int64_t		 scan_missing_generation(struct scan *);
/* Whether work is in flight (shutdown waits for it). */
int		 scan_busy(struct scan *);
/* The calling thread (the pool's, the writer's) at the scan's lower
 * priority, once per thread. */
void		 scan_nice_thread(void);
/* Closes watchers and timers; cb runs once everything is closed. */
void		 scan_close(struct scan *, void (*cb)(void *), void *arg);

#endif
