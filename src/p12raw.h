/*
 * PKCS#12 read below GnuTLS: the SafeContents of one bag with every
 * SafeBag in it (GnuTLS keeps 32), and shrouded keys GnuTLS decrypts but
 * cannot parse (keytool's EC keys without curve parameters).  A small
 * DER walker plus GnuTLS's public PBKDF2, hash and cipher calls.
 */
#ifndef CV_P12RAW_H
#define CV_P12RAW_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#include "cverr.h"

/* Charges one key derivation of iter iterations before it runs. */
typedef int	(*p12raw_spend_fn)(void *, unsigned, struct cv_err *);

struct p12raw_item {
	int		 type;		/* GNUTLS_BAG_* */
	gnutls_datum_t	 data;		/* points into p12raw_bag.plain */
};

struct p12raw_bag {
	unsigned char		*plain;	/* decrypted SafeContents, or NULL */
	size_t			 plainlen;
	struct p12raw_item	*items;
	size_t			 nitems;
};

/*
 * Every SafeBag of ContentInfo idx of the PFX, decrypting it with pass
 * (NULL: the absent password) if it is EncryptedData.
 */
int	p12raw_read_bag(const gnutls_datum_t *, unsigned, const char *,
	    p12raw_spend_fn, void *, struct p12raw_bag *, struct cv_err *);
void	p12raw_bag_free(struct p12raw_bag *);
/*
 * Decrypts a PKCS#8 EncryptedPrivateKeyInfo into a PrivateKeyInfo
 * (*out, gnutls_free()d by the caller).
 */
int	p12raw_decrypt_pkcs8(const gnutls_datum_t *, const char *,
	    p12raw_spend_fn, void *, gnutls_datum_t *, struct cv_err *);
/*
 * An EC PrivateKeyInfo whose ECPrivateKey holds only the private scalar
 * (keytool's): the SEC1 ECPrivateKey with the curve from the
 * AlgorithmIdentifier and the public point computed from the scalar
 * (*out, gnutls_free()d).  -1 if the key is not of that kind.
 */
int	p12raw_ec_with_curve(const gnutls_datum_t *, gnutls_datum_t *);

#endif
