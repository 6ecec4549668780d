#!/bin/sh
# A binding's deploy directory swapped for a symlink by the service user
# who owns the directory above it (fsutil_write_set and binding.c walk
# each deploy path's directory once, fsutil_open_deploy_dir, then work
# through its descriptor).  The user (made for the run) owns $T/srv; the
# binding deploys into $T/srv/tls, chowned to it.  Before a renewal the
# user replaces tls/ with a symlink to root's directory holding a file
# named like the key file.  The renewal must fail before anything is
# stopped or written: root's directory unchanged (nothing new, the
# sentinel intact, nothing chowned to the user), one line naming the
# directory and the reason in the journal and the events, node still
# serving the old certificate.  Then the directory put back: the next
# renewal goes through.  (A swap between two of root's steps cannot be
# timed from here; the descriptor design is what covers it, and
# check_harden's write-set cases test the walk itself.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/forms-lib.sh"
U_THEN=renew_cleanup
. "$top_srcdir/tests/unpriv-lib.sh"
need node python3 jq openssl

unpriv_user S d		# the service user
SUID=$(id -u "$S")
forms_setup
# The service's tree: $T/srv and $T/srv/tls the user's, the live files
# in tls/ (node reads the PFX from there).
mkdir -m 0755 "$T/srv"
mv "$T/live" "$T/srv/tls"
printf 'node pass\n' > "$T/node.pass"
chmod 0600 "$T/node.pass"
openssl pkcs12 -export -in "$T/srv/tls/web.pem" -inkey "$T/srv/tls/web.key" \
    -passout "file:$T/node.pass" -out "$T/srv/tls/web.pfx"
chown -R "$S:$S" "$T/srv"
chmod 0755 "$T/srv/tls"
# Root's directory, with a sentinel named like the key file.
mkdir -m 0755 "$T/rootdir"
printf 'root sentinel\n' > "$T/rootdir/web.key"
chmod 0600 "$T/rootdir/web.key"
sentinel() { stat -c '%i %s %Y %U:%G %a' "$T/rootdir/web.key"; sha1sum < "$T/rootdir/web.key"; }
SENT=$(sentinel)

PORT=$(free_port)
node_service "$PORT" "$T/srv/tls/web.pfx" "$T/node.pass"
"$T/node-start.sh" || fail "node did not start"
# The watch gives follow_start its first event; tls/ is not watched (the
# scanner's own resolution of a watch root is another matter).
{ printf '[watch ca]\npath = %s\n\n' "$T/ca"; renew_issuer_conf
  cat <<EOT; } > "$T/conf"

[binding web]
ipport = 127.0.0.1:$PORT
issuer = local
cert_file = $T/srv/tls/web.pem
key_file = $T/srv/tls/web.key
pfx_file = $T/srv/tls/web.pfx
pfx_password_file = $T/node.pass
owner = $S
group = $S
san = DNS:localhost,IP:127.0.0.1
subject = CN=localhost
stop = $T/node-stop.sh
start = $T/node-start.sh
verify_timeout = 30s
EOT
daemon_start "$T/conf"
follow_start

# The setup works: a renewal deploys into tls/, files the user's.
renew_and_wait
assert_eq "first renewal done" done "$(echo "$R" | jq -r .state)"
cur=$(file_sha1 "$T/srv/tls/web.pem")
assert_eq "node serves the deployed certificate" "$cur" "$(served_at "$PORT")"
assert_eq "the key is the service user's" "$S" "$(stat -c %U "$T/srv/tls/web.key")"

# The attack: tls/ swapped for a link to root's directory.
NODE_PID=$(cat "$T/node.pid")
as "$S" mv "$T/srv/tls" "$T/srv/tls.orig"
as "$S" ln -s "$T/rootdir" "$T/srv/tls"
[ "$(stat -c %U "$T/srv/tls")" = "$S" ] || fail "the link is not the user's"
renew_and_wait
err=$(echo "$R" | jq -r .error)
echo "# error: $err"
assert_eq "nothing new in root's directory" "web.key" "$(ls -A "$T/rootdir")"
assert_eq "the sentinel unchanged" "$SENT" "$(sentinel)"
assert_eq "no file in root's directory is the user's" "" \
    "$(find "$T/rootdir" -user "$S")"
assert_match "renewal failed before stopping (or rolled back)" \
    '^(failed|rolled_back)$' "$(echo "$R" | jq -r .state)"
assert_match "the error names the directory and the reason" \
    "$T/srv/tls: a symlink \\(owned by uid $SUID\\): not followed" "$err"
assert_eq "the error is one line" 1 "$(printf '%s\n' "$err" | wc -l)"
grep -q "renewal_failed.*$T/srv/tls: a symlink (owned by uid $SUID): not followed" \
    "$T/events.jsonl" || grep -q "rolled back.*$T/srv/tls: a symlink" \
    "$T/events.jsonl" || fail "no event names the directory and the reason"
ok "an event names the directory and the reason"
assert_eq "node still serves the old certificate" "$cur" "$(served_at "$PORT")"
assert_eq "node was never stopped" "$NODE_PID" "$(cat "$T/node.pid")"
assert_eq "the user's files untouched" "$cur" "$(file_sha1 "$T/srv/tls.orig/web.pem")"

# The directory back: the renewal goes through.
as "$S" rm "$T/srv/tls"
as "$S" mv "$T/srv/tls.orig" "$T/srv/tls"
# renew_and_wait would take the failure above for this one's end.
cv renew web --now >/dev/null
_id=$(cv renewals --json | jq -r '.[-1].id')
wait_event "renewal $_id (done|rolled back)" 180
R=$(cv renewals --json | jq '.[-1]')
assert_eq "renewal after the directory is back done" done \
    "$(echo "$R" | jq -r .state)"
new=$(file_sha1 "$T/srv/tls/web.pem")
[ "$new" != "$cur" ] || fail "the certificate did not change"
assert_eq "node serves the new certificate" "$new" "$(served_at "$PORT")"
assert_eq "root's directory still untouched" "$SENT" "$(sentinel)"

daemon_stop
echo "renew-deploy-dirlink: $T_COUNT passed, 0 failed"
