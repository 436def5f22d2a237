#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon as a service: after setup it holds exactly the capabilities daemon/caps.c names
# (effective, permitted and bounding set, in every thread), none inheritable or ambient, and
# no_new_privs; with those it still does what each of them is kept for (a socket given to a
# container's root, a group made in a directory a runtime gave to the container's root, a leader
# of another uid in its own pid namespace taken and killed); it takes its admin socket from
# systemd's socket activation (systemd-socket-activate); its unit scores 2.5 or lower in
# `systemd-analyze security --offline=yes`. Root; TAP; every group below this process's memory
# group.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
UNIT=$root/systemd-units/cgdelegated.service

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-svc-$$"
scratch svc "$G"
victim=''
before_cleanup() { [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; }

daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }
admin="$CTL --socket $t/run/admin.socket"
# CHOWN 0, DAC_OVERRIDE 1, KILL 5, SYS_PTRACE 19, SYS_NICE 23
want=$(printf '%016x' $(((1 << 0) | (1 << 1) | (1 << 5) | (1 << 19) | (1 << 23))))
status() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }
caps_of_every_thread() {
        local s
        for s in /proc/$daemon/task/*/status; do
                echo "$s: eff $(status CapEff $s) prm $(status CapPrm $s) bnd $(status CapBnd $s) inh $(status CapInh $s) amb $(status CapAmb $s) nnp $(status NoNewPrivs $s)"
                [ "$(status CapEff $s)" = "$want" ] && [ "$(status CapPrm $s)" = "$want" ] && [ "$(status CapBnd $s)" = "$want" ] &&
                        [ "$(status CapInh $s)" = 0000000000000000 ] && [ "$(status CapAmb $s)" = 0000000000000000 ] &&
                        [ "$(status NoNewPrivs $s)" = 1 ] || return 1
        done
}
call() { busctl --address="unix:path=$1" call org.cgdelegate /org/cgdelegate "org.cgdelegate.$2" "${@:3}"; }

echo "1..7"
ok "every thread holds CHOWN DAC_OVERRIDE KILL SYS_PTRACE SYS_NICE only (eff, prm, bnd = $want), no inheritable or ambient, no_new_privs" \
   '[ "$(ls /proc/$daemon/task | wc -l)" -ge 2 ] && caps_of_every_thread'
ok "CAP_CHOWN: a container's socket is given to its root as the host sees it (SocketUID/GID 100000)" \
   'call $t/run/admin.socket Manager1 RegisterContainer "sssa{sv}" owned $G/owned default 3 Create b true SocketUID u 100000 SocketGID u 100000 &&
    stat -c "%u:%g %a" $t/run/containers/owned/socket | tee /dev/stderr | grep -qx "100000:100000 600"'
ok "CAP_DAC_OVERRIDE: a group is made in a root a runtime gave to the container's root (owned by 100000, 0755)" \
   'for h in /sys/fs/cgroup/*/; do [ -d "$h${G#/}/owned" ] && chown -R 100000:100000 "$h${G#/}/owned" && chmod 0755 "$h${G#/}/owned"; done;
    call $t/run/containers/owned/socket Container1 CreateGroup "sa{sv}" /app 0 && { [ -d /sys/fs/cgroup/memory$G/owned/app ] || [ -d /sys/fs/cgroup$G/owned/app ]; }'
ok "CAP_SYS_PTRACE: a leader of uid 1000 in its own pid namespace is taken (its /proc/PID/ns is read)" \
   'unshare --pid --fork --kill-child setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=-all sleep 1000 &
    for _ in $(seq 50); do victim=$(pgrep -u 1000 -f "^sleep 1000$" | head -1); [ -n "$victim" ] && break; sleep 0.1; done; echo "leader $victim";
    call $t/run/admin.socket Manager1 RegisterContainer "sssa{sv}" other $G/other default 2 Create b true Leader u $victim &&
    [ "$($admin --json status other | jq -r .Leader)" = "$victim" ]'
ok "Kill ends that uid-1000 process (cgroup.kill where a cgroup2 hierarchy has it; CAP_KILL for the pidfd path of legacy hosts); the container ends" \
   'call $t/run/containers/other/socket Container1 Kill "sia{sv}" / 9 0 && wait_for 5 "! kill -0 $victim 2>/dev/null" &&
    wait_for 5 "! $admin --no-legend list | grep -q \"^other \""'
ok "socket activation: the daemon takes its admin socket from systemd-socket-activate; the first caller waits, then is answered" \
   'daemon_down; rm -f $t/run/admin.socket; command -v systemd-socket-activate >/dev/null || { echo "no systemd-socket-activate"; exit 1; };
    systemd-socket-activate -l $t/run/admin.socket $DAEMON --foreground --runtime-dir $t/run --policy-dir $t/policies >$t/activated.log 2>&1 &
    daemon=$!; wait_for 5 "[ -S $t/run/admin.socket ]" && call $t/run/admin.socket Manager1 ListContainers | tee /dev/stderr | grep -q owned &&
    grep "admin socket handed over (socket activation or re-execution)" $t/activated.log'
ok "systemd-units/cgdelegated.service scores 2.5 or lower in systemd-analyze security --offline=yes" \
   'score=$(systemd-analyze security --offline=yes $UNIT 2>/dev/null | sed -n "s/.*Overall exposure level for cgdelegated.service: \([0-9.]*\).*/\1/p");
    echo "score $score"; [ -n "$score" ] && awk -v s="$score" "BEGIN { exit !(s <= 2.5) }"'
[ "$failed" = 0 ]
