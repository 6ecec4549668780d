/*
 * certvigil convert: PKCS#12 to clean PEM files and back.
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
#include "x509.h"
#include "xmalloc.h"

static const struct cmdopt convert_opts[] = {
	{ "to", OPT_TO, "pem|pfx",
	    "the output form" },
	{ "cert-out", OPT_CERT_OUT, "FILE",
	    "write the certificate here" },
	{ "key-out", OPT_KEY_OUT, "KEY",
	    "write a new private key here" },
	{ "chain-out", OPT_CHAIN_OUT, "FILE",
	    "write the chain here" },
	{ "encrypt-key", OPT_ENCRYPT_KEY, NULL,
	    "encrypt the key written (AES-256)" },
	{ "cert", OPT_CERT, "FILE",
	    "the certificate" },
	{ "key", OPT_KEY, "KEY",
	    "an existing private key" },
	{ "chain", OPT_CHAIN, "FILE",
	    "the chain certificates" },
	{ "out", OPT_OUT, "FILE",
	    "the output file" },
	{ "legacy", OPT_LEGACY, NULL,
	    "PBE-SHA1-3DES and a SHA-1 MAC, for old readers" },
	{ "password-file", OPT_PASSWORD_FILE, "FILE|-",
	    "the password (- reads standard input)" },
	CMDOPT_END
};

static int
cmd_convert(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pki_cli_set	 set;
	gnutls_datum_t		 p12 = { NULL, 0 };
	gnutls_datum_t		 pem[3] = { { NULL, 0 }, { NULL, 0 },
				    { NULL, 0 } };
	struct fsutil_file	 files[3];
	size_t			 nfiles = 0, i;
	struct cv_err		 err;
	const char		*to = NULL, *cert_out = NULL, *key_out = NULL;
	const char		*chain_out = NULL, *cert = NULL, *keyf = NULL;
	const char		*chainf = NULL, *out = NULL, *pwfile = NULL;
	const char		*in = NULL;
	char			*pw = NULL;
	int			 ch, encrypt = 0, legacy = 0, topfx;
	int			 rc = CMD_EXIT_FAIL;

	memset(&set, 0, sizeof(set));
	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case OPT_TO:		to = optarg; break;
		case OPT_CERT_OUT:	cert_out = optarg; break;
		case OPT_KEY_OUT:	key_out = optarg; break;
		case OPT_CHAIN_OUT:	chain_out = optarg; break;
		case OPT_ENCRYPT_KEY:	encrypt = 1; break;
		case OPT_CERT:		cert = optarg; break;
		case OPT_KEY:		keyf = optarg; break;
		case OPT_CHAIN:		chainf = optarg; break;
		case OPT_OUT:		out = optarg; break;
		case OPT_LEGACY:	legacy = 1; break;
		case OPT_PASSWORD_FILE:	pwfile = optarg; break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || to == NULL)
		return cmd_usage(ctx->cmd);
	if (argc == 1)
		in = argv[0];
	if (strcmp(to, "pem") != 0 && strcmp(to, "pfx") != 0 &&
	    strcmp(to, "p12") != 0) {
		cmd_err("--to %s: expected pem or pfx", to);
		return CMD_EXIT_USAGE;
	}
	topfx = strcmp(to, "pem") != 0;
	if (topfx && ((in == NULL) == (cert == NULL) || out == NULL ||
	    cert_out || key_out || chain_out || encrypt)) {
		cmd_err("--to pfx takes IN or --cert [--key] [--chain], and "
		    "--out");
		return CMD_EXIT_USAGE;
	}
	if (!topfx && (in == NULL || cert || keyf || chainf || out ||
	    legacy || (!cert_out && !key_out && !chain_out))) {
		cmd_err("--to pem takes IN and at least one of --cert-out, "
		    "--key-out, --chain-out");
		return CMD_EXIT_USAGE;
	}
	if (pki_cli_password(pwfile, &pw) == -1)
		goto out;
	if ((topfx || encrypt) && (pw == NULL || *pw == '\0')) {
		cmd_err("%s needs a password: --password-file FILE, or - for "
		    "standard input", topfx ? "a PKCS#12 file" :
		    "--encrypt-key");
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	if (pki_cli_gather(&set, in, cert, keyf, chainf, pw) == -1)
		goto out;
	if (topfx) {
		if (set.key == NULL) {
			cmd_err("%s: no private key (give --key)",
			    in ? in : cert);
			goto out;
		}
		if (pki_pkcs12_make(set.leaf, set.chain, set.nchain, set.key,
		    pw, legacy, &p12, &err) == -1 ||
		    pki_write(out, &p12, 0600, &err) == -1) {
			cmd_err("%s: %s", out, err.msg);
			goto out;
		}
		pki_cli_describe(legacy ? "PKCS#12 (3DES, legacy)" :
		    "PKCS#12 (AES-256)", out, set.leaf);
		rc = CMD_EXIT_OK;
		goto out;
	}
	if (key_out != NULL && set.key == NULL) {
		cmd_err("%s: no private key in the file", in);
		goto out;
	}
	if (chain_out != NULL && set.nchain == 0) {
		cmd_err("%s: no chain certificates in the file; %s not "
		    "written", in, chain_out);
		goto out;
	}
	/*
	 * Certificate, key and chain change together: a failure leaves the
	 * old set, never a new certificate beside the old key.
	 */
	if ((cert_out != NULL && pki_crts_pem(&set.leaf, 1, &pem[0],
	    &err) == -1) || (key_out != NULL && pki_key_pem(set.key,
	    encrypt ? pw : NULL, &pem[1], &err) == -1) ||
	    (chain_out != NULL && pki_crts_pem(set.chain, set.nchain, &pem[2],
	    &err) == -1)) {
		cmd_err("%s: %s", in, err.msg);
		goto out;
	}
	memset(files, 0, sizeof(files));
	if (cert_out != NULL) {
		files[nfiles].path = cert_out;
		files[nfiles].data = pem[0].data;
		files[nfiles].len = pem[0].size;
		files[nfiles++].mode = 0644;
	}
	if (key_out != NULL) {
		files[nfiles].path = key_out;
		files[nfiles].data = pem[1].data;
		files[nfiles].len = pem[1].size;
		files[nfiles++].mode = 0600;
	}
	if (chain_out != NULL) {
		files[nfiles].path = chain_out;
		files[nfiles].data = pem[2].data;
		files[nfiles].len = pem[2].size;
		files[nfiles++].mode = 0644;
	}
	if (fsutil_write_set(files, nfiles, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (cert_out != NULL)
		pki_cli_describe("certificate", cert_out, set.leaf);
	if (key_out != NULL)
		printf("key: %s (%s, mode 0600)\n", key_out, encrypt ?
		    "encrypted, AES-256" : "unencrypted");
	if (chain_out != NULL)
		printf("chain: %s (%zu certificate%s)\n", chain_out,
		    set.nchain, set.nchain == 1 ? "" : "s");
	rc = CMD_EXIT_OK;
out:
	if (p12.data != NULL)
		gnutls_free(p12.data);
	for (i = 0; i < 3; i++) {
		if (pem[i].data == NULL)
			continue;
		explicit_bzero(pem[i].data, pem[i].size);
		gnutls_free(pem[i].data);
	}
	pki_cli_set_free(&set);
	freezero_str(pw);
	return rc;
}


const struct cmd_entry cmd_convert_entry = {
	"convert", NULL, "IN --to pem --cert-out FILE [--key-out FILE] "
	"[--chain-out FILE] [--encrypt-key] [--password-file FILE|-]\n"
	"       certvigil convert (IN | --cert FILE [--key FILE] "
	"[--chain FILE]) --to pfx [--legacy] --password-file FILE|- "
	"--out X.pfx",
	"convert PKCS#12 to clean PEM files and back",
	"PEM files are written together: a failure leaves the old set.",
	convert_opts, cmd_convert
};
