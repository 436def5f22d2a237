#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cgdelegatectl against the real daemon: on the host (admin socket, NAME:/path) and on a
# container's socket (/path), systemd syntax translated and enforced in the host's cgroupfs,
# --json parsed back, and the exit codes 0 / 1 / 2 with the D-Bus error name on stderr. Root;
# TAP; every cgroup below this process's memory group, removed at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
DAEMON=${CGD_DAEMON:-$root/build/daemon/cgdelegated}
CTL=${CGD_CTL:-$root/build/client/cgdelegatectl}
n=0 failed=0
ok() { n=$((n + 1)); if eval "$2" >/tmp/cgd-ctl-out.$$ 2>&1; then echo "ok $n - $1"; else failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/#   /' /tmp/cgd-ctl-out.$$; fi; }

if [ "$(id -u)" != 0 ] || [ ! -x "$DAEMON" ] || [ ! -x "$CTL" ] || ! command -v jq >/dev/null; then
        echo "1..0 # SKIP needs root, jq, $DAEMON and $CTL"
        exit 0
fi
mem=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
[ -d /sys/fs/cgroup/memory ] || { echo "1..0 # SKIP needs the v1 memory hierarchy (the VM lane covers v2)"; exit 0; }
base="${mem%/}/cgd-ctltest-$$"
t=$(mktemp -d /tmp/cgd-ctl.XXXXXX)
daemon='' leader=''
cleanup() {
        [ -n "$leader" ] && kill -9 "$leader" 2>/dev/null && wait "$leader" 2>/dev/null
        "$CTL" --socket "$t/run/admin.socket" unregister w --remove-cgroup >/dev/null 2>&1
        [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
        for h in /sys/fs/cgroup/*/; do
                [ -d "$h${base#/}" ] && find "$h${base#/}" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        rm -rf "$t" /tmp/cgd-ctl-out.$$
}
trap cleanup EXIT

mkdir -p "$t/policies"
"$DAEMON" --foreground --runtime-dir "$t/run" --policy-dir "$t/policies" >"$t/log" 2>&1 &
daemon=$!
admin="$CTL --socket $t/run/admin.socket"
for _ in $(seq 100); do $admin list >/dev/null 2>&1 && break; sleep 0.05; done
sleep 1000 &
leader=$!
box="$CTL --socket $t/run/containers/w/socket"
g() { cat "/sys/fs/cgroup/$1$base/w/$2"; }

echo "1..12"
ok "register w with --create, --leader and -p TasksMax=50 prints its socket" \
   '[ "$($admin register w --cgroup $base/w --create --leader $leader -p TasksMax=50)" = "$t/run/containers/w/socket" ] && [ "$(g pids pids.max)" = 50 ]'
ok "list shows w; --json list parses, with its cgroup" \
   '$admin list | grep -q "^w " && [ "$($admin --json list | jq -r ".[0].cgroup")" = "$base/w" ]'
ok "create /app on the container's socket" '$box create /app && [ -d /sys/fs/cgroup/memory$base/w/app ]'
ok "set /app MemoryMax=64M CPUQuota=20% TasksMax=5 lands in the v1 files" \
   '$box set /app MemoryMax=64M CPUQuota=20% TasksMax=5 && [ "$(g memory app/memory.limit_in_bytes)" = 67108864 ] &&
    [ "$(g cpu app/cpu.cfs_quota_us)" = 20000 ] && [ "$(g pids app/pids.max)" = 5 ]'
ok "get /app prints the v2 values; --json parses back" \
   '$box get /app cpu.max | grep -q "^cpu.max *20000 100000$" && [ "$($box --json get /app memory.max pids.max | jq -r ".\"pids.max\"")" = 5 ]'
ok "admin set w:/app memory.max=32M and get w:/app" \
   '$admin set w:/app memory.max=32M && [ "$(g memory app/memory.limit_in_bytes)" = 33554432 ] && $admin get w:/app memory.max | grep -q 33554432'
ok "move /app PID and procs list it" '$box move /app $leader && $box procs /app | grep -qx "$leader"'
ok "a bad value: exit 1, InvalidValue on stderr, nothing changed" \
   '$box set /app MemoryMax=64Q 2>$t/err; [ $? = 1 ] && grep -q "^org.cgdelegate.Error.InvalidValue: " $t/err && [ "$(g memory app/memory.limit_in_bytes)" = 33554432 ]'
ok "a refused path: exit 1, InvalidPath from the daemon" \
   '$box create /../x 2>$t/err; [ $? = 1 ] && grep -q "^org.cgdelegate.Error.InvalidPath: " $t/err'
ok "usage errors exit 2: unknown verb, NAME:/path missing on the host" \
   '$box bogus 2>/dev/null; a=$?; $admin set /app memory.max=1M 2>/dev/null; b=$?; [ $a = 2 ] && [ $b = 2 ]'
ok "kill /app ends the process in it" \
   '$box kill /app --signal 9 && for _ in $(seq 100); do kill -0 $leader 2>/dev/null || break; sleep 0.05; done; wait $leader 2>/dev/null; ! kill -0 $leader 2>/dev/null'
leader=''
ok "unregister w --remove-cgroup removes its groups" \
   '$admin unregister w --remove-cgroup && [ ! -d /sys/fs/cgroup/memory$base/w ]'
[ "$failed" = 0 ]
