#!/bin/sh
# Every bad input gets one clear line on stderr and a non-zero exit.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"

# bad WHAT EXPECTED-EXIT REGEX ARGS...: one stderr line matching REGEX.
bad() {
	what=$1 want=$2 re=$3
	shift 3
	run_status st "$CERTVIGIL" inspect "$@" >"$T/out" 2>"$T/err"
	assert_eq "$what: exit" "$want" "$st"
	[ "$want" = 2 ] && return 0
	assert_eq "$what: one line" 1 "$(wc -l < "$T/err")"
	assert_match "$what: reason" "$re" "$(cat "$T/err")"
}

: > empty.pem
head -c 4096 /dev/urandom | tr '\060-\062' 'xyz' > garbage.bin
printf '\060\202\020\000' > tiny.der
head -c 700 server.pem > trunc.pem
head -c 500 server.cer > trunc.cer
head -c 1000 modern.pfx > trunc.pfx
"$FIXTOOL" patch-mac-iter modern.pfx huge-iter.pfx 2147483647
truncate -s 50M big.pem
mkfifo fifo

bad "empty file" 1 "^certvigil: empty.pem: empty file$" empty.pem
bad "directory" 1 "^certvigil: \.: is a directory$" .
bad "missing" 1 "^certvigil: nope.pem: No such file" nope.pem
bad "garbage" 1 "^certvigil: garbage.bin: no certificate found" garbage.bin
bad "truncated PEM" 1 "^certvigil: trunc.pem: truncated PEM: BEGIN CERTIFICATE at line 1 has no END line$" trunc.pem
bad "truncated DER" 1 "^certvigil: trunc.cer: truncated DER" trunc.cer
bad "tiny DER" 1 "^certvigil: tiny.der: truncated DER" tiny.der
bad "truncated PFX" 1 "^certvigil: trunc.pfx: truncated DER" trunc.pfx
bad "wrong password" 1 "^certvigil: modern.pfx: wrong PKCS#12 password$" \
    --password-file wrongpass modern.pfx
bad "wrong password legacy" 1 "^certvigil: legacy.pfx: wrong PKCS#12 password$" \
    --password-file wrongpass legacy.pfx
bad "missing password" 1 "^certvigil: modern.pfx: PKCS#12 is password-protected: no password given" modern.pfx
bad "key password missing" 1 "^certvigil: cert-enckey.pem: ENCRYPTED PRIVATE KEY at line [0-9]+: encrypted private key: no password given" cert-enckey.pem
bad "key password wrong" 1 "wrong private key password" --password-file wrongpass cert-enckey.pem
bad "huge iteration count" 1 "^certvigil: huge-iter.pfx: PKCS#12 MAC iteration count 2147483647 exceeds the limit of 10000000" \
    --password-file password huge-iter.pfx
bad "50 MB file" 1 "^certvigil: big.pem: file too large \(52428800 bytes, limit 16777216\)$" big.pem
bad "fifo" 1 "^certvigil: fifo: is a FIFO, not a regular file$" fifo
bad "device" 1 "^certvigil: /dev/zero: is a device" /dev/zero
bad "key only" 1 "no certificate found \(the file holds 1 private key only\)" server.key
bad "no files" 2 "" --json
bad "unknown option" 2 "" --frobnicate server.pem
bad "password file missing" 2 "" --password-file /nonexistent server.pem

# A failure does not hide the good files given with it.
run_status st "$CERTVIGIL" inspect --json server.pem empty.pem >"$T/out" 2>"$T/err"
assert_eq "mixed: exit 1" 1 "$st"
assert_eq "mixed: good file still listed" 1 "$(jq length "$T/out")"

# The huge-iteration file is refused at once, not after minutes of PBKDF.
start=$(date +%s)
"$CERTVIGIL" inspect --password-file password huge-iter.pfx 2>/dev/null || true
assert_eq "huge iteration refused fast" 1 $(( $(date +%s) - start < 5 ))
echo "inspect-bad: $T_COUNT passed, 0 failed"
