/*
 * src/jws.c (issue 17): base64url, the RFC 7638 thumbprint example, JWS
 * signed with EC P-256 and RSA keys then verified by GnuTLS and by the
 * openssl command, and the EAB inner JWS checked against openssl's HMAC.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "fsutil.h"
#include "jws.h"
#include "xmalloc.h"

static char	dir[] = "/tmp/check_jws.XXXXXX";

static const char *
at(const char *name)
{
	static char	path[4][512];
	static int	i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static void
put(const char *name, const void *p, size_t len)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(at(name), "w"));
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char	cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
dec(const char *b64)
{
	unsigned char	*p;
	size_t		 n;
	struct cv_err	 err;
	char		*s;

	ck_assert_int_eq(jws_b64url_decode(b64, &p, &n, &err), 0);
	s = xstrndup((char *)p, n);
	free(p);
	return s;
}

START_TEST(test_b64url)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "\xfb\xff", "-_8" },
	};
	unsigned char	*p;
	size_t		 i, n;
	char		*s;
	struct cv_err	 err;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = jws_b64url(v[i].in, strlen(v[i].in));
		ck_assert_str_eq(s, v[i].out);
		free(s);
		ck_assert_int_eq(jws_b64url_decode(v[i].out, &p, &n, &err), 0);
		ck_assert_uint_eq(n, strlen(v[i].in));
		ck_assert(memcmp(p, v[i].in, n) == 0);
		free(p);
	}
	ck_assert_int_eq(jws_b64url_decode("Zm8=", &p, &n, &err), -1);
	ck_assert_int_eq(jws_b64url_decode("Zm+v", &p, &n, &err), -1);
	ck_assert_int_eq(jws_b64url_decode("Z", &p, &n, &err), -1);
}
END_TEST

/* RFC 7638 section 3.1: the example RSA key and its thumbprint. */
START_TEST(test_thumbprint_rfc7638)
{
	static const char	n64[] =
	    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86z"
	    "wu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsG"
	    "Y4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAt"
	    "aSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFT"
	    "WhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
	    "kEgU8awapJzKnqDKgw";
	gnutls_pubkey_t	 pub;
	gnutls_datum_t	 n, e;
	unsigned char	*np, ep[3] = { 1, 0, 1 };
	size_t		 nlen;
	char		*tp;
	struct cv_err	 err;

	ck_assert_int_eq(jws_b64url_decode(n64, &np, &nlen, &err), 0);
	n.data = np;
	n.size = (unsigned)nlen;
	e.data = ep;
	e.size = 3;
	ck_assert_int_eq(gnutls_pubkey_init(&pub), 0);
	ck_assert_int_eq(gnutls_pubkey_import_rsa_raw(pub, &n, &e), 0);
	ck_assert_int_eq(jws_thumbprint(pub, &tp, &err), 0);
	ck_assert_str_eq(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	free(tp);
	free(np);
	gnutls_pubkey_deinit(pub);
}
END_TEST

static gnutls_privkey_t
genkey(int ec)
{
	gnutls_privkey_t	k;

	ck_assert_int_eq(gnutls_privkey_init(&k), 0);
	ck_assert_int_eq(gnutls_privkey_generate(k, ec ? GNUTLS_PK_ECDSA :
	    GNUTLS_PK_RSA, ec ? GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)
	    : 2048, 0), 0);
	return k;
}

static gnutls_pubkey_t
pubof(gnutls_privkey_t k)
{
	gnutls_pubkey_t	p;

	ck_assert_int_eq(gnutls_pubkey_init(&p), 0);
	ck_assert_int_eq(gnutls_pubkey_import_privkey(p, k, 0, 0), 0);
	return p;
}

/* Verifies a flattened JWS with GnuTLS; returns the decoded header. */
static json_t *
verify(gnutls_pubkey_t pub, int ec, const char *jws, int openssl)
{
	json_t		*o, *hdr;
	json_error_t	 je;
	const char	*ph, *pp, *ps;
	char		*input, *hs, cmd[2048];
	unsigned char	*sig;
	size_t		 slen;
	gnutls_datum_t	 data, der, r, s;
	struct cv_err	 err;

	ck_assert_ptr_nonnull(o = json_loads(jws, 0, &je));
	ck_assert_int_eq(json_object_size(o), 3);
	ck_assert_ptr_nonnull(ph = json_string_value(json_object_get(o,
	    "protected")));
	ck_assert_ptr_nonnull(pp = json_string_value(json_object_get(o,
	    "payload")));
	ck_assert_ptr_nonnull(ps = json_string_value(json_object_get(o,
	    "signature")));
	xasprintf(&input, "%s.%s", ph, pp);
	ck_assert_int_eq(jws_b64url_decode(ps, &sig, &slen, &err), 0);
	der.data = sig;
	der.size = (unsigned)slen;
	if (ec) {
		/* JWS carries raw r||s; GnuTLS and openssl verify DER. */
		ck_assert_uint_eq(slen, 64);
		r.data = sig;
		r.size = 32;
		s.data = sig + 32;
		s.size = 32;
		ck_assert_int_eq(gnutls_encode_rs_value(&der, &r, &s), 0);
	}
	data.data = (unsigned char *)input;
	data.size = (unsigned)strlen(input);
	ck_assert_int_ge(gnutls_pubkey_verify_data2(pub, ec ?
	    GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_RSA_SHA256, 0, &data,
	    &der), 0);
	if (openssl) {
		gnutls_datum_t	pem;

		ck_assert_int_eq(gnutls_pubkey_export2(pub,
		    GNUTLS_X509_FMT_PEM, &pem), 0);
		put("pub.pem", pem.data, pem.size);
		gnutls_free(pem.data);
		put("input", input, strlen(input));
		put("sig.der", der.data, der.size);
		snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -verify %s "
		    "-signature %s %s >/dev/null", at("pub.pem"),
		    at("sig.der"), at("input"));
		ck_assert_int_eq(system(cmd), 0);
	}
	if (ec)
		gnutls_free(der.data);
	free(sig);
	free(input);
	hs = dec(ph);
	ck_assert_ptr_nonnull(hdr = json_loads(hs, 0, &je));
	free(hs);
	json_decref(o);
	return hdr;
}

static void
sign_and_verify(int ec)
{
	gnutls_privkey_t	 k = genkey(ec);
	gnutls_pubkey_t		 pub = pubof(k);
	json_t			*hdr, *jwk;
	char			*jws, *want;
	struct cv_err		 err;
	int			 i;

	ck_assert_int_eq(jws_sign(k, NULL, "n0nce", "https://ca/new-acct",
	    "{\"termsOfServiceAgreed\":true}", &jws, &err), 0);
	hdr = verify(pub, ec, jws, 1);
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "alg")),
	    ec ? "ES256" : "RS256");
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "nonce")),
	    "n0nce");
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "url")),
	    "https://ca/new-acct");
	ck_assert_ptr_null(json_object_get(hdr, "kid"));
	ck_assert_int_eq(jws_jwk(pub, &jwk, &err), 0);
	ck_assert(json_equal(jwk, json_object_get(hdr, "jwk")));
	json_decref(jwk);
	json_decref(hdr);
	ck_assert_ptr_nonnull(strstr(jws, "\"payload\":\"eyJ0ZXJtc09mU2Vy"));
	free(jws);
	/* kid form, empty payload (POST-as-GET); many signatures, so r or
	 * s with leading zero bytes come up and must still verify. */
	for (i = 0; i < (ec ? 300 : 3); i++) {
		ck_assert_int_eq(jws_sign(k, "https://ca/acct/7", "n1",
		    "https://ca/order/1", NULL, &jws, &err), 0);
		hdr = verify(pub, ec, jws, i == 0);
		ck_assert_str_eq(json_string_value(json_object_get(hdr,
		    "kid")), "https://ca/acct/7");
		ck_assert_ptr_null(json_object_get(hdr, "jwk"));
		json_decref(hdr);
		xasprintf(&want, "\"payload\":\"\"");
		ck_assert_ptr_nonnull(strstr(jws, want));
		free(want);
		free(jws);
	}
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(k);
}

START_TEST(test_sign_es256)
{
	sign_and_verify(1);
}
END_TEST

START_TEST(test_sign_rs256)
{
	sign_and_verify(0);
}
END_TEST

START_TEST(test_jwk_order)
{
	gnutls_privkey_t	 k = genkey(1);
	gnutls_pubkey_t		 pub = pubof(k);
	json_t			*jwk;
	char			*s, *jws, *h;
	struct cv_err		 err;

	/* Members in RFC 7638 order, in the header as in the thumbprint. */
	ck_assert_int_eq(jws_jwk(pub, &jwk, &err), 0);
	s = json_dumps(jwk, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(s, "{\"crv\":\"P-256\",\"kty\":\"EC\","
	    "\"x\":\""));
	ck_assert_ptr_nonnull(strstr(s, "\",\"y\":\""));
	free(s);
	json_decref(jwk);
	ck_assert_int_eq(jws_sign(k, NULL, "n", "u", "{}", &jws, &err), 0);
	s = strstr(jws, "\"protected\":\"") + 13;
	*strchr(s, '"') = '\0';
	h = dec(s);
	ck_assert_ptr_nonnull(strstr(h, "\"jwk\":{\"crv\":\"P-256\","
	    "\"kty\":\"EC\",\"x\":\""));
	free(h);
	free(jws);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(k);
}
END_TEST

START_TEST(test_eab)
{
	/* pebble's example EAB key kid-1 (base64url, as CAs hand them out). */
	static const char	hmac64[] = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIog"
	    "uysqZ9wG44nMEtx3MUAsUDkMTQ12W";
	gnutls_privkey_t	 k = genkey(1);
	gnutls_pubkey_t		 pub = pubof(k);
	json_t			*eab, *hdr, *jwk, *pl;
	unsigned char		*key, *mac;
	size_t			 klen, mlen, i;
	char			*s, *input, cmd[1024], hex[200], got[200];
	FILE			*f;
	struct cv_err		 err;

	ck_assert_int_eq(jws_b64url_decode(hmac64, &key, &klen, &err), 0);
	ck_assert_int_eq(jws_eab(pub, "kid-1", key, klen,
	    "https://ca/new-acct", &eab, &err), 0);
	ck_assert_int_eq(json_object_size(eab), 3);
	s = dec(json_string_value(json_object_get(eab, "protected")));
	hdr = json_loads(s, 0, NULL);
	free(s);
	ck_assert_int_eq(json_object_size(hdr), 3);
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "alg")),
	    "HS256");
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "kid")),
	    "kid-1");
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "url")),
	    "https://ca/new-acct");
	s = dec(json_string_value(json_object_get(eab, "payload")));
	pl = json_loads(s, 0, NULL);
	free(s);
	ck_assert_int_eq(jws_jwk(pub, &jwk, &err), 0);
	ck_assert(json_equal(pl, jwk));
	/* The MAC, recomputed by openssl over protected.payload. */
	xasprintf(&input, "%s.%s",
	    json_string_value(json_object_get(eab, "protected")),
	    json_string_value(json_object_get(eab, "payload")));
	put("eab-input", input, strlen(input));
	for (i = 0; i < klen; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -mac HMAC -macopt "
	    "hexkey:%s -r %s", hex, at("eab-input"));
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	ck_assert_ptr_nonnull(fgets(got, sizeof(got), f));
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_int_eq(jws_b64url_decode(json_string_value(
	    json_object_get(eab, "signature")), &mac, &mlen, &err), 0);
	ck_assert_uint_eq(mlen, 32);
	for (i = 0; i < mlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	ck_assert(strncmp(got, hex, 64) == 0);
	ck_assert_int_eq(jws_eab(pub, "kid-1", key, 0, "u", &eab, &err), -1);
	free(mac);
	free(input);
	free(key);
	json_decref(jwk);
	json_decref(pl);
	json_decref(hdr);
	json_decref(eab);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(k);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("jws");
	TCase	*tc = tcase_create("jws");
	SRunner	*sr;
	int	 nf;

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_b64url);
	tcase_add_test(tc, test_thumbprint_rfc7638);
	tcase_add_test(tc, test_sign_es256);
	tcase_add_test(tc, test_sign_rs256);
	tcase_add_test(tc, test_jwk_order);
	tcase_add_test(tc, test_eab);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
