#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The VM lane: boots Debian's kernel under qemu (TCG; KVM does not work on these machines) with
# pure cgroup v2 (cgroup_no_v1=all) and every controller, a busybox initramfs (tests/vm/init),
# the host's root read-only over 9p, a results directory writable over 9p and a 64 MiB virtio
# disk for io.max, and runs the integration suite inside (tests/vm/guest.sh). Prints one TAP
# line per guest test program, with its output as comments when it fails (always with
# CGD_TEST_VERBOSE=1). Skips, with the reason, where qemu, the kernel or busybox-static are
# missing or the host is not x86-64; every step has a timeout, so a hung guest fails the lane.
# A second boot runs the host's systemd as PID 1 (suite systemd: tests/vm/test-systemd.sh, and
# tests/vm/test-bridge-v2.sh, the bridge in a systemd-nspawn container inside the VM).
# Usage: test-vm.sh [SUITE...] (default: v2 and systemd, or what CGD_VM_SUITES lists). Root. The
# programs under test are those of the build directory CGD_VM_BUILD (default build; make
# check-asan boots build-asan), relative to the repository.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bld=${CGD_VM_BUILD:-build}
case $bld in */* | '' | .*) echo "test-vm.sh: CGD_VM_BUILD is a directory name of the repository, not '$bld'" >&2; exit 2 ;; esac
[ $# -gt 0 ] || set -- ${CGD_VM_SUITES:-}
suites=("${@:-v2}")
[ $# -gt 0 ] || suites=(v2 systemd)
BOOT_TIMEOUT=${CGD_VM_TIMEOUT:-900} # seconds for one boot, boot to poweroff

skip() {
        echo "1..0 # SKIP $*"
        exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (qemu's 9p export of / must read every file)"
[ "$(uname -m)" = x86_64 ] || skip "the lane boots an x86-64 kernel under qemu-system-x86_64"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is missing (Debian package qemu-system-x86)"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$kernel" ] && [ -r "$kernel" ] || skip "no kernel in /boot (Debian package linux-image-amd64)"
kver=${kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$kver/kernel" ] || skip "no modules for $kver in /lib/modules"
busybox=$(command -v busybox) && ! ldd "$busybox" >/dev/null 2>&1 || skip "needs a static busybox (Debian package busybox-static)"
command -v cpio >/dev/null || skip "cpio is missing"
[ -x "$root/$bld/daemon/cgdelegated" ] || skip "build the tree first (make BUILD=$bld)"

t=$(mktemp -d /tmp/cgd-vm.XXXXXX)
trap '[ -n "${CGD_VM_KEEP:-}" ] && echo "# vm: kept $t" || rm -rf "$t"' EXIT
mkdir -p "$t/initramfs"/{bin,proc,sys,dev,tmp,run,hostroot,results,lib/modules}

# ---- the initramfs: busybox, the virtio and 9p modules, /init ----
cp "$busybox" "$t/initramfs/bin/busybox"
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev \
         drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
         net/9p/9pnet net/9p/9pnet_virtio fs/netfs/netfs fs/fscache/fscache fs/9p/9p; do
        f=/lib/modules/$kver/kernel/$m.ko
        [ -f "$f" ] || skip "module $m is missing or compressed in /lib/modules/$kver (busybox insmod needs plain .ko)"
        cp "$f" "$t/initramfs/lib/modules/"
done
install -m 0755 "$root/tests/vm/init" "$t/initramfs/init"
(cd "$t/initramfs" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$t/initramfs.cpio.gz" ||
        { echo "1..1"; echo "not ok 1 - vm: building the initramfs failed"; exit 1; }
truncate -s 64M "$t/disk.img"

# ---- one boot per suite ----
n=0 failed=0
tap() { # tap OK DESCRIPTION: one TAP line
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=1; echo "not ok $n - $2"; fi
}

# boot SUITE: boots the VM once, runs SUITE in it, prints a TAP line for the boot and one per
# guest test program.
boot() {
        local suite=$1 results=$t/results-$1 start=$SECONDS qemu_rc name rc summary skips
        mkdir -p "$results"
        timeout -k 10 "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 \
                -kernel "$kernel" -initrd "$t/initramfs.cpio.gz" \
                -append "console=ttyS0 cgroup_no_v1=all panic=-1 quiet loglevel=3 cgd.repo=$root cgd.suite=$suite cgd.build=$bld" \
                -nographic -no-reboot -nic none \
                -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
                -virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap" \
                -drive "file=$t/disk.img,if=virtio,format=raw,cache=unsafe" </dev/null >"$t/console-$suite.log" 2>&1
        qemu_rc=$?
        echo "# vm: qemu exited $qemu_rc after $((SECONDS - start)) s (kernel $kver, suite $suite)"
        if [ -e "$results/finished" ]; then
                tap 0 "vm: the guest booted (pure cgroup v2, suite $suite) and ran the suite to its end"
                [ -z "${CGD_TEST_VERBOSE:-}" ] || sed 's/^/#   /' "$t/console-$suite.log"
        else
                tap 1 "vm: the guest did not finish suite $suite (qemu exit $qemu_rc; timeout ${BOOT_TIMEOUT} s); its console:"
                tail -n 40 "$t/console-$suite.log" | sed 's/^/#   /'
        fi
        for f in "$results"/*.rc; do
                [ -e "$f" ] || continue
                name=$(basename "$f" .rc)
                rc=$(cat "$f")
                # cmocka 1.1.5 prints a skipped test as "not ok N # SKIP": counted as skipped here.
                summary=$(grep -cE '^ok ' "$results/$name.tap")/$(grep -cE '^(not )?ok ' "$results/$name.tap")
                skips=$(grep -cE '# SKIP' "$results/$name.tap")
                if [ "$rc" = 0 ]; then
                        tap 0 "vm ($suite): $name ($summary passed, $skips skipped)"
                        [ -z "${CGD_TEST_VERBOSE:-}" ] || sed 's/^/#   /' "$results/$name.tap"
                else
                        tap 1 "vm ($suite): $name (exit $rc, $summary passed)"
                        grep -vE '^ok ' "$results/$name.tap" | tail -n 60 | sed 's/^/#   /'
                fi
        done
}

for suite in "${suites[@]}"; do
        boot "$suite"
done
echo "1..$n"
[ "$failed" = 0 ]
