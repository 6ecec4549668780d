/* argv_split: commands split as sh(1) splits words, without expansions. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "log.h"

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

/* Not argv, but the other splitter of untrusted text: log_escape. */
static void
expect_escape(const char *in, const char *out)
{
	char	*e = log_escape(in), buf[8];

	ck_assert_str_eq(e, out);
	free(e);
	/* A short buffer never holds half an escape. */
	log_escape_buf(in, buf, sizeof(buf));
	ck_assert_uint_le(strlen(buf), sizeof(buf) - 1);
	ck_assert(strncmp(buf, out, strlen(buf)) == 0);
}

START_TEST(escapes)
{
	expect_escape("plain CN=a\\,b", "plain CN=a\\,b");
	expect_escape("a\nb\rc\td", "a\\nb\\rc\\td");
	expect_escape("\033[2J\x7f\x01", "\\x1b[2J\\x7f\\x01");
	expect_escape("c1 \xc2\x9b" "1m \xc2\x85", "c1 \\u009b1m \\u0085");
	expect_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
	expect_escape("bad \xff \xc0\xaf \xed\xa0\x80 \xc3",
	    "bad \\xff \\xc0\\xaf \\xed\\xa0\\x80 \\xc3");
	expect_escape("\\x1b", "\\x1b");
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
	tcase_add_test(tc, escapes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
