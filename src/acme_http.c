/*
 * The http-01 responder (issue 17); see acme_http.h.  One mutex guards
 * the listeners and their tokens: workers add and remove tokens (and bind
 * a new listener's socket themselves, so a bind error reaches the
 * renewal), the responder thread adopts new sockets, answers requests and
 * closes listeners left without tokens, woken by one uv_async.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "acme_http.h"
#include "xmalloc.h"

#define ACME_HTTP_PREFIX	"GET /.well-known/acme-challenge/"

struct acme_http_tok {
	char			*token, *keyauth;
	struct acme_http_tok	*next;
};

enum acme_http_state { AH_NEW, AH_LISTENING, AH_CLOSING, AH_CLOSED };

struct acme_http_lsn {
	char			 addr[80];
	int			 fd;		/* AH_NEW: bound, listening */
	enum acme_http_state	 state;
	uv_tcp_t		 tcp;
	struct acme_http_tok	*toks;
	struct acme_http_lsn	*next;
};

struct acme_http_conn {
	uv_tcp_t		 tcp;
	uv_timer_t		 timer;
	uv_write_t		 wr;
	struct acme_http_lsn	*l;
	char			 req[ACME_HTTP_MAX_REQ];
	size_t			 len;
	char			*reply;
	int			 closing, handles;
};

static pthread_mutex_t		 ah_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t		 ah_once = PTHREAD_ONCE_INIT;
static uv_loop_t		 ah_loop;
static uv_async_t		 ah_wake;
static uv_thread_t		 ah_thread;
static struct acme_http_lsn	*ah_lsns;
static int			 ah_nconn;

int
acme_http_addr_ok(const char *s, struct cv_err *err)
{
	struct sockaddr_storage	ss;
	char			host[64];
	const char		*colon = strrchr(s, ':');
	long			port;
	char			*end;

	if (colon == NULL || colon - s >= (long)sizeof(host))
		return cv_err_set(err, "http_listen: '%s' is not ADDR:PORT", s);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535 || colon[1] == '\0')
		return cv_err_set(err, "http_listen: '%s': bad port", s);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
		if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss) ==
		    0)
			return 0;
	} else if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss) ==
	    0)
		return 0;
	return cv_err_set(err, "http_listen: '%s': not an IP address and "
	    "port", s);
}

/* ---- the responder thread ------------------------------------------- */

static void
acme_http_conn_closed(uv_handle_t *h)
{
	struct acme_http_conn	*c = h->data;

	if (--c->handles > 0)
		return;
	free(c->reply);
	free(c);
	ah_nconn--;
}

static void
acme_http_conn_close(struct acme_http_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, acme_http_conn_closed);
	uv_close((uv_handle_t *)&c->tcp, acme_http_conn_closed);
}

static void
acme_http_timeout(uv_timer_t *t)
{
	acme_http_conn_close(t->data);
}

static void
acme_http_written(uv_write_t *w, int status)
{
	(void)status;
	acme_http_conn_close(w->data);
}

/* The key authorization of the request's token on c's listener (a
 * copy), or NULL: 404. */
static char *
acme_http_lookup(struct acme_http_conn *c)
{
	struct acme_http_tok	*t;
	const char		*tok = c->req + strlen(ACME_HTTP_PREFIX);
	size_t			 n;
	char			*ka = NULL;

	if (strncmp(c->req, ACME_HTTP_PREFIX, strlen(ACME_HTTP_PREFIX)) != 0)
		return NULL;
	n = strcspn(tok, " ?\r\n");
	if (strncmp(tok + n, " HTTP/1.", 8) != 0)
		return NULL;
	pthread_mutex_lock(&ah_mu);
	for (t = c->l->toks; t != NULL && ka == NULL; t = t->next)
		if (strlen(t->token) == n && !memcmp(t->token, tok, n))
			ka = xstrdup(t->keyauth);
	pthread_mutex_unlock(&ah_mu);
	return ka;
}

/* One reply per connection, then it closes. */
static void
acme_http_reply(struct acme_http_conn *c)
{
	uv_buf_t	 b;
	char		*ka = acme_http_lookup(c);

	uv_read_stop((uv_stream_t *)&c->tcp);
	if (ka != NULL)
		xasprintf(&c->reply, "HTTP/1.1 200 OK\r\nContent-Type: "
		    "text/plain\r\nContent-Length: %zu\r\nConnection: close"
		    "\r\n\r\n%s", strlen(ka), ka);
	else
		c->reply = xstrdup("HTTP/1.1 404 Not Found\r\nContent-Length: "
		    "0\r\nConnection: close\r\n\r\n");
	free(ka);
	b = uv_buf_init(c->reply, (unsigned)strlen(c->reply));
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1,
	    acme_http_written) != 0)
		acme_http_conn_close(c);
}

static void
acme_http_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct acme_http_conn	*c = h->data;

	(void)hint;
	/* One byte kept for the NUL the parser relies on. */
	*b = uv_buf_init(c->req + c->len,
	    (unsigned)(sizeof(c->req) - 1 - c->len));
}

static void
acme_http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct acme_http_conn	*c = s->data;

	(void)b;
	if (n < 0) {
		acme_http_conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (strstr(c->req, "\r\n\r\n") != NULL ||
	    strstr(c->req, "\n\n") != NULL)
		acme_http_reply(c);
	else if (c->len >= sizeof(c->req) - 1)
		acme_http_conn_close(c);	/* over the cap */
}

static void
acme_http_accept(uv_stream_t *srv, int status)
{
	struct acme_http_conn	*c;

	if (status != 0)
		return;
	c = xcalloc(1, sizeof(*c));
	c->l = srv->data;
	c->handles = 2;
	ah_nconn++;
	uv_tcp_init(&ah_loop, &c->tcp);
	uv_timer_init(&ah_loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0 ||
	    ah_nconn > ACME_HTTP_MAX_CONN) {
		acme_http_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, acme_http_timeout, ACME_HTTP_TIMEOUT_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, acme_http_alloc,
	    acme_http_read) != 0)
		acme_http_conn_close(c);
}

static void
acme_http_lsn_closed(uv_handle_t *h)
{
	struct acme_http_lsn	*l = h->data;

	pthread_mutex_lock(&ah_mu);
	l->state = AH_CLOSED;
	pthread_mutex_unlock(&ah_mu);
}

/* Adopts new sockets, closes listeners without tokens. */
static void
acme_http_wake(uv_async_t *a)
{
	struct acme_http_lsn	*l;

	(void)a;
	pthread_mutex_lock(&ah_mu);
	for (l = ah_lsns; l != NULL; l = l->next) {
		if (l->state == AH_NEW) {
			uv_tcp_init(&ah_loop, &l->tcp);
			l->tcp.data = l;
			l->state = AH_LISTENING;
			/* Not adopted (it cannot be, after the worker's
			 * listen()): closed now, clients get refused. */
			if (uv_tcp_open(&l->tcp, l->fd) != 0 ||
			    uv_listen((uv_stream_t *)&l->tcp, 64,
			    acme_http_accept) != 0) {
				l->state = AH_CLOSING;
				uv_close((uv_handle_t *)&l->tcp,
				    acme_http_lsn_closed);
				continue;
			}
		}
		if (l->state == AH_LISTENING && l->toks == NULL) {
			l->state = AH_CLOSING;
			uv_close((uv_handle_t *)&l->tcp, acme_http_lsn_closed);
		}
	}
	pthread_mutex_unlock(&ah_mu);
}

static void
acme_http_main(void *arg)
{
	(void)arg;
	uv_run(&ah_loop, UV_RUN_DEFAULT);
}

static void
acme_http_start(void)
{
	uv_loop_init(&ah_loop);
	uv_async_init(&ah_loop, &ah_wake, acme_http_wake);
	uv_thread_create(&ah_thread, acme_http_main, NULL);
}

/* ---- the workers' side --------------------------------------------- */

/* A listening socket on addr (checked by acme_http_addr_ok). */
static int
acme_http_bind(const char *addr, struct cv_err *err)
{
	struct sockaddr_storage	ss;
	char			host[64];
	const char		*colon = strrchr(addr, ':');
	int			fd, on = 1, port = atoi(colon + 1);

	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[') {
		host[strlen(host) - 1] = '\0';
		uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)&ss);
	} else
		uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return cv_err_set(err, "http_listen %s: %s", addr,
		    strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) == -1 ||
	    listen(fd, 64) == -1) {
		cv_err_set(err, "http_listen %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct acme_http_lsn *
acme_http_find(const char *addr)
{
	struct acme_http_lsn	*l;

	for (l = ah_lsns; l != NULL; l = l->next)
		if (!strcmp(l->addr, addr))
			return l;
	l = xcalloc(1, sizeof(*l));
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->fd = -1;
	l->state = AH_CLOSED;
	l->next = ah_lsns;
	ah_lsns = l;
	return l;
}

int
acme_http_serve(const char *addr, const char *token, const char *keyauth,
    struct cv_err *err)
{
	struct acme_http_lsn	*l;
	struct acme_http_tok	*t;
	int			 rc = 0;

	pthread_once(&ah_once, acme_http_start);
	pthread_mutex_lock(&ah_mu);
	l = acme_http_find(addr);
	if (l->state == AH_CLOSING) {
		rc = 1;
		goto out;
	}
	if (l->state == AH_CLOSED) {
		if ((l->fd = acme_http_bind(addr, err)) == -1) {
			rc = -1;
			goto out;
		}
		l->state = AH_NEW;
	}
	for (t = l->toks; t != NULL; t = t->next)
		if (!strcmp(t->token, token))
			goto out;
	t = xcalloc(1, sizeof(*t));
	t->token = xstrdup(token);
	t->keyauth = xstrdup(keyauth);
	t->next = l->toks;
	l->toks = t;
out:
	pthread_mutex_unlock(&ah_mu);
	if (rc == 0)
		uv_async_send(&ah_wake);
	return rc;
}

void
acme_http_unserve(const char *addr, const char *token)
{
	struct acme_http_lsn	*l;
	struct acme_http_tok	**tp, *t;

	pthread_mutex_lock(&ah_mu);
	for (l = ah_lsns; l != NULL && strcmp(l->addr, addr) != 0;
	    l = l->next)
		;
	for (tp = l != NULL ? &l->toks : NULL; tp != NULL && *tp != NULL;
	    tp = &(*tp)->next)
		if (!strcmp((*tp)->token, token)) {
			t = *tp;
			*tp = t->next;
			free(t->token);
			free(t->keyauth);
			free(t);
			break;
		}
	pthread_mutex_unlock(&ah_mu);
	if (l != NULL)
		uv_async_send(&ah_wake);
}
