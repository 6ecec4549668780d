/*
 * type = acme (issue 17): certificates from an ACME CA (RFC 8555).  The
 * request and every collect drive one order a step further (acme_order.c)
 * and answer PENDING until the chain is in the store: each call is
 * short and blocking on the renewal's worker thread; the engine's timer
 * spaces them (Retry-After honoured), so no thread sleeps.
 *
 * Progress is a record (acme_order.h) written atomically to
 * STATE_DIR/work/acme-ID.json after each step and mirrored in the reply's
 * detail (the journal's), so a renewal interrupted anywhere -- kill -9,
 * restart, HUP -- resumes the same order instead of placing a new one.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme_http.h"
#include "acme_order.h"
#include "argv.h"
#include "fsutil.h"
#include "jws.h"
#include "pki.h"
#include "timeutil.h"
#include "xmalloc.h"

#define ACME_MAX_CONTACTS	16
#define ACME_MAX_RECORD		(256 * 1024)
#define ACME_ORDER_TIMEOUT	3600	/* order_timeout's default (s) */
#define ACME_POLL_FIRST_MS	250	/* a poll without Retry-After: this, */
#define ACME_POLL_MAX_MS	1000	/* doubled each time up to this */

/* Two renewals creating the same account key at once would leave one
 * with a key the file no longer holds. */
static pthread_mutex_t	acme_key_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
issuer_acme_new(void)
{
	struct acme_cfg	*c = xcalloc(1, sizeof(*c));

	c->challenge = xstrdup("http-01");
	c->order_timeout = ACME_ORDER_TIMEOUT;
	return c;
}

static void
issuer_acme_free(void *p)
{
	struct acme_cfg	*c = p;
	size_t		 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncontact; i++)
		free(c->contact[i]);
	free(c->contact);
	free(c->directory);
	free(c->directory_ca_file);
	free(c->account_key);
	free(c->eab_kid);
	free(c->eab_hmac_key_file);
	free(c->profile);
	free(c->preferred_chain);
	free(c->challenge);
	free(c->webroot);
	free(c->http_listen);
	argv_free(c->dns_hook);
	free(c);
}

static int
issuer_acme_str(const char *k, const char *v, char **dst, struct cv_err *err)
{
	size_t	i;

	if (*v == '\0' || strlen(v) > 1024)
		return cv_err_set(err, "%s: empty or too long", k);
	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return cv_err_set(err, "%s: control character", k);
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

/* contact = mailto:a@x [mailto:b@y ...]; the key may be repeated. */
static int
issuer_acme_contact(struct acme_cfg *c, const char *v, struct cv_err *err)
{
	char	*dup = xstrdup(v), *tok, *save = NULL;
	int	 rc = 0;

	for (tok = strtok_r(dup, " ,\t", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, " ,\t", &save)) {
		if (strncmp(tok, "mailto:", 7) != 0 || tok[7] == '\0' ||
		    strchr(tok + 7, '@') == NULL)
			rc = cv_err_set(err, "contact: '%s' is not mailto:"
			    "ADDRESS", tok);
		else if (c->ncontact >= ACME_MAX_CONTACTS)
			rc = cv_err_set(err, "contact: more than %d",
			    ACME_MAX_CONTACTS);
		else {
			c->contact = xreallocarray(c->contact,
			    c->ncontact + 1, sizeof(*c->contact));
			c->contact[c->ncontact++] = xstrdup(tok);
		}
	}
	free(dup);
	return rc;
}

/* dns_hook = COMMAND [ARGS]: split as sh would, run without one. */
static int
issuer_acme_hook(struct acme_cfg *c, const char *v, struct cv_err *err)
{
	argv_free(c->dns_hook);
	c->dns_hook = NULL;
	if (argv_split(v, &c->dns_hook, NULL, err) == -1) {
		cv_err_prefix(err, "dns_hook");
		return -1;
	}
	if (c->dns_hook[0] == NULL || c->dns_hook[0][0] != '/')
		return cv_err_set(err, "dns_hook: '%s' is not an absolute "
		    "path", c->dns_hook[0] ? c->dns_hook[0] : "");
	return 0;
}

static int
issuer_acme_key(struct issuer *is, const char *k, const char *v,
    struct cv_err *err)
{
	struct acme_cfg	*c = is->cfg;

	if (!strcmp(k, "directory")) {
		if (strncmp(v, "https://", 8) != 0 &&
		    strncmp(v, "http://", 7) != 0)
			return cv_err_set(err, "directory: '%s' is not an "
			    "https:// URL", v);
		return issuer_acme_str(k, v, &c->directory, err);
	}
	if (!strcmp(k, "directory_ca_file"))
		return binding_path(k, v, &c->directory_ca_file, err);
	if (!strcmp(k, "account_key"))
		return binding_path(k, v, &c->account_key, err);
	if (!strcmp(k, "eab_hmac_key_file"))
		return binding_path(k, v, &c->eab_hmac_key_file, err);
	if (!strcmp(k, "webroot"))
		return binding_path(k, v, &c->webroot, err);
	if (!strcmp(k, "contact"))
		return issuer_acme_contact(c, v, err);
	if (!strcmp(k, "eab_kid"))
		return issuer_acme_str(k, v, &c->eab_kid, err);
	if (!strcmp(k, "profile"))
		return issuer_acme_str(k, v, &c->profile, err);
	if (!strcmp(k, "preferred_chain"))
		return issuer_acme_str(k, v, &c->preferred_chain, err);
	if (!strcmp(k, "ari")) {
		if (binding_bool(v, &c->no_ari) == -1)
			return cv_err_set(err, "ari: '%s' is not yes or no", v);
		c->no_ari = !c->no_ari;
		return 0;
	}
	if (!strcmp(k, "ari_poll"))
		return issuer_duration(k, v, &c->ari_poll, err);
	if (!strcmp(k, "challenge")) {
		if (strcmp(v, "http-01") != 0 && strcmp(v, "dns-01") != 0)
			return cv_err_set(err, "challenge: '%s' is not "
			    "supported (http-01, dns-01)", v);
		return issuer_acme_str(k, v, &c->challenge, err);
	}
	if (!strcmp(k, "http_listen")) {
		if (acme_http_addr_ok(v, err) == -1)
			return -1;
		return issuer_acme_str(k, v, &c->http_listen, err);
	}
	if (!strcmp(k, "order_timeout"))
		return issuer_duration(k, v, &c->order_timeout, err);
	if (!strcmp(k, "dns_propagation"))
		return issuer_duration(k, v, &c->dns_propagation, err);
	if (!strcmp(k, "dns_hook"))
		return issuer_acme_hook(c, v, err);
	return 1;
}

static int
issuer_acme_finish(struct issuer *is, struct cv_err *err)
{
	struct acme_cfg	*c = is->cfg;

	if (c->directory == NULL)
		return cv_err_set(err, "[issuer %s] (acme) needs directory",
		    is->name);
	if ((c->eab_kid == NULL) != (c->eab_hmac_key_file == NULL))
		return cv_err_set(err, "[issuer %s] (acme) needs eab_kid and "
		    "eab_hmac_key_file together", is->name);
	/* (webroot is the message's name for it: http_listen is the
	 * alternative certvigil.conf(5) gives.) */
	if (!strcmp(c->challenge, "http-01") && c->webroot == NULL &&
	    c->http_listen == NULL)
		return cv_err_set(err, "[issuer %s] (acme) challenge http-01 "
		    "needs webroot", is->name);
	if (c->webroot != NULL && c->http_listen != NULL)
		return cv_err_set(err, "[issuer %s] (acme) takes webroot or "
		    "http_listen, not both", is->name);
	if (strcmp(c->challenge, "http-01") != 0 && c->http_listen != NULL)
		return cv_err_set(err, "[issuer %s] (acme) http_listen is for "
		    "challenge = http-01", is->name);
	if (!strcmp(c->challenge, "dns-01") && c->dns_hook == NULL)
		return cv_err_set(err, "[issuer %s] (acme) challenge dns-01 "
		    "needs dns_hook", is->name);
	if (strcmp(c->challenge, "dns-01") != 0 && (c->dns_hook != NULL ||
	    c->dns_propagation > 0))
		return cv_err_set(err, "[issuer %s] (acme) dns_hook and "
		    "dns_propagation are for challenge = dns-01", is->name);
	return 0;
}

/* account_key, or STATE_DIR/acme/NAME/account.key (work_dir's parent). */
static char *
issuer_acme_key_path(const struct issuer_job *job)
{
	const struct acme_cfg	*c = job->is->cfg;
	char			*wd, *p;

	if (c->account_key != NULL)
		return xstrdup(c->account_key);
	wd = xstrdup(job->work_dir);
	xasprintf(&p, "%s/acme/%s/account.key", dirname(wd), job->is->name);
	free(wd);
	return p;
}

/* The account key, created on first use: EC P-256, 0600, atomically. */
static int
issuer_acme_account_key(const struct issuer_job *job,
    gnutls_x509_privkey_t *key, struct cv_err *err)
{
	gnutls_datum_t	 d = { NULL, 0 };
	char		*path = issuer_acme_key_path(job), *dir = NULL;
	int		 rc = -1;

	*key = NULL;
	pthread_mutex_lock(&acme_key_lock);
	if (access(path, F_OK) == 0 || errno != ENOENT) {
		rc = pki_key_load(path, NULL, key, err);
		goto out;
	}
	dir = xstrdup(path);
	if (fsutil_mkdirs(dirname(dir), 0700, err) == -1 ||
	    pki_key_generate(PKI_KEY_EC, 256, key, err) == -1 ||
	    pki_key_pem(*key, NULL, &d, err) == -1 ||
	    fsutil_write_atomic(path, d.data, d.size, 0600, (uid_t)-1,
	    (gid_t)-1, err) == -1)
		goto out;
	rc = 0;
out:
	pthread_mutex_unlock(&acme_key_lock);
	if (rc == -1) {
		cv_err_prefix(err, "account key %s", path);
		if (*key != NULL)
			gnutls_x509_privkey_deinit(*key);
		*key = NULL;
	}
	if (d.data != NULL) {
		explicit_bzero(d.data, d.size);
		gnutls_free(d.data);
	}
	free(dir);
	free(path);
	return rc;
}

/* The EAB MAC key: base64url in a file root controls, never in argv. */
static int
issuer_acme_hmac(const struct acme_cfg *c, unsigned char **k, size_t *len,
    struct cv_err *err)
{
	unsigned char	*data = NULL;
	size_t		 n = 0;
	int		 rc;

	*k = NULL;
	*len = 0;
	if (c->eab_hmac_key_file == NULL)
		return 0;
	if (fsutil_read_file(c->eab_hmac_key_file, 4096, &data, &n, err) == -1)
		return -1;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r' ||
	    data[n - 1] == ' '))
		data[--n] = '\0';
	rc = jws_b64url_decode((char *)data, k, len, err);
	explicit_bzero(data, n);
	free(data);
	if (rc == -1)
		cv_err_prefix(err, "eab_hmac_key_file %s", c->eab_hmac_key_file);
	return rc;
}

static char *
issuer_acme_record_path(const struct issuer_job *job)
{
	char	*p;

	xasprintf(&p, "%s/acme-%lld.json", job->work_dir, (long long)job->id);
	return p;
}

/*
 * A renewal starting for a binding: the records other renewals of the
 * same binding left (a binding has one renewal at a time, so theirs have
 * ended, e.g. while the daemon was down) go, as the store prunes what no
 * renewal will read again.
 */
static void
issuer_acme_record_prune(const struct issuer_job *job)
{
	DIR		*d;
	struct dirent	*de;
	json_t		*o;
	json_error_t	 je;
	char		*p;
	long long	 id;
	int		 n;

	if ((d = opendir(job->work_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "acme-%lld.json%n", &id, &n) != 1 ||
		    de->d_name[n] != '\0' || id == (long long)job->id)
			continue;
		xasprintf(&p, "%s/%s", job->work_dir, de->d_name);
		if ((o = json_load_file(p, 0, &je)) != NULL &&
		    json_is_string(json_object_get(o, "binding")) &&
		    !strcmp(json_string_value(json_object_get(o, "binding")),
		    job->b->name))
			(void)unlink(p);
		json_decref(o);
		free(p);
	}
	closedir(d);
}

/* The renewal's progress record: an empty one when there is none. */
static int
issuer_acme_record_load(const struct issuer_job *job, json_t **rec,
    struct cv_err *err)
{
	char		*p = issuer_acme_record_path(job);
	unsigned char	*data = NULL;
	size_t		 n = 0;
	json_error_t	 je;
	int		 rc = -1;

	*rec = NULL;
	if (access(p, F_OK) == -1 && errno == ENOENT) {
		issuer_acme_record_prune(job);
		*rec = json_pack("{s:s}", "binding", job->b->name);
		rc = 0;
		goto out;
	}
	if (fsutil_read_file(p, ACME_MAX_RECORD, &data, &n, err) == -1)
		goto out;
	if ((*rec = json_loadb((char *)data, n, 0, &je)) == NULL ||
	    !json_is_object(*rec)) {
		cv_err_set(err, "%s: not a progress record", p);
		goto out;
	}
	rc = 0;
out:
	free(data);
	free(p);
	return rc;
}

static int
issuer_acme_record_save(const struct issuer_job *job, json_t *rec,
    struct cv_err *err)
{
	char	*p = issuer_acme_record_path(job), *s;
	int	 rc;

	s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	rc = fsutil_write_atomic(p, s, strlen(s), 0600, (uid_t)-1,
	    (gid_t)-1, err);
	free(s);
	free(p);
	return rc;
}

static void
issuer_acme_record_drop(const struct issuer_job *job)
{
	char	*p = issuer_acme_record_path(job);

	(void)unlink(p);
	free(p);
}

/* "acme STEP: ORDER (ids; challenge)": what renewals shows. */
static void
issuer_acme_detail(const struct acme_ctx *c, struct issuer_reply *r)
{
	const char	*step = json_string_value(json_object_get(c->rec,
			    "step"));
	const char	*order = json_string_value(json_object_get(c->rec,
			    "order"));
	json_t		*ids = json_object_get(c->rec, "identifiers"), *e;
	char		 names[160] = "";
	size_t		 i, l;

	json_array_foreach(ids, i, e) {
		l = strlen(names);
		snprintf(names + l, sizeof(names) - l, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(e, "value")));
	}
	snprintf(r->detail, sizeof(r->detail), "acme %s: %s (%s; %s)",
	    step ? step : "started", order ? order : "no order yet", names,
	    c->cfg->challenge);
}

/* Test builds: exit 99 right after recording step (as renew.c does
 * after committing a state), CERTVIGIL_TEST_CRASH_AT=acme-STEP. */
static void
issuer_acme_crash(const char *step)
{
#ifdef CV_TEST_HOOKS
	const char	*at = getenv("CERTVIGIL_TEST_CRASH_AT");

	if (at != NULL && !strncmp(at, "acme-", 5) && !strcmp(at + 5, step))
		_exit(99);
#else
	(void)step;
#endif
}

/* The session's kid into the record (looked up again mid-request when
 * the CA refused the one recorded). */
static void
issuer_acme_kid(struct acme_ctx *c)
{
	if (c->s->kid != NULL)
		json_object_set_new(c->rec, "account",
		    json_string(c->s->kid));
}

static int
issuer_acme_step(struct acme_ctx *c, const char *step, struct cv_err *err)
{
	json_object_set_new(c->rec, "step", json_string(step));
	json_object_del(c->rec, "polls");	/* a new step: poll soon */
	issuer_acme_kid(c);
	if (c->s->nonce != NULL)
		json_object_set_new(c->rec, "nonce", json_string(c->s->nonce));
	if (issuer_acme_record_save(c->job, c->rec, err) == -1)
		return -1;
	issuer_acme_crash(step);
	return 0;
}

static const char *
issuer_acme_at(const struct acme_ctx *c)
{
	const char	*s = json_string_value(json_object_get(c->rec, "step"));

	return s != NULL ? s : "";
}

/* Seconds left of order_timeout for the record's order (INT64_MAX:
 * no order yet); an order past it is abandoned (dead: the engine's retry
 * places a new one) instead of staying pending forever. */
static int64_t
issuer_acme_left(const struct acme_ctx *c)
{
	json_t	*at = json_object_get(c->rec, "ordered_at");

	if (!json_is_integer(at))
		return INT64_MAX;
	return (int64_t)json_integer_value(at) + c->cfg->order_timeout -
	    (int64_t)timeutil_now();
}

static int
issuer_acme_overdue(struct acme_ctx *c, struct cv_err *err)
{
	char	d[32];

	c->dead = 1;
	return cv_err_set(err, "order %s not done after %s (order_timeout; "
	    "step %s): abandoned", json_string_value(json_object_get(c->rec,
	    "order")), timeutil_fmt_duration(c->cfg->order_timeout, d,
	    sizeof(d)), issuer_acme_at(c));
}

/* The order from where the record left it, one step after another. */
static int
issuer_acme_run(struct acme_ctx *c, const unsigned char *hmac,
    size_t hmac_len, char sha1[41], struct cv_err *err)
{
	const char	*acct = json_string_value(json_object_get(c->rec,
			    "account"));
	int		 rc;

	/* The record's kid, else the one known for this directory and
	 * key, else a look-up (acme_session.c). */
	if (acct != NULL)
		c->s->kid = xstrdup(acct);
	if ((rc = acme_session_account(c->s, (const char **)c->cfg->contact,
	    c->cfg->ncontact, c->cfg->eab_kid, hmac, hmac_len, err)) != 0)
		return rc;
	if (acct == NULL && issuer_acme_step(c, "account", err) == -1)
		return -1;
	if (json_object_get(c->rec, "order") == NULL) {
		if ((rc = acme_order_place(c, err)) != 0 ||
		    (rc = issuer_acme_step(c, "ordered", err)) != 0)
			return rc;
	} else if (issuer_acme_left(c) < 0)
		return issuer_acme_overdue(c, err);
	if (!strcmp(issuer_acme_at(c), "ordered")) {
		if ((rc = acme_order_authorize(c, err)) != 0 ||
		    (rc = issuer_acme_step(c, "authorized", err)) != 0)
			return rc;
	}
	if (!strcmp(issuer_acme_at(c), "authorized")) {
		if ((rc = acme_order_finalize(c, err)) != 0 ||
		    (rc = issuer_acme_step(c, "finalized", err)) != 0)
			return rc;
	}
	if ((rc = acme_order_download(c, sha1, err)) != 0)
		return rc;
	return issuer_acme_step(c, "downloaded", err);
}

/* Milliseconds to the next call: the server's Retry-After (retry_s),
 * else the poll backoff, counted in the record. */
static uint64_t
issuer_acme_retry_ms(struct acme_ctx *c)
{
	json_int_t	n;
	uint64_t	ms;

	if (c->retry_s > 0)
		return (uint64_t)c->retry_s * 1000;
	if ((n = json_integer_value(json_object_get(c->rec, "polls"))) < 0)
		n = 0;
	ms = n >= 3 ? ACME_POLL_MAX_MS : (uint64_t)ACME_POLL_FIRST_MS << n;
	json_object_set_new(c->rec, "polls", json_integer(n + 1));
	return ms > ACME_POLL_MAX_MS ? ACME_POLL_MAX_MS : ms;
}

/* What a call ends with: READY, PENDING or ERROR, the record kept. */
static int
issuer_acme_end(struct acme_ctx *c, int rc, const char *sha1,
    struct issuer_reply *r, struct cv_err *err)
{
	struct cv_err	e;
	int64_t		left;

	issuer_acme_detail(c, r);
	if (rc == 0) {
		issuer_acme_record_drop(c->job);
		return issuer_ready(r, sha1);
	}
	if (rc == 1) {
		r->status = ISSUER_PENDING;
		/* Back no later than order_timeout says the order ends. */
		if ((left = issuer_acme_left(c)) != INT64_MAX &&
		    c->retry_s > left + 1)
			c->retry_s = left + 1;
		r->retry_ms = issuer_acme_retry_ms(c);
		issuer_acme_kid(c);
		if (c->s->nonce != NULL)
			json_object_set_new(c->rec, "nonce",
			    json_string(c->s->nonce));
		if (issuer_acme_record_save(c->job, c->rec, &e) == -1)
			return cv_err_set(err, "%s", e.msg);
		return 0;
	}
	/* Nothing is served from a failed order: its challenge files go.
	 * An error ends the renewal (the engine's retry is a new renewal
	 * id, which never reads this record), so the record goes too, and
	 * the next attempt fetches the directory again. */
	acme_session_forget(c->s);
	acme_order_cleanup(c);
	issuer_acme_record_drop(c->job);
	return -1;
}

static int
issuer_acme_call(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	struct acme_session	 s;
	struct acme_ctx		 c;
	gnutls_x509_privkey_t	 key = NULL;
	unsigned char		*hmac = NULL;
	size_t			 hlen = 0;
	char			 sha1[41] = "";
	const char		*nonce;
	int			 rc = -1;

	memset(&s, 0, sizeof(s));
	memset(&c, 0, sizeof(c));
	c.job = job;
	c.cfg = job->is->cfg;
	c.s = &s;
	c.save = issuer_acme_record_save;
	s.now = job->now;
	if (issuer_acme_record_load(job, &c.rec, err) == -1 ||
	    issuer_acme_account_key(job, &key, err) == -1 ||
	    issuer_acme_hmac(c.cfg, &hmac, &hlen, err) == -1)
		goto out;
	if ((rc = acme_session_open(&s, c.cfg->directory,
	    c.cfg->directory_ca_file, key, err)) == 0) {
		if ((nonce = json_string_value(json_object_get(c.rec,
		    "nonce"))) != NULL)
			s.nonce = xstrdup(nonce);
		json_object_del(c.rec, "nonce");
		rc = issuer_acme_run(&c, hmac, hlen, sha1, err);
	}
	rc = issuer_acme_end(&c, rc, sha1, r, err);
out:
	if (hmac != NULL) {
		explicit_bzero(hmac, hlen);
		free(hmac);
	}
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	acme_session_close(&s);
	json_decref(c.rec);
	return rc;
}

const struct issuer_type issuer_type_acme = {
	.name = "acme",
	.cfg_new = issuer_acme_new,
	.cfg_free = issuer_acme_free,
	.set_key = issuer_acme_key,
	.finish = issuer_acme_finish,
	.request = issuer_acme_call,
	.collect = issuer_acme_call,
};
