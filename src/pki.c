#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs12.h>

#include "fsutil.h"
#include "pki.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

int
pki_key_type_parse(const char *s, enum pki_key_type *t, struct cv_err *err)
{
	if (strcasecmp(s, "rsa") == 0)
		*t = PKI_KEY_RSA;
	else if (strcasecmp(s, "ec") == 0 || strcasecmp(s, "ecdsa") == 0)
		*t = PKI_KEY_EC;
	else if (strcasecmp(s, "ed25519") == 0)
		*t = PKI_KEY_ED25519;
	else
		return cv_err_set(err, "key type '%s': expected rsa, ec or "
		    "ed25519", s);
	return 0;
}

int
pki_purpose_parse(const char *s, enum pki_purpose *p, struct cv_err *err)
{
	if (strcasecmp(s, "server") == 0)
		*p = PKI_PURPOSE_SERVER;
	else if (strcasecmp(s, "client") == 0)
		*p = PKI_PURPOSE_CLIENT;
	else
		return cv_err_set(err, "purpose '%s': expected server or "
		    "client", s);
	return 0;
}

const char *
pki_purpose_name(enum pki_purpose p)
{
	return p == PKI_PURPOSE_CLIENT ? "clientAuth" : "serverAuth";
}

const char *
pki_purpose_oid(enum pki_purpose p)
{
	return p == PKI_PURPOSE_CLIENT ? GNUTLS_KP_TLS_WWW_CLIENT :
	    GNUTLS_KP_TLS_WWW_SERVER;
}

/* ---- subjects ---------------------------------------------------------- */

/* The subject's fields in the order they are encoded (C first, CN last). */
static const struct {
	const char	*oid;
	const char	*label;		/* RFC 4514 short name */
	const char	*option;	/* for messages */
	size_t		 off;
	size_t		 max;		/* RFC 5280 upper bound */
} pki_dn_fields[] = {
	{ GNUTLS_OID_X520_COUNTRY_NAME, "C", "--country",
	    offsetof(struct pki_subject, c), 2 },
	{ GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME, "ST", "--state",
	    offsetof(struct pki_subject, st), 128 },
	{ GNUTLS_OID_X520_LOCALITY_NAME, "L", "--locality",
	    offsetof(struct pki_subject, l), 128 },
	{ GNUTLS_OID_X520_ORGANIZATION_NAME, "O", "--org",
	    offsetof(struct pki_subject, o), 64 },
	{ GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, "OU", "--ou",
	    offsetof(struct pki_subject, ou), 64 },
	{ GNUTLS_OID_X520_COMMON_NAME, "CN", "--cn",
	    offsetof(struct pki_subject, cn), 64 },
};
#define PKI_NDN	(sizeof(pki_dn_fields) / sizeof(pki_dn_fields[0]))

static const char *
pki_dn_value(const struct pki_subject *s, size_t i)
{
	const char	*v;

	memcpy(&v, (const char *)s + pki_dn_fields[i].off, sizeof(v));
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Characters, not bytes: the bounds of RFC 5280 count characters. */
static size_t
pki_utf8_len(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
pki_subject_check(const struct pki_subject *s, struct cv_err *err)
{
	const char	*v, *p;
	size_t		 i;

	if (pki_dn_value(s, PKI_NDN - 1) == NULL)
		return cv_err_set(err, "--cn: a common name is required");
	for (i = 0; i < PKI_NDN; i++) {
		if ((v = pki_dn_value(s, i)) == NULL)
			continue;
		for (p = v; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return cv_err_set(err, "%s: control "
				    "characters are not allowed",
				    pki_dn_fields[i].option);
		if (pki_dn_fields[i].off == offsetof(struct pki_subject, c)) {
			if (strlen(v) != 2 || !isalpha((unsigned char)v[0]) ||
			    !isalpha((unsigned char)v[1]))
				return cv_err_set(err, "--country '%s': must "
				    "be a two-letter ISO 3166 code such as "
				    "US or DE", v);
			continue;
		}
		if (pki_utf8_len(v) > pki_dn_fields[i].max)
			return cv_err_set(err, "%s: longer than %zu "
			    "characters (RFC 5280 limit)",
			    pki_dn_fields[i].option, pki_dn_fields[i].max);
	}
	return 0;
}

/* Appends one RFC 4514 attribute value, escaped. */
static void
pki_dn_escape(char **buf, size_t *len, const char *v)
{
	size_t	n = strlen(v), i, need = *len + 2 * n + 1;
	char	*p;

	*buf = xrealloc(*buf, need + 1);
	p = *buf + *len;
	for (i = 0; i < n; i++) {
		if (strchr(",+\"\\<>;=", v[i]) != NULL ||
		    (i == 0 && (v[i] == '#' || v[i] == ' ')) ||
		    (i == n - 1 && v[i] == ' '))
			*p++ = '\\';
		*p++ = v[i];
	}
	*p = '\0';
	*len = (size_t)(p - *buf);
}

char *
pki_subject_dn(const struct pki_subject *s)
{
	char		*buf = xstrdup(""), cc[3];
	const char	*v;
	size_t		 len = 0, i;

	/* RFC 4514 writes the last RDN first. */
	for (i = PKI_NDN; i-- > 0;) {
		if ((v = pki_dn_value(s, i)) == NULL)
			continue;
		if (pki_dn_fields[i].off == offsetof(struct pki_subject, c)) {
			cc[0] = (char)toupper((unsigned char)v[0]);
			cc[1] = v[1] ? (char)toupper((unsigned char)v[1]) : 0;
			cc[2] = '\0';
			v = cc;
		}
		buf = xrealloc(buf, len + strlen(pki_dn_fields[i].label) + 3);
		len += (size_t)sprintf(buf + len, "%s%s=", len ? "," : "",
		    pki_dn_fields[i].label);
		pki_dn_escape(&buf, &len, v);
	}
	return buf;
}

static int
pki_subject_apply(gnutls_x509_crq_t crq, const struct pki_subject *s,
    struct cv_err *err)
{
	const char	*v;
	char		 cc[3];
	size_t		 i;
	int		 rc;

	if (pki_subject_check(s, err) == -1)
		return -1;
	for (i = 0; i < PKI_NDN; i++) {
		if ((v = pki_dn_value(s, i)) == NULL)
			continue;
		if (pki_dn_fields[i].off == offsetof(struct pki_subject, c)) {
			cc[0] = (char)toupper((unsigned char)v[0]);
			cc[1] = (char)toupper((unsigned char)v[1]);
			cc[2] = '\0';
			v = cc;
		}
		if ((rc = gnutls_x509_crq_set_dn_by_oid(crq,
		    pki_dn_fields[i].oid, 0, v, (unsigned)strlen(v))) < 0)
			return cv_err_set(err, "%s: %s",
			    pki_dn_fields[i].option, x509_strerror(rc));
	}
	return 0;
}

/* ---- subject alternative names ----------------------------------------- */

static int
pki_dns_ok(const char *v, size_t n)
{
	size_t	i, label = 0;

	if (n == 0 || n > 253)
		return 0;
	/* A wildcard is only a whole leftmost label (RFC 6125 6.4.3). */
	if (n > 2 && v[0] == '*' && v[1] == '.') {
		v += 2;
		n -= 2;
	}
	for (i = 0; i < n; i++) {
		if (v[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)v[i]) && v[i] != '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 || n > 1;	/* "example.com." is fine */
}

/* Checks a SAN's value for its type; an IP address is converted into
 * san->data.  -1 with the reason. */
static int
pki_san_value(struct pki_san *san, const char *v, size_t vlen,
    struct cv_err *err)
{
	switch (san->type) {
	case GNUTLS_SAN_DNSNAME:
		if (!pki_dns_ok(v, vlen))
			return cv_err_set(err, "SAN 'DNS:%s': not a host name "
			    "(letters, digits, '-' and '.', a '*.' prefix at "
			    "most)", v);
		break;
	case GNUTLS_SAN_IPADDRESS:
		san->data = xmalloc(16);
		if (inet_pton(AF_INET, v, san->data) == 1)
			san->len = 4;
		else if (inet_pton(AF_INET6, v, san->data) == 1)
			san->len = 16;
		else {
			free(san->data);
			san->data = NULL;
			return cv_err_set(err, "SAN 'IP:%s': not an IPv4 or "
			    "IPv6 address", v);
		}
		break;
	case GNUTLS_SAN_RFC822NAME:
		if (strchr(v, '@') == NULL || v[0] == '@' ||
		    v[vlen - 1] == '@' || strpbrk(v, " \t") != NULL)
			return cv_err_set(err, "SAN 'email:%s': not an e-mail "
			    "address", v);
		break;
	case GNUTLS_SAN_URI:
		if (strchr(v, ':') == NULL || v[0] == ':' ||
		    strpbrk(v, " \t") != NULL)
			return cv_err_set(err, "SAN 'URI:%s': not a URI "
			    "(scheme:...)", v);
		break;
	}
	return 0;
}

int
pki_san_add(struct pki_san_list *l, const char *s, size_t n,
    struct cv_err *err)
{
	static const struct {
		const char	*prefix;
		int		 type;
	} types[] = {
		{ "DNS:",	GNUTLS_SAN_DNSNAME },
		{ "IP:",	GNUTLS_SAN_IPADDRESS },
		{ "email:",	GNUTLS_SAN_RFC822NAME },
		{ "URI:",	GNUTLS_SAN_URI },
	};
	struct pki_san	 san;
	char		*v = NULL;
	size_t		 i, plen, vlen;
	int		 rc = -1;

	memset(&san, 0, sizeof(san));
	san.type = -1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		plen = strlen(types[i].prefix);
		if (n >= plen && strncasecmp(s, types[i].prefix, plen) == 0) {
			san.type = types[i].type;
			break;
		}
	}
	if (san.type == -1)
		return cv_err_set(err, "SAN '%.*s': expected TYPE:VALUE with "
		    "TYPE one of DNS, IP, email, URI", (int)n, s);
	v = xstrndup(s + plen, n - plen);
	vlen = strlen(v);
	if (vlen != n - plen || vlen == 0) {
		cv_err_set(err, "SAN '%.*s': empty value", (int)n, s);
		goto out;
	}
	if (l->n >= PKI_MAX_SANS) {
		cv_err_set(err, "more than %u SANs", PKI_MAX_SANS);
		goto out;
	}
	if (pki_san_value(&san, v, vlen, err) == -1)
		goto out;
	if (san.data == NULL) {
		san.data = (unsigned char *)v;
		san.len = vlen;
		v = NULL;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = san;
	rc = 0;
out:
	free(v);
	return rc;
}

int
pki_san_parse(const char *spec, struct pki_san_list *l, struct cv_err *err)
{
	const char	*p = spec, *e, *b;

	for (;;) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		b = e;
		while (p < b && isspace((unsigned char)*p))
			p++;
		while (b > p && isspace((unsigned char)b[-1]))
			b--;
		if (b == p)
			return cv_err_set(err, "--san '%s': empty entry", spec);
		if (pki_san_add(l, p, (size_t)(b - p), err) == -1)
			return -1;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	return 0;
}

char *
pki_san_str(const struct pki_san *s)
{
	char	 ip[INET6_ADDRSTRLEN], *out;

	switch (s->type) {
	case GNUTLS_SAN_IPADDRESS:
		inet_ntop(s->len == 16 ? AF_INET6 : AF_INET, s->data, ip,
		    sizeof(ip));
		xasprintf(&out, "IP:%s", ip);
		break;
	case GNUTLS_SAN_RFC822NAME:
		xasprintf(&out, "email:%.*s", (int)s->len, s->data);
		break;
	case GNUTLS_SAN_URI:
		xasprintf(&out, "URI:%.*s", (int)s->len, s->data);
		break;
	default:
		xasprintf(&out, "DNS:%.*s", (int)s->len, s->data);
		break;
	}
	return out;
}

void
pki_san_list_free(struct pki_san_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].data);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- keys ---------------------------------------------------------------- */

int
pki_key_generate(enum pki_key_type t, unsigned bits,
    gnutls_x509_privkey_t *out, struct cv_err *err)
{
	gnutls_x509_privkey_t	key;
	gnutls_pk_algorithm_t	pk;
	unsigned		gbits;
	int			rc;

	*out = NULL;
	switch (t) {
	case PKI_KEY_RSA:
		if (bits == 0)
			bits = PKI_RSA_BITS_DEFAULT;
		if (bits < PKI_RSA_BITS_MIN || bits > PKI_RSA_BITS_MAX)
			return cv_err_set(err, "--bits %u: RSA keys must have "
			    "%u to %u bits", bits, PKI_RSA_BITS_MIN,
			    PKI_RSA_BITS_MAX);
		pk = GNUTLS_PK_RSA;
		gbits = bits;
		break;
	case PKI_KEY_EC:
		pk = GNUTLS_PK_ECDSA;
		if (bits == 0 || bits == 256)
			gbits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
		else if (bits == 384)
			gbits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1);
		else if (bits == 521)
			gbits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1);
		else
			return cv_err_set(err, "--bits %u: EC keys use 256, "
			    "384 or 521 (P-256, P-384, P-521)", bits);
		break;
	case PKI_KEY_ED25519:
		if (bits != 0 && bits != 256 && bits != 255)
			return cv_err_set(err, "--bits %u: Ed25519 keys have "
			    "a fixed size", bits);
		pk = GNUTLS_PK_EDDSA_ED25519;
		gbits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
		break;
	default:
		return cv_err_set(err, "unknown key type");
	}
	if (gnutls_x509_privkey_init(&key) < 0)
		return cv_err_set(err, "out of memory");
	if ((rc = gnutls_x509_privkey_generate(key, pk, gbits, 0)) < 0) {
		gnutls_x509_privkey_deinit(key);
		return cv_err_set(err, "key generation: %s", x509_strerror(rc));
	}
	*out = key;
	return 0;
}

int
pki_key_load(const char *path, const char *password,
    gnutls_x509_privkey_t *out, struct cv_err *err)
{
	struct x509_load_opts	 o;
	struct x509_file	*f = NULL;
	int			 k = -1, leaf, rc = -1;

	*out = NULL;
	memset(&o, 0, sizeof(o));
	o.password = password;
	if (x509_load_file(path, &o, &f, err) == -1)
		goto fail;
	if (f->nkeys == 0) {
		cv_err_set(err, "no private key in the file");
		goto fail;
	}
	if ((leaf = pki_file_leaf(f)) != -1)
		k = pki_file_key_of(f, (size_t)leaf);
	if (k == -1)
		k = 0;
	if (gnutls_x509_privkey_init(out) < 0 ||
	    gnutls_x509_privkey_cpy(*out, f->keys[k].key) < 0) {
		cv_err_set(err, "copying the key failed");
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	cv_err_prefix(err, "%s", path);
	if (*out != NULL)
		gnutls_x509_privkey_deinit(*out);
	*out = NULL;
out:
	x509_file_free(f);
	return rc;
}

int
pki_key_pem(gnutls_x509_privkey_t key, const char *password,
    gnutls_datum_t *out, struct cv_err *err)
{
	int	rc;

	rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
	    password, password == NULL ? GNUTLS_PKCS_PLAIN :
	    GNUTLS_PKCS_PBES2_AES_256, out);
	if (rc < 0)
		return cv_err_set(err, "exporting the key: %s",
		    x509_strerror(rc));
	return 0;
}

int
pki_key_matches(gnutls_x509_privkey_t key, gnutls_x509_crt_t crt)
{
	unsigned char	a[32], b[32];
	size_t		size = sizeof(b);

	if (x509_privkey_id(key, a) == -1)
		return 0;
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, b,
	    &size) < 0 || size != sizeof(b))
		return 0;
	return memcmp(a, b, sizeof(a)) == 0;
}

int
pki_crts_pem(gnutls_x509_crt_t *crts, size_t n, gnutls_datum_t *out,
    struct cv_err *err)
{
	gnutls_datum_t	d;
	size_t		i, len = 0;
	unsigned char	*buf = NULL;
	int		rc;

	for (i = 0; i < n; i++) {
		if ((rc = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_PEM,
		    &d)) < 0) {
			gnutls_free(buf);
			return cv_err_set(err, "exporting a certificate: %s",
			    x509_strerror(rc));
		}
		buf = gnutls_realloc(buf, len + d.size + 1);
		if (buf == NULL)
			abort();
		memcpy(buf + len, d.data, d.size);
		len += d.size;
		gnutls_free(d.data);
	}
	if (buf == NULL && (buf = gnutls_malloc(1)) == NULL)
		abort();
	buf[len] = '\0';
	out->data = buf;
	out->size = (unsigned)len;
	return 0;
}

int
pki_write(const char *path, const gnutls_datum_t *d, mode_t mode,
    struct cv_err *err)
{
	return fsutil_write_atomic(path, d->data, d->size, mode, (uid_t)-1,
	    (gid_t)-1, err);
}

/* The digest to sign with: EdDSA keys have their own (GnuTLS picks it). */
static gnutls_digest_algorithm_t
pki_sign_dig(gnutls_x509_privkey_t key)
{
	int	pk = gnutls_x509_privkey_get_pk_algorithm(key);

	if (pk == GNUTLS_PK_EDDSA_ED25519 || pk == GNUTLS_PK_EDDSA_ED448)
		return 0;
	return GNUTLS_DIG_SHA256;
}

static int
pki_serial(unsigned char serial[16], struct cv_err *err)
{
	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, 16) < 0)
		return cv_err_set(err, "random serial: no randomness");
	/* Positive, and 16 bytes long in DER (no leading zero octet). */
	serial[0] &= 0x7f;
	if (serial[0] == 0)
		serial[0] = 0x01;
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

int
pki_csr_make(const struct pki_subject *s, const struct pki_san_list *san,
    gnutls_x509_privkey_t key, gnutls_x509_crq_t *out, struct cv_err *err)
{
	gnutls_x509_crq_t	crq = NULL;
	size_t			i;
	int			rc, ret = -1;

	*out = NULL;
	if (gnutls_x509_crq_init(&crq) < 0)
		return cv_err_set(err, "out of memory");
	if (pki_subject_apply(crq, s, err) == -1)
		goto out;
	gnutls_x509_crq_set_version(crq, 1);
	if ((rc = gnutls_x509_crq_set_key(crq, key)) < 0) {
		cv_err_set(err, "request key: %s", x509_strerror(rc));
		goto out;
	}
	for (i = 0; san != NULL && i < san->n; i++) {
		if ((rc = gnutls_x509_crq_set_subject_alt_name(crq,
		    san->v[i].type, san->v[i].data, (unsigned)san->v[i].len,
		    GNUTLS_FSAN_APPEND)) < 0) {
			cv_err_set(err, "SAN: %s", x509_strerror(rc));
			goto out;
		}
	}
	if ((rc = gnutls_x509_crq_sign2(crq, key, pki_sign_dig(key), 0)) < 0) {
		cv_err_set(err, "signing the request: %s", x509_strerror(rc));
		goto out;
	}
	*out = crq;
	crq = NULL;
	ret = 0;
out:
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	return ret;
}

int
pki_csr_pem(gnutls_x509_crq_t crq, gnutls_datum_t *out, struct cv_err *err)
{
	gnutls_datum_t	der;
	int		rc;

	if ((rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der)) < 0)
		return cv_err_set(err, "exporting the request: %s",
		    x509_strerror(rc));
	/* GnuTLS says "NEW CERTIFICATE REQUEST"; RFC 7468 does not. */
	rc = gnutls_pem_base64_encode2("CERTIFICATE REQUEST", &der, out);
	gnutls_free(der.data);
	if (rc < 0)
		return cv_err_set(err, "encoding the request: %s",
		    x509_strerror(rc));
	return 0;
}

int
pki_csr_load(const char *path, gnutls_x509_crq_t *out, struct cv_err *err)
{
	gnutls_x509_crq_t	 crq = NULL;
	gnutls_datum_t		 d;
	unsigned char		*data = NULL;
	size_t			 len;
	int			 rc, ret = -1;

	*out = NULL;
	if (fsutil_read_file(path, FSUTIL_MAX_FILE, &data, &len, err) == -1)
		goto out;
	if (gnutls_x509_crq_init(&crq) < 0) {
		cv_err_set(err, "out of memory");
		goto out;
	}
	d.data = data;
	d.size = (unsigned)len;
	if (memmem(data, len, "-----BEGIN ", 11) != NULL) {
		if (memmem(data, len, "CERTIFICATE REQUEST-----", 24) == NULL) {
			cv_err_set(err, "not a certificate request (no PEM "
			    "\"CERTIFICATE REQUEST\" block)");
			goto out;
		}
		rc = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM);
	} else
		rc = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER);
	if (rc < 0) {
		cv_err_set(err, "not a certificate request (%s)",
		    x509_strerror(rc));
		goto out;
	}
	if (gnutls_x509_crq_verify(crq, 0) < 0) {
		cv_err_set(err, "the request's signature does not verify");
		goto out;
	}
	*out = crq;
	crq = NULL;
	ret = 0;
out:
	if (ret == -1)
		cv_err_prefix(err, "%s", path);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	free(data);
	return ret;
}

/* ---- the local CA ------------------------------------------------------- */

/*
 * Replaces a certificate just built by its parsed DER: a certificate
 * still holding GnuTLS's construction state does not answer every query
 * (host-name checks among them) the way a loaded one does.
 */
static int
pki_crt_reload(gnutls_x509_crt_t *crt, struct cv_err *err)
{
	gnutls_x509_crt_t	fresh;
	gnutls_datum_t		der;
	int			rc;

	if ((rc = gnutls_x509_crt_export2(*crt, GNUTLS_X509_FMT_DER,
	    &der)) < 0)
		return cv_err_set(err, "export: %s", x509_strerror(rc));
	if (gnutls_x509_crt_init(&fresh) < 0) {
		gnutls_free(der.data);
		return cv_err_set(err, "out of memory");
	}
	rc = gnutls_x509_crt_import(fresh, &der, GNUTLS_X509_FMT_DER);
	gnutls_free(der.data);
	if (rc < 0) {
		gnutls_x509_crt_deinit(fresh);
		return cv_err_set(err, "re-reading the certificate: %s",
		    x509_strerror(rc));
	}
	gnutls_x509_crt_deinit(*crt);
	*crt = fresh;
	return 0;
}

static int
pki_crt_common(gnutls_x509_crt_t crt, gnutls_x509_crq_t crq, unsigned days,
    time_t now, struct cv_err *err)
{
	unsigned char	serial[16], id[64];
	size_t		size = sizeof(id);
	int		rc;

	if ((rc = gnutls_x509_crt_set_crq(crt, crq)) < 0)
		return cv_err_set(err, "request: %s", x509_strerror(rc));
	gnutls_x509_crt_set_version(crt, 3);
	if (pki_serial(serial, err) == -1)
		return -1;
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, now - PKI_BACKDATE);
	gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400);
	/* RFC 5280 4.2.1.2 method 1: SHA-1 of the public key. */
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id,
	    &size) >= 0)
		gnutls_x509_crt_set_subject_key_id(crt, id, size);
	return 0;
}

int
pki_ca_init(const struct pki_subject *s, unsigned days,
    gnutls_x509_privkey_t key, time_t now, gnutls_x509_crt_t *out,
    struct cv_err *err)
{
	gnutls_x509_crq_t	crq = NULL;
	gnutls_x509_crt_t	crt = NULL;
	int			rc, ret = -1;

	*out = NULL;
	if (days == 0)
		days = PKI_CA_DAYS_DEFAULT;
	if (days > PKI_DAYS_MAX)
		return cv_err_set(err, "--days %u: at most %u", days,
		    PKI_DAYS_MAX);
	if (pki_csr_make(s, NULL, key, &crq, err) == -1)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0) {
		cv_err_set(err, "out of memory");
		goto out;
	}
	if (pki_crt_common(crt, crq, days, now, err) == -1)
		goto out;
	gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
	gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE);
	if ((rc = gnutls_x509_crt_sign2(crt, crt, key, pki_sign_dig(key),
	    0)) < 0) {
		cv_err_set(err, "signing: %s", x509_strerror(rc));
		goto out;
	}
	if (pki_crt_reload(&crt, err) == -1)
		goto out;
	*out = crt;
	crt = NULL;
	ret = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_crq_deinit(crq);
	return ret;
}

/* A CN that a client may connect to: a host name or an address. */
static int
pki_cn_san(gnutls_x509_crq_t crq, struct pki_san_list *l)
{
	char	cn[256], *v;
	size_t	size = sizeof(cn) - 1;
	int	rc;

	if (gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, cn, &size) < 0)
		return -1;
	cn[size] = '\0';
	xasprintf(&v, "IP:%s", cn);
	rc = pki_san_add(l, v, strlen(v), NULL);
	free(v);
	if (rc == 0)
		return 0;
	if (strchr(cn, '.') == NULL && strcmp(cn, "localhost") != 0)
		return -1;	/* "SelfIssuedCA", "inventory-client" */
	xasprintf(&v, "DNS:%s", cn);
	rc = pki_san_add(l, v, strlen(v), NULL);
	free(v);
	return rc;
}

static int
pki_crq_has_san(gnutls_x509_crq_t crq)
{
	char		buf[8];
	size_t		size = sizeof(buf);
	unsigned	crit;
	int		rc;

	rc = gnutls_x509_crq_get_subject_alt_name(crq, 0, buf, &size, NULL,
	    &crit);
	return rc >= 0 || rc == GNUTLS_E_SHORT_MEMORY_BUFFER;
}

/* Whether the CA in is can sign a leaf of days days. */
static int
pki_ca_usable(const struct pki_issue *is, unsigned days, struct cv_err *err)
{
	unsigned	ca = 0, crit, ku = 0;
	time_t		ca_end;
	char		tb[TIMEUTIL_RFC3339_LEN];

	if (!pki_key_matches(is->ca_key, is->ca_crt))
		return cv_err_set(err, "the CA key does not match the CA "
		    "certificate");
	if (gnutls_x509_crt_get_basic_constraints(is->ca_crt, &crit, &ca,
	    NULL) < 0 || !ca)
		return cv_err_set(err, "the CA certificate is not a CA "
		    "(no basicConstraints CA:TRUE)");
	if (gnutls_x509_crt_get_key_usage(is->ca_crt, &ku, &crit) >= 0 &&
	    !(ku & GNUTLS_KEY_KEY_CERT_SIGN))
		return cv_err_set(err, "the CA certificate's key usage lacks "
		    "keyCertSign");
	ca_end = gnutls_x509_crt_get_expiration_time(is->ca_crt);
	if (ca_end < is->now + (time_t)days * 86400)
		return cv_err_set(err, "the CA certificate expires on %s, "
		    "before the new certificate would (use a smaller --days)",
		    timeutil_rfc3339(ca_end, tb, sizeof(tb)));
	return 0;
}

/* The leaf's SANs: the given ones, else the request's, else its CN. */
static int
pki_issue_san(gnutls_x509_crt_t crt, const struct pki_issue *is,
    struct cv_err *err)
{
	struct pki_san_list	 cnsan = { NULL, 0 };
	const struct pki_san_list *san = is->san;
	size_t			 i;
	int			 rc, ret = -1;

	if (san == NULL || san->n == 0) {
		san = NULL;
		if (pki_crq_has_san(is->crq)) {
			if ((rc = gnutls_x509_crt_set_crq_extension_by_oid(crt,
			    is->crq, GNUTLS_X509EXT_OID_SAN, 0)) < 0)
				return cv_err_set(err, "copying the request's "
				    "SANs: %s", x509_strerror(rc));
		} else if (pki_cn_san(is->crq, &cnsan) == 0)
			san = &cnsan;
	}
	for (i = 0; san != NULL && i < san->n; i++) {
		if ((rc = gnutls_x509_crt_set_subject_alt_name(crt,
		    san->v[i].type, san->v[i].data, (unsigned)san->v[i].len,
		    i == 0 ? GNUTLS_FSAN_SET : GNUTLS_FSAN_APPEND)) < 0) {
			cv_err_set(err, "SAN: %s", x509_strerror(rc));
			goto out;
		}
	}
	ret = 0;
out:
	pki_san_list_free(&cnsan);
	return ret;
}

int
pki_ca_issue(const struct pki_issue *is, gnutls_x509_crt_t *out,
    struct cv_err *err)
{
	gnutls_x509_crt_t	 crt = NULL;
	unsigned char		 id[64];
	size_t			 size;
	unsigned		 days = is->days ? is->days : PKI_LEAF_DAYS_DEFAULT;
	unsigned		 crit, ku = 0, bits;
	int			 rc, ret = -1, pk;

	*out = NULL;
	if (days > PKI_DAYS_MAX)
		return cv_err_set(err, "--days %u: at most %u", days,
		    PKI_DAYS_MAX);
	if (pki_ca_usable(is, days, err) == -1)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0)
		return cv_err_set(err, "out of memory");
	if (pki_crt_common(crt, is->crq, days, is->now, err) == -1)
		goto out;
	gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	/* keyEncipherment only means something for RSA key transport. */
	pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	ku = GNUTLS_KEY_DIGITAL_SIGNATURE;
	if (pk == GNUTLS_PK_RSA)
		ku |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	gnutls_x509_crt_set_key_usage(crt, ku);
	if ((rc = gnutls_x509_crt_set_key_purpose_oid(crt,
	    pki_purpose_oid(is->purpose), 0)) < 0) {
		cv_err_set(err, "EKU: %s", x509_strerror(rc));
		goto out;
	}
	if (pki_issue_san(crt, is, err) == -1)
		goto out;
	size = sizeof(id);
	if (gnutls_x509_crt_get_subject_key_id(is->ca_crt, id, &size,
	    &crit) >= 0)
		gnutls_x509_crt_set_authority_key_id(crt, id, size);
	if ((rc = gnutls_x509_crt_sign2(crt, is->ca_crt, is->ca_key,
	    pki_sign_dig(is->ca_key), 0)) < 0) {
		cv_err_set(err, "signing: %s", x509_strerror(rc));
		goto out;
	}
	if (pki_crt_reload(&crt, err) == -1)
		goto out;
	*out = crt;
	crt = NULL;
	ret = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

/* ---- PKCS#12 -------------------------------------------------------------- */

/* The certificate bag: the leaf (with localKeyID and friendlyName, as
 * OpenSSL and Windows pair them), then the chain; encrypted. */
static int
pki_p12_crt_bag(gnutls_pkcs12_bag_t cbag, gnutls_x509_crt_t leaf,
    gnutls_x509_crt_t *chain, size_t nchain, const gnutls_datum_t *keyid,
    const char *name, const char *password, unsigned flags,
    struct cv_err *err)
{
	size_t	i;
	int	rc, idx;

	if ((idx = gnutls_pkcs12_bag_set_crt(cbag, leaf)) < 0)
		return cv_err_set(err, "PKCS#12: %s", x509_strerror(idx));
	gnutls_pkcs12_bag_set_key_id(cbag, (unsigned)idx, keyid);
	if (*name != '\0')
		gnutls_pkcs12_bag_set_friendly_name(cbag, (unsigned)idx, name);
	for (i = 0; i < nchain; i++)
		if ((rc = gnutls_pkcs12_bag_set_crt(cbag, chain[i])) < 0)
			return cv_err_set(err, "PKCS#12: %s",
			    x509_strerror(rc));
	if ((rc = gnutls_pkcs12_bag_encrypt(cbag, password, flags)) < 0)
		return cv_err_set(err, "PKCS#12 encryption: %s",
		    x509_strerror(rc));
	return 0;
}

/* The key bag: the key as encrypted PKCS#8, same localKeyID and name. */
static int
pki_p12_key_bag(gnutls_pkcs12_bag_t kbag, gnutls_x509_privkey_t key,
    const gnutls_datum_t *keyid, const char *name, const char *password,
    unsigned flags, struct cv_err *err)
{
	gnutls_datum_t	kd = { NULL, 0 };
	int		rc, idx, ret = -1;

	if ((rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER,
	    password, flags, &kd)) < 0)
		return cv_err_set(err, "PKCS#12 key: %s", x509_strerror(rc));
	if ((idx = gnutls_pkcs12_bag_set_data(kbag,
	    GNUTLS_BAG_PKCS8_ENCRYPTED_KEY, &kd)) < 0) {
		cv_err_set(err, "PKCS#12: %s", x509_strerror(idx));
		goto out;
	}
	gnutls_pkcs12_bag_set_key_id(kbag, (unsigned)idx, keyid);
	if (*name != '\0')
		gnutls_pkcs12_bag_set_friendly_name(kbag, (unsigned)idx, name);
	ret = 0;
out:
	gnutls_free(kd.data);
	return ret;
}

int
pki_pkcs12_make(gnutls_x509_crt_t leaf, gnutls_x509_crt_t *chain,
    size_t nchain, gnutls_x509_privkey_t key, const char *password,
    int legacy, gnutls_datum_t *out, struct cv_err *err)
{
	gnutls_pkcs12_t		p12 = NULL;
	gnutls_pkcs12_bag_t	cbag = NULL, kbag = NULL;
	gnutls_datum_t		keyid;
	unsigned char		id[20];
	char			name[256];
	size_t			size = sizeof(id), nlen = sizeof(name) - 1;
	unsigned		flags = legacy ? GNUTLS_PKCS_PKCS12_3DES :
				    GNUTLS_PKCS_PBES2_AES_256;
	int			rc, ret = -1;

	out->data = NULL;
	out->size = 0;
	if (password == NULL || *password == '\0')
		return cv_err_set(err, "a PKCS#12 file needs a non-empty "
		    "password");
	if (!pki_key_matches(key, leaf))
		return cv_err_set(err, "the private key does not match the "
		    "certificate");
	/* OpenSSL and Windows pair key and certificate by localKeyID. */
	if (gnutls_x509_crt_get_fingerprint(leaf, GNUTLS_DIG_SHA1, id,
	    &size) < 0)
		return cv_err_set(err, "certificate thumbprint failed");
	keyid.data = id;
	keyid.size = (unsigned)size;
	if (gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, name, &nlen) < 0)
		nlen = 0;
	name[nlen] = '\0';

	if (gnutls_pkcs12_init(&p12) < 0 || gnutls_pkcs12_bag_init(&cbag) < 0 ||
	    gnutls_pkcs12_bag_init(&kbag) < 0) {
		cv_err_set(err, "out of memory");
		goto out;
	}
	if (pki_p12_crt_bag(cbag, leaf, chain, nchain, &keyid, name,
	    password, flags, err) == -1 || pki_p12_key_bag(kbag, key, &keyid,
	    name, password, flags, err) == -1)
		goto out;
	if ((rc = gnutls_pkcs12_set_bag(p12, cbag)) < 0 ||
	    (rc = gnutls_pkcs12_set_bag(p12, kbag)) < 0) {
		cv_err_set(err, "PKCS#12: %s", x509_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_pkcs12_generate_mac2(p12, legacy ? GNUTLS_MAC_SHA1 :
	    GNUTLS_MAC_SHA256, password)) < 0) {
		cv_err_set(err, "PKCS#12 MAC: %s", x509_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, out)) < 0) {
		cv_err_set(err, "PKCS#12 export: %s", x509_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	if (kbag != NULL)
		gnutls_pkcs12_bag_deinit(kbag);
	if (cbag != NULL)
		gnutls_pkcs12_bag_deinit(cbag);
	if (p12 != NULL)
		gnutls_pkcs12_deinit(p12);
	return ret;
}

/* ---- picking the leaf of a file ------------------------------------------ */

int
pki_file_key_of(const struct x509_file *f, size_t i)
{
	size_t	k;

	for (k = 0; k < f->nkeys; k++)
		if (memcmp(f->certs[i].key_id, f->keys[k].id, 32) == 0)
			return (int)k;
	return -1;
}

int
pki_file_leaf(const struct x509_file *f)
{
	size_t	i;

	for (i = 0; i < f->ncerts; i++)
		if (!f->certs[i].is_ca && pki_file_key_of(f, i) != -1)
			return (int)i;
	for (i = 0; i < f->ncerts; i++)
		if (!f->certs[i].is_ca)
			return (int)i;
	return f->ncerts > 0 ? 0 : -1;
}

size_t
pki_file_chain(const struct x509_file *f, size_t leaf, size_t *idx)
{
	char	*used = xcalloc(f->ncerts ? f->ncerts : 1, 1);
	size_t	 n = 0, cur = leaf, i;
	int	 found;

	used[leaf] = 1;
	/* Follow issuers first, then whatever is left in file order. */
	for (;;) {
		found = 0;
		for (i = 0; i < f->ncerts; i++) {
			if (used[i] || strcmp(f->certs[cur].issuer,
			    f->certs[i].subject) != 0)
				continue;
			used[i] = 1;
			idx[n++] = i;
			cur = i;
			found = 1;
			break;
		}
		if (!found)
			break;
	}
	for (i = 0; i < f->ncerts; i++)
		if (!used[i])
			idx[n++] = i;
	free(used);
	return n;
}

/* ---- policy checks ---------------------------------------------------------- */

const char *
pki_check_status_name(enum pki_check_status s)
{
	switch (s) {
	case PKI_CHECK_PASS:	return "PASS";
	case PKI_CHECK_WARN:	return "WARN";
	case PKI_CHECK_FAIL:	return "FAIL";
	case PKI_CHECK_SKIP:	return "SKIP";
	}
	return "?";
}

static void
pki_check_add(struct pki_check_list *l, const char *rule,
    enum pki_check_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
pki_check_add(struct pki_check_list *l, const char *rule,
    enum pki_check_status st, const char *fmt, ...)
{
	struct pki_check_result	*r;
	va_list			 ap;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	r = &l->v[l->n++];
	r->rule = rule;
	r->status = st;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	if (st == PKI_CHECK_FAIL)
		l->nfail++;
	else if (st == PKI_CHECK_WARN)
		l->nwarn++;
}

void
pki_check_list_free(struct pki_check_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
pki_host_matches(gnutls_x509_crt_t crt, const char *host)
{
	return gnutls_x509_crt_check_hostname2(crt, host, 0) != 0;
}

static void
pki_check_key(struct pki_check_list *l, gnutls_x509_crt_t leaf,
    gnutls_x509_privkey_t key)
{
	if (key == NULL)
		pki_check_add(l, "key", PKI_CHECK_FAIL, "no private key (give "
		    "--key, or a PFX or bundle holding it)");
	else if (!pki_key_matches(key, leaf))
		pki_check_add(l, "key", PKI_CHECK_FAIL, "the private key does "
		    "not match the certificate");
	else
		pki_check_add(l, "key", PKI_CHECK_PASS, "private key present "
		    "and matching");
}

static int
pki_check_chain(struct pki_check_list *l, gnutls_x509_crt_t leaf,
    gnutls_x509_crt_t *chain, size_t nchain, const struct pki_check_opts *o,
    struct cv_err *err)
{
	gnutls_x509_trust_list_t	 tl = NULL;
	gnutls_x509_crt_t		*list;
	gnutls_datum_t			 txt = { NULL, 0 };
	unsigned			 status = 0, times;
	time_t				 nb, na;
	int				 rc, ret = -1;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return cv_err_set(err, "out of memory");
	if (o->ca_file != NULL) {
		rc = gnutls_x509_trust_list_add_trust_file(tl, o->ca_file,
		    NULL, GNUTLS_X509_FMT_PEM, 0, 0);
		if (rc <= 0) {
			cv_err_set(err, "--ca-file %s: %s", o->ca_file,
			    rc == 0 ? "no certificate found" :
			    x509_strerror(rc));
			goto out;
		}
	} else if ((rc = gnutls_x509_trust_list_add_system_trust(tl, 0,
	    0)) <= 0) {
		pki_check_add(l, "chain", PKI_CHECK_FAIL, "the system trust "
		    "store is empty or unreadable (give --ca-file)");
		ret = 0;
		goto out;
	}
	list = xreallocarray(NULL, nchain + 1, sizeof(*list));
	list[0] = leaf;
	if (nchain > 0)
		memcpy(list + 1, chain, nchain * sizeof(*list));
	rc = gnutls_x509_trust_list_verify_crt2(tl, list,
	    (unsigned)nchain + 1, NULL, 0, 0, &status, NULL);
	free(list);
	if (rc < 0) {
		cv_err_set(err, "chain verification: %s", x509_strerror(rc));
		goto out;
	}
	/* The leaf's own dates belong to the validity rule. */
	times = GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED;
	nb = gnutls_x509_crt_get_activation_time(leaf);
	na = gnutls_x509_crt_get_expiration_time(leaf);
	if ((status & ~(times | GNUTLS_CERT_INVALID)) == 0 &&
	    (status & times) && (o->now < nb || o->now > na))
		status = 0;
	if (status == 0) {
		pki_check_add(l, "chain", PKI_CHECK_PASS, "verifies to a "
		    "trusted CA (%s)", o->ca_file ? o->ca_file :
		    "system trust store");
	} else {
		gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &txt, 0);
		/* GnuTLS's text ends with a blank. */
		while (txt.data != NULL && txt.size > 0 &&
		    isspace(txt.data[txt.size - 1]))
			txt.data[--txt.size] = '\0';
		pki_check_add(l, "chain", PKI_CHECK_FAIL, "%s (%s)",
		    txt.data ? (char *)txt.data : "not trusted",
		    o->ca_file ? o->ca_file : "system trust store");
		gnutls_free(txt.data);
	}
	ret = 0;
out:
	gnutls_x509_trust_list_deinit(tl, 1);
	return ret;
}

static void
pki_check_eku(struct pki_check_list *l, gnutls_x509_crt_t leaf,
    enum pki_purpose p)
{
	char		buf[128];
	size_t		size;
	unsigned	i;
	int		rc, any = 0;

	for (i = 0; ; i++) {
		size = sizeof(buf);
		rc = gnutls_x509_crt_get_key_purpose_oid(leaf, i, buf, &size,
		    NULL);
		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (rc < 0)
			break;
		any = 1;
		if (strcmp(buf, pki_purpose_oid(p)) == 0 ||
		    strcmp(buf, GNUTLS_KP_ANY) == 0) {
			pki_check_add(l, "eku", PKI_CHECK_PASS, "%s (%s)",
			    pki_purpose_name(p), pki_purpose_oid(p));
			return;
		}
	}
	if (!any)
		pki_check_add(l, "eku", PKI_CHECK_WARN, "no extended key "
		    "usage: any purpose is allowed, but %s (%s) is expected",
		    pki_purpose_name(p), pki_purpose_oid(p));
	else
		pki_check_add(l, "eku", PKI_CHECK_FAIL, "%s (%s) missing from "
		    "the extended key usage", pki_purpose_name(p),
		    pki_purpose_oid(p));
}

static void
pki_check_sig(struct pki_check_list *l, gnutls_x509_crt_t crt,
    const char *what)
{
	const char	*name;
	int		 sign, dig;

	sign = gnutls_x509_crt_get_signature_algorithm(crt);
	name = sign >= 0 ? gnutls_sign_get_name(sign) : NULL;
	if (name == NULL)
		name = "unknown";
	dig = sign >= 0 ? (int)gnutls_sign_get_hash_algorithm(sign) : 0;
	switch (dig) {
	case GNUTLS_DIG_MD2:
	case GNUTLS_DIG_MD5:
	case GNUTLS_DIG_SHA1:
		pki_check_add(l, "signature", PKI_CHECK_FAIL, "%s%s is "
		    "insecure; SHA-2 is required", what, name);
		return;
	case GNUTLS_DIG_SHA224:
	case GNUTLS_DIG_SHA256:
	case GNUTLS_DIG_SHA384:
	case GNUTLS_DIG_SHA512:
	case GNUTLS_DIG_SHA3_256:
	case GNUTLS_DIG_SHA3_384:
	case GNUTLS_DIG_SHA3_512:
		pki_check_add(l, "signature", PKI_CHECK_PASS, "%s%s", what,
		    name);
		return;
	default:
		if (sign == GNUTLS_SIGN_EDDSA_ED25519 ||
		    sign == GNUTLS_SIGN_EDDSA_ED448) {
			pki_check_add(l, "signature", PKI_CHECK_PASS, "%s%s",
			    what, name);
			return;
		}
		pki_check_add(l, "signature", PKI_CHECK_WARN, "%s%s: not a "
		    "known SHA-2 algorithm", what, name);
	}
}

static void
pki_check_keysize(struct pki_check_list *l, gnutls_x509_crt_t crt)
{
	unsigned	bits = 0;
	int		pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);

	switch (pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		pki_check_add(l, "key-size", bits >= 2048 ? PKI_CHECK_PASS :
		    PKI_CHECK_FAIL, "RSA %u bits%s", bits, bits >= 2048 ? "" :
		    " (at least 2048 required)");
		break;
	case GNUTLS_PK_ECDSA:
		pki_check_add(l, "key-size", bits >= 256 ? PKI_CHECK_PASS :
		    PKI_CHECK_FAIL, "EC %u bits%s", bits, bits >= 256 ? "" :
		    " (at least P-256 required)");
		break;
	case GNUTLS_PK_EDDSA_ED25519:
	case GNUTLS_PK_EDDSA_ED448:
		pki_check_add(l, "key-size", PKI_CHECK_PASS, "%s",
		    pk == GNUTLS_PK_EDDSA_ED25519 ? "Ed25519" : "Ed448");
		break;
	case GNUTLS_PK_DSA:
		pki_check_add(l, "key-size", PKI_CHECK_FAIL, "DSA %u bits: "
		    "use RSA 2048+ or EC P-256+", bits);
		break;
	default:
		pki_check_add(l, "key-size", PKI_CHECK_WARN, "unknown key "
		    "algorithm %d", pk);
	}
}

static void
pki_check_validity(struct pki_check_list *l, gnutls_x509_crt_t crt,
    const struct pki_check_opts *o)
{
	char	tb[TIMEUTIL_RFC3339_LEN], dur[64];
	time_t	nb = gnutls_x509_crt_get_activation_time(crt);
	time_t	na = gnutls_x509_crt_get_expiration_time(crt);
	int64_t	left = timeutil_days_left(na, o->now);

	if (o->now < nb)
		pki_check_add(l, "validity", PKI_CHECK_FAIL, "not valid "
		    "before %s", timeutil_rfc3339(nb, tb, sizeof(tb)));
	else if (o->now > na)
		pki_check_add(l, "validity", PKI_CHECK_FAIL, "expired on %s "
		    "(%s ago)", timeutil_rfc3339(na, tb, sizeof(tb)),
		    timeutil_fmt_duration((int64_t)(o->now - na), dur,
		    sizeof(dur)));
	else if (o->min_days >= 0 && left < o->min_days)
		pki_check_add(l, "validity", PKI_CHECK_FAIL, "expires on %s, "
		    "in %lld days (fewer than --min-days %lld)",
		    timeutil_rfc3339(na, tb, sizeof(tb)), (long long)left,
		    (long long)o->min_days);
	else
		pki_check_add(l, "validity", o->min_days < 0 && left < 30 ?
		    PKI_CHECK_WARN : PKI_CHECK_PASS, "valid until %s (%lld "
		    "days left)", timeutil_rfc3339(na, tb, sizeof(tb)),
		    (long long)left);
}

int
pki_check(gnutls_x509_crt_t leaf, gnutls_x509_crt_t *chain, size_t nchain,
    gnutls_x509_privkey_t key, const struct pki_check_opts *o,
    struct pki_check_list *l, struct cv_err *err)
{
	memset(l, 0, sizeof(*l));
	pki_check_key(l, leaf, key);
	if (pki_check_chain(l, leaf, chain, nchain, o, err) == -1) {
		pki_check_list_free(l);
		return -1;
	}
	pki_check_eku(l, leaf, o->purpose);
	if (o->host == NULL)
		pki_check_add(l, "host", PKI_CHECK_SKIP, "no --host given");
	else if (pki_host_matches(leaf, o->host))
		pki_check_add(l, "host", PKI_CHECK_PASS, "%s matches the "
		    "certificate's names", o->host);
	else
		pki_check_add(l, "host", PKI_CHECK_FAIL, "%s matches neither "
		    "the CN nor a SAN", o->host);
	pki_check_sig(l, leaf, "");
	pki_check_keysize(l, leaf);
	pki_check_validity(l, leaf, o);
	return 0;
}
