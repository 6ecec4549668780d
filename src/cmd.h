/*
 * The certvigil command table.  Each command is either an offline action
 * (runs here, no daemon) or one protocol request to certvigild.
 */
#ifndef CV_CMD_H
#define CV_CMD_H

/* Exit statuses shared by every command (certvigil(1) EXIT STATUS). */
#define CMD_EXIT_OK		0
#define CMD_EXIT_FAIL		1	/* a failure, or a daemon error reply */
#define CMD_EXIT_USAGE		2
#define CMD_EXIT_UNREACHABLE	3	/* the daemon's socket did not answer */

struct cmd_ctx {
	const char	*socket_path;	/* -S, $CERTVIGIL_SOCKET or default */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* arguments after the name */
	const char	*summary;
	int		(*exec)(struct cmd_ctx *, int argc, char **argv);
};

/* Prints "usage: certvigil NAME USAGE" to stderr and returns 2. */
int	cmd_usage(const struct cmd_entry *);
/* Finds an entry by name (for --help of one command). */
const struct cmd_entry *cmd_find(const char *);
/* Error line in the contract's form: "certvigil: what: why". */
void	cmd_err(const char *, ...) __attribute__((format(printf, 1, 2)));

int	cmd_inspect(struct cmd_ctx *, int, char **);
int	cmd_status(struct cmd_ctx *, int, char **);
int	cmd_list(struct cmd_ctx *, int, char **);
int	cmd_show(struct cmd_ctx *, int, char **);
int	cmd_events(struct cmd_ctx *, int, char **);
int	cmd_rescan(struct cmd_ctx *, int, char **);
int	cmd_reload(struct cmd_ctx *, int, char **);
int	cmd_metrics(struct cmd_ctx *, int, char **);
/* PKI toolbox */
int	cmd_csr(struct cmd_ctx *, int, char **);
int	cmd_ca(struct cmd_ctx *, int, char **);
int	cmd_convert(struct cmd_ctx *, int, char **);
int	cmd_check(struct cmd_ctx *, int, char **);
int	cmd_probe(struct cmd_ctx *, int, char **);
int	cmd_deploy_client(struct cmd_ctx *, int, char **);
/* Renewal engine (cmd_renew.c) */
int	cmd_renew(struct cmd_ctx *, int, char **);
int	cmd_renewals(struct cmd_ctx *, int, char **);
int	cmd_binding(struct cmd_ctx *, int, char **);
/* One request to certvigild (cmd_daemon.c); args are stolen, *result is
 * the caller's.  Returns an exit status; error replies are printed. */
struct json_t;
int	cmd_request(struct cmd_ctx *, const char *cmd, struct json_t *args,
	    struct json_t **result);

#endif
