#!/bin/sh
# sluice benchmark harness (issues 6, 18): sluice, nginx and HAProxy as reverse
# proxies in front of the same nginx origin, with the same CPU pinning, in one
# run; the origin measured directly is the ceiling, and a bare evhttp server
# (contrib/bench/floor) measured directly is the floor: what libevent's HTTP
# layer alone costs. `make bench` runs it.
#
#   sh contrib/bench/bench.sh                                 # full: 3 runs x 8 s per figure, 3 s per grid cell (~24 min)
#   BENCH_SECONDS=2 BENCH_RUNS=1 BENCH_GRID_SECONDS=1 sh contrib/bench/bench.sh    # quick (~3 min)
#
# Needs a built ./sluice and contrib/bench/floor (builds nothing: `make bench`
# builds both); installs nginx, haproxy, wrk, gnuplot-nox, python3 and curl
# from Debian if they are missing.
#
# Environment (default):
#   BENCH_SECONDS (8)      length of each wrk run
#   BENCH_RUNS (3)         repetitions of the whole set; median and min-max are reported
#   BENCH_CONNS (50)       connections for the keep-alive, 16 KiB, close and reload figures
#   BENCH_BIG_CONNS (4)    connections for the 1 MiB figure
#   BENCH_LAT_CONNS (10)   connections for the latency figure ...
#   BENCH_LAT_PAUSE_MS (1) ... each pausing this long after every response
#   BENCH_IDLE_CONNS (5000) idle keep-alive connections for the RSS figure
#   BENCH_GRID (1)         0 skips the grid (MB/s: 16k, 1m, 16m x 1, 4, 8, 32 conns x origin mem, file)
#   BENCH_GRID_SECONDS (3) length of each grid cell's wrk run
#   BENCH_GRID_CEILING (0) 1 adds the origin measured directly to the grid
#   BENCH_PORT (18400)     first of nine loopback ports (origin, sluice, nginx, haproxy,
#                          floor, then the "mem" origin and the proxies' listeners for it)
#   BENCH_CPU_LOAD (0), BENCH_CPU_PROXY (1)   CPUs, see "Pinning"
#   SLUICE (./sluice)      the binary under test (copied to the temp dir at start)
#   FLOOR (contrib/bench/floor)   the bare evhttp server (copied likewise)
#   BENCH_OUT (contrib/bench/out)   where results go
#   BENCH_KEEP (unset)     keep the temp dir (configs, logs, wrk output)
#
# Pinning: this script, wrk and the idle-connection client run on CPU 0.
# Each proxy runs on CPU 1, alone. The origin shares CPU 0 with the load
# generator while a proxy is measured (so the proxy has CPU 1 to itself and is
# the bottleneck), and is moved to CPU 1 (taskset -p) while it is measured
# directly, so whatever is measured always has CPU 1 to itself. The floor runs
# on CPU 1 like the proxies; it is measured directly (nothing behind it).
#
# Output in BENCH_OUT: results.md (printed at the end), results.png, raw.tsv
# (one line per run, figure, target), conf/ (the rendered configs), logs/.

if [ -z "${BENCH_CHILD:-}" ]; then
	BENCH_CHILD=1
	export BENCH_CHILD
	command -v bash >/dev/null 2>&1 || { echo "bench: bash is required" >&2; exit 1; }
	command -v taskset >/dev/null 2>&1 || { echo "bench: taskset (util-linux) is required" >&2; exit 1; }
	if [ "$(nproc --all)" -lt 2 ]; then
		echo "bench: needs 2 CPUs (load generator on one, proxy on the other)" >&2
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
BIG_CONNS=${BENCH_BIG_CONNS:-4}
LAT_CONNS=${BENCH_LAT_CONNS:-10}
LAT_PAUSE=${BENCH_LAT_PAUSE_MS:-1}
IDLE=${BENCH_IDLE_CONNS:-5000}
CPU_LOAD=${BENCH_CPU_LOAD:-0}
CPU_PROXY=${BENCH_CPU_PROXY:-1}
SLUICE=${SLUICE:-$ROOT/sluice}
FLOOR=${FLOOR:-$HERE/floor}
GRID=${BENCH_GRID:-1}
GS=${BENCH_GRID_SECONDS:-3}
GRID_CEIL=${BENCH_GRID_CEILING:-0}
TARGETS="origin floor sluice nginx haproxy"
FIGURES="ka kib16 close big grid lat rss reload"
[ "$GRID" = 0 ] && FIGURES="ka kib16 close big lat rss reload"
# The grid: origin modes (the origin's two servers), response sizes, conns.
GRID_MODES="mem file"
GRID_SIZES="16k 1m 16m"
GRID_CONNS="1 4 8 32"
T0=$(date +%s)

BENCH_NAME=bench
. "$HERE/lib.sh"

# --- tools -------------------------------------------------------------------

install_tools nginx:nginx haproxy:haproxy wrk:wrk gnuplot:gnuplot-nox python3:python3 curl:curl
[ -x "$SLUICE" ] || die "no sluice binary at $SLUICE; build it first (./configure && make sluice) or set SLUICE=/path/to/sluice"
[ -x "$FLOOR" ] || die "no floor server at $FLOOR; build it first (make contrib/bench/floor) or set FLOOR=/path/to/floor"
case "$S$RUNS$CONNS$BIG_CONNS$LAT_CONNS$LAT_PAUSE$IDLE$GRID$GS$GRID_CEIL" in
*[!0-9]*) die "BENCH_* settings must be whole numbers" ;;
esac
[ "$S" -ge 1 ] && [ "$RUNS" -ge 1 ] || die "BENCH_SECONDS and BENCH_RUNS must be >= 1"
[ "$GS" -ge 1 ] || die "BENCH_GRID_SECONDS must be >= 1"
NGINX=$(command -v nginx)
HAPROXY=$(command -v haproxy)
HZ=$(getconf CLK_TCK)

# Descriptors: 5,000 idle clients need 5,000 (sluice, haproxy, nginx) or more.
need=$((IDLE * 2 + 1024))
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$need" ] || ulimit -Hn "$need" 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
lim=$(ulimit -n)
if [ "$lim" != unlimited ] && [ "$lim" -lt "$need" ]; then
	IDLE=$(((lim - 1024) / 2))
	say "open-file limit $lim: idle connections reduced to $IDLE"
fi
# HAProxy wants 2 descriptors per connection below the limit; nginx may not
# raise its own limit past the hard one.
NOFILE=65536 MAXCONN=20000 WORKER_CONNS=16384
if [ "$lim" != unlimited ]; then
	NOFILE=$lim
	[ $(((lim - 200) / 2)) -lt "$MAXCONN" ] && MAXCONN=$(((lim - 200) / 2))
	[ $((lim - 100)) -lt "$WORKER_CONNS" ] && WORKER_CONNS=$((lim - 100))
fi

# --- temp dir, processes, cleanup ---------------------------------------------

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX") || die "mktemp failed"
mkdir -p "$T/www" "$T/tmp"
chmod 755 "$T" "$T/www" # nginx workers run as nobody when started by root
declare -A PID=() PORT=() MPORT=() CRASHES=() RELOADS=() ERRS=()
RELOADER=""
CHILD=""

# Long commands run in the background and are waited for: a signal then
# reaches the traps below at once (bash runs no INT trap after a foreground
# child that handled SIGINT itself, as wrk does).
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

stop_sig() {
	case $1 in
	sluice) echo QUIT ;; # stop at once (TERM would drain)
	*) echo TERM ;;      # nginx: fast shutdown; haproxy master: hard stop; floor: exit
	esac
}

stop_target() {
	local t=$1 pids p i
	local pid=${PID[$t]:-}
	[ -n "$pid" ] || return 0
	pids=$(tree_pids "$pid")
	kill -"$(stop_sig "$t")" "$pid" 2>/dev/null
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
	if [ -n "$RELOADER" ]; then
		kill "$RELOADER" 2>/dev/null
		wait "$RELOADER" 2>/dev/null
	fi
	for t in haproxy nginx sluice floor origin; do stop_target "$t"; done
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

# --- ports and configs ----------------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

base=${BENCH_PORT:-18400}
for try in $(seq 20); do
	ok=1
	for i in 0 1 2 3 4 5 6 7 8; do port_busy $((base + i)) && ok=0; done
	[ "$ok" = 1 ] && break
	base=$((base + 10))
done
[ "$ok" = 1 ] || die "no nine free loopback ports found from ${BENCH_PORT:-18400}"
PORT[origin]=$base
PORT[sluice]=$((base + 1))
PORT[nginx]=$((base + 2))
PORT[haproxy]=$((base + 3))
PORT[floor]=$((base + 4))
# The grid's "mem" mode: the origin's sendfile-off server, and each proxy's
# second listener in front of it (the floor has none).
MPORT[origin]=$((base + 5))
MPORT[sluice]=$((base + 6))
MPORT[nginx]=$((base + 7))
MPORT[haproxy]=$((base + 8))

render() { # template target output
	sed -e "s|@T@|$T|g" -e "s|@ORIGIN_PORT@|${PORT[origin]}|g" -e "s|@PORT@|${PORT[$2]}|g" \
		-e "s|@ORIGIN_MEM_PORT@|${MPORT[origin]}|g" -e "s|@PORT_MEM@|${MPORT[$2]}|g" \
		-e "s|@MAXCONN@|$MAXCONN|g" -e "s|@NOFILE@|$NOFILE|g" -e "s|@WORKER_CONNS@|$WORKER_CONNS|g" \
		"$HERE/$1" >"$T/$3" || die "cannot render $1"
}
render origin.conf.in origin origin.conf
render nginx.conf.in nginx nginx.conf
render haproxy.cfg.in haproxy haproxy.cfg
render sluice.ini.in sluice sluice.ini
head -c 16384 /dev/zero | tr '\0' 'b' >"$T/www/16k"
head -c 1048576 /dev/zero | tr '\0' 'B' >"$T/www/1m"
head -c 16777216 /dev/zero | tr '\0' 'M' >"$T/www/16m"
cp "$SLUICE" "$T/sluice" || die "cannot copy $SLUICE"
cp "$FLOOR" "$T/floor" || die "cannot copy $FLOOR"

"$T/sluice" -t -c "$T/sluice.ini" >"$T/sluice.check" 2>&1 || die "sluice rejects its config: $(cat "$T/sluice.check")"
"$NGINX" -t -q -p "$T/" -e "$T/nginx-t.err" -c "$T/origin.conf" >/dev/null 2>&1 || die "nginx rejects origin.conf: $(cat "$T/nginx-t.err")"
"$NGINX" -t -q -p "$T/" -e "$T/nginx-t.err" -c "$T/nginx.conf" >/dev/null 2>&1 || die "nginx rejects nginx.conf: $(cat "$T/nginx-t.err")"
"$HAPROXY" -c -q -f "$T/haproxy.cfg" >"$T/haproxy-c.out" 2>&1 || die "haproxy rejects haproxy.cfg: $(cat "$T/haproxy-c.out")"

start_target() {
	local t=$1
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
	haproxy)
		setsid taskset -c "$CPU_PROXY" "$HAPROXY" -W -f "$T/haproxy.cfg" >>"$T/haproxy.out" 2>&1 </dev/null &
		;;
	floor)
		setsid taskset -c "$CPU_PROXY" "$T/floor" -p "${PORT[floor]}" >>"$T/floor.out" 2>&1 </dev/null &
		;;
	esac
	PID[$t]=$!
	local i
	for i in $(seq 100); do
		alive "${PID[$t]}" || die "$t exited at start; see below
$(tail -n 5 "$T/$t.out" "$T/$t.err" 2>/dev/null)"
		port_busy "${PORT[$t]}" && break
		sleep 0.1
	done
	port_busy "${PORT[$t]}" || die "$t does not listen on ${PORT[$t]} after 10 s"
	local path want got mode paths="small:64 16k:16384 1m:1048576 16m:16777216"
	[ "$t" = floor ] && paths="small:64 16k:16384 1m:1048576"
	for mode in file mem; do
		[ "$mode" = mem ] && [ -z "${MPORT[$t]:-}" ] && continue
		for path in $paths; do
			want="200 ${path#*:}"
			got=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{size_download}' \
				"$(url "$t" "/${path%%:*}" "$mode")")
			[ "$got" = "$want" ] || die "$t ($mode): GET /${path%%:*} gave '$got', want '$want'"
		done
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

pin() { # pid cpu: move a process tree, all threads
	local p
	for p in $(tree_pids "$1"); do taskset -a -p -c "$2" "$p" >/dev/null 2>&1; done
}

# After a reload storm wait for old workers to leave, so CPU samples of the next
# run see a stable set of processes.
settle() {
	local t=$1 want=2 i n
	[ "$t" = sluice ] && want=1
	for i in $(seq 150); do
		n=$(tree_pids "${PID[$t]}" | wc -l)
		[ "$n" -le "$want" ] && return 0
		sleep 0.1
	done
	say "$t: still $n processes 15 s after the reload run"
}

# --- measuring -------------------------------------------------------------------

RAW="$T/raw.tsv"
: >"$RAW"
run=0

record() { # metric target value
	[ -n "$3" ] && printf '%s\t%s\t%s\t%s\n' "$run" "$1" "$2" "$3" >>"$RAW"
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

cpu_record() { # metric target before after
	CPU_US="?"
	if [ "${3#* }" != "${4#* }" ]; then
		say "$2: its processes changed during the run; CPU sample dropped"
		return
	fi
	[ "${W_requests:-0}" -gt 0 ] || return
	CPU_US=$(calc "(${4%% *} - ${3%% *}) * 1000000 / $HZ / $W_requests")
	record "$1" "$2" "$CPU_US"
}

wrk_run() { # wrk args (URL last, then optionally -- PAUSE_MS); sets W_*
	local out="$T/wrk.out" line kv
	W_requests=0
	run timeout -k 3 $((S + GS + 30)) wrk -t1 --timeout 5s -s "$HERE/report.lua" "$@" >"$out" 2>&1
	{ echo "## wrk $*"; cat "$out"; } >>"$T/wrk.log"
	line=$(grep '^WRK ' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		say "wrk gave no result: $(tail -n 2 "$out" | tr '\n' ' ')"
		return 1
	fi
	for kv in ${line#WRK }; do printf -v "W_${kv%%=*}" '%s' "${kv#*=}"; done
	W_sockerr=$((W_connect + W_read + W_write + W_timeout))
	W_rps=$(calc "$W_requests * 1000000 / $W_duration_us")
}

count_errors() { # target: socket errors and non-2xx outside the reload figure
	ERRS[$1]=$((${ERRS[$1]:-0} + W_sockerr + W_status))
}

url() { # target path [mode]: mode mem is the listener in front of the origin's sendfile-off server
	if [ "${3:-file}" = mem ]; then
		echo "http://127.0.0.1:${MPORT[$1]}$2"
	else
		echo "http://127.0.0.1:${PORT[$1]}$2"
	fi
}

fig_ka() {
	local a b
	a=$(cpu_snapshot "${PID[$1]}")
	wrk_run -c "$CONNS" -d "${S}s" "$(url "$1" /small)" || return
	b=$(cpu_snapshot "${PID[$1]}")
	record ka_rps "$1" "$W_rps"
	cpu_record cpu_ka "$1" "$a" "$b"
	count_errors "$1"
	SHOW="$W_rps req/s, $CPU_US us CPU/req"
}

fig_kib16() {
	wrk_run -c "$CONNS" -d "${S}s" "$(url "$1" /16k)" || return
	record kib16_rps "$1" "$W_rps"
	count_errors "$1"
	SHOW="$W_rps req/s"
}

fig_close() {
	local a b
	a=$(cpu_snapshot "${PID[$1]}")
	wrk_run -c "$CONNS" -d "${S}s" -H 'Connection: close' "$(url "$1" /small)" || return
	b=$(cpu_snapshot "${PID[$1]}")
	record close_rps "$1" "$W_rps"
	cpu_record cpu_close "$1" "$a" "$b"
	count_errors "$1"
	SHOW="$W_rps req/s, $CPU_US us CPU/req"
}

fig_big() {
	wrk_run -c "$BIG_CONNS" -d "${S}s" "$(url "$1" /1m)" || return
	record big_mbs "$1" "$(calc "$W_bytes / $W_duration_us")"
	count_errors "$1"
	SHOW="$(tail -n 1 "$RAW" | cut -f 4) MB/s"
}

fig_lat() {
	wrk_run -c "$LAT_CONNS" -d "${S}s" "$(url "$1" /small)" -- "$LAT_PAUSE" || return
	record lat_p50 "$1" "$W_p50"
	record lat_p99 "$1" "$W_p99"
	record lat_rps "$1" "$W_rps"
	count_errors "$1"
	SHOW="p50 $W_p50 us, p99 $W_p99 us at $W_rps req/s"
}

fig_rss() {
	local line kv
	# A fresh process: an allocator keeps what 5,000 connections once needed,
	# so a second measurement in the same process would see no growth at all.
	# The origin too (it is "nginx serving" in the floor rows): the proxies'
	# idle pooled connections to it close with it, and the next request
	# through a proxy opens new ones.
	stop_target "$1"
	start_target "$1"
	[ "$1" = origin ] && pin "${PID[origin]}" "$CPU_PROXY"
	run timeout -k 3 20 wrk -t1 -c "$CONNS" -d 1s "$(url "$1" /small)" >/dev/null 2>&1
	run timeout -k 3 120 python3 "$HERE/idle.py" "${PID[$1]}" "${PORT[$1]}" "$IDLE" /small >"$T/idle.out" 2>&1
	line=$(grep '^IDLE ' "$T/idle.out")
	if [ -z "$line" ]; then
		say "idle client failed: $(tail -n 2 "$T/idle.out" | tr '\n' ' ')"
		return
	fi
	for kv in ${line#IDLE }; do printf -v "I_${kv%%=*}" '%s' "${kv#*=}"; done
	record rss_conn "$1" "$(calc "$I_per_conn_bytes / 1024")"
	ERRS[$1]=$((${ERRS[$1]:-0} + I_failed))
	SHOW="$I_conns idle conns ($I_failed failed): RSS ${I_rss_before_kb} -> ${I_rss_after_kb} KiB"
}

reloader() { # pid signal: one reload per second until killed
	local sp=""
	trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; exit 0' TERM
	while :; do
		sleep 1 &
		sp=$!
		wait "$sp"
		kill -"$2" "$1" 2>/dev/null || exit 0
		echo >>"$T/reloads"
	done
}

fig_reload() {
	local t=$1 sig n
	case $t in
	sluice | nginx) sig=HUP ;;    # nginx: what `nginx -s reload` sends
	haproxy) sig=USR2 ;;          # master-worker (-W) reload
	*) return ;;
	esac
	: >"$T/reloads"
	reloader "${PID[$t]}" "$sig" &
	RELOADER=$!
	wrk_run -c "$CONNS" -d "${S}s" "$(url "$t" /small)"
	local ok=$?
	kill "$RELOADER" 2>/dev/null
	wait "$RELOADER" 2>/dev/null
	RELOADER=""
	n=$(wc -l <"$T/reloads")
	RELOADS[$t]=$((${RELOADS[$t]:-0} + n))
	if [ "$ok" = 0 ]; then
		record reload_rps "$t" "$W_rps"
		record reload_sockerr "$t" "$W_sockerr"
		record reload_non2xx "$t" "$W_status"
		SHOW="$W_rps req/s over $n reloads, $W_sockerr socket errors, $W_status non-2xx"
	fi
	settle "$t"
}

# The grid: MB/s per cell (origin mode x response size x connections), cell
# by cell with every target in the run's order, so that the targets of one
# cell ran close together. The proxies only (not the floor), and the origin
# measured directly with BENCH_GRID_CEILING=1.
in_grid() {
	case $1 in
	sluice | nginx | haproxy) return 0 ;;
	origin) [ "$GRID_CEIL" = 1 ] ;;
	*) return 1 ;;
	esac
}

grid_cell() { # target mode size conns: one wrk run, recorded as grid_MODE_SIZE_CONNS
	local mbs
	ensure_up "$1"
	[ "$1" = origin ] && pin "${PID[origin]}" "$CPU_PROXY"
	GRID_SHOW="$GRID_SHOW $1 -"
	if wrk_run -c "$4" -d "${GS}s" "$(url "$1" "/$3" "$2")"; then
		mbs=$(calc "$W_bytes / $W_duration_us")
		record "grid_$2_$3_$4" "$1" "$mbs"
		count_errors "$1"
		GRID_SHOW="${GRID_SHOW% -} $(printf '%.0f' "$mbs")"
		[ $((W_sockerr + W_status)) -gt 0 ] && GRID_SHOW="$GRID_SHOW ($((W_sockerr + W_status)) errors)"
	fi
	[ "$1" = origin ] && pin "${PID[origin]}" "$CPU_LOAD"
}

run_grid() { # targets in this run's order
	local m z c t
	for m in $GRID_MODES; do
		for z in $GRID_SIZES; do
			for c in $GRID_CONNS; do
				GRID_SHOW=""
				for t in "$@"; do
					in_grid "$t" && grid_cell "$t" "$m" "$z" "$c"
				done
				say "run $run/$RUNS  grid    $(printf '%-4s %-3s x%-2s' "$m" "$z" "$c") MB/s:$GRID_SHOW"
			done
		done
	done
}

cpu_line() { # "busy total" ticks of the measured CPU (all but idle and iowait)
	awk -v c="cpu$CPU_PROXY" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

measure() { # figure target
	local f=$1 t=$2 a b pa pb other
	# the reload figure is for proxies: the origin and the floor do not reload
	[ "$f" = reload ] && { [ "$t" = origin ] || [ "$t" = floor ]; } && return
	ensure_up "$t"
	[ "$t" = origin ] && pin "${PID[origin]}" "$CPU_PROXY"
	SHOW="(no result)"
	a=$(cpu_snapshot "${PID[$t]}")
	pa=$(cpu_line)
	"fig_$f" "$t"
	pb=$(cpu_line)
	b=$(cpu_snapshot "${PID[$t]}")
	[ "$t" = origin ] && pin "${PID[origin]}" "$CPU_LOAD"
	# What else ran on the measured CPU meanwhile (other processes, steal), in %.
	if [ "$f" != rss ] && [ "${a#* }" = "${b#* }" ]; then
		set -- $pa $pb
		other=$(awk "BEGIN { o = 100 * (($3 - $1) - (${b%% *} - ${a%% *})) / ($4 - $2); printf \"%.3g\", (o < 0) ? 0 : o }")
		record other_cpu "$t" "$other"
		SHOW="$SHOW  [other load on CPU $CPU_PROXY: $(printf '%.0f' "$other")%]"
	fi
	say "run $run/$RUNS  $(printf '%-7s %-8s' "$f" "$t") $SHOW"
}

# --- run -----------------------------------------------------------------------------

say "temp dir $T; ports origin ${PORT[origin]} sluice ${PORT[sluice]} nginx ${PORT[nginx]} haproxy ${PORT[haproxy]} floor ${PORT[floor]}; mem: origin ${MPORT[origin]} sluice ${MPORT[sluice]} nginx ${MPORT[nginx]} haproxy ${MPORT[haproxy]}"
say "$RUNS run(s) x $S s per figure, $GS s per grid cell; figures: $FIGURES"
for t in $TARGETS; do start_target "$t"; done

for run in $(seq 1 "$RUNS"); do
	# rotate the order of the targets from run to run, to spread slow drifts
	set -- $TARGETS
	i=1
	while [ "$i" -lt "$run" ]; do set -- "$@" "$1"; shift; i=$((i + 1)); done
	order="$*"
	for t in $order; do # warm-up, not recorded
		ensure_up "$t"
		run timeout -k 3 20 wrk -t1 -c "$CONNS" -d 1s "$(url "$t" /small)" >/dev/null 2>&1
	done
	for f in $FIGURES; do
		if [ "$f" = grid ]; then
			run_grid $order
			continue
		fi
		for t in $order; do measure "$f" "$t"; done
	done
	for t in $TARGETS; do record errors "$t" "${ERRS[$t]:-0}"; ERRS[$t]=0; done
done

# --- report ------------------------------------------------------------------------------

T1=$(date +%s)
{
	echo "seconds=$S"
	echo "runs=$RUNS"
	echo "conns=$CONNS"
	echo "big_conns=$BIG_CONNS"
	echo "lat_conns=$LAT_CONNS"
	echo "lat_pause_ms=$LAT_PAUSE"
	echo "idle_conns=$IDLE"
	echo "grid=$GRID"
	echo "grid_seconds=$GS"
	echo "grid_ceiling=$GRID_CEIL"
	echo "grid_modes=$GRID_MODES"
	echo "grid_sizes=$GRID_SIZES"
	echo "grid_conns=$GRID_CONNS"
	echo "cpu_load=$CPU_LOAD"
	echo "cpu_proxy=$CPU_PROXY"
	echo "elapsed_s=$((T1 - T0))"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host=$(nproc --all) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)"
	echo "v_sluice=$("$T/sluice" -v 2>&1 | head -n 1 | sed 's/^sluice //')"
	echo "v_nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: nginx.//')"
	echo "v_haproxy=$("$HAPROXY" -v 2>&1 | head -n 1 | cut -d' ' -f1-3)"
	echo "v_wrk=$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
	echo "v_libevent=$(pkg-config --modversion libevent 2>/dev/null || echo '?')"
	for t in $TARGETS; do
		echo "crashes_$t=${CRASHES[$t]:-0}"
		echo "reloads_$t=${RELOADS[$t]:-0}"
	done
	for t in $TARGETS; do
		echo "errlog_$t=$(cat "$T/$t.err" 2>/dev/null | wc -l)"
	done
} >"$T/meta"

# Only our own files are replaced in OUT.
mkdir -p "$OUT" || die "cannot create $OUT"
rm -rf "$OUT/conf" "$OUT/logs"
rm -f "$OUT/results.md" "$OUT/results.png" "$OUT/raw.tsv" "$OUT/meta" \
	"$OUT/ratios.dat" "$OUT/abs.dat" "$OUT/grid.dat" "$OUT/labels.gp"
mkdir -p "$OUT/conf" "$OUT/logs"
cp "$RAW" "$T/meta" "$OUT/"
cp "$T/origin.conf" "$T/nginx.conf" "$T/haproxy.cfg" "$T/sluice.ini" "$OUT/conf/"
for f in origin.err nginx.err sluice.err origin.out nginx.out sluice.out haproxy.out floor.out wrk.log; do
	[ -s "$T/$f" ] && cp "$T/$f" "$OUT/logs/"
done

python3 "$HERE/report.py" "$OUT" || die "report.py failed"
gnuplot -e "dir='$OUT'" "$HERE/chart.gp" 2>"$T/gnuplot.err" ||
	say "gnuplot failed: $(cat "$T/gnuplot.err")"
rm -f "$OUT/labels.gp"
echo
cat "$OUT/results.md"
echo
say "wrote $OUT/results.md and $OUT/results.png in $((T1 - T0)) s"
