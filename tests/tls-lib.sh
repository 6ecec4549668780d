# Helpers for tests that run TLS servers on loopback (sourced after
# tests/lib.sh).  Servers are started on a free port, waited for by polling
# the port (never by sleeping a fixed time), and killed by lib.sh's cleanup.

# free_port [HOST]: a TCP port on HOST (127.0.0.1; ::1 for IPv6) that
# nothing listens on right now.
free_port() {
	python3 - "${1:-127.0.0.1}" <<'PY'
import socket, sys
h = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET)
s.bind((h, 0))
print(s.getsockname()[1])
PY
}

# port_open PORT [HOST]: true when a TCP connection to it succeeds.
port_open() {
	python3 - "$1" "${2:-127.0.0.1}" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[2], int(sys.argv[1])), 0.5).close()
except OSError:
    sys.exit(1)
PY
}

# start_server FUNC: runs FUNC in the background with $PORT set to a free
# port, and waits (at most ~10 s) until the port accepts connections.  A
# server that dies first (the port was taken meanwhile) is retried on
# another port.  Sets PORT and SERVER_PID; the log is $T/FUNC.log.
# SERVER_HOST (default 127.0.0.1; ::1 for IPv6) is where FUNC listens.
start_server() {
	_fn=$1
	for _try in 1 2 3 4 5; do
		PORT=$(free_port "${SERVER_HOST:-127.0.0.1}")
		"$_fn" >"$T/$_fn.log" 2>&1 </dev/null &
		SERVER_PID=$!
		T_PIDS="$T_PIDS $SERVER_PID"
		_n=0
		while [ $_n -lt 100 ]; do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			if port_open "$PORT" "${SERVER_HOST:-127.0.0.1}"; then
				return 0
			fi
			_n=$((_n + 1))
			sleep 0.1
		done
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	done
	cat "$T/$_fn.log" >&2
	fail "$_fn: the server did not come up"
}

# stop_server: stops the last server started.
stop_server() {
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
}
