#!/bin/sh
# Issue 13 items 13 and 14: a stop or start command's output is journaled
# on the step that ran it (stopping, starting), not on the next one; and
# renew --now --wait follows the renewal to its end, printing each step,
# exit 0 when done, 1 when rolled back.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
# Commands that say something, then do what renew-lib's scripts do.
printf '#!/bin/sh\necho "stop-said-this"\nexec %s\n' "$T/stop.sh" > "$T/stop-say.sh"
printf '#!/bin/sh\necho "start-said-this"\nexec %s\n' "$T/start.sh" > "$T/start-say.sh"
chmod +x "$T/stop-say.sh" "$T/start-say.sh"
renew_conf
sed -i "s|^stop = .*|stop = $T/stop-say.sh|; s|^start = .*|start = $T/start-say.sh|" "$T/conf"
daemon_start "$T/conf"

# --wait: each step printed, exit 0 on done.
rc=0
cv renew web --now --wait > "$T/wait.out" 2>&1 || rc=$?
assert_eq "renew --now --wait exits 0 when done" 0 "$rc"
R=$(cv renewals --json | jq '.[-1]')
assert_eq "renewal done" done "$(echo "$R" | jq -r .state)"
assert_eq "it waited: every step printed, in order" \
    "due issuing issued stopping unbinding binding starting verifying done" \
    "$(sed -n 's/^    [0-9TZ:-]*  \([a-z_]*\).*/\1/p' "$T/wait.out" | tr '\n' ' ' | sed 's/ $//')"
assert_match "the last line says done" "^web: renewal [0-9]+ done" "$(tail -n 1 "$T/wait.out")" || true
grep -q "stopping .*stop-said-this" "$T/wait.out" || fail "--wait: the stop output is not on stopping"
ok "--wait prints the stop output on its step"

# Item 13: the output is on the step that ran the command.
step() { echo "$R" | jq -r --arg s "$1" '[.steps[] | select(.state == $s) | .detail // ""] | join("|")'; }
assert_match "stop output on stopping" "stop-said-this" "$(step stopping)"
assert_match "start output on starting" "start-said-this" "$(step starting)"
case "$(step unbinding)$(step verifying)" in
*said-this*) fail "a command's output is journaled one row late: unbinding='$(step unbinding)' verifying='$(step verifying)'" ;;
esac
ok "no output one row late"
cv renewals | grep -q "starting .*start-said-this" || fail "renewals text: start output not on starting"
ok "renewals prints the start output on starting"

# --wait --json: the journal entry at the end.
assert_eq "--wait --json prints the final entry" done \
    "$(cv renew web --now --wait --json | jq -r .state)"

# A start that fails: rolled back, --wait exits 1 and says why.
touch "$T/fail-start"
rc=0
cv renew web --now --wait > "$T/wait.out" 2>&1 || rc=$?
assert_eq "renew --now --wait exits 1 when rolled back" 1 "$rc"
assert_match "the last line says rolled back" "^web: renewal [0-9]+ rolled_back: .*start refused" \
    "$(tail -n 1 "$T/wait.out")"
grep -q "rolling_back" "$T/wait.out" || fail "--wait: rolling_back step not printed"
ok "--wait printed the rollback"
R=$(cv renewals --json | jq '.[-1]')
assert_match "the failed start's output on starting" "start refused" "$(step starting)"
nginx_running || fail "nginx is not running after the rollback"

# Not due, without --now: nothing to wait for, exit 0.
rc=0
cv renew web --wait > "$T/wait.out" 2>&1 || rc=$?
assert_eq "renew --wait when not due exits 0" 0 "$rc"
assert_match "not due" "not due" "$(cat "$T/wait.out")"

daemon_stop
echo "renew-wait: $T_COUNT passed, 0 failed"
