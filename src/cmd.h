/*
 * The certvigil command table.  Each command is either an offline action
 * (runs here, no daemon) or one protocol request to certvigild.  Every
 * command file defines its struct cmd_entry (name, usage, options, exec)
 * next to its code; certvigil.c lists them (cmd_table), as tmux's
 * cmd-*.c files do.
 */
#ifndef CV_CMD_H
#define CV_CMD_H

#include <stdint.h>

#include "cmdopt.h"

/* Exit statuses shared by every command (certvigil(1) EXIT STATUS). */
#define CMD_EXIT_OK		0
#define CMD_EXIT_FAIL		1	/* a failure, or a daemon error reply */
#define CMD_EXIT_USAGE		2
#define CMD_EXIT_UNREACHABLE	3	/* the daemon's socket did not answer */

struct cmd_ctx {
	const char		*socket_path;	/* -S, $CERTVIGIL_SOCKET or
						 * default */
	const struct cmd_entry	*cmd;		/* the command running */
	struct cmdopt_state	 opt;		/* cmdopt_next's */
};

struct cmd_entry {
	const char		*name;
	const char		*request;	/* the daemon request it sends
						 * (PROTO_CMD_*), or NULL:
						 * offline */
	const char		*usage;		/* arguments after the name */
	const char		*summary;	/* one line, for certvigil --help */
	const char		*help;		/* more for CMD --help, or NULL */
	const struct cmdopt	*opts;		/* CMDOPT_END-terminated, or NULL */
	int			(*exec)(struct cmd_ctx *, int argc, char **argv);
};

/*
 * Text from certificates, file names and the daemon, made safe for a
 * terminal (log_escape: no raw control characters).  The result stays
 * valid for the next CMD_SAFE_RING - 1 calls; NULL gives NULL.
 */
#define CMD_SAFE_RING	16
const char	*cmd_safe(const char *);

/* Prints "usage: certvigil NAME USAGE" to stderr and returns 2. */
int	cmd_usage(const struct cmd_entry *);
/* Error line in the contract's form: "certvigil: what: why". */
void	cmd_err(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * A duration option's value (units required: "30" is refused, never
 * read as seconds); prints the error naming OPT and returns -1.
 */
int	cmd_duration(const char *opt, const char *arg, int64_t *secs);

/* cmd_daemon.c */
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_events_entry;
extern const struct cmd_entry cmd_metrics_entry;
extern const struct cmd_entry cmd_rescan_entry;
extern const struct cmd_entry cmd_reload_entry;
/* cmd_inspect.c */
extern const struct cmd_entry cmd_inspect_entry;
/* PKI toolbox: cmd_csr.c, cmd_ca.c, cmd_convert.c, cmd_check.c,
 * cmd_probe.c, cmd_deploy.c */
extern const struct cmd_entry cmd_csr_entry;
extern const struct cmd_entry cmd_ca_entry;
extern const struct cmd_entry cmd_convert_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_probe_entry;
extern const struct cmd_entry cmd_deploy_client_entry;
/* Renewal engine: cmd_renew.c */
extern const struct cmd_entry cmd_renew_entry;
extern const struct cmd_entry cmd_renewals_entry;
extern const struct cmd_entry cmd_binding_entry;
extern const struct cmd_entry cmd_revoke_entry;	/* issue 17 */

/*
 * The running command's request to certvigild (ctx->cmd->request), or
 * the named one; args are stolen, *result is the caller's.  Returns an
 * exit status; error replies are printed.  cmd_daemon.c.
 */
struct json_t;
/* Indented JSON on stdout, keys in their order, and a newline. */
void	cmd_print_json(const struct json_t *);
/*
 * Before a reply is printed as text: every string in the tree replaced
 * by its cmd_safe form (JSON output is escaped by jansson instead).
 */
void	cmd_json_safe(struct json_t *);
int	cmd_request(struct cmd_ctx *, const char *request, struct json_t *args,
	    struct json_t **result);

#endif
