/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* berth: the tool people type. Today it has the scheduler's commands; images, `run IMAGE` and
 * the daemon arrive with later work. The OCI runtime is berth-runtime. */

#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "containers.h"
#include "image.h"
#include "pull.h"
#include "run.h"
#include "sched.h"

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: berth [--version] [--help] COMMAND [ARGS]\n\n"
                "berth runs containers and places jobs.\n\n"
                "Commands:\n"
                "  sched simulate   simulate a job stream on a cluster (see 'berth sched simulate --help')\n"
                "  sched replay     recompute a journal's decisions and compare them\n"
                "  pull             download an image from a registry (see 'berth pull --help')\n"
                "  images           list the images in the store\n"
                "  image            load, save, inspect, prune images (see 'berth image --help')\n"
                "  rmi              remove images and the blobs only they use\n"
                "  run              run an image as a container (see 'berth run --help')\n"
                "  ps               list containers (-a: also exited ones)\n"
                "  stop             stop containers (StopSignal, then SIGKILL)\n"
                "  rm               remove containers (-f: kill running ones first)\n"
                "  exec             run a command in a running container\n"
                "  logs             print the output of a container started with run -d\n\n"
                "The OCI runtime is berth-runtime (runc's command line); see 'berth-runtime --help'.\n");
}

static int sched_main(int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fprintf(argc < 2 ? stderr : stdout, "Usage: berth sched simulate|replay [options]\n"
                                                    "  simulate --cluster FILE --jobs FILE [--policy P] "
                                                    "[--decisions FILE] [--journal FILE]\n"
                                                    "  replay JOURNAL\n");
                return argc < 2 ? 1 : 0;
        }
        if (streq(argv[1], "simulate"))
                return berth_sched_simulate(argc - 1, argv + 1);
        if (streq(argv[1], "replay"))
                return berth_sched_replay(argc - 1, argv + 1);
        fprintf(stderr, "berth: sched: unknown command \"%s\" (simulate, replay)\n", argv[1]);
        return 1;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return 1;
        }
        if (streq(argv[1], "--version") || streq(argv[1], "-v")) {
                printf("berth version %s\n", BERTH_VERSION);
                return 0;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
                usage(stdout);
                return 0;
        }
        if (streq(argv[1], "sched"))
                return sched_main(argc - 1, argv + 1);
        if (streq(argv[1], "pull"))
                return berth_pull(argc - 1, argv + 1);
        if (streq(argv[1], "images"))
                return berth_images(argc - 1, argv + 1);
        if (streq(argv[1], "image"))
                return berth_image(argc - 1, argv + 1);
        if (streq(argv[1], "rmi"))
                return berth_rmi(argc - 1, argv + 1);
        if (streq(argv[1], "run"))
                return berth_run(argc - 1, argv + 1);
        if (streq(argv[1], "ps"))
                return berth_ps(argc - 1, argv + 1);
        if (streq(argv[1], "stop"))
                return berth_stop(argc - 1, argv + 1);
        if (streq(argv[1], "rm"))
                return berth_rm(argc - 1, argv + 1);
        if (streq(argv[1], "exec"))
                return berth_exec(argc - 1, argv + 1);
        if (streq(argv[1], "logs"))
                return berth_logs(argc - 1, argv + 1);
        fprintf(stderr, "berth: unknown command \"%s\" (see 'berth --help')\n", argv[1]);
        return 1;
}
