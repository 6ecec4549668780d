/*
 * Hardening unit tests (issue 7): atomic writes never go through a
 * symlink planted at the target or at the temporary path, and a secret's
 * mode does not depend on the umask; the RFC 3339 offset fix.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "agentcfg.h"
#include "fsutil.h"
#include "proto.h"
#include "timeutil.h"
#include "xmalloc.h"

#define NTRIES	16	/* fsutil_write_atomic's attempts at a temp name */

static char	dir[] = "/tmp/check_harden.XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char	cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/check_harden.XXXXXX");
}

static char *
slurp(const char *path)
{
	unsigned char	*d;
	size_t		 n;
	struct cv_err	 err;

	if (fsutil_read_file(path, 1 << 20, &d, &n, &err) == -1)
		return NULL;
	return (char *)d;
}

static void
put(const char *path, const char *s)
{
	FILE	*fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(s, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* The names' random part, made predictable for these tests. */
static unsigned
seeded_rand(void)
{
	return (unsigned)random();
}

/*
 * Plants a symlink to a victim file at each of the first n temp names
 * fsutil_write_atomic will try: the tests draw them from a seeded
 * random() (fsutil_tmp_rand_fn), as an attacker able to predict them
 * would -- the real names come from getrandom().
 */
static void
plant_temp_links(const char *target, unsigned seed, int n, char **victims)
{
	char	*tmp;
	int	 i;

	fsutil_tmp_rand_fn = seeded_rand;
	srandom(seed);
	for (i = 0; i < n; i++) {
		xasprintf(&tmp, "%s.cvtmp.%ld.%x", target, (long)getpid(),
		    (unsigned)random());
		xasprintf(&victims[i], "%s/victim%d", dir, i);
		put(victims[i], "victim\n");
		ck_assert_int_eq(symlink(victims[i], tmp), 0);
		free(tmp);
	}
	srandom(seed);
}

START_TEST(test_atomic_target_symlink)
{
	char		*target, *victim, *s;
	struct stat	 st;
	struct cv_err	 err;
	mode_t		 old = umask(0);

	xasprintf(&target, "%s/key.pem", dir);
	xasprintf(&victim, "%s/victim", dir);
	put(victim, "victim\n");
	ck_assert_int_eq(symlink(victim, target), 0);
	ck_assert_int_eq(fsutil_write_atomic(target, "SECRET\n", 7, 0600,
	    (uid_t)-1, (gid_t)-1, &err), 0);
	umask(old);
	/* The link was replaced, not followed; the mode is 0600 whatever
	 * the umask. */
	ck_assert_str_eq(s = slurp(victim), "victim\n");
	free(s);
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_str_eq(s = slurp(target), "SECRET\n");
	free(s);
	free(target);
	free(victim);
}
END_TEST

START_TEST(test_atomic_temp_symlinks)
{
	char		*target, *victims[NTRIES], *s;
	struct cv_err	 err;
	struct stat	 st;
	int		 i;

	xasprintf(&target, "%s/cert.pem", dir);
	/* All but the last name taken by links: the write uses the last. */
	plant_temp_links(target, 7, NTRIES - 1, victims);
	ck_assert_int_eq(fsutil_write_atomic(target, "NEW\n", 4, 0644,
	    (uid_t)-1, (gid_t)-1, &err), 0);
	ck_assert_str_eq(s = slurp(target), "NEW\n");
	free(s);
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	for (i = 0; i < NTRIES - 1; i++) {
		ck_assert_str_eq(s = slurp(victims[i]), "victim\n");
		free(s);
		free(victims[i]);
	}
	free(target);
}
END_TEST

/* What a writer that died mid-way left is removed by the next write of
 * the same set; a live writer's temporary file stays. */
START_TEST(test_write_set_cleans_stale)
{
	char			*target, *dead_tmp, *dead_old, *ours, *live, *s;
	struct fsutil_file	 f;
	struct cv_err		 err;
	pid_t			 dead;

	if ((dead = fork()) == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
	xasprintf(&target, "%s/web.key", dir);
	xasprintf(&dead_tmp, "%s.cvtmp.%ld.1a2b", target, (long)dead);
	xasprintf(&dead_old, "%s.cvold.%ld.3c4d", target, (long)dead);
	xasprintf(&ours, "%s.cvtmp.%ld.5e6f", target, (long)getpid());
	xasprintf(&live, "%s.cvtmp.%ld.7a8b", target, (long)getppid());
	put(dead_tmp, "half a key");
	put(dead_old, "old");
	put(ours, "left by this pid earlier");
	put(live, "being written");
	memset(&f, 0, sizeof(f));
	f.path = target;
	f.data = "KEY\n";
	f.len = 4;
	f.mode = 0600;
	ck_assert_int_eq(fsutil_write_set(&f, 1, &err), 0);
	ck_assert_str_eq(s = slurp(target), "KEY\n");
	free(s);
	ck_assert_int_eq(access(dead_tmp, F_OK), -1);
	ck_assert_int_eq(access(dead_old, F_OK), -1);
	ck_assert_int_eq(access(ours, F_OK), -1);
	ck_assert_int_eq(access(live, F_OK), 0);
	free(target);
	free(dead_tmp);
	free(dead_old);
	free(ours);
	free(live);
}
END_TEST

START_TEST(test_atomic_temp_all_taken)
{
	char		*target, *victims[NTRIES], *s;
	struct cv_err	 err;
	int		 i;

	xasprintf(&target, "%s/cert.pem", dir);
	put(target, "OLD\n");
	plant_temp_links(target, 11, NTRIES, victims);
	/* Every name taken: the write fails, nothing is followed, the old
	 * file stays. */
	ck_assert_int_eq(fsutil_write_atomic(target, "NEW\n", 4, 0644,
	    (uid_t)-1, (gid_t)-1, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "temporary file"));
	ck_assert_str_eq(s = slurp(target), "OLD\n");
	free(s);
	for (i = 0; i < NTRIES; i++) {
		ck_assert_str_eq(s = slurp(victims[i]), "victim\n");
		free(s);
		free(victims[i]);
	}
	free(target);
}
END_TEST

START_TEST(test_agentcfg_temp_symlink)
{
	static const char *const	 sec[] = { AGENTCFG_COMMON_SECTION };
	static const struct agentcfg_kv	 kv[] = { { "Key", "/x" } };
	char				*target, *victims[NTRIES], *s;
	struct cv_err			 err;
	int				 changed, i;

	xasprintf(&target, "%s/config.ini", dir);
	put(target, "[ManageSoft\\Common]\nKey=/old\n");
	plant_temp_links(target, 3, 4, victims);
	ck_assert_int_eq(agentcfg_update_file(target, sec, 1, kv, 1,
	    &changed, &err), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_str_eq(s = slurp(target), "[ManageSoft\\Common]\nKey=/x\n");
	free(s);
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(s = slurp(victims[i]), "victim\n");
		free(s);
		free(victims[i]);
	}
	free(target);
}
END_TEST

/* How many entries dir holds (not . and ..); -1 if it cannot be read. */
static int
entries(const char *path)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* fsutil_walk_at(rel) from dir/web, as acme_order does from its
 * webroot: the descriptor, or -1 and err. */
static int
walk(const char *rel, int flags, struct cv_err *err)
{
	char	*w;
	int	 wfd, fd;

	xasprintf(&w, "%s/web", dir);
	wfd = open(w, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ne(wfd, -1);
	fd = fsutil_walk_at(wfd, w, rel, flags, 0755, err);
	close(wfd);
	free(w);
	return fd;
}

static void
same_dir(int fd, const char *rel)
{
	struct stat	a, b;
	char		*p;

	xasprintf(&p, "%s/%s", dir, rel);
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(stat(p, &b), 0);
	ck_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	free(p);
}

/* Missing directories made with the mode asked (not the umask's),
 * existing ones reused untouched. */
START_TEST(test_walk_create_reuse)
{
	struct cv_err	 err;
	struct stat	 st;
	char		*p;
	mode_t		 old;
	int		 fd;

	xasprintf(&p, "%s/web", dir);
	ck_assert_int_eq(mkdir(p, 0750), 0);
	free(p);
	old = umask(077);
	fd = walk(".well-known/acme-challenge", FSUTIL_WALK_CREATE, &err);
	umask(old);
	ck_assert_msg(fd != -1, "%s", err.msg);
	same_dir(fd, "web/.well-known/acme-challenge");
	close(fd);
	xasprintf(&p, "%s/web/.well-known", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);
	/* Reused: its mode is the owner's business, not reset. */
	ck_assert_int_eq(chmod(p, 0711), 0);
	fd = walk(".well-known/acme-challenge", FSUTIL_WALK_CREATE, &err);
	ck_assert_msg(fd != -1, "%s", err.msg);
	same_dir(fd, "web/.well-known/acme-challenge");
	close(fd);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0711);
	free(p);
	/* Without FSUTIL_WALK_CREATE nothing is made. */
	ck_assert_int_eq(walk("other/x", 0, &err), -1);
	ck_assert_int_eq(errno, ENOENT);
	xasprintf(&p, "%s/web", dir);
	ck_assert_int_eq(entries(p), 1);
	free(p);
}
END_TEST

/* A symlink at any component (to a directory root owns) is refused:
 * nothing made or opened at its target, the error names the path. */
START_TEST(test_walk_symlink_refused)
{
	static const char *const at[] = { ".well-known",
	    ".well-known/acme-challenge" };
	struct cv_err	 err;
	char		*p, *target, *want;
	size_t		 i;

	xasprintf(&target, "%s/etc", dir);
	ck_assert_int_eq(mkdir(target, 0755), 0);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		xasprintf(&p, "rm -rf '%s/web' && mkdir -p '%s/web/.well-known'",
		    dir, dir);
		ck_assert_int_eq(system(p), 0);
		free(p);
		xasprintf(&p, "%s/web/%s", dir, at[i]);
		(void)rmdir(p);
		ck_assert_int_eq(symlink(target, p), 0);
		errno = 0;
		ck_assert_int_eq(walk(".well-known/acme-challenge/x",
		    FSUTIL_WALK_CREATE, &err), -1);
		ck_assert_int_eq(errno, EPERM);
		xasprintf(&want, "%s: a symlink (owned by uid %lu): not "
		    "followed", p, (unsigned long)geteuid());
		ck_assert_str_eq(err.msg, want);
		ck_assert_int_eq(entries(target), 0);
		free(want);
		free(p);
	}
	free(target);
}
END_TEST

/* "..", a file where a directory should be. */
START_TEST(test_walk_dotdot_file)
{
	struct cv_err	 err;
	char		*p;

	xasprintf(&p, "%s/web", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	ck_assert_int_eq(walk("a/../../escape", FSUTIL_WALK_CREATE, &err), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "\"..\": not followed"));
	xasprintf(&p, "%s/escape", dir);
	ck_assert_int_eq(access(p, F_OK), -1);
	free(p);
	xasprintf(&p, "%s/web/f", dir);
	put(p, "x\n");
	free(p);
	ck_assert_int_eq(walk("f/sub", FSUTIL_WALK_CREATE, &err), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "/web/f: not a directory"));
}
END_TEST

/* fsutil_walk: root's link in root's 0755 directory is followed with
 * FSUTIL_WALK_ROOT_LINKS, the same link in a directory others may
 * write is not, nor is any link without the flag. */
START_TEST(test_walk_root_links)
{
	struct cv_err	 err;
	char		*real, *safe, *open_, *p;
	int		 fd;

	if (geteuid() != 0)
		return;		/* the links must be root's */
	xasprintf(&real, "%s/real", dir);
	xasprintf(&safe, "%s/safe", dir);
	xasprintf(&open_, "%s/open", dir);
	ck_assert_int_eq(mkdir(real, 0755), 0);
	ck_assert_int_eq(mkdir(safe, 0755), 0);
	ck_assert_int_eq(mkdir(open_, 0777), 0);
	ck_assert_int_eq(chmod(open_, 01777), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	xasprintf(&p, "%s/l", safe);
	ck_assert_int_eq(symlink(real, p), 0);
	free(p);
	xasprintf(&p, "%s/l", open_);
	ck_assert_int_eq(symlink(real, p), 0);
	free(p);
	xasprintf(&p, "%s/l/new", safe);
	fd = fsutil_walk(p, FSUTIL_WALK_CREATE | FSUTIL_WALK_ROOT_LINKS, 0700,
	    &err);
	ck_assert_msg(fd != -1, "%s", err.msg);
	close(fd);
	ck_assert_int_eq(fsutil_walk(p, 0, 0700, &err), -1);
	ck_assert_int_eq(errno, EPERM);
	free(p);
	ck_assert_int_eq(entries(real), 1);
	xasprintf(&p, "%s/l/other", open_);
	ck_assert_int_eq(fsutil_walk(p, FSUTIL_WALK_CREATE |
	    FSUTIL_WALK_ROOT_LINKS, 0700, &err), -1);
	ck_assert_int_eq(errno, EPERM);
	free(p);
	xasprintf(&p, "%s/l: a symlink (owned by uid 0): not followed", open_);
	ck_assert_str_eq(err.msg, p);
	free(p);
	ck_assert_int_eq(entries(real), 1);
	free(real);
	free(safe);
	free(open_);
}
END_TEST

/* A service user's link: dir/NAME -> target, owned by uid 65534. */
static char *
user_link(const char *name, const char *target)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, name);
	ck_assert_int_eq(symlink(target, p), 0);
	ck_assert_int_eq(lchown(p, 65534, 65534), 0);
	return p;
}

static void
set_file(struct fsutil_file *f, const char *path, const char *data)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->data = data;
	f->len = strlen(data);
	f->mode = 0600;
}

/*
 * fsutil_write_set into a directory reached through a symlink a service
 * user owns (it swapped its deploy directory for a link to root's): the
 * set is refused, naming the file, the link and the reason, and nothing
 * lands in root's directory.
 */
START_TEST(test_write_set_user_link_refused)
{
	struct fsutil_file	 f;
	struct cv_err		 err;
	char			*real, *link, *target, *want;

	if (geteuid() != 0)
		return;		/* the link must be another user's */
	xasprintf(&real, "%s/rootdir", dir);
	ck_assert_int_eq(mkdir(real, 0755), 0);
	link = user_link("tls", real);
	xasprintf(&target, "%s/key.pem", link);
	set_file(&f, target, "KEY\n");
	ck_assert_int_eq(fsutil_write_set(&f, 1, &err), -1);
	ck_assert_int_eq(errno, EPERM);
	xasprintf(&want, "%s: %s: a symlink (owned by uid 65534): not followed",
	    target, link);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(entries(real), 0);
	free(want);
	free(target);
	free(link);
	free(real);
}
END_TEST

/* Root's own link (root owns it and its directory, which nobody else may
 * write) is followed: /etc/ssl -> /usr/local/ssl keeps working. */
START_TEST(test_write_set_root_link)
{
	struct fsutil_file	 f;
	struct cv_err		 err;
	struct stat		 st;
	char			*real, *link, *target, *s;

	if (geteuid() != 0)
		return;		/* the link must be root's */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	xasprintf(&real, "%s/real", dir);
	xasprintf(&link, "%s/tls", dir);
	ck_assert_int_eq(mkdir(real, 0755), 0);
	ck_assert_int_eq(symlink(real, link), 0);
	xasprintf(&target, "%s/key.pem", link);
	set_file(&f, target, "KEY\n");
	ck_assert_msg(fsutil_write_set(&f, 1, &err) == 0, "%s", err.msg);
	free(target);
	xasprintf(&target, "%s/key.pem", real);
	ck_assert_str_eq(s = slurp(target), "KEY\n");
	free(s);
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(entries(real), 1);
	free(target);
	free(link);
	free(real);
}
END_TEST

/* All or nothing: the second file's directory refused, the first file
 * (in a good directory) keeps its old content and no temporary is left
 * beside it; the refused directory's target gets nothing. */
START_TEST(test_write_set_second_dir_refused)
{
	struct fsutil_file	 f[2];
	struct cv_err		 err;
	char			*good, *key, *real, *link, *cert, *s;

	if (geteuid() != 0)
		return;
	xasprintf(&good, "%s/good", dir);
	xasprintf(&real, "%s/rootdir", dir);
	ck_assert_int_eq(mkdir(good, 0755), 0);
	ck_assert_int_eq(mkdir(real, 0755), 0);
	xasprintf(&key, "%s/key.pem", good);
	put(key, "OLD KEY\n");
	link = user_link("tls", real);
	xasprintf(&cert, "%s/cert.pem", link);
	set_file(&f[0], key, "NEW KEY\n");
	set_file(&f[1], cert, "NEW CERT\n");
	ck_assert_int_eq(fsutil_write_set(f, 2, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "a symlink (owned by uid 65534)"));
	ck_assert_str_eq(s = slurp(key), "OLD KEY\n");
	free(s);
	ck_assert_int_eq(entries(good), 1);
	ck_assert_int_eq(entries(real), 0);
	free(cert);
	free(link);
	free(key);
	free(real);
	free(good);
}
END_TEST

/* The write set as uid/gid 65534 in a child: 0, or 1 with err on
 * stderr. */
static int
write_set_as_nobody(const char *path)
{
	struct fsutil_file	 f;
	struct cv_err		 err;
	int			 st;
	pid_t			 pid;

	if ((pid = fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		set_file(&f, path, "CLI\n");
		if (fsutil_write_set(&f, 1, &err) == -1) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(errno == EPERM ? 1 : 3);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The CLI run by a user (convert's outputs): its own link in its own
 * directory is followed; another user's link there is not. */
START_TEST(test_write_set_own_link_cli)
{
	char	*home, *real, *p;

	if (geteuid() != 0)
		return;		/* needs two users */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	xasprintf(&home, "%s/home", dir);
	xasprintf(&real, "%s/home/real", dir);
	ck_assert_int_eq(mkdir(home, 0755), 0);
	ck_assert_int_eq(mkdir(real, 0755), 0);
	ck_assert_int_eq(chown(home, 65534, 65534), 0);
	ck_assert_int_eq(chown(real, 65534, 65534), 0);
	xasprintf(&p, "%s/tls", home);
	ck_assert_int_eq(symlink(real, p), 0);
	ck_assert_int_eq(lchown(p, 65534, 65534), 0);
	free(p);
	xasprintf(&p, "%s/other", home);
	ck_assert_int_eq(symlink(real, p), 0);
	ck_assert_int_eq(lchown(p, 65533, 65533), 0);
	free(p);
	xasprintf(&p, "%s/tls/out.pem", home);
	ck_assert_int_eq(write_set_as_nobody(p), 0);
	free(p);
	xasprintf(&p, "%s/other/out2.pem", home);
	ck_assert_int_eq(write_set_as_nobody(p), 1);
	free(p);
	ck_assert_int_eq(entries(real), 1);
	free(real);
	free(home);
}
END_TEST

START_TEST(test_rfc3339_short_offset)
{
	time_t	t;

	/* fuzz/repro/time/offset-short: read past the end before. */
	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22T07:30:00+5:30",
	    &t), -1);
	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22T07:30:00+05:3",
	    &t), -1);
	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22T07:30:00+24:00",
	    &t), -1);
	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22T07:30:00+05:30",
	    &t), 0);
	ck_assert_int_eq((long long)t, 1795332600LL - 5 * 3600 - 30 * 60);
}
END_TEST

/* Bytes from a file name or a certificate: JSON whatever they are,
 * strict as jansson (which the CLI parses the reply with) is. */
START_TEST(test_proto_string_bytes)
{
	static const struct {
		const char	*in, *out;
	} c[] = {
		{ "caf\xc3\xa9", "caf\xc3\xa9" },		/* valid: kept */
		{ "caf\xe9.pem", "caf\xef\xbf\xbd.pem" },	/* Latin-1 */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
		{ "\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx" },
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd" },			/* > U+10FFFF */
		{ "\xf0\x9f\x94\x92", "\xf0\x9f\x94\x92" },	/* U+1F512 */
		{ "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },	/* cut short */
	};
	json_t	*j;
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		j = proto_string(c[i].in);
		ck_assert_ptr_nonnull(j);
		ck_assert_str_eq(json_string_value(j), c[i].out);
		json_decref(j);
	}
	j = proto_string(NULL);
	ck_assert(json_is_null(j));
	json_decref(j);
}
END_TEST

static Suite *
harden_suite(void)
{
	Suite	*s = suite_create("harden");
	TCase	*tc = tcase_create("fsutil");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_atomic_target_symlink);
	tcase_add_test(tc, test_atomic_temp_symlinks);
	tcase_add_test(tc, test_atomic_temp_all_taken);
	tcase_add_test(tc, test_write_set_cleans_stale);
	tcase_add_test(tc, test_agentcfg_temp_symlink);
	tcase_add_test(tc, test_walk_create_reuse);
	tcase_add_test(tc, test_walk_symlink_refused);
	tcase_add_test(tc, test_walk_dotdot_file);
	tcase_add_test(tc, test_walk_root_links);
	tcase_add_test(tc, test_write_set_user_link_refused);
	tcase_add_test(tc, test_write_set_root_link);
	tcase_add_test(tc, test_write_set_second_dir_refused);
	tcase_add_test(tc, test_write_set_own_link_cli);
	suite_add_tcase(s, tc);
	tc = tcase_create("time");
	tcase_add_test(tc, test_rfc3339_short_offset);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, test_proto_string_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(harden_suite());
	int	 failed;

	/* Same process: the temp names depend on getpid(). */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
