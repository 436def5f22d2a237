/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcgdelegate's systemd syntax: the public face of sdprop.c. A translation failure is
 * reported the way the daemon would refuse the value, so that callers handle one kind of error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "sdprop.h"

int cgd_translate_systemd(const char *const *assignments, cgd_property **ret, size_t *ret_n, char **ret_error) {
        _cleanup_strv_free_ char **pairs = NULL;
        int r = sdprop_translate_many(assignments, NULL, &pairs, ret_error);
        if (r < 0)
                return r;
        size_t n = strv_length(pairs) / 2;
        cgd_property *p = calloc(n ? n : 1, sizeof *p);
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) { /* the strings move from pairs to p */
                p[i].key = TAKE_PTR(pairs[2 * i]);
                p[i].value = TAKE_PTR(pairs[2 * i + 1]);
        }
        *ret = p;
        *ret_n = n;
        return 0;
}

int cgd_set_unit_properties(cgd_client *c, const char *name, const char *path, const char *const *assignments,
                            const cgd_options *o) {
        cgd_property *p = NULL;
        size_t n = 0;
        _cleanup_free_ char *error = NULL;
        int r = cgd_translate_systemd(assignments, &p, &n, &error);
        if (r < 0)
                return client_fail(c, r,
                                   r == -EOPNOTSUPP ? "org.cgdelegate.Error.NotSupported" : "org.cgdelegate.Error.InvalidValue",
                                   "%s", error ? error : strerror(-r));
        r = c->admin ? cgd_set_container_properties(c, name ? name : "", path, p, n, o)
                     : cgd_set_properties(c, path, p, n, o);
        cgd_properties_free(p, n);
        return r;
}
