#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <uv.h>

#include "cverr.h"
#include "inventory.h"
#include "scan.h"
#include "scan_writer.h"
#include "xmalloc.h"

/*
 * A transaction is committed once it has run this long, between two
 * items: a write of the loop's (the journal, an alert) waits at most
 * about that long for the lock (inventory_busy tries every 100 us).
 * Longer transactions commit less often -- each commit writes the pages
 * its items dirtied into the WAL, ~100 us when they were 100 us slices on
 * the loop.
 */
#define SCAN_WRITER_TXN_NS	4000000

struct scan_writer_node {
	void			*job;
	int			 written;
	struct scan_writer_node	*next;
};

struct scan_writer {
	uv_loop_t		*loop;
	struct inventory	*inv;		/* the thread's alone */
	struct scan_writer_ops	 ops;
	void			*arg;
	uv_thread_t		 tid;
	uv_mutex_t		 mu;		/* guards what follows */
	uv_cond_t		 cv;
	struct scan_writer_node	*in, *in_tail;	/* pushed, not taken yet */
	struct scan_writer_node	*out, *out_tail; /* handed back */
	int			 stop;
	uv_async_t		 async;		/* out is not empty */
};

static void
scan_writer_append(struct scan_writer_node **head,
    struct scan_writer_node **tail, struct scan_writer_node *n)
{
	n->next = NULL;
	if (*tail != NULL)
		(*tail)->next = n;
	else
		*head = n;
	*tail = n;
}

static int
scan_writer_stopping(struct scan_writer *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_RELAXED);
}

/* One job, in transactions of at most SCAN_WRITER_TXN_NS each. */
static void
scan_writer_job(struct scan_writer *w, struct scan_writer_node *n)
{
	uint64_t	t0 = uv_hrtime();
	size_t		i;
	int		open;

	/* Should BEGIN fail (the lock held past the busy handler's 5 s),
	 * the items are written one autocommit statement at a time. */
	inventory_yield();
	open = inventory_begin(w->inv) == 0;
	for (i = 0; w->ops.write(w->inv, n->job, i) == 0; i++) {
		if (scan_writer_stopping(w)) {
			if (open)
				inventory_commit(w->inv);
			return;		/* not written: the next start reads */
		}
		if (uv_hrtime() - t0 < SCAN_WRITER_TXN_NS)
			continue;
		if (open)
			inventory_commit(w->inv);
		inventory_yield();
		open = inventory_begin(w->inv) == 0;
		t0 = uv_hrtime();
	}
	if (open)
		inventory_commit(w->inv);
	/* Stopping: no count (O(certificates)) to hold the close. */
	if (scan_writer_stopping(w))
		return;
	w->ops.after(w->inv, n->job);
	n->written = 1;
}

static void
scan_writer_main(void *arg)
{
	struct scan_writer	*w = arg;
	struct scan_writer_node	*batch, *n;

	scan_nice_thread();
	uv_mutex_lock(&w->mu);
	for (;;) {
		while (w->in == NULL && !w->stop)
			uv_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		batch = w->in;
		w->in = w->in_tail = NULL;
		uv_mutex_unlock(&w->mu);
		while ((n = batch) != NULL) {
			batch = n->next;
			if (!scan_writer_stopping(w))
				scan_writer_job(w, n);
			uv_mutex_lock(&w->mu);
			scan_writer_append(&w->out, &w->out_tail, n);
			uv_mutex_unlock(&w->mu);
			uv_async_send(&w->async);
		}
		uv_mutex_lock(&w->mu);
	}
	uv_mutex_unlock(&w->mu);
}

/* Loop thread: the jobs handed back, in order. */
static void
scan_writer_wake(uv_async_t *a)
{
	struct scan_writer	*w = a->data;
	struct scan_writer_node	*list, *n;

	uv_mutex_lock(&w->mu);
	list = w->out;
	w->out = w->out_tail = NULL;
	uv_mutex_unlock(&w->mu);
	while ((n = list) != NULL) {
		list = n->next;
		w->ops.done(w->arg, n->job, n->written);
		free(n);
	}
}

static void
scan_writer_closed(uv_handle_t *h)
{
	struct scan_writer	*w = h->data;

	uv_mutex_destroy(&w->mu);
	uv_cond_destroy(&w->cv);
	w->ops.closed(w->arg);
	free(w);
}

int
scan_writer_start(uv_loop_t *loop, struct inventory *inv,
    const struct scan_writer_ops *ops, void *arg, struct scan_writer **out,
    struct cv_err *err)
{
	struct scan_writer	*w = xcalloc(1, sizeof(*w));
	int			 rc;

	w->loop = loop;
	w->inv = inv;
	inventory_set_yields(inv);
	w->ops = *ops;
	w->arg = arg;
	uv_mutex_init(&w->mu);
	uv_cond_init(&w->cv);
	/* The thread waits for a job before it signals the loop: the
	 * handle is initialized once the thread is there, so a failure
	 * leaves no handle to close. */
	if ((rc = uv_thread_create(&w->tid, scan_writer_main, w)) != 0) {
		cv_err_set(err, "scan writer thread: %s", uv_strerror(rc));
		uv_mutex_destroy(&w->mu);
		uv_cond_destroy(&w->cv);
		inventory_close(inv);
		free(w);
		*out = NULL;
		return -1;
	}
	uv_async_init(loop, &w->async, scan_writer_wake);
	w->async.data = w;
	*out = w;
	return 0;
}

void
scan_writer_push(struct scan_writer *w, void *job)
{
	struct scan_writer_node	*n = xcalloc(1, sizeof(*n));

	n->job = job;
	uv_mutex_lock(&w->mu);
	scan_writer_append(&w->in, &w->in_tail, n);
	uv_cond_signal(&w->cv);
	uv_mutex_unlock(&w->mu);
}

void
scan_writer_close(struct scan_writer *w)
{
	struct scan_writer_node	*n;

	uv_mutex_lock(&w->mu);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
	uv_cond_signal(&w->cv);
	uv_mutex_unlock(&w->mu);
	/* One item's write and a commit away -- or the end of a count
	 * already under way (after(); ~70 ms at 100,000 certificates). */
	uv_thread_join(&w->tid);
	scan_writer_wake(&w->async);
	while ((n = w->in) != NULL) {
		w->in = n->next;
		w->ops.done(w->arg, n->job, 0);
		free(n);
	}
	w->in_tail = NULL;
	inventory_close(w->inv);
	w->inv = NULL;
	uv_close((uv_handle_t *)&w->async, scan_writer_closed);
}
