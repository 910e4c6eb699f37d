#!/bin/sh
# deb.sh: build the Debian package from the files git knows or would take
# (tracked and new, as they are in the working tree), check it with
# lintian (no error allowed), install it, check what it installed, and
# purge it again. `make deb` runs
# it; so does CI. Leaves the .deb in $SLUICE_DEB_OUT (default
# /tmp/sluice-deb). Needs root or sudo for apt and the install.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out=${SLUICE_DEB_OUT:-/tmp/sluice-deb}

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs="build-essential debhelper dpkg-dev fakeroot lintian pkg-config libevent-dev libssl-dev libinih-dev adduser"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deb: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# A copy, so that the package build's clean and build touch nothing here.
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
rm -rf "$out"
mkdir -p "$out/sluice-$version"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$out/sluice-$version"
cd "$out/sluice-$version"
dpkg-buildpackage -b -us -uc > "$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed; the log is $out/build.log" >&2
	exit 1
}
cd "$out"
deb=$(ls "$out"/sluice_"$version"_*.deb)
echo "deb: built $deb"
lint=0
lintian --fail-on error --info "$out"/sluice_"$version"_*.changes \
	> "$out/lintian.txt" 2>&1 || lint=$?
cat "$out/lintian.txt"
echo "deb: lintian: $(grep -c '^E:' "$out/lintian.txt" || true) error(s)," \
	"$(grep -c '^W:' "$out/lintian.txt" || true) warning(s)"
[ "$lint" -eq 0 ] || { echo "deb: lintian failed ($lint)" >&2; exit 1; }

fail() {
	echo "deb: $*" >&2
	exit 1
}
if dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q 'ok installed'
then
	fail "a sluice package is installed already: remove it first"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq "$deb" >/dev/null
trap '$SUDO apt-get purge -y -qq sluice >/dev/null 2>&1 || true' EXIT
[ "$(/usr/sbin/sluice --version)" = "sluice $version" ] ||
	fail "sluice --version says $(/usr/sbin/sluice --version)"
/usr/sbin/sluice -t -c /etc/sluice/sluice.ini ||
	fail "the installed /etc/sluice/sluice.ini does not pass sluice -t"
getent passwd sluice >/dev/null || fail "no sluice user"
grep -qx /etc/sluice/sluice.ini /var/lib/dpkg/info/sluice.conffiles ||
	fail "/etc/sluice/sluice.ini is not a conffile"
grep -q '^User=sluice$' /lib/systemd/system/sluice.service ||
	fail "the unit does not run as sluice"
for f in /lib/systemd/system/sluice.socket /etc/logrotate.d/sluice \
    /usr/share/man/man8/sluice.8.gz /usr/share/man/man5/sluice.ini.5.gz; do
	[ -f "$f" ] || fail "$f is missing"
done
[ -L /etc/systemd/system/multi-user.target.wants/sluice.service ] ||
	fail "sluice.service is not enabled"
[ ! -e /etc/systemd/system/sockets.target.wants/sluice.socket ] ||
	fail "sluice.socket is enabled"
$SUDO apt-get purge -y -qq sluice >/dev/null
trap - EXIT
[ ! -e /usr/sbin/sluice ] && [ ! -e /etc/sluice ] ||
	fail "purge left /usr/sbin/sluice or /etc/sluice"
echo "deb: installed, checked (-t, --version, user, conffile, units," \
	"enabled not started), purged: ok"
cd "$top"
