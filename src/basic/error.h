/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one error currency: functions return >= 0 on success and -errno on failure.
 * Where the caller needs to know *what* failed (a JSON field, a mount), it passes a
 * BerthError that is filled only on failure; the edge (a CLI verb) prints it once.
 */

#include <stdbool.h>

#include "macro.h"

typedef struct BerthError {
        int code;       /* negative errno, 0 while unset */
        char msg[1024]; /* "what: why", without trailing newline */
} BerthError;

/**
 * error_set() - record a failure as "<formatted context>: <strerror(-code)>".
 * Returns @code so callers can write `return error_set(err, r, "mount %s", p);`.
 * @err may be NULL. A message already set is kept: the innermost failure wins.
 */
int error_set(BerthError *err, int code, const char *fmt, ...) _printf_(3, 4);

/** error_setx() - like error_set() but the message is used as is (no strerror). */
int error_setx(BerthError *err, int code, const char *fmt, ...) _printf_(3, 4);

/** error_prefix() - prepend context to an existing message ("create abc: " + msg). */
void error_prefix(BerthError *err, const char *fmt, ...) _printf_(2, 3);

/** error_message() - the message, or strerror of @code when none was recorded. */
const char *error_message(const BerthError *err, int code);
