#!/bin/sh
# Issue 17: bad servers and stuck orders, each a one-line reason in
# renewals, the renewal failed before stopping (retried with the engine's
# backoff), nginx untouched:
#   1. a hostile directory (a small web server on loopback, http:// as
#      http.c allows there): huge, deeply nested, wrong-typed;
#   2. an order that never becomes ready: order_timeout ends it (dns-01
#      whose propagation wait outlasts it) and the dead order's record
#      goes;
#   3. pebble stopped mid-renewal (the order out, the renewal waiting):
#      the reason is the connection, next attempt after the backoff; when
#      pebble is back, a renewal succeeds.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"

PEBBLE_ENV=PEBBLE_VA_ALWAYS_VALID=1 NO_WEBROOT=1 acme_setup
untouched() {	# WHAT: nginx's master and served certificate as before
	assert_eq "$1: nginx master untouched" "$master" "$(cat "$T/nginx/nginx.pid")"
	assert_eq "$1: nginx serves what it served" "$before" "$(served)"
}
failed_with() {	# WHAT REGEX: the last renewal failed early with REGEX
	R=$(cv renewals --json | jq '.[-1]')
	assert_eq "$1: renewal failed" failed "$(echo "$R" | jq -r .state)"
	_e=$(echo "$R" | jq -r .error)
	assert_match "$1: the reason" "$2" "$_e"
	[ "$(printf '%s\n' "$_e" | wc -l)" = 1 ] || fail "$1: reason on more than one line"
	echo "$R" | jq -r '.steps[].state' | grep -q stopping &&
	    fail "$1: it went as far as stopping"
	untouched "$1"
}

# 1. Hostile directories.
mkdir -p "$T/hostile"
HPORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$T/hostile" "$HPORT" \
    >"$T/hostile.log" 2>&1 </dev/null &
T_PIDS="$T_PIDS $!"
_n=0
until port_open "$HPORT"; do
	_n=$((_n + 1)); [ $_n -lt 300 ] || fail "hostile server did not come up"
	sleep 0.1
done
acme_conf
sed -i "s|^directory = .*|directory = http://127.0.0.1:$HPORT/dir|" "$T/conf"
daemon_start "$T/conf"
master=$(cat "$T/nginx/nginx.pid")
before=$(served)
python3 -c 'import sys; sys.stdout.write("{\"newNonce\": \"" + "A" * 400000 + "\"}")' >"$T/hostile/dir"
run_status rc cv renew web --now --wait
failed_with "huge directory" "reply larger than 262144 bytes"
python3 -c 'import sys; sys.stdout.write("{\"a\":" * 5000 + "1" + "}" * 5000)' >"$T/hostile/dir"
run_status rc cv renew web --now --wait
failed_with "deeply nested directory" "not JSON: .*(nest|depth)"
printf '{"newNonce": 5, "newAccount": "https://x/a", "newOrder": "https://x/o"}' >"$T/hostile/dir"
run_status rc cv renew web --now --wait
failed_with "wrong-typed directory" '"newNonce" is not a string'
printf '{"newNonce": "https://x/n", "newAccount": "https://x/a", "newOrder": "https://x/o", "meta": {"profiles": []}}' >"$T/hostile/dir"
run_status rc cv renew web --now --wait
failed_with "wrong-typed meta" '"profiles" is not an object'
ok "hostile directories: one-line reasons, nothing touched"
ls "$D_STATE"/work/acme-*.json 2>/dev/null && fail "failed renewals left progress records"
ok "failed renewals leave no progress record"
daemon_stop
# Records of renewals that ended while the daemon was down: the binding's
# next renewal prunes its own binding's, not another's.
printf '{"binding":"web","step":"ordered"}' >"$D_STATE/work/acme-999.json"
printf '{"binding":"other","step":"ordered"}' >"$D_STATE/work/acme-998.json"

# 2. An order that never becomes ready: order_timeout ends it.
acme_conf "challenge = dns-01" "dns_hook = /bin/true" \
    "dns_propagation = 1h" "order_timeout = 5s"
sed -i 's/^san = .*/san = DNS:localhost/' "$T/conf"	# dns-01: no IPs
daemon_start "$T/conf"
t0=$(date +%s)
run_status rc cv renew web --now --wait
t1=$(date +%s)
failed_with "order_timeout" "order https://.* not done after 5s \(order_timeout; step ordered\): abandoned"
[ $((t1 - t0)) -ge 5 ] || fail "ended after $((t1 - t0)) s, before order_timeout"
[ $((t1 - t0)) -lt "$(slow 60)" ] || fail "ended after $((t1 - t0)) s: the 1h wait was not cut short"
ls "$D_STATE"/work/acme-*.json 2>/dev/null | grep -v 'acme-998\.json$' &&
    fail "the abandoned order's record (or the stale one) is left"
[ -f "$D_STATE/work/acme-998.json" ] || fail "another binding's record pruned"
ok "order_timeout: the stuck order ends failed, its record and the binding's stale one gone"
daemon_stop

# 3. pebble stopped while the order is out (dns-01 waiting 10 s).
acme_conf "challenge = dns-01" "dns_hook = /bin/true" "dns_propagation = 10s"
sed -i 's/^san = .*/san = DNS:localhost/' "$T/conf"
daemon_start "$T/conf"
cv renew web --now >/dev/null
id=$(cv renewals --json | jq -r '.[-1].id')
_n=0
until cv renewals --json | jq -r '.[-1].steps[].detail' | grep -q 'acme ordered'; do
	_n=$((_n + 1)); [ $_n -lt "$(slow 300)" ] || fail "the order was not placed"
	sleep 0.1
done
kill "$PEBBLE_PID"
wait "$PEBBLE_PID" 2>/dev/null || true
wait_renewal "$id"
failed_with "pebble stopped" "(Couldn't connect|Connection refused|connect)"
na=$(echo "$R" | jq -r .next_attempt)
[ "$na" != null ] || fail "no next_attempt on the failed renewal"
wait_s=$(( $(date -u -d "$na" +%s) - $(date +%s) ))
# The binding's sixth failure in a row here: backoff 300 s doubled per
# attempt, capped at 6 h (+ jitter).
[ "$wait_s" -ge 200 ] && [ "$wait_s" -le 27100 ] ||
    fail "next attempt in $wait_s s: not the engine's backoff"
ok "pebble stopped: the connection is the reason, next attempt in $wait_s s"
# pebble back on the same ports (a new root: fetched again).
env PEBBLE_VA_NOSLEEP=1 PEBBLE_VA_ALWAYS_VALID=1 "$PEBBLE" \
    -config "$T/pebble/config.json" >>"$T/pebble/log" 2>&1 &
PEBBLE_PID=$!
T_PIDS="$T_PIDS $PEBBLE_PID"
_n=0
until [ "$(grep -c 'ACME directory available' "$T/pebble/log")" -ge 2 ]; do
	_n=$((_n + 1)); [ $_n -lt "$(slow 600)" ] || fail "pebble did not come back"
	sleep 0.1
done
pebble_get /roots/0 >"$T/pebble-root.pem" || fail "cannot fetch pebble's new root"
run_status rc cv renew web --now --wait
assert_eq "pebble back: renewal done" "0 done" "$rc $(cv renewals --json | jq -r '.[-1].state')"
chains_to_pebble || fail "nginx does not serve a pebble certificate"
ok "pebble back: nginx serves a pebble certificate"
daemon_stop
echo "acme-bad: passed"
