/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * berth's side of berth-runtime: the container verbs (ps, stop, rm, exec, logs, run -d) run the
 * runtime binary next to berth with "--root <storage>/runtime", as a user would, and read its
 * `state` JSON. Whether a container runs is the runtime's answer, never a guess from files.
 */

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "basic/macro.h"

typedef enum RuntimeStatus {
        RUNTIME_STATUS_NONE,     /* the runtime has no state for the id */
        RUNTIME_STATUS_CREATING, /* state directory without a state file yet (or unreadable) */
        RUNTIME_STATUS_CREATED,
        RUNTIME_STATUS_RUNNING,
        RUNTIME_STATUS_PAUSED,
        RUNTIME_STATUS_STOPPED,
        _RUNTIME_STATUS_MAX,
        _RUNTIME_STATUS_INVALID = -EINVAL,
} RuntimeStatus;

typedef struct RuntimeState {
        RuntimeStatus status;
        pid_t pid;      /* 0 unless created, running or paused */
        time_t created; /* 0 when unknown */
} RuntimeState;

typedef struct RuntimeClient {
        char *binary; /* berth-runtime */
        char *root;   /* its --root: <storage>/runtime */
} RuntimeClient;

/* The runtime's own messages, as JSON lines (--log FILE --log-format json), in the container's
 * directory: apart from the container's output, and readable after the runtime has exited. */
#define RUNTIME_LOG_FILE "runtime.log"

/**
 * runtime_log_last_error() - the message of the last "error" line of the runtime's JSON log
 * @path (relative to @dir_fd; the runtime logs errors only when it fails), or NULL when there is
 * none.
 */
char *runtime_log_last_error(int dir_fd, const char *path);

/**
 * runtime_error_exit_status() - what `berth run` exits with when the runtime failed with @msg,
 * as Docker and Podman do: 127 when the program was not found, 126 when it could not be
 * executed, 125 for any other failure of the runtime.
 */
int runtime_error_exit_status(const char *msg);

/**
 * runtime_client_foreground() - run @argv (the runtime, see runtime_client_argv()) with this
 * process's stdio and wait, forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT to it; its status the
 * shell way (128+N for signal N), or -errno when it could not be forked. With @stdin_null its
 * stdin is /dev/null (Docker's default without -i). With @log_fd >= 0 its stdout and stderr
 * are pipes that berth copies to its own and appends to @log_fd (the container's log, as
 * Docker keeps one for attached containers too).
 */
int runtime_client_foreground(char *const *argv, bool stdin_null, int log_fd);

/** runtime_client_init() - the runtime next to berth, with the state root of @storage_abs. */
int runtime_client_init(RuntimeClient *rc, const char *storage_abs);
void runtime_client_done(RuntimeClient *rc);

/**
 * runtime_client_argv() - a new NULL-terminated argv: the binary, "--root", the root, then @args
 * (NULL-terminated). The caller frees it with strv_free().
 */
char **runtime_client_argv(const RuntimeClient *rc, const char *const *args);

/**
 * runtime_client_call() - run the runtime with @args (NULL-terminated, after --root) and wait.
 * Its stdin is /dev/null; stdout goes to @stdout_fd and stderr to @stderr_fd, each -1 for
 * /dev/null. Returns its exit status (128+N after signal N) or -errno when it could not run.
 */
int runtime_client_call(const RuntimeClient *rc, const char *const *args, int stdout_fd, int stderr_fd);

/**
 * runtime_client_state() - `state ID` parsed. RUNTIME_STATUS_NONE when the runtime has no
 * directory for @id. Returns 0 or -errno (-EBADMSG for output that is not a state document).
 */
int runtime_client_state(const RuntimeClient *rc, const char *id, RuntimeState *ret);

/** runtime_client_kill() - `kill ID SIGNAL`; @quiet sends its error message to /dev/null. */
int runtime_client_kill(const RuntimeClient *rc, const char *id, const char *signal, bool quiet);

/** runtime_client_delete() - `delete [--force] ID`, its messages to /dev/null; 0 when it succeeded. */
int runtime_client_delete(const RuntimeClient *rc, const char *id, bool force);

/**
 * runtime_client_wait_stopped() - poll `state` until the container is stopped or gone, at most
 * @timeout_msec. Returns 0, or -ETIMEDOUT.
 */
int runtime_client_wait_stopped(const RuntimeClient *rc, const char *id, int timeout_msec);

/** runtime_status_is_alive() - created, running or paused: a process of the container exists. */
static inline bool runtime_status_is_alive(RuntimeStatus s)
{
        return s == RUNTIME_STATUS_CREATED || s == RUNTIME_STATUS_RUNNING || s == RUNTIME_STATUS_PAUSED;
}
