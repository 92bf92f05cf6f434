/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * linux.resources: cgroup_resources_parse() and, for its "devices" member, device_rules_from_json()
 * and the device filter builder. The input is parsed the way `update --resources` parses it: with
 * json-c's default (lax) tokener, so these parsers also see what the strict config reader refuses
 * (NaN, numbers past 64 bits, single quotes). A top-level array is taken as the devices list alone.
 */

#include <limits.h>

#include <json-c/json.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct json_tokener *tok;
        struct json_object *obj;

        if (size > INT_MAX)
                return 0;
        tok = json_tokener_new();
        FUZZ_CHECK(tok);
        obj = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        if (!obj && json_tokener_get_error(tok) == json_tokener_continue)
                obj = json_tokener_parse_ex(tok, "", 1); /* a NUL ends a top-level number */
        json_tokener_free(tok);
        if (!obj)
                return 0;

        if (json_object_is_type(obj, json_type_array))
                fuzz_devices(obj);
        else
                fuzz_resources(obj, "resources");
        json_object_put(obj);
        return 0;
}
