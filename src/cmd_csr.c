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
	{ "key-type", OPT_KEY_TYPE, "rsa|ec|ed25519",
	    "the new key's type (default rsa)" },
	{ "bits", OPT_BITS, "N",
	    "RSA key size (default 2048)" },
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

static int
cmd_csr(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pki_subject	 subj;
	struct pki_san_list	 san = { NULL, 0 };
	enum pki_key_type	 kt = PKI_KEY_RSA;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crq_t	 crq = NULL;
	gnutls_datum_t		 pem = { NULL, 0 };
	struct cv_err		 err;
	const char		*key_out = NULL, *key_in = NULL, *out = NULL;
	const char		*pwfile = NULL;
	char			*pw = NULL, *dn = NULL;
	unsigned		 bits = 0;
	int			 ch, rc = CMD_EXIT_FAIL;

	memset(&subj, 0, sizeof(subj));
	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		if (pki_cli_subject_opt(ch, &subj))
			continue;
		switch (ch) {
		case OPT_SAN:
			if (pki_san_parse(optarg, &san, &err) == -1) {
				cmd_err("%s", err.msg);
				goto out;
			}
			break;
		case OPT_KEY_TYPE:
			if (pki_key_type_parse(optarg, &kt, &err) == -1) {
				cmd_err("%s", err.msg);
				rc = CMD_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_BITS:
			if (pki_cli_unsigned("--bits", optarg, 65536,
			    &bits) == -1) {
				rc = CMD_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_KEY_OUT:	key_out = optarg; break;
		case OPT_KEY:		key_in = optarg; break;
		case OPT_OUT:		out = optarg; break;
		case OPT_PASSWORD_FILE:	pwfile = optarg; break;
		default:	/* CMDOPT_STOP */
			rc = ctx->opt.exit;
			goto out;
		}
	}
	if (optind != argc || out == NULL || (key_out == NULL) ==
	    (key_in == NULL)) {
		if (optind == argc && out != NULL)
			cmd_err("give exactly one of --key-out (new key) and "
			    "--key (existing key)");
		rc = cmd_usage(ctx->cmd);
		goto out;
	}
	/* Everything the user typed is checked before a key is made. */
	if (pki_subject_check(&subj, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (key_out != NULL && pki_cli_refuse_existing(key_out,
	    ", or reuse it with --key") == -1)
		goto out;
	if (pki_cli_password(pwfile, &pw) == -1)
		goto out;
	if (key_in != NULL) {
		if (pki_key_load(key_in, pw, &key, &err) == -1) {
			cmd_err("%s", err.msg);
			goto out;
		}
	} else if (pki_key_generate(kt, bits, &key, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (pki_csr_make(&subj, &san, key, &crq, &err) == -1 ||
	    pki_csr_pem(crq, &pem, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (key_out != NULL) {
		if (pki_cli_write_key(key_out, key, NULL) == -1)
			goto out;
		printf("key: %s (new, mode 0600)\n", key_out);
	}
	if (pki_write(out, &pem, 0644, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	dn = pki_subject_dn(&subj);
	printf("request: %s (%s)\n", out, dn);
	rc = CMD_EXIT_OK;
out:
	free(dn);
	if (pem.data != NULL)
		gnutls_free(pem.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	pki_san_list_free(&san);
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
