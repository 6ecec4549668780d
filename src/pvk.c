/*
 * The PVK reader (see pvk.h).  Layout, all little-endian:
 *   header  magic, reserved, keytype, encrypted, saltlen, keylen (u32 each)
 *   salt    saltlen bytes
 *   blob    BLOBHEADER (type 7, version 2, reserved, alg id: 8 bytes,
 *           never encrypted), RSAPUBKEY ("RSA2", bits, public exponent),
 *           then n, p, q, dp, dq, iqmp, d (bits/8 or bits/16 bytes each).
 * Every length is checked against what is left before it is used: this
 * parses files nobody vetted (the fuzz target fuzz/fuzz_pvk.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "pvk.h"
#include "x509.h"
#include "xmalloc.h"

#define PVK_BLOB_PRIVATE	0x07
#define PVK_RSA2		0x32415352u	/* "RSA2" */
#define PVK_DSS2		0x32535344u	/* "DSS2" */

static uint32_t
pvk_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
pvk_is_pvk(const unsigned char *p, size_t len)
{
	return len >= PVK_HEADER_LEN && pvk_u32(p) == PVK_MAGIC;
}

/* n little-endian bytes at *p into out (big-endian, as GnuTLS wants). */
static gnutls_datum_t
pvk_take(const unsigned char **p, size_t n, unsigned char **out)
{
	gnutls_datum_t	d = { *out, (unsigned)n };
	size_t		i;

	for (i = 0; i < n; i++)
		(*out)[i] = (*p)[n - 1 - i];
	*p += n;
	*out += n;
	return d;
}

/* An RSA PRIVATEKEYBLOB (already decrypted) into a GnuTLS key. */
static int
pvk_rsa(const unsigned char *b, size_t len, gnutls_x509_privkey_t *out,
    struct cv_err *err)
{
	gnutls_datum_t		 m, e, d, p, q, u, e1, e2;
	const unsigned char	*s;
	unsigned char		*buf, *w, exp[4];
	size_t			 nb, hb, need;
	uint32_t		 bits;
	int			 rc;

	bits = pvk_u32(b + 12);
	if (bits < 256 || bits > PVK_MAX_BITS)
		return cv_err_set(err, "PVK: RSA key of %u bits", bits);
	nb = (bits + 7) / 8;
	hb = (bits + 15) / 16;
	need = 20 + 2 * nb + 5 * hb;
	if (len < need)
		return cv_err_set(err, "PVK: truncated key (%zu bytes, a "
		    "%u-bit key needs %zu)", len, bits, need);
	s = b + 16;
	w = exp;
	e = pvk_take(&s, 4, &w);
	while (e.size > 1 && e.data[0] == 0) {	/* no leading zeros */
		e.data++;
		e.size--;
	}
	buf = w = xmalloc(2 * nb + 5 * hb);
	m = pvk_take(&s, nb, &w);
	p = pvk_take(&s, hb, &w);
	q = pvk_take(&s, hb, &w);
	e1 = pvk_take(&s, hb, &w);
	e2 = pvk_take(&s, hb, &w);
	u = pvk_take(&s, hb, &w);
	d = pvk_take(&s, nb, &w);
	if ((rc = gnutls_x509_privkey_init(out)) >= 0 &&
	    (rc = gnutls_x509_privkey_import_rsa_raw2(*out, &m, &e, &d, &p, &q,
	    &u, &e1, &e2)) < 0)
		gnutls_x509_privkey_deinit(*out);
	explicit_bzero(buf, 2 * nb + 5 * hb);
	free(buf);
	if (rc < 0)
		return cv_err_set(err, "PVK: RSA key: %s", x509_strerror(rc));
	if ((rc = gnutls_x509_privkey_verify_params(*out)) < 0) {
		gnutls_x509_privkey_deinit(*out);
		return cv_err_set(err, "PVK: inconsistent RSA key: %s",
		    x509_strerror(rc));
	}
	return 0;
}

/*
 * RC4 over the blob after its 8-byte BLOBHEADER, key SHA1(salt ||
 * password): 128 bits, or (weak) its first 5 bytes and 11 zeros.
 */
static int
pvk_decrypt(const unsigned char *salt, size_t saltlen, const char *pw,
    int weak, const unsigned char *in, unsigned char *out, size_t len)
{
	gnutls_hash_hd_t	 h;
	gnutls_cipher_hd_t	 c;
	unsigned char		 md[20];
	gnutls_datum_t		 key = { md, 16 };
	int			 rc;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA1) < 0)
		return -1;
	gnutls_hash(h, salt, saltlen);
	gnutls_hash(h, pw, strlen(pw));
	gnutls_hash_deinit(h, md);
	if (weak)
		memset(md + 5, 0, sizeof(md) - 5);
	memcpy(out, in, 8);
	rc = gnutls_cipher_init(&c, GNUTLS_CIPHER_ARCFOUR_128, &key, NULL);
	explicit_bzero(md, sizeof(md));
	if (rc < 0)
		return -1;
	rc = gnutls_cipher_decrypt2(c, in + 8, len - 8, out + 8, len - 8);
	gnutls_cipher_deinit(c);
	return rc < 0 ? -1 : 0;
}

/* The key blob in the clear: decrypted into *plain when encrypted. */
static int
pvk_open_blob(const unsigned char *salt, size_t saltlen, const char *pw,
    const unsigned char *blob, size_t len, unsigned char **plain,
    struct cv_err *err)
{
	const char	*try = pw != NULL ? pw : "";
	int		 weak;

	/* Without a password, the empty one (as pvk2pfx accepts it). */
	*plain = xmalloc(len);
	for (weak = 0; weak < 2; weak++) {
		if (pvk_decrypt(salt, saltlen, try, weak, blob, *plain,
		    len) == -1) {
			cv_err_set(err, "PVK: RC4 is not available in this "
			    "GnuTLS");
			goto fail;
		}
		if (pvk_u32(*plain + 8) == PVK_RSA2 ||
		    pvk_u32(*plain + 8) == PVK_DSS2)
			return 0;
	}
	cv_err_set(err, pw != NULL ? "PVK: wrong private key password" :
	    "PVK: the key is encrypted and no password was given");
fail:
	explicit_bzero(*plain, len);
	free(*plain);
	*plain = NULL;
	return -1;
}

int
pvk_decode(const unsigned char *p, size_t len, const char *password,
    gnutls_x509_privkey_t *out, struct cv_err *err)
{
	const unsigned char	*blob;
	unsigned char		*plain = NULL;
	uint32_t		 enc, saltlen, keylen;
	int			 rc;

	if (!pvk_is_pvk(p, len))
		return cv_err_set(err, "PVK: no PVK header");
	enc = pvk_u32(p + 12);
	saltlen = pvk_u32(p + 16);
	keylen = pvk_u32(p + 20);
	if (enc > 1 || saltlen > PVK_MAX_SALT || (!enc && saltlen != 0))
		return cv_err_set(err, "PVK: malformed header");
	/* saltlen first: len - 24 - saltlen must not wrap. */
	if (saltlen > len - PVK_HEADER_LEN || keylen < 20 ||
	    keylen > len - PVK_HEADER_LEN - saltlen)
		return cv_err_set(err, "PVK: truncated (header says %u key "
		    "bytes, file has %zu)", keylen, len);
	blob = p + PVK_HEADER_LEN + saltlen;
	if (blob[0] != PVK_BLOB_PRIVATE)
		return cv_err_set(err, "PVK: not a private key blob");
	if (enc) {
		if (pvk_open_blob(p + PVK_HEADER_LEN, saltlen, password, blob,
		    keylen, &plain, err) == -1)
			return -1;
		blob = plain;
	}
	if (pvk_u32(blob + 8) == PVK_DSS2)
		rc = cv_err_set(err, "PVK: DSA keys are not supported");
	else if (pvk_u32(blob + 8) != PVK_RSA2)
		rc = cv_err_set(err, "PVK: not an RSA key blob");
	else
		rc = pvk_rsa(blob, keylen, out, err);
	if (plain != NULL) {
		explicit_bzero(plain, keylen);
		free(plain);
	}
	return rc;
}
