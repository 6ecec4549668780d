#!/bin/sh
# Hostile socket clients (issue 7): 1,000 connections at once, a 10 MB
# line, one byte a second, invalid UTF-8, deeply nested JSON, clients that
# never read -- while a well-behaved client keeps getting "status" answers.
# Then socket permissions: outside the socket group no connection; inside
# it, reads but no changing commands.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need python3 jq

mkdir -p "$T/w"
cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0666
max_clients = 100
client_timeout = 2s
[watch w]
path = $T/w
EOT
cp "$top_srcdir"/fuzz/corpus/x509/leaf.pem "$T/w/"
# Under ASan, freed memory waits in a 256 MiB quarantine: keep it small so
# the RSS bound measures the daemon, not the sanitizer.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
export ASAN_OPTIONS
daemon_start "$T/conf"

python3 "$top_srcdir/tests/hostile-client.py" "$D_SOCK" "$D_PID" 100 2 ||
    { tail -30 "$T/daemon.log" >&2; fail "hostile clients"; }
assert_eq "daemon alive" 0 "$(kill -0 "$D_PID"; echo $?)"
assert_match "slow clients: drop logged" \
    "sent no complete request within 2000ms" "$(cat "$T/daemon.log")"
assert_match "never-reading clients: drop logged" \
    "read nothing of its reply within 2000ms" "$(cat "$T/daemon.log")"
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
