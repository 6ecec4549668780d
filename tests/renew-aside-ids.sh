#!/bin/sh
# Issue 12 item 11: the copies a renewal moves aside (FILE.certvigil-ID)
# are what its rollback puts back, so pruning never deletes the running
# renewal's set, and ranks the others by when they were moved aside, not
# by renewal id: ids start over with a new inventory.db, and the service
# user who owns the deploy directory can name files as it likes.  Here
# that user plants five copies with huge ids, and inventory.db is deleted
# between two renewals so the second one's id collides with the first's
# aside copy; the second must still roll back to what was deployed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (creates a user)"
command -v setpriv >/dev/null && command -v useradd >/dev/null ||
    skip "needs setpriv and useradd"

U_SVC="cvt$$s"
trap 'userdel "$U_SVC" 2>/dev/null || true; t_cleanup' EXIT
useradd -M -U -s /usr/sbin/nologin "$U_SVC"
as_svc() {
	setpriv --reuid="$(id -u "$U_SVC")" --regid="$(id -g "$U_SVC")" \
	    --clear-groups "$@"
}

renew_setup
renew_conf "owner = $U_SVC"
chmod 755 "$T"
chown "$U_SVC" "$T/live"
daemon_start "$T/conf"
follow_start
orig=$(file_sha1 "$T/live/web.pem")
renew_and_wait
assert_eq "renewal 1 done" done "$(echo "$R" | jq -r .state)"
assert_eq "renewal 1: the original is aside" "$orig" \
    "$(file_sha1 "$T/live/web.pem.certvigil-1")"
cur=$(file_sha1 "$T/live/web.pem")

# A new inventory: renewal ids start over at 1.
daemon_stop
kill "$F_PID" 2>/dev/null || true
rm -f "$D_STATE"/inventory.db*
daemon_start "$T/conf"
follow_start
# The service user plants newer-looking copies.
as_svc sh -c 'for i in 0 1 2 3 4; do
	echo junk > "$1/web.pem.certvigil-9999999$i"
	echo junk > "$1/web.key.certvigil-9999999$i"
done' sh "$T/live" || fail "the service user could not write its directory"

touch "$T/fail-start"
renew_and_wait
assert_eq "the new inventory's first renewal is id 1" 1 "$(echo "$R" | jq -r .id)"
assert_eq "start failed: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
assert_eq "rollback put back what was deployed, not the older copy" "$cur" \
    "$(file_sha1 "$T/live/web.pem")"
assert_eq "nginx serves it" "$cur" "$(served)"
[ "$(cat "$T/live/web.key")" != junk ] || fail "a planted key came back"
ok "the key is the deployed one"
daemon_stop
echo "renew-aside-ids: $T_COUNT passed, 0 failed"
