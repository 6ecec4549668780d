#!/bin/sh
# The seeds' whole manual flow (IIS wizard CSR, makecert -r, makecert -eku,
# pvk2pfx, openssl pkcs12 x3 plus a text editor, copying files to
# /var/opt/managesoft, editing config.ini, "Client certificates: Require")
# as certvigil commands, with OpenSSL agreeing at every step.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
need openssl python3
cd "$T"
CV=$CERTVIGIL
printf 'pfx-password\n' > pfx.pass
sha1() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }

# 1. "Create Certificate Request": CN, O, OU, L, ST, C; RSA 2048.
"$CV" csr --cn beacon.example.com --org "Your Company, Inc" --ou IT \
    --locality Springfield --state Illinois --country US \
    --san DNS:beacon.example.com,IP:127.0.0.1 \
    --key-out beacon.key --out beacon.csr >/dev/null
openssl req -in beacon.csr -verify -noout 2>/dev/null || fail "openssl: CSR does not verify"
ok "1. CSR: openssl req -verify"
assert_match "1. CSR: RSA 2048" "Public-Key: \(2048 bit\)" "$(openssl req -in beacon.csr -noout -text)"

# 2. makecert -n "CN=SelfIssuedCA" -a sha256 -r
"$CV" ca init --cn SelfIssuedCA --out-cert SelfIssuedCA.pem --out-key SelfIssuedCA.key >/dev/null
assert_eq "2. CA: openssl verify" "SelfIssuedCA.pem: OK" "$(openssl verify -CAfile SelfIssuedCA.pem SelfIssuedCA.pem)"
assert_match "2. CA: CA:TRUE" "CA:TRUE" "$(openssl x509 -in SelfIssuedCA.pem -noout -ext basicConstraints)"

# 3. makecert -eku 1.3.6.1.5.5.7.3.1 -a sha256 -ic SelfIssuedCA.cer
"$CV" ca issue --ca-cert SelfIssuedCA.pem --ca-key SelfIssuedCA.key \
    --csr beacon.csr --purpose server --out-cert beacon.pem >/dev/null
assert_eq "3. server cert: openssl verify" "beacon.pem: OK" "$(openssl verify -CAfile SelfIssuedCA.pem beacon.pem)"
assert_match "3. server cert: serverAuth" "TLS Web Server Authentication" \
    "$(openssl x509 -in beacon.pem -noout -ext extendedKeyUsage)"
assert_match "3. server cert: SHA-256" "sha256WithRSAEncryption" "$(openssl x509 -in beacon.pem -noout -text)"
"$CV" check beacon.pem --key beacon.key --ca-file SelfIssuedCA.pem \
    --host beacon.example.com --purpose server >check.out ||
    fail "3. check: $(cat check.out)"
ok "3. server cert meets the requirements (certvigil check)"

# 4. pvk2pfx: the server PFX IIS imports (and the legacy form old Windows takes).
"$CV" convert --cert beacon.pem --key beacon.key --chain SelfIssuedCA.pem \
    --to pfx --password-file pfx.pass --out SelfIssuedSSL.pfx >/dev/null
openssl pkcs12 -info -in SelfIssuedSSL.pfx -passin file:pfx.pass -noout 2>/dev/null ||
    fail "4. openssl cannot read the PFX"
ok "4. PFX: openssl pkcs12 -info"
"$CV" convert --cert beacon.pem --key beacon.key --chain SelfIssuedCA.pem \
    --to pfx --legacy --password-file pfx.pass --out SelfIssuedSSL-legacy.pfx >/dev/null
openssl pkcs12 -info -legacy -in SelfIssuedSSL-legacy.pfx -passin file:pfx.pass -noout 2>/dev/null ||
    fail "4. openssl -legacy cannot read the legacy PFX"
ok "4. legacy PFX: openssl pkcs12 -info -legacy"
certhash=$(sha1 beacon.pem | tr A-F a-f)
assert_eq "4. netsh certhash from the PFX" "$certhash" \
    "$("$CV" inspect --json --password-file pfx.pass SelfIssuedSSL.pfx | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["sha1"])')"

# 5. The client certificate, exported as a PFX with its chain (MMC export).
"$CV" ca issue --ca-cert SelfIssuedCA.pem --ca-key SelfIssuedCA.key \
    --cn inventory-client --purpose client --out-cert client.pem \
    --out-key client.key >/dev/null
assert_match "5. client cert: clientAuth" "TLS Web Client Authentication" \
    "$(openssl x509 -in client.pem -noout -ext extendedKeyUsage)"
"$CV" convert --cert client.pem --key client.key --chain SelfIssuedCA.pem \
    --to pfx --password-file pfx.pass --out filename.pfx >/dev/null

# 6. PFX -> PEM for UNIX clients: three openssl runs and a text editor, in one.
"$CV" convert filename.pfx --to pem --password-file pfx.pass \
    --cert-out client_cert.pem --key-out client_key.pem >/dev/null
openssl pkcs12 -in filename.pfx -passin file:pfx.pass -clcerts -nokeys -out ossl_cert.pem 2>/dev/null
assert_eq "6. same certificate as openssl pkcs12 -clcerts -nokeys" "$(sha1 ossl_cert.pem)" "$(sha1 client_cert.pem)"
assert_eq "6. no preamble to delete by hand" "-----BEGIN CERTIFICATE-----" "$(head -1 client_cert.pem)"
assert_eq "6. key without password" "$(openssl x509 -in client_cert.pem -noout -pubkey)" \
    "$(openssl pkey -in client_key.pem -pubout)"

# 7. Deploy on the UNIX client and set the agent's preferences.
printf '[ManageSoft\\Common]\nMachineID={5A2F}\n' > config.ini
ROOT=$T/var/opt/managesoft/etc/ssl/client
"$CV" deploy-client --pfx filename.pfx --password-file pfx.pass \
    --cert-path "$ROOT/client_cert.pem" --key-path "$ROOT/private/client_key.pem" \
    --agent-config config.ini --agent-section 'ManageSoft\Common' \
    --agent-section 'ManageSoft\Launcher\CurrentVersion' \
    --agent-section 'ManageSoft\Tracker\CurrentVersion' \
    --agent-section 'ManageSoft\Uploader\CurrentVersion' >/dev/null
assert_eq "7. deployed cert verifies" "$ROOT/client_cert.pem: OK" \
    "$(openssl verify -CAfile SelfIssuedCA.pem "$ROOT/client_cert.pem")"
assert_eq "7. key 0600 in private/ 0700" "600 700" \
    "$(stat -c %a "$ROOT/private/client_key.pem") $(stat -c %a "$ROOT/private")"
assert_eq "7. four sections set" 4 "$(grep -c '^AddClientCertificateAndKey=True$' config.ini)"
assert_match "7. MachineID kept" "^MachineID=\{5A2F\}$" "$(cat config.ini)"
"$CV" deploy-client --pfx filename.pfx --password-file pfx.pass \
    --cert-path "$ROOT/client_cert.pem" --key-path "$ROOT/private/client_key.pem" \
    --agent-config config.ini --agent-section 'ManageSoft\Common' \
    --agent-section 'ManageSoft\Launcher\CurrentVersion' \
    --agent-section 'ManageSoft\Tracker\CurrentVersion' \
    --agent-section 'ManageSoft\Uploader\CurrentVersion' >again.out
assert_eq "7. second run changes nothing" 3 "$(grep -c ': unchanged$' again.out)"

# 8. The beacon serves the PFX's certificate and requires a client
# certificate ("SSL Settings: Require SSL, Client certificates: Require").
"$CV" convert SelfIssuedSSL.pfx --to pem --password-file pfx.pass \
    --cert-out iis_cert.pem --key-out iis_key.pem >/dev/null
beacon() {
	exec openssl s_server -accept "127.0.0.1:$PORT" -cert iis_cert.pem \
	    -key iis_key.pem -CAfile SelfIssuedCA.pem -Verify 1 -www
}
start_server beacon
"$CV" probe 127.0.0.1:$PORT --ca-file SelfIssuedCA.pem \
    --cert "$ROOT/client_cert.pem" --key "$ROOT/private/client_key.pem" \
    --expect-thumbprint "$certhash" >probe.out || fail "8. probe: $(cat probe.out)"
assert_match "8. probe: mTLS enforced" "^  mTLS enforced: +yes$" "$(cat probe.out)"
assert_match "8. probe: served thumbprint = certhash" "Thumbprint: +matches" "$(cat probe.out)"
# OpenSSL's client agrees: served with the deployed certificate, refused without.
with=$(printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:$PORT \
    -CAfile SelfIssuedCA.pem -verify_return_error -cert "$ROOT/client_cert.pem" \
    -key "$ROOT/private/client_key.pem" -quiet -ign_eof 2>&1 || true)
assert_match "8. openssl s_client with the client cert: served" "HTTP/1.0 200 ok" "$with"
without=$(printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:$PORT \
    -CAfile SelfIssuedCA.pem -verify_return_error -quiet -ign_eof 2>&1 || true)
case $without in *"200 ok"*) fail "8. openssl s_client served without a certificate" ;; esac
assert_match "8. openssl s_client without: refused" "certificate required" "$without"
stop_server
echo "seeds-flow: $T_COUNT passed, 0 failed"
