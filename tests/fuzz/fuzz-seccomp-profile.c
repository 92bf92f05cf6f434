/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * `--security-opt seccomp=FILE`: image_seccomp_profile_resolve() on a Docker- or OCI-format
 * profile, for two bounding sets and two hosts, then the result through berth-runtime's
 * seccomp_config_parse() as `berth run` checks it. Whatever is resolved must be an object that
 * keeps none of Docker's own keys.
 */

#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "image/seccomp-profile.h"
#include "runtime/seccomp.h"

#define INPUT_MAX (64U * 1024U)

static void check_resolved(struct json_object *p)
{
        struct json_object *calls;

        FUZZ_CHECK(json_object_is_type(p, json_type_object));
        FUZZ_CHECK(!json_object_object_get_ex(p, "archMap", NULL));
        if (!json_object_object_get_ex(p, "syscalls", &calls))
                return;
        for (size_t i = 0; i < json_object_array_length(calls); i++) {
                struct json_object *rule = json_object_array_get_idx(calls, i);
                FUZZ_CHECK(!json_object_object_get_ex(rule, "includes", NULL));
                FUZZ_CHECK(!json_object_object_get_ex(rule, "excludes", NULL));
                FUZZ_CHECK(!json_object_object_get_ex(rule, "name", NULL));
                FUZZ_CHECK(!json_object_object_get_ex(rule, "comment", NULL));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char *caps[] = {"CAP_KILL", "CAP_SYS_ADMIN", NULL};
        static const SeccompHost hosts[] = {
                {"amd64", "SCMP_ARCH_X86_64", 6, 1},
                {NULL, NULL, 0, 0},
        };
        char *text;

        if (size > INPUT_MAX)
                return 0;
        text = malloc(size + 1);
        FUZZ_CHECK(text);
        memcpy(text, data, size);
        text[size] = '\0';
        for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
                struct json_object *p = NULL;
                BerthError err = {0};
                int r = image_seccomp_profile_resolve(text, "fuzz", h == 0 ? caps : NULL, &hosts[h], &p,
                                                      &err);
                fuzz_check_result(r, &err);
                if (r < 0) {
                        FUZZ_CHECK(!p);
                        continue;
                }
                check_resolved(p);
                SeccompPlan *plan = NULL;
                err = (BerthError){0};
                r = seccomp_config_parse(p, "linux.seccomp", &plan, &err);
                fuzz_check_result(r, &err);
                seccomp_plan_free(plan);
                json_object_put(p);
        }
        free(text);
        return 0;
}
