#!/bin/sh
# A binding whose probe is smtp://: the renewal's stop/start run a real
# SMTP server (Debian's python3-aiosmtpd) that offers STARTTLS, and its
# verify step speaks SMTP before TLS.  The server ends serving the new
# certificate; when it comes back without STARTTLS, the renewal rolls back
# with the reason and the old certificate is served again.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
need openssl jq
SMTPD_PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import aiosmtpd' 2>/dev/null; then SMTPD_PY=$p; break; fi
done
[ -n "$SMTPD_PY" ] || skip "python3-aiosmtpd not installed"

mkdir -p "$T/ca" "$T/live"
"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn localhost --san DNS:localhost,IP:127.0.0.1 --purpose server \
    --days 30 --out-key "$T/live/mail.key" --out-cert "$T/live/mail.pem" >/dev/null
SMTP_PORT=$(free_port)

# start: the server in the background (its pid in smtpd.pid), without
# STARTTLS once when $T/no-starttls-once exists; waits for the port.
cat > "$T/start.sh" <<EOT
#!/bin/sh
opt=
if [ -e "$T/no-starttls-once" ]; then rm -f "$T/no-starttls-once"; opt=--no-starttls; fi
"$SMTPD_PY" "$top_srcdir/tests/starttls-smtpd.py" $SMTP_PORT "$T/live/mail.pem" \
    "$T/live/mail.key" \$opt </dev/null >>"$T/smtpd.log" 2>&1 &
echo \$! > "$T/smtpd.pid"
n=0
while [ \$n -lt 200 ]; do
	kill -0 \$! 2>/dev/null || { echo "smtpd exited" >&2; exit 1; }
	python3 -c 'import socket; socket.create_connection(("127.0.0.1", $SMTP_PORT), 0.5).close()' 2>/dev/null && exit 0
	n=\$((n + 1)); sleep 0.1
done
echo "smtpd did not come up" >&2; exit 1
EOT
cat > "$T/stop.sh" <<EOT
#!/bin/sh
[ -s "$T/smtpd.pid" ] || exit 0
pid=\$(cat "$T/smtpd.pid")
kill "\$pid" 2>/dev/null || exit 0
n=0
while kill -0 "\$pid" 2>/dev/null; do
	n=\$((n + 1)); [ \$n -lt 200 ] || { echo "smtpd did not stop" >&2; exit 1; }
	sleep 0.1
done
rm -f "$T/smtpd.pid"
EOT
chmod +x "$T/start.sh" "$T/stop.sh"
smtp_cleanup() {
	"$T/stop.sh" >/dev/null 2>&1 || true
	t_cleanup
}
trap smtp_cleanup EXIT
"$T/start.sh" || fail "the SMTP server did not start"

cat > "$T/conf" <<EOT
[watch live]
path = $T/live

[issuer local]
type = local
ca_cert = $T/ca/ca.pem
ca_key = $T/ca/ca.key
days = 30
key_type = ec

[binding mail]
ipport = 127.0.0.1:$SMTP_PORT
probe = smtp://127.0.0.1:$SMTP_PORT
issuer = local
cert_file = $T/live/mail.pem
key_file = $T/live/mail.key
san = DNS:localhost,IP:127.0.0.1
subject = CN=localhost
stop = $T/stop.sh
start = $T/start.sh
verify_timeout = 8s
EOT

# served: what the SMTP server serves after STARTTLS, seen by openssl.
served() {
	echo QUIT | timeout 10 openssl s_client -starttls smtp \
	    -connect "127.0.0.1:$SMTP_PORT" 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha1 2>/dev/null |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
file_sha1() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
old=$(file_sha1 "$T/live/mail.pem")
assert_eq "the SMTP server serves the first certificate" "$old" "$(served)"

daemon_start "$T/conf"
follow_start
cv renew mail --now >/dev/null
id=$(cv renewals --json | jq -r '.[-1].id')
wait_event "renewal $id (done|rolled back)|renewal_failed" 180
R=$(cv renewals --json | jq '.[-1]')
[ "$(echo "$R" | jq -r .state)" = done ] || { echo "$R" >&2; cat "$T/daemon.log" >&2; }
assert_eq "renewal done" done "$(echo "$R" | jq -r .state)"
new=$(echo "$R" | jq -r .new_sha1)
[ "$new" != "$old" ] || fail "no new certificate"
assert_eq "the SMTP server serves the new certificate after STARTTLS" "$new" "$(served)"
assert_eq "the binding names it" "$new" "$(cv binding show --json | jq -r '.[0].certhash')"

# The server comes back without STARTTLS: verification fails with the
# server's words and the renewal rolls back to what was served.
: > "$T/events.jsonl"
touch "$T/no-starttls-once"
cv renew mail --now >/dev/null
id=$(cv renewals --json | jq -r '.[-1].id')
wait_event "renewal $id (done|rolled back)" 180
R=$(cv renewals --json | jq '.[-1]')
assert_eq "rolled back" rolled_back "$(echo "$R" | jq -r .state)"
assert_match "the reason names the endpoint and what it said" \
    "smtp://127\.0\.0\.1:$SMTP_PORT: the server does not offer STARTTLS" \
    "$(echo "$R" | jq -r .error)"
assert_eq "the SMTP server serves the previous certificate again" "$new" "$(served)"
assert_eq "the binding still names it" "$new" "$(cv binding show --json | jq -r '.[0].certhash')"
daemon_stop
echo "renew-starttls: $T_COUNT passed, 0 failed"
