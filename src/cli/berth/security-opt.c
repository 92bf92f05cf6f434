/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "basic/strv.h"
#include "image/seccomp-profile.h"
#include "oci/default-spec.h"
#include "runtime/seccomp.h"
#include "security-opt.h"

static inline void json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}

/* The bounding set of the default spec: what berth run gives a container. */
static int default_bounding(char ***ret)
{
        _cleanup_free_ char *spec = oci_default_spec_render(false);
        _cleanup_(json_putp) struct json_object *doc = NULL;
        _cleanup_strv_free_ char **caps = NULL;
        struct json_object *process, *c, *bounding;

        if (!spec)
                return -ENOMEM;
        doc = json_tokener_parse(spec);
        if (!doc)
                return -ENOMEM;
        if (json_object_object_get_ex(doc, "process", &process) &&
            json_object_object_get_ex(process, "capabilities", &c) &&
            json_object_object_get_ex(c, "bounding", &bounding))
                for (size_t i = 0; i < json_object_array_length(bounding); i++)
                        if (strv_extend(&caps,
                                        json_object_get_string(json_object_array_get_idx(bounding, i))) < 0)
                                return -ENOMEM;
        *ret = TAKE_PTR(caps);
        return 0;
}

/*
 * Everything berth-runtime would refuse at create, refused now: the file, Docker's keys, then
 * the runtime's own parser and compiler on the result (for the default bounding set).
 */
static int profile_check(const char *path, BerthError *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **bounding = NULL;
        _cleanup_(json_putp) struct json_object *profile = NULL;
        _cleanup_(seccomp_plan_freep) SeccompPlan *plan = NULL;
        int r;

        r = image_seccomp_profile_read(path, &text, err);
        if (r < 0)
                return r;
        r = default_bounding(&bounding);
        if (r < 0)
                return r;
        r = image_seccomp_profile_resolve(text, path, bounding, NULL, &profile, err);
        if (r < 0)
                return r;
        r = seccomp_config_parse(profile, "linux.seccomp", &plan, err);
        if (r < 0)
                error_prefix(err, "seccomp profile \"%s\": ", path);
        return r;
}

int berth_security_opt_parse(const char *opt, BundleOptions *o)
{
        size_t klen = strcspn(opt, "=:");
        const char *value = opt[klen] ? opt + klen + 1 : NULL;
        BerthError err = {};
        int r;

        if (klen == strlen("seccomp") && strncmp(opt, "seccomp", klen) == 0 && value && *value) {
                if (streq(value, "unconfined")) {
                        o->seccomp = BUNDLE_SECCOMP_UNCONFINED;
                        return 0;
                }
                if (streq(value, "builtin")) {
                        o->seccomp = BUNDLE_SECCOMP_DEFAULT;
                        return 0;
                }
                r = profile_check(value, &err);
                if (r < 0) {
                        fprintf(stderr, "berth: run: --security-opt: %s\n", error_message(&err, r));
                        return r == -ENOMEM ? r : -EINVAL;
                }
                o->seccomp = BUNDLE_SECCOMP_PROFILE;
                o->seccomp_profile = value;
                return 0;
        }
        if (klen == strlen("no-new-privileges") && strncmp(opt, "no-new-privileges", klen) == 0) {
                if (!value || streq(value, "true"))
                        return 0;
                fprintf(stderr,
                        "berth: run: --security-opt %s: berth run always sets no-new-privileges; only "
                        "\"true\" is accepted\n",
                        opt);
                return -EINVAL;
        }
        fprintf(stderr,
                "berth: run: --security-opt \"%s\": unknown option (seccomp=unconfined, seccomp=builtin, "
                "seccomp=PROFILE.json, no-new-privileges)\n",
                opt);
        return -EINVAL;
}
