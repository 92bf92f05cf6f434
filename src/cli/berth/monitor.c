/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor of a detached container: create, start, wait, record, clean up. */

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "container-meta.h"
#include "image/rootfs.h"
#include "monitor.h"

/* The runtime's own messages (JSON lines), apart from the container's output in ctr.log. */
#define MONITOR_PID_FILE      "init.pid"
#define MONITOR_SELF_PID_FILE "monitor.pid"

/* What the monitor tells `berth run` on the pipe: one of these, then for an error the message. */
#define REPORT_STARTED 'S'
#define REPORT_FAILED  'F'

static void report_failure(int report_fd, const char *what, int cdir_fd)
{
        _cleanup_free_ char *why = runtime_log_last_error(cdir_fd, RUNTIME_LOG_FILE);
        char msg[1024];

        /* The last error the runtime logged says why. */
        if (why)
                snprintf(msg, sizeof(msg), "%c%s", REPORT_FAILED, why);
        else
                snprintf(msg, sizeof(msg), "%c%s failed", REPORT_FAILED, what);
        (void)loop_write(report_fd, msg, strlen(msg));
}

static int runtime_verb(const MonitorArgs *a, const char *verb, bool with_bundle)
{
        _cleanup_free_ char *log = NULL, *pid_file = NULL;
        int r;

        if (asprintf(&log, "%s/%s", a->cdir, RUNTIME_LOG_FILE) < 0 ||
            asprintf(&pid_file, "%s/%s", a->cdir, MONITOR_PID_FILE) < 0)
                return -ENOMEM;
        if (with_bundle)
                r = runtime_client_call(a->runtime,
                                        (const char *const[]){"--log", log, "--log-format", "json", verb,
                                                              "--bundle", a->cdir, "--pid-file", pid_file,
                                                              a->id, NULL},
                                        STDOUT_FILENO, STDERR_FILENO);
        else
                r = runtime_client_call(
                        a->runtime,
                        (const char *const[]){"--log", log, "--log-format", "json", verb, a->id, NULL},
                        STDOUT_FILENO, STDERR_FILENO);
        return r < 0 ? r : r == 0 ? 0 : -EIO;
}

static pid_t read_init_pid(int cdir_fd)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        char *end;
        long pid;

        if (read_full_file_at(cdir_fd, MONITOR_PID_FILE, 64, &text, &len) < 0)
                return -1;
        errno = 0;
        pid = strtol(text, &end, 10);
        if (errno || end == text || pid <= 0 || pid > INT32_MAX)
                return -1;
        return (pid_t)pid;
}

/* Waits for @init (a child since the runtime's setup process exited and we are the subreaper),
 * reaping whatever else gets reparented here; returns its status the shell's way. */
static int wait_init(const MonitorArgs *a, pid_t init)
{
        int status;

        for (;;) {
                pid_t p = waitpid(-1, &status, 0);
                if (p == init)
                        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
                if (p < 0 && errno == ECHILD)
                        break;
        }
        /* Not our child after all (a runtime that double-forks differently): poll its state. */
        (void)runtime_client_wait_stopped(a->runtime, a->id, INT32_MAX);
        return 255;
}

static int setup_stdio(int cdir_fd)
{
        _cleanup_close_ int log = -EBADF, devnull = -EBADF;

        log = openat(cdir_fd, CONTAINER_LOG_FILE, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                     0640);
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (log < 0 || devnull < 0)
                return -errno;
        if (dup2(devnull, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0)
                return -errno;
        return 0;
}

static _noreturn_ void monitor_main(const MonitorArgs *a, int report_fd)
{
        static const int ignored[] = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
        const int keep[] = {a->cdir_fd, report_fd};
        BerthError err = {};
        sigset_t none;
        char pid[32];
        pid_t init;
        int code, n, r;

        /* Nothing of berth's (store locks, sockets) stays open in the long-lived monitor. */
        close_all_fds_except(3, keep, ELEMENTSOF(keep));
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
                signal(ignored[i], SIG_IGN);
        /* chdir: a long-lived process must not keep the caller's directory (a mount point) busy. */
        if (setsid() < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 || chdir("/") < 0 ||
            setup_stdio(a->cdir_fd) < 0) {
                (void)loop_write(report_fd, "Fsetting up the monitor failed", 30);
                _exit(1);
        }
        /* So that tests (and people) can see it go. */
        n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        (void)write_file_atomic_at(a->cdir_fd, MONITOR_SELF_PID_FILE, pid, (size_t)n, 0644, 0);
        if (runtime_verb(a, "create", true) < 0) {
                report_failure(report_fd, "create", a->cdir_fd);
                (void)runtime_client_delete(a->runtime, a->id, true);
                _exit(1);
        }
        init = read_init_pid(a->cdir_fd);
        if (init < 0 || runtime_verb(a, "start", false) < 0) {
                report_failure(report_fd, "start", a->cdir_fd);
                (void)runtime_client_delete(a->runtime, a->id, true);
                /* The killed init is ours to reap. */
                while (waitpid(-1, NULL, 0) >= 0 || errno == EINTR)
                        ;
                _exit(1);
        }
        (void)loop_write(report_fd, (char[]){REPORT_STARTED}, 1);
        safe_close(report_fd);

        code = wait_init(a, init);
        if (!a->auto_remove)
                (void)container_exit_write(a->cdir_fd, code);
        if (runtime_client_delete(a->runtime, a->id, true) < 0)
                fprintf(stderr, "berth: monitor %s: deleting the runtime's state failed\n", a->id);
        r = (a->auto_remove ? container_rootfs_remove : container_rootfs_unmount)(a->storage, a->id, &err);
        if (r < 0)
                fprintf(stderr, "berth: monitor %s: %s\n", a->id, error_message(&err, r));
        _exit(0);
}

int container_monitor_start(const MonitorArgs *a, BerthError *err)
{
        char buf[1100];
        int p[2], status;
        ssize_t n;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return error_set(err, negative_errno(), "pipe");
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return error_set(err, negative_errno(), "fork the monitor");
        }
        if (pid == 0) {
                safe_close(p[0]);
                monitor_main(a, p[1]);
        }
        safe_close(p[1]);
        n = loop_read(p[0], buf, sizeof(buf) - 1);
        safe_close(p[0]);
        if (n >= 1 && buf[0] == REPORT_STARTED)
                return 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (n <= 1)
                return error_setx(err, -EIO, "the container's monitor exited without a report");
        buf[n] = '\0';
        return error_setx(err, -EIO, "%s", buf + 1);
}
