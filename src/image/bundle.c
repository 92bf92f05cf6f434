/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Image config -> config.json. The document is the default spec (the one `berth-runtime spec`
 * writes) parsed into json-c objects and edited, so the two never drift apart; the image
 * config is checked field by field first, so every refusal comes before any output.
 */

#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "basic/strv.h"
#include "image/json-put.h"
#include "image/bundle.h"
#include "image/seccomp-profile.h"
#include "oci/default-spec.h"

#define ROOT_FILE_MAX        (4U * 1024U * 1024U) /* /etc/passwd, /etc/group */
#define DEFAULT_PATH         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD_USEC      100000
#define IMAGE_CONFIG_MAX_LEN (8U * 1024U * 1024U)

static inline void json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}
#define _cleanup_jsonobj_ _cleanup_(json_putp)

static const char *const network_table[_BUNDLE_NETWORK_MAX] = {
        [BUNDLE_NETWORK_NONE] = "none",
        [BUNDLE_NETWORK_HOST] = "host",
};

BundleNetwork bundle_network_from_string(const char *s)
{
        for (size_t i = 0; s && i < ELEMENTSOF(network_table); i++)
                if (streq(s, network_table[i]))
                        return (BundleNetwork)i;
        return _BUNDLE_NETWORK_INVALID;
}

const char *bundle_network_to_string(BundleNetwork n)
{
        return n >= 0 && n < _BUNDLE_NETWORK_MAX ? network_table[n] : NULL;
}

void bundle_user_done(BundleUser *u)
{
        u->additional_gids = mfree(u->additional_gids);
        u->n_additional_gids = 0;
        u->home = mfree(u->home);
}

/* ---- /etc/passwd and /etc/group inside the rootfs ---- */

/* Read @path below the rootfs without ever leaving it; a missing file is an empty one. */
static int root_file_read(int rootfs_dirfd, const char *path, char **ret, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;

        fd = chase_in_root(rootfs_dirfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
        if (fd == -ENOENT) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
                *ret = TAKE_PTR(buf);
                return 0;
        }
        if (fd < 0)
                return error_set(err, fd, "open the image's %s", path);
        if (fstat(fd, &st) < 0)
                return error_set(err, negative_errno(), "stat the image's %s", path);
        if (!S_ISREG(st.st_mode))
                return error_setx(err, -EINVAL, "the image's %s is not a regular file", path);
        if (st.st_size < 0 || (uint64_t)st.st_size > ROOT_FILE_MAX)
                return error_setx(err, -EFBIG, "the image's %s is larger than %u bytes", path,
                                  ROOT_FILE_MAX);
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = loop_read(fd, buf, (size_t)st.st_size);
        if (n < 0)
                return error_set(err, (int)n, "read the image's %s", path);
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

/* A decimal id that fits in 32 bits, not (uint32_t)-1 (which means "unset" to the kernel). */
static bool parse_id(const char *s, uint32_t *ret)
{
        uint64_t v = 0;

        if (!s || !*s || strlen(s) > 10)
                return false;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (v >= UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

/*
 * Split a passwd/group line in place into at most @max colon-separated fields. Returns the
 * number of fields; comments and blank lines have none.
 */
static size_t split_fields(char *line, char **fields, size_t max)
{
        size_t n = 0;

        if (*line == '#' || *line == '\0')
                return 0;
        for (char *p = line; n < max;) {
                fields[n++] = p;
                p = strchr(p, ':');
                if (!p)
                        break;
                *p++ = '\0';
        }
        return n;
}

typedef struct PasswdEntry {
        char *name;
        uint32_t uid;
        uint32_t gid;
        char *home;
} PasswdEntry;

static void passwd_entry_done(PasswdEntry *e)
{
        e->name = mfree(e->name);
        e->home = mfree(e->home);
}

/* Look up by @name, or by @uid when @name is NULL. 1 found, 0 not found. */
static int passwd_find(const char *text, const char *name, uint32_t uid, PasswdEntry *ret)
{
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[7];
                uint32_t u, g;

                if (split_fields(line, f, ELEMENTSOF(f)) < 4)
                        continue;
                if (!parse_id(f[2], &u) || !parse_id(f[3], &g))
                        continue;
                if (name ? !streq(f[0], name) : u != uid)
                        continue;
                ret->name = strdup(f[0]);
                ret->home = strdup(f[5] && f[5][0] ? f[5] : "/");
                if (!ret->name || !ret->home) {
                        passwd_entry_done(ret);
                        return -ENOMEM;
                }
                ret->uid = u;
                ret->gid = g;
                return 1;
        }
        return 0;
}

/* The gid of group @name: 1 found, 0 not found. */
static int group_find(const char *text, const char *name, uint32_t *ret_gid)
{
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4];
                uint32_t g;

                if (split_fields(line, f, ELEMENTSOF(f)) < 3 || !streq(f[0], name) || !parse_id(f[2], &g))
                        continue;
                *ret_gid = g;
                return 1;
        }
        return 0;
}

static bool gid_listed(const uint32_t *gids, size_t n, uint32_t gid)
{
        for (size_t i = 0; i < n; i++)
                if (gids[i] == gid)
                        return true;
        return false;
}

/* Groups that list @user as a member, in file order, without @primary and without repeats. */
static int group_memberships(const char *text, const char *user, uint32_t primary, uint32_t **ret,
                             size_t *ret_n)
{
        _cleanup_free_ char *copy = strdup(text);
        _cleanup_free_ uint32_t *gids = NULL;
        size_t n = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4], *msave = NULL;
                uint32_t g;

                if (split_fields(line, f, ELEMENTSOF(f)) < 4 || !parse_id(f[2], &g))
                        continue;
                for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave)) {
                        if (!streq(m, user) || g == primary || gid_listed(gids, n, g))
                                continue;
                        uint32_t *p = reallocarray(gids, n + 1, sizeof(*gids));
                        if (!p)
                                return -ENOMEM;
                        gids = p;
                        gids[n++] = g;
                }
        }
        *ret = TAKE_PTR(gids);
        *ret_n = n;
        return 0;
}

static int resolve_group(int rootfs_dirfd, const char *group, uint32_t *ret_gid, BerthError *err)
{
        _cleanup_free_ char *text = NULL;
        int r;

        if (parse_id(group, ret_gid))
                return 0;
        if (!*group)
                return error_setx(err, -EINVAL, "user: empty group name");
        r = root_file_read(rootfs_dirfd, "/etc/group", &text, err);
        if (r < 0)
                return r;
        r = group_find(text, group, ret_gid);
        if (r < 0)
                return r;
        if (r == 0)
                return error_setx(err, -EINVAL, "group \"%s\": no such group in the image's /etc/group",
                                  group);
        return 0;
}

int image_bundle_resolve_user(int rootfs_dirfd, const char *spec, BundleUser *ret, BerthError *err)
{
        _cleanup_free_ char *copy = strdup(spec && *spec ? spec : "0");
        _cleanup_free_ char *passwd = NULL;
        _cleanup_(passwd_entry_done) PasswdEntry pw = {};
        BundleUser u = {};
        uint32_t uid = 0;
        bool numeric;
        char *group;
        int r;

        if (!copy)
                return -ENOMEM;
        group = strchr(copy, ':');
        if (group)
                *group++ = '\0';
        if (!*copy)
                return error_setx(err, -EINVAL, "user \"%s\": empty user name", spec);
        numeric = parse_id(copy, &uid);
        if (!numeric && strspn(copy, "0123456789") == strlen(copy))
                return error_setx(err, -EINVAL, "user \"%s\": uid out of range", spec);

        r = root_file_read(rootfs_dirfd, "/etc/passwd", &passwd, err);
        if (r < 0)
                return r;
        r = passwd_find(passwd, numeric ? NULL : copy, uid, &pw);
        if (r < 0)
                return r;
        if (r == 0 && !numeric)
                return error_setx(err, -EINVAL, "user \"%s\": no such user in the image's /etc/passwd",
                                  copy);

        u.uid = numeric ? uid : pw.uid;
        u.gid = r > 0 ? pw.gid : 0; /* Docker: a uid without an entry runs with gid 0 */
        u.home = strdup(r > 0 ? pw.home : "/");
        if (!u.home)
                return -ENOMEM;
        if (group) {
                r = resolve_group(rootfs_dirfd, group, &u.gid, err);
                if (r < 0) {
                        bundle_user_done(&u);
                        return r;
                }
        } else if (!numeric) {
                /* conversion.md: additional gids only for a user name without a group */
                _cleanup_free_ char *groups = NULL;

                r = root_file_read(rootfs_dirfd, "/etc/group", &groups, err);
                if (r >= 0)
                        r = group_memberships(groups, pw.name, u.gid, &u.additional_gids,
                                              &u.n_additional_gids);
                if (r < 0) {
                        bundle_user_done(&u);
                        return r;
                }
        }
        *ret = u;
        return 0;
}

/* ---- the image config ---- */

static int image_config_parse(const char *text, struct json_object **ret, BerthError *err)
{
        struct json_tokener *tok;
        struct json_object *obj;
        size_t len = strlen(text);

        if (len > IMAGE_CONFIG_MAX_LEN)
                return error_setx(err, -EFBIG, "image config: larger than %u bytes", IMAGE_CONFIG_MAX_LEN);
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        obj = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t off = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!obj || jerr != json_tokener_success) {
                if (obj)
                        json_object_put(obj);
                if (jerr == json_tokener_success || jerr == json_tokener_continue)
                        return error_setx(err, -EINVAL,
                                          "image config: invalid JSON: unexpected end of input");
                return error_setx(err, -EINVAL, "image config: invalid JSON at offset %zu: %s", off,
                                  json_tokener_error_desc(jerr));
        }
        if (strspn(text + off, " \t\r\n") != len - off) {
                json_object_put(obj);
                return error_setx(err, -EINVAL, "image config: invalid JSON at offset %zu: trailing data",
                                  off);
        }
        if (!json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                return error_setx(err, -EINVAL, "image config: must be a JSON object");
        }
        *ret = obj;
        return 0;
}

/* A member of @obj of @type: 1 present, 0 absent or null, -EINVAL of another type. */
static int member(struct json_object *obj, const char *parent, const char *key, json_type type,
                  struct json_object **ret, BerthError *err)
{
        static const char *const what[] = {
                [json_type_boolean] = "a boolean", [json_type_int] = "an integer",
                [json_type_string] = "a string",   [json_type_object] = "an object",
                [json_type_array] = "an array",    [json_type_double] = "a number",
        };
        struct json_object *v;

        if (!obj || !json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, type))
                return error_setx(err, -EINVAL, "image config: %s%s%s: must be %s", parent,
                                  *parent ? "." : "", key, what[type]);
        *ret = v;
        return 1;
}

static int member_string(struct json_object *obj, const char *parent, const char *key, const char **ret,
                         BerthError *err)
{
        struct json_object *v;
        int r = member(obj, parent, key, json_type_string, &v, err);
        if (r > 0)
                *ret = json_object_get_string(v);
        return r;
}

/* An array of strings appended to *@l; 1 present, 0 absent. */
static int member_strv(struct json_object *obj, const char *parent, const char *key, char ***l,
                       BerthError *err)
{
        struct json_object *a;
        int r = member(obj, parent, key, json_type_array, &a, err);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                struct json_object *s = json_object_array_get_idx(a, i);
                if (!json_object_is_type(s, json_type_string))
                        return error_setx(err, -EINVAL, "image config: %s.%s[%zu]: must be a string", parent,
                                          key, i);
                if (strv_extend(l, json_object_get_string(s)) < 0)
                        return -ENOMEM;
        }
        return 1;
}

static bool env_assignment_valid(const char *s)
{
        const char *eq = strchr(s, '=');
        return eq && eq != s;
}

static bool path_absolute(const char *p)
{
        return p && p[0] == '/';
}

/* ---- building the document ---- */

static struct json_object *strv_to_json(char *const *l)
{
        struct json_object *a = json_object_new_array();

        STRV_FOREACH (s, (char **)l) {
                struct json_object *v = json_object_new_string(*s);
                if (!a || !v || json_object_array_add(a, v) < 0) {
                        json_putp(&v);
                        json_putp(&a);
                        return NULL;
                }
        }
        return a;
}

static int build_args(const BundleOptions *o, struct json_object *cfg, char ***ret, BerthError *err)
{
        _cleanup_strv_free_ char **args = NULL;
        int r;

        if (o->entrypoint) {
                /* Docker and Podman: --entrypoint drops the image's Cmd as well */
                if (*o->entrypoint && strv_extend(&args, o->entrypoint) < 0)
                        return -ENOMEM;
        } else {
                r = member_strv(cfg, "config", "Entrypoint", &args, err);
                if (r < 0)
                        return r;
        }
        if (strv_length(o->args) > 0) {
                STRV_FOREACH (a, o->args)
                        if (strv_extend(&args, *a) < 0)
                                return -ENOMEM;
        } else if (!o->entrypoint) {
                r = member_strv(cfg, "config", "Cmd", &args, err);
                if (r < 0)
                        return r;
        }
        if (strv_length(args) == 0)
                return error_setx(err, -EINVAL,
                                  "no command: the image has no Entrypoint or Cmd and none was given");
        *ret = TAKE_PTR(args);
        return 0;
}

static int build_env(const BundleOptions *o, struct json_object *cfg, const BundleUser *user, char ***ret,
                     BerthError *err)
{
        _cleanup_strv_free_ char **image_env = NULL, **env = NULL;
        int r;

        r = member_strv(cfg, "config", "Env", &image_env, err);
        if (r < 0)
                return r;
        for (size_t i = 0; image_env && image_env[i]; i++) {
                if (!env_assignment_valid(image_env[i]))
                        return error_setx(err, -EINVAL,
                                          "image config: config.Env[%zu] \"%s\": must be KEY=VALUE", i,
                                          image_env[i]);
                if (strv_env_set(&env, image_env[i]) < 0)
                        return -ENOMEM;
        }
        STRV_FOREACH (e, o->env) {
                if (!env_assignment_valid(*e))
                        return error_setx(err, -EINVAL, "env \"%s\": must be KEY=VALUE", *e);
                if (strv_env_set(&env, *e) < 0)
                        return -ENOMEM;
        }
        /* Additions only for names the image and the user left unset (conversion.md). */
        if (!strv_env_get(env, "PATH") && strv_extend(&env, DEFAULT_PATH) < 0)
                return -ENOMEM;
        if (o->terminal && !strv_env_get(env, "TERM") && strv_extend(&env, "TERM=xterm") < 0)
                return -ENOMEM;
        if (!strv_env_get(env, "HOME")) {
                _cleanup_free_ char *home = NULL;
                if (asprintf(&home, "HOME=%s", user->home) < 0)
                        return -ENOMEM;
                if (strv_push(&env, TAKE_PTR(home)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

static int build_user(const BundleUser *u, struct json_object **ret)
{
        _cleanup_jsonobj_ struct json_object *obj = json_object_new_object();
        int r;

        if (!obj)
                return -ENOMEM;
        r = json_put_member(obj, "uid", json_object_new_int64(u->uid));
        if (r >= 0)
                r = json_put_member(obj, "gid", json_object_new_int64(u->gid));
        if (r >= 0 && u->n_additional_gids > 0) {
                struct json_object *a = json_object_new_array();
                for (size_t i = 0; a && i < u->n_additional_gids; i++) {
                        struct json_object *g = json_object_new_int64(u->additional_gids[i]);
                        if (!g || json_object_array_add(a, g) < 0) {
                                json_putp(&g);
                                json_putp(&a);
                                a = NULL;
                        }
                }
                r = json_put_member(obj, "additionalGids", a);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(obj);
        return 0;
}

/* A mount entry; @options is NULL-terminated. */
static int add_mount(struct json_object *mounts, const char *destination, const char *type,
                     const char *source, const char *const *options)
{
        _cleanup_jsonobj_ struct json_object *m = json_object_new_object();
        struct json_object *opts = NULL;
        int r;

        if (!m)
                return -ENOMEM;
        r = json_put_member(m, "destination", json_object_new_string(destination));
        if (r >= 0)
                r = json_put_member(m, "type", json_object_new_string(type));
        if (r >= 0)
                r = json_put_member(m, "source", json_object_new_string(source));
        if (r >= 0) {
                opts = json_object_new_array();
                r = json_put_member(m, "options", opts);
        }
        for (size_t i = 0; r >= 0 && options[i]; i++) {
                struct json_object *s = json_object_new_string(options[i]);
                if (!s || json_object_array_add(opts, s) < 0) {
                        json_putp(&s);
                        r = -ENOMEM;
                }
        }
        if (r >= 0 && json_object_array_add(mounts, m) < 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        TAKE_PTR(m);
        return 0;
}

static bool mount_destination_taken(struct json_object *mounts, const char *destination)
{
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                struct json_object *d;
                if (json_object_object_get_ex(json_object_array_get_idx(mounts, i), "destination", &d) &&
                    streq(json_object_get_string(d), destination))
                        return true;
        }
        return false;
}

static bool path_has_dotdot(const char *p)
{
        for (const char *s = p; (s = strstr(s, "..")); s += 2)
                if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
                        return true;
        return false;
}

/* -v HOST:CTR[:ro|:rw]: a recursive, private bind mount. */
static int add_volume(struct json_object *mounts, const char *spec, BerthError *err)
{
        _cleanup_free_ char *copy = strdup(spec);
        char *host, *ctr, *mode;

        if (!copy)
                return -ENOMEM;
        host = copy;
        ctr = strchr(host, ':');
        if (!ctr)
                return error_setx(err, -EINVAL, "volume \"%s\": must be HOST:CONTAINER[:ro]", spec);
        *ctr++ = '\0';
        mode = strchr(ctr, ':');
        if (mode) {
                *mode++ = '\0';
                if (!streq(mode, "ro") && !streq(mode, "rw"))
                        return error_setx(err, -EINVAL, "volume \"%s\": unknown option \"%s\" (ro or rw)",
                                          spec, mode);
        }
        if (!path_absolute(host))
                return error_setx(err, -EINVAL, "volume \"%s\": the host path must be absolute", spec);
        if (!path_absolute(ctr) || path_has_dotdot(ctr))
                return error_setx(err, -EINVAL,
                                  "volume \"%s\": the container path must be absolute, without \"..\"",
                                  spec);
        if (streq(ctr, "/") || strspn(ctr, "/") == strlen(ctr))
                return error_setx(err, -EINVAL, "volume \"%s\": cannot mount over the container's /", spec);
        if (mount_destination_taken(mounts, ctr))
                return error_setx(err, -EINVAL, "volume \"%s\": \"%s\" is already a mount point", spec, ctr);

        const char *const options[] = {"rbind", "rprivate", mode && streq(mode, "ro") ? "ro" : "rw", NULL};
        return add_mount(mounts, ctr, "bind", host, options);
}

static int add_image_volumes(struct json_object *mounts, struct json_object *cfg, BundleImageVolumes how,
                             BerthError *err)
{
        struct json_object *vols;
        int r = member(cfg, "config", "Volumes", json_type_object, &vols, err);

        if (r <= 0)
                return r;
        json_object_object_foreach (vols, path, _v) {
                static const char *const options[] = {"nosuid", "nodev", "mode=755", NULL};
                (void)_v;
                if (!path_absolute(path) || path_has_dotdot(path))
                        return error_setx(err, -EINVAL,
                                          "image config: config.Volumes \"%s\": must be an absolute path "
                                          "without \"..\"",
                                          path);
                /* A -v on the same place wins, as in Docker. */
                if (how != BUNDLE_IMAGE_VOLUMES_TMPFS || mount_destination_taken(mounts, path))
                        continue;
                r = add_mount(mounts, path, "tmpfs", "tmpfs", options);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build_resources(struct json_object *linux_, const BundleOptions *o, BerthError *err)
{
        struct json_object *res;
        int r = 0;

        if (o->memory_limit_bytes == 0 && o->cpu_millis == 0 && o->pids_limit == 0)
                return 0;
        if (!json_object_object_get_ex(linux_, "resources", &res)) {
                r = json_put_member(linux_, "resources", json_object_new_object());
                if (r < 0)
                        return r;
                json_object_object_get_ex(linux_, "resources", &res);
        }
        if (o->memory_limit_bytes > 0) {
                if (o->memory_limit_bytes > INT64_MAX)
                        return error_setx(err, -ERANGE, "memory limit %" PRIu64 ": too large",
                                          o->memory_limit_bytes);
                struct json_object *mem = json_object_new_object();
                r = json_put_member(res, "memory", mem);
                if (r >= 0)
                        r = json_put_member(mem, "limit",
                                            json_object_new_int64((int64_t)o->memory_limit_bytes));
        }
        if (r >= 0 && o->cpu_millis > 0) {
                uint64_t quota;
                if (__builtin_mul_overflow(o->cpu_millis, CPU_PERIOD_USEC / 1000, &quota) ||
                    quota > INT64_MAX)
                        return error_setx(err, -ERANGE, "cpus %" PRIu64 "/1000: too large", o->cpu_millis);
                struct json_object *cpu = json_object_new_object();
                r = json_put_member(res, "cpu", cpu);
                if (r >= 0)
                        r = json_put_member(cpu, "quota", json_object_new_int64((int64_t)quota));
                if (r >= 0)
                        r = json_put_member(cpu, "period", json_object_new_int64(CPU_PERIOD_USEC));
        }
        if (r >= 0 && o->pids_limit > 0) {
                if (o->pids_limit > INT64_MAX)
                        return error_setx(err, -ERANGE, "pids limit %" PRIu64 ": too large", o->pids_limit);
                struct json_object *pids = json_object_new_object();
                r = json_put_member(res, "pids", pids);
                if (r >= 0)
                        r = json_put_member(pids, "limit", json_object_new_int64((int64_t)o->pids_limit));
        }
        return r;
}

/* --network host: drop the network namespace from the default list. */
static int build_network(struct json_object *linux_, BundleNetwork network)
{
        struct json_object *ns, *kept;

        if (network != BUNDLE_NETWORK_HOST || !json_object_object_get_ex(linux_, "namespaces", &ns))
                return 0;
        kept = json_object_new_array();
        if (!kept)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(ns); i++) {
                struct json_object *e = json_object_array_get_idx(ns, i), *t;
                if (json_object_object_get_ex(e, "type", &t) && streq(json_object_get_string(t), "network"))
                        continue;
                if (json_object_array_add(kept, json_object_get(e)) < 0) {
                        json_object_put(e);
                        json_object_put(kept);
                        return -ENOMEM;
                }
        }
        return json_put_member(linux_, "namespaces", kept);
}

/*
 * linux.seccomp, last, so that the capabilities are final: Docker resolves its profile against
 * the bounding set (a rule "includes" CAP_SYS_ADMIN, say, is kept only when the container may
 * hold it).
 */
static int build_seccomp(struct json_object *process, struct json_object *linux_, const BundleOptions *o,
                         BerthError *err)
{
        _cleanup_strv_free_ char **bounding = NULL;
        _cleanup_free_ char *text = NULL;
        struct json_object *caps = NULL, *set_ = NULL, *profile = NULL;
        int r;

        if (o->seccomp == BUNDLE_SECCOMP_UNCONFINED)
                return 0;
        if (json_object_object_get_ex(process, "capabilities", &caps) &&
            json_object_object_get_ex(caps, "bounding", &set_))
                for (size_t i = 0; i < json_object_array_length(set_); i++)
                        if (strv_extend(&bounding,
                                        json_object_get_string(json_object_array_get_idx(set_, i))) < 0)
                                return -ENOMEM;
        if (o->seccomp == BUNDLE_SECCOMP_DEFAULT)
                r = image_seccomp_default_build(bounding, NULL, &profile);
        else {
                if (!o->seccomp_profile)
                        return error_setx(err, -EINVAL, "seccomp profile: no file given");
                r = image_seccomp_profile_read(o->seccomp_profile, &text, err);
                if (r >= 0)
                        r = image_seccomp_profile_resolve(text, o->seccomp_profile, bounding, NULL, &profile,
                                                          err);
        }
        if (r < 0)
                return r;
        return json_put_member(linux_, "seccomp", profile);
}

static int annotate(struct json_object *ann, const char *key, const char *value)
{
        return json_put_member(ann, key, json_object_new_string(value));
}

/*
 * conversion.md's implicit annotations, then Config.Labels, which win on a clash.
 * ExposedPorts becomes org.opencontainers.image.exposedPorts (keys joined by ','); nothing
 * else is done with it: ports are not published.
 */
static int build_annotations(struct json_object *root, struct json_object *image, struct json_object *cfg,
                             BerthError *err)
{
        static const struct {
                const char *field;
                const char *key;
        } implicit[] = {
                {"os", "org.opencontainers.image.os"},
                {"architecture", "org.opencontainers.image.architecture"},
                {"variant", "org.opencontainers.image.variant"},
                {"os.version", "org.opencontainers.image.os.version"},
                {"author", "org.opencontainers.image.author"},
                {"created", "org.opencontainers.image.created"},
        };
        _cleanup_jsonobj_ struct json_object *ann = json_object_new_object();
        struct json_object *v;
        const char *s;
        int r;

        if (!ann)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(implicit); i++) {
                r = member_string(image, "", implicit[i].field, &s, err);
                if (r > 0)
                        r = annotate(ann, implicit[i].key, s);
                if (r < 0)
                        return r;
        }
        _cleanup_strv_free_ char **features = NULL;
        r = member_strv(image, "", "os.features", &features, err);
        if (r > 0) {
                _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
                STRV_FOREACH (f, features)
                        strbuf_printf(&b, "%s%s", f == features ? "" : ",", *f);
                r = strbuf_failed(&b) ? -ENOMEM
                                      : annotate(ann, "org.opencontainers.image.os.features", b.ptr ?: "");
        }
        if (r < 0)
                return r;
        r = member_string(cfg, "config", "StopSignal", &s, err);
        if (r > 0)
                r = annotate(ann, "org.opencontainers.image.stopSignal", s);
        if (r < 0)
                return r;
        r = member(cfg, "config", "ExposedPorts", json_type_object, &v, err);
        if (r > 0) {
                _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
                json_object_object_foreach (v, port, _p) {
                        (void)_p;
                        strbuf_printf(&b, "%s%s", b.len ? "," : "", port);
                }
                r = strbuf_failed(&b) ? -ENOMEM
                                      : annotate(ann, "org.opencontainers.image.exposedPorts", b.ptr ?: "");
        }
        if (r < 0)
                return r;
        r = member(cfg, "config", "Labels", json_type_object, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                json_object_object_foreach (v, key, val) {
                        if (!json_object_is_type(val, json_type_string))
                                return error_setx(err, -EINVAL,
                                                  "image config: config.Labels[\"%s\"]: must be a string",
                                                  key);
                        r = annotate(ann, key, json_object_get_string(val));
                        if (r < 0)
                                return r;
                }
        }
        if (json_object_object_length(ann) == 0)
                return 0;
        return json_put_member(root, "annotations", TAKE_PTR(ann));
}

static int build_process(struct json_object *process, const BundleOptions *o, struct json_object *cfg,
                         int rootfs_dirfd, BerthError *err)
{
        _cleanup_strv_free_ char **args = NULL, **env = NULL;
        _cleanup_(bundle_user_done) BundleUser user = {};
        struct json_object *juser = NULL;
        const char *cwd = NULL, *user_spec = NULL;
        int r;

        r = build_args(o, cfg, &args, err);
        if (r < 0)
                return r;
        r = member_string(cfg, "config", "WorkingDir", &cwd, err);
        if (r < 0)
                return r;
        if (cwd && *cwd && !path_absolute(cwd))
                return error_setx(err, -EINVAL,
                                  "image config: config.WorkingDir \"%s\": must be an absolute path", cwd);
        if (o->workdir) {
                if (!path_absolute(o->workdir))
                        return error_setx(err, -EINVAL, "workdir \"%s\": must be an absolute path",
                                          o->workdir);
                cwd = o->workdir;
        }
        if (!cwd || !*cwd)
                cwd = "/";

        r = member_string(cfg, "config", "User", &user_spec, err);
        if (r < 0)
                return r;
        if (o->user)
                user_spec = o->user;
        r = image_bundle_resolve_user(rootfs_dirfd, user_spec, &user, err);
        if (r < 0)
                return r;
        r = build_env(o, cfg, &user, &env, err);
        if (r < 0)
                return r;
        r = build_user(&user, &juser);
        if (r < 0)
                return r;

        r = json_put_member(process, "user", juser);
        if (r >= 0)
                r = json_put_member(process, "terminal", json_object_new_boolean(o->terminal));
        if (r >= 0)
                r = json_put_member(process, "args", strv_to_json(args));
        if (r >= 0)
                r = json_put_member(process, "env", strv_to_json(env));
        if (r >= 0)
                r = json_put_member(process, "cwd", json_object_new_string(cwd));
        return r;
}

static int build_root(struct json_object *doc, const BundleOptions *o)
{
        _cleanup_jsonobj_ struct json_object *root = json_object_new_object();
        int r;

        if (!root)
                return -ENOMEM;
        r = json_put_member(root, "path", json_object_new_string(o->rootfs ?: "rootfs"));
        if (r >= 0)
                r = json_put_member(root, "readonly", json_object_new_boolean(o->read_only));
        if (r >= 0 && o->hostname)
                r = json_put_member(doc, "hostname", json_object_new_string(o->hostname));
        if (r < 0)
                return r;
        return json_put_member(doc, "root", TAKE_PTR(root));
}

int image_bundle_config(const char *image_config_json, int rootfs_dirfd, const BundleOptions *o,
                        char **ret_config_json, BerthError *err)
{
        static const BundleOptions no_options = {};
        _cleanup_jsonobj_ struct json_object *image = NULL, *doc = NULL;
        _cleanup_free_ char *defaults = NULL;
        struct json_object *cfg = NULL, *process, *mounts, *linux_;
        int r;

        assert(image_config_json);
        assert(ret_config_json);
        if (!o)
                o = &no_options;
        if (o->network < 0 || o->network >= _BUNDLE_NETWORK_MAX || o->image_volumes < 0 ||
            o->image_volumes >= _BUNDLE_IMAGE_VOLUMES_MAX || o->seccomp < 0 ||
            o->seccomp >= _BUNDLE_SECCOMP_MAX)
                return error_setx(err, -EINVAL, "invalid network, image volume or seccomp mode");

        r = image_config_parse(image_config_json, &image, err);
        if (r < 0)
                return r;
        r = member(image, "", "config", json_type_object, &cfg, err);
        if (r < 0)
                return r;

        defaults = oci_default_spec_render(o->rootless);
        if (!defaults)
                return -ENOMEM;
        doc = json_tokener_parse(defaults);
        /* The default spec is ours: its shape is a programming error if wrong. */
        assert(doc);
        if (!doc || !json_object_object_get_ex(doc, "process", &process) ||
            !json_object_object_get_ex(doc, "mounts", &mounts) ||
            !json_object_object_get_ex(doc, "linux", &linux_))
                return error_setx(err, -EIO, "the default spec is malformed");

        r = build_process(process, o, cfg, rootfs_dirfd, err);
        if (r < 0)
                return r;
        r = build_root(doc, o);
        if (r < 0)
                return r;
        STRV_FOREACH (v, o->volumes) {
                r = add_volume(mounts, *v, err);
                if (r < 0)
                        return r;
        }
        r = add_image_volumes(mounts, cfg, o->image_volumes, err);
        if (r < 0)
                return r;
        r = build_resources(linux_, o, err);
        if (r < 0)
                return r;
        r = build_network(linux_, o->network);
        if (r < 0)
                return r;
        r = build_seccomp(process, linux_, o, err);
        if (r < 0)
                return r;
        r = build_annotations(doc, image, cfg, err);
        if (r < 0)
                return r;

        const char *text = json_object_to_json_string_ext(
                doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        char *out = NULL;
        if (!text || asprintf(&out, "%s\n", text) < 0)
                return -ENOMEM;
        *ret_config_json = out;
        return 0;
}
