#!/bin/sh
# Alerts: one per (certificate, threshold) through every sink, none again
# after a restart, none for a replaced certificate, failing alert_command
# retried and counted; 1,000 certificates crossing a threshold at once;
# drift; metrics that promtool accepts.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq python3
need_test_hooks

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
W=$T/w
mkdir -p "$W" "$T/pin"
issue() {
	# issue CN DAYS OUT: a server certificate from the test CA.
	"$CERTVIGIL" ca issue --ca-cert "$T/fx/ca.pem" --ca-key "$T/fx/ca.key" \
	    --cn "$1" --san "DNS:$1" --purpose server --days "$2" \
	    --out-key "$T/$1-$2.key" --out-cert "$3" >/dev/null
}
sha() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }

cat > "$T/hook.sh" <<EOT
#!/bin/sh
# Fails while $T/hook.fail exists; records every successful run.
[ -e "$T/hook.fail" ] && exit 3
printf '%s %s %s %s ' "\$CERTVIGIL_EVENT" "\$CERTVIGIL_THRESHOLD" "\$CERTVIGIL_SHA1" "\$CERTVIGIL_DAYS_LEFT" >> "$T/hook.log"
cat >> "$T/hook.log"
EOT
chmod +x "$T/hook.sh"
: > "$T/hook.log"
cat > "$T/conf" <<EOT
[daemon]
log = stderr
alert_before = 30d,14d,7d
alert_command = $T/hook.sh
alert_retry = 1s
metrics_textfile = $T/metrics.prom
[watch w]
path = $W
[watch pinned]
path = $T/pin/beacon.pem
expect_sha1 = $(sha "$T/fx/server.pem")
EOT
issue ten.example.com 10 "$W/ten.pem"
ten=$(sha "$W/ten.pem")
cp "$T/fx/server.pem" "$T/pin/beacon.pem"
daemon_start "$T/conf"
follow_start
wait_event "\"kind\":\"alert\".*\"sha1\":\"$ten\"" 10
timeout "$(slow 10)" tail -n +1 -f "$T/hook.log" | grep -q -m 1 "$ten" || fail "alert_command did not run"

# Exactly one alert, the 14d one, through every sink.
assert_eq "one alert event" 1 "$(grep -c "\"kind\":\"alert\".*$ten" "$T/events.jsonl")"
assert_match "it is the 14d alert" '"message":"14d: ' "$(grep "\"kind\":\"alert\".*$ten" "$T/events.jsonl")"
assert_eq "one alert_command run" 1 "$(grep -c "$ten" "$T/hook.log")"
assert_match "env: event, threshold, sha1, days" "^expiring 14d $ten (9|10) " "$(grep "$ten" "$T/hook.log")"
payload=$(grep "$ten" "$T/hook.log" | sed 's/^[^{]*//')
assert_eq "stdin JSON: sha1" "$ten" "$(echo "$payload" | jq -r .sha1)"
assert_eq "stdin JSON: paths" "$W/ten.pem" "$(echo "$payload" | jq -r .paths)"
assert_eq "one log line" 1 "$(grep -c "\[certvigil-alert\] expiring $ten" "$T/daemon.log")"
assert_eq "status counts it" 1 "$(cv status --json | jq '.alerts.sent["14d"]')"

# No drift: the pinned path holds the pinned thumbprint.
assert_eq "no drift yet" 0 "$(cv list --json --drift | jq length)"

# A restart sends nothing again.  The "expired" alert of a sentinel file
# added afterwards proves the restarted engine has evaluated everything.
last=$(cv events --json | tail -n 1 | jq .id)
daemon_stop
daemon_start "$T/conf"
follow_start
cp "$T/fx/expired.pem" "$W/sentinel1.pem"
wait_event "\"kind\":\"alert\".*sentinel1.pem" 10
assert_eq "restart: no repeated alert" 1 \
    "$(cv events --json | jq -s --argjson l "$last" '[.[]|select(.id > $l and .kind == "alert")]|length')"

# Renewed: the path now holds a newer certificate; the old one is gone
# and, a week later (test clock), still sends nothing.
issue ten.example.com 90 "$T/renewed.pem"
cp "$T/renewed.pem" "$W/ten.pem"
wait_event "\"thumbprint_changed\".*ten.pem"
daemon_stop
export CERTVIGIL_TEST_NOW=+604800
daemon_start "$T/conf"
follow_start
n0=$(grep -c '"kind":"alert"' "$T/events.jsonl")
cp "$T/fx/expired.pem" "$W/sentinel2.pem"
# sentinel2 holds the same certificate as sentinel1: watch its event.
wait_event "\"discovered\".*sentinel2.pem" 10
cp "$T/fx/sha1.pem" "$W/sentinel3.pem"
wait_event "\"kind\":\"alert\".*sentinel3.pem" 10
# The stream starts with the backlog: the first run's 14d alert, only.
assert_eq "renewed: old certificate silent" 1 "$(grep -c "\"kind\":\"alert\".*$ten" "$T/events.jsonl" || true)"
unset CERTVIGIL_TEST_NOW

# Superseded: the same name and SANs served by a newer certificate.
issue old.example.com 12 "$W/old.pem"
old=$(sha "$W/old.pem")
wait_event "\"kind\":\"alert\".*$old" 10
issue old.example.com 200 "$W/old-renewed.pem"
wait_event "\"discovered\".*old-renewed.pem"
# The evaluation follows the discovery; the list shows the outcome.
timeout "$(slow 10)" sh -c "until $CERTVIGIL -S $D_SOCK list --json | jq -e '.[]|select(.sha1==\"$old\" and .state==\"superseded\")' >/dev/null; do :; done" ||
    fail "old certificate not superseded"
ok "old certificate superseded"

# A failing alert_command is retried (alert_retry = 1s) and counted.
touch "$T/hook.fail"
issue fail.example.com 12 "$W/fail.pem"  # 5 days left on the +7d clock
failsha=$(sha "$W/fail.pem")
wait_event "\"alert_failed\".*$failsha" 10
rm "$T/hook.fail"
timeout "$(slow 20)" tail -n +1 -f "$T/hook.log" | grep -q -m 1 "$failsha" || fail "alert not retried"
ok "failed alert retried until it ran"
assert_eq "retried run is the 7d alert" "expiring 7d" "$(grep "$failsha" "$T/hook.log" | cut -d' ' -f1-2)"
assert_match "failure counted" "^certvigil_alert_command_failures_total [1-9]" "$(cv metrics | grep '^certvigil_alert_command_failures_total')"

# Drift: the pinned path now holds another certificate.
cp "$T/fx/client.pem" "$T/pin/beacon.pem"
wait_event "\"kind\":\"drift\".*beacon.pem"
wait_event "\"kind\":\"alert\".*drift: "
assert_eq "list --drift" "$(sha "$T/fx/client.pem")" "$(cv list --json --drift | jq -r '.[].sha1')"
# Rewriting the same drifting file says nothing new; another one does.
touch "$T/pin/beacon.pem"
cp "$T/fx/client.pem" "$T/pin/beacon.pem.tmp" && mv "$T/pin/beacon.pem.tmp" "$T/pin/beacon.pem"
wait_event "\"kind\":\"changed\".*beacon.pem"
assert_eq "drift: one event per thumbprint" 1 "$(grep -c '"kind":"drift"' "$T/events.jsonl")"
cp "$T/fx/ed25519.pem" "$T/pin/beacon.pem"
wait_event "\"kind\":\"thumbprint_changed\".*beacon.pem.*\"sha1\":\"$(sha "$T/fx/ed25519.pem")\""
assert_eq "drift: a new thumbprint is reported" 2 "$(grep -c '"kind":"drift"' "$T/events.jsonl")"
assert_match "drift metric" "^certvigil_drift\{path=\"$T/pin/beacon.pem\",expected=\"$(sha "$T/fx/server.pem")\"\} 1$" "$(cv metrics | grep '^certvigil_drift{')"

# Metrics in the Prometheus exposition format.
cv metrics > "$T/metrics.txt"
assert_match "not_after series" "^certvigil_cert_not_after_timestamp_seconds\{sha1=\"$failsha\",subject_cn=\"fail.example.com\",path=\"$W/fail.pem\",role=\"server\"\} [0-9]+$" "$(grep "$failsha" "$T/metrics.txt" | head -1)"
assert_match "expired reason" 'certvigil_cert_valid\{.*reason="expired"\} 0' "$(cat "$T/metrics.txt")"
assert_match "build info" '^certvigil_build_info\{version="[0-9.]+"\} 1$' "$(cat "$T/metrics.txt")"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/metrics.txt" || fail "promtool check metrics"
	ok "promtool check metrics"
	timeout 5 sh -c "until [ -s '$T/metrics.prom' ]; do :; done"
	promtool check metrics < "$T/metrics.prom" || fail "promtool: textfile"
	ok "promtool check metrics: textfile"
	promtool check rules "$top_srcdir/data/certvigil.rules.yml" >/dev/null || fail "promtool check rules"
	ok "promtool check rules"
fi
assert_eq "textfile mode" 644 "$(stat -c %a "$T/metrics.prom")"
daemon_stop

# 1,000 certificates crossing 14d at the same second, with status
# answered throughout.  Test clock: 1 day - 4 s ahead, so the crossing
# comes 4 s after the certificates were written.
rm -rf "$W" "$D_STATE" "$T/events.jsonl"
mkdir -p "$W"
now0=$(date +%s)
"$FIXTOOL" issue-many "$T/fx/ca.pem" "$T/fx/ca.key" "$W" 1000 $((now0 + 15 * 86400))
: > "$T/hook.log"
cat > "$T/conf" <<EOT
[daemon]
alert_before = 14d
alert_command = $T/hook.sh
[watch bulk]
path = $W
EOT
export CERTVIGIL_TEST_NOW=+$((86400 - 4 - ($(date +%s) - now0)))
daemon_start "$T/conf"
unset CERTVIGIL_TEST_NOW
follow_start 2>/dev/null || true
python3 - "$D_SOCK" "$T/events.jsonl" "$(slow 30)" > "$T/p99" <<'PY'
import socket, sys, time, json
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
lat = []; deadline = time.time() + int(sys.argv[3])
while time.time() < deadline:
    t = time.perf_counter(); s.sendall(b'{"v":1,"cmd":"status"}\n'); f.readline()
    lat.append(time.perf_counter() - t)
    if len(lat) % 200 == 0:
        if sum(1 for l in open(sys.argv[2]) if '"kind":"alert"' in l) >= 1000:
            break
lat.sort()
print("%d %.3f" % (len(lat), lat[int(len(lat) * 0.99)] * 1000))
PY
alerts=$(grep -c '"kind":"alert"' "$T/events.jsonl")
assert_eq "1,000 alerts" 1000 "$alerts"
# A bound, not a figure: 1,000 forks of a sanitizer-sized daemon are slow.
timeout "$(slow 300)" sh -c "until [ \$(wc -l < '$T/hook.log') -ge 1000 ]; do :; done" || fail "alert_command did not run 1,000 times"
assert_eq "1,000 alert_command runs" 1000 "$(wc -l < "$T/hook.log")"
p99=$(cut -d' ' -f2 "$T/p99")
echo "# status during the burst: $(cut -d' ' -f1 "$T/p99") requests, p99 ${p99} ms"
assert_eq "status stayed responsive (p99 < 500 ms)" 1 "$(echo "$p99 < 500" | bc)"
daemon_stop
echo "alerts: $T_COUNT passed, 0 failed"
