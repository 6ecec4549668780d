#!/bin/sh
# A service command that hangs is killed at service_timeout (with what it
# started) and counts as a failure: a hanging stop, or a hanging start,
# means rollback, and nginx is left running with the old certificate.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
renew_conf "service_timeout = 2s"
old=$(file_sha1 "$T/live/web.pem")
daemon_start "$T/conf"
follow_start

# The stop command hangs (and keeps hanging during the rollback).
touch "$T/hang-stop"
t0=$(date +%s)
renew_and_wait
assert_eq "hanging stop: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
assert_eq "hanging stop: steps" "due issuing issued stopping rolling_back rolled_back" \
    "$(echo "$R" | jq -r '[.steps[].state] | join(" ")')"
assert_match "hanging stop: killed at the timeout" "killed after 2s" \
    "$(echo "$R" | jq -r .error)"
[ $(( $(date +%s) - t0 )) -lt 30 ] || fail "the hang was not cut at the timeout"
ok "hanging stop cut short"
pid=$(cat "$T/hang-stop.pid")
! kill -0 "$pid" 2>/dev/null || fail "the hanging stop command ($pid) still runs"
ok "the hanging command was killed"
rm -f "$T/hang-stop"
nginx_running || fail "nginx is not running"
ok "hanging stop: nginx running"
assert_eq "hanging stop: old certificate served" "$old" "$(served)"
assert_eq "hanging stop: the binding names it" "$old" \
    "$(cv binding show --json | jq -r '.[0].certhash')"
assert_eq "hanging stop: file untouched" "$old" "$(file_sha1 "$T/live/web.pem")"

# The start command hangs once (the new files are in place by then).
touch "$T/hang-start"
renew_and_wait
assert_eq "hanging start: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
assert_match "hanging start: killed at the timeout" "killed after 2s" \
    "$(echo "$R" | jq -r .error)"
pid=$(cat "$T/hang-start.pid")
! kill -0 "$pid" 2>/dev/null || fail "the hanging start command ($pid) still runs"
ok "hanging start killed"
nginx_running || fail "nginx is not running"
ok "hanging start: nginx running"
assert_eq "hanging start: old certificate served" "$old" "$(served)"
assert_eq "hanging start: old file back" "$old" "$(file_sha1 "$T/live/web.pem")"

daemon_stop
echo "renew-timeout: $T_COUNT passed, 0 failed"
