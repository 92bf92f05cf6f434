/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "basic/strv.h"
#include "config-internal.h"

#define OCI_CONSOLE_SIZE_MAX  65535 /* struct winsize holds unsigned short */
#define OCI_OOM_SCORE_ADJ_MIN (-1000)
#define OCI_OOM_SCORE_ADJ_MAX 1000

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
};

int oci_rlimit_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++)
                if (streq(rlimit_table[i].name, s))
                        return rlimit_table[i].resource;
        return -EINVAL;
}

static const char *const cap_set_table[_CAP_SET_MAX] = {
        [CAP_SET_BOUNDING] = "bounding",       [CAP_SET_EFFECTIVE] = "effective",
        [CAP_SET_INHERITABLE] = "inheritable", [CAP_SET_PERMITTED] = "permitted",
        [CAP_SET_AMBIENT] = "ambient",
};

/*
 * The spec names capabilities as capabilities(7) does, "CAP_SYS_ADMIN". libcap would
 * also take "cap_sys_admin", "Cap_Sys_Admin" or a bare number ("21"); runc takes none
 * of those, so neither do we.
 */
static int capability_from_name(const char *name)
{
        cap_value_t v;

        if (strncmp(name, "CAP_", 4) != 0 || !name[4])
                return -EINVAL;
        for (const char *p = name + 4; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return -EINVAL;
        if (cap_from_name(name, &v) < 0 || v < 0)
                return -EINVAL;
        return (int)v;
}

static void capabilities_free(OciCapabilities *caps)
{
        if (!caps)
                return;
        for (int s = 0; s < _CAP_SET_MAX; s++)
                free(caps->caps[s]);
        free(caps);
}

static int capabilities_parse(struct json_object *obj, const char *path, OciCapabilities *caps,
                              BerthError *err)
{
        char spath[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        for (int s = 0; s < _CAP_SET_MAX; s++) {
                r = oci_json_member(obj, cap_set_table[s], json_type_array, false, path, &list, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                oci_json_path_key(spath, path, cap_set_table[s]);

                size_t n = json_object_array_length(list);
                caps->caps[s] = calloc(n ? n : 1, sizeof(int));
                if (!caps->caps[s])
                        return -ENOMEM;
                caps->n_caps[s] = n;
                for (size_t i = 0; i < n; i++) {
                        const char *name;

                        oci_json_path_index(epath, spath, i);
                        r = oci_json_value_string(json_object_array_get_idx(list, i), epath, &name, err);
                        if (r < 0)
                                return r;
                        int cap = capability_from_name(name);
                        if (cap < 0)
                                return error_setx(err, -EINVAL, "%s: unknown capability \"%s\"", epath,
                                                  name);
                        caps->caps[s][i] = cap;
                }
        }
        return 0;
}

static int process_parse_capabilities(struct json_object *obj, const char *field, OciProcess *p,
                                      BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v;
        int r;

        r = oci_json_member(obj, "capabilities", json_type_object, false, field, &v, err);
        if (r <= 0)
                return r;
        p->capabilities = calloc(1, sizeof(OciCapabilities));
        if (!p->capabilities)
                return -ENOMEM;
        return capabilities_parse(v, oci_json_path_key(path, field, "capabilities"), p->capabilities, err);
}

static int rlimit_parse(struct json_object *v, const char *path, const OciRlimit *previous,
                        size_t n_previous, OciRlimit *rl, BerthError *err)
{
        char tpath[OCI_JSON_PATH_MAX];
        _cleanup_free_ char *type = NULL;
        int r;

        r = oci_json_check_type(v, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(v, "type", true, path, &type, err);
        if (r < 0)
                return r;
        oci_json_path_key(tpath, path, "type");
        rl->resource = oci_rlimit_from_string(type);
        if (rl->resource < 0)
                return error_setx(err, -EINVAL, "%s: unknown rlimit \"%s\"", tpath, type);
        for (size_t i = 0; i < n_previous; i++)
                if (previous[i].resource == rl->resource)
                        return error_setx(err, -EINVAL, "%s: duplicate rlimit \"%s\"", tpath, type);

        r = oci_json_get_uint64(v, "soft", true, 0, UINT64_MAX, path, &rl->soft, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(v, "hard", true, 0, UINT64_MAX, path, &rl->hard, err);
        if (r < 0)
                return r;
        if (rl->soft > rl->hard)
                return error_setx(err, -EINVAL, "%s: soft limit %" PRIu64 " exceeds hard limit %" PRIu64,
                                  path, rl->soft, rl->hard);
        return 0;
}

static int process_parse_rlimits(struct json_object *obj, const char *field, OciProcess *p, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(obj, "rlimits", json_type_array, false, field, &list, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "rlimits");

        size_t n = json_object_array_length(list);
        p->rlimits = calloc(n ? n : 1, sizeof(OciRlimit));
        if (!p->rlimits)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = rlimit_parse(json_object_array_get_idx(list, i), oci_json_path_index(epath, path, i),
                                 p->rlimits, i, &p->rlimits[i], err);
                if (r < 0)
                        return r;
                p->n_rlimits = i + 1;
        }
        return 0;
}

static int process_parse_user(struct json_object *obj, const char *field, OciUser *u, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], gpath[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *v, *gids;
        uint64_t umask_value;
        int r;

        /* Absent: root, as runc and crun read it. */
        r = oci_json_member(obj, "user", json_type_object, false, field, &v, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "user");

        r = oci_parse_id(v, "uid", true, path, &u->uid, err);
        if (r < 0)
                return r;
        r = oci_parse_id(v, "gid", true, path, &u->gid, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(v, "umask", false, 0, 0777, path, &umask_value, err);
        if (r < 0)
                return r;
        if (r > 0) {
                u->has_umask = true;
                u->umask = (mode_t)umask_value;
        }
        r = oci_json_get_string(v, "username", false, path, &u->username, err);
        if (r < 0)
                return r;

        r = oci_json_member(v, "additionalGids", json_type_array, false, path, &gids, err);
        if (r <= 0)
                return r;
        oci_json_path_key(gpath, path, "additionalGids");
        size_t n = json_object_array_length(gids);
        u->additional_gids = calloc(n ? n : 1, sizeof(gid_t));
        if (!u->additional_gids)
                return -ENOMEM;
        u->n_additional_gids = n;
        for (size_t i = 0; i < n; i++) {
                uint64_t gid;

                r = oci_json_value_uint64(json_object_array_get_idx(gids, i),
                                          oci_json_path_index(epath, gpath, i), 0, UINT32_MAX - 1, &gid,
                                          err);
                if (r < 0)
                        return r;
                u->additional_gids[i] = (gid_t)gid;
        }
        return 0;
}

static int process_parse_args(struct json_object *obj, const char *field, OciProcess *p, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *v = NULL;
        int r;

        oci_json_path_key(path, field, "args");
        if (!json_object_object_get_ex(obj, "args", &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) == 0)
                return error_setx(err, -EINVAL, "%s: must be a non-empty array of strings", path);
        r = oci_json_get_strv(obj, "args", true, field, &p->args, err);
        if (r < 0)
                return r;
        if (!p->args[0][0])
                return error_setx(err, -EINVAL, "%s: must not be empty",
                                  oci_json_path_index(epath, path, 0));
        return 0;
}

static int process_parse_env(struct json_object *obj, const char *field, OciProcess *p, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        int r;

        r = oci_json_get_strv(obj, "env", false, field, &p->env, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "env");
        for (size_t i = 0; p->env[i]; i++) {
                const char *eq = strchr(p->env[i], '=');
                if (!eq || eq == p->env[i])
                        return error_setx(err, -EINVAL, "%s: must be KEY=VALUE, got \"%s\"",
                                          oci_json_path_index(epath, path, i), p->env[i]);
        }
        return 0;
}

static int process_parse_console_size(struct json_object *obj, const char *field, OciProcess *p,
                                      BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v;
        uint64_t height, width;
        int r;

        r = oci_json_member(obj, "consoleSize", json_type_object, false, field, &v, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "consoleSize");
        r = oci_json_get_uint64(v, "height", true, 0, OCI_CONSOLE_SIZE_MAX, path, &height, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(v, "width", true, 0, OCI_CONSOLE_SIZE_MAX, path, &width, err);
        if (r < 0)
                return r;
        p->has_console_size = true;
        p->console_height = (unsigned)height;
        p->console_width = (unsigned)width;
        return 0;
}

static int process_parse_into(struct json_object *obj, const char *field, OciProcess *p, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        int64_t oom;
        int r;

        r = oci_json_check_type(obj, json_type_object, field[0] ? field : "process", err);
        if (r < 0)
                return r;

        r = process_parse_args(obj, field, p, err);
        if (r < 0)
                return r;
        r = process_parse_env(obj, field, p, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(obj, "cwd", true, field, &p->cwd, err);
        if (r < 0)
                return r;
        if (!oci_path_is_absolute(p->cwd))
                return error_setx(err, -EINVAL, "%s: must be an absolute path",
                                  oci_json_path_key(path, field, "cwd"));
        r = oci_json_get_bool(obj, "terminal", field, &p->terminal, err);
        if (r < 0)
                return r;
        r = process_parse_console_size(obj, field, p, err);
        if (r < 0)
                return r;
        r = process_parse_user(obj, field, &p->user, err);
        if (r < 0)
                return r;
        r = process_parse_capabilities(obj, field, p, err);
        if (r < 0)
                return r;
        r = process_parse_rlimits(obj, field, p, err);
        if (r < 0)
                return r;
        r = oci_json_get_bool(obj, "noNewPrivileges", field, &p->no_new_privileges, err);
        if (r < 0)
                return r;
        r = oci_json_get_int64(obj, "oomScoreAdj", false, OCI_OOM_SCORE_ADJ_MIN, OCI_OOM_SCORE_ADJ_MAX,
                               field, &oom, err);
        if (r < 0)
                return r;
        if (r > 0) {
                p->has_oom_score_adj = true;
                p->oom_score_adj = (int)oom;
        }
        r = oci_json_get_string(obj, "apparmorProfile", false, field, &p->apparmor_profile, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(obj, "selinuxLabel", false, field, &p->selinux_label, err);
        if (r < 0)
                return r;
        return 0;
}

OciProcess *oci_process_free(OciProcess *p)
{
        if (!p)
                return NULL;
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->user.additional_gids);
        free(p->user.username);
        capabilities_free(p->capabilities);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p);
        return NULL;
}

int oci_process_parse(struct json_object *obj, const char *field, OciProcess **ret, BerthError *err)
{
        _cleanup_(oci_process_freep) OciProcess *p = NULL;
        int r;

        assert(ret);

        p = calloc(1, sizeof(OciProcess));
        if (!p)
                return -ENOMEM;
        r = process_parse_into(obj, field ? field : "", p, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int oci_process_parse_text(const char *text, size_t len, OciProcess **ret, BerthError *err)
{
        _cleanup_json_ struct json_object *root = NULL;
        int r;

        r = oci_json_parse(text, len, &root, err);
        if (r < 0)
                return error_set(err, r, "parse process");
        if (!json_object_is_type(root, json_type_object))
                return error_setx(err, -EINVAL, "process: must be an object");
        r = oci_process_parse(root, "", ret, err);
        if (r < 0)
                return error_set(err, r, "parse process");
        return 0;
}
