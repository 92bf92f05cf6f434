/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <linux/mount.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "rootfs.h"

/* Flags a bind remount must keep: in a user namespace the kernel locks them, and
 * dropping one by accident would fail with EPERM (or silently widen access). */
static unsigned long locked_flags(const char *path)
{
        struct statvfs sv;
        unsigned long f = 0;

        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

/* Remount the mount now on top of @dest with @flags (bind remount keeps it a bind). */
static int remount_at(int root_fd, const char *dest, unsigned long flags, BerthError *err)
{
        char p[32];
        _cleanup_close_ int fd = chase_in_root(root_fd, dest, O_PATH);
        if (fd < 0)
                return error_set(err, fd, "resolve \"%s\" for remount", dest);
        fd_proc_path(fd, p);
        if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags | locked_flags(p), NULL) < 0)
                return error_set(err, negative_errno(), "remount \"%s\"", dest);
        return 0;
}

static int apply_propagation_and_attrs(int root_fd, const OciMount *m, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        char p[32];

        if (!m->propagation && !m->attr_set && !m->attr_clr)
                return 0;
        fd = chase_in_root(root_fd, m->destination, O_PATH);
        if (fd < 0)
                return error_set(err, fd, "resolve \"%s\"", m->destination);
        if (m->propagation && mount(NULL, fd_proc_path(fd, p), NULL, m->propagation, NULL) < 0)
                return error_set(err, negative_errno(), "set propagation of \"%s\"", m->destination);
        if (m->attr_set || m->attr_clr) {
                struct mount_attr attr = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
                if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
                    0)
                        return error_set(err, negative_errno(), "set recursive attributes of \"%s\"",
                                         m->destination);
        }
        return 0;
}

static int mount_bind(int root_fd, const OciMount *m, BerthError *err)
{
        struct stat st;
        char p[32];
        _cleanup_close_ int target = -EBADF;
        const char *source = m->source ? m->source : "";

        if (stat(source, &st) < 0)
                return error_set(err, negative_errno(), "mount source \"%s\"", source);
        target = chase_in_root_create(root_fd, m->destination,
                                      S_ISDIR(st.st_mode) ? CHASE_CREATE_DIR : CHASE_CREATE_FILE);
        if (target < 0)
                return error_set(err, target, "mount destination \"%s\"", m->destination);
        if (mount(source, fd_proc_path(target, p), NULL, MS_BIND | (m->is_recursive ? MS_REC : 0), NULL) < 0)
                return error_set(err, negative_errno(), "bind mount \"%s\" on \"%s\"", source,
                                 m->destination);
        unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
        if (extra)
                return remount_at(root_fd, m->destination, extra, err);
        return 0;
}

static bool host_is_cgroup2(void)
{
        struct statfs sf;
        return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* cgroup v1: a tmpfs with one mount per hierarchy this process belongs to, and the
 * hybrid v2 tree under "unified" where the host has it. */
static int mount_cgroup_v1(int root_fd, const OciMount *m, bool userns, BerthError *err)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_close_ int target = -EBADF;
        char p[32], line[512];
        unsigned long flags = m->flags & ~MS_RDONLY;

        target = chase_in_root_create(root_fd, m->destination, CHASE_CREATE_DIR);
        if (target < 0)
                return error_set(err, target, "mount destination \"%s\"", m->destination);
        if (mount("tmpfs", fd_proc_path(target, p), "tmpfs", flags, "mode=755") < 0)
                return error_set(err, negative_errno(), "mount tmpfs on \"%s\"", m->destination);
        f = fopen("/proc/self/cgroup", "re");
        if (!f)
                return error_set(err, negative_errno(), "read /proc/self/cgroup");
        while (fgets(line, sizeof(line), f)) {
                char *ctrl = strchr(line, ':');
                char *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
                if (!path)
                        continue;
                *path = '\0';
                ctrl++;
                char sub[600], opts[300];
                const char *name;
                if (*ctrl == '\0') {
                        struct stat st;
                        if (stat("/sys/fs/cgroup/unified", &st) < 0)
                                continue;
                        name = "unified";
                } else
                        name = strncmp(ctrl, "name=", 5) == 0 ? ctrl + 5 : ctrl;
                snprintf(sub, sizeof(sub), "%s/%s", m->destination, name);
                _cleanup_close_ int dfd = chase_in_root_create(root_fd, sub, CHASE_CREATE_DIR);
                if (dfd < 0)
                        return error_set(err, dfd, "create \"%s\"", sub);
                snprintf(opts, sizeof(opts), "%s%s", strncmp(ctrl, "name=", 5) == 0 ? "none," : "", ctrl);
                int r = *ctrl == '\0' ? mount("cgroup2", fd_proc_path(dfd, p), "cgroup2", flags, NULL)
                                      : mount("cgroup", fd_proc_path(dfd, p), "cgroup", flags, opts);
                if (r < 0 && errno == EPERM && userns) {
                        /* Without a cgroup namespace of its own a user namespace may not mount
                         * a hierarchy; show the host's read-only instead, as runc does. */
                        char host[300];
                        snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", name);
                        r = mount(host, p, NULL, MS_BIND | MS_REC, NULL);
                }
                if (r < 0)
                        return error_set(err, negative_errno(), "mount cgroup \"%s\" on \"%s\"", ctrl, sub);
                if ((m->flags & MS_RDONLY) && remount_at(root_fd, sub, MS_RDONLY | flags, err) < 0)
                        return err ? err->code : -EIO;
        }
        if (m->flags & MS_RDONLY)
                return remount_at(root_fd, m->destination, MS_RDONLY | flags, err);
        return 0;
}

static int mount_special(int root_fd, const OciMount *m, bool userns, BerthError *err)
{
        _cleanup_close_ int target = -EBADF;
        char p[32];

        if (streq(m->type, "cgroup") || streq(m->type, "cgroup2")) {
                if (!host_is_cgroup2() && streq(m->type, "cgroup"))
                        return mount_cgroup_v1(root_fd, m, userns, err);
        }
        target = chase_in_root_create(root_fd, m->destination, CHASE_CREATE_DIR);
        if (target < 0)
                return error_set(err, target, "mount destination \"%s\"", m->destination);
        const char *type = streq(m->type, "cgroup") ? "cgroup2" : m->type;
        const char *source = m->source ? m->source : m->type;
        if (mount(source, fd_proc_path(target, p), type, m->flags, m->data) == 0)
                return 0;
        int r = negative_errno();
        /* sysfs needs a network namespace owned by our user namespace; where the
         * network namespace is the host's, fall back to a read-only bind as runc does. */
        if ((r == -EPERM || r == -EACCES) && userns && streq(m->type, "sysfs")) {
                if (mount("/sys", p, NULL, MS_BIND | MS_REC, NULL) == 0)
                        return remount_at(root_fd, m->destination,
                                          MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
                r = negative_errno();
        }
        return error_set(err, r, "mount \"%s\" (%s) on \"%s\"", source, m->type, m->destination);
}

static int mount_one(int root_fd, const OciMount *m, bool userns, BerthError *err)
{
        int r;

        if (m->is_bind || (m->type && streq(m->type, "bind")))
                r = mount_bind(root_fd, m, err);
        else if (!m->type)
                return error_setx(err, -EINVAL, "mount on \"%s\": no type and not a bind mount",
                                  m->destination);
        else
                r = mount_special(root_fd, m, userns, err);
        if (r < 0)
                return r;
        return apply_propagation_and_attrs(root_fd, m, err);
}

int rootfs_prepare(const RootfsContext *ctx, BerthError *err)
{
        const OciConfig *c = ctx->config;
        _cleanup_close_ int root_fd = -EBADF;
        unsigned long prop =
                c->linux_.rootfs_propagation_flags ? c->linux_.rootfs_propagation_flags : MS_SLAVE | MS_REC;
        int r;

        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return error_set(err, negative_errno(), "set propagation of \"/\"");
        if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return error_set(err, negative_errno(), "bind mount rootfs \"%s\"", ctx->rootfs);
        if (!(prop & MS_SHARED) && mount(NULL, ctx->rootfs, NULL, MS_PRIVATE, NULL) < 0)
                return error_set(err, negative_errno(), "make rootfs \"%s\" private", ctx->rootfs);
        root_fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return error_set(err, negative_errno(), "open rootfs \"%s\"", ctx->rootfs);

        for (size_t i = 0; i < c->n_mounts; i++) {
                r = mount_one(root_fd, &c->mounts[i], ctx->userns, err);
                if (r < 0)
                        return r;
        }
        return devices_setup(root_fd, c, ctx->userns, err);
}

int rootfs_pivot(const RootfsContext *ctx, BerthError *err)
{
        if (ctx->no_pivot) {
                if (chdir(ctx->rootfs) < 0)
                        return error_set(err, negative_errno(), "chdir to rootfs \"%s\"", ctx->rootfs);
                if (mount(ctx->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return error_set(err, negative_errno(), "move rootfs \"%s\" to /", ctx->rootfs);
                if (chroot(".") < 0)
                        return error_set(err, negative_errno(), "chroot to rootfs \"%s\"", ctx->rootfs);
                if (chdir("/") < 0)
                        return error_set(err, negative_errno(), "chdir to /");
                return 0;
        }
        _cleanup_close_ int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int new_root = open(ctx->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (old_root < 0 || new_root < 0)
                return error_set(err, negative_errno(), "open rootfs \"%s\"", ctx->rootfs);
        /* pivot_root(".", ".") stacks the old root on top of the new one; unmounting "."
         * afterwards removes it without needing a directory for it in the rootfs. */
        if (fchdir(new_root) < 0)
                return error_set(err, negative_errno(), "chdir to rootfs \"%s\"", ctx->rootfs);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return error_set(err, negative_errno(), "pivot_root to \"%s\"", ctx->rootfs);
        if (fchdir(old_root) < 0)
                return error_set(err, negative_errno(), "chdir to the old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return error_set(err, negative_errno(), "make the old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
                return error_set(err, negative_errno(), "unmount the old root");
        if (chdir("/") < 0)
                return error_set(err, negative_errno(), "chdir to /");
        return 0;
}

int rootfs_bind_console(int slave, BerthError *err)
{
        char p[32];
        _cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int target = chase_in_root_create(root_fd, "/dev/console", CHASE_CREATE_FILE);
        if (target < 0)
                return error_set(err, target, "create /dev/console");
        char src[32];
        fd_proc_path(slave, src);
        if (mount(src, fd_proc_path(target, p), NULL, MS_BIND, NULL) < 0)
                return error_set(err, negative_errno(), "bind the console onto /dev/console");
        return 0;
}

static int write_sysctls(const OciConfig *c, BerthError *err)
{
        for (size_t i = 0; i < c->linux_.n_sysctl; i++) {
                char path[512];
                const char *key = c->linux_.sysctl[i].key;
                int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
                if (n < 0 || (size_t)n >= sizeof(path) || strstr(key, ".."))
                        return error_setx(err, -EINVAL, "linux.sysctl: invalid key \"%s\"", key);
                for (char *s = path + strlen("/proc/sys/"); *s; s++)
                        if (*s == '.')
                                *s = '/';
                int r = write_string_file(path, c->linux_.sysctl[i].value);
                if (r < 0)
                        return error_set(err, r, "linux.sysctl: set \"%s\"", key);
        }
        return 0;
}

static int mask_path(int root_fd, const char *path, BerthError *err)
{
        struct stat st;
        char p[32];
        _cleanup_close_ int fd = chase_in_root(root_fd, path, O_PATH | O_NOFOLLOW);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd < 0)
                return error_set(err, fd, "linux.maskedPaths: resolve \"%s\"", path);
        if (fstat(fd, &st) < 0)
                return error_set(err, negative_errno(), "linux.maskedPaths: stat \"%s\"", path);
        if (S_ISLNK(st.st_mode))
                return 0; /* masking through a symlink could land anywhere: the link itself reveals nothing
                           */
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", fd_proc_path(fd, p), "tmpfs",
                          MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0") < 0)
                        return error_set(err, negative_errno(), "linux.maskedPaths: mask \"%s\"", path);
                return 0;
        }
        _cleanup_close_ int null_fd = chase_in_root(root_fd, "/dev/null", O_PATH | O_NOFOLLOW);
        struct stat nst;
        if (null_fd < 0 || fstat(null_fd, &nst) < 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != makedev(1, 3))
                return error_setx(err, -EPERM,
                                  "linux.maskedPaths: /dev/null in the container is not the null device");
        char src[32];
        if (mount(fd_proc_path(null_fd, src), fd_proc_path(fd, p), NULL, MS_BIND, NULL) < 0)
                return error_set(err, negative_errno(), "linux.maskedPaths: mask \"%s\"", path);
        return 0;
}

static int readonly_path(int root_fd, const char *path, BerthError *err)
{
        char p[32];
        _cleanup_close_ int fd = chase_in_root(root_fd, path, O_PATH);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd < 0)
                return error_set(err, fd, "linux.readonlyPaths: resolve \"%s\"", path);
        if (mount(fd_proc_path(fd, p), p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return error_set(err, negative_errno(), "linux.readonlyPaths: bind \"%s\"", path);
        return remount_at(root_fd, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
}

int rootfs_finalize(const RootfsContext *ctx, BerthError *err)
{
        const OciConfig *c = ctx->config;
        _cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (root_fd < 0)
                return error_set(err, negative_errno(), "open /");
        r = write_sysctls(c, err);
        if (r < 0)
                return r;
        STRV_FOREACH (m, c->linux_.masked_paths)
                if ((r = mask_path(root_fd, *m, err)) < 0)
                        return r;
        STRV_FOREACH (m, c->linux_.readonly_paths)
                if ((r = readonly_path(root_fd, *m, err)) < 0)
                        return r;
        if (c->root_readonly &&
            mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
                return error_set(err, negative_errno(), "root.readonly: remount / read-only");
        return 0;
}
