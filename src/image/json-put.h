/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Building JSON documents with json-c where every failure is -ENOMEM and nothing leaks. */

#include <errno.h>

#include <json-c/json.h>

/* obj[key] = v, taking @v; -ENOMEM when @v is NULL (a failed constructor) or the add fails. */
static inline int json_put_member(struct json_object *obj, const char *key, struct json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(obj, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* Appends @v to @array, taking it; -ENOMEM as json_put_member(). */
static inline int json_put_element(struct json_object *array, struct json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(array, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}
