#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "metrics.h"
#include "renew.h"
#include "timeutil.h"
#include "xmalloc.h"

/* A label value: backslash, double quote and newline escaped. */
static void
metrics_label(struct buf *b, const char *name, const char *v, int comma)
{
	if (comma)
		buf_add(b, ",", 1);
	buf_fmt(b, "%s=\"", name);
	for (; v != NULL && *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_add(b, "\\", 1);
		if (*v == '\n') {
			buf_add(b, "\\n", 2);
			continue;
		}
		buf_add(b, v, 1);
	}
	buf_add(b, "\"", 1);
}

static void
metrics_head(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_fmt(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The CN of an RFC 4514 subject ("" if none). */
static char *
metrics_cn(const char *subject, char *buf, size_t len)
{
	const char	*p = subject;
	size_t		 n = 0;

	buf[0] = '\0';
	while (p != NULL && (p = strstr(p, "CN=")) != NULL) {
		if (p == subject || p[-1] == ',')
			break;
		p += 3;
	}
	if (p == NULL)
		return buf;
	for (p += 3; *p && *p != ',' && n + 1 < len; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return buf;
}

static const char *metrics_states[] = { "valid", "expiring", "expired",
    "not_yet_valid", "invalid", "superseded" };

/* The per-certificate families: notAfter, notBefore, valid (one pass
 * each, so each family's samples are together); counts by state. */
static void
metrics_certs(struct buf *b, sqlite3 *db, const struct config *cf)
{
	static const char certs_sql[] = "SELECT lower(hex(c.sha1)), c.subject,"
	    " c.role, c.not_before, c.not_after, min(f.path),"
	    " max(f.error IS NOT NULL OR coalesce(s.key_matches, 1) = 0),"
	    " c.superseded FROM certs c JOIN sources s ON s.cert = c.id"
	    " JOIN files f ON f.id = s.file_id WHERE f.gone = 0"
	    " GROUP BY c.id ORDER BY c.not_after, c.sha1";
	static const char *const series[] = {
	    "certvigil_cert_not_after_timestamp_seconds",
	    "certvigil_cert_not_before_timestamp_seconds",
	    "certvigil_cert_valid" };
	static const char *const help[] = {
	    "Certificate notAfter, seconds since the epoch.",
	    "Certificate notBefore, seconds since the epoch.",
	    "1 if the certificate is usable now, else 0 with the reason." };
	sqlite3_stmt	*st;
	int64_t		 counts[6] = { 0 };
	time_t		 now = timeutil_now();
	char		 cn[256];
	const char	*state;
	size_t		 i, pass;
	int		 ok;

	for (pass = 0; pass < 3; pass++) {
		metrics_head(b, series[pass], "gauge", help[pass]);
		if (sqlite3_prepare_v2(db, certs_sql, -1, &st, NULL) !=
		    SQLITE_OK)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW) {
			state = inventory_state(now,
			    sqlite3_column_int64(st, 3),
			    sqlite3_column_int64(st, 4), cf->expiring,
			    sqlite3_column_int(st, 6),
			    sqlite3_column_int(st, 7));
			buf_fmt(b, "%s{", series[pass]);
			metrics_label(b, "sha1",
			    (const char *)sqlite3_column_text(st, 0), 0);
			metrics_label(b, "subject_cn", metrics_cn((const char *)
			    sqlite3_column_text(st, 1), cn, sizeof(cn)), 1);
			metrics_label(b, "path",
			    (const char *)sqlite3_column_text(st, 5), 1);
			metrics_label(b, "role",
			    (const char *)sqlite3_column_text(st, 2), 1);
			if (pass == 2) {
				ok = !strcmp(state, "valid") ||
				    !strcmp(state, "expiring");
				metrics_label(b, "reason", ok ? "" : state, 1);
				buf_fmt(b, "} %d\n", ok);
				continue;
			}
			buf_fmt(b, "} %lld\n", (long long)
			    sqlite3_column_int64(st, pass == 0 ? 4 : 3));
			if (pass == 0)
				for (i = 0; i < 6; i++)
					if (!strcmp(state, metrics_states[i]))
						counts[i]++;
		}
		sqlite3_finalize(st);
	}
	metrics_head(b, "certvigil_certs", "gauge",
	    "Certificates in the inventory, by state.");
	for (i = 0; i < 6; i++)
		buf_fmt(b, "certvigil_certs{state=\"%s\"} %lld\n",
		    metrics_states[i], (long long)counts[i]);
}

static void
metrics_scan(struct buf *b, const struct scan_progress *p)
{
	metrics_head(b, "certvigil_scan_duration_seconds", "gauge",
	    "Duration of the last full scan.");
	buf_fmt(b, "certvigil_scan_duration_seconds %.6f\n",
	    p->last_duration);
	metrics_head(b, "certvigil_last_scan_timestamp_seconds", "gauge",
	    "When the last full scan finished, seconds since the epoch.");
	buf_fmt(b, "certvigil_last_scan_timestamp_seconds %lld\n",
	    (long long)p->last_finished);
}

static void
metrics_alerts(struct buf *b, struct alert *a)
{
	struct alert_stats	 as;
	json_t			*ac, *v;
	const char		*k;

	metrics_head(b, "certvigil_alerts_total", "counter",
	    "Alerts sent, by threshold or kind.");
	ac = alert_counts(a);
	json_object_foreach(ac, k, v) {
		buf_add(b, "certvigil_alerts_total{", 23);
		metrics_label(b, "threshold", k, 0);
		buf_fmt(b, "} %lld\n", (long long)json_integer_value(v));
	}
	json_decref(ac);
	alert_get_stats(a, &as);
	metrics_head(b, "certvigil_alert_command_failures_total", "counter",
	    "alert_command runs that failed since the daemon started.");
	buf_fmt(b, "certvigil_alert_command_failures_total %lld\n",
	    (long long)as.command_failures);
	metrics_head(b, "certvigil_alert_queue", "gauge",
	    "alert_command runs waiting to be (re)tried.");
	buf_fmt(b, "certvigil_alert_queue %lld\n", (long long)as.queued);
}

/* Pinned paths: 1 while the file holds another thumbprint. */
static void
metrics_drift(struct buf *b, sqlite3 *db, const struct config *cf)
{
	sqlite3_stmt	*st;
	size_t		 i;

	metrics_head(b, "certvigil_drift", "gauge",
	    "1 if a pinned path (expect_sha1) holds another thumbprint.");
	for (i = 0; i < cf->nwatches; i++) {
		if (cf->watches[i].expect_sha1 == NULL)
			continue;
		if (sqlite3_prepare_v2(db, "SELECT path, drift IS NOT NULL FROM"
		    " files WHERE watch = ?1 AND gone = 0 ORDER BY path", -1,
		    &st, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_text(st, 1, cf->watches[i].name, -1,
		    SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			buf_add(b, "certvigil_drift{", 16);
			metrics_label(b, "path",
			    (const char *)sqlite3_column_text(st, 0), 0);
			metrics_label(b, "expected", cf->watches[i].expect_sha1,
			    1);
			buf_fmt(b, "} %d\n", sqlite3_column_int(st, 1));
		}
		sqlite3_finalize(st);
	}
}

/* CRLs: nextUpdate, as certificates have notAfter (issue 13 item 7). */
static void
metrics_crls(struct buf *b, sqlite3 *db)
{
	sqlite3_stmt	*st;

	metrics_head(b, "certvigil_crl_next_update_timestamp_seconds", "gauge",
	    "nextUpdate of each CRL in a watched file (Unix time).");
	if (sqlite3_prepare_v2(db, "SELECT sha1, issuer, path, next_update"
	    " FROM crls WHERE next_update IS NOT NULL ORDER BY path, idx", -1,
	    &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		buf_add(b, "certvigil_crl_next_update_timestamp_seconds{", 44);
		metrics_label(b, "sha1", (const char *)sqlite3_column_text(st,
		    0), 0);
		metrics_label(b, "issuer", (const char *)sqlite3_column_text(st,
		    1), 1);
		metrics_label(b, "path", (const char *)sqlite3_column_text(st,
		    2), 1);
		buf_fmt(b, "} %lld\n", (long long)sqlite3_column_int64(st, 3));
	}
	sqlite3_finalize(st);
}

/* ---- issue 15: bindings and renewals (one block: other series of
 * bindings come from the served watch and the downtime) ------------- */

/* One sample NAME{binding="B"[,LABEL="V"]} VALUE. */
static void
metrics_binding_sample(struct buf *b, const char *name, const char *binding,
    const char *label, const char *v, long long value)
{
	buf_fmt(b, "%s{", name);
	metrics_label(b, "binding", binding, 0);
	if (label != NULL)
		metrics_label(b, label, v, 1);
	buf_fmt(b, "} %lld\n", value);
}

/*
 * From the schedule (renew_metrics): info, not_after, next_renewal and
 * the two window flags, one family after the other.  A binding whose
 * cert_file is not known yet has info only.
 */
static void
metrics_binding_sched(struct buf *b, json_t *arr)
{
	static const char *const name[] = {
	    "certvigil_binding_not_after_seconds",
	    "certvigil_binding_next_renewal_seconds",
	    "certvigil_binding_renewal_emergency",
	    "certvigil_binding_window_unreachable",
	    "certvigil_ari_window_start_seconds",
	    "certvigil_ari_window_end_seconds" };
	static const char *const key[] = { "not_after", "next_renewal",
	    "emergency", "window_unreachable", "ari_window_start",
	    "ari_window_end" };
	static const char *const help[] = {
	    "notAfter of the certificate the binding's cert_file holds.",
	    "When the binding renews next (Unix time; the past: now).",
	    "1 if the binding renews outside its window (emergency).",
	    "1 if the binding's window does not open before expiry.",
	    "Start of the CA's suggested renewal window (ARI, Unix time).",
	    "End of the CA's suggested renewal window (ARI, Unix time)." };
	json_t		*o, *v;
	size_t		 i, k;

	metrics_head(b, "certvigil_binding_info", "gauge",
	    "A binding: its endpoint, certhash and issuer; always 1.");
	json_array_foreach(arr, i, o) {
		buf_add(b, "certvigil_binding_info{", 23);
		metrics_label(b, "binding", json_string_value(json_object_get(
		    o, "binding")), 0);
		metrics_label(b, "endpoint", json_string_value(
		    json_object_get(o, "endpoint")), 1);
		metrics_label(b, "certhash", json_string_value(
		    json_object_get(o, "certhash")), 1);
		metrics_label(b, "issuer", json_string_value(json_object_get(
		    o, "issuer")), 1);
		buf_add(b, "} 1\n", 4);
	}
	for (k = 0; k < sizeof(key) / sizeof(key[0]); k++) {
		metrics_head(b, name[k], "gauge", help[k]);
		json_array_foreach(arr, i, o) {
			if ((v = json_object_get(o, key[k])) == NULL)
				continue;
			metrics_binding_sample(b, name[k], json_string_value(
			    json_object_get(o, "binding")), NULL, NULL,
			    json_is_integer(v) ? (long long)
			    json_integer_value(v) : json_is_true(v));
		}
	}
}

/*
 * From the journal (renewals), so that restarts keep them: the newest
 * renewal's state, the last end of each result, and the count of each
 * result -- 0 included, so a first failure is an increase to Prometheus.
 * Renewals of deleted bindings are left out.
 */
static void
metrics_binding_journal(struct buf *b, sqlite3 *db)
{
	static const char *const sql[] = {
	    "SELECT binding, state, 1 FROM renewals WHERE id IN (SELECT"
	    " max(id) FROM renewals GROUP BY binding) AND binding IN"
	    " (SELECT name FROM bindings) ORDER BY binding",
	    "SELECT binding, state, max(updated) FROM renewals WHERE state IN"
	    " ('done', 'failed', 'rolled_back') AND binding IN (SELECT name"
	    " FROM bindings) GROUP BY binding, state ORDER BY binding, state",
	    "SELECT b.name, s.result, (SELECT count(*) FROM renewals r WHERE"
	    " r.binding = b.name AND r.state = s.result) FROM bindings b,"
	    " (SELECT 'done' AS result UNION ALL SELECT 'failed' UNION ALL"
	    " SELECT 'rolled_back') s ORDER BY b.name, s.result" };
	static const char *const name[] = {
	    "certvigil_binding_renewal_state",
	    "certvigil_binding_last_renewal_seconds",
	    "certvigil_renewals_total" };
	static const char *const label[] = { "state", "result", "result" };
	static const char *const type[] = { "gauge", "gauge", "counter" };
	static const char *const help[] = {
	    "The state of the binding's newest renewal (journal); always 1.",
	    "When the binding's last renewal with this result ended.",
	    "Renewals that ended, by result (done, failed, rolled_back)." };
	sqlite3_stmt	*st;
	size_t		 k;

	for (k = 0; k < 3; k++) {
		metrics_head(b, name[k], type[k], help[k]);
		if (sqlite3_prepare_v2(db, sql[k], -1, &st, NULL) != SQLITE_OK)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW)
			metrics_binding_sample(b, name[k], (const char *)
			    sqlite3_column_text(st, 0), label[k], (const char *)
			    sqlite3_column_text(st, 1), (long long)
			    sqlite3_column_int64(st, 2));
		sqlite3_finalize(st);
	}
}

/* ---- what bindings serve (issue 15, served.c's table) ------------------ */

/*
 * Per (binding, endpoint), from its latest probe: served_match (only when
 * a certificate was served and the binding's certhash is known),
 * mtls_enforced (require_client_cert endpoints that answered),
 * probe_seconds and probe_success.
 */
static void
metrics_served(struct buf *b, sqlite3 *db)
{
	static const char *const q[] = {
	    "SELECT binding, endpoint, sha1 = expected_sha1 FROM served"
	    " WHERE sha1 IS NOT NULL AND expected_sha1 IS NOT NULL",
	    "SELECT binding, endpoint, NOT accepted_without_cert FROM served"
	    " WHERE require_client_cert = 1 AND accepted_without_cert"
	    " IS NOT NULL",
	    "SELECT binding, endpoint, duration_ms / 1000.0 FROM served",
	    "SELECT binding, endpoint, sha1 IS NOT NULL FROM served" };
	static const char *const series[] = {
	    "certvigil_binding_served_match",
	    "certvigil_binding_mtls_enforced",
	    "certvigil_binding_probe_seconds",
	    "certvigil_binding_probe_success" };
	static const char *const help[] = {
	    "1 if the endpoint serves the binding's certhash, else 0.",
	    "1 if a require_client_cert endpoint refuses clients without a "
	    "certificate, else 0.",
	    "Duration of the endpoint's last probe.",
	    "1 if the endpoint's last probe got a certificate, else 0." };
	sqlite3_stmt	*st;
	size_t		 i;

	for (i = 0; i < 4; i++) {
		metrics_head(b, series[i], "gauge", help[i]);
		if (sqlite3_prepare_v2(db, q[i], -1, &st, NULL) != SQLITE_OK)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW) {
			buf_fmt(b, "%s{", series[i]);
			metrics_label(b, "binding",
			    (const char *)sqlite3_column_text(st, 0), 0);
			metrics_label(b, "endpoint",
			    (const char *)sqlite3_column_text(st, 1), 1);
			if (i == 2)
				buf_fmt(b, "} %.3f\n",
				    sqlite3_column_double(st, 2));
			else
				buf_fmt(b, "} %d\n", sqlite3_column_int(st, 2));
		}
		sqlite3_finalize(st);
	}
}

static void
metrics_bindings(struct buf *b, sqlite3 *db, struct renewer *rn)
{
	json_t	*arr;

	arr = rn != NULL ? renew_metrics(rn) : json_array();
	metrics_binding_sched(b, arr);
	json_decref(arr);
	metrics_binding_journal(b, db);
}
/* ---- end of issue 15's block --------------------------------------- */

/*
 * Issue 14: the outage of each binding's last renewal that measured one
 * (journal.c's renewals, read here as the other reports are).
 */
static void
metrics_renewal_downtime(struct buf *b, sqlite3 *db)
{
	sqlite3_stmt	*st;

	metrics_head(b, "certvigil_renewal_downtime_seconds", "gauge",
	    "Outage of the binding's last renewal: first service stopped to "
	    "every probe served (0 for reloads).");
	if (sqlite3_prepare_v2(db, "SELECT binding, downtime_ms FROM renewals"
	    " r WHERE id = (SELECT max(id) FROM renewals WHERE binding ="
	    " r.binding AND downtime_ms IS NOT NULL) ORDER BY binding", -1,
	    &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		buf_add(b, "certvigil_renewal_downtime_seconds{", 35);
		metrics_label(b, "binding", (const char *)sqlite3_column_text(
		    st, 0), 0);
		buf_fmt(b, "} %.3f\n", (double)sqlite3_column_int64(st, 1) /
		    1000.0);
	}
	sqlite3_finalize(st);
}

char *
metrics_render(struct inventory *inv, const struct config *cf,
    const struct scan_progress *p, struct alert *a, struct renewer *rn,
    size_t *len)
{
	struct buf	 b = { NULL, 0, 0 };

	metrics_head(&b, "certvigil_build_info", "gauge",
	    "certvigil build; the value is always 1.");
	buf_add(&b, "certvigil_build_info{", 21);
	metrics_label(&b, "version", PACKAGE_VERSION, 0);
	buf_add(&b, "} 1\n", 4);
	metrics_certs(&b, inventory_db(inv), cf);
	metrics_scan(&b, p);
	metrics_alerts(&b, a);
	metrics_drift(&b, inventory_db(inv), cf);
	metrics_crls(&b, inventory_db(inv));
	metrics_bindings(&b, inventory_db(inv), rn);
	metrics_renewal_downtime(&b, inventory_db(inv));
	metrics_served(&b, inventory_db(inv));
	*len = b.len;
	return b.p;
}
