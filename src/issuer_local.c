/*
 * type = local: the daemon's own CA signs at once.  Keys: ca_cert,
 * ca_key, days.  The CA certificate is the chain check's trust anchor
 * unless ca_file is set.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "issuer.h"
#include "pki.h"
#include "x509.h"
#include "xmalloc.h"

struct issuer_local {
	char		*ca_cert;
	char		*ca_key;
	unsigned	 days;		/* 0: the toolbox default */
};

static void *
issuer_local_new(void)
{
	return xcalloc(1, sizeof(struct issuer_local));
}

static void
issuer_local_free(void *p)
{
	struct issuer_local	*c = p;

	if (c == NULL)
		return;
	free(c->ca_cert);
	free(c->ca_key);
	free(c);
}

static int
issuer_local_key(struct issuer *is, const char *k, const char *v,
    struct cv_err *err)
{
	struct issuer_local	*c = is->cfg;
	char			*end;
	long			 n;

	if (!strcmp(k, "ca_cert"))
		return binding_path(k, v, &c->ca_cert, err);
	if (!strcmp(k, "ca_key"))
		return binding_path(k, v, &c->ca_key, err);
	if (strcmp(k, "days") != 0)
		return 1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > PKI_DAYS_MAX)
		return cv_err_set(err, "days: '%s' is not a number from 1 to "
		    "%u", v, PKI_DAYS_MAX);
	c->days = (unsigned)n;
	return 0;
}

static int
issuer_local_finish(struct issuer *is, struct cv_err *err)
{
	struct issuer_local	*c = is->cfg;

	if (c->ca_cert == NULL || c->ca_key == NULL)
		return cv_err_set(err, "[issuer %s] (local) needs ca_cert and "
		    "ca_key", is->name);
	if (is->trust == NULL)
		is->trust = c->ca_cert;
	return 0;
}

static gnutls_x509_crt_t
issuer_local_load_ca(const char *path, struct cv_err *err)
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

/* The pending key (so a second run signs the same key), a CSR, the CA's
 * signature, the set into the store. */
static int
issuer_local_request(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	const struct issuer_local *c = job->is->cfg;
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	struct pki_issue	 pi;
	char			 sha1[41];
	int			 rc = -1;

	memset(&pi, 0, sizeof(pi));
	if (issuer_pending_key(job, &key, err) == -1 ||
	    issuer_make_csr(job->b, key, &pi.crq, err) == -1)
		goto out;
	if ((pi.ca_crt = issuer_local_load_ca(c->ca_cert, err)) == NULL)
		goto out;
	if (pki_key_load(c->ca_key, NULL, &pi.ca_key, err) == -1) {
		cv_err_prefix(err, "ca_key");
		goto out;
	}
	pi.purpose = job->b->is_client ? PKI_PURPOSE_CLIENT :
	    PKI_PURPOSE_SERVER;
	pi.days = c->days;
	pi.now = job->now;
	if (pki_ca_issue(&pi, &crt, err) == -1 ||
	    store_put(job->st, job->id, crt, &pi.ca_crt, 1, key, sha1,
	    err) == -1)
		goto out;
	rc = issuer_ready(r, sha1);
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

/* Never awaited: a request either stored the set or failed.  A renewal
 * found waiting anyway (a journal from elsewhere) signs again. */
static int
issuer_local_collect(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	return issuer_local_request(job, r, err);
}

const struct issuer_type issuer_type_local = {
	.name = "local",
	.cfg_new = issuer_local_new,
	.cfg_free = issuer_local_free,
	.set_key = issuer_local_key,
	.finish = issuer_local_finish,
	.request = issuer_local_request,
	.collect = issuer_local_collect,
};
