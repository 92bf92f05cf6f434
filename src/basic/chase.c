/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "chase.h"
#include "macro.h"

#define CHASE_MAX_SYMLINKS 40

static int openat2_in_root(int root_fd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        do
                fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? negative_errno() : fd;
}

/* The fallback: walk one component at a time, never following a symlink with the
 * kernel's help; symlink targets are spliced into the remaining path and absolute
 * ones restart at the root. ".." at the root stays at the root. */
static int walk_in_root(int root_fd, const char *path, int flags)
{
        _cleanup_free_ char *todo = strdup(path);
        _cleanup_close_ int cur = -EBADF;
        int hops = 0;

        if (!todo)
                return -ENOMEM;
        cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return negative_errno();
        /* Depth tracking lets ".." stop at the root without asking the kernel. */
        int depth = 0;
        char *rest = todo;
        for (;;) {
                while (*rest == '/')
                        rest++;
                if (!*rest)
                        break;
                char *slash = strchr(rest, '/');
                size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
                char name[256];
                if (n >= sizeof(name))
                        return -ENAMETOOLONG;
                memcpy(name, rest, n);
                name[n] = '\0';
                rest += n;
                bool last = strspn(rest, "/") == strlen(rest);
                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        if (depth == 0)
                                continue;
                        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (up < 0)
                                return negative_errno();
                        safe_close(cur);
                        cur = up;
                        depth--;
                        continue;
                }
                struct stat st;
                if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();
                if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
                        char target[4096];
                        ssize_t k = readlinkat(cur, name, target, sizeof(target) - 1);
                        if (k < 0)
                                return negative_errno();
                        target[k] = '\0';
                        if (++hops > CHASE_MAX_SYMLINKS)
                                return -ELOOP;
                        size_t tl = (size_t)k, rl = strlen(rest);
                        char *next = malloc(tl + rl + 2);
                        if (!next)
                                return -ENOMEM;
                        memcpy(next, target, tl);
                        memcpy(next + tl, rest, rl + 1);
                        free(todo);
                        todo = next;
                        rest = todo;
                        if (target[0] == '/') {
                                safe_close(cur);
                                cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
                                if (cur < 0)
                                        return negative_errno();
                                depth = 0;
                        }
                        continue;
                }
                int next_fd = last ? openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC)
                                   : openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next_fd < 0)
                        return negative_errno();
                safe_close(cur);
                cur = next_fd;
                depth++;
                if (last)
                        return TAKE_FD(cur);
        }
        /* The path named the root itself. */
        if (flags & O_PATH)
                return TAKE_FD(cur);
        int fd = openat(cur, ".", flags | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

int chase_in_root(int root_fd, const char *path, int open_flags)
{
        static int have_openat2 = -1;

        if (have_openat2 != 0) {
                int fd = openat2_in_root(root_fd, path, open_flags);
                if (fd != -ENOSYS) {
                        have_openat2 = 1;
                        return fd;
                }
                have_openat2 = 0;
        }
        return walk_in_root(root_fd, path, open_flags);
}

static int split_parent(const char *path, char **ret_parent, const char **ret_name)
{
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
                n--;
        const char *end = path + n;
        const char *slash = end;
        while (slash > path && slash[-1] != '/')
                slash--;
        *ret_name = slash;
        *ret_parent = strndup(path, (size_t)(slash - path));
        return *ret_parent ? 0 : -ENOMEM;
}

int chase_in_root_create(int root_fd, const char *path, ChaseCreate what)
{
        _cleanup_free_ char *parent = NULL, *name = NULL;
        const char *base;
        int fd, r;

        fd = chase_in_root(root_fd, path, O_PATH);
        if (fd != -ENOENT)
                return fd;
        r = split_parent(path, &parent, &base);
        if (r < 0)
                return r;
        name = strdup(base);
        if (!name)
                return -ENOMEM;
        char *slash = strchr(name, '/');
        if (slash)
                *slash = '\0';
        if (!path_is_safe_relative_component(name))
                return -EINVAL;
        _cleanup_close_ int parent_fd =
                chase_in_root_create(root_fd, *parent ? parent : "/", CHASE_CREATE_DIR);
        if (parent_fd < 0)
                return parent_fd;
        if (what == CHASE_CREATE_DIR) {
                if (mkdirat(parent_fd, name, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
        } else {
                int f = openat(parent_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0 && errno != EEXIST)
                        return negative_errno();
                safe_close(f);
        }
        /* Resolve again from the root: what we created, or what raced us, is checked like anything else. */
        return chase_in_root(root_fd, path, O_PATH);
}

bool path_is_safe_relative_component(const char *name)
{
        return *name && !streq(name, ".") && !streq(name, "..") && !strchr(name, '/');
}

/* The inode number of every procfs instance's root directory. */
#define PROC_ROOT_INO 1

int procfs_open(const char *path, int open_flags)
{
        _cleanup_close_ int proc = -EBADF;
        struct statfs sf;
        struct stat st;
        struct open_how how = {
                .flags = (uint64_t)(open_flags | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        proc = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (proc < 0)
                return negative_errno();
        if (fstatfs(proc, &sf) < 0 || fstat(proc, &st) < 0)
                return negative_errno();
        if (sf.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO)
                return -EMEDIUMTYPE;
        /* No fallback without openat2(): berth needs setns() on a pidfd (Linux 5.8) anyway. */
        do
                fd = (int)syscall(SYS_openat2, proc, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? negative_errno() : fd;
}

const char *fd_proc_path(int fd, char buf[static 32])
{
        snprintf(buf, 32, "/proc/self/fd/%d", fd);
        return buf;
}
