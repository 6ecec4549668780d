#!/bin/sh
# inspect --json agrees with OpenSSL on every field, for every format.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"

# compare FILE INDEX PEMFILE: record INDEX of FILE against OpenSSL's view
# of the single certificate in PEMFILE.
compare() {
	f=$1 i=$2 ref=$3
	j=$("$CERTVIGIL" inspect --json --password-file password "$f" |
	    jq -c ".[$i]")
	[ "$j" != null ] || fail "$f: no record $i"
	field() { printf '%s' "$j" | jq -r ".$1"; }
	sha1=$(openssl x509 -in "$ref" -noout -fingerprint -sha1 |
	    sed 's/.*=//; s/://g' | tr A-F a-f)
	sha256=$(openssl x509 -in "$ref" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr A-F a-f)
	serial=$(openssl x509 -in "$ref" -noout -serial | sed 's/.*=//' |
	    tr A-F a-f | sed 's/^0*//')
	subject=$(openssl x509 -in "$ref" -noout -subject -nameopt RFC2253 |
	    sed 's/^subject=//')
	issuer=$(openssl x509 -in "$ref" -noout -issuer -nameopt RFC2253 |
	    sed 's/^issuer=//')
	nb=$(ossl_date "$(openssl x509 -in "$ref" -noout -startdate)")
	na=$(ossl_date "$(openssl x509 -in "$ref" -noout -enddate)")
	bits=$(openssl x509 -in "$ref" -noout -text |
	    sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p')
	assert_eq "$f[$i] sha1" "$sha1" "$(field sha1)"
	assert_eq "$f[$i] sha256" "$sha256" "$(field sha256)"
	assert_eq "$f[$i] serial" "$serial" "$(field serial | sed 's/^0*//')"
	assert_eq "$f[$i] subject" "$subject" "$(field subject)"
	assert_eq "$f[$i] issuer" "$issuer" "$(field issuer)"
	assert_eq "$f[$i] not_before" "$nb" "$(field not_before)"
	assert_eq "$f[$i] not_after" "$na" "$(field not_after)"
	if [ -n "$bits" ]; then
		assert_eq "$f[$i] key_bits" "$bits" "$(field key_bits)"
	fi
}

for f in server.pem client.pem ca.pem ed25519.pem sha1.pem expired.pem \
    future.pem; do
	compare "$f" 0 "$f"
done
# The same certificate through every container.
for f in server.cer server-der.txt preamble.pem cert-pkcs1.pem \
    cert-enckey.pem client_cert.pem; do
	compare "$f" 0 server.pem
done
compare client.der 0 client.pem
compare cert-sec1.pem 0 client.pem
for f in bundle.pem bundle-crlf.pem; do
	compare "$f" 0 ca.pem
	compare "$f" 1 server.pem
done
for f in fullchain.pem chain.p7b chain-der.p7b; do
	compare "$f" 0 server.pem
	compare "$f" 1 ca.pem
done
for f in modern.pfx legacy.pfx des3.pfx from-pfx.pem; do
	compare "$f" 0 server.pem
	compare "$f" 1 ca.pem
done
compare empty.pfx 0 client.pem
compare certtool.p12 0 client.pem

J() { "$CERTVIGIL" inspect --json --password-file password "$@"; }

# Formats as detected from content.
assert_eq "der by content" der "$(J server-der.txt | jq -r '.[0].format')"
assert_eq "pkcs12 format" pkcs12 "$(J legacy.pfx | jq -r '.[0].format')"
assert_eq "pem format" pem "$(J bundle.pem | jq -r '.[0].format')"
assert_eq "index" "0 1" "$(J fullchain.pem | jq -r '[.[].index]|join(" ")')"

# Keys: found, matched, and a mismatch reported as such.
for f in bundle.pem modern.pfx legacy.pfx des3.pfx cert-pkcs1.pem \
    cert-enckey.pem from-pfx.pem; do
	assert_eq "$f leaf key" "true true" \
	    "$(J "$f" | jq -r '[.[]|select(.is_ca|not)][0]|"\(.has_private_key) \(.key_matches)"')"
done
assert_eq "sec1 key" "true true" \
    "$(J cert-sec1.pem | jq -r '.[0]|"\(.has_private_key) \(.key_matches)"')"
assert_eq "ca in bundle has no key" "false null" \
    "$(J bundle.pem | jq -r '.[0]|"\(.has_private_key) \(.key_matches)"')"
assert_eq "mismatched key" "true false" \
    "$(J mismatch.pem | jq -r '.[0]|"\(.has_private_key) \(.key_matches)"')"
assert_eq "no key" "false null" \
    "$(J server.pem | jq -r '.[0]|"\(.has_private_key) \(.key_matches)"')"

# SANs and EKUs as OpenSSL lists them.
ossl_san=$(openssl x509 -in server.pem -noout -ext subjectAltName |
    tail -n +2 | sed 's/^ *//; s/IP Address:/IP:/g; s/, /\n/g' |
    sed 's/^IP:0:0:0:0:0:0:0:1$/IP:::1/' | sort | tr '\n' ' ')
my_san=$(J server.pem | jq -r '.[0].san[]' | sort | tr '\n' ' ')
assert_eq "san" "$ossl_san" "$my_san"
assert_eq "eku server" '["serverAuth"]' "$(J server.pem | jq -c '.[0].eku')"
assert_eq "eku client" '["clientAuth"]' "$(J client.pem | jq -c '.[0].eku')"
assert_eq "ca flag" "true false" "$(J fullchain.pem | jq -r '"\(.[1].is_ca) \(.[0].is_ca)"')"
assert_eq "key types" "RSA EC Ed25519" \
    "$(J server.pem client.pem ed25519.pem | jq -r '[.[].key_type]|join(" ")')"
assert_eq "EC bits" 256 "$(J client.pem | jq -r '.[0].key_bits')"
assert_eq "sha1 sig" RSA-SHA1 "$(J sha1.pem | jq -r '.[0].sig_alg')"
assert_eq "sha256 sig" RSA-SHA256 "$(J server.pem | jq -r '.[0].sig_alg')"

# Exactly the keys of the contract, in order.
assert_eq "json keys" \
    "path,format,index,sha1,sha256,subject,issuer,serial,not_before,not_after,key_type,key_bits,sig_alg,san,eku,is_ca,has_private_key,key_matches,warnings" \
    "$(J server.pem | jq -r '.[0]|keys_unsorted|join(",")')"

# Text output: both thumbprint forms netsh and Windows show.
up=$(openssl x509 -in server.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
lo=$(printf '%s' "$up" | tr A-F a-f)
out=$("$CERTVIGIL" inspect server.pem)
assert_match "text thumbprint upper" "Thumbprint: +$up" "$out"
assert_match "text certhash lower" "certhash: +$lo" "$out"
assert_match "text expired" "EXPIRED" "$("$CERTVIGIL" inspect expired.pem)"

# Password from standard input.
out=$("$CERTVIGIL" inspect --json --password-file - modern.pfx < password | jq -r '.[0].sha1')
assert_eq "password from stdin" "$lo" "$out"
echo "inspect: $T_COUNT passed, 0 failed"
