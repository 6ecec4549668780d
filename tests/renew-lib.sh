# Helpers for the renewal tests (sourced after lib.sh and tls-lib.sh): a
# local CA, a real nginx under $T/nginx on a free loopback port, its
# stop/start scripts, and a certvigil config binding it.
# Bounds on waiting for a renewal are 180 s: a failed rollback sub-step
# is retried within 60 s, and a loaded CI machine can need one retry.
need openssl jq
[ -x /usr/sbin/nginx ] || skip "nginx not installed (Debian: nginx-light)"

# pid_alive PID: running, and not a zombie (an exited nginx master stays a
# zombie until PID 1 gets round to reaping it, which can take a second).
pid_alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
_alive="alive() { kill -0 \"\$1\" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' \"/proc/\$1/status\" 2>/dev/null; }"

# renew_setup [MTLS]: CA, first certificate, nginx running.  Sets NGX_PORT.
# renew_issue CERT KEY [SANS]: a 30-day server certificate for localhost
# from the test CA (SANS: DNS:localhost,IP:127.0.0.1).
renew_issue() {
	"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
	    --cn localhost --san "${3:-DNS:localhost,IP:127.0.0.1}" \
	    --purpose server --days 30 --out-key "$2" --out-cert "$1" >/dev/null
}

renew_setup() {
	mkdir -p "$T/ca" "$T/live" "$T/nginx/logs" "$T/nginx/tmp" "$T/w"
	"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
	    --out-key "$T/ca/ca.key" >/dev/null
	renew_issue "$T/live/web.pem" "$T/live/web.key"
	NGX_PORT=$(free_port)
	_mtls=""
	if [ "${1:-}" = mtls ]; then
		_mtls="ssl_verify_client on; ssl_client_certificate $T/ca/ca.pem;"
	fi
	# nginx-plain.conf: the same without client certificates, which
	# start.sh uses once when $T/plain-once exists.
	for _c in nginx.conf nginx-plain.conf; do
	[ $_c = nginx.conf ] || _mtls=""
	cat > "$T/nginx/$_c" <<EOT
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
		listen 127.0.0.1:$NGX_PORT ssl;
		ssl_certificate $T/live/web.pem;
		ssl_certificate_key $T/live/web.key;
		$_mtls
		location / { return 200 "ok\n"; }
	}
}
EOT
	done
	# start: a one-shot failure when $T/fail-start exists, a one-shot hang
	# when $T/hang-start exists (its pid in hang-start.pid); waits for the
	# port (bounded).
	cat > "$T/start.sh" <<EOT
#!/bin/sh
$_alive
if [ -e "$T/hang-start" ]; then rm -f "$T/hang-start"; echo \$\$ > "$T/hang-start.pid"; exec sleep 1000; fi
if [ -e "$T/fail-start" ]; then rm -f "$T/fail-start"; echo "start refused (test)" >&2; exit 1; fi
if [ -s "$T/nginx/nginx.pid" ] && alive "\$(cat "$T/nginx/nginx.pid")"; then exit 0; fi
conf=nginx.conf
if [ -e "$T/plain-once" ]; then rm -f "$T/plain-once"; conf=nginx-plain.conf; fi
/usr/sbin/nginx -p "$T/nginx" -c "$T/nginx/\$conf" || exit 1
n=0
while [ \$n -lt 100 ]; do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", $NGX_PORT), 0.5).close()' 2>/dev/null && exit 0
	n=\$((n + 1)); sleep 0.1
done
echo "nginx did not come up" >&2; exit 1
EOT
	# stop: QUIT, then wait (bounded) for the pid to go.  Hangs while
	# $T/hang-stop exists (its pid in hang-stop.pid).
	cat > "$T/stop.sh" <<EOT
#!/bin/sh
$_alive
if [ -e "$T/hang-stop" ]; then echo \$\$ > "$T/hang-stop.pid"; exec sleep 1000; fi
[ -s "$T/nginx/nginx.pid" ] || exit 0
pid=\$(cat "$T/nginx/nginx.pid")
kill -QUIT "\$pid" 2>/dev/null || exit 0
n=0
while alive "\$pid"; do
	n=\$((n + 1)); [ \$n -lt 100 ] || { echo "nginx did not stop" >&2; exit 1; }
	sleep 0.1
done
exit 0
EOT
	chmod +x "$T/start.sh" "$T/stop.sh"
	"$T/start.sh" || { cat "$T/nginx/logs/error.log" >&2; fail "nginx did not start"; }
}

# renew_issuer_conf: the [issuer local] section every renewal test uses
# (the CA of renew_setup), on standard output.
renew_issuer_conf() {
	cat <<EOT
[issuer local]
type = local
ca_cert = $T/ca/ca.pem
ca_key = $T/ca/ca.key
days = 30
key_type = ec
EOT
}

# renew_conf [EXTRA BINDING LINES]: writes $T/conf.
renew_conf() {
	{ printf '[watch live]\npath = %s\n\n' "$T/live"
	  renew_issuer_conf; echo; } > "$T/conf"
	cat >> "$T/conf" <<EOT
[binding web]
ipport = 127.0.0.1:$NGX_PORT
appid = {4dc3e181-e14b-4a21-b022-59fc669b0914}
issuer = local
cert_file = $T/live/web.pem
key_file = $T/live/web.key
san = DNS:localhost,IP:127.0.0.1
subject = CN=localhost
stop = $T/stop.sh
start = $T/start.sh
verify_timeout = 15s
EOT
	for _l in "$@"; do printf '%s\n' "$_l" >> "$T/conf"; done
}

# renew_and_wait: renew --now (daemon and follow_start running), wait for
# this renewal's end (done, rolled back, or failed before stopping); sets
# R to its renewals --json entry.
renew_and_wait() {
	cv renew web --now >/dev/null
	_id=$(cv renewals --json | jq -r '.[-1].id')
	wait_event "renewal $_id (done|rolled back)|renewal_failed.*nothing was touched" 180
	R=$(cv renewals --json | jq '.[-1]')
}

# served: the SHA-1 thumbprint nginx serves now (lowercase).
served() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$NGX_PORT" \
	    -servername localhost 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha1 2>/dev/null |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

file_sha1() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

nginx_running() {
	[ -s "$T/nginx/nginx.pid" ] && pid_alive "$(cat "$T/nginx/nginx.pid")"
}

# Stops nginx at the end whatever happened.
renew_cleanup() {
	rm -f "$T/hang-stop"
	"$T/stop.sh" >/dev/null 2>&1 || true
	t_cleanup
}
trap renew_cleanup EXIT
