#!/bin/sh
# cost.sh: what a feature costs per request. CPU microseconds per keep-alive
# request of sluice in front of one nginx origin, measured side by side in
# one run, for the settings of one suite:
#
#   rules   (issue 13) plain: the listener as bench.sh has it; rules:
#           request_id, 3 request rules and 2 response rules (set, add
#           with a variable, remove, on both sides)
#   limits  (issue 14) plain; limits: the server with max_conns=1000 and
#           the upstream with queue = 100, a limit the load never reaches
#           (so the queue is never used): what the slot accounting costs
#   base    in either suite, optional: another sluice binary with the
#           plain config (SLUICE_BASE=/path/to/old/sluice), before/after
#
#   sh contrib/bench/cost.sh rules                              # 5 runs x 8 s per setting
#   BENCH_SECONDS=3 BENCH_RUNS=3 sh contrib/bench/cost.sh limits # quick
#
# Each run measures every setting once, in a rotating order, with wrk
# (BENCH_CONNS connections, GET /small: 64 bytes from nginx's memory) on
# CPU 0 and sluice alone on CPU 1; the figure is utime+stime of sluice over
# wrk's request count. Prints the medians, the min-max and the ratios to
# plain; writes contrib/bench/out/SUITE.md. Needs a built ./sluice;
# installs nginx, wrk and curl from Debian when missing.

if [ -z "${BENCH_CHILD:-}" ]; then
	BENCH_CHILD=1
	export BENCH_CHILD
	command -v bash >/dev/null 2>&1 || { echo "cost: bash is required" >&2; exit 1; }
	command -v taskset >/dev/null 2>&1 || { echo "cost: taskset (util-linux) is required" >&2; exit 1; }
	[ "$(nproc --all)" -ge 2 ] || { echo "cost: needs 2 CPUs" >&2; exit 1; }
	exec taskset -c 0 bash "$0" "$@"
fi

set -u
export LC_ALL=C
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
SUITE=${1:-}
case "$SUITE" in
rules|limits) ;;
*) echo "usage: cost.sh rules|limits" >&2; exit 1 ;;
esac
BENCH_NAME=$SUITE
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"

S=${BENCH_SECONDS:-8}
RUNS=${BENCH_RUNS:-5}
CONNS=${BENCH_CONNS:-50}
OUT=${BENCH_OUT:-$HERE/out}
SLUICE=${SLUICE:-$ROOT/sluice}
BASE=${SLUICE_BASE:-}
[ -x "$SLUICE" ] || die "no sluice binary at $SLUICE; build it first"
[ -z "$BASE" ] || [ -x "$BASE" ] || die "SLUICE_BASE=$BASE is not executable"

install_tools nginx:nginx wrk:wrk curl:curl
NGINX=$(command -v nginx)
HZ=$(getconf CLK_TCK)

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$SUITE.XXXXXX") || die "mktemp failed"
mkdir -p "$T/www" "$T/tmp"
chmod 755 "$T" "$T/www"
PIDS=""
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${BENCH_KEEP:-}" ] && say "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=${BENCH_PORT:-18460}
for try in $(seq 20); do
	ok=1
	for i in 0 1 2 3 4; do port_busy $((base + i)) && ok=0; done
	[ "$ok" = 1 ] && break
	base=$((base + 10))
done
[ "$ok" = 1 ] || die "no five free loopback ports from ${BENCH_PORT:-18460}"
OPORT=$base
OMPORT=$((base + 4)) # the origin's sendfile-off server, unused here

sed -e "s|@T@|$T|g" -e "s|@ORIGIN_PORT@|$OPORT|g" \
	-e "s|@ORIGIN_MEM_PORT@|$OMPORT|g" -e "s|@NOFILE@|4096|g" \
	-e "s|@WORKER_CONNS@|4096|g" "$HERE/origin.conf.in" >"$T/origin.conf"
head -c 16384 /dev/zero | tr '\0' 'b' >"$T/www/16k"
head -c 1048576 /dev/zero | tr '\0' 'B' >"$T/www/1m"

# conf NAME PORT LISTENER_LINES SERVER_OPTIONS UPSTREAM_LINES: sluice's
# config, bench.sh's shape
conf() {
	cat >"$T/$1.ini" <<EOF
[global]
access_log = off
error_log = $T/$1.err
log_level = warn

[listener b]
listen = 127.0.0.1:$2
upstream = o
$3

[upstream o]
server = 127.0.0.1:$OPORT $4
keepalive = 64
keepalive_timeout = 60s
$5
EOF
}
RULES='request_id = X-Request-Id
request_header = set X-Env prod
request_header = add X-Client $remote_addr
request_header = remove Cookie
response_header = remove Server
response_header = set X-Served-By $server'

LIMITS='queue = 100
queue_timeout = 5s'

declare -A BIN=() PORT=() PID=()
SETS="plain $SUITE"
BIN[plain]=$SLUICE; PORT[plain]=$((base + 1)); conf plain "${PORT[plain]}" "" "" ""
BIN[$SUITE]=$SLUICE; PORT[$SUITE]=$((base + 2))
case "$SUITE" in
rules) conf rules "${PORT[rules]}" "$RULES" "" "" ;;
limits) conf limits "${PORT[limits]}" "" "max_conns=1000" "$LIMITS" ;;
esac
if [ -n "$BASE" ]; then
	SETS="base $SETS"
	BIN[base]=$BASE; PORT[base]=$((base + 3)); conf base "${PORT[base]}" "" "" ""
fi

setsid taskset -c 0 "$NGINX" -p "$T/" -e "$T/origin.err" -c "$T/origin.conf" \
	>"$T/origin.out" 2>&1 </dev/null &
PIDS="$PIDS $!"
for t in $SETS; do
	"${BIN[$t]}" -t -c "$T/$t.ini" >/dev/null 2>&1 || die "$t: config refused: $("${BIN[$t]}" -t -c "$T/$t.ini" 2>&1)"
	setsid taskset -c 1 "${BIN[$t]}" -c "$T/$t.ini" >"$T/$t.out" 2>&1 </dev/null &
	PID[$t]=$!
	PIDS="$PIDS $!"
done
for t in $SETS; do
	for i in $(seq 100); do port_busy "${PORT[$t]}" && break; sleep 0.1; done
	got=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{size_download}' \
		"http://127.0.0.1:${PORT[$t]}/small")
	[ "$got" = "200 64" ] || die "$t: GET /small gave '$got'"
done
if [ "$SUITE" = rules ]; then
	got=$(curl -s -D - -o /dev/null "http://127.0.0.1:${PORT[rules]}/small" | tr -d '\r')
	echo "$got" | grep -q '^X-Served-By: ' && echo "$got" | grep -qi '^X-Request-Id: [0-9a-f]\{32\}$' &&
		! echo "$got" | grep -qi '^Server:' || die "rules: the rules are not applied: $got"
fi

ticks() { # pid: utime+stime
	set -- $(sed 's/^.*) //' "/proc/$1/stat")
	echo $((${12} + ${13}))
}

RAW="$T/raw.tsv"
: >"$RAW"
for run in $(seq "$RUNS"); do
	n=$(echo $SETS | wc -w)
	k=$(( (run - 1) % n ))
	order=$(echo $SETS $SETS | cut -d' ' -f$((k + 1))-$((k + n)))
	for t in $order; do
		a=$(ticks "${PID[$t]}")
		out=$(wrk -t 1 -c "$CONNS" -d "${S}s" "http://127.0.0.1:${PORT[$t]}/small" 2>&1)
		b=$(ticks "${PID[$t]}")
		n=$(echo "$out" | awk '/requests in/ { print $1 }')
		errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ { print }')
		[ -n "$n" ] && [ "$n" -gt 0 ] || die "$t: wrk gave no count: $out"
		us=$(calc "($b - $a) * 1000000 / $HZ / $n")
		printf '%s\t%s\t%s\t%s\n' "$run" "$t" "$us" "$n" >>"$RAW"
		say "run $run $t: $n requests, $us us/request${errs:+ ($errs)}"
	done
done

mkdir -p "$OUT"
{
	if [ "$SUITE" = rules ]; then
		echo "# Header rules and request IDs: CPU per request"
	else
		echo "# max_conns and a queue never used: CPU per request"
	fi
	echo
	echo "sluice, one worker on its own CPU, in front of nginx; wrk -c $CONNS, GET of a 64-byte body"
	echo "kept alive; $RUNS runs x ${S} s per setting."
	if [ "$SUITE" = rules ]; then
		echo "rules = request_id + 3 request rules (set, add with \$remote_addr, remove)"
		echo "+ 2 response rules (remove, set with \$server)."
	else
		echo "limits = the server with max_conns=1000 (never reached) and queue = 100 (never used)."
	fi
	echo
	echo "| setting | CPU us/request (median) | min-max | vs plain |"
	echo "|---|---|---|---|"
	awk -F'\t' -v sets="$SETS" '
	{ v[$2] = v[$2] " " $3 }
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		lo = a[1]; hi = a[n]
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		p = median(v["plain"])
		n = split(sets, s, " ")
		for (i = 1; i <= n; i++) {
			m = median(v[s[i]])
			printf "| %s | %.2f | %.2f-%.2f | %+.1f %% |\n", s[i], m, lo, hi, (m / p - 1) * 100
		}
	}' "$RAW"
	echo
	echo "host: $(nproc --all) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
} >"$OUT/$SUITE.md"
cp "$RAW" "$OUT/$SUITE.tsv"
cat "$OUT/$SUITE.md"
