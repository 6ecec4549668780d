#!/bin/sh
# Issue 17: http_listen = ADDR:PORT.  pebble's httpPort is the daemon's
# own responder: nothing listens there before the order, the renewal ends
# with nginx serving a pebble certificate (no webroot, no web server of
# the test's), and the address is free again once the order is settled.
# A port some other process holds: the renewal fails before stopping,
# the bind error is the reason, nginx untouched.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"

NO_WEBROOT=1 acme_setup
acme_conf "http_listen = 127.0.0.1:$PEBBLE_HTTP_PORT"
sed -i '/^webroot = /d' "$T/conf"
daemon_start "$T/conf"
port_open "$PEBBLE_HTTP_PORT" && fail "something listens on $PEBBLE_HTTP_PORT before any order"
before=$(served)
run_status rc cv renew web --now --wait
[ "$rc" = 0 ] || cv renewals --json | jq '.[-1]' >&2
assert_eq "renew --now --wait exits 0" 0 "$rc"
[ "$(served)" != "$before" ] || fail "nginx still serves the old certificate"
chains_to_pebble || fail "nginx does not serve a certificate chaining to pebble's root"
ok "nginx serves a pebble certificate (http-01 answered by the daemon)"
_n=0
while port_open "$PEBBLE_HTTP_PORT"; do
	_n=$((_n + 1))
	[ $_n -lt "$(slow 300)" ] || fail "the daemon still listens on $PEBBLE_HTTP_PORT after the order"
	sleep 0.1
done
ok "the listener is closed after the order"

# The port is taken: the bind error is the reason, nothing touched.
# A second account: pebble would reuse the first one's valid
# authorizations and ask for no challenge.
daemon_stop
echo "account_key = $T/account2.key" >>"$T/conf"
daemon_start "$T/conf"
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("up", flush=True)
time.sleep(600)' "$PEBBLE_HTTP_PORT" >"$T/holder.log" 2>&1 &
HOLDER=$!
T_PIDS="$T_PIDS $HOLDER"
wait_line "$T/holder.log" up 30 || fail "port holder did not start"
master=$(cat "$T/nginx/nginx.pid")
before=$(served)
run_status rc cv renew web --now --wait
[ "$rc" != 0 ] || fail "renew --wait exit 0 with the port taken"
R=$(cv renewals --json | jq '.[-1]')
assert_eq "renewal failed" failed "$(echo "$R" | jq -r .state)"
assert_match "the bind error is the reason" \
    "http_listen 127.0.0.1:$PEBBLE_HTTP_PORT: Address already in use" \
    "$(echo "$R" | jq -r .error)"
assert_eq "nginx master untouched" "$master" "$(cat "$T/nginx/nginx.pid")"
assert_eq "nginx serves what it served" "$before" "$(served)"
daemon_stop
echo "acme-listen: passed"
