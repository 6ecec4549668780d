#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fsutil.h"
#include "issuer.h"
#include "pki.h"
#include "x509.h"
#include "xmalloc.h"

/* "CN=x, O=y, OU=z, L=.., ST=.., C=.." or a bare common name.  Pointers
 * into buf. */
static void
issuer_subject(const struct binding *b, char *buf, size_t len,
    struct pki_subject *s)
{
	char	*p, *tok, *save = NULL, host[256];

	memset(s, 0, sizeof(*s));
	snprintf(buf, len, "%s", b->subject ? b->subject : "");
	if (*buf != '\0' && strchr(buf, '=') == NULL) {
		s->cn = buf;
		return;
	}
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if ((p = strchr(tok, '=')) == NULL)
			continue;
		*p++ = '\0';
		if (!strcasecmp(tok, "CN"))
			s->cn = p;
		else if (!strcasecmp(tok, "O"))
			s->o = p;
		else if (!strcasecmp(tok, "OU"))
			s->ou = p;
		else if (!strcasecmp(tok, "L"))
			s->l = p;
		else if (!strcasecmp(tok, "ST"))
			s->st = p;
		else if (!strcasecmp(tok, "C"))
			s->c = p;
	}
	if (s->cn == NULL) {
		/* The host the binding serves, else its name. */
		if (binding_check_host(b, host, sizeof(host)) != NULL) {
			size_t	l = strlen(buf) + 1;

			if (l + strlen(host) + 1 <= len) {
				memcpy(buf + l, host, strlen(host) + 1);
				s->cn = buf + l;
				return;
			}
		}
		s->cn = b->name;
	}
}

static int
issuer_key(const struct issuer *is, const struct binding *b,
    gnutls_x509_privkey_t *key, struct cv_err *err)
{
	if (is->reuse_key && access(b->key_file, R_OK) == 0)
		return pki_key_load(b->key_file, NULL, key, err);
	return pki_key_generate(is->key_type, is->bits, key, err);
}

static int
issuer_csr(const struct binding *b, gnutls_x509_privkey_t key,
    gnutls_x509_crq_t *crq, struct cv_err *err)
{
	struct pki_subject	s;
	struct pki_san_list	san;
	char			buf[1024];
	int			rc;

	memset(&san, 0, sizeof(san));
	issuer_subject(b, buf, sizeof(buf), &s);
	if (b->san != NULL && pki_san_parse(b->san, &san, err) == -1)
		return -1;
	rc = pki_csr_make(&s, &san, key, crq, err);
	pki_san_list_free(&san);
	return rc;
}

static void
issuer_sha1(gnutls_x509_crt_t crt, char sha1[41])
{
	unsigned char	md[20];
	size_t		len = sizeof(md), i;

	sha1[0] = '\0';
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, md, &len)
	    < 0)
		return;
	for (i = 0; i < 20; i++)
		snprintf(sha1 + 2 * i, 3, "%02x", md[i]);
}

/* Writes the store entry of leaf (with its chain) and key. */
static int
issuer_store_put(const char *store, gnutls_x509_crt_t leaf,
    gnutls_x509_crt_t *chain, size_t nchain, gnutls_x509_privkey_t key,
    char sha1[41], struct cv_err *err)
{
	gnutls_datum_t	d = { NULL, 0 };
	char		*p = NULL;
	int		 rc = -1;

	if (fsutil_mkdirs(store, 0700, err) == -1)
		return -1;
	issuer_sha1(leaf, sha1);
	xasprintf(&p, "%s/%s.key", store, sha1);
	if (pki_key_pem(key, NULL, &d, err) == -1 ||
	    pki_write(p, &d, 0600, err) == -1)
		goto out;
	gnutls_free(d.data);
	d.data = NULL;
	free(p);
	xasprintf(&p, "%s/%s.chain.pem", store, sha1);
	if (nchain > 0) {
		if (pki_crts_pem(chain, nchain, &d, err) == -1 ||
		    pki_write(p, &d, 0644, err) == -1)
			goto out;
		gnutls_free(d.data);
		d.data = NULL;
	}
	free(p);
	/* The leaf last: its presence means the entry is complete. */
	xasprintf(&p, "%s/%s.pem", store, sha1);
	if (pki_crts_pem(&leaf, 1, &d, err) == -1 ||
	    pki_write(p, &d, 0644, err) == -1)
		goto out;
	rc = 0;
out:
	if (d.data != NULL)
		gnutls_free(d.data);
	free(p);
	return rc;
}

static gnutls_x509_crt_t
issuer_load_ca(const char *path, struct cv_err *err)
{
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	size_t			 i;

	memset(&o, 0, sizeof(o));
	if (x509_load_file(path, &o, &f, err) == -1)
		goto out;
	for (i = 0; i < f->ncerts; i++)
		if (f->certs[i].is_ca) {
			crt = f->certs[i].crt;
			f->certs[i].crt = NULL;
			goto out;
		}
	cv_err_set(err, "%s: no CA certificate in the file", path);
out:
	x509_file_free(f);
	return crt;
}

int
issuer_local(const struct issuer *is, const struct binding *b,
    const char *store, int64_t id, time_t now, char sha1[41],
    struct cv_err *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	struct pki_issue	 pi;
	int			 rc = -1;

	(void)id;
	memset(&pi, 0, sizeof(pi));
	if (issuer_key(is, b, &key, err) == -1 ||
	    issuer_csr(b, key, &pi.crq, err) == -1)
		goto out;
	if ((pi.ca_crt = issuer_load_ca(is->ca_cert, err)) == NULL)
		goto out;
	if (pki_key_load(is->ca_key, NULL, &pi.ca_key, err) == -1) {
		cv_err_prefix(err, "ca_key");
		goto out;
	}
	pi.purpose = b->is_client ? PKI_PURPOSE_CLIENT : PKI_PURPOSE_SERVER;
	pi.days = is->days;
	pi.now = now;
	if (pki_ca_issue(&pi, &crt, err) == -1)
		goto out;
	rc = issuer_store_put(store, crt, &pi.ca_crt, 1, key, sha1, err);
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (pi.crq != NULL)
		gnutls_x509_crq_deinit(pi.crq);
	if (pi.ca_crt != NULL)
		gnutls_x509_crt_deinit(pi.ca_crt);
	if (pi.ca_key != NULL)
		gnutls_x509_privkey_deinit(pi.ca_key);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

static char *
issuer_pending_path(const char *store, int64_t id)
{
	char	*p;

	xasprintf(&p, "%s/pending-%lld.key", store, (long long)id);
	return p;
}

int
issuer_request(const struct issuer *is, const struct binding *b,
    const char *store, int64_t id, const char *csr_path, struct cv_err *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crq_t	 crq = NULL;
	gnutls_datum_t		 d = { NULL, 0 };
	char			*kp = issuer_pending_path(store, id);
	int			 rc = -1;

	if (fsutil_mkdirs(store, 0700, err) == -1)
		goto out;
	if (access(kp, F_OK) == 0) {
		if (pki_key_load(kp, NULL, &key, err) == -1)
			goto out;
	} else {
		if (issuer_key(is, b, &key, err) == -1 ||
		    pki_key_pem(key, NULL, &d, err) == -1 ||
		    pki_write(kp, &d, 0600, err) == -1)
			goto out;
		gnutls_free(d.data);
		d.data = NULL;
	}
	if (issuer_csr(b, key, &crq, err) == -1 ||
	    pki_csr_pem(crq, &d, err) == -1 ||
	    pki_write(csr_path, &d, 0644, err) == -1)
		goto out;
	rc = 0;
out:
	if (d.data != NULL)
		gnutls_free(d.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	free(kp);
	return rc;
}

static int
issuer_cert_ext(const char *name)
{
	const char	*dot = strrchr(name, '.');

	return dot != NULL && (!strcasecmp(dot, ".cer") ||
	    !strcasecmp(dot, ".crt") || !strcasecmp(dot, ".pem") ||
	    !strcasecmp(dot, ".p7b"));
}

/* Tries one file: 0 found (stored), 1 not in it. */
static int
issuer_try_file(const char *store, const char *path,
    gnutls_x509_privkey_t key, const unsigned char kid[32], char sha1[41],
    struct cv_err *err)
{
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	gnutls_x509_crt_t	*chain = NULL;
	struct cv_err		 e;
	size_t			 i, n = 0, leaf = 0;
	int			 found = 0, rc = 1;

	memset(&o, 0, sizeof(o));
	if (x509_load_file(path, &o, &f, &e) == -1 || f == NULL)
		goto out;
	for (i = 0; i < f->ncerts; i++)
		if (!f->certs[i].is_ca &&
		    memcmp(f->certs[i].key_id, kid, 32) == 0) {
			leaf = i;
			found = 1;
			break;
		}
	if (!found)
		goto out;
	chain = xcalloc(f->ncerts + 1, sizeof(*chain));
	for (i = 0; i < f->ncerts; i++)
		if (i != leaf)
			chain[n++] = f->certs[i].crt;
	rc = issuer_store_put(store, f->certs[leaf].crt, chain, n, key, sha1,
	    err) == -1 ? -1 : 0;
out:
	free(chain);
	x509_file_free(f);
	return rc;
}

int
issuer_collect(const char *store, int64_t id, const char *path,
    char sha1[41], struct cv_err *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	unsigned char		 kid[32];
	char			*kp = issuer_pending_path(store, id), *fp;
	struct dirent		*de;
	DIR			*d = NULL;
	int			 rc = -1;

	if (pki_key_load(kp, NULL, &key, err) == -1 ||
	    x509_privkey_id(key, kid) == -1) {
		cv_err_prefix(err, "pending key");
		goto out;
	}
	if ((d = opendir(path)) == NULL) {
		if (errno != ENOTDIR) {
			rc = errno == ENOENT ? 1 : cv_err_set(err, "%s: %s",
			    path, strerror(errno));
			goto out;
		}
		rc = issuer_try_file(store, path, key, kid, sha1, err);
		goto out;
	}
	rc = 1;
	while (rc == 1 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !issuer_cert_ext(de->d_name))
			continue;
		xasprintf(&fp, "%s/%s", path, de->d_name);
		rc = issuer_try_file(store, fp, key, kid, sha1, err);
		free(fp);
	}
out:
	if (rc == 0)
		unlink(kp);	/* now STORE/<sha1>.key */
	if (d != NULL)
		closedir(d);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	free(kp);
	return rc;
}

int
issuer_validate(const struct issuer *is, const struct binding *b,
    const char *store, const char *sha1, time_t now, struct cv_err *err)
{
	struct pki_check_opts	 o;
	struct pki_check_list	 l;
	struct x509_load_opts	 lo;
	struct x509_file	*f = NULL, *kf = NULL, *cf = NULL;
	gnutls_x509_crt_t	 chain[16];
	char			*p = NULL, host[256], msg[400] = "";
	size_t			 i, n = 0, len;
	int			 rc = -1;

	memset(&l, 0, sizeof(l));
	memset(&lo, 0, sizeof(lo));
	xasprintf(&p, "%s/%s.pem", store, sha1);
	if (x509_load_file(p, &lo, &f, err) == -1 || f->ncerts == 0) {
		if (f != NULL && f->ncerts == 0)
			cv_err_set(err, "%s: no certificate", p);
		goto out;
	}
	free(p);
	xasprintf(&p, "%s/%s.key", store, sha1);
	if (x509_load_file(p, &lo, &kf, err) == -1 || kf->nkeys == 0) {
		if (kf != NULL && kf->nkeys == 0)
			cv_err_set(err, "%s: no key", p);
		goto out;
	}
	free(p);
	xasprintf(&p, "%s/%s.chain.pem", store, sha1);
	if (access(p, F_OK) == 0 && x509_load_file(p, &lo, &cf, err) == 0)
		for (i = 0; i < cf->ncerts && n < 16; i++)
			chain[n++] = cf->certs[i].crt;
	memset(&o, 0, sizeof(o));
	o.host = binding_check_host(b, host, sizeof(host));
	o.purpose = b->is_client ? PKI_PURPOSE_CLIENT : PKI_PURPOSE_SERVER;
	o.ca_file = is != NULL && is->ca_file ? is->ca_file :
	    is != NULL && is->type == ISSUER_LOCAL ? is->ca_cert : NULL;
	o.min_days = -1;
	o.now = now;
	if (pki_check(f->certs[0].crt, chain, n, kf->keys[0].key, &o, &l,
	    err) == -1)
		goto out;
	for (i = 0; i < l.n; i++) {
		if (l.v[i].status != PKI_CHECK_FAIL)
			continue;
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, "%s%s: %s", len ? "; " :
		    "", l.v[i].rule, l.v[i].detail);
	}
	if (l.nfail > 0) {
		cv_err_set(err, "the new certificate fails the checks: %s",
		    msg);
		goto out;
	}
	rc = 0;
out:
	pki_check_list_free(&l);
	x509_file_free(f);
	x509_file_free(kf);
	x509_file_free(cf);
	free(p);
	return rc;
}

void
issuer_store_remove(const char *store, const char *sha1)
{
	static const char	*ext[] = { "pem", "chain.pem", "key" };
	char			*p;
	size_t			 i;

	for (i = 0; i < 3; i++) {
		xasprintf(&p, "%s/%s.%s", store, sha1, ext[i]);
		unlink(p);
		free(p);
	}
}
