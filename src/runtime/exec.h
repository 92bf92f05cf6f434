/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "container.h"

typedef struct ExecOptions {
        const char *console_socket;
        unsigned preserve_fds;
        bool foreground; /* keep a terminal's master for the caller instead of sending it */
} ExecOptions;

/**
 * container_exec() - start @p inside container @c (created or running): join its
 * namespaces through a pidfd of its init, then exec. Returns once the exec
 * succeeded, with the new process's pid (a child of the caller) in @ret_pid and,
 * for a foreground terminal, the pty master in @ret_master (else -EBADF).
 */
int container_exec(Container *c, const OciProcess *p, const ExecOptions *o, pid_t *ret_pid, int *ret_master,
                   BerthError *err);
