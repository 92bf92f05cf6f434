/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The runtime and the container's setup processes talk over a SOCK_SEQPACKET
 * socketpair: one message per datagram, a fixed header, an optional payload and
 * an optional fd (SCM_RIGHTS). EOF means the other side died.
 */

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

typedef enum SyncType {
        SYNC_USERNS_READY = 1, /* child -> runtime: write my uid/gid maps */
        SYNC_USERNS_MAPPED,    /* runtime -> child */
        SYNC_INIT_PID,         /* child -> runtime: value = the init's pid (runtime's pid namespace) */
        SYNC_RUN_HOOKS,        /* init -> runtime: run prestart + createRuntime hooks now */
        SYNC_HOOKS_DONE,       /* runtime -> init: payload = state JSON for in-container hooks */
        SYNC_CONSOLE,          /* init -> runtime: fd = pty master */
        SYNC_READY,            /* init -> runtime: set up, waiting for start */
        SYNC_ACK,              /* runtime -> init: state is written, you are on your own */
        SYNC_ERROR,            /* child -> runtime: payload = message; value = -errno */
        SYNC_EXEC_FAILED,      /* exec child -> runtime: payload = message */
        SYNC_GO,               /* runtime -> stage 1: you are in the container's cgroup, go on */
        SYNC_SECCOMP_FD,       /* child -> runtime: fd = seccomp listener, for linux.seccomp.listenerPath */
} SyncType;

#define SYNC_PAYLOAD_MAX (64 * 1024)

typedef struct SyncMsg {
        SyncType type;
        int64_t value;
        int fd; /* -EBADF when none */
        size_t len;
        char payload[SYNC_PAYLOAD_MAX + 1]; /* NUL-terminated */
} SyncMsg;

/** sync_send() - send a message; @payload may be NULL; @fd < 0 for none. */
int sync_send(int sock, SyncType type, int64_t value, const char *payload, int fd);

/** sync_recv() - receive one message; -ECONNRESET on EOF. The fd, if any, is O_CLOEXEC. */
int sync_recv(int sock, SyncMsg *ret);

/** sync_expect() - receive and require @type; a SYNC_ERROR from the peer becomes @err. */
int sync_expect(int sock, SyncType type, SyncMsg *ret, BerthError *err);

/** sync_send_error() - report a BerthError to the runtime (child side). */
void sync_send_error(int sock, const BerthError *err, int code);
