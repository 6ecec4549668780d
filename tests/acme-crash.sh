#!/bin/sh
# Issue 17: the daemon dies (test-build crash point) right after each ACME
# sub-step is recorded; the restarted daemon resumes the SAME order (one
# newOrder in pebble's log per renewal) and nginx ends up serving a
# pebble certificate.  pebble rejects half of the nonces
# (PEBBLE_WFE_NONCEREJECT=50): badNonce is retried throughout.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/pebble-lib.sh"
. "$top_srcdir/tests/acme-lib.sh"
need_test_hooks

PEBBLE_ENV=PEBBLE_WFE_NONCEREJECT=50 acme_setup
acme_conf
orders=0
for step in account ordered authorized finalized downloaded; do
	before=$(served)
	CERTVIGIL_TEST_CRASH_AT=acme-$step daemon_start "$T/conf"
	cv renew web --now >/dev/null || true
	run_status st wait "$D_PID"
	[ "$st" = 99 ] || { cat "$T/daemon.log" >&2; fail "$step: daemon exit $st, not the crash point"; }
	T_PIDS=$(echo "$T_PIDS" | sed "s/ $D_PID//")
	rm -f "$D_SOCK"
	id=$(sqlite3 "$D_STATE/inventory.db" 'SELECT max(id) FROM renewals')
	if [ "$step" != downloaded ]; then
		assert_eq "$step: recorded" "$step" \
		    "$(jq -r .step "$D_STATE/work/acme-$id.json")"
	fi
	placed=$(new_orders)
	daemon_start "$T/conf"
	wait_renewal "$id"
	assert_eq "$step: resumed renewal $id done" "$id done" \
	    "$(cv renewals --json | jq -r '.[-1] | "\(.id) \(.state)"')"
	orders=$((orders + 1))	# account: placed after the restart
	assert_eq "$step: the same order (newOrder count)" "$orders" "$(new_orders)"
	[ "$step" = account ] || assert_eq "$step: no newOrder after the restart" \
	    "$placed" "$(new_orders)"
	[ "$(served)" != "$before" ] || fail "$step: nginx serves the old certificate"
	chains_to_pebble || fail "$step: nginx does not serve a pebble certificate"
	ok "$step: nginx serves a pebble certificate"
	daemon_stop
done
echo "acme-crash: passed"
