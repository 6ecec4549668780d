/*
 * Unit tests for the PKI toolbox's pure parts: the SAN parser, the subject
 * builder and its checks, the config.ini editor, host-name matching and
 * the check rules.  Certificates are made in memory; the shell tests
 * check the same code against OpenSSL.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "agentcfg.h"
#include "fsutil.h"
#include "pki.h"
#include "x509.h"
#include "xmalloc.h"

/* ---- SAN parser ---------------------------------------------------------- */

static char *
san_joined(const struct pki_san_list *l)
{
	char	*out = xstrdup(""), *s, *n;
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		s = pki_san_str(&l->v[i]);
		xasprintf(&n, "%s%s%s", out, i ? "," : "", s);
		free(s);
		free(out);
		out = n;
	}
	return out;
}

START_TEST(test_san_parse)
{
	struct pki_san_list	 l = { NULL, 0 };
	struct cv_err		 err;
	char			*s;

	ck_assert_int_eq(pki_san_parse("DNS:beacon.example.com, ip:127.0.0.1 ,"
	    "IP:::1,email:ops@example.com,uri:https://x.example/,"
	    "dns:*.example.com", &l, &err), 0);
	ck_assert_uint_eq(l.n, 6);
	ck_assert_int_eq(l.v[1].type, GNUTLS_SAN_IPADDRESS);
	ck_assert_uint_eq(l.v[1].len, 4);
	ck_assert_uint_eq(l.v[2].len, 16);
	s = san_joined(&l);
	ck_assert_str_eq(s, "DNS:beacon.example.com,IP:127.0.0.1,IP:::1,"
	    "email:ops@example.com,URI:https://x.example/,DNS:*.example.com");
	free(s);
	/* A second --san appends. */
	ck_assert_int_eq(pki_san_parse("DNS:b.example", &l, &err), 0);
	ck_assert_uint_eq(l.n, 7);
	pki_san_list_free(&l);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(test_san_bad)
{
	static const struct {
		const char	*in;
		const char	*msg;
	} bad[] = {
		{ "", "empty entry" },
		{ "DNS:a.example,,DNS:b", "empty entry" },
		{ "DNS:a.example,", "empty entry" },
		{ "beacon.example.com", "expected TYPE:VALUE" },
		{ "RID:1.2.3", "expected TYPE:VALUE" },
		{ "DNS:", "empty value" },
		{ "DNS:bad_name.example", "not a host name" },
		{ "DNS:a.*.example.com", "not a host name" },
		{ "DNS:f*.example.com", "not a host name" },
		{ "DNS:a..example", "not a host name" },
		{ "DNS:.example", "not a host name" },
		{ "IP:300.1.1.1", "not an IPv4 or IPv6" },
		{ "IP:beacon", "not an IPv4 or IPv6" },
		{ "email:nobody", "not an e-mail" },
		{ "email:a b@example.com", "not an e-mail" },
		{ "URI:no-scheme", "not a URI" },
	};
	struct pki_san_list	l = { NULL, 0 };
	struct cv_err		err;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		ck_assert_msg(pki_san_parse(bad[i].in, &l, &err) == -1,
		    "accepted '%s'", bad[i].in);
		ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL,
		    "'%s': message '%s'", bad[i].in, err.msg);
		pki_san_list_free(&l);
	}
}
END_TEST

/* ---- subjects ------------------------------------------------------------- */

START_TEST(test_subject_dn)
{
	struct pki_subject	 s;
	char			*dn;

	memset(&s, 0, sizeof(s));
	s.cn = "www.example.com";
	s.o = "Your Company, Inc";
	s.ou = "IT";
	s.l = "Springfield";
	s.st = "Illinois";
	s.c = "us";
	dn = pki_subject_dn(&s);
	ck_assert_str_eq(dn, "CN=www.example.com,OU=IT,O=Your Company\\, Inc,"
	    "L=Springfield,ST=Illinois,C=US");
	free(dn);
	memset(&s, 0, sizeof(s));
	s.cn = "#lead+trail ";
	s.ou = "";		/* empty fields are left out */
	dn = pki_subject_dn(&s);
	ck_assert_str_eq(dn, "CN=\\#lead\\+trail\\ ");
	free(dn);
}
END_TEST

START_TEST(test_subject_check)
{
	static const char	*good_c[] = { "US", "de", "gB" };
	static const char	*bad_c[] = { "USA", "U", "U1", "1U", "U S",
				    "Ü" };
	struct pki_subject	 s;
	struct cv_err		 err;
	char			 cn[80], utf[160];
	size_t			 i;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(pki_subject_check(&s, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "--cn"));
	s.cn = "beacon.example.com";
	ck_assert_int_eq(pki_subject_check(&s, &err), 0);
	for (i = 0; i < sizeof(good_c) / sizeof(good_c[0]); i++) {
		s.c = good_c[i];
		ck_assert_int_eq(pki_subject_check(&s, &err), 0);
	}
	for (i = 0; i < sizeof(bad_c) / sizeof(bad_c[0]); i++) {
		s.c = bad_c[i];
		ck_assert_msg(pki_subject_check(&s, &err) == -1, "took '%s'",
		    bad_c[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "two-letter"));
	}
	s.c = NULL;
	memset(cn, 'a', 64);
	cn[64] = '\0';
	s.cn = cn;
	ck_assert_int_eq(pki_subject_check(&s, &err), 0);
	cn[64] = 'a';
	cn[65] = '\0';
	ck_assert_int_eq(pki_subject_check(&s, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "64 characters"));
	/* Characters, not bytes: 64 two-byte letters are fine. */
	for (i = 0; i < 64; i++)
		memcpy(utf + 2 * i, "\xc3\xa9", 2);
	utf[128] = '\0';
	s.cn = utf;
	ck_assert_int_eq(pki_subject_check(&s, &err), 0);
	memcpy(utf + 128, "\xc3\xa9", 3);
	ck_assert_int_eq(pki_subject_check(&s, &err), -1);
	s.cn = "x";
	s.o = "Evil\nCorp";
	ck_assert_int_eq(pki_subject_check(&s, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "--org"));
}
END_TEST

/* ---- a CA, a CSR and a leaf, in memory ---------------------------------- */

static gnutls_x509_privkey_t	ca_key, leaf_key;
static gnutls_x509_crt_t	ca_crt, leaf_crt;
static char			ca_path[] = "/tmp/check_pki.XXXXXX";

static void
pki_setup(void)
{
	struct pki_subject	 s;
	struct pki_san_list	 san = { NULL, 0 };
	struct pki_issue	 is;
	struct cv_err		 err;
	gnutls_datum_t		 pem;
	int			 fd;

	gnutls_global_init();
	memset(&s, 0, sizeof(s));
	s.cn = "SelfIssuedCA";
	ck_assert_int_eq(pki_key_generate(PKI_KEY_EC, 0, &ca_key, &err), 0);
	ck_assert_int_eq(pki_ca_init(&s, 30, ca_key, time(NULL), &ca_crt,
	    &err), 0);
	ck_assert_int_eq(pki_key_generate(PKI_KEY_EC, 0, &leaf_key, &err), 0);
	s.cn = "beacon.example.com";
	s.o = "Your Company, Inc";
	s.c = "us";
	ck_assert_int_eq(pki_san_parse("DNS:*.example.com,DNS:www.test.org,"
	    "IP:127.0.0.1", &san, &err), 0);
	memset(&is, 0, sizeof(is));
	ck_assert_int_eq(pki_csr_make(&s, &san, leaf_key, &is.crq, &err), 0);
	is.ca_crt = ca_crt;
	is.ca_key = ca_key;
	is.purpose = PKI_PURPOSE_SERVER;
	is.days = 10;
	is.now = time(NULL);
	ck_assert_int_eq(pki_ca_issue(&is, &leaf_crt, &err), 0);
	gnutls_x509_crq_deinit(is.crq);
	pki_san_list_free(&san);

	fd = mkstemp(ca_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pki_crts_pem(&ca_crt, 1, &pem, &err), 0);
	ck_assert_int_eq(write(fd, pem.data, pem.size), (int)pem.size);
	close(fd);
	gnutls_free(pem.data);
}

static void
pki_teardown(void)
{
	unlink(ca_path);
	gnutls_x509_crt_deinit(leaf_crt);
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_x509_privkey_deinit(leaf_key);
	gnutls_x509_privkey_deinit(ca_key);
	gnutls_global_deinit();
}

START_TEST(test_csr_subject)
{
	struct pki_subject	 s;
	struct cv_err		 err;
	gnutls_x509_crq_t	 crq;
	gnutls_datum_t		 dn;
	char			*want;

	memset(&s, 0, sizeof(s));
	s.cn = "www.example.com";
	s.o = "Your Company, Inc";
	s.ou = "Web Security";
	s.l = "Springfield";
	s.st = "Illinois";
	s.c = "us";
	ck_assert_int_eq(pki_csr_make(&s, NULL, leaf_key, &crq, &err), 0);
	ck_assert_int_ge(gnutls_x509_crq_verify(crq, 0), 0);
	ck_assert_int_ge(gnutls_x509_crq_get_dn3(crq, &dn, 0), 0);
	want = pki_subject_dn(&s);
	ck_assert_str_eq((char *)dn.data, want);
	free(want);
	gnutls_free(dn.data);
	gnutls_x509_crq_deinit(crq);
	s.c = "USA";
	ck_assert_int_eq(pki_csr_make(&s, NULL, leaf_key, &crq, &err), -1);
	ck_assert_ptr_null(crq);
}
END_TEST

START_TEST(test_issue_fields)
{
	struct x509_cert	 c;
	gnutls_x509_crt_t	 copy;
	gnutls_datum_t		 der;
	struct cv_err		 err;
	unsigned char		 serial[32];
	size_t			 size = sizeof(serial);

	ck_assert_int_ge(gnutls_x509_crt_get_serial(leaf_crt, serial, &size),
	    0);
	ck_assert_uint_eq(size, 16);
	ck_assert_uint_eq(serial[0] & 0x80, 0);
	ck_assert_uint_ne(serial[0], 0);
	gnutls_x509_crt_export2(leaf_crt, GNUTLS_X509_FMT_DER, &der);
	gnutls_x509_crt_init(&copy);
	gnutls_x509_crt_import(copy, &der, GNUTLS_X509_FMT_DER);
	gnutls_free(der.data);
	ck_assert_int_eq(x509_cert_fill(&c, copy, &err), 0);
	ck_assert_uint_eq(c.neku, 1);
	ck_assert_str_eq(c.eku[0], "serverAuth");
	ck_assert_uint_eq(c.nsan, 3);
	ck_assert_int_eq(c.is_ca, 0);
	ck_assert_str_eq(c.sig_alg, "ECDSA-SHA256");
	ck_assert_str_eq(c.issuer, "CN=SelfIssuedCA");
	x509_cert_clear(&c);
	ck_assert_int_eq(pki_key_matches(leaf_key, leaf_crt), 1);
	ck_assert_int_eq(pki_key_matches(ca_key, leaf_crt), 0);
}
END_TEST

START_TEST(test_issue_refusals)
{
	struct pki_subject	 s;
	struct pki_issue	 is;
	struct cv_err		 err;
	gnutls_x509_crt_t	 crt;

	memset(&s, 0, sizeof(s));
	memset(&is, 0, sizeof(is));
	s.cn = "x.example.com";
	ck_assert_int_eq(pki_csr_make(&s, NULL, leaf_key, &is.crq, &err), 0);
	is.now = time(NULL);
	/* The CA's key must be the CA certificate's. */
	is.ca_crt = ca_crt;
	is.ca_key = leaf_key;
	ck_assert_int_eq(pki_ca_issue(&is, &crt, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "does not match"));
	/* A leaf is no CA. */
	is.ca_crt = leaf_crt;
	ck_assert_int_eq(pki_ca_issue(&is, &crt, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a CA"));
	/* Not beyond the CA's own end (the CA lives 30 days). */
	is.ca_crt = ca_crt;
	is.ca_key = ca_key;
	is.days = 31;
	ck_assert_int_eq(pki_ca_issue(&is, &crt, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "expires"));
	gnutls_x509_crq_deinit(is.crq);
}
END_TEST

START_TEST(test_host_rfc6125)
{
	/* SANs: *.example.com, www.test.org, 127.0.0.1 */
	ck_assert(pki_host_matches(leaf_crt, "a.example.com"));
	ck_assert(pki_host_matches(leaf_crt, "BEACON.Example.COM"));
	ck_assert(!pki_host_matches(leaf_crt, "example.com"));
	ck_assert(!pki_host_matches(leaf_crt, "a.b.example.com"));
	ck_assert(!pki_host_matches(leaf_crt, "aexample.com"));
	ck_assert(pki_host_matches(leaf_crt, "www.test.org"));
	ck_assert(!pki_host_matches(leaf_crt, "test.org"));
	ck_assert(pki_host_matches(leaf_crt, "127.0.0.1"));
	ck_assert(!pki_host_matches(leaf_crt, "127.0.0.2"));
	/* With DNS SANs present, the CN is not consulted. */
	ck_assert(!pki_host_matches(leaf_crt, "beacon.example.org"));
	/* No SAN at all: the CN is. */
	ck_assert(pki_host_matches(ca_crt, "SelfIssuedCA"));
}
END_TEST

static const struct pki_check_result *
find_rule(const struct pki_check_list *l, const char *rule)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].rule, rule) == 0)
			return &l->v[i];
	ck_abort_msg("no rule %s", rule);
	return NULL;
}

START_TEST(test_check_rules)
{
	struct pki_check_opts	o;
	struct pki_check_list	l;
	struct cv_err		err;

	memset(&o, 0, sizeof(o));
	o.ca_file = ca_path;
	o.host = "beacon.example.com";
	o.min_days = 5;
	o.now = time(NULL);
	ck_assert_int_eq(pki_check(leaf_crt, NULL, 0, leaf_key, &o, &l,
	    &err), 0);
	ck_assert_uint_eq(l.nfail, 0);
	ck_assert_uint_eq(l.n, 7);
	pki_check_list_free(&l);

	o.host = "other.example.org";
	o.purpose = PKI_PURPOSE_CLIENT;
	o.min_days = 20;
	ck_assert_int_eq(pki_check(leaf_crt, NULL, 0, ca_key, &o, &l, &err),
	    0);
	ck_assert_uint_eq(l.nfail, 4);
	ck_assert_int_eq(find_rule(&l, "key")->status, PKI_CHECK_FAIL);
	ck_assert_int_eq(find_rule(&l, "eku")->status, PKI_CHECK_FAIL);
	ck_assert_int_eq(find_rule(&l, "host")->status, PKI_CHECK_FAIL);
	ck_assert_int_eq(find_rule(&l, "validity")->status, PKI_CHECK_FAIL);
	ck_assert_int_eq(find_rule(&l, "chain")->status, PKI_CHECK_PASS);
	pki_check_list_free(&l);

	/* No --min-days: under 30 days left is a warning; no key fails. */
	o.host = NULL;
	o.purpose = PKI_PURPOSE_SERVER;
	o.min_days = -1;
	ck_assert_int_eq(pki_check(leaf_crt, NULL, 0, NULL, &o, &l, &err), 0);
	ck_assert_int_eq(find_rule(&l, "validity")->status, PKI_CHECK_WARN);
	ck_assert_int_eq(find_rule(&l, "host")->status, PKI_CHECK_SKIP);
	ck_assert_int_eq(find_rule(&l, "key")->status, PKI_CHECK_FAIL);
	pki_check_list_free(&l);

	/* Expired, seen from the future. */
	o.now = time(NULL) + 86400 * 40;
	ck_assert_int_eq(pki_check(leaf_crt, NULL, 0, leaf_key, &o, &l,
	    &err), 0);
	ck_assert_int_eq(find_rule(&l, "validity")->status, PKI_CHECK_FAIL);
	ck_assert_ptr_nonnull(strstr(find_rule(&l, "validity")->detail,
	    "expired"));
	pki_check_list_free(&l);
}
END_TEST

START_TEST(test_pkcs12_roundtrip)
{
	struct x509_load_opts	 o;
	struct x509_file	*f;
	struct cv_err		 err;
	gnutls_datum_t		 p12;
	unsigned char		 sha1[20];
	char			 hex[41];
	size_t			 size = sizeof(sha1), i;
	int			 legacy;

	ck_assert_int_ge(gnutls_x509_crt_get_fingerprint(leaf_crt,
	    GNUTLS_DIG_SHA1, sha1, &size), 0);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha1[i]);
	for (legacy = 0; legacy <= 1; legacy++) {
		ck_assert_int_eq(pki_pkcs12_make(leaf_crt, &ca_crt, 1,
		    leaf_key, "s3cret", legacy, &p12, &err), 0);
		memset(&o, 0, sizeof(o));
		o.password = "s3cret";
		ck_assert_int_eq(x509_load_mem("mem.pfx", p12.data, p12.size,
		    &o, &f, &err), 0);
		ck_assert_uint_eq(f->ncerts, 2);
		ck_assert_int_eq(pki_file_leaf(f), 0);
		ck_assert_str_eq(f->certs[0].sha1, hex);
		ck_assert_int_eq(f->certs[0].key_matches, 1);
		x509_file_free(f);
		o.password = "wrong";
		ck_assert_int_eq(x509_load_mem("mem.pfx", p12.data, p12.size,
		    &o, &f, &err), -1);
		x509_file_free(f);
		gnutls_free(p12.data);
	}
	ck_assert_int_eq(pki_pkcs12_make(leaf_crt, NULL, 0, ca_key, "x", 0,
	    &p12, &err), -1);
	ck_assert_int_eq(pki_pkcs12_make(leaf_crt, NULL, 0, leaf_key, "", 0,
	    &p12, &err), -1);
}
END_TEST

/* ---- config.ini editor ------------------------------------------------------ */

static const char *const common[] = { AGENTCFG_COMMON_SECTION };
static const struct agentcfg_kv kv3[] = {
	{ "AddClientCertificateAndKey", "True" },
	{ "SSLClientCertificateFile", "/c.pem" },
	{ "SSLClientPrivateKeyFile", "/k.pem" },
};

static char *
apply(const char *in, const char *const *sec, size_t nsec, int *changed)
{
	struct cv_err	 err;
	char		*out, *again;
	size_t		 len, len2;
	int		 ch2;

	ck_assert_int_eq(agentcfg_apply(in, strlen(in), sec, nsec, kv3, 3,
	    &out, &len, changed, &err), 0);
	ck_assert_uint_eq(strlen(out), len);
	/* Idempotence: a second pass changes nothing. */
	ck_assert_int_eq(agentcfg_apply(out, len, sec, nsec, kv3, 3, &again,
	    &len2, &ch2, &err), 0);
	ck_assert_int_eq(ch2, 0);
	ck_assert_str_eq(again, out);
	free(again);
	return out;
}

START_TEST(test_ini_preserves)
{
	const char	*in =
	    "; written by the agent installer\n"
	    "orphan = before any section\n"
	    "\n"
	    "[ManageSoft\\Common]\n"
	    "  MachineId =  {ABC}   \n"
	    "# comment inside\n"
	    "sslclientcertificatefile   =   /old/path.pem\n"
	    "weird line without equals\n"
	    "\n"
	    "[ManageSoft\\Launcher\\CurrentVersion]\n"
	    "SSLClientCertificateFile=/launcher/keep.pem\n";
	const char	*want =
	    "; written by the agent installer\n"
	    "orphan = before any section\n"
	    "\n"
	    "[ManageSoft\\Common]\n"
	    "  MachineId =  {ABC}   \n"
	    "# comment inside\n"
	    "sslclientcertificatefile   =   /c.pem\n"
	    "AddClientCertificateAndKey=True\n"
	    "SSLClientPrivateKeyFile=/k.pem\n"
	    "weird line without equals\n"
	    "\n"
	    "[ManageSoft\\Launcher\\CurrentVersion]\n"
	    "SSLClientCertificateFile=/launcher/keep.pem\n";
	char		*out;
	int		 changed;

	out = apply(in, common, 1, &changed);
	ck_assert_int_eq(changed, 1);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

START_TEST(test_ini_sections)
{
	static const char *const three[] = {
		"ManageSoft\\Tracker\\CurrentVersion",
		"managesoft\\common",
		"ManageSoft\\Uploader\\CurrentVersion",
	};
	const char	*in =
	    "[ManageSoft\\Common]\r\n"
	    "AddClientCertificateAndKey=False\r\n"
	    "\r\n"
	    "[ManageSoft\\Tracker\\CurrentVersion]\r\n"
	    "Foo=bar";
	const char	*want =
	    "[ManageSoft\\Common]\r\n"
	    "AddClientCertificateAndKey=True\r\n"
	    "SSLClientCertificateFile=/c.pem\r\n"
	    "SSLClientPrivateKeyFile=/k.pem\r\n"
	    "\r\n"
	    "[ManageSoft\\Tracker\\CurrentVersion]\r\n"
	    "Foo=bar\r\n"
	    "AddClientCertificateAndKey=True\r\n"
	    "SSLClientCertificateFile=/c.pem\r\n"
	    "SSLClientPrivateKeyFile=/k.pem\r\n"
	    "\r\n"
	    "[ManageSoft\\Uploader\\CurrentVersion]\r\n"
	    "AddClientCertificateAndKey=True\r\n"
	    "SSLClientCertificateFile=/c.pem\r\n"
	    "SSLClientPrivateKeyFile=/k.pem\r\n";
	char		*out;
	int		 changed;

	out = apply(in, three, 3, &changed);
	ck_assert_int_eq(changed, 1);
	ck_assert_str_eq(out, want);
	free(out);

	/* An empty file gets the section; an up-to-date one is unchanged. */
	out = apply("", common, 1, &changed);
	ck_assert_str_eq(out, "[ManageSoft\\Common]\n"
	    "AddClientCertificateAndKey=True\n"
	    "SSLClientCertificateFile=/c.pem\nSSLClientPrivateKeyFile=/k.pem\n");
	free(out);
	out = apply("[ManageSoft\\Common]\nAddClientCertificateAndKey=True\n"
	    "SSLClientCertificateFile=/c.pem\nSSLClientPrivateKeyFile=/k.pem\n"
	    "[Other]\nx=1\n", common, 1, &changed);
	ck_assert_int_eq(changed, 0);
	free(out);
}
END_TEST

START_TEST(test_ini_duplicates_and_bad)
{
	static const struct agentcfg_kv	bad[] = { { "Key", "a\nb" } };
	static const struct agentcfg_kv	badkey[] = { { "K=ey", "v" } };
	static const char *const	badsec[] = { "a]b" };
	struct cv_err			err;
	char				*out;
	size_t				 len;
	int				 changed;

	/* Every occurrence is set: the agent may read either. */
	out = apply("[ManageSoft\\Common]\nSSLClientPrivateKeyFile=/a\n"
	    "[ManageSoft\\Common]\nSSLClientPrivateKeyFile=/b\n", common, 1,
	    &changed);
	ck_assert_str_eq(out, "[ManageSoft\\Common]\n"
	    "SSLClientPrivateKeyFile=/k.pem\n"
	    "[ManageSoft\\Common]\nSSLClientPrivateKeyFile=/k.pem\n"
	    "AddClientCertificateAndKey=True\n"
	    "SSLClientCertificateFile=/c.pem\n");
	free(out);
	ck_assert_int_eq(agentcfg_apply("", 0, common, 1, bad, 1, &out, &len,
	    &changed, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "line break"));
	ck_assert_int_eq(agentcfg_apply("", 0, common, 1, badkey, 1, &out,
	    &len, &changed, &err), -1);
	ck_assert_int_eq(agentcfg_apply("", 0, badsec, 1, kv3, 3, &out,
	    &len, &changed, &err), -1);
}
END_TEST

START_TEST(test_ini_file)
{
	char		 path[] = "/tmp/check_pki_ini.XXXXXX";
	const char	*text = "[ManageSoft\\Common]\nx=1\n";
	struct stat	 st1, st2;
	struct cv_err	 err;
	int		 fd, changed;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(agentcfg_update_file(path, common, 1, kv3, 3,
	    &changed, &err), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(stat(path, &st1), 0);
	ck_assert_uint_eq(st1.st_mode & 07777, 0640);
	/* Unchanged: not rewritten (same inode). */
	ck_assert_int_eq(agentcfg_update_file(path, common, 1, kv3, 3,
	    &changed, &err), 0);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	unlink(path);
	ck_assert_int_eq(agentcfg_update_file(path, common, 1, kv3, 3,
	    &changed, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
}
END_TEST

static Suite *
pki_suite(void)
{
	Suite	*s = suite_create("pki");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_san_parse);
	tcase_add_test(tc, test_san_bad);
	tcase_add_test(tc, test_subject_dn);
	tcase_add_test(tc, test_subject_check);
	suite_add_tcase(s, tc);
	tc = tcase_create("ca");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, test_csr_subject);
	tcase_add_test(tc, test_issue_fields);
	tcase_add_test(tc, test_issue_refusals);
	tcase_add_test(tc, test_host_rfc6125);
	tcase_add_test(tc, test_check_rules);
	tcase_add_test(tc, test_pkcs12_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("agentcfg");
	tcase_add_test(tc, test_ini_preserves);
	tcase_add_test(tc, test_ini_sections);
	tcase_add_test(tc, test_ini_duplicates_and_bad);
	tcase_add_test(tc, test_ini_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(pki_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
