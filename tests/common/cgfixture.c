/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scratch cgroup trees and child processes for the integration tests (see cgfixture.h). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cgfixture.h"
#include "safeopen.h"
#include "testutil.h"

int fixture_hier(const CgFixture *f, const char *name) {
        int i = cg_host_find(f->host, name);
        if (i < 0)
                fail_msg("the host has no %s hierarchy", name);
        return i;
}

static const char *own_memory_path(const CgHost *host, char **paths) {
        int m = cg_host_find(host, "memory");
        if (m >= 0 && paths[m])
                return paths[m];
        int u = cg_host_find(host, "unified");
        return u >= 0 ? paths[u] : NULL;
}

CgFixture *fixture_new(const char *const *hierarchies) {
        if (geteuid() != 0) {
                print_message("# needs root to create cgroups\n");
                return NULL;
        }
        CgFixture *f = calloc(1, sizeof(CgFixture));
        assert_non_null(f);
        int r = cg_host_discover("/sys/fs/cgroup", &f->host);
        if (r < 0) {
                print_message("# no cgroup file system at /sys/fs/cgroup: %s\n", strerror(-r));
                free(f);
                return NULL;
        }
        for (const char *const *h = hierarchies; *h; h++) {
                int i = cg_host_find(f->host, *h);
                if (i < 0) {
                        print_message("# this host has no %s hierarchy\n", *h);
                        cg_host_free(f->host);
                        free(f);
                        return NULL;
                }
                f->hmask |= CG_HMASK(i);
        }
        char *paths[CG_HIERARCHIES_MAX] = {};
        assert_int_equal(cg_host_pid_paths(f->host, getpid(), paths), 0);
        const char *base = own_memory_path(f->host, paths);
        assert_non_null(base);
        assert_true(asprintf(&f->path, "%s/cgd-test-%d-%ld", streq(base, "/") ? "" : base, getpid(),
                             (long) time(NULL)) > 0);
        cg_paths_free(paths);

        CgFailure fail = {};
        r = cg_tree_open(f->host, f->path, f->hmask, true, &f->tree, &fail);
        if (r < 0) {
                char buf[512];
                fail_msg("cannot make scratch tree %s: %s", f->path, cg_failure_explain(&fail, f->host, buf, sizeof buf));
        }
        return f;
}

void fixture_enable_v2(CgFixture *f, const char *rel) {
        if (f->host->mode != CG_MODE_UNIFIED)
                return;
        CgFailure fail = {};
        uint32_t mask = CG_MASK(CG_CTRL_MEMORY) | CG_MASK(CG_CTRL_CPU) | CG_MASK(CG_CTRL_IO) | CG_MASK(CG_CTRL_PIDS) |
                        CG_MASK(CG_CTRL_CPUSET);
        if (cg_tree_enable_controllers(f->tree, rel, mask, &fail) < 0) {
                char buf[512];
                fail_msg("cannot enable controllers for %s: %s", rel, cg_failure_explain(&fail, f->host, buf, sizeof buf));
        }
}

static void kill_all(CgFixture *f) {
        for (int attempt = 0; attempt < 200; attempt++) {
                size_t total = 0;
                for (size_t i = 0; i < f->host->n_hierarchies; i++) {
                        if (!(f->hmask & CG_HMASK(i)))
                                continue;
                        _cleanup_free_ pid_t *pids = NULL;
                        size_t n = 0;
                        if (cg_tree_procs(f->tree, (int) i, ".", true, &pids, &n) < 0)
                                continue;
                        for (size_t k = 0; k < n; k++)
                                (void) kill(pids[k], SIGKILL);
                        total += n;
                }
                if (total == 0)
                        return;
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                usleep(5000);
        }
}

void fixture_free(CgFixture *f) {
        if (!f)
                return;
        /* Thaw first: a frozen group keeps its dying processes. */
        for (size_t i = 0; i < f->host->n_hierarchies; i++) {
                _cleanup_strv_free_ char **groups = NULL;
                if (!(f->hmask & CG_HMASK(i)) || cg_tree_children(f->tree, (int) i, ".", true, &groups) < 0)
                        continue;
                for (char **g = groups; *g; g++)
                        (void) cg_tree_freeze(f->tree, *g, false, 1000, NULL);
        }
        kill_all(f);
        CgFailure fail = {};
        int r = cg_tree_destroy(f->tree, f->hmask, true, &fail);
        if (r < 0) {
                char buf[512];
                print_message("# cleanup of %s failed: %s\n", f->path, cg_failure_explain(&fail, f->host, buf, sizeof buf));
        }
        cg_tree_free(f->tree);
        cg_host_free(f->host);
        free(f->path);
        free(f);
}

int fixture_teardown(void **state) {
        fixture_free(*state);
        *state = NULL;
        return 0;
}

Child child_spawn(ChildFn fn, void *arg) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char c;
                close(p[1]);
                if (read(p[0], &c, 1) != 1)
                        _exit(120);
                _exit(fn(arg));
        }
        close(p[0]);
        return (Child) { .pid = pid, .go_fd = p[1] };
}

void child_go(Child *c) {
        assert_int_equal(write(c->go_fd, "g", 1), 1);
        c->go_fd = safe_close(c->go_fd);
}

int child_wait(Child *c, unsigned timeout_ms) {
        c->go_fd = safe_close(c->go_fd);
        for (unsigned waited = 0;; waited++) {
                int status;
                pid_t r = waitpid(c->pid, &status, WNOHANG);
                if (r == c->pid)
                        return status;
                if (waited >= timeout_ms) {
                        (void) kill(c->pid, SIGKILL);
                        (void) waitpid(c->pid, NULL, 0);
                        return -1;
                }
                usleep(1000);
        }
}

long long kv_get(const char *text, const char *key) {
        size_t l = strlen(key);
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, key, l) == 0 && line[l] == ' ')
                        return atoll(line + l + 1);
        return -1;
}

int child_fork_ten(void *arg) {
        int made = 0;
        for (int i = 0; i < 10; i++) {
                pid_t p = fork();
                if (p == 0)
                        _exit(child_wait_forever(NULL));
                made += p > 0;
        }
        return made;
}

int child_hog(void *arg) {
        size_t size = (size_t) 256 << 20;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return 2;
        for (size_t i = 0; i < size; i += 4096)
                p[i] = 1;
        return 0;
}

int child_spin(void *arg) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do
                clock_gettime(CLOCK_MONOTONIC, &now);
        while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < *(int *) arg);
        return 0;
}

int child_wait_forever(void *arg) {
        while (pause() < 0) /* pause() only ever returns -1 */
                ;
        return 0;
}

int child_hold_memory(void *arg) {
        size_t size = (size_t) 16 << 20;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return 2;
        memset(p, 1, size);
        if (write(*(int *) arg, "r", 1) != 1)
                return 3;
        return child_wait_forever(NULL);
}
