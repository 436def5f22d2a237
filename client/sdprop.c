/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The translation of systemd resource-control settings into cgroup v2 pairs. Each systemd name is
 * one row of a table: its v2 key, a parser that computes the value the way systemd's unit-file
 * parser (src/core/load-fragment.c) and its cgroup code (src/core/cgroup.c) do, and a rank for
 * names that write the same key. The numbers follow systemd's arithmetic: parse_size() with base
 * 1024 for memory and 1000 for IO, percentages in 1/10000 (parse_permyriad()),
 * physical_memory_scale() rounding down to a page, system_tasks_max_scale(), the cpu.max period
 * stretched for small quotas, the CPUShares= and BlockIOWeight= conversions. Where systemd's
 * number parsing would guess (a sign, leading space, 0x/0o/0b, "010" read as octal) we refuse.
 * translate_many() parses every assignment into a Setting, merges settings aimed at the same key
 * and device, then renders the pairs. Nothing here logs: every refusal is a negative errno and a
 * message that quotes the value.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "sdprop.h"

#define WHITESPACE " \t\n\r"
#define DIGITS "0123456789"
#define USEC_INFINITY UINT64_MAX
#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define CPU_PERIOD_DEFAULT_USEC (100 * USEC_PER_MSEC) /* CGROUP_CPU_QUOTA_DEFAULT_PERIOD_USEC */
#define PERMYRIAD_ALL 10000
#define TASKS_MAX_KERNEL UINT64_C(4194303)            /* systemd's TASKS_MAX: PID_MAX_LIMIT - 1 */
#define DEFAULT_TASKS_MAX_PERMYRIAD 1500              /* systemd's DefaultTasksMax=15% */
#define WEIGHT_DEFAULT 100                            /* CGROUP_WEIGHT_DEFAULT */
#define SHARES_DEFAULT 1024                           /* CGROUP_CPU_SHARES_DEFAULT */
#define BLKIO_WEIGHT_DEFAULT 500                      /* CGROUP_BLKIO_WEIGHT_DEFAULT */
#define CPUSET_MAX 8192                               /* cpu_set_add() refuses CPUs from here */
#define QUOTE_MAX 64                                  /* bytes of a value a message quotes */

static inline uint64_t u64_min(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}
static inline uint64_t u64_max(uint64_t a, uint64_t b) {
        return a > b ? a : b;
}
static inline uint64_t u64_clamp(uint64_t v, uint64_t lo, uint64_t hi) {
        return u64_min(u64_max(v, lo), hi);
}
static inline bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}
#define IN_QUOTES(c) ((c) == '"' || (c) == '\'')

/* ---- messages ---- */

typedef struct Quoted {
        char s[QUOTE_MAX * 4 + 4];
} Quoted;

/* At most QUOTE_MAX bytes of s for a message, anything but printable ASCII escaped: a client's
 * value must not put control characters into a terminal or a log line. */
static const char *quote(const char *s, Quoted *q) {
        size_t n = 0;

        for (size_t i = 0; s[i]; i++) {
                unsigned char c = s[i];

                if (i == QUOTE_MAX) {
                        memcpy(q->s + n, "...", 3);
                        n += 3;
                        break;
                }
                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
                        q->s[n++] = c;
                else
                        n += sprintf(q->s + n, "\\x%02x", c);
        }
        q->s[n] = 0;
        return q->s;
}
#define QUOTE(s) quote((s), &(Quoted) {})

_printf_(3, 4)
static int fail(char **error, int r, const char *format, ...) {
        va_list ap;
        char *m;

        assert(r < 0);
        va_start(ap, format);
        if (vasprintf(&m, format, ap) < 0)
                m = NULL;
        va_end(ap);
        free(*error);
        *error = m;
        return r;
}

/* "Invalid value 'X' for Name=: expected ..." or, for -ERANGE, "Value 'X' for Name= is out of
 * range: ...". */
_printf_(5, 6)
static int fail_value(char **error, int r, const char *name, const char *value, const char *format, ...) {
        _cleanup_free_ char *expected = NULL;
        va_list ap;

        va_start(ap, format);
        if (vasprintf(&expected, format, ap) < 0)
                expected = NULL;
        va_end(ap);
        if (!expected)
                return -ENOMEM;
        if (r == -ERANGE)
                return fail(error, r, "Value '%s' for %s= is out of range: %s.", QUOTE(value), name, expected);
        return fail(error, r, "Invalid value '%s' for %s=: %s.", QUOTE(value), name, expected);
}

/* ---- numbers ---- */

/* Reads the decimal digits at *p and moves *p past them. Returns how many, or -ERANGE. */
static int scan_digits(const char **p, uint64_t *ret) {
        uint64_t v = 0;
        int n = 0;

        for (; ascii_isdigit(**p); (*p)++, n++) {
                unsigned d = **p - '0';

                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return n;
}

/* Exactly the n bytes at s as decimal digits. */
static int parse_digits_n(const char *s, size_t n, uint64_t *ret) {
        const char *p = s;
        uint64_t v;
        int k;

        if (n == 0 || !ascii_isdigit(s[0]))
                return -EINVAL;
        k = scan_digits(&p, &v);
        if (k < 0)
                return k;
        if ((size_t) k != n)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* A whole number in the n bytes at s: digits only and no leading zero. systemd's safe_atou64()
 * also takes a sign, leading space and 0x/0o/0b, and reads "010" as octal 8: refused, not
 * guessed. */
static int parse_u64_n(const char *s, size_t n, uint64_t *ret) {
        if (n > 1 && s[0] == '0')
                return -EINVAL;
        return parse_digits_n(s, n, ret);
}

static int parse_u64(const char *s, uint64_t *ret) {
        return parse_u64_n(s, strlen(s), ret);
}

/* The digits after a decimal point as systemd's parse_size() reads them: the integer they spell,
 * divided by ten once per digit, in double. No digit is fine ("10.M"). */
static int scan_fraction(const char **p, double *ret) {
        uint64_t v;
        double f;
        int n;

        n = scan_digits(p, &v);
        if (n < 0)
                return n;
        f = (double) v;
        for (int i = 0; i < n; i++)
                f /= 10;
        *ret = f;
        return 0;
}

/* base^(6 - i): the factor of "EPTGMKB"[i], 1 for i = 6 (B) and 7 (no suffix). */
static uint64_t size_factor(uint64_t base, size_t i) {
        uint64_t f = 1;

        for (size_t k = i; k < 6; k++)
                f *= base;
        return f;
}

/* systemd's parse_size(): one or more components such as "1.5G" or "3G 512M", suffixes in falling
 * order, each component's fraction computed in double and rounded down, the sum checked for
 * overflow. base is 1024 (memory) or 1000 (IO). */
static int parse_size(const char *t, uint64_t base, uint64_t *ret) {
        static const char suffixes[] = "EPTGMKB"; /* index 7: no suffix */
        const char *p = t;
        uint64_t sum = 0;
        size_t start = 0;

        do {
                uint64_t l, factor, part;
                double frac = 0;
                size_t i;
                int r;

                p += strspn(p, WHITESPACE);
                if (*p == '-')
                        return -ERANGE;
                r = scan_digits(&p, &l);
                if (r <= 0)
                        return r < 0 ? r : -EINVAL;
                if (*p == '.') {
                        p++;
                        r = scan_fraction(&p, &frac);
                        if (r < 0)
                                return r;
                }
                p += strspn(p, WHITESPACE);

                for (i = start; i < 7 && *p != suffixes[i]; i++)
                        ;
                if (i > 7) /* a second component after one without a suffix */
                        return -EINVAL;
                factor = size_factor(base, i);
                if (l > UINT64_MAX / factor - (frac > 0))
                        return -ERANGE;
                part = l * factor + (uint64_t) (frac * (double) factor);
                if (part > UINT64_MAX - sum)
                        return -ERANGE;
                sum += part;
                p += i < 7;
                start = i + 1;
        } while (*p);

        *ret = sum;
        return 0;
}

/* The n bytes at s as a number with at most `decimals` digits after a point (at least one when
 * there is a point), times 10^decimals, at most INT_MAX as systemd's int allows. */
static int parse_fixed(const char *s, size_t n, unsigned decimals) {
        const char *dot = memchr(s, '.', n);
        size_t whole = dot ? (size_t) (dot - s) : n;
        uint64_t v, q = 0, scale = 1;
        int r;

        if (n > 0 && s[0] == '-')
                return -ERANGE;
        r = parse_u64_n(s, whole, &v);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < decimals; i++)
                scale *= 10;
        if (dot) {
                size_t places = n - whole - 1;

                if (places == 0 || places > decimals)
                        return -EINVAL;
                r = parse_digits_n(dot + 1, places, &q);
                if (r < 0)
                        return r;
                for (size_t i = places; i < decimals; i++)
                        q *= 10;
        }
        if (v > ((uint64_t) INT_MAX - q) / scale)
                return -ERANGE;
        return (int) (v * scale + q);
}

/* systemd's parse_permyriad_unbounded(): "N%" with up to two decimals, "N‰" with up to one, "N‱"
 * whole. Returns the value in 1/10000 or a negative errno. */
static int parse_permyriad_unbounded(const char *s) {
        static const struct {
                const char *symbol;
                unsigned decimals;
        } forms[] = {
                { "\xe2\x80\xb1", 0 }, /* ‱ */
                { "\xe2\x80\xb0", 1 }, /* ‰ */
                { "%",            2 },
        };
        size_t n = strlen(s);

        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                size_t k = strlen(forms[i].symbol);

                if (n >= k && memcmp(s + n - k, forms[i].symbol, k) == 0)
                        return parse_fixed(s, n - k, forms[i].decimals);
        }
        return -EINVAL;
}

/* systemd's parse_permyriad(): the same, at most 100%. */
static int parse_permyriad(const char *s) {
        int r = parse_permyriad_unbounded(s);

        return r > PERMYRIAD_ALL ? -ERANGE : r;
}

/* systemd's time units, longest first where one is a prefix of another. */
static const struct {
        const char *suffix;
        uint64_t usec;
} time_units[] = {
        { "seconds", USEC_PER_SEC },
        { "second",  USEC_PER_SEC },
        { "sec",     USEC_PER_SEC },
        { "s",       USEC_PER_SEC },
        { "minutes", 60 * USEC_PER_SEC },
        { "minute",  60 * USEC_PER_SEC },
        { "min",     60 * USEC_PER_SEC },
        { "months",  2629800 * USEC_PER_SEC },  /* 30.44 days */
        { "month",   2629800 * USEC_PER_SEC },
        { "M",       2629800 * USEC_PER_SEC },
        { "msec",    USEC_PER_MSEC },
        { "ms",      USEC_PER_MSEC },
        { "m",       60 * USEC_PER_SEC },
        { "hours",   3600 * USEC_PER_SEC },
        { "hour",    3600 * USEC_PER_SEC },
        { "hr",      3600 * USEC_PER_SEC },
        { "h",       3600 * USEC_PER_SEC },
        { "days",    86400 * USEC_PER_SEC },
        { "day",     86400 * USEC_PER_SEC },
        { "d",       86400 * USEC_PER_SEC },
        { "weeks",   604800 * USEC_PER_SEC },
        { "week",    604800 * USEC_PER_SEC },
        { "w",       604800 * USEC_PER_SEC },
        { "years",   31557600 * USEC_PER_SEC }, /* 365.25 days */
        { "year",    31557600 * USEC_PER_SEC },
        { "y",       31557600 * USEC_PER_SEC },
        { "usec",    1 },
        { "us",      1 },
        { "\xce\xbcs", 1 },                     /* μs, GREEK SMALL LETTER MU */
        { "\xc2\xb5s", 1 },                     /* µs, MICRO SIGN */
};

static const char *time_unit(const char *p, uint64_t *ret) {
        for (size_t i = 0; i < ELEMENTSOF(time_units); i++) {
                const char *e = startswith(p, time_units[i].suffix);

                if (e) {
                        *ret = time_units[i].usec;
                        return e;
                }
        }
        return p;
}

/* One "N[.F][ ]UNIT" of parse_sec(), added to *usec; moves *p past it. The fraction is exact to
 * the microsecond, as systemd computes it digit by digit. */
static int time_component(const char **p, uint64_t *usec) {
        const char *q = *p, *frac = NULL, *s;
        uint64_t l, mult = USEC_PER_SEC, k;
        int n;

        if (*q == '-')
                return -ERANGE;
        n = scan_digits(&q, &l);
        if (n < 0)
                return n;
        if (*q == '.') {
                frac = ++q;
                q += strspn(q, DIGITS);
                if (q == frac) /* "3.sec", "3. 1" */
                        return -EINVAL;
        } else if (n == 0)
                return -EINVAL;

        s = time_unit(q + strspn(q, WHITESPACE), &mult);
        if (s == q && *s) /* "12.34.56" */
                return -EINVAL;
        if (l >= USEC_INFINITY / mult)
                return -ERANGE;
        k = l * mult;
        if (k >= USEC_INFINITY - *usec)
                return -ERANGE;
        *usec += k;
        for (uint64_t m = mult / 10; frac && ascii_isdigit(*frac); frac++, m /= 10) {
                k = (uint64_t) (*frac - '0') * m;
                if (k >= USEC_INFINITY - *usec)
                        return -ERANGE;
                *usec += k;
        }
        *p = s;
        return 0;
}

/* systemd's parse_sec(): "infinity", or components such as "1min 30s" or "0.5ms"; a component
 * without a unit is in seconds. */
static int parse_sec(const char *t, uint64_t *ret) {
        const char *p = t + strspn(t, WHITESPACE), *s;
        uint64_t usec = 0;
        bool something = false;

        s = startswith(p, "infinity");
        if (s) {
                if (s[strspn(s, WHITESPACE)])
                        return -EINVAL;
                *ret = USEC_INFINITY;
                return 0;
        }
        for (;;) {
                int r;

                p += strspn(p, WHITESPACE);
                if (!*p)
                        break;
                r = time_component(&p, &usec);
                if (r < 0)
                        return r;
                something = true;
        }
        if (!something)
                return -EINVAL;
        *ret = usec;
        return 0;
}

/* ---- systemd's arithmetic ---- */

static uint64_t system_page_size(void) {
        long ps = sysconf(_SC_PAGESIZE);

        return ps > 0 ? (uint64_t) ps : 4096;
}

/* physical_memory_scale(v, 10000): 100% is the whole, anything else rounds down to a page. */
static uint64_t memory_scale(const SdpropContext *ctx, unsigned permyriad) {
        uint64_t ps = ctx->page_size ?: system_page_size();
        uint64_t pages = ctx->physical_memory / ps, m;

        if (permyriad == 0)
                return 0;
        if (permyriad == PERMYRIAD_ALL)
                return ctx->physical_memory;
        if (pages == 0)
                return 0;
        if (permyriad > UINT64_MAX / pages)
                return UINT64_MAX;
        m = pages * permyriad / PERMYRIAD_ALL;
        if (m > UINT64_MAX / ps)
                return UINT64_MAX;
        return m * ps;
}

/* system_tasks_max_scale(v, 10000): rounds down, UINT64_MAX on overflow. */
static uint64_t tasks_scale(uint64_t tasks_max, unsigned permyriad) {
        if (permyriad == 0)
                return 0;
        if (permyriad == PERMYRIAD_ALL)
                return tasks_max;
        if (permyriad > UINT64_MAX / tasks_max)
                return UINT64_MAX;
        return tasks_max * permyriad / PERMYRIAD_ALL;
}

/* cgroup_cpu_adjust_period(): the kernel counts the period and the quota within it in steps of
 * 1ms, so a small quota stretches the period; never beyond 1s. */
static uint64_t cpu_adjust_period(uint64_t period, uint64_t quota_per_sec) {
        uint64_t needed = USEC_PER_MSEC * USEC_PER_SEC / quota_per_sec;

        return u64_min(u64_max(u64_max(period, USEC_PER_MSEC), needed), USEC_PER_SEC);
}

/* cgroup_cpu_shares_to_weight() and cgroup_weight_blkio_to_io(). */
uint64_t sdprop_shares_to_weight(uint64_t shares) {
        return u64_clamp(shares * WEIGHT_DEFAULT / SHARES_DEFAULT, 1, 10000);
}
uint64_t sdprop_blkio_to_io_weight(uint64_t blkio) {
        return u64_clamp(blkio * WEIGHT_DEFAULT / BLKIO_WEIGHT_DEFAULT, 1, 10000);
}

/* cgroup_apply_unified_cpu_quota(): "QUOTA PERIOD" with the period stretched for small quotas
 * and the quota at least 1ms; no quota is "max" with the default period, whatever was asked. */
void sdprop_cpu_max(uint64_t quota_per_sec, uint64_t period, char *buf, size_t size) {
        if (quota_per_sec == USEC_INFINITY) {
                snprintf(buf, size, "max %" PRIu64, (uint64_t) CPU_PERIOD_DEFAULT_USEC);
                return;
        }
        period = period != USEC_INFINITY ? period : CPU_PERIOD_DEFAULT_USEC;
        period = cpu_adjust_period(period, quota_per_sec);
        uint64_t quota = u64_max(quota_per_sec * period / USEC_PER_SEC, USEC_PER_MSEC);
        snprintf(buf, size, "%" PRIu64 " %" PRIu64, quota, period);
}

/* ---- settings ---- */

typedef enum IoField { IO_RBPS, IO_WBPS, IO_RIOPS, IO_WIOPS, _IO_FIELD_MAX } IoField;

static const char *const io_field_name[_IO_FIELD_MAX] = { "rbps", "wbps", "riops", "wiops" };

typedef enum SettingKind {
        SETTING_TEXT,    /* the value is known: text */
        SETTING_CPU_MAX, /* rendered from quota and period once all assignments are in */
        SETTING_IO_MAX,  /* rendered from the limits of one device once all assignments are in */
} SettingKind;

/* What one or more assignments ask of one v2 key (and device). */
typedef struct Setting {
        SettingKind kind;
        char *key;
        bool passthrough;               /* a v2 assignment: never merged */
        char *text;                     /* TEXT */
        unsigned rank;                  /* TEXT: the higher rank wins for one key and device */
        bool has_device;
        unsigned major, minor;
        bool quota_set, period_set;     /* CPU_MAX */
        uint64_t quota_per_sec;         /* CPU_MAX: USEC_INFINITY for none */
        uint64_t period;                /* CPU_MAX, if period_set: USEC_INFINITY for the default */
        bool io_set[_IO_FIELD_MAX];     /* IO_MAX */
        unsigned io_rank[_IO_FIELD_MAX];
        uint64_t io_limit[_IO_FIELD_MAX]; /* UINT64_MAX for max */
} Setting;

static void setting_done(Setting *s) {
        s->key = mfree(s->key);
        s->text = mfree(s->text);
}

_printf_(2, 3)
static int setting_textf(Setting *s, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s->text, format, ap);
        va_end(ap);
        if (r < 0) {
                s->text = NULL;
                return -ENOMEM;
        }
        s->kind = SETTING_TEXT;
        return 0;
}

typedef struct Property Property;
typedef int (*PropertyParse)(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error);

struct Property {
        const char *name;       /* systemd's */
        const char *key;        /* cgroup v2 */
        PropertyParse parse;
        unsigned rank;          /* the current name 1, its v1 form 0 */
        unsigned arg;           /* for parse */
};

enum {
        MEM_ZERO_OK       = 1 << 0, /* 0 bytes is a valid value */
        MEM_EMPTY_IS_ZERO = 1 << 1, /* empty resets to 0, not to infinity */
        ARG_LEGACY        = 1 << 8, /* the v1 form of a name (BlockIO*=) */
        ARG_FIELD_MASK    = 0xff,   /* IoField */
};

/* ---- parsers, one per kind of systemd value ---- */

static int memory_bytes(const Property *p, const char *value, const SdpropContext *ctx, uint64_t *ret, char **error) {
        int r;

        r = parse_permyriad(value);
        if (r >= 0) {
                if (ctx->physical_memory == 0)
                        return fail(error, -EOPNOTSUPP, "%s=%s: the size of physical memory is not known.",
                                    p->name, QUOTE(value));
                *ret = memory_scale(ctx, r);
                return 0;
        }
        if (r == -ERANGE)
                return fail_value(error, r, p->name, value, "a percentage of physical memory goes from 0%% to 100%%");

        r = parse_size(value, 1024, ret);
        if (r < 0)
                return fail_value(error, r, p->name, value,
                                  "expected bytes with an optional K, M, G, T, P or E suffix (base 1024), "
                                  "a percentage of physical memory, or 'infinity'");
        return 0;
}

/* MemoryMin=, MemoryLow=, MemoryHigh=, MemoryMax=, MemoryLimit=, MemorySwapMax=: as
 * config_parse_memory_limit(). */
static int parse_memory(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        uint64_t bytes;
        int r;

        if (isempty(value))
                bytes = (p->arg & MEM_EMPTY_IS_ZERO) ? 0 : UINT64_MAX;
        else if (streq(value, "infinity"))
                bytes = UINT64_MAX;
        else {
                r = memory_bytes(p, value, ctx, &bytes, error);
                if (r < 0)
                        return r;
                if (bytes == UINT64_MAX || (bytes == 0 && !(p->arg & MEM_ZERO_OK)))
                        return fail_value(error, -ERANGE, p->name, value,
                                          "expected %s to 18446744073709551614 bytes, or 'infinity'",
                                          (p->arg & MEM_ZERO_OK) ? "0" : "1");
        }

        if (bytes == UINT64_MAX)
                return setting_textf(s, "max");
        return setting_textf(s, "%" PRIu64, bytes);
}

/* CPUQuota=: config_parse_cpu_quota(), a quota per second of time. */
static int parse_cpu_quota(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        int r;

        s->kind = SETTING_CPU_MAX;
        s->quota_set = true;
        s->quota_per_sec = USEC_INFINITY;
        if (isempty(value))
                return 0;

        r = parse_permyriad_unbounded(value);
        if (r == 0)
                r = -ERANGE;
        if (r < 0)
                return fail_value(error, r, p->name, value,
                                  "expected a percentage of one CPU above 0%% with at most two decimals, "
                                  "such as 20%%, 150%% or 12.5%%");
        s->quota_per_sec = (uint64_t) r * USEC_PER_SEC / PERMYRIAD_ALL;
        return 0;
}

/* CPUQuotaPeriodSec=: parse_sec_def_infinity(); empty and infinity mean the default period. */
static int parse_cpu_period(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        int r;

        s->kind = SETTING_CPU_MAX;
        s->period_set = true;
        s->period = USEC_INFINITY;
        if (isempty(value))
                return 0;

        r = parse_sec(value, &s->period);
        if (r < 0)
                return fail_value(error, r, p->name, value, "expected a time span such as 10ms, 0.5s or 1s, or 'infinity'");
        return 0;
}

/* A whole number in [min, max]. */
static int parse_ranged(const Property *p, const char *value, uint64_t min, uint64_t max, uint64_t *ret, char **error) {
        int r;

        r = parse_u64(value, ret);
        if (r == 0 && (*ret < min || *ret > max))
                r = -ERANGE;
        if (r < 0)
                return fail_value(error, r, p->name, value, "expected an integer from %" PRIu64 " to %" PRIu64, min, max);
        return 0;
}

/* CPUWeight=: cg_cpu_weight_parse(); empty is the default weight, which systemd then writes. */
static int parse_cpu_weight(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        uint64_t w = WEIGHT_DEFAULT;
        int r;

        if (streq(value, "idle"))
                return fail(error, -EOPNOTSUPP,
                            "CPUWeight=idle is not supported: systemd writes cpu.idle for it, which is not a property; "
                            "CPUWeight=1 is the lowest weight.");
        if (!isempty(value)) {
                r = parse_ranged(p, value, 1, 10000, &w, error);
                if (r < 0)
                        return r;
        }
        return setting_textf(s, "%" PRIu64, w);
}

/* CPUShares=: cg_cpu_shares_parse(), then cgroup_cpu_shares_to_weight(). */
static int parse_cpu_shares(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        uint64_t shares = SHARES_DEFAULT;
        int r;

        if (!isempty(value)) {
                r = parse_ranged(p, value, 2, 262144, &shares, error);
                if (r < 0)
                        return r;
        }
        return setting_textf(s, "%" PRIu64, sdprop_shares_to_weight(shares));
}

/* IOWeight=: cg_weight_parse() written as io.weight's default. */
static int parse_io_weight(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        uint64_t w = WEIGHT_DEFAULT;
        int r;

        if (!isempty(value)) {
                r = parse_ranged(p, value, 1, 10000, &w, error);
                if (r < 0)
                        return r;
        }
        return setting_textf(s, "default %" PRIu64, w);
}

/* BlockIOWeight=: cg_blkio_weight_parse(), then cgroup_weight_blkio_to_io(). */
static int parse_blkio_weight(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        uint64_t w = BLKIO_WEIGHT_DEFAULT;
        int r;

        if (!isempty(value)) {
                r = parse_ranged(p, value, 10, 1000, &w, error);
                if (r < 0)
                        return r;
        }
        return setting_textf(s, "default %" PRIu64, sdprop_blkio_to_io_weight(w));
}

static int tasks_from_percent(const Property *p, const char *value, const SdpropContext *ctx, int permyriad,
                              uint64_t *ret, char **error) {
        if (ctx->tasks_max == 0)
                return fail(error, -EOPNOTSUPP, "%s=%s: the system's maximum number of tasks is not known.",
                            p->name, QUOTE(value));
        *ret = tasks_scale(ctx->tasks_max, permyriad);
        if (*ret == 0)
                return fail_value(error, -ERANGE, p->name, value,
                                  "it comes to 0 of the system's %" PRIu64 " tasks, and pids.max takes at least 1",
                                  ctx->tasks_max);
        return 0;
}

/* TasksMax=: config_parse_tasks_max() and cgroup_tasks_max_resolve(); empty is systemd's
 * DefaultTasksMax=15%. */
static int parse_tasks_max(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        uint64_t n = UINT64_MAX;
        int r;

        if (streq(value, "infinity"))
                return setting_textf(s, "max");

        r = isempty(value) ? DEFAULT_TASKS_MAX_PERMYRIAD : parse_permyriad(value);
        if (r >= 0)
                r = tasks_from_percent(p, value, ctx, r, &n, error);
        else if (r == -ERANGE)
                return fail_value(error, r, p->name, value, "a percentage of the system's tasks goes from 0%% to 100%%");
        else {
                r = parse_u64(value, &n);
                if (r == 0 && (n == 0 || n == UINT64_MAX))
                        r = -ERANGE;
                if (r < 0)
                        return fail_value(error, r, p->name, value,
                                          "expected a number of tasks from 1, a percentage of the system's tasks, "
                                          "or 'infinity'");
        }
        if (r < 0)
                return r;
        if (n == UINT64_MAX)
                return setting_textf(s, "max");
        return setting_textf(s, "%" PRIu64, n);
}

/* "PATH REST" of the per-device settings: PATH absolute, in quotes if it has spaces, REST not
 * empty. An empty value would reset every device's setting, which needs the list of devices. */
static int split_device(const Property *p, const char *value, char **ret_path, const char **ret_rest, char **error) {
        _cleanup_free_ char *path = NULL;
        const char *rest, *end;

        if (isempty(value))
                return fail(error, -EINVAL,
                            "%s= without a device would reset the setting of every device, which cannot be done "
                            "through properties: name the device, as in '%s=/dev/sda %s'.",
                            p->name, p->name, streq(p->key, "io.max") ? "5M" : "200");

        if (IN_QUOTES(value[0])) {
                end = strchr(value + 1, value[0]);
                if (!end)
                        goto invalid;
                path = strndup(value + 1, end - value - 1);
                rest = end + 1;
                if (*rest && !strchr(WHITESPACE, *rest))
                        goto invalid;
        } else {
                size_t n = strcspn(value, WHITESPACE);

                path = strndup(value, n);
                rest = value + n;
        }
        if (!path)
                return -ENOMEM;
        rest += strspn(rest, WHITESPACE);
        if (path[0] != '/' || isempty(rest))
                goto invalid;

        *ret_path = TAKE_PTR(path);
        *ret_rest = rest;
        return 0;

invalid:
        return fail_value(error, -EINVAL, p->name, value,
                          "expected an absolute device path and a value, such as '/dev/sda 100'");
}

static int resolve_device(const Property *p, const char *path, const SdpropContext *ctx, Setting *s, char **error) {
        SdpropResolveDevice resolve = ctx->resolve_device ?: sdprop_resolve_device;
        unsigned dev_major = 0, dev_minor = 0;
        int r;

        r = resolve(path, ctx->userdata, &dev_major, &dev_minor);
        if (r == -ENOTBLK)
                return fail(error, r, "Device '%s' for %s= is not a block device.", QUOTE(path), p->name);
        if (r < 0) {
                errno = -r;
                return fail(error, r, "Cannot resolve device '%s' for %s=: %m", QUOTE(path), p->name);
        }
        s->has_device = true;
        s->major = dev_major;
        s->minor = dev_minor;
        return 0;
}

/* IODeviceWeight=, BlockIODeviceWeight=: config_parse_io_device_weight(),
 * config_parse_blockio_device_weight() and cgroup_weight_blkio_to_io(). */
static int parse_io_device_weight(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        bool legacy = p->arg & ARG_LEGACY;
        _cleanup_free_ char *path = NULL;
        const char *rest;
        uint64_t w;
        int r;

        r = split_device(p, value, &path, &rest, error);
        if (r < 0)
                return r;
        r = parse_ranged(p, rest, legacy ? 10 : 1, legacy ? 1000 : 10000, &w, error);
        if (r < 0)
                return r;
        r = resolve_device(p, path, ctx, s, error);
        if (r < 0)
                return r;
        return setting_textf(s, "%u:%u %" PRIu64, s->major, s->minor, legacy ? sdprop_blkio_to_io_weight(w) : w);
}

/* IO{Read,Write}{Bandwidth,IOPS}Max=, BlockIO{Read,Write}Bandwidth=: config_parse_io_limit() and
 * config_parse_blockio_bandwidth(): parse_size() base 1000, above 0; only the IO*= names take
 * "infinity". */
static int parse_io_limit(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        IoField field = p->arg & ARG_FIELD_MASK;
        bool legacy = p->arg & ARG_LEGACY;
        _cleanup_free_ char *path = NULL;
        const char *rest;
        uint64_t v = UINT64_MAX;
        int r;

        r = split_device(p, value, &path, &rest, error);
        if (r < 0)
                return r;
        if (legacy || !streq(rest, "infinity")) {
                r = parse_size(rest, 1000, &v);
                if (r == 0 && v == 0)
                        r = -ERANGE;
                if (r < 0)
                        return fail_value(error, r, p->name, rest,
                                          "expected %s per second above 0 with an optional K, M, G, T, P or E "
                                          "suffix (base 1000)%s",
                                          field >= IO_RIOPS ? "operations" : "bytes", legacy ? "" : ", or 'infinity'");
        }
        r = resolve_device(p, path, ctx, s, error);
        if (r < 0)
                return r;
        s->kind = SETTING_IO_MAX;
        s->io_set[field] = true;
        s->io_rank[field] = p->rank;
        s->io_limit[field] = v;
        return 0;
}

/* One "N" or "N-M" of a CPU or node list into bits. systemd ignores a reversed range with a
 * warning; a library cannot warn, so it is refused. */
static int cpuset_add(uint64_t *bits, const char *w, size_t n) {
        const char *dash = memchr(w, '-', n);
        uint64_t lo, hi;
        int r;

        r = parse_u64_n(w, dash ? (size_t) (dash - w) : n, &lo);
        if (r < 0)
                return r;
        hi = lo;
        if (dash) {
                r = parse_u64_n(dash + 1, n - (dash - w) - 1, &hi);
                if (r < 0)
                        return r;
        }
        if (lo > hi)
                return -EINVAL;
        if (hi >= CPUSET_MAX)
                return -ERANGE;
        for (uint64_t i = lo; i <= hi; i++)
                bits[i / 64] |= UINT64_C(1) << (i % 64);
        return 0;
}

static bool cpuset_test(const uint64_t *bits, unsigned i) {
        return i < CPUSET_MAX && (bits[i / 64] & (UINT64_C(1) << (i % 64)));
}

/* The kernel's list form, "0-3,6", as cpu_set_to_range_string() writes it but with commas. */
static int cpuset_format(const uint64_t *bits, char **ret) {
        char *buf = malloc(CPUSET_MAX / 2 * sizeof(",8190-8191") + 1);
        size_t n = 0;

        if (!buf)
                return -ENOMEM;
        for (unsigned i = 0; i < CPUSET_MAX; i++) {
                unsigned j = i;

                if (!cpuset_test(bits, i))
                        continue;
                while (cpuset_test(bits, j + 1))
                        j++;
                n += sprintf(buf + n, n > 0 ? ",%u" : "%u", i);
                if (j > i)
                        n += sprintf(buf + n, "-%u", j);
                i = j;
        }
        buf[n] = 0;
        *ret = buf;
        return 0;
}

/* AllowedCPUs=, AllowedMemoryNodes=: parse_cpu_set_full(); numbers and ranges separated by spaces
 * or commas; empty is the empty set (v2: use the parent's). */
static int parse_cpuset(const Property *p, const char *value, const SdpropContext *ctx, Setting *s, char **error) {
        uint64_t bits[CPUSET_MAX / 64] = {};
        const char *w = value;
        int r;

        for (;;) {
                size_t n;

                w += strspn(w, WHITESPACE ",");
                if (!*w)
                        break;
                n = strcspn(w, WHITESPACE ",");
                r = cpuset_add(bits, w, n);
                if (r < 0)
                        return fail_value(error, r, p->name, value,
                                          "expected %s numbers and ranges below %d separated by commas or spaces, "
                                          "such as '0-3,6'",
                                          p->arg ? "memory node" : "CPU", CPUSET_MAX);
                w += n;
        }
        s->kind = SETTING_TEXT;
        return cpuset_format(bits, &s->text);
}

static const Property properties[] = {
        { "MemoryMin",             "memory.min",      parse_memory,           1, MEM_ZERO_OK | MEM_EMPTY_IS_ZERO },
        { "MemoryLow",             "memory.low",      parse_memory,           1, MEM_ZERO_OK | MEM_EMPTY_IS_ZERO },
        { "MemoryHigh",            "memory.high",     parse_memory,           1, 0 },
        { "MemoryMax",             "memory.max",      parse_memory,           1, 0 },
        { "MemoryLimit",           "memory.max",      parse_memory,           0, 0 },
        { "MemorySwapMax",         "memory.swap.max", parse_memory,           1, MEM_ZERO_OK },
        { "CPUQuota",              "cpu.max",         parse_cpu_quota,        1, 0 },
        { "CPUQuotaPeriodSec",     "cpu.max",         parse_cpu_period,       1, 0 },
        { "CPUWeight",             "cpu.weight",      parse_cpu_weight,       1, 0 },
        { "CPUShares",             "cpu.weight",      parse_cpu_shares,       0, 0 },
        { "TasksMax",              "pids.max",        parse_tasks_max,        1, 0 },
        { "IOWeight",              "io.weight",       parse_io_weight,        1, 0 },
        { "BlockIOWeight",         "io.weight",       parse_blkio_weight,     0, 0 },
        { "IODeviceWeight",        "io.weight",       parse_io_device_weight, 1, 0 },
        { "BlockIODeviceWeight",   "io.weight",       parse_io_device_weight, 0, ARG_LEGACY },
        { "IOReadBandwidthMax",    "io.max",          parse_io_limit,         1, IO_RBPS },
        { "IOWriteBandwidthMax",   "io.max",          parse_io_limit,         1, IO_WBPS },
        { "IOReadIOPSMax",         "io.max",          parse_io_limit,         1, IO_RIOPS },
        { "IOWriteIOPSMax",        "io.max",          parse_io_limit,         1, IO_WIOPS },
        { "BlockIOReadBandwidth",  "io.max",          parse_io_limit,         0, IO_RBPS | ARG_LEGACY },
        { "BlockIOWriteBandwidth", "io.max",          parse_io_limit,         0, IO_WBPS | ARG_LEGACY },
        { "AllowedCPUs",           "cpuset.cpus",     parse_cpuset,           1, 0 },
        { "AllowedMemoryNodes",    "cpuset.mems",     parse_cpuset,           1, 1 },
};

static const Property *property_lookup(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(properties); i++)
                if (streq(properties[i].name, name))
                        return properties + i;
        return NULL;
}

static int fail_unknown(const char *name, char **error) {
        char list[1024];
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(properties) && n < sizeof(list); i++)
                n += snprintf(list + n, sizeof(list) - n, "%s%s=", i > 0 ? ", " : "", properties[i].name);
        return fail(error, -EINVAL, "Unknown property '%s': supported are %s, and cgroup v2 keys such as memory.max=1G.",
                    QUOTE(name), list);
}

/* ---- assignments ---- */

static char *strndup_trimmed(const char *s, size_t n) {
        while (n > 0 && strchr(WHITESPACE, s[0])) {
                s++;
                n--;
        }
        while (n > 0 && strchr(WHITESPACE, s[n - 1]))
                n--;
        return strndup(s, n);
}

/* "memory.max=1G": a v2 key has a dot, a systemd name never does. Both sides go to the daemon
 * as they are; it validates them. */
static int setting_passthrough(const char *assignment, const char *eq, Setting *s) {
        s->kind = SETTING_TEXT;
        s->passthrough = true;
        s->key = strndup(assignment, eq - assignment);
        s->text = strdup(eq + 1);
        return s->key && s->text ? 0 : -ENOMEM;
}

static int setting_parse(const char *assignment, const SdpropContext *ctx, Setting *s, char **error) {
        _cleanup_free_ char *name = NULL, *value = NULL;
        const char *eq = strchr(assignment, '=');
        const Property *p;

        if (!eq || eq == assignment)
                return fail(error, -EINVAL,
                            "Invalid assignment '%s': expected NAME=VALUE, such as MemoryMax=1G or memory.max=1G.",
                            QUOTE(assignment));
        if (memchr(assignment, '.', eq - assignment))
                return setting_passthrough(assignment, eq, s);

        /* Like a unit file: space around the name and the value does not count. */
        name = strndup_trimmed(assignment, eq - assignment);
        value = strndup_trimmed(eq + 1, strlen(eq + 1));
        if (!name || !value)
                return -ENOMEM;
        p = property_lookup(name);
        if (!p)
                return fail_unknown(name, error);

        s->key = strdup(p->key);
        if (!s->key)
                return -ENOMEM;
        s->rank = p->rank;
        return p->parse(p, value, ctx, s, error);
}

static bool setting_same_target(const Setting *a, const Setting *b) {
        if (a->passthrough || b->passthrough || !streq(a->key, b->key) || a->has_device != b->has_device)
                return false;
        return !a->has_device || (a->major == b->major && a->minor == b->minor);
}

/* Folds a later setting for the same target into an earlier one: the later wins unless it is the
 * v1 form of a name whose current form was given; cpu.max and io.max merge field by field. */
static void setting_merge(Setting *old, Setting *new) {
        switch (old->kind) {
        case SETTING_TEXT:
                if (new->rank >= old->rank) {
                        free(old->text);
                        old->text = TAKE_PTR(new->text);
                        old->rank = new->rank;
                }
                break;
        case SETTING_CPU_MAX:
                if (new->quota_set) {
                        old->quota_set = true;
                        old->quota_per_sec = new->quota_per_sec;
                }
                if (new->period_set) {
                        old->period_set = true;
                        old->period = new->period;
                }
                break;
        case SETTING_IO_MAX:
                for (IoField f = 0; f < _IO_FIELD_MAX; f++)
                        if (new->io_set[f] && (!old->io_set[f] || new->io_rank[f] >= old->io_rank[f])) {
                                old->io_set[f] = true;
                                old->io_rank[f] = new->io_rank[f];
                                old->io_limit[f] = new->io_limit[f];
                        }
                break;
        }
}

typedef struct Settings {
        Setting *items;
        size_t n;
} Settings;

static void settings_done(Settings *l) {
        for (size_t i = 0; i < l->n; i++)
                setting_done(l->items + i);
        l->items = mfree(l->items);
        l->n = 0;
}

static int settings_add(Settings *l, const char *assignment, const SdpropContext *ctx, char **error) {
        _cleanup_(setting_done) Setting s = {};
        Setting *grown;
        int r;

        r = setting_parse(assignment, ctx, &s, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n; i++)
                if (setting_same_target(l->items + i, &s)) {
                        setting_merge(l->items + i, &s);
                        return 0;
                }

        grown = realloc(l->items, (l->n + 1) * sizeof(Setting));
        if (!grown)
                return -ENOMEM;
        l->items = grown;
        l->items[l->n++] = s;
        s = (Setting) {};
        return 0;
}

_printf_(2, 3)
static int format_alloc(char **ret, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(ret, format, ap);
        va_end(ap);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* cpu.max from CPUQuota= and CPUQuotaPeriodSec= (sdprop_cpu_max()). */
static int cpu_max_format(const Setting *s, char **ret, char **error) {
        char buf[64];

        if (!s->quota_set)
                return fail(error, -EINVAL,
                            "CPUQuotaPeriodSec= needs CPUQuota= in the same call: cpu.max holds both, and without a "
                            "quota systemd writes the default period.");
        sdprop_cpu_max(s->quota_per_sec, s->period_set ? s->period : USEC_INFINITY, buf, sizeof buf);
        return format_alloc(ret, "%s", buf);
}

/* "MAJ:MIN rbps=N wbps=max": the limits given, in the kernel's order; the kernel keeps the rest. */
static int io_max_format(const Setting *s, char **ret) {
        char buf[256];
        int n;

        n = snprintf(buf, sizeof(buf), "%u:%u", s->major, s->minor);
        for (IoField f = 0; f < _IO_FIELD_MAX; f++) {
                if (!s->io_set[f])
                        continue;
                if (s->io_limit[f] == UINT64_MAX)
                        n += snprintf(buf + n, sizeof(buf) - n, " %s=max", io_field_name[f]);
                else
                        n += snprintf(buf + n, sizeof(buf) - n, " %s=%" PRIu64, io_field_name[f], s->io_limit[f]);
        }
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int setting_format(const Setting *s, char **ret, char **error) {
        switch (s->kind) {
        case SETTING_CPU_MAX:
                return cpu_max_format(s, ret, error);
        case SETTING_IO_MAX:
                return io_max_format(s, ret);
        case SETTING_TEXT:
                break;
        }
        *ret = strdup(s->text);
        return *ret ? 0 : -ENOMEM;
}

static int settings_format(const Settings *l, char ***ret, char **error) {
        _cleanup_strv_free_ char **pairs = calloc(1, sizeof(char *));
        size_t n = 0;
        int r;

        if (!pairs)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *value = NULL;

                r = setting_format(l->items + i, &value, error);
                if (r < 0)
                        return r;
                r = strv_extend(&pairs, &n, l->items[i].key);
                if (r < 0)
                        return r;
                r = strv_push(&pairs, &n, value);
                if (r < 0)
                        return r;
                value = NULL;
        }
        *ret = TAKE_PTR(pairs);
        return 0;
}

int sdprop_translate_many(const char *const *assignments, const SdpropContext *ctx, char ***ret_pairs, char **ret_error) {
        _cleanup_(settings_done) Settings l = {};
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_free_ char *error = NULL;
        SdpropContext sys_ctx;
        int r = 0;

        assert(assignments);
        assert(ret_pairs);

        if (!ctx) {
                (void) sdprop_context_from_system(&sys_ctx);
                ctx = &sys_ctx;
        }
        for (const char *const *a = assignments; *a && r >= 0; a++)
                r = settings_add(&l, *a, ctx, &error);
        if (r >= 0)
                r = settings_format(&l, &pairs, &error);
        if (r < 0) {
                if (!error) {
                        errno = -r;
                        (void) format_alloc(&error, "Cannot translate properties: %m");
                }
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        *ret_pairs = TAKE_PTR(pairs);
        return 0;
}

int sdprop_translate(const char *assignment, const SdpropContext *ctx, char ***ret_pairs, char **ret_error) {
        const char *const assignments[] = { assignment, NULL };

        assert(assignment);
        return sdprop_translate_many(assignments, ctx, ret_pairs, ret_error);
}

/* ---- the system ---- */

/* A small sysfs/procfs file, without its trailing newline. */
static int read_small_file(const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

/* A number or "max" (UINT64_MAX). */
static int read_u64_file(const char *path, uint64_t *ret) {
        char buf[64];
        int r;

        r = read_small_file(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (streq(buf, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_u64(buf, ret);
}

/* physical_memory(): RAM, capped by the memory limit of the cgroup root we see (a container's),
 * rounded down to a page. */
static uint64_t system_physical_memory(uint64_t ps) {
        long pages = sysconf(_SC_PHYS_PAGES);
        uint64_t mem = pages > 0 ? (uint64_t) pages * ps : 0, lim;

        if (read_u64_file("/sys/fs/cgroup/memory.max", &lim) < 0 &&
            read_u64_file("/sys/fs/cgroup/memory/memory.limit_in_bytes", &lim) < 0)
                return mem;
        if (lim == UINT64_MAX)
                return mem;
        lim = lim / ps * ps;
        return mem == 0 ? lim : u64_min(mem, lim);
}

/* system_tasks_max(): the smallest of kernel.threads-max, kernel.pid_max - 1 (PID 0 is not a
 * PID) and the root cgroup's pids.max. */
static uint64_t system_tasks_max(void) {
        uint64_t t = TASKS_MAX_KERNEL, v;

        if (read_u64_file("/proc/sys/kernel/threads-max", &v) >= 0)
                t = u64_min(t, v);
        if (read_u64_file("/proc/sys/kernel/pid_max", &v) >= 0 && v > 0)
                t = u64_min(t, v - 1);
        if (read_u64_file("/sys/fs/cgroup/pids.max", &v) >= 0 ||
            read_u64_file("/sys/fs/cgroup/pids/pids.max", &v) >= 0)
                t = u64_min(t, v);
        return t;
}

int sdprop_context_from_system(SdpropContext *ret) {
        uint64_t ps = system_page_size();

        assert(ret);
        *ret = (SdpropContext) {
                .physical_memory = system_physical_memory(ps),
                .page_size = ps,
                .tasks_max = system_tasks_max(),
        };
        return 0;
}

/* block_get_whole_disk(): a partition has a "partition" attribute in sysfs, and its disk is the
 * parent directory. */
static int block_whole_disk(const char *sysfs, dev_t *dev) {
        char path[PATH_MAX], text[64], *colon;
        uint64_t maj, min;
        int r;

        r = snprintf(path, sizeof(path), "%s/dev/block/%u:%u/partition", sysfs, major(*dev), minor(*dev));
        if (r < 0 || (size_t) r >= sizeof(path))
                return -ENAMETOOLONG;
        if (access(path, F_OK) < 0)
                return negative_errno();

        (void) snprintf(path, sizeof(path), "%s/dev/block/%u:%u/../dev", sysfs, major(*dev), minor(*dev));
        r = read_small_file(path, text, sizeof(text));
        if (r < 0)
                return r;
        colon = strchr(text, ':');
        if (!colon ||
            parse_u64_n(text, colon - text, &maj) < 0 ||
            parse_u64(colon + 1, &min) < 0 ||
            maj > UINT32_MAX || min > UINT32_MAX)
                return -EBADMSG;
        *dev = makedev(maj, min);
        return 0;
}

int sdprop_resolve_device(const char *path, void *userdata, unsigned *ret_major, unsigned *ret_minor) {
        const char *sysfs = userdata ?: "/sys";
        struct stat st;
        dev_t dev;

        assert(path);
        assert(ret_major);
        assert(ret_minor);

        if (stat(path, &st) < 0)
                return negative_errno();
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        dev = st.st_rdev;
        (void) block_whole_disk(sysfs, &dev);
        *ret_major = major(dev);
        *ret_minor = minor(dev);
        return 0;
}
