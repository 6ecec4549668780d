#!/bin/sh
# Fault injection (issue 7): tests/faultinject.so (LD_PRELOAD) fails the
# Nth write/fsync/rename/open(O_CREAT)/malloc, for every N, while
# "certvigil convert X.pfx --to pem" replaces a cert/key pair and while
# the daemon writes its inventory; then ENOSPC on the state directory.
# Faults during a renewal: tests/renew-faults.sh.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl sqlite3 jq
FI=$top_builddir/tests/faultinject.so
[ -f "$FI" ] || skip "tests/faultinject.so not built"
# The injector wraps libc under the program; under valgrind it would wrap
# valgrind.  The ASan build runs these.
[ -z "${CV_VALGRIND:-}" ] || skip "fault injection does not run under valgrind"
asan=no
if ldd "$CERTVIGIL" | grep -q libasan || nm "$CERTVIGIL" 2>/dev/null | grep -q __asan_init; then
	asan=yes
	# Our preload comes before the ASan runtime: allowed, it only wraps
	# libc calls.  Leaks of a run cut short are not what we test.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0"
	export ASAN_OPTIONS
fi

# ---- convert: the old pair or the new pair, never a torn file ----------
P12=$top_srcdir/fuzz/corpus/x509/leaf-1234.p12
echo 1234 > "$T/pw"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/old.key" -out "$T/old.pem" -subj /CN=old -days 30 2>/dev/null
mkdir "$T/new" "$T/o"
"$CERTVIGIL" convert "$P12" --to pem --cert-out "$T/new/c.pem" \
    --key-out "$T/new/k.pem" --password-file "$T/pw" >/dev/null
pubkey() { openssl pkey -pubout -in "$1" 2>/dev/null | sha256sum; }
certpub() { openssl x509 -noout -pubkey -in "$1" 2>/dev/null | sha256sum; }

fi_for() { [ "$1" = malloc ] && echo "${FI%.so}-malloc.so" || echo "$FI"; }
# convert_run N CALL: one faulted run on a fresh copy of the old pair;
# prints "ok", "old", "mixed" or a failure.
runs=0 mixed=0 failed_ok=0
convert_run() {
	rm -rf "$T/o"; mkdir "$T/o"
	cp "$T/old.pem" "$T/o/c.pem"; cp "$T/old.key" "$T/o/k.pem"
	run_status st env FAULT_CALL="$2" FAULT_N="$1" FAULT_PATH="$T/o" \
	    LD_PRELOAD="$(fi_for "$2")" "$CERTVIGIL" convert "$P12" --to pem \
	    --cert-out "$T/o/c.pem" --key-out "$T/o/k.pem" \
	    --password-file "$T/pw" >/dev/null 2>"$T/err"
	runs=$((runs + 1))
	for f in c.pem k.pem; do
		o=$( [ $f = c.pem ] && echo "$T/old.pem" || echo "$T/old.key")
		cmp -s "$T/o/$f" "$o" || cmp -s "$T/o/$f" "$T/new/$f" ||
		    fail "$2 #$1: $f is neither the old nor the new file"
	done
	if [ "$st" = 0 ]; then
		cmp -s "$T/o/c.pem" "$T/new/c.pem" && cmp -s "$T/o/k.pem" "$T/new/k.pem" ||
		    fail "$2 #$1: exit 0 but the new pair is not in place"
	elif [ "$st" -lt 128 ]; then
		[ -s "$T/err" ] || fail "$2 #$1: failed (exit $st) without saying why"
		failed_ok=$((failed_ok + 1))
	fi
	ls "$T/o" | grep -q cvtmp && [ "$st" -lt 128 ] &&
	    fail "$2 #$1: temporary file left behind: $(ls "$T/o")"
	[ "$(certpub "$T/o/c.pem")" = "$(pubkey "$T/o/k.pem")" ] ||
	    mixed=$((mixed + 1))
}

calls="write fsync rename open"
[ $asan = no ] && calls="$calls malloc"
for call in $calls; do
	rm -f "$T/count"
	env FAULT_CALL=$call FAULT_N=0 FAULT_COUNT="$T/count" \
	    FAULT_PATH="$( [ $call = malloc ] || echo "$T/o")" \
	    LD_PRELOAD="$(fi_for $call)" "$CERTVIGIL" convert "$P12" --to pem \
	    --cert-out "$T/o/c.pem" --key-out "$T/o/k.pem" \
	    --password-file "$T/pw" >/dev/null
	total=$(awk '{ print $2 }' "$T/count")
	step=1
	[ "$total" -gt 60 ] && step=$((total / 60))
	n=1
	while [ "$n" -le "$total" ]; do
		if [ $call = malloc ]; then
			FAULT_PATH= convert_run "$n" malloc
		else
			convert_run "$n" "$call"
		fi
		n=$((n + step))
	done
	ok "convert with $call #1..$total failing (step $step): every file old or new, complete"
done
echo "# measured: $runs faulted convert runs, $failed_ok reported a failure, $mixed left a new certificate with the old key (or the reverse)"
# fsutil_write_set: the pair changes together or not at all.
assert_eq "convert: never a new certificate beside the old key" 0 "$mixed"

# ---- the daemon's inventory under write/fsync faults --------------------
mkdir -p "$T/w"
for i in 1 2 3 4 5 6; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout /dev/null -out "$T/w/c$i.pem" -subj "/CN=c$i" -days 30 2>/dev/null
done
cat > "$T/conf" <<EOT
[daemon]
socket_mode = 0600
[watch w]
path = $T/w
EOT
dbruns=0 dbstarted=0
for call in write fsync; do
	for n in 1 2 3 4 5 6 8 10 13 16 20 25 30 40; do
		rm -rf "$D_STATE"
		if daemon_try "$T/conf" FAULT_CALL=$call FAULT_N=$n FAULT_PATH=inventory.db \
		    LD_PRELOAD="$FI"; then
			dbstarted=$((dbstarted + 1))
			cv status --json >/dev/null || fail "$call #$n: no status"
			daemon_stop
		else
			kill "$D_PID" 2>/dev/null || true
			wait "$D_PID" 2>/dev/null || true
		fi
		dbruns=$((dbruns + 1))
		if [ -f "$D_STATE/inventory.db" ]; then
			r=$(sqlite3 "$D_STATE/inventory.db" 'PRAGMA integrity_check')
			[ "$r" = ok ] || fail "$call #$n: integrity_check: $r"
		fi
		# And it starts again, without faults, with every certificate.
		daemon_start "$T/conf"
		assert_eq "$call #$n: restart lists all" 6 \
		    "$(cv list --json | jq length)" >/dev/null
		daemon_stop
	done
done
ok "inventory: $dbruns faulted starts ($dbstarted got ready), integrity_check ok, restart lists all"

# ---- ENOSPC on the state directory --------------------------------------
if [ "$(id -u)" = 0 ] && mkdir "$T/small" &&
    mount -t tmpfs -o size=2m tmpfs "$T/small" 2>/dev/null; then
	trap 'umount "$T/small" 2>/dev/null || true; t_cleanup' EXIT
	D_STATE=$T/small/state
	daemon_start "$T/conf"
	# Fill the disk, then give the daemon files to record.
	dd if=/dev/zero of="$T/small/fill" bs=64k 2>/dev/null || true
	follow_start
	for i in $(seq 1 40); do
		cp "$T/w/c1.pem" "$T/w/more$i.pem"
	done
	cv rescan >/dev/null
	wait_line "$T/daemon.log" "full|No space|ENOSPC" ||
	    fail "disk full: nothing in the log"
	assert_eq "disk full: status still answers" 6 \
	    "$(cv status --json | jq .certs.total)"
	assert_match "disk full: list still answers" "c1" "$(cv list)"
	assert_match "disk full: the log says why" "(database or disk is full|No space left)" \
	    "$(cat "$T/daemon.log")"
	rm -f "$T/small/fill"
	daemon_stop
	assert_eq "disk full: integrity_check" ok \
	    "$(sqlite3 "$D_STATE/inventory.db" 'PRAGMA integrity_check')"
	umount "$T/small"
else
	echo "# ENOSPC part skipped: mounting a tmpfs is not permitted here"
fi
echo "faults: $T_COUNT passed, 0 failed"
