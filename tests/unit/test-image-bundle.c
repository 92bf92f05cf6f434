/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "cgroup/resources.h"
#include "image/bundle.h"
#include "oci/config.h"
#include "oci/default-spec.h"
#include "runtime/seccomp.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "# a comment\n"
                             "broken line\n"
                             "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                             "bob:x:1001:1001::/home/bob:/bin/sh\n"
                             "nohome:x:1002:1002::\n";

static const char group[] = "root:x:0:\n"
                            "wheel:x:10:alice,bob\n"
                            "staff:x:50:\n"
                            "alice:x:1000:alice\n"
                            "bob:x:1001:\n"
                            "docker:x:999:carol,alice\n";

typedef struct Fixture {
        char dir[64];
        int rootfs_fd;
} Fixture;

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *dir, const char *name)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof(*f));
        char path[128];

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/berth-bundle-test-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        make_dir(f->dir, "rootfs");
        make_dir(f->dir, "rootfs/etc");
        write_file(f->dir, "rootfs/etc/passwd", passwd);
        write_file(f->dir, "rootfs/etc/group", group);
        /* A passwd outside every rootfs, which no symlink may lead to. */
        make_dir(f->dir, "outside");
        write_file(f->dir, "outside/passwd", "evil:x:0:0::/root:/bin/sh\n");
        write_file(f->dir, "outside/group", "evilgroup:x:0:alice\n");
        snprintf(path, sizeof(path), "%s/rootfs", f->dir);
        f->rootfs_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->rootfs_fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;

        close(f->rootfs_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->dir), 0);
        free(f);
        return 0;
}

/* Build, then parse with berth's own OCI parser: every generated document must pass it. */
static OciConfig *build_and_parse(int rootfs_fd, const char *image, const BundleOptions *o, char **ret_text)
{
        _cleanup_free_ char *text = NULL;
        BerthError err = {0};
        OciConfig *cfg = NULL;
        int r;

        r = image_bundle_config(image, rootfs_fd, o, &text, &err);
        if (r < 0)
                fail_msg("image_bundle_config(%s): %s", image, err.msg);
        r = oci_config_parse(text, strlen(text), &cfg, &err);
        if (r < 0)
                fail_msg("generated config does not parse: %s\n%s", err.msg, text);
        /* ... and its seccomp profile compiles as berth-runtime will compile it. */
        SeccompPlan *plan = NULL;
        r = seccomp_config_parse(cfg->linux_.seccomp, "linux.seccomp", &plan, &err);
        if (r < 0)
                fail_msg("generated linux.seccomp does not compile: %s", err.msg);
        seccomp_plan_free(plan);
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return cfg;
}

static void assert_strv_equal(char *const *got, const char *const *want)
{
        size_t i = 0;

        for (; want[i]; i++) {
                if (!got[i])
                        fail_msg("missing \"%s\" at %zu", want[i], i);
                assert_string_equal(got[i], want[i]);
        }
        if (got[i])
                fail_msg("unexpected extra \"%s\" at %zu", got[i], i);
}

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EMPTY  ((const char *const[]){NULL})

typedef struct ProcessCase {
        const char *name;
        const char *image;
        BundleOptions opts;
        const char *const *args;
        const char *const *env;
        const char *cwd;
        uint32_t uid;
        uint32_t gid;
        const uint32_t *gids; /* additionalGids, terminated by UINT32_MAX */
} ProcessCase;

#define GIDS(...) ((const uint32_t[]){__VA_ARGS__, UINT32_MAX})

static void test_process_table(void **state)
{
        Fixture *f = *state;
        const ProcessCase cases[] = {
                {"entrypoint + cmd",
                 "{\"config\": {\"Entrypoint\": [\"/bin/echo\"], \"Cmd\": [\"hello\"]}}",
                 {},
                 V("/bin/echo", "hello"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 0,
                 NULL},
                {"args replace cmd only",
                 "{\"config\": {\"Entrypoint\": [\"/bin/echo\"], \"Cmd\": [\"hello\"]}}",
                 {.args = (char *[]){"bye", "now", NULL}},
                 V("/bin/echo", "bye", "now"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 0,
                 NULL},
                {"entrypoint override drops cmd",
                 "{\"config\": {\"Entrypoint\": [\"/bin/echo\"], \"Cmd\": [\"hello\"]}}",
                 {.entrypoint = "/bin/sh"},
                 V("/bin/sh"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 0,
                 NULL},
                {"entrypoint override + args",
                 "{\"config\": {\"Entrypoint\": [\"/bin/echo\"], \"Cmd\": [\"x\"]}}",
                 {.entrypoint = "/bin/sh", .args = (char *[]){"-c", "true", NULL}},
                 V("/bin/sh", "-c", "true"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 0,
                 NULL},
                {"empty entrypoint override",
                 "{\"config\": {\"Entrypoint\": [\"/bin/echo\"], \"Cmd\": [\"x\"]}}",
                 {.entrypoint = "", .args = (char *[]){"ls", NULL}},
                 V("ls"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 0,
                 NULL},
                {"cmd only, user name, env merge",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"WorkingDir\": \"/srv\", \"User\": \"alice\", "
                 "\"Env\": [\"PATH=/x\", \"A=1\", \"B=2\"]}}",
                 {.env = (char *[]){"A=override", "C=3", "A=last", NULL}},
                 V("sh"),
                 V("PATH=/x", "A=last", "B=2", "C=3", "HOME=/home/alice"),
                 "/srv",
                 1000,
                 1000,
                 GIDS(10, 999)},
                {"name:group has no additional gids",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"alice:staff\"}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/home/alice"),
                 "/",
                 1000,
                 50,
                 NULL},
                {"numeric uid with an entry",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"1001\"}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/home/bob"),
                 "/",
                 1001,
                 1001,
                 NULL},
                {"numeric uid without an entry",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"4242\"}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/"),
                 "/",
                 4242,
                 0,
                 NULL},
                {"uid:gid",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"4242:10\"}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/"),
                 "/",
                 4242,
                 10,
                 NULL},
                {"uid:group name",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"0:docker\"}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 999,
                 NULL},
                {"user override wins",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"alice\"}}",
                 {.user = "bob:wheel"},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/home/bob"),
                 "/",
                 1001,
                 10,
                 NULL},
                {"passwd entry without home",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"nohome\"}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/"),
                 "/",
                 1002,
                 1002,
                 NULL},
                {"workdir override, terminal, image HOME kept",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"WorkingDir\": \"/srv\", \"Env\": [\"HOME=/data\"]}}",
                 {.workdir = "/tmp", .terminal = true},
                 V("sh"),
                 V("HOME=/data", DEFAULT_PATH, "TERM=xterm"),
                 "/tmp",
                 0,
                 0,
                 NULL},
                {"empty WorkingDir is /",
                 "{\"config\": {\"Cmd\": [\"sh\"], \"WorkingDir\": \"\"}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 0,
                 NULL},
                {"docker config with nulls",
                 "{\"architecture\": \"amd64\", \"config\": {\"Entrypoint\": null, \"Cmd\": [\"sh\"], "
                 "\"Env\": null, \"User\": \"\", \"Volumes\": null, \"Labels\": null}, \"rootfs\": {}}",
                 {},
                 V("sh"),
                 V(DEFAULT_PATH, "HOME=/root"),
                 "/",
                 0,
                 0,
                 NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const ProcessCase *c = &cases[i];
                _cleanup_(oci_config_freep) OciConfig *cfg = NULL;

                print_message("# %s\n", c->name);
                cfg = build_and_parse(f->rootfs_fd, c->image, &c->opts, NULL);
                assert_non_null(cfg->process);
                assert_strv_equal(cfg->process->args, c->args);
                assert_strv_equal(cfg->process->env, c->env);
                assert_string_equal(cfg->process->cwd, c->cwd);
                assert_int_equal(cfg->process->user.uid, c->uid);
                assert_int_equal(cfg->process->user.gid, c->gid);
                size_t n = 0;
                for (; c->gids && c->gids[n] != UINT32_MAX; n++) {
                        assert_true(n < cfg->process->user.n_additional_gids);
                        assert_int_equal(cfg->process->user.additional_gids[n], c->gids[n]);
                }
                assert_int_equal(cfg->process->user.n_additional_gids, n);
                assert_int_equal(cfg->process->terminal, c->opts.terminal);
        }
}

static const OciMount *find_mount(const OciConfig *cfg, const char *destination)
{
        for (size_t i = 0; i < cfg->n_mounts; i++)
                if (streq(cfg->mounts[i].destination, destination))
                        return &cfg->mounts[i];
        return NULL;
}

static const char *find_annotation(const OciConfig *cfg, const char *key)
{
        for (size_t i = 0; i < cfg->n_annotations; i++)
                if (streq(cfg->annotations[i].key, key))
                        return cfg->annotations[i].value;
        return NULL;
}

/* The secure defaults are those of `berth-runtime spec`, not a copy that can drift. */
static void test_secure_defaults(void **state)
{
        Fixture *f = *state;
        _cleanup_(oci_config_freep) OciConfig *cfg = NULL, *def = NULL;
        _cleanup_free_ char *defaults = oci_default_spec_render(false);
        BerthError err = {0};

        assert_non_null(defaults);
        assert_int_equal(oci_config_parse(defaults, strlen(defaults), &def, &err), 0);
        cfg = build_and_parse(f->rootfs_fd, "{\"config\": {\"Cmd\": [\"sh\"]}}", NULL, NULL);

        assert_true(cfg->process->no_new_privileges);
        assert_non_null(cfg->process->capabilities);
        for (int s = 0; s < _CAP_SET_MAX; s++) {
                assert_int_equal(cfg->process->capabilities->n_caps[s],
                                 def->process->capabilities->n_caps[s]);
                for (size_t i = 0; i < def->process->capabilities->n_caps[s]; i++)
                        assert_int_equal(cfg->process->capabilities->caps[s][i],
                                         def->process->capabilities->caps[s][i]);
        }
        assert_strv_equal(cfg->linux_.masked_paths, (const char *const *)def->linux_.masked_paths);
        assert_strv_equal(cfg->linux_.readonly_paths, (const char *const *)def->linux_.readonly_paths);
        assert_int_equal(cfg->n_mounts, def->n_mounts);
        for (size_t i = 0; i < def->n_mounts; i++) {
                assert_string_equal(cfg->mounts[i].destination, def->mounts[i].destination);
                assert_int_equal(cfg->mounts[i].flags, def->mounts[i].flags);
        }
        assert_int_equal(cfg->linux_.n_namespaces, def->linux_.n_namespaces);
        assert_non_null(oci_config_find_namespace(cfg, NAMESPACE_NETWORK));
        assert_string_equal(cfg->hostname, "berth");
        assert_string_equal(cfg->root_path, "rootfs");
        assert_false(cfg->root_readonly);
        assert_false(cfg->process->terminal);
        /* Docker's default seccomp profile (tests/unit/test-image-seccomp.c checks its content). */
        assert_non_null(cfg->linux_.seccomp);
        struct json_object *v;
        assert_true(json_object_object_get_ex(cfg->linux_.seccomp, "defaultAction", &v));
        assert_string_equal(json_object_get_string(v), "SCMP_ACT_ERRNO");
        assert_int_equal(cfg->n_annotations, 0);

        /* Rootless: the spec's user namespace variant. */
        _cleanup_(oci_config_freep) OciConfig *rl = NULL;
        BundleOptions o = {.rootless = true};
        rl = build_and_parse(f->rootfs_fd, "{\"config\": {\"Cmd\": [\"sh\"]}}", &o, NULL);
        assert_non_null(oci_config_find_namespace(rl, NAMESPACE_USER));
        assert_int_equal(rl->linux_.n_uid_mappings, 1);
}

static void test_options(void **state)
{
        Fixture *f = *state;
        _cleanup_(oci_config_freep) OciConfig *cfg = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        BerthError err = {0};
        const OciMount *m;
        BundleOptions o = {
                .hostname = "web1",
                .rootfs = "/var/lib/berth/c1/rootfs",
                .read_only = true,
                .memory_limit_bytes = 64 * 1024 * 1024,
                .cpu_millis = 1500,
                .pids_limit = 100,
                .network = BUNDLE_NETWORK_HOST,
                .image_volumes = BUNDLE_IMAGE_VOLUMES_TMPFS,
                .volumes = (char *[]){"/srv/data:/data:ro", "/srv/cache:/cache", "/srv/db:/var/lib/db:rw",
                                      NULL},
        };

        cfg = build_and_parse(
                f->rootfs_fd,
                "{\"os\": \"linux\", \"architecture\": \"arm64\", \"variant\": \"v8\", "
                "\"os.features\": [\"a\", \"b\"], \"created\": \"2025-01-01T00:00:00Z\", "
                "\"config\": {\"Cmd\": [\"sh\"], \"StopSignal\": \"SIGQUIT\", "
                "\"Volumes\": {\"/var/lib/db\": {}, \"/scratch\": {}}, "
                "\"ExposedPorts\": {\"80/tcp\": {}, \"53/udp\": {}}, "
                "\"Labels\": {\"org.opencontainers.image.os\": \"from-label\", \"maintainer\": \"me\"}}}",
                &o, NULL);
        assert_string_equal(cfg->hostname, "web1");
        assert_string_equal(cfg->root_path, "/var/lib/berth/c1/rootfs");
        assert_true(cfg->root_readonly);
        assert_null(oci_config_find_namespace(cfg, NAMESPACE_NETWORK));
        assert_non_null(oci_config_find_namespace(cfg, NAMESPACE_PID));

        m = find_mount(cfg, "/data");
        assert_non_null(m);
        assert_string_equal(m->source, "/srv/data");
        assert_true(m->is_bind && m->is_recursive);
        assert_true(m->flags & MS_RDONLY);
        m = find_mount(cfg, "/cache");
        assert_non_null(m);
        assert_true(m->is_bind);
        assert_false(m->flags & MS_RDONLY);
        /* The image volume at /var/lib/db is taken by -v; /scratch gets a tmpfs. */
        m = find_mount(cfg, "/var/lib/db");
        assert_non_null(m);
        assert_string_equal(m->source, "/srv/db");
        m = find_mount(cfg, "/scratch");
        assert_non_null(m);
        assert_string_equal(m->type, "tmpfs");

        assert_int_equal(cgroup_resources_parse(cfg->linux_.resources, "linux.resources", &res, &err), 0);
        assert_true(res->has_memory_limit);
        assert_int_equal(res->memory_limit, 64 * 1024 * 1024);
        assert_true(res->has_cpu_quota && res->has_cpu_period);
        assert_int_equal(res->cpu_quota, 150000);
        assert_int_equal(res->cpu_period, 100000);
        assert_true(res->has_pids_limit);
        assert_int_equal(res->pids_limit, 100);
        assert_non_null(res->devices); /* the default deny-all rule stays */

        assert_string_equal(find_annotation(cfg, "org.opencontainers.image.stopSignal"), "SIGQUIT");
        assert_string_equal(find_annotation(cfg, "org.opencontainers.image.os"), "from-label");
        assert_string_equal(find_annotation(cfg, "org.opencontainers.image.architecture"), "arm64");
        assert_string_equal(find_annotation(cfg, "org.opencontainers.image.variant"), "v8");
        assert_string_equal(find_annotation(cfg, "org.opencontainers.image.os.features"), "a,b");
        assert_string_equal(find_annotation(cfg, "org.opencontainers.image.created"),
                            "2025-01-01T00:00:00Z");
        assert_string_equal(find_annotation(cfg, "org.opencontainers.image.exposedPorts"), "80/tcp,53/udp");
        assert_string_equal(find_annotation(cfg, "maintainer"), "me");

        /* Ignored image volumes add nothing; network none keeps a fresh network namespace. */
        _cleanup_(oci_config_freep) OciConfig *plain = NULL;
        plain = build_and_parse(f->rootfs_fd,
                                "{\"config\": {\"Cmd\": [\"sh\"], \"Volumes\": {\"/scratch\": {}}}}",
                                &(BundleOptions){.network = BUNDLE_NETWORK_NONE}, NULL);
        assert_null(find_mount(plain, "/scratch"));
        assert_non_null(oci_config_find_namespace(plain, NAMESPACE_NETWORK));
}

static void test_network_names(void **state)
{
        assert_int_equal(bundle_network_from_string("none"), BUNDLE_NETWORK_NONE);
        assert_int_equal(bundle_network_from_string("host"), BUNDLE_NETWORK_HOST);
        assert_int_equal(bundle_network_from_string("bridge"), _BUNDLE_NETWORK_INVALID);
        assert_string_equal(bundle_network_to_string(BUNDLE_NETWORK_HOST), "host");
}

static void expect_user_error(int rootfs_fd, const char *spec, const char *msg)
{
        BundleUser u = {};
        BerthError err = {0};

        assert_int_equal(image_bundle_resolve_user(rootfs_fd, spec, &u, &err), -EINVAL);
        assert_string_equal(err.msg, msg);
        assert_null(u.home);
}

static int open_rootfs(const Fixture *f, const char *name)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", f->dir, name);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

/* /etc/passwd and /etc/group symlinked out of the rootfs resolve inside it, never outside. */
static void test_user_symlinks_stay_inside(void **state)
{
        Fixture *f = *state;
        char target[128], path[192];
        BundleUser u = {};
        BerthError err = {0};

        /* Absolute symlinks to the outside passwd. */
        make_dir(f->dir, "abs");
        make_dir(f->dir, "abs/etc");
        snprintf(target, sizeof(target), "%s/outside/passwd", f->dir);
        snprintf(path, sizeof(path), "%s/abs/etc/passwd", f->dir);
        assert_int_equal(symlink(target, path), 0);
        snprintf(target, sizeof(target), "%s/outside/group", f->dir);
        snprintf(path, sizeof(path), "%s/abs/etc/group", f->dir);
        assert_int_equal(symlink(target, path), 0);
        _cleanup_close_ int abs_fd = open_rootfs(f, "abs");
        expect_user_error(abs_fd, "evil", "user \"evil\": no such user in the image's /etc/passwd");
        expect_user_error(abs_fd, "0:evilgroup",
                          "group \"evilgroup\": no such group in the image's /etc/group");

        /* Relative symlinks that climb with "..": clamped at the rootfs's /. */
        make_dir(f->dir, "rel");
        make_dir(f->dir, "rel/etc");
        snprintf(path, sizeof(path), "%s/rel/etc/passwd", f->dir);
        assert_int_equal(symlink("../../../../../../outside/passwd", path), 0);
        _cleanup_close_ int rel_fd = open_rootfs(f, "rel");
        expect_user_error(rel_fd, "evil", "user \"evil\": no such user in the image's /etc/passwd");

        /* The whole /etc a symlink to the outside directory. */
        make_dir(f->dir, "etclink");
        snprintf(target, sizeof(target), "%s/outside", f->dir);
        snprintf(path, sizeof(path), "%s/etclink/etc", f->dir);
        assert_int_equal(symlink(target, path), 0);
        _cleanup_close_ int etc_fd = open_rootfs(f, "etclink");
        expect_user_error(etc_fd, "evil", "user \"evil\": no such user in the image's /etc/passwd");

        /* Numeric ids need no file at all. */
        assert_int_equal(image_bundle_resolve_user(abs_fd, "0", &u, &err), 0);
        assert_int_equal(u.uid, 0);
        assert_int_equal(u.gid, 0);
        assert_string_equal(u.home, "/");
        bundle_user_done(&u);

        /* A symlink that stays inside is followed. */
        make_dir(f->dir, "inside");
        make_dir(f->dir, "inside/etc");
        make_dir(f->dir, "inside/lib");
        write_file(f->dir, "inside/lib/passwd", "svc:x:77:78::/var/svc:/bin/sh\n");
        snprintf(path, sizeof(path), "%s/inside/etc/passwd", f->dir);
        assert_int_equal(symlink("/lib/passwd", path), 0);
        _cleanup_close_ int in_fd = open_rootfs(f, "inside");
        assert_int_equal(image_bundle_resolve_user(in_fd, "svc", &u, &err), 0);
        assert_int_equal(u.uid, 77);
        assert_int_equal(u.gid, 78);
        assert_string_equal(u.home, "/var/svc");
        bundle_user_done(&u);

        /* A directory where /etc/passwd should be is refused, not read. */
        make_dir(f->dir, "dir");
        make_dir(f->dir, "dir/etc");
        make_dir(f->dir, "dir/etc/passwd");
        _cleanup_close_ int dir_fd = open_rootfs(f, "dir");
        expect_user_error(dir_fd, "root", "the image's /etc/passwd is not a regular file");
}

typedef struct BadCase {
        const char *image;
        BundleOptions opts;
        const char *msg; /* exact, or a prefix when it ends in '*' */
} BadCase;

static void test_bad_inputs(void **state)
{
        Fixture *f = *state;
        const BadCase cases[] = {
                {"{\"config\": {", {}, "image config: invalid JSON: unexpected end of input"},
                {"{\"config\" {}}", {}, "image config: invalid JSON at offset *"},
                {"{} x", {}, "image config: invalid JSON at offset 3: *"},
                {"[]", {}, "image config: must be a JSON object"},
                {"{\"config\": []}", {}, "image config: config: must be an object"},
                {"{\"config\": {\"Cmd\": \"sh\"}}", {}, "image config: config.Cmd: must be an array"},
                {"{\"config\": {\"Cmd\": [\"sh\", 1]}}",
                 {},
                 "image config: config.Cmd[1]: must be a string"},
                {"{\"config\": {\"Cmd\": [\"sh\"], \"WorkingDir\": \"srv\"}}",
                 {},
                 "image config: config.WorkingDir \"srv\": must be an absolute path"},
                {"{\"config\": {\"Cmd\": [\"sh\"], \"Env\": [\"=x\"]}}",
                 {},
                 "image config: config.Env[0] \"=x\": must be KEY=VALUE"},
                {"{\"config\": {\"Cmd\": [\"sh\"], \"Labels\": {\"a\": 1}}}",
                 {},
                 "image config: config.Labels[\"a\"]: must be a string"},
                {"{\"config\": {\"Cmd\": [\"sh\"], \"Volumes\": {\"data\": {}}}}",
                 {},
                 "image config: config.Volumes \"data\": must be an absolute path without \"..\""},
                {"{\"config\": {\"Cmd\": [\"sh\"], \"User\": \"nobody\"}}",
                 {},
                 "user \"nobody\": no such user in the image's /etc/passwd"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.user = "alice:nogroup"},
                 "group \"nogroup\": no such group in the image's /etc/group"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.user = "99999999999"},
                 "user \"99999999999\": uid out of range"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}", {.user = ":0"}, "user \":0\": empty user name"},
                {"{}", {}, "no command: the image has no Entrypoint or Cmd and none was given"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.entrypoint = ""},
                 "no command: the image has no Entrypoint or Cmd and none was given"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.workdir = "tmp"},
                 "workdir \"tmp\": must be an absolute path"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.env = (char *[]){"NOVALUE", NULL}},
                 "env \"NOVALUE\": must be KEY=VALUE"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/srv", NULL}},
                 "volume \"/srv\": must be HOST:CONTAINER[:ro]"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"data:/data", NULL}},
                 "volume \"data:/data\": the host path must be absolute"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/srv:data", NULL}},
                 "volume \"/srv:data\": the container path must be absolute, without \"..\""},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/srv:/a/../etc", NULL}},
                 "volume \"/srv:/a/../etc\": the container path must be absolute, without \"..\""},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/srv:/data:rx", NULL}},
                 "volume \"/srv:/data:rx\": unknown option \"rx\" (ro or rw)"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/srv:/data:ro:x", NULL}},
                 "volume \"/srv:/data:ro:x\": unknown option \"ro:x\" (ro or rw)"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/srv:/", NULL}},
                 "volume \"/srv:/\": cannot mount over the container's /"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/srv:/proc", NULL}},
                 "volume \"/srv:/proc\": \"/proc\" is already a mount point"},
                {"{\"config\": {\"Cmd\": [\"sh\"]}}",
                 {.volumes = (char *[]){"/a:/x", "/b:/x", NULL}},
                 "volume \"/b:/x\": \"/x\" is already a mount point"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const BadCase *c = &cases[i];
                char *text = NULL;
                BerthError err = {0};
                size_t n = strlen(c->msg);

                print_message("# %s\n", c->msg);
                assert_true(image_bundle_config(c->image, f->rootfs_fd, &c->opts, &text, &err) < 0);
                assert_null(text);
                assert_null(strchr(err.msg, '\n'));
                if (c->msg[n - 1] == '*')
                        assert_int_equal(strncmp(err.msg, c->msg, n - 1), 0);
                else
                        assert_string_equal(err.msg, c->msg);
        }
}

static bool seccomp_allows(struct json_object *seccomp, const char *name)
{
        struct json_object *calls, *names, *args;

        assert_true(json_object_object_get_ex(seccomp, "syscalls", &calls));
        for (size_t i = 0; i < json_object_array_length(calls); i++) {
                struct json_object *rule = json_object_array_get_idx(calls, i);
                assert_true(json_object_object_get_ex(rule, "names", &names));
                if (json_object_object_get_ex(rule, "args", &args))
                        continue;
                for (size_t j = 0; j < json_object_array_length(names); j++)
                        if (strcmp(json_object_get_string(json_object_array_get_idx(names, j)), name) == 0)
                                return true;
        }
        return false;
}

static void test_seccomp_options(void **state)
{
        Fixture *f = *state;
        static const char image[] = "{\"config\": {\"Cmd\": [\"sh\"]}}";
        char path[128];
        struct json_object *v;

        /* Default: resolved for the bounding set, so clone has its namespace rule. */
        _cleanup_(oci_config_freep) OciConfig *def = build_and_parse(f->rootfs_fd, image, NULL, NULL);
        assert_non_null(def->linux_.seccomp);
        assert_true(seccomp_allows(def->linux_.seccomp, "read"));
        assert_false(seccomp_allows(def->linux_.seccomp, "clone"));
        assert_false(seccomp_allows(def->linux_.seccomp, "mount"));

        BundleOptions o = {.seccomp = BUNDLE_SECCOMP_UNCONFINED};
        _cleanup_(oci_config_freep) OciConfig *unconfined = build_and_parse(f->rootfs_fd, image, &o, NULL);
        assert_null(unconfined->linux_.seccomp);

        /* A Docker-format file: includes resolved against the bounding set. */
        snprintf(path, sizeof(path), "%s/profile.json", f->dir);
        write_file(f->dir, "profile.json",
                   "{\"defaultAction\": \"SCMP_ACT_LOG\", \"syscalls\": ["
                   "{\"name\": \"getpid\", \"action\": \"SCMP_ACT_ERRNO\"},"
                   "{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": "
                   "[\"CAP_KILL\"]}},"
                   "{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": "
                   "[\"CAP_SYS_ADMIN\"]}}]}");
        o = (BundleOptions){.seccomp = BUNDLE_SECCOMP_PROFILE, .seccomp_profile = path};
        _cleanup_(oci_config_freep) OciConfig *file = build_and_parse(f->rootfs_fd, image, &o, NULL);
        assert_non_null(file->linux_.seccomp);
        assert_true(json_object_object_get_ex(file->linux_.seccomp, "defaultAction", &v));
        assert_string_equal(json_object_get_string(v), "SCMP_ACT_LOG");
        assert_true(json_object_object_get_ex(file->linux_.seccomp, "syscalls", &v));
        assert_int_equal(json_object_array_length(v), 2);

        /* A malformed or missing file: an error naming it, and no document. */
        write_file(f->dir, "profile.json", "{\"defaultAction\": ");
        char *text = NULL;
        BerthError err = {0};
        assert_int_equal(image_bundle_config(image, f->rootfs_fd, &o, &text, &err), -EINVAL);
        assert_null(text);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "not valid JSON"));
        unlink(path);
        err = (BerthError){0};
        assert_int_equal(image_bundle_config(image, f->rootfs_fd, &o, &text, &err), -ENOENT);
        assert_null(text);
        assert_non_null(strstr(err.msg, path));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_process_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secure_defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_options, setup, teardown),
                cmocka_unit_test(test_network_names),
                cmocka_unit_test_setup_teardown(test_user_symlinks_stay_inside, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_seccomp_options, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
