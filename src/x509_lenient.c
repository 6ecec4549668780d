/*
 * What GnuTLS refuses but OpenSSL reads (issue 13 item 5).  A certificate
 * whose strict import fails (a duplicated extension, an empty dNSName,
 * an x400Address or ediPartyName in the SAN) is still listed: the import
 * is retried without GnuTLS's sanity checks and, if the SAN is what GnuTLS
 * cannot parse, with the SAN extension cut out of a copy of the DER; the
 * SAN is then decoded here.  Thumbprints are always hashes of the DER as
 * read, and the validity times are always read from the DER here (GnuTLS
 * reports a year-0001 notAfter as 1970).  Each oddity becomes a warning.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "x509.h"
#include "xmalloc.h"

/* One DER element: its tag, where its contents start, and their length. */
struct der {
	unsigned		 tag;
	const unsigned char	*p;	/* contents */
	size_t			 len;
	size_t			 total;	/* header + contents */
};

/* Reads the element at p[0..n); -1 if it is not there whole. */
static int
der_get(const unsigned char *p, size_t n, struct der *e)
{
	size_t	hl = 2, len, i, k;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	e->tag = p[0];
	len = p[1];
	if (len & 0x80) {
		k = len & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k)
			return -1;
		for (len = 0, i = 0; i < k; i++)
			len = (len << 8) | p[2 + i];
		hl += k;
	}
	if (len > n - hl)
		return -1;
	e->p = p + hl;
	e->len = len;
	e->total = hl + len;
	return 0;
}

/* The i-th element inside constructed e (0: the first). */
static int
der_child(const struct der *e, unsigned i, struct der *c)
{
	const unsigned char	*p = e->p;
	size_t			 n = e->len;

	for (;;) {
		if (der_get(p, n, c) == -1)
			return -1;
		if (i-- == 0)
			return 0;
		p += c->total;
		n -= c->total;
	}
}

/* The TBSCertificate's fields: the first one after the optional [0]. */
static int
der_tbs_field(const gnutls_datum_t *d, unsigned i, struct der *out)
{
	struct der	cert, tbs, first;

	if (der_get(d->data, d->size, &cert) == -1 ||
	    der_child(&cert, 0, &tbs) == -1 ||
	    der_child(&tbs, 0, &first) == -1)
		return -1;
	return der_child(&tbs, first.tag == 0xa0 ? i + 1 : i, out);
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (any year). */
static int64_t
der_days(int64_t y, unsigned m, unsigned d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
der_digits(const unsigned char *p, size_t n, unsigned *v)
{
	size_t	i;

	for (*v = 0, i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
static int
der_time(const struct der *e, time_t *t)
{
	unsigned	y, mo, d, h, mi, s;
	size_t		yl = e->tag == 0x17 ? 2 : 4;

	if ((e->tag != 0x17 && e->tag != 0x18) || e->len < yl + 11 ||
	    e->p[e->len - 1] != 'Z' || der_digits(e->p, yl, &y) == -1 ||
	    der_digits(e->p + yl, 2, &mo) == -1 ||
	    der_digits(e->p + yl + 2, 2, &d) == -1 ||
	    der_digits(e->p + yl + 4, 2, &h) == -1 ||
	    der_digits(e->p + yl + 6, 2, &mi) == -1 ||
	    der_digits(e->p + yl + 8, 2, &s) == -1 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60)
		return -1;
	if (yl == 2)
		y += y < 50 ? 2000 : 1900;	/* RFC 5280 4.1.2.5.1 */
	*t = (time_t)(der_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
	return 0;
}

int
x509_der_validity(const gnutls_datum_t *d, time_t *nb, time_t *na)
{
	struct der	v, b, a;

	if (der_tbs_field(d, 3, &v) == -1 || der_child(&v, 0, &b) == -1 ||
	    der_child(&v, 1, &a) == -1 || der_time(&b, nb) == -1 ||
	    der_time(&a, na) == -1)
		return -1;
	return 0;
}

/* The extension whose OID is the DER bytes oid, or -1. */
static int
der_find_ext(const gnutls_datum_t *d, const unsigned char *oid,
    size_t oidlen, struct der *ext)
{
	struct der	tbs_last, exts, o;
	unsigned	i;

	/* Extensions are [3], after the SPKI (and the unique IDs). */
	for (i = 6; ; i++) {
		if (der_tbs_field(d, i, &tbs_last) == -1)
			return -1;
		if (tbs_last.tag == 0xa3)
			break;
	}
	if (der_child(&tbs_last, 0, &exts) == -1)
		return -1;
	for (i = 0; der_child(&exts, i, ext) == 0; i++)
		if (der_child(ext, 0, &o) == 0 && o.tag == 0x06 &&
		    o.len == oidlen && memcmp(o.p, oid, oidlen) == 0)
			return 0;
	return -1;
}

static const unsigned char der_oid_san[] = { 0x55, 0x1d, 0x11 };

/* One GeneralName as OpenSSL's -text names it. */
static char *
der_general_name(const struct der *g, struct x509_cert *c)
{
	char		 ip[INET6_ADDRSTRLEN], *s, *dn;
	gnutls_datum_t	 dd;

	switch (g->tag) {
	case 0x82:
		if (g->len == 0)
			x509_cert_warn(c, "empty dNSName in subjectAltName");
		xasprintf(&s, "DNS:%.*s", (int)g->len, (const char *)g->p);
		return s;
	case 0x81:
		xasprintf(&s, "email:%.*s", (int)g->len, (const char *)g->p);
		return s;
	case 0x86:
		xasprintf(&s, "URI:%.*s", (int)g->len, (const char *)g->p);
		return s;
	case 0x87:
		if ((g->len != 4 && g->len != 16) || inet_ntop(g->len == 16 ?
		    AF_INET6 : AF_INET, g->p, ip, sizeof(ip)) == NULL)
			snprintf(ip, sizeof(ip), "invalid");
		xasprintf(&s, "IP:%s", ip);
		return s;
	case 0xa4:
		dd.data = (unsigned char *)g->p;
		dd.size = (unsigned)g->len;
		dn = x509_name_str(&dd);
		xasprintf(&s, "DirName:%s", dn != NULL ? dn : "");
		free(dn);
		return s;
	case 0xa3:
		x509_cert_warn(c, "x400Address in subjectAltName");
		return xstrdup("X400Name:<unsupported>");
	case 0xa5:
		x509_cert_warn(c, "ediPartyName in subjectAltName");
		return xstrdup("EdiPartyName:<unsupported>");
	case 0xa0:
		return xstrdup("othername:<unsupported>");
	default:
		xasprintf(&s, "unknown:%02x", g->tag);
		return s;
	}
}

/* The SAN of d, decoded here, into c (which has none yet). */
static void
x509_lenient_san(const gnutls_datum_t *d, struct x509_cert *c)
{
	struct der	ext, val, names, g;
	unsigned	i;

	if (der_find_ext(d, der_oid_san, sizeof(der_oid_san), &ext) == -1)
		return;
	/* extnID, critical?, extnValue */
	if (der_child(&ext, 1, &val) == -1 ||
	    (val.tag == 0x01 && der_child(&ext, 2, &val) == -1) ||
	    val.tag != 0x04 || der_get(val.p, val.len, &names) == -1)
		return;
	for (i = 0; der_child(&names, i, &g) == 0; i++) {
		if (c->nsan >= X509_MAX_SANS) {
			c->nsan_dropped++;
			continue;
		}
		c->san = xreallocarray(c->san, c->nsan + 1, sizeof(*c->san));
		c->san[c->nsan++] = der_general_name(&g, c);
	}
}

/* Size of a minimal DER header for len bytes of contents. */
static size_t
der_hdr_len(size_t len)
{
	size_t	k = 0;

	if (len < 0x80)
		return 2;
	for (; len > 0; len >>= 8)
		k++;
	return 2 + k;
}

/* Writes a minimal DER header; returns its size. */
static size_t
der_put_hdr(unsigned char *out, unsigned tag, size_t len)
{
	size_t	hl = der_hdr_len(len), i;

	out[0] = (unsigned char)tag;
	if (hl == 2) {
		out[1] = (unsigned char)len;
		return 2;
	}
	out[1] = (unsigned char)(0x80 | (hl - 2));
	for (i = hl - 1; i >= 2; i--, len >>= 8)
		out[i] = (unsigned char)(len & 0xff);
	return hl;
}

static void
der_put(unsigned char *out, size_t *n, const unsigned char *from,
    const unsigned char *to)
{
	memcpy(out + *n, from, (size_t)(to - from));
	*n += (size_t)(to - from);
}

/*
 * A copy of d with the SAN extension cut out (the lengths of the
 * extensions, [3], TBS and certificate rewritten; [3] dropped if it
 * held the SAN alone), for GnuTLS to read the rest.  -1: nothing to cut.
 */
static int
x509_lenient_cut_san(const gnutls_datum_t *d, gnutls_datum_t *out)
{
	struct der	 cert, tbs, f, exts, ext;
	const unsigned char *a3, *cut, *cut_end, *end;
	unsigned char	*p;
	size_t		 exts_len, a3_len = 0, tbs_len, cert_len, n = 0;

	if (der_find_ext(d, der_oid_san, sizeof(der_oid_san), &ext) == -1 ||
	    der_get(d->data, d->size, &cert) == -1 ||
	    der_child(&cert, 0, &tbs) == -1)
		return -1;
	end = tbs.p + tbs.len;
	f.tag = 0;
	for (a3 = tbs.p; der_get(a3, (size_t)(end - a3), &f) == 0 &&
	    f.tag != 0xa3; a3 += f.total)
		;
	if (a3 >= end || f.tag != 0xa3 || der_child(&f, 0, &exts) == -1)
		return -1;
	cut = ext.p - (ext.total - ext.len);
	cut_end = cut + ext.total;
	exts_len = exts.len - ext.total;
	if (exts_len > 0)
		a3_len = der_hdr_len(exts_len) + exts_len;
	tbs_len = (size_t)(a3 - tbs.p) + (exts_len > 0 ?
	    der_hdr_len(a3_len) + a3_len : 0) + (size_t)(end - (f.p + f.len));
	cert_len = der_hdr_len(tbs_len) + tbs_len +
	    (size_t)(cert.p + cert.len - end);
	p = xmalloc(der_hdr_len(cert_len) + cert_len);
	n += der_put_hdr(p, 0x30, cert_len);
	n += der_put_hdr(p + n, tbs.tag, tbs_len);
	der_put(p, &n, tbs.p, a3);
	if (exts_len > 0) {
		n += der_put_hdr(p + n, 0xa3, a3_len);
		n += der_put_hdr(p + n, 0x30, exts_len);
		der_put(p, &n, exts.p, cut);
		der_put(p, &n, cut_end, exts.p + exts.len);
	}
	der_put(p, &n, f.p + f.len, cert.p + cert.len);
	out->data = p;
	out->size = (unsigned)n;
	return 0;
}

/*
 * Imports der that the strict import refused (why: its error), as
 * leniently as it goes; on success crt holds it (a copy without its SAN
 * if that was the trouble) and *san_here says the SAN is to be decoded
 * from der by x509_lenient_fill.
 */
static int
x509_lenient_try(gnutls_x509_crt_t *crt, const gnutls_datum_t *der)
{
	/* A fresh object: a failed import leaves the old one half set. */
	gnutls_x509_crt_deinit(*crt);
	if (gnutls_x509_crt_init(crt) < 0) {
		*crt = NULL;
		return -1;
	}
	gnutls_x509_crt_set_flags(*crt, GNUTLS_X509_CRT_FLAG_IGNORE_SANITY);
	return gnutls_x509_crt_import(*crt, der, GNUTLS_X509_FMT_DER) < 0 ?
	    -1 : 0;
}

int
x509_lenient_import(gnutls_x509_crt_t *crt, const gnutls_datum_t *der,
    int *san_here)
{
	gnutls_datum_t	cut;
	int		rc;

	*san_here = 0;
	if (x509_lenient_try(crt, der) == 0)
		return 0;
	if (*crt == NULL || x509_lenient_cut_san(der, &cut) == -1)
		return -1;
	rc = x509_lenient_try(crt, &cut);
	free(cut.data);
	if (rc == -1)
		return -1;
	*san_here = 1;
	return 0;
}

/*
 * After x509_cert_fill: what must come from der itself.  Thumbprints of
 * the DER as read (crt may be a copy without its SAN), the SAN when
 * GnuTLS could not parse it, and the validity times (any year).
 */
void
x509_lenient_fill(struct x509_cert *c, const gnutls_datum_t *der,
    int san_here)
{
	unsigned char	h[32];
	time_t		nb, na;

	if (san_here) {
		if (gnutls_hash_fast(GNUTLS_DIG_SHA1, der->data, der->size,
		    h) == 0)
			x509_hex_str(h, 20, c->sha1);
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size,
		    h) == 0)
			x509_hex_str(h, 32, c->sha256);
		x509_lenient_san(der, c);
	}
	if (x509_der_validity(der, &nb, &na) == 0) {
		if (nb != c->not_before || na != c->not_after)
			x509_cert_warn(c, "validity outside what GnuTLS "
			    "reads; times taken from the DER");
		c->not_before = nb;
		c->not_after = na;
	}
}
