/*
 * src/acme_json.c (issue 17) on the fuzz seeds (fuzz/corpus/acme: byte 0
 * picks the parser, the rest is the reply): what valid replies yield, and
 * the one-line reason each hostile one is refused with.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "acme_json.h"
#include "fsutil.h"

static unsigned char	*data;
static size_t		 len;

/* Loads a seed; P/N are its reply. */
static void
seed(const char *name, const char **p, size_t *n)
{
	char		 path[1024];
	struct cv_err	 err;
	const char	*top = getenv("top_srcdir");

	free(data);
	snprintf(path, sizeof(path), "%s/fuzz/corpus/acme/%s",
	    top != NULL ? top : ".", name);
	ck_assert_msg(fsutil_read_file(path, 1 << 20, &data, &len, &err) == 0,
	    "%s", err.msg);
	*p = (const char *)data + 1;
	*n = len - 1;
}

START_TEST(test_directory)
{
	struct acme_directory	d;
	struct cv_err		err;
	const char		*p;
	size_t			 n;

	seed("directory-pebble", &p, &n);
	ck_assert_int_eq(acme_directory_parse(p, n, &d, &err), 0);
	ck_assert_str_eq(d.new_nonce, "https://127.0.0.1:14000/nonce-plz");
	ck_assert_str_eq(d.new_account, "https://127.0.0.1:14000/sign-me-up");
	ck_assert_str_eq(d.renewal_info,
	    "https://127.0.0.1:14000/draft-ietf-acme-ari-03/renewalInfo");
	ck_assert_int_eq(d.eab_required, 0);
	ck_assert_uint_eq(d.nprofiles, 2);
	ck_assert_str_eq(d.profiles[1], "shortlived");
	ck_assert_ptr_null(d.profiles[2]);
	acme_directory_free(&d);
	seed("directory-minimal", &p, &n);
	ck_assert_int_eq(acme_directory_parse(p, n, &d, &err), 0);
	ck_assert_ptr_null(d.renewal_info);
	ck_assert_uint_eq(d.nprofiles, 0);
	acme_directory_free(&d);
	seed("hostile-huge", &p, &n);
	ck_assert_int_eq(acme_directory_parse(p, n, &d, &err), -1);
	ck_assert_str_eq(err.msg, "directory: reply of 262159 bytes "
	    "(limit 262144)");
	seed("hostile-types-dir", &p, &n);
	ck_assert_int_eq(acme_directory_parse(p, n, &d, &err), -1);
	ck_assert_str_eq(err.msg, "directory: \"newNonce\" is not a string");
	seed("hostile-types-meta", &p, &n);
	ck_assert_int_eq(acme_directory_parse(p, n, &d, &err), -1);
	ck_assert_str_eq(err.msg, "directory: \"externalAccountRequired\" "
	    "is not a boolean");
}
END_TEST

START_TEST(test_order)
{
	struct acme_order	o;
	struct cv_err		err;
	const char		*p;
	size_t			 n;

	seed("order-pending", &p, &n);
	ck_assert_int_eq(acme_order_parse(p, n, &o, &err), 0);
	ck_assert_str_eq(o.status, "pending");
	ck_assert_int_eq(o.expires, 1796211027);
	ck_assert_uint_eq(o.nids, 2);
	ck_assert_str_eq(o.ids[1].type, "ip");
	ck_assert_str_eq(o.ids[1].value, "192.0.2.1");
	ck_assert_uint_eq(o.nauthzs, 2);
	ck_assert_str_eq(o.authzs[1], "https://127.0.0.1:14000/authZ/b");
	ck_assert_str_eq(o.replaces, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	ck_assert_str_eq(o.profile, "default");
	ck_assert_ptr_null(o.certificate);
	ck_assert_ptr_null(o.error);
	acme_order_free(&o);
	seed("order-invalid", &p, &n);
	ck_assert_int_eq(acme_order_parse(p, n, &o, &err), 0);
	ck_assert_str_eq(o.error, "urn:ietf:params:acme:error:unauthorized: "
	    "bad; urn:ietf:params:acme:error:dns (www.example.test): "
	    "NXDOMAIN");
	acme_order_free(&o);
	seed("hostile-longstr", &p, &n);
	ck_assert_int_eq(acme_order_parse(p, n, &o, &err), -1);
	ck_assert_str_eq(err.msg, "order: \"status\" longer than 32 bytes");
	seed("hostile-types-order", &p, &n);
	ck_assert_int_eq(acme_order_parse(p, n, &o, &err), -1);
	ck_assert_str_eq(err.msg, "order: \"identifiers\" is not an array");
	seed("hostile-order-many", &p, &n);
	ck_assert_int_eq(acme_order_parse(p, n, &o, &err), -1);
	ck_assert_str_eq(err.msg, "order: \"authorizations\" has more than "
	    "100 entries");
}
END_TEST

START_TEST(test_authz)
{
	struct acme_authz	a;
	struct cv_err		err;
	const char		*p;
	size_t			 n;

	seed("authz-pending", &p, &n);
	ck_assert_int_eq(acme_authz_parse(p, n, &a, &err), 0);
	ck_assert_str_eq(a.id.value, "www.example.test");
	ck_assert_uint_eq(a.nchallenges, 3);
	ck_assert_str_eq(a.challenges[0].type, "http-01");
	ck_assert_str_eq(a.challenges[0].token, "tok-1_abc");
	ck_assert_str_eq(a.challenges[2].error,
	    "urn:ietf:params:acme:error:connection: refused");
	acme_authz_free(&a);
	seed("hostile-nested", &p, &n);
	ck_assert_int_eq(acme_authz_parse(p, n, &a, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "authorization: not JSON"));
	seed("hostile-authz-nul", &p, &n);
	ck_assert_int_eq(acme_authz_parse(p, n, &a, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "authorization: not JSON"));
	seed("hostile-authz-ctrl", &p, &n);
	ck_assert_int_eq(acme_authz_parse(p, n, &a, &err), -1);
	ck_assert_str_eq(err.msg, "authorization: \"value\" holds a control "
	    "character");
}
END_TEST

START_TEST(test_problem)
{
	struct acme_problem	pr;
	struct cv_err		err;
	const char		*p;
	size_t			 n;

	seed("problem-badnonce", &p, &n);
	ck_assert_int_eq(acme_problem_parse(p, n, &pr, &err), 0);
	ck_assert_str_eq(pr.type, "urn:ietf:params:acme:error:badNonce");
	ck_assert_str_eq(pr.line, "urn:ietf:params:acme:error:badNonce: JWS "
	    "has an invalid anti-replay nonce");
	acme_problem_free(&pr);
	/* One line: control characters replaced, odd subproblems skipped. */
	seed("problem-subproblems", &p, &n);
	ck_assert_int_eq(acme_problem_parse(p, n, &pr, &err), 0);
	ck_assert_str_eq(pr.line, "urn:ietf:params:acme:error:"
	    "rejectedIdentifier: Some of the identifiers requested were "
	    "rejected??[31m; urn:ietf:params:acme:error:malformed "
	    "(_example.org): Invalid underscore in DNS name \"_example.org\"; "
	    "x");
	acme_problem_free(&pr);
	seed("hostile-problem-long", &p, &n);
	ck_assert_int_eq(acme_problem_parse(p, n, &pr, &err), 0);
	ck_assert_uint_le(strlen(pr.line), ACME_PROBLEM_LINE_MAX);
	ck_assert_ptr_nonnull(strstr(pr.line, "..."));
	acme_problem_free(&pr);
	seed("hostile-nested-obj", &p, &n);
	ck_assert_int_eq(acme_problem_parse(p, n, &pr, &err), -1);
}
END_TEST

START_TEST(test_renewal_info)
{
	struct acme_renewal_info	ri;
	struct cv_err			err;
	const char			*p;
	size_t				 n;

	seed("renewalinfo", &p, &n);
	ck_assert_int_eq(acme_renewal_info_parse(p, n, &ri, &err), 0);
	ck_assert_int_eq(ri.start, 1796083200);
	ck_assert_int_eq(ri.end, 1796083200 + 2 * 86400);
	ck_assert_str_eq(ri.explanation_url, "https://ca.example/incident/1");
	acme_renewal_info_free(&ri);
	seed("hostile-dup", &p, &n);
	ck_assert_int_eq(acme_renewal_info_parse(p, n, &ri, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "renewalInfo: not JSON"));
	seed("hostile-window-reversed", &p, &n);
	ck_assert_int_eq(acme_renewal_info_parse(p, n, &ri, &err), -1);
	ck_assert_str_eq(err.msg, "renewalInfo: the window ends before it "
	    "starts");
	seed("hostile-array-root", &p, &n);
	ck_assert_int_eq(acme_renewal_info_parse(p, n, &ri, &err), -1);
	ck_assert_str_eq(err.msg, "renewalInfo: not a JSON object");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("acme_json");
	TCase	*tc = tcase_create("parsers");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_authz);
	tcase_add_test(tc, test_problem);
	tcase_add_test(tc, test_renewal_info);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(data);
	return nf == 0 ? 0 : 1;
}
