#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "xmalloc.h"

/* The longest escape one input byte can become ("\\x1b"). */
#define LOG_ESC_MAX	4

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

/*
 * The length of the well-formed UTF-8 sequence at s (n bytes left) and
 * its code point, or 0: overlong forms, surrogates and code points past
 * U+10FFFF are not UTF-8.
 */
static size_t
log_utf8(const unsigned char *s, size_t n, unsigned int *cp)
{
	unsigned int	c = s[0], min;
	size_t		len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

char *
log_escape_buf(const char *src, char *buf, size_t len)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 n = strlen(src), off = 0, k;
	unsigned int		 cp;
	char			 esc[8];

	while (n > 0) {
		if ((k = log_utf8(s, n, &cp)) == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", s[0]);
			k = 1;
		} else if (cp == '\n' || cp == '\r' || cp == '\t')
			snprintf(esc, sizeof(esc), "\\%c",
			    cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't');
		else if (cp < 0x20 || cp == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", cp);
		else if (cp >= 0x80 && cp <= 0x9f)
			snprintf(esc, sizeof(esc), "\\u%04x", cp);
		else {
			memcpy(esc, s, k);
			esc[k] = '\0';
		}
		if (off + strlen(esc) + 1 > len)
			break;
		memcpy(buf + off, esc, strlen(esc));
		off += strlen(esc);
		s += k;
		n -= k;
	}
	buf[off] = '\0';
	return buf;
}

char *
log_escape(const char *s)
{
	size_t	len = strlen(s) * LOG_ESC_MAX + 1;

	return log_escape_buf(s, xmalloc(len), len);
}

static void
log_vwrite(enum log_level level, const char *msgid, const char *fmt,
    va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error", "warning", "info", "debug" };
	char	raw[2048], buf[sizeof(raw) * LOG_ESC_MAX];

	if (level > log_level)
		return;
	/*
	 * Escaped as a whole: arguments come from certificates and file
	 * names, and our own formats hold no control characters, so one
	 * message is always one line and a subject cannot forge another.
	 */
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_escape_buf(raw, buf, sizeof(buf));
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
