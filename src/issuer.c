#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "argv.h"
#include "fsutil.h"
#include "issuer.h"
#include "log.h"
#include "pki.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

/*
 * The issuer types.  Adding one: a file issuer_NAME.c defining
 * issuer_type_NAME (its keys, finish, request, collect), its line here,
 * and the file in Makefile.am (HACKING: "Adding an issuer type").
 */
extern const struct issuer_type issuer_type_local;
extern const struct issuer_type issuer_type_csr;
extern const struct issuer_type issuer_type_exec;
extern const struct issuer_type issuer_type_acme;

static const struct issuer_type *issuer_types[] = {
	&issuer_type_local,
	&issuer_type_csr,
	&issuer_type_exec,
	&issuer_type_acme,
};
#define ISSUER_NTYPES	(sizeof(issuer_types) / sizeof(issuer_types[0]))

/* ---- config ---------------------------------------------------------- */

const char *
issuer_type_name(const struct issuer *is)
{
	return is != NULL && is->type != NULL ? is->type->name : "?";
}

/* "local, csr, exec" / "local, csr or exec", from the table. */
static void
issuer_type_list(char *buf, size_t len, const char *last_sep)
{
	size_t	i, l;

	buf[0] = '\0';
	for (i = 0; i < ISSUER_NTYPES; i++) {
		l = strlen(buf);
		snprintf(buf + l, len - l, "%s%s", i == 0 ? "" :
		    i + 1 == ISSUER_NTYPES ? last_sep : ", ",
		    issuer_types[i]->name);
	}
}

struct issuer *
issuer_new(const char *name, int line)
{
	struct issuer	*is = xcalloc(1, sizeof(*is));

	is->name = xstrdup(name);
	is->line = line;
	return is;
}

int
issuer_duration(const char *k, const char *v, int64_t *d, struct cv_err *err)
{
	int	rc = timeutil_parse_duration_unit(v, d);

	if (rc == -2)
		return cv_err_set(err, "%s = %s: " TIMEUTIL_UNIT_HINT, k, v);
	if (rc == -1 || *d < 1)
		return cv_err_set(err, "%s: '%s' is not a duration", k, v);
	return 0;
}

static int
issuer_unknown(const struct issuer *is, const char *k, struct cv_err *err)
{
	return cv_err_set(err, "unknown key '%s' in [issuer %s]", k,
	    is->name);
}

/* The keys every type takes: 0 set, -1 bad value, 1 not one of them. */
static int
issuer_common_key(struct issuer *is, const char *k, const char *v,
    struct cv_err *err)
{
	char	*end;
	long	 n;

	if (!strcmp(k, "ca_file"))
		return binding_path(k, v, &is->ca_file, err);
	if (!strcmp(k, "key_type")) {
		if (pki_key_type_parse(v, &is->key_type, err) == -1) {
			cv_err_prefix(err, "key_type");
			return -1;
		}
	} else if (!strcmp(k, "bits")) {
		n = strtol(v, &end, 10);
		if (end == v || *end || n < 0 || n > 16384)
			return cv_err_set(err, "bits: '%s' is not a key size",
			    v);
		is->bits = (unsigned)n;
	} else if (!strcmp(k, "reuse_key")) {
		if (binding_bool(v, &is->reuse_key) == -1)
			return cv_err_set(err, "reuse_key: '%s' is not yes or "
			    "no", v);
	} else
		return 1;
	return 0;
}

/*
 * A type-specific key before "type =": the first type that takes it
 * checks the value now (so a bad one is reported at its line), and the
 * key is applied once the type is known.
 */
static int
issuer_early_key(struct issuer *is, const char *k, const char *v,
    struct cv_err *err)
{
	struct issuer	 tmp;
	size_t		 i;
	int		 rc = 1;

	for (i = 0; i < ISSUER_NTYPES && rc == 1; i++) {
		tmp = *is;
		tmp.type = issuer_types[i];
		tmp.cfg = tmp.type->cfg_new();
		rc = tmp.type->set_key(&tmp, k, v, err);
		tmp.type->cfg_free(tmp.cfg);
	}
	if (rc != 0)
		return rc == 1 ? issuer_unknown(is, k, err) : -1;
	is->early = xreallocarray(is->early, is->nearly + 2, sizeof(char *));
	is->early[is->nearly++] = xstrdup(k);
	is->early[is->nearly++] = xstrdup(v);
	return 0;
}

static void
issuer_early_free(struct issuer *is)
{
	size_t	i;

	for (i = 0; i < is->nearly; i++)
		free(is->early[i]);
	free(is->early);
	is->early = NULL;
	is->nearly = 0;
}

static int
issuer_set_type(struct issuer *is, const char *v, struct cv_err *err)
{
	char	list[128];
	size_t	i;
	int	rc = 0;

	for (i = 0; i < ISSUER_NTYPES; i++)
		if (!strcmp(v, issuer_types[i]->name))
			break;
	if (i == ISSUER_NTYPES) {
		issuer_type_list(list, sizeof(list), ", ");
		return cv_err_set(err, "type: '%s' is not one of %s", v, list);
	}
	if (is->type != NULL)
		is->type->cfg_free(is->cfg);
	is->type = issuer_types[i];
	is->cfg = is->type->cfg_new();
	/* Keys given before the type: another type's are errors now. */
	for (i = 0; i + 1 < is->nearly && rc == 0; i += 2)
		if ((rc = is->type->set_key(is, is->early[i], is->early[i + 1],
		    err)) == 1)
			rc = issuer_unknown(is, is->early[i], err);
	issuer_early_free(is);
	return rc;
}

int
issuer_set_key(struct issuer *is, const char *k, const char *v,
    struct cv_err *err)
{
	int	rc;

	if (!strcmp(k, "type"))
		return issuer_set_type(is, v, err);
	if ((rc = issuer_common_key(is, k, v, err)) != 1)
		return rc;
	if (is->type == NULL)
		return issuer_early_key(is, k, v, err);
	if ((rc = is->type->set_key(is, k, v, err)) == 1)
		return issuer_unknown(is, k, err);
	return rc;
}

int
issuer_finish(struct issuer *is, struct cv_err *err)
{
	char	list[128];

	if (is->type == NULL) {
		issuer_type_list(list, sizeof(list), " or ");
		return cv_err_set(err, "[issuer %s] needs type = %s",
		    is->name, list);
	}
	is->trust = is->ca_file;
	return is->type->finish(is, err);
}

void
issuer_free(struct issuer *is)
{
	if (is == NULL)
		return;
	if (is->type != NULL)
		is->type->cfg_free(is->cfg);
	issuer_early_free(is);
	free(is->name);
	free(is->ca_file);
	free(is);
}

/* ---- the engine's interface ------------------------------------------ */

void
issuer_reply_clear(struct issuer_reply *r)
{
	argv_free(r->argv);
	argv_free(r->env);
	memset(r, 0, sizeof(*r));
}

int
issuer_ready(struct issuer_reply *r, const char *sha1)
{
	r->status = ISSUER_READY;
	snprintf(r->sha1, sizeof(r->sha1), "%s", sha1);
	snprintf(r->detail, sizeof(r->detail), "%s", sha1);
	return 0;
}

static int	issuer_pending_key_note(const struct issuer_job *,
		    gnutls_x509_privkey_t *, char *, size_t, struct cv_err *);

/* The set this renewal already stored (a step run again after a crash)
 * answers READY; otherwise the type's own step (request or collect). */
static int
issuer_call(const struct issuer_job *job, struct issuer_reply *r,
    int collect, struct cv_err *err)
{
	int	(*fn)(const struct issuer_job *, struct issuer_reply *,
		    struct cv_err *);
	char	sha1[41];

	issuer_reply_clear(r);
	if (job->is == NULL || job->is->type == NULL) {
		r->status = ISSUER_ERROR;
		return cv_err_set(err, "no issuer (set issuer = NAME in the "
		    "binding)");
	}
	fn = collect ? job->is->type->collect : job->is->type->request;
	if (store_issued(job->st, job->id, sha1))
		return issuer_ready(r, sha1);
	if (fn(job, r, err) == -1) {
		r->status = ISSUER_ERROR;
		return -1;
	}
	return 0;
}

int
issuer_request(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	char			 note[200] = "", sha1[41];
	size_t			 l;
	int			 rc;

	if (job->is == NULL || job->is->type == NULL)
		return issuer_call(job, r, 0, err);	/* "no issuer" */
	/* The pending key first, so that the renewal's detail can say why
	 * reuse_key was not honoured; the type's request then loads it. */
	if (job->is->reuse_key && !store_issued(job->st, job->id, sha1)) {
		if (issuer_pending_key_note(job, &key, note, sizeof(note),
		    err) == -1) {
			issuer_reply_clear(r);
			r->status = ISSUER_ERROR;
			return -1;
		}
		gnutls_x509_privkey_deinit(key);
	}
	rc = issuer_call(job, r, 0, err);
	if (rc == 0 && note[0] != '\0' && (l = strlen(r->detail)) <
	    sizeof(r->detail) - 3)
		snprintf(r->detail + l, sizeof(r->detail) - l, "%s%s",
		    l > 0 ? "; " : "", note);
	return rc;
}

int
issuer_collect(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	return issuer_call(job, r, 1, err);
}

/* ---- what the types share -------------------------------------------- */

/* "CN=x, O=y, OU=z, L=.., ST=.., C=.." or a bare common name.  Pointers
 * into buf. */
static void
issuer_subject(const struct binding *b, char *buf, size_t len,
    struct pki_subject *s)
{
	char	*p, *tok, *save = NULL, host[256];

	memset(s, 0, sizeof(*s));
	snprintf(buf, len, "%s", b->subject ? b->subject : "");
	if (*buf != '\0' && strchr(buf, '=') == NULL) {
		s->cn = buf;
		return;
	}
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if ((p = strchr(tok, '=')) == NULL)
			continue;
		*p++ = '\0';
		if (!strcasecmp(tok, "CN"))
			s->cn = p;
		else if (!strcasecmp(tok, "O"))
			s->o = p;
		else if (!strcasecmp(tok, "OU"))
			s->ou = p;
		else if (!strcasecmp(tok, "L"))
			s->l = p;
		else if (!strcasecmp(tok, "ST"))
			s->st = p;
		else if (!strcasecmp(tok, "C"))
			s->c = p;
	}
	if (s->cn == NULL) {
		/* The host the binding serves, else its name. */
		if (binding_check_host(b, host, sizeof(host)) != NULL) {
			size_t	l = strlen(buf) + 1;

			if (l + strlen(host) + 1 <= len) {
				memcpy(buf + l, host, strlen(host) + 1);
				s->cn = buf + l;
				return;
			}
		}
		s->cn = b->name;
	}
}

/*
 * key_file read as a last resort for reuse_key (the store had no set for
 * the binding's certhash): only the file itself -- no symlink, one link,
 * a regular file (the service user owning the directory could point it
 * at any key root can read) -- and only if it is the key of the
 * certificate cert_file serves.
 */
static int
issuer_reuse_key_file(const struct binding *b, gnutls_x509_privkey_t *key,
    struct cv_err *err)
{
	struct x509_load_opts	 o;
	struct x509_file	*kf = NULL, *cf = NULL;
	unsigned char		*data = NULL;
	size_t			 len = 0;
	int			 leaf, rc = -1;

	memset(&o, 0, sizeof(o));
	/* Deploy paths: a directory on the way swapped for a link to
	 * another service's would hand that service's key to this one. */
	if (fsutil_read(b->key_file, FSUTIL_NOFOLLOW | FSUTIL_ONE_LINK |
	    FSUTIL_WALK_DIRS, FSUTIL_MAX_FILE, &data, &len, err) == -1 ||
	    x509_load_mem(b->key_file, data, len, &o, &kf, err) == -1) {
		cv_err_prefix(err, "%s", b->key_file);
		goto out;
	}
	if (kf->nkeys == 0) {
		cv_err_set(err, "%s: no private key", b->key_file);
		goto out;
	}
	if (x509_load_path(b->cert_file, FSUTIL_WALK_DIRS, &o, &cf,
	    err) == -1 ||
	    (leaf = pki_file_leaf(cf)) == -1) {
		cv_err_set(err, "%s: no certificate to match the key with",
		    b->cert_file);
		goto out;
	}
	if (!pki_key_matches(kf->keys[0].key, cf->certs[leaf].crt)) {
		cv_err_set(err, "%s is not the key of %s", b->key_file,
		    b->cert_file);
		goto out;
	}
	if (gnutls_x509_privkey_init(key) < 0 ||
	    gnutls_x509_privkey_cpy(*key, kf->keys[0].key) < 0) {
		cv_err_set(err, "copying the key failed");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1 && *key != NULL) {
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
	}
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	x509_file_free(kf);
	x509_file_free(cf);
	return rc;
}

/*
 * reuse_key: the key of the set the binding serves (its certhash) from
 * the daemon's own store, which no one else writes; else key_file under
 * issuer_reuse_key_file's rules.  -1 (err says why) when neither.
 */
static int
issuer_reuse_key(const struct issuer_job *job, gnutls_x509_privkey_t *key,
    struct cv_err *err)
{
	struct cv_err	 e;
	char		*p;
	int		 rc = -1;

	*key = NULL;
	if (job->certhash != NULL && strlen(job->certhash) == 40 &&
	    strspn(job->certhash, "0123456789abcdef") == 40) {
		p = store_path(job->st, job->certhash, STORE_KEY);
		rc = access(p, F_OK) == 0 ? pki_key_load(p, NULL, key, &e) : -1;
		free(p);
		if (rc == 0)
			return 0;
	}
	return issuer_reuse_key_file(job->b, key, err);
}

int
issuer_new_key(const struct issuer_job *job, gnutls_x509_privkey_t *key,
    char *note, size_t notelen, struct cv_err *err)
{
	const struct issuer	*is = job->is;
	struct cv_err		 e;

	if (note != NULL && notelen > 0)
		note[0] = '\0';
	if (is->reuse_key) {
		if (issuer_reuse_key(job, key, &e) == 0)
			return 0;
		log_warn("binding %s: reuse_key: %s; a new key is made",
		    job->b->name, e.msg);
		if (note != NULL)
			snprintf(note, notelen, "reuse_key: %s; new key", e.msg);
	}
	return pki_key_generate(is->key_type, is->bits, key, err);
}

int
issuer_make_csr(const struct binding *b, gnutls_x509_privkey_t key,
    gnutls_x509_crq_t *crq, struct cv_err *err)
{
	struct pki_subject	s;
	struct pki_san_list	san;
	char			buf[1024];
	int			rc;

	memset(&san, 0, sizeof(san));
	issuer_subject(b, buf, sizeof(buf), &s);
	if (b->san != NULL && pki_san_parse(b->san, &san, err) == -1)
		return -1;
	rc = pki_csr_make(&s, &san, key, crq, err);
	pki_san_list_free(&san);
	return rc;
}

/* The pending key, made (note: why not the reused one) if missing. */
static int
issuer_pending_key_note(const struct issuer_job *job,
    gnutls_x509_privkey_t *key, char *note, size_t notelen,
    struct cv_err *err)
{
	int	rc;

	if ((rc = store_pending_load(job->st, job->id, key, err)) != 0)
		return rc == 1 ? 0 : -1;
	if (issuer_new_key(job, key, note, notelen, err) == -1)
		return -1;
	if (store_pending_save(job->st, job->id, *key, err) == -1) {
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
		return -1;
	}
	return 0;
}

int
issuer_pending_key(const struct issuer_job *job, gnutls_x509_privkey_t *key,
    struct cv_err *err)
{
	return issuer_pending_key_note(job, key, NULL, 0, err);
}

int
issuer_write_request(const struct issuer_job *job, const char *path,
    struct cv_err *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crq_t	 crq = NULL;
	gnutls_datum_t		 d = { NULL, 0 };
	int			 rc = -1;

	if (issuer_pending_key(job, &key, err) == -1 ||
	    issuer_make_csr(job->b, key, &crq, err) == -1 ||
	    pki_csr_pem(crq, &d, err) == -1 ||
	    pki_write(path, &d, 0644, err) == -1)
		goto out;
	rc = 0;
out:
	if (d.data != NULL)
		gnutls_free(d.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

static int
issuer_cert_ext(const char *name)
{
	const char	*dot = strrchr(name, '.');

	return dot != NULL && (!strcasecmp(dot, ".cer") ||
	    !strcasecmp(dot, ".crt") || !strcasecmp(dot, ".pem") ||
	    !strcasecmp(dot, ".p7b"));
}

/* Tries one file: 0 found (stored), 1 not in it. */
static int
issuer_try_file(const struct issuer_job *job, const char *path,
    gnutls_x509_privkey_t key, const unsigned char kid[32], char sha1[41],
    struct cv_err *err)
{
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	gnutls_x509_crt_t	*chain = NULL;
	struct cv_err		 e;
	size_t			 i, n = 0, leaf = 0;
	int			 found = 0, rc = 1;

	memset(&o, 0, sizeof(o));
	if (x509_load_file(path, &o, &f, &e) == -1 || f == NULL)
		goto out;
	for (i = 0; i < f->ncerts; i++)
		if (!f->certs[i].is_ca &&
		    memcmp(f->certs[i].key_id, kid, 32) == 0) {
			leaf = i;
			found = 1;
			break;
		}
	if (!found)
		goto out;
	chain = xcalloc(f->ncerts + 1, sizeof(*chain));
	for (i = 0; i < f->ncerts; i++)
		if (i != leaf)
			chain[n++] = f->certs[i].crt;
	rc = store_put(job->st, job->id, f->certs[leaf].crt, chain, n, key,
	    sha1, err) == -1 ? -1 : 0;
out:
	free(chain);
	x509_file_free(f);
	return rc;
}

int
issuer_collect_path(const struct issuer_job *job, const char *path,
    char sha1[41], struct cv_err *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	unsigned char		 kid[32];
	char			*fp;
	struct dirent		*de;
	DIR			*d = NULL;
	int			 rc = -1;

	if ((rc = store_pending_load(job->st, job->id, &key, err)) == 0) {
		fp = store_pending_path(job->st, job->id);
		cv_err_set(err, "%s: %s", fp, strerror(ENOENT));
		free(fp);
	}
	if (rc != 1 || x509_privkey_id(key, kid) == -1) {
		cv_err_prefix(err, "pending key");
		rc = -1;
		goto out;
	}
	if ((d = opendir(path)) == NULL) {
		if (errno != ENOTDIR) {
			rc = errno == ENOENT ? 1 : cv_err_set(err, "%s: %s",
			    path, strerror(errno));
			goto out;
		}
		rc = issuer_try_file(job, path, key, kid, sha1, err);
		goto out;
	}
	rc = 1;
	while (rc == 1 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !issuer_cert_ext(de->d_name))
			continue;
		xasprintf(&fp, "%s/%s", path, de->d_name);
		rc = issuer_try_file(job, fp, key, kid, sha1, err);
		free(fp);
	}
out:
	if (d != NULL)
		closedir(d);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

int
issuer_validate(const struct issuer_job *job, const char *sha1,
    struct cv_err *err)
{
	const struct binding	*b = job->b;
	struct pki_check_opts	 o;
	struct pki_check_list	 l;
	struct x509_load_opts	 lo;
	struct x509_file	*f = NULL, *kf = NULL, *cf = NULL;
	gnutls_x509_crt_t	 chain[16];
	char			*p = NULL, host[256], msg[400] = "";
	size_t			 i, n = 0, len;
	int			 rc = -1;

	memset(&l, 0, sizeof(l));
	memset(&lo, 0, sizeof(lo));
	p = store_path(job->st, sha1, STORE_CERT);
	if (x509_load_file(p, &lo, &f, err) == -1 || f->ncerts == 0) {
		if (f != NULL && f->ncerts == 0)
			cv_err_set(err, "%s: no certificate", p);
		goto out;
	}
	free(p);
	p = store_path(job->st, sha1, STORE_KEY);
	if (x509_load_file(p, &lo, &kf, err) == -1 || kf->nkeys == 0) {
		if (kf != NULL && kf->nkeys == 0)
			cv_err_set(err, "%s: no key", p);
		goto out;
	}
	free(p);
	p = store_path(job->st, sha1, STORE_CHAIN);
	if (access(p, F_OK) == 0 && x509_load_file(p, &lo, &cf, err) == 0)
		for (i = 0; i < cf->ncerts && n < 16; i++)
			chain[n++] = cf->certs[i].crt;
	memset(&o, 0, sizeof(o));
	o.host = binding_check_host(b, host, sizeof(host));
	o.purpose = b->is_client ? PKI_PURPOSE_CLIENT : PKI_PURPOSE_SERVER;
	o.ca_file = job->is != NULL ? job->is->trust : NULL;
	o.min_days = -1;
	o.now = job->now;
	if (pki_check(f->certs[0].crt, chain, n, kf->keys[0].key, &o, &l,
	    err) == -1)
		goto out;
	for (i = 0; i < l.n; i++) {
		if (l.v[i].status != PKI_CHECK_FAIL)
			continue;
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, "%s%s: %s", len ? "; " :
		    "", l.v[i].rule, l.v[i].detail);
	}
	if (l.nfail > 0) {
		cv_err_set(err, "the new certificate fails the checks: %s",
		    msg);
		goto out;
	}
	rc = 0;
out:
	pki_check_list_free(&l);
	x509_file_free(f);
	x509_file_free(kf);
	x509_file_free(cf);
	free(p);
	return rc;
}
