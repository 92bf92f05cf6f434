/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/mount.h>

#include <json-c/json.h>
#include <json-c/json_pointer.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "oci/config.h"

/* Small but complete; each test changes one thing in it. */
static const char base_config[] =
        "{\"ociVersion\": \"1.0.2-dev\","
        " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0}, \"args\": [\"sh\"],"
        "   \"env\": [\"PATH=/bin\"], \"cwd\": \"/\","
        "   \"capabilities\": {\"bounding\": [\"CAP_KILL\"]},"
        "   \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]},"
        " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
        " \"hostname\": \"berth\","
        " \"mounts\": ["
        "   {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
        "    \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
        "   {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
        "    \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}],"
        " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
        "   {\"type\": \"uts\"}, {\"type\": \"mount\"}],"
        "   \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"]}}";

#define DELETE ((const char *)NULL)

/* The base config with changes: pairs of a JSON pointer and a JSON value (DELETE removes), NULL-ended. */
static char *config_with_list(const char *pointer, va_list ap)
{
        struct json_object *root = json_tokener_parse(base_config);
        char *text;

        assert_non_null(root);
        for (const char *p = pointer; p; p = va_arg(ap, const char *)) {
                const char *value = va_arg(ap, const char *), *slash = strrchr(p, '/');
                struct json_object *parent, *v = NULL;
                char parent_ptr[256];

                assert_non_null(slash);
                assert_true((size_t)(slash - p) < sizeof(parent_ptr));
                memcpy(parent_ptr, p, (size_t)(slash - p));
                parent_ptr[slash - p] = '\0';
                assert_int_equal(json_pointer_get(root, parent_ptr, &parent), 0);
                if (value) {
                        v = json_tokener_parse(value);
                        assert_true(v || streq(value, "null"));
                }
                if (json_object_is_type(parent, json_type_array)) {
                        size_t i = strtoul(slash + 1, NULL, 10);
                        if (!v)
                                assert_int_equal(json_object_array_del_idx(parent, i, 1), 0);
                        else if (i >= json_object_array_length(parent))
                                assert_int_equal(json_object_array_add(parent, v), 0);
                        else
                                assert_int_equal(json_object_array_put_idx(parent, i, v), 0);
                } else if (value)
                        assert_int_equal(json_object_object_add(parent, slash + 1, v), 0);
                else
                        json_object_object_del(parent, slash + 1);
        }
        text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        assert_non_null(text);
        json_object_put(root);
        return text;
}

static char *config_with_(const char *pointer, ...)
{
        va_list ap;
        va_start(ap, pointer);
        char *text = config_with_list(pointer, ap);
        va_end(ap);
        return text;
}
#define config_with(...) config_with_(__VA_ARGS__, (const char *)NULL)

static OciConfig *parse_ok(const char *text)
{
        BerthError err = {0};
        OciConfig *c = NULL;
        int r = oci_config_parse(text, strlen(text), &c, &err);
        if (r < 0)
                fail_msg("unexpected error %d: %s", r, err.msg);
        assert_non_null(c);
        return c;
}

static void assert_config_error_len(const char *text, size_t len, const char *message)
{
        BerthError err = {0};
        OciConfig *c = NULL;
        int r = oci_config_parse(text, len, &c, &err);
        if (r >= 0) {
                oci_config_free(c);
                fail_msg("parsed, but expected \"%s\"", message);
        }
        assert_null(c);
        assert_int_equal(r, err.code);
        assert_string_equal(err.msg, message);
}

static void assert_config_error(const char *text, const char *message)
{
        assert_config_error_len(text, strlen(text), message);
}

/* assert_modified_error(message, pointer, value, pointer, value, ...) */
#define assert_modified_error(message, ...)                                                                 \
        do {                                                                                                \
                _cleanup_free_ char *_text = config_with(__VA_ARGS__);                                      \
                assert_config_error(_text, (message));                                                      \
        } while (0)

static OciConfig *parse_modified_ok_(const char *pointer, ...)
{
        va_list ap;
        va_start(ap, pointer);
        _cleanup_free_ char *text = config_with_list(pointer, ap);
        va_end(ap);
        return parse_ok(text);
}
#define parse_modified_ok(...) parse_modified_ok_(__VA_ARGS__, (const char *)NULL)

static OciConfig *load_ok(const char *bundle)
{
        BerthError err = {0};
        OciConfig *c = NULL;
        int r = oci_config_load(bundle, &c, &err);
        if (r < 0)
                fail_msg("loading %s: %s", bundle, err.msg);
        return c;
}

static const OciMount *find_mount(const OciConfig *c, const char *destination)
{
        for (size_t i = 0; i < c->n_mounts; i++)
                if (streq(c->mounts[i].destination, destination))
                        return &c->mounts[i];
        fail_msg("no mount on %s", destination);
        return NULL;
}

/* ---- full documents ---- */

static void test_runc_spec_config(void **state)
{
        _cleanup_(oci_config_freep) OciConfig *c = load_ok(TEST_DATA_DIR "/bundle-runc");
        const OciProcess *p = c->process;

        assert_string_equal(c->oci_version, "1.0.2-dev");
        assert_non_null(p);
        assert_true(p->terminal);
        assert_false(p->has_console_size);
        assert_int_equal(p->user.uid, 0);
        assert_int_equal(p->user.gid, 0);
        assert_false(p->user.has_umask);
        assert_int_equal(strv_length(p->args), 1);
        assert_string_equal(p->args[0], "sh");
        assert_int_equal(strv_length(p->env), 2);
        assert_string_equal(strv_env_get(p->env, "TERM"), "xterm");
        assert_string_equal(p->cwd, "/");
        assert_non_null(p->capabilities);
        assert_int_equal(p->capabilities->n_caps[CAP_SET_BOUNDING], 3);
        assert_int_equal(p->capabilities->caps[CAP_SET_BOUNDING][0], CAP_AUDIT_WRITE);
        assert_int_equal(p->capabilities->caps[CAP_SET_BOUNDING][1], CAP_KILL);
        assert_int_equal(p->capabilities->caps[CAP_SET_BOUNDING][2], CAP_NET_BIND_SERVICE);
        assert_int_equal(p->capabilities->n_caps[CAP_SET_INHERITABLE], 0);
        assert_int_equal(p->capabilities->n_caps[CAP_SET_AMBIENT], 3);
        assert_int_equal(p->n_rlimits, 1);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(p->rlimits[0].soft, 1024);
        assert_int_equal(p->rlimits[0].hard, 1024);
        assert_true(p->no_new_privileges);
        assert_false(p->has_oom_score_adj);

        assert_string_equal(c->root_path, "rootfs");
        assert_true(c->root_readonly);
        assert_string_equal(c->hostname, "runc");
        assert_null(c->domainname);

        assert_int_equal(c->n_mounts, 7);
        assert_string_equal(c->mounts[0].destination, "/proc");
        assert_string_equal(c->mounts[0].type, "proc");
        assert_int_equal(c->mounts[0].flags, 0);
        assert_null(c->mounts[0].data);
        const OciMount *dev = find_mount(c, "/dev");
        assert_int_equal(dev->flags, MS_NOSUID | MS_STRICTATIME);
        assert_string_equal(dev->data, "mode=755,size=65536k");
        assert_false(dev->is_bind);
        const OciMount *pts = find_mount(c, "/dev/pts");
        assert_int_equal(pts->flags, MS_NOSUID | MS_NOEXEC);
        assert_string_equal(pts->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        const OciMount *cg = find_mount(c, "/sys/fs/cgroup");
        assert_int_equal(cg->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
        assert_int_equal(cg->propagation, 0);

        assert_true(c->has_linux);
        assert_int_equal(c->linux_.n_namespaces, 5);
        assert_int_equal(c->linux_.namespaces[0].type, NAMESPACE_PID);
        assert_null(c->linux_.namespaces[0].path);
        assert_non_null(oci_config_find_namespace(c, NAMESPACE_MOUNT));
        assert_null(oci_config_find_namespace(c, NAMESPACE_USER));
        assert_int_equal(c->linux_.n_uid_mappings, 0);
        assert_int_equal(strv_length(c->linux_.masked_paths), 10);
        assert_string_equal(c->linux_.masked_paths[9], "/proc/scsi");
        assert_int_equal(strv_length(c->linux_.readonly_paths), 5);
        assert_null(c->linux_.rootfs_propagation);
        assert_int_equal(c->linux_.rootfs_propagation_flags, 0);
        assert_null(c->linux_.seccomp);
        assert_true(json_object_is_type(c->linux_.resources, json_type_object));
        assert_true(json_object_object_get_ex(c->linux_.resources, "devices", NULL));
        for (int k = 0; k < _HOOK_MAX; k++)
                assert_int_equal(c->n_hooks[k], 0);
}

static void test_full_config_process(void **state)
{
        _cleanup_(oci_config_freep) OciConfig *c = load_ok(TEST_DATA_DIR "/bundle-full");
        const OciProcess *p = c->process;

        assert_string_equal(c->oci_version, "1.2.0");
        assert_true(p->has_console_size);
        assert_int_equal(p->console_height, 24);
        assert_int_equal(p->console_width, 80);
        assert_int_equal(p->user.uid, 1000);
        assert_int_equal(p->user.gid, 1000);
        assert_true(p->user.has_umask);
        assert_int_equal(p->user.umask, 022);
        assert_int_equal(p->user.n_additional_gids, 2);
        assert_int_equal(p->user.additional_gids[0], 5);
        assert_int_equal(p->user.additional_gids[1], 6);
        assert_string_equal(p->user.username, "alice");
        assert_int_equal(strv_length(p->args), 3);
        assert_string_equal(p->args[2], "echo hello");
        assert_string_equal(strv_env_get(p->env, "EMPTY"), "");
        assert_string_equal(p->cwd, "/home/alice");

        const OciCapabilities *caps = p->capabilities;
        assert_int_equal(caps->n_caps[CAP_SET_BOUNDING], 3);
        assert_int_equal(caps->caps[CAP_SET_BOUNDING][0], CAP_CHOWN);
        assert_int_equal(caps->caps[CAP_SET_BOUNDING][2], CAP_SYS_ADMIN);
        assert_int_equal(caps->n_caps[CAP_SET_EFFECTIVE], 1);
        assert_int_equal(caps->n_caps[CAP_SET_INHERITABLE], 0);
        assert_int_equal(caps->n_caps[CAP_SET_PERMITTED], 2);
        assert_int_equal(caps->caps[CAP_SET_AMBIENT][0], CAP_NET_BIND_SERVICE);

        assert_int_equal(p->n_rlimits, 2);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(p->rlimits[0].soft, 1024);
        assert_int_equal(p->rlimits[0].hard, 4096);
        assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
        assert_true(p->rlimits[1].hard == UINT64_MAX); /* RLIM_INFINITY */
        assert_true(p->no_new_privileges);
        assert_true(p->has_oom_score_adj);
        assert_int_equal(p->oom_score_adj, -500);
        assert_string_equal(p->apparmor_profile, "berth-default");
        assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
}

static void test_full_config_mounts_hooks_annotations(void **state)
{
        _cleanup_(oci_config_freep) OciConfig *c = load_ok(TEST_DATA_DIR "/bundle-full");

        assert_string_equal(c->root_path, "/var/lib/berth/rootfs");
        assert_false(c->root_readonly);
        assert_string_equal(c->domainname, "example.org");

        assert_int_equal(c->n_mounts, 4);
        assert_string_equal(c->mounts[1].destination, "/dev/shm");
        assert_string_equal(c->mounts[1].data, "mode=1777,size=65536k");
        assert_int_equal(strv_length(c->mounts[1].options), 6); /* as given */
        const OciMount *data = find_mount(c, "/data");
        assert_true(data->is_bind);
        assert_true(data->is_recursive);
        assert_int_equal(data->flags, MS_BIND | MS_REC | MS_NOSUID);
        assert_int_equal(data->propagation, MS_PRIVATE | MS_REC);
        assert_int_equal(data->attr_set, MOUNT_ATTR_RDONLY);
        assert_int_equal(data->attr_clr, 0);
        const OciMount *resolv = find_mount(c, "/etc/resolv.conf");
        assert_null(resolv->type);
        assert_string_equal(resolv->source, "/run/resolv.conf");
        assert_true(resolv->is_bind);
        assert_false(resolv->is_recursive);
        assert_int_equal(resolv->flags, MS_BIND | MS_RDONLY);

        assert_int_equal(c->n_hooks[HOOK_PRESTART], 1);
        const OciHook *h = &c->hooks[HOOK_PRESTART][0];
        assert_string_equal(h->path, "/usr/bin/netns-setup");
        assert_int_equal(strv_length(h->args), 2);
        assert_string_equal(h->env[0], "DEBUG=1");
        assert_true(h->has_timeout);
        assert_int_equal(h->timeout_sec, 5);
        assert_int_equal(c->n_hooks[HOOK_CREATE_RUNTIME], 2);
        assert_false(c->hooks[HOOK_CREATE_RUNTIME][0].has_timeout);
        assert_null(c->hooks[HOOK_CREATE_RUNTIME][0].args);
        assert_int_equal(c->hooks[HOOK_CREATE_RUNTIME][1].timeout_sec, 1);
        assert_int_equal(c->n_hooks[HOOK_CREATE_CONTAINER], 0);
        assert_int_equal(c->n_hooks[HOOK_POSTSTOP], 1);

        /* Document order, not sorted. */
        assert_int_equal(c->n_annotations, 3);
        assert_string_equal(c->annotations[0].key, "org.example.zeta");
        assert_string_equal(c->annotations[1].key, "org.example.alpha");
        assert_string_equal(c->annotations[1].value, "1");
        assert_string_equal(c->annotations[2].value, "");
}

static void test_full_config_linux(void **state)
{
        _cleanup_(oci_config_freep) OciConfig *c = load_ok(TEST_DATA_DIR "/bundle-full");
        const OciLinux *l = &c->linux_;

        assert_int_equal(l->n_namespaces, 8);
        const OciNamespace *net = oci_config_find_namespace(c, NAMESPACE_NETWORK);
        assert_non_null(net);
        assert_string_equal(net->path, "/var/run/netns/blue");
        assert_null(oci_config_find_namespace(c, NAMESPACE_TIME)->path);

        assert_int_equal(l->n_uid_mappings, 1);
        assert_int_equal(l->uid_mappings[0].container_id, 0);
        assert_int_equal(l->uid_mappings[0].host_id, 100000);
        assert_int_equal(l->uid_mappings[0].size, 65536);
        assert_int_equal(l->n_gid_mappings, 2);
        assert_int_equal(l->gid_mappings[1].container_id, 1000);
        assert_int_equal(l->gid_mappings[1].size, 1);

        assert_int_equal(l->n_devices, 3);
        assert_int_equal(l->devices[0].type, 'c');
        assert_string_equal(l->devices[0].path, "/dev/fuse");
        assert_int_equal(l->devices[0].major, 10);
        assert_int_equal(l->devices[0].minor, 229);
        assert_true(l->devices[0].has_file_mode);
        assert_int_equal(l->devices[0].file_mode, 0666);
        assert_true(l->devices[0].has_uid);
        assert_true(l->devices[0].has_gid);
        assert_int_equal(l->devices[1].type, 'b');
        assert_false(l->devices[1].has_file_mode);
        assert_false(l->devices[1].has_uid);
        assert_int_equal(l->devices[2].type, 'p');

        assert_int_equal(l->n_sysctl, 3);
        assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
        assert_string_equal(l->sysctl[1].key, "kernel.shmmax");
        assert_string_equal(l->sysctl[1].value, "4294967296");
        assert_string_equal(l->sysctl[2].key, "net.core.somaxconn");

        assert_string_equal(l->cgroups_path, "/berth/full");
        assert_string_equal(l->rootfs_propagation, "rslave");
        assert_int_equal(l->rootfs_propagation_flags, MS_SLAVE | MS_REC);
        assert_int_equal(strv_length(l->masked_paths), 2);
        assert_string_equal(l->readonly_paths[0], "/proc/sys");
        assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0:c1,c2");

        assert_true(l->has_time_offsets);
        assert_int_equal(l->time_offset_monotonic_secs, -3600);
        assert_int_equal(l->time_offset_monotonic_nanosecs, 500);
        assert_int_equal(l->time_offset_boottime_secs, 86400);
        assert_int_equal(l->time_offset_boottime_nanosecs, 0);

        /* Borrowed from the kept document. */
        struct json_object *limit;
        assert_true(json_object_object_get_ex(l->resources, "pids", &limit));
        assert_true(json_object_object_get_ex(limit, "limit", &limit));
        assert_int_equal(json_object_get_int64(limit), 100);
        assert_true(json_object_object_get_ex(l->seccomp, "defaultAction", NULL));
}

/* ---- files and JSON syntax ---- */

static void test_load_missing_file(void **state)
{
        BerthError err = {0};
        OciConfig *c = NULL;

        assert_int_equal(oci_config_load("/nonexistent/bundle", &c, &err), -ENOENT);
        assert_null(c);
        assert_string_equal(err.msg, "open \"/nonexistent/bundle/config.json\": No such file or directory");
}

static void test_load_prefixes_path(void **state)
{
        char dir[] = "/tmp/berth-test-config-XXXXXX", msg[sizeof(dir) + 128];
        BerthError err = {0};
        OciConfig *c = NULL;

        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(write_file_atomic_at(dfd, "config.json", "{\"ociVersion\": ", 15, 0600, 0), 0);
        close(dfd);

        /* A trailing slash on the bundle does not double the separator. */
        snprintf(msg, sizeof(msg), "%s/", dir);
        assert_int_equal(oci_config_load(msg, &c, &err), -EINVAL);
        snprintf(msg, sizeof(msg), "\"%s/config.json\": invalid JSON at offset 15: unexpected end of data",
                 dir);
        assert_string_equal(err.msg, msg);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
}

static void test_malformed_json(void **state)
{
        assert_config_error("", "invalid JSON at offset 0: unexpected end of data");
        assert_config_error("{\"a\" 1}",
                            "invalid JSON at offset 5: object property name separator ':' expected");
        assert_config_error("{\"a\": [1, 2}",
                            "invalid JSON at offset 11: array value separator ',' expected");
        assert_config_error("{\"a\": tru}", "invalid JSON at offset 9: boolean expected");
        assert_config_error("{\"a\": \"\xff\"}", "invalid JSON at offset 7: invalid utf-8 string");
        assert_config_error("[]", "config: must be an object");
        assert_config_error("null", "config: must be an object");
        assert_config_error("123", "config: must be an object");
        assert_config_error("  \n", "invalid JSON at offset 3: unexpected end of data");
        assert_config_error("{\"ociVersion\": \"1.0.0\"",
                            "invalid JSON at offset 22: unexpected end of data");
}

static void test_trailing_garbage(void **state)
{
        _cleanup_free_ char *text = NULL;
        size_t n = strlen(base_config);
        char msg[128];

        assert_non_null(text = malloc(n + 8));
        memcpy(text, base_config, n);

        memcpy(text + n, " \n\t", 4);
        oci_config_free(parse_ok(text));

        memcpy(text + n, " x", 3);
        snprintf(msg, sizeof(msg), "invalid JSON at offset %zu: unexpected character", n + 1);
        assert_config_error(text, msg);
        memcpy(text + n, " {}", 4);
        assert_config_error(text, msg);
        /* json-c itself stops quietly at a NUL byte. */
        memcpy(text + n, "\n\0", 2);
        snprintf(msg, sizeof(msg), "invalid JSON at offset %zu: trailing garbage after the document", n + 1);
        assert_config_error_len(text, n + 2, msg);
}

static void test_json_stricter_than_json_c(void **state)
{
        assert_config_error("{'a': 1}", "invalid JSON at offset 1: unexpected character");
        assert_config_error("{\"a\": NaN}", "invalid JSON at offset 6: unexpected character");
        assert_config_error("{\"a\": -Infinity}", "invalid JSON at offset 6: unexpected character");
        assert_config_error("{\"a\": \"x\ty\"}", "invalid JSON at offset 8: control character in string");
        /* json-c would clamp these to UINT64_MAX and INT64_MIN. */
        assert_config_error("{\"a\": [18446744073709551616]}",
                            "invalid JSON at offset 7: integer out of range");
        assert_config_error("{\"a\": -9223372036854775809}",
                            "invalid JSON at offset 6: integer out of range");
        /* ...while the limits themselves, escapes, doubles and literals are fine. */
        _cleanup_free_ char *text = config_with("/x", "[18446744073709551615, -9223372036854775808, 1.5e300,"
                                                      " \"\\\"\\t\", true, false, null]");
        oci_config_free(parse_ok(text));
}

/* ---- top level ---- */

static void test_oci_version(void **state)
{
        assert_modified_error("ociVersion: is required", "/ociVersion", DELETE);
        assert_modified_error("ociVersion: must be a string", "/ociVersion", "1");
        assert_modified_error("ociVersion: \"1.0\" is not a SemVer version", "/ociVersion", "\"1.0\"");
        assert_modified_error("ociVersion: \"1.0.0-\" is not a SemVer version", "/ociVersion", "\"1.0.0-\"");
        assert_modified_error("ociVersion: unsupported version \"2.0.0\", need 1.x", "/ociVersion",
                              "\"2.0.0\"");
        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok("/ociVersion", "\"1.1.0+dev\"");
        assert_string_equal(c->oci_version, "1.1.0+dev");
}

static void test_root(void **state)
{
        assert_modified_error("root: is required", "/root", DELETE);
        assert_modified_error("root: must be an object", "/root", "\"rootfs\"");
        assert_modified_error("root.path: is required", "/root/path", DELETE);
        assert_modified_error("root.path: must not be empty", "/root/path", "\"\"");
        assert_modified_error("root.readonly: must be a boolean", "/root/readonly", "1");
}

static void test_process_optional(void **state)
{
        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok("/process", DELETE);
        assert_null(c->process);
        assert_modified_error("process: must be an object", "/process", "[]");
}

static void test_hostname_needs_uts(void **state)
{
        assert_modified_error("hostname: requires a uts namespace in linux.namespaces",
                              "/linux/namespaces/3", DELETE);
        assert_modified_error("domainname: requires a uts namespace in linux.namespaces", "/hostname",
                              DELETE, "/domainname", "\"example.org\"", "/linux", DELETE);
        assert_modified_error("hostname: must be a string", "/hostname", "false");
        _cleanup_(oci_config_freep) OciConfig *c =
                parse_modified_ok("/linux/namespaces/3", DELETE, "/hostname", DELETE);
        assert_null(c->hostname);
}

/* ---- process ---- */

static void test_process_args(void **state)
{
        assert_modified_error("process.args: must be a non-empty array of strings", "/process/args", DELETE);
        assert_modified_error("process.args: must be a non-empty array of strings", "/process/args", "[]");
        assert_modified_error("process.args: must be a non-empty array of strings", "/process/args",
                              "\"sh\"");
        assert_modified_error("process.args[1]: must be a string", "/process/args", "[\"sh\", 1]");
        assert_modified_error("process.args[0]: must not be empty", "/process/args", "[\"\"]");
        assert_modified_error("process.args[0]: must not contain NUL characters", "/process/args",
                              "[\"sh\\u0000 -c reboot\"]");
}

static void test_process_cwd_env(void **state)
{
        assert_modified_error("process.cwd: is required", "/process/cwd", DELETE);
        assert_modified_error("process.cwd: must be an absolute path", "/process/cwd", "\"tmp\"");
        assert_modified_error("process.cwd: must be a string", "/process/cwd", "{}");
        assert_modified_error("process.env[1]: must be KEY=VALUE, got \"NOVALUE\"", "/process/env",
                              "[\"A=1\", \"NOVALUE\"]");
        assert_modified_error("process.env[0]: must be KEY=VALUE, got \"=x\"", "/process/env", "[\"=x\"]");
        assert_modified_error("process.env: must be an array", "/process/env", "\"A=1\"");
        assert_modified_error("process.terminal: must be a boolean", "/process/terminal", "\"yes\"");
}

static void test_process_user(void **state)
{
        assert_modified_error("process.user.uid: is required", "/process/user/uid", DELETE);
        assert_modified_error("process.user.uid: must be between 0 and 4294967294", "/process/user/uid",
                              "-1");
        /* (uid_t)-1 would make setresuid() a no-op and leave the process root. */
        assert_modified_error("process.user.uid: must be between 0 and 4294967294", "/process/user/uid",
                              "4294967295");
        assert_modified_error("process.user.gid: must be an integer", "/process/user/gid", "1.0");
        assert_modified_error("process.user.gid: must be an integer", "/process/user/gid", "\"0\"");
        assert_modified_error("process.user.umask: must be between 0 and 511", "/process/user/umask", "512");
        assert_modified_error("process.user.additionalGids[1]: must be an integer",
                              "/process/user/additionalGids", "[1, \"2\"]");
        assert_modified_error("process.user.additionalGids[0]: must be between 0 and 4294967294",
                              "/process/user/additionalGids", "[-5]");
        assert_modified_error("process.user: must be an object", "/process/user", "0");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok("/process/user", DELETE);
        assert_int_equal(c->process->user.uid, 0);
        assert_int_equal(c->process->user.gid, 0);
        assert_null(c->process->user.additional_gids);
}

static void test_process_capabilities(void **state)
{
        assert_modified_error("process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"",
                              "/process/capabilities/bounding", "[\"CAP_KILL\", \"CAP_FOO\"]");
        /* libcap would take these; the spec's names are the only spelling. */
        assert_modified_error("process.capabilities.effective[0]: unknown capability \"cap_kill\"",
                              "/process/capabilities/effective", "[\"cap_kill\"]");
        assert_modified_error("process.capabilities.ambient[0]: unknown capability \"KILL\"",
                              "/process/capabilities/ambient", "[\"KILL\"]");
        assert_modified_error("process.capabilities.ambient[0]: unknown capability \"21\"",
                              "/process/capabilities/ambient", "[\"21\"]");
        assert_modified_error("process.capabilities.permitted[0]: unknown capability \"CAP_\"",
                              "/process/capabilities/permitted", "[\"CAP_\"]");
        assert_modified_error("process.capabilities.inheritable[0]: must be a string",
                              "/process/capabilities/inheritable", "[5]");
        assert_modified_error("process.capabilities: must be an object", "/process/capabilities",
                              "[\"CAP_KILL\"]");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/process/capabilities/effective", "[\"CAP_SYS_ADMIN\", \"CAP_BPF\", \"CAP_CHOWN\"]");
        const OciCapabilities *caps = c->process->capabilities;
        assert_int_equal(caps->n_caps[CAP_SET_EFFECTIVE], 3);
        assert_int_equal(caps->caps[CAP_SET_EFFECTIVE][0], CAP_SYS_ADMIN);
        assert_int_equal(caps->caps[CAP_SET_EFFECTIVE][1], 39 /* CAP_BPF */);
        assert_int_equal(caps->caps[CAP_SET_EFFECTIVE][2], CAP_CHOWN);
        assert_int_equal(caps->n_caps[CAP_SET_BOUNDING], 1);
        assert_null(caps->caps[CAP_SET_PERMITTED]);
}

static void test_process_rlimits(void **state)
{
        assert_modified_error("process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"",
                              "/process/rlimits/0/type", "\"RLIMIT_FOO\"");
        assert_modified_error("process.rlimits[0]: soft limit 2048 exceeds hard limit 1024",
                              "/process/rlimits/0/soft", "2048");
        assert_modified_error("process.rlimits[0].soft: must be between 0 and 18446744073709551615",
                              "/process/rlimits/0/soft", "-1");
        assert_modified_error("process.rlimits[0].hard: is required", "/process/rlimits/0/hard", DELETE);
        assert_modified_error("process.rlimits[0].type: is required", "/process/rlimits/0/type", DELETE);
        assert_modified_error("process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"",
                              "/process/rlimits",
                              "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1},"
                              " {\"type\": \"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 2}]");
        assert_modified_error("process.rlimits[0]: must be an object", "/process/rlimits",
                              "[\"RLIMIT_NOFILE\"]");

        assert_int_equal(oci_rlimit_from_string("RLIMIT_NOFILE"), RLIMIT_NOFILE);
        assert_int_equal(oci_rlimit_from_string("RLIMIT_RTTIME"), RLIMIT_RTTIME);
        assert_int_equal(oci_rlimit_from_string("RLIMIT_AS"), RLIMIT_AS);
        assert_int_equal(oci_rlimit_from_string("nofile"), -EINVAL);
        assert_int_equal(oci_rlimit_from_string(""), -EINVAL);
}

static void test_process_misc_ranges(void **state)
{
        assert_modified_error("process.oomScoreAdj: must be between -1000 and 1000", "/process/oomScoreAdj",
                              "1001");
        assert_modified_error("process.oomScoreAdj: must be between -1000 and 1000", "/process/oomScoreAdj",
                              "9223372036854775808");
        assert_modified_error("process.consoleSize.width: is required", "/process/consoleSize",
                              "{\"height\": 24}");
        assert_modified_error("process.consoleSize.height: must be between 0 and 65535",
                              "/process/consoleSize", "{\"height\": 65536, \"width\": 80}");
        assert_modified_error("process.noNewPrivileges: must be a boolean", "/process/noNewPrivileges", "1");
        assert_modified_error("process.apparmorProfile: must be a string", "/process/apparmorProfile", "[]");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok("/process/oomScoreAdj", "-1000");
        assert_true(c->process->has_oom_score_adj);
        assert_int_equal(c->process->oom_score_adj, -1000);
}

static void test_process_parse_text(void **state)
{
        static const char text[] = "{\"args\": [\"/bin/ls\", \"-l\"], \"cwd\": \"/tmp\", \"env\": [\"A=b\"],"
                                   " \"user\": {\"uid\": 7, \"gid\": 8}, \"terminal\": true}";
        _cleanup_(oci_process_freep) OciProcess *p = NULL;
        BerthError err = {0};

        assert_int_equal(oci_process_parse_text(text, strlen(text), &p, &err), 0);
        assert_int_equal(strv_length(p->args), 2);
        assert_string_equal(p->args[1], "-l");
        assert_string_equal(p->cwd, "/tmp");
        assert_int_equal(p->user.uid, 7);
        assert_int_equal(p->user.gid, 8);
        assert_true(p->terminal);
        assert_null(p->capabilities);
        assert_int_equal(p->n_rlimits, 0);
}

static void assert_process_error(const char *text, const char *message)
{
        OciProcess *p = NULL;
        BerthError err = {0};

        assert_int_equal(oci_process_parse_text(text, strlen(text), &p, &err), -EINVAL);
        assert_null(p);
        assert_string_equal(err.msg, message);
}

static void test_process_parse_text_errors(void **state)
{
        /* Without the "process." prefix, as `exec --process` reports them. */
        assert_process_error("{\"cwd\": \"/\"}", "args: must be a non-empty array of strings");
        assert_process_error("{\"args\": [\"sh\"]}", "cwd: is required");
        assert_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0}}",
                             "user.gid: is required");
        assert_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_X\"}]}",
                             "rlimits[0].type: unknown rlimit \"RLIMIT_X\"");
        assert_process_error("[\"sh\"]", "process: must be an object");
        assert_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\"} {",
                             "invalid JSON at offset 29: unexpected character");
}

static void test_process_parse_object(void **state)
{
        struct json_object *obj = json_tokener_parse("{\"args\": [\"true\"], \"cwd\": \"/\"}");
        _cleanup_(oci_process_freep) OciProcess *p = NULL;
        BerthError err = {0};

        assert_non_null(obj);
        assert_int_equal(oci_process_parse(obj, "process", &p, &err), 0);
        assert_string_equal(p->args[0], "true");
        oci_process_free(TAKE_PTR(p));

        json_object_object_add(obj, "cwd", json_object_new_string("rel"));
        assert_int_equal(oci_process_parse(obj, "process", &p, &err), -EINVAL);
        assert_null(p);
        assert_string_equal(err.msg, "process.cwd: must be an absolute path");
        json_object_put(obj);
}

/* ---- mounts ---- */

static void test_mount_destination(void **state)
{
        assert_modified_error("mounts[2].destination: must be an absolute path", "/mounts/2/destination",
                              "\"sys\"");
        assert_modified_error("mounts[0].destination: is required", "/mounts/0/destination", DELETE);
        assert_modified_error("mounts[1]: must be an object", "/mounts/1", "\"/dev\"");
        assert_modified_error("mounts: must be an array", "/mounts", "{}");
        assert_modified_error("mounts[1].options[2]: must be a string", "/mounts/1/options",
                              "[\"ro\", \"rw\", 1]");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/mounts/0/destination", "\"//proc/./self/../x//\"", "/mounts/1/destination", "\"/./\"");
        /* Cleaned, but ".." stays for the runtime to resolve inside the rootfs. */
        assert_string_equal(c->mounts[0].destination, "/proc/self/../x");
        assert_string_equal(c->mounts[1].destination, "/");
}

static void test_mount_type_and_source(void **state)
{
        assert_modified_error("mounts[0].type: is required unless the mount is a bind mount",
                              "/mounts/0/type", DELETE);
        assert_modified_error("mounts[0].type: is required unless the mount is a bind mount",
                              "/mounts/0/type", "\"\"");
        assert_modified_error("mounts[0].source: is required for a bind mount", "/mounts/0",
                              "{\"destination\": \"/x\", \"options\": [\"rbind\"]}");
        assert_modified_error("mounts[0].source: is required for a bind mount", "/mounts/0",
                              "{\"destination\": \"/x\", \"type\": \"bind\"}");
        assert_modified_error("mounts[0].uidMappings: idmapped mounts are not supported",
                              "/mounts/0/uidMappings", "[]");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/mounts/0", "{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/y\"}");
        assert_true(c->mounts[0].is_bind);
        assert_false(c->mounts[0].is_recursive);
        assert_int_equal(c->mounts[0].flags, MS_BIND);
}

/* Parse a NULL-terminated option list into @m (freed with mount_reset()). */
static int parse_options(OciMount *m, const char *type, BerthError *err, ...)
{
        va_list ap;

        *m = (OciMount){0};
        if (type)
                assert_non_null(m->type = strdup(type));
        va_start(ap, err);
        for (const char *o; (o = va_arg(ap, const char *));)
                assert_int_equal(strv_extend(&m->options, o), 0);
        va_end(ap);
        return oci_mount_parse_options(m, err);
}

static void mount_reset(OciMount *m)
{
        free(m->type);
        strv_free(m->options);
        free(m->data);
        *m = (OciMount){0};
}

static void test_mount_options_flags(void **state)
{
        _cleanup_(mount_reset) OciMount m = {0};
        BerthError err = {0};

        assert_int_equal(parse_options(&m, "tmpfs", &err, "ro", "nosuid", "nodev", "noexec", "sync",
                                       "dirsync", "noatime", "nodiratime", "mand", NULL),
                         0);
        assert_int_equal(m.flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                                          MS_DIRSYNC | MS_NOATIME | MS_NODIRATIME | MS_MANDLOCK);
        assert_null(m.data);
        assert_false(m.is_bind);
        assert_int_equal(m.propagation, 0);
        assert_int_equal(m.attr_set, 0);
        mount_reset(&m);

        /* The later option wins. */
        assert_int_equal(parse_options(&m, "tmpfs", &err, "ro", "nosuid", "nodev", "noexec", "sync",
                                       "noatime", "nodiratime", "mand", "rw", "suid", "dev", "exec", "async",
                                       "atime", "diratime", "nomand", NULL),
                         0);
        assert_int_equal(m.flags, 0);
        mount_reset(&m);

        assert_int_equal(
                parse_options(&m, "tmpfs", &err, "relatime", "strictatime", "remount", "defaults", NULL), 0);
        assert_int_equal(m.flags, MS_RELATIME | MS_STRICTATIME | MS_REMOUNT);
        mount_reset(&m);
        assert_int_equal(parse_options(&m, "tmpfs", &err, "relatime", "strictatime", "norelatime",
                                       "nostrictatime", NULL),
                         0);
        assert_int_equal(m.flags, 0);
}

static void test_mount_options_bind(void **state)
{
        _cleanup_(mount_reset) OciMount m = {0};
        BerthError err = {0};

        assert_int_equal(parse_options(&m, NULL, &err, "rbind", "ro", NULL), 0);
        assert_true(m.is_bind);
        assert_true(m.is_recursive);
        assert_int_equal(m.flags, MS_BIND | MS_REC | MS_RDONLY);
        mount_reset(&m);

        assert_int_equal(parse_options(&m, "none", &err, "bind", NULL), 0);
        assert_true(m.is_bind);
        assert_false(m.is_recursive);
        assert_int_equal(m.flags, MS_BIND);
        mount_reset(&m);

        assert_int_equal(parse_options(&m, "bind", &err, NULL), 0);
        assert_true(m.is_bind);
        assert_false(m.is_recursive);
        mount_reset(&m);

        /* Propagation's MS_REC does not make a bind mount recursive, nor a mount a bind mount. */
        assert_int_equal(parse_options(&m, "tmpfs", &err, "rprivate", NULL), 0);
        assert_false(m.is_bind);
        assert_false(m.is_recursive);
        assert_int_equal(m.flags, 0);
        assert_int_equal(m.propagation, MS_PRIVATE | MS_REC);
}

static void test_mount_options_propagation(void **state)
{
        static const struct {
                const char *option;
                unsigned long propagation;
        } table[] = {
                {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
                {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
                {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
                {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
        };
        BerthError err = {0};

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(mount_reset) OciMount m = {0};

                assert_int_equal(parse_options(&m, NULL, &err, "bind", table[i].option, NULL), 0);
                assert_int_equal(m.propagation, table[i].propagation);
                assert_int_equal(m.flags, MS_BIND);
        }

        _cleanup_(mount_reset) OciMount m = {0};
        assert_int_equal(parse_options(&m, NULL, &err, "rbind", "rprivate", "slave", NULL), 0);
        assert_int_equal(m.propagation, MS_SLAVE);
}

static void test_mount_options_recursive_attrs(void **state)
{
        _cleanup_(mount_reset) OciMount m = {0};
        BerthError err = {0};

        assert_int_equal(parse_options(&m, NULL, &err, "rbind", "rro", "rnosuid", "rnodev", "rnoexec",
                                       "rnodiratime", "rnosymfollow", NULL),
                         0);
        assert_int_equal(m.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                             MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
                                             MOUNT_ATTR_NOSYMFOLLOW);
        assert_int_equal(m.attr_clr, 0);
        assert_int_equal(m.flags, MS_BIND | MS_REC); /* the recursive ones are not mount(2) flags */
        mount_reset(&m);

        assert_int_equal(parse_options(&m, NULL, &err, "rbind", "rro", "rnoexec", "rrw", "rsuid", "rdev",
                                       "rexec", "rdiratime", NULL),
                         0);
        assert_int_equal(m.attr_set, 0);
        assert_int_equal(m.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                             MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME);
        mount_reset(&m);

        /* An atime mode is a value in MOUNT_ATTR__ATIME: the whole field is cleared, the last mode set. */
        static const struct {
                const char *option;
                uint64_t mode;
        } atime[] = {
                {"rnoatime", MOUNT_ATTR_NOATIME},        {"rstrictatime", MOUNT_ATTR_STRICTATIME},
                {"rrelatime", MOUNT_ATTR_RELATIME},      {"ratime", MOUNT_ATTR_RELATIME},
                {"rnorelatime", MOUNT_ATTR_STRICTATIME}, {"rnostrictatime", MOUNT_ATTR_RELATIME},
        };
        for (size_t i = 0; i < ELEMENTSOF(atime); i++) {
                assert_int_equal(
                        parse_options(&m, NULL, &err, "rbind", "rnoatime", "rro", atime[i].option, NULL), 0);
                assert_int_equal(m.attr_clr, MOUNT_ATTR__ATIME);
                assert_int_equal(m.attr_set, MOUNT_ATTR_RDONLY | atime[i].mode);
                mount_reset(&m);
        }
}

static void test_mount_options_data(void **state)
{
        _cleanup_(mount_reset) OciMount m = {0};
        BerthError err = {0};

        assert_int_equal(parse_options(&m, "devpts", &err, "nosuid", "newinstance", "tmpcopyup",
                                       "ptmxmode=0666", "noexec", "mode=0620", "gid=5", NULL),
                         0);
        assert_string_equal(m.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        assert_int_equal(m.flags, MS_NOSUID | MS_NOEXEC);

        /* Parsing again replaces what was derived before. */
        strv_free(m.options);
        m.options = NULL;
        assert_int_equal(strv_extend(&m.options, "size=65536k"), 0);
        assert_int_equal(oci_mount_parse_options(&m, &err), 0);
        assert_string_equal(m.data, "size=65536k");
        assert_int_equal(m.flags, 0);
        mount_reset(&m);

        assert_int_equal(parse_options(&m, "tmpfs", &err, "tmpcopyup", NULL), 0);
        assert_null(m.data);
        mount_reset(&m);

        assert_int_equal(parse_options(&m, "tmpfs", &err, "ro", "mode=1777", NULL), 0);
        assert_int_equal(strv_extend(&m.options, ""), 0);
        assert_int_equal(oci_mount_parse_options(&m, &err), -EINVAL);
        assert_string_equal(err.msg, "options[2]: must not be empty");
        /* A failure leaves what was derived before. */
        assert_int_equal(m.flags, MS_RDONLY);
        assert_string_equal(m.data, "mode=1777");
        assert_modified_error("mounts[1].options[0]: must not be empty", "/mounts/1/options",
                              "[\"\", \"ro\"]");
}

/* ---- linux ---- */

static void test_namespaces(void **state)
{
        assert_modified_error("linux.namespaces[1].type: unknown namespace type \"foo\"",
                              "/linux/namespaces/1/type", "\"foo\"");
        assert_modified_error("linux.namespaces[5].type: duplicate namespace \"pid\"", "/linux/namespaces/5",
                              "{\"type\": \"pid\"}");
        assert_modified_error("linux.namespaces[0].type: is required", "/linux/namespaces/0", "{}");
        assert_modified_error("linux.namespaces[0].path: must be an absolute path",
                              "/linux/namespaces/0/path", "\"proc/1/ns/pid\"");
        assert_modified_error("linux.namespaces: must be an array", "/linux/namespaces", "{\"pid\": {}}");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/linux/namespaces/1/path", "\"/proc/1/ns/net\"", "/linux/namespaces/2/path", "\"\"");
        assert_string_equal(oci_config_find_namespace(c, NAMESPACE_NETWORK)->path, "/proc/1/ns/net");
        assert_null(oci_config_find_namespace(c, NAMESPACE_IPC)->path);
        assert_null(oci_config_find_namespace(c, NAMESPACE_CGROUP));
}

static void test_namespace_tables(void **state)
{
        static const struct {
                NamespaceType type;
                const char *name, *proc;
                int flag;
        } table[] = {
                {NAMESPACE_PID, "pid", "pid", CLONE_NEWPID},
                {NAMESPACE_NETWORK, "network", "net", CLONE_NEWNET},
                {NAMESPACE_MOUNT, "mount", "mnt", CLONE_NEWNS},
                {NAMESPACE_IPC, "ipc", "ipc", CLONE_NEWIPC},
                {NAMESPACE_UTS, "uts", "uts", CLONE_NEWUTS},
                {NAMESPACE_USER, "user", "user", CLONE_NEWUSER},
                {NAMESPACE_CGROUP, "cgroup", "cgroup", CLONE_NEWCGROUP},
                {NAMESPACE_TIME, "time", "time", 0x80 /* CLONE_NEWTIME */},
        };

        assert_int_equal(ELEMENTSOF(table), _NAMESPACE_MAX);
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                assert_int_equal(namespace_type_from_string(table[i].name), table[i].type);
                assert_string_equal(namespace_type_to_string(table[i].type), table[i].name);
                assert_string_equal(namespace_type_to_proc_name(table[i].type), table[i].proc);
                assert_int_equal(namespace_type_to_clone_flag(table[i].type), table[i].flag);
        }
        assert_int_equal(namespace_type_from_string("net"), _NAMESPACE_INVALID);
        assert_int_equal(namespace_type_from_string(NULL), _NAMESPACE_INVALID);
        assert_null(namespace_type_to_string(_NAMESPACE_MAX));
        assert_null(namespace_type_to_proc_name(_NAMESPACE_INVALID));

        assert_string_equal(hook_kind_to_string(HOOK_PRESTART), "prestart");
        assert_string_equal(hook_kind_to_string(HOOK_CREATE_RUNTIME), "createRuntime");
        assert_string_equal(hook_kind_to_string(HOOK_CREATE_CONTAINER), "createContainer");
        assert_string_equal(hook_kind_to_string(HOOK_START_CONTAINER), "startContainer");
        assert_string_equal(hook_kind_to_string(HOOK_POSTSTART), "poststart");
        assert_string_equal(hook_kind_to_string(HOOK_POSTSTOP), "poststop");
        assert_null(hook_kind_to_string(_HOOK_MAX));
}

#define USERNS  "/linux/namespaces/5", "{\"type\": \"user\"}"
#define ONE_MAP "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]"

static void test_user_namespace_mappings(void **state)
{
        assert_modified_error("linux.uidMappings: is required with a new user namespace", USERNS);
        assert_modified_error("linux.gidMappings: is required with a new user namespace", USERNS,
                              "/linux/uidMappings", ONE_MAP);
        assert_modified_error("linux.uidMappings: requires a user namespace in linux.namespaces",
                              "/linux/uidMappings", ONE_MAP);
        assert_modified_error("linux.gidMappings: requires a user namespace in linux.namespaces",
                              "/linux/gidMappings", ONE_MAP);

        /* Joining an existing user namespace: its mappings are already there. */
        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/linux/namespaces/5", "{\"type\": \"user\", \"path\": \"/proc/42/ns/user\"}");
        assert_int_equal(c->linux_.n_uid_mappings, 0);
}

static void test_id_mapping_ranges(void **state)
{
        assert_modified_error("linux.uidMappings[1].size: must be between 1 and 4294967295", USERNS,
                              "/linux/gidMappings", ONE_MAP, "/linux/uidMappings",
                              "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 1},"
                              " {\"containerID\": 1, \"hostID\": 2000, \"size\": 0}]");
        assert_modified_error("linux.uidMappings[0].hostID: must be between 0 and 4294967295", USERNS,
                              "/linux/gidMappings", ONE_MAP, "/linux/uidMappings",
                              "[{\"containerID\": 0, \"hostID\": -1, \"size\": 1}]");
        assert_modified_error("linux.gidMappings[0].containerID: is required", USERNS, "/linux/uidMappings",
                              ONE_MAP, "/linux/gidMappings", "[{\"hostID\": 1, \"size\": 1}]");
        assert_modified_error("linux.uidMappings[0].size: containerID + size exceeds 4294967295", USERNS,
                              "/linux/gidMappings", ONE_MAP, "/linux/uidMappings",
                              "[{\"containerID\": 4294967295, \"hostID\": 0, \"size\": 1}]");
        assert_modified_error("linux.uidMappings[0].size: hostID + size exceeds 4294967295", USERNS,
                              "/linux/gidMappings", ONE_MAP, "/linux/uidMappings",
                              "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 4294900000}]");
        assert_modified_error("linux.uidMappings[1]: containerID range overlaps linux.uidMappings[0]",
                              USERNS, "/linux/gidMappings", ONE_MAP, "/linux/uidMappings",
                              "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 10},"
                              " {\"containerID\": 9, \"hostID\": 5000, \"size\": 1}]");
        assert_modified_error("linux.uidMappings[1]: hostID range overlaps linux.uidMappings[0]", USERNS,
                              "/linux/gidMappings", ONE_MAP, "/linux/uidMappings",
                              "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 10},"
                              " {\"containerID\": 10, \"hostID\": 995, \"size\": 6}]");

        /* The largest valid range, and adjacent ranges. */
        _cleanup_(oci_config_freep) OciConfig *c =
                parse_modified_ok(USERNS, "/linux/gidMappings", ONE_MAP, "/linux/uidMappings",
                                  "[{\"containerID\": 0, \"hostID\": 0, \"size\": 10},"
                                  " {\"containerID\": 10, \"hostID\": 10, \"size\": 4294967285}]");
        assert_int_equal(c->linux_.n_uid_mappings, 2);
        assert_int_equal(c->linux_.uid_mappings[1].size, 4294967285U);
}

static void test_devices(void **state)
{
        assert_modified_error(
                "linux.devices[0].type: must be one of \"c\", \"b\", \"u\" or \"p\", got \"x\"",
                "/linux/devices", "[{\"path\": \"/dev/x\", \"type\": \"x\", \"major\": 1, \"minor\": 1}]");
        assert_modified_error("linux.devices[0].major: is required", "/linux/devices",
                              "[{\"path\": \"/dev/null\", \"type\": \"c\", \"minor\": 3}]");
        assert_modified_error("linux.devices[0].minor: is required", "/linux/devices",
                              "[{\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8}]");
        assert_modified_error("linux.devices[0].path: must be an absolute path", "/linux/devices",
                              "[{\"path\": \"dev/null\", \"type\": \"c\", \"major\": 1, \"minor\": 3}]");
        assert_modified_error("linux.devices[0].major: must be between 0 and 4095", "/linux/devices",
                              "[{\"path\": \"/dev/null\", \"type\": \"c\", \"major\": -1, \"minor\": 3}]");
        assert_modified_error("linux.devices[0].fileMode: must be a permission mode (at most 07777)",
                              "/linux/devices",
                              "[{\"path\": \"/dev/null\", \"type\": \"c\", \"major\": 1, \"minor\": 3,"
                              " \"fileMode\": 8630}]");
        assert_modified_error(
                "linux.devices[1].uid: must be between 0 and 4294967294", "/linux/devices",
                "[{\"path\": \"/dev/p\", \"type\": \"p\"},"
                " {\"path\": \"/dev/null\", \"type\": \"u\", \"major\": 1, \"minor\": 3, \"uid\": -1}]");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/linux/devices",
                "[{\"path\": \"/dev//null\", \"type\": \"u\", \"major\": 1, \"minor\": 3}]");
        assert_string_equal(c->linux_.devices[0].path, "/dev/null");
        assert_int_equal(c->linux_.devices[0].type, 'u');
}

static void test_hooks(void **state)
{
        assert_modified_error("hooks.prestart[0].path: must be an absolute path", "/hooks",
                              "{\"prestart\": [{\"path\": \"hook\"}]}");
        assert_modified_error("hooks.poststop[1].path: is required", "/hooks",
                              "{\"poststop\": [{\"path\": \"/a\"}, {\"args\": [\"a\"]}]}");
        assert_modified_error("hooks.createContainer[0].timeout: must be greater than 0", "/hooks",
                              "{\"createContainer\": [{\"path\": \"/a\", \"timeout\": 0}]}");
        assert_modified_error("hooks.startContainer[0].timeout: must be greater than 0", "/hooks",
                              "{\"startContainer\": [{\"path\": \"/a\", \"timeout\": -5}]}");
        assert_modified_error("hooks.poststart[0].timeout: must be an integer", "/hooks",
                              "{\"poststart\": [{\"path\": \"/a\", \"timeout\": 1.5}]}");
        assert_modified_error("hooks.prestart[0].args[0]: must be a string", "/hooks",
                              "{\"prestart\": [{\"path\": \"/a\", \"args\": [null]}]}");
        assert_modified_error("hooks.prestart: must be an array", "/hooks",
                              "{\"prestart\": {\"path\": \"/a\"}}");
        assert_modified_error("hooks: must be an object", "/hooks", "[]");
}

static void test_resources_and_seccomp(void **state)
{
        assert_modified_error("linux.resources: must be an object", "/linux/resources", "[]");
        assert_modified_error("linux.seccomp: must be an object", "/linux/seccomp", "\"unconfined\"");
        assert_modified_error("linux: must be an object", "/linux", "true");

        _cleanup_(oci_config_freep) OciConfig *c =
                parse_modified_ok("/linux/seccomp", "{\"defaultAction\": 1}");
        assert_true(json_object_is_type(c->linux_.seccomp, json_type_object));
        assert_null(c->linux_.resources);
}

static void test_annotations(void **state)
{
        assert_modified_error("annotations[\"a.b\"]: must be a string", "/annotations", "{\"a.b\": 1}");
        assert_modified_error("annotations[\"x\"]: must be a string", "/annotations", "{\"x\": null}");
        assert_modified_error("annotations[\"\"]: key must not be empty", "/annotations", "{\"\": \"v\"}");
        assert_modified_error("annotations: must be an object", "/annotations", "[\"a=b\"]");
}

static void test_sysctl(void **state)
{
        assert_modified_error(
                "linux.sysctl[\"vm.swappiness\"]: not isolated by any namespace, refusing to change "
                "the host's value",
                "/linux/sysctl", "{\"vm.swappiness\": \"10\"}");
        assert_modified_error("linux.sysctl[\"net.ipv4.ip_forward\"]: requires a network namespace in "
                              "linux.namespaces",
                              "/linux/namespaces/1", DELETE, "/linux/sysctl",
                              "{\"net.ipv4.ip_forward\": \"1\"}");
        assert_modified_error(
                "linux.sysctl[\"fs.mqueue.msg_max\"]: requires an ipc namespace in linux.namespaces",
                "/linux/namespaces/2", DELETE, "/linux/sysctl", "{\"fs.mqueue.msg_max\": \"10\"}");
        /* A path, not a name: it would escape /proc/sys/net. */
        assert_modified_error("linux.sysctl[\"net/../../kernel/core_pattern\"]: invalid sysctl name",
                              "/linux/sysctl", "{\"net/../../kernel/core_pattern\": \"|/x\"}");
        assert_modified_error("linux.sysctl[\"net.ipv4.\"]: invalid sysctl name", "/linux/sysctl",
                              "{\"net.ipv4.\": \"1\"}");
        assert_modified_error("linux.sysctl[\"net.core.somaxconn\"]: must be a string", "/linux/sysctl",
                              "{\"net.core.somaxconn\": 256}");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/linux/sysctl", "{\"net/ipv4/conf/all/forwarding\": \"1\", \"kernel.msgmax\": \"8192\","
                                 " \"kernel.hostname\": \"x\", \"net.ipv4.conf.eth0/1.rp_filter\": \"2\"}");
        assert_int_equal(c->linux_.n_sysctl, 4);
        assert_string_equal(c->linux_.sysctl[0].key, "net/ipv4/conf/all/forwarding");
        assert_string_equal(c->linux_.sysctl[3].value, "2");
}

static void test_rootfs_propagation(void **state)
{
        static const struct {
                const char *name;
                unsigned long flags;
        } table[] = {
                {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
                {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
                {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
                {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char value[64];

                snprintf(value, sizeof(value), "\"%s\"", table[i].name);
                _cleanup_(oci_config_freep) OciConfig *c =
                        parse_modified_ok("/linux/rootfsPropagation", value);
                assert_string_equal(c->linux_.rootfs_propagation, table[i].name);
                assert_int_equal(c->linux_.rootfs_propagation_flags, table[i].flags);
        }
        assert_modified_error(
                "linux.rootfsPropagation: unknown propagation \"rec\", must be one of private, rprivate, "
                "slave, rslave, shared, rshared, unbindable, runbindable",
                "/linux/rootfsPropagation", "\"rec\"");
}

static void test_masked_and_readonly_paths(void **state)
{
        assert_modified_error("linux.maskedPaths[1]: must be an absolute path", "/linux/maskedPaths",
                              "[\"/proc/kcore\", \"proc/keys\"]");
        assert_modified_error("linux.readonlyPaths[0]: must be a string", "/linux/readonlyPaths", "[true]");
        assert_modified_error("linux.cgroupsPath: must be a string", "/linux/cgroupsPath", "1");
}

#define TIMENS "/linux/namespaces/5", "{\"type\": \"time\"}"

static void test_time_offsets(void **state)
{
        assert_modified_error("linux.timeOffsets: requires a new time namespace in linux.namespaces",
                              "/linux/timeOffsets", "{\"boottime\": {\"secs\": 1}}");
        assert_modified_error("linux.timeOffsets: requires a new time namespace in linux.namespaces",
                              "/linux/namespaces/5", "{\"type\": \"time\", \"path\": \"/proc/1/ns/time\"}",
                              "/linux/timeOffsets", "{\"boottime\": {\"secs\": 1}}");
        assert_modified_error("linux.timeOffsets[\"monotonic\"].nanosecs: must be between 0 and 999999999",
                              TIMENS, "/linux/timeOffsets", "{\"monotonic\": {\"nanosecs\": 1000000000}}");
        assert_modified_error(
                "linux.timeOffsets[\"realtime\"]: unknown clock, must be \"boottime\" or \"monotonic\"",
                TIMENS, "/linux/timeOffsets", "{\"realtime\": {\"secs\": 1}}");
        assert_modified_error("linux.timeOffsets[\"boottime\"].secs: must be an integer", TIMENS,
                              "/linux/timeOffsets", "{\"boottime\": {\"secs\": \"1\"}}");

        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                TIMENS, "/linux/timeOffsets", "{\"boottime\": {\"secs\": -9223372036854775808}}");
        assert_true(c->linux_.has_time_offsets);
        assert_true(c->linux_.time_offset_boottime_secs == INT64_MIN);
        assert_int_equal(c->linux_.time_offset_monotonic_secs, 0);
}

static void test_unknown_fields_ignored(void **state)
{
        _cleanup_(oci_config_freep) OciConfig *c = parse_modified_ok(
                "/vm", "{\"hypervisor\": {}}", "/linux/intelRdt", "{\"closID\": \"x\"}",
                "/process/scheduler", "{\"policy\": \"SCHED_OTHER\"}", "/mounts/0/future", "1");
        assert_int_equal(c->n_mounts, 3);
        assert_true(c->has_linux);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runc_spec_config),
                cmocka_unit_test(test_full_config_process),
                cmocka_unit_test(test_full_config_mounts_hooks_annotations),
                cmocka_unit_test(test_full_config_linux),
                cmocka_unit_test(test_load_missing_file),
                cmocka_unit_test(test_load_prefixes_path),
                cmocka_unit_test(test_malformed_json),
                cmocka_unit_test(test_trailing_garbage),
                cmocka_unit_test(test_json_stricter_than_json_c),
                cmocka_unit_test(test_oci_version),
                cmocka_unit_test(test_root),
                cmocka_unit_test(test_process_optional),
                cmocka_unit_test(test_hostname_needs_uts),
                cmocka_unit_test(test_process_args),
                cmocka_unit_test(test_process_cwd_env),
                cmocka_unit_test(test_process_user),
                cmocka_unit_test(test_process_capabilities),
                cmocka_unit_test(test_process_rlimits),
                cmocka_unit_test(test_process_misc_ranges),
                cmocka_unit_test(test_process_parse_text),
                cmocka_unit_test(test_process_parse_text_errors),
                cmocka_unit_test(test_process_parse_object),
                cmocka_unit_test(test_mount_destination),
                cmocka_unit_test(test_mount_type_and_source),
                cmocka_unit_test(test_mount_options_flags),
                cmocka_unit_test(test_mount_options_bind),
                cmocka_unit_test(test_mount_options_propagation),
                cmocka_unit_test(test_mount_options_recursive_attrs),
                cmocka_unit_test(test_mount_options_data),
                cmocka_unit_test(test_namespaces),
                cmocka_unit_test(test_namespace_tables),
                cmocka_unit_test(test_user_namespace_mappings),
                cmocka_unit_test(test_id_mapping_ranges),
                cmocka_unit_test(test_devices),
                cmocka_unit_test(test_hooks),
                cmocka_unit_test(test_resources_and_seccomp),
                cmocka_unit_test(test_annotations),
                cmocka_unit_test(test_sysctl),
                cmocka_unit_test(test_rootfs_propagation),
                cmocka_unit_test(test_masked_and_readonly_paths),
                cmocka_unit_test(test_time_offsets),
                cmocka_unit_test(test_unknown_fields_ignored),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
