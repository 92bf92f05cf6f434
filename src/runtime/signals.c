/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "signals.h"

static const struct {
        const char *name;
        int sig;
} signal_table[] = {
        {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},     {"SIGILL", SIGILL},
        {"SIGTRAP", SIGTRAP},     {"SIGABRT", SIGABRT}, {"SIGIOT", SIGIOT},       {"SIGBUS", SIGBUS},
        {"SIGFPE", SIGFPE},       {"SIGKILL", SIGKILL}, {"SIGUSR1", SIGUSR1},     {"SIGSEGV", SIGSEGV},
        {"SIGUSR2", SIGUSR2},     {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM},     {"SIGTERM", SIGTERM},
        {"SIGSTKFLT", SIGSTKFLT}, {"SIGCHLD", SIGCHLD}, {"SIGCONT", SIGCONT},     {"SIGSTOP", SIGSTOP},
        {"SIGTSTP", SIGTSTP},     {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},
        {"SIGXCPU", SIGXCPU},     {"SIGXFSZ", SIGXFSZ}, {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF},
        {"SIGWINCH", SIGWINCH},   {"SIGIO", SIGIO},     {"SIGPOLL", SIGPOLL},     {"SIGPWR", SIGPWR},
        {"SIGSYS", SIGSYS},
};

static int parse_uint(const char *s, long max)
{
        char *end;
        if (!*s)
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || v < 0 || v > max)
                return -EINVAL;
        return (int)v;
}

int signal_from_string(const char *s)
{
        const char *name = s;
        char buf[32];

        if (*s >= '0' && *s <= '9') {
                int v = parse_uint(s, SIGRTMAX);
                return v > 0 ? v : -EINVAL;
        }
        if (strncasecmp(s, "SIG", 3) != 0) {
                if (snprintf(buf, sizeof(buf), "SIG%s", s) >= (int)sizeof(buf))
                        return -EINVAL;
                name = buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (strcasecmp(signal_table[i].name, name) == 0)
                        return signal_table[i].sig;
        if (strncasecmp(name, "SIGRTMIN", 8) == 0) {
                int off = name[8] == '\0' ? 0 : name[8] == '+' ? parse_uint(name + 9, SIGRTMAX) : -EINVAL;
                if (off < 0 || SIGRTMIN + off > SIGRTMAX)
                        return -EINVAL;
                return SIGRTMIN + off;
        }
        if (strncasecmp(name, "SIGRTMAX", 8) == 0) {
                int off = name[8] == '\0' ? 0 : name[8] == '-' ? parse_uint(name + 9, SIGRTMAX) : -EINVAL;
                if (off < 0 || SIGRTMAX - off < SIGRTMIN)
                        return -EINVAL;
                return SIGRTMAX - off;
        }
        return -EINVAL;
}

const char *signal_to_string(int sig)
{
        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (signal_table[i].sig == sig)
                        return signal_table[i].name;
        return NULL;
}
