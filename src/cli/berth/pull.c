/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth pull: fetch an image from a registry into the store; berth images: list what is there. */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/strv.h"
#include "common.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/store.h"
#include "pull-progress.h"
#include "pull.h"

static void pull_usage(FILE *f)
{
        fprintf(f, "Usage: berth pull [options] REFERENCE\n\n"
                   "Download an image (Docker's name rules: busybox, host:port/repo:tag, repo@sha256:...)\n"
                   "into the store and print its manifest digest. As root, each layer is also unpacked\n"
                   "while it downloads (into DIR/layers, where berth run finds it). On a terminal, a line\n"
                   "per layer shows bytes, total and speed, and a last line the totals.\n\n"
                   "      --storage DIR       the store (default " STORE_DEFAULT_ROOT ")\n"
                   "      --platform P        os/arch[/variant] to pick from a multi-arch image (default "
                   "the host's)\n"
                   "      --tls-verify=false  plain HTTP for every registry, no certificate checks\n"
                   "      --insecure-registry HOST[:PORT]\n"
                   "                          plain HTTP for this registry (repeatable; also read from\n"
                   "                          $" REGISTRY_CONF_ENV " or " REGISTRY_CONF_DEFAULT
                   "; localhost always is)\n"
                   "  -q, --quiet             print only the digest\n"
                   "  -h, --help              this text\n");
}

enum {
        OPT_STORAGE = 0x100,
        OPT_PLATFORM,
        OPT_TLS_VERIFY,
        OPT_INSECURE_REGISTRY,
};

int berth_pull(int argc, char **argv)
{
        static const struct option opts[] = {
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"platform", required_argument, NULL, OPT_PLATFORM},
                {"tls-verify", required_argument, NULL, OPT_TLS_VERIFY},
                {"insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_free_ char *canonical = NULL;
        _cleanup_(strv_freep) char **insecure = NULL;
        const char *storage = STORE_DEFAULT_ROOT;
        RegistryPullOptions o;
        RegistryPullResult res;
        BerthError err = {};
        char d[DIGEST_STRING_LEN + 1];
        PullProgress progress = {};
        bool quiet = false;
        int c, r;

        registry_pull_options_init(&o);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_STORAGE:
                        storage = optarg;
                        break;
                case OPT_PLATFORM:
                        r = registry_platform_parse(optarg, &o.platform, &err);
                        if (r < 0)
                                return cli_fail("pull", NULL, &err, r);
                        break;
                case OPT_TLS_VERIFY:
                        if (streq(optarg, "false"))
                                o.tls_verify = false;
                        else if (streq(optarg, "true"))
                                o.tls_verify = true;
                        else {
                                fprintf(stderr,
                                        "berth: pull: --tls-verify takes true or false, not \"%s\"\n",
                                        optarg);
                                return 1;
                        }
                        break;
                case OPT_INSECURE_REGISTRY:
                        if (!*optarg || strpbrk(optarg, "/ \t")) {
                                fprintf(stderr,
                                        "berth: pull: --insecure-registry takes HOST[:PORT], not \"%s\"\n",
                                        optarg);
                                return 1;
                        }
                        if (strv_extend(&insecure, optarg) < 0) {
                                fprintf(stderr, "berth: pull: out of memory\n");
                                return 1;
                        }
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        pull_usage(stdout);
                        return 0;
                default:
                        pull_usage(stderr);
                        return 1;
                }
        }
        if (optind + 1 != argc) {
                fprintf(stderr, "berth: pull: %s (see 'berth pull --help')\n",
                        optind >= argc ? "missing REFERENCE" : "too many arguments");
                return 1;
        }

        r = image_reference_parse(argv[optind], &ref, &err);
        if (r < 0)
                return cli_fail("pull", NULL, &err, r);
        canonical = image_reference_format(ref);
        if (!canonical) {
                fprintf(stderr, "berth: pull: out of memory\n");
                return 1;
        }
        r = store_open(storage, &store, &err);
        if (r < 0)
                return cli_fail("pull", canonical, &err, r);
        if (!quiet)
                pull_progress_attach(&progress, stdout, &o);
        o.insecure_registries = insecure;
        /* Layers are unpacked with their owners, devices and overlay whiteouts: root only.
         * Others store the blobs, and berth run unpacks them. */
        if (geteuid() == 0)
                o.unpack_root = storage;
        o.cancel = &cli_interrupted;
        cli_interrupt_catch(true);
        r = registry_pull(store, ref, &o, &res, &err);
        cli_interrupt_catch(false);
        if (r == -ECANCELED && cli_interrupted) {
                (void)cli_fail("pull", canonical, &err, r);
                return 128 + cli_interrupted; /* as if the signal had ended berth, after the cleanup */
        }
        if (r < 0)
                return cli_fail("pull", canonical, &err, r);
        if (quiet)
                printf("%s\n", digest_format(&res.manifest, d));
        else {
                printf("%s: %u blobs downloaded (%" PRIu64 " bytes), %u already present\n", canonical,
                       res.blobs_fetched, res.bytes_fetched, res.blobs_present);
                if (o.unpack_root)
                        printf("Layers: %u unpacked while downloading, %u unpacked from the store\n",
                               res.layers_streamed, res.layers_unpacked);
                if (!digest_equal(&res.top, &res.manifest))
                        printf("Index: %s\n", digest_format(&res.top, d));
                printf("Digest: %s\n", digest_format(&res.manifest, d));
        }
        return 0;
}

static void images_usage(FILE *f)
{
        fprintf(f, "Usage: berth images [--storage DIR]\n\n"
                   "List the images in the store: name and manifest digest, sorted by name.\n");
}

int berth_images(int argc, char **argv)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        const char *storage = STORE_DEFAULT_ROOT;
        BerthError err = {};
        char d[DIGEST_STRING_LEN + 1];
        int r;

        r = cli_storage_parse(argc, argv, images_usage, true, &storage);
        if (r != CLI_CONTINUE)
                return r;
        if (optind != argc) {
                fprintf(stderr, "berth: images: too many arguments (see 'berth images --help')\n");
                return 1;
        }
        r = store_open(storage, &store, &err);
        if (r >= 0)
                r = store_names_list(store, &names, &err);
        if (r < 0)
                return cli_fail("images", NULL, &err, r);
        STRV_FOREACH (n, names) {
                Digest dg;

                r = store_name_get(store, *n, &dg, &err);
                if (r < 0) {
                        fprintf(stderr, "berth: images: %s: %s\n", *n, error_message(&err, r));
                        return 1;
                }
                printf("%s %s\n", *n, digest_format(&dg, d));
        }
        return 0;
}
