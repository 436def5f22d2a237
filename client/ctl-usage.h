/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `cgdelegatectl top`, `tree` and `metrics` read of a group: its usage (the read-only keys
 * of docs/properties.md, "Usage") and its limits, through GetProperties on a container's socket
 * or GetContainerProperties on the admin socket, and how they are shown to people.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgdelegate.h"

#define USAGE_UNKNOWN UINT64_MAX /* the host does not keep it for the group, or it is not allowed */

typedef struct GroupUsage {
        uint64_t memory;         /* memory.current, bytes */
        uint64_t pids;           /* pids.current */
        uint64_t cpu_usec;       /* cpu.stat usage_usec */
        uint64_t io_rbytes, io_wbytes, io_rios, io_wios; /* io.stat, summed over devices */
        /* limits (ctl_usage_read() with limits): the canonical text, "" unknown */
        char memory_max[24], pids_max[24], cpu_max[32];
} GroupUsage;

/* Reads group path: of container name through admin connection c, or of c's own container (name
 * NULL). What the host does not keep for the group (or the policy does not let the container
 * read) stays USAGE_UNKNOWN or "". Returns 0, or a negative errno when the group cannot be read
 * at all (it went: -ENOENT; *ret is then all unknown); c then says why. */
int ctl_usage_read(cgd_client *c, const char *name, const char *path, bool limits, GroupUsage *ret);

#define CTL_FORMAT_MAX 32

/* Bytes for people: "0", "512B", "1.5K", "12.0M", "3.2G"; "-" for USAGE_UNKNOWN. */
const char *ctl_format_bytes(uint64_t n, char buf[static CTL_FORMAT_MAX]);
/* A count, "-" for USAGE_UNKNOWN. */
const char *ctl_format_count(uint64_t n, char buf[static CTL_FORMAT_MAX]);
/* CPU time: "0.25s", "12m03s", "5h07m"; "-" for USAGE_UNKNOWN. */
const char *ctl_format_usec(uint64_t usec, char buf[static CTL_FORMAT_MAX]);
/* A limit for people: "max" stays "max", memory.max in bytes as above, cpu.max "QUOTA PERIOD" as
 * a percentage of one CPU ("50%"); "" (unknown) is "-". */
const char *ctl_format_limit(const char *key, const char *value, char buf[static CTL_FORMAT_MAX]);
