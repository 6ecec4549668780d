/*
 * A GnuTLS client probe of a live TLS port: the served chain, the
 * negotiated parameters, whether the server asks for (and enforces) a
 * client certificate.  No global state and no printing: the renewal
 * engine calls it from the libuv thread pool.
 */
#ifndef CV_PROBE_H
#define CV_PROBE_H

#include <stddef.h>

#include "cverr.h"
#include "x509.h"

#define PROBE_TIMEOUT_DEFAULT_MS	10000u
/*
 * How long to wait after the handshake for the server's verdict.  In
 * TLS 1.3 a server that refuses a client without a certificate says so
 * only after the client's handshake has completed.
 */
#define PROBE_SETTLE_MAX_MS		3000u

/*
 * What a probe speaks before TLS: nothing ("host:port"), or the
 * protocol's STARTTLS ("smtp://host:port", "imap://", "pop3://",
 * "ldap://"), as openssl s_client -starttls does.
 */
enum probe_proto {
	PROBE_TLS = 0,
	PROBE_SMTP,
	PROBE_IMAP,
	PROBE_POP3,
	PROBE_LDAP,
};

/* One endpoint a probe connects to, parsed from its written form. */
struct probe_endpoint {
	enum probe_proto	 proto;
	char			 host[256];	/* without [] for IPv6 */
	char			 port[8];
};

struct probe_opts {
	const char	*host;		/* name or address to connect to */
	const char	*port;
	const char	*sni;		/* NULL: host, unless an address */
	const char	*ca_file;	/* NULL: the system trust store */
	const char	*cert_file;	/* client certificate (any format) */
	const char	*key_file;	/* NULL: the key is in cert_file */
	const char	*password;	/* for PKCS#12 / encrypted keys */
	const char	*expect_sha1;	/* thumbprint, any case, ':' ok */
	unsigned	 timeout_ms;	/* per connection; 0: default */
	enum probe_proto starttls;	/* PROBE_TLS: TLS at once */
};

/* One TLS connection, with or without the client certificate. */
struct probe_attempt {
	int		 tried;
	int		 connected;	/* TCP connected */
	int		 handshake;	/* the client's handshake completed */
	int		 accepted;	/* ...and the server did not reject
					   the client after it */
	int		 cert_requested; /* CertificateRequest seen */
	int		 cert_sent;
	int		 http_status;	/* of the answer to GET /; 0: none */
	char		 error[256];	/* why not accepted, "" if it was */
};

struct probe_result {
	char			 address[64];	/* the address connected to */
	char			 protocol[32];
	char			 cipher[160];	/* GnuTLS session description */
	struct x509_cert	*chain;		/* as served, leaf first */
	size_t			 nchain;
	int			 verified;	/* chain + name verify */
	char			 verify_error[256];
	int			 thumbprint_match; /* -1 not asked, 0, 1 */
	struct probe_attempt	 without;	/* no client certificate */
	struct probe_attempt	 with;		/* --cert given */
	int			 mtls_enforced;	/* -1 unknown, 0, 1 */
	int			 ok;		/* the expectation holds */
};

/*
 * Probes opts->host:opts->port.  Returns -1 with a one-line reason when
 * no TLS handshake could be made at all (unreachable, timeout, not TLS,
 * unreadable client certificate); otherwise 0 with the findings in res
 * (free with probe_result_free), whether or not the expectation holds.
 */
int	probe_run(const struct probe_opts *, struct probe_result *,
	    struct cv_err *);
void	probe_result_free(struct probe_result *);
/* HTTP 400, 403, 495 or 496 after the handshake from a server that asked
 * for a client certificate: the certificate (or its absence) was refused.
 * probe_run applies it to both attempts (accepted = 0). */
int	probe_refused_after_handshake(int http_status);

/*
 * Parses "host:port", "[v6]:port" or "SCHEME://host:port" (SCHEME one of
 * smtp, imap, pop3, ldap; tls:// is the same as none).  -1 with
 * "SPEC: why" in err.
 */
int	probe_endpoint_parse(const char *spec, struct probe_endpoint *,
	    struct cv_err *);
/* "tls", "smtp", "imap", "pop3", "ldap". */
const char *probe_proto_name(enum probe_proto);
/* The written form of ep ("smtp://host:port", "[::1]:443"). */
void	probe_endpoint_str(const struct probe_endpoint *, char *buf,
	    size_t len);

#endif
