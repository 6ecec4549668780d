/*
 * Issue 17, ARI: the CA's suggested window inside the maintenance
 * windows (schedule.c's sched_ari_moment), with fixed clocks, across a
 * DST change; and the certID of RFC 9773 4.1.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ari.h"
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

/* m lies in Saturday's or Sunday's 01:00-05:00 of the week of 7 June. */
static int
in_weekend(time_t m)
{
	return (m >= T("2025-06-07T01:00:00Z") &&
	    m < T("2025-06-07T05:00:00Z")) ||
	    (m >= T("2025-06-08T01:00:00Z") && m < T("2025-06-08T05:00:00Z"));
}

START_TEST(ari_inside)
{
	struct sched_window	w;
	time_t			m, now = T("2025-06-04T12:00:00Z");
	uint64_t		r;
	int			em, sat = 0, sun = 0;

	W("Sat,Sun 01:00-05:00", &w);
	for (r = 0; r < 200; r++) {
		m = sched_ari_moment(&w, "UTC", T("2025-06-06T00:00:00Z"),
		    T("2025-06-09T00:00:00Z"), now, r * 0x9E3779B97F4A7C15ull,
		    &em);
		ck_assert_int_eq(em, 0);
		ck_assert_msg(in_weekend(m), "moment %lld outside",
		    (long long)m);
		if (m < T("2025-06-08T00:00:00Z"))
			sat++;
		else
			sun++;
		/* Later evaluations pick the same point. */
		ck_assert_int_eq(m, sched_ari_moment(&w, "UTC",
		    T("2025-06-06T00:00:00Z"), T("2025-06-09T00:00:00Z"),
		    now + 86400, r * 0x9E3779B97F4A7C15ull, &em));
	}
	/* The whole intersection, not only its first occurrence. */
	ck_assert_int_gt(sat, 0);
	ck_assert_int_gt(sun, 0);
	/* No maintenance window: inside the ARI window. */
	m = sched_ari_moment(NULL, NULL, T("2025-06-06T00:00:00Z"),
	    T("2025-06-09T00:00:00Z"), now, 12345, &em);
	ck_assert_int_eq(em, 0);
	ck_assert_int_ge(m, T("2025-06-06T00:00:00Z"));
	ck_assert_int_lt(m, T("2025-06-09T00:00:00Z"));
}
END_TEST

START_TEST(ari_before)
{
	struct sched_window	w;
	time_t			m, now = T("2025-06-04T12:00:00Z");
	int			em;

	/* The ARI window opens next Tuesday: the weekend after it. */
	W("Sat,Sun 01:00-05:00", &w);
	m = sched_ari_moment(&w, "UTC", T("2025-06-10T00:00:00Z"),
	    T("2025-06-17T00:00:00Z"), now, 77, &em);
	ck_assert_int_eq(em, 0);
	ck_assert_int_ge(m, T("2025-06-14T01:00:00Z"));
	ck_assert_int_lt(m, T("2025-06-15T05:00:00Z"));
	ck_assert((m < T("2025-06-14T05:00:00Z")) ||
	    (m >= T("2025-06-15T01:00:00Z")));
}
END_TEST

START_TEST(ari_after)
{
	struct sched_window	w;
	time_t			m, now = T("2025-06-04T12:00:00Z");
	int			em;

	/* A window already past, maintenance window closed: now, and an
	 * emergency (it will not wait for Saturday). */
	W("Sat,Sun 01:00-05:00", &w);
	m = sched_ari_moment(&w, "UTC", T("2025-06-01T00:00:00Z"),
	    T("2025-06-02T00:00:00Z"), now, 3, &em);
	ck_assert_int_eq(em, 1);
	ck_assert_int_eq(m, now);
	/* The same without maintenance windows: now, no emergency. */
	m = sched_ari_moment(NULL, NULL, T("2025-06-01T00:00:00Z"),
	    T("2025-06-02T00:00:00Z"), now, 3, &em);
	ck_assert_int_eq(em, 0);
	ck_assert_int_eq(m, now);
	/* Past while a maintenance window is open: now, no emergency. */
	now = T("2025-06-07T02:00:00Z");
	m = sched_ari_moment(&w, "UTC", T("2025-06-01T00:00:00Z"),
	    T("2025-06-02T00:00:00Z"), now, 3, &em);
	ck_assert_int_eq(em, 0);
	ck_assert_int_eq(m, now);
}
END_TEST

START_TEST(ari_empty)
{
	struct sched_window	w;
	time_t			m, now = T("2025-06-04T12:00:00Z");
	int			em;

	/* The CA wants it gone by Thursday: Saturday is too late. */
	W("Sat,Sun 01:00-05:00", &w);
	m = sched_ari_moment(&w, "UTC", T("2025-06-04T13:00:00Z"),
	    T("2025-06-05T13:00:00Z"), now, 99, &em);
	ck_assert_int_eq(em, 1);
	ck_assert_int_eq(m, now);
	/* Closing exactly when the window opens: empty too. */
	m = sched_ari_moment(&w, "UTC", T("2025-06-05T00:00:00Z"),
	    T("2025-06-07T01:00:00Z"), now, 99, &em);
	ck_assert_int_eq(em, 1);
}
END_TEST

START_TEST(ari_past_point)
{
	struct sched_window	w;
	time_t			m, now = T("2025-06-08T04:59:00Z");
	uint64_t		r;
	int			em;

	/* Late on Sunday: the chosen point may have passed; then now, never
	 * after the window. */
	W("Sat,Sun 01:00-05:00", &w);
	for (r = 0; r < 50; r++) {
		m = sched_ari_moment(&w, "UTC", T("2025-06-06T00:00:00Z"),
		    T("2025-06-09T00:00:00Z"), now, r * 7919, &em);
		ck_assert_int_eq(em, 0);
		ck_assert_int_ge(m, now);
		ck_assert_int_lt(m, T("2025-06-08T05:00:00Z"));
	}
	/* Inside the ARI window, between two maintenance windows, the
	 * point passed: the next occurrence still inside the ARI window. */
	now = T("2025-06-07T12:00:00Z");
	m = sched_ari_moment(&w, "UTC", T("2025-06-06T00:00:00Z"),
	    T("2025-06-09T00:00:00Z"), now, 0, &em);
	ck_assert_int_eq(em, 0);
	ck_assert_int_eq(m, T("2025-06-08T01:00:00Z"));
}
END_TEST

START_TEST(ari_dst)
{
	struct sched_window	w;
	time_t			m, now = T("2025-03-27T12:00:00Z");
	uint64_t		r;
	int			em;

	/* 30 March 2025 in Berlin: Sun 01:00-05:00 is 00:00Z-03:00Z. */
	W("Sun 01:00-05:00", &w);
	for (r = 0; r < 100; r++) {
		m = sched_ari_moment(&w, "Europe/Berlin",
		    T("2025-03-28T00:00:00Z"), T("2025-03-31T00:00:00Z"), now,
		    r * 104729, &em);
		ck_assert_int_eq(em, 0);
		ck_assert_int_ge(m, T("2025-03-30T00:00:00Z"));
		ck_assert_int_lt(m, T("2025-03-30T03:00:00Z"));
	}
	/* 26 October: 01:00 CEST is 23:00Z on Saturday, 05:00 CET 04:00Z;
	 * an ARI window ending at 02:00Z cuts the five hours to three. */
	for (r = 0; r < 100; r++) {
		m = sched_ari_moment(&w, "Europe/Berlin",
		    T("2025-10-24T00:00:00Z"), T("2025-10-26T02:00:00Z"),
		    T("2025-10-23T00:00:00Z"), r * 104729, &em);
		ck_assert_int_eq(em, 0);
		ck_assert_int_ge(m, T("2025-10-25T23:00:00Z"));
		ck_assert_int_lt(m, T("2025-10-26T02:00:00Z"));
	}
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

START_TEST(cert_id_rfc)
{
	/* RFC 9773 4.1's example. */
	static const unsigned char aki[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87,
	    0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C,
	    0xDE, 0x01, 0xC8, 0xD4 };
	static const unsigned char serial[] = { 0x00, 0x87, 0x65, 0x43,
	    0x21 };
	char	*id = ari_cert_id_raw(aki, sizeof(aki), serial,
		    sizeof(serial));

	ck_assert_str_eq(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	free(id);
	ck_assert_int_eq(ari_clamp(0), ARI_POLL_MIN);
	ck_assert_int_eq(ari_clamp(86400), ARI_POLL_MAX);
	ck_assert_int_eq(ari_clamp(600), 600);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ari");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	unsetenv("TZ");
	tcase_add_test(tc, ari_inside);
	tcase_add_test(tc, ari_before);
	tcase_add_test(tc, ari_after);
	tcase_add_test(tc, ari_empty);
	tcase_add_test(tc, ari_past_point);
	tcase_add_test(tc, ari_dst);
	tcase_add_test(tc, cert_id_rfc);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
