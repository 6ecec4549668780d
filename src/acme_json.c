/*
 * ACME reply parsers (issue 17); see acme_json.h.  jansson parses (with
 * its own nesting limit and duplicate keys refused); everything after is
 * ours: each member's type, length and count is checked before it is
 * copied, so a hostile CA costs at most ACME_JSON_MAX bytes of parsing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acme_json.h"
#include "buf.h"
#include "timeutil.h"
#include "xmalloc.h"

static json_t *
acme_json_load(const char *what, const char *p, size_t len,
    struct cv_err *err)
{
	json_t		*o;
	json_error_t	 je;

	if (len > ACME_JSON_MAX) {
		cv_err_set(err, "%s: reply of %zu bytes (limit %d)", what, len,
		    ACME_JSON_MAX);
		return NULL;
	}
	if ((o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		cv_err_set(err, "%s: not JSON: %s", what, je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		cv_err_set(err, "%s: not a JSON object", what);
		return NULL;
	}
	return o;
}

/* MEMBER of O as a string of at most MAX bytes without control
 * characters; absent: NULL, an error only when REQUIRED. */
static int
acme_str(json_t *o, const char *what, const char *member, int required,
    size_t max, char **out, struct cv_err *err)
{
	json_t		*v = json_object_get(o, member);
	const char	*s;
	size_t		 len, i;

	*out = NULL;
	if (v == NULL)
		return required ? cv_err_set(err, "%s: no \"%s\"", what,
		    member) : 0;
	if (!json_is_string(v))
		return cv_err_set(err, "%s: \"%s\" is not a string", what,
		    member);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max)
		return cv_err_set(err, "%s: \"%s\" longer than %zu bytes",
		    what, member, max);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cv_err_set(err, "%s: \"%s\" holds a control "
			    "character", what, member);
	*out = xstrndup(s, len);
	return 0;
}

static int
acme_time(json_t *o, const char *what, const char *member, int required,
    time_t *t, struct cv_err *err)
{
	char	*s;
	int	 rc = 0;

	*t = 0;
	if (acme_str(o, what, member, required, 64, &s, err) == -1)
		return -1;
	if (s != NULL && timeutil_parse_rfc3339(s, t) == -1)
		rc = cv_err_set(err, "%s: \"%s\" is not an RFC 3339 time",
		    what, member);
	free(s);
	return rc;
}

/* An array member of O, absent allowed unless REQUIRED: checks its
 * size; the caller reads the elements. */
static int
acme_array(json_t *o, const char *what, const char *member, int required,
    json_t **out, struct cv_err *err)
{
	json_t	*v = json_object_get(o, member);

	*out = NULL;
	if (v == NULL)
		return required ? cv_err_set(err, "%s: no \"%s\"", what,
		    member) : 0;
	if (!json_is_array(v))
		return cv_err_set(err, "%s: \"%s\" is not an array", what,
		    member);
	if (json_array_size(v) > ACME_LIST_MAX)
		return cv_err_set(err, "%s: \"%s\" has more than %d entries",
		    what, member, ACME_LIST_MAX);
	*out = v;
	return 0;
}

static void
acme_strv_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- problem documents ------------------------------------------------ */

static void
acme_line_add(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		buf_add(b, (unsigned char)*s < 0x20 || *s == 0x7f ? "?" : s, 1);
}

/* A problem object as one line into B; subproblems one level deep. */
static void
acme_problem_line(json_t *o, struct buf *b, int sub)
{
	json_t		*v, *id, *subs;
	const char	*type, *detail;
	size_t		 i;

	v = json_object_get(o, "type");
	type = json_is_string(v) ? json_string_value(v) : "(no type)";
	v = json_object_get(o, "detail");
	detail = json_is_string(v) ? json_string_value(v) : NULL;
	acme_line_add(b, type);
	id = json_object_get(o, "identifier");
	if (sub && json_is_object(id) &&
	    json_is_string(v = json_object_get(id, "value"))) {
		buf_cat(b, " (");
		acme_line_add(b, json_string_value(v));
		buf_cat(b, ")");
	}
	if (detail != NULL) {
		buf_cat(b, ": ");
		acme_line_add(b, detail);
	}
	subs = json_object_get(o, "subproblems");
	if (!sub && json_is_array(subs))
		for (i = 0; i < json_array_size(subs) && i < ACME_LIST_MAX;
		    i++)
			if (json_is_object(v = json_array_get(subs, i))) {
				buf_cat(b, "; ");
				acme_problem_line(v, b, 1);
			}
}

/* The one line, cut at ACME_PROBLEM_LINE_MAX on a UTF-8 boundary. */
static char *
acme_problem_str(json_t *o)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		n;

	acme_problem_line(o, &b, 0);
	if (b.len > ACME_PROBLEM_LINE_MAX) {
		n = ACME_PROBLEM_LINE_MAX - 3;
		while (n > 0 && ((unsigned char)b.p[n] & 0xc0) == 0x80)
			n--;
		memcpy(b.p + n, "...", 4);
	}
	return b.p;
}

/* An optional "error" member holding a problem object. */
static int
acme_error_member(json_t *o, const char *what, char **out,
    struct cv_err *err)
{
	json_t	*v = json_object_get(o, "error");

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return cv_err_set(err, "%s: \"error\" is not an object", what);
	*out = acme_problem_str(v);
	return 0;
}

int
acme_problem_parse(const char *p, size_t len, struct acme_problem *pr,
    struct cv_err *err)
{
	json_t	*o;
	int	 rc = -1;

	memset(pr, 0, sizeof(*pr));
	if ((o = acme_json_load("problem", p, len, err)) == NULL)
		return -1;
	if (acme_str(o, "problem", "type", 0, ACME_STR_MAX, &pr->type,
	    err) == -1)
		goto out;
	pr->line = acme_problem_str(o);
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void
acme_problem_free(struct acme_problem *pr)
{
	free(pr->type);
	free(pr->line);
	memset(pr, 0, sizeof(*pr));
}

/* ---- directory ---------------------------------------------------------- */

static int
acme_directory_meta(json_t *meta, struct acme_directory *d,
    struct cv_err *err)
{
	json_t		*v, *profs;
	const char	*name;

	if (meta == NULL)
		return 0;
	if (!json_is_object(meta))
		return cv_err_set(err, "directory: \"meta\" is not an object");
	if (acme_str(meta, "directory meta", "termsOfService", 0,
	    ACME_STR_MAX, &d->terms_of_service, err) == -1)
		return -1;
	if ((v = json_object_get(meta, "externalAccountRequired")) != NULL) {
		if (!json_is_boolean(v))
			return cv_err_set(err, "directory: "
			    "\"externalAccountRequired\" is not a boolean");
		d->eab_required = json_is_true(v);
	}
	if ((profs = json_object_get(meta, "profiles")) == NULL)
		return 0;
	if (!json_is_object(profs))
		return cv_err_set(err, "directory: \"profiles\" is not an "
		    "object");
	if (json_object_size(profs) > ACME_LIST_MAX)
		return cv_err_set(err, "directory: more than %d profiles",
		    ACME_LIST_MAX);
	d->profiles = xcalloc(json_object_size(profs) + 1, sizeof(char *));
	json_object_foreach(profs, name, v) {
		if (strlen(name) > 64 || name[0] == '\0')
			return cv_err_set(err, "directory: a profile name is "
			    "empty or longer than 64 bytes");
		d->profiles[d->nprofiles++] = xstrdup(name);
	}
	return 0;
}

int
acme_directory_parse(const char *p, size_t len, struct acme_directory *d,
    struct cv_err *err)
{
	static const char	*what = "directory";
	json_t			*o;
	int			 rc = -1;

	memset(d, 0, sizeof(*d));
	if ((o = acme_json_load(what, p, len, err)) == NULL)
		return -1;
	if (acme_str(o, what, "newNonce", 1, ACME_STR_MAX, &d->new_nonce,
	    err) == -1 ||
	    acme_str(o, what, "newAccount", 1, ACME_STR_MAX, &d->new_account,
	    err) == -1 ||
	    acme_str(o, what, "newOrder", 1, ACME_STR_MAX, &d->new_order,
	    err) == -1 ||
	    acme_str(o, what, "revokeCert", 0, ACME_STR_MAX, &d->revoke_cert,
	    err) == -1 ||
	    acme_str(o, what, "keyChange", 0, ACME_STR_MAX, &d->key_change,
	    err) == -1 ||
	    acme_str(o, what, "renewalInfo", 0, ACME_STR_MAX,
	    &d->renewal_info, err) == -1 ||
	    acme_directory_meta(json_object_get(o, "meta"), d, err) == -1)
		goto out;
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		acme_directory_free(d);
	return rc;
}

void
acme_directory_free(struct acme_directory *d)
{
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->terms_of_service);
	acme_strv_free(d->profiles, d->nprofiles);
	memset(d, 0, sizeof(*d));
}

/* ---- orders ------------------------------------------------------------- */

static int
acme_identifier(json_t *v, const char *what, struct acme_identifier *id,
    struct cv_err *err)
{
	if (!json_is_object(v))
		return cv_err_set(err, "%s: an identifier is not an object",
		    what);
	if (acme_str(v, what, "type", 1, 32, &id->type, err) == -1 ||
	    acme_str(v, what, "value", 1, 255, &id->value, err) == -1)
		return -1;
	return 0;
}

static int
acme_order_lists(json_t *o, struct acme_order *ord, struct cv_err *err)
{
	static const char	*what = "order";
	json_t			*a, *v;
	size_t			 i;

	if (acme_array(o, what, "identifiers", 1, &a, err) == -1)
		return -1;
	ord->ids = xcalloc(json_array_size(a) + 1, sizeof(*ord->ids));
	json_array_foreach(a, i, v) {
		ord->nids++;
		if (acme_identifier(v, what, &ord->ids[i], err) == -1)
			return -1;
	}
	if (acme_array(o, what, "authorizations", 1, &a, err) == -1)
		return -1;
	ord->authzs = xcalloc(json_array_size(a) + 1, sizeof(char *));
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    json_string_length(v) > ACME_STR_MAX ||
		    memchr(json_string_value(v), '\0',
		    json_string_length(v)) != NULL)
			return cv_err_set(err, "order: authorization %zu is "
			    "not a URL string", i);
		ord->authzs[ord->nauthzs++] = xstrdup(json_string_value(v));
	}
	return 0;
}

int
acme_order_parse(const char *p, size_t len, struct acme_order *ord,
    struct cv_err *err)
{
	static const char	*what = "order";
	json_t			*o;
	int			 rc = -1;

	memset(ord, 0, sizeof(*ord));
	if ((o = acme_json_load(what, p, len, err)) == NULL)
		return -1;
	if (acme_str(o, what, "status", 1, 32, &ord->status, err) == -1 ||
	    acme_time(o, what, "expires", 0, &ord->expires, err) == -1 ||
	    acme_order_lists(o, ord, err) == -1 ||
	    acme_str(o, what, "finalize", 1, ACME_STR_MAX, &ord->finalize,
	    err) == -1 ||
	    acme_str(o, what, "certificate", 0, ACME_STR_MAX,
	    &ord->certificate, err) == -1 ||
	    acme_str(o, what, "profile", 0, 64, &ord->profile, err) == -1 ||
	    acme_str(o, what, "replaces", 0, ACME_STR_MAX, &ord->replaces,
	    err) == -1 ||
	    acme_error_member(o, what, &ord->error, err) == -1)
		goto out;
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		acme_order_free(ord);
	return rc;
}

static void
acme_identifier_free(struct acme_identifier *id)
{
	free(id->type);
	free(id->value);
}

void
acme_order_free(struct acme_order *ord)
{
	size_t	i;

	free(ord->status);
	for (i = 0; i < ord->nids; i++)
		acme_identifier_free(&ord->ids[i]);
	free(ord->ids);
	acme_strv_free(ord->authzs, ord->nauthzs);
	free(ord->finalize);
	free(ord->certificate);
	free(ord->profile);
	free(ord->replaces);
	free(ord->error);
	memset(ord, 0, sizeof(*ord));
}

/* ---- authorizations ----------------------------------------------------- */

static int
acme_challenge(json_t *v, struct acme_challenge *c, struct cv_err *err)
{
	static const char	*what = "challenge";

	if (!json_is_object(v))
		return cv_err_set(err, "authorization: a challenge is not an "
		    "object");
	if (acme_str(v, what, "type", 1, 32, &c->type, err) == -1 ||
	    acme_str(v, what, "url", 1, ACME_STR_MAX, &c->url, err) == -1 ||
	    acme_str(v, what, "status", 1, 32, &c->status, err) == -1 ||
	    acme_str(v, what, "token", 0, 256, &c->token, err) == -1 ||
	    acme_error_member(v, what, &c->error, err) == -1)
		return -1;
	return 0;
}

int
acme_authz_parse(const char *p, size_t len, struct acme_authz *az,
    struct cv_err *err)
{
	static const char	*what = "authorization";
	json_t			*o, *a, *v;
	size_t			 i;
	int			 rc = -1;

	memset(az, 0, sizeof(*az));
	if ((o = acme_json_load(what, p, len, err)) == NULL)
		return -1;
	if (acme_str(o, what, "status", 1, 32, &az->status, err) == -1)
		goto out;
	if ((v = json_object_get(o, "identifier")) == NULL) {
		cv_err_set(err, "%s: no \"identifier\"", what);
		goto out;
	}
	if (acme_identifier(v, what, &az->id, err) == -1)
		goto out;
	if ((v = json_object_get(o, "wildcard")) != NULL &&
	    !json_is_boolean(v)) {
		cv_err_set(err, "%s: \"wildcard\" is not a boolean", what);
		goto out;
	}
	az->wildcard = json_is_true(v);
	if (acme_array(o, what, "challenges", 1, &a, err) == -1)
		goto out;
	az->challenges = xcalloc(json_array_size(a) + 1,
	    sizeof(*az->challenges));
	json_array_foreach(a, i, v) {
		az->nchallenges++;
		if (acme_challenge(v, &az->challenges[i], err) == -1)
			goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		acme_authz_free(az);
	return rc;
}

void
acme_authz_free(struct acme_authz *az)
{
	size_t	i;

	free(az->status);
	acme_identifier_free(&az->id);
	for (i = 0; i < az->nchallenges; i++) {
		free(az->challenges[i].type);
		free(az->challenges[i].url);
		free(az->challenges[i].status);
		free(az->challenges[i].token);
		free(az->challenges[i].error);
	}
	free(az->challenges);
	memset(az, 0, sizeof(*az));
}

/* ---- renewal information (RFC 9773) ------------------------------------- */

int
acme_renewal_info_parse(const char *p, size_t len,
    struct acme_renewal_info *ri, struct cv_err *err)
{
	static const char	*what = "renewalInfo";
	json_t			*o, *w;
	int			 rc = -1;

	memset(ri, 0, sizeof(*ri));
	if ((o = acme_json_load(what, p, len, err)) == NULL)
		return -1;
	if ((w = json_object_get(o, "suggestedWindow")) == NULL ||
	    !json_is_object(w)) {
		cv_err_set(err, "%s: no \"suggestedWindow\" object", what);
		goto out;
	}
	if (acme_time(w, what, "start", 1, &ri->start, err) == -1 ||
	    acme_time(w, what, "end", 1, &ri->end, err) == -1)
		goto out;
	if (ri->end <= ri->start) {
		cv_err_set(err, "%s: the window ends before it starts", what);
		goto out;
	}
	if (acme_str(o, what, "explanationURL", 0, ACME_STR_MAX,
	    &ri->explanation_url, err) == -1)
		goto out;
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		acme_renewal_info_free(ri);
	return rc;
}

void
acme_renewal_info_free(struct acme_renewal_info *ri)
{
	free(ri->explanation_url);
	memset(ri, 0, sizeof(*ri));
}
