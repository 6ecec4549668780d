/*
 * The scanner's writer thread (issue 16): parsed batches are written into
 * the inventory by a thread of their own through a second SQLite
 * connection, so that the loop thread does no SQLite work for a scan and
 * answers the control socket while hundreds of thousands of files are
 * recorded.  Jobs are written, and handed back to the loop, in the order
 * they were pushed.
 */
#ifndef CV_SCAN_WRITER_H
#define CV_SCAN_WRITER_H

#include <stddef.h>

#include <uv.h>

#include "inventory.h"

struct scan_writer;

struct scan_writer_ops {
	/* Writer thread, inside a transaction: writes item i of job;
	 * returns 1 (writing nothing) when the job has no item i. */
	int	(*write)(struct inventory *, void *job, size_t i);
	/* Writer thread, after the commit of the job's last item and
	 * outside any transaction. */
	void	(*after)(struct inventory *, void *job);
	/* Loop thread: the job is back -- written, or not (written 0:
	 * dropped at close, before the writer reached it). */
	void	(*done)(void *arg, void *job, int written);
	/* Loop thread: the writer is closed (scan_writer_close). */
	void	(*closed)(void *arg);
};

/* Takes inv (a connection no other thread uses) and starts the thread. */
int	scan_writer_start(uv_loop_t *, struct inventory *inv,
	    const struct scan_writer_ops *, void *arg, struct scan_writer **,
	    struct cv_err *);
void	scan_writer_push(struct scan_writer *, void *job);
/*
 * Stops the thread between two items (what it wrote is committed) and
 * waits for it; every job not handed back yet goes to done() before this
 * returns, and closed() follows from the loop.  Frees the writer and its
 * connection.
 */
void	scan_writer_close(struct scan_writer *);

#endif
