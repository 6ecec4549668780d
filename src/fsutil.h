/* File helpers: bounded reads of untrusted files, atomic writes of secrets. */
#ifndef CV_FSUTIL_H
#define CV_FSUTIL_H

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

#include "cverr.h"

/* Largest certificate/key file certvigil reads (a CA bundle is ~200 KiB). */
#define FSUTIL_MAX_FILE	(16u * 1024 * 1024)

/*
 * The one way certvigil opens a file a less-trusted user may have
 * touched (a watched directory, a binding's deploy directory, an inbox):
 * the parent directory is opened, then the last component with O_PATH
 * and fstat, so that a device, FIFO or socket is never opened at all;
 * only a regular file is then reopened for reading (O_RDONLY|O_NONBLOCK|
 * O_CLOEXEC|O_NOCTTY), the same inode.  A symlink in the last component
 * is followed only when root owns it or it has its target's owner (the
 * kernel's fs.protected_symlinks rule), never with FSUTIL_NOFOLLOW.
 * Returns the descriptor (st filled) or -1: a refusal of the policy sets
 * errno to EPERM (st is then what was found: the link's lstat for a link
 * not followed), a file replaced between two looks EAGAIN, anything else
 * is the system's errno.  err has no path.
 */
#define FSUTIL_PROTECTED	0x0	/* symlinks by the rule above */
#define FSUTIL_NOFOLLOW		0x1	/* no symlink in the last component */
#define FSUTIL_ONE_LINK		0x2	/* st_nlink == 1 (no hard link) */
/* fsutil_open only: the directories above the file too are walked by
 * fsutil_walk (FSUTIL_WALK_ROOT_LINKS): a symlink among them is followed
 * only where only root can have put it; err then names the directory. */
#define FSUTIL_WALK_DIRS	0x4

struct stat;
int	fsutil_open(const char *path, int policy, struct stat *st,
	    struct cv_err *);
/* The same for name in the directory dfd. */
int	fsutil_open_at(int dfd, const char *name, int policy, struct stat *st,
	    struct cv_err *);
/* The directory holding path, opened by fsutil_open_dir (FSUTIL_PROTECTED);
 * *base (caller frees) is path's last component, for the *at() calls. */
int	fsutil_open_parent(const char *path, char **base, struct cv_err *);
/* A directory under the same rules, O_RDONLY|O_DIRECTORY (for *at()
 * calls and fsync); err names the path. */
int	fsutil_open_dir(const char *path, int policy, struct cv_err *);

/*
 * Reads a whole regular file of at most max bytes through fsutil_open
 * (policy).  The caller frees *data; a NUL is appended after the data
 * (not counted in *len).  fsutil_read_file is FSUTIL_PROTECTED.
 */
int	fsutil_read(const char *path, int policy, size_t max,
	    unsigned char **data, size_t *len, struct cv_err *);
int	fsutil_read_file(const char *path, size_t max, unsigned char **data,
	    size_t *len, struct cv_err *);
/* The same from a descriptor fsutil_open gave, st its stat. */
int	fsutil_read_fd(int fd, const struct stat *st, size_t max,
	    unsigned char **data, size_t *len, struct cv_err *);

/*
 * Writes data to path atomically: a temp file in the same directory
 * (O_EXCL|O_NOFOLLOW), fchmod(mode) before any byte is written, fsync,
 * rename over path, fsync of the directory.  A symlink at path is replaced,
 * never followed; the directory is opened once (fsutil_open_parent: a
 * symlink to it followed only under fsutil_open's rule) and every step
 * is done in it.  uid/gid of (uid_t)-1 / (gid_t)-1 leave ownership as is.
 */
int	fsutil_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, uid_t uid, gid_t gid, struct cv_err *);

/*
 * Creates the directories missing above path, as mkdir -p of its parent
 * would: the parent itself with mode, those above it 0755 (each as the
 * umask allows); existing ones are left as they are.  For the CLI's
 * writers: a fresh machine has no /etc/certvigil (issue 13 item 12).
 */
int	fsutil_mkparents(const char *path, mode_t mode, struct cv_err *);

/* The same for name in the directory dfd (path only names it in
 * messages): the temp file, the renameat and the fsync all in dfd. */
int	fsutil_write_atomic_at(int dfd, const char *name, const char *path,
	    const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
	    struct cv_err *);

/*
 * The random part of temporary names (getrandom()).  Tests replace it
 * with a seeded one to plant links at the names an attacker would have
 * to guess.
 */
extern unsigned	(*fsutil_tmp_rand_fn)(void);

struct fsutil_file {
	const char	*path;
	const void	*data;
	size_t		 len;
	mode_t		 mode;
	int		 own;		/* chown to uid:gid (-1 keeps one) */
	uid_t		 uid;
	gid_t		 gid;
};

/*
 * Writes several files as one change (a certificate and its key): every
 * target's directory is opened once first (fsutil_open_deploy_dir: a
 * symlink on the way followed only where only root can have put it);
 * then, all through those descriptors (*at calls), every temp file is
 * written and fsynced, each existing target is kept as a hard-linked
 * backup, the temps are renamed over the targets in order, and the
 * directories fsynced.  If a rename fails, the ones already done are
 * undone from the backups, so the set is all old or all new.  Nothing is
 * touched when a directory is refused or a temp file cannot be written.
 */
int	fsutil_write_set(const struct fsutil_file *, size_t n, struct cv_err *);

/*
 * The directory holding path, for a file root writes where a less-trusted
 * user may own the directory or one above it (a binding's deploy paths):
 * walked by fsutil_walk(FSUTIL_WALK_ROOT_LINKS), so a symlink anywhere on
 * the way is followed only where only root can have put it (root owns it
 * and its directory, which nobody else may write); anything else is
 * refused with errno EPERM and err "PATH: DIR-SO-FAR: reason", one line.
 * *base (caller frees) is path's last component, for the *at() calls.
 * A relative path is walked from the working directory.
 */
int	fsutil_open_deploy_dir(const char *path, char **base, struct cv_err *);

/*
 * Removes PATH.cvtmp.PID.* and PATH.cvold.PID.* that a writer which died
 * mid-way left (PID gone, or ours: we are not writing PATH now).
 * fsutil_write_set does it first.  Returns how many it removed.
 */
int	fsutil_clean_stale(const char *path);
/* The same for name in the directory dfd. */
int	fsutil_clean_stale_at(int dfd, const char *name);
/* The same for every file in dir (a directory only certvigil writes in,
 * at start-up: the store). */
int	fsutil_clean_stale_dir(const char *dir);

/* fsyncs the directory holding path (after a rename or unlink). */
int	fsutil_fsync_dir(const char *path, struct cv_err *);
/* The same for the directory dfd, which holds path (named in err). */
int	fsutil_fsync_dirfd(int dfd, const char *path, struct cv_err *);
/* The directory dfd for readdir, through a descriptor of its own (dfd
 * stays the caller's); NULL on error.  closedir() it. */
DIR	*fsutil_opendir_at(int dfd);

/*
 * Reads a password: the first line of the file (trailing CR/LF removed), or
 * of standard input when path is "-".  The caller frees it with
 * freezero_str().
 */
int	fsutil_read_password(const char *path, char **pw, struct cv_err *);
/*
 * The command line's --password-file: the same, and a pipe or FIFO too
 * (bash's "--password-file <(pass show x)" is /dev/fd/63, a pipe), read
 * once up to its first newline and at most FSUTIL_MAX_PASSWORD bytes.
 * Only for a password the user names on the command line: certificate
 * files and the daemon's password_file still refuse FIFOs (fsutil_open),
 * since opening one blocks until a writer comes.
 */
#define FSUTIL_MAX_PASSWORD	4096
int	fsutil_read_password_arg(const char *path, char **pw,
	    struct cv_err *);

/*
 * mkdir -p with mode for each created component.  Every component is
 * looked up by path, symlinks followed: only for paths root alone
 * controls (the state and socket directories, the store).
 */
int	fsutil_mkdirs(const char *path, mode_t mode, struct cv_err *);

/*
 * The directories of rel ("a/b/c", relative) below the directory dfd,
 * opened one component at a time with openat(O_DIRECTORY|O_NOFOLLOW),
 * so that a symlink anywhere in rel is refused: for a tree a less-trusted
 * user owns below a point root chose (an ACME webroot's
 * .well-known/acme-challenge).  With FSUTIL_WALK_CREATE a missing
 * component is made with mkdirat and set to mode exactly (fchmod, not
 * the umask); an existing one is reused as it is.  A symlink, "..", or a
 * non-directory is refused with errno EPERM; err then names the path
 * (shown/ and the components so far) and the reason, one line.  Returns
 * the last directory's descriptor (O_RDONLY|O_DIRECTORY; the caller
 * closes it) or -1.
 */
#define FSUTIL_WALK_CREATE	0x1
/* A symlink is followed where only root can have put it: root owns it
 * and the directory holding it, which nobody else may write.  (A process
 * not run by root also follows its own user's links under the same rule:
 * the CLI writing through a user's ~/tls link.) */
#define FSUTIL_WALK_ROOT_LINKS	0x2
int	fsutil_walk_at(int dfd, const char *shown, const char *rel, int flags,
	    mode_t mode, struct cv_err *);
/* The same for a whole path from / (or from the working directory for
 * a relative one): for a path root names whose ancestors a less-trusted
 * user may own (deploy-client's directories); FSUTIL_WALK_ROOT_LINKS
 * keeps root's own links (/var/run -> /run) working. */
int	fsutil_walk(const char *path, int flags, mode_t mode, struct cv_err *);

#endif
