/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shapes libcgdelegate moves between callers and D-Bus: the a{sv} options a caller builds
 * (cgd_options), the a{sv} results the daemon sends (cgd_dict, read whole and typed), property
 * arrays, pid arrays and string lists, and the functions that free each of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

typedef struct Value {
        char *key;
        char *signature;
        union {
                char *s;
                uint64_t u;
                int b;
                int fd;
                char **strv;
                struct {
                        cgd_property *p;
                        size_t n;
                } props;
        };
} Value;

struct cgd_options {
        Value *items;
        size_t n;
};

struct cgd_dict {
        Value *items;
        size_t n;
};

static void value_done(Value *v) {
        if (!v->signature)
                ;
        else if (streq(v->signature, "s"))
                free(v->s);
        else if (streq(v->signature, "h") && v->fd >= 0)
                close(v->fd);
        else if (streq(v->signature, "as"))
                strv_free(v->strv);
        else if (streq(v->signature, "a(ss)"))
                cgd_properties_free(v->props.p, v->props.n);
        free(v->key);
        free(v->signature);
}

static Value *values_free(Value *items, size_t n) {
        for (size_t i = 0; i < n; i++)
                value_done(&items[i]);
        free(items);
        return NULL;
}

/* A new zeroed item named key with the given signature, or NULL. */
static Value *values_add(Value **items, size_t *n, const char *key, const char *signature) {
        Value *grown = realloc(*items, (*n + 1) * sizeof **items);
        if (!grown)
                return NULL;
        *items = grown;
        Value *v = &grown[*n];
        *v = (Value) { .key = strdup(key), .signature = strdup(signature) };
        if (!v->key || !v->signature) {
                free(v->key);
                free(v->signature);
                return NULL;
        }
        (*n)++;
        return v;
}

static int properties_copy(const cgd_property *p, size_t n, cgd_property **ret) {
        cgd_property *copy = calloc(n ? n : 1, sizeof *copy);
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                copy[i].key = strdup(p[i].key);
                copy[i].value = strdup(p[i].value);
                if (!copy[i].key || !copy[i].value) {
                        cgd_properties_free(copy, i + 1);
                        return -ENOMEM;
                }
        }
        *ret = copy;
        return 0;
}

/* ---- options ---- */

int cgd_options_new(cgd_options **ret) {
        *ret = calloc(1, sizeof **ret);
        return *ret ? 0 : -ENOMEM;
}

cgd_options *cgd_options_free(cgd_options *o) {
        if (o)
                values_free(o->items, o->n);
        free(o);
        return NULL;
}

int cgd_options_add_bool(cgd_options *o, const char *key, int value) {
        Value *v = values_add(&o->items, &o->n, key, "b");
        if (v)
                v->b = !!value;
        return v ? 0 : -ENOMEM;
}

int cgd_options_add_u32(cgd_options *o, const char *key, uint32_t value) {
        Value *v = values_add(&o->items, &o->n, key, "u");
        if (v)
                v->u = value;
        return v ? 0 : -ENOMEM;
}

int cgd_options_add_fd(cgd_options *o, const char *key, int fd) {
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return -errno;
        Value *v = values_add(&o->items, &o->n, key, "h");
        if (!v) {
                close(copy);
                return -ENOMEM;
        }
        v->fd = copy;
        return 0;
}

int cgd_options_add_properties(cgd_options *o, const char *key, const cgd_property *properties, size_t n) {
        cgd_property *copy;
        int r = properties_copy(properties, n, &copy);
        if (r < 0)
                return r;
        Value *v = values_add(&o->items, &o->n, key, "a(ss)");
        if (!v) {
                cgd_properties_free(copy, n);
                return -ENOMEM;
        }
        v->props.p = copy;
        v->props.n = n;
        return 0;
}

int client_append_properties(WireMsg *m, const cgd_property *p, size_t n) {
        int r = wire_open(m, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = wire_append(m, "(ss)", p[i].key, p[i].value);
        return r < 0 ? r : wire_close(m);
}

static int append_value(WireMsg *m, const Value *v) {
        switch (v->signature[0]) {
        case 'b':
                return wire_append(m, "b", v->b);
        case 'u':
                return wire_append(m, "u", (uint32_t) v->u);
        case 'h':
                return wire_append(m, "h", v->fd);
        default:
                return client_append_properties(m, v->props.p, v->props.n);
        }
}

int client_append_options(WireMsg *m, const cgd_options *o) {
        int r = wire_open(m, 'a', "{sv}");
        for (size_t i = 0; o && r >= 0 && i < o->n; i++) {
                r = wire_open(m, 'e', "sv");
                r = r < 0 ? r : wire_append(m, "s", o->items[i].key);
                r = r < 0 ? r : wire_open(m, 'v', o->items[i].signature);
                r = r < 0 ? r : append_value(m, &o->items[i]);
                r = r < 0 ? r : wire_close(m);
                r = r < 0 ? r : wire_close(m);
        }
        return r < 0 ? r : wire_close(m);
}

/* ---- reading replies ---- */

int client_read_properties(WireMsg *m, cgd_property **ret, size_t *ret_n) {
        cgd_property *p = NULL;
        size_t n = 0;
        const char *k, *v;
        int r = wire_enter(m, 'a', "(ss)");
        while (r >= 0 && (r = wire_read(m, "(ss)", &k, &v)) > 0) {
                cgd_property *grown = realloc(p, (n + 1) * sizeof *p);
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                p = grown;
                p[n] = (cgd_property) { .key = strdup(k), .value = strdup(v) };
                n++;
                if (!p[n - 1].key || !p[n - 1].value)
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = wire_exit(m);
        if (r < 0) {
                cgd_properties_free(p, n);
                return r;
        }
        *ret = p;
        *ret_n = n;
        return 0;
}

int client_read_strv(WireMsg *m, char ***ret) {
        char **l = NULL;
        int r = wire_read_strv(m, &l);
        if (r < 0)
                return r;
        if (!l && !(l = calloc(1, sizeof *l)))
                return -ENOMEM;
        *ret = l;
        return 0;
}

int client_read_pids(WireMsg *m, pid_t **ret, size_t *ret_n) {
        const uint32_t *a;
        size_t size;
        int r = wire_read_array(m, 'u', (const void **) &a, &size);
        if (r < 0)
                return r;
        size_t n = size / sizeof *a;
        pid_t *pids = calloc(n ? n : 1, sizeof *pids);
        if (!pids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                pids[i] = (pid_t) a[i];
        *ret = pids;
        *ret_n = n;
        return 0;
}

static int read_variant(WireMsg *m, Value *v) {
        const char *sig = v->signature, *s;
        uint32_t u;
        int r;
        if (streq(sig, "s")) {
                r = wire_read(m, "s", &s);
                return r < 0 ? r : (v->s = strdup(s)) ? 0 : -ENOMEM;
        }
        if (streq(sig, "u")) {
                r = wire_read(m, "u", &u);
                v->u = u;
                return r;
        }
        if (streq(sig, "t"))
                return wire_read(m, "t", &v->u);
        if (streq(sig, "b"))
                return wire_read(m, "b", &v->b);
        if (streq(sig, "as"))
                return client_read_strv(m, &v->strv);
        if (streq(sig, "a(ss)"))
                return client_read_properties(m, &v->props.p, &v->props.n);
        /* A type this version does not know: kept by name, readable by no getter. */
        free(v->signature);
        v->signature = strdup("?");
        return v->signature ? wire_skip(m) : -ENOMEM;
}

static int read_entry(WireMsg *m, cgd_dict *d) {
        const char *key, *contents;
        int r = wire_read(m, "s", &key);
        if (r >= 0)
                r = wire_peek(m, NULL, &contents);
        if (r < 0)
                return r;
        Value *v = values_add(&d->items, &d->n, key, contents);
        if (!v)
                return -ENOMEM;
        r = wire_enter(m, 'v', contents);
        if (r >= 0)
                r = read_variant(m, v);
        return r < 0 ? r : wire_exit(m);
}

int client_read_dict(WireMsg *m, cgd_dict **ret) {
        char type;
        const char *contents;
        int r = wire_peek(m, &type, &contents);
        if (r <= 0)
                return r ?: -EBADMSG; /* no dictionary in the reply */
        cgd_dict *d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        /* a{sv} from GetPolicy and GetContainer; a{st} from GetStatistics, read as the same. */
        bool plain = streq(contents, "{st}");
        r = wire_enter(m, 'a', contents);
        while (r >= 0 && (r = wire_enter(m, 'e', plain ? "st" : "sv")) > 0) {
                if (plain) {
                        const char *key;
                        uint64_t u;
                        Value *v = NULL;
                        r = wire_read(m, "st", &key, &u);
                        if (r >= 0 && !(v = values_add(&d->items, &d->n, key, "t")))
                                r = -ENOMEM;
                        if (v)
                                v->u = u;
                } else
                        r = read_entry(m, d);
                if (r >= 0)
                        r = wire_exit(m);
        }
        if (r >= 0)
                r = wire_exit(m);
        if (r < 0) {
                cgd_dict_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

/* ---- dict getters ---- */

static const Value *dict_find(const cgd_dict *d, const char *key, const char *signature, int *ret_error) {
        for (size_t i = 0; i < d->n; i++)
                if (streq(d->items[i].key, key)) {
                        bool match = streq(d->items[i].signature, signature) ||
                                     (streq(signature, "t") && streq(d->items[i].signature, "u"));
                        *ret_error = match ? 0 : -EINVAL;
                        return match ? &d->items[i] : NULL;
                }
        *ret_error = -ENOENT;
        return NULL;
}

cgd_dict *cgd_dict_free(cgd_dict *d) {
        if (d)
                values_free(d->items, d->n);
        free(d);
        return NULL;
}

size_t cgd_dict_size(const cgd_dict *d) {
        return d->n;
}

const char *cgd_dict_key(const cgd_dict *d, size_t i) {
        return i < d->n ? d->items[i].key : NULL;
}

const char *cgd_dict_type(const cgd_dict *d, const char *key) {
        for (size_t i = 0; i < d->n; i++)
                if (streq(d->items[i].key, key))
                        return d->items[i].signature;
        return NULL;
}

int cgd_dict_get_string(const cgd_dict *d, const char *key, const char **ret) {
        int r;
        const Value *v = dict_find(d, key, "s", &r);
        if (v)
                *ret = v->s;
        return r;
}

int cgd_dict_get_u64(const cgd_dict *d, const char *key, uint64_t *ret) {
        int r;
        const Value *v = dict_find(d, key, "t", &r);
        if (v)
                *ret = v->u;
        return r;
}

int cgd_dict_get_bool(const cgd_dict *d, const char *key, int *ret) {
        int r;
        const Value *v = dict_find(d, key, "b", &r);
        if (v)
                *ret = v->b;
        return r;
}

int cgd_dict_get_strv(const cgd_dict *d, const char *key, char *const **ret) {
        int r;
        const Value *v = dict_find(d, key, "as", &r);
        if (v)
                *ret = v->strv;
        return r;
}

int cgd_dict_get_properties(const cgd_dict *d, const char *key, const cgd_property **ret, size_t *ret_n) {
        int r;
        const Value *v = dict_find(d, key, "a(ss)", &r);
        if (v) {
                *ret = v->props.p;
                *ret_n = v->props.n;
        }
        return r;
}

/* ---- freeing what the library returned ---- */

void cgd_properties_free(cgd_property *p, size_t n) {
        for (size_t i = 0; p && i < n; i++) {
                free(p[i].key);
                free(p[i].value);
        }
        free(p);
}

void cgd_containers_free(cgd_container *c, size_t n) {
        for (size_t i = 0; c && i < n; i++) {
                free(c[i].name);
                free(c[i].cgroup);
                free(c[i].policy);
        }
        free(c);
}

void cgd_strv_free(char **l) {
        strv_free(l);
}

void cgd_event_free(cgd_event *e) {
        if (!e)
                return;
        free(e->name);
        free(e->container);
        free(e->operation);
        free(e->path);
        free(e->detail);
        free(e->result);
        free(e->kind);
        free(e);
}
