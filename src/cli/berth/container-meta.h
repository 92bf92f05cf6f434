/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What berth remembers about a container started by `berth run`, next to its rootfs:
 *
 *   containers/<id>/container.json  written before the container starts: image, command, ...
 *   containers/<id>/exit.json       written when it has exited: {"ExitCode": N, "FinishedAt": T}
 *   containers/<id>/ctr.log         stdout and stderr of the container (none with -t)
 *
 * Both JSON files are replaced atomically, so a reader sees all of one or nothing. The
 * directory itself is flock()ed (LOCK_EX) by whoever looks after the running container (the
 * foreground `berth run`, or the monitor of `berth run -d`) until the container has exited and
 * its rootfs is unmounted: a free lock means nobody will touch the container any more.
 */

#include <stdbool.h>
#include <time.h>

#include "basic/macro.h"

#define CONTAINER_META_FILE "container.json"
#define CONTAINER_EXIT_FILE "exit.json"
#define CONTAINER_LOG_FILE  "ctr.log"

typedef struct ContainerMeta {
        char *id;
        char *image;        /* as the user typed it */
        char *image_digest; /* the manifest's "sha256:..." */
        char **command;     /* process.args of the bundle */
        char *stop_signal;  /* the image's StopSignal; NULL: SIGTERM */
        time_t created;
        bool auto_remove; /* --rm */
        bool detached;    /* -d: output in ctr.log */
} ContainerMeta;

void container_meta_done(ContainerMeta *m);

/**
 * container_meta_from_bundle() - fill @m's command and stop_signal from the runtime config.json
 * text @config_json (process.args and the org.opencontainers.image.stopSignal annotation).
 * Returns 0, -EBADMSG for a document without process.args, or -ENOMEM.
 */
int container_meta_from_bundle(ContainerMeta *m, const char *config_json);

/** container_meta_write() - write @m as container.json in the directory @cdir_fd, atomically. */
int container_meta_write(int cdir_fd, const ContainerMeta *m);

/**
 * container_meta_read() - read container.json from @cdir_fd into *@ret (the caller calls
 * container_meta_done()). -ENOENT when there is none, -EBADMSG when it is not berth's.
 */
int container_meta_read(int cdir_fd, ContainerMeta *ret);

/** container_exit_write() - record the exit status @code (the shell's: 128+N for signal N) now. */
int container_exit_write(int cdir_fd, int code);

/** container_exit_read() - the recorded exit status and time; -ENOENT when it has not exited. */
int container_exit_read(int cdir_fd, int *ret_code, time_t *ret_finished);

/** rfc3339_parse() - seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.frac]Z"; -EINVAL otherwise. */
int rfc3339_parse(const char *s, time_t *ret);

/**
 * container_dir_lock() - flock(@cdir_fd, @how) (LOCK_EX or LOCK_SH), waiting at most @timeout_msec
 * (0: do not wait). Returns 0, -EWOULDBLOCK when the lock stayed held, or -errno.
 */
int container_dir_lock(int cdir_fd, int how, int timeout_msec);
