/*
 * fixtool: makes test inputs that no stock tool makes.
 *
 *   fixtool patch-mac-iter IN.pfx OUT.pfx N
 *	Rewrites the MacData iteration count of a PKCS#12 file to N (e.g.
 *	2^31-1), re-encoding the enclosing DER lengths.  OpenSSL would take
 *	hours to produce such a file honestly.
 *
 *   fixtool issue-many CA.pem CA.key DIR N NOT_AFTER
 *	Writes N certificates (DIR/bulk-NNNN.pem) signed by the CA, all
 *	expiring at exactly NOT_AFTER (epoch seconds), sharing one key:
 *	a fleet that crosses an alert threshold at the same moment.
 *
 *   fixtool p12-null CERT.pem KEY.pem OUT.pfx
 *	Writes a PFX whose MAC, certificate bag and shrouded key all use
 *	the absent (NULL) password, as Windows writes them; OpenSSL's
 *	pkcs12 command only makes empty ("") ones.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/pkcs12.h>
#include <gnutls/x509.h>

#include "cverr.h"
#include "fsutil.h"
#include "xmalloc.h"

struct buf {
	unsigned char	*p;
	size_t		 len;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	b->p = xrealloc(b->p, b->len + n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
der_header(struct buf *b, unsigned char tag, size_t len)
{
	unsigned char	h[6];
	size_t		n = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (unsigned char)len;
	} else if (len < 0x100) {
		h[n++] = 0x81;
		h[n++] = (unsigned char)len;
	} else if (len < 0x10000) {
		h[n++] = 0x82;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 0x83;
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	}
	buf_add(b, h, n);
}

/* Parses the TLV at p; returns header length, sets content length. */
static size_t
der_parse(const unsigned char *p, size_t avail, size_t *clen)
{
	size_t	i, n;

	if (avail < 2) {
		fprintf(stderr, "fixtool: truncated DER\n");
		exit(1);
	}
	if (p[1] < 0x80) {
		*clen = p[1];
		return 2;
	}
	n = p[1] & 0x7f;
	*clen = 0;
	for (i = 0; i < n; i++)
		*clen = (*clen << 8) | p[2 + i];
	return 2 + n;
}

static int
patch_mac_iter(const char *in, const char *out, unsigned long iter)
{
	unsigned char	*d, *p, *mac, ib[5];
	size_t		 len, hl, cl, off, vlen, alen, mhl, mcl, e1, e2, n;
	struct buf	 macdata = { NULL, 0 }, pfx = { NULL, 0 }, inner = {
	    NULL, 0 };
	struct cv_err	 err;

	if (fsutil_read_file(in, FSUTIL_MAX_FILE, &d, &len, &err) == -1) {
		fprintf(stderr, "fixtool: %s: %s\n", in, err.msg);
		return 1;
	}
	hl = der_parse(d, len, &cl);
	p = d + hl;
	off = 0;
	/* version */
	vlen = der_parse(p, cl, &n) + n;
	/* authSafe */
	alen = der_parse(p + vlen, cl - vlen, &n) + n;
	mac = p + vlen + alen;
	mhl = der_parse(mac, cl - vlen - alen, &mcl);
	/* DigestInfo, salt, then the iterations INTEGER */
	e1 = der_parse(mac + mhl, mcl, &n) + n;
	e2 = der_parse(mac + mhl + e1, mcl - e1, &n) + n;
	ib[0] = (unsigned char)(iter >> 24);
	ib[1] = (unsigned char)(iter >> 16);
	ib[2] = (unsigned char)(iter >> 8);
	ib[3] = (unsigned char)iter;
	buf_add(&inner, mac + mhl, e1 + e2);
	der_header(&inner, 0x02, 4);
	buf_add(&inner, ib, 4);
	der_header(&macdata, 0x30, inner.len);
	buf_add(&macdata, inner.p, inner.len);
	der_header(&pfx, 0x30, vlen + alen + macdata.len);
	buf_add(&pfx, p, vlen + alen);
	buf_add(&pfx, macdata.p, macdata.len);
	(void)off;
	if (fsutil_write_atomic(out, pfx.p, pfx.len, 0644, (uid_t)-1,
	    (gid_t)-1, &err) == -1) {
		fprintf(stderr, "fixtool: %s\n", err.msg);
		return 1;
	}
	free(d);
	free(inner.p);
	free(macdata.p);
	free(pfx.p);
	return 0;
}

static int
load_datum(const char *path, gnutls_datum_t *d)
{
	unsigned char	*p;
	size_t		 len;
	struct cv_err	 err;

	if (fsutil_read_file(path, FSUTIL_MAX_FILE, &p, &len, &err) == -1) {
		fprintf(stderr, "fixtool: %s: %s\n", path, err.msg);
		return -1;
	}
	d->data = p;
	d->size = (unsigned)len;
	return 0;
}

static int
issue_many(const char *cacert, const char *cakey, const char *dir, int n,
    long long not_after)
{
	gnutls_x509_crt_t	 ca, crt;
	gnutls_x509_privkey_t	 cak, key;
	gnutls_datum_t		 d, out;
	struct cv_err		 err;
	unsigned char		 serial[8];
	char			 dn[64], path[4096];
	int			 i;

	gnutls_global_init();
	if (load_datum(cacert, &d) == -1)
		return 1;
	gnutls_x509_crt_init(&ca);
	if (gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM) < 0)
		return 1;
	free(d.data);
	if (load_datum(cakey, &d) == -1)
		return 1;
	gnutls_x509_privkey_init(&cak);
	if (gnutls_x509_privkey_import2(cak, &d, GNUTLS_X509_FMT_PEM, NULL,
	    0) < 0)
		return 1;
	free(d.data);
	gnutls_x509_privkey_init(&key);
	gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	for (i = 0; i < n; i++) {
		gnutls_x509_crt_init(&crt);
		gnutls_x509_crt_set_version(crt, 3);
		snprintf(dn, sizeof(dn), "CN=bulk-%04d.example.com", i);
		gnutls_x509_crt_set_dn(crt, dn, NULL);
		memset(serial, 0, sizeof(serial));
		serial[0] = 0x10;
		serial[6] = (unsigned char)(i >> 8);
		serial[7] = (unsigned char)i;
		gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
		gnutls_x509_crt_set_activation_time(crt, time(NULL) - 3600);
		gnutls_x509_crt_set_expiration_time(crt, (time_t)not_after);
		gnutls_x509_crt_set_key(crt, key);
		gnutls_x509_crt_set_key_purpose_oid(crt,
		    GNUTLS_KP_TLS_WWW_SERVER, 0);
		if (gnutls_x509_crt_sign2(crt, ca, cak, GNUTLS_DIG_SHA256,
		    0) < 0 || gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
		    &out) < 0) {
			fprintf(stderr, "fixtool: signing failed\n");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/bulk-%04d.pem", dir, i);
		if (fsutil_write_atomic(path, out.data, out.size, 0644,
		    (uid_t)-1, (gid_t)-1, &err) == -1) {
			fprintf(stderr, "fixtool: %s\n", err.msg);
			return 1;
		}
		gnutls_free(out.data);
		gnutls_x509_crt_deinit(crt);
	}
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(cak);
	gnutls_x509_crt_deinit(ca);
	gnutls_global_deinit();
	return 0;
}

static int
p12_null(const char *certf, const char *keyf, const char *outf)
{
	gnutls_x509_crt_t	 crt;
	gnutls_x509_privkey_t	 key;
	gnutls_pkcs12_t		 p12;
	gnutls_pkcs12_bag_t	 cb, kb;
	gnutls_datum_t		 d, k, out;
	struct cv_err		 err;
	unsigned		 fl = GNUTLS_PKCS_PKCS12_3DES |
	    GNUTLS_PKCS_NULL_PASSWORD;
	int			 rc;

	gnutls_global_init();
	if (load_datum(certf, &d) == -1 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
		return 1;
	free(d.data);
	if (load_datum(keyf, &d) == -1 || gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL,
	    0) < 0)
		return 1;
	free(d.data);
	if (gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER, NULL,
	    fl, &k) < 0 || gnutls_pkcs12_bag_init(&cb) < 0 ||
	    gnutls_pkcs12_bag_init(&kb) < 0 ||
	    gnutls_pkcs12_bag_set_crt(cb, crt) < 0 ||
	    gnutls_pkcs12_bag_encrypt(cb, NULL, fl) < 0 ||
	    gnutls_pkcs12_bag_set_data(kb, GNUTLS_BAG_PKCS8_ENCRYPTED_KEY,
	    &k) < 0 || gnutls_pkcs12_init(&p12) < 0 ||
	    gnutls_pkcs12_set_bag(p12, cb) < 0 ||
	    gnutls_pkcs12_set_bag(p12, kb) < 0 ||
	    gnutls_pkcs12_generate_mac2(p12, GNUTLS_MAC_SHA1, NULL) < 0 ||
	    gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, &out) < 0) {
		fprintf(stderr, "fixtool: p12-null failed\n");
		return 1;
	}
	rc = fsutil_write_atomic(outf, out.data, out.size, 0644, (uid_t)-1,
	    (gid_t)-1, &err);
	if (rc == -1)
		fprintf(stderr, "fixtool: %s\n", err.msg);
	gnutls_free(out.data);
	gnutls_free(k.data);
	gnutls_pkcs12_deinit(p12);
	gnutls_pkcs12_bag_deinit(kb);
	gnutls_pkcs12_bag_deinit(cb);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	gnutls_global_deinit();
	return rc == -1 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "p12-null") == 0)
		return p12_null(argv[2], argv[3], argv[4]);
	if (argc == 7 && strcmp(argv[1], "issue-many") == 0)
		return issue_many(argv[2], argv[3], argv[4], atoi(argv[5]),
		    strtoll(argv[6], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "patch-mac-iter") == 0)
		return patch_mac_iter(argv[2], argv[3],
		    strtoul(argv[4], NULL, 10));
	fprintf(stderr, "usage: fixtool patch-mac-iter IN OUT N\n"
	    "       fixtool issue-many CA.pem CA.key DIR N NOT_AFTER\n"
	    "       fixtool p12-null CERT.pem KEY.pem OUT.pfx\n");
	return 2;
}
