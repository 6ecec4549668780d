/*
 * The control socket: accept, peer credentials, limits, line framing and
 * dispatch to the daemon's handler.  Loop thread only.
 */
#ifndef CV_CONTROL_H
#define CV_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#include "cverr.h"

struct control;
struct control_client;

struct control_peer {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
	int	admin;		/* may run changing commands */
};

/*
 * Handles one request; returns the reply to send (the control layer owns
 * and frees it), or NULL when the handler already answered (watch).
 */
typedef json_t *(*control_handler)(void *arg, struct control_client *,
    const struct control_peer *, json_t *args);

/*
 * The daemon's command table, one row per request: its name (proto.h's
 * PROTO_CMD_*), whether it changes state (root or the admin group only;
 * checked here, before the handler runs) and its handler.  A name not in
 * the table gets unknown_command.
 */
struct control_cmd {
	const char	*name;
	int		 admin;
	control_handler	 handler;
};

/* The row for name, or NULL. */
const struct control_cmd *control_cmd_find(const struct control_cmd *,
	    size_t ncmds, const char *name);

struct control_opts {
	const char	*path;
	mode_t		 mode;
	const char	*group;		/* socket group, or NULL */
	const char	*admin_group;	/* or NULL: root only */
	int		 max_clients;
	int		 reserved;	/* of max_clients: root and admins
					 * only */
	int		 max_per_uid;	/* connections of one uid but root */
	int		 max_watches;	/* subscriptions in all */
	int		 max_watches_per_uid;	/* of one uid but root */
	uint64_t	 idle_timeout_ms;
	size_t		 max_request;
	size_t		 max_queued;	/* events queued for a watcher that
					 * does not read; 0: 4 MiB */
};

/* cmds (ncmds rows) must outlive the control; arg goes to every handler. */
int	 control_open(uv_loop_t *, const struct control_opts *,
	    const struct control_cmd *cmds, size_t ncmds, void *arg,
	    struct control **, struct cv_err *);
/* Applies new limits and groups (SIGHUP); the socket stays. */
void	 control_update(struct control *, const struct control_opts *);
/* Sends one message (reply or event) to a client. */
void	 control_send(struct control_client *, const json_t *);
/*
 * Sends {"v":1,"ok":true,"result":RESULT} where RESULT is JSON text the
 * caller built (large lists are written directly, not through jansson).
 */
void	 control_send_ok_raw(struct control_client *, const char *result,
	    size_t len);
/*
 * Bytes queued for a client that its socket has not taken yet; SIZE_MAX
 * once the client is closing.  A producer of a long stream (a watch
 * backlog) sends while this is low, and otherwise waits with
 * control_on_drain: cb runs once, when the queue is down to 256 KiB or
 * the client closes (then control_queued() is SIZE_MAX: free and stop).
 */
typedef void (*control_drain_cb)(struct control_client *, void *arg);
size_t	 control_queued(const struct control_client *);
void	 control_on_drain(struct control_client *, control_drain_cb,
	    void *arg);
/*
 * Takes a watch slot for the client (once; kept until it closes), or
 * returns -1 with the reason when the caps (max_watches, and
 * max_watches_per_uid for all but root) are reached.  A "watch" request
 * takes its slot before it answers, then subscribes.
 */
int	 control_watch_slot(struct control_client *, struct cv_err *);
/* Marks a client as subscribed to the event stream. */
void	 control_subscribe(struct control_client *);
/* Sends an event to every subscribed client. */
void	 control_broadcast(struct control *, const json_t *event);
int	 control_nclients(struct control *);
/* Closes the server and all clients, unlinks the socket, then cb. */
void	 control_close(struct control *, void (*cb)(void *), void *arg);

#endif
