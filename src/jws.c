/*
 * JWS, JWK and thumbprints for ACME (issue 17); see jws.h.  Signatures
 * come from GnuTLS (gnutls_privkey_sign_data2), so account keys held in
 * any form GnuTLS can load work the same.  ECDSA signatures are DER
 * (r, s) there and raw r||s (each zero-padded to the curve's 32 bytes)
 * in JWS (RFC 7518 section 3.4): gnutls_decode_rs_value converts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "jws.h"
#include "xmalloc.h"

#define JWS_P256_LEN	32

char *
jws_b64url(const void *p, size_t len)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char	*in = p;
	char			*out, *o;
	size_t			 i;
	unsigned		 v;

	out = o = xmalloc(len / 3 * 4 + 5);
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned)in[i] << 16;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
	}
	*o = '\0';
	return out;
}

static int
jws_b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
jws_b64url_decode(const char *s, unsigned char **out, size_t *outlen,
    struct cv_err *err)
{
	size_t		 n = strlen(s), i, o = 0;
	unsigned char	*b;
	unsigned	 acc = 0;
	int		 bits = 0, v;

	if (n % 4 == 1)
		return cv_err_set(err, "base64url: bad length %zu", n);
	b = xmalloc(n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		if ((v = jws_b64_val((unsigned char)s[i])) == -1) {
			free(b);
			return cv_err_set(err, "base64url: bad character at "
			    "offset %zu", i);
		}
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			b[o++] = (unsigned char)(acc >> bits);
		}
	}
	*out = b;
	*outlen = o;
	return 0;
}

static void
jws_set_b64(json_t *o, const char *name, const void *p, size_t len)
{
	char	*s = jws_b64url(p, len);

	json_object_set_new(o, name, json_string(s));
	free(s);
}

/* EC coordinates are fixed-size in a JWK (RFC 7518 section 6.2.1.2). */
static void
jws_set_coord(json_t *o, const char *name, const gnutls_datum_t *d)
{
	unsigned char	buf[JWS_P256_LEN];

	memset(buf, 0, sizeof(buf));
	memcpy(buf + sizeof(buf) - d->size, d->data, d->size);
	jws_set_b64(o, name, buf, sizeof(buf));
}

static int
jws_jwk_ec(gnutls_pubkey_t pub, json_t *o, struct cv_err *err)
{
	gnutls_ecc_curve_t	curve;
	gnutls_datum_t		x = { NULL, 0 }, y = { NULL, 0 };
	int			r, rc = -1;

	if ((r = gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, &y,
	    GNUTLS_EXPORT_FLAG_NO_LZ)) < 0) {
		cv_err_set(err, "EC key: %s", gnutls_strerror(r));
		goto out;
	}
	if (curve != GNUTLS_ECC_CURVE_SECP256R1 || x.size > JWS_P256_LEN ||
	    y.size > JWS_P256_LEN) {
		cv_err_set(err, "EC key on %s: only P-256 (ES256) is supported",
		    gnutls_ecc_curve_get_name(curve));
		goto out;
	}
	json_object_set_new(o, "crv", json_string("P-256"));
	json_object_set_new(o, "kty", json_string("EC"));
	jws_set_coord(o, "x", &x);
	jws_set_coord(o, "y", &y);
	rc = 0;
out:
	gnutls_free(x.data);
	gnutls_free(y.data);
	return rc;
}

static int
jws_jwk_rsa(gnutls_pubkey_t pub, json_t *o, struct cv_err *err)
{
	gnutls_datum_t	n = { NULL, 0 }, e = { NULL, 0 };
	int		r;

	if ((r = gnutls_pubkey_export_rsa_raw2(pub, &n, &e,
	    GNUTLS_EXPORT_FLAG_NO_LZ)) < 0)
		return cv_err_set(err, "RSA key: %s", gnutls_strerror(r));
	jws_set_b64(o, "e", e.data, e.size);
	json_object_set_new(o, "kty", json_string("RSA"));
	jws_set_b64(o, "n", n.data, n.size);
	gnutls_free(n.data);
	gnutls_free(e.data);
	return 0;
}

int
jws_jwk(gnutls_pubkey_t pub, json_t **out, struct cv_err *err)
{
	json_t	*o = json_object();
	int	 rc;

	switch (gnutls_pubkey_get_pk_algorithm(pub, NULL)) {
	case GNUTLS_PK_ECDSA:
		rc = jws_jwk_ec(pub, o, err);
		break;
	case GNUTLS_PK_RSA:
		rc = jws_jwk_rsa(pub, o, err);
		break;
	default:
		rc = cv_err_set(err, "account key: only EC P-256 and RSA "
		    "keys are supported");
		break;
	}
	if (rc == -1)
		json_decref(o);
	else
		*out = o;
	return rc;
}

int
jws_thumbprint(gnutls_pubkey_t pub, char **out, struct cv_err *err)
{
	json_t		*jwk;
	char		*s;
	unsigned char	 md[32];
	int		 r;

	if (jws_jwk(pub, &jwk, err) == -1)
		return -1;
	/* RFC 7638: required members only, sorted, no whitespace. */
	s = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(jwk);
	if (s == NULL)
		abort();
	r = gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), md);
	free(s);
	if (r < 0)
		return cv_err_set(err, "SHA-256: %s", gnutls_strerror(r));
	*out = jws_b64url(md, sizeof(md));
	return 0;
}

/* Raw r||s, each left-padded to 32 bytes, from GnuTLS's DER (r, s). */
static int
jws_ecdsa_raw(const gnutls_datum_t *der, unsigned char raw[2 * JWS_P256_LEN],
    struct cv_err *err)
{
	gnutls_datum_t	 r = { NULL, 0 }, s = { NULL, 0 };
	gnutls_datum_t	*v[2] = { &r, &s };
	unsigned char	*p;
	size_t		 len, i;
	int		 e, rc = -1;

	if ((e = gnutls_decode_rs_value(der, &r, &s)) < 0) {
		cv_err_set(err, "ECDSA signature: %s", gnutls_strerror(e));
		goto out;
	}
	memset(raw, 0, 2 * JWS_P256_LEN);
	for (i = 0; i < 2; i++) {
		/* DER integers may carry a leading zero byte. */
		p = v[i]->data;
		len = v[i]->size;
		while (len > 0 && *p == 0)
			p++, len--;
		if (len > JWS_P256_LEN) {
			cv_err_set(err, "ECDSA signature: value too long");
			goto out;
		}
		memcpy(raw + (i + 1) * JWS_P256_LEN - len, p, len);
	}
	rc = 0;
out:
	gnutls_free(r.data);
	gnutls_free(s.data);
	return rc;
}

/* The base64url signature of INPUT under KEY with ALG's rules. */
static int
jws_signature(gnutls_privkey_t key, int ec, const char *input, char **out,
    struct cv_err *err)
{
	gnutls_datum_t	 data, sig = { NULL, 0 };
	unsigned char	 raw[2 * JWS_P256_LEN];
	int		 r;

	data.data = (unsigned char *)input;
	data.size = (unsigned)strlen(input);
	if ((r = gnutls_privkey_sign_data2(key, ec ? GNUTLS_SIGN_ECDSA_SHA256 :
	    GNUTLS_SIGN_RSA_SHA256, 0, &data, &sig)) < 0)
		return cv_err_set(err, "JWS signature: %s", gnutls_strerror(r));
	if (ec) {
		r = jws_ecdsa_raw(&sig, raw, err);
		if (r == 0)
			*out = jws_b64url(raw, sizeof(raw));
	} else
		*out = jws_b64url(sig.data, sig.size);
	gnutls_free(sig.data);
	return r < 0 ? -1 : 0;
}

/* {"protected": b64(hdr), "payload": b64(payload)}, and in *input the
 * signing input "protected.payload" (the caller adds "signature"). */
static json_t *
jws_flatten(json_t *hdr, const char *payload, char **input)
{
	json_t	*o = json_object();
	char	*h, *bh, *bp;

	if ((h = json_dumps(hdr, JSON_COMPACT)) == NULL)
		abort();
	bh = jws_b64url(h, strlen(h));
	bp = jws_b64url(payload, strlen(payload));
	xasprintf(input, "%s.%s", bh, bp);
	json_object_set_new(o, "protected", json_string(bh));
	json_object_set_new(o, "payload", json_string(bp));
	free(h);
	free(bh);
	free(bp);
	return o;
}

int
jws_sign(gnutls_privkey_t key, const char *kid, const char *nonce,
    const char *url, const char *payload, char **out, struct cv_err *err)
{
	gnutls_pubkey_t	 pub = NULL;
	json_t		*hdr = json_object(), *jwk, *o = NULL;
	char		*input = NULL, *sig = NULL;
	int		 ec, rc = -1;

	ec = gnutls_privkey_get_pk_algorithm(key, NULL) == GNUTLS_PK_ECDSA;
	json_object_set_new(hdr, "alg", json_string(ec ? "ES256" : "RS256"));
	if (kid != NULL)
		json_object_set_new(hdr, "kid", json_string(kid));
	else {
		if (gnutls_pubkey_init(&pub) < 0 ||
		    gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0) {
			cv_err_set(err, "account key: no public key");
			goto out;
		}
		if (jws_jwk(pub, &jwk, err) == -1)
			goto out;
		json_object_set_new(hdr, "jwk", jwk);
	}
	if (nonce != NULL)
		json_object_set_new(hdr, "nonce", json_string(nonce));
	json_object_set_new(hdr, "url", json_string(url));
	o = jws_flatten(hdr, payload != NULL ? payload : "", &input);
	if (jws_signature(key, ec, input, &sig, err) == -1)
		goto out;
	json_object_set_new(o, "signature", json_string(sig));
	if ((*out = json_dumps(o, JSON_COMPACT)) == NULL)
		abort();
	rc = 0;
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	json_decref(hdr);
	json_decref(o);
	free(input);
	free(sig);
	return rc;
}

int
jws_eab(gnutls_pubkey_t account, const char *eab_kid,
    const unsigned char *hmac_key, size_t hmac_len, const char *url,
    json_t **out, struct cv_err *err)
{
	json_t		*hdr = json_object(), *jwk = NULL, *o = NULL;
	char		*payload = NULL, *input = NULL, *sig;
	unsigned char	 mac[32];
	int		 r, rc = -1;

	if (hmac_len == 0) {
		cv_err_set(err, "EAB: empty HMAC key");
		goto out;
	}
	if (jws_jwk(account, &jwk, err) == -1)
		goto out;
	if ((payload = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		abort();
	json_object_set_new(hdr, "alg", json_string("HS256"));
	json_object_set_new(hdr, "kid", json_string(eab_kid));
	json_object_set_new(hdr, "url", json_string(url));
	o = jws_flatten(hdr, payload, &input);
	if ((r = gnutls_hmac_fast(GNUTLS_MAC_SHA256, hmac_key, hmac_len,
	    input, strlen(input), mac)) < 0) {
		cv_err_set(err, "EAB: HMAC-SHA256: %s", gnutls_strerror(r));
		goto out;
	}
	sig = jws_b64url(mac, sizeof(mac));
	json_object_set_new(o, "signature", json_string(sig));
	free(sig);
	*out = o;
	o = NULL;
	rc = 0;
out:
	json_decref(hdr);
	json_decref(jwk);
	json_decref(o);
	free(payload);
	free(input);
	return rc;
}
