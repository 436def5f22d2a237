#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage on the real cgroupfs (#12): GetProperties reads the usage keys (memory.current,
# memory.peak, memory.swap.current, pids.current, cpu.stat, io.stat, cpuset.*.effective) of a
# container's groups, each checked against what the workload in the group did and against the
# host's own file (v1: the file it is translated from; cgroup2: the same file); SetProperties and
# policies refuse them; `cgdelegatectl get`, `tree`, `top` and `metrics` show them. Runs on a v1
# hybrid host and in the VM lane (pure cgroup v2). Root; TAP; every cgroup below this process's
# memory group, removed at the end; only processes it started are signalled.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-usage-$$"
scratch usage "$G"
pids=()
before_cleanup() {
        local p
        for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
        "$CTL" --socket "$t/run/admin.socket" unregister u --remove-cgroup >/dev/null 2>&1
}

one_container u
# get GROUP KEY: the value the container reads, newlines kept.
get() { $box --json get "$1" "$2" | jq -r --arg k "$2" '.[$k]'; }
# hostfile CONTROLLER GROUP V2FILE V1FILE: the host's own file of the container's group, in the
# hierarchy of CONTROLLER (cgroup2 when the controller is there).
hostfile() {
        local h
        h=$(awk -F: -v c="$1" '$2 == c { print "v1"; exit }' /proc/self/cgroup)
        if [ "$h" = v1 ]; then
                cat "/sys/fs/cgroup/$1/${G#/}/u$2/$4"
        elif [ -d /sys/fs/cgroup/unified ]; then
                cat "/sys/fs/cgroup/unified/${G#/}/u$2/$3"
        else
                cat "/sys/fs/cgroup/${G#/}/u$2/$3"
        fi
}
# within A B PERCENT: A and B differ by at most PERCENT of B.
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }'; }
MiB=1048576

# Each group gets limits first, which on cgroup2 enables the controllers on the way down; /io
# an I/O weight too (v1 needs none to count, and may have no weight file: then it is refused).
for g in /m /p /c /io; do $box create $g >/dev/null && $box set $g memory.max=max pids.max=max >/dev/null; done
$box set /io io.weight=100 >/dev/null 2>&1

echo "1..12"
# gated GROUP CMD...: spawn, but CMD starts only once it is in GROUP (on cgroup2 memory stays
# charged where it was allocated, and CPU time and I/O count where they happened; a sanitized
# cgdelegatectl under the VM's emulation takes long to move it).
gated() {
        local g=$1 fifo
        shift
        fifo=$(mktemp -u "$t/go.XXXXXX")
        mkfifo "$fifo"
        spawn "$g" sh -c 'read -r _ <"$0"; exec "$@"' "$fifo" "$@"
        local r=$?
        echo go >"$fifo" # also when the move failed: the process waits on the fifo, and must end
        return $r
}
gated /m python3 -c 'import time; b = bytearray(64 << 20); b[::4096] = b"x" * (len(b) // 4096); time.sleep(100000)'
wait_for 10 '[ "$(get /m memory.current)" -ge $((64 * MiB)) ]' 2>/dev/null
ok "memory.current of /m, where a process holds 64 MiB: at least 64 MiB, and the host's file says the same" \
   'cur=$(get /m memory.current) && host=$(hostfile memory /m memory.current memory.usage_in_bytes) && echo "daemon $cur host $host" &&
    [ "$cur" -ge $((64 * MiB)) ] && within "$cur" "$host" 5'
ok "memory.peak of /m is at least its memory.current" \
   'peak=$(get /m memory.peak) && cur=$(get /m memory.current) && echo "peak $peak current $cur" && [ "$peak" -ge "$cur" ]'
ok "memory.swap.current of /m: a number, or NotSupported saying why (no swap accounting)" \
   'out=$($box get /m memory.swap.current 2>&1); echo "$out"; echo "$out" | grep -Eq "^memory.swap.current +[0-9]+$" ||
    echo "$out" | grep -q "NotSupported: memory.swap.current of /m: the kernel keeps no"'
spawn /p sleep 100000; spawn /p sleep 100000; spawn /p sleep 100000
ok "pids.current of /p with three processes is 3, as the host's pids.current" \
   '[ "$(get /p pids.current)" = 3 ] && [ "$(hostfile pids /p pids.current pids.current)" = 3 ]'
gated /c timeout 0.6 sh -c 'while :; do :; done'
wait $spawned
ok "cpu.stat of /c after 0.6 s of a busy loop: usage_usec at least 0.4 s, user + system near it, the host's number (cpuacct's, else cgroup2's)" \
   'st=$(get /c cpu.stat) && echo "$st" && use=$(echo "$st" | awk "\$1 == \"usage_usec\" { print \$2 }") &&
    us=$(echo "$st" | awk "\$1 == \"user_usec\" { print \$2 }") && sy=$(echo "$st" | awk "\$1 == \"system_usec\" { print \$2 }") &&
    if [ -d /sys/fs/cgroup/cpuacct/${G#/}/u/c ]; then host=$(( $(cat /sys/fs/cgroup/cpuacct/${G#/}/u/c/cpuacct.usage) / 1000 ));
    else host=$(hostfile none /c cpu.stat x | awk "\$1 == \"usage_usec\" { print \$2 }"); fi &&
    echo "host $host" && [ "$use" -ge 400000 ] && [ "$use" = "$host" ] && within $((us + sy)) "$use" 25'
ok "cpu.stat has exactly the canonical lines, in order" \
   'get /c cpu.stat | awk "{ print \$1 }" | tr "\n" " " | grep -Eq "^usage_usec user_usec system_usec (nr_periods nr_throttled throttled_usec( nr_bursts burst_usec)? )?$"'
# I/O to count: 8 MiB written with O_DIRECT to a file of $t, or, where $t is on tmpfs (the VM
# lane), 8 MiB read with O_DIRECT from the VM's scratch disk /dev/vda, which test-v2.sh reads too.
io_cmd='' io_col=''
if [ "$(stat -f -c %T "$t")" != tmpfs ]; then
        dev=$(stat -c %d "$t")
        io_dev=$((dev >> 8)):$((dev & 255)) io_col=wbytes
        io_cmd="dd if=/dev/zero of='$t/io' bs=1M count=8 oflag=direct status=none"
elif [ -n "${CGD_VM_LANE:-}" ] && io_dev=$(cat /sys/block/vda/dev 2>/dev/null); then
        io_col=rbytes io_cmd="dd if=/dev/vda of=/dev/null bs=1M count=8 iflag=direct status=none"
fi
if [ -z "$io_cmd" ]; then
        ok "io.stat # SKIP $t is on tmpfs: no block device to count" true
else
        gated /io sh -c "$io_cmd"
        wait $spawned
        ok "io.stat of /io after 8 MiB of O_DIRECT I/O: its device's line counts them ($io_col at least 8 MiB)" \
           'st=$(get /io io.stat) && echo "$st" && line=$(echo "$st" | grep "^$io_dev ") &&
            echo "$line" | grep -Eq "^$io_dev rbytes=[0-9]+ wbytes=[0-9]+ rios=[0-9]+ wios=[0-9]+ dbytes=[0-9]+ dios=[0-9]+$" &&
            got=$(echo "$line" | sed "s/.* $io_col=\([0-9]*\).*/\1/") && [ "$got" -ge $((8 * MiB)) ]'
fi
ok "cpuset.cpus.effective of /c: the host's list; without the host's file (cgroup2, cpuset not enabled) NotSupported" \
   'if want=$(hostfile cpuset /c cpuset.cpus.effective cpuset.effective_cpus); then got=$(get /c cpuset.cpus.effective) &&
    echo "daemon $got host $want" && [ -n "$got" ] && [ "$got" = "$want" ];
    else $box get /c cpuset.cpus.effective 2>&1 | grep "NotSupported: cpuset.cpus.effective of /c: the kernel keeps no"; fi'
ok "SetProperties memory.current is InvalidProperty: a usage statistic, nothing set" \
   'out=$(call SetProperties "sa(ss)a{sv}" /m 1 memory.current 1 0 2>&1); echo "$out";
    echo "$out" | grep -q "memory.current. is a usage statistic: GetProperties reads it, nothing sets it" &&
    grep -q "op=SetProperties path=/m .*InvalidProperty" "$t/daemon.log"'
ok "tree: /m beside its usage and limits; --json has memory.current and pids.current as numbers" \
   'out=$($box tree) && echo "$out" && echo "$out" | head -1 | grep -q "^GROUP .*MEMORY .*MEMORY.MAX .*TASKS .*PIDS.MAX .*CPU .*CPU.MAX" &&
    echo "$out" | grep -Eq "^├─m +1 +[6-9][0-9]\.[0-9]M +max +1 +max " &&
    [ "$($box --json tree | jq ".children[] | select(.path == \"/p\") | .[\"pids.current\"]")" = 3 ]'
spawn /c sh -c 'while :; do :; done'
ok "top --batch: the busy /c leads (with /, which holds it), at 20-105% of one CPU (the host may be busy); the admin sees it as u:/c" \
   'out=$($box top --batch --delay 1) && echo "$out" && echo "$out" | sed -n 2,3p | grep -q "^/c " &&
    cpu=$(echo "$out" | awk "\$1 == \"/c\" { print \$3 }") && awk -v c="$cpu" "BEGIN { exit !(c >= 20 && c <= 105) }" &&
    $admin --json top --delay 0.5 --order path | jq -e "map(select(.group == \"u:/p\"))[0].tasks == 3"'
kill $spawned
ok "metrics: the container's memory, tasks and CPU time of its root" \
   'out=$($admin metrics) && echo "$out" | grep "^cgdelegate_memory" && bytes=$(echo "$out" | sed -n "s/^cgdelegate_memory_bytes{container=\"u\"} //p") &&
    [ "$bytes" -ge $((64 * MiB)) ] && echo "$out" | grep -Eq "^cgdelegate_tasks\{container=\"u\"\} [5-9]$" &&
    echo "$out" | grep -Eq "^cgdelegate_cpu_seconds_total\{container=\"u\"\} [0-9.]+$"'
echo "# $failed of $n failed"
[ "$failed" = 0 ]
