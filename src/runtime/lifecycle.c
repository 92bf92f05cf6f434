/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "container.h"
#include "hooks.h"
#include "cgroup/cgroup.h"

int container_open(int root_fd, const char *id, int lock_op, Container **ret, BerthError *err)
{
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
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
        r = state_dir_open(root_fd, id, lock_op, &c->dir_fd, err);
        if (r < 0)
                return r;
        r = container_state_load(c->dir_fd, id, &c->state, err);
        if (r == -ENOENT)
                return error_setx(err, -EBUSY, "container \"%s\" is still being created", id);
        if (r < 0)
                return r;
        c->init_pid = c->state->pid;
        r = read_full_file_at(c->dir_fd, CONFIG_FILE, 16 << 20, &text, &len);
        if (r < 0)
                return error_set(err, r, "read saved config of container \"%s\"", id);
        r = oci_config_parse(text, len, &c->config, err);
        if (r < 0) {
                error_prefix(err, "saved config of container \"%s\": ", id);
                return r;
        }
        r = container_open_cgroup(c, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int container_open_cgroup(Container *c, BerthError *err)
{
        if (c->cgroup || !c->state->cgroup_path)
                return 0;
        int r = cgroup_new(c->state->cgroup_path, &c->cgroup, err);
        if (r < 0)
                error_prefix(err, "cgroup of container \"%s\": ", c->id);
        return r;
}

static int pidfd_for(const ContainerState *s, int *ret)
{
        int fd = (int)syscall(SYS_pidfd_open, s->pid, 0);
        if (fd < 0)
                return negative_errno();
        /* The pid could have been reused between our look and the pidfd: check again. */
        bool zombie;
        if (proc_start_time(s->pid, &zombie) != s->pid_start_time) {
                safe_close(fd);
                return -ESRCH;
        }
        *ret = fd;
        return 0;
}

int container_signal(const ContainerState *s, int sig)
{
        _cleanup_close_ int fd = -EBADF;
        int r = pidfd_for(s, &fd);
        if (r < 0)
                return r;
        if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
                return negative_errno();
        return 0;
}

static void wait_pidfd_exit(int pidfd, pid_t pid, int timeout_ms)
{
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        while (poll(&pfd, 1, timeout_ms) < 0 && errno == EINTR)
                ;
        /* Reap it if it is our child (create failed halfway, or run). */
        waitpid(pid, NULL, WNOHANG);
}

void container_destroy_init(pid_t pid, uint64_t start_time)
{
        _cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return;
        if (start_time && proc_start_time(pid, NULL) != start_time)
                return;
        syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
        wait_pidfd_exit(fd, pid, 10000);
}

/* Until the init has exec'd the user's program (its executable is no longer ours) or died;
 * bounded, since a startContainer hook may legitimately take a while. */
static void wait_for_exec(const ContainerState *st)
{
        char path[64];
        struct stat self, other;

        if (stat("/proc/self/exe", &self) < 0)
                return;
        snprintf(path, sizeof(path), "/proc/%d/exe", (int)st->pid);
        for (int i = 0; i < 120000; i++) {
                bool zombie;
                if (proc_start_time(st->pid, &zombie) != st->pid_start_time || zombie)
                        return;
                if (stat(path, &other) < 0 || other.st_ino != self.st_ino || other.st_dev != self.st_dev)
                        return;
                struct timespec ts = {.tv_nsec = 500000};
                nanosleep(&ts, NULL);
        }
}

int container_start_locked(Container *c, BerthError *err)
{
        _cleanup_close_ int fifo = -EBADF;
        int r;

        container_status_refresh(c->dir_fd, c->state);
        if (c->state->status != CONTAINER_CREATED)
                return error_setx(err, -EINVAL, "container \"%s\" is not in created state (it is %s)", c->id,
                                  container_status_to_string(c->state->status));
        fifo = openat(c->dir_fd, EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0) {
                if (errno == ENXIO)
                        return error_setx(err, -ESRCH, "container \"%s\": its init exited before start",
                                          c->id);
                return error_set(err, negative_errno(), "open exec fifo of \"%s\"", c->id);
        }
        if (write(fifo, "0", 1) != 1)
                return error_set(err, negative_errno(), "release container \"%s\"", c->id);
        fifo = safe_close(fifo);
        if (unlinkat(c->dir_fd, EXEC_FIFO, 0) < 0)
                return error_set(err, negative_errno(), "remove exec fifo of \"%s\"", c->id);
        c->state->status = CONTAINER_RUNNING;
        /* poststart hooks run after the user's process was executed (runtime-spec). */
        if (c->config->n_hooks[HOOK_POSTSTART] > 0)
                wait_for_exec(c->state);

        if (c->config->n_hooks[HOOK_POSTSTART] > 0) {
                _cleanup_free_ char *state = container_state_to_json(c->state, false);
                BerthError herr = {0};
                if (!state)
                        return -ENOMEM;
                r = hooks_run(c->config, HOOK_POSTSTART, state, &herr);
                if (r < 0)
                        log_warning("start %s: %s", c->id, error_message(&herr, r));
        }
        return 0;
}

int container_start(int root_fd, const char *id, BerthError *err)
{
        _cleanup_(container_freep) Container *c = NULL;
        int r = container_open(root_fd, id, LOCK_EX, &c, err);
        if (r < 0)
                return r;
        return container_start_locked(c, err);
}

int container_kill(int root_fd, const char *id, int sig, bool all, BerthError *err)
{
        _cleanup_(container_freep) Container *c = NULL;
        int r = container_open(root_fd, id, LOCK_SH, &c, err);
        if (r < 0)
                return r;
        if (all && c->cgroup) {
                r = cgroup_kill_all(c->cgroup, sig, err);
                return r < 0 ? r : 0;
        }
        if (c->state->status == CONTAINER_STOPPED)
                return error_setx(err, -ESRCH, "container \"%s\" is not running", id);
        r = container_signal(c->state, sig);
        if (r == -ESRCH)
                return error_setx(err, r, "container \"%s\" is not running", id);
        if (r < 0)
                return error_set(err, r, "send signal %d to container \"%s\"", sig, id);
        return 0;
}

/* A create that died halfway (killed, machine crash) left a state directory without
 * state.json, and perhaps a cgroup. We hold the directory's lock, so its creator is gone:
 * remove what it made. The saved config names the cgroup. */
static int delete_crashed_create(int root_fd, const char *id, BerthError *err)
{
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *text = NULL, *path = NULL;
        _cleanup_(oci_config_freep) OciConfig *cfg = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        size_t len;
        int r;

        r = state_dir_open(root_fd, id, LOCK_EX, &dir_fd, err);
        if (r < 0)
                return r;
        if (read_full_file_at(dir_fd, CONFIG_FILE, 16 << 20, &text, &len) >= 0 &&
            oci_config_parse(text, len, &cfg, NULL) >= 0 &&
            cgroup_resolve_path(cfg->linux_.cgroups_path, id, &path, NULL) >= 0 &&
            cgroup_new(path, &cg, NULL) >= 0) {
                r = cgroup_destroy(cg, err); /* kills the orphaned setup processes too */
                if (r < 0)
                        return r;
        }
        r = state_dir_remove(root_fd, id);
        if (r < 0)
                return error_set(err, r, "remove state of container \"%s\"", id);
        return 0;
}

int container_delete(int root_fd, const char *id, bool force, BerthError *err)
{
        _cleanup_(container_freep) Container *c = NULL;
        BerthError open_err = {0};
        int r = container_open(root_fd, id, LOCK_EX, &c, &open_err);
        if (r == -EBUSY) /* no state.json although we got the lock: its create died */
                return delete_crashed_create(root_fd, id, err);
        if (r < 0) {
                if (err)
                        *err = open_err;
                return r;
        }
        switch (c->state->status) {
        case CONTAINER_RUNNING:
        case CONTAINER_PAUSED:
                if (!force)
                        return error_setx(err, -EBUSY,
                                          "container \"%s\" is %s: stop it first or use delete --force", id,
                                          container_status_to_string(c->state->status));
                _fallthrough_;
        case CONTAINER_CREATED:
                if (c->state->status == CONTAINER_PAUSED && c->cgroup)
                        cgroup_freeze(c->cgroup, false, NULL); /* a frozen task cannot die */
                container_destroy_init(c->state->pid, c->state->pid_start_time);
                break;
        default:
                break;
        }
        c->state->status = CONTAINER_STOPPED;
        if (c->config->n_hooks[HOOK_POSTSTOP] > 0) {
                _cleanup_free_ char *state = container_state_to_json(c->state, false);
                BerthError herr = {0};
                r = state ? hooks_run(c->config, HOOK_POSTSTOP, state, &herr) : -ENOMEM;
                if (r < 0)
                        log_warning("delete %s: %s", id, error_message(&herr, r));
        }
        /* Processes the init left behind (no pid namespace) die with the cgroup. */
        if (c->cgroup) {
                r = cgroup_destroy(c->cgroup, err);
                if (r < 0)
                        return r;
        }
        r = state_dir_remove(root_fd, id);
        if (r < 0)
                return error_set(err, r, "remove state of container \"%s\"", id);
        return 0;
}

int container_pause(int root_fd, const char *id, bool pause, BerthError *err)
{
        _cleanup_(container_freep) Container *c = NULL;
        int r = container_open(root_fd, id, LOCK_EX, &c, err);
        if (r < 0)
                return r;
        ContainerStatus want = pause ? CONTAINER_RUNNING : CONTAINER_PAUSED;
        if (c->state->status != want)
                return error_setx(err, -EINVAL, "container \"%s\" is %s, not %s", id,
                                  container_status_to_string(c->state->status),
                                  container_status_to_string(want));
        if (!c->cgroup)
                return error_setx(err, -EOPNOTSUPP, "container \"%s\" has no cgroup (cgroups disabled)", id);
        return cgroup_freeze(c->cgroup, pause, err);
}
