/*
 * What the PKI toolbox commands share (cmd_pki.c): their long-only option
 * values, the subject options, and helpers that print their own errors
 * (cmd_err) and return 0 / -1.
 */
#ifndef CV_CMD_PKI_H
#define CV_CMD_PKI_H

#include <stddef.h>

#include <gnutls/x509.h>

#include "pki.h"
#include "x509.h"

/* Long-only options (values past any letter). */
enum {
	OPT_CN = 256, OPT_ORG, OPT_OU, OPT_LOCALITY, OPT_STATE, OPT_COUNTRY,
	OPT_SAN, OPT_KEY_TYPE, OPT_BITS, OPT_KEY_OUT, OPT_KEY, OPT_OUT,
	OPT_PASSWORD_FILE, OPT_DAYS, OPT_OUT_CERT, OPT_CA_CERT, OPT_CA_KEY,
	OPT_CSR, OPT_PURPOSE, OPT_TO, OPT_CERT_OUT, OPT_CHAIN_OUT,
	OPT_ENCRYPT_KEY, OPT_CERT, OPT_CHAIN, OPT_LEGACY, OPT_HOST,
	OPT_CA_FILE, OPT_MIN_DAYS, OPT_JSON, OPT_PFX, OPT_CERT_PATH,
	OPT_KEY_PATH, OPT_AGENT_CONFIG, OPT_AGENT_SECTION,
};

/* The subject options, first in a struct cmdopt table. */
#define PKI_CLI_SUBJECT_OPTS \
	{ "cn",		OPT_CN,		"NAME",	"the common name" }, \
	{ "org",	OPT_ORG,	"O",	"organisation" }, \
	{ "ou",		OPT_OU,		"OU",	"organisational unit" }, \
	{ "locality",	OPT_LOCALITY,	"L",	"locality (city)" }, \
	{ "state",	OPT_STATE,	"ST",	"state or province" }, \
	{ "country",	OPT_COUNTRY,	"CC",	"two-letter country code" }

/* --key-type and --bits, in a struct cmdopt table. */
#define PKI_CLI_KEYGEN_OPTS \
	{ "key-type",	OPT_KEY_TYPE,	"rsa|ec|ed25519", \
	    "the new key's type (default rsa)" }, \
	{ "bits",	OPT_BITS,	"N", \
	    "RSA key size (default 2048)" }

/* Sets the subject field for ch from optarg; 1 if ch was one. */
int	pki_cli_subject_opt(int ch, struct pki_subject *);

/* A new key's --key-type and --bits (csr, ca init, ca issue). */
struct pki_cli_keygen {
	enum pki_key_type	 type;		/* PKI_KEY_RSA unless given */
	unsigned		 bits;		/* 0: the type's default */
};

#define PKI_CLI_KEYGEN_INIT	{ PKI_KEY_RSA, 0 }
/*
 * Sets kg from --key-type or --bits in optarg: 1 if ch was one, 0 if
 * not, -1 (the error printed) for a bad value, a usage error.
 */
int	pki_cli_keygen_opt(int ch, struct pki_cli_keygen *kg);
/* opt's argument s as a number from 0 to max. */
int	pki_cli_unsigned(const char *opt, const char *s, unsigned max,
	    unsigned *out);
/* Refuses a path that exists: a new key never replaces a file. */
int	pki_cli_refuse_existing(const char *path, const char *opt);
/* Reads --password-file (NULL: none, *pw NULL); caller freezero_str()s. */
int	pki_cli_password(const char *file, char **pw);
int	pki_cli_write_key(const char *path, gnutls_x509_privkey_t,
	    const char *password);
int	pki_cli_write_crts(const char *path, gnutls_x509_crt_t *, size_t n);
/* "WHAT: PATH (SUBJECT, thumbprint SHA1)" on stdout. */
void	pki_cli_describe(const char *what, const char *path,
	    gnutls_x509_crt_t);

/* Everything a conversion gathers: the leaf, its key, the chain. */
struct pki_cli_set {
	struct x509_file	*files[3];
	size_t			 nfiles;
	gnutls_x509_crt_t	 leaf;
	gnutls_x509_crt_t	*chain;
	size_t			 nchain;
	gnutls_x509_privkey_t	 key;	/* borrowed from a file */
};

void	pki_cli_set_free(struct pki_cli_set *);
/* Loads path into the set (opt prefixes errors: "--key "). */
struct x509_file *pki_cli_set_load(struct pki_cli_set *, const char *opt,
	    const char *path, const char *pw);
/* Appends f's chain for certificate skip (or, -1, every certificate). */
void	pki_cli_set_chain(struct pki_cli_set *, struct x509_file *, int skip);
/*
 * The leaf, key and chain from IN (one bundle or PFX) or from the
 * --cert/--key/--chain files.  Key and chain may be missing; the caller
 * says what it needs.
 */
int	pki_cli_gather(struct pki_cli_set *, const char *in, const char *cert,
	    const char *keyf, const char *chainf, const char *pw);

#endif
