/*
 * The certificate loader: every certificate and private key in a file
 * (PEM bundle, DER, PKCS#12, PKCS#7), with the fields people and netsh use.
 * GnuTLS only.
 */
#ifndef CV_X509_H
#define CV_X509_H

#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "crl.h"
#include "cverr.h"

enum x509_format {
	X509_FMT_PEM = 0,
	X509_FMT_DER,
	X509_FMT_PKCS12,
	X509_FMT_PVK,		/* Microsoft PVK private key (pvk.c) */
	X509_FMT_PKCS7,		/* .p7b/.p7c, PEM or DER */
};

/* PBKDF/PKCS#12 iteration counts above this are refused before any work. */
#define X509_MAX_ITER		10000000u
/*
 * Key derivation iterations one file may cost in all: every PKCS#12 MAC
 * password tried, every encrypted bag and shrouded key, every encrypted
 * PEM block, summed.  Each derivation is under X509_MAX_ITER, but a file
 * of many cheap-looking ones would still hold a pool thread for minutes.
 */
#define X509_MAX_TOTAL_ITER	10000000ull
/* PKCS#12 bags read from one file before the rest is refused. */
#define X509_MAX_BAGS		256u
/* PEM blocks read from one file before it is refused as hostile. */
#define X509_MAX_BLOCKS		10000u
/* SANs kept per certificate (the rest are counted, not stored). */
#define X509_MAX_SANS		1000u

struct x509_key {
	gnutls_x509_privkey_t	 key;
	unsigned char		 id[32];	/* SHA-256 key id of the SPKI */
	char			 type[16];
	unsigned		 bits;
	int			 matched;	/* some cert in the file uses it */
};

struct x509_cert {
	gnutls_x509_crt_t	 crt;
	unsigned		 index;		/* position in the file */
	char			 sha1[41];	/* lowercase hex: netsh certhash */
	char			 sha256[65];
	char			*subject;	/* RFC 4514 */
	char			*issuer;
	char			 serial[130];	/* lowercase hex, no 00 pad */
	time_t			 not_before;
	time_t			 not_after;
	char			 key_type[16];	/* RSA, EC, Ed25519, ... */
	unsigned		 key_bits;
	char			 sig_alg[48];
	char			**san;		/* "DNS:x", "IP:1.2.3.4", ... */
	size_t			 nsan;
	size_t			 nsan_dropped;	/* beyond X509_MAX_SANS */
	char			**eku;		/* "serverAuth" or the OID */
	size_t			 neku;
	int			 is_ca;
	unsigned		 key_usage;	/* GNUTLS_KEY_* bits, 0: none */
	unsigned char		 key_id[32];	/* SHA-256 key id of the SPKI */
	int			 has_private_key;
	int			 key_matches;	/* 1, 0, or -1 for "null" */
	char			**warn;		/* what was odd (lenient read) */
	size_t			 nwarn;
};

struct x509_file {
	char			*path;
	enum x509_format	 format;
	struct x509_cert	*certs;
	size_t			 ncerts;
	struct x509_key		*keys;
	size_t			 nkeys;
	struct crl_info		*crls;		/* CRLs (crl.c) */
	size_t			 ncrls;
	unsigned long long	 kdf_iter;	/* iterations spent deriving
						 * keys (the budget's count) */
	unsigned		 kdf_parts;	/* bags or PEM blocks so far */
};

struct x509_load_opts {
	const char	*password;	/* NULL when none was given */
	unsigned	 max_iter;	/* 0: X509_MAX_ITER */
	unsigned long long max_total_iter; /* 0: X509_MAX_TOTAL_ITER */
};

/*
 * Loads every certificate and key in a file.  Returns 0, or -1 with the
 * reason in err.  On failure *out is still set (and must be freed) when
 * something was read before the failure, so a file whose certificate
 * parses but whose key cannot be decrypted is not lost; it is NULL
 * otherwise.  A file holding keys but no certificate loads with ncerts 0.
 */
int	 x509_load_file(const char *path, const struct x509_load_opts *,
	    struct x509_file **out, struct cv_err *);
/* The same, the file opened by fsutil_open(policy): FSUTIL_WALK_DIRS for
 * a file in a directory a less-trusted user may own (a deploy path). */
int	 x509_load_path(const char *path, int policy,
	    const struct x509_load_opts *, struct x509_file **out,
	    struct cv_err *);
int	 x509_load_mem(const char *name, const unsigned char *data, size_t len,
	    const struct x509_load_opts *, struct x509_file **out,
	    struct cv_err *);
void	 x509_file_free(struct x509_file *);
/* Frees f's GnuTLS objects (crt, keys), keeping the fields. */
void	 x509_file_drop_objects(struct x509_file *);

/* Fills a record from a parsed certificate (takes ownership of crt). */
int	 x509_cert_fill(struct x509_cert *, gnutls_x509_crt_t,
	    struct cv_err *);
/* The same, the thumbprints hashed from the DER crt was imported from. */
int	 x509_cert_fill_der(struct x509_cert *, gnutls_x509_crt_t,
	    const gnutls_datum_t *, struct cv_err *);
void	 x509_cert_clear(struct x509_cert *);

/*
 * Matches keys to certificates by public-key id and sets has_private_key,
 * key_matches and each key's matched flag.
 */
void	 x509_file_match_keys(struct x509_file *);
/* 1 if crt is a DSA key whose parameters come from its issuer. */
int	 x509_key_inherits_params(gnutls_x509_crt_t);

const char	*x509_format_name(enum x509_format);
/* The fields of `inspect --json`, in that order.  Caller owns the object. */
json_t		*x509_cert_json(const struct x509_cert *, const char *path,
		    enum x509_format);
/* "digitalSignature, keyEncipherment" into buf. */
char		*x509_key_usage_str(unsigned, char *buf, size_t len);
/* Thumbprint helpers: uppercase (Windows) form into buf[41]. */
char		*x509_sha1_upper(const char *sha1, char buf[41]);
/* Key id of a private key / certificate (SHA-256 over the SPKI). */
int		 x509_privkey_id(gnutls_x509_privkey_t, unsigned char id[32]);
/*
 * A DER Name as OpenSSL's `-nameopt RFC2253` writes it (x509_name.c);
 * NULL if it does not parse.  Caller frees.
 */
char		*x509_name_str(const gnutls_datum_t *der);
/* Adds a warning (a parse-quality note) to a certificate. */
void		 x509_cert_warn(struct x509_cert *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* len bytes as lowercase hex into out[2 * len + 1]. */
void		 x509_hex_str(const unsigned char *, size_t, char *out);

/*
 * The lenient path (x509_lenient.c) for what GnuTLS refuses but OpenSSL
 * reads.  x509_lenient_import retries a refused DER certificate (*crt is
 * replaced); x509_lenient_fill then takes from the DER itself what crt
 * cannot say.  x509_der_validity reads notBefore/notAfter of any year.
 */
int		 x509_lenient_import(gnutls_x509_crt_t *crt,
		    const gnutls_datum_t *der, int *san_here);
void		 x509_lenient_fill(struct x509_cert *, const gnutls_datum_t *der,
		    int san_here);
int		 x509_der_validity(const gnutls_datum_t *der, time_t *nb,
		    time_t *na);
/* Human description of a GnuTLS error, for one-line messages. */
const char	*x509_strerror(int gnutls_rc);

#endif
