/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The container's filesystem view, built inside its new mount namespace:
 *   rootfs_prepare()  propagation, the rootfs bind, every config mount, devices
 *   rootfs_pivot()    pivot_root (or MS_MOVE + chroot with --no-pivot)
 *   rootfs_finalize() sysctl, masked and read-only paths, a read-only root
 * Every mount target is resolved inside the rootfs with chase_in_root() and
 * mounted through /proc/self/fd/N, so a symlink planted in the rootfs can never
 * redirect a mount onto the host.
 */

#include <stdbool.h>

#include "basic/error.h"
#include "oci/config.h"

typedef struct RootfsContext {
        const OciConfig *config;
        const char *rootfs; /* absolute host path */
        bool userns;        /* in a new user namespace: no mknod, bind host devices instead */
        bool no_pivot;
} RootfsContext;

int rootfs_prepare(const RootfsContext *ctx, BerthError *err);
int rootfs_pivot(const RootfsContext *ctx, BerthError *err);
/** rootfs_bind_console() - bind the pty slave onto /dev/console (after pivot). */
int rootfs_bind_console(int slave, BerthError *err);
int rootfs_finalize(const RootfsContext *ctx, BerthError *err);

/** devices_setup() - default devices (null, zero, full, random, urandom, tty) and linux.devices. */
int devices_setup(int root_fd, const OciConfig *c, bool userns, BerthError *err);
