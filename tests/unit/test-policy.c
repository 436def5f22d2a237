/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.c: the built-in default, every key of a policy file with good, out-of-range and junk
 * values (each error must name the file and the line of the key), unknown and duplicate groups
 * and keys, the never-writable list, ceilings of each kind, every decision's allow and refuse
 * paths with the exact error class and message, the budgets, loading files from a temporary
 * directory (symlinks, world-writable and oversized files refused) and the example policies in
 * systemd-units/policies/.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy.h"
#include "testutil.h"

/* ---- helpers ---- */

static Policy *parse_base(const char *text, const Policy *base) {
        Policy *p = NULL;
        _cleanup_free_ char *error = NULL;
        int r = policy_parse(text, strlen(text), "web.conf", "web", base, &p, &error);
        if (r < 0)
                fail_msg("policy_parse() failed: %d %s\n--- text:\n%s", r, error ?: "(no message)", text);
        assert_null(error);
        assert_non_null(p);
        assert_string_equal(p->name, "web");
        return p;
}

static Policy *parse(const char *text) {
        return parse_base(text, NULL);
}

/* The parse must fail with "web.conf:LINE: ..." containing want. */
static void parse_fails(const char *text, unsigned line, const char *want) {
        Policy *p = NULL;
        _cleanup_free_ char *error = NULL, *prefix = NULL;
        int r = policy_parse(text, strlen(text), "web.conf", "web", NULL, &p, &error);
        if (r != -EINVAL || !error)
                fail_msg("expected -EINVAL with a message, got %d for:\n%s", r, text);
        assert_null(p);
        assert_true(asprintf(&prefix, "web.conf:%u: ", line) > 0);
        if (!startswith(error, prefix) || !strstr(error, want))
                fail_msg("error \"%s\"\nwanted prefix \"%s\" and \"%s\"\n--- text:\n%s", error, prefix, want, text);
}

static KnobValue value(const char *key, const char *text) {
        KnobValue v;
        CgdRefusal refusal = {};
        if (knob_parse(key, text, &v, &refusal) < 0)
                fail_msg("knob_parse(%s, %s): %s", key, text, refusal.message);
        return v;
}

static void assert_refused(int r, const CgdRefusal *refusal, CgdError error, const char *want) {
        if (r != cgd_error_errno(error) || refusal->error != error || !strstr(refusal->message, want))
                fail_msg("got %d %s \"%s\", wanted %d %s \"%s\"", r, cgd_error_name(refusal->error),
                         refusal->message, cgd_error_errno(error), cgd_error_name(error), want);
}

/* policy_check_property() on a value parsed from text, with text as the client's value text. */
static int check(const Policy *p, const char *path, unsigned depth, const char *key, const char *text,
                 CgdRefusal *refusal) {
        KnobValue v = value(key, text);
        return policy_check_property(p, path, depth, &v, text, refusal);
}

static void check_ok(const Policy *p, const char *path, unsigned depth, const char *key, const char *text) {
        CgdRefusal refusal = {};
        int r = check(p, path, depth, key, text, &refusal);
        if (r != 0)
                fail_msg("%s=%s on %s refused: %s", key, text, path, refusal.message);
}

static void check_refused(const Policy *p, const char *path, unsigned depth, const char *key,
                          const char *text, CgdError error, const char *want) {
        CgdRefusal refusal = {};
        assert_refused(check(p, path, depth, key, text, &refusal), &refusal, error, want);
}

/* ---- the built-in default ---- */

static void test_builtin_default(void **state) {
        const Policy *d = policy_builtin_default();
        assert_string_equal(d->name, "default");
        assert_int_equal(d->allowed, KNOB_ALL);
        assert_int_equal(d->n_devices, 0);
        assert_int_equal(d->max_depth, 16);
        assert_int_equal(d->max_groups, 64);
        assert_false(d->allow_root_writes);
        assert_true(d->allow_create);
        assert_true(d->allow_freeze);
        assert_true(d->allow_kill);
        assert_true(d->allow_move);
        assert_int_equal(d->request_rate, 1000);
        assert_int_equal(d->request_burst, 2000);
        assert_int_equal(d->max_connections, 16);
        assert_int_equal(d->has_ceiling, 0);
        assert_int_equal(d->n_io_ceilings, 0);
}

static void test_empty_file_is_base(void **state) {
        static const char *const texts[] = { "", "\n", "# nothing\n\n   \n", "[Policy]\n", "[Policy]\n[Ceilings]\n" };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_(policy_freep) Policy *p = parse(texts[i]);
                const Policy *d = policy_builtin_default();
                assert_int_equal(p->allowed, d->allowed);
                assert_int_equal(p->max_depth, d->max_depth);
                assert_int_equal(p->request_burst, d->request_burst);
                assert_int_equal(p->has_ceiling, 0);
        }
}

/* ---- each [Policy] key ---- */

typedef enum { FIELD_BOOL, FIELD_UNSIGNED } FieldType;

static const struct {
        const char *text;
        size_t offset;
        FieldType type;
        unsigned want;
} good_keys[] = {
        { "MaxDepth=1", offsetof(Policy, max_depth), FIELD_UNSIGNED, 1 },
        { "MaxDepth=64", offsetof(Policy, max_depth), FIELD_UNSIGNED, 64 },
        { "MaxDepth = 3", offsetof(Policy, max_depth), FIELD_UNSIGNED, 3 },
        { "MaxGroups=1", offsetof(Policy, max_groups), FIELD_UNSIGNED, 1 },
        { "MaxGroups=100000", offsetof(Policy, max_groups), FIELD_UNSIGNED, 100000 },
        { "RequestRate=1", offsetof(Policy, request_rate), FIELD_UNSIGNED, 1 },
        { "RequestRate=2000", offsetof(Policy, request_rate), FIELD_UNSIGNED, 2000 },
        { "RequestBurst=1000", offsetof(Policy, request_burst), FIELD_UNSIGNED, 1000 },
        { "RequestBurst=10000000", offsetof(Policy, request_burst), FIELD_UNSIGNED, 10000000 },
        { "MaxConnections=1", offsetof(Policy, max_connections), FIELD_UNSIGNED, 1 },
        { "MaxConnections=65536", offsetof(Policy, max_connections), FIELD_UNSIGNED, 65536 },
        { "AllowRootWrites=yes", offsetof(Policy, allow_root_writes), FIELD_BOOL, true },
        { "AllowRootWrites=TRUE", offsetof(Policy, allow_root_writes), FIELD_BOOL, true },
        { "AllowRootWrites=1", offsetof(Policy, allow_root_writes), FIELD_BOOL, true },
        { "AllowCreate=no", offsetof(Policy, allow_create), FIELD_BOOL, false },
        { "AllowCreate=false", offsetof(Policy, allow_create), FIELD_BOOL, false },
        { "AllowCreate=0", offsetof(Policy, allow_create), FIELD_BOOL, false },
        { "AllowFreeze=No", offsetof(Policy, allow_freeze), FIELD_BOOL, false },
        { "AllowKill=no", offsetof(Policy, allow_kill), FIELD_BOOL, false },
        { "AllowMove=no", offsetof(Policy, allow_move), FIELD_BOOL, false },
};

static void test_policy_keys(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(good_keys); i++) {
                _cleanup_free_ char *text = NULL;
                assert_true(asprintf(&text, "# comment\n[Policy]\n%s\n", good_keys[i].text) > 0);
                _cleanup_(policy_freep) Policy *p = parse(text);
                const uint8_t *field = (const uint8_t *) p + good_keys[i].offset;
                unsigned got = good_keys[i].type == FIELD_BOOL ? *(const bool *) field :
                                                                 *(const unsigned *) (const void *) field;
                if (got != good_keys[i].want)
                        fail_msg("%s: got %u, wanted %u", good_keys[i].text, got, good_keys[i].want);
        }
}

static void test_allowed_properties(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nAllowedProperties=memory.max \t pids.max  io.max\n");
        assert_int_equal(p->allowed, KNOB_MASK(KNOB_MEMORY_MAX) | KNOB_MASK(KNOB_PIDS_MAX) | KNOB_MASK(KNOB_IO_MAX));
        _cleanup_(policy_freep) Policy *none = parse("[Policy]\nAllowedProperties=\n");
        assert_int_equal(none->allowed, 0);
        _cleanup_(policy_freep) Policy *all = parse(
                "[Policy]\nAllowedProperties=memory.max memory.high memory.low memory.min memory.swap.max cpu.max "
                "cpu.weight pids.max io.max io.weight cpuset.cpus cpuset.mems\n");
        assert_int_equal(all->allowed, KNOB_ALL);
}

static void test_allowed_devices(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nAllowedDevices=8:0 253:1 4095:1048575 0:0\n");
        assert_int_equal(p->n_devices, 4);
        assert_int_equal(p->devices[0].major, 8);
        assert_int_equal(p->devices[0].minor, 0);
        assert_int_equal(p->devices[1].major, 253);
        assert_int_equal(p->devices[1].minor, 1);
        assert_int_equal(p->devices[2].major, 4095);
        assert_int_equal(p->devices[2].minor, 1048575);
        _cleanup_(policy_freep) Policy *none = parse("[Policy]\nAllowedDevices=\n");
        assert_int_equal(none->n_devices, 0);

        /* POLICY_DEVICES_MAX fit, one more does not. */
        char text[2048] = "[Policy]\nAllowedDevices=";
        for (unsigned i = 0; i < POLICY_DEVICES_MAX; i++)
                snprintf(text + strlen(text), sizeof text - strlen(text), "8:%u ", i);
        _cleanup_(policy_freep) Policy *full = parse(text);
        assert_int_equal(full->n_devices, POLICY_DEVICES_MAX);
        strcat(text, "9:0\n");
        parse_fails(text, 2, "more than 64 devices");
}

static const struct {
        const char *text;
        unsigned line;
        const char *want;
} bad_values[] = {
        { "[Policy]\nMaxDepth=0\n", 2, "MaxDepth=0 is out of range (1..64)" },
        { "[Policy]\nMaxDepth=65\n", 2, "MaxDepth=65 is out of range (1..64)" },
        { "[Policy]\nMaxDepth=abc\n", 2, "MaxDepth=abc is not a decimal number" },
        { "[Policy]\nMaxDepth=-1\n", 2, "MaxDepth=-1 is not a decimal number" },
        { "[Policy]\nMaxDepth=+1\n", 2, "MaxDepth=+1 is not a decimal number" },
        { "[Policy]\nMaxDepth=010\n", 2, "MaxDepth=010 is not a decimal number" },
        { "[Policy]\nMaxDepth=3 \n", 2, "MaxDepth=3  is not a decimal number" },
        { "[Policy]\nMaxDepth=0x10\n", 2, "MaxDepth=0x10 is not a decimal number" },
        { "[Policy]\nMaxDepth=\n", 2, "MaxDepth= is not a decimal number" },
        { "[Policy]\nMaxDepth=99999999999999999999999\n", 2, "is not a decimal number" },
        { "[Policy]\nMaxDepth=18446744073709551616\n", 2, "is out of range (1..64)" },
        { "[Policy]\nMaxGroups=0\n", 2, "MaxGroups=0 is out of range (1..100000)" },
        { "[Policy]\nMaxGroups=100001\n", 2, "MaxGroups=100001 is out of range (1..100000)" },
        { "[Policy]\nMaxGroups=1k\n", 2, "MaxGroups=1k is not a decimal number" },
        { "[Policy]\nRequestRate=0\n", 2, "RequestRate=0 is out of range (1..1000000)" },
        { "[Policy]\nRequestRate=1000001\nRequestBurst=2000000\n", 2, "RequestRate=1000001 is out of range" },
        { "[Policy]\nRequestBurst=0\n", 2, "RequestBurst=0 is out of range (1..10000000)" },
        { "[Policy]\nRequestBurst=10000001\n", 2, "RequestBurst=10000001 is out of range" },
        { "[Policy]\nMaxConnections=0\n", 2, "MaxConnections=0 is out of range (1..65536)" },
        { "[Policy]\nMaxConnections=65537\n", 2, "MaxConnections=65537 is out of range (1..65536)" },
        { "[Policy]\nAllowKill=maybe\n", 2, "AllowKill=maybe is not a boolean (yes, no, true, false, 1 or 0)" },
        { "[Policy]\nAllowKill=\n", 2, "AllowKill= is not a boolean" },
        { "[Policy]\nAllowMove=on\n", 2, "AllowMove=on is not a boolean" },
        { "[Policy]\nAllowCreate=yes please\n", 2, "AllowCreate=yes please is not a boolean" },
        { "[Policy]\nAllowFreeze=2\n", 2, "AllowFreeze=2 is not a boolean" },
        { "[Policy]\nAllowRootWrites=y\n", 2, "AllowRootWrites=y is not a boolean" },
        { "[Policy]\nAllowedDevices=8\n", 2, "AllowedDevices: 8 is not a block device number MAJ:MIN" },
        { "[Policy]\nAllowedDevices=8:x\n", 2, "AllowedDevices: 8:x is not a block device number" },
        { "[Policy]\nAllowedDevices=8:0:1\n", 2, "AllowedDevices: 8:0:1 is not a block device number" },
        { "[Policy]\nAllowedDevices=4096:0\n", 2, "AllowedDevices: 4096:0 is not a block device number" },
        { "[Policy]\nAllowedDevices=8:1048576\n", 2, "AllowedDevices: 8:1048576 is not" },
        { "[Policy]\nAllowedDevices=/dev/sda\n", 2, "AllowedDevices: /dev/sda is not" },
        { "[Policy]\nAllowedDevices=8:0 *:*\n", 2, "AllowedDevices: *:* is not" },
        { "[Policy]\nAllowedDevices=8:0 253:1 8:0\n", 2, "AllowedDevices: 8:0 is listed twice" },
        { "[Policy]\nAllowedProperties=memory.max memory.max\n", 2, "AllowedProperties: memory.max is listed twice" },
        { "[Policy]\nAllowedProperties=memory.max,pids.max\n", 2, "unknown property memory.max,pids.max" },
        { "[Policy]\nAllowedProperties=memory.maxx\n", 2, "AllowedProperties: unknown property memory.maxx (properties: memory.max" },
        { "[Policy]\nAllowedProperties=MemoryMax\n", 2, "unknown property MemoryMax" },
        /* The line is the key's, wherever it sits. */
        { "# a comment\n\n[Ceilings]\npids.max=10\n\n[Policy]\n  # indented comment\nMaxDepth=1\nMaxGroups=0\n", 9, "MaxGroups=0" },
        { "[Policy]\r\nMaxDepth=2\r\nMaxGroups=x\r\n", 3, "MaxGroups=x is not a decimal number" },
        /* A quoted value is bounded and shows only printable ASCII. */
        { "[Policy]\nAllowKill=\xc3\xa9t\x01\n", 2, "AllowKill=??t? is not a boolean" },
        { "[Policy]\nAllowKill=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 2,
          "AllowKill=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... is not a boolean" },
        /* RequestBurst must be at least RequestRate, wherever each comes from. */
        { "[Policy]\nRequestRate=5000\n", 2, "RequestBurst=2000 is below RequestRate=5000 (RequestBurst comes from the base policy: set it too)" },
        { "[Policy]\nRequestBurst=10\n", 2, "RequestBurst=10 is below RequestRate=1000 (RequestRate comes from the base policy)" },
        { "[Policy]\nRequestBurst=10\nRequestRate=20\n", 2, "RequestBurst=10 is below RequestRate=20;" },
};

static void test_bad_values(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_values); i++)
                parse_fails(bad_values[i].text, bad_values[i].line, bad_values[i].want);
}

static void test_rate_and_burst(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nRequestRate=3000\nRequestBurst=3000\n");
        assert_int_equal(p->request_rate, 3000);
        assert_int_equal(p->request_burst, 3000);
        _cleanup_(policy_freep) Policy *q = parse("[Policy]\nRequestRate=10\n");
        assert_int_equal(q->request_rate, 10);
        assert_int_equal(q->request_burst, 2000);
}

/* ---- structure ---- */

static const struct {
        const char *text;
        unsigned line;
        const char *want;
} bad_structure[] = {
        { "[Policy]\nMaxDepht=3\n", 2, "unknown key MaxDepht in [Policy]" },
        { "[Policy]\nmaxdepth=3\n", 2, "unknown key maxdepth in [Policy] (did you mean MaxDepth?)" },
        { "[Policy]\nMemoryMax=1G\n", 2, "unknown key MemoryMax in [Policy]" },
        { "[Policy]\nMaxDepth[de]=3\n", 2, "unknown key MaxDepth[de] in [Policy]" },
        { "[Policy]\nMax Depth=3\n", 2, "unknown key Max Depth in [Policy]" },
        { "[Policy]\n[policy]\n", 2, "unknown group [policy] (a policy has [Policy] and [Ceilings])" },
        { "\n[Limits]\nMaxDepth=3\n", 2, "unknown group [Limits]" },
        { "[Ceilings]\nmemory.max=1G\n[Ceiling]\n", 3, "unknown group [Ceiling]" },
        { "[Ceilings]\nmemory.limit=1G\n", 2, "[Ceilings]: unknown property memory.limit (properties:" },
        { "[Ceilings]\nMaxDepth=1\n", 2, "[Ceilings]: unknown property MaxDepth" },
        { "[Policy]\nMaxDepth=3\nAllowKill=no\nMaxDepth=4\n", 4, "duplicate key MaxDepth in [Policy] (first at line 2)" },
        { "[Policy]\nMaxDepth=3\nMaxDepth=3\n", 3, "duplicate key MaxDepth in [Policy] (first at line 2)" },
        { "[Ceilings]\npids.max=10\n\npids.max=20\n", 4, "duplicate key pids.max in [Ceilings] (first at line 2)" },
        { "[Policy]\nMaxDepth=3\n[Ceilings]\n[Policy]\nAllowKill=no\n", 4, "duplicate group [Policy] (first at line 1)" },
        /* GKeyFile's own refusals, with the line found by scanning. */
        { "MaxDepth=3\n[Policy]\n", 1, "Key file does not start with a group" },
        { "# c\n\n  MaxDepth=3\n", 3, "Key file does not start with a group" },
        { "[Policy]\nMaxDepth 3\n", 2, "which is not a key-value pair, group, or comment" },
        { "[Policy]\n\n=3\n", 3, "which is not a key-value pair, group, or comment" },
        { "[Policy]\nMaxDepth=3\n[Ceilings\n", 3, "which is not a key-value pair, group, or comment" },
        { "[Policy] x\n", 1, "which is not a key-value pair, group, or comment" },
        { "[Policy]\n[]\n", 2, "Invalid group name" },
        { "[Policy]\nMax]Depth=3\n", 2, "Invalid key name" },
        { "[Policy]\n; comment\n", 2, "Key file contains line \xe2\x80\x9c; comment\xe2\x80\x9d which is not a key-value pair" },
        { "[Policy]\n; MaxDepth=3\n", 2, "unknown key ; MaxDepth in [Policy]" },
        { "\xef\xbb\xbf[Policy]\n", 1, "which is not a key-value pair, group, or comment" },
};

static void test_structure(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_structure); i++)
                parse_fails(bad_structure[i].text, bad_structure[i].line, bad_structure[i].want);
}

static void test_messages_bounded(void **state) {
        /* GKeyFile quotes a bad line whole: the message is cut and holds no control character. */
        char text[1024] = "[Policy]\n\x01";
        memset(text + strlen(text), 'x', 600);
        Policy *p = NULL;
        _cleanup_free_ char *error = NULL;
        assert_int_equal(policy_parse(text, strlen(text), "web.conf", "web", NULL, &p, &error), -EINVAL);
        assert_true(startswith(error, "web.conf:2: Key file contains line"));
        assert_non_null(strstr(error, "?xxx"));
        assert_non_null(strstr(error, "xxx..."));
        assert_true(strlen(error) < 260);
        for (const char *c = error; *c; c++)
                assert_false((unsigned char) *c < 0x20);

        /* A client's path is bounded and printable in a refusal. */
        _cleanup_(policy_freep) Policy *w = parse("[Policy]\nMaxDepth=1\n");
        char path[512] = "/a\n";
        memset(path + 3, 'b', 400);
        CgdRefusal refusal = {};
        assert_refused(policy_check_depth(w, path, 2, &refusal), &refusal, CGD_ERROR_INVALID_PATH, "/a?bbb");
        assert_non_null(strstr(refusal.message, "bbb... is 2 levels deep"));
}

static void test_nul_byte(void **state) {
        static const char text[] = "[Policy]\nMaxDepth=3\nAllow\0Kill=no\n";
        Policy *p = NULL;
        _cleanup_free_ char *error = NULL;
        assert_int_equal(policy_parse(text, sizeof text - 1, "web.conf", "web", NULL, &p, &error), -EINVAL);
        assert_null(p);
        assert_string_equal(error, "web.conf:3: contains a NUL byte");
}

static void test_whitespace_and_line_endings(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("# a comment line\n"
                                                  "  [Policy]  \r\n\tMaxDepth\t=\t5\r\n  AllowKill = no\n"
                                                  "[Ceilings]\npids.max =  100");
        assert_int_equal(p->max_depth, 5);
        assert_false(p->allow_kill);
        assert_true(p->has_ceiling & KNOB_MASK(KNOB_PIDS_MAX));
        assert_int_equal(p->ceilings[KNOB_PIDS_MAX].count, 100);
}

/* ---- the never-writable list ---- */

static const char *const never_writable[] = {
        "cgroup.procs",       "cgroup.threads",        "cgroup.subtree_control", "cgroup.freeze",
        "cgroup.kill",        "cgroup.type",           "tasks",                  "release_agent",
        "notify_on_release",  "devices.allow",         "devices.deny",           "cpuset.cpus.partition",
        "cpuset.cpus.exclusive", "io.cost.qos",        "io.cost.model",
};

static void test_never_writable(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(never_writable); i++) {
                _cleanup_free_ char *text = NULL, *want = NULL, *ctext = NULL, *cwant = NULL;
                assert_true(asprintf(&text, "[Policy]\nAllowedProperties=memory.max %s\n", never_writable[i]) > 0);
                assert_true(asprintf(&want, "AllowedProperties: %s is never writable: ", never_writable[i]) > 0);
                parse_fails(text, 2, want);
                assert_true(asprintf(&ctext, "[Ceilings]\n%s=1\n", never_writable[i]) > 0);
                assert_true(asprintf(&cwant, "[Ceilings]: %s is never writable: ", never_writable[i]) > 0);
                parse_fails(ctext, 2, cwant);
        }
        parse_fails("[Policy]\nAllowedProperties=release_agent\n", 2, "the kernel runs release_agent as root on the host");
        parse_fails("[Policy]\nAllowedProperties=cgroup.procs\n", 2, "processes move only through MoveProcess");
        /* A v1 file name gets the v2 key it should have been. */
        const KnobInfo *mem = knob_lookup("memory.max");
        assert_non_null(mem);
        if (mem->v1_file) {
                _cleanup_free_ char *text = NULL, *want = NULL;
                assert_true(asprintf(&text, "[Policy]\nAllowedProperties=%s\n", mem->v1_file) > 0);
                assert_true(asprintf(&want, "unknown property %s (a cgroup v1 file; policies use the v2 key memory.max)",
                                     mem->v1_file) > 0);
                parse_fails(text, 2, want);
        }
}

/* ---- ceilings ---- */

static void test_ceiling_bytes(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Ceilings]\nmemory.max=8G\nmemory.high=1536M\nmemory.swap.max=0\n");
        check_ok(p, "/app", 1, "memory.max", "4G");
        check_ok(p, "/app", 1, "memory.max", "8G");
        check_ok(p, "/app", 1, "memory.max", "8589934592");
        check_refused(p, "/app", 1, "memory.max", "16G", CGD_ERROR_OUT_OF_RANGE,
                      "memory.max=16G on /app exceeds the ceiling 8G of policy 'web'");
        check_refused(p, "/app", 1, "memory.max", "8589934593", CGD_ERROR_OUT_OF_RANGE,
                      "memory.max=8589934593 on /app exceeds the ceiling 8G of policy 'web'");
        check_refused(p, "/a/b", 2, "memory.max", "max", CGD_ERROR_OUT_OF_RANGE,
                      "memory.max=max on /a/b exceeds the ceiling 8G of policy 'web'");
        check_refused(p, "/app", 1, "memory.high", "2G", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling 1536M of policy 'web'");
        check_ok(p, "/app", 1, "memory.high", "1536M");
        check_ok(p, "/app", 1, "memory.swap.max", "0");
        check_refused(p, "/app", 1, "memory.swap.max", "1", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling 0 of policy 'web'");
        /* No ceiling: anything the grammar takes. */
        check_ok(p, "/app", 1, "memory.low", "max");
        check_ok(p, "/app", 1, "memory.min", "1T");
        /* A ceiling of max is no ceiling. */
        _cleanup_(policy_freep) Policy *q = parse("[Ceilings]\nmemory.max=max\n");
        check_ok(q, "/app", 1, "memory.max", "max");
}

static void test_ceiling_cpu_max(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Ceilings]\ncpu.max=200000 100000\n");
        check_ok(p, "/app", 1, "cpu.max", "150000 100000");   /* 1.5 CPUs */
        check_ok(p, "/app", 1, "cpu.max", "300000 200000");   /* 1.5 CPUs again */
        check_ok(p, "/app", 1, "cpu.max", "200000 100000");   /* exactly 2 */
        check_ok(p, "/app", 1, "cpu.max", "400000 200000");   /* 2 with another period */
        check_ok(p, "/app", 1, "cpu.max", "1000 1000000");
        check_refused(p, "/app", 1, "cpu.max", "max", CGD_ERROR_OUT_OF_RANGE,
                      "cpu.max=max on /app exceeds the ceiling 200000 100000 (2 CPUs) of policy 'web'");
        check_refused(p, "/app", 1, "cpu.max", "max 100000", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling 200000 100000");
        check_refused(p, "/app", 1, "cpu.max", "250000 100000", CGD_ERROR_OUT_OF_RANGE,
                      "cpu.max=250000 100000 on /app exceeds the ceiling 200000 100000 (2 CPUs) of policy 'web'");
        check_refused(p, "/app", 1, "cpu.max", "200001 100000", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling");

        _cleanup_(policy_freep) Policy *half = parse("[Ceilings]\ncpu.max=50000 100000\n");
        check_refused(half, "/x", 1, "cpu.max", "60000", CGD_ERROR_OUT_OF_RANGE, "ceiling 50000 100000 (0.50 CPUs)");
        _cleanup_(policy_freep) Policy *one = parse("[Ceilings]\ncpu.max=100000\n");
        check_refused(one, "/x", 1, "cpu.max", "100001", CGD_ERROR_OUT_OF_RANGE, "ceiling 100000 100000 (1 CPU) of");
        _cleanup_(policy_freep) Policy *third = parse("[Ceilings]\ncpu.max=100000 300000\n");
        check_refused(third, "/x", 1, "cpu.max", "100000 100000", CGD_ERROR_OUT_OF_RANGE, "(about 0.33 CPUs)");
}

static void test_ceiling_counts_and_weights(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Ceilings]\npids.max=512\ncpu.weight=200\nio.weight=500\n"
                                                  "[Policy]\nAllowedDevices=8:0\n");
        check_ok(p, "/app", 1, "pids.max", "512");
        check_ok(p, "/app", 1, "pids.max", "1");
        check_refused(p, "/app", 1, "pids.max", "513", CGD_ERROR_OUT_OF_RANGE,
                      "pids.max=513 on /app exceeds the ceiling 512 of policy 'web'");
        check_refused(p, "/app", 1, "pids.max", "max", CGD_ERROR_OUT_OF_RANGE, "pids.max=max on /app exceeds the ceiling 512");
        check_ok(p, "/app", 1, "cpu.weight", "200");
        check_refused(p, "/app", 1, "cpu.weight", "201", CGD_ERROR_OUT_OF_RANGE, "cpu.weight=201 on /app exceeds the ceiling 200");
        check_ok(p, "/app", 1, "io.weight", "500");
        check_ok(p, "/app", 1, "io.weight", "default 100");
        check_refused(p, "/app", 1, "io.weight", "501", CGD_ERROR_OUT_OF_RANGE, "io.weight=501 on /app exceeds the ceiling");
        check_refused(p, "/app", 1, "io.weight", "default 1000", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling");
        check_ok(p, "/app", 1, "io.weight", "8:0 300");
        check_refused(p, "/app", 1, "io.weight", "8:0 800", CGD_ERROR_OUT_OF_RANGE, "io.weight=8:0 800 on /app exceeds the ceiling");
        /* A per-device io.weight ceiling would bound one device only. */
        parse_fails("[Ceilings]\nio.weight=8:0 500\n", 2, "[Ceilings] io.weight=8:0 500: the ceiling is one weight for every device");
}

static void test_ceiling_cpus(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Ceilings]\ncpuset.cpus=0-3\ncpuset.mems=0\n");
        check_ok(p, "/app", 1, "cpuset.cpus", "1-2");
        check_ok(p, "/app", 1, "cpuset.cpus", "0-3");
        check_ok(p, "/app", 1, "cpuset.cpus", "0,3");
        check_refused(p, "/app", 1, "cpuset.cpus", "0-4", CGD_ERROR_OUT_OF_RANGE,
                      "cpuset.cpus=0-4 on /app exceeds the ceiling 0-3 of policy 'web'");
        check_refused(p, "/app", 1, "cpuset.cpus", "7", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling 0-3");
        check_ok(p, "/app", 1, "cpuset.mems", "0");
        check_refused(p, "/app", 1, "cpuset.mems", "0-1", CGD_ERROR_OUT_OF_RANGE, "cpuset.mems=0-1 on /app exceeds the ceiling 0 of");
        /* Empty is "the parent's", unbounded as max is. */
        check_refused(p, "/app", 1, "cpuset.cpus", "", CGD_ERROR_OUT_OF_RANGE, "cpuset.cpus= on /app exceeds the ceiling 0-3");
        check_ok(policy_builtin_default(), "/app", 1, "cpuset.cpus", "");
        parse_fails("[Ceilings]\ncpuset.mems=\n", 2, "[Ceilings] cpuset.mems= is empty: a ceiling needs at least one CPU or node");
}

static void test_ceiling_io_max(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nAllowedDevices=8:0 8:16 253:1\n"
                                                  "[Ceilings]\nio.max=8:0 rbps=1048576 riops=1000; 8:16 wbps=2097152;\n");
        assert_int_equal(p->n_io_ceilings, 2);
        assert_true(p->has_ceiling & KNOB_MASK(KNOB_IO_MAX));
        check_ok(p, "/app", 1, "io.max", "8:0 rbps=1048576");
        check_ok(p, "/app", 1, "io.max", "8:0 rbps=1024 riops=10");
        check_refused(p, "/app", 1, "io.max", "8:0 rbps=2097152", CGD_ERROR_OUT_OF_RANGE,
                      "io.max=8:0 rbps=2097152 on /app exceeds the ceiling 8:0 rbps=1048576 riops=1000 of policy 'web'");
        check_refused(p, "/app", 1, "io.max", "8:0 riops=max", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling 8:0 rbps=1048576 riops=1000");
        check_ok(p, "/app", 1, "io.max", "8:16 wbps=1048576");
        check_refused(p, "/app", 1, "io.max", "8:16 wbps=3145728", CGD_ERROR_OUT_OF_RANGE,
                      "io.max=8:16 wbps=3145728 on /app exceeds the ceiling 8:16 wbps=2097152 of policy 'web'");
        /* 8:0's ceiling does not bound 8:16 reads, nor anything of 253:1. */
        check_ok(p, "/app", 1, "io.max", "8:16 rbps=max");
        check_ok(p, "/app", 1, "io.max", "253:1 rbps=max wbps=max");
}

static void test_ceiling_bad(void **state) {
        parse_fails("[Ceilings]\nmemory.max=junk\n", 2, "[Ceilings] ");
        parse_fails("[Ceilings]\nmemory.max=junk\n", 2, "junk");
        parse_fails("[Ceilings]\nmemory.max=\n", 2, "[Ceilings] ");
        parse_fails("# x\n[Ceilings]\npids.max=0\n", 3, "[Ceilings] ");
        parse_fails("[Ceilings]\ncpu.max=100 100000\n", 2, "[Ceilings] ");
        parse_fails("[Ceilings]\nio.max=8:0 rbps=1M;junk\n", 2, "[Ceilings] ");
        parse_fails("[Ceilings]\nio.max=8:0 rbps=1048576;8:0 wbps=1048576\n", 2, "[Ceilings] io.max: device 8:0 is listed twice");
        parse_fails("[Ceilings]\nio.max=;\n", 2, "[Ceilings] io.max= names no device");
        parse_fails("[Ceilings]\ncpuset.cpus=0-99999\n", 2, "[Ceilings] ");
}

/* ---- inheritance ---- */

static void test_base(void **state) {
        _cleanup_(policy_freep) Policy *base = parse("[Policy]\nAllowedProperties=memory.max pids.max\nAllowedDevices=8:0\n"
                                                     "MaxDepth=4\nAllowKill=no\n"
                                                     "[Ceilings]\nmemory.max=1G\nio.max=8:0 rbps=1048576\n");
        _cleanup_(policy_freep) Policy *p = parse_base("[Policy]\nMaxDepth=2\n[Ceilings]\npids.max=10\n", base);
        assert_int_equal(p->max_depth, 2);
        assert_false(p->allow_kill);
        assert_int_equal(p->allowed, KNOB_MASK(KNOB_MEMORY_MAX) | KNOB_MASK(KNOB_PIDS_MAX));
        assert_int_equal(p->n_devices, 1);
        assert_int_equal(p->n_io_ceilings, 1);
        assert_int_equal(p->has_ceiling, KNOB_MASK(KNOB_MEMORY_MAX) | KNOB_MASK(KNOB_IO_MAX) | KNOB_MASK(KNOB_PIDS_MAX));
        check_refused(p, "/a", 1, "memory.max", "2G", CGD_ERROR_OUT_OF_RANGE, "exceeds the ceiling 1G of policy 'web'");

        /* A list in the file replaces the base's list; it never adds to it. */
        _cleanup_(policy_freep) Policy *q = parse_base("[Policy]\nAllowedProperties=cpu.weight\nAllowedDevices=253:1\n"
                                                       "[Ceilings]\nio.max=253:1 wbps=1024\n", base);
        assert_int_equal(q->allowed, KNOB_MASK(KNOB_CPU_WEIGHT));
        assert_int_equal(q->n_devices, 1);
        assert_int_equal(q->devices[0].major, 253);
        assert_int_equal(q->n_io_ceilings, 1);
        assert_int_equal(q->io_ceilings[0].io_max.major, 253);
        /* The base is untouched. */
        assert_int_equal(base->max_depth, 4);
        assert_int_equal(base->devices[0].major, 8);
}

static void test_copy_free(void **state) {
        assert_null(policy_copy(NULL));
        assert_null(policy_free(NULL));
        Policy *none = NULL;
        policy_freep(&none);
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nMaxDepth=7\n");
        _cleanup_(policy_freep) Policy *c = policy_copy(p);
        assert_non_null(c);
        assert_ptr_not_equal(c->name, p->name);
        assert_string_equal(c->name, "web");
        assert_int_equal(c->max_depth, 7);
}

static void test_names(void **state) {
        static const char *const good[] = { "web", "default", "a", "A-b_c.d", "x.conf", "0",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 64 */ };
        static const char *const bad[] = { "", ".hidden", ".", "..", "../etc/passwd", "a/b", "a b", "web\n", "wéb",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 65 */ };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!policy_name_is_valid(good[i]))
                        fail_msg("'%s' refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (policy_name_is_valid(bad[i]))
                        fail_msg("'%s' accepted", bad[i]);
                Policy *p = NULL;
                _cleanup_free_ char *error = NULL;
                assert_int_equal(policy_parse("", 0, "f.conf", bad[i], NULL, &p, &error), -EINVAL);
                assert_null(p);
                assert_non_null(strstr(error, "f.conf:0: invalid policy name"));
        }
        assert_false(policy_name_is_valid(NULL));
}

/* ---- decisions ---- */

static void test_check_allowlist_and_root(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nAllowedProperties=memory.max pids.max\n");
        check_ok(p, "/app", 1, "memory.max", "1G");
        check_refused(p, "/app", 1, "memory.high", "1G", CGD_ERROR_ACCESS_DENIED,
                      "memory.high is not in AllowedProperties of policy 'web'");
        check_refused(p, "/", 0, "pids.max", "10", CGD_ERROR_ACCESS_DENIED,
                      "pids.max on / (the container root) needs AllowRootWrites=yes in policy 'web'");
        /* The allowlist applies on the root too. */
        check_refused(p, "/", 0, "cpu.weight", "10", CGD_ERROR_ACCESS_DENIED, "cpu.weight is not in AllowedProperties");

        _cleanup_(policy_freep) Policy *root = parse("[Policy]\nAllowRootWrites=yes\n[Ceilings]\npids.max=100\n");
        check_ok(root, "/", 0, "pids.max", "100");
        check_refused(root, "/", 0, "pids.max", "101", CGD_ERROR_OUT_OF_RANGE, "pids.max=101 on / exceeds the ceiling 100");

        /* Without the client's text the canonical form is quoted. */
        CgdRefusal refusal = {};
        KnobValue v = value("pids.max", "200");
        int r = policy_check_property(root, "/a", 1, &v, NULL, &refusal);
        assert_refused(r, &refusal, CGD_ERROR_OUT_OF_RANGE, "pids.max=200 on /a exceeds");
        /* A NULL refusal is fine. */
        assert_int_equal(policy_check_property(root, "/a", 1, &v, "200", NULL), -ERANGE);
}

static void test_check_devices(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nAllowedDevices=8:0 253:1\n");
        check_ok(p, "/app", 1, "io.max", "8:0 rbps=1048576");
        check_ok(p, "/app", 1, "io.max", "253:1 wiops=100");
        check_refused(p, "/app", 1, "io.max", "8:16 rbps=1048576", CGD_ERROR_ACCESS_DENIED,
                      "io.max for device 8:16 is not in AllowedDevices of policy 'web'");
        check_ok(p, "/app", 1, "io.weight", "8:0 100");
        check_refused(p, "/app", 1, "io.weight", "8:16 100", CGD_ERROR_ACCESS_DENIED,
                      "io.weight for device 8:16 is not in AllowedDevices of policy 'web'");
        check_ok(p, "/app", 1, "io.weight", "default 100");

        /* The built-in default names no device: no device-specific io setting. */
        const Policy *d = policy_builtin_default();
        check_refused(d, "/app", 1, "io.max", "8:0 rbps=1048576", CGD_ERROR_ACCESS_DENIED,
                      "io.max for device 8:0 is not in AllowedDevices of policy 'default'");
        check_refused(d, "/app", 1, "io.weight", "8:0 100", CGD_ERROR_ACCESS_DENIED, "not in AllowedDevices");
        check_ok(d, "/app", 1, "io.weight", "100");
        check_ok(d, "/app", 1, "memory.max", "max");
        check_refused(d, "/", 0, "memory.max", "1G", CGD_ERROR_ACCESS_DENIED, "needs AllowRootWrites=yes in policy 'default'");
}

static void test_check_depth(void **state) {
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nMaxDepth=3\n");
        CgdRefusal refusal = {};
        assert_int_equal(policy_check_depth(p, "/", 0, &refusal), 0);
        assert_int_equal(policy_check_depth(p, "/a/b/c", 3, &refusal), 0);
        assert_refused(policy_check_depth(p, "/a/b/c/d", 4, &refusal), &refusal, CGD_ERROR_INVALID_PATH,
                       "/a/b/c/d is 4 levels deep; policy 'web' allows MaxDepth=3");
        assert_int_equal(policy_check_depth(policy_builtin_default(), "/x", 16, NULL), 0);
        assert_int_equal(policy_check_depth(policy_builtin_default(), "/x", 17, NULL), -EINVAL);
}

static void test_check_groups(void **state) {
        CgdRefusal refusal = {};
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nMaxGroups=64\n");
        assert_int_equal(policy_check_groups(p, 0, &refusal), 0);
        assert_int_equal(policy_check_groups(p, 63, &refusal), 0);
        assert_refused(policy_check_groups(p, 64, &refusal), &refusal, CGD_ERROR_QUOTA_EXCEEDED,
                       "policy 'web' allows MaxGroups=64 groups; this container has 64");
        assert_refused(policy_check_groups(p, 1000, &refusal), &refusal, CGD_ERROR_QUOTA_EXCEEDED, "this container has 1000");
}

static const struct {
        const char *key;
        PolicyAction action;
        const char *want;
} actions[] = {
        { "AllowCreate", POLICY_ACTION_CREATE, "CreateGroup on /app is not allowed by policy 'web' (AllowCreate=no)" },
        { "AllowCreate", POLICY_ACTION_REMOVE, "RemoveGroup on /app is not allowed by policy 'web' (AllowCreate=no)" },
        { "AllowMove", POLICY_ACTION_MOVE, "MoveProcess on /app is not allowed by policy 'web' (AllowMove=no)" },
        { "AllowFreeze", POLICY_ACTION_FREEZE, "Freeze/Thaw on /app is not allowed by policy 'web' (AllowFreeze=no)" },
        { "AllowKill", POLICY_ACTION_KILL, "Kill on /app is not allowed by policy 'web' (AllowKill=no)" },
};

static void test_check_action(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                _cleanup_free_ char *yes = NULL, *no = NULL;
                assert_true(asprintf(&yes, "[Policy]\n%s=yes\n", actions[i].key) > 0);
                assert_true(asprintf(&no, "[Policy]\n%s=no\n", actions[i].key) > 0);
                _cleanup_(policy_freep) Policy *allow = parse(yes);
                _cleanup_(policy_freep) Policy *deny = parse(no);
                CgdRefusal refusal = {};
                assert_int_equal(policy_check_action(allow, actions[i].action, "/app", &refusal), 0);
                assert_int_equal(policy_check_action(policy_builtin_default(), actions[i].action, "/", &refusal), 0);
                assert_refused(policy_check_action(deny, actions[i].action, "/app", &refusal), &refusal,
                               CGD_ERROR_ACCESS_DENIED, actions[i].want);
        }
        CgdRefusal refusal = {};
        _cleanup_(policy_freep) Policy *p = parse("[Policy]\nAllowKill=no\n");
        assert_refused(policy_check_action(p, POLICY_ACTION_KILL, NULL, &refusal), &refusal, CGD_ERROR_ACCESS_DENIED,
                       "Kill is not allowed by policy 'web' (AllowKill=no)");
        /* Other switches stay as the default has them. */
        assert_int_equal(policy_check_action(p, POLICY_ACTION_FREEZE, "/", NULL), 0);
}

static void test_budget(void **state) {
        CgdRefusal refusal = {};
        Budget b = { .max_groups = 10, .max_connections = 2 };
        assert_int_equal(budget_take_groups(&b, 4, &refusal), 0);
        assert_int_equal(budget_take_groups(&b, 6, &refusal), 0);
        assert_int_equal(b.groups, 10);
        assert_refused(budget_take_groups(&b, 1, &refusal), &refusal, CGD_ERROR_QUOTA_EXCEEDED,
                       "the daemon-wide budget of 10 groups is used up");
        budget_return_groups(&b, 3);
        assert_int_equal(b.groups, 7);
        /* All or nothing. */
        assert_refused(budget_take_groups(&b, 4, &refusal), &refusal, CGD_ERROR_QUOTA_EXCEEDED, "budget of 10 groups");
        assert_int_equal(b.groups, 7);
        assert_refused(budget_take_groups(&b, UINT32_MAX, &refusal), &refusal, CGD_ERROR_QUOTA_EXCEEDED, "used up");
        assert_int_equal(b.groups, 7);
        budget_return_groups(&b, 100);
        assert_int_equal(b.groups, 0);

        assert_int_equal(budget_take_connection(&b, &refusal), 0);
        assert_int_equal(budget_take_connection(&b, &refusal), 0);
        assert_refused(budget_take_connection(&b, &refusal), &refusal, CGD_ERROR_QUOTA_EXCEEDED,
                       "the daemon-wide budget of 2 connections is used up");
        budget_return_connection(&b);
        assert_int_equal(budget_take_connection(&b, NULL), 0);
        budget_return_connection(&b);
        budget_return_connection(&b);
        budget_return_connection(&b);
        assert_int_equal(b.connections, 0);

        /* A zeroed budget fails closed. */
        Budget zero = {};
        assert_int_equal(budget_take_groups(&zero, 1, NULL), -EDQUOT);
        assert_int_equal(budget_take_connection(&zero, NULL), -EDQUOT);
}

/* ---- loading ---- */

static char *dir_file(const char *dir, const char *name) {
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static void write_policy(const char *dir, const char *name, const char *text, mode_t mode) {
        _cleanup_free_ char *p = dir_file(dir, name);
        test_write_file(p, text);
        assert_int_equal(chmod(p, mode), 0);
}

static void load_fails(const char *dir, const char *name, int want_r, const char *want) {
        Policy *p = NULL;
        _cleanup_free_ char *error = NULL;
        int r = policy_load(dir, name, NULL, &p, &error);
        if (r != want_r || !error || !strstr(error, want))
                fail_msg("policy_load(%s): %d \"%s\", wanted %d \"%s\"", name, r, error ?: "", want_r, want);
        assert_null(p);
}

static void test_load(void **state) {
        _cleanup_free_ char *dir = test_tmpdir();
        _cleanup_free_ char *error = NULL;
        Policy *p = NULL;

        /* No default.conf: the built-in, and 1 says so. */
        assert_int_equal(policy_load(dir, "default", NULL, &p, &error), 1);
        assert_null(error);
        assert_string_equal(p->name, "default");
        assert_int_equal(p->max_depth, 16);
        p = policy_free(p);
        /* Not even a directory: the same for "default", ENOENT for the others. */
        _cleanup_free_ char *missing = dir_file(dir, "nonexistent");
        assert_int_equal(policy_load(missing, "default", NULL, &p, NULL), 1);
        p = policy_free(p);
        load_fails(missing, "web", -ENOENT, "nonexistent/web.conf:0: no such policy");
        load_fails(dir, "web", -ENOENT, "/web.conf:0: no such policy");

        write_policy(dir, "web.conf", "[Policy]\nMaxDepth=3\n", 0644);
        assert_int_equal(policy_load(dir, "web", NULL, &p, &error), 0);
        assert_string_equal(p->name, "web");
        assert_int_equal(p->max_depth, 3);
        p = policy_free(p);

        /* default.conf is read when it exists, and is a base like any other. */
        write_policy(dir, "default.conf", "[Policy]\nMaxDepth=5\nAllowKill=no\n", 0640);
        assert_int_equal(policy_load(dir, "default", NULL, &p, &error), 0);
        assert_int_equal(p->max_depth, 5);
        _cleanup_(policy_freep) Policy *base = TAKE_PTR(p);
        assert_int_equal(policy_load(dir, "web", base, &p, &error), 0);
        assert_int_equal(p->max_depth, 3);
        assert_false(p->allow_kill);
        p = policy_free(p);

        /* Errors carry the path of the file. */
        write_policy(dir, "bad.conf", "[Policy]\n\nMaxDepth=0\n", 0600);
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "%s/bad.conf:3: MaxDepth=0 is out of range", dir) > 0);
        load_fails(dir, "bad", -EINVAL, want);

        load_fails(dir, "../web", -EINVAL, "invalid policy name '../web'");
        load_fails(dir, ".web", -EINVAL, "invalid policy name");

        test_rm_rf(dir);
}

static void test_load_refusals(void **state) {
        _cleanup_free_ char *dir = test_tmpdir();

        write_policy(dir, "open.conf", "[Policy]\n", 0666);
        load_fails(dir, "open", -EPERM, "open.conf:0: writable by every user (mode 0666)");
        write_policy(dir, "open2.conf", "[Policy]\n", 0602);
        load_fails(dir, "open2", -EPERM, "writable by every user (mode 0602)");
        /* Group-writable is the administrator's choice. */
        write_policy(dir, "group.conf", "[Policy]\n", 0664);
        Policy *p = NULL;
        assert_int_equal(policy_load(dir, "group", NULL, &p, NULL), 0);
        p = policy_free(p);

        /* A symlink, even to a good policy, and even for "default". */
        write_policy(dir, "target.conf", "[Policy]\n", 0644);
        _cleanup_free_ char *link = dir_file(dir, "link.conf"), *dlink = dir_file(dir, "default.conf");
        assert_int_equal(symlink("target.conf", link), 0);
        load_fails(dir, "link", -ELOOP, "link.conf:0: a symbolic link");
        assert_int_equal(symlink("/etc/passwd", dlink), 0);
        load_fails(dir, "default", -ELOOP, "a symbolic link");
        _cleanup_free_ char *dangling = dir_file(dir, "dangling.conf");
        assert_int_equal(symlink("nowhere.conf", dangling), 0);
        load_fails(dir, "dangling", -ELOOP, "a symbolic link");

        /* Not a regular file. */
        _cleanup_free_ char *sub = dir_file(dir, "sub.conf"), *fifo = dir_file(dir, "fifo.conf");
        assert_int_equal(mkdir(sub, 0755), 0);
        load_fails(dir, "sub", -EINVAL, "not a regular file");
        assert_int_equal(mkfifo(fifo, 0644), 0);
        load_fails(dir, "fifo", -EINVAL, "not a regular file");

        /* 64 KiB of comments is fine, one byte more is not. */
        _cleanup_free_ char *big = malloc(POLICY_FILE_MAX + 2);
        assert_non_null(big);
        memset(big, '#', POLICY_FILE_MAX);
        big[0] = '#', big[POLICY_FILE_MAX - 1] = '\n', big[POLICY_FILE_MAX] = '\0';
        write_policy(dir, "big.conf", big, 0644);
        assert_int_equal(policy_load(dir, "big", NULL, &p, NULL), 0);
        p = policy_free(p);
        big[POLICY_FILE_MAX] = '\n', big[POLICY_FILE_MAX + 1] = '\0';
        write_policy(dir, "huge.conf", big, 0644);
        load_fails(dir, "huge", -EFBIG, "huge.conf:0: 65537 bytes; a policy is at most 65536");

        test_rm_rf(dir);
}

static void test_load_owner(void **state) {
        if (geteuid() != 0)
                skip_because("giving a file to another user needs root (chown)");
        _cleanup_free_ char *dir = test_tmpdir();
        write_policy(dir, "nobody.conf", "[Policy]\n", 0644);
        _cleanup_free_ char *f = dir_file(dir, "nobody.conf");
        assert_int_equal(chown(f, 65534, 65534), 0);
        load_fails(dir, "nobody", -EPERM, "owned by uid 65534, neither root nor the daemon's user");
        /* Root's own files are fine whoever runs the daemon; the group does not matter. */
        assert_int_equal(chown(f, 0, 65534), 0);
        Policy *p = NULL;
        assert_int_equal(policy_load(dir, "nobody", NULL, &p, NULL), 0);
        policy_free(p);
        test_rm_rf(dir);
}

/* ---- the shipped examples ---- */

static Policy *load_example(const char *name) {
        const char *dir = getenv("CGD_POLICY_EXAMPLES") ?: "systemd-units/policies";
        Policy *p = NULL;
        _cleanup_free_ char *error = NULL;
        int r = policy_load(dir, name, NULL, &p, &error);
        if (r != 0)
                fail_msg("%s/%s.conf: %d %s", dir, name, r, error ?: "");
        return p;
}

static void test_examples(void **state) {
        _cleanup_(policy_freep) Policy *d = load_example("default");
        const Policy *b = policy_builtin_default();
        /* default.conf mirrors the built-in exactly. */
        assert_int_equal(d->allowed, b->allowed);
        assert_int_equal(d->n_devices, b->n_devices);
        assert_int_equal(d->max_depth, b->max_depth);
        assert_int_equal(d->max_groups, b->max_groups);
        assert_int_equal(d->allow_root_writes, b->allow_root_writes);
        assert_int_equal(d->allow_create, b->allow_create);
        assert_int_equal(d->allow_freeze, b->allow_freeze);
        assert_int_equal(d->allow_kill, b->allow_kill);
        assert_int_equal(d->allow_move, b->allow_move);
        assert_int_equal(d->request_rate, b->request_rate);
        assert_int_equal(d->request_burst, b->request_burst);
        assert_int_equal(d->max_connections, b->max_connections);
        assert_int_equal(d->has_ceiling, 0);

        _cleanup_(policy_freep) Policy *w = load_example("web");
        assert_int_equal(w->allowed, KNOB_MASK(KNOB_MEMORY_MAX) | KNOB_MASK(KNOB_MEMORY_HIGH) | KNOB_MASK(KNOB_PIDS_MAX) |
                                             KNOB_MASK(KNOB_CPU_MAX) | KNOB_MASK(KNOB_CPU_WEIGHT) | KNOB_MASK(KNOB_IO_WEIGHT));
        assert_int_equal(w->n_devices, 2);
        assert_int_equal(w->max_depth, 8);
        assert_int_equal(w->max_groups, 64);
        assert_false(w->allow_root_writes);
        assert_true(w->allow_freeze);
        assert_true(w->allow_kill);
        assert_true(w->allow_move);
        assert_int_equal(w->request_rate, 200);
        assert_int_equal(w->request_burst, 400);
        assert_int_equal(w->max_connections, 16);
        check_refused(w, "/app", 1, "memory.max", "2G", CGD_ERROR_OUT_OF_RANGE,
                      "memory.max=2G on /app exceeds the ceiling 1G of policy 'web'");
        check_ok(w, "/app", 1, "cpu.max", "150000 100000");
        check_refused(w, "/app", 1, "pids.max", "513", CGD_ERROR_OUT_OF_RANGE, "ceiling 512 of policy 'web'");
        check_ok(w, "/app", 1, "io.weight", "253:1 100");
        check_refused(w, "/app", 1, "io.max", "8:0 rbps=1", CGD_ERROR_ACCESS_DENIED, "io.max is not in AllowedProperties");
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_default),
        cmocka_unit_test(test_empty_file_is_base),
        cmocka_unit_test(test_policy_keys),
        cmocka_unit_test(test_allowed_properties),
        cmocka_unit_test(test_allowed_devices),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_rate_and_burst),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_messages_bounded),
        cmocka_unit_test(test_whitespace_and_line_endings),
        cmocka_unit_test(test_never_writable),
        cmocka_unit_test(test_ceiling_bytes),
        cmocka_unit_test(test_ceiling_cpu_max),
        cmocka_unit_test(test_ceiling_counts_and_weights),
        cmocka_unit_test(test_ceiling_cpus),
        cmocka_unit_test(test_ceiling_io_max),
        cmocka_unit_test(test_ceiling_bad),
        cmocka_unit_test(test_base),
        cmocka_unit_test(test_copy_free),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_check_allowlist_and_root),
        cmocka_unit_test(test_check_devices),
        cmocka_unit_test(test_check_depth),
        cmocka_unit_test(test_check_groups),
        cmocka_unit_test(test_check_action),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_load_owner),
        cmocka_unit_test(test_examples),
};

TEST_MAIN(tests, NULL, NULL)
