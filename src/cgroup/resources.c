/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <string.h>

#include "oci/json-walk.h"
#include "resources.h"

/*
 * Validation follows runc (libcontainer/specconv, configs/validate and the fs/fs2 drivers),
 * with errors raised here, before anything is written, rather than by the kernel later.
 *
 * runc treats 0 as "not set" for memory.limit, memory.reservation, memory.swap, cpu.shares,
 * cpu.quota, cpu.period, cpu.realtimeRuntime, cpu.realtimePeriod, blockIO.weight,
 * blockIO.leafWeight, a device's weight and leafWeight, and network.classID: it never
 * writes a 0 there. Engines emit such zeros for options the user did not give, so 0 leaves
 * has_* false here too, and the range checks apply to the other values only.
 */

#define DEVICE_MAJOR_MAX 4095    /* 12 bits in the kernel's dev_t */
#define DEVICE_MINOR_MAX 1048575 /* 20 bits */
#define IFNAMSIZ_MAX     15      /* IFNAMSIZ - 1 */

#define CPU_SHARES_MIN   2
#define CPU_SHARES_MAX   262144
#define CPU_PERIOD_MIN   1000 /* the kernel's cfs period bounds: 1 ms .. 1 s */
#define CPU_PERIOD_MAX   1000000
#define CPU_QUOTA_MIN    1000 /* min_cfs_quota_period */
#define BLKIO_WEIGHT_MIN 10
#define BLKIO_WEIGHT_MAX 1000

static const char *const throttle_keys[_BLKIO_THROTTLE_MAX] = {
        [BLKIO_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
        [BLKIO_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
        [BLKIO_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
        [BLKIO_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

CgroupResources *cgroup_resources_free(CgroupResources *r)
{
        if (!r)
                return NULL;
        free(r->cpu_cpus);
        free(r->cpu_mems);
        free(r->blkio_weight_devices);
        for (size_t t = 0; t < _BLKIO_THROTTLE_MAX; t++)
                free(r->blkio_throttle[t]);
        for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        for (size_t i = 0; r->net_priorities && i < r->n_net_priorities; i++)
                free(r->net_priorities[i].name);
        free(r->net_priorities);
        for (size_t i = 0; r->rdma && i < r->n_rdma; i++)
                free(r->rdma[i].device);
        free(r->rdma);
        for (size_t i = 0; r->unified && i < r->n_unified; i++) {
                free(r->unified[i].key);
                free(r->unified[i].value);
        }
        free(r->unified);
        /* devices is borrowed from the document. */
        free(r);
        return NULL;
}

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0; /* unset */
        /* The kernel clamps shares to this range; clamping first keeps the result in 1..10000. */
        if (shares < CPU_SHARES_MIN)
                shares = CPU_SHARES_MIN;
        if (shares > CPU_SHARES_MAX)
                shares = CPU_SHARES_MAX;
        return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0; /* unset */
        if (weight < BLKIO_WEIGHT_MIN)
                weight = BLKIO_WEIGHT_MIN;
        if (weight > BLKIO_WEIGHT_MAX)
                weight = BLKIO_WEIGHT_MAX;
        return 1 + (weight - 10) * 9999 / 990;
}

/* A zeroed array for the JSON array @list, published with its length at once (see config-internal.h). */
static int array_alloc(struct json_object *list, size_t size, void **ret, size_t *ret_n)
{
        size_t n = json_object_array_length(list);
        void *a = calloc(n ? n : 1, size);
        if (!a)
                return -ENOMEM;
        *ret = a;
        *ret_n = n;
        return 0;
}

/*
 * An unsigned member where 0 means "not set" (see the top of this file): 1 and *@ret written
 * when set, 0 when absent or 0, -EINVAL "<path>: must be between MIN and MAX" otherwise.
 */
static int get_uint_unset_zero(struct json_object *obj, const char *key, uint64_t min, uint64_t max,
                               const char *parent, uint64_t *ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *v;
        int r;

        r = oci_json_member(obj, key, json_type_int, false, parent, &v, err);
        if (r <= 0)
                return r;
        if (json_object_get_int64(v) == 0)
                return 0;
        r = oci_json_value_uint64(v, oci_json_path_key(path, parent, key), min, max, ret, err);
        return r < 0 ? r : 1;
}

/* memory.limit, .reservation and .swap: -1 (unlimited), 0 (not set) or a positive size. */
static int get_memory_bytes(struct json_object *obj, const char *key, const char *parent, bool *ret_has,
                            int64_t *ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        int64_t v;
        int r;

        r = oci_json_get_int64(obj, key, false, INT64_MIN, INT64_MAX, parent, &v, err);
        if (r <= 0)
                return r;
        if (v < -1)
                return error_setx(err, -EINVAL, "%s: must be -1 or a positive number of bytes",
                                  oci_json_path_key(path, parent, key));
        if (v == 0)
                return 0;
        *ret_has = true;
        *ret = v;
        return 1;
}

static int parse_memory(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], fpath[OCI_JSON_PATH_MAX];
        struct json_object *mem, *ignored;
        bool b;
        int r;

        r = oci_json_member(obj, "memory", json_type_object, false, field, &mem, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "memory");

        r = get_memory_bytes(mem, "limit", path, &res->has_memory_limit, &res->memory_limit, err);
        if (r < 0)
                return r;
        r = get_memory_bytes(mem, "reservation", path, &res->has_memory_reservation,
                             &res->memory_reservation, err);
        if (r < 0)
                return r;
        r = get_memory_bytes(mem, "swap", path, &res->has_memory_swap, &res->memory_swap, err);
        if (r < 0)
                return r;
        /* swap is memory + swap; without a limit here (update), the kernel checks the current one. */
        if (res->has_memory_swap && res->memory_swap != -1 && res->has_memory_limit &&
            res->memory_limit > 0 && res->memory_swap < res->memory_limit)
                return error_setx(err, -EINVAL, "%s: must be at least memory.limit",
                                  oci_json_path_key(fpath, path, "swap"));

        /* Deprecated: kernel memory accounting is gone from current kernels; runc ignores them too. */
        r = oci_json_member(mem, "kernel", json_type_int, false, path, &ignored, err);
        if (r < 0)
                return r;
        r = oci_json_member(mem, "kernelTCP", json_type_int, false, path, &ignored, err);
        if (r < 0)
                return r;
        r = oci_json_get_bool(mem, "useHierarchy", path, &b, err);
        if (r < 0)
                return r;

        r = oci_json_get_uint64(mem, "swappiness", false, 0, 100, path, &res->memory_swappiness, err);
        if (r < 0)
                return r;
        res->has_memory_swappiness = r > 0;
        r = oci_json_get_bool(mem, "disableOOMKiller", path, &res->disable_oom_killer, err);
        if (r < 0)
                return r;
        res->has_disable_oom_killer = r > 0;
        r = oci_json_get_bool(mem, "checkBeforeUpdate", path, &res->check_before_update, err);
        if (r < 0)
                return r;
        return 0;
}

/* A cpuset list: "N" or "N-M" (N <= M) items, comma-separated, no blanks. */
static bool cpuset_list_is_valid(const char *s)
{
        const char *p = s;

        for (;;) {
                uint64_t first = 0, last;

                if (*p < '0' || *p > '9')
                        return false;
                for (; *p >= '0' && *p <= '9'; p++)
                        if (__builtin_mul_overflow(first, 10, &first) ||
                            __builtin_add_overflow(first, (uint64_t)(*p - '0'), &first) ||
                            first > UINT32_MAX)
                                return false;
                last = first;
                if (*p == '-') {
                        p++;
                        if (*p < '0' || *p > '9')
                                return false;
                        last = 0;
                        for (; *p >= '0' && *p <= '9'; p++)
                                if (__builtin_mul_overflow(last, 10, &last) ||
                                    __builtin_add_overflow(last, (uint64_t)(*p - '0'), &last) ||
                                    last > UINT32_MAX)
                                        return false;
                        if (first > last)
                                return false;
                }
                if (*p == '\0')
                        return true;
                if (*p != ',')
                        return false;
                p++;
        }
}

static int get_cpuset_list(struct json_object *cpu, const char *key, const char *what, const char *parent,
                           char **ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        _cleanup_free_ char *s = NULL;
        int r;

        r = oci_json_get_string(cpu, key, false, parent, &s, err);
        if (r <= 0)
                return r;
        if (!s[0])
                return 0; /* "" is "not set", as in runc */
        if (!cpuset_list_is_valid(s))
                return error_setx(err, -EINVAL, "%s: invalid %s list \"%s\"",
                                  oci_json_path_key(path, parent, key), what, s);
        *ret = TAKE_PTR(s);
        return 1;
}

static int parse_cpu_bandwidth(struct json_object *cpu, const char *path, CgroupResources *res,
                               BerthError *err)
{
        char fpath[OCI_JSON_PATH_MAX];
        int64_t quota;
        int r;

        r = oci_json_get_int64(cpu, "quota", false, INT64_MIN, INT64_MAX, path, &quota, err);
        if (r < 0)
                return r;
        if (r > 0 && quota != 0) {
                if (quota != -1 && quota < CPU_QUOTA_MIN)
                        return error_setx(err, -EINVAL, "%s: must be -1 or at least %d microseconds",
                                          oci_json_path_key(fpath, path, "quota"), CPU_QUOTA_MIN);
                res->has_cpu_quota = true;
                res->cpu_quota = quota;
        }
        r = get_uint_unset_zero(cpu, "period", CPU_PERIOD_MIN, CPU_PERIOD_MAX, path, &res->cpu_period, err);
        if (r < 0)
                return r;
        res->has_cpu_period = r > 0;

        r = oci_json_get_uint64(cpu, "burst", false, 0, UINT64_MAX, path, &res->cpu_burst, err);
        if (r < 0)
                return r;
        res->has_cpu_burst = r > 0;
        /* The kernel refuses a burst above a finite quota. */
        if (res->has_cpu_burst && res->has_cpu_quota && res->cpu_quota > 0 &&
            res->cpu_burst > (uint64_t)res->cpu_quota)
                return error_setx(err, -EINVAL, "%s: must be at most cpu.quota",
                                  oci_json_path_key(fpath, path, "burst"));
        return 0;
}

static int parse_cpu_realtime(struct json_object *cpu, const char *path, CgroupResources *res,
                              BerthError *err)
{
        char fpath[OCI_JSON_PATH_MAX];
        int64_t runtime;
        int r;

        /* -1 is "no limit" (RUNTIME_INF) to the kernel. */
        r = oci_json_get_int64(cpu, "realtimeRuntime", false, -1, INT64_MAX, path, &runtime, err);
        if (r < 0)
                return r;
        if (r > 0 && runtime != 0) {
                res->has_cpu_realtime_runtime = true;
                res->cpu_realtime_runtime = runtime;
        }
        /* The kernel keeps periods in nanoseconds, as u64. */
        r = get_uint_unset_zero(cpu, "realtimePeriod", 1, UINT64_MAX / 1000, path, &res->cpu_realtime_period,
                                err);
        if (r < 0)
                return r;
        res->has_cpu_realtime_period = r > 0;
        if (res->has_cpu_realtime_runtime && res->has_cpu_realtime_period && res->cpu_realtime_runtime > 0 &&
            (uint64_t)res->cpu_realtime_runtime > res->cpu_realtime_period)
                return error_setx(err, -EINVAL, "%s: must be at most cpu.realtimePeriod",
                                  oci_json_path_key(fpath, path, "realtimeRuntime"));
        return 0;
}

static int parse_cpu(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *cpu;
        int r;

        r = oci_json_member(obj, "cpu", json_type_object, false, field, &cpu, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "cpu");

        r = get_uint_unset_zero(cpu, "shares", CPU_SHARES_MIN, CPU_SHARES_MAX, path, &res->cpu_shares, err);
        if (r < 0)
                return r;
        res->has_cpu_shares = r > 0;
        r = parse_cpu_bandwidth(cpu, path, res, err);
        if (r < 0)
                return r;
        r = parse_cpu_realtime(cpu, path, res, err);
        if (r < 0)
                return r;
        r = get_cpuset_list(cpu, "cpus", "cpu", path, &res->cpu_cpus, err);
        if (r < 0)
                return r;
        r = get_cpuset_list(cpu, "mems", "memory node", path, &res->cpu_mems, err);
        if (r < 0)
                return r;
        r = oci_json_get_int64(cpu, "idle", false, 0, 1, path, &res->cpu_idle, err);
        if (r < 0)
                return r;
        res->has_cpu_idle = r > 0;
        return 0;
}

static int parse_pids(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *pids;
        int r;

        r = oci_json_member(obj, "pids", json_type_object, false, field, &pids, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "pids");
        /* Any value: <= 0 means "max" to the drivers, as in runc. */
        r = oci_json_get_int64(pids, "limit", false, INT64_MIN, INT64_MAX, path, &res->pids_limit, err);
        if (r < 0)
                return r;
        res->has_pids_limit = r > 0;
        return 0;
}

static int get_device_number(struct json_object *v, const char *path, int64_t *ret_major, int64_t *ret_minor,
                             BerthError *err)
{
        int r;

        r = oci_json_get_int64(v, "major", true, 0, DEVICE_MAJOR_MAX, path, ret_major, err);
        if (r < 0)
                return r;
        return oci_json_get_int64(v, "minor", true, 0, DEVICE_MINOR_MAX, path, ret_minor, err);
}

static int get_blkio_weight(struct json_object *obj, const char *key, const char *parent, bool *ret_has,
                            uint16_t *ret, BerthError *err)
{
        uint64_t w;
        int r;

        r = get_uint_unset_zero(obj, key, BLKIO_WEIGHT_MIN, BLKIO_WEIGHT_MAX, parent, &w, err);
        if (r <= 0)
                return r;
        *ret_has = true;
        *ret = (uint16_t)w;
        return 1;
}

static int parse_blkio_weight_devices(struct json_object *blkio, const char *parent, CgroupResources *res,
                                      BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(blkio, "weightDevice", json_type_array, false, parent, &list, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, parent, "weightDevice");
        r = array_alloc(list, sizeof(BlkioDeviceWeight), (void **)&res->blkio_weight_devices,
                        &res->n_blkio_weight_devices);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res->n_blkio_weight_devices; i++) {
                struct json_object *v = json_object_array_get_idx(list, i);
                BlkioDeviceWeight *d = &res->blkio_weight_devices[i];

                oci_json_path_index(epath, path, i);
                r = oci_json_check_type(v, json_type_object, epath, err);
                if (r < 0)
                        return r;
                r = get_device_number(v, epath, &d->major, &d->minor, err);
                if (r < 0)
                        return r;
                r = get_blkio_weight(v, "weight", epath, &d->has_weight, &d->weight, err);
                if (r < 0)
                        return r;
                r = get_blkio_weight(v, "leafWeight", epath, &d->has_leaf_weight, &d->leaf_weight, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_blkio_throttle(struct json_object *blkio, const char *parent, BlkioThrottle t,
                                CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(blkio, throttle_keys[t], json_type_array, false, parent, &list, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, parent, throttle_keys[t]);
        r = array_alloc(list, sizeof(BlkioDeviceRate), (void **)&res->blkio_throttle[t],
                        &res->n_blkio_throttle[t]);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res->n_blkio_throttle[t]; i++) {
                struct json_object *v = json_object_array_get_idx(list, i);
                BlkioDeviceRate *d = &res->blkio_throttle[t][i];

                oci_json_path_index(epath, path, i);
                r = oci_json_check_type(v, json_type_object, epath, err);
                if (r < 0)
                        return r;
                r = get_device_number(v, epath, &d->major, &d->minor, err);
                if (r < 0)
                        return r;
                /* Optional as in the Go types, where an absent rate is 0. */
                r = oci_json_get_uint64(v, "rate", false, 0, UINT64_MAX, epath, &d->rate, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_blkio(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        struct json_object *blkio;
        int r;

        r = oci_json_member(obj, "blockIO", json_type_object, false, field, &blkio, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "blockIO");

        r = get_blkio_weight(blkio, "weight", path, &res->has_blkio_weight, &res->blkio_weight, err);
        if (r < 0)
                return r;
        r = get_blkio_weight(blkio, "leafWeight", path, &res->has_blkio_leaf_weight, &res->blkio_leaf_weight,
                             err);
        if (r < 0)
                return r;
        r = parse_blkio_weight_devices(blkio, path, res, err);
        if (r < 0)
                return r;
        for (BlkioThrottle t = 0; t < _BLKIO_THROTTLE_MAX; t++) {
                r = parse_blkio_throttle(blkio, path, t, res, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "2MB", "1GB", "64KB": the names of the hugetlb control files. */
static bool page_size_is_valid(const char *s)
{
        size_t digits = strspn(s, "0123456789");

        if (digits == 0 || digits > 9 || s[0] == '0')
                return false;
        return s[digits] && strchr("KMG", s[digits]) && s[digits + 1] == 'B' && s[digits + 2] == '\0';
}

static int parse_hugepages(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX], fpath[OCI_JSON_PATH_MAX];
        struct json_object *list;
        int r;

        r = oci_json_member(obj, "hugepageLimits", json_type_array, false, field, &list, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "hugepageLimits");
        r = array_alloc(list, sizeof(HugepageLimit), (void **)&res->hugepage_limits,
                        &res->n_hugepage_limits);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                struct json_object *v = json_object_array_get_idx(list, i);
                HugepageLimit *h = &res->hugepage_limits[i];

                oci_json_path_index(epath, path, i);
                r = oci_json_check_type(v, json_type_object, epath, err);
                if (r < 0)
                        return r;
                r = oci_json_get_string(v, "pageSize", true, epath, &h->page_size, err);
                if (r < 0)
                        return r;
                if (!page_size_is_valid(h->page_size))
                        return error_setx(err, -EINVAL, "%s: invalid page size \"%s\"",
                                          oci_json_path_key(fpath, epath, "pageSize"), h->page_size);
                r = oci_json_get_uint64(v, "limit", true, 0, UINT64_MAX, epath, &h->limit, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The kernel's dev_valid_name(): net_prio.ifpriomap takes "NAME PRIO", so no blanks either. */
static bool ifname_is_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > IFNAMSIZ_MAX || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

static int parse_network(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], ppath[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX],
                fpath[OCI_JSON_PATH_MAX];
        struct json_object *net, *list;
        uint64_t v;
        int r;

        r = oci_json_member(obj, "network", json_type_object, false, field, &net, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "network");
        r = get_uint_unset_zero(net, "classID", 1, UINT32_MAX, path, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                res->has_net_class_id = true;
                res->net_class_id = (uint32_t)v;
        }

        r = oci_json_member(net, "priorities", json_type_array, false, path, &list, err);
        if (r <= 0)
                return r;
        oci_json_path_key(ppath, path, "priorities");
        r = array_alloc(list, sizeof(NetPriority), (void **)&res->net_priorities, &res->n_net_priorities);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res->n_net_priorities; i++) {
                struct json_object *e = json_object_array_get_idx(list, i);
                NetPriority *p = &res->net_priorities[i];

                oci_json_path_index(epath, ppath, i);
                r = oci_json_check_type(e, json_type_object, epath, err);
                if (r < 0)
                        return r;
                r = oci_json_get_string(e, "name", true, epath, &p->name, err);
                if (r < 0)
                        return r;
                if (!ifname_is_valid(p->name))
                        return error_setx(err, -EINVAL, "%s: invalid interface name \"%s\"",
                                          oci_json_path_key(fpath, epath, "name"), p->name);
                r = oci_json_get_uint64(e, "priority", true, 0, UINT32_MAX, epath, &v, err);
                if (r < 0)
                        return r;
                p->priority = (uint32_t)v;
        }
        return 0;
}

/* rdma.max takes "DEVICE hca_handle=N hca_object=N" lines: a name must not break them. */
static bool rdma_device_is_valid(const char *s)
{
        if (!s[0])
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == '=' || (unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

static int get_u32(struct json_object *obj, const char *key, const char *parent, bool *ret_has,
                   uint32_t *ret, BerthError *err)
{
        uint64_t v;
        int r;

        r = oci_json_get_uint64(obj, key, false, 0, UINT32_MAX, parent, &v, err);
        if (r <= 0)
                return r;
        *ret_has = true;
        *ret = (uint32_t)v;
        return 1;
}

static int parse_rdma(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *rdma;
        size_t i = 0;
        int r;

        r = oci_json_member(obj, "rdma", json_type_object, false, field, &rdma, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "rdma");
        size_t n = (size_t)json_object_object_length(rdma);
        res->rdma = calloc(n ? n : 1, sizeof(RdmaLimit));
        if (!res->rdma)
                return -ENOMEM;
        res->n_rdma = n;

        json_object_object_foreach (rdma, device, val) {
                RdmaLimit *l = &res->rdma[i++];

                oci_json_path_map(epath, path, device);
                if (!rdma_device_is_valid(device))
                        return error_setx(err, -EINVAL, "%s: invalid device name", epath);
                if (!val)
                        return error_setx(err, -EINVAL, "%s: must be an object", epath);
                r = oci_json_check_type(val, json_type_object, epath, err);
                if (r < 0)
                        return r;
                l->device = strdup(device);
                if (!l->device)
                        return -ENOMEM;
                r = get_u32(val, "hcaHandles", epath, &l->has_hca_handles, &l->hca_handles, err);
                if (r < 0)
                        return r;
                r = get_u32(val, "hcaObjects", epath, &l->has_hca_objects, &l->hca_objects, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * A file in the container's cgroup directory, "CONTROLLER.PARAMETER" as runc requires:
 * no '/', so no escape from the directory (and no "." or ".."), a controller before the dot.
 */
static bool unified_key_is_valid(const char *key)
{
        const char *dot = strchr(key, '.');

        return !strchr(key, '/') && dot && dot != key && dot[1] != '\0';
}

static int parse_unified(struct json_object *obj, const char *field, CgroupResources *res, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], kpath[OCI_JSON_PATH_MAX];
        struct json_object *unified;
        size_t i = 0;
        int r;

        r = oci_json_member(obj, "unified", json_type_object, false, field, &unified, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, field, "unified");
        size_t n = (size_t)json_object_object_length(unified);
        res->unified = calloc(n ? n : 1, sizeof(UnifiedEntry));
        if (!res->unified)
                return -ENOMEM;
        res->n_unified = n;

        json_object_object_foreach (unified, key, val) {
                UnifiedEntry *e = &res->unified[i++];
                const char *s;

                oci_json_path_map(kpath, path, key);
                if (!unified_key_is_valid(key))
                        return error_setx(err, -EINVAL, "%s: invalid key", kpath);
                if (!val)
                        return error_setx(err, -EINVAL, "%s: must be a string", kpath);
                /* The value goes to the file as is: io.max, for one, takes several lines. */
                r = oci_json_value_string(val, kpath, &s, err);
                if (r < 0)
                        return r;
                e->key = strdup(key);
                e->value = strdup(s);
                if (!e->key || !e->value)
                        return -ENOMEM;
        }
        return 0;
}

int cgroup_resources_parse(struct json_object *obj, const char *field, CgroupResources **ret,
                           BerthError *err)
{
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        int r;

        assert(field);
        assert(ret);

        res = calloc(1, sizeof(CgroupResources));
        if (!res)
                return -ENOMEM;

        if (obj) {
                r = oci_json_check_type(obj, json_type_object, field, err);
                if (r < 0)
                        return r;
                r = parse_memory(obj, field, res, err);
                if (r < 0)
                        return r;
                r = parse_cpu(obj, field, res, err);
                if (r < 0)
                        return r;
                r = parse_pids(obj, field, res, err);
                if (r < 0)
                        return r;
                r = parse_blkio(obj, field, res, err);
                if (r < 0)
                        return r;
                r = parse_hugepages(obj, field, res, err);
                if (r < 0)
                        return r;
                r = parse_network(obj, field, res, err);
                if (r < 0)
                        return r;
                r = parse_rdma(obj, field, res, err);
                if (r < 0)
                        return r;
                r = parse_unified(obj, field, res, err);
                if (r < 0)
                        return r;
                /* Checked here so that a bad type is reported with the rest; devices-bpf.c converts it. */
                r = oci_json_member(obj, "devices", json_type_array, false, field, &res->devices, err);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(res);
        return 0;
}
