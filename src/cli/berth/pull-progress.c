/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The progress display of a pull on a terminal (see pull-progress.h). */

#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pull-progress.h"

static void format_bytes(uint64_t n, char *buf, size_t size)
{
        if (n >= (1ULL << 20))
                snprintf(buf, size, "%.1f MiB", (double)n / (1 << 20));
        else if (n >= (1ULL << 10))
                snprintf(buf, size, "%.1f KiB", (double)n / (1 << 10));
        else
                snprintf(buf, size, "%" PRIu64 " B", n);
}

static void format_speed(uint64_t bytes, uint64_t msec, char *buf, size_t size)
{
        char b[32];

        format_bytes(msec > 0 ? bytes * 1000 / msec : 0, b, sizeof(b));
        snprintf(buf, size, "%s/s", b);
}

static void pull_progress(const RegistryBlobProgress *blobs, size_t n, bool final, void *userdata)
{
        PullProgress *p = userdata;
        struct timespec now;
        uint64_t done_all = 0, total_all = 0, msec;
        char done[32], total[32], speed[48];

        clock_gettime(CLOCK_MONOTONIC, &now);
        msec = (uint64_t)(now.tv_sec - p->start.tv_sec) * 1000 +
               (uint64_t)((now.tv_nsec - p->start.tv_nsec) / 1000000);
        if (p->lines > 0)
                fprintf(p->out, "\033[%zuA", p->lines);
        for (size_t i = 0; i < n; i++) {
                char hex[DIGEST_HEX_LEN + 1];

                format_bytes(blobs[i].done_bytes, done, sizeof(done));
                format_bytes(blobs[i].total_bytes, total, sizeof(total));
                format_speed(blobs[i].done_bytes, blobs[i].elapsed_msec, speed, sizeof(speed));
                fprintf(p->out, "\033[2K%.12s  %10s / %-10s %12s%s\n", digest_hex(&blobs[i].digest, hex),
                        done, total, speed, blobs[i].done_bytes == blobs[i].total_bytes ? "  done" : "");
                done_all += blobs[i].done_bytes;
                total_all += blobs[i].total_bytes;
        }
        format_bytes(done_all, done, sizeof(done));
        format_bytes(total_all, total, sizeof(total));
        format_speed(done_all, msec, speed, sizeof(speed));
        fprintf(p->out, "\033[2K%-12s  %10s / %-10s %12s%s\n", "total", done, total, speed,
                final ? "  done" : "");
        p->lines = n + 1;
        fflush(p->out);
}

void pull_progress_attach(PullProgress *p, FILE *out, RegistryPullOptions *o)
{
        if (!isatty(fileno(out)))
                return;
        *p = (PullProgress){.out = out};
        clock_gettime(CLOCK_MONOTONIC, &p->start);
        o->progress = pull_progress;
        o->progress_userdata = p;
}
