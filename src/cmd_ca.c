/*
 * certvigil ca: a local CA (init) and the certificates it issues
 * (issue, sign).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "cmd.h"
#include "cmd_pki.h"
#include "pki.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

/* The first CA certificate of a file; the caller deinits *crt. */
static int
pki_cli_load_ca(const char *path, const char *pw, gnutls_x509_crt_t *crt)
{
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	struct cv_err		 err;
	size_t			 i;
	int			 rc = -1;

	memset(&o, 0, sizeof(o));
	o.password = pw;
	*crt = NULL;
	if (x509_load_file(path, &o, &f, &err) == -1) {
		cmd_err("--ca-cert %s: %s", path, err.msg);
		goto out;
	}
	for (i = 0; i < f->ncerts; i++)
		if (f->certs[i].is_ca)
			break;
	if (i == f->ncerts) {
		cmd_err("--ca-cert %s: no CA certificate in the file "
		    "(basicConstraints CA:TRUE)", path);
		goto out;
	}
	*crt = f->certs[i].crt;
	f->certs[i].crt = NULL;		/* now ours */
	rc = 0;
out:
	x509_file_free(f);
	return rc;
}

static const struct cmdopt ca_init_opts[] = {
	PKI_CLI_SUBJECT_OPTS,
	PKI_CLI_KEYGEN_OPTS,
	{ "days", OPT_DAYS, "N",
	    "validity in days" },
	{ "out-cert", OPT_OUT_CERT, "CERT",
	    "write the certificate here" },
	{ "out-key", OPT_KEY_OUT, "KEY",
	    "write the new private key here" },
	CMDOPT_END
};

static int
cmd_ca_init(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pki_subject	 subj;
	struct pki_cli_keygen	 kg = PKI_CLI_KEYGEN_INIT;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	struct cv_err		 err;
	const char		*out_cert = NULL, *out_key = NULL;
	unsigned		 days = 0;
	int			 ch, r, rc = CMD_EXIT_FAIL;

	memset(&subj, 0, sizeof(subj));
	while ((ch = cmdopt_next(ctx, ca_init_opts, argc, argv)) != -1) {
		if (pki_cli_subject_opt(ch, &subj))
			continue;
		if ((r = pki_cli_keygen_opt(ch, &kg)) != 0) {
			if (r == -1)
				return CMD_EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case OPT_DAYS:
			if (pki_cli_unsigned("--days", optarg, PKI_DAYS_MAX,
			    &days) == -1)
				return CMD_EXIT_USAGE;
			break;
		case OPT_OUT_CERT:	out_cert = optarg; break;
		case OPT_KEY_OUT:	out_key = optarg; break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind != argc || out_cert == NULL || out_key == NULL)
		return cmd_usage(ctx->cmd);
	if (pki_subject_check(&subj, &err) == -1) {
		cmd_err("%s", err.msg);
		return CMD_EXIT_FAIL;
	}
	if (pki_cli_refuse_existing(out_key, "") == -1)
		return CMD_EXIT_FAIL;
	if (pki_key_generate(kg.type, kg.bits, &key, &err) == -1 ||
	    pki_ca_init(&subj, days, key, timeutil_now(), &crt, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (pki_cli_write_key(out_key, key, NULL) == -1 ||
	    pki_cli_write_crts(out_cert, &crt, 1) == -1)
		goto out;
	printf("key: %s (new, mode 0600)\n", out_key);
	pki_cli_describe("CA certificate", out_cert, crt);
	rc = CMD_EXIT_OK;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

static const struct cmdopt ca_issue_opts[] = {
	PKI_CLI_SUBJECT_OPTS,
	{ "ca-cert", OPT_CA_CERT, "CA.pem",
	    "the issuing CA's certificate" },
	{ "ca-key", OPT_CA_KEY, "CA.key",
	    "the issuing CA's key" },
	{ "csr", OPT_CSR, "FILE",
	    "sign this request" },
	{ "san", OPT_SAN, "DNS:x,IP:y,...",
	    "subject alternative names" },
	{ "purpose", OPT_PURPOSE, "server|client",
	    "the certificate's use" },
	{ "days", OPT_DAYS, "N",
	    "validity in days" },
	PKI_CLI_KEYGEN_OPTS,
	{ "out-cert", OPT_OUT_CERT, "CERT",
	    "write the certificate here" },
	{ "out-key", OPT_KEY_OUT, "KEY",
	    "write the new private key here" },
	{ "password-file", OPT_PASSWORD_FILE, "FILE|-",
	    "the password (- reads standard input)" },
	CMDOPT_END
};

/* What ca issue's command line asks for; san is the caller's to free. */
struct ca_issue_args {
	struct pki_subject	 subj;
	struct pki_san_list	 san;
	struct pki_cli_keygen	 kg;
	enum pki_purpose	 purpose;
	int			 has_purpose;
	unsigned		 days;
	const char		*ca_cert, *ca_key, *csr;
	const char		*out_cert, *out_key, *pwfile;
};

/* One option with a value to check: 0, or the exit status. */
static int
ca_issue_opt(int ch, struct ca_issue_args *a)
{
	struct cv_err	err;
	int		r;

	if ((r = pki_cli_keygen_opt(ch, &a->kg)) != 0)
		return r == -1 ? CMD_EXIT_USAGE : 0;
	switch (ch) {
	case OPT_SAN:
		if (pki_san_parse(optarg, &a->san, &err) == -1) {
			cmd_err("%s", err.msg);
			return CMD_EXIT_FAIL;
		}
		return 0;
	case OPT_PURPOSE:
		if (pki_purpose_parse(optarg, &a->purpose, &err) == -1) {
			cmd_err("%s", err.msg);
			return CMD_EXIT_USAGE;
		}
		a->has_purpose = 1;
		return 0;
	case OPT_DAYS:
		if (pki_cli_unsigned("--days", optarg, PKI_DAYS_MAX,
		    &a->days) == -1)
			return CMD_EXIT_USAGE;
		return 0;
	}
	return -1;
}

/* Which options go together: -1 to go on, or the exit status. */
static int
ca_issue_check(struct cmd_ctx *ctx, int argc, struct ca_issue_args *a)
{
	const struct pki_subject	*s = &a->subj;

	if (optind != argc || a->ca_cert == NULL || a->ca_key == NULL ||
	    a->out_cert == NULL || !a->has_purpose ||
	    (a->csr == NULL) == (s->cn == NULL)) {
		if (optind == argc && !a->has_purpose)
			cmd_err("--purpose server or --purpose client is "
			    "required");
		else if (optind == argc && (a->csr == NULL) == (s->cn == NULL))
			cmd_err("give exactly one of --csr (a request) and "
			    "--cn (a new key and certificate)");
		return cmd_usage(ctx->cmd);
	}
	if (a->csr != NULL && (a->out_key != NULL || s->o || s->ou || s->l ||
	    s->st || s->c)) {
		cmd_err("--csr carries the subject and key: --out-key and "
		    "subject options go with --cn");
		return CMD_EXIT_USAGE;
	}
	if (a->csr == NULL && a->out_key == NULL) {
		cmd_err("--cn makes a new key: --out-key is required");
		return CMD_EXIT_USAGE;
	}
	return -1;
}

/* -1 to go on, or the exit status (help, usage, a bad value). */
static int
ca_issue_parse(struct cmd_ctx *ctx, int argc, char **argv,
    struct ca_issue_args *a)
{
	int	ch, r;

	while ((ch = cmdopt_next(ctx, ca_issue_opts, argc, argv)) != -1) {
		if (pki_cli_subject_opt(ch, &a->subj))
			continue;
		if ((r = ca_issue_opt(ch, a)) != -1) {
			if (r != 0)
				return r;
			continue;
		}
		switch (ch) {
		case OPT_CA_CERT:	a->ca_cert = optarg; break;
		case OPT_CA_KEY:	a->ca_key = optarg; break;
		case OPT_CSR:		a->csr = optarg; break;
		case OPT_OUT_CERT:	a->out_cert = optarg; break;
		case OPT_KEY_OUT:	a->out_key = optarg; break;
		case OPT_PASSWORD_FILE:	a->pwfile = optarg; break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	return ca_issue_check(ctx, argc, a);
}

/*
 * The CA, its key and the request (--csr, or a new key for --cn) into
 * is; *key is the new key or NULL.
 */
static int
ca_issue_load(const struct ca_issue_args *a, const char *pw,
    struct pki_issue *is, gnutls_x509_privkey_t *key)
{
	struct cv_err	err;

	if (pki_cli_load_ca(a->ca_cert, pw, &is->ca_crt) == -1)
		return -1;
	if (pki_key_load(a->ca_key, pw, &is->ca_key, &err) == -1) {
		cmd_err("--ca-key %s", err.msg);
		return -1;
	}
	if (a->csr != NULL) {
		if (pki_csr_load(a->csr, &is->crq, &err) == -1) {
			cmd_err("--csr %s", err.msg);
			return -1;
		}
	} else if (pki_key_generate(a->kg.type, a->kg.bits, key,
	    &err) == -1 ||
	    pki_csr_make(&a->subj, NULL, *key, &is->crq, &err) == -1) {
		cmd_err("%s", err.msg);
		return -1;
	}
	return 0;
}

static int
cmd_ca_issue(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct ca_issue_args	 a = { .kg = PKI_CLI_KEYGEN_INIT };
	struct pki_issue	 is;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	struct cv_err		 err;
	char			*pw = NULL;
	int			 rc;

	memset(&is, 0, sizeof(is));
	if ((rc = ca_issue_parse(ctx, argc, argv, &a)) != -1)
		goto out;
	rc = CMD_EXIT_FAIL;
	if (a.csr == NULL && pki_subject_check(&a.subj, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (a.out_key != NULL && pki_cli_refuse_existing(a.out_key,
	    "") == -1)
		goto out;
	if (pki_cli_password(a.pwfile, &pw) == -1 ||
	    ca_issue_load(&a, pw, &is, &key) == -1)
		goto out;
	is.purpose = a.purpose;
	is.san = &a.san;
	is.days = a.days;
	is.now = timeutil_now();
	if (pki_ca_issue(&is, &crt, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (key != NULL) {
		if (pki_cli_write_key(a.out_key, key, NULL) == -1)
			goto out;
		printf("key: %s (new, mode 0600)\n", a.out_key);
	}
	if (pki_cli_write_crts(a.out_cert, &crt, 1) == -1)
		goto out;
	pki_cli_describe(is.purpose == PKI_PURPOSE_CLIENT ?
	    "client certificate" : "server certificate", a.out_cert, crt);
	rc = CMD_EXIT_OK;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (is.crq != NULL)
		gnutls_x509_crq_deinit(is.crq);
	if (is.ca_crt != NULL)
		gnutls_x509_crt_deinit(is.ca_crt);
	if (is.ca_key != NULL)
		gnutls_x509_privkey_deinit(is.ca_key);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	pki_san_list_free(&a.san);
	freezero_str(pw);
	return rc;
}

static int
cmd_ca(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage(ctx->cmd);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmdopt_help(ctx->cmd, stdout);
	optind = 0;
	if (strcmp(argv[1], "init") == 0)
		return cmd_ca_init(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "issue") == 0 || strcmp(argv[1], "sign") == 0)
		return cmd_ca_issue(ctx, argc - 1, argv + 1);
	cmd_err("ca %s: unknown subcommand (init, issue or sign)", argv[1]);
	return CMD_EXIT_USAGE;
}


const struct cmd_entry cmd_ca_entry = {
	"ca", NULL, "init --cn NAME [subject options] [--key-type T] [--bits N] "
	"[--days N] --out-cert CA.pem --out-key CA.key\n"
	"       certvigil ca issue|sign --ca-cert CA.pem --ca-key CA.key "
	"(--csr FILE | --cn NAME [subject options] --out-key KEY) "
	"[--san DNS:x,IP:y,...] --purpose server|client [--days N] "
	"[--password-file FILE|-] --out-cert CERT",
	"a local CA: make a self-issued root, issue certificates",
	"Subject options: --cn, --org, --ou, --locality, --state, --country.\n"
	"init takes the subject, --key-type, --bits, --days, --out-cert and "
	"--out-key;\nissue (or sign) takes the options below.",
	ca_issue_opts, cmd_ca
};
