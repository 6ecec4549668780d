/*
 * The daemon's certificate store, STATE_DIR/store, and its one owner:
 * the issuers write sets, deployment reads them, the renewal engine keeps
 * and prunes them, and none of them builds a store path.  Layout:
 *
 *   <sha1>.pem		the leaf (written last: its presence means the set
 *			is whole)
 *   <sha1>.chain.pem	the chain (absent when there is none)
 *   <sha1>.key		the key, 0600
 *   pending-<id>.key	renewal id's key while its certificate is awaited
 *   issued-<id>	the sha1 of the set stored for renewal id, so that a
 *			request run twice (after a crash) answers with it
 *
 * The file functions are blocking and keep no state: thread pool.  The
 * index (which sets are kept for which binding: the journal's store
 * table) is the loop thread's, as every SQL statement is.
 */
#ifndef CV_STORE_H
#define CV_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/x509.h>

#include "cverr.h"

struct journal;
struct store;

enum store_part {
	STORE_CERT = 0,
	STORE_CHAIN,
	STORE_KEY,
};

/* A set as deployment reads it.  chain is NULL when there is none. */
struct store_set {
	unsigned char	*cert, *chain, *key;
	size_t		 cert_len, chain_len, key_len;
};

/* j may be NULL: no index (store_keep then only fails). */
struct store	*store_new(const char *dir, struct journal *j);
void	 store_free(struct store *);
const char *store_dir(const struct store *);
/* Creates the directory (0700) if it is missing. */
int	 store_mkdir(const struct store *, struct cv_err *);
/*
 * Removes the temporaries (keys among them) that a writer killed mid-way
 * left, *.cvtmp.PID.* and *.cvold.PID.* of a process gone.  At start-up,
 * before any writer of ours: returns how many.
 */
int	 store_clean(const struct store *);

/* ---- layout (caller frees) ---- */
char	*store_path(const struct store *, const char *sha1, enum store_part);
char	*store_pending_path(const struct store *, int64_t id);

/* ---- files (blocking: thread pool) ---- */

/* Renewal id's pending key: 1 loaded, 0 none yet, -1 unreadable. */
int	 store_pending_load(const struct store *, int64_t id,
	    gnutls_x509_privkey_t *, struct cv_err *);
/* Writes the pending key (0600, atomically). */
int	 store_pending_save(const struct store *, int64_t id,
	    gnutls_x509_privkey_t, struct cv_err *);
/*
 * Stores leaf (with its chain) and key as one set (fsutil_write_set: all
 * or nothing, the leaf renamed last); sha1 gets the leaf's thumbprint.
 * With id > 0 it also records issued-<id> and drops pending-<id>.key.
 */
int	 store_put(const struct store *, int64_t id, gnutls_x509_crt_t leaf,
	    gnutls_x509_crt_t *chain, size_t nchain, gnutls_x509_privkey_t key,
	    char sha1[41], struct cv_err *);
/* 1 (sha1 set) when a whole set was stored for renewal id, else 0. */
int	 store_issued(const struct store *, int64_t id, char sha1[41]);
/* Reads a set: certificate and key must be there, the chain may not. */
int	 store_read(const struct store *, const char *sha1, struct store_set *,
	    struct cv_err *);
void	 store_set_free(struct store_set *);
/* Removes a set (pruning). */
void	 store_remove(const struct store *, const char *sha1);

/* ---- the index (loop thread) ---- */

/*
 * Renewal id put sha1 in service for binding: records it, then removes
 * every set of the binding beyond the newest keep (keep_also, the one
 * it replaced, is never removed) and id's issued-<id>.  The new set is
 * never removed.  Returns how many sets it removed, or -1 when the index
 * could not be written (nothing removed).
 */
int	 store_keep(struct store *, const char *binding, const char *sha1,
	    const char *keep_also, int keep, int64_t id, time_t now);

#endif
