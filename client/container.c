/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate's wrappers of org.cgdelegate.Container1, the methods a container's socket
 * answers (protocol/org.cgdelegate.Container1.xml). Paths are the container's ("/app/web").
 */
#include <errno.h>
#include <stdlib.h>

#include "client.h"

int cgd_create_group(cgd_client *c, const char *path, const cgd_options *o, int *ret_created) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int created = 0;
        int r = client_new_call(c, 0, "CreateGroup", &m);
        r = r < 0 ? r : wire_append(m, "s", path);
        r = r < 0 ? r : client_append_options(m, o);
        r = r < 0 ? r : client_call(c, m, &reply);
        r = r < 0 ? r : wire_read(reply, "b", &created) ?: -EBADMSG;
        if (r >= 0 && ret_created)
                *ret_created = created;
        return r < 0 ? r : 0;
}

int cgd_remove_group(cgd_client *c, const char *path, int recursive, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 0, "RemoveGroup", &m);
        r = r < 0 ? r : wire_append(m, "sb", path, recursive != 0);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_set_properties(cgd_client *c, const char *path, const cgd_property *properties, size_t n, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 0, "SetProperties", &m);
        r = r < 0 ? r : wire_append(m, "s", path);
        r = r < 0 ? r : client_append_properties(m, properties, n);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_get_properties(cgd_client *c, const char *path, const char *const *keys, cgd_property **ret, size_t *ret_n) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 0, "GetProperties", &m);
        r = r < 0 ? r : wire_append(m, "s", path);
        r = r < 0 ? r : wire_append_strv(m, (char **) (keys ? keys : (const char *const[]) { NULL }));
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_properties(reply, ret, ret_n);
}

int cgd_list_groups(cgd_client *c, const char *path, int recursive, char ***ret) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 0, "ListGroups", &m);
        r = r < 0 ? r : wire_append(m, "sb", path, recursive != 0);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_strv(reply, ret);
}

int cgd_move_process(cgd_client *c, const char *path, pid_t pid, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        if (pid <= 0)
                return client_fail(c, -EINVAL, "org.cgdelegate.Error.InvalidValue", "pid %d is not a process", (int) pid);
        int r = client_new_call(c, 0, "MoveProcess", &m);
        r = r < 0 ? r : wire_append(m, "su", path, (uint32_t) pid);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_move_process_fd(cgd_client *c, const char *path, int pidfd, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 0, "MoveProcessFD", &m);
        r = r < 0 ? r : wire_append(m, "sh", path, pidfd);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int cgd_get_processes(cgd_client *c, const char *path, int recursive, pid_t **ret, size_t *ret_n) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, 0, "GetProcesses", &m);
        r = r < 0 ? r : wire_append(m, "sb", path, recursive != 0);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_pids(reply, ret, ret_n);
}

int cgd_freeze(cgd_client *c, const char *path, const cgd_options *o) {
        return client_call_simple(c, "Freeze", path, o);
}

int cgd_thaw(cgd_client *c, const char *path, const cgd_options *o) {
        return client_call_simple(c, "Thaw", path, o);
}

int cgd_kill(cgd_client *c, const char *path, int signal, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 0, "Kill", &m);
        r = r < 0 ? r : wire_append(m, "si", path, (int32_t) signal);
        r = r < 0 ? r : client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}
