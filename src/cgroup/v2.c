/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The cgroup v2 driver: the resources whose controller the unified hierarchy serves. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "cgroup-internal.h"
#include "devices-bpf.h"

static int write_max(Cgroup *cg, CgroupController c, const char *file, int64_t v, const char *field,
                     BerthError *err)
{
        char buf[32];
        if (v < 0)
                strcpy(buf, "max");
        else
                snprintf(buf, sizeof(buf), "%" PRId64, v);
        return cg_write(cg, c, file, buf, field, err);
}

/* OCI's swap is memory+swap (v1's memsw); v2's memory.swap.max is swap alone. */
static int v2_swap_value(const CgroupResources *r, Cgroup *cg, int64_t *ret, BerthError *err)
{
        int64_t limit = r->has_memory_limit ? r->memory_limit : 0;
        if (!r->has_memory_limit) {
                uint64_t cur;
                if (cgroup_read_u64(cg, CG_MEMORY, "memory.max", &cur) >= 0)
                        limit = cur == UINT64_MAX ? -1 : (int64_t)cur;
        }
        if (r->memory_swap == -1) {
                *ret = -1;
                return 0;
        }
        if (limit == -1 || limit == 0)
                return error_setx(err, -EINVAL,
                                  "linux.resources.memory.swap: a swap limit needs a memory limit");
        if (r->memory_swap < limit)
                return error_setx(err, -EINVAL,
                                  "linux.resources.memory.swap: must be at least memory.limit");
        *ret = r->memory_swap - limit;
        return 0;
}

static int v2_memory(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err)
{
        int k;

        if (!cg_served_by_v2(cg, CG_MEMORY))
                return 0;
        if (r->has_memory_swap) {
                int64_t swap = -1;
                if ((k = v2_swap_value(r, cg, &swap, err)) < 0)
                        return k;
                if ((k = write_max(cg, CG_MEMORY, "memory.swap.max", swap, "linux.resources.memory.swap",
                                   err)) < 0)
                        return k;
        }
        if (r->has_memory_limit && (k = write_max(cg, CG_MEMORY, "memory.max", r->memory_limit,
                                                  "linux.resources.memory.limit", err)) < 0)
                return k;
        if (r->has_memory_reservation && (k = write_max(cg, CG_MEMORY, "memory.low", r->memory_reservation,
                                                        "linux.resources.memory.reservation", err)) < 0)
                return k;
        /* v2 has no per-cgroup swappiness and no way to disable the OOM killer (runc and crun
         * skip both there too). */
        if (r->has_memory_swappiness)
                log_debug("linux.resources.memory.swappiness: not available on cgroup v2, skipped");
        if (r->has_disable_oom_killer && r->disable_oom_killer)
                log_debug("linux.resources.memory.disableOOMKiller: not available on cgroup v2, skipped");
        return 0;
}

static int v2_cpu(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        char buf[64];
        int k;

        if (cg_served_by_v2(cg, CG_CPU)) {
                if (r->has_cpu_shares && r->cpu_shares > 0) {
                        snprintf(buf, sizeof(buf), "%" PRIu64, cgroup_shares_to_weight(r->cpu_shares));
                        if ((k = cg_write(cg, CG_CPU, "cpu.weight", buf, "linux.resources.cpu.shares",
                                          err)) < 0)
                                return k;
                }
                if (r->has_cpu_quota || r->has_cpu_period) {
                        /* cpu.max holds both: keep the half that is not being changed. */
                        _cleanup_free_ char *cur = NULL;
                        char quota[32] = "max";
                        uint64_t period = 100000;
                        if (cgroup_read_file(cg, CG_CPU, "cpu.max", &cur) >= 0)
                                sscanf(cur, "%31s %" SCNu64, quota, &period);
                        if (r->has_cpu_quota) {
                                if (r->cpu_quota < 0)
                                        strcpy(quota, "max");
                                else
                                        snprintf(quota, sizeof(quota), "%" PRId64, r->cpu_quota);
                        }
                        if (r->has_cpu_period)
                                period = r->cpu_period;
                        snprintf(buf, sizeof(buf), "%s %" PRIu64, quota, period);
                        if ((k = cg_write(cg, CG_CPU, "cpu.max", buf, "linux.resources.cpu.quota", err)) < 0)
                                return k;
                }
                if (r->has_cpu_burst) {
                        snprintf(buf, sizeof(buf), "%" PRIu64, r->cpu_burst);
                        if ((k = cg_write(cg, CG_CPU, "cpu.max.burst", buf, "linux.resources.cpu.burst",
                                          err)) < 0)
                                return k;
                }
                if (r->has_cpu_idle) {
                        snprintf(buf, sizeof(buf), "%" PRId64, r->cpu_idle);
                        if ((k = cg_write(cg, CG_CPU, "cpu.idle", buf, "linux.resources.cpu.idle", err)) < 0)
                                return k;
                }
                if (r->has_cpu_realtime_runtime || r->has_cpu_realtime_period)
                        return error_setx(
                                err, -EOPNOTSUPP,
                                "linux.resources.cpu.realtimeRuntime: realtime scheduling limits are "
                                "not available on cgroup v2");
        }
        if (cg_served_by_v2(cg, CG_CPUSET)) {
                if (r->cpu_cpus && (k = cg_write(cg, CG_CPUSET, "cpuset.cpus", r->cpu_cpus,
                                                 "linux.resources.cpu.cpus", err)) < 0)
                        return k;
                if (r->cpu_mems && (k = cg_write(cg, CG_CPUSET, "cpuset.mems", r->cpu_mems,
                                                 "linux.resources.cpu.mems", err)) < 0)
                        return k;
        }
        return 0;
}

static const char *const io_max_keys[_BLKIO_THROTTLE_MAX] = {"rbps", "wbps", "riops", "wiops"};

static int v2_io(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        char buf[128];
        int k;

        if (!cg_served_by_v2(cg, CG_IO))
                return 0;
        if (r->has_blkio_weight) {
                snprintf(buf, sizeof(buf), "default %" PRIu64,
                         cgroup_blkio_weight_to_io_weight(r->blkio_weight));
                k = cg_write(cg, CG_IO, "io.weight", buf, "linux.resources.blockIO.weight", err);
                if (k == -EOPNOTSUPP) {
                        /* Without the cost model io.weight is absent; BFQ has its own knob (10..1000). */
                        if (err)
                                *err = (BerthError){0};
                        snprintf(buf, sizeof(buf), "%u", r->blkio_weight);
                        k = cg_write(cg, CG_IO, "io.bfq.weight", buf, "linux.resources.blockIO.weight", err);
                }
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < r->n_blkio_weight_devices; i++) {
                const BlkioDeviceWeight *d = &r->blkio_weight_devices[i];
                if (!d->has_weight)
                        continue;
                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                         cgroup_blkio_weight_to_io_weight(d->weight));
                if ((k = cg_write(cg, CG_IO, "io.weight", buf, "linux.resources.blockIO.weightDevice",
                                  err)) < 0)
                        return k;
        }
        for (int t = 0; t < _BLKIO_THROTTLE_MAX; t++)
                for (size_t i = 0; i < r->n_blkio_throttle[t]; i++) {
                        const BlkioDeviceRate *d = &r->blkio_throttle[t][i];
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major, d->minor,
                                 io_max_keys[t], d->rate);
                        if ((k = cg_write(cg, CG_IO, "io.max", buf, "linux.resources.blockIO", err)) < 0)
                                return k;
                }
        return 0;
}

static int v2_misc(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        char file[128], buf[256];
        int k;

        if (r->has_pids_limit && cg_served_by_v2(cg, CG_PIDS) &&
            (k = write_max(cg, CG_PIDS, "pids.max", r->pids_limit > 0 ? r->pids_limit : -1,
                           "linux.resources.pids.limit", err)) < 0)
                return k;
        for (size_t i = 0; i < r->n_hugepage_limits && cg_served_by_v2(cg, CG_HUGETLB); i++) {
                snprintf(file, sizeof(file), "hugetlb.%s.max", r->hugepage_limits[i].page_size);
                if ((k = write_max(cg, CG_HUGETLB, file, (int64_t)r->hugepage_limits[i].limit,
                                   "linux.resources.hugepageLimits", err)) < 0)
                        return k;
        }
        for (size_t i = 0; i < r->n_rdma && cg_served_by_v2(cg, CG_RDMA); i++) {
                const RdmaLimit *l = &r->rdma[i];
                int n = snprintf(buf, sizeof(buf), "%s", l->device);
                if (l->has_hca_handles)
                        n += snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_handle=%u", l->hca_handles);
                if (l->has_hca_objects)
                        snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_object=%u", l->hca_objects);
                if ((k = cg_write(cg, CG_RDMA, "rdma.max", buf, "linux.resources.rdma", err)) < 0)
                        return k;
        }
        return 0;
}

/* Whether @list (a cgroup.controllers text) names @controller. */
static bool controllers_contain(const char *list, const char *controller)
{
        size_t n = strlen(controller);
        for (const char *p = list; p && *p; p += strcspn(p, " \n"), p += strspn(p, " \n"))
                if (strncmp(p, controller, n) == 0 && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

/* A key whose controller this cgroup lacks: say whether the host has no such controller at
 * all (a typo, or a kernel without it) or only did not enable it here. */
static int unified_unknown_controller(Cgroup *cg, const char *field, const char *controller, BerthError *err)
{
        _cleanup_free_ char *path = NULL, *avail = NULL;
        size_t mount_len = strlen(cg->unified) - strlen(cg->path);

        if (asprintf(&path, "%.*s/cgroup.controllers", (int)mount_len, cg->unified) < 0)
                return -ENOMEM;
        if (read_full_file_at(AT_FDCWD, path, 4096, &avail, NULL) >= 0 &&
            !controllers_contain(avail, controller)) {
                avail[strcspn(avail, "\n")] = '\0';
                return error_setx(err, -EINVAL, "%s: unknown controller \"%s\" (this host has: %s)", field,
                                  controller, *avail ? avail : "none");
        }
        return error_setx(err, -EINVAL, "%s: the %s controller is not enabled for this cgroup", field,
                          controller);
}

/* linux.resources.unified: only files of controllers enabled for this cgroup (or cgroup.*). */
static int v2_unified(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        _cleanup_free_ char *path = NULL, *enabled = NULL;
        int k;

        if (r->n_unified == 0)
                return 0;
        if (cg->layout != CGROUP_LAYOUT_V2)
                return error_setx(err, -EOPNOTSUPP,
                                  "linux.resources.unified: needs a cgroup v2 host (this one is %s)",
                                  cgroup_layout_to_string(cg->layout));
        if (asprintf(&path, "%s/cgroup.controllers", cg->unified) < 0)
                return -ENOMEM;
        (void)read_full_file_at(AT_FDCWD, path, 4096, &enabled, NULL);
        for (size_t i = 0; i < r->n_unified; i++) {
                const char *key = r->unified[i].key;
                const char *dot = strchr(key, '.');
                char controller[64], field[320];
                snprintf(field, sizeof(field), "linux.resources.unified[\"%s\"]", key);
                if (!dot || (size_t)(dot - key) >= sizeof(controller))
                        return error_setx(err, -EINVAL, "%s: invalid key", field);
                memcpy(controller, key, (size_t)(dot - key));
                controller[dot - key] = '\0';
                if (!streq(controller, "cgroup") && !controllers_contain(enabled, controller))
                        return unified_unknown_controller(cg, field, controller, err);
                char file[4200];
                snprintf(file, sizeof(file), "%s/%s", cg->unified, key);
                k = write_string_file(file, r->unified[i].value);
                if (k == -ENOENT)
                        return error_setx(err, -EINVAL, "%s: no such file in the cgroup", field);
                if (k < 0)
                        return error_set(err, k, "%s: the kernel refused \"%s\"", field,
                                         r->unified[i].value);
        }
        return 0;
}

static int v2_devices(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        _cleanup_free_ DeviceRule *rules = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = 0;
        int k;

        if (!cg_served_by_v2(cg, CG_DEVICES))
                return 0;
        k = device_rules_for_container(r->devices, &rules, &n, err);
        if (k < 0)
                return k;
        fd = open(cg->unified, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, negative_errno(), "open cgroup \"%s\"", cg->unified);
        return devices_bpf_apply(fd, rules, n, err);
}

int cgroup_v2_apply(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err)
{
        int k;

        if ((k = v2_memory(cg, r, update, err)) < 0 || (k = v2_cpu(cg, r, err)) < 0 ||
            (k = v2_io(cg, r, err)) < 0 || (k = v2_misc(cg, r, err)) < 0 || (k = v2_unified(cg, r, err)) < 0)
                return k;
        if (!update || r->devices)
                return v2_devices(cg, r, err);
        return 0;
}
