/*
 * The control protocol shared by certvigild and certvigil: newline-
 * delimited JSON over a Unix stream socket.
 *
 *   request  {"v":1,"cmd":"list","args":{...}}
 *   reply    {"v":1,"ok":true,"result":...}
 *            {"v":1,"ok":false,"error":{"code":"...","message":"..."}}
 *   stream   {"v":1,"event":{...}}          (after a "watch" request)
 *
 * Bump PROTO_VERSION on any incompatible change, and document it in
 * certvigild(8).
 */
#ifndef CV_PROTO_H
#define CV_PROTO_H

#include <stddef.h>

#include <jansson.h>

#define PROTO_VERSION		1
#define PROTO_DEFAULT_MAX	(64 * 1024)

/* Error codes carried in error.code. */
#define PROTO_E_BAD_JSON	"bad_json"
#define PROTO_E_BAD_REQUEST	"bad_request"
#define PROTO_E_BAD_VERSION	"bad_version"
#define PROTO_E_UNKNOWN_CMD	"unknown_command"
#define PROTO_E_TOO_LARGE	"too_large"
#define PROTO_E_DENIED		"permission_denied"
#define PROTO_E_NOT_FOUND	"not_found"
#define PROTO_E_AMBIGUOUS	"ambiguous"
#define PROTO_E_BUSY		"busy"
#define PROTO_E_INTERNAL	"internal"

/*
 * Request names: the protocol's vocabulary, which both sides' command
 * tables refer to (certvigild.c daemon_cmds, the CLI's cmd_entry
 * .request).  Who may send which is the daemon's table's business.
 */
#define PROTO_CMD_STATUS	"status"
#define PROTO_CMD_LIST		"list"
#define PROTO_CMD_SHOW		"show"
#define PROTO_CMD_EVENTS	"events"
#define PROTO_CMD_WATCH		"watch"
#define PROTO_CMD_METRICS	"metrics"
#define PROTO_CMD_RESCAN	"rescan"
#define PROTO_CMD_RELOAD	"reload"
#define PROTO_CMD_RENEW		"renew"
#define PROTO_CMD_RENEWALS	"renewals"
#define PROTO_CMD_BINDING	"binding"
#define PROTO_CMD_REVOKE	"revoke"	/* issue 17 */

/*
 * A JSON string of s (null for NULL), whatever its bytes: a file name, a
 * certificate's subject or a message quoting them need not be UTF-8, and
 * jansson refuses what is not -- json_string returns NULL and a json_pack
 * holding it fails whole.  Each byte that starts no valid UTF-8 sequence
 * becomes U+FFFD, as in list's and show's JSON.
 */
json_t	*proto_string(const char *s);
/* Length of the valid UTF-8 sequence (RFC 3629, as jansson checks it:
 * no overlong form, surrogate or code point past U+10FFFF) at s, or 0. */
size_t	 proto_utf8_len(const unsigned char *s);

/*
 * Parses one request line.  On success *cmd points into *req (which the
 * caller decrefs) and *args is the args object (borrowed, may be empty).
 * On failure returns -1 and sets *code and msg.
 */
int	 proto_parse_request(const char *line, size_t len, json_t **req,
	    const char **cmd, json_t **args, const char **code, char *msg,
	    size_t msglen);

/* Builds a request / replies.  Callers own the returned objects. */
json_t	*proto_request(const char *cmd, json_t *args /* stolen, or NULL */);
json_t	*proto_reply_ok(json_t *result /* stolen */);
json_t	*proto_reply_err(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
json_t	*proto_event(json_t *event /* stolen */);

/* Serialises a message as one line ending in '\n'; caller frees. */
char	*proto_dump(const json_t *, size_t *len);

/*
 * Line framing for both ends: append received bytes, take complete lines.
 */
struct proto_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* largest line accepted */
	size_t	 taken;	/* bytes of the line handed out by take */
};

void	 proto_buf_init(struct proto_buf *, size_t max);
void	 proto_buf_free(struct proto_buf *);
/* Appends received bytes; callers take() after each append, so a line
 * longer than max is caught before the buffer grows past max + one read. */
void	 proto_buf_append(struct proto_buf *, const char *, size_t);
/*
 * Takes the next complete line (without the newline) into line and len; the pointer
 * is valid until the next proto_buf call (the previous line is consumed
 * then).  Returns 1 if a line was taken, 0 if none is complete, -1 if the
 * line is longer than max.
 */
int	 proto_buf_take(struct proto_buf *, char **line, size_t *len);
void	 proto_buf_consume(struct proto_buf *);

#endif
