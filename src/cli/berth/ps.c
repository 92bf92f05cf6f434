/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth ps: the containers of the store, with Docker's columns. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "basic/strv.h"
#include "container-meta.h"
#include "containers.h"
#include "image/store.h"

#define COMMAND_WIDTH 20

enum {
        OPT_STORAGE = 0x100,
};

typedef struct PsRow {
        char *id;
        char *image;
        char *command;
        char *created;
        char *status;
        time_t created_at;
} PsRow;

static void ps_row_done(PsRow *r)
{
        free(r->id);
        free(r->image);
        free(r->command);
        free(r->created);
        free(r->status);
}

static void ps_usage(FILE *f)
{
        fprintf(f, "Usage: berth ps [-a] [-q] [--storage DIR]\n\n"
                   "List the running containers started by 'berth run', newest first.\n\n"
                   "  -a, --all           all containers, also created and exited ones\n"
                   "  -q, --quiet         only the ids\n"
                   "      --storage DIR   the store (default " STORE_DEFAULT_ROOT ")\n"
                   "  -h, --help          this text\n");
}

/* Docker's units.HumanDuration. */
static void human_duration(time_t seconds, char *buf, size_t size)
{
        long long s = seconds < 0 ? 0 : (long long)seconds, h = (s + 1800) / 3600;

        if (s < 1)
                snprintf(buf, size, "Less than a second");
        else if (s == 1)
                snprintf(buf, size, "1 second");
        else if (s < 60)
                snprintf(buf, size, "%lld seconds", s);
        else if (s / 60 == 1)
                snprintf(buf, size, "About a minute");
        else if (s / 60 < 60)
                snprintf(buf, size, "%lld minutes", s / 60);
        else if (h == 1)
                snprintf(buf, size, "About an hour");
        else if (h < 48)
                snprintf(buf, size, "%lld hours", h);
        else if (h < 24 * 7 * 2)
                snprintf(buf, size, "%lld days", h / 24);
        else if (h < 24 * 30 * 2)
                snprintf(buf, size, "%lld weeks", h / 24 / 7);
        else if (h < 24 * 365 * 2)
                snprintf(buf, size, "%lld months", h / 24 / 30);
        else
                snprintf(buf, size, "%lld years", h / 24 / 365);
}

/* "sh -c 'exit 3'" quoted, cut to Docker's 20 characters with an ellipsis. */
static char *command_column(char **args)
{
        _cleanup_(strbuf_done) StrBuf joined = STRBUF_INIT, b = STRBUF_INIT;
        size_t chars = 0, total = 0;

        STRV_FOREACH (a, args) {
                if (a != args)
                        strbuf_putc(&joined, ' ');
                strbuf_puts(&joined, *a);
        }
        if (strbuf_failed(&joined))
                return NULL;
        /* Characters, not the continuation bytes of UTF-8. */
        for (size_t i = 0; i < joined.len; i++)
                total += ((unsigned char)joined.ptr[i] & 0xc0) != 0x80;
        strbuf_putc(&b, '"');
        for (size_t i = 0; i < joined.len; i++) {
                if (total > COMMAND_WIDTH && ((unsigned char)joined.ptr[i] & 0xc0) != 0x80 &&
                    ++chars > COMMAND_WIDTH - 1) {
                        strbuf_puts(&b, "\xe2\x80\xa6");
                        break;
                }
                strbuf_putc(&b, joined.ptr[i]);
        }
        strbuf_putc(&b, '"');
        return strbuf_steal(&b);
}

/* The STATUS column, and whether the container is up (shown without -a). */
static char *status_column(ContainerRef *c, bool *ret_up)
{
        char ago[64], *s = NULL;
        RuntimeState st = {};
        time_t now = time(NULL), finished;
        int code, r;

        *ret_up = false;
        r = runtime_client_state(&c->runtime, c->id, &st);
        if (r < 0)
                return strdup("Unknown");
        switch (st.status) {
        case RUNTIME_STATUS_RUNNING:
        case RUNTIME_STATUS_PAUSED:
                *ret_up = true;
                human_duration(st.created ? now - st.created : 0, ago, sizeof(ago));
                r = asprintf(&s, "Up %s%s", ago, st.status == RUNTIME_STATUS_PAUSED ? " (Paused)" : "");
                return r < 0 ? NULL : s;
        case RUNTIME_STATUS_CREATING:
        case RUNTIME_STATUS_CREATED:
                return strdup("Created");
        default:
                break;
        }
        if (container_exit_read(c->cdir_fd, &code, &finished) >= 0) {
                human_duration(now - finished, ago, sizeof(ago));
                return asprintf(&s, "Exited (%d) %s ago", code, ago) < 0 ? NULL : s;
        }
        /* Exited, and its `berth run` or monitor has not recorded how yet. */
        return strdup(st.status == RUNTIME_STATUS_STOPPED ? "Exited" : "Created");
}

static int ps_row_make(const char *storage, const char *id, bool all, PsRow *ret)
{
        _cleanup_(container_ref_done) ContainerRef c = {.cdir_fd = -EBADF};
        _cleanup_(container_meta_done) ContainerMeta m = {};
        char ago[64];
        bool up;
        int r;

        r = container_ref_open(storage, id, &c);
        if (r >= 0)
                r = container_meta_read(c.cdir_fd, &m);
        if (r < 0)
                return r; /* being created or removed right now, or not a container */
        *ret = (PsRow){.created_at = m.created};
        ret->status = status_column(&c, &up);
        if (!up && !all)
                return -ESRCH;
        human_duration(time(NULL) - m.created, ago, sizeof(ago));
        ret->id = strdup(id);
        ret->image = strdup(m.image);
        ret->command = command_column(m.command);
        if (asprintf(&ret->created, "%s ago", ago) < 0)
                ret->created = NULL;
        if (!ret->status || !ret->id || !ret->image || !ret->command || !ret->created)
                return -ENOMEM;
        return 0;
}

static int ps_row_compare(const void *a, const void *b)
{
        const PsRow *x = a, *y = b;

        if (x->created_at != y->created_at)
                return x->created_at > y->created_at ? -1 : 1;
        return strcmp(x->id, y->id);
}

/* Width on a terminal: characters, not the continuation bytes of UTF-8 ("…" is three bytes). */
static int text_width(const char *s)
{
        int n = 0;

        for (; *s; s++)
                n += ((unsigned char)*s & 0xc0) != 0x80;
        return n;
}

static void print_row(const char *const cols[static 5], const int w[static 5])
{
        for (size_t k = 0; k < 4; k++)
                printf("%s%*s", cols[k], w[k] - text_width(cols[k]) + 3, "");
        printf("%s\n", cols[4]);
}

static void ps_print(PsRow *rows, size_t n, bool quiet)
{
        static const char *const headers[5] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS"};
        int w[5];

        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        puts(rows[i].id);
                return;
        }
        for (size_t k = 0; k < 5; k++)
                w[k] = text_width(headers[k]);
        for (size_t i = 0; i < n; i++) {
                const char *cols[4] = {rows[i].id, rows[i].image, rows[i].command, rows[i].created};
                for (size_t k = 0; k < 4; k++)
                        if (text_width(cols[k]) > w[k])
                                w[k] = text_width(cols[k]);
        }
        print_row(headers, w);
        for (size_t i = 0; i < n; i++)
                print_row((const char *const[5]){rows[i].id, rows[i].image, rows[i].command, rows[i].created,
                                                 rows[i].status},
                          w);
}

int berth_ps(int argc, char **argv)
{
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'},
                {"quiet", no_argument, NULL, 'q'},
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *storage = STORE_DEFAULT_ROOT;
        _cleanup_free_ char *dir = NULL;
        PsRow *rows = NULL;
        bool all = false, quiet = false;
        size_t n = 0;
        int c, r = 0;
        DIR *d;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+aqh", opts, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case OPT_STORAGE:
                        storage = optarg;
                        break;
                case 'h':
                        ps_usage(stdout);
                        return 0;
                default:
                        ps_usage(stderr);
                        return 1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "berth: ps: unexpected argument \"%s\"\n", argv[optind]);
                return 1;
        }
        if (asprintf(&dir, "%s/containers", storage) < 0)
                return 1;
        d = opendir(dir);
        if (!d && errno != ENOENT) {
                fprintf(stderr, "berth: ps: %s: %s\n", dir, strerror(errno));
                return 1;
        }
        for (struct dirent *de; d && (de = readdir(d));) {
                PsRow row = {}, *p;
                if (de->d_name[0] == '.')
                        continue;
                r = ps_row_make(storage, de->d_name, all, &row);
                if (r < 0) {
                        ps_row_done(&row);
                        if (r == -ENOMEM)
                                break;
                        r = 0;
                        continue;
                }
                p = realloc(rows, (n + 1) * sizeof(PsRow));
                if (!p) {
                        ps_row_done(&row);
                        r = -ENOMEM;
                        break;
                }
                rows = p;
                rows[n++] = row;
        }
        if (d)
                closedir(d);
        if (r >= 0) {
                qsort(rows, n, sizeof(PsRow), ps_row_compare);
                ps_print(rows, n, quiet);
        } else
                fprintf(stderr, "berth: ps: out of memory\n");
        for (size_t i = 0; i < n; i++)
                ps_row_done(&rows[i]);
        free(rows);
        return r < 0 ? 1 : 0;
}
