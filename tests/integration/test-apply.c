/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apply.c on the host's real cgroupfs (v1 and hybrid here; the VM lane runs v2): every key's
 * conversion lands in the right v1 file and is enforced by the kernel, memory and swap are
 * written in the order the kernel requires, a request that fails half way is rolled back, and a
 * memory limit below usage is refused unless asked for.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "apply.h"
#include "cgfixture.h"
#include "testutil.h"

/* The fixture lives in *state, so that fixture_teardown() removes it also after a failed
 * assertion or a skip (cmocka jumps past the rest of the test). */
#define FIXTURE_OR_SKIP(f, ...)                                                       \
        CgFixture *f = fixture_new((const char *const[]) { __VA_ARGS__, NULL });      \
        *state = f;                                                                   \
        if (!f)                                                                       \
                skip_because("cannot make a scratch cgroup tree here (see above)")

static void make_group(CgFixture *f, const char *rel) {
        CgFailure fail = {};
        bool created;
        assert_int_equal(cg_tree_create(f->tree, rel, f->hmask, &created, &fail), 0);
        /* On v2, memory is charged where a process runs when it allocates: the controller must
         * be on before the below-usage test's child fills its group. */
        fixture_enable_v2(f, rel);
}

/* Parses "key=value" pairs and applies them; returns the result, refusal in *r. */
static int set(CgFixture *f, const char *rel, ApplyFlags flags, CgdRefusal *r, const char *const *kv) {
        KnobValue values[16];
        size_t n = 0;
        for (; kv[n]; n++) {
                _cleanup_free_ char *key = strndup(kv[n], strcspn(kv[n], "="));
                int k = knob_parse(key, strchr(kv[n], '=') + 1, &values[n], r);
                if (k < 0)
                        fail_msg("test bug: %s does not parse: %s", kv[n], r->message);
        }
        return apply_properties(f->tree, rel, values, n, flags, r);
}
#define SET(f, rel, flags, r, ...) set(f, rel, flags, r, (const char *const[]) { __VA_ARGS__, NULL })

static void must_set(CgFixture *f, const char *rel, const char *const *kv) {
        CgdRefusal r = {};
        if (set(f, rel, 0, &r, kv) < 0)
                fail_msg("%s: %s", cgd_error_name(r.error), r.message);
}
#define MUST_SET(f, rel, ...) must_set(f, rel, (const char *const[]) { __VA_ARGS__, NULL })

static char *file(CgFixture *f, const char *hier, const char *rel, const char *name) {
        char *text = NULL;
        assert_int_equal(cg_tree_read(f->tree, fixture_hier(f, hier), rel, name, &text, NULL), 0);
        text[strcspn(text, "\n")] = '\0';
        return text;
}

static void assert_file(CgFixture *f, const char *hier, const char *rel, const char *name, const char *want) {
        _cleanup_free_ char *got = file(f, hier, rel, name);
        if (!streq(got, want))
                fail_msg("%s:%s/%s is '%s', want '%s'", hier, rel, name, got, want);
}

static void assert_read(CgFixture *f, const char *rel, const char *key, const char *want) {
        _cleanup_free_ char *got = NULL;
        CgdRefusal r = {};
        if (apply_read(f->tree, rel, knob_lookup(key)->id, &got, &r) < 0)
                fail_msg("reading %s: %s", key, r.message);
        if (!streq(got, want))
                fail_msg("%s reads '%s', want '%s'", key, got, want);
}

static bool v1(CgFixture *f, const char *controller) {
        return f->host->hierarchies[fixture_hier(f, controller)].version == 1;
}

/* ---- each conversion, enforced ---- */

static void test_memory_max_v1(void **state) {
        FIXTURE_OR_SKIP(f, "memory");
        if (!v1(f, "memory"))
                skip_because("memory is on cgroup v2 here (VM lane)");
        make_group(f, "m");
        assert_read(f, "m", "memory.max", "max");
        MUST_SET(f, "m", "memory.max=32M");
        assert_file(f, "memory", "m", "memory.limit_in_bytes", "33554432");
        assert_read(f, "m", "memory.max", "33554432");

        Child c = child_spawn(child_hog, NULL);
        CgFailure fail = {};
        assert_int_equal(cg_tree_move(f->tree, "m", f->hmask, c.pid, &fail), 0);
        child_go(&c);
        int status = child_wait(&c, 30000);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_memory_swap_order_v1(void **state) {
        FIXTURE_OR_SKIP(f, "memory");
        if (!v1(f, "memory"))
                skip_because("memory is on cgroup v2 here (VM lane)");
        make_group(f, "s");
        if (cg_tree_has_file(f->tree, fixture_hier(f, "memory"), "s", "memory.memsw.limit_in_bytes") <= 0) {
                CgdRefusal r = {};
                assert_int_equal(SET(f, "s", 0, &r, "memory.swap.max=16M"), -EOPNOTSUPP);
                skip_because("swap accounting is off on this kernel (no memory.memsw.*)");
        }
        /* memsw = memory + swap. */
        MUST_SET(f, "s", "memory.max=64M", "memory.swap.max=16M");
        assert_file(f, "memory", "s", "memory.limit_in_bytes", "67108864");
        assert_file(f, "memory", "s", "memory.memsw.limit_in_bytes", "83886080");
        assert_read(f, "s", "memory.swap.max", "16777216");
        /* A new memory.max alone keeps the swap allowance. Lowering: limit first. */
        MUST_SET(f, "s", "memory.max=32M");
        assert_file(f, "memory", "s", "memory.memsw.limit_in_bytes", "50331648");
        /* Raising past the current memsw: memsw first, or the kernel says EINVAL. */
        MUST_SET(f, "s", "memory.max=1G", "memory.swap.max=0");
        assert_file(f, "memory", "s", "memory.limit_in_bytes", "1073741824");
        assert_file(f, "memory", "s", "memory.memsw.limit_in_bytes", "1073741824");
        MUST_SET(f, "s", "memory.max=2G");
        assert_file(f, "memory", "s", "memory.memsw.limit_in_bytes", "2147483648");
        MUST_SET(f, "s", "memory.max=max");
        assert_read(f, "s", "memory.max", "max");
        assert_read(f, "s", "memory.swap.max", "max");
}

static void test_cpu_v1(void **state) {
        FIXTURE_OR_SKIP(f, "cpu");
        if (!v1(f, "cpu"))
                skip_because("cpu is on cgroup v2 here (VM lane)");
        make_group(f, "c");
        assert_read(f, "c", "cpu.max", "max 100000");
        assert_read(f, "c", "cpu.weight", "100");
        MUST_SET(f, "c", "cpu.max=20000 100000", "cpu.weight=200");
        assert_file(f, "cpu", "c", "cpu.cfs_quota_us", "20000");
        assert_file(f, "cpu", "c", "cpu.cfs_period_us", "100000");
        assert_file(f, "cpu", "c", "cpu.shares", "2048");
        assert_read(f, "c", "cpu.max", "20000 100000");
        assert_read(f, "c", "cpu.weight", "200");
        MUST_SET(f, "c", "cpu.max=50000 200000");
        assert_file(f, "cpu", "c", "cpu.cfs_period_us", "200000");

        MUST_SET(f, "c", "cpu.max=20000 100000");
        Child c = child_spawn(child_spin, &(int) { 2000 });
        CgFailure fail = {};
        assert_int_equal(cg_tree_move(f->tree, "c", f->hmask, c.pid, &fail), 0);
        child_go(&c);
        usleep(400000);
        _cleanup_free_ char *stat = NULL;
        assert_int_equal(cg_tree_read(f->tree, fixture_hier(f, "cpu"), "c", "cpu.stat", &stat, NULL), 0);
        assert_true(kv_get(stat, "nr_throttled") >= 2);
        (void) kill(c.pid, SIGKILL);
        (void) child_wait(&c, 5000);
        MUST_SET(f, "c", "cpu.max=max");
        assert_file(f, "cpu", "c", "cpu.cfs_quota_us", "-1");
}

static void test_pids_v1(void **state) {
        FIXTURE_OR_SKIP(f, "pids");
        make_group(f, "p");
        assert_read(f, "p", "pids.max", "max");
        MUST_SET(f, "p", "pids.max=5");
        assert_file(f, "pids", "p", "pids.max", "5");
        Child c = child_spawn(child_fork_ten, NULL);
        CgFailure fail = {};
        assert_int_equal(cg_tree_move(f->tree, "p", f->hmask, c.pid, &fail), 0);
        child_go(&c);
        int status = child_wait(&c, 10000);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 4);
}

static int report_affinity(void *arg) {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) < 0)
                return 255;
        return CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set) ? 0 : 1;
}

static void test_cpuset_v1(void **state) {
        FIXTURE_OR_SKIP(f, "cpuset");
        if (!v1(f, "cpuset"))
                skip_because("cpuset is on cgroup v2 here (VM lane)");
        make_group(f, "pin");
        MUST_SET(f, "pin", "cpuset.cpus=0");
        assert_read(f, "pin", "cpuset.cpus", "0");
        Child c = child_spawn(report_affinity, NULL);
        CgFailure fail = {};
        assert_int_equal(cg_tree_move(f->tree, "pin", f->hmask, c.pid, &fail), 0);
        child_go(&c);
        int status = child_wait(&c, 5000);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0); /* the kernel pinned it to CPU 0 */
}

/* The first disk of the machine as MAJ:MIN (from /sys/block/NAME/dev), loop and ram devices
 * left out. */
static bool block_device(char buf[static 32]) {
        FILE *p = popen("for d in /sys/block/*; do case ${d##*/} in loop*|ram*) continue;; esac; "
                        "cat $d/dev; break; done 2>/dev/null", "re");
        if (!p)
                return false;
        bool ok = fgets(buf, 32, p) != NULL;
        pclose(p);
        buf[strcspn(buf, "\n")] = '\0';
        return ok && strchr(buf, ':');
}

static void test_io_v1(void **state) {
        FIXTURE_OR_SKIP(f, "blkio");
        if (!v1(f, "io"))
                skip_because("io is on cgroup v2 here (VM lane)");
        char dev[32];
        if (!block_device(dev)) {
                skip_because("no block device in /sys/block");
        }
        make_group(f, "io");
        char kv[96], want[96];
        snprintf(kv, sizeof kv, "io.max=%s rbps=1048576 wiops=100", dev);
        MUST_SET(f, "io", kv);
        snprintf(want, sizeof want, "%s 1048576", dev);
        assert_file(f, "blkio", "io", "blkio.throttle.read_bps_device", want);
        snprintf(want, sizeof want, "%s 100", dev);
        assert_file(f, "blkio", "io", "blkio.throttle.write_iops_device", want);
        snprintf(want, sizeof want, "%s rbps=1048576 wbps=max riops=max wiops=100", dev);
        assert_read(f, "io", "io.max", want);
        snprintf(kv, sizeof kv, "io.max=%s rbps=max", dev);
        MUST_SET(f, "io", kv);
        assert_file(f, "blkio", "io", "blkio.throttle.read_bps_device", "");
}

static void test_v1_not_supported(void **state) {
        FIXTURE_OR_SKIP(f, "memory");
        if (!v1(f, "memory"))
                skip_because("memory is on cgroup v2 here");
        make_group(f, "n");
        static const char *const keys[] = { "memory.high=1G", "memory.low=1G", "memory.min=1G" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                CgdRefusal r = {};
                assert_int_equal(SET(f, "n", 0, &r, keys[i]), -EOPNOTSUPP);
                assert_int_equal(r.error, CGD_ERROR_NOT_SUPPORTED);
                assert_non_null(strstr(r.message, "no cgroup v1 equivalent"));
        }
}

/* ---- whole requests ---- */

static void test_rollback_mid_set(void **state) {
        FIXTURE_OR_SKIP(f, "memory", "pids", "cpuset");
        make_group(f, "r");
        MUST_SET(f, "r", "memory.max=100M", "pids.max=50");
        _cleanup_free_ char *cpus_before = NULL;
        assert_int_equal(apply_read(f->tree, "r", KNOB_CPUSET_CPUS, &cpus_before, &(CgdRefusal) {}), 0);
        /* cpuset.cpus comes last in the apply order; CPU 4000 does not exist, so the kernel
         * refuses it after memory.max and pids.max were written. */
        CgdRefusal r = {};
        int k = SET(f, "r", 0, &r, "memory.max=64M", "pids.max=5", "cpuset.cpus=4000");
        assert_true(k < 0);
        assert_int_equal(r.error, CGD_ERROR_INVALID_VALUE);
        assert_non_null(strstr(r.message, "cpuset.cpus"));
        assert_non_null(strstr(r.message, "nothing was changed"));
        assert_read(f, "r", "memory.max", "104857600");
        assert_read(f, "r", "pids.max", "50");
        assert_read(f, "r", "cpuset.cpus", cpus_before);
}

static void test_below_usage(void **state) {
        FIXTURE_OR_SKIP(f, "memory");
        make_group(f, "u");
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        Child c = child_spawn(child_hold_memory, &ready[1]);
        CgFailure fail = {};
        assert_int_equal(cg_tree_move(f->tree, "u", f->hmask, c.pid, &fail), 0);
        child_go(&c);
        char x;
        assert_int_equal(read(ready[0], &x, 1), 1);

        CgdRefusal r = {};
        assert_int_equal(SET(f, "u", 0, &r, "memory.max=4M"), -EBUSY);
        assert_int_equal(r.error, CGD_ERROR_BUSY);
        assert_non_null(strstr(r.message, "below the group's current usage"));
        assert_read(f, "u", "memory.max", "max");
        if (v1(f, "memory")) {
                /* Asked for, v1 tries to reclaim; with no swap it cannot, and refuses. */
                assert_int_equal(SET(f, "u", APPLY_ALLOW_BELOW_USAGE, &r, "memory.max=4M"), -EBUSY);
                assert_non_null(strstr(r.message, "nothing was changed"));
                assert_read(f, "u", "memory.max", "max");
        }
        (void) kill(c.pid, SIGKILL);
        (void) child_wait(&c, 5000);
        close(ready[0]);
        close(ready[1]);
}

static void test_request_errors(void **state) {
        FIXTURE_OR_SKIP(f, "memory", "pids");
        make_group(f, "e");
        CgdRefusal r = {};
        assert_true(SET(f, "e", 0, &r, "pids.max=5", "pids.max=6") < 0);
        assert_int_equal(r.error, CGD_ERROR_INVALID_VALUE);
        assert_non_null(strstr(r.message, "given twice"));
        assert_true(SET(f, "nosuch", 0, &r, "pids.max=5") < 0);
        assert_int_equal(r.error, CGD_ERROR_NOT_FOUND);
        assert_read(f, "e", "pids.max", "max");
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_memory_max_v1, fixture_teardown),
        cmocka_unit_test_teardown(test_memory_swap_order_v1, fixture_teardown),
        cmocka_unit_test_teardown(test_cpu_v1, fixture_teardown),
        cmocka_unit_test_teardown(test_pids_v1, fixture_teardown),
        cmocka_unit_test_teardown(test_cpuset_v1, fixture_teardown),
        cmocka_unit_test_teardown(test_io_v1, fixture_teardown),
        cmocka_unit_test_teardown(test_v1_not_supported, fixture_teardown),
        cmocka_unit_test_teardown(test_rollback_mid_set, fixture_teardown),
        cmocka_unit_test_teardown(test_below_usage, fixture_teardown),
        cmocka_unit_test_teardown(test_request_errors, fixture_teardown),
};

TEST_MAIN(tests, NULL, NULL)
