/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth sched replay: recompute a journal's decisions and say whether they are the recorded ones. */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "basic/error.h"
#include "sched.h"
#include "sched/journal.h"

static void replay_usage(FILE *f)
{
        fprintf(f,
                "Usage: berth sched replay [--quiet] JOURNAL\n\n"
                "Recompute every decision in JOURNAL from the inputs it recorded and compare.\n"
                "Prints \"identical, N decisions\" (exit 0) or the first decision that differs (exit 1).\n"
                "A torn last record (a write cut short by a crash) is cut and said so on stderr.\n\n"
                "  -q, --quiet   print nothing when the decisions are identical\n"
                "  -h, --help    this text\n");
}

int berth_sched_replay(int argc, char **argv)
{
        static const struct option opts[] = {
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(sched_journal_contents_done) JournalContents jc = {};
        _cleanup_(sched_journal_replay_result_done) JournalReplayResult res = {};
        BerthError err = {};
        const char *path;
        bool quiet = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) >= 0) {
                switch (c) {
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        replay_usage(stdout);
                        return 0;
                default:
                        replay_usage(stderr);
                        return 1;
                }
        }
        if (optind + 1 != argc) {
                fprintf(stderr, "berth: sched replay: %s (see 'berth sched replay --help')\n",
                        optind >= argc ? "missing JOURNAL" : "too many arguments");
                return 1;
        }
        path = argv[optind];

        r = sched_journal_load(path, &jc, &err);
        if (r < 0) {
                fprintf(stderr, "berth: %s: %s\n", path, error_message(&err, r));
                return 1;
        }
        if (jc.bytes_cut > 0 && !quiet)
                fprintf(stderr, "journal: cut a torn record at byte %" PRIu64 " (%" PRIu64 " bytes)\n",
                        jc.bytes_kept, jc.bytes_cut);
        r = sched_journal_replay(&jc, &res, &err);
        if (r < 0) {
                fprintf(stderr, "berth: %s: replay: %s\n", path, error_message(&err, r));
                return 1;
        }
        if (!res.identical) {
                printf("differs at decision %" PRIu64 ": %s\n  expected: %s\n  got:      %s\n", res.seq,
                       res.why, res.expected, res.got);
                return 1;
        }
        if (!quiet)
                printf("identical, %" PRIu64 " decisions\n", res.decisions);
        return 0;
}
