#!/bin/sh
# Issue 14, forms: a PKCS#12 consumer.  A Node.js HTTPS server reads the
# binding's pfx_file with the password in pfx_password_file; renew --now
# (stop/start) deploys a new PFX holding leaf, chain and a friendly name,
# AES-256-CBC/PBKDF2 with a SHA-256 MAC, which node serves; pfx_legacy =
# yes writes 3DES with a SHA-1 MAC, which node serves too.  A password
# file that is missing, or that every user may read, fails the bind with
# one line naming the key and the file, and nothing new is deployed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/forms-lib.sh"
need node python3

forms_setup
umask 077
printf 's3cret pass\n' > "$T/pfx.pass"
chmod 0640 "$T/pfx.pass"
pfx_node_start "$T/pfx.pass"
old=$(file_sha1 "$T/live/web.pem")
assert_eq "node serves the first PFX" "$old" "$(served_at "$PORT")"

pfx_conf "$T/pfx.pass" "$T/pfx.pass"
daemon_start "$T/conf"
follow_start
s=$(cv binding show --json)
assert_eq "show: pfx_file" "$T/live/web.pfx" "$(echo "$s" | jq -r '.[0].pfx_file')"
assert_eq "show: pfx_legacy" false "$(echo "$s" | jq -r '.[0].pfx_legacy')"

renew_and_wait
assert_eq "renewal done" done "$(echo "$R" | jq -r .state)"
new=$(file_sha1 "$T/live/web.pem")
[ "$new" != "$old" ] || fail "cert_file unchanged"
assert_eq "the PFX holds the new leaf" "$new" "$(pfx_sha1 "$T/live/web.pfx" "$T/pfx.pass")"
assert_eq "node serves the new certificate" "$new" "$(served_at "$PORT")"
assert_eq "PFX mode is the key's" 600 "$(stat -c %a "$T/live/web.pfx")"
id=$(echo "$R" | jq -r .id)
assert_eq "the old PFX was moved aside" "$old" \
    "$(pfx_sha1 "$T/live/web.pfx.certvigil-$id" "$T/pfx.pass")"
info=$(openssl pkcs12 -info -noout -in "$T/live/web.pfx" -passin "file:$T/pfx.pass" 2>&1)
assert_match "default PFX: MAC SHA-256" "MAC: sha256" "$info"
assert_match "default PFX: PBES2 AES-256-CBC" "PBES2, PBKDF2, AES-256-CBC" "$info"
assert_eq "PFX holds leaf and chain" 2 "$(openssl pkcs12 -in "$T/live/web.pfx" \
    -passin "file:$T/pfx.pass" -nokeys 2>/dev/null | grep -c 'BEGIN CERTIFICATE')"
assert_match "PFX has a friendly name" "friendlyName: localhost" \
    "$(openssl pkcs12 -in "$T/live/web.pfx" -passin "file:$T/pfx.pass" -nokeys -clcerts 2>/dev/null)"
grep -q 's3cret' "$T/daemon.log" "$T/events.jsonl" && fail "the password reached a log"
ok "the password is in no log"

# pfx_legacy = yes (at run time, as root): 3DES and a SHA-1 MAC.
cv binding update name=web pfx_legacy=yes >/dev/null
assert_eq "show: pfx_legacy set" true "$(cv binding show --json | jq -r '.[0].pfx_legacy')"
renew_and_wait
assert_eq "legacy renewal done" done "$(echo "$R" | jq -r .state)"
new2=$(file_sha1 "$T/live/web.pem")
[ "$new2" != "$new" ] || fail "cert_file unchanged by the legacy renewal"
info=$(openssl pkcs12 -legacy -info -noout -in "$T/live/web.pfx" -passin "file:$T/pfx.pass" 2>&1)
assert_match "legacy PFX: MAC SHA-1" "MAC: sha1" "$info"
assert_match "legacy PFX: 3DES" "pbeWithSHA1And3-KeyTripleDES-CBC" "$info"
case $info in *AES-256*) fail "legacy PFX still uses AES: $info" ;; esac
assert_eq "node serves the legacy PFX" "$new2" "$(served_at "$PORT")"

# Bad password files (the service's own stays good, or it could not
# start again either): nothing new is deployed, one line names key and file.
bad_case() {	# WHAT REGEX
	cp -p "$T/live/web.pfx" "$T/before.pfx"
	renew_and_wait
	assert_eq "$1: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
	assert_match "$1: error names the key and file" "$2" "$(echo "$R" | jq -r '.error')"
	cmp -s "$T/live/web.pfx" "$T/before.pfx" || fail "$1: the PFX changed"
	assert_eq "$1: cert_file unchanged" "$new2" "$(file_sha1 "$T/live/web.pem")"
	assert_eq "$1: node serves the old certificate" "$new2" "$(served_at "$PORT")"
}
chmod 0644 "$T/pfx.pass"
bad_case "world-readable password file" "pfx_password_file: $T/pfx.pass: every user may read it"
chmod 0640 "$T/pfx.pass"
# A binding naming a password file that is not there (node still reads
# its own, so the service itself is fine).
cv binding update name=web pfx_password_file="$T/typo.pass" >/dev/null
bad_case "missing password file" "pfx_password_file: $T/typo.pass: .*No such file"
msg=$(cv binding update name=web pfx_password_file= 2>&1) && fail "update emptied the password file"
assert_match "pfx_file without a password file refused" "absolute path|pfx_file needs pfx_password_file" "$msg"

daemon_stop
echo "renew-pfx: $T_COUNT passed, 0 failed"
