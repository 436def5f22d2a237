#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash safety under load (issue #11). Three clients register containers (Create=true, a pids.max
# on the root), create groups and set pids.max and memory.max in them through the containers'
# own sockets, and unregister some (RemoveCgroup), while the daemon is killed with SIGKILL at a
# random moment (3..200 ms into each round) and started again on the same runtime and state
# directories, CGD_SOAK_KILLS times (200 by default). The clients keep a journal of what was
# acknowledged (a reply arrived) and what was in flight (sent, no reply). After each restart:
#
# - every container ListContainers shows has its socket, answering GetPolicy, and its root group
#   in every hierarchy of the container with the root pids.max its registration asked for: a
#   registration is whole or absent;
# - every acknowledged registration is listed, no acknowledged unregistration is, nothing else is;
# - residue, as docs/daemon.md defines what a registration leaves: the state directory holds
#   exactly NAME.state of the listed containers (no other file, temporary ones included),
#   RUNTIME_DIR/containers exactly their directories with only their socket inside, and below the
#   scratch group there is exactly NAME/ct of each listed container in every hierarchy (the root
#   made by Create and the ancestor NAME it made), and nothing in the others;
# - every acknowledged limit (the last acknowledged pids.max and memory.max of each group) is
#   what the kernel's file says; one in flight may be the old or the new value, nothing else;
# - groups a container made exist in every hierarchy of the container, or in none when the
#   CreateGroup was cut;
# - nothing outside the scratch group changed: its ancestors' control files read the same, and
#   no group of this test exists anywhere else.
#
# The seed is printed; CGD_SOAK_SEED=N repeats the kill moments and the clients' choices (thread
# timing still differs from run to run). Root, cgroup v1 pids and memory hierarchies (hybrid or
# legacy: their files are read); TAP. About 30 s on a 2-core machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
[ -e /sys/fs/cgroup/pids/cgroup.procs ] && [ -e /sys/fs/cgroup/memory/cgroup.procs ] ||
        { echo "1..0 # SKIP needs the cgroup v1 pids and memory hierarchies (it reads their files)"; exit 0; }
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import dbus' 2>/dev/null ||
        { echo "1..0 # SKIP needs /usr/bin/python3 with dbus (python3-dbus)"; exit 0; }
kills=${CGD_SOAK_KILLS:-200}
seed=${CGD_SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-crash-soak-$$"
scratch crash-soak "$G"
soak=''
# The soak's daemon is its child; by pid from its file, and only while that pid still runs our
# binary on our directories.
before_cleanup() {
        local p
        [ -n "$soak" ] && kill -KILL "$soak" 2>/dev/null && wait "$soak" 2>/dev/null
        p=$(cat "$t/daemon.pid" 2>/dev/null) || return 0
        { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF -- "--runtime-dir $t/run " && kill -KILL "$p"
        return 0
}

# The scratch group exists in every hierarchy before the daemon starts: the daemon then makes
# groups only below it (the ancestor NAME and the root NAME/ct of each container).
for h in /sys/fs/cgroup/*/; do
        [ -e "${h}cgroup.procs" ] && mkdir -p "$h${G#/}"
done
mkdir -p "$t/policies" "$t/run" "$t/state"

cat >"$t/soak.py" <<'EOF'
import os, random, signal, stat, subprocess, sys, threading, time
import dbus

DAEMON, T, G = os.environ["DAEMON"], os.environ["T"], os.environ["G"]
KILLS, SEED = int(os.environ["KILLS"]), int(os.environ["SEED"])
LANES, MAX_LIVE, MAX_GROUPS = 3, 4, 4
CG = "/sys/fs/cgroup"
RUN, STATE = T + "/run", T + "/state"
TAG = "cs%d-" % os.getpid()  # every container name: a group of this test anywhere else is found
MGR, CTR = "org.cgdelegate.Manager1", "org.cgdelegate.Container1"
MEM_UNLIMITED = 9223372036854771712  # memory.limit_in_bytes of "max" (v1, 4 KiB pages)
HIERS = sorted(h for h in os.listdir(CG) if os.path.exists("%s/%s/cgroup.procs" % (CG, h)))
KNOB_FILE = {"pids.max": ("pids", "pids.max"), "memory.max": ("memory", "memory.limit_in_bytes")}
INITIAL = {"pids.max": "max", "memory.max": "max"}
# What the daemon could write outside a container (it must not): limits, controllers, modes.
OUTSIDE_FILES = set("""pids.max memory.limit_in_bytes memory.memsw.limit_in_bytes memory.soft_limit_in_bytes
    memory.kmem.limit_in_bytes memory.swappiness memory.use_hierarchy cpu.shares cpu.cfs_quota_us cpu.cfs_period_us
    cpu.rt_runtime_us cpuset.cpus cpuset.mems cpuset.cpu_exclusive cpuset.mem_exclusive blkio.weight
    blkio.weight_device blkio.throttle.read_bps_device blkio.throttle.write_bps_device
    blkio.throttle.read_iops_device blkio.throttle.write_iops_device freezer.state devices.list
    cgroup.subtree_control cgroup.freeze cgroup.max.depth cgroup.max.descendants cgroup.type cgroup.clone_children
    notify_on_release release_agent memory.max memory.high memory.low memory.min memory.swap.max cpu.max cpu.weight
    io.max io.weight cpuset.cpus.partition""".split())


class Refused(Exception):
    pass


class Cut(Exception):
    pass


def call(conn, iface, method, sig="", args=(), timeout=5):
    try:
        return conn.call_blocking("org.cgdelegate", "/org/cgdelegate", iface, method, sig, args, timeout=timeout)
    except dbus.exceptions.DBusException as e:
        if (e.get_dbus_name() or "").startswith("org.cgdelegate.Error."):
            raise Refused("%s: %s" % (e.get_dbus_name(), e.get_dbus_message()))
        raise Cut(str(e))


def connect(path):
    try:
        return dbus.connection.Connection("unix:path=" + path)
    except dbus.exceptions.DBusException as e:
        raise Cut(str(e))


def kernel_value(key, rel):
    """The kernel's value of a v2 key on a host group, in the daemon's v2 form ("max" or a number)."""
    h, f = KNOB_FILE[key]
    try:
        with open("%s/%s%s/%s" % (CG, h, rel, f)) as fp:
            v = fp.read().strip()
    except OSError as e:
        return "<%s>" % e.strerror
    return "max" if key == "memory.max" and v == str(MEM_UNLIMITED) else v


def where(rel):
    """The hierarchies where host group rel exists."""
    return {h for h in HIERS if os.path.isdir("%s/%s%s" % (CG, h, rel))}


def listdir(p):
    try:
        return set(os.listdir(p))
    except FileNotFoundError:
        return set()


class Group:
    def __init__(self, path):
        self.path, self.state = path, "creating"  # creating (in flight or cut) -> made
        self.acked = dict(INITIAL)
        self.pending = {}


class Container:
    def __init__(self, name, root_pids):
        self.name, self.cgroup = name, "%s/%s/ct" % (G, name)
        self.state = "registering"  # -> registered -> unregistering -> gone
        self.root_pids = root_pids
        self.groups = {}
        self.dirty = False  # an unregistration was cut and it is still listed: its groups may be half gone


class Soak:
    def __init__(self):
        self.rng = random.Random(SEED)
        self.lock = threading.Condition()
        self.running, self.killed, self.finished, self.parked, self.generation = False, False, False, 0, 0
        self.containers = {}
        self.hiers = None  # the hierarchies a container spans (a probe registration shows them)
        self.proc = None
        self.stats = dict(registered=0, unregistered=0, groups=0, limits=0, cut=0)
        self.unexpected = []  # refusals and broken connections while the daemon was running
        self.failures = {}  # class -> [(kill, message)]
        self.seen = set()
        self.kill_no = 0
        self.context = {}  # kill -> what was going on
        self.round_cuts = []  # the calls of this round that got no reply
        self.log = open(T + "/daemon.log", "ab")

    # ---- the daemon ----

    def start(self):
        self.proc = subprocess.Popen([DAEMON, "--foreground", "--runtime-dir", RUN, "--state-dir", STATE,
                                      "--policy-dir", T + "/policies"], stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        with open(T + "/daemon.pid", "w") as f:
            f.write("%d\n" % self.proc.pid)
        end = time.monotonic() + 10
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                conn = connect(RUN + "/admin.socket")
                try:
                    return call(conn, MGR, "ListContainers", timeout=2)
                finally:
                    conn.close()
            except (Cut, Refused):
                time.sleep(0.01)
        return None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)  # not once it is reaped: the pid may name another process
        self.proc.wait()

    # ---- the clients ----

    def wait_turn(self, lane):
        with self.lock:
            if not self.running:
                self.parked += 1
                self.lock.notify_all()
                while not self.running and not self.finished:
                    self.lock.wait()
                self.parked -= 1
            if lane.generation != self.generation:
                lane.conns, lane.generation = {}, self.generation
            return not self.finished

    def cut(self, lane, what, err):
        """A call without a reply: in flight when the daemon was killed, else unexpected."""
        with self.lock:
            self.stats["cut"] += 1
            self.round_cuts.append(what)
            if not self.killed:
                self.unexpected.append("%s: connection broken while the daemon ran: %s" % (what, err))
        lane.conns = {}

    def refused(self, what, err):
        with self.lock:
            self.unexpected.append("%s: refused: %s" % (what, err))

    def pause(self):
        with self.lock:
            self.running = False
            while self.parked < LANES:
                self.lock.wait()

    def resume(self):
        with self.lock:
            self.generation += 1
            self.killed, self.running, self.round_cuts = False, True, []
            self.lock.notify_all()

    # ---- checks after a restart ----

    def fail(self, cls, msg, once=False):
        """A broken invariant; with once, a leftover that stays is reported only when first seen."""
        if once and (cls, msg) in self.seen:
            return
        self.seen.add((cls, msg))
        self.failures.setdefault(cls, []).append((self.kill_no, msg))

    def count(self, what):
        with self.lock:
            self.stats[what] += 1

    def check(self, listed):
        listed = {str(n): str(cg) for n, cg, _ in listed}
        self.check_registrations(listed)
        self.check_sockets(listed)
        self.check_residue(listed)
        self.check_limits(listed)
        self.check_outside()

    def check_registrations(self, listed):
        for name, cg in listed.items():
            c = self.containers.get(name)
            if not c:
                self.fail("registrations", "%s is listed but was never registered" % name)
            elif c.cgroup != cg:
                self.fail("registrations", "%s is listed with cgroup %s, registered with %s" % (name, cg, c.cgroup))
        for c in self.containers.values():
            on = c.name in listed
            if c.state == "registered" and not on:
                self.fail("registrations", "acknowledged registration of %s is not listed" % c.name)
            elif c.state == "gone" and on:
                self.fail("registrations", "%s is listed after its unregistration was acknowledged (or refused)"
                          % c.name)
            elif c.state == "registering":
                c.state = "registered" if on else "gone"
            elif c.state == "unregistering":
                c.state, c.dirty = ("registered", True) if on else ("gone", False)

    def check_sockets(self, listed):
        for name in listed:
            sock = "%s/containers/%s/socket" % (RUN, name)
            try:
                if not stat.S_ISSOCK(os.lstat(sock).st_mode):
                    raise OSError("not a socket")
                conn = connect(sock)
                call(conn, CTR, "GetPolicy", timeout=5)
                conn.close()
            except (OSError, Cut, Refused) as e:
                self.fail("sockets", "%s is listed but its socket does not answer: %s" % (name, e))

    def check_residue(self, listed):
        """Reported per item when first seen: a leftover stays until the end."""
        def compare(what, got, want):
            for x in sorted(got - want):
                self.fail("residue", "%s: %s is left behind" % (what, x), once=True)
            for x in sorted(want - got):
                self.fail("residue", "%s: %s is missing" % (what, x), once=True)

        def groups(d):
            return {x for x in listdir(d) if os.path.isdir(d + "/" + x)}

        names = set(listed)
        compare("state directory", listdir(STATE), {n + ".state" for n in names})
        compare("containers/", listdir(RUN + "/containers"), names)
        for n in names:
            compare("containers/" + n, listdir("%s/containers/%s" % (RUN, n)), {"socket"})
        for h in HIERS:
            want = names if h in self.hiers else set()
            compare("groups in %s%s" % (h, G), groups("%s/%s%s" % (CG, h, G)), want)
            for n in want:
                compare("groups in %s%s/%s" % (h, G, n), groups("%s/%s%s/%s" % (CG, h, G, n)), {"ct"})

    def check_limits(self, listed):
        for c in self.containers.values():
            if c.name not in listed:
                continue
            if where(c.cgroup) != self.hiers:
                self.fail("registrations", "%s is listed but its root exists only in %s" % (c.name, sorted(where(c.cgroup))))
            v = kernel_value("pids.max", c.cgroup)
            if v != c.root_pids:
                self.fail("limits", "%s: the root's pids.max is %s, its registration set %s" % (c.name, v, c.root_pids))
            for g in list(c.groups.values()):
                self.check_group(c, g)
            c.dirty = False

    def check_group(self, c, g):
        rel = c.cgroup + g.path
        has = where(rel)
        if has and has != self.hiers:
            if c.dirty:  # its removal was cut half way: the lane makes it again
                g.state = "creating"
                return
            self.fail("groups", "%s:%s exists only in %s (CreateGroup %s)"
                      % (c.name, g.path, sorted(has), "cut" if g.state == "creating" else "acknowledged"))
            g.state = "creating"  # the lane makes it again (mkdir -p completes it)
            return
        if not has:
            if g.state == "made" and not c.dirty:
                self.fail("limits", "%s:%s was made (acknowledged) and is gone, with its limits" % (c.name, g.path))
            del c.groups[g.path]
            return
        g.state = "made"
        for key in KNOB_FILE:
            v = kernel_value(key, rel)
            ok = {g.acked[key]} | ({g.pending[key]} if key in g.pending else set())
            if v not in ok:
                self.fail("limits", "%s:%s %s is %s; acknowledged %s%s" % (c.name, g.path, key, v, g.acked[key],
                          ", in flight %s" % g.pending[key] if key in g.pending else ""))
            g.acked[key] = v
        g.pending = {}

    def snapshot_outside(self):
        """The control files a cgroup manager writes, of the scratch group and its ancestors."""
        snap = {}
        parts = G.strip("/").split("/")
        for h in HIERS:
            for i in range(len(parts) + 1):
                d = "/".join(["%s/%s" % (CG, h)] + parts[:i])
                for f in sorted(listdir(d) & OUTSIDE_FILES):
                    try:
                        with open(d + "/" + f) as fp:
                            snap[d + "/" + f] = fp.read()
                    except OSError:
                        pass
        return snap

    def check_outside(self):
        now = self.snapshot_outside()
        for p in sorted(set(now) | set(self.outside)):
            if now.get(p) != self.outside.get(p):
                self.fail("outside", "%s changed: %r -> %r" % (p, self.outside.get(p), now.get(p)), once=True)
        for h in HIERS:
            for d, subdirs, _ in os.walk("%s/%s" % (CG, h)):
                if d == "%s/%s%s" % (CG, h, G):
                    subdirs[:] = []
                    continue
                for s in subdirs:
                    if s.startswith(TAG):
                        self.fail("outside", "a group of this test outside the scratch group: %s/%s" % (d, s), once=True)

    # ---- the run ----

    def run(self):
        self.outside = self.snapshot_outside()
        if self.start() is None:
            print("Bail out! the daemon did not start", flush=True)
            return 1
        # The hierarchies a container spans here: those where a registration makes its root.
        probe = TAG + "probe"
        try:
            admin = connect(RUN + "/admin.socket")
            call(admin, MGR, "RegisterContainer", "sssa{sv}", (probe, "%s/%s/ct" % (G, probe), "default",
                                                               {"Create": dbus.Boolean(True)}))
            self.hiers = where("%s/%s/ct" % (G, probe))
            call(admin, MGR, "UnregisterContainer", "sa{sv}", (probe, {"RemoveCgroup": dbus.Boolean(True)}))
            admin.close()
        except (Cut, Refused) as e:
            print("Bail out! cannot register a first container: %s" % e, flush=True)
            return 1
        lanes = [Lane(self, i) for i in range(LANES)]
        for lane in lanes:
            lane.start()
        restart_ms = []
        t0 = time.monotonic()
        for k in range(1, KILLS + 1):
            self.kill_no = k
            delay = self.rng.uniform(0.003, 0.2)
            self.resume()
            time.sleep(delay)
            if self.proc.poll() is not None:
                self.fail("restart", "the daemon exited by itself (status %s) before kill %d" % (self.proc.returncode, k))
            with self.lock:
                self.running, self.killed = False, True
            self.kill()
            self.pause()
            r0 = time.monotonic()
            listed = self.start()
            restart_ms.append((time.monotonic() - r0) * 1000)
            if listed is None:
                self.fail("restart", "kill %d: the daemon did not answer within 10 s after the restart" % k)
                break
            self.context[k] = "kill %d, %.0f ms into the round; cut: %s" % (k, delay * 1000,
                                                                           "; ".join(self.round_cuts) or "nothing")
            self.check(listed)
            if self.unexpected:
                break
        self.finished_at = time.monotonic() - t0
        with self.lock:
            self.finished = True
            self.lock.notify_all()
        for lane in lanes:
            lane.join()
        self.restart_ms = restart_ms
        self.final_ok, self.final_msg = self.teardown()
        return 0

    def teardown(self):
        """Every container unregistered with RemoveCgroup; nothing left; the daemon stopped."""
        msgs = []
        try:
            admin = connect(RUN + "/admin.socket")
            for n, _, _ in call(admin, MGR, "ListContainers"):
                try:
                    call(admin, MGR, "UnregisterContainer", "sa{sv}", (n, {"RemoveCgroup": dbus.Boolean(True)}))
                except (Cut, Refused) as e:
                    msgs.append("unregister %s: %s" % (n, e))
            left = call(admin, MGR, "ListContainers")
            if left:
                msgs.append("still listed: %s" % [str(x[0]) for x in left])
        except (Cut, Refused) as e:
            msgs.append("admin socket: %s" % e)
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
            msgs.append("the daemon did not stop on SIGTERM")
        left = listdir(STATE) | listdir(RUN + "/containers")
        for h in HIERS:
            left |= {"%s%s/%s" % (h, G, d) for d in listdir("%s/%s%s" % (CG, h, G)) if os.path.isdir("%s/%s%s/%s" % (CG, h, G, d))}
        if left:
            msgs.append("left behind: %s" % sorted(left))
        return not msgs, msgs


class Lane(threading.Thread):
    def __init__(self, soak, idx):
        super().__init__(daemon=True)
        self.soak, self.idx = soak, idx
        self.rng = random.Random(SEED * 31 + idx + 1)
        self.conns, self.generation, self.seq = {}, 0, 0
        self.mine = []
        self.doing = ""

    def conn(self, path):
        if path not in self.conns:
            self.conns[path] = connect(path)
        return self.conns[path]

    def admin(self, method, sig, args):
        return call(self.conn(RUN + "/admin.socket"), MGR, method, sig, args)

    def box(self, c, method, sig, args):
        return call(self.conn("%s/containers/%s/socket" % (RUN, c.name)), CTR, method, sig, args)

    def run(self):
        while self.soak.wait_turn(self):
            self.doing = ""
            try:
                self.step()
            except Cut as e:
                self.soak.cut(self, self.doing, e)
            except Refused as e:
                self.soak.refused(self.doing, e)
            self.doing = ""

    def step(self):
        live = [c for c in self.mine if c.state == "registered"]
        r = self.rng.random()
        if len(live) < 2 or (len(live) < MAX_LIVE and r < 0.15):
            return self.register()
        c = self.rng.choice(live)
        if r < 0.27:
            return self.unregister(c)
        made = [g for g in c.groups.values() if g.state == "made"]
        todo = [g for g in c.groups.values() if g.state != "made"]
        if todo:
            return self.create(c, todo[0].path)
        if not made or (len(c.groups) < MAX_GROUPS and r < 0.6):
            return self.create(c, "/g%d" % len(c.groups))
        self.set_limits(c, self.rng.choice(made))

    def register(self):
        self.seq += 1
        c = Container("%s%d-%d" % (TAG, self.idx, self.seq), str(self.rng.randint(100, 5000)))
        with self.soak.lock:
            self.soak.containers[c.name] = c
        self.mine.append(c)
        self.doing = "RegisterContainer %s" % c.name
        opts = {"Create": dbus.Boolean(True),
                "Properties": dbus.Array([dbus.Struct(("pids.max", c.root_pids), signature="ss")], signature="(ss)")}
        try:
            self.admin("RegisterContainer", "sssa{sv}", (c.name, c.cgroup, "default", opts))
        except Refused:
            c.state = "gone"  # a refused registration leaves nothing behind
            raise
        c.state = "registered"
        self.soak.count("registered")

    def unregister(self, c):
        c.state = "unregistering"
        self.doing = "UnregisterContainer %s" % c.name
        try:
            self.admin("UnregisterContainer", "sa{sv}", (c.name, {"RemoveCgroup": dbus.Boolean(True)}))
        except Refused:
            c.state = "registered"
            raise
        c.state = "gone"
        self.soak.count("unregistered")

    def create(self, c, path):
        g = c.groups.setdefault(path, Group(path))
        g.state = "creating"
        self.doing = "CreateGroup %s:%s" % (c.name, path)
        self.box(c, "CreateGroup", "sa{sv}", (path, {}))
        g.state = "made"
        self.soak.count("groups")

    def set_limits(self, c, g):
        g.pending = {"pids.max": str(self.rng.randint(10, 4000)), "memory.max": str(self.rng.randint(16, 1024) << 20)}
        self.doing = "SetProperties %s:%s %s" % (c.name, g.path, " ".join("%s=%s" % kv for kv in sorted(g.pending.items())))
        try:
            self.box(c, "SetProperties", "sa(ss)a{sv}", (g.path, sorted(g.pending.items()), {}))
        except Refused:
            g.pending = {}
            raise
        g.acked.update(g.pending)
        g.pending = {}
        self.soak.count("limits")


CLASSES = [
    ("restart", "the daemon came back after every kill, answering within 10 s"),
    ("sockets", "every listed container has its socket, and answers GetPolicy on it"),
    ("registrations", "every acknowledged registration is listed, none acknowledged-unregistered is, nothing else is; "
                      "each has its root in every hierarchy"),
    ("residue", "no half-registered residue: state files, socket directories and groups below the scratch group "
                "are exactly the listed containers'"),
    ("limits", "no limit lost: acknowledged pids.max and memory.max (and each root's registration pids.max) "
               "are in the kernel's files; in-flight ones old or new"),
    ("groups", "groups made through a container's socket exist in all of its hierarchies (a CreateGroup cut "
               "in some hierarchies only is completed at the restart)"),
    ("outside", "nothing outside the scratch group changed (its ancestors' control files; no group of the test elsewhere)"),
]


def main():
    s = Soak()
    if s.run():
        return 1
    n = 0
    print("1..%d" % (len(CLASSES) + 2))
    ms = sorted(s.restart_ms) or [0]
    print("# seed %d (CGD_SOAK_SEED=%d repeats it), %d kills in %.1f s, restart to answer: median %.0f ms, max %.0f ms"
          % (SEED, SEED, s.kill_no, s.finished_at, ms[len(ms) // 2], ms[-1]))
    print("# acknowledged: %(registered)d registrations, %(unregistered)d unregistrations, %(groups)d CreateGroup, "
          "%(limits)d SetProperties; %(cut)d calls cut by a kill" % s.stats)
    for cls, desc, *todo in CLASSES:
        n += 1
        bad = s.failures.get(cls, [])
        kills = sorted({k for k, _ in bad})
        print("%s %d - %d kills: %s%s" % ("not ok" if bad else "ok", n, s.kill_no, desc,
                                          " # TODO " + todo[0] if todo else ""))
        if bad:
            print("#   failed after %d of %d kills (%s%s); the first:" % (len(kills), s.kill_no,
                  " ".join(map(str, kills[:20])), " ..." if len(kills) > 20 else ""))
            print("#   " + s.context.get(kills[0], "kill %d" % kills[0]))
            for m in [m for k, m in bad if k == kills[0]][:10]:
                print("#     " + m)
    n += 1
    enough = s.kill_no >= KILLS and s.stats["registered"] >= KILLS and s.stats["limits"] >= KILLS
    ok = enough and not s.unexpected
    print("%s %d - the load ran: %d kills, every call answered while the daemon ran, at least one registration "
          "and one limit write per kill acknowledged" % ("ok" if ok else "not ok", n, s.kill_no))
    for m in s.unexpected[:10]:
        print("#   " + m)
    if not enough:
        print("#   kills %d of %d; acknowledged %s" % (s.kill_no, KILLS, s.stats))
    n += 1
    print("%s %d - at the end every container is unregistered with RemoveCgroup and nothing is left"
          % ("ok" if s.final_ok else "not ok", n))
    for m in s.final_msg:
        print("#   " + m)
    return 0


sys.exit(main())
EOF

start=$SECONDS
echo "# seed $seed, $kills kills (CGD_SOAK_SEED, CGD_SOAK_KILLS)"
DAEMON=$DAEMON T=$t G=$G KILLS=$kills SEED=$seed /usr/bin/python3 "$t/soak.py" >"$t/tap" 2>"$t/soak.err" &
soak=$!
wait "$soak"
rc=$?
soak=''
cat "$t/tap"
echo "# $((SECONDS - start)) s; the daemon undid $(grep -c 'registration was cut short' "$t/daemon.log") registrations" \
     "cut short and ended $(grep -c 'ended while the daemon was stopped' "$t/daemon.log") containers at a restart"
[ -z "${CGD_TEST_LOG:-}" ] || cp "$t/daemon.log" "$CGD_TEST_LOG" # the daemon's log, to look at afterwards
if [ -s "$t/soak.err" ] || [ "$rc" != 0 ]; then
        echo "# the soak script failed ($rc):"
        sed 's/^/#   /' "$t/soak.err" | tail -n 20
        exit 1
fi
if grep -v '# TODO ' "$t/tap" | grep -q '^not ok'; then
        echo "# the daemon's log, last lines:"
        tail -n 15 "$t/daemon.log" | sed 's/^/#   /'
        exit 1
fi
exit 0
