/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth's side of berth-runtime: run its verbs, read its state. */

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "common.h"
#include "container-meta.h"
#include "runtime-client.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

#define STATE_MAX_BYTES (1 << 20)

char *runtime_log_last_error(int dir_fd, const char *path)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *m;
        char *line = NULL;
        size_t len;

        if (read_full_file_at(dir_fd, path, 1 << 20, &text, &len) < 0)
                return NULL;
        for (char *p = strtok(text, "\n"); p; p = strtok(NULL, "\n"))
                if (strstr(p, "\"level\":\"error\""))
                        line = p;
        o = line ? json_tokener_parse(line) : NULL;
        if (!o || !json_object_object_get_ex(o, "msg", &m) || !json_object_is_type(m, json_type_string))
                return NULL;
        return strdup(json_object_get_string(m));
}

int runtime_error_exit_status(const char *msg)
{
        /* berth-runtime's words (runc's): `exec "NAME": executable file not found in $PATH`, or
         * `exec "/PATH": <strerror>` when the program named by its path cannot be run. */
        const char *e = msg ? strstr(msg, "exec \"") : NULL;

        if (!e)
                return 125;
        if (strstr(e, "executable file not found") || strstr(e, "No such file or directory"))
                return 127;
        if (strstr(e, "Permission denied") || strstr(e, "Exec format error") || strstr(e, "Is a directory"))
                return 126;
        return 125;
}

int runtime_client_init(RuntimeClient *rc, const char *storage_abs)
{
        *rc = (RuntimeClient){};
        if (cli_runtime_path(&rc->binary) < 0)
                return -ENOMEM;
        if (asprintf(&rc->root, "%s/runtime", storage_abs) < 0) {
                rc->root = NULL;
                runtime_client_done(rc);
                return -ENOMEM;
        }
        return 0;
}

void runtime_client_done(RuntimeClient *rc)
{
        free(rc->binary);
        free(rc->root);
        *rc = (RuntimeClient){};
}

char **runtime_client_argv(const RuntimeClient *rc, const char *const *args)
{
        char **argv = NULL;

        if (strv_extend(&argv, rc->binary) < 0 || strv_extend(&argv, "--root") < 0 ||
            strv_extend(&argv, rc->root) < 0)
                return strv_free(argv);
        for (const char *const *a = args; *a; a++)
                if (strv_extend(&argv, *a) < 0)
                        return strv_free(argv);
        return argv;
}

static volatile sig_atomic_t foreground_pid;

static void forward_signal(int sig)
{
        if (foreground_pid > 0)
                kill(foreground_pid, sig);
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void safe_close_pair(int p[2])
{
        p[0] = safe_close(p[0]);
        p[1] = safe_close(p[1]);
}

/* Copies what arrives on @pipes (the child's stdout and stderr) to our own stdout and stderr and
 * appends it to @log_fd, until both are at their end. When our side of a stream is gone (a
 * reader that went away: EPIPE), that pipe is closed, so the writer in the container gets EPIPE
 * as it would have had it written there itself; its output is then no longer logged. */
static void copy_output(int pipes[2], int log_fd)
{
        struct pollfd pfd[2] = {{.fd = pipes[0], .events = POLLIN}, {.fd = pipes[1], .events = POLLIN}};
        const int out[2] = {STDOUT_FILENO, STDERR_FILENO};
        char buf[65536];

        while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (size_t i = 0; i < 2; i++) {
                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        ssize_t n = read(pfd[i].fd, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n > 0 && loop_write(out[i], buf, (size_t)n) >= 0) {
                                (void)loop_write(log_fd, buf, (size_t)n);
                                continue;
                        }
                        pfd[i].fd = safe_close(pfd[i].fd);
                }
        }
        for (size_t i = 0; i < 2; i++)
                safe_close(pfd[i].fd);
}

int runtime_client_foreground(char *const *argv, bool stdin_null, int log_fd)
{
        struct sigaction sa = {.sa_handler = forward_signal}, old[ELEMENTSOF(forwarded)];
        struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
        int out_pipe[2] = {-EBADF, -EBADF}, err_pipe[2] = {-EBADF, -EBADF};
        sigset_t block, saved;
        int status;
        pid_t pid;

        if (log_fd >= 0 && (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0)) {
                int r = -errno;
                safe_close_pair(out_pipe);
                return r;
        }
        sigemptyset(&block);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaddset(&block, forwarded[i]);
        fflush(NULL);
        sigprocmask(SIG_BLOCK, &block, &saved);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                sigprocmask(SIG_SETMASK, &saved, NULL);
                safe_close_pair(out_pipe);
                safe_close_pair(err_pipe);
                return r;
        }
        if (pid == 0) {
                sigprocmask(SIG_SETMASK, &saved, NULL);
                if (log_fd >= 0 &&
                    (dup2(out_pipe[1], STDOUT_FILENO) < 0 || dup2(err_pipe[1], STDERR_FILENO) < 0))
                        _exit(125);
                if (stdin_null) {
                        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (null < 0 || dup2(null, STDIN_FILENO) < 0)
                                _exit(125);
                }
                execv(argv[0], argv);
                fprintf(stderr, "berth: exec %s: %s\n", argv[0], strerror(errno));
                _exit(125);
        }
        foreground_pid = pid;
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaction(forwarded[i], &sa, &old[i]);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        if (log_fd >= 0) {
                int pipes[2] = {out_pipe[0], err_pipe[0]};

                safe_close(out_pipe[1]);
                safe_close(err_pipe[1]);
                sigaction(SIGPIPE, &ign, &old_pipe); /* EPIPE instead, see copy_output() */
                copy_output(pipes, log_fd);
                sigaction(SIGPIPE, &old_pipe, NULL);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = 125 << 8;
                        break;
                }
        foreground_pid = 0;
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaction(forwarded[i], &old[i], NULL);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

/* In the child: fd @from (or /dev/null for -1) as @to. */
static int child_redirect(int from, int to, int devnull)
{
        return dup2(from >= 0 ? from : devnull, to) < 0 ? -errno : 0;
}

int runtime_client_call(const RuntimeClient *rc, const char *const *args, int stdout_fd, int stderr_fd)
{
        char **argv = runtime_client_argv(rc, args);
        int status, r = 0;
        pid_t pid;

        if (!argv)
                return -ENOMEM;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                strv_free(argv);
                return r;
        }
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0 || child_redirect(devnull, STDIN_FILENO, devnull) < 0 ||
                    child_redirect(stdout_fd, STDOUT_FILENO, devnull) < 0 ||
                    child_redirect(stderr_fd, STDERR_FILENO, devnull) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        strv_free(argv);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

static RuntimeStatus runtime_status_from_string(const char *s)
{
        static const char *const names[_RUNTIME_STATUS_MAX] = {
                [RUNTIME_STATUS_CREATING] = "creating", [RUNTIME_STATUS_CREATED] = "created",
                [RUNTIME_STATUS_RUNNING] = "running",   [RUNTIME_STATUS_PAUSED] = "paused",
                [RUNTIME_STATUS_STOPPED] = "stopped",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i] && streq(names[i], s))
                        return (RuntimeStatus)i;
        return _RUNTIME_STATUS_INVALID;
}

static int state_parse(const char *text, RuntimeState *ret)
{
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse(text);
        json_object *status, *pid, *created;
        RuntimeState s = {};

        if (!o || !json_object_object_get_ex(o, "status", &status) ||
            !json_object_is_type(status, json_type_string))
                return -EBADMSG;
        s.status = runtime_status_from_string(json_object_get_string(status));
        if (s.status < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(o, "pid", &pid) && json_object_is_type(pid, json_type_int))
                s.pid = (pid_t)json_object_get_int(pid);
        if (json_object_object_get_ex(o, "created", &created) &&
            json_object_is_type(created, json_type_string))
                (void)rfc3339_parse(json_object_get_string(created), &s.created);
        *ret = s;
        return 0;
}

int runtime_client_state(const RuntimeClient *rc, const char *id, RuntimeState *ret)
{
        _cleanup_free_ char *dir = NULL, *text = NULL;
        _cleanup_close_ int out = -EBADF;
        char path[64];
        size_t len;
        int r;

        if (asprintf(&dir, "%s/%s", rc->root, id) < 0)
                return -ENOMEM;
        if (access(dir, F_OK) < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = (RuntimeState){.status = RUNTIME_STATUS_NONE};
                return 0;
        }
        /* A file, not a pipe: the output is read after the runtime exits, whatever its size. */
        out = memfd_create("berth-runtime-state", MFD_CLOEXEC);
        if (out < 0)
                return -errno;
        r = runtime_client_call(rc, (const char *const[]){"state", id, NULL}, out, -1);
        if (r < 0)
                return r;
        if (r != 0) {
                /* Deleted meanwhile, or still being created (the state file comes last). */
                *ret = (RuntimeState){.status = access(dir, F_OK) < 0 ? RUNTIME_STATUS_NONE
                                                                      : RUNTIME_STATUS_CREATING};
                return 0;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", out);
        r = read_full_file_at(AT_FDCWD, path, STATE_MAX_BYTES, &text, &len);
        if (r < 0)
                return r;
        return state_parse(text, ret);
}

int runtime_client_kill(const RuntimeClient *rc, const char *id, const char *signal, bool quiet)
{
        int r = runtime_client_call(rc, (const char *const[]){"kill", id, signal, NULL}, -1,
                                    quiet ? -1 : STDERR_FILENO);

        return r < 0 ? r : r == 0 ? 0 : -EIO;
}

int runtime_client_delete(const RuntimeClient *rc, const char *id, bool force)
{
        const char *const args_force[] = {"delete", "--force", id, NULL}, *const args[] = {"delete", id,
                                                                                           NULL};
        int r = runtime_client_call(rc, force ? args_force : args, -1, -1);

        return r < 0 ? r : r == 0 ? 0 : -EIO;
}

int runtime_client_wait_stopped(const RuntimeClient *rc, const char *id, int timeout_msec)
{
        for (int waited = 0;; waited += 50) {
                RuntimeState s;
                int r = runtime_client_state(rc, id, &s);
                if (r >= 0 && !runtime_status_is_alive(s.status) && s.status != RUNTIME_STATUS_CREATING)
                        return 0;
                if (waited >= timeout_msec)
                        return -ETIMEDOUT;
                (void)nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
        }
}
