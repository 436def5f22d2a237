/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegatectl: the admin's and the container's command line, built on libcgdelegate. On the
 * host it talks to the admin socket and names a group NAME:/path; inside a container (or with
 * --socket naming a container's socket) it talks to /run/host/cgdelegate/socket and names a
 * group /path. Properties may be given as cgroup v2 keys (memory.max=1G) or in systemd's syntax
 * (MemoryMax=1G, CPUQuota=20%). Output is for people (tables, trees) or, with --json, for
 * programs. Exit codes: 0 done, 1 refused or failed (the D-Bus error name and the daemon's
 * message on stderr), 2 usage.
 *
 * On the host, the verbs that act inside a container's tree and have no admin method (create,
 * remove, move, freeze, thaw, kill) go through that container's own socket, so its policy
 * applies to them exactly as to the container; move then takes a host pid and sends a pidfd.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgdelegate.h"
#include "ctl-metrics.h"
#include "ctl-output.h"
#include "ctl-top.h"
#include "ctl-usage.h"
#include "macro.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

static const char *arg_socket = NULL;

static inline void cgd_options_freep(cgd_options **o) {
        cgd_options_free(*o);
}
static bool arg_json = false;
static bool arg_legend = true;

typedef enum Where {
        WHERE_ANY,
        WHERE_ADMIN,     /* only on the admin socket */
        WHERE_CONTAINER, /* a container's socket, or NAME:/path from the host through it */
} Where;

typedef struct Verb {
        const char *name;
        Where where;
        int (*run)(cgd_client *c, int argc, char **argv);
        const char *usage; /* the arguments after the verb */
        const char *help;  /* what it does; shown by VERB --help */
} Verb;

static const Verb *current_verb;

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "cgdelegatectl: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (current_verb)
                fprintf(stderr, "\nUsage: cgdelegatectl %s %s\n", current_verb->name, current_verb->usage);
        else
                fprintf(stderr, "\n(cgdelegatectl --help lists the verbs)\n");
        return EXIT_USAGE;
}

/* A refusal or failure of the last call on c, as scripts and people both read it. */
static int refused(cgd_client *c, int r) {
        const char *name = c ? cgd_client_error_name(c) : NULL;
        if (name)
                fprintf(stderr, "%s: %s\n", name, cgd_client_error_message(c));
        else
                fprintf(stderr, "cgdelegatectl: %s\n", strerror(-r));
        return EXIT_REFUSED;
}

/* ---- naming groups ---- */

typedef struct Target {
        char *name;       /* the container, on the host; NULL inside */
        const char *path; /* "/..." */
} Target;

static void target_done(Target *t) {
        free(t->name);
}

/* "NAME:/path" on the admin socket, "/path" on a container's. */
static int target_parse(cgd_client *c, const char *s, Target *ret) {
        const char *colon = strchr(s, ':');
        if (cgd_client_is_admin(c)) {
                if (!colon || colon == s || colon[1] != '/')
                        return usage_error("on the host a group is NAME:/path, not '%s'", s);
                ret->name = strndup(s, (size_t) (colon - s));
                ret->path = colon + 1;
                return ret->name ? 0 : -ENOMEM;
        }
        if (s[0] != '/')
                return usage_error("inside a container a group is /path, not '%s'", s);
        *ret = (Target) { .path = s };
        return 0;
}

/* The client that serves a Container1 verb on target: c itself inside a container; on the host,
 * a connection to the container's socket (its policy applies). */
static int target_client(cgd_client *c, const Target *t, cgd_client **ret) {
        if (!cgd_client_is_admin(c)) {
                *ret = c;
                return 0;
        }
        cgd_dict *d = NULL;
        const char *socket;
        int r = cgd_get_container(c, t->name, &d);
        if (r < 0)
                return refused(c, r), r;
        r = cgd_dict_get_string(d, "Socket", &socket);
        if (r >= 0 && (r = cgd_client_open(socket, ret)) < 0)
                fprintf(stderr, "cgdelegatectl: cannot connect to %s: %s\n", socket, strerror(-r));
        cgd_dict_free(d);
        return r;
}

static void target_client_done(cgd_client *c, cgd_client *via) {
        if (via != c)
                cgd_client_free(via);
}

/* ---- parsing values ---- */

static int parse_pid(const char *s, pid_t *ret) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v <= 0 || v > INT32_MAX)
                return usage_error("'%s' is not a pid", s);
        *ret = (pid_t) v;
        return 0;
}

static int parse_signal(const char *s, int *ret) {
        static const struct {
                const char *name;
                int sig;
        } names[] = { { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
                      { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
                      { "STOP", SIGSTOP } };
        const char *n = startswith(s, "SIG") ?: s;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(n, names[i].name)) {
                        *ret = names[i].sig;
                        return 0;
                }
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || *end || v <= 0 || v > 64)
                return usage_error("'%s' is not a signal (a number or HUP, INT, QUIT, KILL, USR1, USR2, TERM, CONT, STOP)", s);
        *ret = (int) v;
        return 0;
}

/* Parses the verb's options with getopt_long (options may follow the arguments); returns the
 * index of the first argument, or -1 after a usage error. */
typedef int (*OptionFn)(int opt, const char *arg, void *userdata);
static int parse_options(int argc, char **argv, const char *shortopts, const struct option *longopts, OptionFn fn,
                         void *userdata) {
        optind = 0;
        opterr = 0;
        int opt;
        while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) >= 0) {
                if (opt == '?' || opt == ':')
                        return usage_error("unknown option or missing value: %s", argv[optind - 1]), -1;
                if (fn(opt, optarg, userdata) != 0)
                        return -1;
        }
        return optind;
}

/* ---- verbs: containers (host) ---- */

static int cmp_containers(const void *a, const void *b) {
        return strcmp(((const cgd_container *) a)->name, ((const cgd_container *) b)->name);
}

static int verb_list(cgd_client *c, int argc, char **argv) {
        if (argc > 1)
                return usage_error("list takes no arguments");
        cgd_container *l = NULL;
        size_t n = 0;
        int r = cgd_list_containers(c, &l, &n);
        if (r < 0)
                return refused(c, r);
        qsort(l, n, sizeof *l, cmp_containers);
        static const char *const headers[] = { "name", "policy", "leader", "connections", "requests", "refusals",
                                               "cgroup", NULL };
        static const bool numeric[] = { false, false, true, true, true, true, false };
        _cleanup_(table_freep) Table *t = table_new(headers, numeric);
        for (size_t i = 0; t && i < n; i++) {
                cgd_dict *d = NULL;
                uint64_t leader = 0, conns = 0, requests = 0, refusals = 0;
                if (cgd_get_container(c, l[i].name, &d) >= 0) { /* it may have gone meanwhile */
                        (void) cgd_dict_get_u64(d, "Leader", &leader);
                        (void) cgd_dict_get_u64(d, "Connections", &conns);
                        (void) cgd_dict_get_u64(d, "Requests", &requests);
                        (void) cgd_dict_get_u64(d, "Refusals", &refusals);
                }
                cgd_dict_free(d);
                char b[4][24];
                snprintf(b[0], sizeof b[0], "%" PRIu64, leader);
                snprintf(b[1], sizeof b[1], "%" PRIu64, conns);
                snprintf(b[2], sizeof b[2], "%" PRIu64, requests);
                snprintf(b[3], sizeof b[3], "%" PRIu64, refusals);
                const char *row[] = { l[i].name, l[i].policy, leader ? b[0] : "-", b[1], b[2], b[3], l[i].cgroup };
                (void) table_add(t, row);
        }
        cgd_containers_free(l, n);
        if (!t)
                return refused(NULL, -ENOMEM);
        table_print(t, arg_json, arg_legend);
        if (!arg_json && arg_legend)
                printf("\n%zu container%s registered.\n", n, n == 1 ? "" : "s");
        return 0;
}

typedef struct RegisterArgs {
        const char *cgroup, *policy;
        bool create;
        pid_t leader;
        const char *props[64];
        size_t n_props;
} RegisterArgs;

static int register_option(int opt, const char *arg, void *userdata) {
        RegisterArgs *a = userdata;
        switch (opt) {
        case 'c':
                a->cgroup = arg;
                return 0;
        case 'P':
                a->policy = arg;
                return 0;
        case 'C':
                a->create = true;
                return 0;
        case 'l':
                return parse_pid(arg, &a->leader);
        default: /* 'p' */
                if (a->n_props + 1 >= ELEMENTSOF(a->props))
                        return usage_error("at most %zu -p options", ELEMENTSOF(a->props) - 1);
                a->props[a->n_props++] = arg;
                return 0;
        }
}

/* Translated -p assignments as the Properties option; 1 when nothing was given. */
static int add_properties(cgd_client *c, cgd_options *o, const char *const *assignments) {
        cgd_property *p = NULL;
        size_t n = 0;
        _cleanup_free_ char *error = NULL;
        int r = cgd_translate_systemd(assignments, &p, &n, &error);
        if (r < 0) {
                /* Refused before anything was sent, in the daemon's words. */
                fprintf(stderr, "org.cgdelegate.Error.%s: %s\n", r == -EOPNOTSUPP ? "NotSupported" : "InvalidValue",
                        error ? error : strerror(-r));
                return r;
        }
        r = cgd_options_add_properties(o, "Properties", p, n);
        cgd_properties_free(p, n);
        return r;
}

static int verb_register(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = {
                { "cgroup", required_argument, NULL, 'c' }, { "policy", required_argument, NULL, 'P' },
                { "create", no_argument, NULL, 'C' },       { "leader", required_argument, NULL, 'l' },
                { "property", required_argument, NULL, 'p' }, {}
        };
        RegisterArgs a = { .policy = "default" };
        int i = parse_options(argc, argv, "p:", options, register_option, &a);
        if (i < 0)
                return EXIT_USAGE;
        if (i + 1 != argc || !a.cgroup)
                return usage_error("register needs NAME and --cgroup PATH");
        _cleanup_(cgd_options_freep) cgd_options *o = NULL;
        int r = cgd_options_new(&o);
        if (r >= 0 && a.create)
                r = cgd_options_add_bool(o, "Create", 1);
        if (r >= 0 && a.leader)
                r = cgd_options_add_u32(o, "Leader", (uint32_t) a.leader);
        if (r >= 0 && a.n_props && (r = add_properties(c, o, a.props)) < 0)
                return EXIT_REFUSED;
        _cleanup_free_ char *socket = NULL;
        if (r >= 0)
                r = cgd_register_container(c, argv[i], a.cgroup, a.policy, o, &socket);
        if (r < 0)
                return refused(c, r);
        if (arg_json) {
                printf("{\"socket\": ");
                json_string(stdout, socket);
                printf("}\n");
        } else
                printf("%s\n", socket);
        return 0;
}

static int flag_option(int opt, const char *arg, void *userdata) {
        *(bool *) userdata = true;
        return 0;
}

static int verb_unregister(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = { { "remove-cgroup", no_argument, NULL, 'r' }, {} };
        bool remove = false;
        int i = parse_options(argc, argv, "", options, flag_option, &remove);
        if (i < 0)
                return EXIT_USAGE;
        if (i + 1 != argc)
                return usage_error("unregister needs one NAME");
        _cleanup_(cgd_options_freep) cgd_options *o = NULL;
        int r = cgd_options_new(&o);
        if (r >= 0 && remove)
                r = cgd_options_add_bool(o, "RemoveCgroup", 1);
        if (r >= 0)
                r = cgd_unregister_container(c, argv[i], o);
        return r < 0 ? refused(c, r) : 0;
}

static int verb_stats(cgd_client *c, int argc, char **argv) {
        if (argc > 1)
                return usage_error("stats takes no arguments");
        cgd_dict *d = NULL;
        int r = cgd_get_statistics(c, &d);
        if (r < 0)
                return refused(c, r);
        dict_print(d, arg_json);
        cgd_dict_free(d);
        return 0;
}

static int verb_metrics(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = { { "openmetrics", no_argument, NULL, 'o' }, {} };
        bool openmetrics = false;
        int i = parse_options(argc, argv, "o", options, flag_option, &openmetrics);
        if (i < 0)
                return EXIT_USAGE;
        if (argc > i)
                return usage_error("metrics takes no arguments");
        int r = ctl_metrics_print(stdout, c, openmetrics);
        return r < 0 ? refused(c, r) : 0;
}

static void event_print(const cgd_event *e) {
        const char *fields[][2] = { { "container", e->container }, { "operation", e->operation }, { "path", e->path },
                                    { "detail", e->detail },       { "result", e->result },       { "kind", e->kind } };
        if (arg_json) {
                printf("{\"event\": ");
                json_string(stdout, e->name);
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (fields[i][1]) {
                                printf(", \"%s\": ", fields[i][0]);
                                json_string(stdout, fields[i][1]);
                        }
                if (e->kind)
                        printf(", \"count\": %" PRIu64, e->count);
                printf("}\n");
        } else if (streq(e->name, "Audit"))
                printf("Audit %s %s %s %s: %s\n", e->container, e->operation, e->path, e->detail, e->result);
        else if (e->kind)
                printf("%s %s %s %" PRIu64 "\n", e->name, e->path, e->kind, e->count);
        else
                printf("%s %s\n", e->name, e->path ? e->path : "");
        fflush(stdout);
}

/* Until interrupted, or until the daemon closes the connection. */
static int verb_monitor(cgd_client *c, int argc, char **argv) {
        if (argc > 2)
                return usage_error("monitor takes at most one NAME");
        bool admin = cgd_client_is_admin(c);
        if (!admin && argc == 2)
                return usage_error("inside a container, monitor takes no NAME");
        static const char *const container_events[] = { "GroupEmpty", "MemoryEvent", NULL };
        static const char *const admin_events[] = { "Audit", NULL };
        Target t = { .name = argc == 2 ? argv[1] : NULL, .path = "/" };
        cgd_client *via = c;
        int r = admin && t.name ? target_client(c, &t, &via) : 0;
        if (r < 0)
                return EXIT_REFUSED;
        r = cgd_subscribe(via, admin && !t.name ? admin_events : container_events);
        while (r >= 0) {
                cgd_event *e = NULL;
                r = cgd_client_next_event(via, UINT64_MAX, &e);
                if (r > 0)
                        event_print(e);
                cgd_event_free(e);
        }
        r = refused(via, r);
        target_client_done(c, via);
        return r;
}

/* ---- verbs: status and policy ---- */

/* Key/value lines for people, one JSON object for programs; values marked numeric are bare. */
typedef struct KV {
        const char *key;
        char value[512];
        bool numeric;
} KV;

static void kv_print(const KV *kv, size_t n) {
        size_t width = 0;
        for (size_t i = 0; i < n; i++)
                width = strlen(kv[i].key) > width ? strlen(kv[i].key) : width;
        if (arg_json)
                printf("{");
        for (size_t i = 0; i < n; i++) {
                if (!arg_json) {
                        printf("%*s: %s\n", (int) width, kv[i].key, kv[i].value);
                        continue;
                }
                printf("%s", i ? ", " : "");
                json_string(stdout, kv[i].key);
                printf(": ");
                if (kv[i].numeric)
                        printf("%s", kv[i].value);
                else
                        json_string(stdout, kv[i].value);
        }
        if (arg_json)
                printf("}\n");
}

static void kv_set(KV *kv, const char *key, bool numeric, const char *fmt, ...) _printf_(4, 5);
static void kv_set(KV *kv, const char *key, bool numeric, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        kv->key = key;
        kv->numeric = numeric;
        vsnprintf(kv->value, sizeof kv->value, fmt, ap);
        va_end(ap);
}

/* Groups and processes below a target, counted; -1 where the daemon would not say. */
static void count_tree(cgd_client *c, const Target *t, long *ret_groups, long *ret_procs) {
        char **l = NULL;
        pid_t *pids = NULL;
        size_t n = 0;
        bool admin = cgd_client_is_admin(c);
        *ret_groups = (admin ? cgd_list_container_groups(c, t->name, t->path, 1, &l) : cgd_list_groups(c, t->path, 1, &l)) < 0
                              ? -1
                              : (long) strv_length(l);
        *ret_procs = (admin ? cgd_get_container_processes(c, t->name, t->path, 1, &pids, &n)
                            : cgd_get_processes(c, t->path, 1, &pids, &n)) < 0
                             ? -1
                             : (long) n;
        cgd_strv_free(l);
        free(pids);
}

static int status_daemon(cgd_client *c) {
        cgd_dict *d = NULL;
        char **policies = NULL;
        int r = cgd_get_statistics(c, &d);
        if (r >= 0)
                r = cgd_list_policies(c, &policies);
        if (r < 0) {
                cgd_dict_free(d);
                return refused(c, r);
        }
        KV kv[8];
        size_t n = 0;
        uint64_t v, refusals = 0;
        char by_name[400] = "";
        for (size_t i = 0; i < cgd_dict_size(d); i++) {
                const char *key = cgd_dict_key(d, i), *name = startswith(key, "refused.");
                if (name && cgd_dict_get_u64(d, key, &v) >= 0 && v > 0) {
                        refusals += v;
                        size_t len = strlen(by_name);
                        snprintf(by_name + len, sizeof by_name - len, "%s%s %" PRIu64, len ? ", " : "", name, v);
                }
        }
        kv_set(&kv[n++], "Socket", false, "%s", cgd_client_socket(c));
        static const char *const keys[][2] = { { "containers", "Containers" }, { "groups", "Groups" },
                                               { "open_connections", "OpenConnections" },
                                               { "connections", "Connections" }, { "requests", "Requests" } };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                kv_set(&kv[n++], keys[i][1], true, "%" PRIu64, cgd_dict_get_u64(d, keys[i][0], &v) >= 0 ? v : 0);
        kv_set(&kv[n++], "Refusals", true, "%" PRIu64, refusals);
        if (!arg_json && refusals)
                snprintf(kv[n - 1].value + strlen(kv[n - 1].value), sizeof kv[n - 1].value - strlen(kv[n - 1].value),
                         " (%s)", by_name);
        kv[n].key = "Policies";
        kv[n].numeric = arg_json;
        kv[n].value[0] = 0;
        for (size_t i = 0, len = 0; policies[i]; i++, len = strlen(kv[n].value))
                snprintf(kv[n].value + len, sizeof kv[n].value - len, arg_json ? "%s\"%s\"" : "%s%s",
                         i ? (arg_json ? ", " : " ") : "", policies[i]);
        if (arg_json) { /* a JSON array; policy names are [A-Za-z0-9_.-] and need no escaping */
                memmove(kv[n].value + 1, kv[n].value, strlen(kv[n].value) + 1);
                kv[n].value[0] = '[';
                strncat(kv[n].value, "]", sizeof kv[n].value - strlen(kv[n].value) - 1);
        }
        n++;
        kv_print(kv, n);
        cgd_dict_free(d);
        cgd_strv_free(policies);
        return 0;
}

static int verb_status(cgd_client *c, int argc, char **argv) {
        if (argc > 2)
                return usage_error("status takes at most one NAME");
        bool admin = cgd_client_is_admin(c);
        if (admin && argc == 1)
                return status_daemon(c);
        if (!admin && argc == 2)
                return usage_error("inside a container, status takes no NAME");
        Target t = { .name = admin ? argv[1] : NULL, .path = "/" };
        cgd_dict *d = NULL;
        int r = admin ? cgd_get_container(c, t.name, &d) : cgd_get_policy(c, NULL, &d);
        if (r < 0)
                return refused(c, r);
        KV kv[12];
        size_t n = 0;
        const char *s;
        uint64_t v;
        long groups, procs;
        count_tree(c, &t, &groups, &procs);
        if (!admin) {
                kv_set(&kv[n++], "Socket", false, "%s", cgd_client_socket(c));
                kv_set(&kv[n++], "Policy", false, "%s", cgd_dict_get_string(d, "Name", &s) >= 0 ? s : "?");
        } else
                for (size_t i = 0; i < cgd_dict_size(d) && n < 8; i++) {
                        const char *key = cgd_dict_key(d, i);
                        if (cgd_dict_get_string(d, key, &s) >= 0)
                                kv_set(&kv[n++], key, false, "%s", s);
                        else if (cgd_dict_get_u64(d, key, &v) >= 0)
                                kv_set(&kv[n++], key, true, "%" PRIu64, v);
                }
        kv_set(&kv[n++], "Groups", true, "%ld", groups);
        kv_set(&kv[n++], "Processes", true, "%ld", procs);
        kv_print(kv, n);
        cgd_dict_free(d);
        return 0;
}

static int verb_policy(cgd_client *c, int argc, char **argv) {
        bool admin = cgd_client_is_admin(c);
        if (argc > 2 || (!admin && argc == 2))
                return usage_error(admin ? "policy takes at most one NAME" : "inside a container, policy takes no NAME");
        if (admin && argc == 1) {
                char **l = NULL;
                int r = cgd_list_policies(c, &l);
                if (r < 0)
                        return refused(c, r);
                static const char *const headers[] = { "policy", NULL };
                _cleanup_(table_freep) Table *t = table_new(headers, NULL);
                for (char **i = l; t && *i; i++)
                        (void) table_add(t, (const char *const[]) { *i });
                if (t)
                        table_print(t, arg_json, arg_legend);
                cgd_strv_free(l);
                return t ? 0 : refused(NULL, -ENOMEM);
        }
        cgd_dict *d = NULL;
        int r = cgd_get_policy(c, admin ? argv[1] : NULL, &d);
        if (r < 0)
                return refused(c, r);
        dict_print(d, arg_json);
        cgd_dict_free(d);
        return 0;
}

/* ---- verbs: tree ---- */

static int cmp_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The direct children of parent among the sorted paths (all below the tree's root). */
static bool is_child(const char *parent, const char *path) {
        size_t l = streq(parent, "/") ? 0 : strlen(parent);
        return strncmp(path, parent, l) == 0 && path[l] == '/' && path[l + 1] && !strchr(path + l + 1, '/');
}

static long tree_procs(cgd_client *c, const Target *t, const char *path) {
        pid_t *pids = NULL;
        size_t n = 0;
        int r = cgd_client_is_admin(c) ? cgd_get_container_processes(c, t->name, path, 0, &pids, &n)
                                       : cgd_get_processes(c, path, 0, &pids, &n);
        free(pids);
        return r < 0 ? -1 : (long) n;
}

/* A group's usage and limits, as the tree shows them beside it. */
static void tree_usage_json(const GroupUsage *u) {
        const struct { const char *key; uint64_t v; } numbers[] = {
                { "memory.current", u->memory }, { "pids.current", u->pids }, { "cpu.usage_usec", u->cpu_usec },
                { "io.rbytes", u->io_rbytes }, { "io.wbytes", u->io_wbytes },
        };
        const struct { const char *key; const char *v; } limits[] = {
                { "memory.max", u->memory_max }, { "pids.max", u->pids_max }, { "cpu.max", u->cpu_max },
        };
        for (size_t i = 0; i < ELEMENTSOF(numbers); i++)
                if (numbers[i].v != USAGE_UNKNOWN)
                        printf(", \"%s\": %" PRIu64, numbers[i].key, numbers[i].v);
        for (size_t i = 0; i < ELEMENTSOF(limits); i++)
                if (limits[i].v[0]) {
                        printf(", \"%s\": ", limits[i].key);
                        json_string(stdout, limits[i].v);
                }
}

static void tree_add_row(Table *tab, const char *label, long procs, const GroupUsage *u) {
        char p[24], b[6][CTL_FORMAT_MAX];
        snprintf(p, sizeof p, "%ld", procs);
        table_add(tab, (const char *const[]) {
                label, procs >= 0 ? p : "-", ctl_format_bytes(u->memory, b[0]),
                ctl_format_limit("memory.max", u->memory_max, b[1]), ctl_format_count(u->pids, b[2]),
                ctl_format_limit("pids.max", u->pids_max, b[3]), ctl_format_usec(u->cpu_usec, b[4]),
                ctl_format_limit("cpu.max", u->cpu_max, b[5]),
        });
}

/* One group and, depth first, the groups below it: a row of tab, or (tab NULL) nested JSON. */
static void tree_node(cgd_client *c, const Target *t, char **paths, const char *path, const char *prefix, bool last,
                      bool root, Table *tab) {
        long procs = tree_procs(c, t, path);
        GroupUsage u;
        (void) ctl_usage_read(c, t->name, path, true, &u); /* a group that went shows "-" */
        const char *name = root ? path : strrchr(path, '/') + 1;
        if (!tab) {
                printf("{\"path\": ");
                json_string(stdout, path);
                if (procs >= 0)
                        printf(", \"processes\": %ld", procs);
                tree_usage_json(&u);
                printf(", \"children\": [");
        } else {
                char label[768];
                snprintf(label, sizeof label, "%s%s%s%s%s", prefix, root ? "" : last ? "└─" : "├─",
                         root && t->name ? t->name : "", root && t->name ? ":" : "", name);
                tree_add_row(tab, label, procs, &u);
        }
        char sub[512];
        snprintf(sub, sizeof sub, "%s%s", prefix, root ? "" : last ? "  " : "│ ");
        size_t n_children = 0, seen = 0;
        for (char **p = paths; *p; p++)
                n_children += is_child(path, *p);
        for (char **p = paths; *p; p++)
                if (is_child(path, *p)) {
                        seen++;
                        if (!tab && seen > 1)
                                printf(", ");
                        tree_node(c, t, paths, *p, sub, seen == n_children, false, tab);
                }
        if (!tab)
                printf("]}");
}

static int tree_one(cgd_client *c, const Target *t, Table *tab) {
        char **l = NULL;
        int r = cgd_client_is_admin(c) ? cgd_list_container_groups(c, t->name, t->path, 1, &l)
                                       : cgd_list_groups(c, t->path, 1, &l);
        if (r < 0)
                return refused(c, r);
        qsort(l, strv_length(l), sizeof *l, cmp_strings);
        tree_node(c, t, l, t->path, "", true, true, tab);
        cgd_strv_free(l);
        return 0;
}

static int verb_tree(cgd_client *c, int argc, char **argv) {
        static const char *const headers[] = { "group", "procs", "memory", "memory.max", "tasks", "pids.max", "cpu",
                                               "cpu.max", NULL };
        if (argc > 2)
                return usage_error("tree takes at most one TARGET");
        _cleanup_(table_freep) Table *tab = arg_json ? NULL : table_new(headers, NULL);
        if (!arg_json && !tab)
                return refused(NULL, -ENOMEM);
        _cleanup_(target_done) Target t = { .path = "/" };
        int r = 0;
        if (argc == 2) {
                r = target_parse(c, argv[1], &t);
                if (r != 0)
                        return r;
                r = tree_one(c, &t, tab);
        } else if (cgd_client_is_admin(c)) { /* every container */
                cgd_container *l = NULL;
                size_t n = 0;
                r = cgd_list_containers(c, &l, &n);
                if (r < 0)
                        return refused(c, r);
                qsort(l, n, sizeof *l, cmp_containers);
                printf(arg_json ? "[" : "");
                for (size_t i = 0; i < n; i++) {
                        Target each = { .name = l[i].name, .path = "/" };
                        printf(arg_json && i ? ", " : "");
                        r = tree_one(c, &each, tab) ?: r;
                }
                printf(arg_json ? "]" : "");
                cgd_containers_free(l, n);
        } else
                r = tree_one(c, &t, tab);
        if (tab)
                table_print(tab, false, arg_legend);
        else
                printf("\n");
        return r;
}

/* ---- verbs: top ---- */

static int top_option(int opt, const char *arg, void *userdata) {
        TopOptions *o = userdata;
        char *end;
        switch (opt) {
        case 'b':
                o->batch = true;
                return 0;
        case 'n': {
                errno = 0;
                unsigned long n = strtoul(arg, &end, 10);
                if (errno || end == arg || *end || n == 0 || n > UINT_MAX)
                        return usage_error("--iterations takes a number above 0, not '%s'", arg);
                o->iterations = (unsigned) n;
                return 0;
        }
        case 'd': {
                errno = 0;
                double d = strtod(arg, &end);
                if (errno || end == arg || *end || !(d >= 0.1 && d <= 3600))
                        return usage_error("--delay takes seconds from 0.1 to 3600, not '%s'", arg);
                o->delay_usec = (uint64_t) (d * 1e6);
                return 0;
        }
        default: {
                int k = top_order_from_string(arg);
                if (k < 0)
                        return usage_error("--order takes cpu, memory, tasks, io or path, not '%s'", arg);
                o->order = (TopOrder) k;
                return 0;
        }
        }
}

static int verb_top(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = { { "batch", no_argument, NULL, 'b' },
                                                 { "iterations", required_argument, NULL, 'n' },
                                                 { "delay", required_argument, NULL, 'd' },
                                                 { "order", required_argument, NULL, 'o' }, {} };
        bool tty = isatty(STDOUT_FILENO);
        TopOptions o = { .delay_usec = 1000000, .batch = !tty, .json = arg_json, .legend = arg_legend };
        int i = parse_options(argc, argv, "bn:d:o:", options, top_option, &o);
        if (i < 0)
                return EXIT_USAGE;
        if (argc - i > 1)
                return usage_error("top takes at most one TARGET");
        if (o.iterations == 0 && (o.batch || o.json))
                o.iterations = 1; /* a script gets one table unless it asks for more */
        _cleanup_(target_done) Target t = { .path = "/" };
        if (argc - i == 1) {
                int r = target_parse(c, argv[i], &t);
                if (r != 0)
                        return r;
        }
        int r = ctl_top_run(c, t.name, t.path, &o);
        return r < 0 ? refused(c, r) : 0;
}

/* ---- verbs: properties ---- */

typedef struct SetArgs {
        bool below_usage, migrate;
} SetArgs;

static int set_option(int opt, const char *arg, void *userdata) {
        SetArgs *a = userdata;
        if (opt == 'b')
                a->below_usage = true;
        else
                a->migrate = true;
        return 0;
}

static int verb_set(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = { { "allow-below-usage", no_argument, NULL, 'b' },
                                                 { "allow-migrate", no_argument, NULL, 'm' }, {} };
        SetArgs a = {};
        int i = parse_options(argc, argv, "", options, set_option, &a);
        if (i < 0)
                return EXIT_USAGE;
        if (argc - i < 2)
                return usage_error("set needs TARGET and at least one KEY=VALUE");
        _cleanup_(target_done) Target t = {};
        int r = target_parse(c, argv[i], &t);
        if (r != 0)
                return r;
        _cleanup_(cgd_options_freep) cgd_options *o = NULL;
        r = cgd_options_new(&o);
        if (r >= 0 && a.below_usage)
                r = cgd_options_add_bool(o, "AllowBelowUsage", 1);
        if (r >= 0 && a.migrate)
                r = cgd_options_add_bool(o, "AllowMigrate", 1);
        if (r >= 0)
                r = cgd_set_unit_properties(c, t.name, t.path, (const char *const *) argv + i + 1, o);
        return r < 0 ? refused(c, r) : 0;
}

static int verb_get(cgd_client *c, int argc, char **argv) {
        if (argc < 2)
                return usage_error("get needs TARGET");
        _cleanup_(target_done) Target t = {};
        int r = target_parse(c, argv[1], &t);
        if (r != 0)
                return r;
        cgd_property *p = NULL;
        size_t n = 0;
        const char *const *keys = (const char *const *) argv + 2;
        r = t.name ? cgd_get_container_properties(c, t.name, t.path, keys, &p, &n) : cgd_get_properties(c, t.path, keys, &p, &n);
        if (r < 0)
                return refused(c, r);
        size_t width = 0;
        for (size_t i = 0; i < n; i++)
                width = strlen(p[i].key) > width ? strlen(p[i].key) : width;
        printf(arg_json ? "{" : "");
        for (size_t i = 0; i < n; i++)
                if (arg_json) {
                        printf("%s", i ? ", " : "");
                        json_string(stdout, p[i].key);
                        printf(": ");
                        json_string(stdout, p[i].value);
                } else /* a value of several lines (cpu.stat, io.stat) continues under its first */
                        for (const char *v = p[i].value, *key = p[i].key; v; key = "") {
                                const char *nl = strchr(v, '\n');
                                printf("%-*s  %.*s\n", (int) width, key, nl ? (int) (nl - v) : (int) strlen(v), v);
                                v = nl ? nl + 1 : NULL;
                        }
        printf(arg_json ? "}\n" : "");
        cgd_properties_free(p, n);
        return 0;
}

/* ---- verbs: groups and processes ---- */

/* The verbs of one TARGET and flags: parse, find the client that serves them, run. */
typedef int (*GroupFn)(cgd_client *via, const Target *t, char **args, void *userdata);

static int run_on_group(cgd_client *c, int argc, char **argv, int n_args, GroupFn fn, void *userdata) {
        if (argc != 2 + n_args)
                return usage_error("%s needs TARGET%s", argv[0], n_args ? " and PID" : "");
        _cleanup_(target_done) Target t = {};
        int r = target_parse(c, argv[1], &t);
        if (r != 0)
                return r;
        cgd_client *via = NULL;
        if (target_client(c, &t, &via) < 0)
                return EXIT_REFUSED;
        r = fn(via, &t, argv + 2, userdata);
        int ret = r < 0 ? refused(via, r) : r;
        target_client_done(c, via);
        return ret;
}

static int do_create(cgd_client *via, const Target *t, char **args, void *userdata) {
        int created = 0;
        int r = cgd_create_group(via, t->path, NULL, &created);
        if (r >= 0 && arg_json)
                printf("{\"created\": %s}\n", created ? "true" : "false");
        return r;
}

static int verb_create(cgd_client *c, int argc, char **argv) {
        return run_on_group(c, argc, argv, 0, do_create, NULL);
}

static int do_remove(cgd_client *via, const Target *t, char **args, void *userdata) {
        return cgd_remove_group(via, t->path, *(bool *) userdata, NULL);
}

static int verb_remove(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = { { "recursive", no_argument, NULL, 'r' }, {} };
        bool recursive = false;
        int i = parse_options(argc, argv, "r", options, flag_option, &recursive);
        return i < 0 ? EXIT_USAGE : run_on_group(c, argc - i + 1, argv + i - 1, 0, do_remove, &recursive);
}

static int do_freeze(cgd_client *via, const Target *t, char **args, void *userdata) {
        return userdata ? cgd_freeze(via, t->path, NULL) : cgd_thaw(via, t->path, NULL);
}

static int verb_freeze(cgd_client *c, int argc, char **argv) {
        return run_on_group(c, argc, argv, 0, do_freeze, (void *) 1);
}

static int verb_thaw(cgd_client *c, int argc, char **argv) {
        return run_on_group(c, argc, argv, 0, do_freeze, NULL);
}

static int kill_option(int opt, const char *arg, void *userdata) {
        return parse_signal(arg, userdata);
}

static int do_kill(cgd_client *via, const Target *t, char **args, void *userdata) {
        return cgd_kill(via, t->path, *(int *) userdata, NULL);
}

static int verb_kill(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = { { "signal", required_argument, NULL, 's' }, {} };
        int sig = SIGTERM;
        int i = parse_options(argc, argv, "s:", options, kill_option, &sig);
        return i < 0 ? EXIT_USAGE : run_on_group(c, argc - i + 1, argv + i - 1, 0, do_kill, &sig);
}

/* Inside a container the pid is the container's; on the host it is a host pid, sent as a pidfd
 * so that the daemon checks the very process the admin named. */
static int do_move(cgd_client *via, const Target *t, char **args, void *userdata) {
        pid_t pid;
        if (parse_pid(args[0], &pid) != 0)
                return EXIT_USAGE;
        if (!t->name)
                return cgd_move_process(via, t->path, pid, NULL);
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                fprintf(stderr, "cgdelegatectl: no process %d on this host: %m\n", (int) pid);
                return EXIT_REFUSED;
        }
        return cgd_move_process_fd(via, t->path, pidfd, NULL);
}

static int verb_move(cgd_client *c, int argc, char **argv) {
        return run_on_group(c, argc, argv, 1, do_move, NULL);
}

static int verb_procs(cgd_client *c, int argc, char **argv) {
        static const struct option options[] = { { "recursive", no_argument, NULL, 'r' }, {} };
        bool recursive = false;
        int i = parse_options(argc, argv, "r", options, flag_option, &recursive);
        if (i < 0)
                return EXIT_USAGE;
        if (argc - i != 1)
                return usage_error("procs needs one TARGET");
        _cleanup_(target_done) Target t = {};
        int r = target_parse(c, argv[i], &t);
        if (r != 0)
                return r;
        pid_t *pids = NULL;
        size_t n = 0;
        r = t.name ? cgd_get_container_processes(c, t.name, t.path, recursive, &pids, &n)
                   : cgd_get_processes(c, t.path, recursive, &pids, &n);
        if (r < 0)
                return refused(c, r);
        printf(arg_json ? "[" : "");
        for (size_t j = 0; j < n; j++)
                printf(arg_json ? "%s%d" : "%s%d\n", arg_json && j ? ", " : "", (int) pids[j]);
        printf(arg_json ? "]\n" : "");
        free(pids);
        return 0;
}

/* ---- the verb table, help and main ---- */

static int verb_help(cgd_client *c, int argc, char **argv);

static const Verb verbs[] = {
        { "list", WHERE_ADMIN, verb_list, "",
          "The registered containers: name, policy, leader pid, open connections, requests, refusals and cgroup." },
        { "status", WHERE_ANY, verb_status, "[NAME]",
          "On the host without NAME: the daemon (containers, groups, connections, requests, refusals by\n"
          "error name, loaded policies). With NAME, or inside a container: the container, with its groups\n"
          "and processes counted." },
        { "tree", WHERE_ANY, verb_tree, "[TARGET]",
          "The groups below TARGET (default: the container's root; on the host, every container) as a\n"
          "tree, with the processes, memory, tasks and CPU time of each beside its limits (memory.max,\n"
          "pids.max, cpu.max as a share of one CPU)." },
        { "register", WHERE_ADMIN, verb_register,
          "NAME --cgroup PATH [--policy P] [--create] [--leader PID] [-p KEY=VALUE]...",
          "Registers a container whose root group is PATH (a host cgroup path) under policy P (default:\n"
          "\"default\"); --create makes the group, --leader names its init (a host pid), -p sets limits on\n"
          "its root. Prints the container's socket." },
        { "unregister", WHERE_ADMIN, verb_unregister, "NAME [--remove-cgroup]",
          "Forgets a container and removes its socket; --remove-cgroup also removes its (empty) groups." },
        { "set", WHERE_ANY, verb_set, "TARGET KEY=VALUE... [--allow-below-usage] [--allow-migrate]",
          "Sets properties, all or none: cgroup v2 keys (memory.max=1G) or systemd's names (MemoryMax=1G,\n"
          "CPUQuota=20%, TasksMax=5, IOReadBandwidthMax=/dev/sda 5M), translated to the numbers systemd\n"
          "would write. On the host the admin is not bound by the container's policy." },
        { "get", WHERE_ANY, verb_get, "TARGET [KEY...]",
          "Prints properties as v2 keys and values, and usage keys (memory.current, memory.peak,\n"
          "memory.swap.current, pids.current, cpu.stat, io.stat, cpuset.cpus.effective,\n"
          "cpuset.mems.effective); when no KEY is named, every allowed property, then the usage the\n"
          "host keeps for the group." },
        { "top", WHERE_ANY, verb_top, "[TARGET] [--batch] [--iterations N] [--delay SECONDS] [--order KEY]",
          "Live CPU, memory, tasks and I/O per group, like systemd-cgtop: TARGET's groups, the\n"
          "container's inside it, every container's on the host. Refreshes every --delay (1 s) until\n"
          "interrupted; --batch (the default when not on a terminal) prints tables one after another,\n"
          "once unless --iterations says more. --order: cpu (default), memory, tasks, io or path." },
        { "create", WHERE_CONTAINER, verb_create, "TARGET", "Creates a group, and its missing parents." },
        { "remove", WHERE_CONTAINER, verb_remove, "TARGET [--recursive]",
          "Removes an empty group; --recursive removes the groups below it first." },
        { "move", WHERE_CONTAINER, verb_move, "TARGET PID",
          "Moves a process into TARGET. Inside a container PID is as the container sees it; on the host\n"
          "it is a host pid, and the process must be the container's." },
        { "procs", WHERE_ANY, verb_procs, "TARGET [--recursive]",
          "The processes in TARGET (and below, with --recursive): the container's pids inside it, host\n"
          "pids on the host." },
        { "freeze", WHERE_CONTAINER, verb_freeze, "TARGET", "Freezes every process in TARGET and below." },
        { "thaw", WHERE_CONTAINER, verb_thaw, "TARGET", "Thaws TARGET." },
        { "kill", WHERE_CONTAINER, verb_kill, "TARGET [--signal SIG]",
          "Sends SIG (a number or a name such as KILL; default TERM) to every process in TARGET and below." },
        { "policy", WHERE_ANY, verb_policy, "[NAME]",
          "Inside a container: its policy. On the host: the loaded policies, or the one named." },
        { "stats", WHERE_ADMIN, verb_stats, "",
          "The daemon's counters: requests, connections, containers, groups, refusals by error name." },
        { "monitor", WHERE_ANY, verb_monitor, "[NAME]",
          "Prints events as they come, one line (or one JSON object) each, until interrupted. Inside\n"
          "a container, or on the host with NAME: GroupEmpty PATH and MemoryEvent PATH KIND COUNT (KIND:\n"
          "high, max, oom, oom_kill) of the container's groups. On the host without NAME: the daemon's\n"
          "Audit lines, every change and refusal." },
        { "metrics", WHERE_ADMIN, verb_metrics, "[--openmetrics]",
          "The daemon's and every container's counters (requests, refusals by error name, the time\n"
          "requests took as a histogram, groups, connections) in the Prometheus text format that the node\n"
          "exporter's textfile collector reads; --openmetrics: in OpenMetrics 1.0." },
        { "help", WHERE_ANY, verb_help, "[VERB]", "Shows the help of VERB, or of the program." },
};

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static int help(void) {
        printf("Usage: cgdelegatectl [--socket PATH] [--json] [--no-legend] VERB ...\n\n"
               "Talks to cgdelegated. On the host (admin socket " CGD_ADMIN_SOCKET ") a group is\n"
               "NAME:/path; inside a container (" CGD_CONTAINER_SOCKET ") it is /path.\n"
               "Verbs marked (host) need the admin socket; create, remove, move, freeze, thaw and kill\n"
               "given NAME:/path on the host go through that container's socket and its policy.\n\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-11s %s%s\n", verbs[i].name, verbs[i].usage, verbs[i].where == WHERE_ADMIN ? "  (host)" : "");
        printf("\nOptions:\n"
               "  --socket PATH  the socket to use (default: the container's if it exists and the admin's does not)\n"
               "  --json         JSON output for programs\n"
               "  --no-legend    no table headers or summary lines\n"
               "  --version      the version\n"
               "  -h, --help     this help; VERB --help shows one verb's\n\n"
               "Exit status: 0 done, 1 refused or failed (D-Bus error name and message on stderr), 2 usage.\n");
        return 0;
}

static int verb_usage(const Verb *v) {
        printf("Usage: cgdelegatectl %s %s\n\n%s\n", v->name, v->usage, v->help);
        return 0;
}

static int verb_help(cgd_client *c, int argc, char **argv) {
        if (argc < 2)
                return help();
        const Verb *v = verb_find(argv[1]);
        return v ? verb_usage(v) : usage_error("unknown verb '%s'", argv[1]);
}

static int run(int argc, char **argv) {
        const Verb *v = verb_find(argv[0]);
        if (!v)
                return usage_error("unknown verb '%s'", argv[0]);
        current_verb = v;
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return verb_usage(v);
        if (v->run == verb_help)
                return verb_help(NULL, argc, argv);
        cgd_client *c = NULL;
        int r = cgd_client_open(arg_socket, &c);
        if (r < 0) {
                fprintf(stderr, "cgdelegatectl: cannot reach cgdelegated at %s: %s\n",
                        arg_socket ?: "the container's or the admin socket", strerror(-r));
                return EXIT_REFUSED;
        }
        if (v->where == WHERE_ADMIN && !cgd_client_is_admin(c))
                r = usage_error("%s works on the host, through the admin socket", v->name);
        else
                r = v->run(c, argc, argv);
        cgd_client_free(c);
        return r;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },         { "json", no_argument, NULL, 'j' },
                { "no-legend", no_argument, NULL, 'L' },    { "socket", required_argument, NULL, 's' },
                { "version", no_argument, NULL, 'V' },      {}
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return help();
                case 'j':
                        arg_json = true;
                        break;
                case 'L':
                        arg_legend = false;
                        break;
                case 's':
                        arg_socket = optarg;
                        break;
                case 'V':
                        printf("cgdelegatectl " CGD_VERSION "\n");
                        return 0;
                default:
                        return usage_error("unknown option or missing value: %s", argv[optind - 1]);
                }
        if (optind >= argc)
                return usage_error("missing verb");
        return run(argc - optind, argv + optind);
}
