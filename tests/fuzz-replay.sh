#!/bin/sh
# Replays every fuzz reproducer and seed (fuzz/repro, fuzz/corpus) through
# the fuzz entry points, linked with a plain main(): a fixed crash stays
# fixed, in the normal and the ASan builds, without clang.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
"$top_builddir/tests/fuzz-replay" "$top_srcdir/fuzz" || fail "a reproducer failed"
echo "fuzz-replay: passed"
