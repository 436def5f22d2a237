/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/cgpath.c, the gate every group path passes before the file system. Tables of
 * valid and hostile paths in both modes, each refusal checked for its reason (non-empty and the
 * right one), lengths and depths at and one past their limits, and a seeded random walk over
 * nasty tokens that checks what the validator accepts rather than what it refuses.
 */
#include <stdio.h>

#include "testutil.h"

#include "cgpath.h"

/* Substrings of the reasons, so a row fails when the right refusal comes for the wrong reason. */
#define WHY_EMPTY_PATH "path is empty"
#define WHY_START      "start with '/'"
#define WHY_EMPTY      "empty component"
#define WHY_LONG_PATH  "longer than 4095"
#define WHY_LONG_NAME  "at most 255"
#define WHY_DOT        "'.' or '..'"
#define WHY_CHAR       "character not allowed"
#define WHY_CNTRL      "control characters"
#define WHY_NONASCII   "non-ASCII"
#define WHY_SLASH      "may not contain '/'"
#define WHY_ESC        "bad escape"
#define WHY_CGROUP     "'cgroup.'"
#define WHY_CTRL       "controller name"
#define WHY_V1         "v1 kernel control file"
#define WHY_DEPTH      "MaxDepth"
#define WHY_NAME_EMPTY "may not be empty"

typedef struct PathCase {
        const char *path;
        CgPathFlags flags;
        unsigned max_depth;
        const char *why; /* NULL: must be accepted; else a substring of the reason */
} PathCase;

#define OK(p)             { (p), CG_PATH_CLIENT, 0, NULL }
#define BAD(p, w)         { (p), CG_PATH_CLIENT, 0, (w) }
#define OK_DEPTH(p, d)    { (p), CG_PATH_CLIENT, (d), NULL }
#define BAD_DEPTH(p, d)   { (p), CG_PATH_CLIENT, (d), WHY_DEPTH }
#define HOST_OK(p)        { (p), CG_PATH_HOST, 0, NULL }
#define HOST_BAD(p, w)    { (p), CG_PATH_HOST, 0, (w) }

static const char sentinel[] = "untouched";

/* Renders a hostile string readably for a TAP comment, cut at 60 bytes. */
static const char *show(const char *s, char *buf, size_t size) {
        size_t o = 0;
        for (; *s && o + 8 < size; s++) {
                unsigned char c = (unsigned char) *s;
                if (o >= 60) {
                        o += (size_t) snprintf(buf + o, size - o, "...");
                        break;
                }
                if (c < 0x20 || c >= 0x7f || c == '\\')
                        o += (size_t) snprintf(buf + o, size - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        buf[o] = '\0';
        return buf;
}

/* Returns true when the row behaves; says why on stdout (as a TAP comment) when not. */
static bool check_path(const PathCase *c) {
        char buf[128];
        const char *reason = sentinel;
        int r = cg_path_validate(c->path, c->flags, c->max_depth, &reason);

        /* The same answer without a reason pointer: callers may pass NULL. */
        if (cg_path_validate(c->path, c->flags, c->max_depth, NULL) != r) {
                print_message("# '%s': result differs with ret_reason=NULL\n", show(c->path, buf, sizeof buf));
                return false;
        }
        if (!c->why) {
                if (r == 0 && reason == sentinel)
                        return true;
                print_message("# '%s' (flags %d, depth %u): want accepted, got %d (%s)\n",
                              show(c->path, buf, sizeof buf), (int) c->flags, c->max_depth, r,
                              reason == sentinel ? "reason untouched" : reason);
                return false;
        }
        if (r == -EINVAL && reason && reason != sentinel && reason[0] && strstr(reason, c->why))
                return true;
        print_message("# '%s' (flags %d, depth %u): want -EINVAL with '%s', got %d (%s)\n",
                      show(c->path, buf, sizeof buf), (int) c->flags, c->max_depth, c->why, r,
                      !reason ? "NULL" : reason == sentinel ? "reason untouched" : reason);
        return false;
}

static void check_table(const PathCase *cases, size_t n) {
        unsigned failed = 0;
        for (size_t i = 0; i < n; i++)
                if (!check_path(&cases[i]))
                        failed++;
        print_message("# %zu rows, %u failed\n", n, failed);
        assert_int_equal(failed, 0);
}

static const PathCase client_cases[] = {
        /* Valid. */
        OK("/"),
        OK("/a"),
        OK("/app/web"),
        OK("/system-getty\\x2d.slice"),
        OK("/a\\x2Db"),                     /* upper-case hex digits are still two hex digits */
        OK("/\\x00"),                       /* an escape is four literal bytes to the kernel */
        OK("/a.b@c:d-e_f"),
        OK("/user@1000.service/app.slice"),
        OK("/ABCxyz0189"),
        OK("/..."),                         /* only "." and ".." are special */
        OK("/.a"),
        OK("/a."),
        OK("/a..b"),
        OK("/-a"),
        OK("/cgroup"),                      /* the prefix needs its '.' */
        OK("/cgroupx.procs"),
        OK("/xcgroup.procs"),
        OK("/Cgroup.procs"),                /* the kernel's names are case-sensitive */
        OK("/memory"),
        OK("/Memory.max"),
        OK("/memoryx.max"),
        OK("/cpux.max"),
        OK("/io"),
        OK("/iox.max"),
        OK("/tasksx"),
        OK("/xtasks"),
        OK("/tasks.d"),
        OK("/release_agents"),
        OK("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z"), /* no MaxDepth given */

        /* Structure. */
        BAD("", WHY_EMPTY_PATH),
        BAD("a", WHY_START),
        BAD("a/b", WHY_START),
        BAD("./a", WHY_START),
        BAD(" /a", WHY_START),
        BAD("\\x2fa", WHY_START),
        BAD("//", WHY_EMPTY),
        BAD("///", WHY_EMPTY),
        BAD("//a", WHY_EMPTY),
        BAD("/a/", WHY_EMPTY),
        BAD("/a//b", WHY_EMPTY),
        BAD("/a/b/", WHY_EMPTY),

        /* Walking out of the tree. */
        BAD("/.", WHY_DOT),
        BAD("/..", WHY_DOT),
        BAD("/../..", WHY_DOT),
        BAD("/a/..", WHY_DOT),
        BAD("/a/../b", WHY_DOT),
        BAD("/a/./b", WHY_DOT),
        BAD("/a/.", WHY_DOT),

        /* Kernel files. */
        BAD("/cgroup.procs", WHY_CGROUP),
        BAD("/cgroup.", WHY_CGROUP),
        BAD("/cgroup.subtree_control", WHY_CGROUP),
        BAD("/app/cgroup.kill", WHY_CGROUP),
        BAD("/cgroup.procs/a", WHY_CGROUP),
        BAD("/memory.max", WHY_CTRL),
        BAD("/memory.", WHY_CTRL),
        BAD("/cpu.x", WHY_CTRL),
        BAD("/cpu.max", WHY_CTRL),
        BAD("/cpuacct.usage", WHY_CTRL),
        BAD("/cpuset.cpus.partition", WHY_CTRL),
        BAD("/io.max", WHY_CTRL),
        BAD("/io.cost.qos", WHY_CTRL),
        BAD("/blkio.weight", WHY_CTRL),
        BAD("/pids.max", WHY_CTRL),
        BAD("/devices.allow", WHY_CTRL),
        BAD("/freezer.state", WHY_CTRL),
        BAD("/hugetlb.2MB.max", WHY_CTRL),
        BAD("/rdma.max", WHY_CTRL),
        BAD("/misc.max", WHY_CTRL),
        BAD("/net_cls.classid", WHY_CTRL),
        BAD("/net_prio.ifpriomap", WHY_CTRL),
        BAD("/perf_event.x", WHY_CTRL),
        BAD("/irq.pressure", WHY_CTRL),
        BAD("/app/memory.high", WHY_CTRL),
        BAD("/tasks", WHY_V1),
        BAD("/release_agent", WHY_V1),
        BAD("/notify_on_release", WHY_V1),
        BAD("/a/b/tasks", WHY_V1),

        /* Characters. */
        BAD("/a\n", WHY_CNTRL),
        BAD("/a\nb", WHY_CNTRL),
        BAD("/a\tb", WHY_CNTRL),
        BAD("/a\rb", WHY_CNTRL),
        BAD("/\x01", WHY_CNTRL),
        BAD("/\x1b[31m", WHY_CNTRL),
        BAD("/a\x7f", WHY_CNTRL),
        BAD("/a b", WHY_CHAR),
        BAD("/ ", WHY_CHAR),
        BAD("/a=b", WHY_CHAR),
        BAD("/a;b", WHY_CHAR),
        BAD("/a*", WHY_CHAR),
        BAD("/a?", WHY_CHAR),
        BAD("/$(id)", WHY_CHAR),
        BAD("/`id`", WHY_CHAR),
        BAD("/a'b", WHY_CHAR),
        BAD("/a\"b", WHY_CHAR),
        BAD("/~", WHY_CHAR),
        BAD("/a%n", WHY_CHAR),
        BAD("/a,b", WHY_CHAR),
        BAD("/a+b", WHY_CHAR),
        BAD("/\xc3\xa9", WHY_NONASCII),
        BAD("/\xff", WHY_NONASCII),
        BAD("/\xc0\xae\xc0\xae", WHY_NONASCII), /* overlong UTF-8 for ".." */
        BAD("/\xe2\x80\xae", WHY_NONASCII),     /* right-to-left override */

        /* Escapes. */
        BAD("/a\\", WHY_ESC),
        BAD("/a\\x", WHY_ESC),
        BAD("/a\\x2", WHY_ESC),
        BAD("/a\\xzz", WHY_ESC),
        BAD("/a\\x2g", WHY_ESC),
        BAD("/a\\X2d", WHY_ESC),
        BAD("/a\\\\", WHY_ESC),
        BAD("/a\\n", WHY_ESC),
        BAD("/a\\x2/b", WHY_ESC),           /* an escape cannot reach over a '/' */
        BAD("/\\/a", WHY_ESC),
};

static void test_client_paths(void **state) {
        (void) state;
        check_table(client_cases, ELEMENTSOF(client_cases));
}

static const PathCase host_cases[] = {
        HOST_OK("/"),
        HOST_OK("/machine.slice/libpod-1.scope"),
        HOST_OK("/user.slice/user@1000.service"),
        HOST_OK("/system.slice/system-getty.slice/getty@tty1.service"),
        HOST_OK("/sys-fs-fuse-connections.mount"),
        HOST_OK("/process_api/1234"),
        HOST_OK("/a b"),                    /* the host's manager picks its names */
        HOST_OK("/\xc3\xa9t\xc3\xa9"),
        HOST_OK("/a\\b"),
        HOST_OK("/..."),

        HOST_BAD("", WHY_EMPTY_PATH),
        HOST_BAD("a", WHY_START),
        HOST_BAD("machine.slice", WHY_START),
        HOST_BAD("//", WHY_EMPTY),
        HOST_BAD("/a/", WHY_EMPTY),
        HOST_BAD("/a//b", WHY_EMPTY),
        HOST_BAD("/.", WHY_DOT),
        HOST_BAD("/..", WHY_DOT),
        HOST_BAD("/a/../b", WHY_DOT),
        HOST_BAD("/a/./b", WHY_DOT),
        HOST_BAD("/machine.slice/..", WHY_DOT),
        HOST_BAD("/a\nb", WHY_CNTRL),
        HOST_BAD("/a\tb", WHY_CNTRL),
        HOST_BAD("/a\x01", WHY_CNTRL),
        HOST_BAD("/a\x7f", WHY_CNTRL),
        HOST_BAD("/a\x1b[2J", WHY_CNTRL),
};

static void test_host_paths(void **state) {
        (void) state;
        check_table(host_cases, ELEMENTSOF(host_cases));
}

static const PathCase depth_cases[] = {
        OK_DEPTH("/", 1),
        OK_DEPTH("/a", 1),
        BAD_DEPTH("/a/b", 1),
        OK_DEPTH("/a/b", 2),
        BAD_DEPTH("/a/b/c", 2),
        OK_DEPTH("/a/b/c", 3),
        BAD_DEPTH("/a/b/c/d/e/f/g/h/i", 8),
        OK_DEPTH("/a/b/c/d/e/f/g/h", 8),
        { "/a/b/c", CG_PATH_HOST, 2, WHY_DEPTH },
        { "/a/b", CG_PATH_HOST, 2, NULL },
        /* A bad component is named before the depth, whichever comes first in the path. */
        { "/../b/c", CG_PATH_CLIENT, 1, WHY_DOT },
        { "/a/b/..", CG_PATH_CLIENT, 1, WHY_DEPTH },
};

static void test_depth(void **state) {
        (void) state;
        check_table(depth_cases, ELEMENTSOF(depth_cases));
}

/* "/" followed by n copies of c. */
static char *make_component_path(size_t n, char c) {
        char *p = malloc(n + 2);
        assert_non_null(p);
        p[0] = '/';
        memset(p + 1, c, n);
        p[n + 1] = '\0';
        return p;
}

/* A path of exactly len bytes made of 255-byte components (the last one shorter). */
static char *make_long_path(size_t len) {
        char *p = malloc(len + 1);
        assert_non_null(p);
        for (size_t i = 0; i < len; i++)
                p[i] = i % (CG_NAME_MAX + 1) == 0 ? '/' : 'a';
        p[len] = '\0';
        return p;
}

/* "/a/a/..." with depth components. */
static char *make_deep_path(unsigned depth) {
        char *p = malloc(2 * (size_t) depth + 1);
        assert_non_null(p);
        for (unsigned i = 0; i < depth; i++)
                memcpy(p + 2 * i, "/a", 2);
        p[2 * depth] = '\0';
        return p;
}

static void test_limits(void **state) {
        (void) state;
        _cleanup_free_ char *name255 = make_component_path(CG_NAME_MAX, 'n');
        _cleanup_free_ char *name256 = make_component_path(CG_NAME_MAX + 1, 'n');
        _cleanup_free_ char *path4095 = make_long_path(CG_PATH_MAX);
        _cleanup_free_ char *path4096 = make_long_path(CG_PATH_MAX + 1);
        _cleanup_free_ char *huge = make_component_path(1 << 20, 'h');
        _cleanup_free_ char *deep16 = make_deep_path(16);
        _cleanup_free_ char *deep17 = make_deep_path(17);
        _cleanup_free_ char *deep2047 = make_deep_path(2047);  /* 4094 bytes */
        _cleanup_free_ char *dots = make_component_path(CG_NAME_MAX, '.');

        const PathCase cases[] = {
                OK(name255),
                BAD(name256, WHY_LONG_NAME),
                HOST_OK(name255),
                HOST_BAD(name256, WHY_LONG_NAME),
                OK(path4095),
                BAD(path4096, WHY_LONG_PATH),
                HOST_OK(path4095),
                HOST_BAD(path4096, WHY_LONG_PATH),
                BAD(huge, WHY_LONG_PATH),
                OK_DEPTH(deep16, 16),
                BAD_DEPTH(deep17, 16),
                OK_DEPTH(deep17, 0),
                OK(deep2047),
                BAD_DEPTH(deep2047, 2046),
                OK(dots),
        };
        assert_int_equal(strlen(path4095), CG_PATH_MAX);
        assert_int_equal(cg_path_depth(deep2047), 2047);
        check_table(cases, ELEMENTSOF(cases));
}

/* C strings end at the first NUL, so the validator sees "/a" and nothing after it. That is
 * safe because D-Bus strings cannot contain NUL (sd-bus refuses such messages), and every
 * later layer reads the same C string, so nothing behind the NUL reaches the file system. */
static void test_embedded_nul(void **state) {
        (void) state;
        static const char buf[] = "/a\0/..";
        const char *reason = sentinel;

        assert_int_equal(sizeof buf, 7);
        assert_int_equal(cg_path_validate(buf, CG_PATH_CLIENT, 1, &reason), 0);
        assert_ptr_equal(reason, sentinel);
        assert_int_equal(cg_path_depth(buf), 1);
        assert_string_equal(cg_path_relative(buf), "a");

        static const char name[] = "a\0/..";
        assert_int_equal(cg_name_validate(name, &reason), 0);
        assert_ptr_equal(reason, sentinel);
}

typedef struct NameCase {
        const char *name;
        const char *why;
} NameCase;

static const NameCase name_cases[] = {
        { "a", NULL },
        { "web", NULL },
        { "system-getty\\x2d.slice", NULL },
        { "user@1000.service", NULL },
        { "...", NULL },
        { "", WHY_NAME_EMPTY },
        { ".", WHY_DOT },
        { "..", WHY_DOT },
        { "a/b", WHY_SLASH },
        { "/", WHY_SLASH },
        { "/a", WHY_SLASH },
        { "a/", WHY_SLASH },
        { "cgroup.procs", WHY_CGROUP },
        { "memory.max", WHY_CTRL },
        { "tasks", WHY_V1 },
        { "release_agent", WHY_V1 },
        { "a b", WHY_CHAR },
        { "a\n", WHY_CNTRL },
        { "\\x2", WHY_ESC },
        { "\xc3\xa9", WHY_NONASCII },
};

static void test_name_validate(void **state) {
        (void) state;
        char buf[128];
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(name_cases); i++) {
                const NameCase *c = &name_cases[i];
                const char *reason = sentinel;
                int r = cg_name_validate(c->name, &reason);
                bool good = c->why ? r == -EINVAL && reason && reason != sentinel && reason[0] &&
                                             strstr(reason, c->why)
                                   : r == 0 && reason == sentinel;
                if (cg_name_validate(c->name, NULL) != r)
                        good = false;
                if (!good) {
                        print_message("# name '%s': want %s, got %d (%s)\n", show(c->name, buf, sizeof buf),
                                      c->why ?: "accepted", r, reason == sentinel ? "reason untouched" : reason);
                        failed++;
                }
        }

        _cleanup_free_ char *long_path = make_component_path(CG_NAME_MAX, 'n');
        const char *reason = sentinel;
        assert_int_equal(cg_name_validate(long_path + 1, &reason), 0);
        assert_ptr_equal(reason, sentinel);
        long_path[0] = 'n'; /* now 256 bytes */
        assert_int_equal(cg_name_validate(long_path, &reason), -EINVAL);
        assert_non_null(strstr(reason, WHY_LONG_NAME));

        assert_int_equal(failed, 0);
}

static void test_is_control_file(void **state) {
        (void) state;
        static const char * const yes[] = {
                "cgroup.procs", "cgroup.", "cgroup.threads", "cgroup.kill", "memory.max", "memory.",
                "cpu.weight", "cpuset.mems", "io.weight", "pids.max", "blkio.throttle.read_bps_device",
                "devices.deny", "freezer.state", "hugetlb.1GB.max", "rdma.current", "misc.capacity",
                "net_cls.classid", "net_prio.prioidx", "perf_event.x", "cpuacct.stat", "irq.pressure",
                "tasks", "release_agent", "notify_on_release",
        };
        static const char * const no[] = {
                "", "cgroup", "memory", "cpu", "tasksx", "xtasks", "app", "Memory.max", "cpux.max",
                "release_agent2", "notify", "a.cgroup.procs", "io", "pidsmax",
        };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (!cg_name_is_control_file(yes[i]))
                        fail_msg("'%s' should be a control file", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (cg_name_is_control_file(no[i]))
                        fail_msg("'%s' should not be a control file", no[i]);
}

static void test_depth_and_relative(void **state) {
        (void) state;
        static const struct {
                const char *path;
                unsigned depth;
                const char *relative;
        } cases[] = {
                { "/", 0, "." },
                { "/a", 1, "a" },
                { "/a/b", 2, "a/b" },
                { "/app/web/x", 3, "app/web/x" },
                { "/system-getty\\x2d.slice", 1, "system-getty\\x2d.slice" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(cg_path_validate(cases[i].path, CG_PATH_CLIENT, 0, NULL), 0);
                assert_int_equal(cg_path_depth(cases[i].path), cases[i].depth);
                assert_string_equal(cg_path_relative(cases[i].path), cases[i].relative);
                /* A pointer into the input, except for the root. */
                if (cases[i].depth > 0)
                        assert_ptr_equal(cg_path_relative(cases[i].path), cases[i].path + 1);
        }
}

/* xorshift32: the same sequence on every run, so a failure reproduces. */
static uint32_t rnd(uint32_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

static void random_path(uint32_t *seed, char *buf, size_t size) {
        static const char * const tokens[] = {
                "/", "/", "/", "a", "b", "Z", "9", ".", "..", "\\", "\\x", "x", "2", "d", "f", "-",
                "_", "@", ":", " ", "\n", "\t", "\x7f", "\xc3", "\xa9", "cgroup.", "memory.", "cpu",
                ".", "tasks", "release_agent", "procs", "max", "io", "//", "/..", "/.",
        };
        size_t o = 0;
        unsigned n = rnd(seed) % 12;

        buf[o++] = rnd(seed) % 16 ? '/' : 'a';
        for (unsigned i = 0; i < n; i++) {
                const char *t = tokens[rnd(seed) % ELEMENTSOF(tokens)];
                size_t l = strlen(t);
                if (o + l + 1 > size)
                        break;
                memcpy(buf + o, t, l);
                o += l;
        }
        buf[o] = '\0';
}

/* What an accepted client path must satisfy, checked one component at a time. */
static void check_accepted(const char *path, unsigned max_depth) {
        char comp[CG_NAME_MAX + 1];
        unsigned depth = 0;

        assert_true(path[0] == '/');
        assert_true(cg_path_validate(path, CG_PATH_HOST, max_depth, NULL) == 0);
        if (streq(path, "/")) {
                assert_string_equal(cg_path_relative(path), ".");
                return;
        }
        for (const char *p = path + 1;; ) {
                const char *end = strchrnul(p, '/');
                size_t n = (size_t) (end - p);
                assert_true(n > 0 && n <= CG_NAME_MAX);
                memcpy(comp, p, n);
                comp[n] = '\0';
                assert_int_equal(cg_name_validate(comp, NULL), 0);
                assert_false(cg_name_is_control_file(comp));
                assert_false(streq(comp, ".") || streq(comp, ".."));
                depth++;
                if (!*end)
                        break;
                p = end + 1;
        }
        assert_true(max_depth == 0 || depth <= max_depth);
        assert_int_equal(cg_path_depth(path), depth);
        assert_ptr_equal(cg_path_relative(path), path + 1);
}

static void test_random_paths(void **state) {
        (void) state;
        uint32_t seed = 0x5eed1234;
        unsigned accepted = 0, refused = 0;
        char path[96], buf[128];

        for (unsigned i = 0; i < 200000; i++) {
                random_path(&seed, path, sizeof path);
                unsigned max_depth = rnd(&seed) % 4;
                const char *reason = sentinel;
                int r = cg_path_validate(path, CG_PATH_CLIENT, max_depth, &reason);

                if (r == 0) {
                        assert_ptr_equal(reason, sentinel);
                        check_accepted(path, max_depth);
                        accepted++;
                } else {
                        if (r != -EINVAL || !reason || reason == sentinel || !reason[0])
                                fail_msg("'%s': %d without a reason", show(path, buf, sizeof buf), r);
                        refused++;
                }
        }
        print_message("# random paths: %u accepted, %u refused\n", accepted, refused);
        /* The generator must exercise both sides, or this test proves nothing. */
        assert_true(accepted > 1000);
        assert_true(refused > 1000);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_paths),
        cmocka_unit_test(test_host_paths),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_name_validate),
        cmocka_unit_test(test_is_control_file),
        cmocka_unit_test(test_depth_and_relative),
        cmocka_unit_test(test_random_paths),
};

TEST_MAIN(tests, NULL, NULL)
