/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Discovery of the host's cgroup layout: the mode (unified, hybrid, legacy), every hierarchy
 * mounted at the cgroup root with its controllers, and where a process sits in each. The parsers
 * take text so that unit tests can feed them files captured from other hosts; cg_host_discover()
 * reads the live ones and opens an O_PATH directory fd for each hierarchy's root.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CG_HIERARCHIES_MAX 16

typedef enum CgMode {
        CG_MODE_UNIFIED, /* cgroup2 at the root */
        CG_MODE_HYBRID,  /* v1 controllers, plus cgroup2 at ROOT/unified */
        CG_MODE_LEGACY,  /* v1 only */
        _CG_MODE_MAX,
        _CG_MODE_INVALID = -EINVAL,
} CgMode;

/* The controllers cgdelegate knows. CG_CTRL_IO is "io" on v2 and "blkio" on v1; CG_CTRL_CPU is
 * "cpu" on both (v2's cpu also does what v1's cpuacct does). */
typedef enum CgController {
        CG_CTRL_CPU,
        CG_CTRL_CPUACCT,
        CG_CTRL_CPUSET,
        CG_CTRL_MEMORY,
        CG_CTRL_IO,
        CG_CTRL_PIDS,
        CG_CTRL_DEVICES,
        CG_CTRL_FREEZER,
        CG_CTRL_HUGETLB,
        CG_CTRL_RDMA,
        CG_CTRL_MISC,
        CG_CTRL_NET_CLS,
        CG_CTRL_NET_PRIO,
        CG_CTRL_PERF_EVENT,
        _CG_CTRL_MAX,
        _CG_CTRL_INVALID = -EINVAL,
} CgController;

#define CG_MASK(c) (UINT32_C(1) << (c))

const char *cg_mode_to_string(CgMode m);
const char *cg_controller_to_string(CgController c, unsigned version); /* "blkio" for io on v1 */
CgController cg_controller_from_string(const char *s);                  /* accepts both names */

typedef struct CgHierarchy {
        unsigned version;     /* 1 or 2 */
        int id;               /* v1 hierarchy id as in /proc/PID/cgroup, -1 until known; 0 for cgroup2 */
        char *mount_point;    /* e.g. "/sys/fs/cgroup/memory" */
        char *name;           /* "systemd" for a named v1 hierarchy (name=systemd), else NULL */
        uint32_t controllers; /* CG_MASK() bits: v1 mount options, v2 root cgroup.controllers */
        char *other_controllers; /* v1: mount options naming no CgController and no known option
                                  * (controllers newer than this code), comma-separated, else
                                  * NULL; /proc/PID/cgroup lines are matched on these too */
        int root_fd;          /* O_PATH|O_DIRECTORY of mount_point; -EBADF until opened */
} CgHierarchy;

typedef struct CgHost {
        CgMode mode;
        size_t n_hierarchies;
        CgHierarchy hierarchies[CG_HIERARCHIES_MAX];
        int unified;                       /* index of the cgroup2 hierarchy, -1 when none */
        int named_systemd;                 /* index of name=systemd, -1 when none */
        int by_controller[_CG_CTRL_MAX];   /* index of the hierarchy holding each controller, -1 */
} CgHost;

/* Parses /proc/self/mountinfo text: every cgroup and cgroup2 mount whose mount point is
 * cgroup_root itself or directly below it (mount points unescaped from \040 and friends), in file
 * order, skipping later duplicates of the same hierarchy. Fills hierarchies[], unified,
 * named_systemd, by_controller[] of *host (v2 controllers are left 0: see
 * cg_host_set_unified_controllers()). root_fd stays -EBADF. -ENOENT when nothing is mounted
 * there, -EBADMSG on a malformed line, -E2BIG past CG_HIERARCHIES_MAX. */
int cg_mountinfo_parse(const char *text, const char *cgroup_root, CgHost *host);

/* Sets the v2 hierarchy's controllers from the text of its root's cgroup.controllers ("cpu io
 * memory pids"); in unified mode by_controller[] points at it for each of them. Unknown names are
 * ignored (the kernel grows new ones). */
int cg_host_set_unified_controllers(CgHost *host, const char *text);

/* Parses /proc/cgroups text and clears, in *host, every controller the kernel lists as disabled
 * (enabled column 0). Controllers it does not list are left alone. */
int cg_proc_cgroups_parse(const char *text, CgHost *host);

/* Parses /proc/PID/cgroup text ("4:memory:/a/b", "0::/a") and returns, for each hierarchy of
 * *host, the path the process has there in ret_paths[i] (malloc'ed, NULL where the file has no
 * line for it). v1 lines are matched to hierarchies by id when host ids are known, else by their
 * controller list; "0::" is the cgroup2 hierarchy. ret_paths has CG_HIERARCHIES_MAX entries;
 * on failure nothing is allocated. */
int cg_proc_pid_cgroup_parse(const char *text, const CgHost *host, char *ret_paths[static CG_HIERARCHIES_MAX]);

/* Sets hierarchy ids of *host from /proc/self/cgroup text, matching v1 lines by controller list
 * (or name=), so later lookups by id work. -EBADMSG on a malformed line or two lines for one
 * hierarchy (also in cg_proc_pid_cgroup_parse()). */
int cg_host_set_ids(CgHost *host, const char *proc_self_cgroup);

/* The whole discovery on the live system: statfs() of cgroup_root decides the mode
 * (CGROUP2_SUPER_MAGIC: unified; TMPFS_MAGIC with cgroup2 at cgroup_root/unified: hybrid;
 * otherwise legacy), then mountinfo, an O_PATH directory fd for each hierarchy root, ids,
 * cgroup.controllers and /proc/cgroups. -ENOMEDIUM when cgroup_root holds no cgroup file system,
 * or mountinfo disagrees with what statfs() sees there or at a hierarchy root; -ENOENT when
 * cgroup_root does not exist. */
int cg_host_discover(const char *cgroup_root, CgHost **ret);

/* Where pid sits in every hierarchy of host (reads /proc/PID/cgroup). -ESRCH when it is gone. */
int cg_host_pid_paths(const CgHost *host, pid_t pid, char *ret_paths[static CG_HIERARCHIES_MAX]);

/* The index of the hierarchy holding controller c ("io" and "blkio" alike), of a named hierarchy
 * for "systemd" or "name=systemd", of the cgroup2 hierarchy for "unified", or of the hierarchy
 * whose label (below) is hierarchy_name; -ENOENT when the host has none. */
int cg_host_find(const CgHost *host, const char *hierarchy_name);

/* A printable name for h, truncated to size: "memory", "cpu,cpuacct", "name=systemd", "unified".
 * Returns buf. */
const char *cg_hierarchy_label(const CgHierarchy *h, char *buf, size_t size);

/* Frees every path and closes every fd; accepts NULL. */
CgHost *cg_host_free(CgHost *host);
void cg_host_freep(CgHost **host);
/* Frees the CG_HIERARCHIES_MAX paths of a cg_proc_pid_cgroup_parse() result. */
void cg_paths_free(char *paths[static CG_HIERARCHIES_MAX]);
/* Initialises an empty host (mode LEGACY, no hierarchies, every index -1) for the parsers. */
void cg_host_init(CgHost *host);
