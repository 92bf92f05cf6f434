/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The monitor of a detached container (`berth run -d`): a process of its own (new session,
 * child subreaper, stdin /dev/null, stdout and stderr appended to containers/<id>/ctr.log) that
 * runs `berth-runtime create` and `start`, reports the outcome to `berth run` through a pipe,
 * then waits for the container's init (reparented to it), records its exit status in exit.json,
 * deletes the runtime's state and unmounts the rootfs (or, with --rm, removes the container).
 * It holds the container directory's lock (container-meta.h) from start to finish.
 */

#include <stdbool.h>

#include "basic/error.h"
#include "runtime-client.h"

typedef struct MonitorArgs {
        const RuntimeClient *runtime;
        const char *storage; /* absolute */
        const char *id;
        const char *cdir; /* containers/<id>, absolute: the bundle */
        int cdir_fd;      /* that directory; its lock (LOCK_EX, held by the caller) passes to the monitor */
        bool auto_remove;
} MonitorArgs;

/**
 * container_monitor_start() - fork the monitor and wait until the container runs. Returns 0 then
 * (the monitor goes on alone; the caller may exit). Otherwise -errno with a one-line message in
 * @err, after the monitor has exited and the runtime holds no state for the container; the
 * rootfs and directory are left to the caller to remove.
 */
int container_monitor_start(const MonitorArgs *a, BerthError *err);
