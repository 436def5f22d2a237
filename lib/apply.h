/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Applying a set of properties to one group, and reading them back, on whichever cgroup version
 * holds each controller. A set is validated whole, turned into a plan of control-file writes in
 * a defined order (the kernel's own order for v1 memory and swap), and applied; when a write
 * fails, every write already done is undone in reverse, and what could not be restored is named.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cgtree.h"
#include "error.h"
#include "knob.h"

typedef enum ApplyFlags {
        /* memory.max / memory.high / memory.swap.max below the group's current usage: v1 refuses
         * (or reclaims), v2 reclaims synchronously and may OOM-kill. Refused without this. */
        APPLY_ALLOW_BELOW_USAGE = 1 << 0,
        /* cpuset.mems on a group with processes: the kernel migrates their memory. */
        APPLY_ALLOW_MIGRATE = 1 << 1,
} ApplyFlags;

/* Applies values[0..n) to group rel of tree t (rel as cg_path_relative() gives it). On success
 * every value is in force; on failure nothing is changed, or *ret_refusal says what could not
 * be restored. */
int apply_properties(CgTree *t, const char *rel, const KnobValue *values, size_t n, ApplyFlags flags,
                     CgdRefusal *ret_refusal);

/* The value of key id on group rel in canonical v2 form (converted from v1 files on v1), as a
 * malloc'ed string without a trailing newline. NotSupported where the host cannot say. */
int apply_read(CgTree *t, const char *rel, KnobId id, char **ret, CgdRefusal *ret_refusal);

/* apply_read() for a usage statistic (knob.h, usage_from_v2() has the texts). NotSupported
 * where the host or the kernel does not keep it: the controller is not mounted or not in the
 * tree, the group does not have the controller enabled on v2, or a v1 file is missing (memsw
 * without swap accounting). */
int apply_read_usage(CgTree *t, const char *rel, UsageId id, char **ret, CgdRefusal *ret_refusal);

/* Whether key id can be set on this host at all (its controller is mounted and in the tree, and
 * a v1 host has an equivalent). */
int apply_supported(CgTree *t, KnobId id, CgdRefusal *ret_refusal);
