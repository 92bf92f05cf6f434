/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth exec: a command in a running container, through berth-runtime exec. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/strbuf.h"
#include "basic/strv.h"
#include "containers.h"
#include "image/bundle.h"
#include "image/store.h"

/* Docker's status for a failure of the exec command itself. */
#define EXEC_EXIT_ERROR 125

enum {
        OPT_STORAGE = 0x100,
};

typedef struct ExecArgs {
        const char *storage;
        const char *user;
        const char *workdir;
        char **env;
        bool tty;
        bool detach;
        bool interactive; /* -i: stdin passed on (else /dev/null, as Docker) */
} ExecArgs;

static void exec_usage(FILE *f)
{
        fprintf(f, "Usage: berth exec [options] ID CMD [ARG...]\n\n"
                   "Run CMD in the running container ID and exit with its status (125 when berth exec\n"
                   "itself fails).\n\n"
                   "  -d, --detach          do not wait for CMD\n"
                   "  -t, --tty             allocate a terminal\n"
                   "  -i, --interactive     pass stdin on (else the command reads /dev/null; with -t the\n"
                   "                        terminal is always passed on)\n"
                   "  -e, --env K=V         set an environment variable (repeatable)\n"
                   "  -u, --user USER       name, uid, uid:gid, name:group (default: the container's)\n"
                   "  -w, --workdir DIR     working directory (absolute)\n"
                   "      --storage DIR     the store (default " STORE_DEFAULT_ROOT ")\n"
                   "  -h, --help            this text\n");
}

static int parse_args(int argc, char **argv, ExecArgs *a)
{
        static const struct option opts[] = {
                {"detach", no_argument, NULL, 'd'},
                {"tty", no_argument, NULL, 't'},
                {"interactive", no_argument, NULL, 'i'},
                {"env", required_argument, NULL, 'e'},
                {"user", required_argument, NULL, 'u'},
                {"workdir", required_argument, NULL, 'w'},
                {"storage", required_argument, NULL, OPT_STORAGE},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+dtie:u:w:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        a->detach = true;
                        break;
                case 't':
                        a->tty = true;
                        break;
                case 'i':
                        a->interactive = true;
                        break;
                case 'e':
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                fprintf(stderr, "berth: exec: -e \"%s\": expected KEY=VALUE\n", optarg);
                                return -EINVAL;
                        }
                        if (strv_extend(&a->env, optarg) < 0)
                                return -ENOMEM;
                        break;
                case 'u':
                        a->user = optarg;
                        break;
                case 'w':
                        if (optarg[0] != '/') {
                                fprintf(stderr, "berth: exec: -w \"%s\": must be an absolute path\n",
                                        optarg);
                                return -EINVAL;
                        }
                        a->workdir = optarg;
                        break;
                case OPT_STORAGE:
                        a->storage = optarg;
                        break;
                case 'h':
                        exec_usage(stdout);
                        return 1;
                default:
                        exec_usage(stderr);
                        return -EINVAL;
                }
        }
        if (a->detach && a->tty) {
                fprintf(stderr, "berth: exec: -d and -t together: nobody would read the terminal\n");
                return -EINVAL;
        }
        if (argc - optind < 2) {
                fprintf(stderr, "berth: exec: expected ID and CMD (see 'berth exec --help')\n");
                return -EINVAL;
        }
        return 0;
}

/* -u as berth run takes it (names from the container's /etc/passwd and /etc/group), turned into
 * the runtime's numeric -u UID:GID and -g GIDS, and HOME from passwd (Docker sets it too). */
static int user_args(ContainerRef *c, const char *spec, char ***args, BerthError *err)
{
        _cleanup_(bundle_user_done) BundleUser u = {};
        _cleanup_(strbuf_done) StrBuf gids = STRBUF_INIT;
        _cleanup_close_ int rootfs_fd = -EBADF;
        char ids[32];
        int r;

        rootfs_fd = openat(c->cdir_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfs_fd < 0)
                return error_set(err, negative_errno(), "open the container's rootfs");
        r = image_bundle_resolve_user(rootfs_fd, spec, &u, err);
        if (r < 0)
                return r;
        snprintf(ids, sizeof(ids), "%u:%u", u.uid, u.gid);
        strbuf_puts(&gids, "HOME=");
        strbuf_puts(&gids, u.home);
        if (strbuf_failed(&gids) || strv_extend(args, "-e") < 0 || strv_extend(args, gids.ptr) < 0 ||
            strv_extend(args, "-u") < 0 || strv_extend(args, ids) < 0)
                return -ENOMEM;
        gids.len = 0;
        for (size_t i = 0; i < u.n_additional_gids; i++)
                strbuf_printf(&gids, "%s%u", i ? "," : "", u.additional_gids[i]);
        if (u.n_additional_gids > 0 &&
            (strbuf_failed(&gids) || strv_extend(args, "-g") < 0 || strv_extend(args, gids.ptr) < 0))
                return -ENOMEM;
        return 0;
}

static int runtime_exec_args(ExecArgs *a, ContainerRef *c, char **cmd, const char *log_path, char ***ret,
                             BerthError *err)
{
        _cleanup_(strv_freep) char **args = NULL;
        int r;

        /* Global flags first: the runtime's own errors into @log_path (see berth_exec()). */
        if (strv_extend(&args, "--log") < 0 || strv_extend(&args, log_path) < 0 ||
            strv_extend(&args, "--log-format") < 0 || strv_extend(&args, "json") < 0 ||
            strv_extend(&args, "exec") < 0)
                return -ENOMEM;
        if (a->user) {
                r = user_args(c, a->user, &args, err);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH (e, a->env)
                if (strv_extend(&args, "-e") < 0 || strv_extend(&args, *e) < 0)
                        return -ENOMEM;
        if ((a->workdir && (strv_extend(&args, "--cwd") < 0 || strv_extend(&args, a->workdir) < 0)) ||
            (a->tty && strv_extend(&args, "--tty") < 0) ||
            (a->detach && strv_extend(&args, "--detach") < 0) || strv_extend(&args, c->id) < 0)
                return -ENOMEM;
        STRV_FOREACH (arg, cmd)
                if (strv_extend(&args, *arg) < 0)
                        return -ENOMEM;
        *ret = runtime_client_argv(&c->runtime, (const char *const *)args);
        return *ret ? 0 : -ENOMEM;
}

int berth_exec(int argc, char **argv)
{
        _cleanup_(container_ref_done) ContainerRef c = {.cdir_fd = -EBADF};
        _cleanup_(strv_freep) char **runtime_argv = NULL;
        _cleanup_close_ int log_fd = -EBADF;
        char log_path[64];
        ExecArgs a = {.storage = STORE_DEFAULT_ROOT};
        BerthError err = {};
        RuntimeState st;
        const char *id;
        int r;

        r = parse_args(argc, argv, &a);
        if (r != 0) {
                strv_free(a.env);
                return r > 0 ? 0 : EXEC_EXIT_ERROR;
        }
        id = argv[optind];
        r = container_ref_open(a.storage, id, &c);
        if (r == -ENOENT)
                r = cli_container_fail("exec", id, EXEC_EXIT_ERROR, "no such container");
        else if (r < 0 || (r = runtime_client_state(&c.runtime, id, &st)) < 0)
                r = cli_container_fail("exec", id, EXEC_EXIT_ERROR, "%s", strerror(-r));
        else if (st.status != RUNTIME_STATUS_RUNNING)
                r = cli_container_fail("exec", id, EXEC_EXIT_ERROR, "container is not running%s",
                                       st.status == RUNTIME_STATUS_PAUSED ? " (it is paused)" : "");
        else if ((log_fd = memfd_create("berth-exec-log", 0)) < 0)
                r = cli_container_fail("exec", id, EXEC_EXIT_ERROR, "memfd: %s", strerror(errno));
        else if (snprintf(log_path, sizeof(log_path), "/proc/self/fd/%d", log_fd) < 0 ||
                 (r = runtime_exec_args(&a, &c, argv + optind + 1, log_path, &runtime_argv, &err)) < 0)
                r = cli_container_fail("exec", id, EXEC_EXIT_ERROR, "%s", error_message(&err, r));
        strv_free(a.env);
        if (r != 0)
                return r;
        /* The command's status passes through, signals are forwarded. The runtime's own failure
         * (it logs an error line only then, into the memfd it inherits and reopens by that path)
         * is told from the command's status as `berth run` does: 127 not found, 126 cannot
         * execute, 125 anything else. */
        r = runtime_client_foreground(runtime_argv, !a.interactive && !a.tty, -EBADF);
        if (r < 0)
                return cli_container_fail("exec", id, EXEC_EXIT_ERROR, "run %s: %s", runtime_argv[0],
                                          strerror(-r));
        if (r != 0) {
                _cleanup_free_ char *why = runtime_log_last_error(AT_FDCWD, log_path);
                if (why)
                        r = runtime_error_exit_status(why);
        }
        return r;
}
