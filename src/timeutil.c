#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

char *
timeutil_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	/* The year always has four digits: a notAfter of year 1 is
	 * 0001-01-01T00:00:00Z, as RFC 3339 writes it (%Y would say "1"). */
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		snprintf(buf, len, "invalid");
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	return buf;
}

int
timeutil_parse_rfc3339(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*p;
	int		 sign, oh, om;
	long		 off = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%d", &tm);
	if (p == NULL)
		return -1;
	if (*p == '\0')
		goto done;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p = strptime(p + 1, "%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		/*
		 * Exactly "hh:mm": sscanf("%2d") alone accepts "+1:2", and
		 * the p += 6 below then ran past the end of the string
		 * (fuzz/repro/time/offset-short).
		 */
		if (!isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) ||
		    !isdigit((unsigned char)p[5]))
			return -1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 ||
		    om > 59)
			return -1;
		off = sign * (oh * 3600L + om * 60L);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
done:
	*out = timegm(&tm) - off;
	return 0;
}

/*
 * strict: every number needs its unit.  "30" read as 30 seconds made
 * "list --expiring 30" list nothing while the user meant 30 days.
 */
static int
timeutil_duration(const char *s, int64_t *out, int strict)
{
	int64_t		 total = 0, n, mult;
	const char	*p = s;
	char		*end;
	int		 bare = 0;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		n = strtoll(p, &end, 10);
		if (errno != 0 || n < 0)
			return -1;
		switch (*end) {
		case '\0':
			bare = strict;
			mult = 1;
			break;
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default:
			return -1;
		}
		if (n > (INT64_MAX / 4 - total) / mult)
			return -1;
		total += n * mult;
		p = *end == '\0' ? end : end + 1;
	}
	if (bare)
		return -2;
	*out = total;
	return 0;
}

int
timeutil_parse_duration(const char *s, int64_t *out)
{
	return timeutil_duration(s, out, 0);
}

int
timeutil_parse_duration_unit(const char *s, int64_t *out)
{
	return timeutil_duration(s, out, 1);
}

char *
timeutil_fmt_duration(int64_t s, char *buf, size_t len)
{
	const char	*neg = s < 0 ? "-" : "";

	if (s < 0)
		s = -s;
	if (s >= 86400)
		snprintf(buf, len, "%s%lldd %lldh", neg, (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%s%lldh %lldm", neg, (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%s%lldm", neg, (long long)(s / 60));
	else
		snprintf(buf, len, "%s%llds", neg, (long long)s);
	return buf;
}

time_t
timeutil_now(void)
{
#ifdef CV_TEST_HOOKS
	const char	*fake = getenv("CERTVIGIL_TEST_NOW");
	time_t		 t;
	char		*end;

	if (fake != NULL && *fake != '\0') {
		/* "+SECONDS"/"-SECONDS": a clock that runs, shifted. */
		if (fake[0] == '+' || fake[0] == '-')
			return time(NULL) + (time_t)strtoll(fake, NULL, 10);
		if (timeutil_parse_rfc3339(fake, &t) == 0)
			return t;
		t = (time_t)strtoll(fake, &end, 10);
		if (*end == '\0')
			return t;
	}
#endif
	return time(NULL);
}

int64_t
timeutil_days_left(time_t t, time_t now)
{
	int64_t	d = (int64_t)t - (int64_t)now;

	if (d >= 0)
		return d / 86400;
	return -((-d + 86399) / 86400);
}
