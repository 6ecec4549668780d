#!/bin/sh
# Issue 14's pfx_password_file, attacked for real by the service user
# (made for the run) who owns the directory holding it: it replaces the
# password file with a symlink to a root-only secret, with a hard link
# to it, makes it world-readable, and replaces the directory under it
# with a symlink to root's directory holding a file of the same name.
# Each renewal must roll back (nothing new deployed, node serving the old
# certificate) with one line naming the file and the reason, and the
# secret must never become the PFX's password nor reach a log, an event
# or the journal.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"
. "$top_srcdir/tests/renew-lib.sh"
. "$top_srcdir/tests/forms-lib.sh"
U_THEN=renew_cleanup
. "$top_srcdir/tests/unpriv-lib.sh"
need node python3 jq

unpriv_user S s		# the service user
forms_setup
umask 077
SECRET="rootonly-$$-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
# Root's secret, and root's directory holding one named like the
# password file (for the directory swap).
printf '%s\n' "$SECRET" > "$T/secret"
chmod 0600 "$T/secret"
mkdir -m 0700 "$T/rootconf"
cp -p "$T/secret" "$T/rootconf/pfx.pass"
# The service's directory, its password file in a subdirectory of it.
mkdir -p "$T/svc/conf"
printf 's3cret pass\n' > "$T/svc/conf/pfx.pass"
chmod 0640 "$T/svc/conf/pfx.pass"
chown -R "$S:$S" "$T/svc"
chmod 0750 "$T/svc" "$T/svc/conf"
# node reads a copy of its own: it must start again after a rollback.
cp "$T/svc/conf/pfx.pass" "$T/node.pass"
pfx_node_start "$T/node.pass"

pfx_conf "$T/node.pass" "$T/svc/conf/pfx.pass"
daemon_start "$T/conf"
follow_start

renew_and_wait
assert_eq "renewal with the user's own password file done" done \
    "$(echo "$R" | jq -r .state)"
cur=$(file_sha1 "$T/live/web.pem")
assert_eq "the PFX opens with the service's password" "$cur" \
    "$(pfx_sha1 "$T/live/web.pfx" "$T/node.pass")"

# attack WHAT REGEX: a renewal after the user's move; rolled back, the
# error names the file and matches REGEX, nothing new deployed.
attack() {
	cp -p "$T/live/web.pfx" "$T/before.pfx"
	renew_and_wait
	assert_eq "$1: rolled back" rolled_back "$(echo "$R" | jq -r .state)"
	assert_match "$1: one line naming the file and the reason" \
	    "pfx_password_file: $T/svc/conf[^ ]*: .*$2" \
	    "$(echo "$R" | jq -r .error)"
	assert_eq "$1: one line" 1 "$(echo "$R" | jq -r .error | wc -l)"
	echo "# $1: $(echo "$R" | jq -r .error)"
	cmp -s "$T/live/web.pfx" "$T/before.pfx" || fail "$1: the PFX changed"
	assert_eq "$1: cert_file unchanged" "$cur" "$(file_sha1 "$T/live/web.pem")"
	assert_eq "$1: node serves the old certificate" "$cur" \
	    "$(served_at "$PORT")"
	[ -z "$(pfx_sha1 "$T/live/web.pfx" "$T/secret")" ] ||
	    fail "$1: the secret opens the PFX"
}

# 1. A symlink to the root-only secret.
as "$S" mv "$T/svc/conf/pfx.pass" "$T/svc/conf/pfx.pass.orig"
as "$S" ln -s "$T/secret" "$T/svc/conf/pfx.pass"
attack "symlink" "a symlink: not followed"
as "$S" rm "$T/svc/conf/pfx.pass"

# 2. A hard link to it.  fs.protected_hardlinks = 1 forbids the user to
# link a file it cannot read; root makes the link the user would make
# where that is 0, so the daemon's own check is what is tested.
if as "$S" ln "$T/secret" "$T/svc/conf/pfx.pass" 2>"$T/ln.err"; then
	echo "# the user made the hard link itself"
else
	echo "# the user could not link the secret ($(cat "$T/ln.err"));" \
	    "fs.protected_hardlinks=$(cat /proc/sys/fs/protected_hardlinks \
	    2>/dev/null); root makes it"
	ln "$T/secret" "$T/svc/conf/pfx.pass"
fi
assert_eq "the link is the secret's inode" "$(stat -c %i "$T/secret")" \
    "$(stat -c %i "$T/svc/conf/pfx.pass")"
attack "hard link" "has 2 hard links \\(one expected\\)"
rm "$T/svc/conf/pfx.pass"

# 3. The user's own file, made world-readable.
as "$S" mv "$T/svc/conf/pfx.pass.orig" "$T/svc/conf/pfx.pass"
as "$S" chmod 0644 "$T/svc/conf/pfx.pass"
attack "world-readable" "every user may read it"
as "$S" chmod 0640 "$T/svc/conf/pfx.pass"

# 4. The directory under the user's own swapped for a symlink to root's,
# which holds a file of the same name.
as "$S" mv "$T/svc/conf" "$T/svc/conf.orig"
as "$S" ln -s "$T/rootconf" "$T/svc/conf"
attack "directory symlink" \
    "$T/svc/conf: a symlink \\(owned by uid $(id -u "$S")\\): not followed"
as "$S" rm "$T/svc/conf"
as "$S" mv "$T/svc/conf.orig" "$T/svc/conf"

# The user's file as it should be: the renewal goes through again.
renew_and_wait
assert_eq "renewal after the attacks done" done "$(echo "$R" | jq -r .state)"

daemon_stop
for f in "$T/daemon.log" "$T/events.jsonl" "$D_STATE"/*; do
	[ -f "$f" ] && grep -a -q "$SECRET" "$f" &&
	    fail "the secret reached $f"
done
ok "the secret is in no log, event or state file"
echo "renew-pfx-user: $T_COUNT passed, 0 failed"
