#!/bin/sh
# Issue 17: external account binding and profiles against a pebble that
# requires EAB and offers two profiles (pebble 2.10 "profiles").
#   - a wrong EAB MAC key: the renewal fails with the CA's reason before
#     stopping, nginx untouched;
#   - the right key and profile = short: nginx serves a pebble
#     certificate with that profile's lifetime (7 days);
#   - a profile the directory does not list: a clear error at order time,
#     nginx untouched.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"

KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
PEBBLE_ENV=PEBBLE_VA_ALWAYS_VALID=1 NO_WEBROOT=1 acme_setup \
    '"externalAccountBindingRequired": true,
	"externalAccountMACKeys": { "kid-1": "'$KEY'" },
	"profiles": {
	  "default": { "description": "90 days", "validityPeriod": 7776000 },
	  "short": { "description": "7 days", "validityPeriod": 604800 } }'
printf '%s\n' b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH \
    >"$T/eab-wrong"
printf '%s\n' "$KEY" >"$T/eab-right"
chmod 600 "$T/eab-wrong" "$T/eab-right"
untouched() {
	R=$(cv renewals --json | jq '.[-1]')
	assert_eq "$1: renewal failed" failed "$(echo "$R" | jq -r .state)"
	assert_match "$1: the reason" "$2" "$(echo "$R" | jq -r .error)"
	echo "$R" | jq -r '.steps[].state' | grep -q stopping &&
	    fail "$1: it went as far as stopping"
	assert_eq "$1: nginx master untouched" "$master" "$(cat "$T/nginx/nginx.pid")"
	assert_eq "$1: nginx serves what it served" "$before" "$(served)"
}

acme_conf "eab_kid = kid-1" "eab_hmac_key_file = $T/eab-wrong"
daemon_start "$T/conf"
master=$(cat "$T/nginx/nginx.pid")
before=$(served)
run_status rc cv renew web --now --wait
[ "$rc" != 0 ] || fail "renew --wait exit 0 with a wrong EAB key"
untouched "wrong EAB key" \
    "urn:ietf:params:acme:error:unauthorized: external account binding"
ok "wrong EAB key: the CA's reason, nothing touched"
daemon_stop

acme_conf "eab_kid = kid-1" "eab_hmac_key_file = $T/eab-right" \
    "profile = short"
daemon_start "$T/conf"
run_status rc cv renew web --now --wait
assert_eq "right EAB key, profile short: renew exits 0" 0 "$rc"
chains_to_pebble || fail "nginx does not serve a pebble certificate"
nb=$(date -u -d "$(openssl x509 -in "$T/served-leaf.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -u -d "$(openssl x509 -in "$T/served-leaf.pem" -noout -enddate | cut -d= -f2)" +%s)
life=$((na - nb))
[ "$life" -ge 604798 ] && [ "$life" -le 604800 ] ||
    fail "served certificate lives $life s, not the short profile's 604800"
ok "EAB account, profile short: nginx serves a 7-day pebble certificate"
daemon_stop

acme_conf "eab_kid = kid-1" "eab_hmac_key_file = $T/eab-right" \
    "profile = nope"
daemon_start "$T/conf"
master=$(cat "$T/nginx/nginx.pid")
before=$(served)
run_status rc cv renew web --now --wait
[ "$rc" != 0 ] || fail "renew --wait exit 0 with an unlisted profile"
untouched "unlisted profile" \
    "profile nope: the directory https://.* does not list it \(meta.profiles\)"
ok "unlisted profile: clear error at order time, nothing touched"
daemon_stop
echo "acme-eab: passed"
