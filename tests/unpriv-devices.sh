#!/bin/sh
# Issue 12 item 5: the service user owning a binding's deploy directory
# replaces cert_file with a FIFO, then with a symlink to a device node of
# its own (standing for its terminal).  The daemon reads cert_file as
# root ("binding show", the schedule): it must never open either -- a
# writer blocked on the FIFO stays blocked -- report "not a regular file",
# and keep answering.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/unpriv-lib.sh"
need openssl jq

unpriv_user A d
mkdir -p "$T/live" "$T/w"
chown "$A:$A" "$T/live"
as "$A" mkfifo "$T/live/web.pem"
cat > "$T/conf" <<EOT
[daemon]
log_level = debug
[watch w]
path = $T/w
[binding web]
ipport = 127.0.0.1:9
appid = {4dc3e181-e14b-4a21-b022-59fc669b0914}
cert_file = $T/live/web.pem
key_file = $T/live/web.key
reload = /bin/true
window = Sat 01:00-02:00
EOT
# A writer blocks in open() until someone opens the FIFO for reading.
( exec 3>"$T/live/web.pem"; echo opened > "$T/opened" ) &
WPID=$!
T_PIDS="$T_PIDS $WPID"
daemon_start "$T/conf"
cv binding show --json >/dev/null
wait_line "$T/daemon.log" "live/web.pem: read on the pool: .*FIFO" 30 ||
	fail "no refused read of the FIFO in the log"
timeout 2 sh -c "while [ ! -e '$T/opened' ]; do sleep 0.05; done" &&
	fail "the daemon opened the FIFO planted as cert_file"
ok "cert_file a FIFO: never opened, reported as not a regular file"
kill "$WPID" 2>/dev/null || true

# A device node of the user's own, through the user's symlink.
mknod "$T/tty" c 240 0
chown "$A:$A" "$T/tty"
as "$A" rm "$T/live/web.pem"
as "$A" ln -s "$T/tty" "$T/live/web.pem"
cv binding show --json >/dev/null
wait_line "$T/daemon.log" "live/web.pem: read on the pool: .*a device, not a regular file" 30 ||
	fail "the device was not refused by its type (opened?)"
ok "cert_file a device: refused by its type"
cv status >/dev/null
ok "the daemon answers"
daemon_stop
echo "unpriv-devices: $T_COUNT passed, 0 failed"
