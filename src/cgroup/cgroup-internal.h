/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the v1 and v2 drivers. */

#include "cgroup.h"

/**
 * cg_write() - write @value to @file of the directory serving @c. Errors name the OCI
 * field: "linux.resources.memory.limit: the kernel refused \"1\" for memory.max: ...".
 */
int cg_write(Cgroup *cg, CgroupController c, const char *file, const char *value, const char *field,
             BerthError *err);

/** cg_require() - fail with "<field>: the <name> controller is not available on this host". */
int cg_require(Cgroup *cg, CgroupController c, const char *field, BerthError *err);

/** cg_served_by_v1() / cg_served_by_v2() - which driver handles @c here. */
static inline bool cg_served_by_v1(const Cgroup *cg, CgroupController c)
{
        return cg->v1[c] != NULL;
}
static inline bool cg_served_by_v2(const Cgroup *cg, CgroupController c)
{
        return cg->v1[c] == NULL && cg->in_v2[c];
}

struct json_object;
typedef struct DeviceRule DeviceRule;

/** device_rules_for_container() - the config's device rules followed by the defaults (runc's order). */
int device_rules_for_container(struct json_object *devices, DeviceRule **ret, size_t *ret_n,
                               BerthError *err);
