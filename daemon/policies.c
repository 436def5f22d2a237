/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's policy table: every NAME.conf of the policy directories (the first directory that
 * has a name wins), with "default" first so that it is the base every other file inherits from.
 * A file that does not parse is refused with its file, line and reason, and the version that was
 * in force before stays in force.
 */
#include <dirent.h>
#include <stdio.h>

#include "daemon.h"

const Policy *policies_get(Daemon *d, const char *name) {
        return name ? g_hash_table_lookup(d->policies, name) : NULL;
}

static void append_error(char **all, const char *err) {
        char *joined = g_strdup_printf("%s%s%s", *all ? *all : "", *all ? "; " : "", err);
        g_free(*all);
        *all = joined;
}

/* Loads name from the first directory that has it; the built-in for a missing "default". */
static int load_one(Daemon *d, const char *name, const Policy *base, Policy **ret, char **ret_error) {
        int k = -ENOENT;
        for (char **dir = d->policy_dirs; *dir; dir++) {
                _cleanup_free_ char *err = NULL;
                Policy *p = NULL;
                k = policy_load(*dir, name, base, &p, &err);
                if (k == -ENOENT || k == 1) {
                        if (k == 1 && !dir[1]) { /* built-in default, after every directory */
                                *ret = p;
                                return 0;
                        }
                        policy_free(p);
                        continue;
                }
                if (k < 0) {
                        *ret_error = TAKE_PTR(err);
                        return k;
                }
                *ret = p;
                return 0;
        }
        return k;
}

static void collect_names(Daemon *d, GHashTable *names) {
        for (char **dir = d->policy_dirs; *dir; dir++) {
                DIR *dd = opendir(*dir);
                if (!dd)
                        continue;
                for (struct dirent *de; (de = readdir(dd));) {
                        size_t l = strlen(de->d_name);
                        if (l > 5 && streq(de->d_name + l - 5, ".conf"))
                                g_hash_table_add(names, g_strndup(de->d_name, l - 5));
                }
                closedir(dd);
        }
        g_hash_table_remove(names, "default");
}

static void policy_destroy(gpointer p) {
        policy_free(p);
}

int policies_load(Daemon *d, char **ret_error) {
        GHashTable *fresh = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, policy_destroy);
        g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        char *errors = NULL;
        Policy *def = NULL;
        _cleanup_free_ char *err = NULL;
        if (load_one(d, "default", NULL, &def, &err) < 0) {
                append_error(&errors, err ? err : "default: cannot be loaded");
                const Policy *old = policies_get(d, "default");
                def = policy_copy(old ? old : policy_builtin_default());
        }
        g_hash_table_insert(fresh, def->name, def);
        collect_names(d, names);
        GHashTableIter it;
        gpointer name;
        g_hash_table_iter_init(&it, names);
        while (g_hash_table_iter_next(&it, &name, NULL)) {
                Policy *p = NULL;
                free(TAKE_PTR(err));
                if (load_one(d, name, def, &p, &err) < 0) {
                        append_error(&errors, err ? err : name);
                        const Policy *old = policies_get(d, name); /* the previous version stays */
                        if (!old || !(p = policy_copy(old)))
                                continue;
                }
                g_hash_table_insert(fresh, p->name, p);
        }
        /* Containers follow their policy's new version; one whose policy vanished keeps 'default'. */
        GHashTable *old = d->policies;
        d->policies = fresh;
        gpointer v;
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                c->policy = policies_get(d, c->policy_name) ?: policies_get(d, "default");
        }
        if (old)
                g_hash_table_destroy(old);
        *ret_error = errors;
        return errors ? -EINVAL : 0;
}
