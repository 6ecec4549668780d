# Helpers for the ACME issuer's tests (issue 17), sourced after lib.sh,
# tls-lib.sh, renew-lib.sh and pebble-lib.sh: nginx under the test CA's
# certificate (renew_setup), pebble, a small web server answering http-01
# from $T/webroot on pebble's httpPort, and a config binding nginx to an
# [issuer acme].
need python3

# pebble_get PATH: a file of pebble's management interface.
pebble_get() {
	python3 - "$PEBBLE_MGMT$1" "$PEBBLE_CA" <<'PY'
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=30).read().decode())
PY
}

# webroot_start: serves $T/webroot on 127.0.0.1:$PEBBLE_HTTP_PORT, where
# pebble's validation connects; waits (bounded) for the port.
webroot_start() {
	mkdir -p "$T/webroot"
	python3 -m http.server --bind 127.0.0.1 --directory "$T/webroot" \
	    "$PEBBLE_HTTP_PORT" >"$T/webroot.log" 2>&1 </dev/null &
	WEBROOT_PID=$!
	T_PIDS="$T_PIDS $WEBROOT_PID"
	_n=0
	until port_open "$PEBBLE_HTTP_PORT"; do
		kill -0 "$WEBROOT_PID" 2>/dev/null || fail "webroot server died"
		_n=$((_n + 1))
		[ $_n -lt 300 ] || fail "webroot server did not come up"
		sleep 0.1
	done
}

# acme_setup [PEBBLE JSON MEMBERS]: nginx, pebble (with the members), its
# root in $T/pebble-root.pem, and the webroot server unless NO_WEBROOT=1.
acme_setup() {
	renew_setup
	pebble_start "${1:-}"
	pebble_get /roots/0 >"$T/pebble-root.pem" ||
	    fail "cannot fetch pebble's root"
	mkdir -p "$T/webroot"
	[ "${NO_WEBROOT:-0}" = 1 ] || webroot_start
}

# acme_conf [ISSUER LINES...]: $T/conf binding nginx to [issuer acme].
acme_conf() {
	renew_conf
	sed -i 's/^issuer = local$/issuer = acme/' "$T/conf"
	cat >>"$T/conf" <<EOT

[issuer acme]
type = acme
directory = $PEBBLE_DIR_URL
directory_ca_file = $PEBBLE_CA
ca_file = $T/pebble-root.pem
contact = mailto:admin@example.org
webroot = $T/webroot
key_type = ec
EOT
	for _l in "$@"; do printf '%s\n' "$_l" >>"$T/conf"; done
}

# chains_to_pebble: what nginx serves verifies to pebble's root (through
# pebble's intermediate: cert_file holds the leaf alone).
chains_to_pebble() {
	pebble_get /intermediates/0 >"$T/pebble-int.pem" || return 1
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$NGX_PORT" \
	    -servername localhost 2>/dev/null |
	    openssl x509 >"$T/served-leaf.pem" 2>/dev/null || return 1
	openssl verify -CAfile "$T/pebble-root.pem" \
	    -untrusted "$T/pebble-int.pem" "$T/served-leaf.pem" >/dev/null 2>&1
}

# new_orders: how many orders pebble has placed (its log's "Added order").
new_orders() {
	grep -c '^Pebble .* Added order ' "$T/pebble/log" || true
}

# wait_renewal ID: until renewal ID is done, failed or rolled back
# (bounded: 180 s).
wait_renewal() {
	_n=0
	until cv renewals --json 2>/dev/null | jq -e --argjson id "$1" \
	    'map(select(.id == $id and (.state == "done" or .state == "failed" or .state == "rolled_back"))) | length == 1' \
	    >/dev/null; do
		_n=$((_n + 1))
		[ $_n -lt "$(slow 900)" ] || fail "renewal $1 did not end"
		sleep 0.2
	done
}
