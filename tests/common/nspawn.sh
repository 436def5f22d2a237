# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared by the tests that boot a real systemd in systemd-nspawn with the bridge in it
# (tests/e2e/test-nspawn.sh on the hybrid host, tests/vm/test-bridge-v2.sh in the VM lane). The
# caller sets $P (the container's init, a host pid), $root (the source tree) and $t, and has
# sourced tap.sh (wait_for).

# in_c CMD...: CMD in the container, for a minute at most (a wedged PID 1 must not hang the test).
in_c() { timeout -k 5 60 nsenter -t "$P" -a "$@"; }
# unit NAME TEXT: a unit file in the container's /run/systemd/system.
unit() { nsenter -t "$P" -m sh -c "cat >/run/systemd/system/$1" <<<"$2"; }
journal() { in_c journalctl -q -o cat -u "$1"; }
# host_pid PID: the host's pid of the container's process PID.
host_pid() {
        local s ns
        ns=$(readlink /proc/$P/ns/pid)
        for s in /proc/[0-9]*/status; do
                awk -v p="$1" '/^NSpid/ && NF == 3 && $3 == p { found = 1 } END { exit !found }' "$s" 2>/dev/null &&
                        [ "$(readlink ${s%/status}/ns/pid)" = "$ns" ] && { s=${s#/proc/}; echo "${s%/status}"; return 0; }
        done
        return 1
}

# start_container CG MACHINE SOCKETDIR: systemd-nspawn boots the host's / (volatile; the build
# tree at /opt/cgdelegate, SOCKETDIR at /run/host/cgdelegate, read-only) in the groups at host
# path CG, in every hierarchy where they exist. Sets $nspawn and, once its init runs, $P; succeeds
# when systemd inside says it is up. nspawn's output goes to $t/nspawn.log.
start_container() {
        ( for h in /sys/fs/cgroup/*/; do [ -e "$h${1#/}/cgroup.procs" ] && echo $BASHPID >"$h${1#/}/cgroup.procs"; done
          exec setsid systemd-nspawn --register=no --keep-unit --volatile=yes -D / --boot -M "$2" \
               --bind-ro="$3:/run/host/cgdelegate" --bind-ro="$build:/opt/cgdelegate" \
               systemd.mask=systemd-firstboot.service </dev/null >"$t/nspawn.log" 2>&1 ) &
        nspawn=$!
        wait_for 10 "P=\$(pgrep -P $nspawn | head -1); [ -n \"\$P\" ]" && wait_booted 60
}

# stop_container: powers the container off (systemctl poweroff), killed after 10 s.
stop_container() {
        if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then
                nsenter -t "$P" -a systemctl poweroff >/dev/null 2>&1
                for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
        fi
        [ -n "$nspawn" ] && kill -9 "$nspawn" 2>/dev/null && wait "$nspawn" 2>/dev/null
        nspawn='' P=''
}

# wait_booted SECONDS: until the container's systemd says running or degraded.
wait_booted() {
        wait_for "$1" 'case "$(in_c systemctl is-system-running 2>/dev/null)" in running|degraded) true;; *) false;; esac'
}

# start_bridge SECONDS: the bridge's unit from the source tree, running the build tree's bridge
# (bind-mounted at /opt/cgdelegate), started; succeeds once it has reached the daemon and made
# its first full pass over the units (so that its own daemon-reload, if any, is behind it).
start_bridge() {
        unit cgdelegate-systemd-bridge.service "$(sed "s|^ExecStart=.*|ExecStart=/opt/cgdelegate/bridge/cgdelegate-systemd-bridge|; /^ConditionPathExists/d" \
                                                  "$root/bridge/cgdelegate-systemd-bridge.service")" &&
                in_c systemctl daemon-reload && in_c systemctl start cgdelegate-systemd-bridge.service &&
                wait_for "$1" 'journal cgdelegate-systemd-bridge.service | grep -q "in step with systemd"'
        local rc=$?
        journal cgdelegate-systemd-bridge.service | tail -5
        return $rc
}

# diagnose: the container's journal and nspawn's output, as TAP comments (after a failure).
diagnose() {
        echo "# the container's journal, last lines:"
        in_c journalctl -q -n 60 --no-pager -o short-monotonic 2>&1 | sed 's/^/#   /'
        echo "# nspawn:"
        tail -n 20 "$t/nspawn.log" | sed 's/^/#   /'
}
