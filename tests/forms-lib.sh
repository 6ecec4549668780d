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
