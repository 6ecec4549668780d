#!/bin/sh
# Issue 12 item 12: temporary files with private keys that a daemon killed
# mid-write left in STATE_DIR/store (*.key.cvtmp.PID.*, and the
# *.cvold.PID.* backups) are removed at start-up, as the bindings' are.
# A live writer's temporaries (its PID running) stay.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl

mkdir -p "$T/w"
cat > "$T/conf" <<EOT
[watch w]
path = $T/w
EOT
daemon_start "$T/conf"
daemon_stop
S=$D_STATE/store
[ -d "$S" ] || fail "no store directory"
dead=$(sh -c 'echo $$')
sleep 600 & live=$!
T_PIDS="$T_PIDS $live"
sha=0123456789abcdef0123456789abcdef01234567
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 \
    -out "$S/$sha.key.cvtmp.$dead.1a2b3c" 2>/dev/null
cp "$S/$sha.key.cvtmp.$dead.1a2b3c" "$S/pending-7.key.cvtmp.$dead.99"
cp "$S/$sha.key.cvtmp.$dead.1a2b3c" "$S/$sha.key.cvold.$dead.5"
cp "$S/$sha.key.cvtmp.$dead.1a2b3c" "$S/$sha.key.cvtmp.$live.77"
daemon_start "$T/conf"
left=$(ls "$S" | grep -c "\.cv\(tmp\|old\)\.$dead\." || true)
assert_eq "a dead writer's temporaries are gone" 0 "$left"
[ -e "$S/$sha.key.cvtmp.$live.77" ] || fail "a live writer's temporary was removed"
ok "a live writer's temporary stays"
daemon_stop
echo "store-clean: $T_COUNT passed, 0 failed"
