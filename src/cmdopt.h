/*
 * The CLI's option helper: a command declares each option once (long
 * name, value, argument name, help text) and gets getopt_long parsing,
 * "--help" (usage, summary and the option list, exit 0) and the one-line
 * usage for a bad option (exit 2) from that declaration.
 */
#ifndef CV_CMDOPT_H
#define CV_CMDOPT_H

#include <getopt.h>
#include <stdio.h>

struct cmd_ctx;
struct cmd_entry;

struct cmdopt {
	const char	*name;	/* long name, without "--" */
	int		 val;	/* returned by cmdopt_next; a letter or
				 * digit is also accepted as -LETTER, a
				 * value >= 256 is long-only */
	const char	*arg;	/* the argument's name, or NULL: a flag */
	const char	*help;	/* NULL: accepted, not listed by --help */
};
#define CMDOPT_END	{ NULL, 0, NULL, NULL }

/* Most options a table may have ("help" is added by cmdopt). */
#define CMDOPT_MAX	24

/*
 * Returned by cmdopt_next once it has printed the help (exit 0) or the
 * usage for a bad option (exit 2): the command cleans up and returns
 * ctx->opt.exit.
 */
#define CMDOPT_STOP	(-2)

/* getopt_long's tables, built by cmdopt_next from a cmdopt table. */
struct cmdopt_state {
	const struct cmdopt	*opts;
	struct option		 lo[CMDOPT_MAX + 2];
	char			 so[3 * CMDOPT_MAX + 2];
	int			 exit;
};

/*
 * The next option of argv under opts (NULL: the running command's own
 * table, ctx->cmd->opts): its val, with optarg set; -1 at the end
 * (optind is the first operand); CMDOPT_STOP after --help or -h, or a
 * bad option.  Callers reset optind to 0 before a new argv.
 */
int	cmdopt_next(struct cmd_ctx *, const struct cmdopt *opts, int argc,
	    char **argv);
/* Prints e's usage, summary and options to fp; returns exit status 0. */
int	cmdopt_help(const struct cmd_entry *e, FILE *fp);

#endif
