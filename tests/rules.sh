#!/bin/sh
# Issue 15: data/certvigil.rules.yml passes promtool check rules, and
# promtool test rules (data/certvigil.rules.test.yml) runs every alert of
# it firing and not firing.  A mutated copy of the rules must fail the
# same tests, so they are not vacuous.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need promtool python3
R=$top_srcdir/data/certvigil.rules.yml
RT=$top_srcdir/data/certvigil.rules.test.yml

promtool check rules "$R" > "$T/check.out" 2>&1 || { cat "$T/check.out" >&2; fail "promtool check rules"; }
promtool test rules "$RT" > "$T/test.out" 2>&1 || { cat "$T/test.out" >&2; fail "promtool test rules"; }
ok "promtool test rules passes"

# Coverage: every alert has a case that fires and one that does not, and
# every alert has severity, summary, description and runbook.
python3 - "$R" "$RT" > "$T/cov.out" 2>&1 <<'PY' || { cat "$T/cov.out" >&2; fail "coverage"; }
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
names, bad = [], []
for g in rules["groups"]:
    for r in g["rules"]:
        if "alert" not in r:
            continue
        names.append(r["alert"])
        if r.get("labels", {}).get("severity") not in ("warning", "critical"):
            bad.append(r["alert"] + ": severity")
        for a in ("summary", "description", "runbook"):
            if not r.get("annotations", {}).get(a):
                bad.append(r["alert"] + ": " + a)
fires, quiet = set(), set()
for t in tests["tests"]:
    for c in t.get("alert_rule_test", []):
        (fires if c.get("exp_alerts") else quiet).add(c["alertname"])
for n in names:
    if n not in fires:
        bad.append(n + ": no case where it fires")
    if n not in quiet:
        bad.append(n + ": no case where it does not fire")
print("\n".join(bad) or "%d alerts covered" % len(names))
sys.exit(1 if bad else 0)
PY
assert_match "every alert covered" "^12 alerts covered$" "$(cat "$T/cov.out")"

# Mutations: a rule that fires on the wrong value, and a wrong runbook.
mkdir -p "$T/m1" "$T/m2"
sed 's/state="rolled_back"} == 1/state="rolled_back"} == 0/' "$R" > "$T/m1/certvigil.rules.yml"
sed 's|README#runbook-mtls-not-enforced|README#elsewhere|' "$R" > "$T/m2/certvigil.rules.yml"
for m in m1 m2; do
	! cmp -s "$R" "$T/$m/certvigil.rules.yml" || fail "mutation $m changed nothing"
	cp "$RT" "$T/$m/"
	promtool test rules "$T/$m/certvigil.rules.test.yml" > "$T/$m.out" 2>&1 &&
	    fail "mutation $m passed promtool test rules"
done
assert_match "the rolled-back mutation is caught" "CertvigilRenewalRolledBack" "$(cat "$T/m1.out")"
assert_match "the runbook mutation is caught" "CertvigilMtlsNotEnforced" "$(cat "$T/m2.out")"
ok "rules tests"
