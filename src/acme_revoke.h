/*
 * certvigil revoke (issue 17): revokeCert (RFC 8555 section 7.6) signed
 * with the ACME issuer's account key (kid).  Blocking: a worker thread,
 * never the loop.  The loop side is renew_revoke.c.
 */
#ifndef CV_ACME_REVOKE_H
#define CV_ACME_REVOKE_H

#include <stddef.h>
#include <time.h>

#include "cverr.h"
#include "issuer.h"

/* RFC 5280 CRLReason for NAME ("keyCompromise", ...), -1 if none is. */
int	 acme_revoke_reason(const char *name);
/* The names acme_revoke_reason takes, "a|b|..." for messages. */
const char *acme_revoke_reasons(void);
/*
 * Revokes the certificate der (DER) at is's CA, an [issuer] of type
 * acme: the account is looked up (onlyReturnExisting: never created) with
 * the account key (account_key, else STATE_DIR/acme/NAME/account.key).
 * reason -1 sends none (unspecified).  A CA's refusal is its problem
 * document: "revokeCert: urn:ietf:params:acme:error:TYPE: detail".
 */
int	 acme_revoke(const struct issuer *is, const char *state_dir,
	    const unsigned char *der, size_t len, int reason, time_t now,
	    struct cv_err *);

#endif
