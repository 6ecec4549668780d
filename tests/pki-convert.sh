#!/bin/sh
# convert: PKCS#12 to clean PEM in one step, and PEM to PKCS#12 (AES-256 and
# the legacy 3DES form), checked with openssl pkcs12 and certtool.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"
CV=$CERTVIGIL
P=pass:1234
sha1() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }
pub_of_key() { openssl pkey -in "$1" -pubout; }
pub_of_cert() { openssl x509 -in "$1" -noout -pubkey; }

# ---- PFX -> PEM, the seeds' three openssl runs and a text editor in one ----
for pfx in modern.pfx legacy.pfx des3.pfx certtool.p12; do
	rm -f c.pem k.pem ch.pem
	case $pfx in certtool.p12) ref=client.pem chain=no ;; *) ref=server.pem chain=yes ;; esac
	if [ $chain = yes ]; then
		"$CV" convert "$pfx" --to pem --password-file password \
		    --cert-out c.pem --key-out k.pem --chain-out ch.pem >/dev/null
		assert_eq "$pfx: chain is the CA" "$(sha1 ca.pem)" "$(sha1 ch.pem)"
	else
		"$CV" convert "$pfx" --to pem --password-file password \
		    --cert-out c.pem --key-out k.pem >/dev/null
	fi
	assert_eq "$pfx: thumbprint kept" "$(sha1 "$ref")" "$(sha1 c.pem)"
	assert_eq "$pfx: only PEM, no Bag Attributes" "-----BEGIN CERTIFICATE-----" "$(head -1 c.pem)"
	assert_eq "$pfx: one certificate" 1 "$(grep -c 'BEGIN CERTIFICATE' c.pem)"
	assert_eq "$pfx: key unencrypted PKCS#8" "-----BEGIN PRIVATE KEY-----" "$(head -1 k.pem)"
	assert_eq "$pfx: key 0600" 600 "$(stat -c %a k.pem)"
	assert_eq "$pfx: key matches" "$(pub_of_cert c.pem)" "$(pub_of_key k.pem)"
	if grep -q "Attributes\|subject=\|issuer=" c.pem k.pem; then
		fail "$pfx: preamble lines in the output"
	fi
done

# The seeds' manual result is the same certificate and key.
openssl pkcs12 -in modern.pfx -passin $P -nocerts -nodes -out seeds_key.pem 2>/dev/null
"$CV" convert modern.pfx --to pem --password-file password --cert-out c.pem --key-out k.pem >/dev/null
assert_eq "same key as openssl pkcs12 -nodes" "$(pub_of_key seeds_key.pem)" "$(pub_of_key k.pem)"
assert_eq "same certificate as -clcerts -nokeys" "$(sha1 client_cert.pem)" "$(sha1 c.pem)"

# --encrypt-key: PKCS#8 AES-256, readable by openssl with the password.
"$CV" convert modern.pfx --to pem --password-file - --key-out ek.pem --encrypt-key <password >/dev/null
assert_eq "encrypted key label" "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -1 ek.pem)"
assert_eq "encrypted key opens" "$(pub_of_key server.key)" "$(openssl pkey -in ek.pem -passin $P -pubout)"

# ---- PEM -> PFX, modern ----
"$CV" convert --cert server.pem --key server.key --chain ca.pem --to pfx \
    --password-file password --out out.pfx >out
assert_match "reports the thumbprint" "thumbprint $(sha1 server.pem)" "$(cat out)"
assert_eq "pfx mode 0600" 600 "$(stat -c %a out.pfx)"
info=$(openssl pkcs12 -info -in out.pfx -passin $P -noout 2>&1) || fail "openssl pkcs12 -info: $info"
assert_match "AES-256 PBES2" "PBES2, PBKDF2, AES-256-CBC" "$info"
assert_match "MAC SHA-256" "MAC: sha256" "$info"
assert_match "shrouded key bag" "Shrouded Keybag" "$info"
openssl pkcs12 -in out.pfx -passin $P -nodes -out back.pem 2>/dev/null
assert_eq "openssl reads the leaf" "$(sha1 server.pem)" "$(openssl x509 -in back.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
assert_eq "openssl: both certificates" 2 "$(grep -c 'BEGIN CERTIFICATE' back.pem)"
assert_eq "localKeyID on key and leaf" 2 "$(openssl pkcs12 -in out.pfx -passin $P -nodes 2>/dev/null | grep -c localKeyID)"
assert_match "friendly name = CN" "friendlyName: beacon.example.com" "$(openssl pkcs12 -in out.pfx -passin $P -nodes 2>/dev/null)"
run_status st openssl pkcs12 -info -in out.pfx -passin pass:wrong -noout >/dev/null 2>&1
[ "$st" != 0 ] || fail "openssl accepted a wrong password"
ok "wrong password refused by openssl"
certtool --p12-info --inder --infile out.pfx --password 1234 >ct.out 2>&1 ||
    fail "certtool --p12-info: $(cat ct.out)"
ok "certtool reads the PFX"

# A round trip keeps the thumbprint.
"$CV" convert out.pfx --to pem --password-file password --cert-out rt.pem --key-out rtk.pem >/dev/null
assert_eq "round trip thumbprint" "$(sha1 server.pem)" "$(sha1 rt.pem)"
assert_eq "round trip key" "$(pub_of_key server.key)" "$(pub_of_key rtk.pem)"

# ---- PEM -> PFX, legacy 3DES for old Windows ----
"$CV" convert bundle.pem --to pfx --legacy --password-file password --out legacy-out.pfx >/dev/null
info=$(openssl pkcs12 -info -legacy -in legacy-out.pfx -passin $P -noout 2>&1) || fail "openssl -legacy: $info"
assert_match "3DES (-legacy)" "pbeWithSHA1And3-KeyTripleDES-CBC" "$info"
assert_match "MAC SHA-1" "MAC: sha1" "$info"
info=$(openssl pkcs12 -info -in legacy-out.pfx -passin $P -noout 2>&1) || fail "openssl without -legacy: $info"
assert_match "3DES (default provider)" "pbeWithSHA1And3-KeyTripleDES-CBC" "$info"
"$CV" convert legacy-out.pfx --to pem --password-file password --cert-out lrt.pem --chain-out lch.pem >/dev/null
assert_eq "legacy round trip" "$(sha1 server.pem)" "$(sha1 lrt.pem)"
assert_eq "bundle's CA kept as chain" "$(sha1 ca.pem)" "$(sha1 lch.pem)"

# EC and an encrypted key as input.
"$CV" convert --cert client.pem --key client.key --to pfx --password-file password --out ec.pfx >/dev/null
openssl pkcs12 -in ec.pfx -passin $P -nodes -nocerts 2>/dev/null | openssl pkey -pubout > ecpub.pem
assert_eq "EC key in PFX" "$(pub_of_key client.key)" "$(cat ecpub.pem)"
"$CV" convert cert-enckey.pem --to pfx --password-file password --out enc.pfx >/dev/null
assert_eq "encrypted input key" "$(sha1 server.pem)" \
    "$(openssl pkcs12 -in enc.pfx -passin $P -nokeys -clcerts 2>/dev/null | openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
echo "pki-convert: $T_COUNT passed, 0 failed"
