/*
 * Alerts before expiry, on expiry, for certificates not yet valid or
 * invalid, and for drift: evaluated from the inventory at the next
 * deadline (one timer), sent once per (certificate, threshold) and
 * recorded, through the log, the event stream and alert_command.
 */
#ifndef CV_ALERT_H
#define CV_ALERT_H

#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "conf.h"
#include "inventory.h"

struct alert;

struct alert_stats {
	int64_t	command_failures;	/* since start */
	int64_t	queued;			/* alert_command runs pending */
};

struct alert	*alert_new(uv_loop_t *, struct inventory *, struct config *);
void		 alert_set_config(struct alert *, struct config *);
/* The inventory changed: evaluate the marked certificates soon. */
void		 alert_kick(struct alert *);
/* Issue 15: an event of the renewal engine or the served watch; the
 * kinds that need a person (alert_event_kind) go to alert_command. */
void		 alert_event(struct alert *, json_t *event);
int		 alert_event_kind(const char *kind);
void		 alert_get_stats(struct alert *, struct alert_stats *);
/* Alerts sent since start (changes whenever alert_counts() does). */
int64_t		 alert_sent_total(struct alert *);
/* Alerts sent, per threshold label, as {"14d": n, "expired": n, ...}. */
json_t		*alert_counts(struct alert *);
void		 alert_close(struct alert *, void (*cb)(void *), void *arg);

/*
 * An alert about a binding's endpoint (issue 15: served_drift,
 * mtls_not_enforced and their _resolved), sent by its caller once per
 * change: the log (msgid certvigil-alert) and alert_command, whose
 * CERTVIGIL_EVENT is event; sha1 is the served thumbprint, na its
 * notAfter (0: none).  The caller records the event itself.
 */
void		 alert_notify(struct alert *, const char *event,
		    const char *binding, const char *endpoint,
		    const char *sha1, time_t na, const char *paths,
		    const char *msg);

/* "14d", "12h", "90s": the label of a threshold in seconds. */
char		*alert_threshold_label(int64_t, char *buf, size_t len);

#endif
