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

/* Resolves the target of a mount inside the rootfs, creating what is missing. A destination that
 * resolves to the rootfs itself is refused: an image can make any destination a symlink to "/"
 * (CVE-2021-30465), and a mount there would cover the whole rootfs, become the container's root
 * at pivot_root, and leave the options asked for (read-only, say) on the rootfs hidden below. */
static int mount_target_open(int root_fd, const char *dest, ChaseCreate what, BerthError *err)
{
        _cleanup_close_ int fd = chase_in_root_create(root_fd, dest, what);
        struct stat st, root_st;

        if (fd < 0)
                return error_set(err, fd, "mount destination \"%s\"", dest);
        if (fstat(fd, &st) < 0 || fstat(root_fd, &root_st) < 0)
                return error_set(err, negative_errno(), "mount destination \"%s\"", dest);
        if (st.st_dev == root_st.st_dev && st.st_ino == root_st.st_ino)
                return error_setx(err, -EINVAL,
                                  "mount destination \"%s\": resolves to the container's root directory",
                                  dest);
        return TAKE_FD(fd);
}

static int mount_bind(int root_fd, const OciMount *m, BerthError *err)
{
        struct stat st;
        char p[32];
        _cleanup_close_ int target = -EBADF;
        const char *source = m->source ? m->source : "";

        if (stat(source, &st) < 0)
                return error_set(err, negative_errno(), "mount source \"%s\"", source);
        target = mount_target_open(root_fd, m->destination,
                                   S_ISDIR(st.st_mode) ? CHASE_CREATE_DIR : CHASE_CREATE_FILE, err);
        if (target < 0)
                return target;
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

        target = mount_target_open(root_fd, m->destination, CHASE_CREATE_DIR, err);
        if (target < 0)
                return target;
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

/* The filesystem type a proc or sysfs mount must show once mounted; 0 for other types. */
static long kernel_fs_magic(const char *type)
{
        if (streq(type, "proc"))
                return PROC_SUPER_MAGIC;
        if (streq(type, "sysfs"))
                return SYSFS_MAGIC;
        return 0;
}

/* proc and sysfs are where the runtime later reads and writes (/proc/self/fd, sysctls, masks). A
 * destination the image made a symlink is refused rather than followed (CVE-2019-16884,
 * CVE-2023-27561, CVE-2023-28642), and what ends up mounted there must be the real thing. */
static int check_kernel_fs_destination(int root_fd, const OciMount *m, BerthError *err)
{
        _cleanup_close_ int fd = chase_in_root(root_fd, m->destination, O_PATH | O_NOFOLLOW);
        struct stat st;

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return error_set(err, fd, "mount destination \"%s\"", m->destination);
        if (fstat(fd, &st) < 0)
                return error_set(err, negative_errno(), "mount destination \"%s\"", m->destination);
        if (S_ISLNK(st.st_mode))
                return error_setx(err, -ELOOP,
                                  "mount destination \"%s\" for %s is a symlink in the rootfs: refusing to "
                                  "follow it",
                                  m->destination, m->type);
        return 0;
}

static int check_kernel_fs_mounted(int root_fd, const OciMount *m, long magic, BerthError *err)
{
        _cleanup_close_ int fd = chase_in_root(root_fd, m->destination, O_PATH | O_DIRECTORY | O_NOFOLLOW);
        struct statfs sf;

        if (fd < 0)
                return error_set(err, fd, "mount destination \"%s\"", m->destination);
        if (fstatfs(fd, &sf) < 0)
                return error_set(err, negative_errno(), "mount destination \"%s\"", m->destination);
        if (sf.f_type != magic)
                return error_setx(err, -EMEDIUMTYPE,
                                  "mount \"%s\" on \"%s\": found filesystem type 0x%lx there", m->type,
                                  m->destination, (unsigned long)sf.f_type);
        return 0;
}

static int mount_special(int root_fd, const OciMount *m, bool userns, BerthError *err)
{
        _cleanup_close_ int target = -EBADF;
        long magic = kernel_fs_magic(m->type);
        char p[32];
        int r;

        if (streq(m->type, "cgroup") || streq(m->type, "cgroup2")) {
                if (!host_is_cgroup2() && streq(m->type, "cgroup"))
                        return mount_cgroup_v1(root_fd, m, userns, err);
        }
        if (magic && (r = check_kernel_fs_destination(root_fd, m, err)) < 0)
                return r;
        target = mount_target_open(root_fd, m->destination, CHASE_CREATE_DIR, err);
        if (target < 0)
                return target;
        const char *type = streq(m->type, "cgroup") ? "cgroup2" : m->type;
        const char *source = m->source ? m->source : m->type;
        if (mount(source, fd_proc_path(target, p), type, m->flags, m->data) == 0)
                return magic ? check_kernel_fs_mounted(root_fd, m, magic, err) : 0;
        r = negative_errno();
        /* sysfs needs a network namespace owned by our user namespace; where the
         * network namespace is the host's, fall back to a read-only bind as runc does. */
        if ((r == -EPERM || r == -EACCES) && userns && streq(m->type, "sysfs")) {
                if (mount("/sys", p, NULL, MS_BIND | MS_REC, NULL) == 0) {
                        r = remount_at(root_fd, m->destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                       err);
                        return r < 0 ? r : check_kernel_fs_mounted(root_fd, m, magic, err);
                }
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

/* Describes a failed procfs_open() of @path for @what. */
static int procfs_error(BerthError *err, int r, const char *what, const char *path)
{
        if (r == -EMEDIUMTYPE)
                return error_setx(err, r, "%s: /proc in the container is not procfs", what);
        if (r == -EXDEV || r == -ELOOP)
                return error_setx(err, r,
                                  "%s: /proc/%s is not procfs's own (a mount or a symlink is in the way)",
                                  what, path);
        return error_set(err, r, "%s: open /proc/%s", what, path);
}

/* After pivot_root, mounts onto resolved fds go through "/proc/self/fd/N" in the container's
 * /proc: it must be procfs, with nothing mounted on the way to self/fd, or a fake /proc would
 * redirect them (CVE-2019-16884 and relatives). Checked right before each use. */
static int require_procfs_fd_paths(const char *what, BerthError *err)
{
        _cleanup_close_ int fd = procfs_open("self/fd", O_PATH | O_DIRECTORY);
        if (fd < 0)
                return procfs_error(err, fd, what, "self/fd");
        return 0;
}

int rootfs_bind_console(int slave, BerthError *err)
{
        char p[32], src[32];
        struct stat st;
        _cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dev_path = chase_in_root_create(root_fd, "/dev", CHASE_CREATE_DIR);
        if (dev_path < 0)
                return error_set(err, dev_path, "create /dev/console");
        _cleanup_close_ int dev = openat(dev_path, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dev < 0)
                return error_set(err, negative_errno(), "create /dev/console");
        /* The image's /dev/console must not decide where the pty goes: a symlink there would carry
         * the bind mount onto whatever it names (CVE-2025-52565). It is replaced by a file of ours. */
        if (fstatat(dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
            unlinkat(dev, "console", 0) < 0)
                return error_set(err, negative_errno(), "remove the symlink at /dev/console");
        _cleanup_close_ int created =
                openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (created < 0 && errno != EEXIST)
                return error_set(err, negative_errno(), "create /dev/console");
        _cleanup_close_ int target = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0 || fstat(target, &st) < 0)
                return error_set(err, negative_errno(), "open /dev/console");
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
                return error_setx(err, -EINVAL, "/dev/console in the rootfs is neither a file nor a device");
        int r = require_procfs_fd_paths("bind the console onto /dev/console", err);
        if (r < 0)
                return r;
        if (mount(fd_proc_path(slave, src), fd_proc_path(target, p), NULL, MS_BIND, NULL) < 0)
                return error_set(err, negative_errno(), "bind the console onto /dev/console");
        return 0;
}

static int write_sysctls(const OciConfig *c, BerthError *err)
{
        for (size_t i = 0; i < c->linux_.n_sysctl; i++) {
                char path[512], what[600];
                const char *key = c->linux_.sysctl[i].key, *value = c->linux_.sysctl[i].value;
                int n = snprintf(path, sizeof(path), "sys/%s", key);
                if (n < 0 || (size_t)n >= sizeof(path) || strstr(key, ".."))
                        return error_setx(err, -EINVAL, "linux.sysctl: invalid key \"%s\"", key);
                for (char *s = path + strlen("sys/"); *s; s++)
                        if (*s == '.')
                                *s = '/';
                snprintf(what, sizeof(what), "linux.sysctl: set \"%s\"", key);
                /* Only into procfs itself: not through a mount or a symlink over the file, which would
                 * take the value elsewhere (CVE-2025-52881). */
                _cleanup_close_ int fd = procfs_open(path, O_WRONLY | O_NOCTTY);
                if (fd < 0)
                        return procfs_error(err, fd, what, path);
                ssize_t k = write(fd, value, strlen(value));
                if (k < 0)
                        return error_set(err, negative_errno(), "%s", what);
                if ((size_t)k != strlen(value))
                        return error_setx(err, -EIO, "%s: short write", what);
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
        int r = require_procfs_fd_paths("linux.maskedPaths", err);
        if (r < 0)
                return r;
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", fd_proc_path(fd, p), "tmpfs",
                          MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0") < 0)
                        return error_set(err, negative_errno(), "linux.maskedPaths: mask \"%s\"", path);
                return 0;
        }
        /* The image's /dev/null was replaced by devices_setup(); checked again here because a bind
         * from anything else would expose it at every masked path (CVE-2025-31133). */
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
        int r = require_procfs_fd_paths("linux.readonlyPaths", err);
        if (r < 0)
                return r;
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
