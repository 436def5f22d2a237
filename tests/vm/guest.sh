#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the VM (the host's userland, chrooted, pure cgroup v2 at /sys/fs/cgroup): each
# test program of the suite with its TAP output in RESULTS/NAME.tap and its exit status in
# RESULTS/NAME.rc, for tests/vm/test-vm.sh to report on the host. Each program has a timeout.
# Usage: guest.sh REPO SUITE RESULTS [BUILD] (SUITE: v2, or systemd when systemd is PID 1; BUILD:
# the build directory of REPO whose programs are tested, default build).
set -u
repo=$1 suite=$2 results=$3
build=$repo/${4:-build}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin CGD_DAEMON=$build/daemon/cgdelegated CGD_CTL=$build/client/cgdelegatectl
export CGD_TEST_DATA=$repo/tests/data
cd /tmp
echo "guest.sh: suite $suite, the programs of $build"
# The VM's init hands every controller to the root's children, as systemd does for its slices;
# below that, only the code under test enables controllers.
[ "$suite" = systemd ] || echo "+cpuset +cpu +io +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control ||
        echo "guest.sh: cannot enable controllers in the root: $(cat /sys/fs/cgroup/cgroup.controllers)"
export CGD_VM_LANE=1
case $suite in
v2) tests=("$build"/tests/integration/test-cgtree "$build"/tests/integration/test-apply
           "$build"/tests/integration/test-proc "$build"/tests/integration/test-libcgdelegate
           "$repo"/tests/vm/test-v2.sh "$repo"/tests/integration/test-usage.sh) ;;
systemd) tests=("$repo"/tests/vm/test-systemd.sh "$repo"/tests/vm/test-unit.sh "$repo"/tests/vm/test-bridge-v2.sh) ;;
*) echo "guest.sh: unknown suite '$suite'"; exit 2 ;;
esac
for t in "${tests[@]}"; do
        name=$(basename "$t")
        timeout -k 5 "${CGD_VM_TEST_TIMEOUT:-480}" "$t" >"$results/$name.tap" 2>&1
        echo $? >"$results/$name.rc"
done
echo done >"$results/finished"
