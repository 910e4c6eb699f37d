#!/bin/sh
# Run every check runner given as an argument, from the top of the tree, and
# end with one total line. Exits non-zero when any runner fails or crashes.
# An argument NAME=VALUE:runner runs the runner with that environment
# variable set (SLUICE_TEST_WORKERS=2:tests/check_drain: the drain suite
# with workers = 2).
passed=0 failed=0 status=0
bad_lines=$(mktemp) || exit 1
for arg in "$@"; do
	env= t=$arg
	case $arg in
	*=*:*)	env=${arg%%:*} t=${arg#*:} ;;
	esac
	printf '== %s%s\n' "$t" "${env:+ ($env)}"
	out=$(mktemp) || exit 1
	if [ -n "$env" ]; then
		env "$env" "./$t" >"$out" 2>&1
	else
		"./$t" >"$out" 2>&1
	fi
	rc=$?
	cat "$out"
	# check's own failure lines (file:line:F|E:suite:case:...), with the
	# runner's name, repeated at the end: the tail of a long log shows them.
	grep -E '^[^:]+:[0-9]+:[FE]:' "$out" | sed "s|^|$t${env:+ ($env)}: |" \
		>>"$bad_lines"
	line=$(grep -E '^[0-9]+%: Checks: ' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "$t: exited $rc without a check summary" | tee -a "$bad_lines"
		failed=$((failed + 1)); status=1; continue
	fi
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	bad=$((f + e))
	passed=$((passed + n - bad)); failed=$((failed + bad))
	if [ "$bad" -ne 0 ] || [ "$rc" -ne 0 ]; then status=1; fi
done
if [ -s "$bad_lines" ]; then
	echo "== what failed"
	cat "$bad_lines"
fi
rm -f "$bad_lines"
echo "$passed passed, $failed failed"
exit $status
