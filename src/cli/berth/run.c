/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth run: an image from the store (pulled when missing) as a container, in the foreground. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "image/bundle.h"
#include "image/layers.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/rootfs.h"
#include "image/store.h"
#include "common.h"
#include "container-meta.h"
#include "monitor.h"
#include "pull-progress.h"
#include "run.h"
#include "runtime-client.h"
#include "security-opt.h"

/* Docker's status for a failure of the run command itself (not of the container). */
#define RUN_EXIT_ERROR 125

static void run_usage(FILE *f)
{
        fprintf(f, "Usage: berth run [options] IMAGE [CMD...]\n\n"
                   "Run IMAGE (pulled into the store when missing) as a new container in the foreground\n"
                   "and exit with its status (125 when berth run itself fails).\n\n"
                   "  -d, --detach            run in the background: print the id once it runs; its output\n"
                   "                          goes to 'berth logs' (not with -t)\n"
                   "      --rm                remove the container's directory when it exits\n"
                   "      --name N            container id (default: 12 random hex digits)\n"
                   "  -e, --env K=V           set an environment variable (repeatable)\n"
                   "  -v, --volume H:C[:ro]   bind-mount host path H at C (repeatable)\n"
                   "  -w, --workdir DIR       working directory inside the container\n"
                   "  -u, --user USER         name, uid, uid:gid, name:group\n"
                   "      --memory M          memory limit (bytes, or with k, m, g)\n"
                   "      --cpus N            CPU limit (1.5 is one and a half CPUs)\n"
                   "      --pids-limit N      at most N processes\n"
                   "      --network none|host network namespace (default none: loopback only)\n"
                   "      --security-opt O    seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges\n"
                   "      --storage DIR       the store (default " STORE_DEFAULT_ROOT ")\n"
                   "  -i, --interactive       pass stdin on to the container (else it reads /dev/null;\n"
                   "                          with -t the terminal is always passed on)\n"
                   "  -t, --tty               allocate a terminal\n"
                   "  -h, --help              this text\n");
}

enum {
        OPT_RM = 0x100,
        OPT_NAME,
        OPT_MEMORY,
        OPT_CPUS,
        OPT_PIDS_LIMIT,
        OPT_NETWORK,
        OPT_STORAGE,
        OPT_SECURITY_OPT,
};

typedef struct RunArgs {
        bool rm;
        bool detach;
        bool interactive; /* -i: stdin passed on (else /dev/null, as Docker) */
        char manifest[DIGEST_STRING_LEN + 1];
        const char *name;
        const char *storage;
        const char *image;
        BundleOptions bundle;
        char **env;
        char **volumes;
} RunArgs;

static void run_args_done(RunArgs *a)
{
        strv_free(a->env);
        strv_free(a->volumes);
}

static int parse_size(const char *s, uint64_t *ret)
{
        char *end;
        uint64_t v, mult = 1;

        errno = 0;
        if (!*s || *s == '-')
                return -EINVAL;
        v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        switch (*end) {
        case '\0':
                break;
        case 'b':
        case 'B':
                mult = 1;
                end++;
                break;
        case 'k':
        case 'K':
                mult = 1ULL << 10;
                end++;
                break;
        case 'm':
        case 'M':
                mult = 1ULL << 20;
                end++;
                break;
        case 'g':
        case 'G':
                mult = 1ULL << 30;
                end++;
                break;
        default:
                return -EINVAL;
        }
        if (*end || __builtin_mul_overflow(v, mult, &v) || v == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_cpus(const char *s, uint64_t *ret)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || !(v > 0) || v > 1e6)
                return -EINVAL;
        *ret = (uint64_t)(v * 1000 + 0.5);
        return *ret ? 0 : -EINVAL;
}

static int parse_u64(const char *s, uint64_t *ret)
{
        char *end;

        errno = 0;
        if (!*s || *s == '-')
                return -EINVAL;
        *ret = strtoull(s, &end, 10);
        return errno || *end || *ret == 0 ? -EINVAL : 0;
}

/* The form of -v, checked before anything is pulled or mounted (bundle.c checks it again). */
static bool volume_spec_ok(const char *spec)
{
        const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

        if (!c1 || spec[0] != '/' || c1[1] != '/')
                return false;
        return !c2 || streq(c2 + 1, "ro") || streq(c2 + 1, "rw");
}

static bool name_ok(const char *n)
{
        size_t len = strlen(n);

        if (len == 0 || len > 128 ||
            !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n[0]))
                return false;
        return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

static int run_fail(const RunArgs *a, const char *msg)
{
        fprintf(stderr, "berth: run %s: %s\n", a->image ? a->image : "", msg);
        return RUN_EXIT_ERROR;
}

static int parse_args(int argc, char **argv, RunArgs *a)
{
        static const struct option opts[] = {
                {"rm", no_argument, NULL, OPT_RM},
                {"detach", no_argument, NULL, 'd'},
                {"name", required_argument, NULL, OPT_NAME},
                {"env", required_argument, NULL, 'e'},
                {"volume", required_argument, NULL, 'v'},
                {"workdir", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},
                {"memory", required_argument, NULL, OPT_MEMORY},
                {"cpus", required_argument, NULL, OPT_CPUS},
                {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
                {"network", required_argument, NULL, OPT_NETWORK},
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"security-opt", required_argument, NULL, OPT_SECURITY_OPT},
                {"tty", no_argument, NULL, 't'},
                {"interactive", no_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+de:v:w:u:ith", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_RM:
                        a->rm = true;
                        break;
                case 'd':
                        a->detach = true;
                        break;
                case OPT_NAME:
                        if (!name_ok(optarg)) {
                                fprintf(stderr,
                                        "berth: run: --name \"%s\": letters, digits, '_', '.', '-' "
                                        "(starting with a letter or digit)\n",
                                        optarg);
                                return -EINVAL;
                        }
                        a->name = optarg;
                        break;
                case 'e':
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                fprintf(stderr, "berth: run: -e \"%s\": expected KEY=VALUE\n", optarg);
                                return -EINVAL;
                        }
                        if (strv_extend(&a->env, optarg) < 0)
                                return -ENOMEM;
                        break;
                case 'v':
                        if (!volume_spec_ok(optarg)) {
                                fprintf(stderr,
                                        "berth: run: -v \"%s\": expected /HOST:/CONTAINER[:ro|:rw]\n",
                                        optarg);
                                return -EINVAL;
                        }
                        if (strv_extend(&a->volumes, optarg) < 0)
                                return -ENOMEM;
                        break;
                case 'w':
                        a->bundle.workdir = optarg;
                        break;
                case 'u':
                        a->bundle.user = optarg;
                        break;
                case OPT_MEMORY:
                        if (parse_size(optarg, &a->bundle.memory_limit_bytes) < 0) {
                                fprintf(stderr,
                                        "berth: run: --memory \"%s\": expected bytes or a number with "
                                        "k, m or g\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_CPUS:
                        if (parse_cpus(optarg, &a->bundle.cpu_millis) < 0) {
                                fprintf(stderr, "berth: run: --cpus \"%s\": expected a positive number\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_PIDS_LIMIT:
                        if (parse_u64(optarg, &a->bundle.pids_limit) < 0) {
                                fprintf(stderr,
                                        "berth: run: --pids-limit \"%s\": expected a positive integer\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_NETWORK:
                        a->bundle.network = bundle_network_from_string(optarg);
                        if (a->bundle.network < 0) {
                                fprintf(stderr, "berth: run: --network \"%s\": none or host\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_SECURITY_OPT:
                        if (berth_security_opt_parse(optarg, &a->bundle) < 0)
                                return -EINVAL;
                        break;
                case OPT_STORAGE:
                        a->storage = optarg;
                        break;
                case 't':
                        a->bundle.terminal = true;
                        break;
                case 'i':
                        a->interactive = true;
                        break;
                case 'h':
                        run_usage(stdout);
                        return 1;
                default:
                        run_usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "berth: run: missing IMAGE (see 'berth run --help')\n");
                return -EINVAL;
        }
        if (a->detach && a->bundle.terminal) {
                fprintf(stderr, "berth: run: -d and -t together: a detached container has no terminal "
                                "to attach to (berth has no attach)\n");
                return -EINVAL;
        }
        a->image = argv[optind];
        a->bundle.args = optind + 1 < argc ? argv + optind + 1 : NULL;
        a->bundle.env = a->env;
        a->bundle.volumes = a->volumes;
        return 0;
}

/* The store's manifest for @a->image, pulled from its registry when the store lacks it. */
static int resolve_image(RunArgs *a, Store *store, Digest *ret, BerthError *err)
{
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *canonical = NULL;
        RegistryPullOptions o;
        RegistryPullResult res;
        PullProgress progress = {};
        int r;

        r = image_reference_parse(a->image, &ref, err);
        if (r < 0)
                return r;
        canonical = image_reference_format(ref);
        if (!canonical)
                return -ENOMEM;
        r = store_name_get(store, canonical, ret, err);
        if (r != -ENOENT)
                return r;
        *err = (BerthError){};
        fprintf(stderr, "berth: %s not in the store, pulling it\n", canonical);
        registry_pull_options_init(&o);
        /* As `berth pull` as root does: each layer is unpacked while it downloads. */
        if (geteuid() == 0)
                o.unpack_root = a->storage;
        pull_progress_attach(&progress, stderr, &o);
        o.cancel = &cli_interrupted;
        cli_interrupt_catch(true);
        r = registry_pull(store, ref, &o, &res, err);
        cli_interrupt_catch(false);
        if (r < 0) {
                error_prefix(err, "pull: ");
                return r;
        }
        *ret = res.manifest;
        return 0;
}

/* Runs the runtime in the foreground (signals forwarded to it, and by it to the container);
 * returns its status the shell way, or -errno when it could not be started. Its own errors also
 * go to the bundle's RUNTIME_LOG_FILE, so that they can be told from the container's status.
 * Without a terminal, the container's output is also kept in CONTAINER_LOG_FILE for
 * `berth logs`, as for a detached one. */
static int runtime_run(const RuntimeClient *rt, int cdir_fd, const char *bundle, const char *id,
                       bool terminal, bool interactive)
{
        _cleanup_free_ char *log = NULL;
        _cleanup_(strv_freep) char **argv = NULL;
        _cleanup_close_ int out_log = -EBADF;

        if (asprintf(&log, "%s/%s", bundle, RUNTIME_LOG_FILE) < 0)
                return -ENOMEM;
        if (!terminal) {
                out_log = openat(cdir_fd, CONTAINER_LOG_FILE,
                                 O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
                if (out_log < 0)
                        return -errno;
        }
        argv = runtime_client_argv(rt, (const char *const[]){"--log", log, "--log-format", "json", "run",
                                                             "--bundle", bundle, id, NULL});
        if (!argv)
                return -ENOMEM;
        return runtime_client_foreground(argv, !interactive && !terminal, out_log);
}

/* container.json: what `berth ps` shows and `berth stop` needs, before the container starts. */
static int run_write_meta(const RunArgs *a, int cdir_fd, const char *id, const char *config)
{
        _cleanup_(container_meta_done) ContainerMeta m = {
                .created = time(NULL),
                .auto_remove = a->rm,
                .detached = a->detach,
        };
        int r;

        m.id = strdup(id);
        m.image = strdup(a->image);
        m.image_digest = strdup(a->manifest);
        if (!m.id || !m.image || !m.image_digest)
                return -ENOMEM;
        r = container_meta_from_bundle(&m, config);
        if (r < 0)
                return r;
        return container_meta_write(cdir_fd, &m);
}

/* -d: the monitor takes the container (and the directory lock @lock_fd) over once it runs. */
static int run_detached(RunArgs *a, const RuntimeClient *rt, const char *cdir, int lock_fd, const char *id,
                        bool *ret_started)
{
        MonitorArgs m = {
                .runtime = rt,
                .storage = a->storage,
                .id = id,
                .cdir = cdir,
                .cdir_fd = lock_fd,
                .auto_remove = a->rm,
        };
        BerthError err = {};
        int r;

        r = container_monitor_start(&m, &err);
        if (r < 0) {
                (void)run_fail(a, error_message(&err, r));
                return runtime_error_exit_status(error_message(&err, r));
        }
        *ret_started = true;
        printf("%s\n", id);
        return 0;
}

/* Everything after the rootfs exists: the bundle, then the runtime. *@ret_started says whether
 * the runtime ran (else there is nothing of the container worth keeping). */
static int run_container(RunArgs *a, const ImageLayers *layers, const char *cdir, const char *rootfs,
                         const char *id, int lock_fd, bool *ret_started)
{
        _cleanup_(runtime_client_done) RuntimeClient rt = {};
        _cleanup_free_ char *config = NULL;
        _cleanup_close_ int rootfs_fd = -EBADF, cdir_fd = -EBADF;
        BerthError err = {};
        int r;

        rootfs_fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cdir_fd = open(cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfs_fd < 0 || cdir_fd < 0)
                return run_fail(a, "open the container directory failed");
        /* Docker makes a missing -w directory (root's, 0755) rather than fail in chdir. */
        if (a->bundle.workdir && a->bundle.workdir[0] == '/') {
                r = chase_in_root_create(rootfs_fd, a->bundle.workdir, CHASE_CREATE_DIR);
                if (r < 0) {
                        error_set(&err, r, "working directory \"%s\"", a->bundle.workdir);
                        return run_fail(a, error_message(&err, r));
                }
                safe_close(r);
        }
        r = image_bundle_config(layers->config_json, rootfs_fd, &a->bundle, &config, &err);
        if (r >= 0) {
                r = write_file_atomic_at(cdir_fd, "config.json", config, strlen(config), 0600, 0);
                if (r < 0)
                        error_set(&err, r, "write %s/config.json", cdir);
        }
        if (r < 0)
                return run_fail(a, error_message(&err, r));
        r = run_write_meta(a, cdir_fd, id, config);
        if (r < 0) {
                error_set(&err, r, "write %s/%s", cdir, CONTAINER_META_FILE);
                return run_fail(a, error_message(&err, r));
        }
        if (runtime_client_init(&rt, a->storage) < 0)
                return run_fail(a, "cannot find berth-runtime next to berth");
        if (a->detach)
                return run_detached(a, &rt, cdir, lock_fd, id, ret_started);
        *ret_started = true;
        r = runtime_run(&rt, cdir_fd, cdir, id, a->bundle.terminal, a->interactive);
        if (r < 0) {
                error_set(&err, r, "start %s", rt.binary);
                return run_fail(a, error_message(&err, r));
        }
        if (r != 0) {
                /* The runtime failed (it said why on stderr), or the container exited non-zero. */
                _cleanup_free_ char *why = runtime_log_last_error(cdir_fd, RUNTIME_LOG_FILE);
                if (why)
                        r = runtime_error_exit_status(why);
        }
        /* For `berth ps -a`; with --rm the directory goes anyway. */
        if (!a->rm)
                (void)container_exit_write(cdir_fd, r);
        return r;
}

int berth_run(int argc, char **argv)
{
        _cleanup_(run_args_done) RunArgs a = {.storage = STORE_DEFAULT_ROOT};
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(image_layers_done) ImageLayers layers = {};
        _cleanup_free_ char *rootfs = NULL, *cdir = NULL, *storage_abs = NULL;
        _cleanup_close_ int lock_fd = -EBADF, gc_lock = -EBADF;
        ContainerRootfsKind kind;
        BerthError err = {};
        Digest manifest;
        char idbuf[13];
        const char *id;
        bool started = false;
        int r, code;

        r = parse_args(argc, argv, &a);
        if (r != 0)
                return r > 0 ? 0 : RUN_EXIT_ERROR;
        if (a.name)
                id = a.name;
        else {
                if (cli_container_id_random(idbuf) < 0)
                        return run_fail(&a, "getrandom failed");
                id = idbuf;
        }
        r = store_open(a.storage, &store, &err);
        /* Absolute from here on: overlay options and the runtime's --bundle must not depend on cwd. */
        if (r >= 0) {
                storage_abs = realpath(a.storage, NULL);
                if (!storage_abs)
                        r = error_set(&err, negative_errno(), "storage %s", a.storage);
                else
                        a.storage = storage_abs;
        }
        /* Shared, from finding the image and its layers until the container's "layers" file keeps
         * them: a concurrent rmi or prune waits instead of removing a layer about to be mounted. */
        if (r >= 0)
                r = store_gc_lock(store, false, NULL, NULL, &gc_lock, &err);
        if (r >= 0)
                r = resolve_image(&a, store, &manifest, &err);
        if (r >= 0)
                r = image_layers_load(store, &manifest, &layers, &err);
        if (r >= 0)
                r = image_layers_prepare(store, a.storage, &layers, &err);
        if (r >= 0)
                r = container_rootfs_create(store, a.storage, id, &layers,
                                            getenv("BERTH_NO_OVERLAY") ? CONTAINER_ROOTFS_NO_OVERLAY : 0,
                                            &rootfs, &kind, &err);
        gc_lock = safe_close(gc_lock); /* not into the monitor or the container's lifetime */
        if (r < 0) {
                code = run_fail(&a, error_message(&err, r));
                /* A pull stopped by Ctrl-C cleaned up; the status says the signal ended it. */
                return r == -ECANCELED && cli_interrupted ? 128 + cli_interrupted : code;
        }
        digest_format(&manifest, a.manifest);
        if (asprintf(&cdir, "%s/containers/%s", a.storage, id) < 0) {
                (void)container_rootfs_remove(a.storage, id, NULL);
                return run_fail(&a, "out of memory");
        }
        /* Held (by us, or by the monitor of -d) until the container has exited and is cleaned up. */
        lock_fd = open(cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock_fd < 0 || container_dir_lock(lock_fd, LOCK_EX, 0) < 0) {
                (void)container_rootfs_remove(a.storage, id, NULL);
                return run_fail(&a, "lock the container directory failed");
        }

        code = run_container(&a, &layers, cdir, rootfs, id, lock_fd, &started);
        if (a.detach && started)
                return code;

        err = (BerthError){};
        r = a.rm || !started ? container_rootfs_remove(a.storage, id, &err)
                             : container_rootfs_unmount(a.storage, id, &err);
        if (r < 0)
                fprintf(stderr, "berth: run %s: clean up container %s: %s\n", a.image, id,
                        error_message(&err, r));
        return code;
}
