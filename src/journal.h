/*
 * The renewal journal and the binding records in SQLite: every SQL
 * statement of bindings and renewals lives here.  Journal writes run with
 * PRAGMA synchronous = FULL, so a state is on disk before its side effect
 * begins.  Loop thread only (the inventory's connection).
 */
#ifndef CV_JOURNAL_H
#define CV_JOURNAL_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "cverr.h"
#include "inventory.h"

struct journal;

struct journal_row {
	int64_t	 id;
	char	*binding;
	char	*state;
	char	 old_sha1[41];
	char	 new_sha1[41];
	char	 restored_sha1[41];	/* what unbinding found live ("" unknown) */
	int	 attempt;
	char	*reason;
	char	*error;
	int64_t	 next_attempt;	/* 0: none */
	int64_t	 started;
	int64_t	 updated;
	int64_t	 down_since_ms;	/* first service stopped; 0: none */
};

struct journal_binding {
	char	*name;
	char	*endpoint;
	char	 certhash[41];	/* "" when none */
	char	*appid;
	char	*source;	/* "config" or "runtime" */
	json_t	*settings;	/* object of strings */
};

int	 journal_open(struct inventory *, struct journal **, struct cv_err *);
void	 journal_close(struct journal *);

/* A new renewal in state "due"; returns its id or -1. */
int64_t	 journal_create(struct journal *, const char *binding,
	    const char *old_sha1, int attempt, const char *reason, time_t now);
/*
 * Commits a transition (and its step row) durably.  new_sha1 and error
 * NULL leave those columns as they are ("" clears the error).  With
 * done_certhash, the binding's certhash changes in the same transaction.
 */
int	 journal_set_state(struct journal *, int64_t id, const char *state,
	    const char *new_sha1, const char *error, int64_t next_attempt,
	    const char *detail, const char *done_certhash, const char *binding,
	    time_t now);
/*
 * The output of the command a state ran (stopping, starting) goes on that
 * state's newest step row, not on the next state's (issue 13 item 13).
 * Not a transition: one statement, no durable commit of its own.
 */
int	 journal_set_output(struct journal *, int64_t id, const char *state,
	    const char *output);
/* Records what unbinding found in cert_file: the thumbprint a rollback
 * restores (and verifies). */
int	 journal_set_restored(struct journal *, int64_t id, const char *sha1,
	    time_t now);
/* Issue 14: the moment the renewal first stopped a service (ms since the
 * epoch), and the outage it measured (ms; 0 when nothing was stopped). */
int	 journal_set_down_since(struct journal *, int64_t id, int64_t ms);
int	 journal_set_downtime(struct journal *, int64_t id, int64_t ms);
/* Whether renewal id ever entered state (its steps): 1, 0, -1 error. */
int	 journal_has_step(struct journal *, int64_t id, const char *state);
/* Renewals not in a final state (done, failed, rolled_back), oldest
 * first.  Caller frees with journal_rows_free. */
int	 journal_active(struct journal *, struct journal_row **, size_t *);
/* The newest renewal of a binding; 0 found, 1 none, -1 error. */
int	 journal_last(struct journal *, const char *binding,
	    struct journal_row *);
void	 journal_row_clear(struct journal_row *);
void	 journal_rows_free(struct journal_row *, size_t);
/* Every renewal, oldest first, with its steps (the "renewals" reply). */
json_t	*journal_list(struct journal *, const char *binding);

/* Bindings. */
int	 journal_binding_get(struct journal *, const char *name,
	    struct journal_binding *);	/* 0, 1 none, -1 */
int	 journal_binding_by_endpoint(struct journal *, const char *endpoint,
	    struct journal_binding *);
int	 journal_binding_put(struct journal *, const struct journal_binding *,
	    time_t now);
/* Adds the row only if there is none (a binding first seen): never
 * changes the certhash of one that exists. */
int	 journal_binding_add_new(struct journal *,
	    const struct journal_binding *, time_t now);
int	 journal_binding_delete(struct journal *, const char *name);
/* All binding names, sorted.  Caller frees each and the array. */
int	 journal_binding_names(struct journal *, char ***, size_t *);
void	 journal_binding_clear(struct journal_binding *);

/* The store: records a certificate of a binding; returns (in *old, NULL
 * ended, caller frees) the thumbprints beyond the newest keep, which the
 * caller removes from disk, and forgets them. */
int	 journal_store_add(struct journal *, const char *sha1,
	    const char *binding, time_t now, int keep, const char *keep_also,
	    char ***old);

/* Whether the inventory knows a certificate and holds its key. */
int	 journal_cert_known(struct journal *, const char *sha1, int *has_key);
/* Issue 17 (revoke): the binding serving sha1 (*served = 1), else the
 * one whose store kept it; 0 found (caller frees *name), 1 none, -1. */
int	 journal_cert_binding(struct journal *, const char *sha1,
	    char **name, int *served);

#endif
