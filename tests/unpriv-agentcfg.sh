#!/bin/sh
# Issue 12 item 2: the agent's user owns the directory of config.ini and
# replaces config.ini with a symlink to a root-only file (standing for
# /etc/shadow).  Neither the daemon's [client] renewal nor deploy-client
# may write through it: each refuses with a line naming the file, and the
# target is unchanged.  deploy-client's private/ directory made a symlink
# (to a root directory) is refused too, and nothing lands there; so is
# an ancestor of it the user swapped for one.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
U_THEN=renew_cleanup
. "$top_srcdir/tests/unpriv-lib.sh"

unpriv_user A g		# the agent's user
renew_setup mtls
mkdir -p "$T/dev" "$T/agent" "$T/etc"
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn device1 --purpose client --days 30 --out-key "$T/dev/client.key" \
    --out-cert "$T/dev/client.pem" >/dev/null
printf 'root:$6$salt$hash:19000:0:99999:7:::\n' > "$T/etc/shadow"
chmod 600 "$T/etc/shadow"
before=$(sha256sum < "$T/etc/shadow")
printf '[ManageSoft\\Common]\nKeep=1\n' > "$T/agent/config.ini"
chown -R "$A:$A" "$T/agent"
as "$A" rm "$T/agent/config.ini"
as "$A" ln -s "$T/etc/shadow" "$T/agent/config.ini"

renew_conf
cat >> "$T/conf" <<EOT

[client dev]
issuer = local
cert_file = $T/dev/client.pem
key_file = $T/dev/client.key
subject = CN=device1
beacon = 127.0.0.1:$NGX_PORT
agent_config = $T/agent/config.ini
ca_file = $T/ca/ca.pem
verify_timeout = 15s
EOT
daemon_start "$T/conf"
follow_start
cv renew dev --now >/dev/null
wait_event '"renewal_(done|failed)"|"rolled_back"' 180
r=$(cv renewals --json | jq -c '[.[] | select(.binding == "dev")][-1]')
[ "$(echo "$r" | jq -r .state)" != done ] ||
	fail "the renewal wrote through the symlinked config.ini"
assert_eq "[client] renewal: the target is unchanged" "$before" \
    "$(sha256sum < "$T/etc/shadow")"
assert_match "[client] renewal: the refusal names config.ini" \
    "$T/agent/config.ini: a symlink" "$r"
daemon_stop

# deploy-client, run by root.
run_status st "$CERTVIGIL" deploy-client --cert "$T/dev/client.pem" \
    --key "$T/dev/client.key" --cert-path "$T/out/client.pem" \
    --key-path "$T/out/private/client.key" \
    --agent-config "$T/agent/config.ini" 2>"$T/err"
[ "$st" != 0 ] || fail "deploy-client wrote through the symlinked config.ini"
assert_eq "deploy-client: the target is unchanged" "$before" \
    "$(sha256sum < "$T/etc/shadow")"
assert_eq "deploy-client: one line" 1 "$(wc -l < "$T/err")"
assert_match "deploy-client: the line names the file" \
    "$T/agent/config.ini: a symlink" "$(cat "$T/err")"

# private/ a symlink to a root directory.
mkdir -p "$T/ssl/client" "$T/rootdir"
chown "$A:$A" "$T/ssl/client"
as "$A" ln -s "$T/rootdir" "$T/ssl/client/private"
run_status st "$CERTVIGIL" deploy-client --cert "$T/dev/client.pem" \
    --key "$T/dev/client.key" --cert-path "$T/ssl/client/client.pem" \
    --key-path "$T/ssl/client/private/client.key" 2>"$T/err"
[ "$st" != 0 ] || fail "deploy-client wrote into a symlinked private/"
assert_eq "private/ a symlink: nothing written through it" "" \
    "$(ls -A "$T/rootdir")"
assert_match "private/ a symlink: refused, named" \
    "$T/ssl/client/private: a symlink" "$(cat "$T/err")"

# An ancestor of private/ (client/, in a directory the user owns) a
# symlink to a root directory that has a private/ of its own: nothing
# may be made or written anywhere under it.
mkdir -p "$T/ssl2" "$T/rootdir2/private"
chown "$A:$A" "$T/ssl2"
as "$A" ln -s "$T/rootdir2" "$T/ssl2/client"
run_status st "$CERTVIGIL" deploy-client --cert "$T/dev/client.pem" \
    --key "$T/dev/client.key" --cert-path "$T/out2/client.pem" \
    --key-path "$T/ssl2/client/private/client.key" 2>"$T/err"
[ "$st" != 0 ] || fail "deploy-client wrote through a symlinked client/"
assert_eq "client/ a symlink: nothing written under it" "private" \
    "$(ls -A "$T/rootdir2")"
assert_eq "client/ a symlink: root's private/ left empty" "" \
    "$(ls -A "$T/rootdir2/private")"
assert_eq "client/ a symlink: one line" 1 "$(wc -l < "$T/err")"
assert_match "client/ a symlink: refused, named" \
    "$T/ssl2/client: a symlink \\(owned by uid $(id -u "$A")\\): not followed" \
    "$(cat "$T/err")"
echo "unpriv-agentcfg: $T_COUNT passed, 0 failed"
