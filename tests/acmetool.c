/*
 * tests/acmetool: drives the ACME building blocks (issue 17) against a
 * real server for tests/acme-foundation.sh, ahead of the issuer:
 *
 *   acmetool account DIR_URL CA_FILE KEY [--existing] [EAB_KID EAB_KEY]
 *
 * GETs the directory, takes a nonce from newNonce (HEAD), POSTs newAccount
 * signed with KEY's jwk (termsOfServiceAgreed, or onlyReturnExisting with
 * --existing; an EAB binding when EAB_KID and its base64url key are
 * given), retrying badNonce with the nonce of the refusal.  Prints
 * "STATUS LOCATION", or the problem line and exits 1.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "acme_json.h"
#include "fsutil.h"
#include "http.h"
#include "jws.h"
#include "xmalloc.h"

static gnutls_privkey_t
load_key(const char *path)
{
	gnutls_privkey_t	 k;
	gnutls_datum_t		 d;
	unsigned char		*p;
	size_t			 n;
	struct cv_err		 err;

	if (fsutil_read_file(path, 1 << 20, &p, &n, &err) == -1) {
		fprintf(stderr, "acmetool: %s\n", err.msg);
		exit(2);
	}
	d.data = p;
	d.size = (unsigned)n;
	if (gnutls_privkey_init(&k) < 0 || gnutls_privkey_import_x509_raw(k,
	    &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		fprintf(stderr, "acmetool: %s: not a PEM key\n", path);
		exit(2);
	}
	free(p);
	return k;
}

static char *
payload(gnutls_privkey_t k, int existing, const char *kid, const char *b64,
    const char *url)
{
	json_t		*o = json_object(), *eab;
	gnutls_pubkey_t	 pub;
	unsigned char	*key;
	size_t		 klen;
	struct cv_err	 err;
	char		*s;

	if (existing)
		json_object_set_new(o, "onlyReturnExisting", json_true());
	else
		json_object_set_new(o, "termsOfServiceAgreed", json_true());
	if (kid != NULL) {
		if (jws_b64url_decode(b64, &key, &klen, &err) == -1 ||
		    gnutls_pubkey_init(&pub) < 0 ||
		    gnutls_pubkey_import_privkey(pub, k, 0, 0) < 0 ||
		    jws_eab(pub, kid, key, klen, url, &eab, &err) == -1) {
			fprintf(stderr, "acmetool: EAB: %s\n", err.msg);
			exit(2);
		}
		json_object_set_new(o, "externalAccountBinding", eab);
		gnutls_pubkey_deinit(pub);
		free(key);
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void
must(int rc, const struct cv_err *err)
{
	if (rc == -1) {
		fprintf(stderr, "acmetool: %s\n", err->msg);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct http_req		q;
	struct http_resp	r;
	struct acme_directory	d;
	struct acme_problem	pr;
	struct cv_err		err;
	gnutls_privkey_t	k;
	char			*nonce, *pl, *jws;
	int			 existing = 0, i, a = 5, rc = 0;

	if (argc < 5 || strcmp(argv[1], "account") != 0) {
		fprintf(stderr, "usage: acmetool account DIR_URL CA_FILE KEY "
		    "[--existing] [EAB_KID EAB_KEY]\n");
		return 2;
	}
	if (argc > a && strcmp(argv[a], "--existing") == 0)
		existing = 1, a++;
	gnutls_global_init();
	must(http_init(&err), &err);
	k = load_key(argv[4]);
	memset(&q, 0, sizeof(q));
	q.ca_file = argv[3];
	q.method = "GET";
	q.url = argv[2];
	must(http_do(&q, &r, &err), &err);
	must(acme_directory_parse(r.body, r.body_len, &d, &err), &err);
	http_resp_free(&r);
	q.method = "HEAD";
	q.url = d.new_nonce;
	must(http_do(&q, &r, &err), &err);
	nonce = r.replay_nonce != NULL ? xstrdup(r.replay_nonce) : NULL;
	http_resp_free(&r);
	pl = payload(k, existing, argc > a + 1 ? argv[a] : NULL,
	    argc > a + 1 ? argv[a + 1] : NULL, d.new_account);
	for (i = 0; i < 10; i++) {
		must(jws_sign(k, NULL, nonce, d.new_account, pl, &jws, &err),
		    &err);
		q.method = "POST";
		q.url = d.new_account;
		q.content_type = "application/jose+json";
		q.body = jws;
		q.body_len = strlen(jws);
		must(http_do(&q, &r, &err), &err);
		free(jws);
		free(nonce);
		nonce = r.replay_nonce != NULL ? xstrdup(r.replay_nonce) : NULL;
		if (r.status < 400)
			break;
		must(acme_problem_parse(r.body, r.body_len, &pr, &err), &err);
		if (pr.type == NULL || strcmp(pr.type,
		    "urn:ietf:params:acme:error:badNonce") != 0 || i == 9) {
			printf("%ld %s\n", r.status, pr.line);
			acme_problem_free(&pr);
			rc = 1;
			break;
		}
		fprintf(stderr, "acmetool: retrying: %s\n", pr.line);
		acme_problem_free(&pr);
		http_resp_free(&r);
	}
	if (rc == 0)
		printf("%ld %s\n", r.status, r.location != NULL ?
		    r.location : "-");
	http_resp_free(&r);
	free(nonce);
	free(pl);
	acme_directory_free(&d);
	gnutls_privkey_deinit(k);
	gnutls_global_deinit();
	return rc;
}
