#!/bin/sh
# Issue 13 item 16: a drift alert and list --drift name the pinned path
# where the drift happened, not the certificate's first path.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
sha() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }
mkdir -p "$T/a" "$T/pin"
# The drifting certificate is also in a path that sorts first.
cp "$T/fx/client.pem" "$T/a/copy.pem"
cp "$T/fx/server.pem" "$T/pin/beacon.pem"
cat > "$T/conf" <<EOT
[daemon]
log = stderr
[watch a]
path = $T/a
[watch pinned]
path = $T/pin/beacon.pem
expect_sha1 = $(sha "$T/fx/server.pem")
EOT
daemon_start "$T/conf"
follow_start
cp "$T/fx/client.pem" "$T/pin/beacon.pem.tmp" && mv "$T/pin/beacon.pem.tmp" "$T/pin/beacon.pem"
wait_event "\"kind\":\"drift\".*beacon.pem" 10
wait_event "\"kind\":\"alert\".*drift: " 10
line=$(grep '"kind":"alert".*drift: ' "$T/events.jsonl")
assert_eq "the drift alert's path is the pinned one" "$T/pin/beacon.pem" \
    "$(echo "$line" | jq -r .path)"
assert_match "its message names it" "deployed at $T/pin/beacon.pem" \
    "$(echo "$line" | jq -r .message)"
assert_match "the log line names it" "certvigil-alert\] drift $(sha "$T/fx/client.pem") $T/pin/beacon.pem" \
    "$(grep 'certvigil-alert\] drift' "$T/daemon.log")"
assert_eq "list --drift names the pinned path" "$T/pin/beacon.pem" \
    "$(cv list --json --drift | jq -r '.[].path')"
cv list --drift | grep -q "$T/pin/beacon.pem" || fail "list --drift (text) does not name the pinned path"
ok "list --drift (text) names the pinned path"
daemon_stop
echo "drift-path: $T_COUNT passed, 0 failed"
