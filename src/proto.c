#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xmalloc.h"

int
proto_parse_request(const char *line, size_t len, json_t **req,
    const char **cmd, json_t **args, const char **code, char *msg,
    size_t msglen)
{
	json_error_t	 jerr;
	json_t		*v, *c, *a;

	*req = NULL;
	/* Depth is bounded by jansson (JSON_PARSER_MAX_DEPTH). */
	*req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*req == NULL) {
		*code = PROTO_E_BAD_JSON;
		snprintf(msg, msglen, "invalid JSON: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(*req)) {
		*code = PROTO_E_BAD_REQUEST;
		snprintf(msg, msglen, "a request is a JSON object");
		goto fail;
	}
	v = json_object_get(*req, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		*code = PROTO_E_BAD_VERSION;
		snprintf(msg, msglen, "protocol version %d required (\"v\":%d)",
		    PROTO_VERSION, PROTO_VERSION);
		goto fail;
	}
	c = json_object_get(*req, "cmd");
	if (!json_is_string(c)) {
		*code = PROTO_E_BAD_REQUEST;
		snprintf(msg, msglen, "\"cmd\" must be a string");
		goto fail;
	}
	a = json_object_get(*req, "args");
	if (a != NULL && !json_is_object(a)) {
		*code = PROTO_E_BAD_REQUEST;
		snprintf(msg, msglen, "\"args\" must be an object");
		goto fail;
	}
	if (a == NULL) {
		a = json_object();
		json_object_set_new(*req, "args", a);
	}
	*cmd = json_string_value(c);
	*args = a;
	return 0;
fail:
	json_decref(*req);
	*req = NULL;
	return -1;
}

size_t
proto_utf8_len(const unsigned char *s)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* beyond U+10FFFF */
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

json_t *
proto_string(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	json_t			*j;
	char			*t, *q;
	size_t			 n;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	/* Each byte that starts no valid sequence: U+FFFD (3 bytes). */
	q = t = xmalloc(3 * strlen(s) + 1);
	while (*p) {
		if ((n = proto_utf8_len(p)) == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			p++;
		} else {
			memcpy(q, p, n);
			q += n;
			p += n;
		}
	}
	j = json_stringn(t, (size_t)(q - t));
	free(t);
	return j;
}

json_t *
proto_request(const char *cmd, json_t *args)
{
	return json_pack("{s:i, s:s, s:o}", "v", PROTO_VERSION, "cmd", cmd,
	    "args", args != NULL ? args : json_object());
}

json_t *
proto_reply_ok(json_t *result)
{
	return json_pack("{s:i, s:b, s:o}", "v", PROTO_VERSION, "ok", 1,
	    "result", result != NULL ? result : json_null());
}

json_t *
proto_reply_err(const char *code, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* msg may name a path that is not UTF-8 (proto_string). */
	return json_pack("{s:i, s:b, s:{s:s, s:o}}", "v", PROTO_VERSION, "ok",
	    0, "error", "code", code, "message", proto_string(msg));
}

json_t *
proto_event(json_t *event)
{
	return json_pack("{s:i, s:o}", "v", PROTO_VERSION, "event", event);
}

char *
proto_dump(const json_t *j, size_t *len)
{
	char	*s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t	 n;

	if (s == NULL)
		abort();	/* only on allocation failure */
	n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	*len = n + 1;
	return s;
}

void
proto_buf_init(struct proto_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
proto_buf_append(struct proto_buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

int
proto_buf_take(struct proto_buf *b, char **line, size_t *len)
{
	char	*nl;

	proto_buf_consume(b);
	nl = b->len ? memchr(b->data, '\n', b->len) : NULL;
	if (nl == NULL)
		return b->len > b->max ? -1 : 0;
	if ((size_t)(nl - b->data) > b->max)
		return -1;
	*nl = '\0';
	*line = b->data;
	*len = (size_t)(nl - b->data);
	b->taken = *len + 1;
	return 1;
}

void
proto_buf_consume(struct proto_buf *b)
{
	if (b->taken == 0)
		return;
	memmove(b->data, b->data + b->taken, b->len - b->taken);
	b->len -= b->taken;
	b->taken = 0;
}
