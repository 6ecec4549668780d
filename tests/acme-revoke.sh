#!/bin/sh
# Issue 17: certvigil revoke.  nginx bound to an [issuer acme] (pebble,
# http-01 by webroot) serves a pebble certificate; "revoke web --reason
# keyCompromise" revokes it at pebble (its management API says Revoked,
# reason 1), records a "revoked" event and renews the binding at once:
# nginx then serves a new pebble certificate.  Revoking the old one again
# by SHA-1 is the CA's alreadyRevoked, exit 1.  Refused without asking the
# CA: a certificate certvigil did not issue, a binding of a local issuer,
# an unknown SHA-1, a bad reason; and a reader may not revoke.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"

# status_of SERIAL_HEX: pebble's word on a certificate ("Valid"/"Revoked").
status_of() {
	pebble_get "/cert-status-by-serial/$1" | jq -r .Status
}
serial_of() {
	openssl x509 -in "$1" -noout -serial | sed 's/.*=//' | tr 'A-F' 'a-f'
}

command -v setpriv >/dev/null && command -v useradd >/dev/null ||
    skip "needs setpriv and useradd"
# Names unique to this run: other tests create users concurrently.
U_RD="cvt$$r" G_RD="cvt$$gr"
users_cleanup() {
	userdel "$U_RD" 2>/dev/null || true
	groupdel "$G_RD" 2>/dev/null || true
}
trap 'users_cleanup; renew_cleanup' EXIT	# renew_cleanup: nginx, then t_cleanup
groupadd "$G_RD"
useradd -M -N -g "$G_RD" -s /usr/sbin/nologin "$U_RD"
as_reader() {
	setpriv --reuid="$(id -u "$U_RD")" \
	    --regid="$(getent group "$G_RD" | cut -d: -f3)" --clear-groups \
	    "$CERTVIGIL" -S "$D_SOCK" "$@"
}
chmod 755 "$T"

acme_setup
cp "$T/live/web.pem" "$T/live/other.pem"
cp "$T/live/web.key" "$T/live/other.key"
acme_conf
cat >>"$T/conf" <<EOT

[binding other]
ipport = 127.0.0.1:1
appid = {4dc3e181-e14b-4a21-b022-59fc669b0915}
issuer = local
cert_file = $T/live/other.pem
key_file = $T/live/other.key
subject = CN=localhost
EOT
{ printf '[daemon]\nsocket_mode = 0660\nsocket_group = %s\n\n' "$G_RD"
  cat "$T/conf"; } >"$T/conf.new" && mv "$T/conf.new" "$T/conf"
daemon_start "$T/conf"
orders0=$(new_orders)

# Refusals: nothing reaches the CA.
first=$(served)
run_status rc cv revoke web 2>"$T/err"
assert_eq "revoke of a certificate certvigil did not issue: exit 1" 1 "$rc"
assert_match "... says so" "not an ACME certificate .*not in the store" \
    "$(cat "$T/err")"
run_status rc cv revoke other 2>"$T/err"
assert_eq "revoke of a local issuer's binding: exit 1" 1 "$rc"
assert_match "... says so" "not an ACME certificate .*issuer local is of type local" \
    "$(cat "$T/err")"
run_status rc cv revoke 0123456789abcdef0123456789abcdef01234567 2>"$T/err"
assert_eq "revoke of an unknown SHA-1: exit 1" 1 "$rc"
assert_match "... says so" "not an ACME certificate" "$(cat "$T/err")"
run_status rc cv revoke web --reason sloppiness 2>"$T/err"
assert_eq "revoke with a bad reason: exit 1" 1 "$rc"
assert_match "... lists the reasons" "reason 'sloppiness' is not one of .*keyCompromise" \
    "$(cat "$T/err")"
run_status rc cv revoke nosuch 2>"$T/err"
assert_eq "revoke of an unknown binding: exit 1" 1 "$rc"
assert_eq "served certificate unchanged by the refusals" "$first" "$(served)"
assert_eq "no renewal started by the refusals" 0 \
    "$(cv renewals --json | jq length)"

# A reader (socket_group, not admin_group) is refused by the socket.
assert_match "a reader may not revoke" "changes the daemon's state: root or the admin group only" \
    "$(as_reader revoke web 2>&1)"

# The real thing: a pebble certificate, revoked.
run_status rc cv renew web --now --wait
assert_eq "renew --now --wait exits 0" 0 "$rc"
chains_to_pebble || fail "nginx does not serve a pebble certificate"
old=$(served)
cp "$T/served-leaf.pem" "$T/old.pem"
serial=$(serial_of "$T/old.pem")
assert_eq "pebble: valid before" Valid "$(status_of "$serial")"
follow_start
run_status rc cv revoke --json web --reason keyCompromise >"$T/out" 2>"$T/err"
cat "$T/err" >&2
assert_eq "revoke web: exit 0" 0 "$rc"
assert_eq "reply: the served certificate" "$old" "$(jq -r .sha1 "$T/out")"
assert_eq "reply: the reason" keyCompromise "$(jq -r .reason "$T/out")"
assert_eq "reply: the binding" web "$(jq -r .binding "$T/out")"
id=$(jq -r .renewal "$T/out")
assert_match "reply: a renewal id" '^[0-9]+$' "$id"
assert_eq "pebble: revoked" Revoked "$(status_of "$serial")"
assert_eq "pebble: reason keyCompromise (1)" 1 \
    "$(pebble_get "/cert-status-by-serial/$serial" | jq -r .Reason)"
wait_event "\"revoked\".*$old" 30
assert_match "the event says the issuer and reason" \
    "web: revoked by issuer acme \\(reason keyCompromise\\)" \
    "$(grep '"revoked"' "$T/events.jsonl")"
assert_eq "the renewal's reason" revoked \
    "$(cv renewals --json | jq -r --argjson id "$id" '.[] | select(.id == $id) | .reason')"
wait_renewal "$id"
assert_eq "the renewal is done" done \
    "$(cv renewals --json | jq -r --argjson id "$id" '.[] | select(.id == $id) | .state')"
new=$(served)
[ "$new" != "$old" ] || fail "nginx still serves the revoked certificate"
chains_to_pebble || fail "the new certificate does not chain to pebble"
assert_eq "pebble: the new one is valid" Valid \
    "$(status_of "$(serial_of "$T/served-leaf.pem")")"
ok "revoked at pebble, renewed, nginx serves a new pebble certificate"
assert_eq "two orders in all" $((orders0 + 2)) "$(new_orders)"

# Twice: the CA's reason, exit 1, nothing renewed (no binding serves it).
n=$(cv renewals --json | jq length)
run_status rc cv revoke "$old" --reason superseded 2>"$T/err"
assert_eq "revoking again: exit 1" 1 "$rc"
assert_match "the CA's problem, whole" \
    "urn:ietf:params:acme:error:alreadyRevoked: " "$(cat "$T/err")"
assert_eq "one line" 1 "$(wc -l <"$T/err")"
assert_eq "no renewal for a refused revocation" "$n" \
    "$(cv renewals --json | jq length)"
assert_eq "nginx still serves the new certificate" "$new" "$(served)"

# A client that hangs up before the CA answered: the revocation still
# happens (event, renewal) and the daemon, which must not write to the
# closed client, goes on serving.
python3 - "$D_SOCK" "$new" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((json.dumps({"v": 1, "cmd": "revoke",
    "args": {"target": sys.argv[2], "reason": "superseded"}}) + "\n").encode())
s.close()
PY
wait_event "\"revoked\".*$new" 30
id=$(cv renewals --json | jq -r '.[-1].id')
assert_eq "renewal for the hung-up client's revocation" revoked \
    "$(cv renewals --json | jq -r '.[-1].reason')"
wait_renewal "$id"
pid_alive "$D_PID" || fail "certvigild died"
cv status >/dev/null || fail "certvigild does not answer"
serial=$(serial_of "$T/served-leaf.pem")
assert_eq "pebble: revoked for the hung-up client" Revoked "$(status_of "$serial")"
assert_eq "pebble: reason superseded (4)" 4 \
    "$(pebble_get "/cert-status-by-serial/$serial" | jq -r .Reason)"
daemon_stop
echo "acme-revoke: passed"
