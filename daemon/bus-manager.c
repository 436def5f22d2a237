/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.cgdelegate.Manager1 on the admin socket (0600 root: whoever reaches it is root-equivalent).
 * Registration and the other admin operations; admin property writes may touch a container's
 * root and are not bound by its policy, but are validated and audited like any other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgpath.h"
#include "daemon.h"

int bus_append_policy(sd_bus_message *reply, const Policy *p);

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int done(sd_bus_message *m, Conn *conn, const Container *c, const char *name, const char *op, const char *path,
                const char *detail, int k, const CgdRefusal *r) {
        Container shown = { .name = (char *) name };
        /* A bare errno (nothing refused in words) is audited as a failure, not as AccessDenied. */
        audit_log(conn->daemon, c ? c : &shown, op, path, detail, k, r->message[0] ? r : NULL);
        if (k < 0)
                return r->message[0] ? bus_refuse(m, conn, r) : k;
        return 0;
}

static int find(Conn *conn, const char *name, Container **ret, CgdRefusal *r) {
        *ret = registry_find(conn->daemon, name);
        if (!*ret)
                return cgd_refuse(r, CGD_ERROR_NOT_FOUND, "no container '%.64s' is registered", name);
        int k = registry_ready(*ret); /* restarted and not used yet */
        if (k == -ESRCH)
                return cgd_refuse(r, CGD_ERROR_NOT_FOUND, "container '%.64s' ended while the daemon was stopped", name);
        if (k < 0)
                return cgd_refuse(r, CGD_ERROR_FAILED, "container '%.64s' cannot be served again yet: %s", name, strerror(-k));
        return 0;
}

static int method_register(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        const char *name = "", *cgroup = "", *policy = "";
        CgdRefusal r = {};
        BusOptions o = {};
        Container *c = NULL;
        int k = sd_bus_message_read(m, "sss", &name, &cgroup, &policy);
        if (k >= 0)
                k = bus_read_options(m, OPT(OPT_CREATE) | OPT(OPT_LEADER) | OPT(OPT_LEADER_FD) | OPT(OPT_PROPERTIES) |
                                                OPT(OPT_SOCKET_UID) | OPT(OPT_SOCKET_GID), &o, &r);
        if (k >= 0 && (o.set & OPT(OPT_LEADER)) && (o.set & OPT(OPT_LEADER_FD)))
                k = cgd_refuse(&r, CGD_ERROR_INVALID_VALUE, "give Leader or LeaderFD, not both");
        if (k >= 0)
                k = registry_register(conn->daemon, name, cgroup, policy, &o, &c, &r);
        bus_options_done(&o);
        char detail[256];
        snprintf(detail, sizeof detail, "cgroup=%s policy=%s", cgroup, policy);
        if (done(m, conn, c, name, "Register", "/", detail, k, &r) < 0 || k < 0)
                return k < 0 && r.message[0] ? 1 : k;
        _cleanup_free_ char *socket = g_strdup_printf("%s/containers/%s/socket", conn->daemon->runtime_dir, name);
        return sd_bus_reply_method_return(m, "s", socket);
}

static int method_set_leader(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        const char *name = "";
        uint32_t pid = 0;
        CgdRefusal r = {};
        BusOptions o = {};
        Container *c = NULL;
        int k = sd_bus_message_read(m, "su", &name, &pid);
        if (k >= 0)
                k = bus_read_options(m, 0, &o, &r);
        if (k >= 0)
                k = find(conn, name, &c, &r);
        if (k >= 0 && (pid == 0 || pid > INT32_MAX))
                k = cgd_refuse(&r, CGD_ERROR_NO_SUCH_PROCESS, "no process %u", pid);
        if (k >= 0)
                k = registry_set_leader(c, (pid_t) pid, -EBADF, &r);
        bus_options_done(&o);
        char detail[32];
        snprintf(detail, sizeof detail, "pid %u", pid);
        if (done(m, conn, c, name, "SetLeader", "/", detail, k, &r) < 0 || k < 0)
                return k < 0 && r.message[0] ? 1 : k;
        return sd_bus_reply_method_return(m, "");
}

static int method_unregister(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        const char *name = "";
        CgdRefusal r = {};
        BusOptions o = {};
        Container *c = NULL;
        int k = sd_bus_message_read(m, "s", &name);
        if (k >= 0)
                k = bus_read_options(m, OPT(OPT_REMOVE_CGROUP), &o, &r);
        if (k >= 0)
                k = find(conn, name, &c, &r);
        _cleanup_free_ char *shown = strdup(name);
        if (k >= 0)
                k = registry_unregister(conn->daemon, c, o.flag[OPT_REMOVE_CGROUP], &r);
        if (k >= 0)
                c = NULL; /* freed */
        bus_options_done(&o);
        if (done(m, conn, c, shown ?: "", "Unregister", "/", "", k, &r) < 0 || k < 0)
                return k < 0 && r.message[0] ? 1 : k;
        return sd_bus_reply_method_return(m, "");
}

static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        /* After a restart, containers that ended while the daemon was away are not listed. */
        (void) registry_restore_some(conn->daemon, 0, 0);
        int k = sd_bus_message_new_method_return(m, &reply);
        if (k >= 0)
                k = sd_bus_message_open_container(reply, 'a', "(sss)");
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, conn->daemon->containers);
        while (k >= 0 && g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                k = sd_bus_message_append(reply, "(sss)", c->name, c->cgroup, c->policy_name);
        }
        if (k >= 0)
                k = sd_bus_message_close_container(reply);
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int method_get(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        const char *name = "";
        CgdRefusal r = {};
        Container *c = NULL;
        int k = sd_bus_message_read(m, "s", &name);
        if (k >= 0)
                k = find(conn, name, &c, &r);
        if (k < 0)
                return r.message[0] ? bus_refuse(m, conn, &r) : k;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *socket = g_strdup_printf("%s/containers/%s/socket", conn->daemon->runtime_dir, c->name);
        k = sd_bus_message_new_method_return(m, &reply);
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'a', "{sv}");
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Name", "s", c->name);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Cgroup", "s", c->cgroup);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Policy", "s", c->policy_name);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Socket", "s", socket);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Unit", "s", c->unit ? c->unit : "");
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Leader", "u", (uint32_t) c->leader);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Connections", "u", c->n_conns);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Requests", "t", c->requests);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Refusals", "t", c->refusals);
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "Groups", "u", c->groups);
        for (CgdError e = 0; k >= 0 && e < _CGD_ERROR_MAX; e++) {
                _cleanup_free_ char *key = g_strdup_printf("Refused.%s", cgd_error_name(e) + strlen("org.cgdelegate.Error."));
                k = sd_bus_message_append(reply, "{sv}", key, "t", c->refused[e]);
        }
        /* Cumulative, as a histogram's buckets are: requests that took at most the bound. */
        uint64_t below = 0;
        for (size_t i = 0; k >= 0 && i <= LATENCY_BUCKETS; i++) {
                below += c->latency[i];
                _cleanup_free_ char *key = i < LATENCY_BUCKETS ? g_strdup_printf("LatencyBucket.%" PRIu64, latency_bounds_usec[i])
                                                               : strdup("LatencyBucket.inf");
                k = key ? sd_bus_message_append(reply, "{sv}", key, "t", below) : -ENOMEM;
        }
        k = k < 0 ? k : sd_bus_message_append(reply, "{sv}", "LatencySumUSec", "t", c->latency_sum_usec);
        k = k < 0 ? k : sd_bus_message_close_container(reply);
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int read_target(sd_bus_message *m, Conn *conn, Container **ret_c, const char **ret_path, const char **ret_rel,
                       CgdRefusal *r) {
        const char *name;
        unsigned depth;
        int k = sd_bus_message_read(m, "ss", &name, ret_path);
        if (k >= 0)
                k = find(conn, name, ret_c, r);
        if (k >= 0)
                k = bus_check_path(*ret_path, 0, ret_rel, &depth, r);
        return k;
}

static int method_set_properties(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        CgdRefusal r = {};
        Container *c = NULL;
        const char *path = "", *rel;
        const char *pairs[BUS_PROPERTIES_MAX][2] = {};
        size_t n = 0;
        BusOptions o = {};
        _cleanup_free_ KnobValue *values = NULL;
        int k = read_target(m, conn, &c, &path, &rel, &r);
        if (k >= 0)
                k = bus_read_pairs(m, pairs, &n, &r);
        if (k >= 0)
                k = bus_read_options(m, OPT(OPT_ALLOW_BELOW_USAGE) | OPT(OPT_ALLOW_MIGRATE), &o, &r);
        if (k >= 0)
                k = bus_parse_values(pairs, n, NULL, path, 0, &values, &r);
        if (k >= 0)
                k = sdunit_apply(c, rel, values, n, bus_apply_flags(&o), &r);
        /* A bare errno (a group the host removed meanwhile) gets a name, or sd-bus would send a
         * System.Error. */
        if (k < 0 && !r.message[0])
                k = cgd_refuse(&r, k == -ENOENT || k == -ENODEV ? CGD_ERROR_NOT_FOUND : CGD_ERROR_FAILED, "%s: %s", path,
                               strerror(-k));
        char detail[512] = "admin: ";
        bus_pairs_describe(pairs, n, detail + strlen(detail), sizeof detail - strlen(detail));
        bus_options_done(&o);
        if (done(m, conn, c, "-", "SetProperties", path, detail, k, &r) < 0 || k < 0)
                return k < 0 && r.message[0] ? 1 : k;
        return sd_bus_reply_method_return(m, "");
}

static int method_get_properties(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        CgdRefusal r = {};
        Container *c = NULL;
        const char *path = "", *rel;
        _cleanup_strv_free_ char **keys = NULL;
        int k = read_target(m, conn, &c, &path, &rel, &r);
        if (k >= 0)
                k = sd_bus_message_read_strv(m, &keys);
        if (k >= 0 && !registry_group_exists(c, rel))
                k = cgd_refuse(&r, CGD_ERROR_NOT_FOUND, "%s: no such group in container %s", path, c->name);
        if (k < 0)
                return r.message[0] ? bus_refuse(m, conn, &r) : k;
        return bus_reply_properties(m, conn, c->tree, rel, keys, KNOB_ALL);
}

/* ListContainerGroups and GetContainerProcesses: what a container's ListGroups and GetProcesses
 * show, for the admin, with host pids. */
static int list_common(sd_bus_message *m, Conn *conn, bool processes) {
        CgdRefusal r = {};
        Container *c = NULL;
        const char *path = "", *rel;
        int recursive = 0;
        int k = read_target(m, conn, &c, &path, &rel, &r);
        if (k >= 0)
                k = sd_bus_message_read(m, "b", &recursive);
        if (k >= 0)
                k = processes ? bus_reply_processes(m, c, path, rel, recursive, true, &r)
                              : bus_reply_groups(m, c, path, rel, recursive, &r);
        return k < 0 && r.message[0] ? bus_refuse(m, conn, &r) : k;
}

static int method_list_groups(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return list_common(m, userdata, false);
}

static int method_get_processes(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return list_common(m, userdata, true);
}

/* The policies the daemon has loaded (built-in, shipped and the admin's), by name. */
static int method_list_policies(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        guint n = 0;
        char **names = (char **) g_hash_table_get_keys_as_array(conn->daemon->policies, &n);
        qsort(names, n, sizeof *names, cmp_names);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int k = sd_bus_message_new_method_return(m, &reply);
        if (k >= 0)
                k = sd_bus_message_append_strv(reply, names);
        g_free(names); /* the keys stay the table's */
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int method_get_policy(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        const char *name = "";
        CgdRefusal r = {};
        int k = sd_bus_message_read(m, "s", &name);
        if (k < 0)
                return k;
        const Policy *p = policies_get(conn->daemon, name);
        if (!p) {
                cgd_refuse(&r, CGD_ERROR_NOT_FOUND, "no policy '%.64s' is loaded", name);
                return bus_refuse(m, conn, &r);
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        k = sd_bus_message_new_method_return(m, &reply);
        if (k >= 0)
                k = bus_append_policy(reply, p);
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        _cleanup_free_ char *err = NULL;
        CgdRefusal r = {};
        int k = policies_load(conn->daemon, &err);
        if (k < 0)
                cgd_refuse(&r, CGD_ERROR_INVALID_VALUE, "refused, the previous version stays in force: %.400s",
                           err ? err : "unknown error");
        if (done(m, conn, NULL, "-", "ReloadPolicies", "/", "", k, &r) < 0 || k < 0)
                return k < 0 ? 1 : k;
        return sd_bus_reply_method_return(m, "");
}

static int method_statistics(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = ((Conn *) userdata)->daemon;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int k = sd_bus_message_new_method_return(m, &reply);
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'a', "{st}");
        k = k < 0 ? k : sd_bus_message_append(reply, "{st}", "requests", d->stats.requests);
        k = k < 0 ? k : sd_bus_message_append(reply, "{st}", "connections", d->stats.connections);
        k = k < 0 ? k : sd_bus_message_append(reply, "{st}", "containers", (uint64_t) g_hash_table_size(d->containers));
        k = k < 0 ? k : sd_bus_message_append(reply, "{st}", "groups", (uint64_t) d->budget.groups);
        k = k < 0 ? k : sd_bus_message_append(reply, "{st}", "open_connections", (uint64_t) d->budget.connections);
        for (CgdError e = 0; k >= 0 && e < _CGD_ERROR_MAX; e++) {
                _cleanup_free_ char *key = g_strdup_printf("refused.%s", cgd_error_name(e) + strlen("org.cgdelegate.Error."));
                k = sd_bus_message_append(reply, "{st}", key, d->stats.refusals[e]);
        }
        k = k < 0 ? k : sd_bus_message_close_container(reply);
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        _cleanup_strv_free_ char **events = NULL;
        CgdRefusal r = {};
        int k = sd_bus_message_read_strv(m, &events);
        if (k < 0)
                return k;
        for (char **e = events; *e; e++)
                if (!streq(*e, "Audit")) {
                        cgd_refuse(&r, CGD_ERROR_INVALID_VALUE, "unknown event '%.64s' (known: Audit)", *e);
                        return bus_refuse(m, conn, &r);
                }
        server_set_audit_subscriber(conn, !events[0] || strv_length(events) > 0);
        return sd_bus_reply_method_return(m, "");
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("RegisterContainer", "sssa{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(cgroup) SD_BUS_PARAM(policy) SD_BUS_PARAM(options), "s", SD_BUS_PARAM(socket), method_register, 0),
        SD_BUS_METHOD_WITH_NAMES("SetContainerLeader", "sua{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(pid) SD_BUS_PARAM(options), "", "", method_set_leader, 0),
        SD_BUS_METHOD_WITH_NAMES("UnregisterContainer", "sa{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(options), "", "", method_unregister, 0),
        SD_BUS_METHOD_WITH_NAMES("ListContainers", "", "", "a(sss)", SD_BUS_PARAM(containers), method_list, 0),
        SD_BUS_METHOD_WITH_NAMES("GetContainer", "s", SD_BUS_PARAM(name), "a{sv}", SD_BUS_PARAM(container), method_get, 0),
        SD_BUS_METHOD_WITH_NAMES("SetContainerProperties", "ssa(ss)a{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(path) SD_BUS_PARAM(properties) SD_BUS_PARAM(options), "", "", method_set_properties, 0),
        SD_BUS_METHOD_WITH_NAMES("ListContainerGroups", "ssb", SD_BUS_PARAM(name) SD_BUS_PARAM(path) SD_BUS_PARAM(recursive), "as", SD_BUS_PARAM(groups), method_list_groups, 0),
        SD_BUS_METHOD_WITH_NAMES("GetContainerProcesses", "ssb", SD_BUS_PARAM(name) SD_BUS_PARAM(path) SD_BUS_PARAM(recursive), "au", SD_BUS_PARAM(pids), method_get_processes, 0),
        SD_BUS_METHOD_WITH_NAMES("ListPolicies", "", "", "as", SD_BUS_PARAM(policies), method_list_policies, 0),
        SD_BUS_METHOD_WITH_NAMES("GetPolicy", "s", SD_BUS_PARAM(policy), "a{sv}", SD_BUS_PARAM(settings), method_get_policy, 0),
        SD_BUS_METHOD_WITH_NAMES("GetContainerProperties", "ssas", SD_BUS_PARAM(name) SD_BUS_PARAM(path) SD_BUS_PARAM(keys), "a(ss)", SD_BUS_PARAM(properties), method_get_properties, 0),
        SD_BUS_METHOD_WITH_NAMES("ReloadPolicies", "", "", "", "", method_reload, 0),
        SD_BUS_METHOD_WITH_NAMES("GetStatistics", "", "", "a{st}", SD_BUS_PARAM(statistics), method_statistics, 0),
        SD_BUS_METHOD_WITH_NAMES("Subscribe", "as", SD_BUS_PARAM(events), "", "", method_subscribe, 0),
        SD_BUS_SIGNAL_WITH_NAMES("Audit", "sssss", SD_BUS_PARAM(container) SD_BUS_PARAM(operation) SD_BUS_PARAM(path) SD_BUS_PARAM(detail) SD_BUS_PARAM(result), 0),
        SD_BUS_VTABLE_END,
};
