/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Container state under --root: one directory per container holding
 *   state.json   what `state` prints plus what later commands need (atomic writes)
 *   config.json  the validated config the container was created from
 *   exec.fifo    exists from create until start; the init blocks reading it
 * Commands that change a container hold flock(LOCK_EX) on the directory; `state`
 * and `list` take LOCK_SH, so concurrent commands on one container are safe.
 * The status is derived, never stored: a live init with exec.fifo is "created",
 * without it "running"; a dead or zombie init is "stopped"; no state.json yet is
 * "creating".
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

#define CONTAINER_ID_MAX 1024
#define STATE_FILE       "state.json"
#define CONFIG_FILE      "config.json"
#define EXEC_FIFO        "exec.fifo"

typedef enum ContainerStatus {
        CONTAINER_CREATING,
        CONTAINER_CREATED,
        CONTAINER_RUNNING,
        CONTAINER_PAUSED,
        CONTAINER_STOPPED,
        _CONTAINER_STATUS_MAX,
        _CONTAINER_STATUS_INVALID = -EINVAL,
} ContainerStatus;

const char *container_status_to_string(ContainerStatus s);

typedef struct ContainerState {
        char *id;
        pid_t pid;
        uint64_t pid_start_time; /* /proc/PID/stat field 22: guards against pid reuse */
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 */
        uid_t owner;
        char *cgroup_path;      /* may be NULL */
        char *annotations_json; /* the config's annotations object as JSON text, or NULL */
        ContainerStatus status; /* derived on load */
        /* How it ended, where known (`run` reaps its init and records it): */
        int exit_code;   /* -1 when unknown */
        int exit_signal; /* 0 when not killed by a signal */
        bool oom_killed; /* the cgroup's OOM kill counter is non-zero */
} ContainerState;

ContainerState *container_state_free(ContainerState *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ContainerState *, container_state_free)

/** container_id_validate() - letters, digits, '_', '-', '.', '+' and ':'; not "." or ".."; bounded. */
int container_id_validate(const char *id, BerthError *err);

/** state_root_open() - open (creating with 0700) the --root directory. */
int state_root_open(const char *root, int *ret_fd, BerthError *err);

/**
 * state_dir_create() - make the container's directory, atomically claiming the id.
 * Fails with -EEXIST and "container \"ID\" already exists". Returns a locked dir fd.
 */
int state_dir_create(int root_fd, const char *id, int *ret_fd, BerthError *err);

/**
 * state_dir_open() - open and flock an existing container's directory (LOCK_EX or LOCK_SH).
 * Fails with -ENOENT and "container \"ID\" does not exist".
 */
int state_dir_open(int root_fd, const char *id, int lock_op, int *ret_fd, BerthError *err);

/** state_dir_remove() - remove the container's directory (caller holds its lock). */
int state_dir_remove(int root_fd, const char *id);

/** container_state_write() - write state.json atomically. */
int container_state_write(int dir_fd, const ContainerState *s);

/** container_state_load() - read state.json and derive the status. -ENOENT: still creating. */
int container_state_load(int dir_fd, const char *id, ContainerState **ret, BerthError *err);

/** container_state_set_exit() - record a reaped init's wait status in state.json. */
int container_state_set_exit(int dir_fd, ContainerState *s, int wait_status);

/** container_state_to_json() - the OCI state document (`state` output, hooks' stdin); a stopped
 * container also shows "exitCode"/"signal" where known and "oomKilled". */
char *container_state_to_json(const ContainerState *s, bool pretty);

/** container_status_refresh() - re-derive s->status from the process and the fifo. */
void container_status_refresh(int dir_fd, ContainerState *s);

/** pid_file_write() - write @pid to @path atomically (--pid-file of create, run and exec). */
int pid_file_write(const char *path, pid_t pid, BerthError *err);

/** proc_start_time() - start time of @pid in clock ticks, 0 if it does not exist. Sets *ret_zombie. */
uint64_t proc_start_time(pid_t pid, bool *ret_zombie);
