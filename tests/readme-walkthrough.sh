#!/bin/sh
# Issue 13 items 11 and 12: README's "Renewing a certificate behind nginx"
# run as written (its blocks cut out of README; /etc/ moved into the
# test's directory, nginx and its port from renew-lib.sh).
#  - step 1 on a fresh machine: ca init and ca issue create the missing
#    /etc/certvigil and /etc/nginx/ssl (0700: they get keys), and a
#    writer's error names the file once;
#  - the first certificate has 397 days, the issuer's days = 90 gives the
#    renewed one 90: with alert_before = 100d the live (renewed)
#    certificate alerts, and the 397-day one moved aside as
#    web.pem.certvigil-ID does not supersede it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
[ "$(id -u)" = 0 ] || skip "README's binding has owner = root"

renew_setup
"$T/stop.sh"
readme="$top_srcdir/README"

# Step 1, as written.
sed -n '/^1\. A local CA and nginx/,/^   nginx\.conf:/p' "$readme" |
    sed -n 's/^       //p' |
    sed "s|/etc/|$T/etc/|g; s|^certvigil |\"\$CERTVIGIL\" |" > "$T/step1.sh"
grep -q 'ca init' "$T/step1.sh" && grep -q 'ca issue' "$T/step1.sh" ||
    fail "README step 1 not found"
[ ! -e "$T/etc" ] || fail "fixture: $T/etc exists"
rc=0
CERTVIGIL=$CERTVIGIL sh -e "$T/step1.sh" > "$T/step1.out" 2>&1 || rc=$?
[ $rc = 0 ] || cat "$T/step1.out" >&2
assert_eq "README step 1 runs on a fresh machine" 0 "$rc"
assert_eq "/etc/certvigil created for a key: 0700" 700 "$(stat -c %a "$T/etc/certvigil")"
assert_eq "/etc/nginx/ssl created for a key: 0700" 700 "$(stat -c %a "$T/etc/nginx/ssl")"
assert_eq "/etc/nginx created above it: 0755" 755 "$(stat -c %a "$T/etc/nginx")"
lifetime() {
	_nb=$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)
	_na=$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)
	echo $(( ($(date -d "$_na" +%s) - $(date -d "$_nb" +%s)) / 86400 ))
}
assert_eq "the first certificate lives 397 days" 397 "$(lifetime "$T/etc/nginx/ssl/web.pem")"

# A writer that cannot write names the file once.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	chmod 755 "$T"
	mkdir -m 755 "$T/ro"
	msg=$(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" \
	    --clear-groups "$CERTVIGIL" ca init --cn x --out-cert "$T/ro/ca.pem" \
	    --out-key "$T/ro/ca.key" 2>&1 || true)
	assert_match "the error says what failed" "ca\.key: create temporary file" "$msg"
	assert_eq "the error names the file once" 1 \
	    "$(printf '%s\n' "$msg" | grep -o "ro/ca\.key" | wc -l)"
	chmod 700 "$T"
fi

# nginx serves README's files.
sed -i "s|$T/live/|$T/etc/nginx/ssl/|g" "$T/nginx/nginx.conf" "$T/nginx/nginx-plain.conf"
"$T/start.sh" || fail "nginx did not start on README's files"

# Step 2's configuration, as written, and alert_before past the renewed
# certificate's 90 days.
sed -n '/^       \[watch nginx\]/,/^       timezone = /p' "$readme" |
    sed 's/^       //' |
    sed "s|/etc/|$T/etc/|g; s|^ipport = .*|ipport = 127.0.0.1:$NGX_PORT|;
	s|^stop = .*|stop = $T/stop.sh|; s|^start = .*|start = $T/start.sh|;
	s|^path = \(.*\)|path = \1\nalert_before = 100d|" > "$T/conf"
grep -q '^days = 90' "$T/conf" || fail "README step 2 not found"
daemon_start "$T/conf"
follow_start
old=$(file_sha1 "$T/etc/nginx/ssl/web.pem")
assert_eq "nginx serves the first certificate" "$old" "$(served)"

# Step 4.
rc=0
cv renew web --now --wait > "$T/renew.out" 2>&1 || rc=$?
[ $rc = 0 ] || cat "$T/renew.out" "$D_LOG" >&2
assert_eq "renew web --now --wait" 0 "$rc"
new=$(file_sha1 "$T/etc/nginx/ssl/web.pem")
assert_eq "nginx serves the renewed certificate" "$new" "$(served)"
assert_eq "the renewed one lives 90 days" 90 "$(lifetime "$T/etc/nginx/ssl/web.pem")"
assert_eq "the old one kept aside" "$old" "$(file_sha1 "$T/etc/nginx/ssl/web.pem.certvigil-1")"
wait_event "\"kind\":\"alert\".*\"sha1\":\"$new\"" 20
ok "the live certificate alerts (90 days, alert_before = 100d)"
cv list --json --all > "$T/list.json"
assert_match "the live certificate is not superseded" "^(valid|expiring)$" \
    "$(jq -r --arg s "$new" '.[] | select(.sha1 == $s) | .state' "$T/list.json")"
assert_eq "the aside copy's certificate is" superseded \
    "$(jq -r --arg s "$old" '.[] | select(.sha1 == $s) | .state' "$T/list.json")"

daemon_stop
echo "readme-walkthrough: $T_COUNT passed, 0 failed"
