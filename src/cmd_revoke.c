/*
 * certvigil revoke (issue 17): one request; certvigild answers once the
 * ACME CA has.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "cmd.h"
#include "proto.h"

#define JS(o, k)	json_string_value(json_object_get(o, k))

static const struct cmdopt revoke_opts[] = {
	{ "reason",	'r', "REASON", "keyCompromise, superseded, ... "
	    "(RFC 5280; default unspecified)" },
	{ "json",	'j', NULL, "print the daemon's reply as JSON" },
	CMDOPT_END
};

static void
revoke_print(json_t *r)
{
	json_t	*id = json_object_get(r, "renewal");

	printf("%s: revoked by issuer %s (reason %s)\n", cmd_safe(JS(r,
	    "sha1")), cmd_safe(JS(r, "issuer")), cmd_safe(JS(r, "reason")));
	if (json_is_integer(id))
		printf("%s: renewal %lld started; follow it with certvigil "
		    "renewals\n", cmd_safe(JS(r, "binding")),
		    (long long)json_integer_value(id));
	else if (JS(r, "binding") == NULL)
		printf("no binding serves it: nothing renewed\n");
}

static int
cmd_revoke(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char	*reason = NULL;
	json_t		*args, *r;
	int		 ch, json = 0, rc;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case 'r':
			reason = optarg;
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
	args = json_pack("{s:s}", "target", argv[optind]);
	if (reason != NULL)
		json_object_set_new(args, "reason", json_string(reason));
	if ((rc = cmd_request(ctx, NULL, args, &r)) != CMD_EXIT_OK)
		return rc;
	if (json)
		cmd_print_json(r);
	else
		revoke_print(r);
	json_decref(r);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_revoke_entry = {
	"revoke", PROTO_CMD_REVOKE, "[--reason REASON] [--json] NAME|SHA1",
	"revoke a certificate of an ACME issuer, then renew its binding "
	"(root)", NULL, revoke_opts, cmd_revoke
};
