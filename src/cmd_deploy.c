/*
 * certvigil deploy-client: install a client certificate and key where
 * the inventory agent reads them, and set its preferences (agentcfg).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include <jansson.h>

#include "cmd.h"
#include "cmd_pki.h"
#include "agentcfg.h"
#include "fsutil.h"
#include "pki.h"
#include "xmalloc.h"

#define DEPLOY_CERT_PATH	"/var/opt/managesoft/etc/ssl/client/client_cert.pem"
#define DEPLOY_KEY_PATH	\
	"/var/opt/managesoft/etc/ssl/client/private/client_key.pem"

/* An absolute form of path for config.ini, which the agent reads from
 * elsewhere.  Caller frees. */
static char *
pki_cli_abspath(const char *path)
{
	char	cwd[PATH_MAX], *s;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	xasprintf(&s, "%s/%s", cwd, path);
	return s;
}

/*
 * Writes data to name in dfd (path in messages) unless it already holds
 * exactly that with that mode.  Sets *changed.
 */
static int
pki_cli_deploy_file(int dfd, const char *name, const char *path,
    const gnutls_datum_t *d, mode_t mode, int *changed)
{
	struct stat	 st;
	struct cv_err	 err;
	unsigned char	*old = NULL;
	size_t		 len = 0;
	int		 fd, same = 0;

	*changed = 0;
	if ((fd = fsutil_open_at(dfd, name, FSUTIL_NOFOLLOW, &st,
	    &err)) != -1) {
		if ((st.st_mode & 07777) == mode && fsutil_read_fd(fd, &st,
		    FSUTIL_MAX_FILE, &old, &len, &err) == 0) {
			same = len == d->size && memcmp(old, d->data, len) == 0;
			explicit_bzero(old, len);
			free(old);
		}
		close(fd);
	}
	if (same)
		return 0;
	if (fsutil_write_atomic_at(dfd, name, path, d->data, d->size, mode,
	    (uid_t)-1, (gid_t)-1, &err) == -1) {
		cmd_err("%s", err.msg);
		return -1;
	}
	*changed = 1;
	return 0;
}

/*
 * The parent of path as a descriptor, made if missing: ancestors 0755,
 * the parent itself mode (exactly, not the umask's).  The agent's or a
 * service's user may own some of these directories: none is reached
 * through a symlink but root's own in a directory only root writes
 * (fsutil_walk), and the parent itself never through one (private/
 * pointed elsewhere would receive the key).  *base (caller frees) is
 * path's last component.
 */
static int
pki_cli_mkparent(const char *path, mode_t mode, char **base)
{
	struct cv_err	 err;
	char		*c1 = xstrdup(path), *c2 = xstrdup(path), *c3, *c4;
	char		*dir, *up, *last;
	int		 ufd, fd = -1;

	*base = xstrdup(basename(c1));
	dir = dirname(c2);
	c3 = xstrdup(dir);
	c4 = xstrdup(dir);
	up = dirname(c3);
	last = basename(c4);
	if ((ufd = fsutil_walk(up, FSUTIL_WALK_CREATE |
	    FSUTIL_WALK_ROOT_LINKS, 0755, &err)) != -1) {
		fd = fsutil_walk_at(ufd, up, last, FSUTIL_WALK_CREATE, mode,
		    &err);
		close(ufd);
	}
	if (fd == -1) {
		cmd_err("%s", err.msg);
		free(*base);
		*base = NULL;
	}
	free(c1);
	free(c2);
	free(c3);
	free(c4);
	return fd;
}

static const struct cmdopt deploy_opts[] = {
	{ "pfx", OPT_PFX, "X.pfx",
	    "a PKCS#12 with certificate and key" },
	{ "cert", OPT_CERT, "FILE",
	    "the certificate" },
	{ "key", OPT_KEY, "KEY",
	    "an existing private key" },
	{ "cert-path", OPT_CERT_PATH, "P",
	    "where the agent reads the certificate" },
	{ "key-path", OPT_KEY_PATH, "P",
	    "where the agent reads the key" },
	{ "agent-config", OPT_AGENT_CONFIG, "config.ini",
	    "the agent's preferences file" },
	{ "agent-section", OPT_AGENT_SECTION, "S",
	    "a section to set (default ManageSoft\\Common); repeatable" },
	{ "password-file", OPT_PASSWORD_FILE, "FILE|-",
	    "the password (- reads standard input)" },
	{ "json", OPT_JSON, NULL,
	    "print the result as JSON" },
	CMDOPT_END
};

/* What the command line asks for; sections is the caller's to free. */
struct deploy_args {
	const char		*pfx, *cert, *keyf;
	const char		*cert_path, *key_path;
	const char		*agent, *pwfile;
	const char		**sections;
	size_t			 nsections;
	int			 json;
};

/* What deploy_write changed. */
struct deploy_result {
	int			 cert, key, cfg;
};

/* -1 to go on, or the exit status (help, usage). */
static int
deploy_parse(struct cmd_ctx *ctx, int argc, char **argv,
    struct deploy_args *a)
{
	int	ch;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case OPT_PFX:		a->pfx = optarg; break;
		case OPT_CERT:		a->cert = optarg; break;
		case OPT_KEY:		a->keyf = optarg; break;
		case OPT_CERT_PATH:	a->cert_path = optarg; break;
		case OPT_KEY_PATH:	a->key_path = optarg; break;
		case OPT_AGENT_CONFIG:	a->agent = optarg; break;
		case OPT_PASSWORD_FILE:	a->pwfile = optarg; break;
		case OPT_JSON:		a->json = 1; break;
		case OPT_AGENT_SECTION:
			a->sections = xreallocarray(a->sections,
			    a->nsections + 1, sizeof(*a->sections));
			a->sections[a->nsections++] = optarg;
			break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	if (optind != argc || (a->pfx == NULL) == (a->cert == NULL) ||
	    (a->pfx != NULL && a->keyf != NULL) ||
	    (a->nsections > 0 && !a->agent)) {
		if (optind == argc)
			cmd_err("give --pfx FILE, or --cert FILE [--key FILE]"
			    "%s", a->nsections > 0 && !a->agent ? "; "
			    "--agent-section needs --agent-config" : "");
		return cmd_usage(ctx->cmd);
	}
	if (strcmp(a->cert_path, a->key_path) == 0) {
		cmd_err("--cert-path and --key-path are the same file");
		return CMD_EXIT_USAGE;
	}
	return -1;
}

/* The certificate, the key, then config.ini's paths to them. */
static int
deploy_write(const struct deploy_args *a, const gnutls_datum_t *cd,
    const gnutls_datum_t *kd, struct deploy_result *r)
{
	struct cv_err	 err;
	char		*acert = NULL, *akey = NULL, *cb = NULL, *kb = NULL;
	int		 cfd = -1, kfd = -1, rc = -1;

	if ((cfd = pki_cli_mkparent(a->cert_path, 0755, &cb)) == -1 ||
	    (kfd = pki_cli_mkparent(a->key_path, 0700, &kb)) == -1)
		goto out;
	if (pki_cli_deploy_file(cfd, cb, a->cert_path, cd, 0644,
	    &r->cert) == -1 || pki_cli_deploy_file(kfd, kb, a->key_path, kd,
	    0600, &r->key) == -1)
		goto out;
	if (a->agent != NULL) {
		acert = pki_cli_abspath(a->cert_path);
		akey = pki_cli_abspath(a->key_path);
		if (agentcfg_set_client_cert(a->agent, a->sections,
		    a->nsections, acert, akey, &r->cfg, &err) == -1) {
			cmd_err("%s", err.msg);
			goto out;
		}
	}
	rc = 0;
out:
	if (cfd != -1)
		close(cfd);
	if (kfd != -1)
		close(kfd);
	free(cb);
	free(kb);
	free(acert);
	free(akey);
	return rc;
}

static void
deploy_print(const struct deploy_args *a, const struct deploy_result *r)
{
	json_t	*j;

	if (!a->json) {
		printf("cert: %s: %s\n", a->cert_path, r->cert ? "written" :
		    "unchanged");
		printf("key: %s: %s\n", a->key_path, r->key ? "written" :
		    "unchanged");
		if (a->agent != NULL)
			printf("agent config: %s: %s\n", a->agent, r->cfg ?
			    "updated" : "unchanged");
		return;
	}
	j = json_pack("{s:{s:s,s:s},s:{s:s,s:s}}",
	    "cert", "path", a->cert_path, "status",
	    r->cert ? "written" : "unchanged",
	    "key", "path", a->key_path, "status",
	    r->key ? "written" : "unchanged");
	if (a->agent != NULL)
		json_object_set_new(j, "agent_config", json_pack(
		    "{s:s,s:s}", "path", a->agent, "status", r->cfg ?
		    "updated" : "unchanged"));
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(j);
}

static int
cmd_deploy_client(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct deploy_args	 a = { .cert_path = DEPLOY_CERT_PATH,
				    .key_path = DEPLOY_KEY_PATH };
	struct deploy_result	 r = { 0, 0, 0 };
	struct pki_cli_set	 set;
	struct cv_err		 err;
	gnutls_datum_t		 cd = { NULL, 0 }, kd = { NULL, 0 };
	char			*pw = NULL;
	int			 rc;

	memset(&set, 0, sizeof(set));
	if ((rc = deploy_parse(ctx, argc, argv, &a)) != -1)
		goto out;
	rc = CMD_EXIT_FAIL;
	/* A missing config.ini fails before anything is written. */
	if (a.agent != NULL && access(a.agent, R_OK | W_OK) == -1) {
		cmd_err("%s: %s", a.agent, strerror(errno));
		goto out;
	}
	if (pki_cli_password(a.pwfile, &pw) == -1)
		goto out;
	if (pki_cli_gather(&set, a.pfx, a.cert, a.keyf, NULL, pw) == -1)
		goto out;
	if (set.key == NULL) {
		cmd_err("%s: no private key (give --key)", a.pfx ? a.pfx :
		    a.cert);
		goto out;
	}
	if (pki_crts_pem(&set.leaf, 1, &cd, &err) == -1 ||
	    pki_key_pem(set.key, NULL, &kd, &err) == -1) {
		cmd_err("%s", err.msg);
		goto out;
	}
	if (deploy_write(&a, &cd, &kd, &r) == -1)
		goto out;
	deploy_print(&a, &r);
	rc = CMD_EXIT_OK;
out:
	if (kd.data != NULL) {
		explicit_bzero(kd.data, kd.size);
		gnutls_free(kd.data);
	}
	if (cd.data != NULL)
		gnutls_free(cd.data);
	free(a.sections);
	pki_cli_set_free(&set);
	freezero_str(pw);
	return rc;
}

const struct cmd_entry cmd_deploy_client_entry = {
	"deploy-client", NULL, "(--pfx X.pfx | --cert C [--key K]) "
	"[--cert-path P] [--key-path P] [--agent-config config.ini "
	"[--agent-section S]...] [--password-file FILE|-] [--json]",
	"install a client certificate and key and set agent preferences",
	"Files already holding the same bytes are left alone; config.ini gets "
	"absolute paths.", deploy_opts, cmd_deploy_client
};
