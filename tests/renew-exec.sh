#!/bin/sh
# [issuer] type = exec: a script signs the CSR with certvigil ca issue and
# the renewal completes; its stderr and exit status are recorded.  An exec
# issuer that exits non-zero fails the renewal before stopping: nothing
# is touched, and the status and stderr are in renewals --json.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
cat > "$T/issue.sh" <<EOT
#!/bin/sh
echo "signing for \$CERTVIGIL_BINDING (\$CERTVIGIL_PURPOSE, \$CERTVIGIL_ENDPOINT)" >&2
if [ -e "$T/fail-issue" ]; then echo "CA says no (test)" >&2; exit 3; fi
exec "$CERTVIGIL" ca issue --csr "\$CERTVIGIL_CSR" --ca-cert "$T/ca/ca.pem" \\
    --ca-key "$T/ca/ca.key" --san DNS:localhost,IP:127.0.0.1 \\
    --purpose "\$CERTVIGIL_PURPOSE" --days 30 --out-cert "\$CERTVIGIL_CERT_OUT"
EOT
chmod +x "$T/issue.sh"
renew_conf
sed -i 's/^issuer = local$/issuer = script/' "$T/conf"
cat >> "$T/conf" <<EOT

[issuer script]
type = exec
command = "$T/issue.sh"
ca_file = $T/ca/ca.pem
timeout = 30s
EOT
old=$(file_sha1 "$T/live/web.pem")
daemon_start "$T/conf"
follow_start

renew_and_wait
assert_eq "exec issuer: renewal done" done "$(echo "$R" | jq -r .state)"
assert_eq "exec issuer: steps" \
    "due issuing awaiting_certificate issued stopping unbinding binding starting verifying done" \
    "$(echo "$R" | jq -r '[.steps[].state] | join(" ")')"
new=$(echo "$R" | jq -r .new_sha1)
[ "$new" != "$old" ] && [ -n "$new" ] || fail "no new certificate"
assert_eq "nginx serves the exec issuer's certificate" "$new" "$(served)"
assert_match "issuer's exit status and stderr recorded" \
    "exit 0: signing for web \\(server, 127\\.0\\.0\\.1:$NGX_PORT\\)" \
    "$(echo "$R" | jq -r '.steps[] | select(.state == "awaiting_certificate") | .detail')"
[ -e "$D_STATE/store/$new.key" ] || fail "the new key is not in the store"
ok "the key (made by certvigild, never seen by the issuer) is in the store"

# A failing exec issuer: nothing is touched.
touch "$T/fail-issue"
sum=$(md5sum "$T/live/web.pem" "$T/live/web.key")
renew_and_wait
assert_eq "failing exec issuer: failed" failed "$(echo "$R" | jq -r .state)"
assert_eq "failing exec issuer: stopped before stopping" "due issuing failed" \
    "$(echo "$R" | jq -r '[.steps[].state] | join(" ")')"
assert_match "exit status in the error" "exit 3" "$(echo "$R" | jq -r .error)"
assert_match "stderr in the error" "CA says no \\(test\\)" "$(echo "$R" | jq -r .error)"
assert_eq "files untouched" "$sum" "$(md5sum "$T/live/web.pem" "$T/live/web.key")"
nginx_running || fail "nginx was stopped"
ok "nginx left running"
assert_eq "nginx still serves the current certificate" "$new" "$(served)"
[ ! -e "$T/live/web.pem.certvigil-$_id" ] && [ ! -e "$T/live/web.key.certvigil-$_id" ] ||
    fail "files moved aside"
ok "nothing moved aside"
assert_match "next attempt scheduled" '^[0-9]' \
    "$(cv binding show --json | jq -r '.[0].next_renewal')"

daemon_stop
echo "renew-exec: $T_COUNT passed, 0 failed"
