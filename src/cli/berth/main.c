/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* berth: the tool people type. Images, `run IMAGE`, the daemon and the scheduler
 * arrive with later work; today it knows its version and where the runtime is. */

#include <stdio.h>
#include <string.h>

#include "basic/macro.h"

static void usage(FILE *f)
{
        fprintf(f, "Usage: berth [--version] [--help] COMMAND\n\n"
                   "berth runs containers and places jobs.\n\n"
                   "The OCI runtime is berth-runtime (runc's command line); see 'berth-runtime --help'.\n");
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
        fprintf(stderr, "berth: unknown command \"%s\" (see 'berth --help')\n", argv[1]);
        return 1;
}
