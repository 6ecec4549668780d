#!/bin/sh
# The live files each renewal moves aside (FILE.certvigil-ID) are pruned:
# the newest five sets are kept per binding, as the store keeps five
# previous certificates; older ones are deleted.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
renew_conf
daemon_start "$T/conf"
follow_start
touch "$T/live/web.pem.certvigil-notanid"	# not ours: left alone
for i in 1 2 3 4 5 6 7; do
	prev=$(file_sha1 "$T/live/web.pem")
	cv renew web --now >/dev/null
	wait_event "renewal $i (done|rolled back)|renewal_failed" 180
	assert_eq "renewal $i done" done "$(cv renewals --json | jq -r '.[-1].state')"
	assert_eq "renewal $i: the previous certificate is aside" "$prev" \
	    "$(file_sha1 "$T/live/web.pem.certvigil-$i")"
done
assert_eq "five sets of certificates kept" "3 4 5 6 7" \
    "$(ls "$T/live" | sed -n 's/^web\.pem\.certvigil-\([0-9]*\)$/\1/p' | sort -n | tr '\n' ' ' | sed 's/ $//')"
assert_eq "five sets of keys kept" "3 4 5 6 7" \
    "$(ls "$T/live" | sed -n 's/^web\.key\.certvigil-\([0-9]*\)$/\1/p' | sort -n | tr '\n' ' ' | sed 's/ $//')"
[ -e "$T/live/web.pem.certvigil-notanid" ] || fail "a file not named by an id was deleted"
ok "other files left alone"
assert_eq "the store: the current certificate and five previous" 6 \
    "$(ls "$D_STATE/store" | grep -c '^[0-9a-f]\{40\}\.pem$')"
assert_eq "nginx serves the last one" "$(file_sha1 "$T/live/web.pem")" "$(served)"
daemon_stop
echo "renew-prune: $T_COUNT passed, 0 failed"
