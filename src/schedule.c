#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cverr.h"
#include "fsutil.h"
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
	switch (timeutil_parse_duration_unit(s, &p->before)) {
	case -2:
		snprintf(err, errlen, "'%s': " TIMEUTIL_UNIT_HINT, s);
		return -1;
	case -1:
		goto bad;
	}
	if (p->before <= 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is neither a duration (30d) nor a "
	    "fraction of the lifetime below 1 (1/3)", s);
	return -1;
}

/*
 * Named zones are read from their TZif file (RFC 8536) once, when the
 * configuration is loaded, and converted here with their transitions and
 * the POSIX TZ rule of the footer (for times after the last transition).
 * Setting TZ around localtime_r/mktime, as this file once did, changes
 * the process environment under the thread pool, whose time functions
 * read it.  The daemon's own local time (no zone) is libc's localtime_r,
 * which only reads TZ.
 */
#define SCHED_ZONEINFO		"/usr/share/zoneinfo"
/* The largest zone file is under 4 KiB (fat, with 2037 transitions). */
#define SCHED_ZONE_MAX_FILE	(256 * 1024)
#define SCHED_ZONE_MAX_TRANS	4096
#define SCHED_ZONE_MAX_TYPES	256

/* One end of daylight time in a POSIX TZ rule: Mm.w.d, Jn or n. */
struct sched_zone_date {
	char		kind;		/* 'M', 'J' or 'n' */
	int		m, w, d;	/* 'M': month, week 1-5, weekday */
	int		n;		/* 'J': 1-365, 'n': 0-365 */
	int32_t		secs;		/* local time of day; may be < 0 */
};

struct sched_zone {
	int64_t			*trans;		/* UTC, ascending */
	unsigned char		*idx;		/* type of each transition */
	size_t			 ntrans;
	int32_t			*off;		/* seconds east of UTC */
	size_t			 ntypes;
	int			 has_rule;
	int			 has_dst;
	int32_t			 std_off, dst_off;
	struct sched_zone_date	 dst_start, dst_end;
};

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t
sched_days_from_civil(int64_t y, int m, int d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
sched_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t
sched_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* 0 Sunday ... 6 Saturday (1970-01-01 was a Thursday). */
static int
sched_weekday(int64_t days)
{
	return (int)(((days % 7) + 11) % 7);
}

static int
sched_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds (since the epoch, as if local were UTC) of a rule date. */
static int64_t
sched_zone_date_local(const struct sched_zone_date *r, int64_t y)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int64_t		days;
	int		day, len;

	if (r->kind == 'M') {
		days = sched_days_from_civil(y, r->m, 1);
		day = 1 + (r->d - sched_weekday(days) + 7) % 7 +
		    (r->w - 1) * 7;
		len = mdays[r->m - 1] + (r->m == 2 && sched_leap(y));
		while (day > len)
			day -= 7;
		days += day - 1;
	} else if (r->kind == 'J') {
		/* February 29 is never counted. */
		days = sched_days_from_civil(y, 1, 1) + r->n - 1 +
		    (sched_leap(y) && r->n >= 60);
	} else
		days = sched_days_from_civil(y, 1, 1) + r->n;
	return days * 86400 + r->secs;
}

static int32_t
sched_zone_rule_off(const struct sched_zone *z, int64_t t)
{
	int64_t		y, s, e;
	int		m, d;

	if (!z->has_dst)
		return z->std_off;
	sched_civil_from_days(sched_floordiv(t + z->std_off, 86400), &y, &m,
	    &d);
	/* Daylight time starts at a standard local time, ends at a
	 * daylight one. */
	s = sched_zone_date_local(&z->dst_start, y) - z->std_off;
	e = sched_zone_date_local(&z->dst_end, y) - z->dst_off;
	if (s < e)
		return t >= s && t < e ? z->dst_off : z->std_off;
	return t >= e && t < s ? z->std_off : z->dst_off;
}

/* Seconds east of UTC at t: the zone's, or libc's local time. */
static int32_t
sched_zone_offset(const struct sched_zone *z, time_t t)
{
	struct tm	tm;
	size_t		lo, hi, mid;

	if (z == NULL) {
		if (localtime_r(&t, &tm) == NULL)
			return 0;
		return (int32_t)tm.tm_gmtoff;
	}
	if (z->ntrans == 0 || (int64_t)t < z->trans[0])
		return z->ntrans == 0 && z->has_rule ?
		    sched_zone_rule_off(z, t) : z->off[0];
	if ((int64_t)t >= z->trans[z->ntrans - 1] && z->has_rule)
		return sched_zone_rule_off(z, t);
	lo = 0;
	hi = z->ntrans;			/* trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= (int64_t)t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[z->idx[lo]];
}

/*
 * The instant a local time (seconds since the epoch as if local were UTC)
 * names.  Twice-occurring times (autumn) are the earlier instant; a time
 * the change skips (spring) is read with the offset before the change, so
 * 02:30 becomes 03:30 daylight time -- what mktime() with tm_isdst = -1
 * did here before.
 */
static time_t
sched_zone_utc(const struct sched_zone *z, int64_t l)
{
	int32_t		ob = sched_zone_offset(z, (time_t)(l - 86400));
	int32_t		oa = sched_zone_offset(z, (time_t)(l + 86400));
	int64_t		c1 = l - ob, c2 = l - oa;
	int		ok1, ok2;

	ok1 = c1 + sched_zone_offset(z, (time_t)c1) == l;
	ok2 = c2 + sched_zone_offset(z, (time_t)c2) == l;
	if (ok1 && ok2)
		return (time_t)(c1 < c2 ? c1 : c2);
	if (ok2)
		return (time_t)c2;
	return (time_t)c1;
}

static uint32_t
sched_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* [+-]hh[:mm[:ss]]; hours up to 167 (RFC 8536 section 3.3.1). */
static int
sched_tz_hms(const char **pp, int32_t *out)
{
	const char	*p = *pp;
	long		 v[3] = { 0, 0, 0 };
	int		 i, neg = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v[i] = *p++ - '0';
		if (isdigit((unsigned char)*p))
			v[i] = v[i] * 10 + (*p++ - '0');
		if (i == 0 && isdigit((unsigned char)*p))
			v[i] = v[i] * 10 + (*p++ - '0');
		if (*p != ':' || i == 2)
			break;
		p++;
	}
	if (v[0] > 167 || v[1] > 59 || v[2] > 59)
		return -1;
	*out = (int32_t)((v[0] * 3600 + v[1] * 60 + v[2]) * (neg ? -1 : 1));
	*pp = p;
	return 0;
}

static int
sched_tz_name(const char **pp)
{
	const char	*p = *pp;

	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		if (*p++ != '>')
			return -1;
	} else {
		while (isalpha((unsigned char)*p))
			p++;
		if (p - *pp < 3)
			return -1;
	}
	*pp = p;
	return 0;
}

static int
sched_tz_num(const char **pp, int lo, int hi, int *out)
{
	long	v = 0;

	if (!isdigit((unsigned char)**pp))
		return -1;
	while (isdigit((unsigned char)**pp) && v <= hi)
		v = v * 10 + (*(*pp)++ - '0');
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int
sched_tz_date(const char **pp, struct sched_zone_date *r)
{
	const char	*p = *pp;

	memset(r, 0, sizeof(*r));
	r->secs = 2 * 3600;
	if (*p == 'M') {
		p++;
		r->kind = 'M';
		if (sched_tz_num(&p, 1, 12, &r->m) == -1 || *p++ != '.' ||
		    sched_tz_num(&p, 1, 5, &r->w) == -1 || *p++ != '.' ||
		    sched_tz_num(&p, 0, 6, &r->d) == -1)
			return -1;
	} else if (*p == 'J') {
		p++;
		r->kind = 'J';
		if (sched_tz_num(&p, 1, 365, &r->n) == -1)
			return -1;
	} else {
		r->kind = 'n';
		if (sched_tz_num(&p, 0, 365, &r->n) == -1)
			return -1;
	}
	if (*p == '/') {
		p++;
		if (sched_tz_hms(&p, &r->secs) == -1)
			return -1;
	}
	*pp = p;
	return 0;
}

/* The footer: "CET-1CEST,M3.5.0,M10.5.0/3" (offsets west-positive). */
static int
sched_zone_rule(struct sched_zone *z, const char *p)
{
	int32_t		o;

	if (*p == '\0')
		return 0;		/* no rule: the last type stays */
	if (sched_tz_name(&p) == -1 || sched_tz_hms(&p, &o) == -1)
		return -1;
	z->std_off = -o;
	z->has_rule = 1;
	if (*p == '\0')
		return 0;
	if (sched_tz_name(&p) == -1)
		return -1;
	z->has_dst = 1;
	z->dst_off = z->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (sched_tz_hms(&p, &o) == -1)
			return -1;
		z->dst_off = -o;
	}
	/* A rule-less daylight zone is POSIX's US default; zic never
	 * writes one. */
	if (*p++ != ',' || sched_tz_date(&p, &z->dst_start) == -1 ||
	    *p++ != ',' || sched_tz_date(&p, &z->dst_end) == -1 || *p != '\0')
		return -1;
	return 0;
}

/*
 * Parses a TZif file (versions 1 to 4).  Every count is checked against
 * the length before a byte is read.
 */
static int
sched_zone_parse(struct sched_zone *z, const unsigned char *d, size_t len)
{
	const unsigned char	*p = d, *end = d + len, *nl;
	uint32_t		 c[6];	/* isut, isstd, leap, time, type, char */
	size_t			 tsz = 4, need, i;
	char			 foot[128];
	int			 v;

	if (len < 44 || memcmp(d, "TZif", 4) != 0)
		return -1;
	v = d[4];
	for (;;) {
		for (i = 0; i < 6; i++)
			c[i] = sched_be32(p + 20 + 4 * i);
		if (c[3] > SCHED_ZONE_MAX_TRANS || c[4] == 0 ||
		    c[4] > SCHED_ZONE_MAX_TYPES || c[2] > 1000 ||
		    c[5] > 10000 || c[0] > c[4] || c[1] > c[4])
			return -1;
		need = (size_t)c[3] * (tsz + 1) + (size_t)c[4] * 6 + c[5] +
		    (size_t)c[2] * (tsz + 4) + c[1] + c[0];
		p += 44;
		if ((size_t)(end - p) < need)
			return -1;
		if (v == 0 || tsz == 8)
			break;
		/* Version 2+: skip the 32-bit data, read the 64-bit part. */
		p += need;
		if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
			return -1;
		tsz = 8;
	}
	if (c[2] != 0)
		return -1;		/* "right/" zones count leap seconds */
	z->ntrans = c[3];
	z->ntypes = c[4];
	z->trans = xcalloc(z->ntrans + 1, sizeof(*z->trans));
	z->idx = xcalloc(z->ntrans + 1, 1);
	z->off = xcalloc(z->ntypes, sizeof(*z->off));
	for (i = 0; i < z->ntrans; i++, p += tsz) {
		z->trans[i] = tsz == 8 ? (int64_t)((uint64_t)sched_be32(p) <<
		    32 | sched_be32(p + 4)) : (int32_t)sched_be32(p);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return -1;
	}
	for (i = 0; i < z->ntrans; i++, p++)
		if ((z->idx[i] = *p) >= z->ntypes)
			return -1;
	for (i = 0; i < z->ntypes; i++, p += 6) {
		z->off[i] = (int32_t)sched_be32(p);
		if (z->off[i] < -25 * 3600 || z->off[i] > 26 * 3600)
			return -1;
	}
	p += c[5] + (size_t)c[2] * (tsz + 4) + c[1] + c[0];
	if (tsz == 4 || p >= end || *p != '\n')
		return 0;
	p++;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    (size_t)(nl - p) >= sizeof(foot))
		return -1;
	memcpy(foot, p, (size_t)(nl - p));
	foot[nl - p] = '\0';
	return sched_zone_rule(z, foot);
}

static int
sched_tz_name_ok(const char *tz)
{
	const char	*p;

	if (tz[0] == '/' || strstr(tz, "..") != NULL || strlen(tz) > 200)
		return 0;
	for (p = tz; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return 0;
	return 1;
}

int
sched_zone_load(const char *tz, struct sched_zone **zp, char *err,
    size_t errlen)
{
	struct sched_zone	*z = NULL;
	struct cv_err		 e;
	unsigned char		*data = NULL;
	size_t			 len;
	char			 path[512];
	int			 rc = -1;

	*zp = NULL;
	if (tz == NULL || *tz == '\0')
		return 0;
	if (!sched_tz_name_ok(tz)) {
		snprintf(err, errlen, "'%s' is not a zone name", tz);
		goto out;
	}
	z = xcalloc(1, sizeof(*z));
	snprintf(path, sizeof(path), "%s/%s", SCHED_ZONEINFO, tz);
	memset(&e, 0, sizeof(e));
	if (fsutil_read_file(path, SCHED_ZONE_MAX_FILE, &data, &len,
	    &e) == -1) {
		if (strcmp(tz, "UTC") == 0) {
			/* No tzdata installed: UTC needs none. */
			z->off = xcalloc(1, sizeof(*z->off));
			z->ntypes = 1;
			*zp = z;
			z = NULL;
			rc = 0;
			goto out;
		}
		snprintf(err, errlen, "'%s': %s", tz, e.msg);
		goto out;
	}
	if (sched_zone_parse(z, data, len) == -1) {
		snprintf(err, errlen, "%s: not a TZif zone file this daemon "
		    "reads", path);
		goto out;
	}
	*zp = z;
	z = NULL;
	rc = 0;
out:
	sched_zone_free(z);
	free(data);
	return rc;
}

void
sched_zone_free(struct sched_zone *z)
{
	if (z == NULL)
		return;
	free(z->trans);
	free(z->idx);
	free(z->off);
	free(z);
}

int32_t
sched_zone_utcoff(const struct sched_zone *z, time_t t)
{
	return sched_zone_offset(z, t);
}

int
sched_tz_valid(const char *tz)
{
	struct sched_zone	*z;
	char			 err[256];

	if (sched_zone_load(tz, &z, err, sizeof(err)) == -1)
		return 0;
	sched_zone_free(z);
	return 1;
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

/* The instant of minute of local day days (since the epoch). */
static time_t
sched_local(const struct sched_zone *z, int64_t days, int minute)
{
	return sched_zone_utc(z, days * 86400 + (int64_t)minute * 60);
}

int
sched_next_window_in(const struct sched_window *w, const struct sched_zone *z,
    time_t t, time_t *open, time_t *close)
{
	time_t		 o, c, best_o = 0, best_c = 0;
	int64_t		 today, day;
	size_t		 i;
	int		 k, found = 0;

	if (w == NULL || w->n == 0) {
		*open = t;
		*close = t + (time_t)100 * 365 * 86400;
		return 0;
	}
	today = sched_floordiv((int64_t)t + sched_zone_offset(z, t), 86400);
	/* From yesterday (a span crossing midnight may still be open). */
	for (k = -1; k <= 8; k++) {
		day = today + k;
		for (i = 0; i < w->n; i++) {
			if (!(w->v[i].days & (1u << sched_weekday(day))))
				continue;
			o = sched_local(z, day, w->v[i].start);
			c = w->v[i].end > w->v[i].start ?
			    sched_local(z, day, w->v[i].end) :
			    sched_local(z, day + 1, w->v[i].end);
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
	if (!found)
		return -1;
	*open = best_o;
	*close = best_c;
	return 0;
}

int
sched_next_window(const struct sched_window *w, const char *tz, time_t t,
    time_t *open, time_t *close)
{
	struct sched_zone	*z;
	char			 err[256];
	int			 rc;

	if (sched_zone_load(tz, &z, err, sizeof(err)) == -1)
		return -1;
	rc = sched_next_window_in(w, z, t, open, close);
	sched_zone_free(z);
	return rc;
}

time_t
sched_moment_in(const struct sched_window *w, const struct sched_zone *z,
    time_t due, time_t not_after, int64_t emergency_before, time_t now,
    uint64_t rnd, int *emergency)
{
	time_t	start = due > now ? due : now, o, c, m;

	*emergency = 0;
	if (sched_next_window_in(w, z, start, &o, &c) == -1) {
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

time_t
sched_moment(const struct sched_window *w, const char *tz, time_t due,
    time_t not_after, int64_t emergency_before, time_t now, uint64_t rnd,
    int *emergency)
{
	struct sched_zone	*z = NULL;
	char			 err[256];
	time_t			 m;

	/* An unreadable zone is the daemon's local time here; the daemon
	 * refuses it at config load. */
	(void)sched_zone_load(tz, &z, err, sizeof(err));
	m = sched_moment_in(w, z, due, not_after, emergency_before, now, rnd,
	    emergency);
	sched_zone_free(z);
	return m;
}

/*
 * Issue 17, ARI: the measure of [s, e) inside the window's occurrences,
 * and (at >= 0) the instant at offset at of that measure, in *m.
 */
static int64_t
sched_ari_walk(const struct sched_window *w, const struct sched_zone *z,
    time_t s, time_t e, int64_t at, time_t *m)
{
	int64_t	total = 0, len;
	time_t	t = s, o, c, lo, hi;
	int	i;

	/* An ARI window spans days, windows open weekly: 64 is plenty. */
	for (i = 0; i < 64 && t < e; i++) {
		if (sched_next_window_in(w, z, t, &o, &c) == -1 || o >= e)
			break;
		lo = o > t ? o : t;
		hi = c < e ? c : e;
		len = (int64_t)hi - (int64_t)lo;
		if (at >= 0 && at < total + len) {
			*m = lo + (time_t)(at - total);
			return total + len;
		}
		total += len;
		t = c;
	}
	return total;
}

time_t
sched_ari_moment_in(const struct sched_window *w,
    const struct sched_zone *z, time_t start, time_t end, time_t now,
    uint64_t rnd, int *emergency)
{
	time_t	o, c, m = now;
	int64_t	total;

	*emergency = 0;
	if (end <= start)
		end = start + 1;
	/*
	 * A point of the whole intersection, whatever now is, so that
	 * evaluating again later picks the same one.  When it has passed,
	 * the next instant of the intersection from now.
	 */
	total = sched_ari_walk(w, z, start, end, -1, NULL);
	if (total > 0)
		(void)sched_ari_walk(w, z, start, end,
		    (int64_t)(rnd % (uint64_t)total), &m);
	if (total > 0 && m >= now)
		return m;
	if (sched_next_window_in(w, z, now > start ? now : start, &o,
	    &c) == 0 && o < end)
		return o > now ? o : now;
	/* The CA wants it gone before a window opens: now, unless a
	 * window is open now (a past ARI window in an open window). */
	if (sched_next_window_in(w, z, now, &o, &c) == -1 || o > now)
		*emergency = 1;
	return now;
}

time_t
sched_ari_moment(const struct sched_window *w, const char *tz,
    time_t start, time_t end, time_t now, uint64_t rnd, int *emergency)
{
	struct sched_zone	*z = NULL;
	char			 err[256];
	time_t			 m;

	(void)sched_zone_load(tz, &z, err, sizeof(err));
	m = sched_ari_moment_in(w, z, start, end, now, rnd, emergency);
	sched_zone_free(z);
	return m;
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
