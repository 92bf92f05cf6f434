/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Streaming, single-pass unpack of one OCI layer (a tar, plain, gzip or zstd) on top of a
 * directory. Every path is resolved inside that directory with openat2(RESOLVE_IN_ROOT) afresh
 * for each entry; nothing the tar says can create, change or remove anything outside it.
 *
 * The target is always a directory the caller made for this unpack (a fresh one, or the result of
 * unpacking the lower layers into it for a flattened rootfs) and owns: on failure the partial tree
 * is left as it is and the caller removes it.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "image/digest.h"

typedef enum LayerCompression {
        LAYER_COMPRESSION_AUTO, /* by the stream's magic bytes */
        LAYER_COMPRESSION_NONE,
        LAYER_COMPRESSION_GZIP,
        LAYER_COMPRESSION_ZSTD,
        _LAYER_COMPRESSION_MAX,
        _LAYER_COMPRESSION_INVALID = -EINVAL,
} LayerCompression;

/**
 * layer_compression_from_media_type() - the compression an OCI or Docker layer media type names
 * ("...tar+gzip", "...tar.gzip", "...tar+zstd", "...tar"); _LAYER_COMPRESSION_INVALID for others.
 */
LayerCompression layer_compression_from_media_type(const char *media_type);

typedef enum LayerWhiteouts {
        LAYER_WHITEOUTS_APPLY,   /* remove what they name from the target (a flattened rootfs) */
        LAYER_WHITEOUTS_OVERLAY, /* keep them as overlayfs does: a 0/0 char device for ".wh.NAME",
                                  * trusted.overlay.opaque=y on the directory for ".wh..wh..opq"
                                  * (a per-layer lower dir; needs privileges) */
        _LAYER_WHITEOUTS_MAX,
        _LAYER_WHITEOUTS_INVALID = -EINVAL,
} LayerWhiteouts;

typedef struct LayerUnpackOptions {
        LayerCompression compression;
        LayerWhiteouts whiteouts;        /* default LAYER_WHITEOUTS_APPLY */
        uint64_t max_uncompressed_bytes; /* the tar stream's size, 0: no limit */
        uint64_t max_entries;            /* 0: no limit */
        bool privileged;                 /* owners, device nodes, trusted.* xattrs */
        uid_t uid_shift;                 /* added to every owner (user namespaces) */
        gid_t gid_shift;
        /* With LAYER_WHITEOUTS_OVERLAY: the unpacked layers below this one, top first (directory
         * fds the caller owns). A directory an entry needs but the layer has no entry for is made
         * as the top-most lower that has it made it: mode, owner, xattrs (trusted.overlay.* aside)
         * and times, as containerd does. Otherwise it would be 0755 root:root with the time of the
         * unpack, and overlayfs, which shows the upper-most directory's attributes, would turn a
         * lower /tmp (1777) into 0755. */
        const int *lower_fds;
        size_t n_lower_fds;
        /* With LAYER_WHITEOUTS_OVERLAY, privileged and no lower_fds, for when the layers below are
         * not unpacked yet (a pull unpacks its layers at once): list the directories made that
         * way, and not described by an entry later, in LayerUnpackResult.implicit_dirs, for
         * layer_implicit_dirs_fix() once the lowers are there. While the layer unpacks they carry
         * the xattr LAYER_IMPLICIT_XATTR (an entry for the directory drops it); none is left when
         * layer_unpack() succeeds. */
        bool list_implicit_dirs;
        /* The caller hashes the compressed bytes it feeds (a pull's store writer does): no blob
         * digest here (LayerUnpackResult.blob_digest is left zero; compressed_bytes still counts
         * them), one SHA-256 pass over the layer here instead of two. An uncompressed layer's one
         * hash is then its diff_id. */
        bool skip_blob_digest;
} LayerUnpackOptions;

/* Marks a directory made for a name's parent, in the unpack that made it (list_implicit_dirs).
 * Never taken from a tar: entries' trusted.berth.* xattrs are skipped. */
#define LAYER_IMPLICIT_XATTR "trusted.berth.implicit"

typedef struct LayerUnpackResult {
        Digest blob_digest;          /* SHA-256 of the bytes read from fd_in (not with skip_blob_digest) */
        Digest diff_id;              /* SHA-256 of the uncompressed tar stream */
        uint64_t compressed_bytes;   /* read from fd_in */
        uint64_t uncompressed_bytes; /* the tar stream, trailing blocks included */
        uint64_t entries;            /* tar entries seen, whiteouts included */
        uint64_t devices_skipped;    /* device nodes left out when not privileged */
        char **implicit_dirs;        /* with list_implicit_dirs: normalised paths, parents first
                                      * (a strv; layer_unpack_result_done() frees it); else NULL */
} LayerUnpackResult;

/** layer_unpack_result_done() - free what @r owns (implicit_dirs); accepts NULL. */
void layer_unpack_result_done(LayerUnpackResult *r);

/**
 * layer_unpack() - read a layer from @fd_in to its end and apply it to the directory @root_dirfd:
 * regular files, directories, symlinks (targets are data, never followed), hardlinks (to regular
 * files already inside the root), fifos and devices (privileged only, else counted and skipped),
 * owners (privileged, shifted), modes, xattrs, mtimes (directories last, deepest first) and
 * whiteouts (".wh.NAME", ".wh..wh..opq"). @o may be NULL for defaults (auto-detected compression,
 * no limits, unprivileged). Returns 0 and fills @ret, or -errno with "entry NAME: why" in @err:
 * -EFBIG past max_uncompressed_bytes, -E2BIG past max_entries, -EBADMSG for a corrupt or truncated
 * stream, -EXDEV for an entry or link name that climbs out of the root.
 */
int layer_unpack(int fd_in, int root_dirfd, const LayerUnpackOptions *o, LayerUnpackResult *ret,
                 BerthError *err);

/**
 * layer_implicit_dirs_fix() - give each directory of @paths (LayerUnpackResult.implicit_dirs of
 * the layer unpacked in @root_dirfd) what layer_unpack() with @lower_fds (top first) would have
 * given it: the mode, owner (@privileged), xattrs (trusted.overlay.* aside) and times of the
 * top-most lower that has it. A lower that hides the path (a whiteout, a file, an opaque parent)
 * ends the search; a path in no lower, or no longer a directory in @root_dirfd, is left as it is.
 * Returns 0 or -errno with the path in @err.
 */
int layer_implicit_dirs_fix(int root_dirfd, char *const *paths, const int *lower_fds, size_t n_lower_fds,
                            bool privileged, BerthError *err);
