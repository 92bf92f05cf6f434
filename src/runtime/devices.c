/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "basic/chase.h"
#include "rootfs.h"

/* The devices every container gets (runtime-spec "Default Devices"). */
static const OciDevice default_devices[] = {
        {.type = 'c',
         .path = (char *)"/dev/null",
         .major = 1,
         .minor = 3,
         .has_file_mode = true,
         .file_mode = 0666},
        {.type = 'c',
         .path = (char *)"/dev/zero",
         .major = 1,
         .minor = 5,
         .has_file_mode = true,
         .file_mode = 0666},
        {.type = 'c',
         .path = (char *)"/dev/full",
         .major = 1,
         .minor = 7,
         .has_file_mode = true,
         .file_mode = 0666},
        {.type = 'c',
         .path = (char *)"/dev/random",
         .major = 1,
         .minor = 8,
         .has_file_mode = true,
         .file_mode = 0666},
        {.type = 'c',
         .path = (char *)"/dev/urandom",
         .major = 1,
         .minor = 9,
         .has_file_mode = true,
         .file_mode = 0666},
        {.type = 'c',
         .path = (char *)"/dev/tty",
         .major = 5,
         .minor = 0,
         .has_file_mode = true,
         .file_mode = 0666},
};

static const struct {
        const char *target;
        const char *path;
} dev_symlinks[] = {
        {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
        {"pts/ptmx", "/dev/ptmx"},          {"/proc/kcore", "/dev/core"},
};

static int split_at_last_slash(const char *path, char *parent, size_t n, const char **ret_name)
{
        const char *slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) >= n || !path_is_safe_relative_component(slash + 1))
                return -EINVAL;
        memcpy(parent, path, (size_t)(slash - path));
        parent[slash - path] = '\0';
        if (!*parent)
                strcpy(parent, "/");
        *ret_name = slash + 1;
        return 0;
}

static int device_create(int root_fd, const OciDevice *d, bool userns, BerthError *err)
{
        char parent[4096], p[32];
        const char *name;
        mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        mode_t mode = d->has_file_mode ? d->file_mode & 07777 : 0666;

        if (split_at_last_slash(d->path, parent, sizeof(parent), &name) < 0)
                return error_setx(err, -EINVAL, "device \"%s\": invalid path", d->path);
        _cleanup_close_ int dir = chase_in_root_create(root_fd, parent, CHASE_CREATE_DIR);
        if (dir < 0)
                return error_set(err, dir, "device \"%s\": create parent", d->path);
        _cleanup_close_ int dirfd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return error_set(err, negative_errno(), "device \"%s\": open parent", d->path);
        /* Replace whatever the image had there: a planted symlink must not survive. */
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
                return error_set(err, negative_errno(), "device \"%s\": remove old entry", d->path);

        if (userns && type != S_IFIFO) {
                /* mknod is not allowed in a user namespace: bind the host's node instead. */
                _cleanup_close_ int f =
                        openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
                if (f < 0)
                        return error_set(err, negative_errno(), "device \"%s\": create mount point",
                                         d->path);
                if (mount(d->path, fd_proc_path(f, p), NULL, MS_BIND, NULL) < 0)
                        return error_set(err, negative_errno(), "device \"%s\": bind from host", d->path);
                return 0;
        }
        if (mknodat(dirfd, name, type | mode, makedev((unsigned)d->major, (unsigned)d->minor)) < 0)
                return error_set(err, negative_errno(), "device \"%s\": mknod", d->path);
        if (fchmodat(dirfd, name, mode, 0) < 0)
                return error_set(err, negative_errno(), "device \"%s\": chmod", d->path);
        if ((d->has_uid || d->has_gid) && fchownat(dirfd, name, d->has_uid ? d->uid : (uid_t)-1,
                                                   d->has_gid ? d->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, negative_errno(), "device \"%s\": chown", d->path);
        return 0;
}

static bool config_has_device(const OciConfig *c, const char *path)
{
        for (size_t i = 0; i < c->linux_.n_devices; i++)
                if (streq(c->linux_.devices[i].path, path))
                        return true;
        return false;
}

int devices_setup(int root_fd, const OciConfig *c, bool userns, BerthError *err)
{
        int r;

        for (size_t i = 0; i < ELEMENTSOF(default_devices); i++) {
                if (config_has_device(c, default_devices[i].path))
                        continue;
                r = device_create(root_fd, &default_devices[i], userns, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->linux_.n_devices; i++) {
                r = device_create(root_fd, &c->linux_.devices[i], userns, err);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int dev = chase_in_root(root_fd, "/dev", O_RDONLY | O_DIRECTORY);
        if (dev < 0)
                return error_set(err, dev, "open /dev in the rootfs");
        for (size_t i = 0; i < ELEMENTSOF(dev_symlinks); i++) {
                const char *name = dev_symlinks[i].path + strlen("/dev/");
                if (symlinkat(dev_symlinks[i].target, dev, name) < 0 && errno != EEXIST)
                        return error_set(err, negative_errno(), "create symlink \"%s\"",
                                         dev_symlinks[i].path);
        }
        return 0;
}
