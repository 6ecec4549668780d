#!/bin/sh
# nginx with ssl_verify_client on, bound with require_client_cert = yes:
# renewal verifies that the new thumbprint is served and that client
# certificates are still required; a service that comes back without
# asking for them fails verification and is rolled back.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup mtls
renew_conf "require_client_cert = yes"
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn device1 --purpose client --days 30 --out-key "$T/client.key" \
    --out-cert "$T/client.pem" >/dev/null
# status [CERT KEY]: the HTTP status nginx answers GET / with.
status() {
	printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' |
	    timeout 10 openssl s_client -quiet -connect "127.0.0.1:$NGX_PORT" \
	    -servername localhost ${1:+-cert "$1" -key "$2"} 2>/dev/null |
	    head -n 1 | awk '{print $2}'
}
old=$(file_sha1 "$T/live/web.pem")
assert_eq "mTLS enforced before: no certificate, 400" 400 "$(status)"
daemon_start "$T/conf"
follow_start
assert_eq "binding show: require_client_cert" true \
    "$(cv binding show --json | jq -r '.[0].require_client_cert')"

renew_and_wait
assert_eq "renewal done" done "$(echo "$R" | jq -r .state)"
new=$(echo "$R" | jq -r .new_sha1)
assert_eq "the new thumbprint is served" "$new" "$(served)"
assert_eq "mTLS still enforced: no certificate, 400" 400 "$(status)"
assert_eq "a client certificate is accepted" 200 "$(status "$T/client.pem" "$T/client.key")"
"$CERTVIGIL" probe "127.0.0.1:$NGX_PORT" --json 2>/dev/null |
    jq -e '.client_cert_requested and .without_client_cert.http_status == 400' >/dev/null ||
    fail "the server does not ask for a client certificate"
ok "the server still sends a CertificateRequest"

# nginx comes back without client certificates: verification refuses.
touch "$T/plain-once"
renew_and_wait
assert_eq "mTLS dropped: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
assert_match "mTLS dropped: the reason" "no longer asks for a client certificate" \
    "$(echo "$R" | jq -r .error)"
nginx_running || fail "nginx is not running"
ok "nginx running after the rollback"
assert_eq "previous certificate served again" "$new" "$(served)"
assert_eq "mTLS enforced again" 400 "$(status)"
assert_eq "the binding names what is served" "$new" \
    "$(cv binding show --json | jq -r '.[0].certhash')"

daemon_stop
echo "renew-mtls: $T_COUNT passed, 0 failed"
