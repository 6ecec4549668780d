/*
 * When to renew: pure functions of a policy, a window, a time zone and a
 * clock.  Nothing here reads the clock or changes global state; a named
 * zone is read from its TZif file by sched_zone_load() (config load) and
 * converted without the C library (no TZ, no tzset: safe on any thread).
 * The daemon's own local time (no zone) is localtime_r's.  Unit-tested
 * with fixed clocks in tests/check_schedule.c.
 */
#ifndef CV_SCHEDULE_H
#define CV_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SCHED_MAX_SPANS		16
/* Lifetimes under this renew at half their life by default. */
#define SCHED_SHORT_LIFETIME	(10 * 86400)
#define SCHED_EMERGENCY_DEFAULT	(48 * 3600)
/* Retries: 5 minutes, doubling, capped at 6 hours, plus up to 25 % jitter. */
#define SCHED_BACKOFF_BASE	300
#define SCHED_BACKOFF_CAP	(6 * 3600)
/* Clocks may differ this much: a notBefore later than now + this is a
 * certificate not valid yet (issue 12 item 10). */
#define SCHED_CLOCK_SKEW	300

/* One "Sat,Sun 01:00-05:00": days as bits (bit 0 Sunday ... bit 6 Saturday),
 * minutes after local midnight; end <= start crosses midnight. */
struct sched_span {
	unsigned	days;
	int		start;
	int		end;
};

/* n == 0: always open. */
struct sched_window {
	struct sched_span	v[SCHED_MAX_SPANS];
	size_t			n;
};

/* renew_before: a fixed time before expiry, or num/den of the lifetime
 * (den == 0: the default, 1/3, or 1/2 for short lifetimes). */
struct sched_policy {
	int64_t		before;		/* > 0: seconds */
	int		num;
	int		den;
};

/* "Sat,Sun 01:00-05:00; Mon-Fri 22:00-02:00".  Returns 0 or -1 with the
 * reason in err. */
int	 sched_window_parse(const char *, struct sched_window *, char *err,
	    size_t errlen);
/* "30d", "1/3".  Returns 0 or -1. */
int	 sched_policy_parse(const char *, struct sched_policy *, char *err,
	    size_t errlen);
/* Whether tz names a readable zone (NULL/"": local time). */
int	 sched_tz_valid(const char *tz);

/* A zone read from /usr/share/zoneinfo (transitions and footer rule). */
struct sched_zone;
/* Reads zone tz ("Europe/Berlin"): 0 with *z set (NULL for NULL or "":
 * the daemon's local time), or -1 with the reason in err.  Reads a small
 * file: call at config load, not per conversion. */
int	 sched_zone_load(const char *tz, struct sched_zone **z, char *err,
	    size_t errlen);
void	 sched_zone_free(struct sched_zone *);
/* Seconds east of UTC at t in z (NULL: the daemon's local time). */
int32_t	 sched_zone_utcoff(const struct sched_zone *, time_t t);

/* The moment a certificate valid from nb to na becomes due. */
time_t	 sched_due(time_t nb, time_t na, const struct sched_policy *);

/*
 * The first window occurrence that is still open at t or opens after it:
 * [*open, *close).  tz NULL or "" means the daemon's local time.  With no
 * spans the window is always open (*open = t, *close = t + 100 years).
 * Returns -1 if no span opens in the next eight days (cannot happen with
 * a parsed window).
 */
int	 sched_next_window_in(const struct sched_window *,
	    const struct sched_zone *, time_t t, time_t *open, time_t *close);
/* The same with the zone named (loaded for this call: tests, tools). */
int	 sched_next_window(const struct sched_window *, const char *tz,
	    time_t t, time_t *open, time_t *close);

/*
 * The moment to renew: the earliest instant >= max(due, now) inside a
 * window, moved to a point chosen by rnd inside that window occurrence so
 * that a fleet does not renew at once (never before due or now).
 * *emergency is set when the certificate would expire before that window
 * opens plus emergency_before: the moment is then max(due, now) (renew
 * now, and alert).
 */
time_t	 sched_moment_in(const struct sched_window *,
	    const struct sched_zone *, time_t due, time_t not_after,
	    int64_t emergency_before, time_t now, uint64_t rnd,
	    int *emergency);
/* The same with the zone named (loaded for this call: tests, tools). */
time_t	 sched_moment(const struct sched_window *, const char *tz,
	    time_t due, time_t not_after, int64_t emergency_before,
	    time_t now, uint64_t rnd, int *emergency);

/*
 * Issue 17, ARI (RFC 9773): the moment to renew inside the CA's
 * suggested window [start, end) (end already capped at notAfter by the
 * caller) intersected with the maintenance window's occurrences: a
 * point chosen by rnd over the whole intersection (stable as now moves);
 * once it has passed, the next instant of the intersection from now.
 * *emergency is set, and now returned, when no occurrence opens before
 * end (the CA wants the certificate gone before the next window) -- a
 * window already past is now, an emergency only outside an open window.
 */
time_t	 sched_ari_moment_in(const struct sched_window *,
	    const struct sched_zone *, time_t start, time_t end, time_t now,
	    uint64_t rnd, int *emergency);
time_t	 sched_ari_moment(const struct sched_window *, const char *tz,
	    time_t start, time_t end, time_t now, uint64_t rnd,
	    int *emergency);

/* Retry delay after the attempt-th failure (1, 2, ...), with jitter. */
int64_t	 sched_backoff(int attempt, uint64_t rnd);

/* A stable pseudo-random number from a string (the binding and its
 * current thumbprint): restarts pick the same moment, hosts differ. */
uint64_t sched_hash(const char *, const char *);

#endif
