/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the OCI hook's pure parts: oci-hook/ocistate.c (the runtime's state and the
 * bundle's config.json, with the types checked and a reason for every refusal) and
 * oci-hook/hookconf.c (the admin's configuration, and the policy an annotation may pick).
 */
#include <stdio.h>

#include "testutil.h"

#include "hookconf.h"
#include "ocistate.h"

static void test_state(void **state) {
        (void) state;
        OciState s = {};
        char *error = NULL;
        assert_int_equal(oci_state_parse("{\"ociVersion\": \"1.0.2\", \"id\": \"c1\", \"status\": \"creating\", \"pid\": 42,"
                                         " \"bundle\": \"/b\", \"annotations\": {\"org.cgdelegate.policy\": \"small\", \"x\": \"\"}}\n",
                                         &s, &error),
                         0);
        assert_string_equal(s.id, "c1");
        assert_int_equal(s.pid, 42);
        assert_string_equal(s.bundle, "/b");
        assert_string_equal(oci_state_annotation(&s, "org.cgdelegate.policy"), "small");
        assert_string_equal(oci_state_annotation(&s, "x"), "");
        assert_null(oci_state_annotation(&s, "y"));
        assert_string_equal(oci_state_stage(&s), "createRuntime");
        oci_state_done(&s);

        /* poststop: no pid, no annotations. */
        assert_int_equal(oci_state_parse("{\"id\": \"c1\", \"status\": \"stopped\", \"bundle\": \"/b\"}", &s, &error), 0);
        assert_int_equal(s.pid, 0);
        assert_non_null(s.annotations);
        assert_string_equal(oci_state_stage(&s), "poststop");
        oci_state_done(&s);
        assert_int_equal(oci_state_parse("{\"id\": \"c1\", \"status\": \"running\", \"bundle\": \"/b\"}", &s, &error), 0);
        assert_null(oci_state_stage(&s));
        oci_state_done(&s);
}

static void test_state_refused(void **state) {
        (void) state;
        static const struct {
                const char *json, *reason;
        } rows[] = {
                { "", "ends too early" },
                { "{\"id\": \"c\", \"bundle\": \"/b\"", "ends too early" },
                { "[1]", "not one JSON object" },
                { "{\"id\": \"c\", \"bundle\": \"/b\"} {}", "not one JSON object" },
                { "{\"bundle\": \"/b\"}", "has no \"id\"" },
                { "{\"id\": 5, \"bundle\": \"/b\"}", "\"id\" is not a string" },
                { "{\"id\": \"c\"}", "has no \"bundle\"" },
                { "{\"id\": \"c\\u0000x\", \"bundle\": \"/b\"}", "holds a NUL byte" },
                { "{\"id\": \"c\", \"bundle\": \"/b\", \"pid\": -1}", "not a positive process id" },
                { "{\"id\": \"c\", \"bundle\": \"/b\", \"pid\": \"7\"}", "not a positive process id" },
                { "{\"id\": \"c\", \"bundle\": \"/b\", \"pid\": 4294967297}", "not a positive process id" },
                { "{\"id\": \"c\", \"bundle\": \"/b\", \"annotations\": []}", "\"annotations\" is not an object" },
                { "{\"id\": \"c\", \"bundle\": \"/b\", \"annotations\": {\"k\": 1}}", "annotation \"k\" is not a string" },
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                OciState s = {};
                char *error = NULL;
                assert_int_equal(oci_state_parse(rows[i].json, &s, &error), -EINVAL);
                assert_non_null(error);
                if (!strstr(error, rows[i].reason))
                        fail_msg("%s: '%s' does not say '%s'", rows[i].json, error, rows[i].reason);
                free(error);
                assert_null(s.id);
        }
        /* Nesting deeper than json-c's limit is refused, not a stack overflow. */
        char deep[4096] = "{\"id\": \"c\", \"bundle\": \"/b\", \"annotations\": ";
        for (size_t i = strlen(deep); i < sizeof deep - 2; i++)
                deep[i] = '[';
        OciState s = {};
        char *error = NULL;
        assert_int_equal(oci_state_parse(deep, &s, &error), -EINVAL);
        free(error);
}

static void test_rootfs(void **state) {
        (void) state;
        char *rootfs = NULL, *error = NULL;
        assert_int_equal(oci_config_rootfs("{\"root\": {\"path\": \"rootfs\", \"readonly\": true}}", "/b", &rootfs, &error), 0);
        assert_string_equal(rootfs, "/b/rootfs");
        free(rootfs);
        assert_int_equal(oci_config_rootfs("{\"root\": {\"path\": \"/var/r\"}}", "/b", &rootfs, &error), 0);
        assert_string_equal(rootfs, "/var/r");
        free(rootfs);
        assert_int_equal(oci_config_rootfs("{\"process\": {}}", "/b", &rootfs, &error), -EINVAL);
        assert_non_null(strstr(error, "no \"root\""));
        free(error);
        assert_int_equal(oci_config_rootfs("{\"root\": {\"path\": \"\"}}", "/b", &rootfs, &error), -EINVAL);
        assert_non_null(strstr(error, "no root.path"));
        free(error);
}

static char *write_conf(const char *dir, const char *text) {
        char *path = NULL;
        assert_true(asprintf(&path, "%s/hook.conf", dir) > 0);
        test_write_file(path, text);
        return path;
}

static void test_config(void **state) {
        (void) state;
        _cleanup_free_ char *dir = test_tmpdir();
        HookConfig c = {};
        char *error = NULL;
        const char *policy = NULL;

        /* The defaults, when the default file is missing (the test cannot know: a given path). */
        _cleanup_free_ char *empty = write_conf(dir, "");
        assert_int_equal(hook_config_load(empty, &c, &error), 0);
        assert_string_equal(c.admin_socket, "/run/cgdelegate/admin.socket");
        assert_string_equal(c.mount_point, "/run/host/cgdelegate");
        assert_int_equal(hook_config_pick_policy(&c, NULL, &policy, &error), 0);
        assert_string_equal(policy, "default");
        assert_int_equal(hook_config_pick_policy(&c, "default", &policy, &error), 0);
        assert_int_equal(hook_config_pick_policy(&c, "small", &policy, &error), -EINVAL);
        assert_non_null(strstr(error, "org.cgdelegate.policy=small names a policy this host does not let containers pick "
                                      "(allowed: default; AllowedPolicies= in "));
        free(error);
        hook_config_done(&c);

        _cleanup_free_ char *conf =
                write_conf(dir, "[Hook]\nDefaultPolicy=pod\nAllowedPolicies=small;big;pod\nMountPoint=/run/x\n");
        assert_int_equal(hook_config_load(conf, &c, &error), 0);
        assert_int_equal(hook_config_pick_policy(&c, "big", &policy, &error), 0);
        assert_string_equal(policy, "big");
        assert_int_equal(hook_config_pick_policy(&c, NULL, &policy, &error), 0);
        assert_string_equal(policy, "pod");
        /* A tenant's annotation is matched whole: no prefix, no path. */
        assert_int_equal(hook_config_pick_policy(&c, "bi", &policy, &error), -EINVAL);
        free(error);
        assert_int_equal(hook_config_pick_policy(&c, "../big", &policy, &error), -EINVAL);
        assert_non_null(strstr(error, "(allowed: pod, small, big;"));
        free(error);
        hook_config_done(&c);

        static const char *const bad[][2] = {
                { "[Hook]\nMountPoint=run/x\n", "MountPoint=run/x is not" },
                { "[Hook]\nMountPoint=/run/../etc\n", "MountPoint=/run/../etc is not" },
                { "[Hook]\nMountPoint=/run//x\n", "MountPoint=/run//x is not" },
                { "[Hook]\nMountPoint=/run/x/\n", "MountPoint=/run/x/ is not" },
                { "[Hook]\nDefaultPolicy=../x\n", "DefaultPolicy=../x is not a policy name" },
                { "[Hook]\nAllowedPolicies=ok;.hidden\n", "AllowedPolicies= names '.hidden'" },
                { "[Hook\n", "cannot read" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                _cleanup_free_ char *path = write_conf(dir, bad[i][0]);
                assert_int_equal(hook_config_load(path, &c, &error), -EINVAL);
                if (!strstr(error, bad[i][1]))
                        fail_msg("'%s': '%s' does not say '%s'", bad[i][0], error, bad[i][1]);
                free(error);
        }
        /* A file named with --config must exist. */
        assert_int_equal(hook_config_load("/nonexistent/hook.conf", &c, &error), -EINVAL);
        free(error);
        test_rm_rf(dir);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_state_refused),
        cmocka_unit_test(test_rootfs),
        cmocka_unit_test(test_config),
};

TEST_MAIN(tests, NULL, NULL)
