#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binding.h"
#include "fsutil.h"
#include "store.h"
#include "argv.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"


char *
binding_argv_str(char *const *v)
{
	char	*s = xstrdup(""), *t;
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (strpbrk(v[i], " \t'\"\\") != NULL || *v[i] == '\0')
			xasprintf(&t, "%s%s'%s'", s, i ? " " : "", v[i]);
		else
			xasprintf(&t, "%s%s%s", s, i ? " " : "", v[i]);
		free(s);
		s = t;
	}
	return s;
}

/* ---- keys ------------------------------------------------------------ */

static void
binding_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

int
binding_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1") || !strcmp(v, "enable"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
	    !strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "disable"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* host:port with a port 1-65535; [v6]:port accepted. */
static int
binding_hostport_ok(const char *v)
{
	const char	*c = strrchr(v, ':');
	char		*end;
	long		 port;

	if (c == NULL || c == v)
		return 0;
	port = strtol(c + 1, &end, 10);
	return *end == '\0' && port >= 1 && port <= 65535;
}

static int
binding_guid_ok(const char *v)
{
	static const char	*pat = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
	size_t			 i;

	if (strlen(v) != strlen(pat))
		return 0;
	for (i = 0; pat[i]; i++) {
		if (pat[i] == 'x' ? !isxdigit((unsigned char)v[i]) :
		    v[i] != pat[i])
			return 0;
	}
	return 1;
}

static int
binding_sha1_ok(const char *v)
{
	size_t	i, n = 0;

	for (i = 0; v[i]; i++) {
		if (v[i] == ':' || v[i] == ' ')
			continue;
		if (!isxdigit((unsigned char)v[i]))
			return 0;
		n++;
	}
	return n == 40;
}

/* Lowercase hex without separators. */
static char *
binding_sha1_norm(const char *v)
{
	char	*s = xmalloc(41);
	size_t	 i, n = 0;

	for (i = 0; v[i] && n < 40; i++)
		if (isxdigit((unsigned char)v[i]))
			s[n++] = (char)tolower((unsigned char)v[i]);
	s[n] = '\0';
	return s;
}

int
binding_path(const char *key, const char *v, char **dst, struct cv_err *err)
{
	if (v[0] != '/')
		return cv_err_set(err, "%s: '%s' is not an absolute path", key,
		    v);
	binding_str(dst, v);
	return 0;
}

struct binding *
binding_new(const char *name, int is_client, int line)
{
	struct binding	*b = xcalloc(1, sizeof(*b));

	b->refs = 1;
	b->name = xstrdup(name);
	b->is_client = is_client;
	b->line = line;
	b->uid = (uid_t)-1;
	b->gid = (gid_t)-1;
	b->mode = 0600;
	b->emergency_before = SCHED_EMERGENCY_DEFAULT;
	b->service_timeout = BINDING_SERVICE_TIMEOUT;
	b->verify_timeout = BINDING_VERIFY_TIMEOUT;
	return b;
}

struct binding *
binding_service_new(const char *name, int line)
{
	struct binding	*b = binding_new(name, 0, line);

	b->is_service = 1;
	return b;
}

/*
 * One parser per key.  k is the name as given (aliases share a parser and
 * error texts name what the user wrote).
 */
typedef int (*binding_parser)(struct binding *, const char *k,
    const char *v, struct cv_err *);

/*
 * [service] probe: one or more endpoints, separated by commas or blanks,
 * and the key may be given again: each adds (issue 14).
 */
static int
binding_k_probes(struct binding *b, const char *v, struct cv_err *err)
{
	struct probe_endpoint	 ep;
	struct cv_err		 e;
	char			*copy = xstrdup(v), *tok, *save = NULL;
	int			 rc = 0, n = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (probe_endpoint_parse(tok, &ep, &e) == -1) {
			rc = cv_err_set(err, "probe: %s", e.msg);
			break;
		}
		b->probes = xreallocarray(b->probes, b->nprobes + 1,
		    sizeof(char *));
		b->probes[b->nprobes++] = xstrdup(tok);
		n++;
	}
	if (rc == 0 && n == 0)
		rc = cv_err_set(err, "probe: no endpoint given");
	free(copy);
	return rc;
}

static int
binding_k_hostport(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	struct probe_endpoint	ep;
	struct cv_err		e;

	if (strcmp(k, "probe") == 0 && b->is_service)
		return binding_k_probes(b, v, err);
	if (strcmp(k, "probe") == 0) {
		if (probe_endpoint_parse(v, &ep, &e) == -1)
			return cv_err_set(err, "probe: %s", e.msg);
	} else if (!binding_hostport_ok(v))
		return cv_err_set(err, "%s: '%s' is not HOST:PORT", k, v);
	binding_str(!strcmp(k, "ipport") ? &b->ipport : !strcmp(k,
	    "hostnameport") ? &b->hostnameport : &b->probe, v);
	return 0;
}

static int
binding_k_appid(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	(void)k;
	if (!binding_guid_ok(v))
		return cv_err_set(err, "appid: '%s' is not a GUID in "
		    "braces ({xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx})", v);
	binding_str(&b->appid, v);
	return 0;
}

static int
binding_k_certhash(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	(void)k;
	if (!binding_sha1_ok(v))
		return cv_err_set(err, "certhash: '%s' is not a SHA-1 "
		    "thumbprint (40 hex digits)", v);
	free(b->certhash);
	b->certhash = binding_sha1_norm(v);
	return 0;
}

static int
binding_k_path(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	char	**dst;

	if (!strcmp(k, "cert_file") || !strcmp(k, "cert_path"))
		dst = &b->cert_file;
	else if (!strcmp(k, "key_file") || !strcmp(k, "key_path"))
		dst = &b->key_file;
	else if (!strcmp(k, "chain_file"))
		dst = &b->chain_file;
	else if (!strcmp(k, "fullchain_file"))
		dst = &b->fullchain_file;
	else if (!strcmp(k, "combined_file"))
		dst = &b->combined_file;
	else if (!strcmp(k, "pfx_file"))
		dst = &b->pfx_file;
	else if (!strcmp(k, "pfx_password_file"))
		dst = &b->pfx_password_file;
	else if (!strcmp(k, "agent_config"))
		dst = &b->agent_config;
	else
		dst = &b->ca_file;
	return binding_path(k, v, dst, err);
}

static int
binding_k_owner(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	struct passwd	*pw;
	struct group	*gr;

	if (!strcmp(k, "owner")) {
		if ((pw = getpwnam(v)) == NULL)
			return cv_err_set(err, "owner: no user named '%s'", v);
		b->uid = pw->pw_uid;
		binding_str(&b->owner, v);
	} else {
		if ((gr = getgrnam(v)) == NULL)
			return cv_err_set(err, "group: no group named '%s'", v);
		b->gid = gr->gr_gid;
		binding_str(&b->group, v);
	}
	return 0;
}

static int
binding_k_mode(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	char	*end;
	long	 n;

	(void)k;
	errno = 0;
	n = strtol(v, &end, 8);
	if (errno || end == v || *end || n < 0 || n > 0777)
		return cv_err_set(err, "mode: '%s' is not an octal mode such "
		    "as 0600 or 0640", v);
	if (n & 0007)
		return cv_err_set(err, "mode: %s lets every user read the "
		    "private key", v);
	b->mode = (mode_t)n;
	return 0;
}

static int
binding_k_command(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	char	***argv = !strcmp(k, "stop") ? &b->stop : !strcmp(k,
	    "start") ? &b->start : !strcmp(k, "config_test") ?
	    &b->config_test : &b->reload;

	argv_free(*argv);
	*argv = NULL;
	if (*v == '\0')
		return 0;	/* run time: unset */
	if (argv_split(v, argv, NULL, err) == -1) {
		cv_err_prefix(err, "%s", k);
		return -1;
	}
	return 0;
}

static int
binding_k_text(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	struct pki_san_list	l;

	if (!strcmp(k, "san")) {
		memset(&l, 0, sizeof(l));
		if (pki_san_parse(v, &l, err) == -1) {
			pki_san_list_free(&l);
			cv_err_prefix(err, "san");
			return -1;
		}
		pki_san_list_free(&l);
	}
	binding_str(!strcmp(k, "issuer") ? &b->issuer : !strcmp(k,
	    "subject") ? &b->subject : &b->san, v);
	return 0;
}

static int
binding_k_pfx_legacy(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	if (binding_bool(v, &b->pfx_legacy) == -1)
		return cv_err_set(err, "%s: '%s' is not yes or no", k, v);
	return 0;
}

static int
binding_k_clientcert(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	if (binding_bool(v, &b->require_client_cert) == -1)
		return cv_err_set(err, "%s: '%s' is not yes or no", k, v);
	return 0;
}

static int
binding_k_sched(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	struct sched_zone	*z;
	char			 e[256];

	if (!strcmp(k, "renew_before")) {
		if (sched_policy_parse(v, &b->policy, e, sizeof(e)) == -1)
			return cv_err_set(err, "renew_before: %s", e);
		binding_str(&b->renew_before, v);
	} else if (!strcmp(k, "window")) {
		if (sched_window_parse(v, &b->window, e, sizeof(e)) == -1)
			return cv_err_set(err, "window: %s", e);
		binding_str(&b->window_str, v);
	} else {
		/* Read once here, never around each conversion. */
		if (sched_zone_load(v, &z, e, sizeof(e)) == -1)
			return cv_err_set(err, "timezone: %s (Area/City, as "
			    "in /usr/share/zoneinfo)", e);
		sched_zone_free(b->zone);
		b->zone = z;
		binding_str(&b->timezone, v);
	}
	return 0;
}

static int
binding_k_duration(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	int64_t	*d = !strcmp(k, "emergency_before") ? &b->emergency_before :
	    !strcmp(k, "service_timeout") ? &b->service_timeout :
	    !strcmp(k, "probe_interval") ? &b->probe_interval :
	    &b->verify_timeout;
	int	 rc = timeutil_parse_duration_unit(v, d);

	if (rc == -2)
		return cv_err_set(err, "%s = %s: " TIMEUTIL_UNIT_HINT, k, v);
	if (rc == -1 || (*d < 1 && strcmp(k, "emergency_before") != 0))
		return cv_err_set(err, "%s: '%s' is not a duration "
		    "(examples: 30s, 15m, 48h)", k, v);
	return 0;
}

static int
binding_k_section(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	(void)k;
	(void)err;
	b->agent_sections = xreallocarray(b->agent_sections,
	    b->nagent_sections + 1, sizeof(char *));
	b->agent_sections[b->nagent_sections++] = xstrdup(v);
	return 0;
}

/* service = a, b: the [service] sections the binding's renewal runs
 * (issue 14); resolved against the configuration later. */
static int
binding_k_services(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	char	*copy = xstrdup(v), *tok, *save = NULL;
	size_t	 i;

	(void)k;
	for (i = 0; i < b->nservice_names; i++)
		free(b->service_names[i]);
	b->nservice_names = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		for (i = 0; i < b->nservice_names; i++)
			if (strcmp(b->service_names[i], tok) == 0)
				break;
		if (i < b->nservice_names) {
			free(copy);
			return cv_err_set(err, "service: '%s' is named twice",
			    tok);
		}
		b->service_names = xreallocarray(b->service_names,
		    b->nservice_names + 1, sizeof(char *));
		b->service_names[b->nservice_names++] = xstrdup(tok);
	}
	free(copy);
	return 0;	/* empty at run time: back to the binding's own */
}

#define BK_SERVER	0x1	/* [binding NAME] */
#define BK_CLIENT	0x2	/* [client NAME] */
#define BK_BOTH		(BK_SERVER | BK_CLIENT)

/*
 * Every key of [binding] and [client], for the config file and binding
 * add/update alike.  The class says who may set it at run time
 * (binding.h): a command runs as root, a path is written or read as
 * root, owner and mode decide who reads the key.  agent_section picks
 * what root rewrites in agent_config, so it goes with the paths.
 */
static const struct binding_key {
	const char		*name;
	enum binding_key_class	 cls;
	int			 sections;
	binding_parser		 parse;
} binding_keys[] = {
	{ "ipport",		BK_TUNING,	BK_SERVER, binding_k_hostport },
	{ "hostnameport",	BK_TUNING,	BK_SERVER, binding_k_hostport },
	{ "appid",		BK_TUNING,	BK_BOTH, binding_k_appid },
	{ "certhash",		BK_TUNING,	BK_BOTH, binding_k_certhash },
	{ "cert_file",		BK_PATH,	BK_BOTH, binding_k_path },
	{ "cert_path",		BK_PATH,	BK_BOTH, binding_k_path },
	{ "key_file",		BK_PATH,	BK_BOTH, binding_k_path },
	{ "key_path",		BK_PATH,	BK_BOTH, binding_k_path },
	{ "chain_file",		BK_PATH,	BK_BOTH, binding_k_path },
	{ "fullchain_file",	BK_PATH,	BK_BOTH, binding_k_path },
	/* issue 14, forms; pfx_legacy decides how the key root writes is
	 * protected, so it goes with the paths, not with tuning. */
	{ "combined_file",	BK_PATH,	BK_SERVER, binding_k_path },
	{ "pfx_file",		BK_PATH,	BK_SERVER, binding_k_path },
	{ "pfx_password_file",	BK_PATH,	BK_SERVER, binding_k_path },
	{ "pfx_legacy",		BK_PATH,	BK_SERVER, binding_k_pfx_legacy },
	{ "owner",		BK_OWNER,	BK_BOTH, binding_k_owner },
	{ "group",		BK_OWNER,	BK_BOTH, binding_k_owner },
	{ "mode",		BK_OWNER,	BK_BOTH, binding_k_mode },
	{ "stop",		BK_COMMAND,	BK_BOTH, binding_k_command },
	{ "start",		BK_COMMAND,	BK_BOTH, binding_k_command },
	{ "reload",		BK_COMMAND,	BK_BOTH, binding_k_command },
	/* issue 14: a command root runs, and which services' commands */
	{ "config_test",	BK_COMMAND,	BK_SERVER, binding_k_command },
	{ "service",		BK_COMMAND,	BK_SERVER, binding_k_services },
	{ "issuer",		BK_TUNING,	BK_BOTH, binding_k_text },
	{ "subject",		BK_TUNING,	BK_BOTH, binding_k_text },
	{ "san",		BK_TUNING,	BK_BOTH, binding_k_text },
	{ "probe",		BK_TUNING,	BK_BOTH, binding_k_hostport },
	{ "beacon",		BK_TUNING,	BK_BOTH, binding_k_hostport },
	{ "require_client_cert", BK_TUNING,	BK_BOTH, binding_k_clientcert },
	{ "clientcertnegotiation", BK_TUNING,	BK_BOTH, binding_k_clientcert },
	{ "renew_before",	BK_TUNING,	BK_BOTH, binding_k_sched },
	{ "window",		BK_TUNING,	BK_BOTH, binding_k_sched },
	{ "timezone",		BK_TUNING,	BK_BOTH, binding_k_sched },
	{ "emergency_before",	BK_TUNING,	BK_BOTH, binding_k_duration },
	{ "service_timeout",	BK_TUNING,	BK_BOTH, binding_k_duration },
	{ "verify_timeout",	BK_TUNING,	BK_BOTH, binding_k_duration },
	{ "probe_interval",	BK_TUNING,	BK_SERVER, binding_k_duration },
	{ "agent_config",	BK_PATH,	BK_CLIENT, binding_k_path },
	{ "agent_section",	BK_PATH,	BK_CLIENT, binding_k_section },
	{ "ca_file",		BK_PATH,	BK_BOTH, binding_k_path },
};

/* The keys a [service NAME] section takes (rows of binding_keys). */
static const char *const binding_service_keys[] = {
	"stop", "start", "reload", "config_test", "service_timeout", "probe",
	"require_client_cert",
};

static int
binding_service_key(const char *k)
{
	size_t	i;

	for (i = 0; i < sizeof(binding_service_keys) /
	    sizeof(binding_service_keys[0]); i++)
		if (strcmp(binding_service_keys[i], k) == 0)
			return 1;
	return 0;
}

static const struct binding_key *
binding_key_find(const char *k)
{
	size_t	i;

	for (i = 0; i < sizeof(binding_keys) / sizeof(binding_keys[0]); i++)
		if (strcmp(binding_keys[i].name, k) == 0)
			return &binding_keys[i];
	return NULL;
}

int
binding_key_class(const char *k)
{
	const struct binding_key	*bk = binding_key_find(k);

	return bk != NULL ? (int)bk->cls : -1;
}

const char *
binding_key_class_name(int cls)
{
	switch (cls) {
	case BK_COMMAND:
		return "command";
	case BK_PATH:
		return "path";
	case BK_OWNER:
		return "owner";
	default:
		return "tuning";
	}
}

static int
binding_set(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	const struct binding_key	*bk = binding_key_find(k);

	if (b->is_service && (bk == NULL || !binding_service_key(k)))
		return cv_err_set(err, "unknown key '%s' in [service %s]", k,
		    b->name);
	if (bk == NULL || (!b->is_service && !(bk->sections &
	    (b->is_client ? BK_CLIENT : BK_SERVER))))
		return cv_err_set(err, "unknown key '%s' in [%s %s]", k,
		    b->is_client ? "client" : "binding", b->name);
	return bk->parse(b, k, v, err);
}

int
binding_set_key(struct binding *b, const char *k, const char *v,
    struct cv_err *err)
{
	if (binding_set(b, k, v, err) == -1)
		return -1;
	b->kv = xreallocarray(b->kv, b->nkv + 2, sizeof(char *));
	b->kv[b->nkv++] = xstrdup(k);
	b->kv[b->nkv++] = xstrdup(v);
	return 0;
}

static size_t binding_files(const struct binding *, const char **);

/* pfx_file and its password go together; no two forms share a file
 * (fsutil_write_set would write one over the other). */
static int
binding_finish_forms(const struct binding *b, const char *what,
    struct cv_err *err)
{
	const char	*f[BINDING_MAX_FILES + 1];
	size_t		 i, j, n;

	if (b->pfx_file != NULL && b->pfx_password_file == NULL)
		return cv_err_set(err, "[%s %s]: pfx_file needs "
		    "pfx_password_file (the password the service opens it "
		    "with)", what, b->name);
	if (b->pfx_file == NULL && (b->pfx_password_file != NULL ||
	    b->pfx_legacy))
		return cv_err_set(err, "[%s %s]: %s without pfx_file", what,
		    b->name, b->pfx_password_file != NULL ?
		    "pfx_password_file" : "pfx_legacy");
	n = binding_files(b, f);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(f[i], f[j]) == 0)
				return cv_err_set(err, "[%s %s]: %s is "
				    "named twice among the deployed files",
				    what, b->name, f[i]);
	if (b->pfx_password_file != NULL)
		for (i = 0; i < n; i++)
			if (strcmp(f[i], b->pfx_password_file) == 0)
				return cv_err_set(err, "[%s %s]: "
				    "pfx_password_file %s is also a deployed "
				    "file", what, b->name, f[i]);
	return 0;
}

/* reload or stop/start, never both; stop and start together. */
static int
binding_finish_commands(const struct binding *b, const char *what,
    struct cv_err *err)
{
	if (b->reload != NULL && (b->stop != NULL || b->start != NULL))
		return cv_err_set(err, "[%s %s]: give either reload or "
		    "stop/start", what, b->name);
	if ((b->stop == NULL) != (b->start == NULL))
		return cv_err_set(err, "[%s %s]: stop and start go together",
		    what, b->name);
	return 0;
}

int
binding_finish(struct binding *b, struct cv_err *err)
{
	const char	*what = b->is_service ? "service" : b->is_client ?
	    "client" : "binding";

	if (b->is_service)
		return binding_finish_commands(b, what, err);
	if (!b->is_client && (b->ipport == NULL) == (b->hostnameport == NULL))
		return cv_err_set(err, "[%s %s] needs exactly one of ipport "
		    "and hostnameport", what, b->name);
	if (b->cert_file == NULL || b->key_file == NULL)
		return cv_err_set(err, "[%s %s] needs cert_file and key_file",
		    what, b->name);
	if (b->chain_file != NULL && b->fullchain_file != NULL)
		return cv_err_set(err, "[%s %s]: chain_file and fullchain_file "
		    "exclude each other", what, b->name);
	if (binding_finish_forms(b, what, err) == -1)
		return -1;
	if (binding_finish_commands(b, what, err) == -1)
		return -1;
	if (b->is_client && b->probe == NULL)
		return cv_err_set(err, "[client %s] needs beacon (HOST:PORT "
		    "the client certificate is verified against)", b->name);
	return 0;
}

void
binding_free(struct binding *b)
{
	size_t	i;

	if (b == NULL || --b->refs > 0)
		return;
	free(b->name);
	free(b->ipport);
	free(b->hostnameport);
	free(b->appid);
	free(b->certhash);
	free(b->cert_file);
	free(b->key_file);
	free(b->chain_file);
	free(b->fullchain_file);
	free(b->combined_file);
	free(b->pfx_file);
	free(b->pfx_password_file);
	free(b->owner);
	free(b->group);
	argv_free(b->stop);
	argv_free(b->start);
	argv_free(b->reload);
	free(b->issuer);
	free(b->subject);
	free(b->san);
	free(b->probe);
	free(b->renew_before);
	free(b->window_str);
	free(b->timezone);
	sched_zone_free(b->zone);
	free(b->agent_config);
	for (i = 0; i < b->nagent_sections; i++)
		free(b->agent_sections[i]);
	free(b->agent_sections);
	free(b->ca_file);
	for (i = 0; i < b->nkv; i++)
		free(b->kv[i]);
	free(b->kv);
	argv_free(b->config_test);
	for (i = 0; i < b->nprobes; i++)
		free(b->probes[i]);
	free(b->probes);
	for (i = 0; i < b->nservice_names; i++)
		free(b->service_names[i]);
	free(b->service_names);
	for (i = 0; i < b->nservices; i++)
		binding_free(b->services[i]);
	free(b->services);
	free(b);
}

struct binding *
binding_ref(struct binding *b)
{
	b->refs++;
	return b;
}

struct binding *
binding_rebuild(const struct binding *b, json_t *overlay, struct cv_err *err)
{
	struct binding	*n = binding_new(b->name, b->is_client, b->line);
	const char	*k;
	json_t		*v;
	size_t		 i;

	for (i = 0; i + 1 < b->nkv; i += 2)
		if (binding_set_key(n, b->kv[i], b->kv[i + 1], err) == -1)
			goto fail;
	json_object_foreach(overlay, k, v) {
		if (!json_is_string(v))
			continue;
		if (binding_set_key(n, k, json_string_value(v), err) == -1)
			goto fail;
	}
	return n;
fail:
	binding_free(n);
	return NULL;
}

const char *
binding_endpoint(const struct binding *b)
{
	if (b->ipport != NULL)
		return b->ipport;
	if (b->hostnameport != NULL)
		return b->hostnameport;
	return b->probe != NULL ? b->probe : "";
}

size_t
binding_nservices(const struct binding *b)
{
	return b->nservices > 0 ? b->nservices : 1;
}

const struct binding *
binding_service_at(const struct binding *b, size_t i)
{
	return b->nservices > 0 && i < b->nservices ? b->services[i] : b;
}

const char *
binding_service_name(const struct binding *svc)
{
	return svc->is_service ? svc->name : NULL;
}

int
binding_has_config_test(const struct binding *b)
{
	size_t	i;

	for (i = 0; i < binding_nservices(b); i++)
		if (binding_service_at(b, i)->config_test != NULL)
			return 1;
	return 0;
}

int
binding_resolve_services(struct binding *b,
    struct binding *(*lookup)(void *, const char *), void *arg,
    struct cv_err *err)
{
	struct binding	*svc;
	size_t		 i;

	for (i = 0; i < b->nservices; i++)
		binding_free(b->services[i]);
	free(b->services);
	b->services = NULL;
	b->nservices = 0;
	if (b->nservice_names == 0)
		return 0;
	/* Two places for one command would leave its order to guess. */
	if (b->stop != NULL || b->start != NULL || b->reload != NULL ||
	    b->config_test != NULL || b->probe != NULL)
		return cv_err_set(err, "[binding %s]: with service =, stop, "
		    "start, reload, config_test and probe go in the [service] "
		    "sections", b->name);
	b->services = xcalloc(b->nservice_names, sizeof(*b->services));
	for (i = 0; i < b->nservice_names; i++) {
		if ((svc = lookup(arg, b->service_names[i])) == NULL) {
			cv_err_set(err, "[binding %s]: service '%s' is not "
			    "defined (add a [service %s] section)", b->name,
			    b->service_names[i], b->service_names[i]);
			return -1;
		}
		b->services[b->nservices++] = binding_ref(svc);
	}
	return 0;
}

/* A service's probes: 0 means one, at the binding's endpoint. */
static size_t
binding_svc_nprobes(const struct binding *svc)
{
	return svc->nprobes > 0 ? svc->nprobes : 1;
}

size_t
binding_nprobes(const struct binding *b)
{
	size_t	i, n = 0;

	for (i = 0; i < binding_nservices(b); i++)
		n += binding_svc_nprobes(binding_service_at(b, i));
	return n;
}

int
binding_probe_at(const struct binding *b, size_t i, struct binding_probe *bp,
    struct cv_err *err)
{
	const struct binding	*svc = b;
	const char		*spec = NULL;
	size_t			 k, n;

	memset(bp, 0, sizeof(*bp));
	for (k = 0; k < binding_nservices(b); k++) {
		svc = binding_service_at(b, k);
		n = binding_svc_nprobes(svc);
		if (i < n)
			break;
		i -= n;
	}
	if (k == binding_nservices(b)) {
		cv_err_set(err, "%s: no probe %zu", b->name, i);
		return -1;
	}
	if (svc->is_service)
		spec = svc->nprobes > 0 ? svc->probes[i] : NULL;
	else
		spec = b->probe;
	bp->spec = spec;
	bp->service = binding_service_name(svc);
	bp->require_client_cert = b->require_client_cert ||
	    svc->require_client_cert;
	if (probe_endpoint_parse(spec != NULL ? spec : binding_endpoint(b),
	    &bp->ep, err) == -1)
		return -1;
	if (spec == NULL && (strcmp(bp->ep.host, "0.0.0.0") == 0 ||
	    strcmp(bp->ep.host, "*") == 0))
		snprintf(bp->ep.host, sizeof(bp->ep.host), "127.0.0.1");
	else if (spec == NULL && strcmp(bp->ep.host, "::") == 0)
		snprintf(bp->ep.host, sizeof(bp->ep.host), "::1");
	return 0;
}

int
binding_probe_target(const struct binding *b, char *host, size_t hl,
    char *port, size_t pl)
{
	struct binding_probe	bp;
	struct cv_err		e;

	if (binding_probe_at(b, 0, &bp, &e) == -1 ||
	    strlen(bp.ep.host) >= hl)
		return -1;
	snprintf(host, hl, "%s", bp.ep.host);
	snprintf(port, pl, "%s", bp.ep.port);
	return 0;
}

const char *
binding_check_host(const struct binding *b, char *buf, size_t len)
{
	const char	*p, *c;
	size_t		 n;

	if (b->hostnameport != NULL) {
		c = strrchr(b->hostnameport, ':');
		n = (size_t)(c - b->hostnameport);
		snprintf(buf, len, "%.*s", (int)n, b->hostnameport);
		return buf;
	}
	if (b->san != NULL && (p = strcasestr(b->san, "DNS:")) != NULL) {
		p += 4;
		n = strcspn(p, ", ");
		snprintf(buf, len, "%.*s", (int)n, p);
		return buf;
	}
	return NULL;
}

/* ---- deployment ------------------------------------------------------ */

char *
binding_aside_path(const char *live, int64_t id)
{
	char	*p;

	xasprintf(&p, "%s.certvigil-%lld", live, (long long)id);
	return p;
}

/* The live files of a binding, NULL-ended (v holds BINDING_MAX_FILES
 * + 1); cert_file and key_file are missing only before binding_finish. */
static size_t
binding_files(const struct binding *b, const char **v)
{
	const char	*all[BINDING_MAX_FILES] = { b->cert_file, b->key_file,
			    b->chain_file, b->fullchain_file, b->combined_file,
			    b->pfx_file };
	size_t		 i, n = 0;

	for (i = 0; i < BINDING_MAX_FILES; i++)
		if (all[i] != NULL)
			v[n++] = all[i];
	v[n] = NULL;
	return n;
}

int
binding_check_dirs(const struct binding *b, struct cv_err *err)
{
	const char	*f[BINDING_MAX_FILES + 1];
	char		*base;
	size_t		 i, n = binding_files(b, f);
	int		 dfd;

	for (i = 0; i < n; i++) {
		if ((dfd = fsutil_open_deploy_dir(f[i], &base, err)) == -1)
			return -1;
		close(dfd);
		free(base);
	}
	return 0;
}

/*
 * Moves one live file aside (back 0), or its aside copy back over it
 * (back 1), through its directory's descriptor: the service user may own
 * that directory or one above it, so moving aside, putting back and
 * pruning go through fsutil_open_deploy_dir's descriptor, never by path.
 *
 * A live file is moved even over an existing aside name: a second run
 * (after a crash) finds the live file already gone, so an aside copy
 * beside a live file is not this renewal's -- one left by a renewal of
 * the same id in an older inventory.db, or planted -- and restoring it
 * would put back the wrong certificate.
 */
static int
binding_move_file(const char *live, int64_t id, int back,
    struct cv_err *err)
{
	struct stat	 st;
	char		*base, *aside;
	const char	*from, *to;
	int		 dfd, rc = 0;

	if ((dfd = fsutil_open_deploy_dir(live, &base, err)) == -1)
		return -1;
	if (back)
		fsutil_clean_stale_at(dfd, base);
	aside = binding_aside_path(base, id);
	from = back ? aside : base;
	to = back ? base : aside;
	if (fstatat(dfd, from, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (renameat(dfd, from, dfd, to) == -1)
			rc = back ? cv_err_set(err, "%s: cannot put back %s: %s",
			    live, aside, strerror(errno)) : cv_err_set(err,
			    "%s: cannot move aside: %s", live, strerror(errno));
		else
			rc = fsutil_fsync_dirfd(dfd, live, err);
	}
	free(aside);
	free(base);
	close(dfd);
	return rc;
}

int
binding_unbind(const struct binding *b, int64_t id, struct cv_err *err)
{
	const char	*f[BINDING_MAX_FILES + 1];
	size_t		 i, n = binding_files(b, f);
	int		 rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = binding_move_file(f[i], id, 0, err);
	return rc;
}

/* Adds one live file to the set binding_bind writes. */
static void
binding_file(const struct binding *b, struct fsutil_file *f, size_t *n,
    const char *path, const void *data, size_t len, mode_t mode)
{
	f[*n].path = path;
	f[*n].data = data;
	f[*n].len = len;
	f[*n].mode = mode;
	f[*n].own = b->uid != (uid_t)-1 || b->gid != (gid_t)-1;
	f[*n].uid = b->uid;
	f[*n].gid = b->gid;
	(*n)++;
}

int
binding_bind(const struct binding *b, const struct store *st,
    const char *sha1, struct cv_err *err)
{
	struct store_set s;
	struct fsutil_file f[BINDING_MAX_FILES];
	unsigned char	*comb = NULL, *pfx = NULL;
	char		*full = NULL;
	size_t		 n = 0, comb_len = 0, pfx_len = 0;
	int		 rc = -1;

	if (store_read(st, sha1, &s, err) == -1)
		return -1;
	/* The PFX first: a bad password file stops the bind before any
	 * file is touched. */
	if (b->pfx_file != NULL && binding_form_pfx(b, &s, &pfx, &pfx_len,
	    err) == -1)
		goto out;
	/* All files or none (fsutil_write_set stages every one, then
	 * renames, and undoes the renames done if one fails); the key
	 * first, so a service reading the certificate then its key never
	 * sees a certificate without its key. */
	memset(f, 0, sizeof(f));
	binding_file(b, f, &n, b->key_file, s.key, s.key_len, b->mode);
	/* The two forms holding the key get the key's mode. */
	if (b->combined_file != NULL) {
		binding_form_combined(&s, &comb, &comb_len);
		binding_file(b, f, &n, b->combined_file, comb, comb_len,
		    b->mode);
	}
	if (pfx != NULL)
		binding_file(b, f, &n, b->pfx_file, pfx, pfx_len, b->mode);
	binding_file(b, f, &n, b->cert_file, s.cert, s.cert_len, 0644);
	if (b->chain_file != NULL)
		binding_file(b, f, &n, b->chain_file, s.chain ?
		    (void *)s.chain : (void *)"", s.chain_len, 0644);
	if (b->fullchain_file != NULL) {
		full = xmalloc(s.cert_len + s.chain_len + 1);
		memcpy(full, s.cert, s.cert_len);
		if (s.chain_len)
			memcpy(full + s.cert_len, s.chain, s.chain_len);
		binding_file(b, f, &n, b->fullchain_file, full, s.cert_len +
		    s.chain_len, 0644);
	}
	rc = fsutil_write_set(f, n, err);
out:
	if (comb != NULL)
		explicit_bzero(comb, comb_len);
	free(comb);
	free(pfx);
	free(full);
	store_set_free(&s);
	return rc;
}

int
binding_restore(const struct binding *b, int64_t id, struct cv_err *err)
{
	const char	*f[BINDING_MAX_FILES + 1];
	size_t		 i, n = binding_files(b, f);
	int		 rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = binding_move_file(f[i], id, 1, err);
	return rc;
}

/* An aside copy and when it was moved aside. */
struct binding_aside {
	int64_t		id;
	struct timespec	ctime;
};

/*
 * Newest first by the time the copy was moved aside: rename(2) sets the
 * inode's change time, which a new inventory.db (renewal ids starting
 * over at 1) does not reset.  The id only breaks ties.
 */
static int
binding_aside_cmp(const void *pa, const void *pb)
{
	const struct binding_aside *a = pa, *b = pb;

	if (a->ctime.tv_sec != b->ctime.tv_sec)
		return a->ctime.tv_sec < b->ctime.tv_sec ? 1 : -1;
	if (a->ctime.tv_nsec != b->ctime.tv_nsec)
		return a->ctime.tv_nsec < b->ctime.tv_nsec ? 1 : -1;
	return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

/* The FILE.certvigil-ID siblings (prefix "FILE.certvigil-") in the
 * directory dfd but current's, newest first; *n how many. */
static struct binding_aside *
binding_aside_list(int dfd, const char *prefix, int64_t current, size_t *n)
{
	struct binding_aside	*v = NULL;
	struct dirent		*de;
	struct stat		 st;
	size_t			 plen = strlen(prefix);
	int64_t			 id;
	char			*end;
	DIR			*d;

	*n = 0;
	if ((d = fsutil_opendir_at(dfd)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    !isdigit((unsigned char)de->d_name[plen]))
			continue;
		errno = 0;
		id = strtoll(de->d_name + plen, &end, 10);
		if (errno != 0 || *end != '\0' || id == current ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[*n].id = id;
		v[(*n)++].ctime = st.st_ctim;
	}
	closedir(d);
	if (*n > 1)	/* qsort(NULL, 0, ...) is undefined (UBSan) */
		qsort(v, *n, sizeof(*v), binding_aside_cmp);
	return v;
}

/* Deletes the FILE.certvigil-ID siblings of one live file but current's
 * and the keep - 1 newest others, through the directory's descriptor. */
static void
binding_prune_file(const char *live, int keep, int64_t current)
{
	struct binding_aside	*v;
	struct cv_err		 err;
	char			*base, *prefix, *p;
	size_t			 n, i;
	int			 dfd;

	if ((dfd = fsutil_open_deploy_dir(live, &base, &err)) == -1)
		return;		/* unbind refused it already */
	xasprintf(&prefix, "%s.certvigil-", base);
	v = binding_aside_list(dfd, prefix, current, &n);
	/* current's set is never a candidate: its rollback needs it. */
	for (i = keep > 0 ? (size_t)keep - 1 : 0; i < n; i++) {
		p = binding_aside_path(base, v[i].id);
		unlinkat(dfd, p, 0);
		free(p);
	}
	free(v);
	free(prefix);
	free(base);
	close(dfd);
}

void
binding_prune_aside(const struct binding *b, int keep, int64_t current)
{
	const char	*f[BINDING_MAX_FILES + 1];
	size_t		 i, n = binding_files(b, f);

	for (i = 0; i < n; i++)
		binding_prune_file(f[i], keep, current);
}

int
binding_deployed_sha1(const struct binding *b, char sha1[41],
    time_t *nb, time_t *na, struct cv_err *err)
{
	return binding_form_sha1(b->cert_file, NULL, sha1, nb, na, err);
}
