/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The OCI lifecycle, runtime side. create sets a container up and leaves its init
 * blocked on exec.fifo; start releases it; kill signals it; delete removes what
 * create made. See docs/ARCHITECTURE.md for the process diagram.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "oci/config.h"
#include "cgroup/cgroup.h"
#include "seccomp.h"
#include "state.h"

typedef enum CgroupManager {
        CGROUP_MANAGER_CGROUPFS,
        CGROUP_MANAGER_SYSTEMD,
        CGROUP_MANAGER_DISABLED,
        _CGROUP_MANAGER_MAX,
        _CGROUP_MANAGER_INVALID = -EINVAL,
} CgroupManager;

CgroupManager cgroup_manager_from_string(const char *s);

typedef struct CreateOptions {
        CgroupManager cgroup_manager;
        const char *bundle; /* default "." */
        const char *pid_file;
        const char *console_socket;
        bool no_pivot;
        bool no_new_keyring;
        unsigned preserve_fds;
        bool foreground;    /* `run` without --detach: keep the terminal master for the caller */
        char **reexec_argv; /* the runtime's own argv, to re-execute from a sealed copy (sealed-exe.h) */
} CreateOptions;

typedef struct Container {
        char *id;
        char *bundle; /* absolute */
        char *rootfs; /* absolute */
        OciConfig *config;
        int root_fd; /* borrowed */
        int dir_fd;  /* locked */
        pid_t init_pid;
        int console_master; /* foreground terminal runs: the pty master, else -EBADF */
        ContainerState *state;
        Cgroup *cgroup; /* NULL when cgroups are disabled */
        CgroupResources *resources;
        SeccompPlan *seccomp; /* linux.seccomp compiled, NULL for none */
} Container;

Container *container_free(Container *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Container *, container_free)

/**
 * container_create() - create container @id from @o->bundle under @root_fd.
 * On failure nothing is left: no state directory, no process, no mount.
 */
int container_create(int root_fd, const char *id, const CreateOptions *o, Container **ret, BerthError *err);

/** container_start() - release a created container's init; runs poststart hooks. */
int container_start(int root_fd, const char *id, BerthError *err);

/** container_start_locked() - start with the directory already locked (used by `run`). */
int container_start_locked(Container *c, BerthError *err);

/** container_kill() - send @sig to the init, or with @all to every process in its cgroup. */
int container_kill(int root_fd, const char *id, int sig, bool all, BerthError *err);

/** container_delete() - remove a stopped (or created) container; @force kills a running one first. */
int container_delete(int root_fd, const char *id, bool force, BerthError *err);

/** container_open() - load a container's state and config; @lock_op is LOCK_EX or LOCK_SH. */
int container_open(int root_fd, const char *id, int lock_op, Container **ret, BerthError *err);

/** container_signal() - send @sig to the init through a pidfd, guarding against pid reuse. */
int container_signal(const ContainerState *s, int sig);

/** container_destroy_init() - SIGKILL the init and wait until it is gone (bounded). */
void container_destroy_init(pid_t pid, uint64_t start_time);

/** container_pause() - freeze (@pause) or thaw every process of a running container. */
int container_pause(int root_fd, const char *id, bool pause, BerthError *err);

/**
 * container_update() - apply new resource limits to a running container (JSON text of a
 * linux.resources object) and remember them in the saved config.
 */
int container_update(int root_fd, const char *id, const char *resources_json, BerthError *err);

/** container_open_cgroup() - the container's cgroup from its state (NULL if it has none). */
int container_open_cgroup(Container *c, BerthError *err);

/**
 * container_cgroup_admit() - move a setup process (stage 1 of create or exec) into the
 * container's cgroup and let it go on (SYNC_GO). On failure the process is killed and reaped.
 */
int container_cgroup_admit(Cgroup *cg, pid_t stage1, int sock, BerthError *err);

/** container_init_main() - the child side of create (never returns). Internal to runtime/. */
typedef struct InitArgs InitArgs;
_noreturn_ void container_init_main(InitArgs *a);
