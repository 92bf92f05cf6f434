/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The content store under a root directory (berth's --storage, default /var/lib/berth):
 *
 *   blobs/sha256/<hex>   content by digest, verified before it becomes visible
 *   tmp/                 blobs being written (O_TMPFILE where the filesystem has it)
 *   names.json           canonical reference -> manifest digest
 *   names.lock           flock()ed around every read-modify-write of names.json
 *   locks/<hex>          flock()ed by the one process downloading that blob (store_blob_lock())
 *   gc.lock              flock()ed shared by pulls, loads and runs, exclusive by GC (store_gc_lock())
 *
 * A blob is written to an unnamed (O_TMPFILE) or uniquely named file in tmp/, on the same
 * filesystem as blobs/, hashed while it streams in, and linked into blobs/ only after its size
 * and digest check out and it has been fsync()ed; the directory is fsync()ed after the link. A
 * blob that already exists is never rewritten. Two writers of the same digest may both download
 * it: the first commit links its file, the second finds the blob present and discards its own
 * temporary file, and both commits succeed. A writer freed without a commit leaves nothing.
 * A process killed mid-write leaves nothing either with O_TMPFILE (the kernel drops the unnamed
 * file); on a filesystem without it a "tmp/blob-<pid>-<random>" file may remain, never a blob.
 *
 * Every function returns 0 (or a documented positive value) on success and -errno on failure,
 * with "what: why" naming the path or digest in the BerthError.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "digest.h"

#define STORE_DEFAULT_ROOT "/var/lib/berth"

typedef struct Store Store;

/**
 * store_open() - open the store at @root, creating it and its directories (mode 0700) when
 * missing. *@ret is freed with store_free(). Errors: -errno of the mkdir/open that failed.
 */
int store_open(const char *root, Store **ret, BerthError *err);

typedef enum StoreOpenFlags {
        STORE_NO_TMPFILE = 1 << 0, /* named temporary files even where O_TMPFILE works (tests) */
} StoreOpenFlags;

/** store_open_flags() - store_open() with @flags. */
int store_open_flags(const char *root, StoreOpenFlags flags, Store **ret, BerthError *err);

/** store_free() - close the store; accepts NULL, returns NULL. */
Store *store_free(Store *s);

static inline void store_freep(Store **s)
{
        store_free(*s);
}

/* ---- blobs ---- */

typedef struct StoreBlobWriter StoreBlobWriter;

/**
 * store_blob_writer_begin() - start writing a blob of @expected_size bytes (-1 when unknown)
 * into a temporary file in the store's tmp/. The writer borrows @s, which must outlive it.
 */
int store_blob_writer_begin(Store *s, int64_t expected_size, StoreBlobWriter **ret, BerthError *err);

/**
 * store_blob_writer_write() - append @n bytes, hashing them. More bytes than the announced size
 * is -EFBIG at once; after any failure the writer only accepts store_blob_writer_free().
 */
int store_blob_writer_write(StoreBlobWriter *w, const void *data, size_t n, BerthError *err);

/** store_blob_writer_size() - bytes written so far. */
uint64_t store_blob_writer_size(const StoreBlobWriter *w);

/**
 * store_blob_writer_digest() - end the content and put its digest in *@ret: the hash is finished
 * here, once; no write is accepted afterwards, and store_blob_writer_commit() compares this digest
 * with the expected one instead of hashing again. For a caller that must know every blob is
 * right before it commits any (a pull), without hashing the content a second time. -EBADMSG
 * after an earlier failure.
 */
int store_blob_writer_digest(StoreBlobWriter *w, Digest *ret);

/**
 * store_blob_writer_commit() - check the size (when announced) and that the content hashes to
 * @expected, fsync, and make the blob visible at blobs/sha256/<hex> atomically. Returns 0 when
 * this writer added the blob and 1 when it was already present (this writer's copy is dropped).
 * A size or digest mismatch is -EBADMSG (a dedicated errno, so callers can tell corrupt content
 * from other failures); nothing is then left in blobs/ nor in tmp/. A writer commits at most once.
 */
int store_blob_writer_commit(StoreBlobWriter *w, const Digest *expected, BerthError *err);

/** store_blob_writer_free() - free @w, removing its temporary file if not committed; returns NULL. */
StoreBlobWriter *store_blob_writer_free(StoreBlobWriter *w);

static inline void store_blob_writer_freep(StoreBlobWriter **w)
{
        store_blob_writer_free(*w);
}

/** store_blob_exists() - 1 when the blob is present, 0 when not, -errno when it cannot be told. */
int store_blob_exists(Store *s, const Digest *d);

/**
 * store_blob_lock() - take the exclusive download lock of blob @d: flock() on locks/<hex>,
 * waiting while another process holds it, so that concurrent pulls download a blob once (the
 * waiter then finds it present with store_blob_exists()). The lock file is removed by
 * store_blob_unlock(); a waiter that locked a file since removed locks the new one instead. The
 * lock fd (O_CLOEXEC) goes to *@ret_fd. Errors: -errno of the mkdir/open/flock that failed.
 */
int store_blob_lock(Store *s, const Digest *d, int *ret_fd, BerthError *err);

/** store_blob_unlock() - remove the lock file of @d and close @fd (the lock with it); -EBADF is a no-op. */
void store_blob_unlock(Store *s, const Digest *d, int fd);

/**
 * store_gc_lock() - take the store-wide GC lock, flock() on gc.lock: LOCK_SH (@exclusive false)
 * by whoever finds blobs or layer directories and then relies on them (a pull or load until the
 * name is set, a run until its container's "layers" file is written and its rootfs mounted),
 * LOCK_EX by GC (rmi, prune), so GC never removes what such a process found. Shared holders never
 * wait for each other. When the lock is not free at once, @on_wait (may be NULL) is called with
 * @userdata before blocking. The lock fd (O_CLOEXEC; close it to release, and before forking a
 * long-lived child, which would hold the lock too) goes to *@ret_fd. Errors: -errno of the open
 * or flock that failed.
 */
int store_gc_lock(Store *s, bool exclusive, void (*on_wait)(void *userdata), void *userdata, int *ret_fd,
                  BerthError *err);

/** store_blob_open() - open the blob read-only (O_CLOEXEC) into *@ret_fd; -ENOENT when absent. */
int store_blob_open(Store *s, const Digest *d, int *ret_fd, BerthError *err);

/** store_blob_size() - the blob's size in bytes; -ENOENT when absent. */
int store_blob_size(Store *s, const Digest *d, uint64_t *ret, BerthError *err);

/**
 * store_blobs_list() - the digests of every blob in blobs/sha256 (files whose names are not 64
 * lowercase hex digits are skipped), in directory order, as a new array in *@ret (NULL when
 * empty) with its length in *@ret_n.
 */
int store_blobs_list(Store *s, Digest **ret, size_t *ret_n, BerthError *err);

/** store_blob_mtime() - the blob's modification time (seconds); -ENOENT when absent. */
int store_blob_mtime(Store *s, const Digest *d, int64_t *ret, BerthError *err);

/**
 * store_blob_remove() - unlink the blob. The caller decides that nothing references it (see
 * image_gc_*()). -ENOENT when absent.
 */
int store_blob_remove(Store *s, const Digest *d, BerthError *err);

/**
 * store_tmp_prune() - remove entries of tmp/ (files and directories) last modified more than
 * @older_than_sec seconds ago: leftovers of killed writers and loads. Returns how many were removed.
 */
int store_tmp_prune(Store *s, int64_t older_than_sec, BerthError *err);

/**
 * store_blob_read() - the whole blob (a manifest, a config) as a NUL-terminated buffer; -EFBIG
 * when larger than @max_bytes, -ENOENT when absent.
 */
int store_blob_read(Store *s, const Digest *d, size_t max_bytes, char **ret, size_t *ret_len,
                    BerthError *err);

/** store_root() - the store's root directory, as given to store_open(). */
const char *store_root(const Store *s);

/* ---- names ---- */

/**
 * store_name_set() - map @name (a canonical reference, "docker.io/library/busybox:latest") to
 * @d, replacing an earlier mapping. names.json is rewritten atomically (fsync'ed) under the
 * lock. -EINVAL for an empty name or one with control characters.
 */
int store_name_set(Store *s, const char *name, const Digest *d, BerthError *err);

/** store_name_get() - the digest @name maps to; -ENOENT when there is no such name. */
int store_name_get(Store *s, const char *name, Digest *ret, BerthError *err);

/** store_name_remove() - drop @name; -ENOENT when there is no such name. */
int store_name_remove(Store *s, const char *name, BerthError *err);

/**
 * store_names_list() - all names, sorted (strcmp order), as a NULL-terminated list the caller
 * frees with strv_free(). An empty store gives an empty list, not NULL.
 */
int store_names_list(Store *s, char ***ret, BerthError *err);
