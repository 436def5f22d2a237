/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error names of protocol/errors.md and the refusal helper (see error.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong form, no surrogate, nothing
 * above U+10FFFF), 0 when s does not start one. */
static size_t utf8_sequence(const unsigned char *s) {
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                lo = s[0] == 0xe0 ? 0xa0 : 0x80;
                hi = s[0] == 0xed ? 0x9f : 0xbf;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                lo = s[0] == 0xf0 ? 0x90 : 0x80;
                hi = s[0] == 0xf4 ? 0x8f : 0xbf;
        } else
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return n;
}

/* src into dst (size bytes with the NUL) as one line of valid UTF-8; what does not fit is left
 * out, never half a sequence or half an escape. */
static void one_utf8_line(const char *src, char *dst, size_t size) {
        const unsigned char *s = (const unsigned char *) src;
        size_t j = 0;

        while (*s) {
                size_t n = utf8_sequence(s);
                bool escape = n == 0 || *s < 0x20 || *s == 0x7f;
                size_t need = escape ? 4 : n;

                if (j + need >= size)
                        break;
                if (escape) {
                        snprintf(dst + j, size - j, "\\x%02x", *s);
                        n = 1;
                } else
                        memcpy(dst + j, s, n);
                j += need;
                s += n;
        }
        dst[j] = '\0';
}

int cgd_refuse(CgdRefusal *r, CgdError e, const char *fmt, ...) {
        if (r) {
                char raw[CGD_MESSAGE_MAX];
                va_list ap;
                r->error = e;
                va_start(ap, fmt);
                (void) vsnprintf(raw, sizeof raw, fmt, ap);
                va_end(ap);
                one_utf8_line(raw, r->message, sizeof r->message);
        }
        return cgd_error_errno(e);
}
