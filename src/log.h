/* Logging for the daemon (stderr or syslog) and the CLI (stderr). */
#ifndef CV_LOG_H
#define CV_LOG_H

#include <stdarg.h>
#include <stddef.h>

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

/*
 * Terminal- and log-safe copies of untrusted text (subjects, SANs, file
 * names): C0 controls, DEL, C1 controls (U+0080..U+009F) and bytes that
 * are not UTF-8 become visible escapes (\n, \t, \r, \x1b, \u009b);
 * printable UTF-8 and backslashes stay as they are.  Every log line is
 * written through it, so a message can never hold a raw newline.
 * log_escape_buf writes at most len bytes (len > 0), never half an
 * escape, and returns buf; log_escape's result is the caller's to free.
 */
char	*log_escape_buf(const char *, char *buf, size_t len);
char	*log_escape(const char *);

#endif
