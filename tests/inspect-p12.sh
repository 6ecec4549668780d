#!/bin/sh
# PKCS#12 as OpenSSL, Windows and Java write it (issue 13 items 1-4, 9):
# every certificate OpenSSL reads is in inspect and in the daemon's
# inventory, thumbprint for thumbprint; keys are read and matched.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq python3
DATA=$top_srcdir/tests/data
W=$T/w
mkdir -p "$W"
cd "$T"
echo changeit > password
openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem \
    -subj /CN=p12-leaf -days 30 2>/dev/null
i=1
while [ "$i" -le 40 ]; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout /dev/null -subj "/CN=p12 CA $i" -days 30 2>/dev/null
	i=$((i + 1))
done > cas.pem
P="-in c.pem -inkey k.pem -passout pass:changeit"
openssl pkcs12 -export $P -certfile cas.pem -out "$W/ca40.p12"
# The same in the PKCS#12 PBE forms (RC2-40, 3DES) and PBES2 with DES.
openssl pkcs12 -export $P -certfile cas.pem -legacy -out "$W/ca40-rc2.p12"
openssl pkcs12 -export $P -certfile cas.pem -legacy -certpbe PBE-SHA1-3DES \
    -out "$W/ca40-3des.p12"
openssl pkcs12 -export $P -certfile cas.pem -legacy -certpbe DES-CBC \
    -out "$W/ca40-des.p12"
openssl pkcs12 -export $P -keypbe NONE -certpbe NONE -out "$W/none.p12"
openssl pkcs12 -export $P -keypbe NONE -certpbe NONE -nomac \
    -out "$W/none-nomac.p12"
"$FIXTOOL" p12-null c.pem k.pem "$W/null.p12" || fail "fixtool p12-null"
cp "$DATA/keytool-trust144.p12" "$DATA/keytool-ec.p12" "$W/"

# OpenSSL's SHA-1 thumbprints of every certificate in a PFX, sorted.
ossl_sha1s() {
	openssl pkcs12 -legacy -in "$1" -passin pass:"$2" -nokeys 2>/dev/null |
	    awk '/BEGIN CERT/{f="c" ++n ".tmp"} f{print > f} /END CERT/{f=""}'
	for c in c*.tmp; do
		openssl x509 -in "$c" -noout -fingerprint -sha1 |
		    sed 's/.*=//; s/://g' | tr A-F a-f
	done | sort
	rm -f c*.tmp
}
for spec in ca40.p12:41 ca40-rc2.p12:41 ca40-3des.p12:41 ca40-des.p12:41 \
    none.p12:1 none-nomac.p12:1 null.p12:1 \
    keytool-trust144.p12:144 keytool-ec.p12:1; do
	f=${spec%:*} n=${spec#*:}
	pw=changeit
	[ "$f" = null.p12 ] && pw=
	want=$(ossl_sha1s "$W/$f" "$pw")
	assert_eq "$f: OpenSSL reads" "$n" "$(printf '%s\n' "$want" | wc -l)"
	j=$("$CERTVIGIL" inspect --json --password-file password "$W/$f") ||
	    fail "$f: inspect failed"
	assert_eq "$f: thumbprints" "$want" \
	    "$(printf '%s' "$j" | jq -r '.[].sha1' | sort)"
	case $f in
	keytool-trust144.p12) km=null ;;
	*) km=true ;;
	esac
	assert_eq "$f: the leaf's key" "$km" "$(printf '%s' "$j" |
	    jq -c '[.[] | select(.has_private_key) | .key_matches][0]')"
done

# Item 9: a DSA certificate that inherits its parameters cannot be matched
# to its key here: unknown, never "does not match".
openssl dsaparam -out dsap.pem 1024 2>/dev/null
openssl gendsa -out dsaca.key dsap.pem 2>/dev/null
openssl gendsa -out ee.key dsap.pem 2>/dev/null
openssl req -x509 -key dsaca.key -subj /CN=dsa-ca -days 30 -out dsaca.pem
openssl req -new -key ee.key -subj /CN=dsa-inherit -out ee.csr
openssl x509 -req -in ee.csr -CA dsaca.pem -CAkey dsaca.key -days 30 \
    -out ee.pem 2>/dev/null
python3 "$DATA/strip-dsa-params.py" ee.pem > "$W/dsa-inherit.pem"
cat ee.key >> "$W/dsa-inherit.pem"
j=$("$CERTVIGIL" inspect --json "$W/dsa-inherit.pem")
assert_eq "dsa-inherit: key_matches" null "$(printf '%s' "$j" |
    jq -c '.[0].key_matches')"
assert_eq "dsa-inherit: has a key" true "$(printf '%s' "$j" |
    jq -c '.[0].has_private_key')"

# The daemon holds every one of them.
cat > conf <<EOT
[watch p12]
path = $W
password_file = $T/password
EOT
daemon_start "$T/conf"
wait_line "$T/daemon.log" "scan finished" || fail "no scan"
want=$(for f in "$W"/*.p12; do
	pw=changeit
	case $f in */null.p12) pw= ;; esac
	ossl_sha1s "$f" "$pw"
done | sort -u)
cv list --json --all | jq -r '.[].sha1' | sort -u > got
assert_eq "inventory holds every certificate" \
    "$(printf '%s\n' "$want" | wc -l)" \
    "$(printf '%s\n' "$want" | grep -cxF -f got)"
assert_eq "dsa-inherit not alerted as a key mismatch" 0 \
    "$(cv list --json --all --invalid | jq '[.[] | select(.subject == "CN=dsa-inherit")] | length')"
daemon_stop
ok "PKCS#12 from OpenSSL, Windows and keytool read whole"
