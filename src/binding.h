/*
 * Bindings: an endpoint (ipport / hostnameport, as netsh names them) tied
 * to a certificate by thumbprint, with the files and the service that make
 * it real on Linux.  The key parsers are shared by the config file and
 * "binding add/update", so a binding set at run time obeys the same
 * rules; [issuer NAME] sections are issuer.h's.  File deployment
 * (unbind: move aside; bind: atomic write; restore) is blocking: the
 * renewal engine runs it on the thread pool.
 */
#ifndef CV_BINDING_H
#define CV_BINDING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "cverr.h"
#include "pki.h"
#include "probe.h"
#include "schedule.h"

struct store;

#define BINDING_SERVICE_TIMEOUT	60	/* seconds, per command */
#define BINDING_VERIFY_TIMEOUT	30	/* seconds of probing */
#define BINDING_KEEP_STORE	5	/* previous certificates kept */
#define BINDING_MAX_FILES	6	/* cert, key, chain, fullchain,
					 * combined, pfx */

struct binding {
	int			 refs;		/* binding_ref / binding_free */
	char			*name;
	int			 line;		/* 0: made at run time */
	int			 is_client;	/* [client NAME] */
	char			*ipport;
	char			*hostnameport;
	char			*appid;
	char			*certhash;	/* given at run time */
	char			*cert_file;
	char			*key_file;
	char			*chain_file;
	char			*fullchain_file;
	/* issue 14, forms: one PEM of leaf + chain + key (HAProxy,
	 * lighttpd); PKCS#12 with the service's password (read from
	 * pfx_password_file when deploying), 3DES/SHA-1 if pfx_legacy */
	char			*combined_file;
	char			*pfx_file;
	char			*pfx_password_file;
	int			 pfx_legacy;
	char			*owner;
	char			*group;
	uid_t			 uid;		/* (uid_t)-1: unchanged */
	gid_t			 gid;
	mode_t			 mode;		/* the key's; certs 0644 */
	char			**stop;		/* argv, NULL-ended */
	char			**start;
	char			**reload;
	char			*issuer;
	char			*subject;
	char			*san;
	char			*probe;		/* host:port */
	int			 require_client_cert;
	struct sched_policy	 policy;
	char			*renew_before;
	char			*window_str;
	struct sched_window	 window;
	char			*timezone;
	struct sched_zone	*zone;		/* NULL: local time */
	int64_t			 emergency_before;
	int64_t			 service_timeout;
	int64_t			 verify_timeout;
	int64_t			 probe_interval;	/* 0: [daemon]'s */
	/* [client NAME]: the deploy-client settings */
	char			*agent_config;
	char			**agent_sections;
	size_t			 nagent_sections;
	char			*ca_file;	/* trust for the probe */
	/* every key = value as given, to rebuild with run-time changes */
	char			**kv;
	size_t			 nkv;
	/*
	 * Issue 14, services.  A [service NAME] section is a struct binding
	 * too (is_service: the keys of the service table only), so that
	 * the config file and binding add/update parse commands, probes
	 * and timeouts with the same code.  A binding's service = names
	 * them; services holds them once resolved (conf_binding_services).
	 * Without service =, the binding's own stop/start/reload/
	 * config_test/probe keys are its one implicit service.
	 */
	int			 is_service;	/* [service NAME] */
	char			**config_test;	/* argv, NULL-ended */
	char			**probes;	/* [service]: every probe */
	size_t			 nprobes;
	char			**service_names;	/* service = a, b */
	size_t			 nservice_names;
	struct binding		**services;	/* resolved: one ref each */
	size_t			 nservices;
};

char	*binding_argv_str(char *const *);	/* for display; caller frees */

/*
 * Who may set a key at run time (binding add/update).  Tuning keys change
 * when and how a certificate is renewed; the others decide what root
 * runs (command), which files root reads or writes (path) and who may
 * read the key (owner: owner, group, mode): root's alone, unless
 * admin_may_run_commands makes the admin group root's equal.
 */
enum binding_key_class {
	BK_TUNING,
	BK_COMMAND,
	BK_PATH,
	BK_OWNER
};

/* The class of a [binding]/[client] key, or -1 if there is no such key. */
int	 binding_key_class(const char *key);
const char *binding_key_class_name(int);

struct binding	*binding_new(const char *name, int is_client, int line);
/* A [service NAME] section (issue 14). */
struct binding	*binding_service_new(const char *name, int line);
/* Sets one key; -1 with "key: why" in err (unknown keys too). */
int	 binding_set_key(struct binding *, const char *key, const char *value,
	    struct cv_err *);
/* Checks what only the whole section can tell. */
int	 binding_finish(struct binding *, struct cv_err *);
/* Drops a reference; the last one frees.  Effective bindings are
 * shared (the renewer's cache and each renewal) and never changed. */
void	 binding_free(struct binding *);
struct binding	*binding_ref(struct binding *);
/* A new binding from b's keys with the pairs of overlay (a JSON object of
 * strings) applied after them. */
struct binding	*binding_rebuild(const struct binding *b, json_t *overlay,
	    struct cv_err *);
/* "0.0.0.0:443" or "host:443". */
const char *binding_endpoint(const struct binding *);
/* Where to probe: host and port (probe, else the endpoint with 0.0.0.0
 * and [::] read as loopback).  Returns -1 if none. */
int	 binding_probe_target(const struct binding *, char *host, size_t,
	    char *port, size_t);
/*
 * The endpoints that must serve the binding's certificate, in order:
 * every probe of every service (issue 14: [service] sections), or the
 * binding's own probe, else its endpoint with 0.0.0.0 and [::] read as
 * loopback.  binding_probe_at fills bp for i < binding_nprobes.
 */
struct binding_probe {
	struct probe_endpoint	 ep;
	const char		*spec;		/* as written; NULL: derived
						 * from the endpoint */
	const char		*service;	/* NULL: the binding's own */
	int			 require_client_cert;
};
size_t	 binding_nprobes(const struct binding *);
int	 binding_probe_at(const struct binding *, size_t i,
	    struct binding_probe *, struct cv_err *);

/*
 * The services a renewal stops, starts and tests, in order (issue 14):
 * the resolved [service] sections of service =, or the binding itself
 * (its own commands: one implicit service).  binding_service_at never
 * fails for i < binding_nservices; the name is NULL for the implicit one.
 */
size_t	 binding_nservices(const struct binding *);
const struct binding *binding_service_at(const struct binding *, size_t i);
const char *binding_service_name(const struct binding *svc);
/* Whether any service has a config_test (the renewal then deploys and
 * tests before it stops or reloads anything). */
int	 binding_has_config_test(const struct binding *);
/* Resolves service = with the [service] sections a lookup finds (the
 * configuration's); -1 with the unknown name in err. */
int	 binding_resolve_services(struct binding *,
	    struct binding *(*lookup)(void *, const char *), void *arg,
	    struct cv_err *);

/* The host names the new certificate must cover (for the check). */
const char *binding_check_host(const struct binding *, char *buf, size_t);

/* Key parsers the [issuer] sections share: an absolute path (replacing
 * *dst), a yes/no. */
int	 binding_path(const char *key, const char *value, char **dst,
	    struct cv_err *);
int	 binding_bool(const char *value, int *);

/* ---- deployment (blocking: thread pool) ---- */

/*
 * The files a binding deploys that hold its leaf, each of which must
 * hold the binding's certhash (drift): cert_file first (always), then
 * fullchain_file, combined_file and pfx_file when given.  key names the
 * config key; password_file is pfx_password_file for the PFX, else NULL.
 */
struct binding_form {
	const char	*key;
	const char	*path;
	const char	*password_file;
};
size_t	 binding_nforms(const struct binding *);
int	 binding_form_at(const struct binding *, size_t i,
	    struct binding_form *);
/*
 * The password of a pfx_password_file: its first line, non-empty.  The
 * file is opened under FSUTIL_NOFOLLOW|FSUTIL_ONE_LINK and refused when
 * every user may read or write it.  err is one line naming the key and
 * the file, never the password.  Caller frees with freezero_str().
 */
int	 binding_pfx_password(const char *path, char **pw, struct cv_err *);
/*
 * The two forms binding_bind builds from a store set: leaf + chain + key
 * as one PEM (caller zeroes and frees), and the PKCS#12 of b (its
 * password file read now; caller frees).
 */
struct store_set;
void	 binding_form_combined(const struct store_set *, unsigned char **,
	    size_t *);
int	 binding_form_pfx(const struct binding *, const struct store_set *,
	    unsigned char **, size_t *, struct cv_err *);
/* The leaf a form's file holds (a PFX is read with its password file). */
int	 binding_form_sha1(const char *path, const char *password_file,
	    char sha1[41], time_t *not_before, time_t *not_after,
	    struct cv_err *);

/* The sibling a live file is moved to while renewal id runs. */
char	*binding_aside_path(const char *live, int64_t id);
/*
 * Every file operation below on a binding's deploy paths goes through its
 * directory, opened once per file by fsutil_open_deploy_dir: the service
 * user may own it or one above it, so a symlink on the way is followed
 * only where only root can have put it.  binding_check_dirs opens each
 * now and says which is refused (one line naming it and the reason): a
 * renewal asks before it stops anything.
 */
int	 binding_check_dirs(const struct binding *, struct cv_err *);
/* Moves each live file aside (never deletes).  Doing it twice is a no-op. */
int	 binding_unbind(const struct binding *, int64_t id, struct cv_err *);
/* Writes cert, key and chain of the store's set sha1, and the combined
 * and PKCS#12 forms, atomically with owner and mode (files holding the
 * key get the binding's mode). */
int	 binding_bind(const struct binding *, const struct store *,
	    const char *sha1, struct cv_err *);
/* Puts the files moved aside back.  Twice is a no-op. */
int	 binding_restore(const struct binding *, int64_t id, struct cv_err *);
/* Deletes the files moved aside by renewals but the keep newest (by the
 * time they were moved aside) of each live file; the set of renewal
 * current is never deleted. */
void	 binding_prune_aside(const struct binding *, int keep,
	    int64_t current);
/* Thumbprint of the leaf in cert_file ("" with err if none). */
int	 binding_deployed_sha1(const struct binding *, char sha1[41],
	    time_t *not_before, time_t *not_after, struct cv_err *);

#endif
