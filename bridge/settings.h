/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A unit's resource settings as systemd reports them on the bus, and the cgroup v2 values
 * cgdelegated takes for them, computed the way systemd itself applies them: MemoryMax= and the
 * other unified memory settings win over MemoryLimit= as soon as one of them is set,
 * CPUWeight= over CPUShares=, IOWeight= over BlockIOWeight=, with systemd's conversions.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define SETTING_UNSET UINT64_MAX /* systemd's "infinity" and "not set" alike */

typedef struct UnitSettings {
        uint64_t memory_max, memory_high, memory_low, memory_min, memory_swap_max, memory_limit;
        uint64_t cpu_quota_per_sec_usec, cpu_quota_period_usec;
        uint64_t cpu_weight, cpu_shares;
        uint64_t tasks_max;
        uint64_t io_weight, blockio_weight;
} UnitSettings;

/* Everything unset (memory_low and memory_min: 0). */
void settings_init(UnitSettings *s);

/* Stores a property of systemd's Service/Scope interfaces by name; false for names it ignores. */
bool settings_set(UnitSettings *s, const char *name, uint64_t value);

/* The v2 key/value pairs of the settings that differ from the kernel's defaults, as a
 * NULL-terminated key, value, ... list (strv_free()). */
int settings_to_pairs(const UnitSettings *s, char ***ret_pairs);

/* The value a key takes when its setting is removed again ("max", "0", "100", ...). */
const char *settings_default_value(const char *key);
