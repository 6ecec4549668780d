#!/bin/sh
# Issue 17: nginx bound to an [issuer acme] (pebble, http-01 by webroot).
# renew --now --wait: one order, nginx serves a certificate that chains
# to pebble's root, the challenge files are gone, renewals shows the
# order.  Then a validation failure (the webroot is not served): the
# renewal fails before stopping, with the CA's reason, nginx untouched.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"

acme_setup
acme_conf
before=$(served)
daemon_start "$T/conf"
run_status rc cv renew web --now --wait
assert_eq "renew --now --wait exits 0" 0 "$rc"
assert_eq "renewal done" done "$(cv renewals --json | jq -r '.[-1].state')"
[ "$(served)" != "$before" ] || fail "nginx still serves the old certificate"
chains_to_pebble || fail "nginx does not serve a certificate chaining to pebble's root"
ok "nginx serves a pebble certificate"
assert_eq "one newOrder" 1 "$(new_orders)"
assert_match "renewals shows the order, identifiers and challenge" \
    "acme .*/my-order/.*localhost,127.0.0.1; http-01" \
    "$(cv renewals --json | jq -r '.[-1].steps[] | select(.state == "awaiting_certificate") | .detail')"
assert_eq "challenge files removed" "" \
    "$(ls "$T/webroot/.well-known/acme-challenge" 2>/dev/null)"
key=$D_STATE/acme/acme/account.key
[ -f "$key" ] || fail "no account key at $key"
assert_eq "account key 0600" 600 "$(stat -c %a "$key")"
grep -q 'BEGIN PRIVATE KEY' "$key" || fail "account key is not PEM"
ls "$D_STATE"/work/acme-*.json 2>/dev/null && fail "progress record left behind"
ok "account key made, progress record gone"

# Validation failure: nothing answers on pebble's httpPort.
kill "$WEBROOT_PID"
wait "$WEBROOT_PID" 2>/dev/null || true
master=$(cat "$T/nginx/nginx.pid")
before=$(served)
run_status rc cv renew web --now --wait
[ "$rc" != 0 ] || fail "renew --wait exit 0 with no webroot served"
R=$(cv renewals --json | jq '.[-1]')
assert_eq "renewal failed" failed "$(echo "$R" | jq -r .state)"
assert_match "the CA's reason" "(connection|unauthorized)" \
    "$(echo "$R" | jq -r .error)"
echo "$R" | jq -r '.steps[].state' | grep -q stopping &&
    fail "it went as far as stopping"
assert_eq "nginx master untouched" "$master" "$(cat "$T/nginx/nginx.pid")"
pid_alive "$master" || fail "nginx master gone"
assert_eq "nginx serves what it served" "$before" "$(served)"
assert_eq "challenge files removed after the failure" "" \
    "$(ls "$T/webroot/.well-known/acme-challenge" 2>/dev/null)"
daemon_stop
echo "acme-nginx: passed"
