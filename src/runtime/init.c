/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The child side of create. Two stages, as in runc's nsexec:
 *   stage 1 joins the namespaces given by path (the user namespace first), creates
 *           the new ones with one unshare(), waits for its id maps, then forks the
 *           init with CLONE_PARENT (so the runtime, not stage 1, is its parent) and
 *           exits. The fork is what puts the init into a new pid or time namespace.
 *   stage 2 (the init) builds the rootfs, pivots, reports READY, and blocks on the
 *           exec fifo until `start`; then it becomes the user's process.
 * Errors travel to the runtime as one message over the sync socket.
 */

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "console.h"
#include "hooks.h"
#include "init-args.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp.h"
#include "sync.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

_noreturn_ static void fail(int sock, BerthError *err, int r)
{
        sync_send_error(sock, err, r);
        _exit(1);
}

static int join_namespaces(InitArgs *a, BerthError *err)
{
        /* The user namespace first: the others are then joined with its privileges. */
        static const NamespaceType order[] = {NAMESPACE_USER, NAMESPACE_PID,  NAMESPACE_NETWORK,
                                              NAMESPACE_IPC,  NAMESPACE_UTS,  NAMESPACE_CGROUP,
                                              NAMESPACE_TIME, NAMESPACE_MOUNT};
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                int fd = a->ns_fds[order[i]];
                if (fd < 0)
                        continue;
                if (setns(fd, namespace_type_to_clone_flag(order[i])) < 0)
                        return error_set(err, negative_errno(), "join %s namespace",
                                         namespace_type_to_string(order[i]));
                a->ns_fds[order[i]] = safe_close(fd);
        }
        return 0;
}

static int write_time_offsets(const OciLinux *l, BerthError *err)
{
        char buf[128];
        snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n",
                 (long long)l->time_offset_monotonic_secs, l->time_offset_monotonic_nanosecs,
                 (long long)l->time_offset_boottime_secs, l->time_offset_boottime_nanosecs);
        int r = write_string_file("/proc/self/timens_offsets", buf);
        if (r < 0)
                return error_set(err, r, "linux.timeOffsets: write timens_offsets");
        return 0;
}

static int become_root_in_userns(BerthError *err)
{
        if (setresgid(0, 0, 0) < 0)
                return error_set(err, negative_errno(), "setgid 0 in the user namespace");
        if (setresuid(0, 0, 0) < 0)
                return error_set(err, negative_errno(), "setuid 0 in the user namespace");
        return 0;
}

_noreturn_ static void init_stage2(InitArgs *a);

/* `run` blocks every signal before forking us, and hooks may ignore SIGPIPE: the
 * container's process must start with a clean mask and default dispositions. */
static void reset_signals(void)
{
        sigset_t none;
        struct sigaction sa = {.sa_handler = SIG_DFL};

        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The runtime's own fds (the state directory with its lock, the --root directory,
 * the log) must not stay open in the container while it waits for start. */
static void close_fds_for_init(const InitArgs *a)
{
        int keep[_NAMESPACE_MAX + 2];
        size_t n = 0;

        keep[n++] = a->sync_fd;
        keep[n++] = a->fifo_fd;
        for (int t = 0; t < _NAMESPACE_MAX; t++)
                if (a->ns_fds[t] >= 0)
                        keep[n++] = a->ns_fds[t];
        /* --preserve-fds are the caller's fds 3..3+N-1, below anything we opened. */
        close_all_fds_except(3 + (int)a->preserve_fds, keep, n);
}

_noreturn_ void container_init_main(InitArgs *a)
{
        BerthError err = {0};
        SyncMsg *msg = malloc(sizeof(SyncMsg));
        int sock = a->sync_fd;
        int r;

        /* Not ptrace-able, /proc/self entries not readable by the container (CVE-2016-9962). */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        reset_signals();
        close_fds_for_init(a);
        if (!msg)
                fail(sock, &err, -ENOMEM);
        /* Into the cgroup before any namespace: a new cgroup namespace is rooted where we are. */
        if (a->wait_for_cgroup && sync_expect(sock, SYNC_GO, msg, &err) < 0)
                _exit(1);

        r = join_namespaces(a, &err);
        if (r < 0)
                fail(sock, &err, r);
        if (a->new_ns_flags && unshare(a->new_ns_flags) < 0)
                fail(sock, &err,
                     error_set(&err, negative_errno(), "create namespaces (unshare 0x%x)",
                               (unsigned)a->new_ns_flags));
        if (a->new_ns_flags & CLONE_NEWUSER) {
                r = sync_send(sock, SYNC_USERNS_READY, 0, NULL, -EBADF);
                if (r >= 0)
                        r = sync_expect(sock, SYNC_USERNS_MAPPED, msg, &err);
                if (r < 0)
                        _exit(1);
        }
        if ((a->new_ns_flags & CLONE_NEWUSER) || a->ns_fds[NAMESPACE_USER] >= 0 ||
            oci_config_find_namespace(a->config, NAMESPACE_USER)) {
                r = become_root_in_userns(&err);
                if (r < 0)
                        fail(sock, &err, r);
        }
        if ((a->new_ns_flags & CLONE_NEWTIME) && a->config->linux_.has_time_offsets) {
                r = write_time_offsets(&a->config->linux_, &err);
                if (r < 0)
                        fail(sock, &err, r);
        }
        free(msg);

        pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0)
                fail(sock, &err, error_set(&err, negative_errno(), "fork the container init"));
        if (pid == 0)
                init_stage2(a);
        r = sync_send(sock, SYNC_INIT_PID, pid, NULL, -EBADF);
        _exit(r < 0 ? 1 : 0);
}

static int set_hostname(const OciConfig *c, BerthError *err)
{
        if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
                return error_set(err, negative_errno(), "hostname: set \"%s\"", c->hostname);
        if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
                return error_set(err, negative_errno(), "domainname: set \"%s\"", c->domainname);
        return 0;
}

_noreturn_ static void init_stage2(InitArgs *a)
{
        const OciConfig *c = a->config;
        const OciProcess *p = c->process;
        BerthError err = {0};
        SyncMsg *msg = malloc(sizeof(SyncMsg));
        int sock = a->sync_fd;
        _cleanup_free_ char *state_json = NULL, *exe = NULL;
        int slave = -EBADF, r;
        RootfsContext rc = {
                .config = c,
                .rootfs = a->rootfs,
                .userns = oci_config_find_namespace(c, NAMESPACE_USER) != NULL,
                .no_pivot = a->no_pivot,
        };

        if (!msg)
                fail(sock, &err, -ENOMEM);
        if (setsid() < 0)
                fail(sock, &err, error_set(&err, negative_errno(), "setsid"));

        r = rootfs_prepare(&rc, &err);
        if (r < 0)
                fail(sock, &err, r);

        if (a->run_hooks_in_runtime || a->need_state_json) {
                r = sync_send(sock, SYNC_RUN_HOOKS, 0, NULL, -EBADF);
                if (r >= 0)
                        r = sync_expect(sock, SYNC_HOOKS_DONE, msg, &err);
                if (r < 0)
                        fail(sock, &err, r);
                state_json = strdup(msg->payload);
                if (!state_json)
                        fail(sock, &err, -ENOMEM);
                r = hooks_run(c, HOOK_CREATE_CONTAINER, state_json, &err);
                if (r < 0)
                        fail(sock, &err, r);
        }

        r = rootfs_pivot(&rc, &err);
        if (r < 0)
                fail(sock, &err, r);
        r = set_hostname(c, &err);
        if (r < 0)
                fail(sock, &err, r);
        if (p->terminal) {
                int master;
                r = console_create(p->console_height, p->console_width, &master, &slave, &err);
                if (r >= 0)
                        r = rootfs_bind_console(slave, &err);
                if (r >= 0)
                        r = sync_send(sock, SYNC_CONSOLE, 0, NULL, master);
                if (r < 0)
                        fail(sock, &err, r);
                safe_close(master);
        }
        r = rootfs_finalize(&rc, &err);
        if (r < 0)
                fail(sock, &err, r);
        r = process_prepare_privileged(p, &err);
        if (r < 0)
                fail(sock, &err, r);
        r = process_find_executable(p, &exe, &err);
        if (r < 0)
                fail(sock, &err, r);
        if (!a->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
            errno != ENOSYS && errno != EACCES && errno != EPERM)
                fail(sock, &err, error_set(&err, negative_errno(), "create session keyring"));
        /* With a listener the filter goes on now, while `create` can still take its fd. */
        SeccompStage sc = seccomp_plan_stage(a->seccomp, p->no_new_privileges, false);
        if (sc == SECCOMP_STAGE_BEFORE_READY && (r = seccomp_plan_load(a->seccomp, sock, &err)) < 0)
                fail(sock, &err, r);

        r = sync_send(sock, SYNC_READY, 0, NULL, -EBADF);
        if (r >= 0)
                r = sync_expect(sock, SYNC_ACK, msg, &err);
        if (r < 0)
                _exit(1); /* the runtime died or gave up: it removes what it made */
        if (msg->len > 0) {
                free(state_json);
                state_json = strdup(msg->payload);
                if (!state_json)
                        _exit(1);
        }
        safe_close(sock);
        free(msg);

        /* Wait for `start`. A signal kills us here, which is what `kill` before start means. */
        char go;
        ssize_t n;
        do
                n = read(a->fifo_fd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(1);
        safe_close(a->fifo_fd);

        if (state_json) {
                r = hooks_run(c, HOOK_START_CONTAINER, state_json, &err);
                if (r < 0)
                        goto exec_failed;
        }
        if (slave >= 0) {
                r = console_make_controlling(slave, &err);
                if (r < 0)
                        goto exec_failed;
                safe_close(slave);
        }
        if (sc == SECCOMP_STAGE_BEFORE_USER && (r = seccomp_plan_load(a->seccomp, -EBADF, &err)) < 0)
                goto exec_failed;
        r = process_switch_user(p, &err);
        if (r < 0)
                goto exec_failed;
        r = process_exec(p, exe, a->preserve_fds, sc == SECCOMP_STAGE_BEFORE_EXEC ? a->seccomp : NULL,
                         -EBADF, &err);
exec_failed:
        dprintf(STDERR_FILENO, "berth-runtime: %s\n", error_message(&err, r));
        /* The shell's statuses, which Docker and Podman report too: not found, cannot execute. */
        _exit(r == -ENOENT ? 127 : 126);
}
