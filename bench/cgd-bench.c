/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgd-bench: the measuring half of `make bench` (bench/run.sh drives it and prints the ratios).
 *
 *   cgd-bench write GROUPDIR N                 in-process openat+write+close of GROUPDIR/pids.max
 *   cgd-bench serve-naive SOCKET GROUPDIR      a naive sd-bus peer-to-peer server: one sd-bus
 *                                              connection attached to sd-event per client, Write(s)
 *                                              writes pids.max; runs until killed
 *   cgd-bench serve-raw SOCKET GROUPDIR        a raw epoll AF_UNIX server: a 64-byte message in,
 *                                              the same write, one byte back
 *   cgd-bench latency KIND SOCKET N [GROUP]    N calls, one connection; prints p50 and p99 in us
 *   cgd-bench load KIND SOCKET CLIENTS SECONDS [GROUP]
 *                                              CLIENTS processes calling for SECONDS; calls/s
 *
 *   cgd-bench register ADMIN PREFIX CGROUP POLICY FROM TO
 *                                              registers containers PREFIX-FROM .. PREFIX-(TO-1)
 *                                              at CGROUP/PREFIX-i with Create=true; prints the rate
 *   cgd-bench unregister ADMIN PREFIX FROM TO  unregisters them with RemoveCgroup=true
 *   cgd-bench idle RUNDIR PREFIX FROM TO EXTRA one connection to each of those containers'
 *                                              sockets and EXTRA to RUNDIR/admin.socket, each
 *                                              after one call (GetPolicy, GetStatistics); prints
 *                                              "ready" and holds them until stdin closes
 *   cgd-bench answer RUNDIR PREFIX FROM TO STEP TIMEOUT
 *                                              until every STEP-th container answers a Ping on a
 *                                              new connection (retrying refused or failed
 *                                              connects), at most TIMEOUT seconds; prints the time
 *
 * KIND: naive, raw (the servers above), set1, set4, get, move (cgdelegated's Container1 on the
 * container's socket, on GROUP: SetProperties of pids.max, of four keys, GetProperties of
 * pids.max, MoveProcess of the caller there and back). Every call's reply is checked: a failed
 * call ends the run with its error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

#define OBJ "/org/cgdelegate"
#define NAIVE_IFACE "org.cgdelegate.Bench1"
#define CONTAINER_IFACE "org.cgdelegate.Container1"

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int die(const char *what, int r) {
        fprintf(stderr, "cgd-bench: %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(1);
}

static int write_knob(int dirfd, const char *value) {
        int fd = openat(dirfd, "pids.max", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, value, strlen(value));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

static void print_latency(const char *name, uint64_t *ns, size_t n) {
        qsort(ns, n, sizeof *ns, cmp_u64);
        printf("%s p50_us=%.1f p99_us=%.1f n=%zu\n", name, ns[n / 2] / 1000.0, ns[(n * 99) / 100] / 1000.0, n);
}

/* ---- the floors ---- */

static int cmd_write(const char *dir, size_t n) {
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                die(dir, errno);
        uint64_t *ns = calloc(n, sizeof *ns);
        for (size_t i = 0; i < n; i++) {
                uint64_t t = now_ns();
                int r = write_knob(dirfd, i % 2 ? "1000" : "1001");
                if (r < 0)
                        die("write pids.max", r);
                ns[i] = now_ns() - t;
        }
        print_latency("write", ns, n);
        return 0;
}

static int listen_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void) unlink(path);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0)
                die(path, errno);
        return fd;
}

static int connect_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                die(path, errno);
        return fd;
}

static int naive_dirfd = -1;

static int naive_write(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *value;
        int r = sd_bus_message_read(m, "s", &value);
        if (r >= 0)
                r = write_knob(naive_dirfd, value);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable naive_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Write", "s", "", naive_write, 0),
        SD_BUS_VTABLE_END,
};

static int naive_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn < 0)
                return 0;
        sd_bus *bus = NULL;
        sd_id128_t id;
        (void) sd_id128_randomize(&id);
        /* The naive design: a connection of its own on the event loop for every client. */
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, conn, conn) < 0 || sd_bus_set_server(bus, 1, id) < 0 ||
            sd_bus_set_anonymous(bus, 1) < 0 || sd_bus_add_object_vtable(bus, NULL, OBJ, NAIVE_IFACE, naive_vtable, NULL) < 0 ||
            sd_bus_start(bus) < 0 || sd_bus_attach_event(bus, sd_event_source_get_event(s), 0) < 0) {
                sd_bus_unref(bus);
                close(conn);
        }
        return 0; /* closed connections stay attached until the server is killed: fine for a bench */
}

static int cmd_serve_naive(const char *path, const char *dir) {
        naive_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (naive_dirfd < 0)
                die(dir, errno);
        sd_event *e = NULL;
        int fd = listen_unix(path);
        if (sd_event_default(&e) < 0 || sd_event_add_io(e, NULL, fd, EPOLLIN, naive_accept, NULL) < 0)
                die("sd-event", EIO);
        return sd_event_loop(e);
}

static _Noreturn void cmd_serve_raw(const char *path, const char *dir) {
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), lfd = listen_unix(path), ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
        if (dirfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
                die("raw server", errno);
        for (;;) {
                struct epoll_event evs[64];
                int n = epoll_wait(ep, evs, 64, -1);
                for (int i = 0; i < n; i++) {
                        if (evs[i].data.fd == lfd) {
                                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                                struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
                                if (c >= 0)
                                        (void) epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                                continue;
                        }
                        char buf[64];
                        ssize_t k = read(evs[i].data.fd, buf, sizeof buf);
                        if (k <= 0 || write_knob(dirfd, buf[0] == '1' ? "1000" : "1001") < 0 ||
                            write(evs[i].data.fd, "k", 1) != 1)
                                close(evs[i].data.fd);
                }
        }
}

/* ---- clients ---- */

typedef struct Client {
        const char *kind, *group;
        sd_bus *bus;
        int raw_fd;
        unsigned i;
} Client;

static void client_open(Client *c, const char *kind, const char *path, const char *group) {
        *c = (Client) { .kind = kind, .group = group ? group : "/bench", .raw_fd = -1 };
        if (strcmp(kind, "raw") == 0) {
                c->raw_fd = connect_unix(path);
                return;
        }
        char address[256];
        snprintf(address, sizeof address, "unix:path=%s", path);
        int r = sd_bus_new(&c->bus);
        if (r >= 0)
                r = sd_bus_set_address(c->bus, address);
        if (r >= 0)
                r = sd_bus_start(c->bus);
        if (r < 0)
                die(path, r);
}

static int client_call(Client *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *value = c->i++ % 2 ? "1000" : "1001";
        int r;
        if (c->raw_fd >= 0) {
                char buf[64] = { value[3] }, k;
                return write(c->raw_fd, buf, sizeof buf) == sizeof buf && read(c->raw_fd, &k, 1) == 1 ? 0 : -EIO;
        }
        if (strcmp(c->kind, "naive") == 0)
                r = sd_bus_call_method(c->bus, NULL, OBJ, NAIVE_IFACE, "Write", &e, &reply, "s", value);
        else if (strcmp(c->kind, "set1") == 0)
                r = sd_bus_call_method(c->bus, NULL, OBJ, CONTAINER_IFACE, "SetProperties", &e, &reply, "sa(ss)a{sv}",
                                       c->group, 1, "pids.max", value, 0);
        else if (strcmp(c->kind, "set4") == 0)
                r = sd_bus_call_method(c->bus, NULL, OBJ, CONTAINER_IFACE, "SetProperties", &e, &reply, "sa(ss)a{sv}",
                                       c->group, 4, "pids.max", value, "memory.max", c->i % 2 ? "512M" : "511M",
                                       "cpu.weight", c->i % 2 ? "100" : "101", "cpu.max", c->i % 2 ? "50000 100000" : "60000 100000", 0);
        else if (strcmp(c->kind, "get") == 0)
                r = sd_bus_call_method(c->bus, NULL, OBJ, CONTAINER_IFACE, "GetProperties", &e, &reply, "sas", c->group, 1,
                                       "pids.max");
        else if (strcmp(c->kind, "move") == 0)
                /* There and back: the benchmark process must end where it started. */
                r = sd_bus_call_method(c->bus, NULL, OBJ, CONTAINER_IFACE, "MoveProcess", &e, &reply, "sua{sv}",
                                       c->i % 2 ? c->group : "/", (uint32_t) getpid(), 0);
        else
                return -EINVAL;
        if (r < 0)
                fprintf(stderr, "cgd-bench: %s: %s\n", c->kind, e.message ? e.message : strerror(-r));
        return r;
}

static int cmd_latency(const char *kind, const char *path, size_t n, const char *group) {
        Client c;
        client_open(&c, kind, path, group);
        uint64_t *ns = calloc(n, sizeof *ns);
        for (size_t i = 0; i < n / 10 + 1; i++) /* warm-up */
                if (client_call(&c) < 0)
                        return 1;
        for (size_t i = 0; i < n; i++) {
                uint64_t t = now_ns();
                if (client_call(&c) < 0)
                        return 1;
                ns[i] = now_ns() - t;
        }
        print_latency(kind, ns, n);
        return 0;
}

static int cmd_load(const char *kind, const char *path, int clients, int seconds, const char *group) {
        int pipefd[2];
        if (pipe(pipefd) < 0)
                die("pipe", errno);
        uint64_t start = now_ns(), end = start + (uint64_t) seconds * 1000000000u;
        for (int k = 0; k < clients; k++) {
                pid_t pid = fork();
                if (pid < 0)
                        die("fork", errno);
                if (pid == 0) {
                        Client c;
                        uint64_t calls = 0;
                        client_open(&c, kind, path, group);
                        while (now_ns() < end && client_call(&c) >= 0)
                                calls++;
                        (void) !write(pipefd[1], &calls, sizeof calls);
                        _exit(now_ns() < end ? 1 : 0);
                }
        }
        close(pipefd[1]);
        uint64_t total = 0, calls;
        while (read(pipefd[0], &calls, sizeof calls) == sizeof calls)
                total += calls;
        int status, failed = 0;
        while (wait(&status) > 0)
                failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        double secs = (now_ns() - start) / 1e9;
        printf("%s clients=%d calls_per_s=%.0f\n", kind, clients, total / secs);
        return failed;
}

/* ---- many containers ---- */

static sd_bus *bus_open(const char *path) {
        char address[256];
        sd_bus *bus = NULL;
        snprintf(address, sizeof address, "unix:path=%s", path);
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                bus = sd_bus_unref(bus);
        return bus;
}

static int ping(sd_bus *bus) {
        return sd_bus_call_method(bus, NULL, OBJ, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, "");
}

static int cmd_register(const char *admin, const char *prefix, const char *cgroup, const char *policy, int from,
                        int to, bool unregister) {
        sd_bus *bus = bus_open(admin);
        if (!bus)
                die(admin, ECONNREFUSED);
        uint64_t start = now_ns();
        for (int i = from; i < to; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                char name[64], path[512];
                snprintf(name, sizeof name, "%s-%d", prefix, i);
                snprintf(path, sizeof path, "%s/%s", cgroup, name);
                int r = unregister ? sd_bus_call_method(bus, NULL, OBJ, "org.cgdelegate.Manager1", "UnregisterContainer", &e,
                                                        NULL, "sa{sv}", name, 1, "RemoveCgroup", "b", 1)
                                   : sd_bus_call_method(bus, NULL, OBJ, "org.cgdelegate.Manager1", "RegisterContainer", &e,
                                                        NULL, "sssa{sv}", name, path, policy, 1, "Create", "b", 1);
                if (r < 0) {
                        fprintf(stderr, "cgd-bench: %s: %s\n", name, e.message ? e.message : strerror(-r));
                        return 1;
                }
        }
        double secs = (now_ns() - start) / 1e9;
        printf("%s n=%d seconds=%.2f per_s=%.0f\n", unregister ? "unregister" : "register", to - from, secs,
               (to - from) / (secs > 0 ? secs : 1e-9));
        sd_bus_unref(bus);
        return 0;
}

static void raise_nofile(size_t want) {
        struct rlimit rl = { want, want };
        (void) setrlimit(RLIMIT_NOFILE, &rl);
}

static int cmd_idle(const char *rundir, const char *prefix, int from, int to, int extra) {
        int n = to - from + extra;
        raise_nofile((size_t) n + 64);
        sd_bus **buses = calloc((size_t) n, sizeof(sd_bus *));
        uint64_t start = now_ns();
        for (int i = 0; i < n; i++) {
                char path[512];
                if (i < to - from)
                        snprintf(path, sizeof path, "%s/containers/%s-%d/socket", rundir, prefix, from + i);
                else
                        snprintf(path, sizeof path, "%s/admin.socket", rundir);
                /* One real call each, as a client that connected to do something has made. */
                bool admin = i >= to - from;
                buses[i] = bus_open(path);
                if (!buses[i] || sd_bus_call_method(buses[i], NULL, OBJ, admin ? "org.cgdelegate.Manager1" : CONTAINER_IFACE,
                                                    admin ? "GetStatistics" : "GetPolicy", NULL, NULL, "") < 0)
                        die(path, ECONNREFUSED);
        }
        printf("ready n=%d seconds=%.2f\n", n, (now_ns() - start) / 1e9);
        fflush(stdout);
        char c;
        while (read(STDIN_FILENO, &c, 1) > 0)
                ;
        start = now_ns();
        for (int i = 0; i < n; i++)
                sd_bus_flush_close_unref(buses[i]);
        fprintf(stderr, "closed n=%d seconds=%.2f\n", n, (now_ns() - start) / 1e9);
        return 0;
}

static int cmd_answer(const char *rundir, const char *prefix, int from, int to, int step, int timeout) {
        uint64_t start = now_ns(), deadline = start + (uint64_t) timeout * 1000000000u;
        int n = 0;
        for (int i = from; i < to; i += step) {
                char path[512];
                snprintf(path, sizeof path, "%s/containers/%s-%d/socket", rundir, prefix, i);
                for (;;) {
                        sd_bus *bus = bus_open(path);
                        int r = bus ? ping(bus) : -ECONNREFUSED;
                        sd_bus_flush_close_unref(bus);
                        if (r >= 0)
                                break;
                        if (now_ns() > deadline) {
                                fprintf(stderr, "cgd-bench: %s did not answer within %d s\n", path, timeout);
                                return 1;
                        }
                        usleep(1000);
                }
                n++;
        }
        printf("answered n=%d seconds=%.3f\n", n, (now_ns() - start) / 1e9);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc >= 4 && strcmp(argv[1], "write") == 0)
                return cmd_write(argv[2], strtoul(argv[3], NULL, 10));
        if (argc >= 4 && strcmp(argv[1], "serve-naive") == 0)
                return cmd_serve_naive(argv[2], argv[3]);
        if (argc >= 4 && strcmp(argv[1], "serve-raw") == 0)
                cmd_serve_raw(argv[2], argv[3]);
        if (argc >= 5 && strcmp(argv[1], "latency") == 0)
                return cmd_latency(argv[2], argv[3], strtoul(argv[4], NULL, 10), argc > 5 ? argv[5] : NULL);
        if (argc >= 6 && strcmp(argv[1], "load") == 0)
                return cmd_load(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), argc > 6 ? argv[6] : NULL);
        if (argc >= 8 && strcmp(argv[1], "register") == 0)
                return cmd_register(argv[2], argv[3], argv[4], argv[5], atoi(argv[6]), atoi(argv[7]), false);
        if (argc >= 6 && strcmp(argv[1], "unregister") == 0)
                return cmd_register(argv[2], argv[3], "", "", atoi(argv[4]), atoi(argv[5]), true);
        if (argc >= 7 && strcmp(argv[1], "idle") == 0)
                return cmd_idle(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
        if (argc >= 8 && strcmp(argv[1], "answer") == 0)
                return cmd_answer(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]));
        fprintf(stderr, "usage: see the top of bench/cgd-bench.c\n");
        return 2;
}
