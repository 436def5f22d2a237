#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon on pure cgroup v2 (run by tests/vm/guest.sh inside the VM lane; skips elsewhere):
# every controller through cgdelegatectl in systemd's syntax, each shown in its v2 file and
# enforced by the kernel (an OOM kill in memory.events, heard as a MemoryEvent, a fork refused at pids.max, throttling
# in cpu.stat, io.max in io.stat on the VM's virtio disk, a CPU pin); subtree_control enabled
# top down and the no-internal-processes rule refused as Busy with its explanation;
# cgroup.freeze and cgroup.kill; and nsdelegate: a process in a cgroup namespace rooted at a
# container's root cannot write that root's limits, while the daemon applies those its policy
# allows. TAP; everything made below /cgd-v2-PID and removed at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
TOOL=$root/build/demo/cgd-demo-tool
CG=/sys/fs/cgroup

if [ "$(id -u)" != 0 ] || [ ! -e $CG/cgroup.controllers ] || [ -z "${CGD_VM_LANE:-}" ]; then
        echo "1..0 # SKIP needs root on a pure cgroup v2 machine (the VM lane, tests/vm/test-vm.sh)"
        exit 0
fi
for c in memory cpu io pids cpuset; do
        grep -qw $c $CG/cgroup.subtree_control || { echo "1..0 # SKIP the root does not pass $c on"; exit 0; }
done
disk=$(cat /sys/block/vda/dev 2>/dev/null) || { echo "1..0 # SKIP no virtio disk /dev/vda"; exit 0; }
base=/cgd-v2-$$
t=$(mktemp -d /tmp/cgd-v2.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        for c in c ns; do "$CTL" --socket "$t/run/admin.socket" unregister $c --remove-cgroup >/dev/null 2>&1; done
        daemon_down
        cg_rmtree "$base"
        rm -rf "$t"
}
trap cleanup EXIT

mkdir -p "$t/policies"
cat >"$t/policies/v2.conf" <<POLICY
[Policy]
AllowedDevices=$disk
AllowRootWrites=yes

[Ceilings]
memory.max=512M
POLICY
daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }
admin="$CTL --socket $t/run/admin.socket"
box="$CTL --socket $t/run/containers/c/socket"
sleep 100000 &
leader=$!
pids+=("$leader")
f() { cat "$CG$base/c$1/$2"; }                   # f /group FILE
field() { awk -v k="$2" '$1 == k { print $2 }' "$CG$base/c$1/$3"; } # field /group KEY FILE
# adopt PID: what a runtime does, the process joins the container (its /init leaf).
adopt() { echo "$1" >$CG$base/c/init/cgroup.procs; }
# run_in GROUP CMD...: runs CMD as a process of the container that it moved into GROUP before
# CMD started.
run_in() {
        local g=$1 fifo
        shift
        fifo=$(mktemp -u "$t/go.XXXXXX")
        mkfifo "$fifo"
        (read -r _ <"$fifo"; exec "$@") &
        local pid=$!
        adopt $pid && $box move "$g" $pid || { kill $pid; return 1; }
        echo go >"$fifo"
        wait $pid
}
# refused NAME CMD...: exit 1 and org.cgdelegate.Error.NAME on stderr, printed for the log.
refused() { local name=$1; shift; "$@" 2>"$t/err"; local rc=$?; cat "$t/err"; [ $rc = 1 ] && grep -q "^org.cgdelegate.Error.$name: " "$t/err"; }

echo "1..22"
ok "register c (Create): the groups the daemon made pass memory, cpu, io, pids and cpuset down to its root" \
   '$admin register c --cgroup $base/c --create --policy v2 --leader $leader &&
    for c in memory cpu io pids cpuset; do grep -qw $c $CG$base/c/cgroup.controllers || { echo "no $c"; exit 1; }; done'
ok "the leader goes to the leaf /init (no internal processes); the root is empty" \
   '$box create /init && $box move /init $leader && [ -z "$(f "" cgroup.procs)" ] && grep -qx $leader $CG$base/c/init/cgroup.procs'
ok "memory: MemoryMax=64M MemoryHigh=48M MemoryLow=8M MemoryMin=4M MemorySwapMax=0 in the v2 files" \
   '$box create /app && $box set /app MemoryMax=64M MemoryHigh=48M MemoryLow=8M MemoryMin=4M MemorySwapMax=0 &&
    [ "$(f /app memory.max)" = 67108864 ] && [ "$(f /app memory.high)" = 50331648 ] && [ "$(f /app memory.low)" = 8388608 ] &&
    [ "$(f /app memory.min)" = 4194304 ] && [ "$(f /app memory.swap.max)" = 0 ]'
ok "subtree_control was enabled top down, by the daemon, from the root to /app's parent" \
   'grep -qw memory $CG$base/c/cgroup.subtree_control && ! grep -qw memory $CG$base/c/app/cgroup.subtree_control'
ok "cpu: CPUQuota=20% CPUWeight=50 -> cpu.max and cpu.weight" \
   '$box set /app CPUQuota=20% CPUWeight=50 && [ "$(f /app cpu.max)" = "20000 100000" ] && [ "$(f /app cpu.weight)" = 50 ]'
ok "get /app reads the v2 values back" \
   '[ "$($box --json get /app memory.max cpu.max | jq -r "[.\"memory.max\", .\"cpu.max\"] | join(\",\")")" = "67108864,20000 100000" ]'
$box --json monitor >$t/events 2>$t/monitor.err &
pids+=($!)
sleep 0.3
ok "OOM: a 256 MiB hog under MemoryMax=32M is killed, counted in memory.events oom_kill" \
   '$box create /oom && $box set /oom MemoryMax=32M MemorySwapMax=0 && { run_in /oom $TOOL hog 256; rc=$?; } ; echo "hog exit $rc";
    [ $rc = 137 ] && [ "$(field /oom oom_kill memory.events)" -ge 1 ]'
heard() { jq -c . $t/events 2>/dev/null | grep -qF -- "$1"; } # heard TEXT: one of the monitor's events, compacted
ok "events: the subscriber (monitor) heard MemoryEvent /oom oom_kill from memory.events, and GroupEmpty /oom from cgroup.events" \
   'wait_for 10 "heard \"\\\"path\\\":\\\"/oom\\\",\\\"kind\\\":\\\"oom_kill\\\"\" && heard \"\\\"event\\\":\\\"GroupEmpty\\\",\\\"path\\\":\\\"/oom\\\"\""; r=$?;
    cat $t/events $t/monitor.err; [ $r = 0 ]'
ok "RemoveOnEmpty: /roe goes once the process that ran in it has ended" \
   'busctl --address=unix:path=$t/run/containers/c/socket call org.cgdelegate /org/cgdelegate org.cgdelegate.Container1 CreateGroup \
        "sa{sv}" /roe 1 RemoveOnEmpty b true && [ -d $CG$base/c/roe ] && run_in /roe true && wait_for 10 "[ ! -d $CG$base/c/roe ]"'
ok "pids: TasksMax=5 lets the forker make 4 of 10 children; pids.events counts the refusals" \
   '$box create /forks && $box set /forks TasksMax=5 && run_in /forks $TOOL forks 10 >$t/forks.out; cat $t/forks.out;
    $box kill /forks --signal KILL && grep -q "4 of 10 forks allowed" $t/forks.out && [ "$(field /forks max pids.events)" -ge 6 ]'
ok "cpu: a 1 s spinner under CPUQuota=20% is throttled (cpu.stat nr_throttled)" \
   '$box create /spin && $box set /spin CPUQuota=20% && run_in /spin $TOOL spin 1000 && cat $CG$base/c/spin/cpu.stat &&
    [ "$(field /spin nr_throttled cpu.stat)" -ge 2 ]'
ok "io: IOReadBandwidthMax=/dev/vda 1M (systemd: base 1000) is io.max $disk rbps=1000000; 3 MiB of direct reads take >= 2 s and show in io.stat" \
   '$box create /io && $box set /io "IOReadBandwidthMax=/dev/vda 1M" && f /io io.max && grep -q "^$disk rbps=1000000 " $CG$base/c/io/io.max &&
    s=$(date +%s%N) && run_in /io dd if=/dev/vda of=/dev/null bs=64k count=48 iflag=direct && e=$(( ($(date +%s%N) - s) / 1000000 )) &&
    echo "took $e ms" && cat $CG$base/c/io/io.stat && [ $e -ge 2000 ] && grep -q "^$disk rbytes=" $CG$base/c/io/io.stat'
ok "io: IOWeight=200 -> io.weight default 200" \
   '$box set /io IOWeight=200 && [ "$(f /io io.weight)" = "default 200" ]'
ok "cpuset: AllowedCPUs=1 AllowedMemoryNodes=0 pins a process to CPU 1" \
   '$box create /pin && $box set /pin AllowedCPUs=1 AllowedMemoryNodes=0 && [ "$(f /pin cpuset.cpus)" = 1 ] && [ "$(f /pin cpuset.mems)" = 0 ] &&
    [ "$(run_in /pin awk "/^Cpus_allowed_list/ { print \$2 }" /proc/self/status)" = 1 ]'
ok "no internal processes: a limit on /busy/x while /busy holds a process is Busy, with the rule named; nothing changed" \
   '$box create /busy/x && { sleep 1000 & p=$!; pids+=($p); } && adopt $p && $box move /busy $p &&
    refused Busy $box set /busy/x MemoryMax=16M && grep -q "no internal processes" $t/err &&
    [ ! -e $CG$base/c/busy/x/memory.max ] || [ "$(f /busy/x memory.max)" = max ]'
ok "freeze: cgroup.freeze on /busy (cgroup.events frozen 1), then thaw (frozen 0)" \
   '$box freeze /busy && grep -qx "frozen 1" $CG$base/c/busy/cgroup.events && $box thaw /busy && grep -qx "frozen 0" $CG$base/c/busy/cgroup.events'
ok "kill: cgroup.kill empties /busy" \
   '$box kill /busy --signal KILL && for _ in $(seq 100); do [ -z "$(f /busy cgroup.procs)" ] && break; sleep 0.05; done; [ -z "$(f /busy cgroup.procs)" ]'
ok "refusals: above the ceiling is OutOfRange, another disk AccessDenied; the files keep their values" \
   'refused OutOfRange $box set /app MemoryMax=1G && refused AccessDenied $box set /app "io.max=7:99 rbps=1" && [ "$(f /app memory.max)" = 67108864 ]'
# ---- nsdelegate ----
ok "register ns, with its leader in a cgroup namespace rooted at the container's root" \
   '$admin register ns --cgroup $base/ns --create --policy v2 &&
    { sh -c "echo \$\$ >$CG$base/ns/cgroup.procs && exec unshare --cgroup sleep 100000" & p=$!; pids+=($p); } &&
    for _ in $(seq 100); do [ "$(readlink /proc/$p/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] && break; sleep 0.05; done &&
    grep -qx $p $CG$base/ns/cgroup.procs && nsenter -t $p -C cat /proc/$p/cgroup | grep -qx "0::/" && echo $p >$t/nspid'
ok "nsdelegate: from inside that namespace, root cannot write its root's memory.max (EPERM)" \
   'p=$(cat $t/nspid); ! nsenter -t $p -C python3 -c "import os; os.write(os.open(\"$CG$base/ns/memory.max\", os.O_WRONLY), b\"100M\")" 2>$t/err; cat $t/err; grep -q "PermissionError: .Errno 1. Operation not permitted" $t/err &&
    [ "$(cat $CG$base/ns/memory.max)" = max ]'
ok "...while the daemon applies what the policy allows (AllowRootWrites=yes): MemoryMax=128M on its root" \
   '$CTL --socket $t/run/containers/ns/socket set / MemoryMax=128M && [ "$(cat $CG$base/ns/memory.max)" = 134217728 ]'
ok "unregister both with --remove-cgroup: nothing is left below $base but what this test made" \
   'kill -9 "${pids[@]}" 2>/dev/null; for _ in $(seq 100); do [ -z "$(cat $CG$base/c/init/cgroup.procs $CG$base/ns/cgroup.procs 2>/dev/null)" ] && break; sleep 0.05; done;
    $admin unregister ns --remove-cgroup && $box remove --recursive /app && $admin unregister c --remove-cgroup &&
    [ ! -e $CG$base/c ] && [ ! -e $CG$base/ns ] ||
    { for g in $(find $CG$base -type d); do echo "$g: $(for p in $(cat $g/cgroup.procs); do echo "$p $(tr "\0" " " </proc/$p/cmdline) $(grep PPid /proc/$p/status)"; done)"; done; false; }'
[ "$failed" = 0 ]
