#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "journal.h"
#include "pki.h"
#include "store.h"
#include "xmalloc.h"

struct store {
	char		*dir;
	struct journal	*j;		/* the index; loop thread only */
};

static const char *store_ext[] = { "pem", "chain.pem", "key" };

struct store *
store_new(const char *dir, struct journal *j)
{
	struct store	*st = xcalloc(1, sizeof(*st));

	st->dir = xstrdup(dir);
	st->j = j;
	return st;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	free(st->dir);
	free(st);
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

int
store_mkdir(const struct store *st, struct cv_err *err)
{
	return fsutil_mkdirs(st->dir, 0700, err);
}

int
store_clean(const struct store *st)
{
	return fsutil_clean_stale_dir(st->dir);
}

/* ---- layout ---------------------------------------------------------- */

char *
store_path(const struct store *st, const char *sha1, enum store_part part)
{
	char	*p;

	xasprintf(&p, "%s/%s.%s", st->dir, sha1, store_ext[part]);
	return p;
}

char *
store_pending_path(const struct store *st, int64_t id)
{
	char	*p;

	xasprintf(&p, "%s/pending-%lld.key", st->dir, (long long)id);
	return p;
}

static char *
store_issued_path(const struct store *st, int64_t id)
{
	char	*p;

	xasprintf(&p, "%s/issued-%lld", st->dir, (long long)id);
	return p;
}

/* ---- files ----------------------------------------------------------- */

int
store_pending_load(const struct store *st, int64_t id,
    gnutls_x509_privkey_t *key, struct cv_err *err)
{
	char	*p = store_pending_path(st, id);
	int	 rc = 0;

	*key = NULL;
	if (access(p, F_OK) == 0)
		rc = pki_key_load(p, NULL, key, err) == -1 ? -1 : 1;
	free(p);
	return rc;
}

int
store_pending_save(const struct store *st, int64_t id,
    gnutls_x509_privkey_t key, struct cv_err *err)
{
	gnutls_datum_t	 d = { NULL, 0 };
	char		*p = store_pending_path(st, id);
	int		 rc = -1;

	if (store_mkdir(st, err) == 0 && pki_key_pem(key, NULL, &d, err) == 0)
		rc = pki_write(p, &d, 0600, err);
	if (d.data != NULL) {
		explicit_bzero(d.data, d.size);
		gnutls_free(d.data);
	}
	free(p);
	return rc;
}

static void
store_sha1(gnutls_x509_crt_t crt, char sha1[41])
{
	unsigned char	md[20];
	size_t		len = sizeof(md), i;

	sha1[0] = '\0';
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, md, &len)
	    < 0)
		return;
	for (i = 0; i < 20; i++)
		snprintf(sha1 + 2 * i, 3, "%02x", md[i]);
}

/* Records that renewal id stored sha1; its pending key is now <sha1>.key. */
static int
store_mark_issued(const struct store *st, int64_t id, const char *sha1,
    struct cv_err *err)
{
	char	*p = store_issued_path(st, id), *kp;
	int	 rc;

	rc = fsutil_write_atomic(p, sha1, 40, 0600, (uid_t)-1, (gid_t)-1,
	    err);
	free(p);
	if (rc == 0) {
		kp = store_pending_path(st, id);
		unlink(kp);
		free(kp);
	}
	return rc;
}

int
store_put(const struct store *st, int64_t id, gnutls_x509_crt_t leaf,
    gnutls_x509_crt_t *chain, size_t nchain, gnutls_x509_privkey_t key,
    char sha1[41], struct cv_err *err)
{
	gnutls_datum_t		 d[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	struct fsutil_file	 f[3];
	char			*p[3] = { NULL, NULL, NULL };
	size_t			 i, n = 0;
	int			 rc = -1;

	if (store_mkdir(st, err) == -1)
		return -1;
	store_sha1(leaf, sha1);
	if (*sha1 == '\0')
		return cv_err_set(err, "the new certificate has no "
		    "thumbprint");
	memset(f, 0, sizeof(f));
	/* The key first and the leaf last: fsutil_write_set renames in
	 * this order, and a leaf means a whole set. */
	if (pki_key_pem(key, NULL, &d[0], err) == -1 ||
	    (nchain > 0 && pki_crts_pem(chain, nchain, &d[1], err) == -1) ||
	    pki_crts_pem(&leaf, 1, &d[2], err) == -1)
		goto out;
	for (i = 0; i < 3; i++) {
		if (i == STORE_CHAIN && nchain == 0)
			continue;
		p[i] = store_path(st, sha1, i == 0 ? STORE_KEY : i == 1 ?
		    STORE_CHAIN : STORE_CERT);
		f[n].path = p[i];
		f[n].data = d[i].data;
		f[n].len = d[i].size;
		f[n].mode = i == 0 ? 0600 : 0644;
		n++;
	}
	if (fsutil_write_set(f, n, err) == -1)
		goto out;
	rc = id > 0 ? store_mark_issued(st, id, sha1, err) : 0;
out:
	for (i = 0; i < 3; i++) {
		if (d[i].data != NULL) {
			explicit_bzero(d[i].data, d[i].size);
			gnutls_free(d[i].data);
		}
		free(p[i]);
	}
	return rc;
}

int
store_issued(const struct store *st, int64_t id, char sha1[41])
{
	unsigned char	*d = NULL;
	struct cv_err	 e;
	char		*p = store_issued_path(st, id), *cp = NULL;
	size_t		 len = 0;
	int		 rc = 0;

	sha1[0] = '\0';
	if (access(p, F_OK) == -1 ||
	    fsutil_read_file(p, 64, &d, &len, &e) == -1 || len != 40 ||
	    strspn((char *)d, "0123456789abcdef") != 40)
		goto out;
	cp = store_path(st, (char *)d, STORE_CERT);
	if (access(cp, F_OK) == 0) {
		memcpy(sha1, d, 40);
		sha1[40] = '\0';
		rc = 1;
	}
out:
	free(cp);
	free(d);
	free(p);
	return rc;
}

int
store_read(const struct store *st, const char *sha1, struct store_set *s,
    struct cv_err *err)
{
	char	*p;
	int	 rc = -1;

	memset(s, 0, sizeof(*s));
	p = store_path(st, sha1, STORE_CERT);
	if (fsutil_read_file(p, FSUTIL_MAX_FILE, &s->cert, &s->cert_len,
	    err) == -1)
		goto out;
	free(p);
	p = store_path(st, sha1, STORE_KEY);
	if (fsutil_read_file(p, FSUTIL_MAX_FILE, &s->key, &s->key_len,
	    err) == -1)
		goto out;
	free(p);
	p = store_path(st, sha1, STORE_CHAIN);
	if (access(p, F_OK) == 0 && fsutil_read_file(p, FSUTIL_MAX_FILE,
	    &s->chain, &s->chain_len, err) == -1)
		goto out;
	rc = 0;
out:
	free(p);
	if (rc == -1)
		store_set_free(s);
	return rc;
}

void
store_set_free(struct store_set *s)
{
	free(s->cert);
	free(s->chain);
	if (s->key != NULL) {
		explicit_bzero(s->key, s->key_len);
		free(s->key);
	}
	memset(s, 0, sizeof(*s));
}

void
store_remove(const struct store *st, const char *sha1)
{
	char	*p;
	int	 i;

	for (i = STORE_CERT; i <= STORE_KEY; i++) {
		p = store_path(st, sha1, (enum store_part)i);
		unlink(p);
		free(p);
	}
}

/* ---- the index ------------------------------------------------------- */

int
store_keep(struct store *st, const char *binding, const char *sha1,
    const char *keep_also, int keep, int64_t id, time_t now)
{
	char	**old = NULL, *p;
	int	  n = -1;
	size_t	  i;

	if (st->j != NULL && journal_store_add(st->j, sha1, binding, now,
	    keep, keep_also, &old) == 0) {
		for (n = 0; old[n] != NULL; n++)
			store_remove(st, old[n]);
		p = store_issued_path(st, id);
		unlink(p);
		free(p);
	}
	for (i = 0; old != NULL && old[i] != NULL; i++)
		free(old[i]);
	free(old);
	return n;
}
