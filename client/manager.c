/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate's wrappers of org.cgdelegate.Manager1, the methods of the admin socket
 * (protocol/org.cgdelegate.Manager1.xml). Containers are named; paths are the container's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

int cgd_register_container(cgd_client *c, const char *name, const char *cgroup, const char *policy,
                           const cgd_options *o, char **ret_socket) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        const char *socket;
        int r = client_new_call(c, 1, "RegisterContainer", &m);
        r = r < 0 ? r : wire_append(m, "sss", name, cgroup, policy ? policy : "default");
        r = r < 0 ? r : client_append_options(m, o);
        r = r < 0 ? r : client_call(c, m, &reply);
        r = r < 0 ? r : wire_read(reply, "s", &socket) ?: -EBADMSG;
        if (r >= 0 && ret_socket && !(*ret_socket = strdup(socket)))
                return -ENOMEM;
        return r < 0 ? r : 0;
}

int cgd_set_container_leader(cgd_client *c, const char *name, pid_t pid, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 1, "SetContainerLeader", &m);
        r = r < 0 ? r : wire_append(m, "su", name, (uint32_t) pid);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_unregister_container(cgd_client *c, const char *name, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 1, "UnregisterContainer", &m);
        r = r < 0 ? r : wire_append(m, "s", name);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_list_containers(cgd_client *c, cgd_container **ret, size_t *ret_n) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        cgd_container *l = NULL;
        size_t n = 0;
        const char *name, *cgroup, *policy;
        int r = client_new_call(c, 1, "ListContainers", &m);
        r = r < 0 ? r : client_call(c, m, &reply);
        r = r < 0 ? r : wire_enter(reply, 'a', "(sss)");
        while (r >= 0 && (r = wire_read(reply, "(sss)", &name, &cgroup, &policy)) > 0) {
                cgd_container *grown = realloc(l, (n + 1) * sizeof *l);
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                l = grown;
                l[n++] = (cgd_container) { .name = strdup(name), .cgroup = strdup(cgroup), .policy = strdup(policy) };
                if (!l[n - 1].name || !l[n - 1].cgroup || !l[n - 1].policy)
                        r = -ENOMEM;
        }
        if (r < 0) {
                cgd_containers_free(l, n);
                return r;
        }
        if (!l && !(l = calloc(1, sizeof *l)))
                return -ENOMEM;
        *ret = l;
        *ret_n = n;
        return 0;
}

int cgd_get_container(cgd_client *c, const char *name, cgd_dict **ret) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 1, "GetContainer", &m);
        r = r < 0 ? r : wire_append(m, "s", name);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_dict(reply, ret);
}

int cgd_set_container_properties(cgd_client *c, const char *name, const char *path, const cgd_property *properties,
                                 size_t n, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 1, "SetContainerProperties", &m);
        r = r < 0 ? r : wire_append(m, "ss", name, path);
        r = r < 0 ? r : client_append_properties(m, properties, n);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_get_container_properties(cgd_client *c, const char *name, const char *path, const char *const *keys,
                                 cgd_property **ret, size_t *ret_n) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 1, "GetContainerProperties", &m);
        r = r < 0 ? r : wire_append(m, "ss", name, path);
        r = r < 0 ? r : wire_append_strv(m, (char **) (keys ? keys : (const char *const[]) { NULL }));
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_properties(reply, ret, ret_n);
}

int cgd_list_container_groups(cgd_client *c, const char *name, const char *path, int recursive, char ***ret) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 1, "ListContainerGroups", &m);
        r = r < 0 ? r : wire_append(m, "ssb", name, path, recursive != 0);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_strv(reply, ret);
}

int cgd_get_container_processes(cgd_client *c, const char *name, const char *path, int recursive, pid_t **ret,
                                size_t *ret_n) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 1, "GetContainerProcesses", &m);
        r = r < 0 ? r : wire_append(m, "ssb", name, path, recursive != 0);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_pids(reply, ret, ret_n);
}

int cgd_list_policies(cgd_client *c, char ***ret) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 1, "ListPolicies", &m);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_strv(reply, ret);
}

/* Container1.GetPolicy() without a name, Manager1.GetPolicy(name) with one. */
int cgd_get_policy(cgd_client *c, const char *name, cgd_dict **ret) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        if (!name != !c->admin)
                return client_fail(c, -EINVAL, "org.cgdelegate.Error.InvalidValue",
                                   c->admin ? "the admin socket needs a policy name" : "a container sees only its own policy");
        int r = client_new_call(c, c->admin, "GetPolicy", &m);
        r = r < 0 || !name ? r : wire_append(m, "s", name);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_dict(reply, ret);
}

int cgd_reload_policies(cgd_client *c) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 1, "ReloadPolicies", &m);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_get_statistics(cgd_client *c, cgd_dict **ret) {
        return client_call_dict(c, 1, "GetStatistics", ret);
}
