/*
 * What the PKI toolbox commands (cmd_csr.c, cmd_ca.c, cmd_convert.c,
 * cmd_check.c, cmd_deploy.c) share: numbers, passwords, writing keys and
 * certificates, and gathering a leaf, key and chain from files.  The work
 * is in pki.c; these only report it.
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
#include "cmd_pki.h"
#include "fsutil.h"
#include "pki.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

/* The subject options (PKI_CLI_SUBJECT_OPTS): 1 if ch was one. */
int
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

int
pki_cli_keygen_opt(int ch, struct pki_cli_keygen *kg)
{
	struct cv_err	err;

	switch (ch) {
	case OPT_KEY_TYPE:
		if (pki_key_type_parse(optarg, &kg->type, &err) == -1) {
			cmd_err("%s", err.msg);
			return -1;
		}
		return 1;
	case OPT_BITS:
		if (pki_cli_unsigned("--bits", optarg, 65536, &kg->bits) == -1)
			return -1;
		return 1;
	}
	return 0;
}

int
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
int
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

int
pki_cli_password(const char *file, char **pw)
{
	struct cv_err	err;

	*pw = NULL;
	if (file == NULL)
		return 0;
	if (fsutil_read_password_arg(file, pw, &err) == -1) {
		cmd_err("%s", err.msg);
		return -1;
	}
	return 0;
}

int
pki_cli_write_key(const char *path, gnutls_x509_privkey_t key,
    const char *password)
{
	gnutls_datum_t	d = { NULL, 0 };
	struct cv_err	err;
	int		rc = -1;

	if (pki_key_pem(key, password, &d, &err) == -1) {
		cmd_err("%s: %s", path, err.msg);
		goto out;
	}
	/* The writer's messages name the file already. */
	if (fsutil_mkparents(path, 0700, &err) == -1 ||
	    pki_write(path, &d, 0600, &err) == -1) {
		cmd_err("%s", err.msg);
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

int
pki_cli_write_crts(const char *path, gnutls_x509_crt_t *crts, size_t n)
{
	gnutls_datum_t	d;
	struct cv_err	err;
	int		rc;

	if (pki_crts_pem(crts, n, &d, &err) == -1) {
		cmd_err("%s: %s", path, err.msg);
		return -1;
	}
	rc = fsutil_mkparents(path, 0755, &err);
	if (rc == 0)
		rc = pki_write(path, &d, 0644, &err);
	gnutls_free(d.data);
	if (rc == -1)
		cmd_err("%s", err.msg);
	return rc;
}

void
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

void
pki_cli_set_free(struct pki_cli_set *s)
{
	size_t	i;

	for (i = 0; i < s->nfiles; i++)
		x509_file_free(s->files[i]);
	free(s->chain);
	memset(s, 0, sizeof(*s));
}

struct x509_file *
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

void
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
int
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

