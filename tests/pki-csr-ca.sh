#!/bin/sh
# csr and ca (init, issue, sign) against OpenSSL's and certtool's views.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool
cd "$T"
CV=$CERTVIGIL

# ---- csr: the seeds' wizard, RSA 2048 / SHA-256 by default ----
"$CV" csr --cn www.example.com --org "Your Company, Inc" --ou "Web Security" \
    --locality Springfield --state Illinois --country us \
    --san "DNS:www.example.com, DNS:*.example.com,IP:192.0.2.7,IP:2001:db8::1,email:ops@example.com,URI:https://www.example.com/" \
    --key-out web.key --out web.csr >out
openssl req -in web.csr -verify -noout 2>err || fail "openssl rejects the CSR: $(cat err)"
assert_match "openssl verifies the CSR" "verify OK" "$(cat err)"
assert_eq "PEM label" "-----BEGIN CERTIFICATE REQUEST-----" "$(head -1 web.csr)"
assert_eq "subject" "C = US, ST = Illinois, L = Springfield, O = \"Your Company, Inc\", OU = Web Security, CN = www.example.com" \
    "$(openssl req -in web.csr -noout -subject | sed 's/^subject=//')"
text=$(openssl req -in web.csr -noout -text)
assert_match "RSA 2048" "Public-Key: \(2048 bit\)" "$text"
assert_match "SHA-256" "Signature Algorithm: sha256WithRSAEncryption" "$text"
assert_match "SANs in the request" "DNS:www.example.com, DNS:\*.example.com, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1, email:ops@example.com, URI:https://www.example.com/" "$text"
assert_eq "key mode 0600" 600 "$(stat -c %a web.key)"
assert_eq "key label" "-----BEGIN PRIVATE KEY-----" "$(head -1 web.key)"
assert_eq "key belongs to the CSR" "$(openssl pkey -in web.key -pubout)" \
    "$(openssl req -in web.csr -noout -pubkey)"
certtool --crq-info --infile web.csr >ct.out 2>&1 || fail "certtool: $(cat ct.out)"
ok "certtool reads the CSR"

# Other key types; reusing a key.
"$CV" csr --cn ec.example.com --key-type ec --key-out ec.key --out ec.csr >/dev/null
openssl req -in ec.csr -verify -noout 2>/dev/null || fail "EC CSR"
assert_match "EC P-256" "NIST CURVE: P-256" "$(openssl req -in ec.csr -noout -text)"
assert_match "ECDSA SHA-256" "ecdsa-with-SHA256" "$(openssl req -in ec.csr -noout -text)"
"$CV" csr --cn ed.example.com --key-type ed25519 --key-out ed.key --out ed.csr >/dev/null
openssl req -in ed.csr -verify -noout 2>/dev/null || fail "Ed25519 CSR"
assert_match "Ed25519" "ED25519" "$(openssl req -in ed.csr -noout -text)"
"$CV" csr --cn rsa3072.example.com --bits 3072 --key-out r3.key --out r3.csr >/dev/null
assert_match "RSA 3072" "Public-Key: \(3072 bit\)" "$(openssl req -in r3.csr -noout -text)"
openssl genrsa -out ossl.key 2048 2>/dev/null
"$CV" csr --cn reuse.example.com --key ossl.key --out reuse.csr >/dev/null
assert_eq "--key reuses the key" "$(openssl pkey -in ossl.key -pubout)" \
    "$(openssl req -in reuse.csr -noout -pubkey)"
openssl pkcs8 -topk8 -in ossl.key -v2 aes-256-cbc -passout pass:1234 -out ossl-enc.key
printf '1234\n' > pw
"$CV" csr --cn reuse.example.com --key ossl-enc.key --password-file pw --out reuse2.csr >/dev/null
assert_eq "--key encrypted" "$(openssl pkey -in ossl.key -pubout)" \
    "$(openssl req -in reuse2.csr -noout -pubkey)"

# ---- ca init: makecert -r ----
"$CV" ca init --cn SelfIssuedCA --out-cert ca.pem --out-key ca.key >out
assert_match "ca init reports" "^CA certificate: ca.pem \(CN=SelfIssuedCA, thumbprint [0-9A-F]{40}\)" "$(tail -1 out)"
assert_eq "CA key 0600" 600 "$(stat -c %a ca.key)"
openssl verify -CAfile ca.pem ca.pem >/dev/null || fail "CA does not verify itself"
ok "self-issued root verifies"
ext=$(openssl x509 -in ca.pem -noout -ext basicConstraints,keyUsage)
assert_match "CA:TRUE critical" "Basic Constraints: critical" "$ext"
assert_match "CA:TRUE" "CA:TRUE" "$ext"
assert_match "keyCertSign" "Certificate Sign" "$ext"
assert_match "CA SHA-256" "sha256WithRSAEncryption" "$(openssl x509 -in ca.pem -noout -text)"
days=$(( ($(date -d "$(openssl x509 -in ca.pem -noout -enddate | sed 's/.*=//')" +%s) - $(date +%s)) / 86400 ))
assert_match "CA lifetime 3650 days" "^(3649|3650)$" "$days"

# ---- ca issue --csr: server certificate with serverAuth ----
"$CV" ca issue --ca-cert ca.pem --ca-key ca.key --csr web.csr \
    --purpose server --out-cert web.pem >out
assert_match "issue reports" "^server certificate: web.pem" "$(cat out)"
assert_eq "openssl verify" "web.pem: OK" "$(openssl verify -CAfile ca.pem web.pem)"
certtool --verify --load-ca-certificate ca.pem --infile web.pem >ct.out 2>&1 ||
    fail "certtool --verify: $(cat ct.out)"
ok "certtool verifies"
assert_match "EKU serverAuth" "TLS Web Server Authentication" \
    "$(openssl x509 -in web.pem -noout -ext extendedKeyUsage)"
# The OID itself, 1.3.6.1.5.5.7.3.1, as DER bytes in the certificate.
der_hex() { openssl x509 -in "$1" -outform DER | od -An -tx1 | tr -d ' \n'; }
assert_match "EKU OID 1.3.6.1.5.5.7.3.1" "06082b06010505070301" "$(der_hex web.pem)"
assert_match "certtool: TLS WWW Server" "TLS WWW Server" "$(certtool -i --infile web.pem)"
assert_eq "SANs copied" "$(openssl req -in web.csr -noout -text | grep -A1 'Subject Alternative Name' | tail -1 | sed 's/^ *//')" \
    "$(openssl x509 -in web.pem -noout -ext subjectAltName | tail -1 | sed 's/^ *//')"
assert_eq "subject copied" "$(openssl req -in web.csr -noout -subject | sed 's/^subject=//')" \
    "$(openssl x509 -in web.pem -noout -subject | sed 's/^subject=//')"
assert_match "leaf SHA-256" "sha256WithRSAEncryption" "$(openssl x509 -in web.pem -noout -text)"
assert_match "leaf CA:FALSE" "CA:FALSE" "$(openssl x509 -in web.pem -noout -ext basicConstraints)"
serial=$(openssl x509 -in web.pem -noout -serial | sed 's/^serial=//')
assert_match "serial: 128-bit, positive" "^[0-7][0-9A-F]{31}$" "$serial"
"$CV" ca sign --ca-cert ca.pem --ca-key ca.key --csr web.csr --purpose server \
    --out-cert web2.pem >/dev/null
serial2=$(openssl x509 -in web2.pem -noout -serial | sed 's/^serial=//')
[ "$serial" != "$serial2" ] || fail "serials repeat"
ok "ca sign is ca issue; serials differ"
days=$(( ($(date -d "$(openssl x509 -in web.pem -noout -enddate | sed 's/.*=//')" +%s) - $(date +%s)) / 86400 ))
assert_match "leaf lifetime 397 days" "^(396|397)$" "$days"
"$CV" ca issue --ca-cert ca.pem --ca-key ca.key --csr web.csr --purpose server \
    --days 30 --san DNS:override.example.com --out-cert web30.pem >/dev/null
assert_eq "--san replaces the request's" "DNS:override.example.com" \
    "$(openssl x509 -in web30.pem -noout -ext subjectAltName | tail -1 | sed 's/^ *//')"

# The seeds' makecert line: a CN only, no SAN: the CN becomes the SAN.
"$CV" csr --cn server-name.com --key-out sn.key --out sn.csr >/dev/null
"$CV" ca issue --ca-cert ca.pem --ca-key ca.key --csr sn.csr --purpose server \
    --out-cert sn.pem >/dev/null
assert_eq "CN as SAN" "DNS:server-name.com" \
    "$(openssl x509 -in sn.pem -noout -ext subjectAltName | tail -1 | sed 's/^ *//')"

# ---- ca issue --cn: a client certificate with a new key ----
"$CV" ca issue --ca-cert ca.pem --ca-key ca.key --cn inventory-client \
    --purpose client --key-type ec --out-cert client.pem --out-key client.key >/dev/null
assert_eq "client verifies" "client.pem: OK" "$(openssl verify -CAfile ca.pem client.pem)"
assert_match "EKU clientAuth" "TLS Web Client Authentication" \
    "$(openssl x509 -in client.pem -noout -ext extendedKeyUsage)"
assert_match "EKU OID 1.3.6.1.5.5.7.3.2" "06082b06010505070302" "$(der_hex client.pem)"
assert_eq "client key 0600" 600 "$(stat -c %a client.key)"
assert_eq "client key matches" "$(openssl pkey -in client.key -pubout)" \
    "$(openssl x509 -in client.pem -noout -pubkey)"
assert_eq "no SAN for a non-host CN" "" \
    "$(openssl x509 -in client.pem -noout -ext subjectAltName 2>/dev/null)"
openssl verify -CAfile ca.pem -purpose sslclient client.pem >/dev/null ||
    fail "openssl: not fit for sslclient"
ok "openssl: fit for sslclient"

# An Ed25519 CA signing an RSA request (EdDSA picks its own hash).
"$CV" ca init --cn EdCA --key-type ed25519 --days 30 --out-cert edca.pem --out-key edca.key >/dev/null
"$CV" ca issue --ca-cert edca.pem --ca-key edca.key --csr web.csr --purpose server \
    --days 10 --out-cert webed.pem >/dev/null
assert_eq "Ed25519 CA" "webed.pem: OK" "$(openssl verify -CAfile edca.pem webed.pem)"
echo "pki-csr-ca: $T_COUNT passed, 0 failed"
