/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* create and run. */

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>

#include "basic/log.h"
#include "runtime/container.h"
#include "verbs.h"

typedef struct CreateFlags {
        CreateOptions opts;
        bool detach;
        bool keep;
        const char *id;
} CreateFlags;

static void create_usage(const char *verb, bool is_run)
{
        printf("Usage: berth-runtime %s [options] ID\n\n%s\n\nOptions:\n"
               "  -b, --bundle DIR          bundle directory (default: current directory)\n"
               "      --pid-file FILE       write the init's pid to FILE\n"
               "      --console-socket PATH send the pty master of a terminal container to this socket\n"
               "      --no-pivot            use MS_MOVE and chroot instead of pivot_root\n"
               "      --no-new-keyring      do not create a new session keyring\n"
               "      --preserve-fds N      pass N more fds (from 3) to the container\n",
               verb,
               is_run ? "Create and start a container, wait for it, and return its exit code."
                      : "Create a container; it waits for 'start' before running its process.");
        if (is_run)
                printf("  -d, --detach              return once started, do not wait\n"
                       "      --keep                keep the container's state after it exits\n");
}

static int parse_unsigned(const char *s, unsigned *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || !*s || *end || *s == '-' || v > 65536)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

static int parse_create_flags(int argc, char **argv, bool is_run, CreateFlags *f)
{
        enum {
                ARG_PID_FILE = 0x100,
                ARG_CONSOLE,
                ARG_NO_PIVOT,
                ARG_NO_KEYRING,
                ARG_PRESERVE,
                ARG_KEEP,
                ARG_NOSUB
        };
        static const struct option opts[] = {
                {"bundle", required_argument, NULL, 'b'},
                {"pid-file", required_argument, NULL, ARG_PID_FILE},
                {"console-socket", required_argument, NULL, ARG_CONSOLE},
                {"no-pivot", no_argument, NULL, ARG_NO_PIVOT},
                {"no-new-keyring", no_argument, NULL, ARG_NO_KEYRING},
                {"preserve-fds", required_argument, NULL, ARG_PRESERVE},
                {"detach", no_argument, NULL, 'd'},
                {"keep", no_argument, NULL, ARG_KEEP},
                {"no-subreaper", no_argument, NULL, ARG_NOSUB},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *verb = argv[0];
        int c;

        while ((c = getopt_long(argc, argv, "+b:dh", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        f->opts.bundle = optarg;
                        break;
                case ARG_PID_FILE:
                        f->opts.pid_file = optarg;
                        break;
                case ARG_CONSOLE:
                        f->opts.console_socket = optarg;
                        break;
                case ARG_NO_PIVOT:
                        f->opts.no_pivot = true;
                        break;
                case ARG_NO_KEYRING:
                        f->opts.no_new_keyring = true;
                        break;
                case ARG_PRESERVE:
                        if (parse_unsigned(optarg, &f->opts.preserve_fds) < 0)
                                return verb_usage_error(verb, "--preserve-fds: invalid number \"%s\"",
                                                        optarg);
                        break;
                case 'd':
                        if (!is_run)
                                goto unknown;
                        f->detach = true;
                        break;
                case ARG_KEEP:
                        if (!is_run)
                                goto unknown;
                        f->keep = true;
                        break;
                case ARG_NOSUB:
                        break;
                case 'h':
                        create_usage(verb, is_run);
                        exit(0);
                default:
                unknown:
                        return verb_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind != argc - 1)
                return verb_usage_error(verb, optind >= argc ? "a container ID is required"
                                                             : "exactly one container ID expected");
        f->id = argv[optind];
        return 0;
}

int verb_create(int argc, char **argv, const GlobalOptions *g)
{
        CreateFlags f = {};
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_close_ int root_fd = -EBADF;
        BerthError err = {0};
        int r;

        if (parse_create_flags(argc, argv, false, &f) != 0)
                return 1;
        f.opts.cgroup_manager = g->cgroup_manager;
        f.opts.reexec_argv = g->argv;
        root_fd = open_root(g, "create", f.id);
        if (root_fd < 0)
                return 1;
        r = container_create(root_fd, f.id, &f.opts, &c, &err);
        if (r < 0)
                return verb_fail("create", f.id, error_message(&err, r));
        return 0;
}

int verb_run(int argc, char **argv, const GlobalOptions *g)
{
        CreateFlags f = {};
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_close_ int root_fd = -EBADF, sfd = -EBADF;
        BerthError err = {0};
        int r;

        if (parse_create_flags(argc, argv, true, &f) != 0)
                return 1;
        f.opts.cgroup_manager = g->cgroup_manager;
        f.opts.reexec_argv = g->argv;
        root_fd = open_root(g, "run", f.id);
        if (root_fd < 0)
                return 1;
        f.opts.foreground = !f.detach;
        if (!f.detach) {
                /* Block signals before the init exists so none is lost; the init unblocks its own. */
                sfd = forwarding_signalfd();
                if (sfd < 0)
                        return verb_fail("run", f.id, "signalfd failed");
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        r = container_create(root_fd, f.id, &f.opts, &c, &err);
        if (r < 0)
                return verb_fail("run", f.id, error_message(&err, r));
        r = container_start_locked(c, &err);
        if (r < 0) {
                BerthError derr = {0};
                verb_fail("run", f.id, error_message(&err, r));
                container_delete(root_fd, f.id, true, &derr);
                return 1;
        }
        if (f.detach)
                return 0;
        /* Let `state`, `kill` and `exec` in while we wait. */
        flock(c->dir_fd, LOCK_UN);
        int status = 0;
        int code = wait_child_forwarding(c->init_pid, sfd, c->console_master, &status);
        if (c->cgroup && cgroup_oom_kills(c->cgroup) > 0)
                log_error("run %s: the container was killed by the OOM killer (memory limit reached)", f.id);
        if (f.keep && flock(c->dir_fd, LOCK_EX) >= 0)
                (void)container_state_set_exit(c->dir_fd, c->state, status);
        if (!f.keep) {
                c->dir_fd = safe_close(c->dir_fd);
                r = container_delete(root_fd, f.id, true, &err);
                if (r < 0 && r != -ENOENT)
                        verb_fail("run", f.id, error_message(&err, r));
        }
        return code;
}
