#!/bin/sh
# Hostile files in a watched directory (issue 7): symlink loops, a symlink
# to /dev/zero, a FIFO, a 2 GB sparse file, a PFX with a 2^31-1 MAC
# iteration count, PEMs of a million and of 400,000 tiny blocks, a
# certificate with 10,000 SANs, and a file replaced every millisecond.
# Each is skipped or refused with an event naming it, once per path; CPU
# and memory stay bounded; the rest of the scan completes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl python3 jq

# wait_log REGEX COUNT [SECONDS]: until the daemon log has COUNT matching
# lines (inotify via tail -f, no sleeping).
wait_log() {
	timeout "${3:-30}" tail -n +1 -f "$T/daemon.log" 2>/dev/null |
	    grep -Eq -m "$2" -- "$1" ||
	    { tail -20 "$T/daemon.log" >&2; fail "log: no $2 x /$1/"; }
}
# cpu_ms PID: user+system CPU time of a process, in milliseconds.
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' \
	    "/proc/$1/stat"
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

W=$T/w
mkdir -p "$W/sub" "$T/gen"
# Good certificates: the scan of these must complete.
cp "$top_srcdir/fuzz/corpus/x509/leaf.pem" "$W/good.pem"
cp "$top_srcdir/fuzz/corpus/x509/leaf.der" "$W/sub/good.der"

# Symlink loops (file and directory), a symlink to /dev/zero, a FIFO.
ln -s loop-b "$W/loop-a"; ln -s loop-a "$W/loop-b"
ln -s .. "$W/sub/up"
ln -s /dev/zero "$W/zero.pem"
mkfifo "$W/fifo.pem"
# A 2 GB sparse file.
truncate -s 2G "$W/sparse.pem"
# A PFX whose MAC iteration count is 2^31-1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/gen/k.pem" -out "$T/gen/c.pem" -subj /CN=iter -days 30 2>/dev/null
openssl pkcs12 -export -in "$T/gen/c.pem" -inkey "$T/gen/k.pem" \
    -passout pass:1234 -out "$T/gen/ok.pfx"
"$FIXTOOL" patch-mac-iter "$T/gen/ok.pfx" "$W/iter.pfx" 2147483647
# PEMs of tiny blocks: a million (34 MB: over the size cap) and 400,000
# (14 MB: under it, over the block cap).
python3 - "$W" <<'PY'
import sys
blk = b"-----BEGIN X-----\n-----END X-----\n"
open(sys.argv[1] + "/million.pem", "wb").write(blk * 1000000)
open(sys.argv[1] + "/blocks.pem", "wb").write(blk * 400000)
PY
# A certificate with 10,000 SANs.
python3 - "$T/gen/san.cnf" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("[req]\ndistinguished_name=dn\nprompt=no\nx509_extensions=ext\n"
            "[dn]\nCN=many.example\n[ext]\nsubjectAltName=@alt\n[alt]\n")
    for i in range(1, 10001):
        f.write(f"DNS.{i}=h{i}.many.example\n")
PY
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/gen/san.key" -config "$T/gen/san.cnf" -out "$W/sans.pem" \
    -days 30 2>/dev/null

cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0600
[watch w]
path = $W
EOT
# Under ASan, freed memory waits in a 256 MiB quarantine: keep it small so
# the RSS bound measures the daemon, not the sanitizer.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
export ASAN_OPTIONS
daemon_start "$T/conf"
cpu_scan=$(cpu_ms "$D_PID")
hwm=$(hwm_kb "$D_PID")
echo "# measured: first scan of the hostile directory: daemon CPU ${cpu_scan} ms, peak RSS ${hwm} kB"
[ "$cpu_scan" -lt 30000 ] || fail "first scan used ${cpu_scan} ms of CPU"
ok "bounded CPU: ${cpu_scan} ms for the first scan"
[ "$hwm" -lt 400000 ] || fail "peak RSS ${hwm} kB"
ok "bounded memory: peak RSS ${hwm} kB"

cv events --json > "$T/ev1.json"
ev() { jq -r --arg p "$W/$1" 'select(.path == $p) | .kind + ": " + .message' "$T/ev1.json"; }
assert_match "symlink loop" "^skipped: symlink loop" "$(ev loop-a)"
assert_match "symlink loop (other end)" "^skipped: symlink loop" "$(ev loop-b)"
assert_match "directory symlink loop" "^skipped: symlink to a directory" "$(ev sub/up)"
assert_match "symlink to /dev/zero" "^skipped: a device" "$(ev zero.pem)"
assert_match "FIFO" "^skipped: a FIFO" "$(ev fifo.pem)"
assert_match "2 GB sparse file" "^parse_error: .*too large" "$(ev sparse.pem)"
assert_match "PFX, 2^31-1 iterations" "^parse_error: .*2147483647" "$(ev iter.pfx)"
assert_match "a million PEM blocks" "^parse_error: .*too large" "$(ev million.pem)"
assert_match "400,000 PEM blocks" "^parse_error: .*(blocks|10000)" "$(ev blocks.pem)"
assert_match "10,000 SANs: read" "^discovered" "$(ev sans.pem)"
nsan=$(cv show "$W/sans.pem" --json | jq '[.. | objects | .san? // empty | length] | max')
assert_eq "10,000 SANs: 1,000 kept" 1000 "$nsan"
assert_match "the rest of the scan: good.pem" "^discovered" "$(ev good.pem)"
assert_match "the rest of the scan: sub/good.der" "^discovered" "$(ev sub/good.der)"

# Once per path, not once per rescan.
nskip=$(jq -s '[.[] | select(.kind == "skipped")] | length' "$T/ev1.json")
cv rescan >/dev/null
wait_log "scan finished" 2
cv events --json > "$T/ev2.json"
assert_eq "no new skipped events after a rescan" "$nskip" \
    "$(jq -s '[.[] | select(.kind == "skipped")] | length' "$T/ev2.json")"

# A file replaced every millisecond for 3 seconds, then a last version.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/gen/last.key" -out "$T/gen/last.pem" -subj /CN=last -days 30 2>/dev/null
last=$(openssl x509 -in "$T/gen/last.pem" -noout -fingerprint -sha1 |
    sed 's/.*=//; s/://g' | tr A-F a-f)
follow_start
cpu0=$(cpu_ms "$D_PID")
python3 - "$W/flap.pem" "$T/gen/c.pem" "$top_srcdir/fuzz/corpus/x509/leaf.pem" <<'PY'
import os, sys, time
dst, a, b = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
end, n = time.monotonic() + 3, 0
while time.monotonic() < end:
    with open(dst + ".tmp", "wb") as f:
        f.write(a if n % 2 else b)
    os.replace(dst + ".tmp", dst)
    n += 1
    time.sleep(0.001)
print(f"# writer: {n} replacements in 3 s")
PY
cpu1=$(cpu_ms "$D_PID")
cp "$T/gen/last.pem" "$W/flap.tmp" && mv "$W/flap.tmp" "$W/flap.pem"
wait_event "\"sha1\":\"$last\"" 10
echo "# measured: daemon CPU while a file was replaced every ms for 3 s: $((cpu1 - cpu0)) ms"
# ASan and UBSan make each inotify event and parse several times dearer.
cpu_max=1500
ldd "$CERTVIGILD" | grep -q libasan && cpu_max=5000
[ $((cpu1 - cpu0)) -lt $cpu_max ] || fail "replaced-every-ms file cost $((cpu1 - cpu0)) ms CPU in 3 s"
ok "file replaced every ms: bounded CPU ($((cpu1 - cpu0)) ms in 3 s), last version read"
assert_match "still answering" "^[0-9]" "$(cv status --json | jq -r .version)"
daemon_stop

# What certvigil writes never goes through a symlink planted at the
# target (the temp-path case is tests/check_harden), and keys are 0600
# under umask 000.
mkdir "$T/out"
echo victim > "$T/victim"
for f in cert.pem key.pem chain.pem; do ln -s ../victim "$T/out/$f"; done
echo 1234 > "$T/pw"
(umask 000; "$CERTVIGIL" convert "$top_srcdir/fuzz/corpus/x509/leaf-1234.p12" \
    --to pem --cert-out "$T/out/cert.pem" --key-out "$T/out/key.pem" \
    --chain-out "$T/out/chain.pem" --password-file "$T/pw" >/dev/null)
assert_eq "planted symlinks: victim untouched" victim "$(cat "$T/victim")"
for f in cert.pem key.pem chain.pem; do
	[ -f "$T/out/$f" ] && [ ! -L "$T/out/$f" ] || fail "$f is still a symlink"
done
ok "planted symlinks replaced by regular files"
assert_eq "key 0600 under umask 000" 600 "$(stat -c %a "$T/out/key.pem")"
# The daemon started under umask 000: its state stays private.
rm -rf "$D_STATE"
old_umask=$(umask)
umask 000
daemon_start "$T/conf"
umask "$old_umask"
assert_eq "umask 000: state dir" 700 "$(stat -c %a "$D_STATE")"
assert_match "umask 000: inventory not writable by others" "^6[04][04]$" \
    "$(stat -c %a "$D_STATE/inventory.db")"
daemon_stop
echo "hostile-files: $T_COUNT passed, 0 failed"
