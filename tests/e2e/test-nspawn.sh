#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end with a real systemd in a real container: systemd-nspawn boots the host's own /usr
# (volatile) from a container registered with cgdelegated; its v1 controllers are read-only
# inside, as in the pods this project was born from. cgdelegate-systemd-bridge runs there as a
# service from the build tree (bind-mounted at /opt/cgdelegate), and the host's cgroupfs shows
# the units' settings enforced: TasksMax=5 holds a unit that forks ten children at once to five
# tasks, MemoryMax=64M stops a hog, CPUQuota=20% throttles, `systemctl set-property --runtime`
# changes the host's value within a second, a restarted unit is limited again, and a value above
# the policy's ceiling is refused, in the bridge's journal and in the daemon's audit. Root;
# TAP; everything below this process's memory group, removed at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"

if [ "$(id -u)" != 0 ] || ! command -v systemd-nspawn >/dev/null || [ ! -x "$build/bridge/cgdelegate-systemd-bridge" ]; then
        echo "1..0 # SKIP needs root, systemd-nspawn (package systemd-container) and a built tree"
        exit 0
fi
mem=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
[ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/systemd ] ||
        { echo "1..0 # SKIP needs the hybrid hierarchy of these hosts (v1 controllers, name=systemd)"; exit 0; }
G="${mem%/}/cgd-e2e-$$"
scratch e2e "$G"
nspawn='' P=''
before_cleanup() {
        stop_container
        "$CTL" --socket "$t/run/admin.socket" unregister c --remove-cgroup >/dev/null 2>&1
}

mkdir -p "$t/policies"
cat >"$t/policies/pod.conf" <<'POLICY'
[Policy]
MaxGroups=256

[Ceilings]
memory.max=256M
POLICY
daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }
admin="$CTL --socket $t/run/admin.socket"
v1() { cat "/sys/fs/cgroup/$1$G/c/system.slice/$2/$3" 2>/dev/null; } # v1 HIER UNIT FILE
. "$root/tests/common/nspawn.sh"

echo "1..13"
ok "register c (policy pod, Create) before the container starts: its socket directory exists" \
   '$admin register c --cgroup $G/c --create --policy pod && [ -S $t/run/containers/c/socket ]'
ok "systemd-nspawn boots the host's systemd from c's groups; the daemon gets its init as leader" \
   'start_container $G/c cgde2e$$ $t/run/containers/c; echo "init $P"; [ -n "$P" ] && $admin --json status c >/dev/null && $CTL --socket $t/run/admin.socket register --help >/dev/null &&
    busctl --address=unix:path=$t/run/admin.socket call org.cgdelegate /org/cgdelegate org.cgdelegate.Manager1 SetContainerLeader "sua{sv}" c $P 0'
echo "$P" >"$t/P"; P=$(cat "$t/P"); nspawn=$(pgrep -f "systemd-nspawn.*cgde2e$$" | head -1)
ok "inside, the v1 controllers are mounted read-only (systemd cannot apply its limits there itself)" \
   'in_c sh -c "mount | grep \" /sys/fs/cgroup/memory \" | grep -q \"(ro,\""'
ok "the bridge runs as a service from the build tree and reaches the daemon" \
   'start_bridge 10'
ok "TasksMax=5: a unit that forks ten children at once ends with five tasks (4 of 10 forks)" \
   'unit tasks.service "$(printf "[Service]\nType=oneshot\nRemainAfterExit=yes\nTasksMax=5\nExecStart=/opt/cgdelegate/demo/cgd-demo-tool forks 10\n")" &&
    in_c systemctl daemon-reload && wait_for 5 "[ -e /run/systemd/system/tasks.service.d/50-cgdelegate.conf ] || in_c test -e /run/systemd/system/tasks.service.d/50-cgdelegate.conf" &&
    sleep 0.5 && in_c systemctl start tasks.service; journal tasks.service | tail -3; v1 pids tasks.service pids.max;
    journal tasks.service | grep -q "4 of 10 forks allowed" && [ "$(v1 pids tasks.service pids.current)" -le 5 ] && [ "$(v1 pids tasks.service pids.max)" = 5 ]'
ok "MemoryMax=64M: a 256 MiB hog cannot grow past it" \
   'unit hog.service "$(printf "[Service]\nType=oneshot\nMemoryMax=64M\nExecStart=/opt/cgdelegate/demo/cgd-demo-tool hog 256\n")" &&
    in_c systemctl daemon-reload && sleep 1 && ! in_c systemctl start hog.service; v1 memory hog.service memory.max_usage_in_bytes;
    [ "$(v1 memory hog.service memory.limit_in_bytes)" = 67108864 ] && [ "$(v1 memory hog.service memory.max_usage_in_bytes)" -le 67108864 ] &&
    ! journal hog.service | grep -q "touched 256"'
ok "CPUQuota=20%: a spinner is throttled (cpu.stat nr_throttled)" \
   'unit spin.service "$(printf "[Service]\nType=oneshot\nCPUQuota=20%%\nExecStart=/opt/cgdelegate/demo/cgd-demo-tool spin 1500\n")" &&
    in_c systemctl daemon-reload && sleep 1 && in_c systemctl start spin.service; v1 cpu spin.service cpu.stat;
    [ "$(v1 cpu spin.service cpu.cfs_quota_us)" = 20000 ] && [ "$(v1 cpu spin.service cpu.stat | awk "/nr_throttled/ { print \$2 }")" -ge 2 ]'
ok "systemctl set-property --runtime inside changes the host's value within a second" \
   'unit sleeper.service "$(printf "[Service]\nMemoryMax=200M\nExecStart=/bin/sleep 100000\n")" && in_c systemctl daemon-reload && sleep 1 &&
    in_c systemctl start sleeper.service && wait_for 5 "[ \"\$(v1 memory sleeper.service memory.limit_in_bytes)\" = 209715200 ]" &&
    in_c systemctl set-property --runtime sleeper.service MemoryMax=100M && s=$(date +%s%N) &&
    wait_for 2 "[ \"\$(v1 memory sleeper.service memory.limit_in_bytes)\" = 104857600 ]" && e=$(( ($(date +%s%N) - s) / 1000000 )) &&
    echo "took $e ms" && [ $e -le 1000 ]'
ok "the sleeper's process is in its limited group on the host" \
   'p=$(in_c systemctl show -P MainPID sleeper.service) && hp=$(host_pid $p) && echo "container pid $p, host pid $hp" &&
    grep -q ":memory:$G/c/system.slice/sleeper.service\$" /proc/$hp/cgroup'
ok "a restarted unit is limited again" \
   'in_c systemctl restart tasks.service; journal tasks.service | grep -c "4 of 10 forks allowed" | grep -qx 2 && [ "$(v1 pids tasks.service pids.current)" -le 5 ]'
ok "above the ceiling: refused, in the bridge's journal and the daemon's audit; the value stays" \
   'in_c systemctl set-property --runtime sleeper.service MemoryMax=1G && sleep 1.5 &&
    journal cgdelegate-systemd-bridge.service | grep "sleeper.service: memory.max=1073741824 refused: OutOfRange" &&
    grep -q "OutOfRange: memory.max=1073741824 on /system.slice/sleeper.service exceeds the ceiling 256M" $t/daemon.log &&
    [ "$(v1 memory sleeper.service memory.limit_in_bytes)" = 104857600 ]'
ok "the daemon restarts: the bridge reconnects and the next set-property reaches the host" \
   'daemon_down && daemon_up "$DAEMON" && [ -S $t/run/containers/c/socket ] && in_c systemctl set-property --runtime sleeper.service MemoryMax=90M &&
    wait_for 8 "[ \"\$(v1 memory sleeper.service memory.limit_in_bytes)\" = 94371840 ]" && journal cgdelegate-systemd-bridge.service | tail -3 &&
    [ "$(journal cgdelegate-systemd-bridge.service | grep -c "connected to cgdelegated")" -ge 2 ]'
ok "a drop-in an earlier run of the bridge left on a unit without settings is removed when the bridge starts" \
   'in_c systemctl stop cgdelegate-systemd-bridge.service && unit plain.service "$(printf "[Service]\nExecStart=/bin/sleep 1\n")" &&
    in_c mkdir -p /run/systemd/system/plain.service.d && in_c sh -c "printf \"[Service]\nExecStart=\nExecStart=/bin/true\n\" >/run/systemd/system/plain.service.d/50-cgdelegate.conf" &&
    in_c systemctl daemon-reload && in_c systemctl start cgdelegate-systemd-bridge.service &&
    wait_for 10 "! in_c test -e /run/systemd/system/plain.service.d/50-cgdelegate.conf" && journal cgdelegate-systemd-bridge.service | grep "plain.service: drop-in removed"'
[ "$failed" = 0 ] || { [ -n "$P" ] && diagnose; false; }
