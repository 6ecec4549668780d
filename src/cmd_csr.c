/*
 * certvigil csr: a private key and a certificate signing request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "cmd.h"
#include "cmd_pki.h"
#include "fsutil.h"
#include "pki.h"
#include "xmalloc.h"

static const struct cmdopt csr_opts[] = {
	PKI_CLI_SUBJECT_OPTS,
	{ "san", OPT_SAN, "DNS:x,IP:y,...",
	    "subject alternative names" },
	PKI_CLI_KEYGEN_OPTS,
	{ "key-out", OPT_KEY_OUT, "KEY",
	    "write a new private key here" },
	{ "key", OPT_KEY, "KEY",
	    "an existing private key" },
	{ "out", OPT_OUT, "FILE",
	    "the output file" },
	{ "password-file", OPT_PASSWORD_FILE, "FILE|-",
	    "the password (- reads standard input)" },
	CMDOPT_END
};

/* What the command line asks for; san is the caller's to free. */
struct csr_args {
	struct pki_subject	 subj;
	struct pki_san_list	 san;
	struct pki_cli_keygen	 kg;
	const char		*key_out, *key_in, *out, *pwfile;
};

/* -1 to go on, or the exit status (help, usage, a bad value). */
static int
csr_parse(struct cmd_ctx *ctx, int argc, char **argv, struct csr_args *a)
{
	struct cv_err	err;
	int		ch, r;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		if (pki_cli_subject_opt(ch, &a->subj))
			continue;
		if ((r = pki_cli_keygen_opt(ch, &a->kg)) != 0) {
			if (r == -1)
				return CMD_EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case OPT_SAN:
			if (pki_san_parse(optarg, &a->san, &err) == -1) {
				cmd_err("%s", err.msg);
				return CMD_EXIT_FAIL;
			}
			break;
		case OPT_KEY_OUT:	a->key_out = optarg; break;
		case OPT_KEY:		a->key_in = optarg; break;
		case OPT_OUT:		a->out = optarg; break;
		case OPT_PASSWORD_FILE:	a->pwfile = optarg; break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind != argc || a->out == NULL || (a->key_out == NULL) ==
	    (a->key_in == NULL)) {
		if (optind == argc && a->out != NULL)
			cmd_err("give exactly one of --key-out (new key) and "
			    "--key (existing key)");
		return cmd_usage(ctx->cmd);
	}
	return -1;
}

/* The request's key: loaded (--key) or made (--key-out). */
static int
csr_key(const struct csr_args *a, const char *pw,
    gnutls_x509_privkey_t *key)
{
	struct cv_err	err;

	if (a->key_in != NULL) {
		if (pki_key_load(a->key_in, pw, key, &err) == -1) {
			cmd_err("%s", err.msg);
			return -1;
		}
	} else if (pki_key_generate(a->kg.type, a->kg.bits, key,
	    &err) == -1) {
		cmd_err("%s", err.msg);
		return -1;
	}
	return 0;
}

static int
cmd_csr(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct csr_args		 a = { .kg = PKI_CLI_KEYGEN_INIT };
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crq_t	 crq = NULL;
	gnutls_datum_t		 pem = { NULL, 0 };
	struct cv_err		 err;
	char			*pw = NULL, *dn = NULL;
	int			 rc;

	if ((rc = csr_parse(ctx, argc, argv, &a)) != -1)
		goto out;
	rc = CMD_EXIT_FAIL;
	/* Everything the user typed is checked before a key is made. */
	if (pki_subject_check(&a.subj, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (a.key_out != NULL && pki_cli_refuse_existing(a.key_out,
	    ", or reuse it with --key") == -1)
		goto out;
	if (pki_cli_password(a.pwfile, &pw) == -1 ||
	    csr_key(&a, pw, &key) == -1)
		goto out;
	if (pki_csr_make(&a.subj, &a.san, key, &crq, &err) == -1 ||
	    pki_csr_pem(crq, &pem, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (a.key_out != NULL) {
		if (pki_cli_write_key(a.key_out, key, NULL) == -1)
			goto out;
		printf("key: %s (new, mode 0600)\n", a.key_out);
	}
	if (fsutil_mkparents(a.out, 0755, &err) == -1 ||
	    pki_write(a.out, &pem, 0644, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	dn = pki_subject_dn(&a.subj);
	printf("request: %s (%s)\n", a.out, dn);
	rc = CMD_EXIT_OK;
out:
	free(dn);
	if (pem.data != NULL)
		gnutls_free(pem.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	pki_san_list_free(&a.san);
	freezero_str(pw);
	return rc;
}

const struct cmd_entry cmd_csr_entry = {
	"csr", NULL, "--cn NAME [--org O] [--ou OU] [--locality L] [--state ST] "
	"[--country CC] [--san DNS:x,IP:y,...] [--key-type rsa|ec|ed25519] "
	"[--bits N] (--key-out KEY | --key KEY [--password-file FILE|-]) "
	"--out CSR",
	"make a private key and a certificate signing request",
	"A new key is never written over an existing file; reuse one with --key.",
	csr_opts, cmd_csr
};
