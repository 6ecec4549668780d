#!/bin/sh
# Issue 14: kill -9 at every state of a multi-service renewal (nginx with
# a config_test, HAProxy, an SMTP server with STARTTLS): the daemon dies
# right after committing the state (test-build crash point, _exit: no
# cleanup, as kill -9), is restarted, and the renewal ends done or rolled
# back with all three services up, each serving what the binding names.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/services-lib.sh"
need_test_hooks

renew_setup
services_setup
services_conf "config_test = /usr/sbin/nginx -t -q -p $T/nginx -c $T/nginx/nginx.conf"
for state in testing stopping unbinding binding starting verifying; do
	before=$(served_at "$NGX_PORT")
	: > "$T/daemon.log"
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
	nginx_running && ha_running && mail_running ||
	    fail "$state: a service is down (nginx $(nginx_running && echo up), haproxy $(ha_running && echo up), mail $(mail_running && echo up))"
	ok "$state: all three services running"
	named=$(cv binding show --json | jq -r '.[0].certhash')
	assert_eq "$state: all three serve what the binding names" \
	    "$named $named $named" "$(served3)"
	assert_eq "$state: the file holds it" "$named" "$(file_sha1 "$T/live/web.pem")"
	[ "$named" != "$before" ] || [ "$final" = rolled_back ] || fail "$state: nothing changed"
	[ "$(cv renewals --json | jq -r '.[-1].downtime_ms')" -gt 0 ] ||
	    fail "$state: no downtime measured across the crash"
	daemon_stop
done
echo "renew-services-crash: $T_COUNT passed, 0 failed"
