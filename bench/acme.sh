#!/bin/sh
# make bench-acme (issue 17): issue-and-deploy BENCH_N (20) certificates
# against one pebble, side by side in one run: certvigil (20 bindings of
# one daemon, renew --now each: the engine runs them at once), lego
# (Debian testing's, fetched by .ci/lego) and certbot (Debian's; installed
# with apt-get when missing).  The same names, the same webroot, ECDSA
# P-256 keys; pebble with PEBBLE_VA_ALWAYS_VALID=1 so that validation does
# not dominate (each client still writes and removes its challenge files).
# Each client has its account before the clock starts (a warm-up
# certificate).  Deployment: certvigil's own (files written, nginx
# reloaded, the new certificate verified on its port); lego and certbot
# reload the same nginx from their hook (--run-hook, --deploy-hook).
#
# Prints certificates per second for each, the ratios (goal: certvigil
# >= 5x certbot, >= 2x lego), and the daemon's peak RSS and status round
# trips (bench-client status-until) during a second round of renewals.
# Not a test: exit 0 whatever the figures, 1 only if it could not run.
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"	# pebble_get

N=${BENCH_N:-20}
# The nginx daemons are not in T_PIDS (they detach): stopped on any exit.
# BENCH_KEEP=1: the run directory stays, its path printed at the end.
if [ "${BENCH_KEEP:-0}" = 1 ]; then
	trap 'stop_nginx; for p in $T_PIDS; do kill "$p" 2>/dev/null || :; done
	    echo "bench-acme: kept $T" >&2' EXIT
else
	trap 'stop_nginx; t_cleanup' EXIT
fi
CLIENT=${BENCH_CLIENT:-$top_builddir/bench/bench-client}
need nginx
need jq
need python3
[ -x "$CLIENT" ] || fail "$CLIENT missing (make bench-acme builds it)"
if ! command -v certbot >/dev/null; then
	echo "bench-acme: installing certbot (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends certbot >"$T/apt.log" 2>&1 ||
	    fail "certbot is not installed and apt-get could not install it"
fi
sh "$top_srcdir/.ci/lego" >&2 || fail "lego could not be fetched (.ci/lego)"
LEGO=${CERTVIGIL_LEGO_DIR:-$top_srcdir/.lego}/root/usr/bin/lego

names() { _i=0; while [ $_i -le "$N" ]; do printf 'b%02d\n' $_i; _i=$((_i + 1)); done; }
name_of() { echo "$1.bench.example.org"; }

# ---- nginx: one per binding (b00 is the warm-up's) ---------------------
# One each: a binding's files are moved aside while it is deployed, and a
# reload of an nginx shared with that moment would fail for another.
setup_nginx() {
	mkdir -p "$T/ca" "$T/live" "$T/webroot"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/ca/ca.key" -out "$T/ca/ca.pem" -days 2 \
	    -subj "/CN=bench CA" >/dev/null 2>&1
	for b in $(names); do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$T/live/$b.key" -out "$T/live/$b.csr" \
		    -subj "/CN=$(name_of "$b")" >/dev/null 2>&1
		openssl x509 -req -in "$T/live/$b.csr" -CA "$T/ca/ca.pem" \
		    -CAkey "$T/ca/ca.key" -CAcreateserial -days 2 \
		    -out "$T/live/$b.pem" >/dev/null 2>&1
		p=$(free_port)
		echo "$p" >"$T/live/$b.port"
		d=$T/nginx/$b
		mkdir -p "$d/logs"
		cat >"$d/nginx.conf" <<EOT
worker_processes 1; pid $d/nginx.pid; error_log $d/logs/error.log;
events { worker_connections 64; }
http { access_log off;
server { listen 127.0.0.1:$p ssl; ssl_certificate $T/live/$b.pem;
ssl_certificate_key $T/live/$b.key; } }
EOT
		printf '#!/bin/sh\nexec nginx -p %s -c %s -s reload\n' "$d" \
		    "$d/nginx.conf" >"$T/reload-$b.sh"
		chmod +x "$T/reload-$b.sh"
		nginx -p "$d" -c "$d/nginx.conf" || fail "nginx $b did not start"
	done
	for b in $(names); do
		_n=0
		until port_open "$(cat "$T/live/$b.port")"; do
			_n=$((_n + 1))
			[ $_n -lt 300 ] || fail "nginx $b did not listen"
			sleep 0.1
		done
	done
}
stop_nginx() {
	for b in $(names); do
		[ -f "$T/nginx/$b/nginx.pid" ] || continue
		nginx -p "$T/nginx/$b" -c "$T/nginx/$b/nginx.conf" -s stop \
		    2>/dev/null || true
	done
}

# ---- certvigil ---------------------------------------------------------
cv_conf() {
	cat >"$T/conf" <<EOT
[issuer acme]
type = acme
directory = $PEBBLE_DIR_URL
directory_ca_file = $PEBBLE_CA
ca_file = $T/pebble-root.pem
contact = mailto:admin@example.org
webroot = $T/webroot
key_type = ec
EOT
	for b in $(names); do
		cat >>"$T/conf" <<EOT

[binding $b]
ipport = 127.0.0.1:$(cat "$T/live/$b.port")
issuer = acme
cert_file = $T/live/$b.pem
key_file = $T/live/$b.key
san = DNS:$(name_of "$b")
subject = CN=$(name_of "$b")
reload = $T/reload-$b.sh
verify_timeout = 60s
EOT
	done
}

# cv_round: renew --now every binding but b00 (their ids collected), then
# waits for a renewal_done event of each (the stream's backlog holds older
# rounds': matched by id); milliseconds until the last.
cv_round() {
	_ev=$T/events.$1
	: >"$_ev"
	"$CERTVIGIL" -S "$D_SOCK" events --follow --json >>"$_ev" &
	_fp=$!
	wait_line "$_ev" '"kind"' 30 || fail "no event stream"
	: >"$T/ids.$1"
	_t0=$(now_ms)
	for b in $(names | sed 1d); do
		cv renew "$b" --now --json >>"$T/ids.$1" ||
		    fail "renew $b --now refused"
	done
	_ids=$(jq -r .id "$T/ids.$1" | paste -sd'|')
	timeout 300 tail -n +1 -f "$_ev" | grep -E -m "$N" \
	    "\"renewal_done\".*: renewal ($_ids) " >"$T/ends.$1" || true
	_t1=$(now_ms)
	kill "$_fp" 2>/dev/null || true
	wait "$_fp" 2>/dev/null || true
	[ "$(wc -l <"$T/ends.$1")" -eq "$N" ] || {
		cv renewals | tail -n 40 >&2
		fail "certvigil round $1: not all $N renewals done"
	}
	echo $((_t1 - _t0))
}

# run_certvigil: the daemon, its warm-up, BENCH_RUNS timed rounds (each
# followed by lego's, for the same load: see main), then one round with
# bench-client timing status replies back to back.
cv_start() {
	cv_conf
	daemon_start "$T/conf"
	cv renew b00 --now --wait >"$T/warm.out" 2>&1 || {
		cat "$T/warm.out" >&2; tail -n 20 "$T/daemon.log" >&2
		fail "certvigil warm-up failed"; }
	CV_IDLE=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$D_PID/status")
}
# cv_timed R: round R, milliseconds in $T/cv.ms.R, CPU (daemon with its
# reload commands; pebble) in $T/cv.cpu.R.
cv_timed() {
	_d0=$(cpu "$D_PID") _p0=$(cpu "$PEBBLE_PID")
	if [ "${BENCH_PERF:-0}" = 1 ] && [ "$1" = 1 ]; then
		perf record -q -F 999 -p "$D_PID" -o "$T/perf.data" \
		    2>/dev/null &
		_pp=$!
	fi
	cv_round "$1" >"$T/cv.ms.$1"
	echo "$(sub "$(cpu "$D_PID")" "$_d0") $(sub "$(cpu "$PEBBLE_PID")" \
	    "$_p0")" >"$T/cv.cpu.$1"
	if [ -n "${_pp:-}" ]; then
		kill -INT "$_pp"; wait "$_pp" || :
		_pp=
		for _k in dso dso,sym; do
			perf report -i "$T/perf.data" --stdio --no-children \
			    --sort $_k 2>/dev/null | grep -v '^#' | grep . |
			    head -n 25
		done >"$T/perf.txt"
		echo "bench-acme: certvigild's CPU in round 1 (perf):" >&2
		cat "$T/perf.txt" >&2
	fi
}
cv_status_round() {
	mkfifo "$T/warm"
	"$CLIENT" -p "$D_PID" -r 3 "$D_SOCK" status-until "$T/status-done" \
	    100000000 3>"$T/warm" >"$T/status" &
	_cp=$!
	read -r _l <"$T/warm" || true
	[ "$_l" = READY ] || fail "bench-client did not start"
	CVS_MS=$(cv_round status)
	touch "$T/status-done"
	wait "$_cp" || fail "bench-client failed"
	. "$T/status"
	CV_HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$D_PID/status")
	CV_RSS=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$D_PID/status")
	for b in $(names | sed 1d); do
		openssl x509 -in "$T/live/$b.pem" -noout -issuer |
		    grep -qi pebble || fail "$b: not a pebble certificate"
	done
	daemon_stop
}

# ---- lego and certbot: one process per certificate, one after another --
lego_one() {
	LEGO_CA_CERTIFICATES=$PEBBLE_CA "$LEGO" --server "$PEBBLE_DIR_URL" \
	    --accept-tos --email admin@example.org --path "$T/lego" \
	    --key-type ec256 --http --http.webroot "$T/webroot" \
	    --domains "$(name_of "$1")" run --run-hook "$T/reload-$1.sh" \
	    >>"$T/lego.log" 2>&1
}
certbot_one() {
	REQUESTS_CA_BUNDLE=$PEBBLE_CA certbot certonly --non-interactive \
	    --agree-tos -m admin@example.org --server "$PEBBLE_DIR_URL" \
	    --config-dir "$T/cb/etc" --work-dir "$T/cb/work" \
	    --logs-dir "$T/cb/logs" --webroot -w "$T/webroot" \
	    --key-type ecdsa -d "$(name_of "$1")" \
	    --deploy-hook "$T/reload-$1.sh" >>"$T/certbot.log" 2>&1
}
# warm TOOL: its account, with b00's certificate (not timed).
warm() {
	"$1_one" b00 || { tail -n 30 "$T/$1.log" >&2; fail "$1 warm-up failed"; }
}
# timed TOOL: b01..bN one after another: milliseconds.
timed() {
	_t0=$(now_ms)
	for b in $(names | sed 1d); do
		"$1_one" "$b" || { tail -n 30 "$T/$1.log" >&2
			grep -A30 Traceback "$T/cb/logs/letsencrypt.log" >&2 || :
			fail "$1 $b failed"; }
	done
	echo $(($(now_ms) - _t0))
}
# lego_parallel: b01..bN at once (xargs -P), another account path.
lego_parallel() {
	_t0=$(now_ms)
	names | sed 1d | LEGO=$LEGO T=$T PEBBLE_CA=$PEBBLE_CA \
	    PEBBLE_DIR_URL=$PEBBLE_DIR_URL xargs -P "$N" -I{} sh -c \
	    'LEGO_CA_CERTIFICATES=$PEBBLE_CA "$LEGO" --server "$PEBBLE_DIR_URL" --accept-tos --email admin@example.org --path "$T/lego" --key-type ec256 --http --http.webroot "$T/webroot" --domains {}p.bench.example.org run --run-hook "$T/reload-{}.sh" >>"$T/lego-p.log" 2>&1' ||
	    { tail -n 30 "$T/lego-p.log" >&2; fail "lego in parallel failed"; }
	echo $(($(now_ms) - _t0))
}

# cpu PID: user + system CPU seconds of a process and its reaped children
# (certvigild's: the reload commands) so far.
cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, "");
	    printf "%.2f", ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"
}
# kids FILE: CPU seconds of this shell's finished children so far, via
# FILE ("times" must run in this shell, not in a $(...) subshell).
kids() {
	times >"$1"
	sed -n 2p "$1" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
	    printf "%.2f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' >"$1.s"
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
rate() { awk -v n="$N" -v ms="$1" 'BEGIN { printf "%.2f", n * 1000 / ms }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b / a }'; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
setup_nginx
# No deliberate badNonce (pebble rejects 5 % by default): certbot 2.1
# retries one only, and its error path then fails (josepy).
PEBBLE_ENV="PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_WFE_NONCEREJECT=0" pebble_start
pebble_get /roots/0 >"$T/pebble-root.pem" || fail "cannot fetch pebble's root"
# certvigil and lego take turns, BENCH_RUNS times, so that the machine's
# load (other builds) falls on both; medians.  certbot runs once (about
# 50 s).  Then lego with N processes at once, and certvigil's status round.
R=${BENCH_RUNS:-3}
cv_start
warm lego
r=1
while [ $r -le "$R" ]; do
	cv_timed $r
	_p0=$(cpu "$PEBBLE_PID")
	kids "$T/k0"
	timed lego >"$T/lego.ms.$r"
	kids "$T/k1"
	echo "$(sub "$(cat "$T/k1.s")" "$(cat "$T/k0.s")") $(sub \
	    "$(cpu "$PEBBLE_PID")" "$_p0")" >"$T/lego.cpu.$r"
	r=$((r + 1))
done
med() { cat "$T/$1".* | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
medcol() { cat "$T/$1".* | sort -n -k"$2" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
CV_MS=$(med cv.ms) LEGO_MS=$(med lego.ms)
CV_CPU=$(medcol cv.cpu 1) CV_PCPU=$(medcol cv.cpu 2)
LEGO_CPU=$(medcol lego.cpu 1) LEGO_PCPU=$(medcol lego.cpu 2)
warm certbot
_p0=$(cpu "$PEBBLE_PID")
kids "$T/k2"
CB_MS=$(timed certbot)
kids "$T/k3"
CB_PCPU=$(sub "$(cpu "$PEBBLE_PID")" "$_p0")
CB_CPU=$(sub "$(cat "$T/k3.s")" "$(cat "$T/k2.s")")
LEGOP_MS=$(lego_parallel)
cv_status_round
stop_nginx
orders=$(grep -c '^Pebble .* Added order ' "$T/pebble/log" || true)

echo
echo "bench-acme: $N certificates each, $(cd "$(dirname "$PEBBLE")/../../.." &&
    ls debs 2>/dev/null | head -n 1), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs,"
echo "load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$orders orders in all"
printf '  %-34s %8s %10s\n' "client" "seconds" "certs/s"
echo "  (certvigil and lego: medians of $R runs taking turns; runs in ms:" \
    "certvigil $(cat "$T"/cv.ms.* | paste -sd' '), lego" \
    "$(cat "$T"/lego.ms.* | paste -sd' '))"
printf '  %-34s %8.2f %10s\n' "certvigil (one daemon, at once)" \
    "$(echo "$CV_MS" | awk '{ print $1 / 1000 }')" "$(rate "$CV_MS")"
printf '  %-34s %8.2f %10s\n' "certvigil, status timed meanwhile" \
    "$(echo "$CVS_MS" | awk '{ print $1 / 1000 }')" "$(rate "$CVS_MS")"
printf '  %-34s %8.2f %10s\n' "lego $("$LEGO" --version | awk '{ print $3 }') (one after another)" \
    "$(echo "$LEGO_MS" | awk '{ print $1 / 1000 }')" "$(rate "$LEGO_MS")"
printf '  %-34s %8.2f %10s\n' "certbot $(certbot --version 2>&1 | awk '{ print $2 }') (one after another)" \
    "$(echo "$CB_MS" | awk '{ print $1 / 1000 }')" "$(rate "$CB_MS")"
printf '  %-34s %8.2f %10s\n' "lego, $N processes at once" \
    "$(echo "$LEGOP_MS" | awk '{ print $1 / 1000 }')" "$(rate "$LEGOP_MS")"
echo "  CPU seconds (client; pebble): certvigil $CV_CPU (reloads included);" \
    "$CV_PCPU -- lego $LEGO_CPU (hooks" \
    "included); $LEGO_PCPU -- certbot $CB_CPU; $CB_PCPU"
echo "  certvigil / certbot: $(ratio "$CV_MS" "$CB_MS")x (goal >= 5x)"
echo "  certvigil / lego:    $(ratio "$CV_MS" "$LEGO_MS")x (goal >= 2x)"
echo "  certvigil / lego at once: $(ratio "$CV_MS" "$LEGOP_MS")x"
echo "  certvigild RSS: ${CV_IDLE} kB before the rounds, peak ${CV_HWM} kB," \
    "${CV_RSS} kB after"
echo "  status while renewing: n=$status_n p50=${status_p50_us} us" \
    "p99=${status_p99_us} us max=${status_max_us} us (goal p99 <= 1000 us)"
exit 0
