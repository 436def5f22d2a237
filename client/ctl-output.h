/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegatectl's output: aligned tables and trees for people, JSON for programs (strings
 * escaped per RFC 8259, numbers bare). Writing JSON is done here by hand; nothing here parses it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cgdelegate.h"

void json_string(FILE *f, const char *s);

/* A table of string cells; columns marked numeric are bare numbers in JSON. */
typedef struct Table Table;
Table *table_new(const char *const *headers, const bool *numeric);
Table *table_free(Table *t);
static inline void table_freep(Table **t) {
        table_free(*t);
}
/* Appends one row of as many cells as there are headers (copied). */
int table_add(Table *t, const char *const *cells);
/* Columns aligned under upper-case headers (none when legend is false), or, in JSON, an array
 * of objects keyed by the headers in lower case. */
void table_print(const Table *t, bool json, bool legend);

/* One a{sv} result: "Key: value" lines, or one JSON object (a(ss) as [{"key","value"}]). */
void dict_print(const cgd_dict *d, bool json);
