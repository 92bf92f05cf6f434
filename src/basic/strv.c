/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "strv.h"

char **strv_free(char **l)
{
        STRV_FOREACH (s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

char **strv_copy(char *const *l)
{
        size_t n = strv_length(l);
        _cleanup_strv_free_ char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return NULL;
        }
        return TAKE_PTR(c);
}

int strv_push(char ***l, char *s)
{
        size_t n = strv_length(*l);
        char **c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s)
{
        char *d = strdup(s);
        if (!d)
                return -ENOMEM;
        return strv_push(l, d);
}

bool strv_contains(char *const *l, const char *s)
{
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

static size_t env_name_len(const char *assignment)
{
        const char *eq = strchr(assignment, '=');
        return eq ? (size_t)(eq - assignment) : strlen(assignment);
}

const char *strv_env_get(char *const *env, const char *name)
{
        size_t n = strlen(name);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
                        return env[i] + n + 1;
        return NULL;
}

int strv_env_set(char ***env, const char *assignment)
{
        size_t n = env_name_len(assignment);
        for (size_t i = 0; *env && (*env)[i]; i++) {
                if (strncmp((*env)[i], assignment, n) == 0 && (*env)[i][n] == '=') {
                        char *d = strdup(assignment);
                        if (!d)
                                return -ENOMEM;
                        free((*env)[i]);
                        (*env)[i] = d;
                        return 0;
                }
        }
        return strv_extend(env, assignment);
}
