/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One cgroup interface over the three layouts users run:
 *   v1      every controller in its own hierarchy (older hosts)
 *   hybrid  v1 controllers plus a cgroup2 hierarchy holding the rest (this CI machine)
 *   v2      one unified hierarchy (current distributions)
 * A controller lives where the host mounted it: in a v1 hierarchy if one has it, else in
 * the unified hierarchy if that offers it. The driver for each resource is chosen per
 * controller, so hybrid hosts need no special case. See docs/cgroups.md.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "resources.h"

typedef enum CgroupLayout {
        CGROUP_LAYOUT_V1,
        CGROUP_LAYOUT_HYBRID,
        CGROUP_LAYOUT_V2,
        _CGROUP_LAYOUT_MAX,
} CgroupLayout;

typedef enum CgroupController {
        CG_CPU,
        CG_CPUACCT,
        CG_CPUSET,
        CG_MEMORY,
        CG_PIDS,
        CG_IO, /* "blkio" on v1 */
        CG_DEVICES,
        CG_FREEZER,
        CG_HUGETLB,
        CG_NET_CLS,
        CG_NET_PRIO,
        CG_RDMA,
        CG_MISC,
        _CG_MAX,
} CgroupController;

const char *cgroup_controller_v1_name(CgroupController c);
const char *cgroup_controller_v2_name(CgroupController c); /* NULL where v2 has no such controller */

typedef struct Cgroup {
        CgroupLayout layout;
        char *path;          /* "/berth/ID": the same relative path in every hierarchy */
        char *v1[_CG_MAX];   /* v1: this cgroup's directory in the hierarchy holding the controller */
        char *unified;       /* the cgroup2 directory (v2 and hybrid), NULL on pure v1 */
        bool in_v2[_CG_MAX]; /* the controller is served by the unified hierarchy */
} Cgroup;

const char *cgroup_layout_to_string(CgroupLayout l);

/** cgroup_detect_layout() - from /proc/self/mountinfo. */
int cgroup_detect_layout(CgroupLayout *ret, BerthError *err);

/**
 * cgroup_resolve_path() - the cgroup path for a container: linux.cgroupsPath when absolute,
 * relative to "/berth" when relative, "/berth/ID" when absent. Refuses "..", and systemd's
 * "slice:prefix:name" form (the systemd driver is not available).
 */
int cgroup_resolve_path(const char *cgroups_path, const char *id, char **ret, BerthError *err);

/** cgroup_new() - describe the cgroup at @path on this host, without touching anything. */
int cgroup_new(const char *path, Cgroup **ret, BerthError *err);
Cgroup *cgroup_free(Cgroup *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(Cgroup *, cgroup_free)

/** cgroup_create() - make the directories (and enable v2 controllers on the way down). */
int cgroup_create(Cgroup *cg, BerthError *err);

/** cgroup_apply() - write @r's limits; with @update, checkBeforeUpdate is honoured. */
int cgroup_apply(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err);

/** cgroup_attach() - move @pid into the cgroup on every hierarchy. */
int cgroup_attach(Cgroup *cg, pid_t pid, BerthError *err);

/** cgroup_pids() - the processes in the cgroup (sorted). */
int cgroup_pids(Cgroup *cg, pid_t **ret, size_t *ret_n);

/** cgroup_kill_all() - signal every process (frozen meanwhile so none can fork away). */
int cgroup_kill_all(Cgroup *cg, int sig, BerthError *err);

/** cgroup_freeze() - freeze (true) or thaw (false) and wait until the kernel says it is done. */
int cgroup_freeze(Cgroup *cg, bool frozen, BerthError *err);

/** cgroup_is_frozen() - whether the cgroup is frozen. */
bool cgroup_is_frozen(Cgroup *cg);

/** cgroup_oom_kills() - how many processes the OOM killer took from this cgroup (0 if unknown). */
uint64_t cgroup_oom_kills(Cgroup *cg);

/**
 * cgroup_destroy() - kill what is left, then remove the directories on every hierarchy, and
 * empty parents berth created. Missing directories are fine (idempotent).
 */
int cgroup_destroy(Cgroup *cg, BerthError *err);

/** cgroup_read_file() - read a control file of @c's hierarchy ("memory.max"). */
int cgroup_read_file(Cgroup *cg, CgroupController c, const char *file, char **ret);
int cgroup_read_u64(Cgroup *cg, CgroupController c, const char *file, uint64_t *ret);
/** cgroup_dir() - the directory serving @c, or NULL when the host lacks the controller. */
const char *cgroup_dir(const Cgroup *cg, CgroupController c);

/** cgroup_stats_json() - cpu, memory, pids and blkio statistics as runc's `events --stats` data. */
char *cgroup_stats_json(Cgroup *cg);

/* The drivers. */
int cgroup_v1_apply(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err);
int cgroup_v2_apply(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err);
