#!/bin/sh
# For every state from stopping to verifying: the daemon dies right after
# committing it (test-build crash point), is restarted, and nginx ends up
# running and serving exactly the certificate the binding names.  A
# second restart changes nothing.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
renew_conf
for state in stopping unbinding binding starting verifying; do
	before=$(served)
	CERTVIGIL_TEST_CRASH_AT=$state daemon_start "$T/conf"
	cv renew web --now >/dev/null || true
	run_status st wait "$D_PID"
	[ "$st" = 99 ] || { cat "$T/daemon.log" >&2; fail "$state: daemon exit $st, not the crash point"; }
	T_PIDS=$(echo "$T_PIDS" | sed "s/ $D_PID//")
	rm -f "$D_SOCK"
	assert_eq "$state: journal stopped there" "$state" \
	    "$(sqlite3 "$D_STATE/inventory.db" 'SELECT state FROM renewals ORDER BY id DESC LIMIT 1')"

	id=$(sqlite3 "$D_STATE/inventory.db" 'SELECT max(id) FROM renewals')
	: > "$T/events.jsonl"
	daemon_start "$T/conf"
	"$CERTVIGIL" -S "$D_SOCK" events --follow --json --since 1h >> "$T/events.jsonl" &
	T_PIDS="$T_PIDS $!"
	wait_event "renewal $id (done|rolled back)" 180
	final=$(cv renewals --json | jq -r '.[-1].state')
	assert_match "$state: finished or rolled back" "^(done|rolled_back)$" "$final"
	nginx_running || fail "$state: nginx is not running"
	ok "$state: nginx running"
	named=$(cv binding show --json | jq -r '.[0].certhash')
	assert_eq "$state: nginx serves what the binding names" "$named" "$(served)"
	assert_eq "$state: the file holds it" "$named" "$(file_sha1 "$T/live/web.pem")"
	[ "$named" != "$before" ] || [ "$final" = rolled_back ] || fail "$state: nothing changed"
	daemon_stop
	# Once more: nothing to resume, nothing changes.
	steps=$(sqlite3 "$D_STATE/inventory.db" 'SELECT count(*) FROM renewal_steps')
	daemon_start "$T/conf"
	assert_eq "$state: second restart resumes nothing" "$steps" \
	    "$(sqlite3 "$D_STATE/inventory.db" 'SELECT count(*) FROM renewal_steps')"
	assert_eq "$state: still served" "$named" "$(served)"
	daemon_stop
done
echo "renew-crash: $T_COUNT passed, 0 failed"
