/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes and pid namespaces (proc.h): reading which pid namespace a process lives in and its
 * pids there from /proc, translating host pids into a container's namespace, and opening a pidfd
 * for a pid as a container sees it through a short-lived helper forked into that namespace. Every
 * read about one process goes through one dirfd of /proc/PID, which pins that process, so a
 * recycled pid number can never mix two processes' answers; where the question started from a
 * pidfd, the pidfd is checked alive afterwards so the answer is about that very process. The
 * helper runs nothing but system calls: no container code, no daemon code, no daemon fds.
 */
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "macro.h"
#include "proc.h"

/* The kernel nests at most 32 pid namespaces below init's (MAX_PID_NS_LEVEL). */
#define PROC_NSPID_MAX 33
/* How long a helper may take before it is killed; one round trip takes well under a millisecond. */
#define PROC_HELPER_TIMEOUT_MS 2000

static void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

static int pidfd_open_raw(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

/* A /proc/PID file that is gone (ENOENT) means the process is gone. */
static int proc_errno(void) {
        int r = negative_errno();
        return r == -ENOENT ? -ESRCH : r;
}

static int proc_open_root(int *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;

        fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstatfs(fd, &sfs) < 0)
                return negative_errno();
        /* Anything but procfs on /proc could forge the NSpid and Pid lines every check rests on. */
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return -ENODEV;
        *ret = TAKE_FD(fd);
        return 0;
}

/* /proc/PID as an O_PATH dirfd: it pins that process, files opened through it after the pid was
 * reused fail instead of describing the newcomer. */
static int proc_open_pid_dir(pid_t pid, int *ret) {
        _cleanup_close_ int root = -EBADF;
        char name[16];
        int fd, r;

        if (pid <= 0)
                return -ESRCH;
        r = proc_open_root(&root);
        if (r < 0)
                return r;
        (void) snprintf(name, sizeof name, "%d", (int) pid);
        fd = openat(root, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return proc_errno();
        *ret = fd;
        return 0;
}

/* What follows key on its line of a /proc text file, malloc'ed; -ENODATA when no line has it. */
static int proc_read_field(int dirfd, const char *path, const char *key, char **ret) {
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        int fd;

        fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return proc_errno();
        f = fdopen(fd, "r");
        if (!f) {
                int r = negative_errno();
                (void) safe_close(fd);
                return r;
        }
        errno = 0;
        while (getline(&line, &size, f) >= 0) {
                const char *value = startswith(line, key);
                if (!value)
                        continue;
                char *copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
                *ret = copy;
                return 0;
        }
        if (ferror(f))
                return proc_errno();
        return -ENODATA;
}

/* Parses a whitespace-separated list of numbers such as "\t4711\t2\n". */
static int proc_parse_pids(const char *s, pid_t *pids, size_t max, size_t *ret_n) {
        size_t n = 0;

        for (;;) {
                char *end;
                long v;

                s += strspn(s, " \t\n");
                if (*s == '\0')
                        break;
                if (n >= max)
                        return -EBADMSG;
                errno = 0;
                v = strtol(s, &end, 10);
                if (errno != 0 || end == s || v < INT_MIN || v > INT_MAX)
                        return -EBADMSG;
                pids[n++] = (pid_t) v;
                s = end;
        }
        if (n == 0)
                return -EBADMSG;
        *ret_n = n;
        return 0;
}

/* NSpid of the process behind dirfd: its pid in /proc's namespace first, then one per level. */
static int proc_read_nspid(int dirfd, pid_t nspid[static PROC_NSPID_MAX], size_t *ret_n) {
        _cleanup_free_ char *value = NULL;
        size_t n;
        int r;

        r = proc_read_field(dirfd, "status", "NSpid:", &value);
        if (r == -ENODATA)
                return -EOPNOTSUPP; /* kernels before 4.1 */
        if (r < 0)
                return r;
        r = proc_parse_pids(value, nspid, PROC_NSPID_MAX, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (nspid[i] <= 0)
                        return -EBADMSG;
        *ret_n = n;
        return 0;
}

/* NSpid of host_pid and its namespace file, both read through one pinned /proc/PID. -ESRCH when
 * it lives above min_level, before the namespace file is opened (which needs ptrace access). */
static int proc_read_pid(pid_t host_pid, unsigned min_level, int *ret_nsfd,
                         pid_t nspid[static PROC_NSPID_MAX], size_t *ret_n) {
        _cleanup_close_ int dirfd = -EBADF, nsfd = -EBADF;
        size_t n;
        int r;

        r = proc_open_pid_dir(host_pid, &dirfd);
        if (r < 0)
                return r;
        r = proc_read_nspid(dirfd, nspid, &n);
        if (r < 0)
                return r;
        /* A process above ns (the daemon, the runtime's supervisor) is outside the container. */
        if (n - 1 < min_level)
                return -ESRCH;
        nsfd = openat(dirfd, "ns/pid", O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return proc_errno();
        *ret_nsfd = TAKE_FD(nsfd);
        *ret_n = n;
        return 0;
}

int pidns_of_pid(pid_t host_pid, PidNs *ret) {
        _cleanup_close_ int nsfd = -EBADF;
        pid_t nspid[PROC_NSPID_MAX];
        struct stat st;
        size_t n;
        int r;

        assert(ret);
        r = proc_read_pid(host_pid, 0, &nsfd, nspid, &n);
        if (r < 0)
                return r;
        if (fstat(nsfd, &st) < 0)
                return negative_errno();
        *ret = (PidNs) {
                .dev = st.st_dev,
                .ino = st.st_ino,
                .fd = TAKE_FD(nsfd),
                .level = (unsigned) n - 1,
        };
        return 0;
}

int pidns_of_pidfd(int pidfd, PidNs *ret) {
        PidNs ns = PIDNS_NULL;
        pid_t pid;
        int r;

        assert(ret);
        r = proc_pidfd_host_pid(pidfd, &pid);
        if (r < 0)
                return r;
        r = pidns_of_pid(pid, &ns);
        if (r < 0)
                return r;
        /* Alive after the reads, so pid was not recycled since fdinfo named it: this is not the
         * namespace of a newcomer that took over the number. */
        if (!proc_pidfd_alive(pidfd)) {
                pidns_done(&ns);
                return -ESRCH;
        }
        *ret = ns;
        return 0;
}

void pidns_done(PidNs *ns) {
        if (!ns)
                return;
        (void) safe_close(ns->fd);
        *ns = PIDNS_NULL;
}

bool pidns_equal(const PidNs *a, const PidNs *b) {
        return a && b && a->dev == b->dev && a->ino == b->ino;
}

int proc_pidfd_host_pid(int pidfd, pid_t *ret) {
        _cleanup_close_ int root = -EBADF;
        _cleanup_free_ char *value = NULL;
        char path[64];
        pid_t pid;
        size_t n;
        int r;

        assert(ret);
        if (pidfd < 0)
                return -EBADF;
        r = proc_open_root(&root);
        if (r < 0)
                return r;
        /* thread-self: the fd table of this thread, even if it unshared its own. */
        (void) snprintf(path, sizeof path, "thread-self/fdinfo/%d", pidfd);
        r = proc_read_field(root, path, "Pid:", &value);
        if (r == -ENODATA)
                return -EINVAL; /* open, but not a pidfd */
        if (r == -ESRCH)
                return -EBADF;  /* fdinfo/FD missing: FD is not open */
        if (r < 0)
                return r;
        r = proc_parse_pids(value, &pid, 1, &n);
        if (r < 0)
                return r;
        /* -1: exited; 0: in a namespace /proc cannot see (never ours to act on). */
        if (pid <= 0)
                return -ESRCH;
        *ret = pid;
        return 0;
}

/* Replaces *fd, a pid namespace, by its ancestor steps levels up. */
static int pidns_walk_up(int *fd, unsigned steps) {
        for (; steps > 0; steps--) {
                int parent = ioctl(*fd, NS_GET_PARENT);
                if (parent < 0)
                        return errno == EPERM ? -ESRCH : negative_errno();
                (void) safe_close(*fd);
                *fd = parent;
        }
        return 0;
}

int proc_pid_in_ns(pid_t host_pid, const PidNs *ns, pid_t *ret_ns_pid) {
        _cleanup_close_ int nsfd = -EBADF;
        pid_t nspid[PROC_NSPID_MAX];
        struct stat st;
        size_t n;
        int r;

        assert(ns);
        r = proc_read_pid(host_pid, ns->level, &nsfd, nspid, &n);
        if (r < 0)
                return r;
        r = pidns_walk_up(&nsfd, (unsigned) (n - 1 - ns->level));
        if (r < 0)
                return r;
        if (fstat(nsfd, &st) < 0)
                return negative_errno();
        /* Same depth is not enough: a sibling namespace there is another container. */
        if (st.st_dev != ns->dev || st.st_ino != ns->ino)
                return -ESRCH;
        if (ret_ns_pid)
                *ret_ns_pid = nspid[ns->level];
        return 0;
}

bool proc_pidfd_alive(int pidfd) {
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0)
                return true;
        /* Signal 0 still checks permission: EPERM means the process is there. */
        return errno == EPERM;
}

static int64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when fd is readable (or hung up) before deadline, 0 when the deadline passed. */
static int proc_poll_until(int fd, int64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int64_t left = deadline - now_ms();
                int r;

                r = poll(&p, 1, left > 0 ? (int) left : 0);
                if (r >= 0)
                        return r > 0;
                if (errno != EINTR)
                        return negative_errno();
        }
}

/* Runs in the helpers: async-signal-safe only, the daemon may have had other threads. */
static void proc_helper_send(int sock, int error, int fd) {
        int32_t payload = error;
        struct iovec iov = { .iov_base = &payload, .iov_len = sizeof payload };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                mh.msg_control = &control;
                mh.msg_controllen = sizeof control.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        (void) sendmsg(sock, &mh, MSG_NOSIGNAL);
}

static _Noreturn void proc_helper_grandchild(int sock, pid_t ns_pid) {
        int fd;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* pidfd_open() resolves pids in the caller's own namespace, which is ns here. */
        fd = pidfd_open_raw(ns_pid);
        proc_helper_send(sock, fd >= 0 ? 0 : errno > 0 ? errno : EIO, fd);
        _exit(0);
}

static _Noreturn void proc_helper_child(int sock, int nsfd, pid_t ns_pid) {
        pid_t pid;

        /* Its child is visible inside the container: non-dumpable, a container root without
         * CAP_SYS_PTRACE over us cannot ptrace it or read its memory and fds through /proc. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                goto fail;
        /* Only children enter a pid namespace: this process stays where it is. */
        if (setns(nsfd, CLONE_NEWPID) < 0)
                goto fail;
        if (sock != 3) {
                if (dup2(sock, 3) < 0)
                        goto fail;
                sock = 3;
        }
        /* No daemon fd (bus connections, cgroup dirfds) may reach a process inside the container. */
        if (close_range(0, 2, 0) < 0 || close_range(4, ~0U, 0) < 0)
                goto fail;
        /* _Fork(): plain fork() runs atfork handlers, not safe in the child of a threaded daemon. */
        pid = _Fork();
        if (pid < 0) {
                /* Forking into a namespace whose init has exited fails with ENOMEM: it has no
                 * processes left, so there is no such pid. */
                if (errno == ENOMEM)
                        errno = ESRCH;
                goto fail;
        }
        if (pid == 0)
                proc_helper_grandchild(sock, ns_pid);
        /* Reap it here: orphaned, it would be handed to (and seen by) the container's init. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        _exit(0);
fail:
        proc_helper_send(sock, errno > 0 ? errno : EIO, -EBADF);
        _exit(1);
}

/* Forks the helper with every signal blocked, so no handler of the daemon ever runs in it. */
static int proc_helper_fork(const PidNs *ns, pid_t ns_pid, int *ret_sock, pid_t *ret_pid) {
        _cleanup_close_ int mine = -EBADF, theirs = -EBADF;
        sigset_t all, saved;
        int sv[2], r;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();
        mine = sv[0];
        theirs = sv[1];
        (void) sigfillset(&all);
        r = pthread_sigmask(SIG_SETMASK, &all, &saved);
        if (r != 0)
                return -r;
        pid = fork();
        if (pid == 0)
                proc_helper_child(theirs, ns->fd, ns_pid);
        r = pid < 0 ? negative_errno() : 0;
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;
        *ret_sock = TAKE_FD(mine);
        *ret_pid = pid;
        return 0;
}

static int proc_cmsg_fd(struct msghdr *mh) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                    c->cmsg_len == CMSG_LEN(sizeof(int))) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c), sizeof fd);
                        return fd;
                }
        return -EBADF;
}

/* The helper's one message: an errno, or 0 and a pidfd. */
static int proc_helper_recv(int sock, int64_t deadline, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int32_t error = 0;
        struct iovec iov = { .iov_base = &error, .iov_len = sizeof error };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = &control, .msg_controllen = sizeof control.buf };
        ssize_t n;
        int r;

        r = proc_poll_until(sock, deadline);
        if (r < 0)
                return r;
        if (r == 0)
                return -ETIMEDOUT;
        n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return negative_errno();
        fd = proc_cmsg_fd(&mh);
        if (n == 0)
                return -EIO; /* both helpers gone without an answer (killed?) */
        if (n != sizeof error || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
                return -EBADMSG;
        if (error > 0 && fd < 0)
                return -error;
        if (error != 0 || fd < 0)
                return -EBADMSG;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Waits for the helper until deadline and kills it past that, so a stuck helper cannot hang the
 * daemon; reaps it in every case. */
static int proc_helper_reap(pid_t pid, int helper_fd, int64_t deadline) {
        int r = 0;

        if (helper_fd < 0 || proc_poll_until(helper_fd, deadline) <= 0) {
                /* Our child, not yet reaped: the pid cannot have been reused. */
                (void) kill(pid, SIGKILL);
                r = -ETIMEDOUT;
        }
        while (waitpid(pid, NULL, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return r;
}

static int proc_helper_run(const PidNs *ns, pid_t ns_pid, int *ret_pidfd) {
        _cleanup_close_ int sock = -EBADF, helper_fd = -EBADF, pidfd = -EBADF;
        int64_t deadline;
        pid_t pid;
        int r, q;

        r = proc_helper_fork(ns, ns_pid, &sock, &pid);
        if (r < 0)
                return r;
        deadline = now_ms() + PROC_HELPER_TIMEOUT_MS;
        helper_fd = pidfd_open_raw(pid);
        if (helper_fd < 0) {
                r = negative_errno();
                (void) proc_helper_reap(pid, -EBADF, deadline);
                return r;
        }
        r = proc_helper_recv(sock, deadline, &pidfd);
        /* Reap before the caller checks the answer: a helper that named itself is gone by then. */
        q = proc_helper_reap(pid, helper_fd, deadline);
        if (r < 0)
                return r;
        if (q < 0)
                return q;
        *ret_pidfd = TAKE_FD(pidfd);
        return 0;
}

/* Whether pidfd is a live process that ns sees as ns_pid. */
static int proc_verify_in_ns(int pidfd, const PidNs *ns, pid_t ns_pid) {
        pid_t host_pid, got;
        int r;

        r = proc_pidfd_host_pid(pidfd, &host_pid);
        if (r < 0)
                return r;
        r = proc_pid_in_ns(host_pid, ns, &got);
        if (r < 0)
                return r;
        if (got != ns_pid)
                return -ESRCH;
        /* Alive after the check: host_pid still named this process while /proc was read. */
        return proc_pidfd_alive(pidfd) ? 0 : -ESRCH;
}

int proc_open_in_ns(const PidNs *ns, pid_t ns_pid, int *ret_pidfd) {
        _cleanup_close_ int pidfd = -EBADF;
        int r;

        assert(ns);
        assert(ret_pidfd);
        if (ns_pid <= 0)
                return -ESRCH;
        if (ns->level == 0) {
                pidfd = pidfd_open_raw(ns_pid);
                if (pidfd < 0)
                        return negative_errno();
        } else {
                r = proc_helper_run(ns, ns_pid, &pidfd);
                if (r < 0)
                        return r;
        }
        /* Defense in depth: hand out only a process that ns itself sees as ns_pid, whatever a
         * helper (or a wrong level) produced. */
        r = proc_verify_in_ns(pidfd, ns, ns_pid);
        if (r < 0)
                return r;
        *ret_pidfd = TAKE_FD(pidfd);
        return 0;
}
