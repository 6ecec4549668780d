/*
 * A one-pass JSON checker that writes jansson's compact form (see
 * jcanon.h).  Everything it does not know how to print exactly as
 * jansson does is refused, so that the caller's fallback -- jansson
 * itself -- decides.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jcanon.h"

#define JCANON_DEPTH	64

struct jcanon {
	const unsigned char	*in;
	size_t			 n, i;	/* input, its length, read offset */
	unsigned char		*out;
	size_t			 o;	/* write offset */
};

/* The byte at the read offset, -1 at the end. */
static int
jcanon_peek(const struct jcanon *j)
{
	return j->i < j->n ? j->in[j->i] : -1;
}

/* The length of the UTF-8 sequence at p (n bytes left), 0 if invalid:
 * overlong, surrogate, above U+10FFFF -- what jansson refuses. */
static size_t
jcanon_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Four hex digits after "\u"; -1 if they are not. */
static long
jcanon_hex4(struct jcanon *j)
{
	long	v = 0;
	int	k, c;

	if (j->n - j->i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		c = j->in[j->i++];
		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* Writes code point cp as jansson does inside a string. */
static void
jcanon_put_cp(struct jcanon *j, long cp)
{
	static const char	 shorts[] = "\bb\ff\nn\rr\tt";
	const char		*s;
	unsigned char		*o = j->out + j->o;

	if (cp == '"' || cp == '\\') {
		o[0] = '\\';
		o[1] = (unsigned char)cp;
		j->o += 2;
	} else if (cp < 0x20) {
		for (s = shorts; *s != '\0'; s += 2)
			if (*s == cp)
				break;
		if (*s != '\0') {
			o[0] = '\\';
			o[1] = (unsigned char)s[1];
			j->o += 2;
		} else {
			/* 6 bytes, as the escape it replaces (and a NUL:
			 * out has n + 1 bytes). */
			snprintf((char *)o, 7, "\\u%04lX", cp);
			j->o += 6;
		}
	} else if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		j->o += 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		j->o += 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		j->o += 3;
	} else {
		o[0] = (unsigned char)(0xf0 | cp >> 18);
		o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		j->o += 4;
	}
}

/* One escape after its backslash; -1 if invalid (or \u0000, which
 * jansson refuses). */
static int
jcanon_escape(struct jcanon *j)
{
	const char	*map = "\"\"\\\\//b\bf\fn\nr\rt\t", *m;
	long		 cp, lo;
	int		 c = jcanon_peek(j);

	if (c == -1)
		return -1;
	j->i++;
	if (c != 'u') {
		for (m = map; *m != '\0'; m += 2)
			if (*m == c) {
				jcanon_put_cp(j, (unsigned char)m[1]);
				return 0;
			}
		return -1;
	}
	if ((cp = jcanon_hex4(j)) <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->n - j->i < 2 || j->in[j->i] != '\\' ||
		    j->in[j->i + 1] != 'u')
			return -1;
		j->i += 2;
		if ((lo = jcanon_hex4(j)) < 0xdc00 || lo > 0xdfff)
			return -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	jcanon_put_cp(j, cp);
	return 0;
}

static int
jcanon_string(struct jcanon *j)
{
	size_t	u;
	int	c;

	j->out[j->o++] = j->in[j->i++];		/* the opening quote */
	while ((c = jcanon_peek(j)) != '"') {
		if (c == -1 || c < 0x20)
			return -1;
		if (c == '\\') {
			j->i++;
			if (jcanon_escape(j) == -1)
				return -1;
		} else if (c >= 0x80) {
			if ((u = jcanon_utf8_len(j->in + j->i, j->n - j->i)) == 0)
				return -1;
			memcpy(j->out + j->o, j->in + j->i, u);
			j->o += u;
			j->i += u;
		} else
			j->out[j->o++] = j->in[j->i++];
	}
	j->out[j->o++] = j->in[j->i++];
	return 0;
}

/* An integer as jansson prints it, or true, false, null. */
static int
jcanon_scalar(struct jcanon *j)
{
	static const char *const	 lit[] = { "true", "false", "null" };
	size_t				 k, start = j->i, d;
	int				 c = jcanon_peek(j);

	for (k = 0; k < 3; k++)
		if (c == lit[k][0]) {
			d = strlen(lit[k]);
			if (j->n - j->i < d || memcmp(j->in + j->i, lit[k],
			    d) != 0)
				return -1;
			memcpy(j->out + j->o, lit[k], d);
			j->o += d;
			j->i += d;
			return 0;
		}
	if (c == '-')
		j->i++;
	for (d = 0; (c = jcanon_peek(j)) >= '0' && c <= '9'; d++)
		j->i++;
	/* No -0, 007, reals, or what may not fit in a json_int_t. */
	if (d == 0 || d > 18 || (j->in[j->i - d] == '0' && (d > 1 ||
	    j->in[start] == '-')) || c == '.' || c == 'e' || c == 'E')
		return -1;
	memcpy(j->out + j->o, j->in + start, j->i - start);
	j->o += j->i - start;
	return 0;
}

size_t
jcanon_compact(const unsigned char *in, size_t n, unsigned char *out)
{
	struct jcanon	 j = { in, n, 0, out, 0 };
	char		 stack[JCANON_DEPTH];
	size_t		 depth = 0;
	int		 c, key = 0;	/* a key is expected, not a value */

	if (n == 0 || (in[0] != '[' && in[0] != '{'))
		return 0;
	for (;;) {
		/* A value (or, in an object, a key and its colon). */
		c = jcanon_peek(&j);
		if (key) {
			if (c != '"' || jcanon_string(&j) == -1 ||
			    jcanon_peek(&j) != ':')
				return 0;
			out[j.o++] = in[j.i++];
			key = 0;
			continue;
		}
		if (c == '[' || c == '{') {
			if (depth == JCANON_DEPTH)
				return 0;
			stack[depth++] = c == '[' ? ']' : '}';
			out[j.o++] = in[j.i++];
			if (jcanon_peek(&j) != stack[depth - 1]) {
				key = c == '{';
				continue;
			}
		} else if (c == '"') {
			if (jcanon_string(&j) == -1)
				return 0;
			goto after;
		} else if (jcanon_scalar(&j) == -1)
			return 0;
		else
			goto after;
		/* An empty array or object: closed below. */
after:
		/* After a value: a comma, or closing brackets. */
		while ((c = jcanon_peek(&j)) != ',') {
			if (depth == 0 || c != stack[depth - 1])
				return 0;
			out[j.o++] = in[j.i++];
			if (--depth == 0)
				return j.i == n ? j.o : 0;
		}
		if (depth == 0)
			return 0;
		out[j.o++] = in[j.i++];
		key = stack[depth - 1] == '}';
	}
}
