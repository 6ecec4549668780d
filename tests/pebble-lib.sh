# Helpers for the ACME tests (issue 17): Let's Encrypt's test server
# pebble from Debian's package, fetched by .ci/pebble into
# $CERTVIGIL_PEBBLE_DIR (default TOP/.pebble; .ci/run exports it, so the
# distcheck and ASan trees find the same copy).  Sourced after tests/lib.sh
# and tests/tls-lib.sh.
#
# Debian's package ships no test certificates (the +ds1 source drops
# pebble's test/certs), so each test makes its own: a throwaway CA
# ($T/pebble/ca.pem, what clients trust for pebble's own HTTPS) and a
# localhost certificate for pebble's listeners.

# pebble_find: sets PEBBLE and PEBBLE_CHALLTESTSRV, fetching the package
# once when it is missing; skips the test when it cannot be had.
pebble_find() {
	_pdir=${CERTVIGIL_PEBBLE_DIR:-$top_srcdir/.pebble}
	PEBBLE=$_pdir/root/usr/bin/pebble
	PEBBLE_CHALLTESTSRV=$_pdir/root/usr/bin/pebble-challtestsrv
	if [ ! -x "$PEBBLE" ]; then
		CERTVIGIL_PEBBLE_DIR=$_pdir sh "$top_srcdir/.ci/pebble" >&2 ||
		    skip "pebble could not be fetched (.ci/pebble failed)"
	fi
	"$PEBBLE" -version >/dev/null 2>&1 || fail "$PEBBLE does not run"
}

# pebble_certs: the throwaway CA and pebble's localhost certificate.
pebble_certs() {
	mkdir -p "$T/pebble"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/pebble/ca.key" -out "$T/pebble/ca.pem" -days 2 \
	    -subj "/CN=certvigil test minica" >/dev/null 2>&1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/pebble/key.pem" -out "$T/pebble/req.pem" \
	    -subj "/CN=localhost" >/dev/null 2>&1
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/pebble/ext"
	openssl x509 -req -in "$T/pebble/req.pem" -CA "$T/pebble/ca.pem" \
	    -CAkey "$T/pebble/ca.key" -CAcreateserial -days 2 \
	    -extfile "$T/pebble/ext" -out "$T/pebble/cert.pem" >/dev/null 2>&1
}

# pebble_start [JSON_MEMBERS]: starts pebble on free ports with the
# members given added to its "pebble" object (e.g.
# '"externalAccountBindingRequired": true, ...'), waits for its
# "ACME directory available" log line.  PEBBLE_ENV (e.g.
# "PEBBLE_VA_ALWAYS_VALID=1") goes into its environment, PEBBLE_ARGS
# (e.g. "-dnsserver 127.0.0.1:PORT") onto its command line.  Sets
# PEBBLE_DIR_URL (the directory URL), PEBBLE_MGMT (management base URL),
# PEBBLE_CA (the CA file for pebble's HTTPS) and PEBBLE_PID.
pebble_start() {
	[ -n "${PEBBLE:-}" ] || pebble_find
	[ -f "$T/pebble/ca.pem" ] || pebble_certs
	_extra=${1:-}
	for _try in 1 2 3 4 5; do
		_p=$(free_port)
		_m=$(free_port)
		_h=$(free_port)
		_s=$(free_port)
		cat >"$T/pebble/config.json" <<JSON
{ "pebble": {
	"listenAddress": "127.0.0.1:$_p",
	"managementListenAddress": "127.0.0.1:$_m",
	"certificate": "$T/pebble/cert.pem",
	"privateKey": "$T/pebble/key.pem",
	"httpPort": $_h, "tlsPort": $_s,
	"ocspResponderURL": "",
	"externalAccountBindingRequired": false,
	"retryAfter": { "authz": 1, "order": 1 }${_extra:+,
	$_extra}
} }
JSON
		: >"$T/pebble/log"
		# No reuse of valid authorizations (pebble's default reuses
		# half of them at random): every order validates, so a test of
		# a failing challenge cannot pass by luck.
		env PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 ${PEBBLE_ENV:-} \
		    "$PEBBLE" -config "$T/pebble/config.json" ${PEBBLE_ARGS:-} \
		    >>"$T/pebble/log" 2>&1 &
		PEBBLE_PID=$!
		T_PIDS="$T_PIDS $PEBBLE_PID"
		if wait_line "$T/pebble/log" \
		    'ACME directory available|exit|bind|rror' 60 &&
		    grep -q 'ACME directory available' "$T/pebble/log"; then
			PEBBLE_DIR_URL=https://127.0.0.1:$_p/dir
			PEBBLE_MGMT=https://127.0.0.1:$_m
			PEBBLE_HTTP_PORT=$_h
			PEBBLE_CA=$T/pebble/ca.pem
			return 0
		fi
		kill "$PEBBLE_PID" 2>/dev/null || true
		wait "$PEBBLE_PID" 2>/dev/null || true
	done
	cat "$T/pebble/log" >&2
	fail "pebble did not start"
}

# challtestsrv_start: pebble-challtestsrv answering DNS only, on free
# ports; waits for its management port.  Sets CTS_DNS (ADDR:PORT, for
# pebble's -dnsserver) and CTS_MGMT (http://ADDR:PORT of /set-txt,
# /clear-txt).
challtestsrv_start() {
	[ -n "${PEBBLE:-}" ] || pebble_find
	_d=$(free_port)
	_m=$(free_port)
	"$PEBBLE_CHALLTESTSRV" -dnsserver "127.0.0.1:$_d" \
	    -management "127.0.0.1:$_m" -http01 "" -https01 "" \
	    -tlsalpn01 "" -doh "" >"$T/challtestsrv.log" 2>&1 &
	CTS_PID=$!
	T_PIDS="$T_PIDS $CTS_PID"
	_n=0
	until port_open "$_m"; do
		kill -0 "$CTS_PID" 2>/dev/null || {
			cat "$T/challtestsrv.log" >&2
			fail "pebble-challtestsrv died"
		}
		_n=$((_n + 1))
		[ $_n -lt 300 ] || fail "pebble-challtestsrv did not come up"
		sleep 0.1
	done
	CTS_DNS=127.0.0.1:$_d
	CTS_MGMT=http://127.0.0.1:$_m
}
