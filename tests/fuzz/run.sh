#!/bin/sh
# run.sh SECONDS TARGET...: run each libFuzzer target for SECONDS from a
# copy of its seed corpus (tests/fuzz/corpus/NAME), one after the other,
# in a scratch directory so the tree stays clean. Prints each target's
# last status line (corpus, cov, ft, exec/s); fails when any target
# finds a crash, leaving the scratch directory and its crash-* files.
set -u
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sluice-fuzz.XXXXXX) || exit 1
failed=
for bin in "$@"; do
	name=${bin##*/fuzz_}
	mkdir -p "$work/$name/corpus" "$work/$name/art"
	[ -d "$here/corpus/$name" ] &&
		cp "$here/corpus/$name"/* "$work/$name/corpus/" 2>/dev/null
	seeds=$(ls "$work/$name/corpus" | wc -l)
	log=$work/$name/log
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
	    -print_final_stats=1 -artifact_prefix="$work/$name/art/" \
	    "$work/$name/corpus" > "$log" 2>&1; then
		st=ok
	else
		st=FAILED
		failed="$failed $name"
	fi
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	runs=$(grep -E 'stat::number_of_executed_units' "$log" |
	    sed 's/.*: *//')
	grow=$(ls "$work/$name/corpus" | wc -l)
	printf 'fuzz %-11s %s  seeds %s -> %s  runs %s\n    %s\n' \
	    "$name" "$st" "$seeds" "$grow" "${runs:-?}" "$last"
done
if [ -n "$failed" ]; then
	echo "fuzz: crashes in$failed; inputs and logs in $work" >&2
	exit 1
fi
rm -rf "$work"
