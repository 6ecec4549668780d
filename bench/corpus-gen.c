/*
 * corpus-gen: writes a benchmark corpus for certvigild.
 *
 *   corpus-gen [-j JOBS] DIR N [SEED]
 *
 * Writes N leaf certificates, one per file, into DIR/dA/dB/dCC/ (three
 * levels, ~100 files per leaf directory), signed by one generated CA.
 * The mix by file is ~80% PEM (plain, with the key appended, with
 * OpenSSL "Bag Attributes" preambles, leaf+CA chains), ~15% DER (.cer,
 * .der) and ~5% PKCS#12 (.pfx, password in DIR/password).  Keys come
 * from a small pool made once (8 ECDSA P-256, 2 RSA 2048), so ~90% of
 * the certificates are ECDSA and ~10% RSA; the time goes into signing
 * and writing, never into key generation.
 *
 * Every choice for certificate i (format, key, serial, names, dates,
 * EKU) comes from a generator seeded with (SEED, i), so the corpus shape
 * is the same for a seed on a given day and JOBS worker processes can
 * each write a slice without talking to each other.  The key pool and
 * PKCS#12 salts come from GnuTLS's RNG: GnuTLS cannot derive an ECDSA
 * key from a seed, so key bytes (and hence thumbprints) differ per run.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "xmalloc.h"

#define CG_EC_KEYS	8
#define CG_RSA_KEYS	2
#define CG_KEYS		(CG_EC_KEYS + CG_RSA_KEYS)
#define CG_PER_DIR	100
#define CG_PASSWORD	"bench"
#define CG_DAY		86400
#define CG_MAX_N	10000000u
#define CG_MAX_JOBS	10	/* one per top directory */

/* DER tags for the PKCS#12 writer. */
#define CG_SEQ		0x30
#define CG_SET		0x31
#define CG_OCTETS	0x04
#define CG_BMP		0x1e
#define CG_CTX0		0xa0	/* [0] EXPLICIT */
#define CG_CTX0_PRIM	0x80	/* [0] IMPLICIT OCTET STRING */

enum cg_format {
	CG_PEM = 0,	/* one certificate */
	CG_PEM_KEY,	/* certificate then its PKCS#8 key */
	CG_PEM_BAG,	/* openssl pkcs12 -nodes output: Bag Attributes */
	CG_PEM_CHAIN,	/* leaf then CA */
	CG_DER,
	CG_PFX,
	CG_NFORMATS
};

static const char *cg_format_names[CG_NFORMATS] = {
	"pem", "pem+key", "pem+bag-attributes", "pem-chain", "der", "pkcs12"
};

struct cg_buf {
	char	*p;
	size_t	 len;
	size_t	 size;
};

struct cg_key {
	gnutls_x509_privkey_t	 key;
	gnutls_datum_t		 pem;		/* PKCS#8 PEM, unencrypted */
	struct cg_buf		 p8enc;		/* EncryptedPrivateKeyInfo */
	unsigned char		 id[20];	/* SHA-1 SKI */
	size_t			 idlen;
	int			 rsa;
};

/* Everything random about one certificate, fixed by (seed, index). */
struct cg_plan {
	enum cg_format		 format;
	unsigned		 key;		/* index into the pool */
	unsigned char		 serial[16];
	time_t			 not_before;
	time_t			 not_after;
	int			 client;	/* clientAuth only */
	int			 both;		/* serverAuth and clientAuth */
	int			 alt_ext;	/* .crt/.der instead of .pem/.cer */
	uint64_t		 rs;		/* the generator, for salts */
};

struct cg_ctx {
	const char		*dir;
	uint64_t		 seed;
	time_t			 now;
	struct cg_key		 keys[CG_KEYS];
	gnutls_x509_crt_t	 ca;
	gnutls_x509_privkey_t	 ca_x509key;
	gnutls_privkey_t	 ca_key;
	gnutls_datum_t		 ca_pem;
	unsigned char		 ca_id[20];
	size_t			 ca_idlen;
	char			 lastdir[PATH_MAX];
};

static void	cg_buf_add(struct cg_buf *, const void *, size_t);
static void	cg_der_add(struct cg_buf *, unsigned char, struct cg_buf *);
static void	cg_pbes2(const unsigned char *, const unsigned char *,
		    const void *, size_t, struct cg_buf *, struct cg_buf *);

static void __attribute__((noreturn, format(printf, 1, 2)))
cg_fatal(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "corpus-gen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void
cg_check(int rc, const char *what)
{
	if (rc < 0)
		cg_fatal("%s: %s", what, gnutls_strerror(rc));
}

/* splitmix64: tiny, good enough for picking formats and serials. */
static uint64_t
cg_rand(uint64_t *s)
{
	uint64_t	z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
cg_uniform(uint64_t *s, uint64_t n)
{
	return cg_rand(s) % n;
}

static void
cg_plan(const struct cg_ctx *ctx, unsigned i, struct cg_plan *p)
{
	uint64_t	s = ctx->seed * 0x100000001b3ULL ^ ((uint64_t)i << 20);
	uint64_t	r, left, life;
	unsigned	k;

	memset(p, 0, sizeof(*p));
	cg_rand(&s);

	r = cg_uniform(&s, 100);
	if (r < 5)
		p->format = CG_PFX;
	else if (r < 20)
		p->format = CG_DER;
	else if (r < 60)
		p->format = CG_PEM;
	else if (r < 72)
		p->format = CG_PEM_KEY;
	else if (r < 86)
		p->format = CG_PEM_BAG;
	else
		p->format = CG_PEM_CHAIN;
	p->alt_ext = cg_uniform(&s, 2);

	if (cg_uniform(&s, 10) == 0)
		p->key = CG_EC_KEYS + cg_uniform(&s, CG_RSA_KEYS);
	else
		p->key = cg_uniform(&s, CG_EC_KEYS);

	for (k = 0; k < sizeof(p->serial); k += 8) {
		r = cg_rand(&s);
		memcpy(p->serial + k, &r, 8);
	}
	/* Positive and without a leading zero octet, as RFC 5280 wants. */
	p->serial[0] = (p->serial[0] & 0x7f) | 0x40;

	/*
	 * Days left spread evenly from 60 days expired to 398 days ahead;
	 * the lifetime is 90, 180, 365 or 398 days, longer if needed so
	 * that the certificate is already valid.
	 */
	left = cg_uniform(&s, (uint64_t)(60 + 398) * CG_DAY);
	p->not_after = ctx->now - 60 * CG_DAY + (time_t)left;
	switch (cg_uniform(&s, 4)) {
	case 0:
		life = 90;
		break;
	case 1:
		life = 180;
		break;
	case 2:
		life = 365;
		break;
	default:
		life = 398;
		break;
	}
	p->not_before = p->not_after - (time_t)life * CG_DAY;
	if (p->not_before > ctx->now - 3600)
		p->not_before = ctx->now - 3600;

	r = cg_uniform(&s, 100);
	p->client = r < 15;
	p->both = r >= 15 && r < 25;
	p->rs = s;
}

static void
cg_key_make(struct cg_key *k, int rsa)
{
	struct cg_buf	enc = { NULL, 0, 0 }, ct = { NULL, 0, 0 };
	gnutls_datum_t	der;
	unsigned char	salt[8], iv[16];
	size_t		len = sizeof(k->id);

	k->rsa = rsa;
	cg_check(gnutls_x509_privkey_init(&k->key), "privkey_init");
	if (rsa)
		cg_check(gnutls_x509_privkey_generate(k->key, GNUTLS_PK_RSA,
		    2048, 0), "generate RSA key");
	else
		cg_check(gnutls_x509_privkey_generate(k->key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
		    "generate ECDSA key");
	cg_check(gnutls_x509_privkey_export2_pkcs8(k->key, GNUTLS_X509_FMT_PEM,
	    NULL, GNUTLS_PKCS_PLAIN, &k->pem), "export key");
	/*
	 * The encrypted PKCS#8 is made once per pool key and shared by
	 * every .pfx using that key: a reader still pays one key
	 * derivation per file, the generator does not.
	 */
	cg_check(gnutls_x509_privkey_export2_pkcs8(k->key, GNUTLS_X509_FMT_DER,
	    NULL, GNUTLS_PKCS_PLAIN, &der), "export key");
	cg_check(gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof(salt)), "rnd");
	cg_check(gnutls_rnd(GNUTLS_RND_NONCE, iv, sizeof(iv)), "rnd");
	cg_pbes2(salt, iv, der.data, der.size, &enc, &ct);
	cg_der_add(&enc, CG_OCTETS, &ct);
	cg_der_add(&k->p8enc, CG_SEQ, &enc);
	gnutls_free(der.data);
	cg_check(gnutls_x509_privkey_get_key_id(k->key, GNUTLS_KEYID_USE_SHA1,
	    k->id, &len), "key id");
	k->idlen = len;
}

static void
cg_ca_make(struct cg_ctx *ctx)
{
	unsigned char	serial[8] = { 0x01, 0x23, 0x45, 0x67, 0, 0, 0, 1 };
	size_t		len = sizeof(ctx->ca_id);
	static const char cn[] = "certvigil bench CA";

	cg_check(gnutls_x509_privkey_init(&ctx->ca_x509key), "privkey_init");
	cg_check(gnutls_x509_privkey_generate(ctx->ca_x509key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    "generate CA key");
	cg_check(gnutls_privkey_init(&ctx->ca_key), "privkey_init");
	cg_check(gnutls_privkey_import_x509(ctx->ca_key, ctx->ca_x509key, 0),
	    "import CA key");
	/* RFC 6979 signatures: no RNG call per certificate. */
	gnutls_privkey_set_flags(ctx->ca_key, GNUTLS_PRIVKEY_FLAG_REPRODUCIBLE);

	cg_check(gnutls_x509_crt_init(&ctx->ca), "crt_init");
	cg_check(gnutls_x509_crt_set_version(ctx->ca, 3), "set_version");
	cg_check(gnutls_x509_crt_set_serial(ctx->ca, serial, sizeof(serial)),
	    "set_serial");
	cg_check(gnutls_x509_crt_set_dn_by_oid(ctx->ca,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, sizeof(cn) - 1), "set CA dn");
	cg_check(gnutls_x509_crt_set_activation_time(ctx->ca,
	    ctx->now - 400 * CG_DAY), "set_activation_time");
	cg_check(gnutls_x509_crt_set_expiration_time(ctx->ca,
	    ctx->now + 3650 * CG_DAY), "set_expiration_time");
	cg_check(gnutls_x509_crt_set_key(ctx->ca, ctx->ca_x509key), "set_key");
	cg_check(gnutls_x509_crt_set_basic_constraints(ctx->ca, 1, -1),
	    "set_basic_constraints");
	cg_check(gnutls_x509_crt_set_key_usage(ctx->ca,
	    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), "set_key_usage");
	cg_check(gnutls_x509_privkey_get_key_id(ctx->ca_x509key,
	    GNUTLS_KEYID_USE_SHA1, ctx->ca_id, &len), "CA key id");
	ctx->ca_idlen = len;
	cg_check(gnutls_x509_crt_set_subject_key_id(ctx->ca, ctx->ca_id,
	    ctx->ca_idlen), "set_subject_key_id");
	cg_check(gnutls_x509_crt_privkey_sign(ctx->ca, ctx->ca, ctx->ca_key,
	    GNUTLS_DIG_SHA256, 0), "sign CA");
	cg_check(gnutls_x509_crt_export2(ctx->ca, GNUTLS_X509_FMT_PEM,
	    &ctx->ca_pem), "export CA");
}

/* The leaf for plan p; the caller deinits it. */
static gnutls_x509_crt_t
cg_leaf_make(struct cg_ctx *ctx, unsigned i, const struct cg_plan *p,
    const char *cn)
{
	gnutls_x509_crt_t	 crt;
	const struct cg_key	*k = &ctx->keys[p->key];
	char			 san[96];
	unsigned		 usage;

	cg_check(gnutls_x509_crt_init(&crt), "crt_init");
	cg_check(gnutls_x509_crt_set_version(crt, 3), "set_version");
	cg_check(gnutls_x509_crt_set_serial(crt, p->serial,
	    sizeof(p->serial)), "set_serial");
	cg_check(gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "certvigil bench", 15),
	    "set O");
	cg_check(gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)), "set CN");
	cg_check(gnutls_x509_crt_set_activation_time(crt, p->not_before),
	    "set_activation_time");
	cg_check(gnutls_x509_crt_set_expiration_time(crt, p->not_after),
	    "set_expiration_time");
	cg_check(gnutls_x509_crt_set_key(crt, k->key), "set_key");
	cg_check(gnutls_x509_crt_set_basic_constraints(crt, 0, -1),
	    "set_basic_constraints");
	usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	if (k->rsa)
		usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	cg_check(gnutls_x509_crt_set_key_usage(crt, usage), "set_key_usage");
	if (!p->client)
		cg_check(gnutls_x509_crt_set_key_purpose_oid(crt,
		    GNUTLS_KP_TLS_WWW_SERVER, 0), "set EKU");
	if (p->client || p->both)
		cg_check(gnutls_x509_crt_set_key_purpose_oid(crt,
		    GNUTLS_KP_TLS_WWW_CLIENT, 0), "set EKU");
	cg_check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    cn, strlen(cn), GNUTLS_FSAN_SET), "set SAN");
	snprintf(san, sizeof(san), "alt-%07u.bench.test", i);
	cg_check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    san, strlen(san), GNUTLS_FSAN_APPEND), "set SAN");
	cg_check(gnutls_x509_crt_set_subject_key_id(crt, k->id, k->idlen),
	    "set_subject_key_id");
	cg_check(gnutls_x509_crt_set_authority_key_id(crt, ctx->ca_id,
	    ctx->ca_idlen), "set_authority_key_id");
	cg_check(gnutls_x509_crt_privkey_sign(crt, ctx->ca, ctx->ca_key,
	    GNUTLS_DIG_SHA256, 0), "sign");
	return crt;
}

static void
cg_buf_add(struct cg_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->size) {
		b->size = (b->len + n) * 2;
		b->p = xrealloc(b->p, b->size);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void __attribute__((format(printf, 2, 3)))
cg_buf_printf(struct cg_buf *b, const char *fmt, ...)
{
	char	 line[512];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		cg_fatal("preamble line too long");
	cg_buf_add(b, line, n);
}

/* "5C:3B:..." as OpenSSL prints localKeyID. */
static void
cg_buf_hex(struct cg_buf *b, const unsigned char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		cg_buf_printf(b, "%s%02X", i ? " " : "", p[i]);
}

/*
 * PKCS#12 is written by hand because GnuTLS 3.7 fixes its PBKDF2 and MAC
 * iteration counts at 600,000, which makes each file cost a reader about
 * a third of a second.  OpenSSL 3's defaults are what people deploy:
 * PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC) for the
 * certificate bag and the shrouded key bag, and an HMAC-SHA256 MAC with
 * the RFC 7292 key derivation at 2048 iterations.
 */
#define CG_PFX_ITER	2048

static const unsigned char cg_oid_data[] = {
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const unsigned char cg_oid_encrypted_data[] = {
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06 };
static const unsigned char cg_oid_shrouded_key_bag[] = {
	0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01,
	0x02 };
static const unsigned char cg_oid_cert_bag[] = {
	0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01,
	0x03 };
static const unsigned char cg_oid_x509_cert[] = {
	0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01 };
static const unsigned char cg_oid_local_key_id[] = {
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x15 };
static const unsigned char cg_oid_friendly_name[] = {
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x14 };
static const unsigned char cg_oid_pbes2[] = {
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d };
static const unsigned char cg_oid_pbkdf2[] = {
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c };
static const unsigned char cg_oid_hmac_sha256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09 };
static const unsigned char cg_oid_aes256_cbc[] = {
	0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a };
static const unsigned char cg_oid_sha256[] = {
	0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const unsigned char cg_der_null[] = { 0x05, 0x00 };
/* INTEGER 2048, 3 and 0. */
static const unsigned char cg_der_iter[] = { 0x02, 0x02, 0x08, 0x00 };
static const unsigned char cg_der_v3[] = { 0x02, 0x01, 0x03 };
static const unsigned char cg_der_v0[] = { 0x02, 0x01, 0x00 };

static void
cg_der_tlv(struct cg_buf *b, unsigned char tag, const void *p, size_t n)
{
	unsigned char	h[6];
	size_t		hl = 0;

	h[hl++] = tag;
	if (n < 0x80)
		h[hl++] = n;
	else if (n < 0x100) {
		h[hl++] = 0x81;
		h[hl++] = n;
	} else if (n < 0x10000) {
		h[hl++] = 0x82;
		h[hl++] = n >> 8;
		h[hl++] = n;
	} else if (n < 0x1000000) {
		h[hl++] = 0x83;
		h[hl++] = n >> 16;
		h[hl++] = n >> 8;
		h[hl++] = n;
	} else
		cg_fatal("DER value too long");
	cg_buf_add(b, h, hl);
	cg_buf_add(b, p, n);
}

/* Wraps the whole of b in one TLV. */
static void
cg_der_wrap(struct cg_buf *b, unsigned char tag)
{
	struct cg_buf	t = { NULL, 0, 0 };

	cg_der_tlv(&t, tag, b->p, b->len);
	free(b->p);
	*b = t;
}

/* Appends inner (then frees it) wrapped in tag. */
static void
cg_der_add(struct cg_buf *b, unsigned char tag, struct cg_buf *inner)
{
	cg_der_tlv(b, tag, inner->p, inner->len);
	free(inner->p);
	memset(inner, 0, sizeof(*inner));
}

/*
 * PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC: appends the
 * AlgorithmIdentifier to alg and the ciphertext to ct.  salt is 8 bytes,
 * iv 16.
 */
static void
cg_pbes2(const unsigned char *salt, const unsigned char *iv,
    const void *plain, size_t len, struct cg_buf *alg, struct cg_buf *ct)
{
	gnutls_datum_t		pw = { (unsigned char *)CG_PASSWORD,
				    sizeof(CG_PASSWORD) - 1 };
	gnutls_datum_t		sd = { (unsigned char *)salt, 8 };
	gnutls_datum_t		kd, ivd = { (unsigned char *)iv, 16 };
	gnutls_cipher_hd_t	h;
	unsigned char		key[32], *buf;
	size_t			pad = 16 - len % 16, n = len + pad;
	struct cg_buf		kdf = { NULL, 0, 0 }, prm = { NULL, 0, 0 };
	struct cg_buf		enc = { NULL, 0, 0 }, s = { NULL, 0, 0 };

	cg_check(gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &sd, CG_PFX_ITER, key,
	    sizeof(key)), "pbkdf2");
	kd.data = key;
	kd.size = sizeof(key);
	buf = xmalloc(n);
	memcpy(buf, plain, len);
	memset(buf + len, (int)pad, pad);
	cg_check(gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_256_CBC, &kd, &ivd),
	    "cipher_init");
	cg_check(gnutls_cipher_encrypt2(h, buf, n, buf, n), "encrypt");
	gnutls_cipher_deinit(h);
	cg_buf_add(ct, buf, n);
	free(buf);

	/* PBKDF2-params: salt, iterationCount, prf. */
	cg_der_tlv(&prm, CG_OCTETS, salt, 8);
	cg_buf_add(&prm, cg_der_iter, sizeof(cg_der_iter));
	cg_buf_add(&s, cg_oid_hmac_sha256, sizeof(cg_oid_hmac_sha256));
	cg_buf_add(&s, cg_der_null, sizeof(cg_der_null));
	cg_der_add(&prm, CG_SEQ, &s);
	cg_buf_add(&kdf, cg_oid_pbkdf2, sizeof(cg_oid_pbkdf2));
	cg_der_add(&kdf, CG_SEQ, &prm);

	cg_buf_add(&enc, cg_oid_aes256_cbc, sizeof(cg_oid_aes256_cbc));
	cg_der_tlv(&enc, CG_OCTETS, iv, 16);

	cg_der_add(&s, CG_SEQ, &kdf);
	cg_der_add(&s, CG_SEQ, &enc);
	cg_buf_add(&prm, cg_oid_pbes2, sizeof(cg_oid_pbes2));
	cg_der_add(&prm, CG_SEQ, &s);
	cg_der_add(alg, CG_SEQ, &prm);
	explicit_bzero(key, sizeof(key));
}

/* bagAttributes: localKeyId and friendlyName (BMPString). */
static void
cg_bag_attrs(struct cg_buf *b, const struct cg_key *k, const char *cn)
{
	struct cg_buf	attrs = { NULL, 0, 0 }, a = { NULL, 0, 0 };
	struct cg_buf	v = { NULL, 0, 0 }, bmp = { NULL, 0, 0 };
	unsigned char	c[2];

	cg_buf_add(&a, cg_oid_local_key_id, sizeof(cg_oid_local_key_id));
	cg_der_tlv(&v, CG_OCTETS, k->id, k->idlen);
	cg_der_add(&a, CG_SET, &v);
	cg_der_add(&attrs, CG_SEQ, &a);

	for (; *cn != '\0'; cn++) {
		c[0] = 0;
		c[1] = (unsigned char)*cn;
		cg_buf_add(&bmp, c, 2);
	}
	cg_buf_add(&a, cg_oid_friendly_name, sizeof(cg_oid_friendly_name));
	cg_der_add(&v, CG_BMP, &bmp);
	cg_der_add(&a, CG_SET, &v);
	cg_der_add(&attrs, CG_SEQ, &a);

	cg_der_add(b, CG_SET, &attrs);
}

/*
 * The RFC 7292 appendix B key derivation with SHA-256 (u = 32, v = 64)
 * for one 32-byte key, ID 3 (MAC key).
 */
static void
cg_p12_kdf(const unsigned char *salt, size_t saltlen, unsigned char out[32])
{
	static const char	 pw[] = CG_PASSWORD;
	unsigned char		 di[64 + 64 + 64];
	size_t			 i, plen = 2 * sizeof(pw);	/* BMP + NUL */
	gnutls_hash_hd_t	 h;
	unsigned		 r;

	if (saltlen > 64 || plen > 64)
		cg_fatal("PKCS#12 KDF input too long");
	memset(di, 3, 64);
	for (i = 0; i < 64; i++)
		di[64 + i] = salt[i % saltlen];
	for (i = 0; i < 64; i++)
		di[128 + i] = i % plen % 2 == 0 ? 0 :
		    (unsigned char)pw[i % plen / 2];
	cg_check(gnutls_hash_fast(GNUTLS_DIG_SHA256, di, sizeof(di), out),
	    "hash");
	cg_check(gnutls_hash_init(&h, GNUTLS_DIG_SHA256), "hash_init");
	for (r = 1; r < CG_PFX_ITER; r++) {
		gnutls_hash(h, out, 32);
		gnutls_hash_output(h, out);
	}
	gnutls_hash_deinit(h, NULL);
}

static void
cg_pfx(struct cg_ctx *ctx, gnutls_x509_crt_t crt, const struct cg_key *k,
    const char *cn, uint64_t *rs, struct cg_buf *out)
{
	struct cg_buf	 bag = { NULL, 0, 0 }, v = { NULL, 0, 0 };
	struct cg_buf	 safe = { NULL, 0, 0 }, auth = { NULL, 0, 0 };
	struct cg_buf	 ci = { NULL, 0, 0 }, eci = { NULL, 0, 0 };
	struct cg_buf	 ct = { NULL, 0, 0 }, mac = { NULL, 0, 0 };
	gnutls_datum_t	 der;
	unsigned char	 salt[8], iv[16], mkey[32], digest[32];
	uint64_t	 r;
	size_t		 i;

	/* Salts and IVs from the plan's generator: same seed, same bytes. */
	for (i = 0; i < sizeof(iv); i += 8) {
		r = cg_rand(rs);
		memcpy(iv + i, &r, 8);
	}
	r = cg_rand(rs);
	memcpy(salt, &r, 8);

	/* SafeContents { certBag } */
	cg_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der),
	    "export");
	cg_buf_add(&v, cg_oid_x509_cert, sizeof(cg_oid_x509_cert));
	cg_der_tlv(&ci, CG_OCTETS, der.data, der.size);
	gnutls_free(der.data);
	cg_der_add(&v, CG_CTX0, &ci);
	cg_der_wrap(&v, CG_SEQ);
	cg_buf_add(&bag, cg_oid_cert_bag, sizeof(cg_oid_cert_bag));
	cg_der_add(&bag, CG_CTX0, &v);
	cg_bag_attrs(&bag, k, cn);
	cg_der_add(&safe, CG_SEQ, &bag);
	cg_der_wrap(&safe, CG_SEQ);

	/* ContentInfo { encryptedData { 0, { data, PBES2, [0] ct } } } */
	cg_buf_add(&eci, cg_oid_data, sizeof(cg_oid_data));
	cg_pbes2(salt, iv, safe.p, safe.len, &eci, &ct);
	free(safe.p);
	memset(&safe, 0, sizeof(safe));
	cg_der_add(&eci, CG_CTX0_PRIM, &ct);
	cg_buf_add(&v, cg_der_v0, sizeof(cg_der_v0));
	cg_der_add(&v, CG_SEQ, &eci);
	cg_der_wrap(&v, CG_SEQ);
	cg_buf_add(&ci, cg_oid_encrypted_data, sizeof(cg_oid_encrypted_data));
	cg_der_add(&ci, CG_CTX0, &v);
	cg_der_add(&auth, CG_SEQ, &ci);

	/* ContentInfo { data, SafeContents { pkcs8ShroudedKeyBag } } */
	cg_buf_add(&bag, cg_oid_shrouded_key_bag,
	    sizeof(cg_oid_shrouded_key_bag));
	cg_der_tlv(&bag, CG_CTX0, k->p8enc.p, k->p8enc.len);
	cg_bag_attrs(&bag, k, cn);
	cg_der_add(&safe, CG_SEQ, &bag);
	cg_der_wrap(&safe, CG_SEQ);
	cg_der_wrap(&safe, CG_OCTETS);
	cg_buf_add(&ci, cg_oid_data, sizeof(cg_oid_data));
	cg_der_add(&ci, CG_CTX0, &safe);
	cg_der_add(&auth, CG_SEQ, &ci);
	cg_der_wrap(&auth, CG_SEQ);

	/* MacData over the AuthenticatedSafe's encoding. */
	r = cg_rand(rs);
	memcpy(salt, &r, 8);
	cg_p12_kdf(salt, sizeof(salt), mkey);
	cg_check(gnutls_hmac_fast(GNUTLS_MAC_SHA256, mkey, sizeof(mkey),
	    auth.p, auth.len, digest), "hmac");
	cg_buf_add(&v, cg_oid_sha256, sizeof(cg_oid_sha256));
	cg_buf_add(&v, cg_der_null, sizeof(cg_der_null));
	cg_der_wrap(&v, CG_SEQ);
	cg_der_tlv(&v, CG_OCTETS, digest, sizeof(digest));
	cg_der_add(&mac, CG_SEQ, &v);
	cg_der_tlv(&mac, CG_OCTETS, salt, sizeof(salt));
	cg_buf_add(&mac, cg_der_iter, sizeof(cg_der_iter));

	/* PFX { 3, ContentInfo { data, [0] OCTET STRING auth }, MacData } */
	cg_der_wrap(&auth, CG_OCTETS);
	cg_buf_add(&ci, cg_oid_data, sizeof(cg_oid_data));
	cg_der_add(&ci, CG_CTX0, &auth);
	cg_buf_add(&v, cg_der_v3, sizeof(cg_der_v3));
	cg_der_add(&v, CG_SEQ, &ci);
	cg_der_add(&v, CG_SEQ, &mac);
	cg_der_tlv(out, CG_SEQ, v.p, v.len);
	free(v.p);
	explicit_bzero(mkey, sizeof(mkey));
}

static void
cg_write(const char *path, const void *p, size_t len)
{
	int	fd;

	if ((fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)) == -1)
		cg_fatal("%s: %s", path, strerror(errno));
	if (write(fd, p, len) != (ssize_t)len)
		cg_fatal("%s: short write", path);
	if (close(fd) == -1)
		cg_fatal("%s: %s", path, strerror(errno));
}

static void
cg_mkdirs(const char *path)
{
	char	 copy[PATH_MAX], *p;

	if (strlen(path) >= sizeof(copy))
		cg_fatal("%s: path too long", path);
	strcpy(copy, path);
	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, 0755) == -1 && errno != EEXIST)
			cg_fatal("mkdir %s: %s", copy, strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
}

/* The leaf directory of certificate i: DIR/dA/dB/dCC. */
static void
cg_dir(const struct cg_ctx *ctx, unsigned i, char *buf, size_t len)
{
	unsigned	leaf = i / CG_PER_DIR;

	if ((size_t)snprintf(buf, len, "%s/d%u/d%u/d%02u", ctx->dir,
	    leaf % 10, (leaf / 10) % 10, leaf / 100) >= len)
		cg_fatal("%s: path too long", ctx->dir);
}

static void
cg_one(struct cg_ctx *ctx, unsigned i, struct cg_buf *b)
{
	struct cg_plan		 p;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 d;
	const struct cg_key	*k;
	char			 dir[PATH_MAX], path[PATH_MAX], cn[64];
	const char		*name;

	cg_plan(ctx, i, &p);
	k = &ctx->keys[p.key];
	snprintf(cn, sizeof(cn), "h%07u-%" PRIx64 ".bench.test", i,
	    ctx->seed);
	crt = cg_leaf_make(ctx, i, &p, cn);

	cg_dir(ctx, i, dir, sizeof(dir));
	if (strcmp(dir, ctx->lastdir) != 0) {
		cg_mkdirs(dir);
		strcpy(ctx->lastdir, dir);
	}

	b->len = 0;
	switch (p.format) {
	case CG_PEM:
		name = p.alt_ext ? "crt" : "pem";
		cg_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d),
		    "export");
		cg_buf_add(b, d.data, d.size);
		gnutls_free(d.data);
		break;
	case CG_PEM_KEY:
		name = "bundle.pem";
		cg_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d),
		    "export");
		cg_buf_add(b, d.data, d.size);
		gnutls_free(d.data);
		cg_buf_add(b, k->pem.data, k->pem.size);
		break;
	case CG_PEM_BAG:
		name = "nodes.pem";
		cg_buf_printf(b, "Bag Attributes\n    localKeyID: ");
		cg_buf_hex(b, k->id, k->idlen);
		cg_buf_printf(b, "\n    friendlyName: %s\n", cn);
		cg_buf_printf(b, "subject=O = certvigil bench, CN = %s\n", cn);
		cg_buf_printf(b, "issuer=CN = certvigil bench CA\n");
		cg_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d),
		    "export");
		cg_buf_add(b, d.data, d.size);
		gnutls_free(d.data);
		cg_buf_printf(b, "Bag Attributes\n    localKeyID: ");
		cg_buf_hex(b, k->id, k->idlen);
		cg_buf_printf(b, "\n    friendlyName: %s\n", cn);
		cg_buf_printf(b, "Key Attributes: <No Attributes>\n");
		cg_buf_add(b, k->pem.data, k->pem.size);
		break;
	case CG_PEM_CHAIN:
		name = "fullchain.pem";
		cg_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d),
		    "export");
		cg_buf_add(b, d.data, d.size);
		gnutls_free(d.data);
		cg_buf_add(b, ctx->ca_pem.data, ctx->ca_pem.size);
		break;
	case CG_DER:
		name = p.alt_ext ? "der" : "cer";
		cg_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d),
		    "export");
		cg_buf_add(b, d.data, d.size);
		gnutls_free(d.data);
		break;
	case CG_PFX:
		name = "pfx";
		cg_pfx(ctx, crt, k, cn, &p.rs, b);
		break;
	default:
		cg_fatal("bad format %d", p.format);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/h%07u.%s", dir, i, name) >=
	    sizeof(path))
		cg_fatal("%s: path too long", dir);
	cg_write(path, b->p, b->len);
	gnutls_x509_crt_deinit(crt);
}

/*
 * Writes the share of worker j of jobs: the certificates whose top
 * directory (dA) is j modulo jobs, so that no two workers create files
 * in one directory tree and contend for its locks.
 */
static void
cg_worker(struct cg_ctx *ctx, unsigned n, unsigned j, unsigned jobs)
{
	struct cg_buf	b = { NULL, 0, 0 };
	unsigned	i;

	for (i = 0; i < n; i++)
		if (i / CG_PER_DIR % 10 % jobs == j)
			cg_one(ctx, i, &b);
	free(b.p);
}

static double
cg_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long
cg_number(const char *s, unsigned long long max, const char *what)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *s == '\0' || *end != '\0' || *s == '-' || v > max)
		cg_fatal("bad %s: %s", what, s);
	return v;
}

static void __attribute__((noreturn))
cg_usage(void)
{
	fprintf(stderr, "usage: corpus-gen [-j JOBS] DIR N [SEED]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct cg_ctx	 ctx;
	struct cg_plan	 p;
	unsigned	 n, jobs = 1, j, i, counts[CG_NFORMATS], rsa = 0;
	char		 path[PATH_MAX];
	pid_t		 pids[CG_MAX_JOBS];
	int		 ch, status, rc = 0;
	double		 t0;

	while ((ch = getopt(argc, argv, "j:")) != -1) {
		switch (ch) {
		case 'j':
			jobs = cg_number(optarg, CG_MAX_JOBS, "job count");
			if (jobs == 0)
				cg_usage();
			break;
		default:
			cg_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3)
		cg_usage();

	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = argv[0];
	n = cg_number(argv[1], CG_MAX_N, "count");
	ctx.seed = argc > 2 ? cg_number(argv[2], UINT64_MAX, "seed") : 1;
	/* Day-aligned, so one seed gives the same dates all day. */
	ctx.now = time(NULL) / CG_DAY * CG_DAY;

	t0 = cg_now();
	cg_check(gnutls_global_init(), "global_init");
	cg_mkdirs(ctx.dir);
	if ((size_t)snprintf(path, sizeof(path), "%s/password", ctx.dir) >=
	    sizeof(path))
		cg_fatal("%s: path too long", ctx.dir);
	cg_write(path, CG_PASSWORD "\n", sizeof(CG_PASSWORD));

	for (i = 0; i < CG_KEYS; i++)
		cg_key_make(&ctx.keys[i], i >= CG_EC_KEYS);
	cg_ca_make(&ctx);

	if (jobs == 1)
		cg_worker(&ctx, n, 0, 1);
	else {
		fflush(stdout);
		for (j = 0; j < jobs; j++) {
			if ((pids[j] = fork()) == -1)
				cg_fatal("fork: %s", strerror(errno));
			if (pids[j] == 0) {
				cg_worker(&ctx, n, j, jobs);
				_exit(0);
			}
		}
		for (j = 0; j < jobs; j++) {
			if (waitpid(pids[j], &status, 0) == -1)
				cg_fatal("waitpid: %s", strerror(errno));
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				rc = 1;
		}
		if (rc != 0)
			cg_fatal("a worker failed");
	}

	/* The plan is cheap to replay: count what was written. */
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < n; i++) {
		cg_plan(&ctx, i, &p);
		counts[p.format]++;
		rsa += ctx.keys[p.key].rsa;
	}
	printf("corpus-gen: %u certificates in %s in %.2f s (%u jobs, "
	    "seed %" PRIu64 ")\n", n, ctx.dir, cg_now() - t0, jobs, ctx.seed);
	for (i = 0; i < CG_NFORMATS; i++)
		printf("  %-20s %u\n", cg_format_names[i], counts[i]);
	printf("  %-20s %u\n", "rsa-2048", rsa);
	printf("  %-20s %u\n", "ecdsa-p256", n - rsa);

	for (i = 0; i < CG_KEYS; i++) {
		gnutls_free(ctx.keys[i].pem.data);
		free(ctx.keys[i].p8enc.p);
		gnutls_x509_privkey_deinit(ctx.keys[i].key);
	}
	gnutls_free(ctx.ca_pem.data);
	gnutls_x509_crt_deinit(ctx.ca);
	gnutls_privkey_deinit(ctx.ca_key);
	gnutls_x509_privkey_deinit(ctx.ca_x509key);
	gnutls_global_deinit();
	return 0;
}
