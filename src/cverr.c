#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cverr.h"

int
cv_err_set(struct cv_err *e, const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
cv_err_prefix(struct cv_err *e, const char *fmt, ...)
{
	char	old[sizeof(e->msg)];
	size_t	n, m;
	va_list	ap;

	if (e == NULL)
		return;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg) - 2, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	memcpy(e->msg + n, ": ", 2);
	n += 2;
	m = strnlen(old, sizeof(old));
	if (m > sizeof(e->msg) - 1 - n)
		m = sizeof(e->msg) - 1 - n;
	memcpy(e->msg + n, old, m);
	e->msg[n + m] = '\0';
}
