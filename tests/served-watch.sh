#!/bin/sh
# What is served, watched (issue 15): a real nginx serves two bindings,
# one with require_client_cert = yes; certvigild probes them every 2 s.
# nginx switched to another certificate behind certvigil's back ->
# served_drift (both thumbprints, once), served_match 0; switched back ->
# served_drift_resolved, 1.  nginx restarted without ssl_verify_client ->
# mtls_not_enforced, mtls_enforced 0.  binding show has last_probe.  A
# port that accepts and never answers does not slow status down.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
need openssl jq python3
[ -x /usr/sbin/nginx ] || skip "nginx not installed (Debian: nginx-light)"

mkdir -p "$T/ca" "$T/live" "$T/nginx/logs" "$T/nginx/tmp"
"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
# issue NAME DAYS: a server certificate for localhost into $T/live.
issue() {
	"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
	    --cn localhost --san "DNS:localhost,IP:127.0.0.1" --purpose server \
	    --days "$2" --out-key "$T/live/$1.key" --out-cert "$T/live/$1.pem" \
	    >/dev/null
}
sha() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }
issue web 60
issue gate 60
issue hole 60
# Not under the watch: what nginx is switched to behind certvigil's back,
# expiring before the deployed web.pem.
mkdir -p "$T/other"
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn localhost --san "DNS:localhost,IP:127.0.0.1" --purpose server \
    --days 10 --out-key "$T/other/other.key" --out-cert "$T/other/other.pem" \
    >/dev/null
WEB=$(sha "$T/live/web.pem")
OTHER=$(sha "$T/other/other.pem")
WEB_PORT=$(free_port)
GATE_PORT=$(free_port)
[ "$WEB_PORT" != "$GATE_PORT" ] || GATE_PORT=$(free_port)

# ngx_conf WEBCERT MTLS(yes|no): writes the nginx configuration.
ngx_conf() {
	_v=""
	[ "$2" = yes ] && _v="ssl_verify_client on; ssl_client_certificate $T/ca/ca.pem;"
	cat > "$T/nginx/nginx.conf" <<EOT
worker_processes 1;
error_log $T/nginx/logs/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$WEB_PORT ssl;
		ssl_certificate $1.pem;
		ssl_certificate_key $1.key;
		location / { return 200 "ok\n"; }
	}
	server {
		listen 127.0.0.1:$GATE_PORT ssl;
		ssl_certificate $T/live/gate.pem;
		ssl_certificate_key $T/live/gate.key;
		$_v
		location / { return 200 "ok\n"; }
	}
}
EOT
}
NGX="/usr/sbin/nginx -p $T/nginx -c $T/nginx/nginx.conf"
ngx_start() {
	$NGX || fail "nginx did not start"
	_n=0
	until port_open "$WEB_PORT" && port_open "$GATE_PORT"; do
		_n=$((_n + 1))
		[ $_n -lt 100 ] || fail "nginx did not listen"
		sleep 0.1
	done
}
ngx_stop() {
	[ -s "$T/nginx/nginx.pid" ] || return 0
	_p=$(cat "$T/nginx/nginx.pid")
	kill -QUIT "$_p" 2>/dev/null || return 0
	_n=0
	while kill -0 "$_p" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$_p/status" 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -lt 200 ] || fail "nginx did not stop"
		sleep 0.1
	done
	rm -f "$T/nginx/nginx.pid"
}
served_cleanup() {
	ngx_stop >/dev/null 2>&1 || true
	t_cleanup
}
trap served_cleanup EXIT
ngx_conf "$T/live/web" yes
ngx_start

# A port that accepts connections (the kernel's backlog) and never says
# a word: each probe of it hangs until its timeout.
HOLE_PORT=$(free_port)
python3 - "$HOLE_PORT" > "$T/hole.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    time.sleep(3600)
PY
T_PIDS="$T_PIDS $!"
_n=0
until port_open "$HOLE_PORT"; do
	_n=$((_n + 1)); [ $_n -lt 100 ] || fail "the blackhole did not listen"; sleep 0.1
done

cat > "$T/hook.sh" <<EOT
#!/bin/sh
printf '%s|%s|%s|%s|%s\n' "\$CERTVIGIL_EVENT" "\$CERTVIGIL_BINDING" "\$CERTVIGIL_ENDPOINT" "\$CERTVIGIL_SHA1" "\$CERTVIGIL_MESSAGE" >> "$T/hook.log"
EOT
chmod +x "$T/hook.sh"
: > "$T/hook.log"
cat > "$T/conf" <<EOT
[daemon]
log = stderr
alert_command = $T/hook.sh
probe_interval = 1h
[watch live]
path = $T/live
[binding web]
ipport = 127.0.0.1:$WEB_PORT
cert_file = $T/live/web.pem
key_file = $T/live/web.key
probe_interval = 2s
[binding gate]
ipport = 127.0.0.1:$GATE_PORT
cert_file = $T/live/gate.pem
key_file = $T/live/gate.key
require_client_cert = yes
probe_interval = 2s
[binding hole]
ipport = 0.0.0.0:$HOLE_PORT
probe = 127.0.0.1:$HOLE_PORT
cert_file = $T/live/hole.pem
key_file = $T/live/hole.key
probe_interval = 1s
EOT
daemon_start "$T/conf"
follow_start

# until_ok SECONDS CMD...: polls CMD (a condition, every 0.2 s) until it
# holds; fails after SECONDS.
until_ok() {
	_lim=$(( $(slow "$1") * 5 )); shift
	_n=0
	until "$@"; do
		_n=$((_n + 1))
		[ $_n -lt $_lim ] || return 1
		sleep 0.2
	done
}
# probe_of BINDING JQ: the binding's last_probe (first endpoint) through JQ.
probe_of() {
	cv binding show --json | jq -r --arg b "$1" \
	    ".[] | select(.name == \$b) | .last_probe[0] | $2"
}
metric() { cv metrics | grep "^$1{binding=\"$2\"" | awk '{print $2}'; }
has_match() { [ "$(probe_of "$1" .match)" = "$2" ]; }
time_of() { probe_of "$1" .time; }

until_ok 60 has_match web true || fail "web: no matching probe within $(slow 60)s"
ok "web: first probe matches"
assert_eq "web: served_sha1" "$WEB" "$(probe_of web .served_sha1)"
assert_eq "web: endpoint" "127.0.0.1:$WEB_PORT" "$(probe_of web .endpoint)"
assert_eq "web: origin" watch "$(probe_of web .origin)"
assert_eq "web: result" ok "$(probe_of web .result)"
assert_match "web: protocol" "^TLS" "$(probe_of web .protocol)"
assert_eq "web: served_match 1" 1 "$(metric certvigil_binding_served_match web)"
assert_match "web: probe_seconds" "^[0-9.]+$" "$(metric certvigil_binding_probe_seconds web)"
cv binding show name=web | grep -q "Last probe 127.0.0.1:$WEB_PORT" ||
    fail "binding show (text) has no Last probe line"
ok "binding show (text): Last probe line"

until_ok 60 has_match gate true || fail "gate: no matching probe"
assert_eq "gate: client_cert_required" true "$(probe_of gate .client_cert_required)"
assert_eq "gate: mtls_enforced" true "$(probe_of gate .mtls_enforced)"
assert_eq "gate: certvigil_binding_mtls_enforced 1" 1 \
    "$(metric certvigil_binding_mtls_enforced gate)"

# Behind certvigil's back: nginx serves another certificate.
ngx_conf "$T/other/other" yes
$NGX -s reload || fail "nginx -s reload"
wait_event "\"served_drift\".*$OTHER.*$WEB|\"served_drift\".*$WEB.*$OTHER" 60
ok "served_drift event with both thumbprints"
wait_event '"served_drift".*expires before the deployed one' 1
ok "served_drift says the served certificate expires first"
until_ok 30 grep -q "^served_drift|web|127.0.0.1:$WEB_PORT|$OTHER|" "$T/hook.log" ||
    fail "alert_command got no served_drift"
ok "alert_command: CERTVIGIL_EVENT=served_drift, binding, endpoint, served sha1"
assert_match "alert_command message: both thumbprints" "$OTHER.*$WEB" \
    "$(grep '^served_drift|' "$T/hook.log")"
until_ok 30 has_match web false || fail "web: match not false"
assert_eq "web: result served_drift" served_drift "$(probe_of web .result)"
assert_eq "web: served_match 0" 0 "$(metric certvigil_binding_served_match web)"
# Once: two more probes, still one event.
t0=$(time_of web)
until_ok 30 eval '[ "$(time_of web)" != "$t0" ]' || fail "no further probe"
t1=$(time_of web)
until_ok 30 eval '[ "$(time_of web)" != "$t1" ]' || fail "no further probe"
assert_eq "served_drift once, not every interval" 1 \
    "$(grep -c '"served_drift"' "$T/events.jsonl")"
assert_eq "alert_command once" 1 "$(grep -c '^served_drift|' "$T/hook.log")"

# Switched back: resolved.
ngx_conf "$T/live/web" yes
$NGX -s reload || fail "nginx -s reload"
wait_event "\"served_drift_resolved\".*$WEB" 60
ok "served_drift_resolved event"
until_ok 30 has_match web true || fail "web: match not true again"
assert_eq "web: served_match 1 again" 1 "$(metric certvigil_binding_served_match web)"
until_ok 30 grep -q "^served_drift_resolved|web|" "$T/hook.log" ||
    fail "alert_command got no served_drift_resolved"
ok "alert_command: served_drift_resolved"

# A binding added at run time is probed at once: the targets are rebuilt
# when a "binding" request changes the bindings, not by polling (the
# backstop is hourly).
cv binding add name=web3 ipport=0.0.0.0:"$(free_port)" \
    probe=127.0.0.1:$WEB_PORT certhash="$WEB" cert_file="$T/live/web.pem" \
    key_file="$T/live/web.key" \
    appid='{4dc3e181-e14b-4a21-b022-59fc669b0914}' probe_interval=1s \
    >"$T/add.out" 2>&1 || { cat "$T/add.out" >&2; fail "binding add web3"; }
until_ok 15 has_match web3 true ||
    fail "web3, added at run time: no matching probe within $(slow 15)s"
ok "a binding added at run time is probed"

# nginx restarted without ssl_verify_client on the require_client_cert port.
ngx_stop
ngx_conf "$T/live/web" no
ngx_start
wait_event "\"mtls_not_enforced\".*127.0.0.1:$GATE_PORT" 60
ok "mtls_not_enforced event"
until_ok 30 grep -q "^mtls_not_enforced|gate|127.0.0.1:$GATE_PORT|" "$T/hook.log" ||
    fail "alert_command got no mtls_not_enforced"
ok "alert_command: CERTVIGIL_EVENT=mtls_not_enforced"
until_ok 30 eval '[ "$(metric certvigil_binding_mtls_enforced gate)" = 0 ]' ||
    fail "certvigil_binding_mtls_enforced not 0"
ok "certvigil_binding_mtls_enforced 0"
assert_eq "gate: result" mtls_not_enforced "$(probe_of gate .result)"
assert_eq "gate: still serves its certhash" 1 "$(metric certvigil_binding_served_match gate)"
ngx_stop
ngx_conf "$T/live/web" yes
ngx_start
wait_event "\"mtls_not_enforced_resolved\".*127.0.0.1:$GATE_PORT" 60
ok "mtls_not_enforced_resolved event"
assert_eq "mtls_not_enforced once" 1 "$(grep -c '"mtls_not_enforced"' "$T/events.jsonl")"

# The blackhole: its probes hang to their timeout on their own threads,
# while status answers at once.
until_ok 60 eval '[ "$(probe_of hole .result)" = error ]' ||
    fail "hole: no failed probe recorded"
hole_ms=$(probe_of hole .duration_ms)
[ "$hole_ms" -ge 4000 ] || fail "hole: a probe took ${hole_ms} ms, not the 5 s timeout"
ok "hole: each probe hangs ${hole_ms} ms"
assert_eq "hole: probe_success 0" 0 "$(metric certvigil_binding_probe_success hole)"
python3 - "$D_SOCK" > "$T/status-times" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
ts = []
end = time.monotonic() + 6      # longer than one probe timeout
while time.monotonic() < end:
    t = time.monotonic()
    f.write(b'{"v":1,"cmd":"status","args":{}}\n'); f.flush()
    json.loads(f.readline())
    ts.append(time.monotonic() - t)
    time.sleep(0.02)
ts.sort()
print(len(ts), "%.1f" % (ts[int(len(ts) * 0.99) - 1] * 1000), "%.1f" % (ts[-1] * 1000))
PY
read n p99 max < "$T/status-times"
echo "# measured: status while a probe hangs: n=$n p99=${p99}ms max=${max}ms"
awk -v m="$max" -v l="$(slow 250)" 'BEGIN { exit !(m < l) }' ||
    fail "status took ${max} ms while a probe hung"
ok "status not delayed by a hanging probe (p99 ${p99} ms, max ${max} ms)"

daemon_stop
echo "served-watch: $T_COUNT passed, 0 failed"
