#!/bin/sh
# Issue 14: one binding, three services -- nginx, HAProxy (master-worker,
# crt with the key beside it) and an SMTP server with STARTTLS (aiosmtpd)
# on three ports.  renew --now --wait: all three serve the new
# certificate, downtime_ms is > 0 and within the test's own clock around
# the renewal.  A failing start of the third rolls back all three, each
# serving the old certificate again; so does a third that still serves
# the old certificate after its (silently failed) restart.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/services-lib.sh"

renew_setup
services_setup
services_conf
daemon_start "$T/conf"
follow_start

first=$(served_at "$NGX_PORT")
assert_eq "before: all three serve the deployed certificate" \
    "$first $first $first" "$(served3)"

# ---- all three take the new certificate --------------------------------
t0=$(now_ms)
cv renew web --now --wait >/dev/null || fail "renew --now --wait failed"
t1=$(now_ms)
R=$(cv renewals --json | jq '.[-1]')
assert_eq "three services: done" done "$(echo "$R" | jq -r .state)"
new=$(echo "$R" | jq -r .new_sha1)
[ "$new" != "$first" ] || fail "nothing was renewed"
assert_eq "nginx, haproxy and smtp serve the new certificate" \
    "$new $new $new" "$(served3)"
assert_eq "the binding names it" "$new" "$(cv binding show --json | jq -r '.[0].certhash')"
down=$(echo "$R" | jq -r .downtime_ms)
[ "$down" -gt 0 ] 2>/dev/null || fail "downtime_ms is '$down', not > 0"
[ "$down" -le $((t1 - t0)) ] || fail "downtime_ms $down exceeds the renewal's $((t1 - t0)) ms"
ok "downtime_ms $down > 0 and within the renewal's $((t1 - t0)) ms"
echo "# measured: three services stop/start: downtime_ms $down (renew --wait took $((t1 - t0)) ms)"
# Each service's stop and start ran, in order, and said so.
steps=$(echo "$R" | jq -r '[.steps[].state] | join(" ")')
assert_eq "steps" "due issuing issued stopping unbinding binding starting verifying done" "$steps"
for s in nginx haproxy mail; do
	[ -e "$D_STATE/work/$(echo "$R" | jq -r .id).stop.$s.log" ] ||
	    fail "no stop log for service $s"
	[ -e "$D_STATE/work/$(echo "$R" | jq -r .id).start.$s.log" ] ||
	    fail "no start log for service $s"
done
ok "each service was stopped and started (its own log)"
m=$(cv metrics)
assert_match "metric certvigil_renewal_downtime_seconds" \
    "certvigil_renewal_downtime_seconds\\{binding=\"web\"\\} $(printf '%d.%03d' $((down / 1000)) $((down % 1000)))" "$m"

# ---- the third's start fails: all three roll back ------------------------
touch "$T/fail-mail-start"
cv renew web --now >/dev/null
id=$(cv renewals --json | jq -r '.[-1].id')
wait_event "renewal $id (done|rolled back)" 180
R=$(cv renewals --json | jq '.[-1]')
assert_eq "failing mail start: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
assert_match "the error names the service" "mail: exit 1: mail start refused" \
    "$(echo "$R" | jq -r .error)"
nginx_running || fail "nginx is not running after the rollback"
ha_running || fail "haproxy is not running after the rollback"
mail_running || fail "the SMTP server is not running after the rollback"
ok "all three services running after the rollback"
assert_eq "all three serve the old certificate again" "$new $new $new" "$(served3)"
assert_eq "the binding still names it" "$new" "$(cv binding show --json | jq -r '.[0].certhash')"
assert_eq "cert_file holds it" "$new" "$(file_sha1 "$T/live/web.pem")"
rbdown=$(echo "$R" | jq -r .downtime_ms)
[ "$rbdown" -gt 0 ] 2>/dev/null || fail "rolled back: downtime_ms '$rbdown'"
ok "rolled back: downtime_ms $rbdown (stopped until the old certificate was served)"

# ---- renewed on disk, but the third still serves the old certificate ----
# Its stop says 0 without stopping it, so its start finds it running:
# only the smtp:// probe can tell, and the renewal must roll back all.
touch "$T/noop-mail-stop"
cv renew web --now >/dev/null
id=$(cv renewals --json | jq -r '.[-1].id')
wait_event "renewal $id (done|rolled back)" 180
R=$(cv renewals --json | jq '.[-1]')
assert_eq "stale third service: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
assert_match "stale third service: the smtp probe said so" \
    "mail smtp://127\\.0\\.0\\.1:$SMTP_PORT serves $new, not $(echo "$R" | jq -r .new_sha1)" \
    "$(echo "$R" | jq -r .error)"
assert_eq "stale third service: all three serve the old certificate" \
    "$new $new $new" "$(served3)"

# ---- binding show lists every probe --------------------------------------
assert_eq "binding show: services" "nginx haproxy mail" \
    "$(cv binding show --json | jq -r '.[0].services | map(.name) | join(" ")')"
assert_eq "binding show: the smtp probe" "smtp://127.0.0.1:$SMTP_PORT" \
    "$(cv binding show --json | jq -r '.[0].services[2].probe[0]')"

# ---- binding update: service = at run time (root) --------------------------
run_status st cv binding update name=web service=nope
[ "$st" != 0 ] || fail "service=nope accepted"
assert_match "an undefined service is refused" "service 'nope' is not defined" \
    "$(cv binding update name=web service=nope 2>&1)"
cv binding update name=web service=nginx,haproxy >/dev/null ||
    fail "binding update service=nginx,haproxy"
assert_eq "binding update: two services" "nginx haproxy" \
    "$(cv binding show --json | jq -r '.[0].services | map(.name) | join(" ")')"
assert_eq "binding update: their probes" "127.0.0.1:$NGX_PORT 127.0.0.1:$HA_PORT" \
    "$(cv binding show --json | jq -r '.[0].probes | join(" ")')"
daemon_stop

# ---- config errors name the line ------------------------------------------
bad() {
	run_status st timeout 20 "$CERTVIGILD" -f -c "$T/bad.conf" -S "$T/bad.sock" -d "$T/badstate" 2>"$T/err"
	assert_eq "$1: exit 1" 1 "$st"
	assert_match "$1: message" "$2" "$(cat "$T/err")"
}
sed 's/^service = nginx, haproxy, mail$/service = nginx, pop/' "$T/conf" > "$T/bad.conf"
bad "undefined service" "service 'pop' is not defined \\(add a \\[service pop\\] section\\)"
sed 's/^service = nginx, haproxy, mail$/service = nginx\nstop = \/bin\/true\nstart = \/bin\/true/' "$T/conf" > "$T/bad.conf"
bad "own commands beside service =" "with service =, stop, start, reload, config_test and probe go in the \\[service\\] sections"
printf '[service x]\nstop = /bin/true\n' > "$T/bad.conf"
bad "stop without start" "bad.conf:1: \\[service x\\]: stop and start go together"
printf '[service x]\ncert_file = /tmp/x\n' > "$T/bad.conf"
bad "a binding key in [service]" "bad.conf:2: unknown key 'cert_file' in \\[service x\\]"
printf '[service x]\nprobe = 127.0.0.1:1, smtp://127.0.0.1:2\nprobe = nope\n' > "$T/bad.conf"
bad "a bad probe" "bad.conf:3: probe: "
echo "renew-services: $T_COUNT passed, 0 failed"
