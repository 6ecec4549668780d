/*
 * Hardening unit tests (issue 7): atomic writes never go through a
 * symlink planted at the target or at the temporary path, and a secret's
 * mode does not depend on the umask; the RFC 3339 offset fix.
 */
#include "config.h"

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
	suite_add_tcase(s, tc);
	tc = tcase_create("time");
	tcase_add_test(tc, test_rfc3339_short_offset);
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
