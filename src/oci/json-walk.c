/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "basic/strv.h"
#include "json-walk.h"

static inline void json_tokener_freep(struct json_tokener **p)
{
        if (*p)
                json_tokener_free(*p);
}

static bool is_json_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether the decimal digits fit in int64 (negative) or uint64; leading zeros are refused by json-c. */
static bool integer_digits_fit(const char *digits, size_t n, bool negative)
{
        const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
        size_t limit_len = strlen(limit);

        if (n != limit_len)
                return n < limit_len;
        return memcmp(digits, limit, n) <= 0;
}

/*
 * json-c is lax where JSON is not: even in strict mode it takes single-quoted strings,
 * NaN and Infinity, raw control characters in strings, and it clamps integers past 64
 * bits without a word. This pass over an already accepted document refuses all of that,
 * so that a config means the same to us as to every other runtime.
 */
static int json_scan_strict(const char *text, size_t len, size_t *ret_offset, const char **ret_why)
{
        size_t i = 0;

        while (i < len) {
                char c = text[i];

                if (c == '"') {
                        for (i++;; i++) {
                                if (i >= len) {
                                        *ret_why = "unterminated string";
                                        *ret_offset = i;
                                        return -EINVAL;
                                }
                                if (text[i] == '"')
                                        break;
                                if ((unsigned char)text[i] < 0x20) {
                                        *ret_why = "control character in string";
                                        *ret_offset = i;
                                        return -EINVAL;
                                }
                                if (text[i] == '\\')
                                        i++;
                        }
                        i++;
                } else if (c == '-' || is_digit(c)) {
                        size_t start = i, digits;
                        bool negative = c == '-', integral = true;

                        if (negative)
                                i++;
                        digits = i;
                        while (i < len && is_digit(text[i]))
                                i++;
                        if (i == digits) {
                                *ret_why = "unexpected character";
                                *ret_offset = start;
                                return -EINVAL;
                        }
                        size_t digits_end = i;
                        while (i < len && (is_digit(text[i]) || text[i] == '.' || text[i] == 'e' ||
                                           text[i] == 'E' || text[i] == '+' || text[i] == '-')) {
                                integral = false;
                                i++;
                        }
                        if (integral && !integer_digits_fit(text + digits, digits_end - digits, negative)) {
                                *ret_why = "integer out of range";
                                *ret_offset = start;
                                return -EINVAL;
                        }
                } else if (is_alpha(c)) {
                        size_t start = i;

                        while (i < len && is_alpha(text[i]))
                                i++;
                        size_t n = i - start;
                        if (!((n == 4 && memcmp(text + start, "true", 4) == 0) ||
                              (n == 5 && memcmp(text + start, "false", 5) == 0) ||
                              (n == 4 && memcmp(text + start, "null", 4) == 0))) {
                                *ret_why = "unexpected character";
                                *ret_offset = start;
                                return -EINVAL;
                        }
                } else if (is_json_space(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == ':' ||
                           c == ',') {
                        i++;
                } else {
                        *ret_why = "unexpected character";
                        *ret_offset = i;
                        return -EINVAL;
                }
        }
        return 0;
}

int oci_json_parse(const char *text, size_t len, struct json_object **ret, BerthError *err)
{
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_json_ struct json_object *obj = NULL;
        enum json_tokener_error e;
        const char *why;
        size_t end, offset;

        assert(text || len == 0);
        assert(ret);

        if (len > INT_MAX)
                return error_setx(err, -EFBIG, "invalid JSON: document larger than %d bytes", INT_MAX);

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        obj = json_tokener_parse_ex(tok, text ? text : "", (int)len);
        e = json_tokener_get_error(tok);
        if (e == json_tokener_continue) {
                /* A NUL ends a top-level number or literal; anything else really was cut short. */
                obj = json_tokener_parse_ex(tok, "", 1);
                if (json_tokener_get_error(tok) != json_tokener_success)
                        return error_setx(err, -EINVAL, "invalid JSON at offset %zu: %s", len,
                                          json_tokener_error_desc(json_tokener_error_parse_eof));
                end = len;
        } else if (e != json_tokener_success)
                return error_setx(err, -EINVAL, "invalid JSON at offset %zu: %s",
                                  json_tokener_get_parse_end(tok), json_tokener_error_desc(e));
        else
                end = json_tokener_get_parse_end(tok);

        for (size_t i = end; i < len; i++)
                if (!is_json_space(text[i]))
                        return error_setx(err, -EINVAL,
                                          "invalid JSON at offset %zu: trailing garbage after the document",
                                          i);

        if (json_scan_strict(text, end, &offset, &why) < 0)
                return error_setx(err, -EINVAL, "invalid JSON at offset %zu: %s", offset, why);

        *ret = TAKE_PTR(obj);
        return 0;
}

const char *oci_json_path_key(char buf[static OCI_JSON_PATH_MAX], const char *parent, const char *key)
{
        snprintf(buf, OCI_JSON_PATH_MAX, "%s%s%s", parent, parent[0] ? "." : "", key);
        return buf;
}

const char *oci_json_path_index(char buf[static OCI_JSON_PATH_MAX], const char *parent, size_t i)
{
        snprintf(buf, OCI_JSON_PATH_MAX, "%s[%zu]", parent, i);
        return buf;
}

const char *oci_json_path_map(char buf[static OCI_JSON_PATH_MAX], const char *parent, const char *key)
{
        snprintf(buf, OCI_JSON_PATH_MAX, "%s[\"%s\"]", parent, key);
        return buf;
}

static const char *json_type_noun(json_type type)
{
        switch (type) {
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        case json_type_null:
                break;
        }
        return "null";
}

int oci_json_check_type(struct json_object *v, json_type type, const char *path, BerthError *err)
{
        if (!json_object_is_type(v, type))
                return error_setx(err, -EINVAL, "%s: must be %s", path, json_type_noun(type));
        return 0;
}

int oci_json_value_string(struct json_object *v, const char *path, const char **ret, BerthError *err)
{
        int r = oci_json_check_type(v, json_type_string, path, err);
        if (r < 0)
                return r;
        const char *s = json_object_get_string(v);
        /* "\u0000" would silently cut a path or an argument short. */
        if (strlen(s) != (size_t)json_object_get_string_len(v))
                return error_setx(err, -EINVAL, "%s: must not contain NUL characters", path);
        *ret = s;
        return 0;
}

int oci_json_value_int64(struct json_object *v, const char *path, int64_t min, int64_t max, int64_t *ret,
                         BerthError *err)
{
        int r = oci_json_check_type(v, json_type_int, path, err);
        if (r < 0)
                return r;
        int64_t i = json_object_get_int64(v);
        /* json-c clamps uint64 values above INT64_MAX to INT64_MAX. */
        bool clamped = i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX;
        if (clamped || i < min || i > max)
                return error_setx(err, -EINVAL, "%s: must be between %" PRId64 " and %" PRId64, path, min,
                                  max);
        *ret = i;
        return 0;
}

int oci_json_value_uint64(struct json_object *v, const char *path, uint64_t min, uint64_t max, uint64_t *ret,
                          BerthError *err)
{
        int r = oci_json_check_type(v, json_type_int, path, err);
        if (r < 0)
                return r;
        bool negative = json_object_get_int64(v) < 0;
        uint64_t u = json_object_get_uint64(v);
        if (negative || u < min || u > max)
                return error_setx(err, -EINVAL, "%s: must be between %" PRIu64 " and %" PRIu64, path, min,
                                  max);
        *ret = u;
        return 0;
}

int oci_json_member(struct json_object *obj, const char *key, json_type type, bool required,
                    const char *parent, struct json_object **ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v = NULL;
        int r;

        /* A null member is the same as an absent one, as for encoding/json. */
        if (!json_object_object_get_ex(obj, key, &v) || !v) {
                if (required)
                        return error_setx(err, -EINVAL, "%s: is required",
                                          oci_json_path_key(path, parent, key));
                return 0;
        }
        r = oci_json_check_type(v, type, oci_json_path_key(path, parent, key), err);
        if (r < 0)
                return r;
        *ret = v;
        return 1;
}

int oci_json_get_string(struct json_object *obj, const char *key, bool required, const char *parent,
                        char **ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v;
        const char *s;
        int r;

        assert(!*ret);

        r = oci_json_member(obj, key, json_type_string, required, parent, &v, err);
        if (r <= 0)
                return r;
        r = oci_json_value_string(v, oci_json_path_key(path, parent, key), &s, err);
        if (r < 0)
                return r;
        *ret = strdup(s);
        if (!*ret)
                return -ENOMEM;
        return 1;
}

int oci_json_get_bool(struct json_object *obj, const char *key, const char *parent, bool *ret,
                      BerthError *err)
{
        struct json_object *v;
        int r;

        r = oci_json_member(obj, key, json_type_boolean, false, parent, &v, err);
        if (r <= 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 1;
}

int oci_json_get_int64(struct json_object *obj, const char *key, bool required, int64_t min, int64_t max,
                       const char *parent, int64_t *ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v;
        int r;

        r = oci_json_member(obj, key, json_type_int, required, parent, &v, err);
        if (r <= 0)
                return r;
        r = oci_json_value_int64(v, oci_json_path_key(path, parent, key), min, max, ret, err);
        return r < 0 ? r : 1;
}

int oci_json_get_uint64(struct json_object *obj, const char *key, bool required, uint64_t min, uint64_t max,
                        const char *parent, uint64_t *ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v;
        int r;

        r = oci_json_member(obj, key, json_type_int, required, parent, &v, err);
        if (r <= 0)
                return r;
        r = oci_json_value_uint64(v, oci_json_path_key(path, parent, key), min, max, ret, err);
        return r < 0 ? r : 1;
}

int oci_json_get_strv(struct json_object *obj, const char *key, bool required, const char *parent,
                      char ***ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        _cleanup_strv_free_ char **l = NULL;
        struct json_object *v;
        int r;

        r = oci_json_member(obj, key, json_type_array, required, parent, &v, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, parent, key);

        size_t n = json_object_array_length(v);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *s;

                r = oci_json_value_string(json_object_array_get_idx(v, i),
                                          oci_json_path_index(epath, path, i), &s, err);
                if (r < 0)
                        return r;
                l[i] = strdup(s);
                if (!l[i])
                        return -ENOMEM;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 1;
}
