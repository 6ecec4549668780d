#!/bin/sh
# A due certificate waits for its window (test clock), then renews inside
# it; the csr issuer completes when a signed certificate reaches the inbox.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
need sqlite3 certtool

renew_setup
# The test clock runs in the past: a CA valid since 2020 (certtool
# template), and a first certificate from it.
cat > "$T/ca/tmpl" <<EOT
cn = "Old Root"
ca
cert_signing_key
activation_date = "2020-01-01 00:00:00"
expiration_days = 7300
EOT
certtool --generate-privkey --key-type ecdsa --outfile "$T/ca/ca.key" 2>/dev/null
certtool --generate-self-signed --load-privkey "$T/ca/ca.key" \
    --template "$T/ca/tmpl" --outfile "$T/ca/ca.pem" 2>/dev/null
wed=$(date -u -d "last wednesday - 7 days" +%Y-%m-%d)
cat > "$T/leaf.tmpl" <<EOT
cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
activation_date = "$(date -u -d "$wed - 10 days" +%Y-%m-%d) 00:00:00"
expiration_date = "$(date -u -d "$wed + 20 days" +%Y-%m-%d) 00:00:00"
EOT
certtool --generate-privkey --key-type ecdsa --outfile "$T/live/web.key" 2>/dev/null
certtool --generate-certificate --load-privkey "$T/live/web.key" \
    --load-ca-certificate "$T/ca/ca.pem" --load-ca-privkey "$T/ca/ca.key" \
    --template "$T/leaf.tmpl" --outfile "$T/live/web.pem" 2>/dev/null
"$T/stop.sh"; "$T/start.sh"
# Valid from 10 days before that Wednesday for 30 days; renew_before 25d:
# due since 5 days.
renew_conf "renew_before = 25d" "window = Sat,Sun 01:00-05:00" "timezone = UTC"
old=$(served)
# A Wednesday: outside the window.
CERTVIGIL_TEST_NOW=${wed}T12:00:00Z
export CERTVIGIL_TEST_NOW
daemon_start "$T/conf"
assert_eq "Wednesday: no renewal" 0 "$(cv renewals --json | jq length)"
next=$(cv binding show --json | jq -r '.[0].next_renewal')
sat=$(date -u -d "$CERTVIGIL_TEST_NOW + 3 days" +%Y-%m-%d)
assert_match "next renewal inside Saturday's window" "^${sat}T0[1-4]:" "$next"
assert_match "renew without --now says when" "next renewal $next" "$(cv renew web)"
assert_eq "still nothing" 0 "$(cv renewals --json | jq length)"
daemon_stop

# Saturday 04:59:58: inside the window; renews there.
CERTVIGIL_TEST_NOW=${sat}T04:59:58Z
daemon_start "$T/conf"
follow_start
wait_event '"renewal_done"' 180
assert_eq "renewed" done "$(cv renewals --json | jq -r '.[-1].state')"
assert_eq "reason: due" due "$(cv renewals --json | jq -r '.[-1].reason')"
assert_match "started inside the window" "^${sat}T04:59:5" "$(cv renewals --json | jq -r '.[-1].started')"
[ "$(served)" != "$old" ] || fail "still the old certificate"
assert_eq "serving the new one" "$(cv renewals --json | jq -r '.[-1].new_sha1')" "$(served)"
daemon_stop
unset CERTVIGIL_TEST_NOW

# ---- csr issuer: outbox, inbox ----
mkdir -p "$T/out" "$T/in"
sed -i 's/^issuer = local$/issuer = ext/; /^renew_before/d; /^window/d; /^timezone/d' "$T/conf"
cat >> "$T/conf" <<EOT

[issuer ext]
type = csr
outbox = $T/out
inbox = $T/in
ca_file = $T/ca/ca.pem
EOT
cur=$(served)
daemon_start "$T/conf"
follow_start
cv renew web --now >/dev/null
id=$(cv renewals --json | jq -r '.[-1].id')
n=0
until [ "$(cv renewals --json | jq -r '.[-1].state')" = awaiting_certificate ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "never awaiting_certificate"
	sleep 0.1
done
ok "awaiting_certificate"
csr=$(ls "$T/out"/*.csr)
assert_eq "nginx untouched while waiting" "$cur" "$(served)"
# A certificate for another key is ignored; the right one completes it.
cp "$T/live/web.pem" "$T/in/unrelated.pem"
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --csr "$csr" --purpose server --out-cert "$T/signed.tmp" >/dev/null
mv "$T/signed.tmp" "$T/in/web.crt"
wait_event "renewal $id (done|rolled back)" 180
assert_eq "csr renewal done" done "$(cv renewals --json | jq -r '.[-1].state')"
assert_eq "serving the signed certificate" "$(file_sha1 "$T/in/web.crt")" "$(served)"
assert_match "steps include awaiting_certificate" "issuing awaiting_certificate issued" \
    "$(cv renewals --json | jq -r '[.[-1].steps[].state] | join(" ")')"
daemon_stop
echo "renew-window: $T_COUNT passed, 0 failed"
