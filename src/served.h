/*
 * What is served, watched (issue 15): every binding's probe endpoints
 * (binding_nprobes) are probed every probe_interval, each probe on a
 * thread of its own (worker.c), never on the loop.  The latest result of
 * each (binding, endpoint) -- and of each probe a renewal's verify step
 * made -- is the served table's row (served.c owns it).  A served
 * thumbprint other than the binding's certhash is a served_drift event
 * and alert, an endpoint with require_client_cert that accepts a client
 * without a certificate a mtls_not_enforced one: once per change, with a
 * _resolved event when it is over.  Loop thread only, but the hook.
 */
#ifndef CV_SERVED_H
#define CV_SERVED_H

#include <jansson.h>
#include <uv.h>

#include "alert.h"
#include "conf.h"
#include "inventory.h"
#include "renew.h"

struct served;

/* changed(arg) runs after each stored result (the metrics textfile). */
struct served	*served_new(uv_loop_t *, struct inventory *, struct config *,
		    struct renewer *, struct alert *, void (*changed)(void *),
		    void *arg);
void		 served_set_config(struct served *, struct config *);
/* A renewal of the binding deploying path ended (done or rolled back):
 * its endpoints are probed again now. */
void		 served_renewal_ended(struct served *, const char *path);
/* A binding was added, changed or deleted (the "binding" request). */
void		 served_bindings_changed(struct served *);
/* Adds "last_probe" (one object per endpoint) to each binding of a
 * binding show result. */
void		 served_annotate(struct served *, json_t *bindings);
/* renew_set_probe_hook's hook: any thread. */
void		 served_report(void *served, const struct renew_probe_report *);
/* No new probes (shutdown has begun). */
void		 served_stop(struct served *);
/* Once the probes in flight are done and nothing can report any more
 * (the renewer is closed): frees, then cb. */
void		 served_close(struct served *, void (*cb)(void *), void *arg);

#endif
