#!/bin/sh
# Issue 17, ARI (RFC 9773): nginx bound to an [issuer acme] (pebble 2.10,
# whose management port sets a certificate's renewal information).
#  1. No maintenance window, ari_poll = 3s: a certificate pebble did not
#     issue has no window (last_error); pebble's own has one, which
#     renew --check-ari prints; a window set in the past renews within
#     ari_poll, and the new order carries replaces.
#  2. Windows on days D+2 and D+4 (UTC): an ARI window opening after the
#     next maintenance window (D+3..D+5) waits for the one inside it (D+4);
#     a restart neither forgets the window nor polls again at once; with
#     the test clock at that moment it renews.
#  3. An ARI window that closes before the next maintenance window opens:
#     renewal_emergency now, reason ari, with the explanation URL.
#  4. ari = no: nothing of it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"
need_test_hooks

ari() { cv binding show name=web --json | jq -r ".[0].ari.$1"; }
epoch() { date -u -d "$1" +%s; }
rfc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
day() { date -u -d "$(date -u +%F) + $1 days" +%s; }
# wait_ari JQ: until the binding's ari object satisfies JQ (bounded).
wait_ari() {
	_n=0
	until cv binding show name=web --json 2>/dev/null |
	    jq -e ".[0].ari | $1" >/dev/null 2>&1; do
		_n=$((_n + 1))
		[ $_n -lt "$(slow 300)" ] || fail "ari never had $1: $(cv \
		    binding show name=web --json | jq -c '.[0].ari')"
		sleep 0.2
	done
}
# set_ari START END URL: pebble answers that window for the served cert.
set_ari() {
	python3 - "$PEBBLE_MGMT/set-renewal-info/" "$PEBBLE_CA" \
	    "$T/live/web.pem" "$1" "$2" "$3" <<'PY' || fail "set-renewal-info"
import json, ssl, sys, urllib.request
url, ca, pem, start, end, expl = sys.argv[1:7]
ari = {"suggestedWindow": {"start": start, "end": end},
       "explanationURL": expl}
body = json.dumps({"certificate": open(pem).read(),
                   "ariResponse": json.dumps(ari)}).encode()
ctx = ssl.create_default_context(cafile=ca)
r = urllib.request.urlopen(urllib.request.Request(url, data=body,
    method="POST"), context=ctx, timeout=30)
assert r.status == 200, r.status
PY
}
# renewed_after ID: waits until a renewal newer than ID is done.
renewed_after() {
	_n=0
	until cv renewals --json | jq -e --argjson id "$1" \
	    'map(select(.id > $id and .state == "done")) | length > 0' \
	    >/dev/null; do
		_n=$((_n + 1))
		[ $_n -lt "$(slow 900)" ] || fail "no renewal after $1: $(cv \
		    renewals --json | jq -c '.[-1] | {id, state, error}')"
		sleep 0.2
	done
}
last_id() { cv renewals --json | jq -r 'if length == 0 then 0 else .[-1].id end'; }
replacements() { grep -c 'is a replacement of' "$T/pebble/log" || true; }

acme_setup
acme_conf "ari_poll = 3s"
daemon_start "$T/conf"

# 1. The test CA's certificate: pebble does not know it.
wait_ari '.last_error != null'
assert_eq "no window for a certificate the CA did not issue" null \
    "$(ari window_start)"
ok "last_error: $(ari last_error)"
run_status rc cv renew web --now --wait
assert_eq "renew --now --wait" 0 "$rc"
c1=$(served)
chains_to_pebble || fail "not a pebble certificate"
wait_ari '.window_start != null and .last_error == null'
run_status rc cv renew web --check-ari >"$T/check.out"
assert_eq "renew --check-ari exits 0" 0 "$rc"
assert_match "--check-ari prints the window" \
    "web: ARI window $(ari window_start) \.\. $(ari window_end)" \
    "$(cat "$T/check.out")"
assert_match "--check-ari --json" '"window_end"' \
    "$(cv renew web --check-ari --json)"
assert_eq "no replaces yet (the first order replaced no pebble certificate)" \
    0 "$(replacements)"
# The window moves to the past: renewed within ari_poll.
id=$(last_id)
now=$(date +%s)
set_ari "$(rfc $((now - 7200)))" "$(rfc $((now - 3600)))" \
    https://acme.example/incident-1
renewed_after "$id"
started=$(epoch "$(cv renewals --json | jq -r '.[-1].started')")
[ $((started - now)) -le $((3 * CV_SLOW + 5)) ] ||
    fail "renewal started $((started - now)) s after the window moved"
ok "a past window renewed within ari_poll ($((started - now)) s)"
c2=$(served)
[ "$c2" != "$c1" ] || fail "nginx still serves $c1"
assert_eq "the new order replaces the old certificate" 1 "$(replacements)"
assert_eq "two orders" 2 "$(new_orders)"
assert_eq "reason" due "$(cv renewals --json | jq -r '.[-1].reason')"
daemon_stop

# 2. Maintenance windows on D+2 and D+4, 01:00-05:00 UTC.
win="$(date -u -d @"$(day 2)" +%a),$(date -u -d @"$(day 4)" +%a) 01:00-05:00"
sed -i "/^\[binding web\]/a window = $win\ntimezone = UTC" "$T/conf"
sed -i 's/^ari_poll = 3s$/ari_poll = 1h/' "$T/conf"
daemon_start "$T/conf"
wait_ari '.window_start != null'
set_ari "$(rfc "$(day 3)")" "$(rfc "$(day 5)")" https://acme.example/later
run_status rc cv renew web --check-ari >"$T/check.out"
assert_eq "--check-ari" 0 "$rc"
assert_match "the new window" "ARI window $(rfc "$(day 3)")" \
    "$(cat "$T/check.out")"
nr=$(epoch "$(cv binding show name=web --json | jq -r '.[0].next_renewal')")
[ "$nr" -ge $(($(day 4) + 3600)) ] && [ "$nr" -lt $(($(day 4) + 5 * 3600)) ] ||
    fail "next renewal $(rfc "$nr") not in D+4's window ($win)"
assert_eq "not an emergency" false \
    "$(cv binding show name=web --json | jq -r '.[0].emergency')"
ok "waits for the maintenance window inside the ARI window: $(rfc "$nr")"
assert_eq "show --json has the window" "$(rfc "$(day 5)")" \
    "$(cv show --json "$(served)" | jq -r .ari.window_end)"
assert_eq "show --json: the explanation URL" https://acme.example/later \
    "$(cv show --json "$(served)" | jq -r .ari.explanation_url)"
m=$(cv metrics | grep '^certvigil_ari_window_start_seconds{binding="web"}' |
    sed 's/.* //')
assert_eq "metric certvigil_ari_window_start_seconds" "$(day 3)" "$m"
m=$(cv metrics | grep '^certvigil_ari_window_end_seconds{binding="web"}' |
    sed 's/.* //')
assert_eq "metric certvigil_ari_window_end_seconds" "$(day 5)" "$m"
id=$(last_id)
polled=$(ari polled)
daemon_stop
daemon_start "$T/conf"
assert_eq "the window kept across a restart" "$(rfc "$(day 3)")" \
    "$(ari window_start)"
assert_eq "not polled again at once" "$polled" "$(ari polled)"
assert_eq "no renewal started" "$id" "$(last_id)"
daemon_stop
# The test clock at the chosen moment: it renews.
daemon_try "$T/conf" CERTVIGIL_TEST_NOW=+$((nr - $(date +%s) + 2)) ||
    fail "daemon (clock ahead) did not start"
renewed_after "$id"
assert_eq "reason" due "$(cv renewals --json | jq -r '.[-1].reason')"
assert_eq "replaces again" 2 "$(replacements)"
ok "renewed at the chosen moment"
daemon_stop

# 3. The CA wants it gone within 20 hours; the next window is D+2.
sed -i 's/^ari_poll = 1h$/ari_poll = 3s/' "$T/conf"
daemon_start "$T/conf"
follow_start
c3=$(served)
wait_ari '.window_start != null and .last_error == null'
id=$(last_id)
now=$(date +%s)
set_ari "$(rfc $((now + 600)))" "$(rfc $((now + 72000)))" \
    https://acme.example/incident-2
wait_event 'renewal_emergency.*reason ari.*https://acme.example/incident-2' 60
renewed_after "$id"
assert_eq "reason ari" ari "$(cv renewals --json | jq -r '.[-1].reason')"
[ "$(served)" != "$c3" ] || fail "nginx still serves $c3"
chains_to_pebble || fail "not a pebble certificate"
ok "emergency renewal outside the maintenance window"
daemon_stop

# 4. ari = no: no window, nothing polled, --check-ari refused.
sed -i 's/^ari_poll = 3s$/ari = no/' "$T/conf"
daemon_start "$T/conf"
assert_eq "ari = no: binding show's ari is null" null \
    "$(cv binding show name=web --json | jq -c '.[0].ari')"
run_status rc cv renew web --check-ari
[ "$rc" != 0 ] || fail "--check-ari with ari = no exited 0"
assert_eq "no ARI metric" "" \
    "$(cv metrics | grep '^certvigil_ari_window_start_seconds{' || true)"
daemon_stop
echo "acme-ari: $T_COUNT passed, 0 failed"
