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
} LayerUnpackOptions;

typedef struct LayerUnpackResult {
        Digest blob_digest;          /* SHA-256 of the bytes read from fd_in */
        Digest diff_id;              /* SHA-256 of the uncompressed tar stream */
        uint64_t compressed_bytes;   /* read from fd_in */
        uint64_t uncompressed_bytes; /* the tar stream, trailing blocks included */
        uint64_t entries;            /* tar entries seen, whiteouts included */
        uint64_t devices_skipped;    /* device nodes left out when not privileged */
} LayerUnpackResult;

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
