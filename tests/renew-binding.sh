#!/bin/sh
# binding add / update / delete / show at run time, with netsh's words,
# and their refusals: a certhash not in the inventory, a certificate whose
# key is not known, an endpoint already bound, a caller who is not admin.
# update changes only what it is given.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq

mkdir -p "$T/ca" "$T/live" "$T/keys"
"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
issue() {	# issue CERT KEY
	"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
	    --cn localhost --san DNS:localhost --purpose server --days 30 \
	    --out-key "$2" --out-cert "$1" >/dev/null
}
sha1() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
issue "$T/live/a.pem" "$T/live/a.key"		# with its key
issue "$T/live/nokey.pem" "$T/keys/nokey.key"	# key not watched
issue "$T/unwatched.pem" "$T/unwatched.key"	# not in the inventory
A=$(sha1 "$T/live/a.pem")
NK=$(sha1 "$T/live/nokey.pem")
U=$(sha1 "$T/unwatched.pem")
APPID='{4dc3e181-e14b-4a21-b022-59fc669b0914}'
APPID2='{00112233-4455-6677-8899-aabbccddeeff}'
cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0666

[watch live]
path = $T/live
EOT
daemon_start "$T/conf"

msg=$(cv binding add ipport=0.0.0.0:8443 certhash="$U" appid="$APPID" name=web2 2>&1) &&
    fail "a certhash not in the inventory was accepted"
assert_match "unknown certhash refused with the reason" "not in the inventory" "$msg"
msg=$(cv binding add ipport=0.0.0.0:8443 certhash="$NK" appid="$APPID" name=web2 2>&1) &&
    fail "a certificate without its key was accepted"
assert_match "certificate without a key refused with the reason" "private key" "$msg"
msg=$(cv binding add ipport=0.0.0.0:8443 certhash=xyz appid="$APPID" 2>&1) && fail "bad certhash"
assert_match "malformed certhash refused" "not a SHA-1 thumbprint" "$msg"
msg=$(cv binding add ipport=0.0.0.0:8443 certhash="$A" appid=nope 2>&1) && fail "bad appid"
assert_match "malformed appid refused" "not a GUID" "$msg"
assert_eq "nothing was added" 0 "$(cv binding show --json | jq length)"

if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	chmod 755 "$T"
	run_status st as_nobody "$CERTVIGIL" -S "$D_SOCK" binding add \
	    ipport=0.0.0.0:8443 certhash="$A" appid="$APPID" name=web2
	[ "$st" != 0 ] || fail "nobody could add a binding"
	msg=$(as_nobody "$CERTVIGIL" -S "$D_SOCK" binding add ipport=0.0.0.0:8443 \
	    certhash="$A" appid="$APPID" 2>&1 || true)
	assert_match "non-root add refused: admin only" "root or the admin group only" "$msg"
	assert_eq "nobody may show" 0 \
	    "$(as_nobody "$CERTVIGIL" -S "$D_SOCK" binding show --json | jq length)"
fi

# netsh's spelling: keys in any case, the thumbprint in upper case.
AU=$(echo "$A" | tr a-f A-F)
cv binding add IPPORT=0.0.0.0:8443 CertHash="$AU" AppId="$APPID" name=web2 \
    cert_file="$T/live/a.pem" key_file="$T/live/a.key" \
    stop="/bin/true stop" start="/bin/true 'start it'" >/dev/null
s=$(cv binding show ipport=0.0.0.0:8443 --json)
assert_eq "show --json: certhash" "$A" "$(echo "$s" | jq -r '.[0].certhash')"
assert_eq "show --json: appid" "$APPID" "$(echo "$s" | jq -r '.[0].appid')"
assert_eq "show --json: ipport" "0.0.0.0:8443" "$(echo "$s" | jq -r '.[0].ipport')"
assert_eq "show --json: source" runtime "$(echo "$s" | jq -r '.[0].source')"
assert_eq "show --json: start argv" "/bin/true 'start it'" "$(echo "$s" | jq -r '.[0].start')"
assert_eq "show --json: no drift" false "$(echo "$s" | jq -r '.[0].drift')"
cv binding show ipport=0.0.0.0:8443 | grep -q "Certificate Hash *: $AU" ||
    fail "netsh-like show"
ok "show prints the netsh fields"
msg=$(cv binding add ipport=0.0.0.0:8443 certhash="$A" appid="$APPID" 2>&1) &&
    fail "a second add on the same endpoint"
assert_match "endpoint already bound" "already bound.*binding update" "$msg"

# update changes only what is given.
cv binding update ipport=0.0.0.0:8443 clientcertnegotiation=enable >/dev/null
s=$(cv binding show name=web2 --json)
assert_eq "update: client certificate negotiation set" true \
    "$(echo "$s" | jq -r '.[0].require_client_cert')"
assert_eq "update: certhash preserved" "$A" "$(echo "$s" | jq -r '.[0].certhash')"
assert_eq "update: appid preserved" "$APPID" "$(echo "$s" | jq -r '.[0].appid')"
assert_eq "update: cert_file preserved" "$T/live/a.pem" "$(echo "$s" | jq -r '.[0].cert_file')"
assert_eq "update: start preserved" "/bin/true 'start it'" "$(echo "$s" | jq -r '.[0].start')"
cv binding update ipport=0.0.0.0:8443 appid="$APPID2" >/dev/null
s=$(cv binding show name=web2 --json)
assert_eq "update: appid changed" "$APPID2" "$(echo "$s" | jq -r '.[0].appid')"
assert_eq "update: negotiation preserved" true "$(echo "$s" | jq -r '.[0].require_client_cert')"
msg=$(cv binding update ipport=0.0.0.0:8443 certhash="$U" 2>&1) && fail "update to an unknown certhash"
assert_match "update: unknown certhash refused" "not in the inventory" "$msg"
assert_eq "update: refused update changed nothing" "$A" \
    "$(cv binding show name=web2 --json | jq -r '.[0].certhash')"
msg=$(cv binding update ipport=0.0.0.0:9999 appid="$APPID" 2>&1) && fail "update of nothing"
assert_match "update: no such binding" "no binding for 0.0.0.0:9999" "$msg"

# The binding survives a restart (it lives in the inventory).
daemon_stop
daemon_start "$T/conf"
assert_eq "kept across a restart" "$APPID2" \
    "$(cv binding show name=web2 --json | jq -r '.[0].appid')"

# delete
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	msg=$(as_nobody "$CERTVIGIL" -S "$D_SOCK" binding delete ipport=0.0.0.0:8443 2>&1 || true)
	assert_match "non-root delete refused" "root or the admin group only" "$msg"
fi
cv binding delete ipport=0.0.0.0:8443 | grep -q "successfully deleted" || fail "delete"
ok "delete"
assert_eq "deleted: show lists nothing" 0 "$(cv binding show --json | jq length)"
run_status st cv binding show ipport=0.0.0.0:8443
assert_eq "deleted: show of it fails" 1 "$st"
run_status st cv binding delete ipport=0.0.0.0:8443 2>/dev/null
assert_eq "deleting again fails" 1 "$st"
assert_eq "the certificate files are left alone" "$A" "$(sha1 "$T/live/a.pem")"

daemon_stop
echo "renew-binding: $T_COUNT passed, 0 failed"
