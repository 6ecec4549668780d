#!/bin/sh
# Issue 12 item 1: reuse_key = yes, and the service user who owns the
# deploy directory replaces key_file with a symlink to the local CA's key.
# The renewal must not certify nor deploy that key (which would be chowned
# to the user): the key comes from the daemon's store (the set of the
# binding's certhash), else from key_file only when it is a regular file
# with one link that matches cert_file -- else a new key, said in the
# renewal's detail.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
U_THEN=renew_cleanup
. "$top_srcdir/tests/unpriv-lib.sh"

unpriv_user A s		# the service user owning the deploy directory
renew_setup
renew_conf "owner = $A" "group = $A"
sed -i 's/^key_type = ec$/key_type = ec\nreuse_key = yes/' "$T/conf"
chown "$A:$A" "$T/live"
chmod 600 "$T/ca/ca.key"
pub() { openssl pkey -in "$1" -pubout 2>/dev/null | sha256sum | cut -c1-16; }
certpub() { openssl x509 -in "$1" -noout -pubkey | sha256sum | cut -c1-16; }
CA_PUB=$(pub "$T/ca/ca.key")

daemon_start "$T/conf"
follow_start

# 1. Nothing in the store yet: key_file is all there is, and it is a link.
as "$A" rm "$T/live/web.key"
as "$A" ln -s "$T/ca/ca.key" "$T/live/web.key"
renew_and_wait
assert_eq "renewal 1 done" done "$(echo "$R" | jq -r .state)"
[ ! -L "$T/live/web.key" ] || fail "the symlink is still there"
K1=$(pub "$T/live/web.key")
[ "$K1" != "$CA_PUB" ] || fail "the CA's key was deployed to the service user"
[ "$(certpub "$T/live/web.pem")" != "$CA_PUB" ] ||
	fail "a certificate was issued for the CA's key"
ok "a symlinked key_file: neither certified nor deployed"
got=$(as "$A" cat "$T/live/web.key" | openssl pkey -pubout 2>/dev/null |
    sha256sum | cut -c1-16)
[ "$got" != "$CA_PUB" ] || fail "the service user reads the CA key"
ok "the service user cannot read the CA key through what was deployed"
cv renewals --json | jq -r '.[-1].steps[]?.detail // empty' > "$T/details"
grep -q "reuse_key:.*symlink" "$T/details" || grep -q "reuse_key:.*symlink" \
    "$T/daemon.log" || fail "no word of the refused key_file"
ok "the refusal is reported"

# 2. The store has the set of the certhash: its key is reused, whatever
#    key_file became.
as "$A" rm "$T/live/web.key"
as "$A" ln -s "$T/ca/ca.key" "$T/live/web.key"
renew_and_wait
assert_eq "renewal 2 done" done "$(echo "$R" | jq -r .state)"
assert_eq "renewal 2 reused the key from the store" "$K1" \
    "$(certpub "$T/live/web.pem")"

# 3. Store without keys (a state dir restored without them): key_file, a
#    regular file matching cert_file, is reused.
rm -f "$D_STATE"/store/*.key
renew_and_wait
assert_eq "renewal 3 done" done "$(echo "$R" | jq -r .state)"
assert_eq "renewal 3 reused a genuine key_file" "$K1" \
    "$(certpub "$T/live/web.pem")"
assert_eq "nginx serves the last one" "$(file_sha1 "$T/live/web.pem")" "$(served)"
daemon_stop
echo "unpriv-reuse-key: $T_COUNT passed, 0 failed"
