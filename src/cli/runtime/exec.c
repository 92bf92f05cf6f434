/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* exec: run a new process in a container, from --process FILE or from the
 * container's own process with the arguments and flags given here (as runc). */

#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "runtime/exec.h"
#include "runtime/sealed-exe.h"
#include "verbs.h"

typedef struct ExecFlags {
        const char *process_file;
        const char *pid_file;
        const char *cwd;
        const char *user;
        char **env;
        char **caps;
        const char *additional_gids;
        bool tty;
        bool detach;
        bool no_new_privs;
        ExecOptions opts;
} ExecFlags;

static void exec_usage(void)
{
        printf("Usage: berth-runtime exec [options] ID [COMMAND [ARG...]]\n\n"
               "Run a process in a running container.\n\nOptions:\n"
               "  -p, --process FILE        the process as OCI process JSON (instead of COMMAND)\n"
               "  -d, --detach              do not wait for the process\n"
               "      --pid-file FILE       write the process's pid to FILE\n"
               "  -t, --tty                 allocate a pseudo-terminal\n"
               "      --console-socket PATH send the pty master to this socket\n"
               "      --cwd DIR             working directory\n"
               "  -e, --env KEY=VALUE       set an environment variable (repeatable)\n"
               "  -u, --user UID[:GID]      user to run as\n"
               "  -g, --additional-gids L   comma-separated additional group ids\n"
               "  -c, --cap CAP             add a capability (repeatable)\n"
               "      --no-new-privs        set no_new_privs\n"
               "      --preserve-fds N      pass N more fds (from 3)\n");
}

static int parse_uint32(const char *s, uint32_t *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || !*s || (*end && *end != ':' && *end != ',') || *s == '-' || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return (int)(end - s);
}

static int parse_exec_flags(int argc, char **argv, ExecFlags *f)
{
        enum { ARG_PID_FILE = 0x100, ARG_CONSOLE, ARG_CWD, ARG_NNP, ARG_PRESERVE, ARG_IGNORED };
        static const struct option opts[] = {
                {"process", required_argument, NULL, 'p'},
                {"detach", no_argument, NULL, 'd'},
                {"pid-file", required_argument, NULL, ARG_PID_FILE},
                {"tty", no_argument, NULL, 't'},
                {"console-socket", required_argument, NULL, ARG_CONSOLE},
                {"cwd", required_argument, NULL, ARG_CWD},
                {"env", required_argument, NULL, 'e'},
                {"user", required_argument, NULL, 'u'},
                {"additional-gids", required_argument, NULL, 'g'},
                {"cap", required_argument, NULL, 'c'},
                {"no-new-privs", no_argument, NULL, ARG_NNP},
                {"preserve-fds", required_argument, NULL, ARG_PRESERVE},
                {"process-label", required_argument, NULL, ARG_IGNORED},
                {"apparmor", required_argument, NULL, ARG_IGNORED},
                {"cgroup", required_argument, NULL, ARG_IGNORED},
                {"ignore-paused", no_argument, NULL, ARG_IGNORED},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+p:dte:u:g:c:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        f->process_file = optarg;
                        break;
                case 'd':
                        f->detach = true;
                        break;
                case ARG_PID_FILE:
                        f->pid_file = optarg;
                        break;
                case 't':
                        f->tty = true;
                        break;
                case ARG_CONSOLE:
                        f->opts.console_socket = optarg;
                        break;
                case ARG_CWD:
                        f->cwd = optarg;
                        break;
                case 'e':
                        if (!strchr(optarg, '=') || strv_extend(&f->env, optarg) < 0)
                                return verb_usage_error("exec", "--env: expected KEY=VALUE, got \"%s\"",
                                                        optarg);
                        break;
                case 'u':
                        f->user = optarg;
                        break;
                case 'g':
                        f->additional_gids = optarg;
                        break;
                case 'c':
                        if (strv_extend(&f->caps, optarg) < 0)
                                return 1;
                        break;
                case ARG_NNP:
                        f->no_new_privs = true;
                        break;
                case ARG_PRESERVE: {
                        uint32_t n;
                        if (parse_uint32(optarg, &n) != (int)strlen(optarg) || n > 65536)
                                return verb_usage_error("exec", "--preserve-fds: invalid number \"%s\"",
                                                        optarg);
                        f->opts.preserve_fds = n;
                        break;
                }
                case ARG_IGNORED:
                        break;
                case 'h':
                        exec_usage();
                        exit(0);
                default:
                        return verb_usage_error("exec", "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return verb_usage_error("exec", "a container ID is required");
        if (!f->process_file && optind + 1 >= argc)
                return verb_usage_error("exec", "a command or --process FILE is required");
        return 0;
}

static int add_cap(OciCapabilities *caps, CapabilitySet set, int cap)
{
        for (size_t i = 0; i < caps->n_caps[set]; i++)
                if (caps->caps[set][i] == cap)
                        return 0;
        int *n = realloc(caps->caps[set], (caps->n_caps[set] + 1) * sizeof(int));
        if (!n)
                return -ENOMEM;
        n[caps->n_caps[set]++] = cap;
        caps->caps[set] = n;
        return 0;
}

/* Apply the command-line overrides to a copy of the container's process, as runc does. */
static int apply_overrides(OciProcess *p, ExecFlags *f, char **args, BerthError *err)
{
        if (args && args[0]) {
                strv_free(p->args);
                p->args = strv_copy(args);
                if (!p->args)
                        return -ENOMEM;
        }
        STRV_FOREACH (e, f->env)
                if (strv_env_set(&p->env, *e) < 0)
                        return -ENOMEM;
        if (f->cwd) {
                if (f->cwd[0] != '/')
                        return error_setx(err, -EINVAL, "--cwd: must be an absolute path, got \"%s\"",
                                          f->cwd);
                free(p->cwd);
                p->cwd = strdup(f->cwd);
                if (!p->cwd)
                        return -ENOMEM;
        }
        if (f->user) {
                uint32_t uid, gid = 0;
                int n = parse_uint32(f->user, &uid);
                if (n < 0 || (f->user[n] == ':' && parse_uint32(f->user + n + 1, &gid) < 0) ||
                    (f->user[n] && f->user[n] != ':'))
                        return error_setx(err, -EINVAL, "--user: expected UID[:GID], got \"%s\"", f->user);
                p->user.uid = uid;
                p->user.gid = gid;
        }
        if (f->additional_gids) {
                free(p->user.additional_gids);
                p->user.additional_gids = NULL;
                p->user.n_additional_gids = 0;
                for (const char *s = f->additional_gids; *s;) {
                        uint32_t g;
                        int n = parse_uint32(s, &g);
                        if (n <= 0)
                                return error_setx(err, -EINVAL, "--additional-gids: invalid list \"%s\"",
                                                  f->additional_gids);
                        gid_t *a = realloc(p->user.additional_gids,
                                           (p->user.n_additional_gids + 1) * sizeof(gid_t));
                        if (!a)
                                return -ENOMEM;
                        a[p->user.n_additional_gids++] = g;
                        p->user.additional_gids = a;
                        s += n;
                        if (*s == ',')
                                s++;
                }
        }
        STRV_FOREACH (name, f->caps) {
                cap_value_t v;
                if (cap_from_name(*name, &v) < 0)
                        return error_setx(err, -EINVAL, "--cap: unknown capability \"%s\"", *name);
                if (!p->capabilities && !(p->capabilities = calloc(1, sizeof(OciCapabilities))))
                        return -ENOMEM;
                /* Not inheritable (nor ambient), as runc since CVE-2022-29162: an inheritable
                 * capability passes on to any program whose file capabilities name it. */
                for (CapabilitySet s = 0; s < _CAP_SET_MAX; s++)
                        if (s != CAP_SET_AMBIENT && s != CAP_SET_INHERITABLE &&
                            add_cap(p->capabilities, s, v) < 0)
                                return -ENOMEM;
        }
        if (f->no_new_privs)
                p->no_new_privileges = true;
        if (f->tty)
                p->terminal = true;
        else if (args && args[0])
                p->terminal = false;
        return 0;
}

static int load_process(Container *c, ExecFlags *f, char **args, OciProcess **ret, BerthError *err)
{
        _cleanup_(oci_process_freep) OciProcess *p = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        if (f->process_file) {
                r = read_full_file_at(AT_FDCWD, f->process_file, 4 << 20, &text, &len);
                if (r < 0)
                        return error_set(err, r, "--process: open \"%s\"", f->process_file);
                r = oci_process_parse_text(text, len, &p, err);
                if (r < 0) {
                        error_prefix(err, "--process \"%s\": ", f->process_file);
                        return r;
                }
        } else {
                /* Re-parse the saved process: a private copy to modify. */
                r = read_full_file_at(c->dir_fd, CONFIG_FILE, 16 << 20, &text, &len);
                if (r < 0)
                        return error_set(err, r, "read saved config");
                _cleanup_(oci_config_freep) OciConfig *cfg = NULL;
                r = oci_config_parse(text, len, &cfg, err);
                if (r < 0)
                        return r;
                p = TAKE_PTR(cfg->process);
        }
        r = apply_overrides(p, f, args, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int verb_exec(int argc, char **argv, const GlobalOptions *g)
{
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_(oci_process_freep) OciProcess *p = NULL;
        _cleanup_close_ int root_fd = -EBADF, sfd = -EBADF, master = -EBADF;
        ExecFlags f = {};
        BerthError err = {0};
        const char *id;
        pid_t pid;
        int r;

        if (parse_exec_flags(argc, argv, &f) != 0)
                return 1;
        id = argv[optind];
        char **args = argv + optind + 1;
        /* exec always enters a populated container: only from a sealed copy (CVE-2019-5736). */
        r = sealed_exe_reexec(g->argv);
        if (r < 0) {
                error_set(&err, r, "re-execute from a sealed copy of the runtime");
                goto fail;
        }
        if ((root_fd = open_root(g, "exec", id)) < 0)
                return 1;
        r = container_open(root_fd, id, LOCK_SH, &c, &err);
        if (r >= 0)
                r = load_process(c, &f, args, &p, &err);
        if (r < 0)
                goto fail;
        /* The container's state lock is not needed while the process runs. */
        flock(c->dir_fd, LOCK_UN);
        f.opts.foreground = !f.detach;
        if (!f.detach) {
                sfd = forwarding_signalfd();
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        r = container_exec(c, p, &f.opts, &pid, &master, &err);
        if (r < 0)
                goto fail;
        if (f.pid_file) {
                r = pid_file_write(f.pid_file, pid, &err);
                if (r < 0) {
                        kill(pid, SIGKILL); /* nobody would know which process to wait for */
                        goto fail;
                }
        }
        strv_free(f.env);
        strv_free(f.caps);
        if (f.detach)
                return 0;
        return wait_child_forwarding(pid, sfd, master, NULL);
fail:
        strv_free(f.env);
        strv_free(f.caps);
        return verb_fail("exec", id, error_message(&err, r));
}
