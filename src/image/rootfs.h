/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A container's root filesystem under the storage root:
 *
 *   containers/<id>/upper/    the container's changes (overlayfs upper dir)
 *   containers/<id>/work/     overlayfs's work dir
 *   containers/<id>/rootfs/   overlayfs with lowerdir = the image's chain-id dirs, top first
 *   containers/<id>/layers    those chain ids (hex), one a line, bottom first: the layer GC
 *                             (image_gc_layers()) keeps them while the directory exists
 *
 * The overlay is mounted with mount(2) and a "lowerdir=A:B:...,upperdir=,workdir=" option
 * string, which the kernel limits to one page (4096 bytes): with 70-byte chain-id paths that is
 * about 50 layers (fsconfig's lowerdir+ would lift it; not used yet), and a longer list falls
 * back to the copy below. Where overlayfs cannot be
 * mounted (tried, not guessed: no module, an upper filesystem it refuses), rootfs/ is instead a
 * plain directory with every layer unpacked into it in order (whiteouts applied), and upper/
 * and work/ stay empty.
 */

#include <stdbool.h>

#include "basic/error.h"
#include "layers.h"
#include "store.h"

typedef enum ContainerRootfsKind {
        CONTAINER_ROOTFS_OVERLAY,
        CONTAINER_ROOTFS_COPY,
} ContainerRootfsKind;

typedef enum ContainerRootfsFlags {
        CONTAINER_ROOTFS_NO_OVERLAY = 1 << 0, /* copy even where overlayfs works (tests, odd hosts) */
} ContainerRootfsFlags;

/**
 * container_rootfs_create() - make containers/@id under @storage_root (-EEXIST when it exists)
 * and its rootfs over the prepared layers @l (image_layers_prepare()). On success *@ret_rootfs is
 * the rootfs path (the caller frees it) and *@ret_kind says how it was made. On failure nothing
 * of containers/@id is left.
 */
int container_rootfs_create(Store *s, const char *storage_root, const char *id, const ImageLayers *l,
                            ContainerRootfsFlags flags, char **ret_rootfs, ContainerRootfsKind *ret_kind,
                            BerthError *err);

/**
 * image_rootfs_unpack() - unpack every layer of @l (image_layers_load(); no dirs needed) from @s
 * into the directory @dirfd, bottom first, whiteouts applied: the image's flattened rootfs. As
 * root, owners, device nodes and trusted.* xattrs are kept. Each layer's diff_id must be the
 * config's (-EBADMSG otherwise). On failure the partial tree is left for the caller to remove.
 */
int image_rootfs_unpack(Store *s, const ImageLayers *l, int dirfd, BerthError *err);

/**
 * container_rootfs_unmount() - unmount containers/@id/rootfs when it is a mount point (not an
 * error when it is not), keeping the directory and upper/ for inspection.
 */
int container_rootfs_unmount(const char *storage_root, const char *id, BerthError *err);

/** container_rootfs_remove() - unmount as above, then remove containers/@id entirely. */
int container_rootfs_remove(const char *storage_root, const char *id, BerthError *err);
