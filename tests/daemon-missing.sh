#!/bin/sh
# A [watch] path that does not exist (or a glob that matches nothing) is
# warned about once -- at load, not again at every rescan -- and listed
# under "missing" by status (JSON and text) until it appears.  Issue 13
# item 17.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
mkdir -p "$T/there"
cp "$T/fx/server.pem" "$T/there/"
cat > "$T/conf" <<EOC
[daemon]
log_level = info
rescan_interval = 1d
[watch there]
path = $T/there
[watch nodir]
path = $T/nodir
[watch nofile]
path = $T/there/later.pem
[watch noglob]
path = $T/gone/*.pem
EOC
daemon_start "$T/conf"
for p in "$T/nodir" "$T/there/later.pem"; do
	assert_eq "one warning for $p" 1 "$(grep -c "warning: watch .*: $p: no such file or directory" "$T/daemon.log")"
done
assert_eq "one warning for the glob" 1 "$(grep -c "warning: watch noglob: $T/gone/\*.pem: matches nothing" "$T/daemon.log")"
assert_eq "the present path: no warning" 0 "$(grep -c "warning: watch there:" "$T/daemon.log")"
# A rescan does not repeat them (the glob's missing directory warned at
# every full scan).
cv rescan >/dev/null
timeout "$(slow 20)" tail -n +1 -f "$T/daemon.log" | grep -m 2 'scan finished' >/dev/null || true
assert_eq "second scan ran" 2 "$(grep -c 'scan finished' "$T/daemon.log")"
assert_eq "no warning repeated" 3 "$(grep -c 'warning: watch' "$T/daemon.log")"

cv status --json > "$T/st.json"
assert_eq "status: nothing missing in 'there'" "[]" "$(jq -c '.watches[] | select(.name == "there") | .missing' "$T/st.json")"
assert_eq "status: nodir missing" "[\"$T/nodir\"]" "$(jq -c '.watches[] | select(.name == "nodir") | .missing' "$T/st.json")"
assert_eq "status: glob missing" "[\"$T/gone/*.pem\"]" "$(jq -c '.watches[] | select(.name == "noglob") | .missing' "$T/st.json")"
cv status > "$T/st.txt"
assert_match "status text: missing file" "  missing: $T/there/later.pem" "$(cat "$T/st.txt")"
assert_eq "status text: three missing lines" 3 "$(grep -c '^  missing: ' "$T/st.txt")"

# The file appears: it is read, and no longer missing.
follow_start
cp "$T/fx/client.pem" "$T/there/later.pem"
wait_event "\"discovered\".*$T/there/later.pem"
assert_eq "appeared: not missing" "[]" "$(cv status --json | jq -c '.watches[] | select(.name == "nofile") | .missing')"
daemon_stop
