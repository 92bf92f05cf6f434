/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth rm: remove containers, their runtime state and their rootfs. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "containers.h"
#include "image/rootfs.h"
#include "image/store.h"

/* For a killed container's `berth run` or monitor to record its exit and unmount. */
#define RM_WAIT_MSEC 10000

enum {
        OPT_STORAGE = 0x100,
};

static void rm_usage(FILE *f)
{
        fprintf(f, "Usage: berth rm [-f] [--storage DIR] ID...\n\n"
                   "Remove containers: their runtime state, rootfs and directory. Prints each id.\n\n"
                   "  -f, --force         kill (SIGKILL) a running container first\n"
                   "      --storage DIR   the store (default " STORE_DEFAULT_ROOT ")\n"
                   "  -h, --help          this text\n");
}

static int rm_one(const char *storage, const char *id, bool force)
{
        _cleanup_(container_ref_done) ContainerRef c = {.cdir_fd = -EBADF};
        BerthError err = {};
        RuntimeState st;
        int r;

        r = container_ref_open(storage, id, &c);
        if (r == -ENOENT)
                return cli_container_fail("rm", id, 1, "no such container");
        if (r >= 0)
                r = runtime_client_state(&c.runtime, id, &st);
        if (r < 0)
                return cli_container_fail("rm", id, 1, "%s", strerror(-r));
        if (runtime_status_is_alive(st.status) || st.status == RUNTIME_STATUS_CREATING) {
                if (!force)
                        return cli_container_fail(
                                "rm", id, 1, "container is running (stop it first, or use 'berth rm -f')");
                (void)runtime_client_kill(&c.runtime, id, "SIGKILL", true);
                if (runtime_client_wait_stopped(&c.runtime, id, RM_WAIT_MSEC) < 0 &&
                    runtime_client_delete(&c.runtime, id, true) < 0)
                        return cli_container_fail("rm", id, 1, "still running after SIGKILL");
        }
        /* Whoever ran it finishes first (and with --rm may have removed it all). */
        if (container_ref_wait_idle(&c, RM_WAIT_MSEC, true) < 0)
                return cli_container_fail("rm", id, 1, "busy: its clean-up after exit did not finish");
        if (!container_ref_gone(&c)) {
                r = runtime_client_state(&c.runtime, id, &st);
                if (r >= 0 && st.status != RUNTIME_STATUS_NONE &&
                    runtime_client_delete(&c.runtime, id, true) < 0)
                        return cli_container_fail("rm", id, 1, "deleting its runtime state failed");
                r = container_rootfs_remove(c.storage, id, &err);
                if (r < 0)
                        return cli_container_fail("rm", id, 1, "%s", error_message(&err, r));
        }
        puts(id);
        return 0;
}

int berth_rm(int argc, char **argv)
{
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'},
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *storage = STORE_DEFAULT_ROOT;
        bool force = false;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case OPT_STORAGE:
                        storage = optarg;
                        break;
                case 'h':
                        rm_usage(stdout);
                        return 0;
                default:
                        rm_usage(stderr);
                        return 1;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "berth: rm: missing ID (see 'berth rm --help')\n");
                return 1;
        }
        for (int i = optind; i < argc; i++)
                if (rm_one(storage, argv[i], force) != 0)
                        ret = 1;
        return ret;
}
