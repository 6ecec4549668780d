#!/bin/sh
# Restart: the stat cache skips unchanged files; a changed file while
# stopped is noticed; a newer database is refused, never damaged.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq sqlite3

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
mkdir -p "$T/w"
cp "$T/fx/server.pem" "$T/fx/client.pem" "$T/fx/modern.pfx" "$T/fx/ca.pem" "$T/w/"
cat > "$T/conf" <<EOT
[watch w]
path = $T/w
password_file = $T/fx/password
EOT
daemon_start "$T/conf"
assert_eq "first scan read every file" 4 "$(cv status --json | jq .scan.files_done)"
n_events=$(cv events --json | wc -l)
daemon_stop

daemon_start "$T/conf"
assert_eq "restart: nothing re-read" 0 "$(cv status --json | jq .scan.files_done)"
assert_eq "restart: inventory kept" 3 "$(cv status --json | jq .certs.total)"
assert_eq "restart: no new events" "$n_events" "$(cv events --json | wc -l)"
daemon_stop

# Changed and removed while the daemon was down.
cp "$T/fx/expired.pem" "$T/w/server.pem"
rm "$T/w/ca.pem"
daemon_start "$T/conf"
assert_eq "restart: only the changed file re-read" 1 "$(cv status --json | jq .scan.files_done)"
assert_eq "restart: change seen" 1 "$(cv events --json | grep -c thumbprint_changed)"
assert_eq "restart: removal seen" 1 "$(cv events --json | grep -c '"removed"')"
daemon_stop

# SIGINT is as graceful as SIGTERM.
daemon_start "$T/conf"
kill -INT "$D_PID"
run_status st wait "$D_PID"
assert_eq "SIGINT: exit 0" 0 "$st"
[ ! -e "$D_SOCK" ] || fail "socket left after SIGINT"
T_PIDS=""

# A database from a newer certvigil is refused and left as it was.
sqlite3 "$D_STATE/inventory.db" 'PRAGMA user_version = 99'
sum=$(md5sum < "$D_STATE/inventory.db")
run_status st "$CERTVIGILD" -f -c "$T/conf" -S "$D_SOCK" -d "$D_STATE" 2>"$T/err"
assert_eq "newer schema: exit 1" 1 "$st"
assert_match "newer schema: message" "schema version 99 is newer than this certvigild understands" "$(cat "$T/err")"
assert_eq "newer schema: file untouched" "$sum" "$(md5sum < "$D_STATE/inventory.db")"
assert_eq "newer schema: no socket" no "$([ -e "$D_SOCK" ] && echo yes || echo no)"
echo "daemon-restart: $T_COUNT passed, 0 failed"
