#!/bin/sh
# demo: sluice in front of two origins (blue and green) with conf/demo.ini.
# Sends requests, switches traffic blue -> green under load with one edited
# line and a SIGHUP, then shuts down gracefully under load; prints what came
# back, from which origin, and how many requests failed.
set -eu
cd "$(dirname "$0")/.."

tmp=$(mktemp -d /tmp/sluice-demo.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

die() { echo "demo: $*" >&2; exit 1; }

# wait_for FILE TEXT: bounded wait (5 s) for TEXT to appear in FILE.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || die "timed out waiting for '$2' in $1"
		sleep 0.05
	done
}

# origin NAME PORT: start a test origin on 127.0.0.1:PORT.
origin() {
	tests/origin -n "$1" -p "$2" > "$tmp/$1.out" 2> "$tmp/$1.err" &
	pids="$pids $!"
	wait_for "$tmp/$1.out" PORT
}

# upstream_servers LINES: rewrite the [upstream app] server lines.
set_servers() {
	awk -v servers="$1" '
		/^server = / { if (!done) { n = split(servers, s, ";");
			for (i = 1; i <= n; i++) print "server = " s[i]; done = 1 }
			next }
		{ print }' "$tmp/demo.ini" > "$tmp/demo.ini.new"
	mv "$tmp/demo.ini.new" "$tmp/demo.ini"
}

# loadgen_line FILE KEY: one value from a loadgen summary.
val() { sed -n "s/^$2=//p" "$1"; }

origin blue 9001
origin green 9002
cp conf/demo.ini "$tmp/demo.ini"
./sluice -c "$tmp/demo.ini" > "$tmp/access.log" 2> "$tmp/error.log" &
spid=$!
pids="$pids $spid"
wait_for "$tmp/error.log" "ready"

echo "== 1. requests through sluice (round robin over blue and green)"
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null -D "$tmp/h" http://127.0.0.1:8080/bytes/16
	printf 'GET /bytes/16 -> %s from %s\n' \
	    "$(head -n 1 "$tmp/h" | cut -d' ' -f2)" \
	    "$(sed -n 's/^X-Origin: //p' "$tmp/h" | tr -d '\r')"
done

echo
echo "== 2. blue -> green under load: one edited line and a SIGHUP"
set_servers "127.0.0.1:9001 name=blue"
kill -HUP "$spid"
wait_for "$tmp/error.log" "generation 2"
tests/loadgen -q -c 20 -d 3000 -m mix 127.0.0.1:8080 > "$tmp/load2" 2>&1 &
lpid=$!
sleep 1
set_servers "127.0.0.1:9002 name=green"
kill -HUP "$spid"
wait_for "$tmp/error.log" "generation 3"
echo "switched to green at t=1s (generation 3)"
wait "$lpid" || die "loadgen failed: $(cat "$tmp/load2")"
printf 'requests: %s ok, %s failed; served by blue: %s, by green: %s\n' \
    "$(val "$tmp/load2" ok)" "$(val "$tmp/load2" failed)" \
    "$(val "$tmp/load2" origin.blue)" "$(val "$tmp/load2" origin.green)"
after=$(curl -s -o /dev/null -D - http://127.0.0.1:8080/bytes/1 |
    sed -n 's/^X-Origin: //p' | tr -d '\r')
echo "a new request now goes to: $after"

echo
echo "== 3. graceful shutdown under load (SIGTERM while 20 requests of 300 ms are in flight)"
tests/loadgen -q -c 20 -d 1500 -p /delay/300 127.0.0.1:8080 > "$tmp/load3" 2>&1 &
lpid=$!
sleep 1
kill -TERM "$spid"
wait "$spid" && status=0 || status=$?
pids=$(echo "$pids" | sed "s/ $spid//")
wait "$lpid" || die "loadgen failed: $(cat "$tmp/load3")"
grep 'shutdown complete' "$tmp/error.log" | sed 's/^[^ ]* [a-z]*: /sluice: /'
printf 'sluice exit status %s; requests: %s ok, %s failed (%s refused after the listener closed)\n' \
    "$status" "$(val "$tmp/load3" ok)" \
    "$(($(val "$tmp/load3" failed) - $(val "$tmp/load3" refused)))" \
    "$(val "$tmp/load3" refused)"
