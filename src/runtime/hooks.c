/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/fileio.h"
#include "hooks.h"

/* A hook's timeout as a CLOCK_MONOTONIC deadline in ms; -1 when it has none. */
static int64_t hook_deadline(const OciHook *h)
{
        struct timespec ts;

        if (!h->has_timeout)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (int64_t)h->timeout_sec * 1000;
}

/* What poll() should wait for @deadline: -1 (forever) without one, else the ms left, at least 0. */
static int ms_until(int64_t deadline)
{
        struct timespec ts;
        int64_t left;

        if (deadline < 0)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        left = deadline - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Writes the state to the hook's stdin within its timeout: once the pipe is full, a hook that
 * does not read must not hold us past it. A hook that exits or closes its stdin early ends the
 * write without an error (what it does with its stdin is its business). */
static int feed_stdin(int fd, int pidfd, const char *data, size_t len, int64_t deadline)
{
        while (len > 0) {
                struct pollfd p[2] = {{.fd = fd, .events = POLLOUT}, {.fd = pidfd, .events = POLLIN}};
                int n = poll(p, pidfd >= 0 ? 2 : 1, ms_until(deadline));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -ETIMEDOUT;
                if ((p[0].revents & (POLLERR | POLLHUP)) || (pidfd >= 0 && (p[1].revents & POLLIN)))
                        return 0;
                ssize_t k = write(fd, data, len);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return errno == EPIPE ? 0 : negative_errno();
                }
                data += k;
                len -= (size_t)k;
        }
        return 0;
}

/* Waits for the hook to exit, until @deadline (when the kernel gives us a pidfd to poll). */
static int wait_hook(pid_t pid, int pidfd, int64_t deadline, int *ret_status)
{
        if (pidfd >= 0 && deadline >= 0) {
                struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
                int n;
                do
                        n = poll(&pfd, 1, ms_until(deadline));
                while (n < 0 && errno == EINTR);
                if (n == 0)
                        return -ETIMEDOUT;
        }
        while (waitpid(pid, ret_status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return 0;
}

static int hook_run_one(const OciHook *h, const char *state_json, BerthError *err)
{
        _cleanup_close_ int pidfd = -EBADF;
        int pipefd[2], errpipe[2];
        int status, r, exec_errno = 0;
        int64_t deadline = hook_deadline(h);

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return error_set(err, negative_errno(), "create pipe for its stdin");
        /* Close-on-exec: EOF on it says the execve() worked, an errno on it why it did not. */
        if (pipe2(errpipe, O_CLOEXEC) < 0) {
                r = error_set(err, negative_errno(), "create pipe");
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return r;
        }
        pid_t pid = fork();
        if (pid < 0) {
                r = error_set(err, negative_errno(), "fork");
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                safe_close(errpipe[0]);
                safe_close(errpipe[1]);
                return r;
        }
        if (pid == 0) {
                if (dup2(pipefd[0], STDIN_FILENO) >= 0) {
                        char *fallback[] = {h->path, NULL};
                        execve(h->path, h->args && h->args[0] ? h->args : fallback,
                               h->env ? h->env : (char *[]){NULL});
                }
                exec_errno = errno;
                (void)!write(errpipe[1], &exec_errno, sizeof(exec_errno));
                _exit(127);
        }
        safe_close(pipefd[0]);
        safe_close(errpipe[1]);
        if (loop_read(errpipe[0], &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
                exec_errno = 0;
        safe_close(errpipe[0]);
        if (exec_errno != 0) {
                safe_close(pipefd[1]);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return error_set(err, -exec_errno, "exec");
        }

        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        /* A hook that does not read its stdin must not block us: no SIGPIPE, no blocking write. */
        sighandler_t old = signal(SIGPIPE, SIG_IGN);
        r = fcntl(pipefd[1], F_SETFL, O_NONBLOCK) < 0
                    ? negative_errno()
                    : feed_stdin(pipefd[1], pidfd, state_json, strlen(state_json), deadline);
        safe_close(pipefd[1]);
        signal(SIGPIPE, old);
        if (r >= 0) {
                r = wait_hook(pid, pidfd, deadline, &status);
                if (r < 0 && r != -ETIMEDOUT)
                        return error_set(err, r, "wait");
        }
        if (r < 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                if (r == -ETIMEDOUT)
                        return error_setx(err, r, "timed out after %d s", h->timeout_sec);
                return error_set(err, r, "write the state to its stdin");
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return error_setx(err, -EIO, "exited with status %d", WEXITSTATUS(status));
        return error_setx(err, -EIO, "killed by signal %d", WTERMSIG(status));
}

/* The spec: a failing poststart or poststop hook is only a warning, and "the remaining hooks and
 * lifecycle continue as if the hook had succeeded". */
static bool hook_kind_is_warning_only(HookKind kind)
{
        return kind == HOOK_POSTSTART || kind == HOOK_POSTSTOP;
}

/* Adds one hook's failure to @err: the first sets it, later ones are appended after "; ". */
static void error_add_hook_failure(BerthError *err, const BerthError *one, int r)
{
        size_t n;

        if (!err)
                return;
        if (err->code == 0) {
                error_setx(err, r, "%s", error_message(one, r));
                return;
        }
        n = strlen(err->msg);
        if (n < sizeof(err->msg) - 1)
                snprintf(err->msg + n, sizeof(err->msg) - n, "; %s", error_message(one, r));
}

int hooks_run(const OciConfig *c, HookKind kind, const char *state_json, BerthError *err)
{
        int first = 0;

        for (size_t i = 0; i < c->n_hooks[kind]; i++) {
                BerthError one = {0};
                int r = hook_run_one(&c->hooks[kind][i], state_json, &one);
                if (r >= 0)
                        continue;
                error_prefix(&one, "%s hook \"%s\": ", hook_kind_to_string(kind), c->hooks[kind][i].path);
                error_add_hook_failure(err, &one, r);
                if (!hook_kind_is_warning_only(kind))
                        return r;
                if (first == 0)
                        first = r;
        }
        return first;
}
