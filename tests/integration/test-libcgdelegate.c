/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate.so against the real daemon on the real cgroupfs: every function of
 * include/cgdelegate.h is called on the socket it belongs to, its effect is read back from the
 * kernel's files, refusals come back as the documented errno with the daemon's error name and
 * message, and a method of the other interface is refused on the client's side. The daemon runs
 * with a scratch runtime directory and a policy of the test's own; the container is registered
 * below this process's memory cgroup (its cgroup2 group on a pure v2 host, as in the VM lane)
 * and is a forked child here (the host's pid namespace). Root; skips otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgdelegate.h"
#include "macro.h"
#include "testutil.h"

#define CG "/sys/fs/cgroup"

static char *tmp;       /* runtime and policy directories */
static char base[512];  /* host path of the scratch parent, below our memory cgroup */
static char admin_socket[600], box_socket[600];
static pid_t daemon_pid, leader, victim;
static cgd_client *admin, *box;
static bool v2; /* pure cgroup v2: one hierarchy at /sys/fs/cgroup, v2 file names */

/* ---- helpers ---- */

static bool streq_ptr(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}

/* The v2 name of a v1 file this test reads, and the v2 form of its value. */
static void to_v2(const char **file, const char **want) {
        if (streq_ptr(*file, "memory.limit_in_bytes"))
                *file = "memory.max";
        else if (streq_ptr(*file, "cpu.cfs_quota_us")) {
                *file = "cpu.max";
                *want = streq_ptr(*want, "20000") ? "20000 100000" : *want;
        }
}

static char *cg_read(const char *hier, const char *rel, const char *file) {
        char path[1024];
        if (v2)
                snprintf(path, sizeof path, CG "%s/lib%s/%s", base, rel, file);
        else
                snprintf(path, sizeof path, CG "/%s%s/lib%s/%s", hier, base, rel, file);
        char *text = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re");
        if (!f)
                return strdup("(missing)");
        ssize_t len = getdelim(&text, &size, '\0', f);
        fclose(f);
        if (len > 0 && text[len - 1] == '\n')
                text[len - 1] = 0;
        return text ? text : strdup("");
}

static void assert_cg(const char *hier, const char *rel, const char *file, const char *want) {
        if (v2)
                to_v2(&file, &want);
        char *got = cg_read(hier, rel, file);
        if (strcmp(got, want) != 0)
                print_error("%s%s/lib%s/%s: got '%s', want '%s'\n", hier, base, rel, file, got, want);
        assert_string_equal(got, want);
        free(got);
}

static bool in_group(pid_t pid, const char *hier_line, const char *rel) {
        char path[64], want[1024], line[1024];
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        snprintf(want, sizeof want, "%s:%s/lib%s\n", v2 ? "0:" : hier_line, base, rel);
        FILE *f = fopen(path, "re");
        bool found = false;
        while (f && fgets(line, sizeof line, f))
                found |= strstr(line, want) != NULL;
        if (f)
                fclose(f);
        return found;
}

static pid_t spawn_sleeper(void) {
        pid_t pid = fork();
        if (pid == 0) {
                for (;;)
                        pause();
        }
        return pid;
}

/* The refusal of the last call: errno, and the D-Bus error name it came with. */
static void assert_refused(cgd_client *c, int r, int want_errno, const char *want_name) {
        if (r != -want_errno)
                print_error("got %d (%s: %s), want -%d\n", r, cgd_client_error_name(c), cgd_client_error_message(c),
                            want_errno);
        assert_int_equal(r, -want_errno);
        assert_non_null(cgd_client_error_name(c));
        assert_string_equal(cgd_client_error_name(c), want_name);
        assert_true(strlen(cgd_client_error_message(c)) > 0);
}

/* ---- the daemon and the container ---- */

/* The path of this process's memory cgroup, the cgroup2 path on a pure v2 host. */
static int own_memory_cgroup(char *buf, size_t size) {
        char line[1024];
        FILE *f = fopen("/proc/self/cgroup", "re");
        int r = -ENOENT;
        while (f && fgets(line, sizeof line, f)) {
                char *colon = strchr(line, ':'), *second = colon ? strchr(colon + 1, ':') : NULL;
                if (second && (strncmp(colon + 1, "memory:", 7) == 0 || (v2 && strncmp(line, "0::", 3) == 0))) {
                        second[strcspn(second, "\n")] = 0;
                        snprintf(buf, size, "%s", streq_ptr(second + 1, "/") ? "" : second + 1);
                        r = 0;
                }
        }
        if (f)
                fclose(f);
        return r;
}

static int setup(void **state) {
        const char *daemon_bin = getenv("CGD_DAEMON");
        char own[400];
        if (own_memory_cgroup(own, sizeof own) < 0)
                return print_message("cannot find this process's memory cgroup\n"), -1;
        snprintf(base, sizeof base, "%s/cgd-libtest-%d", own, (int) getpid());
        tmp = test_tmpdir();
        char path[600];
        snprintf(path, sizeof path, "%s/policies", tmp);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/policies/libtest.conf", tmp);
        test_write_file(path, "[Policy]\nAllowedProperties=memory.max pids.max cpu.max\nMaxGroups=8\n\n"
                              "[Ceilings]\nmemory.max=256M\n");
        snprintf(admin_socket, sizeof admin_socket, "%s/run/admin.socket", tmp);
        daemon_pid = fork();
        if (daemon_pid == 0) {
                char run[600], policies[600];
                snprintf(run, sizeof run, "%s/run", tmp);
                snprintf(policies, sizeof policies, "%s/policies", tmp);
                execl(daemon_bin, daemon_bin, "--foreground", "--runtime-dir", run, "--policy-dir", policies, NULL);
                _exit(127);
        }
        for (int i = 0; i < 200 && cgd_client_open(admin_socket, &admin) < 0; i++)
                usleep(25000);
        if (!admin)
                return print_message("the daemon did not answer on %s\n", admin_socket), -1;
        leader = spawn_sleeper();
        victim = spawn_sleeper();
        return 0;
}

static int teardown(void **state) {
        cgd_client_free(box);
        if (admin) {
                cgd_options *o = NULL;
                (void) cgd_options_new(&o);
                (void) cgd_options_add_bool(o, "RemoveCgroup", 1);
                (void) cgd_unregister_container(admin, "lib", o);
                cgd_options_free(o);
        }
        cgd_client_free(admin);
        pid_t pids[] = { leader, victim, daemon_pid };
        for (size_t i = 0; i < 3; i++)
                if (pids[i] > 0) {
                        kill(pids[i], i == 2 ? SIGTERM : SIGKILL);
                        waitpid(pids[i], NULL, 0);
                }
        const char *hiers[] = { "blkio", "cpu", "cpuacct", "cpuset", "freezer", "memory", "pids", "systemd", "unified" };
        for (size_t i = 0; base[0] && i < ELEMENTSOF(hiers); i++) {
                char path[1024];
                snprintf(path, sizeof path, CG "/%s%s", hiers[i], base);
                (void) rmdir(path);
                snprintf(path, sizeof path, CG "%s", base);
                (void) rmdir(path);
        }
        if (tmp)
                test_rm_rf(tmp);
        free(tmp);
        return 0;
}

/* ---- Manager1 ---- */

static void test_register(void **state) {
        cgd_options *o;
        char cgroup[600], *socket = NULL;
        const cgd_property props[] = { { "pids.max", "50" } };
        snprintf(cgroup, sizeof cgroup, "%s/lib", base);
        assert_int_equal(cgd_options_new(&o), 0);
        assert_int_equal(cgd_options_add_bool(o, "Create", 1), 0);
        assert_int_equal(cgd_options_add_u32(o, "Leader", (uint32_t) leader), 0);
        assert_int_equal(cgd_options_add_properties(o, "Properties", props, 1), 0);
        assert_int_equal(cgd_register_container(admin, "lib", cgroup, "libtest", o, &socket), 0);
        cgd_options_free(o);
        snprintf(box_socket, sizeof box_socket, "%s/run/containers/lib/socket", tmp);
        assert_string_equal(socket, box_socket);
        free(socket);
        assert_cg("pids", "", "pids.max", "50");
        assert_true(cgd_client_is_admin(admin));
        assert_string_equal(cgd_client_socket(admin), admin_socket);

        assert_int_equal(cgd_client_open(box_socket, &box), 0);
        assert_false(cgd_client_is_admin(box));
        /* The same name twice: Exists, and nothing else registered. */
        assert_refused(admin, cgd_register_container(admin, "lib", cgroup, "libtest", NULL, NULL), EEXIST,
                       "org.cgdelegate.Error.Exists");
}

static void test_list_and_get_container(void **state) {
        cgd_container *l;
        size_t n;
        assert_int_equal(cgd_list_containers(admin, &l, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(l[0].name, "lib");
        assert_string_equal(l[0].policy, "libtest");
        cgd_containers_free(l, n);

        cgd_dict *d;
        const char *s;
        uint64_t u;
        assert_int_equal(cgd_get_container(admin, "lib", &d), 0);
        assert_int_equal(cgd_dict_get_string(d, "Socket", &s), 0);
        assert_string_equal(s, box_socket);
        assert_int_equal(cgd_dict_get_u64(d, "Leader", &u), 0);
        assert_int_equal(u, (uint64_t) leader);
        assert_string_equal(cgd_dict_type(d, "Requests"), "t");
        assert_int_equal(cgd_dict_get_bool(d, "Socket", &(int) { 0 }), -EINVAL);
        assert_int_equal(cgd_dict_get_string(d, "NoSuchKey", &s), -ENOENT);
        assert_non_null(cgd_dict_key(d, 0));
        assert_null(cgd_dict_key(d, cgd_dict_size(d)));
        cgd_dict_free(d);
        assert_refused(admin, cgd_get_container(admin, "nosuch", &d), ENOENT, "org.cgdelegate.Error.NotFound");
}

static void test_leader(void **state) {
        /* Registration set it; a second leader is refused, an unknown container too. */
        assert_refused(admin, cgd_set_container_leader(admin, "lib", victim, NULL), EEXIST, "org.cgdelegate.Error.Exists");
        assert_refused(admin, cgd_set_container_leader(admin, "nosuch", victim, NULL), ENOENT,
                       "org.cgdelegate.Error.NotFound");
}

static void test_admin_properties(void **state) {
        /* The admin is not bound by the policy: cpu.max is allowed, the root is writable. */
        const cgd_property p[] = { { "memory.max", "512M" } };
        assert_int_equal(cgd_set_container_properties(admin, "lib", "/", p, 1, NULL), 0);
        assert_cg("memory", "", "memory.limit_in_bytes", "536870912");
        cgd_property *got;
        size_t n;
        const char *const keys[] = { "memory.max", NULL };
        assert_int_equal(cgd_get_container_properties(admin, "lib", "/", keys, &got, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(got[0].value, "536870912");
        cgd_properties_free(got, n);
        const char *const unit[] = { "TasksMax=40", NULL };
        assert_int_equal(cgd_set_unit_properties(admin, "lib", "/", unit, NULL), 0);
        assert_cg("pids", "", "pids.max", "40");
}

static void test_statistics_and_reload(void **state) {
        cgd_dict *d;
        uint64_t requests = 0, containers = 0;
        assert_int_equal(cgd_get_statistics(admin, &d), 0);
        assert_int_equal(cgd_dict_get_u64(d, "requests", &requests), 0);
        assert_int_equal(cgd_dict_get_u64(d, "containers", &containers), 0);
        assert_true(requests > 0);
        assert_int_equal(containers, 1);
        assert_string_equal(cgd_dict_type(d, "refused.Exists"), "t");
        cgd_dict_free(d);
        assert_int_equal(cgd_reload_policies(admin), 0);
}

/* ---- Container1 ---- */

static void test_groups(void **state) {
        int created = -1;
        assert_int_equal(cgd_create_group(box, "/app", NULL, &created), 0);
        assert_int_equal(created, 1);
        assert_int_equal(cgd_create_group(box, "/app", NULL, &created), 0);
        assert_int_equal(created, 0);
        assert_int_equal(cgd_create_group(box, "/app/web", NULL, NULL), 0);
        assert_int_equal(cgd_create_group(box, "/gone", NULL, NULL), 0);
        /* The leader leaves the root for a leaf, as a container's init does under cgroup v2
         * (no internal processes: the root can then hand controllers to /app). */
        assert_int_equal(cgd_create_group(box, "/init", NULL, NULL), 0);
        assert_int_equal(cgd_move_process(box, "/init", leader, NULL), 0);
        char **l;
        assert_int_equal(cgd_list_groups(box, "/", 1, &l), 0);
        assert_int_equal(strv_length(l), 4);
        bool found = false;
        for (char **i = l; *i; i++)
                found |= streq_ptr(*i, "/app/web");
        assert_true(found);
        cgd_strv_free(l);
        assert_int_equal(cgd_list_container_groups(admin, "lib", "/app", 0, &l), 0);
        assert_int_equal(strv_length(l), 1);
        assert_string_equal(l[0], "/app/web");
        cgd_strv_free(l);
        assert_int_equal(cgd_remove_group(box, "/gone", 0, NULL), 0);
        assert_cg("memory", "/gone", "memory.limit_in_bytes", "(missing)");
        assert_refused(box, cgd_create_group(box, "/../escape", NULL, NULL), EINVAL, "org.cgdelegate.Error.InvalidPath");
        assert_refused(box, cgd_remove_group(box, "/", 0, NULL), EACCES, "org.cgdelegate.Error.AccessDenied");
        assert_refused(box, cgd_remove_group(box, "/nosuch", 0, NULL), ENOENT, "org.cgdelegate.Error.NotFound");
}

static void test_properties(void **state) {
        const cgd_property p[] = { { "memory.max", "64M" }, { "pids.max", "5" } };
        assert_int_equal(cgd_set_properties(box, "/app", p, 2, NULL), 0);
        assert_cg("memory", "/app", "memory.limit_in_bytes", "67108864");
        assert_cg("pids", "/app", "pids.max", "5");
        const char *const unit[] = { "CPUQuota=20%", NULL };
        assert_int_equal(cgd_set_unit_properties(box, NULL, "/app", unit, NULL), 0);
        assert_cg("cpu", "/app", "cpu.cfs_quota_us", "20000");

        cgd_property *got;
        size_t n;
        assert_int_equal(cgd_get_properties(box, "/app", NULL, &got, &n), 0);
        /* every key the policy allows, then the usage the host keeps (memory.current, cpu.stat, ...) */
        assert_true(n > 3);
        bool seen = false;
        for (size_t i = 0; i < n; i++) {
                bool limit = streq_ptr(got[i].key, "memory.max") || streq_ptr(got[i].key, "pids.max") ||
                             streq_ptr(got[i].key, "cpu.max");
                assert_true(limit == (i < 3));
                seen |= streq_ptr(got[i].key, "cpu.max") && streq_ptr(got[i].value, "20000 100000");
        }
        assert_true(seen);
        assert_true(streq_ptr(got[n - 1].key, "cpuset.cpus.effective") || strstr(got[n - 1].key, ".current") ||
                    strstr(got[n - 1].key, ".stat") || strstr(got[n - 1].key, ".peak"));
        cgd_properties_free(got, n);

        /* Refusals: each errno with its name, and nothing changed. */
        const cgd_property high[] = { { "memory.max", "1G" } }, bad[] = { { "pids.max", "lots" } },
                           denied[] = { { "cpu.weight", "100" } }, v1[] = { { "memory.limit_in_bytes", "1" } };
        assert_refused(box, cgd_set_properties(box, "/app", high, 1, NULL), ERANGE, "org.cgdelegate.Error.OutOfRange");
        assert_refused(box, cgd_set_properties(box, "/app", bad, 1, NULL), EINVAL, "org.cgdelegate.Error.InvalidValue");
        assert_refused(box, cgd_set_properties(box, "/app", denied, 1, NULL), EACCES, "org.cgdelegate.Error.AccessDenied");
        assert_refused(box, cgd_set_properties(box, "/app", v1, 1, NULL), EINVAL, "org.cgdelegate.Error.InvalidProperty");
        const char *const wrong[] = { "MemoryMax=64Q", NULL };
        assert_refused(box, cgd_set_unit_properties(box, NULL, "/app", wrong, NULL), EINVAL,
                       "org.cgdelegate.Error.InvalidValue");
        assert_cg("memory", "/app", "memory.limit_in_bytes", "67108864");
        assert_cg("pids", "/app", "pids.max", "5");
}

static void test_processes(void **state) {
        /* What a runtime does: the victim joins the container's tree (its /init leaf) in every
         * hierarchy. */
        const char *hiers[] = { "blkio", "cpu", "cpuacct", "cpuset", "freezer", "memory", "pids", "systemd", "unified" };
        for (size_t i = 0; i < ELEMENTSOF(hiers); i++) {
                char path[1024], pid[32];
                if (v2 && i > 0)
                        break;
                if (v2)
                        snprintf(path, sizeof path, CG "%s/lib/init/cgroup.procs", base);
                else
                        snprintf(path, sizeof path, CG "/%s%s/lib/init/cgroup.procs", hiers[i], base);
                snprintf(pid, sizeof pid, "%d\n", (int) victim);
                if (access(path, F_OK) == 0)
                        test_write_file(path, pid);
        }
        assert_int_equal(cgd_move_process(box, "/app", leader, NULL), 0);
        assert_true(in_group(leader, ":memory", "/app"));
        int pidfd = (int) syscall(SYS_pidfd_open, victim, 0);
        assert_true(pidfd >= 0);
        assert_int_equal(cgd_move_process_fd(box, "/app/web", pidfd, NULL), 0);
        close(pidfd);
        assert_true(in_group(victim, ":pids", "/app/web"));

        pid_t *pids;
        size_t n;
        assert_int_equal(cgd_get_processes(box, "/app", 1, &pids, &n), 0);
        assert_int_equal(n, 2);
        free(pids);
        assert_int_equal(cgd_get_container_processes(admin, "lib", "/app/web", 0, &pids, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], victim);
        free(pids);
        assert_refused(box, cgd_move_process(box, "/app", 1, NULL), ESRCH, "org.cgdelegate.Error.NoSuchProcess");
        assert_refused(box, cgd_move_process(box, "/app", 0, NULL), EINVAL, "org.cgdelegate.Error.InvalidValue");
}

static void test_freeze_thaw_kill(void **state) {
        assert_int_equal(cgd_freeze(box, "/app/web", NULL), 0);
        char *events = cg_read("unified", "/app/web", "cgroup.events"), *freezer = cg_read("freezer", "/app/web", "freezer.state");
        bool frozen = strstr(events, "frozen 1") || streq_ptr(freezer, "FROZEN");
        free(events);
        free(freezer);
        assert_true(frozen);
        assert_int_equal(cgd_thaw(box, "/app/web", NULL), 0);
        freezer = cg_read("freezer", "/app/web", "freezer.state");
        events = cg_read("unified", "/app/web", "cgroup.events");
        frozen = strstr(events, "frozen 1") || streq_ptr(freezer, "FROZEN");
        free(events);
        free(freezer);
        assert_false(frozen);

        assert_int_equal(cgd_kill(box, "/app/web", SIGKILL, NULL), 0);
        int status = 0;
        assert_int_equal(waitpid(victim, &status, 0), victim);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        victim = 0;
        assert_refused(box, cgd_kill(box, "/app/web", 0x7fff, NULL), EINVAL, "org.cgdelegate.Error.InvalidValue");
}

static void test_policy(void **state) {
        cgd_dict *d;
        const char *name;
        char *const *allowed;
        const cgd_property *ceilings;
        size_t n;
        uint64_t max_groups;
        int allow_kill;
        assert_int_equal(cgd_get_policy(box, NULL, &d), 0);
        assert_int_equal(cgd_dict_get_string(d, "Name", &name), 0);
        assert_string_equal(name, "libtest");
        assert_int_equal(cgd_dict_get_strv(d, "AllowedProperties", &allowed), 0);
        assert_int_equal(strv_length(allowed), 3);
        assert_int_equal(cgd_dict_get_properties(d, "Ceilings", &ceilings, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(ceilings[0].key, "memory.max");
        assert_string_equal(ceilings[0].value, "268435456");
        assert_int_equal(cgd_dict_get_u64(d, "MaxGroups", &max_groups), 0);
        assert_int_equal(max_groups, 8);
        assert_int_equal(cgd_dict_get_bool(d, "AllowKill", &allow_kill), 0);
        assert_true(allow_kill);
        cgd_dict_free(d);

        /* The admin reads any loaded policy by name. */
        char **names;
        assert_int_equal(cgd_list_policies(admin, &names), 0);
        assert_int_equal(strv_length(names), 2);
        assert_string_equal(names[0], "default");
        assert_string_equal(names[1], "libtest");
        cgd_strv_free(names);
        assert_int_equal(cgd_get_policy(admin, "libtest", &d), 0);
        assert_int_equal(cgd_dict_get_u64(d, "MaxGroups", &max_groups), 0);
        assert_int_equal(max_groups, 8);
        cgd_dict_free(d);
        assert_refused(admin, cgd_get_policy(admin, "nosuch", &d), ENOENT, "org.cgdelegate.Error.NotFound");
        assert_refused(box, cgd_get_policy(box, "libtest", &d), EINVAL, "org.cgdelegate.Error.InvalidValue");
}

/* A method of the other interface never reaches the daemon. */
static void test_wrong_socket(void **state) {
        assert_refused(box, cgd_reload_policies(box), EOPNOTSUPP, "org.cgdelegate.Error.NotSupported");
        assert_refused(admin, cgd_create_group(admin, "/x", NULL, NULL), EOPNOTSUPP, "org.cgdelegate.Error.NotSupported");
        cgd_client *none = NULL;
        assert_true(cgd_client_open("/nonexistent/cgd/socket", &none) < 0);
        assert_null(none);
}

static void test_events(void **state) {
        cgd_client *watcher;
        cgd_event *e = NULL;
        assert_int_equal(cgd_client_open(admin_socket, &watcher), 0);
        assert_int_equal(cgd_subscribe(watcher, (const char *const[]) { "Audit", NULL }), 0);
        assert_int_equal(cgd_client_next_event(watcher, 0, &e), 0); /* nothing yet */
        const cgd_property p[] = { { "pids.max", "7" } };
        assert_int_equal(cgd_set_properties(box, "/app", p, 1, NULL), 0);
        int r;
        while ((r = cgd_client_next_event(watcher, 5000000, &e)) > 0 && !streq_ptr(e->operation, "SetProperties"))
                cgd_event_free(e);
        assert_int_equal(r, 1);
        assert_string_equal(e->name, "Audit");
        assert_string_equal(e->container, "lib");
        assert_string_equal(e->path, "/app");
        assert_non_null(strstr(e->detail, "pids.max=7"));
        cgd_event_free(e);
        assert_true(cgd_client_get_fd(watcher) >= 0);
        assert_refused(watcher, cgd_subscribe(watcher, (const char *const[]) { "Nonsense", NULL }), EINVAL,
                       "org.cgdelegate.Error.InvalidValue");
        assert_int_equal(cgd_client_set_timeout(watcher, 1000000), 0);
        cgd_client_free(watcher);
}

static void test_unregister(void **state) {
        cgd_options *o;
        assert_int_equal(cgd_options_new(&o), 0);
        assert_int_equal(cgd_options_add_bool(o, "RemoveCgroup", 1), 0);
        /* A group still holds the leader: Busy, and the container stays registered. */
        assert_refused(admin, cgd_unregister_container(admin, "lib", o), EBUSY, "org.cgdelegate.Error.Busy");
        kill(leader, SIGKILL);
        waitpid(leader, NULL, 0);
        leader = 0;
        int r = -EBUSY;
        for (int i = 0; i < 100 && r == -EBUSY; i++, usleep(20000))
                r = cgd_unregister_container(admin, "lib", o);
        if (r == -ENOENT) /* the daemon saw the leader die and unregistered it itself */
                r = 0;
        assert_int_equal(r, 0);
        cgd_options_free(o);
        assert_cg("memory", "", "memory.limit_in_bytes", "(missing)");
}

int main(void) {
        const char *daemon_bin = getenv("CGD_DAEMON");
        if (geteuid() != 0 || !daemon_bin || access(daemon_bin, X_OK) < 0) {
                printf("1..0 # SKIP needs root and CGD_DAEMON (the daemon to test)\n");
                return 0;
        }
        v2 = access(CG "/cgroup.controllers", F_OK) == 0;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_register),
                cmocka_unit_test(test_list_and_get_container),
                cmocka_unit_test(test_leader),
                cmocka_unit_test(test_admin_properties),
                cmocka_unit_test(test_statistics_and_reload),
                cmocka_unit_test(test_groups),
                cmocka_unit_test(test_properties),
                cmocka_unit_test(test_processes),
                cmocka_unit_test(test_freeze_thaw_kill),
                cmocka_unit_test(test_policy),
                cmocka_unit_test(test_wrong_socket),
                cmocka_unit_test(test_events),
                cmocka_unit_test(test_unregister),
        };
        cmocka_set_message_output(CM_OUTPUT_TAP);
        return cmocka_run_group_tests(tests, setup, teardown);
}
