/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The seccomp profile `berth run` puts in linux.seccomp: Docker's default profile (moby's
 * profiles/seccomp/default.json, kept here as a C table), or a profile file given with
 * `--security-opt seccomp=FILE`, in Docker's format or the OCI one. A Docker-format profile
 * is resolved as Docker resolves it for its runtime: archMap picks the architectures of this
 * machine, and a rule's includes/excludes (capabilities of the bounding set, architectures,
 * minimum kernel) decide whether it is kept. See docs/seccomp.md, "The default profile of
 * `berth run`".
 */

#include <stdbool.h>

#include "basic/error.h"

struct json_object;

/* Where a profile is resolved: what Docker takes from runtime.GOARCH and uname(). */
typedef struct SeccompHost {
        const char *arch;      /* Docker's name ("amd64", "arm64", "s390x", ...); NULL: not known */
        const char *scmp_arch; /* the native SCMP_ARCH_* name; NULL: not known */
        unsigned kernel_major;
        unsigned kernel_minor;
} SeccompHost;

/** image_seccomp_host_detect() - this machine: the build's architecture and uname()'s kernel. */
void image_seccomp_host_detect(SeccompHost *ret);

/**
 * image_seccomp_default_build() - the linux.seccomp object of Docker's default profile for a
 * process whose bounding set is @bounding (NULL-terminated "CAP_*" names; NULL is none) on
 * @host (NULL: this machine). *@ret is a new object the caller puts. -ENOMEM only.
 */
int image_seccomp_default_build(char *const *bounding, const SeccompHost *host, struct json_object **ret);

/**
 * image_seccomp_profile_read() - read the profile file @path (at most 1 MiB) and check that it is
 * a JSON object; *@ret_text is the file's text, for image_seccomp_profile_resolve(). Errors
 * name the file: `seccomp profile "/p.json": not valid JSON: ...`; -ENOMEM.
 */
int image_seccomp_profile_read(const char *path, char **ret_text, BerthError *err);

/**
 * image_seccomp_profile_resolve() - turn the profile @text (Docker's format or the OCI one) into a
 * linux.seccomp object for @bounding on @host (NULL: this machine). @name says where the text
 * came from, for messages. OCI keys are copied as they are (berth-runtime checks them); Docker's
 * archMap, name, comment, includes and excludes are resolved; any other key is refused, as is a
 * profile without defaultAction or with both archMap and architectures. -EINVAL with the
 * message in @err, or -ENOMEM.
 */
int image_seccomp_profile_resolve(const char *text, const char *name, char *const *bounding,
                                  const SeccompHost *host, struct json_object **ret, BerthError *err);
