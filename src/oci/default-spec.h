/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The safe default config.json that `berth-runtime spec` writes (runc's defaults): three
 * capabilities, no new privileges, masked and read-only /proc and /sys paths, the standard
 * /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and cgroup mounts, a deny-all device
 * rule (rootful) or a one-id user namespace (rootless). `berth run` builds on the same
 * document (src/image/bundle.c), so both stay in step.
 */

#include <stdbool.h>

/**
 * oci_default_spec_render() - the default config.json as text (pretty-printed, trailing
 * newline). @rootless adds a user namespace mapping the caller's euid/egid to 0 and drops the
 * device cgroup rule. The caller frees the result; NULL on out of memory.
 */
char *oci_default_spec_render(bool rootless);
