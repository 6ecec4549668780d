/*
 * ACME server replies (issue 17): byte 0 picks the parser (mod 5:
 * directory, order, authorization, problem, renewalInfo), the rest is the
 * reply body as http_do() hands it over.  What a parser accepts is read
 * through once (every string, every list) and freed.
 */
#include "config.h"

#include <string.h>

#include "acme_json.h"
#include "fuzz.h"

FUZZ_DECLARE(acme);

FUZZ_INIT(acme)
{
	return 0;
}

static volatile size_t	fuzz_acme_sink;

static void
fuzz_acme_touch(const char *s)
{
	if (s != NULL)
		fuzz_acme_sink += strlen(s);
}

static void
fuzz_acme_order(const char *p, size_t n)
{
	struct acme_order	o;
	struct cv_err		err;
	size_t			i;

	if (acme_order_parse(p, n, &o, &err) == -1)
		return;
	for (i = 0; i < o.nids; i++)
		fuzz_acme_touch(o.ids[i].value);
	for (i = 0; i < o.nauthzs; i++)
		fuzz_acme_touch(o.authzs[i]);
	fuzz_acme_touch(o.error);
	acme_order_free(&o);
}

static void
fuzz_acme_authz(const char *p, size_t n)
{
	struct acme_authz	a;
	struct cv_err		err;
	size_t			i;

	if (acme_authz_parse(p, n, &a, &err) == -1)
		return;
	fuzz_acme_touch(a.id.value);
	for (i = 0; i < a.nchallenges; i++) {
		fuzz_acme_touch(a.challenges[i].token);
		fuzz_acme_touch(a.challenges[i].error);
	}
	acme_authz_free(&a);
}

FUZZ_ENTRY(acme)
{
	struct acme_directory		d;
	struct acme_problem		pr;
	struct acme_renewal_info	ri;
	struct cv_err			err;
	const char			*p = (const char *)data + 1;
	size_t				 i, n;

	if (size == 0)
		return 0;
	n = size - 1;
	switch (data[0] % 5) {
	case 0:
		if (acme_directory_parse(p, n, &d, &err) == 0) {
			for (i = 0; i < d.nprofiles; i++)
				fuzz_acme_touch(d.profiles[i]);
			acme_directory_free(&d);
		}
		break;
	case 1:
		fuzz_acme_order(p, n);
		break;
	case 2:
		fuzz_acme_authz(p, n);
		break;
	case 3:
		if (acme_problem_parse(p, n, &pr, &err) == 0) {
			fuzz_acme_touch(pr.line);
			acme_problem_free(&pr);
		}
		break;
	default:
		if (acme_renewal_info_parse(p, n, &ri, &err) == 0) {
			fuzz_acme_touch(ri.explanation_url);
			acme_renewal_info_free(&ri);
		}
		break;
	}
	return 0;
}
