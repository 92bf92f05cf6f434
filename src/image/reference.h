/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Image references with Docker's name rules, as `docker pull`, Podman and containerd's
 * reference package (github.com/distribution/reference, ParseNormalizedNamed) read them:
 *
 *   busybox                      -> docker.io/library/busybox:latest
 *   user/app                     -> docker.io/user/app:latest
 *   host:5000/repo:tag           -> host:5000/repo:tag
 *   localhost/x                  -> localhost/x:latest
 *   ghcr.io/a/b@sha256:...       -> ghcr.io/a/b@sha256:...  (no tag)
 *   repo:tag@sha256:...          -> docker.io/library/repo:tag@sha256:... (the digest wins for pulling)
 *
 * The first path component is a registry when it contains '.' or ':' or is "localhost";
 * "index.docker.io" is "docker.io". Repository components follow the distribution-spec grammar
 * ([a-z0-9]+ joined by '.', '_', "__" or runs of '-'), the whole "registry/repository" is at most
 * 255 characters, a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, and a digest is what digest_parse()
 * takes.
 */

#include <stdbool.h>

#include "basic/error.h"
#include "digest.h"

#define IMAGE_REFERENCE_DEFAULT_REGISTRY "docker.io"
#define IMAGE_REFERENCE_DEFAULT_TAG      "latest"
#define IMAGE_REFERENCE_NAME_MAX         255

typedef struct ImageReference {
        char *registry;   /* canonical registry name with port: "docker.io", "localhost:5000" */
        char *endpoint;   /* host[:port] to contact: "registry-1.docker.io" for docker.io */
        char *repository; /* "library/busybox" */
        char *tag;        /* "latest"; NULL when the reference names only a digest */
        bool has_digest;
        Digest digest; /* valid when has_digest */
} ImageReference;

/**
 * image_reference_parse() - parse @s with Docker's normalisation (see above). A reference
 * without tag and digest gets the tag "latest". On success *@ret is a new reference the caller
 * frees with image_reference_free(). Errors: -EINVAL with "\"REF\": why" in @err (for example
 * "repository name must be lowercase"), -ENOMEM.
 */
int image_reference_parse(const char *s, ImageReference **ret, BerthError *err);

/** image_reference_free() - free @ref; accepts NULL, returns NULL. */
ImageReference *image_reference_free(ImageReference *ref);

static inline void image_reference_freep(ImageReference **ref)
{
        image_reference_free(*ref);
}

/**
 * image_reference_format() - the canonical full string: "docker.io/library/busybox:latest",
 * "ghcr.io/a/b@sha256:<hex>", "docker.io/library/repo:tag@sha256:<hex>". A new string the
 * caller frees, or NULL when out of memory.
 */
char *image_reference_format(const ImageReference *ref);

/**
 * image_reference_canonical() - parse @text and give its canonical form (image_reference_format())
 * in *@ret, which the caller frees. Returns 0, -EINVAL (message in @err) or -ENOMEM.
 */
int image_reference_canonical(const char *text, char **ret, BerthError *err);

/** image_reference_name() - "registry/repository" without tag or digest; NULL when out of memory. */
char *image_reference_name(const ImageReference *ref);
