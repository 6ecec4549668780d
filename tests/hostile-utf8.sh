#!/bin/sh
# File names that are not UTF-8.  A user who can write into a watched
# directory drops a certificate under a Latin-1 name (and a stray 0xff
# byte).  jansson refuses such bytes: the event's JSON was NULL, so the
# file's events never reached a follower or "events", the alert engine
# missed the new file, and with a follower connected an event went to
# proto_dump as NULL and aborted the daemon.  Now each byte that starts
# no UTF-8 sequence is U+FFFD in the JSON (proto_string), as in list's.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq
. "$top_srcdir/tests/unpriv-lib.sh"
unpriv_user U u

W=$T/w
mkdir -p "$W" "$T/gen"
chown "$U:$U" "$W"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/gen/k.pem" -out "$T/gen/c.pem" -subj /CN=latin1.test \
    -days 5 2>/dev/null
chmod 644 "$T/gen/c.pem"
# A plain file first: follow_start waits for the backlog's first event.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/gen/k2.pem" -out "$W/plain.pem" -subj /CN=plain.test \
    -days 300 2>/dev/null
sha1=$(openssl x509 -in "$T/gen/c.pem" -noout -fingerprint -sha1 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
BAD=$(printf 'caf\351-\377.pem')
FFFD=$(printf '\357\277\275')
SHOWN="$W/caf$FFFD-$FFFD.pem"

cat > "$T/conf" <<EOT
[watch w]
path = $W
EOT
daemon_start "$T/conf"
follow_start
as "$U" cp "$T/gen/c.pem" "$W/$BAD"
wait_event "\"kind\":\"discovered\",\"path\":\"$SHOWN\"" 30
ok "the follower got the file's discovery, the name with U+FFFD"
wait_event "\"kind\":\"alert\",\"path\":\"$SHOWN\",\"sha1\":\"$sha1\"" 30
ok "the alert engine saw the new file"
kill -0 "$D_PID" 2>/dev/null || { cat "$T/daemon.log" >&2; fail "certvigild died"; }
ok "certvigild still runs"
assert_eq "events: both, valid JSON" "alert discovered" \
    "$(cv events --json | jq -r --arg p "$SHOWN" 'select(.path == $p) | .kind' | sort | paste -sd ' ')"
assert_eq "list --json: the file" "$SHOWN" \
    "$(cv list --json | jq -r --arg s "$sha1" '.[] | select(.sha1 == $s) | .path')"
assert_eq "show --json: the file" "$SHOWN" \
    "$(cv show --json "$sha1" | jq -r '.sources[0].path')"
assert_eq "inspect --json: the file" "$SHOWN" \
    "$(as "$U" "$CERTVIGIL" inspect --json "$W/$BAD" | jq -r '.[0].path')"
# The file is the real one: the daemon reads it by its real name.
as "$U" rm "$W/$BAD"
wait_event "\"kind\":\"removed\",\"path\":\"$SHOWN\"" 30
ok "its removal is seen too"
daemon_stop
echo "hostile-utf8: $T_COUNT passed, 0 failed"
