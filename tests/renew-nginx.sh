#!/bin/sh
# renew --now swaps nginx's certificate through every step; a failing
# issuer touches nothing; a failing start rolls back to the old one.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
# The deployed files belong to the service's user when the binding says so.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null; then
	renew_conf "owner = nobody" "group = nogroup"
	owner=nobody:nogroup
else
	renew_conf
	owner=$(id -un):$(id -gn)
fi
old=$(file_sha1 "$T/live/web.pem")
assert_eq "nginx serves the first certificate" "$old" "$(served)"

daemon_start "$T/conf"
follow_start
assert_eq "binding show --json: certhash" "$old" \
    "$(cv binding show --json | jq -r '.[0].certhash')"
cv binding show | grep -q "Certificate Hash *: $(echo "$old" | tr a-f A-F)" ||
    fail "binding show: netsh-like Certificate Hash"
ok "binding show prints netsh's fields"

cv renew web --now >/dev/null
wait_event '"renewal_(done|failed)"|"rolled_back"' 180
new=$(cv renewals --json | jq -r '.[-1].new_sha1')
assert_eq "renewal done" done "$(cv renewals --json | jq -r '.[-1].state')"
assert_eq "every step journaled" \
    "due issuing issued stopping unbinding binding starting verifying done" \
    "$(cv renewals --json | jq -r '[.[-1].steps[].state] | join(" ")')"
assert_eq "old thumbprint journaled" "$old" "$(cv renewals --json | jq -r '.[-1].old_sha1')"
assert_eq "nginx serves the new certificate" "$new" "$(served)"
assert_eq "the binding names it" "$new" "$(cv binding show --json | jq -r '.[0].certhash')"
assert_eq "deployed file" "$new" "$(file_sha1 "$T/live/web.pem")"
assert_eq "key mode" 600 "$(stat -c %a "$T/live/web.key")"
assert_eq "key owner" "$owner" "$(stat -c %U:%G "$T/live/web.key")"
assert_eq "certificate owner" "$owner" "$(stat -c %U:%G "$T/live/web.pem")"
[ -e "$T/live/web.pem.certvigil-1" ] || fail "the old file was not kept aside"
ok "old files kept aside"
[ -e "$D_STATE/store/$new.pem" ] && [ "$(stat -c %a "$D_STATE/store/$new.key")" = 600 ] ||
    fail "store entry"
ok "store holds the new certificate and key (0600)"
for k in binding state old_sha1 new_sha1 error steps; do
	cv renewals --json | jq -e ".[-1] | has(\"$k\")" >/dev/null || fail "renewals lacks $k"
done
ok "renewals JSON keys"

# A failing issuer (CA key gone) touches nothing.
mv "$T/ca/ca.key" "$T/ca/ca.key.away"
cur=$(served)
sum=$(md5sum "$T/live/web.pem" "$T/live/web.key")
cv renew web --now >/dev/null
wait_event '"renewal_failed"' 90
assert_eq "failed before stopping" failed "$(cv renewals --json | jq -r '.[-1].state')"
assert_match "error recorded" "ca_key" "$(cv renewals --json | jq -r '.[-1].error')"
assert_eq "files untouched" "$sum" "$(md5sum "$T/live/web.pem" "$T/live/web.key")"
assert_eq "nginx untouched" "$cur" "$(served)"
mv "$T/ca/ca.key.away" "$T/ca/ca.key"

# A failing start rolls back: nginx serves the old certificate again.
touch "$T/fail-start"
cv renew web --now >/dev/null
wait_event '"rolled_back"' 180
assert_eq "rolled back" rolled_back "$(cv renewals --json | jq -r '.[-1].state')"
assert_match "start failure recorded" "start refused" "$(cv renewals --json | jq -r '.[-1].error')"
nginx_running || fail "nginx is not running after the rollback"
ok "nginx running after the rollback"
assert_eq "nginx serves the previous certificate" "$cur" "$(served)"
assert_eq "the binding still names it" "$cur" "$(cv binding show --json | jq -r '.[0].certhash')"

daemon_stop
echo "renew-nginx: $T_COUNT passed, 0 failed"
