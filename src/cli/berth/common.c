/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the verbs share: the "--storage DIR" option, the one-line error report, where
 * berth-runtime is and how container ids are made. */

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

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

int cli_runtime_path(char **ret)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n < 0)
                return -errno;
        self[n] = '\0';
        return asprintf(ret, "%s/berth-runtime", dirname(self)) < 0 ? -ENOMEM : 0;
}

int cli_container_id_random(char buf[static 13])
{
        uint8_t b[6];

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                return -errno;
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(buf + 2 * i, 3, "%02x", b[i]);
        return 0;
}

volatile sig_atomic_t cli_interrupted;

static const int interrupting[] = {SIGINT, SIGTERM, SIGHUP};

static void interrupt_handler(int sig)
{
        if (cli_interrupted) {
                signal(sig, SIG_DFL);
                raise(sig);
                return;
        }
        cli_interrupted = sig;
}

void cli_interrupt_catch(bool on)
{
        static struct sigaction saved[ELEMENTSOF(interrupting)];
        struct sigaction sa = {.sa_handler = interrupt_handler, .sa_flags = SA_RESTART};

        sigemptyset(&sa.sa_mask);
        /* Off gives back what was there before (SIG_IGN too, for a background job), not SIG_DFL. */
        for (size_t i = 0; i < ELEMENTSOF(interrupting); i++)
                (void)sigaction(interrupting[i], on ? &sa : &saved[i], on ? &saved[i] : NULL);
}
