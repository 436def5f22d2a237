/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd resource-control assignments ("MemoryMax=1G", "CPUQuota=50%", "IOReadBandwidthMax=/dev/sda
 * 5M") turned into the cgroup v2 key/value pairs the daemon takes ("memory.max", "1073741824"), with
 * the numbers systemd itself would write to those files. Device paths are resolved here, on the
 * client: the daemon accepts only MAJ:MIN. Plain v2 assignments ("memory.max=1G") pass through
 * verbatim for the daemon to validate.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Resolves a device path to the MAJ:MIN that io.max and io.weight take. Returns 0 or a negative
 * errno (-ENOTBLK for a path that is not a block device). */
typedef int (*SdpropResolveDevice)(const char *path, void *userdata, unsigned *ret_major, unsigned *ret_minor);

/* What percentages and device paths are computed against. */
typedef struct SdpropContext {
        uint64_t physical_memory;           /* bytes, systemd's physical_memory(); 0: "MemoryMax=50%" refused */
        uint64_t page_size;                 /* memory percentages round down to it; 0: sysconf() */
        uint64_t tasks_max;                 /* systemd's system_tasks_max(); 0: "TasksMax=10%" refused */
        SdpropResolveDevice resolve_device; /* NULL: sdprop_resolve_device() */
        void *userdata;                     /* for resolve_device */
} SdpropContext;

/* This machine's values, as systemd computes them: physical memory capped by the root cgroup's
 * memory limit, tasks as the smallest of kernel.threads-max, kernel.pid_max - 1 and the root
 * cgroup's pids.max (and 4194303). Files that cannot be read are skipped. */
int sdprop_context_from_system(SdpropContext *ret);

/* The default resolver: stat() the path, refuse what is not a block device (-ENOTBLK) and map a
 * partition to its whole disk (the kernel refuses io.max on a partition) through sysfs. userdata:
 * NULL, or the directory sysfs is mounted on (tests). */
int sdprop_resolve_device(const char *path, void *userdata, unsigned *ret_major, unsigned *ret_minor);

/* systemd's arithmetic, also used where systemd reports numbers rather than assignments
 * (bridge/settings.c): cgroup_cpu_shares_to_weight(), cgroup_weight_blkio_to_io(), and cpu.max
 * for a quota per second (UINT64_MAX: none) and a period (UINT64_MAX: the default 100ms)
 * as cgroup_apply_unified_cpu_quota() writes it, the period stretched for small quotas. */
uint64_t sdprop_shares_to_weight(uint64_t shares);
uint64_t sdprop_blkio_to_io_weight(uint64_t blkio);
void sdprop_cpu_max(uint64_t quota_per_sec, uint64_t period, char *buf, size_t size);

/* Translates one assignment. On success *ret_pairs is a NULL-terminated malloc'ed list key, value,
 * key, value, ... (free with strv_free()). On failure returns a negative errno (-EINVAL syntax or
 * unknown name, -ERANGE out of range, -EOPNOTSUPP a value with no v2 equivalent, or what resolving
 * a device returned) and, if ret_error is not NULL, stores a malloc'ed message quoting the value
 * there; *ret_pairs is untouched. ctx NULL: sdprop_context_from_system(). */
int sdprop_translate(const char *assignment, const SdpropContext *ctx, char ***ret_pairs, char **ret_error);

/* Translates a NULL-terminated list of assignments as one change, as a unit file section would be
 * read: CPUQuota= and CPUQuotaPeriodSec= make one cpu.max, the IO*Max= limits of one device make
 * one io.max line, a later assignment of a name replaces an earlier one, and the current names win
 * over their v1 forms whatever the order (MemoryMax= over MemoryLimit=, CPUWeight= over
 * CPUShares=, IOWeight= over BlockIOWeight=, IO*Max= over BlockIO*Bandwidth=). Pairs come in the
 * order of their first assignment; v2 pass-through pairs are never merged. */
int sdprop_translate_many(const char *const *assignments, const SdpropContext *ctx, char ***ret_pairs, char **ret_error);
