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
	{ "key-type", OPT_KEY_TYPE, "rsa|ec|ed25519",
	    "the new key's type (default rsa)" },
	{ "bits", OPT_BITS, "N",
	    "RSA key size (default 2048)" },
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
	enum pki_key_type	 kt = PKI_KEY_RSA;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	struct cv_err		 err;
	const char		*out_cert = NULL, *out_key = NULL;
	unsigned		 bits = 0, days = 0;
	int			 ch, rc = CMD_EXIT_FAIL;

	memset(&subj, 0, sizeof(subj));
	while ((ch = cmdopt_next(ctx, ca_init_opts, argc, argv)) != -1) {
		if (pki_cli_subject_opt(ch, &subj))
			continue;
		switch (ch) {
		case OPT_KEY_TYPE:
			if (pki_key_type_parse(optarg, &kt, &err) == -1) {
				cmd_err("%s", err.msg);
				return CMD_EXIT_USAGE;
			}
			break;
		case OPT_BITS:
			if (pki_cli_unsigned("--bits", optarg, 65536,
			    &bits) == -1)
				return CMD_EXIT_USAGE;
			break;
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
	if (pki_key_generate(kt, bits, &key, &err) == -1 ||
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
	{ "key-type", OPT_KEY_TYPE, "rsa|ec|ed25519",
	    "the new key's type (default rsa)" },
	{ "bits", OPT_BITS, "N",
	    "RSA key size (default 2048)" },
	{ "out-cert", OPT_OUT_CERT, "CERT",
	    "write the certificate here" },
	{ "out-key", OPT_KEY_OUT, "KEY",
	    "write the new private key here" },
	{ "password-file", OPT_PASSWORD_FILE, "FILE|-",
	    "the password (- reads standard input)" },
	CMDOPT_END
};

static int
cmd_ca_issue(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pki_subject	 subj;
	struct pki_san_list	 san = { NULL, 0 };
	struct pki_issue	 is;
	enum pki_key_type	 kt = PKI_KEY_RSA;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	struct cv_err		 err;
	const char		*ca_cert = NULL, *ca_key = NULL, *csr = NULL;
	const char		*out_cert = NULL, *out_key = NULL;
	const char		*pwfile = NULL;
	char			*pw = NULL;
	unsigned		 bits = 0, days = 0;
	int			 ch, purpose = -1, rc = CMD_EXIT_FAIL;

	memset(&subj, 0, sizeof(subj));
	memset(&is, 0, sizeof(is));
	while ((ch = cmdopt_next(ctx, ca_issue_opts, argc, argv)) != -1) {
		if (pki_cli_subject_opt(ch, &subj))
			continue;
		switch (ch) {
		case OPT_CA_CERT:	ca_cert = optarg; break;
		case OPT_CA_KEY:	ca_key = optarg; break;
		case OPT_CSR:		csr = optarg; break;
		case OPT_OUT_CERT:	out_cert = optarg; break;
		case OPT_KEY_OUT:	out_key = optarg; break;
		case OPT_PASSWORD_FILE:	pwfile = optarg; break;
		case OPT_SAN:
			if (pki_san_parse(optarg, &san, &err) == -1) {
				cmd_err("%s", err.msg);
				goto out;
			}
			break;
		case OPT_PURPOSE:
			if (pki_purpose_parse(optarg, &is.purpose,
			    &err) == -1) {
				cmd_err("%s", err.msg);
				rc = CMD_EXIT_USAGE;
				goto out;
			}
			purpose = (int)is.purpose;
			break;
		case OPT_KEY_TYPE:
			if (pki_key_type_parse(optarg, &kt, &err) == -1) {
				cmd_err("%s", err.msg);
				rc = CMD_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_BITS:
		case OPT_DAYS:
			if (pki_cli_unsigned(ch == OPT_BITS ? "--bits" :
			    "--days", optarg, ch == OPT_BITS ? 65536 :
			    PKI_DAYS_MAX, ch == OPT_BITS ? &bits :
			    &days) == -1) {
				rc = CMD_EXIT_USAGE;
				goto out;
			}
			break;
		default:	/* CMDOPT_STOP */
			rc = ctx->opt.exit;
			goto out;
		}
	}
	if (optind != argc || ca_cert == NULL || ca_key == NULL ||
	    out_cert == NULL || purpose == -1 ||
	    (csr == NULL) == (subj.cn == NULL)) {
		if (optind == argc && purpose == -1)
			cmd_err("--purpose server or --purpose client is "
			    "required");
		else if (optind == argc && (csr == NULL) == (subj.cn == NULL))
			cmd_err("give exactly one of --csr (a request) and "
			    "--cn (a new key and certificate)");
		rc = cmd_usage(ctx->cmd);
		goto out;
	}
	if (csr != NULL && (out_key != NULL || subj.o || subj.ou || subj.l ||
	    subj.st || subj.c)) {
		cmd_err("--csr carries the subject and key: --out-key and "
		    "subject options go with --cn");
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	if (csr == NULL && out_key == NULL) {
		cmd_err("--cn makes a new key: --out-key is required");
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	if (csr == NULL && pki_subject_check(&subj, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (out_key != NULL && pki_cli_refuse_existing(out_key, "") == -1)
		goto out;
	if (pki_cli_password(pwfile, &pw) == -1)
		goto out;
	if (pki_cli_load_ca(ca_cert, pw, &is.ca_crt) == -1)
		goto out;
	if (pki_key_load(ca_key, pw, &is.ca_key, &err) == -1) {
		cmd_err("--ca-key %s", err.msg);
		goto out;
	}
	if (csr != NULL) {
		if (pki_csr_load(csr, &is.crq, &err) == -1) {
			cmd_err("--csr %s", err.msg);
			goto out;
		}
	} else if (pki_key_generate(kt, bits, &key, &err) == -1 ||
	    pki_csr_make(&subj, NULL, key, &is.crq, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	is.san = &san;
	is.days = days;
	is.now = timeutil_now();
	if (pki_ca_issue(&is, &crt, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (key != NULL) {
		if (pki_cli_write_key(out_key, key, NULL) == -1)
			goto out;
		printf("key: %s (new, mode 0600)\n", out_key);
	}
	if (pki_cli_write_crts(out_cert, &crt, 1) == -1)
		goto out;
	pki_cli_describe(is.purpose == PKI_PURPOSE_CLIENT ?
	    "client certificate" : "server certificate", out_cert, crt);
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
	pki_san_list_free(&san);
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
