/*
 * The CLI's option helper and the lines every command prints the same
 * way: usage, help, "certvigil: what: why".
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmdopt.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define CMDOPT_HELP	0x7fff	/* --help, which every command has */

static int
cmdopt_is_short(int val)
{
	return val > 0 && val < 128 && isalnum(val);
}

/* getopt_long's long and short tables for opts, plus --help and -h. */
static void
cmdopt_build(struct cmdopt_state *st, const struct cmdopt *opts)
{
	size_t	i, n = 0, s = 0;

	memset(st->lo, 0, sizeof(st->lo));
	for (i = 0; opts != NULL && opts[i].name != NULL; i++) {
		if (i == CMDOPT_MAX)
			abort();	/* a table too long: a programming error */
		st->lo[n].name = opts[i].name;
		st->lo[n].has_arg = opts[i].arg != NULL ? required_argument :
		    no_argument;
		st->lo[n++].val = opts[i].val;
		if (!cmdopt_is_short(opts[i].val))
			continue;
		st->so[s++] = (char)opts[i].val;
		if (opts[i].arg != NULL)
			st->so[s++] = ':';
	}
	st->lo[n].name = "help";
	st->lo[n].has_arg = no_argument;
	st->lo[n].val = CMDOPT_HELP;
	st->so[s++] = 'h';
	st->so[s] = '\0';
	st->opts = opts;
}

int
cmdopt_next(struct cmd_ctx *ctx, const struct cmdopt *opts, int argc,
    char **argv)
{
	struct cmdopt_state	*st = &ctx->opt;
	int			 ch;

	if (opts == NULL)
		opts = ctx->cmd->opts;
	if (st->opts != opts || st->lo[0].name == NULL)
		cmdopt_build(st, opts);
	ch = getopt_long(argc, argv, st->so, st->lo, NULL);
	if (ch == CMDOPT_HELP || ch == 'h') {
		st->exit = cmdopt_help(ctx->cmd, stdout);
		return CMDOPT_STOP;
	}
	if (ch == '?' || ch == ':') {
		st->exit = cmd_usage(ctx->cmd);
		return CMDOPT_STOP;
	}
	return ch;
}

int
cmdopt_help(const struct cmd_entry *e, FILE *fp)
{
	const struct cmdopt	*o;
	char			 left[64];

	fprintf(fp, "usage: certvigil %s %s\n%s\n", e->name, e->usage,
	    e->summary);
	if (e->help != NULL)
		fprintf(fp, "\n%s\n", e->help);
	fprintf(fp, "\noptions:\n");
	for (o = e->opts; o != NULL && o->name != NULL; o++) {
		if (o->help == NULL)
			continue;	/* kept for compatibility, not offered */
		snprintf(left, sizeof(left), "%s%c%s--%s%s%s",
		    cmdopt_is_short(o->val) ? "-" : " ",
		    cmdopt_is_short(o->val) ? o->val : ' ',
		    cmdopt_is_short(o->val) ? ", " : "  ", o->name,
		    o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
		if (strlen(left) > 26)	/* the help on a line of its own */
			fprintf(fp, "  %s\n  %-26s %s\n", left, "", o->help);
		else
			fprintf(fp, "  %-26s %s\n", left, o->help);
	}
	fprintf(fp, "  %-26s %s\n", "-h, --help", "this help");
	return CMD_EXIT_OK;
}

int
cmd_usage(const struct cmd_entry *e)
{
	fprintf(stderr, "usage: certvigil %s %s\n", e->name, e->usage);
	return CMD_EXIT_USAGE;
}

/* Reasons name files and quote the daemon: escaped for the terminal. */
void
cmd_err(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	msg = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	fprintf(stderr, "certvigil: %s\n", cmd_safe(msg));
	free(msg);
}

int
cmd_duration(const char *opt, const char *arg, int64_t *secs)
{
	switch (timeutil_parse_duration_unit(arg, secs)) {
	case 0:
		return 0;
	case -2:
		cmd_err("%s %s: " TIMEUTIL_UNIT_HINT, opt, arg);
		return -1;
	default:
		cmd_err("%s: '%s' is not a duration (examples: 30d, 2w, "
		    "12h)", opt, arg);
		return -1;
	}
}

const char *
cmd_safe(const char *s)
{
	static char	*ring[CMD_SAFE_RING];
	static size_t	 next;
	char		*r;

	if (s == NULL)
		return NULL;
	r = log_escape(s);
	free(ring[next]);
	ring[next] = r;
	next = (next + 1) % CMD_SAFE_RING;
	return r;
}
