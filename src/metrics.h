/* Prometheus text exposition of the inventory and the daemon. */
#ifndef CV_METRICS_H
#define CV_METRICS_H

#include <stddef.h>

#include "alert.h"
#include "conf.h"
#include "inventory.h"
#include "scan.h"

struct renewer;

/* Renders the exposition; the caller frees the text.  The renewer
 * (NULL: none) gives the per-binding series (issue 15). */
char	*metrics_render(struct inventory *, const struct config *,
	    const struct scan_progress *, struct alert *, struct renewer *,
	    size_t *len);

#endif
