# Helpers for the multi-service renewal tests (issue 14; sourced after
# lib.sh, tls-lib.sh and renew-lib.sh, after renew_setup): besides
# renew-lib's nginx, a real HAProxy (master-worker) and a real SMTP server
# with STARTTLS (Debian's python3-aiosmtpd), both serving $T/live/web.pem
# and web.key, each with stop/start scripts that wait (bounded) for their
# port or pid, never a fixed time.
[ -x /usr/sbin/haproxy ] || skip "haproxy not installed (Debian: haproxy)"
SMTPD_PY=
for _p in /usr/bin/python3 python3; do
	if "$_p" -c 'import aiosmtpd' 2>/dev/null; then SMTPD_PY=$_p; break; fi
done
[ -n "$SMTPD_PY" ] || skip "python3-aiosmtpd not installed"

# services_setup: writes the HAProxy config and the four scripts, starts
# both servers.  Sets HA_PORT and SMTP_PORT.  One-shot failures: a start
# fails once when $T/fail-ha-start or $T/fail-mail-start exists.
services_setup() {
	HA_PORT=$(free_port)
	SMTP_PORT=$(free_port)
	while [ "$SMTP_PORT" = "$HA_PORT" ]; do SMTP_PORT=$(free_port); done
	# crt web.pem: HAProxy 2.6 loads the key beside it as web.pem.key
	# (ssl-load-extra-del-ext strips only .crt-like extensions), which
	# is a link to the binding's key_file, replaced whole on each bind.
	ln -sf web.key "$T/live/web.pem.key"
	cat > "$T/haproxy.cfg" <<EOT
global
	master-worker
defaults
	mode http
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend fe
	bind 127.0.0.1:$HA_PORT ssl crt $T/live/web.pem
	http-request return status 200 content-type text/plain string "ok"
EOT
	# svc_script NAME START-CMD PORT: $T/NAME-start.sh and NAME-stop.sh.
	svc_script ha "/usr/sbin/haproxy -W -D -f $T/haproxy.cfg -p $T/ha.pid" "$HA_PORT"
	svc_script mail "setsid $SMTPD_PY $top_srcdir/tests/starttls-smtpd.py $SMTP_PORT $T/live/web.pem $T/live/web.key >>$T/mail.log 2>&1 </dev/null & echo \$! > $T/mail.pid" "$SMTP_PORT"
	# HAProxy master-worker reload: USR2 to the master.
	cat > "$T/ha-reload.sh" <<EOT
#!/bin/sh
exec kill -USR2 "\$(cat "$T/ha.pid")"
EOT
	chmod +x "$T/ha-reload.sh"
	"$T/ha-start.sh" || fail "haproxy did not start"
	"$T/mail-start.sh" || { cat "$T/mail.log" >&2; fail "the SMTP server did not start"; }
}

svc_script() {
	cat > "$T/$1-start.sh" <<EOT
#!/bin/sh
$_alive
if [ -e "$T/fail-$1-start" ]; then rm -f "$T/fail-$1-start"; echo "$1 start refused (test)" >&2; exit 1; fi
if [ -s "$T/$1.pid" ] && alive "\$(cat "$T/$1.pid")"; then exit 0; fi
$2 || exit 1
n=0
while [ \$n -lt 100 ]; do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", $3), 0.5).close()' 2>/dev/null && exit 0
	n=\$((n + 1)); sleep 0.1
done
echo "$1 did not come up" >&2; exit 1
EOT
	# stop: a one-shot silent no-op (exit 0, still running, so the start
	# finds it up) when $T/noop-NAME-stop exists.
	cat > "$T/$1-stop.sh" <<EOT
#!/bin/sh
$_alive
if [ -e "$T/noop-$1-stop" ]; then rm -f "$T/noop-$1-stop"; exit 0; fi
[ -s "$T/$1.pid" ] || exit 0
pid=\$(cat "$T/$1.pid")
kill -TERM "\$pid" 2>/dev/null || exit 0
n=0
while alive "\$pid"; do
	n=\$((n + 1)); [ \$n -lt 100 ] || { echo "$1 did not stop" >&2; exit 1; }
	sleep 0.1
done
exit 0
EOT
	chmod +x "$T/$1-start.sh" "$T/$1-stop.sh"
}

# served_at PORT [smtp]: the SHA-1 thumbprint served there (lowercase).
served_at() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" \
	    ${2:+-starttls $2} -servername localhost 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha1 2>/dev/null |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# The three services' thumbprints, "nginx haproxy mail".
served3() {
	echo "$(served_at "$NGX_PORT") $(served_at "$HA_PORT") $(served_at "$SMTP_PORT" smtp)"
}

ha_running() { [ -s "$T/ha.pid" ] && pid_alive "$(cat "$T/ha.pid")"; }
mail_running() { [ -s "$T/mail.pid" ] && pid_alive "$(cat "$T/mail.pid")"; }

# services_conf [NGINX-EXTRA]: renew-lib's conf, the binding's own
# stop/start replaced by three [service] sections.  NGINX-EXTRA lines go
# into [service nginx].
services_conf() {
	renew_conf "service = nginx, haproxy, mail"
	sed -i '/^stop = /d; /^start = /d' "$T/conf"
	cat >> "$T/conf" <<EOT

[service nginx]
stop = $T/stop.sh
start = $T/start.sh
probe = 127.0.0.1:$NGX_PORT
EOT
	for _l in "$@"; do printf '%s\n' "$_l" >> "$T/conf"; done
	cat >> "$T/conf" <<EOT

[service haproxy]
stop = $T/ha-stop.sh
start = $T/ha-start.sh
probe = 127.0.0.1:$HA_PORT

[service mail]
stop = $T/mail-stop.sh
start = $T/mail-start.sh
probe = smtp://127.0.0.1:$SMTP_PORT
EOT
}

services_cleanup() {
	"$T/ha-stop.sh" >/dev/null 2>&1 || true
	"$T/mail-stop.sh" >/dev/null 2>&1 || true
	renew_cleanup
}
trap services_cleanup EXIT
