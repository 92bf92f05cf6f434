/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* update: new limits for a live container, remembered in its saved config. */

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <json-c/json.h>

#include "basic/fileio.h"
#include "container.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

/* Objects merge key by key; anything else replaces. */
static int json_merge(json_object *dst, json_object *src)
{
        json_object_object_foreach (src, key, val) {
                json_object *old;
                if (json_object_is_type(val, json_type_object) &&
                    json_object_object_get_ex(dst, key, &old) &&
                    json_object_is_type(old, json_type_object)) {
                        int r = json_merge(old, val);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (json_object_object_add(dst, key, json_object_get(val)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int save_resources(Container *c, json_object *update, BerthError *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_object_putp) json_object *cfg = NULL;
        json_object *linux_obj, *res;
        int r;

        r = read_full_file_at(c->dir_fd, CONFIG_FILE, 16 << 20, &text, NULL);
        if (r < 0)
                return error_set(err, r, "read saved config");
        cfg = json_tokener_parse(text);
        if (!cfg)
                return error_setx(err, -EBADMSG, "saved config of \"%s\" is corrupt", c->id);
        if (!json_object_object_get_ex(cfg, "linux", &linux_obj)) {
                linux_obj = json_object_new_object();
                if (!linux_obj || json_object_object_add(cfg, "linux", linux_obj) < 0)
                        return -ENOMEM;
        }
        if (!json_object_object_get_ex(linux_obj, "resources", &res)) {
                res = json_object_new_object();
                if (!res || json_object_object_add(linux_obj, "resources", res) < 0)
                        return -ENOMEM;
        }
        r = json_merge(res, update);
        if (r < 0)
                return r;
        const char *out = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
        r = write_file_atomic_at(c->dir_fd, CONFIG_FILE, out, strlen(out), 0600, 0);
        if (r < 0)
                return error_set(err, r, "save updated config");
        return 0;
}

int container_update(int root_fd, const char *id, const char *resources_json, BerthError *err)
{
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        _cleanup_(json_object_putp) json_object *obj = NULL;
        int r;

        r = container_open(root_fd, id, LOCK_EX, &c, err);
        if (r < 0)
                return r;
        if (c->state->status == CONTAINER_STOPPED)
                return error_setx(err, -ESRCH, "container \"%s\" is stopped", id);
        if (!c->cgroup)
                return error_setx(err, -EOPNOTSUPP, "container \"%s\" has no cgroup (cgroups disabled)", id);
        enum json_tokener_error jerr;
        obj = json_tokener_parse_verbose(resources_json, &jerr);
        if (!obj || !json_object_is_type(obj, json_type_object))
                return error_setx(err, -EINVAL, "resources: invalid JSON (%s)",
                                  obj ? "not an object" : json_tokener_error_desc(jerr));
        r = cgroup_resources_parse(obj, "resources", &res, err);
        if (r < 0)
                return r;
        r = cgroup_apply(c->cgroup, res, true, err);
        if (r < 0)
                return r;
        return save_resources(c, obj, err);
}
