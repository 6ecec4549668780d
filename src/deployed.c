#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "binding.h"
#include "deployed.h"
#include "log.h"
#include "pki.h"
#include "x509.h"
#include "xmalloc.h"

/* Bindings are few; past this many paths the cache starts over. */
#define DEPLOYED_MAX_ENTRIES	4096

/* One path's last read, valid while the file keeps its stat. */
struct deployed_entry {
	char			*path;
	char			*password_file;	/* a PFX's (issue 14) */
	struct inv_stat		 st;		/* as read */
	struct inv_stat		 pw_st;		/* password_file's, as read */
	int			 known;
	int			 reading;	/* a job is out for it */
	int			 rc;
	struct deployed_leaf	 leaf;
	struct cv_err		 err;
};

struct deployed {
	uv_loop_t		*loop;
	struct inventory	*inv;
	void			(*ready)(void *);
	void			*arg;
	struct deployed_entry	*v;
	size_t			 n;
	int			 jobs;		/* in flight */
	int			 freed;
};

/* A read on the thread pool: touches nothing but its own fields. */
struct deployed_job {
	uv_work_t		 req;
	struct deployed		*d;
	char			*path;
	char			*password_file;	/* NULL: none */
	struct inv_stat		 st;
	struct inv_stat		 pw_st;
	int			 rc;
	struct deployed_leaf	 leaf;
	struct cv_err		 err;
};

static int
deployed_stat(const char *path, struct inv_stat *st, struct cv_err *err)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		return cv_err_set(err, "%s: %s", path, strerror(errno));
	st->ino = (int64_t)sb.st_ino;
	st->size = (int64_t)sb.st_size;
	st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
	    sb.st_mtim.tv_nsec;
	return 0;
}

static int
deployed_same(const struct inv_stat *a, const struct inv_stat *b)
{
	return a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

/* A PFX's password file: a changed one (a wrong password put right)
 * makes the PFX be read again; a missing one is not known. */
static void
deployed_pw_stat(const char *pwfile, struct inv_stat *st)
{
	struct cv_err	e;

	memset(st, 0, sizeof(*st));
	if (pwfile != NULL && deployed_stat(pwfile, st, &e) == -1)
		st->ino = -1;
}

static int
deployed_read(const char *path, const char *pwfile,
    struct deployed_leaf *leaf, struct cv_err *err)
{
	return binding_form_sha1(path, pwfile, leaf->sha1, &leaf->not_before,
	    &leaf->not_after, err);
}

static void
deployed_work(uv_work_t *req)
{
	struct deployed_job	*jb = req->data;
	struct inv_stat		 after;
	int			 tries;

	/* The stat recorded must be the one of the bytes read: a file
	 * replaced mid-read is read again. */
	for (tries = 0; tries < 3; tries++) {
		memset(&jb->leaf, 0, sizeof(jb->leaf));
		if (deployed_stat(jb->path, &jb->st, &jb->err) == -1) {
			jb->rc = -1;
			return;
		}
		deployed_pw_stat(jb->password_file, &jb->pw_st);
		jb->rc = deployed_read(jb->path, jb->password_file, &jb->leaf,
		    &jb->err);
		if (deployed_stat(jb->path, &after, &jb->err) == 0 &&
		    deployed_same(&jb->st, &after))
			return;
	}
	/* Still changing: what was read stands, under a stat no file
	 * has, so the next deployed_get() reads it again. */
	jb->st.ino = -1;
}

static struct deployed_entry *
deployed_find(struct deployed *d, const char *path, const char *pwfile)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].path, path) == 0 &&
		    (d->v[i].password_file == NULL) == (pwfile == NULL) &&
		    (pwfile == NULL || strcmp(d->v[i].password_file,
		    pwfile) == 0))
			return &d->v[i];
	return NULL;
}

static void
deployed_clear(struct deployed *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].path);
		free(d->v[i].password_file);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static void
deployed_done(uv_work_t *req, int status)
{
	struct deployed_job	*jb = req->data;
	struct deployed		*d = jb->d;
	struct deployed_entry	*en;

	d->jobs--;
	if (!d->freed && (en = deployed_find(d, jb->path,
	    jb->password_file)) != NULL) {
		en->reading = 0;
		en->known = status == 0;
		en->st = jb->st;
		en->st.path = en->path;
		en->pw_st = jb->pw_st;
		en->rc = jb->rc;
		en->leaf = jb->leaf;
		en->err = jb->err;
	}
	log_debug("%s: read on the pool: %s", jb->path, jb->rc == 0 ?
	    jb->leaf.sha1 : jb->err.msg);
	free(jb->path);
	free(jb->password_file);
	free(jb);
	if (d->freed) {
		if (d->jobs == 0) {
			deployed_clear(d);
			free(d);
		}
		return;
	}
	d->ready(d->arg);
}

static void
deployed_queue(struct deployed *d, struct deployed_entry *en)
{
	struct deployed_job	*jb = xcalloc(1, sizeof(*jb));
	int			 rc;

	jb->d = d;
	jb->path = xstrdup(en->path);
	if (en->password_file != NULL)
		jb->password_file = xstrdup(en->password_file);
	jb->req.data = jb;
	if ((rc = uv_queue_work(d->loop, &jb->req, deployed_work,
	    deployed_done)) != 0) {
		log_error("%s: uv_queue_work: %s", en->path, uv_strerror(rc));
		free(jb->password_file);
		free(jb->path);
		free(jb);
		return;
	}
	en->reading = 1;
	d->jobs++;
}

struct deployed *
deployed_new(uv_loop_t *loop, struct inventory *inv, void (*ready)(void *),
    void *arg)
{
	struct deployed	*d = xcalloc(1, sizeof(*d));

	d->loop = loop;
	d->inv = inv;
	d->ready = ready;
	d->arg = arg;
	return d;
}

int
deployed_get(struct deployed *d, const char *path,
    struct deployed_leaf *leaf, struct cv_err *err)
{
	return deployed_get_form(d, path, NULL, leaf, err);
}

int
deployed_get_form(struct deployed *d, const char *path, const char *pwfile,
    struct deployed_leaf *leaf, struct cv_err *err)
{
	struct deployed_entry	*en;
	struct inv_stat		 st, pw_st;
	int64_t			 nb, na;

	memset(leaf, 0, sizeof(*leaf));
	memset(&st, 0, sizeof(st));
	st.path = (char *)path;
	if (deployed_stat(path, &st, err) == -1)
		return -1;
	if (inventory_file_leaf(d->inv, &st, leaf->sha1, &nb, &na) == 0) {
		leaf->not_before = (time_t)nb;
		leaf->not_after = (time_t)na;
		return 0;
	}
	if ((en = deployed_find(d, path, pwfile)) == NULL) {
		if (d->n == DEPLOYED_MAX_ENTRIES) {
			for (en = d->v; en < d->v + d->n; en++)
				if (en->reading)
					break;
			/* Entries a job will fill stay. */
			if (en == d->v + d->n)
				deployed_clear(d);
		}
		if (d->n == DEPLOYED_MAX_ENTRIES)
			return cv_err_set(err, "%s: too many files to "
			    "follow", path);
		d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
		en = &d->v[d->n++];
		memset(en, 0, sizeof(*en));
		en->path = xstrdup(path);
		en->password_file = pwfile ? xstrdup(pwfile) : NULL;
	}
	if (en->reading)
		return DEPLOYED_PENDING;
	deployed_pw_stat(pwfile, &pw_st);
	if (en->known && deployed_same(&en->st, &st) &&
	    deployed_same(&en->pw_st, &pw_st)) {
		if (en->rc == -1) {
			*err = en->err;
			return -1;
		}
		*leaf = en->leaf;
		return 0;
	}
	deployed_queue(d, en);
	if (!en->reading)
		return cv_err_set(err, "%s: cannot queue the read", path);
	return DEPLOYED_PENDING;
}

void
deployed_free(struct deployed *d)
{
	if (d == NULL)
		return;
	d->freed = 1;
	if (d->jobs > 0)
		return;
	deployed_clear(d);
	free(d);
}
