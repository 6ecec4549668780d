/*
 * Issue 16: the scanner's writer thread (scan_writer.c) on a real
 * inventory in a temporary directory -- jobs come back in the order they
 * were pushed, each once; what they wrote is committed and seen by the
 * loop's own connection, which writes at the same time; and a close
 * with jobs queued hands every job back (the unwritten ones as such)
 * and leaves only whole items in the database.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "cverr.h"
#include "inventory.h"
#include "scan_writer.h"

#define NJOBS	60
#define NITEMS	7

struct job {
	int	id;
	size_t	n;
	int	slow;		/* us per item */
	int	after;		/* writer thread: after() ran */
	int	back;		/* done() calls */
	int	written;
};

struct ctx {
	uv_loop_t		 loop;
	struct inventory	*inv;
	struct scan_writer	*w;
	struct job		 jobs[NJOBS];
	int			 order[NJOBS];
	int			 nback;
	int			 closed;
	int			 close_at;	/* close after this many back */
	uv_timer_t		 closer;
};

static char	dir[] = "/tmp/check_scan_writer.XXXXXX";
static char	db[256];

static int
job_write(struct inventory *inv, void *job, size_t i)
{
	struct job	*j = job;

	if (i >= j->n)
		return 1;
	if (j->slow > 0)
		usleep((useconds_t)j->slow);
	ck_assert_int_eq(inventory_add_event(inv, 1, "writer", NULL, NULL,
	    "job %d item %zu", j->id, i), 0);
	return 0;
}

static void
job_after(struct inventory *inv, void *job)
{
	(void)inv;
	((struct job *)job)->after = 1;
}

static void
closer_fire(uv_timer_t *t)
{
	struct ctx	*c = t->data;

	scan_writer_close(c->w);
	uv_close((uv_handle_t *)&c->closer, NULL);
}

static void
job_done(void *arg, void *job, int written)
{
	struct ctx	*c = arg;
	struct job	*j = job;

	j->back++;
	j->written = written;
	c->order[c->nback++] = j->id;
	/* The loop's connection writes while the writer does. */
	ck_assert_int_eq(inventory_add_event(c->inv, 1, "loop", NULL, NULL,
	    "back %d", j->id), 0);
	if (c->close_at > 0 && c->nback == c->close_at)
		uv_timer_start(&c->closer, closer_fire, 0, 0);
	if (c->close_at == 0 && c->nback == NJOBS)
		uv_timer_start(&c->closer, closer_fire, 0, 0);
}

static void
job_closed(void *arg)
{
	((struct ctx *)arg)->closed++;
}

static const struct scan_writer_ops ops = {
	job_write, job_after, job_done, job_closed
};

static int64_t
count(struct inventory *inv, const char *kind)
{
	sqlite3_stmt	*st;
	int64_t		 n;

	ck_assert_int_eq(sqlite3_prepare_v2(inventory_db(inv),
	    "SELECT count(*) FROM events WHERE kind = ?1", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
setup(struct ctx *c, int slow, int close_at)
{
	struct inventory	*winv;
	struct cv_err		 err;
	int			 i;

	memset(c, 0, sizeof(*c));
	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir,
	    "/tmp/check_scan_writer.XXXXXX")));
	snprintf(db, sizeof(db), "%s/inventory.db", dir);
	ck_assert_msg(inventory_open(db, &c->inv, &err) == 0, "%s", err.msg);
	ck_assert_msg(inventory_open(db, &winv, &err) == 0, "%s", err.msg);
	uv_loop_init(&c->loop);
	uv_timer_init(&c->loop, &c->closer);
	c->closer.data = c;
	c->close_at = close_at;
	ck_assert_msg(scan_writer_start(&c->loop, winv, &ops, c, &c->w,
	    &err) == 0, "%s", err.msg);
	for (i = 0; i < NJOBS; i++) {
		c->jobs[i].id = i;
		c->jobs[i].n = (size_t)(i % NITEMS);	/* some have none */
		c->jobs[i].slow = slow;
		scan_writer_push(c->w, &c->jobs[i]);
	}
}

static void
teardown(struct ctx *c)
{
	char	cmd[300];

	inventory_close(c->inv);
	ck_assert_int_eq(uv_loop_close(&c->loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(writer_order)
{
	struct ctx	c;
	int64_t		 items = 0;
	int		 i;

	setup(&c, 0, 0);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(c.closed, 1);
	ck_assert_int_eq(c.nback, NJOBS);
	for (i = 0; i < NJOBS; i++) {
		ck_assert_int_eq(c.order[i], i);
		ck_assert_int_eq(c.jobs[i].back, 1);
		ck_assert_int_eq(c.jobs[i].written, 1);
		ck_assert_int_eq(c.jobs[i].after, 1);
		items += (int64_t)c.jobs[i].n;
	}
	/* Committed, and seen through the other connection. */
	ck_assert_int_eq(count(c.inv, "writer"), items);
	ck_assert_int_eq(count(c.inv, "loop"), NJOBS);
	teardown(&c);
}
END_TEST

START_TEST(writer_close_early)
{
	struct ctx	c;
	int64_t		 written = 0, rows;
	int		 i, seen_unwritten = 0;

	/* 2 ms an item: the close lands with most jobs still queued. */
	setup(&c, 2000, 3);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(c.closed, 1);
	ck_assert_int_eq(c.nback, NJOBS);
	for (i = 0; i < NJOBS; i++) {
		ck_assert_int_eq(c.order[i], i);
		ck_assert_int_eq(c.jobs[i].back, 1);
		/* Written jobs first, then only unwritten ones. */
		if (!c.jobs[i].written)
			seen_unwritten = 1;
		else {
			ck_assert_int_eq(seen_unwritten, 0);
			ck_assert_int_eq(c.jobs[i].after, 1);
			written += (int64_t)c.jobs[i].n;
		}
	}
	ck_assert_int_eq(seen_unwritten, 1);
	/* A job stopped mid-way kept the items it wrote (whole ones). */
	rows = count(c.inv, "writer");
	ck_assert_int_ge(rows, written);
	ck_assert_int_lt(rows, written + NITEMS);
	teardown(&c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("scan_writer");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, writer_order);
	tcase_add_test(tc, writer_close_early);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
