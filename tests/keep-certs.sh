#!/bin/sh
# Issue 13 item 6: a file with a key problem (a bad key, an encrypted key
# without password_file, a truncated block after the certificate) keeps
# every certificate that was read in the daemon's inventory, with the
# file's problem recorded, as `inspect` shows them.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
W=$T/watched
mkdir -p "$W"
cd "$T/fx"
# A key block whose base64 is garbage.
{ cat server.pem; printf -- '-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n' \
    'bm90IGEga2V5IGF0IGFsbA=='; } > "$W/badkey.pem"
# An encrypted key, and the watch has no password_file.
cp cert-enckey.pem "$W/enckey.pem"
# Garbage after the blocks: a BEGIN without its END.
{ cat client.pem; printf -- '-----BEGIN CERTIFICATE-----\nMIIBjunk\n'; } \
    > "$W/truncated.pem"
cat > "$T/conf" <<EOT
[daemon]
rescan_interval = 1d
[watch w]
path = $W
EOT
daemon_start "$T/conf"
sha() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }
L=$(cv list --json --all)
for f in badkey enckey truncated; do
	ref=server.pem
	[ $f = truncated ] && ref=client.pem
	r=$(echo "$L" | jq -c --arg p "$W/$f.pem" '[.[] | select(.paths | index($p))]')
	assert_eq "$f: its certificate is listed" 1 "$(echo "$r" | jq length)"
	assert_eq "$f: thumbprint as OpenSSL" "$(sha "$ref")" \
	    "$(echo "$r" | jq -r '.[0].sha1')"
	# inspect prints the same certificate.
	assert_eq "$f: inspect agrees" "$(sha "$ref")" \
	    "$("$CERTVIGIL" inspect --json "$W/$f.pem" 2>/dev/null | jq -r '.[0].sha1')"
	err=$(echo "$r" | jq -r '.[0].warnings[0]')
	[ -n "$err" ] && [ "$err" != null ] || fail "$f: no problem recorded"
	ok "$f: problem recorded: $err"
	assert_eq "$f: state" invalid "$(echo "$r" | jq -r '.[0].state')"
done
assert_match "enckey: the reason" "^$W/enckey.pem: .*password" \
    "$(echo "$L" | jq -r '.[].warnings[]' | grep enckey)"
assert_match "truncated: the reason" "^$W/truncated.pem: .*truncated" \
    "$(echo "$L" | jq -r '.[].warnings[]' | grep truncated)"
assert_match "show --json: the file's error" "password" \
    "$(cv show --json "$(sha server.pem)" | jq -r '.sources[] | select(.path == "'"$W"'/enckey.pem") | .error')"
# One parse_error event per file, saying the certificates stay.
assert_match "event" "still listed" "$(cv events --json | grep parse_error | grep badkey)"

# Fixed in place: the problem clears, the same certificate stays.
follow_start
cp server.pem "$W/badkey.pem"
wait_event "\"recovered\".*$W/badkey.pem"
assert_eq "badkey fixed: no problem" "" \
    "$(cv list --json --path "$W/badkey.pem" | jq -r ".[0].warnings[]" | grep badkey || true)"
daemon_stop
