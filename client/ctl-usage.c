/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A group's usage and limits for cgdelegatectl (see ctl-usage.h). One GetProperties call asks
 * for every key; when it is refused (a key the host does not keep for this group, such as
 * memory.current where v2 has not enabled the memory controller, or a limit outside the policy's
 * AllowedProperties) each key is asked for alone, so that one missing key hides only itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-usage.h"
#include "macro.h"

enum { K_MEMORY, K_PIDS, K_CPU, K_IO, K_MEMORY_MAX, K_PIDS_MAX, K_CPU_MAX, _K_MAX };
#define K_LIMITS K_MEMORY_MAX /* the first limit */
static const char *const keys[_K_MAX + 1] = {
        [K_MEMORY] = "memory.current", [K_PIDS] = "pids.current", [K_CPU] = "cpu.stat", [K_IO] = "io.stat",
        [K_MEMORY_MAX] = "memory.max", [K_PIDS_MAX] = "pids.max", [K_CPU_MAX] = "cpu.max",
};

static uint64_t number(const char *s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        return errno || end == s || *end ? USAGE_UNKNOWN : v;
}

/* The number after "name " on a line of text ("usage_usec 123"), or USAGE_UNKNOWN. */
static uint64_t line_value(const char *text, const char *name) {
        size_t l = strlen(name);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, name, l) == 0 && p[l] == ' ')
                        return strtoull(p + l + 1, NULL, 10);
        return USAGE_UNKNOWN;
}

/* io.stat's lines summed: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static void io_sum(const char *text, GroupUsage *u) {
        static const char *const fields[] = { "rbytes=", "wbytes=", "rios=", "wios=" };
        uint64_t *sums[] = { &u->io_rbytes, &u->io_wbytes, &u->io_rios, &u->io_wios };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                *sums[i] = 0;
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                        const char *f = strstr(p, fields[i]), *nl = strchr(p, '\n');
                        if (f && (!nl || f < nl))
                                *sums[i] += strtoull(f + strlen(fields[i]), NULL, 10);
                }
}

static void take(GroupUsage *u, const char *key, const char *value) {
        if (streq(key, keys[K_MEMORY]))
                u->memory = number(value);
        else if (streq(key, keys[K_PIDS]))
                u->pids = number(value);
        else if (streq(key, keys[K_CPU]))
                u->cpu_usec = line_value(value, "usage_usec");
        else if (streq(key, keys[K_IO]))
                io_sum(value, u);
        else if (streq(key, keys[K_MEMORY_MAX]))
                snprintf(u->memory_max, sizeof u->memory_max, "%s", value);
        else if (streq(key, keys[K_PIDS_MAX]))
                snprintf(u->pids_max, sizeof u->pids_max, "%s", value);
        else if (streq(key, keys[K_CPU_MAX]))
                snprintf(u->cpu_max, sizeof u->cpu_max, "%s", value);
}

static int get(cgd_client *c, const char *name, const char *path, const char *const *k, GroupUsage *u) {
        cgd_property *p = NULL;
        size_t n = 0;
        int r = name ? cgd_get_container_properties(c, name, path, k, &p, &n) : cgd_get_properties(c, path, k, &p, &n);
        for (size_t i = 0; r >= 0 && i < n; i++)
                take(u, p[i].key, p[i].value);
        cgd_properties_free(p, n);
        return r;
}

int ctl_usage_read(cgd_client *c, const char *name, const char *path, bool limits, GroupUsage *ret) {
        GroupUsage u = { .memory = USAGE_UNKNOWN, .pids = USAGE_UNKNOWN, .cpu_usec = USAGE_UNKNOWN,
                         .io_rbytes = USAGE_UNKNOWN, .io_wbytes = USAGE_UNKNOWN, .io_rios = USAGE_UNKNOWN,
                         .io_wios = USAGE_UNKNOWN };
        *ret = u;
        const char *all[_K_MAX + 1];
        size_t n = 0;
        for (size_t i = 0; i < _K_MAX; i++)
                if (limits || i < K_LIMITS)
                        all[n++] = keys[i];
        all[n] = NULL;
        int r = get(c, name, path, all, &u);
        for (size_t i = 0; r < 0 && r != -ENOENT && i < n; i++) {
                int k = get(c, name, path, (const char *const[]) { all[i], NULL }, &u);
                if (k == -ENOENT) /* NotFound: the group went */
                        return k;
        }
        if (r == -ENOENT)
                return r;
        *ret = u;
        return 0;
}

const char *ctl_format_bytes(uint64_t n, char buf[static CTL_FORMAT_MAX]) {
        static const char units[] = "KMGTPE";
        if (n == USAGE_UNKNOWN)
                return "-";
        if (n < 1024) {
                snprintf(buf, CTL_FORMAT_MAX, "%" PRIu64 "%s", n, n ? "B" : "");
                return buf;
        }
        double v = (double) n / 1024;
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof units - 1) {
                v /= 1024;
                u++;
        }
        snprintf(buf, CTL_FORMAT_MAX, "%.1f%c", v, units[u]);
        return buf;
}

const char *ctl_format_count(uint64_t n, char buf[static CTL_FORMAT_MAX]) {
        if (n == USAGE_UNKNOWN)
                return "-";
        snprintf(buf, CTL_FORMAT_MAX, "%" PRIu64, n);
        return buf;
}

const char *ctl_format_usec(uint64_t usec, char buf[static CTL_FORMAT_MAX]) {
        uint64_t s = usec / 1000000;
        if (usec == USAGE_UNKNOWN)
                return "-";
        if (s < 60)
                snprintf(buf, CTL_FORMAT_MAX, "%.2fs", usec / 1e6);
        else if (s < 3600)
                snprintf(buf, CTL_FORMAT_MAX, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
        else
                snprintf(buf, CTL_FORMAT_MAX, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
        return buf;
}

const char *ctl_format_limit(const char *key, const char *value, char buf[static CTL_FORMAT_MAX]) {
        unsigned long long quota, period;
        if (!value || !*value)
                return "-";
        if (streq(value, "max"))
                return "max";
        if (streq(key, "cpu.max")) {
                if (sscanf(value, "%llu %llu", &quota, &period) == 2 && period > 0)
                        snprintf(buf, CTL_FORMAT_MAX, "%llu%%", quota * 100 / period);
                else
                        snprintf(buf, CTL_FORMAT_MAX, "max");
                return buf;
        }
        if (streq(key, "memory.max"))
                return ctl_format_bytes(number(value), buf);
        snprintf(buf, CTL_FORMAT_MAX, "%s", value);
        return buf;
}
