/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Terminals: the container's process gets a new pty from the container's own
 * devpts instance; the master goes to the client through --console-socket as
 * runc does (SCM_RIGHTS), or to `run`, which copies it to its own terminal.
 */

#include "basic/error.h"

/**
 * console_create() - open a pty pair from "/dev/pts/ptmx" (inside the container,
 * after pivot_root). Sets the window size when @rows/@cols are non-zero.
 */
int console_create(unsigned rows, unsigned cols, int *ret_master, int *ret_slave, BerthError *err);

/** console_make_controlling() - setsid, TIOCSCTTY, and the slave on 0, 1 and 2. */
int console_make_controlling(int slave, BerthError *err);

/** console_send_to_socket() - connect to the unix socket @path and send @master. */
int console_send_to_socket(const char *path, int master, BerthError *err);
