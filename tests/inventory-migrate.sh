#!/bin/sh
# The inventory's 8 -> 9 migration (issue 16: integer certificate ids,
# thumbprints stored as bytes): a version 8 database -- its schema as a
# certvigild of that version made it, tests/data/inventory-v8.sql --
# holding files, certificates, their sources and events comes through
# whole.  The files' rows carry their real inode, size and mtime, so the
# daemon does not read them again: everything "show" and "list" print
# after the restart is what the migration carried over (the subject is
# one the certificate does not have, to tell them apart).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq sqlite3

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
mkdir -p "$T/w" "$D_STATE"
cp "$T/fx/fullchain.pem" "$T/fx/ca.pem" "$T/w/"
cat > "$T/conf" <<EOT
[watch w]
path = $T/w
EOT

# fp FILE ALG: the first certificate's fingerprint, lowercase hex.
fp() {
	openssl x509 -in "$1" -noout -fingerprint "-$2" |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
srv=$(fp "$T/fx/server.pem" sha1); srv256=$(fp "$T/fx/server.pem" sha256)
ca=$(fp "$T/fx/ca.pem" sha1); ca256=$(fp "$T/fx/ca.pem" sha256)
now=$(date +%s)
mtime() { stat -c %.9Y "$1" | tr -d .; }

sqlite3 "$D_STATE/inventory.db" < "$top_srcdir/tests/data/inventory-v8.sql"
sqlite3 "$D_STATE/inventory.db" <<EOT
INSERT INTO files VALUES(1, '$T/w/fullchain.pem', 'w', 'pem',
  $(stat -c %i "$T/w/fullchain.pem"), $(stat -c %s "$T/w/fullchain.pem"),
  $(mtime "$T/w/fullchain.pem"), NULL, 0, $now, $now, NULL);
INSERT INTO files VALUES(2, '$T/w/ca.pem', 'w', 'pem',
  $(stat -c %i "$T/w/ca.pem"), $(stat -c %s "$T/w/ca.pem"),
  $(mtime "$T/w/ca.pem"), NULL, 0, $now, $now, NULL);
INSERT INTO certs VALUES('$srv', '$srv256', 'CN=migrated leaf',
  'CN=migrated CA', '0a1b', $now - 86400, $now + 300 * 86400, 'RSA', 2048,
  'RSA-SHA256', '["DNS:migrated.test"]', '["serverAuth"]', 0, 160,
  'server', $now, NULL, 0, NULL);
INSERT INTO certs VALUES('$ca', '$ca256', 'CN=migrated CA',
  'CN=migrated CA', '01', $now - 86400, $now + 3000 * 86400, 'RSA', 2048,
  'RSA-SHA256', '[]', '[]', 1, 96, 'ca', $now, NULL, 0, NULL);
INSERT INTO sources VALUES(1, 0, '$srv', 0, NULL);
INSERT INTO sources VALUES(1, 1, '$ca', 0, NULL);
INSERT INTO sources VALUES(2, 0, '$ca', 0, NULL);
INSERT INTO events(time, kind, path, sha1, message)
  VALUES($now, 'discovered', '$T/w/fullchain.pem', '$srv', 'from v8');
EOT

daemon_start "$T/conf"
assert_eq "schema version 9" 9 "$(sqlite3 "$D_STATE/inventory.db" 'PRAGMA user_version')"
assert_match "migration logged" "inventory schema migrated to version 9" "$(cat "$T/daemon.log")"
assert_eq "nothing read again" 0 "$(cv status --json | jq .scan.files_done)"
assert_eq "two certificates" 2 "$(cv status --json | jq .certs.total)"

S=$(cv show --json "$srv")
assert_eq "leaf: sha1" "$srv" "$(echo "$S" | jq -r .sha1)"
assert_eq "leaf: sha256" "$srv256" "$(echo "$S" | jq -r .sha256)"
assert_eq "leaf: carried subject" "CN=migrated leaf" "$(echo "$S" | jq -r .subject)"
assert_eq "leaf: its source" "$T/w/fullchain.pem" "$(echo "$S" | jq -r '.sources[].path')"
assert_eq "leaf: its event" "from v8" "$(echo "$S" | jq -r '.events[] | select(.kind == "discovered") | .message')"
assert_eq "leaf: by a prefix" "$srv" "$(cv show --json "$(echo "$srv" | cut -c1-7)" | jq -r .sha1)"
assert_eq "leaf: by an odd uppercase prefix" "$srv" \
    "$(cv show --json "$(echo "$srv" | cut -c1-9 | tr a-f A-F)" | jq -r .sha1)"
assert_eq "CA: both sources" "$T/w/ca.pem $T/w/fullchain.pem" \
    "$(cv show --json "$ca" | jq -r '[.sources[].path] | sort | join(" ")')"
assert_eq "by path: the leaf" "$srv" "$(cv show --json "$T/w/fullchain.pem" | jq -r .sha1)"
assert_eq "list: both" "$(printf '%s\n' "$ca" "$srv" | sort | paste -sd ' ')" \
    "$(cv list --json | jq -r '[.[].sha1] | sort | join(" ")')"
assert_eq "list: carried subjects" "CN=migrated CA,CN=migrated leaf" \
    "$(cv list --json | jq -r '[.[].subject] | sort | join(",")')"
assert_eq "integrity" ok "$(sqlite3 "$D_STATE/inventory.db" 'PRAGMA integrity_check')"
assert_eq "foreign keys" "" "$(sqlite3 "$D_STATE/inventory.db" 'PRAGMA foreign_key_check')"
assert_eq "thumbprints stored as 20 bytes" "20 20" \
    "$(sqlite3 "$D_STATE/inventory.db" "SELECT group_concat(length(sha1), ' ') FROM certs")"

# A file changed afterwards is read into the new tables.
follow_start
cp "$T/fx/server.pem" "$T/w/fullchain.pem"
wait_event '"kind": *"(changed|thumbprint_changed)".*fullchain.pem' 30
assert_eq "changed: one source left for the CA" "$T/w/ca.pem" \
    "$(cv show --json "$ca" | jq -r '.sources[] | select(.gone | not) | .path')"
daemon_stop
echo "inventory-migrate: $T_COUNT passed, 0 failed"
