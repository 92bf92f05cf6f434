/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/nsfs.h>
#include <json-c/json.h>

#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "console.h"
#include "hooks.h"
#include "init-args.h"
#include "basic/log.h"
#include "process.h"
#include "sealed-exe.h"
#include "seccomp.h"
#include "sync.h"

Container *container_free(Container *c)
{
        if (!c)
                return NULL;
        free(c->id);
        free(c->bundle);
        free(c->rootfs);
        oci_config_free(c->config);
        container_state_free(c->state);
        cgroup_free(c->cgroup);
        cgroup_resources_free(c->resources);
        seccomp_plan_free(c->seccomp);
        safe_close(c->dir_fd);
        safe_close(c->console_master);
        free(c);
        return NULL;
}

static char *now_rfc3339(void)
{
        struct timespec ts;
        struct tm tm;
        char buf[64], *s;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        if (asprintf(&s, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
                return NULL;
        return s;
}

static char *annotations_to_json(const OciConfig *cfg)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        if (cfg->n_annotations == 0)
                return NULL;
        strbuf_putc(&b, '{');
        for (size_t i = 0; i < cfg->n_annotations; i++) {
                if (i)
                        strbuf_putc(&b, ',');
                strbuf_put_json_string(&b, cfg->annotations[i].key);
                strbuf_putc(&b, ':');
                strbuf_put_json_string(&b, cfg->annotations[i].value);
        }
        strbuf_putc(&b, '}');
        return strbuf_steal(&b);
}

static int resolve_paths(Container *c, const char *bundle, BerthError *err)
{
        char buf[PATH_MAX];

        if (!realpath(bundle, buf))
                return error_set(err, negative_errno(), "bundle \"%s\"", bundle);
        c->bundle = strdup(buf);
        if (!c->bundle)
                return -ENOMEM;
        return 0;
}

static int make_absolute(const char *path, char **ret)
{
        char cwd[PATH_MAX];

        if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
                return 0; /* absolute already, or no cwd to anchor it: leave as given */
        return asprintf(ret, "%s/%s", cwd, path) < 0 ? -ENOMEM : 0;
}

static int resolve_rootfs(Container *c, BerthError *err)
{
        char buf[PATH_MAX];
        _cleanup_free_ char *joined = NULL;
        struct stat st;

        if (c->config->root_path[0] == '/')
                joined = strdup(c->config->root_path);
        else if (asprintf(&joined, "%s/%s", c->bundle, c->config->root_path) < 0)
                joined = NULL;
        if (!joined)
                return -ENOMEM;
        if (!realpath(joined, buf))
                return error_set(err, negative_errno(), "rootfs \"%s\"", joined);
        if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
                return error_setx(err, -ENOTDIR, "rootfs \"%s\": Not a directory", joined);
        c->rootfs = strdup(buf);
        return c->rootfs ? 0 : -ENOMEM;
}

/* Checks that need more than one part of the config; done before anything exists. */
static int validate_for_create(const OciConfig *cfg, const CreateOptions *o, BerthError *err)
{
        const OciNamespace *mnt = oci_config_find_namespace(cfg, NAMESPACE_MOUNT);
        const OciNamespace *uts = oci_config_find_namespace(cfg, NAMESPACE_UTS);
        const OciNamespace *user = oci_config_find_namespace(cfg, NAMESPACE_USER);

        if (!cfg->process)
                return error_setx(err, -EINVAL, "process: is required to create a container");
        if (cfg->process->capabilities && process_check_capabilities(cfg->process->capabilities, err) < 0)
                return -EOPNOTSUPP;
        if (!mnt || mnt->path)
                return error_setx(err, -EINVAL, "linux.namespaces: a new mount namespace is required");
        if ((cfg->hostname || cfg->domainname) && (!uts || uts->path))
                return error_setx(err, -EINVAL, "hostname: setting it requires a new uts namespace");
        if (user && !user->path && (cfg->linux_.n_uid_mappings == 0 || cfg->linux_.n_gid_mappings == 0))
                return error_setx(err, -EINVAL,
                                  "linux.uidMappings: a new user namespace needs uid and gid mappings");
        if ((!user || user->path) && (cfg->linux_.n_uid_mappings || cfg->linux_.n_gid_mappings))
                return error_setx(err, -EINVAL, "linux.uidMappings: mappings need a new user namespace");
        if (!cfg->process->terminal && o->console_socket)
                return error_setx(
                        err, -EINVAL,
                        "--console-socket: process.terminal is false, there is no terminal to send");
        if (cfg->process->terminal && !o->console_socket && !o->foreground)
                return error_setx(
                        err, -EINVAL,
                        "process.terminal is true: --console-socket is required for a detached container");
        if (cfg->has_linux && cfg->linux_.has_time_offsets) {
                const OciNamespace *t = oci_config_find_namespace(cfg, NAMESPACE_TIME);
                if (!t || t->path)
                        return error_setx(err, -EINVAL, "linux.timeOffsets: needs a new time namespace");
        }
        return 0;
}

static int open_namespaces(const OciConfig *cfg, InitArgs *a, BerthError *err)
{
        for (int t = 0; t < _NAMESPACE_MAX; t++)
                a->ns_fds[t] = -EBADF;
        a->new_ns_flags = 0;
        for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
                const OciNamespace *ns = &cfg->linux_.namespaces[i];
                int flag = namespace_type_to_clone_flag(ns->type);
                if (!ns->path) {
                        a->new_ns_flags |= flag;
                        continue;
                }
                int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return error_set(err, negative_errno(), "linux.namespaces[%zu].path: open \"%s\"", i,
                                         ns->path);
                a->ns_fds[ns->type] = fd;
                int kind = ioctl(fd, NS_GET_NSTYPE);
                if (kind >= 0 && kind != flag)
                        return error_setx(err, -EINVAL,
                                          "linux.namespaces[%zu].path: \"%s\" is not a %s namespace", i,
                                          ns->path, namespace_type_to_string(ns->type));
        }
        return 0;
}

static void close_namespaces(InitArgs *a)
{
        for (int t = 0; t < _NAMESPACE_MAX; t++)
                a->ns_fds[t] = safe_close(a->ns_fds[t]);
}

CgroupManager cgroup_manager_from_string(const char *s)
{
        if (streq(s, "cgroupfs"))
                return CGROUP_MANAGER_CGROUPFS;
        if (streq(s, "systemd"))
                return CGROUP_MANAGER_SYSTEMD;
        if (streq(s, "disabled"))
                return CGROUP_MANAGER_DISABLED;
        return _CGROUP_MANAGER_INVALID;
}

int container_cgroup_admit(Cgroup *cg, pid_t stage1, int sock, BerthError *err)
{
        int r = cgroup_attach(cg, stage1, err);
        if (r >= 0)
                r = sync_send(sock, SYNC_GO, 0, NULL, -EBADF);
        if (r < 0) {
                kill(stage1, SIGKILL);
                waitpid(stage1, NULL, 0);
                return error_set(err, r, "move the setup process into the cgroup");
        }
        return 0;
}

/* Parse resources and describe the cgroup; nothing is created yet. */
static int prepare_cgroup(Container *c, const CreateOptions *o, BerthError *err)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;
        int r;

        r = cgroup_resources_parse(c->config->linux_.resources, "linux.resources", &c->resources, err);
        if (r < 0)
                return r;
        if (o->cgroup_manager == CGROUP_MANAGER_DISABLED)
                return 0;
        if (o->cgroup_manager == CGROUP_MANAGER_SYSTEMD) {
                if (stat("/run/systemd/system", &st) < 0)
                        return error_setx(err, -EOPNOTSUPP,
                                          "--systemd-cgroup: systemd is not running on this host "
                                          "(/run/systemd/system is missing); use the cgroupfs driver");
                return error_setx(err, -EOPNOTSUPP,
                                  "--systemd-cgroup: the systemd cgroup driver is not implemented; "
                                  "use the cgroupfs driver (the default)");
        }
        r = cgroup_resolve_path(c->config->linux_.cgroups_path, c->id, &path, err);
        if (r < 0)
                return r;
        r = cgroup_new(path, &c->cgroup, err);
        if (r < 0)
                return r;
        /* Sharing a leaf with someone else's processes would mix their limits and accounting. */
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (cgroup_pids(c->cgroup, &pids, &n) >= 0 && n > 0)
                return error_setx(err, -EBUSY,
                                  "linux.cgroupsPath: cgroup \"%s\" already has processes in it", path);
        c->state->cgroup_path = TAKE_PTR(path);
        return 0;
}

static int write_id_map(pid_t pid, const char *file, const OciIdMapping *m, size_t n, BerthError *err)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        char path[64];

        for (size_t i = 0; i < n; i++)
                strbuf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
        if (strbuf_failed(&b))
                return -ENOMEM;
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        int r = write_string_file(path, b.ptr);
        if (r < 0)
                return error_set(err, r, "linux.%s: write %s",
                                 streq(file, "uid_map") ? "uidMappings" : "gidMappings", path);
        return 0;
}

static char *state_json_for(const Container *c, pid_t pid, ContainerStatus status)
{
        ContainerState s = {
                .id = c->id,
                .pid = pid,
                .bundle = c->bundle,
                .rootfs = c->rootfs,
                .created = (char *)"",
                .status = status,
                .exit_code = -1,
        };
        _cleanup_free_ char *ann = annotations_to_json(c->config);
        s.annotations_json = ann;
        return container_state_to_json(&s, false);
}

static int handle_console(Container *c, const CreateOptions *o, int master, BerthError *err)
{
        if (o->console_socket) {
                int r = console_send_to_socket(o->console_socket, master, err);
                safe_close(master);
                return r;
        }
        c->console_master = master; /* foreground run: the caller copies it to its terminal */
        return 0;
}

/* linux.seccomp.listenerPath: the init's listener fd and the state go to the seccomp agent. */
static int forward_seccomp_fd(Container *c, int fd, BerthError *err)
{
        _cleanup_close_ int listener = fd;
        _cleanup_free_ char *state = NULL;

        if (!c->seccomp || c->init_pid <= 0)
                return error_setx(err, -EPROTO, "unexpected seccomp listener fd from container setup");
        state = state_json_for(c, c->init_pid, CONTAINER_CREATING);
        if (!state)
                return -ENOMEM;
        return seccomp_listener_send(c->seccomp, listener, c->init_pid, state, err);
}

/* Drive the child through setup. Returns when the init reports READY. */
static int parent_sync_loop(Container *c, const CreateOptions *o, int sock, pid_t stage1, BerthError *err)
{
        const OciLinux *l = &c->config->linux_;
        _cleanup_free_ SyncMsg *msg = malloc(sizeof(SyncMsg));
        int r;

        if (!msg)
                return -ENOMEM;
        for (;;) {
                r = sync_recv(sock, msg);
                if (r == -ECONNRESET)
                        return error_setx(err, r, "container setup process exited unexpectedly");
                if (r < 0)
                        return error_set(err, r, "read from container setup process");
                switch (msg->type) {
                case SYNC_USERNS_READY:
                        r = write_id_map(stage1, "uid_map", l->uid_mappings, l->n_uid_mappings, err);
                        if (r >= 0)
                                r = write_id_map(stage1, "gid_map", l->gid_mappings, l->n_gid_mappings, err);
                        if (r < 0)
                                return r;
                        r = sync_send(sock, SYNC_USERNS_MAPPED, 0, NULL, -EBADF);
                        break;
                case SYNC_INIT_PID:
                        c->init_pid = (pid_t)msg->value;
                        break;
                case SYNC_RUN_HOOKS: {
                        _cleanup_free_ char *state = state_json_for(c, c->init_pid, CONTAINER_CREATING);
                        if (!state)
                                return -ENOMEM;
                        r = hooks_run(c->config, HOOK_PRESTART, state, err);
                        if (r >= 0)
                                r = hooks_run(c->config, HOOK_CREATE_RUNTIME, state, err);
                        if (r < 0)
                                return r;
                        r = sync_send(sock, SYNC_HOOKS_DONE, 0, state, -EBADF);
                        break;
                }
                case SYNC_CONSOLE:
                        r = handle_console(c, o, msg->fd, err);
                        break;
                case SYNC_SECCOMP_FD:
                        r = forward_seccomp_fd(c, msg->fd, err);
                        if (r < 0)
                                return r;
                        break;
                case SYNC_READY:
                        return 0;
                case SYNC_ERROR:
                        return error_setx(err, msg->value < 0 ? (int)msg->value : -EIO, "%s", msg->payload);
                default:
                        safe_close(msg->fd);
                        return error_setx(err, -EPROTO, "unexpected message %d from container setup",
                                          (int)msg->type);
                }
                if (r < 0)
                        return error_set(err, r, "talk to container setup process");
        }
}

static bool has_hooks(const OciConfig *cfg, HookKind a, HookKind b)
{
        return cfg->n_hooks[a] > 0 || cfg->n_hooks[b] > 0;
}

static int spawn_and_setup(Container *c, const CreateOptions *o, char *config_text, size_t config_len,
                           BerthError *err)
{
        InitArgs a = {
                .config = c->config,
                .rootfs = c->rootfs,
                .no_pivot = o->no_pivot,
                .no_new_keyring = o->no_new_keyring,
                .preserve_fds = o->preserve_fds,
                .run_hooks_in_runtime = has_hooks(c->config, HOOK_PRESTART, HOOK_CREATE_RUNTIME),
                .need_state_json = has_hooks(c->config, HOOK_CREATE_CONTAINER, HOOK_START_CONTAINER),
                .seccomp = c->seccomp,
        };
        int sp[2] = {-EBADF, -EBADF};
        _cleanup_close_ int sock = -EBADF, fifo = -EBADF;
        _cleanup_free_ char *state = NULL;
        pid_t stage1;
        int r;

        r = open_namespaces(c->config, &a, err);
        if (r < 0)
                goto out;
        if (c->cgroup) {
                r = cgroup_create(c->cgroup, err);
                if (r >= 0)
                        r = cgroup_apply(c->cgroup, c->resources, false, err);
                if (r < 0)
                        goto out;
                a.wait_for_cgroup = true;
        }
        if (mkfifoat(c->dir_fd, EXEC_FIFO, 0600) < 0) {
                r = error_set(err, negative_errno(), "create exec fifo");
                goto out;
        }
        /* O_RDWR never blocks on a fifo; the init keeps it and blocks reading it until start. */
        fifo = openat(c->dir_fd, EXEC_FIFO, O_RDWR | O_CLOEXEC);
        if (fifo < 0) {
                r = error_set(err, negative_errno(), "open exec fifo");
                goto out;
        }
        r = write_file_atomic_at(c->dir_fd, CONFIG_FILE, config_text, config_len, 0600, 0);
        if (r < 0) {
                error_set(err, r, "save config");
                goto out;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = error_set(err, negative_errno(), "socketpair");
                goto out;
        }
        sock = sp[0];
        a.sync_fd = sp[1];
        a.fifo_fd = fifo;

        stage1 = fork();
        if (stage1 < 0) {
                r = error_set(err, negative_errno(), "fork");
                safe_close(sp[1]);
                goto out;
        }
        if (stage1 == 0) {
                safe_close(sock);
                container_init_main(&a);
        }
        safe_close(sp[1]);
        fifo = safe_close(fifo);
        close_namespaces(&a);

        if (c->cgroup) {
                r = container_cgroup_admit(c->cgroup, stage1, sock, err);
                if (r < 0)
                        return r;
        }
        r = parent_sync_loop(c, o, sock, stage1, err);
        while (waitpid(stage1, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return r;
        if (c->init_pid <= 0)
                return error_setx(err, -EPROTO, "container setup did not report the init's pid");

        c->state->pid = c->init_pid;
        c->state->pid_start_time = proc_start_time(c->init_pid, NULL);
        r = container_state_write(c->dir_fd, c->state);
        if (r < 0)
                return error_set(err, r, "write state");
        if (o->pid_file) {
                r = pid_file_write(o->pid_file, c->init_pid, err);
                if (r < 0)
                        return r;
        }
        /* startContainer hooks see the state as it is from now on: created. */
        if (has_hooks(c->config, HOOK_START_CONTAINER, HOOK_START_CONTAINER) &&
            !(state = state_json_for(c, c->init_pid, CONTAINER_CREATED)))
                return -ENOMEM;
        r = sync_send(sock, SYNC_ACK, 0, state, -EBADF);
        if (r < 0)
                return error_set(err, r, "release container init");
        return 0;
out:
        close_namespaces(&a);
        return r;
}

int container_create(int root_fd, const char *id, const CreateOptions *o, Container **ret, BerthError *err)
{
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_free_ char *config_text = NULL, *config_path = NULL;
        size_t config_len;
        int r;

        r = container_id_validate(id, err);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->dir_fd = -EBADF;
        c->console_master = -EBADF;
        c->root_fd = root_fd;
        c->id = strdup(id);
        if (!c->id)
                return -ENOMEM;
        r = resolve_paths(c, o->bundle ? o->bundle : ".", err);
        if (r < 0)
                return r;
        /* We chdir to the bundle later: the caller's relative paths must not move with us. */
        CreateOptions opts = *o;
        _cleanup_free_ char *pid_file = NULL, *console_socket = NULL;
        if ((o->pid_file && make_absolute(o->pid_file, &pid_file) < 0) ||
            (o->console_socket && make_absolute(o->console_socket, &console_socket) < 0))
                return -ENOMEM;
        if (pid_file)
                opts.pid_file = pid_file;
        if (console_socket)
                opts.console_socket = console_socket;
        o = &opts;
        if (asprintf(&config_path, "%s/config.json", c->bundle) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, config_path, 16 << 20, &config_text, &config_len);
        if (r < 0)
                return error_set(err, r, "open \"%s\"", config_path);
        r = oci_config_parse(config_text, config_len, &c->config, err);
        if (r < 0) {
                error_prefix(err, "\"%s\": ", config_path);
                return r;
        }
        r = validate_for_create(c->config, o, err);
        if (r < 0)
                return r;
        /* In a new pid namespace nothing of the container exists to reach our setup processes
         * through /proc/PID/exe; otherwise (a shared or the host's pid namespace) enter only
         * from a sealed copy of ourselves (CVE-2019-5736). Nothing has happened yet to undo. */
        const OciNamespace *pidns = oci_config_find_namespace(c->config, NAMESPACE_PID);
        if (o->reexec_argv && (!pidns || pidns->path)) {
                r = sealed_exe_reexec(o->reexec_argv);
                if (r < 0)
                        return error_set(err, r, "re-execute from a sealed copy of the runtime");
        }
        /* Parsed and compiled here, before anything exists; the init only installs it. */
        r = seccomp_config_parse_cached(c->config->linux_.seccomp, "linux.seccomp", c->root_fd, &c->seccomp,
                                        err);
        if (r < 0)
                return r;
        r = resolve_rootfs(c, err);
        if (r < 0)
                return r;

        c->state = calloc(1, sizeof(ContainerState));
        if (!c->state)
                return -ENOMEM;
        c->state->exit_code = -1;
        c->state->id = strdup(id);
        c->state->bundle = strdup(c->bundle);
        c->state->rootfs = strdup(c->rootfs);
        c->state->created = now_rfc3339();
        c->state->owner = geteuid();
        c->state->annotations_json = annotations_to_json(c->config);
        if (!c->state->id || !c->state->bundle || !c->state->rootfs || !c->state->created ||
            (c->config->n_annotations && !c->state->annotations_json))
                return -ENOMEM;

        r = state_dir_create(root_fd, id, &c->dir_fd, err);
        if (r < 0)
                return r;
        /* After claiming the id: a duplicate id must say so, not report the other's cgroup. */
        r = prepare_cgroup(c, o, err);
        if (r < 0) {
                state_dir_remove(root_fd, id);
                return r;
        }
        /* Relative bind-mount sources are relative to the bundle, as in runc. */
        if (chdir(c->bundle) < 0)
                r = error_set(err, negative_errno(), "chdir to bundle \"%s\"", c->bundle);
        else
                r = spawn_and_setup(c, o, config_text, config_len, err);
        if (r < 0) {
                if (c->init_pid > 0)
                        container_destroy_init(c->init_pid, 0);
                if (c->cgroup)
                        cgroup_destroy(c->cgroup, NULL);
                state_dir_remove(root_fd, id);
                return r;
        }
        c->state->status = CONTAINER_CREATED;
        *ret = TAKE_PTR(c);
        return 0;
}
