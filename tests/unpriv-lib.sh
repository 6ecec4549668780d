# Unprivileged attackers for the hardening tests (issue 12): users made
# for the run, with names unique to it (other test runs may be making
# theirs at the same time), removed on exit.  Source after tests/lib.sh.

command -v setpriv >/dev/null && command -v useradd >/dev/null &&
    [ "$(id -u)" = 0 ] ||
	skip "needs root, setpriv and useradd (plays unprivileged users)"

# U_THEN: the cleanup this one chains to (renew-lib.sh's, when sourced
# after it).
U_USERS=""
: "${U_THEN:=t_cleanup}"
u_cleanup() {
	for _u in $U_USERS; do
		userdel "$_u" 2>/dev/null || true
		groupdel "$_u" 2>/dev/null || true
	done
	$U_THEN
}
trap u_cleanup EXIT

# unpriv_user VAR SUFFIX: creates user "cvf<pid><SUFFIX>" with its own
# group and sets VAR to its name (not in a subshell: the cleanup must
# know it).
unpriv_user() {
	_n="cvf$$$2"
	useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$_n" >/dev/null ||
	    fail "useradd $_n"
	U_USERS="$U_USERS $_n"
	eval "$1=\$_n"
}

# as USER CMD...: runs CMD as USER only (no supplementary groups).
as() {
	_u=$1; shift
	setpriv --reuid="$(id -u "$_u")" --regid="$(id -g "$_u")" \
	    --clear-groups "$@"
}

# $T must be reachable by the test users.
chmod 755 "$T"
