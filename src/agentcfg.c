#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentcfg.h"
#include "buf.h"
#include "fsutil.h"
#include "xmalloc.h"

/* config.ini files are small; this bounds what we read and rewrite. */
#define AGENTCFG_MAX_FILE	(4u * 1024 * 1024)

struct agentcfg_line {
	const char	*p;
	size_t		 len;		/* without the line ending */
	size_t		 eol;		/* 0, 1 ("\n") or 2 ("\r\n") */
};

static struct agentcfg_line *
agentcfg_split(const char *in, size_t len, size_t *n)
{
	struct agentcfg_line	*v = NULL;
	const char		*p = in, *end = in + len, *nl;

	*n = 0;
	while (p < end) {
		v = xreallocarray(v, *n + 1, sizeof(*v));
		nl = memchr(p, '\n', (size_t)(end - p));
		v[*n].p = p;
		if (nl == NULL) {
			v[*n].len = (size_t)(end - p);
			v[*n].eol = 0;
			p = end;
		} else {
			v[*n].len = (size_t)(nl - p);
			v[*n].eol = 1;
			if (v[*n].len > 0 && nl[-1] == '\r') {
				v[*n].len--;
				v[*n].eol = 2;
			}
			p = nl + 1;
		}
		(*n)++;
	}
	return v;
}

static void
agentcfg_trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* If the line is "[name]", sets name/nlen and returns 1. */
static int
agentcfg_section(const struct agentcfg_line *l, const char **name,
    size_t *nlen)
{
	const char	*s = l->p, *close;
	size_t		 n = l->len;

	agentcfg_trim(&s, &n);
	if (n < 2 || s[0] != '[' || (close = memchr(s, ']', n)) == NULL)
		return 0;
	*name = s + 1;
	*nlen = (size_t)(close - s - 1);
	agentcfg_trim(name, nlen);
	return 1;
}

/*
 * If the line is "key = value", sets the key and the offset where the
 * value starts (after "=" and any blanks), and returns 1.
 */
static int
agentcfg_keyline(const struct agentcfg_line *l, const char **key,
    size_t *klen, size_t *voff)
{
	const char	*s = l->p, *eq;
	size_t		 n = l->len, i;

	agentcfg_trim(&s, &n);
	if (n == 0 || *s == ';' || *s == '#' || *s == '[')
		return 0;
	if ((eq = memchr(l->p, '=', l->len)) == NULL)
		return 0;
	*key = l->p;
	*klen = (size_t)(eq - l->p);
	agentcfg_trim(key, klen);
	if (*klen == 0)
		return 0;
	i = (size_t)(eq - l->p) + 1;
	while (i < l->len && (l->p[i] == ' ' || l->p[i] == '\t'))
		i++;
	*voff = i;
	return 1;
}

static int
agentcfg_eq(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

static int
agentcfg_valid(const char *what, const char *s, const char *bad,
    struct cv_err *err)
{
	if (*s == '\0' && strcmp(what, "value") != 0)
		return cv_err_set(err, "config.ini: empty %s", what);
	if (strpbrk(s, bad) != NULL)
		return cv_err_set(err, "config.ini: %s '%s' may not contain "
		    "a line break%s", what, s, strchr(bad, ']') ? " or ']'" :
		    strchr(bad, '=') ? " or '='" : "");
	/*
	 * A name the reader would trim or take for a comment could never
	 * be found again: every run would add it once more
	 * (fuzz/repro/agentcfg/key-blank).
	 */
	if (strcmp(what, "value") != 0 && (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[strlen(s) - 1])))
		return cv_err_set(err, "config.ini: %s '%s' may not begin or "
		    "end with a blank", what, s);
	/* Blanks after "=" are kept as they are; the value starts after
	 * them (fuzz/repro/agentcfg/value-blank). */
	if (s[0] == ' ' || s[0] == '\t')
		return cv_err_set(err, "config.ini: %s '%s' may not begin "
		    "with a blank", what, s);
	if (strcmp(what, "key") == 0 && (s[0] == ';' || s[0] == '#'))
		return cv_err_set(err, "config.ini: key '%s' may not begin "
		    "with ';' or '#'", s);
	return 0;
}

/* One section: a pass over the text, from in to out. */
static void
agentcfg_apply1(const char *in, size_t len, const char *section,
    const struct agentcfg_kv *kv, size_t nkv, struct buf *b)
{
	struct agentcfg_line	*v;
	const char		*name, *key, *eol;
	char			*found = xcalloc(nkv ? nkv : 1, 1);
	size_t			 n, i, j, nlen, klen, voff;
	ssize_t			 insert = -1;
	int			 insec = 0, any;

	v = agentcfg_split(in, len, &n);
	eol = n > 0 && v[0].eol == 2 ? "\r\n" : "\n";
	/* Where to add missing keys: after the section's last key line. */
	for (i = 0; i < n; i++) {
		if (agentcfg_section(&v[i], &name, &nlen)) {
			insec = agentcfg_eq(name, nlen, section);
			if (insec)
				insert = (ssize_t)i;
			continue;
		}
		if (!insec || !agentcfg_keyline(&v[i], &key, &klen, &voff))
			continue;
		insert = (ssize_t)i;
		for (j = 0; j < nkv; j++)
			if (agentcfg_eq(key, klen, kv[j].key))
				found[j] = 1;
	}
	insec = 0;
	for (i = 0; i < n; i++) {
		if (agentcfg_section(&v[i], &name, &nlen))
			insec = agentcfg_eq(name, nlen, section);
		else if (insec && agentcfg_keyline(&v[i], &key, &klen,
		    &voff)) {
			for (j = 0; j < nkv; j++)
				if (agentcfg_eq(key, klen, kv[j].key))
					break;
			if (j < nkv) {
				buf_add(b, v[i].p, voff);
				buf_cat(b, kv[j].value);
				buf_add(b, v[i].p + v[i].len, v[i].eol);
				goto next;
			}
		}
		buf_add(b, v[i].p, v[i].len + v[i].eol);
next:
		if ((ssize_t)i != insert)
			continue;
		for (j = 0, any = 0; j < nkv; j++) {
			if (found[j])
				continue;
			if (!any && v[i].eol == 0)
				buf_cat(b, eol);
			any = 1;
			buf_cat(b, kv[j].key);
			buf_cat(b, "=");
			buf_cat(b, kv[j].value);
			buf_cat(b, eol);
		}
	}
	if (insert == -1) {
		if (b->len > 0 && b->p[b->len - 1] != '\n')
			buf_cat(b, eol);
		/* A blank line between the last section and ours. */
		if (n > 0 && (v[n - 1].len > 0 || v[n - 1].eol == 0))
			buf_cat(b, eol);
		buf_cat(b, "[");
		buf_cat(b, section);
		buf_cat(b, "]");
		buf_cat(b, eol);
		for (j = 0; j < nkv; j++) {
			buf_cat(b, kv[j].key);
			buf_cat(b, "=");
			buf_cat(b, kv[j].value);
			buf_cat(b, eol);
		}
	}
	free(found);
	free(v);
}

int
agentcfg_apply(const char *in, size_t len, const char *const *sections,
    size_t nsections, const struct agentcfg_kv *kv, size_t nkv, char **out,
    size_t *outlen, int *changed, struct cv_err *err)
{
	struct buf	 b;
	char			*cur;
	size_t			 curlen, i;

	*out = NULL;
	*outlen = 0;
	*changed = 0;
	for (i = 0; i < nsections; i++)
		if (agentcfg_valid("section", sections[i], "\r\n]", err) == -1)
			return -1;
	for (i = 0; i < nkv; i++)
		if (agentcfg_valid("key", kv[i].key, "\r\n=[", err) == -1 ||
		    agentcfg_valid("value", kv[i].value, "\r\n", err) == -1)
			return -1;
	cur = xmalloc(len + 1);
	memcpy(cur, in, len);
	cur[len] = '\0';
	curlen = len;
	for (i = 0; i < nsections; i++) {
		memset(&b, 0, sizeof(b));
		buf_add(&b, "", 0);
		agentcfg_apply1(cur, curlen, sections[i], kv, nkv, &b);
		free(cur);
		cur = b.p;
		curlen = b.len;
	}
	*changed = curlen != len || memcmp(cur, in, len) != 0;
	*out = cur;
	*outlen = curlen;
	return 0;
}

/*
 * Root edits a file in a directory its agent's user may own: the file is
 * opened in the directory opened once (fsutil_open_parent), never through
 * a symlink nor a hard link -- a link to /etc/shadow would get INI lines
 * appended -- and the new text replaces it by a temp file and renameat in
 * that same directory.
 */
int
agentcfg_update_file(const char *path, const char *const *sections,
    size_t nsections, const struct agentcfg_kv *kv, size_t nkv,
    int *changed, struct cv_err *err)
{
	struct stat	 st;
	unsigned char	*data = NULL;
	char		*out = NULL, *base = NULL;
	size_t		 len, outlen;
	int		 dfd, fd = -1, rc = -1;

	*changed = 0;
	if ((dfd = fsutil_open_parent(path, &base, err)) == -1)
		return -1;
	if ((fd = fsutil_open_at(dfd, base, FSUTIL_NOFOLLOW | FSUTIL_ONE_LINK,
	    &st, err)) == -1 || fsutil_read_fd(fd, &st, AGENTCFG_MAX_FILE,
	    &data, &len, err) == -1) {
		cv_err_prefix(err, "%s", path);
		goto out;
	}
	if (memchr(data, '\0', len) != NULL) {
		cv_err_set(err, "%s: binary data (NUL bytes): not an INI file",
		    path);
		goto out;
	}
	if (agentcfg_apply((char *)data, len, sections, nsections, kv, nkv,
	    &out, &outlen, changed, err) == -1) {
		cv_err_prefix(err, "%s", path);
		goto out;
	}
	if (*changed && fsutil_write_atomic_at(dfd, base, path, out, outlen,
	    st.st_mode & 07777, st.st_uid == geteuid() ? (uid_t)-1 : st.st_uid,
	    st.st_gid == getegid() ? (gid_t)-1 : st.st_gid, err) == -1)
		goto out;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	close(dfd);
	free(out);
	free(data);
	free(base);
	return rc;
}

int
agentcfg_set_client_cert(const char *path, const char *const *sections,
    size_t nsections, const char *cert, const char *key, int *changed,
    struct cv_err *err)
{
	static const char *const common[] = { AGENTCFG_COMMON_SECTION };
	struct agentcfg_kv	 kv[3];

	kv[0].key = "AddClientCertificateAndKey";
	kv[0].value = "True";
	kv[1].key = "SSLClientCertificateFile";
	kv[1].value = cert;
	kv[2].key = "SSLClientPrivateKeyFile";
	kv[2].value = key;
	if (nsections == 0) {
		sections = common;
		nsections = 1;
	}
	return agentcfg_update_file(path, sections, nsections, kv, 3, changed,
	    err);
}
