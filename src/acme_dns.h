/*
 * dns-01 for the ACME issuer (issue 17): the TXT value and the admin's
 * dns_hook.  Blocking (the hook is waited for, bounded): the renewal's
 * worker thread only, like the rest of the order's steps.
 */
#ifndef CV_ACME_DNS_H
#define CV_ACME_DNS_H

#include <gnutls/abstract.h>

#include "cverr.h"

#define ACME_DNS_HOOK_TIMEOUT	300	/* seconds one hook call may take */

/* base64url(SHA-256(TOKEN "." thumbprint)) (RFC 8555 8.4); caller
 * frees. */
char	*acme_dns_txt_value(gnutls_pubkey_t, const char *token,
	    struct cv_err *);
/*
 * Runs argv (no shell) with CERTVIGIL_ACME_ACTION=action,
 * CERTVIGIL_ACME_DOMAIN=domain, CERTVIGIL_ACME_TXT_NAME=
 * _acme-challenge.domain and CERTVIGIL_ACME_TXT_VALUE=value added to the
 * environment, stdout and stderr appended to log_path; killed after
 * timeout_s.  0: it exited 0; -1: err says how it failed.
 */
int	 acme_dns_hook(char *const *argv, const char *action,
	    const char *domain, const char *value, const char *log_path,
	    int timeout_s, struct cv_err *);

#endif
