/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the verbs share: the "--storage DIR" option, the one-line error report, where
 * berth-runtime is and how container ids are made. */

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "basic/error.h"

/** Returned by cli_storage_parse() when the verb goes on to its operands. */
#define CLI_CONTINUE (-1)

/**
 * cli_storage_parse() - parse "[--storage DIR] [-h|--help]" for a verb with no other option,
 * leaving optind at the first operand and *ret_storage at DIR (untouched without --storage).
 * --help prints @usage to stdout. A bad option prints getopt's message and, with
 * @usage_on_error, @usage to stderr. Returns CLI_CONTINUE, or the exit status to return now:
 * 0 after --help, 1 after a bad option.
 */
int cli_storage_parse(int argc, char **argv, void (*usage)(FILE *f), bool usage_on_error,
                      const char **ret_storage);

/**
 * cli_fail() - print "berth: VERB WHAT: cause" (or "berth: VERB: cause" for a NULL @what) to stderr,
 * the cause from @err or @r. Returns 1, the exit status.
 */
int cli_fail(const char *verb, const char *what, const BerthError *err, int r);

/** cli_runtime_path() - "<directory of the berth binary>/berth-runtime" in *@ret (the caller frees it). */
int cli_runtime_path(char **ret);

/** cli_container_id_random() - 12 random lowercase hex digits, NUL-terminated, in @buf. */
int cli_container_id_random(char buf[static 13]);

/*
 * A long operation (a pull) that Ctrl-C, SIGTERM or SIGHUP should stop cleanly: while caught, the
 * first such signal only sets cli_interrupted (to its number), which the operation polls
 * (RegistryPullOptions.cancel) to fail and clean up; a second one kills berth at once.
 */
extern volatile sig_atomic_t cli_interrupted;

/** cli_interrupt_catch() - catch those signals (@on), or give them back the actions they had before. */
void cli_interrupt_catch(bool on);
