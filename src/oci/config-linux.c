/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <string.h>
#include <sys/mount.h>

#include "basic/strv.h"
#include "config-internal.h"

#define OCI_ID_MAP_MAX_EXTENTS 340     /* the kernel's UID_GID_MAP_MAX_EXTENTS */
#define OCI_DEVICE_MAJOR_MAX   4095    /* 12 bits in the kernel's dev_t */
#define OCI_DEVICE_MINOR_MAX   1048575 /* 20 bits */
#define OCI_NSEC_PER_SEC       1000000000U

static const struct {
        const char *name;
        unsigned long flags;
} propagation_table[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

void oci_linux_done(OciLinux *l)
{
        for (size_t i = 0; l->namespaces && i < l->n_namespaces; i++)
                free(l->namespaces[i].path);
        free(l->namespaces);
        free(l->uid_mappings);
        free(l->gid_mappings);
        for (size_t i = 0; l->devices && i < l->n_devices; i++)
                free(l->devices[i].path);
        free(l->devices);
        oci_key_values_free(l->sysctl, l->n_sysctl);
        free(l->cgroups_path);
        free(l->rootfs_propagation);
        strv_free(l->masked_paths);
        strv_free(l->readonly_paths);
        free(l->mount_label);
        /* resources and seccomp belong to OciConfig.json. */
        *l = (OciLinux){0};
}

/*
 * Allocate a zeroed array of @size-byte entries for the JSON array @list and
 * publish it with its length at once, so the owner frees a half-filled one.
 */
static int array_alloc(struct json_object *list, size_t size, void **ret, size_t *ret_n)
{
        size_t n = json_object_array_length(list);
        void *a = calloc(n ? n : 1, size);
        if (!a)
                return -ENOMEM;
        *ret = a;
        *ret_n = n;
        return 0;
}

static int namespace_parse(struct json_object *v, const char *path, OciLinux *l, size_t index,
                           BerthError *err)
{
        char fpath[OCI_JSON_PATH_MAX];
        _cleanup_free_ char *type = NULL;
        OciNamespace *ns = &l->namespaces[index];
        int r;

        r = oci_json_check_type(v, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(v, "type", true, path, &type, err);
        if (r < 0)
                return r;
        oci_json_path_key(fpath, path, "type");
        ns->type = namespace_type_from_string(type);
        if (ns->type < 0)
                return error_setx(err, -EINVAL, "%s: unknown namespace type \"%s\"", fpath, type);
        for (size_t i = 0; i < index; i++)
                if (l->namespaces[i].type == ns->type)
                        return error_setx(err, -EINVAL, "%s: duplicate namespace \"%s\"", fpath, type);

        r = oci_json_get_string(v, "path", false, path, &ns->path, err);
        if (r < 0)
                return r;
        if (ns->path && !ns->path[0])
                ns->path = oci_mfree(ns->path); /* "" is what Go writes for "none" */
        if (ns->path && !oci_path_is_absolute(ns->path))
                return error_setx(err, -EINVAL, "%s: must be an absolute path",
                                  oci_json_path_key(fpath, path, "path"));
        return 0;
}

static int linux_parse_namespaces(struct json_object *obj, OciLinux *l, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(obj, "namespaces", json_type_array, false, "linux", &list, err);
        if (r <= 0)
                return r;
        r = array_alloc(list, sizeof(OciNamespace), (void **)&l->namespaces, &l->n_namespaces);
        if (r < 0)
                return r;
        /* Until parsed, an entry must not match a lookup. */
        for (size_t i = 0; i < l->n_namespaces; i++)
                l->namespaces[i].type = _NAMESPACE_INVALID;
        for (size_t i = 0; i < l->n_namespaces; i++) {
                r = namespace_parse(json_object_array_get_idx(list, i),
                                    oci_json_path_index(path, "linux.namespaces", i), l, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool ranges_overlap(uint32_t a, uint32_t b, uint32_t size_a, uint32_t size_b)
{
        /* Both ranges end at most at UINT32_MAX, checked before. */
        return (uint64_t)a < (uint64_t)b + size_b && (uint64_t)b < (uint64_t)a + size_a;
}

static int id_mapping_parse(struct json_object *v, const char *path, OciIdMapping *m, BerthError *err)
{
        char fpath[OCI_JSON_PATH_MAX];
        uint64_t container_id, host_id, size;
        int r;

        r = oci_json_check_type(v, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(v, "containerID", true, 0, UINT32_MAX, path, &container_id, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(v, "hostID", true, 0, UINT32_MAX, path, &host_id, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(v, "size", true, 1, UINT32_MAX, path, &size, err);
        if (r < 0)
                return r;
        /* The kernel refuses a range that reaches 4294967295, the invalid id. */
        oci_json_path_key(fpath, path, "size");
        if (container_id + size > UINT32_MAX)
                return error_setx(err, -EINVAL, "%s: containerID + size exceeds %u", fpath, UINT32_MAX);
        if (host_id + size > UINT32_MAX)
                return error_setx(err, -EINVAL, "%s: hostID + size exceeds %u", fpath, UINT32_MAX);
        m->container_id = (uint32_t)container_id;
        m->host_id = (uint32_t)host_id;
        m->size = (uint32_t)size;
        return 0;
}

static int linux_parse_id_mappings(struct json_object *obj, const char *key, OciIdMapping **ret,
                                   size_t *ret_n, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX], opath[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(obj, key, json_type_array, false, "linux", &list, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, "linux", key);
        if (json_object_array_length(list) > OCI_ID_MAP_MAX_EXTENTS)
                return error_setx(err, -EINVAL, "%s: at most %d entries", path, OCI_ID_MAP_MAX_EXTENTS);
        r = array_alloc(list, sizeof(OciIdMapping), (void **)ret, ret_n);
        if (r < 0)
                return r;

        OciIdMapping *m = *ret;
        for (size_t i = 0; i < *ret_n; i++) {
                oci_json_path_index(epath, path, i);
                r = id_mapping_parse(json_object_array_get_idx(list, i), epath, &m[i], err);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++) {
                        if (ranges_overlap(m[i].container_id, m[j].container_id, m[i].size, m[j].size))
                                return error_setx(err, -EINVAL, "%s: containerID range overlaps %s", epath,
                                                  oci_json_path_index(opath, path, j));
                        if (ranges_overlap(m[i].host_id, m[j].host_id, m[i].size, m[j].size))
                                return error_setx(err, -EINVAL, "%s: hostID range overlaps %s", epath,
                                                  oci_json_path_index(opath, path, j));
                }
        }
        return 0;
}

static int device_parse(struct json_object *v, const char *path, OciDevice *d, BerthError *err)
{
        char fpath[OCI_JSON_PATH_MAX];
        _cleanup_free_ char *type = NULL, *dev_path = NULL;
        uint64_t mode;
        int r;

        r = oci_json_check_type(v, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(v, "type", true, path, &type, err);
        if (r < 0)
                return r;
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
                return error_setx(err, -EINVAL,
                                  "%s: must be one of \"c\", \"b\", \"u\" or \"p\", got \"%s\"",
                                  oci_json_path_key(fpath, path, "type"), type);
        d->type = type[0];

        r = oci_json_get_string(v, "path", true, path, &dev_path, err);
        if (r < 0)
                return r;
        if (!oci_path_is_absolute(dev_path))
                return error_setx(err, -EINVAL, "%s: must be an absolute path",
                                  oci_json_path_key(fpath, path, "path"));
        d->path = oci_path_clean(dev_path);
        if (!d->path)
                return -ENOMEM;

        /* A FIFO has no device number; everything else needs both. */
        r = oci_json_get_int64(v, "major", d->type != 'p', 0, OCI_DEVICE_MAJOR_MAX, path, &d->major, err);
        if (r < 0)
                return r;
        r = oci_json_get_int64(v, "minor", d->type != 'p', 0, OCI_DEVICE_MINOR_MAX, path, &d->minor, err);
        if (r < 0)
                return r;

        r = oci_json_get_uint64(v, "fileMode", false, 0, UINT32_MAX, path, &mode, err);
        if (r < 0)
                return r;
        if (r > 0) {
                /* The file type comes from "type"; type bits here would contradict it. */
                if (mode > 07777)
                        return error_setx(err, -EINVAL, "%s: must be a permission mode (at most 07777)",
                                          oci_json_path_key(fpath, path, "fileMode"));
                d->has_file_mode = true;
                d->file_mode = (mode_t)mode;
        }
        r = oci_parse_id(v, "uid", false, path, &d->uid, err);
        if (r < 0)
                return r;
        d->has_uid = r > 0;
        r = oci_parse_id(v, "gid", false, path, &d->gid, err);
        if (r < 0)
                return r;
        d->has_gid = r > 0;
        return 0;
}

static int linux_parse_devices(struct json_object *obj, OciLinux *l, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(obj, "devices", json_type_array, false, "linux", &list, err);
        if (r <= 0)
                return r;
        r = array_alloc(list, sizeof(OciDevice), (void **)&l->devices, &l->n_devices);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n_devices; i++) {
                r = device_parse(json_object_array_get_idx(list, i),
                                 oci_json_path_index(path, "linux.devices", i), &l->devices[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Split on both '.' and '/' (sysctl(8) takes either), no component may be empty: no "..", no escape. */
static bool sysctl_name_is_valid(const char *name)
{
        size_t component = 0;

        for (const char *p = name;; p++) {
                if (*p == '.' || *p == '/' || *p == '\0') {
                        if (component == 0)
                                return false;
                        if (*p == '\0')
                                return true;
                        component = 0;
                } else
                        component++;
        }
}

static bool sysctl_name_is(const char *name, const char *dotted)
{
        for (; *name && *dotted; name++, dotted++)
                if (*name != *dotted && !(*name == '/' && *dotted == '.'))
                        return false;
        return *name == *dotted;
}

static bool sysctl_name_has_prefix(const char *name, const char *dotted)
{
        for (; *dotted; name++, dotted++)
                if (*name != *dotted && !(*name == '/' && *dotted == '.'))
                        return false;
        return true;
}

/* Which namespace isolates this sysctl; the list is runc's. */
static NamespaceType sysctl_namespace(const char *name)
{
        static const char *const ipc[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };

        if (sysctl_name_has_prefix(name, "net."))
                return NAMESPACE_NETWORK;
        if (sysctl_name_has_prefix(name, "fs.mqueue."))
                return NAMESPACE_IPC;
        for (size_t i = 0; i < ELEMENTSOF(ipc); i++)
                if (sysctl_name_is(name, ipc[i]))
                        return NAMESPACE_IPC;
        if (sysctl_name_is(name, "kernel.hostname") || sysctl_name_is(name, "kernel.domainname"))
                return NAMESPACE_UTS;
        return _NAMESPACE_INVALID;
}

static int linux_parse_sysctl(struct json_object *obj, OciConfig *c, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v;
        OciLinux *l = &c->linux_;
        int r;

        r = oci_json_member(obj, "sysctl", json_type_object, false, "linux", &v, err);
        if (r <= 0)
                return r;
        r = oci_parse_key_values(v, "linux.sysctl", &l->sysctl, &l->n_sysctl, err);
        if (r < 0)
                return r;

        /* Writing a sysctl that the container does not own changes the host. */
        for (size_t i = 0; i < l->n_sysctl; i++) {
                const char *key = l->sysctl[i].key;

                oci_json_path_map(path, "linux.sysctl", key);
                if (!sysctl_name_is_valid(key))
                        return error_setx(err, -EINVAL, "%s: invalid sysctl name", path);
                NamespaceType t = sysctl_namespace(key);
                if (t < 0)
                        return error_setx(
                                err, -EINVAL,
                                "%s: not isolated by any namespace, refusing to change the host's value",
                                path);
                if (!oci_config_find_namespace(c, t))
                        return error_setx(err, -EINVAL, "%s: requires %s %s namespace in linux.namespaces",
                                          path, t == NAMESPACE_IPC ? "an" : "a",
                                          namespace_type_to_string(t));
        }
        return 0;
}

static int linux_parse_paths(struct json_object *obj, const char *key, char ***ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        int r;

        r = oci_json_get_strv(obj, key, false, "linux", ret, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, "linux", key);
        for (size_t i = 0; (*ret)[i]; i++)
                if (!oci_path_is_absolute((*ret)[i]))
                        return error_setx(err, -EINVAL, "%s: must be an absolute path",
                                          oci_json_path_index(epath, path, i));
        return 0;
}

static int linux_parse_propagation(struct json_object *obj, OciLinux *l, BerthError *err)
{
        int r;

        r = oci_json_get_string(obj, "rootfsPropagation", false, "linux", &l->rootfs_propagation, err);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(propagation_table); i++)
                if (streq(propagation_table[i].name, l->rootfs_propagation)) {
                        l->rootfs_propagation_flags = propagation_table[i].flags;
                        return 0;
                }
        return error_setx(
                err, -EINVAL,
                "linux.rootfsPropagation: unknown propagation \"%s\", must be one of private, rprivate, "
                "slave, rslave, shared, rshared, unbindable, runbindable",
                l->rootfs_propagation);
}

static int linux_parse_time_offsets(struct json_object *obj, OciConfig *c, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *offsets;
        OciLinux *l = &c->linux_;
        int r;

        r = oci_json_member(obj, "timeOffsets", json_type_object, false, "linux", &offsets, err);
        if (r <= 0)
                return r;

        json_object_object_foreach (offsets, clock_name, val) {
                int64_t *secs;
                uint32_t *nanosecs;
                uint64_t ns;

                oci_json_path_map(path, "linux.timeOffsets", clock_name);
                if (streq(clock_name, "boottime")) {
                        secs = &l->time_offset_boottime_secs;
                        nanosecs = &l->time_offset_boottime_nanosecs;
                } else if (streq(clock_name, "monotonic")) {
                        secs = &l->time_offset_monotonic_secs;
                        nanosecs = &l->time_offset_monotonic_nanosecs;
                } else
                        return error_setx(err, -EINVAL,
                                          "%s: unknown clock, must be \"boottime\" or \"monotonic\"", path);
                if (!val)
                        return error_setx(err, -EINVAL, "%s: must be an object", path);
                r = oci_json_check_type(val, json_type_object, path, err);
                if (r < 0)
                        return r;
                r = oci_json_get_int64(val, "secs", false, INT64_MIN, INT64_MAX, path, secs, err);
                if (r < 0)
                        return r;
                r = oci_json_get_uint64(val, "nanosecs", false, 0, OCI_NSEC_PER_SEC - 1, path, &ns, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        *nanosecs = (uint32_t)ns;
        }
        l->has_time_offsets = true;

        /* Offsets can only be written into a time namespace that nobody has entered yet. */
        const OciNamespace *ns = oci_config_find_namespace(c, NAMESPACE_TIME);
        if (!ns || ns->path)
                return error_setx(err, -EINVAL,
                                  "linux.timeOffsets: requires a new time namespace in linux.namespaces");
        return 0;
}

static int linux_check_user_namespace(const OciConfig *c, BerthError *err)
{
        const OciNamespace *ns = oci_config_find_namespace(c, NAMESPACE_USER);
        const OciLinux *l = &c->linux_;

        if (!ns) {
                if (l->n_uid_mappings > 0)
                        return error_setx(
                                err, -EINVAL,
                                "linux.uidMappings: requires a user namespace in linux.namespaces");
                if (l->n_gid_mappings > 0)
                        return error_setx(
                                err, -EINVAL,
                                "linux.gidMappings: requires a user namespace in linux.namespaces");
                return 0;
        }
        /* A new user namespace without a map leaves every id unmapped (the overflow id). */
        if (!ns->path) {
                if (l->n_uid_mappings == 0)
                        return error_setx(err, -EINVAL,
                                          "linux.uidMappings: is required with a new user namespace");
                if (l->n_gid_mappings == 0)
                        return error_setx(err, -EINVAL,
                                          "linux.gidMappings: is required with a new user namespace");
        }
        return 0;
}

int oci_config_parse_linux(struct json_object *obj, OciConfig *c, BerthError *err)
{
        OciLinux *l = &c->linux_;
        int r;

        r = linux_parse_namespaces(obj, l, err);
        if (r < 0)
                return r;
        r = linux_parse_id_mappings(obj, "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err);
        if (r < 0)
                return r;
        r = linux_parse_id_mappings(obj, "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err);
        if (r < 0)
                return r;
        r = linux_check_user_namespace(c, err);
        if (r < 0)
                return r;
        r = linux_parse_devices(obj, l, err);
        if (r < 0)
                return r;
        r = linux_parse_sysctl(obj, c, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(obj, "cgroupsPath", false, "linux", &l->cgroups_path, err);
        if (r < 0)
                return r;
        r = linux_parse_propagation(obj, l, err);
        if (r < 0)
                return r;
        r = linux_parse_paths(obj, "maskedPaths", &l->masked_paths, err);
        if (r < 0)
                return r;
        r = linux_parse_paths(obj, "readonlyPaths", &l->readonly_paths, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(obj, "mountLabel", false, "linux", &l->mount_label, err);
        if (r < 0)
                return r;
        r = linux_parse_time_offsets(obj, c, err);
        if (r < 0)
                return r;

        /* Kept as JSON for the cgroup and seccomp modules; they point into OciConfig.json. */
        r = oci_json_member(obj, "resources", json_type_object, false, "linux", &l->resources, err);
        if (r < 0)
                return r;
        r = oci_json_member(obj, "seccomp", json_type_object, false, "linux", &l->seccomp, err);
        if (r < 0)
                return r;
        return 0;
}
