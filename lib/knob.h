/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The property table: every key a container may ask for, in cgroup v2 vocabulary, with its
 * grammar as the kernel parses it (parsed more strictly here), its range, how it is compared with
 * a policy ceiling, the v1 files it maps to and the conversions between the two, and a canonical
 * v2 form for reading back. Pure functions: nothing here touches the file system (apply.c writes).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

typedef enum KnobId {
        KNOB_MEMORY_MAX,
        KNOB_MEMORY_HIGH,
        KNOB_MEMORY_LOW,
        KNOB_MEMORY_MIN,
        KNOB_MEMORY_SWAP_MAX,
        KNOB_CPU_MAX,
        KNOB_CPU_WEIGHT,
        KNOB_PIDS_MAX,
        KNOB_IO_MAX,
        KNOB_IO_WEIGHT,
        KNOB_CPUSET_CPUS,
        KNOB_CPUSET_MEMS,
        _KNOB_MAX,
        _KNOB_INVALID = -EINVAL,
} KnobId;

#define KNOB_MASK(k) (UINT32_C(1) << (k))
#define KNOB_ALL (KNOB_MASK(_KNOB_MAX) - 1)
#define KNOB_UNLIMITED UINT64_MAX /* "max" */

typedef enum KnobKind {
        KNOB_KIND_BYTES,   /* "1G", "1048576", "max" */
        KNOB_KIND_CPU_MAX, /* "QUOTA PERIOD", "QUOTA", "max PERIOD", "max" */
        KNOB_KIND_WEIGHT,  /* "100" (cpu.weight 1..10000) */
        KNOB_KIND_COUNT,   /* "512", "max" (pids.max >= 1) */
        KNOB_KIND_IO_MAX,  /* "MAJ:MIN rbps=N wbps=N riops=N wiops=N", each N a number or max */
        KNOB_KIND_IO_WEIGHT, /* "N", "default N", "MAJ:MIN N", "MAJ:MIN default" */
        KNOB_KIND_CPUS,    /* "0-3,6": a cpu or memory node list */
        _KNOB_KIND_MAX,
        _KNOB_KIND_INVALID = -EINVAL,
} KnobKind;

/* io.max's four limits, in the kernel's order. */
typedef enum IoLimit { IO_RBPS, IO_WBPS, IO_RIOPS, IO_WIOPS, _IO_LIMIT_MAX } IoLimit;

#define KNOB_CPUS_MAX 4096 /* highest cpu or node number + 1 we accept */

typedef struct KnobValue {
        KnobId id;
        union {
                uint64_t bytes;                     /* BYTES; KNOB_UNLIMITED for max */
                uint64_t count;                     /* COUNT; KNOB_UNLIMITED for max */
                uint64_t weight;                    /* WEIGHT */
                struct {
                        uint64_t quota_us;          /* KNOB_UNLIMITED for max */
                        uint64_t period_us;         /* 100000 when not given */
                } cpu;
                struct {
                        unsigned major, minor;
                        bool set[_IO_LIMIT_MAX];    /* which limits the value names */
                        uint64_t limit[_IO_LIMIT_MAX]; /* KNOB_UNLIMITED for max */
                } io_max;
                struct {
                        bool has_device;            /* false: the default weight */
                        unsigned major, minor;
                        uint64_t weight;            /* 0 with has_device: "MAJ:MIN default" */
                } io_weight;
                struct {
                        uint64_t bits[KNOB_CPUS_MAX / 64];
                } cpus;                              /* CPUS: bit n set = cpu/node n */
        };
} KnobValue;

typedef struct KnobInfo {
        KnobId id;
        const char *key;        /* v2 file name, e.g. "memory.max" */
        KnobKind kind;
        int controller;         /* CgController the key needs */
        uint64_t min, max;      /* range of the number (bytes, weight, count, quota, io limit,
                                 * cpu/node number); where unlimited means something (bytes,
                                 * count, cpu.max quota, io.max limits) "max" is taken too */
        const char *v1_file;    /* main v1 file, NULL: no v1 equivalent (NotSupported) */
        const char *doc;        /* one line for docs/properties.md */
} KnobInfo;

const KnobInfo *knob_info(KnobId id);
/* The entry for a v2 key, NULL when the key is not a property. */
const KnobInfo *knob_lookup(const char *key);

/* Parses value for key strictly: decimal only, K/M/G/T (base 1024, k/m/g/t too) suffixes only where
 * the kernel takes them (memory.*), "max" only where it means unlimited, no overflow, no sign, no
 * leading zero (the kernel reads "010" as octal), no surrounding space, no control character (a
 * newline would let a client put a second line into one write), at most 4095 bytes, ranges
 * checked (pids.max 1..4194304; cpu.max quota 1000..2^44-1 us and period 1000..1000000 us; weights
 * 1..10000; io.max limits >= 1, iops below 2^32-1; MAJ:MIN below 4096:1048576; cpu/node numbers
 * below KNOB_CPUS_MAX). cpu.max without a period means period 100000 (the kernel would keep the
 * current one; writing knob_format()'s text keeps what the kernel does equal to what a ceiling
 * was checked against). Refusals: InvalidProperty for an unknown key, InvalidValue for text
 * outside the grammar, OutOfRange for a number outside the range; the message quotes the value
 * (at most 64 bytes, escaped) and says what is allowed. docs/properties.md has the table. */
int knob_parse(const char *key, const char *value, KnobValue *ret, CgdRefusal *ret_refusal);

/* The canonical v2 text of v, as the kernel renders the file ("67108864", "max", "20000 100000",
 * "8:0 rbps=1048576 wbps=max", "default 100", "8:0 200", "0-3,6"). io.max names the limits v
 * names, in the kernel's order: a limit a client left out keeps its current value, as in the
 * kernel, in knob_to_v1() and in knob_exceeds(). Writes at most size bytes including the NUL;
 * returns the length or -ENOBUFS. */
int knob_format(const KnobValue *v, char *buf, size_t size);

/* Whether v asks for more than ceiling (same key): bytes/count/weight greater, cpu.max a larger
 * fraction of a CPU (max is infinite), io.max any limit both name higher for the same device (a
 * ceiling for another device does not apply), io.weight higher (a "default N" ceiling caps every
 * weight; a "MAJ:MIN N" ceiling caps that device's weight and the default weight, which that
 * device uses unless told otherwise; "MAJ:MIN default" never exceeds), cpus/mems not a subset
 * (the empty set, "inherit the parent's" on v2, is a subset of everything). */
bool knob_exceeds(const KnobValue *v, const KnobValue *ceiling);

/* ---- cgroup v1 ---- */

/* systemd's published conversions (src/core/cgroup.c, src/basic/cgroup-util.h). */
uint64_t knob_cpu_weight_to_shares(uint64_t weight);    /* clamp(w * 1024 / 100, 2, 262144) */
uint64_t knob_cpu_shares_to_weight(uint64_t shares);    /* clamp(s * 100 / 1024, 1, 10000) */
uint64_t knob_io_weight_to_blkio(uint64_t weight);      /* clamp(w * 500 / 100, 10, 1000) */
uint64_t knob_blkio_weight_to_io(uint64_t blkio);       /* clamp(b * 100 / 500, 1, 10000) */
uint64_t knob_io_weight_to_bfq(uint64_t weight);        /* BFQ_WEIGHT(): 1..100 -> 1..100, 100..10000 -> 100..1000 */

#define KNOB_V1_VALUE_MAX 4096 /* a cpuset list may be long; the kernel takes one page per write */

/* One write to a v1 control file. */
typedef struct KnobV1Write {
        const char *file; /* static */
        char value[KNOB_V1_VALUE_MAX];
} KnobV1Write;

/* The v1 writes that set v, in the order they must happen, except memory.swap.max (0 writes:
 * apply.c writes memory.memsw.limit_in_bytes from knob_v1_memsw() after or before the memory
 * limit, as the kernel requires memsw >= limit) and the v1 memory limit ordering. -EOPNOTSUPP for
 * a key without a v1 equivalent (memory.high, low, min) and for an empty cpuset (v1 has no
 * "inherit": an empty v1 cpuset holds no CPU and cannot hold a task). bfq: whether the device's
 * scheduler is BFQ (io.weight then goes to blkio.bfq.weight*). Returns the number of writes (at
 * most 4). */
int knob_to_v1(const KnobValue *v, bool bfq, KnobV1Write ret_writes[static 4]);

/* The v1 files a key is read back from, in the order knob_from_v1_sources() wants their texts:
 * memory.swap.max: memsw.limit_in_bytes, limit_in_bytes; cpu.max: cfs_quota_us, cfs_period_us;
 * io.max: the four blkio.throttle files in IoLimit order; io.weight: blkio.weight and
 * blkio.weight_device (bfq: blkio.bfq.weight, blkio.bfq.weight_device); every other key one file.
 * Returns how many (0 for a key without a v1 equivalent). ret_files[0] is info->v1_file (bfq
 * false). */
int knob_v1_sources(KnobId id, bool bfq, const char *ret_files[static 4]);

/* The v2 canonical text of v1 file contents for id: texts[i] is the content of the i-th file of
 * knob_v1_sources(id, bfq) (a trailing newline is fine; NULL for an optional file that does not
 * exist: a device file of io.max or io.weight). "-1" and values >= 2^62 (the v1 "unlimited",
 * PAGE_COUNTER_MAX pages) become "max", shares become a weight, quota+period become
 * "QUOTA PERIOD", memsw minus limit becomes the swap limit, throttle and weight lists become
 * io.max / io.weight lines (one per device, "\n"-separated, no trailing newline, devices in
 * ascending order, io.max with all four limits). -EOPNOTSUPP for a key without v1 equivalent,
 * -EBADMSG for text the kernel would not have written, -ENOBUFS when buf is too small. */
int knob_from_v1_sources(KnobId id, bool bfq, const char *const texts[static 4], char *buf, size_t size);

/* knob_from_v1_sources() for keys read from at most two files and no BFQ: text is the content of
 * info->v1_file, text2 that of the second file where the key has one (cpu.max: cpu.cfs_period_us;
 * memory.swap.max: memory.limit_in_bytes, to subtract; io.weight: blkio.weight_device). -EINVAL
 * for io.max, which needs four files. */
int knob_from_v1(KnobId id, const char *text, const char *text2, char *buf, size_t size);

/* The memory.memsw.limit_in_bytes write for a memory.swap.max value on v1: limit_text is the
 * content of memory.limit_in_bytes, the sum is memory plus swap ("-1" when either is unlimited
 * or the sum overflows). -EBADMSG when limit_text is not a v1 byte count. */
int knob_v1_memsw(const KnobValue *swap, const char *limit_text, KnobV1Write *ret);

/* ---- usage: read-only statistics ---- */

/* What a group uses, read with GetProperties beside the properties and never set: v2 file names
 * and the kernel's v2 text, read from the v1 files on v1 (docs/properties.md, "Usage"). */
typedef enum UsageId {
        USAGE_MEMORY_CURRENT,
        USAGE_MEMORY_PEAK,
        USAGE_MEMORY_SWAP_CURRENT,
        USAGE_PIDS_CURRENT,
        USAGE_CPU_STAT,
        USAGE_IO_STAT,
        USAGE_CPUSET_CPUS_EFFECTIVE,
        USAGE_CPUSET_MEMS_EFFECTIVE,
        _USAGE_MAX,
        _USAGE_INVALID = -EINVAL,
} UsageId;

#define USAGE_SOURCES_MAX 4

/* A file a statistic is read from on a v1 host, in the hierarchy of its own controller (cpu.stat
 * takes cpuacct's and cpu's, which may be mounted apart), or in the cgroup2 hierarchy of a
 * hybrid host. */
typedef struct UsageSource {
        int controller;  /* CgController */
        const char *file;
        bool optional;   /* absent, or its hierarchy not in the tree: the lines it gives are left out */
        bool unified;    /* in the cgroup2 hierarchy, not controller's */
} UsageSource;

typedef struct UsageInfo {
        UsageId id;
        const char *key;         /* the v2 file, e.g. "memory.current" */
        int controller;          /* CgController whose hierarchy decides v1 or v2 */
        UsageSource v1[USAGE_SOURCES_MAX]; /* file NULL ends the list */
        const char *doc;         /* one line for docs/properties.md */
} UsageInfo;

const UsageInfo *usage_info(UsageId id);
/* The entry for a v2 usage key, NULL when key is none. */
const UsageInfo *usage_lookup(const char *key);

/* The canonical text of a statistic from its v2 file (a trailing newline is fine): a number for
 * memory.current, memory.peak, memory.swap.current and pids.current; for cpu.stat the lines
 * "usage_usec N", "user_usec N", "system_usec N", then "nr_periods", "nr_throttled",
 * "throttled_usec", "nr_bursts", "burst_usec" where the kernel has them, in that order, other
 * lines left out; for io.stat one line per device with I/O, ascending,
 * "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" (a field the kernel lacks is 0, other
 * fields are left out); a cpu or node list as cpuset.cpus renders it. Lines are "\n"-separated
 * without a trailing newline. -EBADMSG for text the kernel would not have written, -ENOBUFS when
 * buf is too small. */
int usage_from_v2(UsageId id, const char *text, char *buf, size_t size);

/* The same text from the v1 files: texts[i] is the content of info->v1[i] (NULL for an optional
 * file that is absent). Nanoseconds become microseconds, cpuacct.stat's clock ticks (clk_tck a
 * second) become user_usec and system_usec, memory.swap.current is memsw usage minus memory usage,
 * blkio.throttle.io_service_bytes_recursive and io_serviced_recursive give io.stat's Read, Write
 * and Discard columns.
 * cpu.stat's times come from cpuacct when its files are there, else from the cgroup2 hierarchy's
 * cpu.stat of a hybrid host (which keeps them without any controller); -EBADMSG when neither. */
int usage_from_v1(UsageId id, const char *const texts[static USAGE_SOURCES_MAX], unsigned long clk_tck, char *buf,
                  size_t size);
