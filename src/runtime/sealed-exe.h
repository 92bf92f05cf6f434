/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * CVE-2019-5736: a process that enters a container's namespaces while it still runs the
 * runtime's binary can be reached by the container through /proc/PID/exe, and the binary on
 * the host overwritten through it. The defence (runc's and crun's): enter containers only
 * from a sealed in-memory copy of the binary, never from the file on disk.
 */

#include <stdbool.h>

/** sealed_exe_active() - whether this process runs from the sealed copy. */
bool sealed_exe_active(void);

/**
 * sealed_exe_reexec() - copy /proc/self/exe into a sealed memfd and execute it with the same
 * arguments and environment. Returns only on failure (-errno), or 0 at once when this process
 * already runs from the sealed copy. Call it before anything has side effects.
 */
int sealed_exe_reexec(char **argv);
