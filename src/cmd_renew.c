/*
 * certvigil renew, renewals, binding: each one request to certvigild.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "proto.h"
#include "x509.h"

#define JS(o, k)	json_string_value(json_object_get(o, k))

static const struct cmdopt renew_opts[] = {
	{ "now",	'n', NULL, "renew now, even if not due or outside "
	    "the window" },
	{ "json",	'j', NULL, "print the daemon's reply as JSON" },
	CMDOPT_END
};

static int
cmd_renew(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t	*r;
	int	 ch, now = 0, json = 0, rc;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case 'n':
			now = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind + 1 != argc)
		return cmd_usage(ctx->cmd);
	rc = cmd_request(ctx, NULL, json_pack("{s:s, s:b}", "name",
	    argv[optind], "now", now), &r);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (json)
		cmd_print_json(r);
	else if (json_is_true(json_object_get(r, "started")))
		printf("%s: renewal %lld started (%s); follow it with "
		    "certvigil renewals\n", argv[optind], (long long)
		    json_integer_value(json_object_get(r, "id")),
		    JS(r, "state"));
	else
		printf("%s: not due; next renewal %s (use --now to renew "
		    "now)\n", argv[optind], JS(r, "next_renewal"));
	json_decref(r);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_renew_entry = {
	"renew", PROTO_CMD_RENEW, "[--now] [--json] NAME",
	"renew a binding now or say when it will be (root)", NULL, renew_opts,
	cmd_renew
};

static const struct cmdopt renewals_opts[] = {
	{ "json",	'j', NULL, "print the journal as JSON" },
	{ "binding",	'b', "NAME", "one binding's renewals only" },
	CMDOPT_END
};

static int
cmd_renewals(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t		*r, *o, *steps, *s;
	const char	*binding = NULL;
	size_t		 i, k;
	int		 ch, json = 0, rc;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'b':
			binding = optarg;
			break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind != argc)
		return cmd_usage(ctx->cmd);
	rc = cmd_request(ctx, NULL, binding ? json_pack("{s:s}",
	    "binding", binding) : NULL, &r);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (json) {
		cmd_print_json(r);
		json_decref(r);
		return CMD_EXIT_OK;
	}
	json_array_foreach(r, i, o) {
		printf("renewal %lld  %s  %s  attempt %lld  (%s)\n",
		    (long long)json_integer_value(json_object_get(o, "id")),
		    JS(o, "binding"), JS(o, "state"), (long long)
		    json_integer_value(json_object_get(o, "attempt")),
		    JS(o, "reason"));
		printf("    old %s -> new %s\n", JS(o, "old_sha1") ?
		    JS(o, "old_sha1") : "-", JS(o, "new_sha1") ?
		    JS(o, "new_sha1") : "-");
		if (json_is_true(json_object_get(o, "drifted")))
			printf("    drifted: the live files held %s (a "
			    "rollback restores them)\n", JS(o, "restored_sha1"));
		steps = json_object_get(o, "steps");
		json_array_foreach(steps, k, s)
			printf("    %s  %-21s %s\n", JS(s, "time"),
			    JS(s, "state"), JS(s, "detail") ? JS(s, "detail") :
			    "");
		if (JS(o, "error") != NULL)
			printf("    error: %s\n", JS(o, "error"));
	}
	json_decref(r);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_renewals_entry = {
	"renewals", PROTO_CMD_RENEWALS, "[--json] [--binding NAME]",
	"the renewal journal, oldest first", NULL, renewals_opts, cmd_renewals
};

static void
binding_print(json_t *b)
{
	char	 up[41];
	json_t	*is = json_object_get(b, "issuer");

	cmd_json_safe(b);
	printf("    %-28s: %s\n", JS(b, "hostnameport") ? "Hostname:port" :
	    "IP:port", JS(b, "hostnameport") ? JS(b, "hostnameport") :
	    JS(b, "ipport"));
	printf("    %-28s: %s\n", "Certificate Hash", JS(b, "certhash") ?
	    x509_sha1_upper(JS(b, "certhash"), up) : "(none)");
	printf("    %-28s: %s\n", "Application ID", JS(b, "appid") ?
	    JS(b, "appid") : "(none)");
	printf("    %-28s: %s\n", "Name", JS(b, "name"));
	printf("    %-28s: %s\n", "Negotiate Client Certificate",
	    json_is_true(json_object_get(b, "require_client_cert")) ?
	    "Enabled" : "Disabled");
	printf("    %-28s: %s\n", "Certificate File", JS(b, "cert_file"));
	printf("    %-28s: %s\n", "Key File", JS(b, "key_file"));
	if (JS(b, "chain_file"))
		printf("    %-28s: %s\n", "Chain File", JS(b, "chain_file"));
	if (JS(b, "fullchain_file"))
		printf("    %-28s: %s\n", "Full Chain File",
		    JS(b, "fullchain_file"));
	if (json_is_true(json_object_get(b, "drift")))
		printf("    %-28s: %s (DRIFT)\n", "Deployed Hash",
		    x509_sha1_upper(JS(b, "deployed_sha1"), up));
	if (*JS(b, "reload"))
		printf("    %-28s: reload: %s\n", "Service", JS(b, "reload"));
	else if (*JS(b, "start"))
		printf("    %-28s: stop: %s; start: %s\n", "Service",
		    JS(b, "stop"), JS(b, "start"));
	printf("    %-28s: %s%s%s%s\n", "Issuer", is ? JS(is, "name") :
	    "(none)", is ? " (" : "", is ? JS(is, "type") : "", is ? ")" : "");
	printf("    %-28s: %s (%s)\n", "Window", JS(b, "window") ?
	    JS(b, "window") : "any time", JS(b, "timezone"));
	printf("    %-28s: %s\n", "Next Renewal", JS(b, "next_renewal") ?
	    JS(b, "next_renewal") : "-");
	printf("\n");
}

static int
cmd_binding(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t		*args, *r, *b;
	const char	*op;
	char		*eq;
	size_t		 i;
	int		 k, json = 0, rc;

	if (argc < 2)
		return cmd_usage(ctx->cmd);
	op = argv[1];
	if (!strcmp(op, "--help") || !strcmp(op, "-h"))
		return cmdopt_help(ctx->cmd, stdout);
	if (strcmp(op, "add") && strcmp(op, "update") && strcmp(op, "delete")
	    && strcmp(op, "show")) {
		cmd_err("binding: '%s' is not add, update, delete or show", op);
		return cmd_usage(ctx->cmd);
	}
	args = json_object();
	for (k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--json")) {
			json = 1;
			continue;
		}
		if ((eq = strchr(argv[k], '=')) == NULL || eq == argv[k]) {
			cmd_err("binding %s: '%s' is not KEY=VALUE", op,
			    argv[k]);
			json_decref(args);
			return CMD_EXIT_USAGE;
		}
		/* netsh spells them in any case: ipport, certhash, appid. */
		*eq = '\0';
		for (i = 0; argv[k][i]; i++)
			if (argv[k][i] >= 'A' && argv[k][i] <= 'Z')
				argv[k][i] = (char)(argv[k][i] - 'A' + 'a');
		json_object_set_new(args, argv[k], json_string(eq + 1));
		*eq = '=';
	}
	rc = cmd_request(ctx, NULL, json_pack("{s:s, s:o}", "op", op,
	    "args", args), &r);
	if (rc != CMD_EXIT_OK)
		return rc;
	if (json)
		cmd_print_json(r);
	else if (!strcmp(op, "show")) {
		printf("\nSSL Certificate bindings:\n"
		    "-------------------------\n\n");
		json_array_foreach(r, i, b)
			binding_print(b);
	} else if (!strcmp(op, "delete"))
		printf("SSL Certificate successfully deleted\n");
	else {
		printf("SSL Certificate successfully %s\n", !strcmp(op, "add") ?
		    "added" : "updated");
		binding_print(r);
	}
	json_decref(r);
	return CMD_EXIT_OK;
}

/* KEY=VALUE words, as netsh takes them; --json is the one option. */
static const struct cmdopt binding_opts[] = {
	{ "json", 0, NULL, "print the daemon's reply as JSON" },
	CMDOPT_END
};

const struct cmd_entry cmd_binding_entry = {
	"binding", PROTO_CMD_BINDING,
	"add ipport=IP:PORT|hostnameport=HOST:PORT certhash=SHA1 "
	"appid={GUID} [name=NAME] [KEY=VALUE...]\n"
	"       certvigil binding update ipport=...|name=... KEY=VALUE...\n"
	"       certvigil binding delete ipport=...|name=...\n"
	"       certvigil binding show [ipport=...|name=...] [--json]",
	"bindings, with netsh's words (add, update, delete: root)",
	"KEY=VALUE words are the [binding] keys of certvigild.conf(5); key "
	"names are\ncase-insensitive, as netsh's are.",
	binding_opts, cmd_binding
};
