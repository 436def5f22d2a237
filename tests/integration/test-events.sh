#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Events on the real cgroupfs (#12): a container subscribes (cgdelegatectl monitor, on its own
# socket) and gets GroupEmpty when the last process of a group goes (cgroup.events of the
# unified hierarchy, through inotify) and MemoryEvent when a group runs out of memory (v1:
# memory.oom_control through cgroup.event_control; cgroup2: memory.events); a group made with
# RemoveOnEmpty=true is removed, in every hierarchy, when it empties, also after the daemon
# re-executed itself. Root; TAP; every cgroup below
# this process's memory group, removed at the end; only processes it started are signalled.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
[ -e /sys/fs/cgroup/unified/cgroup.procs ] || [ -e /sys/fs/cgroup/cgroup.procs ] ||
        { echo "1..0 # SKIP no cgroup2 hierarchy: GroupEmpty is NotSupported on a legacy host"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-events-$$"
scratch events "$G"
pids=()
before_cleanup() {
        local p
        [ -z "$daemon" ] || kill -CONT "$daemon" 2>/dev/null # a test that stopped it may have failed
        for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
        "$CTL" --socket "$t/run/admin.socket" unregister e --remove-cgroup >/dev/null 2>&1
}

# The default policy, but room for the 300 groups of the inotify overflow test.
mkdir -p "$t/policies" && printf '[Policy]\nMaxGroups=400\n' >"$t/policies/default.conf"
one_container e
exists_anywhere() { local h; for h in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do [ -d "$h${G#/}/e/$1" ] && return 0; done; return 1; }
monitor_start() { $box --json monitor >"$t/events" 2>"$t/monitor.err" & monitor=$!; pids+=($monitor); sleep 0.3; }
saw() { wait_for 10 "jq -c . \"$t/events\" 2>/dev/null | grep -qF '$1'"; }

echo "1..12"
ok "Subscribe to an unknown event is InvalidValue naming the known ones" \
   'call Subscribe as 1 Nope 2>&1 | grep -q "unknown event .Nope. (known: GroupEmpty, MemoryEvent)"'
$box create /a >/dev/null && $box create /m >/dev/null
monitor_start
ok "GroupEmpty: the last process of /a ends, and the subscriber hears it" \
   'spawn /a sleep 100000 && kill $spawned && saw "{\"event\":\"GroupEmpty\",\"path\":\"/a\"}"'
ok "MemoryEvent: /m under MemoryMax=32M runs out of memory; the subscriber hears oom_kill" \
   '$box set /m MemoryMax=32M && spawn /m /usr/bin/python3 -c "b = b\"x\" * (256 << 20); import time; time.sleep(100)";
    saw "\"event\":\"MemoryEvent\",\"path\":\"/m\",\"kind\":\"oom_kill\",\"count\":1}"; r=$?; jq -c . "$t/events"; [ $r = 0 ]'
ok "RemoveOnEmpty on / is refused (AccessDenied)" \
   'call CreateGroup "sa{sv}" / 1 RemoveOnEmpty b true 2>&1 | grep -q "never removable"'
ok "RemoveOnEmpty: /b, never populated, stays; emptied, it goes in every hierarchy, audited, its group returned" \
   'call CreateGroup "sa{sv}" /b 1 RemoveOnEmpty b true && sleep 0.5 && exists_anywhere b && groups=$($admin --json status e | jq .Groups) &&
    spawn /b sleep 100000 && kill $spawned && wait_for 10 "! exists_anywhere b" && saw "{\"event\":\"GroupEmpty\",\"path\":\"/b\"}" &&
    grep -q "op=RemoveOnEmpty path=/b .*result=\"ok\"" "$t/daemon.log" && [ "$($admin --json status e | jq .Groups)" = $((groups - 1)) ]'
# A process that joins and ends before the daemon reads cgroup.events (the kernel notifies it at
# most every 10 ms, and a busy daemon reads late) leaves "populated 0" as the daemon last saw it,
# and must still count as the group emptying. The daemon is stopped meanwhile to make it so, and
# the process joins as a child forked in the group would, without the daemon.
brief() { # brief GROUP: a process joins GROUP and ends while the daemon does not look
        local p h
        kill -STOP $daemon
        sleep 100000 &
        p=$!
        for h in /sys/fs/cgroup/*/; do [ -e "$h${G#/}/e/$1/cgroup.procs" ] && echo $p >"$h${G#/}/e/$1/cgroup.procs"; done
        kill -9 $p
        wait $p 2>/dev/null
        sleep 0.05
        kill -CONT $daemon
}
ok "RemoveOnEmpty: five groups, each joined by a process that ends before the daemon looks, all go" \
   '(for i in 1 2 3 4 5; do call CreateGroup "sa{sv}" /q$i 1 RemoveOnEmpty b true >/dev/null && brief q$i || exit 1; done) &&
    wait_for 10 "! exists_anywhere q1 && ! exists_anywhere q2 && ! exists_anywhere q3 && ! exists_anywhere q4 && ! exists_anywhere q5"'
ok "RemoveOnEmpty is kept across a re-execution (SIGUSR2): /c goes when it empties after it" \
   'call CreateGroup "sa{sv}" /c 1 RemoveOnEmpty b true && kill -USR2 $daemon && wait_for 10 "[ \$(grep -c \"cgdelegated: ready:\" $t/daemon.log) -ge 2 ]" &&
    spawn /c sleep 100000 && kill $spawned && wait_for 10 "! exists_anywhere c"'
ok "the monitor was cut by the re-execution (its connection closed), and says so" \
   'wait_for 5 "! kill -0 $monitor 2>/dev/null"; cat "$t/monitor.err"; [ -s "$t/monitor.err" ]'
monitor_start
ok "--json events parse: each line one object with event and path" \
   'spawn /a sleep 100000 && kill $spawned && saw "{\"event\":\"GroupEmpty\",\"path\":\"/a\"}"; r=$?; cat "$t/events" "$t/monitor.err"; [ $r = 0 ] && jq -e "select(.event and .path)" "$t/events" >/dev/null'
# The kernel queues at most fs.inotify.max_queued_events (16384 by default) notifications for the
# daemon and then drops them with IN_Q_OVERFLOW. /last (RemoveOnEmpty) loses its process (it ends)
# while the daemon is stopped and a bouncing process has 300 groups notify far more than that: its emptying
# is dropped, and only reading every watched group again finds it and removes /last. (Judged by
# the removal, not by the monitor, which may be cut off as a slow reader by the thousands of
# GroupEmpty signals that follow; under ASan the daemon takes seconds to catch up.) Each group's cgroup.events is
# notified at most every 10 ms; a round of 300 moves takes about 20 ms here, so the 4 s flood
# makes some 50,000 notifications, three times the queue.
overflow() {
        local i end u=/sys/fs/cgroup/unified
        [ -d $u ] || u=/sys/fs/cgroup
        for i in $(seq 300); do $box create /f$i >/dev/null || return 1; done
        call CreateGroup "sa{sv}" /last 1 RemoveOnEmpty b true >/dev/null && spawn /last sleep 100000 || return 1
        local last=$spawned rounds=0
        sleep 100000 &
        local b=$!
        pids+=($b)
        sleep 0.3 # the daemon sees /last populated
        kill -STOP $daemon
        end=$((SECONDS + 4))
        while [ $SECONDS -lt $end ]; do
                for i in $(seq 300); do echo $b >$u${G}/e/f$i/cgroup.procs; done
                rounds=$((rounds + 1))
        done
        kill -9 $last && wait $last 2>/dev/null
        kill -CONT $daemon
        echo "$rounds rounds of 300 moves while the daemon was stopped"
        wait_for 60 "! exists_anywhere last" && grep "inotify dropped events" "$t/daemon.log" ||
                { grep -v "audit container=e op=CreateGroup" "$t/daemon.log" | tail -n 15; false; }
}
ok "inotify overflow: every watched group is read again, and /last, whose emptying was dropped, is removed on empty" \
   'overflow'

# An Audit subscriber that never reads: once the kernel's socket buffer is full (about 11,000 such
# signals here), the daemon keeps at most 128 more for it (CGD_OUTGOING_MAX), then cuts it off. The
# requests that cause the signals (another admin connection's, which no rate limits) are answered
# all along, and the daemon's memory does not grow with them.
slow_reader() {
        # ASan's quarantine keeps freed memory (256 MiB): there the RSS says nothing.
        local asan=no
        ! ldd "$DAEMON" 2>/dev/null | grep -q libasan || asan=asan
        /usr/bin/python3 - "$t/run/admin.socket" "$t/daemon.log" "$daemon" "$asan" <<'PY'
import dbus, sys
def manager():
    conn = dbus.connection.Connection("unix:path=" + sys.argv[1])
    return dbus.Interface(conn.get_object(None, "/org/cgdelegate"), "org.cgdelegate.Manager1")
def rss():
    return int(next(l.split()[1] for l in open(f"/proc/{sys.argv[3]}/status") if l.startswith("VmRSS:")))
reader, writer = manager(), manager()
reader.Subscribe(["Audit"])
before = rss()
for i in range(1, 40001):
    writer.SetContainerProperties("e", "/a", [("pids.max", str(100 + i % 50))], {})
    if i % 250 == 0 and "cutting off a connection of the admin socket" in open(sys.argv[2]).read():
        break
after = rss()
print(f"cut off after {i} requests; daemon RSS {before} -> {after} KiB")
try:
    reader.GetStatistics()  # reads the signals that reached the socket, then finds it closed
    sys.exit("the subscriber was not cut off")
except dbus.exceptions.DBusException as e:
    print("the subscriber:", e.get_dbus_name())
sys.exit(0 if i < 40000 and (after - before < 4096 or sys.argv[4] == "asan") else 1)
PY
}
ok "an Audit subscriber that never reads is cut off after 128 queued signals; the requests are answered, RSS flat (but under ASan)" \
   'slow_reader && grep -E "cutting off a connection of the admin socket: 129 replies unread" "$t/daemon.log"'
ok "the daemon is still serving, and no cgroup outside the container changed" \
   '$admin status >/dev/null && kill -0 $daemon && [ -z "$(ls /sys/fs/cgroup/memory$G | grep -v "^e$\|^cgroup\.\|^memory\.\|^notify_on_release\|^tasks")" ]'
exit $((failed > 0))
