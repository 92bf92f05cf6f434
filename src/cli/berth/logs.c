/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth logs: the output of a container (detached, or in the foreground without -t), from its ctr.log. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "container-meta.h"
#include "containers.h"
#include "image/store.h"

#define LOGS_POLL_MSEC 100

enum {
        OPT_STORAGE = 0x100,
        OPT_TAIL,
};

static void logs_usage(FILE *f)
{
        fprintf(f, "Usage: berth logs [-f] [--tail N] [--storage DIR] ID\n\n"
                   "Print the output (stdout and stderr) of a container started with 'berth run -d'.\n\n"
                   "  -f, --follow        keep printing new output until the container has exited\n"
                   "  -n, --tail N        only the last N lines (\"all\": everything)\n"
                   "      --storage DIR   the store (default " STORE_DEFAULT_ROOT ")\n"
                   "  -h, --help          this text\n");
}

static int parse_tail(const char *s, long long *ret)
{
        char *end;
        long long v;

        if (streq(s, "all")) {
                *ret = -1;
                return 0;
        }
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* The offset where the last @lines lines of @fd start (a last line without '\n' counts). */
static int tail_offset(int fd, long long lines, off_t *ret)
{
        char buf[65536];
        struct stat st;
        off_t pos, end;
        long long seen = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        end = pos = st.st_size;
        if (lines == 0) {
                *ret = end;
                return 0;
        }
        while (pos > 0) {
                size_t n = pos < (off_t)sizeof(buf) ? (size_t)pos : sizeof(buf);
                ssize_t k = pread(fd, buf, n, pos - (off_t)n);
                if (k != (ssize_t)n)
                        return k < 0 ? -errno : -EIO;
                pos -= (off_t)n;
                for (size_t i = n; i > 0; i--) {
                        off_t at = pos + (off_t)(i - 1);
                        /* The newline that ends the file ends the last line; it starts none. */
                        if (buf[i - 1] == '\n' && at != end - 1 && ++seen == lines) {
                                *ret = at + 1;
                                return 0;
                        }
                }
        }
        *ret = 0;
        return 0;
}

/* Copies @fd from its offset to the end onto stdout. */
static int copy_new(int fd)
{
        char buf[65536];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return fflush(stdout) == 0 ? 0 : -EIO;
                if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
                        return -EIO;
        }
}

/* Follows the log until nobody looks after the container (its monitor has exited). */
static int follow(ContainerRef *c, int fd)
{
        for (;;) {
                int r = copy_new(fd);
                if (r < 0)
                        return r;
                if (flock(c->cdir_fd, LOCK_SH | LOCK_NB) >= 0) {
                        (void)flock(c->cdir_fd, LOCK_UN);
                        return copy_new(fd); /* what it wrote last */
                }
                (void)nanosleep(&(struct timespec){.tv_nsec = LOGS_POLL_MSEC * 1000 * 1000}, NULL);
        }
}

static int logs_show(const char *storage, const char *id, bool follow_flag, long long tail)
{
        _cleanup_(container_ref_done) ContainerRef c = {.cdir_fd = -EBADF};
        _cleanup_close_ int fd = -EBADF;
        off_t start = 0;
        int r;

        r = container_ref_open(storage, id, &c);
        if (r == -ENOENT)
                return cli_container_fail("logs", id, 1, "no such container");
        if (r < 0)
                return cli_container_fail("logs", id, 1, "%s", strerror(-r));
        fd = openat(c.cdir_fd, CONTAINER_LOG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return cli_container_fail("logs", id, 1,
                                          "no log: it ran in the foreground with a terminal (-t), its "
                                          "output went there");
        if (fd < 0)
                return cli_container_fail("logs", id, 1, "%s: %s", CONTAINER_LOG_FILE, strerror(errno));
        if (tail >= 0 && (r = tail_offset(fd, tail, &start)) < 0)
                return cli_container_fail("logs", id, 1, "%s: %s", CONTAINER_LOG_FILE, strerror(-r));
        if (lseek(fd, start, SEEK_SET) < 0)
                return cli_container_fail("logs", id, 1, "%s: %s", CONTAINER_LOG_FILE, strerror(errno));
        r = follow_flag ? follow(&c, fd) : copy_new(fd);
        if (r < 0)
                return cli_container_fail("logs", id, 1, "%s", strerror(-r));
        return 0;
}

int berth_logs(int argc, char **argv)
{
        static const struct option opts[] = {
                {"follow", no_argument, NULL, 'f'},
                {"tail", required_argument, NULL, 'n'},
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *storage = STORE_DEFAULT_ROOT;
        long long tail = -1;
        bool follow_flag = false;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+fn:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        follow_flag = true;
                        break;
                case 'n':
                        if (parse_tail(optarg, &tail) < 0) {
                                fprintf(stderr, "berth: logs: --tail \"%s\": expected a number or all\n",
                                        optarg);
                                return 1;
                        }
                        break;
                case OPT_STORAGE:
                        storage = optarg;
                        break;
                case 'h':
                        logs_usage(stdout);
                        return 0;
                default:
                        logs_usage(stderr);
                        return 1;
                }
        }
        if (argc - optind != 1) {
                fprintf(stderr, "berth: logs: expected one ID (see 'berth logs --help')\n");
                return 1;
        }
        return logs_show(storage, argv[optind], follow_flag, tail);
}
