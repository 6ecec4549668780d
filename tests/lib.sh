# Shared helpers for certvigil's shell tests.  Each test sources this,
# works in its own temporary directory and cleans up on exit.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CERTVIGIL:=$top_builddir/src/certvigil}"
: "${CERTVIGILD:=$top_builddir/src/certvigild}"
: "${FIXTOOL:=$top_builddir/tests/fixtool}"

T=$(mktemp -d "$top_builddir/tests/tmp.XXXXXX")

# make check-valgrind: the programs run under valgrind through wrappers,
# and every time limit stretches by CV_SLOW (valgrind is ~20x slower).
CV_SLOW=1
if [ -n "${CV_VALGRIND:-}" ]; then
	CV_SLOW=${CV_VALGRIND_SLOW:-25}
	mkdir -p "$T/vg"
	for _p in CERTVIGIL CERTVIGILD; do
		eval "_real=\$$_p"
		printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --trace-children=no "%s" "$@"\n' \
		    "$_real" > "$T/vg/$_p"
		chmod +x "$T/vg/$_p"
		eval "$_p=\$T/vg/\$_p"
	done
fi
# need_test_hooks: the test clock (CERTVIGIL_TEST_NOW) and crash points
# exist only in builds configured with --enable-debug, --enable-asan or
# --enable-test-hooks.
need_test_hooks() {
	"$CERTVIGILD" --version | grep -q "(test hooks)" ||
	    skip "needs a build with test hooks (./configure --enable-test-hooks)"
}

# slow N: N scaled for valgrind runs.
slow() { echo $(( $1 * CV_SLOW )); }
T_PIDS=""
t_cleanup() {
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap t_cleanup EXIT

T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_COUNT=0

fail() {
	echo "FAIL: $T_NAME: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $T_NAME: $*" >&2
	exit 77
}

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
	done
}

# ok DESCRIPTION: records a passing assertion.
ok() {
	T_COUNT=$((T_COUNT + 1))
	echo "ok $T_COUNT - $*"
}

assert_eq() {
	# assert_eq WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	ok "$1"
}

assert_match() {
	# assert_match WHAT REGEX TEXT
	printf '%s\n' "$3" | grep -Eq -- "$2" || fail "$1: '$3' does not match /$2/"
	ok "$1"
}

# run_status VAR CMD...: runs CMD, stores its exit status in VAR.
run_status() {
	_v=$1; shift
	set +e
	"$@"
	eval "$_v=\$?"
	set -e
}

# Date from OpenSSL's "notAfter=Nov 22 07:30:00 2027 GMT" to RFC 3339.
ossl_date() {
	date -u -d "$(printf '%s' "$1" | sed 's/^[^=]*=//')" +%Y-%m-%dT%H:%M:%SZ
}

# ---- daemon helpers ------------------------------------------------------
# daemon_start CONF [ARGS...]: starts certvigild in the foreground with its
# own socket and state dir under $T, and returns once it says READY on its
# --ready-fd (no sleeping).  Sets D_PID, D_SOCK, D_STATE.
D_SOCK=$T/control.sock
D_STATE=$T/state
daemon_start() {
	_conf=$1; shift
	rm -f "$T/ready.fifo"
	mkfifo "$T/ready.fifo"
	"$CERTVIGILD" -f -c "$_conf" -S "$D_SOCK" -d "$D_STATE" \
	    --ready-fd 3 "$@" 3>"$T/ready.fifo" 2>>"$T/daemon.log" &
	D_PID=$!
	T_PIDS="$T_PIDS $D_PID"
	_ready=$(timeout "$(slow 120)" head -n 1 "$T/ready.fifo" || true)
	if [ "$_ready" != READY ]; then
		cat "$T/daemon.log" >&2
		fail "certvigild did not become ready"
	fi
}

# daemon_try CONF [VAR=VALUE...]: like daemon_start, with VARs in the
# daemon's environment, but the daemon may fail to get ready: returns 1
# then (D_PID is still set, to reap).
daemon_try() {
	_conf=$1; shift
	rm -f "$T/ready.fifo"
	mkfifo "$T/ready.fifo"
	env "$@" "$CERTVIGILD" -f -c "$_conf" -S "$D_SOCK" -d "$D_STATE" \
	    --ready-fd 3 3>"$T/ready.fifo" 2>>"$T/daemon.log" &
	D_PID=$!
	T_PIDS="$T_PIDS $D_PID"
	[ "$(timeout "$(slow 60)" head -n 1 "$T/ready.fifo" || true)" = READY ]
}

# wait_line FILE REGEX [SECONDS]: waits (inotify, via tail -f) until a line
# of FILE matches REGEX; returns 1 after SECONDS (default 30).
wait_line() {
	timeout "$(slow "${3:-30}")" tail -n +1 -f "$1" 2>/dev/null |
	    grep -Eq -m 1 -- "$2"
}

# daemon_stop: SIGTERM, and the daemon must exit 0 and remove its socket.
daemon_stop() {
	kill -TERM "$D_PID"
	run_status _st wait "$D_PID"
	[ "$_st" = 0 ] || { cat "$T/daemon.log" >&2; fail "certvigild exited $_st on SIGTERM"; }
	[ ! -e "$D_SOCK" ] || fail "socket $D_SOCK left behind"
	T_PIDS=$(echo "$T_PIDS" | sed "s/ $D_PID//")
}

cv() { "$CERTVIGIL" -S "$D_SOCK" "$@"; }

# follow_start: streams every event as JSON lines into $T/events.jsonl.
follow_start() {
	: > "$T/events.jsonl"
	"$CERTVIGIL" -S "$D_SOCK" events --follow --json >> "$T/events.jsonl" &
	F_PID=$!
	T_PIDS="$T_PIDS $F_PID"
	# The subscription is live once the backlog's first event arrived.
	wait_event '"kind"' 10
}

# wait_event REGEX [SECONDS]: waits (inotify, via tail -f) until an event
# line matching REGEX has been streamed; fails after SECONDS (default 5).
wait_event() {
	timeout "$(slow "${2:-5}")" tail -n +1 -f "$T/events.jsonl" 2>/dev/null |
	    grep -Eq -m 1 -- "$1" || fail "no event matching /$1/ within $(slow "${2:-5}")s"
}

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }
