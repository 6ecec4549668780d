#!/bin/sh
# The socket: several requests per connection, errors for bad input (the
# daemon never exits for a client), size cap, permissions by peer uid.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need jq python3

mkdir -p "$T/w"
cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0666
[watch w]
path = $T/w
EOT
daemon_start "$T/conf"

# raw LINE...: sends each line on one connection, prints each reply line.
raw() {
	python3 - "$D_SOCK" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
for line in sys.argv[2:]:
    if line == "@big":      # a 10 MB line: too long for argv
        line = '{"v":1,"cmd":"status","pad":"' + "x" * 10000000 + '"}'
    try:
        s.sendall(line.encode("utf-8", "surrogateescape") + b"\n")
    except OSError:
        pass    # the daemon half-closed on an oversized request
    sys.stdout.write(f.readline().decode("utf-8", "replace"))
PY
}
code() { jq -r 'if .ok then "ok" else .error.code end'; }

out=$(raw '{"v":1,"cmd":"status"}' '{"v":1,"cmd":"list"}' '{"v":1,"cmd":"events"}')
assert_eq "three requests, three replies" "ok ok ok" "$(echo "$out" | code | tr '\n' ' ' | sed 's/ $//')"
assert_eq "bad JSON" bad_json "$(raw '{"v":1,' | code)"
assert_eq "not an object" bad_request "$(raw '[1,2]' | code)"
assert_eq "wrong version" bad_version "$(raw '{"v":2,"cmd":"status"}' | code)"
assert_eq "missing version" bad_version "$(raw '{"cmd":"status"}' | code)"
assert_eq "unknown command" unknown_command "$(raw '{"v":1,"cmd":"frobnicate"}' | code)"
assert_eq "bad args" bad_request "$(raw '{"v":1,"cmd":"list","args":{"expiring":"soon"}}' | code)"
assert_eq "show without key" bad_request "$(raw '{"v":1,"cmd":"show"}' | code)"
deep=$(python3 -c 'print("["*30000 + "]"*30000)')
assert_eq "deeply nested JSON" bad_json "$(raw "$deep" | code)"
assert_eq "invalid UTF-8" bad_json "$(raw "$(printf '{"v":1,"cmd":"st\377tus"}')" | code)"
# The connection survives an error reply.
out=$(raw 'garbage' '{"v":1,"cmd":"status"}')
assert_eq "error then ok on one connection" "bad_json ok" "$(echo "$out" | code | tr '\n' ' ' | sed 's/ $//')"
assert_eq "10 MB request" too_large "$(raw @big | code)"
assert_eq "still answering" ok "$(raw '{"v":1,"cmd":"status"}' | code)"

# Permissions: root may rescan; another user may read but not change.
assert_eq "root: rescan" ok "$(raw '{"v":1,"cmd":"rescan"}' | code)"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 755 "$T"
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	r=$(as_nobody "$CERTVIGIL" -S "$D_SOCK" status --json | jq -r .version)
	assert_match "nobody: status" "^[0-9]" "$r"
	run_status st as_nobody "$CERTVIGIL" -S "$D_SOCK" rescan
	assert_eq "nobody: rescan refused" 1 "$st"
	msg=$(as_nobody "$CERTVIGIL" -S "$D_SOCK" reload 2>&1 || true)
	assert_match "nobody: reason" "root or the admin group only" "$msg"
	# With the default mode 0660 and no group, others cannot connect.
	chmod 660 "$D_SOCK"
	run_status st as_nobody "$CERTVIGIL" -S "$D_SOCK" status
	assert_eq "nobody: no access to a 0660 socket" 3 "$st"
fi
assert_eq "daemon alive after all that" 0 "$(kill -0 "$D_PID"; echo $?)"
daemon_stop
echo "daemon-protocol: $T_COUNT passed, 0 failed"
