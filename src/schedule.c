#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "schedule.h"
#include "timeutil.h"
#include "xmalloc.h"

static const char *sched_days[7] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat" };

static int
sched_day(const char **pp)
{
	const char	*p = *pp;
	int		 i;

	for (i = 0; i < 7; i++)
		if (strncasecmp(p, sched_days[i], 3) == 0 &&
		    !isalpha((unsigned char)p[3])) {
			*pp = p + 3;
			return i;
		}
	return -1;
}

static int
sched_hhmm(const char **pp, int *min)
{
	const char	*p = *pp;
	int		 h, m;

	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
	    p[2] != ':' || !isdigit((unsigned char)p[3]) ||
	    !isdigit((unsigned char)p[4]))
		return -1;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	m = (p[3] - '0') * 10 + (p[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*min = h * 60 + m;
	*pp = p + 5;
	return 0;
}

static const char *
sched_skip(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int
sched_window_parse(const char *s, struct sched_window *w, char *err,
    size_t errlen)
{
	struct sched_span	*sp;
	const char		*p = s;
	int			 a, b, i;

	memset(w, 0, sizeof(*w));
	for (;;) {
		p = sched_skip(p);
		if (*p == '\0')
			break;
		if (w->n == SCHED_MAX_SPANS) {
			snprintf(err, errlen, "more than %d spans",
			    SCHED_MAX_SPANS);
			return -1;
		}
		sp = &w->v[w->n];
		memset(sp, 0, sizeof(*sp));
		while (isalpha((unsigned char)*p)) {
			if ((a = sched_day(&p)) == -1)
				goto bad_day;
			b = a;
			if (*p == '-') {
				p++;
				if ((b = sched_day(&p)) == -1)
					goto bad_day;
			}
			for (i = a;; i = (i + 1) % 7) {
				sp->days |= 1u << i;
				if (i == b)
					break;
			}
			if (*p == ',')
				p++;
			p = sched_skip(p);
		}
		if (sp->days == 0)
			sp->days = 0x7f;
		if (sched_hhmm(&p, &sp->start) == -1 || *p++ != '-' ||
		    sched_hhmm(&p, &sp->end) == -1) {
			snprintf(err, errlen, "'%s': expected DAYS HH:MM-HH:MM "
			    "(example: Sat,Sun 01:00-05:00; Mon-Fri "
			    "22:00-02:00)", s);
			return -1;
		}
		if (sp->start == 24 * 60)
			goto bad_time;
		if (sp->start == sp->end) {
			snprintf(err, errlen, "'%s': a span that opens and "
			    "closes at the same minute never opens", s);
			return -1;
		}
		w->n++;
		p = sched_skip(p);
		if (*p == ';')
			p++;
		else if (*p != '\0') {
			snprintf(err, errlen, "'%s': spans are separated by "
			    "';'", s);
			return -1;
		}
	}
	if (w->n == 0) {
		snprintf(err, errlen, "empty window");
		return -1;
	}
	return 0;
bad_day:
	snprintf(err, errlen, "'%s': days are Mon, Tue, Wed, Thu, Fri, Sat, "
	    "Sun, lists (Sat,Sun) or ranges (Mon-Fri)", s);
	return -1;
bad_time:
	snprintf(err, errlen, "'%s': a span cannot open at 24:00", s);
	return -1;
}

int
sched_policy_parse(const char *s, struct sched_policy *p, char *err,
    size_t errlen)
{
	char	*end;
	long	 n, d;

	memset(p, 0, sizeof(*p));
	if (strchr(s, '/') != NULL) {
		n = strtol(s, &end, 10);
		if (end == s || *end != '/')
			goto bad;
		d = strtol(end + 1, &end, 10);
		if (*end != '\0' || n < 1 || d < 2 || n >= d || d > 1000)
			goto bad;
		p->num = (int)n;
		p->den = (int)d;
		return 0;
	}
	if (timeutil_parse_duration(s, &p->before) == -1 || p->before <= 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is neither a duration (30d) nor a "
	    "fraction of the lifetime below 1 (1/3)", s);
	return -1;
}

/*
 * Runs the C library's conversions in zone tz: TZ is set and tzset()
 * called around them, then the previous TZ restored.  Loop thread only.
 */
struct sched_tz {
	char	*saved;
	int	 had;
	int	 set;
};

static void
sched_tz_enter(struct sched_tz *z, const char *tz)
{
	const char	*old;

	memset(z, 0, sizeof(*z));
	if (tz == NULL || *tz == '\0')
		return;
	old = getenv("TZ");
	z->had = old != NULL;
	z->saved = old ? xstrdup(old) : NULL;
	z->set = 1;
	setenv("TZ", tz, 1);
	tzset();
}

static void
sched_tz_leave(struct sched_tz *z)
{
	if (!z->set)
		return;
	if (z->had)
		setenv("TZ", z->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(z->saved);
}

int
sched_tz_valid(const char *tz)
{
	char	path[512];

	if (tz == NULL || *tz == '\0')
		return 1;
	if (tz[0] == '/' || strstr(tz, "..") != NULL)
		return 0;
	/* glibc silently reads an unknown zone as UTC: look for the file. */
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	if (access(path, R_OK) == 0)
		return 1;
	return strcmp(tz, "UTC") == 0;
}

time_t
sched_due(time_t nb, time_t na, const struct sched_policy *p)
{
	int64_t	life = (int64_t)na - (int64_t)nb, due;

	if (life < 0)
		life = 0;
	if (p != NULL && p->before > 0) {
		/* Never in the first tenth of the lifetime: a renew_before
		 * longer than what the issuer gives would renew forever. */
		due = (int64_t)na - p->before;
		if (due < (int64_t)nb + life / 10)
			due = (int64_t)nb + life / 10;
		return (time_t)due;
	}
	if (p != NULL && p->den > 0)
		return (time_t)((int64_t)na - life * p->num / p->den);
	return (time_t)((int64_t)na - (life < SCHED_SHORT_LIFETIME ? life / 2 :
	    life / 3));
}

/* Local midnight-relative minute of day y-m-d (+ days), via mktime. */
static time_t
sched_local(const struct tm *day, int add_days, int minute)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = day->tm_year;
	tm.tm_mon = day->tm_mon;
	tm.tm_mday = day->tm_mday + add_days;
	tm.tm_hour = minute / 60;
	tm.tm_min = minute % 60;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

int
sched_next_window(const struct sched_window *w, const char *tz, time_t t,
    time_t *open, time_t *close)
{
	struct sched_tz	 z;
	struct tm	 now, noon;
	time_t		 o, c, best_o = 0, best_c = 0, x;
	size_t		 i;
	int		 k, found = 0;

	if (w == NULL || w->n == 0) {
		*open = t;
		*close = t + (time_t)100 * 365 * 86400;
		return 0;
	}
	sched_tz_enter(&z, tz);
	localtime_r(&t, &now);
	/* From yesterday (a span crossing midnight may still be open). */
	for (k = -1; k <= 8; k++) {
		x = sched_local(&now, k, 12 * 60);
		localtime_r(&x, &noon);
		for (i = 0; i < w->n; i++) {
			if (!(w->v[i].days & (1u << noon.tm_wday)))
				continue;
			o = sched_local(&now, k, w->v[i].start);
			c = w->v[i].end > w->v[i].start ?
			    sched_local(&now, k, w->v[i].end) :
			    sched_local(&now, k + 1, w->v[i].end);
			if (c <= o || c <= t)
				continue;
			if (!found || o < best_o ||
			    (o == best_o && c > best_c)) {
				best_o = o;
				best_c = c;
				found = 1;
			}
		}
	}
	sched_tz_leave(&z);
	if (!found)
		return -1;
	*open = best_o;
	*close = best_c;
	return 0;
}

time_t
sched_moment(const struct sched_window *w, const char *tz, time_t due,
    time_t not_after, int64_t emergency_before, time_t now, uint64_t rnd,
    int *emergency)
{
	time_t	start = due > now ? due : now, o, c, m;

	*emergency = 0;
	if (sched_next_window(w, tz, start, &o, &c) == -1) {
		*emergency = 1;
		return start;
	}
	if ((int64_t)not_after - emergency_before < (int64_t)o) {
		*emergency = 1;
		return start;
	}
	if (w == NULL || w->n == 0)
		return start;
	/*
	 * A point of the whole occurrence, so that evaluating again later
	 * picks the same one; when it has passed (due came mid-window, or
	 * the daemon was down), now.
	 */
	m = o + (time_t)(rnd % (uint64_t)(c - o));
	return m < start ? start : m;
}

int64_t
sched_backoff(int attempt, uint64_t rnd)
{
	int64_t	d = SCHED_BACKOFF_BASE;
	int	i;

	for (i = 1; i < attempt && d < SCHED_BACKOFF_CAP; i++)
		d *= 2;
	if (d > SCHED_BACKOFF_CAP)
		d = SCHED_BACKOFF_CAP;
	return d + (int64_t)(rnd % (uint64_t)(d / 4 + 1));
}

uint64_t
sched_hash(const char *a, const char *b)
{
	uint64_t	h = 1469598103934665603ull;
	const char	*s;

	for (s = a ? a : ""; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (s = b ? b : ""; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	/* Finalise (splitmix64) so that close inputs spread. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}
