/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The verbs for containers started by `berth run` (with or without -d): ps, stop, rm, exec,
 * logs. Each sees argv starting at its own name and returns the exit status. Errors are one
 * line on stderr, "berth: VERB ID: cause"; an unknown id is "no such container".
 */

#include "runtime-client.h"

/** berth_ps() - `berth ps [-a] [-q] [--storage DIR]`: running containers (all with -a), newest first. */
int berth_ps(int argc, char **argv);

/**
 * berth_stop() - `berth stop [-t SECS] [--storage DIR] ID...`: the image's StopSignal (SIGTERM
 * when it has none), SIGKILL after SECS (default 10), then wait until it is cleaned up.
 */
int berth_stop(int argc, char **argv);

/** berth_rm() - `berth rm [-f] [--storage DIR] ID...`: remove stopped containers (-f: kill first). */
int berth_rm(int argc, char **argv);

/**
 * berth_exec() - `berth exec [-d] [-t] [-i] [-e K=V] [-u USER] [-w DIR] [--storage DIR] ID CMD...`:
 * run CMD in a running container with berth-runtime exec; its exit status is berth's (125 when
 * berth exec itself fails).
 */
int berth_exec(int argc, char **argv);

/** berth_logs() - `berth logs [-f] [--tail N] [--storage DIR] ID`: the output of a -d container. */
int berth_logs(int argc, char **argv);

/* A container of the store, found by id. */
typedef struct ContainerRef {
        const char *id;
        char *storage; /* absolute */
        char *cdir;    /* <storage>/containers/<id> */
        int cdir_fd;
        RuntimeClient runtime;
} ContainerRef;

void container_ref_done(ContainerRef *c);

/**
 * container_ref_open() - find container @id under the store @storage. Returns 0, -ENOENT when
 * there is no such container (or @id is not a container name), or -errno.
 */
int container_ref_open(const char *storage, const char *id, ContainerRef *ret);

/**
 * container_ref_wait_idle() - wait at most @timeout_msec until nobody looks after the container
 * any more (its `berth run` or monitor has recorded the exit and unmounted the rootfs): the
 * directory lock is free. With @keep_locked the lock stays taken (LOCK_EX) by @c's fd.
 * Returns 0 or -EWOULDBLOCK.
 */
int container_ref_wait_idle(ContainerRef *c, int timeout_msec, bool keep_locked);

/** container_ref_gone() - whether the directory @c opened has been removed meanwhile (--rm). */
bool container_ref_gone(const ContainerRef *c);

/** cli_container_fail() - "berth: VERB ID: MESSAGE" on stderr. Returns @code. */
int cli_container_fail(const char *verb, const char *id, int code, const char *fmt, ...) _printf_(4, 5);
