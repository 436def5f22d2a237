/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `cgdelegatectl metrics` (see ctl-metrics.h): GetStatistics for the daemon, ListContainers and
 * GetContainer for each container, and the usage of each container's root (ctl-usage.c), printed
 * as metric families. The two formats differ only in a
 * counter family's name (Prometheus text names it with "_total", OpenMetrics without) and in
 * OpenMetrics' closing "# EOF". Container names need no escaping ([A-Za-z0-9_.-]); error names
 * neither.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-metrics.h"
#include "ctl-usage.h"
#include "macro.h"

#define PREFIX "cgdelegate_"

typedef struct Family {
        const char *name; /* without PREFIX, and for a counter without "_total" */
        const char *type; /* "counter", "gauge", "histogram" */
        const char *help;
} Family;

static void family_head(FILE *f, const Family *m, bool openmetrics) {
        bool total = streq(m->type, "counter") && !openmetrics;
        fprintf(f, "# HELP " PREFIX "%s%s %s\n", m->name, total ? "_total" : "", m->help);
        fprintf(f, "# TYPE " PREFIX "%s%s %s\n", m->name, total ? "_total" : "", m->type);
}

static const Family daemon_families[] = {
        { "daemon_requests", "counter", "Requests the daemon answered, on every socket." },
        { "daemon_connections", "counter", "Connections the daemon accepted." },
        { "daemon_containers", "gauge", "Registered containers." },
        { "daemon_groups", "gauge", "Groups below the containers' roots, against the daemon-wide budget." },
        { "daemon_open_connections", "gauge", "Connections open now." },
};
static const char *const daemon_keys[] = { "requests", "connections", "containers", "groups", "open_connections" };

static void print_daemon(FILE *f, const cgd_dict *d, bool openmetrics) {
        static const Family refusals = { "daemon_refusals", "counter", "Requests refused, on every socket, by error name." };
        uint64_t v;
        for (size_t i = 0; i < ELEMENTSOF(daemon_families); i++) {
                const Family *m = &daemon_families[i];
                family_head(f, m, openmetrics);
                fprintf(f, PREFIX "%s%s %" PRIu64 "\n", m->name, streq(m->type, "counter") ? "_total" : "",
                        cgd_dict_get_u64(d, daemon_keys[i], &v) >= 0 ? v : 0);
        }
        family_head(f, &refusals, openmetrics);
        for (size_t i = 0; i < cgd_dict_size(d); i++) {
                const char *key = cgd_dict_key(d, i), *reason = startswith(key, "refused.");
                if (reason && cgd_dict_get_u64(d, key, &v) >= 0)
                        fprintf(f, PREFIX "daemon_refusals_total{reason=\"%s\"} %" PRIu64 "\n", reason, v);
        }
}

/* One family's samples for every container; ds[i] is NULL for a container that went. */
enum { M_REQUESTS, M_REFUSALS, M_DURATION, M_GROUPS, M_CONNECTIONS, _M_MAX };
static const Family container_families[_M_MAX] = {
        [M_REQUESTS] = { "requests", "counter", "Requests on the container's socket." },
        [M_REFUSALS] = { "refusals", "counter", "Requests on the container's socket refused, by error name." },
        [M_DURATION] = { "request_duration_seconds", "histogram",
                         "Time the daemon's loop spent on a request of the container (a slow request's work on "
                         "the worker thread not included)." },
        [M_GROUPS] = { "groups", "gauge", "Groups below the container's root." },
        [M_CONNECTIONS] = { "connections", "gauge", "Connections open on the container's socket." },
};

static void print_duration(FILE *f, const char *name, const cgd_dict *d) {
        uint64_t v, count = 0, sum = 0;
        for (size_t i = 0; i < cgd_dict_size(d); i++) {
                const char *key = cgd_dict_key(d, i), *bound = startswith(key, "LatencyBucket.");
                if (!bound || cgd_dict_get_u64(d, key, &v) < 0)
                        continue;
                if (streq(bound, "inf")) {
                        count = v;
                        fprintf(f, PREFIX "request_duration_seconds_bucket{container=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
                                name, v);
                } else
                        fprintf(f, PREFIX "request_duration_seconds_bucket{container=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                                name, strtoull(bound, NULL, 10) / 1e6, v);
        }
        (void) cgd_dict_get_u64(d, "LatencySumUSec", &sum);
        fprintf(f, PREFIX "request_duration_seconds_sum{container=\"%s\"} %g\n", name, sum / 1e6);
        fprintf(f, PREFIX "request_duration_seconds_count{container=\"%s\"} %" PRIu64 "\n", name, count);
}

static void print_family(FILE *f, int which, const cgd_container *l, cgd_dict *const *ds, size_t n) {
        static const char *const keys[_M_MAX] = { [M_REQUESTS] = "Requests", [M_GROUPS] = "Groups",
                                                  [M_CONNECTIONS] = "Connections" };
        uint64_t v;
        for (size_t i = 0; i < n; i++) {
                if (!ds[i])
                        continue;
                if (which == M_DURATION) {
                        print_duration(f, l[i].name, ds[i]);
                        continue;
                }
                if (which == M_REFUSALS) {
                        for (size_t k = 0; k < cgd_dict_size(ds[i]); k++) {
                                const char *key = cgd_dict_key(ds[i], k), *reason = startswith(key, "Refused.");
                                if (reason && cgd_dict_get_u64(ds[i], key, &v) >= 0)
                                        fprintf(f, PREFIX "refusals_total{container=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
                                                l[i].name, reason, v);
                        }
                        continue;
                }
                const Family *m = &container_families[which];
                fprintf(f, PREFIX "%s%s{container=\"%s\"} %" PRIu64 "\n", m->name,
                        streq(m->type, "counter") ? "_total" : "", l[i].name,
                        cgd_dict_get_u64(ds[i], keys[which], &v) >= 0 ? v : 0);
        }
}

/* What each container's root uses (ctl-usage.c); a family has a sample where the host keeps it. */
enum { U_MEMORY, U_TASKS, U_CPU, U_READ, U_WRITE, _U_MAX };
static const Family usage_families[_U_MAX] = {
        [U_MEMORY] = { "memory_bytes", "gauge", "Memory the container's groups use (memory.current of its root)." },
        [U_TASKS] = { "tasks", "gauge", "Processes and threads in the container's groups (pids.current of its root)." },
        [U_CPU] = { "cpu_seconds", "counter", "CPU time the container's groups used (cpu.stat usage_usec of its root)." },
        [U_READ] = { "io_read_bytes", "counter", "Bytes the container's groups read from block devices (io.stat)." },
        [U_WRITE] = { "io_write_bytes", "counter", "Bytes the container's groups wrote to block devices (io.stat)." },
};

static void print_usage(FILE *f, const cgd_container *l, const GroupUsage *us, size_t n, bool openmetrics) {
        for (int which = 0; which < _U_MAX; which++) {
                const Family *m = &usage_families[which];
                family_head(f, m, openmetrics);
                for (size_t i = 0; i < n; i++) {
                        const GroupUsage *u = &us[i];
                        uint64_t v = which == U_MEMORY ? u->memory : which == U_TASKS ? u->pids
                                   : which == U_CPU ? u->cpu_usec : which == U_READ ? u->io_rbytes : u->io_wbytes;
                        if (v == USAGE_UNKNOWN)
                                continue;
                        fprintf(f, PREFIX "%s%s{container=\"%s\"} ", m->name, streq(m->type, "counter") ? "_total" : "",
                                l[i].name);
                        if (which == U_CPU)
                                fprintf(f, "%.6f\n", v / 1e6);
                        else
                                fprintf(f, "%" PRIu64 "\n", v);
                }
        }
}

static int cmp_containers(const void *a, const void *b) {
        return strcmp(((const cgd_container *) a)->name, ((const cgd_container *) b)->name);
}

int ctl_metrics_print(FILE *f, cgd_client *c, bool openmetrics) {
        cgd_dict *stats = NULL;
        cgd_container *l = NULL;
        size_t n = 0;
        int r = cgd_get_statistics(c, &stats);
        if (r >= 0)
                r = cgd_list_containers(c, &l, &n);
        if (r < 0) {
                cgd_dict_free(stats);
                return r;
        }
        qsort(l, n, sizeof *l, cmp_containers);
        cgd_dict **ds = calloc(n ?: 1, sizeof *ds);
        GroupUsage *us = calloc(n ?: 1, sizeof *us);
        for (size_t i = 0; ds && us && i < n; i++) {
                if (cgd_get_container(c, l[i].name, &ds[i]) < 0)
                        ds[i] = NULL; /* it went meanwhile */
                (void) ctl_usage_read(c, l[i].name, "/", false, &us[i]); /* unknown when it went */
        }
        if (ds && us) {
                print_daemon(f, stats, openmetrics);
                for (int which = 0; which < _M_MAX; which++) {
                        family_head(f, &container_families[which], openmetrics);
                        print_family(f, which, l, ds, n);
                }
                print_usage(f, l, us, n, openmetrics);
                if (openmetrics)
                        fputs("# EOF\n", f);
        }
        for (size_t i = 0; ds && i < n; i++)
                cgd_dict_free(ds[i]);
        int ret = ds && us ? 0 : -ENOMEM;
        free(ds);
        free(us);
        cgd_containers_free(l, n);
        cgd_dict_free(stats);
        return ret;
}
