#!/bin/sh
# Issue 12 item 9: the state dir does not grow without bound.  A service
# user who owns a watched directory creates and deletes certificate files
# (setpriv, its own uid): events are kept event_retention (test clock:
# CERTVIGIL_TEST_NOW) and at most event_max_rows, rows of deleted files
# expire with their sources and the certificates nothing names any more;
# and "events" answers one page (1000, the newest) however many rows.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq python3 sqlite3
need_test_hooks
[ "$(id -u)" = 0 ] || skip "needs root (creates a user)"
command -v setpriv >/dev/null && command -v useradd >/dev/null ||
    skip "needs setpriv and useradd"

U_SVC="cvt$$e"
trap 'userdel "$U_SVC" 2>/dev/null || true; t_cleanup' EXIT
useradd -M -U -s /usr/sbin/nologin "$U_SVC"
as_svc() {
	setpriv --reuid="$(id -u "$U_SVC")" --regid="$(id -g "$U_SVC")" \
	    --clear-groups "$@"
}
chmod 755 "$T"
mkdir -p "$T/w" "$T/src"
chown "$U_SVC" "$T/w"
for i in 1 2 3; do
	"$CERTVIGIL" ca init --cn "Churn $i" --out-cert "$T/src/c$i.pem" \
	    --out-key "$T/src/c$i.key" >/dev/null
done
chmod 644 "$T/src/"*.pem
write_conf() {
	cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0666
${1:+event_max_rows = $1}

[watch w]
path = $T/w
EOT
}
q() { sqlite3 "$D_STATE/inventory.db" "$1"; }
raw_events() {
	python3 - "$D_SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"cmd":"events"}\n')
sys.stdout.write(s.makefile("rb").readline().decode())
PY
}
PAST=$(( $(date +%s) - 100 * 86400 ))	# the churn happens 100 days ago
N=600

write_conf
daemon_try "$T/conf" CERTVIGIL_TEST_NOW=$PAST || fail "daemon did not start"
as_svc sh -c 'i=0; while [ $i -lt '$N' ]; do
	cp "$1/c$((i % 3 + 1)).pem" "$2/f$i.pem"; i=$((i + 1)); done' sh "$T/src" "$T/w" ||
    fail "the service user could not write its directory"
# wait_files FILTER VALUE: polls status (the scanner's progress) until
# .files | FILTER is VALUE, at most 60 s.
wait_files() {
	_n=0
	while [ "$(cv status --json | jq ".files | $1")" != "$2" ]; do
		_n=$((_n + 1)); [ $_n -lt 600 ] || fail "status: files $1 never $2"
		sleep 0.1
	done
}
wait_files .total $N
as_svc sh -c 'rm -f "$1"/f*.pem' sh "$T/w"
wait_files .gone $N
n_ev=$(q "SELECT count(*) FROM events")
[ "$n_ev" -ge $((2 * N)) ] || fail "only $n_ev events"
ok "the churn: $n_ev events, $N deleted files"

# One page, the newest, however many rows.
page=$(raw_events)
assert_eq "events without a limit: one page of 1000" 1000 "$(echo "$page" | jq '.result | length')"
assert_eq "the page is the newest" "$(q "SELECT max(id) FROM events")" \
    "$(echo "$page" | jq '.result[-1].id')"
first=$(echo "$page" | jq '.result[0].id')
prev=$(cv events --json --before "$first" --limit 10 | jq -s 'map(.id)')
assert_eq "--before: ten more, older" 10 "$(echo "$prev" | jq 'length')"
[ "$(echo "$prev" | jq 'max')" -lt "$first" ] || fail "--before returned newer events"
ok "--before pages back"
assert_eq "certvigil events still prints every event (page by page)" "$n_ev" \
    "$(cv events --json | wc -l)"

# The row cap: at start (and hourly), in batches.
daemon_stop
write_conf 300
daemon_try "$T/conf" CERTVIGIL_TEST_NOW=$PAST || fail "daemon did not start"
n=0
while [ "$(q "SELECT count(*) FROM events")" -gt 300 ]; do
	n=$((n + 1)); [ $n -lt 600 ] || fail "events never pruned to 300"
	sleep 0.1
done
ok "event_max_rows: $(q "SELECT count(*) FROM events") events kept"
daemon_stop

# 100 days later: past event_retention (90d) the rest goes too.
write_conf
daemon_start "$T/conf"
n=0
while [ "$(q "SELECT count(*) FROM files WHERE gone = 1")" != 0 ]; do
	n=$((n + 1)); [ $n -lt 600 ] || fail "deleted files' rows never expired"
	sleep 0.1
done
ok "rows of deleted files expired"
assert_eq "no event older than 90 days" 0 \
    "$(q "SELECT count(*) FROM events WHERE time < $(( $(date +%s) - 90 * 86400 ))")"
assert_eq "their sources went with them" 0 "$(q "SELECT count(*) FROM sources")"
assert_eq "certificates nothing names: gone" 0 "$(q "SELECT count(*) FROM certs")"
assert_eq "status still answers" 0 "$(cv status --json | jq .files.total)"
daemon_stop
echo "retention: $T_COUNT passed, 0 failed"
