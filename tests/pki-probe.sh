#!/bin/sh
# probe against openssl s_server and gnutls-serv on loopback, with and
# without a required client certificate, and against bad servers.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
need openssl certtool gnutls-serv python3 jq
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"
CV=$CERTVIGIL
SHA1=$(openssl x509 -in server.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f)
"$CV" convert --cert client.pem --key client.key --to pfx --password-file password \
    --out client.pfx >/dev/null

# probe_json ARGS...: the JSON report; the exit status in $st.
probe_json() {
	run_status st "$CV" probe --json --timeout 5 "$@" >"$T/probe.json" 2>"$T/probe.err"
	cat "$T/probe.json"
}
jf() { jq -r "$1" "$T/probe.json"; }

# ---- openssl s_server -Verify 1 (TLS 1.3): mTLS enforced ----
srv_ossl_mtls() {
	exec openssl s_server -accept "127.0.0.1:$PORT" -cert server.pem \
	    -key server.key -CAfile ca.pem -Verify 1 -www
}
start_server srv_ossl_mtls
probe_json 127.0.0.1:$PORT --ca-file ca.pem --cert client.pem --key client.key >/dev/null
assert_eq "s_server 1.3: exit 0" 0 "$st"
assert_eq "s_server 1.3: mtls enforced" true "$(jf .mtls_enforced)"
assert_eq "s_server 1.3: asked for a client cert" true "$(jf .client_cert_requested)"
assert_eq "s_server 1.3: protocol" TLS1.3 "$(jf .protocol)"
assert_eq "s_server 1.3: served leaf" "$SHA1" "$(jf '.chain[0].sha1')"
assert_eq "s_server 1.3: verified" true "$(jf .verified)"
assert_eq "s_server 1.3: handshake without cert completes" true "$(jf .without_client_cert.handshake)"
assert_eq "s_server 1.3: ...then rejected" false "$(jf .without_client_cert.accepted)"
assert_match "s_server 1.3: the alert" "alert" "$(jf .without_client_cert.error)"
assert_eq "s_server 1.3: accepted with cert" true "$(jf .with_client_cert.accepted)"
# The client certificate from a PFX works the same.
probe_json 127.0.0.1:$PORT --ca-file ca.pem --cert client.pfx --password-file password >/dev/null
assert_eq "client PFX: mtls enforced" true "$(jf .mtls_enforced)"
# Without --cert the probe fails: the server refuses us.
run_status st "$CV" probe 127.0.0.1:$PORT --ca-file ca.pem >out
assert_eq "no --cert against mTLS: exit 1" 1 "$st"
assert_match "text: rejected" "^  Without client cert: +rejected" "$(cat out)"
# Text report.
"$CV" probe 127.0.0.1:$PORT --ca-file ca.pem --cert client.pem --key client.key >out
assert_match "text: mTLS enforced: yes" "^  mTLS enforced: +yes$" "$(cat out)"
assert_match "text: thumbprint" "thumbprint $(printf %s "$SHA1" | tr a-f A-F)" "$(cat out)"
stop_server

# ---- openssl s_server -Verify 1, TLS 1.2: rejected during the handshake ----
srv_ossl_mtls12() {
	exec openssl s_server -accept "127.0.0.1:$PORT" -cert server.pem \
	    -key server.key -CAfile ca.pem -Verify 1 -no_tls1_3 -www
}
start_server srv_ossl_mtls12
probe_json 127.0.0.1:$PORT --ca-file ca.pem --cert client.pem --key client.key >/dev/null
assert_eq "s_server 1.2: exit 0" 0 "$st"
assert_eq "s_server 1.2: protocol" TLS1.2 "$(jf .protocol)"
assert_eq "s_server 1.2: mtls enforced" true "$(jf .mtls_enforced)"
assert_eq "s_server 1.2: no handshake without cert" false "$(jf .without_client_cert.handshake)"
stop_server

# ---- gnutls-serv --require-client-cert ----
srv_gnutls_mtls() {
	exec gnutls-serv --port "$PORT" --x509certfile server.pem \
	    --x509keyfile server.key --x509cafile ca.pem \
	    --require-client-cert --verify-client-cert --http
}
start_server srv_gnutls_mtls
probe_json localhost:$PORT --sni beacon.example.com --ca-file ca.pem \
    --cert client.pem --key client.key >/dev/null
assert_eq "gnutls-serv: exit 0" 0 "$st"
assert_eq "gnutls-serv: mtls enforced" true "$(jf .mtls_enforced)"
assert_eq "gnutls-serv: verified by SNI name" true "$(jf .verified)"
stop_server

# ---- gnutls-serv asking for but not requiring a certificate ----
srv_gnutls_opt() {
	exec gnutls-serv --port "$PORT" --x509certfile server.pem \
	    --x509keyfile server.key --x509cafile ca.pem --http
}
start_server srv_gnutls_opt
probe_json 127.0.0.1:$PORT --ca-file ca.pem --cert client.pem --key client.key >/dev/null
assert_eq "optional client cert: exit 1" 1 "$st"
assert_eq "optional client cert: not enforced" false "$(jf .mtls_enforced)"
assert_eq "optional client cert: accepted without" true "$(jf .without_client_cert.accepted)"
"$CV" probe 127.0.0.1:$PORT --ca-file ca.pem --cert client.pem --key client.key >out || true
assert_match "text: mTLS enforced: no" "^  mTLS enforced: +no$" "$(cat out)"
stop_server

# ---- plain TLS: trust, thumbprint, host name ----
srv_ossl_plain() {
	exec openssl s_server -accept "127.0.0.1:$PORT" -cert server.pem \
	    -key server.key -www
}
start_server srv_ossl_plain
probe_json 127.0.0.1:$PORT --ca-file ca.pem >/dev/null
assert_eq "plain: exit 0" 0 "$st"
assert_eq "plain: no client cert asked" false "$(jf .client_cert_requested)"
assert_eq "plain: mtls not probed" null "$(jf .mtls_enforced)"
probe_json 127.0.0.1:$PORT >/dev/null
assert_eq "untrusted (system store): exit 1" 1 "$st"
assert_match "untrusted reason" "issuer is unknown" "$(jf .verify_error)"
probe_json 127.0.0.1:$PORT --expect-thumbprint "$SHA1" >/dev/null
assert_eq "pinned thumbprint: exit 0" 0 "$st"
assert_eq "pinned thumbprint: match" true "$(jf .thumbprint_match)"
up=$(printf %s "$SHA1" | tr a-f A-F | sed 's/\(..\)/\1:/g; s/:$//')
probe_json 127.0.0.1:$PORT --expect-thumbprint "$up" >/dev/null
assert_eq "thumbprint with colons, upper case" 0 "$st"
probe_json 127.0.0.1:$PORT --expect-thumbprint 0000000000000000000000000000000000000000 >/dev/null
assert_eq "wrong thumbprint: exit 1" 1 "$st"
probe_json 127.0.0.1:$PORT --ca-file ca.pem --sni wrong.example.com >/dev/null
assert_eq "wrong host: exit 1" 1 "$st"
assert_match "wrong host reason" "name in the certificate does not match" "$(jf .verify_error)"
probe_json 127.0.0.1:$PORT --ca-file ca.pem --sni x.beacon.example.com >/dev/null
assert_eq "wildcard host: exit 0" 0 "$st"
stop_server

# ---- a server with an expired certificate ----
srv_gnutls_expired() {
	exec gnutls-serv --port "$PORT" --x509certfile expired.pem \
	    --x509keyfile expired.key --disable-client-cert --http
}
start_server srv_gnutls_expired
probe_json 127.0.0.1:$PORT --ca-file expired.pem --sni expired.example.com >/dev/null
assert_eq "expired: exit 1" 1 "$st"
assert_match "expired reason" "expired" "$(jf .verify_error)"
assert_eq "expired: chain still shown" 1 "$(jf '.chain|length')"
stop_server

# ---- bad ports: one line, non-zero ----
# bad_probe WHAT REGEX ARGS...
bad_probe() {
	what=$1 re=$2
	shift 2
	run_status st "$CV" probe "$@" >"$T/out" 2>"$T/err"
	[ "$st" != 0 ] || fail "$what: exit 0"
	ok "$what: non-zero exit"
	assert_eq "$what: one line" 1 "$(wc -l < "$T/err")"
	assert_match "$what: reason" "$re" "$(cat "$T/err")"
}
PORT=$(free_port)
bad_probe "unreachable" "^certvigil: connect to 127\.0\.0\.1 port $PORT: Connection refused$" 127.0.0.1:$PORT
srv_http() { exec python3 -m http.server --bind 127.0.0.1 "$PORT"; }
start_server srv_http
bad_probe "HTTP, not TLS" "^certvigil: 127\.0\.0\.1 port $PORT: TLS handshake failed: " 127.0.0.1:$PORT
stop_server
srv_silent() {
	exec python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])' "$PORT"
}
start_server srv_silent
bad_probe "silent listener" "^certvigil: 127\.0\.0\.1 port $PORT: TLS handshake timed out after 1s$" \
    --timeout 1 127.0.0.1:$PORT
stop_server
# ---- IPv6: [::1]:PORT, mTLS enforced, the IP SAN ::1 verified ----
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	srv_ossl_v6() {
		exec openssl s_server -accept "[::1]:$PORT" -cert server.pem \
		    -key server.key -CAfile ca.pem -Verify 1 -www
	}
	SERVER_HOST=::1
	start_server srv_ossl_v6
	SERVER_HOST=
	probe_json "[::1]:$PORT" --ca-file ca.pem --cert client.pem \
	    --key client.key >/dev/null
	assert_eq "IPv6: exit 0" 0 "$st"
	assert_eq "IPv6: served leaf" "$SHA1" "$(jf '.chain[0].sha1')"
	assert_eq "IPv6: verified against IP:::1" true "$(jf .verified)"
	assert_eq "IPv6: mtls enforced" true "$(jf .mtls_enforced)"
	stop_server
else
	echo "# IPv6 part skipped: no ::1 here"
fi

bad_probe "no port" "expected HOST:PORT" 127.0.0.1
bad_probe "unknown host" "^certvigil: no-such-host\.invalid port 443: " no-such-host.invalid:443
bad_probe "client key mismatch" "^certvigil: --key does not match" --cert client.pem --key server.key 127.0.0.1:1
bad_probe "bad thumbprint" "40 hex digits" --expect-thumbprint abc 127.0.0.1:1
echo "pki-probe: $T_COUNT passed, 0 failed"
