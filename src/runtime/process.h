/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The last steps before a container process becomes the user's program, shared by
 * the container's init and by `exec`: rlimits, oom_score_adj, groups/gid/uid with
 * the five capability sets, cwd, no_new_privs, umask, environment, and exec.
 */

#include <stdbool.h>

#include "basic/error.h"
#include "oci/config.h"
#include "seccomp.h"

/**
 * process_prepare_privileged() - steps that need the runtime's privileges and the
 * host's view (rlimits, oom_score_adj). Runs before the user switch.
 */
int process_prepare_privileged(const OciProcess *p, BerthError *err);

/** process_check_capabilities() - refuse capabilities the running kernel does not have. */
int process_check_capabilities(const OciCapabilities *c, BerthError *err);

/**
 * process_switch_user() - groups, gid and uid, keeping exactly the configured capabilities.
 */
int process_switch_user(const OciProcess *p, BerthError *err);

/**
 * process_find_executable() - resolve args[0] like execvp() would, with the process's PATH,
 * so a missing program is reported at create time, not as a silent exit 127.
 */
int process_find_executable(const OciProcess *p, char **ret_path, BerthError *err);

/**
 * process_exec() - close inherited fds (keeping 0-2, @preserve_fds more and @sync_fd), cwd (which
 * must lie inside the container's root), no_new_privs, umask, the seccomp filter @seccomp if not NULL
 * (SECCOMP_STAGE_BEFORE_EXEC; a listener fd goes to the runtime over @sync_fd), then execve(). Returns only
 * on failure.
 */
int process_exec(const OciProcess *p, const char *path, unsigned preserve_fds, const SeccompPlan *seccomp,
                 int sync_fd, BerthError *err);
