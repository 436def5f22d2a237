#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Integration tests of cgdelegated: the real daemon, real sockets, the real (hybrid) cgroupfs and
# real namespaces. Two simulated containers (lib-daemon.sh: pid, mount and cgroup namespaces with
# the socket directory bind-mounted at /run/host/cgdelegate) talk to the daemon from inside:
# c1 under the built-in default policy, c2 under "tight" (ceilings, MaxGroups=2, AllowKill=no).
# Every refusal is checked by its D-Bus error name (from the reply, and from the daemon's audit
# line where the daemon audits the method) and by cgroupfs being unchanged. Run as root; prints
# TAP; exits non-zero when a test failed. Every cgroup lives below this process's memory cgroup,
# and the EXIT trap removes all of them, in every hierarchy, whatever happened.

set -u -o pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
# shellcheck source=tests/integration/lib-daemon.sh
. "$here/lib-daemon.sh"
DAEMON=${CGD_DAEMON:-$ROOT/build/daemon/cgdelegated}

preflight() {
        local tool
        [ "$(id -u)" = 0 ] || { echo "needs root"; return 1; }
        [ -x "$DAEMON" ] || { echo "no $DAEMON (run make all)"; return 1; }
        for tool in busctl gdbus nsenter unshare jq python3 timeout mkfifo; do
                command -v "$tool" >/dev/null || { echo "needs $tool"; return 1; }
        done
        [ -e "$CGROOT/memory/memory.limit_in_bytes" ] || { echo "needs the v1 memory hierarchy at $CGROOT/memory"; return 1; }
        [ -e "$CGROOT/unified/cgroup.procs" ] || { echo "needs a hybrid host (cgroup2 at $CGROOT/unified)"; return 1; }
        if [ ! -d "$CGROOT/pids" ] || [ ! -d "$CGROOT/cpu" ]; then
                echo "needs the v1 pids and cpu hierarchies"
                return 1
        fi
}

if ! why=$(preflight); then
        echo "1..0 # SKIP $why"
        exit 0
fi

MEM=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
BASE=${MEM%/}/cgd-dtest-$$
T=$(mktemp -d /tmp/cgd-dtest.XXXXXX)
LOG=$T/daemon.log
exec 2>"$T/stderr" # tests keep their own output; stray lines are shown by cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$T/policies"
cat >"$T/policies/tight.conf" <<'EOF'
[Policy]
AllowedProperties=memory.max pids.max cpu.max cpu.weight
MaxGroups=2
AllowKill=no

[Ceilings]
memory.max=128M
pids.max=10
EOF
chmod 0644 "$T/policies/tight.conf"
write_container_scripts
record_ancestors

C1_HIERS="blkio cpu cpuset freezer memory pids systemd unified" # the default policy's
C2_HIERS="cpu freezer memory pids systemd unified"               # tight: memory, pids, cpu
APP_LIMITS='a(ss) 3 "memory.max" "67108864" "pids.max" "5" "cpu.max" "20000 100000"'

plan 119

# ---- 1. the daemon answers ----

# introspect_matches INTERFACE FILE [names]: the interface in FILE (from the daemon) has the
# methods and signals of protocol/INTERFACE.xml with the same argument types and directions (and
# names, with "names").
introspect_matches() {
        python3 - "$ROOT/protocol/$1.xml" "$2" "$1" "${3:-}" <<'EOF'
import sys, xml.etree.ElementTree as ET
protocol, daemon, iface, names = sys.argv[1:5]
def members(path):
    for i in ET.parse(path).getroot().iter('interface'):
        if i.get('name') == iface:
            return {(m.tag, m.get('name')):
                    [(a.get('type'), a.get('direction', 'in' if m.tag == 'method' else 'out'))
                     + ((a.get('name'),) if names else ()) for a in m.iter('arg')]
                    for m in i if m.tag in ('method', 'signal')}
    sys.exit(f'{path}: no interface {iface}')
want, got = members(protocol), members(daemon)
diff = [f'{k[0]} {k[1]}: protocol {want.get(k)}, daemon {got.get(k)}'
        for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
print('\n'.join(diff) or f'{len(want)} members match')
sys.exit(1 if diff else 0)
EOF
}

introspect_admin() {
        timeout "$CALL_TIMEOUT" busctl --address="unix:path=$T/run/admin.socket" introspect --xml-interface \
                org.cgdelegate /org/cgdelegate >"$T/Manager1.xml" &&
                introspect_matches org.cgdelegate.Manager1 "$T/Manager1.xml" "$@"
}

introspect_container() {
        timeout "$CALL_TIMEOUT" nsenter -t "${LEADER[c1]:-0}" -p -m busctl \
                --address=unix:path=/run/host/cgdelegate/socket introspect --xml-interface \
                org.cgdelegate /org/cgdelegate >"$T/Container1.xml" &&
                introspect_matches org.cgdelegate.Container1 "$T/Container1.xml" "$@"
}

admin_socket_modes() {
        eq "admin.socket" "$(stat -c '%F %a %U' "$T/run/admin.socket")" "socket 600 root" &&
                eq "containers/" "$(stat -c '%F %a %U' "$T/run/containers")" "directory 700 root"
}

t "daemon: started in the foreground, the admin socket answers a call" daemon_start
no_containers() { eq "ListContainers" "$(admin_call ListContainers)" "a(sss) 0"; }

t "daemon: ListContainers answers with no containers" no_containers
t "daemon: admin.socket is a socket of mode 0600 owned by root, containers/ is 0700" admin_socket_modes
t "introspection: Manager1 on the admin socket has the methods, signals and signatures of protocol/org.cgdelegate.Manager1.xml" \
        introspect_admin

# ---- 2. registration ----

made_in() { eq "hierarchies with $BASE/$1" "$(hierarchies_with "$BASE/$1")" "$2"; } # made_in SUB HIERARCHIES

register_c1() {
        local out
        out=$(admin_call RegisterContainer 'sssa{sv}' c1 "$BASE/c1" default 1 Create b true) &&
                eq "reply" "$out" "s \"$T/run/containers/c1/socket\""
}

registration_files() { # registration_files NAME CGROUP POLICY
        local dir=$T/run/containers/$1 state
        eq "socket" "$(stat -c '%F %a %U' "$dir/socket")" "socket 600 root" &&
                eq "directory" "$(stat -c '%F %a %U' "$dir")" "directory 755 root" &&
                eq "state file" "$(stat -c '%F %a %U' "$T/state/$1.state")" "regular file 600 root" &&
                state=$(cat "$T/state/$1.state") &&
                has "state" "$state" "Name=$1" && has "state" "$state" "Cgroup=$2" && has "state" "$state" "Policy=$3"
}

nothing_of_x() {
        eq "containers" "$(containers_listed)" "c1" &&
                eq "socket directories" "$(ls "$T/run/containers")" "c1" &&
                eq "state files" "$(ls "$T/state")" "c1.state" &&
                eq "groups below \$BASE" "$(find "$CGROOT"/*/"$BASE" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -u)" "c1"
}

register_c2() {
        local out
        out=$(admin_call RegisterContainer 'sssa{sv}' c2 "$BASE/c2" tight 1 Create b true) &&
                eq "reply" "$out" "s \"$T/run/containers/c2/socket\"" &&
                registration_files c2 "$BASE/c2" tight && made_in c2 "$C2_HIERS"
}

t "registration: RegisterContainer c1 (policy default, Create=true) returns RUNTIME_DIR/containers/c1/socket" register_c1
t "registration: c1's socket is 0600 root, its directory 0755, its state file (0600) names c1, its cgroup and policy" \
        registration_files c1 "$BASE/c1" default
t "registration: Create=true made $BASE/c1 in every hierarchy the default policy needs ($C1_HIERS)" \
        made_in c1 "$C1_HIERS"
t "registration: before a leader is set, GetProcesses on c1's socket -> NotSupported" \
        refused NotSupported host:c1 GetProcesses "'/'" true
# A handler that refuses a request before reading its options must not close fds it does not
# own (fd 0 here is the /dev/null the daemon was started with).
fd0_kept() { # fd0_kept NAME WHERE METHOD ARGS...
        local before
        # A sound daemon to start from: an earlier test may have lost its fd 0 already.
        [ "$(readlink "/proc/$DAEMON_PID/fd/0")" = /dev/null ] || { daemon_stop TERM && daemon_start; } || return 1
        before=$(readlink "/proc/$DAEMON_PID/fd/0")
        expect_error "$@" &&
                eq "the daemon's fd 0 after the refusal" "$(readlink "/proc/$DAEMON_PID/fd/0")" "$before"
}

t "robustness: c1 SetProperties on '/..' (refused before its options are read) -> InvalidPath, and the daemon's fd 0 stays open" \
        fd0_kept InvalidPath host:c1 SetProperties "'/..'" "[('pids.max', '1')]" "@a{sv} {}"
t "robustness: admin SetContainerProperties on container nosuch -> NotFound, and the daemon's fd 0 stays open" \
        fd0_kept NotFound admin SetContainerProperties "'nosuch'" "'/'" "[('pids.max', '5')]" "@a{sv} {}"
t "registration: RegisterContainer c1 again -> Exists" \
        refused Exists admin RegisterContainer "'c1'" "'$BASE/c1'" "'default'" "{'Create': <true>}"
t "registration: a cgroup inside c1's tree ($BASE/c1/sub) -> Exists, nothing made" \
        refused Exists admin RegisterContainer "'x'" "'$BASE/c1/sub'" "'default'" "{'Create': <true>}"
t "registration: a cgroup above c1's tree ($BASE) -> Exists" \
        refused Exists admin RegisterContainer "'x'" "'$BASE'" "'default'" "{'Create': <true>}"
t "registration: cgroup / -> InvalidPath" \
        refused InvalidPath admin RegisterContainer "'x'" "'/'" "'default'" "{'Create': <true>}"
t "registration: cgroup $BASE/../x (a '..' component) -> InvalidPath" \
        refused InvalidPath admin RegisterContainer "'x'" "'$BASE/../x'" "'default'" "{'Create': <true>}"
t "registration: unknown policy 'nosuch' -> NotFound" \
        refused NotFound admin RegisterContainer "'x'" "'$BASE/x'" "'nosuch'" "{'Create': <true>}"
t "registration: container name '../x' -> InvalidValue" \
        refused InvalidValue admin RegisterContainer "'../x'" "'$BASE/x'" "'default'" "{'Create': <true>}"
t "registration: the refused registrations left no container, socket directory, state file or group" nothing_of_x
t "registration: RegisterContainer c2 with policy tight from --policy-dir makes $BASE/c2 in $C2_HIERS" register_c2

# ---- containers and their leaders ----

mounts_private() {
        local name opts
        for name in c1 c2; do
                opts=$(nsenter -t "${LEADER[$name]}" -m findmnt -n -o OPTIONS /run/host/cgdelegate) &&
                        has "$name: /run/host/cgdelegate" "$opts" "ro" || return 1
                test -S "/proc/${LEADER[$name]}/root/run/host/cgdelegate/socket" || {
                        echo "$name does not see its socket"
                        return 1
                }
        done
        ! grep -F -e "$T" -e " /run/host" /proc/self/mountinfo || { echo "a mount leaked into the host"; return 1; }
}

start_containers() {
        container_start c1 0 && container_start c2 200 && mounts_private
}

set_leaders() {
        local name h
        for name in c1 c2; do
                admin_call SetContainerLeader 'sua{sv}' "$name" "${LEADER[$name]}" 0 || return 1
                for h in memory pids cpu freezer ""; do
                        eq "$name's init in ${h:-cgroup2}" "$(cgroup_of "$h" "${LEADER[$name]}")" "$BASE/$name" || return 1
                done
                eq "$name's state file" "$(sed -n 's/^Leader=//p' "$T/state/$name.state")" "${LEADER[$name]}" || return 1
                container_go "$name" || return 1
        done
}

# The container pids of every process of container NAME below its root (as the host sees it),
# sorted.
ns_pids_below_root() {
        local ns p out=()
        ns=$(readlink "/proc/${LEADER[$1]}/ns/pid")
        for p in /proc/[0-9]*; do
                p=${p#/proc/}
                [ "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
                [[ $(cgroup_of "" "$p" 2>/dev/null) == "$BASE/$1"* ]] && out+=("$(ns_pid "$p")")
        done
        printf '%s\n' "${out[@]}" | sort -n | tr '\n' ' '
}

# GetProcesses / (recursive) from inside NAME, as a sorted list.
listed_pids() {
        in_container "$1" GetProcesses sb "${2:-/}" true | cut -d' ' -f3- | tr ' ' '\n' | sort -n | tr '\n' ' '
}

workload_listed() {
        eq "GetProcesses / on c1" "$(listed_pids c1)" "$(ns_pids_below_root c1)" &&
                has "c1's processes" "$(listed_pids c1)" "$(ns_pid "${SLEEP[c1]}") "
}

t "containers: c1 and c2 run in their own pid, mount and cgroup namespaces and see their socket at /run/host/cgdelegate (read-only bind mount, nothing mounted on the host)" \
        start_containers
t "leader: SetContainerLeader c2 with a pid no process has -> NoSuchProcess" \
        refused NoSuchProcess admin SetContainerLeader "'c2'" "$(unused_pid 99999)" "@a{sv} {}"
t "leader: SetContainerLeader c1 and c2 with their namespace inits moves each into its root (memory, pids, cpu, freezer, cgroup2) and records it" \
        set_leaders
t "leader: SetContainerLeader c1 a second time -> Exists" \
        refused Exists admin SetContainerLeader "'c1'" "${LEADER[c1]}" "@a{sv} {}"
t "introspection: Container1 inside c1 at /run/host/cgdelegate/socket has the methods, signals and signatures of protocol/org.cgdelegate.Container1.xml" \
        introspect_container
t "processes: GetProcesses / in c1 lists its processes by their container pids" workload_listed

# ---- 3. groups, properties and processes in c1 ----

create_app() {
        eq "first CreateGroup /app" "$(in_container c1 CreateGroup 'sa{sv}' /app 0)" "b true" &&
                eq "second CreateGroup /app" "$(in_container c1 CreateGroup 'sa{sv}' /app 0)" "b false" &&
                eq "hierarchies with /app" "$(hierarchies_with "$BASE/c1/app")" "$C1_HIERS"
}

v1() { cat "$CGROOT/$1$BASE/$2"; } # v1 HIERARCHY PATH-BELOW-BASE

set_app_limits() {
        in_container c1 SetProperties 'sa(ss)a{sv}' /app 3 memory.max 64M pids.max 5 cpu.max "20000 100000" 0 &&
                eq "memory.limit_in_bytes" "$(v1 memory c1/app/memory.limit_in_bytes)" 67108864 &&
                eq "pids.max" "$(v1 pids c1/app/pids.max)" 5 &&
                eq "cpu.cfs_quota_us" "$(v1 cpu c1/app/cpu.cfs_quota_us)" 20000 &&
                eq "cpu.cfs_period_us" "$(v1 cpu c1/app/cpu.cfs_period_us)" 100000
}

app_limits_read() {
        eq "GetProperties /app" "$(in_container c1 GetProperties sas /app 3 memory.max pids.max cpu.max)" "$APP_LIMITS"
}

move_sleep() {
        local h
        in_container c1 MoveProcess 'sua{sv}' /app "$(ns_pid "${SLEEP[c1]}")" 0 || return 1
        for h in memory pids cpu freezer ""; do
                eq "the sleep in ${h:-cgroup2}" "$(cgroup_of "$h" "${SLEEP[c1]}")" "$BASE/c1/app" || return 1
        done
}

app_processes() {
        local nspid
        nspid=$(ns_pid "${SLEEP[c1]}")
        [ "$nspid" != "${SLEEP[c1]}" ] || { echo "container pid and host pid are equal"; return 1; }
        eq "GetProcesses /app" "$(in_container c1 GetProcesses sb /app false)" "au 1 $nspid"
}

# move_fd SOCKET PATH PID: MoveProcessFD with a pidfd for PID (as the caller's pid namespace sees
# it), through GLib's D-Bus client, which passes fds (busctl cannot make a pidfd). Prints "ok" or
# the D-Bus error name and message.
move_fd() {
        /usr/bin/python3 - "$@" <<'PY'
import os, sys
from gi.repository import Gio, GLib
sock, path, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = Gio.DBusConnection.new_for_address_sync(
    'unix:path=' + sock, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None, None)
fds = Gio.UnixFDList.new()
fds.append(os.pidfd_open(pid))
try:
    conn.call_with_unix_fd_list_sync(None, '/org/cgdelegate', 'org.cgdelegate.Container1', 'MoveProcessFD',
                                     GLib.Variant('(sha{sv})', (path, 0, {})), None,
                                     Gio.DBusCallFlags.NONE, 5000, fds, None)
    print('ok')
except GLib.Error as e:
    name = Gio.DBusError.get_remote_error(e)
    print(f'{name}: ' + e.message.removeprefix(f'GDBus.Error:{name}: '))
PY
}

move_by_pidfd() {
        local h out
        out=$(timeout "$CALL_TIMEOUT" nsenter -t "${LEADER[c1]}" -p -m bash -c \
                "$(declare -f move_fd); move_fd /run/host/cgdelegate/socket /app/web $(ns_pid "${SLEEP[c1]}")") &&
                eq "MoveProcessFD /app/web" "$out" ok || return 1
        for h in memory pids ""; do
                eq "the sleep in ${h:-cgroup2}" "$(cgroup_of "$h" "${SLEEP[c1]}")" "$BASE/c1/app/web" || return 1
        done
        in_container c1 MoveProcess 'sua{sv}' /app "$(ns_pid "${SLEEP[c1]}")" 0 &&
                eq "the sleep in pids" "$(cgroup_of pids "${SLEEP[c1]}")" "$BASE/c1/app"
}

# A pidfd for another container's process, sent on c1's socket (from the host, which can make one).
foreign_pidfd() {
        local before out
        before=$(snapshot "")
        out=$(move_fd "$T/run/containers/c1/socket" /app "${SLEEP[c2]}") &&
                eq "MoveProcessFD" "$out" "$ERR.NoSuchProcess: no such process in this container" &&
                has "audit line" "$(grep -F ': audit ' "$LOG" | tail -n 1)" \
                        "container=c1 op=MoveProcessFD path=/app detail=\"pidfd\" result=\"$ERR.NoSuchProcess: " &&
                eq "cgroupfs" "$(snapshot "")" "$before"
}

list_groups() {
        in_container c1 CreateGroup 'sa{sv}' /app/web 0 >/dev/null &&
                in_container c1 CreateGroup 'sa{sv}' /fork 0 >/dev/null &&
                eq "ListGroups / false" "$(in_container c1 ListGroups sb / false)" 'as 2 "/app" "/fork"' &&
                eq "ListGroups / true" "$(in_container c1 ListGroups sb / true)" 'as 3 "/app" "/app/web" "/fork"' &&
                eq "ListGroups /app true" "$(in_container c1 ListGroups sb /app true)" 'as 1 "/app/web"'
}

pids_limit_hit() { [ "$(sed -n 's/^max //p' "$CGROOT/pids$BASE/c1/fork/pids.events")" -gt 0 ]; }

pids_enforced() {
        local n
        in_container c1 SetProperties 'sa(ss)a{sv}' /fork 1 pids.max 3 0 &&
                in_container c1 MoveProcess 'sua{sv}' /fork "$(ns_pid "${FORKER[c1]}")" 0 &&
                eq "forker in pids" "$(cgroup_of pids "${FORKER[c1]}")" "$BASE/c1/fork" || return 1
        timeout 5 sh -c "echo go >'$T/c1.fifo'" || { echo "the forker did not read its FIFO"; return 1; }
        wait_until 5 pids_limit_hit || { echo "pids.events: $(v1 pids c1/fork/pids.events)"; return 1; }
        sleep 0.2 # let the forker finish trying
        n=$(wc -l <"$CGROOT/pids$BASE/c1/fork/cgroup.procs")
        echo "tasks in /fork: $n, pids.current $(v1 pids c1/fork/pids.current), $(v1 pids c1/fork/pids.events)"
        [ "$n" -ge 2 ] && [ "$n" -le 3 ] && [ "$(v1 pids c1/fork/pids.current)" -le 3 ]
}

fork_group_empty() { [ -z "$(cat "$CGROOT/pids$BASE/c1/fork/cgroup.procs")" ]; }

kill_fork() {
        in_container c1 Kill 'sia{sv}' /fork 9 0 &&
                wait_until 5 fork_group_empty &&
                eq "GetProcesses /fork" "$(in_container c1 GetProcesses sb /fork true)" "au 0" &&
                alive "${LEADER[c1]}"
}

setup_c2() {
        eq "CreateGroup /app" "$(in_container c2 CreateGroup 'sa{sv}' /app 0)" "b true" &&
                eq "CreateGroup /b" "$(in_container c2 CreateGroup 'sa{sv}' /b 0)" "b true" &&
                in_container c2 SetProperties 'sa(ss)a{sv}' /app 2 memory.max 64M pids.max 10 0 &&
                in_container c2 MoveProcess 'sua{sv}' /app "$(ns_pid "${SLEEP[c2]}")" 0 &&
                eq "c2's sleep" "$(cgroup_of memory "${SLEEP[c2]}")" "$BASE/c2/app" &&
                eq "c2 /app pids.max" "$(v1 pids c2/app/pids.max)" 10
}

policy_c2() {
        local p
        p=$(timeout "$CALL_TIMEOUT" nsenter -t "${LEADER[c2]}" -p -m busctl --json=short \
                --address=unix:path=/run/host/cgdelegate/socket call org.cgdelegate /org/cgdelegate \
                org.cgdelegate.Container1 GetPolicy) || return 1
        eq "Name" "$(jq -r '.data[0].Name.data' <<<"$p")" tight &&
                eq "MaxGroups" "$(jq -r '.data[0].MaxGroups.data' <<<"$p")" 2 &&
                eq "AllowKill" "$(jq -r '.data[0].AllowKill.data' <<<"$p")" false &&
                eq "AllowedProperties" "$(jq -r '.data[0].AllowedProperties.data | sort | join(" ")' <<<"$p")" \
                        "cpu.max cpu.weight memory.max pids.max" &&
                eq "Ceilings" "$(jq -r '[.data[0].Ceilings.data[] | join("=")] | sort | join(" ")' <<<"$p")" \
                        "memory.max=134217728 pids.max=10"
}

t "c1: CreateGroup /app returns true, then false; /app exists in every hierarchy of c1's tree" create_app
t "c1: SetProperties /app memory.max=64M pids.max=5 cpu.max='20000 100000' lands in the host's v1 files (67108864, 5, 20000/100000)" \
        set_app_limits
t "c1: GetProperties /app returns the v2 renderings 67108864, 5 and '20000 100000'" app_limits_read
t "c1: MoveProcess /app with the sleep's container pid moves it to $BASE/c1/app in memory, pids, cpu, freezer and cgroup2" \
        move_sleep
t "c1: GetProcesses /app returns the sleep's container pid, not its host pid" app_processes
t "c1: ListGroups lists /app and /fork, recursively also /app/web, as paths from the container's root" list_groups
t "c1: MoveProcessFD /app/web with a pidfd the container made moves the sleep (memory, pids, cgroup2); MoveProcess brings it back" \
        move_by_pidfd
t "c1: pids.max=3 on /fork is enforced: the forker moved there cannot make a third child (pids.events max > 0)" pids_enforced
t "c1: Kill /fork 9 ends the forker and its children; GetProcesses /fork is empty; c1's init lives" kill_fork
t "c2: CreateGroup /app and /b, SetProperties /app within its ceilings, MoveProcess its sleep to /app" setup_c2
t "c2: GetPolicy returns policy tight (MaxGroups 2, AllowKill false, its properties and ceilings)" policy_c2

# ---- the admin side ----

admin_root_write() {
        admin_call SetContainerProperties 'ssa(ss)a{sv}' c1 / 1 pids.max 100 0 &&
                eq "pids.max of c1's root" "$(v1 pids c1/pids.max)" 100 &&
                eq "GetContainerProperties c1 /" "$(admin_call GetContainerProperties ssas c1 / 1 pids.max)" \
                        'a(ss) 1 "pids.max" "100"'
}

# An admin connection that subscribed receives the Audit signal of c1's request (GLib's D-Bus
# client: busctl cannot listen on a peer-to-peer connection).
audit_signal() {
        local pid
        /usr/bin/python3 -c 'import gi' 2>/dev/null || { echo "no python3-gi"; return 1; }
        /usr/bin/python3 - "$T/run/admin.socket" "$T/audit" >"$T/audit.log" 2>&1 <<'PY' &
import sys
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(
    'unix:path=' + sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None, None)
loop = GLib.MainLoop()
def on_audit(c, sender, path, iface, name, args):
    if args[0] == 'c1':
        open(sys.argv[2] + '.signal', 'w').write(' '.join(args.unpack()) + '\n')
        loop.quit()
conn.signal_subscribe(None, 'org.cgdelegate.Manager1', 'Audit', '/org/cgdelegate', None,
                      Gio.DBusSignalFlags.NONE, on_audit)
conn.call_sync(None, '/org/cgdelegate', 'org.cgdelegate.Manager1', 'Subscribe',
               GLib.Variant('(as)', (['Audit'],)), None, Gio.DBusCallFlags.NONE, 5000, None)
open(sys.argv[2] + '.ready', 'w').close()
GLib.timeout_add_seconds(5, loop.quit)
loop.run()
PY
        pid=$!
        track "$pid"
        wait_until 5 test -e "$T/audit.ready" || { cat "$T/audit.log"; return 1; }
        in_container c1 SetProperties 'sa(ss)a{sv}' /nosuch 1 pids.max 5 0
        wait_until 5 test -e "$T/audit.signal" || { echo "no Audit signal"; cat "$T/audit.log"; return 1; }
        wait "$pid"
        has "Audit signal" "$(cat "$T/audit.signal")" "c1 SetProperties /nosuch pids.max=5 $ERR.NotFound: "
}

policy_reload_refused() {
        printf '[Policy]\nMaxDepth=x\n' >"$T/policies/broken.conf"
        MSG="broken.conf:2: MaxDepth=x" expect_error InvalidValue admin ReloadPolicies || return 1
        rm -f "$T/policies/broken.conf"
        policy_c2 && admin_call ReloadPolicies && policy_c2
}

# A group that does not exist is not a group without properties.
admin_read_nosuch() {
        expect_error NotFound admin GetContainerProperties "'c1'" "'/nosuch'" "['pids.max']" &&
                expect_error NotFound admin GetContainerProperties "'c1'" "'/nosuch'" "@as []"
}

t "admin: SetContainerProperties may write c1's root (pids.max=100 lands in cgroupfs); GetContainerProperties reads it back" \
        admin_root_write
t "admin: after Subscribe(['Audit']), an admin connection receives the Audit signal of c1's refused request" audit_signal
t "admin: ReloadPolicies with a broken policy file -> InvalidValue naming file and line; tight stays in force, and reloads once fixed" \
        policy_reload_refused
t "admin: Subscribe to an unknown event -> InvalidValue" refused InvalidValue admin Subscribe "['Bogus']"
t "admin: GetContainerProperties of c1's /nosuch -> NotFound, with named keys and with none (every property)" admin_read_nosuch

# ---- 4. isolation between c1 and c2, and from the host ----

C2_BEFORE=$(snapshot c2)

for path in "/../c2/app" "/.." "//" "/app/../../c2" "/app/." "/app/" "app" "/app//web"; do
        t "isolation: from c1, SetProperties on path '$path' -> InvalidPath" \
                refused InvalidPath c1 SetProperties "'$path'" "[('pids.max', '1')]" "@a{sv} {}"
done

c2_pid_from_c1() {
        local nspid
        nspid=$(ns_pid "${SLEEP[c2]}")
        # The number must name no process of c1, or the test would prove nothing.
        [[ " $(ns_pids_below_root c1) " != *" $nspid "* ]] || { echo "c1 has a pid $nspid too"; return 1; }
        refused NoSuchProcess c1 MoveProcess "'/app'" "$nspid" "@a{sv} {}"
}

t "isolation: from c1, MoveProcess of c2's sleep by its c2 pid -> NoSuchProcess" c2_pid_from_c1
t "isolation: from c1, MoveProcess of c2's sleep by its host pid -> NoSuchProcess" \
        refused NoSuchProcess c1 MoveProcess "'/app'" "${SLEEP[c2]}" "@a{sv} {}"
t "isolation: MoveProcessFD on c1's socket with a pidfd of c2's sleep -> NoSuchProcess, nothing moved" foreign_pidfd
t "isolation: from c1, MoveProcess of the daemon's host pid -> NoSuchProcess" \
        refused NoSuchProcess c1 MoveProcess "'/app'" "$DAEMON_PID" "@a{sv} {}"

# A runtime's supervisor: a host process in c1's root group in the memory and pids hierarchies.
place_supervisor() {
        sleep 1000 >/dev/null 2>&1 &
        SUPERVISOR=$!
        track "$SUPERVISOR"
        echo "$SUPERVISOR" >"$CGROOT/memory$BASE/c1/cgroup.procs" &&
                echo "$SUPERVISOR" >"$CGROOT/pids$BASE/c1/cgroup.procs" &&
                eq "supervisor in pids" "$(cgroup_of pids "$SUPERVISOR")" "$BASE/c1" &&
                eq "GetProcesses / on c1" "$(listed_pids c1)" "$(ns_pids_below_root c1)"
}

kill_refused() {
        refused AccessDenied c1 Kill "'/'" 15 "@a{sv} {}" &&
                alive "$SUPERVISOR" && alive "${LEADER[c1]}" && alive "${SLEEP[c1]}" && alive "${SLEEP[c2]}"
}

freeze_refused() {
        refused AccessDenied c1 Freeze "'/'" "@a{sv} {}" &&
                eq "c1 cgroup.freeze" "$(cat "$CGROOT/unified$BASE/c1/cgroup.freeze")" 0
}

remove_supervisor() {
        stop_proc "$SUPERVISOR" && wait_until 5 gone "$SUPERVISOR" && wait "$SUPERVISOR" 2>/dev/null
        eq "processes in c1's root (pids)" "$(wc -l <"$CGROOT/pids$BASE/c1/cgroup.procs")" 2 # init, sleep 100000
}

c2_unchanged() { eq "c2's groups, limits and members" "$(snapshot c2)" "$C2_BEFORE"; }

t "isolation: a supervisor the host put into c1's root (memory, pids) is not listed by GetProcesses" place_supervisor
t "isolation: MoveProcess of the supervisor's host pid -> NoSuchProcess, it stays where it was" \
        refused NoSuchProcess c1 MoveProcess "'/app'" "$SUPERVISOR" "@a{sv} {}"
t "isolation: Kill / on c1 while the supervisor is in it -> AccessDenied, and every process lives" kill_refused
t "isolation: Freeze / on c1 while the supervisor is in it -> AccessDenied, nothing frozen" freeze_refused
t "isolation: once the host ends the supervisor, c1's root holds only the container's own processes" remove_supervisor
t "isolation: c2's groups, limits and members in every hierarchy are unchanged by everything c1 tried" \
        c2_unchanged

# ---- 5. every error by name; cgroupfs unchanged after each ----

kill_not_allowed() { refused AccessDenied c2 Kill "'/app'" 15 "@a{sv} {}" && alive "${SLEEP[c2]}"; }

below_usage() {
        local usage
        usage=$(v1 memory c1/memory.usage_in_bytes)
        [ "$usage" -gt 4096 ] || { echo "c1 uses only $usage bytes: nothing to test"; return 1; }
        refused Busy admin SetContainerProperties "'c1'" "'/'" "[('memory.max', '4K')]" "@a{sv} {}"
}

unregister_busy() {
        refused Busy admin UnregisterContainer "'c2'" "{'RemoveCgroup': <true>}" &&
                eq "containers" "$(containers_listed)" "c1 c2" && test -S "$T/run/containers/c2/socket" &&
                test -e "$T/state/c2.state"
}

# A kernel refusal no other name fits: the host limits c1's descendants in cgroup2 to what it has.
kernel_refusal() {
        local limit=$CGROOT/unified$BASE/c1/cgroup.max.descendants rc
        find "$CGROOT/unified$BASE/c1" -mindepth 1 -type d | wc -l >"$limit" || return 1
        MSG="Resource temporarily unavailable" refused Failed c1 CreateGroup "'/x'" "@a{sv} {}"
        rc=$?
        echo max >"$limit"
        return "$rc"
}

deep=$(printf '/d%.0s' $(seq 17)) # 17 levels: one more than the default MaxDepth

MSG="MoveProcess" t "errors: SetProperties cgroup.procs -> InvalidProperty (processes move only through MoveProcess)" \
        refused InvalidProperty c1 SetProperties "'/app'" "[('cgroup.procs', '1')]" "@a{sv} {}"
t "errors: SetProperties release_agent -> InvalidProperty" \
        refused InvalidProperty c1 SetProperties "'/app'" "[('release_agent', '/bin/sh')]" "@a{sv} {}"
MSG="use 'memory.max'" t "errors: SetProperties memory.limit_in_bytes (a v1 file) -> InvalidProperty naming the v2 key" \
        refused InvalidProperty c1 SetProperties "'/app'" "[('memory.limit_in_bytes', '1')]" "@a{sv} {}"
NOAUDIT=1 t "errors: GetProperties of release_agent -> InvalidProperty" \
        refused InvalidProperty c1 GetProperties "'/app'" "['release_agent']"
t "errors: SetProperties memory.max=64Q -> InvalidValue" \
        refused InvalidValue c1 SetProperties "'/app'" "[('memory.max', '64Q')]" "@a{sv} {}"
t "errors: SetProperties pids.max=4 with memory.max=64Q in one request -> InvalidValue, pids.max stays 5" \
        refused InvalidValue c1 SetProperties "'/app'" "[('pids.max', '4'), ('memory.max', '64Q')]" "@a{sv} {}"
t "errors: SetProperties pids.max given twice -> InvalidValue" \
        refused InvalidValue c1 SetProperties "'/app'" "[('pids.max', '4'), ('pids.max', '3')]" "@a{sv} {}"
MSG="unknown option" t "errors: CreateGroup with an unknown option -> InvalidValue" \
        refused InvalidValue c1 CreateGroup "'/x'" "{'Bogus': <true>}"
t "errors: Kill with signal 0 -> InvalidValue" \
        refused InvalidValue c1 Kill "'/app'" 0 "@a{sv} {}"
MSG="exceeds the ceiling 128M of policy 'tight'" t "errors: c2 SetProperties memory.max=1G above its ceiling 128M -> OutOfRange" \
        refused OutOfRange c2 SetProperties "'/app'" "[('memory.max', '1G')]" "@a{sv} {}"
t "errors: c2 SetProperties memory.max=32M with pids.max=11 above its ceiling 10 -> OutOfRange, memory.max stays 64M" \
        refused OutOfRange c2 SetProperties "'/app'" "[('memory.max', '32M'), ('pids.max', '11')]" "@a{sv} {}"
t "errors: c2 SetProperties memory.max=max under a ceiling -> OutOfRange" \
        refused OutOfRange c2 SetProperties "'/app'" "[('memory.max', 'max')]" "@a{sv} {}"
t "errors: SetProperties pids.max=0 (below 1) -> OutOfRange" \
        refused OutOfRange c1 SetProperties "'/app'" "[('pids.max', '0')]" "@a{sv} {}"
MSG="AllowRootWrites" t "errors: SetProperties pids.max=5 on / without AllowRootWrites -> AccessDenied" \
        refused AccessDenied c1 SetProperties "'/'" "[('pids.max', '5')]" "@a{sv} {}"
MSG="AllowKill=no" t "errors: c2 Kill /app under AllowKill=no -> AccessDenied, its sleep lives" kill_not_allowed
MSG="not in AllowedProperties" t "errors: c2 SetProperties cpuset.cpus (not in its AllowedProperties) -> AccessDenied" \
        refused AccessDenied c2 SetProperties "'/app'" "[('cpuset.cpus', '0')]" "@a{sv} {}"
MSG="AllowedProperties" NOAUDIT=1 t "errors: c2 GetProperties of cpuset.cpus (not in its AllowedProperties) -> AccessDenied" \
        refused AccessDenied c2 GetProperties "'/app'" "['cpuset.cpus']"
t "errors: RemoveGroup / -> AccessDenied" \
        refused AccessDenied c1 RemoveGroup "'/'" true "@a{sv} {}"
t "errors: SetProperties on /nosuch -> NotFound" \
        refused NotFound c1 SetProperties "'/nosuch'" "[('pids.max', '5')]" "@a{sv} {}"
t "errors: GetProperties on /nosuch -> NotFound" \
        refused NotFound c1 GetProperties "'/nosuch'" "@as []"
t "errors: RemoveGroup /nosuch -> NotFound" \
        refused NotFound c1 RemoveGroup "'/nosuch'" false "@a{sv} {}"
t "errors: admin GetContainer nosuch -> NotFound" \
        refused NotFound admin GetContainer "'nosuch'"
t "errors: admin SetContainerProperties on container nosuch -> NotFound" \
        refused NotFound admin SetContainerProperties "'nosuch'" "'/'" "[('pids.max', '5')]" "@a{sv} {}"
t "errors: SetContainerLeader c2 a second time -> Exists" \
        refused Exists admin SetContainerLeader "'c2'" "${LEADER[c2]}" "@a{sv} {}"
MSG="still has" t "errors: RemoveGroup /app while the sleep is in it -> Busy" \
        refused Busy c1 RemoveGroup "'/app'" false "@a{sv} {}"
MSG="AllowBelowUsage" t "errors: admin SetContainerProperties c1 / memory.max=4K below its usage -> Busy" below_usage
t "errors: UnregisterContainer c2 with RemoveCgroup while it runs -> Busy, c2 stays registered" unregister_busy
MSG="MaxGroups=2" t "errors: c2's third CreateGroup under MaxGroups=2 -> QuotaExceeded" \
        refused QuotaExceeded c2 CreateGroup "'/c'" "@a{sv} {}"
t "errors: SetProperties memory.high on this v1 memory hierarchy -> NotSupported" \
        refused NotSupported c1 SetProperties "'/app'" "[('memory.high', '32M')]" "@a{sv} {}"
MSG="known: GroupEmpty, MemoryEvent" t "errors: Subscribe to an unknown event on c1's socket -> InvalidValue" \
        refused InvalidValue c1 Subscribe "['Audit']"
MSG="never removable" t "errors: CreateGroup / with RemoveOnEmpty=true -> AccessDenied" \
        refused AccessDenied c1 CreateGroup "'/'" "{'RemoveOnEmpty': <true>}"
t "errors: MoveProcess of pid 99999 -> NoSuchProcess" \
        refused NoSuchProcess c1 MoveProcess "'/app'" 99999 "@a{sv} {}"
t "errors: MoveProcess of pid 0 -> NoSuchProcess" \
        refused NoSuchProcess c1 MoveProcess "'/app'" 0 "@a{sv} {}"
t "errors: CreateGroup /app/tasks (a v1 control file name) -> InvalidPath" \
        refused InvalidPath c1 CreateGroup "'/app/tasks'" "@a{sv} {}"
t "errors: CreateGroup /memory.max (a controller's file name) -> InvalidPath" \
        refused InvalidPath c1 CreateGroup "'/memory.max'" "@a{sv} {}"
t "errors: CreateGroup 17 levels deep (MaxDepth=16) -> InvalidPath" \
        refused InvalidPath c1 CreateGroup "'$deep'" "@a{sv} {}"
t "errors: CreateGroup beyond the host's cgroup.max.descendants on c1's root -> Failed, the group made in no hierarchy" \
        kernel_refusal

refusals() { jq -r ".data[0][\"refused.$2\"]" <<<"$1"; } # refusals STATISTICS NAME

statistics_count() {
        local s0 s1 name want
        s0=$(admin_json GetStatistics) || return 1
        expect_error AccessDenied c1 SetProperties "'/'" "[('pids.max', '5')]" "@a{sv} {}" &&
                expect_error OutOfRange c2 SetProperties "'/app'" "[('memory.max', '1G')]" "@a{sv} {}" &&
                expect_error NotSupported c1 SetProperties "'/app'" "[('memory.high', '32M')]" "@a{sv} {}" &&
                expect_error InvalidPath c1 ListGroups "'/..'" false &&
                expect_error NoSuchProcess c1 MoveProcess "'/app'" 99999 "@a{sv} {}" || return 1
        s1=$(admin_json GetStatistics) || return 1
        for name in AccessDenied InvalidPath InvalidProperty InvalidValue OutOfRange NotFound Exists Busy \
                QuotaExceeded RateLimited NotSupported NoSuchProcess Failed; do
                case $name in
                AccessDenied | OutOfRange | NotSupported | InvalidPath | NoSuchProcess) want=1 ;;
                *) want=0 ;;
                esac
                eq "refused.$name grew by" "$(($(refusals "$s1" "$name") - $(refusals "$s0" "$name")))" "$want" || return 1
        done
}
t "statistics: GetStatistics counts five refusals, each under its error name, and nothing else" statistics_count

# ---- 6. freeze, thaw, kill ----

frozen() { # frozen GROUP 0|1
        grep -qx "frozen $2" "$CGROOT/unified$BASE/$1/cgroup.events"
}

freeze_app() {
        in_container c1 Freeze 'sa{sv}' /app 0 || return 1
        eq "cgroup.freeze" "$(cat "$CGROOT/unified$BASE/c1/app/cgroup.freeze")" 1 &&
                frozen c1/app 1 &&
                echo "the sleep: $(grep '^State:' "/proc/${SLEEP[c1]}/status"), waiting in $(cat "/proc/${SLEEP[c1]}/wchan")" &&
                alive "${LEADER[c1]}" && ! frozen c1 1
}

thaw_app() {
        in_container c1 Thaw 'sa{sv}' /app 0 &&
                eq "cgroup.freeze" "$(cat "$CGROOT/unified$BASE/c1/app/cgroup.freeze")" 0 &&
                frozen c1/app 0
}

kill_app() {
        in_container c1 Kill 'sia{sv}' /app 15 0 &&
                wait_until 5 gone "${SLEEP[c1]}" &&
                eq "GetProcesses /app" "$(in_container c1 GetProcesses sb /app true)" "au 0" &&
                alive "${LEADER[c1]}"
}

remove_fork() {
        in_container c1 RemoveGroup 'sba{sv}' /fork false 0 &&
                eq "hierarchies with /fork" "$(hierarchies_with "$BASE/c1/fork")" "" &&
                eq "ListGroups /" "$(in_container c1 ListGroups sb / false)" 'as 1 "/app"'
}

t "freeze: Freeze /app in c1 freezes it (cgroup.freeze 1, cgroup.events frozen 1), not its parent" freeze_app
t "freeze: Thaw /app thaws it (frozen 0)" thaw_app
t "kill: Kill /app 15 ends the sleep; GetProcesses /app is empty; c1's init lives" kill_app
t "groups: RemoveGroup /fork (empty now) removes it in every hierarchy" remove_fork

# ---- 9. the peer interfaces ----

hello() {
        eq "Hello" "$(timeout "$CALL_TIMEOUT" nsenter -t "${LEADER[c1]}" -p -m busctl \
                --address=unix:path=/run/host/cgdelegate/socket \
                call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus Hello)" 's ":1.1"'
}

t "peer: Peer.GetMachineId on c1's socket -> AccessDenied (the host's machine id stays hidden)" \
        refused AccessDenied c1 org.freedesktop.DBus.Peer.GetMachineId
t "peer: Peer.GetMachineId on the admin socket -> AccessDenied" \
        refused AccessDenied admin org.freedesktop.DBus.Peer.GetMachineId
t "peer: Hello on c1's socket answers a unique name" hello

# The daemon runs its methods from their vtables itself and leaves the rest to sd-bus (server.c,
# conn_call()): on a fresh connection that never introspected, sd-bus's own answers must still
# come, and change nothing.
sdbus_answer() { # sdbus_answer WANT METHOD SIGNATURE PYTHON_ARGS
        local before out
        before=$(snapshot "")
        out=$(timeout "$CALL_TIMEOUT" nsenter -t "${LEADER[c1]}" -p -m /usr/bin/python3 -c '
import dbus, sys
c = dbus.connection.Connection("unix:path=/run/host/cgdelegate/socket")
try:
    c.call_blocking("org.cgdelegate", "/org/cgdelegate", "org.cgdelegate.Container1", sys.argv[1], sys.argv[2], eval(sys.argv[3]))
    print("succeeded")
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name())
' "$2" "$3" "$4" 2>&1)
        eq "$2($3)" "$out" "$1" && eq "cgroupfs" "$(snapshot "")" "$before"
}
t "dispatch: SetProperties with signature 's' -> org.freedesktop.DBus.Error.InvalidArgs (sd-bus's answer), nothing changed" \
        sdbus_answer org.freedesktop.DBus.Error.InvalidArgs SetProperties s '["/"]'
t "dispatch: an unknown member -> org.freedesktop.DBus.Error.UnknownMethod" \
        sdbus_answer org.freedesktop.DBus.Error.UnknownMethod NoSuchMethod "" '[]'
t "dispatch: ListGroups with its signature on a fresh connection succeeds" \
        sdbus_answer succeeded ListGroups sb '["/", True]'

# ---- 7. restart ----

socket_inode_inside() { # the socket c1 sees is the one the daemon bound
        eq "socket inode" "$(nsenter -t "${LEADER[c1]}" -m stat -c %i /run/host/cgdelegate/socket)" \
                "$(stat -c %i "$T/run/containers/c1/socket")"
}

after_restart() {
        eq "containers" "$(admin_json ListContainers | jq -r '[.data[0][] | join(" ")] | sort | join(", ")')" \
                "c1 $BASE/c1 default, c2 $BASE/c2 tight" &&
                socket_inode_inside &&
                eq "c1 GetProperties /app" "$(in_container c1 GetProperties sas /app 3 memory.max pids.max cpu.max)" \
                        "$APP_LIMITS" &&
                eq "c1 GetProcesses /" "$(listed_pids c1)" "$(ns_pids_below_root c1)" &&
                eq "c2 GetProperties /app" "$(in_container c2 GetProperties sas /app 1 pids.max)" 'a(ss) 1 "pids.max" "10"' &&
                policy_c2
}

stop_with() { # stop_with SIGNAL STATUS
        daemon_stop "$1"
        eq "exit status" "$DAEMON_STATUS" "$2" &&
                test -S "$T/run/containers/c1/socket" && test -S "$T/run/containers/c2/socket"
}

t "restart: SIGTERM stops the daemon (status 0); the container sockets stay on disk" stop_with TERM 0
t "restart: started again with the same directories, the admin socket answers" daemon_start
t "restart: after SIGTERM, c1 and c2 are back; inside c1 the same /run/host/cgdelegate/socket reaches the new daemon; limits, pids and c2's policy are intact" \
        after_restart
t "restart: SIGKILL kills the daemon (status 137); the sockets stay" stop_with KILL 137
t "restart: started again after SIGKILL, the admin socket answers" daemon_start
t "restart: after SIGKILL, c1 and c2 are back with their sockets, limits, pids and policy" after_restart

# ---- 8. unregistration ----

unregistered() { # unregistered NAME: no socket, directory, state file or listing
        [[ " $(containers_listed) " != *" $1 "* ]] || { echo "$1 is still listed"; return 1; }
        [ ! -e "$T/run/containers/$1" ] || { echo "containers/$1 is still there"; return 1; }
        [ ! -e "$T/state/$1.state" ] || { echo "$1.state is still there"; return 1; }
}

groups_gone() { eq "hierarchies with $BASE/$1" "$(hierarchies_with "$BASE/$1")" ""; }

# c3: a container without a pid namespace (its leader is a host process) can be torn down in
# the documented order: its processes end, then UnregisterContainer removes its groups.
unregister_c3() {
        sleep 1000 >/dev/null 2>&1 &
        C3_LEADER=$!
        track "$C3_LEADER"
        admin_call RegisterContainer 'sssa{sv}' c3 "$BASE/c3" default 2 Create b true Leader u "$C3_LEADER" >/dev/null &&
                eq "c3's leader" "$(cgroup_of memory "$C3_LEADER")" "$BASE/c3" || return 1
        stop_proc "$C3_LEADER" && wait_until 5 gone "$C3_LEADER" && wait "$C3_LEADER" 2>/dev/null
        admin_call UnregisterContainer 'sa{sv}' c3 1 RemoveCgroup b true &&
                unregistered c3 && groups_gone c3
}

# c2: the container's processes end (its namespace init is killed), then the runtime unregisters
# it and asks for its groups to be removed. The daemon may have unregistered c2 by itself in
# between (its pid namespace died): UnregisterContainer may then answer NotFound, but either way
# nothing of c2 may be left, its groups included.
unregister_c2() {
        local out
        stop_proc "${LEADER[c2]}" && wait_until 5 gone "${LEADER[c2]}" && wait_until 5 gone "${SLEEP[c2]}" || return 1
        if ! out=$(gdbus_call admin UnregisterContainer "'c2'" "{'RemoveCgroup': <true>}" 2>&1); then
                echo "UnregisterContainer c2 RemoveCgroup=true: $out"
                [[ $out == *"GDBus.Error:$ERR.NotFound: "* ]] || return 1
        fi
        unregistered c2 && groups_gone c2
}

c1_dropped() { [[ " $(containers_listed) " != *" c1 "* ]]; }

leader_exit() {
        stop_proc "${LEADER[c1]}" || return 1
        wait_until 5 c1_dropped || { echo "c1 still listed 5 s after its init died"; return 1; }
        unregistered c1 && grep -F 'container=c1 op=Unregister' "$LOG" | tail -n 1 || return 1
        wait_until 5 groups_gone c1 >/dev/null || groups_gone c1
}

t "unregister: a container with a host-namespace leader: after its process ends, UnregisterContainer with RemoveCgroup removes socket, directory, state file and groups in every hierarchy" \
        unregister_c3
t "unregister: c2 after its processes were killed: UnregisterContainer with RemoveCgroup removes socket, directory, state file and groups" \
        unregister_c2
t "unregister: when c1's pid namespace init exits, the daemon unregisters c1 by itself within 5 s (socket, directory, state file gone, and the groups it made removed)" \
        leader_exit
t "unregister: GetContainer c1 afterwards -> NotFound" \
        refused NotFound admin GetContainer "'c1'"

# ---- known gaps ----

argument_names() {
        introspect_matches org.cgdelegate.Manager1 "$T/Manager1.xml" names &&
                introspect_matches org.cgdelegate.Container1 "$T/Container1.xml" names
}

t "introspection: both interfaces carry the argument names of protocol/*.xml" argument_names

# ---- teardown ----

teardown_clean() {
        teardown
        [ -z "$(tracked_running)" ] || { echo "still running: $(tracked_running)"; return 1; }
        ! pgrep -f -- "--runtime-dir $T/run" || { echo "a daemon still runs"; return 1; }
        ! grep -F "$T" /proc/self/mountinfo || { echo "a mount is left on the host"; return 1; }
        no_leftovers
}

t "teardown: the daemon and every process stopped; nothing of $BASE (nor an ancestor the test made) is left in any hierarchy" \
        teardown_clean

tap_end
