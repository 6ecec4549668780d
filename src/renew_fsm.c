/*
 * The renewal's transition rule (see renew_fsm.h).  Before stopping a
 * failure touches nothing and ends the renewal failed; from stopping on
 * it rolls back; inside the rollback a failed stop is passed over (the
 * files go back and the idempotent start and the probe decide) and any
 * other failed sub-step starts the rollback over later.  testing (issue
 * 14) undoes itself: a failed deploy or config_test puts the files back
 * (again later while that fails) and the renewal fails early: no service
 * was stopped or reloaded.
 */
#include "config.h"

#include <string.h>

#include "renew_fsm.h"

static const char *renew_state_names[RS__COUNT] = {
	"due", "issuing", "awaiting_certificate", "issued", "testing",
	"stopping",
	"unbinding", "binding", "starting", "verifying", "done", "failed",
	"rolling_back", "rolled_back",
};

static const char *renew_phase_names[RP__COUNT] = {
	"-", "request", "command", "stop", "restore", "start", "verify",
	"deploy", "config_test", "undo",
};

static const char *renew_outcome_names[RO__COUNT] = {
	"ok", "error", "ready", "pending", "run", "test",
};

/* The forward path: what a state's success leads to. */
static const enum renew_state renew_forward[RS__COUNT] = {
	[RS_DUE] = RS_ISSUING,
	[RS_ISSUING] = RS_ISSUED,
	[RS_AWAITING] = RS_ISSUED,
	[RS_ISSUED] = RS_STOPPING,
	[RS_TESTING] = RS_STOPPING,
	[RS_STOPPING] = RS_UNBINDING,
	[RS_UNBINDING] = RS_BINDING,
	[RS_BINDING] = RS_STARTING,
	[RS_STARTING] = RS_VERIFYING,
	[RS_VERIFYING] = RS_DONE,
	[RS_DONE] = RS_DONE,
	[RS_FAILED] = RS_FAILED,
	[RS_ROLLING_BACK] = RS_ROLLED_BACK,
	[RS_ROLLED_BACK] = RS_ROLLED_BACK,
};

const char *
renew_state_name(enum renew_state s)
{
	return (unsigned)s < RS__COUNT ? renew_state_names[s] : "?";
}

int
renew_state_parse(const char *s)
{
	int	i;

	for (i = 0; i < RS__COUNT; i++)
		if (s != NULL && strcmp(renew_state_names[i], s) == 0)
			return i;
	return -1;
}

const char *
renew_phase_name(enum renew_phase p)
{
	return (unsigned)p < RP__COUNT ? renew_phase_names[p] : "?";
}

const char *
renew_outcome_name(enum renew_outcome o)
{
	return (unsigned)o < RO__COUNT ? renew_outcome_names[o] : "?";
}

int
renew_state_final(enum renew_state s)
{
	return s == RS_DONE || s == RS_FAILED || s == RS_ROLLED_BACK ||
	    (unsigned)s >= RS__COUNT;
}

enum renew_phase
renew_first_phase(enum renew_state s)
{
	if (s == RS_ISSUING)
		return RP_ISSUE_REQUEST;
	if (s == RS_ROLLING_BACK)
		return RP_RB_STOP;
	if (s == RS_TESTING)
		return RP_TEST_DEPLOY;
	return RP_NONE;
}

static struct renew_move
renew_move(enum renew_state s, enum renew_phase p, enum renew_action a)
{
	struct renew_move	m;

	m.state = s;
	m.phase = p;
	m.action = a;
	return m;
}

static struct renew_move
renew_enter_move(enum renew_state s)
{
	return renew_move(s, renew_first_phase(s), RA_ENTER);
}

/* Failure: before stopping nothing was touched; from it on, roll back. */
static struct renew_move
renew_failure(enum renew_state s)
{
	if (s == RS_TESTING)
		return renew_move(s, RP_TEST_UNDO, RA_UNDO);
	if (s < RS_STOPPING)
		return renew_move(RS_FAILED, RP_NONE, RA_FAIL_EARLY);
	return renew_move(RS_ROLLING_BACK, RP_RB_STOP, RA_ROLLBACK);
}

/* issuing and awaiting_certificate: the issuer's answers. */
static struct renew_move
renew_next_issuer(enum renew_state s, enum renew_phase p,
    enum renew_outcome o)
{
	if (s == RS_ISSUING && p == RP_ISSUE_COMMAND)
		/* The command ran: collect what it left, once. */
		return o == RO_OK ? renew_enter_move(RS_AWAITING) :
		    renew_failure(s);
	if (s == RS_ISSUING && p == RP_ISSUE_REQUEST) {
		if (o == RO_READY)
			return renew_enter_move(RS_ISSUED);
		if (o == RO_PENDING)
			return renew_enter_move(RS_AWAITING);
		if (o == RO_RUN)
			return renew_move(s, RP_ISSUE_COMMAND, RA_RUN);
		return renew_failure(s);
	}
	if (s == RS_AWAITING && p == RP_NONE) {
		if (o == RO_READY)
			return renew_enter_move(RS_ISSUED);
		if (o == RO_PENDING)
			return renew_move(s, p, RA_WAIT);
	}
	return renew_failure(s);
}

/* rolling_back: its sub-steps in order, none journaled. */
static struct renew_move
renew_next_rollback(enum renew_phase p, enum renew_outcome o)
{
	const enum renew_state	s = RS_ROLLING_BACK;

	switch (p) {
	case RP_RB_STOP:
		return renew_move(s, RP_RB_RESTORE, o == RO_OK ? RA_RUN :
		    RA_PASS_OVER);
	case RP_RB_RESTORE:
		return o == RO_OK ? renew_move(s, RP_RB_START, RA_RUN) :
		    renew_move(s, RP_RB_STOP, RA_RETRY);
	case RP_RB_START:
		return o == RO_OK ? renew_move(s, RP_RB_VERIFY, RA_RUN) :
		    renew_move(s, RP_RB_STOP, RA_RETRY);
	case RP_RB_VERIFY:
		if (o == RO_OK)
			return renew_enter_move(RS_ROLLED_BACK);
		if (o == RO_PENDING)
			return renew_move(s, p, RA_WAIT);
		return renew_move(s, RP_RB_STOP, RA_RETRY);
	default:
		/* Not a rollback phase: start it over. */
		return renew_move(s, RP_RB_STOP, RA_RETRY);
	}
}

/* testing: deploy, config_test, and on failure undo then fail early. */
static struct renew_move
renew_next_testing(enum renew_phase p, enum renew_outcome o)
{
	const enum renew_state	s = RS_TESTING;

	switch (p) {
	case RP_TEST_DEPLOY:
		return o == RO_OK ? renew_move(s, RP_TEST_RUN, RA_RUN) :
		    renew_failure(s);
	case RP_TEST_RUN:
		return o == RO_OK ? renew_enter_move(RS_STOPPING) :
		    renew_failure(s);
	case RP_TEST_UNDO:
		/* Files back: nothing was stopped or reloaded, the renewal
		 * fails early.  Not back: again later (no service was
		 * touched, so there is nothing to roll back). */
		return o == RO_OK ? renew_move(RS_FAILED, RP_NONE,
		    RA_FAIL_EARLY) : renew_move(s, p, RA_WAIT);
	default:
		return renew_failure(s);
	}
}

struct renew_move
renew_next(enum renew_state s, enum renew_phase p, enum renew_outcome o)
{
	if (renew_state_final(s))
		return renew_move(s, RP_NONE, RA_END);
	if (s == RS_ROLLING_BACK)
		return renew_next_rollback(p, o);
	if (s == RS_TESTING)
		return renew_next_testing(p, o);
	if (p != renew_first_phase(s) && !(s == RS_ISSUING &&
	    p == RP_ISSUE_COMMAND))
		return renew_failure(s);	/* not a phase of s */
	if (s == RS_ISSUING || s == RS_AWAITING)
		return renew_next_issuer(s, p, o);
	/* A probe that does not see the new certificate yet tries again
	 * until verify_timeout. */
	if (s == RS_VERIFYING && o == RO_PENDING)
		return renew_move(s, p, RA_WAIT);
	/* Checked, and a service tests its configuration first. */
	if (s == RS_ISSUED && o == RO_TEST)
		return renew_enter_move(RS_TESTING);
	if (o == RO_OK)
		return renew_enter_move(renew_forward[s]);
	return renew_failure(s);
}
