/*
 * Microsoft PVK private keys (issue 13 item 8): what makecert -sv and
 * pvk2pfx use, and openssl rsa -outform PVK writes.  RSA only; unencrypted
 * or RC4-encrypted with key SHA1(salt || password) (128-bit, or the
 * 40-bit "weak" export variant).
 */
#ifndef CV_PVK_H
#define CV_PVK_H

#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cverr.h"

#define PVK_MAGIC		0xb0b5f11eu
#define PVK_HEADER_LEN		24u
#define PVK_MAX_SALT		256u	/* OpenSSL writes 16 */
#define PVK_MAX_BITS		16384u

/* Starts with the PVK magic (little-endian) and a whole header. */
int	pvk_is_pvk(const unsigned char *p, size_t len);
/*
 * Decodes a PVK file into a new key.  password may be NULL; an encrypted
 * PVK then fails with "needs a password".  Returns 0 or -1 with err set.
 */
int	pvk_decode(const unsigned char *p, size_t len, const char *password,
	    gnutls_x509_privkey_t *out, struct cv_err *err);

#endif
