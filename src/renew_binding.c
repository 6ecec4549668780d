#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "binding.h"
#include "issuer.h"
#include "inventory.h"
#include "journal.h"
#include "proto.h"
#include "renew.h"
#include "renew_int.h"
#include "timeutil.h"
#include "xmalloc.h"

/*
 * Effective bindings are built once per configuration and journal
 * settings: building one parses every key again and resolves owner and
 * group (getpwnam, getgrnam: the name service, maybe LDAP).  An entry is
 * valid while the configuration is the same (renew_set_config clears the
 * cache) and the journal's settings for the name are equal to its own
 * (binding add/update change them).
 */
struct renew_eff {
	char		*name;
	json_t		*settings;	/* NULL: no journal row */
	struct binding	*b;		/* one reference */
};

/* Names remembered at most; past this the cache starts over. */
#define RENEW_MAX_EFF	4096

void
renew_eff_clear(struct renewer *r)
{
	size_t	i;

	for (i = 0; i < r->neff; i++) {
		free(r->eff[i].name);
		json_decref(r->eff[i].settings);
		binding_free(r->eff[i].b);
	}
	free(r->eff);
	r->eff = NULL;
	r->neff = 0;
}

static struct renew_eff *
renew_eff_find(struct renewer *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->neff; i++)
		if (strcmp(r->eff[i].name, name) == 0)
			return &r->eff[i];
	return NULL;
}

static struct binding *
renew_eff_build(struct renewer *r, const char *name, struct binding *base,
    json_t *settings, struct cv_err *err)
{
	struct renew_eff	*e = renew_eff_find(r, name);
	struct binding		*b;

	if (e != NULL && (settings == NULL ? e->settings == NULL :
	    e->settings != NULL && json_equal(settings, e->settings)))
		return binding_ref(e->b);
	if (base != NULL)
		b = binding_rebuild(base, settings, err);
	else {
		base = binding_new(name, 0, 0);
		b = binding_rebuild(base, settings, err);
		binding_free(base);
	}
	/* service = names sections of the configuration (issue 14). */
	if (b != NULL && conf_binding_services(r->cf, b, err) == -1) {
		binding_free(b);
		b = NULL;
	}
	if (b == NULL)
		return NULL;
	if (e == NULL) {
		if (r->neff == RENEW_MAX_EFF)
			renew_eff_clear(r);
		r->eff = xreallocarray(r->eff, r->neff + 1, sizeof(*r->eff));
		e = &r->eff[r->neff++];
		e->name = xstrdup(name);
	} else {
		json_decref(e->settings);
		binding_free(e->b);
	}
	e->settings = settings ? json_deep_copy(settings) : NULL;
	e->b = binding_ref(b);
	return b;
}

/* The binding as it stands: config keys, then run-time changes.  The
 * caller owns a reference (binding_free) and does not change it. */
struct binding *
renew_effective(struct renewer *r, const char *name, char certhash[41],
    struct cv_err *err)
{
	struct journal_binding	 jb;
	struct binding		*base, *b = NULL;
	int			 rc;

	certhash[0] = '\0';
	if ((rc = journal_binding_get(r->j, name, &jb)) == -1) {
		cv_err_set(err, "binding '%s': the journal cannot be read",
		    name);
		return NULL;
	}
	base = conf_binding(r->cf, name);
	if (rc != 0 && base == NULL) {
		cv_err_set(err, "no binding named '%s'", name);
		return NULL;
	}
	b = renew_eff_build(r, name, base, rc == 0 ? jb.settings : NULL, err);
	if (rc == 0) {
		snprintf(certhash, 41, "%s", jb.certhash);
		journal_binding_clear(&jb);
	}
	return b;
}

json_t *
renew_request(struct renewer *r, const char *name, int now,
    const char **code, struct cv_err *err)
{
	struct deployed_leaf	 l;
	struct binding		*b;
	struct renew		*rw;
	char			 ch[41], ts[TIMEUTIL_RFC3339_LEN];
	time_t			 m;
	int			 em, rc;

	if ((rw = renew_find(r, name)) != NULL) {
		*code = PROTO_E_BUSY;
		cv_err_set(err, "%s: renewal %lld is already in state %s",
		    name, (long long)rw->id, renew_state_name(rw->state));
		return NULL;
	}
	if ((b = renew_effective(r, name, ch, err)) == NULL) {
		*code = PROTO_E_NOT_FOUND;
		return NULL;
	}
	if (b->issuer == NULL || conf_issuer(r->cf, b->issuer) == NULL) {
		*code = PROTO_E_BAD_REQUEST;
		cv_err_set(err, "%s: no issuer (set issuer = NAME)", name);
		binding_free(b);
		return NULL;
	}
	if (!now) {
		/* The loop does not read files: an unwatched cert_file
		 * being read now means "ask again". */
		if ((rc = renew_deployed(r, b, &l, err)) != 0) {
			*code = rc == -1 ? PROTO_E_BAD_REQUEST : PROTO_E_BUSY;
			if (rc == DEPLOYED_PENDING)
				cv_err_set(err, "%s: %s is being read; ask "
				    "again in a moment", name, b->cert_file);
			binding_free(b);
			return NULL;
		}
		m = renew_when(r, b, ch, l.not_before, l.not_after,
		    renew_now(r), &em);
		if (m > renew_now(r)) {
			binding_free(b);
			return json_pack("{s:s, s:b, s:s}", "binding", name,
			    "started", 0, "next_renewal",
			    timeutil_rfc3339(m, ts, sizeof(ts)));
		}
	}
	if (renew_start(r, b, ch, now ? "forced" : "due", err) == -1) {
		*code = PROTO_E_INTERNAL;
		return NULL;
	}
	rw = renew_find(r, name);
	return json_pack("{s:s, s:b, s:I, s:s}", "binding", name, "started", 1,
	    "id", (json_int_t)(rw ? rw->id : 0), "state", rw ?
	    renew_state_name(rw->state) : "done");
}

json_t *
renew_list(struct renewer *r, const char *binding)
{
	return journal_list(r->j, binding);
}

/* ---- binding add / update / delete / show ---------------------------- */

static const char *
renew_arg(json_t *args, const char *k)
{
	return json_string_value(json_object_get(args, k));
}

/* Where b deploys, into o. */
static void
renew_binding_json_files(json_t *o, const struct binding *b)
{
	json_object_set_new(o, "cert_file", json_string(b->cert_file ?
	    b->cert_file : ""));
	json_object_set_new(o, "key_file", json_string(b->key_file ?
	    b->key_file : ""));
	if (b->chain_file)
		json_object_set_new(o, "chain_file",
		    json_string(b->chain_file));
	if (b->fullchain_file)
		json_object_set_new(o, "fullchain_file",
		    json_string(b->fullchain_file));
	if (b->combined_file)
		json_object_set_new(o, "combined_file",
		    json_string(b->combined_file));
	if (b->pfx_file) {
		json_object_set_new(o, "pfx_file", json_string(b->pfx_file));
		json_object_set_new(o, "pfx_password_file",
		    json_string(b->pfx_password_file));
		json_object_set_new(o, "pfx_legacy",
		    json_boolean(b->pfx_legacy));
	}
}

/*
 * Issue 14: "services", each with its commands and probes, in the order a
 * renewal runs them; "probes": every endpoint that must serve the
 * certificate (binding_probe_at), as the renewal's verify step sees them.
 */
static void
renew_binding_json_services(json_t *o, const struct binding *b)
{
	const struct binding	*svc;
	struct binding_probe	 bp;
	struct cv_err		 e;
	json_t			*arr = json_array(), *so, *pa;
	char			*s, ep[300];
	size_t			 i, k;

	for (i = 0; b->nservices > 0 && i < binding_nservices(b); i++) {
		svc = binding_service_at(b, i);
		so = json_pack("{s:s}", "name", svc->name);
		s = binding_argv_str(svc->stop);
		json_object_set_new(so, "stop", json_string(s));
		free(s);
		s = binding_argv_str(svc->start);
		json_object_set_new(so, "start", json_string(s));
		free(s);
		s = binding_argv_str(svc->reload);
		json_object_set_new(so, "reload", json_string(s));
		free(s);
		s = binding_argv_str(svc->config_test);
		json_object_set_new(so, "config_test", json_string(s));
		free(s);
		pa = json_array();
		for (k = 0; k < svc->nprobes; k++)
			json_array_append_new(pa, json_string(svc->probes[k]));
		json_object_set_new(so, "probe", pa);
		json_array_append_new(arr, so);
	}
	json_object_set_new(o, "services", arr);
	pa = json_array();
	for (i = 0; i < binding_nprobes(b); i++)
		if (binding_probe_at(b, i, &bp, &e) == 0) {
			probe_endpoint_str(&bp.ep, ep, sizeof(ep));
			json_array_append_new(pa, json_string(ep));
		}
	json_object_set_new(o, "probes", pa);
}

/* How b is renewed: commands, issuer and schedule settings, into o. */
static void
renew_binding_json_policy(struct renewer *r, json_t *o,
    const struct binding *b)
{
	char *const	*cmds[4] = { b->stop, b->start, b->reload,
	    b->config_test };
	const char	*keys[4] = { "stop", "start", "reload", "config_test" };
	struct issuer	*is;
	char		*s;
	size_t		 i;

	for (i = 0; i < 4; i++) {
		s = binding_argv_str(cmds[i]);
		json_object_set_new(o, keys[i], json_string(s));
		free(s);
	}
	json_object_set_new(o, "require_client_cert",
	    json_boolean(b->require_client_cert));
	is = b->issuer ? conf_issuer(r->cf, b->issuer) : NULL;
	json_object_set_new(o, "issuer", b->issuer ? json_pack("{s:s, s:s}",
	    "name", b->issuer, "type", is ? issuer_type_name(is) :
	    "undefined") : json_null());
	json_object_set_new(o, "window", b->window_str ?
	    json_string(b->window_str) : json_null());
	json_object_set_new(o, "timezone", json_string(b->timezone ?
	    b->timezone : "local"));
	json_object_set_new(o, "renew_before", json_string(b->renew_before ?
	    b->renew_before : "1/3"));
}

/* The next renewal of b, whose deployed certificate is l (or NULL). */
static void
renew_binding_json_next(struct renewer *r, json_t *o, struct binding *b,
    const char *ch, const struct deployed_leaf *l)
{
	char	ts[TIMEUTIL_RFC3339_LEN];
	time_t	m;
	int	em;

	if (l == NULL || b->issuer == NULL) {
		json_object_set_new(o, "next_renewal", json_null());
		return;
	}
	m = renew_when(r, b, ch, l->not_before, l->not_after, renew_now(r),
	    &em);
	json_object_set_new(o, "not_after", json_string(
	    timeutil_rfc3339(l->not_after, ts, sizeof(ts))));
	json_object_set_new(o, "next_renewal", json_string(
	    timeutil_rfc3339(m, ts, sizeof(ts))));
	json_object_set_new(o, "emergency", json_boolean(em));
}

static json_t *
renew_binding_json(struct renewer *r, const char *name)
{
	struct deployed_leaf	 l;
	struct binding		*b;
	struct cv_err		 e;
	struct journal_binding	 jb;
	char			 ch[41];
	int			 rc;
	json_t			*o, *df;

	if ((b = renew_effective(r, name, ch, &e)) == NULL)
		return NULL;
	o = json_object();
	json_object_set_new(o, "name", json_string(b->name));
	json_object_set_new(o, b->hostnameport ? "hostnameport" : "ipport",
	    json_string(binding_endpoint(b)));
	json_object_set_new(o, "certhash", *ch ? json_string(ch) :
	    json_null());
	json_object_set_new(o, "appid", b->appid ? json_string(b->appid) :
	    json_null());
	if (journal_binding_get(r->j, name, &jb) == 0) {
		json_object_set_new(o, "source", json_string(jb.source));
		journal_binding_clear(&jb);
	}
	json_object_set_new(o, "client", json_boolean(b->is_client));
	renew_binding_json_files(o, b);
	/* Not known yet (an unwatched file being read on the pool): no
	 * deployed_sha1, no next_renewal, "deployed": "reading". */
	if ((rc = renew_deployed(r, b, &l, &e)) == 0)
		json_object_set_new(o, "deployed_sha1", json_string(l.sha1));
	else if (rc == DEPLOYED_PENDING)
		json_object_set_new(o, "deployed", json_string("reading"));
	/* drifted_files: every form whose leaf is not certhash (issue 14;
	 * a form still being read is left out). */
	df = json_array();
	if (rc == 0 && *l.sha1 && *ch && strcmp(l.sha1, ch) != 0)
		json_array_append_new(df, json_string(b->cert_file));
	renew_forms_drift(r, b, ch, 0, df);
	json_object_set_new(o, "drift", json_boolean(json_array_size(df) > 0));
	json_object_set_new(o, "drifted_files", df);
	renew_binding_json_policy(r, o, b);
	renew_binding_json_services(o, b);
	renew_binding_json_next(r, o, b, ch, rc == 0 && *l.sha1 ? &l : NULL);
	/* issue 17: null for a binding without ARI */
	json_object_set_new(o, "ari", json_null());
	if ((df = renew_ari_json(r, b, ch)) != NULL)
		json_object_set_new(o, "ari", df);
	binding_free(b);
	return o;
}

static const char *
renew_binding_endpoint_arg(json_t *args)
{
	const char	*ep = renew_arg(args, "ipport");

	return ep ? ep : renew_arg(args, "hostnameport");
}

/* binding show [ipport= | hostnameport= | name=]. */
static json_t *
renew_binding_show(struct renewer *r, const char *ep, const char *name,
    const char **code, struct cv_err *err)
{
	json_t	*v, *arr = json_array();
	char	**names;
	size_t	 i, n;

	journal_binding_names(r->j, &names, &n);
	for (i = 0; i < n; i++) {
		v = renew_binding_json(r, names[i]);
		if (v != NULL && ep != NULL && strcmp(ep,
		    json_string_value(json_object_get(v,
		    json_object_get(v, "ipport") ? "ipport" :
		    "hostnameport"))) != 0) {
			json_decref(v);
			v = NULL;
		}
		if (v != NULL && name != NULL && strcmp(name, names[i]) != 0) {
			json_decref(v);
			v = NULL;
		}
		if (v != NULL)
			json_array_append_new(arr, v);
		free(names[i]);
	}
	free(names);
	if ((ep != NULL || name != NULL) && json_array_size(arr) == 0) {
		json_decref(arr);
		*code = PROTO_E_NOT_FOUND;
		cv_err_set(err, "no binding for %s", ep ? ep : name);
		return NULL;
	}
	return arr;
}

/*
 * A certhash given to add / update must be a certificate the inventory
 * knows, with its key (seen in a watched file, or key_file matching the
 * deployed cert_file).
 */
static int
renew_binding_certhash(struct renewer *r, const struct binding *b,
    const char *certhash, struct cv_err *err)
{
	int	known, has_key;

	known = journal_cert_known(r->j, certhash, &has_key);
	if (known <= 0) {
		cv_err_set(err, "certhash %s is not in the inventory "
		    "(watch the directory that holds it, or add it to "
		    "a watched path)", certhash);
		return -1;
	}
	if (!has_key && b->cert_file && b->key_file) {
		char		 s1[41];
		struct cv_err	 e;
		gnutls_x509_privkey_t key = NULL;
		struct x509_load_opts lo;
		struct x509_file *f = NULL;

		memset(&lo, 0, sizeof(lo));
		if (binding_deployed_sha1(b, s1, NULL, NULL, &e) == 0 &&
		    !strcmp(s1, certhash) &&
		    pki_key_load(b->key_file, NULL, &key, &e) == 0 &&
		    x509_load_file(b->cert_file, &lo, &f, &e) == 0 &&
		    f->ncerts > 0 && pki_key_matches(key,
		    f->certs[pki_file_leaf(f)].crt))
			has_key = 1;
		if (key != NULL)
			gnutls_x509_privkey_deinit(key);
		x509_file_free(f);
	}
	if (!has_key) {
		cv_err_set(err, "certhash %s: the private key of this "
		    "certificate is not known (no watched file holds "
		    "it with its key, and key_file does not match)",
		    certhash);
		return -1;
	}
	/* The alert engine's next look (at most an hour) follows the
	 * binding's certificate: a deployed one is never superseded.  A
	 * write that fails after this costs one evaluation. */
	inventory_mark_namesakes(r->inv, certhash);
	return 0;
}

/* binding add: refused when bound already, incomplete or declared in
 * the config; otherwise jb is the new runtime row. */
static int
renew_binding_add(struct renewer *r, json_t *args, const char *ep,
    const char *name, int rc, struct journal_binding *jb, struct cv_err *err)
{
	if (rc == 0)
		return cv_err_set(err, "%s is already bound (binding %s); "
		    "use binding update", jb->endpoint, jb->name);
	if (ep == NULL || renew_arg(args, "certhash") == NULL ||
	    renew_arg(args, "appid") == NULL)
		return cv_err_set(err, "binding add needs ipport= (or "
		    "hostnameport=), certhash= and appid=");
	if (name == NULL)
		name = ep;
	if (conf_binding(r->cf, name) != NULL)
		return cv_err_set(err, "binding %s is declared in %s", name,
		    r->cf->file);
	jb->name = xstrdup(name);
	jb->source = xstrdup("runtime");
	jb->settings = json_object();
	return 0;
}

/* binding delete: runtime bindings only, and not while renewed. */
static json_t *
renew_binding_delete(struct renewer *r, const struct journal_binding *jb,
    const char **code, struct cv_err *err)
{
	if (strcmp(jb->source, "config") == 0 &&
	    conf_binding(r->cf, jb->name) != NULL) {
		cv_err_set(err, "binding %s is declared in %s: remove it there "
		    "and reload", jb->name, r->cf->file);
		return NULL;
	}
	if (renew_find(r, jb->name) != NULL) {
		*code = PROTO_E_BUSY;
		cv_err_set(err, "binding %s is being renewed", jb->name);
		return NULL;
	}
	journal_binding_delete(r->j, jb->name);
	return json_pack("{s:s, s:b}", "name", jb->name, "deleted", 1);
}

/* add / update: every given key but name and certhash lands in the
 * settings; what is not given stays as it was. */
static json_t *
renew_binding_settings(json_t *old, json_t *args, struct cv_err *err)
{
	json_t		*settings = json_deep_copy(old), *v;
	const char	*k;

	json_object_foreach(args, k, v) {
		if (!strcmp(k, "name") || !strcmp(k, "certhash"))
			continue;
		if (!json_is_string(v)) {
			cv_err_set(err, "%s: a string is expected", k);
			json_decref(settings);
			return NULL;
		}
		json_object_set(settings, k, v);
	}
	return settings;
}

/*
 * What only root may do (the trust model in certvigild(8)): choose what
 * root runs, which files it writes or reads and who may read the key, or
 * change a binding of the root-owned config file.  The admin group tunes
 * run-time bindings.
 */
static int
renew_binding_allowed(struct renewer *r, const char *op, json_t *args,
    const char *name, struct cv_err *err)
{
	const char	*k;
	json_t		*v;
	int		 cls;

	if (strcmp(op, "add") != 0 && name != NULL &&
	    conf_binding(r->cf, name) != NULL)
		return cv_err_set(err, "binding %s: %s is declared in %s; "
		    "only root may change it (admin_may_run_commands = no)",
		    op, name, r->cf->file);
	json_object_foreach(args, k, v) {
		if ((cls = binding_key_class(k)) > BK_TUNING)
			return cv_err_set(err, "binding %s: '%s' may be set "
			    "only by root (admin_may_run_commands = no)", op,
			    k);
	}
	return 0;
}

json_t *
renew_binding(struct renewer *r, const char *op, json_t *args, int root,
    const char **code, struct cv_err *err)
{
	struct journal_binding	 jb;
	struct binding		*b = NULL, *base;
	const char		*ep = renew_binding_endpoint_arg(args);
	const char		*name = renew_arg(args, "name");
	json_t			*settings = NULL, *res = NULL;
	char			*certhash = NULL;
	int			 rc;

	*code = PROTO_E_BAD_REQUEST;
	memset(&jb, 0, sizeof(jb));
	if (strcmp(op, "show") == 0)
		return renew_binding_show(r, ep, name, code, err);
	if (ep == NULL && name == NULL) {
		cv_err_set(err, "ipport=, hostnameport= or name= is required");
		return NULL;
	}
	rc = ep != NULL ? journal_binding_by_endpoint(r->j, ep, &jb) :
	    journal_binding_get(r->j, name, &jb);
	if (!root && renew_binding_allowed(r, op, args, rc == 0 ? jb.name :
	    name, err) == -1) {
		*code = PROTO_E_DENIED;
		goto out;
	}
	if (strcmp(op, "add") == 0) {
		if (renew_binding_add(r, args, ep, name, rc, &jb, err) == -1)
			goto out;
	} else if (rc != 0) {
		*code = PROTO_E_NOT_FOUND;
		cv_err_set(err, "no binding for %s", ep ? ep : name);
		goto out;
	} else if (strcmp(op, "delete") == 0) {
		res = renew_binding_delete(r, &jb, code, err);
		goto out;
	} else if (strcmp(op, "update") != 0) {
		cv_err_set(err, "binding: '%s' is not add, update, delete or "
		    "show", op);
		goto out;
	}
	if ((settings = renew_binding_settings(jb.settings, args, err)) ==
	    NULL)
		goto out;
	base = conf_binding(r->cf, jb.name);
	if (base == NULL)
		base = b = binding_new(jb.name, 0, 0);
	b = binding_rebuild(base, settings, err);
	if (base != conf_binding(r->cf, jb.name))
		binding_free(base);
	if (b == NULL || conf_binding_services(r->cf, b, err) == -1)
		goto out;
	if (renew_arg(args, "certhash") != NULL) {
		if (binding_set_key(b, "certhash", renew_arg(args, "certhash"),
		    err) == -1)
			goto out;
		certhash = xstrdup(b->certhash);
		if (renew_binding_certhash(r, b, certhash, err) == -1)
			goto out;
		snprintf(jb.certhash, sizeof(jb.certhash), "%s", certhash);
	}
	free(jb.endpoint);
	jb.endpoint = xstrdup(binding_endpoint(b));
	free(jb.appid);
	jb.appid = b->appid ? xstrdup(b->appid) : NULL;
	json_decref(jb.settings);
	jb.settings = settings;
	settings = NULL;
	if (journal_binding_put(r->j, &jb, timeutil_now()) == -1) {
		*code = PROTO_E_INTERNAL;
		cv_err_set(err, "cannot write the binding");
		goto out;
	}
	res = renew_binding_json(r, jb.name);
	renew_schedule(r);
out:
	free(certhash);
	binding_free(b);
	json_decref(settings);
	journal_binding_clear(&jb);
	return res;
}

/* ---- the served watch's view (issue 15) ------------------------------ */

/* The journal's bindings, and those of the config file that have no
 * journal row yet (it comes once cert_file has been read). */
void
renew_watch_names(struct renewer *r, char ***names, size_t *n)
{
	size_t	i, k, nj;

	journal_binding_names(r->j, names, n);
	nj = *n;
	for (i = 0; i < r->cf->nbindings; i++) {
		for (k = 0; k < nj; k++)
			if (strcmp((*names)[k], r->cf->bindings[i]->name) == 0)
				break;
		if (k < nj)
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(r->cf->bindings[i]->name);
	}
}

struct binding *
renew_watch_binding(struct renewer *r, const char *name, char certhash[41],
    time_t *deployed_na, int *busy)
{
	struct deployed_leaf	 l;
	struct binding		*b;
	struct cv_err		 e;

	*deployed_na = 0;
	*busy = renew_find(r, name) != NULL;
	if ((b = renew_effective(r, name, certhash, &e)) == NULL)
		return NULL;
	if (renew_deployed(r, b, &l, &e) == 0)
		*deployed_na = l.not_after;
	return b;
}

int
renew_watch_busy(struct renewer *r, const char *name)
{
	return renew_find(r, name) != NULL;
}
