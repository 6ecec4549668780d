/* certvigil probe: what a live TLS port serves, and whether it enforces mTLS. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "fsutil.h"
#include "probe.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

enum {
	PROBE_OPT_SNI = 256, PROBE_OPT_CERT, PROBE_OPT_KEY, PROBE_OPT_CA_FILE,
	PROBE_OPT_EXPECT, PROBE_OPT_TIMEOUT, PROBE_OPT_JSON,
	PROBE_OPT_PASSWORD_FILE,
};

static json_t *
probe_cli_attempt_json(const struct probe_attempt *a)
{
	if (!a->tried)
		return json_null();
	return json_pack("{s:b,s:b,s:b,s:b,s:o,s:s?}", "handshake",
	    a->handshake, "accepted", a->accepted, "cert_requested",
	    a->cert_requested, "cert_sent", a->cert_sent, "http_status",
	    a->http_status ? json_integer(a->http_status) : json_null(),
	    "error", a->error[0] ? a->error : NULL);
}

static void
probe_cli_json(const struct probe_opts *o, const struct probe_result *r)
{
	char	 tb[TIMEUTIL_RFC3339_LEN];
	json_t	*j, *chain;
	size_t	 i;

	chain = json_array();
	for (i = 0; i < r->nchain; i++)
		json_array_append_new(chain, json_pack(
		    "{s:s,s:s,s:s,s:s,s:s}", "sha1", r->chain[i].sha1,
		    "sha256", r->chain[i].sha256, "subject",
		    r->chain[i].subject, "issuer", r->chain[i].issuer,
		    "not_after", timeutil_rfc3339(r->chain[i].not_after, tb,
		    sizeof(tb))));
	j = json_object();
	json_object_set_new(j, "host", json_string(o->host));
	json_object_set_new(j, "port", json_string(o->port));
	json_object_set_new(j, "starttls", o->starttls == PROBE_TLS ?
	    json_null() : json_string(probe_proto_name(o->starttls)));
	json_object_set_new(j, "address", json_string(r->address));
	json_object_set_new(j, "protocol", r->protocol[0] ?
	    json_string(r->protocol) : json_null());
	json_object_set_new(j, "cipher", r->cipher[0] ?
	    json_string(r->cipher) : json_null());
	json_object_set_new(j, "chain", chain);
	json_object_set_new(j, "verified", json_boolean(r->verified));
	json_object_set_new(j, "verify_error", r->verify_error[0] ?
	    json_string(r->verify_error) : json_null());
	json_object_set_new(j, "client_cert_requested",
	    json_boolean(r->without.cert_requested || r->with.cert_requested));
	json_object_set_new(j, "thumbprint_match", r->thumbprint_match < 0 ?
	    json_null() : json_boolean(r->thumbprint_match));
	json_object_set_new(j, "without_client_cert",
	    probe_cli_attempt_json(&r->without));
	json_object_set_new(j, "with_client_cert",
	    probe_cli_attempt_json(&r->with));
	json_object_set_new(j, "mtls_enforced", r->mtls_enforced < 0 ?
	    json_null() : json_boolean(r->mtls_enforced));
	json_object_set_new(j, "ok", json_boolean(r->ok));
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(j);
}

static void
probe_cli_attempt_text(const char *label, const struct probe_attempt *a)
{
	printf("  %-24s%s%s%s\n", label, a->accepted ? "accepted" :
	    "rejected", a->error[0] ? ": " : "", cmd_safe(a->error));
}

static void
probe_cli_text(const struct probe_opts *o, const struct probe_result *r)
{
	char	 up[41], tb[TIMEUTIL_RFC3339_LEN];
	size_t	 i;

	printf("%s port %s (%s)%s%s\n", o->host, o->port, r->address,
	    o->starttls == PROBE_TLS ? "" : ", STARTTLS ",
	    o->starttls == PROBE_TLS ? "" : probe_proto_name(o->starttls));
	printf("  %-24s%s\n", "Protocol:", r->protocol[0] ? r->protocol :
	    "(no handshake)");
	if (r->cipher[0])
		printf("  %-24s%s\n", "Session:", r->cipher);
	for (i = 0; i < r->nchain; i++) {
		printf("  %-24s%s\n", i == 0 ? "Served chain:" : "",
		    cmd_safe(r->chain[i].subject));
		printf("  %-24s  thumbprint %s, expires %s\n", "",
		    x509_sha1_upper(r->chain[i].sha1, up),
		    timeutil_rfc3339(r->chain[i].not_after, tb, sizeof(tb)));
	}
	printf("  %-24s%s%s%s\n", "Verified:", r->verified ? "yes" : "no",
	    r->verify_error[0] ? ": " : "", r->verify_error);
	if (r->thumbprint_match >= 0)
		printf("  %-24s%s\n", "Thumbprint:", r->thumbprint_match ?
		    "matches" : "DOES NOT MATCH");
	printf("  %-24s%s\n", "Client cert requested:",
	    r->without.cert_requested || r->with.cert_requested ? "yes" : "no");
	probe_cli_attempt_text("Without client cert:", &r->without);
	if (r->with.tried) {
		probe_cli_attempt_text("With client cert:", &r->with);
		printf("  %-24s%s\n", "mTLS enforced:", r->mtls_enforced ?
		    "yes" : "no");
	}
	printf("%s\n", r->ok ? "OK" : "FAILED");
}

static const struct cmdopt probe_cli_opts[] = {
	{ "sni",		PROBE_OPT_SNI, "NAME", "the server name to ask for "
	    "(default: HOST)" },
	{ "cert",		PROBE_OPT_CERT, "C", "offer this client "
	    "certificate too (mTLS)" },
	{ "key",		PROBE_OPT_KEY, "K", "its key, if not in C" },
	{ "ca-file",		PROBE_OPT_CA_FILE, "BUNDLE", "trust these CAs "
	    "(default: the system's)" },
	{ "expect-thumbprint",	PROBE_OPT_EXPECT, "SHA1", "the leaf must be "
	    "this one (replaces trust)" },
	{ "timeout",		PROBE_OPT_TIMEOUT, "S", "give up after S "
	    "seconds (1 to 3600)" },
	{ "json",		PROBE_OPT_JSON, NULL, "print the result as JSON" },
	{ "password-file",	PROBE_OPT_PASSWORD_FILE, "FILE|-", "the "
	    "password of C or K (- reads standard input)" },
	CMDOPT_END
};

static int
cmd_probe(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct probe_opts	 o;
	struct probe_result	 r;
	struct cv_err		 err;
	const char		*pwfile = NULL;
	struct probe_endpoint	 ep;
	char			*pw = NULL, *end;
	unsigned long		 t;
	size_t			 n;
	int			 ch, json = 0, rc = CMD_EXIT_FAIL;

	memset(&o, 0, sizeof(o));
	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case PROBE_OPT_SNI:		o.sni = optarg; break;
		case PROBE_OPT_CERT:		o.cert_file = optarg; break;
		case PROBE_OPT_KEY:		o.key_file = optarg; break;
		case PROBE_OPT_CA_FILE:		o.ca_file = optarg; break;
		case PROBE_OPT_EXPECT:		o.expect_sha1 = optarg; break;
		case PROBE_OPT_JSON:		json = 1; break;
		case PROBE_OPT_PASSWORD_FILE:	pwfile = optarg; break;
		case PROBE_OPT_TIMEOUT:
			t = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || t == 0 ||
			    t > 3600) {
				cmd_err("--timeout '%s': expected seconds "
				    "from 1 to 3600", optarg);
				return CMD_EXIT_USAGE;
			}
			o.timeout_ms = (unsigned)t * 1000;
			break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind + 1 != argc || (o.key_file != NULL && o.cert_file == NULL))
		return cmd_usage(ctx->cmd);
	if (probe_endpoint_parse(argv[optind], &ep, &err) == -1) {
		cmd_err("%s", err.msg);
		return CMD_EXIT_USAGE;
	}
	o.host = ep.host;
	o.port = ep.port;
	o.starttls = ep.proto;
	if (o.expect_sha1 != NULL) {
		for (n = 0, end = (char *)o.expect_sha1; *end; end++)
			if (strchr(": ", *end) == NULL)
				n++;
		if (n != 40 || strspn(o.expect_sha1,
		    "0123456789abcdefABCDEF: ") != strlen(o.expect_sha1)) {
			cmd_err("--expect-thumbprint '%s': expected a SHA-1 "
			    "thumbprint (40 hex digits)", o.expect_sha1);
			return CMD_EXIT_USAGE;
		}
	}
	if (pwfile != NULL) {
		if (fsutil_read_password_arg(pwfile, &pw, &err) == -1) {
			cmd_err("%s", err.msg);
			return CMD_EXIT_USAGE;
		}
		o.password = pw;
	}
	if (probe_run(&o, &r, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (json)
		probe_cli_json(&o, &r);
	else
		probe_cli_text(&o, &r);
	rc = r.ok ? CMD_EXIT_OK : CMD_EXIT_FAIL;
	probe_result_free(&r);
out:
	freezero_str(pw);
	return rc;
}

const struct cmd_entry cmd_probe_entry = {
	"probe", NULL, "[--sni NAME] [--cert C [--key K]] [--ca-file BUNDLE] "
	"[--expect-thumbprint SHA1] [--timeout S] [--password-file FILE|-] "
	"[--json] [smtp|imap|pop3|ldap://]HOST:PORT",
	"probe a TLS port: served chain, protocol, mTLS enforcement",
	"Offline: the port is probed from here, not by the daemon.",
	probe_cli_opts, cmd_probe
};
