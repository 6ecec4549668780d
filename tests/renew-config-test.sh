#!/bin/sh
# Issue 14: config_test runs with the new files in place and before any
# service is stopped or reloaded.  A deliberately broken new chain makes
# the real "nginx -t" fail: the files are put back, nginx is never
# stopped (its master PID is unchanged), and the renewal ends failed with
# nginx's stderr in renewals.  Then the outage of each test service,
# measured: > 0 and within the test's own clock for stop/start, 0 for
# reloads (nginx -s reload, HAProxy master-worker USR2).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/services-lib.sh"

renew_setup
services_setup
NGX="/usr/sbin/nginx -p $T/nginx -c $T/nginx/nginx.conf"
# The test command: when $T/break-test exists (one shot), the new chain
# in cert_file is broken first -- as a bad issuer or a hand edit would --
# then the real nginx -t judges the files.
cat > "$T/test.sh" <<EOT
#!/bin/sh
if [ -e "$T/break-test" ]; then
	rm -f "$T/break-test"
	printf -- '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n' > "$T/live/web.pem"
fi
exec $NGX -t -q
EOT
chmod +x "$T/test.sh"
renew_conf "config_test = $T/test.sh"
daemon_start "$T/conf"
follow_start
ngx_pid() { cat "$T/nginx/nginx.pid"; }

# ---- a broken new chain: nothing stopped, files back, failed -------------
before=$(served)
pid=$(ngx_pid)
touch "$T/break-test"
renew_and_wait
assert_eq "broken chain: failed" failed "$(echo "$R" | jq -r .state)"
assert_eq "broken chain: steps" "due issuing issued testing failed" \
    "$(echo "$R" | jq -r '[.steps[].state] | join(" ")')"
assert_match "broken chain: nginx's stderr in renewals" \
    "config_test.*exit 1.*(cannot load certificate|PEM_read_bio_X509_AUX)" \
    "$(echo "$R" | jq -r .error)"
assert_eq "broken chain: nginx never stopped (master PID unchanged)" "$pid" "$(ngx_pid)"
nginx_running || fail "broken chain: nginx is not running"
assert_eq "broken chain: the old files are back" "$before" "$(file_sha1 "$T/live/web.pem")"
assert_eq "broken chain: nginx serves the old certificate" "$before" "$(served)"
assert_eq "broken chain: downtime_ms 0" 0 "$(echo "$R" | jq -r .downtime_ms)"
ls "$T/live" | grep -q certvigil- && fail "broken chain: aside copies left: $(ls "$T/live")"
ok "broken chain: no aside copy left"
$NGX -t -q || fail "nginx -t fails on the restored files"
ok "broken chain: the restored files pass nginx -t"

# ---- the same binding, a good chain: tested, then stop/start --------------
: > "$T/events.jsonl"
renew_and_wait
assert_eq "good chain: done" done "$(echo "$R" | jq -r .state)"
assert_eq "good chain: steps" \
    "due issuing issued testing stopping unbinding binding starting verifying done" \
    "$(echo "$R" | jq -r '[.steps[].state] | join(" ")')"
new=$(echo "$R" | jq -r .new_sha1)
assert_eq "good chain: nginx serves the new certificate" "$new" "$(served)"
[ "$(ngx_pid)" != "$pid" ] || fail "good chain: nginx was not restarted"
ok "good chain: nginx restarted"
daemon_stop

# ---- the outage of each service alone ------------------------------------
# measure NAME KIND STOP START|RELOAD PROBE: renews a binding with the one
# [service], checks downtime_ms (reload: 0; stop/start: > 0, within the
# renewal) and prints it.
measure() {
	renew_conf "service = $1"
	sed -i '/^stop = /d; /^start = /d' "$T/conf"
	{
		echo "[service $1]"
		if [ "$2" = reload ]; then echo "reload = $3"; else
			echo "stop = $3"; echo "start = $4"; fi
		echo "probe = $5"
	} >> "$T/conf"
	daemon_start "$T/conf"
	follow_start
	_t0=$(now_ms)
	# (not renew_and_wait: the backlog holds the first part's failure)
	cv renew web --now >/dev/null
	_id=$(cv renewals --json | jq -r '.[-1].id')
	wait_event "renewal $_id (done|rolled back)" 180
	_t1=$(now_ms)
	R=$(cv renewals --json | jq '.[-1]')
	assert_eq "$1 $2: done" done "$(echo "$R" | jq -r .state)"
	_new=$(echo "$R" | jq -r .new_sha1)
	_d=$(echo "$R" | jq -r .downtime_ms)
	if [ "$2" = reload ]; then
		assert_eq "$1 reload: downtime_ms 0" 0 "$_d"
	else
		[ "$_d" -gt 0 ] && [ "$_d" -le $((_t1 - _t0)) ] ||
		    fail "$1 stop/start: downtime_ms $_d not in 1..$((_t1 - _t0))"
		ok "$1 stop/start: downtime_ms $_d in 1..$((_t1 - _t0))"
	fi
	echo "# measured: $1 $2: downtime_ms $_d (renewal $((_t1 - _t0)) ms by the test's clock)"
	daemon_stop
	M_NEW=$_new
}
measure nginx stop/start "$T/stop.sh" "$T/start.sh" "127.0.0.1:$NGX_PORT"
assert_eq "nginx stop/start: serves the new certificate" "$M_NEW" "$(served)"
measure nginx reload "$NGX -s reload" "" "127.0.0.1:$NGX_PORT"
assert_eq "nginx reload: serves the new certificate" "$M_NEW" "$(served)"
measure haproxy stop/start "$T/ha-stop.sh" "$T/ha-start.sh" "127.0.0.1:$HA_PORT"
assert_eq "haproxy stop/start: serves the new certificate" "$M_NEW" "$(served_at "$HA_PORT")"
hapid=$(cat "$T/ha.pid")
measure haproxy reload "$T/ha-reload.sh" "" "127.0.0.1:$HA_PORT"
assert_eq "haproxy reload: serves the new certificate" "$M_NEW" "$(served_at "$HA_PORT")"
assert_eq "haproxy reload: the master stayed" "$hapid" "$(cat "$T/ha.pid")"
measure mail stop/start "$T/mail-stop.sh" "$T/mail-start.sh" "smtp://127.0.0.1:$SMTP_PORT"
assert_eq "mail stop/start: serves the new certificate" "$M_NEW" "$(served_at "$SMTP_PORT" smtp)"
echo "renew-config-test: $T_COUNT passed, 0 failed"
