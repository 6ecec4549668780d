/*
 * certvigil commands that talk to certvigild: each turns argv into one
 * request, reads the reply, and prints it for people or as JSON.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "jcanon.h"
#include "proto.h"
#include "timeutil.h"
#include "xmalloc.h"

/* How long an error reply that can be a refusal waits for the hang-up. */
#define CLIENT_HANGUP_MS	200

struct client {
	int			 fd;
	const char		*path;
	struct proto_buf	 in;
};

static int
client_open(struct cmd_ctx *ctx, struct client *c)
{
	struct sockaddr_un	sun;

	memset(c, 0, sizeof(*c));
	c->path = ctx->socket_path;
	/* Replies can be large (a full list); lines are not capped here. */
	proto_buf_init(&c->in, SIZE_MAX / 2);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof(sun.sun_path)) {
		cmd_err("%s: socket path too long", c->path);
		return CMD_EXIT_UNREACHABLE;
	}
	strcpy(sun.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1 || connect(c->fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		cmd_err("cannot reach certvigild at %s: %s (is it running? "
		    "-S or CERTVIGIL_SOCKET name another socket)", c->path,
		    strerror(errno));
		if (c->fd != -1)
			close(c->fd);
		proto_buf_free(&c->in);
		return CMD_EXIT_UNREACHABLE;
	}
	return CMD_EXIT_OK;
}

static void
client_close(struct client *c)
{
	close(c->fd);
	proto_buf_free(&c->in);
}

/*
 * Reads one reply line (without its newline) into *line, valid until the
 * next read; returns 0, or an exit status.  Only the bytes of each read
 * are searched for the newline: a full list (7 MB at 10,000
 * certificates) arrives in a hundred reads or more.
 */
static int
client_read_line(struct client *c, char **line, size_t *len)
{
	char	 buf[65536], *nl;
	size_t	 scanned = 0;
	ssize_t	 n;

	proto_buf_consume(&c->in);
	for (;;) {
		if (c->in.len > scanned && (nl = memchr(c->in.data + scanned,
		    '\n', c->in.len - scanned)) != NULL) {
			*nl = '\0';
			*line = c->in.data;
			*len = (size_t)(nl - c->in.data);
			c->in.taken = *len + 1;
			return CMD_EXIT_OK;
		}
		scanned = c->in.len;
		n = read(c->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			cmd_err("%s: certvigild closed the connection%s%s",
			    c->path, n ? ": " : "", n ? strerror(errno) : "");
			return CMD_EXIT_UNREACHABLE;
		}
		proto_buf_append(&c->in, buf, (size_t)n);
	}
}

static int
client_parse(struct client *c, const char *line, size_t len, json_t **msg)
{
	json_error_t	jerr;

	if ((*msg = json_loadb(line, len, 0, &jerr)) == NULL) {
		cmd_err("%s: bad reply from certvigild: %s", c->path,
		    jerr.text);
		return CMD_EXIT_FAIL;
	}
	return CMD_EXIT_OK;
}

/* Reads one message; returns 0, or an exit status. */
static int
client_read(struct client *c, json_t **msg)
{
	char	*line;
	size_t	 len;
	int	 rc;

	if ((rc = client_read_line(c, &line, &len)) != CMD_EXIT_OK)
		return rc;
	return client_parse(c, line, len, msg);
}

/*
 * The daemon hung up while the request was being sent: it refused the
 * connection (too many clients, a request too large) and said why before
 * closing, which is still there to read.  Prints the reason; returns 3,
 * as when the daemon cannot be reached.
 */
static int
client_refused(struct client *c, int error)
{
	json_t		*reply = NULL;
	const char	*why = NULL;
	char		 buf[4096], *line;
	size_t		 len;
	ssize_t		 n;
	int		 rc;

	while ((rc = proto_buf_take(&c->in, &line, &len)) == 0) {
		n = read(c->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		proto_buf_append(&c->in, buf, (size_t)n);
	}
	if (rc == 1 && (reply = json_loadb(line, len, 0, NULL)) != NULL)
		why = json_string_value(json_object_get(json_object_get(reply,
		    "error"), "message"));
	if (why != NULL)
		cmd_err("%s: certvigild refused the connection: %s", c->path,
		    why);
	else
		cmd_err("%s: certvigild closed the connection: %s", c->path,
		    strerror(error));
	json_decref(reply);
	return CMD_EXIT_UNREACHABLE;
}

/*
 * After a "busy" or "too_large" error reply: whether the daemon hung up
 * (it refused the connection) rather than waiting for another request
 * (a renewal that is busy keeps it open).
 */
static int
client_hung_up(struct client *c)
{
	struct pollfd	pfd;
	char		b;

	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, CLIENT_HANGUP_MS) != 1)
		return 0;
	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

/*
 * Sends one request (takes args).  send(MSG_NOSIGNAL): a daemon hanging
 * up must not kill us with SIGPIPE before its reason is read.
 */
static int
client_send(struct client *c, const char *cmd, json_t *args)
{
	json_t		*req = proto_request(cmd, args);
	size_t		 len, off = 0;
	ssize_t		 n;
	char		*s = proto_dump(req, &len);

	json_decref(req);
	while (off < len) {
		n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			free(s);
			return client_refused(c, errno);
		}
		if (n == -1) {
			cmd_err("%s: %s", c->path, strerror(errno));
			free(s);
			return CMD_EXIT_UNREACHABLE;
		}
		off += (size_t)n;
	}
	free(s);
	return CMD_EXIT_OK;
}

/*
 * The result of an ok reply into *result (caller decrefs); an error
 * reply is printed and gives exit 1, a refused connection exit 3.
 * Takes reply.
 */
static int
client_result(struct client *c, json_t *reply, json_t **result)
{
	json_t		*err;
	const char	*code, *msg;
	int		 rc;

	if (json_is_true(json_object_get(reply, "ok"))) {
		*result = json_incref(json_object_get(reply, "result"));
		json_decref(reply);
		return CMD_EXIT_OK;
	}
	err = json_object_get(reply, "error");
	code = json_string_value(json_object_get(err, "code"));
	rc = code != NULL && (strcmp(code, PROTO_E_BUSY) == 0 ||
	    strcmp(code, PROTO_E_TOO_LARGE) == 0) && client_hung_up(c) ?
	    CMD_EXIT_UNREACHABLE : CMD_EXIT_FAIL;
	msg = json_string_value(json_object_get(err, "message"));
	if (msg == NULL)
		msg = "error reply without a message";
	if (rc == CMD_EXIT_UNREACHABLE)
		cmd_err("%s: certvigild refused the connection: %s", c->path,
		    msg);
	else
		cmd_err("%s", msg);
	json_decref(reply);
	return rc;
}

/* Sends one request and reads its reply: client_result's contract. */
static int
client_call(struct client *c, const char *cmd, json_t *args,
    json_t **result)
{
	json_t	*reply;
	int	 rc;

	*result = NULL;
	if ((rc = client_send(c, cmd, args)) != CMD_EXIT_OK ||
	    (rc = client_read(c, &reply)) != CMD_EXIT_OK)
		return rc;
	return client_result(c, reply, result);
}

/*
 * Sends one request and prints the result of its reply, compact, as
 * json_dumpf(JSON_COMPACT | JSON_PRESERVE_ORDER) does, and a newline.
 * When the reply has the exact shape of an ok reply (control.c), its
 * result is rewritten by jcanon_compact, in one pass, to the same bytes:
 * a full list is no longer parsed into 10,000 objects to be printed
 * again (issue 16).  Anything jcanon refuses takes the parsing path;
 * errors as client_call.
 */
static int
client_call_print(struct client *c, const char *cmd, json_t *args,
    FILE *out)
{
	json_t		*reply, *r;
	unsigned char	*canon;
	char		 pre[64], *line;
	size_t		 len, pl, n;
	int		 rc;

	if ((rc = client_send(c, cmd, args)) != CMD_EXIT_OK ||
	    (rc = client_read_line(c, &line, &len)) != CMD_EXIT_OK)
		return rc;
	pl = (size_t)snprintf(pre, sizeof(pre),
	    "{\"v\":%d,\"ok\":true,\"result\":", PROTO_VERSION);
	if (len > pl + 1 && memcmp(line, pre, pl) == 0 &&
	    line[len - 1] == '}') {
		canon = xmalloc(len - pl);
		n = jcanon_compact((unsigned char *)line + pl, len - pl - 1,
		    canon);
		if (n > 0) {
			fwrite(canon, 1, n, out);
			fputc('\n', out);
		}
		free(canon);
		if (n > 0)
			return CMD_EXIT_OK;
	}
	if ((rc = client_parse(c, line, len, &reply)) != CMD_EXIT_OK ||
	    (rc = client_result(c, reply, &r)) != CMD_EXIT_OK)
		return rc;
	json_dumpf(r, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(r);
	return CMD_EXIT_OK;
}

/* One request, one reply: the common shape of these commands. */
static int
client_once(struct cmd_ctx *ctx, const char *cmd, json_t *args,
    json_t **result)
{
	struct client	c;
	int		rc;

	if ((rc = client_open(ctx, &c)) != CMD_EXIT_OK) {
		json_decref(args);
		return rc;
	}
	rc = client_call(&c, cmd, args, result);
	client_close(&c);
	return rc;
}

/* client_once, printing the result compact on standard output. */
static int
client_once_print(struct cmd_ctx *ctx, json_t *args)
{
	struct client	c;
	int		rc;

	if ((rc = client_open(ctx, &c)) != CMD_EXIT_OK) {
		json_decref(args);
		return rc;
	}
	rc = client_call_print(&c, ctx->cmd->request, args, stdout);
	client_close(&c);
	return rc;
}

void
cmd_json_safe(json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (json_is_string(v))
				json_object_set_new(j, k, json_string(
				    cmd_safe(json_string_value(v))));
			else
				cmd_json_safe(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_string(v))
				json_array_set_new(j, i, json_string(
				    cmd_safe(json_string_value(v))));
			else
				cmd_json_safe(v);
		}
	}
}

void
cmd_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

/* The option of the commands whose only option is --json. */
static const struct cmdopt json_opts[] = {
	{ "json", 'j', NULL, "print the daemon's reply as JSON" },
	CMDOPT_END
};

/*
 * Parses argv for those commands: sets *json; returns -1 when the
 * command is done (--help or a bad option: ctx->opt.exit says how) or
 * nargs operands are not what remains.
 */
static int
simple_opts(struct cmd_ctx *ctx, int argc, char **argv, int nargs,
    int *json)
{
	int	ch;

	*json = 0;
	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		if (ch != 'j')
			return -1;
		*json = 1;
	}
	if (optind + nargs != argc) {
		ctx->opt.exit = cmd_usage(ctx->cmd);
		return -1;
	}
	return 0;
}

#define JI(o, ...)	json_integer_value(json_object_get(o, __VA_ARGS__))
#define JS(o, k)	json_string_value(json_object_get(o, k))

/*
 * The commands that take --json and no operand: one request, its result
 * printed as JSON or by print.
 */
static int
cmd_simple(struct cmd_ctx *ctx, int argc, char **argv,
    void (*print)(json_t *))
{
	json_t	*r;
	int	 json, rc;

	if (simple_opts(ctx, argc, argv, 0, &json) == -1)
		return ctx->opt.exit;
	if ((rc = cmd_request(ctx, NULL, NULL, &r)) != CMD_EXIT_OK)
		return rc;
	if (json)
		cmd_print_json(r);
	else
		print(r);
	json_decref(r);
	return CMD_EXIT_OK;
}

static void
status_print(json_t *r)
{
	json_t	*c, *f, *s, *w, *x;
	char	 dur[64];
	size_t	 i;

	cmd_json_safe(r);
	c = json_object_get(r, "certs");
	f = json_object_get(r, "files");
	s = json_object_get(r, "scan");
	printf("certvigild %s, pid %lld, up %s\n", JS(r, "version"),
	    (long long)JI(r, "pid"), timeutil_fmt_duration(JI(r, "uptime"),
	    dur, sizeof(dur)));
	printf("certificates: %lld (valid %lld, expiring %lld, expired %lld, "
	    "not yet valid %lld, invalid %lld)\n", (long long)JI(c, "total"),
	    (long long)JI(c, "valid"), (long long)JI(c, "expiring"),
	    (long long)JI(c, "expired"), (long long)JI(c, "not_yet_valid"),
	    (long long)JI(c, "invalid"));
	printf("files: %lld in the inventory (%lld unreadable, %lld gone)\n",
	    (long long)JI(f, "total"), (long long)JI(f, "errors"),
	    (long long)JI(f, "gone"));
	if (strcmp(JS(s, "state"), "scanning") == 0)
		printf("scan: running, %lld of %lld files read\n",
		    (long long)JI(s, "files_done"),
		    (long long)JI(s, "files_total"));
	if (JS(s, "last_finished") != NULL)
		printf("last scan: %s, took %.3fs, read %lld files (unchanged "
		    "ones are not read again)\n", JS(s, "last_finished"),
		    json_real_value(json_object_get(s, "last_duration")),
		    (long long)JI(s, "last_files_read"));
	json_array_foreach(json_object_get(r, "watches"), i, w) {
		printf("watch %s (%s):", JS(w, "name"), JS(w, "role"));
		size_t k;
		json_array_foreach(json_object_get(w, "paths"), k, x)
			printf(" %s", json_string_value(x));
		printf("\n");
		json_array_foreach(json_object_get(w, "missing"), k, x)
			printf("  missing: %s\n", json_string_value(x));
	}
	x = json_object_get(r, "database");
	printf("database: %s, %.1f KiB\n", JS(x, "path"),
	    (double)JI(x, "size") / 1024.0);
}

static int
cmd_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_simple(ctx, argc, argv, status_print);
}

const struct cmd_entry cmd_status_entry = {
	"status", PROTO_CMD_STATUS, "[--json]",
	"the daemon's state: counts, last scan, watches", NULL, json_opts,
	cmd_status
};

/* The CN of an RFC 4514 subject, or the whole subject. */
static char *
subject_cn(const char *subject, char *buf, size_t len)
{
	const char	*p = strstr(subject, "CN=");
	size_t		 n = 0;

	if (p == NULL || (p != subject && p[-1] != ',')) {
		snprintf(buf, len, "%s", subject);
		return buf;
	}
	for (p += 3; *p && n + 1 < len; p++) {
		/* \XX stands for a byte that is not UTF-8: keep it as is, so
		 * list shows what inspect shows (x509_name.c). */
		if (*p == '\\' && p[1] != '\0' &&
		    !(isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2]))) {
			buf[n++] = *++p;
			continue;
		}
		if (*p == ',' || *p == '+')
			break;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return buf;
}

static void
print_cert_row(json_t *o)
{
	char	cn[41];

	/* The CN is unquoted first, then escaped for the terminal. */
	subject_cn(JS(o, "subject"), cn, sizeof(cn));
	cmd_json_safe(o);
	printf("%-10.10s %-32.32s %-10.10s %6lld  %-13s %s\n", JS(o, "sha1"),
	    cmd_safe(cn), JS(o, "not_after"), (long long)JI(o, "days_left"),
	    JS(o, "state"), JS(o, "path") ? JS(o, "path") : "-");
}

static const struct cmdopt list_opts[] = {
	{ "json",	'j', NULL, "print the list as JSON" },
	{ "expiring",	'e', "DURATION", "expiring within DURATION (30d, 2w; a unit is needed)" },
	{ "expired",	'x', NULL, "expired certificates only" },
	{ "invalid",	'i', NULL, "certificates with a problem" },
	{ "drift",	'D', NULL, "deployed files that differ from a binding" },
	{ "role",	'r', "ROLE", "server, client or ca" },
	{ "path",	'p', "GLOB", "sources whose path matches GLOB" },
	{ "all",	'a', NULL, "include superseded certificates" },
	{ "crls",	'C', NULL, "the CRLs instead, soonest nextUpdate first" },
	CMDOPT_END
};

static void
print_crl_row(json_t *o)
{
	json_t	*days = json_object_get(o, "days_left");
	char	 d[24] = "-";

	cmd_json_safe(o);
	if (json_is_integer(days))
		snprintf(d, sizeof(d), "%lld",
		    (long long)json_integer_value(days));
	printf("%-10.10s %-10.10s %6s  %-8s %7lld  %s  %s\n", JS(o, "sha1"),
	    JS(o, "next_update") ? JS(o, "next_update") : "-", d,
	    JS(o, "state"), (long long)JI(o, "revoked"), JS(o, "path"),
	    JS(o, "issuer"));
}

static int
cmd_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t			*args = json_object(), *r, *o;
	int64_t			 secs;
	size_t			 i;
	int			 ch, json = 0, rc, crls = 0;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'e':
			if (cmd_duration("--expiring", optarg, &secs) == -1) {
				json_decref(args);
				return CMD_EXIT_USAGE;
			}
			json_object_set_new(args, "expiring",
			    json_integer(secs));
			break;
		case 'x':
			json_object_set_new(args, "expired", json_true());
			break;
		case 'i':
			json_object_set_new(args, "invalid", json_true());
			break;
		case 'D':
			json_object_set_new(args, "drift", json_true());
			break;
		case 'r':
			if (strcmp(optarg, "server") && strcmp(optarg,
			    "client") && strcmp(optarg, "ca")) {
				cmd_err("--role: '%s' is not server, client or "
				    "ca", optarg);
				json_decref(args);
				return CMD_EXIT_USAGE;
			}
			json_object_set_new(args, "role", json_string(optarg));
			break;
		case 'p':
			json_object_set_new(args, "path", json_string(optarg));
			break;
		case 'a':
			json_object_set_new(args, "all", json_true());
			break;
		case 'C':
			json_object_set_new(args, "crls", json_true());
			crls = 1;
			break;
		default:	/* CMDOPT_STOP */
			json_decref(args);
			return ctx->opt.exit;
		}
	}
	if (optind != argc) {
		json_decref(args);
		return cmd_usage(ctx->cmd);
	}
	if (json)
		return client_once_print(ctx, args);
	if ((rc = cmd_request(ctx, NULL, args, &r)) != CMD_EXIT_OK)
		return rc;
	if (crls) {
		printf("%-10s %-10s %6s  %-8s %7s  %s  %s\n", "SHA1",
		    "NEXT UPD", "DAYS", "STATE", "REVOKED", "PATH", "ISSUER");
		json_array_foreach(r, i, o)
			print_crl_row(o);
	} else {
		printf("%-10s %-32s %-10s %6s  %-13s %s\n", "SHA1", "SUBJECT CN",
		    "NOT AFTER", "DAYS", "STATE", "PATH");
		json_array_foreach(r, i, o)
			print_cert_row(o);
	}
	json_decref(r);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_list_entry = {
	"list", PROTO_CMD_LIST, "[--json] [--expiring DURATION] [--expired] "
	"[--invalid] [--drift] [--role server|client|ca] [--path GLOB] [--all]\n"
	"       certvigil list --crls [--json]",
	"the inventory, soonest expiry first", NULL, list_opts, cmd_list
};

static int
show_key_is_prefix(const char *key)
{
	size_t	n = strspn(key, "0123456789abcdefABCDEF");

	return key[n] == '\0' && n >= 4 && n <= 40;
}

/* "(none)" for an empty list, as inspect prints it. */
static void
show_print_list(const char *label, json_t *a)
{
	json_t	*x;
	size_t	 i;

	printf("  %-15s", label);
	if (json_array_size(a) == 0)
		printf("(none)");
	json_array_foreach(a, i, x)
		printf("%s%s", i ? ", " : "", json_string_value(x));
	printf("\n");
}

static int
cmd_show(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t	*r, *v;
	char	 abs[PATH_MAX], *key;
	size_t	 i;
	int	 json, rc;

	if (simple_opts(ctx, argc, argv, 1, &json) == -1)
		return ctx->opt.exit;
	key = argv[optind];
	if (strchr(key, '/') == NULL && !show_key_is_prefix(key)) {
		/* What the daemon would refuse is the user's typo: 2. */
		cmd_err("'%s' is neither a path nor a SHA-1 prefix of 4 to 40 "
		    "hex digits", key);
		return CMD_EXIT_USAGE;
	}
	/* A relative path names a file here, not in the daemon's cwd. */
	if (strchr(key, '/') != NULL && key[0] != '/') {
		if (realpath(key, abs) == NULL) {
			cmd_err("%s: %s", key, strerror(errno));
			return CMD_EXIT_FAIL;
		}
		key = abs;
	}
	if ((rc = cmd_request(ctx, NULL, json_pack("{s:s}", "key", key),
	    &r)) != CMD_EXIT_OK)
		return rc;
	if (json) {
		cmd_print_json(r);
		json_decref(r);
		return CMD_EXIT_OK;
	}
	cmd_json_safe(r);
	printf("%s\n", JS(r, "subject"));
	printf("  %-15s%s\n", "Issuer:", JS(r, "issuer"));
	printf("  %-15s%s (%s, %lld days left)\n", "Not after:",
	    JS(r, "not_after"), JS(r, "state"), (long long)JI(r, "days_left"));
	printf("  %-15s%s\n", "Not before:", JS(r, "not_before"));
	printf("  %-15s%s\n", "certhash:", JS(r, "sha1"));
	printf("  %-15s%s\n", "SHA-256:", JS(r, "sha256"));
	printf("  %-15s%s\n", "Serial:", JS(r, "serial"));
	printf("  %-15s%s %lld, %s\n", "Key:", JS(r, "key_type"),
	    (long long)JI(r, "key_bits"), JS(r, "sig_alg"));
	show_print_list("SAN:", json_object_get(r, "san"));
	show_print_list("EKU:", json_object_get(r, "eku"));
	printf("  %-15s%s\n", "Role:", JS(r, "role"));
	json_array_foreach(json_object_get(r, "warnings"), i, v)
		printf("  %-15s%s\n", i == 0 ? "Warnings:" : "",
		    json_string_value(v));
	printf("  Sources:\n");
	json_array_foreach(json_object_get(r, "sources"), i, v)
		printf("    %s [%s #%lld]%s%s%s%s\n", JS(v, "path"),
		    JS(v, "format") ? JS(v, "format") : "?",
		    (long long)JI(v, "index"),
		    json_is_true(json_object_get(v, "has_private_key")) ?
		    (json_is_true(json_object_get(v, "key_matches")) ?
		    " key" : " KEY MISMATCH") : "",
		    json_is_true(json_object_get(v, "gone")) ? " (gone)" : "",
		    JS(v, "error") ? " error: " : "",
		    JS(v, "error") ? JS(v, "error") : "");
	printf("  Events:\n");
	json_array_foreach(json_object_get(r, "events"), i, v)
		printf("    %s %-18s %s\n", JS(v, "time"), JS(v, "kind"),
		    JS(v, "message"));
	json_decref(r);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_show_entry = {
	"show", PROTO_CMD_SHOW, "[--json] SHA1-PREFIX|PATH",
	"one certificate with its sources and events", NULL, json_opts,
	cmd_show
};

static void
print_event(json_t *e, int json)
{
	if (json) {
		json_dumpf(e, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		cmd_json_safe(e);
		printf("%s %-18s %s%s%s\n", JS(e, "time"), JS(e, "kind"),
		    JS(e, "path") ? JS(e, "path") : "",
		    JS(e, "path") ? ": " : "", JS(e, "message"));
	}
	fflush(stdout);
}

static const struct cmdopt events_opts[] = {
	{ "json",	'j', NULL, "JSON Lines: one object a line" },
	{ "since",	's', "DURATION|TIME", "events since 1h ago, or since "
	    "2026-11-22T08:00:00Z" },
	{ "limit",	'n', "N", "the newest N events (at most 10000)" },
	{ "before",	'b', "ID", "the newest page before event ID" },
	{ "follow",	'f', NULL, "then wait for new events, as they happen" },
	CMDOPT_END
};

/*
 * Without --limit or --before: every event, a page (the daemon's
 * default, 1000) per request, forward from after_id, so no reply is
 * larger than a page.  Takes the caller's reference to args.
 */
static int
events_pages(struct client *c, const char *req, json_t *args, int json)
{
	json_t		*r, *ev;
	json_int_t	 after = 0;
	size_t		 i, n;
	int		 rc;

	do {
		json_object_set_new(args, "after_id", json_integer(after));
		/* client_call takes a reference: args serves every page. */
		if ((rc = client_call(c, req, json_incref(args), &r)) !=
		    CMD_EXIT_OK) {
			json_decref(args);
			return rc;
		}
		n = json_array_size(r);
		json_array_foreach(r, i, ev) {
			print_event(ev, json);
			after = json_integer_value(json_object_get(ev, "id"));
		}
		json_decref(r);
	} while (n > 0);
	json_decref(args);
	return CMD_EXIT_OK;
}

/* --since: a duration back from now (with its unit) or a time. */
static int
events_since(const char *arg, time_t *t)
{
	int64_t	secs;
	int	rc;

	if ((rc = timeutil_parse_duration_unit(arg, &secs)) == 0) {
		*t = timeutil_now() - (time_t)secs;
		return 0;
	}
	if (rc == -2) {
		cmd_err("--since %s: " TIMEUTIL_UNIT_HINT " or give a time "
		    "(2026-11-22T08:00:00Z)", arg);
		return -1;
	}
	if (timeutil_parse_rfc3339(arg, t) == -1) {
		cmd_err("--since: '%s' is neither a duration (1h, 2d) nor a "
		    "time (2026-11-22T08:00:00Z)", arg);
		return -1;
	}
	return 0;
}

static int
cmd_events(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct client		 c;
	json_t			*args = json_object(), *r, *m, *ev;
	time_t			 t;
	size_t			 i;
	int			 ch, json = 0, follow = 0, rc;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 's':
			if (events_since(optarg, &t) == -1) {
				json_decref(args);
				return CMD_EXIT_USAGE;
			}
			json_object_set_new(args, "since", json_integer(t));
			break;
		case 'f':
			follow = 1;
			break;
		case 'n':
		case 'b':
			json_object_set_new(args, ch == 'n' ? "limit" :
			    "before_id", json_integer(strtoll(optarg, NULL,
			    10)));
			break;
		default:	/* CMDOPT_STOP */
			json_decref(args);
			return ctx->opt.exit;
		}
	}
	if (optind != argc) {
		json_decref(args);
		return cmd_usage(ctx->cmd);
	}
	if ((rc = client_open(ctx, &c)) != CMD_EXIT_OK) {
		json_decref(args);
		return rc;
	}
	if (!follow && json_object_get(args, "limit") == NULL &&
	    json_object_get(args, "before_id") == NULL) {
		rc = events_pages(&c, ctx->cmd->request, args, json);
		client_close(&c);
		return rc;
	}
	if (!follow) {
		if ((rc = client_call(&c, ctx->cmd->request, args, &r)) ==
		    CMD_EXIT_OK) {
			json_array_foreach(r, i, ev)
				print_event(ev, json);
			json_decref(r);
		}
		client_close(&c);
		return rc;
	}
	/* watch sends the backlog then live events on one connection. */
	if (json_object_get(args, "since") == NULL)
		json_object_set_new(args, "since", json_integer(0));
	if ((rc = client_call(&c, PROTO_CMD_WATCH, args, &r)) != CMD_EXIT_OK) {
		client_close(&c);
		return rc;
	}
	json_decref(r);
	while ((rc = client_read(&c, &m)) == CMD_EXIT_OK) {
		if ((ev = json_object_get(m, "event")) != NULL)
			print_event(ev, json);
		json_decref(m);
	}
	client_close(&c);
	return rc;
}

const struct cmd_entry cmd_events_entry = {
	"events", PROTO_CMD_EVENTS,
	"[--json] [--since DURATION|TIME] [--limit N] [--before ID] "
	    "[--follow]",
	"what the daemon saw happen", NULL, events_opts, cmd_events
};

static void
rescan_print(json_t *r)
{
	(void)r;
	printf("rescan started\n");
}

static int
cmd_rescan(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_simple(ctx, argc, argv, rescan_print);
}

const struct cmd_entry cmd_rescan_entry = {
	"rescan", PROTO_CMD_RESCAN, "[--json]",
	"walk every watched path again (root)", NULL, json_opts, cmd_rescan
};

static void
reload_print(json_t *r)
{
	printf("configuration reloaded from %s\n", JS(r, "config"));
}

static int
cmd_reload(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_simple(ctx, argc, argv, reload_print);
}

const struct cmd_entry cmd_reload_entry = {
	"reload", PROTO_CMD_RELOAD, "[--json]",
	"re-read the config file (root)", NULL, json_opts, cmd_reload
};

static int
cmd_metrics(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t	*r;
	int	 json, rc;

	if (simple_opts(ctx, argc, argv, 0, &json) == -1)
		return ctx->opt.exit;
	if (json)	/* the exposition is text, never JSON */
		return cmd_usage(ctx->cmd);
	if ((rc = cmd_request(ctx, NULL, NULL, &r)) != CMD_EXIT_OK)
		return rc;
	fwrite(json_string_value(r), 1, json_string_length(r), stdout);
	json_decref(r);
	return CMD_EXIT_OK;
}

/* Parsed as the --json commands are, so "metrics --json" is refused
 * with the usage, as it always was; --help does not offer it. */
static const struct cmdopt metrics_opts[] = {
	{ "json", 'j', NULL, NULL },
	CMDOPT_END
};

const struct cmd_entry cmd_metrics_entry = {
	"metrics", PROTO_CMD_METRICS, "",
	"the Prometheus text exposition of the inventory", NULL, metrics_opts,
	cmd_metrics
};

int
cmd_request(struct cmd_ctx *ctx, const char *request, json_t *args,
    json_t **result)
{
	return client_once(ctx, request != NULL ? request : ctx->cmd->request,
	    args, result);
}
