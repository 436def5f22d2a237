#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# systemd-units/ under a real systemd (run by tests/vm/guest.sh when the VM lane boots systemd;
# skips elsewhere): cgdelegated.socket activates cgdelegated.service, hardened as shipped (only
# ExecStart points at the build tree, and ProtectHome= and PrivateTmp= are off so that a clone
# below /root or /tmp runs);
# the daemon holds only its capabilities and writes the cgroup tree through ProtectSystem=strict;
# clients of the admin socket are never refused across `systemctl restart`, registrations
# survive it, and `systemctl stop` leaves the containers' socket directories in place
# (RuntimeDirectoryPreserve=yes). TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
CG=/sys/fs/cgroup
RUN=/run/cgdelegate

if [ "$(id -u)" != 0 ] || [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ -z "${CGD_VM_LANE:-}" ]; then
        echo "1..0 # SKIP needs systemd as PID 1 (the VM lane's second boot)"
        exit 0
fi
t=$(mktemp -d /tmp/cgd-unit.XXXXXX)
cleanup() {
        "$CTL" --socket $RUN/admin.socket unregister c >/dev/null 2>&1
        systemctl stop cgdelegated.service cgdelegated.socket cgdunit.scope >/dev/null 2>&1
        rm -rf /run/systemd/system/cgdelegated.service /run/systemd/system/cgdelegated.service.d \
               /run/systemd/system/cgdelegated.socket "$RUN" "$t"
        systemctl daemon-reload
}
trap cleanup EXIT

admin="$CTL --socket $RUN/admin.socket"
box="$CTL --socket $RUN/containers/c/socket"
want=$(printf '%016x' $(((1 << 0) | (1 << 1) | (1 << 5) | (1 << 19) | (1 << 23))))
main_pid() { systemctl show -P MainPID cgdelegated.service; }
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$(main_pid)/status"; }

echo "1..6"
ok "the shipped units load; starting the socket does not start the daemon" \
   'cp $root/systemd-units/cgdelegated.socket $root/systemd-units/cgdelegated.service /run/systemd/system/ &&
    mkdir -p /run/systemd/system/cgdelegated.service.d &&
    printf "[Service]\nExecStart=\nExecStart=%s\nProtectHome=no\nPrivateTmp=no\n" $build/daemon/cgdelegated >/run/systemd/system/cgdelegated.service.d/build.conf &&
    systemctl daemon-reload && systemctl start cgdelegated.socket && [ -S $RUN/admin.socket ] &&
    [ "$(systemctl is-active cgdelegated.service)" = inactive ]'
ok "the first client activates the daemon and is answered; it holds only CHOWN DAC_OVERRIDE KILL SYS_PTRACE SYS_NICE, no_new_privs" \
   '$admin list && [ "$(systemctl is-active cgdelegated.service)" = active ] && echo "eff $(status CapEff) bnd $(status CapBnd)" &&
    [ "$(status CapEff)" = $want ] && [ "$(status CapBnd)" = $want ] && [ "$(status NoNewPrivs)" = 1 ]'
ok "through ProtectSystem=strict and ProtectKernelTunables=yes it writes the cgroup tree: c (a Delegate=yes scope) /app MemoryMax=64M" \
   'systemd-run --quiet --scope --unit=cgdunit -p Delegate=yes sleep 100000 & pid=$!;
    wait_for 10 "[ \"\$(systemctl show -P ActiveState cgdunit.scope)\" = active ]" && g=$(systemctl show -P ControlGroup cgdunit.scope) &&
    $admin register c --cgroup $g --leader $pid && $box create /init && $box move /init $pid && $box create /app &&
    $box set /app MemoryMax=64M && [ "$(cat $CG$g/app/memory.max)" = 67108864 ]'
ok "systemctl restart twice while clients call the admin and c's socket in loops: no call is refused; the same sockets, c still registered" \
   'ino=$(stat -c %i $RUN/containers/c/socket); loop admin 10 "$admin list" & a=$!; loop box 10 "$box tree" & b=$!;
    sleep 2; systemctl restart cgdelegated.service; sleep 2; systemctl restart cgdelegated.service; wait $a $b; cat $t/admin $t/box $t/*.err 2>/dev/null;
    grep -q ", 0 failed" $t/admin && grep -q ", 0 failed" $t/box && [ "$(stat -c %i $RUN/containers/c/socket)" = "$ino" ] &&
    $admin list | grep -q "^c " && $box get /app memory.max | grep -q 67108864'
ok "systemctl reload re-reads the policies (SIGHUP)" \
   'systemctl reload cgdelegated.service && wait_for 5 "journalctl -q -u cgdelegated.service | grep -q \"policies reloaded\""'
ok "systemctl stop leaves /run/cgdelegate and c's socket directory (RuntimeDirectoryPreserve=yes); the next client brings the daemon back with c" \
   'systemctl stop cgdelegated.service && [ -d $RUN/containers/c ] && [ -S $RUN/admin.socket ] &&
    $admin list | grep -q "^c " && [ -S $RUN/containers/c/socket ]'
[ "$failed" = 0 ]
