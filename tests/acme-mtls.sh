#!/bin/sh
# Issue 17: nginx with ssl_verify_client on, bound to an [issuer acme]
# (pebble, http-01 by webroot) with require_client_cert = yes.  After
# renew --now --wait nginx serves a pebble certificate and still refuses
# a client without a certificate: the new server certificate changed
# nothing about who may connect.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"
need curl

renew_setup mtls
pebble_start
pebble_get /roots/0 >"$T/pebble-root.pem" || fail "cannot fetch pebble's root"
webroot_start
acme_conf
sed -i '/^\[binding web\]$/a require_client_cert = yes' "$T/conf"
before=$(served)
daemon_start "$T/conf"
run_status rc cv renew web --now --wait
assert_eq "renew --now --wait exits 0" 0 "$rc"
assert_eq "renewal done" done "$(cv renewals --json | jq -r '.[-1].state')"
[ "$(served)" != "$before" ] || fail "nginx still serves the old certificate"
chains_to_pebble || fail "nginx does not serve a certificate chaining to pebble's root"
ok "nginx (ssl_verify_client on) serves a pebble certificate"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NGX_PORT/")
assert_eq "a client without a certificate is still refused" 400 "$code"
assert_eq "the binding asks for client certificates" true \
    "$(cv binding show --json | jq -r '.[0].require_client_cert')"
daemon_stop
"$T/stop.sh"
ok "acme under mTLS"
