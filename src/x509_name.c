/*
 * Distinguished names as OpenSSL's RFC 2253 output writes them
 * (`openssl x509 -noout -subject -nameopt RFC2253`): the last RDN first,
 * OpenSSL's short attribute names (emailAddress, SN, GN,
 * organizationIdentifier, ...), the dotted OID and #hex of the DER for an
 * attribute it has no name for.  Two differences, on purpose: valid UTF-8
 * is shown as it is (OpenSSL's esc_msb would write \C3\BC for "ü") and so
 * are control characters (esc_ctrl: \0A), which JSON carries exactly and
 * the log and terminal output escape; bytes that are not valid UTF-8 are
 * written \XX, so inspect, list and the logs all show the same ASCII
 * instead of null, U+FFFD or mojibake.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "x509.h"
#include "xmalloc.h"

static const struct {
	const char	*oid;
	const char	*name;
} x509_name_attrs[] = {
	{ "2.5.4.3",	"CN" },
	{ "2.5.4.4",	"SN" },
	{ "2.5.4.5",	"serialNumber" },
	{ "2.5.4.6",	"C" },
	{ "2.5.4.7",	"L" },
	{ "2.5.4.8",	"ST" },
	{ "2.5.4.9",	"street" },
	{ "2.5.4.10",	"O" },
	{ "2.5.4.11",	"OU" },
	{ "2.5.4.12",	"title" },
	{ "2.5.4.13",	"description" },
	{ "2.5.4.15",	"businessCategory" },
	{ "2.5.4.16",	"postalAddress" },
	{ "2.5.4.17",	"postalCode" },
	{ "2.5.4.18",	"postOfficeBox" },
	{ "2.5.4.20",	"telephoneNumber" },
	{ "2.5.4.41",	"name" },
	{ "2.5.4.42",	"GN" },
	{ "2.5.4.43",	"initials" },
	{ "2.5.4.44",	"generationQualifier" },
	{ "2.5.4.45",	"x500UniqueIdentifier" },
	{ "2.5.4.46",	"dnQualifier" },
	{ "2.5.4.65",	"pseudonym" },
	{ "2.5.4.72",	"role" },
	{ "2.5.4.97",	"organizationIdentifier" },
	{ "1.2.840.113549.1.9.1", "emailAddress" },
	{ "1.2.840.113549.1.9.2", "unstructuredName" },
	{ "1.2.840.113549.1.9.8", "unstructuredAddress" },
	{ "0.9.2342.19200300.100.1.1",	"UID" },
	{ "0.9.2342.19200300.100.1.25",	"DC" },
	{ "1.3.6.1.4.1.311.60.2.1.1",	"jurisdictionL" },
	{ "1.3.6.1.4.1.311.60.2.1.2",	"jurisdictionST" },
	{ "1.3.6.1.4.1.311.60.2.1.3",	"jurisdictionC" },
};

/* ASN.1 universal tags of the string types OpenSSL prints as text. */
enum {
	TAG_UTF8 = 12, TAG_NUMERIC = 18, TAG_PRINTABLE = 19, TAG_T61 = 20,
	TAG_IA5 = 22, TAG_UNIVERSAL = 28, TAG_BMP = 30, TAG_VISIBLE = 26,
};

static const char *
x509_name_attr(const char *oid)
{
	size_t	i;

	for (i = 0; i < sizeof(x509_name_attrs) / sizeof(x509_name_attrs[0]);
	    i++)
		if (strcmp(oid, x509_name_attrs[i].oid) == 0)
			return x509_name_attrs[i].name;
	return NULL;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
x509_name_utf8_len(const unsigned char *p, size_t n)
{
	size_t		len, i;
	unsigned long	cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	cp = p[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms and surrogates are not UTF-8. */
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * One code point, RFC 2253-escaped as OpenSSL's esc_2253.  Control
 * characters are kept as they are (OpenSSL's esc_ctrl would write \1B):
 * the subject is data, JSON carries it exactly, and the log and the
 * terminal escape it where it is shown (issue 12, log.c and cmd_safe).
 */
static void
x509_name_put_cp(struct buf *b, unsigned long cp, int first, int last)
{
	char	u[4];

	if (cp < 0x80) {
		if (strchr(",+\"\\<>;", (int)cp) != NULL ||
		    (cp == '#' && first) || (cp == ' ' && (first || last)))
			buf_add(b, "\\", 1);
		u[0] = (char)cp;
		buf_add(b, u, 1);
		return;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

/* A UTF-8 value: each valid sequence as it is, each other byte \XX. */
static void
x509_name_put_utf8(struct buf *b, const unsigned char *p, size_t n)
{
	size_t	i = 0, k, j;

	while (i < n) {
		if ((k = x509_name_utf8_len(p + i, n - i)) == 0) {
			buf_fmt(b, "\\%02X", p[i++]);
			continue;
		}
		if (k == 1)
			x509_name_put_cp(b, p[i], i == 0, i + 1 == n);
		else
			for (j = 0; j < k; j++)
				buf_add(b, (const char *)p + i + j, 1);
		i += k;
	}
}

/* BMPString (width 2) or UniversalString (width 4): big-endian units. */
static void
x509_name_put_wide(struct buf *b, const unsigned char *p, size_t n,
    size_t width)
{
	unsigned long	cp;
	size_t		i, j;

	for (i = 0; i + width <= n; i += width) {
		for (cp = 0, j = 0; j < width; j++)
			cp = (cp << 8) | p[i + j];
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		x509_name_put_cp(b, cp, i == 0, i + width >= n);
	}
}

/* The whole attribute as DER, in hex after '#' (RFC 2253 section 2.4). */
static void
x509_name_put_hex(struct buf *b, unsigned long tag, const unsigned char *p,
    size_t n)
{
	size_t	i;

	buf_fmt(b, "#%02X", (unsigned)(tag & 0xff));
	if (n < 0x80)
		buf_fmt(b, "%02X", (unsigned)n);
	else if (n < 0x100)
		buf_fmt(b, "81%02X", (unsigned)n);
	else
		buf_fmt(b, "82%04X", (unsigned)(n & 0xffff));
	for (i = 0; i < n; i++)
		buf_fmt(b, "%02X", p[i]);
}

static void
x509_name_put_ava(struct buf *b, const gnutls_x509_ava_st *ava)
{
	char		 oid[128];
	const char	*name;
	size_t		 i, n = ava->value.size;
	const unsigned char *p = ava->value.data;

	snprintf(oid, sizeof(oid), "%.*s", (int)ava->oid.size,
	    (const char *)ava->oid.data);
	name = x509_name_attr(oid);
	buf_cat(b, name != NULL ? name : oid);
	buf_add(b, "=", 1);
	if (name == NULL) {
		x509_name_put_hex(b, ava->value_tag, p, n);
		return;
	}
	switch (ava->value_tag) {
	case TAG_UTF8:
	case TAG_PRINTABLE:
	case TAG_IA5:
	case TAG_VISIBLE:
	case TAG_NUMERIC:
		x509_name_put_utf8(b, p, n);
		break;
	case TAG_T61:
		/* OpenSSL reads T61String as Latin-1. */
		for (i = 0; i < n; i++)
			x509_name_put_cp(b, p[i], i == 0, i + 1 == n);
		break;
	case TAG_BMP:
		x509_name_put_wide(b, p, n, 2);
		break;
	case TAG_UNIVERSAL:
		x509_name_put_wide(b, p, n, 4);
		break;
	default:
		x509_name_put_hex(b, ava->value_tag, p, n);
		break;
	}
}

char *
x509_name_str(const gnutls_datum_t *der)
{
	gnutls_x509_dn_t	dn = NULL;
	gnutls_x509_ava_st	ava;
	struct buf		b = { NULL, 0, 0 };
	int			nrdn, irdn, iava, nava;

	if (gnutls_x509_dn_init(&dn) < 0)
		return NULL;
	if (gnutls_x509_dn_import(dn, der) < 0) {
		gnutls_x509_dn_deinit(dn);
		return NULL;
	}
	for (nrdn = 0; gnutls_x509_dn_get_rdn_ava(dn, nrdn, 0, &ava) == 0;
	    nrdn++)
		;
	/* OpenSSL reverses every attribute, those of one RDN included. */
	for (irdn = nrdn - 1; irdn >= 0; irdn--) {
		if (irdn != nrdn - 1)
			buf_add(&b, ",", 1);
		for (nava = 0; gnutls_x509_dn_get_rdn_ava(dn, irdn, nava,
		    &ava) == 0; nava++)
			;
		for (iava = nava - 1; iava >= 0; iava--) {
			if (gnutls_x509_dn_get_rdn_ava(dn, irdn, iava,
			    &ava) != 0)
				break;
			if (iava != nava - 1)
				buf_add(&b, "+", 1);
			x509_name_put_ava(&b, &ava);
		}
	}
	gnutls_x509_dn_deinit(dn);
	return b.p != NULL ? b.p : xstrdup("");
}
