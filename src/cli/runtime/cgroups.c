/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The verbs that work on a container's cgroup: ps, pause, resume, update, events. */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strbuf.h"
#include "runtime/container.h"
#include "verbs.h"

static int parse_single_id(int argc, char **argv, const char *usage, const char **ret_id)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        int c;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: berth-runtime %s %s\n", argv[0], usage);
                        exit(0);
                }
                return verb_usage_error(argv[0], "unknown option \"%s\"", argv[optind - 1]);
        }
        if (optind != argc - 1)
                return verb_usage_error(argv[0], "exactly one container ID expected");
        *ret_id = argv[optind];
        return 0;
}

static int pause_or_resume(int argc, char **argv, const GlobalOptions *g, bool pause)
{
        _cleanup_close_ int root_fd = -EBADF;
        BerthError err = {0};
        const char *id = NULL;
        if (parse_single_id(argc, argv,
                            pause ? "ID\n\nFreeze every process of a container."
                                  : "ID\n\nThaw a paused container.",
                            &id))
                return 1;
        if ((root_fd = open_root(g, argv[0], id)) < 0)
                return 1;
        int r = container_pause(root_fd, id, pause, &err);
        return r < 0 ? verb_fail(argv[0], id, error_message(&err, r)) : 0;
}

int verb_pause(int argc, char **argv, const GlobalOptions *g)
{
        return pause_or_resume(argc, argv, g, true);
}

int verb_resume(int argc, char **argv, const GlobalOptions *g)
{
        return pause_or_resume(argc, argv, g, false);
}

static void print_cmdline(pid_t pid)
{
        char path[64], buf[4096];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (n <= 0) {
                putchar('\n');
                return;
        }
        for (ssize_t i = 0; i < n - 1; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        buf[n] = '\0';
        puts(buf);
}

int verb_ps(int argc, char **argv, const GlobalOptions *g)
{
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {}};
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_close_ int root_fd = -EBADF;
        _cleanup_free_ pid_t *pids = NULL;
        BerthError err = {0};
        bool json = false;
        size_t n;
        int ch, r;

        while ((ch = getopt_long(argc, argv, "+f:h", opts, NULL)) >= 0) {
                if (ch == 'f' && (streq(optarg, "json") || streq(optarg, "table")))
                        json = streq(optarg, "json");
                else if (ch == 'h') {
                        printf("Usage: berth-runtime ps [--format table|json] ID\n\n"
                               "List the processes in a container's cgroup.\n");
                        return 0;
                } else
                        return verb_usage_error("ps", "unknown or invalid option \"%s\"", argv[optind - 1]);
        }
        if (optind >= argc)
                return verb_usage_error("ps", "a container ID is required");
        const char *id = argv[optind];
        if ((root_fd = open_root(g, "ps", id)) < 0)
                return 1;
        r = container_open(root_fd, id, LOCK_SH, &c, &err);
        if (r < 0)
                return verb_fail("ps", id, error_message(&err, r));
        if (!c->cgroup)
                return verb_fail("ps", id, "the container has no cgroup (cgroups disabled)");
        r = cgroup_pids(c->cgroup, &pids, &n);
        if (r < 0)
                return verb_fail("ps", id, "cannot read the container's cgroup");
        if (json) {
                putchar('[');
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)pids[i]);
                puts("]");
                return 0;
        }
        printf("%-8s %s\n", "PID", "CMD");
        for (size_t i = 0; i < n; i++) {
                printf("%-8d ", (int)pids[i]);
                print_cmdline(pids[i]);
        }
        return 0;
}

/* runc's update flags, each one field of linux.resources. */
static const struct {
        const char *flag;
        const char *section;
        const char *key;
        bool is_string;
} update_flags[] = {
        {"memory", "memory", "limit", false},
        {"memory-reservation", "memory", "reservation", false},
        {"memory-swap", "memory", "swap", false},
        {"cpu-shares", "cpu", "shares", false},
        {"cpu-quota", "cpu", "quota", false},
        {"cpu-period", "cpu", "period", false},
        {"cpu-burst", "cpu", "burst", false},
        {"cpu-rt-period", "cpu", "realtimePeriod", false},
        {"cpu-rt-runtime", "cpu", "realtimeRuntime", false},
        {"cpuset-cpus", "cpu", "cpus", true},
        {"cpuset-mems", "cpu", "mems", true},
        {"pids-limit", "pids", "limit", false},
        {"blkio-weight", "blockIO", "weight", false},
};

/* "64m", "1G", "-1" or bytes -> a JSON number string. */
static int parse_quantity(const char *s, int64_t *ret)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        int64_t mult = 1;
        switch (*end) {
        case 'k':
        case 'K':
                mult = 1024;
                end++;
                break;
        case 'm':
        case 'M':
                mult = 1024 * 1024;
                end++;
                break;
        case 'g':
        case 'G':
                mult = 1024LL * 1024 * 1024;
                end++;
                break;
        }
        if (*end == 'b' || *end == 'B')
                end++;
        if (*end || __builtin_mul_overflow((int64_t)v, mult, ret))
                return -EINVAL;
        return 0;
}

typedef StrBuf UpdateSections[8];

static void update_sections_done(UpdateSections *s)
{
        for (size_t i = 0; i < ELEMENTSOF(*s); i++)
                strbuf_done(&(*s)[i]);
}

static int build_update_json(int argc, char **argv, char **ret_json, bool *ret_from_file)
{
        struct option opts[ELEMENTSOF(update_flags) + 3] = {};
        _cleanup_(update_sections_done) UpdateSections sections = {};
        const char *names[8] = {};
        size_t n_sections = 0;
        const char *resources = NULL;
        int c, idx;

        for (size_t i = 0; i < ELEMENTSOF(update_flags); i++)
                opts[i] = (struct option){update_flags[i].flag, required_argument, NULL, 0};
        opts[ELEMENTSOF(update_flags)] = (struct option){"resources", required_argument, NULL, 'r'};
        opts[ELEMENTSOF(update_flags) + 1] = (struct option){"help", no_argument, NULL, 'h'};
        while ((c = getopt_long(argc, argv, "+r:h", opts, &idx)) >= 0) {
                if (c == 'r') {
                        resources = optarg;
                        continue;
                }
                if (c == 'h') {
                        printf("Usage: berth-runtime update [options] ID\n\nOptions: --resources FILE|- (a "
                               "linux.resources JSON object)");
                        for (size_t i = 0; i < ELEMENTSOF(update_flags); i++)
                                printf(", --%s", update_flags[i].flag);
                        printf("\n");
                        exit(0);
                }
                if (c != 0)
                        return verb_usage_error("update", "unknown option \"%s\"", argv[optind - 1]);
                size_t s;
                for (s = 0; s < n_sections; s++)
                        if (streq(names[s], update_flags[idx].section))
                                break;
                if (s == n_sections) {
                        names[n_sections++] = update_flags[idx].section;
                }
                StrBuf *b = &sections[s];
                strbuf_puts(b, b->len ? "," : "");
                strbuf_put_json_string(b, update_flags[idx].key);
                strbuf_putc(b, ':');
                if (update_flags[idx].is_string)
                        strbuf_put_json_string(b, optarg);
                else {
                        int64_t v;
                        if (parse_quantity(optarg, &v) < 0)
                                return verb_usage_error("update", "--%s: invalid value \"%s\"",
                                                        update_flags[idx].flag, optarg);
                        strbuf_printf(b, "%" PRId64, v);
                }
        }
        if (optind != argc - 1)
                return verb_usage_error("update", "exactly one container ID expected");
        if (resources) {
                if (n_sections)
                        return verb_usage_error("update", "--resources cannot be combined with other flags");
                size_t len;
                int r = read_full_file_at(AT_FDCWD, streq(resources, "-") ? "/dev/stdin" : resources,
                                          1 << 20, ret_json, &len);
                if (r < 0)
                        return verb_fail("update", argv[optind], "cannot read --resources");
                *ret_from_file = true;
                return 0;
        }
        if (n_sections == 0)
                return verb_usage_error("update", "nothing to update");
        _cleanup_(strbuf_done) StrBuf out = STRBUF_INIT;
        strbuf_putc(&out, '{');
        for (size_t s = 0; s < n_sections; s++) {
                strbuf_printf(&out, "%s\"%s\":{", s ? "," : "", names[s]);
                strbuf_put(&out, sections[s].ptr, sections[s].len);
                strbuf_putc(&out, '}');
        }
        strbuf_putc(&out, '}');
        *ret_json = strbuf_steal(&out);
        return *ret_json ? 0 : 1;
}

int verb_update(int argc, char **argv, const GlobalOptions *g)
{
        _cleanup_close_ int root_fd = -EBADF;
        _cleanup_free_ char *json = NULL;
        BerthError err = {0};
        bool from_file = false;

        if (build_update_json(argc, argv, &json, &from_file) != 0)
                return 1;
        const char *id = argv[optind];
        if ((root_fd = open_root(g, "update", id)) < 0)
                return 1;
        int r = container_update(root_fd, id, json, &err);
        return r < 0 ? verb_fail("update", id, error_message(&err, r)) : 0;
}
