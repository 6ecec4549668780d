#!/bin/sh
# Issue 16: a first scan of more than 1000 files into an empty inventory
# records one scan_finished event with its counts instead of one
# "discovered" event per file; parse errors are still recorded one by
# one, and a file that appears later gets its own "discovered" event.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
# 1,100 files in 11 directories: copies of two certificates.
d=0
while [ $d -lt 11 ]; do
	mkdir -p "$T/w/d$d"
	i=0
	while [ $i -lt 50 ]; do
		cp "$T/fx/server.pem" "$T/w/d$d/s$i.pem"
		cp "$T/fx/client.pem" "$T/w/d$d/c$i.pem"
		i=$((i + 1))
	done
	d=$((d + 1))
done
echo "not a certificate" > "$T/w/bad.pem"
cat > "$T/conf" <<EOT
[watch w]
path = $T/w
recursive = yes
EOT
daemon_start "$T/conf"
cv events --json > "$T/ev.json"
kinds() { jq -r --arg k "$1" 'select(.kind == $k) | .message' "$T/ev.json"; }
assert_eq "no discovered event per file" 0 "$(kinds discovered | wc -l)"
assert_eq "one scan_finished event" 1 "$(kinds scan_finished | wc -l)"
certs=$(cv status --json | jq .certs.total)
assert_match "scan_finished: its counts" \
    "^first scan: 1101 files read in [0-9.]+s; $certs certificates discovered in 1100 files \(one event for all\), 1 files with errors$" \
    "$(kinds scan_finished)"
assert_eq "scan_finished: no path, no thumbprint" "null null" \
    "$(jq -r 'select(.kind == "scan_finished") | "\(.path) \(.sha1)"' "$T/ev.json")"
assert_eq "the parse error is still its own event" "$T/w/bad.pem" \
    "$(jq -r 'select(.kind == "parse_error") | .path' "$T/ev.json")"
assert_eq "every file is in the inventory" 1100 \
    "$(cv list --json | jq '[.[].paths | length] | add')"

# The threads that read and write the scan run at nice 10 (the pool's
# parse threads and the writer); the loop thread (the process's id) stays
# at the daemon's own priority.
nices() {
	for t in /proc/"$D_PID"/task/*; do
		echo "${t##*/} $(sed 's/^.*) //' "$t/stat" | cut -d' ' -f17)"
	done
}
base=$(nices | awk -v p="$D_PID" '$1 == p { print $2 }')
assert_eq "the loop thread keeps its priority" "$(sed 's/^.*) //' /proc/self/stat | cut -d' ' -f17)" "$base"
assert_match "scan threads at nice 10" "^[2-9]|^[1-9][0-9]" \
    "$(nices | awk '$2 == 10' | wc -l)"

# After the first scan, a new file is discovered as before.
follow_start
cp "$T/fx/ca.pem" "$T/w/new.pem"
wait_event "\"discovered\".*$T/w/new.pem" 10
daemon_stop

# A restart scans an inventory that is not empty: no summary again.
daemon_start "$T/conf"
assert_eq "restart: still one scan_finished event" 1 \
    "$(cv events --json | jq -r 'select(.kind == "scan_finished") | .id' | wc -l)"
daemon_stop
ok "scan summary"
