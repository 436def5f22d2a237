/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd unit resource settings into cgroup v2 values (see settings.h). The arithmetic is
 * client/sdprop.c's, the same that translates "CPUShares=" or "CPUQuota=" assignments, so that
 * the CLI and the bridge always write the numbers systemd would.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "sdprop.h"
#include "settings.h"

#define WEIGHT_MIN 1
#define WEIGHT_MAX 10000

void settings_init(UnitSettings *s) {
        memset(s, 0xff, sizeof *s); /* SETTING_UNSET everywhere */
        s->memory_low = s->memory_min = 0;
}

bool settings_set(UnitSettings *s, const char *name, uint64_t value) {
        static const struct {
                const char *name;
                size_t offset;
        } fields[] = {
                { "MemoryMax", offsetof(UnitSettings, memory_max) },
                { "MemoryHigh", offsetof(UnitSettings, memory_high) },
                { "MemoryLow", offsetof(UnitSettings, memory_low) },
                { "MemoryMin", offsetof(UnitSettings, memory_min) },
                { "MemorySwapMax", offsetof(UnitSettings, memory_swap_max) },
                { "MemoryLimit", offsetof(UnitSettings, memory_limit) },
                { "CPUQuotaPerSecUSec", offsetof(UnitSettings, cpu_quota_per_sec_usec) },
                { "CPUQuotaPeriodUSec", offsetof(UnitSettings, cpu_quota_period_usec) },
                { "CPUWeight", offsetof(UnitSettings, cpu_weight) },
                { "CPUShares", offsetof(UnitSettings, cpu_shares) },
                { "TasksMax", offsetof(UnitSettings, tasks_max) },
                { "IOWeight", offsetof(UnitSettings, io_weight) },
                { "BlockIOWeight", offsetof(UnitSettings, blockio_weight) },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (streq(fields[i].name, name)) {
                        *(uint64_t *) ((char *) s + fields[i].offset) = value;
                        return true;
                }
        return false;
}

static uint64_t clamp_weight(uint64_t w) {
        return w < WEIGHT_MIN ? WEIGHT_MIN : w > WEIGHT_MAX ? WEIGHT_MAX : w;
}

static int add(char ***pairs, size_t *n, const char *key, const char *value) {
        int r = strv_extend(pairs, n, key);
        return r < 0 ? r : strv_extend(pairs, n, value);
}

static int add_number(char ***pairs, size_t *n, const char *key, const char *prefix, uint64_t value) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s%" PRIu64, prefix, value);
        return add(pairs, n, key, buf);
}

static int add_bytes(char ***pairs, size_t *n, const char *key, uint64_t value, uint64_t unset) {
        if (value == unset)
                return 0;
        if (value == SETTING_UNSET) /* a zero default (low, min) set to infinity */
                return add(pairs, n, key, "max");
        return add_number(pairs, n, key, "", value);
}

static int memory_pairs(const UnitSettings *s, char ***pairs, size_t *n) {
        /* systemd: the unified settings, once any is set, replace MemoryLimit= entirely. */
        bool unified = s->memory_max != SETTING_UNSET || s->memory_high != SETTING_UNSET || s->memory_low != 0 ||
                       s->memory_min != 0 || s->memory_swap_max != SETTING_UNSET;
        if (!unified)
                return add_bytes(pairs, n, "memory.max", s->memory_limit, SETTING_UNSET);
        int r = add_bytes(pairs, n, "memory.max", s->memory_max, SETTING_UNSET);
        r = r < 0 ? r : add_bytes(pairs, n, "memory.high", s->memory_high, SETTING_UNSET);
        r = r < 0 ? r : add_bytes(pairs, n, "memory.low", s->memory_low, 0);
        r = r < 0 ? r : add_bytes(pairs, n, "memory.min", s->memory_min, 0);
        return r < 0 ? r : add_bytes(pairs, n, "memory.swap.max", s->memory_swap_max, SETTING_UNSET);
}

static int cpu_pairs(const UnitSettings *s, char ***pairs, size_t *n) {
        int r = 0;
        if (s->cpu_quota_per_sec_usec != SETTING_UNSET) {
                char buf[64];
                sdprop_cpu_max(s->cpu_quota_per_sec_usec, s->cpu_quota_period_usec, buf, sizeof buf);
                r = add(pairs, n, "cpu.max", buf);
        }
        if (r >= 0 && s->cpu_weight != SETTING_UNSET)
                r = add_number(pairs, n, "cpu.weight", "", clamp_weight(s->cpu_weight));
        else if (r >= 0 && s->cpu_shares != SETTING_UNSET)
                r = add_number(pairs, n, "cpu.weight", "", sdprop_shares_to_weight(s->cpu_shares));
        return r;
}

int settings_to_pairs(const UnitSettings *s, char ***ret_pairs) {
        _cleanup_strv_free_ char **pairs = calloc(1, sizeof(char *));
        size_t n = 0;
        if (!pairs)
                return -ENOMEM;
        int r = memory_pairs(s, &pairs, &n);
        r = r < 0 ? r : cpu_pairs(s, &pairs, &n);
        if (r >= 0 && s->tasks_max != SETTING_UNSET)
                r = add_number(&pairs, &n, "pids.max", "", s->tasks_max);
        if (r >= 0 && s->io_weight != SETTING_UNSET)
                r = add_number(&pairs, &n, "io.weight", "default ", clamp_weight(s->io_weight));
        else if (r >= 0 && s->blockio_weight != SETTING_UNSET)
                r = add_number(&pairs, &n, "io.weight", "default ", sdprop_blkio_to_io_weight(s->blockio_weight));
        if (r < 0)
                return r;
        *ret_pairs = TAKE_PTR(pairs);
        return 0;
}

const char *settings_default_value(const char *key) {
        if (streq(key, "memory.low") || streq(key, "memory.min"))
                return "0";
        if (streq(key, "cpu.weight"))
                return "100";
        if (streq(key, "io.weight"))
                return "default 100";
        return "max";
}
