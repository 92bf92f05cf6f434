/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strbuf.h"
#include "reference.h"

#define DOCKER_IO_ENDPOINT "registry-1.docker.io"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

_printf_(3, 4) static int ref_error(BerthError *err, const char *ref, const char *fmt, ...)
{
        char why[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        return error_setx(err, -EINVAL, "\"%.300s\": %s", ref, why);
}

/* path-component: [a-z0-9]+ (separator [a-z0-9]+)*, separator: [_.] | "__" | "-"+ */
static bool path_component_valid(const char *p, size_t n)
{
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(p[0]))
                return false;
        while (i < n) {
                if (is_lower_alnum(p[i])) {
                        i++;
                        continue;
                }
                /* a separator, which must be followed by an alphanumeric */
                if (p[i] == '.')
                        i++;
                else if (p[i] == '_')
                        i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
                else if (p[i] == '-')
                        while (i < n && p[i] == '-')
                                i++;
                else
                        return false;
                if (i >= n || !is_lower_alnum(p[i]))
                        return false;
        }
        return true;
}

static int repository_check(const char *ref, const char *repo, BerthError *err)
{
        for (const char *c = repo; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        return ref_error(err, ref, "repository name must be lowercase");
        for (const char *p = repo;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);

                if (!path_component_valid(p, n))
                        return ref_error(err, ref, "invalid repository name component \"%.*s\"",
                                         (int)MIN(n, (size_t)128), p);
                if (!slash)
                        break;
                p = slash + 1;
        }
        return 0;
}

/* domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool domain_name_valid(const char *p, size_t n)
{
        size_t start = 0;

        if (n == 0)
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && p[i] != '.') {
                        if (!is_alnum(p[i]) && p[i] != '-')
                                return false;
                        continue;
                }
                if (i == start || p[start] == '-' || p[i - 1] == '-')
                        return false;
                start = i + 1;
        }
        return true;
}

/* host [":" port]: host is a domain name, an IPv4 address (a domain name too) or "[" IPv6 "]". */
static bool registry_valid(const char *r)
{
        const char *port = NULL;
        size_t n = strlen(r);

        if (r[0] == '[') {
                const char *end = strchr(r, ']');

                if (!end || end == r + 1)
                        return false;
                for (const char *c = r + 1; c < end; c++)
                        if (!is_hex(*c) && *c != ':' && *c != '.')
                                return false;
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1] != '\0')
                        return false;
        } else {
                const char *colon = strchr(r, ':');

                if (colon) {
                        port = colon + 1;
                        n = (size_t)(colon - r);
                }
                if (!domain_name_valid(r, n))
                        return false;
        }
        if (port) {
                size_t len = strlen(port);

                if (len == 0 || len > 5)
                        return false;
                for (const char *c = port; *c; c++)
                        if (!is_digit(*c))
                                return false;
        }
        return true;
}

/* tag: [\w][\w.-]{0,127} */
static bool tag_valid(const char *t)
{
        size_t n = strlen(t);

        if (n == 0 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool word = is_alnum(t[i]) || t[i] == '_';

                if (!word && (i == 0 || (t[i] != '.' && t[i] != '-')))
                        return false;
        }
        return true;
}

static bool is_hex64(const char *s)
{
        size_t n = strlen(s);

        if (n != DIGEST_HEX_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
                        return false;
        return true;
}

ImageReference *image_reference_free(ImageReference *ref)
{
        if (!ref)
                return NULL;
        free(ref->registry);
        free(ref->endpoint);
        free(ref->repository);
        free(ref->tag);
        return mfree(ref);
}

/* Split "name[:tag]" (the digest already removed) into its registry, repository and tag. */
static int reference_split_name(const char *ref, char *name, ImageReference *r, BerthError *err)
{
        char *last_slash = strrchr(name, '/'), *colon = strrchr(name, ':'), *slash;
        const char *registry = IMAGE_REFERENCE_DEFAULT_REGISTRY, *path = name;

        if (colon && (!last_slash || colon > last_slash)) {
                *colon = '\0';
                if (!tag_valid(colon + 1))
                        return ref_error(err, ref, "invalid tag \"%.130s\"", colon + 1);
                r->tag = strdup(colon + 1);
                if (!r->tag)
                        return -ENOMEM;
        }
        if (name[0] == '\0')
                return ref_error(err, ref, "repository name must not be empty");

        slash = strchr(name, '/');
        if (slash) {
                *slash = '\0';
                if (strpbrk(name, ".:") || streq(name, "localhost")) {
                        registry = name;
                        path = slash + 1;
                } else
                        *slash = '/';
        }
        if (!registry_valid(registry))
                return ref_error(err, ref, "invalid registry \"%.260s\"", registry);
        if (streq(registry, "index.docker.io"))
                registry = IMAGE_REFERENCE_DEFAULT_REGISTRY;

        r->registry = strdup(registry);
        r->endpoint =
                strdup(streq(registry, IMAGE_REFERENCE_DEFAULT_REGISTRY) ? DOCKER_IO_ENDPOINT : registry);
        if (streq(registry, IMAGE_REFERENCE_DEFAULT_REGISTRY) && !strchr(path, '/')) {
                if (asprintf(&r->repository, "library/%s", path) < 0)
                        r->repository = NULL;
        } else
                r->repository = strdup(path);
        if (!r->registry || !r->endpoint || !r->repository)
                return -ENOMEM;
        return repository_check(ref, r->repository, err);
}

int image_reference_parse(const char *s, ImageReference **ret, BerthError *err)
{
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        _cleanup_free_ char *name = NULL;
        char *at;
        int k;

        assert(s && ret);
        if (s[0] == '\0')
                return ref_error(err, s, "empty image reference");
        if (is_hex64(s))
                return ref_error(err, s, "cannot use a 64-digit hexadecimal string as a repository name");

        r = calloc(1, sizeof(*r));
        name = strdup(s);
        if (!r || !name)
                return -ENOMEM;

        at = strchr(name, '@');
        if (at) {
                BerthError derr = {0};

                *at = '\0';
                if (digest_parse(at + 1, &r->digest, &derr) < 0)
                        return ref_error(err, s, "%s", derr.msg);
                r->has_digest = true;
        }

        k = reference_split_name(s, name, r, err);
        if (k < 0)
                return k;
        if (strlen(r->registry) + 1 + strlen(r->repository) > IMAGE_REFERENCE_NAME_MAX)
                return ref_error(err, s, "repository name must not be longer than %d characters",
                                 IMAGE_REFERENCE_NAME_MAX);
        if (!r->tag && !r->has_digest) {
                r->tag = strdup(IMAGE_REFERENCE_DEFAULT_TAG);
                if (!r->tag)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

char *image_reference_name(const ImageReference *ref)
{
        char *s;

        assert(ref);
        if (asprintf(&s, "%s/%s", ref->registry, ref->repository) < 0)
                return NULL;
        return s;
}

char *image_reference_format(const ImageReference *ref)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        assert(ref);
        strbuf_printf(&b, "%s/%s", ref->registry, ref->repository);
        if (ref->tag)
                strbuf_printf(&b, ":%s", ref->tag);
        if (ref->has_digest) {
                char buf[DIGEST_STRING_LEN + 1];

                strbuf_printf(&b, "@%s", digest_format(&ref->digest, buf));
        }
        return strbuf_steal(&b);
}

int image_reference_canonical(const char *text, char **ret, BerthError *err)
{
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        int r;

        r = image_reference_parse(text, &ref, err);
        if (r < 0)
                return r;
        *ret = image_reference_format(ref);
        return *ret ? 0 : -ENOMEM;
}
