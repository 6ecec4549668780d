#include "config.h"

#include <stddef.h>

#include "log.h"
#include "worker.h"

static void
worker_closed(uv_handle_t *h)
{
	struct worker	*w = h->data;

	uv_mutex_destroy(&w->mu);
	if (w->close_cb != NULL)
		w->close_cb(w);
}

static void
worker_maybe_closed(struct worker *w)
{
	if (w->closing && w->running == 0 &&
	    !uv_is_closing((uv_handle_t *)&w->async))
		uv_close((uv_handle_t *)&w->async, worker_closed);
}

/* Finished jobs: joined (their threads are past uv_async_send), then
 * done on the loop. */
static void
worker_async(uv_async_t *a)
{
	struct worker		*w = a->data;
	struct worker_job	*j, *next;

	uv_mutex_lock(&w->mu);
	j = w->finished;
	w->finished = NULL;
	uv_mutex_unlock(&w->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		uv_thread_join(&j->tid);
		w->running--;
		j->done(j);
	}
	worker_maybe_closed(w);
}

static void
worker_thread(void *arg)
{
	struct worker_job	*j = arg;
	struct worker		*w = j->w;

	j->work(j);
	uv_mutex_lock(&w->mu);
	j->next = w->finished;
	w->finished = j;
	uv_mutex_unlock(&w->mu);
	uv_async_send(&w->async);
}

static void
worker_pool_work(uv_work_t *req)
{
	struct worker_job	*j = req->data;

	j->work(j);
}

static void
worker_pool_done(uv_work_t *req, int status)
{
	struct worker_job	*j = req->data;
	struct worker		*w = j->w;

	(void)status;	/* never cancelled: nobody calls uv_cancel */
	w->running--;
	j->done(j);
	worker_maybe_closed(w);
}

int
worker_init(struct worker *w, uv_loop_t *loop)
{
	int	rc;

	w->loop = loop;
	w->finished = NULL;
	w->running = 0;
	w->closing = 0;
	w->close_cb = NULL;
	if ((rc = uv_mutex_init(&w->mu)) != 0)
		return rc;
	if ((rc = uv_async_init(loop, &w->async, worker_async)) != 0) {
		uv_mutex_destroy(&w->mu);
		return rc;
	}
	w->async.data = w;
	return 0;
}

void
worker_run(struct worker *w, struct worker_job *j)
{
	int	rc;

	j->w = w;
	j->next = NULL;
	j->pooled = 0;
	w->running++;
	if ((rc = uv_thread_create(&j->tid, worker_thread, j)) == 0)
		return;
	log_warn("worker: cannot start a thread (%s); using the shared "
	    "pool", uv_strerror(rc));
	j->pooled = 1;
	j->req.data = j;
	uv_queue_work(w->loop, &j->req, worker_pool_work, worker_pool_done);
}

void
worker_close(struct worker *w, void (*cb)(struct worker *))
{
	w->closing = 1;
	w->close_cb = cb;
	worker_maybe_closed(w);
}
