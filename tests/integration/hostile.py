# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The hostile client of tests/integration/test-hostile.sh: a D-Bus client written against the
# wire format itself (no libdbus, no sd-bus, no GLib), so that it can send what no D-Bus library
# would: strings with bytes that are not UTF-8, messages that lie about their size or their unix
# fds, 1 MiB arrays, options given twice, frames cut in half. Each group of cases below is a
# table (what is sent, and the D-Bus error name protocol/errors.md gives for it); a case passes
# when the daemon answers exactly that and cgroupfs is unchanged: every group below $CGD_BASE in
# every hierarchy with the values of the files the daemon writes, the release_agent of every v1
# hierarchy, and the values of $CGD_BASE's parent, compared before and after.
#
# Usage: hostile.py GROUP, or hostile.py count GROUP (how many TAP lines GROUP prints). The environment
# says where: CGD_SOCKET (the socket to attack), CGD_CGROOT, CGD_BASE (the parent of the
# containers' roots), CGD_C1 (the attacked container's root below CGD_BASE) and per group the
# pids and paths the shell prepared (CGD_* below). Prints "ok - ..." / "not ok - ..." lines (with
# "# TODO reason" for a known daemon bug) and "#" comments; test-hostile.sh numbers them.

import difflib
import errno
import os
import select
import socket
import struct
import sys
import time

ERR = 'org.cgdelegate.Error.'
# sd-bus's name for -EBADMSG: a string that is not UTF-8 or holds a NUL, an fd index past the fds.
INCONSISTENT = 'org.freedesktop.DBus.Error.InconsistentMessage'
OBJ, IFACE = '/org/cgdelegate', 'org.cgdelegate.Container1'
ENV = os.environ
TIMEOUT = 5.0

# ---- the wire format (D-Bus specification, "Message Format") ----

ALIGN = {'y': 1, 'g': 1, 'v': 1, 'n': 2, 'q': 2, 'b': 4, 'i': 4, 'u': 4, 'h': 4, 's': 4, 'o': 4, 'a': 4,
         'x': 8, 't': 8, 'd': 8, '(': 8, '{': 8}
FIXED = {'y': 'B', 'n': 'h', 'q': 'H', 'b': 'I', 'i': 'i', 'u': 'I', 'h': 'I', 'x': 'q', 't': 'Q', 'd': 'd'}


def one_type(sig, i=0):
    """The end of the single complete type starting at sig[i]."""
    c = sig[i]
    if c == 'a':
        return one_type(sig, i + 1)
    if c in '({':
        close = ')' if c == '(' else '}'
        j = i + 1
        while sig[j] != close:
            j = one_type(sig, j)
        return j + 1
    return i + 1


def types(sig):
    out, i = [], 0
    while i < len(sig):
        j = one_type(sig, i)
        out.append(sig[i:j])
        i = j
    return out


def raw(v):
    """Strings go out as given: bytes as they are, str as UTF-8."""
    return v if isinstance(v, bytes) else v.encode()


class Writer:
    def __init__(self, big=False):
        self.b = bytearray()
        self.e = '>' if big else '<'

    def pad(self, n):
        self.b += b'\0' * (-len(self.b) % n)

    def put(self, t, v):
        c = t[0]
        self.pad(ALIGN[c])
        if c in FIXED:
            self.b += struct.pack(self.e + FIXED[c], v)
        elif c in 'so':
            s = raw(v)
            self.b += struct.pack(self.e + 'I', len(s)) + s + b'\0'
        elif c == 'g':
            s = raw(v)
            self.b += struct.pack('B', len(s)) + s + b'\0'
        elif c == 'v':
            self.put('g', v[0])
            self.put(v[0], v[1])
        elif c == 'a':
            at = len(self.b)
            self.b += b'\0\0\0\0'
            self.pad(ALIGN[t[1]])
            start = len(self.b)
            items = v.items() if isinstance(v, dict) else v
            for item in items:
                self.put(t[1:], item)
            struct.pack_into(self.e + 'I', self.b, at, len(self.b) - start)
        elif c in '({':
            for sub, item in zip(types(t[1:-1]), v):
                self.put(sub, item)
        else:
            raise ValueError(t)

    def put_all(self, sig, args):
        for t, v in zip(types(sig), args):
            self.put(t, v)
        return bytes(self.b)


class Reader:
    def __init__(self, data, big=False, pos=0):
        self.d, self.p, self.e = data, pos, '>' if big else '<'

    def align(self, n):
        self.p += -self.p % n

    def get(self, t):
        c = t[0]
        self.align(ALIGN[c])
        if c in FIXED:
            f = self.e + FIXED[c]
            v = struct.unpack_from(f, self.d, self.p)[0]
            self.p += struct.calcsize(f)
            return v
        if c in 'so':
            n = struct.unpack_from(self.e + 'I', self.d, self.p)[0]
            s = self.d[self.p + 4:self.p + 4 + n]
            self.p += 5 + n
            return s.decode(errors='replace')
        if c == 'g':
            n = self.d[self.p]
            s = self.d[self.p + 1:self.p + 1 + n]
            self.p += 2 + n
            return s.decode()
        if c == 'v':
            sig = self.get('g')
            return (sig, self.get(sig))
        if c == 'a':
            n = struct.unpack_from(self.e + 'I', self.d, self.p)[0]
            self.p += 4
            self.align(ALIGN[t[1]])
            end, out = self.p + n, []
            while self.p < end:
                out.append(self.get(t[1:]))
            return dict(out) if t[1] == '{' else out
        if c in '({':
            return tuple(self.get(sub) for sub in types(t[1:-1]))
        raise ValueError(t)


# Header field codes.
F_PATH, F_IFACE, F_MEMBER, F_ERROR, F_REPLY_SERIAL, F_DEST, F_SENDER, F_SIG, F_FDS = range(1, 10)
FIELD_SIG = {F_PATH: 'o', F_IFACE: 's', F_MEMBER: 's', F_ERROR: 's', F_REPLY_SERIAL: 'u', F_DEST: 's',
             F_SENDER: 's', F_SIG: 'g', F_FDS: 'u'}


def message(serial, fields, body=b'', mtype=1, flags=0, big=False, endian=None, version=1, body_len=None):
    """A whole message; fields: [(code, value)] or [(code, sig, value)] to lie about a type."""
    w = Writer(big)
    w.b += struct.pack('cBBB', endian or (b'B' if big else b'l'), mtype, flags, version)
    w.b += struct.pack(w.e + 'II', len(body) if body_len is None else body_len, serial)
    w.put('a(yv)', [(f[0], (FIELD_SIG[f[0]], f[1]) if len(f) == 2 else (f[1], f[2])) for f in fields])
    w.pad(8)
    return bytes(w.b) + body


def call_message(serial, member, sig, args, iface=IFACE, path=OBJ, n_fds=0, big=False, body=None):
    if body is None:
        body = Writer(big).put_all(sig, args)
    fields = [(F_PATH, path), (F_IFACE, iface), (F_MEMBER, member)]
    if sig:
        fields.append((F_SIG, sig))
    if n_fds:
        fields.append((F_FDS, n_fds))
    return message(serial, fields, body, big=big)


def message_size(data):
    """The size of the message starting data (at least 16 bytes), from its header."""
    big = data[0:1] == b'B'
    body, fields = struct.unpack_from(('>' if big else '<') + 'I4xI', data, 4)
    return 16 + fields + (-fields % 8) + body


def parse_message(data):
    big = data[0:1] == b'B'
    mtype = data[1]
    r = Reader(data, big, 12)
    fields = dict(r.get('a(yv)'))
    r.align(8)
    sig = fields.get(F_SIG, ('g', ''))[1]
    body = []
    try:
        body = [r.get(t) for t in types(sig)]
    except (struct.error, IndexError, ValueError, UnicodeDecodeError):
        body = ['<undecodable body>']
    return mtype, {k: v[1] for k, v in fields.items()}, body


class Closed(Exception):
    pass


class Conn:
    """One connection: AUTH EXTERNAL as the caller's uid, unix fds negotiated, then calls."""

    def __init__(self, path=None, auth=True, fds=True, rcvbuf=None, warm=False):
        self.path = path or ENV['CGD_SOCKET']
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(TIMEOUT)
        self.s.connect(self.path)
        self.buf = b''
        self.serial = 0
        if auth:
            self.auth(fds)
        if warm:
            self.warm()

    def warm(self):
        """One call answered: from here on every message passes the daemon's size guard (the first
        one after BEGIN does not, docs/daemon.md)."""
        if self.call('Ping', iface='org.freedesktop.DBus.Peer')[0] != 'ok':
            raise Closed('Ping refused')

    def close(self):
        self.s.close()

    def send(self, data, fds=()):
        if fds:
            socket.send_fds(self.s, [data], list(fds))
        else:
            self.s.sendall(data)

    def fill(self, timeout=TIMEOUT):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(1 << 16)
        except ConnectionResetError:
            d = b''
        if not d:
            raise Closed()
        self.buf += d

    def line(self):
        while b'\r\n' not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line.decode(errors='replace')

    def auth(self, fds=True, uid=None):
        self.send(b'\0AUTH EXTERNAL ' + str(os.getuid() if uid is None else uid).encode().hex().encode() + b'\r\n')
        ok = self.line()
        if not ok.startswith('OK '):
            raise Closed('auth: ' + ok)
        if fds:
            self.send(b'NEGOTIATE_UNIX_FD\r\n')
            if self.line() != 'AGREE_UNIX_FD':
                raise Closed('no unix fds')
        self.send(b'BEGIN\r\n')

    def next_serial(self):
        self.serial += 1
        return self.serial

    def read_message(self, timeout=TIMEOUT):
        while len(self.buf) < 16 or len(self.buf) < message_size(self.buf):
            self.fill(timeout)
        n = message_size(self.buf)
        m, self.buf = self.buf[:n], self.buf[n:]
        return parse_message(m)

    def reply(self, serial, timeout=TIMEOUT):
        """('ok', body) or ('error', name, text); Closed when the daemon hung up."""
        while True:
            mtype, fields, body = self.read_message(timeout)
            if fields.get(F_REPLY_SERIAL) != serial:
                continue
            if mtype == 3:
                return ('error', fields.get(F_ERROR), body[0] if body else '')
            return ('ok', body)

    def call(self, member, sig='', args=(), fds=(), iface=IFACE, path=OBJ, n_fds=None, timeout=TIMEOUT):
        serial = self.next_serial()
        self.send(call_message(serial, member, sig, args, iface, path, len(fds) if n_fds is None else n_fds),
                  fds)
        return self.reply(serial, timeout)

    def closed_within(self, seconds):
        """True when the daemon closes the connection within seconds (what it sent is dropped)."""
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                self.fill(max(0.01, end - time.monotonic()))
        except Closed:
            return True
        except socket.timeout:
            return False
        return False


def outcome(r):
    """A reply as one word: 'ok', an error name, 'closed' or 'timeout'."""
    if r is None:
        return 'closed'
    return {'ok': 'ok', 'error': r[1] if len(r) > 1 else '', 'timeout': 'timeout'}[r[0]]


def attempt(conn_box, member, sig, args, fds=(), n_fds=None, timeout=TIMEOUT):
    """A call on the shared connection, reconnecting first if an earlier case had it cut off.
    None when the daemon hung up, ('timeout',) when it neither answered nor hung up."""
    try:
        if conn_box[0] is None:
            conn_box[0] = Conn(warm=True)
        return conn_box[0].call(member, sig, args, fds=fds, n_fds=n_fds, timeout=timeout)
    except (Closed, BrokenPipeError, ConnectionResetError, socket.timeout) as e:
        conn_box[0] and conn_box[0].close()
        conn_box[0] = None
        return ('timeout',) if isinstance(e, socket.timeout) else None


# ---- cgroupfs snapshots ----

CGROOT = ENV.get('CGD_CGROOT', '/sys/fs/cgroup')
BASE = ENV.get('CGD_BASE', '')
# The files the daemon writes (v1 and v2), and the kernel's own ones a container must never reach.
FILES = ('cgroup.procs', 'memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes',
         'memory.swappiness', 'memory.use_hierarchy', 'memory.oom_control', 'pids.max', 'cpu.cfs_quota_us',
         'cpu.cfs_period_us', 'cpu.shares', 'cpuset.cpus', 'cpuset.mems', 'cpuset.cpu_exclusive',
         'blkio.weight', 'blkio.bfq.weight', 'blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device',
         'blkio.throttle.read_iops_device', 'blkio.throttle.write_iops_device', 'freezer.state', 'devices.list',
         'notify_on_release', 'cgroup.clone_children', 'cgroup.freeze', 'cgroup.subtree_control',
         'cgroup.max.descendants', 'cgroup.max.depth', 'cgroup.type', 'release_agent')
# Names a traversal would make outside the tree; none may appear next to $CGD_BASE or at a
# hierarchy's root.
VOCAB = ('hostile-x', 'hostile-race', 'hostile-new', 'hostile-nosuch', 'app', 'hx', 'race', 'sys', '...')


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode(errors='replace').replace('\n', '|')
    except OSError as e:
        return '<%s>' % errno.errorcode.get(e.errno, e.errno)


def hierarchies():
    return sorted(h for h in os.listdir(CGROOT) if os.path.exists(f'{CGROOT}/{h}/cgroup.procs'))


def snapshot(skip=None):
    """Every group below BASE in every hierarchy with its values, the parent's values (its
    processes excepted: the test's own live there), every hierarchy's release_agent, and which
    VOCAB names sit next to BASE or at a hierarchy's root. skip(rel) leaves a subtree out."""
    out = []
    for h in hierarchies():
        root = f'{CGROOT}/{h}'
        out.append(f'{h}: release_agent={read(root + "/release_agent")}')
        parent = os.path.dirname(root + BASE)
        for d, label in ((root, '/'), (parent, 'parent')):
            try:
                names = set(os.listdir(d))
            except OSError:
                names = set()
            out.append(f'{h}: {label} has ' + ' '.join(sorted(names & set(VOCAB))))
        for f in FILES:
            if f not in ('cgroup.procs',) and os.path.exists(f'{parent}/{f}'):
                out.append(f'{h}: parent {f}={read(parent + "/" + f)}')
        for d, dirs, files in os.walk(root + BASE):
            dirs.sort()
            rel = d[len(root + BASE):] or '/'
            if skip and skip(h, rel):
                dirs[:] = []
                continue
            out.append(f'{h}:{rel}')
            present = set(files)
            for f in FILES:
                if f in present:
                    v = read(d + '/' + f)
                    if f == 'cgroup.procs':  # a process moved away and back comes last
                        v = '|'.join(sorted(v.strip('|').split('|'), key=lambda p: int(p or 0)))
                    out.append(f'  {f}={v}')
    return out


def diff(a, b):
    return [l for l in difflib.unified_diff(a, b, 'before', 'after', lineterm='', n=0)
            if not l.startswith('@@')][:30]


# ---- TAP ----

class Tap:
    def __init__(self):
        self.snap = None

    def line(self, ok, desc, notes=(), todo=None):
        print(('ok - ' if ok else 'not ok - ') + desc + (f' # TODO {todo}' if todo else ''))
        for n in notes if not ok or ENV.get('CGD_TEST_VERBOSE') else ():
            for part in str(n).splitlines() or ['']:
                print('#   ' + part)
        sys.stdout.flush()

    def unchanged(self, notes):
        """cgroupfs is as at the last snapshot; the snapshot moves on either way."""
        now = snapshot()
        d = diff(self.snap, now) if self.snap is not None and now != self.snap else []
        self.snap = now
        if d:
            notes.append('cgroupfs changed:')
            notes.extend(d)
        return not d


T = Tap()


def want_name(w):
    return w if '.' in w or w in ('ok', 'closed') else ERR + w


def check(desc, got, want, extra_ok=True, notes=None, unchanged=True, todo=None):
    """One TAP line: the outcome is want (an error name, 'ok' or 'closed') and cgroupfs did not
    change since the last case."""
    notes = list(notes or [])
    w = want_name(want)
    name = outcome(got)
    good = name == w
    if not good:
        notes.append(f'got {name}' + (f': {got[2]}' if got and got[0] == 'error' else '') + f'; want {w}')
    elif got and got[0] == 'error':
        notes.append(f'{name}: {got[2]}')
    good &= extra_ok
    if unchanged:
        good &= T.unchanged(notes)
    T.line(good, desc + f' -> {want}', notes, todo)
    return good


# ---- group: paths ----

LONG_NAME = 'a' * 256
PATHS_INVALID = [
    ('empty', ''),
    ("'..' (relative)", '..'),
    ("'app' (relative)", 'app'),
    ("'/.'", '/.'),
    ("'/..'", '/..'),
    ("'/../..'", '/../..'),
    ("'/a/../..'", '/a/../..'),
    ("'/../hostile-x'", '/../hostile-x'),
    ("'/app/../../c2'", '/app/../../c2'),
    ("'/a/./b'", '/a/./b'),
    ("'/a//b'", '/a//b'),
    ("'//'", '//'),
    ("'/app/' (trailing slash)", '/app/'),
    ("'/%2e%2e' (URL-escaped)", '/%2e%2e'),
    ("'/\\.\\.' (backslash-escaped dots)", '/\\.\\.'),
    ("'/\\x2' (short \\x escape)", '/\\x2'),
    ("'/\\xzz' (escape without hex)", '/\\xzz'),
    ("'/a b' (a blank)", '/a b'),
    ("'/a\\nb' (newline)", '/a\nb'),
    ("'/a\\tb' (tab)", '/a\tb'),
    ("'/\\x01' (a control byte)", '/\x01'),
    ("'/\\x7f' (DEL)", '/\x7f'),
    ("'/caf\u00e9' (UTF-8, not ASCII)", '/caf\u00e9'),
    ("'/\u2025' (a one-dot-leader look-alike of '..')", '/\u2025'),
    ("a 256-byte component", '/' + LONG_NAME),
    ("a 4200-byte path of short components", '/ab' * 1400),
    ("a 4096-byte path of 16 levels", '/' + ('b' * 255 + '/') * 15 + 'b' * 255),
    ("17 levels (MaxDepth=16)", '/d' * 17),
    ("'/cgroup.procs'", '/cgroup.procs'),
    ("'/app/cgroup.procs' (nested)", '/app/cgroup.procs'),
    ("'/cgroup.subtree_control'", '/cgroup.subtree_control'),
    ("'/cgroup.x' (cgroup. prefix)", '/cgroup.x'),
    ("'/tasks'", '/tasks'),
    ("'/release_agent'", '/release_agent'),
    ("'/app/notify_on_release'", '/app/notify_on_release'),
    ("'/memory.limit_in_bytes'", '/memory.limit_in_bytes'),
    ("'/pids.max'", '/pids.max'),
    ("'/devices.allow'", '/devices.allow'),
    ("'/freezer.state'", '/freezer.state'),
    ("'/cpuset.x'", '/cpuset.x'),
    ("'/blkio.x'", '/blkio.x'),
    ("'/io.x'", '/io.x'),
    ("'/hugetlb.x'", '/hugetlb.x'),
    ("'/net_cls.x'", '/net_cls.x'),
    ("'/irq.pressure'", '/irq.pressure'),
]
# Valid paths that name no group: the host's own paths among them are the container's relative
# paths, never the host's.
PATHS_MISSING = [
    ("'/hostile-nosuch'", '/hostile-nosuch'),
    ("'/app/hostile-nosuch'", '/app/hostile-nosuch'),
    ("the host path of c1's parent", BASE or '/x'),
    ("'/sys/fs/cgroup/memory' (an absolute host path)", '/sys/fs/cgroup/memory'),
    ("'/...' (three dots are a name)", '/...'),
    ("'/\\x2e\\x2e' (systemd's escape of '..': a name)", '/\\x2e\\x2e'),
    ("'/..\\x2f..' (systemd's escape of '../..': a name)", '/..\\x2f..'),
    ("a 255-byte component", '/' + 'a' * 255),
    ("a 4095-byte path of 16 levels", '/' + ('b' * 255 + '/') * 15 + 'b' * 254),
]


def sleep_pid():
    return int(ENV.get('CGD_SLEEP_NSPID', '0'))


# (method, signature, args for a path). MoveProcessFD gets a pidfd of c1's sleep; Kill sends
# SIGWINCH (ignored by default) so that even a wrong target would survive the test.
def path_methods():
    return [
        ('CreateGroup', 'sa{sv}', lambda p: (p, {})),
        ('RemoveGroup', 'sba{sv}', lambda p: (p, True, {})),
        ('SetProperties', 'sa(ss)a{sv}', lambda p: (p, [('pids.max', '7')], {})),
        ('GetProperties', 'sas', lambda p: (p, ['pids.max'])),
        ('ListGroups', 'sb', lambda p: (p, True)),
        ('MoveProcess', 'sua{sv}', lambda p: (p, sleep_pid(), {})),
        ('MoveProcessFD', 'sha{sv}', lambda p: (p, 0, {})),
        ('GetProcesses', 'sb', lambda p: (p, True)),
        ('Freeze', 'sa{sv}', lambda p: (p, {})),
        ('Thaw', 'sa{sv}', lambda p: (p, {})),
        ('Kill', 'sia{sv}', lambda p: (p, 28, {})),
    ]


def group_paths():
    box = [None]
    T.snap = snapshot()
    pidfd = os.pidfd_open(sleep_pid()) if sleep_pid() else -1
    for label, path in PATHS_INVALID:
        for method, sig, args in path_methods():
            fds = [pidfd] if method == 'MoveProcessFD' else ()
            check(f'path {label}: {method}', attempt(box, method, sig, args(path), fds), 'InvalidPath')
    for label, path in PATHS_MISSING:
        for method, sig, args in path_methods():
            if method == 'CreateGroup':
                continue
            fds = [pidfd] if method == 'MoveProcessFD' else ()
            check(f'path {label}, no such group: {method}', attempt(box, method, sig, args(path), fds), 'NotFound')


def count_paths():
    return len(PATHS_INVALID) * 11 + len(PATHS_MISSING) * 10


# ---- group: create (odd but valid names stay in the container's tree) ----

CREATE = [
    ("'/sys/fs/cgroup/memory' (an absolute host path)", '/sys/fs/cgroup/memory', '/sys'),
    ("the host path of c1's parent", BASE or '/x', '/' + (BASE or '/x').split('/')[1]),
    ("'/...'", '/...', '/...'),
    ("'/\\x2e\\x2e' (literally, not '..')", '/\\x2e\\x2e', '/\\x2e\\x2e'),
    ("'/..\\x2f..' (literally, not '../..')", '/..\\x2f..', '/..\\x2f..'),
    ("a 255-byte component", '/' + 'a' * 255, '/' + 'a' * 255),
    ("'/Cgroup.procs' (case differs from the kernel's file)", '/Cgroup.procs', '/Cgroup.procs'),
    ("'/TASKS'", '/TASKS', '/TASKS'),
    ("'/memory' (a controller's name without a dot)", '/memory', '/memory'),
]


def c1_hierarchies():
    c1 = ENV['CGD_C1']
    return [h for h in hierarchies() if os.path.isdir(f'{CGROOT}/{h}{BASE}/{c1}')]


def dir_lines(snap):
    return {l for l in snap if ':/' in l.split(' ')[0] and not l.startswith(' ')}


def without(snap, dirs):
    """snap without the groups in dirs and their values."""
    out, drop = [], False
    for l in snap:
        if not l.startswith(' '):
            drop = l in dirs
        if not drop:
            out.append(l)
    return out


def group_create():
    box = [None]
    c1 = ENV['CGD_C1']
    T.snap = snapshot()
    for label, path, top in CREATE:
        before = T.snap
        r = attempt(box, 'CreateGroup', 'sa{sv}', (path, {}))
        after = snapshot()
        parts = path.split('/')[1:]
        want = {f'{h}:/{c1}/' + '/'.join(parts[:i]) for h in c1_hierarchies() for i in range(1, len(parts) + 1)}
        new = dir_lines(after) - dir_lines(before)
        notes = [f'reply {r}'[:200], 'groups made: ' + ' '.join(sorted(new))[:400]]
        if new != want:
            notes.append('want: ' + ' '.join(sorted(want))[:400])
        rest = without(after, new)
        if rest != before:
            notes += ['changed besides:'] + diff(before, rest)
        T.line(r is not None and r[0] == 'ok' and r[1] == [1] and new == want and rest == before,
               f'create {label}: CreateGroup makes it below c1\'s root, in each of c1\'s hierarchies, nothing else', notes)
        r = attempt(box, 'RemoveGroup', 'sba{sv}', (top, True, {}))
        now = snapshot()
        notes = [f'reply {r}'[:200]] + ([] if now == before else ['not as before:'] + diff(before, now))
        T.line(outcome(r) == 'ok' and now == before,
               f'create {label}: RemoveGroup {top[:40]} (recursive) puts cgroupfs back as it was', notes)
        T.snap = now


def count_create():
    return 2 * len(CREATE)


# ---- group: keys (property keys and values) ----

KEYS = ['release_agent', 'notify_on_release', 'devices.allow', 'devices.deny', 'devices.list', 'cgroup.procs',
        'cgroup.threads', 'cgroup.subtree_control', 'cgroup.clone_children', 'cgroup.freeze', 'cgroup.kill',
        'cgroup.max.descendants', 'cgroup.type', 'tasks', 'memory.force_empty', 'memory.oom_control',
        'memory.kmem.limit_in_bytes', 'cpu.shares', 'cpuset.cpus.partition', 'io.cost.qos', '../pids.max',
        'pids.max/../..', '/pids.max', 'app/pids.max', '', 'pids.max=5', ' pids.max', 'pids.max ', 'PIDS.MAX',
        'pids.max\n', 'pids', 'memory.', 'x' * 300]
# (key, value, error) on /hx, a group of c1's.
VALUES = [
    ('pids.max', '100\n200', 'InvalidValue'),
    ('pids.max', '5\n', 'InvalidValue'),
    ('pids.max', '5\r', 'InvalidValue'),
    ('pids.max', '\x01', 'InvalidValue'),
    ('pids.max', '', 'InvalidValue'),
    ('pids.max', ' 5', 'InvalidValue'),
    ('pids.max', '5 ', 'InvalidValue'),
    ('pids.max', '-1', 'InvalidValue'),
    ('pids.max', '+5', 'InvalidValue'),
    ('pids.max', '0x10', 'InvalidValue'),
    ('pids.max', '1e3', 'InvalidValue'),
    ('pids.max', '010', 'InvalidValue'),
    ('pids.max', '\uff15', 'InvalidValue'),
    ('pids.max', '5 max', 'InvalidValue'),
    ('pids.max', '4194305', 'OutOfRange'),
    ('pids.max', '18446744073709551616', 'OutOfRange'),
    ('pids.max', '9' * 4095, 'OutOfRange'),
    ('pids.max', '9' * 4096, 'InvalidValue'),
    ('memory.max', '-1', 'InvalidValue'),
    ('memory.max', '1G\n0', 'InvalidValue'),
    ('memory.max', '18446744073709551615', 'OutOfRange'),
    ('memory.max', '99999999999999999999T', 'OutOfRange'),
    ('memory.max', '16777216T', 'OutOfRange'),
    ('cpu.max', '1000\n100000', 'InvalidValue'),
    ('cpu.max', 'max 100000 1', 'InvalidValue'),
    ('cpu.max', '999 100000', 'OutOfRange'),
    ('cpu.max', '-1 100000', 'InvalidValue'),
    ('cpu.weight', '0', 'OutOfRange'),
    ('cpu.weight', '10001', 'OutOfRange'),
    ('cpuset.cpus', '0\n1', 'InvalidValue'),
    ('cpuset.cpus', '1-0', 'InvalidValue'),
    ('cpuset.cpus', '4096', 'OutOfRange'),
    ('io.max', '8:0 rbps=1\n8:0 wbps=1', 'InvalidValue'),
    ('io.max', '4096:0 rbps=1', 'OutOfRange'),
    ('io.weight', '8:0 0', 'OutOfRange'),
]


def group_keys():
    box = [None]
    T.snap = snapshot()
    for key in KEYS:
        shown = repr(key) if len(key) < 40 else f'a {len(key)}-byte key'
        check(f'key {shown}: SetProperties /hx', attempt(box, 'SetProperties', 'sa(ss)a{sv}',
                                                            ('/hx', [(key, '1')], {})), 'InvalidProperty')
    for key in ('release_agent', 'cgroup.procs', '../pids.max', '', 'devices.list'):
        check(f'key {key!r}: SetProperties / (the root)', attempt(box, 'SetProperties', 'sa(ss)a{sv}',
                                                                    ('/', [(key, '1')], {})), 'InvalidProperty')
    for key in ('release_agent', 'notify_on_release', 'tasks', '../pids.max', '', 'devices.list', 'cgroup.procs'):
        check(f'key {key!r}: GetProperties /hx', attempt(box, 'GetProperties', 'sas', ('/hx', [key])),
              'InvalidProperty')
    for key, value, err in VALUES:
        shown = repr(value) if len(value) < 40 else f'{value[0]!r} x {len(value)}'
        check(f'value {key}={shown}: SetProperties /hx', attempt(box, 'SetProperties', 'sa(ss)a{sv}',
                                                                  ('/hx', [(key, value)], {})), err)
    # A valid pair before a bad one: nothing is written (validate all, then apply).
    check('values: pids.max=3 then release_agent=/bin/sh in one request: SetProperties /hx',
          attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', '3'), ('release_agent', '/bin/sh')], {})),
          'InvalidProperty')
    check('values: pids.max=3 then pids.max=100\\n200: SetProperties /hx',
          attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', '3'), ('pids.max', '100\n200')], {})),
          'InvalidValue')
    check('values: 65 pairs (pids.max each): SetProperties /hx',
          attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', '3')] * 65, {})), 'InvalidValue')
    check('values: 64 pairs (the same key twice): SetProperties /hx',
          attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', '3')] * 64, {})), 'InvalidValue')
    check('keys: 65 keys: GetProperties /hx', attempt(box, 'GetProperties', 'sas', ('/hx', ['pids.max'] * 65)),
          'InvalidValue')
    # D-Bus strings cannot hold a NUL: sd-bus refuses the message before the daemon reads the pair.
    check("values: pids.max='5\\0\\n200' (a NUL, sent raw): SetProperties /hx",
          attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', b'5\0\n200')], {})), INCONSISTENT)
    check("keys: 'pids.max\\0release_agent' (a NUL, sent raw): SetProperties /hx",
          attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [(b'pids.max\0release_agent', '5')], {})), INCONSISTENT)


def count_keys():
    return len(KEYS) + 5 + 7 + len(VALUES) + 7


# ---- group: options and signals ----

OPTIONS = [
    ('CreateGroup with RemoveOnEmpty given twice', 'CreateGroup', 'sa{sv}',
     ('/hostile-new', [('RemoveOnEmpty', ('b', 0)), ('RemoveOnEmpty', ('b', 0))]), 'InvalidValue'),
    ("CreateGroup with RemoveOnEmpty of type 's'", 'CreateGroup', 'sa{sv}',
     ('/hostile-new', {'RemoveOnEmpty': ('s', 'false')}), 'InvalidValue'),
    ("CreateGroup with RemoveOnEmpty as a variant in a variant", 'CreateGroup', 'sa{sv}',
     ('/hostile-new', {'RemoveOnEmpty': ('v', ('b', 0))}), 'InvalidValue'),
    ('CreateGroup with the admin option Create', 'CreateGroup', 'sa{sv}',
     ('/hostile-new', {'Create': ('b', 1)}), 'InvalidValue'),
    ('CreateGroup with the admin option LeaderFD', 'CreateGroup', 'sa{sv}',
     ('/hostile-new', {'LeaderFD': ('u', 0)}), 'InvalidValue'),
    ('CreateGroup with an option named ""', 'CreateGroup', 'sa{sv}', ('/hostile-new', {'': ('b', 1)}), 'InvalidValue'),
    ('CreateGroup with 60 unknown options', 'CreateGroup', 'sa{sv}',
     ('/hostile-new', {f'o{i}': ('b', 1) for i in range(60)}), 'InvalidValue'),
    ('SetProperties /hx with the admin option Properties (release_agent)', 'SetProperties', 'sa(ss)a{sv}',
     ('/hx', [('pids.max', '3')], {'Properties': ('a(ss)', [('release_agent', '/bin/sh')])}), 'InvalidValue'),
    ("SetProperties /hx with AllowBelowUsage of type 'u'", 'SetProperties', 'sa(ss)a{sv}',
     ('/hx', [('pids.max', '3')], {'AllowBelowUsage': ('u', 1)}), 'InvalidValue'),
    ('MoveProcess with the option SocketUID', 'MoveProcess', 'sua{sv}',
     ('/hx', 1, {'SocketUID': ('u', 0)}), 'InvalidValue'),
    ('Kill /hx with signal -1', 'Kill', 'sia{sv}', ('/hx', -1, {}), 'InvalidValue'),
    ('Kill /hx with signal 65', 'Kill', 'sia{sv}', ('/hx', 65, {}), 'InvalidValue'),
    ('Kill /hx with signal 2^31-1', 'Kill', 'sia{sv}', ('/hx', 2 ** 31 - 1, {}), 'InvalidValue'),
    ('Kill /hx with signal -2^31', 'Kill', 'sia{sv}', ('/hx', -2 ** 31, {}), 'InvalidValue'),
    ('RemoveGroup / recursive', 'RemoveGroup', 'sba{sv}', ('/', True, {}), 'AccessDenied'),
    ('SetProperties / pids.max=1 (AllowRootWrites=no)', 'SetProperties', 'sa(ss)a{sv}',
     ('/', [('pids.max', '1')], {}), 'AccessDenied'),
    ('Peer.GetMachineId', None, None, None, 'AccessDenied'),
    ('a Manager1 method (RegisterContainer) on the container socket', 'RegisterContainer', 'sssa{sv}',
     ('x', '/', 'default', {}), 'org.freedesktop.DBus.Error.UnknownMethod'),
    ('ListGroups with signature "s"', 'ListGroups', 's', ('/',), 'org.freedesktop.DBus.Error.InvalidArgs'),
]


def group_options():
    box = [None]
    T.snap = snapshot()
    for desc, method, sig, args, want in OPTIONS:
        if method is None:
            if box[0] is None:
                box[0] = Conn()
            r = box[0].call('GetMachineId', iface='org.freedesktop.DBus.Peer')
        elif method == 'RegisterContainer':
            if box[0] is None:
                box[0] = Conn()
            r = box[0].call(method, sig, args, iface='org.cgdelegate.Manager1')
        else:
            r = attempt(box, method, sig, args)
        check('options: ' + desc, r, want)


def count_options():
    return len(OPTIONS)


# ---- group: pids ----

def group_pids():
    """CGD_PIDS: 'desc|pid|error|hostpid-that-must-stay-put' entries separated by ';'."""
    box = [None]
    T.snap = snapshot()
    for entry in ENV['CGD_PIDS'].split(';'):
        desc, pid, want, stay = (entry.split('|') + ['', '', '', ''])[:4]
        if not pid.isdigit():
            T.line(False, f'pids: MoveProcess /hx of {desc}: its setup failed, no pid')
            continue
        before = read(f'/proc/{stay}/cgroup') if stay else ''
        r = attempt(box, 'MoveProcess', 'sua{sv}', ('/hx', int(pid), {}))
        after = read(f'/proc/{stay}/cgroup') if stay else ''
        good, notes = before == after, [] if before == after else [f'process {stay} moved: {before} -> {after}']
        if want == 'ok':
            # c1's own process: it went to /hx (memory hierarchy), and goes back to / for the snapshot.
            leader = ENV['CGD_C1_LEADER']
            moved = [l for l in read(f'/proc/{leader}/cgroup').split('|') if ':memory:' in l]
            good &= bool(moved) and moved[0].endswith(f'/{ENV["CGD_C1"]}/hx')
            notes.append(f'c1\'s init (host pid {leader}) in {moved}')
            attempt(box, 'MoveProcess', 'sua{sv}', ('/', int(pid), {}))
        check(f'pids: MoveProcess /hx of {desc} (pid {pid})', r, want, good, notes)


# ---- group: fds (MoveProcessFD with fds that are not the container's pidfds) ----

def fd_cases():
    """(description, a function making the fd)."""
    sup = int(ENV.get('CGD_SUPERVISOR', '0'))
    zombie = int(ENV.get('CGD_ZOMBIE', '0'))
    outside = int(ENV.get('CGD_OUTSIDE', '0'))
    c1_sleep = int(ENV.get('CGD_SLEEP_HOSTPID', '0'))
    tmp = ENV.get('CGD_TMP', '/tmp')
    keep = {}

    def reaped():
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        fd = os.pidfd_open(pid)
        os.waitpid(pid, 0)
        return fd

    def sock():
        a, b = socket.socketpair()
        fd = os.dup(a.fileno())
        a.close()
        b.close()
        return fd

    return [
        ('a regular file', lambda: os.open(f'{tmp}/hostile-file', os.O_RDWR | os.O_CREAT, 0o600)),
        ('a socket', sock),
        ('/dev/null', lambda: os.open('/dev/null', os.O_RDONLY)),
        ('an O_PATH fd of /', lambda: os.open('/', os.O_PATH)),
        ("an O_PATH fd of c1's sleep's /proc directory", lambda: os.open(f'/proc/{c1_sleep}', os.O_PATH)),
        ("an O_DIRECTORY fd of c1's sleep's /proc directory (pidfd_send_signal takes these)",
         lambda: os.open(f'/proc/{c1_sleep}', os.O_RDONLY | os.O_DIRECTORY)),
        ('a memfd', lambda: os.memfd_create('hostile')),
        ('an eventfd', lambda: os.eventfd(0)),
        ('an epoll fd', lambda: os.dup(keep.setdefault('epoll', select.epoll()).fileno())),
        ('a pidfd of the host\'s pid 1', lambda: os.pidfd_open(1)),
        ('a pidfd of the daemon', lambda: os.pidfd_open(int(ENV['CGD_DAEMON_PID']))),
        ('a pidfd of the runtime\'s supervisor (a host process in c1\'s root)', lambda: os.pidfd_open(sup)),
        ('a pidfd of a process in c1\'s pid namespace but outside its tree', lambda: os.pidfd_open(outside)),
        ('a pidfd of a zombie of c1', lambda: os.pidfd_open(zombie)),
        ('a pidfd of a process that exited and was reaped', reaped),
    ]


def group_fds():
    box = [None]
    T.snap = snapshot()
    for desc, make in fd_cases():
        fd = make()
        r = attempt(box, 'MoveProcessFD', 'sha{sv}', ('/hx', 0, {}), fds=[fd])
        os.close(fd)
        check(f'fds: MoveProcessFD /hx with {desc}', r, 'NoSuchProcess')
    # The message says unix fds come with it and the index points past them.
    fd = os.open('/dev/null', os.O_RDONLY)
    r = attempt(box, 'MoveProcessFD', 'sha{sv}', ('/hx', 1, {}), fds=[fd])
    os.close(fd)
    check('fds: MoveProcessFD /hx with fd index 1 of 1 fd', r, INCONSISTENT)
    r = attempt(box, 'MoveProcessFD', 'sha{sv}', ('/hx', 0, {}), fds=(), n_fds=0)
    check('fds: MoveProcessFD /hx with fd index 0 and no fds', r, INCONSISTENT)


def count_fds():
    return 15 + 2


# ---- group: oversized messages ----

def daemon_rss_kib():
    for line in read(f'/proc/{ENV["CGD_DAEMON_PID"]}/status').split('|'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return -1


def sized_call(total):
    """A GetProperties of exactly total bytes: a long path, and a key that ends the message."""
    def build(v):
        return call_message(1, 'GetProperties', 'sas', ('/' + 'p' * 5000, ['k' * v]))
    m = build(total - len(build(0)))
    assert len(m) == total, (len(m), total)
    return m


def send_raw_and_reply(data, timeout=TIMEOUT):
    c = Conn(warm=True)
    try:
        c.send(data)
        return c.reply(1, timeout)
    except (Closed, BrokenPipeError, ConnectionResetError, socket.timeout):
        return None
    finally:
        c.close()


def group_oversize():
    box = [None]
    T.snap = snapshot()
    mib = 'p' * (1 << 20)
    cases = [
        ('SetProperties /hx with 10,000 pairs (240 KB)', 'SetProperties', 'sa(ss)a{sv}',
         ('/hx', [('pids.max', '3')] * 10000, {}), 'closed'),
        ('SetProperties /hx with 1,000 pairs (under 64 KiB)', 'SetProperties', 'sa(ss)a{sv}',
         ('/hx', [('pids.max', '3')] * 1000, {}), 'InvalidValue'),
        ('SetProperties with a 1 MiB path', 'SetProperties', 'sa(ss)a{sv}', ('/' + mib, [], {}), 'closed'),
        ('SetProperties /hx with a 1 MiB value', 'SetProperties', 'sa(ss)a{sv}',
         ('/hx', [('pids.max', mib)], {}), 'closed'),
        ('SetProperties /hx with a 60,000-byte value', 'SetProperties', 'sa(ss)a{sv}',
         ('/hx', [('pids.max', '9' * 60000)], {}), 'InvalidValue'),
        ('CreateGroup with a 60,000-byte path', 'CreateGroup', 'sa{sv}', ('/' + 'p' * 60000, {}), 'InvalidPath'),
        ('GetProperties /hx with 100,000 keys', 'GetProperties', 'sas', ('/hx', ['pids.max'] * 100000), 'closed'),
        ('GetProperties /hx with 1,000 keys (under 64 KiB)', 'GetProperties', 'sas', ('/hx', ['pids.max'] * 1000),
         'InvalidValue'),
        ('CreateGroup with 10,000 options', 'CreateGroup', 'sa{sv}',
         ('/hostile-new', {f'o{i}': ('b', 1) for i in range(10000)}), 'closed'),
    ]
    for desc, method, sig, args, want in cases:
        check('oversize: ' + desc, attempt(box, method, sig, args, timeout=10), want)
    check('oversize: a message of exactly 64 KiB is read (its path is refused)', send_raw_and_reply(sized_call(65536)),
          'InvalidPath')
    check('oversize: a message of 64 KiB + 1 byte is cut off unread', send_raw_and_reply(sized_call(65537)),
          'closed')
    # A header that announces 100 MiB, and nothing after it: cut off at once, nothing allocated,
    # and another client is served meanwhile.
    rss = daemon_rss_kib()
    c = Conn(warm=True)
    c.send(message(1, [(F_PATH, OBJ), (F_IFACE, IFACE), (F_MEMBER, 'ListGroups'), (F_SIG, 'sb')],
                   body_len=100 << 20))
    other = Conn()
    served = outcome(other.call('GetPolicy')) == 'ok'
    other.close()
    cut = c.closed_within(2)
    c.close()
    grown = daemon_rss_kib() - rss
    check('oversize: a header announcing a 100 MiB body, the body never sent: cut off within 2 s, another '
          'client served meanwhile, the daemon grew < 1 MiB', None if cut else ('ok', []), 'closed',
          served and grown < 1024, [f'another client served: {served}; the daemon grew {grown} KiB'])
    c = Conn(warm=True)
    c.send(message(1, [(F_PATH, OBJ), (F_IFACE, IFACE), (F_MEMBER, 'ListGroups'), (F_SIG, 'sb')],
                   body_len=0xffffffff)[:16])
    check('oversize: a header announcing a 4 GiB body: cut off', None if c.closed_within(2) else ('ok', []), 'closed')
    c.close()


def count_oversize():
    return 9 + 4


def group_oversize_gap():
    """The first message after BEGIN, sent on its own: checked by the size guard when the guard saw
    BEGIN; counted per read when sd-bus read BEGIN with bytes that came after the guard's peek
    (docs/daemon.md, "Limits on clients"). One TAP line, a TODO for the second case."""
    c = Conn()
    time.sleep(0.2)  # BEGIN is read alone
    try:
        c.send(call_message(1, 'SetProperties', 'sa(ss)a{sv}', ('/' + 'p' * (1 << 20), [], {})))
        r = c.reply(1, 10)
    except (Closed, BrokenPipeError, ConnectionResetError, socket.timeout):
        r = None
    c.close()
    check('oversize: a 1 MiB first message sent after BEGIN in a write of its own is cut off unread', r, 'closed',
          unchanged=False, todo='when sd-bus reads BEGIN together with bytes that came after the guard\'s peek, '
          'the first message is counted per read instead (server.c): one read may take it whole')


# ---- group: raw frames ----

def hexuid(uid):
    return str(uid).encode().hex().encode()


def frame_result(received):
    """(authenticated, [parsed replies]) from what the daemon sent."""
    buf, authed, replies = received, False, []
    while buf and buf[0:1] not in (b'l', b'B') and b'\r\n' in buf:
        line, buf = buf.split(b'\r\n', 1)
        authed |= line.startswith(b'OK ')
    while len(buf) >= 16 and len(buf) >= message_size(buf):
        n = message_size(buf)
        replies.append(parse_message(buf[:n]))
        buf = buf[n:]
    return authed, replies


def frame_send(data, want, warm=False, seconds=3):
    """Sends data on a new connection (warm: after authenticating and one answered call) and says
    what came of it, in the words of want: 'closed' (cut off, nothing answered), 'noauth' (never
    authenticated, nothing answered), 'served' (a ListGroups / answered), 'hangup' (the client
    hung up at once), or an error name."""
    if warm:
        c = Conn(warm=True)
        s, received = c.s, c.buf
    else:
        s, received = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), b''
        s.connect(ENV['CGD_SOCKET'])
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    if want == ('hangup',):
        s.close()
        return 'hangup', ''
    s.settimeout(0.2)
    closed, end = False, time.monotonic() + seconds
    while not closed and time.monotonic() < end:
        try:
            d = s.recv(65536)
            closed = not d
            received += d
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
        if len(frame_result(received)[1]) >= (2 if 'served2' in want else 1) and 'closed' not in want:
            break
    s.close()
    authed, replies = frame_result(received)
    names = [f.get(F_ERROR) or ('reply ' + str(body)[:60]) for t, f, body in replies]
    note = f'authenticated: {authed}, answers: {names}, ' + ('closed' if closed else 'open')
    served = sum(t == 2 and '/hx' in str(body) for t, f, body in replies)
    if served:
        return ('served2' if served > 1 and 'served2' in want else 'served'), note
    errors = [f.get(F_ERROR) for t, f, body in replies if t == 3]
    if errors:
        return errors[0], note
    if not warm and not authed:
        return ('closed' if closed and 'closed' in want else 'noauth'), note
    return ('closed' if closed else 'open'), note


LG_FIELDS = [(F_PATH, OBJ), (F_IFACE, IFACE), (F_MEMBER, 'ListGroups'), (F_SIG, 'sb')]
LG_BODY = Writer().put_all('sb', ('/', False))


def frame_cases():
    """(description, warm, bytes, acceptable outcomes, todo)."""
    uid = os.getuid()
    auth = b'\0AUTH EXTERNAL ' + hexuid(uid) + b'\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n'
    hdr = message(1, LG_FIELDS, LG_BODY)
    good = call_message(9, 'ListGroups', 'sb', ('/', False))
    noise = bytes((i * 7919 + 13) % 256 for i in range(4096))
    either = ('served', 'closed')  # sd-bus drops what it cannot parse, or hangs up
    return [
        # Before authentication.
        ('garbage before AUTH (an HTTP request)', False, b'GET / HTTP/1.1\r\nHost: x\r\n\r\n', ('closed',), None),
        ('1000 NUL bytes', False, b'\0' * 1000, ('noauth', 'closed'), None),
        ('AUTH without the leading NUL byte', False, b'AUTH EXTERNAL ' + hexuid(uid) + b'\r\nBEGIN\r\n' + good,
         ('closed',), None),
        ("AUTH EXTERNAL claiming uid 65534 (not the peer's), BEGIN, a call", False,
         b'\0AUTH EXTERNAL ' + hexuid(65534) + b'\r\nBEGIN\r\n' + good, ('noauth', 'closed'), None),
        ("AUTH EXTERNAL claiming uid '00', BEGIN, a call", False,
         b'\0AUTH EXTERNAL ' + b'00'.hex().encode() + b'\r\nBEGIN\r\n' + good, ('noauth', 'closed'), None),
        ('AUTH ANONYMOUS, BEGIN, a call', False, b'\0AUTH ANONYMOUS\r\nBEGIN\r\n' + good, ('noauth', 'closed'), None),
        ('BEGIN and a call without AUTH', False, b'\0BEGIN\r\n' + good, ('noauth', 'closed'), None),
        ('an 8 KiB AUTH line without its end', False, b'\0AUTH EXTERNAL ' + b'3' * 8192, ('noauth', 'closed'), None),
        ('AUTH and, in the same write, a header announcing a 100 MiB body', False,
         auth + message(1, LG_FIELDS, body_len=100 << 20), ('closed',), None),
        ('AUTH and, in the same write, two calls', False, auth + hdr + good, ('served2',), None),
        ('AUTH and, in the same write, a method return nobody asked for and a call', False,
         auth + message(1, [(F_REPLY_SERIAL, 77)], mtype=2) + good, ('served',), None),
        # After authentication and one answered call: the size guard reads every header.
        ('1000 NUL bytes', True, b'\0' * 1000, ('closed',), None),
        ("a header with endianness byte 'X'", True, b'X' + hdr[1:], ('closed',), None),
        ('a header announcing a 100 MiB body', True, message(1, LG_FIELDS, body_len=100 << 20), ('closed',), None),
        ('a big-endian header announcing a 100 MiB body', True, message(1, LG_FIELDS, big=True, body_len=100 << 20),
         ('closed',), None),
        ('a header whose field array is 2^31 bytes', True, hdr[:12] + struct.pack('<I', 1 << 31), ('closed',), None),
        ('a sane fixed header, 4 KiB of noise, a call', True, hdr[:12] + struct.pack('<I', 200) + noise + good, either,
         None),
        ('a message of protocol version 2, a call', True, message(1, LG_FIELDS, LG_BODY, version=2) + good, either,
         None),
        ('a message of type 0, a call', True, message(1, LG_FIELDS, LG_BODY, mtype=0) + good, either, None),
        ('a method call without a member, a call', True, message(1, LG_FIELDS[:1] + LG_FIELDS[3:], LG_BODY) + good,
         either, None),
        ('a path field of type s, a call', True,
         message(1, [(F_PATH, 's', 'not/an object path')] + LG_FIELDS[1:], LG_BODY) + good, either, None),
        ('a message declaring 1 unix fd and sending none, a call', True,
         call_message(1, 'MoveProcessFD', 'sha{sv}', ('/hx', 0, {}), n_fds=1) + good, either, None),
        ('a body shorter than its signature', True, message(1, LG_FIELDS, b'\0\0\0\0'), (INCONSISTENT, 'closed'), None),
        ("a path '/\\xff\\xfe' (not UTF-8)", True, call_message(1, 'ListGroups', 'sb', (b'/\xff\xfe', False)),
         (INCONSISTENT,), None),
        ("a path '/app\\0/../..' (a NUL inside)", True, call_message(1, 'ListGroups', 'sb', (b'/app\0/../..', False)),
         (INCONSISTENT,), None),
        ('a string without its terminating NUL', True,
         message(1, LG_FIELDS, struct.pack('<I', 1) + b'/x\0\0' + struct.pack('<I', 0)), (INCONSISTENT,), None),
        ('a method return nobody asked for, a call', True, message(1, [(F_REPLY_SERIAL, 77)], mtype=2) + good,
         ('served',), None),
        ('a signal, a call', True, message(1, [(F_PATH, OBJ), (F_IFACE, IFACE), (F_MEMBER, 'GroupEmpty'), (F_SIG, 's')],
                                           Writer().put_all('s', ('/',)), mtype=4) + good, ('served',), None),
        ('a big-endian call (valid D-Bus)', True, call_message(2, 'ListGroups', 'sb', ('/', False), big=True),
         ('served',), None),
        ('half a header, then a hangup', True, hdr[:9], ('hangup',), None),
        ('half a message body, then a hangup', True, hdr[:-3], ('hangup',), None),
    ]


def group_frames():
    T.snap = snapshot()
    # A header cut in half, then silence: cut off after 5 s (checked last).
    slow = Conn(warm=True)
    slow.send(message(1, LG_FIELDS, LG_BODY)[:9])
    slow_since = time.monotonic()
    for desc, warm, data, want, todo in frame_cases():
        got, note = frame_send(data, want, warm)
        c = Conn()
        served = outcome(c.call('GetPolicy')) == 'ok'
        c.close()
        check(f'frames: {"after authentication, " if warm else ""}{desc}: {" or ".join(want)}; a new client is '
              'served', ('ok', []) if got in want else ('error', 'unexpected', got), 'ok', served, [note], todo=todo)
    slow.s.settimeout(max(0.1, slow_since + 6 - time.monotonic()))
    cut = False
    try:
        cut = slow.s.recv(4096) == b''
    except socket.timeout:
        pass
    except ConnectionResetError:
        cut = True
    slow.close()
    check('frames: after authentication, half a header and silence: cut off after 5 s',
          None if cut else ('ok', []), 'closed')


def count_frames():
    return len(frame_cases()) + 1


# ---- group: connections ----

def fd_count():
    """The daemon's fds besides its cache of one group's directories (lib/cgtree.c)."""
    d = f'/proc/{ENV["CGD_DAEMON_PID"]}/fd'
    n = 0
    for fd in os.listdir(d):
        try:
            n += not os.readlink(f'{d}/{fd}').startswith(CGROOT + '/')
        except OSError:
            pass
    return n


def wait_for(cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def served_within(seconds):
    """A new client is served within seconds: while the daemon has not yet seen the connections that
    were closed before, it is at MaxConnections and refuses new ones (as it should)."""
    def one():
        try:
            c = Conn()
            try:
                return outcome(c.call('GetPolicy')) == 'ok'
            finally:
                c.close()
        except (Closed, ConnectionResetError, BrokenPipeError, socket.timeout):
            return False
    return wait_for(one, seconds)


def group_conns():
    T.snap = snapshot()
    base_fds = fd_count()
    maxconn = int(ENV.get('CGD_MAXCONN', '16'))
    held = [Conn() for _ in range(maxconn)]
    served = all(outcome(c.call('GetPolicy')) == 'ok' for c in held)
    T.line(served, f'conns: {maxconn} connections (MaxConnections) are all served')
    refused = []
    for _ in range(3):
        try:
            Conn()
            refused.append('served')
        except (Closed, ConnectionResetError, BrokenPipeError):
            refused.append('refused')
    T.line(refused == ['refused'] * 3, f'conns: the {maxconn + 1}th connection is closed when accepted, without an '
           'answer to its AUTH', [' '.join(refused)])
    for c in held:
        c.close()
    ok = wait_for(lambda: fd_count() == base_fds, 5)
    again = served_within(5)
    T.line(ok and again, 'conns: once they close, the daemon is back to its fds and serves a new connection',
           [f'fds {base_fds} -> {fd_count()}'])
    # 5,000 connection attempts: most closed at once (some after half an AUTH), one in 500 held.
    start = time.monotonic()
    keep, errs, refused = [], {}, 0
    for i in range(5000):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(ENV['CGD_SOCKET'])
            if i % 500 == 0:
                keep.append(s)
                continue
            try:
                if i % 3 == 0:
                    s.send(b'\0AUTH EXTERNAL ')
                elif i % 3 == 1:
                    s.send(b'\0AUTH EXTERNAL ' + hexuid(os.getuid()) + b'\r\nBEGIN\r\n' +
                           call_message(1, 'CreateGroup', 'sa{sv}', ('/hostile-flood', {})))
            except (BrokenPipeError, ConnectionResetError):
                refused += 1  # over MaxConnections (the ones closed just before may not be reaped yet)
            s.close()
        except OSError as e:
            name = errno.errorcode.get(e.errno, str(e.errno))
            errs[name] = errs.get(name, 0) + 1
    took = time.monotonic() - start
    served = served_within(5)
    T.line(served and not errs, 'conns: 5,000 connection attempts (most closed at once, some after half an AUTH or '
           'a whole call, 10 held): all connect, and a new client is served afterwards',
           [f'{took:.1f} s, failed connects: {errs}, refused after connecting: {refused}'])
    for s in keep:
        s.close()
    ok = wait_for(lambda: fd_count() == base_fds, 10)
    T.line(ok, 'conns: after the flood the daemon holds exactly the fds it held before (no leak)',
           [f'fds {base_fds} -> {fd_count()}'])
    # The calls that came with the flood may have made /hostile-flood: that is theirs to do.
    box = [None]
    attempt(box, 'RemoveGroup', 'sba{sv}', ('/hostile-flood', False, {}))
    box[0] and box[0].close()
    T.line(T.unchanged(notes := []), 'conns: cgroupfs is as before the flood (once /hostile-flood is removed)', notes)


def count_conns():
    return 6


# ---- group: disconnects in the middle of a request ----

def group_disconnect():
    T.snap = snapshot()
    hx_pids = f'{CGROOT}/pids{BASE}/{ENV["CGD_C1"]}/hx/pids.max'

    def sent_then_closed(data, fds=()):
        c = Conn()
        c.send(data, fds)
        c.s.shutdown(socket.SHUT_RDWR)
        c.close()

    def served():
        c = Conn()
        ok = outcome(c.call('GetPolicy')) == 'ok'
        c.close()
        return ok

    before = read(hx_pids)
    sent_then_closed(call_message(1, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', '9')], {})))
    time.sleep(0.2)
    value = read(hx_pids)
    T.line(served() and value in (before, '9|'), 'disconnect: SetProperties /hx pids.max=9, closed before the reply: '
           'the daemon serves on, pids.max is 9 or as before', [f'pids.max {before} -> {value}'])
    box = [None]
    attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', before.strip('|'))], {}))
    T.snap = snapshot()
    sent_then_closed(call_message(1, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', '9')], {}))[:-7])
    time.sleep(0.2)
    T.line(served() and T.unchanged(notes := []), 'disconnect: half a SetProperties, then close: nothing changes',
           notes)
    sent_then_closed(call_message(1, 'SetProperties', 'sa(ss)a{sv}',
                                  ('/hx', [('memory.max', '64M')], {'AllowBelowUsage': ('b', 1)})))
    time.sleep(0.3)
    T.line(served(), 'disconnect: SetProperties with AllowBelowUsage (run by the worker), closed before the reply: '
           'the daemon serves on')
    attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('memory.max', 'max')], {}))
    sent_then_closed(call_message(1, 'Freeze', 'sa{sv}', ('/hx', {})))
    time.sleep(0.3)
    r = attempt(box, 'Thaw', 'sa{sv}', ('/hx', {}))
    freeze = read(f'{CGROOT}/unified{BASE}/{ENV["CGD_C1"]}/hx/cgroup.freeze')
    T.line(served() and outcome(r) == 'ok' and freeze in ('0|', '<ENOENT>'),
           'disconnect: Freeze /hx (run by the worker), closed before the reply: the daemon serves on, Thaw answers',
           [f'Thaw: {r}; cgroup.freeze {freeze}'])
    # Calls queued behind a slow one, then gone.
    data = call_message(1, 'Freeze', 'sa{sv}', ('/hx', {})) + b''.join(
        call_message(i, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', '5')], {})) for i in range(2, 40))
    sent_then_closed(data)
    time.sleep(0.3)
    attempt(box, 'Thaw', 'sa{sv}', ('/hx', {}))
    attempt(box, 'SetProperties', 'sa(ss)a{sv}', ('/hx', [('pids.max', before.strip('|'))], {}))
    T.line(served(), 'disconnect: a Freeze with 38 calls queued behind it, closed: the daemon serves on')
    # A client that never reads: more than 128 replies waiting, cut off. Replies of 10 KiB (40 groups
    # of 255-byte names) fill the daemon's socket buffer (8 MiB) after some 800.
    names = ['/%02d' % i + 'q' * 253 for i in range(40)]
    made = all(outcome(attempt(box, 'CreateGroup', 'sa{sv}', (name, {}))) == 'ok' for name in names)
    c = Conn(warm=True)
    n = 0
    try:
        for n in range(1, 3001):
            c.send(call_message(n, 'ListGroups', 'sb', ('/', False)))
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    time.sleep(0.5)
    got, cut = 0, False
    try:
        while True:
            c.read_message(2)
            got += 1
    except (Closed, ConnectionResetError):
        cut = True
    except socket.timeout:
        pass
    c.close()
    removed = all(outcome(attempt(box, 'RemoveGroup', 'sba{sv}', (name, False, {}))) == 'ok' for name in names)
    T.line(made and removed and cut and got < n and served(), 'disconnect: a client sending 3,000 ListGroups of 10 KiB '
           'each and reading no reply is cut off (more than 128 replies waiting); others are served',
           [f'sent {n}, then read {got} replies, cut: {cut}; groups made {made}, removed {removed}'])
    T.line(T.unchanged(notes := []), 'disconnect: cgroupfs is as before (values put back)', notes)


def count_disconnect():
    return 7


# ---- group: rename and rmdir races on v1 ----

def group_race():
    c1 = f'{CGROOT}/%s{BASE}/{ENV["CGD_C1"]}'
    hs = [h for h in c1_hierarchies() if h not in ('unified',)]
    skip = lambda h, rel: rel.startswith(f'/{ENV["CGD_C1"]}/race') or rel.startswith(f'/{ENV["CGD_C1"]}/hostile-race')
    before = snapshot(skip)
    seconds = float(ENV.get('CGD_RACE_SECONDS', '4'))
    stop = time.monotonic() + seconds
    child = os.fork()
    if child == 0:
        # The host side: in every v1 hierarchy, rename /race away and back, and remove it.
        n = 0
        while time.monotonic() < stop:
            for h in hs:
                d = c1 % h
                for op in (lambda: os.rename(f'{d}/race', f'{d}/hostile-race'),
                           lambda: os.rename(f'{d}/hostile-race', f'{d}/race'),
                           lambda: os.rename(f'{d}/race/sub', f'{d}/race/hostile-race'),
                           lambda: os.rmdir(f'{d}/race/hostile-race'),
                           lambda: os.rmdir(f'{d}/race/sub'),
                           lambda: os.rmdir(f'{d}/race'),
                           lambda: os.rmdir(f'{d}/hostile-race')):
                    try:
                        op()
                        n += 1
                    except OSError:
                        pass
        os._exit(0 if n else 1)
    answers, examples = {}, {}
    box = [None]
    calls = [
        ('CreateGroup', 'sa{sv}', ('/race/sub', {})),
        ('SetProperties', 'sa(ss)a{sv}', ('/race', [('pids.max', '11'), ('memory.max', '32M'), ('cpu.weight', '50')], {})),
        ('SetProperties', 'sa(ss)a{sv}', ('/race/sub', [('pids.max', '12')], {})),
        ('GetProperties', 'sas', ('/race', [])),
        ('ListGroups', 'sb', ('/race', True)),
        ('MoveProcess', 'sua{sv}', ('/race/sub', sleep_pid(), {})),
        ('MoveProcess', 'sua{sv}', ('/hx', sleep_pid(), {})),
        ('RemoveGroup', 'sba{sv}', ('/race', True, {})),
    ]
    i = 0
    while time.monotonic() < stop:
        method, sig, args = calls[i % len(calls)]
        i += 1
        r = attempt(box, method, sig, args)
        key = f'{method}: {outcome(r)}'
        answers[key] = answers.get(key, 0) + 1
        if r and r[0] == 'error' and key not in examples:
            examples[key] = r[2][:160]
    _, status = os.waitpid(child, 0)
    summary = [f'{v} x {k}' + (f' ({examples[k]})' if k in examples else '') for k, v in sorted(answers.items())]
    named = all(k.split(': ')[1] == 'ok' or k.split(': ')[1].startswith(ERR) for k in answers)
    T.line(named and i > 20 and status == 0,
           f'race: {i} calls on /race while the host renamed and removed it in {len(hs)} v1 hierarchies: every one is '
           'answered, with success or an org.cgdelegate.Error (no D-Bus or System error, no hang-up)', summary)
    # A group removed in the middle of a request is NotFound (the kernel says ENODEV for the files of
    # a removed group).
    odd = {k: v for k, v in answers.items() if k.split(': ')[1] not in ('ok', ERR + 'NotFound', ERR + 'Busy')}
    T.line(not odd, 'race: every refusal is NotFound or Busy', [f'{v} x {k} ({examples.get(k)})' for k, v in odd.items()])
    # Put the sleep back into /app, remove what the race left, compare the rest.
    attempt(box, 'MoveProcess', 'sua{sv}', ('/app', sleep_pid(), {}))
    for h in hierarchies():
        for top in ('race', 'hostile-race'):
            d = f'{CGROOT}/{h}{BASE}/{ENV["CGD_C1"]}/{top}'
            for root, dirs, _ in os.walk(d, topdown=False):
                try:
                    os.rmdir(root)
                except OSError:
                    pass
    after = snapshot(skip)
    d = diff(before, after)
    T.line(not d, 'race: outside /race in c1 (c1\'s other groups, c2, the host\'s sibling and parent) nothing '
           'changed', d)
    r = attempt(box, 'ListGroups', 'sb', ('/', True))
    T.line(outcome(r) == 'ok' and not any('race' in g for g in r[1]),
           'race: ListGroups / afterwards lists no race group', [str(r)])
    T.snap = snapshot()


def count_race():
    return 4


GROUPS = {
    'paths': (group_paths, count_paths),
    'create': (group_create, count_create),
    'keys': (group_keys, count_keys),
    'options': (group_options, count_options),
    'pids': (group_pids, lambda: len(ENV.get('CGD_PIDS', '').split(';'))),
    'fds': (group_fds, count_fds),
    'oversize': (group_oversize, count_oversize),
    'oversize-gap': (group_oversize_gap, lambda: 1),
    'frames': (group_frames, count_frames),
    'conns': (group_conns, count_conns),
    'disconnect': (group_disconnect, count_disconnect),
    'race': (group_race, count_race),
}

if __name__ == '__main__':
    if sys.argv[1] == 'count':
        print(GROUPS[sys.argv[2]][1]())
    else:
        GROUPS[sys.argv[1]][0]()
