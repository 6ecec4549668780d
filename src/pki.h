/*
 * The PKI toolbox: keys, CSRs, a local CA, PKCS#12 export and the policy
 * checks of a certificate.  Library-like: nothing here prints or exits,
 * so the daemon's renewal engine can call the same functions (from the
 * libuv thread pool: no global state).  GnuTLS only.
 */
#ifndef CV_PKI_H
#define CV_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cverr.h"
#include "x509.h"

enum pki_key_type {
	PKI_KEY_RSA = 0,
	PKI_KEY_EC,
	PKI_KEY_ED25519,
};

enum pki_purpose {
	PKI_PURPOSE_SERVER = 0,
	PKI_PURPOSE_CLIENT,
};

/* Defaults: the seeds' "RSA, 2048 bits", two-year-ish lifetimes. */
#define PKI_RSA_BITS_DEFAULT	2048u
#define PKI_RSA_BITS_MIN	2048u
#define PKI_RSA_BITS_MAX	16384u
#define PKI_CA_DAYS_DEFAULT	3650u
#define PKI_LEAF_DAYS_DEFAULT	397u
#define PKI_DAYS_MAX		36500u
/* Certificates start this long before "now", for clocks running late. */
#define PKI_BACKDATE		300
/* SAN entries one --san list may hold. */
#define PKI_MAX_SANS		1000u

/* A distinguished name as the seeds' CSR wizard asks for it. */
struct pki_subject {
	const char	*cn;
	const char	*o;
	const char	*ou;
	const char	*l;		/* city / locality */
	const char	*st;		/* state / province */
	const char	*c;		/* two letters, any case */
};

struct pki_san {
	int		 type;		/* GNUTLS_SAN_DNSNAME, ... */
	unsigned char	*data;		/* the name, or 4/16 raw IP bytes */
	size_t		 len;
};

struct pki_san_list {
	struct pki_san	*v;
	size_t		 n;
};

int	 pki_key_type_parse(const char *, enum pki_key_type *, struct cv_err *);
int	 pki_purpose_parse(const char *, enum pki_purpose *, struct cv_err *);
const char *pki_purpose_name(enum pki_purpose);
const char *pki_purpose_oid(enum pki_purpose);

/*
 * Checks a subject (CN present, country two letters, RFC 5280 length
 * bounds, no control characters).  The error names the field.
 */
int	 pki_subject_check(const struct pki_subject *, struct cv_err *);
/* The subject in RFC 4514 form, as GnuTLS prints it.  Caller frees. */
char	*pki_subject_dn(const struct pki_subject *);

/*
 * Parses "DNS:x,IP:y,email:z,URI:u" (types case-insensitive, blanks
 * around commas ignored) and appends to list.  Commas cannot appear inside
 * a value.
 */
int	 pki_san_parse(const char *, struct pki_san_list *, struct cv_err *);
/* Adds one entry; value is "DNS:..." etc.  Used by the parser. */
int	 pki_san_add(struct pki_san_list *, const char *, size_t,
	    struct cv_err *);
/* "DNS:x" / "IP:1.2.3.4" form of one entry.  Caller frees. */
char	*pki_san_str(const struct pki_san *);
void	 pki_san_list_free(struct pki_san_list *);

/*
 * Generates a key: RSA of bits (0: 2048), EC on P-256/P-384/P-521 by
 * bits (0: P-256), or Ed25519 (bits must be 0).
 */
int	 pki_key_generate(enum pki_key_type, unsigned bits,
	    gnutls_x509_privkey_t *, struct cv_err *);
/*
 * Loads the private key of a file (PEM, DER, PKCS#12; password may be
 * NULL).  With a certificate in the same file, its key is preferred.
 */
int	 pki_key_load(const char *path, const char *password,
	    gnutls_x509_privkey_t *, struct cv_err *);
/* PKCS#8 PEM, plain or (password != NULL) AES-256/PBKDF2 encrypted. */
int	 pki_key_pem(gnutls_x509_privkey_t, const char *password,
	    gnutls_datum_t *, struct cv_err *);
/* SHA-256 key id of a key and of a certificate's public key. */
int	 pki_key_matches(gnutls_x509_privkey_t, gnutls_x509_crt_t);

/* Concatenated PEM of certificates.  Caller frees with gnutls_free. */
int	 pki_crts_pem(gnutls_x509_crt_t *, size_t, gnutls_datum_t *,
	    struct cv_err *);
/* Writes a datum with fsutil_write_atomic; keys with mode 0600. */
int	 pki_write(const char *path, const gnutls_datum_t *, mode_t,
	    struct cv_err *);

/* A signed PKCS#10 request (SHA-256, or Ed25519's own hash). */
int	 pki_csr_make(const struct pki_subject *, const struct pki_san_list *,
	    gnutls_x509_privkey_t, gnutls_x509_crq_t *, struct cv_err *);
/* "CERTIFICATE REQUEST" PEM (RFC 7468 label).  Caller gnutls_frees. */
int	 pki_csr_pem(gnutls_x509_crq_t, gnutls_datum_t *, struct cv_err *);
/* Reads a PEM or DER request and checks its self-signature. */
int	 pki_csr_load(const char *path, gnutls_x509_crq_t *, struct cv_err *);

/*
 * A self-issued root: CA:TRUE (critical), keyCertSign and cRLSign, the
 * subject key id, a random 16-byte serial, signed with its own key.
 */
int	 pki_ca_init(const struct pki_subject *, unsigned days,
	    gnutls_x509_privkey_t, time_t now, gnutls_x509_crt_t *,
	    struct cv_err *);

struct pki_issue {
	gnutls_x509_crt_t	 ca_crt;
	gnutls_x509_privkey_t	 ca_key;
	gnutls_x509_crq_t	 crq;	/* subject, key and SANs */
	/* Replaces the request's SANs when not NULL and not empty. */
	const struct pki_san_list *san;
	enum pki_purpose	 purpose;
	unsigned		 days;	/* 0: PKI_LEAF_DAYS_DEFAULT */
	time_t			 now;
};

/*
 * Issues a leaf from a request: CA:FALSE, the purpose's EKU, key usage
 * fitting the key, SANs (the CN when none is given and it looks like a
 * host name or address), subject and authority key ids, a random
 * positive 16-byte serial, SHA-256.  Refuses a CA certificate that does
 * not fit its key, is no CA, or expires before the new certificate.
 */
int	 pki_ca_issue(const struct pki_issue *, gnutls_x509_crt_t *,
	    struct cv_err *);

/*
 * PKCS#12: the leaf with its localKeyID and friendly name, the chain, and
 * the shrouded key.  Modern: PBES2 AES-256-CBC with PBKDF2-SHA256 and an
 * HMAC-SHA256 MAC; legacy: PBE-SHA1-3DES with an HMAC-SHA1 MAC, as old
 * Windows needs.  Caller frees out with gnutls_free.
 */
int	 pki_pkcs12_make(gnutls_x509_crt_t leaf, gnutls_x509_crt_t *chain,
	    size_t nchain, gnutls_x509_privkey_t, const char *password,
	    int legacy, gnutls_datum_t *out, struct cv_err *);

/*
 * The leaf of a loaded file: the first non-CA certificate with its key in
 * the file, else the first non-CA certificate, else the first one.
 * Returns its index or -1 when the file holds no certificate.
 */
int	 pki_file_leaf(const struct x509_file *);
/* The index of the key matching certificate i, or -1. */
int	 pki_file_key_of(const struct x509_file *, size_t i);
/*
 * The other certificates of a file in chain order: each one's issuer
 * next.  Fills idx (ncerts entries at most) and returns how many.
 */
size_t	 pki_file_chain(const struct x509_file *, size_t leaf, size_t *idx);

/* ---- policy checks (certvigil check; the renewal engine's gate) ---- */

enum pki_check_status {
	PKI_CHECK_PASS = 0,
	PKI_CHECK_WARN,
	PKI_CHECK_FAIL,
	PKI_CHECK_SKIP,
};

struct pki_check_result {
	const char		*rule;		/* static: "key", "chain", ... */
	enum pki_check_status	 status;
	char			 detail[256];
};

struct pki_check_list {
	struct pki_check_result	*v;
	size_t			 n;
	unsigned		 nfail;
	unsigned		 nwarn;
};

struct pki_check_opts {
	const char	*host;		/* NULL: the host rule is skipped */
	enum pki_purpose purpose;
	const char	*ca_file;	/* NULL: the system trust store */
	int64_t		 min_days;	/* -1: none given (warn < 30) */
	time_t		 now;
};

/*
 * Runs every rule on a leaf, with the chain that came with it and its key
 * (NULL: none found).  Fills list (free with pki_check_list_free);
 * returns -1 only when the checks could not run (trust store unusable).
 */
int	 pki_check(gnutls_x509_crt_t leaf, gnutls_x509_crt_t *chain,
	    size_t nchain, gnutls_x509_privkey_t key,
	    const struct pki_check_opts *, struct pki_check_list *,
	    struct cv_err *);
void	 pki_check_list_free(struct pki_check_list *);
const char *pki_check_status_name(enum pki_check_status);
/* CN or SAN matches host, RFC 6125 wildcards (GnuTLS's rules). */
int	 pki_host_matches(gnutls_x509_crt_t, const char *host);

#endif
