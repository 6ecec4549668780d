/*
 * Issuer backends, as blocking functions for the thread pool (no globals,
 * no printing): a new key (or the binding's, with reuse_key), a CSR, the
 * local CA, collecting a signed certificate from an inbox or an exec
 * issuer's output (matched by public key), and the check gate before
 * anything is touched.  Results land in the daemon's store:
 * STORE/<sha1>.pem (leaf), <sha1>.chain.pem, <sha1>.key (0600);
 * a key waiting for its certificate is STORE/pending-<id>.key.
 */
#ifndef CV_ISSUER_H
#define CV_ISSUER_H

#include <stdint.h>
#include <time.h>

#include "binding.h"
#include "cverr.h"

/* Local CA: key, CSR, certificate, into the store.  sha1 of the result. */
int	 issuer_local(const struct issuer *, const struct binding *,
	    const char *store, int64_t id, time_t now, char sha1[41],
	    struct cv_err *);
/* csr / exec: the pending key (made once; a second run reuses it) and a
 * CSR written atomically to csr_path. */
int	 issuer_request(const struct issuer *, const struct binding *,
	    const char *store, int64_t id, const char *csr_path,
	    struct cv_err *);
/*
 * Looks for the certificate of the pending key in path (a directory:
 * every .cer/.crt/.pem/.p7b; or one file).  0: found and stored (sha1
 * set); 1: not there yet; -1: error.
 */
int	 issuer_collect(const char *store, int64_t id, const char *path,
	    char sha1[41], struct cv_err *);
/* The check rules on the stored certificate; -1 with the failed rules. */
int	 issuer_validate(const struct issuer *, const struct binding *,
	    const char *store, const char *sha1, time_t now, struct cv_err *);
/* Removes a stored certificate (pruning beyond the kept five). */
void	 issuer_store_remove(const char *store, const char *sha1);

#endif
