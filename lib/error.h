/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The error contract a client sees. Every refusal carries one of these names (protocol/errors.md
 * has the table of which condition gives which) and a one-line message that says what was
 * refused and why, naming the value, the limit and the policy. Library functions that decide
 * something a client will see return a negative errno and fill a CgdRefusal; the daemon turns it
 * into a D-Bus error reply.
 */
#pragma once

#include <errno.h>

#include "macro.h"

typedef enum CgdError {
        CGD_ERROR_ACCESS_DENIED,    /* policy forbids the operation */
        CGD_ERROR_INVALID_PATH,     /* group path fails validation or is too deep */
        CGD_ERROR_INVALID_PROPERTY, /* not a property key cgdelegate knows, or never writable */
        CGD_ERROR_INVALID_VALUE,    /* value does not parse in the key's grammar */
        CGD_ERROR_OUT_OF_RANGE,     /* parses, but outside the key's range or the policy's ceiling */
        CGD_ERROR_NOT_FOUND,        /* no such group or container */
        CGD_ERROR_EXISTS,           /* already exists */
        CGD_ERROR_BUSY,             /* the kernel says busy (processes in the way, usage above limit) */
        CGD_ERROR_QUOTA_EXCEEDED,   /* group, depth or connection budget used up */
        CGD_ERROR_RATE_LIMITED,     /* request rate over the policy's */
        CGD_ERROR_NOT_SUPPORTED,    /* no such thing on this host (v1 has no memory.high) */
        CGD_ERROR_NO_SUCH_PROCESS,  /* pid not in the container (never says more) */
        CGD_ERROR_FAILED,           /* the kernel refused for another reason; message says which */
        _CGD_ERROR_MAX,
        _CGD_ERROR_INVALID = -EINVAL,
} CgdError;

#define CGD_MESSAGE_MAX 512

typedef struct CgdRefusal {
        CgdError error;
        char message[CGD_MESSAGE_MAX];
} CgdRefusal;

/* "org.cgdelegate.Error.AccessDenied", ... */
const char *cgd_error_name(CgdError e);
CgdError cgd_error_from_name(const char *name);

/* Fills *r (when not NULL) and returns the negative errno that goes with e, so that a refusal
 * reads: return cgd_refuse(r, CGD_ERROR_OUT_OF_RANGE, "memory.max=%s on %s exceeds ...", ...).
 * The message often quotes what a client sent, cut to a length that may fall inside a UTF-8
 * character: it is made one line of valid UTF-8 (control bytes, DEL and bytes of no valid UTF-8
 * sequence become "\xNN"), since it goes into D-Bus replies and signals (which must be valid
 * UTF-8) and into log lines (which a newline would split). */
int cgd_refuse(CgdRefusal *r, CgdError e, const char *fmt, ...) _printf_(3, 4);

/* The negative errno cgd_refuse() returns for e (EACCES, EINVAL, ERANGE, ...). */
int cgd_error_errno(CgdError e);
