/* CRLs: recognising and reading them (see crl.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "crl.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

/* CRLs kept per file; a bundle of more is refused (the rest are lost). */
#define CRL_MAX_PER_FILE	1000u

/* Tag and extent of the TLV at *p; advances *p past the header. */
static int
crl_tlv(const unsigned char **p, const unsigned char *end, int *tag,
    size_t *len)
{
	const unsigned char	*q = *p;
	size_t			 n, i, l = 0;

	if (end - q < 2)
		return -1;
	*tag = q[0];
	if (q[1] < 0x80) {
		l = q[1];
		q += 2;
	} else {
		n = q[1] & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < 2 + n)
			return -1;
		for (i = 0; i < n; i++)
			l = (l << 8) | q[2 + i];
		q += 2 + n;
	}
	if (l > (size_t)(end - q))
		return -1;
	*p = q;
	*len = l;
	return 0;
}

int
crl_der_is_crl(const unsigned char *p, size_t len)
{
	const unsigned char	*end = p + len;
	size_t			 l;
	int			 tag, i;

	/* CertificateList SEQUENCE, then TBSCertList SEQUENCE. */
	if (crl_tlv(&p, end, &tag, &l) == -1 || tag != 0x30)
		return 0;
	end = p + l;
	if (crl_tlv(&p, end, &tag, &l) == -1 || tag != 0x30)
		return 0;
	end = p + l;
	if (crl_tlv(&p, end, &tag, &l) == -1)
		return 0;
	if (tag == 0x02) {		/* version v2 */
		p += l;
		if (crl_tlv(&p, end, &tag, &l) == -1)
			return 0;
	}
	/* signature AlgorithmIdentifier, issuer Name */
	for (i = 0; i < 2; i++) {
		if (tag != 0x30)
			return 0;
		p += l;
		if (crl_tlv(&p, end, &tag, &l) == -1)
			return 0;
	}
	return tag == 0x17 || tag == 0x18;	/* UTCTime, GeneralizedTime */
}

static void
crl_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
crl_fill(struct crl_info *c, gnutls_x509_crl_t crl, struct cv_err *err)
{
	gnutls_datum_t	 dn = { NULL, 0 }, der = { NULL, 0 };
	unsigned char	 buf[64];
	size_t		 size = sizeof(buf);
	unsigned	 crit;
	const char	*sig;
	int		 rc;

	if ((rc = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &der)) < 0)
		return cv_err_set(err, "CRL: %s", x509_strerror(rc));
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA1, der.data, der.size, buf);
	gnutls_free(der.data);
	if (rc < 0)
		return cv_err_set(err, "CRL: %s", x509_strerror(rc));
	crl_hex(buf, 20, c->sha1);
	if (gnutls_x509_crl_get_issuer_dn3(crl, &dn, 0) >= 0) {
		c->issuer = xstrndup((char *)dn.data, dn.size);
		gnutls_free(dn.data);
	} else
		c->issuer = xstrdup("");
	c->this_update = gnutls_x509_crl_get_this_update(crl);
	c->next_update = gnutls_x509_crl_get_next_update(crl);
	rc = gnutls_x509_crl_get_crt_count(crl);
	c->revoked = rc > 0 ? (unsigned long)rc : 0;
	size = sizeof(buf);
	if (gnutls_x509_crl_get_number(crl, buf, &size, &crit) >= 0 &&
	    size <= 64)
		crl_hex(buf, size, c->number);
	rc = gnutls_x509_crl_get_signature_algorithm(crl);
	sig = rc >= 0 ? gnutls_sign_get_name(rc) : NULL;
	snprintf(c->sig_alg, sizeof(c->sig_alg), "%s", sig ? sig : "unknown");
	return 0;
}

int
crl_add(struct x509_file *f, const gnutls_datum_t *d,
    gnutls_x509_crt_fmt_t fmt, struct cv_err *err)
{
	gnutls_x509_crl_t	 crl;
	struct crl_info		*c;
	int			 rc;

	if (f->ncrls >= CRL_MAX_PER_FILE)
		return cv_err_set(err, "more than %u CRLs; refusing the rest",
		    CRL_MAX_PER_FILE);
	if (gnutls_x509_crl_init(&crl) < 0)
		return cv_err_set(err, "out of memory");
	if ((rc = gnutls_x509_crl_import(crl, d, fmt)) < 0) {
		gnutls_x509_crl_deinit(crl);
		return cv_err_set(err, "CRL: %s", x509_strerror(rc));
	}
	f->crls = xreallocarray(f->crls, f->ncrls + 1, sizeof(*f->crls));
	c = &f->crls[f->ncrls];
	memset(c, 0, sizeof(*c));
	c->index = (unsigned)f->ncrls;
	rc = crl_fill(c, crl, err);
	gnutls_x509_crl_deinit(crl);
	if (rc == -1) {
		free(c->issuer);
		return -1;
	}
	f->ncrls++;
	return 0;
}

void
crl_free_all(struct x509_file *f)
{
	size_t	i;

	for (i = 0; i < f->ncrls; i++)
		free(f->crls[i].issuer);
	free(f->crls);
	f->crls = NULL;
	f->ncrls = 0;
}

json_t *
crl_json(const struct crl_info *c, const char *path, const char *fmt)
{
	char	tu[TIMEUTIL_RFC3339_LEN], nu[TIMEUTIL_RFC3339_LEN];

	timeutil_rfc3339(c->this_update, tu, sizeof(tu));
	if (c->next_update != (time_t)-1)
		timeutil_rfc3339(c->next_update, nu, sizeof(nu));
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:s, "
	    "s:s}", "kind", "crl", "path", path, "index", (json_int_t)c->index,
	    "format", fmt, "sha1", c->sha1, "issuer", c->issuer,
	    "this_update", tu, "next_update", c->next_update != (time_t)-1 ?
	    json_string(nu) : json_null(), "revoked", (json_int_t)c->revoked,
	    "crl_number", c->number, "sig_alg", c->sig_alg);
}
