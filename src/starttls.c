/*
 * STARTTLS dialogues (RFC 3207 SMTP, RFC 3501 IMAP, RFC 2595 POP3,
 * RFC 4511 LDAP).  Every read waits within the probe's deadline and
 * every line is bounded; what a server says is quoted into errors only
 * after its control characters are replaced.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "starttls.h"

/* One connection's reader: bytes received and not yet consumed. */
struct starttls_conn {
	int		 fd;
	int64_t		 deadline;
	const char	*ep;		/* the endpoint, for errors */
	char		 buf[STARTTLS_LINE_MAX];
	size_t		 len;
	char		 line[STARTTLS_LINE_MAX + 1];	/* without CRLF */
};

/* The LDAP StartTLS extended request (RFC 4511 4.14.1), message id 1. */
static const unsigned char starttls_ldap_req[] = {
	0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16,
	'1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.',
	'1', '4', '6', '6', '.', '2', '0', '0', '3', '7',
};
/* An LDAP UnbindRequest, message id 2: the server just closes. */
static const unsigned char starttls_ldap_unbind[] = {
	0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00,
};

static int64_t
starttls_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the server said, fit for a one-line message. */
static const char *
starttls_quote(const char *s, char *out, size_t outlen)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[i] = '\0';
	return out;
}

/* At least one more byte into c->buf, within the deadline. */
static int
starttls_fill(struct starttls_conn *c, struct cv_err *err)
{
	struct pollfd	pfd;
	int64_t		left;
	ssize_t		n;
	int		rc;

	if (c->len == sizeof(c->buf))
		return cv_err_set(err, "%s: the server sent a line longer "
		    "than %d bytes", c->ep, STARTTLS_LINE_MAX);
	for (;;) {
		if ((left = c->deadline - starttls_now_ms()) <= 0)
			return cv_err_set(err, "%s: timed out waiting for the "
			    "server's answer", c->ep);
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			return cv_err_set(err, "%s: poll: %s", c->ep,
			    strerror(errno));
		if (rc == 0)
			continue;	/* the deadline check says so */
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return cv_err_set(err, "%s: %s", c->ep,
			    strerror(errno));
		if (n == 0)
			return cv_err_set(err, "%s: the server closed the "
			    "connection", c->ep);
		c->len += (size_t)n;
		return 0;
	}
}

/* The next line into c->line, without its CR LF. */
static int
starttls_line(struct starttls_conn *c, struct cv_err *err)
{
	char	*nl;
	size_t	 n;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		if (starttls_fill(c, err) == -1)
			return -1;
	n = (size_t)(nl - c->buf);
	memcpy(c->line, c->buf, n);
	c->line[n] = '\0';
	if (n > 0 && c->line[n - 1] == '\r')
		c->line[n - 1] = '\0';
	/* A NUL inside the line ends it: the rest is not text anyway. */
	c->len -= n + 1;
	memmove(c->buf, nl + 1, c->len);
	return 0;
}

static int
starttls_send(struct starttls_conn *c, const void *p, size_t n,
    struct cv_err *err)
{
	ssize_t	w;

	while (n > 0) {
		/* SO_SNDTIMEO, set by the caller, bounds a stuck write. */
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return cv_err_set(err, "%s: %s", c->ep,
			    strerror(errno));
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * One SMTP reply: its code in *code and, when ext is not NULL, whether
 * one of its lines is the STARTTLS extension.  said gets the lines,
 * joined by ", ", as far as they fit.
 */
static int
starttls_smtp_reply(struct starttls_conn *c, int *code, int *ext,
    char *said, size_t saidlen, struct cv_err *err)
{
	char	q[STARTTLS_LINE_MAX + 1];
	size_t	used = 0;
	int	i;

	said[0] = '\0';
	for (i = 0; i < STARTTLS_LINES_MAX; i++) {
		if (starttls_line(c, err) == -1)
			return -1;
		if (used < saidlen)
			used += (size_t)snprintf(said + used, saidlen - used,
			    "%s%s", used ? ", " : "", starttls_quote(c->line,
			    q, sizeof(q)));
		if (!isdigit((unsigned char)c->line[0]) ||
		    !isdigit((unsigned char)c->line[1]) ||
		    !isdigit((unsigned char)c->line[2]) ||
		    (c->line[3] != '\0' && c->line[3] != ' ' &&
		    c->line[3] != '-'))
			return cv_err_set(err, "%s: not an SMTP server (it "
			    "said \"%s\")", c->ep, said);
		*code = (c->line[0] - '0') * 100 + (c->line[1] - '0') * 10 +
		    (c->line[2] - '0');
		if (ext != NULL && c->line[3] != '\0' &&
		    strncasecmp(c->line + 4, "STARTTLS", 8) == 0 &&
		    (c->line[12] == '\0' || c->line[12] == ' '))
			*ext = 1;
		if (c->line[3] != '-')
			return 0;
	}
	return cv_err_set(err, "%s: an SMTP reply of more than %d lines",
	    c->ep, STARTTLS_LINES_MAX);
}

static int
starttls_smtp(struct starttls_conn *c, struct cv_err *err)
{
	static const char	 ehlo[] = "EHLO localhost\r\n";
	static const char	 stls[] = "STARTTLS\r\n";
	char			 said[256];
	int			 code = 0, ext = 0;

	if (starttls_smtp_reply(c, &code, NULL, said, sizeof(said),
	    err) == -1)
		return -1;
	if (code != 220)
		return cv_err_set(err, "%s: the server's greeting is not 220 "
		    "(it said \"%s\")", c->ep, said);
	if (starttls_send(c, ehlo, sizeof(ehlo) - 1, err) == -1 ||
	    starttls_smtp_reply(c, &code, &ext, said, sizeof(said),
	    err) == -1)
		return -1;
	if (code != 250)
		return cv_err_set(err, "%s: EHLO refused (the server said "
		    "\"%s\")", c->ep, said);
	if (!ext)
		return cv_err_set(err, "%s: the server does not offer "
		    "STARTTLS (its EHLO said \"%s\")", c->ep, said);
	if (starttls_send(c, stls, sizeof(stls) - 1, err) == -1 ||
	    starttls_smtp_reply(c, &code, NULL, said, sizeof(said),
	    err) == -1)
		return -1;
	if (code != 220)
		return cv_err_set(err, "%s: STARTTLS refused (the server said "
		    "\"%s\")", c->ep, said);
	return 0;
}

/*
 * IMAP: the untagged greeting, then "a STARTTLS"; untagged lines before
 * the tagged answer (a CAPABILITY some servers volunteer) are skipped.
 */
static int
starttls_imap(struct starttls_conn *c, struct cv_err *err)
{
	static const char	 cmd[] = "a STARTTLS\r\n";
	char			 q[200];
	int			 i;

	if (starttls_line(c, err) == -1)
		return -1;
	if (strncasecmp(c->line, "* OK", 4) != 0)
		return cv_err_set(err, "%s: not an IMAP server ready for "
		    "STARTTLS (it said \"%s\")", c->ep,
		    starttls_quote(c->line, q, sizeof(q)));
	if (starttls_send(c, cmd, sizeof(cmd) - 1, err) == -1)
		return -1;
	for (i = 0; i < STARTTLS_LINES_MAX; i++) {
		if (starttls_line(c, err) == -1)
			return -1;
		if (strncmp(c->line, "* ", 2) == 0)
			continue;
		if (strncasecmp(c->line, "a OK", 4) == 0)
			return 0;
		return cv_err_set(err, "%s: the server does not offer "
		    "STARTTLS (it said \"%s\")", c->ep,
		    starttls_quote(c->line, q, sizeof(q)));
	}
	return cv_err_set(err, "%s: no answer to STARTTLS in %d lines",
	    c->ep, STARTTLS_LINES_MAX);
}

static int
starttls_pop3(struct starttls_conn *c, struct cv_err *err)
{
	static const char	 cmd[] = "STLS\r\n";
	char			 q[200];

	if (starttls_line(c, err) == -1)
		return -1;
	if (strncmp(c->line, "+OK", 3) != 0)
		return cv_err_set(err, "%s: not a POP3 server ready for STLS "
		    "(it said \"%s\")", c->ep,
		    starttls_quote(c->line, q, sizeof(q)));
	if (starttls_send(c, cmd, sizeof(cmd) - 1, err) == -1 ||
	    starttls_line(c, err) == -1)
		return -1;
	if (strncmp(c->line, "+OK", 3) != 0)
		return cv_err_set(err, "%s: the server does not offer "
		    "STARTTLS (it said \"%s\")", c->ep,
		    starttls_quote(c->line, q, sizeof(q)));
	return 0;
}

/* One BER tag-length-value at *p (definite lengths of up to 2 bytes). */
static int
starttls_ber(const unsigned char **p, const unsigned char *end,
    unsigned *tag, const unsigned char **val, size_t *vlen)
{
	const unsigned char	*q = *p;
	size_t			 l, n;

	if (end - q < 2)
		return -1;
	*tag = q[0];
	l = q[1];
	q += 2;
	if (l & 0x80) {
		n = l & 0x7f;
		if (n == 0 || n > 2 || (size_t)(end - q) < n)
			return -1;
		for (l = 0; n > 0; n--)
			l = l << 8 | *q++;
	}
	if ((size_t)(end - q) < l)
		return -1;
	*val = q;
	*vlen = l;
	*p = q + l;
	return 0;
}

/* One whole LDAPMessage from the stream; its length in *total. */
static int
starttls_ldap_msg(struct starttls_conn *c, size_t *total, struct cv_err *err)
{
	const unsigned char	*b = (const unsigned char *)c->buf;
	size_t			 hdr = 2, l, i;

	while (c->len < 2)
		if (starttls_fill(c, err) == -1)
			return -1;
	if (b[0] != 0x30 || b[1] == 0x80 || (b[1] & 0x80 &&
	    (b[1] & 0x7f) > 2))
		return cv_err_set(err, "%s: not an LDAP server (an answer "
		    "that is not an LDAPMessage)", c->ep);
	l = b[1];
	if (l & 0x80) {
		hdr += l & 0x7f;
		while (c->len < hdr)
			if (starttls_fill(c, err) == -1)
				return -1;
		for (l = 0, i = 2; i < hdr; i++)
			l = l << 8 | b[i];
	}
	if (hdr + l > sizeof(c->buf))
		return cv_err_set(err, "%s: an LDAP answer longer than %zu "
		    "bytes", c->ep, sizeof(c->buf));
	while (c->len < hdr + l)
		if (starttls_fill(c, err) == -1)
			return -1;
	*total = hdr + l;
	return 0;
}

/*
 * LDAP: the StartTLS extended operation; the ExtendedResponse's
 * resultCode 0 means the server's handshake comes next.
 */
static int
starttls_ldap(struct starttls_conn *c, struct cv_err *err)
{
	const unsigned char	*p, *end, *v, *op, *opend;
	char			 diag[200], q[200];
	size_t			 total = 0, vl;
	unsigned		 tag;
	int			 code;

	if (starttls_send(c, starttls_ldap_req, sizeof(starttls_ldap_req),
	    err) == -1 || starttls_ldap_msg(c, &total, err) == -1)
		return -1;
	p = (const unsigned char *)c->buf;
	end = p + total;
	if (starttls_ber(&p, end, &tag, &v, &vl) == -1)
		goto bad;
	p = v;
	end = v + vl;
	/* messageID, then the ExtendedResponse [APPLICATION 24]. */
	if (starttls_ber(&p, end, &tag, &v, &vl) == -1 || tag != 0x02 ||
	    starttls_ber(&p, end, &tag, &op, &vl) == -1 || tag != 0x78)
		goto bad;
	opend = op + vl;
	if (starttls_ber(&op, opend, &tag, &v, &vl) == -1 || tag != 0x0a ||
	    vl != 1)
		goto bad;
	code = v[0];
	diag[0] = '\0';
	/* matchedDN, then diagnosticMessage: what the server explains. */
	if (starttls_ber(&op, opend, &tag, &v, &vl) == 0 && tag == 0x04 &&
	    starttls_ber(&op, opend, &tag, &v, &vl) == 0 && tag == 0x04) {
		if (vl >= sizeof(diag))
			vl = sizeof(diag) - 1;
		memcpy(diag, v, vl);
		diag[vl] = '\0';
	}
	c->len -= total;
	memmove(c->buf, c->buf + total, c->len);
	if (code != 0)
		return cv_err_set(err, "%s: the server does not offer "
		    "STARTTLS (it said: result %d%s%s)", c->ep, code,
		    diag[0] ? ", " : "", starttls_quote(diag, q, sizeof(q)));
	return 0;
bad:
	return cv_err_set(err, "%s: not an LDAP server (an answer that is "
	    "not an ExtendedResponse)", c->ep);
}

int
starttls_begin(int fd, enum probe_proto proto, const char *endpoint,
    int64_t deadline, struct cv_err *err)
{
	struct starttls_conn	c;
	int			rc = -1;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.deadline = deadline;
	c.ep = endpoint;
	switch (proto) {
	case PROBE_SMTP:
		rc = starttls_smtp(&c, err);
		break;
	case PROBE_IMAP:
		rc = starttls_imap(&c, err);
		break;
	case PROBE_POP3:
		rc = starttls_pop3(&c, err);
		break;
	case PROBE_LDAP:
		rc = starttls_ldap(&c, err);
		break;
	case PROBE_TLS:
		return 0;
	}
	/*
	 * Bytes after the answer would be taken for the server's handshake
	 * or, worse, be plain text injected into the TLS session (the
	 * STARTTLS command injection of CVE-2011-0411): refuse them.
	 */
	if (rc == 0 && c.len > 0)
		rc = cv_err_set(err, "%s: the server sent data after its "
		    "STARTTLS answer, before TLS", endpoint);
	return rc;
}

const char *
starttls_bye(enum probe_proto proto, size_t *len)
{
	const char	*s = NULL;

	switch (proto) {
	case PROBE_SMTP:
	case PROBE_POP3:
		s = "QUIT\r\n";
		break;
	case PROBE_IMAP:
		s = "a LOGOUT\r\n";
		break;
	case PROBE_LDAP:
		*len = sizeof(starttls_ldap_unbind);
		return (const char *)starttls_ldap_unbind;
	case PROBE_TLS:
		break;
	}
	*len = s != NULL ? strlen(s) : 0;
	return s;
}
