/*
 * One conversation with an ACME server (RFC 8555) for the ACME issuer
 * (issuer_acme.c): the directory, the account key, a nonce kept and
 * reused, signed POSTs (jwk until the account is known, kid after) with
 * badNonce retried, and RFC 7807 problems turned into one-line errors.
 * Blocking (http.h): pool threads only.  A session is one thread's.
 */
#ifndef CV_ACME_SESSION_H
#define CV_ACME_SESSION_H

#include <stdint.h>

#include <gnutls/abstract.h>

#include "acme_json.h"
#include "cverr.h"
#include "http.h"

struct acme_session {
	const char		*ca_file;	/* the server's HTTPS anchors */
	struct acme_directory	 dir;		/* acme_json.c parsed it */
	char			*nonce;		/* next one to use, or NULL */
	char			*kid;		/* account URL once known */
	gnutls_privkey_t	 key;
	gnutls_pubkey_t		 pub;
	int64_t			 retry_after;	/* 429/503: seconds, else 0 */
	time_t			 now;
};

/* GET the directory; key is the account key (owned by the session after
 * a successful open; either way the caller calls acme_session_close). */
int	 acme_session_open(struct acme_session *, const char *url,
	    const char *ca_file, gnutls_x509_privkey_t key, struct cv_err *);
void	 acme_session_close(struct acme_session *);
/* A URL of the directory by its member name ("newOrder"), or NULL. */
const char *acme_session_url(const struct acme_session *, const char *name);
/*
 * A signed POST (payload NULL: POST-as-GET).  0: a 2xx reply in resp;
 * 1: the server said "later" (429 or 503), retry_after set, err says
 * why; -1: an error (a problem document as acme_problem_parse's line).
 * Replies are capped at ACME_JSON_MAX bytes.
 */
int	 acme_session_post(struct acme_session *, const char *url,
	    const char *payload, struct http_resp *, struct cv_err *);
/* Looks the account up (onlyReturnExisting), creates it when missing
 * (terms agreed, contacts, EAB when eab_kid is set); sets kid. */
int	 acme_session_account(struct acme_session *, const char **contact,
	    size_t ncontact, const char *eab_kid, const unsigned char *hmac,
	    size_t hmac_len, struct cv_err *);

#endif
