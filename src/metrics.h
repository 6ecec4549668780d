/* Prometheus text exposition of the inventory and the daemon. */
#ifndef CV_METRICS_H
#define CV_METRICS_H

#include <stddef.h>

#include "alert.h"
#include "conf.h"
#include "inventory.h"
#include "scan.h"

/* Renders the exposition; the caller frees the text. */
char	*metrics_render(struct inventory *, const struct config *,
	    const struct scan_progress *, struct alert *, size_t *len);

#endif
