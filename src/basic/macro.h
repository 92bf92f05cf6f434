/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Scope-bound cleanup and ownership hand-off, after systemd's macro.h. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _printf_(a, b)   __attribute__((format(printf, a, b)))
#define _noreturn_       __attribute__((noreturn))
#define _unused_         __attribute__((unused))
#define _warn_unused_    __attribute__((warn_unused_result))
#define _fallthrough_    __attribute__((fallthrough))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Each argument is evaluated twice: use them with plain values only. */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Take ownership out of a cleanup-managed variable. */
#define TAKE_PTR(p)                                                                                         \
        ({                                                                                                  \
                __typeof__(p) _taken_ = (p);                                                                \
                (p) = NULL;                                                                                 \
                _taken_;                                                                                    \
        })
#define TAKE_FD(fd)                                                                                         \
        ({                                                                                                  \
                int _taken_fd_ = (fd);                                                                      \
                (fd) = -EBADF;                                                                              \
                _taken_fd_;                                                                                 \
        })

/* free() that returns NULL, for "x = mfree(x)". */
static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

static inline void freep(void *p)
{
        free(*(void **)p);
}

/* close() that keeps errno, so a failing path can clean up before reporting. */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd)
{
        *fd = safe_close(*fd);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                             \
        static inline void func##p(type *p)                                                                 \
        {                                                                                                   \
                if (*p)                                                                                     \
                        func(*p);                                                                           \
        }

/* Negative errno of the last libc failure, never 0 (some callers forget to set errno). */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

#define streq(a, b) (strcmp((a), (b)) == 0)
