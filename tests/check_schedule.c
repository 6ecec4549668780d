/* Window and policy logic with fixed clocks, across DST changes. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schedule.h"
#include "timeutil.h"

static time_t
T(const char *s)
{
	time_t	t;

	ck_assert_msg(timeutil_parse_rfc3339(s, &t) == 0, "bad time %s", s);
	return t;
}

static void
W(const char *s, struct sched_window *w)
{
	char	err[256];

	ck_assert_msg(sched_window_parse(s, w, err, sizeof(err)) == 0, "%s",
	    err);
}

static void
expect_window(const char *win, const char *tz, const char *at,
    const char *open, const char *close)
{
	struct sched_window	w;
	time_t			o, c;
	char			a[32], b[32];

	W(win, &w);
	ck_assert_int_eq(sched_next_window(&w, tz, T(at), &o, &c), 0);
	timeutil_rfc3339(o, a, sizeof(a));
	timeutil_rfc3339(c, b, sizeof(b));
	ck_assert_str_eq(a, open);
	ck_assert_str_eq(b, close);
}

START_TEST(window_parse)
{
	struct sched_window	w;
	char			err[256];

	W("Sat,Sun 01:00-05:00; Mon-Fri 22:00-02:00", &w);
	ck_assert_uint_eq(w.n, 2);
	ck_assert_uint_eq(w.v[0].days, (1u << 6) | 1u);
	ck_assert_uint_eq(w.v[1].days, 0x3e);
	ck_assert_int_eq(w.v[1].start, 22 * 60);
	ck_assert_int_eq(w.v[1].end, 120);
	W("Fri-Mon 00:00-24:00", &w);
	ck_assert_uint_eq(w.v[0].days, (1u << 5) | (1u << 6) | 1u | 2u);
	W("03:00-04:00", &w);
	ck_assert_uint_eq(w.v[0].days, 0x7f);
	ck_assert_int_eq(sched_window_parse("Sat 01:00-01:00", &w, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "never opens"));
	ck_assert_int_eq(sched_window_parse("Sam 01:00-02:00", &w, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sched_window_parse("Sat 1:00-02:00", &w, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sched_window_parse("Sat 01:00-25:00", &w, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sched_window_parse("Sat 01:00-02:00 Sun", &w, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sched_window_parse("", &w, err, sizeof(err)), -1);
}
END_TEST

START_TEST(window_weekend_utc)
{
	/* Wednesday noon: the next Saturday. */
	expect_window("Sat,Sun 01:00-05:00", "UTC", "2025-06-04T12:00:00Z",
	    "2025-06-07T01:00:00Z", "2025-06-07T05:00:00Z");
	/* Inside Saturday's span: that span. */
	expect_window("Sat,Sun 01:00-05:00", "UTC", "2025-06-07T03:00:00Z",
	    "2025-06-07T01:00:00Z", "2025-06-07T05:00:00Z");
	/* Just after it closes: Sunday's. */
	expect_window("Sat,Sun 01:00-05:00", "UTC", "2025-06-07T05:00:00Z",
	    "2025-06-08T01:00:00Z", "2025-06-08T05:00:00Z");
}
END_TEST

START_TEST(window_midnight)
{
	/* Friday 22:00 - Saturday 02:00 is still open on Saturday 01:00. */
	expect_window("Mon-Fri 22:00-02:00", "UTC", "2025-03-29T01:00:00Z",
	    "2025-03-28T22:00:00Z", "2025-03-29T02:00:00Z");
	/* Saturday 03:00: Monday night. */
	expect_window("Mon-Fri 22:00-02:00", "UTC", "2025-03-29T03:00:00Z",
	    "2025-03-31T22:00:00Z", "2025-04-01T02:00:00Z");
	/* Two spans: the sooner wins. */
	expect_window("Sat,Sun 01:00-05:00; Mon-Fri 22:00-02:00", "UTC",
	    "2025-03-29T06:00:00Z", "2025-03-30T01:00:00Z",
	    "2025-03-30T05:00:00Z");
}
END_TEST

START_TEST(window_dst_berlin)
{
	/* 30 March 2025: 02:00 CET becomes 03:00 CEST.  01:00 is CET
	 * (00:00Z), 05:00 is CEST (03:00Z): a three-hour window. */
	expect_window("Sun 01:00-05:00", "Europe/Berlin",
	    "2025-03-29T12:00:00Z", "2025-03-30T00:00:00Z",
	    "2025-03-30T03:00:00Z");
	/* 26 October 2025: 03:00 CEST becomes 02:00 CET.  01:00 CEST is
	 * 23:00Z the day before, 05:00 CET 04:00Z: five hours. */
	expect_window("Sun 01:00-05:00", "Europe/Berlin",
	    "2025-10-25T12:00:00Z", "2025-10-25T23:00:00Z",
	    "2025-10-26T04:00:00Z");
	/* A window inside the skipped hour still opens (at 03:00 CEST). */
	expect_window("Sun 02:00-04:00", "Europe/Berlin",
	    "2025-03-29T12:00:00Z", "2025-03-30T01:00:00Z",
	    "2025-03-30T02:00:00Z");
	/* Crossing midnight in New York over its own change (9 March). */
	expect_window("Sat 23:00-03:00", "America/New_York",
	    "2025-03-08T12:00:00Z", "2025-03-09T04:00:00Z",
	    "2025-03-09T07:00:00Z");
	/* The zone is restored afterwards. */
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

/* Past the zone file's last transition (2037): the footer's POSIX rule. */
START_TEST(window_dst_rule)
{
	expect_window("Sun 01:00-05:00", "Europe/Berlin",
	    "2040-03-24T12:00:00Z", "2040-03-25T00:00:00Z",
	    "2040-03-25T03:00:00Z");
	expect_window("Sun 01:00-05:00", "Europe/Berlin",
	    "2040-10-27T12:00:00Z", "2040-10-27T23:00:00Z",
	    "2040-10-28T04:00:00Z");
	/* Southern hemisphere: daylight time spans the new year. */
	expect_window("Sun 01:00-05:00", "Australia/Sydney",
	    "2045-04-01T00:00:00Z", "2045-04-01T14:00:00Z",
	    "2045-04-01T19:00:00Z");
	expect_window("Sun 01:00-05:00", "Australia/Sydney",
	    "2045-09-30T00:00:00Z", "2045-09-30T15:00:00Z",
	    "2045-09-30T18:00:00Z");
	/* New York's autumn: 01:30 happens twice; the first one. */
	expect_window("Sun 01:30-03:00", "America/New_York",
	    "2025-11-01T12:00:00Z", "2025-11-02T05:30:00Z",
	    "2025-11-02T08:00:00Z");
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

/*
 * The zone reader against the C library's, hour by hour around each
 * change and every 7 hours 13 minutes from 1900 to 2100.  TZ is set here
 * only to ask libc (the test is one thread).
 */
static void
expect_offsets(const char *tz)
{
	struct sched_zone	*z;
	struct tm		 tm;
	char			 err[256];
	time_t			 t;
	int32_t			 a;

	ck_assert_msg(sched_zone_load(tz, &z, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_ptr_nonnull(z);
	setenv("TZ", tz, 1);
	tzset();
	for (t = T("1900-01-01T00:00:00Z"); t < T("2100-01-01T00:00:00Z");
	    t += 7 * 3600 + 13 * 60) {
		localtime_r(&t, &tm);
		a = sched_zone_utcoff(z, t);
		ck_assert_msg(a == tm.tm_gmtoff, "%s at %lld: %d, libc %ld",
		    tz, (long long)t, (int)a, (long)tm.tm_gmtoff);
	}
	unsetenv("TZ");
	tzset();
	sched_zone_free(z);
}

START_TEST(zone_offsets)
{
	struct sched_zone	*z;
	char			 err[256];

	expect_offsets("Europe/Berlin");
	expect_offsets("America/New_York");
	expect_offsets("Australia/Sydney");
	expect_offsets("Asia/Kolkata");
	expect_offsets("America/St_Johns");
	expect_offsets("Pacific/Chatham");
	expect_offsets("Africa/Casablanca");
	/* Local time and refusals. */
	ck_assert_int_eq(sched_zone_load(NULL, &z, err, sizeof(err)), 0);
	ck_assert_ptr_null(z);
	ck_assert_int_eq(sched_zone_load("Europe/Nowhere", &z, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sched_zone_load("Europe/../../etc/passwd", &z, err,
	    sizeof(err)), -1);
	/* A file that is not TZif (tzdata ships it). */
	if (access("/usr/share/zoneinfo/leapseconds", R_OK) == 0) {
		ck_assert_int_eq(sched_zone_load("leapseconds", &z, err,
		    sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "TZif"));
	}
}
END_TEST

START_TEST(tz_valid)
{
	ck_assert(sched_tz_valid("Europe/Berlin"));
	ck_assert(sched_tz_valid(NULL));
	ck_assert(sched_tz_valid("UTC"));
	ck_assert(!sched_tz_valid("Europe/Nowhere"));
	ck_assert(!sched_tz_valid("../../etc/passwd"));
}
END_TEST

START_TEST(policy_due)
{
	struct sched_policy	p;
	char			err[256];
	time_t			nb = T("2025-01-01T00:00:00Z");

	/* Default: a third of 90 days before expiry. */
	ck_assert_int_eq(sched_due(nb, nb + 90 * 86400, NULL),
	    nb + 60 * 86400);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(sched_due(nb, nb + 90 * 86400, &p), nb + 60 * 86400);
	/* Short lifetimes: half. */
	ck_assert_int_eq(sched_due(nb, nb + 6 * 86400, &p), nb + 3 * 86400);
	ck_assert_int_eq(sched_policy_parse("30d", &p, err, sizeof(err)), 0);
	ck_assert_int_eq(sched_due(nb, nb + 90 * 86400, &p), nb + 60 * 86400);
	/* Longer than the lifetime: not in its first tenth. */
	ck_assert_int_eq(sched_due(nb, nb + 20 * 86400, &p), nb + 2 * 86400);
	ck_assert_int_eq(sched_policy_parse("1/2", &p, err, sizeof(err)), 0);
	ck_assert_int_eq(sched_due(nb, nb + 90 * 86400, &p), nb + 45 * 86400);
	ck_assert_int_eq(sched_policy_parse("3/2", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(sched_policy_parse("soon", &p, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(sched_policy_parse("0s", &p, err, sizeof(err)), -1);
	/* "30" is not 30 seconds: it names the missing unit. */
	ck_assert_int_eq(sched_policy_parse("30", &p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'30': add a unit (30d, 12h, 90m, 45s)");
}
END_TEST

START_TEST(moment_in_window)
{
	struct sched_window	w;
	time_t			m, now = T("2025-06-04T12:00:00Z");
	uint64_t		r;
	int			em;

	W("Sat,Sun 01:00-05:00", &w);
	for (r = 0; r < 50; r++) {
		m = sched_moment(&w, "UTC", now - 86400, now + 60 * 86400,
		    SCHED_EMERGENCY_DEFAULT, now, sched_hash("web", "x") + r,
		    &em);
		ck_assert_int_eq(em, 0);
		ck_assert_int_ge(m, T("2025-06-07T01:00:00Z"));
		ck_assert_int_lt(m, T("2025-06-07T05:00:00Z"));
		/* Evaluating again later the same day picks the same. */
		ck_assert_int_eq(m, sched_moment(&w, "UTC", now - 86400,
		    now + 60 * 86400, SCHED_EMERGENCY_DEFAULT, now + 3600,
		    sched_hash("web", "x") + r, &em));
	}
	/* Not due yet: the first window after due. */
	m = sched_moment(&w, "UTC", T("2025-06-09T00:00:00Z"),
	    now + 60 * 86400, SCHED_EMERGENCY_DEFAULT, now, 7, &em);
	ck_assert_int_ge(m, T("2025-06-14T01:00:00Z"));
	ck_assert_int_lt(m, T("2025-06-14T05:00:00Z"));
	/* Inside the window, its chosen point passed: now. */
	now = T("2025-06-07T04:59:58Z");
	m = sched_moment(&w, "UTC", now - 86400, now + 60 * 86400,
	    SCHED_EMERGENCY_DEFAULT, now, 0, &em);
	ck_assert_int_eq(m, now);
	/* Hosts differ. */
	ck_assert(sched_hash("web", "a") != sched_hash("web", "b"));
}
END_TEST

START_TEST(moment_emergency)
{
	struct sched_window	w;
	time_t			m, now = T("2025-06-04T12:00:00Z");
	int			em;

	W("Sat,Sun 01:00-05:00", &w);
	/* Expires Friday: Saturday's window is too late. */
	m = sched_moment(&w, "UTC", now - 86400, T("2025-06-06T12:00:00Z"),
	    SCHED_EMERGENCY_DEFAULT, now, 99, &em);
	ck_assert_int_eq(em, 1);
	ck_assert_int_eq(m, now);
	/* Expires Sunday evening, margin 48 h: Saturday 01:00 + 48 h is
	 * after expiry: emergency too. */
	m = sched_moment(&w, "UTC", now - 86400, T("2025-06-08T20:00:00Z"),
	    SCHED_EMERGENCY_DEFAULT, now, 99, &em);
	ck_assert_int_eq(em, 1);
	/* With a 1 h margin it waits for the window. */
	m = sched_moment(&w, "UTC", now - 86400, T("2025-06-08T20:00:00Z"),
	    3600, now, 99, &em);
	ck_assert_int_eq(em, 0);
	ck_assert_int_ge(m, T("2025-06-07T01:00:00Z"));
	/* No window: due is the moment. */
	m = sched_moment(NULL, NULL, now + 10, now + 86400 * 30,
	    SCHED_EMERGENCY_DEFAULT, now, 5, &em);
	ck_assert_int_eq(em, 0);
	ck_assert_int_eq(m, now + 10);
}
END_TEST

START_TEST(backoff)
{
	int64_t	d;

	ck_assert_int_ge(sched_backoff(1, 0), SCHED_BACKOFF_BASE);
	ck_assert_int_eq(sched_backoff(1, 0), 300);
	ck_assert_int_eq(sched_backoff(2, 0), 600);
	ck_assert_int_eq(sched_backoff(3, 0), 1200);
	ck_assert_int_eq(sched_backoff(30, 0), SCHED_BACKOFF_CAP);
	d = sched_backoff(30, ~0ull);
	ck_assert_int_le(d, SCHED_BACKOFF_CAP + SCHED_BACKOFF_CAP / 4);
	ck_assert_int_gt(d, SCHED_BACKOFF_CAP);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("schedule");
	TCase	*tc = tcase_create("schedule");
	SRunner	*sr;
	int	 nf;

	unsetenv("TZ");
	tcase_add_test(tc, window_parse);
	tcase_add_test(tc, window_weekend_utc);
	tcase_add_test(tc, window_midnight);
	tcase_add_test(tc, window_dst_berlin);
	tcase_add_test(tc, window_dst_rule);
	tcase_add_test(tc, zone_offsets);
	tcase_add_test(tc, tz_valid);
	tcase_add_test(tc, policy_due);
	tcase_add_test(tc, moment_in_window);
	tcase_add_test(tc, moment_emergency);
	tcase_add_test(tc, backoff);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
