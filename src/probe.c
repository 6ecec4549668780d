#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "pki.h"
#include "probe.h"
#include "starttls.h"
#include "xmalloc.h"

/* The client identity offered in the "with" attempt. */
struct probe_ident {
	gnutls_pcert_st		*pcerts;
	unsigned		 n;
	gnutls_privkey_t	 key;
};

/* Per-session state for the certificate callback (gnutls_session_ptr). */
struct probe_ctx {
	const struct probe_ident	*id;	/* NULL: offer nothing */
	struct probe_attempt		*att;
};

static int64_t
probe_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned
probe_left(int64_t deadline)
{
	int64_t	left = deadline - probe_now_ms();

	return left > 0 ? (unsigned)left : 1;
}

/*
 * Connects to every address of host:port in turn, each within what is
 * left of the deadline.  Returns the connected (blocking) socket or -1.
 */
static int
probe_connect(const struct probe_opts *o, int64_t deadline, char *addr,
    size_t addrlen, struct cv_err *err)
{
	struct addrinfo		 hints, *res = NULL, *ai;
	struct pollfd		 pfd;
	socklen_t		 sl;
	char			 host[64];
	int			 fd = -1, rc, soerr, flags;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(o->host, o->port, &hints, &res)) != 0)
		return cv_err_set(err, "%s port %s: %s", o->host, o->port,
		    gai_strerror(rc));
	cv_err_set(err, "%s port %s: no address", o->host, o->port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
		    sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(host, sizeof(host), "?");
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1) {
			cv_err_set(err, "socket: %s", strerror(errno));
			continue;
		}
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc == -1 && errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			do
				rc = poll(&pfd, 1, (int)probe_left(deadline));
			while (rc == -1 && errno == EINTR);
			if (rc == 0) {
				cv_err_set(err, "connect to %s port %s: timed "
				    "out", host, o->port);
				goto next;
			}
			sl = sizeof(soerr);
			if (rc == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &sl) == -1)
				soerr = errno;
			if (soerr != 0) {
				cv_err_set(err, "connect to %s port %s: %s",
				    host, o->port, strerror(soerr));
				goto next;
			}
		} else if (rc == -1) {
			cv_err_set(err, "connect to %s port %s: %s", host,
			    o->port, strerror(errno));
			goto next;
		}
		/* Blocking from here: GnuTLS's own timeouts bound the reads. */
		if ((flags = fcntl(fd, F_GETFL)) != -1)
			fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		snprintf(addr, addrlen, "%s", host);
		break;
next:
		close(fd);
		fd = -1;
		if (probe_now_ms() >= deadline)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

static int
probe_retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca_dn,
    int nreqs, const gnutls_pk_algorithm_t *algos, int nalgos,
    gnutls_pcert_st **pcert, unsigned *npcert, gnutls_privkey_t *pkey)
{
	struct probe_ctx	*c = gnutls_session_get_ptr(s);

	(void)req_ca_dn;
	(void)nreqs;
	(void)algos;
	(void)nalgos;
	c->att->cert_requested = 1;
	*pcert = NULL;
	*npcert = 0;
	*pkey = NULL;
	/*
	 * Always offer ours, whatever CA names the server listed: the
	 * point is to learn what the server does with it.
	 */
	if (c->id != NULL && c->id->n > 0) {
		*pcert = c->id->pcerts;
		*npcert = c->id->n;
		*pkey = c->id->key;
		c->att->cert_sent = 1;
	}
	return 0;
}

static const char *
probe_alert(gnutls_session_t s, int rc)
{
	const char	*name;

	if (rc != GNUTLS_E_FATAL_ALERT_RECEIVED &&
	    rc != GNUTLS_E_WARNING_ALERT_RECEIVED)
		return NULL;
	name = gnutls_alert_get_name(gnutls_alert_get(s));
	return name != NULL ? name : "unknown alert";
}

/* GnuTLS's status texts end with a blank. */
static void
probe_rtrim(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* The served chain and its verification, from the first session that has
 * them. */
static void
probe_take_chain(gnutls_session_t s, const struct probe_opts *o,
    struct probe_result *r)
{
	const gnutls_datum_t	*peers;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 txt = { NULL, 0 };
	const char		*name = o->sni != NULL ? o->sni : o->host;
	unsigned		 n = 0, i, status = 0;
	struct cv_err		 e;
	int			 rc;

	if (r->nchain > 0)
		return;
	if ((peers = gnutls_certificate_get_peers(s, &n)) == NULL || n == 0)
		return;
	r->chain = xcalloc(n, sizeof(*r->chain));
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&crt) < 0)
			break;
		if (gnutls_x509_crt_import(crt, &peers[i],
		    GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt);
			break;
		}
		if (x509_cert_fill(&r->chain[r->nchain], crt, &e) == -1) {
			x509_cert_clear(&r->chain[r->nchain]);
			break;
		}
		r->nchain++;
	}
	rc = gnutls_certificate_verify_peers3(s, name, &status);
	if (rc < 0) {
		snprintf(r->verify_error, sizeof(r->verify_error), "%s",
		    gnutls_strerror(rc));
		return;
	}
	if (status == 0) {
		r->verified = 1;
		return;
	}
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &txt, 0) >= 0 && txt.data != NULL)
		snprintf(r->verify_error, sizeof(r->verify_error), "%s",
		    (char *)txt.data);
	else
		snprintf(r->verify_error, sizeof(r->verify_error),
		    "not trusted");
	gnutls_free(txt.data);
	probe_rtrim(r->verify_error);
}

/*
 * After the client's handshake: one request and one read.  A server that
 * refuses the client (TLS 1.3 "certificate required") answers with an
 * alert; one that accepts answers, closes cleanly, or waits for more.
 */

/*
 * Servers that check client certificates after the handshake answer a
 * refused one over HTTP: nginx with 400 ("The SSL certificate error",
 * its internal 495/496), IIS with 403.7/403.16.  Any other answer from
 * a server that asked for a certificate accepts the client.
 */
int
probe_refused_after_handshake(int http_status)
{
	return http_status == 400 || http_status == 403 ||
	    http_status == 495 || http_status == 496;
}

static void
probe_settle(gnutls_session_t s, const struct probe_opts *o,
    struct probe_attempt *a, int64_t deadline)
{
	char		 req[512], buf[512];
	const char	*alert, *bye;
	unsigned	 wait = probe_left(deadline);
	size_t		 byelen;
	ssize_t		 rc;
	int		 tries;

	if (wait > PROBE_SETTLE_MAX_MS)
		wait = PROBE_SETTLE_MAX_MS;
	/* On a STARTTLS port, the protocol's goodbye, which it answers. */
	if ((bye = starttls_bye(o->starttls, &byelen)) == NULL) {
		snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s\r\n"
		    "\r\n", o->sni != NULL ? o->sni : o->host);
		bye = req;
		byelen = strlen(req);
	}
	do
		rc = gnutls_record_send(s, bye, byelen);
	while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
	gnutls_record_set_timeout(s, wait);
	/* Session tickets and the like come first; a few records at most. */
	for (tries = 0; tries < 16; tries++) {
		rc = gnutls_record_recv(s, buf, sizeof(buf));
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED ||
		    rc == GNUTLS_E_WARNING_ALERT_RECEIVED ||
		    rc == GNUTLS_E_REHANDSHAKE)
			continue;
		break;
	}
	if (rc >= 0 || rc == GNUTLS_E_TIMEDOUT) {
		a->accepted = 1;
		/* nginx refuses a client certificate (or its absence)
		 * after the handshake, with "400 The SSL certificate
		 * error": not accepted, for the CLI and the daemon alike. */
		if (rc >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 &&
		    buf[8] == ' ' && isdigit((unsigned char)buf[9]) &&
		    isdigit((unsigned char)buf[10]) &&
		    isdigit((unsigned char)buf[11]))
			a->http_status = (buf[9] - '0') * 100 +
			    (buf[10] - '0') * 10 + (buf[11] - '0');
		if (a->cert_requested &&
		    probe_refused_after_handshake(a->http_status)) {
			a->accepted = 0;
			snprintf(a->error, sizeof(a->error), "HTTP %d after "
			    "the handshake (a client certificate refused)",
			    a->http_status);
		}
		return;
	}
	if ((alert = probe_alert(s, (int)rc)) != NULL)
		snprintf(a->error, sizeof(a->error), "the server ended the "
		    "connection after the handshake with alert \"%s\"", alert);
	else
		snprintf(a->error, sizeof(a->error), "the server dropped the "
		    "connection after the handshake (%s)",
		    gnutls_strerror((int)rc));
}

/* Credentials: the trust anchors (ca_file, else the system's) and the
 * client certificate callback. */
static int
probe_cred(const struct probe_opts *o, gnutls_certificate_credentials_t *cred,
    struct cv_err *err)
{
	int	rc;

	if (gnutls_certificate_allocate_credentials(cred) < 0)
		return cv_err_set(err, "out of memory");
	if (o->ca_file != NULL) {
		rc = gnutls_certificate_set_x509_trust_file(*cred, o->ca_file,
		    GNUTLS_X509_FMT_PEM);
		if (rc <= 0)
			return cv_err_set(err, "--ca-file %s: %s", o->ca_file,
			    rc == 0 ? "no certificate found" :
			    gnutls_strerror(rc));
	} else
		(void)gnutls_certificate_set_x509_system_trust(*cred);
	gnutls_certificate_set_retrieve_function2(*cred, probe_retrieve);
	return 0;
}

/* Why the handshake failed, in the attempt's words. */
static void
probe_handshake_error(gnutls_session_t s, int rc, unsigned timeout,
    struct probe_attempt *a)
{
	const char	*alert;

	if (rc == GNUTLS_E_TIMEDOUT)
		snprintf(a->error, sizeof(a->error), "TLS handshake timed out "
		    "after %us", (timeout + 999) / 1000);
	else if ((alert = probe_alert(s, rc)) != NULL)
		snprintf(a->error, sizeof(a->error), "TLS handshake failed: "
		    "the server sent alert \"%s\"", alert);
	else
		snprintf(a->error, sizeof(a->error), "TLS handshake failed: %s",
		    gnutls_strerror(rc));
}

/* The plain-text dialogue of a STARTTLS port, before the handshake. */
static int
probe_starttls(const struct probe_opts *o, int fd, int64_t deadline,
    struct cv_err *err)
{
	struct probe_endpoint	ep;
	char			name[300];

	memset(&ep, 0, sizeof(ep));
	ep.proto = o->starttls;
	snprintf(ep.host, sizeof(ep.host), "%s", o->host);
	snprintf(ep.port, sizeof(ep.port), "%s", o->port);
	probe_endpoint_str(&ep, name, sizeof(name));
	return starttls_begin(fd, o->starttls, name, deadline, err);
}

static int
probe_attempt(const struct probe_opts *o, const struct probe_ident *id,
    struct probe_attempt *a, struct probe_result *r, struct cv_err *err)
{
	gnutls_certificate_credentials_t	 cred = NULL;
	gnutls_session_t			 s = NULL;
	struct probe_ctx			 ctx;
	struct timeval				 tv;
	const char				*sni;
	char					*desc, addr[64] = "";
	unsigned char				 ipbuf[16];
	unsigned				 timeout;
	int64_t					 deadline;
	int					 fd = -1, rc, ret = -1;

	timeout = o->timeout_ms ? o->timeout_ms : PROBE_TIMEOUT_DEFAULT_MS;
	deadline = probe_now_ms() + timeout;
	a->tried = 1;
	if (probe_cred(o, &cred, err) == -1)
		goto out;
	if ((fd = probe_connect(o, deadline, addr, sizeof(addr), err)) == -1)
		goto out;
	a->connected = 1;
	snprintf(r->address, sizeof(r->address), "%s", addr);
	/* Writes are bounded too (reads are, by GnuTLS's timeouts). */
	tv.tv_sec = timeout / 1000;
	tv.tv_usec = (timeout % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (o->starttls != PROBE_TLS && probe_starttls(o, fd, deadline,
	    err) == -1)
		goto out;

	if ((rc = gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL)) < 0 ||
	    (rc = gnutls_set_default_priority(s)) < 0 ||
	    (rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
	    cred)) < 0) {
		cv_err_set(err, "TLS setup: %s", gnutls_strerror(rc));
		goto out;
	}
	ctx.id = id;
	ctx.att = a;
	gnutls_session_set_ptr(s, &ctx);
	/* SNI carries names, never addresses (RFC 6066 3). */
	sni = o->sni != NULL ? o->sni : o->host;
	if (inet_pton(AF_INET, sni, ipbuf) != 1 &&
	    inet_pton(AF_INET6, sni, ipbuf) != 1)
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni));
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, probe_left(deadline));
	do
		rc = gnutls_handshake(s);
	while (rc < 0 && !gnutls_error_is_fatal(rc) &&
	    probe_now_ms() < deadline);
	if (gnutls_certificate_client_get_request_status(s))
		a->cert_requested = 1;
	probe_take_chain(s, o, r);
	if (rc < 0) {
		probe_handshake_error(s, rc, timeout, a);
		ret = 0;
		goto out;
	}
	a->handshake = 1;
	if (r->protocol[0] == '\0') {
		snprintf(r->protocol, sizeof(r->protocol), "%s",
		    gnutls_protocol_get_name(gnutls_protocol_get_version(s)));
		if ((desc = gnutls_session_get_desc(s)) != NULL) {
			snprintf(r->cipher, sizeof(r->cipher), "%s", desc);
			gnutls_free(desc);
		}
	}
	probe_settle(s, o, a, deadline);
	ret = 0;
out:
	if (s != NULL)
		gnutls_deinit(s);
	if (fd != -1)
		close(fd);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	return ret;
}

static void
probe_ident_free(struct probe_ident *id)
{
	unsigned	i;

	for (i = 0; i < id->n; i++)
		gnutls_pcert_deinit(&id->pcerts[i]);
	free(id->pcerts);
	if (id->key != NULL)
		gnutls_privkey_deinit(id->key);
	memset(id, 0, sizeof(*id));
}

static int
probe_ident_load(const struct probe_opts *o, struct probe_ident *id,
    struct cv_err *err)
{
	struct x509_load_opts	 lo;
	struct x509_file	*f = NULL;
	gnutls_x509_privkey_t	 key = NULL;
	size_t			*idx = NULL, n, i;
	int			 leaf, k, rc = -1;

	memset(id, 0, sizeof(*id));
	memset(&lo, 0, sizeof(lo));
	lo.password = o->password;
	if (x509_load_file(o->cert_file, &lo, &f, err) == -1) {
		cv_err_prefix(err, "--cert %s", o->cert_file);
		goto out;
	}
	if ((leaf = pki_file_leaf(f)) == -1) {
		cv_err_set(err, "--cert %s: no certificate found",
		    o->cert_file);
		goto out;
	}
	if (o->key_file != NULL) {
		if (pki_key_load(o->key_file, o->password, &key, err) == -1) {
			cv_err_prefix(err, "--key");
			goto out;
		}
	} else if ((k = pki_file_key_of(f, (size_t)leaf)) != -1) {
		if (gnutls_x509_privkey_init(&key) < 0 ||
		    gnutls_x509_privkey_cpy(key, f->keys[k].key) < 0) {
			cv_err_set(err, "copying the key failed");
			goto out;
		}
	} else {
		cv_err_set(err, "--cert %s: no matching private key in the "
		    "file (give --key)", o->cert_file);
		goto out;
	}
	if (!pki_key_matches(key, f->certs[leaf].crt)) {
		cv_err_set(err, "--key does not match the certificate of "
		    "--cert %s", o->cert_file);
		goto out;
	}
	idx = xcalloc(f->ncerts, sizeof(*idx));
	n = pki_file_chain(f, (size_t)leaf, idx);
	id->pcerts = xcalloc(n + 1, sizeof(*id->pcerts));
	if (gnutls_pcert_import_x509(&id->pcerts[0], f->certs[leaf].crt,
	    0) < 0) {
		cv_err_set(err, "--cert %s: unusable certificate",
		    o->cert_file);
		goto out;
	}
	id->n = 1;
	for (i = 0; i < n; i++) {
		if (f->certs[idx[i]].is_ca &&
		    strcmp(f->certs[idx[i]].subject,
		    f->certs[idx[i]].issuer) == 0)
			continue;	/* roots are not sent */
		if (gnutls_pcert_import_x509(&id->pcerts[id->n],
		    f->certs[idx[i]].crt, 0) >= 0)
			id->n++;
	}
	if (gnutls_privkey_init(&id->key) < 0 ||
	    gnutls_privkey_import_x509(id->key, key,
	    GNUTLS_PRIVKEY_IMPORT_COPY) < 0) {
		cv_err_set(err, "--key: unusable private key");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		probe_ident_free(id);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	free(idx);
	x509_file_free(f);
	return rc;
}

/* Thumbprints compare without case, colons or blanks. */
static int
probe_sha1_eq(const char *sha1, const char *want)
{
	size_t	i = 0;

	for (; *want != '\0'; want++) {
		if (*want == ':' || isspace((unsigned char)*want))
			continue;
		if (sha1[i] == '\0' || tolower((unsigned char)*want) != sha1[i])
			return 0;
		i++;
	}
	return sha1[i] == '\0';
}

int
probe_run(const struct probe_opts *o, struct probe_result *r,
    struct cv_err *err)
{
	struct probe_ident	 id;
	int			 have_id = 0, rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&id, 0, sizeof(id));
	r->thumbprint_match = -1;
	r->mtls_enforced = -1;
	if (o->cert_file != NULL) {
		if (probe_ident_load(o, &id, err) == -1)
			return -1;
		have_id = 1;
	}
	if (probe_attempt(o, NULL, &r->without, r, err) == -1)
		goto out;
	if (have_id && probe_attempt(o, &id, &r->with, r, err) == -1)
		goto out;
	/* No handshake and nothing a TLS server would send: not TLS. */
	if (!r->without.handshake && !r->with.handshake && r->nchain == 0 &&
	    !r->without.cert_requested && !r->with.cert_requested) {
		cv_err_set(err, "%s port %s: %s", o->host, o->port,
		    r->without.error);
		probe_result_free(r);
		goto out;
	}
	r->ok = r->without.handshake || r->with.handshake;
	if (o->expect_sha1 != NULL) {
		r->thumbprint_match = r->nchain > 0 &&
		    probe_sha1_eq(r->chain[0].sha1, o->expect_sha1);
		r->ok = r->ok && r->thumbprint_match;
	} else
		r->ok = r->ok && r->verified;
	if (have_id) {
		r->mtls_enforced = !r->without.accepted && r->with.accepted;
		r->ok = r->ok && r->mtls_enforced;
	} else
		r->ok = r->ok && r->without.accepted;
	rc = 0;
out:
	/* The first attempt's chain, when the second could not be made. */
	if (rc == -1)
		probe_result_free(r);
	probe_ident_free(&id);
	return rc;
}

void
probe_result_free(struct probe_result *r)
{
	size_t	i;

	for (i = 0; i < r->nchain; i++)
		x509_cert_clear(&r->chain[i]);
	free(r->chain);
	r->chain = NULL;
	r->nchain = 0;
}

/* ---- endpoints ------------------------------------------------------- */

static const char *const probe_proto_names[] = {
	[PROBE_TLS] = "tls",
	[PROBE_SMTP] = "smtp",
	[PROBE_IMAP] = "imap",
	[PROBE_POP3] = "pop3",
	[PROBE_LDAP] = "ldap",
};

const char *
probe_proto_name(enum probe_proto p)
{
	if ((size_t)p >= sizeof(probe_proto_names) /
	    sizeof(probe_proto_names[0]))
		return "?";
	return probe_proto_names[p];
}

/* The scheme of "SCHEME://rest": sets *proto, returns rest (spec itself
 * when there is no scheme), NULL for an unknown scheme. */
static const char *
probe_endpoint_scheme(const char *spec, enum probe_proto *proto)
{
	const char	*sep = strstr(spec, "://");
	size_t		 i, n;

	*proto = PROBE_TLS;
	if (sep == NULL)
		return spec;
	n = (size_t)(sep - spec);
	for (i = 0; i < sizeof(probe_proto_names) /
	    sizeof(probe_proto_names[0]); i++)
		if (strlen(probe_proto_names[i]) == n &&
		    strncasecmp(spec, probe_proto_names[i], n) == 0) {
			*proto = (enum probe_proto)i;
			return sep + 3;
		}
	return NULL;
}

int
probe_endpoint_parse(const char *spec, struct probe_endpoint *ep,
    struct cv_err *err)
{
	const char	*hp, *host, *port, *end;
	size_t		 hl;

	memset(ep, 0, sizeof(*ep));
	if ((hp = probe_endpoint_scheme(spec, &ep->proto)) == NULL) {
		cv_err_set(err, "%s: unknown scheme (expected host:port, or "
		    "smtp://, imap://, pop3://, ldap://)", spec);
		return -1;
	}
	if (hp[0] == '[') {
		if ((end = strchr(hp, ']')) == NULL || end[1] != ':')
			goto bad;
		host = hp + 1;
		hl = (size_t)(end - host);
		port = end + 2;
	} else {
		if ((end = strrchr(hp, ':')) == NULL || strchr(hp, ':') != end)
			goto bad;
		host = hp;
		hl = (size_t)(end - hp);
		port = end + 1;
	}
	if (hl == 0 || hl >= sizeof(ep->host) || *port == '\0' ||
	    strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || strtoul(port, NULL, 10) == 0 ||
	    strtoul(port, NULL, 10) > 65535)
		goto bad;
	memcpy(ep->host, host, hl);
	ep->host[hl] = '\0';
	snprintf(ep->port, sizeof(ep->port), "%s", port);
	return 0;
bad:
	cv_err_set(err, "%s: expected HOST:PORT, [IPv6]:PORT or "
	    "SCHEME://HOST:PORT", spec);
	return -1;
}

void
probe_endpoint_str(const struct probe_endpoint *ep, char *buf, size_t len)
{
	int	v6 = strchr(ep->host, ':') != NULL;

	snprintf(buf, len, "%s%s%s%s%s:%s", ep->proto == PROBE_TLS ? "" :
	    probe_proto_name(ep->proto), ep->proto == PROBE_TLS ? "" : "://",
	    v6 ? "[" : "", ep->host, v6 ? "]" : "", ep->port);
}
