#!/bin/sh
# Issue 13 item 5: certificates GnuTLS refuses but OpenSSL reads (a
# duplicated extension, an empty dNSName, x400Address and ediPartyName
# SANs), an MD5/512-bit v1 certificate and a notAfter in year 0001 are
# listed by inspect and by the daemon, field by field as OpenSSL reads
# them, with a "warnings" array saying what was odd.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq python3

W=$T/watched
mkdir -p "$W"
cd "$T"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out k2048.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 \
    -out k512.pem 2>/dev/null
KINDS="dupext emptydns x400 edi md5v1 year1"
for k in $KINDS; do
	key=k2048.pem
	[ $k = md5v1 ] && key=k512.pem
	python3 "$top_srcdir/tests/mkoddcert.py" $k $key "$W/$k.der" ||
	    fail "mkoddcert $k"
done
# The same refused certificate in PEM.
openssl x509 -inform DER -in "$W/x400.der" -out "$W/x400.pem"

ossl() { _k=$1; shift; openssl x509 -inform DER -in "$W/$_k.der" -noout "$@"; }
fp() { ossl "$1" -fingerprint "-$2" | sed 's/.*=//; s/://g' | tr A-F a-f; }
nm() { ossl "$1" "-$2" -nameopt RFC2253 | sed "s/^$2=//"; }
# OpenSSL's "notAfter=Jan  1 00:00:00 1 GMT" as RFC 3339, any year.
odate() {
	ossl "$1" "-$2" | sed 's/^[^=]*=//' | awk '{
	    split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " ");
	    for (i = 1; i <= 12; i++) if (m[i] == $1) mo = i;
	    printf "%04d-%02d-%02dT%sZ\n", $4, mo, $2, $3 }'
}
# OpenSSL's SAN line as our "san" array joined by ", ".
osan() {
	ossl "$1" -ext subjectAltName 2>/dev/null | sed -n '2,$p' |
	    sed 's/^ *//; s/DNS:$/DNS:/; s/, /,/g' | tr ',' '\n' |
	    sed 's/ *$//' | paste -sd, -
}
for k in $KINDS; do
	j=$("$CERTVIGIL" inspect --json "$W/$k.der" | jq -c '.[0]')
	[ "$j" != null ] || fail "$k: not listed by inspect"
	f() { printf '%s' "$j" | jq -r "$1"; }
	assert_eq "$k: sha1" "$(fp $k sha1)" "$(f .sha1)"
	assert_eq "$k: sha256" "$(fp $k sha256)" "$(f .sha256)"
	assert_eq "$k: subject" "$(nm $k subject)" "$(f .subject)"
	assert_eq "$k: issuer" "$(nm $k issuer)" "$(f .issuer)"
	assert_eq "$k: not_before" "$(odate $k startdate)" "$(f .not_before)"
	assert_eq "$k: not_after" "$(odate $k enddate)" "$(f .not_after)"
	assert_eq "$k: san" "$(osan $k)" "$(f '.san | join(",")')"
	case $k in
	md5v1) assert_eq "$k: no warnings" 0 "$(f '.warnings | length')" ;;
	*) assert_match "$k: warned" . "$(f '.warnings[0]')" ;;
	esac
done
assert_eq "year1: the real year" 0001-01-01T00:00:00Z \
    "$("$CERTVIGIL" inspect --json "$W/year1.der" | jq -r '.[0].not_after')"
assert_eq "x400 pem = der" "$(fp x400 sha1)" \
    "$("$CERTVIGIL" inspect --json "$W/x400.pem" | jq -r '.[0].sha1')"
assert_match "text: parse-quality note" "Warnings: +.*read leniently" \
    "$("$CERTVIGIL" inspect "$W/dupext.der")"

# The daemon lists every one of them, with its warnings.
cat > "$T/conf" <<EOT
[daemon]
rescan_interval = 1d
[watch w]
path = $W
EOT
daemon_start "$T/conf"
L=$(cv list --json --all)
for k in $KINDS; do
	r=$(echo "$L" | jq -c --arg s "$(fp $k sha1)" '.[] | select(.sha1 == $s)')
	[ -n "$r" ] || fail "$k: not in the inventory"
	assert_eq "$k: inventory not_after" "$(odate $k enddate)" \
	    "$(echo "$r" | jq -r .not_after)"
	assert_eq "$k: inventory warnings = inspect's" \
	    "$("$CERTVIGIL" inspect --json "$W/$k.der" | jq -c '.[0].warnings')" \
	    "$(echo "$r" | jq -c .warnings)"
done
assert_eq "year1: expired" expired \
    "$(echo "$L" | jq -r --arg s "$(fp year1 sha1)" '.[] | select(.sha1 == $s) | .state')"
assert_eq "show --json warnings" "$("$CERTVIGIL" inspect --json "$W/edi.der" | jq -c '.[0].warnings')" \
    "$(cv show --json "$(fp edi sha1)" | jq -c .warnings)"
assert_match "show text: parse-quality note" "Warnings: +ediPartyName" \
    "$(cv show "$(fp edi sha1)")"
daemon_stop
