/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "error.h"

static int error_vset(BerthError *err, int code, bool with_errno, const char *fmt, va_list ap)
{
        if (!err || err->code != 0)
                return code;
        err->code = code < 0 ? code : -EIO;
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (n < 0)
                err->msg[0] = '\0';
        if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
                snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(-err->code));
        return code;
}

int error_set(BerthError *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        error_vset(err, code, true, fmt, ap);
        va_end(ap);
        return code;
}

int error_setx(BerthError *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        error_vset(err, code, false, fmt, ap);
        va_end(ap);
        return code;
}

void error_prefix(BerthError *err, const char *fmt, ...)
{
        char prefix[256], old[sizeof(err->msg)];
        va_list ap;

        if (!err || err->code == 0)
                return;
        va_start(ap, fmt);
        int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        memcpy(old, err->msg, sizeof(old));
        snprintf(err->msg, sizeof(err->msg), "%s%s", prefix, old);
}

const char *error_message(const BerthError *err, int code)
{
        if (err && err->code != 0 && err->msg[0])
                return err->msg;
        return strerror(code < 0 ? -code : code);
}
