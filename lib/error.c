/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error names of protocol/errors.md and the refusal helper (see error.h). */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static const struct {
        const char *name;
        int errnum;
} errors[_CGD_ERROR_MAX] = {
        [CGD_ERROR_ACCESS_DENIED] = { "org.cgdelegate.Error.AccessDenied", EACCES },
        [CGD_ERROR_INVALID_PATH] = { "org.cgdelegate.Error.InvalidPath", EINVAL },
        [CGD_ERROR_INVALID_PROPERTY] = { "org.cgdelegate.Error.InvalidProperty", EINVAL },
        [CGD_ERROR_INVALID_VALUE] = { "org.cgdelegate.Error.InvalidValue", EINVAL },
        [CGD_ERROR_OUT_OF_RANGE] = { "org.cgdelegate.Error.OutOfRange", ERANGE },
        [CGD_ERROR_NOT_FOUND] = { "org.cgdelegate.Error.NotFound", ENOENT },
        [CGD_ERROR_EXISTS] = { "org.cgdelegate.Error.Exists", EEXIST },
        [CGD_ERROR_BUSY] = { "org.cgdelegate.Error.Busy", EBUSY },
        [CGD_ERROR_QUOTA_EXCEEDED] = { "org.cgdelegate.Error.QuotaExceeded", EDQUOT },
        [CGD_ERROR_RATE_LIMITED] = { "org.cgdelegate.Error.RateLimited", EAGAIN },
        [CGD_ERROR_NOT_SUPPORTED] = { "org.cgdelegate.Error.NotSupported", EOPNOTSUPP },
        [CGD_ERROR_NO_SUCH_PROCESS] = { "org.cgdelegate.Error.NoSuchProcess", ESRCH },
        [CGD_ERROR_FAILED] = { "org.cgdelegate.Error.Failed", EIO },
};

const char *cgd_error_name(CgdError e) {
        return e >= 0 && e < _CGD_ERROR_MAX ? errors[e].name : NULL;
}

CgdError cgd_error_from_name(const char *name) {
        for (CgdError e = 0; e < _CGD_ERROR_MAX; e++)
                if (name && streq(errors[e].name, name))
                        return e;
        return _CGD_ERROR_INVALID;
}

int cgd_error_errno(CgdError e) {
        return e >= 0 && e < _CGD_ERROR_MAX ? -errors[e].errnum : -EIO;
}

int cgd_refuse(CgdRefusal *r, CgdError e, const char *fmt, ...) {
        if (r) {
                va_list ap;
                r->error = e;
                va_start(ap, fmt);
                (void) vsnprintf(r->message, sizeof r->message, fmt, ap);
                va_end(ap);
        }
        return cgd_error_errno(e);
}
