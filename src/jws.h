/*
 * JSON Web Signatures for ACME (issue 17): RFC 7515 flattened JSON
 * serialisation as RFC 8555 section 6.2 wants it, JWKs (RFC 7517) and
 * their thumbprints (RFC 7638), and the external account binding's inner
 * HS256 JWS (RFC 8555 section 7.3.4).  Pure functions of their inputs
 * (and the key's randomness for ECDSA): safe on any thread.
 *
 * Account keys: EC P-256 (ES256) or RSA (RS256, 2048 bits and more).
 */
#ifndef CV_JWS_H
#define CV_JWS_H

#include <stddef.h>

#include <gnutls/abstract.h>
#include <jansson.h>

#include "cverr.h"

/* base64url without padding (RFC 7515 section 2); the caller frees. */
char	*jws_b64url(const void *, size_t);
/* Its inverse; refuses padding, whitespace and other alphabets. */
int	 jws_b64url_decode(const char *, unsigned char **, size_t *,
	    struct cv_err *);
/* The JWK of a public key: a new object with only the required members
 * (EC: crv, kty, x, y; RSA: e, kty, n). */
int	 jws_jwk(gnutls_pubkey_t, json_t **, struct cv_err *);
/* RFC 7638 thumbprint, base64url (the key authorization's second half). */
int	 jws_thumbprint(gnutls_pubkey_t, char **, struct cv_err *);
/*
 * A flattened JWS {"protected","payload","signature"} as compact JSON:
 * protected header alg, then kid when given else the key's jwk, nonce,
 * url.  payload NULL: the empty payload of a POST-as-GET.
 */
int	 jws_sign(gnutls_privkey_t, const char *kid, const char *nonce,
	    const char *url, const char *payload, char **out,
	    struct cv_err *);
/* The externalAccountBinding member of a newAccount payload: an HS256
 * JWS over the account's JWK, protected {alg, kid: eab_kid, url}. */
int	 jws_eab(gnutls_pubkey_t account, const char *eab_kid,
	    const unsigned char *hmac_key, size_t hmac_len, const char *url,
	    json_t **out, struct cv_err *);

#endif
