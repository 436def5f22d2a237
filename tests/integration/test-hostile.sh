#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A container's root user against cgdelegated (issue #11). Two simulated containers
# (lib-daemon.sh: pid, mount and cgroup namespaces, the socket at /run/host/cgdelegate), c1 the
# attacker, c2 and a group the host made next to them ($BASE/hostsib) the bystanders. From inside
# c1, hostile.py (a D-Bus client written against the wire format, so that it can send what no
# library would) runs tables of cases: traversal and kernel file names in the path of every
# Container1 method, never-writable property keys and malformed values, options and signals,
# pids that are not c1's (a host process, c1's pid namespace outside its tree, a zombie, a thread,
# a dead pid, a recycled pid), fds that are not pidfds, oversized messages, raw malformed frames,
# disconnects in the middle of a request, a connection flood, and rename and rmdir races on v1.
# Each case must get the D-Bus error name protocol/errors.md gives, and leave cgroupfs unchanged:
# every group below $BASE in every hierarchy with the values of the files the daemon writes, the
# values of $BASE's parent and every hierarchy's release_agent are compared before and after. After
# each group the daemon must still serve c1, c2 and the admin. Host users who are not a socket's
# owner must not reach it. Run as root; prints TAP; the EXIT trap removes every group, process
# and file the test made, whatever happened.

set -u -o pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
# shellcheck source=tests/integration/lib-daemon.sh
. "$here/lib-daemon.sh"
DAEMON=${CGD_DAEMON:-$ROOT/build/daemon/cgdelegated}
PY=/usr/bin/python3 # Debian's, as the other tests use it
HOSTILE=$here/hostile.py
TIME_BUDGET=170
NOBODY=65533 # a uid no account has: the host user who owns no socket

preflight() {
        local tool
        [ "$(id -u)" = 0 ] || { echo "needs root"; return 1; }
        [ -x "$DAEMON" ] || { echo "no $DAEMON (run make all)"; return 1; }
        for tool in busctl nsenter unshare jq timeout mkfifo setpriv "$PY"; do
                command -v "$tool" >/dev/null || { echo "needs $tool"; return 1; }
        done
        [ -e "$CGROOT/memory/memory.limit_in_bytes" ] || { echo "needs the v1 memory hierarchy at $CGROOT/memory"; return 1; }
        [ -e "$CGROOT/unified/cgroup.procs" ] || { echo "needs a hybrid host (cgroup2 at $CGROOT/unified)"; return 1; }
        if [ ! -d "$CGROOT/pids" ] || [ ! -d "$CGROOT/cpu" ]; then
                echo "needs the v1 pids and cpu hierarchies"
                return 1
        fi
        ! getent passwd "$NOBODY" >/dev/null || { echo "uid $NOBODY has an account here"; return 1; }
}

if ! why=$(preflight); then
        echo "1..0 # SKIP $why"
        exit 0
fi

MEM=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
BASE=${MEM%/}/cgd-htest-$$
T=$(mktemp -d /tmp/cgd-htest.XXXXXX)
LOG=$T/daemon.log
exec 2>"$T/stderr"
declare -a HELPERS=() # nsenter processes of the pids' setup, stopped before the containers
hostile_cleanup() {
        local p
        for p in "${HELPERS[@]}"; do stop_proc "$p" >/dev/null 2>&1; done
        cleanup
}
trap hostile_cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$T/policies"
write_container_scripts
record_ancestors

GROUPS_PY="paths create keys options pids fds oversize oversize-gap frames conns disconnect race"
N_PY=0
for g in $GROUPS_PY; do
        # The pids table (PIDS below, 11 entries) is made once its processes exist.
        n=$(CGD_PIDS="$(printf 'x;%.0s' $(seq 10))x" CGD_BASE=/x "$PY" "$HOSTILE" count "$g") || exit 1
        N_PY=$((N_PY + n))
done
# Shell tests: setup 3, the pids' setup 1, a "serving" test after each of 11 groups, host users 5,
# teardown 1.
plan $((N_PY + 3 + 1 + 11 + 5 + 1))

# ---- setup ----

register() { # register NAME
        admin_call RegisterContainer 'sssa{sv}' "$1" "$BASE/$1" default 1 Create b true >/dev/null
}

# A group of the host's next to the containers' roots, with limits of its own: the bystander
# whose values no container request may change.
host_sibling() {
        local h
        for h in "$CGROOT"/*/; do
                [ -d "$h$BASE" ] && mkdir "$h$BASE/hostsib"
        done
        echo 7 >"$CGROOT/pids$BASE/hostsib/pids.max" &&
                echo 100M >"$CGROOT/memory$BASE/hostsib/memory.limit_in_bytes"
}

c1_call() { in_container c1 "$@" >/dev/null; }

setup() {
        local name
        daemon_start && register c1 && register c2 && host_sibling || return 1
        container_start c1 0 && container_start c2 200 || return 1
        for name in c1 c2; do
                admin_call SetContainerLeader 'sua{sv}' "$name" "${LEADER[$name]}" 0 && container_go "$name" || return 1
        done
        c1_call CreateGroup 'sa{sv}' /app 0 && c1_call CreateGroup 'sa{sv}' /hx 0 &&
                c1_call SetProperties 'sa(ss)a{sv}' /app 2 pids.max 50 memory.max 64M 0 &&
                c1_call SetProperties 'sa(ss)a{sv}' /hx 2 pids.max 20 cpu.weight 42 0 &&
                c1_call MoveProcess 'sua{sv}' /app "$(ns_pid "${SLEEP[c1]}")" 0 &&
                in_container c2 CreateGroup 'sa{sv}' /app 0 >/dev/null &&
                in_container c2 MoveProcess 'sua{sv}' /app "$(ns_pid "${SLEEP[c2]}")" 0 >/dev/null
}

# The runtime's supervisor: a host process in c1's root in the memory and pids hierarchies.
place_supervisor() {
        sleep 1000 >/dev/null 2>&1 &
        SUPERVISOR=$!
        track "$SUPERVISOR"
        echo "$SUPERVISOR" >"$CGROOT/memory$BASE/c1/cgroup.procs" &&
                echo "$SUPERVISOR" >"$CGROOT/pids$BASE/c1/cgroup.procs"
}

# What the daemon holds besides its cache of one group's directories (lib/cgtree.c): listening
# sockets, connections, pidfds, ... A fd a client sent that stays open shows up here.
daemon_fd_list() {
        find "/proc/$DAEMON_PID/fd" -mindepth 1 -printf '%f %l\n' | grep -v " $CGROOT/" | sort -n
}

t "setup: the daemon, containers c1 and c2 (default policy) with /app and /hx, a group of the host's next to them" setup
t "setup: a runtime's supervisor (a host process) sits in c1's root (memory, pids)" place_supervisor
FDS0=$(daemon_fd_list)
t "setup: the daemon holds $(wc -l <<<"$FDS0") fds besides its group cache" test -n "$FDS0"

# ---- running a group of hostile.py ----

# hostile WHERE GROUP [VAR=VALUE...]: runs hostile.py GROUP inside c1 (WHERE=c1) or on the host
# with c1's socket (WHERE=host) and turns its "ok - " lines into numbered TAP lines. Lines a
# helper that stopped early did not print are failures.
hostile() {
        local where=$1 group=$2 want got=0 line tap=$T/$2.tap
        shift 2
        local -a env=(env CGD_CGROOT="$CGROOT" CGD_BASE="$BASE" CGD_C1=c1 CGD_DAEMON_PID="$DAEMON_PID"
                CGD_SLEEP_NSPID="$(ns_pid "${SLEEP[c1]}")" CGD_SLEEP_HOSTPID="${SLEEP[c1]}" CGD_C1_LEADER="${LEADER[c1]}"
                CGD_TMP="$T" "$@")
        want=$(env "$@" CGD_BASE="$BASE" "$PY" "$HOSTILE" count "$group")
        if [ "$where" = c1 ]; then
                timeout 120 nsenter -t "${LEADER[c1]:-0}" -p -m "${env[@]}" CGD_SOCKET=/run/host/cgdelegate/socket \
                        "$PY" "$HOSTILE" "$group" >"$tap" 2>&1
        else
                timeout 120 "${env[@]}" CGD_SOCKET="$T/run/containers/c1/socket" "$PY" "$HOSTILE" "$group" >"$tap" 2>&1
        fi
        while IFS= read -r line; do
                case $line in
                "ok - "* | "not ok - "*)
                        got=$((got + 1))
                        tap_n=$((tap_n + 1))
                        [[ $line == "ok - "* || $line == *" # TODO "* ]] || tap_failed=$((tap_failed + 1))
                        echo "${line%% - *} $tap_n - ${line#* - }"
                        ;;
                "#"*) echo "$line" ;;
                *) echo "# $line" ;;
                esac
        done <"$tap"
        while [ "$got" -lt "$want" ]; do
                got=$((got + 1))
                tap_n=$((tap_n + 1))
                tap_failed=$((tap_failed + 1))
                echo "not ok $tap_n - $group: a case the helper did not get to (it stopped early)"
        done
}

# The daemon still serves: c1 and c2 (GetPolicy from inside) and the admin (ListContainers), and
# nothing of c2 or of the host's sibling changed.
serving() {
        alive "$DAEMON_PID" || { echo "the daemon died"; return 1; }
        in_container c1 GetPolicy >/dev/null && in_container c2 GetPolicy >/dev/null &&
                eq "containers" "$(containers_listed)" "c1 c2" &&
                eq "c2 and the host's sibling" "$(snapshot c2; snapshot hostsib)" "$BYSTANDERS"
}

BYSTANDERS=$(snapshot c2; snapshot hostsib)

# Every connection to c1 is gone (a peer that left half a header is cut off after 5 s), then
# serving: the daemon keeps no connection of a client that left.
c1_connections() { admin_json GetContainer s c1 | jq -r '.data[0].Connections.data'; }
no_c1_connections() { [ "$(c1_connections)" = 0 ]; }
drained() {
        wait_until 10 no_c1_connections || { echo "c1 still has $(c1_connections) connections 10 s later"; return 1; }
        serving
}

hostile c1 paths
t "paths: the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" serving
hostile c1 create
t "create: the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" serving
hostile c1 keys
t "keys: the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" serving
hostile c1 options
t "options: the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" serving

# ---- pids that are not c1's to move ----

has_child() { [ -n "$(children "$1")" ]; }
has_thread() { [ "$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 | wc -l)" -ge 2 ]; }

# in_c1_ns VAR CMD...: CMD in c1's pid and mount namespaces, not in its cgroups (as a runtime's
# exec helper before it joins them); VAR is set to its host pid (nsenter's child).
in_c1_ns() {
        local var=$1 n
        shift
        nsenter -t "${LEADER[c1]}" -p -m "$@" >/dev/null 2>&1 </dev/null &
        n=$!
        track "$n"
        HELPERS+=("$n")
        wait_until 5 has_child "$n" || return 1
        track "$(children "$n")"
        printf -v "$var" %s "$(children "$n")"
}

# into_c1 HOSTPID: the host puts a process into c1's root in every hierarchy of c1's tree.
into_c1() {
        local h
        for h in "$CGROOT"/*/; do
                [ -e "$h$BASE/c1/cgroup.procs" ] && echo "$1" >"$h$BASE/c1/cgroup.procs"
        done
}

prepare_pids() {
        local dead zsh fifo=$T/zombie.fifo thread a p b
        # Outside c1's tree, in its pid namespace.
        in_c1_ns OUTSIDE sleep 1000 || return 1
        # A dead pid: a process of c1 that exited (and was reaped).
        in_c1_ns dead sleep 1000 && into_c1 "$dead" && DEAD_NS=$(ns_pid "$dead") || return 1
        stop_proc "$dead" && wait_until 5 test ! -e "/proc/$dead" || return 1
        # A zombie of c1: its parent (moved into c1 first) execs a program that never reaps.
        mkfifo "$fifo" || return 1
        in_c1_ns zsh sh -c "read x <$fifo; sleep 0 & echo \$! >$T/zombie.nspid; exec sleep 1000" && into_c1 "$zsh" ||
                return 1
        timeout 5 sh -c "echo go >$fifo" && wait_until 5 has_child "$zsh" || return 1
        ZOMBIE=$(children "$zsh")
        wait_until 5 gone "$ZOMBIE" && wait_until 5 test -s "$T/zombie.nspid" || return 1
        [ -e "/proc/$ZOMBIE" ] || { echo "the zombie was reaped"; return 1; }
        ZOMBIE_NS=$(cat "$T/zombie.nspid")
        # A thread of a process of c1.
        in_c1_ns thread "$PY" -c 'import threading, time
threading.Thread(target=time.sleep, args=(1000,)).start()
time.sleep(1000)' && into_c1 "$thread" || return 1
        wait_until 5 has_thread "$thread" || return 1
        THREAD=$thread
        TID_NS=$(awk '/^NSpid:/ { print $NF }' "$(find "/proc/$thread/task" -mindepth 1 -maxdepth 1 ! -name "$thread" | head -n 1)/status")
        # A recycled pid: a process of c1 exits, and its number is given again (ns_last_pid of c1's
        # pid namespace, as CRIU does: no pid_max wrap) to a process outside c1's tree. The shell
        # checks that it is in c1's pid namespace before it writes.
        in_c1_ns a sleep 1000 && into_c1 "$a" && p=$(ns_pid "$a") || return 1
        stop_proc "$a" && wait_until 5 test ! -e "/proc/$a" || return 1
        in_c1_ns b sh -c "set -- \$(grep NSpid /proc/self/status); [ \$# -eq 3 ] || exit 1
echo $((p - 1)) >/proc/sys/kernel/ns_last_pid || exit 1
sleep 1000 & wait" || return 1
        wait_until 5 has_child "$b" || return 1
        RECYCLED=$(children "$b")
        track "$RECYCLED"
        RECYCLED_NS=$(ns_pid "$RECYCLED")
        eq "the recycled number" "$RECYCLED_NS" "$p" || return 1
        eq "its cgroup (memory)" "$(cgroup_of memory "$RECYCLED")" "$MEM"
}

t "pids: in c1's pid namespace: a process outside its tree, a dead pid, a zombie, a thread, and a recycled pid (ns_last_pid) now naming a process outside the tree" \
        prepare_pids
PIDS="c1's init by its container pid 1 (its own: moved to /hx and back, the host's pid 1 stays put)|1|ok|1"
PIDS+=";a host process (this test's shell) by its host pid|$$|NoSuchProcess|$$"
PIDS+=";c2's init by its host pid|${LEADER[c2]}|NoSuchProcess|${LEADER[c2]}"
PIDS+=";a process in c1's pid namespace but outside its tree|$(ns_pid "${OUTSIDE:-1}")|NoSuchProcess|${OUTSIDE:-}"
PIDS+=";a process of c1 that exited (a dead pid)|${DEAD_NS:-0}|NoSuchProcess|"
PIDS+=";a zombie of c1|${ZOMBIE_NS:-0}|NoSuchProcess|"
PIDS+=";a thread of a process of c1 (its tid)|${TID_NS:-0}|NoSuchProcess|${THREAD:-}"
PIDS+=";a recycled pid (c1's process exited, the number now names a process outside its tree)|${RECYCLED_NS:-0}|NoSuchProcess|${RECYCLED:-}"
PIDS+=";2^31-1|2147483647|NoSuchProcess|"
PIDS+=";2^31|2147483648|NoSuchProcess|"
PIDS+=";2^32-1|4294967295|NoSuchProcess|"
hostile c1 pids CGD_PIDS="$PIDS"
t "pids: the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" serving

# MoveProcessFD: fds a container could get hold of, and pidfds only the host can make (sent on
# c1's socket from the host: a client inside cannot name the host's processes).
hostile host fds CGD_SUPERVISOR="${SUPERVISOR:-1}" CGD_ZOMBIE="${ZOMBIE:-1}" CGD_OUTSIDE="${OUTSIDE:-1}"
fds_as_before() { [ "$(daemon_fd_list)" = "$FDS0" ]; }
fds_kept() {
        wait_until 5 fds_as_before || { echo "the daemon's fds, before and now:"; diff <(echo "$FDS0") <(daemon_fd_list); return 1; }
        serving
}
t "fds: the daemon still serves, and holds exactly the fds it held before (every fd it was sent is closed)" fds_kept

hostile c1 oversize
t "oversize: the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" serving
# The first message after authentication, sent after BEGIN in a write of its own: sd-bus may read
# it with BEGIN, unseen by the size guard, which then counts what sd-bus takes (server.c).
hostile c1 oversize-gap
hostile c1 frames
t "frames: within 10 s c1 has no connection left; the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" \
        drained
hostile c1 conns
t "conns: within 10 s c1 has no connection left; the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" \
        drained
hostile c1 disconnect
t "disconnect: within 10 s c1 has no connection left; the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" \
        drained
hostile c1 race
t "race: within 10 s c1 has no connection left; the daemon still serves c1, c2 and the admin; c2 and the host's sibling are unchanged" \
        drained

# ---- host users who own no socket ----

connections() { admin_json GetStatistics | jq -r '.data[0].connections'; }

# as_nobody [nsenter args] -- PATH: connect(2) as uid NOBODY; prints "connected" or the errno name.
as_nobody() {
        local -a pre=()
        while [ "$1" != -- ]; do pre+=("$1"); shift; done
        "${pre[@]}" setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups "$PY" -c '
import errno, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("connected")
except OSError as e:
    print(errno.errorcode[e.errno])' "$2"
}

# Only the modes the daemon gave its own files stand in the way: $T is opened up meanwhile.
nobody_refused() { # nobody_refused WHERE PATH
        local before out snap
        before=$(connections) snap=$(snapshot "")
        chmod 0755 "$T"
        if [ "$1" = c1 ]; then
                out=$(as_nobody nsenter -t "${LEADER[c1]}" -p -m -- "$2")
        else
                out=$(as_nobody -- "$2")
        fi
        chmod 0700 "$T"
        # The second GetStatistics call is one connection more than the first, and no other.
        eq "connect as uid $NOBODY to $2" "$out" EACCES &&
                eq "connections the daemon accepted" "$(connections)" "$((before + 1))" &&
                eq "cgroupfs" "$(snapshot "")" "$snap"
}

t "host user: uid $NOBODY (no socket's owner) cannot connect to c1's socket on the host -> EACCES, the daemon accepts nothing, nothing changes" \
        nobody_refused host "$T/run/containers/c1/socket"
t "host user: uid $NOBODY cannot connect to the admin socket -> EACCES" \
        nobody_refused host "$T/run/admin.socket"
t "host user: uid $NOBODY cannot reach c1's socket through /proc/<c1's init>/root -> EACCES" \
        nobody_refused host "/proc/${LEADER[c1]}/root/run/host/cgdelegate/socket"
t "host user: uid $NOBODY inside c1, where the socket's directory is readable, cannot connect to it (0600 root) -> EACCES" \
        nobody_refused c1 /run/host/cgdelegate/socket
nobody_sees_nothing() {
        local out
        out=$(as_nobody -- "$T/run/containers/c1/socket")
        eq "connect as uid $NOBODY with \$T closed (0700)" "$out" EACCES && eq "\$T's mode" "$(stat -c %a "$T")" 700
}
t "host user: with the test's directory closed again, uid $NOBODY reaches nothing" nobody_sees_nothing

# ---- teardown ----

# An ancestor of $BASE the test made is gone, or holds groups of someone else (a test running
# meanwhile made it too): rmdir(2) never takes a group that is not empty.
ours_left() {
        local h a found=1
        for h in "$CGROOT"/*/; do
                [ -d "${h%/}$BASE" ] && { find "${h%/}$BASE" -type d; found=0; }
        done
        for a in "${MADE_ANCESTORS[@]}"; do
                [ -d "$a" ] && [ -z "$(find "$a" -mindepth 1 -maxdepth 1 -type d)" ] && { echo "$a"; found=0; }
        done
        [ "$found" -eq 0 ]
}

teardown_clean() {
        local p
        for p in "${HELPERS[@]}"; do stop_proc "$p" >/dev/null 2>&1; done
        teardown
        [ -z "$(tracked_running)" ] || { echo "still running: $(tracked_running)"; return 1; }
        ! pgrep -f -- "--runtime-dir $T/run" || { echo "a daemon still runs"; return 1; }
        ! grep -F "$T" /proc/self/mountinfo || { echo "a mount is left on the host"; return 1; }
        ! ours_left
}

t "teardown: the daemon and every process stopped; nothing of $BASE (nor an ancestor the test made) is left in any hierarchy" \
        teardown_clean

tap_end
