/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the bridge's two pure parts: bridge/settings.c (a unit's settings as systemd
 * reports them on the bus into cgroup v2 values, with systemd's precedence between old and new
 * names and its conversions) and bridge/dropin.c (the exec-wrapper drop-in: flags kept,
 * arguments quoted so that systemd reads them back unchanged, a wrapped command wrapped once),
 * and bridge/unitscan.c (which unit files may have settings: the file, its drop-ins by name,
 * '-' prefix, template and type, the bridge's own drop-in), on a unit tree in a temporary directory.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "dropin.h"
#include "settings.h"
#include "unitscan.h"

#define INF UINT64_MAX

typedef struct Row {
        const char *what;
        const char *const set[8]; /* "Name=value" with value a number or "inf" */
        const char *want;         /* the pairs joined: "memory.max=1 pids.max=5" */
} Row;

static const Row rows[] = {
        { "nothing set", { NULL }, "" },
        { "MemoryMax", { "MemoryMax=67108864" }, "memory.max=67108864" },
        { "MemoryLimit alone is memory.max", { "MemoryLimit=104857600" }, "memory.max=104857600" },
        /* systemd: once any unified memory setting is there, MemoryLimit= is ignored. */
        { "MemoryMax wins over MemoryLimit", { "MemoryLimit=104857600", "MemoryMax=67108864" }, "memory.max=67108864" },
        { "MemoryHigh makes MemoryLimit ignored", { "MemoryLimit=104857600", "MemoryHigh=50331648" }, "memory.high=50331648" },
        { "all memory settings", { "MemoryMax=4", "MemoryHigh=3", "MemoryLow=1", "MemoryMin=2", "MemorySwapMax=0" },
          "memory.max=4 memory.high=3 memory.low=1 memory.min=2 memory.swap.max=0" },
        { "MemoryLow=infinity", { "MemoryLow=inf" }, "memory.low=max" },
        /* CPUQuota=20% is 200 ms per second, 20 ms per 100 ms period. */
        { "CPUQuota=20%", { "CPUQuotaPerSecUSec=200000" }, "cpu.max=20000 100000" },
        { "CPUQuota=20% with CPUQuotaPeriodSec=10ms", { "CPUQuotaPerSecUSec=200000", "CPUQuotaPeriodUSec=10000" },
          "cpu.max=2000 10000" },
        /* cgroup_cpu_adjust_period(): 0.5% stretches the period so that the quota is 1 ms. */
        { "CPUQuota=0.5% stretches the period", { "CPUQuotaPerSecUSec=5000" }, "cpu.max=1000 200000" },
        { "CPUWeight", { "CPUWeight=50" }, "cpu.weight=50" },
        /* cgroup_cpu_shares_to_weight(): shares * 100 / 1024. */
        { "CPUShares=2048 is weight 200", { "CPUShares=2048" }, "cpu.weight=200" },
        { "CPUShares=2 clamps to weight 1", { "CPUShares=2" }, "cpu.weight=1" },
        { "CPUWeight wins over CPUShares", { "CPUShares=2048", "CPUWeight=30" }, "cpu.weight=30" },
        { "TasksMax", { "TasksMax=5" }, "pids.max=5" },
        { "IOWeight", { "IOWeight=200" }, "io.weight=default 200" },
        /* cgroup_weight_blkio_to_io(): weight * 100 / 500. */
        { "BlockIOWeight=1000 is io weight 200", { "BlockIOWeight=1000" }, "io.weight=default 200" },
        { "IOWeight wins over BlockIOWeight", { "BlockIOWeight=1000", "IOWeight=50" }, "io.weight=default 50" },
        { "unknown names are ignored", { "Nice=5", "TasksMax=7" }, "pids.max=7" },
};

static void test_settings_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                UnitSettings s;
                settings_init(&s);
                for (size_t j = 0; rows[i].set[j]; j++) {
                        const char *eq = strchr(rows[i].set[j], '=');
                        _cleanup_free_ char *name = strndup(rows[i].set[j], (size_t) (eq - rows[i].set[j]));
                        uint64_t v = streq(eq + 1, "inf") ? INF : strtoull(eq + 1, NULL, 10);
                        (void) settings_set(&s, name, v);
                }
                _cleanup_strv_free_ char **pairs = NULL;
                assert_int_equal(settings_to_pairs(&s, &pairs), 0);
                char got[512] = "";
                for (size_t k = 0; pairs[k]; k += 2)
                        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s=%s", k ? " " : "", pairs[k], pairs[k + 1]);
                if (!streq(got, rows[i].want))
                        fail_msg("%s: got '%s', want '%s'", rows[i].what, got, rows[i].want);
        }
}

static void test_defaults(void **state) {
        assert_string_equal(settings_default_value("memory.max"), "max");
        assert_string_equal(settings_default_value("memory.low"), "0");
        assert_string_equal(settings_default_value("cpu.weight"), "100");
        assert_string_equal(settings_default_value("io.weight"), "default 100");
        assert_string_equal(settings_default_value("pids.max"), "max");
}

static ExecCommand command(const char *path, const char *const *argv, const char *const *flags) {
        ExecCommand c = { .path = strdup(path) };
        size_t n = 0, m = 0;
        for (; argv && *argv; argv++)
                assert_int_equal(strv_extend(&c.argv, &n, *argv), 0);
        for (; flags && *flags; flags++)
                assert_int_equal(strv_extend(&c.flags, &m, *flags), 0);
        return c;
}

static void command_done(ExecCommand *c) {
        free(c->path);
        strv_free(c->argv);
        strv_free(c->flags);
}

static void test_dropin(void **state) {
        ExecCommand start[] = {
                command("/bin/sh", (const char *const[]) { "sh", "-c", "echo \"100%\" $HOME \\n", NULL },
                        (const char *const[]) { "ignore-failure", "privileged", NULL }),
        };
        ExecList lists[] = { { "ExecStartPre", NULL, 0 }, { "ExecStart", start, 1 } };
        _cleanup_free_ char *text = NULL;
        assert_int_equal(dropin_render("/opt/x/cgdelegate-exec", NULL, "/system.slice/a.service", lists, 2, &text), 0);
        assert_null(strstr(text, "Environment="));
        assert_non_null(strstr(text, "[Service]\nExecStart=\n"));
        assert_null(strstr(text, "ExecStartPre=")); /* none: not cleared */
        assert_non_null(strstr(text, "ExecStart=-+\"/opt/x/cgdelegate-exec\" \"/system.slice/a.service\" -- \"/bin/sh\" \"sh\" "
                                     "\"-c\" \"echo \\\"100%%\\\" $HOME \\\\n\"\n"));

        /* After a daemon-reload the property shows the wrapped command: it is wrapped once. */
        ExecCommand wrapped[] = {
                command("/opt/x/cgdelegate-exec",
                        (const char *const[]) { "/opt/x/cgdelegate-exec", "/system.slice/a.service", "--", "/bin/true", "true",
                                                NULL },
                        NULL),
        };
        ExecList again[] = { { "ExecStart", wrapped, 1 } };
        _cleanup_free_ char *text2 = NULL;
        assert_int_equal(dropin_render("/opt/x/cgdelegate-exec", "/run/x y/socket", "/system.slice/a.service", again, 1, &text2), 0);
        /* --socket reaches the wrapper, quoted like the commands. */
        assert_non_null(strstr(text2, "[Service]\nEnvironment=\"CGDELEGATE_SOCKET=/run/x y/socket\"\n"));
        assert_non_null(strstr(text2, "ExecStart=\"/opt/x/cgdelegate-exec\" \"/system.slice/a.service\" -- \"/bin/true\" \"true\"\n"));
        command_done(&start[0]);
        command_done(&wrapped[0]);
}

static void test_unitscan_text(void **state) {
        (void) state;
        assert_true(unitscan_text_has_settings("[Service]\nExecStart=/bin/true\nTasksMax=5\n"));
        assert_true(unitscan_text_has_settings("[Service]\n  MemoryMax = 1G"));
        assert_true(unitscan_text_has_settings("#CPUQuota=20%\n")); /* conservative */
        assert_true(unitscan_text_has_settings("[Slice]\nBlockIOWeight=10\n"));
        assert_false(unitscan_text_has_settings("[Service]\nExecStart=/bin/echo TasksMax=5\n"));
        assert_false(unitscan_text_has_settings("TasksMaxFoo=5\nMemoryAccounting=yes\nCPUQuotaX=1\n"));
        assert_false(unitscan_text_has_settings(""));
}

/* test_write_file() with the parent directories made first. */
static void write_unit_file(const char *path, const char *text) {
        _cleanup_free_ char *dir = strdup(path);
        assert_non_null(dir);
        for (char *s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
                *s = '/';
        }
        test_write_file(path, text);
}

static void test_unitscan_files(void **state) {
        (void) state;
        _cleanup_free_ char *root = test_tmpdir();
        char path[4096];
#define AT(p) (snprintf(path, sizeof path, "%s%s", root, p), path)
        write_unit_file(AT("/usr/lib/systemd/system/plain.service"), "[Service]\nExecStart=/bin/true\n");
        write_unit_file(AT("/usr/lib/systemd/system/own.service"), "[Service]\nMemoryMax=1G\n");
        assert_false(unitscan_unit_may_have_settings(root, "plain.service", "/usr/lib/systemd/system/plain.service", "50-x.conf"));
        assert_true(unitscan_unit_may_have_settings(root, "own.service", "/usr/lib/systemd/system/own.service", "50-x.conf"));
        assert_false(unitscan_unit_may_have_settings(root, "gone.service", NULL, "50-x.conf"));

        /* A drop-in for the unit, for a '-' prefix of it, for its template, for every service. */
        write_unit_file(AT("/etc/systemd/system/a-b-c.service.d/10.conf"), "[Service]\nNice=1\n");
        assert_false(unitscan_unit_may_have_settings(root, "a-b-c.service", NULL, "50-x.conf"));
        write_unit_file(AT("/run/systemd/system.control/a-b-c.service.d/50-TasksMax.conf"), "[Service]\nTasksMax=9\n");
        assert_true(unitscan_unit_may_have_settings(root, "a-b-c.service", NULL, "50-x.conf"));
        write_unit_file(AT("/usr/lib/systemd/system/d-.service.d/x.conf"), "[Service]\nCPUWeight=5\n");
        assert_true(unitscan_unit_may_have_settings(root, "d-e.service", NULL, "50-x.conf"));
        assert_false(unitscan_unit_may_have_settings(root, "de.service", NULL, "50-x.conf"));
        assert_false(unitscan_unit_may_have_settings(root, "d.service", NULL, "50-x.conf"));
        write_unit_file(AT("/etc/systemd/system/t@.service.d/x.conf"), "[Service]\nIOWeight=5\n");
        assert_true(unitscan_unit_may_have_settings(root, "t@1.service", NULL, "50-x.conf"));
        assert_false(unitscan_unit_may_have_settings(root, "t.service", NULL, "50-x.conf"));
        /* A file that is not a .conf is not a drop-in. */
        write_unit_file(AT("/etc/systemd/system/f.service.d/x.conf.off"), "[Service]\nTasksMax=1\n");
        assert_false(unitscan_unit_may_have_settings(root, "f.service", NULL, "50-x.conf"));
        /* The bridge's own drop-in: loaded so that it can be removed. */
        write_unit_file(AT("/run/systemd/system/f.service.d/50-x.conf"), "[Service]\nExecStart=\n");
        assert_true(unitscan_unit_may_have_settings(root, "f.service", NULL, "50-x.conf"));
        assert_false(unitscan_unit_may_have_settings(root, "plain.service", NULL, "50-x.conf"));
        write_unit_file(AT("/etc/systemd/system/service.d/all.conf"), "[Service]\nMemoryHigh=1G\n");
        assert_true(unitscan_unit_may_have_settings(root, "plain.service", NULL, "50-x.conf"));
        assert_false(unitscan_unit_may_have_settings(root, "plain.socket", NULL, "50-x.conf"));
        /* The directories read as systemd would: the first one with a name wins, masked units and
         * templates are not units, only those that may have settings are listed. */
        write_unit_file(AT("/etc/systemd/system/own.service"), "[Service]\nExecStart=/bin/true\n");
        assert_int_equal(symlink("/dev/null", AT("/etc/systemd/system/masked.service")), 0);
        write_unit_file(AT("/usr/lib/systemd/system/masked.service"), "[Service]\nTasksMax=1\n");
        write_unit_file(AT("/usr/lib/systemd/system/tpl@.service"), "[Service]\nTasksMax=1\n");
        write_unit_file(AT("/run/systemd/system/late.service"), "[Service]\nCPUQuota=5%\n");
        _cleanup_strv_free_ char **names = NULL;
        assert_int_equal(unitscan_services(root, "50-x.conf", &names), 0);
        /* own.service's /etc file has no setting; plain.service now has service.d/all.conf. */
        assert_true(strv_contains(names, "plain.service"));
        assert_true(strv_contains(names, "late.service"));
        assert_true(strv_contains(names, "own.service"));
        assert_false(strv_contains(names, "masked.service"));
        assert_false(strv_contains(names, "tpl@.service"));
        unlink(AT("/etc/systemd/system/service.d/all.conf"));
        strv_free(names);
        names = NULL;
        assert_int_equal(unitscan_services(root, "50-x.conf", &names), 0);
        assert_false(strv_contains(names, "own.service")); /* /etc's file wins over /usr/lib's */
        assert_false(strv_contains(names, "plain.service"));
        assert_true(strv_contains(names, "late.service"));
#undef AT
        test_rm_rf(root);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_table),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_dropin),
        cmocka_unit_test(test_unitscan_text),
        cmocka_unit_test(test_unitscan_files),
};

TEST_MAIN(tests, NULL, NULL)
