#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "scan.h"
#include "scan_writer.h"
#include "timeutil.h"
#include "xmalloc.h"

/*
 * Files per thread-pool job: up to 256 rather than 48 cut the loop's CPU
 * per file by a quarter when a job was also one transaction (commits and
 * WAL writes; 10k corpus: 0.233 -> 0.173 s).  Jobs are written by the
 * writer thread (scan_writer.c), which commits every few milliseconds.
 * A job takes an eighth of what is queued, within these bounds, so that
 * a few hundred files still spread over every pool thread.
 */
#define SCAN_BATCH		256
#define SCAN_BATCH_MIN		48
#define SCAN_INFLIGHT		12	/* jobs queued: the pool never starves */
#define SCAN_DEBOUNCE_MS	30	/* quiet time after a file event */
#define SCAN_DEBOUNCE_MAX_MS	300	/* ... but never longer than this */
#define SCAN_MAX_DEPTH		64
#define SCAN_MAX_SKIPPED	100000	/* paths remembered as reported */
/* While a full scan runs the writer thread counts for status (it is
 * O(certificates)) at most this often, and never more often than ten
 * times what the last count took. */
#define SCAN_COUNT_NS		1000000000
/*
 * The nice value of the threads that read and write a scan (the pool's,
 * once they parse, and the writer's): the loop thread wins the CPU when a
 * control request or a renewal's step wakes it, and a scan of a large
 * tree gives way to the host's services.
 */
#define SCAN_NICE		10
/* A first scan into an empty inventory of more files than this records
 * one scan_finished event, not one "discovered" event a file. */
#define SCAN_QUIET_FIRST	1000

/* One file to look at, and, after the worker ran, what it found. */
struct scan_item {
	char			*path;
	int			 watch;		/* index in cf->watches */
	int			 from_event;	/* a watcher saw it change */
	struct inv_stat		 st;
	/* results (worker) */
	int			 gone;
	int			 is_dir;
	int			 skip;
	struct x509_file	*f;
	char			*error;
};

/* A path the walk passed over, and why (reported once, see scan_skipped). */
struct scan_skip {
	char	*path;
	char	*reason;
};

struct scan_dirspec {
	char	*dir;
	int	 watch;
	char	*pattern;	/* NULL: any file; else fnmatch(full path) */
	int	 recursive;
};

struct scan_dirwatch {
	uv_fs_event_t		 h;		/* first: the handle is the key */
	struct scan		*s;
	struct scan_dirspec	 spec;
	int			 seen;
};

/*
 * A parse job: a batch of items for the thread pool, then for the writer
 * thread, which frees each item's x509_file once written, reads the rest
 * (the loop frees it when the job is back) and fills in the results
 * below it.
 */
struct scan_job {
	uv_work_t		 req;
	struct scan		*s;
	struct config		*cf;
	struct scan_item	*items;
	size_t			 n;
	struct scan_job		*next;		/* at the writer */
	/* for the writer (set on the loop when pushed) */
	int			 quiet;		/* inventory_quiet */
	int			 lazy;		/* a full scan runs: count */
	int			 final;		/* no items: count exactly */
	int64_t			 expiring;
	/* from the writer */
	int64_t			 gen0;
	int			 changed;
	int64_t			 quiet_files;
	json_t			*events;	/* array, to emit on the loop */
	int			 counted;
	struct inv_counts	 counts;
	time_t			 counts_until;
};

/* A walk job: every watch (full) or one new directory (partial). */
struct scan_walk {
	uv_work_t		 req;
	struct scan		*s;
	struct config		*cf;
	int			 full;
	char			*root;		/* partial: the new directory */
	int			 root_watch;
	struct scan_item	*items;
	size_t			 n, cap;
	struct scan_dirspec	*dirs;
	size_t			 ndirs, capdirs;
	struct scan_skip	*skips;
	size_t			 nskips, capskips;
	char			**missing;	/* full: configured paths
						 * absent (or globs matching
						 * nothing) */
	int			*missing_watch;
	size_t			 nmissing;
};

struct scan_pending {
	char	*path;
	int	 watch;
	int	 recursive;
};

struct scan {
	uv_loop_t		*loop;
	struct inventory	*inv;
	struct config		*cf;
	scan_done_cb		 done_cb;
	void			*done_arg;

	struct scan_item	*queue;		/* FIFO of items to parse */
	size_t			 qhead, qlen, qcap;
	struct scan_job		*inflight[SCAN_INFLIGHT];
	int			 ninflight;
	struct scan_job		*wq, *wq_tail;	/* parsed, at the writer */
	int			 nwq;
	struct scan_writer	*wr;
	int			 fin_ready;	/* a final job is back:
						 * fin_counts */
	struct inv_counts	 fin_counts;
	int64_t			 quiet_files;
	/* the writer thread's alone */
	struct scan_job		*wcur;
	uint64_t		 wcount_at, wcount_cost;
	int			 walking;
	int			 full_running;
	int			 full_again;
	int			 first_done;
	int			 quiet_first;	/* inventory_quiet is on */
	struct scan_progress	 prog;

	struct scan_dirwatch	**dw;
	size_t			 ndw;

	char			**missing;	/* the last full walk's */
	size_t			 nmissing;
	int64_t			 missing_gen;	/* bumped when it changes */

	char			**reported;	/* sorted: skipped paths
						 * already in an event */
	size_t			 nreported;
	int			 skipped_full;

	struct scan_pending	*pend;
	size_t			 npend, cappend;
	uint64_t		 pend_since;
	uv_timer_t		 debounce;
	uv_timer_t		 rescan;

	int			 closing;
	int			 stop;		/* atomic: parse workers stop
						 * between files (shutdown) */
	int			 open_handles;
	void			(*close_cb)(void *);	/* the caller's */
	void			*close_arg;
};

static void	scan_final(struct scan *);

static void	scan_dispatch(struct scan *);
static void	scan_push_final(struct scan *);
static void	scan_missing_appeared(struct scan *, const char *);
static void	scan_start_walk(struct scan *, int full, const char *root,
		    int watch);

static void
scan_item_clear(struct scan_item *it)
{
	free(it->path);
	x509_file_free(it->f);
	free(it->error);
	memset(it, 0, sizeof(*it));
}

/*
 * Lowers the calling thread's priority, once per thread (Linux: the nice
 * value of a thread id is the thread's own).  The pool's threads keep it
 * for other work, which is background work too.
 */
void
scan_nice_thread(void)
{
	static __thread int	done;

	if (done)
		return;
	done = 1;
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), SCAN_NICE) == -1)
		log_debug("scan: setpriority: %s", strerror(errno));
}

static int
scan_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
scan_excluded(const struct config_watch *w, const char *path)
{
	const char	*base = strrchr(path, '/');
	size_t		 i;

	base = base ? base + 1 : path;
	for (i = 0; i < w->nexcludes; i++)
		if (fnmatch(w->excludes[i], base, 0) == 0 ||
		    fnmatch(w->excludes[i], path, 0) == 0)
			return 1;
	return 0;
}

static void
scan_fill_stat(struct inv_stat *st, const struct stat *sb)
{
	st->ino = (int64_t)sb->st_ino;
	st->size = (int64_t)sb->st_size;
	st->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	    sb->st_mtim.tv_nsec;
}

/* ---- walking (thread pool) ------------------------------------------ */

static void
scan_walk_add_file(struct scan_walk *w, const char *path, int watch,
    const struct stat *sb)
{
	struct scan_item	*it;

	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->items = xreallocarray(w->items, w->cap, sizeof(*w->items));
	}
	it = &w->items[w->n++];
	memset(it, 0, sizeof(*it));
	it->path = xstrdup(path);
	it->watch = watch;
	scan_fill_stat(&it->st, sb);
}

static void
scan_walk_add_dir(struct scan_walk *w, const char *dir, int watch,
    const char *pattern, int recursive)
{
	struct scan_dirspec	*d;

	if (w->ndirs == w->capdirs) {
		w->capdirs = w->capdirs ? w->capdirs * 2 : 16;
		w->dirs = xreallocarray(w->dirs, w->capdirs, sizeof(*w->dirs));
	}
	d = &w->dirs[w->ndirs++];
	d->dir = xstrdup(dir);
	d->watch = watch;
	d->pattern = pattern ? xstrdup(pattern) : NULL;
	d->recursive = recursive;
}

static void
scan_walk_skip(struct scan_walk *w, const char *path, const char *reason)
{
	struct scan_skip	*k;

	if (w->nskips == w->capskips) {
		w->capskips = w->capskips ? w->capskips * 2 : 16;
		w->skips = xreallocarray(w->skips, w->capskips,
		    sizeof(*w->skips));
	}
	k = &w->skips[w->nskips++];
	k->path = xstrdup(path);
	k->reason = xstrdup(reason);
}

/* Why a file that is not a regular one is passed over. */
static const char *
scan_skip_reason(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO, not a regular file";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device, not a regular file";
	if (S_ISSOCK(m))
		return "a socket, not a regular file";
	return "not a regular file";
}

/*
 * A symlink found in a watched directory: *sb becomes its target's stat,
 * or -1 (reported) when it is not followed.  Whoever can write into a
 * watched directory must not make root read a file they cannot (a
 * root-only key or certificate shown to every socket reader), so a link
 * is followed as the kernel's fs.protected_symlinks reasons: root's link,
 * or a link with its target's owner.  fsutil_open() holds the loader to
 * the same rule should the link change before the file is read.
 */
static int
scan_walk_link(struct scan_walk *w, const char *path, struct stat *sb)
{
	uid_t	luid = sb->st_uid;
	char	*why;

	if (stat(path, sb) == -1) {
		scan_walk_skip(w, path, errno == ELOOP ? "symlink loop" :
		    errno == ENOENT ? "dangling symlink" : strerror(errno));
		return -1;
	}
	if (luid == 0 || luid == sb->st_uid || S_ISDIR(sb->st_mode))
		return 0;
	xasprintf(&why, "a symlink owned by uid %lu to a file of uid %lu: "
	    "not followed", (unsigned long)luid, (unsigned long)sb->st_uid);
	scan_walk_skip(w, path, why);
	free(why);
	return -1;
}

static void
scan_walk_dir(struct scan_walk *w, const struct config_watch *cw, int watch,
    const char *dir, int depth)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	char		*path;

	if ((d = opendir(dir)) == NULL) {
		log_warn("%s: %s", dir, strerror(errno));
		return;
	}
	scan_walk_add_dir(w, dir, watch, NULL, cw->recursive);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		xasprintf(&path, "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name);
		if (scan_excluded(cw, path) ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW)
		    == -1) {
			free(path);
			continue;
		}
		/*
		 * Symlinks to files are followed (/etc/ssl/certs is made of
		 * them); symlinks to directories are not, so a link loop
		 * cannot trap the walk.
		 */
		if (S_ISLNK(sb.st_mode) && scan_walk_link(w, path, &sb) == -1) {
			free(path);
			continue;
		}
		if (S_ISREG(sb.st_mode))
			scan_walk_add_file(w, path, watch, &sb);
		else if (S_ISDIR(sb.st_mode)) {
			if (de->d_type == DT_LNK) {
				if (cw->recursive)
					scan_walk_skip(w, path, "symlink to a "
					    "directory: not followed");
			} else if (cw->recursive && depth < SCAN_MAX_DEPTH)
				scan_walk_dir(w, cw, watch, path, depth + 1);
			else if (cw->recursive)
				scan_walk_skip(w, path, "deeper than 64 "
				    "directories: not walked");
		} else
			scan_walk_skip(w, path, scan_skip_reason(sb.st_mode));
		free(path);
	}
	closedir(d);
}

/* A configured path that is not there: reported once by the loop. */
static void
scan_walk_missing(struct scan_walk *w, int watch, const char *path)
{
	w->missing = xreallocarray(w->missing, w->nmissing + 1,
	    sizeof(*w->missing));
	w->missing_watch = xreallocarray(w->missing_watch, w->nmissing + 1,
	    sizeof(*w->missing_watch));
	w->missing[w->nmissing] = xstrdup(path);
	w->missing_watch[w->nmissing++] = watch;
}

static void
scan_walk_root(struct scan_walk *w, const struct config_watch *cw,
    int watch, const char *root)
{
	struct stat	 sb;
	char		*copy;

	if (stat(root, &sb) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("%s: %s", root, strerror(errno));
		else
			scan_walk_missing(w, watch, root);
	} else if (S_ISDIR(sb.st_mode)) {
		scan_walk_dir(w, cw, watch, root, 0);
		return;
	} else if (S_ISREG(sb.st_mode) && !scan_excluded(cw, root)) {
		scan_walk_add_file(w, root, watch, &sb);
	}
	/* A file (present or not yet): watch its directory for it. */
	copy = xstrdup(root);
	scan_walk_add_dir(w, dirname(copy), watch, root, 0);
	free(copy);
}

static int
scan_item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct scan_item *)a)->path,
	    ((const struct scan_item *)b)->path);
}

static void
scan_walk_work(uv_work_t *req)
{
	struct scan_walk	*w = req->data;
	struct config_watch	*cw;
	glob_t			 g;
	size_t			 i, k, j;
	char			*copy;
	int			 rc;

	scan_nice_thread();
	if (!w->full) {
		cw = &w->cf->watches[w->root_watch];
		scan_walk_dir(w, cw, w->root_watch, w->root, 1);
		goto sort;
	}
	for (i = 0; i < w->cf->nwatches; i++) {
		cw = &w->cf->watches[i];
		for (k = 0; k < cw->npaths; k++) {
			if (!scan_has_glob(cw->paths[k])) {
				scan_walk_root(w, cw, (int)i, cw->paths[k]);
				continue;
			}
			if ((rc = glob(cw->paths[k], GLOB_NOSORT, NULL,
			    &g)) == GLOB_NOMATCH)
				scan_walk_missing(w, (int)i, cw->paths[k]);
			if (rc == 0) {
				for (j = 0; j < g.gl_pathc; j++) {
					struct stat sb;

					if (stat(g.gl_pathv[j], &sb) == 0 &&
					    S_ISDIR(sb.st_mode))
						scan_walk_dir(w, cw, (int)i,
						    g.gl_pathv[j], 0);
					else if (S_ISREG(sb.st_mode) &&
					    !scan_excluded(cw, g.gl_pathv[j]))
						scan_walk_add_file(w,
						    g.gl_pathv[j], (int)i, &sb);
				}
				globfree(&g);
			}
			copy = xstrdup(cw->paths[k]);
			if (!scan_has_glob(dirname(copy)))
				scan_walk_add_dir(w, copy, (int)i,
				    cw->paths[k], 0);
			free(copy);
		}
	}
sort:
	if (w->n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(w->items, w->n, sizeof(*w->items), scan_item_cmp);
	/* The same file under two watches: the first watch has it. */
	for (i = 0, k = 0; i < w->n; i++) {
		if (k > 0 && strcmp(w->items[k - 1].path, w->items[i].path)
		    == 0) {
			scan_item_clear(&w->items[i]);
			continue;
		}
		w->items[k++] = w->items[i];
	}
	w->n = k;
}

/* ---- queue and parse jobs --------------------------------------------- */

static void
scan_enqueue(struct scan *s, struct scan_item *it)
{
	if (s->qhead > 0 && s->qhead == s->qlen)
		s->qhead = s->qlen = 0;
	if (s->qlen == s->qcap) {
		if (s->qhead > 0) {
			memmove(s->queue, s->queue + s->qhead,
			    (s->qlen - s->qhead) * sizeof(*s->queue));
			s->qlen -= s->qhead;
			s->qhead = 0;
		}
		if (s->qlen == s->qcap) {
			s->qcap = s->qcap ? s->qcap * 2 : 256;
			s->queue = xreallocarray(s->queue, s->qcap,
			    sizeof(*s->queue));
		}
	}
	s->queue[s->qlen++] = *it;
	memset(it, 0, sizeof(*it));
}

/* What fsutil_open() would not open: gone, a directory (walked), a
 * refusal of the symlink or type rule ("skipped"), or an error. */
static void
scan_parse_refused(struct scan_item *it, const struct stat *sb,
    const struct cv_err *err)
{
	if (errno == ENOENT || errno == ENOTDIR)
		it->gone = 1;
	else if (errno == EPERM && S_ISDIR(sb->st_mode))
		it->is_dir = 1;
	else if (errno == EPERM) {
		it->skip = 1;
		it->error = xstrdup(S_ISREG(sb->st_mode) ||
		    S_ISLNK(sb->st_mode) ? err->msg :
		    scan_skip_reason(sb->st_mode));
	} else
		it->error = xstrdup(err->msg);
}

static void
scan_parse_work(uv_work_t *req)
{
	struct scan_job		*j = req->data;
	struct x509_load_opts	 opts;
	struct scan_item	*it;
	struct cv_err		 err;
	struct stat		 sb;
	unsigned char		*data = NULL;
	size_t			 i, len = 0;
	int			 fd;

	scan_nice_thread();
	for (i = 0; i < j->n; i++) {
		/* Shutting down: a batch of slow files must not hold the
		 * exit for minutes; what is unread is read at next start. */
		if (__atomic_load_n(&j->s->stop, __ATOMIC_RELAXED))
			break;
		it = &j->items[i];
		if ((fd = fsutil_open(it->path, FSUTIL_PROTECTED, &sb,
		    &err)) == -1) {
			scan_parse_refused(it, &sb, &err);
			continue;
		}
		scan_fill_stat(&it->st, &sb);
		memset(&opts, 0, sizeof(opts));
		opts.password = j->cf->watches[it->watch].password;
		if (fsutil_read_fd(fd, &sb, FSUTIL_MAX_FILE, &data, &len,
		    &err) == -1 || x509_load_mem(it->path, data, len, &opts,
		    &it->f, &err) == -1)
			it->error = xstrdup(err.msg);
		/* The loop writes fields, never GnuTLS objects: they are
		 * freed here, not on the loop (11% of its time). */
		x509_file_drop_objects(it->f);
		close(fd);
		if (data != NULL) {
			/* The buffer may hold a private key. */
			explicit_bzero(data, len);
			free(data);
			data = NULL;
		}
		/*
		 * Give the CPU back after each file.  At nice 10 against
		 * the loop's 0, a parse thread still ran 4 ms slices while
		 * the woken loop waited up to 5.6 ms in the run queue
		 * (perf sched timehist of a 100k scan, kernel 6.18 EEVDF):
		 * status p99 during the scan 6.2-7.8 ms.  A yield a file
		 * (~100 us of work) bounds that wait: p99 0.35-0.72 ms, for
		 * 1-6% of the scan's time (bench/README, session 6).
		 */
		sched_yield();
	}
}

/* The scan_finished event of a quiet first scan (SCAN_QUIET_FIRST). */
static void
scan_quiet_summary(struct scan *s, const struct inv_counts *c)
{
	int64_t	files;

	/* Into an empty inventory: every certificate now in it is new. */
	files = s->quiet_files;
	s->quiet_files = 0;
	s->quiet_first = 0;
	inventory_add_event(s->inv, s->prog.last_finished, "scan_finished",
	    NULL, NULL, "first scan: %lld files read in %.3fs; %lld "
	    "certificates discovered in %lld files (one event for all), %lld "
	    "files with errors", (long long)s->prog.files_done,
	    s->prog.last_duration, (long long)c->total, (long long)files,
	    (long long)c->file_errors);
}

/*
 * After a full scan: the queue's array (8.6 MB at 100,000 files) goes,
 * and the free memory the pool threads' malloc arenas keep goes back to
 * the system (33 MB at 100,000 files; issue 16).
 */
static void
scan_release(struct scan *s)
{
	if (s->qhead == s->qlen) {
		free(s->queue);
		s->queue = NULL;
		s->qhead = s->qlen = s->qcap = 0;
	}
	malloc_trim(0);
}

static void
scan_maybe_finish(struct scan *s)
{
	uv_loop_t		*loop = s->loop;
	struct inv_counts	 c;
	int			 first;

	if (s->ninflight > 0 || s->walking || s->nwq > 0)
		return;
	if (s->closing) {
		/* Queued items are dropped: the next start rescans. */
		if (s->open_handles == 0)
			scan_final(s);
		return;
	}
	if (s->qhead < s->qlen)
		return;
	if (!s->full_running)
		return;
	if (!s->fin_ready) {
		/* The exact counts, taken by the writer thread once all
		 * before them is written: the end of a scan costs the loop
		 * no O(certificates) count. */
		scan_push_final(s);
		return;
	}
	s->fin_ready = 0;
	c = s->fin_counts;
	s->full_running = 0;
	s->prog.scanning = 0;
	s->prog.last_finished = timeutil_now();
	s->prog.last_duration = (double)(uv_now(loop) -
	    s->prog.last_started_ms) / 1000.0;
	s->prog.last_files_read = s->prog.files_done;
	inventory_counts_lazy(s->inv, 0);	/* exact from now on */
	first = !s->first_done;
	s->first_done = 1;
	/*
	 * "read" and status's "files" count different things (unchanged
	 * files are not read again; skipped ones are read but not kept):
	 * say both, named as status names them.
	 */
	log_info("scan finished: %lld files read in %.3fs; %lld files in "
	    "the inventory", (long long)s->prog.files_done,
	    s->prog.last_duration, (long long)(c.files - c.files_gone));
	if (s->quiet_first)
		scan_quiet_summary(s, &c);
	scan_release(s);
	if (s->done_cb != NULL)
		s->done_cb(s->done_arg, first);
	if (s->full_again) {
		s->full_again = 0;
		scan_full(s);
	}
}

static int
scan_strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A "skipped" event for a path the scan will not read, once per path (not
 * on every rescan); in the caller's transaction if it has one.  Past
 * SCAN_MAX_SKIPPED remembered paths nothing more is reported: a directory
 * of a million FIFOs costs bounded memory.
 */
static void
scan_skipped(struct scan *s, const char *path, const char *reason,
    time_t now)
{
	char	*key = (char *)path;
	size_t	 lo = 0, hi = s->nreported, mid;
	int	 cmp;

	if (s->nreported > 0 && bsearch(&key, s->reported, s->nreported,
	    sizeof(*s->reported), scan_strp_cmp) != NULL)
		return;
	if (s->nreported == SCAN_MAX_SKIPPED) {
		if (!s->skipped_full)
			log_warn("scan: more than %d skipped files; no more "
			    "\"skipped\" events", SCAN_MAX_SKIPPED);
		s->skipped_full = 1;
		return;
	}
	while (lo < hi) {
		mid = (lo + hi) / 2;
		cmp = strcmp(s->reported[mid], path);
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	s->reported = xreallocarray(s->reported, s->nreported + 1,
	    sizeof(*s->reported));
	memmove(s->reported + lo + 1, s->reported + lo,
	    (s->nreported - lo) * sizeof(*s->reported));
	s->reported[lo] = xstrdup(path);
	s->nreported++;
	log_info("%s: skipped: %s", path, reason);
	inventory_add_event(s->inv, now, "skipped", path, NULL, "%s", reason);
}

static void
scan_job_free(struct scan_job *j)
{
	size_t	i;

	for (i = 0; i < j->n; i++)
		scan_item_clear(&j->items[i]);
	free(j->items);
	json_decref(j->events);
	conf_unref(j->cf);
	free(j);
}

/* Writer thread: the event of an item being written, for the loop. */
static void
scan_job_event(void *arg, json_t *ev)
{
	struct scan	*s = arg;

	json_array_append(s->wcur->events, ev);
}

/* Writer thread, inside its transaction: item i into the inventory. */
static int
scan_job_write(struct inventory *winv, void *job, size_t i)
{
	struct scan_job		*j = job;
	struct scan_item	*it;
	struct config_watch	*cw;

	if (i == 0) {
		j->s->wcur = j;
		j->gen0 = inventory_generation(winv);
		inventory_quiet(winv, j->quiet, NULL);
	}
	if (i >= j->n)
		return 1;
	it = &j->items[i];
	cw = &j->cf->watches[it->watch];
	/* Directories and skipped paths are the loop's (scan_job_apply). */
	if (it->gone)
		inventory_mark_gone(winv, it->path, timeutil_now());
	else if (!it->is_dir && !it->skip)
		inventory_apply_file(winv, it->path, cw->name, cw->role,
		    &it->st, it->f, it->error, cw->expect_sha1, timeutil_now());
	/*
	 * What was read is freed here, not on the loop: its ~20 blocks a
	 * file belong to the pool threads' malloc arenas, and a free on the
	 * loop locks the arena a nice-10 pool thread may hold while it
	 * waits for a CPU.  The loop reads only it->path (and it->error of
	 * skipped items) until the job is back.
	 */
	x509_file_free(it->f);
	it->f = NULL;
	return 0;
}

/*
 * Writer thread, after the job's commit: what the loop needs to know, and
 * the counts status shows -- exact for a final job; during a full scan
 * when the last count is old enough (SCAN_COUNT_NS).  Not after a watch
 * event's batch: a count is O(certificates) (145 ms of CPU at 100k for
 * one changed file); the loop counts when status asks.
 */
static void
scan_job_after(struct inventory *winv, void *job)
{
	struct scan_job	*j = job;
	struct scan	*s = j->s;
	uint64_t	 t = uv_hrtime(), bound;

	inventory_quiet(winv, j->quiet, &j->quiet_files);
	j->changed = inventory_generation(winv) != j->gen0;
	s->wcur = NULL;
	bound = s->wcount_cost * 10 > SCAN_COUNT_NS ? s->wcount_cost * 10 :
	    SCAN_COUNT_NS;
	if (!j->final && !(j->lazy &&
	    (s->wcount_at == 0 || t - s->wcount_at >= bound)))
		return;
	j->counted = inventory_count(winv, timeutil_now(), j->expiring,
	    &j->counts, &j->counts_until) == 0;
	s->wcount_at = uv_hrtime();
	s->wcount_cost = s->wcount_at - t;
	if (j->final) {
		s->wcount_at = 0;	/* the next scan counts at once */
		/* Its page cache is not needed until the next scan. */
		inventory_release_memory(winv);
	}
}

/* Loop thread: a written job's effects. */
static void
scan_job_apply(struct scan *s, struct scan_job *j)
{
	struct scan_item	*it;
	time_t			 now = timeutil_now();
	size_t			 i;

	if (j->changed)
		inventory_touch(s->inv);
	if (j->counted)
		inventory_counts_install(s->inv, &j->counts, j->counts_until,
		    j->expiring);
	for (i = 0; i < json_array_size(j->events); i++)
		inventory_emit(s->inv, json_array_get(j->events, i));
	s->quiet_files += j->quiet_files;
	for (i = 0; i < j->n; i++) {
		it = &j->items[i];
		if (!it->gone && it->is_dir) {
			if (j->cf->watches[it->watch].recursive)
				scan_start_walk(s, 0, it->path, it->watch);
		} else if (!it->gone && it->skip)
			scan_skipped(s, it->path, it->error, now);
		s->prog.files_parsed++;
		if (s->full_running)
			s->prog.files_done++;
	}
	if (j->final) {
		if (!j->counted)
			memset(&j->counts, 0, sizeof(j->counts));
		s->fin_counts = j->counts;
		s->fin_ready = 1;
	} else
		s->fin_ready = 0;	/* more was written: count again */
}

/* Loop thread: the writer hands a job back, in the order pushed. */
static void
scan_job_back(void *arg, void *job, int written)
{
	struct scan	*s = arg;
	struct scan_job	*j = job;

	if ((s->wq = j->next) == NULL)
		s->wq_tail = NULL;
	s->nwq--;
	if (written && !s->closing)
		scan_job_apply(s, j);
	scan_job_free(j);
	scan_dispatch(s);
	scan_maybe_finish(s);
}

static void
scan_writer_closed_cb(void *arg)
{
	struct scan	*s = arg;

	s->wr = NULL;
	s->open_handles--;
	scan_maybe_finish(s);
}

static const struct scan_writer_ops scan_writer_ops = {
	.write = scan_job_write,
	.after = scan_job_after,
	.done = scan_job_back,
	.closed = scan_writer_closed_cb,
};

static void
scan_push(struct scan *s, struct scan_job *j)
{
	j->quiet = s->quiet_first;
	j->lazy = s->full_running;
	j->expiring = s->cf->expiring;
	j->events = json_array();
	if (s->wq_tail != NULL)
		s->wq_tail->next = j;
	else
		s->wq = j;
	s->wq_tail = j;
	s->nwq++;
	scan_writer_push(s->wr, j);
}

static void
scan_push_final(struct scan *s)
{
	struct scan_job	*j = xcalloc(1, sizeof(*j));

	j->s = s;
	j->cf = conf_ref(s->cf);
	j->final = 1;
	scan_push(s, j);
}

static void
scan_parse_done(uv_work_t *req, int status)
{
	struct scan_job		*j = req->data;
	struct scan		*s = j->s;
	int			 k;

	for (k = 0; k < s->ninflight; k++)
		if (s->inflight[k] == j) {
			s->inflight[k] = s->inflight[--s->ninflight];
			break;
		}
	/*
	 * Written in completion order: a path a watcher re-queued is read
	 * by a job dispatched after this one has been written
	 * (scan_path_inflight looks at the writer's jobs too).
	 */
	if (status != 0 || s->closing)
		scan_job_free(j);
	else
		scan_push(s, j);
	/* The next job at once: a pool thread must not wait for writes. */
	scan_dispatch(s);
	scan_maybe_finish(s);
}

static int
scan_path_inflight(struct scan *s, const char *path)
{
	struct scan_job	*j;
	int		 k;
	size_t		 i;

	for (k = 0; k < s->ninflight; k++)
		for (i = 0; i < s->inflight[k]->n; i++)
			if (strcmp(s->inflight[k]->items[i].path, path) == 0)
				return 1;
	/* Read but not yet written: its result lands first. */
	for (j = s->wq; j != NULL; j = j->next)
		for (i = 0; i < j->n; i++)
			if (strcmp(j->items[i].path, path) == 0)
				return 1;
	return 0;
}

static void
scan_dispatch(struct scan *s)
{
	struct scan_job	*j;
	size_t		 n, batch;

	/* Parsed batches waiting to be written count too: memory stays
	 * bounded when the loop writes slower than the pool parses. */
	while (!s->closing && s->ninflight < SCAN_INFLIGHT &&
	    s->nwq < SCAN_INFLIGHT && s->qhead < s->qlen) {
		batch = (s->qlen - s->qhead) / 8;
		batch = batch < SCAN_BATCH_MIN ? SCAN_BATCH_MIN :
		    batch > SCAN_BATCH ? SCAN_BATCH : batch;
		j = xcalloc(1, sizeof(*j));
		j->s = s;
		j->cf = conf_ref(s->cf);
		j->items = xreallocarray(NULL, SCAN_BATCH, sizeof(*j->items));
		for (n = 0; n < batch && s->qhead < s->qlen; ) {
			struct scan_item *it = &s->queue[s->qhead];

			/*
			 * A file a watcher reported while it is being read
			 * waits for that read to land, so results apply in
			 * the order the changes happened.
			 */
			if (it->from_event && scan_path_inflight(s, it->path))
				break;
			j->items[n++] = *it;
			s->qhead++;
		}
		if (n == 0) {
			free(j->items);
			conf_unref(j->cf);
			free(j);
			break;
		}
		j->n = n;
		j->req.data = j;
		s->inflight[s->ninflight++] = j;
		uv_queue_work(s->loop, &j->req, scan_parse_work,
		    scan_parse_done);
	}
}

/* ---- watchers ------------------------------------------------------- */

static void
scan_handle_closed(uv_handle_t *h)
{
	struct scan_dirwatch	*dw = (struct scan_dirwatch *)h;
	struct scan		*s = dw->s;

	free(dw->spec.dir);
	free(dw->spec.pattern);
	free(dw);
	s->open_handles--;
	if (s->closing)
		scan_maybe_finish(s);
}

static void
scan_debounce_fire(uv_timer_t *t)
{
	struct scan		*s = t->data;
	struct scan_item	 it;
	size_t			 i;

	for (i = 0; i < s->npend; i++) {
		memset(&it, 0, sizeof(it));
		it.path = s->pend[i].path;
		it.watch = s->pend[i].watch;
		it.from_event = 1;
		scan_enqueue(s, &it);
	}
	s->npend = 0;
	s->pend_since = 0;
	scan_dispatch(s);
}

static void
scan_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct scan_dirwatch	*dw = (struct scan_dirwatch *)h;
	struct scan		*s = dw->s;
	struct config_watch	*cw;
	char			*path;
	size_t			 i;
	uint64_t		 now, delay;

	(void)events;
	if (status < 0) {
		log_warn("watch %s: %s", dw->spec.dir, uv_strerror(status));
		return;
	}
	if (name == NULL || s->closing || dw->spec.watch >=
	    (int)s->cf->nwatches)
		return;
	cw = &s->cf->watches[dw->spec.watch];
	xasprintf(&path, "%s%s%s", dw->spec.dir,
	    dw->spec.dir[strlen(dw->spec.dir) - 1] == '/' ? "" : "/", name);
	if ((dw->spec.pattern != NULL && fnmatch(dw->spec.pattern, path, 0)
	    != 0) || scan_excluded(cw, path)) {
		free(path);
		return;
	}
	scan_missing_appeared(s, path);
	for (i = 0; i < s->npend; i++)
		if (strcmp(s->pend[i].path, path) == 0)
			break;
	if (i == s->npend) {
		if (s->npend == s->cappend) {
			s->cappend = s->cappend ? s->cappend * 2 : 16;
			s->pend = xreallocarray(s->pend, s->cappend,
			    sizeof(*s->pend));
		}
		s->pend[s->npend].path = path;
		s->pend[s->npend].watch = dw->spec.watch;
		s->pend[s->npend].recursive = dw->spec.recursive;
		s->npend++;
	} else
		free(path);
	/* Wait for the writer to go quiet, but not forever. */
	now = uv_now(s->loop);
	if (s->pend_since == 0)
		s->pend_since = now;
	delay = SCAN_DEBOUNCE_MS;
	if (now + delay > s->pend_since + SCAN_DEBOUNCE_MAX_MS)
		delay = s->pend_since + SCAN_DEBOUNCE_MAX_MS > now ?
		    s->pend_since + SCAN_DEBOUNCE_MAX_MS - now : 0;
	uv_timer_start(&s->debounce, scan_debounce_fire, delay, 0);
}

static int
scan_spec_eq(const struct scan_dirspec *a, const struct scan_dirspec *b)
{
	return a->watch == b->watch && strcmp(a->dir, b->dir) == 0 &&
	    ((a->pattern == NULL && b->pattern == NULL) ||
	    (a->pattern != NULL && b->pattern != NULL &&
	    strcmp(a->pattern, b->pattern) == 0));
}

/* Makes the watchers match the walk's directories. */
static void
scan_sync_watchers(struct scan *s, struct scan_walk *w)
{
	struct scan_dirwatch	*dw;
	size_t			 i, k;
	int			 rc;

	if (w->full)
		for (k = 0; k < s->ndw; k++)
			s->dw[k]->seen = 0;
	for (i = 0; i < w->ndirs; i++) {
		for (k = 0; k < s->ndw; k++)
			if (scan_spec_eq(&s->dw[k]->spec, &w->dirs[i]))
				break;
		if (k < s->ndw) {
			s->dw[k]->seen = 1;
			continue;
		}
		dw = xcalloc(1, sizeof(*dw));
		dw->s = s;
		dw->spec = w->dirs[i];
		memset(&w->dirs[i], 0, sizeof(w->dirs[i]));
		dw->seen = 1;
		uv_fs_event_init(s->loop, &dw->h);
		s->open_handles++;
		rc = uv_fs_event_start(&dw->h, scan_fs_event, dw->spec.dir, 0);
		if (rc != 0) {
			/* A missing directory was reported with its path. */
			if (rc != UV_ENOENT)
				log_warn("watch %s: %s", dw->spec.dir,
				    uv_strerror(rc));
			uv_close((uv_handle_t *)&dw->h, scan_handle_closed);
			continue;
		}
		s->dw = xreallocarray(s->dw, s->ndw + 1, sizeof(*s->dw));
		s->dw[s->ndw++] = dw;
	}
	if (!w->full)
		return;
	for (k = 0, i = 0; k < s->ndw; k++) {
		if (!s->dw[k]->seen) {
			uv_close((uv_handle_t *)&s->dw[k]->h,
			    scan_handle_closed);
			continue;
		}
		s->dw[i++] = s->dw[k];
	}
	s->ndw = i;
}

/* ---- full scans --------------------------------------------------------- */

static int
scan_missing_index(const struct scan *s, const char *path)
{
	size_t	i;

	for (i = 0; i < s->nmissing; i++)
		if (strcmp(s->missing[i], path) == 0)
			return (int)i;
	return -1;
}

/*
 * The walk's missing paths replace the last ones.  Each is logged once,
 * when it first goes missing (not at every rescan), and status lists
 * them all.
 */
static void
scan_set_missing(struct scan *s, struct scan_walk *w)
{
	const char	*name;
	size_t		 i;
	int		 changed = w->nmissing != s->nmissing;

	for (i = 0; i < w->nmissing; i++) {
		if (scan_missing_index(s, w->missing[i]) != -1)
			continue;
		changed = 1;
		name = w->cf->watches[w->missing_watch[i]].name;
		if (strpbrk(w->missing[i], "*?[") != NULL)
			log_warn("watch %s: %s: matches nothing (yet)", name,
			    w->missing[i]);
		else
			log_warn("watch %s: %s: no such file or directory "
			    "(read when it appears)", name, w->missing[i]);
	}
	for (i = 0; i < s->nmissing; i++)
		free(s->missing[i]);
	free(s->missing);
	s->missing = w->missing;
	s->nmissing = w->nmissing;
	w->missing = NULL;
	w->nmissing = 0;
	if (changed)
		s->missing_gen++;
}

int
scan_missing(struct scan *s, const char *path)
{
	return scan_missing_index(s, path) != -1;
}

int64_t
scan_missing_generation(struct scan *s)
{
	return s->missing_gen;
}

/* A file event made a missing path (or a match of its glob) appear. */
static void
scan_missing_appeared(struct scan *s, const char *path)
{
	size_t	i;

	for (i = 0; i < s->nmissing; i++) {
		if (fnmatch(s->missing[i], path, FNM_PATHNAME) != 0)
			continue;
		free(s->missing[i]);
		s->missing[i] = s->missing[--s->nmissing];
		s->missing_gen++;
		return;
	}
}

static void
scan_walk_done(uv_work_t *req, int status)
{
	struct scan_walk	*w = req->data;
	struct scan		*s = w->s;
	struct inv_stat		*cache = NULL;
	size_t			 nc = 0, i = 0, k = 0;
	time_t			 now = timeutil_now();
	int			 cmp;

	s->walking--;
	if (status != 0 || s->closing)
		goto out;
	if (w->full && inventory_stat_cache(s->inv, &cache, &nc) == -1)
		nc = 0;
	/* Merge the sorted walk with the sorted stat cache. */
	inventory_begin(s->inv);
	while (i < w->n || k < nc) {
		if (i < w->n && k < nc)
			cmp = strcmp(w->items[i].path, cache[k].path);
		else
			cmp = i < w->n ? -1 : 1;
		if (cmp < 0) {
			scan_enqueue(s, &w->items[i++]);
		} else if (cmp > 0) {
			inventory_mark_gone(s->inv, cache[k++].path, now);
		} else {
			if (cache[k].has_error ||
			    w->items[i].st.ino != cache[k].ino ||
			    w->items[i].st.size != cache[k].size ||
			    w->items[i].st.mtime_ns != cache[k].mtime_ns)
				scan_enqueue(s, &w->items[i]);
			i++;
			k++;
		}
	}
	for (i = 0; i < w->nskips; i++)
		scan_skipped(s, w->skips[i].path, w->skips[i].reason, now);
	inventory_commit(s->inv);
	if (s->full_running)
		s->prog.files_total = (int64_t)(s->qlen - s->qhead);
	/*
	 * A first scan of a large tree into an empty inventory: one
	 * summary event, not a flood of "discovered" rows nobody reads
	 * (and 15% of the loop's work).  Later scans record each file.
	 */
	if (w->full && !s->first_done && nc == 0 &&
	    s->qlen - s->qhead > SCAN_QUIET_FIRST)
		s->quiet_first = inventory_has_certs(s->inv) ? 1 :
		    INV_QUIET_FRESH;
	if (w->full)
		scan_set_missing(s, w);
	scan_sync_watchers(s, w);
out:
	inventory_stat_cache_free(cache, nc);
	for (i = 0; i < w->n; i++)
		scan_item_clear(&w->items[i]);
	free(w->items);
	for (i = 0; i < w->ndirs; i++) {
		free(w->dirs[i].dir);
		free(w->dirs[i].pattern);
	}
	free(w->dirs);
	for (i = 0; i < w->nskips; i++) {
		free(w->skips[i].path);
		free(w->skips[i].reason);
	}
	free(w->skips);
	for (i = 0; i < w->nmissing; i++)
		free(w->missing[i]);
	free(w->missing);
	free(w->missing_watch);
	free(w->root);
	conf_unref(w->cf);
	free(w);
	scan_dispatch(s);
	scan_maybe_finish(s);
}

static void
scan_start_walk(struct scan *s, int full, const char *root, int watch)
{
	struct scan_walk	*w = xcalloc(1, sizeof(*w));

	w->s = s;
	w->cf = conf_ref(s->cf);
	w->full = full;
	w->root = root ? xstrdup(root) : NULL;
	w->root_watch = watch;
	w->req.data = w;
	s->walking++;
	uv_queue_work(s->loop, &w->req, scan_walk_work, scan_walk_done);
}

void
scan_full(struct scan *s)
{
	if (s->closing)
		return;
	if (s->full_running) {
		s->full_again = 1;
		return;
	}
	s->full_running = 1;
	s->prog.scanning = 1;
	inventory_counts_lazy(s->inv, 1);
	s->prog.files_total = s->prog.files_done = 0;
	s->prog.last_started = timeutil_now();
	uv_update_time(s->loop);
	s->prog.last_started_ms = uv_now(s->loop);
	scan_start_walk(s, 1, NULL, -1);
}

static void
scan_rescan_fire(uv_timer_t *t)
{
	scan_full(t->data);
}

static void
scan_arm_rescan(struct scan *s)
{
	uint64_t	ms = (uint64_t)s->cf->rescan_interval * 1000;

	uv_timer_start(&s->rescan, scan_rescan_fire, ms, ms);
}

struct scan *
scan_new(uv_loop_t *loop, struct inventory *inv, struct inventory *winv,
    struct config *cf, scan_done_cb cb, void *arg, struct cv_err *err)
{
	struct scan	*s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->inv = inv;
	s->done_cb = cb;
	s->done_arg = arg;
	inventory_set_event_cb(winv, scan_job_event, s);
	if (scan_writer_start(loop, winv, &scan_writer_ops, s, &s->wr,
	    err) == -1) {
		free(s);
		return NULL;
	}
	s->cf = conf_ref(cf);
	uv_timer_init(loop, &s->debounce);
	uv_timer_init(loop, &s->rescan);
	s->debounce.data = s->rescan.data = s;
	scan_arm_rescan(s);
	return s;
}

void
scan_set_config(struct scan *s, struct config *cf)
{
	size_t	i;

	conf_unref(s->cf);
	s->cf = conf_ref(cf);
	/* Pending paths were matched against the old watches. */
	for (i = 0; i < s->npend; i++)
		free(s->pend[i].path);
	s->npend = 0;
	scan_arm_rescan(s);
	scan_full(s);
}

void
scan_get_progress(struct scan *s, struct scan_progress *p)
{
	*p = s->prog;
}

int
scan_busy(struct scan *s)
{
	return s->ninflight > 0 || s->walking > 0 || s->nwq > 0;
}

static void
scan_timer_closed(uv_handle_t *h)
{
	struct scan	*s = h->data;

	s->open_handles--;
	scan_maybe_finish(s);
}

/* Frees the scanner once no handle and no work is left. */
static void
scan_final(struct scan *s)
{
	void		(*cb)(void *) = s->close_cb;
	void		*cbarg = s->close_arg;
	size_t		 i;
	for (i = s->qhead; i < s->qlen; i++)
		scan_item_clear(&s->queue[i]);
	free(s->queue);
	for (i = 0; i < s->npend; i++)
		free(s->pend[i].path);
	free(s->pend);
	for (i = 0; i < s->nreported; i++)
		free(s->reported[i]);
	free(s->reported);
	for (i = 0; i < s->nmissing; i++)
		free(s->missing[i]);
	free(s->missing);
	free(s->dw);
	conf_unref(s->cf);
	free(s);
	cb(cbarg);
}

void
scan_close(struct scan *s, void (*cb)(void *), void *arg)
{
	size_t	i;
	int	k;

	s->closing = 1;
	s->close_cb = cb;
	s->close_arg = arg;
	/* Batches still queued are cancelled, running ones stop early. */
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	for (k = 0; k < s->ninflight; k++)
		uv_cancel((uv_req_t *)&s->inflight[k]->req);
	/*
	 * The writer stops after the item it is writing; parsed but
	 * unwritten jobs come back and are dropped, like the queue (read
	 * again at the next start).
	 */
	s->open_handles += 3;
	scan_writer_close(s->wr);
	for (i = 0; i < s->ndw; i++)
		uv_close((uv_handle_t *)&s->dw[i]->h, scan_handle_closed);
	s->ndw = 0;
	uv_close((uv_handle_t *)&s->debounce, scan_timer_closed);
	uv_close((uv_handle_t *)&s->rescan, scan_timer_closed);
}
