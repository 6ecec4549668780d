#!/bin/sh
# A binding's deployed cert_file that starts holding another certificate
# raises a "drift" event on the file event, without waiting for the next
# schedule; once per new thumbprint; binding show flags it; it clears
# when the file matches again.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"

renew_setup
# A window a week away: nothing else looks at the binding meanwhile.
renew_conf "window = $(date -d '+3 days' +%a) 01:00-02:00"
old=$(file_sha1 "$T/live/web.pem")
mkdir -p "$T/other"
renew_issue "$T/other/web.pem" "$T/other/web.key" DNS:localhost
other=$(file_sha1 "$T/other/web.pem")
cp -p "$T/live/web.pem" "$T/orig.pem"

daemon_start "$T/conf"
follow_start
assert_eq "no drift at first" false "$(cv binding show --json | jq -r '.[0].drift')"

# Someone deploys another certificate by hand.
cp "$T/other/web.pem" "$T/live/web.pem.tmp"
mv "$T/live/web.pem.tmp" "$T/live/web.pem"
wait_event "\"kind\": *\"drift\".*web: $T/live/web.pem holds $other, the binding names $old" 10
ok "drift event on the file event"
s=$(cv binding show --json)
assert_eq "binding show: drift" true "$(echo "$s" | jq -r '.[0].drift')"
assert_eq "binding show: deployed_sha1" "$other" "$(echo "$s" | jq -r '.[0].deployed_sha1')"
assert_eq "binding show: certhash unchanged" "$old" "$(echo "$s" | jq -r '.[0].certhash')"
# Touching the same file again reports nothing new.
touch "$T/live/web.pem"
cp "$T/other/web.pem" "$T/live/marker.pem"	# an event after it, to wait for
wait_event '"kind": *"discovered".*marker\.pem' 10
assert_eq "one drift event per thumbprint" 1 \
    "$(grep -c '"kind": *"drift".*web: ' "$T/events.jsonl")"

# Put back: drift clears; deploying the other one again reports again.
cp "$T/orig.pem" "$T/live/web.pem.tmp"
mv "$T/live/web.pem.tmp" "$T/live/web.pem"
wait_event "thumbprint changed from $other to $old" 10
assert_eq "drift cleared" false "$(cv binding show --json | jq -r '.[0].drift')"
: > "$T/events.jsonl"	# the follower appends: only what comes next
cp "$T/other/web.pem" "$T/live/web.pem.tmp"
mv "$T/live/web.pem.tmp" "$T/live/web.pem"
wait_event "\"kind\": *\"drift\".*web: $T/live/web.pem holds $other" 10
ok "drift reported again after it cleared"

daemon_stop
echo "renew-drift: $T_COUNT passed, 0 failed"
