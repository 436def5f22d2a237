/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI hook's one error style: a malloc'ed message for the caller to print, and -EINVAL. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "macro.h"

static inline int hook_fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static inline int hook_fail(char **ret_error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EINVAL;
}
