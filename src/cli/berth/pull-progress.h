/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The progress display of a pull on a terminal: a line per blob (bytes, total, speed, redrawn
 * in place) and a line of totals. berth pull draws it on stdout, berth run on stderr (its stdout
 * is the container's). */

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "image/registry.h"

typedef struct PullProgress {
        FILE *out;
        struct timespec start;
        size_t lines; /* lines drawn so far, to move the cursor back up over */
} PullProgress;

/** pull_progress_attach() - when @out is a terminal, draw @o's pull progress there through @p. */
void pull_progress_attach(PullProgress *p, FILE *out, RegistryPullOptions *o);
