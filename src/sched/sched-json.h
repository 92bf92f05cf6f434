/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Field access for the scheduler's JSON inputs, internal to src/sched. Every failure message
 * starts with the field's path ("nodes[3].gpus[1].memory: ..."); @path is the parent's path
 * ("" for the top level).
 */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "basic/error.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put)

/** sched_json_parse_text() - one JSON value from @text (nothing but whitespace after it); *@ret owns it. */
int sched_json_parse_text(const char *text, struct json_object **ret, BerthError *err);

/** sched_json_path() - "@parent.@key" (or "@key" at the top) into @buf, truncated if it must. */
const char *sched_json_path(char *buf, size_t size, const char *parent, const char *key);

/** sched_json_check_object() - -EINVAL unless @v is an object whose keys are all in @allowed (NULL-ended).
 */
int sched_json_check_object(struct json_object *v, const char *const *allowed, const char *path,
                            BerthError *err);

/** sched_json_get_string() - a non-empty string member, borrowed from @obj; NULL when absent and optional.
 */
int sched_json_get_string(struct json_object *obj, const char *key, bool required, const char *path,
                          const char **ret, BerthError *err);

/** sched_json_get_int() - an integer member within [@min, @max]; @ret is untouched when absent and optional.
 */
int sched_json_get_int(struct json_object *obj, const char *key, bool required, int64_t min, int64_t max,
                       const char *path, int64_t *ret, BerthError *err);

/** sched_json_get_quantity() - a cpu (@millis) or memory quantity member; untouched when absent and
 * optional. */
int sched_json_get_quantity(struct json_object *obj, const char *key, bool required, bool millis,
                            const char *path, uint64_t *ret, BerthError *err);
