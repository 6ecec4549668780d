#!/bin/sh
# Issue 14, forms: drift on each form.  A binding's pfx_file or
# combined_file replaced by hand with another certificate raises a
# "drift" event naming that file (as cert_file does, tests/renew-drift.sh)
# and binding show lists it in drifted_files; cert_file still matches.
# The [watch] has the PFX's password, so that the scanner reads the new
# file and reports it at once (a PFX it cannot read is checked when the
# schedule next runs, at least hourly, with pfx_password_file).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/forms-lib.sh"

forms_setup
umask 077
printf 'pfx-pass\n' > "$T/pfx.pass"
mkpfx() {	# CERT KEY OUT
	openssl pkcs12 -export -in "$1" -inkey "$2" -passout "file:$T/pfx.pass" \
	    -out "$3"
}
mkpfx "$T/live/web.pem" "$T/live/web.key" "$T/live/web.pfx"
cat "$T/live/web.pem" "$T/live/web.key" > "$T/live/web-combined.pem"
old=$(file_sha1 "$T/live/web.pem")
mkdir -p "$T/other"
renew_issue "$T/other/web.pem" "$T/other/web.key"
other=$(file_sha1 "$T/other/web.pem")
mkpfx "$T/other/web.pem" "$T/other/web.key" "$T/other/web.pfx"
cat "$T/other/web.pem" "$T/other/web.key" > "$T/other/web-combined.pem"
cat > "$T/conf" <<EOT
[watch live]
path = $T/live
password_file = $T/pfx.pass

[binding web]
ipport = 127.0.0.1:1
cert_file = $T/live/web.pem
key_file = $T/live/web.key
combined_file = $T/live/web-combined.pem
pfx_file = $T/live/web.pfx
pfx_password_file = $T/pfx.pass
EOT
daemon_start "$T/conf"
follow_start
s=$(cv binding show --json)
assert_eq "no drift at first" false "$(echo "$s" | jq -r '.[0].drift')"
assert_eq "no drifted files" 0 "$(echo "$s" | jq -r '.[0].drifted_files | length')"

cp "$T/other/web.pfx" "$T/live/web.pfx.tmp"
mv "$T/live/web.pfx.tmp" "$T/live/web.pfx"
wait_event "\"kind\": *\"drift\".*web: $T/live/web.pfx holds $other, the binding names $old" 30
ok "drift event for the PFX"
s=$(cv binding show --json)
assert_eq "show: drift" true "$(echo "$s" | jq -r '.[0].drift')"
assert_eq "show: the PFX drifted" "$T/live/web.pfx" "$(echo "$s" | jq -r '.[0].drifted_files | join(",")')"
assert_eq "show: cert_file still matches" "$old" "$(echo "$s" | jq -r '.[0].deployed_sha1')"
cv binding show | grep -q "Drifted Files *: $T/live/web.pfx" || fail "text show lists the drifted PFX"
ok "text show lists the drifted PFX"

cp "$T/other/web-combined.pem" "$T/live/web-combined.pem.tmp"
mv "$T/live/web-combined.pem.tmp" "$T/live/web-combined.pem"
wait_event "\"kind\": *\"drift\".*web: $T/live/web-combined.pem holds $other, the binding names $old" 30
ok "drift event for the combined file"
assert_eq "show: both drifted" "$T/live/web-combined.pem,$T/live/web.pfx" \
    "$(cv binding show --json | jq -r '.[0].drifted_files | join(",")')"
assert_eq "one drift event per file and thumbprint" 2 \
    "$(grep -c '"kind": *"drift".*web: ' "$T/events.jsonl")"

# Put back: drift clears.
mkpfx "$T/live/web.pem" "$T/live/web.key" "$T/live/web.pfx.tmp"
mv "$T/live/web.pfx.tmp" "$T/live/web.pfx"
cat "$T/live/web.pem" "$T/live/web.key" > "$T/live/web-combined.pem.tmp"
mv "$T/live/web-combined.pem.tmp" "$T/live/web-combined.pem"
n=0
until [ "$(cv binding show --json | jq -r '.[0].drift')" = false ]; do
	n=$((n + 1)); [ $n -lt 300 ] || fail "drift did not clear"
	sleep 0.1
done
ok "drift cleared when both files hold the binding's certificate again"

daemon_stop
echo "forms-drift: $T_COUNT passed, 0 failed"
