#!/bin/sh
# bench/loop-stall.sh: does a renewal that is verifying slow the daemon
# down?  Not a test: it prints figures and the targets of issue 11, and
# exits 0 whether they are met or not (1 only if it could not run).
# "make bench-stall" runs it; so does running it by itself from the build
# directory after "make bench" built bench/corpus-gen and bench-client.
# bench/README says what it measures and how.
#
# Two phases scan the same input under the same conditions; only the
# renewal differs.  Each run of a phase starts a fresh daemon with a
# fresh state directory and its own copy of the live files (readiness on
# --ready-fd through a FIFO, never a sleep), watching only the live
# directory.  Its binding's probe port is an openssl s_server that serves
# the old certificate forever, and verify_timeout = 100s.
#
#   baseline: a reload adds a [watch] of the corpus (N new files, 10,000).
#   renewal:  "renew web --now" and the log's "verifying" first; then the
#             same reload while the renewal verifies.
#
# During the scan, bench-client sends status requests over one connection
# (warmed up before the reload: -r) until the daemon logs "scan finished";
# the slowest reply and when it was sent are printed too.
# The phases alternate, BENCH_RUNS (3) times each; the medians of status
# p50/p99 and of the scan rate are printed, and their ratios.  Each daemon
# is killed at the end (the renewal would roll back only after 100 s).
#
# Environment: BENCH_N (10000), BENCH_RUNS (3), BENCH_JOBS (2),
# BENCH_SEED (1), BENCH_TMPDIR, BENCH_KEEP=1, CERTVIGILD, CERTVIGIL,
# BENCH_CLIENT, CORPUS_GEN.
set -eu

top_builddir=${top_builddir:-$(pwd)}
CERTVIGILD=${CERTVIGILD:-$top_builddir/src/certvigild}
CERTVIGIL=${CERTVIGIL:-$top_builddir/src/certvigil}
CORPUS_GEN=${CORPUS_GEN:-$top_builddir/bench/corpus-gen}
CLIENT=${BENCH_CLIENT:-$top_builddir/bench/bench-client}
N=${BENCH_N:-10000}
RUNS=${BENCH_RUNS:-3}
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

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# log_nth N REGEX [SECONDS]: waits for the N-th line of the run's log
# matching REGEX and prints it.  tail -F follows the log (no polling) and
# is killed once the line is there: the daemon may log nothing more.
log_nth() {
	timeout "${3:-300}" sh -c '
	    { tail -n +1 -F "$1" 2>/dev/null & echo $! >"$1.tail"; wait; } |
	    grep -E --line-buffered -- "$3" |
	    { sed -n "$2{p;q}"; kill "$(cat "$1.tail")" 2>/dev/null; }' \
	    sh "$LOG" "$1" "$2"
}

# median: the median of the numbers on standard input, one a line.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0;
	    else if (NR % 2) print v[(NR + 1) / 2];
	    else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "certvigil loop-stall benchmark: N=$N, $RUNS runs a phase," \
    "$(nproc) CPUs, in $T"

echo "== corpus, CA, TLS server"
"$CORPUS_GEN" -j "$JOBS" "$T/corpus" "$N" "$SEED" >/dev/null ||
	die "corpus-gen"
mkdir -p "$T/ca" "$T/live0"
"$CERTVIGIL" ca init --cn "Bench Root" --out-cert "$T/ca/ca.pem" \
    --out-key "$T/ca/ca.key" >/dev/null
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn localhost --san DNS:localhost,IP:127.0.0.1 --purpose server \
    --days 30 --out-key "$T/live0/web.key" --out-cert "$T/live0/web.pem" \
    >/dev/null
# The "service": serves the certificate it was started with, forever.
cp "$T/live0/web.pem" "$T/served.pem"
cp "$T/live0/web.key" "$T/served.key"
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

# conf RUNDIR [CORPUS]: the run's config, watching its live directory
# and, once given, the corpus.
conf() {
	cat >"$1/conf" <<EOF
[daemon]
socket = $1/control.sock
state_dir = $1/state
log = stderr
log_level = info
rescan_interval = 1d

[watch live]
path = $1/live

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
cert_file = $1/live/web.pem
key_file = $1/live/web.key
san = DNS:localhost,IP:127.0.0.1
subject = CN=localhost
reload = /bin/true
verify_timeout = 100s
EOF
	[ $# -lt 2 ] || cat >>"$1/conf" <<EOF

[watch corpus]
path = $2
recursive = yes
role = auto
password_file = $2/password
exclude = password
EOF
}

# start RUNDIR: a fresh daemon on a fresh state directory and a fresh
# copy of the live files; waits until it is ready.  Sets DPID, SOCK, LOG.
start() {
	mkdir -p "$1/state"
	cp -p "$T/live0" -r "$1/live"
	LOG=$1/daemon.log
	SOCK=$1/control.sock
	: >"$LOG"
	conf "$1"
	mkfifo "$1/ready"
	"$CERTVIGILD" -f -c "$1/conf" -S "$SOCK" -d "$1/state" \
	    --ready-fd 3 3>"$1/ready" 2>>"$LOG" &
	DPID=$!
	line=
	read -r line <"$1/ready" || true
	[ "$line" = READY ] ||
		{ cat "$LOG" >&2; die "$1: the daemon did not become ready"; }
}

# measure RUNDIR: status round trips from a warmed-up connection while
# the reload's scan of the corpus runs; appends "p50 p99 n rate" to
# $T/PHASE.rows and prints the run's figures.
measure() {
	nscan=$(grep -c 'scan finished' "$LOG" || true)
	mkfifo "$1/warm"
	"$CLIENT" -p "$DPID" -r 3 "$SOCK" status-until "$1/scan-done" \
	    100000000 3>"$1/warm" >"$1/status" &
	TPID=$!
	line=
	read -r line <"$1/warm" || true
	[ "$line" = READY ] || die "$1: bench-client did not start"
	conf "$1" "$T/corpus"
	"$CERTVIGIL" -S "$SOCK" reload >/dev/null || die "reload failed"
	# The scan after this reload is the (nscan + 1)-th.
	log_nth $((nscan + 1)) 'scan finished' "${BENCH_SCAN_TIMEOUT:-300}" \
	    >"$1/scan"
	[ -s "$1/scan" ] || die "$1: the scan did not finish"
	touch "$1/scan-done"
	wait "$TPID" || die "$1: bench-client failed"
	TPID=
	. "$1/status"
	files=$(sed -n 's/.*scan finished: \([0-9]*\) files read in \([0-9.]*\)s.*/\1 \2/p' \
	    "$1/scan")
	rate=$(echo "$files" | awk '{ printf "%.0f", ($2 > 0) ? $1 / $2 : 0 }')
	echo "$status_p50_us $status_p99_us $status_n $rate $status_max_us" \
	    >>"$T/$phase.rows"
	printf '  %-12s status p50 %6s us  p99 %8s us  (%s requests)\n' \
	    "$(basename "$1")" "$status_p50_us" "$status_p99_us" "$status_n"
	printf '  %-12s status max %s us, sent %s ms after the first\n' "" \
	    "$status_max_us" "$status_max_at_ms"
	printf '  %-12s scan %6s certs/s (%s)\n' "" "$rate" \
	    "$(echo "$files" | awk '{ print $1 " files in " $2 " s" }')"
}

# verifying RUNDIR: starts the renewal and waits until it verifies.
verifying() {
	"$CERTVIGIL" -S "$SOCK" renew web --now >/dev/null ||
		die "renew failed"
	log_nth 1 'renewal [0-9]+ \(web\): verifying' 120 | grep -q . ||
		die "$1: the renewal did not reach verifying"
}

# still_verifying RUNDIR: warns if the renewal left verifying too soon.
still_verifying() {
	state=$("$CERTVIGIL" -S "$SOCK" renewals --json | jq -r '.[-1].state')
	[ "$state" = verifying ] ||
		echo "  (warning: $(basename "$1"): the renewal was $state" \
		    "when the scan ended)"
}

# run PHASE I: one run of a phase on its own daemon, killed after it.
run() {
	phase=$1
	d=$T/$1-$2
	mkdir -p "$d"
	start "$d"
	[ "$phase" = baseline ] || verifying "$d"
	measure "$d"
	[ "$phase" = baseline ] || still_verifying "$d"
	kill -KILL "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}

echo "== scans of the same $N new files, alternating:" \
    "baseline (no renewal) and renewal (verifying, verify_timeout 100s)"
: >"$T/baseline.rows"
: >"$T/renewal.rows"
i=1
while [ $i -le "$RUNS" ]; do
	run baseline $i
	run renewal $i
	i=$((i + 1))
done

# col PHASE K: the median of column K of the phase's runs.
col() { awk -v k="$2" '{ print $k }' "$T/$1.rows" | median; }

B_P50=$(col baseline 1); B_P99=$(col baseline 2); B_N=$(col baseline 3)
B_RATE=$(col baseline 4); B_MAX=$(col baseline 5)
R_P50=$(col renewal 1); R_P99=$(col renewal 2); R_N=$(col renewal 3)
R_RATE=$(col renewal 4); R_MAX=$(col renewal 5)

echo
echo "== summary (medians of $RUNS runs a phase)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
ok() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN {
	r = (c == "le") ? (a <= b) : (a >= b); print r ? "OK" : "MISS" }'; }
printf '%-46s %10s %10s %8s\n' "" baseline renewal ratio
printf '%-46s %10s %10s %8s\n' "status requests during the scan" \
    "$B_N" "$R_N" ""
printf '%-46s %10s %10s %8s\n' "status p50 (us)" "$B_P50" "$R_P50" \
    "$(ratio "$R_P50" "$B_P50")"
printf '%-46s %10s %10s %8s\n' "status p99 (us)" "$B_P99" "$R_P99" \
    "$(ratio "$R_P99" "$B_P99")"
printf '%-46s %10s %10s %8s\n' "status max (us)" "$B_MAX" "$R_MAX" \
    "$(ratio "$R_MAX" "$B_MAX")"
printf '%-46s %10s %10s %8s\n' "scan rate (certs/s)" "$B_RATE" "$R_RATE" \
    "$(ratio "$R_RATE" "$B_RATE")"
printf '%-46s %10s (target <= %s) %s\n' \
    "status p99 while verifying (us)" "$R_P99" "$T_STATUS_P99" \
    "$(ok "$R_P99" "$T_STATUS_P99" le)"
printf '%-46s %10s (target >= %s) %s\n' "scan rate ratio" \
    "$(ratio "$R_RATE" "$B_RATE")" "$T_SCAN_RATIO" \
    "$(ok "$(ratio "$R_RATE" "$B_RATE")" "$T_SCAN_RATIO" ge)"
exit 0
