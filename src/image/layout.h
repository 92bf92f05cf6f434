/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * OCI image layouts (image-spec image-layout.md) and their tar archives, so images move between
 * berth and skopeo, Podman, umoci and containerd:
 *
 *   oci-layout               {"imageLayoutVersion": "1.0.0"}
 *   index.json               an image index; each entry an image (manifest) or a multi-arch index
 *   blobs/sha256/<hex>       content by digest
 *
 * Loading plans first and acts second: index.json, every manifest, config and layer a name needs
 * is read and its size and digest checked against its descriptor before anything enters the store;
 * then each blob is copied in through a store blob writer, which verifies it again (the layout may
 * change under us). Names are set last, so a name never points at incomplete content.
 *
 * A name for an entry comes from, in order: the "io.containerd.image.name" annotation (a full
 * reference), the "org.opencontainers.image.ref.name" annotation when it is a full reference
 * (contains '/', ':' or '@'), and otherwise --name: with one entry, --name is the image's name; with
 * several, each entry whose ref name is a bare tag gets "REPOSITORY-OF-NAME:TAG". An entry whose
 * name cannot be derived is refused before anything is copied. An entry that is an index stands
 * for the host platform's image in it, as `berth pull` picks it.
 *
 * Saving writes a fresh layout with one entry: the manifest, its config and layers, and
 * index.json naming it with "org.opencontainers.image.ref.name" = the tag (what skopeo's
 * oci:DIR:TAG and umoci's DIR:TAG look up) and "io.containerd.image.name" = the full name.
 */

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "digest.h"
#include "store.h"

#define LAYOUT_ANNOTATION_REF_NAME        "org.opencontainers.image.ref.name"
#define LAYOUT_ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

typedef struct LayoutLoaded {
        char **names;      /* canonical references, in index.json order */
        Digest *manifests; /* the manifest digest each name now maps to */
        size_t n;
        unsigned blobs_added;
        unsigned blobs_present;
} LayoutLoaded;

/** layout_loaded_done() - free what a load returned. */
void layout_loaded_done(LayoutLoaded *l);

/**
 * image_layout_load() - load every image of the OCI layout at @dir into @s (see above). @name is
 * --name or NULL. Errors: -ENOENT/-EINVAL for what is not a layout ("no oci-layout file"),
 * -EBADMSG for a blob whose size or digest is not its descriptor's, -EINVAL when no name can be
 * derived, -EOPNOTSUPP for unknown media types; nothing is named then.
 */
int image_layout_load(Store *s, const char *dir, const char *name, LayoutLoaded *ret, BerthError *err);

/**
 * image_archive_load() - image_layout_load() of a tar archive of an OCI layout (compressed or
 * not), extracted first into a private directory under the store's tmp/. Only directories and
 * regular files are extracted; symlinks are skipped; an absolute path, a ".." component, a
 * hardlink or a device is refused with -EPERM. A Docker archive (`docker save`: manifest.json,
 * config and layer files, RepoTags as names) is turned into an OCI layout there first.
 */
int image_archive_load(Store *s, const char *archive, const char *name, LayoutLoaded *ret, BerthError *err);

/**
 * image_layout_save() - write the image @name (a reference, parsed with Docker's rules) from @s
 * as a new OCI layout in @dir, which must not exist or be empty (-EEXIST otherwise).
 */
int image_layout_save(Store *s, const char *name, const char *dir, BerthError *err);

/**
 * image_archive_save() - the same layout as an uncompressed tar at @archive, written to a
 * temporary file beside it and renamed into place.
 */
int image_archive_save(Store *s, const char *name, const char *archive, BerthError *err);

/**
 * image_docker_archive_save() - the image @name as a Docker archive (`docker save`'s format, what
 * `docker load`, `podman load` and skopeo's docker-archive: read) at @archive: the config as
 * <hex>.json, each layer uncompressed as <diff_id-hex>.tar (checked against the config's diff_id,
 * -EBADMSG otherwise), manifest.json and repositories; written beside @archive and renamed.
 */
int image_docker_archive_save(Store *s, const char *name, const char *archive, BerthError *err);
