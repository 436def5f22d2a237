/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/knob.c, the property table. Tables of accepted and refused values for every
 * key at and one past each limit (0, 1, 2^64-1, overflow, suffixes, spaces, tabs, newlines, 4 KiB
 * strings), each refusal checked for its error and its message; canonical forms and round trips
 * (parse(format(v)) == v) over tables and a seeded random walk; ceiling comparisons; systemd's v1
 * formulas at their published points; v1 writes and reading back captured v1 file contents; and
 * docs/properties.md compared row by row with knob_info().
 */
#include <inttypes.h>
#include <stdio.h>

#include "testutil.h"

#include "cghost.h"
#include "knob.h"

#define NONE (-1) /* accepted */

typedef struct ParseCase {
        const char *key;
        const char *value;
        int error;              /* NONE or a CgdError */
        const char *canonical;  /* accepted: knob_format()'s text */
} ParseCase;

#define OK(k, v, c)  { (k), (v), NONE, (c) }
#define BAD(k, v)    { (k), (v), CGD_ERROR_INVALID_VALUE, NULL }
#define RANGE(k, v)  { (k), (v), CGD_ERROR_OUT_OF_RANGE, NULL }

static const ParseCase parse_cases[] = {
        /* bytes */
        OK("memory.max", "0", "0"),
        OK("memory.max", "1", "1"),
        OK("memory.max", "0K", "0"),
        OK("memory.max", "1K", "1024"),
        OK("memory.max", "1k", "1024"),
        OK("memory.max", "1M", "1048576"),
        OK("memory.max", "1m", "1048576"),
        OK("memory.max", "1G", "1073741824"),
        OK("memory.max", "1g", "1073741824"),
        OK("memory.max", "1T", "1099511627776"),
        OK("memory.max", "1t", "1099511627776"),
        OK("memory.max", "64M", "67108864"),
        OK("memory.max", "max", "max"),
        OK("memory.max", "18446744073709551614", "18446744073709551614"),
        OK("memory.max", "16777215T", "18446742974197923840"),
        OK("memory.max", "18014398509481983K", "18446744073709550592"),
        RANGE("memory.max", "18446744073709551615"),
        RANGE("memory.max", "18446744073709551616"),
        RANGE("memory.max", "99999999999999999999999999999"),
        RANGE("memory.max", "16777216T"),
        RANGE("memory.max", "17179869184T"),
        RANGE("memory.max", "18014398509481984K"),
        BAD("memory.max", "12Q"),
        BAD("memory.max", "1KB"),
        BAD("memory.max", "1KiB"),
        BAD("memory.max", "1.5G"),
        BAD("memory.max", "1P"),
        BAD("memory.max", "1E"),
        BAD("memory.max", "K"),
        BAD("memory.max", ""),
        BAD("memory.max", "00"),
        BAD("memory.max", "01K"),
        BAD("memory.max", "1 G"),
        BAD("memory.max", "1G1"),
        BAD("memory.max", "1GG"),
        BAD("memory.max", "maxx"),
        BAD("memory.max", "max 1"),
        BAD("memory.max", "-0"),
        BAD("memory.max", "infinity"),
        BAD("memory.max", "-1"),
        OK("memory.high", "1G", "1073741824"),
        OK("memory.high", "max", "max"),
        OK("memory.low", "0", "0"),
        OK("memory.low", "max", "max"),
        OK("memory.min", "512m", "536870912"),
        OK("memory.swap.max", "0", "0"),
        OK("memory.swap.max", "max", "max"),
        RANGE("memory.swap.max", "18446744073709551616"),

        /* count */
        OK("pids.max", "1", "1"),
        OK("pids.max", "512", "512"),
        OK("pids.max", "4194304", "4194304"),
        OK("pids.max", "max", "max"),
        RANGE("pids.max", "0"),
        RANGE("pids.max", "4194305"),
        RANGE("pids.max", "18446744073709551615"),
        RANGE("pids.max", "18446744073709551616"),
        BAD("pids.max", "1K"),
        BAD("pids.max", "1k"),
        BAD("pids.max", ""),
        BAD("pids.max", "512 "),

        /* weight */
        OK("cpu.weight", "1", "1"),
        OK("cpu.weight", "100", "100"),
        OK("cpu.weight", "10000", "10000"),
        RANGE("cpu.weight", "0"),
        RANGE("cpu.weight", "10001"),
        RANGE("cpu.weight", "18446744073709551616"),
        BAD("cpu.weight", "max"),
        BAD("cpu.weight", "1K"),
        BAD("cpu.weight", ""),
        BAD("cpu.weight", "idle"),

        /* cpu.max */
        OK("cpu.max", "max", "max 100000"),
        OK("cpu.max", "max 100000", "max 100000"),
        OK("cpu.max", "max 1000", "max 1000"),
        OK("cpu.max", "50000", "50000 100000"),
        OK("cpu.max", "50000 100000", "50000 100000"),
        OK("cpu.max", "1000 1000", "1000 1000"),
        OK("cpu.max", "1000 1000000", "1000 1000000"),
        OK("cpu.max", "200000 100000", "200000 100000"),
        OK("cpu.max", "17592186044415 1000000", "17592186044415 1000000"),
        RANGE("cpu.max", "999 100000"),
        RANGE("cpu.max", "0 100000"),
        RANGE("cpu.max", "999"),
        RANGE("cpu.max", "17592186044416 100000"),
        RANGE("cpu.max", "18446744073709551616 100000"),
        RANGE("cpu.max", "50000 999"),
        RANGE("cpu.max", "50000 0"),
        RANGE("cpu.max", "50000 1000001"),
        RANGE("cpu.max", "max 0"),
        RANGE("cpu.max", "max 18446744073709551616"),
        BAD("cpu.max", ""),
        BAD("cpu.max", "50000  100000"),
        BAD("cpu.max", "50000 "),
        BAD("cpu.max", "max max"),
        BAD("cpu.max", "50000 max"),
        BAD("cpu.max", "50000,100000"),
        BAD("cpu.max", "50000 100000 1"),
        BAD("cpu.max", "50ms"),
        BAD("cpu.max", "50K"),
        BAD("cpu.max", "-1 100000"),
        BAD("cpu.max", "maximum"),

        /* io.max */
        OK("io.max", "8:0 rbps=1048576", "8:0 rbps=1048576"),
        OK("io.max", "8:0 wbps=max riops=1", "8:0 wbps=max riops=1"),
        OK("io.max", "8:0 wiops=5 rbps=1", "8:0 rbps=1 wiops=5"),
        OK("io.max", "8:0 rbps=max wbps=max riops=max wiops=max", "8:0 rbps=max wbps=max riops=max wiops=max"),
        OK("io.max", "8:16 riops=4294967294", "8:16 riops=4294967294"),
        OK("io.max", "8:0 rbps=18446744073709551614", "8:0 rbps=18446744073709551614"),
        OK("io.max", "0:0 rbps=1", "0:0 rbps=1"),
        OK("io.max", "4095:1048575 wbps=1", "4095:1048575 wbps=1"),
        RANGE("io.max", "8:0 rbps=0"),
        RANGE("io.max", "8:0 riops=0"),
        RANGE("io.max", "8:0 riops=4294967295"),
        RANGE("io.max", "8:0 wiops=4294967296"),
        RANGE("io.max", "8:0 rbps=18446744073709551615"),
        RANGE("io.max", "8:0 wbps=18446744073709551616"),
        RANGE("io.max", "4096:0 rbps=1"),
        RANGE("io.max", "8:1048576 rbps=1"),
        RANGE("io.max", "18446744073709551616:0 rbps=1"),
        BAD("io.max", "8:0"),
        BAD("io.max", "8:0 "),
        BAD("io.max", "8:0 rbps=1 rbps=2"),
        BAD("io.max", "8:0 rbps=max rbps=max"),
        BAD("io.max", "8:0 foo=1"),
        BAD("io.max", "8:0 rbps=1M"),
        BAD("io.max", "8:0 rbps"),
        BAD("io.max", "8:0 rbps="),
        BAD("io.max", "8:0 rbps =1"),
        BAD("io.max", "8:0  rbps=1"),
        BAD("io.max", "8:0 rbps=1 "),
        BAD("io.max", "rbps=1"),
        BAD("io.max", "8 rbps=1"),
        BAD("io.max", "8:0rbps=1"),
        BAD("io.max", "08:0 rbps=1"),
        BAD("io.max", "8:00 rbps=1"),
        BAD("io.max", "8:0 RBPS=1"),
        BAD("io.max", "8:0 rbps=MAX"),
        BAD("io.max", "8:0 rbps=-1"),
        BAD("io.max", "sda rbps=1"),
        BAD("io.max", "/dev/sda rbps=1"),
        BAD("io.max", "8:0 rbps=1,wbps=1"),
        BAD("io.max", "8:0 rbps=1 8:16 rbps=1"),
        BAD("io.max", "max"),

        /* io.weight */
        OK("io.weight", "100", "default 100"),
        OK("io.weight", "1", "default 1"),
        OK("io.weight", "10000", "default 10000"),
        OK("io.weight", "default 100", "default 100"),
        OK("io.weight", "default 1", "default 1"),
        OK("io.weight", "8:0 200", "8:0 200"),
        OK("io.weight", "8:0 default", "8:0 default"),
        OK("io.weight", "4095:1048575 10000", "4095:1048575 10000"),
        RANGE("io.weight", "0"),
        RANGE("io.weight", "default 0"),
        RANGE("io.weight", "10001"),
        RANGE("io.weight", "default 10001"),
        RANGE("io.weight", "8:0 0"),
        RANGE("io.weight", "8:0 10001"),
        RANGE("io.weight", "4096:0 100"),
        RANGE("io.weight", "0:1048576 100"),
        RANGE("io.weight", "4096:0 default"),
        BAD("io.weight", ""),
        BAD("io.weight", "default"),
        BAD("io.weight", "default "),
        BAD("io.weight", "default  100"),
        BAD("io.weight", "default100"),
        BAD("io.weight", "Default 100"),
        BAD("io.weight", "8:0"),
        BAD("io.weight", "8:0 "),
        BAD("io.weight", "8: 0 100"),
        BAD("io.weight", "8:0 max"),
        BAD("io.weight", "8:0 DEFAULT"),
        BAD("io.weight", "8:0 100 200"),
        BAD("io.weight", "8:0 default 100"),
        BAD("io.weight", "08:0 100"),
        BAD("io.weight", "max"),
        BAD("io.weight", "default max"),

        /* cpu and node lists */
        OK("cpuset.cpus", "", ""),
        OK("cpuset.cpus", "0", "0"),
        OK("cpuset.cpus", "0-3", "0-3"),
        OK("cpuset.cpus", "0-3,5,7-8", "0-3,5,7-8"),
        OK("cpuset.cpus", "0,1,2", "0-2"),
        OK("cpuset.cpus", "0-3,4-5", "0-5"),
        OK("cpuset.cpus", "3-3", "3"),
        OK("cpuset.cpus", "1,3,5", "1,3,5"),
        OK("cpuset.cpus", "4095", "4095"),
        OK("cpuset.cpus", "0-4095", "0-4095"),
        OK("cpuset.cpus", "63-64,127-128", "63-64,127-128"),
        RANGE("cpuset.cpus", "4096"),
        RANGE("cpuset.cpus", "0-4096"),
        RANGE("cpuset.cpus", "0,18446744073709551616"),
        BAD("cpuset.cpus", "3-0"),
        BAD("cpuset.cpus", "5,0-3"),
        BAD("cpuset.cpus", "0-3,3"),
        BAD("cpuset.cpus", "0-3,2-5"),
        BAD("cpuset.cpus", "1,1"),
        BAD("cpuset.cpus", ","),
        BAD("cpuset.cpus", "0,"),
        BAD("cpuset.cpus", ",0"),
        BAD("cpuset.cpus", "0,,1"),
        BAD("cpuset.cpus", "0 - 3"),
        BAD("cpuset.cpus", "0, 1"),
        BAD("cpuset.cpus", "0-"),
        BAD("cpuset.cpus", "-3"),
        BAD("cpuset.cpus", "0--3"),
        BAD("cpuset.cpus", "0-3-5"),
        BAD("cpuset.cpus", "0-7:2/4"),
        BAD("cpuset.cpus", "a"),
        BAD("cpuset.cpus", "0x1"),
        BAD("cpuset.cpus", "00"),
        BAD("cpuset.cpus", "1-02"),
        BAD("cpuset.cpus", "max"),
        OK("cpuset.mems", "", ""),
        OK("cpuset.mems", "0", "0"),
        OK("cpuset.mems", "0-1", "0-1"),
        RANGE("cpuset.mems", "4096"),
        BAD("cpuset.mems", "1,0"),
};

/* Refused by every key with InvalidValue, whatever its grammar. */
static const char * const junk_for_every_key[] = {
        " 1", "1 ", "\t1", "1\t", "1\n", "\n", "1\r", "\r\n", "1\x7f", "1\x01", "MAX", "Max", "mAx",
        "+1", "-1", "0x10", "0X10", "1.5", "1e3", "01", "00", "max\n", " max", "max ", "\xef\xbc\x91",
        "1\xff", "1;2", "1'", "\\1", "\x1b[31m",
};

static const char sentinel_message[] = "untouched";

static KnobValue sentinel_value(void) {
        KnobValue v;

        memset(&v, 0xa5, sizeof v);
        return v;
}

/* Shows a hostile string readably in a TAP comment. */
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

/* A refusal's message is one printable line that names the key (or the key is quoted in it). */
static bool message_ok(const CgdRefusal *r, const char *key) {
        size_t n = strlen(r->message);

        if (n == 0 || n + 1 >= sizeof r->message || streq(r->message, sentinel_message))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) r->message[i];
                if (c < 0x20 || c >= 0x7f)
                        return false;
        }
        return strstr(r->message, key) != NULL || key[0] == '\0';
}

static bool check_roundtrip(const KnobValue *v, const char *what) {
        char text[8192], again[8192];
        KnobValue w;
        int r;

        r = knob_format(v, text, sizeof text);
        if (r < 0 || (size_t) r != strlen(text)) {
                print_message("# %s: knob_format() = %d\n", what, r);
                return false;
        }
        r = knob_parse(knob_info(v->id)->key, text, &w, NULL);
        if (r < 0 || memcmp(v, &w, sizeof w) != 0) {
                print_message("# %s: '%s' does not parse back to the same value (%d)\n", what, text, r);
                return false;
        }
        r = knob_format(&w, again, sizeof again);
        if (r < 0 || !streq(text, again)) {
                print_message("# %s: '%s' formats again as '%s'\n", what, text, again);
                return false;
        }
        return true;
}

static bool check_parse_case(const ParseCase *c) {
        char buf[128], text[8192];
        CgdRefusal refusal = {};
        KnobValue v = sentinel_value(), untouched = sentinel_value();
        int r;

        strcpy(refusal.message, sentinel_message);
        r = knob_parse(c->key, c->value, &v, &refusal);
        if (c->error == NONE) {
                if (r < 0) {
                        print_message("# %s='%s': refused: %s\n", c->key, show(c->value, buf, sizeof buf), refusal.message);
                        return false;
                }
                if (knob_format(&v, text, sizeof text) < 0 || !streq(text, c->canonical)) {
                        print_message("# %s='%s': canonical '%s', want '%s'\n", c->key, c->value, text, c->canonical);
                        return false;
                }
                return streq(refusal.message, sentinel_message) && check_roundtrip(&v, c->key);
        }
        if (r != cgd_error_errno(c->error) || refusal.error != (CgdError) c->error || !message_ok(&refusal, c->key)) {
                print_message("# %s='%s': want %s, got %d %s: %s\n", c->key, show(c->value, buf, sizeof buf),
                              cgd_error_name(c->error), r, cgd_error_name(refusal.error), refusal.message);
                return false;
        }
        if (memcmp(&v, &untouched, sizeof v) != 0) {
                print_message("# %s='%s': ret changed on failure\n", c->key, show(c->value, buf, sizeof buf));
                return false;
        }
        /* The same answer without a refusal to fill. */
        return knob_parse(c->key, c->value, &v, NULL) == r;
}

static void test_parse_table(void **state) {
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++)
                if (!check_parse_case(&parse_cases[i]))
                        failed++;
        assert_int_equal(failed, 0);
}

static void test_junk_every_key(void **state) {
        unsigned failed = 0;

        for (KnobId id = 0; id < _KNOB_MAX; id++)
                for (size_t i = 0; i < ELEMENTSOF(junk_for_every_key); i++) {
                        ParseCase c = BAD(knob_info(id)->key, junk_for_every_key[i]);
                        if (!check_parse_case(&c))
                                failed++;
                }
        assert_int_equal(failed, 0);
}

/* 4 KiB values: junk and digits past the length limit, digits at it (then a range question). */
static void test_long_values(void **state) {
        char *s = malloc(4097);
        unsigned failed = 0;

        assert_non_null(s);
        for (KnobId id = 0; id < _KNOB_MAX; id++) {
                const char *key = knob_info(id)->key;
                ParseCase c = BAD(key, s);

                memset(s, 'x', 4096);
                s[4096] = '\0';
                failed += !check_parse_case(&c);
                memset(s, '1', 4096);
                failed += !check_parse_case(&c);
                s[4095] = '\0'; /* 4095 digits: within the length limit, far past any range */
                /* io.max wants MAJ:MIN first; every other grammar takes the digits as one number. */
                c.error = id == KNOB_IO_MAX ? CGD_ERROR_INVALID_VALUE : CGD_ERROR_OUT_OF_RANGE;
                failed += !check_parse_case(&c);
        }
        free(s);
        assert_int_equal(failed, 0);
}

/* The longest alternating cpu list that fits in 4095 bytes parses, formats to the same length
 * and fits in one v1 write. */
static void test_long_cpu_list(void **state) {
        char list[4096], text[8192];
        KnobV1Write w[4];
        KnobValue v;
        size_t n = 0;

        for (unsigned cpu = 0; cpu < KNOB_CPUS_MAX; cpu += 2) {
                char item[8];
                int l = snprintf(item, sizeof item, "%s%u", n ? "," : "", cpu);
                if (n + (size_t) l > 4095)
                        break;
                memcpy(list + n, item, (size_t) l);
                n += (size_t) l;
        }
        list[n] = '\0';
        assert_int_equal(knob_parse("cpuset.cpus", list, &v, NULL), 0);
        assert_int_equal(knob_format(&v, text, sizeof text), (int) n);
        assert_string_equal(text, list);
        assert_int_equal(knob_to_v1(&v, false, w), 1);
        assert_string_equal(w[0].value, list);
}

static void test_messages(void **state) {
        char key[32], value[200];
        CgdRefusal r;

        assert_int_equal(knob_parse("memory.max", "12Q", &(KnobValue) {}, &r), -EINVAL);
        assert_string_equal(r.message,
                            "memory.max='12Q': not a byte value (a decimal number with an optional K, M, G or T suffix, or 'max')");
        assert_int_equal(knob_parse("pids.max", "0", &(KnobValue) {}, &r), -ERANGE);
        assert_string_equal(r.message, "pids.max='0': out of range (1..4194304, or 'max')");
        assert_int_equal(knob_parse("cpu.max", "500 100000", &(KnobValue) {}, &r), -ERANGE);
        assert_string_equal(r.message, "cpu.max='500 100000': quota out of range (1000..17592186044415 us, or 'max')");
        assert_int_equal(knob_parse("io.max", "8:0 rbps=1 rbps=2", &(KnobValue) {}, &r), -EINVAL);
        assert_string_equal(r.message, "io.max='8:0 rbps=1 rbps=2': 'rbps' given twice");

        /* Control characters, quotes and non-ASCII are escaped; nothing raw reaches a log line. */
        assert_int_equal(knob_parse("memory.max", "1G\n2G", &(KnobValue) {}, &r), -EINVAL);
        assert_string_equal(r.message,
                            "memory.max='1G\\n2G': contains a newline or another control character (a value is one line)");
        assert_int_equal(knob_parse("memory.max", "'\\\xc3\xa9", &(KnobValue) {}, &r), -EINVAL);
        assert_non_null(strstr(r.message, "='\\x27\\x5c\\xc3\\xa9':"));

        /* At most 64 bytes of the value are quoted. */
        memset(value, 'x', sizeof value - 1);
        value[sizeof value - 1] = '\0';
        assert_int_equal(knob_parse("memory.max", value, &(KnobValue) {}, &r), -EINVAL);
        snprintf(key, sizeof key, "='%.10s", value);
        assert_non_null(strstr(r.message, key));
        assert_non_null(strstr(r.message, "xxxx'...: not a byte value"));
        assert_null(strstr(r.message, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")); /* 65 */
}

typedef struct KeyCase {
        const char *key;
        const char *message; /* exact */
} KeyCase;

static void test_unknown_keys(void **state) {
        static const KeyCase cases[] = {
                { "cgroup.procs", "'cgroup.procs' is never writable: processes move only through MoveProcess" },
                { "cgroup.threads", "'cgroup.threads' is never writable: processes move only through MoveProcess" },
                { "tasks", "'tasks' is never writable: processes move only through MoveProcess" },
                { "cgroup.subtree_control", "'cgroup.subtree_control' is never writable by a container (not a property)" },
                { "cgroup.kill", "'cgroup.kill' is never writable by a container (not a property)" },
                { "release_agent", "'release_agent' is never writable by a container (not a property)" },
                { "notify_on_release", "'notify_on_release' is never writable by a container (not a property)" },
                { "devices.allow", "'devices.allow' is never writable by a container (not a property)" },
                { "cpuset.cpus.partition", "'cpuset.cpus.partition' is never writable by a container (not a property)" },
                { "io.cost.qos", "'io.cost.qos' is never writable by a container (not a property)" },
                { "memory.limit_in_bytes", "'memory.limit_in_bytes' is a cgroup v1 file; properties are v2 keys (use 'memory.max')" },
                { "memory.memsw.limit_in_bytes", "'memory.memsw.limit_in_bytes' is a cgroup v1 file; properties are v2 keys (use 'memory.swap.max')" },
                { "cpu.shares", "'cpu.shares' is a cgroup v1 file; properties are v2 keys (use 'cpu.weight')" },
                { "cpu.cfs_period_us", "'cpu.cfs_period_us' is a cgroup v1 file; properties are v2 keys (use 'cpu.max')" },
                { "blkio.bfq.weight", "'blkio.bfq.weight' is a cgroup v1 file; properties are v2 keys (use 'io.weight')" },
                { "memory.oom.group", "'memory.oom.group' is not a property (see GetPolicy for the allowed keys)" },
                { "", "'' is not a property (see GetPolicy for the allowed keys)" },
                { "MEMORY.MAX", "'MEMORY.MAX' is not a property (see GetPolicy for the allowed keys)" },
                { " memory.max", "' memory.max' is not a property (see GetPolicy for the allowed keys)" },
                { "memory.max\n", "'memory.max\\n' is not a property (see GetPolicy for the allowed keys)" },
                { "memory.max\x1b", "'memory.max\\x1b' is not a property (see GetPolicy for the allowed keys)" },
        };
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CgdRefusal r = {};
                KnobValue v = sentinel_value(), untouched = sentinel_value();
                int ret = knob_parse(cases[i].key, "1", &v, &r);

                if (ret != -EINVAL || r.error != CGD_ERROR_INVALID_PROPERTY || !streq(r.message, cases[i].message) ||
                    memcmp(&v, &untouched, sizeof v) != 0) {
                        print_message("# key %zu: %d %s: %s\n", i, ret, cgd_error_name(r.error), r.message);
                        failed++;
                }
                if (knob_lookup(cases[i].key))
                        failed++;
        }
        assert_int_equal(failed, 0);
}

static void test_info_table(void **state) {
        static const int controllers[_KNOB_MAX] = {
                [KNOB_MEMORY_MAX] = CG_CTRL_MEMORY, [KNOB_MEMORY_HIGH] = CG_CTRL_MEMORY,
                [KNOB_MEMORY_LOW] = CG_CTRL_MEMORY, [KNOB_MEMORY_MIN] = CG_CTRL_MEMORY,
                [KNOB_MEMORY_SWAP_MAX] = CG_CTRL_MEMORY, [KNOB_CPU_MAX] = CG_CTRL_CPU,
                [KNOB_CPU_WEIGHT] = CG_CTRL_CPU, [KNOB_PIDS_MAX] = CG_CTRL_PIDS,
                [KNOB_IO_MAX] = CG_CTRL_IO, [KNOB_IO_WEIGHT] = CG_CTRL_IO,
                [KNOB_CPUSET_CPUS] = CG_CTRL_CPUSET, [KNOB_CPUSET_MEMS] = CG_CTRL_CPUSET,
        };

        assert_null(knob_info(_KNOB_MAX));
        assert_null(knob_info(_KNOB_INVALID));
        assert_null(knob_lookup(NULL));
        for (KnobId id = 0; id < _KNOB_MAX; id++) {
                const KnobInfo *info = knob_info(id);
                const char *files[4];
                int n = knob_v1_sources(id, false, files);

                assert_non_null(info);
                assert_int_equal(info->id, id);
                assert_ptr_equal(knob_lookup(info->key), info);
                assert_int_equal(info->controller, controllers[id]);
                assert_true(info->kind >= 0 && info->kind < _KNOB_KIND_MAX);
                assert_true(info->min <= info->max);
                assert_true(info->max < KNOB_UNLIMITED);
                assert_non_null(info->doc);
                assert_null(strchr(info->doc, '|'));
                assert_true(n >= 0 && n <= 4);
                if (info->v1_file)
                        assert_string_equal(info->v1_file, files[0]);
                else
                        assert_int_equal(n, 0);
        }
        assert_int_equal(KNOB_ALL, (UINT32_C(1) << _KNOB_MAX) - 1);
}

/* Random values of every key, built directly (not through the parser), survive format+parse. */
static uint64_t rng_state = 0x9e3779b97f4a7c15;

static uint64_t rnd(void) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static uint64_t rnd_in(uint64_t min, uint64_t max) {
        uint64_t span = max - min;

        switch (rnd() % 4) {
        case 0:
                return min;
        case 1:
                return max;
        default:
                return span == UINT64_MAX ? rnd() : min + rnd() % (span + 1);
        }
}

static uint64_t rnd_limit(uint64_t min, uint64_t max) {
        return rnd() % 5 == 0 ? KNOB_UNLIMITED : rnd_in(min, max);
}

static KnobValue random_value(KnobId id) {
        const KnobInfo *info = knob_info(id);
        KnobValue v;

        memset(&v, 0, sizeof v);
        v.id = id;
        switch (info->kind) {
        case KNOB_KIND_BYTES:
        case KNOB_KIND_COUNT:
                v.bytes = rnd_limit(info->min, info->max);
                break;
        case KNOB_KIND_WEIGHT:
                v.weight = rnd_in(info->min, info->max);
                break;
        case KNOB_KIND_CPU_MAX:
                v.cpu.quota_us = rnd_limit(info->min, info->max);
                v.cpu.period_us = rnd_in(1000, 1000000);
                break;
        case KNOB_KIND_IO_MAX:
                v.io_max.major = (unsigned) rnd_in(0, 4095);
                v.io_max.minor = (unsigned) rnd_in(0, (1u << 20) - 1);
                for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                        v.io_max.set[l] = rnd() % 2;
                        v.io_max.limit[l] = v.io_max.set[l] ? rnd_limit(1, l >= IO_RIOPS ? UINT32_MAX - 1 : info->max) : KNOB_UNLIMITED;
                }
                if (!v.io_max.set[IO_RBPS] && !v.io_max.set[IO_WBPS] && !v.io_max.set[IO_RIOPS] && !v.io_max.set[IO_WIOPS]) {
                        v.io_max.set[IO_WIOPS] = true;
                        v.io_max.limit[IO_WIOPS] = 7;
                }
                break;
        case KNOB_KIND_IO_WEIGHT:
                v.io_weight.has_device = rnd() % 2;
                if (v.io_weight.has_device) {
                        v.io_weight.major = (unsigned) rnd_in(0, 4095);
                        v.io_weight.minor = (unsigned) rnd_in(0, (1u << 20) - 1);
                }
                v.io_weight.weight = v.io_weight.has_device && rnd() % 4 == 0 ? 0 : rnd_in(1, 10000);
                break;
        case KNOB_KIND_CPUS:
                for (unsigned i = 0, n = (unsigned) (rnd() % 40); i < n; i++) {
                        unsigned cpu = (unsigned) (rnd() % (rnd() % 2 ? 64 : KNOB_CPUS_MAX));
                        v.cpus.bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
                }
                break;
        default:
                fail();
        }
        return v;
}

static void test_random_roundtrip(void **state) {
        unsigned failed = 0;

        for (unsigned i = 0; i < 20000; i++) {
                KnobValue v = random_value((KnobId) (rnd() % _KNOB_MAX));
                failed += !check_roundtrip(&v, knob_info(v.id)->key);
        }
        assert_int_equal(failed, 0);
}

/* Random strings over the grammar's alphabet: whatever is accepted is canonical after one
 * format, and every refusal has the right kind of error and a message. */
static void test_random_strings(void **state) {
        static const char * const tokens[] = {
                "0", "1", "9", "10", "4095", "4096", "100000", "18446744073709551616", "K", "k", "M", "g", "T",
                "max", "default", " ", "-", ",", ":", "=", "rbps", "wbps", "riops", "wiops", "\n", "\t", "x",
        };
        unsigned accepted = 0, refused = 0, failed = 0;

        for (unsigned i = 0; i < 100000; i++) {
                KnobId id = (KnobId) (rnd() % _KNOB_MAX);
                char s[128] = "", buf[128];
                CgdRefusal r = {};
                KnobValue v;

                for (unsigned t = 0, n = (unsigned) (rnd() % 7); t < n; t++)
                        strcat(s, tokens[rnd() % ELEMENTSOF(tokens)]);
                if (knob_parse(knob_info(id)->key, s, &v, &r) == 0) {
                        accepted++;
                        failed += !check_roundtrip(&v, show(s, buf, sizeof buf));
                } else {
                        refused++;
                        if ((r.error != CGD_ERROR_INVALID_VALUE && r.error != CGD_ERROR_OUT_OF_RANGE) ||
                            !message_ok(&r, knob_info(id)->key)) {
                                print_message("# '%s': %s\n", show(s, buf, sizeof buf), r.message);
                                failed++;
                        }
                }
        }
        print_message("# random strings: %u accepted, %u refused\n", accepted, refused);
        assert_true(accepted > 1000);
        assert_true(refused > 1000);
        assert_int_equal(failed, 0);
}

static void test_format_buffer(void **state) {
        char buf[16];
        KnobValue v;

        assert_int_equal(knob_parse("memory.max", "1G", &v, NULL), 0);
        assert_int_equal(knob_format(&v, buf, 11), 10);
        assert_string_equal(buf, "1073741824");
        assert_int_equal(knob_format(&v, buf, 10), -ENOBUFS);
        assert_string_equal(buf, "");
        assert_int_equal(knob_format(&v, NULL, 0), -ENOBUFS);
        assert_int_equal(knob_parse("cpu.max", "max", &v, NULL), 0);
        assert_int_equal(knob_format(&v, buf, 5), -ENOBUFS);
        v.id = _KNOB_MAX;
        assert_int_equal(knob_format(&v, buf, sizeof buf), -EINVAL);
}

typedef struct ExceedsCase {
        const char *key, *value, *ceiling;
        bool exceeds;
} ExceedsCase;

static void test_exceeds(void **state) {
        static const ExceedsCase cases[] = {
                { "memory.max", "1G", "2G", false },
                { "memory.max", "2G", "2G", false },
                { "memory.max", "2049M", "2G", true },
                { "memory.max", "max", "8G", true },
                { "memory.max", "8G", "max", false },
                { "memory.max", "max", "max", false },
                { "memory.max", "18446744073709551614", "max", false },
                { "memory.swap.max", "0", "0", false },
                { "memory.swap.max", "1", "0", true },
                { "pids.max", "512", "512", false },
                { "pids.max", "513", "512", true },
                { "pids.max", "max", "512", true },
                { "cpu.weight", "100", "100", false },
                { "cpu.weight", "101", "100", true },
                { "cpu.max", "50000 100000", "100000 200000", false },
                { "cpu.max", "50001 100000", "100000 200000", true },
                { "cpu.max", "50000", "50000 100000", false },
                { "cpu.max", "1000 1000", "100000 100000", false },
                { "cpu.max", "200000 100000", "1000000 1000000", true },
                { "cpu.max", "200000 100000", "200000 100000", false },
                { "cpu.max", "max", "200000 100000", true },
                { "cpu.max", "max 1000000", "17592186044415 1000", true },
                { "cpu.max", "200000 100000", "max", false },
                { "cpu.max", "max", "max 1000", false },
                /* Exact where doubles are not: 2^44-1 / 1000 against (2^44-2) / 1000 and neighbours. */
                { "cpu.max", "17592186044415 1000", "17592186044414 1000", true },
                { "cpu.max", "17592186044414 1000", "17592186044415 1000", false },
                { "cpu.max", "17592186044415 999999", "17592186044414 999999", true },
                { "cpu.max", "17592186044415 1000000", "17592186044414 999999", false },
                { "io.max", "8:0 rbps=2", "8:0 rbps=1", true },
                { "io.max", "8:0 rbps=1", "8:0 rbps=2", false },
                { "io.max", "8:0 rbps=1", "8:0 rbps=1", false },
                { "io.max", "8:16 rbps=100", "8:0 rbps=1", false },
                { "io.max", "8:1 rbps=100", "8:0 rbps=1", false },
                { "io.max", "9:0 rbps=100", "8:0 rbps=1", false },
                { "io.max", "8:0 wbps=max", "8:0 wbps=1", true },
                { "io.max", "8:0 rbps=5", "8:0 wbps=1", false },
                { "io.max", "8:0 rbps=1 wiops=11", "8:0 rbps=max wiops=10", true },
                { "io.max", "8:0 rbps=max", "8:0 rbps=max", false },
                { "io.max", "8:0 riops=10", "8:0 rbps=max wbps=max riops=max wiops=max", false },
                { "io.weight", "default 200", "default 100", true },
                { "io.weight", "default 100", "default 100", false },
                { "io.weight", "8:0 50", "default 100", false },
                { "io.weight", "8:0 150", "default 100", true },
                { "io.weight", "8:0 default", "default 1", false },
                { "io.weight", "8:0 200", "8:0 100", true },
                { "io.weight", "8:0 100", "8:0 100", false },
                { "io.weight", "8:16 200", "8:0 100", false },
                { "io.weight", "default 200", "8:0 100", true },
                { "io.weight", "default 50", "8:0 100", false },
                { "io.weight", "8:0 default", "8:0 1", false },
                { "cpuset.cpus", "0-1", "0-3", false },
                { "cpuset.cpus", "0-3", "0-3", false },
                { "cpuset.cpus", "0-4", "0-3", true },
                { "cpuset.cpus", "4095", "0-4094", true },
                { "cpuset.cpus", "", "0", false },
                { "cpuset.cpus", "", "", false },
                { "cpuset.cpus", "5", "", true },
                { "cpuset.mems", "1", "0", true },
        };
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                KnobValue v, c;

                assert_int_equal(knob_parse(cases[i].key, cases[i].value, &v, NULL), 0);
                assert_int_equal(knob_parse(cases[i].key, cases[i].ceiling, &c, NULL), 0);
                if (knob_exceeds(&v, &c) != cases[i].exceeds) {
                        print_message("# %s='%s' against '%s': want %s\n", cases[i].key, cases[i].value,
                                      cases[i].ceiling, cases[i].exceeds ? "exceeds" : "within");
                        failed++;
                }
                /* Nothing exceeds itself. */
                failed += knob_exceeds(&v, &v);
        }
        assert_int_equal(failed, 0);
}

/* The numbers follow from systemd's formulas (src/core/cgroup.c, src/basic/cgroup-util.h). */
static void test_systemd_formulas(void **state) {
        /* cgroup_cpu_weight_to_shares(): 1024 per 100, clamped to 2..262144 */
        assert_int_equal(knob_cpu_weight_to_shares(100), 1024);
        assert_int_equal(knob_cpu_weight_to_shares(1), 10);
        assert_int_equal(knob_cpu_weight_to_shares(50), 512);
        assert_int_equal(knob_cpu_weight_to_shares(10000), 102400);
        assert_int_equal(knob_cpu_weight_to_shares(0), 2);
        assert_int_equal(knob_cpu_weight_to_shares(UINT64_MAX), 262144);
        /* cgroup_cpu_shares_to_weight() */
        assert_int_equal(knob_cpu_shares_to_weight(1024), 100);
        assert_int_equal(knob_cpu_shares_to_weight(2), 1);
        assert_int_equal(knob_cpu_shares_to_weight(10), 1);
        assert_int_equal(knob_cpu_shares_to_weight(512), 50);
        assert_int_equal(knob_cpu_shares_to_weight(102400), 10000);
        assert_int_equal(knob_cpu_shares_to_weight(262144), 10000);
        /* cgroup_weight_io_to_blkio(): 500 per 100, clamped to 10..1000 */
        assert_int_equal(knob_io_weight_to_blkio(100), 500);
        assert_int_equal(knob_io_weight_to_blkio(1), 10);
        assert_int_equal(knob_io_weight_to_blkio(50), 250);
        assert_int_equal(knob_io_weight_to_blkio(200), 1000);
        assert_int_equal(knob_io_weight_to_blkio(10000), 1000);
        /* cgroup_weight_blkio_to_io() */
        assert_int_equal(knob_blkio_weight_to_io(500), 100);
        assert_int_equal(knob_blkio_weight_to_io(10), 2);
        assert_int_equal(knob_blkio_weight_to_io(1000), 200);
        /* BFQ_WEIGHT() */
        assert_int_equal(knob_io_weight_to_bfq(1), 1);
        assert_int_equal(knob_io_weight_to_bfq(50), 50);
        assert_int_equal(knob_io_weight_to_bfq(100), 100);
        assert_int_equal(knob_io_weight_to_bfq(200), 109);
        assert_int_equal(knob_io_weight_to_bfq(1000), 181); /* what systemd writes for a blkio weight of 1000 */
        assert_int_equal(knob_io_weight_to_bfq(10000), 1000);
        assert_int_equal(knob_io_weight_to_bfq(0), 1);
        assert_int_equal(knob_io_weight_to_bfq(20000), 1000);
        /* Both directions round down, so reading a weight back through v1 loses at most 1. */
        for (uint64_t w = 1; w <= 10000; w++) {
                uint64_t back = knob_cpu_shares_to_weight(knob_cpu_weight_to_shares(w));
                assert_true(back == w || back + 1 == w);
        }
}

typedef struct V1Case {
        const char *key, *value;
        bool bfq;
        int ret;
        const char *writes[4][2];
} V1Case;

static void test_to_v1(void **state) {
        static const V1Case cases[] = {
                { "memory.max", "1G", false, 1, { { "memory.limit_in_bytes", "1073741824" } } },
                { "memory.max", "max", false, 1, { { "memory.limit_in_bytes", "-1" } } },
                { "memory.max", "0", false, 1, { { "memory.limit_in_bytes", "0" } } },
                { "memory.high", "1G", false, -EOPNOTSUPP, {} },
                { "memory.low", "1G", false, -EOPNOTSUPP, {} },
                { "memory.min", "1G", false, -EOPNOTSUPP, {} },
                { "memory.swap.max", "1G", false, 0, {} },
                { "cpu.max", "50000 100000", false, 2, { { "cpu.cfs_period_us", "100000" }, { "cpu.cfs_quota_us", "50000" } } },
                { "cpu.max", "50000", false, 2, { { "cpu.cfs_period_us", "100000" }, { "cpu.cfs_quota_us", "50000" } } },
                { "cpu.max", "max 200000", false, 2, { { "cpu.cfs_quota_us", "-1" }, { "cpu.cfs_period_us", "200000" } } },
                { "cpu.weight", "100", false, 1, { { "cpu.shares", "1024" } } },
                { "cpu.weight", "1", false, 1, { { "cpu.shares", "10" } } },
                { "cpu.weight", "10000", false, 1, { { "cpu.shares", "102400" } } },
                { "pids.max", "512", false, 1, { { "pids.max", "512" } } },
                { "pids.max", "max", false, 1, { { "pids.max", "max" } } },
                { "io.max", "8:0 rbps=1048576 wiops=max", false, 2,
                  { { "blkio.throttle.read_bps_device", "8:0 1048576" }, { "blkio.throttle.write_iops_device", "8:0 0" } } },
                { "io.max", "8:16 wiops=1 riops=2 wbps=3 rbps=4", false, 4,
                  { { "blkio.throttle.read_bps_device", "8:16 4" }, { "blkio.throttle.write_bps_device", "8:16 3" },
                    { "blkio.throttle.read_iops_device", "8:16 2" }, { "blkio.throttle.write_iops_device", "8:16 1" } } },
                { "io.weight", "100", false, 1, { { "blkio.weight", "500" } } },
                { "io.weight", "default 10000", false, 1, { { "blkio.weight", "1000" } } },
                { "io.weight", "100", true, 1, { { "blkio.bfq.weight", "100" } } },
                { "io.weight", "default 10000", true, 1, { { "blkio.bfq.weight", "1000" } } },
                { "io.weight", "8:0 1000", false, 1, { { "blkio.weight_device", "8:0 1000" } } },
                { "io.weight", "8:0 1000", true, 1, { { "blkio.bfq.weight_device", "8:0 181" } } },
                { "io.weight", "8:0 default", false, 1, { { "blkio.weight_device", "8:0 default" } } },
                { "io.weight", "8:0 default", true, 1, { { "blkio.bfq.weight_device", "8:0 default" } } },
                { "cpuset.cpus", "0-3,5", false, 1, { { "cpuset.cpus", "0-3,5" } } },
                { "cpuset.cpus", "0,1,2", false, 1, { { "cpuset.cpus", "0-2" } } },
                { "cpuset.cpus", "", false, -EOPNOTSUPP, {} },
                { "cpuset.mems", "0", false, 1, { { "cpuset.mems", "0" } } },
                { "cpuset.mems", "", false, -EOPNOTSUPP, {} },
        };
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const V1Case *c = &cases[i];
                KnobV1Write w[4];
                KnobValue v;
                int r;

                assert_int_equal(knob_parse(c->key, c->value, &v, NULL), 0);
                r = knob_to_v1(&v, c->bfq, w);
                if (r != c->ret) {
                        print_message("# %s='%s': %d writes, want %d\n", c->key, c->value, r, c->ret);
                        failed++;
                        continue;
                }
                for (int j = 0; j < r; j++)
                        if (!streq(w[j].file, c->writes[j][0]) || !streq(w[j].value, c->writes[j][1])) {
                                print_message("# %s='%s': write %d is %s '%s'\n", c->key, c->value, j, w[j].file, w[j].value);
                                failed++;
                        }
        }
        assert_int_equal(failed, 0);
}

typedef struct FromV1Case {
        const char *key;
        bool bfq;
        const char *texts[4];
        int ret;                /* 0: expect text */
        const char *text;
} FromV1Case;

/* File contents as the kernel shows them: memory, cpu, cpuset and an empty throttle file as read
 * on the project's hybrid test host (kernel 6.18), the rest as the kernel's printing code writes
 * them. Values end with a newline; memory "unlimited" is PAGE_COUNTER_MAX pages. */
static void test_from_v1(void **state) {
        static const FromV1Case cases[] = {
                { "memory.max", false, { "9223372036854771712\n" }, 0, "max" },
                { "memory.max", false, { "9223372036854710272\n" }, 0, "max" }, /* 64 KiB pages */
                { "memory.max", false, { "4611686018427387904\n" }, 0, "max" }, /* 2^62 */
                { "memory.max", false, { "4611686018427387903\n" }, 0, "4611686018427387903" },
                { "memory.max", false, { "67108864\n" }, 0, "67108864" },
                { "memory.max", false, { "67108864" }, 0, "67108864" },
                { "memory.max", false, { "0\n" }, 0, "0" },
                { "memory.max", false, { "-1\n" }, 0, "max" },
                { "memory.max", false, { "abc\n" }, -EBADMSG, NULL },
                { "memory.max", false, { "1\n\n" }, -EBADMSG, NULL },
                { "memory.max", false, { "" }, -EBADMSG, NULL },
                { "memory.max", false, { NULL }, -EINVAL, NULL },
                { "memory.high", false, { "0\n" }, -EOPNOTSUPP, NULL },
                { "memory.swap.max", false, { "9223372036854771712\n", "67108864\n" }, 0, "max" },
                { "memory.swap.max", false, { "9223372036854771712\n", "9223372036854771712\n" }, 0, "max" },
                { "memory.swap.max", false, { "134217728\n", "67108864\n" }, 0, "67108864" },
                { "memory.swap.max", false, { "67108864\n", "67108864\n" }, 0, "0" },
                { "memory.swap.max", false, { "67108864\n", "134217728\n" }, 0, "0" },
                { "memory.swap.max", false, { "134217728\n", NULL }, -EINVAL, NULL },
                { "cpu.max", false, { "-1\n", "100000\n" }, 0, "max 100000" },
                { "cpu.max", false, { "50000\n", "100000\n" }, 0, "50000 100000" },
                { "cpu.max", false, { "50000\n", "x\n" }, -EBADMSG, NULL },
                { "cpu.weight", false, { "1024\n" }, 0, "100" },
                { "cpu.weight", false, { "2\n" }, 0, "1" },
                { "cpu.weight", false, { "262144\n" }, 0, "10000" },
                { "cpu.weight", false, { "512\n" }, 0, "50" },
                { "pids.max", false, { "max\n" }, 0, "max" },
                { "pids.max", false, { "512\n" }, 0, "512" },
                { "pids.max", false, { "0\n" }, 0, "0" },
                { "pids.max", false, { "maxx\n" }, -EBADMSG, NULL },
                { "cpuset.cpus", false, { "0-3,5\n" }, 0, "0-3,5" },
                { "cpuset.cpus", false, { "0-1\n" }, 0, "0-1" },
                { "cpuset.cpus", false, { "\n" }, 0, "" },
                { "cpuset.mems", false, { "0\n" }, 0, "0" },
                { "cpuset.cpus", false, { "0-3\nx" }, -EBADMSG, NULL },
                { "io.max", false, { "8:0 1048576\n8:16 2097152\n", "8:16 4096\n", "", "8:0 100\n" }, 0,
                  "8:0 rbps=1048576 wbps=max riops=max wiops=100\n8:16 rbps=2097152 wbps=4096 riops=max wiops=max" },
                { "io.max", false, { "259:0 10\n8:0 20\n", NULL, NULL, NULL }, 0,
                  "8:0 rbps=20 wbps=max riops=max wiops=max\n259:0 rbps=10 wbps=max riops=max wiops=max" },
                { "io.max", false, { "", "", "", "" }, 0, "" },
                { "io.max", false, { "8:0 18446744073709551615\n", NULL, "8:0 4294967295\n", NULL }, 0,
                  "8:0 rbps=max wbps=max riops=max wiops=max" },
                { "io.max", false, { "8:0 x\n" }, -EBADMSG, NULL },
                { "io.max", false, { "sda 1\n" }, -EBADMSG, NULL },
                { "io.weight", false, { "500\n", "8:0 1000\n" }, 0, "default 100\n8:0 200" },
                { "io.weight", false, { "500\n", NULL }, 0, "default 100" },
                { "io.weight", false, { "1000\n", "8:16 10\n8:0 500\n" }, 0, "default 200\n8:0 100\n8:16 2" },
                { "io.weight", true, { "100\n", "default 100\n8:0 181\n" }, 0, "default 100\n8:0 991" },
                { "io.weight", true, { "109\n", "default 109\n" }, 0, "default 199" },
                { "io.weight", true, { "1\n", "8:0 1000\n" }, 0, "default 1\n8:0 10000" },
                { "io.weight", true, { "default 50\n", NULL }, 0, "default 50" },
                { "io.weight", false, { NULL, NULL }, -EINVAL, NULL },
        };
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const FromV1Case *c = &cases[i];
                char buf[512], shown[128];
                int r = knob_from_v1_sources(knob_lookup(c->key)->id, c->bfq, c->texts, buf, sizeof buf);

                if (r != (c->ret == 0 ? (int) strlen(c->text) : c->ret) || (c->ret == 0 && !streq(buf, c->text))) {
                        print_message("# %s from '%s': %d '%s'\n", c->key, show(c->texts[0] ?: "(null)", shown, sizeof shown),
                                      r, r >= 0 ? show(buf, shown, sizeof shown) : "");
                        failed++;
                }
        }
        assert_int_equal(failed, 0);
}

static void test_from_v1_wrappers(void **state) {
        const char *files[4];
        char buf[64];

        assert_int_equal(knob_from_v1(KNOB_CPU_MAX, "20000\n", "100000\n", buf, sizeof buf), 12);
        assert_string_equal(buf, "20000 100000");
        assert_int_equal(knob_from_v1(KNOB_IO_WEIGHT, "500\n", "8:0 250\n", buf, sizeof buf), 18);
        assert_string_equal(buf, "default 100\n8:0 50");
        assert_int_equal(knob_from_v1(KNOB_IO_MAX, "8:0 1\n", NULL, buf, sizeof buf), -EINVAL);
        assert_int_equal(knob_from_v1(KNOB_MEMORY_MAX, "9223372036854771712\n", NULL, buf, 3), -ENOBUFS);
        assert_int_equal(knob_from_v1(KNOB_MEMORY_MAX, "9223372036854771712\n", NULL, buf, 4), 3);
        assert_int_equal(knob_from_v1(_KNOB_MAX, "1\n", NULL, buf, sizeof buf), -EINVAL);

        assert_int_equal(knob_v1_sources(KNOB_IO_WEIGHT, true, files), 2);
        assert_string_equal(files[0], "blkio.bfq.weight");
        assert_string_equal(files[1], "blkio.bfq.weight_device");
        assert_null(files[2]);
        assert_int_equal(knob_v1_sources(KNOB_IO_MAX, false, files), 4);
        assert_string_equal(files[3], "blkio.throttle.write_iops_device");
        assert_int_equal(knob_v1_sources(KNOB_MEMORY_HIGH, false, files), 0);
        assert_null(files[0]);
        assert_int_equal(knob_v1_sources(_KNOB_INVALID, false, files), -EINVAL);
}

static void test_memsw(void **state) {
        KnobV1Write w;
        KnobValue v;

        assert_int_equal(knob_parse("memory.swap.max", "1G", &v, NULL), 0);
        assert_int_equal(knob_v1_memsw(&v, "1073741824\n", &w), 0);
        assert_string_equal(w.file, "memory.memsw.limit_in_bytes");
        assert_string_equal(w.value, "2147483648");
        assert_int_equal(knob_v1_memsw(&v, "9223372036854771712\n", &w), 0);
        assert_string_equal(w.value, "-1");
        assert_int_equal(knob_v1_memsw(&v, "junk\n", &w), -EBADMSG);

        assert_int_equal(knob_parse("memory.swap.max", "0", &v, NULL), 0);
        assert_int_equal(knob_v1_memsw(&v, "67108864\n", &w), 0);
        assert_string_equal(w.value, "67108864");

        assert_int_equal(knob_parse("memory.swap.max", "max", &v, NULL), 0);
        assert_int_equal(knob_v1_memsw(&v, "67108864\n", &w), 0);
        assert_string_equal(w.value, "-1");

        assert_int_equal(knob_parse("memory.swap.max", "18446744073709551614", &v, NULL), 0);
        assert_int_equal(knob_v1_memsw(&v, "1\n", &w), 0);
        assert_string_equal(w.value, "-1");
}

/* ---- docs/properties.md against the table ---- */

static char *read_properties_md(void) {
        const char *path = getenv("CGD_PROPERTIES_MD") ?: "docs/properties.md";
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t size = 0;

        if (!f)
                fail_msg("cannot open %s (run from the source tree or set CGD_PROPERTIES_MD)", path);
        assert_true(getdelim(&text, &size, '\0', f) > 0);
        fclose(f);
        return text;
}

/* The range column as the code says it: "MIN..MAX", ", or max" where max is taken. */
static void expected_range(const KnobInfo *info, char *buf, size_t size) {
        bool takes_max = info->kind == KNOB_KIND_BYTES || info->kind == KNOB_KIND_COUNT ||
                info->kind == KNOB_KIND_CPU_MAX || info->kind == KNOB_KIND_IO_MAX;

        snprintf(buf, size, "%" PRIu64 "..%" PRIu64 "%s", info->min, info->max, takes_max ? ", or max" : "");
}

static void expected_v1_files(KnobId id, char *buf, size_t size) {
        const char *files[4];
        int n = knob_v1_sources(id, false, files);
        size_t o = 0;

        buf[0] = '\0';
        if (n == 0)
                snprintf(buf, size, "none");
        for (int i = 0; i < n; i++)
                o += (size_t) snprintf(buf + o, size - o, "%s`%s`", i ? ", " : "", files[i]);
}

/* Splits one "| a | b | ... |" row into trimmed cells, in place. */
static size_t split_row(char *line, char *cells[], size_t max) {
        size_t n = 0;
        char *p = line + 1, *bar;

        while (n < max && (bar = strchr(p, '|'))) {
                char *s = p, *e = bar;

                while (*s == ' ')
                        s++;
                while (e > s && e[-1] == ' ')
                        e--;
                *e = '\0';
                cells[n++] = s;
                p = bar + 1;
        }
        return n;
}

/* A row of the "Usage" table: key, v1 files, text, description. */
static unsigned check_usage_row(char **cells, size_t n, const UsageInfo *info, unsigned seen[static _USAGE_MAX]) {
        char want[512];
        size_t o = 0;
        unsigned failed = 0;

        if (n != 4) {
                print_message("# docs/properties.md: usage row of %s with %zu cells\n", info->key, n);
                return 1;
        }
        seen[info->id]++;
        want[0] = '\0';
        for (size_t i = 0; i < USAGE_SOURCES_MAX && info->v1[i].file; i++)
                o += (size_t) snprintf(want + o, sizeof want - o, "%s%s`%s`", i ? ", " : "",
                                       info->v1[i].unified ? "cgroup2's " : "", info->v1[i].file);
        if (!streq(cells[1], want)) {
                print_message("# docs/properties.md: %s v1 files '%s', the code says '%s'\n", info->key, cells[1], want);
                failed++;
        }
        if (!streq(cells[3], info->doc)) {
                print_message("# docs/properties.md: %s description '%s', the code says '%s'\n", info->key, cells[3],
                              info->doc);
                failed++;
        }
        return failed;
}

static unsigned check_doc_row(char *line, unsigned seen[static _KNOB_MAX], unsigned seen_usage[static _USAGE_MAX]) {
        char *cells[8], key[64], want[512];
        const KnobInfo *info;
        const UsageInfo *usage;
        unsigned failed = 0;
        size_t n = split_row(line, cells, ELEMENTSOF(cells));

        if (sscanf(cells[0], "`%63[^`]`", key) == 1 && (usage = usage_lookup(key)))
                return check_usage_row(cells, n, usage, seen_usage);
        if (n != 7) {
                print_message("# docs/properties.md: row with %zu cells: %s\n", n, line);
                return 1;
        }
        if (sscanf(cells[0], "`%63[^`]`", key) != 1 || !(info = knob_lookup(key))) {
                print_message("# docs/properties.md: '%s' is not a key of the table\n", cells[0]);
                return 1;
        }
        seen[info->id]++;
        expected_range(info, want, sizeof want);
        if (!streq(cells[2], want)) {
                print_message("# docs/properties.md: %s range '%s', the code says '%s'\n", key, cells[2], want);
                failed++;
        }
        expected_v1_files(info->id, want, sizeof want);
        if (!streq(cells[3], want)) {
                print_message("# docs/properties.md: %s v1 files '%s', the code says '%s'\n", key, cells[3], want);
                failed++;
        }
        if (!streq(cells[6], info->doc)) {
                print_message("# docs/properties.md: %s description '%s', the code says '%s'\n", key, cells[6], info->doc);
                failed++;
        }
        return failed;
}

static void test_properties_md(void **state) {
        _cleanup_free_ char *text = read_properties_md();
        unsigned seen[_KNOB_MAX] = {}, seen_usage[_USAGE_MAX] = {}, failed = 0;
        char *line, *save = NULL;

        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (startswith(line, "| `"))
                        failed += check_doc_row(line, seen, seen_usage);
        for (UsageId id = 0; id < _USAGE_MAX; id++)
                if (seen_usage[id] != 1) {
                        print_message("# docs/properties.md: usage key %s has %u rows\n", usage_info(id)->key,
                                      seen_usage[id]);
                        failed++;
                }
        for (KnobId id = 0; id < _KNOB_MAX; id++)
                if (seen[id] != 1) {
                        print_message("# docs/properties.md: %s has %u rows\n", knob_info(id)->key, seen[id]);
                        failed++;
                }
        assert_int_equal(failed, 0);
}

/* ---- usage ---- */

typedef struct UsageCase {
        const char *key;
        int v1;                            /* 0: usage_from_v2(texts[0]), 1: usage_from_v1() */
        const char *texts[USAGE_SOURCES_MAX];
        int ret;                           /* 0 or a negative errno */
        const char *text;
} UsageCase;

/* Texts as the kernel writes them (captured on a hybrid 6.x host and on cgroup2), then ones it
 * would not write. */
static void test_usage(void **state) {
        static const UsageCase cases[] = {
                { "memory.current", 0, { "74727424\n" }, 0, "74727424" },
                { "memory.current", 1, { "74727424\n" }, 0, "74727424" },
                { "memory.current", 0, { "0\n" }, 0, "0" },
                { "memory.current", 0, { "-1\n" }, -EBADMSG, NULL },
                { "memory.current", 0, { "12 \n" }, -EBADMSG, NULL },
                { "memory.current", 0, { "" }, -EBADMSG, NULL },
                { "memory.current", 1, { NULL }, -EINVAL, NULL },
                { "memory.peak", 0, { "2254061568\n" }, 0, "2254061568" },
                { "memory.swap.current", 0, { "4096\n" }, 0, "4096" },
                { "memory.swap.current", 1, { "1052672\n", "1048576\n" }, 0, "4096" },
                { "memory.swap.current", 1, { "1048576\n", "1052672\n" }, 0, "0" }, /* read at two moments */
                { "memory.swap.current", 1, { "1\n", "x\n" }, -EBADMSG, NULL },
                { "pids.current", 1, { "3\n" }, 0, "3" },
                { "cpu.stat", 0,
                  { "usage_usec 602535\nuser_usec 600000\nsystem_usec 2535\ncore_sched.force_idle_usec 0\n"
                    "nr_periods 10\nnr_throttled 2\nthrottled_usec 5000\nnr_bursts 0\nburst_usec 0\n" }, 0,
                  "usage_usec 602535\nuser_usec 600000\nsystem_usec 2535\nnr_periods 10\nnr_throttled 2\n"
                  "throttled_usec 5000\nnr_bursts 0\nburst_usec 0" },
                { "cpu.stat", 0, { "usage_usec 1\nuser_usec 1\nsystem_usec 0\n" }, 0,
                  "usage_usec 1\nuser_usec 1\nsystem_usec 0" },
                { "cpu.stat", 0, { "user_usec 1\n" }, -EBADMSG, NULL },
                { "cpu.stat", 0, { "usage_usec x\n" }, -EBADMSG, NULL },
                { "cpu.stat", 0, { "usage_usec  1\n" }, -EBADMSG, NULL },
                { "cpu.stat", 0, { " 1\n" }, -EBADMSG, NULL },
                /* cpuacct (ns, USER_HZ 100 ticks) with v1's cpu.stat (ns) */
                { "cpu.stat", 1,
                  { "602535123\n", "user 60\nsystem 1\n",
                    "nr_periods 10\nnr_throttled 2\nthrottled_time 5000000\nnr_bursts 0\nburst_time 0\n" }, 0,
                  "usage_usec 602535\nuser_usec 600000\nsystem_usec 10000\nnr_periods 10\nnr_throttled 2\n"
                  "throttled_usec 5000\nnr_bursts 0\nburst_usec 0" },
                { "cpu.stat", 1, { "1000\n", "user 0\nsystem 0\n", NULL }, 0,
                  "usage_usec 1\nuser_usec 0\nsystem_usec 0" },
                /* no cpuacct in the tree: the hybrid host's cgroup2 cpu.stat gives the times */
                { "cpu.stat", 1, { NULL, NULL, "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
                                   "usage_usec 7\nuser_usec 5\nsystem_usec 2\nnr_periods 99\n" }, 0,
                  "usage_usec 7\nuser_usec 5\nsystem_usec 2\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0" },
                { "cpu.stat", 1, { NULL, NULL, NULL, NULL }, -EBADMSG, NULL },
                { "io.stat", 0,
                  { "254:0 rbytes=12288 wbytes=8388608 rios=3 wios=8 dbytes=0 dios=0\n"
                    "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6 cost.vrate=100.00 cost.usage=7\n"
                    "8:16 rbytes=1 wbytes=0 rios=1 wios=0\n" }, 0,
                  "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n"
                  "8:16 rbytes=1 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"
                  "254:0 rbytes=12288 wbytes=8388608 rios=3 wios=8 dbytes=0 dios=0" },
                { "io.stat", 0, { "" }, 0, "" },
                { "io.stat", 0, { "8:0 rbytes=0 wbytes=0 rios=0 wios=0 dbytes=0 dios=0\n" }, 0, "" },
                { "io.stat", 0, { "8:0 rbytes=x\n" }, -EBADMSG, NULL },
                { "io.stat", 0, { "8:0 rbytes\n" }, -EBADMSG, NULL },
                { "io.stat", 0, { "sda rbytes=1\n" }, -EBADMSG, NULL },
                { "io.stat", 0, { "4096:0 rbytes=1\n" }, -EBADMSG, NULL },
                { "io.stat", 1,
                  { "254:0 Read 27621613568\n254:0 Write 11201331200\n254:0 Sync 39535042560\n"
                    "254:0 Async 7934357504\n254:0 Discard 8646455296\n254:0 Total 47469400064\n"
                    "8:0 Read 0\n8:0 Write 0\n8:0 Sync 0\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 0\n"
                    "Total 47469400064\n",
                    "254:0 Read 1609807\n254:0 Write 1168313\n254:0 Sync 3065999\n254:0 Async 244123\n"
                    "254:0 Discard 532002\n254:0 Total 3310122\nTotal 3310122\n" }, 0,
                  "254:0 rbytes=27621613568 wbytes=11201331200 rios=1609807 wios=1168313 dbytes=8646455296 "
                  "dios=532002" },
                { "io.stat", 1, { "Total 0\n", "Total 0\n" }, 0, "" },
                { "io.stat", 1, { "8:0 Read x\n", "" }, -EBADMSG, NULL },
                { "io.stat", 1, { "8:0 Flush 1\n", "" }, -EBADMSG, NULL },
                { "io.stat", 1, { "8:0 Read 1\n", NULL }, -EINVAL, NULL },
                { "cpuset.cpus.effective", 1, { "0-1\n" }, 0, "0-1" },
                { "cpuset.cpus.effective", 0, { "0,1,2,5\n" }, 0, "0-2,5" },
                { "cpuset.cpus.effective", 0, { "\n" }, 0, "" },
                { "cpuset.mems.effective", 0, { "0\n" }, 0, "0" },
                { "cpuset.mems.effective", 0, { "a\n" }, -EBADMSG, NULL },
        };
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const UsageCase *c = &cases[i];
                UsageId id = usage_lookup(c->key)->id;
                char buf[512], shown[128];
                int r = c->v1 ? usage_from_v1(id, c->texts, 100, buf, sizeof buf)
                              : usage_from_v2(id, c->texts[0], buf, sizeof buf);

                if (r != (c->ret == 0 ? (int) strlen(c->text) : c->ret) || (c->ret == 0 && !streq(buf, c->text))) {
                        print_message("# case %zu: %s from '%s': %d '%s'\n", i, c->key,
                                      show(c->texts[0] ?: "(null)", shown, sizeof shown), r,
                                      r >= 0 ? show(buf, shown, sizeof shown) : "");
                        failed++;
                }
        }
        assert_int_equal(failed, 0);
}

/* The table, and the refusals a usage key gets where a property is expected. */
static void test_usage_table(void **state) {
        CgdRefusal r = {};
        KnobValue v;
        char buf[8];

        for (UsageId id = 0; id < _USAGE_MAX; id++) {
                const UsageInfo *info = usage_info(id);
                assert_non_null(info);
                assert_int_equal(info->id, id);
                assert_ptr_equal(usage_lookup(info->key), info);
                assert_null(knob_lookup(info->key)); /* never a property too */
                assert_non_null(info->v1[0].file);
                assert_int_equal(knob_parse(info->key, "1", &v, &r), -EINVAL);
                assert_int_equal(r.error, CGD_ERROR_INVALID_PROPERTY);
                assert_non_null(strstr(r.message, "is a usage statistic"));
        }
        assert_null(usage_info(_USAGE_MAX));
        assert_null(usage_lookup(NULL));
        assert_null(usage_lookup("memory.max"));
        assert_int_equal(usage_from_v2(USAGE_MEMORY_CURRENT, "123456789\n", buf, sizeof buf), -ENOBUFS);
        assert_int_equal(usage_from_v2(USAGE_MEMORY_CURRENT, "1234567\n", buf, sizeof buf), 7);
        assert_int_equal(usage_from_v2(_USAGE_MAX, "1\n", buf, sizeof buf), -EINVAL);
        assert_int_equal(usage_from_v1(_USAGE_MAX, (const char *[USAGE_SOURCES_MAX]) { "1\n" }, 100, buf, sizeof buf),
                         -EINVAL);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_table),
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_junk_every_key),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_long_cpu_list),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_format_buffer),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_random_strings),
        cmocka_unit_test(test_exceeds),
        cmocka_unit_test(test_systemd_formulas),
        cmocka_unit_test(test_to_v1),
        cmocka_unit_test(test_from_v1),
        cmocka_unit_test(test_from_v1_wrappers),
        cmocka_unit_test(test_memsw),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_usage_table),
        cmocka_unit_test(test_properties_md),
};

TEST_MAIN(tests, NULL, NULL)
