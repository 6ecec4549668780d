#!/bin/sh
# deploy-client: certificate and key in place with the right modes, the
# agent's config.ini edited without disturbing it, and idempotence.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"
CV=$CERTVIGIL
D=$T/root/var/opt/managesoft/etc/ssl/client
sha1() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }

# An agent config.ini with comments, CRLF line ends, odd spacing, an
# outdated value and no final newline.
printf '; FlexNet inventory agent preferences\r\n[ManageSoft\\Common]\r\n  MachineID = {5A2F}  \r\nSSLClientCertificateFile = /old/cert.pem\r\n# keep me\r\n\r\n[ManageSoft\\Launcher\\CurrentVersion]\r\nPolicyRefresh=60' > config.ini
chmod 640 config.ini
cp config.ini config.orig

"$CV" deploy-client --pfx modern.pfx --password-file password \
    --cert-path "$D/client_cert.pem" --key-path "$D/private/client_key.pem" \
    --agent-config config.ini >out
assert_eq "first run" "cert: $D/client_cert.pem: written
key: $D/private/client_key.pem: written
agent config: config.ini: updated" "$(cat out)"
assert_eq "cert deployed" "$(sha1 server.pem)" "$(sha1 "$D/client_cert.pem")"
assert_eq "cert only, no key" 1 "$(grep -c BEGIN "$D/client_cert.pem")"
assert_eq "cert PEM from the first line" "-----BEGIN CERTIFICATE-----" "$(head -1 "$D/client_cert.pem")"
assert_eq "key matches" "$(openssl x509 -in "$D/client_cert.pem" -noout -pubkey)" \
    "$(openssl pkey -in "$D/private/client_key.pem" -pubout)"
assert_eq "key unencrypted" "-----BEGIN PRIVATE KEY-----" "$(head -1 "$D/private/client_key.pem")"
assert_eq "key mode" 600 "$(stat -c %a "$D/private/client_key.pem")"
assert_eq "private/ mode" 700 "$(stat -c %a "$D/private")"
assert_eq "cert mode" 644 "$(stat -c %a "$D/client_cert.pem")"
assert_eq "config mode kept" 640 "$(stat -c %a config.ini)"
want=$(printf '; FlexNet inventory agent preferences\r\n[ManageSoft\\Common]\r\n  MachineID = {5A2F}  \r\nSSLClientCertificateFile = %s\r\nAddClientCertificateAndKey=True\r\nSSLClientPrivateKeyFile=%s\r\n# keep me\r\n\r\n[ManageSoft\\Launcher\\CurrentVersion]\r\nPolicyRefresh=60' \
    "$D/client_cert.pem" "$D/private/client_key.pem" | od -c)
assert_eq "config.ini: every other byte kept" "$want" "$(od -c < config.ini)"

# Idempotent: nothing rewritten.
ino1=$(stat -c %i:%Y "$D/client_cert.pem" "$D/private/client_key.pem" config.ini)
"$CV" deploy-client --pfx modern.pfx --password-file - \
    --cert-path "$D/client_cert.pem" --key-path "$D/private/client_key.pem" \
    --agent-config config.ini <password >out
assert_eq "second run" "cert: $D/client_cert.pem: unchanged
key: $D/private/client_key.pem: unchanged
agent config: config.ini: unchanged" "$(cat out)"
assert_eq "files untouched" "$ino1" "$(stat -c %i:%Y "$D/client_cert.pem" "$D/private/client_key.pem" config.ini)"

# Per-component sections, from PEM files; the new certificate replaces the
# old one; sections are added at the end.
cp config.orig config2.ini
"$CV" deploy-client --cert client.pem --key client.key \
    --cert-path "$D/client_cert.pem" --key-path "$D/private/client_key.pem" \
    --agent-config config2.ini --agent-section 'ManageSoft\Common' \
    --agent-section 'ManageSoft\Launcher\CurrentVersion' \
    --agent-section 'ManageSoft\Tracker\CurrentVersion' \
    --agent-section 'ManageSoft\Uploader\CurrentVersion' --json >out.json
assert_eq "json statuses" "written written updated" \
    "$(jq -r '"\(.cert.status) \(.key.status) \(.agent_config.status)"' out.json)"
assert_eq "new cert" "$(sha1 client.pem)" "$(sha1 "$D/client_cert.pem")"
for s in 'Common' 'Launcher\\CurrentVersion' 'Tracker\\CurrentVersion' 'Uploader\\CurrentVersion'; do
	sec=$(tr -d '\r' < config2.ini | awk -v s="[ManageSoft\\\\$s]" '$0 == s {on=1; next} /^\[/ {on=0} on')
	assert_match "$s: AddClientCertificateAndKey" "^AddClientCertificateAndKey=True$" "$sec"
	assert_match "$s: SSLClientCertificateFile" "SSLClientCertificateFile ?= ?$D/client_cert.pem$" "$sec"
	assert_match "$s: SSLClientPrivateKeyFile" "^SSLClientPrivateKeyFile=$D/private/client_key.pem$" "$sec"
done
assert_match "Launcher keeps its key" "^PolicyRefresh=60" "$(tr -d '\r' < config2.ini)"
assert_eq "CRLF throughout" 0 "$(grep -c "[^$(printf '\r')]\$" config2.ini || true)"

# Relative paths become absolute in config.ini (the agent runs elsewhere).
mkdir rel && cp config.orig rel/config.ini
(cd rel && "$CV" deploy-client --cert ../client.pem --key ../client.key \
    --cert-path c.pem --key-path private/k.pem --agent-config config.ini >/dev/null)
assert_match "absolute path" "SSLClientPrivateKeyFile=$T/fx/rel/private/k.pem" "$(tr -d '\r' < rel/config.ini)"

# Refusals.
run_status st "$CV" deploy-client --cert server.pem --key client.key \
    --cert-path "$T/x/c.pem" --key-path "$T/x/k.pem" 2>err
assert_eq "mismatched key: exit 1" 1 "$st"
assert_match "mismatched key: reason" "^certvigil: client.key: the private key does not match the certificate$" "$(cat err)"
[ ! -e "$T/x/c.pem" ] || fail "wrote a certificate for a mismatched key"
ok "nothing written on a mismatch"
run_status st "$CV" deploy-client --pfx modern.pfx --password-file wrongpass \
    --cert-path "$T/x/c.pem" --key-path "$T/x/k.pem" 2>err
assert_eq "wrong password: exit 1" 1 "$st"
assert_match "wrong password: reason" "wrong PKCS#12 password" "$(cat err)"
run_status st "$CV" deploy-client --pfx modern.pfx --password-file password \
    --cert-path "$T/x/c.pem" --key-path "$T/x/k.pem" --agent-config "$T/nope.ini" 2>err
assert_eq "missing config.ini: exit 1" 1 "$st"
assert_match "missing config.ini: reason" "nope.ini: No such file or directory" "$(cat err)"
[ ! -e "$T/x/c.pem" ] || fail "wrote a certificate for a missing config.ini"
ok "nothing written for a missing config.ini"
run_status st "$CV" deploy-client --cert server.pem --agent-section X 2>err
assert_eq "--agent-section without --agent-config: usage" 2 "$st"
echo "pki-deploy: $T_COUNT passed, 0 failed"
