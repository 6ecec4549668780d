/*
 * certvigil: the command-line client.  A table of commands; offline ones
 * run here, the others send one request to certvigild and print its reply.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "cmd.h"

#define CERTVIGIL_DEFAULT_SOCKET	"/run/certvigil/control.sock"

static const struct cmd_entry cmd_table[] = {
	{ "inspect", "[--json] [--password-file FILE|-] FILE...",
	    "show every certificate and key in files (PEM, DER, PKCS#12)",
	    cmd_inspect },
	{ "status", "[--json]",
	    "the daemon's state: counts, last scan, watches", cmd_status },
	{ "list", "[--json] [--expiring DURATION] [--expired] [--invalid] "
	    "[--drift] [--role server|client|ca] [--path GLOB] [--all]",
	    "the inventory, soonest expiry first", cmd_list },
	{ "show", "[--json] SHA1-PREFIX|PATH",
	    "one certificate with its sources and events", cmd_show },
	{ "events", "[--json] [--since DURATION|TIME] [--limit N] [--follow]",
	    "what the daemon saw happen", cmd_events },
	{ "metrics", "",
	    "the Prometheus text exposition of the inventory", cmd_metrics },
	{ "rescan", "[--json]", "walk every watched path again (root)",
	    cmd_rescan },
	{ "reload", "[--json]", "re-read the config file (root)",
	    cmd_reload },
	/* PKI toolbox (cmd_pki.c, cmd_probe.c) */
	{ "csr", "--cn NAME [--org O] [--ou OU] [--locality L] [--state ST] "
	    "[--country CC] [--san DNS:x,IP:y,...] [--key-type rsa|ec|ed25519] "
	    "[--bits N] (--key-out KEY | --key KEY [--password-file FILE|-]) "
	    "--out CSR",
	    "make a private key and a certificate signing request",
	    cmd_csr },
	{ "ca", "init --cn NAME [subject options] [--key-type T] [--bits N] "
	    "[--days N] --out-cert CA.pem --out-key CA.key\n"
	    "       certvigil ca issue|sign --ca-cert CA.pem --ca-key CA.key "
	    "(--csr FILE | --cn NAME [subject options] --out-key KEY) "
	    "[--san DNS:x,IP:y,...] --purpose server|client [--days N] "
	    "[--password-file FILE|-] --out-cert CERT",
	    "a local CA: make a self-issued root, issue certificates",
	    cmd_ca },
	{ "convert", "IN --to pem --cert-out FILE [--key-out FILE] "
	    "[--chain-out FILE] [--encrypt-key] [--password-file FILE|-]\n"
	    "       certvigil convert (IN | --cert FILE [--key FILE] "
	    "[--chain FILE]) --to pfx [--legacy] --password-file FILE|- "
	    "--out X.pfx",
	    "convert PKCS#12 to clean PEM files and back",
	    cmd_convert },
	{ "check", "[--key KEY] [--host NAME] [--purpose server|client] "
	    "[--ca-file BUNDLE] [--min-days N] [--password-file FILE|-] "
	    "[--json] FILE",
	    "check a certificate against the deployment rules",
	    cmd_check },
	{ "probe", "[--sni NAME] [--cert C [--key K]] [--ca-file BUNDLE] "
	    "[--expect-thumbprint SHA1] [--timeout S] [--password-file FILE|-] "
	    "[--json] HOST:PORT",
	    "probe a TLS port: served chain, protocol, mTLS enforcement",
	    cmd_probe },
	{ "deploy-client", "(--pfx X.pfx | --cert C [--key K]) "
	    "[--cert-path P] [--key-path P] [--agent-config config.ini "
	    "[--agent-section S]...] [--password-file FILE|-] [--json]",
	    "install a client certificate and key and set agent preferences",
	    cmd_deploy_client },
	/* renewal engine (cmd_renew.c) */
	{ "renew", "[--now] [--json] NAME",
	    "renew a binding now or say when it will be (root)", cmd_renew },
	{ "renewals", "[--json] [--binding NAME]",
	    "the renewal journal, oldest first", cmd_renewals },
	{ "binding", "add ipport=IP:PORT|hostnameport=HOST:PORT certhash=SHA1 "
	    "appid={GUID} [name=NAME] [KEY=VALUE...]\n"
	    "       certvigil binding update ipport=...|name=... KEY=VALUE...\n"
	    "       certvigil binding delete ipport=...|name=...\n"
	    "       certvigil binding show [ipport=...|name=...] [--json]",
	    "bindings, with netsh's words (add, update, delete: root)",
	    cmd_binding },
};

#define CMD_COUNT	(sizeof(cmd_table) / sizeof(cmd_table[0]))

const struct cmd_entry *
cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

int
cmd_usage(const struct cmd_entry *e)
{
	fprintf(stderr, "usage: certvigil %s %s\n", e->name, e->usage);
	return CMD_EXIT_USAGE;
}

void
cmd_err(const char *fmt, ...)
{
	va_list	ap;

	fputs("certvigil: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: certvigil [-S SOCKET] COMMAND [ARGS]\n"
	    "       certvigil COMMAND --help\n\ncommands:\n");
	for (i = 0; i < CMD_COUNT; i++)
		fprintf(fp, "  %-14s %s\n", cmd_table[i].name,
		    cmd_table[i].summary);
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
		if (argc > 1 && (e = cmd_find(argv[1])) != NULL) {
			printf("usage: certvigil %s %s\n%s\n", e->name,
			    e->usage, e->summary);
			return CMD_EXIT_OK;
		}
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
	rc = e->exec(&ctx, argc, argv);
	gnutls_global_deinit();
	return rc;
}
