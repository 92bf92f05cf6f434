/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the image verbs share: the "--storage DIR" option and the one-line error report. */

#include <getopt.h>

#include "common.h"

enum {
        OPT_STORAGE = 0x100,
};

int cli_storage_parse(int argc, char **argv, void (*usage)(FILE *f), bool usage_on_error,
                      const char **ret_storage)
{
        static const struct option opts[] = {
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_STORAGE:
                        *ret_storage = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        if (usage_on_error)
                                usage(stderr);
                        return 1;
                }
        }
        return CLI_CONTINUE;
}

int cli_fail(const char *verb, const char *what, const BerthError *err, int r)
{
        if (what)
                fprintf(stderr, "berth: %s %s: %s\n", verb, what, error_message(err, r));
        else
                fprintf(stderr, "berth: %s: %s\n", verb, error_message(err, r));
        return 1;
}
