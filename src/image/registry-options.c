/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry client's pure parts: platforms, WWW-Authenticate parameters, insecure registries. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "registry.h"

#define REGISTRY_CONF_MAX (1U << 20)

/* ---- platforms ---- */

static int copy_field(char *dst, size_t n, const char *s, size_t len)
{
        if (len == 0 || len >= n)
                return -EINVAL;
        memcpy(dst, s, len);
        dst[len] = 0;
        return 0;
}

int registry_platform_parse(const char *s, RegistryPlatform *ret, BerthError *err)
{
        RegistryPlatform p = {};
        const char *a, *b;

        a = strchr(s, '/');
        if (!a)
                return error_setx(err, -EINVAL, "platform \"%s\": expected os/arch[/variant]", s);
        b = strchr(a + 1, '/');
        if (copy_field(p.os, sizeof(p.os), s, a - s) < 0 ||
            copy_field(p.architecture, sizeof(p.architecture), a + 1,
                       b ? (size_t)(b - a - 1) : strlen(a + 1)) < 0 ||
            (b &&
             (copy_field(p.variant, sizeof(p.variant), b + 1, strlen(b + 1)) < 0 || strchr(b + 1, '/'))))
                return error_setx(err, -EINVAL, "platform \"%s\": expected os/arch[/variant]", s);
        *ret = p;
        return 0;
}

void registry_platform_host(RegistryPlatform *ret)
{
        *ret = (RegistryPlatform){.os = "linux"};
#if defined(__x86_64__)
        snprintf(ret->architecture, sizeof(ret->architecture), "amd64");
#elif defined(__aarch64__)
        snprintf(ret->architecture, sizeof(ret->architecture), "arm64");
#elif defined(__i386__)
        snprintf(ret->architecture, sizeof(ret->architecture), "386");
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        snprintf(ret->architecture, sizeof(ret->architecture), "ppc64le");
#elif defined(__s390x__)
        snprintf(ret->architecture, sizeof(ret->architecture), "s390x");
#elif defined(__riscv) && __riscv_xlen == 64
        snprintf(ret->architecture, sizeof(ret->architecture), "riscv64");
#else
        snprintf(ret->architecture, sizeof(ret->architecture), "unknown");
#endif
}

void registry_pull_options_init(RegistryPullOptions *o)
{
        *o = (RegistryPullOptions){.tls_verify = true, .max_parallel = REGISTRY_PARALLEL_DEFAULT};
        registry_platform_host(&o->platform);
}

/* ---- challenges ---- */

char *registry_challenge_param(const char *params, const char *key)
{
        size_t k = strlen(key);
        const char *p = params;

        while (*p) {
                const char *v, *e;

                while (*p == ' ' || *p == ',')
                        p++;
                if (strncasecmp(p, key, k) == 0 && p[k] == '=') {
                        v = p + k + 1;
                        if (*v == '"') {
                                v++;
                                e = strchr(v, '"');
                                if (!e)
                                        return NULL;
                        } else
                                e = v + strcspn(v, ",");
                        return strndup(v, e - v);
                }
                /* Skip this parameter, quoted commas included. */
                while (*p && *p != ',') {
                        if (*p == '"') {
                                p = strchr(p + 1, '"');
                                if (!p)
                                        return NULL;
                        }
                        p++;
                }
        }
        return NULL;
}

/* ---- insecure registries ---- */

/* "host[:port]" without the port, in @buf. */
static const char *endpoint_host(const char *endpoint, char *buf, size_t n)
{
        const char *colon = endpoint[0] == '[' ? strstr(endpoint, "]:") : strrchr(endpoint, ':');
        size_t len;

        if (colon && endpoint[0] == '[')
                colon++;
        len = colon ? (size_t)(colon - endpoint) : strlen(endpoint);
        if (len >= n)
                len = n - 1;
        memcpy(buf, endpoint, len);
        buf[len] = 0;
        return buf;
}

bool registry_is_insecure(const char *endpoint, char *const *insecure)
{
        static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
        char host[256];

        endpoint_host(endpoint, host, sizeof(host));
        for (size_t i = 0; i < ELEMENTSOF(local); i++)
                if (streq(host, local[i]))
                        return true;
        for (size_t i = 0; insecure && insecure[i]; i++)
                if (streq(insecure[i], endpoint) || streq(insecure[i], host))
                        return true;
        return false;
}

int registry_conf_load(const char *path, char ***ret, BerthError *err)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_(strv_freep) char **list = NULL;
        size_t len;
        unsigned lineno = 0;
        char *line, *next;
        int r;

        list = calloc(1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, REGISTRY_CONF_MAX, &data, &len);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(list);
                return 0;
        }
        if (r < 0)
                return error_set(err, r, "read %s", path);
        for (line = data; line; line = next) {
                char *key, *value, *eq, *end;

                lineno++;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                key = line + strspn(line, " \t");
                if (*key == 0 || *key == '#')
                        continue;
                eq = strchr(key, '=');
                if (!eq)
                        return error_setx(err, -EINVAL, "%s:%u: expected \"insecure = HOST[:PORT]\"", path,
                                          lineno);
                for (end = eq; end > key && (end[-1] == ' ' || end[-1] == '\t'); end--)
                        ;
                *end = 0;
                value = eq + 1 + strspn(eq + 1, " \t");
                for (end = value + strlen(value); end > value && strchr(" \t\r", end[-1]); end--)
                        ;
                *end = 0;
                if (!streq(key, "insecure") || *value == 0 || strpbrk(value, " \t/"))
                        return error_setx(err, -EINVAL, "%s:%u: expected \"insecure = HOST[:PORT]\"", path,
                                          lineno);
                r = strv_extend(&list, value);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(list);
        return 0;
}
