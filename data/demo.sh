#!/bin/sh
# The README's first command ends here: a local CA and certificates made
# with certvigil's own toolbox, certvigild watching them with an embedded
# SQLite inventory, and its status and inventory shown through the socket.
#   sh data/demo.sh [BUILDDIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top}" && pwd)
CV=$B/src/certvigil
CVD=$B/src/certvigild
D=$B/demo
rm -rf "$D"
mkdir -p "$D/certs/server" "$D/certs/client" "$D/ca"
printf 'demo-password\n' > "$D/pfx.pass"
chmod 600 "$D/pfx.pass"

echo "== a local CA (the seeds' makecert -r), a server and a client certificate"
"$CV" ca init --cn "certvigil demo CA" --out-cert "$D/ca/ca.pem" \
    --out-key "$D/ca/ca.key" --days 3650 >/dev/null
"$CV" csr --cn beacon.example.com --org "Example, Inc" --country US \
    --san DNS:beacon.example.com,IP:127.0.0.1 \
    --key-out "$D/certs/server/beacon.key" --out "$D/beacon.csr" >/dev/null
"$CV" ca issue --ca-cert "$D/ca/ca.pem" --ca-key "$D/ca/ca.key" \
    --csr "$D/beacon.csr" --purpose server --days 397 \
    --out-cert "$D/certs/server/beacon.pem" >/dev/null
"$CV" ca issue --ca-cert "$D/ca/ca.pem" --ca-key "$D/ca/ca.key" \
    --cn inventory-client --purpose client --days 20 \
    --out-key "$D/client.key" --out-cert "$D/client.pem" >/dev/null
"$CV" convert --cert "$D/client.pem" --key "$D/client.key" --to pfx \
    --password-file "$D/pfx.pass" --out "$D/certs/client/client.pfx" >/dev/null
cp "$D/ca/ca.pem" "$D/certs/server/ca.pem"

cat > "$D/certvigil.conf" <<EOT
[daemon]
log = stderr
expiring = 30d

[watch beacon]
path = $D/certs/server
role = server

[watch devices]
path = $D/certs/client
role = client
password_file = $D/pfx.pass
EOT

echo "== starting certvigild (state in $D/state, socket $D/control.sock)"
rm -f "$D/ready"
mkfifo "$D/ready"
"$CVD" -f -c "$D/certvigil.conf" -S "$D/control.sock" -d "$D/state" \
    --ready-fd 3 3>"$D/ready" 2>"$D/certvigild.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
read -r ready < "$D/ready"
[ "$ready" = READY ] || { cat "$D/certvigild.log"; exit 1; }

echo
"$CV" -S "$D/control.sock" status
echo
"$CV" -S "$D/control.sock" list
echo
echo "== a certificate replaced on disk is seen at once:"
"$CV" ca issue --ca-cert "$D/ca/ca.pem" --ca-key "$D/ca/ca.key" \
    --cn beacon.example.com --san DNS:beacon.example.com --purpose server \
    --out-key "$D/new.key" --out-cert "$D/new.pem" >/dev/null
"$CV" -S "$D/control.sock" events --follow > "$D/events.txt" &
fpid=$!
cp "$D/new.pem" "$D/certs/server/beacon.pem"
timeout 5 tail -n +1 -f "$D/events.txt" | grep -m 1 thumbprint_changed || true
kill $fpid 2>/dev/null || true
kill -TERM $pid
wait $pid
trap - EXIT
echo
echo "certvigild stopped cleanly.  Try it yourself:"
echo "  $CVD -f -c $D/certvigil.conf -S $D/control.sock -d $D/state &"
echo "  $CV -S $D/control.sock list"
