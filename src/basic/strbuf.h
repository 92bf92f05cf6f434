/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A growable string that remembers allocation failure, checked once at the end
 * (libgit2's git_str): callers append freely and test strbuf_failed() when done.
 */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct StrBuf {
        char *ptr;
        size_t len;
        size_t cap;
        bool failed;
} StrBuf;

#define STRBUF_INIT                                                                                         \
        {                                                                                                   \
                NULL, 0, 0, false                                                                           \
        }

void strbuf_done(StrBuf *b);
void strbuf_put(StrBuf *b, const char *s, size_t n);
void strbuf_puts(StrBuf *b, const char *s);
void strbuf_putc(StrBuf *b, char c);
void strbuf_printf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
/** strbuf_put_json_string() - append @s as a quoted, escaped JSON string. */
void strbuf_put_json_string(StrBuf *b, const char *s);
static inline bool strbuf_failed(const StrBuf *b)
{
        return b->failed;
}
/** strbuf_steal() - hand the NUL-terminated string to the caller; NULL if any append failed. */
char *strbuf_steal(StrBuf *b);
