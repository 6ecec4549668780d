#!/bin/sh
# probe smtp://, imap://, pop3://, ldap:// (STARTTLS) against real servers
# from Debian: python3-aiosmtpd, dovecot, slapd; servers without STARTTLS,
# and hostile ones (endless line, silence, bytes after the STARTTLS answer).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
need openssl certtool jq
# aiosmtpd is Debian's, for Debian's python3 (not another python3 on PATH).
SMTPD_PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import aiosmtpd' 2>/dev/null; then SMTPD_PY=$p; break; fi
done
[ -n "$SMTPD_PY" ] || skip "python3-aiosmtpd not installed"
[ -x /usr/sbin/dovecot ] || skip "dovecot not installed (dovecot-imapd, dovecot-pop3d)"
[ -x /usr/sbin/slapd ] || skip "slapd not installed"
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"
CV=$CERTVIGIL
SHA1=$(openssl x509 -in server.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f)
UP=$(printf %s "$SHA1" | tr a-f A-F)

probe_json() {
	run_status st "$CV" probe --json --timeout 10 "$@" >"$T/probe.json" 2>"$T/probe.err"
}
jf() { jq -r "$1" "$T/probe.json"; }
# bad_probe WHAT REGEX ARGS...: non-zero, one line on stderr matching REGEX.
bad_probe() {
	what=$1 re=$2
	shift 2
	run_status st "$CV" probe "$@" >"$T/out" 2>"$T/err"
	[ "$st" != 0 ] || fail "$what: exit 0"
	ok "$what: non-zero exit"
	assert_eq "$what: one line" 1 "$(wc -l < "$T/err")"
	assert_match "$what: reason" "$re" "$(cat "$T/err")"
}
# good_probe WHAT PROTO URL: exit 0, the served leaf, the protocol.
good_probe() {
	probe_json --ca-file ca.pem "$3"
	[ "$st" = 0 ] || cat "$T/probe.err" >&2
	assert_eq "$1: exit 0" 0 "$st"
	assert_eq "$1: starttls" "$2" "$(jf .starttls)"
	assert_eq "$1: served leaf" "$SHA1" "$(jf '.chain[0].sha1')"
	assert_eq "$1: verified" true "$(jf .verified)"
	assert_eq "$1: accepted" true "$(jf .without_client_cert.accepted)"
	"$CV" probe --ca-file ca.pem --timeout 10 "$3" >"$T/out"
	assert_match "$1: text names the protocol" \
	    "^127\.0\.0\.1 port [0-9]+ \(127\.0\.0\.1\), STARTTLS $2$" "$(head -1 "$T/out")"
	assert_match "$1: text thumbprint" "thumbprint $UP" "$(cat "$T/out")"
}

# ---- SMTP: aiosmtpd with and without STARTTLS ----
srv_smtp() { exec "$SMTPD_PY" "$top_srcdir/tests/starttls-smtpd.py" "$PORT" server.pem server.key; }
start_server srv_smtp
good_probe "smtp" smtp "smtp://127.0.0.1:$PORT"
# The same port without the dialogue is not TLS.
bad_probe "smtp port probed as TLS" "^certvigil: 127\.0\.0\.1 port $PORT: TLS handshake failed" \
    --timeout 10 "127.0.0.1:$PORT"
bad_probe "imap:// against SMTP" \
    "^certvigil: imap://127\.0\.0\.1:$PORT: not an IMAP server ready for STARTTLS \(it said \"220 mail\.test " \
    --timeout 10 "imap://127.0.0.1:$PORT"
stop_server
srv_smtp_plain() { exec "$SMTPD_PY" "$top_srcdir/tests/starttls-smtpd.py" "$PORT" server.pem server.key --no-starttls; }
start_server srv_smtp_plain
bad_probe "smtp without STARTTLS" \
    "^certvigil: smtp://127\.0\.0\.1:$PORT: the server does not offer STARTTLS \(its EHLO said \"250-mail\.test, .*250 HELP\"\)$" \
    --timeout 10 "smtp://127.0.0.1:$PORT"
stop_server

# ---- IMAP and POP3: dovecot, STARTTLS on its plain ports ----
mkdir -p "$T/dv"
# dovecot_conf SSL IMAP_PORT POP3_PORT NAME
dovecot_conf() {
	cat > "$T/dv/$4.conf" <<EOT
base_dir = $T/dv/$4-run
state_dir = $T/dv/$4-state
log_path = $T/dv/$4.log
protocols = imap pop3
listen = 127.0.0.1
ssl = $1
ssl_cert = <$T/fx/server.pem
ssl_key = <$T/fx/server.key
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service imap-login {
  inet_listener imap {
    port = $2
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $3
  }
  inet_listener pop3s {
    port = 0
  }
}
EOT
}
srv_dovecot() {
	dovecot_conf yes "$PORT" "$POP_PORT" tls
	exec /usr/sbin/dovecot -F -c "$T/dv/tls.conf"
}
srv_dovecot_plain() {
	dovecot_conf no "$PORT" "$POP_PORT" plain
	exec /usr/sbin/dovecot -F -c "$T/dv/plain.conf"
}
# wait_port PORT: bounded (~20 s).
wait_port() {
	n=0
	until port_open "$1"; do
		n=$((n + 1))
		[ $n -lt 200 ] || fail "port $1 did not open"
		sleep 0.1
	done
}
POP_PORT=$(free_port)
start_server srv_dovecot
wait_port "$POP_PORT"
good_probe "imap (dovecot)" imap "imap://127.0.0.1:$PORT"
good_probe "pop3 (dovecot)" pop3 "pop3://127.0.0.1:$POP_PORT"
stop_server
POP_PORT=$(free_port)
start_server srv_dovecot_plain
wait_port "$POP_PORT"
bad_probe "imap without TLS" \
    "^certvigil: imap://127\.0\.0\.1:$PORT: the server does not offer STARTTLS \(it said \"a (BAD|NO) .*\"\)$" \
    --timeout 10 "imap://127.0.0.1:$PORT"
bad_probe "pop3 without TLS" \
    "^certvigil: pop3://127\.0\.0\.1:$POP_PORT: the server does not offer STARTTLS \(it said \"-ERR .*\"\)$" \
    --timeout 10 "pop3://127.0.0.1:$POP_PORT"
stop_server

# ---- LDAP: slapd with and without TLS ----
srv_slapd() {
	cat > "$T/slapd.conf" <<EOT
pidfile $T/slapd.pid
argsfile $T/slapd.args
TLSCertificateFile $T/fx/server.pem
TLSCertificateKeyFile $T/fx/server.key
EOT
	exec /usr/sbin/slapd -d 0 -f "$T/slapd.conf" -h "ldap://127.0.0.1:$PORT/"
}
srv_slapd_plain() {
	printf 'pidfile %s\nargsfile %s\n' "$T/slapd2.pid" "$T/slapd2.args" > "$T/slapd2.conf"
	exec /usr/sbin/slapd -d 0 -f "$T/slapd2.conf" -h "ldap://127.0.0.1:$PORT/"
}
start_server srv_slapd
good_probe "ldap (slapd)" ldap "ldap://127.0.0.1:$PORT"
stop_server
start_server srv_slapd_plain
bad_probe "ldap without TLS" \
    "^certvigil: ldap://127\.0\.0\.1:$PORT: the server does not offer STARTTLS \(it said: result 2, .*\)$" \
    --timeout 10 "ldap://127.0.0.1:$PORT"
stop_server

# ---- hostile servers: bounded lines, the timeout, no injected bytes ----
# srv_fake MODE: a one-connection-at-a-time SMTP imitation.
srv_fake() {
	exec python3 -c 'import socket, sys
mode = sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
while True:
    c = s.accept()[0]
    held.append(c)
    try:
        # The readiness check connects and leaves at once.
        if mode == "long":
            c.sendall(b"220 " + b"x" * 5000)
        elif mode == "inject":
            c.sendall(b"220 hello\r\n")
            if not c.recv(100): continue
            c.sendall(b"250-hello\r\n250 STARTTLS\r\n")
            if not c.recv(100): continue
            c.sendall(b"220 go ahead\r\nRSET\r\n")
    except OSError:
        pass' "$PORT" "$FAKE"
}
FAKE=long; start_server srv_fake
bad_probe "endless line" "^certvigil: smtp://127\.0\.0\.1:$PORT: the server sent a line longer than 1024 bytes$" \
    --timeout 10 "smtp://127.0.0.1:$PORT"
stop_server
FAKE=inject; start_server srv_fake
bad_probe "bytes after the STARTTLS answer" \
    "^certvigil: smtp://127\.0\.0\.1:$PORT: the server sent data after its STARTTLS answer, before TLS$" \
    --timeout 10 "smtp://127.0.0.1:$PORT"
stop_server
FAKE=silent; start_server srv_fake
t0=$(now_ms)
bad_probe "silent server" "^certvigil: smtp://127\.0\.0\.1:$PORT: timed out waiting for the server's answer$" \
    --timeout 1 "smtp://127.0.0.1:$PORT"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 8000 ] || fail "silent server: the 1 s timeout took $el ms"
ok "silent server: gave up within the timeout ($el ms)"
stop_server
bad_probe "unknown scheme" "unknown scheme" "smtps://127.0.0.1:1"
echo "probe-starttls: $T_COUNT passed, 0 failed"
