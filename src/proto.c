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
	return json_pack("{s:i, s:b, s:{s:s, s:s}}", "v", PROTO_VERSION, "ok",
	    0, "error", "code", code, "message", msg);
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
