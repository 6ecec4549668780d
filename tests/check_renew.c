/*
 * The renewal's transition rule (renew_fsm.c), walked over every state x
 * phase x outcome: where each leads, that final states stay final, that a
 * failure before stopping never rolls back and one from stopping on
 * always does, and that the rollback's sub-steps go in order.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "renew_fsm.h"

static int
forward_ok(enum renew_state s)
{
	return s == RS_DUE || (s >= RS_ISSUED && s <= RS_VERIFYING &&
	    s != RS_TESTING);
}

/* The phases a state can be in. */
static int
phase_of(enum renew_state s, enum renew_phase p)
{
	if (s == RS_ISSUING)
		return p == RP_ISSUE_REQUEST || p == RP_ISSUE_COMMAND;
	if (s == RS_ROLLING_BACK)
		return p >= RP_RB_STOP && p <= RP_RB_VERIFY;
	if (s == RS_TESTING)
		return p >= RP_TEST_DEPLOY && p <= RP_TEST_UNDO;
	return p == RP_NONE;
}

#define MV(st, ph, ac) do {						\
	ck_assert_msg(m.state == (st) && m.phase == (ph) &&		\
	    m.action == (ac), "%s/%s x %s: got %s/%s action %d",	\
	    renew_state_name(s), renew_phase_name(p),			\
	    renew_outcome_name(o), renew_state_name(m.state),		\
	    renew_phase_name(m.phase), (int)m.action);			\
} while (0)

/* The expected answer, written out case by case (not from the table). */
static void
expect(enum renew_state s, enum renew_phase p, enum renew_outcome o)
{
	struct renew_move	m = renew_next(s, p, o);
	const int		early = s < RS_STOPPING;

	if (s == RS_DONE || s == RS_FAILED || s == RS_ROLLED_BACK) {
		MV(s, RP_NONE, RA_END);
		return;
	}
	if (s == RS_ROLLING_BACK) {
		if (p == RP_RB_STOP)
			MV(s, RP_RB_RESTORE, o == RO_OK ? RA_RUN :
			    RA_PASS_OVER);
		else if (p == RP_RB_RESTORE && o == RO_OK)
			MV(s, RP_RB_START, RA_RUN);
		else if (p == RP_RB_START && o == RO_OK)
			MV(s, RP_RB_VERIFY, RA_RUN);
		else if (p == RP_RB_VERIFY && o == RO_OK)
			MV(RS_ROLLED_BACK, RP_NONE, RA_ENTER);
		else if (p == RP_RB_VERIFY && o == RO_PENDING)
			MV(s, RP_RB_VERIFY, RA_WAIT);
		else
			MV(s, RP_RB_STOP, RA_RETRY);
		return;
	}
	if (s == RS_TESTING) {
		/* issue 14: deploy, config_test; a failure (or a phase not
		 * of testing) undoes; undone, it fails early. */
		if (p == RP_TEST_DEPLOY && o == RO_OK)
			MV(s, RP_TEST_RUN, RA_RUN);
		else if (p == RP_TEST_RUN && o == RO_OK)
			MV(RS_STOPPING, RP_NONE, RA_ENTER);
		else if (p == RP_TEST_UNDO && o == RO_OK)
			MV(RS_FAILED, RP_NONE, RA_FAIL_EARLY);
		else if (p == RP_TEST_UNDO)
			MV(s, RP_TEST_UNDO, RA_WAIT);
		else
			MV(s, RP_TEST_UNDO, RA_UNDO);
		return;
	}
	if (!phase_of(s, p)) {
		/* Not a phase of s: its failure. */
		if (early)
			MV(RS_FAILED, RP_NONE, RA_FAIL_EARLY);
		else
			MV(RS_ROLLING_BACK, RP_RB_STOP, RA_ROLLBACK);
	} else if (s == RS_ISSUING && p == RP_ISSUE_REQUEST && o == RO_READY)
		MV(RS_ISSUED, RP_NONE, RA_ENTER);
	else if (s == RS_ISSUING && p == RP_ISSUE_REQUEST && o == RO_PENDING)
		MV(RS_AWAITING, RP_NONE, RA_ENTER);
	else if (s == RS_ISSUING && p == RP_ISSUE_REQUEST && o == RO_RUN)
		MV(RS_ISSUING, RP_ISSUE_COMMAND, RA_RUN);
	else if (s == RS_ISSUING && p == RP_ISSUE_COMMAND && o == RO_OK)
		MV(RS_AWAITING, RP_NONE, RA_ENTER);
	else if (s == RS_AWAITING && p == RP_NONE && o == RO_READY)
		MV(RS_ISSUED, RP_NONE, RA_ENTER);
	else if (s == RS_AWAITING && p == RP_NONE && o == RO_PENDING)
		MV(RS_AWAITING, RP_NONE, RA_WAIT);
	else if (s == RS_VERIFYING && o == RO_PENDING)
		MV(RS_VERIFYING, p, RA_WAIT);
	else if (s == RS_ISSUED && o == RO_TEST)
		MV(RS_TESTING, RP_TEST_DEPLOY, RA_ENTER);
	else if (forward_ok(s) && p == RP_NONE && o == RO_OK) {
		static const enum renew_state next[] = {
			[RS_DUE] = RS_ISSUING, [RS_ISSUED] = RS_STOPPING,
			[RS_STOPPING] = RS_UNBINDING,
			[RS_UNBINDING] = RS_BINDING,
			[RS_BINDING] = RS_STARTING,
			[RS_STARTING] = RS_VERIFYING,
			[RS_VERIFYING] = RS_DONE,
		};

		MV(next[s], next[s] == RS_ISSUING ? RP_ISSUE_REQUEST :
		    RP_NONE, RA_ENTER);
	} else if (early)
		MV(RS_FAILED, RP_NONE, RA_FAIL_EARLY);
	else
		MV(RS_ROLLING_BACK, RP_RB_STOP, RA_ROLLBACK);
}

START_TEST(every_state_x_outcome)
{
	int	s, p, o, n = 0;

	for (s = 0; s < RS__COUNT; s++)
		for (p = 0; p < RP__COUNT; p++)
			for (o = 0; o < RO__COUNT; o++) {
				expect(s, p, o);
				n++;
			}
	ck_assert_int_eq(n, RS__COUNT * RP__COUNT * RO__COUNT);
}
END_TEST

START_TEST(final_states_are_final)
{
	int	s, p, o;

	for (s = 0; s < RS__COUNT; s++) {
		ck_assert_int_eq(renew_state_final(s), s == RS_DONE ||
		    s == RS_FAILED || s == RS_ROLLED_BACK);
		for (p = 0; p < RP__COUNT; p++)
			for (o = 0; o < RO__COUNT; o++) {
				struct renew_move m = renew_next(s, p, o);

				if (renew_state_final(s))
					ck_assert(m.action == RA_END &&
					    m.state == (enum renew_state)s);
				else
					ck_assert(m.action != RA_END);
			}
	}
}
END_TEST

/* Nothing before stopping reaches rolling_back; every failure from
 * stopping to verifying does; nothing ever goes back before stopping
 * once the service was touched. */
START_TEST(failures_split_at_stopping)
{
	int	s, p, o;

	for (s = 0; s < RS__COUNT; s++)
		for (p = 0; p < RP__COUNT; p++)
			for (o = 0; o < RO__COUNT; o++) {
				struct renew_move m = renew_next(s, p, o);

				if (!phase_of(s, p))
					continue;
				if (s < RS_STOPPING)
					ck_assert_msg(m.state !=
					    RS_ROLLING_BACK &&
					    m.state != RS_ROLLED_BACK &&
					    m.action != RA_ROLLBACK,
					    "%s x %s rolls back",
					    renew_state_name(s),
					    renew_outcome_name(o));
				if (s >= RS_STOPPING && s <= RS_VERIFYING &&
				    o == RO_ERROR)
					ck_assert(m.action == RA_ROLLBACK &&
					    m.state == RS_ROLLING_BACK &&
					    m.phase == RP_RB_STOP);
				if (s >= RS_STOPPING && !renew_state_final(s))
					ck_assert_msg(m.state >= RS_STOPPING &&
					    m.state != RS_FAILED,
					    "%s x %s goes back to %s",
					    renew_state_name(s),
					    renew_outcome_name(o),
					    renew_state_name(m.state));
			}
}
END_TEST

/* The happy paths, driven through renew_next alone. */
static enum renew_state
walk(const enum renew_outcome *script, size_t n, enum renew_phase *ph)
{
	enum renew_state	s = RS_DUE;
	enum renew_phase	p = renew_first_phase(s);
	struct renew_move	m;
	size_t			i;

	for (i = 0; i < n; i++) {
		m = renew_next(s, p, script[i]);
		ck_assert(m.action != RA_END);
		s = m.state;
		p = m.phase;
	}
	*ph = p;
	return s;
}

START_TEST(paths)
{
	static const enum renew_outcome local[] = { RO_OK, RO_READY, RO_OK,
	    RO_OK, RO_OK, RO_OK, RO_OK, RO_PENDING, RO_OK };
	static const enum renew_outcome exec[] = { RO_OK, RO_RUN, RO_OK,
	    RO_READY, RO_OK, RO_OK, RO_OK, RO_OK, RO_OK, RO_OK };
	static const enum renew_outcome csr[] = { RO_OK, RO_PENDING,
	    RO_PENDING, RO_READY, RO_OK, RO_OK, RO_OK, RO_OK, RO_OK,
	    RO_OK };
	/* start fails; the rollback's stop fails (passed over), restore,
	 * start, verify (not yet, then yes). */
	static const enum renew_outcome rb[] = { RO_OK, RO_READY, RO_OK,
	    RO_OK, RO_OK, RO_OK, RO_ERROR, RO_ERROR, RO_OK, RO_OK,
	    RO_PENDING, RO_OK };
	/* issue 14: issued answers "test"; deploy, config_test, then the
	 * usual stop .. verify. */
	static const enum renew_outcome tested[] = { RO_OK, RO_READY,
	    RO_TEST, RO_OK, RO_OK, RO_OK, RO_OK, RO_OK, RO_OK, RO_OK };
	/* config_test fails: undo (fails once, then again), failed. */
	static const enum renew_outcome badtest[] = { RO_OK, RO_READY,
	    RO_TEST, RO_OK, RO_ERROR, RO_ERROR, RO_OK };
	enum renew_phase	p;

	ck_assert_int_eq(walk(local, 9, &p), RS_DONE);
	ck_assert_int_eq(walk(exec, 10, &p), RS_DONE);
	ck_assert_int_eq(walk(csr, 10, &p), RS_DONE);
	ck_assert_int_eq(walk(rb, 12, &p), RS_ROLLED_BACK);
	ck_assert_int_eq(walk(rb, 7, &p), RS_ROLLING_BACK);
	ck_assert_int_eq(p, RP_RB_STOP);
	ck_assert_int_eq(walk(exec, 2, &p), RS_ISSUING);
	ck_assert_int_eq(p, RP_ISSUE_COMMAND);
	ck_assert_int_eq(walk(tested, 10, &p), RS_DONE);
	ck_assert_int_eq(walk(tested, 4, &p), RS_TESTING);
	ck_assert_int_eq(p, RP_TEST_RUN);
	ck_assert_int_eq(walk(tested, 5, &p), RS_STOPPING);
	ck_assert_int_eq(walk(badtest, 5, &p), RS_TESTING);
	ck_assert_int_eq(p, RP_TEST_UNDO);
	ck_assert_int_eq(walk(badtest, 6, &p), RS_TESTING);
	ck_assert_int_eq(walk(badtest, 7, &p), RS_FAILED);
}
END_TEST

START_TEST(names)
{
	int	s;

	for (s = 0; s < RS__COUNT; s++)
		ck_assert_int_eq(renew_state_parse(renew_state_name(s)), s);
	ck_assert_int_eq(renew_state_parse("nope"), -1);
	ck_assert_int_eq(renew_state_parse(NULL), -1);
	ck_assert_str_eq(renew_state_name(RS_AWAITING),
	    "awaiting_certificate");
	ck_assert_str_eq(renew_phase_name(RP_RB_RESTORE), "restore");
	ck_assert_int_eq(renew_first_phase(RS_ISSUING), RP_ISSUE_REQUEST);
	ck_assert_int_eq(renew_first_phase(RS_ROLLING_BACK), RP_RB_STOP);
	ck_assert_int_eq(renew_first_phase(RS_STOPPING), RP_NONE);
	ck_assert_int_eq(renew_first_phase(RS_TESTING), RP_TEST_DEPLOY);
	ck_assert_str_eq(renew_state_name(RS_TESTING), "testing");
	ck_assert_str_eq(renew_phase_name(RP_TEST_RUN), "config_test");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("renew");
	TCase	*tc = tcase_create("renew");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, every_state_x_outcome);
	tcase_add_test(tc, final_states_are_final);
	tcase_add_test(tc, failures_split_at_stopping);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
