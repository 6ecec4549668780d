/*
 * The PKI toolbox commands, offline: csr, ca (init, issue/sign), convert,
 * check and deploy-client.  This file turns options into calls to pki.c
 * and agentcfg.c and prints what happened; the work is done there.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agentcfg.h"
#include "cmd.h"
#include "fsutil.h"
#include "pki.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

/* Long-only options. */
enum {
	OPT_CN = 256, OPT_ORG, OPT_OU, OPT_LOCALITY, OPT_STATE, OPT_COUNTRY,
	OPT_SAN, OPT_KEY_TYPE, OPT_BITS, OPT_KEY_OUT, OPT_KEY, OPT_OUT,
	OPT_PASSWORD_FILE, OPT_DAYS, OPT_OUT_CERT, OPT_CA_CERT, OPT_CA_KEY,
	OPT_CSR, OPT_PURPOSE, OPT_TO, OPT_CERT_OUT, OPT_CHAIN_OUT,
	OPT_ENCRYPT_KEY, OPT_CERT, OPT_CHAIN, OPT_LEGACY, OPT_HOST,
	OPT_CA_FILE, OPT_MIN_DAYS, OPT_JSON, OPT_PFX, OPT_CERT_PATH,
	OPT_KEY_PATH, OPT_AGENT_CONFIG, OPT_AGENT_SECTION, OPT_HELP,
};

#define SUBJECT_OPTS \
	{ "cn",		required_argument,	NULL, OPT_CN }, \
	{ "org",	required_argument,	NULL, OPT_ORG }, \
	{ "ou",		required_argument,	NULL, OPT_OU }, \
	{ "locality",	required_argument,	NULL, OPT_LOCALITY }, \
	{ "state",	required_argument,	NULL, OPT_STATE }, \
	{ "country",	required_argument,	NULL, OPT_COUNTRY }

#define DEPLOY_CERT_PATH	"/var/opt/managesoft/etc/ssl/client/client_cert.pem"
#define DEPLOY_KEY_PATH	\
	"/var/opt/managesoft/etc/ssl/client/private/client_key.pem"

/* Options every command shares: the subject and the usage/help pair. */
static int
pki_cli_subject_opt(int ch, struct pki_subject *s)
{
	switch (ch) {
	case OPT_CN:		s->cn = optarg; return 1;
	case OPT_ORG:		s->o = optarg; return 1;
	case OPT_OU:		s->ou = optarg; return 1;
	case OPT_LOCALITY:	s->l = optarg; return 1;
	case OPT_STATE:		s->st = optarg; return 1;
	case OPT_COUNTRY:	s->c = optarg; return 1;
	}
	return 0;
}

static int
pki_cli_help(const char *name)
{
	const struct cmd_entry	*e = cmd_find(name);

	printf("usage: certvigil %s %s\n", e->name, e->usage);
	return CMD_EXIT_OK;
}

static int
pki_cli_unsigned(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || *s == '-' || errno != 0 ||
	    v > max) {
		cmd_err("%s '%s': expected a number from 0 to %u", opt, s, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* A new private key never replaces an existing file by accident. */
static int
pki_cli_refuse_existing(const char *path, const char *opt)
{
	struct stat	st;

	if (lstat(path, &st) == 0) {
		cmd_err("%s: already exists; refusing to overwrite a private "
		    "key (remove it first%s)", path, opt);
		return -1;
	}
	return 0;
}

static int
pki_cli_password(const char *file, char **pw)
{
	struct cv_err	err;

	*pw = NULL;
	if (file == NULL)
		return 0;
	if (fsutil_read_password(file, pw, &err) == -1) {
		cmd_err("%s", err.msg);
		return -1;
	}
	return 0;
}

static int
pki_cli_write_key(const char *path, gnutls_x509_privkey_t key,
    const char *password)
{
	gnutls_datum_t	d = { NULL, 0 };
	struct cv_err	err;
	int		rc = -1;

	if (pki_key_pem(key, password, &d, &err) == -1 ||
	    pki_write(path, &d, 0600, &err) == -1) {
		cmd_err("%s: %s", path, err.msg);
		goto out;
	}
	rc = 0;
out:
	if (d.data != NULL) {
		explicit_bzero(d.data, d.size);
		gnutls_free(d.data);
	}
	return rc;
}

static int
pki_cli_write_crts(const char *path, gnutls_x509_crt_t *crts, size_t n)
{
	gnutls_datum_t	d;
	struct cv_err	err;
	int		rc;

	if (pki_crts_pem(crts, n, &d, &err) == -1) {
		cmd_err("%s: %s", path, err.msg);
		return -1;
	}
	rc = pki_write(path, &d, 0644, &err);
	gnutls_free(d.data);
	if (rc == -1)
		cmd_err("%s", err.msg);
	return rc;
}

static void
pki_cli_describe(const char *what, const char *path, gnutls_x509_crt_t crt)
{
	struct x509_cert	c;
	gnutls_x509_crt_t	copy;
	gnutls_datum_t		der;
	struct cv_err		err;
	char			up[41];

	/* x509_cert_fill takes ownership: describe a copy. */
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		return;
	if (gnutls_x509_crt_init(&copy) < 0 ||
	    gnutls_x509_crt_import(copy, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_free(der.data);
		return;
	}
	gnutls_free(der.data);
	if (x509_cert_fill(&c, copy, &err) == 0)
		printf("%s: %s (%s, thumbprint %s)\n", what, path, c.subject,
		    x509_sha1_upper(c.sha1, up));
	x509_cert_clear(&c);
}

/* ---- csr ------------------------------------------------------------------ */

int
cmd_csr(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		SUBJECT_OPTS,
		{ "san",		required_argument, NULL, OPT_SAN },
		{ "key-type",		required_argument, NULL, OPT_KEY_TYPE },
		{ "bits",		required_argument, NULL, OPT_BITS },
		{ "key-out",		required_argument, NULL, OPT_KEY_OUT },
		{ "key",		required_argument, NULL, OPT_KEY },
		{ "out",		required_argument, NULL, OPT_OUT },
		{ "password-file",	required_argument, NULL,
		    OPT_PASSWORD_FILE },
		{ "help",		no_argument,	   NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
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

	(void)ctx;
	memset(&subj, 0, sizeof(subj));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
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
		case OPT_HELP:
			rc = pki_cli_help("csr");
			goto out;
		default:
			rc = cmd_usage(cmd_find("csr"));
			goto out;
		}
	}
	if (optind != argc || out == NULL || (key_out == NULL) ==
	    (key_in == NULL)) {
		if (optind == argc && out != NULL)
			cmd_err("give exactly one of --key-out (new key) and "
			    "--key (existing key)");
		rc = cmd_usage(cmd_find("csr"));
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

/* ---- ca ------------------------------------------------------------------- */

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

static int
cmd_ca_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		SUBJECT_OPTS,
		{ "key-type",	required_argument,	NULL, OPT_KEY_TYPE },
		{ "bits",	required_argument,	NULL, OPT_BITS },
		{ "days",	required_argument,	NULL, OPT_DAYS },
		{ "out-cert",	required_argument,	NULL, OPT_OUT_CERT },
		{ "out-key",	required_argument,	NULL, OPT_KEY_OUT },
		{ "help",	no_argument,		NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct pki_subject	 subj;
	enum pki_key_type	 kt = PKI_KEY_RSA;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	struct cv_err		 err;
	const char		*out_cert = NULL, *out_key = NULL;
	unsigned		 bits = 0, days = 0;
	int			 ch, rc = CMD_EXIT_FAIL;

	memset(&subj, 0, sizeof(subj));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
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
		case OPT_HELP:
			return pki_cli_help("ca");
		default:
			return cmd_usage(cmd_find("ca"));
		}
	}
	if (optind != argc || out_cert == NULL || out_key == NULL)
		return cmd_usage(cmd_find("ca"));
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

static int
cmd_ca_issue(int argc, char **argv)
{
	static const struct option longopts[] = {
		SUBJECT_OPTS,
		{ "ca-cert",	required_argument,	NULL, OPT_CA_CERT },
		{ "ca-key",	required_argument,	NULL, OPT_CA_KEY },
		{ "csr",	required_argument,	NULL, OPT_CSR },
		{ "san",	required_argument,	NULL, OPT_SAN },
		{ "purpose",	required_argument,	NULL, OPT_PURPOSE },
		{ "days",	required_argument,	NULL, OPT_DAYS },
		{ "key-type",	required_argument,	NULL, OPT_KEY_TYPE },
		{ "bits",	required_argument,	NULL, OPT_BITS },
		{ "out-cert",	required_argument,	NULL, OPT_OUT_CERT },
		{ "out-key",	required_argument,	NULL, OPT_KEY_OUT },
		{ "password-file", required_argument,	NULL,
		    OPT_PASSWORD_FILE },
		{ "help",	no_argument,		NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
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
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
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
		case OPT_HELP:
			rc = pki_cli_help("ca");
			goto out;
		default:
			rc = cmd_usage(cmd_find("ca"));
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
		rc = cmd_usage(cmd_find("ca"));
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

int
cmd_ca(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc < 2)
		return cmd_usage(cmd_find("ca"));
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return pki_cli_help("ca");
	optind = 0;
	if (strcmp(argv[1], "init") == 0)
		return cmd_ca_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "issue") == 0 || strcmp(argv[1], "sign") == 0)
		return cmd_ca_issue(argc - 1, argv + 1);
	cmd_err("ca %s: unknown subcommand (init, issue or sign)", argv[1]);
	return CMD_EXIT_USAGE;
}

/* ---- convert -------------------------------------------------------------- */

/* Everything a conversion gathers: the leaf, its key, the chain. */
struct pki_cli_set {
	struct x509_file	*files[3];
	size_t			 nfiles;
	gnutls_x509_crt_t	 leaf;
	gnutls_x509_crt_t	*chain;
	size_t			 nchain;
	gnutls_x509_privkey_t	 key;	/* borrowed from a file */
};

static void
pki_cli_set_free(struct pki_cli_set *s)
{
	size_t	i;

	for (i = 0; i < s->nfiles; i++)
		x509_file_free(s->files[i]);
	free(s->chain);
	memset(s, 0, sizeof(*s));
}

static struct x509_file *
pki_cli_set_load(struct pki_cli_set *s, const char *opt, const char *path,
    const char *pw)
{
	struct x509_load_opts	 o;
	struct x509_file	*f;
	struct cv_err		 err;

	memset(&o, 0, sizeof(o));
	o.password = pw;
	if (x509_load_file(path, &o, &f, &err) == -1) {
		cmd_err("%s%s: %s", opt, path, err.msg);
		x509_file_free(f);
		return NULL;
	}
	s->files[s->nfiles++] = f;
	return f;
}

static void
pki_cli_set_chain(struct pki_cli_set *s, struct x509_file *f, int skip)
{
	size_t	*idx, n, i;

	if (f->ncerts == 0)
		return;
	idx = xcalloc(f->ncerts, sizeof(*idx));
	if (skip >= 0)
		n = pki_file_chain(f, (size_t)skip, idx);
	else
		for (n = 0; n < f->ncerts; n++)
			idx[n] = n;
	s->chain = xreallocarray(s->chain, s->nchain + n, sizeof(*s->chain));
	for (i = 0; i < n; i++)
		s->chain[s->nchain++] = f->certs[idx[i]].crt;
	free(idx);
}

/*
 * The leaf, key and chain from IN (one bundle or PFX) or from the
 * --cert/--key/--chain files.  Key and chain may be missing; the caller
 * says what it needs.
 */
static int
pki_cli_gather(struct pki_cli_set *s, const char *in, const char *cert,
    const char *keyf, const char *chainf, const char *pw)
{
	struct x509_file	*f, *kf;
	int			 leaf, k;

	memset(s, 0, sizeof(s[0]));
	if ((f = pki_cli_set_load(s, in ? "" : "--cert ", in ? in : cert,
	    pw)) == NULL)
		return -1;
	if ((leaf = pki_file_leaf(f)) == -1) {
		cmd_err("%s: no certificate found (the file holds %zu private "
		    "key%s only)", f->path, f->nkeys, f->nkeys == 1 ? "" : "s");
		return -1;
	}
	s->leaf = f->certs[leaf].crt;
	pki_cli_set_chain(s, f, leaf);
	if (keyf != NULL) {
		if ((kf = pki_cli_set_load(s, "--key ", keyf, pw)) == NULL)
			return -1;
		if (kf->nkeys == 0) {
			cmd_err("--key %s: no private key in the file", keyf);
			return -1;
		}
		s->key = kf->keys[0].key;
	} else if ((k = pki_file_key_of(f, (size_t)leaf)) != -1)
		s->key = f->keys[k].key;
	else if (f->nkeys > 0)
		s->key = f->keys[0].key;	/* reported as a mismatch */
	if (s->key != NULL && !pki_key_matches(s->key, s->leaf)) {
		cmd_err("%s: the private key does not match the certificate",
		    keyf ? keyf : f->path);
		return -1;
	}
	if (chainf != NULL) {
		if ((f = pki_cli_set_load(s, "--chain ", chainf, pw)) == NULL)
			return -1;
		pki_cli_set_chain(s, f, -1);
	}
	return 0;
}

int
cmd_convert(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to",		required_argument,	NULL, OPT_TO },
		{ "cert-out",	required_argument,	NULL, OPT_CERT_OUT },
		{ "key-out",	required_argument,	NULL, OPT_KEY_OUT },
		{ "chain-out",	required_argument,	NULL, OPT_CHAIN_OUT },
		{ "encrypt-key", no_argument,		NULL, OPT_ENCRYPT_KEY },
		{ "cert",	required_argument,	NULL, OPT_CERT },
		{ "key",	required_argument,	NULL, OPT_KEY },
		{ "chain",	required_argument,	NULL, OPT_CHAIN },
		{ "out",	required_argument,	NULL, OPT_OUT },
		{ "legacy",	no_argument,		NULL, OPT_LEGACY },
		{ "password-file", required_argument,	NULL,
		    OPT_PASSWORD_FILE },
		{ "help",	no_argument,		NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
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

	(void)ctx;
	memset(&set, 0, sizeof(set));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
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
		case OPT_HELP:
			return pki_cli_help("convert");
		default:
			return cmd_usage(cmd_find("convert"));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || to == NULL)
		return cmd_usage(cmd_find("convert"));
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

/* ---- check ---------------------------------------------------------------- */

int
cmd_check(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key",	required_argument,	NULL, OPT_KEY },
		{ "host",	required_argument,	NULL, OPT_HOST },
		{ "purpose",	required_argument,	NULL, OPT_PURPOSE },
		{ "ca-file",	required_argument,	NULL, OPT_CA_FILE },
		{ "min-days",	required_argument,	NULL, OPT_MIN_DAYS },
		{ "json",	no_argument,		NULL, OPT_JSON },
		{ "password-file", required_argument,	NULL,
		    OPT_PASSWORD_FILE },
		{ "help",	no_argument,		NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct pki_check_opts	 o;
	struct pki_check_list	 l;
	struct pki_cli_set	 set;
	struct x509_file	*f = NULL, *kf = NULL;
	struct x509_cert	*c;
	struct cv_err		 err;
	gnutls_x509_privkey_t	 key = NULL;
	const char		*keyf = NULL, *pwfile = NULL;
	char			*pw = NULL, up[41];
	json_t			*j, *arr;
	unsigned		 days;
	size_t			 i;
	int			 ch, json = 0, leaf, k, rc = CMD_EXIT_FAIL;

	(void)ctx;
	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	memset(&set, 0, sizeof(set));
	o.min_days = -1;
	o.purpose = PKI_PURPOSE_SERVER;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_KEY:		keyf = optarg; break;
		case OPT_HOST:		o.host = optarg; break;
		case OPT_CA_FILE:	o.ca_file = optarg; break;
		case OPT_JSON:		json = 1; break;
		case OPT_PASSWORD_FILE:	pwfile = optarg; break;
		case OPT_PURPOSE:
			if (pki_purpose_parse(optarg, &o.purpose, &err) == -1) {
				cmd_err("%s", err.msg);
				return CMD_EXIT_USAGE;
			}
			break;
		case OPT_MIN_DAYS:
			if (pki_cli_unsigned("--min-days", optarg, 36500,
			    &days) == -1)
				return CMD_EXIT_USAGE;
			o.min_days = days;
			break;
		case OPT_HELP:
			return pki_cli_help("check");
		default:
			return cmd_usage(cmd_find("check"));
		}
	}
	if (optind + 1 != argc)
		return cmd_usage(cmd_find("check"));
	if (pki_cli_password(pwfile, &pw) == -1)
		return CMD_EXIT_USAGE;
	if ((f = pki_cli_set_load(&set, "", argv[optind], pw)) == NULL)
		goto out;
	if ((leaf = pki_file_leaf(f)) == -1) {
		cmd_err("%s: no certificate found", argv[optind]);
		goto out;
	}
	pki_cli_set_chain(&set, f, leaf);
	if (keyf != NULL) {
		if ((kf = pki_cli_set_load(&set, "--key ", keyf, pw)) == NULL)
			goto out;
		if (kf->nkeys == 0) {
			cmd_err("--key %s: no private key in the file", keyf);
			goto out;
		}
		key = kf->keys[0].key;
	} else if ((k = pki_file_key_of(f, (size_t)leaf)) != -1)
		key = f->keys[k].key;
	else if (f->nkeys > 0)
		key = f->keys[0].key;
	o.now = timeutil_now();
	if (pki_check(f->certs[leaf].crt, set.chain, set.nchain, key, &o, &l,
	    &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	c = &f->certs[leaf];
	if (json) {
		j = json_object();
		json_object_set_new(j, "path", json_string(f->path));
		json_object_set_new(j, "sha1", json_string(c->sha1));
		json_object_set_new(j, "subject", json_string(c->subject));
		json_object_set_new(j, "ok", json_boolean(l.nfail == 0));
		arr = json_array();
		for (i = 0; i < l.n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
			    "rule", l.v[i].rule, "status",
			    pki_check_status_name(l.v[i].status), "detail",
			    l.v[i].detail));
		json_object_set_new(j, "results", arr);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(j);
	} else {
		printf("%s: %s (thumbprint %s)\n", f->path, c->subject,
		    x509_sha1_upper(c->sha1, up));
		for (i = 0; i < l.n; i++)
			printf("%s  %-10s %s\n",
			    pki_check_status_name(l.v[i].status), l.v[i].rule,
			    l.v[i].detail);
		printf("%s: %u failed, %u warning%s\n", l.nfail ? "FAILED" :
		    "OK", l.nfail, l.nwarn, l.nwarn == 1 ? "" : "s");
	}
	rc = l.nfail == 0 ? CMD_EXIT_OK : CMD_EXIT_FAIL;
out:
	pki_check_list_free(&l);
	pki_cli_set_free(&set);
	freezero_str(pw);
	return rc;
}

/* ---- deploy-client -------------------------------------------------------- */

/* An absolute form of path for config.ini, which the agent reads from
 * elsewhere.  Caller frees. */
static char *
pki_cli_abspath(const char *path)
{
	char	cwd[PATH_MAX], *s;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	xasprintf(&s, "%s/%s", cwd, path);
	return s;
}

/*
 * Writes data to path unless it already holds exactly that with that
 * mode.  Sets *changed.
 */
static int
pki_cli_deploy_file(const char *path, const gnutls_datum_t *d, mode_t mode,
    int *changed)
{
	struct stat	 st;
	struct cv_err	 err;
	unsigned char	*old = NULL;
	size_t		 len = 0;
	int		 same = 0;

	*changed = 0;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == mode &&
	    fsutil_read_file(path, FSUTIL_MAX_FILE, &old, &len, &err) == 0) {
		same = len == d->size && memcmp(old, d->data, len) == 0;
		explicit_bzero(old, len);
		free(old);
	}
	if (same)
		return 0;
	if (pki_write(path, d, mode, &err) == -1) {
		cmd_err("%s", err.msg);
		return -1;
	}
	*changed = 1;
	return 0;
}

/* Creates the parent of path: ancestors 0755, the parent itself mode. */
static int
pki_cli_mkparent(const char *path, mode_t mode)
{
	struct cv_err	 err;
	struct stat	 st;
	char		*copy = xstrdup(path), *dir, *up;
	int		 rc = -1;

	dir = dirname(copy);
	if (stat(dir, &st) == 0) {
		rc = 0;
		goto out;
	}
	up = xstrdup(dir);
	if (fsutil_mkdirs(dirname(up), 0755, &err) == -1) {
		free(up);
		cmd_err("%s", err.msg);
		goto out;
	}
	free(up);
	/* The umask must not loosen nor tighten what was asked for. */
	if ((mkdir(dir, mode) == -1 && errno != EEXIST) ||
	    chmod(dir, mode) == -1) {
		cmd_err("mkdir %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

int
cmd_deploy_client(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pfx",	required_argument,	NULL, OPT_PFX },
		{ "cert",	required_argument,	NULL, OPT_CERT },
		{ "key",	required_argument,	NULL, OPT_KEY },
		{ "cert-path",	required_argument,	NULL, OPT_CERT_PATH },
		{ "key-path",	required_argument,	NULL, OPT_KEY_PATH },
		{ "agent-config", required_argument,	NULL,
		    OPT_AGENT_CONFIG },
		{ "agent-section", required_argument,	NULL,
		    OPT_AGENT_SECTION },
		{ "password-file", required_argument,	NULL,
		    OPT_PASSWORD_FILE },
		{ "json",	no_argument,		NULL, OPT_JSON },
		{ "help",	no_argument,		NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct pki_cli_set	 set;
	struct cv_err		 err;
	gnutls_datum_t		 cd = { NULL, 0 }, kd = { NULL, 0 };
	const char		*pfx = NULL, *cert = NULL, *keyf = NULL;
	const char		*cert_path = DEPLOY_CERT_PATH;
	const char		*key_path = DEPLOY_KEY_PATH;
	const char		*agent = NULL, *pwfile = NULL;
	const char		**sections = NULL;
	char			*pw = NULL, *acert = NULL, *akey = NULL;
	json_t			*j = NULL;
	size_t			 nsections = 0;
	int			 ch, json = 0, ccert, ckey, ccfg = 0;
	int			 rc = CMD_EXIT_FAIL;

	(void)ctx;
	memset(&set, 0, sizeof(set));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_PFX:		pfx = optarg; break;
		case OPT_CERT:		cert = optarg; break;
		case OPT_KEY:		keyf = optarg; break;
		case OPT_CERT_PATH:	cert_path = optarg; break;
		case OPT_KEY_PATH:	key_path = optarg; break;
		case OPT_AGENT_CONFIG:	agent = optarg; break;
		case OPT_PASSWORD_FILE:	pwfile = optarg; break;
		case OPT_JSON:		json = 1; break;
		case OPT_AGENT_SECTION:
			sections = xreallocarray(sections, nsections + 1,
			    sizeof(*sections));
			sections[nsections++] = optarg;
			break;
		case OPT_HELP:
			rc = pki_cli_help("deploy-client");
			goto out;
		default:
			rc = cmd_usage(cmd_find("deploy-client"));
			goto out;
		}
	}
	if (optind != argc || (pfx == NULL) == (cert == NULL) ||
	    (pfx != NULL && keyf != NULL) || (nsections > 0 && !agent)) {
		if (optind == argc)
			cmd_err("give --pfx FILE, or --cert FILE [--key FILE]"
			    "%s", nsections > 0 && !agent ? "; "
			    "--agent-section needs --agent-config" : "");
		rc = cmd_usage(cmd_find("deploy-client"));
		goto out;
	}
	if (strcmp(cert_path, key_path) == 0) {
		cmd_err("--cert-path and --key-path are the same file");
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	/* A missing config.ini fails before anything is written. */
	if (agent != NULL && access(agent, R_OK | W_OK) == -1) {
		cmd_err("%s: %s", agent, strerror(errno));
		goto out;
	}
	if (pki_cli_password(pwfile, &pw) == -1)
		goto out;
	if (pki_cli_gather(&set, pfx, cert, keyf, NULL, pw) == -1)
		goto out;
	if (set.key == NULL) {
		cmd_err("%s: no private key (give --key)", pfx ? pfx : cert);
		goto out;
	}
	if (pki_crts_pem(&set.leaf, 1, &cd, &err) == -1 ||
	    pki_key_pem(set.key, NULL, &kd, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (pki_cli_mkparent(cert_path, 0755) == -1 ||
	    pki_cli_mkparent(key_path, 0700) == -1)
		goto out;
	if (pki_cli_deploy_file(cert_path, &cd, 0644, &ccert) == -1 ||
	    pki_cli_deploy_file(key_path, &kd, 0600, &ckey) == -1)
		goto out;
	if (agent != NULL) {
		acert = pki_cli_abspath(cert_path);
		akey = pki_cli_abspath(key_path);
		if (agentcfg_set_client_cert(agent, sections, nsections,
		    acert, akey, &ccfg, &err) == -1) {
			cmd_err("%s", err.msg);
			goto out;
		}
	}
	if (json) {
		j = json_pack("{s:{s:s,s:s},s:{s:s,s:s}}",
		    "cert", "path", cert_path, "status",
		    ccert ? "written" : "unchanged",
		    "key", "path", key_path, "status",
		    ckey ? "written" : "unchanged");
		if (agent != NULL)
			json_object_set_new(j, "agent_config", json_pack(
			    "{s:s,s:s}", "path", agent, "status", ccfg ?
			    "updated" : "unchanged"));
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(j);
	} else {
		printf("cert: %s: %s\n", cert_path, ccert ? "written" :
		    "unchanged");
		printf("key: %s: %s\n", key_path, ckey ? "written" :
		    "unchanged");
		if (agent != NULL)
			printf("agent config: %s: %s\n", agent, ccfg ?
			    "updated" : "unchanged");
	}
	rc = CMD_EXIT_OK;
out:
	if (kd.data != NULL) {
		explicit_bzero(kd.data, kd.size);
		gnutls_free(kd.data);
	}
	if (cd.data != NULL)
		gnutls_free(cd.data);
	free(acert);
	free(akey);
	free(sections);
	pki_cli_set_free(&set);
	freezero_str(pw);
	return rc;
}
