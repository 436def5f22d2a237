/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The property table and everything that reads or writes a property's text: the strict v2
 * grammar (what a client may send), the canonical v2 rendering (what is written and read back),
 * the ceiling comparison of policies, and the conversions to and from cgroup v1 files with
 * systemd's published formulas. The parser is the first code a client's value meets, so it is
 * written as an allowlist: one canonical spelling per number, no byte outside the grammar, every
 * range the kernel has (and a few it lacks) checked before anything is written. Pure functions;
 * docs/properties.md is the same table for people and tests/unit/test-knob.c keeps the two equal.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "cghost.h"
#include "knob.h"
#include "macro.h"

/* cgroupfs takes one page per write; a longer value would be cut, not refused, by the kernel. */
#define VALUE_MAX 4095

#define BYTES_MAX (UINT64_MAX - 1)                 /* UINT64_MAX is KNOB_UNLIMITED */
#define PIDS_LIMIT_MAX UINT64_C(4194304)           /* PID_MAX_LIMIT; pids_max_write() refuses more */
#define CPU_QUOTA_MIN UINT64_C(1000)               /* min_cfs_quota_period, 1 ms */
#define CPU_QUOTA_MAX ((UINT64_C(1) << 44) - 1)    /* MAX_BW: max_cfs_runtime in us (203 days) */
#define CPU_PERIOD_MIN UINT64_C(1000)              /* min_cfs_quota_period */
#define CPU_PERIOD_MAX UINT64_C(1000000)           /* max_cfs_quota_period, 1 s */
#define CPU_PERIOD_DEFAULT UINT64_C(100000)
/* v1 keeps iops in 32 bits and would store 2^32+5 as 5; UINT32_MAX is the kernel's own "max". */
#define IOPS_MAX ((uint64_t) UINT32_MAX - 1)
#define DEV_MAJOR_MAX 4095u                        /* dev_t: 12 bits of major, 20 of minor */
#define DEV_MINOR_MAX ((1u << 20) - 1)
/* v1 memory files show "unlimited" as PAGE_COUNTER_MAX pages: 9223372036854771712 with 4 KiB
 * pages, a little less with larger ones. No real limit comes near 2^62 bytes. */
#define V1_UNLIMITED (UINT64_C(1) << 62)

/* systemd's constants (src/basic/cgroup-util.h). */
#define CGROUP_WEIGHT_MIN UINT64_C(1)
#define CGROUP_WEIGHT_MAX UINT64_C(10000)
#define CGROUP_WEIGHT_DEFAULT UINT64_C(100)
#define CGROUP_CPU_SHARES_MIN UINT64_C(2)
#define CGROUP_CPU_SHARES_MAX UINT64_C(262144)
#define CGROUP_CPU_SHARES_DEFAULT UINT64_C(1024)
#define CGROUP_BLKIO_WEIGHT_MIN UINT64_C(10)
#define CGROUP_BLKIO_WEIGHT_MAX UINT64_C(1000)
#define CGROUP_BLKIO_WEIGHT_DEFAULT UINT64_C(500)
#define CGROUP_BFQ_WEIGHT_MIN UINT64_C(1)
#define CGROUP_BFQ_WEIGHT_MAX UINT64_C(1000)
#define CGROUP_BFQ_WEIGHT_DEFAULT UINT64_C(100)

#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

static const KnobInfo knob_table[_KNOB_MAX] = {
        [KNOB_MEMORY_MAX] = {
                KNOB_MEMORY_MAX, "memory.max", KNOB_KIND_BYTES, CG_CTRL_MEMORY, 0, BYTES_MAX,
                "memory.limit_in_bytes",
                "Hard limit on the group's memory; above it the kernel reclaims, then OOM-kills.",
        },
        [KNOB_MEMORY_HIGH] = {
                KNOB_MEMORY_HIGH, "memory.high", KNOB_KIND_BYTES, CG_CTRL_MEMORY, 0, BYTES_MAX,
                NULL,
                "Throttle limit: above it allocations are slowed down and reclaimed, never OOM-killed.",
        },
        [KNOB_MEMORY_LOW] = {
                KNOB_MEMORY_LOW, "memory.low", KNOB_KIND_BYTES, CG_CTRL_MEMORY, 0, BYTES_MAX,
                NULL,
                "Best-effort protection: memory below it is reclaimed only when nothing else is left.",
        },
        [KNOB_MEMORY_MIN] = {
                KNOB_MEMORY_MIN, "memory.min", KNOB_KIND_BYTES, CG_CTRL_MEMORY, 0, BYTES_MAX,
                NULL,
                "Hard protection: memory below it is never reclaimed.",
        },
        [KNOB_MEMORY_SWAP_MAX] = {
                KNOB_MEMORY_SWAP_MAX, "memory.swap.max", KNOB_KIND_BYTES, CG_CTRL_MEMORY, 0, BYTES_MAX,
                "memory.memsw.limit_in_bytes",
                "Limit on the group's swap use.",
        },
        [KNOB_CPU_MAX] = {
                KNOB_CPU_MAX, "cpu.max", KNOB_KIND_CPU_MAX, CG_CTRL_CPU, CPU_QUOTA_MIN, CPU_QUOTA_MAX,
                "cpu.cfs_quota_us",
                "CPU bandwidth: at most QUOTA microseconds of CPU time in every PERIOD.",
        },
        [KNOB_CPU_WEIGHT] = {
                KNOB_CPU_WEIGHT, "cpu.weight", KNOB_KIND_WEIGHT, CG_CTRL_CPU, CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX,
                "cpu.shares",
                "Relative share of CPU time under contention; the default is 100.",
        },
        [KNOB_PIDS_MAX] = {
                KNOB_PIDS_MAX, "pids.max", KNOB_KIND_COUNT, CG_CTRL_PIDS, 1, PIDS_LIMIT_MAX,
                "pids.max",
                "Limit on the number of tasks (processes and threads) in the group.",
        },
        [KNOB_IO_MAX] = {
                KNOB_IO_MAX, "io.max", KNOB_KIND_IO_MAX, CG_CTRL_IO, 1, BYTES_MAX,
                "blkio.throttle.read_bps_device",
                "Per-device limits on bytes and operations per second; iops at most 4294967294.",
        },
        [KNOB_IO_WEIGHT] = {
                KNOB_IO_WEIGHT, "io.weight", KNOB_KIND_IO_WEIGHT, CG_CTRL_IO, CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX,
                "blkio.weight",
                "Relative share of disk time under contention (default 100); needs BFQ or io.cost.",
        },
        [KNOB_CPUSET_CPUS] = {
                KNOB_CPUSET_CPUS, "cpuset.cpus", KNOB_KIND_CPUS, CG_CTRL_CPUSET, 0, KNOB_CPUS_MAX - 1,
                "cpuset.cpus",
                "CPUs the group may run on; empty means the parent's (v2 only).",
        },
        [KNOB_CPUSET_MEMS] = {
                KNOB_CPUSET_MEMS, "cpuset.mems", KNOB_KIND_CPUS, CG_CTRL_CPUSET, 0, KNOB_CPUS_MAX - 1,
                "cpuset.mems",
                "Memory nodes the group may allocate from; empty means the parent's (v2 only).",
        },
};

/* What knob_from_v1_sources() reads, [0] being the table's v1_file. */
static const char * const v1_files[_KNOB_MAX][4] = {
        [KNOB_MEMORY_MAX] = { "memory.limit_in_bytes" },
        [KNOB_MEMORY_SWAP_MAX] = { "memory.memsw.limit_in_bytes", "memory.limit_in_bytes" },
        [KNOB_CPU_MAX] = { "cpu.cfs_quota_us", "cpu.cfs_period_us" },
        [KNOB_CPU_WEIGHT] = { "cpu.shares" },
        [KNOB_PIDS_MAX] = { "pids.max" },
        [KNOB_IO_MAX] = {
                "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
        },
        [KNOB_IO_WEIGHT] = { "blkio.weight", "blkio.weight_device" },
        [KNOB_CPUSET_CPUS] = { "cpuset.cpus" },
        [KNOB_CPUSET_MEMS] = { "cpuset.mems" },
};
static const char * const v1_bfq_weight_files[2] = { "blkio.bfq.weight", "blkio.bfq.weight_device" };

static const char * const io_limit_keys[_IO_LIMIT_MAX] = { "rbps", "wbps", "riops", "wiops" };

static const char * const kind_grammar[_KNOB_KIND_MAX] = {
        [KNOB_KIND_BYTES] = "not a byte value (a decimal number with an optional K, M, G or T suffix, or 'max')",
        [KNOB_KIND_CPU_MAX] = "not a CPU bandwidth ('QUOTA PERIOD', 'QUOTA', 'max PERIOD' or 'max', "
                              "decimal microseconds, one space between)",
        [KNOB_KIND_WEIGHT] = "not a weight (a decimal number)",
        [KNOB_KIND_COUNT] = "not a count (a decimal number, or 'max')",
        [KNOB_KIND_IO_MAX] = "not an io.max line ('MAJ:MIN' then one or more of rbps=N, wbps=N, riops=N, "
                             "wiops=N, each N a decimal number or 'max', one space between)",
        [KNOB_KIND_IO_WEIGHT] = "not an io.weight line ('N', 'default N', 'MAJ:MIN N' or 'MAJ:MIN default')",
        [KNOB_KIND_CPUS] = "not a list (ascending decimal numbers and ranges such as '0-3,5', or empty)",
};

const KnobInfo *knob_info(KnobId id) {
        return id >= 0 && id < _KNOB_MAX ? &knob_table[id] : NULL;
}

const KnobInfo *knob_lookup(const char *key) {
        if (!key)
                return NULL;
        for (KnobId id = 0; id < _KNOB_MAX; id++)
                if (streq(knob_table[id].key, key))
                        return &knob_table[id];
        return NULL;
}

static bool kind_takes_max(KnobKind kind) {
        return kind == KNOB_KIND_BYTES || kind == KNOB_KIND_COUNT || kind == KNOB_KIND_CPU_MAX ||
                kind == KNOB_KIND_IO_MAX;
}

/* ---- scanning ---- */

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* A canonical decimal number: no sign, no leading zero but in "0" itself (the kernel reads "010"
 * as octal, so a client and the kernel could disagree about it). Saturates at UINT64_MAX, which
 * no range includes: an overflow is refused as OutOfRange once the rest of the grammar holds. */
static bool scan_number(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (!is_digit(*s) || (*s == '0' && is_digit(s[1])))
                return false;
        for (; is_digit(*s); s++) {
                unsigned d = (unsigned) (*s - '0');
                v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
        }
        *p = s;
        *ret = v;
        return true;
}

static bool scan_char(const char **p, char c) {
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

/* A word ending at a space or at the end, so that "maxi" is not "max". */
static bool scan_word(const char **p, const char *word) {
        const char *e = startswith(*p, word);

        if (!e || (*e != '\0' && *e != ' '))
                return false;
        *p = e;
        return true;
}

/* A number (returns 0) or "max" (returns 1, *ret = KNOB_UNLIMITED); -EINVAL for neither. The two
 * stay apart because an overflowing number saturates at UINT64_MAX, which is KNOB_UNLIMITED. */
static int scan_limit(const char **p, uint64_t *ret) {
        if (scan_word(p, "max")) {
                *ret = KNOB_UNLIMITED;
                return 1;
        }
        return scan_number(p, ret) ? 0 : -EINVAL;
}

static bool scan_devnum(const char **p, uint64_t *ret_major, uint64_t *ret_minor) {
        return scan_number(p, ret_major) && scan_char(p, ':') && scan_number(p, ret_minor);
}

/* ---- refusals ---- */

#define QUOTE_INPUT_MAX 64
#define QUOTE_SIZE (1 + QUOTE_INPUT_MAX * 4 + 1 + 3 + 1)

/* A client's text in quotes for a message: at most 64 bytes of it, every byte that is not
 * printable ASCII (or is a quote or backslash) escaped, so that a refusal stays one readable line
 * whatever was sent and a log line cannot be forged through it. */
static const char *quote(const char *s, char buf[static QUOTE_SIZE]) {
        size_t o = 0, i;

        buf[o++] = '\'';
        for (i = 0; s[i] && i < QUOTE_INPUT_MAX; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c == '\n')
                        o += (size_t) sprintf(buf + o, "\\n");
                else if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
                        o += (size_t) sprintf(buf + o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        buf[o++] = '\'';
        if (s[i])
                o += (size_t) sprintf(buf + o, "...");
        buf[o] = '\0';
        return buf;
}

typedef struct Parse {
        const KnobInfo *info;
        const char *value;
        const char *p;          /* how far the grammar got */
        CgdRefusal *refusal;
} Parse;

static int refuse_value(const Parse *x, CgdError e, const char *fmt, ...) _printf_(3, 4);
static int refuse_value(const Parse *x, CgdError e, const char *fmt, ...) {
        char why[320], q[QUOTE_SIZE];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        return cgd_refuse(x->refusal, e, "%s=%s: %s", x->info->key, quote(x->value, q), why);
}

static int refuse_grammar(const Parse *x) {
        return refuse_value(x, CGD_ERROR_INVALID_VALUE, "%s", kind_grammar[x->info->kind]);
}

/* what: "" or "quota " and the like; unit: "" or " us". */
static int check_range(const Parse *x, const char *what, uint64_t n, uint64_t min, uint64_t max,
                       bool takes_max, const char *unit) {
        if (n >= min && n <= max)
                return 0;
        return refuse_value(x, CGD_ERROR_OUT_OF_RANGE, "%sout of range (%" PRIu64 "..%" PRIu64 "%s%s)",
                            what, min, max, unit, takes_max ? ", or 'max'" : "");
}

static int check_devnum(const Parse *x, uint64_t major, uint64_t minor) {
        if (major <= DEV_MAJOR_MAX && minor <= DEV_MINOR_MAX)
                return 0;
        return refuse_value(x, CGD_ERROR_OUT_OF_RANGE,
                            "device number out of range (major 0..%u, minor 0..%u)", DEV_MAJOR_MAX, DEV_MINOR_MAX);
}

static bool key_never_writable(const char *key) {
        static const char * const prefixes[] = { "cgroup.", "devices.", "io.cost." };
        static const char * const names[] = { "release_agent", "notify_on_release", "cpuset.cpus.partition" };

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(key, prefixes[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(key, names[i]))
                        return true;
        return false;
}

/* The v2 key a v1 file name stands for, so a v1-minded client is told what to write instead. */
static const char *v2_key_of_v1_file(const char *key) {
        for (KnobId id = 0; id < _KNOB_MAX; id++)
                for (size_t i = 0; i < 4 && v1_files[id][i]; i++)
                        if (streq(v1_files[id][i], key))
                                return knob_table[id].key;
        for (size_t i = 0; i < ELEMENTSOF(v1_bfq_weight_files); i++)
                if (streq(v1_bfq_weight_files[i], key))
                        return knob_table[KNOB_IO_WEIGHT].key;
        return NULL;
}

static int refuse_key(const char *key, CgdRefusal *r) {
        const CgdError e = CGD_ERROR_INVALID_PROPERTY;
        char q[QUOTE_SIZE];
        const char *v2;

        (void) quote(key, q);
        if (streq(key, "cgroup.procs") || streq(key, "cgroup.threads") || streq(key, "tasks"))
                return cgd_refuse(r, e, "%s is never writable: processes move only through MoveProcess", q);
        if (usage_lookup(key))
                return cgd_refuse(r, e, "%s is a usage statistic: GetProperties reads it, nothing sets it", q);
        if (key_never_writable(key))
                return cgd_refuse(r, e, "%s is never writable by a container (not a property)", q);
        v2 = v2_key_of_v1_file(key);
        if (v2)
                return cgd_refuse(r, e, "%s is a cgroup v1 file; properties are v2 keys (use '%s')", q, v2);
        return cgd_refuse(r, e, "%s is not a property (see GetPolicy for the allowed keys)", q);
}

/* ---- parsing, one function per kind ---- */

/* BYTES, COUNT and WEIGHT: one number, a K/M/G/T suffix only for bytes (memparse() takes upper
 * and lower case alike), "max" where unlimited means something. */
static int parse_number(Parse *x, KnobValue *v) {
        static const char suffixes[] = "KkMmGgTt";
        const KnobKind kind = x->info->kind;
        const char *s;
        uint64_t n;
        int r;

        if (kind_takes_max(kind) && streq(x->p, "max")) {
                v->bytes = KNOB_UNLIMITED;
                return 0;
        }
        if (!scan_number(&x->p, &n))
                return refuse_grammar(x);
        if (kind == KNOB_KIND_BYTES && *x->p != '\0' && (s = strchr(suffixes, *x->p))) {
                unsigned shift = 10 * (unsigned) ((s - suffixes) / 2 + 1);

                n = n > (UINT64_MAX >> shift) ? UINT64_MAX : n << shift;
                x->p++;
        }
        if (*x->p != '\0')
                return refuse_grammar(x);
        r = check_range(x, "", n, x->info->min, x->info->max, kind_takes_max(kind),
                        kind == KNOB_KIND_BYTES ? " bytes" : "");
        if (r < 0)
                return r;
        v->bytes = n; /* bytes, count and weight share their storage */
        return 0;
}

static int parse_cpu_max(Parse *x, KnobValue *v) {
        uint64_t quota, period = CPU_PERIOD_DEFAULT;
        int unlimited, r;

        unlimited = scan_limit(&x->p, &quota);
        if (unlimited < 0)
                return refuse_grammar(x);
        if (scan_char(&x->p, ' ') && !scan_number(&x->p, &period))
                return refuse_grammar(x);
        if (*x->p != '\0')
                return refuse_grammar(x);
        if (!unlimited) {
                r = check_range(x, "quota ", quota, CPU_QUOTA_MIN, CPU_QUOTA_MAX, true, " us");
                if (r < 0)
                        return r;
        }
        r = check_range(x, "period ", period, CPU_PERIOD_MIN, CPU_PERIOD_MAX, false, " us");
        if (r < 0)
                return r;
        v->cpu.quota_us = quota;
        v->cpu.period_us = period;
        return 0;
}

static int scan_io_key(const char **p) {
        for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                const char *e = startswith(*p, io_limit_keys[l]);

                if (e && *e == '=') {
                        *p = e + 1;
                        return l;
                }
        }
        return -ENOENT;
}

/* set[l]: 0 not named, 1 a number, 2 "max". */
static int check_io_limits(const Parse *x, const int set[static _IO_LIMIT_MAX], const uint64_t n[static _IO_LIMIT_MAX]) {
        for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                char what[16];
                int r;

                if (set[l] != 1)
                        continue;
                (void) snprintf(what, sizeof what, "%s ", io_limit_keys[l]);
                r = check_range(x, what, n[l], 1, l >= IO_RIOPS ? IOPS_MAX : BYTES_MAX, true, "");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_io_max(Parse *x, KnobValue *v) {
        uint64_t major, minor, n[_IO_LIMIT_MAX] = {};
        int set[_IO_LIMIT_MAX] = {}, r;
        bool any = false;

        if (!scan_devnum(&x->p, &major, &minor))
                return refuse_grammar(x);
        while (scan_char(&x->p, ' ')) {
                int l = scan_io_key(&x->p);

                if (l < 0)
                        return refuse_value(x, CGD_ERROR_INVALID_VALUE,
                                            "unknown limit (each limit is rbps=N, wbps=N, riops=N or wiops=N, "
                                            "N a decimal number or 'max')");
                if (set[l])
                        return refuse_value(x, CGD_ERROR_INVALID_VALUE, "'%s' given twice", io_limit_keys[l]);
                r = scan_limit(&x->p, &n[l]);
                if (r < 0)
                        return refuse_grammar(x);
                set[l] = 1 + r;
                any = true;
        }
        if (!any || *x->p != '\0')
                return refuse_grammar(x);
        r = check_devnum(x, major, minor);
        if (r < 0)
                return r;
        r = check_io_limits(x, set, n);
        if (r < 0)
                return r;
        v->io_max.major = (unsigned) major;
        v->io_max.minor = (unsigned) minor;
        for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                v->io_max.set[l] = set[l] != 0;
                v->io_max.limit[l] = set[l] ? n[l] : KNOB_UNLIMITED;
        }
        return 0;
}

static int parse_io_weight(Parse *x, KnobValue *v) {
        uint64_t major = 0, minor = 0, w = 0;
        bool device = false, reset = false;
        int r;

        if (scan_word(&x->p, "default")) {
                if (!scan_char(&x->p, ' ') || !scan_number(&x->p, &w))
                        return refuse_grammar(x);
        } else if (!scan_number(&x->p, &w))
                return refuse_grammar(x);
        else if (scan_char(&x->p, ':')) {
                device = true;
                major = w;
                if (!scan_number(&x->p, &minor) || !scan_char(&x->p, ' '))
                        return refuse_grammar(x);
                reset = scan_word(&x->p, "default");
                if (!reset && !scan_number(&x->p, &w))
                        return refuse_grammar(x);
        }
        if (*x->p != '\0')
                return refuse_grammar(x);
        if (device) {
                r = check_devnum(x, major, minor);
                if (r < 0)
                        return r;
        }
        if (!reset) {
                r = check_range(x, "", w, x->info->min, x->info->max, false, "");
                if (r < 0)
                        return r;
        }
        v->io_weight.has_device = device;
        v->io_weight.major = (unsigned) major;
        v->io_weight.minor = (unsigned) minor;
        v->io_weight.weight = reset ? 0 : w;
        return 0;
}

static void cpus_set(KnobValue *v, unsigned n) {
        v->cpus.bits[n / 64] |= UINT64_C(1) << (n % 64);
}

static bool cpus_test(const KnobValue *v, unsigned n) {
        return n < KNOB_CPUS_MAX && (v->cpus.bits[n / 64] & (UINT64_C(1) << (n % 64)));
}

/* Ascending items only, so that one set has few spellings and a list cannot grow by repeating
 * itself; the empty list is the empty set (v2: use the parent's). */
static int parse_cpus(Parse *x, KnobValue *v) {
        uint64_t prev_end = 0;
        bool first = true, too_big = false;

        while (*x->p != '\0') {
                uint64_t a, b;

                if (!first && !scan_char(&x->p, ','))
                        return refuse_grammar(x);
                if (!scan_number(&x->p, &a))
                        return refuse_grammar(x);
                b = a;
                if (scan_char(&x->p, '-') && !scan_number(&x->p, &b))
                        return refuse_grammar(x);
                if (b < a)
                        return refuse_value(x, CGD_ERROR_INVALID_VALUE, "a range runs backwards (write A-B with A <= B)");
                if (!first && a <= prev_end)
                        return refuse_value(x, CGD_ERROR_INVALID_VALUE,
                                            "items not in ascending order (each must start above the previous one's end)");
                if (b >= KNOB_CPUS_MAX)
                        too_big = true;
                else
                        for (uint64_t n = a; n <= b; n++)
                                cpus_set(v, (unsigned) n);
                prev_end = b;
                first = false;
        }
        if (too_big)
                return check_range(x, "number ", UINT64_MAX, 0, KNOB_CPUS_MAX - 1, false, "");
        return 0;
}

/* Before any grammar: a value is one line of bounded length. A newline would let a client put a
 * second line into one cgroupfs write (cgroupfs splits at newlines). */
static int check_text(const Parse *x) {
        size_t n = strnlen(x->value, VALUE_MAX + 1);

        if (n > VALUE_MAX)
                return refuse_value(x, CGD_ERROR_INVALID_VALUE, "longer than %d bytes", VALUE_MAX);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) x->value[i];

                if (c < 0x20 || c == 0x7f)
                        return refuse_value(x, CGD_ERROR_INVALID_VALUE,
                                            "contains a newline or another control character (a value is one line)");
        }
        return 0;
}

int knob_parse(const char *key, const char *value, KnobValue *ret, CgdRefusal *ret_refusal) {
        static int (* const parsers[_KNOB_KIND_MAX])(Parse *x, KnobValue *v) = {
                [KNOB_KIND_BYTES] = parse_number,
                [KNOB_KIND_COUNT] = parse_number,
                [KNOB_KIND_WEIGHT] = parse_number,
                [KNOB_KIND_CPU_MAX] = parse_cpu_max,
                [KNOB_KIND_IO_MAX] = parse_io_max,
                [KNOB_KIND_IO_WEIGHT] = parse_io_weight,
                [KNOB_KIND_CPUS] = parse_cpus,
        };
        const KnobInfo *info;
        KnobValue v;
        int r;

        assert(key);
        assert(value);
        assert(ret);

        info = knob_lookup(key);
        if (!info)
                return refuse_key(key, ret_refusal);

        Parse x = { .info = info, .value = value, .p = value, .refusal = ret_refusal };
        r = check_text(&x);
        if (r < 0)
                return r;

        /* Zeroed as a whole, padding included, so that equal values compare equal with memcmp(). */
        memset(&v, 0, sizeof v);
        v.id = info->id;
        r = parsers[info->kind](&x, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

/* ---- rendering ---- */

typedef struct Out {
        char *buf;
        size_t size, len;
        bool truncated;
} Out;

static void out_printf(Out *o, const char *fmt, ...) _printf_(2, 3);
static void out_printf(Out *o, const char *fmt, ...) {
        va_list ap;
        int n;

        if (o->truncated)
                return;
        va_start(ap, fmt);
        n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->size - o->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= o->size - o->len)
                o->truncated = true;
        else
                o->len += (size_t) n;
}

static void out_limit(Out *o, uint64_t n) {
        if (n == KNOB_UNLIMITED)
                out_printf(o, "max");
        else
                out_printf(o, "%" PRIu64, n);
}

/* The NUL needs a byte too: an empty text (the empty cpuset) in a buffer of size 0 is -ENOBUFS,
 * never a success that leaves the caller's buffer unterminated. */
static int out_finish(Out *o) {
        if (o->size == 0)
                return -ENOBUFS;
        o->buf[o->truncated ? 0 : o->len] = '\0'; /* also when nothing was written */
        return o->truncated ? -ENOBUFS : (int) o->len;
}

/* all: every limit, "max" where unset, as the kernel shows a device's line when reading back. */
static void format_io_max(Out *o, const KnobValue *v, bool all) {
        out_printf(o, "%u:%u", v->io_max.major, v->io_max.minor);
        for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                if (!all && !v->io_max.set[l])
                        continue;
                out_printf(o, " %s=", io_limit_keys[l]);
                out_limit(o, v->io_max.set[l] ? v->io_max.limit[l] : KNOB_UNLIMITED);
        }
}

static void format_io_weight(Out *o, const KnobValue *v) {
        if (!v->io_weight.has_device)
                out_printf(o, "default %" PRIu64, v->io_weight.weight);
        else if (v->io_weight.weight == 0)
                out_printf(o, "%u:%u default", v->io_weight.major, v->io_weight.minor);
        else
                out_printf(o, "%u:%u %" PRIu64, v->io_weight.major, v->io_weight.minor, v->io_weight.weight);
}

static void format_cpus(Out *o, const KnobValue *v) {
        bool first = true;

        for (unsigned a = 0; a < KNOB_CPUS_MAX; a++) {
                unsigned b = a;

                if (!cpus_test(v, a))
                        continue;
                while (cpus_test(v, b + 1))
                        b++;
                out_printf(o, "%s%u", first ? "" : ",", a);
                if (b > a)
                        out_printf(o, "-%u", b);
                first = false;
                a = b;
        }
}

static int format_value(const KnobValue *v, Out *o) {
        const KnobInfo *info = knob_info(v->id);

        if (!info)
                return -EINVAL;
        switch (info->kind) {
        case KNOB_KIND_BYTES:
        case KNOB_KIND_COUNT:
                out_limit(o, v->bytes);
                break;
        case KNOB_KIND_WEIGHT:
                out_printf(o, "%" PRIu64, v->weight);
                break;
        case KNOB_KIND_CPU_MAX:
                out_limit(o, v->cpu.quota_us);
                out_printf(o, " %" PRIu64, v->cpu.period_us);
                break;
        case KNOB_KIND_IO_MAX:
                format_io_max(o, v, false);
                break;
        case KNOB_KIND_IO_WEIGHT:
                format_io_weight(o, v);
                break;
        case KNOB_KIND_CPUS:
                format_cpus(o, v);
                break;
        default:
                return -EINVAL;
        }
        return out_finish(o);
}

int knob_format(const KnobValue *v, char *buf, size_t size) {
        Out o = { .buf = buf, .size = size };

        assert(v);
        assert(buf || size == 0);
        return format_value(v, &o);
}

/* ---- ceilings ---- */

/* quota/period fractions compared exactly: both products fit in 128 bits. */
static bool cpu_max_exceeds(const KnobValue *v, const KnobValue *c) {
        if (c->cpu.quota_us == KNOB_UNLIMITED)
                return false;
        if (v->cpu.quota_us == KNOB_UNLIMITED)
                return true;
        return (unsigned __int128) v->cpu.quota_us * c->cpu.period_us >
                (unsigned __int128) c->cpu.quota_us * v->cpu.period_us;
}

static bool io_max_exceeds(const KnobValue *v, const KnobValue *c) {
        if (v->io_max.major != c->io_max.major || v->io_max.minor != c->io_max.minor)
                return false;
        for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++)
                if (v->io_max.set[l] && c->io_max.set[l] && v->io_max.limit[l] > c->io_max.limit[l])
                        return true;
        return false;
}

static bool io_weight_exceeds(const KnobValue *v, const KnobValue *c) {
        /* "MAJ:MIN default" hands the device back to the default weight, itself checked. */
        if (v->io_weight.has_device && v->io_weight.weight == 0)
                return false;
        /* A device ceiling caps the default too: the device uses it unless told otherwise. */
        if (c->io_weight.has_device && v->io_weight.has_device &&
            (v->io_weight.major != c->io_weight.major || v->io_weight.minor != c->io_weight.minor))
                return false;
        if (c->io_weight.has_device && c->io_weight.weight == 0)
                return false;
        return v->io_weight.weight > c->io_weight.weight;
}

static bool cpus_exceeds(const KnobValue *v, const KnobValue *c) {
        for (size_t i = 0; i < ELEMENTSOF(v->cpus.bits); i++)
                if (v->cpus.bits[i] & ~c->cpus.bits[i])
                        return true;
        return false;
}

bool knob_exceeds(const KnobValue *v, const KnobValue *ceiling) {
        const KnobInfo *info;

        assert(v);
        assert(ceiling);
        assert(v->id == ceiling->id);

        info = knob_info(v->id);
        assert(info);
        switch (info->kind) {
        case KNOB_KIND_BYTES:
        case KNOB_KIND_COUNT:
        case KNOB_KIND_WEIGHT:
                return v->bytes > ceiling->bytes; /* KNOB_UNLIMITED is the largest */
        case KNOB_KIND_CPU_MAX:
                return cpu_max_exceeds(v, ceiling);
        case KNOB_KIND_IO_MAX:
                return io_max_exceeds(v, ceiling);
        case KNOB_KIND_IO_WEIGHT:
                return io_weight_exceeds(v, ceiling);
        case KNOB_KIND_CPUS:
                return cpus_exceeds(v, ceiling);
        default:
                return true;
        }
}

/* ---- cgroup v1: systemd's formulas ---- */

/* cgroup_cpu_weight_to_shares(), src/core/cgroup.c (weight 0, "idle", does not parse here). */
uint64_t knob_cpu_weight_to_shares(uint64_t weight) {
        if (weight > UINT64_MAX / CGROUP_CPU_SHARES_DEFAULT)
                return CGROUP_CPU_SHARES_MAX;
        return CLAMP(weight * CGROUP_CPU_SHARES_DEFAULT / CGROUP_WEIGHT_DEFAULT,
                     CGROUP_CPU_SHARES_MIN, CGROUP_CPU_SHARES_MAX);
}

/* cgroup_cpu_shares_to_weight(), src/core/cgroup.c. */
uint64_t knob_cpu_shares_to_weight(uint64_t shares) {
        if (shares > UINT64_MAX / CGROUP_WEIGHT_DEFAULT)
                return CGROUP_WEIGHT_MAX;
        return CLAMP(shares * CGROUP_WEIGHT_DEFAULT / CGROUP_CPU_SHARES_DEFAULT,
                     CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX);
}

/* cgroup_weight_io_to_blkio(), src/core/cgroup.c. */
uint64_t knob_io_weight_to_blkio(uint64_t weight) {
        if (weight > UINT64_MAX / CGROUP_BLKIO_WEIGHT_DEFAULT)
                return CGROUP_BLKIO_WEIGHT_MAX;
        return CLAMP(weight * CGROUP_BLKIO_WEIGHT_DEFAULT / CGROUP_WEIGHT_DEFAULT,
                     CGROUP_BLKIO_WEIGHT_MIN, CGROUP_BLKIO_WEIGHT_MAX);
}

/* cgroup_weight_blkio_to_io(), src/core/cgroup.c. */
uint64_t knob_blkio_weight_to_io(uint64_t blkio) {
        if (blkio > UINT64_MAX / CGROUP_WEIGHT_DEFAULT)
                return CGROUP_WEIGHT_MAX;
        return CLAMP(blkio * CGROUP_WEIGHT_DEFAULT / CGROUP_BLKIO_WEIGHT_DEFAULT,
                     CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX);
}

/* BFQ_WEIGHT(), src/basic/cgroup-util.h: two linear pieces meeting at the defaults (100 and 100).
 * systemd's v1 path feeds it the blkio weight (so IOWeight=200 and above all become 181); this
 * feeds it the io weight, which is what the formula was written for. Out-of-range weights are
 * clamped first, as the formula gives 0 for weight 0. */
uint64_t knob_io_weight_to_bfq(uint64_t weight) {
        uint64_t w = CLAMP(weight, CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX);

        if (w <= CGROUP_WEIGHT_DEFAULT)
                return CGROUP_BFQ_WEIGHT_DEFAULT - (CGROUP_WEIGHT_DEFAULT - w) *
                        (CGROUP_BFQ_WEIGHT_DEFAULT - CGROUP_BFQ_WEIGHT_MIN) / (CGROUP_WEIGHT_DEFAULT - CGROUP_WEIGHT_MIN);
        return CGROUP_BFQ_WEIGHT_DEFAULT + (w - CGROUP_WEIGHT_DEFAULT) *
                (CGROUP_BFQ_WEIGHT_MAX - CGROUP_BFQ_WEIGHT_DEFAULT) / (CGROUP_WEIGHT_MAX - CGROUP_WEIGHT_DEFAULT);
}

/* An inverse of BFQ_WEIGHT() for reading back (systemd has none): the smallest io weight that
 * maps to bfq, so that writing the result back changes nothing (io.weight 1000 is BFQ 181 and
 * reads back as 991). */
static uint64_t bfq_weight_to_io(uint64_t bfq) {
        uint64_t b = CLAMP(bfq, CGROUP_BFQ_WEIGHT_MIN, CGROUP_BFQ_WEIGHT_MAX);

        if (b <= CGROUP_BFQ_WEIGHT_DEFAULT)
                return CGROUP_WEIGHT_DEFAULT - (CGROUP_BFQ_WEIGHT_DEFAULT - b) *
                        (CGROUP_WEIGHT_DEFAULT - CGROUP_WEIGHT_MIN) / (CGROUP_BFQ_WEIGHT_DEFAULT - CGROUP_BFQ_WEIGHT_MIN);
        return CGROUP_WEIGHT_DEFAULT + (b - CGROUP_BFQ_WEIGHT_DEFAULT) *
                (CGROUP_WEIGHT_MAX - CGROUP_WEIGHT_DEFAULT) / (CGROUP_BFQ_WEIGHT_MAX - CGROUP_BFQ_WEIGHT_DEFAULT);
}

/* ---- cgroup v1: writes ---- */

static int v1_write(KnobV1Write *w, const char *file, const char *fmt, ...) _printf_(3, 4);
static int v1_write(KnobV1Write *w, const char *file, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(w->value, sizeof w->value, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof w->value)
                return -ENOBUFS;
        w->file = file;
        return 0;
}

static int v1_write_limit(KnobV1Write *w, const char *file, uint64_t n, const char *unlimited) {
        if (n == KNOB_UNLIMITED)
                return v1_write(w, file, "%s", unlimited);
        return v1_write(w, file, "%" PRIu64, n);
}

/* v1 checks each write against the other file's current value and refuses a quota/period ratio
 * above the parent's (tg_cfs_schedulable_down()). "-1" is always accepted, so for max the quota
 * goes first and the period after it no longer forms a ratio; otherwise systemd's order
 * (cgroup_apply_legacy_cpu_quota()): period, then quota. */
static int cpu_max_to_v1(const KnobValue *v, KnobV1Write w[static 4]) {
        const char *quota_file = v1_files[KNOB_CPU_MAX][0], *period_file = v1_files[KNOB_CPU_MAX][1];
        bool quota_first = v->cpu.quota_us == KNOB_UNLIMITED;
        int r;

        r = v1_write(&w[quota_first ? 1 : 0], period_file, "%" PRIu64, v->cpu.period_us);
        if (r < 0)
                return r;
        r = v1_write_limit(&w[quota_first ? 0 : 1], quota_file, v->cpu.quota_us, "-1");
        if (r < 0)
                return r;
        return 2;
}

/* One write per named limit; "MAJ:MIN 0" removes a v1 throttle rule, which is what max means. */
static int io_max_to_v1(const KnobValue *v, KnobV1Write w[static 4]) {
        int n = 0;

        for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                uint64_t limit = v->io_max.limit[l];
                int r;

                if (!v->io_max.set[l])
                        continue;
                r = v1_write(&w[n++], v1_files[KNOB_IO_MAX][l], "%u:%u %" PRIu64, v->io_max.major,
                             v->io_max.minor, limit == KNOB_UNLIMITED ? 0 : limit);
                if (r < 0)
                        return r;
        }
        return n;
}

/* CFQ's blkio.weight* (kernels before 5.0) or BFQ's blkio.bfq.weight*; both take
 * "MAJ:MIN default" to drop a device's own weight. */
static int io_weight_to_v1(const KnobValue *v, bool bfq, KnobV1Write w[static 4]) {
        const char * const *files = bfq ? v1_bfq_weight_files : v1_files[KNOB_IO_WEIGHT];
        uint64_t weight = bfq ? knob_io_weight_to_bfq(v->io_weight.weight) : knob_io_weight_to_blkio(v->io_weight.weight);
        int r;

        if (!v->io_weight.has_device)
                r = v1_write(&w[0], files[0], "%" PRIu64, weight);
        else if (v->io_weight.weight == 0)
                r = v1_write(&w[0], files[1], "%u:%u default", v->io_weight.major, v->io_weight.minor);
        else
                r = v1_write(&w[0], files[1], "%u:%u %" PRIu64, v->io_weight.major, v->io_weight.minor, weight);
        return r < 0 ? r : 1;
}

static int cpus_to_v1(const KnobValue *v, KnobV1Write w[static 4]) {
        Out o = { .buf = w[0].value, .size = sizeof w[0].value };
        bool empty = true;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(v->cpus.bits); i++)
                if (v->cpus.bits[i])
                        empty = false;
        if (empty)
                return -EOPNOTSUPP;
        format_cpus(&o, v);
        r = out_finish(&o);
        if (r < 0)
                return r;
        w[0].file = v1_files[v->id][0];
        return 1;
}

int knob_to_v1(const KnobValue *v, bool bfq, KnobV1Write ret_writes[static 4]) {
        const char *file;

        assert(v);
        assert(ret_writes);

        file = v->id >= 0 && v->id < _KNOB_MAX ? v1_files[v->id][0] : NULL;
        switch (v->id) {
        case KNOB_MEMORY_MAX:
                return v1_write_limit(&ret_writes[0], file, v->bytes, "-1") ?: 1;
        case KNOB_MEMORY_SWAP_MAX:
                return 0;
        case KNOB_CPU_MAX:
                return cpu_max_to_v1(v, ret_writes);
        case KNOB_CPU_WEIGHT:
                return v1_write(&ret_writes[0], file, "%" PRIu64, knob_cpu_weight_to_shares(v->weight)) ?: 1;
        case KNOB_PIDS_MAX:
                return v1_write_limit(&ret_writes[0], file, v->count, "max") ?: 1;
        case KNOB_IO_MAX:
                return io_max_to_v1(v, ret_writes);
        case KNOB_IO_WEIGHT:
                return io_weight_to_v1(v, bfq, ret_writes);
        case KNOB_CPUSET_CPUS:
        case KNOB_CPUSET_MEMS:
                return cpus_to_v1(v, ret_writes);
        case KNOB_MEMORY_HIGH:
        case KNOB_MEMORY_LOW:
        case KNOB_MEMORY_MIN:
                return -EOPNOTSUPP;
        default:
                return -EINVAL;
        }
}

/* ---- cgroup v1: reading back ---- */

/* The end of a v1 file: at most one newline, then nothing. */
static bool v1_end(const char *p) {
        return p[0] == '\0' || (p[0] == '\n' && p[1] == '\0');
}

static int v1_number(const char *text, uint64_t *ret) {
        const char *p = text;
        uint64_t n;

        if (!text)
                return -EINVAL;
        if (!scan_number(&p, &n) || !v1_end(p) || n == UINT64_MAX)
                return -EBADMSG;
        *ret = n;
        return 0;
}

/* Whether a v1 file says exactly word. */
static bool v1_is(const char *text, const char *word) {
        const char *e = text ? startswith(text, word) : NULL;

        return e && v1_end(e);
}

/* A v1 byte count: "-1" (written, never shown) and anything near PAGE_COUNTER_MAX are unlimited. */
static int v1_bytes(const char *text, uint64_t *ret) {
        uint64_t n;
        int r;

        if (v1_is(text, "-1")) {
                *ret = KNOB_UNLIMITED;
                return 0;
        }
        r = v1_number(text, &n);
        if (r < 0)
                return r;
        *ret = n >= V1_UNLIMITED ? KNOB_UNLIMITED : n;
        return 0;
}

/* Files holding one value the v2 grammar spells the same way ("0-3,5\n", an empty cpuset "\n"). */
static int v1_parse_as_v2(KnobId id, const char *text, KnobValue *ret) {
        char line[VALUE_MAX + 1];
        size_t n;

        if (!text)
                return -EINVAL;
        n = strcspn(text, "\n");
        if (n > VALUE_MAX || !v1_end(text + n))
                return -EBADMSG;
        memcpy(line, text, n);
        line[n] = '\0';
        return knob_parse(knob_table[id].key, line, ret, NULL) < 0 ? -EBADMSG : 0;
}

static int v1_pids(const char *text, uint64_t *ret) {
        if (v1_is(text, "max")) {
                *ret = KNOB_UNLIMITED;
                return 0;
        }
        return v1_number(text, ret);
}

/* The reads of the two files are not one atomic step, so a memsw briefly below the limit reads as
 * no swap rather than as an error. */
static int v1_swap(const char *const texts[static 4], uint64_t *ret) {
        uint64_t memsw, limit;
        int r;

        r = v1_bytes(texts[0], &memsw);
        if (r < 0)
                return r;
        r = v1_bytes(texts[1], &limit);
        if (r < 0)
                return r;
        if (memsw == KNOB_UNLIMITED || limit == KNOB_UNLIMITED)
                *ret = KNOB_UNLIMITED;
        else
                *ret = memsw > limit ? memsw - limit : 0;
        return 0;
}

static int v1_cpu_max(const char *const texts[static 4], KnobValue *v) {
        int r;

        if (v1_is(texts[0], "-1"))
                v->cpu.quota_us = KNOB_UNLIMITED;
        else {
                r = v1_number(texts[0], &v->cpu.quota_us);
                if (r < 0)
                        return r;
        }
        return v1_number(texts[1], &v->cpu.period_us);
}

/* One row per device of the v1 device files: the raw numbers, UINT64_MAX where a file has none. */
/* One device's numbers: io.max's four limits, or io.stat's six counters. */
#define DEV_COLUMNS 6

typedef struct DevRow {
        unsigned major, minor;
        uint64_t raw[DEV_COLUMNS]; /* UINT64_MAX: not given */
} DevRow;

typedef struct DevTable {
        DevRow *rows;
        size_t n;
} DevTable;

static void dev_table_done(DevTable *t) {
        free(t->rows);
        t->rows = NULL;
        t->n = 0;
}

static DevRow *dev_table_get(DevTable *t, unsigned major, unsigned minor) {
        DevRow *rows;

        for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].major == major && t->rows[i].minor == minor)
                        return &t->rows[i];
        rows = reallocarray(t->rows, t->n + 1, sizeof *rows);
        if (!rows)
                return NULL;
        t->rows = rows;
        rows[t->n] = (DevRow) { .major = major, .minor = minor };
        for (size_t i = 0; i < DEV_COLUMNS; i++)
                rows[t->n].raw[i] = UINT64_MAX;
        return &rows[t->n++];
}

static int dev_row_compare(const void *a, const void *b) {
        const DevRow *x = a, *y = b;

        if (x->major != y->major)
                return x->major < y->major ? -1 : 1;
        return x->minor < y->minor ? -1 : x->minor > y->minor;
}

static bool scan_eol(const char **p) {
        return scan_char(p, '\n') || **p == '\0';
}

/* "MAJ:MIN N" lines into column slot; a "default N" line (BFQ's weight_device has one) is
 * skipped, the default comes from its own file. A missing (NULL) file has no lines. */
static int v1_device_lines(const char *text, DevTable *t, size_t slot) {
        const char *p = text;

        while (p && *p != '\0') {
                uint64_t major, minor, n;
                DevRow *row;

                if (scan_word(&p, "default")) {
                        if (!scan_char(&p, ' ') || !scan_number(&p, &n) || !scan_eol(&p))
                                return -EBADMSG;
                        continue;
                }
                if (!scan_devnum(&p, &major, &minor) || !scan_char(&p, ' ') || !scan_number(&p, &n) ||
                    !scan_eol(&p) || major > DEV_MAJOR_MAX || minor > DEV_MINOR_MAX)
                        return -EBADMSG;
                row = dev_table_get(t, (unsigned) major, (unsigned) minor);
                if (!row)
                        return -ENOMEM;
                row->raw[slot] = n;
        }
        return 0;
}

static int io_max_from_v1(const char *const texts[static 4], Out *o) {
        _cleanup_(dev_table_done) DevTable t = {};
        int r;

        for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                r = v1_device_lines(texts[l], &t, l);
                if (r < 0)
                        return r;
        }
        if (t.n > 1)
                qsort(t.rows, t.n, sizeof *t.rows, dev_row_compare);
        for (size_t i = 0; i < t.n; i++) {
                KnobValue v = { .id = KNOB_IO_MAX };

                v.io_max.major = t.rows[i].major;
                v.io_max.minor = t.rows[i].minor;
                for (IoLimit l = 0; l < _IO_LIMIT_MAX; l++) {
                        uint64_t raw = t.rows[i].raw[l];
                        bool unlimited = raw == 0 || raw == UINT64_MAX || (l >= IO_RIOPS && raw >= UINT32_MAX);

                        v.io_max.set[l] = true;
                        v.io_max.limit[l] = unlimited ? KNOB_UNLIMITED : raw;
                }
                if (i > 0)
                        out_printf(o, "\n");
                format_io_max(o, &v, true);
        }
        return out_finish(o);
}

static int io_weight_from_v1(bool bfq, const char *const texts[static 4], Out *o) {
        uint64_t (*to_io)(uint64_t) = bfq ? bfq_weight_to_io : knob_blkio_weight_to_io;
        _cleanup_(dev_table_done) DevTable t = {};
        const char *p = texts[0];
        uint64_t w;
        int r;

        /* blkio.bfq.weight shows "N"; accept the "default N" of its v2 twin as well. */
        if (p && scan_word(&p, "default") && !scan_char(&p, ' '))
                return -EBADMSG;
        r = v1_number(p, &w);
        if (r < 0)
                return r;
        r = v1_device_lines(texts[1], &t, 0);
        if (r < 0)
                return r;
        if (t.n > 1)
                qsort(t.rows, t.n, sizeof *t.rows, dev_row_compare);
        out_printf(o, "default %" PRIu64, to_io(w));
        for (size_t i = 0; i < t.n; i++)
                out_printf(o, "\n%u:%u %" PRIu64, t.rows[i].major, t.rows[i].minor, to_io(t.rows[i].raw[0]));
        return out_finish(o);
}

int knob_from_v1_sources(KnobId id, bool bfq, const char *const texts[static 4], char *buf, size_t size) {
        Out o = { .buf = buf, .size = size };
        uint64_t shares;
        KnobValue v;
        int r;

        assert(texts);
        assert(buf || size == 0);

        memset(&v, 0, sizeof v);
        v.id = id;
        switch (id) {
        case KNOB_MEMORY_MAX:
                r = v1_bytes(texts[0], &v.bytes);
                break;
        case KNOB_MEMORY_SWAP_MAX:
                r = v1_swap(texts, &v.bytes);
                break;
        case KNOB_CPU_MAX:
                r = v1_cpu_max(texts, &v);
                break;
        case KNOB_CPU_WEIGHT:
                r = v1_number(texts[0], &shares);
                v.weight = knob_cpu_shares_to_weight(shares);
                break;
        case KNOB_PIDS_MAX:
                r = v1_pids(texts[0], &v.count);
                break;
        case KNOB_CPUSET_CPUS:
        case KNOB_CPUSET_MEMS:
                r = v1_parse_as_v2(id, texts[0], &v);
                break;
        case KNOB_IO_MAX:
                return io_max_from_v1(texts, &o);
        case KNOB_IO_WEIGHT:
                return io_weight_from_v1(bfq, texts, &o);
        case KNOB_MEMORY_HIGH:
        case KNOB_MEMORY_LOW:
        case KNOB_MEMORY_MIN:
                return -EOPNOTSUPP;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        return format_value(&v, &o);
}

int knob_from_v1(KnobId id, const char *text, const char *text2, char *buf, size_t size) {
        const char *texts[4] = { text, text2 };

        if (id == KNOB_IO_MAX)
                return -EINVAL;
        return knob_from_v1_sources(id, false, texts, buf, size);
}

int knob_v1_sources(KnobId id, bool bfq, const char *ret_files[static 4]) {
        int n = 0;

        assert(ret_files);

        if (id < 0 || id >= _KNOB_MAX)
                return -EINVAL;
        for (size_t i = 0; i < 4; i++) {
                ret_files[i] = id == KNOB_IO_WEIGHT && bfq && i < 2 ? v1_bfq_weight_files[i] : v1_files[id][i];
                if (ret_files[i])
                        n++;
        }
        return n;
}

/* The memsw limit is memory plus swap; v1 requires memsw >= limit at every moment, which is why
 * apply.c orders this write against the memory limit's. */
int knob_v1_memsw(const KnobValue *swap, const char *limit_text, KnobV1Write *ret) {
        uint64_t limit, sum;
        int r;

        assert(swap);
        assert(swap->id == KNOB_MEMORY_SWAP_MAX);
        assert(ret);

        r = v1_bytes(limit_text, &limit);
        if (r < 0)
                return r;
        if (limit == KNOB_UNLIMITED || swap->bytes == KNOB_UNLIMITED || swap->bytes > V1_UNLIMITED - limit)
                sum = KNOB_UNLIMITED;
        else
                sum = limit + swap->bytes;
        return v1_write_limit(ret, v1_files[KNOB_MEMORY_SWAP_MAX][0], sum, "-1");
}

/* ---- usage: read-only statistics ---- */

static const UsageInfo usage_table[_USAGE_MAX] = {
        [USAGE_MEMORY_CURRENT] = {
                USAGE_MEMORY_CURRENT, "memory.current", CG_CTRL_MEMORY,
                { { .controller = CG_CTRL_MEMORY, .file = "memory.usage_in_bytes" } },
                "Memory the group and its descendants use, in bytes.",
        },
        [USAGE_MEMORY_PEAK] = {
                USAGE_MEMORY_PEAK, "memory.peak", CG_CTRL_MEMORY,
                { { .controller = CG_CTRL_MEMORY, .file = "memory.max_usage_in_bytes" } },
                "The highest memory.current seen, in bytes (v2 kernels have it from 5.19).",
        },
        [USAGE_MEMORY_SWAP_CURRENT] = {
                USAGE_MEMORY_SWAP_CURRENT, "memory.swap.current", CG_CTRL_MEMORY,
                { { .controller = CG_CTRL_MEMORY, .file = "memory.memsw.usage_in_bytes" },
                  { .controller = CG_CTRL_MEMORY, .file = "memory.usage_in_bytes" } },
                "Swap the group and its descendants use, in bytes (v1: memory and swap less memory).",
        },
        [USAGE_PIDS_CURRENT] = {
                USAGE_PIDS_CURRENT, "pids.current", CG_CTRL_PIDS,
                { { .controller = CG_CTRL_PIDS, .file = "pids.current" } },
                "Processes and threads in the group and its descendants.",
        },
        [USAGE_CPU_STAT] = {
                USAGE_CPU_STAT, "cpu.stat", CG_CTRL_CPU,
                { { .controller = CG_CTRL_CPUACCT, .file = "cpuacct.usage", .optional = true },
                  { .controller = CG_CTRL_CPUACCT, .file = "cpuacct.stat", .optional = true },
                  { .controller = CG_CTRL_CPU, .file = "cpu.stat", .optional = true },
                  { .controller = CG_CTRL_CPU, .file = "cpu.stat", .optional = true, .unified = true } },
                "CPU time used (usage_usec, user_usec, system_usec) and throttling (nr_periods, nr_throttled, "
                "throttled_usec, nr_bursts, burst_usec).",
        },
        [USAGE_IO_STAT] = {
                USAGE_IO_STAT, "io.stat", CG_CTRL_IO,
                { { .controller = CG_CTRL_IO, .file = "blkio.throttle.io_service_bytes_recursive" },
                  { .controller = CG_CTRL_IO, .file = "blkio.throttle.io_serviced_recursive" } },
                "Bytes and operations read, written and discarded, a line per device with I/O.",
        },
        [USAGE_CPUSET_CPUS_EFFECTIVE] = {
                USAGE_CPUSET_CPUS_EFFECTIVE, "cpuset.cpus.effective", CG_CTRL_CPUSET,
                { { .controller = CG_CTRL_CPUSET, .file = "cpuset.effective_cpus" } },
                "The CPUs the group may run on, after its ancestors' limits.",
        },
        [USAGE_CPUSET_MEMS_EFFECTIVE] = {
                USAGE_CPUSET_MEMS_EFFECTIVE, "cpuset.mems.effective", CG_CTRL_CPUSET,
                { { .controller = CG_CTRL_CPUSET, .file = "cpuset.effective_mems" } },
                "The memory nodes the group may allocate from, after its ancestors' limits.",
        },
};

/* cpu.stat's lines as the canonical text has them, and the v1 names of the throttling ones
 * (cpu.stat of the v1 cpu controller, in nanoseconds where v2 has microseconds). */
static const char *const cpu_stat_names[] = {
        "usage_usec", "user_usec", "system_usec", "nr_periods", "nr_throttled", "throttled_usec", "nr_bursts",
        "burst_usec",
};
#define CPU_STAT_FIELDS ELEMENTSOF(cpu_stat_names)
#define CPU_STAT_V1_THROTTLE 3 /* the first field v1's cpu.stat gives */
static const char *const cpu_stat_v1_names[] = {
        "nr_periods", "nr_throttled", "throttled_time", "nr_bursts", "burst_time",
};
static const char *const io_stat_names[DEV_COLUMNS] = { "rbytes", "wbytes", "rios", "wios", "dbytes", "dios" };

const UsageInfo *usage_info(UsageId id) {
        return id >= 0 && id < _USAGE_MAX ? &usage_table[id] : NULL;
}

const UsageInfo *usage_lookup(const char *key) {
        if (!key)
                return NULL;
        for (UsageId id = 0; id < _USAGE_MAX; id++)
                if (streq(usage_table[id].key, key))
                        return &usage_table[id];
        return NULL;
}

static size_t name_index(const char *const names[], size_t n, const char *name, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
                        return i;
        return SIZE_MAX;
}

/* "NAME N" lines (cpu.stat, cpuacct.stat): the number of each of names[] into ret[], which the
 * caller filled with UINT64_MAX; other names are skipped, as newer kernels add lines. */
static int named_lines(const char *text, const char *const names[], size_t n, uint64_t ret[]) {
        const char *p = text;

        while (p && *p != '\0') {
                size_t len = strcspn(p, " \n");
                size_t i = name_index(names, n, p, len);
                uint64_t v;

                if (len == 0)
                        return -EBADMSG;
                p += len;
                if (!scan_char(&p, ' ') || !scan_number(&p, &v) || !scan_eol(&p))
                        return -EBADMSG;
                if (i != SIZE_MAX)
                        ret[i] = v;
        }
        return 0;
}

static int format_named(const char *const names[], size_t n, const uint64_t v[], Out *o) {
        for (size_t i = 0; i < n; i++)
                if (v[i] != UINT64_MAX)
                        out_printf(o, "%s%s %" PRIu64, o->len > 0 ? "\n" : "", names[i], v[i]);
        return out_finish(o);
}

/* io.stat's lines, devices ascending, those without I/O left out (as v2 leaves them out). */
static int format_io_stat(DevTable *t, Out *o) {
        if (t->n > 1)
                qsort(t->rows, t->n, sizeof *t->rows, dev_row_compare);
        for (size_t i = 0; i < t->n; i++) {
                uint64_t *raw = t->rows[i].raw;
                bool any = false;

                for (size_t c = 0; c < DEV_COLUMNS; c++) {
                        if (raw[c] == UINT64_MAX)
                                raw[c] = 0;
                        any = any || raw[c] > 0;
                }
                if (!any)
                        continue;
                out_printf(o, "%s%u:%u", o->len > 0 ? "\n" : "", t->rows[i].major, t->rows[i].minor);
                for (size_t c = 0; c < DEV_COLUMNS; c++)
                        out_printf(o, " %s=%" PRIu64, io_stat_names[c], raw[c]);
        }
        return out_finish(o);
}

/* v2 io.stat: "MAJ:MIN KEY=VALUE..." lines; keys other than the six (iocost's cost.*, whose
 * values are not integers) are skipped. */
static int io_stat_from_v2(const char *text, Out *o) {
        _cleanup_(dev_table_done) DevTable t = {};
        const char *p = text;

        while (*p != '\0') {
                uint64_t major, minor;
                DevRow *row;

                if (!scan_devnum(&p, &major, &minor) || major > DEV_MAJOR_MAX || minor > DEV_MINOR_MAX)
                        return -EBADMSG;
                row = dev_table_get(&t, (unsigned) major, (unsigned) minor);
                if (!row)
                        return -ENOMEM;
                while (scan_char(&p, ' ')) {
                        size_t len = strcspn(p, "= \n");
                        size_t c = name_index(io_stat_names, DEV_COLUMNS, p, len);

                        p += len;
                        if (len == 0 || !scan_char(&p, '='))
                                return -EBADMSG;
                        if (c == SIZE_MAX)
                                p += strcspn(p, " \n");
                        else if (!scan_number(&p, &row->raw[c]))
                                return -EBADMSG;
                }
                if (!scan_eol(&p))
                        return -EBADMSG;
        }
        return format_io_stat(&t, o);
}

/* v1 blkio.throttle.io_service_bytes_recursive or io_serviced_recursive (the group and the groups
 * below it, as v2's io.stat counts): "MAJ:MIN OP N" lines for the operations
 * Read, Write, Discard, Sync, Async and Total, then "Total N". Read, Write and Discard go to the
 * columns cols[] names. */
static int io_stat_from_v1_lines(const char *text, DevTable *t, const size_t cols[static 3]) {
        static const char *const ops[] = { "Read", "Write", "Discard", "Sync", "Async", "Total" };
        const char *p = text;

        while (*p != '\0') {
                uint64_t major, minor, n;
                DevRow *row;
                size_t op, len;

                if (scan_word(&p, "Total")) {
                        if (!scan_char(&p, ' ') || !scan_number(&p, &n) || !scan_eol(&p))
                                return -EBADMSG;
                        continue;
                }
                if (!scan_devnum(&p, &major, &minor) || major > DEV_MAJOR_MAX || minor > DEV_MINOR_MAX ||
                    !scan_char(&p, ' '))
                        return -EBADMSG;
                len = strcspn(p, " \n");
                op = name_index(ops, ELEMENTSOF(ops), p, len);
                p += len;
                if (op == SIZE_MAX || !scan_char(&p, ' ') || !scan_number(&p, &n) || !scan_eol(&p))
                        return -EBADMSG;
                if (op > 2)
                        continue;
                row = dev_table_get(t, (unsigned) major, (unsigned) minor);
                if (!row)
                        return -ENOMEM;
                row->raw[cols[op]] = n;
        }
        return 0;
}

static int cpus_from_text(UsageId id, const char *text, Out *o) {
        KnobValue v;
        int r = v1_parse_as_v2(id == USAGE_CPUSET_CPUS_EFFECTIVE ? KNOB_CPUSET_CPUS : KNOB_CPUSET_MEMS, text, &v);

        return r < 0 ? r : format_value(&v, o);
}

int usage_from_v2(UsageId id, const char *text, char *buf, size_t size) {
        Out o = { .buf = buf, .size = size };
        uint64_t v[CPU_STAT_FIELDS];
        int r;

        assert(text);
        assert(buf || size == 0);

        switch (id) {
        case USAGE_MEMORY_CURRENT:
        case USAGE_MEMORY_PEAK:
        case USAGE_MEMORY_SWAP_CURRENT:
        case USAGE_PIDS_CURRENT:
                r = v1_number(text, &v[0]);
                if (r < 0)
                        return r;
                out_printf(&o, "%" PRIu64, v[0]);
                return out_finish(&o);
        case USAGE_CPU_STAT:
                memset(v, 0xff, sizeof v);
                r = named_lines(text, cpu_stat_names, CPU_STAT_FIELDS, v);
                if (r < 0)
                        return r;
                if (v[0] == UINT64_MAX)
                        return -EBADMSG; /* usage_usec is in every v2 group's cpu.stat */
                return format_named(cpu_stat_names, CPU_STAT_FIELDS, v, &o);
        case USAGE_IO_STAT:
                return io_stat_from_v2(text, &o);
        case USAGE_CPUSET_CPUS_EFFECTIVE:
        case USAGE_CPUSET_MEMS_EFFECTIVE:
                return cpus_from_text(id, text, &o);
        default:
                return -EINVAL;
        }
}

/* ticks of 1/clk_tck s in microseconds, without overflowing on the way. */
static uint64_t ticks_to_usec(uint64_t ticks, unsigned long clk_tck) {
        return ticks / clk_tck * 1000000 + ticks % clk_tck * 1000000 / clk_tck;
}

static int cpu_stat_from_v1(const char *const texts[static USAGE_SOURCES_MAX], unsigned long clk_tck, Out *o) {
        static const char *const ticks_names[] = { "user", "system" };
        uint64_t v[CPU_STAT_FIELDS], ticks[2] = { UINT64_MAX, UINT64_MAX };
        int r;

        memset(v, 0xff, sizeof v);
        if (texts[0]) {
                r = v1_number(texts[0], &v[0]);
                if (r < 0)
                        return r;
                v[0] /= 1000;
                r = named_lines(texts[1], ticks_names, 2, ticks);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < 2; i++)
                        if (ticks[i] != UINT64_MAX)
                                v[1 + i] = ticks_to_usec(ticks[i], clk_tck);
        } else if (texts[3]) {
                /* only the times: the throttling lines are v1's cpu.stat's */
                r = named_lines(texts[3], cpu_stat_names, CPU_STAT_V1_THROTTLE, v);
                if (r < 0)
                        return r;
        }
        if (v[0] == UINT64_MAX)
                return -EBADMSG;
        r = named_lines(texts[2], cpu_stat_v1_names, ELEMENTSOF(cpu_stat_v1_names), v + CPU_STAT_V1_THROTTLE);
        if (r < 0)
                return r;
        for (size_t i = CPU_STAT_V1_THROTTLE; i < CPU_STAT_FIELDS; i++)
                if (strstr(cpu_stat_v1_names[i - CPU_STAT_V1_THROTTLE], "_time") && v[i] != UINT64_MAX)
                        v[i] /= 1000; /* nanoseconds */
        return format_named(cpu_stat_names, CPU_STAT_FIELDS, v, o);
}

int usage_from_v1(UsageId id, const char *const texts[static USAGE_SOURCES_MAX], unsigned long clk_tck, char *buf,
                  size_t size) {
        _cleanup_(dev_table_done) DevTable t = {};
        Out o = { .buf = buf, .size = size };
        uint64_t n, m;
        int r;

        assert(texts);
        assert(buf || size == 0);

        switch (id) {
        case USAGE_MEMORY_CURRENT:
        case USAGE_MEMORY_PEAK:
        case USAGE_PIDS_CURRENT:
        case USAGE_CPUSET_CPUS_EFFECTIVE:
        case USAGE_CPUSET_MEMS_EFFECTIVE:
                /* the same text as v2's */
                return texts[0] ? usage_from_v2(id, texts[0], buf, size) : -EINVAL;
        case USAGE_MEMORY_SWAP_CURRENT:
                r = v1_number(texts[0], &n);
                if (r >= 0)
                        r = v1_number(texts[1], &m);
                if (r < 0)
                        return r;
                out_printf(&o, "%" PRIu64, n > m ? n - m : 0);
                return out_finish(&o);
        case USAGE_CPU_STAT:
                return clk_tck > 0 ? cpu_stat_from_v1(texts, clk_tck, &o) : -EINVAL;
        case USAGE_IO_STAT:
                if (!texts[0] || !texts[1])
                        return -EINVAL;
                r = io_stat_from_v1_lines(texts[0], &t, (const size_t[]) { 0, 1, 4 }); /* rbytes wbytes dbytes */
                if (r >= 0)
                        r = io_stat_from_v1_lines(texts[1], &t, (const size_t[]) { 2, 3, 5 }); /* rios wios dios */
                return r < 0 ? r : format_io_stat(&t, &o);
        default:
                return -EINVAL;
        }
}
