/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/mount.h>

#include "basic/strbuf.h"
#include "basic/strv.h"
#include "config-internal.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

typedef enum MountOptionKind {
        MOUNT_OPTION_FLAG_SET, /* mount(2) flag */
        MOUNT_OPTION_FLAG_CLEAR,
        MOUNT_OPTION_PROPAGATION, /* replaces the propagation type */
        MOUNT_OPTION_ATTR_SET,    /* mount_setattr(2), applied to the whole tree */
        MOUNT_OPTION_ATTR_CLEAR,
        MOUNT_OPTION_ATTR_ATIME, /* one of the MOUNT_ATTR__ATIME modes */
        MOUNT_OPTION_IGNORE,
} MountOptionKind;

/* runc's table (libcontainer/specconv), plus crun's "tmpcopyup", which we do not implement. */
static const struct {
        const char *name;
        MountOptionKind kind;
        uint64_t value;
} mount_option_table[] = {
        {"acl", MOUNT_OPTION_FLAG_SET, MS_POSIXACL},
        {"async", MOUNT_OPTION_FLAG_CLEAR, MS_SYNCHRONOUS},
        {"atime", MOUNT_OPTION_FLAG_CLEAR, MS_NOATIME},
        {"bind", MOUNT_OPTION_FLAG_SET, MS_BIND},
        {"defaults", MOUNT_OPTION_FLAG_SET, 0},
        {"dev", MOUNT_OPTION_FLAG_CLEAR, MS_NODEV},
        {"diratime", MOUNT_OPTION_FLAG_CLEAR, MS_NODIRATIME},
        {"dirsync", MOUNT_OPTION_FLAG_SET, MS_DIRSYNC},
        {"exec", MOUNT_OPTION_FLAG_CLEAR, MS_NOEXEC},
        {"iversion", MOUNT_OPTION_FLAG_SET, MS_I_VERSION},
        {"lazytime", MOUNT_OPTION_FLAG_SET, MS_LAZYTIME},
        {"loud", MOUNT_OPTION_FLAG_CLEAR, MS_SILENT},
        {"mand", MOUNT_OPTION_FLAG_SET, MS_MANDLOCK},
        {"noacl", MOUNT_OPTION_FLAG_CLEAR, MS_POSIXACL},
        {"noatime", MOUNT_OPTION_FLAG_SET, MS_NOATIME},
        {"nodev", MOUNT_OPTION_FLAG_SET, MS_NODEV},
        {"nodiratime", MOUNT_OPTION_FLAG_SET, MS_NODIRATIME},
        {"noexec", MOUNT_OPTION_FLAG_SET, MS_NOEXEC},
        {"noiversion", MOUNT_OPTION_FLAG_CLEAR, MS_I_VERSION},
        {"nolazytime", MOUNT_OPTION_FLAG_CLEAR, MS_LAZYTIME},
        {"nomand", MOUNT_OPTION_FLAG_CLEAR, MS_MANDLOCK},
        {"norelatime", MOUNT_OPTION_FLAG_CLEAR, MS_RELATIME},
        {"nostrictatime", MOUNT_OPTION_FLAG_CLEAR, MS_STRICTATIME},
        {"nosuid", MOUNT_OPTION_FLAG_SET, MS_NOSUID},
        {"nosymfollow", MOUNT_OPTION_FLAG_SET, MS_NOSYMFOLLOW},
        {"rbind", MOUNT_OPTION_FLAG_SET, MS_BIND | MS_REC},
        {"relatime", MOUNT_OPTION_FLAG_SET, MS_RELATIME},
        {"remount", MOUNT_OPTION_FLAG_SET, MS_REMOUNT},
        {"ro", MOUNT_OPTION_FLAG_SET, MS_RDONLY},
        {"rw", MOUNT_OPTION_FLAG_CLEAR, MS_RDONLY},
        {"silent", MOUNT_OPTION_FLAG_SET, MS_SILENT},
        {"strictatime", MOUNT_OPTION_FLAG_SET, MS_STRICTATIME},
        {"suid", MOUNT_OPTION_FLAG_CLEAR, MS_NOSUID},
        {"symfollow", MOUNT_OPTION_FLAG_CLEAR, MS_NOSYMFOLLOW},
        {"sync", MOUNT_OPTION_FLAG_SET, MS_SYNCHRONOUS},

        {"private", MOUNT_OPTION_PROPAGATION, MS_PRIVATE},
        {"rprivate", MOUNT_OPTION_PROPAGATION, MS_PRIVATE | MS_REC},
        {"shared", MOUNT_OPTION_PROPAGATION, MS_SHARED},
        {"rshared", MOUNT_OPTION_PROPAGATION, MS_SHARED | MS_REC},
        {"slave", MOUNT_OPTION_PROPAGATION, MS_SLAVE},
        {"rslave", MOUNT_OPTION_PROPAGATION, MS_SLAVE | MS_REC},
        {"unbindable", MOUNT_OPTION_PROPAGATION, MS_UNBINDABLE},
        {"runbindable", MOUNT_OPTION_PROPAGATION, MS_UNBINDABLE | MS_REC},

        {"rro", MOUNT_OPTION_ATTR_SET, MOUNT_ATTR_RDONLY},
        {"rrw", MOUNT_OPTION_ATTR_CLEAR, MOUNT_ATTR_RDONLY},
        {"rnosuid", MOUNT_OPTION_ATTR_SET, MOUNT_ATTR_NOSUID},
        {"rsuid", MOUNT_OPTION_ATTR_CLEAR, MOUNT_ATTR_NOSUID},
        {"rnodev", MOUNT_OPTION_ATTR_SET, MOUNT_ATTR_NODEV},
        {"rdev", MOUNT_OPTION_ATTR_CLEAR, MOUNT_ATTR_NODEV},
        {"rnoexec", MOUNT_OPTION_ATTR_SET, MOUNT_ATTR_NOEXEC},
        {"rexec", MOUNT_OPTION_ATTR_CLEAR, MOUNT_ATTR_NOEXEC},
        {"rnodiratime", MOUNT_OPTION_ATTR_SET, MOUNT_ATTR_NODIRATIME},
        {"rdiratime", MOUNT_OPTION_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME},
        {"rnosymfollow", MOUNT_OPTION_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
        {"rsymfollow", MOUNT_OPTION_ATTR_CLEAR, MOUNT_ATTR_NOSYMFOLLOW},
        /*
         * The atime modes are an enum inside MOUNT_ATTR__ATIME, not bits: the kernel wants
         * the whole field in attr_clr and one mode in attr_set. Turning a mode off means
         * going back to the kernel's default, relatime ("rnorelatime" asks for the
         * opposite of relatime, which is strictatime).
         */
        {"rnoatime", MOUNT_OPTION_ATTR_ATIME, MOUNT_ATTR_NOATIME},
        {"ratime", MOUNT_OPTION_ATTR_ATIME, MOUNT_ATTR_RELATIME},
        {"rrelatime", MOUNT_OPTION_ATTR_ATIME, MOUNT_ATTR_RELATIME},
        {"rnorelatime", MOUNT_OPTION_ATTR_ATIME, MOUNT_ATTR_STRICTATIME},
        {"rstrictatime", MOUNT_OPTION_ATTR_ATIME, MOUNT_ATTR_STRICTATIME},
        {"rnostrictatime", MOUNT_OPTION_ATTR_ATIME, MOUNT_ATTR_RELATIME},

        {"tmpcopyup", MOUNT_OPTION_IGNORE, 0},
};

char *oci_path_clean(const char *path)
{
        size_t n = 0;
        char *out;

        assert(oci_path_is_absolute(path));

        out = malloc(strlen(path) + 1);
        if (!out)
                return NULL;
        out[n++] = '/';
        for (const char *p = path;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchrnul(p, '/');
                size_t len = (size_t)(e - p);
                if (!(len == 1 && p[0] == '.')) {
                        if (n > 1)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p = e;
        }
        out[n] = '\0';
        return out;
}

static void mount_options_apply(OciMount *m, MountOptionKind kind, uint64_t value)
{
        switch (kind) {
        case MOUNT_OPTION_FLAG_SET:
                m->flags |= (unsigned long)value;
                break;
        case MOUNT_OPTION_FLAG_CLEAR:
                m->flags &= ~(unsigned long)value;
                break;
        case MOUNT_OPTION_PROPAGATION:
                m->propagation = (unsigned long)value;
                break;
        case MOUNT_OPTION_ATTR_SET:
                m->attr_set |= value;
                m->attr_clr &= ~value;
                break;
        case MOUNT_OPTION_ATTR_CLEAR:
                m->attr_clr |= value;
                m->attr_set &= ~value;
                break;
        case MOUNT_OPTION_ATTR_ATIME:
                m->attr_clr |= MOUNT_ATTR__ATIME;
                m->attr_set = (m->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | value;
                break;
        case MOUNT_OPTION_IGNORE:
                break;
        }
}

/*
 * @parent is the mount's own path ("mounts[2]"), or "" for a bare option list.
 * The derived fields of @m are replaced only on success.
 */
static int mount_options_translate(OciMount *m, const char *parent, BerthError *err)
{
        _cleanup_(strbuf_done) StrBuf data = STRBUF_INIT;
        char path[OCI_JSON_PATH_MAX], opath[OCI_JSON_PATH_MAX];
        OciMount d = {0}; /* only the derived fields are used */

        oci_json_path_key(path, parent, "options");
        for (size_t i = 0; m->options && m->options[i]; i++) {
                const char *o = m->options[i];
                bool known = false;

                if (!o[0])
                        return error_setx(err, -EINVAL, "%s: must not be empty",
                                          oci_json_path_index(opath, path, i));
                for (size_t k = 0; k < ELEMENTSOF(mount_option_table); k++)
                        if (streq(mount_option_table[k].name, o)) {
                                mount_options_apply(&d, mount_option_table[k].kind,
                                                    mount_option_table[k].value);
                                known = true;
                                break;
                        }
                if (known)
                        continue;
                /* Left for the filesystem: "size=64k", "mode=755", "newinstance", ... */
                if (data.len > 0)
                        strbuf_putc(&data, ',');
                strbuf_puts(&data, o);
        }

        if (m->type && streq(m->type, "bind"))
                d.flags |= MS_BIND;
        if (strbuf_failed(&data))
                return -ENOMEM;
        if (data.len > 0) {
                d.data = strbuf_steal(&data);
                if (!d.data)
                        return -ENOMEM;
        }

        free(m->data);
        m->data = d.data;
        m->flags = d.flags;
        m->propagation = d.propagation;
        m->attr_set = d.attr_set;
        m->attr_clr = d.attr_clr;
        m->is_bind = (d.flags & MS_BIND) != 0;
        m->is_recursive = m->is_bind && (d.flags & MS_REC) != 0;
        return 0;
}

int oci_mount_parse_options(OciMount *m, BerthError *err)
{
        assert(m);
        return mount_options_translate(m, "", err);
}

static void mount_done(OciMount *m)
{
        free(m->destination);
        free(m->type);
        free(m->source);
        strv_free(m->options);
        free(m->data);
}

void oci_mounts_free(OciMount *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++)
                mount_done(&m[i]);
        free(m);
}

static int mount_parse(struct json_object *v, const char *path, OciMount *m, BerthError *err)
{
        char fpath[OCI_JSON_PATH_MAX];
        _cleanup_free_ char *destination = NULL;
        struct json_object *ignored;
        int r;

        r = oci_json_check_type(v, json_type_object, path, err);
        if (r < 0)
                return r;

        r = oci_json_get_string(v, "destination", true, path, &destination, err);
        if (r < 0)
                return r;
        /* Relative destinations are deprecated by the spec; we never took them. */
        if (!oci_path_is_absolute(destination))
                return error_setx(err, -EINVAL, "%s: must be an absolute path",
                                  oci_json_path_key(fpath, path, "destination"));
        m->destination = oci_path_clean(destination);
        if (!m->destination)
                return -ENOMEM;

        r = oci_json_get_string(v, "type", false, path, &m->type, err);
        if (r < 0)
                return r;
        if (m->type && !m->type[0])
                m->type = oci_mfree(m->type);
        r = oci_json_get_string(v, "source", false, path, &m->source, err);
        if (r < 0)
                return r;
        r = oci_json_get_strv(v, "options", false, path, &m->options, err);
        if (r < 0)
                return r;

        /* Silently making a plain mount of an idmapped one would hand out the wrong owners. */
        for (size_t i = 0; i < 2; i++) {
                const char *key = i == 0 ? "uidMappings" : "gidMappings";

                r = oci_json_member(v, key, json_type_array, false, path, &ignored, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return error_setx(err, -EINVAL, "%s: idmapped mounts are not supported",
                                          oci_json_path_key(fpath, path, key));
        }

        r = mount_options_translate(m, path, err);
        if (r < 0)
                return r;

        if (!m->is_bind && !m->type)
                return error_setx(err, -EINVAL, "%s: is required unless the mount is a bind mount",
                                  oci_json_path_key(fpath, path, "type"));
        if (m->is_bind && !m->source)
                return error_setx(err, -EINVAL, "%s: is required for a bind mount",
                                  oci_json_path_key(fpath, path, "source"));
        return 0;
}

int oci_config_parse_mounts(struct json_object *root, OciConfig *c, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(root, "mounts", json_type_array, false, "", &list, err);
        if (r <= 0)
                return r;

        size_t n = json_object_array_length(list);
        c->mounts = calloc(n ? n : 1, sizeof(OciMount));
        if (!c->mounts)
                return -ENOMEM;
        c->n_mounts = n;
        for (size_t i = 0; i < n; i++) {
                r = mount_parse(json_object_array_get_idx(list, i), oci_json_path_index(path, "mounts", i),
                                &c->mounts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
