/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "process.h"

int process_prepare_privileged(const OciProcess *p, BerthError *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
                if (setrlimit(p->rlimits[i].resource, &rl) < 0) {
                        int r = negative_errno();
                        struct rlimit own;
                        if (r == -EPERM && getrlimit(p->rlimits[i].resource, &own) == 0)
                                return error_setx(
                                        err, r,
                                        "process.rlimits[%zu]: hard limit %llu is above the runtime's "
                                        "own hard limit %llu, and raising it needs CAP_SYS_RESOURCE",
                                        i, (unsigned long long)p->rlimits[i].hard,
                                        (unsigned long long)own.rlim_max);
                        return error_set(err, r, "process.rlimits[%zu]: setrlimit", i);
                }
        }
        if (p->has_oom_score_adj) {
                char v[32];
                snprintf(v, sizeof(v), "%d", p->oom_score_adj);
                /* Into procfs itself, not through whatever the container mounted over it (exec
                 * enters a running container; CVE-2025-52881). */
                _cleanup_close_ int fd = procfs_open("self/oom_score_adj", O_WRONLY | O_NOCTTY);
                int r = fd;
                if (fd >= 0)
                        r = write(fd, v, strlen(v)) < 0 ? negative_errno() : 0;
                if (r < 0)
                        return error_set(err, r, "process.oomScoreAdj: set %d%s", p->oom_score_adj,
                                         r == -EACCES || r == -EPERM
                                                 ? " (lowering it needs CAP_SYS_RESOURCE)"
                                         : r == -EMEDIUMTYPE || r == -EXDEV
                                                 ? " (/proc/self/oom_score_adj is not procfs's own)"
                                                 : "");
        }
        return 0;
}

static int caps_apply_bounding(const OciCapabilities *c, BerthError *err)
{
        for (int cap = 0; cap < (int)cap_max_bits(); cap++) {
                bool keep = false;
                for (size_t i = 0; i < c->n_caps[CAP_SET_BOUNDING]; i++)
                        keep = keep || c->caps[CAP_SET_BOUNDING][i] == cap;
                if (keep)
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return error_set(err, negative_errno(), "drop capability %d from the bounding set",
                                         cap);
        }
        return 0;
}

static int caps_apply_sets(const OciCapabilities *c, BerthError *err)
{
        static const struct {
                CapabilitySet set;
                cap_flag_t flag;
        } map[] = {
                {CAP_SET_EFFECTIVE, CAP_EFFECTIVE},
                {CAP_SET_PERMITTED, CAP_PERMITTED},
                {CAP_SET_INHERITABLE, CAP_INHERITABLE},
        };
        cap_t caps = cap_init();
        int r = 0;

        if (!caps)
                return -ENOMEM;
        for (size_t m = 0; m < ELEMENTSOF(map); m++)
                for (size_t i = 0; i < c->n_caps[map[m].set]; i++) {
                        cap_value_t v = c->caps[map[m].set][i];
                        cap_set_flag(caps, map[m].flag, 1, &v, CAP_SET);
                }
        if (cap_set_proc(caps) < 0)
                r = error_set(err, negative_errno(), "set process capabilities");
        cap_free(caps);
        if (r < 0)
                return r;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return error_set(err, negative_errno(), "clear ambient capabilities");
        for (size_t i = 0; i < c->n_caps[CAP_SET_AMBIENT]; i++) {
                /* Like runc: an ambient capability not also inheritable and permitted is skipped. */
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c->caps[CAP_SET_AMBIENT][i], 0, 0) < 0 &&
                    errno != EPERM && errno != EINVAL)
                        return error_set(err, negative_errno(), "raise ambient capability %d",
                                         c->caps[CAP_SET_AMBIENT][i]);
        }
        return 0;
}

/* The config may name capabilities newer than the running kernel (libcap knows them). */
int process_check_capabilities(const OciCapabilities *c, BerthError *err)
{
        static const char *const set_names[_CAP_SET_MAX] = {"bounding", "effective", "inheritable",
                                                            "permitted", "ambient"};
        int max = (int)cap_max_bits();

        for (int s = 0; s < _CAP_SET_MAX; s++)
                for (size_t i = 0; i < c->n_caps[s]; i++)
                        if (c->caps[s][i] >= max) {
                                char *name = cap_to_name(c->caps[s][i]);
                                error_setx(
                                        err, -EOPNOTSUPP,
                                        "process.capabilities.%s[%zu]: %s is not supported by this kernel "
                                        "(it knows capabilities 0 to %d)",
                                        set_names[s], i, name ? name : "?", max - 1);
                                cap_free(name);
                                return -EOPNOTSUPP;
                        }
        return 0;
}

int process_switch_user(const OciProcess *p, BerthError *err)
{
        const OciCapabilities *c = p->capabilities;

        if (c) {
                int r = process_check_capabilities(c, err);
                if (r < 0)
                        return r;
        }

        if (c) {
                int r = caps_apply_bounding(c, err);
                if (r < 0)
                        return r;
                if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                        return error_set(err, negative_errno(), "keep capabilities across setuid");
        }
        if (setgroups(p->user.n_additional_gids, p->user.additional_gids) < 0 && errno != EPERM)
                return error_set(err, negative_errno(), "process.user.additionalGids: setgroups");
        if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
                return error_set(err, negative_errno(), "process.user.gid: set gid %u",
                                 (unsigned)p->user.gid);
        if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
                return error_set(err, negative_errno(), "process.user.uid: set uid %u",
                                 (unsigned)p->user.uid);
        if (c) {
                if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                        return error_set(err, negative_errno(), "reset keep-capabilities");
                return caps_apply_sets(c, err);
        }
        return 0;
}

static int find_in_path(const char *name, const char *path_env, char **ret)
{
        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return negative_errno();
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
        const char *p = path_env ? path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        int last = -ENOENT;
        while (*p) {
                const char *colon = strchrnul(p, ':');
                size_t n = (size_t)(colon - p);
                char candidate[4096];
                int k = snprintf(candidate, sizeof(candidate), "%.*s%s%s", (int)n, p, n ? "/" : "", name);
                if (k > 0 && (size_t)k < sizeof(candidate)) {
                        struct stat st;
                        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
                                if (access(candidate, X_OK) == 0) {
                                        *ret = strdup(candidate);
                                        return *ret ? 0 : -ENOMEM;
                                }
                                last = -EACCES;
                        }
                }
                p = *colon ? colon + 1 : colon;
        }
        return last;
}

int process_find_executable(const OciProcess *p, char **ret_path, BerthError *err)
{
        int r = find_in_path(p->args[0], strv_env_get(p->env, "PATH"), ret_path);
        /* runc's words: the client (Docker, Podman) turns them into exit status 127. */
        if (r == -ENOENT && !strchr(p->args[0], '/'))
                return error_setx(err, r, "exec \"%s\": executable file not found in $PATH", p->args[0]);
        if (r < 0)
                return error_set(err, r, "exec \"%s\"", p->args[0]);
        return 0;
}

/* CVE-2024-21626: every fd but stdio, the --preserve-fds and the sync socket is closed before the
 * cwd and the program's path are resolved. CLOEXEC alone would close them only once execve() had
 * walked the path, so chdir("/proc/self/fd/N") or a program "/proc/self/fd/N/../../bin/sh" would
 * reach the host through the runtime's own fds (its --root and state directories, in `exec`).
 * The sync socket (CLOEXEC) leads nowhere as a path. */
static void close_inherited_fds(unsigned preserve_fds, int sync_fd)
{
        unsigned first = 3 + preserve_fds;
        bool closed;

        if (sync_fd >= (int)first)
                closed = (sync_fd == (int)first || syscall(SYS_close_range, first, sync_fd - 1, 0) == 0) &&
                         syscall(SYS_close_range, sync_fd + 1, ~0U, 0) == 0;
        else
                closed = syscall(SYS_close_range, first, ~0U, 0) == 0;
        if (closed)
                return;
        /* close_range() refused: an old kernel, or a seccomp filter loaded before the user switch. */
        for (int fd = (int)first; fd < 65536; fd++)
                if (fd != sync_fd)
                        close(fd);
}

/* The cwd must lie inside the container's root. Reached through an fd (one of --preserve-fds, or
 * a magic link), it may not: the kernel's getcwd() then reports it "(unreachable)" (CVE-2024-21626). */
static int check_cwd_in_root(const char *cwd, BerthError *err)
{
        char buf[PATH_MAX];

        if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0)
                return error_set(err, negative_errno(), "process.cwd: \"%s\"", cwd);
        if (buf[0] != '/')
                return error_setx(err, -EPERM, "process.cwd: \"%s\" is outside the container's root", cwd);
        return 0;
}

int process_exec(const OciProcess *p, const char *path, unsigned preserve_fds, const SeccompPlan *seccomp,
                 int sync_fd, BerthError *err)
{
        close_inherited_fds(preserve_fds, sync_fd);
        if (p->cwd && chdir(p->cwd) < 0)
                return error_set(err, negative_errno(), "process.cwd: chdir to \"%s\"", p->cwd);
        if (p->cwd) {
                int r = check_cwd_in_root(p->cwd, err);
                if (r < 0)
                        return r;
        }
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return error_set(err, negative_errno(), "set no_new_privs");
        umask(p->user.has_umask ? p->user.umask : 0022);
        /* Last, so that the profile only has to allow execve() itself (runc's order). */
        if (seccomp) {
                int r = seccomp_plan_load(seccomp, sync_fd, err);
                if (r < 0)
                        return r;
        }
        execve(path, p->args, p->env ? p->env : (char *[]){NULL});
        return error_set(err, negative_errno(), "exec \"%s\"", p->args[0]);
}
