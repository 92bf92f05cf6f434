/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "macro.h"
#include "socket-util.h"

int socket_connect_unix(const char *path, int *ret_fd)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int s = -EBADF;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return negative_errno();
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(s);
        return 0;
}

ssize_t socket_send_with_fd(int sock, const struct iovec *iov, size_t n_iov, int fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control = {0};
        struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n_iov};

        if (fd >= 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        for (;;) {
                ssize_t k = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (k >= 0)
                        return k;
                if (errno != EINTR)
                        return negative_errno();
        }
}

int socket_send_all_with_fd(int sock, const void *data, size_t len, int fd)
{
        const char *p = data;
        size_t done = 0;

        do {
                struct iovec iov = {.iov_base = (void *)(p + done), .iov_len = len - done};
                ssize_t k = socket_send_with_fd(sock, &iov, 1, done == 0 ? fd : -EBADF);
                if (k < 0)
                        return (int)k;
                done += (size_t)k;
        } while (done < len);
        return 0;
}
