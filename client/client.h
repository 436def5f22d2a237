/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate's insides, shared by its files: the connection (client.c), the a{sv} options and
 * results and the property arrays (values.c), and the method wrappers (container.c,
 * manager.c, unit.c). Nothing here is exported: client/libcgdelegate.sym lists the ABI.
 */
#pragma once

#include "cgdelegate.h"
#include "macro.h"
#include "wire.h"

#define CLIENT_PATH "/org/cgdelegate"
#define CLIENT_IFACE_CONTAINER "org.cgdelegate.Container1"
#define CLIENT_IFACE_MANAGER "org.cgdelegate.Manager1"

struct cgd_client {
        WireBus *bus;
        char *socket;
        int admin;
        uint64_t timeout_usec;
        char *error_name;
        char *error_message;
};

/* A new call of member of Manager1 (admin) or Container1; refused on the client's side when the
 * socket speaks the other interface. */
int client_new_call(cgd_client *c, int admin, const char *member, WireMsg **ret);
/* Sends m and waits; a refusal is recorded and mapped to its errno. */
int client_call(cgd_client *c, WireMsg *m, WireMsg **ret_reply);
/* Records a failure found on the client's side under a D-Bus error name; returns r. */
int client_fail(cgd_client *c, int r, const char *name, const char *fmt, ...) _printf_(4, 5);
/* A method call with (s path, ..., a{sv}) that returns nothing: the common shape. */
int client_call_simple(cgd_client *c, const char *member, const char *path, const cgd_options *o);

/* A method call without arguments whose reply is one a{sv} or a{st} (GetPolicy, GetStatistics). */
int client_call_dict(cgd_client *c, int admin, const char *member, cgd_dict **ret);

int client_append_options(WireMsg *m, const cgd_options *o);
int client_append_properties(WireMsg *m, const cgd_property *p, size_t n);
int client_read_properties(WireMsg *m, cgd_property **ret, size_t *ret_n);
int client_read_dict(WireMsg *m, cgd_dict **ret);
int client_read_pids(WireMsg *m, pid_t **ret, size_t *ret_n);
int client_read_strv(WireMsg *m, char ***ret);
