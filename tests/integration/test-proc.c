/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc.c against real pid namespaces, as root. A "container" here is a child made pid 1 of a new
 * pid namespace, with a pid 2 that sleeps and a pid 3 that is pid 1 of a namespace nested below
 * (with its own pid 2, which is pid 4 above). Checks that a pid translates only into a namespace
 * the process really lives in (never a sibling's, never from above), that pidfds opened through
 * the helper name the right process, that no helper, zombie or fd is left behind, that a dead
 * namespace answers promptly, and measures one helper round trip. Skips with the reason when not
 * root or when pid namespaces cannot be made here.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "proc.h"
#include "testutil.h"

typedef struct Container {
        pid_t init;         /* pid 1 */
        pid_t second;       /* pid 2 */
        pid_t nested;       /* pid 3, pid 1 of the namespace below */
        pid_t nested_child; /* pid 4, pid 2 of the namespace below */
        PidNs ns;
} Container;

/* Containers still running, so a failed assertion cannot leave one behind for the next test. */
static pid_t running[4];

static void running_set(pid_t from, pid_t to) {
        for (size_t i = 0; i < ELEMENTSOF(running); i++)
                if (running[i] == from) {
                        running[i] = to;
                        return;
                }
        fail_msg("more than %zu containers at once", ELEMENTSOF(running));
}

static int teardown(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(running); i++)
                if (running[i] > 0) {
                        (void) kill(running[i], SIGKILL);
                        (void) waitpid(running[i], NULL, 0);
                        running[i] = 0;
                }
        return 0;
}

static int pidfd_open_raw(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

static double now_us(void) {
        struct timespec ts;
        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static _Noreturn void sleep_forever(int fd) {
        (void) safe_close(fd);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (;;)
                pause();
}

/* Reads the numbers after key in /proc/PID/status; returns how many (0: no such process). */
static int status_numbers(pid_t pid, const char *key, long *v, int max) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        size_t size = 0;
        int n = 0;

        assert_true(asprintf(&path, "/proc/%d/status", (int) pid) > 0);
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        while (getline(&line, &size, f) >= 0) {
                const char *p = startswith(line, key);
                char *end;
                if (!p)
                        continue;
                for (; n < max; n++, p = end) {
                        v[n] = strtol(p, &end, 10);
                        if (end == p)
                                break;
                }
                break;
        }
        (void) fclose(f);
        return n;
}

/* Calls fn for every process whose parent is parent. */
static int for_each_child(pid_t parent, void (*fn)(pid_t pid, void *arg), void *arg) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        int count = 0;

        assert_non_null(d);
        while ((de = readdir(d))) {
                long ppid;
                pid_t pid = (pid_t) atoi(de->d_name);
                if (pid <= 0 || status_numbers(pid, "PPid:", &ppid, 1) != 1 || ppid != parent)
                        continue;
                count++;
                if (fn)
                        fn(pid, arg);
        }
        (void) closedir(d);
        return count;
}

typedef struct Find {
        unsigned level;
        pid_t found;
} Find;

static void find_one(pid_t pid, void *arg) {
        Find *f = arg;
        long nspid[40];
        if ((unsigned) status_numbers(pid, "NSpid:", nspid, 40) == f->level + 1)
                f->found = pid;
}

/* The child of parent at a namespace level (there is one of each in a container). */
static pid_t find_child(pid_t parent, unsigned level) {
        Find f = { .level = level };
        (void) for_each_child(parent, find_one, &f);
        assert_true(f.found > 0);
        return f.found;
}

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;
        assert_non_null(d);
        while (readdir(d))
                n++;
        (void) closedir(d);
        return n;
}

static _Noreturn void container_init(int ready) {
        /* Should the test crash, the namespace must not outlive it. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (fork() == 0)
                sleep_forever(ready);
        if (unshare(CLONE_NEWPID) < 0)
                _exit(1);
        if (fork() == 0) {
                if (fork() == 0)
                        sleep_forever(ready);
                /* Written last, by the last process to exist: everything is in place. */
                (void) write(ready, "x", 1);
                sleep_forever(ready);
        }
        sleep_forever(ready);
}

/* Makes a container; -errno when pid namespaces cannot be made here. */
static int container_start(Container *c) {
        _cleanup_close_ int own = -EBADF, rd = -EBADF, wr = -EBADF;
        struct pollfd p;
        int fds[2];
        char x;
        pid_t pid;

        own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        assert_true(own >= 0);
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        rd = fds[0];
        wr = fds[1];
        if (unshare(CLONE_NEWPID) < 0)
                return -errno;
        pid = fork();
        if (pid == 0) {
                (void) safe_close(rd);
                container_init(wr);
        }
        /* Only the first fork goes into the new namespace; later ones stay in ours. */
        assert_int_equal(setns(own, CLONE_NEWPID), 0);
        assert_true(pid > 0);
        wr = safe_close(wr);
        p = (struct pollfd) { .fd = rd, .events = POLLIN };
        if (poll(&p, 1, 5000) != 1 || read(rd, &x, 1) != 1) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return -EIO;
        }
        *c = (Container) { .init = pid, .ns = PIDNS_NULL };
        running_set(0, pid);
        c->second = find_child(pid, 1);
        c->nested = find_child(pid, 2);
        c->nested_child = find_child(c->nested, 2);
        assert_int_equal(pidns_of_pid(pid, &c->ns), 0);
        return 0;
}

static void container_stop(Container *c) {
        /* Killing pid 1 kills the whole namespace, nested ones included, before it is reaped. */
        assert_int_equal(kill(c->init, SIGKILL), 0);
        assert_int_equal(waitpid(c->init, NULL, 0), c->init);
        running_set(c->init, 0);
        pidns_done(&c->ns);
}

#define REQUIRE_CONTAINER(c)                                                            \
        Container c;                                                                    \
        do {                                                                            \
                if (geteuid() != 0)                                                     \
                        skip_because("needs root (pid namespaces, setns)");             \
                int _r = container_start(&c);                                           \
                if (_r < 0)                                                             \
                        skip_because("cannot make a pid namespace here: %s", strerror(-_r)); \
        } while (0)

static pid_t pidfd_pid(int pidfd) {
        pid_t pid = 0;
        assert_int_equal(proc_pidfd_host_pid(pidfd, &pid), 0);
        return pid;
}

/* ---- namespaces of processes ---- */

static void test_pidns_of_pid(void **state) {
        REQUIRE_CONTAINER(c);
        PidNs own = PIDNS_NULL, second = PIDNS_NULL, below = PIDNS_NULL, viafd = PIDNS_NULL;
        struct stat st;

        assert_int_equal(c.ns.level, 1);
        assert_true(c.ns.fd >= 0);
        assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
        assert_int_equal(pidns_of_pid(getpid(), &own), 0);
        assert_int_equal(own.level, 0);
        assert_true(own.dev == st.st_dev && own.ino == st.st_ino);
        assert_false(pidns_equal(&own, &c.ns));

        assert_int_equal(pidns_of_pid(c.second, &second), 0);
        assert_int_equal(second.level, 1);
        assert_true(pidns_equal(&second, &c.ns));

        assert_int_equal(pidns_of_pid(c.nested_child, &below), 0);
        assert_int_equal(below.level, 2);
        assert_false(pidns_equal(&below, &c.ns));

        _cleanup_close_ int pidfd = pidfd_open_raw(c.second);
        assert_true(pidfd >= 0);
        assert_int_equal(pidns_of_pidfd(pidfd, &viafd), 0);
        assert_true(pidns_equal(&viafd, &c.ns));
        assert_int_equal(viafd.level, 1);

        assert_int_equal(pidns_of_pid(0, &viafd), -ESRCH);
        assert_int_equal(pidns_of_pid(-1, &viafd), -ESRCH);
        assert_int_equal(pidns_of_pid(INT32_MAX, &viafd), -ESRCH);
        assert_true(pidns_equal(&viafd, &c.ns)); /* untouched on failure */

        pidns_done(&own);
        pidns_done(&second);
        pidns_done(&below);
        pidns_done(&viafd);
        assert_int_equal(viafd.fd, -EBADF);
        pidns_done(NULL);
        container_stop(&c);
}

/* ---- translating host pids ---- */

static void test_pid_in_ns(void **state) {
        REQUIRE_CONTAINER(c);
        PidNs own = PIDNS_NULL;
        pid_t got = 0;

        assert_int_equal(proc_pid_in_ns(c.init, &c.ns, &got), 0);
        assert_int_equal(got, 1);
        assert_int_equal(proc_pid_in_ns(c.second, &c.ns, &got), 0);
        assert_int_equal(got, 2);
        /* A process of a namespace below counts as inside, with the pid the container sees. */
        assert_int_equal(proc_pid_in_ns(c.nested, &c.ns, &got), 0);
        assert_int_equal(got, 3);
        assert_int_equal(proc_pid_in_ns(c.nested_child, &c.ns, &got), 0);
        assert_int_equal(got, 4);
        assert_int_equal(proc_pid_in_ns(c.second, &c.ns, NULL), 0);

        /* The daemon itself is above the container: as invisible as a pid that does not exist. */
        got = 77;
        assert_int_equal(proc_pid_in_ns(getpid(), &c.ns, &got), -ESRCH);
        assert_int_equal(proc_pid_in_ns(getppid(), &c.ns, &got), -ESRCH);
        assert_int_equal(proc_pid_in_ns(INT32_MAX, &c.ns, &got), -ESRCH);
        assert_int_equal(proc_pid_in_ns(0, &c.ns, &got), -ESRCH);
        assert_int_equal(got, 77);

        assert_int_equal(pidns_of_pid(getpid(), &own), 0);
        assert_int_equal(proc_pid_in_ns(c.second, &own, &got), 0);
        assert_int_equal(got, c.second);
        assert_int_equal(proc_pid_in_ns(getpid(), &own, &got), 0);
        assert_int_equal(got, getpid());
        pidns_done(&own);
        container_stop(&c);
}

static void test_sibling_and_nested(void **state) {
        REQUIRE_CONTAINER(a);
        Container b;
        PidNs below = PIDNS_NULL;
        pid_t got = 0;

        assert_int_equal(container_start(&b), 0);
        assert_int_equal(b.ns.level, a.ns.level);
        assert_false(pidns_equal(&a.ns, &b.ns));
        /* Same level, other namespace: another container's processes, whatever their number. */
        assert_int_equal(proc_pid_in_ns(b.init, &a.ns, &got), -ESRCH);
        assert_int_equal(proc_pid_in_ns(b.second, &a.ns, &got), -ESRCH);
        assert_int_equal(proc_pid_in_ns(b.nested_child, &a.ns, &got), -ESRCH);
        assert_int_equal(proc_pid_in_ns(a.second, &b.ns, &got), -ESRCH);

        assert_int_equal(pidns_of_pid(a.nested, &below), 0);
        assert_int_equal(below.level, 2);
        assert_int_equal(proc_pid_in_ns(a.nested, &below, &got), 0);
        assert_int_equal(got, 1);
        assert_int_equal(proc_pid_in_ns(a.nested_child, &below, &got), 0);
        assert_int_equal(got, 2);
        /* From a nested namespace, its parent's processes are outside. */
        assert_int_equal(proc_pid_in_ns(a.init, &below, &got), -ESRCH);
        assert_int_equal(proc_pid_in_ns(a.second, &below, &got), -ESRCH);
        /* Same depth as b's nested namespace, not the same namespace. */
        assert_int_equal(proc_pid_in_ns(b.nested_child, &below, &got), -ESRCH);
        pidns_done(&below);
        container_stop(&b);
        container_stop(&a);
}

/* ---- pidfds through the helper ---- */

static void test_open_in_ns(void **state) {
        REQUIRE_CONTAINER(c);
        Container b;
        PidNs below = PIDNS_NULL;
        int pidfd = -EBADF;

        assert_int_equal(container_start(&b), 0);
        assert_int_equal(proc_open_in_ns(&c.ns, 2, &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), c.second);
        assert_int_equal(fcntl(pidfd, F_GETFD), FD_CLOEXEC);
        pidfd = safe_close(pidfd);
        assert_int_equal(proc_open_in_ns(&c.ns, 1, &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), c.init);
        pidfd = safe_close(pidfd);
        assert_int_equal(proc_open_in_ns(&c.ns, 4, &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), c.nested_child);
        pidfd = safe_close(pidfd);
        /* The same number in a sibling is a different process. */
        assert_int_equal(proc_open_in_ns(&b.ns, 2, &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), b.second);
        pidfd = safe_close(pidfd);

        assert_int_equal(proc_open_in_ns(&c.ns, 999999, &pidfd), -ESRCH);
        assert_int_equal(proc_open_in_ns(&c.ns, 0, &pidfd), -ESRCH);
        assert_int_equal(proc_open_in_ns(&c.ns, -1, &pidfd), -ESRCH);
        /* Our own number means whatever it means inside the container, never us. */
        int r = proc_open_in_ns(&c.ns, getpid(), &pidfd);
        if (r == 0) {
                assert_int_not_equal(pidfd_pid(pidfd), getpid());
                assert_int_equal(proc_pid_in_ns(pidfd_pid(pidfd), &c.ns, NULL), 0);
                pidfd = safe_close(pidfd);
        } else
                assert_int_equal(r, -ESRCH);
        assert_int_equal(pidfd, -EBADF);

        assert_int_equal(pidns_of_pid(c.nested, &below), 0);
        assert_int_equal(proc_open_in_ns(&below, 1, &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), c.nested);
        pidfd = safe_close(pidfd);
        assert_int_equal(proc_open_in_ns(&below, 2, &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), c.nested_child);
        pidfd = safe_close(pidfd);
        assert_int_equal(proc_open_in_ns(&below, 3, &pidfd), -ESRCH);
        pidns_done(&below);
        container_stop(&b);
        container_stop(&c);
}

static void test_open_in_own_ns(void **state) {
        REQUIRE_CONTAINER(c);
        PidNs own = PIDNS_NULL;
        int pidfd = -EBADF;

        assert_int_equal(pidns_of_pid(getpid(), &own), 0);
        assert_int_equal(proc_open_in_ns(&own, getpid(), &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), getpid());
        pidfd = safe_close(pidfd);
        assert_int_equal(proc_open_in_ns(&own, c.second, &pidfd), 0);
        assert_int_equal(pidfd_pid(pidfd), c.second);
        pidfd = safe_close(pidfd);
        assert_int_equal(proc_open_in_ns(&own, INT32_MAX, &pidfd), -ESRCH);
        pidns_done(&own);
        container_stop(&c);
}

static void test_pidfd_host_pid(void **state) {
        _cleanup_close_ int pidfd = -EBADF, rd = -EBADF, wr = -EBADF;
        PidNs ns = PIDNS_NULL;
        int fds[2];
        pid_t pid, got = 0;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                sleep_forever(-EBADF);
        pidfd = pidfd_open_raw(pid);
        assert_true(pidfd >= 0);
        assert_int_equal(proc_pidfd_host_pid(pidfd, &got), 0);
        assert_int_equal(got, pid);
        assert_true(proc_pidfd_alive(pidfd));

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_false(proc_pidfd_alive(pidfd));
        got = 77;
        assert_int_equal(proc_pidfd_host_pid(pidfd, &got), -ESRCH);
        assert_int_equal(pidns_of_pidfd(pidfd, &ns), -ESRCH);
        assert_int_equal(got, 77);

        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        rd = fds[0];
        wr = fds[1];
        assert_int_equal(proc_pidfd_host_pid(rd, &got), -EINVAL);
        assert_int_equal(pidns_of_pidfd(rd, &ns), -EINVAL);
        assert_int_equal(proc_pidfd_host_pid(-1, &got), -EBADF);
        assert_int_equal(proc_pidfd_host_pid(100000, &got), -EBADF);
        assert_int_equal(got, 77);
}

/* ---- nothing left behind ---- */

static void test_no_leftovers(void **state) {
        REQUIRE_CONTAINER(c);
        int fds_before = count_fds(), pidfd = -EBADF;

        for (int i = 0; i < 20; i++) {
                assert_int_equal(proc_open_in_ns(&c.ns, 2, &pidfd), 0);
                pidfd = safe_close(pidfd);
                assert_int_equal(proc_open_in_ns(&c.ns, 999999, &pidfd), -ESRCH);
                assert_int_equal(proc_pid_in_ns(c.second, &c.ns, NULL), 0);
        }
        /* No helper alive or zombie: our only child is the container, its init has its own two. */
        assert_int_equal(for_each_child(getpid(), NULL, NULL), 1);
        assert_int_equal(for_each_child(c.init, NULL, NULL), 2);
        assert_int_equal(for_each_child(c.nested, NULL, NULL), 1);
        assert_int_equal(count_fds(), fds_before);
        container_stop(&c);
        assert_int_equal(for_each_child(getpid(), NULL, NULL), 0);
}

static void test_dead_namespace(void **state) {
        REQUIRE_CONTAINER(c);
        PidNs ns = PIDNS_NULL;
        int pidfd = -EBADF;
        double t;

        /* Keep the namespace alive through its fd, then let every process in it die. */
        ns = c.ns;
        c.ns = PIDNS_NULL;
        container_stop(&c);
        assert_int_equal(pidns_of_pid(c.init, &c.ns), -ESRCH);
        assert_int_equal(proc_pid_in_ns(c.second, &ns, NULL), -ESRCH);

        t = now_us();
        assert_int_equal(proc_open_in_ns(&ns, 1, &pidfd), -ESRCH);
        assert_int_equal(proc_open_in_ns(&ns, 2, &pidfd), -ESRCH);
        t = now_us() - t;
        print_message("# proc_open_in_ns on a dead namespace: %.0f us for two calls\n", t);
        assert_true(t < 1e6);
        assert_int_equal(pidfd, -EBADF);
        assert_int_equal(for_each_child(getpid(), NULL, NULL), 0);
        pidns_done(&ns);
}

static void test_helper_latency(void **state) {
        REQUIRE_CONTAINER(c);
        PidNs own = PIDNS_NULL;
        int pidfd = -EBADF;
        double t0, t1, t2;

        assert_int_equal(pidns_of_pid(getpid(), &own), 0);
        t0 = now_us();
        for (int i = 0; i < 100; i++) {
                assert_int_equal(proc_open_in_ns(&c.ns, 2, &pidfd), 0);
                pidfd = safe_close(pidfd);
        }
        t1 = now_us();
        for (int i = 0; i < 100; i++) {
                assert_int_equal(proc_open_in_ns(&own, c.second, &pidfd), 0);
                pidfd = safe_close(pidfd);
        }
        t2 = now_us();
        print_message("# proc_open_in_ns: %.0f us per call at level 1 (helper), %.0f us at level 0 "
                      "(average of 100 calls each)\n", (t1 - t0) / 100, (t2 - t1) / 100);
        pidns_done(&own);
        container_stop(&c);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pidns_of_pid, teardown),
        cmocka_unit_test_teardown(test_pid_in_ns, teardown),
        cmocka_unit_test_teardown(test_sibling_and_nested, teardown),
        cmocka_unit_test_teardown(test_open_in_ns, teardown),
        cmocka_unit_test_teardown(test_open_in_own_ns, teardown),
        cmocka_unit_test_teardown(test_pidfd_host_pid, teardown),
        cmocka_unit_test_teardown(test_no_leftovers, teardown),
        cmocka_unit_test_teardown(test_dead_namespace, teardown),
        cmocka_unit_test_teardown(test_helper_latency, teardown),
};

TEST_MAIN(tests, NULL, NULL)
