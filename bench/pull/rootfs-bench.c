/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-rootfs STORAGE REFERENCE [ITERATIONS]
 *
 * The time to make a container's root filesystem over layers already unpacked in the layer
 * cache: container_rootfs_create() (mkdir containers/<id>/{upper,work,rootfs} and the overlay
 * mount) and container_rootfs_remove() (unmount and remove), each timed on its own,
 * ITERATIONS times (default 200). The image must be in the store at STORAGE; its layers are
 * prepared once first (untimed; the count of layers that had to be unpacked is reported, 0
 * when they were cached). Prints one JSON object on stdout:
 *
 *   {"kind":"overlay","layers":N,"unpacked":U,"create_ns":[...],"remove_ns":[...]}
 *
 * Run by bench/pull/run as root; see bench/README.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "image/layers.h"
#include "image/reference.h"
#include "image/rootfs.h"
#include "image/store.h"

static int64_t now_ns(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void print_samples(const char *key, const int64_t *v, unsigned n)
{
        printf("\"%s\":[", key);
        for (unsigned i = 0; i < n; i++)
                printf("%s%lld", i ? "," : "", (long long)v[i]);
        printf("]");
}

static int fail(const char *what, const BerthError *err, int r)
{
        fprintf(stderr, "bench-rootfs: %s: %s\n", what, error_message(err, r));
        return 1;
}

int main(int argc, char **argv)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(image_layers_done) ImageLayers layers = {};
        _cleanup_free_ char *canonical = NULL, *storage = NULL;
        _cleanup_free_ int64_t *create_ns = NULL, *remove_ns = NULL;
        ContainerRootfsKind kind = CONTAINER_ROOTFS_OVERLAY;
        BerthError err = {};
        Digest manifest;
        unsigned n = 200;
        int r;

        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: %s STORAGE REFERENCE [ITERATIONS]\n", argv[0]);
                return 2;
        }
        if (argc == 4) {
                char *end;
                unsigned long v = strtoul(argv[3], &end, 10);
                if (*argv[3] == '\0' || *end != '\0' || v == 0 || v > 100000) {
                        fprintf(stderr, "bench-rootfs: bad iteration count %s\n", argv[3]);
                        return 2;
                }
                n = (unsigned)v;
        }
        /* Overlay options need absolute paths, as `berth run` makes them. */
        storage = realpath(argv[1], NULL);
        if (!storage) {
                fprintf(stderr, "bench-rootfs: %s: %m\n", argv[1]);
                return 1;
        }
        create_ns = calloc(n, sizeof(*create_ns));
        remove_ns = calloc(n, sizeof(*remove_ns));
        if (!create_ns || !remove_ns)
                return fail("samples", &err, -ENOMEM);

        r = store_open(storage, &store, &err);
        if (r < 0)
                return fail("open store", &err, r);
        r = image_reference_canonical(argv[2], &canonical, &err);
        if (r >= 0)
                r = store_name_get(store, canonical, &manifest, &err);
        if (r >= 0)
                r = image_layers_load(store, &manifest, &layers, &err);
        if (r >= 0)
                r = image_layers_prepare(store, storage, &layers, &err);
        if (r < 0)
                return fail(argv[2], &err, r);

        for (unsigned i = 0; i < n; i++) {
                _cleanup_free_ char *rootfs = NULL;
                char id[32];
                int64_t t0, t1, t2;

                (void)snprintf(id, sizeof(id), "bench-rootfs-%u", i);
                t0 = now_ns();
                r = container_rootfs_create(store, storage, id, &layers, 0, &rootfs, &kind, &err);
                t1 = now_ns();
                if (r < 0)
                        return fail("container_rootfs_create", &err, r);
                r = container_rootfs_remove(storage, id, &err);
                t2 = now_ns();
                if (r < 0)
                        return fail("container_rootfs_remove", &err, r);
                create_ns[i] = t1 - t0;
                remove_ns[i] = t2 - t1;
        }

        printf("{\"kind\":\"%s\",\"layers\":%zu,\"unpacked\":%u,",
               kind == CONTAINER_ROOTFS_OVERLAY ? "overlay" : "copy", layers.n_layers, layers.unpacked);
        print_samples("create_ns", create_ns, n);
        printf(",");
        print_samples("remove_ns", remove_ns, n);
        printf("}\n");
        return 0;
}
