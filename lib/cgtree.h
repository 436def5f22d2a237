/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group operations on the real cgroupfs below one tree root (a container's root group), in every
 * hierarchy the caller names. This is the only module of libcgd that creates, removes or writes
 * anything in cgroupfs; every path it takes is relative to the tree root's directory fd and goes
 * through safeopen.c, so no operation can reach outside the root it was given.
 *
 * Paths ("rel") are relative and already validated by cg_path_validate(): "." is the root,
 * "app/web" a descendant. Hierarchy masks have bit i set for host->hierarchies[i].
 */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cghost.h"

#define CG_HMASK(i) (UINT32_C(1) << (i))

/* What failed, for a message a person can act on (see cg_failure_explain()). */
typedef struct CgFailure {
        int error;       /* negative errno, 0 when nothing failed */
        int hierarchy;   /* host hierarchy index, -1 when none */
        const char *op;  /* static: "mkdir", "rmdir", "open", "read", "write", ... */
        char file[64];   /* control file, "" for a directory operation */
        char group[256]; /* group relative to the tree root, truncated */
} CgFailure;

/* The group a tree's reads and writes went to last, kept open: a request sets several files of
 * one group, and a client sets the same group again and again. Only the thread that opened the
 * tree uses it (the daemon's worker opens afresh). An entry is dropped when the group is removed
 * through the tree, and a lookup that fails with ENOENT through it is retried once afresh, so a
 * group removed and made again behind the tree's back is found again. */
typedef struct CgGroupCache {
        char *rel;                    /* NULL: empty */
        int fd[CG_HIERARCHIES_MAX];   /* O_PATH|O_DIRECTORY of rel, -EBADF where not opened yet */
} CgGroupCache;

typedef struct CgTree {
        const CgHost *host;
        char *path;                   /* host path of the root, e.g. "/process_api/x/c1" */
        uint32_t hierarchies;         /* where the root exists and fd[] is open */
        int fd[CG_HIERARCHIES_MAX];   /* O_PATH|O_DIRECTORY of the root, -EBADF elsewhere */
        char **made[CG_HIERARCHIES_MAX]; /* ancestors cg_tree_open() had to make, outermost first */
        pthread_t owner;              /* the thread that opened the tree: the only one using cache */
        CgGroupCache cache;
} CgTree;

/* Opens (and with create, makes, with missing ancestors) the group at host_path in every
 * hierarchy of hmask. A create that fails half way removes what it made. */
int cg_tree_open(const CgHost *host, const char *host_path, uint32_t hmask, bool create,
                 CgTree **ret, CgFailure *ret_failure);
CgTree *cg_tree_free(CgTree *t);
void cg_tree_freep(CgTree **t);

/* Removes the tree's root group in every hierarchy of hmask (it must be empty of processes);
 * with recursive, descendants first. Then the ancestors this tree's cg_tree_open() made, as long
 * as they are empty; no other ancestor is ever touched. */
int cg_tree_destroy(CgTree *t, uint32_t hmask, bool recursive, CgFailure *ret_failure);

/* mkdir -p of rel in every hierarchy of hmask (the root must be open there). New v1 cpuset
 * groups get their parent's cpus and mems. *ret_created: whether the last component was new in
 * any hierarchy. On failure whatever this call made is removed again. */
int cg_tree_create(CgTree *t, const char *rel, uint32_t hmask, bool *ret_created, CgFailure *ret_failure);

/* rmdir of rel in every hierarchy of hmask where it exists, descendants first with recursive
 * (-EBUSY from the kernel when processes remain). "." is refused with -EPERM. */
int cg_tree_remove(CgTree *t, const char *rel, uint32_t hmask, bool recursive, CgFailure *ret_failure);

/* cgroup v2: makes the controllers in mask (CG_MASK bits) available to rel by writing "+name" to
 * cgroup.subtree_control of the root and of every ancestor of rel, top down, where missing.
 * -EOPNOTSUPP when the root itself does not have them in cgroup.controllers (the host did not
 * delegate them), -EBUSY from the kernel's no-internal-processes rule. */
int cg_tree_enable_controllers(CgTree *t, const char *rel, uint32_t mask, CgFailure *ret_failure);

/* cgroup v2: passes the controllers in mask (CG_MASK bits) down to the root through the
 * ancestors cg_tree_open() made, by "+name" in each one's cgroup.subtree_control, outermost
 * first. Groups that existed before are never written: the first of them must already pass
 * mask on (-EOPNOTSUPP otherwise: the host did not delegate them). A no-op without cgroup2. */
int cg_tree_delegate_made(CgTree *t, uint32_t mask, CgFailure *ret_failure);

/* Reads / writes one control file of rel in hierarchy hier (an index into host->hierarchies). */
int cg_tree_read(CgTree *t, int hier, const char *rel, const char *file, char **ret, CgFailure *ret_failure);
int cg_tree_write(CgTree *t, int hier, const char *rel, const char *file, const char *value,
                  CgFailure *ret_failure);
/* Whether the control file exists (0 / 1), negative errno when rel cannot be opened. */
int cg_tree_has_file(CgTree *t, int hier, const char *rel, const char *file);
/* Whether group rel exists in hier (0 / 1). From the group cache when rel is there: a group
 * removed behind the tree's back is then found missing by the next read or write instead. */
int cg_tree_has_group(CgTree *t, int hier, const char *rel);
/* An O_PATH fd of group rel in hierarchy hier, opened below the root (for inotify through
 * /proc/self/fd and for openat() of a file to pass to the kernel); the caller closes it. */
int cg_tree_open_group(CgTree *t, int hier, const char *rel);

/* Moves pid into rel in every hierarchy of hmask (writes cgroup.procs). No rollback: a process
 * that moved in some hierarchies stays there; the failure names the hierarchy that refused. */
int cg_tree_move(CgTree *t, const char *rel, uint32_t hmask, pid_t pid, CgFailure *ret_failure);

/* Child groups of rel in hierarchy hier, as paths relative to the root ("app", "app/web"),
 * sorted; with recursive, every descendant, parents before children. */
int cg_tree_children(CgTree *t, int hier, const char *rel, bool recursive, char ***ret);

/* Processes in rel (and below with recursive) in hierarchy hier, sorted, without duplicates. */
int cg_tree_procs(CgTree *t, int hier, const char *rel, bool recursive, pid_t **ret, size_t *ret_n);

/* Freezes or thaws rel: cgroup.freeze of the cgroup2 hierarchy where the group has it (also on
 * hybrid hosts), else the v1 freezer. Waits until the kernel reports the state reached (at most
 * timeout_ms; -ETIMEDOUT after). */
int cg_tree_freeze(CgTree *t, const char *rel, bool frozen, unsigned timeout_ms, CgFailure *ret_failure);

/* Sends sig to every process in rel and below, in the hierarchy that tracks processes (cgroup2
 * where the tree has it, else hierarchy hier_fallback). SIGKILL uses cgroup.kill where present;
 * otherwise the group is frozen while its processes are signalled through pidfds, so none can
 * fork away. *ret_n (may be NULL): processes signalled (cgroup.kill: processes present). */
int cg_tree_kill(CgTree *t, const char *rel, int sig, int hier_fallback, size_t *ret_n, CgFailure *ret_failure);

/* One line: what failed, where, and what the kernel's error means for this file. */
const char *cg_failure_explain(const CgFailure *f, const CgHost *host, char *buf, size_t size);
