/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The README's main job until the daemon exists: libcgd on this host's real cgroupfs. It shows
 * what discovery finds, makes a scratch group below this process's own memory group, sets
 * pids.max=5 and watches the kernel refuse the sixth task, shows that a path leaving the tree is
 * refused, and removes everything it made.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cgpath.h"
#include "cghost.h"
#include "cgtree.h"
#include "macro.h"

static int fail(const CgHost *host, const CgFailure *f, const char *what) {
        char buf[512];
        fprintf(stderr, "demo: %s: %s\n", what, cg_failure_explain(f, host, buf, sizeof buf));
        return 1;
}

static void show_host(const CgHost *host) {
        printf("cgroup mode: %s\n", cg_mode_to_string(host->mode));
        for (size_t i = 0; i < host->n_hierarchies; i++) {
                char label[64];
                printf("  v%u %-14s %s\n", host->hierarchies[i].version,
                       cg_hierarchy_label(&host->hierarchies[i], label, sizeof label), host->hierarchies[i].mount_point);
        }
}

/* Forks ten children that wait; returns how many forks the kernel allowed. */
static int fork_ten(void) {
        int made = 0;
        for (int i = 0; i < 10; i++) {
                pid_t p = fork();
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                made += p > 0;
        }
        return made;
}

static int run_limited(CgTree *t, int pids_hier, CgFailure *f) {
        int go[2];
        if (pipe(go) < 0)
                return -errno;
        pid_t child = fork();
        if (child == 0) {
                char c;
                close(go[1]);
                _exit(read(go[0], &c, 1) == 1 ? fork_ten() : 120);
        }
        close(go[0]);
        int r = cg_tree_move(t, "demo", CG_HMASK(pids_hier), child, f);
        if (r >= 0 && write(go[1], "g", 1) != 1)
                r = -EIO;
        close(go[1]);
        int status = 0;
        (void) waitpid(child, &status, 0);
        if (r < 0)
                return r;
        printf("a process in it forked 10 children: the kernel allowed %d; with the process itself that is 5 tasks, the 6th fork was refused\n",
               WEXITSTATUS(status));
        size_t n = 0;
        r = cg_tree_kill(t, "demo", SIGKILL, pids_hier, &n, f);
        printf("killed the %zu processes left in the group\n", n);
        for (int i = 0; i < 1000; i++) { /* wait until the kernel has let them go */
                _cleanup_free_ pid_t *pids = NULL;
                size_t left = 0;
                if (cg_tree_procs(t, pids_hier, "demo", true, &pids, &left) < 0 || left == 0)
                        break;
                usleep(1000);
        }
        return r;
}

int main(void) {
        _cleanup_(cg_host_freep) CgHost *host = NULL;
        int r = cg_host_discover("/sys/fs/cgroup", &host);
        if (r < 0) {
                fprintf(stderr, "demo: no usable cgroup file system at /sys/fs/cgroup: %s\n", strerror(-r));
                return 1;
        }
        show_host(host);

        int mem = cg_host_find(host, "memory"), pids = cg_host_find(host, "pids");
        char *paths[CG_HIERARCHIES_MAX] = {};
        if (pids < 0 || cg_host_pid_paths(host, getpid(), paths) < 0) {
                fprintf(stderr, "demo: needs the pids controller and /proc\n");
                return 1;
        }
        const char *base = mem >= 0 && paths[mem] ? paths[mem] : "/";
        _cleanup_free_ char *root = NULL;
        if (asprintf(&root, "%s/cgd-demo-%d", streq(base, "/") ? "" : base, getpid()) < 0)
                return 1;
        cg_paths_free(paths);

        uint32_t hmask = CG_HMASK(pids);
        CgFailure f = {};
        _cleanup_(cg_tree_freep) CgTree *t = NULL;
        /* The scratch root sits at the same path in the pids hierarchy: make only what is missing. */
        if (cg_tree_open(host, root, hmask, true, &t, &f) < 0)
                return fail(host, &f, "cannot make the scratch tree");
        printf("scratch tree: pids:%s\n", root);

        bool created;
        if (cg_tree_create(t, "demo", hmask, &created, &f) < 0 ||
            cg_tree_write(t, pids, "demo", "pids.max", "5", &f) < 0)
                r = fail(host, &f, "cannot set up the demo group");
        else {
                printf("set pids.max=5 on pids:%s/demo\n", root);
                r = run_limited(t, pids, &f) < 0 ? fail(host, &f, "demo run") : 0;
        }

        const char *reason = NULL;
        if (cg_path_validate("/../escape", CG_PATH_CLIENT, 16, &reason) < 0)
                printf("a client asking for '/../escape' is refused: %s\n", reason);

        if (cg_tree_destroy(t, hmask, true, &f) < 0)
                r = fail(host, &f, "cleanup");
        else
                printf("removed the scratch tree\n");
        return r;
}
