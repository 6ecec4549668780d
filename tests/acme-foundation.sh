#!/bin/sh
# Issue 17 foundation, end to end against real pebble: the directory over
# http_do with the test's CA, a nonce, newAccount signed by jws.c (jwk,
# termsOfServiceAgreed), the same account found again with
# onlyReturnExisting; with pebble requiring EAB: refused without it and
# with a wrong key (the CA's reason shown), accepted with the right one.
# pebble rejects 5% of good nonces by default: badNonce is retried.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
need openssl python3
ACMETOOL=$top_builddir/tests/acmetool
newkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$T/$1" 2>/dev/null
}

PEBBLE_ENV=PEBBLE_VA_ALWAYS_VALID=1 pebble_start
newkey ec.key
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$T/rsa.key" 2>/dev/null
for k in ec.key rsa.key; do
	# Not registered yet: onlyReturnExisting is refused.
	run_status st "$ACMETOOL" account "$PEBBLE_DIR_URL" "$PEBBLE_CA" \
	    "$T/$k" --existing >"$T/out" 2>"$T/err"
	[ "$st" = 1 ] || fail "$k: unknown account found ($st)"
	grep -q 'accountDoesNotExist' "$T/out" || fail "$k: $(cat "$T/out")"
	"$ACMETOOL" account "$PEBBLE_DIR_URL" "$PEBBLE_CA" "$T/$k" \
	    >"$T/new" 2>"$T/err" || fail "$k: newAccount: $(cat "$T/new" "$T/err")"
	grep -Eq '^201 https://127\.0\.0\.1:[0-9]+/my-account/' "$T/new" ||
	    fail "$k: newAccount: $(cat "$T/new")"
	"$ACMETOOL" account "$PEBBLE_DIR_URL" "$PEBBLE_CA" "$T/$k" \
	    --existing >"$T/again" 2>"$T/err" || fail "$k: lookup: $(cat "$T/again")"
	assert_eq "$k: the same account URL" "$(cut -d' ' -f2 "$T/new")" \
	    "$(cut -d' ' -f2 "$T/again")"
	grep -q '^200 ' "$T/again" || fail "$k: lookup status: $(cat "$T/again")"
done
# Trust: pebble's HTTPS is not trusted through the system store.
run_status st "$ACMETOOL" account "$PEBBLE_DIR_URL" /etc/ssl/certs/ca-certificates.crt \
    "$T/ec.key" 2>"$T/err"
[ "$st" = 1 ] || fail "untrusted pebble accepted"
grep -q "GET $PEBBLE_DIR_URL: " "$T/err" || fail "TLS error: $(cat "$T/err")"

# EAB required (pebble's example keys).
kill "$PEBBLE_PID"; wait "$PEBBLE_PID" 2>/dev/null || true
PEBBLE_ENV=PEBBLE_VA_ALWAYS_VALID=1 pebble_start '"externalAccountBindingRequired": true,
	"externalAccountMACKeys": {
	  "kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W" }'
newkey eab.key
run_status st "$ACMETOOL" account "$PEBBLE_DIR_URL" "$PEBBLE_CA" \
    "$T/eab.key" >"$T/out" 2>"$T/err"
[ "$st" = 1 ] || fail "account without EAB accepted"
grep -q 'externalAccountRequired' "$T/out" || fail "no EAB: $(cat "$T/out")"
run_status st "$ACMETOOL" account "$PEBBLE_DIR_URL" "$PEBBLE_CA" \
    "$T/eab.key" kid-1 b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH \
    >"$T/out" 2>"$T/err"
[ "$st" = 1 ] || fail "account with a wrong EAB key accepted"
grep -q '^[45][0-9][0-9] urn:ietf:params:acme:error:' "$T/out" ||
    fail "wrong EAB key: $(cat "$T/out")"
"$ACMETOOL" account "$PEBBLE_DIR_URL" "$PEBBLE_CA" "$T/eab.key" kid-1 \
    zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W \
    >"$T/new" 2>"$T/err" || fail "EAB newAccount: $(cat "$T/new" "$T/err")"
grep -Eq '^201 https://' "$T/new" || fail "EAB newAccount: $(cat "$T/new")"
echo "acme-foundation: passed"
