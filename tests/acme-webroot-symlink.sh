#!/bin/sh
# The ACME webroot belongs to the web service's user (here a user made
# for the run), who plays the attack for real: between two renewals it
# replaces .well-known, then acme-challenge, with a symlink to a
# directory root owns.  The daemon (root) must make no directory and
# write no token there: the renewal fails before stopping with one line
# naming the symlink, nginx untouched.  A webroot of the user's own with
# real directories works (the first renewal).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"
U_THEN=renew_cleanup
. "$top_srcdir/tests/unpriv-lib.sh"

unpriv_user W w		# the web service's user, owner of the webroot
acme_setup
acme_conf
chown "$W:$W" "$T/webroot"
chmod 755 "$T/webroot"
# What root owns and the web user may only read: the symlinks' target.
mkdir -m 755 "$T/rootdir"
daemon_start "$T/conf"

run_status rc cv renew web --now --wait
assert_eq "renewal in the web user's webroot done" 0 "$rc"
assert_eq "challenge directory made 0755" 755 \
    "$(stat -c %a "$T/webroot/.well-known/acme-challenge")"

# attack WHAT: renew with the symlink planted; the renewal must fail
# before stopping, naming WHAT, with nothing made in $T/rootdir.
attack() {
	master=$(cat "$T/nginx/nginx.pid")
	before=$(served)
	run_status rc cv renew web --now --wait
	assert_eq "$1: nothing made or written in root's directory" "" \
	    "$(find "$T/rootdir" -mindepth 1)"
	[ "$rc" != 0 ] || fail "$1: renew --wait exit 0"
	R=$(cv renewals --json | jq '.[-1]')
	assert_eq "$1: renewal failed" failed "$(echo "$R" | jq -r .state)"
	assert_match "$1: the journal names the symlink" \
	    "$T/webroot/$1: a symlink \\(owned by uid $(id -u "$W")\\): not followed" \
	    "$(echo "$R" | jq -r .error)"
	assert_eq "$1: one line" 1 "$(echo "$R" | jq -r .error | wc -l)"
	echo "$R" | jq -r '.steps[].state' | grep -q stopping &&
	    fail "$1: it went as far as stopping"
	assert_eq "$1: nginx master untouched" "$master" \
	    "$(cat "$T/nginx/nginx.pid")"
	assert_eq "$1: nginx serves what it served" "$before" "$(served)"
}

# 1. .well-known (root's directory, in the user's webroot) moved aside
# and replaced with a symlink.
as "$W" mv "$T/webroot/.well-known" "$T/webroot/old"
as "$W" ln -s "$T/rootdir" "$T/webroot/.well-known"
attack .well-known

# 2. .well-known the user's own, acme-challenge a symlink in it.
as "$W" rm "$T/webroot/.well-known"
as "$W" mkdir "$T/webroot/.well-known"
as "$W" ln -s "$T/rootdir" "$T/webroot/.well-known/acme-challenge"
attack .well-known/acme-challenge

daemon_stop
echo "acme-webroot-symlink: passed"
