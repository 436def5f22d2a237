/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegatectl: the admin's and the container's command line. On the host it talks to the admin
 * socket and names a group NAME:/path; inside a container (or with --socket naming a container
 * socket) it talks to /run/host/cgdelegate/socket and names a group /path. Properties may be
 * given in cgroup v2 form (memory.max=1G) or in systemd's (MemoryMax=1G, CPUQuota=20%), which
 * sdprop.c translates. Exit codes: 0 done, 1 refused or failed (the D-Bus error name and message
 * on stderr), 2 usage. This first version has the verbs that change and read groups; status,
 * policy, stats and tree come next, monitor, top and metrics with the observability work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "macro.h"
#include "sdprop.h"

#define CONTAINER_SOCKET "/run/host/cgdelegate/socket"
#define ADMIN_SOCKET "/run/cgdelegate/admin.socket"
#define PATH_OBJ "/org/cgdelegate"
#define IFACE_C "org.cgdelegate.Container1"
#define IFACE_M "org.cgdelegate.Manager1"

static const char *arg_socket = NULL;
static bool arg_json = false;
static bool arg_admin = false; /* talking to the admin socket */

static int usage(const char *why) {
        if (why)
                fprintf(stderr, "cgdelegatectl: %s\n", why);
        fprintf(why ? stderr : stdout,
                "Usage: cgdelegatectl [--socket PATH] [--json] VERB ...\n\n"
                "On the host (admin socket %s) a group is NAME:/path; inside a container\n"
                "(%s) it is /path.\n\n"
                "  list                                 registered containers (host)\n"
                "  register NAME --cgroup PATH [--policy P] [--create] [--leader PID] [-p KEY=VALUE]...\n"
                "  unregister NAME [--remove-cgroup]\n"
                "  set TARGET KEY=VALUE...              v2 keys or systemd syntax (MemoryMax=1G, CPUQuota=20%%)\n"
                "  get TARGET [KEY...]\n"
                "  create TARGET | remove TARGET [--recursive]\n"
                "  move TARGET PID | procs TARGET\n"
                "  freeze TARGET | thaw TARGET | kill TARGET [--signal SIG]\n"
                "(status, policy, stats, tree, monitor, top and metrics are still to come)\n",
                ADMIN_SOCKET, CONTAINER_SOCKET);
        return why ? 2 : 0;
}

/* ---- talking ---- */

static int connect_bus(sd_bus **ret) {
        const char *path = arg_socket;
        if (!path)
                path = access(CONTAINER_SOCKET, F_OK) == 0 && access(ADMIN_SOCKET, F_OK) != 0 ? CONTAINER_SOCKET
                                                                                                : ADMIN_SOCKET;
        arg_admin = strstr(path, "admin.socket") != NULL;
        _cleanup_free_ char *address = NULL;
        if (asprintf(&address, "unix:path=%s", path) < 0)
                return -ENOMEM;
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "cgdelegatectl: cannot connect to %s: %s\n", path, strerror(-r));
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* Prints a refusal the way scripts and people both read it. Returns 1 (the exit code). */
static int refused(const sd_bus_error *e, int r) {
        if (sd_bus_error_is_set(e))
                fprintf(stderr, "%s: %s\n", e->name, e->message ? e->message : "");
        else
                fprintf(stderr, "cgdelegatectl: %s\n", strerror(-r));
        return 1;
}

/* "NAME:/path" on the admin socket, "/path" on a container's. */
static int split_target(const char *target, char **ret_name, const char **ret_path) {
        const char *colon = strchr(target, ':');
        if (arg_admin) {
                if (!colon || colon == target || colon[1] != '/')
                        return usage("on the host a group is NAME:/path");
                *ret_name = strndup(target, (size_t) (colon - target));
                *ret_path = colon + 1;
                return *ret_name ? 0 : -ENOMEM;
        }
        if (target[0] != '/')
                return usage("inside a container a group is /path");
        *ret_name = NULL;
        *ret_path = target;
        return 0;
}

static int new_call(sd_bus *bus, const char *method, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, NULL, PATH_OBJ, arg_admin ? IFACE_M : IFACE_C, method);
}

/* Appends the container name (admin) and the path, the two ways of naming a group. */
static int append_target(sd_bus_message *m, const char *name, const char *path) {
        int r = arg_admin ? sd_bus_message_append(m, "s", name) : 0;
        return r < 0 ? r : sd_bus_message_append(m, "s", path);
}

static int call(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call(bus, m, 0, &e, ret_reply);
        return r < 0 ? -refused(&e, r) : 0;
}

/* ---- output ---- */

static void print_pairs_json(char **pairs) {
        printf("{");
        for (size_t i = 0; pairs && pairs[i]; i += 2)
                printf("%s\"%s\": \"%s\"", i ? ", " : "", pairs[i], pairs[i + 1]);
        printf("}\n");
}

static int print_properties(sd_bus_message *reply) {
        _cleanup_strv_free_ char **pairs = NULL;
        size_t n = 0;
        const char *k, *v;
        int r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &k, &v)) > 0)
                if (strv_extend(&pairs, &n, k) < 0 || strv_extend(&pairs, &n, v) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        if (arg_json)
                print_pairs_json(pairs);
        else
                for (size_t i = 0; pairs && pairs[i]; i += 2)
                        printf("%-16s %s\n", pairs[i], pairs[i + 1]);
        return 0;
}

/* ---- verbs ---- */

/* KEY=VALUE assignments, systemd syntax translated, as an a(ss). */
static int append_assignments(sd_bus_message *m, char **assignments) {
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_free_ char *error = NULL;
        int r = sdprop_translate_many((const char *const *) assignments, NULL, &pairs, &error);
        if (r < 0) {
                /* Refused before it was sent, in the daemon's words: the same name and exit code. */
                fprintf(stderr, "org.cgdelegate.Error.%s: %s\n", r == -EOPNOTSUPP ? "NotSupported" : "InvalidValue",
                        error ? error : strerror(-r));
                return -2;
        }
        r = sd_bus_message_open_container(m, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && pairs[i]; i += 2)
                r = sd_bus_message_append(m, "(ss)", pairs[i], pairs[i + 1]);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int verb_set(sd_bus *bus, char **argv) {
        if (!argv[0] || !argv[1])
                return usage("set TARGET KEY=VALUE...");
        _cleanup_free_ char *name = NULL;
        const char *path;
        int r = split_target(argv[0], &name, &path);
        if (r != 0)
                return r;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        r = new_call(bus, arg_admin ? "SetContainerProperties" : "SetProperties", &m);
        if (r >= 0)
                r = append_target(m, name, path);
        if (r >= 0)
                r = append_assignments(m, argv + 1);
        if (r == -2)
                return 1;
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 0);
        return r < 0 ? 1 : -call(bus, m, NULL);
}

static int verb_get(sd_bus *bus, char **argv) {
        if (!argv[0])
                return usage("get TARGET [KEY...]");
        _cleanup_free_ char *name = NULL;
        const char *path;
        int r = split_target(argv[0], &name, &path);
        if (r != 0)
                return r;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        r = new_call(bus, arg_admin ? "GetContainerProperties" : "GetProperties", &m);
        if (r >= 0)
                r = append_target(m, name, path);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + 1);
        if (r < 0)
                return 1;
        if (call(bus, m, &reply) < 0)
                return 1;
        return print_properties(reply) < 0 ? 1 : 0;
}

/* The container methods that take a path and options, and nothing else (create, freeze, thaw). */
static int verb_simple(sd_bus *bus, const char *method, char **argv) {
        if (!argv[0] || arg_admin)
                return usage(arg_admin ? "this verb works on a container's socket (--socket PATH)" : "missing TARGET");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = new_call(bus, method, &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sa{sv}", argv[0], 0);
        return r < 0 ? 1 : -call(bus, m, NULL);
}

static int verb_remove(sd_bus *bus, char **argv) {
        if (!argv[0] || arg_admin)
                return usage("remove /path [--recursive], on a container's socket");
        bool recursive = argv[1] && streq(argv[1], "--recursive");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = new_call(bus, "RemoveGroup", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sba{sv}", argv[0], recursive, 0);
        return r < 0 ? 1 : -call(bus, m, NULL);
}

static int verb_move(sd_bus *bus, char **argv) {
        if (!argv[0] || !argv[1] || arg_admin)
                return usage("move /path PID, on a container's socket");
        char *end;
        unsigned long pid = strtoul(argv[1], &end, 10);
        if (*end || pid == 0 || pid > INT32_MAX)
                return usage("PID must be a positive number");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = new_call(bus, "MoveProcess", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sua{sv}", argv[0], (uint32_t) pid, 0);
        return r < 0 ? 1 : -call(bus, m, NULL);
}

static int verb_procs(sd_bus *bus, char **argv) {
        if (!argv[0] || arg_admin)
                return usage("procs /path, on a container's socket");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r = new_call(bus, "GetProcesses", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", argv[0], true);
        if (r < 0 || call(bus, m, &reply) < 0)
                return 1;
        const uint32_t *pids;
        size_t size;
        r = sd_bus_message_read_array(reply, 'u', (const void **) &pids, &size);
        if (r < 0)
                return 1;
        for (size_t i = 0; i < size / sizeof(uint32_t); i++)
                printf(arg_json ? "%s%u" : "%s%u\n", arg_json && i ? ", " : arg_json ? "[" : "", pids[i]);
        if (arg_json)
                printf("%s]\n", size ? "" : "[");
        return 0;
}

static int verb_kill(sd_bus *bus, char **argv) {
        if (!argv[0] || arg_admin)
                return usage("kill /path [--signal SIG], on a container's socket");
        int sig = 15;
        if (argv[1] && streq(argv[1], "--signal") && argv[2])
                sig = atoi(argv[2]);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = new_call(bus, "Kill", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sia{sv}", argv[0], (int32_t) sig, 0);
        return r < 0 ? 1 : -call(bus, m, NULL);
}

static int verb_list(sd_bus *bus, char **argv) {
        if (!arg_admin)
                return usage("list works on the admin socket");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r = new_call(bus, "ListContainers", &m);
        if (r < 0 || call(bus, m, &reply) < 0)
                return 1;
        const char *name, *cgroup, *policy;
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        bool first = true;
        if (arg_json)
                printf("[");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sss)", &name, &cgroup, &policy)) > 0) {
                if (arg_json)
                        printf("%s{\"name\": \"%s\", \"cgroup\": \"%s\", \"policy\": \"%s\"}", first ? "" : ", ", name,
                               cgroup, policy);
                else
                        printf("%-20s %-10s %s\n", name, policy, cgroup);
                first = false;
        }
        if (arg_json)
                printf("]\n");
        return r < 0 ? 1 : 0;
}

static int verb_register(sd_bus *bus, int argc, char **argv) {
        const char *name = argc > 0 ? argv[0] : NULL, *cgroup = NULL, *policy = "default";
        bool create = false;
        uint32_t leader = 0;
        char *props[64] = {};
        size_t n_props = 0;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--cgroup") && i + 1 < argc)
                        cgroup = argv[++i];
                else if (streq(argv[i], "--policy") && i + 1 < argc)
                        policy = argv[++i];
                else if (streq(argv[i], "--create"))
                        create = true;
                else if (streq(argv[i], "--leader") && i + 1 < argc)
                        leader = (uint32_t) strtoul(argv[++i], NULL, 10);
                else if (streq(argv[i], "-p") && i + 1 < argc && n_props < ELEMENTSOF(props) - 1)
                        props[n_props++] = argv[++i];
                else
                        return usage("register NAME --cgroup PATH [--policy P] [--create] [--leader PID] [-p KEY=VALUE]...");
        }
        if (!name || !cgroup || !arg_admin)
                return usage("register NAME --cgroup PATH ... on the admin socket");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r = new_call(bus, "RegisterContainer", &m);
        r = r < 0 ? r : sd_bus_message_append(m, "sss", name, cgroup, policy);
        r = r < 0 ? r : sd_bus_message_open_container(m, 'a', "{sv}");
        r = r < 0 ? r : sd_bus_message_append(m, "{sv}", "Create", "b", create);
        if (r >= 0 && leader)
                r = sd_bus_message_append(m, "{sv}", "Leader", "u", leader);
        if (r >= 0 && n_props) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                r = r < 0 ? r : sd_bus_message_append(m, "s", "Properties");
                r = r < 0 ? r : sd_bus_message_open_container(m, 'v', "a(ss)");
                r = r < 0 ? r : append_assignments(m, props);
                if (r == -2)
                        return 1;
                r = r < 0 ? r : sd_bus_message_close_container(m);
                r = r < 0 ? r : sd_bus_message_close_container(m);
        }
        r = r < 0 ? r : sd_bus_message_close_container(m);
        if (r < 0 || call(bus, m, &reply) < 0)
                return 1;
        const char *socket;
        if (sd_bus_message_read(reply, "s", &socket) >= 0)
                printf("%s\n", socket);
        return 0;
}

static int verb_unregister(sd_bus *bus, char **argv) {
        if (!argv[0] || !arg_admin)
                return usage("unregister NAME [--remove-cgroup], on the admin socket");
        bool remove = argv[1] && streq(argv[1], "--remove-cgroup");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = new_call(bus, "UnregisterContainer", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sa{sv}", argv[0], remove ? 1 : 0, "RemoveCgroup", "b", true);
        return r < 0 ? 1 : -call(bus, m, NULL);
}

static int run(int argc, char **argv) {
        const char *verb = argv[0];
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        if (connect_bus(&bus) < 0)
                return 1;
        if (streq(verb, "set"))
                return verb_set(bus, argv + 1);
        if (streq(verb, "get"))
                return verb_get(bus, argv + 1);
        if (streq(verb, "create"))
                return verb_simple(bus, "CreateGroup", argv + 1);
        if (streq(verb, "freeze"))
                return verb_simple(bus, "Freeze", argv + 1);
        if (streq(verb, "thaw"))
                return verb_simple(bus, "Thaw", argv + 1);
        if (streq(verb, "remove"))
                return verb_remove(bus, argv + 1);
        if (streq(verb, "move"))
                return verb_move(bus, argv + 1);
        if (streq(verb, "procs"))
                return verb_procs(bus, argv + 1);
        if (streq(verb, "kill"))
                return verb_kill(bus, argv + 1);
        if (streq(verb, "list"))
                return verb_list(bus, argv + 1);
        if (streq(verb, "register"))
                return verb_register(bus, argc - 1, argv + 1);
        if (streq(verb, "unregister"))
                return verb_unregister(bus, argv + 1);
        return usage("unknown verb (see --help)");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { "socket", required_argument, NULL, 's' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return usage(NULL);
                case 'j':
                        arg_json = true;
                        break;
                case 's':
                        arg_socket = optarg;
                        break;
                case 'V':
                        printf("cgdelegatectl " CGD_VERSION "\n");
                        return 0;
                default:
                        return 2;
                }
        if (optind >= argc)
                return usage("missing verb");
        return run(argc - optind, argv + optind);
}
