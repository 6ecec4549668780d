# Helpers for the deployment-form tests (issue 14, forms), sourced after
# lib.sh, tls-lib.sh and renew-lib.sh (whose renew_issue, file_sha1,
# renew_and_wait they use; renew_setup and its nginx are not used).

# forms_setup: the test CA, a first certificate in $T/live/web.pem/.key.
forms_setup() {
	mkdir -p "$T/ca" "$T/live"
	"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
	    --out-key "$T/ca/ca.key" >/dev/null
	renew_issue "$T/live/web.pem" "$T/live/web.key"
}

# pfx_sha1 FILE PASSFILE: the leaf thumbprint inside a PKCS#12 file.
pfx_sha1() {
	openssl pkcs12 -in "$1" -passin "file:$2" -nokeys -clcerts 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' |
	    tr 'A-F' 'a-f'
}

# served_at PORT: the SHA-1 thumbprint served on 127.0.0.1:PORT.
served_at() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" \
	    -servername localhost 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha1 2>/dev/null |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# $T/waitport.sh PORT: waits (bounded, 30 s) until 127.0.0.1:PORT
# accepts; for the services' start commands.
forms_waitport() {
	cat > "$T/waitport.sh" <<'EOT'
#!/bin/sh
n=0
while [ $n -lt 300 ]; do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()' "$1" 2>/dev/null && exit 0
	n=$((n + 1)); sleep 0.1
done
echo "nothing listens on 127.0.0.1:$1" >&2; exit 1
EOT
	chmod +x "$T/waitport.sh"
}

# node_service PORT PFX PASSFILE: a Node.js HTTPS server reading the PFX
# and its password file itself; $T/node-start.sh and $T/node-stop.sh are
# the binding's start and stop (the pid in $T/node.pid).
node_service() {
	forms_waitport
	cat > "$T/srv.js" <<'EOT'
const fs = require('fs'), https = require('https');
const [port, pfx, passfile] = process.argv.slice(2);
const passphrase = fs.readFileSync(passfile, 'utf8').split(/\r?\n/)[0];
https.createServer({ pfx: fs.readFileSync(pfx), passphrase },
    (req, res) => res.end('ok\n')).listen(+port, '127.0.0.1');
EOT
	cat > "$T/node-start.sh" <<EOT
#!/bin/sh
$_alive
if [ -s "$T/node.pid" ] && alive "\$(cat "$T/node.pid")"; then exit 0; fi
node "$T/srv.js" $1 "$2" "$3" >>"$T/node.log" 2>&1 &
echo \$! > "$T/node.pid"
"$T/waitport.sh" $1 || { cat "$T/node.log" >&2; exit 1; }
EOT
	cat > "$T/node-stop.sh" <<EOT
#!/bin/sh
$_alive
[ -s "$T/node.pid" ] || exit 0
pid=\$(cat "$T/node.pid")
kill "\$pid" 2>/dev/null || exit 0
n=0
while alive "\$pid"; do
	n=\$((n + 1)); [ \$n -lt 300 ] || { echo "node did not stop" >&2; exit 1; }
	sleep 0.1
done
rm -f "$T/node.pid"
EOT
	chmod +x "$T/node-start.sh" "$T/node-stop.sh"
	# renew-lib's EXIT trap runs $T/stop.sh.
	ln -sf "$T/node-stop.sh" "$T/stop.sh"
}

# pfx_node_start NODE_PASS: web.pfx exported from live/web.{pem,key} with
# the password in NODE_PASS, served by node on a free port (sets PORT).
pfx_node_start() {
	openssl pkcs12 -export -in "$T/live/web.pem" -inkey "$T/live/web.key" \
	    -passout "file:$1" -out "$T/live/web.pfx"
	PORT=$(free_port)
	node_service "$PORT" "$T/live/web.pfx" "$1"
	"$T/node-start.sh" || fail "node did not start"
}

# pfx_conf WATCH_PASS BINDING_PASS: $T/conf with the live watch and the
# binding web (local issuer, PFX form, node stopped and started).
pfx_conf() {
	cat > "$T/conf" <<EOT
[watch live]
path = $T/live
password_file = $1

EOT
	renew_issuer_conf >> "$T/conf"
	cat >> "$T/conf" <<EOT

[binding web]
ipport = 127.0.0.1:$PORT
issuer = local
cert_file = $T/live/web.pem
key_file = $T/live/web.key
pfx_file = $T/live/web.pfx
pfx_password_file = $2
san = DNS:localhost,IP:127.0.0.1
subject = CN=localhost
stop = $T/node-stop.sh
start = $T/node-start.sh
verify_timeout = 30s
EOT
}
