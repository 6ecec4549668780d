#!/bin/sh
# bench/list-cli.sh: "make bench-list" (issue 16).  The whole run of
# "certvigil list --json" on an inventory of BENCH_N (10,000) certificates
# against the socket reply alone (bench-client), medians of BENCH_RUNS
# (20) runs each.  With CERTVIGIL_BEFORE=/path/to/an/older/certvigil, the
# same for it, and whether both print the same bytes.  Not a test: prints
# figures and exits 0 (1 only if it could not run).
set -eu

top_builddir=${top_builddir:-$(pwd)}
CERTVIGILD=${CERTVIGILD:-$top_builddir/src/certvigild}
CERTVIGIL=${CERTVIGIL:-$top_builddir/src/certvigil}
CORPUS_GEN=${CORPUS_GEN:-$top_builddir/bench/corpus-gen}
CLIENT=${BENCH_CLIENT:-$top_builddir/bench/bench-client}
N=${BENCH_N:-10000}
RUNS=${BENCH_RUNS:-20}
DPID=

die() {
	echo "bench-list: $*" >&2
	exit 1
}
T=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/cv-bench-list.XXXXXX")
cleanup() {
	[ -z "$DPID" ] || { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; } || true
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT

"$CORPUS_GEN" -j 2 "$T/corpus" "$N" 1 >"$T/gen.log" || die "corpus-gen failed"
cat > "$T/conf" <<EOF
[daemon]
log = stderr
log_level = warn
rescan_interval = 1d

[watch corpus]
path = $T/corpus
recursive = yes
role = auto
password_file = $T/corpus/password
exclude = password
EOF
mkfifo "$T/ready"
"$CERTVIGILD" -f -c "$T/conf" -S "$T/sock" -d "$T/state" --ready-fd 3 \
    3>"$T/ready" 2>>"$T/daemon.log" &
DPID=$!
line=
read -r line <"$T/ready" || true
[ "$line" = READY ] || { cat "$T/daemon.log" >&2; die "the daemon did not become ready"; }

# median_ms PROGRAM: the median wall time of RUNS runs of list --json.
median_ms() {
	i=0
	while [ $i -lt "$RUNS" ]; do
		t0=$(date +%s%N)
		"$1" -S "$T/sock" list --json >/dev/null || die "$1 list failed"
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 ))
		i=$((i + 1))
	done | sort -n | awk '{ a[NR] = $1 } END {
	    m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	    printf "%.1f", m / 1000 }'
}

"$CLIENT" -p "$DPID" "$T/sock" list "$RUNS" >"$T/list.out" || die "bench-client failed"
. "$T/list.out"
echo "certificates listed:                 $list_certs ($(( list_bytes / 1024 )) KiB of JSON)"
echo "socket reply alone, median of $RUNS:     $list_median_ms ms"
echo "certvigil list --json, median of $RUNS:  $(median_ms "$CERTVIGIL") ms (goal <= 200)"
if [ -n "${CERTVIGIL_BEFORE:-}" ]; then
	echo "before ($CERTVIGIL_BEFORE), median:  $(median_ms "$CERTVIGIL_BEFORE") ms"
	# Bracketed: a days_left that ticks over between runs is not a diff.
	for try in 1 2 3; do
		"$CERTVIGIL_BEFORE" -S "$T/sock" list --json >"$T/b1"
		"$CERTVIGIL" -S "$T/sock" list --json >"$T/a"
		"$CERTVIGIL_BEFORE" -S "$T/sock" list --json >"$T/b2"
		cmp -s "$T/b1" "$T/b2" && break
	done
	if cmp -s "$T/b1" "$T/a"; then
		echo "output: byte-identical ($(wc -c <"$T/a") bytes)"
	else
		echo "output: DIFFERS from before"
	fi
fi
