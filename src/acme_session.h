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

/* What newAccount needs (acme_session_account's arguments), kept for a
 * look-up again in the middle of a request. */
struct acme_account_args {
	const char		**contact;
	size_t			 ncontact;
	const char		*eab_kid;
	const unsigned char	*hmac;
	size_t			 hmac_len;
};

struct acme_session {
	const char		*ca_file;	/* the server's HTTPS anchors */
	char			*url;		/* the directory's */
	char			*dir_key;	/* its cache key */
	struct acme_directory	 dir;		/* acme_json.c parsed it */
	char			*nonce;		/* next one to use, or NULL */
	char			*kid;		/* account URL once known */
	int			 kid_known;	/* not looked up by this session:
						 * again when the CA refuses it */
	struct acme_account_args acct;
	gnutls_privkey_t	 key;
	gnutls_pubkey_t		 pub;
	int64_t			 retry_after;	/* 429/503: seconds, else 0 */
	time_t			 now;
};

/* The directory: fetched, or as a session fetched it in the last
 * ACME_DIR_TTL seconds (the same URL and ca_file); key is the account key
 * (copied; either way the caller calls acme_session_close). */
int	 acme_session_open(struct acme_session *, const char *url,
	    const char *ca_file, gnutls_x509_privkey_t key, struct cv_err *);
/* The next session fetches the directory again (a call that failed). */
void	 acme_session_forget(struct acme_session *);
void	 acme_session_close(struct acme_session *);
/* A URL of the directory by its member name ("newOrder"), or NULL. */
const char *acme_session_url(const struct acme_session *, const char *name);
/*
 * A signed POST (payload NULL: POST-as-GET).  0: a 2xx reply in resp;
 * 1: the server said "later" (429 or 503), retry_after set, err says
 * why; -1: an error (a problem document as acme_problem_parse's line).
 * Replies are capped at ACME_JSON_MAX bytes.  accountDoesNotExist or
 * unauthorized for a kid the session did not look up (kid_known): the
 * account is looked up again, and the POST sent again, once.
 */
int	 acme_session_post(struct acme_session *, const char *url,
	    const char *payload, struct http_resp *, struct cv_err *);
/* Sets kid: the one already set (the caller's, from its record), else
 * the one a session looked up before for this directory and account
 * key, else looks the account up (onlyReturnExisting) and creates it
 * when missing (terms agreed, contacts, EAB when eab_kid is set). */
int	 acme_session_account(struct acme_session *, const char **contact,
	    size_t ncontact, const char *eab_kid, const unsigned char *hmac,
	    size_t hmac_len, struct cv_err *);

#endif
