#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "acme_session.h"
#include "jws.h"
#include "xmalloc.h"

#define ACME_ERR_PREFIX		"urn:ietf:params:acme:error:"
#define ACME_NONCE_TRIES	12	/* badNonce retries of one POST: a CA
					 * may reject any nonce at random */
#define ACME_CACHE_MAX		32	/* entries of each cache */
#define ACME_DIR_TTL		300	/* s a fetched directory is used */

/*
 * What sessions learn that the next ones need not ask again (every
 * issuer call is a session, three or more a renewal, twenty renewals at
 * once): the directory body per URL and anchors (for ACME_DIR_TTL), and
 * the account URL per directory and account key (until the CA says it
 * does not know it).  Shared by the worker threads, under one lock.
 */
struct acme_cached {
	char	*key, *val;
	time_t	 at;		/* CLOCK_MONOTONIC s: test clocks move */
};

enum acme_bad {
	ACME_BAD_NONE,
	ACME_BAD_NONCE,		/* badNonce: again with a fresh nonce */
	ACME_BAD_ACCOUNT	/* accountDoesNotExist, unauthorized */
};

static pthread_mutex_t		acme_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct acme_cached	acme_dirs[ACME_CACHE_MAX];
static struct acme_cached	acme_kids[ACME_CACHE_MAX];

static time_t
acme_cache_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A copy of key's value (NULL: none, or older than ttl s when ttl > 0). */
static char *
acme_cache_get(struct acme_cached *t, const char *key, time_t ttl)
{
	char	*v = NULL;
	size_t	 i;

	pthread_mutex_lock(&acme_cache_mu);
	for (i = 0; i < ACME_CACHE_MAX; i++)
		if (t[i].key != NULL && !strcmp(t[i].key, key)) {
			if (ttl <= 0 || acme_cache_now() - t[i].at < ttl)
				v = xstrdup(t[i].val);
			break;
		}
	pthread_mutex_unlock(&acme_cache_mu);
	return v;
}

/* Sets key (val NULL: forgets it); a full table loses its oldest. */
static void
acme_cache_set(struct acme_cached *t, const char *key, const char *val)
{
	size_t	i, slot = 0;

	pthread_mutex_lock(&acme_cache_mu);
	for (i = 0; i < ACME_CACHE_MAX; i++) {
		if (t[i].key != NULL && !strcmp(t[i].key, key)) {
			slot = i;
			break;
		}
		if (t[i].key == NULL || (t[slot].key != NULL &&
		    t[i].at < t[slot].at))
			slot = i;
	}
	free(t[slot].key);
	free(t[slot].val);
	t[slot].key = val != NULL ? xstrdup(key) : NULL;
	t[slot].val = val != NULL ? xstrdup(val) : NULL;
	t[slot].at = acme_cache_now();
	pthread_mutex_unlock(&acme_cache_mu);
}

/* The kid cache's key: the directory and the account key's thumbprint. */
static char *
acme_session_kid_key(const struct acme_session *s)
{
	struct cv_err	 e;
	char		*thumb = NULL, *k;

	if (jws_thumbprint(s->pub, &thumb, &e) == -1)
		return NULL;
	xasprintf(&k, "%s\n%s", s->url, thumb);
	free(thumb);
	return k;
}

/* The directory, from the cache or fetched (and then cached). */
static int
acme_session_directory(struct acme_session *s, struct cv_err *err)
{
	struct http_req		 req;
	struct http_resp	 resp;
	char			*body;
	int			 rc = -1;

	if ((body = acme_cache_get(acme_dirs, s->dir_key, ACME_DIR_TTL)) !=
	    NULL) {
		rc = acme_directory_parse(body, strlen(body), &s->dir, err);
		free(body);
		if (rc == 0)
			return 0;
		acme_directory_free(&s->dir);
		memset(&s->dir, 0, sizeof(s->dir));
	}
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = "GET";
	req.url = s->url;
	req.ca_file = s->ca_file;
	req.max_body = ACME_JSON_MAX;
	if (http_do(&req, &resp, err) == -1)
		goto out;
	if (resp.status != 200) {
		cv_err_set(err, "directory %s: HTTP %ld", s->url, resp.status);
		goto out;
	}
	/* acme_json.c checks every member: a hostile directory is refused
	 * whole, with the member it broke (and never cached). */
	if (acme_directory_parse(resp.body, resp.body_len, &s->dir,
	    err) == -1) {
		cv_err_prefix(err, "%s", s->url);
		goto out;
	}
	acme_cache_set(acme_dirs, s->dir_key, resp.body);
	rc = 0;
out:
	http_resp_free(&resp);
	return rc;
}

int
acme_session_open(struct acme_session *s, const char *url,
    const char *ca_file, gnutls_x509_privkey_t key, struct cv_err *err)
{
	s->ca_file = ca_file;
	s->url = xstrdup(url);
	xasprintf(&s->dir_key, "%s\n%s", url, ca_file ? ca_file : "");
	if (gnutls_privkey_init(&s->key) < 0 ||
	    gnutls_privkey_import_x509(s->key, key,
	    GNUTLS_PRIVKEY_IMPORT_COPY) < 0 ||
	    gnutls_pubkey_init(&s->pub) < 0 ||
	    gnutls_pubkey_import_privkey(s->pub, s->key, 0, 0) < 0)
		return cv_err_set(err, "account key: not usable for signing");
	return acme_session_directory(s, err);
}

void
acme_session_forget(struct acme_session *s)
{
	if (s->dir_key != NULL)
		acme_cache_set(acme_dirs, s->dir_key, NULL);
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
	free(s->url);
	free(s->dir_key);
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
 * status; "later" for 429/503.  *bad: what the problem lets us mend. */
static int
acme_session_failed(struct acme_session *s, const char *url,
    const struct http_resp *resp, enum acme_bad *bad, struct cv_err *err)
{
	struct acme_problem	 pr;
	struct cv_err		 e;
	int64_t			 secs;

	*bad = ACME_BAD_NONE;
	if (acme_problem_parse(resp->body ? resp->body : "", resp->body_len,
	    &pr, &e) == 0) {
		if (pr.type != NULL && !strcmp(pr.type, ACME_ERR_PREFIX
		    "badNonce"))
			*bad = ACME_BAD_NONCE;
		else if (pr.type != NULL && (!strcmp(pr.type, ACME_ERR_PREFIX
		    "accountDoesNotExist") || !strcmp(pr.type,
		    ACME_ERR_PREFIX "unauthorized")))
			*bad = ACME_BAD_ACCOUNT;
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

static int	acme_session_lookup(struct acme_session *, struct cv_err *);

/*
 * The CA does not know (or no longer accepts) a kid this session did
 * not look up itself (the cache's, the progress record's): forget it,
 * look the account up again, once.  0: try the request again.
 */
static int
acme_session_relookup(struct acme_session *s, struct cv_err *err)
{
	char	*k;

	if (s->kid == NULL || !s->kid_known)
		return -1;
	s->kid_known = 0;
	if ((k = acme_session_kid_key(s)) != NULL) {
		acme_cache_set(acme_kids, k, NULL);
		free(k);
	}
	return acme_session_lookup(s, err);
}

/* One signed POST with the nonce at hand (a fresh one when none). */
static int
acme_session_post1(struct acme_session *s, const char *url,
    const char *payload, struct http_resp *resp, char **body,
    struct cv_err *err)
{
	struct http_req	req;

	http_resp_free(resp);
	free(*body);
	*body = NULL;
	if (s->nonce == NULL && acme_session_new_nonce(s, err) == -1)
		return -1;
	if (jws_sign(s->key, s->kid, s->nonce, url, payload, body,
	    err) == -1)
		return -1;
	free(s->nonce);	/* used: never sent twice */
	s->nonce = NULL;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.ca_file = s->ca_file;
	req.content_type = "application/jose+json";
	req.body = *body;
	req.body_len = strlen(*body);
	req.max_body = ACME_JSON_MAX;
	if (http_do(&req, resp, err) == -1)
		return -1;
	if (resp->replay_nonce != NULL)
		s->nonce = xstrdup(resp->replay_nonce);
	return 0;
}

int
acme_session_post(struct acme_session *s, const char *url,
    const char *payload, struct http_resp *resp, struct cv_err *err)
{
	struct cv_err	 e;
	char		*body = NULL;
	enum acme_bad	 bad;
	int		 tries, rc = -1;

	s->retry_after = 0;
	for (tries = 0; tries < ACME_NONCE_TRIES; tries++) {
		if ((rc = acme_session_post1(s, url, payload, resp, &body,
		    err)) == -1)
			goto out;
		if (resp->status >= 200 && resp->status < 300)
			goto out;
		rc = acme_session_failed(s, url, resp, &bad, err);
		if (bad == ACME_BAD_ACCOUNT && rc == -1 &&
		    acme_session_relookup(s, &e) == 0)
			continue;	/* with the kid looked up again */
		if (bad != ACME_BAD_NONCE || rc == 1)
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

/* newAccount: looked up (onlyReturnExisting), created when missing;
 * the kid is cached. */
static int
acme_session_lookup(struct acme_session *s, struct cv_err *err)
{
	const struct acme_account_args	*a = &s->acct;
	struct http_resp		 resp;
	struct cv_err			 e;
	char				*p, *k;
	int				 lookup, rc = -1;

	memset(&resp, 0, sizeof(resp));
	free(s->kid);
	s->kid = NULL;
	for (lookup = 1; lookup >= 0; lookup--) {
		p = acme_session_account_payload(s, lookup, a->contact,
		    a->ncontact, a->eab_kid, a->hmac, a->hmac_len, err);
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
	if ((k = acme_session_kid_key(s)) != NULL) {
		acme_cache_set(acme_kids, k, s->kid);
		free(k);
	}
out:
	http_resp_free(&resp);
	return rc;
}

int
acme_session_account(struct acme_session *s, const char **contact,
    size_t ncontact, const char *eab_kid, const unsigned char *hmac,
    size_t hmac_len, struct cv_err *err)
{
	char	*k;

	s->acct.contact = contact;
	s->acct.ncontact = ncontact;
	s->acct.eab_kid = eab_kid;
	s->acct.hmac = hmac;
	s->acct.hmac_len = hmac_len;
	/* A kid the caller knew, or one a session before looked up: used
	 * as it is until the CA refuses it (acme_session_relookup). */
	if (s->kid == NULL && (k = acme_session_kid_key(s)) != NULL) {
		s->kid = acme_cache_get(acme_kids, k, 0);
		free(k);
	}
	if (s->kid != NULL) {
		s->kid_known = 1;
		return 0;
	}
	return acme_session_lookup(s, err);
}
