/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What both D-Bus interfaces share: the Hello that busctl sends first, refusals as error replies
 * (counted), the a{sv} options every changing method takes (unknown keys and wrong types are
 * refused, never ignored), property pairs and their validation, and path checks.
 */
#include <fcntl.h>
#include <stdio.h>

#include "cgpath.h"
#include "daemon.h"

static int method_hello(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        /* Peer-to-peer: there is no bus, but busctl and other bus clients ask for a name. */
        return sd_bus_reply_method_return(m, "s", ":1.1");
}

const sd_bus_vtable bus_hello_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Hello", "", "s", method_hello, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_refuse(sd_bus_message *m, Conn *c, const CgdRefusal *r) {
        if (r->error >= 0 && r->error < _CGD_ERROR_MAX)
                c->daemon->stats.refusals[r->error]++;
        if (c->container) {
                c->container->refusals++;
                if (r->error >= 0 && r->error < _CGD_ERROR_MAX)
                        c->container->refused[r->error]++;
        }
        return sd_bus_reply_method_errorf(m, cgd_error_name(r->error), "%s", r->message);
}

static const struct {
        const char *name;
        char type;
} options[_OPT_MAX] = {
        [OPT_REMOVE_ON_EMPTY] = { "RemoveOnEmpty", 'b' },
        [OPT_CREATE] = { "Create", 'b' },
        [OPT_LEADER] = { "Leader", 'u' },
        [OPT_LEADER_FD] = { "LeaderFD", 'h' },
        [OPT_PROPERTIES] = { "Properties", 'a' },
        [OPT_SOCKET_UID] = { "SocketUID", 'u' },
        [OPT_SOCKET_GID] = { "SocketGID", 'u' },
        [OPT_REMOVE_CGROUP] = { "RemoveCgroup", 'b' },
        [OPT_ALLOW_BELOW_USAGE] = { "AllowBelowUsage", 'b' },
        [OPT_ALLOW_MIGRATE] = { "AllowMigrate", 'b' },
};

static int option_lookup(const char *key, uint32_t allowed) {
        for (int i = 0; i < _OPT_MAX; i++)
                if ((allowed & OPT(i)) && streq(options[i].name, key))
                        return i;
        return -ENOENT;
}

static void allowed_names(uint32_t allowed, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; i < _OPT_MAX && len < size; i++)
                if (allowed & OPT(i))
                        len += (size_t) snprintf(buf + len, size - len, "%s%s", len ? ", " : "", options[i].name);
        if (!allowed)
                snprintf(buf, size, "none");
}

static int read_one_option(sd_bus_message *m, int o, BusOptions *ret) {
        const char sig[2] = { options[o].type, 0 };
        int r, fd;
        switch (options[o].type) {
        case 'b': {
                int b;
                r = sd_bus_message_read(m, "v", sig, &b);
                ret->flag[o] = b;
                return r;
        }
        case 'u':
                return sd_bus_message_read(m, "v", sig, &ret->u[o]);
        case 'h':
                r = sd_bus_message_read(m, "v", sig, &fd);
                if (r < 0)
                        return r;
                ret->leader_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (ret->leader_fd < 0)
                        return -errno;
                ret->set |= OPT(OPT_LEADER_FD); /* owned from here, even if a later option fails */
                return r;
        default:
                r = sd_bus_message_enter_container(m, 'v', "a(ss)");
                if (r <= 0)
                        return r < 0 ? r : -ENXIO;
                r = bus_read_pairs(m, ret->props, &ret->n_props, NULL);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }
}

int bus_read_options(sd_bus_message *m, uint32_t allowed, BusOptions *ret, CgdRefusal *r) {
        *ret = (BusOptions) { .leader_fd = -EBADF };
        int k = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (k < 0)
                return k;
        while ((k = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                k = sd_bus_message_read(m, "s", &key);
                if (k < 0)
                        return k;
                int o = option_lookup(key, allowed);
                char names[256];
                if (o < 0) {
                        allowed_names(allowed, names, sizeof names);
                        return cgd_refuse(r, CGD_ERROR_INVALID_VALUE, "unknown option '%.64s' (this method takes: %s)",
                                          key, names);
                }
                if (ret->set & OPT(o))
                        return cgd_refuse(r, CGD_ERROR_INVALID_VALUE, "option %s is given twice", key);
                k = read_one_option(m, o, ret);
                if (k < 0)
                        return cgd_refuse(r, CGD_ERROR_INVALID_VALUE, "option %s must be of type %s", key,
                                          options[o].type == 'a' ? "a(ss)" : (char[]) { options[o].type, 0 });
                ret->set |= OPT(o);
                k = sd_bus_message_exit_container(m);
                if (k < 0)
                        return k;
        }
        if (k < 0)
                return k;
        return sd_bus_message_exit_container(m);
}

void bus_options_done(BusOptions *o) {
        /* Only an fd this request passed is ours to close: a zeroed BusOptions says fd 0. */
        if (o->set & OPT(OPT_LEADER_FD))
                o->leader_fd = safe_close(o->leader_fd);
        o->set &= ~OPT(OPT_LEADER_FD);
        o->n_props = 0;
}

/* "key=value key=value", as the client sent them, for the audit line (cut at size). */
void bus_pairs_describe(const char *pairs[][2], size_t n, char *buf, size_t size) {
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
                const char *parts[] = { i ? " " : "", pairs[i][0], "=", pairs[i][1] };
                for (size_t j = 0; j < ELEMENTSOF(parts); j++) {
                        size_t l = MIN(strlen(parts[j]), size - 1 - len);
                        memcpy(buf + len, parts[j], l);
                        len += l;
                }
        }
        buf[len] = '\0';
}

ApplyFlags bus_apply_flags(const BusOptions *o) {
        return (o->flag[OPT_ALLOW_BELOW_USAGE] ? APPLY_ALLOW_BELOW_USAGE : 0) |
               (o->flag[OPT_ALLOW_MIGRATE] ? APPLY_ALLOW_MIGRATE : 0);
}

int bus_read_pairs(sd_bus_message *m, const char *ret[static BUS_PROPERTIES_MAX][2], size_t *ret_n, CgdRefusal *r) {
        int k = sd_bus_message_enter_container(m, 'a', "(ss)");
        if (k < 0)
                return k;
        size_t n = 0;
        const char *key, *value;
        while ((k = sd_bus_message_read(m, "(ss)", &key, &value)) > 0) {
                if (n >= BUS_PROPERTIES_MAX) {
                        k = cgd_refuse(r, CGD_ERROR_INVALID_VALUE, "more than %u properties in one request",
                                       BUS_PROPERTIES_MAX);
                        break;
                }
                ret[n][0] = key; /* the message's own strings: valid while it is */
                ret[n][1] = value;
                n++;
        }
        *ret_n = n;
        if (k < 0)
                return k;
        return sd_bus_message_exit_container(m);
}

/* Parses every pair and checks each against the policy (NULL: an admin request); the whole set
 * is refused on the first bad pair, before anything is written. */
int bus_parse_values(const char *pairs[][2], size_t n, const Policy *p, const char *path, unsigned depth,
                     KnobValue **ret, CgdRefusal *r) {
        KnobValue *v = calloc(n ?: 1, sizeof(KnobValue));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int k = knob_parse(pairs[i][0], pairs[i][1], &v[i], r);
                if (k >= 0 && p)
                        k = policy_check_property(p, path, depth, &v[i], pairs[i][1], r);
                if (k < 0) {
                        free(v);
                        return k;
                }
        }
        *ret = v;
        return 0;
}

int bus_check_path(const char *path, unsigned max_depth, const char **ret_rel, unsigned *ret_depth, CgdRefusal *r) {
        const char *reason = NULL;
        /* Every path a client sends is validated here, before it reaches the file-system layer
         * (which refuses "..", symlinks and mounts on its own as a second line). */
        if (cg_path_validate(path, CG_PATH_CLIENT, 0, &reason) < 0)
                return cgd_refuse(r, CGD_ERROR_INVALID_PATH, "path '%.128s' is not valid: %s", path, reason);
        unsigned depth = cg_path_depth(path);
        if (max_depth && depth > max_depth)
                return cgd_refuse(r, CGD_ERROR_INVALID_PATH, "%.128s is %u levels deep; the limit is %u", path, depth,
                                  max_depth);
        *ret_rel = cg_path_relative(path);
        *ret_depth = depth;
        return 0;
}

/* Replies with the values of keys on group rel; when keys is empty, of every allowed property
 * and then every usage key. Asked-for keys the host cannot provide are refused; in the
 * "everything" form they are left out. */
int bus_reply_properties(sd_bus_message *m, Conn *conn, CgTree *t, const char *rel, char **keys, uint32_t allowed) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int k = sd_bus_message_new_method_return(m, &reply);
        if (k >= 0)
                k = sd_bus_message_open_container(reply, 'a', "(ss)");
        bool all = !keys || !keys[0];
        for (KnobId id = 0; k >= 0 && all && id < _KNOB_MAX; id++) {
                _cleanup_free_ char *value = NULL;
                if (!(allowed & KNOB_MASK(id)) || apply_read(t, rel, id, &value, NULL) < 0)
                        continue;
                k = sd_bus_message_append(reply, "(ss)", knob_info(id)->key, value);
        }
        for (UsageId id = 0; k >= 0 && all && id < _USAGE_MAX; id++) {
                _cleanup_free_ char *value = NULL;
                if (apply_read_usage(t, rel, id, &value, NULL) < 0)
                        continue;
                k = sd_bus_message_append(reply, "(ss)", usage_info(id)->key, value);
        }
        for (char **key = keys; k >= 0 && !all && *key; key++) {
                CgdRefusal refusal = {};
                const KnobInfo *info = knob_lookup(*key);
                const UsageInfo *usage = info ? NULL : usage_lookup(*key);
                _cleanup_free_ char *value = NULL;
                if (usage) /* what a group uses: every container may read its own */
                        k = apply_read_usage(t, rel, usage->id, &value, &refusal);
                else if (!info)
                        k = cgd_refuse(&refusal, CGD_ERROR_INVALID_PROPERTY, "'%.64s' is not a property", *key);
                else if (!(allowed & KNOB_MASK(info->id)))
                        k = cgd_refuse(&refusal, CGD_ERROR_ACCESS_DENIED, "%s is not in this container's AllowedProperties",
                                       *key);
                else
                        k = apply_read(t, rel, info->id, &value, &refusal);
                if (k < 0)
                        return bus_refuse(m, conn, &refusal);
                k = sd_bus_message_append(reply, "(ss)", *key, value);
        }
        if (k >= 0)
                k = sd_bus_message_close_container(reply);
        if (k < 0)
                return k;
        return sd_bus_send(NULL, reply, NULL);
}
