/*
 * The renewal's states and its transition rule, as data: pure (no loop,
 * no I/O), so tests/check_renew.c walks every state x phase x outcome.
 * renew_step (renew.c) asks renew_next what follows each side effect and
 * carries the answer out; it decides nothing itself.
 */
#ifndef CV_RENEW_FSM_H
#define CV_RENEW_FSM_H

/*
 * The renewal states, in journal order.  Each is committed before its
 * side effect starts, so a crash leaves a state whose side effect may or
 * may not have happened: every side effect can run twice.
 */
enum renew_state {
	RS_DUE = 0,	/* decided; nothing done */
	RS_ISSUING,	/* key and certificate (or CSR) being made */
	RS_AWAITING,	/* the issuer has not answered yet (inbox, command) */
	RS_ISSUED,	/* new key + cert in the store; checked here */
	RS_TESTING,	/* issue 14: new files in place, each service's
			 * config_test; only when a service has one (issued
			 * answers RO_TEST), and then stopping moves nothing */
	RS_STOPPING,	/* stop command (skipped with reload) */
	RS_UNBINDING,	/* live files moved aside */
	RS_BINDING,	/* new files written atomically */
	RS_STARTING,	/* start (or reload) command */
	RS_VERIFYING,	/* probing until the new thumbprint is served */
	RS_DONE,	/* final: the binding names the new certificate */
	RS_FAILED,	/* final: failed before stopping, nothing touched */
	RS_ROLLING_BACK, /* old files back, service started, old verified */
	RS_ROLLED_BACK,	/* final: serving the old certificate again */
	RS__COUNT
};

/*
 * Sub-phases within a state, never journaled: a renewal recovered in
 * issuing asks the issuer again (its request is idempotent), one in
 * rolling_back starts the rollback over from its stop, one in testing
 * from its deploy (which first puts back what an earlier run moved).
 */
enum renew_phase {
	RP_NONE = 0,		/* the state has one side effect */
	RP_ISSUE_REQUEST,	/* issuing: the issuer's request */
	RP_ISSUE_COMMAND,	/* issuing: the command the issuer asked for */
	RP_RB_STOP,		/* rolling back: stop command */
	RP_RB_RESTORE,		/* rolling back: moved files put back */
	RP_RB_START,		/* rolling back: start (or reload) command */
	RP_RB_VERIFY,		/* rolling back: the restored thumbprint served */
	RP_TEST_DEPLOY,		/* testing: files of a previous run back, live
				 * ones aside, the new ones written */
	RP_TEST_RUN,		/* testing: every service's config_test */
	RP_TEST_UNDO,		/* testing: a failure puts the files back */
	RP__COUNT
};

/* How a side effect ended. */
enum renew_outcome {
	RO_OK = 0,	/* done */
	RO_ERROR,	/* failed (for a probe: verify_timeout is over) */
	RO_READY,	/* issuer: certificate and key in the store */
	RO_PENDING,	/* not yet: the same side effect again later (the
			 * issuer's retry_ms; a probe's 250 ms) */
	RO_RUN,		/* issuer: run the command it gave, then collect */
	RO_TEST,	/* issued: checked, and a service has a config_test */
	RO__COUNT
};

/* What renew_step does next. */
enum renew_action {
	RA_ENTER,	/* journal .state, then start its side effect */
	RA_RUN,		/* same state: start .phase's side effect */
	RA_PASS_OVER,	/* note the failure (an event), then as RA_RUN */
	RA_WAIT,	/* same state and phase: again after a delay */
	RA_FAIL_EARLY,	/* -> failed: nothing was touched; retry later */
	RA_ROLLBACK,	/* -> rolling_back (stop phase) */
	RA_RETRY,	/* rollback sub-step failed: over from .phase later */
	RA_END,		/* final state: nothing more */
	RA_UNDO,	/* keep the failure as the reason, then as RA_RUN
			 * (the phase that undoes what the state did) */
};

struct renew_move {
	enum renew_state	state;
	enum renew_phase	phase;
	enum renew_action	action;
};

/* The transition rule: every (state, phase, outcome) has an answer; an
 * outcome a state cannot produce counts as its failure. */
struct renew_move	renew_next(enum renew_state, enum renew_phase,
			    enum renew_outcome);
/* The phase a state starts in. */
enum renew_phase	renew_first_phase(enum renew_state);
int			renew_state_final(enum renew_state);
const char		*renew_state_name(enum renew_state);
int			renew_state_parse(const char *);	/* -1 unknown */
const char		*renew_phase_name(enum renew_phase);
const char		*renew_outcome_name(enum renew_outcome);

#endif
