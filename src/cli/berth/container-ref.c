/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding a container of the store by id, and waiting for whoever looks after it. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-meta.h"
#include "containers.h"

void container_ref_done(ContainerRef *c)
{
        free(c->storage);
        free(c->cdir);
        safe_close(c->cdir_fd);
        runtime_client_done(&c->runtime);
        *c = (ContainerRef){.cdir_fd = -EBADF};
}

/* The names `berth run --name` accepts; anything else (a '/', "..") is no container. */
static bool id_ok(const char *id)
{
        size_t len = strlen(id);

        return len > 0 && len <= 128 && id[0] != '.' && id[0] != '-' && id[0] != '_' &&
               strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

int container_ref_open(const char *storage, const char *id, ContainerRef *ret)
{
        _cleanup_(container_ref_done) ContainerRef c = {.id = id, .cdir_fd = -EBADF};
        struct stat st;
        int r;

        if (!id_ok(id))
                return -ENOENT;
        c.storage = realpath(storage, NULL);
        if (!c.storage)
                return -errno;
        if (asprintf(&c.cdir, "%s/containers/%s", c.storage, id) < 0) {
                c.cdir = NULL;
                return -ENOMEM;
        }
        c.cdir_fd = open(c.cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c.cdir_fd < 0)
                return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
        /* A directory without container.json is not (or not yet) a container. */
        if (fstatat(c.cdir_fd, CONTAINER_META_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -ENOENT;
        r = runtime_client_init(&c.runtime, c.storage);
        if (r < 0)
                return r;
        *ret = c;
        c = (ContainerRef){.cdir_fd = -EBADF};
        return 0;
}

int container_ref_wait_idle(ContainerRef *c, int timeout_msec, bool keep_locked)
{
        int r = container_dir_lock(c->cdir_fd, LOCK_EX, timeout_msec);

        if (r >= 0 && !keep_locked)
                (void)flock(c->cdir_fd, LOCK_UN);
        return r;
}

bool container_ref_gone(const ContainerRef *c)
{
        struct stat st;

        return fstat(c->cdir_fd, &st) < 0 || st.st_nlink == 0;
}

int cli_container_fail(const char *verb, const char *id, int code, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "berth: %s %s: ", verb, id);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}
