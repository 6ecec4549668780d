/* Logging for the daemon (stderr or syslog) and the CLI (stderr). */
#ifndef CV_LOG_H
#define CV_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

void	log_init(const char *progname, int use_syslog, enum log_level);
void	log_set_level(enum log_level);
int	log_parse_level(const char *, enum log_level *);
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A message with a stable message id (journal MESSAGE_ID / syslog tag). */
void	log_msgid(enum log_level, const char *msgid, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
