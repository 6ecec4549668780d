/*
 * The ACME issuer's order, step by step (acme_order.c), for
 * issuer_acme.c.  Its progress is one JSON object, the record that
 * issuer_acme.c keeps atomically in STATE_DIR/work/acme-ID.json:
 *
 *   step        "account", "ordered", "authorized", "finalized",
 *               "downloaded"
 *   account     the account URL (kid)
 *   order, finalize, authz[], identifiers[], challenge
 *   ordered_at  when newOrder succeeded (order_timeout counts from it)
 *   tokens[]    challenge files written (removed when done or failed)
 *   dns[]       dns-01 TXT records added: {domain, value} (dns_hook
 *               "remove" run for each when done or failed)
 *   dns_at      when the last one was added (dns_propagation from it)
 *   nonce       the last nonce, reused by the next call
 *   polls       "not yet" answers in a row without Retry-After at this
 *               step (the poll backoff: 250 ms, 500 ms, then 1 s)
 *
 * Each function moves the record on by at most one step: 0 done (the
 * caller saves the record), 1 not yet (retry after *retry_s seconds; 0:
 * the server gave no Retry-After, the caller's poll backoff),
 * -1 error (err; *dead set when the order cannot be resumed).
 */
#ifndef CV_ACME_ORDER_H
#define CV_ACME_ORDER_H

#include <jansson.h>

#include "acme_session.h"
#include "issuer.h"

struct acme_cfg {
	char		*directory;
	char		*directory_ca_file;
	char		**contact;
	size_t		 ncontact;
	char		*account_key;
	char		*eab_kid;
	char		*eab_hmac_key_file;
	char		*profile;
	char		*preferred_chain;
	char		*challenge;	/* "http-01", "dns-01" */
	char		*webroot;
	/* ARI (issue 17, RFC 9773; ari.h): ari = no turns it off; ari_poll
	 * (seconds, 0: the CA's Retry-After) overrides the poll interval */
	int		 no_ari;
	int64_t		 ari_poll;
	char		*http_listen;	/* http-01 answered by the daemon */
	char		**dns_hook;	/* dns-01: argv, no shell */
	int64_t		 dns_propagation;	/* s waited after "add" */
	int64_t		 order_timeout;	/* s an order may take */
};

struct acme_ctx {
	const struct issuer_job	*job;
	const struct acme_cfg	*cfg;
	struct acme_session	*s;
	json_t			*rec;	/* the progress record */
	/* Saves rec now (before a dns_hook runs, so a crash leaves no
	 * record the hook added that the record does not know). */
	int			(*save)(const struct issuer_job *, json_t *,
				    struct cv_err *);
	int64_t			 retry_s;
	int			 dead;
};

/* newOrder with the binding's identifiers (san, else subject CN). */
int	acme_order_place(struct acme_ctx *, struct cv_err *);
/* Authorizations: challenge files written, challenges answered, polled. */
int	acme_order_authorize(struct acme_ctx *, struct cv_err *);
/* The CSR of the pending key to the order's finalize URL. */
int	acme_order_finalize(struct acme_ctx *, struct cv_err *);
/* The chain (preferred_chain honoured) into the store; sha1 set. */
int	acme_order_download(struct acme_ctx *, char sha1[41],
	    struct cv_err *);
/* Removes the challenge files the record lists and runs dns_hook
 * "remove" for each TXT record it added. */
void	acme_order_cleanup(struct acme_ctx *);

#endif
