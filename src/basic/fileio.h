/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Whole-file reads and atomic writes, directory helpers. */

#include <stddef.h>
#include <sys/types.h>

#include <dirent.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/** read_full_file_at() - read at most @max_bytes of a file into a NUL-terminated buffer (-EFBIG past it). */
int read_full_file_at(int dirfd, const char *path, size_t max_bytes, char **ret, size_t *ret_len);

typedef enum WriteFileFlags {
        WRITE_FILE_SYNC = 1 << 0, /* fsync before the rename: survive a power cut, not only a crash */
} WriteFileFlags;

/**
 * write_file_atomic_at() - write via a temporary file and rename: readers see old or new, never
 * half. State under /run needs no fsync (tmpfs, gone at reboot anyway); user files get WRITE_FILE_SYNC.
 */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         WriteFileFlags flags);

/** write_string_file() - write @s to an existing file (procfs, sysfs, cgroupfs). */
int write_string_file(const char *path, const char *s);

/** mkdir_p() - create @path and its parents with @mode; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);

/** rm_rf_at() - remove @name below @dirfd recursively, never crossing into another mount. */
int rm_rf_at(int dirfd, const char *name);

/** loop_write() - write all of @buf, retrying on EINTR and short writes. */
int loop_write(int fd, const void *buf, size_t len);

/** loop_read() - read until @len bytes or EOF; returns the number read. */
ssize_t loop_read(int fd, void *buf, size_t len);

/**
 * close_all_fds_except() - close every fd >= @first that is not in @keep (any order, at
 * most 64). Used by forked setup processes, which must not hold the runtime's locks.
 */
void close_all_fds_except(int first, const int *keep, size_t n_keep);
