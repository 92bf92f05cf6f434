/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "quantity.h"
#include "sched-json.h"

int sched_json_parse_text(const char *text, struct json_object **ret, BerthError *err)
{
        struct json_object *root;
        enum json_tokener_error jerr;
        struct json_tokener *tok;
        const char *end;

        /* One tokener, reset per call: a job stream is a million small documents, and allocating
         * a tokener for each was a third of the parsing time. */
        static struct json_tokener *cached;

        if (!cached) {
                cached = json_tokener_new();
                if (!cached)
                        return -ENOMEM;
                /* As src/oci does: no NaN, no single quotes, no raw control characters, valid UTF-8 only. */
                json_tokener_set_flags(cached, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        }
        tok = cached;
        json_tokener_reset(tok);
        root = json_tokener_parse_ex(tok, text, -1);
        jerr = json_tokener_get_error(tok);
        end = text + json_tokener_get_parse_end(tok);
        if (jerr != json_tokener_success) {
                json_object_put(root);
                return error_setx(err, -EINVAL, "not valid JSON at byte %zu: %s", (size_t)(end - text),
                                  jerr == json_tokener_continue ? "unexpected end of data"
                                                                : json_tokener_error_desc(jerr));
        }
        if (end[strspn(end, " \t\r\n")] != '\0') {
                json_object_put(root);
                return error_setx(err, -EINVAL,
                                  "not valid JSON at byte %zu: text after the end of the value",
                                  (size_t)(end - text));
        }
        *ret = root;
        return 0;
}

const char *sched_json_path(char *buf, size_t size, const char *parent, const char *key)
{
        snprintf(buf, size, "%s%s%s", parent, *parent ? "." : "", key);
        return buf;
}

int sched_json_check_object(struct json_object *v, const char *const *allowed, const char *path,
                            BerthError *err)
{
        if (!json_object_is_type(v, json_type_object))
                return error_setx(err, -EINVAL, "%s%smust be an object", path, *path ? ": " : "");
        json_object_object_foreach (v, key, val) {
                bool known = false;
                (void)val;
                for (const char *const *a = allowed; *a && !known; a++)
                        known = streq(*a, key);
                if (!known) {
                        char p[512];
                        return error_setx(err, -EINVAL, "%s: unknown field",
                                          sched_json_path(p, sizeof(p), path, key));
                }
        }
        return 0;
}

/* The member @key, or NULL (returning 0) when absent and optional. JSON null counts as absent. */
static int member(struct json_object *obj, const char *key, bool required, const char *path,
                  struct json_object **ret, BerthError *err)
{
        struct json_object *v = NULL;
        char p[512];

        if (!json_object_object_get_ex(obj, key, &v) || !v) {
                if (required)
                        return error_setx(err, -EINVAL, "%s: missing",
                                          sched_json_path(p, sizeof(p), path, key));
                v = NULL;
        }
        *ret = v;
        return 0;
}

int sched_json_get_string(struct json_object *obj, const char *key, bool required, const char *path,
                          const char **ret, BerthError *err)
{
        struct json_object *v = NULL;
        char p[512];
        int r;

        r = member(obj, key, required, path, &v, err);
        if (r < 0)
                return r;
        if (!v) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return error_setx(err, -EINVAL, "%s: must be a string",
                                  sched_json_path(p, sizeof(p), path, key));
        if (json_object_get_string_len(v) == 0)
                return error_setx(err, -EINVAL, "%s: must not be empty",
                                  sched_json_path(p, sizeof(p), path, key));
        *ret = json_object_get_string(v);
        return 0;
}

int sched_json_get_int(struct json_object *obj, const char *key, bool required, int64_t min, int64_t max,
                       const char *path, int64_t *ret, BerthError *err)
{
        struct json_object *v = NULL;
        char p[512];
        int64_t i;
        int r;

        r = member(obj, key, required, path, &v, err);
        if (r < 0 || !v)
                return r;
        sched_json_path(p, sizeof(p), path, key);
        if (!json_object_is_type(v, json_type_int))
                return error_setx(err, -EINVAL, "%s: must be an integer", p);
        /* json-c clamps integers beyond 64 bits to the limits: the limits themselves are refused. */
        i = json_object_get_int64(v);
        if (i == INT64_MAX || i == INT64_MIN || i < min || i > max)
                return error_setx(err, -ERANGE, "%s: %s out of range [%" PRId64 ", %" PRId64 "]", p,
                                  json_object_get_string(v), min, max);
        *ret = i;
        return 0;
}

int sched_json_get_quantity(struct json_object *obj, const char *key, bool required, bool millis,
                            const char *path, uint64_t *ret, BerthError *err)
{
        struct json_object *v = NULL;
        char p[512];
        int r;

        r = member(obj, key, required, path, &v, err);
        if (r < 0 || !v)
                return r;
        r = sched_quantity_from_json(v, millis, ret, err);
        if (r < 0)
                error_prefix(err, "%s: ", sched_json_path(p, sizeof(p), path, key));
        return r;
}
