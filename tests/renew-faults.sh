#!/bin/sh
# Fault injection during a renewal (issue 7).  tests/faultinject.so fails
# the Nth write / fsync / rename / open(O_CREAT) on the deployed files
# ($T/live) or in the state directory (journal, store, issuer work), and
# the Nth malloc anywhere (builds without ASan), counted from the moment
# the issuer opens the CA key -- for N over the whole renewal.  After
# every run (and, when the daemon died, a restart without faults that
# recovers): the live certificate and key are complete and match, nginx
# runs and serves the certificate the file holds, the inventory passes
# PRAGMA integrity_check and the binding names what is served.  Then a
# full disk under the journal in the middle of a renewal: the service is
# not left stopped.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
need sqlite3
FI=$top_builddir/tests/faultinject.so
[ -f "$FI" ] || skip "tests/faultinject.so not built"
# The injector wraps libc under the program; under valgrind it would wrap
# valgrind.  The ASan build runs these.
[ -z "${CV_VALGRIND:-}" ] || skip "fault injection does not run under valgrind"
asan=no
if nm "$CERTVIGILD" 2>/dev/null | grep -q __asan_init ||
    ldd "$CERTVIGILD" | grep -q libasan; then
	asan=yes
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0"
	export ASAN_OPTIONS
fi
# Points per (call, place): the whole range in this many steps.
POINTS=${RENEW_FAULT_POINTS:-20}
# Which PLACE:CALL pairs (a shell pattern; malloc's place is "any"; the
# full disk is state:disk-full), and which N only (to replay one run).
ONLY=${RENEW_FAULT_ONLY:-*}
NLIST=${RENEW_FAULT_N:-}

# points TOTAL STEP: the N to try.
points() {
	if [ -n "$NLIST" ]; then echo "$NLIST"; else seq 1 "$2" "$1"; fi
}

renew_setup
renew_conf
mkdir "$T/orig"
cp -p "$T/live/web.pem" "$T/live/web.key" "$T/orig/"
ORIG=$(file_sha1 "$T/orig/web.pem")

pubkey() { openssl pkey -pubout -in "$1" 2>/dev/null | sha256sum; }
certpub() { openssl x509 -noout -pubkey -in "$1" 2>/dev/null | sha256sum; }

# Every run starts from the same world: the first certificate deployed
# and served, no state.
reset_world() {
	"$T/stop.sh" >/dev/null 2>&1 || true
	rm -rf "$D_STATE" "$T/live"
	mkdir "$T/live"
	cp -p "$T/orig/web.pem" "$T/orig/web.key" "$T/live/"
	"$T/start.sh" >/dev/null || fail "nginx did not start"
}

# A renewal has ended: done, rolled back, or failed before stopping.
END='"kind": ?"(renewal_done|rolled_back)"|nothing was touched'

# daemon_go ENV...: certvigild with ENV (may fail to get ready) and a
# follower writing $T/ev.  Returns 1 when it did not get ready.
daemon_go() {
	daemon_try "$T/conf" "$@" || return 1
	: > "$T/ev"
	# The follower ends with the daemon; the line after it says so.
	{ "$CERTVIGIL" -S "$D_SOCK" events --follow --json 2>/dev/null || :
	  echo "follower-ended"; } >> "$T/ev" &
	F_PID=$!
	T_PIDS="$T_PIDS $F_PID"
	return 0
}

# settle [START]: waits until an event ending a renewal streams after a
# line containing START (none: from the first line), or the daemon dies (the
# follower ends with it).  Sets OUTCOME to ended, died or stuck.
# (tail feeds the loop through a FIFO so that it can be stopped the moment
# the loop has seen enough: tail -f notices a closed pipe only on its next
# write.)
settle() {
	rm -f "$T/ev.fifo"; mkfifo "$T/ev.fifo"
	timeout "$(slow 150)" tail -n +1 -f "$T/ev" > "$T/ev.fifo" 2>/dev/null &
	_tail=$!
	# (A shell loop, not awk: mawk reads a pipe in blocks.)
	_go=${1:+no} _seen=no
	while IFS= read -r _line; do
		[ "$_line" != follower-ended ] || break
		case $_go:$_line in no:*"$1"*) _go=yes ;; esac
		[ "$_go" = no ] && continue
		if printf '%s\n' "$_line" | grep -Eq -- "$END"; then
			_seen=yes
			break
		fi
	done < "$T/ev.fifo"
	kill "$_tail" 2>/dev/null || true
	wait "$_tail" 2>/dev/null || true
	if [ $_seen = yes ]; then
		OUTCOME=ended
	elif pid_alive "$D_PID"; then
		OUTCOME=stuck
	else
		OUTCOME=died
	fi
}

# reap: waits for a daemon that died or was told to stop.
reap() {
	run_status REAPED wait "$D_PID"
	T_PIDS=$(echo "$T_PIDS" | sed "s/ $D_PID//; s/ $F_PID//")
	kill "$F_PID" 2>/dev/null || true
	wait "$F_PID" 2>/dev/null || true
	rm -f "$D_SOCK"
}

# fail, with the end of the daemon's log first: a faulted run is hard to
# reproduce (malloc counts shift with timing).
fail_log() {
	echo "--- the last runs' daemon log:" >&2
	tail -n 60 "$T/daemon.log" >&2 || :
	echo "--- the journal:" >&2
	sqlite3 "$D_STATE/inventory.db" "SELECT * FROM renewals;
	    SELECT * FROM renewal_steps; SELECT name, certhash FROM bindings" >&2 || :
	fail "$@"
}

# check_world LABEL: the invariants, with the daemon stopped.
check_world() {
	for f in web.pem web.key; do
		[ -s "$T/live/$f" ] || fail_log "$1: $f missing or empty"
	done
	[ "$(certpub "$T/live/web.pem")" = "$(pubkey "$T/live/web.key")" ] ||
	    fail_log "$1: web.pem and web.key do not belong together"
	[ "$(certpub "$T/live/web.pem")" != "$(echo | sha256sum)" ] ||
	    fail_log "$1: web.pem does not parse"
	if ls "$T/live" | grep -q cvtmp; then
		fail_log "$1: temporary file left: $(ls "$T/live")"
	fi
	nginx_running || fail_log "$1: nginx is not running"
	live=$(file_sha1 "$T/live/web.pem")
	[ "$(served)" = "$live" ] || fail_log "$1: nginx serves $(served), the file holds $live"
	r=$(sqlite3 "$D_STATE/inventory.db" 'PRAGMA integrity_check')
	[ "$r" = ok ] || fail_log "$1: integrity_check: $r"
	named=$(sqlite3 "$D_STATE/inventory.db" \
	    "SELECT certhash FROM bindings WHERE name = 'web'")
	[ -z "$named" ] || [ "$named" = "$live" ] ||
	    fail_log "$1: the binding names $named, $live is served"
	active=$(sqlite3 "$D_STATE/inventory.db" "SELECT count(*) FROM renewals
	    WHERE state NOT IN ('done', 'failed', 'rolled_back')")
	[ "$active" = 0 ] || fail_log "$1: $active renewal(s) still open in the journal"
	[ "$live" = "$ORIG" ] && OLD=$((OLD + 1)) || NEW=$((NEW + 1))
}

# one_run LABEL ENV...: a renewal with faults, then (if needed) a
# restart without faults that finishes it; then the invariants.
RUNS=0 OLD=0 NEW=0 DIED=0
one_run() {
	_label=$1; shift
	_t0=$(now_ms)
	reset_world
	daemon_go "$@" || fail "$_label: certvigild did not get ready"
	"$CERTVIGIL" -S "$D_SOCK" renew web --now >/dev/null 2>&1 || true
	settle ""
	_first=$OUTCOME
	case $OUTCOME in
	stuck)	fail_log "$_label: the renewal neither ended nor killed the daemon" ;;
	ended)	kill -TERM "$D_PID" 2>/dev/null || :
		reap
		# Out of memory may abort it after the renewal's end, too.
		case $REAPED:$* in
		0:*) ;;
		13[44]:*FAULT_CALL=malloc*) DIED=$((DIED + 1))
			_first="ended, then died (exit $REAPED: $(tail -n 1 "$T/daemon.log"))" ;;
		*) fail_log "$_label: exit $REAPED on SIGTERM" ;;
		esac ;;
	died)	reap; DIED=$((DIED + 1))
		_first="died (exit $REAPED: $(tail -n 1 "$T/daemon.log"))" ;;
	esac
	# A restart without faults: whatever the journal left open is
	# finished (resumed or rolled back) before we look.
	daemon_go || fail "$_label: no restart"
	open=$(sqlite3 "$D_STATE/inventory.db" "SELECT count(*) FROM renewals
	    WHERE state NOT IN ('done', 'failed', 'rolled_back')")
	if [ "$open" != 0 ]; then
		settle renewal_resumed
		[ $OUTCOME = ended ] || fail "$_label: recovery $OUTCOME"
	fi
	kill -TERM "$D_PID"; reap
	[ "$REAPED" = 0 ] || fail "$_label: clean restart exited $REAPED"
	check_world "$_label"
	RUNS=$((RUNS + 1))
	echo "# $_label: $_first, $(( $(now_ms) - _t0 )) ms"
}

# count CALL PLACE PRELOAD: sets total to the calls a fault-free renewal
# makes (FAULT_COUNT).
count() {
	rm -f "$T/count"
	one_run "count $1" FAULT_CALL="$1" FAULT_N=0 FAULT_AFTER=ca.key \
	    FAULT_COUNT="$T/count" ${2:+FAULT_PATH="$2"} LD_PRELOAD="$3"
	total=$(awk '{ n += $2 } END { print n + 0 }' "$T/count")
}

# ---- one fault, for N over the renewal -----------------------------------
for place in live state; do
	dir=$T/live
	[ $place = live ] || dir=$D_STATE
	for call in write fsync rename open; do
		case $place:$call in $ONLY) ;; *) continue ;; esac
		count $call "$dir" "$FI"
		[ "$total" -gt 0 ] || fail "$call in $place: no calls counted"
		step=$(( (total + POINTS - 1) / POINTS ))
		for n in $(points "$total" $step); do
			one_run "$call #$n in $place" FAULT_CALL=$call FAULT_N=$n \
			    FAULT_AFTER=ca.key FAULT_PATH="$dir" LD_PRELOAD="$FI"
		done
		ok "$call #1..$total failing in $place (step $step): old or new pair, served, journal closed"
	done
done
case any:malloc in $ONLY) run_malloc=$asan ;; *) run_malloc=skip ;; esac
if [ $run_malloc = no ]; then
	FIM=${FI%.so}-malloc.so
	count malloc "" "$FIM"
	step=$(( (total + 3 * POINTS - 1) / (3 * POINTS) ))
	for n in $(points "$total" $step); do
		one_run "malloc #$n" FAULT_CALL=malloc FAULT_N=$n \
		    FAULT_AFTER=ca.key LD_PRELOAD="$FIM"
	done
	ok "malloc #1..$total failing (step $step): old or new pair, served, journal closed"
elif [ $run_malloc = yes ]; then
	echo "# malloc faults skipped: the ASan runtime owns malloc"
fi
echo "# measured: $RUNS faulted renewals; $NEW ended on the new certificate, $OLD on the old; the daemon died in $DIED and its restart finished the job"

# ---- the journal's disk fills up in the middle of a renewal ---------------
# Every write to the inventory fails from the Nth on (ENOSPC), N half-way
# through a renewal's journal writes: the daemon cannot record a step, and
# must still not leave nginx stopped.
case state:disk-full in $ONLY) ;; *) echo "renew-faults: $T_COUNT passed, 0 failed"; exit 0 ;; esac
count write inventory.db "$FI"
half=$((total / 2))
reset_world
: > "$T/daemon.log"
daemon_go FAULT_CALL=write FAULT_N=$half FAULT_STICKY=1 FAULT_ERRNO=ENOSPC \
    FAULT_AFTER=ca.key FAULT_PATH=inventory.db LD_PRELOAD="$FI" ||
    fail "disk full: no start"
"$CERTVIGIL" -S "$D_SOCK" renew web --now >/dev/null 2>&1 || true
# The journal cannot say so: the log does.
wait_line "$T/daemon.log" "serving the previous certificate without the journal|cannot journal; retrying (due|issuing|issued|verifying|rolling_back) " 120 ||
    fail "disk full: nothing in the log"
assert_match "disk full: the log says why" "No space left|disk is full|disk I/O error" \
    "$(grep -i "journal" "$T/daemon.log" | tail -n 5)"
if grep -q "rolling back without it" "$T/daemon.log"; then
	echo "# disk full: the service was down; rolled back without the journal"
	assert_eq "disk full: the old certificate served while the journal cannot say so" \
	    "$ORIG" "$(served)"
else
	echo "# disk full: the journal stopped before the service went down: retrying"
fi
kill -TERM "$D_PID"; reap
nginx_running || fail "disk full: nginx left stopped"
ok "disk full: nginx running"
daemon_go || fail "disk full: no restart"
if [ "$(sqlite3 "$D_STATE/inventory.db" "SELECT count(*) FROM renewals
    WHERE state NOT IN ('done', 'failed', 'rolled_back')")" != 0 ]; then
	settle renewal_resumed
	[ $OUTCOME = ended ] || fail "disk full: recovery $OUTCOME"
fi
kill -TERM "$D_PID"; reap
check_world "disk full"
ok "disk full: after the restart, old or new pair served, journal closed"
echo "renew-faults: $T_COUNT passed, 0 failed"
