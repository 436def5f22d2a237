/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-knob: the two parsers of a client's property values. The input is "KEY=VALUE" (several
 * lines for the systemd form). lib/knob.c: knob_parse() of KEY itself (the refusal of unknown and
 * never-writable keys), then of VALUE under every key of the property table; an accepted value
 * must format canonically (knob_format() at its exact buffer size and one byte short) and parse
 * back to the same KnobValue, never exceed itself as a ceiling, compare consistently with fixed
 * ceilings and turn into v1 writes of one line each. VALUE split at '|' also stands for up to four
 * v1 files read back (knob_from_v1_sources()), whose every line must be a v2 value the grammar
 * takes; the same texts as each usage key's v2 and v1 files (usage_from_v2(), usage_from_v1())
 * must give a canonical text, which reads back to itself. client/sdprop.c: the lines as systemd
 * assignments ("MemoryMax=1G", "CPUQuota=50%"), whose translation the daemon's grammar must take
 * (a range may still refuse it). Every refusal
 * message must be one line of printable ASCII: it goes into D-Bus replies and logs.
 */
#include <inttypes.h>
#include <stdbool.h>

#include "fuzz-util.h"
#include "knob.h"
#include "macro.h"
#include "sdprop.h"

#define TEXT_MAX 8192

static bool printable_line(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        return false;
        return true;
}

static void check_refusal(int r, const CgdRefusal *refusal, const char *key, const char *value) {
        FUZZ_CHECK(r == -EINVAL || r == -ERANGE, "%s=%s: knob_parse() returned %d", key, value, r);
        FUZZ_CHECK(refusal->error >= 0 && refusal->error < _CGD_ERROR_MAX, "%s: error %d", key, refusal->error);
        FUZZ_CHECK(refusal->message[0] != '\0' && printable_line(refusal->message), "%s: message '%s'", key,
                   refusal->message);
}

/* knob_format() at, below and above the size it needs, and parse(format(v)) == v. */
static void check_format(const KnobValue *v) {
        const char *key = knob_info(v->id)->key;
        char text[TEXT_MAX], small[TEXT_MAX];
        CgdRefusal refusal = {};
        KnobValue again;
        int n, r;

        n = knob_format(v, text, sizeof text);
        FUZZ_CHECK(n >= 0 && (size_t) n == strlen(text), "%s: knob_format() returned %d", key, n);
        FUZZ_CHECK(printable_line(text), "%s: canonical text '%s'", key, text);
        r = knob_format(v, small, (size_t) n);
        FUZZ_CHECK(r == -ENOBUFS, "%s: knob_format(%d bytes) for '%s' returned %d", key, n, text, r);
        FUZZ_CHECK(n == 0 || small[0] == '\0', "%s: a truncated knob_format() left '%.*s'", key, n, small);
        r = knob_format(v, small, (size_t) n + 1);
        FUZZ_CHECK(r == n && streq(small, text), "%s: knob_format(%d bytes) returned %d", key, n + 1, r);

        memset(&again, 0, sizeof again);
        r = knob_parse(key, text, &again, &refusal);
        FUZZ_CHECK(r == 0, "%s=%s: the canonical text does not parse: %s", key, text, refusal.message);
        FUZZ_CHECK(memcmp(v, &again, sizeof again) == 0, "%s=%s: parses to another value", key, text);
}

static const char *const ceiling_texts[_KNOB_MAX][2] = {
        [KNOB_MEMORY_MAX] = { "1G", "max" },
        [KNOB_MEMORY_HIGH] = { "0", "18446744073709551614" },
        [KNOB_MEMORY_LOW] = { "512M", "1" },
        [KNOB_MEMORY_MIN] = { "64M", "max" },
        [KNOB_MEMORY_SWAP_MAX] = { "0", "2G" },
        [KNOB_CPU_MAX] = { "50000 100000", "max 100000" },
        [KNOB_CPU_WEIGHT] = { "100", "10000" },
        [KNOB_PIDS_MAX] = { "512", "max" },
        [KNOB_IO_MAX] = { "8:0 rbps=1048576 wiops=100", "8:16 wbps=max" },
        [KNOB_IO_WEIGHT] = { "default 100", "8:0 200" },
        [KNOB_CPUSET_CPUS] = { "0-3", "1,4095" },
        [KNOB_CPUSET_MEMS] = { "0", "" },
};

static bool totally_ordered(KnobKind kind) {
        return kind == KNOB_KIND_BYTES || kind == KNOB_KIND_COUNT || kind == KNOB_KIND_WEIGHT ||
                kind == KNOB_KIND_CPU_MAX;
}

static bool cpus_subset(const KnobValue *a, const KnobValue *b) {
        for (size_t i = 0; i < ELEMENTSOF(a->cpus.bits); i++)
                if (a->cpus.bits[i] & ~b->cpus.bits[i])
                        return false;
        return true;
}

static void check_exceeds(const KnobValue *v) {
        const KnobInfo *info = knob_info(v->id);

        FUZZ_CHECK(!knob_exceeds(v, v), "%s: a value exceeds itself", info->key);
        for (size_t i = 0; i < 2; i++) {
                KnobValue c;
                bool up, down;

                memset(&c, 0, sizeof c);
                FUZZ_CHECK(knob_parse(info->key, ceiling_texts[v->id][i], &c, NULL) == 0, "%s: fixed ceiling",
                           info->key);
                up = knob_exceeds(v, &c);
                down = knob_exceeds(&c, v);
                if (totally_ordered(info->kind))
                        FUZZ_CHECK(!(up && down), "%s: two values exceed each other", info->key);
                if (info->kind == KNOB_KIND_CPUS)
                        FUZZ_CHECK(up == !cpus_subset(v, &c), "%s: exceeds is not 'not a subset'", info->key);
        }
}

/* One write per file, one line each, the file named. */
static void check_v1(const KnobValue *v) {
        const char *key = knob_info(v->id)->key;

        for (int bfq = 0; bfq < 2; bfq++) {
                KnobV1Write w[4];
                int n = knob_to_v1(v, bfq, w);

                FUZZ_CHECK(n == -EOPNOTSUPP || (n >= 0 && n <= 4), "%s: knob_to_v1() returned %d", key, n);
                for (int i = 0; i < n; i++) {
                        FUZZ_CHECK(w[i].file && *w[i].file, "%s: write %d names no file", key, i);
                        FUZZ_CHECK(strnlen(w[i].value, sizeof w[i].value) < sizeof w[i].value &&
                                   printable_line(w[i].value), "%s: write %d to %s", key, i, w[i].file);
                }
        }
        if (v->id == KNOB_MEMORY_SWAP_MAX) {
                static const char *const limits[] = { "1073741824\n", "-1", "9223372036854771712\n", "0" };

                for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                        KnobV1Write w;
                        int r = knob_v1_memsw(v, limits[i], &w);

                        FUZZ_CHECK(r == 0 && printable_line(w.value), "memory.swap.max: knob_v1_memsw() returned %d", r);
                }
        }
}

static void check_value(KnobId id, const char *value) {
        const char *key = knob_info(id)->key;
        CgdRefusal refusal = {};
        KnobValue v, untouched;
        int r;

        memset(&untouched, 0x5a, sizeof untouched);
        memcpy(&v, &untouched, sizeof v);
        r = knob_parse(key, value, &v, &refusal);
        if (r < 0) {
                check_refusal(r, &refusal, key, value);
                FUZZ_CHECK(memcmp(&v, &untouched, sizeof v) == 0, "%s: a refused value changed *ret", key);
                return;
        }
        FUZZ_CHECK(v.id == id, "%s: parsed as id %d", key, v.id);
        check_format(&v);
        check_exceeds(&v);
        check_v1(&v);
}

/* The v2 text read back from v1 files must be something the grammar takes, line by line (io.max
 * and io.weight have one line per device); only a range may refuse it. */
static void check_from_v1(KnobId id, bool bfq, const char *const texts[static 4]) {
        const char *key = knob_info(id)->key;
        char out[TEXT_MAX];
        int n;

        n = knob_from_v1_sources(id, bfq, texts, out, sizeof out);
        FUZZ_CHECK(n < 0 || (size_t) n == strlen(out), "%s: knob_from_v1_sources() returned %d", key, n);
        if (n < 0) {
                FUZZ_CHECK(n == -EBADMSG || n == -EOPNOTSUPP || n == -EINVAL || n == -ENOBUFS,
                           "%s: knob_from_v1_sources() returned %d", key, n);
                return;
        }
        if (id == KNOB_IO_MAX && n == 0)
                return; /* no device has a rule: the kernel's io.max is empty too */
        for (char *line = out, *next; line; line = next) {
                CgdRefusal refusal = {};
                KnobValue v;
                int r;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                r = knob_parse(key, line, &v, &refusal);
                FUZZ_CHECK(r == 0 || refusal.error == CGD_ERROR_OUT_OF_RANGE, "%s: read back '%s' from v1: %s", key,
                           line, refusal.message);
        }
}

/* ---- usage ---- */

/* A usage text is canonical: read as a v2 file again it comes back the same, and its lines are
 * printable (they go into D-Bus replies). */
static void check_usage_text(UsageId id, const char *out, const char *from) {
        char again[TEXT_MAX];
        _cleanup_free_ char *copy = strdup(out);

        FUZZ_CHECK(copy, "strdup");
        for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"))
                FUZZ_CHECK(printable_line(line), "%s from %s: an unprintable line", usage_info(id)->key, from);
        FUZZ_CHECK(usage_from_v2(id, out, again, sizeof again) == (int) strlen(out) && streq(again, out),
                   "%s from %s: '%s' is not canonical", usage_info(id)->key, from, out);
}

/* VALUE as each usage key's v2 file, and split at '|' as its v1 files (USER_HZ 100). */
static void check_usage(const char *value, const char *const texts[static 4]) {
        for (UsageId id = 0; id < _USAGE_MAX; id++) {
                char out[TEXT_MAX];

                if (usage_from_v2(id, value, out, sizeof out) >= 0)
                        check_usage_text(id, out, "v2");
                if (usage_from_v1(id, texts, 100, out, sizeof out) >= 0)
                        check_usage_text(id, out, "v1");
        }
}

static void check_v1_sources(const char *value) {
        _cleanup_free_ char *copy = strdup(value);
        const char *texts[4] = {};
        char *p = copy;

        FUZZ_CHECK(copy, "strdup");
        for (size_t i = 0; i < 4 && p; i++) {
                texts[i] = p;
                p = strchr(p, '|');
                if (p)
                        *p++ = '\0';
        }
        for (KnobId id = 0; id < _KNOB_MAX; id++) {
                char out[TEXT_MAX];

                check_from_v1(id, false, texts);
                check_from_v1(id, true, texts);
                (void) knob_from_v1(id, texts[0], texts[1], out, sizeof out);
        }
        check_usage(value, texts);
}

/* ---- systemd assignments ---- */

static int fake_resolve(const char *path, void *userdata, unsigned *ret_major, unsigned *ret_minor) {
        static const struct {
                const char *path;
                unsigned major, minor;
        } devices[] = {
                { "/dev/sda", 8, 0 },
                { "/dev/sdb", 8, 16 },
                { "/dev/nvme0n1", 259, 0 },
                { "/dev/huge", 4095, 1048575 },
        };

        for (size_t i = 0; i < ELEMENTSOF(devices); i++)
                if (streq(path, devices[i].path)) {
                        *ret_major = devices[i].major;
                        *ret_minor = devices[i].minor;
                        return 0;
                }
        return streq(path, "/dev/missing") ? -ENOENT : -ENOTBLK;
}

static const SdpropContext sd_context = {
        .physical_memory = UINT64_C(8) << 30,
        .page_size = 4096,
        .tasks_max = 4194303,
        .resolve_device = fake_resolve,
};

/* A pair from a systemd name must be a property the daemon's grammar takes; a range may still
 * refuse it (TasksMax=5000000, AllowedCPUs=5000), and so may the one-page limit of a long list. */
static void check_pairs(char **pairs) {
        for (char **p = pairs; p && *p; p += 2) {
                CgdRefusal refusal = {};
                KnobValue v;
                int r;

                FUZZ_CHECK(p[1], "an odd number of strings");
                FUZZ_CHECK(knob_lookup(p[0]), "translated to '%s', which is not a property", p[0]);
                r = knob_parse(p[0], p[1], &v, &refusal);
                FUZZ_CHECK(r == 0 || refusal.error == CGD_ERROR_OUT_OF_RANGE ||
                           (refusal.error == CGD_ERROR_INVALID_VALUE && strlen(p[1]) > 4095),
                           "translated to %s=%s, which the daemon refuses: %s", p[0], p[1], refusal.message);
        }
}

/* The lines as one call of assignments; a v2 assignment ("memory.max=x") passes through as it is,
 * so only a call without one is held to check_pairs(). */
static void check_sdprop(const char *text) {
        _cleanup_free_ char *copy = strdup(text);
        _cleanup_free_ const char **lines = NULL;
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_free_ char *error = NULL;
        bool passthrough = false;
        size_t n = 0;
        int r;

        FUZZ_CHECK(copy, "strdup");
        lines = calloc(strlen(copy) + 2, sizeof *lines);
        FUZZ_CHECK(lines, "calloc");
        for (char *line = copy, *next; line; line = next) {
                const char *eq;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                eq = strchr(line, '=');
                if (eq && memchr(line, '.', (size_t) (eq - line)))
                        passthrough = true;
                lines[n++] = line;
        }
        r = sdprop_translate_many(lines, &sd_context, &pairs, &error);
        if (r < 0) {
                FUZZ_CHECK(error && printable_line(error), "sdprop_translate_many() returned %d without a clean message", r);
                FUZZ_CHECK(!pairs, "a failed translation set *ret_pairs");
                return;
        }
        if (!passthrough)
                check_pairs(pairs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *input = fuzz_strndup(data, size), *key = NULL;
        const char *value, *eq = strchr(input, '=');
        CgdRefusal refusal = {};
        KnobValue v;
        int r;

        key = eq ? strndup(input, (size_t) (eq - input)) : strdup(input);
        FUZZ_CHECK(key, "strdup");
        value = eq ? eq + 1 : "";

        r = knob_parse(key, value, &v, &refusal);
        if (r < 0)
                check_refusal(r, &refusal, key, value);
        else
                FUZZ_CHECK(knob_lookup(key), "'%s' parsed, but is not a property", key);
        for (KnobId id = 0; id < _KNOB_MAX; id++)
                check_value(id, value);
        check_v1_sources(value);
        check_sdprop(input);
        return 0;
}
