#!/bin/sh
# Issue 12 items 4 and 5, the watched directory: a user who can write into
# a watched directory plants symlinks to a root-only (0600) certificate,
# at the first scan and later (an inotify event).  The scanner must not
# read them: a socket reader's "list --all" shows no subject or serial of
# it, and each is reported as "skipped".  Links root owns, and a user's
# link to the user's own file, are still followed.  A FIFO the user
# plants is never opened (a writer blocked on it stays blocked).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/unpriv-lib.sh"
need openssl jq

unpriv_user A w		# writes into the watched directory
unpriv_user R r		# a socket reader
mkcert() {	# mkcert CN OUT
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout /dev/null -subj "/CN=$1" -days 30 -out "$2" 2>/dev/null
}
serial() { openssl x509 -in "$1" -noout -serial | sed 's/.*=//'; }

mkdir -p "$T/secret" "$T/w" "$T/own" "$T/sys"
mkcert root-only-secret "$T/secret/root.pem"
mkcert root-only-later "$T/secret/later.pem"
chmod 600 "$T/secret/root.pem" "$T/secret/later.pem"
mkcert users-own "$T/own/own.pem"
mkcert root-linked "$T/sys/sys.pem"
chown -R "$A:$A" "$T/own"
chown "$A:$A" "$T/w"
s1=$(serial "$T/secret/root.pem")
s2=$(serial "$T/secret/later.pem")

as "$A" ln -s "$T/secret/root.pem" "$T/w/stolen.pem"
as "$A" ln -s "$T/own/own.pem" "$T/w/own.pem"
ln -s "$T/sys/sys.pem" "$T/w/sys.pem"

cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0660
socket_group = $R
log_level = debug
[watch w]
path = $T/w
EOT
daemon_start "$T/conf"
follow_start
list() { as "$R" "$CERTVIGIL" -S "$D_SOCK" list --json --all; }
ev() {	# the events streamed about path $1, as "kind: message" lines
	jq -r --arg p "$T/w/$1" 'select(.path == $p) | .kind + ": " +
	    (.message // "")' "$T/events.jsonl"
}

l=$(list)
case $l in *root-only-secret*|*"$s1"*)
	fail "a reader sees the root-only certificate: $l" ;; esac
ok "first scan: the planted link's target is not read"
wait_event "stolen.pem" 10
assert_match "the planted link is reported" \
    "^skipped: a symlink owned by uid $(id -u "$A") to a file of uid 0" \
    "$(ev stolen.pem)"
assert_match "the user's link to its own file is read" "users-own" "$l"
assert_match "root's link is read" "root-linked" "$l"

# Later, through inotify: the parse path, not the walk.
as "$A" ln -s "$T/secret/later.pem" "$T/w/later.pem"
wait_event "later.pem.*skipped|skipped.*later.pem" 10
l=$(list)
case $l in *root-only-later*|*"$s2"*)
	fail "a reader sees the root-only certificate planted later" ;; esac
ok "planted after start: not read either"

# A FIFO the user plants: never opened (its writer would be let through).
as "$A" mkfifo "$T/w/fifo.pem"
( exec 3>"$T/w/fifo.pem"; echo opened > "$T/opened" ) &
WPID=$!
T_PIDS="$T_PIDS $WPID"
wait_event "fifo.pem.*skipped|skipped.*fifo.pem" 10
cv rescan >/dev/null
wait_line "$T/daemon.log" "scan finished" 30 || fail "no rescan"
[ ! -e "$T/opened" ] || fail "the daemon opened the FIFO"
ok "the planted FIFO was never opened"
kill "$WPID" 2>/dev/null || true
cv status >/dev/null
daemon_stop
echo "unpriv-scan: $T_COUNT passed, 0 failed"
