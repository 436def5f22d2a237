#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the Debian 12 packages cgdelegate needs to build and test, when any is missing. The
# VM lane needs qemu, Debian's kernel (its image in /boot and modules, nothing is booted on the
# host), a static busybox and, for the boot with systemd as PID 1, dbus; the e2e lane needs
# systemd-nspawn and runc (whose container's root is the same static busybox); the protocol
# guide's examples need python3-dbus, the metrics test python3-prometheus-client; the fuzz lane needs clang with its sanitizer and libFuzzer
# runtimes (libclang-rt-dev: clang only recommends them) and llvm's llvm-symbolizer for the traces.
# Needs root only when something is missing; says what it would install otherwise.
# Usage: install-deps.sh [build|deb] -- "build" is what `make` and `make demo` need, without the
# test lanes' packages (qemu and the kernel are the largest by far); "deb" adds what `make deb`
# needs (debhelper, lintian).
set -eu
pkgs=(gcc make pkg-config libc6-dev perl
      libsystemd-dev libcap-ng-dev libglib2.0-dev libjson-c-dev
      libcmocka-dev systemd util-linux procps python3 jq libglib2.0-bin man-db groff-base)
case ${1:-} in
build) ;;
deb) pkgs+=(build-essential debhelper lintian) ;;
*) pkgs+=(qemu-system-x86 linux-image-amd64 busybox-static cpio dbus systemd-container runc python3-dbus build-essential debhelper lintian
         clang libclang-rt-dev llvm python3-prometheus-client) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages (run as root to install): ${missing[*]}" >&2
        exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
