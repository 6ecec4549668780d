/* The config file (INI) -> struct config.  Every error names FILE:LINE. */
#ifndef CV_CONF_H
#define CV_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cverr.h"
#include "log.h"

#define CONF_DEFAULT_FILE	"/etc/certvigil/certvigil.conf"
#define CONF_DEFAULT_SOCKET	"/run/certvigil/control.sock"
#define CONF_DEFAULT_STATE	"/var/lib/certvigil"
#define CONF_DEFAULT_PIDFILE	"/run/certvigil/certvigild.pid"

enum cert_role {
	ROLE_AUTO = 0,
	ROLE_SERVER,
	ROLE_CLIENT,
	ROLE_CA,
};

struct config_watch {
	char		*name;
	char		**paths;
	size_t		 npaths;
	int		 recursive;
	enum cert_role	 role;
	char		*password_file;
	char		*password;	/* read at load time; freezero'd */
	char		**excludes;
	size_t		 nexcludes;
	int64_t		*alert_before;	/* NULL: the daemon's */
	size_t		 nalert_before;
	char		*expect_sha1;	/* pinned thumbprint, or NULL */
	int		 line;
};

struct binding;
struct issuer;

struct config {
	int			 refs;		/* conf_ref / conf_unref */
	char			*file;
	char			*socket_path;
	mode_t			 socket_mode;
	char			*socket_group;
	char			*admin_group;
	int			 admin_may_run_commands;	/* root's equal */
	char			*state_dir;
	char			*pid_file;
	int			 log_syslog;	/* -1: not set in the file */
	enum log_level		 log_level;
	int64_t			 rescan_interval;
	int64_t			 expiring;
	int			 max_clients;
	int			 reserved_clients;	/* root, admins */
	int			 max_clients_per_uid;
	int			 max_watches;
	int			 max_watches_per_uid;
	int64_t			 client_timeout;
	size_t			 max_request;
	int64_t			 event_retention;	/* seconds */
	int64_t			 event_max_rows;
	int64_t			*alert_before;	/* thresholds, seconds, desc */
	size_t			 nalert_before;
	char			**alert_command;	/* argv, or NULL */
	int64_t			 alert_timeout;
	int64_t			 alert_retry;	/* first retry delay */
	char			*metrics_textfile;
	int64_t			 probe_interval;	/* served watch (issue 15) */
	struct config_watch	*watches;
	size_t			 nwatches;
	/* issue 6: [binding NAME], [client NAME], [issuer NAME] (binding.h,
	 * issuer.h) */
	struct binding		**bindings;
	size_t			 nbindings;
	struct issuer		**issuers;
	size_t			 nissuers;
	/* issue 14: [service NAME] (struct binding, is_service) */
	struct binding		**services;
	size_t			 nservices;
};

/*
 * Loads path.  A missing file is an error only when must_exist is set (the
 * default path may be absent: the daemon then runs with no watches).
 */
int		 conf_load(const char *path, int must_exist, struct config **,
		    struct cv_err *);
void		 conf_free(struct config *);
/* The daemon and in-flight scan work share a config across reloads. */
struct config	*conf_ref(struct config *);
void		 conf_unref(struct config *);
const char	*conf_role_name(enum cert_role);
/* The binding or issuer of that name, or NULL. */
struct binding	*conf_binding(const struct config *, const char *name);
struct issuer	*conf_issuer(const struct config *, const char *name);
int		 conf_parse_role(const char *, enum cert_role *);
/* The [service NAME] section of that name, or NULL (issue 14). */
struct binding	*conf_service(const struct config *, const char *name);
/* Resolves b's service = against cf's [service] sections (binding.h). */
int		 conf_binding_services(const struct config *, struct binding *,
		    struct cv_err *);
/*
 * Parses "30d,14d,7d,1d" into seconds, sorted from largest; -1, or -2
 * when a number lacks its unit.
 */
int		 conf_parse_thresholds(const char *, int64_t **, size_t *);

#endif
