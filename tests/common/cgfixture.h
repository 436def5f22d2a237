/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scratch cgroup tree for integration tests on the real cgroupfs: below the path this process
 * has in the memory hierarchy (so everything stays inside the machine's own accounting), in the
 * hierarchies a test asks for, with every ancestor it had to make removed again afterwards.
 * Tests that cannot run (not root, no cgroupfs) skip with the reason.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cghost.h"
#include "cgtree.h"

typedef struct CgFixture {
        CgHost *host;
        CgTree *tree;
        char *path;                              /* host path of the scratch root */
        uint32_t hmask;                          /* hierarchies the tree exists in */
} CgFixture;

/* Hierarchy index of a controller or "unified"/"systemd", failing the test when missing. */
int fixture_hier(const CgFixture *f, const char *name);

/* Makes the scratch tree in the named hierarchies ("memory", "pids", "unified", ...; NULL-ended).
 * Returns NULL and prints why when the test cannot run here (the caller skips). */
CgFixture *fixture_new(const char *const *hierarchies);
/* On a pure cgroup v2 host (the VM lane): makes memory, cpu, io, pids and cpuset available in
 * rel, as the daemon does before it writes a limit there. A no-op on v1 and hybrid hosts. */
void fixture_enable_v2(CgFixture *f, const char *rel);
/* Kills whatever is left in the tree, removes it and every ancestor it made (cg_tree_destroy()). */
void fixture_free(CgFixture *f);

/* A cmocka teardown: fixture_free(*state). */
int fixture_teardown(void **state);

/* Forks a child that waits until fixture_go(), then runs fn(arg) and _exit()s its result. */
typedef int (*ChildFn)(void *arg);
typedef struct Child {
        pid_t pid;
        int go_fd;
} Child;
Child child_spawn(ChildFn fn, void *arg);
void child_go(Child *c);
/* waitpid() with a timeout in ms; returns the wait status, or -1 on timeout (the child is then
 * killed). */
int child_wait(Child *c, unsigned timeout_ms);

/* Child bodies for child_spawn(), each showing one limit at work. */
int child_fork_ten(void *arg);     /* forks ten waiting children; returns how many forks worked */
int child_hog(void *arg);          /* touches 256 MiB; returns 0 only if nothing stopped it */
int child_spin(void *arg);         /* burns CPU for *(int *) arg milliseconds */
int child_wait_forever(void *arg); /* pauses until killed */
int child_hold_memory(void *arg);  /* touches 16 MiB, writes a byte to fd *(int *) arg, waits */

/* Reads "key value" lines of a control file text: the value of key, or -1. */
long long kv_get(const char *text, const char *key);
