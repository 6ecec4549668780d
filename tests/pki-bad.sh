#!/bin/sh
# Every bad input to csr, ca, convert and check: one line on stderr that
# says what is wrong, and a non-zero exit.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"
CV=$CERTVIGIL

# bad WHAT EXPECTED-EXIT REGEX ARGS...
bad() {
	what=$1 want=$2 re=$3
	shift 3
	run_status st "$CV" "$@" >"$T/out" 2>"$T/err"
	assert_eq "$what: exit" "$want" "$st"
	assert_eq "$what: one line" 1 "$(grep -vc '^usage:\|^       certvigil' "$T/err")"
	assert_match "$what: reason" "$re" "$(grep -v '^usage:\|^       certvigil' "$T/err")"
}

bad "country" 1 "^certvigil: --country 'USA': must be a two-letter ISO 3166 code" \
    csr --cn x.example.com --country USA --key-out k1 --out r1
[ ! -e k1 ] || fail "a key was made despite the bad country"
ok "no key made for a bad country"
bad "country digits" 1 "two-letter" csr --cn x --country 1A --key-out k1 --out r1
bad "no CN" 1 "^certvigil: --cn: a common name is required$" csr --org O --key-out k1 --out r1
bad "long CN" 1 "^certvigil: --cn: longer than 64 characters" \
    csr --cn "$(printf '%070d' 0)" --key-out k1 --out r1
bad "SAN type" 1 "^certvigil: SAN 'foo.example.com': expected TYPE:VALUE" \
    csr --cn x --san foo.example.com --key-out k1 --out r1
bad "SAN IP" 1 "^certvigil: SAN 'IP:1.2.3': not an IPv4 or IPv6 address$" \
    csr --cn x --san IP:1.2.3 --key-out k1 --out r1
bad "key type" 2 "^certvigil: key type 'dsa': expected rsa, ec or ed25519$" \
    csr --cn x --key-type dsa --key-out k1 --out r1
bad "RSA bits" 1 "^certvigil: --bits 1024: RSA keys must have 2048 to 16384 bits$" \
    csr --cn x --bits 1024 --key-out k1 --out r1
bad "existing key" 1 "^certvigil: server.key: already exists; refusing to overwrite a private key" \
    csr --cn x --key-out server.key --out r1
bad "--key and --key-out" 2 "exactly one of --key-out" csr --cn x --key server.key --key-out k1 --out r1
bad "--key not a key" 1 "^certvigil: server.pem: no private key in the file$" \
    csr --cn x --key server.pem --out r1
bad "--key encrypted, no password" 1 "no password given" csr --cn x --key server-enc.key --out r1

bad "non-PEM CSR" 1 "^certvigil: --csr server.pem: not a certificate request" \
    ca issue --ca-cert ca.pem --ca-key ca.key --csr server.pem --purpose server --out-cert o.pem
printf 'garbage' > junk.csr
bad "garbage CSR" 1 "^certvigil: --csr junk.csr: not a certificate request" \
    ca issue --ca-cert ca.pem --ca-key ca.key --csr junk.csr --purpose server --out-cert o.pem
sed 's/^MII/MIJ/' server.csr > tampered.csr
bad "tampered CSR" 1 "^certvigil: --csr tampered.csr: " \
    ca issue --ca-cert ca.pem --ca-key ca.key --csr tampered.csr --purpose server --out-cert o.pem
bad "CA key mismatch" 1 "^certvigil: the CA key does not match the CA certificate$" \
    ca issue --ca-cert ca.pem --ca-key server.key --csr server.csr --purpose server --out-cert o.pem
bad "leaf as CA" 1 "^certvigil: --ca-cert server.pem: no CA certificate in the file" \
    ca issue --ca-cert server.pem --ca-key server.key --csr server.csr --purpose server --out-cert o.pem
bad "purpose" 2 "^certvigil: purpose 'web': expected server or client$" \
    ca issue --ca-cert ca.pem --ca-key ca.key --csr server.csr --purpose web --out-cert o.pem
bad "no purpose" 2 "^certvigil: --purpose server or --purpose client is required$" \
    ca issue --ca-cert ca.pem --ca-key ca.key --csr server.csr --out-cert o.pem
bad "days beyond the CA" 1 "^certvigil: the CA certificate expires on .*, before the new certificate would" \
    ca issue --ca-cert ca.pem --ca-key ca.key --csr server.csr --purpose server --days 5000 --out-cert o.pem
bad "ca subcommand" 2 "^certvigil: ca frob: unknown subcommand" ca frob
[ ! -e o.pem ] || fail "a certificate was written by a failed issue"
ok "no certificate written by failed issues"

bad "wrong PFX password" 1 "^certvigil: modern.pfx: wrong PKCS#12 password$" \
    convert modern.pfx --to pem --password-file wrongpass --cert-out c.pem
bad "PFX without password" 1 "^certvigil: modern.pfx: PKCS#12 is password-protected: no password given" \
    convert modern.pfx --to pem --cert-out c.pem
bad "key not matching cert" 1 "^certvigil: client.key: the private key does not match the certificate$" \
    convert --cert server.pem --key client.key --to pfx --password-file password --out o.pfx
bad "mismatched bundle" 1 "^certvigil: mismatch.pem: the private key does not match the certificate$" \
    convert mismatch.pem --to pfx --password-file password --out o.pfx
bad "pfx without password" 2 "^certvigil: a PKCS#12 file needs a password" \
    convert --cert server.pem --key server.key --to pfx --out o.pfx
bad "pfx without key" 1 "^certvigil: server.pem: no private key \(give --key\)$" \
    convert server.pem --to pfx --password-file password --out o.pfx
bad "--to" 2 "^certvigil: --to der: expected pem or pfx$" convert server.pem --to der --out o
bad "pem without outputs" 2 "at least one of --cert-out" convert modern.pfx --to pem
bad "no chain" 1 "no chain certificates in the file" \
    convert server.pem --to pem --chain-out ch.pem
bad "key-out without key" 1 "^certvigil: server.pem: no private key in the file$" \
    convert server.pem --to pem --key-out k.pem
[ ! -e o.pfx ] || fail "a PFX was written by a failed convert"
ok "no PFX written by failed converts"

bad "check missing file" 1 "^certvigil: nope.pem: No such file" check nope.pem
bad "check key only" 1 "^certvigil: server.key: no certificate found" check server.key
bad "check bad CA file" 1 "^certvigil: --ca-file empty.pem: " check server.pem --ca-file empty.pem
bad "check min-days" 2 "^certvigil: --min-days 'x'" check server.pem --min-days x
echo "pki-bad: $T_COUNT passed, 0 failed"
