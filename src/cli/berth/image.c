/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth image load|save|inspect|prune and berth rmi. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "common.h"
#include "image.h"
#include "pull.h"
#include "image/gc.h"
#include "image/layers.h"
#include "image/layout.h"
#include "image/reference.h"
#include "image/rootfs.h"
#include "image/store.h"

#define INSPECT_JSON_MAX (16U << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

enum {
        OPT_STORAGE = 0x100,
        OPT_DIR,
        OPT_NAME,
        OPT_FORMAT,
};

/* ---- load ---- */

static void load_usage(FILE *f)
{
        fprintf(f,
                "Usage: berth image load [--storage DIR] (-i FILE.tar | --dir DIR) [--name REF]\n\n"
                "Load the images of an OCI image layout (a directory, or a tar of one, compressed or not)\n"
                "into the store, checking every blob's size and digest. An image is named by its\n"
                "io.containerd.image.name annotation or a full org.opencontainers.image.ref.name; a\n"
                "bare tag needs --name REF.\n");
}

static int image_load(int argc, char **argv)
{
        static const struct option opts[] = {
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"input", required_argument, NULL, 'i'},
                {"dir", required_argument, NULL, OPT_DIR},
                {"name", required_argument, NULL, OPT_NAME},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(layout_loaded_done) LayoutLoaded res = {};
        _cleanup_close_ int gc_lock = -EBADF;
        const char *storage = STORE_DEFAULT_ROOT, *input = NULL, *dir = NULL, *name = NULL;
        BerthError err = {};
        char d[DIGEST_STRING_LEN + 1];
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+i:h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_STORAGE:
                        storage = optarg;
                        break;
                case 'i':
                        input = optarg;
                        break;
                case OPT_DIR:
                        dir = optarg;
                        break;
                case OPT_NAME:
                        name = optarg;
                        break;
                case 'h':
                        load_usage(stdout);
                        return 0;
                default:
                        load_usage(stderr);
                        return 1;
                }
        }
        if (optind != argc || !input == !dir) {
                fprintf(stderr, "berth: image load: %s (see 'berth image load --help')\n",
                        optind != argc ? "too many arguments" : "give one of -i FILE.tar and --dir DIR");
                return 1;
        }
        r = store_open(storage, &store, &err);
        /* Shared: a prune must not take blobs found present before the names are set. */
        if (r >= 0)
                r = store_gc_lock(store, false, NULL, NULL, &gc_lock, &err);
        if (r >= 0)
                r = input ? image_archive_load(store, input, name, &res, &err)
                          : image_layout_load(store, dir, name, &res, &err);
        if (r < 0)
                return cli_fail("image load", input ? input : dir, &err, r);
        for (size_t i = 0; i < res.n; i++)
                printf("Loaded image %s %s\n", res.names[i], digest_format(&res.manifests[i], d));
        return 0;
}

/* ---- save ---- */

static void save_usage(FILE *f)
{
        fprintf(f, "Usage: berth image save [--storage DIR] [--format oci|docker-archive] (-o FILE.tar | "
                   "--dir DIR) REF\n\n"
                   "Write an image as an OCI image layout: a new directory, or an uncompressed tar of one.\n"
                   "skopeo (oci:DIR:TAG, oci-archive:FILE.tar:TAG) and umoci (DIR:TAG) read it.\n"
                   "--format docker-archive writes what 'docker save' does (with -o only): 'docker load',\n"
                   "'podman load' and skopeo (docker-archive:FILE.tar) read it.\n");
}

static int image_save(int argc, char **argv)
{
        static const struct option opts[] = {
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"output", required_argument, NULL, 'o'},
                {"dir", required_argument, NULL, OPT_DIR},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_close_ int gc_lock = -EBADF;
        const char *storage = STORE_DEFAULT_ROOT, *output = NULL, *dir = NULL, *format = "oci";
        BerthError err = {};
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_STORAGE:
                        storage = optarg;
                        break;
                case OPT_FORMAT:
                        format = optarg;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case OPT_DIR:
                        dir = optarg;
                        break;
                case 'h':
                        save_usage(stdout);
                        return 0;
                default:
                        save_usage(stderr);
                        return 1;
                }
        }
        if (optind + 1 != argc || !output == !dir) {
                fprintf(stderr, "berth: image save: %s (see 'berth image save --help')\n",
                        optind + 1 != argc ? "expected one REF" : "give one of -o FILE.tar and --dir DIR");
                return 1;
        }
        bool docker = streq(format, "docker-archive");
        if (!docker && !streq(format, "oci")) {
                fprintf(stderr, "berth: image save: unknown format \"%s\" (oci, docker-archive)\n", format);
                return 1;
        }
        if (docker && dir) {
                fprintf(stderr,
                        "berth: image save: --format docker-archive writes a tar: use -o FILE.tar\n");
                return 1;
        }
        r = store_open(storage, &store, &err);
        /* Shared: the blobs must not go while they are copied out. */
        if (r >= 0)
                r = store_gc_lock(store, false, NULL, NULL, &gc_lock, &err);
        if (r >= 0)
                r = docker   ? image_docker_archive_save(store, argv[optind], output, &err)
                    : output ? image_archive_save(store, argv[optind], output, &err)
                             : image_layout_save(store, argv[optind], dir, &err);
        if (r < 0)
                return cli_fail("image save", argv[optind], &err, r);
        return 0;
}

/* ---- inspect ---- */

static int blob_json(Store *s, const Digest *d, json_object **ret, BerthError *err)
{
        _cleanup_free_ char *bytes = NULL;
        char buf[DIGEST_STRING_LEN + 1];
        json_object *j;
        size_t len;
        int r;

        r = store_blob_read(s, d, INSPECT_JSON_MAX, &bytes, &len, err);
        if (r < 0)
                return r;
        j = json_tokener_parse(bytes);
        if (!j || json_object_get_type(j) != json_type_object) {
                json_object_put(j);
                return error_setx(err, -EINVAL, "blob %s is not a JSON object", digest_format(d, buf));
        }
        *ret = j;
        return 0;
}

static json_object *json_string_or_null(json_object *o, const char *key)
{
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get(v) : NULL;
}

static int inspect_build(Store *s, const char *name, const Digest *md, json_object **ret, BerthError *err)
{
        _cleanup_(json_object_putp) json_object *manifest = NULL, *config = NULL, *out = NULL;
        json_object *cdesc, *layers, *v, *list;
        uint64_t msize = 0, total;
        char d[DIGEST_STRING_LEN + 1];
        Digest cd;
        int r;

        r = blob_json(s, md, &manifest, err);
        if (r >= 0)
                r = store_blob_size(s, md, &msize, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(manifest, "config", &cdesc) ||
            !json_object_object_get_ex(cdesc, "digest", &v) ||
            digest_parse(json_object_get_string(v), &cd, err) < 0 ||
            !json_object_object_get_ex(manifest, "layers", &layers) ||
            json_object_get_type(layers) != json_type_array)
                return error_setx(err, -EINVAL, "manifest %s without \"config\" or \"layers\"",
                                  digest_format(md, d));
        r = blob_json(s, &cd, &config, err);
        if (r < 0)
                return r;
        out = json_object_new_object();
        list = json_object_new_array();
        if (!out || !list) {
                json_object_put(list);
                return -ENOMEM;
        }
        json_object_object_add(out, "Name", json_object_new_string(name));
        json_object_object_add(out, "Digest", json_object_new_string(digest_format(md, d)));
        json_object_object_add(out, "MediaType", json_string_or_null(manifest, "mediaType"));
        json_object_object_add(out, "ConfigDigest", json_object_new_string(digest_format(&cd, d)));
        total = msize;
        if (json_object_object_get_ex(cdesc, "size", &v))
                total += (uint64_t)json_object_get_int64(v);
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                json_object *l = json_object_array_get_idx(layers, i), *e = json_object_new_object();

                if (!e) {
                        json_object_put(list);
                        return -ENOMEM;
                }
                json_object_object_add(e, "Digest", json_string_or_null(l, "digest"));
                json_object_object_add(e, "Size", json_string_or_null(l, "size"));
                json_object_object_add(e, "MediaType", json_string_or_null(l, "mediaType"));
                if (json_object_object_get_ex(l, "size", &v))
                        total += (uint64_t)json_object_get_int64(v);
                json_object_array_add(list, e);
        }
        json_object_object_add(out, "Layers", list);
        json_object_object_add(out, "Size", json_object_new_int64((int64_t)total));
        json_object_object_add(out, "Os", json_string_or_null(config, "os"));
        json_object_object_add(out, "Architecture", json_string_or_null(config, "architecture"));
        if (json_object_object_get_ex(config, "variant", NULL))
                json_object_object_add(out, "Variant", json_string_or_null(config, "variant"));
        json_object_object_add(out, "Config", json_object_get(config));
        *ret = TAKE_PTR(out);
        return 0;
}

static void inspect_usage(FILE *f)
{
        fprintf(f, "Usage: berth image inspect [--storage DIR] REF\n\n"
                   "Print an image as JSON: manifest digest, config digest, layers, size, "
                   "platform and its config.\n");
}

static int image_inspect(int argc, char **argv)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(json_object_putp) json_object *out = NULL;
        _cleanup_free_ char *name = NULL;
        const char *storage = STORE_DEFAULT_ROOT;
        BerthError err = {};
        Digest md;
        int r;

        r = cli_storage_parse(argc, argv, inspect_usage, false, &storage);
        if (r != CLI_CONTINUE)
                return r;
        if (optind + 1 != argc) {
                fprintf(stderr,
                        "berth: image inspect: expected one REF (see 'berth image inspect --help')\n");
                return 1;
        }
        r = image_reference_canonical(argv[optind], &name, &err);
        if (r >= 0)
                r = store_open(storage, &store, &err);
        if (r >= 0)
                r = store_name_get(store, name, &md, &err);
        if (r == -ENOENT)
                return cli_fail("image inspect", argv[optind], &err, r);
        if (r >= 0)
                r = inspect_build(store, name, &md, &out, &err);
        if (r < 0)
                return cli_fail("image inspect", argv[optind], &err, r);
        printf("%s\n",
               json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}

/* ---- unpack ---- */

static void unpack_usage(FILE *f)
{
        fprintf(f,
                "Usage: berth image unpack [--storage DIR] REF DIR\n\n"
                "Unpack an image's layers, bottom first and whiteouts applied, into DIR (which must not\n"
                "exist): its flattened root filesystem, as 'umoci unpack' and 'podman image mount' give.\n"
                "As root, owners, device nodes and trusted.* xattrs are kept.\n");
}

static int image_unpack(int argc, char **argv)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(image_layers_done) ImageLayers layers = {};
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int dfd = -EBADF, gc_lock = -EBADF;
        const char *storage = STORE_DEFAULT_ROOT, *dir;
        BerthError err = {};
        Digest md;
        int r;

        r = cli_storage_parse(argc, argv, unpack_usage, false, &storage);
        if (r != CLI_CONTINUE)
                return r;
        if (optind + 2 != argc) {
                fprintf(stderr,
                        "berth: image unpack: expected REF and DIR (see 'berth image unpack --help')\n");
                return 1;
        }
        dir = argv[optind + 1];
        r = image_reference_canonical(argv[optind], &name, &err);
        if (r >= 0)
                r = store_open(storage, &store, &err);
        /* Shared: the blobs must not go while they are unpacked. */
        if (r >= 0)
                r = store_gc_lock(store, false, NULL, NULL, &gc_lock, &err);
        if (r >= 0)
                r = store_name_get(store, name, &md, &err);
        if (r >= 0)
                r = image_layers_load(store, &md, &layers, &err);
        if (r < 0)
                return cli_fail("image unpack", argv[optind], &err, r);
        /* A new directory only: unpacking over an existing tree would merge two images. */
        if (mkdir(dir, 0755) < 0) {
                r = error_set(&err, negative_errno(), "create \"%s\"", dir);
                return cli_fail("image unpack", argv[optind], &err, r);
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = dfd < 0 ? error_set(&err, negative_errno(), "open \"%s\"", dir)
                    : image_rootfs_unpack(store, &layers, dfd, &err);
        if (r < 0) {
                (void)rm_rf_at(AT_FDCWD, dir);
                return cli_fail("image unpack", argv[optind], &err, r);
        }
        return 0;
}

/* ---- prune and rmi ---- */

static void gc_lock_waiting(void *userdata)
{
        fprintf(stderr, "berth: %s: waiting for the pulls, loads and runs using the store to finish\n",
                (const char *)userdata);
}

/* Exclusive: no pull, load or run is between finding a blob or layer and relying on it. */
static int gc_lock_take(Store *store, const char *verb, int *ret_fd, BerthError *err)
{
        return store_gc_lock(store, true, gc_lock_waiting, (void *)verb, ret_fd, err);
}

static void prune_usage(FILE *f)
{
        fprintf(f,
                "Usage: berth image prune [--storage DIR]\n\n"
                "Remove the blobs no image name references (blobs written in the last %d "
                "minutes are kept: a pull may be about to name them), tmp/ leftovers "
                "older than an hour, and the unpacked layers (layers/) that no named image "
                "and no container uses.\n",
                IMAGE_GC_GRACE_SEC / 60);
}

static int image_prune(int argc, char **argv)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_close_ int gc_lock = -EBADF;
        const char *storage = STORE_DEFAULT_ROOT;
        BerthError err = {};
        uint64_t bytes = 0;
        int r, tmp;

        r = cli_storage_parse(argc, argv, prune_usage, false, &storage);
        if (r != CLI_CONTINUE)
                return r;
        if (optind != argc) {
                fprintf(stderr, "berth: image prune: too many arguments\n");
                return 1;
        }
        r = store_open(storage, &store, &err);
        if (r >= 0)
                r = gc_lock_take(store, "image prune", &gc_lock, &err);
        if (r < 0)
                return cli_fail("image prune", NULL, &err, r);
        r = image_gc_remove_unreferenced(store, NULL, IMAGE_GC_GRACE_SEC, &bytes, &err);
        if (r < 0)
                return cli_fail("image prune", NULL, &err, r);
        tmp = store_tmp_prune(store, IMAGE_GC_TMP_MAX_AGE_S, &err);
        if (tmp < 0)
                return cli_fail("image prune", NULL, &err, tmp);
        printf("Removed %d blobs (%" PRIu64 " bytes) and %d temporary files\n", r, bytes, tmp);
        r = image_gc_layers(store, NULL, IMAGE_GC_LAYER_TMP_MAX_AGE_S, &err);
        if (r < 0)
                return cli_fail("image prune", NULL, &err, r);
        printf("Removed %d unpacked layers\n", r);
        return 0;
}

static void rmi_usage(FILE *f)
{
        fprintf(f, "Usage: berth rmi [--storage DIR] REF...\n\n"
                   "Remove image names, then the blobs and unpacked layers they used that no other\n"
                   "name (and, for layers, no container) uses.\n");
}

int berth_rmi(int argc, char **argv)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_close_ int gc_lock = -EBADF;
        _cleanup_(digest_set_done) DigestSet reached = {}, chain_ids = {};
        _cleanup_(strv_freep) char **names = NULL;
        const char *storage = STORE_DEFAULT_ROOT;
        BerthError err = {};
        uint64_t bytes = 0;
        int r;

        r = cli_storage_parse(argc, argv, rmi_usage, false, &storage);
        if (r != CLI_CONTINUE)
                return r;
        if (optind >= argc) {
                fprintf(stderr, "berth: rmi: missing REF (see 'berth rmi --help')\n");
                return 1;
        }
        /* Every name first, so a typo in the third removes nothing. */
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *name = NULL;

                r = image_reference_canonical(argv[i], &name, &err);
                if (r < 0)
                        return cli_fail("rmi", argv[i], &err, r);
                r = strv_push(&names, TAKE_PTR(name));
                if (r < 0)
                        return cli_fail("rmi", argv[i], &err, r);
        }
        r = store_open(storage, &store, &err);
        if (r >= 0)
                r = gc_lock_take(store, "rmi", &gc_lock, &err);
        if (r < 0)
                return cli_fail("rmi", NULL, &err, r);
        STRV_FOREACH (n, names) {
                Digest d;

                r = store_name_get(store, *n, &d, &err);
                if (r >= 0)
                        r = image_gc_reachable(store, &d, 1, &reached, &err);
                if (r < 0)
                        return cli_fail("rmi", *n, &err, r);
                /* Its unpacked layers, when its manifest and config can be read (a broken image's
                 * are left to `berth image prune`). */
                r = image_gc_chain_ids(store, &d, &chain_ids, NULL);
                if (r == -ENOMEM)
                        return cli_fail("rmi", *n, &err, r);
        }
        STRV_FOREACH (n, names) {
                r = store_name_remove(store, *n, &err);
                if (r < 0 && r != -ENOENT) /* a name given twice */
                        return cli_fail("rmi", *n, &err, r);
                printf("Untagged %s\n", *n);
        }
        r = image_gc_remove_unreferenced(store, &reached, 0, &bytes, &err);
        if (r < 0)
                return cli_fail("rmi", NULL, &err, r);
        printf("Removed %d blobs (%" PRIu64 " bytes)\n", r, bytes);
        r = image_gc_layers(store, &chain_ids, 0, &err);
        if (r < 0)
                return cli_fail("rmi", NULL, &err, r);
        printf("Removed %d unpacked layers\n", r);
        return 0;
}

/* ---- dispatch ---- */

static void image_usage(FILE *f)
{
        fprintf(f, "Usage: berth image COMMAND [options]\n\n"
                   "  load      load an OCI layout or archive (see 'berth image load --help')\n"
                   "  save      write an image as an OCI layout or archive\n"
                   "  inspect   an image's manifest, config and layers as JSON\n"
                   "  unpack    write an image's flattened root filesystem into a new directory\n"
                   "  prune     remove blobs no image uses\n"
                   "  rm        the same as 'berth rmi'\n"
                   "  ls        the same as 'berth images'\n");
}

int berth_image(int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                image_usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 1 : 0;
        }
        if (streq(argv[1], "load"))
                return image_load(argc - 1, argv + 1);
        if (streq(argv[1], "save"))
                return image_save(argc - 1, argv + 1);
        if (streq(argv[1], "inspect"))
                return image_inspect(argc - 1, argv + 1);
        if (streq(argv[1], "unpack"))
                return image_unpack(argc - 1, argv + 1);
        if (streq(argv[1], "prune"))
                return image_prune(argc - 1, argv + 1);
        if (streq(argv[1], "rm"))
                return berth_rmi(argc - 1, argv + 1);
        if (streq(argv[1], "ls"))
                return berth_images(argc - 1, argv + 1);
        fprintf(stderr,
                "berth: image: unknown command \"%s\" (load, save, inspect, unpack, prune, rm, ls)\n",
                argv[1]);
        return 1;
}
