/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Image config -> runtime bundle config.json (image-spec conversion.md), for `berth run`.
 *
 * The document starts from the same safe defaults `berth-runtime spec` writes
 * (oci/default-spec.h) and takes from the image config (OCI or Docker format) the command
 * (Entrypoint + Cmd), Env, WorkingDir, User (resolved through the rootfs's /etc/passwd and
 * /etc/group, opened with RESOLVE_IN_ROOT), Volumes, and as annotations StopSignal, Labels,
 * ExposedPorts, os, architecture, variant, os.version, os.features, author and created.
 * The caller's options (BundleOptions, the `berth run` flags) are applied on top, as Docker and
 * Podman apply them. linux.seccomp is Docker's default profile for the final bounding set
 * (image/seccomp-profile.h), or a profile file, or nothing (BundleSeccomp).
 */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

typedef enum BundleNetwork {
        BUNDLE_NETWORK_NONE, /* a new network namespace with only loopback */
        BUNDLE_NETWORK_HOST, /* the host's network namespace */
        _BUNDLE_NETWORK_MAX,
        _BUNDLE_NETWORK_INVALID = -EINVAL,
} BundleNetwork;

/** bundle_network_from_string() - "none" or "host"; _BUNDLE_NETWORK_INVALID otherwise. */
BundleNetwork bundle_network_from_string(const char *s);
const char *bundle_network_to_string(BundleNetwork n);

typedef enum BundleImageVolumes {
        BUNDLE_IMAGE_VOLUMES_IGNORE, /* Config.Volumes are left to the rootfs (podman --image-volume ignore)
                                      */
        BUNDLE_IMAGE_VOLUMES_TMPFS,  /* a fresh tmpfs on each (podman --image-volume tmpfs) */
        _BUNDLE_IMAGE_VOLUMES_MAX,
        _BUNDLE_IMAGE_VOLUMES_INVALID = -EINVAL,
} BundleImageVolumes;

typedef enum BundleSeccomp {
        BUNDLE_SECCOMP_DEFAULT,    /* Docker's default profile, resolved for the bounding set */
        BUNDLE_SECCOMP_UNCONFINED, /* no linux.seccomp (--security-opt seccomp=unconfined) */
        BUNDLE_SECCOMP_PROFILE,    /* the file seccomp_profile (--security-opt seccomp=FILE) */
        _BUNDLE_SECCOMP_MAX,
        _BUNDLE_SECCOMP_INVALID = -EINVAL,
} BundleSeccomp;

/* Every member may be left zero/NULL: then the image's value or the secure default is used. */
typedef struct BundleOptions {
        char **args;                 /* CMD... after the image name: replaces the image's Cmd only */
        const char *entrypoint;      /* replaces the image's Entrypoint and drops its Cmd; "" means none */
        char **env;                  /* KEY=VALUE, applied after the image's Env; a later one wins by name */
        const char *user;            /* "name", "uid", "uid:gid", "name:group", "uid:group" */
        const char *workdir;         /* absolute */
        const char *hostname;        /* NULL: the default spec's "berth" */
        const char *rootfs;          /* root.path; NULL: "rootfs" */
        bool read_only;              /* root.readonly */
        bool terminal;               /* process.terminal (and TERM=xterm when Env has no TERM) */
        bool rootless;               /* the default spec's --rootless variant (user namespace) */
        uint64_t memory_limit_bytes; /* 0: no limit */
        uint64_t cpu_millis;         /* CPUs x 1000 (--cpus 1.5 is 1500); 0: no limit */
        uint64_t pids_limit;         /* 0: no limit */
        BundleNetwork network;
        BundleImageVolumes image_volumes;
        char **volumes; /* "HOST:CTR[:ro|:rw]", HOST and CTR absolute */
        BundleSeccomp seccomp;
        const char *seccomp_profile; /* BUNDLE_SECCOMP_PROFILE: a Docker- or OCI-format profile file */
} BundleOptions;

/**
 * image_bundle_config() - build the runtime config.json for the image config @image_config_json
 * and the unpacked rootfs @rootfs_dirfd (only read: /etc/passwd and /etc/group, never leaving it).
 * On success *@ret_config_json is a new NUL-terminated JSON document the caller frees.
 * Errors: -EINVAL with a one-line message in @err for a malformed image config, a relative
 * WorkingDir, an unknown user or group, a bad -v or -e spec, no command to run, a malformed
 * seccomp profile file; -ENOMEM; or the -errno of reading the passwd/group or profile files.
 */
int image_bundle_config(const char *image_config_json, int rootfs_dirfd, const BundleOptions *o,
                        char **ret_config_json, BerthError *err);

typedef struct BundleUser {
        uint32_t uid;
        uint32_t gid;
        uint32_t *additional_gids;
        size_t n_additional_gids;
        char *home; /* from /etc/passwd; "/" when the user has no entry */
} BundleUser;

void bundle_user_done(BundleUser *u);

/**
 * image_bundle_resolve_user() - resolve @spec ("" or NULL is root) against the rootfs's
 * /etc/passwd and /etc/group, as conversion.md says: numeric ids are used as they are (a uid
 * without a passwd entry gets gid 0, as Docker does), names must exist, and additional gids
 * come from /etc/group only for a user name without a group. Fills *@ret on success.
 */
int image_bundle_resolve_user(int rootfs_dirfd, const char *spec, BundleUser *ret, BerthError *err);
