/*
 * certvigild: the daemon.  Options, config, state dir, socket, signals
 * (HUP reload, TERM/INT graceful), readiness, shutdown.  One libuv loop;
 * slow work goes to the thread pool (scan.c).
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <uv.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "alert.h"
#include "conf.h"
#include "control.h"
#include "fsutil.h"
#include "http.h"
#include "inventory.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "renew.h"
#include "scan.h"
#include "served.h"
#include "timeutil.h"
#include "xmalloc.h"

struct daemon {
	uv_loop_t		 loop;
	uv_signal_t		 sighup, sigterm, sigint;
	struct config		*cf;
	const char		*conf_path;
	int			 conf_given;
	const char		*opt_socket;	/* -S overrides the file */
	const char		*opt_state;	/* -d overrides the file */
	const char		*opt_pidfile;
	int			 foreground;
	int			 ready_fd;
	int			 ready;
	char			*db_path;
	char			*pid_file;
	struct inventory	*inv;
	struct inventory	*scan_inv;	/* the scanner's writer's */
	struct scan		*scan;
	struct control		*control;
	struct alert		*alert;
	/* The last status result, reused while nothing it shows changed. */
	char			*status_text;
	size_t			 status_len;
	int64_t			 status_key[13];
	uv_timer_t		 textfile_timer;
	uv_timer_t		 prune_timer;	/* retention, hourly */
	int			 textfile_busy;
	int			 textfile_again;
	struct renewer		*renew;
	int			 renew_open;
	struct served		*served;	/* issue 15 */
	uint64_t		 started_ms;
	int			 closing;
	int			 exit_code;
};

static void
daemon_apply_overrides(struct daemon *d, struct config *cf)
{
	if (d->opt_socket != NULL) {
		free(cf->socket_path);
		cf->socket_path = xstrdup(d->opt_socket);
	}
	if (d->opt_state != NULL) {
		free(cf->state_dir);
		cf->state_dir = xstrdup(d->opt_state);
	}
	if (d->opt_pidfile != NULL) {
		free(cf->pid_file);
		cf->pid_file = xstrdup(d->opt_pidfile);
	}
}

static void
daemon_control_opts(const struct config *cf, struct control_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->path = cf->socket_path;
	o->mode = cf->socket_mode;
	o->group = cf->socket_group && *cf->socket_group ? cf->socket_group :
	    NULL;
	o->admin_group = cf->admin_group && *cf->admin_group ?
	    cf->admin_group : NULL;
	o->max_clients = cf->max_clients;
	o->reserved = cf->reserved_clients;
	o->max_per_uid = cf->max_clients_per_uid;
	o->max_watches = cf->max_watches;
	o->max_watches_per_uid = cf->max_watches_per_uid;
	o->idle_timeout_ms = (uint64_t)cf->client_timeout * 1000;
	o->max_request = cf->max_request;
}

/* ---- requests ------------------------------------------------------- */

static json_t *
daemon_status(struct daemon *d)
{
	struct inv_counts	 c;
	struct scan_progress	 p;
	struct alert_stats	 as;
	char			 a[TIMEUTIL_RFC3339_LEN], b[TIMEUTIL_RFC3339_LEN];
	json_t			*w, *paths, *missing, *r;
	time_t			 now = timeutil_now();
	size_t			 i, k;
	const char		*path;

	inventory_counts(d->inv, now, d->cf->expiring, &c);
	scan_get_progress(d->scan, &p);
	w = json_array();
	for (i = 0; i < d->cf->nwatches; i++) {
		paths = json_array();
		missing = json_array();
		for (k = 0; k < d->cf->watches[i].npaths; k++) {
			path = d->cf->watches[i].paths[k];
			json_array_append_new(paths, json_string(path));
			if (scan_missing(d->scan, path))
				json_array_append_new(missing,
				    json_string(path));
		}
		json_array_append_new(w, json_pack("{s:s, s:o, s:s, s:o}",
		    "name", d->cf->watches[i].name, "paths", paths, "role",
		    conf_role_name(d->cf->watches[i].role), "missing",
		    missing));
	}
	r = json_pack("{s:s, s:I, s:I,"
	    " s:{s:I, s:I, s:I, s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:I},"
	    " s:{s:s, s:I, s:I, s:o, s:o, s:f},"
	    " s:o, s:{s:s, s:I}}",
	    "version", PACKAGE_VERSION,
	    "pid", (json_int_t)getpid(),
	    "uptime", (json_int_t)((uv_now(&d->loop) - d->started_ms) / 1000),
	    "certs", "total", (json_int_t)c.total, "valid", (json_int_t)c.valid,
	    "expiring", (json_int_t)c.expiring, "expired",
	    (json_int_t)c.expired, "not_yet_valid",
	    (json_int_t)c.not_yet_valid, "invalid", (json_int_t)c.invalid,
	    "files", "total", (json_int_t)(c.files - c.files_gone), "errors",
	    (json_int_t)c.file_errors, "gone", (json_int_t)c.files_gone,
	    "scan", "state", p.scanning ? "scanning" : "idle",
	    "files_total", (json_int_t)p.files_total,
	    "files_done", (json_int_t)p.files_done,
	    "last_started", p.last_started ? json_string(timeutil_rfc3339(
	    p.last_started, a, sizeof(a))) : json_null(),
	    "last_finished", p.last_finished ? json_string(timeutil_rfc3339(
	    p.last_finished, b, sizeof(b))) : json_null(),
	    "last_duration", p.last_duration,
	    "watches", w,
	    "database", "path", d->db_path,
	    "size", (json_int_t)inventory_db_size(d->inv));
	alert_get_stats(d->alert, &as);
	json_object_set_new(json_object_get(r, "certs"), "superseded",
	    json_integer(c.superseded));
	/* Not files.total: unchanged files are not read again. */
	json_object_set_new(json_object_get(r, "scan"), "last_files_read",
	    json_integer(p.last_files_read));
	json_object_set_new(r, "alerts", json_pack("{s:o, s:I, s:I}",
	    "sent", alert_counts(d->alert),
	    "command_failures", (json_int_t)as.command_failures,
	    "queued", (json_int_t)as.queued));
	return proto_reply_ok(r);
}

/*
 * status is what monitoring polls: its result changes only with the
 * inventory, the scan, the alert counters and the uptime's second, so the
 * serialized result is reused until one of them moves.
 */
static json_t *
daemon_status_cached(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon		*d = arg;
	struct scan_progress	 p;
	struct alert_stats	 as;
	struct inv_counts	 c;
	int64_t			 key[13];
	json_t			*r, *res;
	size_t			 i;

	(void)peer;
	(void)args;
	/* Cached by the inventory until the next state change of any cert. */
	inventory_counts(d->inv, timeutil_now(), d->cf->expiring, &c);
	scan_get_progress(d->scan, &p);
	alert_get_stats(d->alert, &as);
	key[0] = inventory_generation(d->inv);
	key[1] = (int64_t)((uv_now(&d->loop) - d->started_ms) / 1000);
	key[2] = p.scanning ? p.files_done + 1 : -(int64_t)p.last_finished;
	key[3] = alert_sent_total(d->alert);
	key[4] = as.command_failures;
	key[5] = as.queued;
	key[6] = c.valid;
	key[7] = c.expiring;
	key[8] = c.expired;
	key[9] = c.not_yet_valid;
	key[10] = c.invalid;
	key[11] = c.superseded;
	key[12] = scan_missing_generation(d->scan);
	if (d->status_text != NULL && memcmp(key, d->status_key,
	    sizeof(key)) == 0) {
		control_send_ok_raw(cl, d->status_text, d->status_len);
		return NULL;
	}
	r = daemon_status(d);
	res = json_object_get(r, "result");
	free(d->status_text);
	d->status_text = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
	d->status_len = strlen(d->status_text);
	for (i = 0; i < sizeof(key) / sizeof(key[0]); i++)
		d->status_key[i] = key[i];
	return r;
}

static const char *
daemon_arg_str(json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

static int
daemon_arg_bool(json_t *args, const char *key)
{
	return json_is_true(json_object_get(args, key));
}

static json_t *
daemon_list(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon		*d = arg;
	struct inv_filter	 f;
	json_t			*v;
	size_t			 len;
	char			*text;

	(void)peer;
	if (daemon_arg_bool(args, "crls"))
		return proto_reply_ok(inventory_crls(d->inv, timeutil_now(),
		    d->cf->expiring));
	memset(&f, 0, sizeof(f));
	f.expiring = -1;
	v = json_object_get(args, "expiring");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return proto_reply_err(PROTO_E_BAD_REQUEST,
			    "\"expiring\" must be a number of seconds");
		f.expiring = json_integer_value(v);
	}
	f.expired = daemon_arg_bool(args, "expired");
	f.invalid = daemon_arg_bool(args, "invalid");
	f.drift = daemon_arg_bool(args, "drift");
	f.all = daemon_arg_bool(args, "all");
	f.role = daemon_arg_str(args, "role");
	f.path_glob = daemon_arg_str(args, "path");
	text = inventory_list(d->inv, &f, timeutil_now(), d->cf->expiring,
	    &len);
	control_send_ok_raw(cl, text, len);
	free(text);
	return NULL;
}

static json_t *
daemon_show(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon	*d = arg;
	const char	*key = daemon_arg_str(args, "key"), *code;
	struct cv_err	 err;
	json_t		*o, *a;

	(void)cl;
	(void)peer;
	if (key == NULL)
		return proto_reply_err(PROTO_E_BAD_REQUEST,
		    "\"key\" (a SHA-1 prefix or a path) is required");
	o = inventory_show(d->inv, key, timeutil_now(), d->cf->expiring,
	    &code, &err);
	if (o == NULL)
		return proto_reply_err(code, "%s", err.msg);
	/* issue 17: the ARI window when a binding with ARI serves it */
	if ((a = renew_ari_for_cert(d->renew, json_string_value(
	    json_object_get(o, "sha1")))) != NULL)
		json_object_set_new(o, "ari", a);
	return proto_reply_ok(o);
}

/*
 * events: one page, EVENTS_PAGE unless "limit" says (at most
 * EVENTS_PAGE_MAX): with "after_id" the oldest after it (paging
 * forward, as certvigil events does), else the newest before "before_id"
 * (paging back).  A reply is bounded whatever the table holds.
 */
#define EVENTS_PAGE	1000
#define EVENTS_PAGE_MAX	10000

static json_t *
daemon_events(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon	*d = arg;
	json_t		*since = json_object_get(args, "since");
	json_t		*after = json_object_get(args, "after_id");
	json_t		*before = json_object_get(args, "before_id");
	json_t		*limit = json_object_get(args, "limit");
	int64_t		 n;

	(void)cl;
	(void)peer;
	if ((since && !json_is_integer(since)) ||
	    (after && !json_is_integer(after)) ||
	    (before && !json_is_integer(before)) ||
	    (limit && !json_is_integer(limit)))
		return proto_reply_err(PROTO_E_BAD_REQUEST, "\"since\", "
		    "\"after_id\", \"before_id\" and \"limit\" are "
		    "integers");
	n = json_integer_value(limit);
	if (n <= 0)
		n = EVENTS_PAGE;
	else if (n > EVENTS_PAGE_MAX)
		n = EVENTS_PAGE_MAX;
	return proto_reply_ok(inventory_events(d->inv,
	    (time_t)json_integer_value(since), after != NULL &&
	    json_integer_value(after) >= 0 ? json_integer_value(after) : -1,
	    json_integer_value(before), n));
}

/*
 * A watch's backlog, sent a page at a time while the client's queue has
 * room: a follower of a large inventory gets it all, however slowly it
 * reads, and a client that reads nothing holds one page and its 4 MiB
 * queue, never the whole table.  Live events start once it is out (an
 * event stored meanwhile is in a later page).
 */
#define WATCH_PAGE	512

struct watch_cursor {
	struct daemon	*d;
	time_t		 since;
	int64_t		 after;
};

static void
daemon_watch_more(struct control_client *cl, void *arg)
{
	struct watch_cursor	*wc = arg;
	json_t			*page, *e, *msg;
	size_t			 i, n;

	for (;;) {
		if (control_queued(cl) == SIZE_MAX) {
			free(wc);
			return;
		}
		if (control_queued(cl) > 256 * 1024) {
			control_on_drain(cl, daemon_watch_more, wc);
			return;
		}
		page = inventory_events(wc->d->inv, wc->since, wc->after, 0,
		    WATCH_PAGE);
		n = json_array_size(page);
		json_array_foreach(page, i, e) {
			wc->after = json_integer_value(json_object_get(e,
			    "id"));
			msg = proto_event(json_incref(e));
			control_send(cl, msg);
			json_decref(msg);
		}
		json_decref(page);
		if (n < WATCH_PAGE) {
			control_subscribe(cl);
			free(wc);
			return;
		}
	}
}

static json_t *
daemon_watch(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon		*d = arg;
	json_t			*since = json_object_get(args, "since");
	json_t			*after = json_object_get(args, "after_id");
	json_t			*reply;
	struct watch_cursor	*wc;
	struct cv_err		 err;

	(void)peer;
	if (control_watch_slot(cl, &err) == -1)
		return proto_reply_err(PROTO_E_BUSY, "%s", err.msg);
	/* The reply, then the backlog, then live events: nothing is lost
	 * between an "events" read and the subscription. */
	reply = proto_reply_ok(json_pack("{s:b}", "watching", 1));
	control_send(cl, reply);
	json_decref(reply);
	if (since == NULL && after == NULL) {
		control_subscribe(cl);
		return NULL;
	}
	wc = xcalloc(1, sizeof(*wc));
	wc->d = d;
	wc->since = (time_t)json_integer_value(since);
	wc->after = json_integer_value(after);
	daemon_watch_more(cl, wc);
	return NULL;
}

static int	daemon_reload(struct daemon *, struct cv_err *);

/* ---- issue 6: renew, renewals, binding ---- */

static json_t *
daemon_renewals(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon	*d = arg;

	(void)cl;
	(void)peer;
	return proto_reply_ok(renew_list(d->renew,
	    daemon_arg_str(args, "binding")));
}

static json_t *
daemon_renew(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon	*d = arg;
	const char	*code = PROTO_E_BAD_REQUEST;
	struct cv_err	 err;
	json_t		*r;

	(void)cl;
	(void)peer;
	if (daemon_arg_str(args, "name") == NULL)
		return proto_reply_err(PROTO_E_BAD_REQUEST,
		    "\"name\" (a binding) is required");
	if (daemon_arg_bool(args, "check_ari"))	/* issue 17 */
		r = renew_ari_check(d->renew, daemon_arg_str(args, "name"),
		    &code, &err);
	else
		r = renew_request(d->renew, daemon_arg_str(args, "name"),
		    daemon_arg_bool(args, "now"), &code, &err);
	return r ? proto_reply_ok(r) : proto_reply_err(code, "%s", err.msg);
}

/*
 * revoke (issue 17): {"target": NAME|SHA1, "reason": R}.  The reply
 * waits for the CA (a worker thread): the client is tracked through
 * control_on_drain, which also fires when it closes, so a client gone
 * meanwhile is never written to.
 */
struct daemon_revoke {
	struct control_client	*cl;	/* NULL once it closed */
};

static void
daemon_revoke_drain(struct control_client *cl, void *arg)
{
	struct daemon_revoke	*dr = arg;

	if (control_queued(cl) == SIZE_MAX)
		dr->cl = NULL;
	else	/* another request's reply went out: still waiting */
		control_on_drain(cl, daemon_revoke_drain, dr);
}

static void
daemon_revoke_done(void *arg, json_t *result, const char *code,
    const char *msg)
{
	struct daemon_revoke	*dr = arg;
	json_t			*reply;

	reply = result != NULL ? proto_reply_ok(result) :
	    proto_reply_err(code, "%s", msg);
	if (dr->cl != NULL) {
		control_on_drain(dr->cl, NULL, NULL);
		control_send(dr->cl, reply);
	}
	json_decref(reply);
	free(dr);
}

static json_t *
daemon_revoke(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon		*d = arg;
	struct daemon_revoke	*dr;
	const char		*code = PROTO_E_BAD_REQUEST;
	struct cv_err		 err;

	(void)peer;
	if (daemon_arg_str(args, "target") == NULL)
		return proto_reply_err(PROTO_E_BAD_REQUEST,
		    "\"target\" (a binding or a SHA-1) is required");
	dr = xcalloc(1, sizeof(*dr));
	dr->cl = cl;
	if (renew_revoke(d->renew, daemon_arg_str(args, "target"),
	    daemon_arg_str(args, "reason"), daemon_revoke_done, dr, &code,
	    &err) == -1) {
		free(dr);
		return proto_reply_err(code, "%s", err.msg);
	}
	control_on_drain(cl, daemon_revoke_drain, dr);
	return NULL;
}

/*
 * binding: {"op": "add", "args": {"ipport": ..., ...}}.  Readable for
 * its "show" op (not admin in daemon_cmds); the changing ops are checked
 * here.
 */
static json_t *
daemon_binding(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon	*d = arg;
	const char	*code = PROTO_E_BAD_REQUEST, *op;
	struct cv_err	 err;
	json_t		*r, *a, *empty = NULL;

	(void)cl;
	op = daemon_arg_str(args, "op");
	if (op == NULL)
		return proto_reply_err(PROTO_E_BAD_REQUEST, "\"op\" (add, "
		    "update, delete, show) is required");
	if (strcmp(op, "show") != 0 && !peer->admin)
		return proto_reply_err(PROTO_E_DENIED, "binding %s: root or "
		    "the admin group only", op);
	a = json_object_get(args, "args");
	if (a != NULL && !json_is_object(a))
		return proto_reply_err(PROTO_E_BAD_REQUEST, "\"args\" must be "
		    "an object");
	if (a == NULL)
		a = empty = json_object();
	/* admin_may_run_commands makes the admin group root's equal. */
	r = renew_binding(d->renew, op, a, peer->uid == 0 ||
	    d->cf->admin_may_run_commands, &code, &err);
	json_decref(empty);
	/* Issue 15: each binding's last probe per endpoint. */
	if (r != NULL && strcmp(op, "show") == 0 && d->served != NULL)
		served_annotate(d->served, r);
	else if (r != NULL && d->served != NULL)
		served_bindings_changed(d->served);
	return r ? proto_reply_ok(r) : proto_reply_err(code, "%s", err.msg);
}

static json_t *
daemon_metrics(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon		*d = arg;
	struct scan_progress	 p;
	size_t			 len;
	char			*text;
	json_t			*r;

	(void)cl;
	(void)peer;
	(void)args;
	scan_get_progress(d->scan, &p);
	text = metrics_render(d->inv, d->cf, &p, d->alert, d->renew,
	    &len);
	r = proto_reply_ok(json_stringn(text, len));
	free(text);
	return r;
}

static json_t *
daemon_rescan(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon	*d = arg;

	(void)cl;
	(void)peer;
	(void)args;
	scan_full(d->scan);
	return proto_reply_ok(json_pack("{s:b}", "started", 1));
}

static json_t *
daemon_reload_cmd(void *arg, struct control_client *cl,
    const struct control_peer *peer, json_t *args)
{
	struct daemon	*d = arg;
	struct cv_err	 err;

	(void)cl;
	(void)peer;
	(void)args;
	if (daemon_reload(d, &err) == -1)
		return proto_reply_err(PROTO_E_BAD_REQUEST, "%s", err.msg);
	return proto_reply_ok(json_pack("{s:s}", "config", d->cf->file));
}

/*
 * Every request the daemon answers: the one place a request's name, its
 * admin flag and its handler meet (control.c looks rows up and checks the
 * flag before calling).  A new request is a row here, a PROTO_CMD_* name
 * in proto.h and a CLI entry (HACKING, "Adding a command").
 */
static const struct control_cmd daemon_cmds[] = {
	{ PROTO_CMD_STATUS,	0, daemon_status_cached },
	{ PROTO_CMD_LIST,	0, daemon_list },
	{ PROTO_CMD_SHOW,	0, daemon_show },
	{ PROTO_CMD_EVENTS,	0, daemon_events },
	{ PROTO_CMD_WATCH,	0, daemon_watch },
	{ PROTO_CMD_METRICS,	0, daemon_metrics },
	{ PROTO_CMD_RESCAN,	1, daemon_rescan },
	{ PROTO_CMD_RELOAD,	1, daemon_reload_cmd },
	{ PROTO_CMD_RENEW,	1, daemon_renew },
	{ PROTO_CMD_RENEWALS,	0, daemon_renewals },
	{ PROTO_CMD_BINDING,	0, daemon_binding },
	{ PROTO_CMD_REVOKE,	1, daemon_revoke },
};

/* ---- life cycle ----------------------------------------------------- */

/* ---- metrics textfile (node_exporter's textfile collector) ----------- */

struct textfile_job {
	uv_work_t	 req;
	struct daemon	*d;
	char		*path;
	char		*text;
	size_t		 len;
	struct cv_err	 err;
	int		 rc;
};

static void	daemon_textfile_kick(struct daemon *);

static void
daemon_textfile_work(uv_work_t *req)
{
	struct textfile_job	*j = req->data;

	/* Atomic and fsynced: off the loop thread. */
	j->rc = fsutil_write_atomic(j->path, j->text, j->len, 0644,
	    (uid_t)-1, (gid_t)-1, &j->err);
}

static void
daemon_textfile_done(uv_work_t *req, int status)
{
	struct textfile_job	*j = req->data;
	struct daemon		*d = j->d;

	if (status == 0 && j->rc == -1)
		log_warn("metrics_textfile: %s", j->err.msg);
	free(j->path);
	free(j->text);
	free(j);
	d->textfile_busy = 0;
	if (d->textfile_again && !d->closing) {
		d->textfile_again = 0;
		daemon_textfile_kick(d);
	}
}

static void
daemon_textfile_fire(uv_timer_t *t)
{
	struct daemon		*d = t->data;
	struct scan_progress	 p;
	struct textfile_job	*j;

	if (d->cf->metrics_textfile == NULL || d->closing)
		return;
	if (d->textfile_busy) {
		d->textfile_again = 1;
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->d = d;
	j->path = xstrdup(d->cf->metrics_textfile);
	scan_get_progress(d->scan, &p);
	j->text = metrics_render(d->inv, d->cf, &p, d->alert, d->renew,
	    &j->len);
	j->req.data = j;
	d->textfile_busy = 1;
	uv_queue_work(&d->loop, &j->req, daemon_textfile_work,
	    daemon_textfile_done);
}

/*
 * Retention (issue 12 item 9): at start, then hourly.  A run deletes at
 * most PRUNE_BATCH rows of each kind in one transaction, so the loop is
 * held for milliseconds; while there is more, the next run comes 10 ms
 * later and requests are answered in between.
 */
#define PRUNE_BATCH	2000
#define PRUNE_EVERY	(3600 * 1000)

static void
daemon_prune_fire(uv_timer_t *t)
{
	struct daemon	*d = t->data;
	int64_t		 n;
	time_t		 now = timeutil_now();

	if (d->closing)
		return;
	n = inventory_prune(d->inv, now - (time_t)d->cf->event_retention,
	    d->cf->event_max_rows, PRUNE_BATCH);
	if (n > 0)
		log_debug("retention: %lld rows deleted", (long long)n);
	uv_timer_start(&d->prune_timer, daemon_prune_fire, n > 0 ? 10 :
	    PRUNE_EVERY, 0);
}

static void
daemon_textfile_kick(struct daemon *d)
{
	/* Coalesce: at most one rewrite a second. */
	if (d->cf->metrics_textfile != NULL && !d->closing &&
	    !uv_is_active((uv_handle_t *)&d->textfile_timer))
		uv_timer_start(&d->textfile_timer, daemon_textfile_fire, 1000,
		    0);
}

static void
daemon_served_changed(void *arg)
{
	daemon_textfile_kick(arg);
}

static int
daemon_scanning(struct daemon *d)
{
	struct scan_progress	p;

	if (d->scan == NULL)
		return 0;
	scan_get_progress(d->scan, &p);
	return p.scanning;
}

static void
daemon_event(void *arg, json_t *event)
{
	struct daemon	*d = arg;
	const char	*kind = json_string_value(json_object_get(event,
			    "kind"));

	if (d->control != NULL)
		control_broadcast(d->control, event);
	/* The scanner saw a file change: a binding's cert_file is checked
	 * against its certhash now, not at the next schedule. */
	if (d->renew != NULL && kind != NULL && (!strcmp(kind, "discovered") ||
	    !strcmp(kind, "thumbprint_changed") || !strcmp(kind, "changed") ||
	    !strcmp(kind, "recovered")))
		renew_file_event(d->renew, json_string_value(json_object_get(
		    event, "path")));
	/* Renewal outcomes and served-watch findings to alert_command. */
	if (d->alert != NULL && kind != NULL)
		alert_event(d->alert, event);
	/* A renewal restarted or reloaded services: what do they serve? */
	if (d->served != NULL && kind != NULL &&
	    (!strcmp(kind, "renewal_done") || !strcmp(kind, "rolled_back") ||
	    !strcmp(kind, "rollback_failed")))
		served_renewal_ended(d->served, json_string_value(
		    json_object_get(event, "path")));
	/*
	 * The alert engine's own events do not re-trigger it, and during a
	 * full scan it waits for the end (daemon_scan_done kicks it): the
	 * loop thread's time goes to committing what the pool parsed.
	 */
	if (d->alert != NULL && kind != NULL && strcmp(kind, "alert") != 0 &&
	    strcmp(kind, "alert_failed") != 0 && !daemon_scanning(d))
		alert_kick(d->alert);
	if (!daemon_scanning(d))
		daemon_textfile_kick(d);
}

static void
daemon_write_pidfile(struct daemon *d)
{
	struct cv_err	 err;
	char		 buf[32];
	int		 n;

	if (d->pid_file == NULL)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (fsutil_write_atomic(d->pid_file, buf, (size_t)n, 0644, (uid_t)-1,
	    (gid_t)-1, &err) == -1)
		log_warn("pid file: %s", err.msg);
}

static void
daemon_scan_done(void *arg, int first)
{
	struct daemon	*d = arg;

	alert_kick(d->alert);
	daemon_textfile_kick(d);
	if (!first || d->ready)
		return;
	d->ready = 1;
	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, "READY\n", 6) != 6)
			log_warn("--ready-fd: %s", strerror(errno));
		close(d->ready_fd);
		d->ready_fd = -1;
	}
#ifdef HAVE_SYSTEMD
	sd_notifyf(0, "READY=1\nSTATUS=watching %zu paths\nMAINPID=%ld",
	    d->cf->nwatches, (long)getpid());
#endif
	log_info("ready: %s", d->cf->socket_path);
}

static int
daemon_reload(struct daemon *d, struct cv_err *err)
{
	struct control_opts	 o;
	struct config		*cf;

	if (conf_load(d->conf_path, d->conf_given, &cf, err) == -1) {
		log_error("reload refused, keeping the running config: %s",
		    err->msg);
		return -1;
	}
	daemon_apply_overrides(d, cf);
	if (strcmp(cf->socket_path, d->cf->socket_path) != 0 ||
	    strcmp(cf->state_dir, d->cf->state_dir) != 0)
		log_warn("reload: socket and state_dir changes take effect at "
		    "the next restart");
	log_set_level(cf->log_level);
	conf_unref(d->cf);
	d->cf = cf;
	daemon_control_opts(cf, &o);
	o.path = NULL;
	control_update(d->control, &o);
	scan_set_config(d->scan, cf);
	alert_set_config(d->alert, cf);
	renew_set_config(d->renew, cf);
	served_set_config(d->served, cf);
	log_info("configuration reloaded from %s", cf->file);
	return 0;
}

static void
daemon_closed_one(void *arg)
{
	(void)arg;	/* the loop ends when the last handle is closed */
}

static void
daemon_alert_closed(void *arg)
{
	struct daemon	*d = arg;

	d->alert = NULL;
}

static void
daemon_served_closed(void *arg)
{
	struct daemon	*d = arg;

	d->served = NULL;
}

static void
daemon_renew_closed(void *arg)
{
	struct daemon	*d = arg;

	d->renew_open = 0;
	/* Only now: renewal threads report verify probes to it. */
	served_close(d->served, daemon_served_closed, d);
	daemon_closed_one(d);
}

static void
daemon_control_closed(void *arg)
{
	struct daemon	*d = arg;

	d->control = NULL;
	daemon_closed_one(d);
}

static void
daemon_scan_closed(void *arg)
{
	struct daemon	*d = arg;

	d->scan = NULL;
	daemon_closed_one(d);
}

static void
daemon_shutdown(struct daemon *d, const char *why)
{
	if (d->closing)
		return;
	d->closing = 1;
	log_info("%s: finishing work in hand, then exiting", why);
#ifdef HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->textfile_timer, NULL);
	uv_close((uv_handle_t *)&d->prune_timer, NULL);
	control_close(d->control, daemon_control_closed, d);
	scan_close(d->scan, daemon_scan_closed, d);
	served_stop(d->served);
	alert_close(d->alert, daemon_alert_closed, d);
	renew_close(d->renew, daemon_renew_closed, d);
}

static void
daemon_signal(uv_signal_t *h, int signum)
{
	struct daemon	*d = h->data;
	struct cv_err	 err;

	if (signum == SIGHUP)
		daemon_reload(d, &err);
	else
		daemon_shutdown(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: certvigild [-f] [-c CONFIG] [-S SOCKET] "
	    "[-d STATE_DIR] [--ready-fd N] [--pid-file PATH]\n");
}

/*
 * Detaches from the terminal.  The parent waits until the child is ready
 * (or has failed), so an init script's "start" reports the truth.
 */
static int
daemon_detach(int *ready_fd)
{
	int	p[2], devnull;
	char	buf[8];
	ssize_t	n;
	pid_t	pid;

	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], buf, sizeof(buf));
		_exit(n > 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if ((pid = fork()) == -1)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		return -1;
	if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	*ready_fd = p[1];
	return 0;
}

/* The command line into d: -1 to go on, or the exit status. */
static int
daemon_args(struct daemon *d, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "socket",	required_argument,	NULL, 'S' },
		{ "state-dir",	required_argument,	NULL, 'd' },
		{ "ready-fd",	required_argument,	NULL, 'r' },
		{ "pid-file",	required_argument,	NULL, 'p' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "fc:S:d:hV", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'f':
			d->foreground = 1;
			break;
		case 'c':
			d->conf_path = optarg;
			d->conf_given = 1;
			break;
		case 'S':
			d->opt_socket = optarg;
			break;
		case 'd':
			d->opt_state = optarg;
			break;
		case 'p':
			d->opt_pidfile = optarg;
			break;
		case 'r':
			d->ready_fd = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || d->ready_fd < 0 ||
			    fcntl(d->ready_fd, F_GETFD) == -1) {
				fprintf(stderr, "certvigild: --ready-fd: '%s' "
				    "is not an open file descriptor\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
#ifdef CV_TEST_HOOKS
			printf("certvigild %s (test hooks)\n", PACKAGE_VERSION);
#else
			printf("certvigild %s\n", PACKAGE_VERSION);
#endif
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The socket's directory: 0750, as systemd's RuntimeDirectory. */
static int
daemon_mksockdir(const char *socket_path)
{
	struct cv_err	 err;
	char		*sockdir = xstrdup(socket_path), *slash;
	int		 rc = -1;

	if ((slash = strrchr(sockdir, '/')) != NULL && slash != sockdir) {
		*slash = '\0';
		if (access(sockdir, F_OK) == -1 &&
		    fsutil_mkdirs(sockdir, 0750, &err) == -1) {
			log_error("socket directory: %s", err.msg);
			goto out;
		}
	}
	rc = 0;
out:
	free(sockdir);
	return rc;
}

/*
 * Directories, the inventory, then into the background: what can fail
 * before the loop exists.  On failure d->inv is closed again.
 */
static int
daemon_prepare(struct daemon *d)
{
	struct cv_err	err;

	if (fsutil_mkdirs(d->cf->state_dir, 0700, &err) == -1) {
		log_error("state_dir: %s", err.msg);
		return -1;
	}
	if (daemon_mksockdir(d->cf->socket_path) == -1)
		return -1;
	xasprintf(&d->db_path, "%s/inventory.db", d->cf->state_dir);
	if (inventory_open(d->db_path, &d->inv, &err) == -1 ||
	    inventory_open(d->db_path, &d->scan_inv, &err) == -1) {
		inventory_close(d->inv);
		log_error("%s", err.msg);
		return -1;
	}
	if (!d->foreground) {
		d->pid_file = xstrdup(d->cf->pid_file);
		if (daemon_detach(&d->ready_fd) == -1) {
			log_error("detach: %s", strerror(errno));
			inventory_close(d->inv);
			inventory_close(d->scan_inv);
			return -1;
		}
	} else if (d->opt_pidfile != NULL)
		d->pid_file = xstrdup(d->opt_pidfile);
	return 0;
}

static void
daemon_unwound(void *arg)
{
	(void)arg;
}

/* The loop, the control socket, signals and the subsystems. */
static int
daemon_start(struct daemon *d)
{
	struct control_opts	 co;
	struct cv_err		 err;

	uv_loop_init(&d->loop);
	d->started_ms = uv_now(&d->loop);
	inventory_set_event_cb(d->inv, daemon_event, d);
	daemon_control_opts(d->cf, &co);
	if (control_open(&d->loop, &co, daemon_cmds, sizeof(daemon_cmds) /
	    sizeof(daemon_cmds[0]), d, &d->control, &err) == -1) {
		log_error("control socket: %s", err.msg);
		inventory_close(d->inv);
		inventory_close(d->scan_inv);
		uv_loop_close(&d->loop);
		return -1;
	}
	d->scan = scan_new(&d->loop, d->inv, d->scan_inv, d->cf,
	    daemon_scan_done, d, &err);
	d->scan_inv = NULL;		/* the scanner's now */
	if (d->scan == NULL) {
		log_error("%s", err.msg);
		control_close(d->control, daemon_unwound, NULL);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		inventory_close(d->inv);
		uv_loop_close(&d->loop);
		return -1;
	}
	daemon_write_pidfile(d);
	uv_signal_init(&d->loop, &d->sighup);
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	d->sighup.data = d->sigterm.data = d->sigint.data = d;
	uv_signal_start(&d->sighup, daemon_signal, SIGHUP);
	uv_signal_start(&d->sigterm, daemon_signal, SIGTERM);
	uv_signal_start(&d->sigint, daemon_signal, SIGINT);
	uv_timer_init(&d->loop, &d->textfile_timer);
	d->textfile_timer.data = d;
	uv_timer_init(&d->loop, &d->prune_timer);
	d->prune_timer.data = d;
	uv_timer_start(&d->prune_timer, daemon_prune_fire, 0, 0);
	d->alert = alert_new(&d->loop, d->inv, d->cf);
	log_info("certvigild %s starting: %zu watch%s, socket %s",
	    PACKAGE_VERSION, d->cf->nwatches, d->cf->nwatches == 1 ? "" :
	    "es", d->cf->socket_path);
	scan_full(d->scan);
	d->renew = renew_new(&d->loop, d->inv, d->cf, d->cf->state_dir);
	d->renew_open = 1;
	d->served = served_new(&d->loop, d->inv, d->cf, d->renew, d->alert,
	    daemon_served_changed, d);
	renew_set_probe_hook(d->renew, served_report, d->served);
	return 0;
}

/* After the loop has stopped: the exit status. */
static int
daemon_finish(struct daemon *d)
{
	int	rc;

	renew_free_all(d->renew);
	d->renew = NULL;
	inventory_close(d->inv);
	rc = uv_loop_close(&d->loop);
	if (rc != 0)
		log_error("loop close: %s (a handle leaked)", uv_strerror(rc));
	if (d->pid_file != NULL)
		unlink(d->pid_file);
	free(d->pid_file);
	free(d->db_path);
	free(d->status_text);
	conf_unref(d->cf);
	gnutls_global_deinit();
	log_info("stopped");
	return rc == 0 ? d->exit_code : 1;
}

/*
 * Fixed malloc thresholds (issue 16).  glibc raises both itself once a
 * large block is freed (a list reply, the scan queue): blocks up to
 * 32 MiB then come from the heap, and a thread's arena keeps up to 64 MiB
 * free at its top -- malloc_trim trims the main arena's top only.  The
 * scanner's writer thread freed its 9 MiB page cache there after a 100k
 * scan and 11.8 MiB stayed resident (RSS 37 MiB instead of 30).
 */
static void
daemon_malloc_tune(void)
{
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}

int
main(int argc, char **argv)
{
	struct daemon		 d;
	struct cv_err		 err;
	int			 rc;

	memset(&d, 0, sizeof(d));
	d.conf_path = CONF_DEFAULT_FILE;
	d.ready_fd = -1;
	daemon_malloc_tune();
	if ((rc = daemon_args(&d, argc, argv)) != -1)
		return rc;
	if (conf_load(d.conf_path, d.conf_given, &d.cf, &err) == -1) {
		fprintf(stderr, "certvigild: %s\n", err.msg);
		return 1;
	}
	daemon_apply_overrides(&d, d.cf);
	log_init("certvigild", d.cf->log_syslog == 1 ||
	    (d.cf->log_syslog == -1 && !d.foreground), d.cf->log_level);
	signal(SIGPIPE, SIG_IGN);
	if (gnutls_global_init() < 0) {
		log_error("GnuTLS initialisation failed");
		conf_unref(d.cf);
		return 1;
	}
	/* libcurl's global state, before the pool threads (issue 17). */
	if (http_init(&err) == -1) {
		log_error("%s", err.msg);
		conf_unref(d.cf);
		return 1;
	}
	if (daemon_prepare(&d) == -1 || daemon_start(&d) == -1)
		goto fail;

	uv_run(&d.loop, UV_RUN_DEFAULT);

	return daemon_finish(&d);
fail:
	/* Nothing started yet: free what was taken, say nothing more. */
	free(d.pid_file);
	free(d.db_path);
	conf_unref(d.cf);
	gnutls_global_deinit();
	return 1;
}
