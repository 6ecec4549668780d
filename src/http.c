/*
 * The HTTPS client (issue 17): libcurl's easy interface for the ACME
 * issuer's and ARI's pool jobs.  Easy handles are kept in a small pool
 * and reused (each by one call at a time): a handle keeps its
 * connections alive, so the next request to the same server (same CA
 * file: curl matches the TLS settings before reusing one) skips the TCP
 * and TLS handshakes and the CA file's parsing; a share object lends TLS
 * sessions and DNS answers between handles (curl locks them through
 * http_share_lock; connections themselves are never shared between
 * threads, which curl does not support).  See http.h for the
 * contract; the rules that matter for a root daemon talking to a CA it
 * does not control are here: the reply body is capped as it arrives (a
 * hostile endless reply costs max_body bytes, then the transfer is cut),
 * no redirect is followed, no content encoding is undone (no
 * decompression bombs), and only https (http for loopback) is spoken.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "http.h"
#include "xmalloc.h"

#define HTTP_POOL_MAX		32	/* idle handles kept */
#define HTTP_POOL_IDLE_S	60	/* an idle handle older: closed */

struct http_xfer {
	struct http_resp	*resp;
	size_t			 max_body;
	size_t			 cap;
	int			 too_big;
};

/* An idle easy handle and when it was last used. */
struct http_idle {
	CURL	*c;
	time_t	 at;
};

static pthread_once_t	http_once = PTHREAD_ONCE_INIT;
static CURLcode		http_init_rc = CURLE_FAILED_INIT;
static CURLSH		*http_share;
static pthread_mutex_t	http_share_mu[CURL_LOCK_DATA_LAST];
static pthread_mutex_t	http_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct http_idle	http_pool[HTTP_POOL_MAX];
static size_t		http_npool;

static void
http_share_lock(CURL *c, curl_lock_data d, curl_lock_access a, void *arg)
{
	(void)c, (void)a, (void)arg;
	pthread_mutex_lock(&http_share_mu[d]);
}

static void
http_share_unlock(CURL *c, curl_lock_data d, void *arg)
{
	(void)c, (void)arg;
	pthread_mutex_unlock(&http_share_mu[d]);
}

static void
http_init_once(void)
{
	int	i;

	if ((http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT)) !=
	    CURLE_OK)
		return;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&http_share_mu[i], NULL);
	/* Without a share (out of memory) each handle keeps its own. */
	if ((http_share = curl_share_init()) == NULL)
		return;
	curl_share_setopt(http_share, CURLSHOPT_LOCKFUNC, http_share_lock);
	curl_share_setopt(http_share, CURLSHOPT_UNLOCKFUNC,
	    http_share_unlock);
	curl_share_setopt(http_share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

int
http_init(struct cv_err *err)
{
	pthread_once(&http_once, http_init_once);
	if (http_init_rc != CURLE_OK)
		return cv_err_set(err, "libcurl initialisation failed: %s",
		    curl_easy_strerror(http_init_rc));
	return 0;
}

void
http_resp_free(struct http_resp *r)
{
	size_t	i;

	free(r->body);
	free(r->location);
	free(r->replay_nonce);
	free(r->retry_after);
	free(r->content_type);
	for (i = 0; i < r->nlinks; i++)
		free(r->links[i]);
	free(r->links);
	memset(r, 0, sizeof(*r));
}

/* Headers of an earlier reply (1xx) are forgotten at each status line. */
static void
http_resp_reset_headers(struct http_resp *r)
{
	size_t	i;

	free(r->location);
	free(r->replay_nonce);
	free(r->retry_after);
	free(r->content_type);
	r->location = r->replay_nonce = r->retry_after = NULL;
	r->content_type = NULL;
	for (i = 0; i < r->nlinks; i++)
		free(r->links[i]);
	r->nlinks = 0;
	if (r->links != NULL)
		r->links[0] = NULL;
}

static void
http_set(char **slot, const char *v, size_t len)
{
	free(*slot);
	*slot = xstrndup(v, len);
}

static size_t
http_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	struct http_resp	*r = x->resp;
	size_t			 len = size * n, nlen, vlen;
	const char		*colon, *v;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		http_resp_reset_headers(r);
		return len;
	}
	if ((colon = memchr(data, ':', len)) == NULL)
		return len;
	nlen = (size_t)(colon - data);
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
#define HTTP_IS(name) (nlen == sizeof(name) - 1 && \
	strncasecmp(data, name, nlen) == 0)
	if (HTTP_IS("location"))
		http_set(&r->location, v, vlen);
	else if (HTTP_IS("replay-nonce"))
		http_set(&r->replay_nonce, v, vlen);
	else if (HTTP_IS("retry-after"))
		http_set(&r->retry_after, v, vlen);
	else if (HTTP_IS("content-type"))
		http_set(&r->content_type, v, vlen);
	else if (HTTP_IS("link") && r->nlinks < HTTP_MAX_LINKS) {
		if (r->links == NULL)
			r->links = xcalloc(HTTP_MAX_LINKS + 1,
			    sizeof(*r->links));
		r->links[r->nlinks++] = xstrndup(v, vlen);
		r->links[r->nlinks] = NULL;
	}
#undef HTTP_IS
	return len;
}

/* Returning less than len aborts the transfer (CURLE_WRITE_ERROR): the
 * cap holds however much the server still has to send. */
static size_t
http_body_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	struct http_resp	*r = x->resp;
	size_t			 len = size * n;

	if (len > x->max_body - r->body_len) {
		x->too_big = 1;
		return 0;
	}
	if (r->body_len + len + 1 > x->cap) {
		while (r->body_len + len + 1 > x->cap)
			x->cap = x->cap < 4096 ? 4096 : x->cap * 2;
		if (x->cap > x->max_body + 1)
			x->cap = x->max_body + 1;
		r->body = xrealloc(r->body, x->cap);
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

/*
 * A handle for one call: the most recently used idle one (its
 * connections are the likeliest alive), else a new one.  Handles idle
 * longer than HTTP_POOL_IDLE_S are closed on the way (their servers
 * have likely closed the connections; their sockets go).
 */
static CURL *
http_handle_get(void)
{
	CURL	*c = NULL, *old[HTTP_POOL_MAX];
	time_t	 now = time(NULL);
	size_t	 i, j, nold = 0;

	pthread_mutex_lock(&http_pool_mu);
	for (i = j = 0; i < http_npool; i++)
		if (now - http_pool[i].at > HTTP_POOL_IDLE_S ||
		    now < http_pool[i].at)
			old[nold++] = http_pool[i].c;
		else
			http_pool[j++] = http_pool[i];
	http_npool = j;
	if (http_npool > 0)
		c = http_pool[--http_npool].c;
	pthread_mutex_unlock(&http_pool_mu);
	for (i = 0; i < nold; i++)
		curl_easy_cleanup(old[i]);
	if (c != NULL) {
		/* Options go back to the defaults; live connections, the
		 * session cache and the share stay. */
		curl_easy_reset(c);
		return c;
	}
	if ((c = curl_easy_init()) != NULL && http_share != NULL)
		curl_easy_setopt(c, CURLOPT_SHARE, http_share);
	return c;
}

/* Back to the pool after a call; a handle whose transfer failed is
 * closed instead (its connection may be the broken part). */
static void
http_handle_put(CURL *c, int ok)
{
	pthread_mutex_lock(&http_pool_mu);
	if (ok && http_npool < HTTP_POOL_MAX) {
		http_pool[http_npool].c = c;
		http_pool[http_npool++].at = time(NULL);
		c = NULL;
	}
	pthread_mutex_unlock(&http_pool_mu);
	if (c != NULL)
		curl_easy_cleanup(c);
}

static int
http_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0;
}

/* https, or http to a loopback host; anything else never connects. */
static int
http_check_url(const char *url, struct cv_err *err)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL;
	int	 rc = -1;

	u = curl_url();
	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		cv_err_set(err, "not a URL");
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0 &&
	    !(strcasecmp(scheme, "http") == 0 &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    http_loopback(host))) {
		cv_err_set(err, "only https:// URLs are allowed (http:// for "
		    "loopback test servers only)");
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* Kept-alive sockets outlive a call: never inherited by what the daemon
 * spawns meanwhile (reload commands, services). */
static curl_socket_t
http_socket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg, (void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void
http_setopts(CURL *c, const struct http_req *q, struct http_xfer *x,
    struct curl_slist *hdrs, char *ebuf)
{
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, http_socket_cb);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	    q->timeout_ms > 0 ? q->timeout_ms : HTTP_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "certvigil/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (q->ca_file != NULL) {
		/* Only these anchors: not the system's directory as well. */
		curl_easy_setopt(c, CURLOPT_CAINFO, q->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	if (strcmp(q->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(q->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)q->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		    q->body_len > 0 ? q->body : "");
	}
}

int
http_do(const struct http_req *q, struct http_resp *resp,
    struct cv_err *err)
{
	struct http_xfer	 x;
	struct curl_slist	*hdrs = NULL;
	CURL			*c = NULL;
	CURLcode		 cc;
	char			 ebuf[CURL_ERROR_SIZE], *ct = NULL;
	int			 rc = -1;

	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	x.resp = resp;
	x.max_body = q->max_body > 0 ? q->max_body : HTTP_MAX_BODY;
	ebuf[0] = '\0';
	if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "POST") != 0 &&
	    strcmp(q->method, "HEAD") != 0) {
		cv_err_set(err, "%s %s: method not supported", q->method,
		    q->url);
		goto out;
	}
	if (http_init(err) == -1 || http_check_url(q->url, err) == -1)
		goto fail;
	if ((c = http_handle_get()) == NULL) {
		cv_err_set(err, "curl_easy_init failed");
		goto fail;
	}
	/* No "Expect: 100-continue" round trip before a JWS body. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (q->content_type != NULL) {
		xasprintf(&ct, "Content-Type: %s", q->content_type);
		hdrs = curl_slist_append(hdrs, ct);
	}
	http_setopts(c, q, &x, hdrs, ebuf);
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		if (x.too_big)
			cv_err_set(err, "reply larger than %zu bytes",
			    x.max_body);
		else
			cv_err_set(err, "%s", ebuf[0] != '\0' ? ebuf :
			    curl_easy_strerror(cc));
		goto fail;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->body == NULL)
		resp->body = xstrdup("");
	rc = 0;
	goto out;
fail:
	cv_err_prefix(err, "%s %s", q->method, q->url);
	http_resp_free(resp);
out:
	free(ct);
	curl_slist_free_all(hdrs);
	if (c != NULL)
		http_handle_put(c, rc == 0);
	return rc;
}

int
http_retry_after(const char *value, time_t now, int64_t *seconds)
{
	const char	*p;
	int64_t		 s = 0;
	time_t		 t;

	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		/* delta-seconds: 1*DIGIT and nothing else. */
		for (p = value; isdigit((unsigned char)*p); p++)
			if (s <= HTTP_MAX_RETRY_AFTER)
				s = s * 10 + (*p - '0');
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			return -1;
	} else {
		/* HTTP-date: curl's parser knows all three RFC 9110 forms;
		 * a date must at least name its weekday or month. */
		if (!isalpha((unsigned char)*value) ||
		    (t = curl_getdate(value, NULL)) == -1)
			return -1;
		s = t <= now ? 0 : (int64_t)(t - now);
	}
	*seconds = s > HTTP_MAX_RETRY_AFTER ? HTTP_MAX_RETRY_AFTER : s;
	return 0;
}
