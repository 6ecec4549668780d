/*
 * certvigil renew, renewals, binding: each one request to certvigild.
 */
#include "config.h"

#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "proto.h"
#include "timeutil.h"
#include "x509.h"

#define JS(o, k)	json_string_value(json_object_get(o, k))

enum { RENEW_OPT_CHECK_ARI = 256 };
/* renew --check-ari waits this long for the poll (two HTTPS requests of
 * at most 30 s each, and some slack). */
#define RENEW_ARI_WAIT_MS	90000

static const struct cmdopt renew_opts[] = {
	{ "now",	'n', NULL, "renew now, even if not due or outside "
	    "the window" },
	{ "wait",	'w', NULL, "follow the renewal to its end: each step, "
	    "exit 0 when done, 1 when failed or rolled back" },
	{ "json",	'j', NULL, "print the daemon's reply as JSON" },
	{ "check-ari",	RENEW_OPT_CHECK_ARI, NULL, "poll the CA's renewal "
	    "information (ARI) now and print its window" },
	CMDOPT_END
};

/* How often renew --wait asks for the journal (one cheap request). */
#define RENEW_WAIT_MS	200

static json_t *
renew_wait_find(json_t *list, json_int_t id)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(list, i, o)
		if (json_integer_value(json_object_get(o, "id")) == id)
			return o;
	return NULL;
}

/*
 * One look at the journal for renew --wait: prints the steps of renewal
 * id not printed yet (*shown of them were) and says whether it ended.  A
 * step is printed once the next one is journaled, because a stop or start
 * command's output is recorded on its step when it ends.  Returns -1 to
 * go on, or the exit status.
 */
static int
renew_wait_look(struct cmd_ctx *ctx, const char *name, json_int_t id,
    int json, size_t *shown)
{
	json_t		*r, *o, *s, *steps;
	const char	*state;
	size_t		 n, upto;
	int		 rc, end;

	rc = cmd_request(ctx, PROTO_CMD_RENEWALS, json_pack("{s:s}",
	    "binding", name), &r);
	if (rc != CMD_EXIT_OK)
		return rc;
	if ((o = renew_wait_find(r, id)) == NULL) {
		cmd_err("%s: renewal %lld is not in the journal", name,
		    (long long)id);
		json_decref(r);
		return CMD_EXIT_FAIL;
	}
	if (!json)
		cmd_json_safe(o);
	state = JS(o, "state");
	end = !strcmp(state, "done") || !strcmp(state, "failed") ||
	    !strcmp(state, "rolled_back");
	rc = !end ? -1 : !strcmp(state, "done") ? CMD_EXIT_OK : CMD_EXIT_FAIL;
	if (json) {
		if (end)
			cmd_print_json(o);
		json_decref(r);
		return rc;
	}
	steps = json_object_get(o, "steps");
	n = json_array_size(steps);
	upto = end ? n : n > 0 ? n - 1 : 0;
	for (; *shown < upto; (*shown)++) {
		s = json_array_get(steps, *shown);
		printf("    %s  %-21s %s\n", JS(s, "time"), JS(s, "state"),
		    JS(s, "detail") ? JS(s, "detail") : "");
	}
	if (end)
		printf("%s: renewal %lld %s%s%s\n", name, (long long)id, state,
		    JS(o, "error") ? ": " : "", JS(o, "error") ?
		    JS(o, "error") : "");
	fflush(stdout);
	json_decref(r);
	return rc;
}

/* renew --wait: polls the journal until the renewal ends. */
static int
renew_wait(struct cmd_ctx *ctx, const char *name, json_int_t id, int json)
{
	size_t	shown = 0;
	int	rc;

	while ((rc = renew_wait_look(ctx, name, id, json, &shown)) == -1)
		poll(NULL, 0, RENEW_WAIT_MS);
	return rc;
}

/* The binding's ari object once polled at or after asked: 0 (*out set),
 * -1 not yet, or an exit code. */
static int
renew_ari_look(struct cmd_ctx *ctx, const char *name, time_t asked,
    json_t **out)
{
	json_t	*r, *ari;
	time_t	 polled;
	int	 rc;

	*out = NULL;
	rc = cmd_request(ctx, PROTO_CMD_BINDING, json_pack("{s:s, s:{s:s}}",
	    "op", "show", "args", "name", name), &r);
	if (rc != CMD_EXIT_OK)
		return rc;
	ari = json_object_get(json_array_get(r, 0), "ari");
	rc = -1;
	if (JS(ari, "polled") != NULL &&
	    timeutil_parse_rfc3339(JS(ari, "polled"), &polled) == 0 &&
	    polled >= asked) {
		*out = json_incref(ari);
		rc = 0;
	}
	json_decref(r);
	return rc;
}

/* renew NAME --check-ari: poll now, wait for it, print the window. */
static int
renew_check_ari(struct cmd_ctx *ctx, const char *name, int json)
{
	json_t	*r, *ari = NULL;
	time_t	 asked;
	int	 rc, waited;

	rc = cmd_request(ctx, NULL, json_pack("{s:s, s:b}", "name", name,
	    "check_ari", 1), &r);
	if (rc != CMD_EXIT_OK)
		return rc;
	asked = (time_t)json_integer_value(json_object_get(r, "asked"));
	json_decref(r);
	for (waited = 0; (rc = renew_ari_look(ctx, name, asked, &ari)) == -1;
	    waited += RENEW_WAIT_MS) {
		if (waited >= RENEW_ARI_WAIT_MS) {
			cmd_err("%s: no answer from the ARI poll", name);
			return CMD_EXIT_FAIL;
		}
		poll(NULL, 0, RENEW_WAIT_MS);
	}
	if (rc != 0)
		return rc;
	rc = JS(ari, "window_start") != NULL ? CMD_EXIT_OK : CMD_EXIT_FAIL;
	if (json)
		cmd_print_json(ari);
	else if (rc == CMD_EXIT_OK)
		printf("%s: ARI window %s .. %s\n%s%s%s  next poll %s\n",
		    name, JS(ari, "window_start"), JS(ari, "window_end"),
		    JS(ari, "explanation_url") ? "  explanation " : "",
		    JS(ari, "explanation_url") ? JS(ari, "explanation_url") :
		    "", JS(ari, "explanation_url") ? "\n" : "",
		    JS(ari, "next_poll"));
	else
		printf("%s: no ARI window: %s\n  next poll %s\n", name,
		    JS(ari, "last_error") ? JS(ari, "last_error") : "unknown",
		    JS(ari, "next_poll"));
	json_decref(ari);
	return rc;
}

static int
cmd_renew(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t		*r;
	json_int_t	 id;
	int		 ch, now = 0, wait = 0, json = 0, started, rc, ari = 0;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case 'n':
			now = 1;
			break;
		case 'w':
			wait = 1;
			break;
		case 'j':
			json = 1;
			break;
		case RENEW_OPT_CHECK_ARI:
			ari = 1;
			break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind + 1 != argc || (ari && (now || wait)))
		return cmd_usage(ctx->cmd);
	if (ari)
		return renew_check_ari(ctx, argv[optind], json);
	rc = cmd_request(ctx, NULL, json_pack("{s:s, s:b}", "name",
	    argv[optind], "now", now), &r);
	if (rc != CMD_EXIT_OK)
		return rc;
	id = json_integer_value(json_object_get(r, "id"));
	started = json_is_true(json_object_get(r, "started"));
	/* With --wait --json, the renewal's journal entry at its end. */
	if (json && !(wait && started))
		cmd_print_json(r);
	else if (started && wait && !json)
		printf("%s: renewal %lld started\n", argv[optind],
		    (long long)id);
	else if (started && !wait)
		printf("%s: renewal %lld started (%s); follow it with "
		    "certvigil renewals\n", argv[optind], (long long)id,
		    JS(r, "state"));
	else if (!started)
		printf("%s: not due; next renewal %s (use --now to renew "
		    "now)\n", argv[optind], JS(r, "next_renewal"));
	if (wait && started) {
		fflush(stdout);
		rc = renew_wait(ctx, argv[optind], id, json);
	}
	json_decref(r);
	return rc;
}

const struct cmd_entry cmd_renew_entry = {
	"renew", PROTO_CMD_RENEW,
	"[--now] [--wait] [--json] NAME | --check-ari [--json] NAME",
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

/* The forms whose leaf is not the binding's certhash (issue 14). */
static void
cmd_renew_print_drifted(json_t *df)
{
	size_t	i;
	json_t	*v;

	json_array_foreach(df, i, v)
		printf("    %-28s: %s\n", i ? "" : "Drifted Files",
		    json_string_value(v));
}

/* Issue 15: the last probe of each endpoint (served.c). */
static void
binding_print_probes(json_t *b)
{
	json_t	*lp, *p;
	size_t	 i;
	char	 label[320], up[41];

	lp = json_object_get(b, "last_probe");
	json_array_foreach(lp, i, p) {
		snprintf(label, sizeof(label), "Last probe %s",
		    JS(p, "endpoint"));
		if (JS(p, "served_sha1") == NULL) {
			printf("    %-28s: %s error: %s\n", label, JS(p, "time"),
			    JS(p, "error") ? JS(p, "error") : "-");
			continue;
		}
		printf("    %-28s: %s %s: serves %s (notAfter %s)%s%s\n",
		    label, JS(p, "time"), JS(p, "result"),
		    x509_sha1_upper(JS(p, "served_sha1"), up),
		    JS(p, "served_not_after"),
		    json_is_true(json_object_get(p, "client_cert_required")) ?
		    ", asks for a client certificate" : "",
		    json_is_true(json_object_get(p, "accepted_without_cert")) &&
		    json_is_true(json_object_get(p, "require_client_cert")) ?
		    ", ACCEPTS CLIENTS WITHOUT ONE" : "");
	}
}

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
	if (JS(b, "combined_file"))
		printf("    %-28s: %s\n", "Combined File",
		    JS(b, "combined_file"));
	if (JS(b, "pfx_file"))
		printf("    %-28s: %s (%s)\n", "PFX File", JS(b, "pfx_file"),
		    json_is_true(json_object_get(b, "pfx_legacy")) ?
		    "legacy 3DES/SHA-1" : "AES-256/SHA-256");
	if (json_is_true(json_object_get(b, "drift")))
		printf("    %-28s: %s (DRIFT)\n", "Deployed Hash",
		    x509_sha1_upper(JS(b, "deployed_sha1"), up));
	cmd_renew_print_drifted(json_object_get(b, "drifted_files"));
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
	binding_print_probes(b);
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
