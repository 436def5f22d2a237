/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate: the C client of cgdelegated. One cgd_client is one connection, either to a
 * container's socket (org.cgdelegate.Container1, groups named "/path" below the container's root)
 * or to the admin socket (org.cgdelegate.Manager1, containers named by NAME). There is one
 * function per method of both interfaces (protocol/org.cgdelegate.*.xml), plus the translation of systemd's
 * resource-control syntax ("MemoryMax=1G", "CPUQuota=50%") into the daemon's cgroup v2 keys.
 *
 * Contract, for every function that returns int:
 *   - 0 (or a documented positive value) on success, a negative errno on failure;
 *   - a refusal by the daemon maps its D-Bus error name to an errno (AccessDenied -EACCES,
 *     InvalidPath/InvalidProperty/InvalidValue -EINVAL, OutOfRange -ERANGE, NotFound -ENOENT,
 *     Exists -EEXIST, Busy -EBUSY, QuotaExceeded -EDQUOT, RateLimited -EAGAIN, NotSupported
 *     -EOPNOTSUPP, NoSuchProcess -ESRCH, Failed -EIO), and cgd_client_error_name() and
 *     cgd_client_error_message() return the name and the daemon's message until the next call;
 *   - ret_* outputs are written only on success, and are the caller's to free with the matching
 *     cgd_*_free() (or free() for plain arrays);
 *   - a cgd_client is not thread-safe: use one per thread, or lock around it.
 * Symbols are versioned (CGDELEGATE_0.1); the structures below are part of that ABI.
 */
#ifndef CGDELEGATE_H
#define CGDELEGATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CGD_CONTAINER_SOCKET "/run/host/cgdelegate/socket"
#define CGD_ADMIN_SOCKET "/run/cgdelegate/admin.socket"

typedef struct cgd_client cgd_client;
typedef struct cgd_options cgd_options;
typedef struct cgd_dict cgd_dict;

/* One property: a cgroup v2 key and its value ("memory.max", "1073741824"). */
typedef struct cgd_property {
        char *key;
        char *value;
} cgd_property;

/* One registered container, as ListContainers returns it. */
typedef struct cgd_container {
        char *name;
        char *cgroup;
        char *policy;
} cgd_container;

/* One event from cgd_client_next_event(). Fields a signal does not carry are NULL or 0:
 * "Audit" fills container, operation, path, detail and result; "GroupEmpty" fills path;
 * "MemoryEvent" fills path, kind and count. */
typedef struct cgd_event {
        char *name;
        char *container;
        char *operation;
        char *path;
        char *detail;
        char *result;
        char *kind;
        uint64_t count;
} cgd_event;

/* ---- connection ---- */

/* Connects to socket_path; NULL picks CGD_CONTAINER_SOCKET when it exists and the admin socket
 * does not, else CGD_ADMIN_SOCKET. A socket named "admin.socket" speaks Manager1, one named
 * "socket" Container1; for any other name the daemon is asked (introspection). */
int cgd_client_open(const char *socket_path, cgd_client **ret);
cgd_client *cgd_client_free(cgd_client *c);
/* 1 on the admin socket (Manager1), 0 on a container's (Container1). */
int cgd_client_is_admin(const cgd_client *c);
const char *cgd_client_socket(const cgd_client *c);
/* Timeout for each call in microseconds; 0 restores the default (25 s). */
int cgd_client_set_timeout(cgd_client *c, uint64_t usec);
/* The D-Bus error name and message of the last failed call (NULL after a success). A failure
 * on the client's side (a bad systemd assignment, a lost connection) has a name too. */
const char *cgd_client_error_name(const cgd_client *c);
const char *cgd_client_error_message(const cgd_client *c);
/* The connection's fd, to poll for events (POLLIN) between cgd_client_next_event() calls. */
int cgd_client_get_fd(cgd_client *c);

/* ---- a{sv} options every changing method takes (NULL: none) ---- */

int cgd_options_new(cgd_options **ret);
cgd_options *cgd_options_free(cgd_options *o);
int cgd_options_add_bool(cgd_options *o, const char *key, int value);
int cgd_options_add_u32(cgd_options *o, const char *key, uint32_t value);
/* The fd is duplicated; the caller keeps its own. */
int cgd_options_add_fd(cgd_options *o, const char *key, int fd);
int cgd_options_add_properties(cgd_options *o, const char *key, const cgd_property *properties, size_t n);

/* ---- a{sv} results (GetPolicy, GetContainer, GetStatistics) ---- */

cgd_dict *cgd_dict_free(cgd_dict *d);
size_t cgd_dict_size(const cgd_dict *d);
/* The i-th key, in the daemon's order, and the D-Bus signature of its value ("s", "u", "t",
 * "b", "as", "a(ss)"); NULL past the end. */
const char *cgd_dict_key(const cgd_dict *d, size_t i);
const char *cgd_dict_type(const cgd_dict *d, const char *key);
/* Typed reads; -ENOENT for a key that is absent, -EINVAL for one of another type. Returned
 * pointers live as long as the dict. get_u64 reads "u" and "t" values. */
int cgd_dict_get_string(const cgd_dict *d, const char *key, const char **ret);
int cgd_dict_get_u64(const cgd_dict *d, const char *key, uint64_t *ret);
int cgd_dict_get_bool(const cgd_dict *d, const char *key, int *ret);
int cgd_dict_get_strv(const cgd_dict *d, const char *key, char *const **ret);
int cgd_dict_get_properties(const cgd_dict *d, const char *key, const cgd_property **ret, size_t *ret_n);

void cgd_properties_free(cgd_property *p, size_t n);
void cgd_containers_free(cgd_container *c, size_t n);
void cgd_strv_free(char **l);
void cgd_event_free(cgd_event *e);

/* ---- org.cgdelegate.Container1 (a container's socket) ---- */

/* *ret_created (may be NULL): 1 when the group was made, 0 when it existed. */
int cgd_create_group(cgd_client *c, const char *path, const cgd_options *o, int *ret_created);
int cgd_remove_group(cgd_client *c, const char *path, int recursive, const cgd_options *o);
int cgd_set_properties(cgd_client *c, const char *path, const cgd_property *properties, size_t n, const cgd_options *o);
/* keys NULL or empty: every property the policy allows. */
int cgd_get_properties(cgd_client *c, const char *path, const char *const *keys, cgd_property **ret, size_t *ret_n);
/* NULL-terminated list of "/path" strings. */
int cgd_list_groups(cgd_client *c, const char *path, int recursive, char ***ret);
/* pid as the container sees it. */
int cgd_move_process(cgd_client *c, const char *path, pid_t pid, const cgd_options *o);
int cgd_move_process_fd(cgd_client *c, const char *path, int pidfd, const cgd_options *o);
/* Pids as the container sees them; free(*ret). */
int cgd_get_processes(cgd_client *c, const char *path, int recursive, pid_t **ret, size_t *ret_n);
int cgd_freeze(cgd_client *c, const char *path, const cgd_options *o);
int cgd_thaw(cgd_client *c, const char *path, const cgd_options *o);
int cgd_kill(cgd_client *c, const char *path, int signal, const cgd_options *o);

/* ---- both sockets ---- */

/* A container's socket: its own policy (name NULL). The admin socket: the loaded policy name. */
int cgd_get_policy(cgd_client *c, const char *name, cgd_dict **ret);
/* Container1: "GroupEmpty", "MemoryEvent"; Manager1: "Audit". events NULL or empty
 * unsubscribes. */
int cgd_subscribe(cgd_client *c, const char *const *events);
/* Waits up to timeout_usec (UINT64_MAX: forever) for the next event: 1 and *ret, or 0 on
 * timeout. */
int cgd_client_next_event(cgd_client *c, uint64_t timeout_usec, cgd_event **ret);

/* ---- org.cgdelegate.Manager1 (the admin socket) ---- */

/* Options: Create (b), Leader (u), LeaderFD (h), Properties (a(ss)), SocketUID (u),
 * SocketGID (u). *ret_socket (may be NULL): the container's socket path. */
int cgd_register_container(cgd_client *c, const char *name, const char *cgroup, const char *policy,
                           const cgd_options *o, char **ret_socket);
int cgd_set_container_leader(cgd_client *c, const char *name, pid_t pid, const cgd_options *o);
/* Options: RemoveCgroup (b). */
int cgd_unregister_container(cgd_client *c, const char *name, const cgd_options *o);
int cgd_list_containers(cgd_client *c, cgd_container **ret, size_t *ret_n);
int cgd_get_container(cgd_client *c, const char *name, cgd_dict **ret);
/* Not bound by the container's policy (the admin may write its root). */
int cgd_set_container_properties(cgd_client *c, const char *name, const char *path, const cgd_property *properties,
                                 size_t n, const cgd_options *o);
int cgd_get_container_properties(cgd_client *c, const char *name, const char *path, const char *const *keys,
                                 cgd_property **ret, size_t *ret_n);
/* Groups below NAME:path, as ListGroups would list them; pids as the host sees them. */
int cgd_list_container_groups(cgd_client *c, const char *name, const char *path, int recursive, char ***ret);
int cgd_get_container_processes(cgd_client *c, const char *name, const char *path, int recursive, pid_t **ret,
                                size_t *ret_n);
/* Names of the loaded policies, sorted. */
int cgd_list_policies(cgd_client *c, char ***ret);
int cgd_reload_policies(cgd_client *c);
int cgd_get_statistics(cgd_client *c, cgd_dict **ret);

/* ---- systemd's resource-control syntax ---- */

/* Translates NULL-terminated assignments ("MemoryMax=1G", "CPUQuota=20%", "IOReadBandwidthMax=
 * /dev/sda 5M", or v2 "memory.max=1G" passed through) as one unit section would be read, with
 * the numbers systemd computes on this machine: *ret is the v2 properties. On failure
 * (-EINVAL, -ERANGE, -EOPNOTSUPP, -ENOTBLK for a device) *ret_error, when not NULL, gets a
 * malloc'ed message quoting the value. */
int cgd_translate_systemd(const char *const *assignments, cgd_property **ret, size_t *ret_n, char **ret_error);
/* cgd_translate_systemd() then SetProperties (container socket) or SetContainerProperties
 * (admin socket, name not NULL). A translation failure sends nothing and is reported like a
 * refusal (org.cgdelegate.Error.InvalidValue or NotSupported). */
int cgd_set_unit_properties(cgd_client *c, const char *name, const char *path, const char *const *assignments,
                            const cgd_options *o);

#ifdef __cplusplus
}
#endif

#endif
