#!/bin/sh
# bench/corpus-openssl.sh DIR COUNT [SEED]: a benchmark corpus that our
# code did not shape (issue 16's second row).  Every certificate, key and
# PKCS#12 file is made by the openssl command line, not by corpus-gen or
# GnuTLS, so the loader meets another encoder's choices: openssl's
# extension order and encodings, SKI/AKI, PKCS#8 and traditional keys,
# its own PKCS#12 defaults (PBES2/AES-256-CBC, PBKDF2 and MAC at 2048
# iterations of SHA-256).
#
# What it writes:
#   - a CA hierarchy: root R1 (RSA 4096) and two intermediates under it,
#     A (RSA 2048) and B (EC P-384); each leaf is signed by one of them;
#   - a pool of ten leaf keys made once: 6 RSA 2048 and 4 EC P-256, and
#     each leaf takes RSA with 60% chance.  corpus-gen is ~90% EC; the
#     deployed leaves this daemon watches are still mostly RSA 2048
#     (certbot only made ECDSA its default in 2.0), and RSA keys and
#     signatures cost the loader more (key matching, bigger DER), so
#     this corpus leans the other way on purpose.  Key generation would
#     dominate otherwise, as in corpus-gen;
#   - COUNT files, ~100 per directory (DIR/gNN/dNN/): 80% PEM -- of those
#     50% the leaf alone, 30% leaf + intermediate (fullchain), 12% leaf +
#     private key, 8% leaf + intermediate + key (haproxy's layout); keys
#     appended are PKCS#8 for half the pool, traditional ("BEGIN RSA/EC
#     PRIVATE KEY") for the other half --, 15% DER and 5% PKCS#12 (leaf,
#     key and intermediate, "openssl pkcs12 -export"), with the password
#     in DIR/password (corpus-gen's convention: run.sh points the watch's
#     password_file at it and excludes it from the watch);
#   - per leaf: its own subject (CN only, O + CN, or C/O/OU/CN), SANs
#     (DNS names, sometimes an IP; e-mail for client certificates), EKU
#     serverAuth (85%), clientAuth (10%) or both (5%), a random 63-bit
#     serial, and a validity: 7% expired (signed by "openssl ca" with
#     -startdate/-enddate: "req -x509" takes no date in the past), 10%
#     ending within 30 days, the rest 31 days to 10 years.
#
# Deterministic for a SEED (1 to 2147483646) where openssl allows: the
# plan -- file names, formats, key and issuer choices, subjects, SANs,
# EKUs, serials, day counts and the expired ones' dates -- comes from one
# Park-Miller generator in awk (exact in doubles, so any awk gives the
# same plan).  Keys and signatures are random, and "req -x509" starts a
# validity at the current second, so thumbprints differ between runs.
#
# Work is split over BENCH_JOBS (2) worker processes by directory, each a
# shell loop calling openssl once or twice a file (about 5 ms each).
# Environment: BENCH_JOBS, OPENSSL (the program, "openssl").
set -eu

usage() {
	echo "usage: corpus-openssl.sh DIR COUNT [SEED]" >&2
	exit 2
}

die() {
	echo "corpus-openssl: $*" >&2
	exit 1
}

[ $# -ge 2 ] && [ $# -le 3 ] || usage
DIR=$1
COUNT=$2
SEED=${3:-1}
JOBS=${BENCH_JOBS:-2}
OPENSSL=${OPENSSL:-openssl}

for v in "$COUNT" "$SEED" "$JOBS"; do
	case $v in
	'' | *[!0-9]* | 0*) die "$v: not a positive integer" ;;
	esac
done
# The generator's state stays below 2^31; the expired files' dates are
# computed from it, so the seed must fit as well.
[ ${#SEED} -le 10 ] && [ "$SEED" -le 2147483646 ] ||
	die "$SEED: the seed is at most 2147483646"
[ ${#COUNT} -le 7 ] || die "$COUNT: at most 9999999 files"
[ "$JOBS" -le 64 ] || die "BENCH_JOBS=$JOBS: at most 64"
command -v "$OPENSSL" >/dev/null || die "$OPENSSL: not found"

# A fresh directory only: mixing with an older corpus would mix shapes.
if [ -e "$DIR" ]; then
	[ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ] ||
		die "$DIR: exists and is not an empty directory"
fi
mkdir -p "$DIR"
case $DIR in
/*) ;;
*) DIR=$(cd "$DIR" && pwd) ;;
esac

# The CA keys, key pool and per-job "openssl ca" state are kept outside
# DIR: only what a deployment would hold is in the watched tree.
W=$(mktemp -d "${TMPDIR:-/tmp}/corpus-openssl.XXXXXX")
PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

umask 077
printf 'bench\n' >"$DIR/password"
umask 022

# Our own config: the system's openssl.cnf makes "req -x509" a CA
# certificate (v3_ca) and could change under us.  $ENV::CA_DIR is each
# job's "openssl ca" database.
CNF=$W/openssl.cnf
cat >"$CNF" <<'EOF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_rsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_ec]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = cadef
[cadef]
database = $ENV::CA_DIR/index.txt
new_certs_dir = $ENV::CA_DIR
serial = $ENV::CA_DIR/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = copy
email_in_dn = no
[anything]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
EOF
# Referenced by the config even where no "ca" runs.
CA_DIR=$W
export CA_DIR

t0=$(date +%s)
ossl() {
	"$OPENSSL" "$@" 2>>"$W/openssl.log" ||
		{ tail -n 5 "$W/openssl.log" >&2; die "openssl $1 failed"; }
}

# The hierarchy.
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$W/root.key"
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/a.key"
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$W/b.key"
ossl req -config "$CNF" -new -x509 -key "$W/root.key" -extensions root \
    -subj "/C=XX/O=Bench Trust (openssl)/CN=Bench Root R1" \
    -set_serial 0x52a1 -days 7300 -out "$W/root.pem"
ossl req -config "$CNF" -new -x509 -CA "$W/root.pem" -CAkey "$W/root.key" \
    -key "$W/a.key" -extensions int \
    -subj "/C=XX/O=Bench Trust (openssl)/CN=Bench RSA CA A" \
    -set_serial 0x0a11 -days 3650 -out "$W/a.pem"
ossl req -config "$CNF" -new -x509 -CA "$W/root.pem" -CAkey "$W/root.key" \
    -key "$W/b.key" -extensions int \
    -subj "/C=XX/O=Bench Trust (openssl)/CN=Bench ECC CA B" \
    -set_serial 0x0b22 -days 3650 -out "$W/b.pem"

# The leaf key pool: k0-k5 RSA 2048, k6-k9 EC P-256 (the plan's "key"
# field).  kN.app is what a PEM file appends: PKCS#8 for even N,
# the traditional form for odd N.
NRSA=6
NKEYS=10
k=0
while [ $k -lt $NKEYS ]; do
	if [ $k -lt $NRSA ]; then
		ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		    -out "$W/k$k.pem"
	else
		ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$W/k$k.pem"
	fi
	if [ $((k % 2)) = 1 ]; then
		ossl pkey -in "$W/k$k.pem" -traditional -out "$W/k$k.app"
	else
		cp "$W/k$k.pem" "$W/k$k.app"
	fi
	k=$((k + 1))
done
t1=$(date +%s)

# The plan: one line a file, tab-separated, in plan.J for the job J that
# owns its directory:
#   dir name fmt key issuer serial subject san eku days|- start end
# fmt: pem, chain, key, chainkey, der, pfx.  days "-": expired, signed
# by "openssl ca" from start to end (YYYYMMDDHHMMSSZ).
awk -v n="$COUNT" -v seed="$SEED" -v jobs="$JOBS" -v w="$W" \
    -v today="$(($(date +%s) / 86400))" -v nrsa="$NRSA" \
    -v nkeys="$NKEYS" '
function rnd(k) {	# 0 .. k-1; Park-Miller, exact in doubles
	st = (st * 48271) % 2147483647
	return int(st / 2147483647 * k)
}
function pick(s,   a, m) {
	m = split(s, a, " ")
	return a[1 + rnd(m)]
}
function ymd(z,   era, doe, yoe, y, doy, mp, d, m) {	# days -> civil date
	z += 719468
	era = int(z / 146097)
	doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - \
	    int(doe / 146096)) / 365)
	y = yoe + era * 400
	doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153)
	d = doy - int((153 * mp + 2) / 5) + 1
	m = mp < 10 ? mp + 3 : mp - 9
	if (m <= 2)
		y++
	return sprintf("%04d%02d%02d000000Z", y, m, d)
}
BEGIN {
	st = seed
	for (i = 0; i < 8; i++)
		rnd(2)
	hosts = "www api mail vpn git ci db cache auth sso shop pay cdn " \
	    "portal intranet wiki ldap mq proxy lb edge static img ws"
	zones = "example.com example.net example.org corp.example " \
	    "prod.example test.example eu.example.com us.example.net " \
	    "internal.example svc.example"
	orgs = "Acme_Corp Globex Initech Umbrella Hooli Stark_Industries " \
	    "Wayne_Enterprises Tyrell Cyberdyne Soylent"
	units = "IT Ops Web Platform Security Payments"
	ccs = "DE FR GB US NL SE CH JP BR CA"
	for (i = 0; i < n; i++) {
		d = int(i / 100)
		dir = sprintf("g%02d/d%02d", int(d / 100), d % 100)
		job = d % jobs
		f = rnd(100)
		if (f < 80) {
			g = rnd(100)
			fmt = g < 50 ? "pem" : g < 80 ? "chain" : \
			    g < 92 ? "key" : "chainkey"
		} else
			fmt = f < 95 ? "der" : "pfx"
		key = rnd(100) < 60 ? rnd(nrsa) : nrsa + rnd(nkeys - nrsa)
		iss = rnd(2) ? "a" : "b"
		serial = sprintf("%x%07x%08x", 1 + rnd(7), rnd(268435456),
		    rnd(2147483647))
		e = rnd(100)
		eku = e < 85 ? "serverAuth" : e < 95 ? "clientAuth" : \
		    "serverAuth,clientAuth"
		if (eku == "clientAuth") {
			cn = sprintf("user%06d", i)
			zone = pick(zones)
			san = "email:" cn "@" zone
			if (rnd(2))
				san = san ",DNS:" cn "." zone
			base = cn
		} else {
			zone = pick(zones)
			host = pick(hosts)
			cn = sprintf("%s%d.%s", host, i, zone)
			san = "DNS:" cn
			m = rnd(4)
			for (k = 0; k < m; k++)
				san = san ",DNS:" pick(hosts) i "-" k "." zone
			if (rnd(100) < 5)
				san = san sprintf(",IP:10.%d.%d.%d", rnd(256),
				    rnd(256), 1 + rnd(254))
			if (rnd(100) < 10)
				san = san ",DNS:*." zone
			base = cn
		}
		s = rnd(100)
		o = pick(orgs)
		gsub("_", " ", o)
		if (s < 50)
			subj = "/CN=" cn
		else if (s < 80)
			subj = "/O=" o "/CN=" cn
		else
			subj = "/C=" pick(ccs) "/O=" o "/OU=" pick(units) \
			    "/CN=" cn
		v = rnd(100)
		start = end = "-"
		if (v < 7) {
			days = "-"
			last = today - 1 - rnd(700)
			start = ymd(last - 90 - rnd(736))
			end = ymd(last)
		} else if (v < 17)
			days = 1 + rnd(30)
		else if (v < 87)
			days = 31 + rnd(368)
		else if (v < 97)
			days = 399 + rnd(427)
		else
			days = 3650
		if (fmt == "der")
			name = base (rnd(2) ? ".der" : ".cer")
		else if (fmt == "pfx")
			name = base (rnd(2) ? ".pfx" : ".p12")
		else if (fmt == "chain")
			name = base "-fullchain.pem"
		else if (fmt == "chainkey")
			name = base "-combined.pem"
		else
			name = base (rnd(3) ? ".pem" : ".crt")
		printf "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		    dir, name, fmt, key, iss, serial, subj, san, eku, days,
		    start, end > (w "/plan." job)
	}
}' || die "the plan failed"

# worker J: makes the files of plan.J.
worker() {
	j=$1
	CA_DIR=$W/ca.$j
	mkdir -p "$CA_DIR"
	: >"$CA_DIR/index.txt"
	tmp=$W/leaf.$j.pem
	last=
	[ -e "$W/plan.$j" ] || return 0
	while IFS='	' read -r dir name fmt key iss serial subj san eku days \
	    start end; do
		if [ "$dir" != "$last" ]; then
			umask 022
			mkdir -p "$DIR/$dir"
			last=$dir
		fi
		f=$DIR/$dir/$name
		if [ "$key" -lt $NRSA ]; then
			ext=leaf_rsa
		else
			ext=leaf_ec
		fi
		# Where the leaf goes first: straight into the file when it
		# is the file's first (or only) block.
		out=$f
		form=PEM
		case $fmt in
		pfx) out=$tmp ;;
		der) [ "$days" = - ] && out=$tmp || form=DER ;;
		esac
		# Files with a private key are the owner's alone, as
		# deployments keep them (a builtin: no chmod a file).
		case $fmt in
		key | chainkey | pfx) umask 077 ;;
		*) umask 022 ;;
		esac
		if [ "$days" != - ]; then
			ossl req -config "$CNF" -new -x509 -CA "$W/$iss.pem" \
			    -CAkey "$W/$iss.key" -key "$W/k$key.pem" \
			    -extensions "$ext" -subj "$subj" \
			    -addext "subjectAltName=$san" \
			    -addext "extendedKeyUsage=$eku" \
			    -set_serial "0x$serial" -days "$days" \
			    -outform "$form" -out "$out"
		else
			# openssl ca keeps a database; a fresh one per file
			# (names repeat across seeds, serials might).
			: >"$CA_DIR/index.txt"
			printf '%s\n' "$serial" >"$CA_DIR/serial"
			"$OPENSSL" req -config "$CNF" -new -key "$W/k$key.pem" \
			    -subj "$subj" -addext "subjectAltName=$san" \
			    -addext "extendedKeyUsage=$eku" \
			    2>>"$W/openssl.log" >"$CA_DIR/csr" ||
				die "openssl req (CSR) failed"
			ossl ca -config "$CNF" -batch -notext -preserveDN \
			    -cert "$W/$iss.pem" -keyfile "$W/$iss.key" \
			    -extensions "$ext" -startdate "$start" \
			    -enddate "$end" -in "$CA_DIR/csr" -out "$out"
			rm -f "$CA_DIR"/*.pem
			[ "$fmt" != der ] ||
				ossl x509 -in "$tmp" -outform DER -out "$f"
		fi
		case $fmt in
		chain) cat "$W/$iss.pem" >>"$f" ;;
		key) cat "$W/k$key.app" >>"$f" ;;
		chainkey) cat "$W/$iss.pem" "$W/k$key.app" >>"$f" ;;
		pfx)
			ossl pkcs12 -export -in "$tmp" -inkey "$W/k$key.pem" \
			    -certfile "$W/$iss.pem" -name "$name" \
			    -passout "file:$DIR/password" -out "$f"
			;;
		esac
	done <"$W/plan.$j"
}

j=0
while [ $j -lt "$JOBS" ]; do
	worker $j &
	PIDS="$PIDS $!"
	j=$((j + 1))
done
rc=0
for p in $PIDS; do
	wait "$p" || rc=1
done
PIDS=
[ $rc = 0 ] || die "a worker failed"
t2=$(date +%s)
echo "corpus-openssl: $COUNT files in $DIR (seed $SEED, $JOBS jobs):" \
    "CA and keys $((t1 - t0)) s, files $((t2 - t1)) s"
