#!/bin/sh
# Log and terminal injection (issue 12 item 13).  An unprivileged user who
# can write into a watched directory drops a certificate whose subject
# holds a newline, a forged "certvigil-alert ... expired" line, ESC and
# C1 sequences, under a file name with a newline and ESC.  The daemon's
# log must keep one message a line (each begins with its prefix) with no
# raw control character, and what a socket reader's certvigil list, show,
# events and inspect print for a terminal must hold no raw ESC.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq setpriv useradd groupadd
[ "$(id -u)" = 0 ] || skip "needs root (creates a test user)"

# The test's own user and group, unique to this run, removed on exit.
U=cvt$$n
G=cvt$$g
names_cleanup() {
	userdel "$U" 2>/dev/null || true
	groupdel "$G" 2>/dev/null || true
	t_cleanup
}
trap names_cleanup EXIT
groupadd "$G"
useradd -M -N -g "$G" -d /nonexistent -s /usr/sbin/nologin "$U"
uid=$(id -u "$U")
gid=$(getent group "$G" | cut -d: -f3)
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }

chmod 755 "$T"
W=$T/w
mkdir -p "$W" "$T/gen"
chown "$U:$G" "$W"
ESC=$(printf '\033')
# The subject: a newline then what a forged alert line would say, an
# ESC sequence (clear screen), an OSC title and a C1 CSI (U+009B).
cat > "$T/gen/req.cnf" <<'EOT'
[req]
distinguished_name = dn
prompt = no
utf8 = yes
[dn]
OU = $ENV::CV_OU
CN = $ENV::CV_CN
EOT
CV_CN=$(printf 'x\ncertvigild: warning: [certvigil-alert] expired\033[2J')
CV_OU=$(printf 'o\033]0;owned\007\302\233\061m\rcertvigild: error: forged')
export CV_CN CV_OU
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/gen/k.pem" -out "$T/gen/evil.pem" -config "$T/gen/req.cnf" \
    -days 5 2>/dev/null
chmod 644 "$T/gen/evil.pem"
sha1=$(openssl x509 -in "$T/gen/evil.pem" -noout -fingerprint -sha1 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
EVIL_NAME=$(printf 'n\ncertvigild: error: [certvigil-alert] expired\033[2J.pem')

cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0660
socket_group = $G
[watch w]
path = $W
EOT
daemon_start "$T/conf"
# The attacker: writes both files into the watched directory.
as_user cp "$T/gen/evil.pem" "$W/evil.pem"
as_user cp "$T/gen/evil.pem" "$W/$EVIL_NAME"
wait_line "$T/daemon.log" "certvigil-alert\\] expiring $sha1" ||
    { cat "$T/daemon.log" >&2; fail "no alert for the planted certificate"; }

# The log: one message a line, each with the daemon's prefix, and every
# alert line in its own form (kind, sha1, path): the forged one has none.
bad=$(grep -Ev '^certvigild: (error|warning|info|debug): ' \
    "$T/daemon.log" || true)
[ -z "$bad" ] || { cat "$T/daemon.log" >&2; fail "forged log lines: $bad"; }
ok "every log line begins with the daemon's prefix"
bad=$(grep -F '[certvigil-alert]' "$T/daemon.log" | grep -Ev \
    '^certvigild: warning: \[certvigil-alert\] [a-z0-9_]+ [0-9a-f]{40} /' ||
    true)
[ -z "$bad" ] || { cat "$T/daemon.log" >&2; fail "forged alert line: $bad"; }
ok "no forged certvigil-alert line"
if grep -q "$ESC" "$T/daemon.log"; then
	fail "raw ESC in the daemon's log"
fi
ok "no raw ESC in the log"
assert_match "the alert shows the subject escaped" \
    'expiring [0-9a-f]+ .*x\\ncertvigild: warning: \[certvigil-alert\] expired\\x1b\[2J' \
    "$(grep "certvigil-alert\\] expiring $sha1" "$T/daemon.log")"
assert_match "C1 and CR escaped" 'o\\x1b\]0\\?;owned\\x07\\u009b1m\\rcertvigild' \
    "$(grep "certvigil-alert\\] expiring $sha1" "$T/daemon.log")"

# What a reader sees on a terminal: no raw ESC, no forged line.
noraw() {
	# noraw WHAT OUTPUT
	case $2 in
	*"$ESC"*) fail "$1: raw ESC in the output" ;;
	esac
	printf '%s\n' "$2" | grep -q '^certvigild: ' &&
	    fail "$1: a line starts as a forged log line"
	ok "$1: no raw ESC, no forged line"
}
out=$(as_user "$CERTVIGIL" -S "$D_SOCK" list)
noraw "list" "$out"
assert_match "list shows the CN escaped" 'x\\ncertvigild' "$out"
out=$(as_user "$CERTVIGIL" -S "$D_SOCK" show "$sha1")
noraw "show" "$out"
assert_match "show names the planted file, escaped" \
    'n\\ncertvigild: error: \[certvigil-alert\] expired\\x1b\[2J\.pem' "$out"
out=$(as_user "$CERTVIGIL" -S "$D_SOCK" events)
noraw "events" "$out"
out=$(as_user "$CERTVIGIL" inspect "$W/evil.pem" "$W/$EVIL_NAME")
noraw "inspect" "$out"
out=$(as_user "$CERTVIGIL" inspect "$W/nonexistent$ESC[2J.pem" 2>&1 || true)
noraw "inspect's error line" "$out"
# JSON stays what it was: the exact subject, escaped by JSON.
subj=$(as_user "$CERTVIGIL" -S "$D_SOCK" show --json "$sha1" | jq -r .subject)
case $subj in
*"$ESC[2J"*) ok "show --json keeps the subject exact" ;;
*) fail "show --json changed the subject: $subj" ;;
esac
daemon_stop
echo "hostile-names: $T_COUNT passed, 0 failed"
