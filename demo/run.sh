#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's main job: cgdelegated with the default policy plus a demo policy, a demo container
# (pid, mount and cgroup namespaces, the daemon's socket directory at /run/host/cgdelegate), and
# cgdelegatectl inside it creating a group and setting limits, in systemd's syntax, that the
# kernel then enforces. Everything it
# makes (cgroups, sockets, processes, temporary files) is removed at the end. Needs root.
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates cgroups and namespaces)" >&2; exit 1; }

t=$(mktemp -d /tmp/cgd-demo.XXXXXX)
mem=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
root="${mem%/}/cgd-demo-$$"
daemon= ; box=
ctl="$build/client/cgdelegatectl --socket $t/run/admin.socket"
admin() { busctl --address="unix:path=$t/run/admin.socket" call org.cgdelegate /org/cgdelegate org.cgdelegate.Manager1 "$@"; }
cleanup() {
        set +e
        [ -n "$box" ] && kill -9 "$box" 2>/dev/null
        [ -n "$daemon" ] && admin UnregisterContainer 'sa{sv}' demo 1 RemoveCgroup b true >/dev/null 2>&1
        [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
        # The daemon removed the groups it made; these are left only if it could not run.
        for h in /sys/fs/cgroup/*/; do
                [ -d "$h${root#/}" ] && find "$h${root#/}" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        rm -rf "$t"
}
trap cleanup EXIT

mkdir -p "$t/policies"
cp "$here/../systemd-units/policies/default.conf" "$here/policies/demo.conf" "$t/policies/"
"$build/daemon/cgdelegated" --foreground --runtime-dir "$t/run" --policy-dir "$t/policies" >"$t/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do admin ListContainers >/dev/null 2>&1 && break; sleep 0.05; done
echo "[host] cgdelegated is serving $t/run/admin.socket"

sock=$($ctl register demo --cgroup "$root" --policy demo --create)
echo "[host] registered container 'demo' (cgroup $root, policy 'demo'); its socket: $sock"

unshare --pid --fork --mount --cgroup --propagation private bash -c '
        mount -t tmpfs tmpfs /run && mkdir -p /run/host/cgdelegate &&
        mount --bind "$0" /run/host/cgdelegate && exec "$1" "$2" "$3"' \
        "$t/run/containers/demo" "$here/container.sh" "$(realpath "$build")/demo/cgd-demo-tool" \
        "$(realpath "$build")/client/cgdelegatectl" 2>"$t/container.err" &
box=$!
# The container's init once it runs container.sh (its mounts done): the leader to give the daemon.
for _ in $(seq 250); do
        init=$(pgrep -P "$box" | head -1)
        [ -n "$init" ] && grep -q container.sh "/proc/$init/cmdline" 2>/dev/null && break
        sleep 0.02
done
admin SetContainerLeader 'sua{sv}' demo "$init" 0 ||
        { echo "[host] the container did not start: $(cat "$t/container.err")" >&2; exit 1; }
echo "[host] the container's init is host pid $init"

for _ in $(seq 300); do [ -e "/proc/$init/root/run/done" ] && break; sleep 0.05; done
echo "[host] the kernel's view of the container's groups:"
for f in memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us; do
        printf '  %-26s %s\n' "app ${f#*/}" "$(cat "/sys/fs/cgroup/${f%%/*}$root/app/${f#*/}")"
done
printf '  %-26s %s\n' "app pids.events" "$(cat "/sys/fs/cgroup/pids$root/app/pids.events")"
printf '  %-26s %s\n' "cpu cpu.stat" "$(grep -E '^(nr_periods|nr_throttled)' "/sys/fs/cgroup/cpu$root/cpu/cpu.stat" | tr '\n' ' ')"
echo "[host] the daemon's audit trail:"
grep -o 'op=.*' "$t/daemon.log" | sed 's/^/  /'
echo "[host] cgdelegatectl list, while the container runs:"
$ctl list | sed 's/^/  /'
kill -9 "$init"
echo "[host] the container ended; the daemon unregisters it by itself:"
for _ in $(seq 100); do admin ListContainers | grep -q '"demo"' || break; sleep 0.05; done
echo "  cgdelegatectl --no-legend list: $($ctl --no-legend list)(nothing)"
