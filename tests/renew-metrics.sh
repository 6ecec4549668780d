#!/bin/sh
# Issue 15: every renewal outcome is a metric and an alert.  Against a real
# nginx: the per-binding series (info, not_after, next_renewal, state,
# last renewal, renewals_total), a rollback (a start that fails) and a
# success counted from the journal (so a restart keeps the counts), and
# the rollback's events reaching alert_command with CERTVIGIL_EVENT.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
need promtool

renew_setup
cat > "$T/hook.sh" <<EOT
#!/bin/sh
printf '%s|%s|%s|' "\$CERTVIGIL_EVENT" "\$CERTVIGIL_SHA1" "\$CERTVIGIL_PATHS" >> "$T/hook.log"
cat >> "$T/hook.log"
EOT
chmod +x "$T/hook.sh"
: > "$T/hook.log"
renew_conf
{ printf '[daemon]\nalert_command = %s\nmetrics_textfile = %s\n\n' "$T/hook.sh" "$T/metrics.prom"
  cat "$T/conf"; } > "$T/conf.new" && mv "$T/conf.new" "$T/conf"
OLD=$(file_sha1 "$T/live/web.pem")
NA=$(date -u -d "$(openssl x509 -in "$T/live/web.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
daemon_start "$T/conf"
follow_start

m() { cv metrics | grep -E "^$1" || true; }
# The binding's cert_file is read once the schedule ran: wait for its
# notAfter rather than sleep.
timeout "$(slow 30)" sh -c "until '$CERTVIGIL' -S '$D_SOCK' metrics | grep -q '^certvigil_binding_not_after_seconds'; do sleep 0.2; done" ||
    fail "no certvigil_binding_not_after_seconds within 30 s"
assert_eq "binding_info" "certvigil_binding_info{binding=\"web\",endpoint=\"127.0.0.1:$NGX_PORT\",certhash=\"$OLD\",issuer=\"local\"} 1" \
    "$(m certvigil_binding_info)"
assert_eq "not_after is the deployed notAfter" \
    "certvigil_binding_not_after_seconds{binding=\"web\"} $NA" "$(m certvigil_binding_not_after_seconds)"
nr=$(m certvigil_binding_next_renewal_seconds | sed 's/.* //')
[ -n "$nr" ] && [ "$nr" -gt "$(date +%s)" ] && [ "$nr" -lt "$NA" ] ||
    fail "next_renewal '$nr' is not between now and notAfter $NA"
assert_eq "no emergency" 'certvigil_binding_renewal_emergency{binding="web"} 0' "$(m certvigil_binding_renewal_emergency)"
assert_eq "no renewal yet: no state" "" "$(m certvigil_binding_renewal_state)"
assert_eq "counters start at 0 for every result" \
    "certvigil_renewals_total{binding=\"web\",result=\"done\"} 0
certvigil_renewals_total{binding=\"web\",result=\"failed\"} 0
certvigil_renewals_total{binding=\"web\",result=\"rolled_back\"} 0" "$(m certvigil_renewals_total)"
assert_match "TYPE counter" "# TYPE certvigil_renewals_total counter" "$(cv metrics)"

# A start that fails: rolled back, both events to alert_command.
touch "$T/fail-start"
renew_and_wait
assert_eq "rolled back" rolled_back "$(echo "$R" | jq -r .state)"
wait_line "$T/hook.log" "^rolled_back\|$OLD\|$T/live/web.pem\|" 30 ||
    { cat "$T/hook.log" >&2; fail "alert_command did not get rolled_back"; }
assert_match "renewal_failed too, before the rollback" "^renewal_failed\|" "$(cat "$T/hook.log")"
payload=$(grep '^rolled_back' "$T/hook.log" | sed 's/^[^{]*//')
assert_eq "stdin JSON: event" rolled_back "$(echo "$payload" | jq -r .event)"
assert_match "stdin JSON: message names the binding" "^web: renewal [0-9]+ rolled back" "$(echo "$payload" | jq -r .message)"
assert_match "log line with the alert msgid" "\[certvigil-alert\] rolled_back $OLD" "$(cat "$T/daemon.log")"
assert_eq "state rolled_back" 'certvigil_binding_renewal_state{binding="web",state="rolled_back"} 1' \
    "$(m certvigil_binding_renewal_state)"
assert_eq "rolled_back counted" 'certvigil_renewals_total{binding="web",result="rolled_back"} 1' \
    "$(m 'certvigil_renewals_total.*rolled_back')"
assert_match "last rolled_back time" '^certvigil_binding_last_renewal_seconds\{binding="web",result="rolled_back"\} [0-9]{10}$' \
    "$(m certvigil_binding_last_renewal_seconds)"

# Success: counted, the state and the certhash follow.
renew_and_wait
assert_eq "done" done "$(echo "$R" | jq -r .state)"
NEW=$(file_sha1 "$T/live/web.pem")
assert_eq "done counted" 'certvigil_renewals_total{binding="web",result="done"} 1' \
    "$(m 'certvigil_renewals_total.*done')"
assert_eq "state done" 'certvigil_binding_renewal_state{binding="web",state="done"} 1' \
    "$(m certvigil_binding_renewal_state)"
assert_match "info names the new certhash" "certhash=\"$NEW\"" "$(m certvigil_binding_info)"
assert_eq "no alert_command for a success" "" "$(grep '^renewal_done' "$T/hook.log" || true)"
# The textfile carries the same series, and promtool accepts it.
# (written by rename: polled, since tail -f would follow the old inode)
timeout "$(slow 30)" sh -c "until grep -q 'certvigil_renewals_total{binding=\"web\",result=\"done\"} 1' '$T/metrics.prom'; do sleep 0.2; done" ||
    fail "the textfile did not follow"
promtool check metrics < "$T/metrics.prom" 2>&1 | grep -v '^$' > "$T/lint" || true
assert_eq "promtool check metrics: no complaint" "" "$(grep -v 'no help text' "$T/lint" || true)"

# Counted from the journal: a restart keeps them.
daemon_stop
daemon_start "$T/conf"
assert_eq "after a restart" \
    "certvigil_renewals_total{binding=\"web\",result=\"done\"} 1
certvigil_renewals_total{binding=\"web\",result=\"failed\"} 0
certvigil_renewals_total{binding=\"web\",result=\"rolled_back\"} 1" "$(m certvigil_renewals_total)"
daemon_stop
"$T/stop.sh"
ok "renewal metrics and alerts"
