#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make bench: cgdelegated against the floors and the tools people use today, side by side, with
# the ratios of issue #10's targets from this one run. Exits non-zero naming each target missed.
# The scratch container's groups are below this process's memory group and removed at the end.
# Usage: bench/run.sh BUILD_DIR. Root. (Measured so far: latency, throughput and whole-process
# runs; 10,000 containers, idle connections, RSS and restart time come next.)
set -u
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/common/tap.sh"
DAEMON=$build/daemon/cgdelegated CTL=$build/client/cgdelegatectl B=$build/bench/cgd-bench
N=${CGD_BENCH_CALLS:-5000} SECS=${CGD_BENCH_SECONDS:-3} RUNS=${CGD_BENCH_RUNS:-200}

[ "$(id -u)" = 0 ] || { echo "bench: needs root"; exit 2; }
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-bench-$$"
scratch bench "$G"
pids=() leader=''
before_cleanup() {
        local p
        for p in "${pids[@]}" $leader; do kill "$p" 2>/dev/null; done
        "$CTL" --socket "$t/run/admin.socket" unregister b --remove-cgroup >/dev/null 2>&1
}

mkdir -p "$t/policies" && printf '[Policy]\nMaxGroups=64\nMaxConnections=1024\nRequestRate=1000000\nRequestBurst=10000000\n' >"$t/policies/bench.conf"
daemon_up "$DAEMON" || { echo "bench: the daemon did not start"; exit 2; }
sleep 100000 &
leader=$!
$CTL --socket "$t/run/admin.socket" register b --cgroup "$G/b" --create --policy bench --leader $leader >/dev/null &&
        $CTL --socket "$t/run/containers/b/socket" create /bench >/dev/null || { echo "bench: cannot register"; exit 2; }
box=$t/run/containers/b/socket
knobdir=/sys/fs/cgroup/pids$G/b/bench
[ -d "$knobdir" ] || knobdir=/sys/fs/cgroup$G/b/bench
$B serve-naive "$t/naive.socket" "$knobdir" & pids+=($!)
$B serve-raw "$t/raw.socket" "$knobdir" & pids+=($!)
wait_for 5 "[ -S $t/naive.socket ] && [ -S $t/raw.socket ]"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
missed=()
target() { # target DESCRIPTION OK(0/1)
        if [ "$2" = 1 ]; then echo "  target met:    $1"; else echo "  target MISSED: $1"; missed+=("$1"); fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo 1 || echo 0; }

echo "== cgdelegate bench: $(nproc) CPUs, kernel $(uname -r), $N calls per latency run, ${SECS}s per load run"
echo "-- latency, one connection, unpinned (p50 / p99 in us)"
declare -A p50 p99
for kind in write naive raw set1 set4 get move; do
        if [ $kind = write ]; then out=$($B write "$knobdir" "$N"); else
                sock=$box; [ $kind = naive ] && sock=$t/naive.socket; [ $kind = raw ] && sock=$t/raw.socket
                # MoveProcess moves only the container's own processes: that client starts in its root.
                out=$( [ $kind != move ] || for h in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
                        [ -e "$h${G#/}/b/cgroup.procs" ] && echo $BASHPID >"$h${G#/}/b/cgroup.procs"; done
                       exec $B latency $kind "$sock" "$N" /bench) || { echo "bench: $kind failed: $out"; exit 2; }
        fi
        p50[$kind]=$(field p50_us "$out") p99[$kind]=$(field p99_us "$out")
        printf "  %-28s p50 %8s  p99 %8s\n" "$kind" "${p50[$kind]}" "${p99[$kind]}"
done
echo "  ratios: SetProperties/naive write call $(ratio ${p50[set1]} ${p50[naive]}), naive/raw $(ratio ${p50[naive]} ${p50[raw]}), naive/in-process write $(ratio ${p50[naive]} ${p50[write]})"
target "SetProperties p50 within 1.2x of the naive sd-bus server's write call ($(ratio ${p50[set1]} ${p50[naive]})x)" \
       "$(le "$(ratio ${p50[set1]} ${p50[naive]})" 1.2)"

echo "-- throughput (calls/s) with concurrent clients, each on its own connection"
declare -A tput
for kind in naive set1; do
        sock=$box; [ $kind = naive ] && sock=$t/naive.socket
        for c in 1 4 16 64; do
                out=$($B load $kind "$sock" $c "$SECS" /bench) || { echo "bench: load $kind $c failed: $out"; exit 2; }
                tput[$kind.$c]=$(field calls_per_s "$out")
        done
        printf "  %-8s 1: %8s   4: %8s   16: %8s   64: %8s\n" $kind "${tput[$kind.1]}" "${tput[$kind.4]}" "${tput[$kind.16]}" "${tput[$kind.64]}"
done
target "16 clients: at least the naive server's throughput ($(ratio ${tput[set1.16]} ${tput[naive.16]})x)" \
       "$(le "${tput[naive.16]}" "${tput[set1.16]}")"
target "64 clients: at least 1.5x the naive server's ($(ratio ${tput[set1.64]} ${tput[naive.64]})x)" \
       "$(le 1.5 "$(ratio ${tput[set1.64]} ${tput[naive.64]})")"
target "64 clients: at least 90% of its own 16-client figure ($(ratio ${tput[set1.64]} ${tput[set1.16]})x)" \
       "$(le 0.9 "$(ratio ${tput[set1.64]} ${tput[set1.16]})")"

echo "-- whole processes, the same change ($RUNS runs each, ms per run)"
per_run() { # per_run CMD...: mean ms of RUNS runs
        local s=$(date +%s%N) i
        for ((i = 0; i < RUNS; i++)); do "$@" >/dev/null 2>&1 || { echo "fail"; return; }; done
        awk -v d=$(($(date +%s%N) - s)) -v n=$RUNS 'BEGIN { printf "%.3f", d / n / 1e6 }'
}
declare -A ms
ms[ctl]=$(per_run $CTL --socket "$box" set /bench TasksMax=1000)
ms[echo]=$(per_run sh -c "echo 1000 >$knobdir/pids.max")
ms[true]=$(per_run /bin/true)
ms[busctl]=$(per_run busctl --address="unix:path=$box" call org.cgdelegate /org/cgdelegate org.cgdelegate.Container1 SetProperties 'sa(ss)a{sv}' /bench 1 pids.max 1000 0)
if command -v cgset >/dev/null; then ms[cgset]=$(per_run cgset -r pids.max=1000 "${G#/}/b/bench"); else ms[cgset]=''; fi
for k in ctl cgset echo true busctl; do printf "  %-34s %s\n" "$(case $k in ctl) echo 'cgdelegatectl set TasksMax=1000';; cgset) echo 'cgset -r pids.max=1000';;
        echo) echo "sh -c 'echo > pids.max'";; true) echo /bin/true;; busctl) echo 'busctl call SetProperties';; esac)" "${ms[$k]:-(cgset not installed: cgroup-tools)}"; done
if [ -n "${ms[cgset]}" ]; then
        target "cgdelegatectl set no slower than cgset ($(ratio ${ms[ctl]} ${ms[cgset]})x)" "$(le "${ms[ctl]}" "${ms[cgset]}")"
else
        echo "  not measured: cgset (install cgroup-tools)"
fi
echo "-- not measured yet: 10,000 containers and idle connections, RSS, restart time, systemctl set-property in nspawn"

if [ ${#missed[@]} -gt 0 ]; then
        echo "== ${#missed[@]} target(s) missed"
        exit 1
fi
echo "== every measured target met"
