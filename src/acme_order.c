#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "acme_dns.h"
#include "acme_http.h"
#include "acme_order.h"
#include "ari.h"
#include "fsutil.h"
#include "jws.h"
#include "pki.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

#define ACME_CHALLENGE_DIR	".well-known/acme-challenge"
#define ACME_POLL_S		0	/* without Retry-After: issuer_acme.c's
					 * poll backoff (250 ms up to 1 s) */
#define ACME_MAX_AUTHZ		ACME_LIST_MAX	/* identifiers of one order */

static const char *
acme_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Retry-After of a reply (1 s to an hour), else ACME_POLL_S. */
static int64_t
acme_order_retry(const struct acme_ctx *c, const struct http_resp *resp)
{
	int64_t	s;

	if (resp->retry_after == NULL ||
	    http_retry_after(resp->retry_after, c->s->now, &s) == -1)
		return ACME_POLL_S;
	return s < 1 ? 1 : s > 3600 ? 3600 : s;
}

/* POST-as-GET of url into resp.  1: later (429/503). */
static int
acme_order_get(struct acme_ctx *c, const char *url, struct http_resp *resp,
    int64_t *retry, struct cv_err *err)
{
	int	rc;

	memset(resp, 0, sizeof(*resp));
	rc = acme_session_post(c->s, url, NULL, resp, err);
	if (rc == 1)
		c->retry_s = c->s->retry_after;
	if (retry != NULL)
		*retry = acme_order_retry(c, resp);
	return rc;
}

/* An authorization at url, parsed by acme_json.c (az zeroed unless 0). */
static int
acme_order_get_authz(struct acme_ctx *c, const char *url,
    struct acme_authz *az, int64_t *retry, struct cv_err *err)
{
	struct http_resp	resp;
	int			rc;

	memset(az, 0, sizeof(*az));
	if ((rc = acme_order_get(c, url, &resp, retry, err)) == 0 &&
	    (rc = acme_authz_parse(resp.body, resp.body_len, az, err)) == -1)
		cv_err_prefix(err, "%s", url);
	http_resp_free(&resp);
	return rc;
}

/* The order at url, parsed by acme_json.c (o zeroed unless 0). */
static int
acme_order_get_order(struct acme_ctx *c, const char *url,
    struct acme_order *o, int64_t *retry, struct cv_err *err)
{
	struct http_resp	resp;
	int			rc;

	memset(o, 0, sizeof(*o));
	if ((rc = acme_order_get(c, url, &resp, retry, err)) == 0 &&
	    (rc = acme_order_parse(resp.body, resp.body_len, o, err)) == -1)
		cv_err_prefix(err, "%s", url);
	http_resp_free(&resp);
	return rc;
}

/* The binding's identifiers: its SANs (DNS, IP), else its subject CN. */
static json_t *
acme_order_identifiers(const struct binding *b, struct cv_err *err)
{
	struct pki_san_list	 l;
	json_t			*a = json_array();
	const char		*cn;
	char			 ip[INET6_ADDRSTRLEN], buf[256], *p;
	size_t			 i;

	memset(&l, 0, sizeof(l));
	if (b->san != NULL && pki_san_parse(b->san, &l, err) == -1)
		goto bad;
	for (i = 0; i < l.n; i++) {
		const struct pki_san	*e = &l.v[i];

		if (e->type == GNUTLS_SAN_DNSNAME)
			snprintf(buf, sizeof(buf), "%.*s", (int)e->len,
			    (const char *)e->data);
		else if (e->type == GNUTLS_SAN_IPADDRESS && inet_ntop(
		    e->len == 4 ? AF_INET : AF_INET6, e->data, ip,
		    sizeof(ip)) != NULL)
			snprintf(buf, sizeof(buf), "%s", ip);
		else
			continue;
		json_array_append_new(a, json_pack("{s:s,s:s}", "type",
		    e->type == GNUTLS_SAN_DNSNAME ? "dns" : "ip", "value",
		    buf));
	}
	pki_san_list_free(&l);
	if (json_array_size(a) == 0 && b->subject != NULL) {
		cn = b->subject;
		if ((p = strcasestr(b->subject, "CN=")) != NULL)
			cn = p + 3;
		else if (strchr(b->subject, '=') != NULL)
			cn = "";
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(cn, ","), cn);
		if (*buf != '\0')
			json_array_append_new(a, json_pack("{s:s,s:s}",
			    "type", "dns", "value", buf));
	}
	if (json_array_size(a) > 0 && json_array_size(a) <= ACME_MAX_AUTHZ)
		return a;
	cv_err_set(err, "binding %s: no name to order (san DNS:/IP: or "
	    "subject CN), or more than %d", b->name, ACME_MAX_AUTHZ);
bad:
	json_decref(a);
	return NULL;
}

static int
acme_order_profile(struct acme_ctx *c, json_t *payload, struct cv_err *err)
{
	size_t	i;

	if (c->cfg->profile == NULL)
		return 0;
	for (i = 0; i < c->s->dir.nprofiles; i++)
		if (!strcmp(c->s->dir.profiles[i], c->cfg->profile))
			break;
	if (i == c->s->dir.nprofiles)
		return cv_err_set(err, "profile %s: the directory %s does "
		    "not list it (meta.profiles)", c->cfg->profile,
		    c->cfg->directory);
	json_object_set_new(payload, "profile",
	    json_string(c->cfg->profile));
	return 0;
}

/* The order's authorization URLs for the progress record. */
static json_t *
acme_order_authz_urls(const struct acme_order *o)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < o->nauthzs; i++)
		json_array_append_new(a, json_string(o->authzs[i]));
	return a;
}

int
acme_order_place(struct acme_ctx *c, struct cv_err *err)
{
	struct http_resp	 resp;
	struct acme_order	 o;
	json_t			*ids, *payload = NULL;
	char			*p = NULL;
	int			 rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(&o, 0, sizeof(o));
	if ((ids = acme_order_identifiers(c->job->b, err)) == NULL)
		return -1;
	payload = json_pack("{s:O}", "identifiers", ids);
	if (acme_order_profile(c, payload, err) == -1)
		goto out;
	ari_order_replaces(c, payload);		/* issue 17, ARI */
	p = json_dumps(payload, JSON_COMPACT);
	rc = acme_session_post(c->s, acme_session_url(c->s, "newOrder"), p,
	    &resp, err);
	/* A CA that did not issue the certificate to this account refuses
	 * replaces (RFC 9773 5): the order goes without it -- only on the
	 * CA's own refusal (a 4xx problem), never after a transport error,
	 * which would otherwise cost the order its replaces. */
	if (rc == -1 && resp.status >= 400 && resp.status < 500 &&
	    json_object_del(payload, "replaces") == 0) {
		free(p);
		http_resp_free(&resp);
		p = json_dumps(payload, JSON_COMPACT);
		rc = acme_session_post(c->s, acme_session_url(c->s,
		    "newOrder"), p, &resp, err);
	}
	if (rc == 1)
		c->retry_s = c->s->retry_after;
	if (rc != 0)
		goto out;
	rc = -1;
	if (acme_order_parse(resp.body, resp.body_len, &o, err) == -1) {
		cv_err_prefix(err, "newOrder");
		goto out;
	}
	if (resp.location == NULL || o.nauthzs == 0) {
		cv_err_set(err, "newOrder: no Location or no authorizations "
		    "in the reply");
		goto out;
	}
	json_object_set_new(c->rec, "order", json_string(resp.location));
	json_object_set_new(c->rec, "ordered_at",
	    json_integer((json_int_t)timeutil_now()));
	json_object_set_new(c->rec, "finalize", json_string(o.finalize));
	json_object_set_new(c->rec, "authz", acme_order_authz_urls(&o));
	json_object_set(c->rec, "identifiers", ids);
	json_object_set_new(c->rec, "challenge",
	    json_string(c->cfg->challenge));
	rc = 0;
out:
	free(p);
	json_decref(payload);
	json_decref(ids);
	acme_order_free(&o);
	http_resp_free(&resp);
	return rc;
}

/* TOKEN "." thumbprint (RFC 8555 8.1); caller frees. */
static char *
acme_order_keyauth(struct acme_ctx *c, const char *token, struct cv_err *err)
{
	char	*thumb = NULL, *ka;

	if (jws_thumbprint(c->s->pub, &thumb, err) == -1)
		return NULL;
	xasprintf(&ka, "%s.%s", token, thumb);
	free(thumb);
	return ka;
}

/*
 * WEBROOT/.well-known/acme-challenge as a descriptor, made if missing
 * (create).  The webroot is root's configuration: its path is followed,
 * its last component a symlink only under fsutil_open_dir's rule.  What
 * is below it belongs to the web service's user, who may have replaced
 * .well-known or acme-challenge with a symlink to /etc or /root: no
 * symlink is followed there (fsutil_walk_at), so nothing is made,
 * written or removed outside the webroot.
 */
static int
acme_order_challenge_dir(const struct acme_ctx *c, int create,
    struct cv_err *err)
{
	int	wfd, dfd;

	if ((wfd = fsutil_open_dir(c->cfg->webroot, FSUTIL_PROTECTED,
	    err)) == -1)
		return -1;
	dfd = fsutil_walk_at(wfd, c->cfg->webroot, ACME_CHALLENGE_DIR,
	    create ? FSUTIL_WALK_CREATE : 0, 0755, err);
	close(wfd);
	return dfd;
}

/* The token's file, written in the directory acme_order_challenge_dir
 * opened: the temp file and the rename never leave it. */
static int
acme_order_token_write(struct acme_ctx *c, const char *token,
    struct cv_err *err)
{
	char	*path, *ka = NULL;
	int	 dfd = -1, rc = -1;

	xasprintf(&path, "%s/%s/%s", c->cfg->webroot, ACME_CHALLENGE_DIR,
	    token);
	if ((ka = acme_order_keyauth(c, token, err)) == NULL ||
	    (dfd = acme_order_challenge_dir(c, 1, err)) == -1)
		goto out;
	rc = fsutil_write_atomic_at(dfd, token, path, ka, strlen(ka), 0644,
	    (uid_t)-1, (gid_t)-1, err);
out:
	if (dfd != -1)
		close(dfd);
	free(path);
	free(ka);
	return rc;
}

/* http_listen: the daemon's responder answers token from now on.  1:
 * its previous listener is still closing. */
static int
acme_order_token_serve(struct acme_ctx *c, const char *token,
    struct cv_err *err)
{
	char	*ka;
	int	 rc;

	if ((ka = acme_order_keyauth(c, token, err)) == NULL)
		return -1;
	rc = acme_http_serve(c->cfg->http_listen, token, ka, err);
	free(ka);
	if (rc == 1 && c->retry_s < 1)
		c->retry_s = 1;
	return rc;
}

/* The work file dns_hook's output goes to. */
static char *
acme_order_hook_log(const struct acme_ctx *c)
{
	char	*p;

	xasprintf(&p, "%s/%lld.dns_hook.log", c->job->work_dir,
	    (long long)c->job->id);
	return p;
}

/* dns_hook "remove" for each TXT record added: failures are only in
 * the hook's log (the order's outcome does not depend on them). */
static void
acme_order_dns_cleanup(struct acme_ctx *c)
{
	json_t		*dns = json_object_get(c->rec, "dns"), *e;
	struct cv_err	 ignored;
	char		*log;
	size_t		 i;

	if (json_array_size(dns) == 0 || c->cfg->dns_hook == NULL)
		return;
	log = acme_order_hook_log(c);
	json_array_foreach(dns, i, e)
		(void)acme_dns_hook(c->cfg->dns_hook, "remove",
		    acme_str(e, "domain"), acme_str(e, "value"), log,
		    ACME_DNS_HOOK_TIMEOUT, &ignored);
	free(log);
	json_object_del(c->rec, "dns");
	json_object_del(c->rec, "dns_at");
}

/* A token fit for a file name: base64url only (RFC 8555 8.3). */
static int
acme_order_token_ok(const char *t)
{
	return t != NULL && *t != '\0' && strlen(t) < 256 &&
	    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == strlen(t);
}

void
acme_order_cleanup(struct acme_ctx *c)
{
	json_t		*tokens = json_object_get(c->rec, "tokens"), *t;
	struct cv_err	 e;
	size_t		 i;
	int		 dfd;

	for (i = 0; c->cfg->http_listen != NULL &&
	    i < json_array_size(tokens); i++)
		acme_http_unserve(c->cfg->http_listen, json_string_value(
		    json_array_get(tokens, i)));
	/* Through the same walk as the write: a challenge directory
	 * swapped for a symlink since is not entered. */
	if (c->cfg->webroot != NULL && json_array_size(tokens) > 0 &&
	    (dfd = acme_order_challenge_dir(c, 0, &e)) != -1) {
		json_array_foreach(tokens, i, t)
			if (acme_order_token_ok(json_string_value(t)))
				(void)unlinkat(dfd, json_string_value(t), 0);
		close(dfd);
	}
	json_object_del(c->rec, "tokens");
	acme_order_dns_cleanup(c);
}

/* Is s in the record's array member? (key: of each object, or NULL
 * for an array of strings) */
static int
acme_order_recorded(const struct acme_ctx *c, const char *member,
    const char *key, const char *s)
{
	json_t		*e;
	const char	*v;
	size_t		 i;

	json_array_foreach(json_object_get(c->rec, member), i, e) {
		v = key != NULL ? acme_str(e, key) : json_string_value(e);
		if (v != NULL && !strcmp(v, s))
			return 1;
	}
	return 0;
}

/* Appends v to the record's array member (made when missing). */
static void
acme_order_record_add(struct acme_ctx *c, const char *member, json_t *v)
{
	json_t	*a;

	if ((a = json_object_get(c->rec, member)) == NULL)
		json_object_set_new(c->rec, member, a = json_array());
	json_array_append_new(a, v);
}

/* dns-01: the TXT record added through dns_hook (once, recorded and
 * saved first); 1 while dns_propagation has not passed since the last
 * add. */
static int
acme_order_publish_dns(struct acme_ctx *c, const struct acme_authz *az,
    const struct acme_challenge *ch, struct cv_err *err)
{
	char		*v, *log;
	json_int_t	 at;
	int		 rc = 0;

	if ((v = acme_dns_txt_value(c->s->pub, ch->token, err)) == NULL)
		return -1;
	if (!acme_order_recorded(c, "dns", "value", v)) {
		acme_order_record_add(c, "dns", json_pack("{s:s,s:s}",
		    "domain", az->id.value, "value", v));
		if (c->save != NULL && c->save(c->job, c->rec, err) == -1) {
			free(v);
			return -1;
		}
		log = acme_order_hook_log(c);
		rc = acme_dns_hook(c->cfg->dns_hook, "add", az->id.value, v,
		    log, ACME_DNS_HOOK_TIMEOUT, err);
		free(log);
		json_object_set_new(c->rec, "dns_at",
		    json_integer((json_int_t)timeutil_now()));
	}
	free(v);
	if (rc == -1)
		return -1;
	at = json_integer_value(json_object_get(c->rec, "dns_at"));
	if ((int64_t)timeutil_now() < (int64_t)at + c->cfg->dns_propagation) {
		if (c->retry_s < (int64_t)at + c->cfg->dns_propagation -
		    (int64_t)timeutil_now())
			c->retry_s = (int64_t)at + c->cfg->dns_propagation -
			    (int64_t)timeutil_now();
		return 1;
	}
	return 0;
}

/* What the CA will fetch or look up: 0 in place, 1 not yet (dns-01
 * propagation), -1 error. */
static int
acme_order_publish(struct acme_ctx *c, const struct acme_authz *az,
    const struct acme_challenge *ch, struct cv_err *err)
{
	if (!strcmp(c->cfg->challenge, "dns-01"))
		return acme_order_publish_dns(c, az, ch, err);
	if (acme_order_recorded(c, "tokens", NULL, ch->token))
		return 0;
	/* Recorded before the file is written, so a crash leaves no file
	 * the record does not know. */
	acme_order_record_add(c, "tokens", json_string(ch->token));
	if (c->cfg->http_listen != NULL)
		return acme_order_token_serve(c, ch->token, err);
	return acme_order_token_write(c, ch->token, err);
}

/* Answers the challenge of our type in a pending authorization. */
static int
acme_order_answer(struct acme_ctx *c, const struct acme_authz *az,
    struct cv_err *err)
{
	const struct acme_challenge	*ch = NULL;
	struct http_resp		 resp;
	size_t				 i;
	int				 rc;

	for (i = 0; i < az->nchallenges && ch == NULL; i++)
		if (!strcmp(az->challenges[i].type, c->cfg->challenge))
			ch = &az->challenges[i];
	if (ch == NULL || !acme_order_token_ok(ch->token))
		return cv_err_set(err, "authorization offers no usable %s "
		    "challenge", c->cfg->challenge);
	if (strcmp(ch->status, "pending") != 0)
		return 0;	/* answered already (a crash after it) */
	if ((rc = acme_order_publish(c, az, ch, err)) != 0)
		return rc == 1 ? 0 : rc;
	memset(&resp, 0, sizeof(resp));
	rc = acme_session_post(c->s, ch->url, "{}", &resp, err);
	if (rc == 1)
		c->retry_s = c->s->retry_after;
	http_resp_free(&resp);
	return rc == 1 ? 0 : rc;
}

/* Why an invalid authorization failed: its challenge's problem. */
static int
acme_order_invalid(struct acme_ctx *c, const struct acme_authz *az,
    struct cv_err *err)
{
	size_t	i;

	c->dead = 1;
	for (i = 0; i < az->nchallenges; i++)
		if (az->challenges[i].error != NULL)
			return cv_err_set(err, "%s: %s", az->id.value,
			    az->challenges[i].error);
	return cv_err_set(err, "authorization for %s is invalid",
	    az->id.value);
}

int
acme_order_authorize(struct acme_ctx *c, struct cv_err *err)
{
	json_t			*urls = json_object_get(c->rec, "authz");
	struct acme_authz	 az;
	int64_t			 retry = ACME_POLL_S;
	size_t			 i;
	int			 rc = 0, waiting = 0;

	/* http_listen: the responder's tokens live in memory; after a
	 * restart the recorded ones are served again. */
	for (i = 0; c->cfg->http_listen != NULL && rc == 0 &&
	    i < json_array_size(json_object_get(c->rec, "tokens")); i++)
		rc = acme_order_token_serve(c, json_string_value(
		    json_array_get(json_object_get(c->rec, "tokens"), i)),
		    err);
	if (rc != 0)
		return rc;
	for (i = 0; rc == 0 && i < json_array_size(urls); i++) {
		const char *url = json_string_value(json_array_get(urls, i));

		if (url == NULL)
			return cv_err_set(err, "progress record: bad authz");
		if ((rc = acme_order_get_authz(c, url, &az, &retry,
		    err)) != 0)
			break;
		if (!strcmp(az.status, "invalid"))
			rc = acme_order_invalid(c, &az, err);
		else if (!strcmp(az.status, "pending")) {
			rc = acme_order_answer(c, &az, err);
			waiting = 1;
		} else if (strcmp(az.status, "valid") != 0)
			waiting = 1;	/* processing */
		acme_authz_free(&az);
	}
	if (rc == -1 && c->dead)
		acme_order_cleanup(c);
	if (rc != 0)
		return rc;
	if (waiting) {
		if (c->retry_s < retry)
			c->retry_s = retry;
		return 1;
	}
	acme_order_cleanup(c);
	return 0;
}

/* The order's status (POST-as-GET) into o; an invalid order is dead. */
static int
acme_order_status(struct acme_ctx *c, struct acme_order *o,
    struct cv_err *err)
{
	const char	*url = acme_str(c->rec, "order");
	int64_t		 retry;
	int		 rc;

	memset(o, 0, sizeof(*o));
	if (url == NULL)
		return cv_err_set(err, "progress record: no order");
	if ((rc = acme_order_get_order(c, url, o, &retry, err)) != 0)
		return rc;
	c->retry_s = retry;
	if (!strcmp(o->status, "invalid")) {
		c->dead = 1;
		rc = o->error != NULL ? cv_err_set(err, "order: %s",
		    o->error) : cv_err_set(err, "order %s is invalid", url);
		acme_order_free(o);
	}
	return rc;
}

static char *
acme_order_csr(struct acme_ctx *c, struct cv_err *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crq_t	 crq = NULL;
	gnutls_datum_t		 d = { NULL, 0 };
	char			*b64 = NULL;

	if (issuer_pending_key(c->job, &key, err) == -1 ||
	    issuer_make_csr(c->job->b, key, &crq, err) == -1)
		goto out;
	if (gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &d) < 0) {
		cv_err_set(err, "CSR: cannot encode");
		goto out;
	}
	b64 = jws_b64url(d.data, d.size);
out:
	gnutls_free(d.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return b64;
}

int
acme_order_finalize(struct acme_ctx *c, struct cv_err *err)
{
	struct http_resp	 resp;
	struct acme_order	 o;
	json_t			*j;
	const char		*url = acme_str(c->rec, "finalize");
	char			*csr = NULL, *p = NULL;
	int			 rc, ready;

	memset(&resp, 0, sizeof(resp));
	if ((rc = acme_order_status(c, &o, err)) != 0)
		return rc;
	ready = !strcmp(o.status, "ready");
	rc = !strcmp(o.status, "pending");	/* authorizations not yet */
	acme_order_free(&o);
	/* processing or valid: finalized already (a crash after it). */
	if (rc == 1 || !ready || url == NULL)
		return url == NULL ? cv_err_set(err, "no finalize URL") : rc;
	if ((csr = acme_order_csr(c, err)) == NULL)
		return -1;
	j = json_pack("{s:s}", "csr", csr);
	p = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	rc = acme_session_post(c->s, url, p, &resp, err);
	if (rc == 1)
		c->retry_s = c->s->retry_after;
	free(p);
	free(csr);
	http_resp_free(&resp);
	return rc;
}

/* Does the chain's top certificate have an issuer CN of name? */
static int
acme_order_chain_is(gnutls_x509_crt_t top, const char *name)
{
	char	cn[256];
	size_t	len = sizeof(cn);

	if (gnutls_x509_crt_get_issuer_dn_by_oid(top,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) < 0)
		return 0;
	return strcmp(cn, name) == 0;
}

/*
 * Stores the PEM chain body when its leaf is the pending key's: 0 stored,
 * 1 not the preferred chain (stored anyway when force), -1 error.
 */
static int
acme_order_store(struct acme_ctx *c, const struct http_resp *resp,
    int force, char sha1[41], struct cv_err *err)
{
	const char		*pref = c->cfg->preferred_chain;
	gnutls_x509_privkey_t	 key = NULL;
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	gnutls_x509_crt_t	*chain = NULL;
	unsigned char		 kid[32];
	size_t			 i, n = 0, leaf = (size_t)-1;
	int			 rc = -1;

	memset(&o, 0, sizeof(o));
	if (store_pending_load(c->job->st, c->job->id, &key, err) != 1 ||
	    x509_privkey_id(key, kid) == -1) {
		cv_err_set(err, "pending key of renewal %lld: missing",
		    (long long)c->job->id);
		goto out;
	}
	if (x509_load_mem("certificate", (const unsigned char *)resp->body,
	    resp->body_len, &o, &f, err) == -1)
		goto out;
	for (i = 0; i < f->ncerts && leaf == (size_t)-1; i++)
		if (!f->certs[i].is_ca && !memcmp(f->certs[i].key_id, kid, 32))
			leaf = i;
	if (leaf == (size_t)-1) {
		cv_err_set(err, "the CA's certificate is not for the pending "
		    "key");
		goto out;
	}
	chain = xcalloc(f->ncerts + 1, sizeof(*chain));
	for (i = 0; i < f->ncerts; i++)
		if (i != leaf)
			chain[n++] = f->certs[i].crt;
	rc = 1;
	if (!force && pref != NULL && !acme_order_chain_is(n > 0 ?
	    chain[n - 1] : f->certs[leaf].crt, pref))
		goto out;
	rc = store_put(c->job->st, c->job->id, f->certs[leaf].crt, chain, n,
	    key, sha1, err);
out:
	free(chain);
	x509_file_free(f);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

/* The URL of a Link value with rel="alternate", or NULL (caller frees). */
static char *
acme_order_alternate(const char *link)
{
	const char	*a, *b;

	if ((a = strchr(link, '<')) == NULL || (b = strchr(a, '>')) == NULL ||
	    (strstr(b, "rel=\"alternate\"") == NULL &&
	    strstr(b, "rel=alternate") == NULL))
		return NULL;
	return xstrndup(a + 1, (size_t)(b - a - 1));
}

/* The certificate at url: stored when it is the preferred chain. */
static int
acme_order_fetch(struct acme_ctx *c, const char *url, int force,
    struct http_resp *resp, char sha1[41], struct cv_err *err)
{
	int	rc;

	http_resp_free(resp);
	memset(resp, 0, sizeof(*resp));
	rc = acme_session_post(c->s, url, NULL, resp, err);
	if (rc == 1)
		c->retry_s = c->s->retry_after;
	if (rc != 0)
		return rc == 1 ? 2 : -1;
	return acme_order_store(c, resp, force, sha1, err);
}

int
acme_order_download(struct acme_ctx *c, char sha1[41], struct cv_err *err)
{
	struct http_resp	 resp, alt;
	struct acme_order	 o;
	char			*u, **links = NULL;
	size_t			 i, nlinks = 0;
	int			 rc;

	memset(&resp, 0, sizeof(resp));
	memset(&alt, 0, sizeof(alt));
	if ((rc = acme_order_status(c, &o, err)) != 0)
		return rc;
	if (!strcmp(o.status, "processing")) {
		acme_order_free(&o);
		return 1;
	}
	if (strcmp(o.status, "valid") != 0 || o.certificate == NULL) {
		c->dead = 1;
		rc = cv_err_set(err, "order is %s after finalize, without a "
		    "certificate", o.status);
		goto out;
	}
	json_object_set_new(c->rec, "cert", json_string(o.certificate));
	if ((rc = acme_order_fetch(c, o.certificate, 0, &resp, sha1,
	    err)) != 1)
		goto out;
	/* Not the preferred chain: the alternates, then the default. */
	links = resp.links;
	nlinks = resp.nlinks;
	for (i = 0; rc == 1 && i < nlinks; i++) {
		if ((u = acme_order_alternate(links[i])) == NULL)
			continue;
		rc = acme_order_fetch(c, u, 0, &alt, sha1, err);
		free(u);
		if (rc == -1 || rc == 2)
			rc = 1;	/* an alternate that fails is passed over */
	}
	if (rc == 1)
		rc = acme_order_store(c, &resp, 1, sha1, err);
out:
	rc = rc == 2 ? 1 : rc;
	acme_order_free(&o);
	http_resp_free(&alt);
	http_resp_free(&resp);
	return rc;
}
