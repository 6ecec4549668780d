#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char	*log_progname = "certvigil";
static int		 log_syslog;
static enum log_level	 log_level = LOG_LVL_INFO;

void
log_init(const char *progname, int use_syslog, enum log_level level)
{
	log_progname = progname;
	log_syslog = use_syslog;
	log_level = level;
	if (use_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void
log_vwrite(enum log_level level, const char *msgid, const char *fmt,
    va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error", "warning", "info", "debug" };
	char	buf[2048];

	if (level > log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_syslog) {
		if (msgid != NULL)
			syslog(prio[level], "[%s] %s", msgid, buf);
		else
			syslog(prio[level], "%s", buf);
		return;
	}
	if (msgid != NULL)
		fprintf(stderr, "%s: %s: [%s] %s\n", log_progname, tag[level],
		    msgid, buf);
	else
		fprintf(stderr, "%s: %s: %s\n", log_progname, tag[level], buf);
}

#define LOG_FN(name, level)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
	va_start(ap, fmt);					\
	log_vwrite(level, NULL, fmt, ap);			\
	va_end(ap);						\
}
LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
log_msgid(enum log_level level, const char *msgid, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(level, msgid, fmt, ap);
	va_end(ap);
}
