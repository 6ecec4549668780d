#!/bin/sh
# Issue 13 item 10: subjects and issuers named as OpenSSL's RFC 2253
# output names them (emailAddress, organizationIdentifier, SN, GN, ...),
# and a CN that is not valid UTF-8 shown the same way (\XX) by inspect
# and by the daemon's list, in JSON and in text.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq python3

W=$T/watched
mkdir -p "$W"
cd "$T"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out key.pem 2>/dev/null
mk() {
	# mk FILE SUBJ [OPENSSL REQ ARGS...]
	_f=$1 _s=$2; shift 2
	openssl req -x509 -key key.pem -out "$W/$_f" -days 30 -utf8 \
	    -subj "$_s" "$@" 2>/dev/null || fail "openssl req $_f"
}
mk attrs.pem "/CN=names.example/emailAddress=a@example.com/organizationIdentifier=VATDE-123456789/SN=Smith/GN=John/serialNumber=42/title=Dr/L=Berlin/ST=Berlin/street=Main 1/postalCode=10115/DC=example/UID=jsmith/initials=JS/pseudonym=js/jurisdictionC=DE/jurisdictionST=BE/jurisdictionL=Berlin/businessCategory=Private Organization/dnQualifier=q/generationQualifier=III/description=d/OU=Ops/O=Org/C=DE"
mk escapes.pem '/CN=a\,b;c <d>+UID=x/O=Müller GmbH/OU= #lead trail /DC=x"y\\z' \
    -multivalue-rdn
printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n1.2.3.4=foo\nCN=plain\n' > oid.cnf
openssl req -x509 -key key.pem -out "$W/oid.pem" -days 30 -config oid.cnf \
    2>/dev/null || fail "openssl req oid"
# Not valid UTF-8 in a UTF8String CN (OpenSSL itself refuses to load it).
openssl genpkey -algorithm RSA -out rsa.pem 2>/dev/null
python3 "$top_srcdir/tests/mkoddcert.py" badutf8 rsa.pem "$W/badutf8.der"

for f in attrs escapes oid; do
	# -esc_msb: UTF-8 is shown as UTF-8 (the documented difference).
	want=$(openssl x509 -in "$W/$f.pem" -noout -subject \
	    -nameopt RFC2253,-esc_msb | sed 's/^subject=//')
	assert_eq "$f: subject as OpenSSL" "$want" \
	    "$("$CERTVIGIL" inspect --json "$W/$f.pem" | jq -r '.[0].subject')"
	want=$(openssl x509 -in "$W/$f.pem" -noout -issuer \
	    -nameopt RFC2253,-esc_msb | sed 's/^issuer=//')
	assert_eq "$f: issuer as OpenSSL" "$want" \
	    "$("$CERTVIGIL" inspect --json "$W/$f.pem" | jq -r '.[0].issuer')"
done
assert_eq "bad UTF-8: inspect --json" 'CN=bad\FF\FEutf8' \
    "$("$CERTVIGIL" inspect --json "$W/badutf8.der" | jq -r '.[0].subject')"
assert_match "bad UTF-8: inspect text" 'Subject: +CN=bad\\FF\\FEutf8$' \
    "$("$CERTVIGIL" inspect "$W/badutf8.der")"

cat > "$T/conf" <<EOT
[daemon]
rescan_interval = 1d
[watch w]
path = $W
EOT
daemon_start "$T/conf"
L=$(cv list --json --all)
for f in attrs.pem escapes.pem oid.pem badutf8.der; do
	assert_eq "$f: list subject = inspect subject" \
	    "$("$CERTVIGIL" inspect --json "$W/$f" | jq -r '.[0].subject')" \
	    "$(echo "$L" | jq -r --arg p "$W/$f" '.[] | select(.paths | index($p)) | .subject')"
done
sha=$("$CERTVIGIL" inspect --json "$W/badutf8.der" | jq -r '.[0].sha1')
assert_match "bad UTF-8: list text" ' bad\\FF\\FEutf8' "$(cv list --all)"
assert_match "bad UTF-8: show text" 'CN=bad\\FF\\FEutf8' "$(cv show "$sha")"
assert_eq "bad UTF-8: show --json" 'CN=bad\FF\FEutf8' "$(cv show --json "$sha" | jq -r .subject)"
daemon_stop
