/*
 * http_listen (issue 17): the daemon itself answers http-01 challenges,
 * GET /.well-known/acme-challenge/TOKEN, on the configured address, and
 * listens there only while some order has a token out.  Nothing else is
 * served (404), requests are capped at ACME_HTTP_MAX_REQ bytes, each
 * connection is closed after one reply or ACME_HTTP_TIMEOUT_MS.
 *
 * The responder is a libuv loop on a thread of its own (started on first
 * use), so neither the daemon's loop nor a worker ever waits on a client.
 * acme_http_serve/unserve are called from the renewal's worker thread.
 */
#ifndef CV_ACME_HTTP_H
#define CV_ACME_HTTP_H

#include "cverr.h"

#define ACME_HTTP_MAX_REQ	2048
#define ACME_HTTP_TIMEOUT_MS	10000
#define ACME_HTTP_MAX_CONN	64

/* Checks "ADDR:PORT" / "[V6]:PORT" (config loading). */
int	acme_http_addr_ok(const char *, struct cv_err *);
/*
 * Answers GET .../TOKEN with keyauth on addr from now on, binding the
 * address first when nothing listens there (the bind's error comes back
 * here).  Serving a token twice is harmless.  0 served; 1 the previous
 * listener there is still closing (try again shortly); -1 error.
 */
int	acme_http_serve(const char *addr, const char *token,
	    const char *keyauth, struct cv_err *);
/* Stops answering for token; the listener closes with its last token. */
void	acme_http_unserve(const char *addr, const char *token);

#endif
