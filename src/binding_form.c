/*
 * Issue 14, forms: what a binding deploys besides cert_file, key_file and
 * the chain files -- one PEM of leaf, chain and key (combined_file), and
 * PKCS#12 (pfx_file) with the password the service opens it with -- and
 * reading the leaf back from each form for drift.  Blocking: deployment
 * runs on a worker thread, the reads for drift on the pool (deployed.c).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "binding.h"
#include "fsutil.h"
#include "pki.h"
#include "store.h"
#include "x509.h"
#include "xmalloc.h"

/* A password file is one line; a bigger one is not what was meant. */
#define BINDING_PFX_PW_MAX	4096

size_t
binding_nforms(const struct binding *b)
{
	return 1 + (b->fullchain_file != NULL) + (b->combined_file != NULL) +
	    (b->pfx_file != NULL);
}

int
binding_form_at(const struct binding *b, size_t i, struct binding_form *fm)
{
	const struct binding_form all[] = {
		{ "cert_file", b->cert_file, NULL },
		{ "fullchain_file", b->fullchain_file, NULL },
		{ "combined_file", b->combined_file, NULL },
		{ "pfx_file", b->pfx_file, b->pfx_password_file },
	};
	size_t	k, n = 0;

	for (k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
		if (all[k].path == NULL)
			continue;
		if (n++ == i) {
			*fm = all[k];
			return 0;
		}
	}
	memset(fm, 0, sizeof(*fm));
	return -1;
}

/*
 * Root reads the file in a directory a service user may own: no symlink,
 * no hard link (either could point root at another secret, whose first
 * line would become the PFX's password), no symlink among the directories
 * above it but root's own (the user could swap a subdirectory of its own
 * for a link to root's directory holding a file of that name), and not
 * one every user may read or write -- a password anyone can read protects
 * nothing, and one anyone can write decides the key's protection.
 */
int
binding_pfx_password(const char *path, char **pw, struct cv_err *err)
{
	struct stat	 st;
	unsigned char	*data = NULL;
	size_t		 len = 0, n;
	int		 fd, rc = -1;

	*pw = NULL;
	if ((fd = fsutil_open(path, FSUTIL_NOFOLLOW | FSUTIL_ONE_LINK |
	    FSUTIL_WALK_DIRS, &st, err)) == -1) {
		cv_err_prefix(err, "pfx_password_file: %s", path);
		return -1;
	}
	if (st.st_mode & 0007) {
		cv_err_set(err, "pfx_password_file: %s: every user may %s it "
		    "(chmod o-rwx)", path, st.st_mode & 0004 ? "read" :
		    "change");
		goto out;
	}
	if (fsutil_read_fd(fd, &st, BINDING_PFX_PW_MAX, &data, &len,
	    err) == -1) {
		cv_err_prefix(err, "pfx_password_file: %s", path);
		goto out;
	}
	for (n = 0; n < len; n++)
		if (data[n] == '\n' || data[n] == '\r')
			break;
	data[n] = '\0';
	if (n == 0) {
		cv_err_set(err, "pfx_password_file: %s: the first line is "
		    "empty (a PKCS#12 file needs a password)", path);
		goto out;
	}
	*pw = xstrdup((char *)data);
	rc = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	close(fd);
	return rc;
}

void
binding_form_combined(const struct store_set *s, unsigned char **out,
    size_t *len)
{
	size_t	n = s->cert_len + s->chain_len + s->key_len;

	/* leaf, chain, key: HAProxy and lighttpd take any order; this is
	 * the one their documentation shows. */
	*out = xmalloc(n + 1);
	memcpy(*out, s->cert, s->cert_len);
	if (s->chain_len)
		memcpy(*out + s->cert_len, s->chain, s->chain_len);
	memcpy(*out + s->cert_len + s->chain_len, s->key, s->key_len);
	*len = n;
}

/* The store's PEM into GnuTLS objects: leaf, chain (maybe none), key. */
static int
binding_form_parse(const struct store_set *s, gnutls_x509_crt_t **crts,
    unsigned *ncrts, gnutls_x509_crt_t **chain, unsigned *nchain,
    gnutls_x509_privkey_t *key, struct cv_err *err)
{
	gnutls_datum_t	d;
	int		rc;

	d.data = s->cert;
	d.size = (unsigned)s->cert_len;
	if ((rc = gnutls_x509_crt_list_import2(crts, ncrts, &d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || *ncrts == 0)
		return cv_err_set(err, "stored certificate: %s",
		    x509_strerror(rc));
	if (s->chain_len > 0) {
		d.data = s->chain;
		d.size = (unsigned)s->chain_len;
		if ((rc = gnutls_x509_crt_list_import2(chain, nchain, &d,
		    GNUTLS_X509_FMT_PEM, 0)) < 0)
			return cv_err_set(err, "stored chain: %s",
			    x509_strerror(rc));
	}
	d.data = s->key;
	d.size = (unsigned)s->key_len;
	if ((rc = gnutls_x509_privkey_init(key)) < 0 ||
	    (rc = gnutls_x509_privkey_import2(*key, &d, GNUTLS_X509_FMT_PEM,
	    NULL, 0)) < 0)
		return cv_err_set(err, "stored key: %s", x509_strerror(rc));
	return 0;
}

static void
binding_form_crts_free(gnutls_x509_crt_t *v, unsigned n)
{
	unsigned	i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(v[i]);
	gnutls_free(v);
}

int
binding_form_pfx(const struct binding *b, const struct store_set *s,
    unsigned char **out, size_t *len, struct cv_err *err)
{
	gnutls_x509_crt_t	*crts = NULL, *chain = NULL;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_datum_t		 d = { NULL, 0 };
	unsigned		 ncrts = 0, nchain = 0;
	char			*pw = NULL;
	int			 rc = -1;

	*out = NULL;
	*len = 0;
	if (binding_pfx_password(b->pfx_password_file, &pw, err) == -1)
		return -1;
	if (binding_form_parse(s, &crts, &ncrts, &chain, &nchain, &key,
	    err) == -1 || pki_pkcs12_make(crts[0], chain, nchain, key, pw,
	    b->pfx_legacy, &d, err) == -1) {
		cv_err_prefix(err, "pfx_file %s", b->pfx_file);
		goto out;
	}
	*out = xmalloc(d.size);
	memcpy(*out, d.data, d.size);
	*len = d.size;
	rc = 0;
out:
	gnutls_free(d.data);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	binding_form_crts_free(crts, ncrts);
	binding_form_crts_free(chain, nchain);
	freezero_str(pw);
	return rc;
}

int
binding_form_sha1(const char *path, const char *password_file,
    char sha1[41], time_t *nb, time_t *na, struct cv_err *err)
{
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	char			*pw = NULL;
	int			 leaf, rc = -1;

	sha1[0] = '\0';
	memset(&o, 0, sizeof(o));
	if (password_file != NULL) {
		if (binding_pfx_password(password_file, &pw, err) == -1)
			return -1;
		o.password = pw;
	}
	/* A deploy path: its directory walked, as the writes do. */
	if (x509_load_path(path, FSUTIL_WALK_DIRS, &o, &f, err) == -1)
		goto out;
	if ((leaf = pki_file_leaf(f)) == -1) {
		cv_err_set(err, "%s: no certificate in the file", path);
		goto out;
	}
	memcpy(sha1, f->certs[leaf].sha1, 41);
	if (nb != NULL)
		*nb = f->certs[leaf].not_before;
	if (na != NULL)
		*na = f->certs[leaf].not_after;
	rc = 0;
out:
	x509_file_free(f);
	freezero_str(pw);
	return rc;
}
