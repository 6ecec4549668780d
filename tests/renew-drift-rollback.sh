#!/bin/sh
# A drifted binding (cert_file and key_file replaced by hand) whose
# renewal fails after stopping: the rollback puts back what was live --
# the drifted files -- and verifies that, not the binding's certhash.
# One rollback, the service up serving the restored certificate, the
# renewal ends rolled_back and says the binding was drifted; no
# rollback_failed loop (issue 11).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
# A window days away: only the forced renewal below runs.
renew_conf "window = $(date -d '+3 days' +%a) 01:00-02:00"
old=$(file_sha1 "$T/live/web.pem")
mkdir -p "$T/other"
renew_issue "$T/other/web.pem" "$T/other/web.key"
other=$(file_sha1 "$T/other/web.pem")

daemon_start "$T/conf"
follow_start
assert_eq "the binding names the first certificate" "$old" \
    "$(cv binding show --json | jq -r '.[0].certhash')"

# Someone deploys another certificate and its key by hand.
cp "$T/other/web.key" "$T/live/web.key.tmp"
mv "$T/live/web.key.tmp" "$T/live/web.key"
cp "$T/other/web.pem" "$T/live/web.pem.tmp"
mv "$T/live/web.pem.tmp" "$T/live/web.pem"
wait_event "\"kind\": *\"drift\".*web: $T/live/web.pem holds $other" 10
ok "drift reported"

# The renewal's start fails once: the rollback must end, not loop.
touch "$T/fail-start"
cv renew web --now >/dev/null
id=$(cv renewals --json | jq -r '.[-1].id')
wait_event "\"rolled_back\"|\"rollback_failed\"" 180
assert_eq "no rollback_failed" 0 \
    "$(grep -c '"kind": *"rollback_failed"' "$T/events.jsonl")"
R=$(cv renewals --json | jq '.[-1]')
assert_eq "the same renewal" "$id" "$(echo "$R" | jq -r '.id')"
assert_eq "renewal ends rolled_back" rolled_back "$(echo "$R" | jq -r '.state')"
assert_eq "one rollback" 1 \
    "$(echo "$R" | jq '[.steps[] | select(.state == "rolling_back")] | length')"
assert_eq "renewals: drifted" true "$(echo "$R" | jq -r '.drifted')"
assert_eq "renewals: what the rollback restored" "$other" \
    "$(echo "$R" | jq -r '.restored_sha1')"
assert_eq "renewals: old_sha1 is still the binding's" "$old" \
    "$(echo "$R" | jq -r '.old_sha1')"
grep -q "\"kind\": *\"renewal_drifted\".*held $other, not $old" "$T/events.jsonl" ||
    fail "no renewal_drifted event at unbinding"
ok "renewal_drifted event at unbinding"
grep -q "\"kind\": *\"rolled_back\".*which hold $other: the binding had drifted" "$T/events.jsonl" ||
    fail "the rolled_back event does not say the binding was drifted"
ok "rolled_back event names the drifted certificate"
nginx_running || fail "nginx is not running after the rollback"
ok "nginx running after the rollback"
assert_eq "nginx serves the restored (drifted) certificate" "$other" "$(served)"
assert_eq "cert_file holds it" "$other" "$(file_sha1 "$T/live/web.pem")"
assert_eq "the binding still names its certhash" "$old" \
    "$(cv binding show --json | jq -r '.[0].certhash')"
assert_eq "nothing active" 0 \
    "$(cv renewals --json | jq '[.[] | select(.state | test("^(done|failed|rolled_back)$") | not)] | length')"

daemon_stop
echo "renew-drift-rollback: $T_COUNT passed, 0 failed"
