/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegatectl's tables, dictionaries and JSON strings (see ctl-output.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-output.h"
#include "macro.h"

struct Table {
        char **headers;
        bool *numeric;
        size_t n_columns;
        char **cells; /* row-major */
        size_t n_rows;
};

void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; p && *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

Table *table_new(const char *const *headers, const bool *numeric) {
        Table *t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        while (headers[t->n_columns])
                t->n_columns++;
        t->headers = calloc(t->n_columns, sizeof *t->headers);
        t->numeric = calloc(t->n_columns, sizeof *t->numeric);
        for (size_t i = 0; t->headers && t->numeric && i < t->n_columns; i++) {
                t->headers[i] = strdup(headers[i]);
                t->numeric[i] = numeric && numeric[i];
                if (!t->headers[i])
                        return table_free(t);
        }
        return t->headers && t->numeric ? t : table_free(t);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; t->headers && i < t->n_columns; i++)
                free(t->headers[i]);
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->headers);
        free(t->numeric);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add(Table *t, const char *const *cells) {
        char **grown = realloc(t->cells, (t->n_rows + 1) * t->n_columns * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        t->cells = grown;
        char **row = grown + t->n_rows * t->n_columns;
        for (size_t i = 0; i < t->n_columns; i++)
                row[i] = strdup(cells[i] ? cells[i] : "");
        t->n_rows++;
        for (size_t i = 0; i < t->n_columns; i++)
                if (!row[i])
                        return -ENOMEM; /* the row stays, with its NULL cells printed empty */
        return 0;
}

/* "12" or "12.5": a JSON number as the cells of numeric columns write it. */
static bool is_number(const char *s) {
        size_t i = strspn(s, "0123456789");
        if (i == 0)
                return false;
        if (s[i] == '.')
                i += 1 + strspn(s + i + 1, "0123456789");
        return s[i] == '\0' && s[i - 1] != '.';
}

static void table_print_json(const Table *t) {
        printf("[");
        for (size_t r = 0; r < t->n_rows; r++) {
                printf("%s{", r ? ", " : "");
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *cell = t->cells[r * t->n_columns + c] ?: "";
                        char key[64];
                        size_t j = 0;
                        for (const char *h = t->headers[c]; *h && j + 1 < sizeof key; h++)
                                key[j++] = (char) tolower((unsigned char) *h);
                        key[j] = 0;
                        printf("%s", c ? ", " : "");
                        json_string(stdout, key);
                        printf(": ");
                        if (t->numeric[c] && is_number(cell))
                                printf("%s", cell);
                        else
                                json_string(stdout, cell);
                }
                printf("}");
        }
        printf("]\n");
}

/* Columns on a terminal: UTF-8 continuation bytes take none (the tree's "├─" are one each). */
static size_t width_of(const char *s) {
        size_t w = 0;
        for (; s && *s; s++)
                w += ((unsigned char) *s & 0xc0) != 0x80;
        return w;
}

void table_print(const Table *t, bool json, bool legend) {
        if (json)
                return table_print_json(t);
        size_t width[t->n_columns];
        for (size_t c = 0; c < t->n_columns; c++) {
                width[c] = legend ? strlen(t->headers[c]) : 0;
                for (size_t r = 0; r < t->n_rows; r++) {
                        const char *cell = t->cells[r * t->n_columns + c];
                        if (width_of(cell) > width[c])
                                width[c] = width_of(cell);
                }
        }
        for (size_t r = legend ? 0 : 1; r <= t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *cell = r == 0 ? t->headers[c] : t->cells[(r - 1) * t->n_columns + c];
                        bool last = c + 1 == t->n_columns;
                        if (r == 0) {
                                for (const char *h = cell; *h; h++)
                                        putchar(toupper((unsigned char) *h));
                                printf(last ? "\n" : "%*s", (int) (width[c] - strlen(cell) + 2), "");
                        } else if (last)
                                printf("%s\n", cell ?: "");
                        else
                                printf("%s%*s", cell ?: "", (int) (width[c] - width_of(cell) + 2), "");
                }
}

/* ---- a{sv} ---- */

static void print_string(const char *s, bool json) {
        if (json)
                json_string(stdout, s);
        else
                fputs(s, stdout);
}

/* One value: JSON, or text whose a(ss) lines after the first are indented by indent. */
static void dict_print_value(const cgd_dict *d, const char *key, bool json, int indent) {
        const char *s;
        uint64_t u;
        int b;
        char *const *l;
        const cgd_property *p;
        size_t n;
        if (cgd_dict_get_string(d, key, &s) >= 0)
                print_string(s, json);
        else if (cgd_dict_get_u64(d, key, &u) >= 0)
                printf("%" PRIu64, u);
        else if (cgd_dict_get_bool(d, key, &b) >= 0)
                printf("%s", b ? (json ? "true" : "yes") : (json ? "false" : "no"));
        else if (cgd_dict_get_strv(d, key, &l) >= 0) {
                printf(json ? "[" : "");
                for (size_t i = 0; l && l[i]; i++) {
                        printf("%s", i ? (json ? ", " : " ") : "");
                        print_string(l[i], json);
                }
                printf(json ? "]" : "");
        } else if (cgd_dict_get_properties(d, key, &p, &n) >= 0) {
                printf(json ? "[" : n ? "" : "(none)");
                for (size_t i = 0; i < n; i++) {
                        if (!json) {
                                printf("%*s%s=%s%s", i ? indent : 0, "", p[i].key, p[i].value, i + 1 < n ? "\n" : "");
                                continue;
                        }
                        printf("%s{\"key\": ", i ? ", " : "");
                        json_string(stdout, p[i].key);
                        printf(", \"value\": ");
                        json_string(stdout, p[i].value);
                        printf("}");
                }
                printf(json ? "]" : "");
        } else /* a type this client does not know */
                printf(json ? "null" : "(a value of type %s)", cgd_dict_type(d, key));
}

void dict_print(const cgd_dict *d, bool json) {
        size_t width = 0;
        for (size_t i = 0; i < cgd_dict_size(d); i++)
                if (strlen(cgd_dict_key(d, i)) > width)
                        width = strlen(cgd_dict_key(d, i));
        if (json)
                printf("{");
        for (size_t i = 0; i < cgd_dict_size(d); i++) {
                const char *key = cgd_dict_key(d, i);
                if (json) {
                        printf("%s", i ? ", " : "");
                        json_string(stdout, key);
                        printf(": ");
                        dict_print_value(d, key, true, 0);
                } else {
                        printf("%*s: ", (int) width, key);
                        dict_print_value(d, key, false, (int) width + 2);
                        printf("\n");
                }
        }
        if (json)
                printf("}\n");
}
