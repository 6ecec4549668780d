#!/bin/sh
# Generates the loader's fixtures with real tools (OpenSSL and GnuTLS's
# certtool), so certvigil is checked against files it did not write.
#   gen-fixtures.sh DIR
# Password-protected files use the password in DIR/password ("1234").
set -eu
D=$1
mkdir -p "$D"
cd "$D"
O="openssl"
P=pass:1234
printf '1234\n' > password
printf 'wrong\n' > wrongpass

# A root CA, the seeds' "SelfIssuedCA".
$O req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
    -subj "/O=certvigil tests/CN=SelfIssuedCA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# Server leaf, RSA 2048, SHA-256, serverAuth, every SAN type.
$O req -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
    -subj "/C=US/O=Example, Inc/CN=beacon.example.com" 2>/dev/null
cat > server.ext <<EOT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:beacon.example.com,DNS:*.beacon.example.com,IP:127.0.0.1,IP:::1,email:ops@example.com,URI:https://beacon.example.com/
EOT
$O x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 398 -sha256 -extfile server.ext -out server.pem 2>/dev/null

# Client leaf, EC P-256, clientAuth.
$O req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout client.key -out client.csr -subj "/CN=inventory-client" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' > client.ext
$O x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 365 -sha256 -extfile client.ext -out client.pem 2>/dev/null

# Ed25519, self-signed.
$O req -x509 -newkey ed25519 -nodes -keyout ed25519.key -out ed25519.pem \
    -days 30 -subj "/CN=ed25519.example.com" 2>/dev/null

# SHA-1 signed (the seeds' "insecure" algorithm).
$O x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 30 -sha1 -out sha1.pem 2>/dev/null

# Expired and not-yet-valid, with certtool's explicit dates.
certtool --generate-privkey --key-type ecdsa --curve secp384r1 \
    --outfile expired.key 2>/dev/null
cat > expired.tmpl <<EOT
cn = "expired.example.com"
dns_name = "expired.example.com"
activation_date = "2019-01-01 00:00:00"
expiration_date = "2020-01-01 00:00:00"
tls_www_server
EOT
certtool --generate-self-signed --load-privkey expired.key \
    --template expired.tmpl --outfile expired.pem 2>/dev/null
sed -e 's/2019-01-01/2099-01-01/' -e 's/2020-01-01/2100-01-01/' \
    -e 's/expired/future/g' expired.tmpl > future.tmpl
certtool --generate-self-signed --load-privkey expired.key \
    --template future.tmpl --outfile future.pem 2>/dev/null

# DER, detected by content whatever the extension.
$O x509 -in server.pem -outform DER -out server.cer
cp server.cer server-der.txt
$O x509 -in client.pem -outform DER -out client.der

# Key formats: PKCS#8 (OpenSSL 3 default), PKCS#1, SEC1, encrypted PKCS#8.
$O rsa -in server.key -traditional -out server-pkcs1.key 2>/dev/null
$O ec -in client.key -out client-sec1.key 2>/dev/null
$O pkcs8 -topk8 -in server.key -v2 aes-256-cbc -passout $P \
    -out server-enc.key
$O rsa -in server.key -aes256 -passout $P -traditional \
    -out server-enc-legacy.key 2>/dev/null

# Bundles: key first, chain in any order, CRLF, preamble, trailing junk.
cat server.key ca.pem server.pem > bundle.pem
cat server.pem ca.pem > fullchain.pem
sed 's/$/\r/' bundle.pem > bundle-crlf.pem
{ echo "Bag Attributes"; echo "    localKeyID: 01 00 00 00";
  echo "subject=/CN=beacon.example.com"; echo "issuer=/CN=SelfIssuedCA";
  cat server.pem; echo "this line is trailing junk"; } > preamble.pem
cat server.pem server-pkcs1.key > cert-pkcs1.pem
cat client.pem client-sec1.key > cert-sec1.pem
cat server.pem server-enc.key > cert-enckey.pem
cat server.pem client.key > mismatch.pem

# PKCS#12 the ways OpenSSL 3, old Windows and certtool make them.
$O pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem \
    -passout $P -out modern.pfx
$O pkcs12 -export -legacy -in server.pem -inkey server.key \
    -certfile ca.pem -passout $P -out legacy.pfx
$O pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem \
    -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 \
    -passout $P -out des3.pfx
$O pkcs12 -export -in client.pem -inkey client.key -passout pass: \
    -out empty.pfx
certtool --to-p12 --load-certificate client.pem --load-privkey client.key \
    --p12-name client --password 1234 --outder --outfile certtool.p12 \
    2>/dev/null
# The seeds' step: PFX to PEM with openssl, preamble and all.
$O pkcs12 -in modern.pfx -passin $P -nodes -out from-pfx.pem 2>/dev/null
$O pkcs12 -in modern.pfx -passin $P -clcerts -nokeys \
    -out client_cert.pem 2>/dev/null

# PKCS#7 (.p7b) as a CA sends a chain back.
$O crl2pkcs7 -nocrl -certfile fullchain.pem -out chain.p7b
$O crl2pkcs7 -nocrl -certfile fullchain.pem -outform DER -out chain-der.p7b
