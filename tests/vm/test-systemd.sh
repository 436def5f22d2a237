#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon under a real systemd as PID 1 (run by tests/vm/guest.sh when the VM lane boots
# systemd; skips elsewhere). The container's root is a Delegate=yes scope made through systemd
# (systemd-run --scope): the daemon recognises it, sends the limits of that root to systemd
# (SetUnitProperties) and writes the groups below it itself; `systemctl daemon-reload` undoes
# none of it, while the same limit written straight into the scope's file is undone, which is
# why the daemon goes through systemd. A unit without Delegate=yes is refused. TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
CG=/sys/fs/cgroup

if [ "$(id -u)" != 0 ] || [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -e $CG/cgroup.controllers ] ||
   [ -z "${CGD_VM_LANE:-}" ]; then
        echo "1..0 # SKIP needs systemd as PID 1 on pure cgroup v2 (the VM lane's second boot)"
        exit 0
fi
t=$(mktemp -d /tmp/cgd-sd.XXXXXX)
scope_pid='' plain_pid=''
cleanup() {
        "$CTL" --socket "$t/run/admin.socket" unregister c >/dev/null 2>&1
        daemon_down
        systemctl stop cgdtest.scope cgdplain.scope >/dev/null 2>&1
        rm -rf "$t"
}
trap cleanup EXIT

mkdir -p "$t/policies"
printf '[Policy]\nAllowRootWrites=yes\n' >"$t/policies/root.conf"
daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }
admin="$CTL --socket $t/run/admin.socket"
box="$CTL --socket $t/run/containers/c/socket"
show() { systemctl show -P "$2" "$1"; }
# scope NAME [PROPS...]: a scope made through systemd around a sleep; its pid in $scope_pid.
scope() {
        local name=$1
        shift
        systemd-run --quiet --scope --unit="$name" "$@" sleep 100000 &
        scope_pid=$!
        for _ in $(seq 100); do [ "$(show $name.scope ActiveState)" = active ] && return 0; sleep 0.1; done
        return 1
}
g=''

echo "1..10"
ok "systemd-run --scope -p Delegate=yes makes cgdtest.scope with the sleep in it" \
   'scope cgdtest -p Delegate=yes && g=$(show cgdtest.scope ControlGroup) && echo "$g" && grep -qx $scope_pid $CG$g/cgroup.procs'
ok "register c on the scope's own group: GetContainer names the unit" \
   '$admin register c --cgroup $g --policy root --leader $scope_pid && [ "$($admin --json status c | jq -r .Unit)" = cgdtest.scope ]'
ok "the container's init moves to the leaf /init; /app gets MemoryMax=64M in its own file" \
   '$box create /init && $box move /init $scope_pid && $box create /app && $box set /app MemoryMax=64M &&
    [ "$(cat $CG$g/app/memory.max)" = 67108864 ]'
ok "admin set c:/ MemoryMax=200M TasksMax=100 CPUQuota=50% goes through systemd: the unit shows it, and the files" \
   '$admin set c:/ MemoryMax=200M TasksMax=100 CPUQuota=50% && [ "$(show cgdtest.scope MemoryMax)" = 209715200 ] &&
    [ "$(show cgdtest.scope TasksMax)" = 100 ] && [ "$(show cgdtest.scope CPUQuotaPerSecUSec)" = 500ms ] &&
    for _ in $(seq 50); do [ "$(cat $CG$g/memory.max)" = 209715200 ] && break; sleep 0.1; done;
    [ "$(cat $CG$g/memory.max)" = 209715200 ] && [ "$(cat $CG$g/pids.max)" = 100 ] && [ "$(cat $CG$g/cpu.max)" = "50000 100000" ]'
ok "the container's own root write (AllowRootWrites=yes) goes through systemd too: MemoryHigh=150M" \
   '$box set / MemoryHigh=150M && [ "$(show cgdtest.scope MemoryHigh)" = 157286400 ] && [ "$(cat $CG$g/memory.high)" = 157286400 ]'
ok "systemctl daemon-reload undoes nothing: the root's limits, /app's, the processes' places" \
   'systemctl daemon-reload && sleep 1 && [ "$(cat $CG$g/memory.max)" = 209715200 ] && [ "$(cat $CG$g/memory.high)" = 157286400 ] &&
    [ "$(cat $CG$g/pids.max)" = 100 ] && [ "$(cat $CG$g/app/memory.max)" = 67108864 ] && grep -qx $scope_pid $CG$g/init/cgroup.procs'
ok "...whereas the same kind of limit written straight into the scope's file is undone by daemon-reload" \
   'echo 300M >$CG$g/memory.max && [ "$(cat $CG$g/memory.max)" = 314572800 ] && systemctl daemon-reload && sleep 1 &&
    cat $CG$g/memory.max && [ "$(cat $CG$g/memory.max)" = 209715200 ]'
ok "get c:/ reads what systemd applied" \
   '[ "$($admin --json get c:/ memory.max pids.max | jq -r "[.\"memory.max\", .\"pids.max\"] | join(\" \")")" = "209715200 100" ]'
ok "a scope without Delegate=yes is refused (NotSupported, naming Delegate=yes); nothing registered" \
   'scope cgdplain && p=$(show cgdplain.scope ControlGroup) && { $admin register plain --cgroup $p 2>$t/err; rc=$?; cat $t/err; } ;
    [ $rc = 1 ] && grep -q "^org.cgdelegate.Error.NotSupported: .*Delegate=yes" $t/err && ! $admin list | grep -q "^plain "'
ok "unregister c leaves the scope to systemd, still active, with its limits" \
   '$admin unregister c && [ "$(show cgdtest.scope ActiveState)" = active ] && [ "$(show cgdtest.scope MemoryMax)" = 209715200 ]'
[ "$failed" = 0 ]
