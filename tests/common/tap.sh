# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared by the shell tests (tests/integration/test-ctl.sh, tests/e2e/, tests/vm/): TAP lines,
# the daemon under test and the removal of a scratch cgroup tree. The caller sets $root (the
# source tree) before sourcing it, and $t (a scratch directory) before using them.

n=0 failed=0 daemon=''
# The programs under test: the build tree next to the sources ($root, set by the caller), or
# what the Makefile or the VM lane names.
build=${CGD_BUILD:-$root/build}
DAEMON=${CGD_DAEMON:-$build/daemon/cgdelegated}
CTL=${CGD_CTL:-$build/client/cgdelegatectl}

# ok DESCRIPTION CMD: one TAP test; CMD is eval'ed in this shell with its output in $t/out,
# shown as comments when it fails (always with CGD_TEST_VERBOSE=1).
ok() {
        n=$((n + 1))
        if eval "$2" >"$t/out" 2>&1; then
                echo "ok $n - $1"
                [ -z "${CGD_TEST_VERBOSE:-}" ] || sed 's/^/#   /' "$t/out"
        else
                failed=$((failed + 1))
                echo "not ok $n - $1"
                tail -n 40 "$t/out" | sed 's/^/#   /'
        fi
}

# daemon_up DAEMON [ARGS...]: starts it in the foreground mode with $t/run and $t/policies (and
# ARGS), its log in $t/daemon.log, and waits (5 s at most) until the admin socket answers.
daemon_up() {
        mkdir -p "$t/policies"
        "$1" --foreground --runtime-dir "$t/run" --policy-dir "$t/policies" "${@:2}" >"$t/daemon.log" 2>&1 &
        daemon=$!
        for _ in $(seq 100); do
                [ -S "$t/run/admin.socket" ] && busctl --address="unix:path=$t/run/admin.socket" call org.cgdelegate \
                        /org/cgdelegate org.cgdelegate.Manager1 GetStatistics >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        return 1
}

daemon_down() {
        [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
        daemon=''
}

# cg_rmtree PATH: removes PATH and every group below it, in every hierarchy (bottom up).
cg_rmtree() {
        local h
        for h in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
                [ -d "$h${1#/}" ] && find "$h${1#/}" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        return 0
}

# cg_base_begin G: notes the ancestors of G that no hierarchy has yet (a test, the daemon or a
# runtime will make them), so that cg_base_end G removes them too, and the host's tree is left
# as it was.
cg_base_begin() {
        local h d
        : >"$t/made-ancestors"
        for h in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
                [ -e "${h}cgroup.procs" ] || continue
                for d in $(dirname "$1"); do
                        while [ "$d" != / ] && [ ! -d "$h${d#/}" ]; do
                                echo "$h${d#/}" >>"$t/made-ancestors"
                                d=$(dirname "$d")
                        done
                done
        done
}

cg_base_end() {
        cg_rmtree "$1"
        [ -f "$t/made-ancestors" ] && sort -r "$t/made-ancestors" | while read -r d; do rmdir "$d" 2>/dev/null; done
        return 0
}

# wait_for SECONDS CMD: CMD (eval'ed) every 0.1 s until it succeeds, for SECONDS at most (by the
# clock: under emulation one try can take seconds).
wait_for() {
        local end=$((SECONDS + $1))
        until eval "$2"; do
                [ $SECONDS -lt $end ] || return 1
                sleep 0.1
        done
}

# scratch NAME G: $t, a new scratch directory, and G, a cgroup path whose missing ancestors are
# noted (cg_base_begin). At exit: before_cleanup (when the test defines it), the daemon stopped,
# G and those ancestors removed in every hierarchy, $t removed.
scratch() {
        t=$(mktemp -d "${TMPDIR:-/tmp}/cgd-$1.XXXXXX") || exit 1
        scratch_cg=$2
        trap scratch_end EXIT
        cg_base_begin "$scratch_cg"
}

scratch_end() {
        ! declare -F before_cleanup >/dev/null || before_cleanup
        daemon_down
        cg_base_end "$scratch_cg"
        rm -rf "$t"
}

# one_container NAME: the daemon under test up (daemon_up) and container NAME registered on
# $G/NAME, which the daemon makes, with a sleeping leader in the leaf /init (as on cgroup2, where
# a group with processes cannot pass controllers down). Sets $admin and $box (cgdelegatectl on
# the admin socket and on NAME's socket) and appends the leader to $pids, the processes the
# test's before_cleanup ends. Bails out when a step fails.
one_container() {
        one=$1
        daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 "$t/daemon.log")"; exit 1; }
        admin="$CTL --socket $t/run/admin.socket"
        box="$CTL --socket $t/run/containers/$one/socket"
        sleep 100000 &
        pids+=($!)
        $admin register "$one" --cgroup "$G/$one" --create --leader $! >/dev/null && $box create /init >/dev/null &&
                $admin move "$one:/init" $! || { echo "Bail out! cannot register $one with its leader in /init"; exit 1; }
}

# call METHOD SIGNATURE ARGS...: busctl's call of Container1 on one_container's socket.
call() {
        busctl --address="unix:path=$t/run/containers/$one/socket" call org.cgdelegate /org/cgdelegate \
                org.cgdelegate.Container1 "$@"
}

# spawn GROUP CMD...: CMD started in one_container's /init (as a runtime would place it), then
# moved to GROUP through the admin socket; its pid in $spawned and appended to $pids.
spawn() {
        local g=$1 h
        shift
        "$@" &
        spawned=$!
        pids+=($spawned)
        for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
                [ -e "$h${G#/}/$one/init/cgroup.procs" ] && echo $spawned >"$h${G#/}/$one/init/cgroup.procs"
        done
        $admin move "$one:$g" $spawned
}

# loop NAME SECONDS CMD: CMD (eval'ed) again and again for SECONDS; "N calls, F failed" in
# $t/NAME, the failures' output in $t/NAME.err (the restart tests' clients under load).
loop() {
        local end=$((SECONDS + $2)) n=0 bad=0
        while [ $SECONDS -lt $end ]; do
                n=$((n + 1))
                eval "$3" >/dev/null 2>>"$t/$1.err" || bad=$((bad + 1))
        done
        echo "$n calls, $bad failed" >"$t/$1"
}
