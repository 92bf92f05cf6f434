/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Waiting for a container process in the foreground (`run`, `exec`): signals are
 * forwarded to it, orphans reparented to us are reaped, a pty is copied to our terminal. */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "verbs.h"

/* Copies between our terminal and the container's pty while `run` waits. */
typedef struct TermProxy {
        int master;
        bool raw;
        struct termios saved;
} TermProxy;

static void term_proxy_begin(TermProxy *t)
{
        struct termios raw;
        if (t->master < 0 || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) < 0)
                return;
        raw = t->saved;
        cfmakeraw(&raw);
        t->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

static void term_proxy_end(TermProxy *t)
{
        if (t->raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
}

static bool copy_once(int from, int to)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0)
                return false;
        for (ssize_t off = 0; off < n;) {
                ssize_t k = write(to, buf + off, (size_t)(n - off));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return false;
                }
                off += k;
        }
        return true;
}

static int exit_code_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 1;
}

int forwarding_signalfd(void)
{
        sigset_t all;

        sigfillset(&all);
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGILL);
        sigdelset(&all, SIGFPE);
        sigprocmask(SIG_BLOCK, &all, NULL);
        return signalfd(-1, &all, SFD_CLOEXEC);
}

int wait_child_forwarding(pid_t child, int sfd, int master, int *ret_status)
{
        TermProxy t = {.master = master};
        bool stdin_open = true;
        int code = -1;

        term_proxy_begin(&t);
        while (code < 0) {
                struct pollfd p[3] = {
                        {.fd = sfd, .events = POLLIN},
                        {.fd = t.master, .events = POLLIN},
                        {.fd = stdin_open && t.master >= 0 ? STDIN_FILENO : -1, .events = POLLIN},
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents & (POLLIN | POLLHUP)) {
                        if (!copy_once(t.master, STDOUT_FILENO) && !(p[1].revents & POLLIN))
                                t.master = -1; /* hung up: keep waiting for the exit status */
                }
                if (p[2].revents & (POLLIN | POLLHUP))
                        stdin_open = copy_once(STDIN_FILENO, t.master);
                if (!(p[0].revents & POLLIN))
                        continue;
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof(si)) != sizeof(si))
                        continue;
                if (si.ssi_signo != SIGCHLD) {
                        kill(child,
                             (int)si.ssi_signo); /* our child: its pid cannot be reused before we reap it */
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t pid = waitpid(-1, &status, WNOHANG);
                        if (pid <= 0)
                                break;
                        if (pid == child) {
                                code = exit_code_of(status);
                                if (ret_status)
                                        *ret_status = status;
                        }
                }
        }
        /* Drain what the container printed last. */
        while (t.master >= 0) {
                struct pollfd p = {.fd = t.master, .events = POLLIN};
                if (poll(&p, 1, 0) <= 0 || !copy_once(t.master, STDOUT_FILENO))
                        break;
        }
        term_proxy_end(&t);
        return code < 0 ? 1 : code;
}
