/*
 * certvigil: the command-line client.  A table of commands; offline ones
 * run here, the others send one request to certvigild and print its reply.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "cmd.h"

#define CERTVIGIL_DEFAULT_SOCKET	"/run/certvigil/control.sock"

/* Every command, in the order certvigil --help lists them. */
static const struct cmd_entry *const cmd_table[] = {
	&cmd_inspect_entry,
	&cmd_status_entry,
	&cmd_list_entry,
	&cmd_show_entry,
	&cmd_events_entry,
	&cmd_metrics_entry,
	&cmd_rescan_entry,
	&cmd_reload_entry,
	/* PKI toolbox */
	&cmd_csr_entry,
	&cmd_ca_entry,
	&cmd_convert_entry,
	&cmd_check_entry,
	&cmd_probe_entry,
	&cmd_deploy_client_entry,
	/* renewal engine */
	&cmd_renew_entry,
	&cmd_renewals_entry,
	&cmd_binding_entry,
	&cmd_revoke_entry,
};

#define CMD_COUNT	(sizeof(cmd_table) / sizeof(cmd_table[0]))

static const struct cmd_entry *
cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

static void
usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: certvigil [-S SOCKET] COMMAND [ARGS]\n"
	    "       certvigil COMMAND --help\n\ncommands:\n");
	for (i = 0; i < CMD_COUNT; i++)
		fprintf(fp, "  %-14s %s\n", cmd_table[i]->name,
		    cmd_table[i]->summary);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL, 'S' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*e;
	struct cmd_ctx		 ctx;
	int			 ch, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.socket_path = getenv("CERTVIGIL_SOCKET");
	if (ctx.socket_path == NULL || *ctx.socket_path == '\0')
		ctx.socket_path = CERTVIGIL_DEFAULT_SOCKET;
	/* '+': stop at the command name; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+S:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			ctx.socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return CMD_EXIT_OK;
		case 'V':
			printf("certvigil %s\n", PACKAGE_VERSION);
			return CMD_EXIT_OK;
		default:
			usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc > 1 && (e = cmd_find(argv[1])) != NULL)
			return cmdopt_help(e, stdout);
		usage(stdout);
		return CMD_EXIT_OK;
	}
	if ((e = cmd_find(argv[0])) == NULL) {
		cmd_err("%s: unknown command (see certvigil --help)", argv[0]);
		return CMD_EXIT_USAGE;
	}
	if (gnutls_global_init() < 0) {
		cmd_err("GnuTLS initialisation failed");
		return CMD_EXIT_FAIL;
	}
	optind = 0;	/* each command runs getopt afresh */
	ctx.cmd = e;
	rc = e->exec(&ctx, argc, argv);
	gnutls_global_deinit();
	return rc;
}
