#!/bin/sh
# Issue 12 item 10: a forward clock jump (an NTP step, a VM restore).
# With the clock 400 days ahead a failed renewal stores a next_attempt
# 400 days out, and a renewal could deploy a certificate valid only from
# then.
# Once the clock is right again the next renewal must not wait past
# expiry, and the "future" certificate, which clients refuse, is due at
# once.  The test clock is CERTVIGIL_TEST_NOW (builds with test hooks).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
need_test_hooks

AHEAD=$((400 * 86400))
renew_setup
renew_conf
show() { cv binding show name=web --json | jq -r ".[0].$1"; }
epoch() { date -u -d "$1" +%s; }

# 1. Ahead, the issuer fails: renewal_failed, next_attempt ~400 days out.
mv "$T/ca/ca.key" "$T/ca/ca.key.away"
daemon_try "$T/conf" CERTVIGIL_TEST_NOW=+$AHEAD || fail "daemon (ahead) did not start"
follow_start
wait_event "renewal_failed" 60
daemon_stop
kill "$F_PID" 2>/dev/null || true
mv "$T/ca/ca.key.away" "$T/ca/ca.key"

# 2. The clock is right again: the next attempt is before expiry.
daemon_start "$T/conf"
nr=$(show next_renewal)
na=$(show not_after)
[ "$nr" != null ] || fail "no next_renewal"
[ "$(epoch "$nr")" -lt "$(epoch "$na")" ] ||
    fail "next renewal $nr is not before expiry $na (a next_attempt stored while the clock was ahead)"
ok "a next_attempt from the clock ahead is capped before expiry"
[ "$(epoch "$nr")" -le $(( $(date +%s) + 30 * 86400 )) ] ||
    fail "next renewal $nr more than 30 days out"
ok "next renewal within the certificate's life"
daemon_stop

# 3. What a renewal deployed while the clock was ahead: a certificate
# valid from 400 days on.  (Made by the CLI on the test clock: the daemon
# itself now refuses one, its chain check reads the real clock.)
CERTVIGIL_TEST_NOW=+$AHEAD "$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" \
    --ca-key "$T/ca/ca.key" --cn localhost --san DNS:localhost,IP:127.0.0.1 \
    --purpose server --days 30 --out-key "$T/f.key" --out-cert "$T/f.pem" \
    >/dev/null
nb=$(openssl x509 -in "$T/f.pem" -noout -startdate)
[ "$(epoch "$(ossl_date "$nb")")" -gt $(( $(date +%s) + 86400 )) ] ||
    fail "the certificate made ahead is valid already ($nb)"
cp "$T/f.key" "$T/live/web.key"
cp "$T/f.pem" "$T/live/web.pem"
"$T/stop.sh" && "$T/start.sh" || fail "nginx restart"
future=$(file_sha1 "$T/live/web.pem")

# 4. Back: the deployed certificate is not valid yet, so it is due now.
# (A renewal that reached done names what it deployed; the failure of
# step 1 was for the previous certificate.)
daemon_start "$T/conf"
follow_start
cv binding update name=web certhash="$future" >/dev/null
wait_event "renewal_done" 120
R=$(cv renewals --json | jq '.[-1]')
assert_eq "renewed at once" done "$(echo "$R" | jq -r .state)"
[ "$(file_sha1 "$T/live/web.pem")" != "$future" ] || fail "still the future certificate"
nb=$(openssl x509 -in "$T/live/web.pem" -noout -startdate)
[ "$(epoch "$(ossl_date "$nb")")" -le "$(date +%s)" ] ||
    fail "the new certificate is not valid yet ($nb)"
ok "the new certificate is valid now"
assert_eq "nginx serves it" "$(file_sha1 "$T/live/web.pem")" "$(served)"
daemon_stop
echo "renew-clock: $T_COUNT passed, 0 failed"
