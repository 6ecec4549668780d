/*
 * Unit tests for the loader's own parsing (PEM splitting, DER framing, key
 * matching) and for the time helpers.  Certificates are made in memory with
 * GnuTLS; the integration tests check the loader against OpenSSL's files.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/pkcs12.h>

#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

static char	*pem_cert, *pem_key, *pem_key2;
static gnutls_datum_t der_cert;

static char *
make_pem(gnutls_x509_crt_t crt)
{
	gnutls_datum_t	d;
	char		*s;

	ck_assert_int_ge(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
	s = xstrndup((char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static char *
key_pem(gnutls_x509_privkey_t key)
{
	gnutls_datum_t	d;
	char		*s;

	ck_assert_int_ge(gnutls_x509_privkey_export2_pkcs8(key,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d), 0);
	s = xstrndup((char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static void
setup(void)
{
	gnutls_x509_privkey_t	key, key2;
	gnutls_x509_crt_t	crt;
	unsigned char		serial[] = { 0x00, 0x9a, 0x01 };
	time_t			now = time(NULL);

	gnutls_global_init();
	gnutls_x509_privkey_init(&key);
	gnutls_x509_privkey_init(&key2);
	ck_assert_int_ge(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	ck_assert_int_ge(gnutls_x509_privkey_generate(key2, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	gnutls_x509_crt_init(&crt);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_dn(crt, "CN=unit.example.com,O=Unit", NULL);
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, now - 60);
	gnutls_x509_crt_set_expiration_time(crt, now + 86400 * 10);
	gnutls_x509_crt_set_key(crt, key);
	gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    "unit.example.com", 16, GNUTLS_FSAN_APPEND);
	gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	gnutls_x509_crt_set_key_purpose_oid(crt, "1.2.3.4", 0);
	gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	ck_assert_int_ge(gnutls_x509_crt_sign2(crt, crt, key,
	    GNUTLS_DIG_SHA256, 0), 0);
	pem_cert = make_pem(crt);
	gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der_cert);
	pem_key = key_pem(key);
	pem_key2 = key_pem(key2);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(key2);
}

static void
teardown(void)
{
	free(pem_cert);
	free(pem_key);
	free(pem_key2);
	gnutls_free(der_cert.data);
	gnutls_global_deinit();
}

static int
load(const char *s, size_t len, struct x509_file **f, struct cv_err *err)
{
	return x509_load_mem("mem", (const unsigned char *)s, len, NULL, f,
	    err);
}

START_TEST(test_pem_fields)
{
	struct x509_file	*f;
	struct cv_err		 err;

	ck_assert_int_eq(load(pem_cert, strlen(pem_cert), &f, &err), 0);
	ck_assert_uint_eq(f->ncerts, 1);
	ck_assert_str_eq(f->certs[0].subject, "CN=unit.example.com,O=Unit");
	ck_assert_str_eq(f->certs[0].serial, "9a01");
	ck_assert_str_eq(f->certs[0].key_type, "EC");
	ck_assert_uint_eq(f->certs[0].key_bits, 256);
	ck_assert_uint_eq(f->certs[0].nsan, 1);
	ck_assert_str_eq(f->certs[0].san[0], "DNS:unit.example.com");
	ck_assert_uint_eq(f->certs[0].neku, 2);
	ck_assert_str_eq(f->certs[0].eku[0], "serverAuth");
	ck_assert_str_eq(f->certs[0].eku[1], "1.2.3.4");
	ck_assert_int_eq(f->certs[0].key_matches, -1);
	ck_assert_uint_eq(strlen(f->certs[0].sha1), 40);
	x509_file_free(f);
}
END_TEST

START_TEST(test_pem_crlf_preamble_junk)
{
	struct x509_file	*f;
	struct cv_err		 err;
	char			*s, *crlf;
	size_t			 i, n = 0;

	xasprintf(&s, "Bag Attributes\n    localKeyID: 01\nsubject=/CN=x\n"
	    "%s%strailing junk\n\x01\x02", pem_key, pem_cert);
	crlf = xmalloc(strlen(s) * 2 + 1);
	for (i = 0; s[i]; i++) {
		if (s[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = s[i];
	}
	crlf[n] = '\0';
	ck_assert_int_eq(load(crlf, n, &f, &err), 0);
	ck_assert_uint_eq(f->ncerts, 1);
	ck_assert_uint_eq(f->nkeys, 1);
	ck_assert_int_eq(f->certs[0].has_private_key, 1);
	ck_assert_int_eq(f->certs[0].key_matches, 1);
	x509_file_free(f);
	free(s);
	free(crlf);
}
END_TEST

START_TEST(test_key_mismatch)
{
	struct x509_file	*f;
	struct cv_err		 err;
	char			*s;

	xasprintf(&s, "%s%s", pem_cert, pem_key2);
	ck_assert_int_eq(load(s, strlen(s), &f, &err), 0);
	ck_assert_int_eq(f->certs[0].has_private_key, 1);
	ck_assert_int_eq(f->certs[0].key_matches, 0);
	ck_assert_int_eq(f->keys[0].matched, 0);
	x509_file_free(f);
	free(s);
}
END_TEST

START_TEST(test_key_only)
{
	struct x509_file	*f;
	struct cv_err		 err;

	ck_assert_int_eq(load(pem_key, strlen(pem_key), &f, &err), 0);
	ck_assert_uint_eq(f->ncerts, 0);
	ck_assert_uint_eq(f->nkeys, 1);
	x509_file_free(f);
}
END_TEST

START_TEST(test_truncated_pem)
{
	struct x509_file	*f;
	struct cv_err		 err;
	char			*s;

	xasprintf(&s, "junk\n%.*s", (int)(strlen(pem_cert) - 30), pem_cert);
	ck_assert_int_eq(load(s, strlen(s), &f, &err), -1);
	ck_assert_ptr_null(f);
	ck_assert_str_eq(err.msg, "truncated PEM: BEGIN CERTIFICATE at line 2 "
	    "has no END line");
	free(s);
}
END_TEST

START_TEST(test_skipped_labels)
{
	struct x509_file	*f;
	struct cv_err		 err;
	char			*s;

	xasprintf(&s, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
	    "-----END EC PARAMETERS-----\n%s", pem_cert);
	ck_assert_int_eq(load(s, strlen(s), &f, &err), 0);
	ck_assert_uint_eq(f->ncerts, 1);
	x509_file_free(f);
	free(s);
	s = xstrdup("-----BEGIN CERTIFICATE REQUEST-----\nAA==\n"
	    "-----END CERTIFICATE REQUEST-----\n");
	ck_assert_int_eq(load(s, strlen(s), &f, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no certificate found"));
	free(s);
}
END_TEST

START_TEST(test_too_many_blocks)
{
	struct x509_file	*f;
	struct cv_err		 err;
	static const char	 blk[] = "-----BEGIN X-----\n-----END X-----\n";
	size_t			 i, n = X509_MAX_BLOCKS + 1;
	char			*s = xmalloc(n * (sizeof(blk) - 1) + 1), *p = s;

	for (i = 0; i < n; i++, p += sizeof(blk) - 1)
		memcpy(p, blk, sizeof(blk) - 1);
	*p = '\0';
	ck_assert_int_eq(load(s, strlen(s), &f, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "PEM blocks"));
	free(s);
}
END_TEST

/* Length of the DER TLV at p, header included (definite lengths). */
static size_t
tlv_len(const unsigned char *p, size_t *hdr)
{
	size_t	n, i, l = 0;

	if (p[1] < 0x80) {
		*hdr = 2;
		return 2 + p[1];
	}
	n = p[1] & 0x7f;
	for (i = 0; i < n; i++)
		l = (l << 8) | p[2 + i];
	*hdr = 2 + n;
	return 2 + n + l;
}

/* Drops the PFX's MacData (GnuTLS exports no MAC-less file itself). */
static void
strip_mac(gnutls_datum_t *d)
{
	size_t		 hdr, h, v, a, len;
	unsigned char	*out;

	(void)tlv_len(d->data, &hdr);
	v = tlv_len(d->data + hdr, &h);
	a = tlv_len(d->data + hdr + v, &h);
	len = v + a;
	out = gnutls_malloc(len + 6);
	out[0] = 0x30;
	out[1] = 0x84;
	out[2] = (unsigned char)(len >> 24);
	out[3] = (unsigned char)(len >> 16);
	out[4] = (unsigned char)(len >> 8);
	out[5] = (unsigned char)len;
	memcpy(out + 6, d->data + hdr, len);
	gnutls_free(d->data);
	d->data = out;
	d->size = (unsigned)(len + 6);
}

/*
 * A PKCS#12 of one plain certificate bag, then nenc bags each holding the
 * certificate encrypted under the empty password (one encryption copied:
 * building costs one derivation), then nplain more plain bags; a MAC
 * under mac_pass, or none when it is NULL.  *iter gets the bags' count.
 */
static void
make_p12(size_t nenc, size_t nplain, const char *mac_pass,
    gnutls_datum_t *out, unsigned *iter)
{
	gnutls_pkcs12_t		p12;
	gnutls_pkcs12_bag_t	plain, enc;
	unsigned char		salt[64];
	unsigned		salt_size = sizeof(salt);
	size_t			i;

	gnutls_pkcs12_init(&p12);
	gnutls_pkcs12_bag_init(&plain);
	gnutls_pkcs12_bag_init(&enc);
	ck_assert_int_ge(gnutls_pkcs12_bag_set_data(plain,
	    GNUTLS_BAG_CERTIFICATE, &der_cert), 0);
	ck_assert_int_ge(gnutls_pkcs12_bag_set_data(enc,
	    GNUTLS_BAG_CERTIFICATE, &der_cert), 0);
	ck_assert_int_ge(gnutls_pkcs12_bag_encrypt(enc, "",
	    GNUTLS_PKCS_PBES2_AES_128), 0);
	ck_assert_int_ge(gnutls_pkcs12_bag_enc_info(enc, NULL, NULL, salt,
	    &salt_size, iter, NULL), 0);
	ck_assert_int_ge(gnutls_pkcs12_set_bag(p12, plain), 0);
	for (i = 0; i < nenc; i++)
		ck_assert_int_ge(gnutls_pkcs12_set_bag(p12, enc), 0);
	for (i = 0; i < nplain; i++)
		ck_assert_int_ge(gnutls_pkcs12_set_bag(p12, plain), 0);
	ck_assert_int_ge(gnutls_pkcs12_generate_mac(p12, mac_pass != NULL ?
	    mac_pass : ""), 0);
	ck_assert_int_ge(gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, out),
	    0);
	if (mac_pass == NULL)
		strip_mac(out);
	gnutls_pkcs12_bag_deinit(plain);
	gnutls_pkcs12_bag_deinit(enc);
	gnutls_pkcs12_deinit(p12);
}

/*
 * Issue 12 item 6: a MAC-less PKCS#12 of many bags under the empty
 * password, each under the per-derivation cap, costs at most the file's
 * budget; the certificates read before it ran out are kept.  Counted in
 * iterations (the loader's own count), not time.
 */
START_TEST(test_p12_kdf_budget)
{
	struct x509_load_opts	 o = { 0 };
	struct x509_file	*f;
	struct cv_err		 err;
	gnutls_datum_t		 d;
	unsigned		 iter;
	char			 want[160];

	make_p12(30, 0, NULL, &d, &iter);
	ck_assert_uint_gt(iter, 0);
	/* Room for two and a half bags: two are decrypted, the third is
	 * refused before its derivation, and nothing after it is read. */
	o.max_total_iter = (unsigned long long)iter * 5 / 2;
	ck_assert_int_eq(x509_load_mem("p12", d.data, d.size, &o, &f, &err),
	    -1);
	snprintf(want, sizeof(want), "PKCS#12: key derivation budget "
	    "exceeded (%llu iterations over 4 bags)",
	    (unsigned long long)iter * 3);
	ck_assert_str_eq(err.msg, want);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->format, X509_FMT_PKCS12);
	ck_assert_uint_eq(f->ncerts, 3);
	ck_assert_uint_eq(f->kdf_iter, (unsigned long long)iter * 2);
	x509_file_free(f);
	/* The default budget: 30 bags never cost more than it. */
	ck_assert_uint_gt((unsigned long long)iter * 30, X509_MAX_TOTAL_ITER);
	gnutls_free(d.data);
}
END_TEST

/* Every MAC password tried is a derivation, and counts. */
START_TEST(test_p12_mac_tries_count)
{
	struct x509_load_opts	 o = { 0 };
	struct x509_file	*f;
	struct cv_err		 err;
	gnutls_datum_t		 d;
	unsigned		 iter, mac, mac_iter = 0, salt_size;
	unsigned char		 salt[64];
	gnutls_pkcs12_t		 p12;

	make_p12(0, 0, "secret", &d, &iter);
	gnutls_pkcs12_init(&p12);
	ck_assert_int_ge(gnutls_pkcs12_import(p12, &d, GNUTLS_X509_FMT_DER,
	    0), 0);
	salt_size = sizeof(salt);
	ck_assert_int_ge(gnutls_pkcs12_mac_info(p12, &mac, salt, &salt_size,
	    &mac_iter, NULL), 0);
	gnutls_pkcs12_deinit(p12);
	/* Given, "" and NULL: the third try is over a budget of two. */
	o.password = "wrong";
	o.max_total_iter = (unsigned long long)mac_iter * 2;
	ck_assert_int_eq(x509_load_mem("p12", d.data, d.size, &o, &f, &err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "key derivation budget "
	    "exceeded"));
	ck_assert_ptr_null(f);
	/* With room for all three, the wrong password is the reason. */
	o.max_total_iter = (unsigned long long)mac_iter * 3;
	ck_assert_int_eq(x509_load_mem("p12", d.data, d.size, &o, &f, &err),
	    -1);
	ck_assert_str_eq(err.msg, "wrong PKCS#12 password");
	o.password = "secret";
	ck_assert_int_eq(x509_load_mem("p12", d.data, d.size, &o, &f, &err),
	    0);
	ck_assert_uint_eq(f->kdf_iter, mac_iter);
	x509_file_free(f);
	gnutls_free(d.data);
}
END_TEST

/* Encrypted PEM blocks (a watch with a password_file) share the budget. */
START_TEST(test_pem_kdf_budget)
{
	struct x509_load_opts	 o = { 0 };
	struct x509_file	*f;
	struct cv_err		 err;
	gnutls_x509_privkey_t	 key;
	gnutls_datum_t		 d, enc;
	unsigned		 iter = 0;
	char			*s, want[160];
	size_t			 i, len;

	ck_assert_int_ge(gnutls_x509_privkey_init(&key), 0);
	d.data = (unsigned char *)pem_key;
	d.size = (unsigned)strlen(pem_key);
	ck_assert_int_ge(gnutls_x509_privkey_import(key, &d,
	    GNUTLS_X509_FMT_PEM), 0);
	ck_assert_int_ge(gnutls_x509_privkey_export2_pkcs8(key,
	    GNUTLS_X509_FMT_PEM, "pw", GNUTLS_PKCS_PBES2_AES_128, &enc), 0);
	gnutls_x509_privkey_deinit(key);
	ck_assert_int_ge(gnutls_pkcs8_info(&enc, GNUTLS_X509_FMT_PEM, NULL,
	    NULL, NULL, NULL, &iter, NULL), 0);
	/* The certificate, then ten encrypted keys. */
	len = strlen(pem_cert) + 10 * enc.size;
	s = xmalloc(len + 1);
	memcpy(s, pem_cert, strlen(pem_cert));
	for (i = 0; i < 10; i++)
		memcpy(s + strlen(pem_cert) + i * enc.size, enc.data, enc.size);
	s[len] = '\0';
	o.password = "pw";
	o.max_total_iter = (unsigned long long)iter * 5 / 2;
	ck_assert_int_eq(x509_load_mem("pem", (unsigned char *)s, len, &o, &f,
	    &err), -1);
	snprintf(want, sizeof(want), "PEM: key derivation budget exceeded "
	    "(%llu iterations over 4 blocks)", (unsigned long long)iter * 3);
	ck_assert_ptr_nonnull(strstr(err.msg, want));
	ck_assert_uint_eq(f->ncerts, 1);
	ck_assert_uint_eq(f->nkeys, 2);
	ck_assert_uint_eq(f->kdf_iter, (unsigned long long)iter * 2);
	x509_file_free(f);
	free(s);
	gnutls_free(enc.data);
}
END_TEST

/* More than X509_MAX_BAGS bags: the rest is refused, what was read kept. */
START_TEST(test_p12_bag_cap)
{
	struct x509_file	*f;
	struct cv_err		 err;
	gnutls_datum_t		 d;
	unsigned		 iter;
	char			 want[96];

	make_p12(0, X509_MAX_BAGS + 20, NULL, &d, &iter);
	ck_assert_int_eq(x509_load_mem("p12", d.data, d.size, NULL, &f, &err),
	    -1);
	snprintf(want, sizeof(want), "PKCS#12: more than %u bags; refusing "
	    "the rest of the file", X509_MAX_BAGS);
	ck_assert_str_eq(err.msg, want);
	ck_assert_uint_eq(f->ncerts, X509_MAX_BAGS);
	x509_file_free(f);
	gnutls_free(d.data);
}
END_TEST

START_TEST(test_der)
{
	struct x509_file	*f;
	struct cv_err		 err;
	unsigned char		*junk;

	ck_assert_int_eq(x509_load_mem("d", der_cert.data, der_cert.size,
	    NULL, &f, &err), 0);
	ck_assert_int_eq(f->format, X509_FMT_DER);
	ck_assert_uint_eq(f->ncerts, 1);
	x509_file_free(f);
	/* Trailing bytes after the certificate are ignored. */
	junk = xmalloc(der_cert.size + 8);
	memcpy(junk, der_cert.data, der_cert.size);
	memset(junk + der_cert.size, 0xff, 8);
	ck_assert_int_eq(x509_load_mem("d", junk, der_cert.size + 8, NULL, &f,
	    &err), 0);
	x509_file_free(f);
	ck_assert_int_eq(x509_load_mem("d", junk, der_cert.size - 1, NULL, &f,
	    &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "truncated DER"));
	free(junk);
}
END_TEST

START_TEST(test_empty)
{
	struct x509_file	*f;
	struct cv_err		 err;

	ck_assert_int_eq(load("", 0, &f, &err), -1);
	ck_assert_str_eq(err.msg, "empty file");
}
END_TEST

START_TEST(test_helpers)
{
	char	buf[256], up[41];

	ck_assert_str_eq(x509_key_usage_str(GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_CERT_SIGN, buf, sizeof(buf)),
	    "digitalSignature, keyCertSign");
	ck_assert_str_eq(x509_sha1_upper("18e1628ac1cd7cae3495e718f87e5b61"
	    "88193c81", up), "18E1628AC1CD7CAE3495E718F87E5B6188193C81");
	ck_assert_str_eq(x509_format_name(X509_FMT_PKCS12), "pkcs12");
}
END_TEST

START_TEST(test_durations)
{
	int64_t	s;
	char	buf[64];

	ck_assert_int_eq(timeutil_parse_duration("30d", &s), 0);
	ck_assert_int_eq(s, 30 * 86400);
	ck_assert_int_eq(timeutil_parse_duration("1d12h", &s), 0);
	ck_assert_int_eq(s, 36 * 3600);
	ck_assert_int_eq(timeutil_parse_duration("2w", &s), 0);
	ck_assert_int_eq(s, 14 * 86400);
	ck_assert_int_eq(timeutil_parse_duration("45", &s), 0);
	ck_assert_int_eq(s, 45);
	ck_assert_int_eq(timeutil_parse_duration("", &s), -1);
	ck_assert_int_eq(timeutil_parse_duration("3x", &s), -1);
	ck_assert_int_eq(timeutil_parse_duration("-3d", &s), -1);
	ck_assert_int_eq(timeutil_parse_duration("99999999999999999999d", &s),
	    -1);
	/* What users type: every number needs its unit (issue 13 item 15). */
	ck_assert_int_eq(timeutil_parse_duration_unit("30d", &s), 0);
	ck_assert_int_eq(s, 30 * 86400);
	ck_assert_int_eq(timeutil_parse_duration_unit("1d12h", &s), 0);
	ck_assert_int_eq(s, 36 * 3600);
	ck_assert_int_eq(timeutil_parse_duration_unit("30", &s), -2);
	ck_assert_int_eq(timeutil_parse_duration_unit("1d12", &s), -2);
	ck_assert_int_eq(timeutil_parse_duration_unit("3x", &s), -1);
	ck_assert_int_eq(timeutil_parse_duration_unit("", &s), -1);
	ck_assert_int_eq(timeutil_parse_duration_unit("99999999999999999999",
	    &s), -1);
	ck_assert_str_eq(timeutil_fmt_duration(90061, buf, sizeof(buf)),
	    "1d 1h");
	ck_assert_str_eq(timeutil_fmt_duration(-120, buf, sizeof(buf)), "-2m");
}
END_TEST

START_TEST(test_rfc3339)
{
	time_t	t;
	char	buf[TIMEUTIL_RFC3339_LEN];

	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22T07:30:00Z", &t), 0);
	ck_assert_int_eq(t, 1795332600);
	ck_assert_str_eq(timeutil_rfc3339(t, buf, sizeof(buf)),
	    "2026-11-22T07:30:00Z");
	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22T08:30:00+01:00",
	    &t), 0);
	ck_assert_int_eq(t, 1795332600);
	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22", &t), 0);
	ck_assert_int_eq(timeutil_parse_rfc3339("2026-11-22T07:30", &t), -1);
	ck_assert_int_eq(timeutil_parse_rfc3339("yesterday", &t), -1);
	ck_assert_int_eq(timeutil_days_left(1000 + 86400 * 3 - 1, 1000), 2);
	ck_assert_int_eq(timeutil_days_left(1000 - 1, 1000), -1);
}
END_TEST

static Suite *
x509_suite(void)
{
	Suite	*s = suite_create("x509");
	TCase	*tc = tcase_create("loader");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pem_fields);
	tcase_add_test(tc, test_pem_crlf_preamble_junk);
	tcase_add_test(tc, test_key_mismatch);
	tcase_add_test(tc, test_key_only);
	tcase_add_test(tc, test_truncated_pem);
	tcase_add_test(tc, test_skipped_labels);
	tcase_add_test(tc, test_too_many_blocks);
	tcase_add_test(tc, test_der);
	tcase_add_test(tc, test_p12_kdf_budget);
	tcase_add_test(tc, test_p12_mac_tries_count);
	tcase_add_test(tc, test_p12_bag_cap);
	tcase_add_test(tc, test_pem_kdf_budget);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(s, tc);
	tc = tcase_create("time");
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_rfc3339);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(x509_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
