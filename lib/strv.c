/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string vectors: the one list type libcgd hands out (group names, paths). */
#include "macro.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

bool strv_contains(char * const *l, const char *s) {
        for (; l && *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
        return false;
}

size_t strv_length(char * const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

int strv_push(char ***l, size_t *n, char *s) {
        char **grown = realloc(*l, (*n + 2) * sizeof(char *));
        if (!grown)
                return -ENOMEM;
        grown[(*n)++] = s;
        grown[*n] = NULL;
        *l = grown;
        return 0;
}

int strv_extend(char ***l, size_t *n, const char *s) {
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        int r = strv_push(l, n, copy);
        if (r < 0)
                free(copy);
        return r;
}
