/*
 * Blocking HTTPS client for the ACME issuer and ARI (issue 17), through
 * libcurl.  Called from pool threads only (never the loop thread): each
 * call takes an easy handle of its own from a pool (its kept-alive
 * connections reused; http.c), so calls may run concurrently.
 *
 * HTTPS only; plain http:// is accepted for loopback hosts alone
 * (127.0.0.0/8, ::1, localhost), as test servers use.  Redirects are
 * never followed (a 3xx comes back with its status and location), replies
 * are not decompressed, and the body is capped while it is received.
 */
#ifndef CV_HTTP_H
#define CV_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cverr.h"

#define HTTP_MAX_BODY		(1024 * 1024)
#define HTTP_TIMEOUT_MS		30000L
#define HTTP_MAX_LINKS		16	/* Link headers kept; more are ignored */
#define HTTP_MAX_RETRY_AFTER	(366LL * 86400)	/* longer: clamped */

struct http_req {
	const char	*method;	/* "GET", "POST", "HEAD" */
	const char	*url;
	const char	*ca_file;	/* NULL: the system store */
	const char	*content_type;	/* POST: e.g. "application/jose+json" */
	const void	*body;
	size_t		 body_len;
	size_t		 max_body;	/* reply cap; 0: HTTP_MAX_BODY (1 MiB) */
	long		 timeout_ms;	/* 0: 30 s */
};

/* Filled by http_do (headers of the final reply); http_resp_free frees. */
struct http_resp {
	long	 status;
	char	*body;		/* NUL-terminated */
	size_t	 body_len;
	char	*location, *replay_nonce, *retry_after, *content_type;
	char	**links;	/* raw Link header values, NULL-ended */
	size_t	 nlinks;
};

/* curl_global_init, once; the daemon calls it at start-up, before any
 * thread, and http_do calls it too (pthread_once) for tools and tests. */
int	http_init(struct cv_err *);
/*
 * One request.  0: a reply came (any status: the caller judges 4xx/5xx);
 * -1: no reply (refused URL, DNS, connect, TLS, timeout, a body over the
 * cap), err = "METHOD URL: reason".  resp is always safe to free.
 */
int	http_do(const struct http_req *, struct http_resp *, struct cv_err *);
void	http_resp_free(struct http_resp *);
/* Retry-After as delta-seconds or HTTP-date, relative to now: seconds
 * to wait (0 for a date in the past, at most HTTP_MAX_RETRY_AFTER).
 * -1 when VALUE is neither. */
int	http_retry_after(const char *value, time_t now, int64_t *seconds);

#endif
