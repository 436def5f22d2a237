/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `cgdelegatectl top` (see ctl-top.h). Each turn lists the groups, reads each one's usage
 * (ctl-usage.c), and prints a row per group with the rates since the previous turn. A group seen
 * for the first time has no rate yet ("-"); a group that went is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl-output.h"
#include "ctl-top.h"
#include "ctl-usage.h"
#include "macro.h"

typedef struct Row {
        char *label;          /* "NAME:/path" on the admin socket, "/path" inside */
        GroupUsage u;
        double cpu, read, write; /* %, bytes/s; < 0 unknown */
} Row;

typedef struct Sample {
        Row *rows;
        size_t n;
        uint64_t at_usec;     /* CLOCK_MONOTONIC */
} Sample;

static void sample_done(Sample *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->rows[i].label);
        free(s->rows);
        *s = (Sample) {};
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

int top_order_from_string(const char *s) {
        static const char *const names[] = { [TOP_ORDER_CPU] = "cpu", [TOP_ORDER_MEMORY] = "memory",
                                             [TOP_ORDER_TASKS] = "tasks", [TOP_ORDER_IO] = "io",
                                             [TOP_ORDER_PATH] = "path" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        return -EINVAL;
}

static int sample_add(Sample *s, const char *name, const char *path, GroupUsage *u) {
        Row *rows = reallocarray(s->rows, s->n + 1, sizeof *rows);
        if (!rows)
                return -ENOMEM;
        s->rows = rows;
        Row *r = &rows[s->n];
        *r = (Row) { .u = *u, .cpu = -1, .read = -1, .write = -1 };
        if (name ? asprintf(&r->label, "%s:%s", name, path) < 0 : !(r->label = strdup(path)))
                return -ENOMEM;
        s->n++;
        return 0;
}

/* The groups of one container below path, path included, read into s. */
static int sample_container(cgd_client *c, const char *name, const char *path, Sample *s) {
        char **l = NULL;
        int r = name ? cgd_list_container_groups(c, name, path, 1, &l) : cgd_list_groups(c, path, 1, &l);
        if (r < 0)
                return r;
        GroupUsage u;
        if (ctl_usage_read(c, name, path, false, &u) >= 0)
                r = sample_add(s, name, path, &u);
        for (char **p = l; r >= 0 && *p; p++)
                if (ctl_usage_read(c, name, *p, false, &u) >= 0) /* else it went meanwhile */
                        r = sample_add(s, name, *p, &u);
        cgd_strv_free(l);
        return r;
}

static int sample_take(cgd_client *c, const char *name, const char *path, Sample *s) {
        int r = 0;
        s->at_usec = now_usec();
        if (name || !cgd_client_is_admin(c))
                return sample_container(c, name, path, s);
        cgd_container *l = NULL;
        size_t n = 0;
        r = cgd_list_containers(c, &l, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = sample_container(c, l[i].name, "/", s);
                if (r == -ENOENT || r == -ENXIO)
                        r = 0; /* the container went */
        }
        cgd_containers_free(l, n);
        return r;
}

static double rate(uint64_t now, uint64_t before, double seconds) {
        if (now == USAGE_UNKNOWN || before == USAGE_UNKNOWN || now < before || seconds <= 0)
                return -1;
        return (double) (now - before) / seconds;
}

static void rates(Sample *now, const Sample *before) {
        double seconds = (double) (now->at_usec - before->at_usec) / 1e6;
        for (size_t i = 0; i < now->n; i++) {
                Row *r = &now->rows[i];
                for (size_t j = 0; j < before->n; j++) {
                        const Row *b = &before->rows[j];
                        if (!streq(r->label, b->label))
                                continue;
                        double cpu = rate(r->u.cpu_usec, b->u.cpu_usec, seconds);
                        r->cpu = cpu < 0 ? -1 : cpu / 1e4; /* usec per second -> % of one CPU */
                        r->read = rate(r->u.io_rbytes, b->u.io_rbytes, seconds);
                        r->write = rate(r->u.io_wbytes, b->u.io_wbytes, seconds);
                        break;
                }
        }
}

static TopOrder sort_order; /* qsort() takes no argument for cmp_rows() */

static double known(uint64_t v) {
        return v == USAGE_UNKNOWN ? -1 : (double) v;
}

/* What a row is sorted by: larger first, -1 when unknown (last); 0 for every row by path. */
static double sort_key(const Row *r) {
        switch (sort_order) {
        case TOP_ORDER_CPU:
                return r->cpu;
        case TOP_ORDER_MEMORY:
                return known(r->u.memory);
        case TOP_ORDER_TASKS:
                return known(r->u.pids);
        case TOP_ORDER_IO:
                return (r->read < 0 ? 0 : r->read) + (r->write < 0 ? 0 : r->write);
        default:
                return 0;
        }
}

/* By the sort key, then by path. */
static int cmp_rows(const void *a, const void *b) {
        const Row *x = a, *y = b;
        double kx = sort_key(x), ky = sort_key(y);
        if (kx != ky)
                return kx > ky ? -1 : 1;
        return strcmp(x->label, y->label);
}

static const char *format_rate(double bytes_per_s, bool json, char buf[static CTL_FORMAT_MAX]) {
        if (bytes_per_s < 0)
                return json ? "" : "-";
        if (json) {
                snprintf(buf, CTL_FORMAT_MAX, "%.0f", bytes_per_s);
                return buf;
        }
        return ctl_format_bytes((uint64_t) bytes_per_s, buf);
}

static int print_sample(Sample *s, const TopOptions *o, bool first) {
        static const char *const headers[] = { "group", "tasks", "cpu%", "memory", "read/s", "write/s", NULL };
        static const bool numeric[] = { false, true, true, true, true, true };
        _cleanup_(table_freep) Table *t = table_new(headers, numeric);
        if (!t)
                return -ENOMEM;
        sort_order = o->order;
        qsort(s->rows, s->n, sizeof *s->rows, cmp_rows);
        for (size_t i = 0; i < s->n; i++) {
                const Row *r = &s->rows[i];
                char b[5][CTL_FORMAT_MAX];
                if (r->cpu >= 0)
                        snprintf(b[0], sizeof b[0], "%.1f", r->cpu);
                const char *memory = o->json ? (r->u.memory == USAGE_UNKNOWN ? "" : ctl_format_count(r->u.memory, b[1]))
                                             : ctl_format_bytes(r->u.memory, b[1]);
                int k = table_add(t, (const char *const[]) {
                        r->label, o->json && r->u.pids == USAGE_UNKNOWN ? "" : ctl_format_count(r->u.pids, b[2]),
                        r->cpu >= 0 ? b[0] : o->json ? "" : "-", memory, format_rate(r->read, o->json, b[3]),
                        format_rate(r->write, o->json, b[4]) });
                if (k < 0)
                        return k;
        }
        if (!o->batch && !o->json)
                fputs("\033[H\033[2J", stdout); /* home, clear: the table replaces the last one */
        else if (!o->json && o->legend && !first)
                putchar('\n'); /* between tables */
        table_print(t, o->json, o->legend);
        fflush(stdout);
        return 0;
}

int ctl_top_run(cgd_client *c, const char *name, const char *path, const TopOptions *o) {
        _cleanup_(sample_done) Sample before = {};
        int r = sample_take(c, name, path, &before);
        for (unsigned i = 0; r >= 0 && (o->iterations == 0 || i < o->iterations); i++) {
                struct timespec d = { .tv_sec = (time_t) (o->delay_usec / 1000000),
                                      .tv_nsec = (long) (o->delay_usec % 1000000) * 1000 };
                while (nanosleep(&d, &d) < 0 && errno == EINTR)
                        ;
                _cleanup_(sample_done) Sample now = {};
                r = sample_take(c, name, path, &now);
                if (r < 0)
                        break;
                rates(&now, &before);
                r = print_sample(&now, o, i == 0);
                sample_done(&before);
                before = now;
                now = (Sample) {};
        }
        return r;
}
