# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Sourced by bench/run.sh: inside a real systemd in systemd-nspawn (booted as the e2e lane boots
# it, the bridge running), the same change made by `systemctl set-property --runtime` and by
# `cgdelegatectl set`, each timed inside the container over a loop of whole-process runs.
# Uses run.sh's $t, $G, $CTL, $DAEMON, $build, $root, $RUNS, target() and ratio().

nspawn_runs=$((RUNS < 50 ? RUNS : 50))
echo "-- inside a systemd-nspawn container with systemd and the bridge ($nspawn_runs runs each, ms per run)"
if ! command -v systemd-nspawn >/dev/null || [ ! -d /sys/fs/cgroup/systemd ]; then
        echo "  not measured: needs systemd-nspawn (systemd-container) and the hybrid hierarchy (name=systemd)"
        return 0
fi
nspawn='' P=''
nspawn_cleanup() {
        stop_container
        "$CTL" --socket "$t/run/admin.socket" unregister c --remove-cgroup >/dev/null 2>&1
}
. "$root/tests/common/nspawn.sh"
$CTL --socket "$t/run/admin.socket" register c --cgroup "$G/c" --create >/dev/null || { echo "bench: cannot register c"; exit 2; }
if ! start_container "$G/c" cgdbench$$ "$t/run/containers/c" ||
   ! busctl --address="unix:path=$t/run/admin.socket" call org.cgdelegate /org/cgdelegate org.cgdelegate.Manager1 \
        SetContainerLeader "sua{sv}" c "$P" 0 >/dev/null || ! start_bridge 20 >/dev/null; then
        echo "  not measured: the container did not boot with the bridge"; diagnose
        nspawn_cleanup
        return 0
fi
unit sleeper.service "$(printf '[Service]\nTasksMax=1000\nExecStart=/bin/sleep 100000\n')"
in_c systemctl daemon-reload && in_c systemctl start sleeper.service &&
        wait_for 10 "[ \"\$(cat /sys/fs/cgroup/pids$G/c/system.slice/sleeper.service/pids.max 2>/dev/null)\" = 1000 ]" ||
        { echo "  not measured: the bridge did not apply TasksMax=1000"; nspawn_cleanup; return 0; }
# inside CMD: mean ms per run of CMD (with $i in it), timed inside the container.
inside() {
        in_c sh -c "s=\$(date +%s%N); i=0; while [ \$i -lt $nspawn_runs ]; do i=\$((i + 1)); $1 >/dev/null 2>&1 || exit 1; done;
                    echo \$(( (\$(date +%s%N) - s) / $nspawn_runs / 1000 ))" | awk '{ printf "%.3f", $1 / 1000 }'
}
# Each on a quiet system: systemctl's changes go on in systemd and the bridge after it returns.
ms_truein=$(inside '/bin/true')
ms_ctlin=$(inside '/opt/cgdelegate/client/cgdelegatectl set /system.slice/sleeper.service TasksMax=$((900 + i))')
sleep 2
ms_sysctl=$(inside 'systemctl set-property --runtime sleeper.service TasksMax=$((900 + i))')
printf "  %-34s %s\n" "systemctl set-property --runtime" "$ms_sysctl" "cgdelegatectl set" "$ms_ctlin" "/bin/true" "$ms_truein"
target "cgdelegatectl set at most 0.25x systemctl set-property --runtime, both inside the container ($(ratio "$ms_ctlin" "$ms_sysctl")x)" \
       "$(le "$(ratio "$ms_ctlin" "$ms_sysctl")" 0.25)"
nspawn_cleanup
