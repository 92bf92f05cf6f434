/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Unpacked layers, shared by chain id (image-spec config.md): under the storage root,
 *
 *   layers/<chainid-hex>/   the changes of one layer on top of its parents, whiteouts kept as
 *                           overlayfs reads them (a 0/0 char device, trusted.overlay.opaque=y)
 *
 * chainid(L0) = diffid(L0), chainid(Ln) = sha256(chainid(Ln-1) + " " + diffid(Ln)) in the
 * "sha256:<hex>" text form. A layer is unpacked once into a temporary directory next to its
 * final place ("layers/.tmp-<hex>-XXXXXX"), its diff_id checked against the config's
 * rootfs.diff_ids, and renamed into place; when a concurrent unpack of the same chain id won the
 * rename, its directory is kept and ours removed. A chain-id directory is never changed after
 * the rename.
 */

#include <stddef.h>

#include "basic/error.h"
#include "digest.h"
#include "store.h"

typedef struct ImageLayer {
        Digest blob;      /* the compressed layer in the store */
        Digest diff_id;   /* from the config's rootfs.diff_ids */
        Digest chain_id;  /* of this layer and all below it */
        char *media_type; /* of the manifest's descriptor */
        char *dir;        /* <storage>/layers/<chainid-hex>, once prepared */
} ImageLayer;

typedef struct ImageLayers {
        char *config_json;  /* the image config, NUL-terminated */
        ImageLayer *layers; /* bottom first */
        size_t n_layers;
        unsigned unpacked; /* layers image_layers_prepare() unpacked (not found in place) */
} ImageLayers;

void image_layers_done(ImageLayers *l);

/**
 * image_layers_load() - read the image manifest @manifest and its config from @s and fill @ret
 * with the layers' blobs, diff_ids and chain ids (no dir yet). Errors: -ENOENT for a blob not in
 * the store, -EBADMSG for a manifest or config that is malformed or whose layer count differs
 * from rootfs.diff_ids, -ENOMEM.
 */
int image_layers_load(Store *s, const Digest *manifest, ImageLayers *ret, BerthError *err);

/**
 * image_layers_prepare() - make sure every layer of @l is unpacked under @storage_root/layers
 * (see above), filling each dir. Needs root (device nodes, owners, trusted.* xattrs). Errors:
 * -EBADMSG when a layer's diff_id is not the config's (nothing is left of it), the -errno of
 * layer_unpack() with its message, or of the mkdir/rename that failed.
 */
int image_layers_prepare(Store *s, const char *storage_root, ImageLayers *l, BerthError *err);

/** image_chain_id_next() - chainid(Ln) from @parent (chainid(Ln-1); NULL for L0) and @diff_id; -ENOMEM. */
int image_chain_id_next(const Digest *parent, const Digest *diff_id, Digest *ret);
