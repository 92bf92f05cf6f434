/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "basic/socket-util.h"
#include "sync.h"

typedef struct SyncHeader {
        int32_t type;
        int32_t pad;
        int64_t value;
} SyncHeader;

int sync_send(int sock, SyncType type, int64_t value, const char *payload, int fd)
{
        SyncHeader h = {.type = (int32_t)type, .value = value};
        struct iovec iov[2] = {
                {.iov_base = &h, .iov_len = sizeof(h)},
                {.iov_base = (void *)(payload ? payload : ""),
                 .iov_len = payload ? strnlen(payload, SYNC_PAYLOAD_MAX) : 0},
        };
        ssize_t k = socket_send_with_fd(sock, iov, 2, fd);
        return k < 0 ? (int)k : 0;
}

int sync_recv(int sock, SyncMsg *ret)
{
        SyncHeader h;
        struct iovec iov[2] = {
                {.iov_base = &h, .iov_len = sizeof(h)},
                {.iov_base = ret->payload, .iov_len = SYNC_PAYLOAD_MAX},
        };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct msghdr mh = {.msg_iov = iov,
                            .msg_iovlen = 2,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof(control.buf)};
        ssize_t n;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if (n == 0)
                return -ECONNRESET;
        if ((size_t)n < sizeof(h))
                return -EBADMSG;
        ret->type = (SyncType)h.type;
        ret->value = h.value;
        ret->len = (size_t)n - sizeof(h);
        ret->payload[ret->len] = '\0';
        ret->fd = -EBADF;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&ret->fd, CMSG_DATA(c), sizeof(int));
        return 0;
}

int sync_expect(int sock, SyncType type, SyncMsg *ret, BerthError *err)
{
        int r = sync_recv(sock, ret);
        if (r == -ECONNRESET)
                return error_setx(err, r, "container setup process exited unexpectedly");
        if (r < 0)
                return error_set(err, r, "read from container setup process");
        if (ret->type == SYNC_ERROR)
                return error_setx(err, ret->value < 0 ? (int)ret->value : -EIO, "%s", ret->payload);
        if (ret->type != type) {
                safe_close(ret->fd);
                return error_setx(err, -EPROTO, "unexpected message %d from container setup (wanted %d)",
                                  (int)ret->type, (int)type);
        }
        return 0;
}

void sync_send_error(int sock, const BerthError *err, int code)
{
        (void)sync_send(sock, SYNC_ERROR, code, error_message(err, code), -EBADF);
}
