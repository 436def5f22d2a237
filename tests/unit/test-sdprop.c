/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of client/sdprop.c, the systemd-to-v2 property translation. Tables of single
 * assignments for every supported name, and of assignment lists for the merging rules, each
 * expected number worked out with systemd's own arithmetic and, where systemd's tests or man page
 * publish a number, taken from there (the comment next to a row says which); refusals checked for
 * their errno and their message; the mock context is a machine with 8 GiB of 4 KiB pages and
 * pid_max 32768, the usual desktop where systemd's DefaultTasksMax=15% comes to 4915. The default
 * device resolver and the system context are checked against this machine and a fake sysfs.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "testutil.h"

#include "sdprop.h"

#define GIB UINT64_C(1073741824)

static const char *strna(const char *s) {
        return s ?: "n/a";
}

/* The by-path name is the one systemd.resource-control(5) uses in its IO examples. */
static int mock_resolve(const char *path, void *userdata, unsigned *ret_major, unsigned *ret_minor) {
        static const struct {
                const char *path;
                unsigned major, minor;
        } devices[] = {
                { "/dev/sda",                                         8,   0 },
                { "/dev/disk/by-path/pci-0000:00:1f.2-scsi-0:0:0:0", 8,   0 },
                { "/dev/sdb",                                         8,  16 },
                { "/dev/nvme0n1",                                     259, 0 },
                { "/dev/disk/by-label/my disk",                       8,  32 },
        };

        if (streq(path, "/dev/null"))
                return -ENOTBLK;
        for (size_t i = 0; i < ELEMENTSOF(devices); i++)
                if (streq(path, devices[i].path)) {
                        *ret_major = devices[i].major;
                        *ret_minor = devices[i].minor;
                        return 0;
                }
        return -ENOENT;
}

static const SdpropContext mock = {
        .physical_memory = 8 * GIB,
        .page_size = 4096,
        .tasks_max = 32767, /* system_tasks_max() with kernel.pid_max = 32768 */
        .resolve_device = mock_resolve,
};

typedef struct Case {
        const char *assignment;
        const char *key;        /* NULL: refused */
        const char *value;
        int error;              /* refused: the negative errno */
} Case;

#define OK(a, k, v) { (a), (k), (v), 0 }
#define BAD(a, e)   { (a), NULL, NULL, (e) }

static const Case cases[] = {
        /* Memory: config_parse_memory_limit(), parse_size() base 1024. Rows marked "tpu" are
         * systemd's src/test/test-parse-util.c (parse_size_iec), "tlf" its
         * test-load-fragment.c (config_parse_memory_limit). */
        OK("MemoryMax=1G",                     "memory.max", "1073741824"),
        OK("MemoryMax=512M",                   "memory.max", "536870912"),
        OK("MemoryMax=1.5G",                   "memory.max", "1610612736"),  /* 1G + 0.5 * 1G */
        OK("MemoryMax=1.1K",                   "memory.max", "1126"),        /* 1024 + (uint64_t) (0.1 * 1024.0) */
        OK("MemoryMax=10",                     "memory.max", "10"),          /* tlf */
        OK("MemoryMax=111",                    "memory.max", "111"),         /* tpu */
        OK("MemoryMax=111.4",                  "memory.max", "111"),         /* tpu */
        OK("MemoryMax=112 B",                  "memory.max", "112"),         /* tpu " 112 B" */
        OK("MemoryMax=112.6 B",                "memory.max", "112"),         /* tpu " 112.6 B" */
        OK("MemoryMax=3.5 K",                  "memory.max", "3584"),        /* tpu */
        OK("MemoryMax=3. K",                   "memory.max", "3072"),        /* tpu */
        OK("MemoryMax=3.0 K",                  "memory.max", "3072"),        /* tpu */
        BAD("MemoryMax=3. 0 K",                -EINVAL),                     /* tpu */
        OK("MemoryMax=4 M 11.5K",              "memory.max", "4206080"),     /* tpu: 4*1024*1024 + 11*1024 + 512 */
        BAD("MemoryMax=3B3.5G",                -EINVAL),                     /* tpu */
        OK("MemoryMax=3.5G3B",                 "memory.max", "3758096387"),  /* tpu */
        OK("MemoryMax=3.5G 4B",                "memory.max", "3758096388"),  /* tpu */
        BAD("MemoryMax=3B3G4T",                -EINVAL),                     /* tpu */
        OK("MemoryMax=4T3G3B",                 "memory.max", "4401267736579"), /* tpu: (4*1024 + 3)*1024^3 + 3 */
        OK("MemoryMax= 4 T 3 G 3 B",           "memory.max", "4401267736579"), /* tpu */
        OK("MemoryMax=12P",                    "memory.max", "13510798882111488"), /* tpu */
        BAD("MemoryMax=12P12P",                -EINVAL),                     /* tpu */
        OK("MemoryMax=3E 2P",                  "memory.max", "3461016313634226176"), /* tpu: (3*1024 + 2)*1024^5 */
        BAD("MemoryMax=12X",                   -EINVAL),                     /* tpu */
        BAD("MemoryMax=12.5X",                 -EINVAL),                     /* tpu */
        BAD("MemoryMax=12.5e3",                -EINVAL),                     /* tpu */
        BAD("MemoryMax=1024E",                 -ERANGE),                     /* tpu */
        BAD("MemoryMax=-1",                    -ERANGE),                     /* tpu */
        BAD("MemoryMax=-1024E",                -ERANGE),                     /* tpu */
        BAD("MemoryMax=-10B 20K",              -ERANGE),                     /* tpu */
        OK("MemoryMax=15E",                    "memory.max", "17293822569102704640"),
        BAD("MemoryMax=16E",                   -ERANGE),
        OK("MemoryMax=18446744073709551614",   "memory.max", "18446744073709551614"),
        BAD("MemoryMax=18446744073709551615",  -ERANGE),                     /* bytes >= UINT64_MAX */
        BAD("MemoryMax=18446744073709551616",  -ERANGE),
        BAD("MemoryMax=1KB",                   -EINVAL),                     /* B must come after a bigger suffix, once */
        BAD("MemoryMax=1KiB",                  -EINVAL),
        BAD("MemoryMax=1g",                    -EINVAL),                     /* parse_size() suffixes are upper case */
        BAD("MemoryMax=1.5.G",                 -EINVAL),
        BAD("MemoryMax=max",                   -EINVAL),                     /* systemd spells it infinity */
        BAD("MemoryMax=0x10",                  -EINVAL),
        BAD("MemoryMax=+1G",                   -EINVAL),                     /* systemd's strtoull() would take the sign */
        OK("MemoryMax=",                       "memory.max", "max"),         /* tlf */
        OK("MemoryMax=infinity",               "memory.max", "max"),         /* tlf */
        BAD("MemoryMax=0",                     -ERANGE),                     /* tlf: ignored */
        OK("MemoryHigh=",                      "memory.high", "max"),        /* tlf */
        OK("MemoryHigh=10",                    "memory.high", "10"),         /* tlf */
        OK("MemoryHigh=infinity",              "memory.high", "max"),        /* tlf */
        BAD("MemoryHigh=0",                    -ERANGE),                     /* tlf: ignored */
        OK("MemoryLow=",                       "memory.low", "0"),           /* tlf: CGROUP_LIMIT_MIN */
        OK("MemoryLow=0",                      "memory.low", "0"),           /* tlf */
        OK("MemoryLow=10",                     "memory.low", "10"),          /* tlf */
        OK("MemoryLow=infinity",               "memory.low", "max"),         /* tlf */
        OK("MemoryMin=",                       "memory.min", "0"),           /* tlf */
        OK("MemoryMin=0",                      "memory.min", "0"),           /* tlf */
        OK("MemoryMin=10",                     "memory.min", "10"),          /* tlf */
        OK("MemoryMin=infinity",               "memory.min", "max"),         /* tlf */
        OK("MemorySwapMax=0",                  "memory.swap.max", "0"),
        OK("MemorySwapMax=",                   "memory.swap.max", "max"),
        OK("MemorySwapMax=2G",                 "memory.swap.max", "2147483648"),
        OK("MemoryLimit=1G",                   "memory.max", "1073741824"),  /* v1 name, memory.max on v2 */
        OK("MemoryLimit=",                     "memory.max", "max"),
        BAD("MemoryLimit=0",                   -ERANGE),

        /* Memory percentages: parse_permyriad(), physical_memory_scale(r, 10000): pages *
         * r / 10000 rounded down, times the page size; 100% is the whole. 8 GiB = 2097152
         * pages. */
        OK("MemoryMax=50%",                    "memory.max", "4294967296"),
        OK("MemoryMax=25%",                    "memory.max", "2147483648"),
        OK("MemoryMax=100%",                   "memory.max", "8589934592"),
        OK("MemoryMax=33.33%",                 "memory.max", "2863022080"),  /* 698980 pages */
        OK("MemoryMax=75.25%",                 "memory.max", "6463922176"),
        OK("MemoryMax=0.01%",                  "memory.max", "856064"),      /* 209 pages */
        OK("MemoryMax=1\xe2\x80\xb1",          "memory.max", "856064"),      /* 1‱ */
        OK("MemoryMax=5\xe2\x80\xb0",          "memory.max", "42946560"),    /* 5‰: 10485 pages */
        OK("MemoryHigh=50.5%",                 "memory.high", "4337913856"), /* 1059061 pages */
        OK("MemoryLow=0%",                     "memory.low", "0"),
        BAD("MemoryMax=0%",                    -ERANGE),                     /* 0 bytes */
        BAD("MemoryMax=101%",                  -ERANGE),
        BAD("MemoryMax=50.123%",               -EINVAL),                     /* at most two decimals */
        BAD("MemoryMax=50.%",                  -EINVAL),
        BAD("MemoryMax=%",                     -EINVAL),
        BAD("MemoryMax=50 %",                  -EINVAL),
        BAD("MemoryMax=05%",                   -EINVAL),                     /* systemd's safe_atoi() reads octal 5 */
        BAD("MemoryMax=-5%",                   -ERANGE),

        /* CPUQuota=: parse_permyriad_unbounded(), quota per second = r * 1s / 10000, then
         * cgroup_apply_unified_cpu_quota() with the default period of 100ms stretched by
         * cgroup_cpu_adjust_period() to at least 1ms * 1s / quota, at most 1s; quota * period /
         * 1s, at least 1ms. */
        OK("CPUQuota=20%",                     "cpu.max", "20000 100000"),   /* systemd.resource-control(5) example */
        OK("CPUQuota=50%",                     "cpu.max", "50000 100000"),
        OK("CPUQuota=200%",                    "cpu.max", "200000 100000"),
        OK("CPUQuota=150.5%",                  "cpu.max", "150500 100000"),
        OK("CPUQuota=12.34%",                  "cpu.max", "12340 100000"),
        OK("CPUQuota=33.33%",                  "cpu.max", "33330 100000"),
        OK("CPUQuota=0.5%",                    "cpu.max", "1000 200000"),    /* period stretched to 200ms */
        OK("CPUQuota=40\xe2\x80\xb1",          "cpu.max", "1000 250000"),    /* 40‱ = 0.4% */
        OK("CPUQuota=0.01%",                   "cpu.max", "1000 1000000"),   /* period capped at 1s, quota raised to 1ms */
        OK("CPUQuota=1\xe2\x80\xb0",           "cpu.max", "1000 1000000"),   /* 1‰ = 0.1%: 1ms in 1s */
        OK("CPUQuota=21474836.47%",            "cpu.max", "21474836470 100000"), /* INT_MAX permyriad */
        BAD("CPUQuota=21474836.48%",           -ERANGE),
        OK("CPUQuota=",                        "cpu.max", "max 100000"),
        BAD("CPUQuota=0%",                     -ERANGE),                     /* "CPU quota too small" */
        BAD("CPUQuota=50",                     -EINVAL),
        BAD("CPUQuota=1.234%",                 -EINVAL),
        BAD("CPUQuota=abc%",                   -EINVAL),
        BAD("CPUQuota=-5%",                    -ERANGE),
        BAD("CPUQuota=infinity",               -EINVAL),
        BAD("CPUQuotaPeriodSec=10ms",          -EINVAL),                     /* needs CPUQuota= in the same call */

        /* CPUWeight=: cg_cpu_weight_parse(), 1..10000; empty writes CGROUP_WEIGHT_DEFAULT. */
        OK("CPUWeight=100",                    "cpu.weight", "100"),
        OK("CPUWeight=1",                      "cpu.weight", "1"),
        OK("CPUWeight=10000",                  "cpu.weight", "10000"),
        OK("CPUWeight=",                       "cpu.weight", "100"),
        BAD("CPUWeight=0",                     -ERANGE),
        BAD("CPUWeight=10001",                 -ERANGE),
        BAD("CPUWeight=idle",                  -EOPNOTSUPP),                 /* cpu.idle, not a property */
        BAD("CPUWeight=0x10",                  -EINVAL),                     /* systemd: 16 */
        BAD("CPUWeight=010",                   -EINVAL),                     /* systemd: octal 8 */
        BAD("CPUWeight=1.5",                   -EINVAL),
        BAD("CPUWeight=-1",                    -EINVAL),

        /* CPUShares=: 2..262144, cgroup_cpu_shares_to_weight() = clamp(s * 100 / 1024, 1, 10000). */
        OK("CPUShares=1024",                   "cpu.weight", "100"),
        OK("CPUShares=512",                    "cpu.weight", "50"),
        OK("CPUShares=10240",                  "cpu.weight", "1000"),
        OK("CPUShares=100",                    "cpu.weight", "9"),
        OK("CPUShares=2",                      "cpu.weight", "1"),
        OK("CPUShares=262144",                 "cpu.weight", "10000"),
        OK("CPUShares=",                       "cpu.weight", "100"),         /* CGROUP_CPU_SHARES_DEFAULT */
        BAD("CPUShares=1",                     -ERANGE),
        BAD("CPUShares=262145",                -ERANGE),

        /* TasksMax=: config_parse_tasks_max(), percentages through system_tasks_max_scale():
         * 32767 * r / 10000 rounded down; empty is DefaultTasksMax=15%. */
        OK("TasksMax=512",                     "pids.max", "512"),
        OK("TasksMax=1",                       "pids.max", "1"),
        OK("TasksMax=infinity",                "pids.max", "max"),
        OK("TasksMax=15%",                     "pids.max", "4915"),          /* systemd's familiar default */
        OK("TasksMax=",                        "pids.max", "4915"),
        OK("TasksMax=40%",                     "pids.max", "13106"),
        OK("TasksMax=50%",                     "pids.max", "16383"),
        OK("TasksMax=99.99%",                  "pids.max", "32763"),
        OK("TasksMax=100%",                    "pids.max", "32767"),
        OK("TasksMax=0.01%",                   "pids.max", "3"),
        OK("TasksMax=18446744073709551614",    "pids.max", "18446744073709551614"),
        BAD("TasksMax=18446744073709551615",   -ERANGE),
        BAD("TasksMax=0",                      -ERANGE),
        BAD("TasksMax=0%",                     -ERANGE),                     /* systemd would write pids.max 0 */
        BAD("TasksMax=101%",                   -ERANGE),
        BAD("TasksMax=max",                    -EINVAL),
        BAD("TasksMax=1K",                     -EINVAL),
        BAD("TasksMax=-1",                     -EINVAL),

        /* IOWeight=: cg_weight_parse(), written as "default N". */
        OK("IOWeight=100",                     "io.weight", "default 100"),
        OK("IOWeight=1",                       "io.weight", "default 1"),
        OK("IOWeight=10000",                   "io.weight", "default 10000"),
        OK("IOWeight=",                        "io.weight", "default 100"),
        BAD("IOWeight=0",                      -ERANGE),
        BAD("IOWeight=10001",                  -ERANGE),
        BAD("IOWeight=heavy",                  -EINVAL),

        /* BlockIOWeight=: 10..1000, cgroup_weight_blkio_to_io() = clamp(b * 100 / 500, 1, 10000). */
        OK("BlockIOWeight=500",                "io.weight", "default 100"),
        OK("BlockIOWeight=10",                 "io.weight", "default 2"),
        OK("BlockIOWeight=11",                 "io.weight", "default 2"),
        OK("BlockIOWeight=250",                "io.weight", "default 50"),
        OK("BlockIOWeight=999",                "io.weight", "default 199"),
        OK("BlockIOWeight=1000",               "io.weight", "default 200"),
        OK("BlockIOWeight=",                   "io.weight", "default 100"),  /* CGROUP_BLKIO_WEIGHT_DEFAULT */
        BAD("BlockIOWeight=9",                 -ERANGE),
        BAD("BlockIOWeight=1001",              -ERANGE),

        /* Device weights: "MAJ:MIN N". */
        OK("IODeviceWeight=/dev/disk/by-path/pci-0000:00:1f.2-scsi-0:0:0:0 200", "io.weight", "8:0 200"), /* man page */
        OK("IODeviceWeight=/dev/sdb 1",        "io.weight", "8:16 1"),
        BAD("IODeviceWeight=/dev/sda 0",       -ERANGE),
        BAD("IODeviceWeight=/dev/sda",         -EINVAL),
        BAD("IODeviceWeight=",                 -EINVAL),                     /* would reset every device */
        BAD("IODeviceWeight=sda 100",          -EINVAL),                     /* not absolute */
        BAD("IODeviceWeight=/dev/null 100",    -ENOTBLK),
        BAD("IODeviceWeight=/dev/sdz 100",     -ENOENT),
        OK("BlockIODeviceWeight=/dev/sdb 1000", "io.weight", "8:16 200"),
        OK("BlockIODeviceWeight=/dev/sda 10",  "io.weight", "8:0 2"),
        BAD("BlockIODeviceWeight=/dev/sda 5",  -ERANGE),

        /* IO limits: config_parse_io_limit(), parse_size() base 1000, above 0, "infinity". */
        OK("IOReadBandwidthMax=/dev/disk/by-path/pci-0000:00:1f.2-scsi-0:0:0:0 5M",
                                               "io.max", "8:0 rbps=5000000"), /* man page example */
        OK("IOWriteBandwidthMax=/dev/sda 1M",  "io.max", "8:0 wbps=1000000"),
        OK("IOReadBandwidthMax=/dev/sda 1.5M", "io.max", "8:0 rbps=1500000"),
        OK("IOReadBandwidthMax=/dev/sda 1048576", "io.max", "8:0 rbps=1048576"),
        OK("IOReadBandwidthMax=/dev/sda infinity", "io.max", "8:0 rbps=max"),
        OK("IOReadIOPSMax=/dev/nvme0n1 1000",  "io.max", "259:0 riops=1000"),
        OK("IOWriteIOPSMax=/dev/sda 1K",       "io.max", "8:0 wiops=1000"),
        OK("IOReadBandwidthMax=\"/dev/disk/by-label/my disk\" 2G", "io.max", "8:32 rbps=2000000000"),
        OK("IOReadBandwidthMax='/dev/disk/by-label/my disk'   2G", "io.max", "8:32 rbps=2000000000"),
        OK("IOReadBandwidthMax=/dev/sda\t3 M", "io.max", "8:0 rbps=3000000"),
        BAD("IOReadBandwidthMax=/dev/sda 0",   -ERANGE),
        BAD("IOReadBandwidthMax=/dev/sda",     -EINVAL),
        BAD("IOReadBandwidthMax=",             -EINVAL),
        BAD("IOReadBandwidthMax=/dev/sda fast", -EINVAL),
        BAD("IOReadBandwidthMax=\"/dev/sda 1M", -EINVAL),                    /* unterminated quote */
        BAD("IOReadBandwidthMax=\"/dev/sda\"1M", -EINVAL),
        BAD("IOReadBandwidthMax=/dev/null 1M", -ENOTBLK),
        BAD("IOReadBandwidthMax=/dev/sdz 1M",  -ENOENT),
        OK("IOWriteIOPSMax=/dev/sda 18E",      "io.max", "8:0 wiops=18000000000000000000"), /* the daemon refuses it */
        BAD("IOWriteIOPSMax=/dev/sda 19E",     -ERANGE),                     /* 19 * 1000^6 > 2^64 - 1 */
        OK("BlockIOReadBandwidth=/dev/sda 100000", "io.max", "8:0 rbps=100000"),
        OK("BlockIOWriteBandwidth=/dev/sda 200K", "io.max", "8:0 wbps=200000"),
        BAD("BlockIOReadBandwidth=/dev/sda infinity", -EINVAL),              /* config_parse_blockio_bandwidth() */

        /* AllowedCPUs=, AllowedMemoryNodes=: parse_cpu_set_full(), the kernel's list form out. */
        OK("AllowedCPUs=0-3",                  "cpuset.cpus", "0-3"),
        OK("AllowedCPUs=0 1 2",                "cpuset.cpus", "0-2"),
        OK("AllowedCPUs=0,1,2",                "cpuset.cpus", "0-2"),
        OK("AllowedCPUs=0-1",                  "cpuset.cpus", "0-1"),
        OK("AllowedCPUs=3 2 1",                "cpuset.cpus", "1-3"),
        OK("AllowedCPUs=1,3,5-7 8",            "cpuset.cpus", "1,3,5-8"),
        OK("AllowedCPUs=0-3,2-5",              "cpuset.cpus", "0-5"),
        OK("AllowedCPUs= , 4 ,",               "cpuset.cpus", "4"),
        OK("AllowedCPUs=8191",                 "cpuset.cpus", "8191"),
        OK("AllowedCPUs=",                     "cpuset.cpus", ""),           /* empty: the parent's */
        BAD("AllowedCPUs=3-1",                 -EINVAL),                     /* systemd warns and ignores it */
        BAD("AllowedCPUs=8192",                -ERANGE),
        BAD("AllowedCPUs=0-4294967295",        -ERANGE),
        BAD("AllowedCPUs=0-",                  -EINVAL),
        BAD("AllowedCPUs=-1",                  -EINVAL),
        BAD("AllowedCPUs=1-2-3",               -EINVAL),
        BAD("AllowedCPUs=a",                   -EINVAL),
        BAD("AllowedCPUs=0x1",                 -EINVAL),
        BAD("AllowedCPUs=01",                  -EINVAL),
        OK("AllowedMemoryNodes=0",             "cpuset.mems", "0"),
        OK("AllowedMemoryNodes=0 1",           "cpuset.mems", "0-1"),
        BAD("AllowedMemoryNodes=0;1",          -EINVAL),

        /* v2 assignments pass through verbatim. */
        OK("memory.max=1G",                    "memory.max", "1G"),
        OK("cpu.max=50000 100000",             "cpu.max", "50000 100000"),
        OK("io.max=8:0 rbps=1048576",          "io.max", "8:0 rbps=1048576"),
        OK("memory.max=garbage",               "memory.max", "garbage"),
        OK("memory.max= 1G ",                  "memory.max", " 1G "),
        OK("memory.max=",                      "memory.max", ""),

        /* The assignment itself. */
        OK(" MemoryMax = 1G ",                 "memory.max", "1073741824"),  /* as in a unit file */
        BAD("MemoryMax",                       -EINVAL),
        BAD("=1G",                             -EINVAL),
        BAD("",                                -EINVAL),
        BAD("memorymax=1G",                    -EINVAL),                     /* names are case-sensitive */
        BAD("CPUAccounting=yes",               -EINVAL),
        BAD("StartupCPUWeight=100",            -EINVAL),
};

/* Whether c translates as expected; says why not. */
static bool check_case(const Case *c) {
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = sdprop_translate(c->assignment, &mock, &pairs, &error);
        if (!c->key) {
                if (r == c->error && !pairs && error)
                        return true;
                print_message("# '%s': got %d (%s), expected %d\n", c->assignment, r, strna(error), c->error);
                return false;
        }
        if (r < 0) {
                print_message("# '%s': refused (%d): %s\n", c->assignment, r, strna(error));
                return false;
        }
        if (error || strv_length(pairs) != 2 || !streq(pairs[0], c->key) || !streq(pairs[1], c->value)) {
                print_message("# '%s': got %s=%s, expected %s=%s\n",
                              c->assignment, strna(pairs[0]), strna(pairs[1]), c->key, c->value);
                return false;
        }
        return true;
}

static void test_cases(void **state) {
        size_t failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                failed += !check_case(cases + i);
        assert_int_equal(failed, 0);
}

/* ---- lists ---- */

typedef struct ManyCase {
        const char *assignments[8];
        const char *pairs[12];  /* expected, NULL-terminated */
        int error;
} ManyCase;

#define BYPATH "/dev/disk/by-path/pci-0000:00:1f.2-scsi-0:0:0:0"

#define A(...) .assignments = { __VA_ARGS__ }
#define P(...) .pairs = { __VA_ARGS__ }
#define E(e) .error = (e)

static const ManyCase many_cases[] = {
        /* CPUQuota= with CPUQuotaPeriodSec=, either order. Rows marked "tcg" are the published
         * points of systemd's src/test/test-cgroup.c (group_cpu_adjust_period). */
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=10ms"), P("cpu.max", "5000 10000") },
        { A("CPUQuotaPeriodSec=10ms", "CPUQuota=50%"), P("cpu.max", "5000 10000") },
        { A("CPUQuota=40%", "CPUQuotaPeriodSec=1ms"), P("cpu.max", "1000 2500") }, /* tcg: 2.5ms */
        { A("CPUQuota=10%", "CPUQuotaPeriodSec=10ms"), P("cpu.max", "1000 10000") }, /* tcg: keep */
        { A("CPUQuota=1000%", "CPUQuotaPeriodSec=1ms"), P("cpu.max", "10000 1000") }, /* tcg: keep */
        { A("CPUQuota=30%", "CPUQuotaPeriodSec=100ms"), P("cpu.max", "30000 100000") }, /* tcg: keep */
        { A("CPUQuota=40%", "CPUQuotaPeriodSec=5s"), P("cpu.max", "400000 1000000") }, /* tcg: 1s */
        { A("CPUQuota=250%", "CPUQuotaPeriodSec=2s"), P("cpu.max", "2500000 1000000") }, /* tcg: 1s */
        { A("CPUQuota=5000000%", "CPUQuotaPeriodSec=10us"), P("cpu.max", "50000000 1000") }, /* tcg: 1ms */
        { A("CPUQuota=50000%", "CPUQuotaPeriodSec=10ms"), P("cpu.max", "5000000 10000") }, /* tcg: keep */
        { A("CPUQuota=1%", "CPUQuotaPeriodSec=10ms"), P("cpu.max", "1000 100000") }, /* tcg: 100ms */
        { A("CPUQuota=200%", "CPUQuotaPeriodSec=0"), P("cpu.max", "2000 1000") }, /* tcg: 1ms */
        { A("CPUQuota=40%", "CPUQuotaPeriodSec=0"), P("cpu.max", "1000 2500") }, /* tcg: 2.5ms */
        { A("CPUQuota=50%", "CPUQuotaPeriodSec="), P("cpu.max", "50000 100000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=infinity"), P("cpu.max", "50000 100000") },
        { A("CPUQuota=", "CPUQuotaPeriodSec=10ms"), P("cpu.max", "max 100000") }, /* no quota: default period */
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=0.5s"), P("cpu.max", "250000 500000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=.5s"), P("cpu.max", "250000 500000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=0.02"), P("cpu.max", "10000 20000") }, /* seconds */
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=20 ms"), P("cpu.max", "10000 20000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=20msec"), P("cpu.max", "10000 20000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=5000us"), P("cpu.max", "2500 5000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=5000\xc2\xb5s"), P("cpu.max", "2500 5000") }, /* µs */
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=5000\xce\xbcs"), P("cpu.max", "2500 5000") }, /* μs */
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=1ms 500us"), P("cpu.max", "1000 2000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=1min"), P("cpu.max", "500000 1000000") },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=1M"), P("cpu.max", "500000 1000000") }, /* a month */
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=10 parsecs"), E(-EINVAL) },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=3.sec"), E(-EINVAL) },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=12.34.56"), E(-EINVAL) },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=10msx"), E(-EINVAL) },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=-1s"), E(-ERANGE) },
        { A("CPUQuota=50%", "CPUQuotaPeriodSec=infinity x"), E(-EINVAL) },
        { A("CPUQuota=50%", "CPUQuota=20%"), P("cpu.max", "20000 100000") },
        { A("CPUQuotaPeriodSec=10ms", "CPUQuotaPeriodSec=20ms"), E(-EINVAL) },

        /* A later assignment replaces an earlier one; the current name beats its v1 form. */
        { A("MemoryMax=1G", "MemoryMax=2G"), P("memory.max", "2147483648") },
        { A("MemoryMax=1G", "MemoryLimit=2G"), P("memory.max", "1073741824") },
        { A("MemoryLimit=2G", "MemoryMax=1G"), P("memory.max", "1073741824") },
        { A("MemoryLimit=2G", "MemoryLimit=3G"), P("memory.max", "3221225472") },
        { A("CPUShares=512", "CPUWeight=200"), P("cpu.weight", "200") },
        { A("CPUWeight=200", "CPUShares=512"), P("cpu.weight", "200") },
        { A("BlockIOWeight=1000", "IOWeight=50"), P("io.weight", "default 50") },
        { A("IOWeight=50", "BlockIOWeight=1000"), P("io.weight", "default 50") },
        { A("BlockIODeviceWeight=/dev/sda 1000", "IODeviceWeight=/dev/sda 50"), P("io.weight", "8:0 50") },

        /* The io.max limits of one device make one line, in the kernel's order. */
        { A("IOReadBandwidthMax=/dev/sda 1M", "IOWriteBandwidthMax=/dev/sda 2M", "IOReadIOPSMax=/dev/sdb 100"),
          P("io.max", "8:0 rbps=1000000 wbps=2000000", "io.max", "8:16 riops=100") },
        { A("IOWriteIOPSMax=/dev/sda 10", "IOReadBandwidthMax=/dev/sda 1M"),
          P("io.max", "8:0 rbps=1000000 wiops=10") },
        { A("IOReadBandwidthMax=/dev/sda 1M", "IOReadBandwidthMax=" BYPATH " 2M"), P("io.max", "8:0 rbps=2000000") },
        { A("IOReadBandwidthMax=/dev/sda 1M", "IOReadBandwidthMax=/dev/sda infinity"), P("io.max", "8:0 rbps=max") },
        { A("BlockIOReadBandwidth=/dev/sda 5M", "IOReadBandwidthMax=/dev/sda 1M"), P("io.max", "8:0 rbps=1000000") },
        { A("IOReadBandwidthMax=/dev/sda 1M", "BlockIOReadBandwidth=/dev/sda 5M", "BlockIOWriteBandwidth=/dev/sda 7M"),
          P("io.max", "8:0 rbps=1000000 wbps=7000000") },
        { A("IODeviceWeight=/dev/sda 200", "IODeviceWeight=/dev/sdb 300", "IOWeight=50"),
          P("io.weight", "8:0 200", "io.weight", "8:16 300", "io.weight", "default 50") },

        /* Order of first assignment; v2 pairs are never merged. */
        { A("MemoryMax=1G", "TasksMax=100", "CPUQuota=50%", "AllowedCPUs=0-1", "MemoryMax=2G"),
          P("memory.max", "2147483648", "pids.max", "100", "cpu.max", "50000 100000", "cpuset.cpus", "0-1") },
        { A("MemoryMax=1G", "memory.max=2G"), P("memory.max", "1073741824", "memory.max", "2G") },
        { A("memory.max=1G", "memory.max=2G"), P("memory.max", "1G", "memory.max", "2G") },
        { A(NULL), P(NULL) },
        { A("MemoryMax=1G", "Bogus=1"), E(-EINVAL) },
        { A("MemoryMax=1G", "MemoryMax=1Q"), E(-EINVAL) },
};

static bool check_many(size_t i, const ManyCase *c) {
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_free_ char *error = NULL;
        size_t n = 0;
        int r;

        r = sdprop_translate_many(c->assignments, &mock, &pairs, &error);
        if (r != c->error || (r < 0) != !pairs || (r < 0) != !!error) {
                print_message("# case %zu ('%s', ...): got %d (%s), expected %d\n",
                              i, strna(c->assignments[0]), r, strna(error), c->error);
                return false;
        }
        if (r < 0)
                return true;
        while (c->pairs[n])
                n++;
        if (strv_length(pairs) != n) {
                print_message("# case %zu: got %zu strings, expected %zu\n", i, strv_length(pairs), n);
                return false;
        }
        for (size_t k = 0; k < n; k++)
                if (!streq(pairs[k], c->pairs[k])) {
                        print_message("# case %zu, string %zu: got '%s', expected '%s'\n", i, k, pairs[k], c->pairs[k]);
                        return false;
                }
        return true;
}

static void test_many(void **state) {
        size_t failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(many_cases); i++)
                failed += !check_many(i, many_cases + i);
        assert_int_equal(failed, 0);
}

/* ---- messages and contracts ---- */

static char *translate_error(const char *assignment) {
        char *error = NULL;
        char **pairs = NULL;

        assert_true(sdprop_translate(assignment, &mock, &pairs, &error) < 0);
        assert_null(pairs);
        assert_non_null(error);
        return error;
}

static void assert_contains(const char *haystack, const char *needle) {
        if (!strstr(haystack, needle))
                print_message("# '%s' does not contain '%s'\n", haystack, needle);
        assert_non_null(strstr(haystack, needle));
}

static void test_messages(void **state) {
        static const struct {
                const char *assignment;
                const char *needles[3];
        } messages[] = {
                { "MemoryMax=1Q",                   { "'1Q'", "MemoryMax=", "base 1024" } },
                { "MemoryMax=0",                    { "'0'", "MemoryMax=", "out of range" } },
                { "MemoryMax=101%",                 { "'101%'", "100%" } },
                { "CPUQuota=0%",                    { "'0%'", "CPUQuota=", "out of range" } },
                { "CPUWeight=20000",                { "'20000'", "CPUWeight=", "1 to 10000" } },
                { "CPUWeight=idle",                 { "CPUWeight=idle", "cpu.idle" } },
                { "CPUShares=1",                    { "'1'", "2 to 262144" } },
                { "BlockIOWeight=5",                { "'5'", "10 to 1000" } },
                { "TasksMax=0%",                    { "'0%'", "32767", "at least 1" } },
                { "TasksMax=lots",                  { "'lots'", "TasksMax=", "infinity" } },
                { "IOReadBandwidthMax=/dev/sda 1X", { "'1X'", "IOReadBandwidthMax=", "base 1000" } },
                { "IOReadIOPSMax=/dev/sda 0",       { "'0'", "operations per second" } },
                { "IOReadBandwidthMax=/dev/null 1M", { "'/dev/null'", "not a block device" } },
                { "IOReadBandwidthMax=/dev/sdz 1M", { "'/dev/sdz'", "No such file or directory" } },
                { "IOReadBandwidthMax=",            { "IOReadBandwidthMax=/dev/sda 5M" } },
                { "IODeviceWeight=",                { "IODeviceWeight=/dev/sda 200" } },
                { "AllowedCPUs=3-1",                { "'3-1'", "AllowedCPUs=", "CPU numbers" } },
                { "AllowedMemoryNodes=x",           { "'x'", "memory node numbers" } },
                { "CPUQuotaPeriodSec=10ms",         { "CPUQuotaPeriodSec=", "CPUQuota=" } },
                { "Bogus=1",                        { "'Bogus'", "MemoryMax=", "AllowedMemoryNodes=" } },
                { "MemoryMax",                      { "'MemoryMax'", "NAME=VALUE" } },
                { "MemoryMax=1\x01" "2",            { "'1\\x012'" } },        /* control characters escaped */
        };

        for (size_t i = 0; i < ELEMENTSOF(messages); i++) {
                _cleanup_free_ char *error = translate_error(messages[i].assignment);

                for (size_t k = 0; k < ELEMENTSOF(messages[i].needles) && messages[i].needles[k]; k++)
                        assert_contains(error, messages[i].needles[k]);
        }
}

static void test_message_long_value(void **state) {
        char assignment[512] = "MemoryMax=";
        _cleanup_free_ char *error = NULL;

        memset(assignment + strlen(assignment), 'x', 400);
        error = translate_error(assignment);
        assert_contains(error, "...");
        assert_true(strlen(error) < 300);
}

static void test_untouched_on_failure(void **state) {
        char *sentinel[] = { NULL };
        char **pairs = sentinel;
        char *error = NULL;

        assert_int_equal(sdprop_translate("MemoryMax=1Q", &mock, &pairs, NULL), -EINVAL);
        assert_ptr_equal(pairs, sentinel);
        assert_int_equal(sdprop_translate("MemoryMax=1G", &mock, &pairs, &error), 0);
        assert_null(error); /* untouched on success */
        assert_ptr_not_equal(pairs, sentinel);
        strv_free(pairs);
}

/* ---- contexts ---- */

static void check_one(const SdpropContext *ctx, const char *assignment, int error, const char *value) {
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_free_ char *message = NULL;
        int r;

        r = sdprop_translate(assignment, ctx, &pairs, &message);
        if (r != error)
                print_message("# '%s': got %d (%s), expected %d\n", assignment, r, strna(message), error);
        assert_int_equal(r, error);
        if (r >= 0)
                assert_string_equal(pairs[1], value);
}

static void test_context_numbers(void **state) {
        SdpropContext c = mock;

        /* Physical memory that is not a multiple of the page size: 100% is the whole, anything
         * else rounds down to a page (244140 pages of 4096 bytes). */
        c.physical_memory = 1000000000;
        check_one(&c, "MemoryMax=100%", 0, "1000000000");
        check_one(&c, "MemoryMax=50%", 0, "499998720");
        check_one(&c, "MemoryMax=33%", 0, "329998336");

        /* 64 KiB pages (arm64, ppc64le). */
        c.page_size = 65536;
        check_one(&c, "MemoryMax=50%", 0, "499974144");

        /* Less than a page. */
        c.physical_memory = 1000;
        check_one(&c, "MemoryMax=50%", -ERANGE, NULL);
        check_one(&c, "MemoryLow=50%", 0, "0");

        /* Unknown sizes. */
        c.physical_memory = 0;
        c.tasks_max = 0;
        check_one(&c, "MemoryMax=50%", -EOPNOTSUPP, NULL);
        check_one(&c, "MemoryMax=1G", 0, "1073741824");
        check_one(&c, "TasksMax=10%", -EOPNOTSUPP, NULL);
        check_one(&c, "TasksMax=", -EOPNOTSUPP, NULL);
        check_one(&c, "TasksMax=100", 0, "100");

        /* pid_max at its ceiling 4194304: TASKS_MAX 4194303. */
        c.tasks_max = 4194303;
        check_one(&c, "TasksMax=15%", 0, "629145");

        /* A machine so small that 0.01% rounds to no task. */
        c.tasks_max = 5000;
        check_one(&c, "TasksMax=0.01%", -ERANGE, NULL);
        check_one(&c, "TasksMax=0.02%", 0, "1");
}

static uint64_t read_proc_u64(const char *path) {
        FILE *f = fopen(path, "re");
        uint64_t v = 0;

        if (f) {
                if (fscanf(f, "%" SCNu64, &v) != 1)
                        v = 0;
                fclose(f);
        }
        return v;
}

static void test_context_from_system(void **state) {
        SdpropContext c = {};
        long pages = sysconf(_SC_PHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
        uint64_t pid_max = read_proc_u64("/proc/sys/kernel/pid_max");
        uint64_t threads_max = read_proc_u64("/proc/sys/kernel/threads-max");
        _cleanup_strv_free_ char **pairs = NULL;
        char expected[32];

        assert_int_equal(sdprop_context_from_system(&c), 0);
        assert_int_equal(c.page_size, (uint64_t) ps);
        assert_true(c.physical_memory > 0);
        assert_true(c.physical_memory <= (uint64_t) pages * (uint64_t) ps);
        assert_int_equal(c.physical_memory % c.page_size, 0);
        assert_true(c.tasks_max >= 1 && c.tasks_max <= 4194303);
        if (pid_max > 0)
                assert_true(c.tasks_max <= pid_max - 1);
        if (threads_max > 0)
                assert_true(c.tasks_max <= threads_max);
        assert_null(c.resolve_device);

        /* A NULL context is this machine. */
        assert_int_equal(sdprop_translate("TasksMax=100%", NULL, &pairs, NULL), 0);
        (void) snprintf(expected, sizeof(expected), "%" PRIu64, c.tasks_max);
        assert_string_equal(pairs[1], expected);
}

/* ---- the default device resolver ---- */

static void test_resolve_not_block(void **state) {
        _cleanup_free_ char *dir = test_tmpdir(), *file = NULL;
        unsigned maj = 1, min = 1;

        assert_int_equal(sdprop_resolve_device("/dev/null", NULL, &maj, &min), -ENOTBLK);
        assert_true(asprintf(&file, "%s/file", dir) > 0);
        test_write_file(file, "x");
        assert_int_equal(sdprop_resolve_device(file, NULL, &maj, &min), -ENOTBLK);
        assert_int_equal(sdprop_resolve_device(dir, NULL, &maj, &min), -ENOTBLK);
        assert_int_equal(sdprop_resolve_device("/nonexistent/sda", NULL, &maj, &min), -ENOENT);
        assert_int_equal(maj, 1);
        assert_int_equal(min, 1);
        test_rm_rf(dir);
}

static void test_resolve_host_block(void **state) {
        static const char *const candidates[] = { "/dev/loop0", "/dev/sda", "/dev/vda", "/dev/nvme0n1" };
        unsigned maj, min;
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                if (stat(candidates[i], &st) < 0 || !S_ISBLK(st.st_mode))
                        continue;
                /* Whole disks: st_rdev itself. */
                assert_int_equal(sdprop_resolve_device(candidates[i], NULL, &maj, &min), 0);
                assert_int_equal(maj, major(st.st_rdev));
                assert_int_equal(min, minor(st.st_rdev));
                return;
        }
        skip_because("no whole-disk block device node on this machine");
}

/* A fake sysfs where 8:1 is a partition of 8:0, as the kernel lays it out: /sys/dev/block/8:1
 * is a link to the partition's directory inside its disk's. */
static void make_dirs(const char *root, const char *const *dirs) {
        for (; *dirs; dirs++) {
                _cleanup_free_ char *p = NULL;

                assert_true(asprintf(&p, "%s/%s", root, *dirs) > 0);
                assert_int_equal(mkdir(p, 0755), 0);
        }
}

static void make_fake_sysfs(const char *root) {
        static const char *const dirs[] = {
                "sys", "sys/devices", "sys/devices/sda", "sys/devices/sda/sda1", "sys/dev", "sys/dev/block", NULL,
        };
        _cleanup_free_ char *p = NULL;

        make_dirs(root, dirs);
        assert_true(asprintf(&p, "%s/sys/devices/sda/dev", root) > 0);
        test_write_file(p, "8:0\n");
        free(p);
        assert_true(asprintf(&p, "%s/sys/devices/sda/sda1/partition", root) > 0);
        test_write_file(p, "1\n");
        free(p);
        assert_true(asprintf(&p, "%s/sys/dev/block/8:1", root) > 0);
        assert_int_equal(symlink("../../devices/sda/sda1", p), 0);
}

static void test_resolve_partition(void **state) {
        _cleanup_free_ char *dir = test_tmpdir(), *node = NULL, *sysfs = NULL, *assignment = NULL;
        _cleanup_strv_free_ char **pairs = NULL;
        SdpropContext c = mock;
        unsigned maj, min;

        assert_true(asprintf(&node, "%s/sda1", dir) > 0);
        if (mknod(node, S_IFBLK | 0600, makedev(8, 1)) < 0) {
                /* skip() jumps out of the function: no cleanup attribute runs after it. */
                test_rm_rf(dir);
                free(TAKE_PTR(node));
                free(TAKE_PTR(dir));
                skip_because("mknod() of a block device node needs CAP_MKNOD");
        }
        make_fake_sysfs(dir);
        assert_true(asprintf(&sysfs, "%s/sys", dir) > 0);

        /* Without sysfs saying it is a partition, the node's own number. */
        assert_int_equal(sdprop_resolve_device(node, (void *) "/nonexistent", &maj, &min), 0);
        assert_int_equal(maj, 8);
        assert_int_equal(min, 1);

        /* With it, the whole disk. */
        assert_int_equal(sdprop_resolve_device(node, sysfs, &maj, &min), 0);
        assert_int_equal(maj, 8);
        assert_int_equal(min, 0);

        /* The default resolver through translate(). */
        c.resolve_device = NULL;
        c.userdata = sysfs;
        assert_true(asprintf(&assignment, "IOReadBandwidthMax=%s 1M", node) > 0);
        assert_int_equal(sdprop_translate(assignment, &c, &pairs, NULL), 0);
        assert_string_equal(pairs[0], "io.max");
        assert_string_equal(pairs[1], "8:0 rbps=1000000");
        test_rm_rf(dir);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_message_long_value),
        cmocka_unit_test(test_untouched_on_failure),
        cmocka_unit_test(test_context_numbers),
        cmocka_unit_test(test_context_from_system),
        cmocka_unit_test(test_resolve_not_block),
        cmocka_unit_test(test_resolve_host_block),
        cmocka_unit_test(test_resolve_partition),
};

TEST_MAIN(tests, NULL, NULL)
