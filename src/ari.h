/*
 * ACME Renewal Information (issue 17, RFC 9773): the certID of a
 * certificate and one poll of the CA's renewalInfo.  ari_fetch and
 * ari_cert_id_file block (network, files): worker threads only.  The
 * loop's side -- the inventory rows, when to poll, how the window moves
 * the renewal -- is renew_ari.c; the window arithmetic is schedule.c's
 * sched_ari_moment_in.
 */
#ifndef CV_ARI_H
#define CV_ARI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/x509.h>
#include <jansson.h>

#include "cverr.h"

struct issuer;

/* Retry-After is clamped to [1 min, 12 h]; without one, 6 h. */
#define ARI_POLL_MIN		60
#define ARI_POLL_MAX		(12 * 3600)
#define ARI_POLL_DEFAULT	(6 * 3600)
/* After a failed poll (the CA unreachable, a 404 for a certificate it
 * did not issue). */
#define ARI_POLL_ERROR		3600

/* What one poll found.  has_window 0: none (error set, or no_ari). */
struct ari_result {
	char	*cert_id;		/* NULL when the certificate failed */
	int	 has_window;
	time_t	 start, end;
	char	*explanation_url;	/* NULL: none */
	int64_t	 retry_s;		/* the next poll, clamped */
	int	 no_ari;		/* the directory has no renewalInfo */
	char	*error;			/* one line, or NULL */
};

/* base64url(AKI keyIdentifier) "." base64url(serial DER content). */
char	*ari_cert_id_raw(const unsigned char *aki, size_t aki_len,
	    const unsigned char *serial, size_t serial_len);
int	 ari_cert_id(gnutls_x509_crt_t, char **, struct cv_err *);
/* The certID of the first certificate of a PEM or DER file. */
int	 ari_cert_id_file(const char *path, char **, struct cv_err *);

/* Issuer is of type acme with ARI not turned off: its directory, the
 * anchors for its HTTPS, and ari_poll (0: none).  0 otherwise. */
int	 ari_issuer(const struct issuer *, const char **directory,
	    const char **ca_file, int64_t *poll);

/*
 * One poll: the directory, then renewalInfo/CERTID for the certificate
 * in cert_path.  Always fills res (retry_s too: poll overrides it);
 * returns 0 when a window came, -1 otherwise (res->error says why).
 */
int	 ari_fetch(const char *directory, const char *ca_file,
	    const char *cert_path, int64_t poll, time_t now,
	    struct ari_result *);
void	 ari_result_free(struct ari_result *);
/* newOrder's "replaces" (RFC 9773 5): the certID of the certificate the
 * order replaces, when ARI is on, the directory has renewalInfo and the
 * certificate is in the store.  Worker thread. */
struct acme_ctx;
void	 ari_order_replaces(const struct acme_ctx *, json_t *payload);
/* Retry-After seconds clamped to [ARI_POLL_MIN, ARI_POLL_MAX]. */
int64_t	 ari_clamp(int64_t);

#endif
