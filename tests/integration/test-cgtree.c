/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgtree.c on the host's real cgroupfs, as root, in a scratch tree below this process's memory
 * group. Every limit is shown enforced by the kernel on real processes, not just stored: a sixth
 * task refused at pids.max=5, a memory hog killed, CPU throttling counted, moves seen in
 * /proc/PID/cgroup, freezing seen as a stopped counter, kills seen in waitpid(). Runs on hybrid and
 * legacy hosts (the VM lane covers pure cgroup v2); skips with the reason where it cannot run.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cgfixture.h"
#include "testutil.h"

/* The fixture lives in *state, so that fixture_teardown() removes it also after a failed
 * assertion or a skip (cmocka jumps past the rest of the test). */
#define FIXTURE_OR_SKIP(f, ...)                                                       \
        CgFixture *f = fixture_new((const char *const[]) { __VA_ARGS__, NULL });      \
        *state = f;                                                                   \
        if (!f)                                                                       \
                skip_because("cannot make a scratch cgroup tree here (see above)")

static void must(int r, const CgFixture *f, const CgFailure *fail) {
        if (r < 0) {
                char buf[512];
                fail_msg("%s", cg_failure_explain(fail, f->host, buf, sizeof buf));
        }
}

static char *read_ctl(CgFixture *f, const char *hier, const char *rel, const char *file) {
        char *text = NULL;
        CgFailure fail = {};
        must(cg_tree_read(f->tree, fixture_hier(f, hier), rel, file, &text, &fail), f, &fail);
        return text;
}

static void write_ctl(CgFixture *f, const char *hier, const char *rel, const char *file, const char *value) {
        CgFailure fail = {};
        must(cg_tree_write(f->tree, fixture_hier(f, hier), rel, file, value, &fail), f, &fail);
}

static void make_group(CgFixture *f, const char *rel, uint32_t hmask) {
        CgFailure fail = {};
        bool created = false;
        must(cg_tree_create(f->tree, rel, hmask, &created, &fail), f, &fail);
        assert_true(created);
        fixture_enable_v2(f, rel);
}

static void move_child(CgFixture *f, const char *rel, uint32_t hmask, pid_t pid) {
        CgFailure fail = {};
        must(cg_tree_move(f->tree, rel, hmask, pid, &fail), f, &fail);
}

/* Whether /proc/PID/cgroup puts pid at the tree's rel in hierarchy hier. */
static bool proc_in(CgFixture *f, pid_t pid, int hier, const char *rel) {
        char *paths[CG_HIERARCHIES_MAX] = {};
        if (cg_host_pid_paths(f->host, pid, paths) < 0)
                return false;
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "%s%s%s", f->path, streq(rel, ".") ? "" : "/", streq(rel, ".") ? "" : rel) > 0);
        bool in = paths[hier] && streq(paths[hier], want);
        cg_paths_free(paths);
        return in;
}

/* ---- enforcement ---- */

static void test_pids_max_stops_sixth_task(void **state) {
        FIXTURE_OR_SKIP(f, "pids");
        uint32_t pids = CG_HMASK(fixture_hier(f, "pids"));
        make_group(f, "limited", pids);
        write_ctl(f, "pids", "limited", "pids.max", "5");
        _cleanup_free_ char *back = read_ctl(f, "pids", "limited", "pids.max");
        assert_string_equal(back, "5\n");

        Child c = child_spawn(child_fork_ten, NULL);
        move_child(f, "limited", pids, c.pid);
        child_go(&c);
        int status = child_wait(&c, 10000);
        assert_true(WIFEXITED(status));
        /* The child is the first task; four more fit under pids.max=5, the sixth fork fails. */
        assert_int_equal(WEXITSTATUS(status), 4);
        _cleanup_free_ char *events = read_ctl(f, "pids", "limited", "pids.events");
        assert_true(kv_get(events, "max") >= 6);
}

static void test_memory_limit_stops_hog(void **state) {
        FIXTURE_OR_SKIP(f, "memory");
        int m = fixture_hier(f, "memory");
        if (f->host->hierarchies[m].version != 1)
                skip_because("memory is not a v1 controller here (the VM lane tests v2)");
        make_group(f, "hog", CG_HMASK(m));
        write_ctl(f, "memory", "hog", "memory.limit_in_bytes", "33554432");
        _cleanup_free_ char *back = read_ctl(f, "memory", "hog", "memory.limit_in_bytes");
        assert_string_equal(back, "33554432\n");

        Child c = child_spawn(child_hog, NULL);
        move_child(f, "hog", CG_HMASK(m), c.pid);
        child_go(&c);
        int status = child_wait(&c, 30000);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        _cleanup_free_ char *oom = read_ctl(f, "memory", "hog", "memory.oom_control");
        assert_true(kv_get(oom, "oom_kill") >= 1);
        _cleanup_free_ char *max = read_ctl(f, "memory", "hog", "memory.max_usage_in_bytes");
        assert_true(atoll(max) <= 33554432);
}

static void test_cpu_quota_throttles(void **state) {
        FIXTURE_OR_SKIP(f, "cpu");
        int cpu = fixture_hier(f, "cpu");
        if (f->host->hierarchies[cpu].version != 1)
                skip_because("cpu is not a v1 controller here (the VM lane tests v2)");
        make_group(f, "slow", CG_HMASK(cpu));
        write_ctl(f, "cpu", "slow", "cpu.cfs_period_us", "100000");
        write_ctl(f, "cpu", "slow", "cpu.cfs_quota_us", "20000");

        int ms = 500;
        Child c = child_spawn(child_spin, &ms);
        move_child(f, "slow", CG_HMASK(cpu), c.pid);
        child_go(&c);
        int status = child_wait(&c, 10000);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        _cleanup_free_ char *stat = read_ctl(f, "cpu", "slow", "cpu.stat");
        /* 500 ms of spinning at 20% of one CPU: throttled in most of the ~5 periods. */
        assert_true(kv_get(stat, "nr_throttled") >= 2);
        assert_true(kv_get(stat, "throttled_time") > 0);
}

/* ---- moves, listing, freezing, killing ---- */

static void test_move_and_list(void **state) {
        FIXTURE_OR_SKIP(f, "memory", "pids", "cpu");
        uint32_t all = f->hmask;
        make_group(f, "app/web", all);
        Child c = child_spawn(child_wait_forever, NULL);
        move_child(f, "app/web", all, c.pid);
        for (int i = 0; i < (int) f->host->n_hierarchies; i++)
                if (all & CG_HMASK(i))
                        assert_true(proc_in(f, c.pid, i, "app/web"));

        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int pidsh = fixture_hier(f, "pids");
        assert_int_equal(cg_tree_procs(f->tree, pidsh, "app", false, &pids, &n), 0);
        assert_int_equal(n, 0);
        free(pids);
        pids = NULL;
        assert_int_equal(cg_tree_procs(f->tree, pidsh, "app", true, &pids, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], c.pid);

        CgFailure fail = {};
        assert_int_equal(cg_tree_move(f->tree, "app", all, 0, &fail), -ESRCH);
        assert_int_equal(cg_tree_move(f->tree, "nosuch", all, c.pid, &fail), -ENOENT);
        assert_true(proc_in(f, c.pid, pidsh, "app/web"));
        (void) kill(c.pid, SIGKILL);
        (void) child_wait(&c, 5000);
}

static int count_forever(void *arg) {
        volatile uint64_t *counter = arg;
        while (++*counter > 0)
                ;
        return 0;
}

static uint64_t advance_over(volatile uint64_t *counter, unsigned ms) {
        uint64_t before = *counter;
        usleep(ms * 1000);
        return *counter - before;
}

static void freeze_and_thaw(CgFixture *f, uint32_t hmask) {
        make_group(f, "ice", hmask);
        volatile uint64_t *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(counter != MAP_FAILED);
        Child c = child_spawn(count_forever, (void *) counter);
        move_child(f, "ice", hmask, c.pid);
        child_go(&c);
        assert_true(advance_over(counter, 50) > 0);

        CgFailure fail = {};
        must(cg_tree_freeze(f->tree, "ice", true, 5000, &fail), f, &fail);
        (void) advance_over(counter, 10); /* a store already in flight may still land */
        assert_int_equal(advance_over(counter, 100), 0);
        must(cg_tree_freeze(f->tree, "ice", false, 5000, &fail), f, &fail);
        assert_true(advance_over(counter, 50) > 0);
        (void) kill(c.pid, SIGKILL);
        (void) child_wait(&c, 5000);
        munmap((void *) counter, 4096);
}

static void test_freeze_unified(void **state) {
        FIXTURE_OR_SKIP(f, "unified");
        int u = fixture_hier(f, "unified");
        make_group(f, "probe", CG_HMASK(u));
        if (cg_tree_has_file(f->tree, u, "probe", "cgroup.freeze") <= 0) {
                skip_because("this kernel's cgroup2 has no cgroup.freeze (before 5.2)");
        }
        freeze_and_thaw(f, CG_HMASK(u));
}

static void test_freeze_v1_freezer(void **state) {
        FIXTURE_OR_SKIP(f, "freezer");
        int fr = fixture_hier(f, "freezer");
        if (f->host->hierarchies[fr].version != 1)
                skip_because("no v1 freezer hierarchy here");
        freeze_and_thaw(f, CG_HMASK(fr)); /* no unified in the tree: the v1 freezer must do it */
}

static int fork_and_wait(void *arg) {
        for (int i = 0; i < 3 && fork() > 0; i++)
                ;
        return child_wait_forever(NULL);
}

static void kill_group(CgFixture *f, const char *fallback, int sig) {
        make_group(f, "doomed/inner", f->hmask);
        Child c = child_spawn(fork_and_wait, NULL);
        move_child(f, "doomed/inner", f->hmask, c.pid);
        child_go(&c);
        int h = fixture_hier(f, fallback);
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        for (int i = 0; i < 1000 && n < 4; i++) {
                free(TAKE_PTR(pids));
                assert_int_equal(cg_tree_procs(f->tree, h, "doomed", true, &pids, &n), 0);
                usleep(1000);
        }
        assert_int_equal(n, 4);

        size_t signalled = 0;
        CgFailure fail = {};
        must(cg_tree_kill(f->tree, "doomed", sig, h, &signalled, &fail), f, &fail);
        assert_int_equal(signalled, 4);
        int status = child_wait(&c, 5000);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), sig);
        for (int i = 0; i < 1000 && n > 0; i++) {
                free(TAKE_PTR(pids));
                assert_int_equal(cg_tree_procs(f->tree, h, "doomed", true, &pids, &n), 0);
                usleep(1000);
        }
        assert_int_equal(n, 0);
}

static void test_kill_unified(void **state) {
        FIXTURE_OR_SKIP(f, "unified");
        kill_group(f, "unified", SIGKILL); /* cgroup.kill */
}

static void test_kill_v1_pidfds(void **state) {
        FIXTURE_OR_SKIP(f, "pids", "freezer");
        kill_group(f, "pids", SIGTERM); /* pidfds, with the group frozen meanwhile */
}

/* ---- structure: create, list, remove, rollback ---- */

static bool exists_in(CgFixture *f, int hier, const char *rel) {
        _cleanup_strv_free_ char **l = NULL;
        if (cg_tree_children(f->tree, hier, ".", true, &l) < 0)
                return false;
        for (char **i = l; *i; i++)
                if (streq(*i, rel))
                        return true;
        return false;
}

static void test_create_list_remove(void **state) {
        FIXTURE_OR_SKIP(f, "memory", "pids");
        int m = fixture_hier(f, "memory");
        CgFailure fail = {};
        bool created = false;
        make_group(f, "a/b/c", f->hmask);
        make_group(f, "a/x", f->hmask);
        must(cg_tree_create(f->tree, "a/b", f->hmask, &created, &fail), f, &fail);
        assert_false(created);

        _cleanup_strv_free_ char **l = NULL;
        assert_int_equal(cg_tree_children(f->tree, m, ".", true, &l), 0);
        const char *want[] = { "a", "a/b", "a/b/c", "a/x" };
        assert_int_equal(strv_length(l), ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_string_equal(l[i], want[i]);
        l = strv_free(l);
        assert_int_equal(cg_tree_children(f->tree, m, "a", false, &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "a/b");

        assert_int_equal(cg_tree_remove(f->tree, ".", f->hmask, true, &fail), -EPERM);
        assert_int_equal(cg_tree_remove(f->tree, "a", f->hmask, false, &fail), -EBUSY);
        assert_int_equal(cg_tree_remove(f->tree, "nosuch", f->hmask, false, &fail), -ENOENT);
        must(cg_tree_remove(f->tree, "a/b", f->hmask, true, &fail), f, &fail);
        for (int i = 0; i < (int) f->host->n_hierarchies; i++)
                if (f->hmask & CG_HMASK(i)) {
                        assert_false(exists_in(f, i, "a/b"));
                        assert_true(exists_in(f, i, "a/x"));
                }
}

/* The tree keeps the last group it wrote open (CgGroupCache). A group removed and made again
 * behind its back must be found again, and one removed through the tree must be gone. */
static void test_group_cache_follows_the_group(void **state) {
        FIXTURE_OR_SKIP(f, "pids");
        int p = fixture_hier(f, "pids");
        make_group(f, "g", f->hmask);
        write_ctl(f, "pids", "g", "pids.max", "7");
        _cleanup_free_ char *seven = read_ctl(f, "pids", "g", "pids.max");
        assert_string_equal(seven, "7\n");

        _cleanup_free_ char *dir = NULL;
        assert_true(asprintf(&dir, "%s%s/g", f->host->hierarchies[p].mount_point, f->path) > 0);
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_ctl(f, "pids", "g", "pids.max", "9"); /* through the new group, not the dead one */
        _cleanup_free_ char *path = NULL, *nine = NULL;
        assert_true(asprintf(&path, "%s/pids.max", dir) > 0);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        char buf[16] = "";
        assert_true(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0);
        close(fd);
        assert_string_equal(buf, "9\n");
        assert_int_equal(cg_tree_has_group(f->tree, p, "g"), 1);
        assert_int_equal(cg_tree_has_file(f->tree, p, "g", "pids.max"), 1);

        CgFailure fail = {};
        must(cg_tree_remove(f->tree, "g", f->hmask, false, &fail), f, &fail);
        assert_int_equal(cg_tree_has_group(f->tree, p, "g"), 0);
        assert_int_equal(cg_tree_write(f->tree, p, "g", "pids.max", "5", &fail), -ENOENT);
        assert_string_equal(fail.op, "open");
        nine = read_ctl(f, "pids", ".", "pids.max"); /* the root is never cached and still there */
        assert_non_null(nine);
}

static void test_remove_busy_changes_nothing(void **state) {
        FIXTURE_OR_SKIP(f, "memory", "pids");
        int p = fixture_hier(f, "pids");
        make_group(f, "busy/leaf", f->hmask);
        Child c = child_spawn(child_wait_forever, NULL);
        move_child(f, "busy/leaf", CG_HMASK(p), c.pid); /* busy in pids only */
        CgFailure fail = {};
        assert_int_equal(cg_tree_remove(f->tree, "busy", f->hmask, true, &fail), -EBUSY);
        assert_int_equal(fail.hierarchy, p);
        char buf[512];
        assert_non_null(strstr(cg_failure_explain(&fail, f->host, buf, sizeof buf), "still has processes"));
        /* Refused before anything was removed: the memory hierarchy keeps the group too. */
        for (int i = 0; i < (int) f->host->n_hierarchies; i++)
                if (f->hmask & CG_HMASK(i))
                        assert_true(exists_in(f, i, "busy/leaf"));
        (void) kill(c.pid, SIGKILL);
        (void) child_wait(&c, 5000);
}

static void test_create_rolls_back(void **state) {
        FIXTURE_OR_SKIP(f, "memory", "pids", "unified");
        int u = fixture_hier(f, "unified");
        int last = -1;
        for (int i = 0; i < (int) f->host->n_hierarchies; i++)
                if (f->hmask & CG_HMASK(i))
                        last = i;
        if (last != u)
                skip_because("cgroup2 is not the last hierarchy here; the failure would come first");
        /* cgroup2 refuses new descendants past cgroup.max.descendants: the last hierarchy fails
         * after the others have made theirs. */
        write_ctl(f, "unified", ".", "cgroup.max.descendants", "0");
        CgFailure fail = {};
        bool created = false;
        int r = cg_tree_create(f->tree, "x/y", f->hmask, &created, &fail);
        assert_true(r < 0);
        assert_int_equal(fail.hierarchy, u);
        for (int i = 0; i < (int) f->host->n_hierarchies; i++)
                if (f->hmask & CG_HMASK(i))
                        assert_false(exists_in(f, i, "x"));
        write_ctl(f, "unified", ".", "cgroup.max.descendants", "max");
}

static void test_cpuset_v1_inherits(void **state) {
        FIXTURE_OR_SKIP(f, "cpuset");
        int cs = fixture_hier(f, "cpuset");
        if (f->host->hierarchies[cs].version != 1)
                skip_because("cpuset is not a v1 controller here");
        make_group(f, "pinned/deeper", CG_HMASK(cs));
        _cleanup_free_ char *parent = read_ctl(f, "cpuset", ".", "cpuset.cpus");
        _cleanup_free_ char *child = read_ctl(f, "cpuset", "pinned/deeper", "cpuset.cpus");
        _cleanup_free_ char *mems = read_ctl(f, "cpuset", "pinned/deeper", "cpuset.mems");
        assert_string_equal(child, parent);
        assert_true(strlen(mems) > 1);
        Child c = child_spawn(child_wait_forever, NULL);
        move_child(f, "pinned/deeper", CG_HMASK(cs), c.pid);

        /* An empty cpuset takes no process: ENOSPC, explained. */
        make_group(f, "empty", CG_HMASK(cs));
        write_ctl(f, "cpuset", "empty", "cpuset.cpus", "\n");
        CgFailure fail = {};
        assert_int_equal(cg_tree_move(f->tree, "empty", CG_HMASK(cs), c.pid, &fail), -ENOSPC);
        char buf[512];
        assert_non_null(strstr(cg_failure_explain(&fail, f->host, buf, sizeof buf), "no CPUs"));
        (void) kill(c.pid, SIGKILL);
        (void) child_wait(&c, 5000);
}

static void test_memory_below_usage_busy(void **state) {
        FIXTURE_OR_SKIP(f, "memory");
        int m = fixture_hier(f, "memory");
        if (f->host->hierarchies[m].version != 1)
                skip_because("memory is not a v1 controller here (v2 accepts the limit and reclaims)");
        make_group(f, "full", CG_HMASK(m));
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        Child c = child_spawn(child_hold_memory, &ready[1]);
        move_child(f, "full", CG_HMASK(m), c.pid);
        child_go(&c);
        char x;
        assert_int_equal(read(ready[0], &x, 1), 1);
        CgFailure fail = {};
        /* No swap here, anonymous memory cannot be reclaimed: v1 refuses a limit below usage. */
        int r = cg_tree_write(f->tree, m, "full", "memory.limit_in_bytes", "4194304", &fail);
        assert_int_equal(r, -EBUSY);
        char buf[512];
        assert_non_null(strstr(cg_failure_explain(&fail, f->host, buf, sizeof buf), "below the group's current usage"));
        (void) kill(c.pid, SIGKILL);
        (void) child_wait(&c, 5000);
        close(ready[0]);
        close(ready[1]);
}

static void test_never_leaves_the_tree(void **state) {
        FIXTURE_OR_SKIP(f, "memory");
        int m = fixture_hier(f, "memory");
        CgFailure fail = {};
        char *text = NULL;
        static const char *escapes[] = { "..", "../..", "a/../..", "/etc", "a//b" };
        for (size_t i = 0; i < ELEMENTSOF(escapes); i++) {
                assert_true(cg_tree_read(f->tree, m, escapes[i], "memory.limit_in_bytes", &text, &fail) < 0);
                assert_true(cg_tree_write(f->tree, m, escapes[i], "memory.limit_in_bytes", "1", &fail) < 0);
                bool created;
                assert_true(cg_tree_create(f->tree, escapes[i], f->hmask, &created, &fail) < 0);
                assert_true(cg_tree_remove(f->tree, escapes[i], f->hmask, false, &fail) < 0);
        }
        /* A control file name is one component. */
        assert_int_equal(cg_tree_read(f->tree, m, ".", "../memory.limit_in_bytes", &text, &fail), -EINVAL);
        assert_int_equal(cg_tree_write(f->tree, m, ".", "x/../../tasks", "1", &fail), -EINVAL);
        /* A tree root for a path with '..' is refused before anything is opened. */
        CgTree *t = NULL;
        assert_int_equal(cg_tree_open(f->host, "/a/../b", f->hmask, true, &t, &fail), -EINVAL);
        assert_null(t);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pids_max_stops_sixth_task, fixture_teardown),
        cmocka_unit_test_teardown(test_memory_limit_stops_hog, fixture_teardown),
        cmocka_unit_test_teardown(test_cpu_quota_throttles, fixture_teardown),
        cmocka_unit_test_teardown(test_move_and_list, fixture_teardown),
        cmocka_unit_test_teardown(test_freeze_unified, fixture_teardown),
        cmocka_unit_test_teardown(test_freeze_v1_freezer, fixture_teardown),
        cmocka_unit_test_teardown(test_kill_unified, fixture_teardown),
        cmocka_unit_test_teardown(test_kill_v1_pidfds, fixture_teardown),
        cmocka_unit_test_teardown(test_create_list_remove, fixture_teardown),
        cmocka_unit_test_teardown(test_group_cache_follows_the_group, fixture_teardown),
        cmocka_unit_test_teardown(test_remove_busy_changes_nothing, fixture_teardown),
        cmocka_unit_test_teardown(test_create_rolls_back, fixture_teardown),
        cmocka_unit_test_teardown(test_cpuset_v1_inherits, fixture_teardown),
        cmocka_unit_test_teardown(test_memory_below_usage_busy, fixture_teardown),
        cmocka_unit_test_teardown(test_never_leaves_the_tree, fixture_teardown),
};

TEST_MAIN(tests, NULL, NULL)
