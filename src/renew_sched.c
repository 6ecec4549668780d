#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ari.h"
#include "binding.h"
#include "journal.h"
#include "log.h"
#include "renew.h"
#include "renew_int.h"
#include "schedule.h"
#include "timeutil.h"
#include "xmalloc.h"

/*
 * When b renews next; sets *emergency.  Issue 12 item 10, a clock that
 * jumped forward (an NTP step, a VM restore) and back: a certificate
 * issued meanwhile is not valid yet and clients refuse it, so it is due
 * at once, whatever the window; and a next_attempt stored then may lie
 * years out, so it counts for at most the longest backoff from now and
 * never past expiry.
 */
time_t
renew_when(struct renewer *r, const struct binding *b, const char *certhash,
    time_t nb, time_t na, time_t now, int *emergency)
{
	int64_t	next, cap = (int64_t)now + SCHED_BACKOFF_CAP +
	    SCHED_BACKOFF_CAP / 4;
	time_t	m;
	int	ari = 0;

	if ((int64_t)nb > (int64_t)now + SCHED_CLOCK_SKEW) {
		*emergency = 1;
		m = now;
	} else if ((ari = renew_ari_when(r, b, certhash, na, now, &m,
	    emergency)) != 0)
		;	/* the CA's window inside the maintenance windows */
	else
		m = sched_moment_in(&b->window, b->zone, sched_due(nb, na,
		    &b->policy), na, b->emergency_before, now,
		    sched_hash(b->name, certhash), emergency);
	if (!renew_last_failed(r, b->name, certhash, NULL, &next))
		return m;
	if (next > cap)
		next = cap;
	if (next > (int64_t)na)
		next = (int64_t)na;
	/* After a failure: not before its backoff (unless an emergency;
	 * one not valid yet waits for it too, or a failing issuer would
	 * be asked again at every schedule). */
	if (next > m && (int64_t)nb > (int64_t)now + SCHED_CLOCK_SKEW)
		m = (time_t)next;
	else if (next > m && !*emergency && ari)
		(void)renew_ari_when(r, b, certhash, na, (time_t)next, &m,
		    emergency);
	else if (next > m && !*emergency)
		m = sched_moment_in(&b->window, b->zone, (time_t)next, na,
		    b->emergency_before, now, sched_hash(b->name, certhash),
		    emergency);
	return m;
}

static void
renew_timer_cb(uv_timer_t *t)
{
	struct renewer	*r = t->data;

	renew_schedule(r);
}

int
renew_deployed(struct renewer *r, const struct binding *b,
    struct deployed_leaf *l, struct cv_err *err)
{
	int	rc;

	memset(l, 0, sizeof(*l));
	if (b->cert_file == NULL)
		return cv_err_set(err, "%s: no cert_file", b->name);
	if ((rc = deployed_get(r->dep, b->cert_file, l, err)) ==
	    DEPLOYED_PENDING)
		r->dep_pending = 1;
	return rc;
}

/* A cert_file read on the pool came back: what waited on it runs. */
void
renew_deployed_ready(void *arg)
{
	struct renewer	*r = arg;

	if (r->closing || !r->dep_pending)
		return;
	renew_check_windows(r);
	renew_schedule(r);
}

/*
 * Drift: the deployed file path (holding sha1) is not what the binding
 * names (certhash).  One event per new thumbprint found; cleared when
 * the file matches again.  cert_file's report is keyed by the binding's
 * name, another form's (issue 14) by "NAME PATH".
 */
static void
renew_drift(struct renewer *r, const struct binding *b, const char *path,
    const char *certhash, const char *sha1)
{
	json_t	*rep;
	char	*key;

	if (strcmp(path, b->cert_file) == 0)
		key = xstrdup(b->name);
	else
		xasprintf(&key, "%s %s", b->name, path);
	rep = json_object_get(r->drift, key);
	if (*certhash && *sha1 && strcmp(sha1, certhash) != 0) {
		if (rep == NULL || strcmp(json_string_value(rep), sha1) != 0) {
			inventory_add_event(r->inv, timeutil_now(), "drift",
			    path, sha1, "%s: %s holds %s, the binding names "
			    "%s", b->name, path, sha1, certhash);
			json_object_set_new(r->drift, key, json_string(sha1));
		}
	} else if (rep != NULL)
		json_object_del(r->drift, key);
	free(key);
}

/*
 * Drift of the forms after cert_file (fullchain, combined, PFX: issue
 * 14), read as cert_file is (deployed.c; a PFX with its password file).
 * Returns how many drift; their paths are appended to drifted (if not
 * NULL); report makes the events.  A read still pending counts as no
 * drift and runs the schedule again when done.
 */
int
renew_forms_drift(struct renewer *r, const struct binding *b,
    const char *certhash, int report, json_t *drifted)
{
	struct binding_form	 fm;
	struct deployed_leaf	 l;
	struct cv_err		 e;
	size_t			 i;
	int			 rc, n = 0;

	for (i = 1; binding_form_at(b, i, &fm) == 0; i++) {
		rc = deployed_get_form(r->dep, fm.path, fm.password_file, &l,
		    &e);
		if (rc == DEPLOYED_PENDING)
			r->dep_pending = 1;
		if (rc != 0)
			continue;
		if (report)
			renew_drift(r, b, fm.path, certhash, l.sha1);
		if (*certhash && *l.sha1 && strcmp(l.sha1, certhash) != 0) {
			n++;
			if (drifted != NULL)
				json_array_append_new(drifted,
				    json_string(fm.path));
		}
	}
	return n;
}

void
renew_file_event(struct renewer *r, const char *path)
{
	struct deployed_leaf	 l;
	struct binding		*b;
	struct cv_err		 e;
	const char		*name;
	char			 ch[41];

	if (r == NULL || r->closing || path == NULL)
		return;
	/*
	 * A binding still waiting for its first read has no row yet: the
	 * scanner has just read the file, so schedule again -- from the
	 * timer, not inside the scanner's transaction.
	 */
	if (r->dep_pending && !uv_is_active((uv_handle_t *)&r->timer))
		uv_timer_start(&r->timer, renew_timer_cb, 0, 0);
	if (
	    (name = json_string_value(json_object_get(r->cert_files,
	    path))) == NULL || renew_find(r, name) != NULL)
		return;
	if ((b = renew_effective(r, name, ch, &e)) == NULL)
		return;
	if (renew_deployed(r, b, &l, &e) == 0)
		renew_drift(r, b, b->cert_file, ch, l.sha1);
	renew_forms_drift(r, b, ch, 1, NULL);
	binding_free(b);
}

/* Config bindings get a row, with the deployed thumbprint (once it is
 * known: a file still being read gets its row when the read ends). */
static void
renew_schedule_rows(struct renewer *r)
{
	struct journal_binding	 jb;
	struct deployed_leaf	 l;
	struct binding		*b;
	struct cv_err		 e;
	size_t			 i;
	int			 rc;

	for (i = 0; i < r->cf->nbindings; i++) {
		b = r->cf->bindings[i];
		if ((rc = journal_binding_get(r->j, b->name, &jb)) == 0)
			journal_binding_clear(&jb);
		if (rc != 1)
			continue;	/* there, or the journal cannot tell */
		memset(&jb, 0, sizeof(jb));
		jb.name = b->name;
		jb.endpoint = (char *)binding_endpoint(b);
		jb.appid = b->appid;
		jb.source = (char *)"config";
		/* Its certhash is what the file holds: wait for it. */
		if ((rc = renew_deployed(r, b, &l, &e)) == DEPLOYED_PENDING)
			continue;
		if (rc == 0)
			memcpy(jb.certhash, l.sha1, 41);
		jb.settings = json_object();
		journal_binding_add_new(r->j, &jb, timeutil_now());
		json_decref(jb.settings);
	}
}

/* Every form of b (cert_file first) to b's name, for renew_file_event. */
static void
renew_map_forms(struct renewer *r, const struct binding *b)
{
	struct binding_form	fm;
	size_t			i;

	for (i = 0; binding_form_at(b, i, &fm) == 0; i++)
		if (fm.path != NULL)
			json_object_set_new(r->cert_files, fm.path,
			    json_string(b->name));
}

/* The renewal_emergency event (and so its alert) of a renewal started
 * outside the windows: ARI's says so and gives the CA's explanation. */
static void
renew_sched_emergency(struct renewer *r, const struct binding *b,
    const char *ch, int em)
{
	char	*url;

	if (em == RENEW_ARI_EMERGENCY) {
		url = renew_ari_explanation(r, b->name);
		inventory_add_event(r->inv, timeutil_now(),
		    "renewal_emergency", b->cert_file, ch, "%s: the CA's "
		    "renewal window (ARI) closes before the next maintenance "
		    "window opens; renewing now (reason ari%s%s)", b->name,
		    url ? "; explanation " : "", url ? url : "");
		free(url);
	} else if (em)
		inventory_add_event(r->inv, timeutil_now(),
		    "renewal_emergency", b->cert_file, ch, "%s: expires "
		    "before the next window opens; renewing now", b->name);
}

/* Makes sure every binding has its row, checks drift, starts what is
 * due and arms the timer for the rest.  Also maps each binding's
 * cert_file to its name for renew_file_event. */
void
renew_schedule(struct renewer *r)
{
	struct deployed_leaf	 l;
	struct binding		*b;
	struct cv_err		 e;
	char			**names = NULL, ch[41];
	size_t			 n = 0, i;
	time_t			 now, m, next = 0, poll;
	int			 em;

	if (r->closing)
		return;
	now = renew_now(r);
	r->armed_for = 0;
	r->dep_pending = 0;
	json_object_clear(r->cert_files);
	renew_schedule_rows(r);
	journal_binding_names(r->j, &names, &n);
	for (i = 0; i < n; i++) {
		if (renew_find(r, names[i]) != NULL)
			continue;
		if ((b = renew_effective(r, names[i], ch, &e)) == NULL)
			continue;
		renew_map_forms(r, b);
		if (renew_deployed(r, b, &l, &e) != 0) {
			binding_free(b);
			continue;
		}
		renew_drift(r, b, b->cert_file, ch, l.sha1);
		renew_forms_drift(r, b, ch, 1, NULL);
		if (b->issuer == NULL) {
			binding_free(b);
			continue;
		}
		poll = renew_ari_poll(r, b, ch, now, 0);
		m = renew_when(r, b, ch, l.not_before, l.not_after, now, &em);
		if (m <= now) {
			renew_sched_emergency(r, b, ch, em);
			if (renew_start(r, b, ch, em == RENEW_ARI_EMERGENCY ?
			    "ari" : em ? "emergency" : "due", &e) == -1)
				log_error("%s: %s", b->name, e.msg);
			continue;	/* b is the renewal's now */
		}
		if (next == 0 || m < next)
			next = m;
		if (poll != 0 && poll < next)
			next = poll;
		binding_free(b);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (next != 0) {
		/* At most an hour: clock changes and reloads are noticed. */
		int64_t	d = (int64_t)next - (int64_t)now;

		if (d > 3600)
			d = 3600;
		else
			r->armed_for = next;
		uv_timer_start(&r->timer, renew_timer_cb, (uint64_t)d * 1000,
		    0);
	}
}

/* b has a window and it does not open before na (due at nb..na). */
static int
renew_window_unreachable(const struct binding *b, time_t nb, time_t na,
    time_t now)
{
	time_t	o, c, due = sched_due(nb, na, &b->policy);

	if (b->window.n == 0)
		return 0;
	return sched_next_window_in(&b->window, b->zone, due > now ? due :
	    now, &o, &c) == -1 || o >= na;
}

/* Reports windows that cannot open before the certificate expires,
 * once per binding and configuration (a pending read: when it is in). */
void
renew_check_windows(struct renewer *r)
{
	struct deployed_leaf	 l;
	struct binding		*b;
	struct cv_err		 e;
	char			 ts[TIMEUTIL_RFC3339_LEN];
	time_t			 nb, na, now = timeutil_now();
	size_t			 i;
	int			 rc;

	for (i = 0; i < r->cf->nbindings; i++) {
		b = r->cf->bindings[i];
		if (b->window.n == 0 || json_object_get(r->windows_done,
		    b->name) != NULL)
			continue;
		if ((rc = renew_deployed(r, b, &l, &e)) == DEPLOYED_PENDING)
			continue;
		json_object_set_new(r->windows_done, b->name, json_true());
		if (rc == -1)
			continue;
		nb = l.not_before;
		na = l.not_after;
		if (renew_window_unreachable(b, nb, na, now)) {
			log_error("%s:%d: [binding %s]: window '%s' does not "
			    "open before %s expires (%s); it will be renewed "
			    "outside the window", r->cf->file, b->line,
			    b->name, b->window_str, b->cert_file,
			    timeutil_rfc3339(na, ts, sizeof(ts)));
			inventory_add_event(r->inv, now, "window_unreachable",
			    b->cert_file, l.sha1, "%s: window '%s' does not open "
			    "before expiry", b->name, b->window_str);
		}
	}
}

void
renew_set_config(struct renewer *r, struct config *cf)
{
	if (cf != r->cf) {
		conf_unref(r->cf);
		r->cf = conf_ref(cf);
	}
	json_object_clear(r->windows_done);
	renew_eff_clear(r);
	renew_check_windows(r);
	renew_schedule(r);
}

/* Issue 17: the ARI window of the certificate served, when known. */
static void
renew_metrics_ari(struct renewer *r, const struct binding *b,
    const char *ch, json_t *o)
{
	struct renew_ari_row	row;
	const char		*dir, *ca;
	int64_t			 poll;

	if (b->issuer == NULL || !ari_issuer(conf_issuer(r->cf, b->issuer),
	    &dir, &ca, &poll) || renew_ari_get(r, b->name, &row) != 0)
		return;
	if (row.has_window && strcmp(row.certhash, ch) == 0) {
		json_object_set_new(o, "ari_window_start",
		    json_integer((json_int_t)row.start));
		json_object_set_new(o, "ari_window_end",
		    json_integer((json_int_t)row.end));
	}
	renew_ari_row_clear(&row);
}

/*
 * Issue 15: what the schedule knows of each binding, for metrics.c: one
 * object per binding of the journal (name, endpoint, certhash, issuer,
 * and when its cert_file is known: not_after, next_renewal (if it has an
 * issuer), emergency, window_unreachable).  A cert_file being read on
 * the pool is left out of the times, as binding show does.
 */
json_t *
renew_metrics(struct renewer *r)
{
	struct deployed_leaf	 l;
	struct binding		*b;
	struct cv_err		 e;
	json_t			*arr = json_array(), *o;
	char			 ch[41], **names;
	size_t			 i, n;
	time_t			 m, now = renew_now(r);
	int			 em = 0;

	journal_binding_names(r->j, &names, &n);
	for (i = 0; i < n; i++) {
		if ((b = renew_effective(r, names[i], ch, &e)) == NULL)
			continue;
		o = json_pack("{s:s, s:s, s:s, s:s}", "binding", b->name,
		    "endpoint", binding_endpoint(b), "certhash", ch,
		    "issuer", b->issuer ? b->issuer : "");
		if (renew_deployed(r, b, &l, &e) == 0 && *l.sha1) {
			json_object_set_new(o, "not_after",
			    json_integer((json_int_t)l.not_after));
			json_object_set_new(o, "window_unreachable",
			    json_boolean(renew_window_unreachable(b,
			    l.not_before, l.not_after, now)));
			if (b->issuer != NULL) {
				m = renew_when(r, b, ch, l.not_before,
				    l.not_after, now, &em);
				json_object_set_new(o, "next_renewal",
				    json_integer((json_int_t)m));
				json_object_set_new(o, "emergency",
				    json_boolean(em));
				renew_metrics_ari(r, b, ch, o);
			}
		}
		json_array_append_new(arr, o);
		binding_free(b);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return arr;
}
