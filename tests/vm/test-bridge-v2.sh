#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bridge on pure cgroup v2 (run by tests/vm/guest.sh when the VM lane boots systemd; skips
# elsewhere). systemd-nspawn boots the host's /usr (volatile) in a Delegate=yes scope; on v2 the
# container's own tree is writable and its systemd applies its units' limits itself, so what
# this shows is that the bridge's requests still go through cgdelegated and its audit, on the
# paths nspawn gives the container: the container is registered at the scope's payload group,
# nspawn's cgroup-namespace root, so /system.slice/app.service inside is the same group for the
# container's systemd, the bridge and the daemon. A unit's processes join their group through
# cgdelegate-exec; set-property reaches the daemon; a value above the ceiling is refused there
# and logged by the bridge. TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
. "$root/tests/common/nspawn.sh"
CG=/sys/fs/cgroup

if [ "$(id -u)" != 0 ] || [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -e $CG/cgroup.controllers ] ||
   [ -z "${CGD_VM_LANE:-}" ] || ! command -v systemd-nspawn >/dev/null; then
        echo "1..0 # SKIP needs systemd as PID 1 on pure cgroup v2 (the VM lane's second boot) and systemd-nspawn"
        exit 0
fi
t=$(mktemp -d /tmp/cgd-br.XXXXXX)
P='' g=''
cleanup() {
        [ -n "$P" ] && in_c systemctl poweroff >/dev/null 2>&1
        systemctl stop cgdbr.scope >/dev/null 2>&1
        "$CTL" --socket "$t/run/admin.socket" unregister c >/dev/null 2>&1
        daemon_down
        rm -rf "$t"
}
trap cleanup EXIT

mkdir -p "$t/policies"
printf '[Policy]\nMaxGroups=256\n\n[Ceilings]\nmemory.max=256M\n' >"$t/policies/pod.conf"
# The daemon's audit on stderr, in $t/daemon.log, although this runs in a systemd service.
unset INVOCATION_ID JOURNAL_STREAM
daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }
admin="$CTL --socket $t/run/admin.socket"
audit() { grep "audit container=c $1" "$t/daemon.log"; } # audit PATTERN: the daemon's audit lines for c
show() { systemctl show -P "$2" "$1"; }

echo "1..7"
ok "a Delegate=yes scope for nspawn; c registered at its payload group (nspawn's cgroup-namespace root)" \
   'systemd-run --quiet --scope --unit=cgdbr -p Delegate=yes sh -c "while [ ! -e $t/go ]; do sleep 0.1; done;
        exec systemd-nspawn --register=no --keep-unit --volatile=yes -D / --boot -M cgdbr \
            --bind-ro=$t/run/containers/c:/run/host/cgdelegate --bind-ro=$build:/opt/cgdelegate \
            systemd.mask=systemd-firstboot.service" </dev/null >$t/nspawn.log 2>&1 &
    wait_for 10 "[ \"\$(show cgdbr.scope ActiveState)\" = active ]" && g=$(show cgdbr.scope ControlGroup) && echo "scope $g" &&
    mkdir $CG$g/payload && $admin register c --cgroup $g/payload --policy pod && [ -d $t/run/containers/c ] && touch $t/go'
ok "the container boots (under TCG: minutes); the daemon gets its init as leader" \
   'nspawn=$(pgrep -f "systemd-nspawn --register=no --keep-unit.*-M cgdbr" | head -1) && echo "nspawn $nspawn" &&
    wait_for 30 "P=\$(pgrep -P $nspawn | head -1); [ -n \"\$P\" ]" && echo "init $P" && wait_booted 360;
    in_c systemctl is-system-running; grep -qx $P $CG$g/payload/init.scope/cgroup.procs &&
    busctl --address=unix:path=$t/run/admin.socket call org.cgdelegate /org/cgdelegate org.cgdelegate.Manager1 SetContainerLeader "sua{sv}" c $P 0'
ok "inside, cgroup2 is the container's own, writable (v2: systemd applies its limits itself)" \
   'in_c sh -c "mount | grep \" /sys/fs/cgroup type cgroup2 \" | grep -q \"(rw,\""'
ok "the bridge runs as a service from the build tree and reaches the daemon" 'start_bridge 60'
ok "a unit with MemoryMax=200M: its process joins its group through cgdelegate-exec, in the daemon's audit" \
   'unit sleeper.service "$(printf "[Service]\nMemoryMax=200M\nExecStart=/bin/sleep 100000\n")" && in_c systemctl daemon-reload &&
    wait_for 60 "in_c test -e /run/systemd/system/sleeper.service.d/50-cgdelegate.conf" && sleep 2 &&
    in_c systemctl start sleeper.service && p=$(in_c systemctl show -P MainPID sleeper.service) && hp=$(host_pid $p) &&
    echo "container pid $p, host pid $hp" && grep -qx "0::$g/payload/system.slice/sleeper.service" /proc/$hp/cgroup &&
    wait_for 30 "audit \"op=MoveProcess path=/system.slice/sleeper.service .*result=.ok\"" &&
    wait_for 30 "audit \"op=SetProperties path=/system.slice/sleeper.service detail=.memory.max=209715200[^\\\"]*. result=.ok\"" &&
    [ "$(cat $CG$g/payload/system.slice/sleeper.service/memory.max)" = 209715200 ]'
ok "systemctl set-property --runtime MemoryMax=100M inside reaches the daemon's audit" \
   'in_c systemctl set-property --runtime sleeper.service MemoryMax=100M &&
    wait_for 30 "audit \"op=SetProperties path=/system.slice/sleeper.service detail=.memory.max=104857600[^\\\"]*. result=.ok\"" &&
    [ "$(cat $CG$g/payload/system.slice/sleeper.service/memory.max)" = 104857600 ]'
ok "above the ceiling: refused in the daemon's audit, logged by the bridge with the daemon's reason" \
   'in_c systemctl set-property --runtime sleeper.service MemoryMax=1G &&
    wait_for 30 "audit \"op=SetProperties path=/system.slice/sleeper.service detail=.memory.max=1073741824.*OutOfRange\"" &&
    wait_for 10 "journal cgdelegate-systemd-bridge.service | grep \"sleeper.service: memory.max=1073741824 refused: OutOfRange\""'
[ "$failed" = 0 ] || { [ -n "$P" ] && diagnose; false; }
