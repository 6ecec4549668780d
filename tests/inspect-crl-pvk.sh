#!/bin/sh
# Issue 13 items 7 and 8, offline: CRLs (openssl ca -gencrl, certtool
# --generate-crl; PEM and DER) and PVK keys (openssl rsa -outform PVK:
# unencrypted, RC4 128-bit, RC4 40-bit) as inspect and convert read them,
# compared with OpenSSL's reading of the same files.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq
mkdir -p "$T/w" && cd "$T/w"

# ---- CRLs ----------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
    -subj "/O=Acme CRL/CN=CRL Test CA" -days 30 2>/dev/null
for n in 1 2 3; do
	openssl req -x509 -key ca.key -out r$n.pem -subj "/CN=revoked $n" \
	    -set_serial $((4660 + n)) -days 5 2>/dev/null
done
mkdir db && touch db/index.txt && echo 1001 > db/crlnumber
cat > ca.cnf <<EOT
[ca]
default_ca = d
[d]
database = db/index.txt
crlnumber = db/crlnumber
default_md = sha256
default_crl_days = 9
certificate = ca.pem
private_key = ca.key
EOT
for n in 1 2 3; do
	openssl ca -config ca.cnf -revoke r$n.pem 2>/dev/null
done
openssl ca -config ca.cnf -gencrl -out ossl.crl.pem 2>/dev/null
openssl crl -in ossl.crl.pem -outform DER -out ossl.crl
cat > crl.tmpl <<EOT
crl_next_update = 3
crl_number = 7
EOT
certtool --generate-privkey --outfile gca.key >/dev/null 2>&1
printf 'cn = GnuTLS CRL CA\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 30\n' > gca.tmpl
certtool --generate-self-signed --load-privkey gca.key --template gca.tmpl \
    --outfile gca.pem >/dev/null 2>&1
certtool --generate-crl --load-ca-privkey gca.key --load-ca-certificate \
    gca.pem --template crl.tmpl --outfile gnutls.crl.pem >/dev/null 2>&1
openssl crl -in gnutls.crl.pem -outform DER -out gnutls.crl

# crl_compare FILE: inspect --json against openssl crl, field by field.
crl_compare() {
	f=$1
	case $f in *.pem) inf=PEM ;; *) inf=DER ;; esac
	j=$("$CERTVIGIL" inspect --json "$f" | jq -c '.[0]')
	assert_eq "$f: kind" crl "$(echo "$j" | jq -r .kind)"
	assert_eq "$f: issuer" "$(openssl crl -inform $inf -in "$f" -noout \
	    -issuer -nameopt RFC2253 | sed 's/^issuer=//')" \
	    "$(echo "$j" | jq -r .issuer)"
	assert_eq "$f: thisUpdate" "$(ossl_date "$(openssl crl -inform $inf \
	    -in "$f" -noout -lastupdate)")" "$(echo "$j" | jq -r .this_update)"
	assert_eq "$f: nextUpdate" "$(ossl_date "$(openssl crl -inform $inf \
	    -in "$f" -noout -nextupdate)")" "$(echo "$j" | jq -r .next_update)"
	assert_eq "$f: revoked" "$(openssl crl -inform $inf -in "$f" -noout \
	    -text | grep -c 'Serial Number:')" "$(echo "$j" | jq -r .revoked)"
	assert_eq "$f: sha1" "$(openssl crl -inform $inf -in "$f" -outform DER |
	    openssl dgst -sha1 -r | cut -c1-40)" "$(echo "$j" | jq -r .sha1)"
	num=$(openssl crl -inform $inf -in "$f" -noout -crlnumber |
	    sed 's/^crlNumber=//; s/^0x//' | tr A-F a-f)
	assert_eq "$f: CRL number" "$num" "$(echo "$j" | jq -r .crl_number)"
}
for f in ossl.crl.pem ossl.crl gnutls.crl.pem gnutls.crl; do
	crl_compare "$f"
done
assert_eq "openssl CRL revokes 3" 3 \
    "$("$CERTVIGIL" inspect --json ossl.crl | jq '.[0].revoked')"
out=$("$CERTVIGIL" inspect ossl.crl.pem)
assert_match "inspect text: a CRL" '^ossl\.crl\.pem \[pem CRL #0\]' "$out"
assert_match "inspect text: revoked" 'Revoked: +3' "$out"
# A bundle: the CA certificate and its CRL in one PEM file.
cat ca.pem ossl.crl.pem > bundle.pem
assert_eq "bundle: cert then CRL" "cert crl" "$("$CERTVIGIL" inspect --json \
    bundle.pem | jq -r '[.[] | .kind // "cert"] | join(" ")')"

# ---- PVK -------------------------------------------------------------------
openssl genrsa -out k.pem 2048 2>/dev/null
openssl req -x509 -key k.pem -outform DER -out SelfIssuedSSL.cer \
    -subj /CN=SelfIssuedSSL -days 30 2>/dev/null
openssl rsa -in k.pem -outform PVK -pvk-none -out plain.pvk 2>/dev/null
legacy="-provider legacy -provider default"
# shellcheck disable=SC2086
openssl rsa $legacy -in k.pem -outform PVK -passout pass:s3cret \
    -out strong.pvk 2>/dev/null || skip "openssl has no RC4 (legacy provider)"
# shellcheck disable=SC2086
openssl rsa $legacy -in k.pem -outform PVK -pvk-weak -passout pass:s3cret \
    -out weak.pvk 2>/dev/null
printf 's3cret\n' > pw
printf 'export\n' > outpw
printf 'wrong\n' > badpw
modulus=$(openssl rsa -in k.pem -noout -modulus)
for f in plain.pvk strong.pvk weak.pvk; do
	j=$("$CERTVIGIL" inspect --json --password-file pw "$f" \
	    SelfIssuedSSL.cer | jq -c '.[0]')
	assert_eq "$f: a PVK key" "private_key pvk RSA 2048" "$(echo "$j" |
	    jq -r '[.kind, .format, .key_type, .key_bits] | join(" ")')"
	assert_eq "$f: matches the certificate" SelfIssuedSSL.cer \
	    "$(echo "$j" | jq -r '.matches[0].path')"
	# pvk2pfx: the PFX's key is the key OpenSSL reads from the PVK.
	"$CERTVIGIL" convert --key "$f" --cert SelfIssuedSSL.cer --to pfx \
	    --out "$f.pfx" --password-file pw >/dev/null ||
	    fail "$f: convert --to pfx failed"
	assert_eq "$f: PFX key = PVK key" "$modulus" "$(openssl pkcs12 \
	    -in "$f.pfx" -passin pass:s3cret -nocerts -nodes 2>/dev/null |
	    openssl rsa -noout -modulus)"
	# shellcheck disable=SC2086
	assert_eq "$f: OpenSSL reads the same PVK" "$modulus" "$(openssl rsa \
	    $legacy -inform PVK -in "$f" -passin pass:s3cret -noout -modulus \
	    2>/dev/null)"
done
out=$("$CERTVIGIL" inspect plain.pvk)
assert_match "inspect text: PVK" '^plain\.pvk \[pvk private key #0\]' "$out"
assert_match "inspect text: no certificate given" \
    'Matches: +\(no certificate given\)' "$out"
run_status st "$CERTVIGIL" inspect strong.pvk 2>err
assert_eq "encrypted PVK without a password fails" 1 "$st"
assert_match "and says so" "no password was given" "$(cat err)"
run_status st "$CERTVIGIL" inspect --password-file badpw strong.pvk 2>err
assert_eq "wrong PVK password fails" 1 "$st"
assert_match "and says so" "wrong private key password" "$(cat err)"
head -c 600 plain.pvk > cut.pvk
run_status st "$CERTVIGIL" inspect cut.pvk 2>err
assert_eq "truncated PVK fails" 1 "$st"
assert_match "and says so" "PVK: truncated" "$(cat err)"
