/*
 * The plain-text dialogues a probe speaks before TLS on a STARTTLS port
 * (smtp://, imap://, pop3://, ldap://), as openssl s_client -starttls
 * does.  Blocking, on a connected socket, within the probe's deadline;
 * called by probe.c from the thread pool or the CLI.
 */
#ifndef CV_STARTTLS_H
#define CV_STARTTLS_H

#include <stddef.h>
#include <stdint.h>

#include "cverr.h"
#include "probe.h"

/* The longest line read from a server; longer ones are an error. */
#define STARTTLS_LINE_MAX	1024
/* The most lines of one reply (an EHLO lists its extensions). */
#define STARTTLS_LINES_MAX	64

/*
 * Asks the server on fd to start TLS.  deadline is CLOCK_MONOTONIC in
 * milliseconds.  0 when the next bytes on fd are the server's TLS
 * handshake; -1 with "ENDPOINT: what the server said" in err (no
 * STARTTLS offered, refused, timed out, closed).
 */
int	starttls_begin(int fd, enum probe_proto, const char *endpoint,
	    int64_t deadline, struct cv_err *);
/*
 * What to send over TLS once the handshake is done: a command the server
 * answers (or closes on), so that a client refused after the handshake
 * learns it at once.  Sets *len; NULL for PROBE_TLS.
 */
const char *starttls_bye(enum probe_proto, size_t *len);

#endif
