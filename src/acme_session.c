#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acme_session.h"
#include "jws.h"
#include "xmalloc.h"

#define ACME_ERR_PREFIX		"urn:ietf:params:acme:error:"
#define ACME_NONCE_TRIES	12	/* badNonce retries of one POST: a CA
					 * may reject any nonce at random */

int
acme_session_open(struct acme_session *s, const char *url,
    const char *ca_file, gnutls_x509_privkey_t key, struct cv_err *err)
{
	struct http_req		 req;
	struct http_resp	 resp;
	int			 rc = -1;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	s->ca_file = ca_file;
	if (gnutls_privkey_init(&s->key) < 0 ||
	    gnutls_privkey_import_x509(s->key, key,
	    GNUTLS_PRIVKEY_IMPORT_COPY) < 0 ||
	    gnutls_pubkey_init(&s->pub) < 0 ||
	    gnutls_pubkey_import_privkey(s->pub, s->key, 0, 0) < 0) {
		cv_err_set(err, "account key: not usable for signing");
		goto out;
	}
	req.method = "GET";
	req.url = url;
	req.ca_file = ca_file;
	req.max_body = ACME_JSON_MAX;
	if (http_do(&req, &resp, err) == -1)
		goto out;
	if (resp.status != 200) {
		cv_err_set(err, "directory %s: HTTP %ld", url, resp.status);
		goto out;
	}
	/* acme_json.c checks every member: a hostile directory is refused
	 * whole, with the member it broke. */
	if (acme_directory_parse(resp.body, resp.body_len, &s->dir,
	    err) == -1) {
		cv_err_prefix(err, "%s", url);
		goto out;
	}
	rc = 0;
out:
	http_resp_free(&resp);
	return rc;
}

void
acme_session_close(struct acme_session *s)
{
	acme_directory_free(&s->dir);
	if (s->key != NULL)
		gnutls_privkey_deinit(s->key);
	if (s->pub != NULL)
		gnutls_pubkey_deinit(s->pub);
	free(s->nonce);
	free(s->kid);
	memset(s, 0, sizeof(*s));
}

const char *
acme_session_url(const struct acme_session *s, const char *name)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} urls[] = {
		{ "newNonce", offsetof(struct acme_directory, new_nonce) },
		{ "newAccount", offsetof(struct acme_directory, new_account) },
		{ "newOrder", offsetof(struct acme_directory, new_order) },
		{ "revokeCert", offsetof(struct acme_directory, revoke_cert) },
		{ "keyChange", offsetof(struct acme_directory, key_change) },
		{ "renewalInfo", offsetof(struct acme_directory,
		    renewal_info) },
	};
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (!strcmp(urls[i].name, name)) {
			v = *(char * const *)(const void *)((const char *)
			    &s->dir + urls[i].off);
			return v != NULL && *v != '\0' ? v : NULL;
		}
	return NULL;
}

static int
acme_session_new_nonce(struct acme_session *s, struct cv_err *err)
{
	struct http_req		 req;
	struct http_resp	 resp;
	int			 rc = -1;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = "HEAD";
	req.url = acme_session_url(s, "newNonce");
	req.ca_file = s->ca_file;
	if (http_do(&req, &resp, err) == -1)
		goto out;
	if (resp.replay_nonce == NULL) {
		cv_err_set(err, "newNonce: no Replay-Nonce (HTTP %ld)",
		    resp.status);
		goto out;
	}
	free(s->nonce);
	s->nonce = xstrdup(resp.replay_nonce);
	rc = 0;
out:
	http_resp_free(&resp);
	return rc;
}

/* An error reply: its problem (acme_problem_parse's line), or its
 * status; "later" for 429/503. */
static int
acme_session_failed(struct acme_session *s, const char *url,
    const struct http_resp *resp, int *bad_nonce, struct cv_err *err)
{
	struct acme_problem	 pr;
	struct cv_err		 e;
	int64_t			 secs;

	*bad_nonce = 0;
	if (acme_problem_parse(resp->body ? resp->body : "", resp->body_len,
	    &pr, &e) == 0) {
		*bad_nonce = pr.type != NULL &&
		    !strcmp(pr.type, ACME_ERR_PREFIX "badNonce");
		cv_err_set(err, "%s: %s", url, pr.line);
		acme_problem_free(&pr);
	} else
		cv_err_set(err, "%s: HTTP %ld", url, resp->status);
	if (resp->status == 429 || resp->status == 503) {
		secs = 60;
		if (resp->retry_after != NULL)
			http_retry_after(resp->retry_after, s->now, &secs);
		s->retry_after = secs > 0 ? secs : 1;
		return 1;
	}
	return -1;
}

int
acme_session_post(struct acme_session *s, const char *url,
    const char *payload, struct http_resp *resp, struct cv_err *err)
{
	struct http_req	 req;
	char		*body = NULL;
	int		 tries, bad, rc = -1;

	s->retry_after = 0;
	for (tries = 0; tries < ACME_NONCE_TRIES; tries++) {
		http_resp_free(resp);
		free(body);
		body = NULL;
		if (s->nonce == NULL && acme_session_new_nonce(s, err) == -1)
			goto out;
		if (jws_sign(s->key, s->kid, s->nonce, url, payload, &body,
		    err) == -1)
			goto out;
		free(s->nonce);	/* used: never sent twice */
		s->nonce = NULL;
		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.url = url;
		req.ca_file = s->ca_file;
		req.content_type = "application/jose+json";
		req.body = body;
		req.body_len = strlen(body);
		req.max_body = ACME_JSON_MAX;
		if (http_do(&req, resp, err) == -1)
			goto out;
		if (resp->replay_nonce != NULL)
			s->nonce = xstrdup(resp->replay_nonce);
		if (resp->status >= 200 && resp->status < 300) {
			rc = 0;
			goto out;
		}
		rc = acme_session_failed(s, url, resp, &bad, err);
		if (!bad || rc == 1)
			goto out;
		rc = -1;	/* badNonce: again with the fresh nonce */
	}
out:
	free(body);
	return rc;
}

/* The newAccount payload: lookup only, or creation. */
static char *
acme_session_account_payload(struct acme_session *s, int lookup,
    const char **contact, size_t ncontact, const char *eab_kid,
    const unsigned char *hmac, size_t hmac_len, struct cv_err *err)
{
	json_t	*o = json_object(), *c, *eab = NULL;
	char	*p = NULL;
	size_t	 i;

	if (lookup)
		json_object_set_new(o, "onlyReturnExisting", json_true());
	else {
		json_object_set_new(o, "termsOfServiceAgreed", json_true());
		c = json_array();
		for (i = 0; i < ncontact; i++)
			json_array_append_new(c, json_string(contact[i]));
		json_object_set_new(o, "contact", c);
		if (eab_kid != NULL) {
			if (jws_eab(s->pub, eab_kid, hmac, hmac_len,
			    acme_session_url(s, "newAccount"), &eab,
			    err) == -1)
				goto out;
			json_object_set_new(o, "externalAccountBinding", eab);
		}
	}
	p = json_dumps(o, JSON_COMPACT);
out:
	json_decref(o);
	return p;
}

int
acme_session_account(struct acme_session *s, const char **contact,
    size_t ncontact, const char *eab_kid, const unsigned char *hmac,
    size_t hmac_len, struct cv_err *err)
{
	struct http_resp	 resp;
	struct cv_err		 e;
	char			*p;
	int			 lookup, rc = -1;

	memset(&resp, 0, sizeof(resp));
	free(s->kid);
	s->kid = NULL;
	for (lookup = 1; lookup >= 0; lookup--) {
		p = acme_session_account_payload(s, lookup, contact, ncontact,
		    eab_kid, hmac, hmac_len, err);
		if (p == NULL)
			goto out;
		rc = acme_session_post(s, acme_session_url(s, "newAccount"),
		    p, &resp, lookup ? &e : err);
		free(p);
		if (rc == 0)
			break;
		if (rc == 1) {
			if (lookup)
				*err = e;
			goto out;
		}
		/* Only "no such account" sends us on to create it. */
		if (lookup && strstr(e.msg, "accountDoesNotExist") == NULL) {
			*err = e;
			goto out;
		}
	}
	if (rc != 0)
		goto out;
	if (resp.location == NULL) {
		rc = cv_err_set(err, "newAccount: no Location in the reply");
		goto out;
	}
	s->kid = xstrdup(resp.location);
out:
	http_resp_free(&resp);
	return rc;
}
