/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "strbuf.h"

void strbuf_done(StrBuf *b)
{
        free(b->ptr);
        *b = (StrBuf)STRBUF_INIT;
}

static bool strbuf_reserve(StrBuf *b, size_t extra)
{
        size_t need;

        if (b->failed)
                return false;
        if (__builtin_add_overflow(b->len, extra + 1, &need)) {
                b->failed = true;
                return false;
        }
        if (need <= b->cap)
                return true;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need) {
                if (__builtin_mul_overflow(cap, 2, &cap)) {
                        b->failed = true;
                        return false;
                }
        }
        char *p = realloc(b->ptr, cap);
        if (!p) {
                b->failed = true;
                return false;
        }
        b->ptr = p;
        b->cap = cap;
        return true;
}

void strbuf_put(StrBuf *b, const char *s, size_t n)
{
        if (!strbuf_reserve(b, n))
                return;
        memcpy(b->ptr + b->len, s, n);
        b->len += n;
        b->ptr[b->len] = '\0';
}

void strbuf_puts(StrBuf *b, const char *s)
{
        strbuf_put(b, s, strlen(s));
}

void strbuf_putc(StrBuf *b, char c)
{
        strbuf_put(b, &c, 1);
}

void strbuf_printf(StrBuf *b, const char *fmt, ...)
{
        va_list ap, ap2;

        if (b->failed)
                return;
        va_start(ap, fmt);
        va_copy(ap2, ap);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || !strbuf_reserve(b, (size_t)n)) {
                b->failed = true;
                va_end(ap2);
                return;
        }
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap2);
        va_end(ap2);
        b->len += (size_t)n;
}

void strbuf_put_json_string(StrBuf *b, const char *s)
{
        strbuf_putc(b, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        strbuf_puts(b, "\\\"");
                        break;
                case '\\':
                        strbuf_puts(b, "\\\\");
                        break;
                case '\n':
                        strbuf_puts(b, "\\n");
                        break;
                case '\r':
                        strbuf_puts(b, "\\r");
                        break;
                case '\t':
                        strbuf_puts(b, "\\t");
                        break;
                default:
                        if (*p < 0x20)
                                strbuf_printf(b, "\\u%04x", *p);
                        else
                                strbuf_putc(b, (char)*p);
                }
        }
        strbuf_putc(b, '"');
}

char *strbuf_steal(StrBuf *b)
{
        if (b->failed) {
                strbuf_done(b);
                return NULL;
        }
        if (!b->ptr && !strbuf_reserve(b, 0))
                return NULL;
        if (!b->ptr)
                return NULL;
        b->ptr[b->len] = '\0';
        char *p = b->ptr;
        *b = (StrBuf)STRBUF_INIT;
        return p;
}
