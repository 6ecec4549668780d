#!/bin/sh
# The CLI when the daemon refuses its connection (issue 12 item 14): it
# used to die of SIGPIPE ("terminated by signal 13", exit 141) writing a
# request the daemon had already hung up on.  Now it prints the daemon's
# reason and exits 3.  The requests are larger than a socket buffer, so
# the daemon's hang-up lands while the CLI is still writing.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need python3 setpriv useradd groupadd
[ "$(id -u)" = 0 ] || skip "needs root (creates test users)"

U1=cvt$$r1
U2=cvt$$r2
G=cvt$$g
refused_cleanup() {
	userdel "$U1" 2>/dev/null || true
	userdel "$U2" 2>/dev/null || true
	groupdel "$G" 2>/dev/null || true
	t_cleanup
}
trap refused_cleanup EXIT
groupadd "$G"
useradd -M -N -g "$G" -d /nonexistent -s /usr/sbin/nologin "$U1"
useradd -M -N -g "$G" -d /nonexistent -s /usr/sbin/nologin "$U2"
gid=$(getent group "$G" | cut -d: -f3)
as() { _u=$(id -u "$1"); shift
	setpriv --reuid="$_u" --regid="$gid" --clear-groups "$@"; }
chmod 755 "$T"

# big_request USER: binding add with 3 x 120 KB values (an argument is at
# most 128 KB): a 360 KB request, more than the socket takes unread.
v=$(head -c 120000 /dev/zero | tr '\0' a)
big_request() {
	_who=$1; shift
	run_status st as "$_who" "$CERTVIGIL" -S "$@" binding add name=big \
	    a="$v" b="$v" c="$v" 2>"$T/err"
}

# 1. A peer that answers every connection with the daemon's refusal and
# hangs up without reading: exactly what control.c does when it refuses.
python3 - "$T/fake.sock" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(8)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b'{"v":1,"ok":false,"error":{"code":"busy",'
              b'"message":"too many clients; try again later"}}\n')
    c.close()
PY
FAKE_PID=$!
T_PIDS="$T_PIDS $FAKE_PID"
python3 -c 'import os,sys,time
for _ in range(500):
    if os.path.exists(sys.argv[1]): sys.exit(0)
    time.sleep(0.01)
sys.exit(1)' "$T/fake.sock" || fail "the fake peer did not listen"
for i in 1 2 3; do
	big_request "$U1" "$T/fake.sock"
	[ "$st" != 141 ] || fail "refused by the peer: the CLI died of SIGPIPE"
	assert_eq "refused (fake peer, run $i): exit status" 3 "$st"
	assert_match "refused (fake peer, run $i): the daemon's reason" \
	    'refused the connection: too many clients' "$(cat "$T/err")"
done
kill "$FAKE_PID"

# 2. The real daemon, its slots held by another member of the socket
# group: connections that began a request and never finish it.
cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0660
socket_group = $G
max_clients = 2
client_timeout = 60s
[watch w]
path = $T/w
EOT
mkdir -p "$T/w"
daemon_start "$T/conf"
mkfifo "$T/held.fifo"
# A python3 the test user can run (root's may be a pyenv shim).
for PYU in /usr/bin/python3 /usr/local/bin/python3 ""; do
	[ -n "$PYU" ] && as "$U2" "$PYU" -c '' 2>/dev/null && break
done
[ -n "$PYU" ] || skip "no python3 that an unprivileged user can run"
as "$U2" "$PYU" - "$D_SOCK" 2 > "$T/held.fifo" <<'PY' &
import socket, sys, time
held = []
for _ in range(int(sys.argv[2])):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sys.argv[1])
    c.sendall(b'{"v":1,"cmd":"status"')    # a request begun, never ended
    held.append(c)
print("held", flush=True)
time.sleep(120)
PY
HOLD_PID=$!
T_PIDS="$T_PIDS $HOLD_PID"
[ "$(timeout 10 head -n 1 "$T/held.fifo")" = held ] ||
    fail "the holder did not connect"
# A large request (the hang-up lands while it is written) and a small
# one (written before; the reply says busy and the daemon hangs up).
for req in big small; do
	if [ $req = big ]; then
		big_request "$U1" "$D_SOCK"
	else
		run_status st as "$U1" "$CERTVIGIL" -S "$D_SOCK" status \
		    2>"$T/err" >/dev/null
	fi
	[ "$st" != 141 ] || fail "$req request: the CLI died of SIGPIPE"
	if [ "$st" = 3 ]; then
		ok "$req request refused by certvigild: exit status 3"
		assert_match "$req request: the daemon's reason" \
		    'refused the connection: .*(too many|clients|connections)' \
		    "$(cat "$T/err")"
	else
		# A daemon that makes room (closes an idle holder) answers
		# instead: the CLI got its reply, not a signal.
		[ $req = small ] && assert_eq "status answered" 0 "$st"
		[ $req = big ] && assert_match "answered (exit $st)" \
		    'certvigil: ' "$(cat "$T/err")"
	fi
done
kill "$HOLD_PID" 2>/dev/null || true
daemon_stop
echo "cli-refused: $T_COUNT passed, 0 failed"
