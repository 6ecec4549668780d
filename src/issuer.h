/*
 * Issuers: the [issuer NAME] sections and the one interface the renewal
 * engine drives them through (request; collect or await; validate), so
 * the engine never asks which type it has.  Each type is a row of
 * issuer.c's table and one file (issuer_local.c, issuer_csr.c,
 * issuer_exec.c) holding its own keys and its request/collect; issuer.c
 * holds what they share: the key parser, the pending key, the CSR,
 * collection by public key and the check gate.  Results land in the
 * store (store.h).
 *
 * Request, collect and validate are blocking (thread pool): no globals,
 * no printing.  The rest is for the loop thread and config loading.
 */
#ifndef CV_ISSUER_H
#define CV_ISSUER_H

#include <stdint.h>
#include <time.h>

#include <gnutls/x509.h>

#include "binding.h"
#include "cverr.h"
#include "pki.h"
#include "store.h"

struct issuer_type;

struct issuer {
	char			*name;
	int			 line;
	const struct issuer_type *type;	/* NULL until "type =" */
	/* keys every type takes */
	enum pki_key_type	 key_type;
	unsigned		 bits;
	int			 reuse_key;
	char			*ca_file;	/* trust for the chain check */
	const char		*trust;		/* ca_file or the type's own */
	void			*cfg;		/* the type's keys (its file) */
	/* type-specific keys given before "type =", applied with it */
	char			**early;	/* key, value, key, value, ... */
	size_t			 nearly;
};

/* What a backend is given (filled by the engine; read-only for backends). */
struct issuer_job {
	const struct issuer	*is;
	const struct binding	*b;
	const char		*certhash;	/* what b serves now: reuse_key
						 * takes its key from the store */
	const struct store	*st;
	const char		*work_dir;	/* STATE_DIR/work */
	int64_t			 id;		/* renewal id */
	time_t			 now;
};

enum issuer_status {
	ISSUER_ERROR = -1,	/* err set; nothing touched: fail early */
	ISSUER_READY = 0,	/* certificate + key in the store; sha1 set */
	ISSUER_PENDING,		/* not yet: collect again after retry_ms */
	ISSUER_RUN,		/* run argv/env with timeout, then collect */
};

struct issuer_reply {
	enum issuer_status	 status;
	char			 sha1[41];	/* READY */
	char			**argv;		/* RUN: owned by the reply */
	char			**env;		/* RUN: owned by the reply */
	int64_t			 timeout;	/* RUN: seconds */
	uint64_t		 retry_ms;	/* PENDING */
	int64_t			 alert_after;	/* PENDING: seconds before
						 * renewal_overdue (0: never) */
	char			 detail[256];	/* the journal's detail */
};

/* ---- config (loop thread) ---- */
struct issuer	*issuer_new(const char *name, int line);
/* Sets one key; -1 with "key: why" in err (unknown keys too, and keys of
 * another type). */
int	 issuer_set_key(struct issuer *, const char *key, const char *value,
	    struct cv_err *);
/* Checks what only the whole section can tell. */
int	 issuer_finish(struct issuer *, struct cv_err *);
void	 issuer_free(struct issuer *);
/* "local", "csr", "exec"; "?" without a type. */
const char *issuer_type_name(const struct issuer *);

/* ---- the engine's interface (thread pool) ---- */
void	 issuer_reply_clear(struct issuer_reply *);
/* State issuing: READY, PENDING, RUN or ERROR (also the return value;
 * -1 on ERROR).  Run twice for one renewal (a crash), it reuses the
 * pending key, or answers READY with the set already stored. */
int	 issuer_request(const struct issuer_job *, struct issuer_reply *,
	    struct cv_err *);
/* State awaiting_certificate: READY, PENDING or ERROR. */
int	 issuer_collect(const struct issuer_job *, struct issuer_reply *,
	    struct cv_err *);
/* State issued: the check rules on the stored set; -1 with the failed
 * rules. */
int	 issuer_validate(const struct issuer_job *, const char *sha1,
	    struct cv_err *);

/* ---- for the backends (issuer_*.c) ---- */

/*
 * One issuer type: a row of issuer.c's table.  set_key returns 1 for a
 * key that is not the type's; finish checks the section (required keys)
 * and may set is->trust; request and collect fill the reply and return
 * 0, or -1 with err (the reply's status then ISSUER_ERROR).
 */
struct issuer_type {
	const char	*name;
	void		*(*cfg_new)(void);
	void		 (*cfg_free)(void *);
	int		 (*set_key)(struct issuer *, const char *, const char *,
			    struct cv_err *);
	int		 (*finish)(struct issuer *, struct cv_err *);
	int		 (*request)(const struct issuer_job *,
			    struct issuer_reply *, struct cv_err *);
	int		 (*collect)(const struct issuer_job *,
			    struct issuer_reply *, struct cv_err *);
};

/* The pending key of the job's renewal: reused if it exists, else made
 * (or the binding's, with reuse_key) and saved.  Caller deinits. */
int	 issuer_pending_key(const struct issuer_job *, gnutls_x509_privkey_t *,
	    struct cv_err *);
/*
 * A new key, not saved.  With reuse_key, the key of the set the binding
 * serves (job's certhash) from the store, else key_file opened without
 * following a symlink, one link, and only if it matches cert_file's
 * certificate; when neither, a new key, and note (if not NULL) says why.
 */
int	 issuer_new_key(const struct issuer_job *, gnutls_x509_privkey_t *,
	    char *note, size_t notelen, struct cv_err *);
/* The binding's CSR (subject, SANs) for key. */
int	 issuer_make_csr(const struct binding *, gnutls_x509_privkey_t,
	    gnutls_x509_crq_t *, struct cv_err *);
/* The pending key and a CSR for it written atomically to path. */
int	 issuer_write_request(const struct issuer_job *, const char *path,
	    struct cv_err *);
/*
 * Looks for the certificate of the pending key in path (a directory:
 * every .cer/.crt/.pem/.p7b; or one file) and stores it.  0: found
 * (sha1 set); 1: not there yet; -1: error.
 */
int	 issuer_collect_path(const struct issuer_job *, const char *path,
	    char sha1[41], struct cv_err *);
/* Fills a READY reply. */
int	 issuer_ready(struct issuer_reply *, const char *sha1);
/* Parses a duration key (>= 1 s) with the common error text. */
int	 issuer_duration(const char *key, const char *v, int64_t *,
	    struct cv_err *);

#endif
