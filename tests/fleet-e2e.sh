#!/bin/sh
# Issue 15, end to end with the engines a fleet runs (Debian packages, no
# mocks), all on loopback ports and under $T: certvigild writes its
# metrics_textfile into the directory prometheus-node-exporter's textfile
# collector reads (other collectors off); prometheus scrapes it every
# second with data/certvigil.rules.yml (its "for" durations cut, so that
# alerts fire within the test) and evaluation_interval 1s; it sends to
# prometheus-alertmanager (own storage, no cluster), which posts to a
# webhook receiver of a few lines of Python's http.server.  Proves, each
# within a bounded wait:
#   - a certificate inside the expiring threshold dropped into a watched
#     directory -> CertificateExpiringSoon at the webhook with its labels
#     (path, subject, sha1, instance);
#   - a renewal that rolls back (a start that fails) ->
#     CertvigilRenewalRolledBack at the webhook;
#   - a successful renewal -> certvigil_renewals_total{result="done"}
#     increments, read through Prometheus's HTTP API;
#   - with the served-certificate watch (its series in src/metrics.c):
#     nginx switched to another certificate behind certvigil's back ->
#     CertvigilServedDrift; nginx restarted without ssl_verify_client on
#     this require_client_cert binding -> CertvigilMtlsNotEnforced.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
for _b in prometheus prometheus-node-exporter prometheus-alertmanager; do
	command -v $_b >/dev/null 2>&1 ||
	    skip "$_b not installed (Debian package $_b; .ci/deps installs it)"
done
need python3 jq

mkdir -p "$T/tf" "$T/watch" "$T/prom" "$T/am"
: > "$T/hook.jsonl"

# ---- the engines ---------------------------------------------------------
hook() {
	exec python3 - "$PORT" "$T/hook.jsonl" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
}
node_exporter() {
	exec prometheus-node-exporter --collector.disable-defaults \
	    --collector.textfile --collector.textfile.directory="$T/tf" \
	    --web.listen-address="127.0.0.1:$PORT"
}
alertmanager() {
	cat > "$T/am.yml" <<EOT
route:
  receiver: hook
  group_by: ['alertname', 'instance', 'path', 'binding']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$HOOK_PORT/
EOT
	exec prometheus-alertmanager --config.file="$T/am.yml" \
	    --storage.path="$T/am" --web.listen-address="127.0.0.1:$PORT" \
	    --cluster.listen-address=
}
prom() {
	# The shipped rules, with their "for" durations cut: what is tested
	# here is the path, promtool test rules (tests/rules.sh) the timing.
	sed '/^ *for: /d' "$top_srcdir/data/certvigil.rules.yml" > "$T/rules.yml"
	cat > "$T/prom.yml" <<EOT
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$AM_PORT']
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NE_PORT']
EOT
	exec prometheus --config.file="$T/prom.yml" \
	    --storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$PORT"
}
start_server hook; HOOK_PORT=$PORT
start_server node_exporter; NE_PORT=$PORT
start_server alertmanager; AM_PORT=$PORT
start_server prom; PROM_PORT=$PORT

# pq EXPR: the value of an instant query through the HTTP API ("" if none).
pq() {
	python3 - "$PROM_PORT" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
u = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1],
    urllib.parse.urlencode({"query": sys.argv[2]}))
r = json.load(urllib.request.urlopen(u, timeout=5))
v = r["data"]["result"]
print(v[0]["value"][1] if v else "")
PY
}
# until_true SECONDS WHAT CMD...: polls CMD every 0.5 s (bounded).
until_true() {
	_s=$1; _what=$2; shift 2
	_end=$(( $(date +%s) + $(slow "$_s") ))
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || fail "$_what: not within $(slow "$_s") s"
		sleep 0.5
	done
}
# hook_alert NAME: the labels (JSON) of the first alert NAME that the
# webhook received firing.
hook_alert() {
	jq -c --arg n "$1" '.alerts[] | select(.status == "firing" and
	    .labels.alertname == $n) | .labels' "$T/hook.jsonl" 2>/dev/null | head -n 1
}
has_alert() { [ -n "$(hook_alert "$1")" ]; }

# ---- certvigild with a binding behind a real nginx ------------------------
renew_setup mtls
# probe_interval: the served-certificate watch's schedule (cases 4 and
# 5; the default is an hour).
renew_conf "require_client_cert = yes" "probe_interval = 2s"
{ printf '[daemon]\nmetrics_textfile = %s\n\n[watch drop]\npath = %s\n\n' \
    "$T/tf/certvigil.prom" "$T/watch"; cat "$T/conf"; } > "$T/conf.new"
mv "$T/conf.new" "$T/conf"
daemon_start "$T/conf"
follow_start
t0=$(date +%s)
up1() { [ "$(pq 'up{job="node"}')" = 1 ]; }
until_true 60 "Prometheus scraping node_exporter" up1
seen() { [ -n "$(pq 'certvigil_renewals_total{binding="web",result="done"}')" ]; }
until_true 60 "certvigil's series in Prometheus" seen
assert_eq "no renewal done yet" 0 "$(pq 'certvigil_renewals_total{binding="web",result="done"}')"
echo "# measured: engines up and certvigil's series in Prometheus after $(( $(date +%s) - t0 )) s"

# ---- 1. expiring: a 5-day certificate dropped into a watched directory ---
"$CERTVIGIL" ca issue --ca-cert "$T/ca/ca.pem" --ca-key "$T/ca/ca.key" \
    --cn soon.example --san DNS:soon.example --purpose server --days 5 \
    --out-key "$T/soon.key" --out-cert "$T/watch/soon.pem" >/dev/null
SOON=$(file_sha1 "$T/watch/soon.pem")
t0=$(date +%s)
until_true 90 "CertificateExpiringSoon at the webhook" has_alert CertificateExpiringSoon
echo "# measured: expiring alert at the webhook $(( $(date +%s) - t0 )) s after the file was dropped"
L=$(hook_alert CertificateExpiringSoon)
assert_eq "label path" "$T/watch/soon.pem" "$(echo "$L" | jq -r .path)"
assert_eq "label subject" soon.example "$(echo "$L" | jq -r .subject)"
assert_eq "label sha1" "$SOON" "$(echo "$L" | jq -r .sha1)"
assert_eq "label instance" "127.0.0.1:$NE_PORT" "$(echo "$L" | jq -r .instance)"
assert_eq "label severity" warning "$(echo "$L" | jq -r .severity)"

# ---- 2. a renewal that rolls back (a start that fails) -------------------
has_alert CertvigilRenewalRolledBack && fail "rolled-back alert before any renewal"
touch "$T/fail-start"
renew_and_wait
assert_eq "the renewal rolled back" rolled_back "$(echo "$R" | jq -r .state)"
t0=$(date +%s)
until_true 90 "CertvigilRenewalRolledBack at the webhook" has_alert CertvigilRenewalRolledBack
echo "# measured: rolled-back alert at the webhook $(( $(date +%s) - t0 )) s after the rollback"
L=$(hook_alert CertvigilRenewalRolledBack)
assert_eq "rolled back: binding" web "$(echo "$L" | jq -r .binding)"
assert_eq "rolled back: instance" "127.0.0.1:$NE_PORT" "$(echo "$L" | jq -r .instance)"

# ---- 3. a successful renewal: renewals_total{result="done"} in Prometheus -
renew_and_wait
assert_eq "the renewal is done" done "$(echo "$R" | jq -r .state)"
t0=$(date +%s)
done1() { [ "$(pq 'certvigil_renewals_total{binding="web",result="done"}')" = 1 ]; }
until_true 60 "certvigil_renewals_total{result=\"done\"} = 1 in Prometheus" done1
echo "# measured: renewals_total{result=\"done\"} = 1 in Prometheus $(( $(date +%s) - t0 )) s after the renewal"
assert_eq "and the rollback is counted" 1 "$(pq 'certvigil_renewals_total{binding="web",result="rolled_back"}')"
assert_eq "state done in Prometheus" 1 "$(pq 'certvigil_binding_renewal_state{binding="web",state="done"}')"

# ---- 4. and 5.: the served-certificate watch -------------------------------
# The served watch's series: certvigil_binding_served_match and
# certvigil_binding_mtls_enforced.
# nginx switched to another certificate behind certvigil's back.
renew_issue "$T/other.pem" "$T/other.key"
OTHER=$(file_sha1 "$T/other.pem")
sed -i "s|ssl_certificate $T/live/web.pem;|ssl_certificate $T/other.pem;|; s|ssl_certificate_key $T/live/web.key;|ssl_certificate_key $T/other.key;|" \
    "$T/nginx/nginx.conf"
"$T/stop.sh" && "$T/start.sh"
assert_eq "nginx serves the other certificate" "$OTHER" "$(served)"
t0=$(date +%s)
until_true 90 "CertvigilServedDrift at the webhook" has_alert CertvigilServedDrift
echo "# measured: served-drift alert at the webhook $(( $(date +%s) - t0 )) s after nginx switched"
L=$(hook_alert CertvigilServedDrift)
assert_eq "served drift: binding" web "$(echo "$L" | jq -r .binding)"
assert_eq "served drift: instance" "127.0.0.1:$NE_PORT" "$(echo "$L" | jq -r .instance)"
# nginx restarted without ssl_verify_client (start.sh's plain config).
has_alert CertvigilMtlsNotEnforced && fail "mTLS alert while nginx still asked for client certificates"
touch "$T/plain-once"
"$T/stop.sh" && "$T/start.sh"
t0=$(date +%s)
until_true 90 "CertvigilMtlsNotEnforced at the webhook" has_alert CertvigilMtlsNotEnforced
echo "# measured: mTLS alert at the webhook $(( $(date +%s) - t0 )) s after the restart"
L=$(hook_alert CertvigilMtlsNotEnforced)
assert_eq "mTLS: binding" web "$(echo "$L" | jq -r .binding)"
assert_eq "mTLS: severity" critical "$(echo "$L" | jq -r .severity)"

daemon_stop
"$T/stop.sh"
ok "fleet end to end: node_exporter, Prometheus, Alertmanager"
