/*
 * Jobs that must never wait behind libuv's shared thread pool (issue 12
 * item 6).  The pool has four threads and the scanner keeps them busy
 * with parse batches, some of which a hostile file makes slow; a renewal
 * whose service is down cannot queue behind that.  Each job runs on a
 * thread of its own, started for it and joined when it is done, and its
 * completion comes back to the loop through one uv_async.  A job never
 * waits for another job either: a slow issuance of one binding does not
 * hold up another's unbinding.  Loop thread only, but the work callback.
 */
#ifndef CV_WORKER_H
#define CV_WORKER_H

#include <uv.h>

struct worker;

struct worker_job {
	void			(*work)(struct worker_job *); /* own thread */
	void			(*done)(struct worker_job *); /* the loop */
	void			*data;		/* the caller's */
	/* private */
	struct worker		*w;
	struct worker_job	*next;
	uv_thread_t		 tid;
	uv_work_t		 req;		/* fallback: the shared pool */
	int			 pooled;
};

struct worker {
	uv_loop_t		*loop;
	uv_async_t		 async;		/* a job finished */
	uv_mutex_t		 mu;		/* guards finished */
	struct worker_job	*finished;
	unsigned		 running;
	int			 closing;
	void			(*close_cb)(struct worker *);
};

int	 worker_init(struct worker *, uv_loop_t *);
/*
 * Runs job->work on a new thread, then job->done on the loop.  Should no
 * thread be had (EAGAIN), the job goes to the shared pool instead: late
 * is better than never.
 */
void	 worker_run(struct worker *, struct worker_job *);
/* Once no job is running: closes the handle, then cb (may be NULL). */
void	 worker_close(struct worker *, void (*cb)(struct worker *));

#endif
