/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

#include "quantity.h"
#include "sched-json.h"

/*
 * json-c keeps the last of two equal keys in an object and drops the first without a word. The
 * scheduler's inputs refuse that like any other bad field, so the text (already parsed, hence
 * valid JSON) is scanned once more for equal keys in one object. Keys are compared as written
 * (escapes not decoded).
 */
typedef struct KeyRef {
        const char *s;
        size_t n;
        size_t order;
} KeyRef;

static int key_cmp(const void *a, const void *b)
{
        const KeyRef *x = a, *y = b;
        int k = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);

        if (k != 0)
                return k;
        if (x->n != y->n)
                return x->n < y->n ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

static void skip_space(const char **p)
{
        while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
                (*p)++;
}

/* *p at a string's opening quote: past its closing one; its raw contents in @ret. */
static void scan_string(const char **p, KeyRef *ret)
{
        const char *s = ++*p;

        while (**p != '"')
                *p += **p == '\\' ? 2 : 1;
        ret->s = s;
        ret->n = (size_t)(*p - s);
        (*p)++;
}

/* Where the scan is: a key of an object, or an index of an array, per level. The path is only
 * written out for a message, so a clean document costs no formatting. */
typedef struct Frame {
        KeyRef key; /* s == NULL: an array element */
        size_t index;
} Frame;

#define SCAN_DEPTH 64

static int duplicate(const Frame *frames, size_t depth, const KeyRef *key, BerthError *err)
{
        char path[512];
        size_t len = 0;

        path[0] = '\0';
        for (size_t i = 0; i < depth && len < sizeof(path); i++) {
                if (frames[i].key.s)
                        len += (size_t)snprintf(path + len, sizeof(path) - len, "%s%.*s", len ? "." : "",
                                                (int)frames[i].key.n, frames[i].key.s);
                else
                        len += (size_t)snprintf(path + len, sizeof(path) - len, "[%zu]", frames[i].index);
        }
        if (len >= sizeof(path))
                len = sizeof(path) - 1;
        return error_setx(err, -EINVAL, "%s%s%.*s: duplicate key", path, len ? "." : "", (int)key->n,
                          key->s);
}

static int scan_value(const char **p, Frame *frames, size_t depth, BerthError *err);

static int scan_object(const char **p, Frame *frames, size_t depth, BerthError *err)
{
        KeyRef small[16], *keys = small;
        _cleanup_free_ KeyRef *heap = NULL;
        size_t n = 0, cap = ELEMENTSOF(small), dup = SIZE_MAX;
        int r;

        (*p)++;
        for (skip_space(p); **p != '}';) {
                KeyRef k;

                if (n == cap) {
                        KeyRef *t = realloc(heap, (cap *= 2) * sizeof(KeyRef));
                        if (!t)
                                return -ENOMEM;
                        if (!heap)
                                memcpy(t, small, sizeof(small));
                        keys = heap = t;
                }
                scan_string(p, &k);
                k.order = n;
                keys[n++] = k;
                skip_space(p);
                (*p)++; /* : */
                skip_space(p);
                if (depth < SCAN_DEPTH)
                        frames[depth] = (Frame){.key = k};
                r = scan_value(p, frames, depth + 1, err);
                if (r < 0)
                        return r;
                skip_space(p);
                if (**p == ',') {
                        (*p)++;
                        skip_space(p);
                }
        }
        (*p)++;
        if (n < 2)
                return 0;
        if (n <= ELEMENTSOF(small)) {
                /* a handful of keys: comparing each pair beats sorting them */
                for (size_t i = 1; i < n; i++)
                        for (size_t k = 0; k < i; k++)
                                if (keys[i].n == keys[k].n && memcmp(keys[i].s, keys[k].s, keys[i].n) == 0)
                                        return duplicate(frames, MIN(depth, (size_t)SCAN_DEPTH), &keys[i],
                                                         err);
                return 0;
        }
        qsort(keys, n, sizeof(KeyRef), key_cmp);
        for (size_t i = 1; i < n; i++)
                if (keys[i].n == keys[i - 1].n && memcmp(keys[i].s, keys[i - 1].s, keys[i].n) == 0 &&
                    (dup == SIZE_MAX || keys[i].order < keys[dup].order))
                        dup = i;
        return dup == SIZE_MAX ? 0 : duplicate(frames, MIN(depth, (size_t)SCAN_DEPTH), &keys[dup], err);
}

static int scan_value(const char **p, Frame *frames, size_t depth, BerthError *err)
{
        int r;

        if (**p == '{')
                return scan_object(p, frames, depth, err);
        if (**p == '"') {
                KeyRef ignored;

                scan_string(p, &ignored);
                return 0;
        }
        if (**p != '[') {
                /* a number, true, false or null: up to the next separator */
                while (**p && !strchr(",]} \t\r\n", **p))
                        (*p)++;
                return 0;
        }
        (*p)++;
        skip_space(p);
        for (size_t i = 0; **p != ']'; i++) {
                if (depth < SCAN_DEPTH)
                        frames[depth] = (Frame){.index = i};
                r = scan_value(p, frames, depth + 1, err);
                if (r < 0)
                        return r;
                skip_space(p);
                if (**p == ',') {
                        (*p)++;
                        skip_space(p);
                }
        }
        (*p)++;
        return 0;
}

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
        {
                Frame frames[SCAN_DEPTH];
                const char *p = text + strspn(text, " \t\r\n");
                int r = scan_value(&p, frames, 0, err);

                if (r < 0) {
                        json_object_put(root);
                        return r;
                }
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
