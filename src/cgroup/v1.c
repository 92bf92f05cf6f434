/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The cgroup v1 driver: the resources whose controller lives in a v1 hierarchy. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "basic/fileio.h"
#include "cgroup-internal.h"
#include "devices-bpf.h"

int cg_write(Cgroup *cg, CgroupController c, const char *file, const char *value, const char *field,
             BerthError *err)
{
        char path[4200];
        const char *dir = cgroup_dir(cg, c);
        int r;

        if (!dir)
                return cg_require(cg, c, field, err);
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        r = write_string_file(path, value);
        if (r == -ENOENT)
                return error_setx(err, -EOPNOTSUPP, "%s: not supported by this kernel (no %s)", field, file);
        if (r < 0)
                return error_set(err, r, "%s: the kernel refused \"%s\" for %s", field, value, file);
        return 0;
}

int cg_require(Cgroup *cg, CgroupController c, const char *field, BerthError *err)
{
        if (cgroup_dir(cg, c))
                return 0;
        return error_setx(err, -EOPNOTSUPP, "%s: the %s controller is not available on this host", field,
                          cg->unified && !cg->v1[c] ? cgroup_controller_v2_name(c)
                                                              ? cgroup_controller_v2_name(c)
                                                              : cgroup_controller_v1_name(c)
                                                    : cgroup_controller_v1_name(c));
}

static int write_i64(Cgroup *cg, CgroupController c, const char *file, int64_t v, const char *field,
                     BerthError *err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return cg_write(cg, c, file, buf, field, err);
}

static int v1_memory(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err)
{
        int k;

        if (!cg_served_by_v1(cg, CG_MEMORY))
                return 0;
        /* The memsw limit must stay >= the memory limit at every step: raise swap first when
         * growing, the memory limit first when shrinking (runc does the same dance). */
        bool swap_first = false;
        if (r->has_memory_swap && r->has_memory_limit) {
                uint64_t cur;
                swap_first = cgroup_read_u64(cg, CG_MEMORY, "memory.limit_in_bytes", &cur) >= 0 &&
                             (r->memory_limit == -1 || (uint64_t)r->memory_limit > cur);
        }
        if (swap_first && (k = write_i64(cg, CG_MEMORY, "memory.memsw.limit_in_bytes", r->memory_swap,
                                         "linux.resources.memory.swap", err)) < 0)
                return k;
        if (r->has_memory_limit && (k = write_i64(cg, CG_MEMORY, "memory.limit_in_bytes", r->memory_limit,
                                                  "linux.resources.memory.limit", err)) < 0)
                return k;
        if (r->has_memory_swap && !swap_first &&
            (k = write_i64(cg, CG_MEMORY, "memory.memsw.limit_in_bytes", r->memory_swap,
                           "linux.resources.memory.swap", err)) < 0)
                return k;
        if (r->has_memory_reservation &&
            (k = write_i64(cg, CG_MEMORY, "memory.soft_limit_in_bytes", r->memory_reservation,
                           "linux.resources.memory.reservation", err)) < 0)
                return k;
        if (r->has_memory_swappiness &&
            (k = write_i64(cg, CG_MEMORY, "memory.swappiness", (int64_t)r->memory_swappiness,
                           "linux.resources.memory.swappiness", err)) < 0)
                return k;
        if (r->has_disable_oom_killer &&
            (k = cg_write(cg, CG_MEMORY, "memory.oom_control", r->disable_oom_killer ? "1" : "0",
                          "linux.resources.memory.disableOOMKiller", err)) < 0)
                return k;
        return 0;
}

static int v1_cpu(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        int k;

        if (cg_served_by_v1(cg, CG_CPU)) {
                if (r->has_cpu_shares && (k = write_i64(cg, CG_CPU, "cpu.shares", (int64_t)r->cpu_shares,
                                                        "linux.resources.cpu.shares", err)) < 0)
                        return k;
                /* Period before quota: a quota is checked against the current period. */
                if (r->has_cpu_period &&
                    (k = write_i64(cg, CG_CPU, "cpu.cfs_period_us", (int64_t)r->cpu_period,
                                   "linux.resources.cpu.period", err)) < 0)
                        return k;
                if (r->has_cpu_quota && (k = write_i64(cg, CG_CPU, "cpu.cfs_quota_us", r->cpu_quota,
                                                       "linux.resources.cpu.quota", err)) < 0)
                        return k;
                if (r->has_cpu_burst && (k = write_i64(cg, CG_CPU, "cpu.cfs_burst_us", (int64_t)r->cpu_burst,
                                                       "linux.resources.cpu.burst", err)) < 0)
                        return k;
                if (r->has_cpu_realtime_period &&
                    (k = write_i64(cg, CG_CPU, "cpu.rt_period_us", (int64_t)r->cpu_realtime_period,
                                   "linux.resources.cpu.realtimePeriod", err)) < 0)
                        return k;
                if (r->has_cpu_realtime_runtime &&
                    (k = write_i64(cg, CG_CPU, "cpu.rt_runtime_us", r->cpu_realtime_runtime,
                                   "linux.resources.cpu.realtimeRuntime", err)) < 0)
                        return k;
                if (r->has_cpu_idle && (k = write_i64(cg, CG_CPU, "cpu.idle", r->cpu_idle,
                                                      "linux.resources.cpu.idle", err)) < 0)
                        return k;
        }
        if (cg_served_by_v1(cg, CG_CPUSET)) {
                if (r->cpu_cpus && (k = cg_write(cg, CG_CPUSET, "cpuset.cpus", r->cpu_cpus,
                                                 "linux.resources.cpu.cpus", err)) < 0)
                        return k;
                if (r->cpu_mems && (k = cg_write(cg, CG_CPUSET, "cpuset.mems", r->cpu_mems,
                                                 "linux.resources.cpu.mems", err)) < 0)
                        return k;
        }
        return 0;
}

static const char *const throttle_files[_BLKIO_THROTTLE_MAX] = {
        "blkio.throttle.read_bps_device",
        "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device",
        "blkio.throttle.write_iops_device",
};

static const char *const throttle_fields[_BLKIO_THROTTLE_MAX] = {
        "linux.resources.blockIO.throttleReadBpsDevice",
        "linux.resources.blockIO.throttleWriteBpsDevice",
        "linux.resources.blockIO.throttleReadIOPSDevice",
        "linux.resources.blockIO.throttleWriteIOPSDevice",
};

static int v1_blkio(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        char buf[128];
        int k;

        if (!cg_served_by_v1(cg, CG_IO))
                return 0;
        if (r->has_blkio_weight && (k = write_i64(cg, CG_IO, "blkio.weight", r->blkio_weight,
                                                  "linux.resources.blockIO.weight", err)) < 0)
                return k;
        if (r->has_blkio_leaf_weight && (k = write_i64(cg, CG_IO, "blkio.leaf_weight", r->blkio_leaf_weight,
                                                       "linux.resources.blockIO.leafWeight", err)) < 0)
                return k;
        for (size_t i = 0; i < r->n_blkio_weight_devices; i++) {
                const BlkioDeviceWeight *d = &r->blkio_weight_devices[i];
                if (d->has_weight) {
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                                 d->weight);
                        if ((k = cg_write(cg, CG_IO, "blkio.weight_device", buf,
                                          "linux.resources.blockIO.weightDevice", err)) < 0)
                                return k;
                }
                if (d->has_leaf_weight) {
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                                 d->leaf_weight);
                        if ((k = cg_write(cg, CG_IO, "blkio.leaf_weight_device", buf,
                                          "linux.resources.blockIO.weightDevice", err)) < 0)
                                return k;
                }
        }
        for (int t = 0; t < _BLKIO_THROTTLE_MAX; t++)
                for (size_t i = 0; i < r->n_blkio_throttle[t]; i++) {
                        const BlkioDeviceRate *d = &r->blkio_throttle[t][i];
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                                 d->rate);
                        if ((k = cg_write(cg, CG_IO, throttle_files[t], buf, throttle_fields[t], err)) < 0)
                                return k;
                }
        return 0;
}

static int v1_misc(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        char file[128], buf[256];
        int k;

        if (r->has_pids_limit && cg_served_by_v1(cg, CG_PIDS)) {
                if (r->pids_limit > 0)
                        k = write_i64(cg, CG_PIDS, "pids.max", r->pids_limit, "linux.resources.pids.limit",
                                      err);
                else
                        k = cg_write(cg, CG_PIDS, "pids.max", "max", "linux.resources.pids.limit", err);
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < r->n_hugepage_limits && cg_served_by_v1(cg, CG_HUGETLB); i++) {
                snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", r->hugepage_limits[i].page_size);
                if ((k = write_i64(cg, CG_HUGETLB, file, (int64_t)r->hugepage_limits[i].limit,
                                   "linux.resources.hugepageLimits", err)) < 0)
                        return k;
        }
        if (r->has_net_class_id && (k = write_i64(cg, CG_NET_CLS, "net_cls.classid", r->net_class_id,
                                                  "linux.resources.network.classID", err)) < 0)
                return k;
        for (size_t i = 0; i < r->n_net_priorities; i++) {
                snprintf(buf, sizeof(buf), "%s %u", r->net_priorities[i].name,
                         r->net_priorities[i].priority);
                if ((k = cg_write(cg, CG_NET_PRIO, "net_prio.ifpriomap", buf,
                                  "linux.resources.network.priorities", err)) < 0)
                        return k;
        }
        for (size_t i = 0; i < r->n_rdma && cg_served_by_v1(cg, CG_RDMA); i++) {
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

static int v1_devices(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        _cleanup_free_ DeviceRule *rules = NULL;
        size_t n = 0;
        char buf[DEVICE_RULE_STRING_MAX];
        int k;

        if (!cg_served_by_v1(cg, CG_DEVICES))
                return 0;
        k = device_rules_for_container(r->devices, &rules, &n, err);
        if (k >= 0)
                k = device_rules_check(rules, n, err); /* what v2 refuses, v1 must not silently half-apply */
        if (k < 0)
                return k;
        /* Start from nothing, then replay the list in order: later rules override earlier. */
        if ((k = cg_write(cg, CG_DEVICES, "devices.deny", "a", "linux.resources.devices", err)) < 0)
                return k;
        for (size_t i = 0; i < n; i++) {
                device_rule_format(&rules[i], buf);
                k = cg_write(cg, CG_DEVICES, rules[i].allow ? "devices.allow" : "devices.deny", buf,
                             "linux.resources.devices", err);
                if (k < 0)
                        return k;
        }
        return 0;
}

int cgroup_v1_apply(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err)
{
        int k;

        if ((k = v1_memory(cg, r, update, err)) < 0 || (k = v1_cpu(cg, r, err)) < 0 ||
            (k = v1_blkio(cg, r, err)) < 0 || (k = v1_misc(cg, r, err)) < 0)
                return k;
        if (!update || r->devices)
                return v1_devices(cg, r, err);
        return 0;
}
