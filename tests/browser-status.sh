#!/bin/bash
# browser-status: the admin's status page (GET /) in a real browser.
#
# Starts ./sluice in front of three tests/origin backends on 127.0.0.1
# (upstream app: a, and c at weight 0; upstream slow: b), holds HOLD
# requests open on b (/delay), drains b through the admin API, and has
# headless Chromium load http://ADMIN/: the page's script must have read
# /status and shown b as draining with HOLD in flight and a as up. Then
# SIGTERM: the page must show the process drain with its exchanges left
# and the hard stop. Screenshots of both go to $SLUICE_ARTIFACTS
# (/tmp/sluice-artifacts) for CI to collect; their paths are printed.
#
# Needs chromium (contrib/deps.sh installs it): without it this fails,
# it never skips. Every wait is bounded; everything started is killed on
# every way out. Run from anywhere after make && make tests; exit 0 when
# every check held. KEEP=1 keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

HOLD=3			# requests held open on b
ART=${SLUICE_ARTIFACTS:-/tmp/sluice-artifacts}
SHOT=$ART/status-page.png
SHOT_STOP=$ART/status-page-shutdown.png
T0=$SECONDS

die() { echo "browser-status: FAIL: $*" >&2; exit 1; }
say() { echo "browser-status: $*"; }

CHROME=${CHROMIUM:-$(command -v chromium || command -v chromium-browser ||
    true)}
[ -n "$CHROME" ] && [ -x "$CHROME" ] ||
	die "chromium not found: install it (contrib/deps.sh does)"
[ -x ./sluice ] && [ -x tests/origin ] ||
	die "./sluice or tests/origin missing: run make && make tests"
command -v curl >/dev/null || die "curl not found"

T=$(mktemp -d /tmp/sluice-browser.XXXXXX)
pids=()		# every process started; chromium's are group leaders
groups=()
cleanup() {
	local p
	for p in "${groups[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${pids[@]}" "${groups[@]}"; do wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# wait_for FILE REGEX SECONDS: until a line of FILE matches, bounded.
wait_for() {
	local i=0 n=$(($3 * 20))
	until grep -Eq "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $n ] || return 1
		sleep 0.05
	done
}

# origin NAME: start a test origin on a free port; sets OPORT.
origin() {
	tests/origin -n "$1" -p 0 > "$T/$1.out" 2> "$T/$1.err" &
	pids+=($!)
	wait_for "$T/$1.out" '^PORT ' 5 || die "origin $1 did not start"
	OPORT=$(sed -n 's/^PORT //p' "$T/$1.out")
}

# free_port: a loopback port the kernel gave a test origin, released.
free_port() {
	local p
	tests/origin -n probe -p 0 > "$T/probe.out" 2>/dev/null &
	p=$!
	pids+=($p)
	wait_for "$T/probe.out" '^PORT ' 5 || die "no free port"
	kill "$p"
	wait "$p" 2>/dev/null || true
	FPORT=$(sed -n 's/^PORT //p' "$T/probe.out")
}

# status: GET /status into $T/status.json.
status() {
	curl -sf -m 5 -o "$T/status.json" "http://127.0.0.1:$PA/status"
}

# wait_status REGEX SECONDS: until /status matches, bounded.
wait_status() {
	local i=0 n=$(($2 * 10))
	until status && grep -Eq "$1" "$T/status.json"; do
		i=$((i + 1))
		[ $i -le $n ] || return 1
		sleep 0.1
	done
}

# chrome OUT ARGS...: headless Chromium on the page, stdout to OUT,
# bounded, in its own process group so that all of it can be killed.
chrome() {
	local out=$1 p rc=0 sandbox=
	shift
	[ "$(id -u)" -ne 0 ] || sandbox=--no-sandbox
	setsid timeout -k 5 60 "$CHROME" --headless $sandbox --disable-gpu \
	    --no-first-run --no-default-browser-check --disable-extensions \
	    --disable-dev-shm-usage --user-data-dir="$T/chrome" \
	    --virtual-time-budget=4000 "$@" "http://127.0.0.1:$PA/" \
	    > "$out" 2>> "$T/chrome.err" &
	p=$!
	groups+=($p)
	wait "$p" || rc=$?
	[ $rc -eq 0 ] || die "chromium exited $rc: $(tail -n 5 "$T/chrome.err")"
}

# text DOM: the rendered DOM without the page's own script. Never pipe it
# into grep -q: with pipefail, grep leaving early is sed's SIGPIPE and a
# failed check (that raced in CI); write it to a file first.
text() { sed '/<script>/,/<\/script>/d' "$1"; }

# rows DOM: the page's table rows, one a line.
rows() { text "$1" | sed 's/<tr/\n<tr/g; s/<\/tr>/<\/tr>\n/g' | grep '^<tr'; }

# row DOM NAME: the row of server NAME.
row() { rows "$1" | grep "^<tr[^>]*data-server=\"$2\"" || true; }

origin a; OA=$OPORT
origin b; OB=$OPORT
origin c; OC=$OPORT
free_port; PW=$FPORT
free_port; PS=$FPORT
free_port; PA=$FPORT
cat > "$T/sluice.ini" <<EOF
[global]
shutdown_timeout = 60s
drain_notice = 0s

[admin]
listen = 127.0.0.1:$PA

[listener web]
listen = 127.0.0.1:$PW
upstream = app

[listener slow]
listen = 127.0.0.1:$PS
upstream = slow

[upstream app]
server = 127.0.0.1:$OA name=a
server = 127.0.0.1:$OC name=c

[upstream slow]
server = 127.0.0.1:$OB name=b
read_timeout = 120s
EOF
./sluice -c "$T/sluice.ini" > "$T/access.log" 2> "$T/error.log" &
SPID=$!
pids+=($SPID)
wait_for "$T/error.log" 'ready' 10 ||
	die "sluice did not start: $(tail -n 5 "$T/error.log")"
say "sluice pid $SPID: web :$PW, slow :$PS, admin :$PA"

for i in 1 2 3 4 5 6; do
	curl -sf -m 5 -o /dev/null "http://127.0.0.1:$PW/bytes/64" ||
		die "GET /bytes/64 through sluice failed"
done
curl -sf -m 5 -o /dev/null -X POST \
    "http://127.0.0.1:$PA/upstreams/app/servers/c/weight?value=0" ||
	die "POST weight 0 on app/c failed"
for i in $(seq "$HOLD"); do
	curl -s -m 100 -o /dev/null "http://127.0.0.1:$PS/delay/90000" &
	pids+=($!)
done
wait_status "\"name\":\"b\"[^}]*\"in_flight\":$HOLD," 10 ||
	die "b never had $HOLD in flight: $(cat "$T/status.json")"
curl -sf -m 5 -o /dev/null -X POST \
    "http://127.0.0.1:$PA/upstreams/slow/servers/b/drain" ||
	die "POST drain on slow/b failed"
say "holding $HOLD requests on slow/b, drained; app/c at weight 0"

t=$SECONDS
chrome "$T/dom.html" --dump-dom
mkdir -p "$ART"
rm -f "$SHOT" "$SHOT_STOP"
chrome /dev/null --screenshot="$SHOT" --window-size=1280,720 \
    --hide-scrollbars
say "chromium: DOM and screenshot in $((SECONDS - t)) s"

text "$T/dom.html" > "$T/dom.txt"
grep -q 'id="updated"[^>]*>updated [0-9]' "$T/dom.txt" ||
	die "the page never showed /status: $(grep -o 'id="updated"[^<]*' \
	    "$T/dom.html")"
B=$(row "$T/dom.html" b)
A=$(row "$T/dom.html" a)
C=$(row "$T/dom.html" c)
[ -n "$B" ] && [ -n "$A" ] && [ -n "$C" ] ||
	die "no row for a, b or c: $(rows "$T/dom.html")"
grep -q '<span class="badge draining">draining</span>' <<<"$B" ||
	die "b is not shown draining: $B"
grep -q "<td class=\"n inflight\">$HOLD</td>" <<<"$B" ||
	die "b does not show $HOLD in flight: $B"
grep -q ">$HOLD left, since [0-9:]*, no deadline<" <<<"$B" ||
	die "b's drain column: $B"
grep -q '<span class="badge up">up</span>' <<<"$A" ||
	die "a is not shown up: $A"
grep -q '<span class="badge drained">weight 0</span>' <<<"$C" ||
	die "c is not shown at weight 0: $C"
say "page: b draining with $HOLD in flight, a up, c weight 0"

kill -TERM "$SPID"
wait_status '"drain":\{"since"' 10 ||
	die "/status never showed the process drain: $(cat "$T/status.json")"
chrome "$T/dom-stop.html" --dump-dom
chrome /dev/null --screenshot="$SHOT_STOP" --window-size=1280,720 \
    --hide-scrollbars
text "$T/dom-stop.html" > "$T/dom-stop.txt"
grep -Eq "Shutting down \(draining\): $HOLD \
exchange\(s\) and [0-9]+ connection\(s\) left; hard stop at [0-9:]{8} \
\(in [0-9.]+ s\)" "$T/dom-stop.txt" ||
	die "no shutdown banner: $(grep -o 'class="banner"[^<]*' \
	    "$T/dom-stop.html")"
say "page after SIGTERM: $(text "$T/dom-stop.html" |
    grep -o 'Shutting down[^<]*')"

for f in "$SHOT" "$SHOT_STOP"; do
	[ -s "$f" ] && [ "$(head -c 4 "$f" | tail -c 3)" = PNG ] ||
		die "no screenshot at $f"
done
say "screenshot: $SHOT"
say "screenshot: $SHOT_STOP"
say "ok in $((SECONDS - T0)) s"
