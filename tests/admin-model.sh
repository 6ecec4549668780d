#!/bin/sh
# Issue 12 item 3: the admin group tunes renewals, root alone chooses what
# root runs and writes.  A real admin_group member (setpriv, its own uid
# and groups) may rescan, reload and change the tuning keys of run-time
# bindings; it is refused command keys (stop, start, reload), path keys
# (cert_file, key_file, ...), owner/group/mode, and any change to a
# binding declared in the config.  A socket_group reader is refused every
# change.  admin_may_run_commands = yes makes the admin root's equal.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq
[ "$(id -u)" = 0 ] || skip "needs root (creates users)"
command -v setpriv >/dev/null && command -v useradd >/dev/null ||
    skip "needs setpriv and useradd"

# Names unique to this run: other tests create users concurrently.
U_ADM="cvt$$a" U_RD="cvt$$r" G_ADM="cvt$$ga" G_RD="cvt$$gr"
users_cleanup() {
	userdel "$U_ADM" 2>/dev/null || true
	userdel "$U_RD" 2>/dev/null || true
	groupdel "$G_ADM" 2>/dev/null || true
	groupdel "$G_RD" 2>/dev/null || true
}
trap 'users_cleanup; t_cleanup' EXIT
groupadd "$G_ADM"
groupadd "$G_RD"
useradd -M -N -g "$G_RD" -G "$G_ADM" -s /usr/sbin/nologin "$U_ADM"
useradd -M -N -g "$G_RD" -s /usr/sbin/nologin "$U_RD"
GA=$(getent group "$G_ADM" | cut -d: -f3)
GR=$(getent group "$G_RD" | cut -d: -f3)
as_admin() {
	# --groups replaces every supplementary group (it excludes
	# --clear-groups): the admin group and nothing else.
	setpriv --reuid="$(id -u "$U_ADM")" --regid="$GR" --groups="$GA" \
	    "$CERTVIGIL" -S "$D_SOCK" "$@"
}
as_reader() {
	setpriv --reuid="$(id -u "$U_RD")" --regid="$GR" --clear-groups \
	    "$CERTVIGIL" -S "$D_SOCK" "$@"
}
chmod 755 "$T"

mkdir -p "$T/ca" "$T/live"
"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
for n in web web2; do
	"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
	    --cn localhost --san DNS:localhost --purpose server --days 30 \
	    --out-key "$T/live/$n.key" --out-cert "$T/live/$n.pem" >/dev/null
done
A=$(openssl x509 -in "$T/live/web2.pem" -noout -fingerprint -sha1 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
APPID='{4dc3e181-e14b-4a21-b022-59fc669b0914}'
write_conf() {	# write_conf [admin_may_run_commands value]
	cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0660
socket_group = $G_RD
admin_group = $G_ADM
${1:+admin_may_run_commands = $1}

[watch live]
path = $T/live

[binding web]
ipport = 127.0.0.1:8443
cert_file = $T/live/web.pem
key_file = $T/live/web.key
stop = /bin/true
start = /bin/true
EOT
}
write_conf
daemon_start "$T/conf"
cv binding add ipport=127.0.0.1:9443 certhash="$A" appid="$APPID" name=web2 \
    cert_file="$T/live/web2.pem" key_file="$T/live/web2.key" \
    stop=/bin/true start=/bin/true >/dev/null

as_reader status >/dev/null || fail "reader: status before"
# The admin may rescan, reload and tune a run-time binding.
as_admin rescan >/dev/null || fail "admin: rescan refused"
ok "admin: rescan"
as_admin reload >/dev/null || fail "admin: reload refused"
ok "admin: reload"
as_admin binding update name=web2 window="Mon-Fri 22:00-02:00" \
    renew_before=1/2 verify_timeout=45s appid="$APPID" >/dev/null ||
    fail "admin: tuning keys refused"
s=$(cv binding show name=web2 --json)
assert_eq "admin: window set" "Mon-Fri 22:00-02:00" "$(echo "$s" | jq -r '.[0].window')"
assert_eq "admin: renew_before set" "1/2" "$(echo "$s" | jq -r '.[0].renew_before')"

# Each class root keeps: command, path, owner/mode.
for kv in "stop=/bin/sh -c id" "start=/bin/sh" "reload=/bin/sh" \
    "cert_file=/etc/shadow" "key_file=$T/x.key" "chain_file=/tmp/c" \
    "fullchain_file=/tmp/f" "ca_file=/etc/shadow" "owner=$U_ADM" \
    "group=$G_ADM" "mode=0640"; do
	k=${kv%%=*}
	run_status st as_admin binding update name=web2 "$kv"
	[ "$st" != 0 ] || fail "admin could set $k"
	msg=$(as_admin binding update name=web2 "$kv" 2>&1 || true)
	assert_match "admin: '$k' refused, naming the key" \
	    "binding update: '$k' may be set only by root \\(admin_may_run_commands = no\\)" \
	    "$msg"
done
s=$(cv binding show name=web2 --json)
assert_eq "refusals changed nothing: stop" "/bin/true" "$(echo "$s" | jq -r '.[0].stop')"
assert_eq "refusals changed nothing: cert_file" "$T/live/web2.pem" \
    "$(echo "$s" | jq -r '.[0].cert_file')"
msg=$(as_admin binding add ipport=127.0.0.1:7443 certhash="$A" appid="$APPID" \
    name=web3 cert_file="$T/live/web2.pem" key_file="$T/live/web2.key" 2>&1 || true)
assert_match "admin: add with paths refused" "'cert_file' may be set only by root" "$msg"

# A binding of the config file: renewals yes, changes no.
msg=$(as_admin binding update name=web verify_timeout=10s 2>&1 || true)
assert_match "admin: config binding update refused" \
    "web is declared in .*only root may change it" "$msg"
msg=$(as_admin binding update ipport=127.0.0.1:8443 verify_timeout=10s 2>&1 || true)
assert_match "admin: config binding update by endpoint refused" \
    "web is declared in" "$msg"
run_status st as_admin binding delete name=web
[ "$st" != 0 ] || fail "admin deleted a config binding"
ok "admin: config binding delete refused"
msg=$(as_admin renew web 2>&1 || true)
assert_match "admin: renew of a config binding is not a permission matter" \
    "no issuer" "$msg"
cv binding update name=web verify_timeout=10s >/dev/null ||
    fail "root: config binding update refused"
ok "root may still update a config binding"

# A reader changes nothing.
for cmd in "rescan" "reload" "binding update name=web2 window=Sat-Sun" \
    "binding delete name=web2" "renew web2"; do
	# shellcheck disable=SC2086
	run_status st as_reader $cmd
	[ "$st" != 0 ] || fail "reader could run: $cmd"
	# shellcheck disable=SC2086
	msg=$(as_reader $cmd 2>&1 || true)
	assert_match "reader: $cmd refused" "root or the admin group only" "$msg"
done
as_reader binding show name=web2 --json >/dev/null || fail "reader: show"
ok "reader: show"

# admin_may_run_commands = yes: the admin is root's equal.
write_conf yes
cv reload >/dev/null
as_admin binding update name=web2 stop="/bin/true stop" start="/bin/true start" \
    >/dev/null || fail "admin_may_run_commands: stop/start refused"
s=$(cv binding show name=web2 --json)
assert_eq "admin_may_run_commands: stop set" "/bin/true stop" "$(echo "$s" | jq -r '.[0].stop')"
as_admin binding delete name=web2 >/dev/null || fail "admin: delete of run-time binding"
ok "admin: delete of a run-time binding"

daemon_stop
echo "admin-model: $T_COUNT passed, 0 failed"
