/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Unix sockets: connecting by path, and sending data with one fd attached (SCM_RIGHTS). */

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/** socket_connect_unix() - a SOCK_STREAM|SOCK_CLOEXEC socket connected to @path; -ENAMETOOLONG if it does
 * not fit. */
int socket_connect_unix(const char *path, int *ret_fd);

/**
 * socket_send_with_fd() - one sendmsg() of @iov with @fd attached when @fd >= 0 (MSG_NOSIGNAL,
 * retried on EINTR). Returns the bytes sent or -errno.
 */
ssize_t socket_send_with_fd(int sock, const struct iovec *iov, size_t n_iov, int fd);

/** socket_send_all_with_fd() - send all of @data, the fd with the first part only. */
int socket_send_all_with_fd(int sock, const void *data, size_t len, int fd);
