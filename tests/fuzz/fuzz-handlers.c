/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-handlers: the daemon's org.cgdelegate.Container1 handlers, in process, against a scratch
 * cgroup tree of the real host. Needs root and a writable cgroupfs; without them the target exits
 * with status 77 at its start and tests/fuzz/run-fuzz.sh reports it skipped.
 *
 * Once per process: a scratch group cgd-fuzz-PID below this process's own memory cgroup, in every
 * hierarchy; a Daemon built as daemon/main.c builds it (host, policies from a temporary directory,
 * runtime and state directories there, event loop, worker thread, events) except for the admin
 * socket and the dropping of capabilities; one container "fuzz" registered on SCRATCH/c with
 * Create=true and a leader, a child of ours that ignores every signal it can; and a snapshot of
 * what must never change. Everything goes at exit; a run that crashed leaves its scratch group,
 * which the next run removes (its pid is gone).
 *
 * Each input is a sequence of Container1 calls (decoded below: "The input"), sent by an sd-bus
 * client over a socketpair to a server-side sd-bus set up as server.c sets up a container's
 * connection, with the daemon's own vtables and a Conn of the container as their userdata. The
 * event loop runs (the worker's slow requests finish there) until each reply is in. Not covered
 * here: server.c's transport (the size guard, the rate, conn_filter()), which is static there.
 *
 * Checked beyond memory safety, after every call: exactly one reply; an error's name is one of
 * org.cgdelegate.Error.* (org.freedesktop.DBus.Error.* only for a call whose signature or member
 * the vtable does not have), its message one line of printable text; a method return has the
 * vtable's reply signature; a value SetProperties accepted reads back the same through
 * GetProperties (where v1 keeps it exactly, see read_back_comparable()). After every input:
 * every group below the container's root exists in every hierarchy of its tree (no half-made
 * groups), within MaxDepth and MaxGroups, as many as the daemon counted; the scratch group's
 * children and control files, the root's limits (AllowRootWrites=no) and this process's own
 * groups are as they were; the leader is alive. Then the container is reset through the daemon
 * (thaw, leader back to the root, every group removed), so inputs are independent and no input
 * can use up the host's memory cgroup ids.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgpath.h"
#include "daemon.h"
#include "fuzz-util.h"

#define SKIP_STATUS 77           /* run-fuzz.sh reports the target skipped */
#define CONTAINER "fuzz"
#define MAX_DEPTH 4
#define MAX_GROUPS 12
#define CALLS_MAX 16             /* calls decoded from one input */
#define REPLY_TIMEOUT_USEC (8 * 1000000ULL) /* above the 2 s a freeze may wait: a hung handler */
#define LOOP_WAIT_USEC 10000     /* one turn of the event loop while a job runs */

/* Allows most properties (memory.low and memory.min are left out: AccessDenied), ceilings below
 * the kernel's, a real disk for io.max, and a rate no input can reach (conn_filter(), which spends
 * tokens, is not on this path anyway). */
static const char policy_text[] =
        "[Policy]\n"
        "AllowedProperties=memory.max memory.high memory.swap.max cpu.max cpu.weight pids.max io.max io.weight "
        "cpuset.cpus cpuset.mems\n"
        "AllowedDevices=254:0 8:0\n"
        "MaxDepth=4\n"
        "MaxGroups=12\n"
        "AllowRootWrites=no\n"
        "RequestRate=100000\n"
        "RequestBurst=100000\n"
        "[Ceilings]\n"
        "memory.max=1G\n"
        "memory.swap.max=512M\n"
        "pids.max=512\n"
        "cpu.max=200000 100000\n";

/* Control files of the scratch group that must never change, and of the container's root (its
 * limits: AllowRootWrites=no); each where it exists. */
static const char *const scratch_files[] = {
        "cgroup.procs", "tasks", "notify_on_release", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
        "memory.soft_limit_in_bytes", "pids.max", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares",
        "cpuset.cpus", "cpuset.mems", "blkio.weight", "blkio.throttle.read_bps_device", "freezer.state",
        "cgroup.freeze", "cgroup.subtree_control", "memory.max", "memory.high", "cpu.max", "cpu.weight",
};
static const char *const root_files[] = {
        "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes", "pids.max",
        "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "cpuset.cpus", "cpuset.mems", "blkio.weight",
        "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "notify_on_release",
        "cgroup.subtree_control", "memory.max", "memory.high", "cpu.max", "cpu.weight", "io.max",
};

static struct {
        Daemon d;
        bool set_up;
        char *tmp;                /* policies/, runtime/, state/ */
        char *scratch_path;       /* host path of the scratch group, the same in every hierarchy */
        CgTree *scratch;          /* made by us, in every hierarchy */
        CgTree *root;             /* our own view of the container's root, for reading only */
        Container *c;
        pid_t leader;
        int leader_pidfd, self_pidfd, null_fd; /* fds the inputs pass in MoveProcessFD and options */
        char *snapshot;           /* what must never change (snapshot()) */
        unsigned page_size;
} F = { .leader_pidfd = -EBADF, .self_pidfd = -EBADF, .null_fd = -EBADF };

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

_printf_(1, 2) static _Noreturn void skip(const char *fmt, ...) {
        va_list ap;

        fputs("fuzz-handlers: skipped: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(SKIP_STATUS);
}

/* ---- what must never change ---- */

static void append_files(GString *s, CgTree *t, int hier, const char *const *files, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *v = NULL;

                if (cg_tree_read(t, hier, ".", files[i], &v, NULL) >= 0)
                        g_string_append_printf(s, "  %s=%s\n", files[i], v);
        }
}

/* The scratch group's children and files, the root's limits, this process's own groups. */
static char *snapshot(void) {
        GString *s = g_string_new(NULL);
        char *own[CG_HIERARCHIES_MAX] = {};

        for (int i = 0; i < (int) F.d.host->n_hierarchies; i++) {
                _cleanup_strv_free_ char **children = NULL;

                g_string_append_printf(s, "%s:", F.d.host->hierarchies[i].name);
                if (cg_tree_children(F.scratch, i, ".", false, &children) >= 0)
                        for (char **g = children; *g; g++)
                                g_string_append_printf(s, " %s", *g);
                g_string_append_c(s, '\n');
                append_files(s, F.scratch, i, scratch_files, ELEMENTSOF(scratch_files));
                if (F.root->hierarchies & CG_HMASK(i)) {
                        g_string_append(s, " root:\n");
                        append_files(s, F.root, i, root_files, ELEMENTSOF(root_files));
                }
        }
        FUZZ_CHECK(cg_host_pid_paths(F.d.host, getpid(), own) >= 0, "reading /proc/self/cgroup");
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++)
                if (own[i])
                        g_string_append_printf(s, "self %d: %s\n", i, own[i]);
        cg_paths_free(own);
        return g_string_free(s, false);
}

/* Every group below the root, in every hierarchy of the container's tree: the same groups
 * everywhere (a create or remove that failed half-way undoes itself), within the policy, as many
 * as the daemon counts against its budget. */
static void check_groups(void) {
        _cleanup_strv_free_ char **first = NULL;
        size_t n = 0;

        for (int i = 0; i < CG_HIERARCHIES_MAX; i++) {
                _cleanup_strv_free_ char **l = NULL;

                if (!(F.root->hierarchies & CG_HMASK(i)))
                        continue;
                FUZZ_CHECK(cg_tree_children(F.root, i, ".", true, &l) >= 0, "listing the root in hierarchy %d", i);
                if (!first) {
                        first = TAKE_PTR(l);
                        n = strv_length(first);
                        continue;
                }
                FUZZ_CHECK(strv_length(l) == n, "%zu groups in hierarchy %s, %zu in another", strv_length(l),
                           F.d.host->hierarchies[i].name, n);
                for (size_t k = 0; k < n; k++)
                        FUZZ_CHECK(streq(l[k], first[k]), "group %s in %s, %s elsewhere", l[k],
                                   F.d.host->hierarchies[i].name, first[k]);
        }
        for (size_t k = 0; k < n; k++) {
                unsigned depth = 1;

                for (const char *p = first[k]; *p; p++)
                        depth += *p == '/';
                FUZZ_CHECK(depth <= MAX_DEPTH, "group /%s is %u levels deep; MaxDepth=%u", first[k], depth, MAX_DEPTH);
        }
        FUZZ_CHECK(n <= MAX_GROUPS, "%zu groups; MaxGroups=%u", n, MAX_GROUPS);
        FUZZ_CHECK(F.c->groups == n && F.d.budget.groups == n, "%zu groups, the daemon counts %u (budget %u)", n,
                   F.c->groups, F.d.budget.groups);
}

static void check_unchanged(void) {
        _cleanup_free_ char *now = snapshot();
        int status;

        FUZZ_CHECK(streq(now, F.snapshot), "something outside the container changed; before:\n%s\nafter:\n%s",
                   F.snapshot, now);
        FUZZ_CHECK(waitpid(F.leader, &status, WNOHANG) == 0, "the leader %d is gone", (int) F.leader);
}

/* ---- the connection ---- */

typedef struct Session {
        Conn *conn;           /* the daemon's; freed by its sweep */
        sd_bus *server;       /* a reference of ours: the daemon's end outlives conn_kill() */
        sd_bus *client;
        uint64_t waiting;     /* cookie of the call in flight, 0 for none */
        sd_bus_message *reply;
} Session;

/* Every reply passes here: it must answer the call in flight, once. Signals (Subscribe) pass. */
static int on_client_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Session *s = userdata;
        uint8_t type = 0;
        uint64_t cookie = 0;

        (void) sd_bus_message_get_type(m, &type);
        if (type != SD_BUS_MESSAGE_METHOD_RETURN && type != SD_BUS_MESSAGE_METHOD_ERROR)
                return 0;
        FUZZ_CHECK(sd_bus_message_get_reply_cookie(m, &cookie) >= 0, "a reply without a reply cookie");
        FUZZ_CHECK(cookie == s->waiting && !s->reply, "a reply to call %" PRIu64 ", which is %s", cookie,
                   cookie == s->waiting ? "answered already" : "not the call in flight");
        s->reply = sd_bus_message_ref(m);
        return 1;
}

/* One turn: both ends of the connection, and the daemon's event loop (the worker's finished jobs,
 * the sweep of closed connections, cgroup events), waiting up to wait_usec for it. */
static void pump(Session *s, uint64_t wait_usec) {
        int r;

        while ((r = sd_bus_process(s->server, NULL)) > 0)
                ;
        FUZZ_CHECK(sd_bus_is_open(s->server) > 0, "the daemon closed the connection (%s)", strerror(-r));
        r = sd_event_run(F.d.event, wait_usec);
        FUZZ_CHECK(r >= 0, "the event loop: %s", strerror(-r));
        while ((r = sd_bus_process(s->client, NULL)) > 0)
                ;
        FUZZ_CHECK(r >= 0, "the client's end: %s", strerror(-r));
}

/* A Conn of the container, made as conn_accept() makes one, and its bus as conn_setup_bus() and
 * conn_add_objects() set it up; the client authenticates as libcgdelegate would. */
static void session_open(Session *s) {
        CgdRefusal refusal = {};
        sd_id128_t id;
        int fds[2];

        *s = (Session) {};
        FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0, "socketpair: %m");
        FUZZ_CHECK(budget_take_connection(&F.d.budget, &refusal) >= 0, "%s", refusal.message);
        s->conn = calloc(1, sizeof(Conn));
        FUZZ_CHECK(s->conn, "out of memory");
        *s->conn = (Conn) { .kind = WATCH_CONN, .daemon = &F.d, .container = F.c, .fd = fds[0], .begin_end = -1,
                            .started = true, .running = true, .at_boundary = true, .objects = true };
        F.c->n_conns++;
        LIST_PREPEND(F.d.conns, s->conn, prev, next);
        LIST_PREPEND(F.c->conns, s->conn, cprev, cnext);
        F.d.stats.connections++;
        FUZZ_CHECK(sd_bus_new(&s->conn->bus) >= 0 && sd_bus_set_fd(s->conn->bus, fds[0], fds[0]) >= 0 &&
                   sd_id128_randomize(&id) >= 0 && sd_bus_set_server(s->conn->bus, 1, id) >= 0 &&
                   sd_bus_negotiate_fds(s->conn->bus, true) >= 0 &&
                   sd_bus_add_object_vtable(s->conn->bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            bus_hello_vtable, s->conn) >= 0 &&
                   sd_bus_add_object_vtable(s->conn->bus, NULL, CGD_OBJECT_PATH, CGD_CONTAINER_INTERFACE,
                                            container_vtable, s->conn) >= 0 &&
                   sd_bus_start(s->conn->bus) >= 0,
                   "the daemon's end of the connection");
        s->server = sd_bus_ref(s->conn->bus);
        FUZZ_CHECK(sd_bus_new(&s->client) >= 0 && sd_bus_set_fd(s->client, fds[1], fds[1]) >= 0 &&
                   sd_bus_negotiate_fds(s->client, true) >= 0 &&
                   sd_bus_add_filter(s->client, NULL, on_client_message, s) >= 0 && sd_bus_start(s->client) >= 0,
                   "the client's end of the connection");
        for (uint64_t end = now_usec() + REPLY_TIMEOUT_USEC; sd_bus_is_ready(s->client) <= 0;) {
                FUZZ_CHECK(now_usec() < end, "the authentication did not finish");
                pump(s, 0);
        }
}

/* Sends m and runs everything until its reply is in; returns the reply. */
static sd_bus_message *call(Session *s, sd_bus_message *m) {
        uint64_t cookie = 0;

        FUZZ_CHECK(sd_bus_send(s->client, m, &cookie) >= 0, "sending %s", sd_bus_message_get_member(m));
        s->waiting = cookie;
        for (uint64_t end = now_usec() + REPLY_TIMEOUT_USEC; !s->reply;) {
                FUZZ_CHECK(now_usec() < end, "no reply to %s within %llu s", sd_bus_message_get_member(m),
                           REPLY_TIMEOUT_USEC / 1000000);
                pump(s, F.c->job ? LOOP_WAIT_USEC : 0);
        }
        s->waiting = 0;
        return TAKE_PTR(s->reply);
}

/* The connection ends as conn_kill() ends it: nothing else may be sent on it meanwhile. */
static void session_close(Session *s) {
        for (int i = 0; i < 3; i++)
                pump(s, 0); /* a late second reply would fail on_client_message() */
        server_close_container_conns(&F.d, F.c);
        s->server = sd_bus_unref(s->server);
        s->client = sd_bus_close_unref(s->client);
        (void) sd_event_run(F.d.event, 0); /* the sweep frees the Conn */
}

static sd_bus_message *new_call(Session *s, const char *member) {
        sd_bus_message *m = NULL;

        FUZZ_CHECK(sd_bus_message_new_method_call(s->client, &m, NULL, CGD_OBJECT_PATH, CGD_CONTAINER_INTERFACE,
                                                  member) >= 0, "new call %s", member);
        return m;
}

/* ---- replies ---- */

static const sd_bus_vtable *vtable_method(const char *member) {
        for (const sd_bus_vtable *vt = container_vtable; member && vt->type != _SD_BUS_VTABLE_END; vt++)
                if (vt->type == _SD_BUS_VTABLE_METHOD && streq(vt->x.method.member, member))
                        return vt;
        return NULL;
}

static bool one_printable_line(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* typed: the call has the member and signature of a Container1 method. A refusal's message
 * quotes what the client sent, cut with "%.64s" and the like; cgd_refuse() makes it one line of
 * valid UTF-8 whatever the call carried (a control character once came back raw, and a cut inside
 * a UTF-8 sequence once made sd-bus refuse to send the error: the seeds regress-*-in-refusal). */
static void check_reply(sd_bus_message *m, sd_bus_message *reply, bool typed) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *member = sd_bus_message_get_member(m);
        const sd_bus_vtable *vt = vtable_method(member);

        if (!e) {
                FUZZ_CHECK(!typed || sd_bus_message_has_signature(reply, vt->x.method.result),
                           "%s answered with signature '%s', not '%s'", member, sd_bus_message_get_signature(reply, true),
                           vt->x.method.result);
                return;
        }
        FUZZ_CHECK(e->name && e->message, "%s: an error without a name or message", member);
        FUZZ_CHECK(cgd_error_from_name(e->name) >= 0 || (!typed && startswith(e->name, "org.freedesktop.DBus.Error.")),
                   "%s: error %s (%s) is not one of protocol/errors.md", member, e->name, e->message);
        FUZZ_CHECK(one_printable_line(e->message), "%s: error %s: the message is not one printable line: '%s'", member,
                   e->name, e->message);
}

/* Whether the call is a Container1 method with its own signature: then sd-bus hands it to the
 * handler, and only org.cgdelegate.Error.* may come back. */
static bool is_typed(sd_bus_message *m) {
        const sd_bus_vtable *vt = vtable_method(sd_bus_message_get_member(m));
        const char *path = sd_bus_message_get_path(m), *iface = sd_bus_message_get_interface(m);

        return vt && path && iface && streq(path, CGD_OBJECT_PATH) && streq(iface, CGD_CONTAINER_INTERFACE) &&
               sd_bus_message_has_signature(m, vt->x.method.signature);
}

/* Sends a call the client built, checks the reply; returns it. */
static sd_bus_message *call_checked(Session *s, sd_bus_message *m) {
        bool typed = is_typed(m);
        sd_bus_message *reply = call(s, m);

        check_reply(m, reply, typed);
        return reply;
}

static void expect_ok(Session *s, sd_bus_message *m, const char *what) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call_m = m;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = call_checked(s, call_m);
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        FUZZ_CHECK(!e || streq(e->name, cgd_error_name(CGD_ERROR_NOT_FOUND)), "%s: %s: %s", what, e->name, e->message);
}

/* ---- the input ----
 *
 * A sequence of calls, each a selector byte (modulo 14: the 13 methods of container_vtable in its
 * order, then a call of any member with any signature), then its arguments in order:
 * - a string is one byte: below 0xe0 an entry of the field's table (modulo its size), 0xe0..0xef a
 *   number for a value (4 more bytes, formatted by the low bits: plain, "N 100000", "0-N",
 *   "254:0 rbps=N"), 0xf0 and above a string of its own: a length byte (modulo 64), then that many
 *   bytes (cut at a NUL, made valid UTF-8 as D-Bus requires);
 * - a path: one byte, 0xf0 and above a string of its own as above, else (byte & 7) components
 *   from the path table joined by "/", with a leading "/" unless bits 3-5 are 5, a trailing one
 *   when they are 6, "//" between components when they are 7;
 * - a boolean: one byte, bit 0; a pid: one byte selecting the leader, 0, 1, this process,
 *   INT32_MAX, 2^31, UINT32_MAX or (7) four more bytes; a signal: one byte selecting 0, 1, 15,
 *   SIGSTOP, SIGCONT, -1, 64, 65 (SIGKILL, from four more bytes, becomes SIGTERM: the leader must
 *   live); an fd: one byte selecting the leader's pidfd, this process's, /dev/null;
 * - a(ss): a count byte (modulo 6; 0xff: 65 pairs, past BUS_PROPERTIES_MAX), then key and value
 *   strings; as: a count byte (modulo 5), then strings; a{sv}: a count byte (modulo 4), then per
 *   entry an option name and a type byte (modulo 8: b b b u s i a(ss) h) with its value.
 * - the free call (14): object path, interface and member bytes, then an argument count (modulo
 *   5) and per argument a type byte (modulo 16: y b n q i u x t d s o g h as a{sv} a(ss)).
 * The input ends at its last byte or after CALLS_MAX calls. Seeds: tests/fuzz/corpus/handlers/,
 * made by the python snippet at the end of this file.
 */

typedef struct Input {
        const uint8_t *p;
        size_t n;
        GPtrArray *keep; /* strings made for the current call */
} Input;

static const char *const components[] = {
        "a", "b", "c", "..", ".", "", "cgroup.procs", "memory.max", "release_agent", "tasks", "notify_on_release",
        "x@1:y", "a\\x2d", "memory.limit_in_bytes", "cpu.x", "devices.allow",
};
static const char *const keys[] = {
        "memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max", "cpu.max", "cpu.weight",
        "pids.max", "io.max", "io.weight", "cpuset.cpus", "cpuset.mems", "cgroup.procs", "release_agent",
        "memory.limit_in_bytes", "cpuset.cpus.partition", "io.cost.qos", "devices.allow", "MemoryMax", "",
};
static const char *const values[] = {
        "max", "0", "1", "2", "4096", "1M", "64M", "1G", "2G", "512", "513", "100", "10000", "10001", "0-1",
        "1-0", "0-4095", "50000 100000", "max 100000", "1000 1000", "100 1000001", "254:0 rbps=1048576",
        "254:0 wbps=max riops=10", "8:0 rbps=1", "1:3 rbps=1", "default 100", "254:0 200", "254:0 default",
        "18446744073709551615", "-1", "1.5G", "1T", " 1", "1 ", "0x10", "1K", "4097", "",
};
static const char *const options[] = {
        "RemoveOnEmpty", "AllowBelowUsage", "AllowMigrate", "Create", "Leader", "LeaderFD", "Properties",
        "RemoveCgroup", "SocketUID", "",
};

static uint8_t take(Input *in) {
        if (in->n == 0)
                return 0;
        in->n--;
        return *in->p++;
}

static uint32_t take_u32(Input *in) {
        uint32_t v = 0;

        for (int i = 0; i < 4; i++)
                v = v << 8 | take(in);
        return v;
}

static const char *keep(Input *in, char *s) {
        g_ptr_array_add(in->keep, s);
        return s;
}

static const char *take_raw(Input *in) {
        size_t len = take(in) % 64;
        _cleanup_free_ char *s = fuzz_strndup(in->p, MIN(len, in->n));

        in->p += MIN(len, in->n);
        in->n -= MIN(len, in->n);
        return keep(in, g_utf8_make_valid(s, -1));
}

static const char *take_number(Input *in, uint8_t sel) {
        uint32_t v = take_u32(in);

        switch (sel & 3) {
        case 0:
                return keep(in, g_strdup_printf("%" PRIu32 "%s", v, (const char *[]) { "", "K", "M", "G" }[v >> 30]));
        case 1:
                return keep(in, g_strdup_printf("%" PRIu32 " 100000", v));
        case 2:
                return keep(in, g_strdup_printf("0-%" PRIu32, v % 64));
        default:
                return keep(in, g_strdup_printf("254:0 rbps=%" PRIu32, v));
        }
}

static const char *take_string(Input *in, const char *const *table, size_t n) {
        uint8_t b = take(in);

        if (b < 0xe0)
                return table[b % n];
        return b < 0xf0 && table == values ? take_number(in, b) : take_raw(in);
}

static const char *take_path(Input *in) {
        uint8_t b = take(in);
        unsigned shape = (b >> 3) & 7;
        GString *s;

        if (b >= 0xf0)
                return take_raw(in);
        s = g_string_new(shape == 5 ? "" : "/");
        for (unsigned i = 0; i < (b & 7u); i++)
                g_string_append_printf(s, "%s%s", i == 0 ? "" : shape == 7 ? "//" : "/",
                                       take_string(in, components, ELEMENTSOF(components)));
        if (shape == 6)
                g_string_append_c(s, '/');
        return keep(in, g_string_free(s, false));
}

static uint32_t take_pid(Input *in) {
        uint8_t b = take(in) % 8;

        return b == 7 ? take_u32(in)
                      : (uint32_t[]) { (uint32_t) F.leader, 0, 1, (uint32_t) getpid(), INT32_MAX, UINT32_C(1) << 31,
                                       UINT32_MAX }[b];
}

static int32_t take_signal(Input *in) {
        uint8_t b = take(in) % 8;
        int32_t sig = b == 7 ? (int32_t) take_u32(in) : (int32_t[]) { 0, 1, SIGTERM, SIGSTOP, SIGCONT, -1, 64, 65 }[b];

        return sig == SIGKILL ? SIGTERM : sig;
}

static int take_fd(Input *in) {
        return (int[]) { F.leader_pidfd, F.self_pidfd, F.null_fd }[take(in) % 3];
}

static void append_pairs(sd_bus_message *m, Input *in) {
        uint8_t b = take(in);
        unsigned n = b == 0xff ? BUS_PROPERTIES_MAX + 1 : b % 6;

        FUZZ_CHECK(sd_bus_message_open_container(m, 'a', "(ss)") >= 0, "a(ss)");
        for (unsigned i = 0; i < n; i++) {
                const char *key = b == 0xff ? "pids.max" : take_string(in, keys, ELEMENTSOF(keys));
                const char *value = b == 0xff ? "1" : take_string(in, values, ELEMENTSOF(values));

                FUZZ_CHECK(sd_bus_message_append(m, "(ss)", key, value) >= 0, "(ss)");
        }
        FUZZ_CHECK(sd_bus_message_close_container(m) >= 0, "a(ss)");
}

static void append_strings(sd_bus_message *m, Input *in, const char *const *table, size_t size) {
        unsigned n = take(in) % 5;

        FUZZ_CHECK(sd_bus_message_open_container(m, 'a', "s") >= 0, "as");
        for (unsigned i = 0; i < n; i++)
                FUZZ_CHECK(sd_bus_message_append(m, "s", take_string(in, table, size)) >= 0, "s");
        FUZZ_CHECK(sd_bus_message_close_container(m) >= 0, "as");
}

/* One a{sv} entry's value: mostly b (what the methods take), and the wrong types. */
static void append_variant(sd_bus_message *m, Input *in) {
        int r;

        switch (take(in) % 8) {
        case 0 ... 2:
                r = sd_bus_message_append(m, "v", "b", take(in) & 1);
                break;
        case 3:
                r = sd_bus_message_append(m, "v", "u", take_pid(in));
                break;
        case 4:
                r = sd_bus_message_append(m, "v", "s", take_string(in, values, ELEMENTSOF(values)));
                break;
        case 5:
                r = sd_bus_message_append(m, "v", "i", take_signal(in));
                break;
        case 6:
                r = sd_bus_message_open_container(m, 'v', "a(ss)");
                if (r >= 0)
                        append_pairs(m, in);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        default:
                r = sd_bus_message_append(m, "v", "h", take_fd(in));
        }
        FUZZ_CHECK(r >= 0, "appending a variant: %s", strerror(-r));
}

static void append_options(sd_bus_message *m, Input *in) {
        unsigned n = take(in) % 4;

        FUZZ_CHECK(sd_bus_message_open_container(m, 'a', "{sv}") >= 0, "a{sv}");
        for (unsigned i = 0; i < n; i++) {
                FUZZ_CHECK(sd_bus_message_open_container(m, 'e', "sv") >= 0 &&
                           sd_bus_message_append(m, "s", take_string(in, options, ELEMENTSOF(options))) >= 0, "{sv}");
                append_variant(m, in);
                FUZZ_CHECK(sd_bus_message_close_container(m) >= 0, "{sv}");
        }
        FUZZ_CHECK(sd_bus_message_close_container(m) >= 0, "a{sv}");
}

/* The free call: any member of any interface with any arguments. Unless it happens to be a
 * Container1 method with its own signature, sd-bus refuses it before any handler runs. */
static sd_bus_message *build_free_call(Session *s, Input *in) {
        static const char *const paths[] = { CGD_OBJECT_PATH, "/", "/org/freedesktop/DBus" };
        static const char *const ifaces[] = { CGD_CONTAINER_INTERFACE, CGD_MANAGER_INTERFACE, "org.freedesktop.DBus",
                                              "org.freedesktop.DBus.Introspectable" };
        static const char *const members[] = { "CreateGroup", "RemoveGroup", "SetProperties", "GetProperties",
                                               "ListGroups", "MoveProcess", "MoveProcessFD", "GetProcesses", "Freeze",
                                               "Thaw", "Kill", "GetPolicy", "Subscribe", "Hello", "Introspect",
                                               "RegisterContainer", "Nope" };
        const char *path = paths[take(in) % ELEMENTSOF(paths)], *iface = ifaces[take(in) % ELEMENTSOF(ifaces)];
        const char *member = members[take(in) % ELEMENTSOF(members)];
        sd_bus_message *m = NULL;
        unsigned n = take(in) % 5;
        int r;

        FUZZ_CHECK(sd_bus_message_new_method_call(s->client, &m, NULL, path, iface, member) >= 0, "new call %s", member);
        for (unsigned i = 0; i < n; i++) {
                uint8_t type = take(in) % 16;
                char sig[2] = { "ybnqiuxtdsogh"[type % 13], 0 };

                if (type == 13)
                        append_strings(m, in, keys, ELEMENTSOF(keys));
                else if (type == 14)
                        append_options(m, in);
                else if (type == 15)
                        append_pairs(m, in);
                else if (sig[0] == 's')
                        FUZZ_CHECK(sd_bus_message_append(m, "s", take_path(in)) >= 0, "s");
                else if (sig[0] == 'o' || sig[0] == 'g')
                        FUZZ_CHECK(sd_bus_message_append(m, sig, sig[0] == 'o' ? "/a" : "sb") >= 0, "%s", sig);
                else if (sig[0] == 'h')
                        FUZZ_CHECK(sd_bus_message_append(m, "h", take_fd(in)) >= 0, "h");
                else {
                        /* The basic types all take their value from a 64-bit slot here. */
                        uint64_t v = (uint64_t) take_u32(in) << 32 | take_u32(in);

                        r = sig[0] == 'd' ? sd_bus_message_append(m, "d", (double) v)
                          : sig[0] == 'x' || sig[0] == 't' ? sd_bus_message_append(m, sig, v)
                          : sd_bus_message_append(m, sig, (uint32_t) v);
                        FUZZ_CHECK(r >= 0, "appending %s: %s", sig, strerror(-r));
                }
        }
        return m;
}

/* One call of the input, built; NULL when the input asked for nothing more. */
static sd_bus_message *build_call(Session *s, Input *in) {
        static const char *const events[] = { "GroupEmpty", "MemoryEvent", "Audit", "" };
        uint8_t method = take(in) % 14;
        const sd_bus_vtable *vt = &container_vtable[1 + method];
        sd_bus_message *m;

        if (method == 13)
                return build_free_call(s, in);
        m = new_call(s, vt->x.method.member);
        /* Arguments in the order of the method's signature. */
        for (const char *sig = vt->x.method.signature; *sig; sig++)
                switch (*sig) {
                case 's':
                        FUZZ_CHECK(sd_bus_message_append(m, "s", take_path(in)) >= 0, "path");
                        break;
                case 'b':
                        FUZZ_CHECK(sd_bus_message_append(m, "b", take(in) & 1) >= 0, "b");
                        break;
                case 'u':
                        FUZZ_CHECK(sd_bus_message_append(m, "u", take_pid(in)) >= 0, "u");
                        break;
                case 'i':
                        FUZZ_CHECK(sd_bus_message_append(m, "i", take_signal(in)) >= 0, "i");
                        break;
                case 'h':
                        FUZZ_CHECK(sd_bus_message_append(m, "h", take_fd(in)) >= 0, "h");
                        break;
                case 'a':
                        if (startswith(sig, "a(ss)"))
                                append_pairs(m, in);
                        else if (startswith(sig, "a{sv}"))
                                append_options(m, in);
                        else if (streq(vt->x.method.member, "Subscribe"))
                                append_strings(m, in, events, ELEMENTSOF(events));
                        else
                                append_strings(m, in, keys, ELEMENTSOF(keys));
                        sig = strchr(sig, startswith(sig, "a(") ? ')' : startswith(sig, "a{") ? '}' : 's');
                        break;
                default:
                        FUZZ_CHECK(false, "%s: signature %s", vt->x.method.member, vt->x.method.signature);
                }
        return m;
}

/* ---- read back what SetProperties accepted ---- */

/* Whether a value reads back exactly as set through v1 files. Not memory.swap.max (derived from
 * memsw.limit_in_bytes minus the memory limit), cpu.weight and io.weight (shares and blkio.weight
 * are coarser: the conversion rounds), io.max (the v1 files list devices in their own form),
 * memory.high/low/min (not on v1). memory.max is compared after the kernel's rounding down to
 * whole pages. */
static bool read_back_comparable(KnobId id) {
        return id == KNOB_MEMORY_MAX || id == KNOB_PIDS_MAX || id == KNOB_CPU_MAX || id == KNOB_CPUSET_CPUS ||
               id == KNOB_CPUSET_MEMS;
}

static void compare_value(const char *path, const char *key, const char *set, const char *got) {
        KnobValue a, b;

        FUZZ_CHECK(knob_parse(key, set, &a, NULL) >= 0, "%s=%s was accepted but does not parse", key, set);
        FUZZ_CHECK(knob_parse(key, got, &b, NULL) >= 0, "%s on %s reads back as '%s', not in the v2 grammar", key,
                   path, got);
        switch (a.id) {
        case KNOB_MEMORY_MAX:
                if (a.bytes != KNOB_UNLIMITED)
                        a.bytes -= a.bytes % F.page_size;
                FUZZ_CHECK(a.bytes == b.bytes, "%s=%s on %s reads back as %s", key, set, path, got);
                break;
        case KNOB_PIDS_MAX:
                FUZZ_CHECK(a.count == b.count, "%s=%s on %s reads back as %s", key, set, path, got);
                break;
        case KNOB_CPU_MAX:
                FUZZ_CHECK(a.cpu.quota_us == b.cpu.quota_us && a.cpu.period_us == b.cpu.period_us,
                           "%s=%s on %s reads back as %s", key, set, path, got);
                break;
        default:
                FUZZ_CHECK(memcmp(a.cpus.bits, b.cpus.bits, sizeof a.cpus.bits) == 0, "%s=%s on %s reads back as %s",
                           key, set, path, got);
        }
}

/* Whether pairs[i] is to be read back: a comparable key, set once in the call. */
static bool read_back_wanted(const char *pairs[][2], size_t n, size_t i) {
        const KnobInfo *info = knob_lookup(pairs[i][0]);
        size_t same = 0;

        for (size_t k = 0; k < n; k++)
                same += streq(pairs[k][0], pairs[i][0]);
        return info && same == 1 && read_back_comparable(info->id);
}

/* After SetProperties succeeded: GetProperties of each comparable key it set once. */
static void read_back(Session *s, sd_bus_message *set) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_call(s, "GetProperties"), *reply = NULL;
        const char *path, *key, *value, *pairs[BUS_PROPERTIES_MAX][2];
        size_t n = 0, wanted = 0;

        FUZZ_CHECK(sd_bus_message_rewind(set, true) >= 0 && sd_bus_message_read(set, "s", &path) > 0 &&
                   bus_read_pairs(set, pairs, &n, NULL) >= 0, "reading back the call");
        FUZZ_CHECK(sd_bus_message_append(m, "s", path) >= 0 && sd_bus_message_open_container(m, 'a', "s") >= 0, "as");
        for (size_t i = 0; i < n; i++)
                if (read_back_wanted(pairs, n, i)) {
                        FUZZ_CHECK(sd_bus_message_append(m, "s", pairs[i][0]) >= 0, "s");
                        wanted++;
                }
        if (wanted == 0)
                return; /* an empty list would ask for every property */
        FUZZ_CHECK(sd_bus_message_close_container(m) >= 0, "as");
        reply = call_checked(s, m);
        /* Only a group that went meanwhile (RemoveOnEmpty) may refuse. */
        if (sd_bus_message_is_method_error(reply, cgd_error_name(CGD_ERROR_NOT_FOUND)))
                return;
        FUZZ_CHECK(!sd_bus_message_is_method_error(reply, NULL), "GetProperties after SetProperties on %s: %s", path,
                   sd_bus_message_get_error(reply)->message);
        FUZZ_CHECK(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0, "a(ss)");
        while (sd_bus_message_read(reply, "(ss)", &key, &value) > 0) {
                wanted--;
                for (size_t i = 0; i < n; i++)
                        if (streq(pairs[i][0], key))
                                compare_value(path, key, pairs[i][1], value);
        }
        FUZZ_CHECK(wanted == 0, "GetProperties on %s left out %zu of the keys asked for", path, wanted);
}

/* ---- one input ---- */

static void run_one(Session *s, Input *in) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = build_call(s, in), *reply = call_checked(s, m);

        if (is_typed(m) && streq(sd_bus_message_get_member(m), "SetProperties") &&
            !sd_bus_message_is_method_error(reply, NULL))
                read_back(s, m);
        g_ptr_array_set_size(in->keep, 0);
}

static sd_bus_message *call_path(Session *s, const char *member, const char *sig, ...) {
        sd_bus_message *m = new_call(s, member);
        va_list ap;

        va_start(ap, sig);
        FUZZ_CHECK(sd_bus_message_appendv(m, sig, ap) >= 0, "%s", member);
        va_end(ap);
        return m;
}

/* Back to the state after registration, through the daemon: the root thawed, the leader in it
 * (SIGCONT: an input may have stopped it), every group removed. */
static void reset(Session *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = NULL, *reply = NULL;
        const char *g;

        (void) kill(F.leader, SIGCONT);
        expect_ok(s, call_path(s, "Thaw", "sa{sv}", "/", 0), "thawing the root");
        expect_ok(s, call_path(s, "MoveProcess", "sua{sv}", "/", (uint32_t) F.leader, 0), "the leader back to the root");
        list = call_path(s, "ListGroups", "sb", "/", 0);
        reply = call_checked(s, list);
        FUZZ_CHECK(sd_bus_message_enter_container(reply, 'a', "s") >= 0, "ListGroups: %s",
                   sd_bus_message_is_method_error(reply, NULL) ? sd_bus_message_get_error(reply)->message : "as");
        while (sd_bus_message_read(reply, "s", &g) > 0)
                expect_ok(s, call_path(s, "RemoveGroup", "sba{sv}", g, 1, 0), "removing a group");
}

/* ---- once per process ---- */

/* The container's leader: a child of ours that ignores every signal it may (an input's Kill
 * reaches it) and dies with us. Started before any thread. */
static void leader_start(void) {
        pid_t parent = getpid();

        F.leader = fork();
        FUZZ_CHECK(F.leader >= 0, "fork: %m");
        if (F.leader > 0)
                return;
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(0);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_IGN);
        for (;;)
                pause();
}

/* Scratch groups of earlier runs that crashed (a failed check aborts without cleaning up): ours
 * by name, below our own group, and their process is gone. Removed if empty, else left alone. */
static void remove_stale(const char *base) {
        const CgHost *h = F.d.host;
        const char *rel = cg_path_relative(base);

        for (size_t i = 0; i < h->n_hierarchies; i++) {
                int fd = openat(h->hierarchies[i].root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;

                if (!dir) {
                        safe_close(fd);
                        continue;
                }
                for (struct dirent *de; (de = readdir(dir));) {
                        int pid = 0;
                        _cleanup_free_ char *path = NULL;
                        CgTree *t = NULL;

                        if (sscanf(de->d_name, "cgd-fuzz-%d", &pid) != 1 || pid <= 0 || pid == getpid() ||
                            kill(pid, 0) == 0 || errno != ESRCH)
                                continue;
                        path = g_strdup_printf("%s/%s", streq(base, "/") ? "" : base, de->d_name);
                        if (cg_tree_open(h, path, CG_HMASK(i), false, &t, NULL) >= 0)
                                (void) cg_tree_destroy(t, CG_HMASK(i), true, NULL);
                        cg_tree_free(t);
                }
                closedir(dir);
        }
}

/* SCRATCH = <our memory group>/cgd-fuzz-PID in every hierarchy, as the integration tests place
 * theirs; the container's root is SCRATCH/c. */
static void scratch_make(void) {
        char *own[CG_HIERARCHIES_MAX] = {};
        CgFailure f = {};
        char buf[512];
        int r, mem;

        if (geteuid() != 0)
                skip("needs root to make cgroups");
        r = cg_host_discover("/sys/fs/cgroup", &F.d.host);
        if (r < 0)
                skip("no cgroup file system at /sys/fs/cgroup: %s", strerror(-r));
        FUZZ_CHECK(cg_host_pid_paths(F.d.host, getpid(), own) >= 0, "reading /proc/self/cgroup");
        mem = cg_host_find(F.d.host, "memory");
        if (mem < 0 || !own[mem])
                mem = F.d.host->unified;
        FUZZ_CHECK(mem >= 0 && own[mem], "no memory or cgroup2 group of our own");
        remove_stale(own[mem]);
        F.scratch_path = g_strdup_printf("%s/cgd-fuzz-%d", streq(own[mem], "/") ? "" : own[mem], (int) getpid());
        cg_paths_free(own);
        r = cg_tree_open(F.d.host, F.scratch_path, CG_HMASK(F.d.host->n_hierarchies) - 1, true, &F.scratch, &f);
        if (r < 0)
                skip("cannot make %s: %s", F.scratch_path, cg_failure_explain(&f, F.d.host, buf, sizeof buf));
}

static int make_dir_fd(const char *path, mode_t mode) {
        int fd;

        FUZZ_CHECK(mkdir(path, mode) == 0 || errno == EEXIST, "mkdir %s: %m", path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        FUZZ_CHECK(fd >= 0, "open %s: %m", path);
        return fd;
}

/* The Daemon as main.c's run() and setup() make it, in a temporary directory. */
static void daemon_make(void) {
        static char *policy_dirs[2];
        const char *tmpdir = getenv("TMPDIR");
        _cleanup_free_ char *err = NULL, *policy = NULL, *containers = NULL;
        FILE *f;

        F.tmp = g_strdup_printf("%s/cgd-fuzz-handlers.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
        FUZZ_CHECK(mkdtemp(F.tmp), "mkdtemp %s: %m", F.tmp);
        FUZZ_CHECK(chmod(F.tmp, 0755) == 0, "chmod %s: %m", F.tmp);
        policy_dirs[0] = g_strdup_printf("%s/policies", F.tmp);
        safe_close(make_dir_fd(policy_dirs[0], 0755));
        policy = g_strdup_printf("%s/fuzz.conf", policy_dirs[0]);
        f = fopen(policy, "we");
        FUZZ_CHECK(f && fputs(policy_text, f) >= 0 && fclose(f) == 0, "writing %s: %m", policy);
        F.d.cgroup_root = (char *) "/sys/fs/cgroup";
        F.d.runtime_dir = g_strdup_printf("%s/runtime", F.tmp);
        F.d.state_dir = g_strdup_printf("%s/state", F.tmp);
        F.d.policy_dirs = policy_dirs;
        F.d.containers = g_hash_table_new(g_str_hash, g_str_equal);
        F.d.admin = (Listener) { .kind = WATCH_LISTENER, .type = LISTENER_ADMIN, .fd = -EBADF };
        F.d.epoll_fd = F.d.reserve_fd = F.d.inotify_fd = -EBADF;
        F.d.foreground = true;
        F.d.budget = (Budget) { .max_groups = 16384, .max_connections = 65536 };
        FUZZ_CHECK(policies_load(&F.d, &err) >= 0 && policies_get(&F.d, "fuzz"), "policies: %s", err ? err : "no fuzz");
        F.d.runtime_fd = make_dir_fd(F.d.runtime_dir, 0755);
        containers = g_strdup_printf("%s/containers", F.d.runtime_dir);
        F.d.containers_fd = make_dir_fd(containers, 0700);
        F.d.state_fd = make_dir_fd(F.d.state_dir, 0700);
        FUZZ_CHECK(sd_event_new(&F.d.event) >= 0 && server_init(&F.d) >= 0 && worker_init(&F.d) >= 0 &&
                   events_init(&F.d) >= 0, "setting the daemon up");
}

static void container_register(void) {
        _cleanup_free_ char *root = g_strdup_printf("%s/c", F.scratch_path);
        BusOptions o = { .leader_fd = -EBADF, .set = OPT(OPT_CREATE) | OPT(OPT_LEADER) };
        CgdRefusal refusal = {};

        o.flag[OPT_CREATE] = true;
        o.u[OPT_LEADER] = (uint32_t) F.leader;
        FUZZ_CHECK(registry_register(&F.d, CONTAINER, root, "fuzz", &o, &F.c, &refusal) >= 0, "registering: %s",
                   refusal.message);
        FUZZ_CHECK(cg_tree_open(F.d.host, root, F.c->tree->hierarchies, false, &F.root, NULL) >= 0, "opening %s", root);
        F.leader_pidfd = (int) syscall(SYS_pidfd_open, F.leader, 0);
        F.self_pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0);
        F.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        FUZZ_CHECK(F.leader_pidfd >= 0 && F.self_pidfd >= 0 && F.null_fd >= 0, "pidfd_open: %m");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

/* Everything of ours goes: the leader, the container (its root, with RemoveCgroup), the daemon's
 * state, the scratch group with whatever is left below it (deepest first) and the ancestors we
 * made, the temporary directory. */
static void teardown(void) {
        CgFailure f = {};
        char buf[512];

        if (F.leader > 0) {
                (void) kill(F.leader, SIGKILL);
                (void) waitpid(F.leader, NULL, 0);
        }
        if (F.c)
                (void) registry_unregister(&F.d, F.c, true, NULL);
        worker_done(&F.d);
        registry_free_all(&F.d);
        events_done(&F.d);
        server_done(&F.d);
        g_hash_table_destroy(F.d.containers);
        if (F.d.policies)
                g_hash_table_destroy(F.d.policies);
        safe_close(F.d.runtime_fd);
        safe_close(F.d.containers_fd);
        safe_close(F.d.state_fd);
        safe_close(F.leader_pidfd);
        safe_close(F.self_pidfd);
        safe_close(F.null_fd);
        sd_event_unref(F.d.event);
        cg_tree_free(F.root);
        if (cg_tree_destroy(F.scratch, F.scratch->hierarchies, true, &f) < 0)
                fprintf(stderr, "fuzz-handlers: cannot remove %s: %s\n", F.scratch_path,
                        cg_failure_explain(&f, F.d.host, buf, sizeof buf));
        cg_tree_free(F.scratch);
        cg_host_free(F.d.host);
        (void) nftw(F.tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        g_free(F.d.policy_dirs[0]);
        g_free(F.d.runtime_dir);
        g_free(F.d.state_dir);
        g_free(F.scratch_path);
        g_free(F.tmp);
        free(F.snapshot);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        scratch_make();
        /* From here on, whatever happens, the scratch group goes at exit. */
        atexit(teardown);
        /* Not a service: nothing of ours goes to the caller's systemd fd store (handover.c). */
        (void) unsetenv("NOTIFY_SOCKET");
        /* The audit lines of every call would drown the fuzzer's; CGD_FUZZ_AUDIT=1 shows them (for
         * reading what a crashing input did). */
        (void) log_set_level(getenv("CGD_FUZZ_AUDIT") ? "info" : "err");
        F.page_size = (unsigned) sysconf(_SC_PAGESIZE);
        leader_start();
        daemon_make();
        container_register();
        F.snapshot = snapshot();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Input in = { .p = data, .n = size, .keep = g_ptr_array_new_with_free_func(g_free) };
        Session s;

        session_open(&s);
        for (int i = 0; i < CALLS_MAX && in.n > 0; i++)
                run_one(&s, &in);
        check_groups();
        reset(&s);
        check_groups();
        session_close(&s);
        check_unchanged();
        g_ptr_array_unref(in.keep);
        return 0;
}

/* The seeds of tests/fuzz/corpus/handlers/, from the repository's top directory (python3):
 *
 * import os
 * d = "tests/fuzz/corpus/handlers"
 * NOOPT = [0]                      # a{sv}: no entries
 * def path(*c): return [len(c)] + list(c)  # components by index: a=0 b=1 c=2 ..=3
 * seeds = {
 *     "create":       [0] + path(0) + NOOPT,
 *     "create-nested-remove-on-empty": [0] + path(0, 1) + [1, 0, 0, 1],
 *     "remove":       [0] + path(0) + NOOPT + [1] + path(0) + [1] + NOOPT,
 *     "set-pids":     [0] + path(0) + NOOPT + [2] + path(0) + [1, 7, 9] + NOOPT,
 *     "set-memory-cpu": [0] + path(0) + NOOPT + [2] + path(0) + [2, 0, 6, 5, 17] + NOOPT,
 *     "set-cpuset":   [0] + path(0) + NOOPT + [2] + path(0) + [2, 10, 14, 11, 1] + [1, 2, 0, 1],
 *     "get":          [0] + path(0) + NOOPT + [3] + path(0) + [0],
 *     "list":         [0] + path(0, 1) + NOOPT + [4] + path() + [1],
 *     "move":         [0] + path(0) + NOOPT + [5] + path(0) + [0] + NOOPT + [7] + path() + [1],
 *     "move-fd":      [0] + path(1) + NOOPT + [6] + path(1) + [0] + NOOPT,
 *     "freeze-thaw":  [0] + path(0) + NOOPT + [5] + path(0) + [0] + NOOPT + [8] + path(0) + NOOPT + [9] + path(0) + NOOPT,
 *     "kill":         [10] + path() + [2] + NOOPT,
 *     "policy":       [11],
 *     "subscribe":    [12, 2, 0, 1, 0] + path(0) + NOOPT,
 *     "traversal":    [0] + path(3, 3) + NOOPT + [2] + path(0, 3, 3) + [1, 7, 1] + NOOPT + [1] + path() + [1] + NOOPT,
 *     "control-files": [0] + path(6) + NOOPT + [2] + path(8) + [1, 13, 1] + NOOPT + [0] + path(0, 9) + NOOPT,
 *     "too-deep":     [0] + [5, 0, 0, 0, 0, 0] + NOOPT,
 *     "wrong-signature": [13, 0, 0, 0, 2, 9, 0, 1] + [0] * 8,
 * }
 * os.makedirs(d, exist_ok=True)
 * for name, b in seeds.items(): open(os.path.join(d, name), "wb").write(bytes(b))
 */
