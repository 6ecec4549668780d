#!/bin/sh
# Every command's --help comes from its one option table (cmdopt): usage,
# summary and each option, exit 0 on stdout; "certvigil help CMD" says
# the same; a bad option prints the one usage line and exits 2.  No
# daemon is needed: none of this reaches the socket.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
CV=$CERTVIGIL

cmds=$("$CV" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p')
assert_eq "every command listed" 18 "$(printf '%s\n' $cmds | wc -l)"
for c in $cmds; do
	run_status st "$CV" -S "$T/none.sock" "$c" --help >"$T/out" 2>"$T/err"
	assert_eq "$c --help: exit" 0 "$st"
	assert_eq "$c --help: nothing on stderr" "" "$(cat "$T/err")"
	assert_match "$c --help: usage first" "^usage: certvigil $c " \
	    "$(head -n 1 "$T/out")"
	sum=$("$CV" --help | sed -n "s/^  $c  *//p")
	assert_eq "$c --help: its summary" 1 "$(grep -cxF -- "$sum" "$T/out")"
	assert_match "$c --help: --help listed" "^  -h, --help +this help$" \
	    "$(tail -n 1 "$T/out")"
	assert_eq "help $c: the same text" "$(cat "$T/out")" \
	    "$("$CV" help "$c")"
	run_status st "$CV" -S "$T/none.sock" "$c" -h >"$T/out2" 2>&1
	assert_eq "$c -h: exit 0" 0 "$st"
	sub=; [ "$c" = ca ] && sub=init	# ca takes its subcommand first
	run_status st "$CV" -S "$T/none.sock" "$c" $sub --no-such-option \
	    >"$T/out" 2>"$T/err"
	assert_eq "$c bad option: exit 2" 2 "$st"
	assert_eq "$c bad option: nothing on stdout" "" "$(cat "$T/out")"
	assert_match "$c bad option: usage" "^usage: certvigil $c " \
	    "$(grep '^usage:' "$T/err")"
done

# Options with an argument show it; short forms are shown where they exist.
assert_match "list: short and long" "^  -e, --expiring DURATION +expiring" \
    "$("$CV" list --help)"
assert_match "inspect: -p" "^  -p, --password-file FILE\|- " \
    "$("$CV" inspect --help)"
assert_match "csr: long-only" "^      --key-out KEY +write a new private key" \
    "$("$CV" csr --help)"
assert_match "probe: a long one wraps" "^      --expect-thumbprint SHA1$" \
    "$("$CV" probe --help)"
# Hidden: metrics --json is refused (text only) and not offered.
run_status st "$CV" -S "$T/none.sock" metrics --json 2>/dev/null
assert_eq "metrics --json: usage" 2 "$st"
if "$CV" metrics --help | grep -q -- --json; then
	fail "metrics --help offers --json"
fi
ok "metrics --help does not offer --json"
