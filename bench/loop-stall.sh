#!/bin/sh
# bench/loop-stall.sh: does a renewal that is verifying slow the daemon
# down?  Not a test: it prints figures and the targets of issue 11, and
# exits 0 whether they are met or not (1 only if it could not run).
# "make bench-stall" runs it; so does running it by itself from the build
# directory after "make bench" built bench/corpus-gen and bench-client.
#
# One daemon (own config, socket and state directory under a temporary
# directory; readiness on --ready-fd through a FIFO, never a sleep), with
# a binding whose probe port is an openssl s_server that serves the old
# certificate forever, and verify_timeout = 100s:
#
#   1. baseline: a [watch] of N (10,000) new files is added (reload);
#      status round trips from one connection (bench-client) until the
#      daemon logs "scan finished"; the scan's own rate.
#   2. "renew web --now", wait for the log's "verifying"; then the same
#      with another corpus of N files while the renewal verifies.
#
# p50/p99 of status and certs/s of both are printed, and the ratio of
# the scan rates.  The daemon is killed at the end (the renewal would
# roll back only after its 100 s).
#
# Environment: BENCH_N (10000), BENCH_JOBS (2), BENCH_SEED (1),
# BENCH_TMPDIR, BENCH_KEEP=1, CERTVIGILD, CERTVIGIL, BENCH_CLIENT,
# CORPUS_GEN.
set -eu

top_builddir=${top_builddir:-$(pwd)}
CERTVIGILD=${CERTVIGILD:-$top_builddir/src/certvigild}
CERTVIGIL=${CERTVIGIL:-$top_builddir/src/certvigil}
CORPUS_GEN=${CORPUS_GEN:-$top_builddir/bench/corpus-gen}
CLIENT=${BENCH_CLIENT:-$top_builddir/bench/bench-client}
N=${BENCH_N:-10000}
JOBS=${BENCH_JOBS:-2}
SEED=${BENCH_SEED:-1}

# Targets from issue 11.
T_STATUS_P99=1000	# us, while the renewal verifies and the scan runs
T_SCAN_RATIO=0.9	# scan rate with the renewal / without, at least

DPID=
SPID=
TPID=
T=

die() {
	echo "loop-stall: $*" >&2
	exit 1
}

cleanup() {
	for p in $TPID $SPID $DPID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$T" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			echo "loop-stall: kept $T"
		else
			rm -rf "$T"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for p in "$CERTVIGILD" "$CERTVIGIL" "$CORPUS_GEN" "$CLIENT"; do
	[ -x "$p" ] || die "$p: not built (run make bench first)"
done
for p in openssl python3 jq; do
	command -v $p >/dev/null || die "$p is needed"
done

T=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/certvigil-stall.XXXXXX")
chmod 0750 "$T"
LOG=$T/daemon.log
SOCK=$T/control.sock
: >"$LOG"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# log_nth N REGEX [SECONDS]: waits for the N-th line of the daemon's log
# matching REGEX and prints it.  tail -F follows the log (no polling) and
# is killed once the line is there: the daemon may log nothing more.
log_nth() {
	timeout "${3:-300}" sh -c '
	    { tail -n +1 -F "$1" 2>/dev/null & echo $! >"$1.tail"; wait; } |
	    grep -E --line-buffered -- "$3" |
	    { sed -n "$2{p;q}"; kill "$(cat "$1.tail")" 2>/dev/null; }' \
	    sh "$LOG" "$1" "$2"
}

echo "certvigil loop-stall benchmark: N=$N, $(nproc) CPUs, in $T"

echo "== corpora, CA, TLS server"
"$CORPUS_GEN" -j "$JOBS" "$T/a" "$N" "$SEED" >/dev/null || die "corpus-gen"
"$CORPUS_GEN" -j "$JOBS" "$T/b" "$N" $((SEED + 1)) >/dev/null ||
	die "corpus-gen"
mkdir -p "$T/ca" "$T/live" "$T/state"
"$CERTVIGIL" ca init --cn "Bench Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn localhost --san DNS:localhost,IP:127.0.0.1 --purpose server \
    --days 30 --out-key "$T/live/web.key" --out-cert "$T/live/web.pem" \
    >/dev/null
# The "service": serves the certificate it was started with, forever.
cp "$T/live/web.pem" "$T/served.pem"
cp "$T/live/web.key" "$T/served.key"
PORT=$(free_port)
openssl s_server -quiet -accept "127.0.0.1:$PORT" -cert "$T/served.pem" \
    -key "$T/served.key" -www >/dev/null 2>&1 </dev/null &
SPID=$!
python3 - "$PORT" <<'EOF' || die "openssl s_server did not listen"
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF

# conf [CORPUS...]: the config, watching live and the corpora named.
conf() {
	cat >"$T/conf" <<EOF
[daemon]
socket = $SOCK
state_dir = $T/state
log = stderr
log_level = info
rescan_interval = 1d

[watch live]
path = $T/live

[issuer local]
type = local
ca_cert = $T/ca/ca.pem
ca_key = $T/ca/ca.key
days = 30
key_type = ec

[binding web]
ipport = 127.0.0.1:$PORT
appid = {4dc3e181-e14b-4a21-b022-59fc669b0914}
issuer = local
cert_file = $T/live/web.pem
key_file = $T/live/web.key
san = DNS:localhost,IP:127.0.0.1
subject = CN=localhost
reload = /bin/true
verify_timeout = 100s
EOF
	for c in "$@"; do
		cat >>"$T/conf" <<EOF

[watch $c]
path = $T/$c
recursive = yes
role = auto
password_file = $T/$c/password
exclude = password
EOF
	done
}

conf
fifo=$T/ready
mkfifo "$fifo"
"$CERTVIGILD" -f -c "$T/conf" -S "$SOCK" -d "$T/state" --ready-fd 3 \
    3>"$fifo" 2>>"$LOG" &
DPID=$!
line=
read -r line <"$fifo" || true
[ "$line" = READY ] || { cat "$LOG" >&2; die "the daemon did not become ready"; }

# measure NAME CORPUS...: reload with the corpora, status round trips
# until the scan is done; sets P50, P99, RATE, NREQ.
measure() {
	name=$1
	shift
	nscan=$(grep -c 'scan finished' "$LOG" || true)
	conf "$@"
	rm -f "$T/scan-done"
	"$CLIENT" -p "$DPID" "$SOCK" status-until "$T/scan-done" 10000000 \
	    >"$T/$name.status" &
	TPID=$!
	"$CERTVIGIL" -S "$SOCK" reload >/dev/null || die "reload failed"
	# The scan after this reload is the (nscan + 1)-th.
	log_nth $((nscan + 1)) 'scan finished' "${BENCH_SCAN_TIMEOUT:-300}" \
	    >"$T/$name.scan"
	[ -s "$T/$name.scan" ] || die "$name: the scan did not finish"
	touch "$T/scan-done"
	wait "$TPID" || die "$name: bench-client failed"
	TPID=
	. "$T/$name.status"
	P50=$status_p50_us
	P99=$status_p99_us
	NREQ=$status_n
	files=$(sed -n 's/.*scan finished: \([0-9]*\) files read in \([0-9.]*\)s.*/\1 \2/p' \
	    "$T/$name.scan")
	RATE=$(echo "$files" | awk '{ printf "%.0f", ($2 > 0) ? $1 / $2 : 0 }')
	printf '  %-40s p50 %8s us  p99 %8s us  (%s requests)\n' \
	    "$name: status" "$P50" "$P99" "$NREQ"
	printf '  %-40s %8s certs/s (%s)\n' "$name: scan" "$RATE" \
	    "$(echo "$files" | awk '{ print $1 " files in " $2 " s" }')"
}

echo "== 1. scan of $N without a renewal"
measure baseline a
B_P99=$P99
B_RATE=$RATE

echo "== 2. scan of $N while a renewal verifies (verify_timeout 100s)"
"$CERTVIGIL" -S "$SOCK" renew web --now >/dev/null || die "renew failed"
log_nth 1 'renewal [0-9]+ \(web\): verifying' 120 | grep -q . ||
	die "the renewal did not reach verifying"
t_verify=$(date +%s)
measure renewal a b
R_P99=$P99
R_RATE=$RATE
state=$("$CERTVIGIL" -S "$SOCK" renewals --json | jq -r '.[-1].state')
echo "  renewal still $state, $(( $(date +%s) - t_verify )) s into verifying"
[ "$state" = verifying ] ||
	echo "  (warning: the renewal left verifying before the scan ended)"

echo
echo "== summary"
ratio=$(awk -v a="$R_RATE" -v b="$B_RATE" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
ok() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN {
	r = (c == "le") ? (a <= b) : (a >= b); print r ? "OK" : "MISS" }'; }
printf '%-46s %10s %s %s\n' "status p99 during scan, no renewal (us)" \
    "$B_P99" "" ""
printf '%-46s %10s (target <= %s) %s\n' \
    "status p99 during scan + verifying (us)" "$R_P99" "$T_STATUS_P99" \
    "$(ok "$R_P99" "$T_STATUS_P99" le)"
printf '%-46s %10s\n' "scan rate, no renewal (certs/s)" "$B_RATE"
printf '%-46s %10s\n' "scan rate, renewal verifying (certs/s)" "$R_RATE"
printf '%-46s %10s (target >= %s) %s\n' "scan rate ratio" "$ratio" \
    "$T_SCAN_RATIO" "$(ok "$ratio" "$T_SCAN_RATIO" ge)"
exit 0
