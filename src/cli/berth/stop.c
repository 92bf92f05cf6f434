/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth stop: the image's StopSignal, SIGKILL after a grace period, as Docker does. */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container-meta.h"
#include "containers.h"
#include "image/store.h"

#define STOP_TIMEOUT_DEFAULT_SEC 10
/* After SIGKILL, and for the monitor's clean-up: only slow when something is broken. */
#define STOP_AFTER_KILL_MSEC 10000

enum {
        OPT_STORAGE = 0x100,
};

static void stop_usage(FILE *f)
{
        fprintf(f, "Usage: berth stop [-t SECS] [--storage DIR] ID...\n\n"
                   "Stop running containers: the image's StopSignal (SIGTERM when it has none), then\n"
                   "SIGKILL when one still runs after SECS seconds (default 10). Prints each id.\n\n"
                   "  -t, --time SECS     grace period before SIGKILL (0: at once)\n"
                   "      --storage DIR   the store (default " STORE_DEFAULT_ROOT ")\n"
                   "  -h, --help          this text\n");
}

static int parse_seconds(const char *s, int *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > INT_MAX / 1000)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

static int stop_one(const char *storage, const char *id, int timeout_sec)
{
        _cleanup_(container_ref_done) ContainerRef c = {.cdir_fd = -EBADF};
        _cleanup_(container_meta_done) ContainerMeta m = {};
        RuntimeState st;
        int r;

        r = container_ref_open(storage, id, &c);
        if (r == -ENOENT)
                return cli_container_fail("stop", id, 1, "no such container");
        if (r >= 0)
                r = container_meta_read(c.cdir_fd, &m);
        if (r >= 0)
                r = runtime_client_state(&c.runtime, id, &st);
        if (r < 0)
                return cli_container_fail("stop", id, 1, "%s", strerror(-r));
        if (runtime_status_is_alive(st.status)) {
                const char *sig = m.stop_signal ? m.stop_signal : "SIGTERM";
                /* It may exit between state and kill: only what happens after counts. */
                (void)runtime_client_kill(&c.runtime, id, sig, true);
                if (runtime_client_wait_stopped(&c.runtime, id, timeout_sec * 1000) < 0) {
                        (void)runtime_client_kill(&c.runtime, id, "SIGKILL", true);
                        if (runtime_client_wait_stopped(&c.runtime, id, STOP_AFTER_KILL_MSEC) < 0)
                                return cli_container_fail("stop", id, 1, "still running after SIGKILL");
                }
        }
        /* Return once the exit is recorded and the rootfs unmounted, so `ps -a` says Exited. */
        if (container_ref_wait_idle(&c, STOP_AFTER_KILL_MSEC, false) < 0)
                return cli_container_fail("stop", id, 1, "stopped, but its clean-up did not finish");
        puts(id);
        return 0;
}

int berth_stop(int argc, char **argv)
{
        static const struct option opts[] = {
                {"time", required_argument, NULL, 't'},
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *storage = STORE_DEFAULT_ROOT;
        int timeout_sec = STOP_TIMEOUT_DEFAULT_SEC, c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) >= 0) {
                switch (c) {
                case 't':
                        if (parse_seconds(optarg, &timeout_sec) < 0) {
                                fprintf(stderr, "berth: stop: -t \"%s\": expected seconds (0 or more)\n",
                                        optarg);
                                return 1;
                        }
                        break;
                case OPT_STORAGE:
                        storage = optarg;
                        break;
                case 'h':
                        stop_usage(stdout);
                        return 0;
                default:
                        stop_usage(stderr);
                        return 1;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "berth: stop: missing ID (see 'berth stop --help')\n");
                return 1;
        }
        for (int i = optind; i < argc; i++)
                if (stop_one(storage, argv[i], timeout_sec) != 0)
                        ret = 1;
        return ret;
}
