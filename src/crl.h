/*
 * Certificate revocation lists (issue 13 item 7): recognised by the
 * loader (PEM "X509 CRL" and DER), inventoried by the daemon (table crls)
 * and alerted before nextUpdate like a certificate before notAfter.
 */
#ifndef CV_CRL_H
#define CV_CRL_H

#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "cverr.h"

struct x509_file;

struct crl_info {
	unsigned	 index;		/* position in the file */
	char		*issuer;	/* RFC 4514, as for certificates */
	time_t		 this_update;
	time_t		 next_update;	/* -1: the CRL has none */
	unsigned long	 revoked;	/* revoked serials listed */
	char		 number[130];	/* CRL number, lowercase hex, or "" */
	char		 sha1[41];	/* of the DER */
	char		 sig_alg[48];
};

/*
 * Does DER at p look like a CertificateList rather than a Certificate?
 * TBSCertList is [INTEGER] AlgorithmIdentifier Name Time: a Time where a
 * certificate has its Validity SEQUENCE (or [0] version first).
 */
int	 crl_der_is_crl(const unsigned char *p, size_t len);
/* Parses one CRL and appends it to f->crls. */
int	 crl_add(struct x509_file *f, const gnutls_datum_t *d,
	    gnutls_x509_crt_fmt_t fmt, struct cv_err *err);
void	 crl_free_all(struct x509_file *f);
/* The fields of `inspect --json` for a CRL. */
json_t	*crl_json(const struct crl_info *, const char *path, const char *fmt);

#endif
