/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * exec: stage 1 joins every namespace of the container at once with
 * setns(pidfd, flags), then forks the process with CLONE_PARENT so it lands in the
 * container's pid and time namespaces as the caller's child. The sync socket is
 * CLOEXEC: EOF after the pid message means the exec succeeded.
 */

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "console.h"
#include "exec.h"
#include "process.h"
#include "seccomp.h"
#include "sync.h"

static bool same_namespace(pid_t pid, const char *name)
{
        char path[64];
        struct stat a, b;

        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
        if (stat(path, &a) < 0)
                return false;
        snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
        return stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int namespace_flags_to_join(const Container *c)
{
        int flags = 0;
        for (size_t i = 0; i < c->config->linux_.n_namespaces; i++) {
                NamespaceType t = c->config->linux_.namespaces[i].type;
                /* Joining the user namespace we are already in is EINVAL; others are harmless. */
                if (same_namespace(c->init_pid, namespace_type_to_proc_name(t)))
                        continue;
                flags |= namespace_type_to_clone_flag(t);
        }
        return flags;
}

_noreturn_ static void exec_child(const Container *c, const OciProcess *p, unsigned preserve_fds, int sock)
{
        BerthError err = {0};
        _cleanup_free_ char *exe = NULL;
        int master = -EBADF, slave = -EBADF, r;
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (p->terminal) {
                r = console_create(p->console_height, p->console_width, &master, &slave, &err);
                if (r >= 0)
                        r = sync_send(sock, SYNC_CONSOLE, 0, NULL, master);
                if (r < 0)
                        goto fail;
                safe_close(master);
                r = console_make_controlling(slave, &err);
                if (r < 0)
                        goto fail;
                safe_close(slave);
        } else if (setsid() < 0) {
                r = error_set(&err, negative_errno(), "setsid");
                goto fail;
        }
        /* The container's filter applies to exec'd processes too (runc); a listener fd goes
         * over our sync socket, which stays open until execve(). */
        SeccompStage sc = seccomp_plan_stage(c->seccomp, p->no_new_privileges, true);
        r = process_prepare_privileged(p, &err);
        if (r >= 0)
                r = process_find_executable(p, &exe, &err);
        if (r >= 0 && sc == SECCOMP_STAGE_BEFORE_USER)
                r = seccomp_plan_load(c->seccomp, sock, &err);
        if (r >= 0)
                r = process_switch_user(p, &err);
        if (r >= 0)
                r = process_exec(p, exe, preserve_fds, sc == SECCOMP_STAGE_BEFORE_EXEC ? c->seccomp : NULL,
                                 sock, &err);
fail:
        (void)sync_send(sock, SYNC_EXEC_FAILED, r, error_message(&err, r), -EBADF);
        _exit(127);
}

_noreturn_ static void exec_stage1(const Container *c, const OciProcess *p, unsigned preserve_fds, int pidfd,
                                   int flags, int sock)
{
        BerthError err = {0};
        SyncMsg *msg = malloc(sizeof(SyncMsg));

        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        /* None of the runtime's fds (its --root and state directories, the signalfd, the log) may
         * enter the container: the child forked below is visible there from birth, and a container
         * with CAP_SYS_PTRACE could open them through /proc/PID/fd/N (CVE-2016-9962,
         * CVE-2024-21626). The process gets stdio and --preserve-fds only. */
        int keep[] = {sock, pidfd};
        close_all_fds_except(3 + (int)preserve_fds, keep, ELEMENTSOF(keep));
        /* Wait until the runtime has moved us into the container's cgroup. */
        if (!msg || (c->cgroup && sync_expect(sock, SYNC_GO, msg, &err) < 0))
                _exit(1);
        free(msg);
        if (flags && setns(pidfd, flags) < 0) {
                sync_send_error(sock, &err,
                                error_set(&err, negative_errno(), "join the container's namespaces"));
                _exit(1);
        }
        safe_close(pidfd);
        if ((flags & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                sync_send_error(sock, &err,
                                error_set(&err, negative_errno(), "become root in the user namespace"));
                _exit(1);
        }
        pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0) {
                sync_send_error(sock, &err, error_set(&err, negative_errno(), "fork"));
                _exit(1);
        }
        if (pid == 0)
                exec_child(c, p, preserve_fds, sock);
        _exit(sync_send(sock, SYNC_INIT_PID, pid, NULL, -EBADF) < 0 ? 1 : 0);
}

int container_exec(Container *c, const OciProcess *p, const ExecOptions *o, pid_t *ret_pid, int *ret_master,
                   BerthError *err)
{
        _cleanup_close_ int pidfd = -EBADF, sock = -EBADF, master = -EBADF;
        _cleanup_free_ SyncMsg *msg = malloc(sizeof(SyncMsg));
        _cleanup_close_ int seccomp_fd = -EBADF;
        int sp[2], r;
        pid_t pid = 0;

        if (!msg)
                return -ENOMEM;
        if (c->state->status != CONTAINER_RUNNING && c->state->status != CONTAINER_CREATED)
                return error_setx(err, -ESRCH, "container \"%s\" is %s: cannot exec in it", c->id,
                                  container_status_to_string(c->state->status));
        if (p->terminal && !o->console_socket && !o->foreground)
                return error_setx(err, -EINVAL, "--tty: --console-socket is required with --detach");
        pidfd = (int)syscall(SYS_pidfd_open, c->init_pid, 0);
        if (pidfd < 0 || proc_start_time(c->init_pid, NULL) != c->state->pid_start_time)
                return error_setx(err, -ESRCH, "container \"%s\" is not running", c->id);
        if (!c->seccomp && (r = seccomp_config_parse_cached(c->config->linux_.seccomp, "linux.seccomp",
                                                            c->root_fd, &c->seccomp, err)) < 0)
                return r;
        int flags = namespace_flags_to_join(c);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return error_set(err, negative_errno(), "socketpair");
        sock = sp[0];
        pid_t stage1 = fork();
        if (stage1 < 0) {
                safe_close(sp[1]);
                return error_set(err, negative_errno(), "fork");
        }
        if (stage1 == 0) {
                safe_close(sock);
                exec_stage1(c, p, o->preserve_fds, pidfd, flags, sp[1]);
        }
        safe_close(sp[1]);
        if (c->cgroup) {
                r = container_cgroup_admit(c->cgroup, stage1, sock, err);
                if (r < 0)
                        return r;
        }

        for (;;) {
                r = sync_recv(sock, msg);
                if (r == -ECONNRESET)
                        break; /* every copy of the socket closed: stage 1 exited, the exec happened */
                if (r < 0) {
                        error_set(err, r, "read from exec setup process");
                        break;
                }
                if (msg->type == SYNC_INIT_PID)
                        pid = (pid_t)msg->value;
                else if (msg->type == SYNC_CONSOLE) {
                        if (o->console_socket) {
                                r = console_send_to_socket(o->console_socket, msg->fd, err);
                                safe_close(msg->fd);
                                if (r < 0)
                                        break;
                        } else
                                master = msg->fd;
                } else if (msg->type == SYNC_SECCOMP_FD) {
                        safe_close(seccomp_fd);
                        seccomp_fd = msg->fd; /* sent once the pid is known, below */
                } else {
                        safe_close(msg->fd);
                        r = error_setx(err, msg->value < 0 ? (int)msg->value : -EIO, "%s", msg->payload);
                        break;
                }
        }
        while (waitpid(stage1, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0 && r != -ECONNRESET) {
                if (pid > 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                }
                return r;
        }
        if (pid <= 0)
                return error_setx(err, -EPROTO, "exec setup did not report a pid");
        if (seccomp_fd >= 0) {
                _cleanup_free_ char *state = container_state_to_json(c->state, false);
                r = state ? seccomp_listener_send(c->seccomp, seccomp_fd, pid, state, err) : -ENOMEM;
                if (r < 0) {
                        kill(pid, SIGKILL); /* the spec: failing to reach the listener is an error */
                        waitpid(pid, NULL, 0);
                        return r;
                }
        }
        *ret_pid = pid;
        *ret_master = TAKE_FD(master);
        return 0;
}
