/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The journal loader on arbitrary bytes, read through a memfd: it must load or refuse with a
 * message, account for every byte (kept + cut = size), and whatever it keeps must replay without
 * crashing (identical or not: a fuzzed journal may hold anything with a valid hash chain).
 */

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "fuzz.h"
#include "sched/journal.h"

/* Replaying runs the simulation: keep fuzzed journals small enough for that to be quick. */
#define MAX_REPLAY_INPUTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        JournalContents jc = {};
        BerthError err = {};
        char path[64];
        int fd, r;

        fd = memfd_create("journal", MFD_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(loop_write(fd, data, size) >= 0);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        r = sched_journal_load(path, &jc, &err);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)));
        if (r < 0) {
                /* -EPROTONOSUPPORT: a journal of another format version */
                FUZZ_CHECK((r == -EINVAL || r == -EPROTONOSUPPORT) && err.msg[0] != '\0');
        } else {
                FUZZ_CHECK(jc.bytes_kept + jc.bytes_cut == size);
                FUZZ_CHECK(jc.has_header || jc.n_inputs + jc.n_decisions == 0);
                if (jc.has_header && jc.n_inputs <= MAX_REPLAY_INPUTS) {
                        JournalReplayResult res = {};

                        err = (BerthError){};
                        r = sched_journal_replay(&jc, &res, &err);
                        FUZZ_CHECK(r == 0 || (r == -EINVAL && err.msg[0] != '\0'));
                        FUZZ_CHECK(r < 0 || res.identical || res.why);
                        sched_journal_replay_result_done(&res);
                }
        }
        sched_journal_contents_done(&jc);
        close(fd);
        return 0;
}
