#!/bin/sh
# list --json without a jansson tree (issue 16): the same bytes as
# before -- jansson's compact form of the reply's result, escapes
# included -- and a reply that is not what certvigild writes (control
# bytes, bad UTF-8, unbalanced, other key order, cut short) never reaches
# standard output unchecked.  The old CLI passes this test too: the
# change is speed only (make bench-list).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need python3 jq openssl certtool
sh "$top_srcdir/tests/gen-fixtures.sh" "$T/fx" >/dev/null
cat > "$T/conf" <<EOT
[watch fx]
path = $T/fx
password_file = $T/fx/password
EOT
daemon_start "$T/conf"

# raw ARGS_JSON: the daemon's reply line, from a plain socket client.
raw() {
	python3 - "$D_SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"cmd":"list","args":%s}\n' % sys.argv[2].encode())
buf = b""
while not buf.endswith(b"\n"):
    b = s.recv(65536)
    if not b:
        break
    buf += b
sys.stdout.buffer.write(buf)
PY
}
for a in '{}' '{"crls":true}' '{"all":true}'; do
	case $a in
	'{}') opt= ;;
	'{"crls":true}') opt=--crls ;;
	*) opt=--all ;;
	esac
	# Bracketed by two raw replies: days_left may tick over in between.
	raw "$a" > "$T/r1"
	cv list --json $opt > "$T/out"
	raw "$a" > "$T/r2"
	cmp -s "$T/r1" "$T/r2" || { raw "$a" > "$T/r1"; cv list --json $opt > "$T/out"; }
	prefix='{"v":1,"ok":true,"result":'
	python3 - "$T/r1" "$T/out" "$prefix" <<'PY' || fail "list --json $opt: not the reply's result"
import sys
r = open(sys.argv[1], "rb").read()
o = open(sys.argv[2], "rb").read()
p = sys.argv[3].encode()
assert r.startswith(p) and r.endswith(b"}\n"), r[:80]
assert o == r[len(p):-2] + b"\n", (len(o), len(r))
PY
	ok "list --json $opt: the reply's result, byte for byte"
	jq -e 'type == "array"' "$T/out" >/dev/null || fail "list --json $opt: not an array"
done
[ "$(jq length "$T/out")" -gt 5 ] || fail "the fixtures were not listed"
ok "the fixtures are listed"
daemon_stop

# ---- a socket that is not certvigild: one canned reply per connection ----
FAKE=$T/fake.sock
# fake_list REPLY_PYTHON_BYTES: runs list --json against a server that
# answers REPLY; sets st, out and err.
fake_list() {
	rm -f "$FAKE"
	python3 - "$FAKE" "$1" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
reply = eval(sys.argv[2])
c = s.accept()[0]
c.recv(65536)
c.sendall(reply)
c.close()
PY
	_fp=$!
	T_PIDS="$T_PIDS $_fp"
	_n=0
	until [ -S "$FAKE" ]; do
		_n=$((_n + 1))
		[ $_n -lt 300 ] || fail "the fake socket did not appear"
		sleep 0.1
	done
	run_status st "$CERTVIGIL" -S "$FAKE" list --json >"$T/out" 2>"$T/err"
	wait "$_fp" 2>/dev/null || true
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
fake_list 'b"{\"v\":1,\"ok\":true,\"result\":[{\"s\":\"a\\\"]b[{\",\"u\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}]}\n"'
assert_eq "verbatim: exit 0" 0 "$st"
assert_eq "verbatim: escaped quote, brackets in strings, UTF-8" \
    "$(printf '[{"s":"a\\"]b[{","u":"\303\251\342\202\254\360\237\230\200"}]')" "$out"
# certvigild writes its list by hand (inventory.c): escapes such as
# \u000a and \ufffd come out as jansson prints them, as before.
fake_list 'b"{\"v\":1,\"ok\":true,\"result\":[\"\\u000a\\u001b\\ufffd\\/\\u0041\\ud83d\\ude00\\u0022\\u005c\x7f\",-12,0,true,false,null,{},[]]}\n"'
assert_eq "escapes: exit 0" 0 "$st"
assert_eq "escapes: as jansson prints them" \
    "$(printf '["\\n\\u001B\357\277\275/A\360\237\230\200\\"\\\\\177",-12,0,true,false,null,{},[]]')" "$out"
# What the one-pass rewrite leaves to jansson: reals, -0, white space.
fake_list 'b"{\"v\":1,\"ok\":true,\"result\":[1.5, -0,{\"a\" : 1}]}\n"'
assert_eq "reals, -0, blanks: exit 0" 0 "$st"
assert_eq "reals, -0, blanks: as jansson prints them" '[1.5,0,{"a":1}]' "$out"
fake_list 'b"{\"ok\":true,\"v\":1,\"result\":[{\"b\":1,\"a\":[]}]}\n"'
assert_eq "other key order: parsed, exit 0" 0 "$st"
assert_eq "other key order: printed compact" '[{"b":1,"a":[]}]' "$out"
for c in 'control byte:b"[\"a\x1bb\"]"' 'bad UTF-8:b"[\"\xff\"]"' \
    'surrogate:b"[\"\xed\xa0\x80\"]"' 'unbalanced:b"[[1]"' 'mismatched:b"[1}"'; do
	what=${c%%:*}
	fake_list "b'{\"v\":1,\"ok\":true,\"result\":' + ${c#*:} + b'}\n'"
	assert_eq "$what: exit 1" 1 "$st"
	assert_eq "$what: nothing on standard output" "" "$out"
	assert_match "$what: refused" "bad reply from certvigild" "$err"
done
fake_list 'b"{\"v\":1,\"ok\":false,\"error\":{\"code\":\"internal\",\"message\":\"it broke\"}}\n"'
assert_eq "error reply: exit 1" 1 "$st"
assert_eq "error reply: its message" "certvigil: it broke" "$err"
fake_list 'b"{\"v\":1,\"ok\":true,\"result\":[1,2"'
assert_eq "cut short: exit 3" 3 "$st"
assert_eq "cut short: nothing on standard output" "" "$out"
assert_match "cut short: said" "closed the connection" "$err"
echo "cli-list-json: $T_COUNT passed, 0 failed"
