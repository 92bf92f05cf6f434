/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* berth-runtime's verbs: each parses its own flags (runc's names) and reports its own errors. */

#include <stdbool.h>
#include <sys/types.h>

typedef struct GlobalOptions {
        const char *root;
        bool debug;
        int cgroup_manager; /* CgroupManager */
        char **argv;        /* as the runtime was started, for sealed_exe_reexec() */
        bool rootless;
} GlobalOptions;

typedef int (*VerbFunc)(int argc, char **argv, const GlobalOptions *g);

int verb_create(int argc, char **argv, const GlobalOptions *g);
int verb_run(int argc, char **argv, const GlobalOptions *g);
int verb_start(int argc, char **argv, const GlobalOptions *g);
int verb_state(int argc, char **argv, const GlobalOptions *g);
int verb_kill(int argc, char **argv, const GlobalOptions *g);
int verb_delete(int argc, char **argv, const GlobalOptions *g);
int verb_list(int argc, char **argv, const GlobalOptions *g);
int verb_exec(int argc, char **argv, const GlobalOptions *g);
int verb_ps(int argc, char **argv, const GlobalOptions *g);
int verb_pause(int argc, char **argv, const GlobalOptions *g);
int verb_resume(int argc, char **argv, const GlobalOptions *g);
int verb_update(int argc, char **argv, const GlobalOptions *g);
int verb_events(int argc, char **argv, const GlobalOptions *g);
int verb_spec(int argc, char **argv, const GlobalOptions *g);
int verb_features(int argc, char **argv, const GlobalOptions *g);

/** verb_fail() - report "<verb> <id>: <message>" once and return the exit status 1. */
int verb_fail(const char *verb, const char *id, const char *msg);

/** verb_usage_error() - "<verb>: <message>" plus a hint to --help; exit status 2... runc uses 1. */
int verb_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** forwarding_signalfd() - block all catchable signals and return a signalfd for them. */
int forwarding_signalfd(void);

/**
 * wait_child_forwarding() - wait for @child (our child), forwarding signals from @sfd,
 * reaping other children, copying @master (a pty, or -1) to stdout and stdin to it.
 * Returns the exit code: the status, or 128+N when killed by signal N; the raw wait status
 * goes to @ret_status (may be NULL).
 */
int wait_child_forwarding(pid_t child, int sfd, int master, int *ret_status);

/** open_root() - open --root, reporting errors; returns fd or -1. */
int open_root(const GlobalOptions *g, const char *verb, const char *id);
