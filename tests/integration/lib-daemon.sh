# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034 # globals shared with test-daemon.sh
#
# Helpers for tests/integration/test-daemon.sh: TAP output, the daemon under test, simulated
# containers, D-Bus calls on both sockets, error-name checks, cgroupfs snapshots and a teardown
# that leaves nothing behind.
#
# A simulated container is a pid, mount and cgroup namespace made by unshare(1). Its init
# (cinit.sh below) mounts a tmpfs on /run (or on /run/host where the host has that directory)
# inside its own mount namespace only, bind-mounts the daemon's socket directory
# RUNTIME_DIR/containers/NAME read-only at /run/host/cgdelegate as a runtime does, and waits until
# the test has made it the container's leader. Then it starts its workload, which therefore lives
# below the container's root in every hierarchy: a "sleep 1000" (the process tests move around),
# a forker blocked on a FIFO (for the pids.max test) and a "sleep 100000" that pid 1 waits for.
# Clients inside run as `nsenter -t LEADER -p -m busctl ...`.
#
# Every wait is bounded; nothing is mounted in the host's mount namespace; every cgroup is made
# below $BASE (under this process's memory cgroup) or is an ancestor of it the test made, and
# teardown removes them all in every hierarchy.

CGROOT=/sys/fs/cgroup
ERR=org.cgdelegate.Error
CALL_TIMEOUT=10      # seconds for any one D-Bus call
TIME_BUDGET=100      # seconds: tests that would start later fail without running
RESTARTS_MAX=10      # restarts of a daemon that died during a test
T='' BASE='' LOG='' DAEMON_PID='' DAEMON_STATUS=''
# Per container (c1, c2): host pids of its unshare(1), its init (the leader), its "sleep 1000" and
# its forker. Declared for both names, so that a test whose setup failed fails instead of
# tripping set -u and ending the script.
declare -A LEADER=([c1]='' [c2]='') UNSHARE=([c1]='' [c2]='') SLEEP=([c1]='' [c2]='') FORKER=([c1]='' [c2]='')
# Every process the test started (or its containers' inits), as PID:STARTTIME: teardown signals a
# pid only while it still names the same process, never one that reused the number.
declare -a MADE_ANCESTORS=() TRACKED=()

# ---- TAP ----

tap_n=0 tap_failed=0 tap_planned=0 restarts=0

plan() {
        tap_planned=$1
        echo "1..$1"
}

# t DESCRIPTION CMD...: one test. CMD runs in this shell (it may set globals) with its output in
# $T/out; on failure (or always, with CGD_TEST_VERBOSE=1) that output is shown as TAP comments.
# A daemon that died during the test fails it, with the end of its log, and is started again
# (up to RESTARTS_MAX times), so that one crash does not take every later test with it. Past
# TIME_BUDGET seconds the remaining tests fail without running.
t() {
        local desc=$1 rc
        shift
        if [ "$SECONDS" -ge "$TIME_BUDGET" ]; then
                echo "not run: the suite used up its $TIME_BUDGET s" >"$T/out"
                rc=1
        else
                "$@" >"$T/out" 2>&1 </dev/null
                rc=$?
        fi
        if [ -n "$DAEMON_PID" ] && gone "$DAEMON_PID"; then
                rc=1
                {
                        daemon_stop KILL
                        echo "the daemon died (status $DAEMON_STATUS); the end of its log:"
                        tail -n 4 "$LOG"
                        restarts=$((restarts + 1))
                        [ "$restarts" -le "$RESTARTS_MAX" ] && daemon_start && echo "(started again for the next tests)"
                } >>"$T/out" 2>&1 </dev/null
        fi
        tap_n=$((tap_n + 1))
        if [ "$rc" -eq 0 ]; then
                echo "ok $tap_n - $desc"
                [ -z "${CGD_TEST_VERBOSE:-}" ] || sed 's/^/#   /' "$T/out"
        else
                tap_failed=$((tap_failed + 1))
                echo "not ok $tap_n - $desc"
                tail -n 30 "$T/out" | sed 's/^/#   /'
        fi
}

# todo DESCRIPTION REASON CMD...: a known gap; reported, never counted as a failure.
todo() {
        local desc=$1 reason=$2 rc
        shift 2
        "$@" >"$T/out" 2>&1 </dev/null
        rc=$?
        tap_n=$((tap_n + 1))
        if [ "$rc" -eq 0 ]; then
                echo "ok $tap_n - $desc # TODO $reason"
        else
                echo "not ok $tap_n - $desc # TODO $reason"
                tail -n 10 "$T/out" | sed 's/^/#   /'
        fi
}

tap_end() {
        if [ "$tap_n" -ne "$tap_planned" ]; then
                echo "# planned $tap_planned tests but ran $tap_n"
                return 1
        fi
        [ "$tap_failed" -eq 0 ]
}

# ---- assertions (print why on failure) ----

eq() { # eq WHAT GOT WANT
        [ "$2" = "$3" ] && return 0
        printf '%s: got "%s", want "%s"\n' "$1" "$2" "$3"
        return 1
}

has() { # has WHAT TEXT NEEDLE
        [[ $2 == *"$3"* ]] && return 0
        printf '%s: "%s" does not contain "%s"\n' "$1" "$2" "$3"
        return 1
}

# wait_until SECONDS CMD...: polls CMD every 50 ms.
wait_until() {
        local tries=$(($1 * 20))
        shift
        until "$@"; do
                tries=$((tries - 1))
                [ "$tries" -gt 0 ] || return 1
                sleep 0.05
        done
}

# ---- processes ----

# A process that exited counts as gone even while it is a zombie nobody has reaped yet.
gone() {
        local state
        state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [ -z "$state" ] || [ "$state" = Z ]
}

alive() { ! gone "$1"; }

ns_pid() { awk '/^NSpid:/ { print $NF }' "/proc/$1/status"; }

cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | sed 's/ $//'; }

start_time() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

track() { TRACKED+=("$1:$(start_time "$1")"); }

# The tracked processes that still run (zombies do not count).
tracked_running() {
        local e p
        for e in "${TRACKED[@]}"; do
                p=${e%%:*}
                [ "$(start_time "$p")" = "${e#*:}" ] && alive "$p" && echo "$p"
        done
}

none_running() { [ -z "$(tracked_running)" ]; }

# stop_proc PID: SIGKILL for a tracked process, if PID still names it.
stop_proc() {
        local e
        for e in "${TRACKED[@]}"; do
                if [ "${e%%:*}" = "$1" ] && [ "$(start_time "$1")" = "${e#*:}" ]; then
                        kill -KILL "$1"
                        return
                fi
        done
        echo "process $1 is not one of the test's (any more)"
        return 1
}

children() { # the host pids of PID's children, blank-separated
        local c
        c=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
        echo "${c% }" # the kernel ends the list with a blank
}

# child_running PARENT CMDLINE: prints the host pid of PARENT's child running CMDLINE.
child_running() {
        local p
        for p in $(children "$1"); do
                if [ "$(cmdline "$p")" = "$2" ]; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

# The cgroup of host pid PID in hierarchy HIER ("memory", "pids", "" for cgroup2).
cgroup_of() {
        local hier=$1 pid=$2
        if [ -z "$hier" ]; then
                sed -n 's/^0:://p' "/proc/$pid/cgroup"
        else
                awk -F: -v h="$hier" '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == h) print $3 }' \
                        "/proc/$pid/cgroup"
        fi
}

# A pid number no process has on the host (so none in any namespace of the host's children).
unused_pid() {
        local p=${1:-99999}
        while [ -e "/proc/$p" ]; do p=$((p + 7)); done
        echo "$p"
}

# ---- the daemon ----

admin_call() {
        timeout "$CALL_TIMEOUT" busctl --address="unix:path=$T/run/admin.socket" \
                call org.cgdelegate /org/cgdelegate org.cgdelegate.Manager1 "$@"
}

admin_json() {
        timeout "$CALL_TIMEOUT" busctl --json=short --address="unix:path=$T/run/admin.socket" \
                call org.cgdelegate /org/cgdelegate org.cgdelegate.Manager1 "$@"
}

admin_answers() { admin_call ListContainers >/dev/null 2>&1; }

# The registered names, sorted, one line: "c1 c2".
containers_listed() {
        admin_json ListContainers | jq -r '[.data[0][][0]] | sort | join(" ")'
}

daemon_start() {
        "$DAEMON" --foreground --runtime-dir "$T/run" --state-dir "$T/state" --policy-dir "$T/policies" \
                >>"$LOG" 2>&1 </dev/null &
        DAEMON_PID=$!
        # A socket file proves nothing (a stopped daemon leaves it): wait for an answer.
        wait_until 10 daemon_ready || { echo "the daemon did not answer within 10 s"; return 1; }
        alive "$DAEMON_PID" || { echo "the daemon exited:"; tail -n 5 "$LOG"; return 1; }
}

daemon_ready() { gone "$DAEMON_PID" || admin_answers; }

# daemon_stop SIGNAL: sends SIGNAL and reaps the daemon; its exit status in DAEMON_STATUS.
daemon_stop() {
        local pid=$DAEMON_PID
        [ -n "$pid" ] || return 0
        kill -"$1" "$pid" 2>/dev/null
        wait_until 10 gone "$pid" || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        DAEMON_STATUS=$?
        DAEMON_PID=
}

# ---- D-Bus calls ----

# in_container NAME METHOD SIGNATURE ARGS...: busctl inside container NAME, on the socket it sees
# at /run/host/cgdelegate/socket.
in_container() {
        local name=$1
        shift
        timeout "$CALL_TIMEOUT" nsenter -t "${LEADER[$name]:-0}" -p -m \
                busctl --address=unix:path=/run/host/cgdelegate/socket \
                call org.cgdelegate /org/cgdelegate org.cgdelegate.Container1 "$@"
}

# gdbus_call WHERE METHOD ARGS...: gdbus (GVariant text arguments), which prints the D-Bus error
# NAME of a refusal; busctl prints only its message. WHERE: admin, NAME (inside the container) or
# host:NAME (that container's socket, from the host). METHOD without a dot is one of cgdelegate's.
gdbus_call() {
        local where=$1 method=$2
        shift 2
        if [[ $method != *.* ]]; then
                [ "$where" = admin ] && method=org.cgdelegate.Manager1.$method ||
                        method=org.cgdelegate.Container1.$method
        fi
        local -a call=(gdbus call --timeout 5 --dest org.cgdelegate --object-path /org/cgdelegate)
        case $where in
        admin) timeout "$CALL_TIMEOUT" "${call[@]}" --address "unix:path=$T/run/admin.socket" --method "$method" "$@" ;;
        host:*) timeout "$CALL_TIMEOUT" "${call[@]}" --address "unix:path=$T/run/containers/${where#host:}/socket" \
                --method "$method" "$@" ;;
        *) timeout "$CALL_TIMEOUT" nsenter -t "${LEADER[$where]:-0}" -p -m "${call[@]}" \
                --address unix:path=/run/host/cgdelegate/socket --method "$method" "$@" ;;
        esac
}

# Methods whose every refusal the daemon writes as an audit line.
audited() {
        case $1 in
        RegisterContainer | SetContainerLeader | UnregisterContainer | SetContainerProperties | ReloadPolicies) return 0 ;;
        CreateGroup | RemoveGroup | SetProperties | MoveProcess | MoveProcessFD | Freeze | Thaw | Kill) return 0 ;;
        ListGroups | GetProcesses) return 0 ;;
        GetProperties) [ -z "${NOAUDIT:-}" ] ;;
        *) return 1 ;;
        esac
}

# expect_error NAME WHERE METHOD ARGS...: the call is refused with org.cgdelegate.Error.NAME (read
# from the D-Bus reply), its message contains $MSG when set, and for audited methods the audit
# line the daemon wrote for this request carries result="org.cgdelegate.Error.NAME: ...".
expect_error() {
        local want=$ERR.$1 where=$2 method=$3 before out got audit
        shift 3
        before=$(wc -l <"$LOG")
        if out=$(gdbus_call "$where" "$method" "$@" 2>&1); then
                echo "$method $*: succeeded ($out); want $want"
                return 1
        fi
        got=$(sed -n 's/^Error: GDBus\.Error:\([A-Za-z0-9_.]*\): .*/\1/p' <<<"$out" | head -n 1)
        if [ "$got" != "$want" ]; then
                echo "$method $*: got '$out'; want $want"
                return 1
        fi
        echo "$where $method $* -> ${out#Error: GDBus.Error:}"
        [ -z "${MSG:-}" ] || has "message" "$out" "$MSG" || return 1
        audited "$method" || return 0
        audit=$(tail -n "+$((before + 1))" "$LOG" | grep -F ': audit ' | tail -n 1)
        has "audit line" "$audit" "result=\"$want: " || return 1
        [ "$where" = admin ] || has "audit line" "$audit" "container=${where#host:} " || return 1
}

# ---- cgroupfs ----

# The hierarchies (directory names under /sys/fs/cgroup) where the group exists.
hierarchies_with() {
        local h out=()
        for h in "$CGROOT"/*/; do
                h=${h%/}
                [ -d "$h$1" ] && out+=("${h##*/}")
        done
        echo "${out[*]}"
}

# snapshot [SUB]: every group below $BASE/SUB in every hierarchy, with its limits and members.
snapshot() {
        local h g f
        for h in "$CGROOT"/*/; do
                [ -d "$h$BASE/${1:-}" ] || continue
                while read -r g; do
                        echo "${g#"$CGROOT"/}"
                        for f in memory.limit_in_bytes memory.memsw.limit_in_bytes pids.max cpu.cfs_quota_us \
                                 cpu.cfs_period_us cpu.shares cpuset.cpus freezer.state cgroup.freeze cgroup.procs; do
                                [ -r "$g/$f" ] && echo "  $f: $(tr '\n' ' ' <"$g/$f")"
                        done
                done < <(find "$h$BASE/${1:-}" -type d | sort)
        done
}

# refused NAME WHERE METHOD ARGS...: expect_error, and nothing below $BASE changed.
refused() {
        local before after
        before=$(snapshot "")
        expect_error "$@" || return 1
        after=$(snapshot "")
        [ "$before" = "$after" ] && return 0
        echo "cgroupfs changed:"
        diff <(echo "$before") <(echo "$after")
        return 1
}

# The ancestors of $BASE that do not exist yet in some hierarchy: Create=true will make them, and
# teardown takes them away again.
record_ancestors() {
        local h a path
        for h in "$CGROOT"/*/; do
                path=
                for a in $(tr '/' ' ' <<<"${BASE%/*}"); do
                        path=$path/$a
                        [ -d "${h%/}$path" ] || MADE_ANCESTORS+=("${h%/}$path")
                done
        done
}

remove_groups() {
        local h i
        for h in "$CGROOT"/*/; do
                [ -d "${h%/}$BASE" ] && find "${h%/}$BASE" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        for ((i = ${#MADE_ANCESTORS[@]} - 1; i >= 0; i--)); do
                rmdir "${MADE_ANCESTORS[$i]}" 2>/dev/null
        done
        no_leftovers >/dev/null
}

# Succeeds when nothing of ours is left in cgroupfs; prints what is.
no_leftovers() {
        local h a found=1
        for h in "$CGROOT"/*/; do
                [ -d "${h%/}$BASE" ] && { find "${h%/}$BASE" -type d; found=0; }
        done
        for a in "${MADE_ANCESTORS[@]}"; do
                [ -d "$a" ] && { echo "$a"; found=0; }
        done
        [ "$found" -ne 0 ]
}

# ---- simulated containers ----

write_container_scripts() {
        cat >"$T/cinit.sh" <<'EOF'
# pid 1 of a simulated container: cinit.sh T NAME BURN
set -e
T=$1 NAME=$2 BURN=$3
# Use up pid numbers, so that this container's pids differ from another's.
i=0
while [ "$i" -lt "$BURN" ]; do /bin/true; i=$((i + 1)); done
# Only in this mount namespace: the host's /run is never touched.
if [ -d /run/host ]; then
        mount -t tmpfs tmpfs /run/host
else
        mount -t tmpfs tmpfs /run
        mkdir /run/host
fi
mkdir /run/host/cgdelegate
mount --bind "$T/run/containers/$NAME" /run/host/cgdelegate
mount -o remount,bind,ro /run/host/cgdelegate
: >"$T/$NAME.mounted"
while [ ! -e "$T/$NAME.go" ]; do sleep 0.05; done
set +e
sleep 1000 &
sh "$T/forker.sh" "$T/$NAME.fifo" &
sleep 100000
EOF
        cat >"$T/forker.sh" <<'EOF'
# Blocks until the test writes to the FIFO, then tries to make eight children.
read -r x <"$1"
i=0
while [ "$i" -lt 8 ]; do sleep 1000 & i=$((i + 1)); done
wait
EOF
}

# container_start NAME [BURN]: the namespaces and their init, which waits to be made the leader.
container_start() {
        local name=$1 burn=${2:-0} u
        mkfifo "$T/$name.fifo" || return 1
        unshare --pid --fork --mount --cgroup --propagation private \
                sh "$T/cinit.sh" "$T" "$name" "$burn" >"$T/$name.log" 2>&1 </dev/null &
        u=$!
        UNSHARE[$name]=$u
        track "$u"
        wait_until 10 test -e "$T/$name.mounted" || { echo "$name did not start:"; cat "$T/$name.log"; return 1; }
        LEADER[$name]=$(children "$u")
        [ -n "${LEADER[$name]}" ] && [ "$(ns_pid "${LEADER[$name]}")" = 1 ] && track "${LEADER[$name]}"
}

workload_started() {
        SLEEP[$1]=$(child_running "${LEADER[$1]}" "sleep 1000") &&
                FORKER[$1]=$(child_running "${LEADER[$1]}" "sh $T/forker.sh $T/$1.fifo") &&
                child_running "${LEADER[$1]}" "sleep 100000" >/dev/null
}

# container_go NAME: after SetContainerLeader, the init starts the workload.
container_go() {
        : >"$T/$1.go"
        wait_until 10 workload_started "$1" || { echo "$1's workload did not start"; return 1; }
}

# ---- teardown ----

# Kills every process the test started, the daemon, and removes every group. Idempotent.
teardown() {
        local p name
        # A namespace's init takes every process of its namespace with it.
        for p in $(tracked_running); do
                kill -KILL "$p" 2>/dev/null
        done
        wait_until 5 none_running
        # Reap the test's own children (the others are not ours to wait for); a zombie keeps its
        # start time, a reused pid does not.
        for p in "${TRACKED[@]}"; do
                [ "$(start_time "${p%%:*}")" = "${p#*:}" ] && wait "${p%%:*}" 2>/dev/null
        done
        if [ -n "$DAEMON_PID" ] && alive "$DAEMON_PID"; then
                for name in $(containers_listed 2>/dev/null); do
                        admin_call UnregisterContainer 'sa{sv}' "$name" 1 RemoveCgroup b true >/dev/null 2>&1
                done
        fi
        daemon_stop TERM
        wait_until 5 remove_groups
}

cleanup() {
        [ -n "$T" ] || return 0
        teardown
        # Whatever reached stderr outside a test (bash's notes on killed jobs are expected).
        grep -v -e ' Killed ' -e '^$' "$T/stderr" 2>/dev/null | sed 's/^/# stderr: /'
        [ -z "${CGD_TEST_LOG:-}" ] || cp "$LOG" "$CGD_TEST_LOG" # the daemon's log, to look at afterwards
        no_leftovers >/dev/null || { echo "# cleanup: left behind:"; no_leftovers | sed 's/^/#   /'; }
        rm -rf "$T"
        T=
}
