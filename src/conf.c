#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "argv.h"
#include "binding.h"
#include "conf.h"
#include "fsutil.h"
#include "issuer.h"
#include "timeutil.h"
#include "xmalloc.h"

/*
 * inih calls our reader once per line, so counting lines here gives every
 * error its FILE:LINE even though the library is built without
 * INI_HANDLER_LINENO.
 */
struct conf_parse {
	FILE			*fp;
	const char		*file;
	int			 line;
	int			 failed;
	struct cv_err		*err;
	struct config		*cf;
	struct config_watch	*watch;		/* current [watch] */
	struct binding		*binding;	/* current [binding]/[client] */
	struct issuer		*issuer;	/* current [issuer] */
	char			 section[128];
	int			 section_line;	/* of the last [header] */
	unsigned		 seen;		/* [daemon] keys already set */
	int			 slots_line;	/* max_clients or
						 * reserved_clients */
	int			 reserved_set;	/* reserved_clients given */
};

static const char *conf_role_names[] = { "auto", "server", "client", "ca" };

const char *
conf_role_name(enum cert_role r)
{
	return (unsigned)r < 4 ? conf_role_names[r] : "auto";
}

int
conf_parse_role(const char *s, enum cert_role *r)
{
	unsigned	i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, conf_role_names[i]) == 0) {
			*r = (enum cert_role)i;
			return 0;
		}
	return -1;
}

static int
conf_fail(struct conf_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
conf_fail(struct conf_parse *p, const char *fmt, ...)
{
	char	msg[400];
	va_list	ap;

	if (p->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cv_err_set(p->err, "%s:%d: %s", p->file, p->line, msg);
	p->failed = 1;
	return 0;	/* inih: stop treating the file as good */
}

static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_parse	*p = stream;
	size_t			 len;
	int			 c;

	if (fgets(str, num, p->fp) == NULL)
		return NULL;
	p->line++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(p->fp)) {
		conf_fail(p, "line longer than %d characters", num - 2);
		/* Swallow the rest of the line so counting stays right. */
		while ((c = fgetc(p->fp)) != EOF && c != '\n')
			;
		str[0] = '\0';
	}
	if (str[strspn(str, " \t")] == '[')
		p->section_line = p->line;
	return str;
}

static int
conf_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
	    !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

static void
conf_push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static int
conf_cmp_desc(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
conf_parse_thresholds(const char *s, int64_t **out, size_t *n)
{
	char	*copy = xstrdup(s), *tok, *save = NULL;
	int64_t	*v = NULL, d;
	size_t	 len = 0;
	int	 rc;

	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if ((rc = timeutil_parse_duration_unit(tok, &d)) != 0 ||
		    d <= 0) {
			free(copy);
			free(v);
			return rc == -2 ? -2 : -1;
		}
		v = xreallocarray(v, len + 1, sizeof(*v));
		v[len++] = d;
	}
	free(copy);
	if (len == 0)
		return -1;
	qsort(v, len, sizeof(*v), conf_cmp_desc);
	*out = v;
	*n = len;
	return 0;
}

/* alert_before, global or per [watch]: replaces the list. */
static int
conf_alert_before(struct conf_parse *p, const char *v, int64_t **out,
    size_t *n)
{
	int	rc;

	free(*out);
	*out = NULL;
	*n = 0;
	if ((rc = conf_parse_thresholds(v, out, n)) == -2)
		return conf_fail(p, "alert_before = %s: every duration needs "
		    "its unit: " TIMEUTIL_UNIT_HINT, v);
	if (rc == -1)
		return conf_fail(p, "alert_before: '%s' is not a list "
		    "of durations (example: 30d,14d,7d,1d)", v);
	return 1;
}

static int
conf_duration(struct conf_parse *p, const char *name, const char *v,
    int64_t min, int64_t *out)
{
	int	rc = timeutil_parse_duration_unit(v, out);

	if (rc == -2)
		return conf_fail(p, "%s = %s: " TIMEUTIL_UNIT_HINT, name, v);
	if (rc == -1)
		return conf_fail(p, "%s: '%s' is not a duration (examples: "
		    "30s, 15m, 1h, 30d, 1d12h)", name, v);
	if (*out < min)
		return conf_fail(p, "%s: must be at least %llds", name,
		    (long long)min);
	return 1;
}

static int
conf_number(struct conf_parse *p, const char *name, const char *v, long min,
    long max, long *out)
{
	char	*end;

	errno = 0;
	*out = strtol(v, &end, 0);
	if (errno != 0 || end == v || *end != '\0' || *out < min || *out > max)
		return conf_fail(p, "%s: '%s' is not a number from %ld to %ld",
		    name, v, min, max);
	return 1;
}

static void
conf_set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* The control socket's slots (issue 12 item 8). */
static int
conf_daemon_slots(struct conf_parse *p, const char *name, const char *v)
{
	struct config	*cf = p->cf;
	long		 n;
	int		 reserved = !strcmp(name, "reserved_clients");

	if (conf_number(p, name, v, reserved ? 0 : 1, 100000, &n) == 0)
		return 0;
	if (reserved || !strcmp(name, "max_clients"))
		p->slots_line = p->line;
	if (reserved)
		p->reserved_set = 1;
	*(reserved ? &cf->reserved_clients :
	    !strcmp(name, "max_clients") ? &cf->max_clients :
	    !strcmp(name, "max_watches") ? &cf->max_watches :
	    !strcmp(name, "max_watches_per_uid") ? &cf->max_watches_per_uid :
	    &cf->max_clients_per_uid) = (int)n;
	return 1;
}

/* [daemon] keys, one small setter each; durations share one. */
static int
conf_d_socket(struct conf_parse *p, const char *name, const char *v)
{
	(void)name;
	if (v[0] != '/')
		return conf_fail(p, "socket: '%s' is not an absolute path", v);
	conf_set_str(&p->cf->socket_path, v);
	return 1;
}

static int
conf_d_socket_mode(struct conf_parse *p, const char *name, const char *v)
{
	long	n;

	if (conf_number(p, name, v, 0, 0777, &n) == 0)
		return 0;
	p->cf->socket_mode = (mode_t)n;
	return 1;
}

static int
conf_d_group(struct conf_parse *p, const char *name, const char *v)
{
	if (*v != '\0' && getgrnam(v) == NULL)
		return conf_fail(p, "%s: no group named '%s'", name, v);
	conf_set_str(!strcmp(name, "socket_group") ? &p->cf->socket_group :
	    &p->cf->admin_group, v);
	return 1;
}

static int
conf_d_abspath(struct conf_parse *p, const char *name, const char *v)
{
	if (v[0] != '/')
		return conf_fail(p, "%s: '%s' is not an absolute path", name, v);
	conf_set_str(!strcmp(name, "state_dir") ? &p->cf->state_dir :
	    !strcmp(name, "pid_file") ? &p->cf->pid_file :
	    &p->cf->metrics_textfile, v);
	return 1;
}

static int
conf_d_log(struct conf_parse *p, const char *name, const char *v)
{
	if (!strcmp(name, "log_level")) {
		if (log_parse_level(v, &p->cf->log_level) == -1)
			return conf_fail(p, "log_level: '%s' is not one of "
			    "error, warn, info, debug", v);
		return 1;
	}
	if (strcmp(v, "stderr") == 0)
		p->cf->log_syslog = 0;
	else if (strcmp(v, "syslog") == 0)
		p->cf->log_syslog = 1;
	else
		return conf_fail(p, "log: '%s' is neither stderr nor syslog", v);
	return 1;
}

static int
conf_d_alert_before(struct conf_parse *p, const char *name, const char *v)
{
	(void)name;
	return conf_alert_before(p, v, &p->cf->alert_before,
	    &p->cf->nalert_before);
}

static int
conf_d_alert_command(struct conf_parse *p, const char *name, const char *v)
{
	struct cv_err	e;

	(void)name;
	if (argv_split(v, &p->cf->alert_command, NULL, &e) == -1)
		return conf_fail(p, "alert_command: %s", e.msg);
	if (p->cf->alert_command[0][0] != '/')
		return conf_fail(p, "alert_command: '%s' is not an absolute "
		    "path (it runs without a shell or PATH)",
		    p->cf->alert_command[0]);
	return 1;
}

static int
conf_d_admin_cmds(struct conf_parse *p, const char *name, const char *v)
{
	if (conf_bool(v, &p->cf->admin_may_run_commands) == -1)
		return conf_fail(p, "%s: '%s' is not yes or no", name, v);
	return 1;
}

static int
conf_d_number(struct conf_parse *p, const char *name, const char *v)
{
	long	n;

	if (!strcmp(name, "event_max_rows")) {
		if (conf_number(p, name, v, 100, 1000000000L, &n) == 0)
			return 0;
		p->cf->event_max_rows = n;
		return 1;
	}
	if (conf_number(p, name, v, 1024, 16 * 1024 * 1024, &n) == 0)
		return 0;
	p->cf->max_request = (size_t)n;
	return 1;
}

/*
 * Every [daemon] key: its setter, and for durations the field and the
 * least value (seconds).  The index is the key's bit in conf_parse.seen.
 */
static const struct conf_daemon_def {
	const char	*name;
	int		(*set)(struct conf_parse *, const char *, const char *);
	size_t		 dur;		/* offsetof a duration, or 0 */
	int64_t		 dur_min;
} conf_daemon_defs[] = {
	{ "socket",		conf_d_socket,		0, 0 },
	{ "socket_mode",	conf_d_socket_mode,	0, 0 },
	{ "socket_group",	conf_d_group,		0, 0 },
	{ "admin_group",	conf_d_group,		0, 0 },
	{ "state_dir",		conf_d_abspath,		0, 0 },
	{ "pid_file",		conf_d_abspath,		0, 0 },
	{ "log",		conf_d_log,		0, 0 },
	{ "log_level",		conf_d_log,		0, 0 },
	{ "rescan_interval",	NULL, offsetof(struct config, rescan_interval),
	    10 },
	{ "expiring",		NULL, offsetof(struct config, expiring), 0 },
	{ "max_clients",	conf_daemon_slots,	0, 0 },
	{ "client_timeout",	NULL, offsetof(struct config, client_timeout),
	    1 },
	{ "max_request",	conf_d_number,		0, 0 },
	{ "alert_before",	conf_d_alert_before,	0, 0 },
	{ "alert_command",	conf_d_alert_command,	0, 0 },
	{ "alert_timeout",	NULL, offsetof(struct config, alert_timeout),
	    1 },
	{ "alert_retry",	NULL, offsetof(struct config, alert_retry), 1 },
	{ "metrics_textfile",	conf_d_abspath,		0, 0 },
	{ "admin_may_run_commands", conf_d_admin_cmds,	0, 0 },
	{ "event_retention",	NULL, offsetof(struct config, event_retention),
	    3600 },
	{ "event_max_rows",	conf_d_number,		0, 0 },
	{ "reserved_clients",	conf_daemon_slots,	0, 0 },
	{ "max_clients_per_uid", conf_daemon_slots,	0, 0 },
	{ "max_watches",	conf_daemon_slots,	0, 0 },
	{ "max_watches_per_uid", conf_daemon_slots,	0, 0 },
	{ "probe_interval",	NULL, offsetof(struct config, probe_interval),
	    1 },
};
/* conf_parse.seen has a bit per key. */
_Static_assert(sizeof(conf_daemon_defs) / sizeof(conf_daemon_defs[0]) <= 32,
    "more [daemon] keys than bits in conf_parse.seen");

static int
conf_daemon_key(struct conf_parse *p, const char *name, const char *v)
{
	const struct conf_daemon_def	*d = NULL;
	unsigned			 i;

	for (i = 0; i < sizeof(conf_daemon_defs) /
	    sizeof(conf_daemon_defs[0]); i++)
		if (strcmp(conf_daemon_defs[i].name, name) == 0) {
			d = &conf_daemon_defs[i];
			break;
		}
	if (d == NULL)
		return conf_fail(p, "unknown key '%s' in [daemon]", name);
	if (p->seen & (1u << i))
		return conf_fail(p, "'%s' is set twice in [daemon]", name);
	p->seen |= 1u << i;
	if (*v == '\0' && strcmp(name, "admin_group") != 0 &&
	    strcmp(name, "socket_group") != 0)
		return conf_fail(p, "%s: empty value", name);
	if (d->set == NULL)
		return conf_duration(p, name, v, d->dur_min,
		    (int64_t *)(void *)((char *)p->cf + d->dur));
	return d->set(p, name, v);
}

static int
conf_watch_key(struct conf_parse *p, const char *name, const char *v)
{
	struct config_watch	*w = p->watch;

	if (!strcmp(name, "path")) {
		if (v[0] != '/')
			return conf_fail(p, "path: '%s' is not an absolute "
			    "path", v);
		conf_push(&w->paths, &w->npaths, v);
	} else if (!strcmp(name, "exclude")) {
		if (*v == '\0')
			return conf_fail(p, "exclude: empty pattern");
		conf_push(&w->excludes, &w->nexcludes, v);
	} else if (!strcmp(name, "recursive")) {
		if (conf_bool(v, &w->recursive) == -1)
			return conf_fail(p, "recursive: '%s' is not yes or no",
			    v);
	} else if (!strcmp(name, "role")) {
		if (conf_parse_role(v, &w->role) == -1)
			return conf_fail(p, "role: '%s' is not one of auto, "
			    "server, client, ca", v);
	} else if (!strcmp(name, "alert_before")) {
		return conf_alert_before(p, v, &w->alert_before,
		    &w->nalert_before);
	} else if (!strcmp(name, "expect_sha1")) {
		char	hex[42];
		size_t	i, n = 0;

		/* As netsh, MMC ("18 e1 62 ...") or openssl ("18:E1:..") show it. */
		for (i = 0; v[i] != '\0' && n < sizeof(hex) - 1; i++) {
			if (v[i] == ':' || v[i] == ' ')
				continue;
			hex[n++] = (char)(v[i] | 0x20);
		}
		hex[n] = '\0';
		if (n != 40 || v[i] != '\0' ||
		    strspn(hex, "0123456789abcdef") != 40)
			return conf_fail(p, "expect_sha1: '%s' is not a SHA-1 "
			    "thumbprint (40 hex digits, as netsh certhash=)", v);
		conf_set_str(&w->expect_sha1, hex);
	} else if (!strcmp(name, "password_file")) {
		struct cv_err	e;

		if (w->password_file != NULL)
			return conf_fail(p, "password_file is set twice");
		w->password_file = xstrdup(v);
		if (fsutil_read_password(v, &w->password, &e) == -1)
			return conf_fail(p, "password_file: %s", e.msg);
	} else {
		return conf_fail(p, "unknown key '%s' in [watch %s]", name,
		    w->name);
	}
	return 1;
}

/* ---- issue 6: [binding NAME], [client NAME], [issuer NAME] ---- */

struct binding *
conf_binding(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->nbindings; i++)
		if (strcmp(cf->bindings[i]->name, name) == 0)
			return cf->bindings[i];
	return NULL;
}

struct issuer *
conf_issuer(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->nissuers; i++)
		if (strcmp(cf->issuers[i]->name, name) == 0)
			return cf->issuers[i];
	return NULL;
}

struct binding *
conf_service(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->nservices; i++)
		if (strcmp(cf->services[i]->name, name) == 0)
			return cf->services[i];
	return NULL;
}

static struct binding *
conf_service_lookup(void *arg, const char *name)
{
	return conf_service(arg, name);
}

int
conf_binding_services(const struct config *cf, struct binding *b,
    struct cv_err *err)
{
	return binding_resolve_services(b, conf_service_lookup, (void *)cf,
	    err);
}

/* [service NAME] (issue 14): its keys are binding.c's. */
static int
conf_service_section(struct conf_parse *p, const char *name)
{
	struct config	*cf = p->cf;

	while (*name == ' ')
		name++;
	/* inih reports a section with its first key: errors here name the
	 * header. */
	if (*name == '\0' || conf_service(cf, name) != NULL)
		p->line = p->section_line;
	if (*name == '\0')
		return conf_fail(p, "[service] needs a name: [service NAME]");
	if (conf_service(cf, name) != NULL)
		return conf_fail(p, "[service %s] is defined twice (first at "
		    "line %d)", name, conf_service(cf, name)->line);
	cf->services = xreallocarray(cf->services, cf->nservices + 1,
	    sizeof(*cf->services));
	p->binding = cf->services[cf->nservices++] = binding_service_new(name,
	    p->section_line);
	return 1;
}

static int
conf_renew_section(struct conf_parse *p, const char *section)
{
	struct config	*cf = p->cf;
	const char	*name = strchr(section, ' ');
	int		 is_issuer = section[0] == 'i';

	while (*name == ' ')
		name++;
	/* inih reports a section with its first key: errors name the
	 * header (the parse stops there, so the line count may move). */
	if (*name == '\0' || (is_issuer ? conf_issuer(cf, name) != NULL :
	    conf_binding(cf, name) != NULL))
		p->line = p->section_line;
	if (*name == '\0')
		return conf_fail(p, "[%.*s] needs a name", (int)strcspn(section,
		    " "), section);
	if (is_issuer) {
		if (conf_issuer(cf, name) != NULL)
			return conf_fail(p, "[issuer %s] is defined twice "
			    "(first at line %d)", name,
			    conf_issuer(cf, name)->line);
		cf->issuers = xreallocarray(cf->issuers, cf->nissuers + 1,
		    sizeof(*cf->issuers));
		p->issuer = cf->issuers[cf->nissuers++] = issuer_new(name,
		    p->section_line);
		return 1;
	}
	if (conf_binding(cf, name) != NULL)
		return conf_fail(p, "[%s] is defined twice (first at line %d; "
		    "bindings and clients share names)", section,
		    conf_binding(cf, name)->line);
	cf->bindings = xreallocarray(cf->bindings, cf->nbindings + 1,
	    sizeof(*cf->bindings));
	p->binding = cf->bindings[cf->nbindings++] = binding_new(name,
	    section[0] == 'c', p->section_line);
	return 1;
}

static int
conf_renew_key(struct conf_parse *p, const char *name, const char *value)
{
	struct cv_err	e;

	if ((p->binding != NULL ? binding_set_key(p->binding, name, value,
	    &e) : issuer_set_key(p->issuer, name, value, &e)) == -1)
		return conf_fail(p, "%s", e.msg);
	return 1;
}

/* What only the whole file can tell: required keys, references. */
static int
conf_renew_check(struct config *cf, const char *path, struct cv_err *err)
{
	struct binding	*b;
	struct cv_err	 e;
	size_t		 i, k;

	for (i = 0; i < cf->nissuers; i++)
		if (issuer_finish(cf->issuers[i], &e) == -1)
			return cv_err_set(err, "%s:%d: %s", path,
			    cf->issuers[i]->line, e.msg);
	for (i = 0; i < cf->nservices; i++)
		if (binding_finish(cf->services[i], &e) == -1)
			return cv_err_set(err, "%s:%d: %s", path,
			    cf->services[i]->line, e.msg);
	for (i = 0; i < cf->nbindings; i++) {
		b = cf->bindings[i];
		if (binding_finish(b, &e) == -1 ||
		    conf_binding_services(cf, b, &e) == -1)
			return cv_err_set(err, "%s:%d: %s", path, b->line,
			    e.msg);
		if (b->issuer != NULL && conf_issuer(cf, b->issuer) == NULL)
			return cv_err_set(err, "%s:%d: [%s %s]: issuer '%s' is "
			    "not defined (add an [issuer %s] section)", path,
			    b->line, b->is_client ? "client" : "binding",
			    b->name, b->issuer, b->issuer);
		for (k = 0; k < i; k++)
			if (!b->is_client && !cf->bindings[k]->is_client &&
			    strcmp(binding_endpoint(b),
			    binding_endpoint(cf->bindings[k])) == 0)
				return cv_err_set(err, "%s:%d: [binding %s]: "
				    "%s is already bound by [binding %s]",
				    path, b->line, b->name,
				    binding_endpoint(b),
				    cf->bindings[k]->name);
	}
	return 0;
}

static int
conf_new_section(struct conf_parse *p, const char *section)
{
	struct config		*cf = p->cf;
	struct config_watch	*w;
	const char		*name;
	size_t			 i;

	snprintf(p->section, sizeof(p->section), "%s", section);
	p->watch = NULL;
	p->binding = NULL;
	p->issuer = NULL;

	if (strcmp(section, "daemon") == 0)
		return 1;
	if (strncmp(section, "service ", 8) == 0 ||
	    strcmp(section, "service") == 0)
		return conf_service_section(p, section + 7);
	if (strncmp(section, "binding ", 8) == 0 ||
	    strncmp(section, "client ", 7) == 0 ||
	    strncmp(section, "issuer ", 7) == 0)
		return conf_renew_section(p, section);
	if (strncmp(section, "watch ", 6) != 0) {
		/* inih reports a section with its first key: name the header. */
		p->line = p->section_line;
		return conf_fail(p, "unknown section [%s] (expected [daemon], "
		    "[watch NAME], [binding NAME], [client NAME], "
		    "[service NAME] or [issuer NAME])", section);
	}
	name = section + 6;
	while (*name == ' ')
		name++;
	if (*name == '\0')
		return conf_fail(p, "[watch] needs a name: [watch NAME]");
	for (i = 0; i < cf->nwatches; i++)
		if (strcmp(cf->watches[i].name, name) == 0)
			return conf_fail(p, "[watch %s] is defined twice "
			    "(first at line %d)", name, cf->watches[i].line);
	cf->watches = xreallocarray(cf->watches, cf->nwatches + 1,
	    sizeof(*cf->watches));
	w = &cf->watches[cf->nwatches++];
	memset(w, 0, sizeof(*w));
	w->name = xstrdup(name);
	w->recursive = 1;
	w->role = ROLE_AUTO;
	w->line = p->section_line;
	p->watch = w;
	return 1;
}

static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_parse	*p = user;

	if (p->failed)
		return 0;
	if (strcmp(section, p->section) != 0 &&
	    conf_new_section(p, section) == 0)
		return 0;
	if (name == NULL)
		return 1;
	if (section[0] == '\0')
		return conf_fail(p, "'%s' outside any section", name);
	if (p->watch != NULL)
		return conf_watch_key(p, name, value);
	if (p->binding != NULL || p->issuer != NULL)
		return conf_renew_key(p, name, value);
	return conf_daemon_key(p, name, value);
}

static struct config *
conf_defaults(const char *path)
{
	struct config	*cf = xcalloc(1, sizeof(*cf));

	cf->refs = 1;
	cf->file = xstrdup(path);
	cf->socket_path = xstrdup(CONF_DEFAULT_SOCKET);
	cf->socket_mode = 0660;
	cf->state_dir = xstrdup(CONF_DEFAULT_STATE);
	cf->pid_file = xstrdup(CONF_DEFAULT_PIDFILE);
	cf->log_syslog = -1;
	cf->log_level = LOG_LVL_INFO;
	cf->rescan_interval = 3600;
	cf->expiring = 30 * 86400;
	cf->max_clients = 64;
	cf->reserved_clients = 4;
	cf->max_clients_per_uid = 16;
	cf->max_watches = 32;
	cf->max_watches_per_uid = 4;
	cf->client_timeout = 60;
	cf->max_request = 64 * 1024;
	cf->event_retention = 90 * 86400;
	cf->event_max_rows = 1000000;
	conf_parse_thresholds("30d,14d,7d,1d", &cf->alert_before,
	    &cf->nalert_before);
	cf->alert_timeout = 30;
	cf->alert_retry = 60;
	cf->probe_interval = 3600;
	return cf;
}

int
conf_load(const char *path, int must_exist, struct config **out,
    struct cv_err *err)
{
	struct conf_parse	 p;
	struct config		*cf = conf_defaults(path);
	size_t			 i;
	int			 rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.err = err;
	p.cf = cf;
	p.fp = fopen(path, "re");
	if (p.fp == NULL) {
		if (errno == ENOENT && !must_exist) {
			*out = cf;
			return 0;
		}
		cv_err_set(err, "%s: %s", path, strerror(errno));
		conf_free(cf);
		return -1;
	}
	rc = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	fclose(p.fp);
	if (!p.failed && rc > 0)
		cv_err_set(err, "%s:%d: syntax error (expected [section] or "
		    "key = value)", path, rc), p.failed = 1;
	else if (!p.failed && rc < 0)
		cv_err_set(err, "%s: cannot read", path), p.failed = 1;
	for (i = 0; !p.failed && i < cf->nwatches; i++) {
		if (cf->watches[i].npaths == 0) {
			cv_err_set(err, "%s:%d: [watch %s] has no path", path,
			    cf->watches[i].line, cf->watches[i].name);
			p.failed = 1;
		}
	}
	/* Some slots must be left to everyone else (issue 12 item 8); the
	 * default keeps a quarter at most, so a small max_clients alone is
	 * not an error. */
	if (!p.reserved_set && cf->reserved_clients > cf->max_clients / 4)
		cf->reserved_clients = cf->max_clients / 4;
	if (!p.failed && cf->reserved_clients >= cf->max_clients) {
		cv_err_set(err, "%s:%d: reserved_clients (%d) must be less "
		    "than max_clients (%d)", path, p.slots_line,
		    cf->reserved_clients, cf->max_clients);
		p.failed = 1;
	}
	if (!p.failed && conf_renew_check(cf, path, err) == -1)
		p.failed = 1;
	if (p.failed) {
		conf_free(cf);
		return -1;
	}
	*out = cf;
	return 0;
}

static void
conf_free_strv(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
conf_free(struct config *cf)
{
	size_t	i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nwatches; i++) {
		free(cf->watches[i].name);
		conf_free_strv(cf->watches[i].paths, cf->watches[i].npaths);
		conf_free_strv(cf->watches[i].excludes,
		    cf->watches[i].nexcludes);
		free(cf->watches[i].password_file);
		freezero_str(cf->watches[i].password);
		free(cf->watches[i].alert_before);
		free(cf->watches[i].expect_sha1);
	}
	free(cf->alert_before);
	argv_free(cf->alert_command);
	free(cf->metrics_textfile);
	free(cf->watches);
	for (i = 0; i < cf->nbindings; i++)
		binding_free(cf->bindings[i]);
	free(cf->bindings);
	for (i = 0; i < cf->nissuers; i++)
		issuer_free(cf->issuers[i]);
	free(cf->issuers);
	for (i = 0; i < cf->nservices; i++)
		binding_free(cf->services[i]);
	free(cf->services);
	free(cf->file);
	free(cf->socket_path);
	free(cf->socket_group);
	free(cf->admin_group);
	free(cf->state_dir);
	free(cf->pid_file);
	free(cf);
}

struct config *
conf_ref(struct config *cf)
{
	cf->refs++;
	return cf;
}

void
conf_unref(struct config *cf)
{
	if (cf != NULL && --cf->refs == 0)
		conf_free(cf);
}
