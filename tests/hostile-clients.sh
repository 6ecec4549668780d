#!/bin/sh
# Hostile socket clients (issue 7): 1,000 connections at once, a 10 MB
# line, one byte a second, invalid UTF-8, deeply nested JSON, clients that
# never read -- while a well-behaved client keeps getting "status" answers.
# Then a subscriber that never reads a large backlog; then socket
# permissions: outside the socket group no connection; inside
# it, reads but no changing commands.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need python3 jq

mkdir -p "$T/w"
cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0666
max_clients = 100
client_timeout = $(slow 2)s
[watch w]
path = $T/w
EOT
cp "$top_srcdir"/fuzz/corpus/x509/leaf.pem "$T/w/"
# Under ASan, freed memory waits in a 256 MiB quarantine: keep it small so
# the RSS bound measures the daemon, not the sanitizer.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
export ASAN_OPTIONS
daemon_start "$T/conf"

HOSTILE_SLOW=$CV_SLOW python3 "$top_srcdir/tests/hostile-client.py" \
    "$D_SOCK" "$D_PID" 100 "$(slow 2)" ||
    { tail -30 "$T/daemon.log" >&2; fail "hostile clients"; }
assert_eq "daemon alive" 0 "$(kill -0 "$D_PID"; echo $?)"
assert_match "slow clients: drop logged" \
    "sent no complete request within $(slow 2)000ms" "$(cat "$T/daemon.log")"
assert_match "never-reading clients: drop logged" \
    "read nothing of its reply within $(slow 2)000ms" "$(cat "$T/daemon.log")"
daemon_stop

# A "watch" subscriber that never reads, asking for a backlog larger than
# the 4 MiB a client may have queued: 30,000 unreadable files, one
# parse_error event each (~7 MB).  The backlog goes out a page at a time
# while the client's queue has room, so the daemon holds a page, not the
# table; the client is dropped at client_timeout; a follower that reads
# gets every event.
mkdir "$T/junk"
python3 - "$T/junk" <<'EOT'
import sys
d = sys.argv[1]
for i in range(30000):
    with open(f"{d}/unreadable-certificate-dropped-here-by-someone-{i:05d}.pem", "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
EOT
cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0600
client_timeout = $(slow 2)s
[watch junk]
path = $T/junk
EOT
: > "$T/daemon.log"
daemon_start "$T/conf"
assert_eq "30,000 parse errors recorded" 30000 \
    "$(cv status --json | jq .files.errors)"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$D_PID/status"; }
rss0=$(rss)
python3 - "$D_SOCK" <<'EOT' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"cmd":"watch","args":{"since":0}}\n')
time.sleep(120)      # never reads; killed once the daemon has dropped it
EOT
NR_PID=$!
T_PIDS="$T_PIDS $NR_PID"
wait_line "$T/daemon.log" "does not read its replies|read nothing of its reply" 60 ||
    fail "a subscriber that never reads was not dropped"
ok "a subscriber that never reads its 7 MB backlog: dropped"
rss1=$(rss)
echo "# measured: daemon RSS ${rss0} kB before the non-reading subscriber, ${rss1} kB after"
[ $((rss1 - rss0)) -lt 16384 ] || fail "RSS grew by $((rss1 - rss0)) kB"
ok "RSS bounded: +$((rss1 - rss0)) kB"
assert_eq "status still answered" 30000 "$(cv status --json | jq .files.errors)"
stored=$(cv events --json | wc -l)
[ "$stored" -ge 30000 ] || fail "only $stored events stored"
# A follower that reads: the whole backlog, in order, then live events.
timeout "$(slow 60)" "$CERTVIGIL" -S "$D_SOCK" events --follow --json \
    > "$T/followed" 2>&1 &
F_PID=$!
T_PIDS="$T_PIDS $F_PID"
# The backlog comes in the order the events were stored -- the order
# the scan's batches were written, not the files' names -- so the wait
# is for as many events as are stored, not for the last file's (that
# waited for "...-29999" and missed 722 events behind it under ASan).
_n=0
until [ "$(grep -c '"kind"' "$T/followed")" -ge "$stored" ]; do
	_n=$((_n + 1))
	[ $_n -lt $(( $(slow 60) * 10 )) ] ||
	    fail "the follower did not get the whole backlog"
	sleep 0.1	# a condition polled
done
kill "$F_PID"
assert_eq "a reading follower gets every stored event" "$stored" \
    "$(grep -c '"kind"' "$T/followed")"
assert_eq "in order" "$(cv events --json | jq -r .id | tr '\n' ' ')" \
    "$(jq -r .id "$T/followed" | tr '\n' ' ')"
kill "$NR_PID" 2>/dev/null || true
daemon_stop

# Permissions: socket group "nogroup", mode 0660, no admin group.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    getent group nogroup >/dev/null; then
	chmod 755 "$T"
	cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0660
socket_group = nogroup
[watch w]
path = $T/w
EOT
	daemon_start "$T/conf"
	ng=$(getent group nogroup | cut -d: -f3)
	member() { setpriv --reuid=65534 --regid="$ng" --clear-groups "$@"; }
	outsider() { setpriv --reuid=64999 --regid=64999 --clear-groups "$@"; }
	r=$(member "$CERTVIGIL" -S "$D_SOCK" status --json | jq -r .version)
	assert_match "socket group member: status" "^[0-9]" "$r"
	run_status st member "$CERTVIGIL" -S "$D_SOCK" rescan
	assert_eq "socket group member: rescan refused" 1 "$st"
	run_status st member "$CERTVIGIL" -S "$D_SOCK" reload
	assert_eq "socket group member: reload refused" 1 "$st"
	run_status st outsider "$CERTVIGIL" -S "$D_SOCK" status
	assert_eq "outside the socket group: cannot connect" 3 "$st"
	daemon_stop
else
	echo "# permissions part skipped: needs root, setpriv and group nogroup"
fi
echo "hostile-clients: $T_COUNT passed, 0 failed"
