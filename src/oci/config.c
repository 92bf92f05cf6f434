/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "config-internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* A config.json is a few KiB; anything near this is a mistake, not a container. */
#define OCI_CONFIG_MAX_BYTES (16U * 1024U * 1024U)

#define OCI_HOSTNAME_MAX 64

static const struct {
        const char *name;
        const char *proc_name;
        int clone_flag;
} namespace_table[_NAMESPACE_MAX] = {
        [NAMESPACE_PID] = {"pid", "pid", CLONE_NEWPID},
        [NAMESPACE_NETWORK] = {"network", "net", CLONE_NEWNET},
        [NAMESPACE_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
        [NAMESPACE_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
        [NAMESPACE_UTS] = {"uts", "uts", CLONE_NEWUTS},
        [NAMESPACE_USER] = {"user", "user", CLONE_NEWUSER},
        [NAMESPACE_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
        [NAMESPACE_TIME] = {"time", "time", CLONE_NEWTIME},
};

NamespaceType namespace_type_from_string(const char *s)
{
        if (!s)
                return _NAMESPACE_INVALID;
        for (int t = 0; t < _NAMESPACE_MAX; t++)
                if (streq(namespace_table[t].name, s))
                        return (NamespaceType)t;
        return _NAMESPACE_INVALID;
}

const char *namespace_type_to_string(NamespaceType t)
{
        if (t < 0 || t >= _NAMESPACE_MAX)
                return NULL;
        return namespace_table[t].name;
}

int namespace_type_to_clone_flag(NamespaceType t)
{
        if (t < 0 || t >= _NAMESPACE_MAX)
                return -EINVAL;
        return namespace_table[t].clone_flag;
}

const char *namespace_type_to_proc_name(NamespaceType t)
{
        if (t < 0 || t >= _NAMESPACE_MAX)
                return NULL;
        return namespace_table[t].proc_name;
}

static const char *const hook_kind_table[_HOOK_MAX] = {
        [HOOK_PRESTART] = "prestart",
        [HOOK_CREATE_RUNTIME] = "createRuntime",
        [HOOK_CREATE_CONTAINER] = "createContainer",
        [HOOK_START_CONTAINER] = "startContainer",
        [HOOK_POSTSTART] = "poststart",
        [HOOK_POSTSTOP] = "poststop",
};

const char *hook_kind_to_string(HookKind k)
{
        if (k < 0 || k >= _HOOK_MAX)
                return NULL;
        return hook_kind_table[k];
}

void oci_key_values_free(OciKeyValue *kv, size_t n)
{
        for (size_t i = 0; kv && i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

int oci_parse_key_values(struct json_object *obj, const char *path, OciKeyValue **ret, size_t *ret_n,
                         BerthError *err)
{
        char kpath[OCI_JSON_PATH_MAX];
        size_t n = (size_t)json_object_object_length(obj), i = 0;
        OciKeyValue *kv;

        assert(!*ret);

        kv = calloc(n ? n : 1, sizeof(OciKeyValue));
        if (!kv)
                return -ENOMEM;
        *ret = kv;
        *ret_n = n;

        /* json-c keeps members in document order, which sysctl relies on. */
        json_object_object_foreach (obj, key, val) {
                const char *s;
                int r;

                oci_json_path_map(kpath, path, key);
                if (!key[0])
                        return error_setx(err, -EINVAL, "%s: key must not be empty", kpath);
                if (!val)
                        return error_setx(err, -EINVAL, "%s: must be a string", kpath);
                r = oci_json_value_string(val, kpath, &s, err);
                if (r < 0)
                        return r;
                kv[i].key = strdup(key);
                kv[i].value = strdup(s);
                if (!kv[i].key || !kv[i].value)
                        return -ENOMEM;
                i++;
        }
        return 0;
}

int oci_parse_id(struct json_object *obj, const char *key, bool required, const char *parent, uint32_t *ret,
                 BerthError *err)
{
        uint64_t v;
        int r;

        r = oci_json_get_uint64(obj, key, required, 0, UINT32_MAX - 1, parent, &v, err);
        if (r > 0)
                *ret = (uint32_t)v;
        return r;
}

static void hook_done(OciHook *h)
{
        free(h->path);
        strv_free(h->args);
        strv_free(h->env);
}

OciConfig *oci_config_free(OciConfig *c)
{
        if (!c)
                return NULL;
        free(c->oci_version);
        oci_process_free(c->process);
        free(c->root_path);
        free(c->hostname);
        free(c->domainname);
        oci_mounts_free(c->mounts, c->n_mounts);
        for (int k = 0; k < _HOOK_MAX; k++) {
                for (size_t i = 0; c->hooks[k] && i < c->n_hooks[k]; i++)
                        hook_done(&c->hooks[k][i]);
                free(c->hooks[k]);
        }
        oci_key_values_free(c->annotations, c->n_annotations);
        oci_linux_done(&c->linux_);
        /* Last: linux_.resources and linux_.seccomp point into it. */
        if (c->json)
                json_object_put(c->json);
        free(c);
        return NULL;
}

const OciNamespace *oci_config_find_namespace(const OciConfig *c, NamespaceType t)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->linux_.n_namespaces; i++)
                if (c->linux_.namespaces[i].type == t)
                        return &c->linux_.namespaces[i];
        return NULL;
}

/* SemVer's "MAJOR.MINOR.PATCH" with an optional "-pre" or "+build" tail; returns MAJOR or -EINVAL. */
static int oci_version_major(const char *v)
{
        unsigned long long major = 0;
        const char *p = v;

        for (int part = 0; part < 3; part++) {
                const char *start = p;
                unsigned long long n = 0;

                while (*p >= '0' && *p <= '9') {
                        if (n > 1000000)
                                return -EINVAL;
                        n = n * 10 + (unsigned)(*p - '0');
                        p++;
                }
                if (p == start || (p - start > 1 && *start == '0'))
                        return -EINVAL;
                if (part == 0)
                        major = n;
                if (part < 2 && *p++ != '.')
                        return -EINVAL;
        }
        if (*p != '\0' && !((*p == '-' || *p == '+') && p[1] != '\0'))
                return -EINVAL;
        return (int)major;
}

static int hook_parse(struct json_object *v, const char *path, OciHook *h, BerthError *err)
{
        char fpath[OCI_JSON_PATH_MAX];
        int64_t timeout;
        int r;

        r = oci_json_check_type(v, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(v, "path", true, path, &h->path, err);
        if (r < 0)
                return r;
        if (!oci_path_is_absolute(h->path))
                return error_setx(err, -EINVAL, "%s: must be an absolute path",
                                  oci_json_path_key(fpath, path, "path"));
        r = oci_json_get_strv(v, "args", false, path, &h->args, err);
        if (r < 0)
                return r;
        r = oci_json_get_strv(v, "env", false, path, &h->env, err);
        if (r < 0)
                return r;
        r = oci_json_get_int64(v, "timeout", false, INT64_MIN, INT64_MAX, path, &timeout, err);
        if (r < 0)
                return r;
        if (r > 0) {
                oci_json_path_key(fpath, path, "timeout");
                if (timeout <= 0)
                        return error_setx(err, -EINVAL, "%s: must be greater than 0", fpath);
                if (timeout > INT_MAX)
                        return error_setx(err, -EINVAL, "%s: must be at most %d", fpath, INT_MAX);
                h->has_timeout = true;
                h->timeout_sec = (int)timeout;
        }
        return 0;
}

static int config_parse_hooks(struct json_object *root, OciConfig *c, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], hpath[OCI_JSON_PATH_MAX];
        struct json_object *hooks, *list;
        int r;

        r = oci_json_member(root, "hooks", json_type_object, false, "", &hooks, err);
        if (r <= 0)
                return r;
        for (int k = 0; k < _HOOK_MAX; k++) {
                r = oci_json_member(hooks, hook_kind_table[k], json_type_array, false, "hooks", &list, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                oci_json_path_key(path, "hooks", hook_kind_table[k]);

                size_t n = json_object_array_length(list);
                c->hooks[k] = calloc(n ? n : 1, sizeof(OciHook));
                if (!c->hooks[k])
                        return -ENOMEM;
                c->n_hooks[k] = n;
                for (size_t i = 0; i < n; i++) {
                        r = hook_parse(json_object_array_get_idx(list, i),
                                       oci_json_path_index(hpath, path, i), &c->hooks[k][i], err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int config_parse_root(struct json_object *root, OciConfig *c, BerthError *err)
{
        struct json_object *obj;
        int r;

        r = oci_json_member(root, "root", json_type_object, true, "", &obj, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(obj, "path", true, "root", &c->root_path, err);
        if (r < 0)
                return r;
        if (!c->root_path[0])
                return error_setx(err, -EINVAL, "root.path: must not be empty");
        return oci_json_get_bool(obj, "readonly", "root", &c->root_readonly, err);
}

static int config_parse_names(struct json_object *root, OciConfig *c, BerthError *err)
{
        int r;

        r = oci_json_get_string(root, "hostname", false, "", &c->hostname, err);
        if (r < 0)
                return r;
        if (c->hostname && strlen(c->hostname) > OCI_HOSTNAME_MAX)
                return error_setx(err, -EINVAL, "hostname: longer than %d characters", OCI_HOSTNAME_MAX);
        r = oci_json_get_string(root, "domainname", false, "", &c->domainname, err);
        if (r < 0)
                return r;
        if (c->domainname && strlen(c->domainname) > OCI_HOSTNAME_MAX)
                return error_setx(err, -EINVAL, "domainname: longer than %d characters", OCI_HOSTNAME_MAX);
        return 0;
}

/* Without its own UTS namespace, sethostname() would rename the host. */
static int config_check_uts(const OciConfig *c, BerthError *err)
{
        if (oci_config_find_namespace(c, NAMESPACE_UTS))
                return 0;
        if (c->hostname && c->hostname[0])
                return error_setx(err, -EINVAL, "hostname: requires a uts namespace in linux.namespaces");
        if (c->domainname && c->domainname[0])
                return error_setx(err, -EINVAL, "domainname: requires a uts namespace in linux.namespaces");
        return 0;
}

static int config_parse_document(struct json_object *root, OciConfig *c, BerthError *err)
{
        struct json_object *obj;
        int r;

        if (!json_object_is_type(root, json_type_object))
                return error_setx(err, -EINVAL, "config: must be an object");

        r = oci_json_get_string(root, "ociVersion", true, "", &c->oci_version, err);
        if (r < 0)
                return r;
        int major = oci_version_major(c->oci_version);
        if (major < 0)
                return error_setx(err, -EINVAL, "ociVersion: \"%s\" is not a SemVer version",
                                  c->oci_version);
        if (major != 1)
                return error_setx(err, -EINVAL, "ociVersion: unsupported version \"%s\", need 1.x",
                                  c->oci_version);

        r = config_parse_root(root, c, err);
        if (r < 0)
                return r;

        r = oci_json_member(root, "process", json_type_object, false, "", &obj, err);
        if (r < 0)
                return r;
        if (r > 0) {
                r = oci_process_parse(obj, "process", &c->process, err);
                if (r < 0)
                        return r;
        }

        r = config_parse_names(root, c, err);
        if (r < 0)
                return r;
        r = oci_config_parse_mounts(root, c, err);
        if (r < 0)
                return r;
        r = config_parse_hooks(root, c, err);
        if (r < 0)
                return r;

        r = oci_json_member(root, "annotations", json_type_object, false, "", &obj, err);
        if (r < 0)
                return r;
        if (r > 0) {
                r = oci_parse_key_values(obj, "annotations", &c->annotations, &c->n_annotations, err);
                if (r < 0)
                        return r;
        }

        r = oci_json_member(root, "linux", json_type_object, false, "", &obj, err);
        if (r < 0)
                return r;
        if (r > 0) {
                c->has_linux = true;
                r = oci_config_parse_linux(obj, c, err);
                if (r < 0)
                        return r;
        }

        return config_check_uts(c, err);
}

int oci_config_parse(const char *text, size_t len, OciConfig **ret, BerthError *err)
{
        _cleanup_(oci_config_freep) OciConfig *c = NULL;
        int r;

        assert(ret);

        c = calloc(1, sizeof(OciConfig));
        if (!c)
                return error_set(err, -ENOMEM, "parse config");
        r = oci_json_parse(text, len, &c->json, err);
        if (r < 0)
                return error_set(err, r, "parse config");
        r = config_parse_document(c->json, c, err);
        if (r < 0)
                return error_set(err, r, "parse config"); /* only reached without a message: ENOMEM */

        *ret = TAKE_PTR(c);
        return 0;
}

int oci_config_load(const char *bundle, OciConfig **ret, BerthError *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0, n;
        int r;

        assert(bundle);
        assert(ret);

        n = strlen(bundle);
        if (asprintf(&path, "%s%sconfig.json", bundle, n > 0 && bundle[n - 1] == '/' ? "" : "/") < 0) {
                path = NULL;
                return error_set(err, -ENOMEM, "load config");
        }

        r = read_full_file_at(AT_FDCWD, path, OCI_CONFIG_MAX_BYTES, &text, &len);
        if (r == -EFBIG || r == -EISDIR)
                return error_set(err, r, "read \"%s\"", path);
        if (r < 0)
                return error_set(err, r, "open \"%s\"", path);

        r = oci_config_parse(text, len, ret, err);
        if (r < 0) {
                error_prefix(err, "\"%s\": ", path);
                return r;
        }
        return 0;
}
