/* argv_split: commands split as sh(1) splits words, without expansions. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"

/* Splits s and expects the NULL-ended words that follow. */
static void
expect(const char *s, ...)
{
	struct cv_err	 e;
	va_list		 ap;
	const char	*w;
	char		**v = NULL;
	size_t		 n = 0, i = 0;

	ck_assert_msg(argv_split(s, &v, &n, &e) == 0, "[%s]: %s", s, e.msg);
	va_start(ap, s);
	while ((w = va_arg(ap, const char *)) != NULL) {
		ck_assert_msg(i < n, "[%s]: word %zu missing", s, i);
		ck_assert_msg(strcmp(v[i], w) == 0, "[%s]: word %zu is [%s], "
		    "not [%s]", s, i, v[i], w);
		i++;
	}
	va_end(ap);
	ck_assert_msg(i == n, "[%s]: %zu words, not %zu", s, n, i);
	ck_assert_ptr_null(v[n]);
	argv_free(v);
}

static void
expect_error(const char *s, const char *why)
{
	struct cv_err	 e;
	char		**v = NULL;

	ck_assert_msg(argv_split(s, &v, NULL, &e) == -1, "[%s] split", s);
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(e.msg, why) != NULL, "[%s]: '%s' lacks '%s'", s,
	    e.msg, why);
}

START_TEST(words)
{
	expect("systemctl stop nginx", "systemctl", "stop", "nginx", NULL);
	expect("  a \t b\n c  ", "a", "b", "c", NULL);
	expect("/bin/true", "/bin/true", NULL);
}
END_TEST

START_TEST(single_quotes)
{
	expect("echo 'a b'", "echo", "a b", NULL);
	/* Nothing is special inside single quotes. */
	expect("echo 'a\\\" $x `y`'", "echo", "a\\\" $x `y`", NULL);
	expect("echo ''", "echo", "", NULL);
	expect("a'b'c", "abc", NULL);
}
END_TEST

START_TEST(double_quotes)
{
	expect("echo \"a b\"", "echo", "a b", NULL);
	expect("echo \"\"", "echo", "", NULL);
	/* \" \\ \$ \` are escapes; any other backslash stays. */
	expect("x \"q\\\"q\" \"b\\\\s\" \"d\\$\" \"t\\`\"", "x", "q\"q", "b\\s",
	    "d$", "t`", NULL);
	expect("x \"a\\nb\"", "x", "a\\nb", NULL);
	expect("x \"it's\"", "x", "it's", NULL);
	expect("x 'say \"hi\"'", "x", "say \"hi\"", NULL);
	expect("a\"b c\"d", "ab cd", NULL);
}
END_TEST

START_TEST(backslash)
{
	expect("a\\ b c", "a b", "c", NULL);
	expect("\\'x\\'", "'x'", NULL);
	expect("\\\\", "\\", NULL);
	expect("C:\\\\Program\\ Files\\\\x", "C:\\Program Files\\x", NULL);
}
END_TEST

START_TEST(no_expansion)
{
	expect("echo $HOME *.pem ~ a;b | c", "echo", "$HOME", "*.pem", "~",
	    "a;b", "|", "c", NULL);
}
END_TEST

START_TEST(errors)
{
	expect_error("", "empty command");
	expect_error("   \t ", "empty command");
	expect_error("echo 'open", "unterminated single quote");
	expect_error("echo \"open", "unterminated double quote");
	expect_error("echo \"a\\\"", "unterminated double quote");
	expect_error("echo a\\", "trailing backslash");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("argv");
	TCase	*tc = tcase_create("argv");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, words);
	tcase_add_test(tc, single_quotes);
	tcase_add_test(tc, double_quotes);
	tcase_add_test(tc, backslash);
	tcase_add_test(tc, no_expansion);
	tcase_add_test(tc, errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
