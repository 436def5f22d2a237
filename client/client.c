/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate's connection: opening a socket (peer-to-peer D-Bus, no bus daemon), knowing
 * which interface it speaks, calling with a timeout, turning a refusal into an errno while
 * keeping its name and message for the caller, and queueing the signals a subscription brings.
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

int client_new_call(cgd_client *c, int admin, const char *member, sd_bus_message **ret) {
        client_clear_error(c);
        if (c->admin == admin)
                return sd_bus_message_new_method_call(c->bus, ret, NULL, CLIENT_PATH,
                                                      admin ? CLIENT_IFACE_MANAGER : CLIENT_IFACE_CONTAINER, member);
        return client_fail(c, -EOPNOTSUPP, "org.cgdelegate.Error.NotSupported",
                           "%s is a method of %s; %s speaks %s", member,
                           admin ? CLIENT_IFACE_MANAGER : CLIENT_IFACE_CONTAINER, c->socket,
                           c->admin ? CLIENT_IFACE_MANAGER : CLIENT_IFACE_CONTAINER);
}

int client_call(cgd_client *c, sd_bus_message *m, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call(c->bus, m, c->timeout_usec, &e, ret_reply);
        if (r >= 0)
                return 0;
        if (!sd_bus_error_is_set(&e))
                return client_fail(c, r, "org.cgdelegate.Error.Failed", "%s: %s", c->socket, strerror(-r));
        (void) client_set_error(c, e.name, e.message);
        CgdError code = cgd_error_from_name(e.name);
        /* Names from outside the protocol (org.freedesktop.DBus.Error.*) keep sd-bus's mapping. */
        return code >= 0 ? cgd_error_errno(code) : r;
}

int client_call_simple(cgd_client *c, const char *member, const char *path, const cgd_options *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = client_new_call(c, 0, member, &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", path);
        if (r >= 0)
                r = client_append_options(m, o);
        return r < 0 ? r : client_call(c, m, NULL);
}

int client_call_dict(cgd_client *c, int admin, const char *member, cgd_dict **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r = client_new_call(c, admin, member, &m);
        r = r < 0 ? r : client_call(c, m, &reply);
        return r < 0 ? r : client_read_dict(reply, ret);
}

/* ---- events ---- */

static int read_event(sd_bus_message *m, cgd_event *e) {
        const char *a = NULL, *b = NULL, *p = NULL, *d = NULL, *res = NULL;
        uint64_t count = 0;
        int r;
        if (sd_bus_message_is_signal(m, CLIENT_IFACE_MANAGER, "Audit"))
                r = sd_bus_message_read(m, "sssss", &a, &b, &p, &d, &res);
        else if (sd_bus_message_is_signal(m, CLIENT_IFACE_CONTAINER, "GroupEmpty"))
                r = sd_bus_message_read(m, "s", &p);
        else if (sd_bus_message_is_signal(m, CLIENT_IFACE_CONTAINER, "MemoryEvent"))
                r = sd_bus_message_read(m, "sst", &p, &b, &count);
        else
                return 0;
        if (r < 0)
                return r;
        bool memory = sd_bus_message_is_signal(m, CLIENT_IFACE_CONTAINER, "MemoryEvent");
        e->name = strdup(sd_bus_message_get_member(m));
        e->container = a ? strdup(a) : NULL;
        e->operation = b && !memory ? strdup(b) : NULL;
        e->kind = b && memory ? strdup(b) : NULL;
        e->path = p ? strdup(p) : NULL;
        e->detail = d ? strdup(d) : NULL;
        e->result = res ? strdup(res) : NULL;
        e->count = count;
        return e->name ? 1 : -ENOMEM;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        cgd_client *c = userdata;
        if (!sd_bus_message_is_signal(m, NULL, NULL))
                return 0;
        cgd_event *e = calloc(1, sizeof *e);
        if (!e)
                return 0;
        if (read_event(m, e) <= 0) {
                cgd_event_free(e);
                return 0;
        }
        if (c->events_count == CLIENT_EVENTS_MAX) { /* a reader that falls behind loses the oldest */
                cgd_event_free(c->events[c->events_head]);
                c->events_head = (c->events_head + 1) % CLIENT_EVENTS_MAX;
                c->events_count--;
        }
        c->events[(c->events_head + c->events_count) % CLIENT_EVENTS_MAX] = e;
        c->events_count++;
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

int cgd_client_next_event(cgd_client *c, uint64_t timeout_usec, cgd_event **ret) {
        uint64_t deadline = timeout_usec == UINT64_MAX ? UINT64_MAX : now_usec() + timeout_usec;
        for (;;) {
                if (c->events_count > 0) {
                        *ret = c->events[c->events_head];
                        c->events_head = (c->events_head + 1) % CLIENT_EVENTS_MAX;
                        c->events_count--;
                        return 1;
                }
                int r = sd_bus_process(c->bus, NULL);
                if (r < 0)
                        return client_fail(c, r, "org.cgdelegate.Error.Failed", "%s: %s", c->socket, strerror(-r));
                if (r > 0)
                        continue;
                uint64_t now = now_usec();
                if (now >= deadline)
                        return 0;
                r = sd_bus_wait(c->bus, deadline == UINT64_MAX ? UINT64_MAX : deadline - now);
                if (r < 0 && r != -EINTR)
                        return client_fail(c, r, "org.cgdelegate.Error.Failed", "%s: %s", c->socket, strerror(-r));
        }
}

int cgd_subscribe(cgd_client *c, const char *const *events) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = client_new_call(c, c->admin, "Subscribe", &m);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **) (events ? events : (const char *const[]) { NULL }));
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
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *xml;
        int r = sd_bus_call_method(c->bus, NULL, CLIENT_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", &e,
                                   &reply, "");
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &xml);
        if (r < 0)
                return client_fail(c, r, "org.cgdelegate.Error.Failed", "%s: cannot tell which interface it speaks: %s",
                                   c->socket, e.message ? e.message : strerror(-r));
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
        _cleanup_free_ char *address = NULL;
        int r = -ENOMEM;
        c->timeout_usec = DEFAULT_TIMEOUT_USEC;
        c->socket = strdup(socket_path);
        c->events = calloc(CLIENT_EVENTS_MAX, sizeof *c->events);
        if (c->socket && c->events && asprintf(&address, "unix:path=%s", socket_path) >= 0)
                r = sd_bus_new(&c->bus);
        if (r >= 0)
                r = sd_bus_set_address(c->bus, address);
        if (r >= 0)
                r = sd_bus_negotiate_fds(c->bus, true);
        if (r >= 0)
                r = sd_bus_start(c->bus);
        if (r >= 0)
                r = sd_bus_add_filter(c->bus, &c->filter, on_message, c);
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
        while (c->events && c->events_count > 0) {
                cgd_event_free(c->events[c->events_head]);
                c->events_head = (c->events_head + 1) % CLIENT_EVENTS_MAX;
                c->events_count--;
        }
        free(c->events);
        sd_bus_slot_unref(c->filter);
        sd_bus_flush_close_unref(c->bus);
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
        return sd_bus_get_fd(c->bus);
}
