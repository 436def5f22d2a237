/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/cghost.c, host layout discovery. Each layout is a set of files in tests/data:
 * "hybrid" captured on the test machine (cpu and cpuacct in separate hierarchies), and by hand a
 * classic systemd hybrid, a Debian 12 unified host, a CentOS 7 style legacy host, plus escaped,
 * duplicate, foreign, unknown-controller and malformed captures. One test runs the discovery on
 * the live /sys/fs/cgroup and checks it against this process's own /proc/self/cgroup.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "testutil.h"

#include "cghost.h"

#define ROOT "/sys/fs/cgroup"

static CgHost *host_new(void) {
        CgHost *host = malloc(sizeof(*host));
        assert_non_null(host);
        cg_host_init(host);
        return host;
}

/* Parses one layout from tests/data: mountinfo-NAME, then (when present) proc-self-cgroup-NAME,
 * cgroup-controllers-NAME and proc-cgroups-NAME, in the order cg_host_discover() uses. */
static CgHost *host_load(const char *layout, const char *root, bool ids, bool controllers, bool proc_cgroups) {
        CgHost *host = host_new();
        _cleanup_free_ char *mi = NULL, *self = NULL, *ctrl = NULL, *pc = NULL, *name = NULL;

        assert_true(asprintf(&name, "mountinfo-%s", layout) > 0);
        mi = test_read_data(name);
        assert_int_equal(cg_mountinfo_parse(mi, root, host), 0);
        if (ids) {
                free(name);
                assert_true(asprintf(&name, "proc-self-cgroup-%s", layout) > 0);
                self = test_read_data(name);
                assert_int_equal(cg_host_set_ids(host, self), 0);
        }
        if (controllers) {
                free(name);
                assert_true(asprintf(&name, "cgroup-controllers-%s", layout) > 0);
                ctrl = test_read_data(name);
                assert_int_equal(cg_host_set_unified_controllers(host, ctrl), 0);
        }
        if (proc_cgroups) {
                free(name);
                assert_true(asprintf(&name, "proc-cgroups-%s", layout) > 0);
                pc = test_read_data(name);
                assert_int_equal(cg_proc_cgroups_parse(pc, host), 0);
        }
        return host;
}

static const CgHierarchy *hier(const CgHost *host, const char *name) {
        int i = cg_host_find(host, name);
        if (i < 0)
                fail_msg("no hierarchy for \"%s\": %d", name, i);
        assert_true((size_t) i < host->n_hierarchies);
        return &host->hierarchies[i];
}

static void check_hier(const CgHost *host, const char *name, const char *mount_point, const char *label, int id) {
        const CgHierarchy *h = hier(host, name);
        char buf[128];

        assert_string_equal(h->mount_point, mount_point);
        assert_string_equal(cg_hierarchy_label(h, buf, sizeof(buf)), label);
        assert_int_equal(h->id, id);
        assert_int_equal(h->root_fd, -EBADF);
}

static uint32_t mask_of(const CgController *c, size_t n) {
        uint32_t m = 0;
        for (size_t i = 0; i < n; i++)
                m |= CG_MASK(c[i]);
        return m;
}

static const char *path_in(const CgHost *host, char **paths, const char *name) {
        return paths[cg_host_find(host, name)];
}

static void data_paths(const CgHost *host, const char *file, char *paths[static CG_HIERARCHIES_MAX]) {
        _cleanup_free_ char *text = test_read_data(file);
        assert_int_equal(cg_proc_pid_cgroup_parse(text, host, paths), 0);
}

static void test_strings(_unused_ void **state) {
        assert_string_equal(cg_mode_to_string(CG_MODE_UNIFIED), "unified");
        assert_string_equal(cg_mode_to_string(CG_MODE_HYBRID), "hybrid");
        assert_string_equal(cg_mode_to_string(CG_MODE_LEGACY), "legacy");
        assert_null(cg_mode_to_string(_CG_MODE_MAX));
        assert_null(cg_mode_to_string(_CG_MODE_INVALID));

        assert_string_equal(cg_controller_to_string(CG_CTRL_IO, 2), "io");
        assert_string_equal(cg_controller_to_string(CG_CTRL_IO, 1), "blkio");
        assert_string_equal(cg_controller_to_string(CG_CTRL_PERF_EVENT, 1), "perf_event");
        assert_null(cg_controller_to_string(_CG_CTRL_MAX, 2));
        assert_null(cg_controller_to_string(_CG_CTRL_INVALID, 1));
        for (CgController c = 0; c < _CG_CTRL_MAX; c++) {
                assert_int_equal(cg_controller_from_string(cg_controller_to_string(c, 1)), c);
                assert_int_equal(cg_controller_from_string(cg_controller_to_string(c, 2)), c);
        }
        assert_int_equal(cg_controller_from_string("blkio"), CG_CTRL_IO);
        assert_int_equal(cg_controller_from_string("io"), CG_CTRL_IO);
        assert_int_equal(cg_controller_from_string("Memory"), -EINVAL);
        assert_int_equal(cg_controller_from_string(""), -EINVAL);
        assert_int_equal(cg_controller_from_string("name=systemd"), -EINVAL);
        assert_int_equal(cg_controller_from_string(NULL), -EINVAL);
}

/* This machine: every v1 controller in its own hierarchy, cgroup2 with only hugetlb. */
static void test_hybrid_captured(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid", ROOT, true, true, true);

        assert_int_equal(host->mode, CG_MODE_HYBRID);
        assert_int_equal(host->n_hierarchies, 10);
        check_hier(host, "cpu", ROOT "/cpu", "cpu", 1);
        check_hier(host, "cpuacct", ROOT "/cpuacct", "cpuacct", 2);
        check_hier(host, "cpuset", ROOT "/cpuset", "cpuset", 3);
        check_hier(host, "memory", ROOT "/memory", "memory", 4);
        check_hier(host, "devices", ROOT "/devices", "devices", 5);
        check_hier(host, "freezer", ROOT "/freezer", "freezer", 6);
        check_hier(host, "io", ROOT "/blkio", "blkio", 7);
        check_hier(host, "blkio", ROOT "/blkio", "blkio", 7);
        check_hier(host, "pids", ROOT "/pids", "pids", 8);
        check_hier(host, "systemd", ROOT "/systemd", "name=systemd", 9);
        check_hier(host, "unified", ROOT "/unified", "unified", 0);
        assert_int_equal(cg_host_find(host, "name=systemd"), host->named_systemd);
        assert_int_equal(hier(host, "unified")->version, 2);
        assert_int_equal(hier(host, "memory")->version, 1);

        /* hugetlb is bound to no v1 hierarchy here, so cgroup2 has it. */
        assert_int_equal(hier(host, "unified")->controllers, CG_MASK(CG_CTRL_HUGETLB));
        assert_int_equal(host->by_controller[CG_CTRL_HUGETLB], host->unified);
        assert_int_equal(host->by_controller[CG_CTRL_NET_CLS], -1);
        assert_int_equal(host->by_controller[CG_CTRL_PERF_EVENT], -1);
        assert_int_equal(host->by_controller[CG_CTRL_RDMA], -1);
        assert_int_equal(cg_host_find(host, "net_cls"), -ENOENT);
        assert_int_equal(cg_host_find(host, "hugetlb"), host->unified);
}

static void test_hybrid_systemd(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid-systemd", ROOT, true, true, true);
        static const CgController cpu[] = { CG_CTRL_CPU, CG_CTRL_CPUACCT };
        static const CgController net[] = { CG_CTRL_NET_CLS, CG_CTRL_NET_PRIO };

        assert_int_equal(host->mode, CG_MODE_HYBRID);
        assert_int_equal(host->n_hierarchies, 13);
        assert_int_equal(host->unified, 0);
        assert_int_equal(host->named_systemd, 1);
        check_hier(host, "unified", ROOT "/unified", "unified", 0);
        check_hier(host, "systemd", ROOT "/systemd", "name=systemd", 1);
        check_hier(host, "cpu", ROOT "/cpu,cpuacct", "cpu,cpuacct", 2);
        check_hier(host, "cpuacct", ROOT "/cpu,cpuacct", "cpu,cpuacct", 2);
        check_hier(host, "net_prio", ROOT "/net_cls,net_prio", "net_cls,net_prio", 10);
        check_hier(host, "rdma", ROOT "/rdma", "rdma", 7);
        check_hier(host, "memory", ROOT "/memory", "memory", 9);
        check_hier(host, "cpuset", ROOT "/cpuset", "cpuset", 12);
        assert_int_equal(hier(host, "cpu")->controllers, mask_of(cpu, ELEMENTSOF(cpu)));
        assert_int_equal(hier(host, "net_cls")->controllers, mask_of(net, ELEMENTSOF(net)));
        /* Everything is bound to v1: the unified root lists nothing. */
        assert_int_equal(hier(host, "unified")->controllers, 0);
        for (CgController c = 0; c < _CG_CTRL_MAX; c++) {
                int i = host->by_controller[c];
                if (c == CG_CTRL_MISC) {
                        assert_int_equal(i, -1);
                        continue;
                }
                assert_true(i > 1);
                assert_int_equal(host->hierarchies[i].version, 1);
                assert_true(host->hierarchies[i].controllers & CG_MASK(c));
        }
}

static void test_unified(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("unified", ROOT, true, true, true);
        static const CgController on[] = { CG_CTRL_CPUSET, CG_CTRL_CPU, CG_CTRL_IO, CG_CTRL_MEMORY,
                                           CG_CTRL_HUGETLB, CG_CTRL_PIDS, CG_CTRL_RDMA, CG_CTRL_MISC };
        uint32_t mask = mask_of(on, ELEMENTSOF(on));

        assert_int_equal(host->mode, CG_MODE_UNIFIED);
        assert_int_equal(host->n_hierarchies, 1);
        assert_int_equal(host->unified, 0);
        assert_int_equal(host->named_systemd, -1);
        check_hier(host, "unified", ROOT, "unified", 0);
        assert_int_equal(host->hierarchies[0].controllers, mask);
        for (CgController c = 0; c < _CG_CTRL_MAX; c++)
                assert_int_equal(host->by_controller[c], (mask & CG_MASK(c)) ? 0 : -1);
        assert_int_equal(cg_host_find(host, "io"), 0);
        assert_int_equal(cg_host_find(host, "blkio"), 0);
        assert_int_equal(cg_host_find(host, "cpuacct"), -ENOENT);
        assert_int_equal(cg_host_find(host, "systemd"), -ENOENT);
        assert_int_equal(cg_host_find(host, "name=systemd"), -ENOENT);
        assert_int_equal(cg_host_find(host, "devices"), -ENOENT);
}

static void test_legacy(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("legacy", ROOT, true, false, true);

        assert_int_equal(host->mode, CG_MODE_LEGACY);
        assert_int_equal(host->n_hierarchies, 11);
        assert_int_equal(host->unified, -1);
        assert_int_equal(host->named_systemd, 0);
        assert_int_equal(cg_host_find(host, "unified"), -ENOENT);
        /* The mount options say "cpuacct,cpu" and "net_prio,net_cls": labels are in one order. */
        check_hier(host, "systemd", ROOT "/systemd", "name=systemd", 1);
        check_hier(host, "net_cls", ROOT "/net_cls,net_prio", "net_cls,net_prio", 2);
        check_hier(host, "cpuacct", ROOT "/cpu,cpuacct", "cpu,cpuacct", 3);
        check_hier(host, "hugetlb", ROOT "/hugetlb", "hugetlb", 4);
        check_hier(host, "memory", ROOT "/memory", "memory", 5);
        check_hier(host, "blkio", ROOT "/blkio", "blkio", 8);
        check_hier(host, "pids", ROOT "/pids", "pids", 11);
        assert_int_equal(cg_host_set_unified_controllers(host, "memory\n"), -ENOENT);
        assert_int_equal(host->by_controller[CG_CTRL_RDMA], -1);
        assert_int_equal(host->by_controller[CG_CTRL_MISC], -1);
        assert_null(hier(host, "memory")->other_controllers);
}

/* A kernel booted with cgroup_disable=memory,hugetlb (the mounts are kept here only to show that
 * /proc/cgroups wins over them). */
static void test_disabled_controllers(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("legacy", ROOT, true, false, false);
        _cleanup_(cg_host_freep) CgHost *uni = host_load("unified", ROOT, false, true, false);
        _cleanup_free_ char *pc = test_read_data("proc-cgroups-legacy-disabled");
        int mem = host->by_controller[CG_CTRL_MEMORY], cpu = host->by_controller[CG_CTRL_CPU];

        assert_true(mem >= 0);
        assert_int_equal(cg_proc_cgroups_parse(pc, host), 0);
        assert_int_equal(host->by_controller[CG_CTRL_MEMORY], -1);
        assert_int_equal(host->by_controller[CG_CTRL_HUGETLB], -1);
        assert_int_equal(host->hierarchies[mem].controllers, 0);
        assert_int_equal(host->by_controller[CG_CTRL_CPU], cpu);
        assert_int_equal(cg_host_find(host, "memory"), -ENOENT);

        assert_int_equal(cg_proc_cgroups_parse("#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                               "cpu\t0\t93\t1\nmemory\t0\t93\t0\nio\t0\t9\t0\n"
                                               "frobnicate\t0\t1\t0\n\n",
                                               uni),
                         0);
        assert_int_equal(uni->by_controller[CG_CTRL_MEMORY], -1);
        assert_int_equal(uni->by_controller[CG_CTRL_IO], -1);
        assert_int_equal(uni->by_controller[CG_CTRL_CPU], 0);
        assert_false(uni->hierarchies[0].controllers & CG_MASK(CG_CTRL_MEMORY));
        assert_true(uni->hierarchies[0].controllers & CG_MASK(CG_CTRL_PIDS));
        /* Controllers it does not list stay. */
        assert_int_equal(cg_proc_cgroups_parse("", uni), 0);
        assert_int_equal(uni->by_controller[CG_CTRL_PIDS], 0);
}

static void test_pid_cgroup_layouts(_unused_ void **state) {
        char *paths[CG_HIERARCHIES_MAX];

        {
                _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid", ROOT, true, true, false);
                data_paths(host, "proc-self-cgroup-hybrid", paths);
                assert_string_equal(path_in(host, paths, "memory"), "/process_api/dead018b5be47f8700d0edd38874e441");
                assert_string_equal(path_in(host, paths, "pids"), "/");
                assert_string_equal(path_in(host, paths, "unified"), "/");
                assert_string_equal(path_in(host, paths, "systemd"), "/");
                cg_paths_free(paths);
                for (size_t i = 0; i < CG_HIERARCHIES_MAX; i++)
                        assert_null(paths[i]);
        }
        {
                _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid-systemd", ROOT, true, false, false);
                data_paths(host, "proc-self-cgroup-hybrid-systemd", paths);
                const char *session = "/user.slice/user-1000.slice/session-2.scope";
                assert_string_equal(path_in(host, paths, "memory"), session);
                assert_string_equal(path_in(host, paths, "systemd"), session);
                assert_string_equal(path_in(host, paths, "unified"), session);
                assert_string_equal(path_in(host, paths, "cpu"), "/user.slice");
                assert_string_equal(path_in(host, paths, "net_prio"), "/");
                for (size_t i = 0; i < host->n_hierarchies; i++)
                        assert_non_null(paths[i]);
                cg_paths_free(paths);
        }
        {
                _cleanup_(cg_host_freep) CgHost *host = host_load("unified", ROOT, true, true, false);
                data_paths(host, "proc-self-cgroup-unified", paths);
                assert_string_equal(paths[0], "/user.slice/user-1000.slice/session-3.scope");
                for (size_t i = 1; i < CG_HIERARCHIES_MAX; i++)
                        assert_null(paths[i]);
                cg_paths_free(paths);
        }
        {
                /* Ids unknown: matched by names, in any order. */
                _cleanup_(cg_host_freep) CgHost *host = host_load("legacy", ROOT, false, false, false);
                data_paths(host, "proc-self-cgroup-legacy", paths);
                assert_int_equal(hier(host, "memory")->id, -1);
                assert_string_equal(path_in(host, paths, "cpu"), "/user.slice");
                assert_string_equal(path_in(host, paths, "net_cls"), "/");
                assert_string_equal(path_in(host, paths, "systemd"), "/user.slice/user-1000.slice/session-1.scope");
                assert_string_equal(path_in(host, paths, "devices"), "/user.slice");
                cg_paths_free(paths);
        }
}

/* Known ids decide; unknown ids fall back to the names. */
static void test_pid_cgroup_by_id(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *known = host_load("legacy", ROOT, true, false, false);
        _cleanup_(cg_host_freep) CgHost *unknown = host_load("legacy", ROOT, false, false, false);
        const char *text = "5:renamed:/by-id\n3:cpu,cpuacct:/c\n99:pids:/x\n";
        char *paths[CG_HIERARCHIES_MAX];

        assert_int_equal(cg_proc_pid_cgroup_parse(text, known, paths), 0);
        assert_string_equal(path_in(known, paths, "memory"), "/by-id");
        assert_string_equal(path_in(known, paths, "cpu"), "/c");
        assert_null(path_in(known, paths, "pids"));
        cg_paths_free(paths);

        assert_int_equal(cg_proc_pid_cgroup_parse(text, unknown, paths), 0);
        assert_null(path_in(unknown, paths, "memory"));
        assert_string_equal(path_in(unknown, paths, "cpu"), "/c");
        assert_string_equal(path_in(unknown, paths, "pids"), "/x");
        cg_paths_free(paths);

        /* Paths may hold ':'; a v2 line on a host without cgroup2 is ignored. */
        assert_int_equal(cg_proc_pid_cgroup_parse("5:memory:/a:b:c\n0::/u\n", unknown, paths), 0);
        assert_string_equal(path_in(unknown, paths, "memory"), "/a:b:c");
        cg_paths_free(paths);
}

static void test_escaped_mount_points(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_new();
        _cleanup_free_ char *mi = test_read_data("mountinfo-escaped");

        assert_int_equal(cg_mountinfo_parse(mi, "/srv/cg root", host), 0);
        assert_int_equal(host->mode, CG_MODE_HYBRID);
        assert_int_equal(host->n_hierarchies, 5);
        check_hier(host, "memory", "/srv/cg root/memory", "memory", -1);
        check_hier(host, "cpu", "/srv/cg root/cpu\ttab", "cpu,cpuacct", -1);
        check_hier(host, "pids", "/srv/cg root/back\\slash", "pids", -1);
        check_hier(host, "systemd", "/srv/cg root/new\nline", "name=systemd", -1);
        check_hier(host, "unified", "/srv/cg root/unified", "unified", 0);
        /* Deeper, a sibling with a longer name, and a literal "\040" in a name do not count. */
        assert_int_equal(cg_host_find(host, "devices"), -ENOENT);
        assert_int_equal(cg_host_find(host, "freezer"), -ENOENT);
        assert_int_equal(cg_host_find(host, "blkio"), -ENOENT);

        /* The root is compared unescaped: a root with a literal "\040" has the blkio mount. */
        assert_int_equal(cg_mountinfo_parse(mi, "/srv/cg\\040root", host), 0);
        assert_int_equal(host->n_hierarchies, 1);
        check_hier(host, "blkio", "/srv/cg\\040root/blkio", "blkio", -1);
        /* A failed parse leaves *host as it was. */
        assert_int_equal(cg_mountinfo_parse(mi, "/srv/cg", host), -ENOENT);
        assert_int_equal(host->n_hierarchies, 1);
}

static void test_duplicate_mounts(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_new();
        _cleanup_free_ char *mi = test_read_data("mountinfo-duplicates");

        assert_int_equal(cg_mountinfo_parse(mi, ROOT, host), 0);
        assert_int_equal(host->mode, CG_MODE_HYBRID);
        assert_int_equal(host->n_hierarchies, 4);
        check_hier(host, "memory", ROOT "/memory", "memory", -1);
        check_hier(host, "cpuacct", ROOT "/cpu,cpuacct", "cpu,cpuacct", -1);
        check_hier(host, "systemd", ROOT "/systemd", "name=systemd", -1);
        check_hier(host, "unified", ROOT "/unified", "unified", 0);
}

static void test_mounts_elsewhere(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_new();
        _cleanup_free_ char *mi = test_read_data("mountinfo-elsewhere");

        /* A trailing slash on the root changes nothing. */
        assert_int_equal(cg_mountinfo_parse(mi, ROOT "//", host), 0);
        assert_int_equal(host->mode, CG_MODE_LEGACY);
        assert_int_equal(host->n_hierarchies, 2);
        assert_int_equal(host->unified, -1);
        check_hier(host, "pids", ROOT "/pids", "pids", -1);
        /* Its mount source is empty ("- cgroup  rw,..."), and it has optional fields. */
        check_hier(host, "cpuset", ROOT "/cpuset", "cpuset", -1);
        assert_int_equal(cg_host_find(host, "memory"), -ENOENT);
        assert_int_equal(cg_host_find(host, "devices"), -ENOENT);
        assert_int_equal(cg_host_find(host, "freezer"), -ENOENT);
        assert_int_equal(cg_host_find(host, "hugetlb"), -ENOENT);
        assert_int_equal(cg_host_find(host, "unified"), -ENOENT);

        assert_int_equal(cg_mountinfo_parse(mi, "/sys/fs", host), 0);
        assert_int_equal(host->n_hierarchies, 2);
        check_hier(host, "unified", "/sys/fs/cgroup2", "unified", 0);
        check_hier(host, "hugetlb", "/sys/fs", "hugetlb", -1);
        assert_int_equal(host->mode, CG_MODE_LEGACY);

        assert_int_equal(cg_mountinfo_parse("1 0 0:1 / /memory rw - cgroup cgroup rw,memory\n"
                                            "2 0 0:2 / / rw - cgroup2 cgroup2 rw\n", "/", host), 0);
        assert_int_equal(host->mode, CG_MODE_UNIFIED);
        check_hier(host, "memory", "/memory", "memory", -1);
        assert_int_equal(cg_mountinfo_parse(mi, "sys/fs/cgroup", host), -EINVAL);
        assert_int_equal(cg_mountinfo_parse(mi, "", host), -EINVAL);
}

/* Controllers newer than this code: kept in the comparison, so each line finds its hierarchy. */
static void test_unknown_controllers(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("unknown", ROOT, true, false, false);
        _cleanup_free_ char *self = test_read_data("proc-self-cgroup-unknown");
        char *paths[CG_HIERARCHIES_MAX];

        assert_int_equal(host->n_hierarchies, 5);
        check_hier(host, "memory", ROOT "/memory", "memory", 2);
        check_hier(host, "frobnicate", ROOT "/frob", "frobnicate", 3);
        /* An unknown mount option cannot be told from a controller; it only shows in the label. */
        check_hier(host, "debug,futureopt", ROOT "/debug", "debug,futureopt", 4);
        check_hier(host, "net_cls", ROOT "/net_cls,net_prio", "net_cls,net_prio", 5);
        check_hier(host, "cpu", ROOT "/cpu,blah", "cpu,blah", 6);
        assert_string_equal(hier(host, "cpu")->other_controllers, "blah");
        assert_int_equal(hier(host, "cpu")->controllers, CG_MASK(CG_CTRL_CPU));
        assert_int_equal(hier(host, "frobnicate")->controllers, 0);
        assert_int_equal(cg_host_find(host, "elogind"), -ENOENT);
        assert_int_equal(cg_host_find(host, "zzz"), -ENOENT);

        assert_int_equal(cg_proc_pid_cgroup_parse(self, host, paths), 0);
        assert_string_equal(path_in(host, paths, "cpu"), "/c");
        assert_string_equal(path_in(host, paths, "frobnicate"), "/f");
        assert_string_equal(path_in(host, paths, "debug,futureopt"), "/d");
        cg_paths_free(paths);

        /* Without ids the names decide, unknown ones included: "memory,blah" is not the memory
         * hierarchy, "frobnicate,zzz" not the frobnicate one. */
        cg_host_free(host);
        host = host_load("unknown", ROOT, false, false, false);
        assert_int_equal(cg_proc_pid_cgroup_parse("2:memory,blah:/x\n3:frobnicate,zzz:/y\n4:debug:/d\n",
                                                  host, paths), 0);
        assert_null(path_in(host, paths, "memory"));
        assert_null(path_in(host, paths, "frobnicate"));
        assert_string_equal(path_in(host, paths, "debug,futureopt"), "/d");
        cg_paths_free(paths);
}

static void test_unified_controllers(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid-systemd", ROOT, false, false, false);
        int u = host->unified, mem = host->by_controller[CG_CTRL_MEMORY];

        /* v1 wins for a controller bound to v1; one only in v2 points at v2; unknown ignored. */
        assert_int_equal(cg_host_set_unified_controllers(host, "memory misc futurectl\n"), 0);
        assert_int_equal(host->by_controller[CG_CTRL_MEMORY], mem);
        assert_int_equal(host->by_controller[CG_CTRL_MISC], u);
        assert_int_equal(host->hierarchies[u].controllers, CG_MASK(CG_CTRL_MEMORY) | CG_MASK(CG_CTRL_MISC));
        /* A second read replaces the first. */
        assert_int_equal(cg_host_set_unified_controllers(host, ""), 0);
        assert_int_equal(host->by_controller[CG_CTRL_MISC], -1);
        assert_int_equal(host->hierarchies[u].controllers, 0);
        assert_int_equal(cg_host_set_unified_controllers(host, "  misc\t\tpids \n"), 0);
        assert_int_equal(host->by_controller[CG_CTRL_MISC], u);
        assert_int_equal(host->by_controller[CG_CTRL_PIDS], cg_host_find(host, "pids"));
        assert_int_equal(host->hierarchies[host->by_controller[CG_CTRL_PIDS]].version, 1);
}

static void test_find_and_labels(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid-systemd", ROOT, false, false, false);
        const CgHierarchy *cpu = hier(host, "cpu");
        char small[6], one[1];

        assert_int_equal(cg_host_find(host, "cpu,cpuacct"), cg_host_find(host, "cpuacct"));
        assert_int_equal(cg_host_find(host, "cpuacct,cpu"), -ENOENT);
        assert_int_equal(cg_host_find(host, "name=systemd"), cg_host_find(host, "systemd"));
        assert_int_equal(cg_host_find(host, "name=other"), -ENOENT);
        assert_int_equal(cg_host_find(host, ""), -ENOENT);
        assert_int_equal(cg_host_find(host, NULL), -ENOENT);
        assert_int_equal(cg_host_find(host, "misc"), -ENOENT);
        assert_string_equal(cg_hierarchy_label(cpu, small, sizeof(small)), "cpu,c");
        assert_string_equal(cg_hierarchy_label(cpu, one, sizeof(one)), "");

        CgHierarchy named = { .version = 1, .name = (char *) "x", .controllers = CG_MASK(CG_CTRL_CPU),
                              .root_fd = -EBADF };
        char buf[32];
        assert_string_equal(cg_hierarchy_label(&named, buf, sizeof(buf)), "cpu,name=x");
}

static void test_mountinfo_malformed(_unused_ void **state) {
        static const char * const bad[] = {
                "garbage",
                " ",
                "22 27 0:21 / /proc rw,relatime proc proc rw",
                "22 27 0:21 / /proc rw,relatime - proc proc",
                "22 27 0:21 / /proc rw,relatime - proc proc rw extra",
                "22 27 0:21 / /proc rw,relatime -  ",
                "x 27 0:21 / /proc rw - proc proc rw",
                "22 -1 0:21 / /proc rw - proc proc rw",
                "22 27 021 / /proc rw - proc proc rw",
                "22 27 0:x / /proc rw - proc proc rw",
                "22 27 :21 / /proc rw - proc proc rw",
                "22 27 0:21  /proc rw - proc proc rw",
                "22 27 0:21 / proc rw - proc proc rw",
                "22 27 0:21 / /proc  - proc proc rw",
                "99999999999 27 0:21 / /proc rw - proc proc rw",
                "22 27 0:21 / /proc rw,relatime shared:1 - proc proc rw trailing ",
                "31 23 0:28 / /sys/fs/cgroup/bad\\04 rw - tmpfs tmpfs rw",
                "31 23 0:28 / /sys/fs/cgroup/bad\\0 rw - tmpfs tmpfs rw",
                "31 23 0:28 / /sys/fs/cgroup/bad\\ rw - tmpfs tmpfs rw",
                "31 23 0:28 / /sys/fs/cgroup/nul\\000 rw - tmpfs tmpfs rw",
                "31 23 0:28 / /sys/fs/cgroup/big\\400 rw - tmpfs tmpfs rw",
                "31 23 0:28 / /sys/fs/cgroup/oct\\089 rw - tmpfs tmpfs rw",
                "32 31 0:29 / /sys/fs/cgroup/x rw - cgroup cgroup rw,xattr",
                "32 31 0:29 / /sys/fs/cgroup/x rw - cgroup cgroup rw,name=",
                "32 31 0:29 / /sys/fs/cgroup/x rw - cgroup cgroup rw,,memory",
                "32 31 0:29 / /sys/fs/cgroup/x rw - cgroup cgroup rw,memory,",
                "32 31 0:29 / /sys/fs/cgroup/x rw - cgroup cgroup name=a,name=b",
                "32 31 0:29 / /sys/fs/cgroup/x rw - cgroup cgroup ",
        };
        _cleanup_(cg_host_freep) CgHost *host = host_load("legacy", ROOT, false, false, false);
        const char *before = host->hierarchies[0].mount_point;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = NULL;

                /* Between good lines, so the parser must not stop at the first match. */
                assert_true(asprintf(&text, "31 23 0:28 / " ROOT " rw - tmpfs tmpfs rw\n%s\n"
                                            "32 31 0:29 / " ROOT "/pids rw - cgroup cgroup rw,pids\n", bad[i]) > 0);
                int r = cg_mountinfo_parse(text, ROOT, host);
                if (r != -EBADMSG)
                        fail_msg("line %zu \"%s\": %d, expected -EBADMSG", i, bad[i], r);
                /* *host is untouched on failure. */
                assert_int_equal(host->n_hierarchies, 11);
                assert_ptr_equal(host->hierarchies[0].mount_point, before);
        }

        _cleanup_free_ char *file = test_read_data("mountinfo-malformed");
        assert_int_equal(cg_mountinfo_parse(file, ROOT, host), -EBADMSG);
        assert_int_equal(host->n_hierarchies, 11);
}

static void test_mountinfo_limits(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_new();
        _cleanup_free_ char *text = NULL, *long_line = NULL;
        size_t len = 0;
        FILE *f;

        /* CG_HIERARCHIES_MAX hierarchies fit; one more is -E2BIG. */
        f = open_memstream(&text, &len);
        assert_non_null(f);
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++)
                fprintf(f, "%d 1 0:%d / " ROOT "/h%d rw - cgroup cgroup rw,name=h%d\n", 40 + i, 40 + i, i, i);
        assert_int_equal(fflush(f), 0);
        assert_int_equal(cg_mountinfo_parse(text, ROOT, host), 0);
        assert_int_equal(host->n_hierarchies, CG_HIERARCHIES_MAX);
        assert_int_equal(host->named_systemd, -1);
        assert_int_equal(cg_host_find(host, "h15"), 15);
        fprintf(f, "99 1 0:99 / " ROOT "/more rw - cgroup2 cgroup2 rw\n");
        assert_int_equal(fclose(f), 0);
        assert_int_equal(cg_mountinfo_parse(text, ROOT, host), -E2BIG);
        assert_int_equal(host->n_hierarchies, CG_HIERARCHIES_MAX);

        /* Nothing there: -ENOENT. */
        assert_int_equal(cg_mountinfo_parse("", ROOT, host), -ENOENT);
        assert_int_equal(cg_mountinfo_parse("\n\n", ROOT, host), -ENOENT);
        assert_int_equal(cg_mountinfo_parse("31 23 0:28 / " ROOT " rw - tmpfs tmpfs rw\n", ROOT, host), -ENOENT);

        /* A line past the cap is refused, even far from the cgroup root. */
        long_line = malloc(70000 + 1);
        assert_non_null(long_line);
        memcpy(long_line, "1 1 0:1 / /", 11);
        memset(long_line + 11, 'a', 70000 - 11);
        memcpy(long_line + 70000 - 16, " rw - ext4 x rw\n", 16);
        long_line[70000] = 0;
        assert_int_equal(cg_mountinfo_parse(long_line, ROOT, host), -EBADMSG);
        assert_int_equal(host->n_hierarchies, CG_HIERARCHIES_MAX);
}

static void test_pid_cgroup_malformed(_unused_ void **state) {
        static const char * const bad[] = {
                "garbage",
                "4:memory",
                "4:memory/x",
                "x:memory:/",
                "-1:memory:/",
                "99999999999:memory:/",
                ":memory:/",
                "4:memory:relative",
                "4:memory:",
                "0:memory:/",
                "4::/",
                "4:memory,,cpu:/",
                "4:,memory:/",
                "4:name=:/",
                "4:name=a,name=b:/",
                "4:memory:/a\n4:memory:/b",
                "0::/a\n0::/b",
                " 4:memory:/",
        };
        _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid-systemd", ROOT, false, false, false);
        char *sentinel = (char *) "untouched";

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = NULL;
                char *paths[CG_HIERARCHIES_MAX];

                for (size_t j = 0; j < CG_HIERARCHIES_MAX; j++)
                        paths[j] = sentinel;
                assert_true(asprintf(&text, "12:cpuset:/\n%s\n1:name=systemd:/\n", bad[i]) > 0);
                int r = cg_proc_pid_cgroup_parse(text, host, paths);
                if (r != -EBADMSG)
                        fail_msg("\"%s\": %d, expected -EBADMSG", bad[i], r);
                for (size_t j = 0; j < CG_HIERARCHIES_MAX; j++)
                        assert_ptr_equal(paths[j], sentinel);
                assert_int_equal(cg_host_set_ids(host, text), -EBADMSG);
        }
        /* set_ids failed every time: no id was set. */
        for (size_t j = 0; j < host->n_hierarchies; j++)
                assert_int_equal(host->hierarchies[j].id, host->hierarchies[j].version == 2 ? 0 : -1);

        _cleanup_free_ char *file = test_read_data("proc-self-cgroup-malformed");
        assert_int_equal(cg_host_set_ids(host, file), -EBADMSG);
        assert_int_equal(hier(host, "memory")->id, -1);

        /* A line longer than any path the kernel prints. */
        _cleanup_free_ char *huge = malloc(20000);
        assert_non_null(huge);
        memcpy(huge, "4:memory:/", 10);
        memset(huge + 10, 'a', 20000 - 11);
        huge[20000 - 1] = 0;
        char *paths[CG_HIERARCHIES_MAX];
        assert_int_equal(cg_proc_pid_cgroup_parse(huge, host, paths), -EBADMSG);
}

static void test_proc_cgroups_malformed(_unused_ void **state) {
        static const char * const bad[] = {
                "memory\t4\t25",
                "memory\t4\t25\t2",
                "memory\tx\t25\t1",
                "memory\t4\t25\t1\t9",
                "memory\t4\t-1\t1",
                "memory",
        };
        _cleanup_(cg_host_freep) CgHost *host = host_load("legacy", ROOT, false, false, false);
        int mem = host->by_controller[CG_CTRL_MEMORY];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = NULL;

                /* The disabling row comes first: nothing may be applied before the whole file parsed. */
                assert_true(asprintf(&text, "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                            "memory\t5\t1\t0\n%s\n", bad[i]) > 0);
                int r = cg_proc_cgroups_parse(text, host);
                if (r != -EBADMSG)
                        fail_msg("\"%s\": %d, expected -EBADMSG", bad[i], r);
                assert_int_equal(host->by_controller[CG_CTRL_MEMORY], mem);
                assert_true(host->hierarchies[mem].controllers & CG_MASK(CG_CTRL_MEMORY));
        }
        /* Spaces as separators and unknown controllers are fine. */
        assert_int_equal(cg_proc_cgroups_parse("memory 5 1 1\ndebug 0 1 0\n", host), 0);
        assert_int_equal(host->by_controller[CG_CTRL_MEMORY], mem);
}

/* The expected mode, decided here independently of the code under test. */
static int live_mode(const char *root, CgMode *ret) {
        struct statfs s, u;

        if (statfs(root, &s) < 0)
                return -errno;
        if ((uint32_t) s.f_type == CGROUP2_SUPER_MAGIC)
                *ret = CG_MODE_UNIFIED;
        else if ((uint32_t) s.f_type != TMPFS_MAGIC)
                return -ENOMEDIUM;
        else if (statfs(ROOT "/unified", &u) == 0 && (uint32_t) u.f_type == CGROUP2_SUPER_MAGIC)
                *ret = CG_MODE_HYBRID;
        else
                *ret = CG_MODE_LEGACY;
        return 0;
}

/* The path of this process in hierarchy h, from /proc/self/cgroup read by hand. */
static char *self_path(const CgHierarchy *h) {
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL, want[64];
        FILE *f = fopen("/proc/self/cgroup", "re");
        size_t len = 0;

        assert_non_null(f);
        assert_true(getdelim(&text, &len, 0, f) > 0);
        fclose(f);
        snprintf(want, sizeof(want), "%d:", h->id);
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (startswith(line, want))
                        return strdup(strchr(line + strlen(want), ':') + 1);
        return NULL;
}

static void test_discover_live(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = NULL;
        char *paths[CG_HIERARCHIES_MAX];
        CgMode mode = _CG_MODE_INVALID;
        int r, m;

        if (live_mode(ROOT, &mode) < 0)
                skip_because("no cgroup file system at " ROOT);
        r = cg_host_discover(ROOT, &host);
        assert_int_equal(r, 0);
        assert_non_null(host);
        assert_int_equal(host->mode, mode);
        print_message("# %s: %s, %zu hierarchies\n", ROOT, cg_mode_to_string(host->mode), host->n_hierarchies);
        for (size_t i = 0; i < host->n_hierarchies; i++) {
                const CgHierarchy *h = &host->hierarchies[i];
                struct statfs s;

                assert_true(h->root_fd >= 0);
                assert_int_equal(fstatfs(h->root_fd, &s), 0);
                assert_true((uint32_t) s.f_type == (h->version == 2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC));
                assert_int_equal(fcntl(h->root_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
                if (h->version == 1)
                        assert_true(h->id > 0);
        }

        m = cg_host_find(host, "memory");
        if (m < 0)
                skip_because("no memory controller at " ROOT);
        assert_int_equal(cg_host_pid_paths(host, getpid(), paths), 0);
        _cleanup_free_ char *expected = self_path(&host->hierarchies[m]);
        assert_non_null(expected);
        assert_non_null(paths[m]);
        print_message("# memory path: %s\n", paths[m]);
        assert_string_equal(paths[m], expected);
        cg_paths_free(paths);
        if (mode == CG_MODE_HYBRID) {
                assert_int_equal(host->hierarchies[m].version, 1);
                assert_true(host->unified >= 0);
        }
}

static void test_discover_errors(_unused_ void **state) {
        _cleanup_free_ char *dir = test_tmpdir();
        CgHost *host = (CgHost *) 0x1;
        struct statfs s;

        assert_int_equal(statfs(dir, &s), 0);
        /* A plain directory: not tmpfs (-ENOMEDIUM at once), or tmpfs with nothing mounted. */
        assert_int_equal(cg_host_discover(dir, &host), -ENOMEDIUM);
        assert_ptr_equal(host, (CgHost *) 0x1);

        _cleanup_free_ char *missing = NULL;
        assert_true(asprintf(&missing, "%s/missing", dir) > 0);
        assert_int_equal(cg_host_discover(missing, &host), -ENOENT);
        assert_ptr_equal(host, (CgHost *) 0x1);
        test_rm_rf(dir);

        /* Mounted somewhere, but not at this root. */
        assert_int_equal(cg_host_discover("/proc", &host), -ENOMEDIUM);
        assert_ptr_equal(host, (CgHost *) 0x1);
}

static void test_pid_paths_errors(_unused_ void **state) {
        _cleanup_(cg_host_freep) CgHost *host = host_load("hybrid", ROOT, true, false, false);
        char *paths[CG_HIERARCHIES_MAX];

        assert_int_equal(cg_host_pid_paths(host, 0, paths), -EINVAL);
        assert_int_equal(cg_host_pid_paths(host, -1, paths), -EINVAL);
        assert_int_equal(cg_host_pid_paths(host, INT_MAX, paths), -ESRCH);
}

static void test_free_null(_unused_ void **state) {
        char *paths[CG_HIERARCHIES_MAX] = {};
        CgHost *host = NULL;

        assert_null(cg_host_free(NULL));
        cg_host_freep(&host);
        cg_paths_free(paths);
        host = host_new();
        assert_int_equal(host->unified, -1);
        assert_int_equal(host->named_systemd, -1);
        assert_int_equal(host->mode, CG_MODE_LEGACY);
        for (size_t c = 0; c < _CG_CTRL_MAX; c++)
                assert_int_equal(host->by_controller[c], -1);
        cg_host_freep(&host);
        assert_null(host);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_hybrid_captured),
        cmocka_unit_test(test_hybrid_systemd),
        cmocka_unit_test(test_unified),
        cmocka_unit_test(test_legacy),
        cmocka_unit_test(test_disabled_controllers),
        cmocka_unit_test(test_pid_cgroup_layouts),
        cmocka_unit_test(test_pid_cgroup_by_id),
        cmocka_unit_test(test_escaped_mount_points),
        cmocka_unit_test(test_duplicate_mounts),
        cmocka_unit_test(test_mounts_elsewhere),
        cmocka_unit_test(test_unknown_controllers),
        cmocka_unit_test(test_unified_controllers),
        cmocka_unit_test(test_find_and_labels),
        cmocka_unit_test(test_mountinfo_malformed),
        cmocka_unit_test(test_mountinfo_limits),
        cmocka_unit_test(test_pid_cgroup_malformed),
        cmocka_unit_test(test_proc_cgroups_malformed),
        cmocka_unit_test(test_discover_live),
        cmocka_unit_test(test_discover_errors),
        cmocka_unit_test(test_pid_paths_errors),
        cmocka_unit_test(test_free_null),
};

TEST_MAIN(tests, NULL, NULL)
