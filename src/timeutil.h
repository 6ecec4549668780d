/* Durations, timestamps and the clock. */
#ifndef CV_TIMEUTIL_H
#define CV_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* RFC 3339 UTC, "2026-11-22T07:30:00Z"; buf must hold 21 bytes. */
#define TIMEUTIL_RFC3339_LEN	21
char	*timeutil_rfc3339(time_t, char *buf, size_t len);
/* Parses RFC 3339 ("...Z" or "...+hh:mm"), or a plain date "YYYY-MM-DD". */
int	 timeutil_parse_rfc3339(const char *, time_t *);
/*
 * Parses a duration: a sequence of <number><unit> with units
 * s, m, h, d, w ("30d", "1d12h", "90m").  A bare number means seconds.
 */
int	 timeutil_parse_duration(const char *, int64_t *seconds);
/*
 * The same, but a number without its unit ("30", "1d12") is refused
 * with -2 (-1: not a duration at all), so that callers can print
 * TIMEUTIL_UNIT_HINT.  Everything a user types (options, the config
 * file, bindings, issuers) goes through this one.
 */
int	 timeutil_parse_duration_unit(const char *, int64_t *seconds);
#define TIMEUTIL_UNIT_HINT	"add a unit (30d, 12h, 90m, 45s)"
/* Formats a duration the way people read it: "3d 4h", "12m", "45s". */
char	*timeutil_fmt_duration(int64_t seconds, char *buf, size_t len);
/*
 * Wall-clock now.  Test builds (CV_TEST_HOOKS) honour CERTVIGIL_TEST_NOW
 * (RFC 3339 or epoch seconds) so schedule tests run at a fixed time.
 */
time_t	 timeutil_now(void);
/* Whole days from now to t, rounded toward minus infinity. */
int64_t	 timeutil_days_left(time_t t, time_t now);

#endif
