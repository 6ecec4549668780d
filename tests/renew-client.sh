#!/bin/sh
# [client NAME]: renew --now issues a new client certificate, deploys it,
# points the agent's config.ini at it, and verifies it against a real
# beacon that requires client certificates (nginx, ssl_verify_client on).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup mtls
mkdir -p "$T/dev" "$T/agent"
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn device1 --purpose client --days 30 --out-key "$T/dev/client.key" \
    --out-cert "$T/dev/client.pem" >/dev/null
printf '[ManageSoft\\Common]\r\nCheckCertificateRevocation=False\r\n\r\n[ManageSoft\\Other]\r\nKeep=1\r\n' \
    > "$T/agent/config.ini"
renew_conf
cat >> "$T/conf" <<EOT

[client dev]
issuer = local
cert_file = $T/dev/client.pem
key_file = $T/dev/client.key
subject = CN=device1
beacon = 127.0.0.1:$NGX_PORT
agent_config = $T/agent/config.ini
ca_file = $T/ca/ca.pem
verify_timeout = 15s
EOT
old=$(file_sha1 "$T/dev/client.pem")

# beacon_status CERT KEY: the HTTP status the beacon answers with.
beacon_status() {
	printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' |
	    timeout 10 openssl s_client -quiet -connect "127.0.0.1:$NGX_PORT" \
	    -servername localhost ${1:+-cert "$1" -key "$2"} 2>/dev/null |
	    head -n 1 | awk '{print $2}'
}
assert_eq "beacon refuses a client without a certificate" 400 "$(beacon_status)"
assert_eq "beacon accepts the first client certificate" 200 \
    "$(beacon_status "$T/dev/client.pem" "$T/dev/client.key")"

daemon_start "$T/conf"
follow_start
assert_eq "binding show: the client's certhash" "$old" \
    "$(cv binding show name=dev --json | jq -r '.[0].certhash')"
cv renew dev --now >/dev/null
wait_event '"renewal_(done|failed)"|"rolled_back"' 180
r=$(cv renewals --json | jq '[.[] | select(.binding == "dev")][-1]')
assert_eq "client renewal done" done "$(echo "$r" | jq -r .state)"
assert_eq "client steps journaled" \
    "due issuing issued stopping unbinding binding starting verifying done" \
    "$(echo "$r" | jq -r '[.steps[].state] | join(" ")')"
new=$(echo "$r" | jq -r .new_sha1)
[ "$new" != "$old" ] || fail "same certificate"
assert_eq "the deployed client certificate is the new one" "$new" \
    "$(file_sha1 "$T/dev/client.pem")"
openssl x509 -in "$T/dev/client.pem" -noout -ext extendedKeyUsage |
    grep -q 'TLS Web Client Authentication' || fail "new certificate lacks clientAuth"
ok "new certificate is for client authentication"
assert_eq "client key mode" 600 "$(stat -c %a "$T/dev/client.key")"
assert_eq "the binding names the new certificate" "$new" \
    "$(cv binding show name=dev --json | jq -r '.[0].certhash')"
ini=$(tr -d '\r' < "$T/agent/config.ini")
assert_match "config.ini: AddClientCertificateAndKey" \
    '^AddClientCertificateAndKey=True$' "$ini"
assert_match "config.ini: SSLClientCertificateFile" \
    "^SSLClientCertificateFile=$T/dev/client.pem\$" "$ini"
assert_match "config.ini: SSLClientPrivateKeyFile" \
    "^SSLClientPrivateKeyFile=$T/dev/client.key\$" "$ini"
assert_match "config.ini: other keys kept" '^CheckCertificateRevocation=False$' "$ini"
assert_eq "config.ini: keys in the common section, CRLF kept" 3 \
    "$(awk '/^\[ManageSoft\\Common\]/{s=1;next} /^\[/{s=0} s && /^(AddClient|SSLClient)/' "$T/agent/config.ini" | grep -c "$(printf '\r')\$")"
assert_eq "the beacon accepts the new client certificate" 200 \
    "$(beacon_status "$T/dev/client.pem" "$T/dev/client.key")"
assert_eq "nginx itself untouched" "$(file_sha1 "$T/live/web.pem")" "$(served)"

# A client certificate the beacon does not trust: verification fails and
# the renewal rolls back to the previous client certificate.
"$CERTVIGIL" ca init --cn "Other Root" --out-cert "$T/ca/other.pem" \
    --out-key "$T/ca/other.key" >/dev/null
cp "$T/ca/ca.pem" "$T/ca/ca.pem.good"; cp "$T/ca/ca.key" "$T/ca/ca.key.good"
cp "$T/ca/other.pem" "$T/ca/ca.pem"; cp "$T/ca/other.key" "$T/ca/ca.key"
cur=$(file_sha1 "$T/dev/client.pem")
cv renew dev --now >/dev/null
id=$(cv renewals --json | jq -r '[.[] | select(.binding == "dev")][-1].id')
wait_event "renewal $id (done|rolled back)|renewal_failed.*nothing was touched" 180
r=$(cv renewals --json | jq '[.[] | select(.binding == "dev")][-1]')
assert_eq "untrusted client certificate: rolled back" rolled_back "$(echo "$r" | jq -r .state)"
assert_match "verification failure recorded" "refuses the client certificate" \
    "$(echo "$r" | jq -r .error)"
assert_eq "previous client certificate back" "$cur" "$(file_sha1 "$T/dev/client.pem")"
assert_eq "the beacon still accepts it" 200 \
    "$(beacon_status "$T/dev/client.pem" "$T/dev/client.key")"
cp "$T/ca/ca.pem.good" "$T/ca/ca.pem"; cp "$T/ca/ca.key.good" "$T/ca/ca.key"

# certvigil probe --cert judges the beacon's answer as the daemon does:
# nginx's HTTP 400 after the handshake is a refused client certificate.
"$CERTVIGIL" ca issue --ca-cert "$T/ca/other.pem" --ca-key "$T/ca/other.key" \
    --cn stranger --purpose client --days 30 --out-key "$T/dev/stranger.key" \
    --out-cert "$T/dev/stranger.pem" >/dev/null
assert_eq "beacon answers the stranger with 400" 400 \
    "$(beacon_status "$T/dev/stranger.pem" "$T/dev/stranger.key")"
run_status st "$CERTVIGIL" probe "127.0.0.1:$NGX_PORT" --json --timeout 5 \
    --ca-file "$T/ca/ca.pem" --cert "$T/dev/stranger.pem" \
    --key "$T/dev/stranger.key" >"$T/probe.json" 2>/dev/null
assert_eq "probe --cert, refused certificate: exit 1" 1 "$st"
assert_eq "probe --cert: HTTP 400 seen" 400 \
    "$(jq -r .with_client_cert.http_status "$T/probe.json")"
assert_eq "probe --cert: refused, as the daemon judges it" false \
    "$(jq -r .with_client_cert.accepted "$T/probe.json")"
assert_match "probe --cert: why" "HTTP 400 after the handshake" \
    "$(jq -r .with_client_cert.error "$T/probe.json")"
run_status st "$CERTVIGIL" probe "127.0.0.1:$NGX_PORT" --json --timeout 5 \
    --ca-file "$T/ca/ca.pem" --cert "$T/dev/client.pem" \
    --key "$T/dev/client.key" >"$T/probe.json" 2>/dev/null
assert_eq "probe --cert, trusted certificate: accepted" true \
    "$(jq -r .with_client_cert.accepted "$T/probe.json")"
assert_eq "probe --cert: without a certificate, refused (400)" false \
    "$(jq -r .without_client_cert.accepted "$T/probe.json")"
assert_eq "probe --cert: mTLS enforced" true \
    "$(jq -r .mtls_enforced "$T/probe.json")"
assert_eq "probe --cert, trusted certificate: exit 0" 0 "$st"

daemon_stop
echo "renew-client: $T_COUNT passed, 0 failed"
