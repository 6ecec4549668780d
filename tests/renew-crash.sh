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
# SIGTERM (systemctl stop) while the service is down for a renewal: the
# daemon finishes the renewal, then exits 0 -- nginx is not left stopped
# until the next start.  The start command waits for $T/go.
cat > "$T/start-slow.sh" <<EOT
#!/bin/sh
n=0
while [ ! -e "$T/go" ]; do n=\$((n + 1)); [ \$n -lt 600 ] || exit 1; sleep 0.1; done
exec "$T/start.sh"
EOT
chmod +x "$T/start-slow.sh"
sed -i "s|^start = .*|start = $T/start-slow.sh|" "$T/conf"
before=$(served)
: > "$T/daemon.log"
daemon_start "$T/conf"
cv renew web --now >/dev/null
wait_line "$T/daemon.log" "\\): starting$" 60 ||
    fail "SIGTERM: the renewal did not reach starting"
kill -TERM "$D_PID"
wait_line "$T/daemon.log" "finishing \\(starting\\) before exiting" ||
    fail "SIGTERM: no word of finishing the renewal"
nginx_running && fail "SIGTERM: nginx should still be stopped here"
pid_alive "$D_PID" || fail "SIGTERM: the daemon left with nginx stopped"
ok "SIGTERM with nginx stopped: the daemon stays to finish"
touch "$T/go"
run_status st wait "$D_PID"
T_PIDS=$(echo "$T_PIDS" | sed "s/ $D_PID//")
assert_eq "SIGTERM: exit 0 once the renewal is finished" 0 "$st"
nginx_running || fail "SIGTERM: nginx not running"
assert_eq "SIGTERM: the renewal was finished" done \
    "$(sqlite3 "$D_STATE/inventory.db" 'SELECT state FROM renewals ORDER BY id DESC LIMIT 1')"
new=$(sqlite3 "$D_STATE/inventory.db" 'SELECT new_sha1 FROM renewals ORDER BY id DESC LIMIT 1')
assert_eq "SIGTERM: nginx serves the new certificate" "$new" "$(served)"
[ "$new" != "$before" ] || fail "SIGTERM: nothing was renewed"
rm -f "$D_SOCK"
echo "renew-crash: $T_COUNT passed, 0 failed"
