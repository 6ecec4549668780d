/*
 * certvigil check: a certificate against the deployment rules (pki_check).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include <jansson.h>

#include "cmd.h"
#include "cmd_pki.h"
#include "proto.h"
#include "pki.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

static const struct cmdopt check_opts[] = {
	{ "key", OPT_KEY, "KEY",
	    "an existing private key" },
	{ "host", OPT_HOST, "NAME",
	    "the name clients connect to" },
	{ "purpose", OPT_PURPOSE, "server|client",
	    "the certificate's use" },
	{ "ca-file", OPT_CA_FILE, "BUNDLE",
	    "trust anchors for the chain check" },
	{ "min-days", OPT_MIN_DAYS, "N",
	    "fail under N days left (default: warn under 30)" },
	{ "json", OPT_JSON, NULL,
	    "print the result as JSON" },
	{ "password-file", OPT_PASSWORD_FILE, "FILE|-",
	    "the password (- reads standard input)" },
	CMDOPT_END
};

/* What the command line asks for besides the rules' options. */
struct check_args {
	const char	*keyf, *pwfile, *file;
	int		 json;
};

/* -1 to go on, or the exit status (help, usage, a bad value). */
static int
check_parse(struct cmd_ctx *ctx, int argc, char **argv,
    struct check_args *a, struct pki_check_opts *o)
{
	struct cv_err	err;
	unsigned	days;
	int		ch;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case OPT_KEY:		a->keyf = optarg; break;
		case OPT_HOST:		o->host = optarg; break;
		case OPT_CA_FILE:	o->ca_file = optarg; break;
		case OPT_JSON:		a->json = 1; break;
		case OPT_PASSWORD_FILE:	a->pwfile = optarg; break;
		case OPT_PURPOSE:
			if (pki_purpose_parse(optarg, &o->purpose,
			    &err) == -1) {
				cmd_err("%s", err.msg);
				return CMD_EXIT_USAGE;
			}
			break;
		case OPT_MIN_DAYS:
			if (pki_cli_unsigned("--min-days", optarg, 36500,
			    &days) == -1)
				return CMD_EXIT_USAGE;
			o->min_days = days;
			break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind + 1 != argc)
		return cmd_usage(ctx->cmd);
	a->file = argv[optind];
	return -1;
}

/*
 * The key to check the leaf against: --key's, the leaf's own in f, or
 * f's first; *key is NULL if there is none, else borrowed from the set.
 */
static int
check_key(struct pki_cli_set *set, struct x509_file *f, int leaf,
    const char *keyf, const char *pw, gnutls_x509_privkey_t *key)
{
	struct x509_file	*kf;
	int			 k;

	*key = NULL;
	if (keyf != NULL) {
		if ((kf = pki_cli_set_load(set, "--key ", keyf, pw)) == NULL)
			return -1;
		if (kf->nkeys == 0) {
			cmd_err("--key %s: no private key in the file", keyf);
			return -1;
		}
		*key = kf->keys[0].key;
	} else if ((k = pki_file_key_of(f, (size_t)leaf)) != -1)
		*key = f->keys[k].key;
	else if (f->nkeys > 0)
		*key = f->keys[0].key;
	return 0;
}

static void
check_print(int json, const struct x509_file *f, const struct x509_cert *c,
    const struct pki_check_list *l)
{
	json_t	*j, *arr;
	char	 up[41];
	size_t	 i;

	if (!json) {
		printf("%s: %s (thumbprint %s)\n", f->path, c->subject,
		    x509_sha1_upper(c->sha1, up));
		for (i = 0; i < l->n; i++)
			printf("%s  %-10s %s\n",
			    pki_check_status_name(l->v[i].status),
			    l->v[i].rule, l->v[i].detail);
		printf("%s: %u failed, %u warning%s\n", l->nfail ? "FAILED" :
		    "OK", l->nfail, l->nwarn, l->nwarn == 1 ? "" : "s");
		return;
	}
	j = json_object();
	json_object_set_new(j, "path", proto_string(f->path));
	json_object_set_new(j, "sha1", json_string(c->sha1));
	json_object_set_new(j, "subject", json_string(c->subject));
	json_object_set_new(j, "ok", json_boolean(l->nfail == 0));
	arr = json_array();
	for (i = 0; i < l->n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
		    "rule", l->v[i].rule, "status",
		    pki_check_status_name(l->v[i].status), "detail",
		    l->v[i].detail));
	json_object_set_new(j, "results", arr);
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(j);
}

static int
cmd_check(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct check_args	 a = { NULL, NULL, NULL, 0 };
	struct pki_check_opts	 o;
	struct pki_check_list	 l;
	struct pki_cli_set	 set;
	struct x509_file	*f = NULL;
	struct cv_err		 err;
	gnutls_x509_privkey_t	 key;
	char			*pw = NULL;
	int			 leaf, rc;

	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	memset(&set, 0, sizeof(set));
	o.min_days = -1;
	o.purpose = PKI_PURPOSE_SERVER;
	if ((rc = check_parse(ctx, argc, argv, &a, &o)) != -1)
		return rc;
	if (pki_cli_password(a.pwfile, &pw) == -1)
		return CMD_EXIT_USAGE;
	rc = CMD_EXIT_FAIL;
	if ((f = pki_cli_set_load(&set, "", a.file, pw)) == NULL)
		goto out;
	if ((leaf = pki_file_leaf(f)) == -1) {
		cmd_err("%s: no certificate found", a.file);
		goto out;
	}
	pki_cli_set_chain(&set, f, leaf);
	if (check_key(&set, f, leaf, a.keyf, pw, &key) == -1)
		goto out;
	o.now = timeutil_now();
	if (pki_check(f->certs[leaf].crt, set.chain, set.nchain, key, &o, &l,
	    &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	check_print(a.json, f, &f->certs[leaf], &l);
	rc = l.nfail == 0 ? CMD_EXIT_OK : CMD_EXIT_FAIL;
out:
	pki_check_list_free(&l);
	pki_cli_set_free(&set);
	freezero_str(pw);
	return rc;
}


const struct cmd_entry cmd_check_entry = {
	"check", NULL, "[--key KEY] [--host NAME] [--purpose server|client] "
	"[--ca-file BUNDLE] [--min-days N] [--password-file FILE|-] "
	"[--json] FILE",
	"check a certificate against the deployment rules",
	"Exit 0 when no rule failed (warnings allowed), 1 otherwise.",
	check_opts, cmd_check
};
