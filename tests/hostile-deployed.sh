#!/bin/sh
# A reader cannot freeze the loop through a binding's cert_file (issue 12
# item 7).  The service user who owns the directory a binding deploys
# into swaps its cert_file for a 30 KB PKCS#12 of 30 bags, each encrypted
# under the empty password with 2,000,000 PBKDF2 iterations (allowed:
# under X509_MAX_ITER) and no MAC: seconds of key derivation to read.  A
# member of socket_group then runs "binding show" again and again while
# root's client sends status requests on one connection: every status is
# answered within 100 ms (monotonic clock), because the file is parsed on
# the thread pool (deployed.c), never on the loop.  Before issue 11 one
# "binding show" stopped status for the whole parse.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool python3 jq setpriv useradd groupadd
[ "$(id -u)" = 0 ] || skip "needs root (creates test users)"
[ -z "${CV_VALGRIND:-}" ] || skip "round trips are not measured under valgrind"

US=cvt$$s	# the service user: owns the deploy directory
UR=cvt$$r	# a reader: member of socket_group
G=cvt$$g
GS=cvt$$t
deployed_cleanup() {
	userdel "$US" 2>/dev/null || true
	userdel "$UR" 2>/dev/null || true
	groupdel "$G" 2>/dev/null || true
	groupdel "$GS" 2>/dev/null || true
	t_cleanup
}
trap deployed_cleanup EXIT
groupadd "$G"
groupadd "$GS"
useradd -M -N -g "$GS" -d /nonexistent -s /usr/sbin/nologin "$US"
useradd -M -N -g "$G" -d /nonexistent -s /usr/sbin/nologin "$UR"
as_service() { setpriv --reuid="$(id -u "$US")" --regid="$(getent group \
    "$GS" | cut -d: -f3)" --clear-groups "$@"; }
as_reader() { setpriv --reuid="$(id -u "$UR")" --regid="$(getent group \
    "$G" | cut -d: -f3)" --clear-groups "$@"; }
chmod 755 "$T"

SVC=$T/svc
mkdir -p "$T/w" "$T/ca" "$SVC" "$T/gen"
"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn localhost --san DNS:localhost --purpose server --days 30 \
    --out-key "$SVC/web.key" --out-cert "$SVC/web.pem" >/dev/null
chown -R "$US:$GS" "$SVC"
sha=$(openssl x509 -in "$SVC/web.pem" -noout -fingerprint -sha1 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')

# The bomb: certtool's PKCS#12 of one certificate under the empty
# password, its encrypted bag re-encrypted with 2,000,000 iterations and
# repeated 30 times, the MAC dropped (tests/mkp12bomb.py).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/gen/b.key" \
    -out "$T/gen/b.pem" -subj /CN=bomb -days 30 2>/dev/null
certtool --to-p12 --load-certificate "$T/gen/b.pem" --p12-name bomb \
    --empty-password --outder --outfile "$T/gen/one.p12" >/dev/null 2>&1
python3 "$top_srcdir/tests/mkp12bomb.py" "$T/gen/one.p12" \
    "$T/gen/bomb.p12" 30 2000000
chmod 644 "$T/gen/bomb.p12"
echo "# bomb: $(wc -c < "$T/gen/bomb.p12") bytes, 30 bags x 2,000,000 iterations"

cat > "$T/conf" <<EOT
[daemon]
log_level = debug
socket_mode = 0660
socket_group = $G

[watch w]
path = $T/w

[binding web]
ipport = 127.0.0.1:9
appid = {4dc3e181-e14b-4a21-b022-59fc669b0914}
cert_file = $SVC/web.pem
key_file = $SVC/web.key
reload = /bin/true
window = Sat 01:00-02:00
EOT
daemon_start "$T/conf"
# What the cert_file holds is known (answered at once by a daemon that
# reads it on the loop, after the pool read by one that does not).
[ "$(cv binding show --json | jq -r '.[0].deployed_sha1')" = "$sha" ] ||
    wait_line "$T/daemon.log" "svc/web.pem: read on the pool: $sha" 30 ||
    fail "the first read of the cert_file did not finish"

# The attack: the service user swaps its certificate for the bomb.
as_service cp "$T/gen/bomb.p12" "$SVC/web.pem.new"
as_service mv "$SVC/web.pem.new" "$SVC/web.pem"

# Root's client: status on one connection for 4 s, each round trip timed
# with the monotonic clock; prints "count max_ms".
python3 - "$D_SOCK" 4 > "$T/rtt" <<'PY' &
import socket, sys, time
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1])
f = c.makefile('rb')
end = time.monotonic() + float(sys.argv[2])
n, worst = 0, 0.0
while time.monotonic() < end:
    t0 = time.monotonic()
    c.sendall(b'{"v":1,"cmd":"status","args":{}}\n')
    line = f.readline()
    if b'"ok": true' not in line and b'"ok":true' not in line:
        print("bad reply", line[:200]); sys.exit(1)
    worst = max(worst, time.monotonic() - t0)
    n += 1
    time.sleep(0.005)
print(n, round(worst * 1000, 1))
PY
RTT_PID=$!
T_PIDS="$T_PIDS $RTT_PID"
# The reader: binding show, again and again, while status is measured.
shows=0
while kill -0 "$RTT_PID" 2>/dev/null; do
	as_reader "$CERTVIGIL" -S "$D_SOCK" binding show --json > "$T/show" ||
	    fail "binding show failed for the reader"
	shows=$((shows + 1))
done
wait "$RTT_PID" || fail "the status client failed: $(cat "$T/rtt")"
read -r n worst < "$T/rtt"
echo "# measured: $n status round trips during $shows binding show, worst ${worst} ms"
[ "$shows" -ge 2 ] || fail "only $shows binding show ran: the reader was blocked"
[ "$n" -ge 50 ] || fail "only $n status answered in 4 s (worst ${worst} ms)"
ok "$n status round trips while a reader ran binding show $shows times"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 100 else 1)' \
    "$worst" || fail "a status took ${worst} ms (limit 100 ms)"
ok "every status answered within 100 ms (worst ${worst} ms)"
# Let the pool read of the bomb end (read, or refused by a budget) before
# stopping: the second "read on the pool" line for the cert_file.
timeout "$(slow 120)" tail -n +1 -f "$T/daemon.log" 2>/dev/null |
    grep -q -m 2 "svc/web.pem: read on the pool: " ||
    fail "the pool read of the swapped cert_file did not end"
ok "the swapped cert_file was read on the pool"
daemon_stop
echo "hostile-deployed: $T_COUNT passed, 0 failed"
