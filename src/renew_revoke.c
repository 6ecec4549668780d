/*
 * The "revoke" request (issue 17): a certificate of an ACME issuer is
 * revoked at its CA (acme_revoke.c, on a worker thread of the engine's,
 * never the loop), a "revoked" event is recorded, and the binding that
 * served it is renewed at once.  Which issuer: the binding's, for NAME;
 * for a SHA1, the binding that serves it, else the binding whose store
 * kept it (then nothing is renewed).  Loop thread, as renew.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "acme_revoke.h"
#include "fsutil.h"
#include "inventory.h"
#include "log.h"
#include "proto.h"
#include "renew_int.h"
#include "timeutil.h"
#include "xmalloc.h"

#define REVOKE_MAX_PEM	(64 * 1024)

struct renew_revoke {
	struct worker_job	 job;
	struct renewer		*r;
	struct config		*cf;		/* ref: is lives in it */
	const struct issuer	*is;
	char			 sha1[41];
	char			*binding;	/* whose issuer it is */
	int			 served;	/* binding serves sha1 */
	char			*cert_path;	/* the store's leaf */
	char			*event_path;	/* cert_file, when served */
	char			*reason_name;
	int			 reason;	/* -1: none sent */
	time_t			 now;
	int			 rc;
	struct cv_err		 err;
	renew_revoke_cb		 cb;
	void			*arg;
};

static void
renew_revoke_free(struct renew_revoke *rv)
{
	if (rv->cf != NULL)
		conf_unref(rv->cf);
	free(rv->binding);
	free(rv->cert_path);
	free(rv->event_path);
	free(rv->reason_name);
	free(rv);
}

static int
renew_revoke_is_sha1(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return i == 40;
}

/* The leaf the store kept for sha1, as DER, checked against sha1. */
static int
renew_revoke_der(struct renew_revoke *rv, gnutls_datum_t *der,
    struct cv_err *err)
{
	gnutls_x509_crt_t	 crt = NULL;
	unsigned char		*pem = NULL, fp[20];
	size_t			 n = 0, fl = sizeof(fp), i;
	gnutls_datum_t		 d;
	char			 hex[41];
	int			 rc = -1;

	if (access(rv->cert_path, F_OK) == -1 && errno == ENOENT)
		return cv_err_set(err, "%s: not an ACME certificate (certvigil "
		    "did not issue it: it is not in the store)", rv->sha1);
	if (fsutil_read_file(rv->cert_path, REVOKE_MAX_PEM, &pem, &n,
	    err) == -1)
		return -1;
	d.data = pem;
	d.size = (unsigned)n;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, fp,
	    &fl) < 0 || gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
	    der) < 0) {
		cv_err_set(err, "%s: unreadable", rv->cert_path);
		goto out;
	}
	for (i = 0; i < fl; i++)
		snprintf(hex + 2 * i, 3, "%02x", fp[i]);
	if (strcmp(hex, rv->sha1) != 0) {
		cv_err_set(err, "%s holds %s", rv->cert_path, hex);
		goto out;
	}
	rc = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(pem);
	return rc;
}

/* The worker thread: the store's leaf, then revokeCert. */
static void
renew_revoke_work(struct worker_job *j)
{
	struct renew_revoke	*rv = j->data;
	gnutls_datum_t		 der = { NULL, 0 };

	rv->rc = -1;
	if (renew_revoke_der(rv, &der, &rv->err) == 0)
		rv->rc = acme_revoke(rv->is, rv->r->state_dir, der.data,
		    der.size, rv->reason, rv->now, &rv->err);
	gnutls_free(der.data);
}

/* Revoked: the served binding's renewal starts (unless one runs). */
static json_t *
renew_revoke_renew(struct renew_revoke *rv)
{
	struct renewer	*r = rv->r;
	struct binding	*b;
	struct renew	*rw;
	struct cv_err	 e;
	char		 ch[41];

	if (!rv->served)
		return json_null();
	if ((rw = renew_find(r, rv->binding)) != NULL)
		return json_integer(rw->id);
	if ((b = renew_effective(r, rv->binding, ch, &e)) == NULL) {
		log_warn("revoke: %s: no renewal: %s", rv->binding, e.msg);
		return json_null();
	}
	if (renew_start(r, b, ch, "revoked", &e) == -1) {
		log_warn("revoke: %s: no renewal: %s", rv->binding, e.msg);
		return json_null();
	}
	rw = renew_find(r, rv->binding);
	return rw != NULL ? json_integer(rw->id) : json_null();
}

static void
renew_revoke_done(struct worker_job *j)
{
	struct renew_revoke	*rv = j->data;
	json_t			*res;

	if (rv->r->closing)
		rv->cb(rv->arg, NULL, PROTO_E_BUSY, rv->rc == 0 ?
		    "revoked, but the daemon is shutting down: renew the "
		    "binding after its restart" : "the daemon is shutting down");
	else if (rv->rc == -1) {
		log_info("revoke %s (issuer %s): %s", rv->sha1, rv->is->name,
		    rv->err.msg);
		rv->cb(rv->arg, NULL, PROTO_E_BAD_REQUEST, rv->err.msg);
	} else {
		inventory_add_event(rv->r->inv, timeutil_now(), "revoked",
		    rv->event_path, rv->sha1, "%s: revoked by issuer %s "
		    "(reason %s)", rv->binding, rv->is->name, rv->reason_name);
		res = json_pack("{s:s, s:s, s:s, s:s}", "sha1", rv->sha1,
		    "issuer", rv->is->name, "reason", rv->reason_name,
		    "from_binding", rv->binding);
		json_object_set_new(res, "binding", rv->served ?
		    json_string(rv->binding) : json_null());
		json_object_set_new(res, "renewal", renew_revoke_renew(rv));
		rv->cb(rv->arg, res, NULL, NULL);
	}
	renew_revoke_free(rv);
}

/* NAME or SHA1 -> the certificate, its binding and its ACME issuer. */
static int
renew_revoke_target(struct renewer *r, struct renew_revoke *rv,
    const char *target, const char **code, struct cv_err *err)
{
	struct binding	*b;
	char		 ch[41];
	int		 rc;
	size_t		 i;

	*code = PROTO_E_NOT_FOUND;
	if (renew_revoke_is_sha1(target)) {
		for (i = 0; i < 40; i++)
			rv->sha1[i] = (char)tolower((unsigned char)target[i]);
		if ((rc = journal_cert_binding(r->j, rv->sha1, &rv->binding,
		    &rv->served)) == -1)
			return cv_err_set(err, "the journal cannot be read");
		if (rc == 1)
			return cv_err_set(err, "%s: not an ACME certificate (no "
			    "binding serves it and certvigil did not issue "
			    "it)", rv->sha1);
	} else {
		rv->binding = xstrdup(target);
		rv->served = 1;
	}
	if ((b = renew_effective(r, rv->binding, ch, err)) == NULL)
		return -1;
	*code = PROTO_E_BAD_REQUEST;
	rc = -1;
	if (b->issuer == NULL ||
	    (rv->is = conf_issuer(r->cf, b->issuer)) == NULL)
		cv_err_set(err, "%s: not an ACME certificate (binding %s has "
		    "no issuer)", target, b->name);
	else if (strcmp(issuer_type_name(rv->is), "acme") != 0)
		cv_err_set(err, "%s: not an ACME certificate (binding %s's "
		    "issuer %s is of type %s)", target, b->name, rv->is->name,
		    issuer_type_name(rv->is));
	else if (rv->sha1[0] == '\0' && ch[0] == '\0')
		cv_err_set(err, "%s: serves no known certificate yet", target);
	else
		rc = 0;
	if (rc == 0 && rv->sha1[0] == '\0')
		memcpy(rv->sha1, ch, sizeof(rv->sha1));
	if (rc == 0 && rv->served)
		rv->event_path = xstrdup(b->cert_file);
	binding_free(b);
	return rc;
}

int
renew_revoke(struct renewer *r, const char *target, const char *reason,
    renew_revoke_cb cb, void *arg, const char **code, struct cv_err *err)
{
	struct renew_revoke	*rv;
	int			 rc;

	*code = PROTO_E_BAD_REQUEST;
	if (r->closing)
		return cv_err_set(err, "the daemon is shutting down");
	if (reason != NULL && acme_revoke_reason(reason) == -1)
		return cv_err_set(err, "reason '%s' is not one of %s", reason,
		    acme_revoke_reasons());
	rv = xcalloc(1, sizeof(*rv));
	rv->r = r;
	rv->reason = reason != NULL ? acme_revoke_reason(reason) : -1;
	rv->reason_name = xstrdup(reason != NULL ? reason : "unspecified");
	if (renew_revoke_target(r, rv, target, code, err) == -1) {
		renew_revoke_free(rv);
		return -1;
	}
	if (!r->worker_up) {
		if ((rc = worker_init(&r->worker, r->loop)) != 0) {
			renew_revoke_free(rv);
			*code = PROTO_E_INTERNAL;
			return cv_err_set(err, "worker: %s", uv_strerror(rc));
		}
		r->worker_up = 1;
	}
	rv->cf = conf_ref(r->cf);
	rv->cert_path = store_path(r->store, rv->sha1, STORE_CERT);
	rv->now = timeutil_now();
	rv->cb = cb;
	rv->arg = arg;
	rv->job.work = renew_revoke_work;
	rv->job.done = renew_revoke_done;
	rv->job.data = rv;
	worker_run(&r->worker, &rv->job);
	return 0;
}
