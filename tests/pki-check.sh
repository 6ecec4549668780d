#!/bin/sh
# check: the seeds' certificate requirements, one line per rule.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"
CV=$CERTVIGIL

# status RULE ARGS...: the status of one rule in check --json.
status() {
	_r=$1; shift
	"$CV" check --json "$@" | jq -r ".results[] | select(.rule == \"$_r\") | .status"
}

# All good: the PFX holds key and chain; OpenSSL agrees.
openssl verify -CAfile ca.pem server.pem >/dev/null
run_status st "$CV" check modern.pfx --password-file password --ca-file ca.pem \
    --host beacon.example.com --purpose server --min-days 30 >out
assert_eq "all pass: exit 0" 0 "$st"
assert_eq "seven rules" 7 "$(grep -cE '^(PASS|FAIL|WARN|SKIP) ' out)"
assert_eq "no FAIL" 0 "$(grep -c '^FAIL' out || true)"
assert_match "key line" "^PASS  key +private key present and matching$" "$(grep ' key ' out)"
assert_match "names the thumbprint" "$(openssl x509 -in server.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')" "$(head -1 out)"

# Same with cert and key apart, and a wildcard and an address from the SANs.
assert_eq "--key" PASS "$(status key server.pem --key server.key --ca-file ca.pem)"
assert_eq "wildcard host" PASS "$(status host server.pem --ca-file ca.pem --host x.beacon.example.com)"
assert_eq "wildcard: one label only" FAIL "$(status host server.pem --ca-file ca.pem --host a.b.beacon.example.com)"
assert_eq "IP SAN" PASS "$(status host server.pem --ca-file ca.pem --host 127.0.0.1)"
assert_eq "wrong host" FAIL "$(status host server.pem --ca-file ca.pem --host other.example.com)"
assert_eq "no host: skipped" SKIP "$(status host server.pem --ca-file ca.pem)"

# Each rule failing on its own.
assert_eq "no key" FAIL "$(status key server.pem --ca-file ca.pem)"
assert_eq "mismatched key" FAIL "$(status key mismatch.pem --ca-file ca.pem)"
assert_eq "mismatched --key" FAIL "$(status key server.pem --key client.key --ca-file ca.pem)"
assert_eq "untrusted in system store" FAIL "$(status chain server.pem --key server.key)"
assert_eq "wrong CA" FAIL "$(status chain server.pem --ca-file ed25519.pem)"
assert_eq "chain in the bundle" PASS "$(status chain fullchain.pem --ca-file ca.pem)"
assert_eq "client EKU for a server" FAIL "$(status eku client.pem --purpose server --ca-file ca.pem)"
assert_eq "client EKU for a client" PASS "$(status eku client.pem --purpose client --ca-file ca.pem)"
assert_eq "no EKU: warn" WARN "$(status eku ca.pem --ca-file ca.pem)"
assert_eq "SHA-1 fails" FAIL "$(status signature sha1.pem --ca-file ca.pem)"
assert_eq "SHA-256 passes" PASS "$(status signature server.pem --ca-file ca.pem)"
assert_eq "Ed25519 passes" PASS "$(status signature ed25519.pem --ca-file ed25519.pem)"
assert_eq "EC P-256 ok" PASS "$(status key-size client.pem --ca-file ca.pem)"
assert_eq "Ed25519 key ok" PASS "$(status key-size ed25519.pem --ca-file ed25519.pem)"
openssl req -x509 -newkey rsa:1024 -nodes -keyout weak.key -out weak.pem -days 30 \
    -subj /CN=weak.example.com 2>/dev/null
assert_eq "RSA 1024 fails" FAIL "$(status key-size weak.pem --key weak.key --ca-file weak.pem)"
assert_eq "expired" FAIL "$(status validity expired.pem --ca-file expired.pem)"
assert_match "expired detail" "expired on 2020-01-01" \
    "$("$CV" check --json expired.pem --ca-file expired.pem | jq -r '.results[]|select(.rule=="validity").detail')"
assert_eq "expired leaf does not fail the chain" PASS "$(status chain expired.pem --ca-file expired.pem)"
assert_eq "not yet valid" FAIL "$(status validity future.pem --ca-file future.pem)"
assert_eq "--min-days beyond the end" FAIL "$(status validity server.pem --ca-file ca.pem --min-days 1000)"
# 20 days, not the fixtures' 30: a 30-day certificate checked in the
# second it was made (or after the clock stepped back) has 30 days left.
openssl req -x509 -newkey ed25519 -nodes -keyout soon.key -out soon.pem \
    -days 20 -subj /CN=soon.example.com 2>/dev/null
assert_eq "under 30 days left: warn" WARN "$(status validity soon.pem --ca-file soon.pem)"

# Exit status and the text form of a failure.
run_status st "$CV" check sha1.pem --key server.key --ca-file ca.pem >out
assert_eq "any fail: exit 1" 1 "$st"
assert_match "FAIL line" "^FAIL  signature +RSA-SHA1 is insecure; SHA-2 is required$" "$(grep signature out)"
assert_match "summary" "^FAILED: 2 failed" "$(tail -1 out)"
assert_match "GnuTLS refuses SHA-1 in the chain too" "^FAIL  chain .*insecure algorithm" "$(grep chain out)"

# JSON shape.
j=$("$CV" check --json server.pem --key server.key --ca-file ca.pem --host beacon.example.com)
assert_eq "json keys" "path,sha1,subject,ok,results" "$(printf '%s' "$j" | jq -r 'keys_unsorted|join(",")')"
assert_eq "json rules" "key,chain,eku,host,signature,key-size,validity" \
    "$(printf '%s' "$j" | jq -r '[.results[].rule]|join(",")')"
assert_eq "json ok" true "$(printf '%s' "$j" | jq -r .ok)"
echo "pki-check: $T_COUNT passed, 0 failed"
