#!/bin/sh
# Issue 13 item 7, in the daemon: CRL files (PEM and DER, openssl ca
# -gencrl and certtool --generate-crl) in a watched directory are read,
# not counted as errors, listed by list --crls (text and JSON, compared
# with openssl crl), and alerted before nextUpdate (crl_expiring) and
# after it (crl_stale) through events, the log and alert_command.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

W=$T/w
mkdir -p "$W" "$T/ca/db" && cd "$T/ca"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
    -subj "/O=Acme/CN=Beacon mTLS CA" -days 90 2>/dev/null
openssl req -x509 -key ca.key -out r.pem -subj "/CN=revoked" -days 5 \
    2>/dev/null
touch db/index.txt && echo 01 > db/crlnumber
cat > ca.cnf <<EOT
[ca]
default_ca = d
[d]
database = db/index.txt
crlnumber = db/crlnumber
default_md = sha256
certificate = ca.pem
private_key = ca.key
EOT
openssl ca -config ca.cnf -revoke r.pem 2>/dev/null
# 10 days to nextUpdate: crosses 14d.  60 days: nothing.  2020: stale.
openssl ca -config ca.cnf -gencrl -crldays 10 -out "$W/soon.crl.pem" 2>/dev/null
openssl ca -config ca.cnf -gencrl -crldays 60 -out ok.pem 2>/dev/null
openssl crl -in ok.pem -outform DER -out "$W/later.crl"
openssl ca -config ca.cnf -gencrl -crl_lastupdate 20200101000000Z \
    -crl_nextupdate 20200201000000Z -out "$W/stale.crl.pem" 2>/dev/null
certtool --generate-privkey --outfile g.key >/dev/null 2>&1
printf 'cn = GnuTLS CA\nca\ncert_signing_key\ncrl_signing_key\n' > g.tmpl
certtool --generate-self-signed --load-privkey g.key --template g.tmpl \
    --outfile g.pem >/dev/null 2>&1
printf 'crl_next_update = 45\ncrl_number = 5\n' > crl.tmpl
certtool --generate-crl --load-ca-privkey g.key --load-ca-certificate g.pem \
    --template crl.tmpl --outfile "$W/gnutls.crl.pem" >/dev/null 2>&1
cp ca.pem "$W/ca.pem"

cat > "$T/hook.sh" <<EOT
#!/bin/sh
printf '%s %s %s\n' "\$CERTVIGIL_EVENT" "\$CERTVIGIL_THRESHOLD" "\$CERTVIGIL_SHA1" >> "$T/hook.log"
EOT
chmod +x "$T/hook.sh"
: > "$T/hook.log"
cat > "$T/conf" <<EOT
[daemon]
log = stderr
alert_before = 30d,14d,7d
alert_command = $T/hook.sh
[watch w]
path = $W
EOT
crlsha() {
	case $1 in *.pem) i=PEM ;; *) i=DER ;; esac
	openssl crl -inform $i -in "$1" -outform DER | openssl dgst -sha1 -r |
	    cut -c1-40
}
soon=$(crlsha "$W/soon.crl.pem")
stale=$(crlsha "$W/stale.crl.pem")
daemon_start "$T/conf"
follow_start

st=$(cv status --json)
assert_eq "CRL files are not errors" 0 "$(echo "$st" | jq .files.errors)"
assert_eq "the CA certificate is still listed" 1 "$(cv list --json | jq length)"
L=$(cv list --crls --json)
assert_eq "list --crls: four CRLs" 4 "$(echo "$L" | jq length)"
for f in soon.crl.pem later.crl stale.crl.pem gnutls.crl.pem; do
	case $f in *.pem) i=PEM ;; *) i=DER ;; esac
	o=$(echo "$L" | jq -c --arg p "$W/$f" '.[] | select(.path == $p)')
	assert_eq "$f: sha1" "$(crlsha "$W/$f")" "$(echo "$o" | jq -r .sha1)"
	assert_eq "$f: issuer" "$(openssl crl -inform $i -in "$W/$f" -noout \
	    -issuer -nameopt RFC2253 | sed 's/^issuer=//')" \
	    "$(echo "$o" | jq -r .issuer)"
	assert_eq "$f: thisUpdate" "$(ossl_date "$(openssl crl -inform $i \
	    -in "$W/$f" -noout -lastupdate)")" "$(echo "$o" | jq -r .this_update)"
	assert_eq "$f: nextUpdate" "$(ossl_date "$(openssl crl -inform $i \
	    -in "$W/$f" -noout -nextupdate)")" "$(echo "$o" | jq -r .next_update)"
	assert_eq "$f: revoked" "$(openssl crl -inform $i -in "$W/$f" -noout \
	    -text | grep -c 'Serial Number:')" "$(echo "$o" | jq -r .revoked)"
done
assert_eq "soonest nextUpdate first" "$W/stale.crl.pem $W/soon.crl.pem" \
    "$(echo "$L" | jq -r '.[0:2] | map(.path) | join(" ")')"
assert_eq "states" "stale expiring ok ok" \
    "$(echo "$L" | jq -r 'map(.state) | join(" ")')"
assert_match "list --crls text" "^${stale%${stale#??????????}} .* stale +1  $W/stale\.crl\.pem" \
    "$(cv list --crls)"

# Alerts: the 14d threshold for the CRL due in 10 days, crl_stale for the
# 2020 one, nothing for the others; once each.
wait_event "\"kind\":\"alert\".*\"sha1\":\"$soon\"" 10
wait_event "\"kind\":\"alert\".*\"sha1\":\"$stale\"" 10
timeout "$(slow 10)" tail -n +1 -f "$T/hook.log" | grep -q -m 1 "$stale" ||
    fail "alert_command did not run for the stale CRL"
timeout "$(slow 10)" tail -n +1 -f "$T/hook.log" | grep -q -m 1 "$soon" ||
    fail "alert_command did not run for the expiring CRL"
assert_eq "alert_command: crl_expiring 14d" "crl_expiring 14d $soon" \
    "$(grep "$soon" "$T/hook.log")"
assert_eq "alert_command: crl_stale" "crl_stale expired $stale" \
    "$(grep "$stale" "$T/hook.log")"
assert_eq "two alerts in all" 2 "$(wc -l < "$T/hook.log")"
assert_match "log line" "certvigil-alert\] crl_stale $stale" "$(cat "$T/daemon.log")"

na=$(date -u -d "$(openssl crl -in "$W/soon.crl.pem" -noout -nextupdate |
    sed 's/^[^=]*=//')" +%s)
assert_match "metrics: nextUpdate series" \
    "^certvigil_crl_next_update_timestamp_seconds\\{sha1=\"$soon\",issuer=\"CN=Beacon mTLS CA,O=Acme\",path=\"$W/soon\.crl\.pem\"\\} $na\$" \
    "$(cv metrics | grep "$soon")"
if command -v promtool >/dev/null; then
	cv metrics | promtool check metrics || fail "promtool check metrics"
fi

# A removed CRL file leaves the list.
rm "$W/stale.crl.pem"
wait_event "\"kind\":\"removed\".*stale\.crl\.pem" 10
assert_eq "removed CRL is gone from list --crls" 3 \
    "$(cv list --crls --json | jq length)"
daemon_stop
