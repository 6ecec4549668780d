#!/bin/sh
# A duration typed without its unit is an error naming the option or
# FILE:LINE and suggesting units, never silently read as seconds
# ("list --expiring 30" meant 30 days and listed nothing).  Issue 13
# item 15.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# usage OPTION... : exits 2 with "OPT ARG: add a unit (...)".
usage() {
	run_status st "$CERTVIGIL" -S "$T/none.sock" "$@" 2>"$T/err"
	assert_eq "$*: exit 2" 2 "$st"
	assert_match "$*: message" \
	    "^certvigil: $2 $3: add a unit \(30d, 12h, 90m, 45s\)" "$(cat "$T/err")"
}
usage list --expiring 30
usage list --expiring 1d12
usage events --since 3600
# With a unit the option is accepted (no daemon there: 3).
run_status st "$CERTVIGIL" -S "$T/none.sock" list --expiring 30d 2>"$T/err"
assert_eq "list --expiring 30d is not a usage error" 3 "$st"

bad() {
	# bad WHAT REGEX: the config in $T/bad.conf is refused with REGEX.
	run_status st timeout 20 "$CERTVIGILD" -f -c "$T/bad.conf" -S "$T/s" -d "$T/st" 2>"$T/err"
	assert_eq "$1: exit 1" 1 "$st"
	assert_match "$1: message" "$2" "$(cat "$T/err")"
}
hint='add a unit \(30d, 12h, 90m, 45s\)'
printf '[daemon]\nexpiring = 30\n' > "$T/bad.conf"
bad "daemon expiring" "^certvigild: $T/bad.conf:2: expiring = 30: $hint$"
printf '[daemon]\nrescan_interval = 1h\nalert_before = 30d,7\n' > "$T/bad.conf"
bad "alert_before list" "^certvigild: $T/bad.conf:3: alert_before = 30d,7: every duration needs its unit: $hint$"
printf '[watch w]\npath = /tmp\nalert_before = 14\n' > "$T/bad.conf"
bad "watch alert_before" "^certvigild: $T/bad.conf:3: alert_before = 14: every"
printf '[binding b]\nrenew_before = 30\n' > "$T/bad.conf"
bad "binding renew_before" "^certvigild: $T/bad.conf:2: renew_before: '30': $hint$"
printf '[binding b]\nservice_timeout = 5\n' > "$T/bad.conf"
bad "binding service_timeout" "^certvigild: $T/bad.conf:2: service_timeout = 5: $hint$"
printf '[issuer i]\ntype = exec\ntimeout = 5\n' > "$T/bad.conf"
bad "issuer timeout" "^certvigild: $T/bad.conf:3: timeout = 5: $hint$"
printf '[daemon]\nclient_timeout = 30s\nevent_retention = 90d\nalert_before = 30d,1d12h\n[watch w]\npath = %s\n' "$T" > "$T/good.conf"
daemon_start "$T/good.conf"
ok "durations with units load"
