#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "xmalloc.h"

static const char *
fsutil_type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory";
	if (S_ISFIFO(m))
		return "is a FIFO, not a regular file";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "is a device, not a regular file";
	if (S_ISSOCK(m))
		return "is a socket, not a regular file";
	return "is not a regular file";
}

/* ---- opening what a less-trusted user may have planted ----------------- */

/* A refusal of the policy: errno EPERM, so callers tell it from an I/O
 * error (the scanner reports it as "skipped"). */
static int
fsutil_refuse(struct cv_err *err, const char *fmt, ...)
{
	va_list	ap;
	char	msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cv_err_set(err, "%s", msg);
	errno = EPERM;
	return -1;
}

static int
fsutil_errno(struct cv_err *err, const char *what)
{
	int	e = errno;

	if (what != NULL)
		cv_err_set(err, "%s: %s", what, strerror(e));
	else
		cv_err_set(err, "%s", strerror(e));
	errno = e;
	return -1;
}

/* The file changed between two looks: errno EAGAIN, a race that the
 * next attempt may not meet (not a refusal). */
static int
fsutil_raced(struct cv_err *err)
{
	cv_err_set(err, "replaced while being opened");
	errno = EAGAIN;
	return -1;
}

/* path's directory (caller frees) and, in *base, its last component. */
static char *
fsutil_split(const char *path, char **base)
{
	char	*c1 = xstrdup(path), *c2 = xstrdup(path), *dir;

	*base = xstrdup(basename(c1));
	dir = xstrdup(dirname(c2));
	free(c1);
	free(c2);
	return dir;
}

/*
 * name in dfd as an O_PATH descriptor (nothing is opened for reading, so
 * a device or FIFO sees no open), *st its fstat.  A symlink is followed
 * only as the kernel's fs.protected_symlinks would in a sticky directory:
 * when root owns the link or the link and its target have one owner; and
 * never with FSUTIL_NOFOLLOW.  The link is looked at again after the open
 * so that one swapped meanwhile is not judged by its predecessor.  On a
 * refusal *st is the link's lstat.
 */
static int
fsutil_path_at(int dfd, const char *name, int policy, struct stat *st,
    struct cv_err *err)
{
	struct stat	lst, again;
	int		pfd, e;

	if (fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) == -1)
		return fsutil_errno(err, NULL);
	*st = lst;
	if (S_ISLNK(lst.st_mode) && (policy & FSUTIL_NOFOLLOW))
		return fsutil_refuse(err, "a symlink: not followed");
	pfd = openat(dfd, name, O_PATH | O_CLOEXEC |
	    (S_ISLNK(lst.st_mode) ? 0 : O_NOFOLLOW));
	if (pfd == -1)
		return fsutil_errno(err, NULL);
	if (fstat(pfd, st) == -1) {
		fsutil_errno(err, NULL);
		goto fail;
	}
	if (!S_ISLNK(lst.st_mode)) {
		if (st->st_dev == lst.st_dev && st->st_ino == lst.st_ino)
			return pfd;
		fsutil_raced(err);
		goto fail;
	}
	if (fstatat(dfd, name, &again, AT_SYMLINK_NOFOLLOW) == -1 ||
	    again.st_ino != lst.st_ino || again.st_uid != lst.st_uid ||
	    again.st_ctim.tv_sec != lst.st_ctim.tv_sec ||
	    again.st_ctim.tv_nsec != lst.st_ctim.tv_nsec) {
		fsutil_raced(err);
		goto fail;
	}
	if (lst.st_uid != 0 && lst.st_uid != st->st_uid) {
		fsutil_refuse(err, "a symlink owned by uid %lu to a file of "
		    "uid %lu: not followed", (unsigned long)lst.st_uid,
		    (unsigned long)st->st_uid);
		goto fail;
	}
	return pfd;
fail:
	e = errno;
	*st = lst;
	close(pfd);
	errno = e;
	return -1;
}

/* The O_PATH descriptor's file opened for real (flags), the same inode.
 * /proc/self/fd reopens exactly it; without /proc, openat again and
 * compare. */
static int
fsutil_reopen(int pfd, int dfd, const char *name, const struct stat *st,
    int flags, struct cv_err *err)
{
	struct stat	 now;
	char		 proc[64];
	int		 fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if ((fd = open(proc, flags | O_CLOEXEC | O_NOCTTY)) != -1)
		return fd;
	if (errno != ENOENT)
		return fsutil_errno(err, NULL);
	if ((fd = openat(dfd, name, flags | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return fsutil_errno(err, NULL);
	if (fstat(fd, &now) == -1 || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino) {
		close(fd);
		return fsutil_raced(err);
	}
	return fd;
}

int
fsutil_open_at(int dfd, const char *name, int policy, struct stat *st,
    struct cv_err *err)
{
	struct stat	 sb;
	int		 pfd = -1, fd = -1, e, tries;

	if (st == NULL)
		st = &sb;
	memset(st, 0, sizeof(*st));
	/* A file renamed over between two looks (an atomic writer) is
	 * looked at again: only a refusal or an error ends it. */
	for (tries = 0; tries < 3; tries++)
		if ((pfd = fsutil_path_at(dfd, name, policy, st, err)) != -1 ||
		    errno != EAGAIN)
			break;
	if (pfd == -1)
		return -1;
	if (!S_ISREG(st->st_mode))
		fsutil_refuse(err, "%s", fsutil_type_name(st->st_mode));
	else if ((policy & FSUTIL_ONE_LINK) && st->st_nlink != 1)
		fsutil_refuse(err, "has %lu hard links (one expected)",
		    (unsigned long)st->st_nlink);
	else
		fd = fsutil_reopen(pfd, dfd, name, st, O_RDONLY | O_NONBLOCK,
		    err);
	e = errno;
	close(pfd);
	errno = e;
	return fd;
}

int
fsutil_open(const char *path, int policy, struct stat *st,
    struct cv_err *err)
{
	char	*dir, *base;
	int	 dfd, fd = -1, e;

	dir = fsutil_split(path, &base);
	if (policy & FSUTIL_WALK_DIRS)
		dfd = fsutil_walk(dir, FSUTIL_WALK_ROOT_LINKS, 0, err);
	else if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		fsutil_errno(err, NULL);
	if (dfd != -1)
		fd = fsutil_open_at(dfd, base, policy, st, err);
	e = errno;
	if (dfd != -1)
		close(dfd);
	free(dir);
	free(base);
	errno = e;
	return fd;
}

int
fsutil_open_parent(const char *path, char **base, struct cv_err *err)
{
	char	*dir;
	int	 dfd;

	dir = fsutil_split(path, base);
	if ((dfd = fsutil_open_dir(dir, FSUTIL_PROTECTED, err)) == -1) {
		free(*base);
		*base = NULL;
	}
	free(dir);
	return dfd;
}

int
fsutil_open_dir(const char *path, int policy, struct cv_err *err)
{
	struct stat	 st;
	char		*dir, *base;
	int		 dfd, pfd = -1, fd = -1, e;

	dir = fsutil_split(path, &base);
	if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fsutil_errno(err, dir);
		goto out;
	}
	if ((pfd = fsutil_path_at(dfd, base, policy, &st, err)) == -1)
		cv_err_prefix(err, "%s", path);
	else if (!S_ISDIR(st.st_mode))
		fsutil_refuse(err, "%s: not a directory", path);
	else if ((fd = fsutil_reopen(pfd, dfd, base, &st, O_RDONLY |
	    O_DIRECTORY, err)) == -1)
		cv_err_prefix(err, "%s", path);
out:
	e = errno;
	if (pfd != -1)
		close(pfd);
	if (dfd != -1)
		close(dfd);
	free(dir);
	free(base);
	errno = e;
	return fd;
}

int
fsutil_read_fd(int fd, const struct stat *st, size_t max,
    unsigned char **data, size_t *len, struct cv_err *err)
{
	unsigned char	*buf;
	size_t		 off = 0;
	ssize_t		 n;

	if ((size_t)st->st_size > max)
		return cv_err_set(err, "file too large (%lld bytes, limit %zu)",
		    (long long)st->st_size, max);
	buf = xmalloc((size_t)st->st_size + 1);
	/* The size can change under us: never read past what we allocated. */
	while (off < (size_t)st->st_size) {
		n = read(fd, buf + off, (size_t)st->st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cv_err_set(err, "read: %s", strerror(errno));
			explicit_bzero(buf, off);
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}

int
fsutil_read(const char *path, int policy, size_t max, unsigned char **data,
    size_t *len, struct cv_err *err)
{
	struct stat	st;
	int		fd, rc;

	*data = NULL;
	*len = 0;
	if ((fd = fsutil_open(path, policy, &st, err)) == -1)
		return -1;
	rc = fsutil_read_fd(fd, &st, max, data, len, err);
	close(fd);
	return rc;
}

int
fsutil_read_file(const char *path, size_t max, unsigned char **data,
    size_t *len, struct cv_err *err)
{
	return fsutil_read(path, FSUTIL_PROTECTED, max, data, len, err);
}

int
fsutil_fsync_dir(const char *path, struct cv_err *err)
{
	char	*copy = xstrdup(path);
	int	 fd, rc = -1;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		cv_err_set(err, "open directory of %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = fsutil_fsync_dirfd(fd, path, err);
out:
	if (fd != -1)
		close(fd);
	free(copy);
	return rc;
}

int
fsutil_fsync_dirfd(int dfd, const char *path, struct cv_err *err)
{
	/* EINVAL: a file system that cannot sync directories. */
	if (fsync(dfd) == -1 && errno != EINVAL)
		return cv_err_set(err, "fsync directory of %s: %s", path,
		    strerror(errno));
	return 0;
}

DIR *
fsutil_opendir_at(int dfd)
{
	DIR	*d;
	int	 fd;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

static int
fsutil_write_all(int fd, const void *data, size_t len)
{
	const unsigned char	*p = data;
	ssize_t			 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A temporary name's random part: from the kernel, so that nobody can
 * predict and pre-create (or plant a link at) the names we try. */
static unsigned
fsutil_tmp_rand(void)
{
	unsigned	v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (unsigned)random() ^ (unsigned)getpid();
	return v;
}

unsigned	(*fsutil_tmp_rand_fn)(void) = fsutil_tmp_rand;

/* Creates a temp file next to name in dfd, O_EXCL|O_NOFOLLOW; *tmp is
 * set (relative to dfd). */
static int
fsutil_tmp_openat(int dfd, const char *name, const char *tag, char **tmp)
{
	int	fd = -1, tries;

	*tmp = NULL;
	for (tries = 0; tries < 16; tries++) {
		free(*tmp);
		xasprintf(tmp, "%s.%s.%ld.%x", name, tag, (long)getpid(),
		    fsutil_tmp_rand_fn());
		fd = openat(dfd, *tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	return fd;
}

/* Whether name (in a directory) is BASE.cvtmp.PID.* or BASE.cvold.PID.*
 * (base NULL: any BASE) of a writer that is gone or is us. */
static int
fsutil_stale_name(const char *name, const char *base)
{
	const char	*p = NULL, *q, *end;
	char		*e;
	long		 pid;

	if (base != NULL) {
		if (strncmp(name, base, strlen(base)) != 0)
			return 0;
		p = name + strlen(base);
		if (strncmp(p, ".cvtmp.", 7) != 0 &&
		    strncmp(p, ".cvold.", 7) != 0)
			return 0;
	} else {
		/* The last ".cvtmp." or ".cvold." of the name. */
		for (q = name; (q = strstr(q, ".cv")) != NULL; q++)
			if (strncmp(q, ".cvtmp.", 7) == 0 ||
			    strncmp(q, ".cvold.", 7) == 0)
				p = q;
		if (p == NULL || p == name)
			return 0;
	}
	errno = 0;
	pid = strtol(p + 7, &e, 10);
	end = e;
	if (errno != 0 || end == p + 7 || *end != '.' || pid <= 0)
		return 0;
	/* Ours (we are not writing this path now) or a dead process's;
	 * another live writer's stays. */
	return pid == (long)getpid() || (kill((pid_t)pid, 0) == -1 &&
	    errno == ESRCH);
}

/* Removes the stale temporaries (fsutil_stale_name) in the directory
 * dfd (read through a descriptor of its own: dfd stays the caller's). */
static int
fsutil_clean_fd(int dfd, const char *base)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = fsutil_opendir_at(dfd)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (fsutil_stale_name(de->d_name, base) &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			n++;
	closedir(d);
	return n;
}

static int
fsutil_clean_in(const char *dir, const char *base)
{
	int	dfd, n;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	n = fsutil_clean_fd(dfd, base);
	close(dfd);
	return n;
}

int
fsutil_clean_stale(const char *path)
{
	char	*dir, *base;
	int	 n;

	dir = fsutil_split(path, &base);
	n = fsutil_clean_in(dir, base);
	free(dir);
	free(base);
	return n;
}

int
fsutil_clean_stale_at(int dfd, const char *name)
{
	return fsutil_clean_fd(dfd, name);
}

int
fsutil_clean_stale_dir(const char *dir)
{
	return fsutil_clean_in(dir, NULL);
}

int
fsutil_open_deploy_dir(const char *path, char **base, struct cv_err *err)
{
	char	*dir;
	int	 dfd;

	dir = fsutil_split(path, base);
	if ((dfd = fsutil_walk(dir, FSUTIL_WALK_ROOT_LINKS, 0, err)) == -1) {
		cv_err_prefix(err, "%s", path);
		free(*base);
		*base = NULL;
	}
	free(dir);
	return dfd;
}

/* One target of fsutil_write_set: its directory, opened once, and every
 * name the set uses in it (relative to dfd). */
struct fsutil_set_ent {
	int	 dfd;
	char	*name;
	char	*tmp;
	char	*bak;
};

/* fsutil_write_set's step 1 for one file: its new content in a
 * temporary beside it (e->tmp), mode and owner set, fsynced. */
static int
fsutil_set_stage(const struct fsutil_file *f, struct fsutil_set_ent *e,
    struct cv_err *err)
{
	int	fd;

	if ((fd = fsutil_tmp_openat(e->dfd, e->name, "cvtmp", &e->tmp)) == -1) {
		cv_err_set(err, "%s: create temporary file: %s", f->path,
		    strerror(errno));
		/* Not ours to unlink: the last name tried may be planted. */
		free(e->tmp);
		e->tmp = NULL;
		return -1;
	}
	if (fchmod(fd, f->mode) == -1 || (f->own && fchown(fd, f->uid,
	    f->gid) == -1) || fsutil_write_all(fd, f->data, f->len) == -1 ||
	    fsync(fd) == -1) {
		cv_err_set(err, "%s: temporary %s: %s", f->path, e->tmp,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) == -1)
		return cv_err_set(err, "%s: temporary %s: close: %s", f->path,
		    e->tmp, strerror(errno));
	return 0;
}

/* Step 2: the old file, if any, kept as a hard link (e->bak) to undo
 * with.  The name is taken by an O_EXCL create first, so that it is one
 * nobody planted; then the link replaces that placeholder. */
static int
fsutil_set_keep(const char *path, struct fsutil_set_ent *e,
    struct cv_err *err)
{
	char	*b;
	int	 fd;

	if ((fd = fsutil_tmp_openat(e->dfd, e->name, "cvold", &b)) == -1) {
		cv_err_set(err, "%s: keep the old file: %s", path,
		    strerror(errno));
		free(b);
		return -1;
	}
	close(fd);
	unlinkat(e->dfd, b, 0);
	/* flags 0: a symlink at the target is kept as itself. */
	if (linkat(e->dfd, e->name, e->dfd, b, 0) == 0) {
		e->bak = b;
		return 0;
	}
	free(b);
	if (errno == ENOENT)
		return 0;	/* no old file to keep */
	return cv_err_set(err, "%s: keep the old file: %s", path,
	    strerror(errno));
}

/* Step 0: every target's directory opened (fsutil_open_deploy_dir)
 * before anything is written, so a refused one stops the whole set. */
static int
fsutil_set_open(const struct fsutil_file *f, size_t n,
    struct fsutil_set_ent *e, struct cv_err *err)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((e[i].dfd = fsutil_open_deploy_dir(f[i].path, &e[i].name,
		    err)) == -1)
			return -1;
	return 0;
}

/* Undoes the first done renames: old content back, or a new file gone. */
static void
fsutil_set_undo(struct fsutil_set_ent *e, size_t n, size_t done)
{
	size_t	i;

	for (i = 0; i < done; i++) {
		if (e[i].bak != NULL) {
			if (renameat(e[i].dfd, e[i].bak, e[i].dfd,
			    e[i].name) == 0) {
				free(e[i].bak);
				e[i].bak = NULL;
			}
		} else
			unlinkat(e[i].dfd, e[i].name, 0);
	}
	for (i = 0; i < n; i++)
		if (e[i].dfd != -1)
			(void)fsync(e[i].dfd);
}

static void
fsutil_set_free(struct fsutil_set_ent *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (e[i].dfd != -1 && e[i].tmp != NULL)
			unlinkat(e[i].dfd, e[i].tmp, 0);
		if (e[i].dfd != -1 && e[i].bak != NULL)
			unlinkat(e[i].dfd, e[i].bak, 0);
		if (e[i].dfd != -1)
			close(e[i].dfd);
		free(e[i].name);
		free(e[i].tmp);
		free(e[i].bak);
	}
	free(e);
}

int
fsutil_write_set(const struct fsutil_file *f, size_t n, struct cv_err *err)
{
	struct fsutil_set_ent	*e = xcalloc(n, sizeof(*e));
	size_t			 i, done = 0;
	int			 rc = -1;

	for (i = 0; i < n; i++)
		e[i].dfd = -1;
	/* 0. Each directory resolved once; every later step goes through
	 * its descriptor, never by path again. */
	if (fsutil_set_open(f, n, e, err) == -1)
		goto out;
	/* What a writer that died mid-way left next to the targets. */
	for (i = 0; i < n; i++)
		fsutil_clean_fd(e[i].dfd, e[i].name);
	/* 1. Every new file complete and on disk before any target moves. */
	for (i = 0; i < n; i++)
		if (fsutil_set_stage(&f[i], &e[i], err) == -1)
			goto undo;
	/* 2. The old files kept under a second name, to undo with. */
	for (i = 0; i < n; i++)
		if (fsutil_set_keep(f[i].path, &e[i], err) == -1)
			goto undo;
	/* 3. The switch. */
	for (done = 0; done < n; done++) {
		if (renameat(e[done].dfd, e[done].tmp, e[done].dfd,
		    e[done].name) == -1) {
			cv_err_set(err, "%s: rename: %s", f[done].path,
			    strerror(errno));
			goto undo;
		}
		free(e[done].tmp);
		e[done].tmp = NULL;
	}
	for (i = 0; i < n; i++)
		if (fsutil_fsync_dirfd(e[i].dfd, f[i].path, err) == -1)
			goto out;
	rc = 0;
	goto out;
undo:
	fsutil_set_undo(e, n, done);
out:
	fsutil_set_free(e, n);
	return rc;
}

int
fsutil_write_atomic_at(int dfd, const char *name, const char *path,
    const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
    struct cv_err *err)
{
	char	*tmp = NULL;
	int	 fd, rc = -1;

	if ((fd = fsutil_tmp_openat(dfd, name, "cvtmp", &tmp)) == -1) {
		cv_err_set(err, "%s: create temporary file: %s", path,
		    strerror(errno));
		goto out;
	}
	/* Mode and owner are set before the first byte: no window. */
	if (fchmod(fd, mode) == -1) {
		cv_err_set(err, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchown(fd, uid, gid) == -1) {
		cv_err_set(err, "%s: chown: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsutil_write_all(fd, data, len) == -1) {
		cv_err_set(err, "%s: write: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) == -1) {
		cv_err_set(err, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		cv_err_set(err, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) == -1) {
		cv_err_set(err, "%s: rename: %s", path, strerror(errno));
		goto fail;
	}
	rc = fsutil_fsync_dirfd(dfd, path, err);
	goto out;
fail:
	if (fd != -1)
		close(fd);
	unlinkat(dfd, tmp, 0);
out:
	free(tmp);
	return rc;
}

int
fsutil_mkparents(const char *path, mode_t mode, struct cv_err *err)
{
	struct stat	 st;
	char		*dir, *base, *p, c;
	int		 rc = 0;

	dir = fsutil_split(path, &base);
	free(base);
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		/* An existing directory may answer EACCES rather than
		 * EEXIST where its parent is not writable. */
		if (mkdir(dir, c == '\0' ? mode : 0755) == -1 &&
		    errno != EEXIST && (stat(dir, &st) == -1 ||
		    !S_ISDIR(st.st_mode))) {
			rc = cv_err_set(err, "%s: create directory: %s", dir,
			    strerror(errno));
			break;
		}
		if (c == '\0')
			break;
		*p = c;
	}
	free(dir);
	return rc;
}

int
fsutil_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid, struct cv_err *err)
{
	char	*base;
	int	 dfd, rc;

	/* The directory is opened once, under the symlink rule: the temp
	 * file and the rename land in the one that was judged. */
	if ((dfd = fsutil_open_parent(path, &base, err)) == -1) {
		cv_err_prefix(err, "%s", path);
		return -1;
	}
	rc = fsutil_write_atomic_at(dfd, base, path, data, len, mode, uid,
	    gid, err);
	close(dfd);
	free(base);
	return rc;
}

int
fsutil_read_password(const char *path, char **pw, struct cv_err *err)
{
	unsigned char	*data = NULL;
	size_t		 len = 0, cap = 0, n;
	FILE		*fp;

	*pw = NULL;
	if (strcmp(path, "-") == 0) {
		/* Standard input: read up to the first newline, bounded. */
		cap = 4096;
		data = xmalloc(cap + 1);
		fp = stdin;
		while (len < cap && (n = fread(data + len, 1, 1, fp)) == 1) {
			if (data[len] == '\n')
				break;
			len++;
		}
		data[len] = '\0';
	} else if (fsutil_read_file(path, 64 * 1024, &data, &len, err) == -1) {
		cv_err_prefix(err, "%s", path);
		return -1;
	}
	for (n = 0; n < len; n++) {
		if (data[n] == '\n' || data[n] == '\r') {
			data[n] = '\0';
			break;
		}
	}
	*pw = xstrdup((char *)data);
	explicit_bzero(data, len);
	free(data);
	return 0;
}

int
fsutil_read_password_arg(const char *path, char **pw, struct cv_err *err)
{
	char		 buf[FSUTIL_MAX_PASSWORD + 1];
	struct stat	 st, fst;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	*pw = NULL;
	if (strcmp(path, "-") == 0 || stat(path, &st) == -1 ||
	    !S_ISFIFO(st.st_mode))
		return fsutil_read_password(path, pw, err);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return cv_err_set(err, "%s: %s", path, strerror(errno));
	/* The pipe stat() saw, not what a rename put there since. */
	if (fstat(fd, &fst) == -1 || !S_ISFIFO(fst.st_mode) ||
	    fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		cv_err_set(err, "%s: replaced while opening", path);
		goto out;
	}
	while (len < FSUTIL_MAX_PASSWORD) {
		n = read(fd, buf + len, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cv_err_set(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0 || buf[len] == '\n')
			break;
		len++;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*pw = xstrdup(buf);
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

int
fsutil_mkdirs(const char *path, mode_t mode, struct cv_err *err)
{
	char	*copy = xstrdup(path), *p;
	int	 rc = -1;

	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, mode) == -1 && errno != EEXIST) {
			cv_err_set(err, "mkdir %s: %s", copy, strerror(errno));
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* ---- walking a directory tree a less-trusted user owns ------------------ */

/* Whether only root, or the user running us, can have put the link in
 * dfd: one of them owns the link and the directory, and nobody else may
 * write in it.  For the daemon (root) that is root alone; a user running
 * the CLI keeps its own links (~/tls -> ~/projects/tls). */
static int
fsutil_root_link(int dfd, const struct stat *lst)
{
	struct stat	dst;
	uid_t		me = geteuid();

	return (lst->st_uid == 0 || lst->st_uid == me) &&
	    fstat(dfd, &dst) == 0 && (dst.st_uid == 0 || dst.st_uid == me) &&
	    (dst.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* One component of fsutil_walk_at: name in dfd opened as a directory,
 * made first if missing and FSUTIL_WALK_CREATE.  err has no path. */
static int
fsutil_walk_step(int dfd, const char *name, int flags, mode_t mode,
    struct cv_err *err)
{
	const int	 of = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	struct stat	 lst;
	int		 fd, made = 0;

	if (strcmp(name, "..") == 0)
		return fsutil_refuse(err, "\"..\": not followed");
	fd = openat(dfd, name, of | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT && (flags & FSUTIL_WALK_CREATE)) {
		if (mkdirat(dfd, name, 0700) == 0)
			made = 1;
		else if (errno != EEXIST)
			return fsutil_errno(err, "create directory");
		/* What is there now, made by us or planted meanwhile, is
		 * judged by the same O_NOFOLLOW open. */
		fd = openat(dfd, name, of | O_NOFOLLOW);
	}
	if (fd != -1) {
		if (made && fchmod(fd, mode) == -1) {
			fsutil_errno(err, "chmod");
			close(fd);
			return -1;
		}
		return fd;
	}
	if (errno != ELOOP && errno != ENOTDIR)
		return fsutil_errno(err, NULL);
	if (fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) == -1)
		return fsutil_errno(err, NULL);
	if (!S_ISLNK(lst.st_mode))
		return fsutil_refuse(err, "not a directory");
	if (!(flags & FSUTIL_WALK_ROOT_LINKS) || !fsutil_root_link(dfd, &lst))
		return fsutil_refuse(err, "a symlink (owned by uid %lu): not "
		    "followed", (unsigned long)lst.st_uid);
	if ((fd = openat(dfd, name, of)) == -1)
		return fsutil_errno(err, NULL);
	return fd;
}

int
fsutil_walk_at(int dfd, const char *shown, const char *rel, int flags,
    mode_t mode, struct cv_err *err)
{
	char	*copy = xstrdup(rel), *p, *end;
	int	 cur, next, e;

	if ((cur = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		fsutil_errno(err, shown);
		goto out;
	}
	for (p = copy; *p != '\0'; p = end) {
		if ((end = strchr(p, '/')) != NULL)
			*end++ = '\0';
		else
			end = p + strlen(p);
		if (*p == '\0' || strcmp(p, ".") == 0)
			continue;
		next = fsutil_walk_step(cur, p, flags, mode, err);
		e = errno;
		close(cur);
		cur = next;
		if (cur == -1) {
			/* The path so far: shown and rel up to this name. */
			cv_err_prefix(err, "%s%s%.*s", shown,
			    *shown != '\0' && shown[strlen(shown) - 1] != '/' ?
			    "/" : "", (int)(p - copy + strlen(p)), rel);
			errno = e;
			goto out;
		}
	}
out:
	free(copy);
	return cur;
}

int
fsutil_walk(const char *path, int flags, mode_t mode, struct cv_err *err)
{
	int	dfd, fd, e;

	dfd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (dfd == -1)
		return fsutil_errno(err, path[0] == '/' ? "/" : ".");
	fd = fsutil_walk_at(dfd, path[0] == '/' ? "/" : "", path +
	    (path[0] == '/'), flags, mode, err);
	e = errno;
	close(dfd);
	errno = e;
	return fd;
}
