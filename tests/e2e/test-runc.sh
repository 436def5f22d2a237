#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end with runc: the containers' root file system is Debian's static busybox (the host's
# /usr is bind-mounted read-only for the clients' libraries), cgdelegate-oci-hook is their
# createRuntime and poststop hook, and everything is checked on the host: a process in the
# container makes a group, moves itself there and sets limits through the socket the hook put at
# /run/host/cgdelegate, and the kernel enforces them; an out-of-policy value is refused; an
# annotation that picks a policy the admin did not allow, and an image whose /run is a symlink,
# stop the container's creation with the hook's reason and leave nothing registered; when a
# container ends no socket, state file or group is left, with the poststop hook and without it
# (the daemon notices its init exit). Root; TAP; every group below this process's memory group.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
HOOK=$build/oci-hook/cgdelegate-oci-hook

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || ! command -v busybox >/dev/null || [ ! -x "$HOOK" ]; then
        echo "1..0 # SKIP needs root, runc, busybox-static and a built tree"
        exit 0
fi
busybox=$(command -v busybox)
ldd "$busybox" >/dev/null 2>&1 && { echo "1..0 # SKIP needs a static busybox (package busybox-static)"; exit 0; }
mem=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
[ -n "$mem" ] && [ -d /sys/fs/cgroup/memory ] ||
        { echo "1..0 # SKIP needs the hybrid hierarchy of these hosts (the v1 memory controller)"; exit 0; }
G="${mem%/}/cgd-runc-$$"
scratch runc "$G"
RUNC="runc --root $t/runc"
before_cleanup() {
        local c
        for c in $($RUNC list -q 2>/dev/null); do $RUNC delete -f "$c" >/dev/null 2>&1; done
}

mkdir -p "$t/policies"
printf '[Policy]\nMaxGroups=16\n\n[Ceilings]\nmemory.max=256M\n' >"$t/policies/pod.conf"
printf '[Policy]\nMaxGroups=4\n\n[Ceilings]\nmemory.max=64M\n' >"$t/policies/small.conf"
printf '[Hook]\nAdminSocket=%s\nDefaultPolicy=pod\nAllowedPolicies=small\n' "$t/run/admin.socket" >"$t/hook.conf"
daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }
admin="$CTL --socket $t/run/admin.socket"

# bundle NAME [ANNOTATION] [no-poststop|symlinked-run]: a bundle in $t/NAME with a busybox root.
bundle() {
        local b=$t/$1 r=$t/$1/rootfs hooks
        mkdir -p "$r"/{bin,proc,sys,dev,tmp,usr,opt/cgdelegate,etc}
        cp "$busybox" "$r/bin/busybox" && ln -s busybox "$r/bin/sh" && ln -s busybox "$r/bin/sleep"
        ln -s usr/lib "$r/lib" && ln -s usr/lib64 "$r/lib64"
        hooks='{"createRuntime": [$h], "poststop": [$h]}'
        case ${3:-} in
        no-poststop) hooks='{"createRuntime": [$h]}' ;;
        symlinked-run) ln -s /etc "$r/run" ;;
        esac
        (cd "$b" && runc spec) &&
        jq --arg hook "$HOOK" --arg conf "$t/hook.conf" --arg build "$build" --arg cg "$G/$1" \
           --arg ann "${2:-}" --arg kind "${3:-}" "
                .process.terminal = false | .process.args = [\"/bin/sleep\", \"100000\"] |
                .linux.cgroupsPath = \$cg |
                .mounts += [{destination: \"/usr\", type: \"bind\", source: \"/usr\", options: [\"rbind\", \"ro\"]},
                            {destination: \"/opt/cgdelegate\", type: \"bind\", source: \$build, options: [\"rbind\", \"ro\"]}] |
                if \$kind == \"symlinked-run\" then . else
                    .mounts += [{destination: \"/run\", type: \"tmpfs\", source: \"tmpfs\", options: [\"nosuid\", \"nodev\", \"mode=755\"]}] end |
                (\$hook | {path: ., args: [\"cgdelegate-oci-hook\", \"--config\", \$conf]}) as \$h | .hooks = $hooks |
                if \$ann == \"\" then . else .annotations = {\"org.cgdelegate.policy\": \$ann} end
           " "$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json"
}
run_c() { $RUNC run -d --bundle "$t/$1" "$1" </dev/null >"$t/$1.log" 2>&1; } # run_c NAME: starts it detached
in_c() { $RUNC exec "$@"; }                                                     # in_c NAME CMD...
v1() { cat "/sys/fs/cgroup/$1$G/$2/$3" 2>/dev/null; }                            # v1 HIER PATH FILE
nothing_left() { # nothing_left NAME: no registration, socket, state file or group in any hierarchy
        ! $admin --no-legend list | grep -q "^$1 " && [ ! -e "$t/run/containers/$1" ] && [ ! -e "$t/run/state/$1.state" ] &&
                ! ls -d /sys/fs/cgroup/*"$G/$1" 2>/dev/null | grep . && ! ls "$t/run/containers/" | grep -q "^$1\$"
}
ctl=/opt/cgdelegate/client/cgdelegatectl

echo "1..12"
ok "runc runs a busybox container with the hook; it is registered with the default policy, its init as leader" \
   'bundle c1 && run_c c1 && cat $t/c1.log && $admin --json status c1 | tee $t/s.json &&
    [ "$(jq -r .Policy $t/s.json)" = pod ] && [ "$(jq -r .Leader $t/s.json)" = "$($RUNC state c1 | jq .pid)" ] &&
    [ "$(jq -r .Cgroup $t/s.json)" = "$G/c1" ]'
ok "inside, the socket directory is at /run/host/cgdelegate, read-only, and the CLI finds it" \
   'in_c c1 sh -c "grep \" /run/host/cgdelegate \" /proc/self/mountinfo" | tee $t/mi && grep -q " ro," $t/mi &&
    in_c c1 $ctl tree'
ok "a process inside makes /app, moves itself there and sets TasksMax=5 MemoryMax=32M; forking ten children gets four" \
   'in_c c1 sh -c "$ctl create /app && $ctl move /app \$\$ && $ctl set /app TasksMax=5 MemoryMax=32M &&
                   exec /opt/cgdelegate/demo/cgd-demo-tool forks 10 >/run/forks 2>&1"; in_c c1 cat /run/forks >$t/forks;
    cat $t/forks;
    grep -q "4 of 10 forks allowed" $t/forks && [ "$(v1 pids c1/app pids.current)" = 4 ] && [ "$(v1 pids c1/app pids.max)" = 5 ] &&
    [ "$(v1 memory c1/app memory.limit_in_bytes)" = 33554432 ] && in_c c1 $ctl kill /app'
ok "the kernel holds a hog in /app to 32M (OOM kill, failcnt)" \
   '! in_c c1 sh -c "$ctl move /app \$\$ && exec /opt/cgdelegate/demo/cgd-demo-tool hog 256";
    [ "$(v1 memory c1/app memory.failcnt)" -gt 0 ] && [ "$(v1 memory c1/app memory.max_usage_in_bytes)" -le 33554432 ]'
ok "above the policy ceiling: MemoryMax=1G refused (OutOfRange, naming 256M), the host value unchanged" \
   '! in_c c1 $ctl set /app MemoryMax=1G 2>$t/err; cat $t/err; grep -q "OutOfRange.*256M" $t/err &&
    [ "$(v1 memory c1/app memory.limit_in_bytes)" = 33554432 ]'
ok "runc kill and delete: the poststop hook ran; no socket, state file or group is left" \
   '$RUNC kill c1 KILL && wait_for 10 "[ \"\$($RUNC state c1 | jq -r .status)\" = stopped ]" && $RUNC delete c1 &&
    wait_for 5 "nothing_left c1"'
ok "the poststop hook alone unregisters a container (state status stopped, no STAGE argument)" \
   '$admin register p1 --cgroup $G/p1 --create && [ -S $t/run/containers/p1/socket ] &&
    echo "{\"ociVersion\": \"1.0.2\", \"id\": \"p1\", \"status\": \"stopped\", \"bundle\": \"$t\"}" |
        $HOOK --config $t/hook.conf && grep "container=p1 op=Unregister" $t/daemon.log && [ ! -e $t/run/containers/p1 ]'
ok "an annotation picking a policy the admin did not allow stops creation, with the hook's reason; nothing registered" \
   'bundle c2 evil && ! run_c c2; cat $t/c2.log; grep -q "org.cgdelegate.policy=evil names a policy this host does not let containers pick (allowed: pod, small" $t/c2.log &&
    $RUNC delete -f c2 2>/dev/null; nothing_left c2'
ok "an allowed annotation picks its policy (small: MemoryMax=100M is above its 64M ceiling)" \
   'bundle c3 small && run_c c3 && [ "$($admin --json status c3 | jq -r .Policy)" = small ] &&
    in_c c3 $ctl create /a && ! in_c c3 $ctl set /a MemoryMax=100M 2>$t/err && grep -q "OutOfRange.*64M" $t/err'
ok "without a poststop hook: when the container ends, the daemon unregisters it and removes its groups" \
   'bundle c4 "" no-poststop && run_c c4 && in_c c4 $ctl create /x/y && [ -d /sys/fs/cgroup/memory$G/c4/x/y ] &&
    $RUNC kill c4 KILL && wait_for 10 "! $admin --no-legend list | grep -q \"^c4 \"" && grep "container=c4 op=Unregister" $t/daemon.log &&
    [ ! -e /sys/fs/cgroup/memory$G/c4/x ] && $RUNC delete c4 && nothing_left c4'
ok "a container that ends while the daemon is stopped: at its start the daemon unregisters it and removes its groups" \
   'bundle c6 "" no-poststop && run_c c6 && in_c c6 $ctl create /x && { daemon_down; $RUNC kill c6 KILL; } &&
    wait_for 10 "[ \"\$($RUNC state c6 | jq -r .status)\" = stopped ]" && daemon_up "$DAEMON" &&
    wait_for 5 "! $admin --no-legend list | grep -q \"^c6 \"" && grep -E "container c6 ended|container=c6 op=Unregister" $t/daemon.log &&
    [ ! -e /sys/fs/cgroup/memory$G/c6/x ] &&
    $RUNC delete c6 && nothing_left c6'
ok "an image whose /run is a symlink to /etc: the hook refuses to follow it, creation stops, nothing registered" \
   'bundle c5 "" symlinked-run && ! run_c c5; cat $t/c5.log; grep -q "a symlink or a file is in the way: refused" $t/c5.log &&
    [ ! -e /etc/host/cgdelegate ] && $RUNC delete -f c5 2>/dev/null; nothing_left c5'
[ "$failed" = 0 ]
