#!/bin/sh
# A file added, changed, renamed, broken or deleted in a watched tree is in
# the inventory within 1 s, without a rescan.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
W=$T/watched
mkdir -p "$W/a/b"
cp "$T/fx/server.pem" "$W/a/b/server.pem"
cat > "$T/conf" <<EOT
[daemon]
rescan_interval = 1d
[watch tree]
path = $W
EOT
daemon_start "$T/conf"
follow_start
sha() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }
within() {
	# within MS START WHAT: the elapsed time since START is under MS.
	el=$(( $(now_ms) - $2 ))
	[ "$el" -lt "$(slow "$1")" ] || fail "$3 took ${el} ms"
	ok "$3 in ${el} ms"
}

# Added.
t0=$(now_ms)
cp "$T/fx/client.pem" "$W/a/client.pem"
wait_event "\"discovered\".*$W/a/client.pem"
within 1000 "$t0" "added file"
assert_eq "added in list" 1 "$(cv list --json --path "$W/a/client.pem" | jq length)"

# A new directory with a file in it (recursive watch).
t0=$(now_ms)
mkdir -p "$W/new/deep"
cp "$T/fx/ed25519.pem" "$W/new/deep/ed.pem"
wait_event "\"discovered\".*$W/new/deep/ed.pem"
within 1000 "$t0" "file in new directory"
# ... and a later change in that directory is seen too.
cp "$T/fx/expired.pem" "$W/new/deep/exp.pem"
wait_event "\"discovered\".*$W/new/deep/exp.pem"
ok "new directory is watched"

# Changed in place: the thumbprint at the path changes.
t0=$(now_ms)
cat "$T/fx/sha1.pem" > "$W/a/client.pem"
wait_event "\"thumbprint_changed\".*$W/a/client.pem"
within 1000 "$t0" "changed file"
assert_eq "new thumbprint at path" "$(sha "$T/fx/sha1.pem")" \
    "$(cv show --json "$W/a/client.pem" | jq -r .sha1)"

# Replaced by rename (how editors and deploy tools write).
cp "$T/fx/client.pem" "$W/a/.tmp"
t0=$(now_ms)
mv "$W/a/.tmp" "$W/a/b/server.pem"
wait_event "\"thumbprint_changed\".*$W/a/b/server.pem"
within 1000 "$t0" "file replaced by rename"

# Renamed: old path gone, new path discovered.
t0=$(now_ms)
mv "$W/a/b/server.pem" "$W/a/b/renamed.pem"
wait_event "\"removed\".*$W/a/b/server.pem"
wait_event "\"discovered\".*$W/a/b/renamed.pem"
within 1000 "$t0" "renamed file"

# Broken: keeps its last good data, gains an error, raises an event.
good=$(cv show --json "$W/a/b/renamed.pem" | jq -r .sha1)
t0=$(now_ms)
head -c 300 "$T/fx/server.pem" > "$W/a/b/renamed.pem"
wait_event "\"parse_error\".*$W/a/b/renamed.pem"
within 1000 "$t0" "broken file"
S=$(cv show --json "$W/a/b/renamed.pem")
assert_eq "broken: last good data kept" "$good" "$(echo "$S" | jq -r .sha1)"
assert_eq "broken: state" invalid "$(echo "$S" | jq -r .state)"
assert_match "broken: error recorded" "truncated PEM" \
    "$(echo "$S" | jq -r '.sources[]|select(.path|endswith("renamed.pem"))|.error')"
cp "$T/fx/client.pem" "$W/a/b/renamed.pem"
wait_event "\"recovered\".*$W/a/b/renamed.pem"
ok "recovered"

# Deleted.
t0=$(now_ms)
rm "$W/a/client.pem"
wait_event "\"removed\".*$W/a/client.pem"
within 1000 "$t0" "deleted file"
assert_eq "deleted: not listed" 0 "$(cv list --json --path "$W/a/client.pem" | jq length)"
assert_eq "deleted: source marked gone" true \
    "$(cv show --json "$W/a/client.pem" | jq --arg p "$W/a/client.pem" '.sources[]|select(.path==$p)|.gone')"

# None of this needed a full rescan: only the first scan ran.
assert_eq "no rescan ran" 1 "$(grep -c 'scan finished' "$T/daemon.log")"
daemon_stop
echo "daemon-watch: $T_COUNT passed, 0 failed"
