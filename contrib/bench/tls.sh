#!/bin/sh
# sluice TLS benchmark (issue 4): sluice and nginx as TLS terminators in front
# of the same plain-HTTP nginx origin, with bench.sh's CPU pinning, in one run.
#
#   sh contrib/bench/tls.sh                                 # 3 runs x 8 s per figure (~5 min)
#   BENCH_SECONDS=2 BENCH_RUNS=1 sh contrib/bench/tls.sh    # quick (< 1 min)
#
# Needs a built ./sluice (builds nothing) and a C compiler with the OpenSSL
# headers (for wrk-tls.c, see below); installs nginx, wrk, openssl, python3
# and curl from Debian if they are missing.
#
# Figures, for sluice and nginx, on the small (64-byte) body:
#   full     new connections per second, each a full TLS handshake (one
#            request per connection, "Connection: close", no resumption)
#   resumed  the same with wrk as it is: wrk keeps each connection's TLS
#            session across reconnects, so every handshake after the first
#            on a connection is a resumption (counted and shown)
#   ka       keep-alive requests per second over TLS
#   h2       HTTP/2 requests per second: h2load, BENCH_H2_CONNS connections
#            of 10 streams each (-m 10), ECDSA, on a listener offering h2
# each with the CPU µs per request (utime+stime of the server's processes
# from /proc, over wrk's request count) and how busy the server's CPU was.
# full and resumed run once per certificate type (BENCH_TLS_KEYS) and TLS
# version (BENCH_TLS_VERSIONS); ka once, with the first of each.
#
# wrk has no option to turn resumption off or pick a TLS version, so wrk runs
# with an LD_PRELOAD shim (wrk-tls.c, compiled into the temp dir) that drops
# the kept session before each handshake when asked, caps the version, and
# counts handshakes, resumptions and what was negotiated.
#
# Environment (default):
#   BENCH_SECONDS (8)      length of each wrk run
#   BENCH_RUNS (3)         repetitions of the whole set; median and min-max are reported
#   BENCH_CONNS (50)       wrk connections for every figure
#   BENCH_H2_CONNS (10)    h2load connections for the h2 figure (10 streams each)
#   BENCH_TLS_KEYS ("ecdsa rsa")    certificate types: ecdsa (P-256), rsa (2048 bits)
#   BENCH_TLS_VERSIONS ("1.3")      TLS versions wrk offers at most: 1.3 and/or 1.2
#   BENCH_TLS_PORT (18470) first of eight loopback ports (origin, sluice x3, nginx x3, spare)
#   BENCH_CPU_LOAD (0), BENCH_CPU_PROXY (1)   CPUs, as in bench.sh
#   SLUICE (./sluice)      the binary under test (copied to the temp dir at start)
#   BENCH_OUT (contrib/bench/out)   where results go
#   BENCH_KEEP (unset)     keep the temp dir (configs, certificates, logs)
#
# Pinning (as bench.sh): this script, wrk and the origin run on CPU 0; each
# TLS terminator runs on CPU 1, alone.
#
# Output in BENCH_OUT: tls.md (printed at the end), tls-raw.tsv (one line per
# run, figure, metric, target), tls-meta, tls-conf/ (rendered configs),
# tls-logs/. bench.sh's files there are left alone.

if [ -z "${BENCH_CHILD:-}" ]; then
	BENCH_CHILD=1
	export BENCH_CHILD
	command -v bash >/dev/null 2>&1 || { echo "tls-bench: bash is required" >&2; exit 1; }
	command -v taskset >/dev/null 2>&1 || { echo "tls-bench: taskset (util-linux) is required" >&2; exit 1; }
	if [ "$(nproc --all)" -lt 2 ]; then
		echo "tls-bench: needs 2 CPUs (load generator on one, proxy on the other)" >&2
		exit 1
	fi
	exec taskset -c "${BENCH_CPU_LOAD:-0}" bash "$0" "$@"
fi

set -u
export LC_ALL=C
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${BENCH_OUT:-$HERE/out}
S=${BENCH_SECONDS:-8}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNS:-50}
H2_CONNS=${BENCH_H2_CONNS:-10}
KEYS=${BENCH_TLS_KEYS:-ecdsa rsa}
VERSIONS=${BENCH_TLS_VERSIONS:-1.3}
CPU_LOAD=${BENCH_CPU_LOAD:-0}
CPU_PROXY=${BENCH_CPU_PROXY:-1}
SLUICE=${SLUICE:-$ROOT/sluice}
TARGETS="sluice nginx"
T0=$(date +%s)

BENCH_NAME=tls-bench
. "$HERE/lib.sh"

# --- tools and settings -----------------------------------------------------------

install_tools nginx:nginx wrk:wrk openssl:openssl python3:python3 curl:curl h2load:nghttp2-client
[ -x "$SLUICE" ] || die "no sluice binary at $SLUICE; build it first (./configure && make sluice) or set SLUICE=/path/to/sluice"
case "$S$RUNS$CONNS$H2_CONNS" in
*[!0-9]*) die "BENCH_SECONDS, BENCH_RUNS and BENCH_CONNS must be whole numbers" ;;
esac
[ "$S" -ge 1 ] && [ "$RUNS" -ge 1 ] && [ "$CONNS" -ge 1 ] || die "BENCH_SECONDS, BENCH_RUNS and BENCH_CONNS must be >= 1"
for k in $KEYS; do
	case $k in ecdsa | rsa) ;; *) die "BENCH_TLS_KEYS: '$k' is not ecdsa or rsa" ;; esac
done
for v in $VERSIONS; do
	case $v in 1.2 | 1.3) ;; *) die "BENCH_TLS_VERSIONS: '$v' is not 1.2 or 1.3" ;; esac
done
[ -n "$KEYS" ] && [ -n "$VERSIONS" ] || die "BENCH_TLS_KEYS and BENCH_TLS_VERSIONS must not be empty"
NGINX=$(command -v nginx)
HZ=$(getconf CLK_TCK)
NOFILE=8192 WORKER_CONNS=4096
ulimit -n "$NOFILE" 2>/dev/null || NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=8192
[ $((NOFILE - 100)) -lt "$WORKER_CONNS" ] && WORKER_CONNS=$((NOFILE - 100))

# --- temp dir, processes, cleanup --------------------------------------------------

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-tls-bench.XXXXXX") || die "mktemp failed"
mkdir -p "$T/www" "$T/tmp"
chmod 755 "$T" "$T/www" # nginx workers run as nobody when started by root
declare -A PID=() PORT=() CRASHES=() NEG=()
CHILD=""

# Long commands run in the background and are waited for, so that a signal
# reaches the traps at once (see bench.sh).
run() {
	"$@" &
	CHILD=$!
	wait "$CHILD"
	local rc=$?
	CHILD=""
	return "$rc"
}

tree_pids() {
	local p=$1 c
	echo "$p"
	for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done
}

alive() { # pid: running and not a zombie
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

stop_target() {
	local t=$1 pids p i sig=TERM
	local pid=${PID[$t]:-}
	[ -n "$pid" ] || return 0
	[ "$t" = sluice ] && sig=QUIT # stop at once (TERM would drain)
	pids=$(tree_pids "$pid")
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 30); do
		alive "$pid" || break
		sleep 0.1
	done
	for p in $pids; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	PID[$t]=""
}

cleanup() {
	local rc=$? t
	trap - EXIT INT TERM HUP
	if [ -n "$CHILD" ]; then
		kill "$CHILD" 2>/dev/null
		wait "$CHILD" 2>/dev/null
	fi
	for t in nginx sluice origin; do stop_target "$t"; done
	if [ -n "${BENCH_KEEP:-}" ]; then
		say "temp dir kept: $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- ports, certificates, configs ---------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

base=${BENCH_TLS_PORT:-18470}
for _ in $(seq 20); do
	ok=1
	for i in 0 1 2 3 4 5 6 7; do port_busy $((base + i)) && ok=0; done
	[ "$ok" = 1 ] && break
	base=$((base + 10))
done
[ "$ok" = 1 ] || die "no eight free loopback ports found from ${BENCH_TLS_PORT:-18470}"
PORT[origin]=$base
PORT[sluice:ecdsa]=$((base + 1))
PORT[sluice:rsa]=$((base + 2))
PORT[nginx:ecdsa]=$((base + 3))
PORT[nginx:rsa]=$((base + 4))
PORT[origin:mem]=$((base + 5)) # the origin's sendfile-off server, unused here
PORT[sluice:h2]=$((base + 6))
PORT[nginx:h2]=$((base + 7))

# Throwaway self-signed certificates for localhost / 127.0.0.1 (both types are
# always made: the configs name both; RSA-2048 key generation takes ~0.1 s).
gen_cert() { # name openssl-req-newkey-args...
	local n=$1
	shift
	openssl req -x509 -nodes -days 30 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		"$@" -keyout "$T/$n.key" -out "$T/$n.crt" >"$T/openssl-$n.out" 2>&1 ||
		die "openssl cannot make the $n certificate: $(tail -n 3 "$T/openssl-$n.out")"
}
gen_cert ecdsa -newkey ec -pkeyopt ec_paramgen_curve:P-256
gen_cert rsa -newkey rsa:2048

render() { # template target output
	sed -e "s|@T@|$T|g" -e "s|@ORIGIN_PORT@|${PORT[origin]}|g" \
		-e "s|@ORIGIN_MEM_PORT@|${PORT[origin:mem]}|g" \
		-e "s|@PORT_ECDSA@|${PORT[$2:ecdsa]:-}|g" -e "s|@PORT_RSA@|${PORT[$2:rsa]:-}|g" \
		-e "s|@PORT_H2@|${PORT[$2:h2]:-}|g" \
		-e "s|@NOFILE@|$NOFILE|g" -e "s|@WORKER_CONNS@|$WORKER_CONNS|g" \
		"$HERE/$1" >"$T/$3" || die "cannot render $1"
}
render origin.conf.in origin origin.conf
render tls-nginx.conf.in nginx nginx.conf
render tls-sluice.ini.in sluice sluice.ini
cp "$SLUICE" "$T/sluice" || die "cannot copy $SLUICE"

"$T/sluice" -t -c "$T/sluice.ini" >"$T/sluice.check" 2>&1 || die "sluice rejects its config: $(cat "$T/sluice.check")"
"$NGINX" -t -q -p "$T/" -e "$T/nginx-t.err" -c "$T/origin.conf" >/dev/null 2>&1 || die "nginx rejects origin.conf: $(cat "$T/nginx-t.err")"
"$NGINX" -t -q -p "$T/" -e "$T/nginx-t.err" -c "$T/nginx.conf" >/dev/null 2>&1 || die "nginx rejects nginx.conf: $(cat "$T/nginx-t.err")"

# The wrk shim. Without it there is no full-handshake figure.
SHIM=""
if command -v cc >/dev/null 2>&1 &&
	cc -shared -fPIC -O2 -o "$T/wrk-tls.so" "$HERE/wrk-tls.c" -ldl >"$T/cc.out" 2>&1; then
	SHIM=$T/wrk-tls.so
	# (wrk -v exits 1) ld.so says so and goes on when it cannot preload
	env LD_PRELOAD="$SHIM" wrk -v 2>&1 | grep -q 'ld\.so' && SHIM=""
fi
[ -n "$SHIM" ] || say "cannot build wrk-tls.c (needs cc and libssl-dev): no full-handshake figure, resumption not counted; $(head -n 3 "$T/cc.out" 2>/dev/null)"

# --- starting and checking ------------------------------------------------------------

target_ports() {
	case $1 in
	origin) echo "${PORT[origin]}" ;;
	*) echo "${PORT[$1:ecdsa]} ${PORT[$1:rsa]} ${PORT[$1:h2]}" ;;
	esac
}

start_target() {
	local t=$1 p i
	case $t in
	origin)
		setsid taskset -c "$CPU_LOAD" "$NGINX" -p "$T/" -e "$T/origin.err" -c "$T/origin.conf" \
			>>"$T/origin.out" 2>&1 </dev/null &
		;;
	sluice)
		setsid taskset -c "$CPU_PROXY" "$T/sluice" -c "$T/sluice.ini" >>"$T/sluice.out" 2>&1 </dev/null &
		;;
	nginx)
		setsid taskset -c "$CPU_PROXY" "$NGINX" -p "$T/" -e "$T/nginx.err" -c "$T/nginx.conf" \
			>>"$T/nginx.out" 2>&1 </dev/null &
		;;
	esac
	PID[$t]=$!
	for p in $(target_ports "$t"); do
		for i in $(seq 100); do
			alive "${PID[$t]}" || die "$t exited at start; see below
$(tail -n 5 "$T/$t.out" "$T/$t.err" 2>/dev/null)"
			port_busy "$p" && break
			sleep 0.1
		done
		port_busy "$p" || die "$t does not listen on $p after 10 s"
	done
	local got want="200 64 1.1"
	if [ "$t" = origin ]; then
		got=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{size_download} %{http_version}' \
			"http://127.0.0.1:${PORT[origin]}/small")
		[ "$got" = "$want" ] || die "origin: GET /small gave '$got', want '$want'"
		return
	fi
	# over TLS: status, body, and HTTP/1.1 chosen by ALPN (curl offers h2
	# too), but h2 on the h2 listener
	for p in $(target_ports "$t"); do
		[ "$p" = "${PORT[$t:h2]}" ] && want="200 64 2"
		got=$(curl -sk -o /dev/null --max-time 5 -w '%{http_code} %{size_download} %{http_version}' \
			"https://127.0.0.1:$p/small")
		[ "$got" = "$want" ] || die "$t: GET https://127.0.0.1:$p/small gave '$got', want '$want'"
	done
}

# A target that died is restarted (and counted) so the remaining figures run.
ensure_up() {
	local t=$1
	[ "$t" != origin ] && ensure_up origin
	alive "${PID[$t]}" && return 0
	CRASHES[$t]=$((${CRASHES[$t]:-0} + 1))
	say "!! $t (pid ${PID[$t]}) is gone; restarting it (crash #${CRASHES[$t]})"
	local st=0
	wait "${PID[$t]}" 2>/dev/null || st=$?
	say "   its exit status: $st; last log lines: $(tail -n 3 "$T/$t.err" "$T/$t.out" 2>/dev/null | tr '\n' ' ')"
	start_target "$t"
}

# --- measuring --------------------------------------------------------------------------

RAW="$T/tls-raw.tsv"
: >"$RAW"
run=0

record() { # figure metric target value
	[ -n "$4" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$run" "$1" "$2" "$3" "$4" >>"$RAW"
}

cpu_snapshot() { # pid -> "ticks pid,pid,..." (utime+stime over the process tree)
	local p line ticks=0 pids=""
	for p in $(tree_pids "$1"); do
		line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		set -- ${line##*) }
		ticks=$((ticks + ${12} + ${13}))
		pids="$pids,$p"
	done
	echo "$ticks $pids"
}

cpu_line() { # "busy total" ticks of the measured CPU (all but idle and iowait)
	awk -v c="cpu$CPU_PROXY" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

wrk_run() { # no_resume max_version wrk-args...; sets W_* and H_* (handshakes)
	local nr=$1 mv=$2 out="$T/wrk.out" line kv
	shift 2
	W_requests=0 H_handshakes="" H_resumed="" H_failed=0 H_proto=- H_cipher=- H_group=- H_sig=-
	rm -f "$T/tls.stats"
	local pre=()
	[ -n "$SHIM" ] && pre=(env LD_PRELOAD="$SHIM" WRK_TLS_NO_RESUME="$nr" WRK_TLS_MAX="$mv" WRK_TLS_STATS="$T/tls.stats")
	run timeout -k 3 $((S + 30)) "${pre[@]}" wrk -t1 --timeout 5s -s "$HERE/report.lua" "$@" >"$out" 2>&1
	{ echo "## no_resume=$nr max=$mv wrk $*"; cat "$out" "$T/tls.stats" 2>/dev/null; } >>"$T/wrk.log"
	line=$(grep '^WRK ' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		say "wrk gave no result: $(tail -n 2 "$out" | tr '\n' ' ')"
		return 1
	fi
	for kv in ${line#WRK }; do printf -v "W_${kv%%=*}" '%s' "${kv#*=}"; done
	W_sockerr=$((W_connect + W_read + W_write + W_timeout))
	W_rps=$(calc "$W_requests * 1000000 / $W_duration_us")
	line=$(grep '^TLS ' "$T/tls.stats" 2>/dev/null | tail -n 1)
	for kv in ${line#TLS }; do printf -v "H_${kv%%=*}" '%s' "${kv#*=}"; done
	return 0
}

url() { echo "https://127.0.0.1:${PORT[$1:$2]}/small"; }

# The h2 figure: h2load for S seconds, H2_CONNS connections x 10 streams.
# Sets W_requests (succeeded), W_duration_us, W_rps, W_sockerr (failed +
# errored + timeout) and W_status (non-2xx).
h2load_run() { # url
	local out="$T/h2load.out" line
	W_requests=0
	run timeout -k 3 $((S + 30)) h2load -t1 -c "$H2_CONNS" -m 10 -D "$S" "$1" >"$out" 2>&1
	{ echo "## h2load -t1 -c $H2_CONNS -m 10 -D $S $1"; cat "$out"; } >>"$T/wrk.log"
	line=$(grep '^finished in ' "$out" | tail -n 1)
	if [ -z "$line" ] || ! grep -q '^Application protocol: h2' "$out"; then
		say "h2load gave no h2 result: $(tail -n 2 "$out" | tr '\n' ' ')"
		return 1
	fi
	W_duration_us=$(awk '/^finished in / { sub(/s,$/, "", $3); print int($3 * 1000000) }' "$out")
	set -- $(awk '/^requests: / { print $8, $10, $12, $14 }' "$out")
	W_requests=$1
	W_sockerr=$(($2 + $3 + $4))
	W_status=$(awk '/^status codes: / { print $6 + $8 + $10 }' "$out")
	W_rps=$(calc "$W_requests * 1000000 / $W_duration_us")
}

# figure names: KIND.KEY.VERSION, KIND one of full, resumed, ka
measure() { # figure target
	local f=$1 t=$2 kind key ver nr=0 a b pa pb busy other cpu show
	IFS=. read -r kind key ver <<<"$f"
	ver=${f#"$kind.$key."}
	ensure_up "$t"
	local args=(-c "$CONNS" -d "${S}s")
	case $kind in
	full) nr=1 args+=(-H 'Connection: close') ;;
	resumed) args+=(-H 'Connection: close') ;;
	esac
	a=$(cpu_snapshot "${PID[$t]}")
	pa=$(cpu_line)
	H_handshakes="" H_failed=0
	if [ "$kind" = h2 ]; then
		if ! h2load_run "$(url "$t" h2)"; then
			say "run $run/$RUNS  $(printf '%-16s %-7s' "$f" "$t") (no result)"
			return
		fi
	elif ! wrk_run "$nr" "$ver" "${args[@]}" "$(url "$t" "$key")"; then
		say "run $run/$RUNS  $(printf '%-16s %-7s' "$f" "$t") (no result)"
		return
	fi
	pb=$(cpu_line)
	b=$(cpu_snapshot "${PID[$t]}")
	record "$f" rps "$t" "$W_rps"
	record "$f" errors "$t" "$((W_sockerr + W_status + H_failed))"
	show="$W_rps req/s"
	if [ "${a#* }" != "${b#* }" ]; then
		say "$t: its processes changed during the run; CPU sample dropped"
	elif [ "$W_requests" -gt 0 ]; then
		cpu=$(calc "(${b%% *} - ${a%% *}) * 1000000 / $HZ / $W_requests")
		busy=$(calc "(${b%% *} - ${a%% *}) * 100 * 1000000 / $HZ / $W_duration_us")
		record "$f" cpu "$t" "$cpu"
		record "$f" busy "$t" "$busy"
		# What else ran on the measured CPU meanwhile (other processes, steal), in %.
		set -- $pa $pb
		other=$(awk "BEGIN { o = 100 * (($3 - $1) - (${b%% *} - ${a%% *})) / ($4 - $2); printf \"%.3g\", (o < 0) ? 0 : o }")
		record "$f" other "$t" "$other"
		show="$show, $cpu us CPU/req, server CPU $(printf '%.0f' "$busy")% busy, other load $(printf '%.0f' "$other")%"
	fi
	if [ -n "$H_handshakes" ]; then
		record "$f" handshakes "$t" "$H_handshakes"
		[ "$H_handshakes" -gt 0 ] && record "$f" resumed "$t" "$(calc "$H_resumed * 100 / $H_handshakes")"
		NEG[$f:$t]="$H_proto $H_cipher $H_group $H_sig"
		show="$show; $H_handshakes handshakes, $H_resumed resumed, $H_proto $H_cipher $H_group"
	fi
	say "run $run/$RUNS  $(printf '%-16s %-7s' "$f" "$t") $show"
}

FIGURES=""
for v in $VERSIONS; do
	for k in $KEYS; do
		[ -n "$SHIM" ] && FIGURES="$FIGURES full.$k.$v"
		FIGURES="$FIGURES resumed.$k.$v"
	done
done
set -- $KEYS
k1=$1
set -- $VERSIONS
FIGURES="$FIGURES ka.$k1.$1 h2.ecdsa.$1"

# --- run ------------------------------------------------------------------------------------

say "temp dir $T; ports origin ${PORT[origin]}, sluice ${PORT[sluice:ecdsa]} (ecdsa) ${PORT[sluice:rsa]} (rsa), nginx ${PORT[nginx:ecdsa]} (ecdsa) ${PORT[nginx:rsa]} (rsa)"
say "$RUNS run(s) x $S s per figure; figures:$FIGURES"
for t in origin $TARGETS; do start_target "$t"; done

for run in $(seq 1 "$RUNS"); do
	# alternate the order of the targets from run to run
	order=$TARGETS
	[ $((run % 2)) = 0 ] && order="nginx sluice"
	for t in $order; do # warm-up, not recorded
		ensure_up "$t"
		for k in $KEYS; do
			run timeout -k 3 20 wrk -t1 -c "$CONNS" -d 1s "$(url "$t" "$k")" >/dev/null 2>&1
		done
	done
	for f in $FIGURES; do
		for t in $order; do measure "$f" "$t"; done
	done
done

# --- report -----------------------------------------------------------------------------------

T1=$(date +%s)
{
	echo "seconds=$S"
	echo "runs=$RUNS"
	echo "conns=$CONNS"
	echo "h2_conns=$H2_CONNS"
	echo "keys=$KEYS"
	echo "versions=$VERSIONS"
	echo "shim=$([ -n "$SHIM" ] && echo 1 || echo 0)"
	echo "cpu_load=$CPU_LOAD"
	echo "cpu_proxy=$CPU_PROXY"
	echo "elapsed_s=$((T1 - T0))"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host=$(nproc --all) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)"
	echo "v_sluice=$("$T/sluice" -v 2>&1 | head -n 1 | sed 's/^sluice //')"
	echo "v_nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: nginx.//')"
	echo "v_nginx_ssl=$("$NGINX" -V 2>&1 | sed -n 's/^built with //p' | head -n 1)"
	echo "v_openssl=$(openssl version 2>&1 | head -n 1)"
	echo "v_wrk=$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
	echo "v_h2load=$(h2load --version 2>&1 | head -n 1)"
	for t in $TARGETS; do
		echo "crashes_$t=${CRASHES[$t]:-0}"
		echo "errlog_$t=$(cat "$T/$t.err" 2>/dev/null | wc -l)"
	done
	for f in $FIGURES; do
		for t in $TARGETS; do
			[ -n "${NEG[$f:$t]:-}" ] && echo "neg_${f}_$t=${NEG[$f:$t]}"
		done
	done
} >"$T/tls-meta"

# Only our own files are replaced in OUT.
mkdir -p "$OUT" || die "cannot create $OUT"
rm -rf "$OUT/tls-conf" "$OUT/tls-logs"
rm -f "$OUT/tls.md" "$OUT/tls-raw.tsv" "$OUT/tls-meta"
mkdir -p "$OUT/tls-conf" "$OUT/tls-logs"
cp "$RAW" "$T/tls-meta" "$OUT/"
cp "$T/origin.conf" "$T/nginx.conf" "$T/sluice.ini" "$OUT/tls-conf/"
for f in origin.err nginx.err sluice.err origin.out nginx.out sluice.out wrk.log; do
	[ -s "$T/$f" ] && cp "$T/$f" "$OUT/tls-logs/"
done

python3 "$HERE/tls-report.py" "$OUT" || die "tls-report.py failed"
echo
cat "$OUT/tls.md"
echo
say "wrote $OUT/tls.md in $((T1 - T0)) s"
