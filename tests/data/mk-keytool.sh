#!/bin/sh
# Remakes the committed keytool fixtures (issue 13 items 1 and 4).  Run by
# hand where keytool exists (openjdk-17-jre-headless); CI has no Java, so
# the tests read the committed .p12 files.  Password of both: "changeit".
#   keytool-trust144.p12  a PKCS12 truststore of 144 trusted certificates
#   keytool-ec.p12        keytool -genkeypair -keyalg EC (secp256r1): its
#                         ECPrivateKey has no parameters
set -eu
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
i=1
while [ "$i" -le 144 ]; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout /dev/null -out "$t/ca$i.pem" -subj "/CN=Trust CA $i" \
	    -days 7300 2>/dev/null
	keytool -importcert -noprompt -storetype PKCS12 \
	    -keystore "$t/trust.p12" -storepass changeit -alias "ca$i" \
	    -file "$t/ca$i.pem" >/dev/null 2>&1
	i=$((i + 1))
done
cp "$t/trust.p12" keytool-trust144.p12
keytool -genkeypair -noprompt -storetype PKCS12 -keystore "$t/ec.p12" \
    -storepass changeit -alias web -keyalg EC -groupname secp256r1 \
    -dname "CN=keytool ec" -validity 3650 >/dev/null 2>&1
cp "$t/ec.p12" keytool-ec.p12
