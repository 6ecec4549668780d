#!/bin/sh
# Issue 17: challenge = dns-01 through dns_hook.  pebble resolves through
# pebble-challtestsrv; the hook (run without a shell, env only) adds the
# TXT record through challtestsrv's management API and removes it after.
# The binding names localhost and *.localhost (a wildcard: dns-01 only),
# so one order has two authorizations on the same TXT name.
# dns_propagation = 3s: the challenge is answered no sooner than 3 s after
# the last add (a PENDING retry: the hook's log and pebble's tell).  Then
# a hook that fails: the renewal fails before stopping with the hook's
# exit status, nginx untouched, and "remove" still runs.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"
need curl

challtestsrv_start
PEBBLE_ARGS="-dnsserver $CTS_DNS" NO_WEBROOT=1 acme_setup
cat >"$T/hook.sh" <<EOT
#!/bin/sh
printf '%s %s %s %s %s %s\n' "\$(date +%s)" "\$CERTVIGIL_ACME_ACTION" \\
    "\$CERTVIGIL_ACME_DOMAIN" "\$CERTVIGIL_ACME_TXT_NAME" \\
    "\$CERTVIGIL_ACME_TXT_VALUE" "\$#" >>"$T/hook.calls"
[ ! -f "$T/hook.fail" ] || exit 7
case "\$CERTVIGIL_ACME_ACTION" in
add)	exec curl -sSf -d "{\"host\":\"\$CERTVIGIL_ACME_TXT_NAME.\",\"value\":\"\$CERTVIGIL_ACME_TXT_VALUE\"}" "$CTS_MGMT/set-txt" ;;
remove)	exec curl -sSf -d "{\"host\":\"\$CERTVIGIL_ACME_TXT_NAME.\"}" "$CTS_MGMT/clear-txt" ;;
esac
exit 2
EOT
chmod 755 "$T/hook.sh"
acme_conf "challenge = dns-01" "dns_hook = $T/hook.sh 'one arg'" \
    "dns_propagation = 3s"
sed -i 's/^san = .*/san = DNS:localhost,DNS:*.localhost/' "$T/conf"
before=$(served)
daemon_start "$T/conf"
run_status rc cv renew web --now --wait
[ "$rc" = 0 ] || { cat "$T/pebble/log" >&2; cv renewals --json | jq '.[-1]' >&2; }
assert_eq "renew --now --wait exits 0" 0 "$rc"
[ "$(served)" != "$before" ] || fail "nginx still serves the old certificate"
chains_to_pebble || fail "nginx does not serve a certificate chaining to pebble's root"
openssl x509 -in "$T/served-leaf.pem" -noout -ext subjectAltName |
    grep -q 'DNS:\*\.localhost' || fail "the served certificate lacks *.localhost"
ok "nginx serves a pebble certificate for localhost and *.localhost (dns-01)"
assert_match "renewals shows dns-01" "localhost,\*\.localhost; dns-01" \
    "$(cv renewals --json | jq -r '.[-1].steps[] | select(.state == "awaiting_certificate") | .detail')"

adds=$(grep -c ' add ' "$T/hook.calls")
removes=$(grep -c ' remove ' "$T/hook.calls")
assert_eq "two adds (two authorizations)" 2 "$adds"
assert_eq "as many removes" 2 "$removes"
awk '{ print $3, $4, $6 }' "$T/hook.calls" | sort -u >"$T/hook.names"
assert_eq "domain, TXT name, argv" "localhost _acme-challenge.localhost 1" \
    "$(cat "$T/hook.names")"
awk '$2 == "add" { print $5 }' "$T/hook.calls" | sort -u >"$T/hook.values"
assert_eq "two distinct TXT values" 2 "$(wc -l <"$T/hook.values")"
grep -Eqv '^[A-Za-z0-9_-]{43}$' "$T/hook.values" &&
    fail "a TXT value is not base64url SHA-256: $(cat "$T/hook.values")"
ok "hook env: action, domain, TXT name and value; removed after"
# dns_propagation: pebble looked the TXT up no sooner than 3 s after the
# last add (pebble's log lines carry a time of day).
last_add=$(awk '$2 == "add" { t = $1 } END { print t }' "$T/hook.calls")
first_remove=$(awk '$2 == "remove" { print $1; exit }' "$T/hook.calls")
[ $((first_remove - last_add)) -ge 3 ] ||
    fail "removed $((first_remove - last_add)) s after the last add: dns_propagation (3s) not waited"
ok "dns_propagation waited before the challenge was answered"

# A hook that fails: the renewal fails before stopping, nginx untouched.
# A second account: pebble reuses valid authorizations at random
# (PEBBLE_AUTHZREUSE), a new account has none.
daemon_stop
echo "account_key = $T/account2.key" >>"$T/conf"
daemon_start "$T/conf"
: >"$T/hook.calls"
touch "$T/hook.fail"
master=$(cat "$T/nginx/nginx.pid")
before=$(served)
run_status rc cv renew web --now --wait
[ "$rc" != 0 ] || fail "renew --wait exit 0 with a failing dns_hook"
R=$(cv renewals --json | jq '.[-1]')
assert_eq "renewal failed" failed "$(echo "$R" | jq -r .state)"
assert_match "the hook's failure is the reason" "dns_hook add localhost: exit 7" \
    "$(echo "$R" | jq -r .error)"
echo "$R" | jq -r '.steps[].state' | grep -q stopping &&
    fail "it went as far as stopping"
assert_eq "nginx master untouched" "$master" "$(cat "$T/nginx/nginx.pid")"
assert_eq "nginx serves what it served" "$before" "$(served)"
grep -q ' remove localhost ' "$T/hook.calls" ||
    fail "remove did not run after the failed add"
ok "a failing hook: reason shown, nothing touched, remove run"
daemon_stop
echo "acme-dns: passed"
