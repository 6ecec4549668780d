#!/bin/sh
# Issue 17: pebble from Debian's package (.ci/pebble) runs here and serves
# an ACME directory over HTTPS with the test's own CA.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
need openssl python3
pebble_start
python3 - "$PEBBLE_DIR_URL" "$PEBBLE_CA" >"$T/dir.json" <<'PY' ||
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
print(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=30).read().decode())
PY
    fail "GET $PEBBLE_DIR_URL failed"
for k in newNonce newAccount newOrder revokeCert renewalInfo; do
	grep -q "\"$k\"" "$T/dir.json" || fail "directory lacks $k"
done
echo "acme-pebble: passed"
