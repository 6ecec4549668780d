/*
 * revokeCert with the account key (issue 17): see acme_revoke.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme_order.h"
#include "acme_json.h"
#include "acme_revoke.h"
#include "jws.h"
#include "pki.h"
#include "xmalloc.h"

/* RFC 5280 section 5.3.1; removeFromCRL (8) is no reason to revoke. */
static const struct {
	const char	*name;
	int		 code;
} acme_revoke_codes[] = {
	{ "unspecified",		0 },
	{ "keyCompromise",		1 },
	{ "cACompromise",		2 },
	{ "affiliationChanged",		3 },
	{ "superseded",			4 },
	{ "cessationOfOperation",	5 },
	{ "certificateHold",		6 },
	{ "privilegeWithdrawn",		9 },
	{ "aACompromise",		10 },
};

int
acme_revoke_reason(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(acme_revoke_codes) /
	    sizeof(acme_revoke_codes[0]); i++)
		if (!strcmp(name, acme_revoke_codes[i].name))
			return acme_revoke_codes[i].code;
	return -1;
}

const char *
acme_revoke_reasons(void)
{
	return "unspecified|keyCompromise|cACompromise|affiliationChanged|"
	    "superseded|cessationOfOperation|certificateHold|"
	    "privilegeWithdrawn|aACompromise";
}

/* The account key: revoking never creates one (nor an account). */
static int
acme_revoke_key(const struct issuer *is, const char *state_dir,
    gnutls_x509_privkey_t *key, struct cv_err *err)
{
	const struct acme_cfg	*c = is->cfg;
	char			*path;
	int			 rc;

	if (c->account_key != NULL)
		path = xstrdup(c->account_key);
	else
		xasprintf(&path, "%s/acme/%s/account.key", state_dir,
		    is->name);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		rc = cv_err_set(err, "issuer %s has no ACME account yet (no "
		    "%s): it issued nothing to revoke", is->name, path);
	else if ((rc = pki_key_load(path, NULL, key, err)) == -1)
		cv_err_prefix(err, "account key %s", path);
	free(path);
	return rc;
}

/* The account URL (kid) of the session's key, looked up only. */
static int
acme_revoke_account(struct acme_session *s, struct cv_err *err)
{
	struct http_resp	resp;
	int			rc;

	memset(&resp, 0, sizeof(resp));
	rc = acme_session_post(s, acme_session_url(s, "newAccount"),
	    "{\"onlyReturnExisting\":true}", &resp, err);
	if (rc == 0 && resp.location == NULL)
		rc = cv_err_set(err, "newAccount: no Location in the reply");
	else if (rc == 0)
		s->kid = xstrdup(resp.location);
	http_resp_free(&resp);
	return rc == 0 ? 0 : -1;
}

/* The CA's problem with its full type: what users search for. */
static void
acme_revoke_problem(const struct http_resp *resp, struct cv_err *err)
{
	struct acme_problem	pr;
	struct cv_err		e;

	if (resp->status < 400 || acme_problem_parse(resp->body ? resp->body :
	    "", resp->body_len, &pr, &e) == -1)
		return;
	if (pr.type != NULL)
		cv_err_set(err, "revokeCert: %s", pr.line);
	acme_problem_free(&pr);
}

int
acme_revoke(const struct issuer *is, const char *state_dir,
    const unsigned char *der, size_t len, int reason, time_t now,
    struct cv_err *err)
{
	const struct acme_cfg	*c = is->cfg;
	struct acme_session	 s;
	struct http_resp	 resp;
	gnutls_x509_privkey_t	 key = NULL;
	json_t			*o = NULL;
	char			*b64 = NULL, *payload = NULL;
	const char		*url;
	int			 rc = -1;

	memset(&s, 0, sizeof(s));
	memset(&resp, 0, sizeof(resp));
	s.now = now;
	if (acme_revoke_key(is, state_dir, &key, err) == -1 ||
	    acme_session_open(&s, c->directory, c->directory_ca_file, key,
	    err) == -1 || acme_revoke_account(&s, err) == -1)
		goto out;
	if ((url = acme_session_url(&s, "revokeCert")) == NULL) {
		cv_err_set(err, "directory %s has no revokeCert", c->directory);
		goto out;
	}
	b64 = jws_b64url(der, len);
	o = json_pack("{s:s}", "certificate", b64);
	if (reason >= 0)
		json_object_set_new(o, "reason", json_integer(reason));
	payload = json_dumps(o, JSON_COMPACT);
	if ((rc = acme_session_post(&s, url, payload, &resp, err)) != 0) {
		acme_revoke_problem(&resp, err);
		rc = -1;
	}
out:
	http_resp_free(&resp);
	free(payload);
	free(b64);
	json_decref(o);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	acme_session_close(&s);
	return rc;
}
