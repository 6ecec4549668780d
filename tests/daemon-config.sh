#!/bin/sh
# Config errors name FILE:LINE and stop the daemon from starting; SIGHUP
# applies a new config without dropping clients; a bad reload keeps the
# running config.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

bad() {
	# bad WHAT REGEX: the config in $T/bad.conf is refused with REGEX.
	run_status st timeout 20 "$CERTVIGILD" -f -c "$T/bad.conf" -S "$D_SOCK" -d "$D_STATE" 2>"$T/err"
	assert_eq "$1: exit 1" 1 "$st"
	assert_eq "$1: one line" 1 "$(wc -l < "$T/err")"
	assert_match "$1: message" "$2" "$(cat "$T/err")"
}
printf '[daemon]\nlog_level = info\nbogus = 1\n' > "$T/bad.conf"
bad "unknown key" "^certvigild: $T/bad.conf:3: unknown key 'bogus' in \[daemon\]$"
printf '[daemon]\n\n[frob]\nx = 1\n' > "$T/bad.conf"
bad "unknown section" "$T/bad.conf:3: unknown section \[frob\]"
printf '[watch x]\npath = relative/path\n' > "$T/bad.conf"
bad "relative path" "$T/bad.conf:2: path: 'relative/path' is not an absolute path"
printf '[watch x]\nrole = printer\n' > "$T/bad.conf"
bad "bad role" "$T/bad.conf:2: role: 'printer' is not one of"
printf '[watch x]\nrecursive = yes\n' > "$T/bad.conf"
bad "watch without path" "$T/bad.conf:1: \[watch x\] has no path"
printf '[daemon]\nrescan_interval = soon\n' > "$T/bad.conf"
bad "bad duration" "$T/bad.conf:2: rescan_interval: 'soon' is not a duration"
printf '[daemon]\nthis line has no equals sign\n' > "$T/bad.conf"
bad "syntax" "$T/bad.conf:2: syntax error"
printf '[watch x]\npath = /tmp\npassword_file = /nonexistent/pw\n' > "$T/bad.conf"
bad "missing password file" "$T/bad.conf:3: password_file: /nonexistent/pw: No such file"
printf '[daemon]\nlog = stderr\nlog = syslog\n' > "$T/bad.conf"
bad "duplicate key" "$T/bad.conf:3: 'log' is set twice"
run_status st "$CERTVIGILD" -f -c "$T/missing.conf" -S "$D_SOCK" -d "$D_STATE" 2>"$T/err"
assert_eq "missing config: exit 1" 1 "$st"
assert_match "missing config: message" "missing.conf: No such file" "$(cat "$T/err")"

# Reload.
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
mkdir -p "$T/one" "$T/two"
cp "$T/fx/server.pem" "$T/one/"
cp "$T/fx/client.pem" "$T/two/"
printf '[watch one]\npath = %s\n' "$T/one" > "$T/conf"
daemon_start "$T/conf"
follow_start
assert_eq "before reload" 1 "$(cv status --json | jq .certs.total)"
printf '[watch one]\npath = %s\n[watch two]\npath = %s\nrole = client\n' "$T/one" "$T/two" > "$T/conf"
kill -HUP "$D_PID"
wait_event "\"discovered\".*$T/two/client.pem" 5
assert_eq "after SIGHUP: new watch scanned" 2 "$(cv status --json | jq .certs.total)"
assert_eq "after SIGHUP: follower still connected" yes "$(kill -0 "$F_PID" 2>/dev/null && echo yes || echo no)"
# The new watch is watched live, too.
cp "$T/fx/ed25519.pem" "$T/two/"
wait_event "\"discovered\".*$T/two/ed25519.pem"
ok "new watch is live"

# A bad config on reload is refused; the daemon keeps running.
printf '[daemon]\nbogus = 1\n' > "$T/conf"
run_status st cv reload
assert_eq "bad reload: exit 1" 1 "$st"
assert_match "bad reload: reason" "conf:2: unknown key 'bogus'" "$(cv reload 2>&1 || true)"
assert_eq "bad reload: old config kept" 2 "$(cv status --json | jq '.watches|length')"
daemon_stop
echo "daemon-config: $T_COUNT passed, 0 failed"
