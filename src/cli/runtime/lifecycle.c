/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* start, state, kill, delete, list. */

#include <dirent.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "runtime/container.h"
#include "runtime/signals.h"
#include "verbs.h"

/* Parse "[--flags] ID [extra]" for the simple verbs; returns 0 or the exit status. */
static int parse_id(int argc, char **argv, const char *usage, const struct option *opts,
                    const char *shortopts, int (*on_opt)(int c, void *userdata), void *userdata,
                    int max_extra, const char **ret_id)
{
        const char *verb = argv[0];
        int c;

        while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: berth-runtime %s %s\n", verb, usage);
                        exit(0);
                }
                if (c == '?' || !on_opt || on_opt(c, userdata) < 0)
                        return verb_usage_error(verb, "unknown or invalid option \"%s\"", argv[optind - 1]);
        }
        if (optind >= argc)
                return verb_usage_error(verb, "a container ID is required");
        if (argc - optind - 1 > max_extra)
                return verb_usage_error(verb, "too many arguments");
        *ret_id = argv[optind];
        return 0;
}

static const struct option help_only[] = {{"help", no_argument, NULL, 'h'}, {}};

int verb_start(int argc, char **argv, const GlobalOptions *g)
{
        _cleanup_close_ int root_fd = -EBADF;
        BerthError err = {0};
        const char *id;
        int r;

        if (parse_id(argc, argv, "ID\n\nStart a created container.", help_only, "+h", NULL, NULL, 0, &id))
                return 1;
        if ((root_fd = open_root(g, "start", id)) < 0)
                return 1;
        r = container_start(root_fd, id, &err);
        return r < 0 ? verb_fail("start", id, error_message(&err, r)) : 0;
}

int verb_state(int argc, char **argv, const GlobalOptions *g)
{
        _cleanup_close_ int root_fd = -EBADF, dir_fd = -EBADF;
        _cleanup_(container_state_freep) ContainerState *s = NULL;
        _cleanup_free_ char *json = NULL;
        BerthError err = {0};
        const char *id;
        int r;

        if (parse_id(argc, argv, "ID\n\nPrint the OCI state of a container as JSON.", help_only, "+h", NULL,
                     NULL, 0, &id))
                return 1;
        if ((r = container_id_validate(id, &err)) < 0)
                return verb_fail("state", id, error_message(&err, r));
        if ((root_fd = open_root(g, "state", id)) < 0)
                return 1;
        r = state_dir_open(root_fd, id, LOCK_SH, &dir_fd, &err);
        if (r >= 0)
                r = container_state_load(dir_fd, id, &s, &err);
        if (r == -ENOENT && dir_fd >= 0)
                r = error_setx(&err, -EBUSY, "container \"%s\" is still being created", id);
        if (r < 0)
                return verb_fail("state", id, error_message(&err, r));
        json = container_state_to_json(s, true);
        if (!json)
                return verb_fail("state", id, "out of memory");
        puts(json);
        return 0;
}

static int kill_opt(int c, void *userdata)
{
        if (c != 'a')
                return -EINVAL;
        *(bool *)userdata = true;
        return 0;
}

int verb_kill(int argc, char **argv, const GlobalOptions *g)
{
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {}};
        _cleanup_close_ int root_fd = -EBADF;
        BerthError err = {0};
        bool all = false;
        const char *id;
        int sig = SIGTERM, r;

        if (parse_id(argc, argv,
                     "[--all] ID [SIGNAL]\n\nSend SIGNAL (name or number, default TERM) to the container.",
                     opts, "+ah", kill_opt, &all, 1, &id))
                return 1;
        if (optind + 1 < argc) {
                sig = signal_from_string(argv[optind + 1]);
                if (sig < 0) {
                        char msg[300];
                        snprintf(msg, sizeof(msg),
                                 "unknown signal \"%s\" (use a name like TERM or a number)",
                                 argv[optind + 1]);
                        return verb_fail("kill", id, msg);
                }
        }
        if ((root_fd = open_root(g, "kill", id)) < 0)
                return 1;
        r = container_kill(root_fd, id, sig, all, &err);
        return r < 0 ? verb_fail("kill", id, error_message(&err, r)) : 0;
}

static int delete_opt(int c, void *userdata)
{
        if (c != 'f')
                return -EINVAL;
        *(bool *)userdata = true;
        return 0;
}

int verb_delete(int argc, char **argv, const GlobalOptions *g)
{
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {}};
        _cleanup_close_ int root_fd = -EBADF;
        BerthError err = {0};
        bool force = false;
        const char *id;
        int r;

        if (parse_id(argc, argv,
                     "[--force] ID\n\nDelete a stopped container; --force kills a running one first.", opts,
                     "+fh", delete_opt, &force, 0, &id))
                return 1;
        if ((root_fd = open_root(g, "delete", id)) < 0)
                return 1;
        r = container_delete(root_fd, id, force, &err);
        return r < 0 ? verb_fail("delete", id, error_message(&err, r)) : 0;
}

typedef struct ListFlags {
        bool json;
        bool quiet;
} ListFlags;

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int verb_list(int argc, char **argv, const GlobalOptions *g)
{
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_close_ int root_fd = -EBADF;
        ListFlags f = {};
        int c;

        while ((c = getopt_long(argc, argv, "+f:qh", opts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        if (streq(optarg, "json"))
                                f.json = true;
                        else if (!streq(optarg, "table"))
                                return verb_usage_error("list", "--format: unknown format \"%s\"", optarg);
                        break;
                case 'q':
                        f.quiet = true;
                        break;
                case 'h':
                        printf("Usage: berth-runtime list [--format table|json] [--quiet]\n");
                        return 0;
                default:
                        return verb_usage_error("list", "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if ((root_fd = open_root(g, "list", NULL)) < 0)
                return 1;

        /* Sorted by id, so the output is stable. */
        int dfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        _cleanup_(closedirp) DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d)
                return verb_fail("list", NULL, "cannot read the state root");
        char **ids = NULL;
        size_t n = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || container_id_validate(de->d_name, NULL) < 0)
                        continue;
                char **p = realloc(ids, (n + 1) * sizeof(char *));
                if (!p || !(p[n] = strdup(de->d_name))) {
                        free(p ? p : ids);
                        return verb_fail("list", NULL, "out of memory");
                }
                ids = p;
                n++;
        }
        qsort(ids, n, sizeof(char *), compare_strings);

        if (f.json)
                putchar('[');
        else if (!f.quiet)
                printf("%-20s %-8s %-10s %-50s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
                       "OWNER");
        bool first = true;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int cfd = -EBADF;
                _cleanup_(container_state_freep) ContainerState *s = NULL;
                if (state_dir_open(root_fd, ids[i], LOCK_SH, &cfd, NULL) < 0 ||
                    container_state_load(cfd, ids[i], &s, NULL) < 0)
                        continue; /* being created or deleted right now */
                if (f.quiet)
                        puts(s->id);
                else if (f.json) {
                        _cleanup_free_ char *j = container_state_to_json(s, false);
                        printf("%s%s", first ? "" : ",", j ? j : "{}");
                } else
                        printf("%-20s %-8d %-10s %-50s %-30s %s\n", s->id,
                               s->status == CONTAINER_STOPPED ? 0 : (int)s->pid,
                               container_status_to_string(s->status), s->bundle, s->created, "root");
                first = false;
        }
        if (f.json)
                puts("]");
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        return 0;
}
