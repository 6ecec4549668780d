#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/pkcs12.h>
#include <nettle/ecc.h>
#include <nettle/ecc-curve.h>

#include "p12raw.h"
#include "xmalloc.h"

/* SafeBags kept from one bag; the PEM path's block limit, for the same
 * reason (a 16 MiB file of tiny bags). */
#define P12RAW_MAX_ITEMS	10000u

struct der {
	const unsigned char	*p;
	size_t			 len;
};

/* OIDs as their DER contents. */
#define OID_PKCS	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d
static const unsigned char oid_data[] = { OID_PKCS, 1, 7, 1 };
static const unsigned char oid_encdata[] = { OID_PKCS, 1, 7, 6 };
static const unsigned char oid_bag[] = { OID_PKCS, 1, 12, 10, 1 };
static const unsigned char oid_x509crt[] = { OID_PKCS, 1, 9, 22, 1 };
static const unsigned char oid_pbe12[] = { OID_PKCS, 1, 12, 1 };
static const unsigned char oid_pbes2[] = { OID_PKCS, 1, 5, 13 };
static const unsigned char oid_pbkdf2[] = { OID_PKCS, 1, 5, 12 };
static const unsigned char oid_hmac[] = { OID_PKCS, 2 };
static const unsigned char oid_3des[] = { OID_PKCS, 3, 7 };
static const unsigned char oid_des[] = { 0x2b, 0x0e, 3, 2, 7 };
static const unsigned char oid_aes[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 3,
	4, 1 };
static const unsigned char oid_ecpub[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
	2, 1 };

static int
p12raw_oid_is(const struct der *o, const unsigned char *oid, size_t len)
{
	return o->len == len && memcmp(o->p, oid, len) == 0;
}

/* oid with one more arc (< 128) after prefix: that arc, else -1. */
static int
p12raw_oid_arc(const struct der *o, const unsigned char *prefix,
    size_t len)
{
	if (o->len != len + 1 || memcmp(o->p, prefix, len) != 0 ||
	    o->p[len] >= 0x80)
		return -1;
	return o->p[len];
}

/*
 * Takes the next TLV of in if its tag is tag: its contents in out, the
 * whole TLV in tlv (may be NULL).  Definite lengths only: DER, as every
 * PKCS#12 writer we know of produces.
 */
static int
p12raw_next(struct der *in, unsigned char tag, struct der *out,
    struct der *tlv)
{
	size_t	hl, l = 0, n, i;

	if (in->len < 2 || in->p[0] != tag)
		return -1;
	if (in->p[1] < 0x80) {
		hl = 2;
		l = in->p[1];
	} else {
		n = in->p[1] & 0x7f;
		if (n == 0 || n > 4 || in->len < 2 + n)
			return -1;
		for (i = 0; i < n; i++)
			l = (l << 8) | in->p[2 + i];
		hl = 2 + n;
	}
	if (l > in->len - hl)
		return -1;
	out->p = in->p + hl;
	out->len = l;
	if (tlv != NULL) {
		tlv->p = in->p;
		tlv->len = hl + l;
	}
	in->p += hl + l;
	in->len -= hl + l;
	return 0;
}

static int
p12raw_uint(struct der *in, unsigned *v)
{
	struct der	i;
	size_t		k;

	if (p12raw_next(in, 0x02, &i, NULL) == -1 || i.len == 0 ||
	    i.len > 5 || (i.p[0] & 0x80) || (i.len == 5 && i.p[0] != 0))
		return -1;
	*v = 0;
	for (k = 0; k < i.len; k++)
		*v = (*v << 8) | i.p[k];
	return 0;
}

/* pass as PKCS#12's BMPString with its two zero bytes; NULL is empty. */
static unsigned char *
p12raw_bmp(const char *pass, size_t *len)
{
	const unsigned char	*s = (const unsigned char *)pass;
	unsigned char		*b;
	unsigned		 c;
	size_t			 n = 0;

	*len = 0;
	if (pass == NULL)
		return NULL;
	b = xmalloc(2 * strlen(pass) + 2);
	while (*s != '\0') {
		if (s[0] < 0x80) {
			c = *s++;
		} else if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
			c = (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
			s += 2;
		} else if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 &&
		    (s[2] & 0xc0) == 0x80) {
			c = (unsigned)(s[0] & 0x0f) << 12 |
			    (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
			s += 3;
		} else {
			c = *s++;	/* not UTF-8: byte as is, as OpenSSL */
		}
		b[n++] = (unsigned char)(c >> 8);
		b[n++] = (unsigned char)c;
	}
	b[n++] = 0;
	b[n++] = 0;
	*len = n;
	return b;
}

/* I := I + B + 1 for each 64-byte block of I (RFC 7292 B.2 step 6C). */
static void
p12raw_kdf_add(unsigned char *I, size_t ilen, const unsigned char *A)
{
	size_t		j;
	unsigned	carry;
	int		k;

	for (j = 0; j < ilen; j += 64) {
		carry = 1;
		for (k = 63; k >= 0; k--) {
			carry += (unsigned)I[j + (size_t)k] + A[k % 20];
			I[j + (size_t)k] = (unsigned char)carry;
			carry >>= 8;
		}
	}
}

/* RFC 7292 appendix B.2 with SHA-1: key (id 1) or IV (id 2) bytes. */
static int
p12raw_kdf12(unsigned char id, const char *pass, const struct der *salt,
    unsigned iter, unsigned char *out, size_t outlen)
{
	unsigned char		 D[64], A[20], *P, *I;
	size_t			 plen, slen, ilen, i, done = 0, n;
	gnutls_hash_hd_t	 h;
	unsigned		 r;
	int			 ret = -1;

	P = p12raw_bmp(pass, &plen);
	slen = salt->len == 0 ? 0 : 64 * ((salt->len + 63) / 64);
	ilen = slen + (plen == 0 ? 0 : 64 * ((plen + 63) / 64));
	I = xmalloc(ilen + 1);
	for (i = 0; i < slen; i++)
		I[i] = salt->p[i % salt->len];
	for (i = 0; i < ilen - slen; i++)
		I[slen + i] = P[i % plen];
	memset(D, id, sizeof(D));
	while (done < outlen) {
		if (gnutls_hash_init(&h, GNUTLS_DIG_SHA1) < 0)
			goto out;
		gnutls_hash(h, D, sizeof(D));
		gnutls_hash(h, I, ilen);
		gnutls_hash_deinit(h, A);
		for (r = 1; r < iter; r++)
			gnutls_hash_fast(GNUTLS_DIG_SHA1, A, sizeof(A), A);
		n = outlen - done < sizeof(A) ? outlen - done : sizeof(A);
		memcpy(out + done, A, n);
		done += n;
		p12raw_kdf_add(I, ilen, A);
	}
	ret = 0;
out:
	free(P);
	free(I);
	return ret;
}

/* CBC-decrypts ct and strips its padding into out (gnutls_malloc). */
static int
p12raw_cbc(gnutls_cipher_algorithm_t alg, unsigned char *key,
    unsigned char *iv, const struct der *ct, gnutls_datum_t *out,
    struct cv_err *err)
{
	gnutls_cipher_hd_t	 h;
	gnutls_datum_t		 k, v;
	size_t			 bs, pad, i;

	k.data = key;
	k.size = (unsigned)gnutls_cipher_get_key_size(alg);
	v.data = iv;
	v.size = (unsigned)gnutls_cipher_get_iv_size(alg);
	bs = (size_t)gnutls_cipher_get_block_size(alg);
	if (bs == 0 || ct->len == 0 || ct->len % bs != 0)
		return cv_err_set(err, "PKCS#12: bad ciphertext length");
	if (gnutls_cipher_init(&h, alg, &k, &v) < 0)
		return cv_err_set(err, "PKCS#12: unsupported encryption "
		    "algorithm");
	out->data = gnutls_malloc(ct->len);
	if (out->data == NULL || gnutls_cipher_decrypt2(h, ct->p, ct->len,
	    out->data, ct->len) < 0) {
		gnutls_cipher_deinit(h);
		gnutls_free(out->data);
		return cv_err_set(err, "PKCS#12: decryption failed");
	}
	gnutls_cipher_deinit(h);
	pad = out->data[ct->len - 1];
	for (i = 0; pad >= 1 && pad <= bs && i < pad; i++)
		if (out->data[ct->len - 1 - i] != pad)
			break;
	if (pad < 1 || pad > bs || i != pad) {
		gnutls_free(out->data);
		out->data = NULL;
		return cv_err_set(err, "wrong PKCS#12 password");
	}
	out->size = (unsigned)(ct->len - pad);
	return 0;
}

/* PKCS#12 PBE (pbeWithSHAAnd3-KeyTripleDES-CBC, ...And40BitRC2-CBC). */
static int
p12raw_pbe12(int arc, struct der *params, const struct der *ct,
    const char *pass, p12raw_spend_fn spend, void *arg, gnutls_datum_t *out,
    struct cv_err *err)
{
	gnutls_cipher_algorithm_t	alg;
	struct der			seq, salt;
	unsigned char			key[24], iv[8];
	unsigned			iter;
	int				rc;

	if (arc == 3)
		alg = GNUTLS_CIPHER_3DES_CBC;
	else if (arc == 6)
		alg = GNUTLS_CIPHER_RC2_40_CBC;
	else
		return cv_err_set(err, "PKCS#12: unsupported encryption "
		    "algorithm");
	if (p12raw_next(params, 0x30, &seq, NULL) == -1 ||
	    p12raw_next(&seq, 0x04, &salt, NULL) == -1 ||
	    p12raw_uint(&seq, &iter) == -1 || salt.len > 1024)
		return cv_err_set(err, "PKCS#12: malformed PBE parameters");
	if (spend(arg, iter, err) == -1)
		return -1;
	if (p12raw_kdf12(1, pass, &salt, iter, key,
	    (size_t)gnutls_cipher_get_key_size(alg)) == -1 ||
	    p12raw_kdf12(2, pass, &salt, iter, iv, sizeof(iv)) == -1)
		return cv_err_set(err, "PKCS#12: key derivation failed");
	rc = p12raw_cbc(alg, key, iv, ct, out, err);
	gnutls_memset(key, 0, sizeof(key));
	return rc;
}

static gnutls_mac_algorithm_t
p12raw_prf(struct der *kdfp)
{
	struct der	prf, oid;
	int		arc;

	if (kdfp->len == 0)
		return GNUTLS_MAC_SHA1;		/* DEFAULT hmacWithSHA1 */
	if (p12raw_next(kdfp, 0x30, &prf, NULL) == -1 ||
	    p12raw_next(&prf, 0x06, &oid, NULL) == -1)
		return GNUTLS_MAC_UNKNOWN;
	arc = p12raw_oid_arc(&oid, oid_hmac, sizeof(oid_hmac));
	switch (arc) {
	case 7:		return GNUTLS_MAC_SHA1;
	case 8:		return GNUTLS_MAC_SHA224;
	case 9:		return GNUTLS_MAC_SHA256;
	case 10:	return GNUTLS_MAC_SHA384;
	case 11:	return GNUTLS_MAC_SHA512;
	default:	return GNUTLS_MAC_UNKNOWN;
	}
}

static gnutls_cipher_algorithm_t
p12raw_enc(const struct der *oid)
{
	if (p12raw_oid_is(oid, oid_3des, sizeof(oid_3des)))
		return GNUTLS_CIPHER_3DES_CBC;
	if (p12raw_oid_is(oid, oid_des, sizeof(oid_des)))
		return GNUTLS_CIPHER_DES_CBC;
	switch (p12raw_oid_arc(oid, oid_aes, sizeof(oid_aes))) {
	case 2:		return GNUTLS_CIPHER_AES_128_CBC;
	case 22:	return GNUTLS_CIPHER_AES_192_CBC;
	case 42:	return GNUTLS_CIPHER_AES_256_CBC;
	default:	return GNUTLS_CIPHER_UNKNOWN;
	}
}

/* PBES2 (RFC 8018) with PBKDF2: what OpenSSL 3 and Java 12+ write. */
static int
p12raw_pbes2(struct der *params, const struct der *ct, const char *pass,
    p12raw_spend_fn spend, void *arg, gnutls_datum_t *out,
    struct cv_err *err)
{
	gnutls_cipher_algorithm_t	 alg;
	gnutls_mac_algorithm_t		 mac;
	gnutls_datum_t			 pw, sd;
	struct der			 seq, kdf, kdfp, enc, oid, salt, iv;
	unsigned char			 key[32];
	unsigned			 iter, klen;
	int				 rc;

	if (p12raw_next(params, 0x30, &seq, NULL) == -1 ||
	    p12raw_next(&seq, 0x30, &kdf, NULL) == -1 ||
	    p12raw_next(&kdf, 0x06, &oid, NULL) == -1 ||
	    !p12raw_oid_is(&oid, oid_pbkdf2, sizeof(oid_pbkdf2)) ||
	    p12raw_next(&kdf, 0x30, &kdfp, NULL) == -1 ||
	    p12raw_next(&kdfp, 0x04, &salt, NULL) == -1 ||
	    p12raw_uint(&kdfp, &iter) == -1 ||
	    (kdfp.len > 0 && kdfp.p[0] == 0x02 &&
	    p12raw_uint(&kdfp, &klen) == -1) ||
	    p12raw_next(&seq, 0x30, &enc, NULL) == -1 ||
	    p12raw_next(&enc, 0x06, &oid, NULL) == -1 ||
	    p12raw_next(&enc, 0x04, &iv, NULL) == -1)
		return cv_err_set(err, "PKCS#12: malformed PBES2 parameters");
	mac = p12raw_prf(&kdfp);
	alg = p12raw_enc(&oid);
	if (mac == GNUTLS_MAC_UNKNOWN || alg == GNUTLS_CIPHER_UNKNOWN ||
	    iv.len != (size_t)gnutls_cipher_get_iv_size(alg))
		return cv_err_set(err, "PKCS#12: unsupported encryption "
		    "algorithm");
	if (spend(arg, iter, err) == -1)
		return -1;
	/* PBES2 takes the password's bytes; the absent one is empty. */
	pw.data = (unsigned char *)(pass != NULL ? pass : "");
	pw.size = (unsigned)strlen((const char *)pw.data);
	sd.data = (unsigned char *)salt.p;
	sd.size = (unsigned)salt.len;
	if (gnutls_pbkdf2(mac, &pw, &sd, iter, key,
	    (size_t)gnutls_cipher_get_key_size(alg)) < 0)
		return cv_err_set(err, "PKCS#12: key derivation failed");
	rc = p12raw_cbc(alg, key, (unsigned char *)iv.p, ct, out, err);
	gnutls_memset(key, 0, sizeof(key));
	return rc;
}

/* Decrypts ct under the AlgorithmIdentifier algid (its contents). */
static int
p12raw_decrypt(struct der *algid, const struct der *ct, const char *pass,
    p12raw_spend_fn spend, void *arg, gnutls_datum_t *out,
    struct cv_err *err)
{
	struct der	oid;
	int		arc;

	if (p12raw_next(algid, 0x06, &oid, NULL) == -1)
		return cv_err_set(err, "PKCS#12: malformed algorithm");
	if (p12raw_oid_is(&oid, oid_pbes2, sizeof(oid_pbes2)))
		return p12raw_pbes2(algid, ct, pass, spend, arg, out, err);
	if ((arc = p12raw_oid_arc(&oid, oid_pbe12, sizeof(oid_pbe12))) != -1)
		return p12raw_pbe12(arc, algid, ct, pass, spend, arg, out,
		    err);
	return cv_err_set(err, "PKCS#12: unsupported encryption algorithm");
}

static void
p12raw_add(struct p12raw_bag *b, int type, const struct der *d)
{
	b->items = xreallocarray(b->items, b->nitems + 1, sizeof(*b->items));
	b->items[b->nitems].type = type;
	b->items[b->nitems].data.data = (unsigned char *)d->p;
	b->items[b->nitems].data.size = (unsigned)d->len;
	b->nitems++;
}

/* One SafeBag: keys and X.509 certificates are kept, the rest skipped. */
static int
p12raw_safe_bag(struct der *sb, struct p12raw_bag *b)
{
	struct der	oid, val, cb, cid, x, crt;

	if (p12raw_next(sb, 0x06, &oid, NULL) == -1 ||
	    p12raw_next(sb, 0xa0, &val, NULL) == -1)
		return -1;
	switch (p12raw_oid_arc(&oid, oid_bag, sizeof(oid_bag))) {
	case 1:
		p12raw_add(b, GNUTLS_BAG_PKCS8_KEY, &val);
		break;
	case 2:
		p12raw_add(b, GNUTLS_BAG_PKCS8_ENCRYPTED_KEY, &val);
		break;
	case 3:
		if (p12raw_next(&val, 0x30, &cb, NULL) == -1 ||
		    p12raw_next(&cb, 0x06, &cid, NULL) == -1 ||
		    p12raw_next(&cb, 0xa0, &x, NULL) == -1)
			return -1;
		if (!p12raw_oid_is(&cid, oid_x509crt, sizeof(oid_x509crt)))
			break;		/* SDSI certificates: not ours */
		if (p12raw_next(&x, 0x04, &crt, NULL) == -1)
			return -1;
		p12raw_add(b, GNUTLS_BAG_CERTIFICATE, &crt);
		break;
	default:
		break;		/* CRLs, secrets, nested contents */
	}
	return 0;
}

static int
p12raw_safe_contents(const struct der *sc, struct p12raw_bag *b,
    struct cv_err *err)
{
	struct der	in = *sc, seq, sb;

	if (p12raw_next(&in, 0x30, &seq, NULL) == -1)
		return cv_err_set(err, "PKCS#12: malformed SafeContents");
	while (seq.len > 0) {
		if (b->nitems >= P12RAW_MAX_ITEMS)
			return cv_err_set(err, "PKCS#12: more than %u entries "
			    "in one bag; refusing the rest", P12RAW_MAX_ITEMS);
		if (p12raw_next(&seq, 0x30, &sb, NULL) == -1 ||
		    p12raw_safe_bag(&sb, b) == -1)
			return cv_err_set(err, "PKCS#12: malformed SafeBag %zu",
			    b->nitems);
	}
	return 0;
}

/* ContentInfo idx of the PFX's AuthenticatedSafe (its contents). */
static int
p12raw_content_info(const gnutls_datum_t *pfx, unsigned idx,
    struct der *ci)
{
	struct der	in = { pfx->data, pfx->size }, s, v, as, x, os, seq;
	unsigned	i;

	if (p12raw_next(&in, 0x30, &s, NULL) == -1 ||
	    p12raw_next(&s, 0x02, &v, NULL) == -1 ||
	    p12raw_next(&s, 0x30, &as, NULL) == -1 ||
	    p12raw_next(&as, 0x06, &v, NULL) == -1 ||
	    !p12raw_oid_is(&v, oid_data, sizeof(oid_data)) ||
	    p12raw_next(&as, 0xa0, &x, NULL) == -1 ||
	    p12raw_next(&x, 0x04, &os, NULL) == -1 ||
	    p12raw_next(&os, 0x30, &seq, NULL) == -1)
		return -1;
	for (i = 0; i <= idx; i++)
		if (p12raw_next(&seq, 0x30, ci, NULL) == -1)
			return -1;
	return 0;
}

int
p12raw_read_bag(const gnutls_datum_t *pfx, unsigned idx, const char *pass,
    p12raw_spend_fn spend, void *arg, struct p12raw_bag *b,
    struct cv_err *err)
{
	struct der	ci, oid, x, ed, eci, alg, ct, sc;
	gnutls_datum_t	plain;

	memset(b, 0, sizeof(*b));
	if (p12raw_content_info(pfx, idx, &ci) == -1 ||
	    p12raw_next(&ci, 0x06, &oid, NULL) == -1 ||
	    p12raw_next(&ci, 0xa0, &x, NULL) == -1)
		return cv_err_set(err, "PKCS#12 bag %u: not DER (BER "
		    "encodings are not read past 32 entries)", idx);
	if (p12raw_oid_is(&oid, oid_data, sizeof(oid_data))) {
		if (p12raw_next(&x, 0x04, &sc, NULL) == -1)
			return cv_err_set(err, "PKCS#12 bag %u: malformed",
			    idx);
		return p12raw_safe_contents(&sc, b, err);
	}
	if (!p12raw_oid_is(&oid, oid_encdata, sizeof(oid_encdata)) ||
	    p12raw_next(&x, 0x30, &ed, NULL) == -1 ||
	    p12raw_next(&ed, 0x02, &oid, NULL) == -1 ||
	    p12raw_next(&ed, 0x30, &eci, NULL) == -1 ||
	    p12raw_next(&eci, 0x06, &oid, NULL) == -1 ||
	    p12raw_next(&eci, 0x30, &alg, NULL) == -1 ||
	    p12raw_next(&eci, 0x80, &ct, NULL) == -1)
		return cv_err_set(err, "PKCS#12 bag %u: unsupported content",
		    idx);
	if (p12raw_decrypt(&alg, &ct, pass, spend, arg, &plain, err) == -1)
		return -1;
	b->plain = plain.data;
	b->plainlen = plain.size;
	sc.p = plain.data;
	sc.len = plain.size;
	return p12raw_safe_contents(&sc, b, err);
}

void
p12raw_bag_free(struct p12raw_bag *b)
{
	if (b->plain != NULL)
		gnutls_memset(b->plain, 0, b->plainlen);
	gnutls_free(b->plain);
	free(b->items);
	memset(b, 0, sizeof(*b));
}

int
p12raw_decrypt_pkcs8(const gnutls_datum_t *d, const char *pass,
    p12raw_spend_fn spend, void *arg, gnutls_datum_t *out,
    struct cv_err *err)
{
	struct der	in = { d->data, d->size }, s, alg, ct;

	if (p12raw_next(&in, 0x30, &s, NULL) == -1 ||
	    p12raw_next(&s, 0x30, &alg, NULL) == -1 ||
	    p12raw_next(&s, 0x04, &ct, NULL) == -1)
		return cv_err_set(err, "private key: malformed DER");
	return p12raw_decrypt(&alg, &ct, pass, spend, arg, out, err);
}

/* DER header of tag and len at p; returns its size. */
static size_t
p12raw_hdr(unsigned char *p, unsigned char tag, size_t len)
{
	size_t	n = 0, l;

	p[0] = tag;
	if (len < 0x80) {
		p[1] = (unsigned char)len;
		return 2;
	}
	for (l = len; l > 0; l >>= 8)
		n++;
	p[1] = (unsigned char)(0x80 | n);
	for (l = 0; l < n; l++)
		p[2 + l] = (unsigned char)(len >> (8 * (n - 1 - l)));
	return 2 + n;
}

static size_t
p12raw_hdrlen(size_t len)
{
	unsigned char	h[8];

	return p12raw_hdr(h, 0, len);
}

static const struct ecc_curve *
p12raw_curve(const struct der *oid)
{
	static const unsigned char p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
		3, 1, 7 };
	static const unsigned char p384[] = { 0x2b, 0x81, 0x04, 0x00, 34 };
	static const unsigned char p521[] = { 0x2b, 0x81, 0x04, 0x00, 35 };

	if (p12raw_oid_is(oid, p256, sizeof(p256)))
		return nettle_get_secp_256r1();
	if (p12raw_oid_is(oid, p384, sizeof(p384)))
		return nettle_get_secp_384r1();
	if (p12raw_oid_is(oid, p521, sizeof(p521)))
		return nettle_get_secp_521r1();
	return NULL;
}

/*
 * The uncompressed public point of priv on the curve named by oid into
 * pub (1 + 2 * 66 bytes at most); GnuTLS needs it, keytool omits it.
 */
static int
p12raw_ec_public(const struct der *oid, const struct der *priv,
    unsigned char *pub, size_t *publen)
{
	const struct ecc_curve	*c;
	struct ecc_scalar	 k;
	struct ecc_point	 q;
	mpz_t			 z, x, y;
	size_t			 n, cnt;
	int			 ret = -1;

	if ((c = p12raw_curve(oid)) == NULL)
		return -1;
	n = (ecc_bit_size(c) + 7) / 8;
	mpz_inits(z, x, y, NULL);
	mpz_import(z, priv->len, 1, 1, 1, 0, priv->p);
	ecc_scalar_init(&k, c);
	ecc_point_init(&q, c);
	if (ecc_scalar_set(&k, z)) {
		ecc_point_mul_g(&q, &k);
		ecc_point_get(&q, x, y);
		memset(pub, 0, 1 + 2 * n);
		pub[0] = 0x04;
		mpz_export(pub + 1 + n - (mpz_sizeinbase(x, 256)), &cnt, 1, 1,
		    1, 0, x);
		mpz_export(pub + 1 + 2 * n - (mpz_sizeinbase(y, 256)), &cnt, 1,
		    1, 1, 0, y);
		*publen = 1 + 2 * n;
		ret = 0;
	}
	ecc_scalar_clear(&k);
	ecc_point_clear(&q);
	mpz_clears(z, x, y, NULL);
	return ret;
}

int
p12raw_ec_with_curve(const gnutls_datum_t *d, gnutls_datum_t *out)
{
	struct der	 in = { d->data, d->size }, s, x, alg, oid, curve, os;
	struct der	 ec, ver, priv, cv, pk;
	unsigned char	 pub[1 + 2 * 66], *p;
	size_t		 clen, n, publen = 0, bit = 0;

	if (p12raw_next(&in, 0x30, &s, NULL) == -1 ||
	    p12raw_next(&s, 0x02, &x, NULL) == -1 ||
	    p12raw_next(&s, 0x30, &alg, NULL) == -1 ||
	    p12raw_next(&alg, 0x06, &oid, NULL) == -1 ||
	    !p12raw_oid_is(&oid, oid_ecpub, sizeof(oid_ecpub)) ||
	    p12raw_next(&alg, 0x06, &cv, &curve) == -1 ||
	    p12raw_next(&s, 0x04, &os, NULL) == -1 ||
	    p12raw_next(&os, 0x30, &ec, NULL) == -1 ||
	    p12raw_next(&ec, 0x02, &x, &ver) == -1 ||
	    p12raw_next(&ec, 0x04, &pk, &priv) == -1 ||
	    ec.len != 0 || curve.len >= 0x80)
		return -1;	/* GnuTLS reads a key with its public point */
	if (p12raw_ec_public(&cv, &pk, pub, &publen) == -1)
		return -1;
	/* SEQUENCE { version, privateKey, [0] curve, [1] publicKey } */
	clen = ver.len + priv.len + 2 + curve.len + ec.len;
	if (publen > 0) {
		bit = p12raw_hdrlen(1 + publen) + 1 + publen;
		clen += p12raw_hdrlen(bit) + bit;
	}
	p = gnutls_malloc(clen + 8);
	if (p == NULL)
		return -1;
	n = p12raw_hdr(p, 0x30, clen);
	memcpy(p + n, ver.p, ver.len);
	n += ver.len;
	memcpy(p + n, priv.p, priv.len);
	n += priv.len;
	n += p12raw_hdr(p + n, 0xa0, curve.len);
	memcpy(p + n, curve.p, curve.len);
	n += curve.len;
	memcpy(p + n, ec.p, ec.len);
	n += ec.len;
	if (publen > 0) {
		n += p12raw_hdr(p + n, 0xa1, bit);
		n += p12raw_hdr(p + n, 0x03, 1 + publen);
		p[n++] = 0;
		memcpy(p + n, pub, publen);
		n += publen;
	}
	out->data = p;
	out->size = (unsigned)n;
	return 0;
}
