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
 * image_layers_parse() - like image_layers_load() from an image manifest and its config given as
 * text (@config_json is copied into @ret). Errors as image_layers_load()'s, bar -ENOENT.
 */
int image_layers_parse(const char *manifest_json, const char *config_json, ImageLayers *ret,
                       BerthError *err);

/**
 * image_layers_prepare() - make sure every layer of @l is unpacked under @storage_root/layers
 * (see above), filling each dir. Needs root (device nodes, owners, trusted.* xattrs). Errors:
 * -EBADMSG when a layer's diff_id is not the config's (nothing is left of it), the -errno of
 * layer_unpack() with its message, or of the mkdir/rename that failed.
 */
int image_layers_prepare(Store *s, const char *storage_root, ImageLayers *l, BerthError *err);

/** image_chain_id_next() - chainid(Ln) from @parent (chainid(Ln-1); NULL for L0) and @diff_id; -ENOMEM. */
int image_chain_id_next(const Digest *parent, const Digest *diff_id, Digest *ret);

/*
 * A layer unpacked while it downloads (berth pull as root): image_layer_stream_begin() makes
 * "layers/.tmp-<chainid-hex>-XXXXXX" and starts a child process running layer_unpack() on the
 * reading end of a socket pair; the downloader feeds it every byte of the blob, in order, with
 * image_layer_stream_write() (blocking when the child is behind), so the blob is read once.
 * image_layer_stream_finish() ends the stream and checks what the child saw: every byte fed (whose
 * digest the caller gives) and the diff_id the config promised. image_layer_stream_commit() renames the
 * directory into place (as image_layers_prepare() does). Freeing a stream that was not committed kills and
 * reaps the child and removes the temporary directory: no partial layer is ever left.
 * A child process, not a thread: berth run pulls before it clones containers (STYLE 7).
 */
typedef struct ImageLayerStream ImageLayerStream;

/**
 * image_layer_stream_begin() - start unpacking @layer (blob, diff_id, chain_id, media_type) into
 * a temporary directory under @storage_root/layers. Returns 1 with *@ret NULL when
 * layers/<chainid> is already there (nothing to do), 0 with a new stream in *@ret, or -errno.
 */
int image_layer_stream_begin(const char *storage_root, const ImageLayer *layer, ImageLayerStream **ret,
                             BerthError *err);

/**
 * image_layer_stream_write() - feed the next @n bytes of the blob. A child that stopped early
 * (a corrupt tar) makes this fail with its error; the stream then only accepts free().
 */
int image_layer_stream_write(ImageLayerStream *st, const void *data, size_t n, BerthError *err);

/**
 * image_layer_stream_finish() - end of the blob: wait for the child and check its result.
 * @fed_digest is the SHA-256 of every byte fed, which the caller computed anyway (a pull's store
 * writer hashes the blob): the child does not hash the blob a second time, it counts the bytes
 * it read, which must be every byte fed. -EBADMSG when the bytes fed were not the layer's blob
 * or unpack to another diff_id; the -errno of layer_unpack() with its message otherwise.
 */
int image_layer_stream_finish(ImageLayerStream *st, const Digest *fed_digest, BerthError *err);

/**
 * image_layer_stream_commit() - after a successful finish(), give the directories the layer has
 * no entry for (made for a name's parent) what the top-most of @lower_dirs (the unpacked layers
 * below this one, top first) that has them gave them, as image_layers_prepare() does while it
 * unpacks (see LayerUnpackOptions.lower_fds), then rename the directory to layers/<chainid>.
 * The child could not: the layers below may be downloading at the same time. Returns 0, or 1
 * when a concurrent unpack of the same chain id got there first (ours is removed), or -errno.
 */
int image_layer_stream_commit(ImageLayerStream *st, const char *const *lower_dirs, size_t n_lower_dirs,
                              BerthError *err);

/**
 * image_layers_prepare_streamed() - image_layers_prepare() for a pull: @streams has one entry per
 * layer of @l, a finished stream (image_layer_stream_finish()) or NULL. Bottom first, each
 * stream is committed over the layers below it and every other layer is found in place or
 * unpacked from @s. *@ret_streamed (when not NULL) gets the number of streams committed by us
 * (not lost to a concurrent unpack). Errors: those of image_layers_prepare() and
 * image_layer_stream_commit().
 */
int image_layers_prepare_streamed(Store *s, const char *storage_root, ImageLayers *l,
                                  ImageLayerStream *const *streams, unsigned *ret_streamed, BerthError *err);

/** image_layer_stream_free() - see above; accepts NULL, returns NULL. */
ImageLayerStream *image_layer_stream_free(ImageLayerStream *st);

static inline void image_layer_stream_freep(ImageLayerStream **st)
{
        image_layer_stream_free(*st);
}
