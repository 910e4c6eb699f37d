#!/usr/bin/env bash
# soak.sh: sluice under steady load while everything around it changes
# (issue 16, item 9). Not part of make check.
#
#   contrib/soak.sh                              # 30 minutes
#   SOAK_MINUTES=3 contrib/soak.sh               # a quick look (warm-up 1 min)
#
# Needs a built ./sluice, tests/origin and tests/loadgen (./configure &&
# make && make tests), python3, curl and openssl. Builds nothing.
#
# What runs, all on 127.0.0.1 ports picked free:
#   - two test origins, servers a and b of one upstream (retries 1, active
#     health checks each second);
#   - sluice with a plain listener, a TLS listener (a CA and a leaf from
#     tests/certs.sh) and the admin endpoint on loopback;
#   - load, GETs only, for the whole run: tests/loadgen with keep-alive
#     connections on the plain listener, and contrib/soak-client.py with a
#     new TLS connection per request, a new plain connection per request
#     and one TLS keep-alive connection;
#   - every second: the config rewritten, alternating two versions (the
#     servers' weights and a response header), then SIGHUP, confirmed in
#     /status; every 10 s (before that second's reload): new certificate
#     files (new key, same CA) in place of the old; every 20 s: one origin
#     killed with SIGKILL, a and b in turn, and started again on its port.
#   - each minute: one table line: sluice's RSS (VmRSS) and descriptors
#     (/proc/PID/fd), its CPU in that minute, reloads, rotations, kills,
#     requests done and failed per load, error-log lines by level.
#
# Verdict (exit 0 PASS, 1 FAIL, 2 could not run). The warm-up sample is
# the one taken at the end of minute SOAK_WARMUP. FAIL if:
#   - any request failed: the design (README "Health", "Retries"; doc/
#     ARCHITECTURE.md) says a reload fails no request and a killed origin
#     of two costs no GET: a refused connect or a pooled connection closed
#     before any response byte is retried on the other server. The one
#     exception the design makes: an exchange already on the origin when
#     it was killed, which sluice must not repeat (a GET the origin read
#     on a fresh connection, or whose response had begun): a 502
#     server_headers or a cut server_body on the killed server within 2 s
#     of the kill, not a connect failure. Those are counted as "allowed";
#     any other failure, or more failures at the clients than allowed
#     lines in the access log, fails the run. Failures are listed with
#     sluice's access-log and error-log lines and the events;
#   - the last RSS sample is above the warm-up one by more than 10 % and
#     more than 2 MiB, or (at least 5 samples after warm-up) every sample
#     after warm-up is above the one before and the last is more than 1 MiB
#     above warm-up;
#   - the last descriptor count is above the warm-up one by more than
#     SOAK_FD_SLACK;
#   - a reload failed or was not confirmed, an origin could not be
#     restarted, sluice died, or it did not exit 0 on SIGTERM at the end.
#
# Environment (default):
#   SOAK_MINUTES (30)       duration in minutes
#   SOAK_WARMUP (3; 1 when SOAK_MINUTES < 6)   warm-up minutes, < SOAK_MINUTES
#   SOAK_WORKERS (2)        sluice's workers
#   SOAK_KA_CONNS (8), SOAK_KA_RATE (150)      loadgen keep-alive connections, req/s
#   SOAK_TLS_NEW_RATE (40), SOAK_PLAIN_NEW_RATE (40), SOAK_TLS_KA_RATE (40)
#                           soak-client.py's three loads, req/s each
#   SOAK_FD_SLACK (16)      descriptors allowed above the warm-up sample
#   SOAK_PATH (/bytes/512)  what the load asks the origins for
#   SLUICE (./sluice)       the binary under test
#   SOAK_KEEP (unset)       keep the temp dir (configs, logs, stats)
#
# Everything lives in a temp dir; every process started here is stopped
# on exit, Ctrl-C included; every wait is bounded.

set -u
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MINUTES=${SOAK_MINUTES:-30}
case $MINUTES in '' | *[!0-9]*) echo "soak: SOAK_MINUTES must be a whole number" >&2; exit 2 ;; esac
[ "$MINUTES" -ge 2 ] || { echo "soak: SOAK_MINUTES must be >= 2" >&2; exit 2; }
if [ "$MINUTES" -lt 6 ]; then WARMUP=${SOAK_WARMUP:-1}; else WARMUP=${SOAK_WARMUP:-3}; fi
case $WARMUP in '' | *[!0-9]*) echo "soak: SOAK_WARMUP must be a whole number" >&2; exit 2 ;; esac
[ "$WARMUP" -ge 1 ] && [ "$WARMUP" -lt "$MINUTES" ] ||
	{ echo "soak: SOAK_WARMUP must be >= 1 and < SOAK_MINUTES" >&2; exit 2; }
WORKERS=${SOAK_WORKERS:-2}
KA_CONNS=${SOAK_KA_CONNS:-8}
KA_RATE=${SOAK_KA_RATE:-150}
TLS_NEW_RATE=${SOAK_TLS_NEW_RATE:-40}
PLAIN_NEW_RATE=${SOAK_PLAIN_NEW_RATE:-40}
TLS_KA_RATE=${SOAK_TLS_KA_RATE:-40}
FD_SLACK=${SOAK_FD_SLACK:-16}
RPATH=${SOAK_PATH:-/bytes/512}
SLUICE=${SLUICE:-$ROOT/sluice}
ORIGIN=$ROOT/tests/origin
LOADGEN=$ROOT/tests/loadgen
CLIENT=$HERE/soak-client.py
SECONDS_TOTAL=$((MINUTES * 60))

say() { printf 'soak: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

for x in "$SLUICE" "$ORIGIN" "$LOADGEN"; do
	[ -x "$x" ] || die "no $x: build first (./configure && make && make tests)"
done
for c in python3 curl openssl awk; do
	command -v "$c" >/dev/null 2>&1 || die "$c is required"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-soak.XXXXXX") || die "mktemp failed"
declare -A OPID=() OPORT=()
SPID="" LPID="" CPID=""

# --- processes ---------------------------------------------------------------

alive() { # pid: running and not a zombie
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# stop PID SIG SECONDS: send SIG, wait up to SECONDS, then SIGKILL.
stop() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -"$2" "$pid" 2>/dev/null
	for ((i = 0; i < $3 * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cleanup() {
	local rc=$? n
	trap - EXIT INT TERM HUP
	stop "$LPID" INT 12
	stop "$CPID" TERM 12
	stop "$SPID" QUIT 5
	for n in a b; do stop "${OPID[$n]:-}" TERM 3; done
	if [ -n "${SOAK_KEEP:-}" ]; then
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

# wait_for FILE TEXT SECONDS: bounded wait for TEXT to appear in FILE.
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# origin_start NAME [PORT]: start (or restart, on its port) origin NAME.
origin_start() {
	local n=$1 p=${2:-0} try
	for try in 1 2 3 4 5; do
		# emptied here: the child's own truncation may come after
		# wait_for has read the previous run's PORT line
		: >"$T/origin-$n.out"
		"$ORIGIN" -n "$n" -p "$p" >"$T/origin-$n.out" 2>>"$T/origin-$n.err" &
		OPID[$n]=$!
		if wait_for "$T/origin-$n.out" '^PORT ' 5; then
			OPORT[$n]=$(sed -n 's/^PORT //p' "$T/origin-$n.out")
			return 0
		fi
		stop "${OPID[$n]}" KILL 1
		OPID[$n]=""
		sleep 0.2
	done
	return 1
}

# free_ports N: N loopback ports the kernel gives out now (then released).
free_ports() {
	python3 -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

# --- certificates and configs -------------------------------------------------

mkdir -p "$T/certs" "$T/gen"
NCERT=0
# new_cert: a fresh leaf for localhost and 127.0.0.1 in gen/, moved over
# certs/site.pem and certs/site.key (the reload that follows reads both).
new_cert() {
	NCERT=$((NCERT + 1))
	(set +u; cd "$T/gen" && . "$ROOT/tests/certs.sh" &&
		leaf "site$NCERT" "/CN=localhost $NCERT" DNS:localhost,IP:127.0.0.1 30 ca) \
		>>"$T/openssl.log" 2>&1 || return 1
	mv -f "$T/gen/site$NCERT.key" "$T/certs/site.key" &&
		mv -f "$T/gen/site$NCERT.pem" "$T/certs/site.pem" &&
		rm -f "$T/gen/site$NCERT".*
}
(set +u; cd "$T/gen" && . "$ROOT/tests/certs.sh" && ca ca '/CN=sluice soak CA') \
	>>"$T/openssl.log" 2>&1 || die "openssl cannot make the CA: $(tail -n 3 "$T/openssl.log")"
new_cert || die "openssl cannot make a certificate: $(tail -n 3 "$T/openssl.log")"

read -r P_PLAIN P_TLS P_ADMIN < <(free_ports 3)
[ -n "$P_ADMIN" ] || die "no free ports"
origin_start a || die "origin a does not start: $(cat "$T/origin-a.err")"
origin_start b || die "origin b does not start: $(cat "$T/origin-b.err")"

CONF=$T/sluice.ini
# write_conf A|B: the two versions differ in the weights and a header.
write_conf() {
	local wa=1 wb=2
	[ "$1" = B ] && wa=2 wb=1
	cat >"$CONF.new" <<EOF
; written by contrib/soak.sh, version $1
[global]
access_log = $T/access.log
error_log = $T/error.log
workers = $WORKERS
shutdown_timeout = 10s
drain_idle_timeout = 1s

[admin]
listen = 127.0.0.1:$P_ADMIN

[listener plain]
listen = 127.0.0.1:$P_PLAIN
upstream = app
response_header = set X-Soak-Config $1

[listener tls]
listen = 127.0.0.1:$P_TLS
upstream = app
tls_certificate = $T/certs/site.pem $T/certs/site.key
response_header = set X-Soak-Config $1

[upstream app]
server = 127.0.0.1:${OPORT[a]} name=a weight=$wa
server = 127.0.0.1:${OPORT[b]} name=b weight=$wb
connect_timeout = 1s
read_timeout = 5s
retries = 1
health_check = /health
health_interval = 1s
EOF
	mv -f "$CONF.new" "$CONF"
}
write_conf A
"$SLUICE" -t -c "$CONF" >"$T/check.out" 2>&1 || die "sluice -t refuses the config: $(cat "$T/check.out")"
"$SLUICE" -c "$CONF" >"$T/sluice.out" 2>&1 &
SPID=$!
wait_for "$T/error.log" ' ready: ' 10 || die "sluice is not ready: $(tail -n 5 "$T/error.log" "$T/sluice.out" 2>&1)"
ADMIN=http://127.0.0.1:$P_ADMIN

# reload_count: the reloads sluice has done, ok+failed (from /status).
reload_count() {
	curl -s -m 2 "$ADMIN/status" | sed -n 's/.*"reloads":{"ok":\([0-9]*\),"failed":\([0-9]*\)}.*/\1 \2/p'
}

# --- load ------------------------------------------------------------------------

"$LOADGEN" -c "$KA_CONNS" -r "$KA_RATE" -d $(((SECONDS_TOTAL + 5) * 1000)) -t 10000 \
	-p "$RPATH" -H X-Soak-Config -o "$T/loadgen.out" "127.0.0.1:$P_PLAIN" \
	>"$T/loadgen.sum" 2>"$T/loadgen.err" &
LPID=$!
python3 "$CLIENT" "$T/client.stats" "$T/gen/ca.pem" localhost "$P_PLAIN" "$P_TLS" "$RPATH" \
	"tls-new:$TLS_NEW_RATE" "plain-new:$PLAIN_NEW_RATE" "tls-ka:$TLS_KA_RATE" \
	>"$T/client.out" 2>"$T/client.err" &
CPID=$!
wait_for "$T/loadgen.err" 'loadgen: started' 10 || die "loadgen does not start: $(cat "$T/loadgen.err")"
wait_for "$T/client.err" 'soak-client: started' 10 || die "soak-client does not start: $(cat "$T/client.err")"

# --- sampling --------------------------------------------------------------------

kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1; }
# ka_counts: "done failed" of loadgen so far (failed: transport failures
# from its progress line plus non-2xx answers from its -o file).
ka_counts() {
	local line ok fail bad
	line=$(grep 'ms: sent=' "$T/loadgen.err" | tail -n 1)
	ok=$(printf '%s\n' "$line" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
	fail=$(printf '%s\n' "$line" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
	bad=$(awk '$7 == "ok" && ($5 < 200 || $5 > 299)' "$T/loadgen.out" 2>/dev/null | wc -l)
	echo "$((${ok:-0} + ${fail:-0})) $((${fail:-0} + bad))"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SPID/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)
RELOAD_OK=0 RELOAD_BAD=0 RELOAD_LATE=0 ROTATIONS=0 KILLS=0 RESTART_BAD=0
declare -a RSS=() FDS=()
EVENTS=$T/events.log
: >"$EVENTS"
ev() { printf '%s %s\n' "$(date -u +%H:%M:%S.%3N)" "$*" >>"$EVENTS"; }

sample() { # minute
	local m=$1 rss fds cpu ka kad kaf cd cf lv
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SPID/status" 2>/dev/null)
	fds=$(ls "/proc/$SPID/fd" 2>/dev/null | wc -l)
	cpu=$(cpu_ticks)
	RSS[$m]=${rss:-0} FDS[$m]=$fds
	read -r kad kaf < <(ka_counts)
	cd=$(($(kv "$T/client.stats" ok) + $(kv "$T/client.stats" fail)))
	cf=$(kv "$T/client.stats" fail)
	lv=$(awk '{ sub(/:$/, "", $2); c[$2]++ } END { printf "%d/%d/%d", c["info"], c["warn"], c["error"] }' "$T/error.log")
	printf '%4d %8d %5d %5.1f %6s %4d %4d %8d %6d %8d %6d %14s\n' "$m" "${rss:-0}" "$fds" \
		"$(awk -v a="$cpu" -v b="$CPU_LAST" -v hz="$HZ" 'BEGIN { printf "%.1f", (a - b) * 100 / hz / 60 }')" \
		"$RELOAD_OK/$((RELOAD_BAD + RELOAD_LATE))" "$ROTATIONS" "$KILLS" "$kad" "$kaf" "$cd" "${cf:-0}" "$lv"
	CPU_LAST=$cpu
}

# --- the run ---------------------------------------------------------------------

say "sluice pid $SPID, plain :$P_PLAIN, tls :$P_TLS, admin :$P_ADMIN, origins a :${OPORT[a]} b :${OPORT[b]}"
say "$MINUTES min, warm-up $WARMUP min, $WORKERS workers; temp dir $T"
printf '%4s %8s %5s %5s %6s %4s %4s %8s %6s %8s %6s %14s\n' min rss_kib fds cpu% reload cert kill \
	ka_done ka_fail nc_done nc_fail log_i/w/e
CPU_LAST=$(cpu_ticks)
START=$(date +%s.%N)
DIED=""
VERSION=A
for ((n = 1; n <= SECONDS_TOTAL; n++)); do
	# sleep until START + n seconds
	d=$(awk -v s="$START" -v n="$n" -v now="$(date +%s.%N)" 'BEGIN { d = s + n - now; printf "%.3f", (d > 0 ? d : 0) }')
	sleep "$d"
	alive "$SPID" || { DIED="sluice died at second $n"; break; }
	if ((n % 10 == 5)); then
		if new_cert; then ROTATIONS=$((ROTATIONS + 1)); ev "certificate $NCERT"; else
			say "certificate $NCERT: openssl failed: $(tail -n 2 "$T/openssl.log")"; fi
	fi
	if [ "$VERSION" = A ]; then VERSION=B; else VERSION=A; fi
	before=$(reload_count)
	write_conf "$VERSION"
	kill -HUP "$SPID"
	ev "reload $VERSION"
	ok=""
	for ((i = 0; i < 40; i++)); do
		now=$(reload_count)
		if [ -n "$now" ] && [ "$now" != "$before" ]; then ok=1; break; fi
		sleep 0.05
	done
	if [ -z "$ok" ]; then
		RELOAD_LATE=$((RELOAD_LATE + 1)); ev "reload $VERSION not confirmed in 2 s"
	elif [ "${now#* }" != "${before#* }" ]; then
		RELOAD_BAD=$((RELOAD_BAD + 1)); ev "reload $VERSION FAILED"
		say "reload failed at second $n: $(curl -s -m 2 "$ADMIN/status" | sed -n 's/.*"last_reload":\({[^}]*}\).*/\1/p')"
	else
		RELOAD_OK=$((RELOAD_OK + 1))
	fi
	if ((n % 20 == 10)); then
		if (((n / 20) % 2 == 0)); then o=a; else o=b; fi
		kill -KILL "${OPID[$o]}" 2>/dev/null
		wait "${OPID[$o]}" 2>/dev/null
		ev "killed origin $o"
		KILLS=$((KILLS + 1))
		if origin_start "$o" "${OPORT[$o]}"; then ev "restarted origin $o"; else
			RESTART_BAD=$((RESTART_BAD + 1)); ev "origin $o does not restart"
			say "origin $o does not restart on :${OPORT[$o]}: $(tail -n 2 "$T/origin-$o.err")"
		fi
	fi
	((n % 60 == 0)) && sample $((n / 60))
done

# --- the end: stop the load, read its totals, stop sluice --------------------------

stop "$LPID" INT 15
LPID=""
stop "$CPID" TERM 15
CPID=""
SLUICE_RC=""
if [ -z "$DIED" ]; then
	kill -TERM "$SPID"
	for ((i = 0; i < 150; i++)); do alive "$SPID" || break; sleep 0.1; done
	if alive "$SPID"; then SLUICE_RC="still running 15 s after SIGTERM"; stop "$SPID" QUIT 5; else
		wait "$SPID"; SLUICE_RC=$?; fi
	SPID=""
fi

KA_SENT=$(kv "$T/loadgen.sum" sent)
KA_FAILED=$(kv "$T/loadgen.sum" failed)
KA_NON2XX=$(($(kv "$T/loadgen.sum" s3xx) + $(kv "$T/loadgen.sum" s4xx) + $(kv "$T/loadgen.sum" s5xx)))
KA_OK2=$(kv "$T/loadgen.sum" s2xx)
NC_OK=$(kv "$T/client.stats" ok)
NC_FAIL=$(kv "$T/client.stats" fail)
echo
echo "load totals:"
printf '  keep-alive (loadgen, %s conns): %s sent, %s 2xx, %s non-2xx, %s failed (' "$KA_CONNS" \
	"${KA_SENT:-?}" "${KA_OK2:-?}" "$KA_NON2XX" "${KA_FAILED:-?}"
for k in refused eof_after_write reset_after_write truncated timeout bad_response; do
	printf '%s %s ' "$k" "$(kv "$T/loadgen.sum" "$k")"
done
printf ')\n'
for m in tls-new plain-new tls-ka; do
	printf '  %-10s (soak-client): %s ok, %s failed (' "$m" "$(kv "$T/client.stats" "$m.ok")" "$(kv "$T/client.stats" "$m.fail")"
	for k in connect tls reset eof timeout status bad; do printf '%s %s ' "$k" "$(kv "$T/client.stats" "$m.$k")"; done
	printf ')\n'
done
echo "  server certificates seen on TLS: $(kv "$T/client.stats" certs) (rotations: $ROTATIONS, +1 initial)"
echo "  X-Soak-Config seen by soak-client: $(kv "$T/client.stats" configs)"
echo "  origins: a $(kv "$T/loadgen.sum" origin.a) b $(kv "$T/loadgen.sum" origin.b) (loadgen's requests)"
echo "  reloads: $RELOAD_OK ok, $RELOAD_BAD failed, $RELOAD_LATE not confirmed; kills $KILLS, restarts failed $RESTART_BAD"
echo "error log by kind (numbers, ids and addresses folded):"
sed -E "s|$T|TMP|g" "$T/error.log" | sed -E 's/^[^ ]+ //; s/#[0-9a-f]+/#ID/g; s/[0-9]+(\.[0-9]+)*/N/g' |
	sort | uniq -c | sort -rn | head -n 15 | sed 's/^/  /'

# Failed requests, with what sluice logged in that second.
FAILS=$T/failures.txt
: >"$FAILS"
grep 'soak-client: [0-9]' "$T/client.err" >>"$FAILS"
grep 'loadgen: .* ms: slot' "$T/loadgen.err" >>"$FAILS"
awk '$7 != "ok" || $5 < 200 || $5 > 299' "$T/loadgen.out" | head -n 20 | sed 's/^/loadgen -o: /' >>"$FAILS"
awk '$7 !~ /^2/ || $14 != "ok"' "$T/access.log" | head -n 40 | sed 's/^/access: /' >>"$FAILS"

# The one failure the design allows: an exchange already on an origin when
# it was killed, that sluice could not retry (README "Retries": only a
# failed connect, a write failed on a pooled connection, or an idempotent
# request on a pooled connection closed before any response byte; a GET
# the origin had read on a fresh connection, or whose response had begun,
# may have been acted on). Such an access-log line is a 502 server_headers
# or a cut server_body, on the server killed within 2 s of it, whose
# error-log line is not a connect failure (those must be retried). Every
# other non-2xx or non-ok access-log line is unexcused.
awk -v killfile="$EVENTS" -v errfile="$T/error.log" '
function sod(t,  a) { # HH:MM:SS.mmm anywhere in t -> seconds of the day
	if (!match(t, /[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]+/)) return -1
	split(substr(t, RSTART, RLENGTH), a, ":")
	return a[1] * 3600 + a[2] * 60 + a[3]
}
BEGIN {
	while ((getline l < killfile) > 0)
		if (l ~ / killed origin /) { n++; kt[n] = sod(l); ks[n] = l; sub(/.* /, "", ks[n]) }
	while ((getline l < errfile) > 0)
		if (match(l, /#[0-9a-f]+ /)) {
			id = substr(l, RSTART, RLENGTH - 1)
			why[id] = why[id] " " l
		}
}
$7 !~ /^2/ || $14 != "ok" {
	ok = 0
	if (($14 == "server_headers" || $14 == "server_body") && why[$15] !~ /: connect (failed|timed out)/) {
		t = sod($1)
		for (i = 1; i <= n; i++) {
			d = (t - kt[i] + 129600) % 86400 - 43200
			if (ks[i] == $10 && d >= -2 && d <= 2) ok = 1
		}
	}
	if (ok) ex++; else un++
	print (ok ? "excused: " : "UNEXCUSED: ") $0 > "/dev/stderr"
}
END { printf "%d %d\n", ex, un }' "$T/access.log" >"$T/excuse.out" 2>"$T/excuse.txt"
read -r EXCUSED UNEXCUSED <"$T/excuse.out"
grep -E ' (warn|error): ' "$T/error.log" | head -n 40 | sed 's/^/error log: /' >>"$FAILS"

# --- verdict ---------------------------------------------------------------------

WHY=""
why() { WHY="$WHY; $*"; }
[ -n "$DIED" ] && why "$DIED"
NSAMP=${#RSS[@]}
TOTAL_FAILED=$((${KA_FAILED:-1} + KA_NON2XX + ${NC_FAIL:-1}))
EXCUSED=${EXCUSED:-0} UNEXCUSED=${UNEXCUSED:-0}
[ "$UNEXCUSED" -eq 0 ] || why "$UNEXCUSED failed exchanges in sluice's access log that the design does not allow"
[ "$TOTAL_FAILED" -le "$EXCUSED" ] ||
	why "$TOTAL_FAILED requests failed at the clients, $EXCUSED of them allowed (in flight on a killed origin, not retryable)"
[ -n "$KA_SENT" ] && [ "$KA_SENT" -gt 0 ] || why "no loadgen summary"
[ -n "$NC_OK" ] && [ "$NC_OK" -gt 0 ] || why "no soak-client requests"
[ "$RELOAD_BAD" -eq 0 ] || why "$RELOAD_BAD reloads failed"
[ "$RELOAD_LATE" -eq 0 ] || why "$RELOAD_LATE reloads not confirmed within 2 s"
[ "$RESTART_BAD" -eq 0 ] || why "$RESTART_BAD origin restarts failed"
if [ -z "$DIED" ] && [ "$SLUICE_RC" != 0 ]; then why "sluice's exit on SIGTERM: $SLUICE_RC"; fi
W_RSS=${RSS[$WARMUP]:-} W_FDS=${FDS[$WARMUP]:-}
L_RSS=${RSS[$MINUTES]:-} L_FDS=${FDS[$MINUTES]:-}
if [ -n "$W_RSS" ] && [ -n "$L_RSS" ]; then
	grow=$((L_RSS - W_RSS))
	if [ "$grow" -gt 2048 ] && [ $((grow * 10)) -gt "$W_RSS" ]; then
		why "RSS grew ${grow} KiB after warm-up (${W_RSS} -> ${L_RSS} KiB: > 10 % and > 2 MiB)"
	fi
	if [ $((MINUTES - WARMUP)) -ge 5 ] && [ "$grow" -gt 1024 ]; then
		up=1
		for ((m = WARMUP + 1; m <= MINUTES; m++)); do
			[ "${RSS[$m]}" -gt "${RSS[$((m - 1))]}" ] || up=0
		done
		[ "$up" = 1 ] && why "RSS rose in every minute after warm-up (${W_RSS} -> ${L_RSS} KiB)"
	fi
	[ $((L_FDS - W_FDS)) -le "$FD_SLACK" ] ||
		why "descriptors grew after warm-up (${W_FDS} -> ${L_FDS}, slack $FD_SLACK)"
else
	why "no RSS samples at minutes $WARMUP and $MINUTES"
fi

if [ -s "$FAILS" ] && [ "$((TOTAL_FAILED + UNEXCUSED + EXCUSED))" -gt 0 ]; then
	echo "failures and what sluice logged (first lines):"
	sed 's/^/  /' "$FAILS" "$T/excuse.txt" | head -n 100
	echo "events around them (reloads, certificates, kills):"
	grep -v ' reload [AB]$' "$EVENTS" | tail -n 40 | sed 's/^/  /'
fi
FIG="requests ok $(((${KA_OK2:-0}) + ${NC_OK:-0})), failed $TOTAL_FAILED ($EXCUSED allowed at a kill); RSS ${W_RSS:-?} -> ${L_RSS:-?} KiB; fds ${W_FDS:-?} -> ${L_FDS:-?}; reloads $RELOAD_OK, cert rotations $ROTATIONS, origin kills $KILLS; $MINUTES min, warm-up $WARMUP"
if [ -z "$WHY" ]; then
	echo "soak: PASS: $FIG"
	exit 0
fi
echo "soak: FAIL${WHY#;}: $FIG"
[ -n "${SOAK_KEEP:-}" ] || say "set SOAK_KEEP=1 to keep the logs"
exit 1
