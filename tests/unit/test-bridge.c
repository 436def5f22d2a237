/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the bridge's two pure parts: bridge/settings.c (a unit's settings as systemd
 * reports them on the bus into cgroup v2 values, with systemd's precedence between old and new
 * names and its conversions) and bridge/dropin.c (the exec-wrapper drop-in: flags kept,
 * arguments quoted so that systemd reads them back unchanged, a wrapped command wrapped once).
 */
#include <stdio.h>

#include "testutil.h"

#include "dropin.h"
#include "settings.h"

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
        assert_int_equal(dropin_render("/opt/x/cgdelegate-exec", "/system.slice/a.service", lists, 2, &text), 0);
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
        assert_int_equal(dropin_render("/opt/x/cgdelegate-exec", "/system.slice/a.service", again, 1, &text2), 0);
        assert_non_null(strstr(text2, "ExecStart=\"/opt/x/cgdelegate-exec\" \"/system.slice/a.service\" -- \"/bin/true\" \"true\"\n"));
        command_done(&start[0]);
        command_done(&wrapped[0]);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_table),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_dropin),
};

TEST_MAIN(tests, NULL, NULL)
