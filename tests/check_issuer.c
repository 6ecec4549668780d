/*
 * The issuer types behind one interface (issue 11): every type parses its
 * own keys and refuses the others' with the config file's wording; the
 * local issuer runs end to end into a temporary store; csr and exec
 * write their request and collect by public key; the store keeps
 * BINDING_KEEP_STORE sets per binding and never the current one.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "binding.h"
#include "fsutil.h"
#include "inventory.h"
#include "issuer.h"
#include "journal.h"
#include "pki.h"
#include "store.h"
#include "xmalloc.h"

static char	dir[] = "/tmp/check_issuer.XXXXXX";
static char	path[512];

static const char *
at(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* ---- config ------------------------------------------------------------ */

static struct issuer *
issuer_of(const char *const *kv, struct cv_err *err, int *rc)
{
	struct issuer	*is = issuer_new("x", 1);
	size_t		 i;

	*rc = 0;
	for (i = 0; kv[i] != NULL && *rc == 0; i += 2)
		*rc = issuer_set_key(is, kv[i], kv[i + 1], err);
	if (*rc == 0)
		*rc = issuer_finish(is, err);
	return is;
}

START_TEST(test_types_parse)
{
	static const char *const local[] = { "type", "local", "ca_cert",
	    "/ca.pem", "ca_key", "/ca.key", "days", "30", "key_type", "ec",
	    "bits", "256", "reuse_key", "yes", "ca_file", "/t.pem", NULL };
	static const char *const csr[] = { "outbox", "/out", "type", "csr",
	    "inbox", "/in", "alert_after", "1d", "key_type", "rsa", NULL };
	static const char *const exec[] = { "type", "exec", "command",
	    "/bin/sign 'a b'", "timeout", "30s", "reuse_key", "no", NULL };
	struct issuer	*is;
	struct cv_err	 err;
	int		 rc;

	is = issuer_of(local, &err, &rc);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(issuer_type_name(is), "local");
	ck_assert_str_eq(is->trust, "/t.pem");
	ck_assert_int_eq(is->reuse_key, 1);
	ck_assert_int_eq(is->key_type, PKI_KEY_EC);
	issuer_free(is);
	/* A key of the type given before "type =" is kept for it. */
	is = issuer_of(csr, &err, &rc);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(issuer_type_name(is), "csr");
	ck_assert_ptr_null(is->trust);
	issuer_free(is);
	is = issuer_of(exec, &err, &rc);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(issuer_type_name(is), "exec");
	issuer_free(is);
	/* local: the CA is the chain check's anchor unless ca_file. */
	is = issuer_of((const char *const []){ "type", "local", "ca_cert",
	    "/ca.pem", "ca_key", "/ca.key", NULL }, &err, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(is->trust, "/ca.pem");
	issuer_free(is);
	ck_assert_str_eq(issuer_type_name(NULL), "?");
}
END_TEST

/* Every type refuses the keys of the others, with the config wording. */
START_TEST(test_types_reject)
{
	static const struct {
		const char	*type, *key, *value;
	} bad[] = {
		{ "local", "inbox", "/in" }, { "local", "outbox", "/out" },
		{ "local", "alert_after", "1d" }, { "local", "command", "x" },
		{ "local", "timeout", "1m" },
		{ "csr", "ca_cert", "/c" }, { "csr", "ca_key", "/k" },
		{ "csr", "days", "3" }, { "csr", "command", "x" },
		{ "csr", "timeout", "1m" },
		{ "exec", "ca_cert", "/c" }, { "exec", "days", "3" },
		{ "exec", "inbox", "/in" }, { "exec", "alert_after", "1d" },
	};
	struct issuer	*is;
	struct cv_err	 err;
	char		 want[128];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "unknown key '%s' in [issuer x]",
		    bad[i].key);
		/* After the type... */
		is = issuer_new("x", 1);
		ck_assert_int_eq(issuer_set_key(is, "type", bad[i].type, &err),
		    0);
		ck_assert_int_eq(issuer_set_key(is, bad[i].key, bad[i].value,
		    &err), -1);
		ck_assert_str_eq(err.msg, want);
		issuer_free(is);
		/* ...and before it: refused when the type is known. */
		is = issuer_new("x", 1);
		ck_assert_int_eq(issuer_set_key(is, bad[i].key, bad[i].value,
		    &err), 0);
		ck_assert_int_eq(issuer_set_key(is, "type", bad[i].type, &err),
		    -1);
		ck_assert_str_eq(err.msg, want);
		issuer_free(is);
	}
	is = issuer_new("x", 1);
	ck_assert_int_eq(issuer_set_key(is, "bogus", "1", &err), -1);
	ck_assert_str_eq(err.msg, "unknown key 'bogus' in [issuer x]");
	ck_assert_int_eq(issuer_set_key(is, "type", "vault", &err), -1);
	ck_assert_str_eq(err.msg, "type: 'vault' is not one of local, csr, "
	    "exec, acme");
	/* A bad value is reported at its own line, type or no type. */
	ck_assert_int_eq(issuer_set_key(is, "days", "0", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "days: '0' is not a number "
	    "from 1 to"));
	ck_assert_int_eq(issuer_set_key(is, "timeout", "soon", &err), -1);
	ck_assert_str_eq(err.msg, "timeout: 'soon' is not a duration");
	ck_assert_int_eq(issuer_set_key(is, "inbox", "rel", &err), -1);
	ck_assert_str_eq(err.msg, "inbox: 'rel' is not an absolute path");
	ck_assert_int_eq(issuer_set_key(is, "bits", "x", &err), -1);
	ck_assert_str_eq(err.msg, "bits: 'x' is not a key size");
	issuer_free(is);
}
END_TEST

START_TEST(test_finish_errors)
{
	static const struct {
		const char *const	 kv[5];
		const char		*msg;
	} t[] = {
		{ { "ca_file", "/t", NULL }, "[issuer x] needs type = local, "
		    "csr, exec or acme" },
		{ { "type", "local", "ca_cert", "/c", NULL },
		    "[issuer x] (local) needs ca_cert and ca_key" },
		{ { "type", "csr", "inbox", "/in", NULL },
		    "[issuer x] (csr) needs outbox and inbox" },
		{ { "type", "exec", "timeout", "1m", NULL },
		    "[issuer x] (exec) needs command" },
		{ { "type", "acme", "webroot", "/w", NULL },
		    "[issuer x] (acme) needs directory" },
		{ { "type", "acme", "directory", "https://ca/dir", NULL },
		    "[issuer x] (acme) challenge http-01 needs webroot" },
	};
	/* issue 17: dns-01, http_listen, order_timeout */
	static const struct {
		const char *const	 kv[9];
		const char		*msg;
	} t2[] = {
		{ { "type", "acme", "directory", "https://ca/dir", "challenge",
		    "dns-01", NULL },
		    "[issuer x] (acme) challenge dns-01 needs dns_hook" },
		{ { "type", "acme", "directory", "https://ca/dir", "webroot",
		    "/w", "http_listen", "127.0.0.1:80", NULL },
		    "[issuer x] (acme) takes webroot or http_listen, not both" },
		{ { "type", "acme", "directory", "https://ca/dir", "webroot",
		    "/w", "dns_hook", "/bin/true", NULL },
		    "[issuer x] (acme) dns_hook and dns_propagation are for "
		    "challenge = dns-01" },
		{ { "type", "acme", "directory", "https://ca/dir", "challenge",
		    "dns-01", "http_listen", "127.0.0.1:80", NULL },
		    "[issuer x] (acme) http_listen is for challenge = "
		    "http-01" },
		{ { "type", "acme", "challenge", "tls-alpn-01", NULL },
		    "challenge: 'tls-alpn-01' is not supported (http-01, "
		    "dns-01)" },
		{ { "type", "acme", "dns_hook", "hook.sh add", NULL },
		    "dns_hook: 'hook.sh' is not an absolute path" },
		{ { "type", "acme", "http_listen", "localhost:80", NULL },
		    "http_listen: 'localhost:80': not an IP address and port" },
		{ { "type", "acme", "order_timeout", "soon", NULL },
		    "order_timeout: 'soon' is not a duration" },
	};
	struct issuer	*is;
	struct cv_err	 err;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		is = issuer_of(t[i].kv, &err, &rc);
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err.msg, t[i].msg);
		issuer_free(is);
	}
	for (i = 0; i < sizeof(t2) / sizeof(t2[0]); i++) {
		is = issuer_of(t2[i].kv, &err, &rc);
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err.msg, t2[i].msg);
		issuer_free(is);
	}
}
END_TEST

/* ---- the interface, into a temporary store ---------------------------- */

static gnutls_x509_privkey_t	ca_key;
static gnutls_x509_crt_t	ca_crt;
static struct store		*st;
static struct binding		*b;

static void
put_pem(const char *p, gnutls_datum_t *d)
{
	struct cv_err	err;

	ck_assert_int_eq(pki_write(p, d, 0600, &err), 0);
	gnutls_free(d->data);
}

static void
setup(void)
{
	struct pki_subject	s;
	struct cv_err		err;
	gnutls_datum_t		d;

	gnutls_global_init();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&s, 0, sizeof(s));
	s.cn = "check_issuer CA";
	ck_assert_int_eq(pki_key_generate(PKI_KEY_EC, 0, &ca_key, &err), 0);
	ck_assert_int_eq(pki_ca_init(&s, 30, ca_key, time(NULL), &ca_crt,
	    &err), 0);
	ck_assert_int_eq(pki_crts_pem(&ca_crt, 1, &d, &err), 0);
	put_pem(at("ca.pem"), &d);
	ck_assert_int_eq(pki_key_pem(ca_key, NULL, &d, &err), 0);
	put_pem(at("ca.key"), &d);
	mkdir(at("work"), 0700);
	mkdir(at("out"), 0700);
	mkdir(at("in"), 0700);
	st = store_new(at("store"), NULL);
	b = binding_new("web", 0, 1);
	ck_assert_int_eq(binding_set_key(b, "ipport", "127.0.0.1:443", &err),
	    0);
	ck_assert_int_eq(binding_set_key(b, "cert_file", at("web.pem"),
	    &err), 0);
	ck_assert_int_eq(binding_set_key(b, "key_file", at("web.key"), &err),
	    0);
	ck_assert_int_eq(binding_set_key(b, "subject", "CN=web.example.com",
	    &err), 0);
	ck_assert_int_eq(binding_set_key(b, "san", "DNS:web.example.com",
	    &err), 0);
	ck_assert_int_eq(binding_finish(b, &err), 0);
}

static void
teardown(void)
{
	char	cmd[256];

	binding_free(b);
	store_free(st);
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_x509_privkey_deinit(ca_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/check_issuer.XXXXXX");
	gnutls_global_deinit();
}

static struct issuer *
make_issuer(const char *type)
{
	char		 ca[600], key[600], out[600], in[600];
	struct issuer	*is;
	struct cv_err	 err;
	int		 rc;

	snprintf(ca, sizeof(ca), "%s", at("ca.pem"));
	snprintf(key, sizeof(key), "%s", at("ca.key"));
	snprintf(out, sizeof(out), "%s", at("out"));
	snprintf(in, sizeof(in), "%s", at("in"));
	if (!strcmp(type, "local"))
		is = issuer_of((const char *const []){ "type", "local",
		    "ca_cert", ca, "ca_key", key, "days", "20", "key_type",
		    "ec", NULL }, &err, &rc);
	else if (!strcmp(type, "csr"))
		is = issuer_of((const char *const []){ "type", "csr",
		    "outbox", out, "inbox", in, "ca_file", ca, "key_type",
		    "ec", NULL }, &err, &rc);
	else
		is = issuer_of((const char *const []){ "type", "exec",
		    "command", "/bin/true --sign", "timeout", "42s",
		    "ca_file", ca, "key_type", "ec", NULL }, &err, &rc);
	ck_assert_msg(rc == 0, "%s", err.msg);
	return is;
}

static void
make_job(struct issuer_job *job, const struct issuer *is, int64_t id)
{
	static char	work[600];

	snprintf(work, sizeof(work), "%s", at("work"));
	memset(job, 0, sizeof(*job));
	job->is = is;
	job->b = b;
	job->st = st;
	job->work_dir = work;
	job->id = id;
	job->now = time(NULL);
}

/* How many whole sets (<sha1>.pem) the store holds. */
static int
store_count(void)
{
	struct dirent	*de;
	DIR		*d = opendir(store_dir(st));
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strlen(de->d_name) == 44 &&
		    strcmp(de->d_name + 40, ".pem") == 0)
			n++;
	closedir(d);
	return n;
}

static int
exists(char *p)
{
	int	rc = access(p, F_OK) == 0;

	free(p);
	return rc;
}

START_TEST(test_local_end_to_end)
{
	struct issuer		*is = make_issuer("local");
	struct issuer_job	 job;
	struct issuer_reply	 r, r2;
	struct cv_err		 err;
	struct stat		 sb;
	char			*p;

	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	make_job(&job, is, 7);
	ck_assert_msg(issuer_request(&job, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, ISSUER_READY);
	ck_assert_uint_eq(strlen(r.sha1), 40);
	ck_assert_uint_eq(strspn(r.sha1, "0123456789abcdef"), 40);
	ck_assert(exists(store_path(st, r.sha1, STORE_CERT)));
	ck_assert(exists(store_path(st, r.sha1, STORE_CHAIN)));
	p = store_path(st, r.sha1, STORE_KEY);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	free(p);
	ck_assert(!exists(store_pending_path(st, 7)));
	ck_assert_msg(issuer_validate(&job, r.sha1, &err) == 0, "%s",
	    err.msg);
	/* Run again for the same renewal (a crash before the journal said
	 * issued): the same set, nothing new in the store. */
	ck_assert_msg(issuer_request(&job, &r2, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r2.status, ISSUER_READY);
	ck_assert_str_eq(r2.sha1, r.sha1);
	ck_assert_int_eq(store_count(), 1);
	/* Another renewal gets another certificate. */
	make_job(&job, is, 8);
	ck_assert_msg(issuer_request(&job, &r2, &err) == 0, "%s", err.msg);
	ck_assert_str_ne(r2.sha1, r.sha1);
	ck_assert_int_eq(store_count(), 2);
	/* The check gate: a host the certificate does not cover fails. */
	ck_assert_int_eq(binding_set_key(b, "san", "DNS:other.example.com",
	    &err), 0);
	ck_assert_int_eq(issuer_validate(&job, r2.sha1, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "the new certificate fails "
	    "the checks"));
	issuer_reply_clear(&r);
	issuer_reply_clear(&r2);
	issuer_free(is);
}
END_TEST

/* Signs renewal id's pending key with the test CA into file. */
static void
sign_pending(int64_t id, const char *file)
{
	struct pki_issue	 pi;
	gnutls_x509_privkey_t	 key;
	gnutls_x509_crt_t	 crt, both[2];
	gnutls_datum_t		 d;
	struct cv_err		 err;

	ck_assert_int_eq(store_pending_load(st, id, &key, &err), 1);
	memset(&pi, 0, sizeof(pi));
	ck_assert_int_eq(issuer_make_csr(b, key, &pi.crq, &err), 0);
	pi.ca_crt = ca_crt;
	pi.ca_key = ca_key;
	pi.purpose = PKI_PURPOSE_SERVER;
	pi.days = 10;		/* within the CA's 30 */
	pi.now = time(NULL);
	ck_assert_int_eq(pki_ca_issue(&pi, &crt, &err), 0);
	both[0] = crt;
	both[1] = ca_crt;
	ck_assert_int_eq(pki_crts_pem(both, 2, &d, &err), 0);
	put_pem(file, &d);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crq_deinit(pi.crq);
	gnutls_x509_privkey_deinit(key);
}

START_TEST(test_csr_pending_collect)
{
	struct issuer		*is = make_issuer("csr");
	struct issuer_job	 job;
	struct issuer_reply	 r;
	struct cv_err		 err;
	unsigned char		*k1, *k2;
	size_t			 l1, l2;
	char			*kp, want[700];

	memset(&r, 0, sizeof(r));
	make_job(&job, is, 3);
	ck_assert_msg(issuer_request(&job, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, ISSUER_PENDING);
	ck_assert_str_eq(r.detail, "CSR in the outbox");
	ck_assert_uint_eq(r.retry_ms, 2000);
	ck_assert_int_eq(r.alert_after, 3 * 86400);
	ck_assert_int_eq(access(at("out/web-3.csr"), F_OK), 0);
	/* A second request reuses the pending key. */
	kp = store_pending_path(st, 3);
	ck_assert_int_eq(fsutil_read_file(kp, 1 << 16, &k1, &l1, &err), 0);
	ck_assert_int_eq(issuer_request(&job, &r, &err), 0);
	ck_assert_int_eq(fsutil_read_file(kp, 1 << 16, &k2, &l2, &err), 0);
	ck_assert_uint_eq(l1, l2);
	ck_assert(memcmp(k1, k2, l1) == 0);
	free(k1);
	free(k2);
	/* Nothing in the inbox yet. */
	ck_assert_int_eq(issuer_collect(&job, &r, &err), 0);
	ck_assert_int_eq(r.status, ISSUER_PENDING);
	snprintf(want, sizeof(want), "no signed certificate in %s yet",
	    at("in"));
	ck_assert_str_eq(r.detail, want);
	/* Someone signs it: collected by public key. */
	sign_pending(3, at("in/web.crt"));
	ck_assert_msg(issuer_collect(&job, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, ISSUER_READY);
	ck_assert_int_eq(access(kp, F_OK), -1);
	ck_assert(exists(store_path(st, r.sha1, STORE_CHAIN)));
	ck_assert_msg(issuer_validate(&job, r.sha1, &err) == 0, "%s",
	    err.msg);
	free(kp);
	issuer_reply_clear(&r);
	issuer_free(is);
}
END_TEST

START_TEST(test_exec_run_collect)
{
	struct issuer		*is = make_issuer("exec");
	struct issuer_job	 job;
	struct issuer_reply	 r;
	struct cv_err		 err;
	char			 want[700];

	memset(&r, 0, sizeof(r));
	make_job(&job, is, 5);
	ck_assert_msg(issuer_request(&job, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, ISSUER_RUN);
	ck_assert_str_eq(r.argv[0], "/bin/true");
	ck_assert_str_eq(r.argv[1], "--sign");
	ck_assert_ptr_null(r.argv[2]);
	ck_assert_int_eq(r.timeout, 42);
	snprintf(want, sizeof(want), "CERTVIGIL_CSR=%s", at("work/5.csr"));
	ck_assert_str_eq(r.env[0], want);
	snprintf(want, sizeof(want), "CERTVIGIL_CERT_OUT=%s",
	    at("work/5.crt"));
	ck_assert_str_eq(r.env[1], want);
	ck_assert_str_eq(r.env[2], "CERTVIGIL_BINDING=web");
	ck_assert_str_eq(r.env[3], "CERTVIGIL_ENDPOINT=127.0.0.1:443");
	ck_assert_str_eq(r.env[4], "CERTVIGIL_PURPOSE=server");
	ck_assert_ptr_null(r.env[5]);
	ck_assert_int_eq(access(at("work/5.csr"), F_OK), 0);
	/* The command left nothing. */
	ck_assert_int_eq(issuer_collect(&job, &r, &err), -1);
	ck_assert_int_eq(r.status, ISSUER_ERROR);
	ck_assert_str_eq(err.msg, "the exec issuer left no certificate for "
	    "the key at CERTVIGIL_CERT_OUT");
	/* It did. */
	sign_pending(5, at("work/5.crt"));
	ck_assert_msg(issuer_collect(&job, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, ISSUER_READY);
	ck_assert_msg(issuer_validate(&job, r.sha1, &err) == 0, "%s",
	    err.msg);
	issuer_reply_clear(&r);
	issuer_free(is);
}
END_TEST

/* ---- the store's index and pruning ------------------------------------ */

START_TEST(test_store_prune)
{
	struct issuer		*is = make_issuer("local");
	struct inventory	*inv;
	struct journal		*j;
	struct store		*ist;
	struct issuer_job	 job;
	struct issuer_reply	 r;
	struct cv_err		 err;
	char			 sha1[10][41];
	time_t			 now = time(NULL);
	int			 i;

	memset(&r, 0, sizeof(r));
	ck_assert_msg(inventory_open(at("inventory.db"), &inv, &err) == 0,
	    "%s", err.msg);
	ck_assert_msg(journal_open(inv, &j, &err) == 0, "%s", err.msg);
	ist = store_new(store_dir(st), j);
	/* Ten renewals of one binding, each replacing the one before. */
	for (i = 0; i < 10; i++) {
		make_job(&job, is, 100 + i);
		ck_assert_msg(issuer_request(&job, &r, &err) == 0, "%s",
		    err.msg);
		memcpy(sha1[i], r.sha1, 41);
		ck_assert_int_ge(store_keep(ist, "web", sha1[i], i ? sha1[i -
		    1] : NULL, BINDING_KEEP_STORE, 100 + i, now + i), 0);
		ck_assert_int_eq(store_issued(ist, 100 + i, r.sha1), 0);
	}
	/* The current one and the previous BINDING_KEEP_STORE. */
	ck_assert_int_eq(store_count(), BINDING_KEEP_STORE + 1);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(exists(store_path(ist, sha1[i], STORE_CERT)),
		    i >= 9 - BINDING_KEEP_STORE);
	ck_assert(!exists(store_path(ist, sha1[0], STORE_KEY)));
	ck_assert(!exists(store_path(ist, sha1[0], STORE_CHAIN)));
	/* Keeping none still keeps the current set, and the one it
	 * replaced even when that is older than the rest. */
	ck_assert_int_eq(store_keep(ist, "web", sha1[9], sha1[5], 0, 200,
	    now + 20), BINDING_KEEP_STORE - 1);
	ck_assert_int_eq(store_count(), 2);
	ck_assert(exists(store_path(ist, sha1[9], STORE_CERT)));
	ck_assert(exists(store_path(ist, sha1[5], STORE_CERT)));
	/* Another binding's sets are not this one's to prune. */
	make_job(&job, is, 300);
	ck_assert_int_eq(issuer_request(&job, &r, &err), 0);
	ck_assert_int_eq(store_keep(ist, "api", r.sha1, NULL, 0, 300,
	    now + 30), 0);
	ck_assert_int_eq(store_count(), 3);
	store_free(ist);
	journal_close(j);
	inventory_close(inv);
	issuer_reply_clear(&r);
	issuer_free(is);
}
END_TEST

static Suite *
issuer_suite(void)
{
	Suite	*s = suite_create("issuer");
	TCase	*tc;

	tc = tcase_create("config");
	tcase_add_test(tc, test_types_parse);
	tcase_add_test(tc, test_types_reject);
	tcase_add_test(tc, test_finish_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("interface");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_local_end_to_end);
	tcase_add_test(tc, test_csr_pending_collect);
	tcase_add_test(tc, test_exec_run_collect);
	tcase_add_test(tc, test_store_prune);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(issuer_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
