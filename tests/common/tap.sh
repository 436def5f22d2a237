# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared by the shell tests (tests/integration/test-ctl.sh, tests/e2e/, tests/vm/): TAP lines,
# the daemon under test and the removal of a scratch cgroup tree. The caller sets $t (a scratch
# directory) before using them.

n=0 failed=0 daemon=''

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

# daemon_up DAEMON: starts it in the foreground mode with $t/run and $t/policies, its log in
# $t/daemon.log, and waits (5 s at most) until the admin socket answers.
daemon_up() {
        mkdir -p "$t/policies"
        "$1" --foreground --runtime-dir "$t/run" --policy-dir "$t/policies" >"$t/daemon.log" 2>&1 &
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
