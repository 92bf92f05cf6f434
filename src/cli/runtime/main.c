/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* berth-runtime: the OCI runtime, with runc's command line so that containerd,
 * Podman and CRI-O can call it in runc's place. */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "basic/log.h"
#include "runtime/container.h"
#include "verbs.h"

static const struct {
        const char *name;
        VerbFunc func;
        const char *summary;
} verbs[] = {
        {"create", verb_create, "create a container"},
        {"start", verb_start, "start a created container"},
        {"run", verb_run, "create and start a container, and wait for it"},
        {"state", verb_state, "print the state of a container"},
        {"kill", verb_kill, "send a signal to a container's init"},
        {"delete", verb_delete, "delete a container"},
        {"list", verb_list, "list containers"},
        {"exec", verb_exec, "run a process in a running container"},
        {"ps", verb_ps, "list the processes of a container"},
        {"pause", verb_pause, "freeze every process of a container"},
        {"resume", verb_resume, "thaw a paused container"},
        {"update", verb_update, "change the resource limits of a running container"},
        {"events", verb_events, "print statistics and OOM events"},
        {"spec", verb_spec, "write a new config.json"},
        {"features", verb_features, "print the features this runtime supports"},
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: berth-runtime [global options] COMMAND [options] [ID] [args]\n\n"
                   "An OCI container runtime with runc's command line.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\nGlobal options:\n"
                   "  --root DIR            state directory (default /run/berth)\n"
                   "  --log FILE            also write errors to FILE\n"
                   "  --log-format FORMAT   text or json (default text)\n"
                   "  --debug               log debug messages\n"
                   "  --cgroup-manager M    cgroupfs (default), systemd or disabled\n"
                   "  --systemd-cgroup      same as --cgroup-manager=systemd\n"
                   "  --rootless VALUE      accepted for compatibility (auto, true, false)\n"
                   "  --criu PATH           accepted for compatibility (checkpointing is not supported)\n"
                   "  -v, --version         print the version\n"
                   "  -h, --help            show this help\n"
                   "\nRun 'berth-runtime COMMAND --help' for a command's options.\n");
}

int verb_fail(const char *verb, const char *id, const char *msg)
{
        if (id)
                log_error("%s %s: %s", verb, id, msg);
        else
                log_error("%s: %s", verb, msg);
        return 1;
}

int verb_usage_error(const char *verb, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_error("%s: %s (see 'berth-runtime %s --help')", verb, msg, verb);
        return 1;
}

int open_root(const GlobalOptions *g, const char *verb, const char *id)
{
        BerthError err = {0};
        int fd;
        int r = state_root_open(g->root, &fd, &err);
        if (r < 0) {
                verb_fail(verb, id, error_message(&err, r));
                return -1;
        }
        return fd;
}

int main(int argc, char **argv)
{
        GlobalOptions g = {.root = "/run/berth", .argv = argv};
        const char *log_path = NULL;
        LogFormat log_format = LOG_FORMAT_TEXT;
        enum {
                ARG_ROOT = 0x100,
                ARG_LOG,
                ARG_LOG_FORMAT,
                ARG_DEBUG,
                ARG_SYSTEMD,
                ARG_ROOTLESS,
                ARG_CRIU,
                ARG_CGROUP_MANAGER
        };
        static const struct option opts[] = {
                {"root", required_argument, NULL, ARG_ROOT},
                {"log", required_argument, NULL, ARG_LOG},
                {"log-format", required_argument, NULL, ARG_LOG_FORMAT},
                {"debug", no_argument, NULL, ARG_DEBUG},
                {"systemd-cgroup", no_argument, NULL, ARG_SYSTEMD},
                {"rootless", required_argument, NULL, ARG_ROOTLESS},
                {"criu", required_argument, NULL, ARG_CRIU},
                {"cgroup-manager", required_argument, NULL, ARG_CGROUP_MANAGER},
                {"version", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        log_setup("berth-runtime", NULL, LOG_FORMAT_TEXT, false);
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) >= 0) {
                switch (c) {
                case ARG_ROOT:
                        g.root = optarg;
                        break;
                case ARG_LOG:
                        log_path = optarg;
                        break;
                case ARG_LOG_FORMAT:
                        log_format = log_format_from_string(optarg);
                        if (log_format < 0) {
                                log_error("--log-format: unknown format \"%s\" (text or json)", optarg);
                                return 1;
                        }
                        break;
                case ARG_DEBUG:
                        g.debug = true;
                        break;
                case ARG_SYSTEMD:
                        g.cgroup_manager = CGROUP_MANAGER_SYSTEMD;
                        break;
                case ARG_CGROUP_MANAGER:
                        g.cgroup_manager = cgroup_manager_from_string(optarg);
                        if (g.cgroup_manager < 0) {
                                log_error("--cgroup-manager: unknown manager \"%s\" (cgroupfs, systemd or "
                                          "disabled)",
                                          optarg);
                                return 1;
                        }
                        break;
                case ARG_ROOTLESS:
                        g.rootless = streq(optarg, "true");
                        break;
                case ARG_CRIU:
                        break;
                case 'v':
                        printf("berth-runtime version %s\nspec: 1.2.0\n", BERTH_VERSION);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        log_error("unknown global option \"%s\" (see 'berth-runtime --help')",
                                  argv[optind - 1]);
                        return 1;
                }
        }
        if (log_setup("berth-runtime", log_path, log_format, g.debug) < 0) {
                log_error("--log: cannot open \"%s\": %m", log_path);
                return 1;
        }
        if (optind >= argc) {
                usage(stderr);
                return 1;
        }
        const char *verb = argv[optind];
        int first = optind;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, verb)) {
                        /* Each verb sees argv starting at its own name; optind = 0 resets getopt. */
                        optind = 0;
                        return verbs[i].func(argc - first, argv + first, &g);
                }
        log_error("unknown command \"%s\" (see 'berth-runtime --help')", verb);
        return 1;
}
