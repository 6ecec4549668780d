#!/bin/sh
# A binding's cert_file outside every [watch] is read on the thread pool,
# never on the loop (issue 11): with each open of it taking 4 s
# (faultinject FAULT_DELAY_MS), the daemon gets ready and answers at
# once, "binding show" says the file is being read, and shows its
# thumbprint when the read is done.  A watched cert_file is answered from
# the inventory (renew-drift.sh).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl jq
FI=$top_builddir/tests/faultinject.so
[ -f "$FI" ] || skip "tests/faultinject.so not built"
[ -z "${CV_VALGRIND:-}" ] || skip "fault injection does not run under valgrind"
if ldd "$CERTVIGILD" | grep -q libasan ||
    nm "$CERTVIGILD" 2>/dev/null | grep -q __asan_init; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0"
	export ASAN_OPTIONS
fi

mkdir -p "$T/w" "$T/ca" "$T/unwatched"
"$CERTVIGIL" ca init --cn "Test Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn localhost --san DNS:localhost --purpose server --days 30 \
    --out-key "$T/unwatched/web.key" --out-cert "$T/unwatched/web.pem" \
    >/dev/null
sha=$(openssl x509 -in "$T/unwatched/web.pem" -noout -fingerprint -sha1 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
cat > "$T/conf" <<EOT
[daemon]
log_level = debug

[watch w]
path = $T/w

[binding web]
ipport = 127.0.0.1:9
appid = {4dc3e181-e14b-4a21-b022-59fc669b0914}
cert_file = $T/unwatched/web.pem
key_file = $T/unwatched/web.key
reload = /bin/true
window = Sat 01:00-02:00
EOT

t0=$(now_ms)
daemon_try "$T/conf" LD_PRELOAD="$FI" FAULT_PATH=unwatched/web.pem \
    FAULT_DELAY_MS=4000 || { cat "$T/daemon.log" >&2; fail "not ready"; }
t1=$(now_ms)
# Before, the schedule and the window check read the file on the loop
# before the first scan could commit: 8 s and more.
[ $((t1 - t0)) -lt 3000 ] || fail "ready after $((t1 - t0)) ms: the loop read the slow file"
ok "ready in $((t1 - t0)) ms with a 4 s read of the cert_file pending"
t0=$(now_ms)
s=$(cv binding show --json)
cv status >/dev/null
t1=$(now_ms)
[ $((t1 - t0)) -lt 3000 ] || fail "binding show + status took $((t1 - t0)) ms"
ok "binding show and status answer while the read runs ($((t1 - t0)) ms)"
# The journal row waits for the thumbprint (its certhash is what the
# file holds): no row yet, or one without deployed_sha1.
assert_eq "nothing deployed known yet" "null" \
    "$(echo "$s" | jq -r '.[0].deployed_sha1')"
wait_line "$T/daemon.log" "unwatched/web.pem: read on the pool: $sha" 30 ||
	fail "the pool read did not finish"
s=$(cv binding show --json)
assert_eq "deployed_sha1 once read" "$sha" \
    "$(echo "$s" | jq -r '.[0].deployed_sha1')"
assert_eq "certhash: what the file held when first seen" "$sha" \
    "$(echo "$s" | jq -r '.[0].certhash')"
assert_eq "no drift" false "$(echo "$s" | jq -r '.[0].drift')"
t0=$(now_ms)
cv binding show --json >/dev/null
t1=$(now_ms)
[ $((t1 - t0)) -lt 3000 ] || fail "binding show read the file again ($((t1 - t0)) ms)"
ok "unchanged file: answered from the cache"
daemon_stop
echo "renew-deployed: $T_COUNT passed, 0 failed"
