/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate's connection: opening a socket (peer-to-peer D-Bus, no bus daemon, spoken by
 * wire.c), knowing which interface it speaks, calling with a timeout, turning a refusal into an
 * errno while keeping its name and message for the caller, and queueing the signals a
 * subscription brings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "error.h"

#define DEFAULT_TIMEOUT_USEC (25ULL * 1000 * 1000)

static void client_clear_error(cgd_client *c) {
        free(c->error_name);
        free(c->error_message);
        c->error_name = c->error_message = NULL;
}

static int client_set_error(cgd_client *c, const char *name, const char *message) {
        client_clear_error(c);
        c->error_name = strdup(name);
        c->error_message = strdup(message ? message : "");
        return c->error_name && c->error_message ? 0 : -ENOMEM;
}

int client_fail(cgd_client *c, int r, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        va_end(ap);
        (void) client_set_error(c, name, message ? message : strerror(-r));
        return r;
}

int client_new_call(cgd_client *c, int admin, const char *member, WireMsg **ret) {
        client_clear_error(c);
        if (c->admin == admin)
                return wire_msg_new_call(CLIENT_PATH, admin ? CLIENT_IFACE_MANAGER : CLIENT_IFACE_CONTAINER, member, ret);
        return client_fail(c, -EOPNOTSUPP, "org.cgdelegate.Error.NotSupported",
                           "%s is a method of %s; %s speaks %s", member,
                           admin ? CLIENT_IFACE_MANAGER : CLIENT_IFACE_CONTAINER, c->socket,
                           c->admin ? CLIENT_IFACE_MANAGER : CLIENT_IFACE_CONTAINER);
}

int client_call(cgd_client *c, WireMsg *m, WireMsg **ret_reply) {
        _cleanup_free_ char *name = NULL, *message = NULL;
        int r = wire_call(c->bus, m, c->timeout_usec, ret_reply, &name, &message);
        if (r >= 0)
                return 0;
        if (r != -EREMOTEIO)
                return client_fail(c, r, "org.cgdelegate.Error.Failed", "%s: %s", c->socket, strerror(-r));
        if (!name || !message)
                return client_fail(c, -ENOMEM, "org.cgdelegate.Error.Failed", "out of memory");
        (void) client_set_error(c, name, message);
        CgdError code = cgd_error_from_name(name);
        /* Names from outside the protocol (org.freedesktop.DBus.Error.*) map as sd-bus maps them. */
        return code >= 0 ? cgd_error_errno(code) : wire_error_errno(name);
}

int client_call_simple(cgd_client *c, const char *member, const char *path, const cgd_options *o) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, 0, member, &m);
        if (r >= 0)
                r = wire_append(m, "s", path);
        if (r >= 0)
                r = client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int client_call_dict(cgd_client *c, int admin, const char *member, cgd_dict **ret) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        int r = client_new_call(c, admin, member, &m);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_dict(reply, ret);
}

/* ---- events ---- */

static int read_event(WireMsg *m, cgd_event *e) {
        const char *a = NULL, *b = NULL, *p = NULL, *d = NULL, *res = NULL;
        uint64_t count = 0;
        int r;
        if (wire_msg_is_signal(m, CLIENT_IFACE_MANAGER, "Audit"))
                r = wire_read(m, "sssss", &a, &b, &p, &d, &res);
        else if (wire_msg_is_signal(m, CLIENT_IFACE_CONTAINER, "GroupEmpty"))
                r = wire_read(m, "s", &p);
        else if (wire_msg_is_signal(m, CLIENT_IFACE_CONTAINER, "MemoryEvent"))
                r = wire_read(m, "sst", &p, &b, &count);
        else
                return 0;
        if (r < 0)
                return r;
        bool memory = wire_msg_is_signal(m, CLIENT_IFACE_CONTAINER, "MemoryEvent");
        e->name = strdup(wire_msg_member(m));
        e->container = a ? strdup(a) : NULL;
        e->operation = b && !memory ? strdup(b) : NULL;
        e->kind = b && memory ? strdup(b) : NULL;
        e->path = p ? strdup(p) : NULL;
        e->detail = d ? strdup(d) : NULL;
        e->result = res ? strdup(res) : NULL;
        e->count = count;
        return e->name ? 1 : -ENOMEM;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Signals of other interfaces and members are dropped: an event is one of the three above. */
int cgd_client_next_event(cgd_client *c, uint64_t timeout_usec, cgd_event **ret) {
        uint64_t start = now_usec();
        uint64_t deadline = timeout_usec > UINT64_MAX - start ? UINT64_MAX : start + timeout_usec;
        for (;;) {
                _cleanup_(wire_msg_freep) WireMsg *m = NULL;
                uint64_t now = now_usec();
                int r = wire_next_signal(c->bus, deadline == UINT64_MAX ? UINT64_MAX : deadline > now ? deadline - now : 0, &m);
                if (r < 0)
                        return client_fail(c, r, "org.cgdelegate.Error.Failed", "%s: %s", c->socket, strerror(-r));
                if (r == 0)
                        return 0;
                cgd_event *e = calloc(1, sizeof *e);
                if (!e)
                        return client_fail(c, -ENOMEM, "org.cgdelegate.Error.Failed", "out of memory");
                if (read_event(m, e) > 0) {
                        *ret = e;
                        return 1;
                }
                cgd_event_free(e);
        }
}

int cgd_subscribe(cgd_client *c, const char *const *events) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL;
        int r = client_new_call(c, c->admin, "Subscribe", &m);
        if (r >= 0)
                r = wire_append_strv(m, (char **) (events ? events : (const char *const[]) { NULL }));
        return r < 0 ? r : client_call(c, m, NULL);
}

/* ---- the connection ---- */

/* The socket's interface: known from its name when the daemon made it (admin.socket, socket),
 * otherwise asked of the daemon through introspection. */
static int client_detect_interface(cgd_client *c) {
        const char *base = strrchr(c->socket, '/');
        base = base ? base + 1 : c->socket;
        if (streq(base, "admin.socket") || streq(base, "socket")) {
                c->admin = streq(base, "admin.socket");
                return 0;
        }
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        _cleanup_free_ char *name = NULL, *message = NULL;
        const char *xml;
        int r = wire_msg_new_call(CLIENT_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", &m);
        if (r >= 0)
                r = wire_call(c->bus, m, c->timeout_usec, &reply, &name, &message);
        if (r >= 0)
                r = wire_read(reply, "s", &xml) ?: -EBADMSG; /* 0: the reply had no string */
        if (r < 0)
                return client_fail(c, r, "org.cgdelegate.Error.Failed", "%s: cannot tell which interface it speaks: %s",
                                   c->socket, message ? message : strerror(-r));
        c->admin = strstr(xml, "\"" CLIENT_IFACE_MANAGER "\"") != NULL;
        return 0;
}

int cgd_client_open(const char *socket_path, cgd_client **ret) {
        if (!socket_path)
                socket_path = access(CGD_CONTAINER_SOCKET, F_OK) == 0 && access(CGD_ADMIN_SOCKET, F_OK) != 0
                                      ? CGD_CONTAINER_SOCKET
                                      : CGD_ADMIN_SOCKET;
        cgd_client *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        int r = -ENOMEM;
        c->timeout_usec = DEFAULT_TIMEOUT_USEC;
        c->socket = strdup(socket_path);
        if (c->socket)
                r = wire_bus_open(socket_path, &c->bus);
        if (r >= 0)
                r = client_detect_interface(c);
        if (r < 0) {
                cgd_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

cgd_client *cgd_client_free(cgd_client *c) {
        if (!c)
                return NULL;
        wire_bus_close(c->bus);
        client_clear_error(c);
        free(c->socket);
        free(c);
        return NULL;
}

int cgd_client_is_admin(const cgd_client *c) {
        return c->admin;
}

const char *cgd_client_socket(const cgd_client *c) {
        return c->socket;
}

int cgd_client_set_timeout(cgd_client *c, uint64_t usec) {
        c->timeout_usec = usec ? usec : DEFAULT_TIMEOUT_USEC;
        return 0;
}

const char *cgd_client_error_name(const cgd_client *c) {
        return c->error_name;
}

const char *cgd_client_error_message(const cgd_client *c) {
        return c->error_message;
}

int cgd_client_get_fd(cgd_client *c) {
        return wire_bus_fd(c->bus);
}
