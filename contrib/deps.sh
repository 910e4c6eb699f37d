#!/bin/sh
# Install what sluice's build, tests and demo need on Debian 12.
# Idempotent; quiet when everything is already there.
set -e
# yamllint: tests/check_docs checks the Kubernetes manifests with it.
# strace: tests/check_tls_proxy counts a refused connection's closes.
# nghttp2-client: nghttp and h2load, the HTTP/2 tests' clients.
# chromium: tests/browser-status.sh drives the admin status page headless.
# clang, libclang-rt-14-dev: make fuzz (-fsanitize=fuzzer needs the runtime
# package; Debian 12's clang is 14), named so it is never left out.
pkgs="build-essential pkg-config libevent-dev libssl-dev libinih-dev libnghttp2-dev nghttp2-client check openssl curl yamllint strace clang libclang-rt-14-dev chromium"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
