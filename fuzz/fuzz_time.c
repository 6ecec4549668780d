/*
 * Durations and timestamps: the input, as a string, through the RFC 3339
 * and duration parsers, and every value they accept back through the
 * formatters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "timeutil.h"

FUZZ_DECLARE(time);

FUZZ_INIT(time)
{
	return 0;
}

FUZZ_ENTRY(time)
{
	char	*s, buf[64];
	int64_t	 d;
	time_t	 t;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (timeutil_parse_rfc3339(s, &t) == 0) {
		timeutil_rfc3339(t, buf, sizeof(buf));
		(void)timeutil_days_left(t, 1700000000);
	}
	if (timeutil_parse_duration(s, &d) == 0) {
		timeutil_fmt_duration(d, buf, sizeof(buf));
		timeutil_fmt_duration(-d, buf, sizeof(buf));
	}
	free(s);
	return 0;
}
