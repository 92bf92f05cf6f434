/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Garbage collection of the content store: a blob is live when a name reaches it through its
 * manifest (config and layers) or index (its manifests, and theirs). `berth rmi` removes the
 * blobs its names reached that no remaining name reaches; `berth image prune` removes every blob
 * no name reaches. Pulls and loads write blobs before they set the name, so a prune running
 * beside one could take a blob it is about to name: prune leaves blobs younger than
 * IMAGE_GC_GRACE_SEC alone, and rmi only removes what the removed names reached.
 */

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "digest.h"
#include "store.h"

#define IMAGE_GC_GRACE_SEC           (10 * 60)
#define IMAGE_GC_TMP_MAX_AGE_S       (60 * 60)
#define IMAGE_GC_LAYER_TMP_MAX_AGE_S (60 * 60) /* pull unpacks while it downloads: slow */

typedef struct DigestSet {
        Digest *items;
        size_t n;
} DigestSet;

/** digest_set_done() - free the set's items. */
void digest_set_done(DigestSet *set);

/** digest_set_contains() - whether @d is in @set. */
bool digest_set_contains(const DigestSet *set, const Digest *d);

/**
 * image_gc_reachable() - add to @set every blob reachable from @roots (the roots included):
 * manifests' configs and layers, indexes' manifests. Blobs referenced but absent are added
 * without being walked. Errors: a root or manifest that cannot be read or is not JSON.
 */
int image_gc_reachable(Store *s, const Digest *roots, size_t n_roots, DigestSet *set, BerthError *err);

/** image_gc_live() - the blobs reachable from every name in the store. */
int image_gc_live(Store *s, DigestSet *ret, BerthError *err);

/**
 * image_gc_remove_unreferenced() - remove the blobs of @candidates (every blob in the store when
 * NULL) that are not live and, when @min_age_sec > 0, were last modified at least that long ago.
 * The live set is computed here, after the caller's name changes. Returns the number removed;
 * *@ret_bytes (when not NULL) gets their total size.
 */
int image_gc_remove_unreferenced(Store *s, const DigestSet *candidates, int64_t min_age_sec,
                                 uint64_t *ret_bytes, BerthError *err);

/**
 * image_gc_chain_ids() - add to @set the chain ids of the layers of the image manifest @manifest
 * (image_layers_load()). Errors: those of image_layers_load().
 */
int image_gc_chain_ids(Store *s, const Digest *manifest, DigestSet *set, BerthError *err);

/**
 * image_gc_layers() - remove the unpacked layer directories under <store root>/layers (see
 * layers.h) that no image named in @s uses (by chain id) and no container under
 * <store root>/containers uses (its "layers" file, written by container_rootfs_create()). With
 * @candidates, only those chain ids are considered (rmi); otherwise every directory. A directory
 * is renamed to layers/.gc-<hex>-<pid> before it is removed, so nobody finds half of it; .gc-
 * leftovers of an interrupted GC go too, and .tmp- directories of an unpack (layers.c) last
 * changed more than @tmp_min_age_sec ago (0: none). A container directory without a "layers" file
 * (made by an older berth, or being made) keeps every layer: nothing is removed then. Returns the
 * number of directories removed.
 */
int image_gc_layers(Store *s, const DigestSet *candidates, int64_t tmp_min_age_sec, BerthError *err);
