#!/bin/sh
# Without -f, certvigild detaches, writes its pid file, and the starting
# process exits 0 only once the daemon is ready (1 if it cannot start).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need jq

mkdir -p "$T/w"
printf '[daemon]\nlog = stderr\n[watch w]\npath = %s\n' "$T/w" > "$T/conf"
run_status st "$CERTVIGILD" -c "$T/conf" -S "$D_SOCK" -d "$D_STATE" --pid-file "$T/pid"
assert_eq "start: exit 0 once ready" 0 "$st"
pid=$(cat "$T/pid")
T_PIDS="$T_PIDS $pid"
if [ -n "${CV_VALGRIND:-}" ]; then
	# Under valgrind the process is the tool; its command line names us.
	tr '\0' '\n' < /proc/"$pid"/cmdline | grep -q "/certvigild$" &&
	    ok "pid file names the daemon (under valgrind)" ||
	    fail "pid file names $(tr '\0' ' ' < /proc/"$pid"/cmdline)"
else
	assert_eq "pid file names the daemon" certvigild "$(cat /proc/"$pid"/comm)"
fi
# Ready means answering: no wait needed.
assert_eq "answers at once" idle "$(cv status --json | jq -r .scan.state)"
mysid=$(ps -o sid= -p $$ | tr -d ' ')
dsid=$(ps -o sid= -p "$pid" | tr -d ' ')
[ "$dsid" != "$mysid" ] || fail "daemon still in the caller's session"
ok "detached: a session of its own"
assert_eq "detached: no controlling terminal" "?" "$(ps -o tty= -p "$pid" | tr -d ' ')"
kill -TERM "$pid"
timeout 10 sh -c "while kill -0 $pid 2>/dev/null; do :; done" || fail "did not exit on SIGTERM"
ok "exits on SIGTERM"
[ ! -e "$T/pid" ] || fail "pid file left behind"
ok "pid file removed"
[ ! -e "$D_SOCK" ] || fail "socket left behind"
ok "socket removed"

# A second daemon on a live socket is refused, and says why.
"$CERTVIGILD" -c "$T/conf" -S "$D_SOCK" -d "$D_STATE" --pid-file "$T/pid"
pid=$(cat "$T/pid")
T_PIDS="$T_PIDS $pid"
run_status st "$CERTVIGILD" -f -c "$T/conf" -S "$D_SOCK" -d "$T/state2" 2>"$T/err"
assert_eq "second daemon: exit 1" 1 "$st"
assert_match "second daemon: reason" "another certvigild is running" "$(cat "$T/err")"
assert_eq "first still answers" idle "$(cv status --json | jq -r .scan.state)"
kill -TERM "$pid"
timeout 10 sh -c "while kill -0 $pid 2>/dev/null; do :; done"

# A socket left by a daemon that died is cleared.
"$CERTVIGILD" -c "$T/conf" -S "$D_SOCK" -d "$D_STATE" --pid-file "$T/pid"
pid=$(cat "$T/pid")
kill -KILL "$pid"
timeout 10 sh -c "while kill -0 $pid 2>/dev/null; do :; done"
[ -S "$D_SOCK" ] || fail "expected a stale socket after SIGKILL"
run_status st "$CERTVIGILD" -c "$T/conf" -S "$D_SOCK" -d "$D_STATE" --pid-file "$T/pid"
assert_eq "stale socket: restart ok" 0 "$st"
pid=$(cat "$T/pid")
T_PIDS="$T_PIDS $pid"
assert_eq "stale socket: answers" idle "$(cv status --json | jq -r .scan.state)"
kill -TERM "$pid"
timeout 10 sh -c "while kill -0 $pid 2>/dev/null; do :; done"

# A config error: the starting process exits 1 with the reason.
printf '[daemon]\nbogus = 1\n' > "$T/bad.conf"
run_status st "$CERTVIGILD" -c "$T/bad.conf" -S "$D_SOCK" -d "$D_STATE" 2>"$T/err"
assert_eq "bad config: exit 1" 1 "$st"
assert_match "bad config: FILE:LINE" "bad.conf:2: unknown key" "$(cat "$T/err")"
echo "daemon-detach: $T_COUNT passed, 0 failed"
