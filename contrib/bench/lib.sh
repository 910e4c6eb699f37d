# lib.sh: helpers shared by bench.sh and tls.sh (sourced; set BENCH_NAME).

say() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
die() { say "$*"; exit 1; }
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }

# install_tools CMD:PACKAGE...: install from Debian the packages whose
# command is missing, quietly; without starting their system services.
install_tools() {
	local missing="" sudo="" want
	for want in "$@"; do
		command -v "${want%%:*}" >/dev/null 2>&1 ||
			missing="$missing ${want#*:}"
	done
	[ -z "$missing" ] && return 0
	command -v apt-get >/dev/null 2>&1 || die "missing:$missing (and no apt-get to install them)"
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	say "installing from Debian:$missing"
	# RUNLEVEL=1: the packages' init scripts do not start a system nginx/haproxy.
	$sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get update -qq >/dev/null 2>&1 &&
		$sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
			apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
		die "apt-get install failed for:$missing"
}
