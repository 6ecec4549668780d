#!/bin/sh
# The README's first command ends here: a demo inventory of generated
# certificates (a local CA, a server and a client certificate, a PFX, an
# expiring and an expired one), shown by certvigil.
#   sh data/demo.sh [BUILDDIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$top}
D=$B/demo
rm -rf "$D"
mkdir -p "$D/certs"
sh "$top/tests/gen-fixtures.sh" "$D/fx" >/dev/null
cp "$D/fx/ca.pem" "$D/fx/fullchain.pem" "$D/fx/client.pem" \
    "$D/fx/modern.pfx" "$D/fx/expired.pem" "$D/fx/bundle.pem" "$D/certs/"
echo "== certvigil inspect over $D/certs"
"$B/src/certvigil" inspect --password-file "$D/fx/password" "$D"/certs/*
