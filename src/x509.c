#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/pkcs12.h>
#include <gnutls/pkcs7.h>
#include <gnutls/crypto.h>

#include "fsutil.h"
#include "proto.h"
#include "pvk.h"
#include "p12raw.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

/* What a PEM label holds; unknown labels are skipped. */
enum x509_block {
	BLK_SKIP = 0,
	BLK_CERT,
	BLK_TRUSTED_CERT,
	BLK_KEY,
	BLK_ENC_KEY,
	BLK_PKCS7,
	BLK_CRL,
};

static const struct {
	const char	*label;
	enum x509_block	 kind;
} x509_labels[] = {
	{ "CERTIFICATE",		BLK_CERT },
	{ "X509 CERTIFICATE",		BLK_CERT },
	{ "TRUSTED CERTIFICATE",	BLK_TRUSTED_CERT },
	{ "PRIVATE KEY",		BLK_KEY },
	{ "RSA PRIVATE KEY",		BLK_KEY },
	{ "EC PRIVATE KEY",		BLK_KEY },
	{ "DSA PRIVATE KEY",		BLK_KEY },
	{ "ENCRYPTED PRIVATE KEY",	BLK_ENC_KEY },
	{ "PKCS7",			BLK_PKCS7 },
	{ "CMS",			BLK_PKCS7 },
	{ "X509 CRL",			BLK_CRL },
};

static const struct {
	const char	*oid;
	const char	*name;
} x509_eku_names[] = {
	{ "1.3.6.1.5.5.7.3.1",	"serverAuth" },
	{ "1.3.6.1.5.5.7.3.2",	"clientAuth" },
	{ "1.3.6.1.5.5.7.3.3",	"codeSigning" },
	{ "1.3.6.1.5.5.7.3.4",	"emailProtection" },
	{ "1.3.6.1.5.5.7.3.8",	"timeStamping" },
	{ "1.3.6.1.5.5.7.3.9",	"OCSPSigning" },
	{ "1.3.6.1.4.1.311.10.3.4", "msEFS" },
	{ "1.3.6.1.4.1.311.20.2.2", "msSmartcardLogin" },
	{ "2.5.29.37.0",	"anyExtendedKeyUsage" },
};

/* Entries GnuTLS keeps of one PKCS#12 bag (MAX_BAG_ELEMENTS): a bag that
 * comes back this full may have lost the rest. */
#define X509_P12_GNUTLS_MAX	32

const char *
x509_format_name(enum x509_format f)
{
	switch (f) {
	case X509_FMT_PEM:	return "pem";
	case X509_FMT_DER:	return "der";
	case X509_FMT_PKCS12:	return "pkcs12";
	case X509_FMT_PVK:	return "pvk";
	case X509_FMT_PKCS7:	return "pkcs7";
	}
	return "unknown";
}

const char *
x509_strerror(int rc)
{
	switch (rc) {
	case GNUTLS_E_ASN1_DER_ERROR:
	case GNUTLS_E_ASN1_TAG_ERROR:
	case GNUTLS_E_ASN1_DER_OVERFLOW:
		return "malformed DER";
	case GNUTLS_E_BASE64_DECODING_ERROR:
	case GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR:
		return "malformed base64 in PEM block";
	case GNUTLS_E_UNKNOWN_CIPHER_TYPE:
	case GNUTLS_E_UNKNOWN_ALGORITHM:
		return "unsupported encryption algorithm";
	default:
		return gnutls_strerror(rc);
	}
}

static void
x509_hex(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t	i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static void
x509_push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = s;
}

void
x509_hex_str(const unsigned char *in, size_t len, char *out)
{
	x509_hex(in, len, out);
}

void
x509_cert_warn(struct x509_cert *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	x509_push(&c->warn, &c->nwarn, s);
}

char *
x509_sha1_upper(const char *sha1, char buf[41])
{
	size_t	i;

	for (i = 0; i < 40 && sha1[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)sha1[i]);
	buf[i] = '\0';
	return buf;
}

static void
x509_pk_name(int pk, char *buf, size_t len)
{
	const char	*name;

	switch (pk) {
	case GNUTLS_PK_RSA:		name = "RSA"; break;
	case GNUTLS_PK_RSA_PSS:		name = "RSA-PSS"; break;
	case GNUTLS_PK_DSA:		name = "DSA"; break;
	case GNUTLS_PK_ECDSA:		name = "EC"; break;
	case GNUTLS_PK_EDDSA_ED25519:	name = "Ed25519"; break;
	case GNUTLS_PK_EDDSA_ED448:	name = "Ed448"; break;
	default:
		name = gnutls_pk_algorithm_get_name(pk);
		if (name == NULL)
			name = "unknown";
	}
	snprintf(buf, len, "%s", name);
}

int
x509_privkey_id(gnutls_x509_privkey_t key, unsigned char id[32])
{
	size_t	size = 32;

	if (gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, id,
	    &size) < 0 || size != 32)
		return -1;
	return 0;
}

static void
x509_fill_san(struct x509_cert *c)
{
	char		 buf[1024], ip[INET6_ADDRSTRLEN], *s;
	size_t		 size;
	unsigned	 i, type;
	int		 rc;

	for (i = 0; ; i++) {
		size = sizeof(buf) - 1;
		rc = gnutls_x509_crt_get_subject_alt_name2(c->crt, i, buf,
		    &size, &type, NULL);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;	/* absurdly long name: skip it */
		if (rc < 0)
			break;
		if (c->nsan >= X509_MAX_SANS) {
			c->nsan_dropped++;
			continue;
		}
		buf[size < sizeof(buf) ? size : sizeof(buf) - 1] = '\0';
		switch (rc) {
		case GNUTLS_SAN_DNSNAME:
			xasprintf(&s, "DNS:%s", buf);
			break;
		case GNUTLS_SAN_RFC822NAME:
			xasprintf(&s, "email:%s", buf);
			break;
		case GNUTLS_SAN_URI:
			xasprintf(&s, "URI:%s", buf);
			break;
		case GNUTLS_SAN_IPADDRESS:
			if (inet_ntop(size == 16 ? AF_INET6 : AF_INET, buf, ip,
			    sizeof(ip)) == NULL || (size != 4 && size != 16))
				snprintf(ip, sizeof(ip), "invalid");
			xasprintf(&s, "IP:%s", ip);
			break;
		case GNUTLS_SAN_DN:
			xasprintf(&s, "DirName:%s", buf);
			break;
		default:
			xasprintf(&s, "othername:%d", rc);
			break;
		}
		x509_push(&c->san, &c->nsan, s);
	}
	(void)type;
}

static void
x509_fill_eku(struct x509_cert *c)
{
	char		buf[256];
	const char	*name;
	size_t		size, k;
	unsigned	i;
	int		rc;

	for (i = 0; i < 64; i++) {
		size = sizeof(buf);
		rc = gnutls_x509_crt_get_key_purpose_oid(c->crt, i, buf, &size,
		    NULL);
		if (rc < 0)
			break;
		name = buf;
		for (k = 0; k < sizeof(x509_eku_names) /
		    sizeof(x509_eku_names[0]); k++)
			if (strcmp(buf, x509_eku_names[k].oid) == 0)
				name = x509_eku_names[k].name;
		x509_push(&c->eku, &c->neku, xstrdup(name));
	}
}

static long long x509_der_tlv_len(const unsigned char *, size_t, size_t *);

/*
 * Both thumbprints from the DER in hand: gnutls_x509_crt_get_fingerprint
 * encodes the certificate again at every call (14% of a scan's parse
 * work, issue 16); a hash of the bytes read is what OpenSSL prints too.
 */
static int
x509_thumbprints_der(struct x509_cert *c, const gnutls_datum_t *der)
{
	unsigned char	h[32];
	size_t		hdr;
	long long	tlv;

	/* The certificate's own TLV: never bytes after it. */
	if (der == NULL || der->size < 2 || der->data[0] != 0x30 ||
	    (tlv = x509_der_tlv_len(der->data, der->size, &hdr)) <= 0 ||
	    (unsigned long long)tlv > der->size)
		return -1;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, der->data, (size_t)tlv, h) < 0)
		return -1;
	x509_hex(h, 20, c->sha1);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, (size_t)tlv, h) < 0)
		return -1;
	x509_hex(h, 32, c->sha256);
	return 0;
}

static int
x509_thumbprints_crt(struct x509_cert *c, gnutls_x509_crt_t crt,
    struct cv_err *err)
{
	unsigned char	buf[64];
	size_t		size;
	int		rc;

	size = sizeof(buf);
	if ((rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, buf,
	    &size)) < 0)
		return cv_err_set(err, "thumbprint: %s", x509_strerror(rc));
	x509_hex(buf, size, c->sha1);
	size = sizeof(buf);
	if ((rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, buf,
	    &size)) < 0)
		return cv_err_set(err, "fingerprint: %s", x509_strerror(rc));
	x509_hex(buf, size, c->sha256);
	return 0;
}

int
x509_cert_fill(struct x509_cert *c, gnutls_x509_crt_t crt, struct cv_err *err)
{
	return x509_cert_fill_der(c, crt, NULL, err);
}

/* The same, with the thumbprints hashed from der (the bytes crt was
 * imported from) when it is given. */
int
x509_cert_fill_der(struct x509_cert *c, gnutls_x509_crt_t crt,
    const gnutls_datum_t *der, struct cv_err *err)
{
	unsigned char	 buf[64];
	gnutls_datum_t	 dn = { NULL, 0 };
	size_t		 size;
	unsigned	 bits = 0, ca = 0, crit;
	const char	*sig;
	int		 rc, pk, start;

	memset(c, 0, sizeof(*c));
	c->crt = crt;
	c->key_matches = -1;

	if (x509_thumbprints_der(c, der) == -1 &&
	    x509_thumbprints_crt(c, crt, err) == -1)
		return -1;

	/* Names as OpenSSL's RFC 2253 output writes them (x509_name.c). */
	if (gnutls_x509_crt_get_raw_dn(crt, &dn) >= 0) {
		c->subject = x509_name_str(&dn);
		gnutls_free(dn.data);	/* a copy, in GnuTLS 3.7 */
	}
	if (c->subject == NULL)
		c->subject = xstrdup("");
	if (gnutls_x509_crt_get_raw_issuer_dn(crt, &dn) >= 0) {
		c->issuer = x509_name_str(&dn);
		gnutls_free(dn.data);
	}
	if (c->issuer == NULL)
		c->issuer = xstrdup("");

	size = sizeof(buf);
	if (gnutls_x509_crt_get_serial(crt, buf, &size) >= 0 && size <= 64) {
		/* Drop the sign-padding zeros DER adds, as OpenSSL does. */
		for (start = 0; (size_t)start + 1 < size && buf[start] == 0;
		    start++)
			;
		x509_hex(buf + start, size - (size_t)start, c->serial);
	}

	c->not_before = gnutls_x509_crt_get_activation_time(crt);
	c->not_after = gnutls_x509_crt_get_expiration_time(crt);

	pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	x509_pk_name(pk, c->key_type, sizeof(c->key_type));
	c->key_bits = bits;

	rc = gnutls_x509_crt_get_signature_algorithm(crt);
	sig = rc >= 0 ? gnutls_sign_get_name(rc) : NULL;
	if (sig != NULL) {
		snprintf(c->sig_alg, sizeof(c->sig_alg), "%s", sig);
	} else {
		size = sizeof(c->sig_alg);
		if (gnutls_x509_crt_get_signature_oid(crt, c->sig_alg,
		    &size) < 0)
			snprintf(c->sig_alg, sizeof(c->sig_alg), "unknown");
	}

	x509_fill_san(c);
	x509_fill_eku(c);
	if (gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca, NULL) >= 0)
		c->is_ca = ca != 0;
	if (gnutls_x509_crt_get_key_usage(crt, &c->key_usage, &crit) < 0)
		c->key_usage = 0;
	size = sizeof(c->key_id);
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, c->key_id,
	    &size) < 0)
		memset(c->key_id, 0, sizeof(c->key_id));
	return 0;
}

void
x509_cert_clear(struct x509_cert *c)
{
	size_t	i;

	if (c->crt != NULL)
		gnutls_x509_crt_deinit(c->crt);
	free(c->subject);
	free(c->issuer);
	for (i = 0; i < c->nsan; i++)
		free(c->san[i]);
	free(c->san);
	for (i = 0; i < c->neku; i++)
		free(c->eku[i]);
	free(c->eku);
	for (i = 0; i < c->nwarn; i++)
		free(c->warn[i]);
	free(c->warn);
	memset(c, 0, sizeof(*c));
}

/*
 * Frees the GnuTLS objects of f (certificates and keys), keeping every
 * field read from them: for a reader that only records the fields.
 */
void
x509_file_drop_objects(struct x509_file *f)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->ncerts; i++) {
		if (f->certs[i].crt != NULL)
			gnutls_x509_crt_deinit(f->certs[i].crt);
		f->certs[i].crt = NULL;
	}
	for (i = 0; i < f->nkeys; i++)
		gnutls_x509_privkey_deinit(f->keys[i].key);
	free(f->keys);
	f->keys = NULL;
	f->nkeys = 0;
}

void
x509_file_free(struct x509_file *f)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->ncerts; i++)
		x509_cert_clear(&f->certs[i]);
	free(f->certs);
	for (i = 0; i < f->nkeys; i++)
		gnutls_x509_privkey_deinit(f->keys[i].key);
	free(f->keys);
	crl_free_all(f);
	free(f->path);
	free(f);
}

/*
 * Adds the certificate in der to the file.  What GnuTLS refuses is read
 * leniently (x509_lenient.c) and listed with a warning, not dropped.
 */
static int
x509_add_der(struct x509_file *f, const gnutls_datum_t *der,
    struct cv_err *err)
{
	struct x509_cert	c;
	gnutls_x509_crt_t	crt;
	int			rc, san_here = 0;

	if (gnutls_x509_crt_init(&crt) < 0)
		return cv_err_set(err, "out of memory");
	if ((rc = gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER)) < 0 &&
	    x509_lenient_import(&crt, der, &san_here) == -1) {
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		return cv_err_set(err, "certificate #%zu: %s", f->ncerts,
		    x509_strerror(rc));
	}
	if (x509_cert_fill_der(&c, crt, der, err) == -1) {
		x509_cert_clear(&c);
		return -1;
	}
	x509_lenient_fill(&c, der, san_here);
	if (rc < 0)
		x509_cert_warn(&c, "GnuTLS refused it (%s); read leniently, "
		    "as OpenSSL reads it", x509_strerror(rc));
	c.index = (unsigned)f->ncerts;
	f->certs = xreallocarray(f->certs, f->ncerts + 1, sizeof(*f->certs));
	f->certs[f->ncerts++] = c;
	return 0;
}

static int
x509_add_der_crt(struct x509_file *f, const gnutls_datum_t *in,
    gnutls_x509_crt_fmt_t fmt, struct cv_err *err)
{
	gnutls_datum_t	der;
	int		rc;

	if (fmt == GNUTLS_X509_FMT_DER)
		return x509_add_der(f, in, err);
	if ((rc = gnutls_pem_base64_decode2(NULL, in, &der)) < 0)
		return cv_err_set(err, "certificate #%zu: %s", f->ncerts,
		    x509_strerror(rc));
	rc = x509_add_der(f, &der, err);
	gnutls_free(der.data);
	return rc;
}

/* Takes ownership of key. */
static void
x509_add_key(struct x509_file *f, gnutls_x509_privkey_t key)
{
	struct x509_key	k;
	unsigned	bits = 0;
	int		pk;

	memset(&k, 0, sizeof(k));
	k.key = key;
	if (x509_privkey_id(key, k.id) == -1)
		memset(k.id, 0, sizeof(k.id));
	pk = gnutls_x509_privkey_get_pk_algorithm2(key, &bits);
	x509_pk_name(pk, k.type, sizeof(k.type));
	k.bits = bits;
	f->keys = xreallocarray(f->keys, f->nkeys + 1, sizeof(*f->keys));
	f->keys[f->nkeys++] = k;
}

static int
x509_check_iter(unsigned iter, unsigned max, const char *what,
    struct cv_err *err)
{
	if (iter > max)
		return cv_err_set(err, "%s iteration count %u exceeds the "
		    "limit of %u; refusing to derive keys", what, iter, max);
	return 0;
}

static unsigned
x509_max_iter(const struct x509_load_opts *o)
{
	return o->max_iter != 0 ? o->max_iter : X509_MAX_ITER;
}

/*
 * Charges iter iterations of one key derivation to the file's budget
 * before it runs; past the budget nothing more of the file is derived.
 */
static int
x509_kdf_spend(struct x509_file *f, const struct x509_load_opts *o,
    unsigned iter, struct cv_err *err)
{
	unsigned long long	max = o->max_total_iter != 0 ?
	    o->max_total_iter : X509_MAX_TOTAL_ITER;
	int			p12 = f->format == X509_FMT_PKCS12;

	if (f->kdf_iter > max || iter > max - f->kdf_iter)
		return cv_err_set(err, "%s: key derivation budget exceeded "
		    "(%llu iterations over %u %s)", p12 ? "PKCS#12" : "PEM",
		    f->kdf_iter + iter, f->kdf_parts, p12 ? "bags" : "blocks");
	f->kdf_iter += iter;
	return 0;
}

static int
x509_add_key_datum(struct x509_file *f, const gnutls_datum_t *d,
    gnutls_x509_crt_fmt_t fmt, int encrypted, const char *password,
    const struct x509_load_opts *o, struct cv_err *err)
{
	gnutls_x509_privkey_t	key;
	unsigned		iter = 0;
	int			rc;

	if (encrypted) {
		if (password == NULL)
			return cv_err_set(err, "encrypted private key: no "
			    "password given (use a password file)");
		if (gnutls_pkcs8_info(d, fmt, NULL, NULL, NULL, NULL, &iter,
		    NULL) >= 0 && x509_check_iter(iter, x509_max_iter(o),
		    "private key PBKDF2", err) == -1)
			return -1;
		if (x509_kdf_spend(f, o, iter, err) == -1)
			return -1;
	}
	if (gnutls_x509_privkey_init(&key) < 0)
		return cv_err_set(err, "out of memory");
	rc = gnutls_x509_privkey_import2(key, d, fmt, password,
	    password == NULL ? GNUTLS_PKCS_PLAIN : 0);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(key);
		if (rc == GNUTLS_E_DECRYPTION_FAILED ||
		    rc == GNUTLS_E_PK_INVALID_PRIVKEY)
			return cv_err_set(err, "%s", password == NULL ?
			    "encrypted private key: no password given (use a "
			    "password file)" : "wrong private key password");
		return cv_err_set(err, "private key: %s", x509_strerror(rc));
	}
	x509_add_key(f, key);
	return 0;
}

static int
x509_add_pkcs7(struct x509_file *f, const gnutls_datum_t *d,
    gnutls_x509_crt_fmt_t fmt, struct cv_err *err)
{
	gnutls_pkcs7_t	p7;
	gnutls_datum_t	der;
	int		rc, i, n;

	if (gnutls_pkcs7_init(&p7) < 0)
		return cv_err_set(err, "out of memory");
	if ((rc = gnutls_pkcs7_import(p7, d, fmt)) < 0) {
		gnutls_pkcs7_deinit(p7);
		return cv_err_set(err, "PKCS#7: %s", x509_strerror(rc));
	}
	n = gnutls_pkcs7_get_crt_count(p7);
	for (i = 0; i < n; i++) {
		if (gnutls_pkcs7_get_crt_raw2(p7, (unsigned)i, &der) < 0)
			continue;
		rc = x509_add_der_crt(f, &der, GNUTLS_X509_FMT_DER, err);
		gnutls_free(der.data);
		if (rc == -1) {
			gnutls_pkcs7_deinit(p7);
			return -1;
		}
	}
	gnutls_pkcs7_deinit(p7);
	return 0;
}

/*
 * DER length of the TLV at p (definite lengths only).  Returns the total
 * size of header plus content, 0 for indefinite length, or -1 if malformed.
 */
static long long
x509_der_tlv_len(const unsigned char *p, size_t len, size_t *hdr)
{
	size_t		 i, n;
	long long	 l = 0;

	if (len < 2)
		return -1;
	if (p[1] < 0x80) {
		*hdr = 2;
		return 2 + (long long)p[1];
	}
	if (p[1] == 0x80) {
		*hdr = 2;
		return 0;
	}
	n = p[1] & 0x7f;
	if (n > 4 || len < 2 + n)
		return -1;
	for (i = 0; i < n; i++)
		l = (l << 8) | p[2 + i];
	*hdr = 2 + n;
	return (long long)(2 + n) + l;
}

/*
 * Which password opens p12's MAC: the given one first, then the two empty
 * ones ("" from OpenSSL's "pass:", NULL from Windows): a watch's one
 * password file must not hide an unprotected PFX.  Without a MAC, the
 * given password or "".
 */
static int
x509_p12_password(struct x509_file *f, gnutls_pkcs12_t p12,
    const struct x509_load_opts *o, const char **pass, struct cv_err *err)
{
	unsigned	 iter = 0, mac, salt_size;
	unsigned char	 salt[64];
	char		*mac_oid = NULL;
	int		 have_mac;

	*pass = o->password;
	salt_size = sizeof(salt);
	/*
	 * Ask for the MAC's OID even though we do not use it: with NULL,
	 * GnuTLS 3.7 leaks it when the OID names an unknown hash (found by
	 * fuzz/fuzz_x509.c, fuzz/repro/x509/leak-pkcs12-mac-oid).
	 */
	have_mac = gnutls_pkcs12_mac_info(p12, &mac, salt, &salt_size, &iter,
	    &mac_oid) >= 0;
	gnutls_free(mac_oid);
	if (!have_mac) {
		if (*pass == NULL)
			*pass = "";
		return 0;
	}
	if (x509_check_iter(iter, x509_max_iter(o), "PKCS#12 MAC", err) == -1)
		return -1;
	/* Each password tried is one derivation of the MAC key. */
	if (*pass != NULL) {
		if (x509_kdf_spend(f, o, iter, err) == -1)
			return -1;
		if (gnutls_pkcs12_verify_mac(p12, *pass) >= 0)
			return 0;
	}
	if (x509_kdf_spend(f, o, iter, err) == -1)
		return -1;
	if (gnutls_pkcs12_verify_mac(p12, "") >= 0) {
		*pass = "";
		return 0;
	}
	if (x509_kdf_spend(f, o, iter, err) == -1)
		return -1;
	if (gnutls_pkcs12_verify_mac(p12, NULL) >= 0) {
		*pass = NULL;
		return 0;
	}
	return cv_err_set(err, "%s", o->password != NULL ?
	    "wrong PKCS#12 password" : "PKCS#12 is password-protected: no "
	    "password given (use a password file)");
}

/* p12raw's charge for one derivation: the same caps as GnuTLS's bags. */
struct x509_p12_ctx {
	struct x509_file		*f;
	const struct x509_load_opts	*o;
};

static int
x509_p12_spend(void *arg, unsigned iter, struct cv_err *err)
{
	struct x509_p12_ctx	*c = arg;

	if (x509_check_iter(iter, x509_max_iter(c->o), "PKCS#12 bag "
	    "encryption", err) == -1)
		return -1;
	return x509_kdf_spend(c->f, c->o, iter, err);
}

/*
 * A shrouded key GnuTLS decrypted (pw, NULL the absent password) but
 * could not parse: decrypt it here and, if it is an EC key without its
 * curve (keytool's), read it with the curve from its PKCS#8 header.
 */
static int
x509_p12_key_raw(struct x509_file *f, const gnutls_datum_t *d,
    const char *pw, const struct x509_load_opts *o)
{
	struct x509_p12_ctx	 c = { f, o };
	gnutls_x509_privkey_t	 key;
	gnutls_datum_t		 plain, sec1;
	struct cv_err		 e;
	int			 rc;

	if (p12raw_decrypt_pkcs8(d, pw, x509_p12_spend, &c, &plain, &e) == -1)
		return -1;
	rc = p12raw_ec_with_curve(&plain, &sec1);
	gnutls_memset(plain.data, 0, plain.size);
	gnutls_free(plain.data);
	if (rc == -1)
		return -1;
	rc = -1;
	if (gnutls_x509_privkey_init(&key) >= 0) {
		if (gnutls_x509_privkey_import(key, &sec1,
		    GNUTLS_X509_FMT_DER) >= 0) {
			x509_add_key(f, key);
			rc = 0;
		} else
			gnutls_x509_privkey_deinit(key);
	}
	gnutls_memset(sec1.data, 0, sec1.size);
	gnutls_free(sec1.data);
	return rc;
}

/*
 * A shrouded key bag: the password that opened the MAC first, then the
 * two empty ones ("" and the absent NULL), since a bag may use another
 * than the MAC (Windows).  Each try is a derivation, charged first.
 */
static int
x509_p12_shrouded(struct x509_file *f, const gnutls_datum_t *d,
    const char *pass, const struct x509_load_opts *o, struct cv_err *err)
{
	gnutls_x509_privkey_t	 key;
	const char		*pw[3];
	unsigned		 iter = 0;
	int			 i, n = 0, rc = 0;

	pw[n++] = pass;
	if (pass == NULL || *pass != '\0')
		pw[n++] = "";
	if (pass != NULL)
		pw[n++] = NULL;
	if (gnutls_pkcs8_info(d, GNUTLS_X509_FMT_DER, NULL, NULL, NULL, NULL,
	    &iter, NULL) >= 0 && x509_check_iter(iter, x509_max_iter(o),
	    "private key PBKDF2", err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (x509_kdf_spend(f, o, iter, err) == -1)
			return -1;
		if (gnutls_x509_privkey_init(&key) < 0)
			return cv_err_set(err, "out of memory");
		rc = gnutls_x509_privkey_import_pkcs8(key, d,
		    GNUTLS_X509_FMT_DER, pw[i], pw[i] == NULL ?
		    GNUTLS_PKCS_NULL_PASSWORD : 0);
		if (rc >= 0) {
			x509_add_key(f, key);
			return 0;
		}
		gnutls_x509_privkey_deinit(key);
		if (rc == GNUTLS_E_MEMORY_ERROR)
			break;
	}
	/* Out of memory is no reason to read the key another way. */
	for (i = 0; i < n && rc != GNUTLS_E_MEMORY_ERROR; i++)
		if (x509_p12_key_raw(f, d, pw[i], o) == 0)
			return 0;
	if (rc == GNUTLS_E_DECRYPTION_FAILED || rc == GNUTLS_E_PK_INVALID_PRIVKEY)
		return cv_err_set(err, "wrong private key password");
	return cv_err_set(err, "private key: %s", x509_strerror(rc));
}

/* One entry of a bag.  A plain key bag is plain whatever the password. */
static int
x509_p12_item(struct x509_file *f, int type, const gnutls_datum_t *data,
    const char *pass, const struct x509_load_opts *o, struct cv_err *err)
{
	switch (type) {
	case GNUTLS_BAG_CERTIFICATE:
		return x509_add_der_crt(f, data, GNUTLS_X509_FMT_DER, err);
	case GNUTLS_BAG_PKCS8_KEY:
		return x509_add_key_datum(f, data, GNUTLS_X509_FMT_DER, 0,
		    NULL, o, err);
	case GNUTLS_BAG_PKCS8_ENCRYPTED_KEY:
		return x509_p12_shrouded(f, data, pass, o, err);
	default:
		return 0;	/* CRLs, secrets: not ours */
	}
}

/*
 * GnuTLS keeps 32 entries of a bag and drops the rest silently (a Java
 * truststore holds hundreds): a full bag is read again, all of it, by
 * p12raw with the password that opened it.  Returns 1 if p12raw could not
 * read it (err says why), so that the caller keeps GnuTLS's 32 and fails
 * loudly.
 */
static int
x509_p12_raw(struct x509_file *f, const gnutls_datum_t *pfx, int i,
    const char *pass, const struct x509_load_opts *o, struct cv_err *err)
{
	struct x509_p12_ctx	c = { f, o };
	struct p12raw_bag	b;
	size_t			j;
	int			rc = 0;

	if (p12raw_read_bag(pfx, (unsigned)i, pass, x509_p12_spend, &c, &b,
	    err) == -1) {
		p12raw_bag_free(&b);
		cv_err_prefix(err, "PKCS#12 bag %d holds %d entries or more "
		    "and only %d were read", i, X509_P12_GNUTLS_MAX,
		    X509_P12_GNUTLS_MAX);
		return 1;
	}
	for (j = 0; j < b.nitems && rc == 0; j++)
		rc = x509_p12_item(f, b.items[j].type, &b.items[j].data, pass,
		    o, err);
	p12raw_bag_free(&b);
	return rc;
}

/*
 * Decrypts bag i if it is encrypted (with the MAC's password, then ""
 * and NULL), then adds its certificates and keys to f.
 */
static int
x509_p12_bag(struct x509_file *f, const gnutls_datum_t *pfx,
    gnutls_pkcs12_bag_t bag, int i, const char *pass,
    const struct x509_load_opts *o, struct cv_err *err)
{
	gnutls_datum_t	 data;
	struct cv_err	 partial;
	const char	*pw[3];
	unsigned	 iter = 0, salt_size;
	unsigned char	 salt[64];
	int		 rc = 0, j, n, np = 0;

	if (gnutls_pkcs12_bag_get_type(bag, 0) == GNUTLS_BAG_ENCRYPTED) {
		pw[np++] = pass;
		if (pass == NULL || *pass != '\0')
			pw[np++] = "";
		if (pass != NULL)
			pw[np++] = NULL;
		salt_size = sizeof(salt);
		if (gnutls_pkcs12_bag_enc_info(bag, NULL, NULL, salt,
		    &salt_size, &iter, NULL) >= 0 && x509_check_iter(iter,
		    x509_max_iter(o), "PKCS#12 bag encryption", err) == -1)
			return -1;
		for (j = 0; j < np; j++) {
			if (x509_kdf_spend(f, o, iter, err) == -1)
				return -1;
			rc = gnutls_pkcs12_bag_decrypt(bag, pw[j]);
			if (rc >= 0 || rc == GNUTLS_E_MEMORY_ERROR)
				break;
		}
		if (rc < 0 && rc == GNUTLS_E_DECRYPTION_FAILED)
			return cv_err_set(err, "wrong PKCS#12 password");
		if (rc < 0)
			return cv_err_set(err, "PKCS#12 bag %d: %s", i,
			    x509_strerror(rc));
		pass = pw[j];
	}
	n = gnutls_pkcs12_bag_get_count(bag);
	if (n >= X509_P12_GNUTLS_MAX &&
	    (rc = x509_p12_raw(f, pfx, i, pass, o, &partial)) != 1)
		return rc == 0 ? 0 : cv_err_set(err, "%s", partial.msg);
	for (j = 0; j < n; j++) {
		if (gnutls_pkcs12_bag_get_data(bag, (unsigned)j, &data) < 0)
			continue;
		if (x509_p12_item(f, gnutls_pkcs12_bag_get_type(bag,
		    (unsigned)j), &data, pass, o, err) == -1)
			return -1;
	}
	return n >= X509_P12_GNUTLS_MAX ? cv_err_set(err, "%s", partial.msg) :
	    0;
}

static int
x509_load_pkcs12(struct x509_file *f, const gnutls_datum_t *d,
    const struct x509_load_opts *o, struct cv_err *err)
{
	gnutls_pkcs12_t		 p12 = NULL;
	gnutls_pkcs12_bag_t	 bag = NULL;
	const char		*pass;
	int			 rc, i, ret = -1;

	if (gnutls_pkcs12_init(&p12) < 0)
		return cv_err_set(err, "out of memory");
	if ((rc = gnutls_pkcs12_import(p12, d, GNUTLS_X509_FMT_DER, 0)) < 0) {
		cv_err_set(err, "PKCS#12: %s", x509_strerror(rc));
		goto out;
	}
	if (x509_p12_password(f, p12, o, &pass, err) == -1)
		goto out;
	for (i = 0; ; i++) {
		if (gnutls_pkcs12_bag_init(&bag) < 0) {
			cv_err_set(err, "out of memory");
			goto out;
		}
		rc = gnutls_pkcs12_get_bag(p12, i, bag);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0) {
			cv_err_set(err, "PKCS#12 bag %d: %s", i,
			    x509_strerror(rc));
			goto out;
		}
		f->kdf_parts = (unsigned)i + 1;
		if (f->kdf_parts > X509_MAX_BAGS) {
			cv_err_set(err, "PKCS#12: more than %u bags; refusing "
			    "the rest of the file", X509_MAX_BAGS);
			goto out;
		}
		if (x509_p12_bag(f, d, bag, i, pass, o, err) == -1)
			goto out;
		gnutls_pkcs12_bag_deinit(bag);
		bag = NULL;
	}
	ret = 0;
out:
	if (bag != NULL)
		gnutls_pkcs12_bag_deinit(bag);
	gnutls_pkcs12_deinit(p12);
	return ret;
}

static int
x509_load_der(struct x509_file *f, const unsigned char *p, size_t len,
    const struct x509_load_opts *o, struct cv_err *err)
{
	gnutls_datum_t	d;
	long long	total;
	size_t		hdr;

	total = x509_der_tlv_len(p, len, &hdr);
	if (total < 0)
		return cv_err_set(err, "malformed DER (bad length)");
	if (total > 0 && (size_t)total > len)
		return cv_err_set(err, "truncated DER (header says %lld "
		    "bytes, file has %zu)", total, len);
	d.data = (unsigned char *)p;
	/* Trailing bytes after the structure are ignored. */
	d.size = total > 0 ? (unsigned)total : (unsigned)len;

	/* PFX: SEQUENCE { INTEGER 3, ContentInfo, MacData } */
	if (hdr + 3 <= len && p[hdr] == 0x02 && p[hdr + 1] == 0x01 &&
	    p[hdr + 2] == 0x03) {
		f->format = X509_FMT_PKCS12;
		return x509_load_pkcs12(f, &d, o, err);
	}
	f->format = X509_FMT_DER;
	/* CertificateList (issue 13): a Time where a certificate has more. */
	if (crl_der_is_crl(d.data, d.size))
		return crl_add(f, &d, GNUTLS_X509_FMT_DER, err);
	/* Certificate: SEQUENCE { SEQUENCE tbsCertificate, ... } */
	if (hdr < len && p[hdr] == 0x30)
		return x509_add_der_crt(f, &d, GNUTLS_X509_FMT_DER, err);
	/* PKCS#7 SignedData (.p7b): SEQUENCE { OID, [0] ... } */
	if (hdr < len && p[hdr] == 0x06) {
		f->format = X509_FMT_PKCS7;
		return x509_add_pkcs7(f, &d, GNUTLS_X509_FMT_DER, err);
	}
	/* A bare private key (PKCS#1, SEC1 or PKCS#8). */
	if (x509_add_key_datum(f, &d, GNUTLS_X509_FMT_DER, 0, NULL, o,
	    err) == -1)
		return cv_err_set(err, "DER data is neither a certificate, "
		    "PKCS#12, PKCS#7 nor a private key");
	return 0;
}

/* A Microsoft PVK private key (makecert -sv, openssl rsa -outform PVK). */
static int
x509_load_pvk(struct x509_file *f, const unsigned char *p, size_t len,
    const struct x509_load_opts *o, struct cv_err *err)
{
	gnutls_x509_privkey_t	key;

	if (pvk_decode(p, len, o->password, &key, err) == -1)
		return -1;
	x509_add_key(f, key);
	return 0;
}

static enum x509_block
x509_label_kind(const char *label, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(x509_labels) / sizeof(x509_labels[0]); i++)
		if (strlen(x509_labels[i].label) == len &&
		    memcmp(x509_labels[i].label, label, len) == 0)
			return x509_labels[i].kind;
	return BLK_SKIP;
}

static unsigned
x509_line_of(const unsigned char *start, const unsigned char *p)
{
	unsigned	line = 1;

	for (; start < p; start++)
		if (*start == '\n')
			line++;
	return line;
}

/*
 * Handles one PEM block [begin, end) whose label is label.  The block is
 * copied without CRs so that CRLF files decode like LF ones.
 */
static int
x509_pem_block(struct x509_file *f, enum x509_block kind,
    const unsigned char *begin, size_t len, const struct x509_load_opts *o,
    struct cv_err *err)
{
	gnutls_datum_t	 pem, der = { NULL, 0 };
	unsigned char	*copy;
	size_t		 i, n = 0, hdr;
	long long	 tl;
	int		 rc = -1, grc;

	copy = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		if (begin[i] != '\r')
			copy[n++] = begin[i];
	copy[n] = '\0';
	pem.data = copy;
	pem.size = (unsigned)n;

	switch (kind) {
	case BLK_CERT:
		rc = x509_add_der_crt(f, &pem, GNUTLS_X509_FMT_PEM, err);
		break;
	case BLK_TRUSTED_CERT:
		/* OpenSSL -trustout: the certificate, then trust settings. */
		grc = gnutls_pem_base64_decode2("TRUSTED CERTIFICATE", &pem,
		    &der);
		if (grc < 0) {
			cv_err_set(err, "%s", x509_strerror(grc));
			break;
		}
		tl = x509_der_tlv_len(der.data, der.size, &hdr);
		if (tl > 0 && (size_t)tl <= der.size)
			der.size = (unsigned)tl;
		rc = x509_add_der_crt(f, &der, GNUTLS_X509_FMT_DER, err);
		gnutls_free(der.data);
		break;
	case BLK_KEY:
		/* Legacy OpenSSL encryption shows up as a Proc-Type header. */
		rc = x509_add_key_datum(f, &pem, GNUTLS_X509_FMT_PEM,
		    memmem(copy, n, "Proc-Type: 4,ENCRYPTED", 22) != NULL,
		    o->password, o, err);
		break;
	case BLK_ENC_KEY:
		rc = x509_add_key_datum(f, &pem, GNUTLS_X509_FMT_PEM, 1,
		    o->password, o, err);
		break;
	case BLK_PKCS7:
		f->format = X509_FMT_PKCS7;
		rc = x509_add_pkcs7(f, &pem, GNUTLS_X509_FMT_PEM, err);
		break;
	case BLK_CRL:
		rc = crl_add(f, &pem, GNUTLS_X509_FMT_PEM, err);
		break;
	case BLK_SKIP:
		rc = 0;
		break;
	}
	explicit_bzero(copy, n);
	free(copy);
	return rc;
}

/*
 * Splits a PEM bundle.  Anything outside BEGIN/END lines (Bag Attributes
 * preambles, comments, trailing junk) is ignored; a BEGIN without its END
 * is a truncated file.
 */
static int
x509_load_pem(struct x509_file *f, const unsigned char *data, size_t len,
    const struct x509_load_opts *o, int *nblocks, struct cv_err *err)
{
	static const char	 beg[] = "-----BEGIN ", dashes[] = "-----";
	const unsigned char	*p = data, *end = data + len, *b, *lab, *le;
	const unsigned char	*e;
	char			 endmark[128];
	size_t			 lablen;
	enum x509_block		 kind;
	int			 failed = 0;
	struct cv_err		 first;

	*nblocks = 0;
	first.msg[0] = '\0';
	while ((b = memmem(p, (size_t)(end - p), beg, sizeof(beg) - 1))
	    != NULL) {
		lab = b + sizeof(beg) - 1;
		le = memmem(lab, (size_t)(end - lab), dashes,
		    sizeof(dashes) - 1);
		if (le == NULL || le - lab > 64 ||
		    memchr(lab, '\n', (size_t)(le - lab)) != NULL) {
			p = lab;
			continue;
		}
		lablen = (size_t)(le - lab);
		if (++*nblocks > (int)X509_MAX_BLOCKS)
			return cv_err_set(err, "more than %u PEM blocks; "
			    "refusing the file", X509_MAX_BLOCKS);
		f->kdf_parts = (unsigned)*nblocks;
		snprintf(endmark, sizeof(endmark), "-----END %.*s-----",
		    (int)lablen, (const char *)lab);
		e = memmem(le, (size_t)(end - le), endmark, strlen(endmark));
		if (e == NULL)
			return cv_err_set(err, "truncated PEM: BEGIN %.*s at "
			    "line %u has no END line", (int)lablen,
			    (const char *)lab, x509_line_of(data, b));
		e += strlen(endmark);
		kind = x509_label_kind((const char *)lab, lablen);
		if (x509_pem_block(f, kind, b, (size_t)(e - b), o,
		    failed ? NULL : &first) == -1 && !failed) {
			/* Keep going: report the first failure only. */
			failed = 1;
			cv_err_set(err, "%.*s at line %u: %s", (int)lablen,
			    (const char *)lab, x509_line_of(data, b),
			    first.msg);
		}
		p = e;
	}
	return failed ? -1 : 0;
}

/*
 * A DSA certificate whose SubjectPublicKeyInfo omits the parameters takes
 * them from its issuer (RFC 3279 2.3.2, PKITS "DSA parameter
 * inheritance"): GnuTLS cannot read such a key, so it cannot be compared.
 */
int
x509_key_inherits_params(gnutls_x509_crt_t crt)
{
	gnutls_datum_t	p, q, g, y;
	char		oid[64];
	size_t		n = sizeof(oid);
	int		inherits;

	if (gnutls_x509_crt_get_pk_oid(crt, oid, &n) < 0 ||
	    strcmp(oid, "1.2.840.10040.4.1") != 0)
		return 0;
	if (gnutls_x509_crt_get_pk_dsa_raw(crt, &p, &q, &g, &y) < 0)
		return 1;
	inherits = p.size == 0;
	gnutls_free(p.data);
	gnutls_free(q.data);
	gnutls_free(g.data);
	gnutls_free(y.data);
	return inherits;
}

void
x509_file_match_keys(struct x509_file *f)
{
	size_t	i, k;
	int	orphans = 0;

	for (i = 0; i < f->ncerts; i++) {
		for (k = 0; k < f->nkeys; k++) {
			if (memcmp(f->certs[i].key_id, f->keys[k].id, 32) == 0) {
				f->certs[i].has_private_key = 1;
				f->certs[i].key_matches = 1;
				f->keys[k].matched = 1;
			}
		}
	}
	for (k = 0; k < f->nkeys; k++)
		if (!f->keys[k].matched)
			orphans++;
	/*
	 * A key that fits no certificate was meant for the leaf: say that
	 * the leaf has a key and that it does not match, instead of
	 * pretending the file holds no key at all.
	 */
	if (orphans == 0)
		return;
	for (i = 0; i < f->ncerts; i++) {
		if (f->certs[i].is_ca || f->certs[i].has_private_key)
			continue;
		f->certs[i].has_private_key = 1;
		/* Unknown (null), never a false "does not match" alarm. */
		if (!x509_key_inherits_params(f->certs[i].crt))
			f->certs[i].key_matches = 0;
	}
}

int
x509_load_mem(const char *name, const unsigned char *data, size_t len,
    const struct x509_load_opts *opts, struct x509_file **out,
    struct cv_err *err)
{
	static const struct x509_load_opts	 defaults;
	const struct x509_load_opts		*o = opts ? opts : &defaults;
	struct x509_file			*f;
	int					 rc, nblocks = 0;

	*out = NULL;
	if (len == 0)
		return cv_err_set(err, "empty file");
	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(name);
	if (memmem(data, len, "-----BEGIN ", 11) != NULL) {
		f->format = X509_FMT_PEM;
		rc = x509_load_pem(f, data, len, o, &nblocks, err);
		if (rc == 0 && f->ncerts == 0 && f->nkeys == 0 &&
		    f->ncrls == 0)
			rc = cv_err_set(err, "no certificate found (PEM holds "
			    "no certificate, CRL or private key)");
	} else if (data[0] == 0x30) {
		rc = x509_load_der(f, data, len, o, err);
	} else if (pvk_is_pvk(data, len)) {
		f->format = X509_FMT_PVK;
		rc = x509_load_pvk(f, data, len, o, err);
	} else {
		rc = cv_err_set(err, "no certificate found (not PEM, DER or "
		    "PKCS#12)");
	}
	x509_file_match_keys(f);
	if (rc == -1 && f->ncerts == 0 && f->nkeys == 0 && f->ncrls == 0) {
		x509_file_free(f);
		return -1;
	}
	*out = f;
	return rc;
}

int
x509_load_file(const char *path, const struct x509_load_opts *o,
    struct x509_file **out, struct cv_err *err)
{
	return x509_load_path(path, FSUTIL_PROTECTED, o, out, err);
}

int
x509_load_path(const char *path, int policy, const struct x509_load_opts *o,
    struct x509_file **out, struct cv_err *err)
{
	unsigned char	*data;
	size_t		 len;
	int		 rc;

	*out = NULL;
	if (fsutil_read(path, policy, FSUTIL_MAX_FILE, &data, &len, err) == -1)
		return -1;
	rc = x509_load_mem(path, data, len, o, out, err);
	/* The buffer may hold a private key. */
	explicit_bzero(data, len);
	free(data);
	return rc;
}

char *
x509_key_usage_str(unsigned ku, char *buf, size_t len)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ GNUTLS_KEY_DIGITAL_SIGNATURE, "digitalSignature" },
		{ GNUTLS_KEY_NON_REPUDIATION, "nonRepudiation" },
		{ GNUTLS_KEY_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ GNUTLS_KEY_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ GNUTLS_KEY_KEY_AGREEMENT, "keyAgreement" },
		{ GNUTLS_KEY_KEY_CERT_SIGN, "keyCertSign" },
		{ GNUTLS_KEY_CRL_SIGN, "cRLSign" },
		{ GNUTLS_KEY_ENCIPHER_ONLY, "encipherOnly" },
		{ GNUTLS_KEY_DECIPHER_ONLY, "decipherOnly" },
	};
	size_t	i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(ku & names[i].bit))
			continue;
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0,
		    "%s%s", off ? ", " : "", names[i].name);
	}
	return buf;
}

json_t *
x509_cert_json(const struct x509_cert *c, const char *path,
    enum x509_format fmt)
{
	char	 nb[TIMEUTIL_RFC3339_LEN], na[TIMEUTIL_RFC3339_LEN];
	json_t	*o, *san, *eku, *warn;
	size_t	 i;

	san = json_array();
	for (i = 0; i < c->nsan; i++)
		json_array_append_new(san, proto_string(c->san[i]));
	eku = json_array();
	for (i = 0; i < c->neku; i++)
		json_array_append_new(eku, json_string(c->eku[i]));
	o = json_object();
	json_object_set_new(o, "path", proto_string(path));
	json_object_set_new(o, "format", json_string(x509_format_name(fmt)));
	json_object_set_new(o, "index", json_integer(c->index));
	json_object_set_new(o, "sha1", json_string(c->sha1));
	json_object_set_new(o, "sha256", json_string(c->sha256));
	json_object_set_new(o, "subject", json_string(c->subject));
	json_object_set_new(o, "issuer", json_string(c->issuer));
	json_object_set_new(o, "serial", json_string(c->serial));
	json_object_set_new(o, "not_before",
	    json_string(timeutil_rfc3339(c->not_before, nb, sizeof(nb))));
	json_object_set_new(o, "not_after",
	    json_string(timeutil_rfc3339(c->not_after, na, sizeof(na))));
	json_object_set_new(o, "key_type", json_string(c->key_type));
	json_object_set_new(o, "key_bits", json_integer(c->key_bits));
	json_object_set_new(o, "sig_alg", json_string(c->sig_alg));
	json_object_set_new(o, "san", san);
	json_object_set_new(o, "eku", eku);
	json_object_set_new(o, "is_ca", json_boolean(c->is_ca));
	json_object_set_new(o, "has_private_key",
	    json_boolean(c->has_private_key));
	json_object_set_new(o, "key_matches", c->key_matches < 0 ?
	    json_null() : json_boolean(c->key_matches));
	warn = json_array();
	for (i = 0; i < c->nwarn; i++)
		json_array_append_new(warn, json_string(c->warn[i]));
	json_object_set_new(o, "warnings", warn);
	return o;
}
