/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Typed access to a parsed JSON document with field paths in error messages
 * ("linux.uidMappings[1].size: must be an integer"). Internal to src/oci/.
 *
 * The member getters share one convention: they return 1 when the member was
 * present and valid (and *ret was written), 0 when it is absent or null (and
 * *ret is untouched; -EINVAL "<path>: is required" instead when @required),
 * and a negative errno with @err filled when it is present but wrong.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "basic/error.h"

#define OCI_JSON_PATH_MAX 256

static inline void oci_json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}
#ifndef _cleanup_json_
#define _cleanup_json_ _cleanup_(oci_json_putp)
#endif

/**
 * oci_json_parse() - parse @text (exactly @len bytes) as one strict JSON document.
 * Malformed input, an integer out of 64-bit range and trailing non-space bytes are
 * refused with "invalid JSON at offset N: <why>". The caller owns *@ret.
 */
int oci_json_parse(const char *text, size_t len, struct json_object **ret, BerthError *err);

/* Field paths, only used in messages: long paths are truncated, never overflow. */
/** oci_json_path_key() - "parent.key", or "key" when @parent is empty. */
const char *oci_json_path_key(char buf[static OCI_JSON_PATH_MAX], const char *parent, const char *key);
/** oci_json_path_index() - "parent[i]". */
const char *oci_json_path_index(char buf[static OCI_JSON_PATH_MAX], const char *parent, size_t i);
/** oci_json_path_map() - "parent[\"key\"]", for user-chosen keys that may contain dots. */
const char *oci_json_path_map(char buf[static OCI_JSON_PATH_MAX], const char *parent, const char *key);

/** oci_json_check_type() - -EINVAL with "<path>: must be a string|an integer|..." on a mismatch. */
int oci_json_check_type(struct json_object *v, json_type type, const char *path, BerthError *err);

/* Value checks: @v is the value itself, @path its field path. */
int oci_json_value_string(struct json_object *v, const char *path, const char **ret, BerthError *err);
int oci_json_value_int64(struct json_object *v, const char *path, int64_t min, int64_t max, int64_t *ret,
                         BerthError *err);
int oci_json_value_uint64(struct json_object *v, const char *path, uint64_t min, uint64_t max, uint64_t *ret,
                          BerthError *err);

/* Members of the object @obj, whose own path is @parent. */
int oci_json_member(struct json_object *obj, const char *key, json_type type, bool required,
                    const char *parent, struct json_object **ret, BerthError *err);
/** oci_json_get_string() - a copy of the string in *@ret (which must be NULL on entry). */
int oci_json_get_string(struct json_object *obj, const char *key, bool required, const char *parent,
                        char **ret, BerthError *err);
int oci_json_get_bool(struct json_object *obj, const char *key, const char *parent, bool *ret,
                      BerthError *err);
int oci_json_get_int64(struct json_object *obj, const char *key, bool required, int64_t min, int64_t max,
                       const char *parent, int64_t *ret, BerthError *err);
int oci_json_get_uint64(struct json_object *obj, const char *key, bool required, uint64_t min, uint64_t max,
                        const char *parent, uint64_t *ret, BerthError *err);
/** oci_json_get_strv() - an array of strings as a new NULL-terminated vector (empty array: empty vector). */
int oci_json_get_strv(struct json_object *obj, const char *key, bool required, const char *parent,
                      char ***ret, BerthError *err);
