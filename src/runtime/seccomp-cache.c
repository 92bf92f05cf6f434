/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cache of compiled seccomp programs (see seccomp-cache.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "seccomp-cache.h"

#define CACHE_FILE_MAX ((size_t)BPF_MAXINSNS * sizeof(struct sock_filter) + (1U << 20))

static int cache_dir_open(int root_fd, bool create)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (root_fd < 0)
                return -EBADF;
        if (create && mkdirat(root_fd, SECCOMP_CACHE_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(root_fd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* Whoever could write here could choose the filter of our containers. */
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        return TAKE_FD(fd);
}

/* FNV-1a, 64 bits: a file name, not a check (the key in the file is compared whole). */
static void cache_name(const char *key, char buf[static 17])
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (const unsigned char *p = (const unsigned char *)key; *p; p++)
                h = (h ^ *p) * 0x100000001b3ULL;
        snprintf(buf, 17, "%016" PRIx64, h);
}

int seccomp_cache_get(int root_fd, const char *key, struct sock_filter **ret, size_t *ret_n)
{
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_free_ char *data = NULL;
        size_t len, key_len = strlen(key) + 1, prog_len;
        char name[17];

        dfd = cache_dir_open(root_fd, false);
        if (dfd < 0)
                return 0;
        cache_name(key, name);
        if (read_full_file_at(dfd, name, CACHE_FILE_MAX, &data, &len) < 0)
                return 0;
        if (len <= key_len || memcmp(data, key, key_len) != 0)
                return 0;
        prog_len = len - key_len;
        if (prog_len % sizeof(struct sock_filter) != 0 ||
            prog_len / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return 0;
        *ret = malloc(prog_len);
        if (!*ret)
                return 0;
        memcpy(*ret, data + key_len, prog_len);
        *ret_n = prog_len / sizeof(struct sock_filter);
        return 1;
}

static size_t cache_entries(int dfd)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        size_t n = 0;

        if (!d) {
                safe_close(fd);
                return SIZE_MAX;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

void seccomp_cache_put(int root_fd, const char *key, const struct sock_filter *prog, size_t n)
{
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_free_ char *data = NULL;
        size_t key_len = strlen(key) + 1, prog_len = n * sizeof(struct sock_filter);
        char name[17];
        int r;

        dfd = cache_dir_open(root_fd, true);
        if (dfd < 0) {
                log_debug("seccomp cache: %s: %s", SECCOMP_CACHE_DIR, strerror(-dfd));
                return;
        }
        if (cache_entries(dfd) >= SECCOMP_CACHE_MAX_ENTRIES)
                return;
        data = malloc(key_len + prog_len);
        if (!data)
                return;
        memcpy(data, key, key_len);
        memcpy(data + key_len, prog, prog_len);
        cache_name(key, name);
        r = write_file_atomic_at(dfd, name, data, key_len + prog_len, 0600, 0);
        if (r < 0)
                log_debug("seccomp cache: write %s: %s", name, strerror(-r));
}
