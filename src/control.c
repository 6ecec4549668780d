#include "config.h"

#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/*
 * What a client that does not read may cost us.  A client gets one reply
 * at a time: while a reply is queued, its further requests wait unread
 * in the socket (and the idle timer, which only reading and write
 * progress restart, drops it after client_timeout).  Events for a
 * "watch" subscriber are queued up to max_queued beyond the first;
 * past that the subscriber is dropped.
 */
#define CONTROL_DEFAULT_MAX_QUEUED	(4u * 1024 * 1024)
/*
 * A connection is reusable (closed for a newcomer) only once idle this
 * long: one that just connected has had no time to send its request, and
 * a burst of well-behaved clients must not close each other.
 */
#define CONTROL_EVICT_GRACE_MS		1000u
/* A producer waiting for room goes on below this. */
#define CONTROL_DRAIN_LOW		(256u * 1024)
/* A reply this large is followed by malloc_trim (issue 16). */
#define CONTROL_TRIM_BYTES		(1024u * 1024)

struct control_client {
	uv_pipe_t		 h;		/* first: freed in close_cb */
	uv_timer_t		 idle;
	struct control		*c;
	struct control_client	*next, **prevp;
	struct proto_buf	 in;
	struct control_peer	 peer;
	size_t			 queued;
	uint64_t		 active;	/* uv_now of the last sign of
						 * life: eviction order */
	int			 watch_slot;	/* counted against the caps */
	int			 watching;
	int			 draining;	/* answered too_large; discard */
	int			 reading;	/* uv_read_start is on */
	int			 closing;
	uv_shutdown_t		 shutdown;
	int			 handles;
	control_drain_cb	 drain_cb;	/* once the queue runs low */
	void			*drain_arg;
};

struct control {
	uv_pipe_t		 server;
	uv_loop_t		*loop;
	char			*path;
	const struct control_cmd *cmds;
	size_t			 ncmds;
	void			*arg;
	struct control_client	*clients;
	int			 nclients;
	int			 max_clients;
	int			 reserved;
	int			 max_per_uid;
	int			 max_watches;
	int			 max_watches_per_uid;
	uint64_t		 idle_ms;
	size_t			 max_request;
	size_t			 max_queued;
	char			*admin_group;
	/* admin_group resolved once per configuration (getgrnam at
	 * control_update), and each peer uid's membership once: name
	 * service lookups (LDAP) stay off the accept path. */
	int			 admin_gid_ok;
	gid_t			 admin_gid;
	struct control_member	*members;
	size_t			 nmembers;
	int			 closing;
	int			 pending;	/* handles not yet closed */
	void			(*close_cb)(void *);
	void			*close_arg;
};

struct control_member {
	uid_t	uid;
	int	admin;
};

/* Peers remembered per configuration; past this the list starts over. */
#define CONTROL_MAX_MEMBERS	1024

struct control_write {
	uv_write_t		 req;
	struct control_client	*cl;
	size_t			 len;
	char			*data;
};

static void	control_client_close(struct control_client *);
static void	control_touch(struct control_client *);
static void	control_process(struct control_client *);
static void	control_read_on(struct control_client *);

static void
control_maybe_done(struct control *c)
{
	if (c->closing && c->pending == 0) {
		if (unlink(c->path) == -1 && errno != ENOENT)
			log_warn("%s: unlink: %s", c->path, strerror(errno));
		free(c->path);
		free(c->admin_group);
		free(c->members);
		c->close_cb(c->close_arg);
		free(c);
	}
}

static void
control_client_closed(uv_handle_t *h)
{
	struct control_client	*cl = h->data;
	struct control		*c = cl->c;

	if (--cl->handles > 0)
		return;
	proto_buf_free(&cl->in);
	free(cl);
	c->pending--;
	control_maybe_done(c);
}

/* Calls the drain callback once (also when the client closes). */
static void
control_drained(struct control_client *cl)
{
	control_drain_cb	 cb = cl->drain_cb;

	if (cb == NULL)
		return;
	cl->drain_cb = NULL;
	cb(cl, cl->drain_arg);
}

static void
control_client_close(struct control_client *cl)
{
	if (cl->closing)
		return;
	cl->closing = 1;
	control_drained(cl);
	*cl->prevp = cl->next;
	if (cl->next != NULL)
		cl->next->prevp = cl->prevp;
	cl->c->nclients--;
	cl->handles = 2;
	cl->c->pending++;
	uv_close((uv_handle_t *)&cl->idle, control_client_closed);
	uv_close((uv_handle_t *)&cl->h, control_client_closed);
}

static void
control_write_done(uv_write_t *req, int status)
{
	struct control_write	*w = (struct control_write *)req;

	struct control_client	*cl = w->cl;

	cl->queued -= w->len;
	free(w->data);
	/*
	 * A large reply (a full list is ~730 bytes a certificate) leaves
	 * free memory malloc keeps; give it back, so the daemon's RSS stays
	 * flat however often it is listed (issue 16).
	 */
	if (w->len >= CONTROL_TRIM_BYTES)
		malloc_trim(0);
	free(w);
	if (status < 0) {
		if (status != UV_ECANCELED)
			control_client_close(cl);
		return;
	}
	if (cl->closing)
		return;
	/* The client reads: it is not idle.  A producer waiting for room
	 * (a watch backlog) goes on; once all is out, so do the requests
	 * the client sent meanwhile. */
	control_touch(cl);
	if (cl->queued <= CONTROL_DRAIN_LOW)
		control_drained(cl);
	if (cl->closing)
		return;
	if (cl->queued == 0 && !cl->draining) {
		control_process(cl);
		if (cl->queued == 0 && !cl->closing)
			control_read_on(cl);
	}
}

static void
control_write(struct control_client *cl, char *data, size_t len)
{
	struct control_write	*w;
	uv_buf_t		 b = uv_buf_init(data, (unsigned)len);
	int			 n;

	if (cl->closing) {
		free(data);
		return;
	}
	/* Most replies go out at once, without queueing a request. */
	if (cl->queued == 0) {
		n = uv_try_write((uv_stream_t *)&cl->h, &b, 1);
		if (n == (int)len) {
			free(data);
			return;
		}
		if (n > 0) {
			b.base += n;
			b.len -= (size_t)n;
		} else if (n != UV_EAGAIN) {
			free(data);
			control_client_close(cl);
			return;
		}
	}
	/* One reply, however large, always goes; stacking them does not. */
	if (cl->queued > 0 && cl->queued + b.len > cl->c->max_queued) {
		log_warn("control: client pid %ld does not read its replies "
		    "(%zu bytes queued); dropped", (long)cl->peer.pid,
		    cl->queued);
		free(data);
		control_client_close(cl);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->cl = cl;
	w->len = b.len;
	w->data = data;
	cl->queued += b.len;
	uv_write(&w->req, (uv_stream_t *)&cl->h, &b, 1, control_write_done);
}

void
control_send(struct control_client *cl, const json_t *msg)
{
	size_t	 len;
	char	*s = proto_dump(msg, &len);

	control_write(cl, s, len);
}

void
control_send_ok_raw(struct control_client *cl, const char *result,
    size_t len)
{
	static const char	 head[] = "{\"v\":1,\"ok\":true,\"result\":";
	char			*s = xmalloc(sizeof(head) - 1 + len + 3);

	memcpy(s, head, sizeof(head) - 1);
	memcpy(s + sizeof(head) - 1, result, len);
	memcpy(s + sizeof(head) - 1 + len, "}\n", 3);
	control_write(cl, s, sizeof(head) - 1 + len + 2);
}

size_t
control_queued(const struct control_client *cl)
{
	return cl->closing ? SIZE_MAX : cl->queued;
}

void
control_on_drain(struct control_client *cl, control_drain_cb cb, void *arg)
{
	cl->drain_cb = cb;
	cl->drain_arg = arg;
}

int
control_watch_slot(struct control_client *cl, struct cv_err *err)
{
	struct control		*c = cl->c;
	struct control_client	*o;
	int			 all = 0, mine = 0;

	if (cl->watch_slot)
		return 0;
	for (o = c->clients; o != NULL; o = o->next) {
		if (!o->watch_slot)
			continue;
		all++;
		if (o->peer.uid == cl->peer.uid)
			mine++;
	}
	if (cl->peer.uid != 0 && mine >= c->max_watches_per_uid)
		return cv_err_set(err, "too many watches for uid %lu (%d); "
		    "close one first", (unsigned long)cl->peer.uid, mine);
	if (cl->peer.uid != 0 && all >= c->max_watches)
		return cv_err_set(err, "too many watches (%d); try again "
		    "later", all);
	cl->watch_slot = 1;
	return 0;
}

void
control_subscribe(struct control_client *cl)
{
	cl->watching = 1;
	/* A subscriber waits for events: no idle timeout (control_touch). */
	if (cl->in.len == cl->in.taken)
		uv_timer_stop(&cl->idle);
}

void
control_broadcast(struct control *c, const json_t *event)
{
	struct control_client	*cl;
	json_t			*msg = NULL;
	size_t			 len = 0;
	char			*s = NULL;

	for (cl = c->clients; event != NULL && cl != NULL; cl = cl->next) {
		if (!cl->watching || cl->closing)
			continue;
		if (s == NULL) {
			msg = proto_event(json_incref((json_t *)event));
			s = proto_dump(msg, &len);
			json_decref(msg);
		}
		control_write(cl, xstrndup(s, len), len);
	}
	free(s);
}

int
control_nclients(struct control *c)
{
	return c->nclients;
}

static void
control_idle_fire(uv_timer_t *t)
{
	struct control_client	*cl = t->data;

	if (cl->queued > 0)
		log_info("control: client pid %ld read nothing of its reply "
		    "within %llums; dropped", (long)cl->peer.pid,
		    (unsigned long long)cl->c->idle_ms);
	else if (cl->in.len > cl->in.taken)
		log_info("control: client pid %ld sent no complete request "
		    "within %llums; dropped", (long)cl->peer.pid,
		    (unsigned long long)cl->c->idle_ms);
	else
		log_debug("control: client pid %ld idle; dropped",
		    (long)cl->peer.pid);
	control_client_close(cl);
}

/*
 * (Re)starts the client's deadline: client_timeout from now.  Called when
 * a request begins (not for each byte of it: a client sending one byte a
 * second must still finish within client_timeout), when the last request
 * was answered, and when a reply makes progress.
 */
static void
control_touch(struct control_client *cl)
{
	cl->active = uv_now(cl->c->loop);
	/* A subscriber waits for events as long as it likes; a request it
	 * begins must still end within client_timeout. */
	if (cl->watching && cl->in.len == cl->in.taken) {
		uv_timer_stop(&cl->idle);
		return;
	}
	if (cl->c->idle_ms > 0)
		uv_timer_start(&cl->idle, control_idle_fire, cl->c->idle_ms, 0);
}

static void
control_reply_err(struct control_client *cl, const char *code,
    const char *msg)
{
	json_t	*r = proto_reply_err(code, "%s", msg);

	control_send(cl, r);
	json_decref(r);
}

const struct control_cmd *
control_cmd_find(const struct control_cmd *cmds, size_t ncmds,
    const char *name)
{
	size_t	i;

	for (i = 0; i < ncmds; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void
control_handle_line(struct control_client *cl, char *line, size_t len)
{
	struct control		*c = cl->c;
	const struct control_cmd *cc;
	const char		*cmd, *code;
	json_t			*req, *args, *reply;
	char			 msg[256];

	if (proto_parse_request(line, len, &req, &cmd, &args, &code, msg,
	    sizeof(msg)) == -1) {
		control_reply_err(cl, code, msg);
		return;
	}
	if ((cc = control_cmd_find(c->cmds, c->ncmds, cmd)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown command '%.64s'", cmd);
		control_reply_err(cl, PROTO_E_UNKNOWN_CMD, msg);
	} else if (cc->admin && !cl->peer.admin) {
		snprintf(msg, sizeof(msg), "'%s' changes the daemon's state: "
		    "root or the admin group only", cmd);
		control_reply_err(cl, PROTO_E_DENIED, msg);
	} else {
		reply = cc->handler(c->arg, cl, &cl->peer, args);
		if (reply != NULL) {
			control_send(cl, reply);
			json_decref(reply);
		}
	}
	json_decref(req);
}

static void
control_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char	slab[65536];	/* the loop thread's only reader */

	(void)h;
	(void)hint;
	buf->base = slab;
	buf->len = sizeof(slab);
}

/*
 * Answers the complete requests in the client's buffer, one at a time:
 * a reply still queued stops it (and reading, see control_read_on) until
 * control_write_done sees everything sent.
 */
static void
control_process(struct control_client *cl)
{
	char	*line, msg[128];
	size_t	 len;
	int	 rc;

	while (!cl->closing && cl->queued == 0 &&
	    (rc = proto_buf_take(&cl->in, &line, &len)) != 0) {
		if (rc == 1) {
			control_handle_line(cl, line, len);
			continue;
		}
		/* Say why, then hang up: the stream is unframed. */
		snprintf(msg, sizeof(msg), "request longer than %zu bytes",
		    cl->c->max_request);
		control_reply_err(cl, PROTO_E_TOO_LARGE, msg);
		/*
		 * Closing with unread input would send a reset that can
		 * destroy the reply: half-close after it, and discard what
		 * still comes until the client hangs up or goes idle.
		 */
		cl->draining = 1;
		proto_buf_free(&cl->in);
		if (!cl->closing) {
			uv_shutdown(&cl->shutdown, (uv_stream_t *)&cl->h, NULL);
			control_read_on(cl);
		}
		return;
	}
	if (cl->closing)
		return;
	if (cl->queued > 0 && !cl->draining && cl->reading) {
		uv_read_stop((uv_stream_t *)&cl->h);
		cl->reading = 0;
	}
	/* All answered and nothing begun: idle from now. */
	if (cl->queued == 0 && cl->in.len == cl->in.taken)
		control_touch(cl);
}

static void
control_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct control_client	*cl = s->data;

	if (n < 0) {
		control_client_close(cl);
		return;
	}
	if (n == 0 || cl->closing || cl->draining)
		return;
	/* The first bytes of a request start its deadline; later ones
	 * do not extend it. */
	if (cl->in.len == cl->in.taken)
		control_touch(cl);
	proto_buf_append(&cl->in, buf->base, (size_t)n);
	control_process(cl);
}

static void
control_read_on(struct control_client *cl)
{
	if (cl->reading || cl->closing)
		return;
	if (uv_read_start((uv_stream_t *)&cl->h, control_alloc,
	    control_read) == 0)
		cl->reading = 1;
}

static int
control_in_group(struct control *c, uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	gid_t		 groups[256];
	size_t		 k;
	int		 n = 256, i, admin = 0;

	if (!c->admin_gid_ok)
		return 0;
	if (gid == c->admin_gid)
		return 1;
	for (k = 0; k < c->nmembers; k++)
		if (c->members[k].uid == uid)
			return c->members[k].admin;
	if ((pw = getpwuid(uid)) != NULL &&
	    getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) != -1)
		for (i = 0; i < n; i++)
			if (groups[i] == c->admin_gid)
				admin = 1;
	if (c->nmembers == CONTROL_MAX_MEMBERS)
		c->nmembers = 0;
	c->members = xreallocarray(c->members, c->nmembers + 1,
	    sizeof(*c->members));
	c->members[c->nmembers].uid = uid;
	c->members[c->nmembers++].admin = admin;
	return admin;
}

/*
 * Whether cl holds its slot for nothing: no request begun, no reply
 * queued, no backlog being sent, not subscribed, and idle for a moment.  Such a connection is
 * closed when a newcomer needs its slot (nginx's reusable connections):
 * a client that came back would simply connect again.
 */
static int
control_evictable(const struct control_client *cl)
{
	return !cl->closing && !cl->watching && !cl->watch_slot &&
	    cl->queued == 0 && cl->in.len == cl->in.taken &&
	    cl->drain_cb == NULL &&
	    uv_now(cl->c->loop) - cl->active >= CONTROL_EVICT_GRACE_MS;
}

/*
 * The longest-idle evictable client other than self: of uid when
 * same_uid is set, else of anyone but root and admins when peers_only.
 */
static struct control_client *
control_idlest(struct control *c, const struct control_client *self,
    int same_uid, int peers_only)
{
	struct control_client	*o, *best = NULL;

	for (o = c->clients; o != NULL; o = o->next) {
		if (o == self || !control_evictable(o))
			continue;
		if (same_uid && o->peer.uid != self->peer.uid)
			continue;
		if (peers_only && o->peer.admin)
			continue;
		if (best == NULL || o->active < best->active)
			best = o;
	}
	return best;
}

static int
control_refuse(struct control_client *cl, const char *why)
{
	log_debug("control: refused pid %ld (uid %lu): %s", (long)cl->peer.pid,
	    (unsigned long)cl->peer.uid, why);
	control_reply_err(cl, PROTO_E_BUSY, why);
	control_client_close(cl);
	return -1;
}

/*
 * Makes room for a new client, or refuses it.  One uid (root aside) holds
 * at most max_per_uid connections: past that its own longest-idle one
 * goes.  The last `reserved` slots are for root and the admin group.
 * When the table is full, the longest-idle connection goes (a newcomer
 * that is not an admin only ever displaces one that is not either).
 */
static int
control_admit(struct control *c, struct control_client *cl)
{
	struct control_client	*o, *victim;
	int			 mine = 0, limit;
	char			 why[128];

	for (o = c->clients; o != NULL; o = o->next)
		if (o != cl && o->peer.uid == cl->peer.uid)
			mine++;
	if (cl->peer.uid != 0 && mine >= c->max_per_uid) {
		if ((victim = control_idlest(c, cl, 1, 0)) == NULL) {
			snprintf(why, sizeof(why), "too many connections for "
			    "uid %lu (%d); try again later",
			    (unsigned long)cl->peer.uid, mine);
			return control_refuse(cl, why);
		}
		control_client_close(victim);
	}
	limit = cl->peer.admin ? c->max_clients : c->max_clients - c->reserved;
	while (c->nclients > limit) {
		victim = control_idlest(c, cl, 0, !cl->peer.admin);
		if (victim == NULL)
			return control_refuse(cl, "too many clients; try "
			    "again later");
		log_debug("control: closing idle client pid %ld (uid %lu) "
		    "for pid %ld", (long)victim->peer.pid,
		    (unsigned long)victim->peer.uid, (long)cl->peer.pid);
		control_client_close(victim);
	}
	return 0;
}

static void
control_accept(uv_stream_t *server, int status)
{
	struct control		*c = server->data;
	struct control_client	*cl;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	uv_os_fd_t		 fd;

	if (status < 0) {
		log_warn("control: accept: %s", uv_strerror(status));
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->c = c;
	uv_pipe_init(c->loop, &cl->h, 0);
	uv_timer_init(c->loop, &cl->idle);
	cl->h.data = cl->idle.data = cl;
	proto_buf_init(&cl->in, c->max_request);
	cl->next = c->clients;
	if (c->clients != NULL)
		c->clients->prevp = &cl->next;
	cl->prevp = &c->clients;
	c->clients = cl;
	c->nclients++;
	if (uv_accept(server, (uv_stream_t *)&cl->h) != 0) {
		control_client_close(cl);
		return;
	}
	if (uv_fileno((uv_handle_t *)&cl->h, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		control_client_close(cl);
		return;
	}
	cl->peer.uid = cred.uid;
	cl->peer.gid = cred.gid;
	cl->peer.pid = cred.pid;
	cl->peer.admin = cred.uid == 0 ||
	    control_in_group(c, cred.uid, cred.gid);
	if (control_admit(c, cl) == -1)
		return;
	control_touch(cl);
	control_read_on(cl);
}

/*
 * A socket file left by a daemon that died is removed; one that answers
 * belongs to a running daemon, and we refuse to steal it.
 */
static int
control_clear_stale(const char *path, struct cv_err *err)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : cv_err_set(err, "%s: %s", path,
		    strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return cv_err_set(err, "%s: exists and is not a socket", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return cv_err_set(err, "socket: %s", strerror(errno));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0)
		return cv_err_set(err, "%s: another certvigild is running",
		    path);
	if (unlink(path) == -1)
		return cv_err_set(err, "%s: unlink: %s", path, strerror(errno));
	return 0;
}

void
control_update(struct control *c, const struct control_opts *o)
{
	struct group	*gr;

	c->max_clients = o->max_clients;
	c->reserved = o->reserved;
	c->max_per_uid = o->max_per_uid > 0 ? o->max_per_uid : o->max_clients;
	c->max_watches = o->max_watches > 0 ? o->max_watches : o->max_clients;
	c->max_watches_per_uid = o->max_watches_per_uid > 0 ?
	    o->max_watches_per_uid : c->max_watches;
	c->idle_ms = o->idle_timeout_ms;
	c->max_request = o->max_request;
	c->max_queued = o->max_queued > 0 ? o->max_queued :
	    CONTROL_DEFAULT_MAX_QUEUED;
	free(c->admin_group);
	c->admin_group = o->admin_group ? xstrdup(o->admin_group) : NULL;
	/* Membership is read again after each reload (SIGHUP). */
	c->nmembers = 0;
	c->admin_gid_ok = 0;
	if (c->admin_group != NULL && (gr = getgrnam(c->admin_group)) != NULL) {
		c->admin_gid = gr->gr_gid;
		c->admin_gid_ok = 1;
	}
}

int
control_open(uv_loop_t *loop, const struct control_opts *o,
    const struct control_cmd *cmds, size_t ncmds, void *arg,
    struct control **out, struct cv_err *err)
{
	struct control	*c;
	struct group	*gr = NULL;
	gid_t		 sgid;
	mode_t		 old;
	int		 rc;

	*out = NULL;
	if (strlen(o->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return cv_err_set(err, "%s: socket path too long", o->path);
	if (o->group != NULL && (gr = getgrnam(o->group)) == NULL)
		return cv_err_set(err, "socket_group: no group named '%s'",
		    o->group);
	/* Copied now: control_update's getgrnam(admin_group) reuses the
	 * static struct gr points to (the socket went to the admin group). */
	sgid = gr != NULL ? gr->gr_gid : (gid_t)-1;
	if (control_clear_stale(o->path, err) == -1)
		return -1;
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->path = xstrdup(o->path);
	c->cmds = cmds;
	c->ncmds = ncmds;
	c->arg = arg;
	control_update(c, o);
	uv_pipe_init(loop, &c->server, 0);
	c->server.data = c;
	/* Bind under a tight umask, then open up to the configured mode. */
	old = umask(0177);
	rc = uv_pipe_bind(&c->server, o->path);
	umask(old);
	if (rc == 0 && gr != NULL && chown(o->path, (uid_t)-1, sgid) == -1)
		rc = -errno;
	if (rc == 0 && chmod(o->path, o->mode) == -1)
		rc = -errno;
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&c->server, 128, control_accept);
	if (rc != 0) {
		cv_err_set(err, "%s: %s", o->path, uv_strerror(rc));
		uv_close((uv_handle_t *)&c->server, NULL);
		unlink(o->path);
		/* The handle is freed once the loop has run its close. */
		uv_run(loop, UV_RUN_NOWAIT);
		free(c->path);
		free(c->admin_group);
		free(c->members);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static void
control_server_closed(uv_handle_t *h)
{
	struct control	*c = h->data;

	c->pending--;
	control_maybe_done(c);
}

void
control_close(struct control *c, void (*cb)(void *), void *arg)
{
	c->closing = 1;
	c->close_cb = cb;
	c->close_arg = arg;
	c->pending++;
	while (c->clients != NULL)
		control_client_close(c->clients);
	uv_close((uv_handle_t *)&c->server, control_server_closed);
}
