#!/bin/sh
# Issue 13 item 11 without a renewal: supersession follows what is
# deployed (a binding's certhash), then issuance order (notBefore), not
# the later notAfter.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq
need_test_hooks

sha() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }
mkdir -p "$T/ca" "$T/live"
"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" --out-key "$T/ca/ca.key" >/dev/null
# issue CN DAYS OUT [CLOCK]: CLOCK (CERTVIGIL_TEST_NOW) is the issuing
# clock (notBefore).
issue() {
	CERTVIGIL_TEST_NOW=${4:-+0} "$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" \
	    --ca-key "$T/ca/ca.key" --cn "$1" --san "DNS:$1" --purpose server \
	    --days "$2" --out-key "$3.key" --out-cert "$3" >/dev/null
}
state() { cv list --json --all | jq -r --arg s "$1" '.[] | select(.sha1 == $s) | .state'; }
# wait_state SHA1 STATE: the evaluation follows the discovery.
wait_state() {
	timeout "$(slow 10)" sh -c "until [ \"\$($CERTVIGIL -S $D_SOCK list --json --all | jq -r '.[] | select(.sha1 == \"$1\") | .state')\" = $2 ]; do sleep 0.1; done" ||
	    fail "$1 is not $2 (it is $(state "$1"))"
}

# The first ones issued two hours ago (the issuing clock fixed then).
ago=$(( $(date +%s) - 7200 ))
issue www.example.com 397 "$T/live/web.pem" "$ago"
issue other.example.com 397 "$T/live/other-long.pem" "$ago"
cat > "$T/conf" <<EOT
[watch live]
path = $T/live
alert_before = 100d

[issuer local]
type = local
ca_cert = $T/ca/ca.pem
ca_key = $T/ca/ca.key
days = 90

[binding web]
ipport = 127.0.0.1:9
appid = {4dc3e181-e14b-4a21-b022-59fc669b0914}
issuer = local
cert_file = $T/live/web.pem
key_file = $T/live/web.pem.key
san = DNS:www.example.com
subject = CN=www.example.com
stop = /bin/true
start = /bin/true
EOT
daemon_start "$T/conf"
follow_start
web=$(sha "$T/live/web.pem")
timeout "$(slow 10)" sh -c "until [ \"\$($CERTVIGIL -S $D_SOCK binding show --json | jq -r '.[0].certhash')\" = $web ]; do sleep 0.1; done" ||
    fail "the binding does not name web.pem's certificate"

# Issued now, for 90 days: it supersedes the 397-day one
# although that one expires later, and alerts (100d).
issue other.example.com 90 "$T/live/other-short.pem"
long=$(sha "$T/live/other-long.pem")
short=$(sha "$T/live/other-short.pem")
wait_state "$long" superseded
ok "the earlier-issued 397-day certificate is superseded"
assert_match "the later-issued 90-day one is live" "^(valid|expiring)$" "$(state "$short")"
wait_event "\"kind\":\"alert\".*\"sha1\":\"$short\"" 10
ok "and it alerts"

# A namesake of the deployed certificate, issued later, dropped beside
# it: the binding's certificate stays live (what is deployed wins).
issue www.example.com 90 "$T/live/web-new.pem"
new=$(sha "$T/live/web-new.pem")
wait_state "$new" superseded
ok "an undeployed later namesake is superseded by the deployed one"
assert_match "the deployed certificate is not superseded" "^(valid|expiring)$" "$(state "$web")"

daemon_stop
echo "supersede-order: $T_COUNT passed, 0 failed"
