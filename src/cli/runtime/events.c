/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * events: statistics once (--stats) or every --interval, plus an "oom" event when the OOM
 * killer acts and a "memory.soft_limit" warning when usage first crosses the soft limit
 * (linux.resources.memory.reservation). v1 tells us through eventfds registered in
 * cgroup.event_control; v2 through inotify on memory.events. Ends when the container stops.
 */

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
#include <unistd.h>

#include "basic/log.h"
#include "runtime/container.h"
#include "verbs.h"

static void emit(const char *type, const char *id, const char *data)
{
        printf("{\"type\":\"%s\",\"id\":\"%s\"%s%s}\n", type, id, data ? ",\"data\":" : "",
               data ? data : "");
        fflush(stdout);
}

static int parse_interval_ms(const char *s, int *ret)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v <= 0)
                return -EINVAL;
        if (streq(end, "ms"))
                v /= 1000;
        else if (streq(end, "m"))
                v *= 60;
        else if (*end && !streq(end, "s"))
                return -EINVAL;
        if (v * 1000 > 86400000)
                return -ERANGE;
        *ret = (int)(v * 1000) > 0 ? (int)(v * 1000) : 1;
        return 0;
}

/* v1: an eventfd that fires on @control_file events (OOM, or a usage threshold). */
static int v1_event_fd(const char *dir, const char *control_file, const char *arg)
{
        char path[4200], line[128];
        _cleanup_close_ int cfd = -EBADF, ctl = -EBADF;
        int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

        if (efd < 0)
                return negative_errno();
        snprintf(path, sizeof(path), "%s/%s", dir, control_file);
        cfd = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
        ctl = open(path, O_WRONLY | O_CLOEXEC);
        snprintf(line, sizeof(line), "%d %d%s%s", efd, cfd, arg ? " " : "", arg ? arg : "");
        if (cfd < 0 || ctl < 0 || write(ctl, line, strlen(line)) < 0) {
                int r = negative_errno();
                safe_close(efd);
                return r;
        }
        return efd;
}

/* v1 signals every eventfd registered on a memory cgroup when the cgroup is removed (a `delete`
 * while we watch); that is no OOM. runc tells the two apart the same way. */
static bool v1_cgroup_gone(const char *dir)
{
        char path[4200];
        snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
        return access(path, F_OK) < 0 && errno == ENOENT;
}

static uint64_t memory_usage(Cgroup *cg)
{
        uint64_t v = 0;
        (void)cgroup_read_u64(cg, CG_MEMORY, cg->v1[CG_MEMORY] ? "memory.usage_in_bytes" : "memory.current",
                              &v);
        return v;
}

int verb_events(int argc, char **argv, const GlobalOptions *g)
{
        static const struct option opts[] = {{"stats", no_argument, NULL, 's'},
                                             {"interval", required_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        _cleanup_close_ int root_fd = -EBADF, oom_fd = -EBADF, soft_fd = -EBADF, ino = -EBADF;
        BerthError err = {0};
        bool stats_once = false;
        int interval_ms = 5000, ch, r;

        while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                if (ch == 's')
                        stats_once = true;
                else if (ch == 'i') {
                        if (parse_interval_ms(optarg, &interval_ms) < 0)
                                return verb_usage_error("events", "--interval: invalid duration \"%s\"",
                                                        optarg);
                } else if (ch == 'h') {
                        printf("Usage: berth-runtime events [--stats] [--interval 5s] ID\n\n"
                               "Print statistics and OOM events as JSON lines until the container stops.\n");
                        return 0;
                } else
                        return verb_usage_error("events", "unknown option \"%s\"", argv[optind - 1]);
        }
        if (optind != argc - 1)
                return verb_usage_error("events", "exactly one container ID expected");
        const char *id = argv[optind];
        if ((root_fd = open_root(g, "events", id)) < 0)
                return 1;
        r = container_open(root_fd, id, LOCK_SH, &c, &err);
        if (r < 0)
                return verb_fail("events", id, error_message(&err, r));
        if (!c->cgroup)
                return verb_fail("events", id, "the container has no cgroup (cgroups disabled)");
        flock(c->dir_fd, LOCK_UN);
        if (c->state->status == CONTAINER_STOPPED)
                return verb_fail("events", id, "the container is stopped");

        Cgroup *cg = c->cgroup;
        if (stats_once) {
                _cleanup_free_ char *data = cgroup_stats_json(cg);
                emit("stats", id, data ? data : "{}");
                return 0;
        }
        (void)cgroup_resources_parse(c->config->linux_.resources, "linux.resources", &res, NULL);
        uint64_t soft = res && res->has_memory_reservation && res->memory_reservation > 0
                                ? (uint64_t)res->memory_reservation
                                : 0;
        const char *memdir = cgroup_dir(cg, CG_MEMORY);
        if (memdir && cg->v1[CG_MEMORY]) {
                oom_fd = v1_event_fd(memdir, "memory.oom_control", NULL);
                if (soft) {
                        char t[32];
                        snprintf(t, sizeof(t), "%" PRIu64, soft);
                        soft_fd = v1_event_fd(memdir, "memory.usage_in_bytes", t);
                }
        } else if (memdir) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/memory.events", memdir);
                ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (ino >= 0 && inotify_add_watch(ino, path, IN_MODIFY) < 0)
                        ino = safe_close(ino);
        }

        uint64_t ooms = cgroup_oom_kills(cg);
        bool above_soft = soft && memory_usage(cg) >= soft;
        struct timespec next;
        clock_gettime(CLOCK_MONOTONIC, &next);
        for (;;) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long wait_ms = (next.tv_sec - now.tv_sec) * 1000 + (next.tv_nsec - now.tv_nsec) / 1000000;
                /* Poll at least every 200 ms: that is how we notice the container stopping,
                 * and on v2 how a soft-limit crossing without a memory.events change is seen. */
                if (wait_ms > 200)
                        wait_ms = 200;
                struct pollfd p[3] = {{.fd = oom_fd, .events = POLLIN},
                                      {.fd = soft_fd, .events = POLLIN},
                                      {.fd = ino, .events = POLLIN}};
                if (poll(p, 3, wait_ms < 0 ? 0 : (int)wait_ms) < 0 && errno != EINTR)
                        break;
                char drain[4096];
                for (int i = 0; i < 3; i++)
                        if (p[i].revents & POLLIN)
                                (void)!read(p[i].fd, drain, sizeof(drain));
                bool oom_signalled = p[0].revents & POLLIN;
                if ((oom_signalled || (p[1].revents & POLLIN)) && v1_cgroup_gone(memdir)) {
                        /* Removed under us: nothing more comes through these eventfds. */
                        oom_signalled = false;
                        oom_fd = safe_close(oom_fd);
                        soft_fd = safe_close(soft_fd);
                }
                uint64_t now_ooms = cgroup_oom_kills(cg);
                if (now_ooms > ooms || oom_signalled) {
                        emit("oom", id, NULL);
                        ooms = now_ooms;
                }
                if (soft) {
                        uint64_t usage = memory_usage(cg);
                        if (!above_soft && usage >= soft) {
                                char data[128];
                                snprintf(data, sizeof(data),
                                         "{\"usage\":%" PRIu64 ",\"softLimit\":%" PRIu64 "}", usage, soft);
                                emit("memory.soft_limit", id, data);
                        }
                        above_soft = usage >= soft;
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec >= next.tv_nsec)) {
                        _cleanup_free_ char *data = cgroup_stats_json(cg);
                        emit("stats", id, data ? data : "{}");
                        next.tv_sec += interval_ms / 1000;
                        next.tv_nsec += (long)(interval_ms % 1000) * 1000000L;
                        if (next.tv_nsec >= 1000000000L) {
                                next.tv_sec++;
                                next.tv_nsec -= 1000000000L;
                        }
                }
                container_status_refresh(c->dir_fd, c->state);
                if (c->state->status == CONTAINER_STOPPED) {
                        /* An OOM kill of the init stops the container: one that came after this
                         * round's look at the counter would otherwise go unreported. */
                        if (cgroup_oom_kills(cg) > ooms)
                                emit("oom", id, NULL);
                        break;
                }
        }
        return 0;
}
