/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated string vectors, as execve() takes them. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
char **strv_copy(char *const *l);
/** strv_push() - append @s (taking ownership) to *@l; -ENOMEM leaves *@l intact and frees @s. */
int strv_push(char ***l, char *s);
/** strv_extend() - append a copy of @s. */
int strv_extend(char ***l, const char *s);
bool strv_contains(char *const *l, const char *s);
/** strv_env_get() - value of @name in a KEY=VALUE list, or NULL. */
const char *strv_env_get(char *const *env, const char *name);
/** strv_env_set() - replace or append KEY=VALUE (copy of @assignment). */
int strv_env_set(char ***env, const char *assignment);
