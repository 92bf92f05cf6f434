/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What create hands to its child (same memory after fork: no serialisation needed). */

#include "container.h"

struct InitArgs {
        const OciConfig *config;
        const char *rootfs;
        int sync_fd;                /* child's end of the socketpair */
        int fifo_fd;                /* exec.fifo opened O_RDWR: the init blocks reading it */
        int ns_fds[_NAMESPACE_MAX]; /* namespaces to join, -EBADF where none */
        int new_ns_flags;           /* CLONE_NEW* to create */
        bool wait_for_cgroup;       /* stage 1 waits for SYNC_GO: the runtime moves it into the cgroup */
        bool run_hooks_in_runtime;  /* prestart/createRuntime exist: ask the runtime */
        bool need_state_json;       /* in-container hooks exist: the runtime sends the state */
        bool no_pivot;
        bool no_new_keyring;
        unsigned preserve_fds;
        const SeccompPlan *seccomp; /* NULL: no filter */
};
