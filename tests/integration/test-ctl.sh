#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cgdelegatectl against the real daemon, every verb in both modes: on the host (admin socket,
# NAME:/path) and on a container's socket (/path), the latter also found by itself inside a
# mount namespace that has the socket directory at /run/host/cgdelegate as a runtime sets it up.
# Effects are read back from the host's cgroupfs; --json output is parsed back with jq; exit
# codes 0 / 1 / 2 with the D-Bus error name on stderr; --help for every verb. Root; TAP; every
# cgroup below this process's memory group, removed at the end; only processes it started are
# signalled.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"

if [ "$(id -u)" != 0 ] || [ ! -x "$DAEMON" ] || [ ! -x "$CTL" ] || ! command -v jq >/dev/null || ! command -v unshare >/dev/null; then
        echo "1..0 # SKIP needs root, jq, unshare, $DAEMON and $CTL"
        exit 0
fi
mem=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
[ -d /sys/fs/cgroup/memory ] || { echo "1..0 # SKIP needs the v1 memory hierarchy (the VM lane covers v2)"; exit 0; }
base="${mem%/}/cgd-ctltest-$$"
t=$(mktemp -d /tmp/cgd-ctl.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        for w in w w2; do "$CTL" --socket "$t/run/admin.socket" unregister $w --remove-cgroup >/dev/null 2>&1; done
        daemon_down
        cg_rmtree "$base"
        rm -rf "$t"
}
trap cleanup EXIT

mkdir -p "$t/policies"
daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }
admin="$CTL --socket $t/run/admin.socket"
sleep 1000 &
leader=$!
sleep 1000 &
other=$!
sleep 1000 &
third=$!
pids=("$leader" "$other" "$third")
box="$CTL --socket $t/run/containers/w/socket"
g() { cat "/sys/fs/cgroup/$1$base/w/$2"; }
in_group() { grep -q ":$1:$base/w$3\$" "/proc/$2/cgroup"; } # in_group HIER PID /path
frozen() { grep -q 'frozen 1' "/sys/fs/cgroup/unified$base/w$1/cgroup.events" 2>/dev/null || grep -q FROZEN "/sys/fs/cgroup/freezer$base/w$1/freezer.state" 2>/dev/null; }
gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; return 1; }
# refused EXIT NAME CMD...: exit code EXIT and stderr starting with org.cgdelegate.Error.NAME.
refused() { local want=$1 name=$2; shift 2; "$@" 2>"$t/err"; local rc=$?; cat "$t/err"; [ "$rc" = "$want" ] && grep -q "^org.cgdelegate.Error.$name: " "$t/err"; }
verbs="list status tree register unregister set get create remove move procs freeze thaw kill policy stats monitor metrics help"

echo "1..35"
# ---- registration and listing (host) ----
ok "register w with --create, --leader and -p TasksMax=50 prints its socket" \
   '[ "$($admin register w --cgroup $base/w --create --leader $leader -p TasksMax=50)" = "$t/run/containers/w/socket" ] && [ "$(g pids pids.max)" = 50 ]'
ok "--json register w2 parses back to its socket" \
   '[ "$($admin --json register w2 --cgroup $base/w2 --create | jq -r .socket)" = "$t/run/containers/w2/socket" ]'
ok "list: a table with headers and both rows; --no-legend drops the header" \
   '$admin list | grep -q "^NAME  *POLICY  *LEADER" && $admin list | grep -q "^w  *default  *$leader " && $admin list | grep -q "^w2 " &&
    ! $admin --no-legend list | grep -q NAME'
ok "--json list parses: two containers, w with its leader and cgroup" \
   '[ "$($admin --json list | jq length)" = 2 ] && [ "$($admin --json list | jq -r ".[] | select(.name == \"w\") | .leader")" = "$leader" ] &&
    [ "$($admin --json list | jq -r ".[0].cgroup")" = "$base/w" ]'
ok "status on the host: the daemon's counters; --json parses (2 containers, policy default)" \
   '$admin status | grep -q "Containers: 2" && [ "$($admin --json status | jq .Containers)" = 2 ] &&
    [ "$($admin --json status | jq -r ".Policies[0]")" = default ]'
# ---- groups (container socket and host) ----
ok "create /app, /app/web and /db on the container's socket; --json create says created false for /app" \
   '$box create /app && $box create /app/web && $box create /db && [ -d /sys/fs/cgroup/memory$base/w/app/web ] &&
    [ "$($box --json create /app | jq .created)" = false ]'
ok "create and remove w:/extra from the host (through w's socket)" \
   '$admin create w:/extra && [ -d /sys/fs/cgroup/pids$base/w/extra ] && $admin remove w:/extra && [ ! -d /sys/fs/cgroup/pids$base/w/extra ]'
ok "tree on the container's socket draws /app, /app/web and /db, each with its processes and pids.max" \
   'out=$($box tree) && echo "$out" && echo "$out" | sed -n 2p | grep -Eq "^/ +1 .* 50 " && echo "$out" | grep -q "^├─app " &&
    echo "$out" | grep -q "^│ └─web " && echo "$out" | grep -q "^└─db "'
ok "tree on the host: every container; --json tree w:/ nests /app/web under /app" \
   '$admin --no-legend tree | grep -Eq "^w:/ +1 " && $admin --no-legend tree | grep -q "^w2:/ " &&
    [ "$($admin --json tree w:/ | jq -r ".children[] | select(.path == \"/app\") | .children[0].path")" = /app/web ]'
# ---- properties ----
ok "set /app MemoryMax=64M CPUQuota=20% TasksMax=5 lands in the v1 files" \
   '$box set /app MemoryMax=64M CPUQuota=20% TasksMax=5 && [ "$(g memory app/memory.limit_in_bytes)" = 67108864 ] &&
    [ "$(g cpu app/cpu.cfs_quota_us)" = 20000 ] && [ "$(g pids app/pids.max)" = 5 ]'
ok "get /app prints aligned v2 values; --json get parses back" \
   '$box get /app cpu.max | grep -q "^cpu.max  *20000 100000$" && [ "$($box --json get /app memory.max pids.max | jq -r ".\"pids.max\"")" = 5 ]'
ok "admin set w:/app memory.max=32M --allow-below-usage and get w:/app (all keys, JSON)" \
   '$admin set w:/app memory.max=32M --allow-below-usage && [ "$(g memory app/memory.limit_in_bytes)" = 33554432 ] &&
    [ "$($admin --json get w:/app | jq -r ".\"memory.max\"")" = 33554432 ]'
# ---- processes ----
ok "move /app PID on the container's socket; procs /app lists it" \
   '$box move /app $leader && in_group memory $leader /app && $box procs /app | grep -qx "$leader"'
ok "move w:/db HOSTPID from the host (sent as a pidfd) after the runtime placed it in w's root" \
   'for h in /sys/fs/cgroup/*/; do [ -e "$h${base#/}/w/cgroup.procs" ] && echo $other >"$h${base#/}/w/cgroup.procs"; done;
    $admin move w:/db $other && in_group pids $other /db'
ok "procs: host w:/ --recursive lists both; --json procs parses; without --recursive / is empty" \
   '[ "$($admin procs w:/ --recursive | sort -n | tr "\n" " ")" = "$(printf "%s\n" $leader $other | sort -n | tr "\n" " ")" ] &&
    [ "$($box --json procs -r / | jq length)" = 2 ] && [ -z "$($box procs /)" ]'
ok "status w on the host and status in the container count 3 groups and 2 processes" \
   '[ "$($admin --json status w | jq -r "[.Cgroup, .Groups, .Processes] | join(\" \")")" = "$base/w 3 2" ] &&
    $box status | grep -q "Processes: 2" && [ "$($box --json status | jq -r .Policy)" = default ]'
ok "freeze and thaw /db (container) and w:/db (host) are seen by the kernel" \
   '$box freeze /db && frozen /db && $box thaw /db && ! frozen /db && $admin freeze w:/db && frozen /db && $admin thaw w:/db && ! frozen /db'
ok "kill w:/db --signal KILL from the host ends the process there" \
   '$admin kill w:/db --signal KILL && gone $other'
# ---- policy and stats ----
ok "policy in the container: its policy; --json parses (MaxGroups 64, AllowKill true)" \
   '$box policy | grep -q "Name: default" && [ "$($box --json policy | jq -r "[.MaxGroups, .AllowKill] | join(\" \")")" = "64 true" ]'
ok "policy on the host lists the loaded policies and shows one by name" \
   '$admin policy | grep -qx default && [ "$($admin --json policy default | jq -r .Name)" = default ] &&
    [ "$($admin --json policy | jq -r ".[0].policy")" = default ]'
ok "stats: text and --json (requests counted, refusals by name)" \
   '$admin stats | grep -q "requests: " && [ "$($admin --json stats | jq ".requests > 0")" = true ] &&
    [ "$($admin --json stats | jq "has(\"refused.AccessDenied\")")" = true ]'
# ---- refusals: exit 1 with the D-Bus error name ----
ok "a bad value: exit 1, InvalidValue on stderr, nothing changed" \
   'refused 1 InvalidValue $box set /app MemoryMax=64Q && [ "$(g memory app/memory.limit_in_bytes)" = 33554432 ]'
ok "a path out of the tree: exit 1, InvalidPath from the daemon" 'refused 1 InvalidPath $box create /../x'
ok "unknown container or policy on the host: exit 1, NotFound" \
   'refused 1 NotFound $admin status nosuch && refused 1 NotFound $admin policy nosuch && refused 1 NotFound $admin create nosuch:/x'
ok "remove /app while it holds a process: exit 1, Busy; the group stays" \
   'refused 1 Busy $box remove /app && [ -d /sys/fs/cgroup/memory$base/w/app ]'
# ---- usage: exit 2 ----
ok "usage errors exit 2: unknown verb, missing NAME:, host-only verbs in a container, bad signal, extra args" \
   'for cmd in "$box bogus" "$admin set /app memory.max=1M" "$box list" "$box stats" "$box kill /app --signal BOGUS" \
        "$admin list extra" "$box move /app notapid" "$CTL --bogus list"; do
            $cmd 2>/dev/null; rc=$?; [ $rc = 2 ] || { echo "$cmd: exit $rc"; exit 1; }; done'
ok "--help for every verb, help VERB, --help and --version exit 0" \
   'for v in $verbs; do $CTL $v --help | grep -q "^Usage: cgdelegatectl $v" || { echo "$v --help"; exit 1; };
        $CTL help $v | grep -q "^Usage: cgdelegatectl $v" || exit 1; $CTL --help | grep -q "^  $v " || { echo "--help lacks $v"; exit 1; }; done &&
    $CTL --version | grep -q "^cgdelegatectl [0-9]"'
# ---- inside a container: the socket found at /run/host/cgdelegate without --socket ----
inside() {
        unshare --mount sh -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/host/cgdelegate &&
                mount --bind -o ro "$1" /run/host/cgdelegate && shift && exec "$@"' sh "$t/run/containers/w" "$@"
}
ok "inside a mount namespace with /run/host/cgdelegate: status, tree and set work without --socket" \
   '[ "$(inside $CTL --json status | jq -r .Socket)" = /run/host/cgdelegate/socket ] && inside $CTL tree | grep -q "^└─db " &&
    inside $CTL set /db TasksMax=7 && [ "$(g pids db/pids.max)" = 7 ]'
ok "kill /app --signal 9 in the container ends the process in it" '$box kill /app --signal 9 && gone $leader'
ok "remove /app --recursive removes /app/web too" \
   '$box remove --recursive /app && [ ! -d /sys/fs/cgroup/memory$base/w/app ] && [ ! -d /sys/fs/cgroup/pids$base/w/app ]'
# metrics: both formats parsed back by prometheus_client's own parsers; w's samples are what
# GetContainer says right after (nothing in between calls w's socket).
if /usr/bin/python3 -c "import prometheus_client" 2>/dev/null; then
        ok "metrics and metrics --openmetrics parse back (Prometheus text, strict OpenMetrics); w's samples are GetContainer's" \
           '$admin metrics >$t/prom && $admin metrics --openmetrics >$t/om &&
            /usr/bin/python3 "$here/check-metrics.py" $t/prom $t/om w "$(busctl --address=unix:path=$t/run/admin.socket call \
                org.cgdelegate /org/cgdelegate org.cgdelegate.Manager1 GetContainer s w)"'
else
        n=$((n + 1)); echo "ok $n - metrics parse back # SKIP python3-prometheus-client is not installed"
fi
ok "metrics inside a container is a usage error (exit 2): it is the host's" \
   'inside $CTL metrics 2>$t/err; rc=$?; cat $t/err; [ $rc = 2 ] && grep -q "works on the host" $t/err'
ok "unregister w --remove-cgroup removes its groups" '$admin unregister w --remove-cgroup && [ ! -d /sys/fs/cgroup/memory$base/w ]'
ok "unregister w2 (keeping its cgroup), and w2 is no longer listed" \
   '$admin unregister w2 && [ -d /sys/fs/cgroup/memory$base/w2 ] && [ "$($admin --json list | jq length)" = 0 ]'
ok "the daemon is still serving" '$admin status >/dev/null && kill -0 $daemon'
[ "$failed" = 0 ]
