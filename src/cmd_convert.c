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

/* What the command line asks for. */
struct convert_args {
	const char	*in, *cert_out, *key_out, *chain_out;
	const char	*cert, *keyf, *chainf, *out, *pwfile;
	int		 encrypt, legacy, topfx;
};

/* Which options go with --to: -1 to go on, or the exit status. */
static int
convert_check(const char *to, struct convert_args *a)
{
	if (strcmp(to, "pem") != 0 && strcmp(to, "pfx") != 0 &&
	    strcmp(to, "p12") != 0) {
		cmd_err("--to %s: expected pem or pfx", to);
		return CMD_EXIT_USAGE;
	}
	a->topfx = strcmp(to, "pem") != 0;
	if (a->topfx && ((a->in == NULL) == (a->cert == NULL) ||
	    a->out == NULL || a->cert_out || a->key_out || a->chain_out ||
	    a->encrypt)) {
		cmd_err("--to pfx takes IN or --cert [--key] [--chain], and "
		    "--out");
		return CMD_EXIT_USAGE;
	}
	if (!a->topfx && (a->in == NULL || a->cert || a->keyf || a->chainf ||
	    a->out || a->legacy || (!a->cert_out && !a->key_out &&
	    !a->chain_out))) {
		cmd_err("--to pem takes IN and at least one of --cert-out, "
		    "--key-out, --chain-out");
		return CMD_EXIT_USAGE;
	}
	return -1;
}

/* -1 to go on, or the exit status (help, usage). */
static int
convert_parse(struct cmd_ctx *ctx, int argc, char **argv,
    struct convert_args *a)
{
	const char	*to = NULL;
	int		 ch;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case OPT_TO:		to = optarg; break;
		case OPT_CERT_OUT:	a->cert_out = optarg; break;
		case OPT_KEY_OUT:	a->key_out = optarg; break;
		case OPT_CHAIN_OUT:	a->chain_out = optarg; break;
		case OPT_ENCRYPT_KEY:	a->encrypt = 1; break;
		case OPT_CERT:		a->cert = optarg; break;
		case OPT_KEY:		a->keyf = optarg; break;
		case OPT_CHAIN:		a->chainf = optarg; break;
		case OPT_OUT:		a->out = optarg; break;
		case OPT_LEGACY:	a->legacy = 1; break;
		case OPT_PASSWORD_FILE:	a->pwfile = optarg; break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || to == NULL)
		return cmd_usage(ctx->cmd);
	if (argc == 1)
		a->in = argv[0];
	return convert_check(to, a);
}

static int
convert_to_pfx(const struct convert_args *a, struct pki_cli_set *set,
    const char *pw)
{
	gnutls_datum_t	p12 = { NULL, 0 };
	struct cv_err	err;
	int		rc = -1;

	if (set->key == NULL) {
		cmd_err("%s: no private key (give --key)", a->in ? a->in :
		    a->cert);
		goto out;
	}
	if (pki_pkcs12_make(set->leaf, set->chain, set->nchain, set->key,
	    pw, a->legacy, &p12, &err) == -1 ||
	    pki_write(a->out, &p12, 0600, &err) == -1) {
		cmd_err("%s: %s", a->out, err.msg);
		goto out;
	}
	pki_cli_describe(a->legacy ? "PKCS#12 (3DES, legacy)" :
	    "PKCS#12 (AES-256)", a->out, set->leaf);
	rc = 0;
out:
	if (p12.data != NULL)
		gnutls_free(p12.data);
	return rc;
}

/* Adds path to files if it was asked for (the PEM was made for it). */
static void
convert_add(struct fsutil_file *files, size_t *n, const char *path,
    const gnutls_datum_t *pem, mode_t mode)
{
	if (path == NULL)
		return;
	files[*n].path = path;
	files[*n].data = pem->data;
	files[*n].len = pem->size;
	files[(*n)++].mode = mode;
}

/*
 * Certificate, key and chain change together: a failure leaves the old
 * set, never a new certificate beside the old key.
 */
static int
convert_write_pem(const struct convert_args *a, struct pki_cli_set *set,
    const char *pw, gnutls_datum_t pem[3])
{
	struct fsutil_file	files[3];
	struct cv_err		err;
	size_t			nfiles = 0;

	if ((a->cert_out != NULL && pki_crts_pem(&set->leaf, 1, &pem[0],
	    &err) == -1) || (a->key_out != NULL && pki_key_pem(set->key,
	    a->encrypt ? pw : NULL, &pem[1], &err) == -1) ||
	    (a->chain_out != NULL && pki_crts_pem(set->chain, set->nchain,
	    &pem[2], &err) == -1)) {
		cmd_err("%s: %s", a->in, err.msg);
		return -1;
	}
	memset(files, 0, sizeof(files));
	convert_add(files, &nfiles, a->cert_out, &pem[0], 0644);
	convert_add(files, &nfiles, a->key_out, &pem[1], 0600);
	convert_add(files, &nfiles, a->chain_out, &pem[2], 0644);
	if (fsutil_write_set(files, nfiles, &err) == -1) {
		cmd_err("%s", err.msg);
		return -1;
	}
	return 0;
}

static int
convert_to_pem(const struct convert_args *a, struct pki_cli_set *set,
    const char *pw)
{
	gnutls_datum_t	pem[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	size_t		i;
	int		rc = -1;

	if (a->key_out != NULL && set->key == NULL) {
		cmd_err("%s: no private key in the file", a->in);
		goto out;
	}
	if (a->chain_out != NULL && set->nchain == 0) {
		cmd_err("%s: no chain certificates in the file; %s not "
		    "written", a->in, a->chain_out);
		goto out;
	}
	if (convert_write_pem(a, set, pw, pem) == -1)
		goto out;
	if (a->cert_out != NULL)
		pki_cli_describe("certificate", a->cert_out, set->leaf);
	if (a->key_out != NULL)
		printf("key: %s (%s, mode 0600)\n", a->key_out, a->encrypt ?
		    "encrypted, AES-256" : "unencrypted");
	if (a->chain_out != NULL)
		printf("chain: %s (%zu certificate%s)\n", a->chain_out,
		    set->nchain, set->nchain == 1 ? "" : "s");
	rc = 0;
out:
	for (i = 0; i < 3; i++) {
		if (pem[i].data == NULL)
			continue;
		explicit_bzero(pem[i].data, pem[i].size);
		gnutls_free(pem[i].data);
	}
	return rc;
}

static int
cmd_convert(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct convert_args	 a;
	struct pki_cli_set	 set;
	char			*pw = NULL;
	int			 rc;

	memset(&a, 0, sizeof(a));
	memset(&set, 0, sizeof(set));
	if ((rc = convert_parse(ctx, argc, argv, &a)) != -1)
		return rc;
	rc = CMD_EXIT_FAIL;
	if (pki_cli_password(a.pwfile, &pw) == -1)
		goto out;
	if ((a.topfx || a.encrypt) && (pw == NULL || *pw == '\0')) {
		cmd_err("%s needs a password: --password-file FILE, or - for "
		    "standard input", a.topfx ? "a PKCS#12 file" :
		    "--encrypt-key");
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	if (pki_cli_gather(&set, a.in, a.cert, a.keyf, a.chainf, pw) == -1)
		goto out;
	if ((a.topfx ? convert_to_pfx(&a, &set, pw) :
	    convert_to_pem(&a, &set, pw)) == 0)
		rc = CMD_EXIT_OK;
out:
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
