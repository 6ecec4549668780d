#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme_json.h"
#include "acme_order.h"
#include "ari.h"
#include "fsutil.h"
#include "http.h"
#include "issuer.h"
#include "jws.h"
#include "xmalloc.h"

#define ARI_CERT_MAX	(64 * 1024)

extern const struct issuer_type issuer_type_acme;

char *
ari_cert_id_raw(const unsigned char *aki, size_t aki_len,
    const unsigned char *serial, size_t serial_len)
{
	char	*a = jws_b64url(aki, aki_len), *s = jws_b64url(serial,
		    serial_len), *id;

	xasprintf(&id, "%s.%s", a, s);
	free(a);
	free(s);
	return id;
}

int
ari_cert_id(gnutls_x509_crt_t crt, char **id, struct cv_err *err)
{
	unsigned char	aki[128], serial[64];
	size_t		aki_len = sizeof(aki), serial_len = sizeof(serial);
	unsigned	crit;

	*id = NULL;
	if (gnutls_x509_crt_get_authority_key_id(crt, aki, &aki_len,
	    &crit) < 0 || aki_len == 0)
		return cv_err_set(err, "no authority key identifier (ARI "
		    "needs one)");
	/* GnuTLS gives the INTEGER's content bytes as encoded, a leading
	 * zero included, which is what RFC 9773 4.1 asks for. */
	if (gnutls_x509_crt_get_serial(crt, serial, &serial_len) < 0 ||
	    serial_len == 0)
		return cv_err_set(err, "no serial number");
	*id = ari_cert_id_raw(aki, aki_len, serial, serial_len);
	return 0;
}

int
ari_cert_id_file(const char *path, char **id, struct cv_err *err)
{
	gnutls_x509_crt_t	 crt = NULL;
	unsigned char		*data = NULL;
	size_t			 n = 0;
	gnutls_datum_t		 d;
	int			 rc = -1;

	*id = NULL;
	if (fsutil_read_file(path, ARI_CERT_MAX, &data, &n, err) == -1)
		goto out;
	d.data = data;
	d.size = (unsigned)n;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 &&
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0)) {
		cv_err_set(err, "no certificate");
		goto out;
	}
	rc = ari_cert_id(crt, id, err);
out:
	if (rc == -1)
		cv_err_prefix(err, "%s", path);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(data);
	return rc;
}

int
ari_issuer(const struct issuer *is, const char **directory,
    const char **ca_file, int64_t *poll)
{
	const struct acme_cfg	*c;

	if (is == NULL || is->type != &issuer_type_acme || is->cfg == NULL)
		return 0;
	c = is->cfg;
	if (c->no_ari)
		return 0;
	*directory = c->directory;
	*ca_file = c->directory_ca_file;
	*poll = c->ari_poll;
	return 1;
}

void
ari_order_replaces(const struct acme_ctx *c, json_t *payload)
{
	struct cv_err	 err;
	char		*path, *id = NULL;

	if (c->cfg->no_ari || c->job->certhash == NULL ||
	    *c->job->certhash == '\0' ||
	    c->s->dir.renewal_info == NULL)
		return;
	/* Only a certificate certvigil stored (the CA's, likely). */
	path = store_path(c->job->st, c->job->certhash, STORE_CERT);
	if (access(path, F_OK) == 0 &&
	    ari_cert_id_file(path, &id, &err) == 0)
		json_object_set_new(payload, "replaces", json_string(id));
	free(id);
	free(path);
}

int64_t
ari_clamp(int64_t s)
{
	return s < ARI_POLL_MIN ? ARI_POLL_MIN : s > ARI_POLL_MAX ?
	    ARI_POLL_MAX : s;
}

/* GET url into resp; -1 unless a 200 came. */
static int
ari_get(const char *url, const char *ca_file, struct http_resp *resp,
    struct cv_err *err)
{
	struct http_req	req;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.ca_file = ca_file;
	req.max_body = ACME_JSON_MAX;
	if (http_do(&req, resp, err) == -1)
		return -1;
	if (resp->status != 200)
		return cv_err_set(err, "GET %s: HTTP %ld", url, resp->status);
	return 0;
}

/* The directory's renewalInfo URL, NULL (no_ari set) when it has none. */
static int
ari_directory(const char *directory, const char *ca_file, char **url,
    struct ari_result *res, struct cv_err *err)
{
	struct http_resp	resp;
	struct acme_directory	d;
	int			rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(&d, 0, sizeof(d));
	*url = NULL;
	if (ari_get(directory, ca_file, &resp, err) == -1 ||
	    acme_directory_parse(resp.body, resp.body_len, &d, err) == -1)
		goto out;
	if (d.renewal_info == NULL)
		res->no_ari = 1;
	else
		*url = xstrdup(d.renewal_info);
	rc = 0;
out:
	acme_directory_free(&d);
	http_resp_free(&resp);
	return rc;
}

static int
ari_window(const char *url, const char *ca_file, time_t now,
    struct ari_result *res, struct cv_err *err)
{
	struct http_resp		resp;
	struct acme_renewal_info	ri;
	int64_t				s;
	int				rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(&ri, 0, sizeof(ri));
	if (ari_get(url, ca_file, &resp, err) == -1 ||
	    acme_renewal_info_parse(resp.body, resp.body_len, &ri,
	    err) == -1)
		goto out;
	res->has_window = 1;
	res->start = ri.start;
	res->end = ri.end;
	if (ri.explanation_url != NULL)
		res->explanation_url = xstrdup(ri.explanation_url);
	if (resp.retry_after != NULL &&
	    http_retry_after(resp.retry_after, now, &s) == 0)
		res->retry_s = ari_clamp(s);
	rc = 0;
out:
	acme_renewal_info_free(&ri);
	http_resp_free(&resp);
	return rc;
}

int
ari_fetch(const char *directory, const char *ca_file,
    const char *cert_path, int64_t poll, time_t now,
    struct ari_result *res)
{
	struct cv_err	 err;
	char		*base = NULL, *url = NULL;
	int		 rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&err, 0, sizeof(err));
	res->retry_s = ARI_POLL_ERROR;
	if (ari_cert_id_file(cert_path, &res->cert_id, &err) == -1 ||
	    ari_directory(directory, ca_file, &base, res, &err) == -1)
		goto out;
	if (base == NULL) {
		cv_err_set(&err, "the directory has no renewalInfo");
		res->retry_s = ARI_POLL_MAX;
		goto out;
	}
	xasprintf(&url, "%s%s%s", base, base[strlen(base) - 1] == '/' ?
	    "" : "/", res->cert_id);
	res->retry_s = ARI_POLL_DEFAULT;
	if (ari_window(url, ca_file, now, res, &err) == -1) {
		res->retry_s = ARI_POLL_ERROR;
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		res->error = xstrdup(err.msg);
	if (poll > 0)
		res->retry_s = poll;
	free(base);
	free(url);
	return rc;
}

void
ari_result_free(struct ari_result *res)
{
	free(res->cert_id);
	free(res->explanation_url);
	free(res->error);
	memset(res, 0, sizeof(*res));
}
