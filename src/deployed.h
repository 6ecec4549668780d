/*
 * What a binding's cert_file holds now (leaf thumbprint and validity),
 * without reading it on the loop thread: from the inventory when the
 * scanner read that path and the file still has the inode, size and
 * mtime it had then, else from a cache filled by a thread-pool job.
 * Loop thread only (the inventory is).
 */
#ifndef CV_DEPLOYED_H
#define CV_DEPLOYED_H

#include <time.h>

#include <uv.h>

#include "cverr.h"
#include "inventory.h"

/* deployed_get(): a pool job is reading the file; ready runs when done. */
#define DEPLOYED_PENDING	1

struct deployed;

struct deployed_leaf {
	char	sha1[41];
	time_t	not_before;
	time_t	not_after;
};

/*
 * ready(arg) runs on the loop after each pool read completes, so that the
 * caller asks again (it is not called once deployed_free() was).
 */
struct deployed	*deployed_new(uv_loop_t *, struct inventory *,
		    void (*ready)(void *), void *arg);
/*
 * 0 with *leaf, -1 with err (missing, unreadable, no certificate), or
 * DEPLOYED_PENDING (a read was queued or is running).  Costs a stat(2)
 * and, for watched files, one indexed SELECT.
 */
int		 deployed_get(struct deployed *, const char *path,
		    struct deployed_leaf *, struct cv_err *);
/* The same for a file read with a password file (a binding's pfx_file,
 * issue 14): read again when either file changes. */
int		 deployed_get_form(struct deployed *, const char *path,
		    const char *password_file, struct deployed_leaf *,
		    struct cv_err *);
/* Frees now, or when the last read in flight comes back. */
void		 deployed_free(struct deployed *);

#endif
