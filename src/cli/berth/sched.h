/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The `berth sched` verbs. Each sees argv starting at its own name ("simulate", "replay") and
 * returns the process's exit status. */

/** berth_sched_simulate() - `berth sched simulate ...`: run the scheduler over a cluster and a job stream.
 */
int berth_sched_simulate(int argc, char **argv);

/**
 * berth_sched_replay() - `berth sched replay [--quiet] JOURNAL`: recompute every decision of a
 * journal from its inputs. Prints "identical, N decisions" and returns 0, or the first decision
 * that differs and returns 1; a journal that cannot be read or is damaged returns 1 with one line
 * "berth: JOURNAL: cause" on stderr.
 */
int berth_sched_replay(int argc, char **argv);
