# Shared helpers for certvigil's shell tests.  Each test sources this,
# works in its own temporary directory and cleans up on exit.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CERTVIGIL:=$top_builddir/src/certvigil}"
: "${CERTVIGILD:=$top_builddir/src/certvigild}"
: "${FIXTOOL:=$top_builddir/tests/fixtool}"

T=$(mktemp -d "$top_builddir/tests/tmp.XXXXXX")
T_PIDS=""
t_cleanup() {
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap t_cleanup EXIT

T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_COUNT=0

fail() {
	echo "FAIL: $T_NAME: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $T_NAME: $*" >&2
	exit 77
}

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
	done
}

# ok DESCRIPTION: records a passing assertion.
ok() {
	T_COUNT=$((T_COUNT + 1))
	echo "ok $T_COUNT - $*"
}

assert_eq() {
	# assert_eq WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	ok "$1"
}

assert_match() {
	# assert_match WHAT REGEX TEXT
	printf '%s\n' "$3" | grep -Eq -- "$2" || fail "$1: '$3' does not match /$2/"
	ok "$1"
}

# run_status VAR CMD...: runs CMD, stores its exit status in VAR.
run_status() {
	_v=$1; shift
	set +e
	"$@"
	eval "$_v=\$?"
	set -e
}

# Date from OpenSSL's "notAfter=Nov 22 07:30:00 2027 GMT" to RFC 3339.
ossl_date() {
	date -u -d "$(printf '%s' "$1" | sed 's/^[^=]*=//')" +%Y-%m-%dT%H:%M:%SZ
}
