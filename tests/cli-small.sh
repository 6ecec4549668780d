#!/bin/sh
# Issue 13 item 19, the smaller first-hour bugs, one block each: events
# --json is JSON Lines (documented), show's empty EKU, status's file
# counts, a malformed thumbprint prefix, --password-file from a pipe,
# .p7b's format, the shipped config and its examples, the man pages.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need openssl certtool jq mandoc

sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cd "$T/fx"

# --password-file from a pipe (bash's <(...)) or a FIFO: read once.
mkfifo "$T/pw.fifo"
# The writer gives up after 10 s when nothing opens the FIFO (old code).
timeout 10 sh -c 'printf "1234\n" > "$1"' sh "$T/pw.fifo" >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
run_status st "$CERTVIGIL" inspect --json --password-file "$T/pw.fifo" modern.pfx >"$T/p.json" 2>"$T/err"
assert_eq "password from a FIFO: exit 0" 0 "$st"
assert_eq "password from a FIFO: key read" true "$(jq -r '.[0].has_private_key' "$T/p.json")"
if command -v bash >/dev/null 2>&1; then
	run_status st bash -c '"$1" inspect --json --password-file <(printf "1234\n") modern.pfx >"$2"' sh "$CERTVIGIL" "$T/p2.json"
	assert_eq "password from <(...): exit 0" 0 "$st"
	assert_eq "password from <(...): key read" true "$(jq -r '.[0].has_private_key' "$T/p2.json")"
fi
# A certificate file is still never a FIFO.
mkfifo "$T/cert.fifo"
run_status st timeout 10 "$CERTVIGIL" inspect "$T/cert.fifo" 2>"$T/err"
assert_eq "a FIFO as certificate: refused, not blocking" 1 "$st"

# .p7b is pkcs7, PEM or DER.
for f in chain.p7b chain-der.p7b; do
	assert_eq "$f: format" "pkcs7 pkcs7" "$("$CERTVIGIL" inspect --json "$f" | jq -r '[.[].format]|join(" ")')"
	assert_match "$f: text" "\[pkcs7 #0\]" "$("$CERTVIGIL" inspect "$f")"
done

# The daemon: one cert without EKU (the CA), one p7b, one skipped FIFO.
mkdir "$T/w"
cp ca.pem server.pem chain.p7b "$T/w/"
mkfifo "$T/w/fifo"
printf '[daemon]\nlog_level = info\n[watch w]\npath = %s\n' "$T/w" > "$T/conf"
daemon_start "$T/conf"
cd "$T"

# show: an empty EKU is "(none)" as inspect prints it.
ca=$(openssl x509 -in "$T/fx/ca.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f)
assert_match "inspect: EKU (none)" "EKU: +\(none\)" "$("$CERTVIGIL" inspect "$T/fx/ca.pem")"
assert_match "show: EKU (none)" "EKU: +\(none\)" "$(cv show "$ca")"
assert_match "show: p7b source is pkcs7" "chain.p7b \[pkcs7 #" "$(cv show "$T/w/server.pem")"

# A malformed thumbprint prefix is a usage error (2); an unknown one 1.
for k in zz12 12 0123456789012345678901234567890123456789a; do
	run_status st cv show "$k" 2>"$T/err"
	assert_eq "show $k: exit 2" 2 "$st"
	assert_match "show $k: message" "neither a path nor a SHA-1 prefix" "$(cat "$T/err")"
done
run_status st cv show deadbeef 2>/dev/null
assert_eq "show of an unknown prefix: exit 1" 1 "$st"

# status names what it counts as the log does.
cv status --json > "$T/st.json"
read_n=$(sed -n 's/.*scan finished: \([0-9]*\) files read in [0-9.]*s; \([0-9]*\) files in the inventory.*/\1 \2/p' "$T/daemon.log" | head -1)
assert_eq "log: files read, files in the inventory" \
    "$(jq -r '"\(.scan.last_files_read) \(.files.total)"' "$T/st.json")" "$read_n"
assert_match "status text: in the inventory" "^files: 3 in the inventory \(" "$(cv status)"
assert_match "status text: read by the last scan" "read $(jq .scan.last_files_read "$T/st.json") files" "$(cv status)"

# events --json is JSON Lines, with and without --follow.
cv events --json > "$T/ev.jsonl"
assert_eq "events --json: one object a line" "$(wc -l < "$T/ev.jsonl")" \
    "$(jq -c 'select(type == "object")' "$T/ev.jsonl" | wc -l)"
follow_start
assert_eq "events --follow --json: the same lines" "$(head -n 1 "$T/ev.jsonl")" "$(head -n 1 "$T/events.jsonl")"
assert_eq "list --json: one array" array "$(cv list --json | jq -r type)"
daemon_stop

# The shipped config loads, and so do its ";" examples uncommented.
D_SOCK=$T/c2.sock D_STATE=$T/st2
daemon_start "$top_srcdir/data/certvigil.conf"
daemon_stop
sed 's/^;//' "$top_srcdir/data/certvigil.conf" > "$T/examples.conf"
assert_eq "examples: issuer, binding, client sections" 5 \
    "$(grep -c '^\[\(issuer\|binding\|client\) ' "$T/examples.conf")"
D_SOCK=$T/c3.sock D_STATE=$T/st3
daemon_start "$T/examples.conf"
assert_eq "examples: both bindings load" "device web" "$(cv binding show --json | jq -r '[.[].name]|sort|join(" ")')"
daemon_stop

# The man pages.
m1=$(mandoc -Tascii "$top_srcdir/man/certvigil.1" | col -b)
assert_match "certvigil(1): the format list" 'format \(one of "pem", "der",' "$(echo "$m1" | tr -s ' \n' '  ')"
assert_eq "certvigil(1): Renewals and bindings before FILES" \
    "Renewals and bindings FILES" "$(echo "$m1" | grep -E '^(FILES|   Renewals and bindings)$' | sed 's/^ *//' | tr '\n' ' ' | sed 's/ $//')"
m5=$(mandoc -Tascii "$top_srcdir/man/certvigil.conf.5" | col -b | tr -s ' \n' '  ')
assert_match "certvigil.conf(5): five kinds of section" "There are five kinds of section" "$m5"
