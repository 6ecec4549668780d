#!/bin/sh
# Issue 14, forms: HAProxy reads leaf, chain and key from one PEM, the
# binding's combined_file.  HAProxy runs in master-worker mode; the
# binding's reload is SIGUSR2 to the master, and the renewal's verify
# step probes until the new workers serve the new thumbprint.  A loop of
# about 20 HTTPS requests a second, each on a new connection, runs for
# the renewal's whole duration and must see no failure.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/forms-lib.sh"
[ -x /usr/sbin/haproxy ] || skip "haproxy not installed (Debian: haproxy)"
need python3

forms_setup
forms_waitport
cat "$T/live/web.pem" "$T/live/web.key" > "$T/live/web-combined.pem"
chmod 600 "$T/live/web-combined.pem"
PORT=$(free_port)
cat > "$T/haproxy.cfg" <<EOT
global
	log stderr format raw local0 err
defaults
	mode http
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend fe
	bind 127.0.0.1:$PORT ssl crt $T/live/web-combined.pem
	http-request return status 200 content-type text/plain string "ok"
EOT
cat > "$T/start.sh" <<EOT
#!/bin/sh
/usr/sbin/haproxy -W -D -p "$T/haproxy.pid" -f "$T/haproxy.cfg" || exit 1
"$T/waitport.sh" $PORT
EOT
cat > "$T/reload.sh" <<EOT
#!/bin/sh
kill -USR2 "\$(cat "$T/haproxy.pid")"
EOT
# renew-lib's EXIT trap runs stop.sh.
cat > "$T/stop.sh" <<EOT
#!/bin/sh
$_alive
[ -s "$T/haproxy.pid" ] || exit 0
pid=\$(cat "$T/haproxy.pid")
kill -TERM "\$pid" 2>/dev/null || exit 0
n=0
while alive "\$pid"; do
	n=\$((n + 1)); [ \$n -lt 300 ] || exit 1
	sleep 0.1
done
EOT
chmod +x "$T/start.sh" "$T/reload.sh" "$T/stop.sh"
"$T/start.sh" || fail "haproxy did not start"
old=$(file_sha1 "$T/live/web.pem")
assert_eq "haproxy serves the first certificate" "$old" "$(served_at "$PORT")"
master=$(cat "$T/haproxy.pid")

cat > "$T/conf" <<EOT
[watch live]
path = $T/live

EOT
renew_issuer_conf >> "$T/conf"
cat >> "$T/conf" <<EOT

[binding web]
ipport = 127.0.0.1:$PORT
issuer = local
cert_file = $T/live/web.pem
key_file = $T/live/web.key
combined_file = $T/live/web-combined.pem
san = DNS:localhost,IP:127.0.0.1
subject = CN=localhost
reload = $T/reload.sh
verify_timeout = 30s
EOT
daemon_start "$T/conf"
follow_start

# The request loop: one new TLS connection per request, 20 a second,
# until $T/load.stop exists; one line per request in $T/load.log ("ok"
# or "failed", and when it started in ms).
cat > "$T/load.py" <<'EOT'
import http.client, os, ssl, sys, time
port, ca, stop, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
with open(log, "a", buffering=1) as out:
	while not os.path.exists(stop):
		t = time.monotonic()
		t0 = time.time()
		try:
			c = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
			    context=ctx)
			c.request("GET", "/")
			r = c.getresponse()
			body = r.read()
			c.close()
			ok = r.status == 200 and body.strip() == b"ok"
			out.write(("ok %d\n" if ok else "failed %d " + str(r.status) +
			    "\n") % int(t0 * 1000))
		except Exception as e:
			out.write("failed %d %r\n" % (int(t0 * 1000), e))
		time.sleep(max(0, 0.05 - (time.monotonic() - t)))
EOT
: > "$T/load.log"
python3 "$T/load.py" "$PORT" "$T/ca/ca.pem" "$T/load.stop" "$T/load.log" &
LOAD_PID=$!
T_PIDS="$T_PIDS $LOAD_PID"
wait_line "$T/load.log" '^ok' 30 || fail "the request loop did not start"
t0=$(now_ms)
renew_and_wait
t1=$(now_ms)
# A second more (the old workers finish meanwhile), then stop the loop.
n=$(wc -l < "$T/load.log")
until [ "$(wc -l < "$T/load.log")" -ge $((n + 20)) ]; do
	wait_line "$T/load.log" . 10 || break
	sleep 0.1
done
touch "$T/load.stop"
wait "$LOAD_PID" || true
total=$(wc -l < "$T/load.log")
failed=$(grep -c -v '^ok' "$T/load.log" || true)
during=$(awk -v a="$t0" -v b="$t1" '$2 >= a && $2 <= b' "$T/load.log" | wc -l)
echo "# measured: renewal (reload) $((t1 - t0)) ms; $during requests during it, $total in all; $failed failed"
assert_eq "renewal done" done "$(echo "$R" | jq -r .state)"
assert_eq "no request failed during the reload" 0 "$failed"
[ "$during" -ge $(( (t1 - t0) / 100 )) ] && [ "$during" -ge 3 ] ||
    fail "only $during requests during the $((t1 - t0)) ms renewal"
ok "the loop made $during requests during the renewal, $total in all"
new=$(file_sha1 "$T/live/web.pem")
[ "$new" != "$old" ] || fail "cert_file unchanged"
assert_eq "the combined file holds the new leaf" "$new" "$(file_sha1 "$T/live/web-combined.pem")"
assert_eq "haproxy serves the new certificate" "$new" "$(served_at "$PORT")"
assert_eq "the same master (reloaded, not restarted)" "$master" "$(cat "$T/haproxy.pid")"
assert_eq "combined file mode is the key's" 600 "$(stat -c %a "$T/live/web-combined.pem")"
assert_eq "combined: leaf, chain, key" "CERTIFICATE CERTIFICATE PRIVATE KEY" \
    "$(sed -n 's/^-----BEGIN \(.*\)-----$/\1/p' "$T/live/web-combined.pem" | tr '\n' ' ' | sed 's/ $//')"
cmp -s "$T/live/web.key" "$T/live/web-combined.pem" && fail "combined is the key alone"
# The key in the combined file is the key of key_file.
assert_eq "the combined file's key is key_file's" \
    "$(openssl pkey -in "$T/live/web.key" -pubout | sha1sum)" \
    "$(openssl pkey -in "$T/live/web-combined.pem" -pubout | sha1sum)"

daemon_stop
echo "renew-haproxy: $T_COUNT passed, 0 failed"
