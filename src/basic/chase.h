/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Resolving paths inside a directory tree that must never be left (a container
 * rootfs, an unpacked layer): "..", absolute symlinks and symlinks with ".." all
 * stay under the root. Uses openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); where
 * the kernel lacks openat2 it walks component by component and resolves symlinks
 * itself against the root. Never cache a result across operations that can change
 * the tree: resolve again.
 */

#include <stdbool.h>
#include <sys/types.h>

/**
 * chase_in_root() - open @path (absolute or relative, both taken relative to @root_fd)
 * with @open_flags (O_PATH, O_DIRECTORY, O_NOFOLLOW for the last component, ...).
 * O_CLOEXEC is always added. Returns the fd or -errno.
 */
int chase_in_root(int root_fd, const char *path, int open_flags);

typedef enum ChaseCreate {
        CHASE_CREATE_DIR,  /* make missing directories, the last one too */
        CHASE_CREATE_FILE, /* make missing parent directories and an empty regular file */
} ChaseCreate;

/**
 * chase_in_root_create() - like chase_in_root() with O_PATH, creating what is missing
 * (mode 0755 directories, 0644 files). Each missing component is created with
 * mkdirat()/openat(O_EXCL) on the safely resolved parent, so it cannot land outside.
 */
int chase_in_root_create(int root_fd, const char *path, ChaseCreate what);

/** path_is_safe_relative_component() - a single name, not "." or "..", no "/". */
bool path_is_safe_relative_component(const char *name);

/**
 * procfs_open() - open @path ("sys/kernel/shmmax", "self/fd", relative to /proc) in the procfs
 * mounted at /proc, with @open_flags (O_CLOEXEC added). /proc must be the root of a procfs, and
 * the walk may not cross a mount point or follow a magic link, nor leave /proc: a fake procfs, a
 * bind mount over a procfs file, or a symlink in its place cannot redirect what the runtime reads
 * or writes there (CVE-2019-16884, CVE-2025-52881). Plain symlinks inside procfs ("self") are
 * followed. Returns the fd, -EMEDIUMTYPE when /proc is not a procfs root, -EXDEV when a mount is
 * in the way, or another -errno.
 */
int procfs_open(const char *path, int open_flags);

/** fd_proc_path() - "/proc/self/fd/N" for mounting onto a resolved fd. */
const char *fd_proc_path(int fd, char buf[static 32]);
