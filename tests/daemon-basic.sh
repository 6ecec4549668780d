#!/bin/sh
# certvigild scans, and status/list/show answer through the socket.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
mkdir -p "$T/certs/srv" "$T/certs/cli"
cp "$T/fx/server.pem" "$T/fx/fullchain.pem" "$T/fx/expired.pem" \
    "$T/fx/future.pem" "$T/fx/modern.pfx" "$T/fx/mismatch.pem" \
    "$T/fx/server.cer" "$T/certs/srv/"
cp "$T/fx/client.pem" "$T/certs/cli/"
printf 'not a certificate\n' > "$T/certs/srv/notes.txt"
cat > "$T/conf" <<EOT
[daemon]
expiring = 30d
[watch servers]
path = $T/certs/srv
role = server
password_file = $T/fx/password
exclude = *.txt
[watch clients]
path = $T/certs/cli
role = client
EOT
daemon_start "$T/conf"

st=$(cv status --json)
assert_eq "status: total" 5 "$(echo "$st" | jq .certs.total)"
assert_eq "status: expired" 1 "$(echo "$st" | jq .certs.expired)"
assert_eq "status: not yet valid" 1 "$(echo "$st" | jq .certs.not_yet_valid)"
assert_eq "status: invalid (mismatched key)" 1 "$(echo "$st" | jq .certs.invalid)"
assert_eq "status: excluded file not read" 8 "$(echo "$st" | jq .files.total)"
assert_eq "status: scan idle" idle "$(echo "$st" | jq -r .scan.state)"
assert_eq "status: watches" "servers clients" "$(echo "$st" | jq -r '[.watches[].name]|join(" ")')"
assert_match "status: text" "certificates: 5 " "$(cv status)"

L=$(cv list --json)
server_sha1=$(openssl x509 -in "$T/fx/server.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f)
assert_eq "list: one row per certificate" 5 "$(echo "$L" | jq length)"
# One certificate found at several paths is one certificate with several sources.
assert_eq "list: server cert paths" 5 \
    "$(echo "$L" | jq --arg s "$server_sha1" '[.[]|select(.sha1==$s)][0].paths|length')"
assert_eq "list: keys" \
    "path,format,index,sha1,sha256,subject,issuer,serial,not_before,not_after,key_type,key_bits,sig_alg,san,eku,is_ca,has_private_key,key_matches,role,paths,days_left,state,warnings" \
    "$(echo "$L" | jq -r '.[0]|keys_unsorted|join(",")')"
assert_eq "list: fields agree with inspect" \
    "$("$CERTVIGIL" inspect --json "$T/fx/client.pem" | jq -c '.[0]|del(.path,.format,.index,.has_private_key,.key_matches)')" \
    "$(echo "$L" | jq -c '.[]|select(.role=="client")|del(.path,.format,.index,.has_private_key,.key_matches,.role,.paths,.days_left,.state)')"
assert_eq "list --expired" "expired.example.com" \
    "$(cv list --json --expired | jq -r '.[].subject' | sed 's/CN=//')"
assert_eq "list --role client" "CN=inventory-client" "$(cv list --json --role client | jq -r '.[].subject')"
assert_eq "list --invalid" "$server_sha1" "$(cv list --json --invalid | jq -r '.[].sha1')"
assert_eq "list --path" 1 "$(cv list --json --path '*/server.cer' | jq length)"
assert_eq "list --expiring 400d" 2 "$(cv list --json --expiring 400d | jq length)"
assert_eq "list --expiring 1d" 0 "$(cv list --json --expiring 1d | jq length)"
assert_eq "state of ca" valid "$(echo "$L" | jq -r '.[]|select(.is_ca)|.state')"
assert_match "list: table" "^SHA1 +SUBJECT CN" "$(cv list | head -1)"

S=$(cv show --json "$(echo "$server_sha1" | cut -c1-8)")
assert_eq "show: by prefix" "$server_sha1" "$(echo "$S" | jq -r .sha1)"
assert_eq "show: sources" 5 "$(echo "$S" | jq '.sources|length')"
assert_eq "show: events" true "$(echo "$S" | jq '.events|length > 0')"
assert_eq "show: by path" "$server_sha1" "$(cv show --json "$T/certs/srv/modern.pfx" | jq -r .sha1)"
assert_eq "show: pkcs12 source key" true \
    "$(echo "$S" | jq '[.sources[]|select(.format=="pkcs12")][0].key_matches')"
run_status st cv show ffffffff
assert_eq "show: unknown exit" 1 "$st"
run_status st cv show zz
# A malformed prefix is a usage error (issue 13 item 19), not "not found".
assert_eq "show: bad key exit" 2 "$st"

# Events: discovery recorded with path and thumbprint.
ev=$(cv events --json | jq -s '[.[]|select(.kind=="discovered")]|length')
assert_eq "events: discovered per file" 8 "$ev"

# Client exit codes.
run_status st "$CERTVIGIL" -S "$T/nope.sock" status
assert_eq "unreachable: exit 3" 3 "$st"
msg=$("$CERTVIGIL" -S "$T/nope.sock" status 2>&1 || true)
assert_match "unreachable: names the socket" "cannot reach certvigild at $T/nope.sock" "$msg"
assert_eq "socket from CERTVIGIL_SOCKET" 5 \
    "$(CERTVIGIL_SOCKET=$D_SOCK "$CERTVIGIL" status --json | jq .certs.total)"
run_status st cv list --role nobody
assert_eq "usage: exit 2" 2 "$st"

# Socket permissions: 0660, in a directory the daemon made 0750.
assert_eq "socket mode" 660 "$(stat -c %a "$D_SOCK")"
daemon_stop
D_SOCK=$T/run/certvigil/control.sock
daemon_start "$T/conf"
assert_eq "socket directory made 0750" 750 "$(stat -c %a "$T/run/certvigil")"
assert_eq "socket mode in it" 660 "$(stat -c %a "$D_SOCK")"
daemon_stop
assert_eq "database intact" ok "$(sqlite3 "$D_STATE/inventory.db" 'PRAGMA integrity_check')"
echo "daemon-basic: $T_COUNT passed, 0 failed"
