#!/bin/sh
# What is served, watched (issue 15): a renewal's verify probes are
# recorded as the endpoint's last probe (origin verify, the thumbprint it
# waits for as expected_sha1) without a served_drift -- the renewal
# reports its own outcome -- and once it has rolled back, the watch
# probes again at once and finds the binding's certhash served.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
renew_conf "probe_interval = 1h"
old=$(file_sha1 "$T/live/web.pem")
# Started once (plain-once) with a copy of the old certificate: the new
# one is never served, verification fails until verify_timeout (15 s).
mkdir -p "$T/keep"
cp "$T/live/web.pem" "$T/live/web.key" "$T/keep/"
sed "s|$T/live/web\.|$T/keep/web.|" "$T/nginx/nginx.conf" > "$T/nginx/nginx-plain.conf"
daemon_start "$T/conf"
follow_start
lp() { cv binding show --json | jq -r ".[0].last_probe[0] | $1"; }

touch "$T/plain-once"
cv renew web --now >/dev/null
n=0
until [ "$(lp .origin)" = verify ]; do
	n=$((n + 1))
	[ $n -lt $(( $(slow 60) * 5 )) ] || fail "no verify probe recorded"
	sleep 0.2
done
ok "a verify probe is the endpoint's last probe"
new=$(cv renewals --json | jq -r '.[-1].new_sha1')
assert_eq "verify: expected_sha1 is the new certificate" "$new" "$(lp .expected_sha1)"
assert_eq "verify: served_sha1 is the old one" "$old" "$(lp .served_sha1)"
assert_eq "verify: match false" false "$(lp .match)"
wait_event "renewal [0-9]+ (done|rolled back)" 180
R=$(cv renewals --json | jq '.[-1]')
assert_eq "rolled back" rolled_back "$(echo "$R" | jq -r .state)"
n=0
until [ "$(lp .origin)" = watch ]; do
	n=$((n + 1))
	[ $n -lt $(( $(slow 30) * 5 )) ] || fail "no watch probe after the rollback"
	sleep 0.2
done
ok "the watch probes again after the renewal"
assert_eq "after the rollback: the certhash is served" true "$(lp .match)"
assert_eq "no served_drift for a renewal's own probes" 0 \
    "$(grep -c '"served_drift"' "$T/events.jsonl")"
daemon_stop
echo "served-renewal: $T_COUNT passed, 0 failed"
