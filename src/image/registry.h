/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A Distribution API v2 client (libcurl) that pulls an image into the content store.
 *
 * registry_pull() asks for the reference's manifest with the OCI index, OCI manifest, Docker
 * manifest list and Docker schema 2 media types (schema 1 is refused), checks its digest (the
 * sha256 of the bytes; equal to the reference's digest when it names one), picks a platform
 * from an index or list and fetches that manifest, then downloads the config and the layers,
 * several at once, each streamed into a store blob writer with its size and digest checked.
 * Nothing becomes visible until every blob has checked out: then the blobs, the manifests and
 * finally the name (canonical reference -> image manifest digest) are committed.
 *
 * Authentication: anonymous, bearer tokens from the WWW-Authenticate challenge, and basic
 * credentials from $REGISTRY_AUTH_FILE or ~/.docker/config.json ("auths", base64 "auth"),
 * sent to the registry (Basic challenge) or to the token server. A bearer token that stops
 * working mid-pull (a 401 to a blob request; it expired) is asked for again once per blob and
 * the request retried. Plain HTTP for localhost, 127.0.0.1 and ::1, for the insecure registries
 * (options, and the registries file below) or when TLS verification is off; HTTPS with the
 * system CAs otherwise.
 *
 * The config is fetched first (into memory, stored with the manifests at the end). With
 * unpack_root set (berth pull as root), every layer not yet unpacked is unpacked while it
 * downloads (image_layer_stream_*(): one pass, download -> digest -> decompress -> unpack) and
 * its layers/<chainid> directory committed after the blobs; a layer whose download had to start
 * over (a 200 to a Range request), or whose blob was already stored, is unpacked from the store
 * after the download. Each blob to download is locked first (store_blob_lock(), in digest
 * order so that two pulls cannot deadlock) and checked again under the lock, so concurrent pulls
 * download it once: the second one waits and then finds it present.
 */

/*
 * The insecure registries file: $BERTH_REGISTRIES_CONF, else REGISTRY_CONF_DEFAULT. Lines
 * "insecure = HOST[:PORT]" (one registry per line); blank lines and lines starting with '#'
 * are ignored, any other line is an error. A missing file is an empty list.
 */
#define REGISTRY_CONF_DEFAULT "/etc/berth/registries.conf"
#define REGISTRY_CONF_ENV     "BERTH_REGISTRIES_CONF"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "digest.h"
#include "reference.h"
#include "store.h"

#define REGISTRY_PARALLEL_DEFAULT 4U

/*
 * A download that stops early (a dropped connection, a curl error, a short body, HTTP 5xx or
 * 429) is tried again, up to REGISTRY_RETRY_ATTEMPTS times in all, after a deterministic
 * exponential backoff: base, 2 x base, 4 x base, ... (200 ms by default, so at most 3 s of
 * waiting per download). $BERTH_PULL_RETRY_BASE_MS sets the base in milliseconds (0 to 10000;
 * the tests make it a few ms). A blob resumes from the bytes already received with
 * "Range: bytes=N-" when the registry advertised Accept-Ranges or answered 206 before; a 200 to
 * that request starts the blob over. Manifests are retried whole.
 */
#define REGISTRY_RETRY_ATTEMPTS        5U
#define REGISTRY_RETRY_BASE_MSEC       200U
#define REGISTRY_RETRY_BASE_ENV        "BERTH_PULL_RETRY_BASE_MS"
#define REGISTRY_RETRY_BASE_MSEC_LIMIT 10000U

typedef struct RegistryPlatform {
        char os[32];
        char architecture[32];
        char variant[32]; /* "" when none asked for */
} RegistryPlatform;

/**
 * registry_platform_parse() - "os/arch[/variant]" ("linux/arm64/v8"). -EINVAL with the text
 * quoted in @err when malformed.
 */
int registry_platform_parse(const char *s, RegistryPlatform *ret, BerthError *err);

/** registry_platform_host() - the platform this binary runs on ("linux/amd64"). */
void registry_platform_host(RegistryPlatform *ret);

/**
 * registry_challenge_param() - the value of @key (case-insensitive) in the parameters of a
 * WWW-Authenticate challenge, `realm="https://auth",service="x",scope="repository:a:pull"`
 * (quoted values may hold commas; unquoted ones end at a comma). A new string the caller frees,
 * or NULL when the key is absent, a quote is unterminated, or out of memory.
 */
char *registry_challenge_param(const char *params, const char *key);

typedef struct RegistryBlobProgress {
        Digest digest;
        uint64_t done_bytes;
        uint64_t total_bytes;
        uint64_t elapsed_msec; /* since its download started, until it ended */
} RegistryBlobProgress;

/*
 * Called while layers download: every layer blob being downloaded, in manifest order, at most every
 * 100 ms and once more with @final when all have finished (not after a failure). For a display;
 * it must not call back into the registry code.
 */
typedef void (*RegistryProgressFn)(const RegistryBlobProgress *blobs, size_t n, bool final, void *userdata);

typedef struct RegistryPullOptions {
        RegistryPlatform platform;
        bool tls_verify;             /* false: plain HTTP for every registry */
        unsigned max_parallel;       /* layers downloaded at once; 0 means REGISTRY_PARALLEL_DEFAULT */
        const char *auth_file;       /* NULL: $REGISTRY_AUTH_FILE, else ~/.docker/config.json */
        RegistryProgressFn progress; /* NULL: none */
        void *progress_userdata;
        /* Set (by a signal handler) to stop the pull: it then fails with -ECANCELED and cleans up
         * as after any failure (no blob, layer directory, lock or name is left). NULL: never. */
        const volatile sig_atomic_t *cancel;
        const char *unpack_root;     /* storage root: unpack layers while they download; NULL: store only */
        char **insecure_registries;  /* more HOST[:PORT] served over plain HTTP (strv, may be NULL) */
        const char *registries_conf; /* NULL: $BERTH_REGISTRIES_CONF, else REGISTRY_CONF_DEFAULT */
} RegistryPullOptions;

/**
 * registry_conf_load() - the insecure registries listed in the file @path (see above), as a
 * NULL-terminated list the caller frees with strv_free(); an empty list when the file does not
 * exist. -EINVAL with the file and line in @err for a line it cannot read.
 */
int registry_conf_load(const char *path, char ***ret, BerthError *err);

/**
 * registry_is_insecure() - whether @endpoint ("host[:port]") is spoken to in plain HTTP: a
 * loopback name (localhost, 127.0.0.1, [::1]) or an entry of @insecure equal to it or to its host
 * (an entry without a port matches every port).
 */
bool registry_is_insecure(const char *endpoint, char *const *insecure);

/** registry_pull_options_init() - host platform, TLS verification on, default parallelism. */
void registry_pull_options_init(RegistryPullOptions *o);

typedef struct RegistryPullResult {
        Digest manifest;          /* the image manifest the name now maps to */
        Digest top;               /* what the reference resolved to: an index/list or == manifest */
        unsigned blobs_fetched;   /* config and layers downloaded */
        unsigned blobs_present;   /* config and layers already in the store */
        uint64_t bytes_fetched;   /* bytes of those downloads */
        unsigned layers_streamed; /* layers unpacked while they downloaded */
        unsigned layers_unpacked; /* layers unpacked from the store afterwards */
} RegistryPullResult;

/**
 * registry_pull() - pull @ref into @s (see above) and map image_reference_format(@ref) to the
 * image manifest's digest. Errors carry one line naming the URL or reference and the cause:
 * -ENOENT for a 404 (with the registry's error code and message), -EACCES for 401/403,
 * -EBADMSG for content that does not match its digest or size, -EPROTO for other HTTP errors
 * and malformed manifests, -EOPNOTSUPP for schema 1 and unknown media types, -ENXIO when no
 * manifest matches the platform, -EHOSTUNREACH and friends for transport errors.
 */
int registry_pull(Store *s, const ImageReference *ref, const RegistryPullOptions *o, RegistryPullResult *ret,
                  BerthError *err);
