/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * linux.resources from config.json (and from `update --resources`), parsed and
 * validated into driver-independent values. The v1 and v2 drivers translate
 * these into their files; see docs/cgroups.md for the mapping.
 *
 * Every "has_*" flag says the field was present; absent fields are left alone
 * by the drivers (on update too).
 */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

struct json_object;

typedef struct BlkioDeviceWeight {
        int64_t major, minor;
        bool has_weight;
        uint16_t weight;
        bool has_leaf_weight;
        uint16_t leaf_weight;
} BlkioDeviceWeight;

typedef struct BlkioDeviceRate {
        int64_t major, minor;
        uint64_t rate;
} BlkioDeviceRate;

typedef enum BlkioThrottle {
        BLKIO_THROTTLE_READ_BPS,
        BLKIO_THROTTLE_WRITE_BPS,
        BLKIO_THROTTLE_READ_IOPS,
        BLKIO_THROTTLE_WRITE_IOPS,
        _BLKIO_THROTTLE_MAX,
} BlkioThrottle;

typedef struct HugepageLimit {
        char *page_size; /* "2MB", "1GB": validated [0-9]+[KMG]B */
        uint64_t limit;
} HugepageLimit;

typedef struct NetPriority {
        char *name; /* interface */
        uint32_t priority;
} NetPriority;

typedef struct RdmaLimit {
        char *device;
        bool has_hca_handles;
        uint32_t hca_handles;
        bool has_hca_objects;
        uint32_t hca_objects;
} RdmaLimit;

typedef struct UnifiedEntry {
        char *key; /* a file name: no '/', not "." or "..", validated */
        char *value;
} UnifiedEntry;

typedef struct CgroupResources {
        /* memory (bytes; -1 means unlimited) */
        bool has_memory_limit;
        int64_t memory_limit;
        bool has_memory_reservation;
        int64_t memory_reservation;
        bool has_memory_swap;
        int64_t memory_swap; /* memory + swap, as in the OCI spec and v1's memsw */
        bool has_memory_swappiness;
        uint64_t memory_swappiness; /* 0..100 */
        bool has_disable_oom_killer;
        bool disable_oom_killer;
        bool check_before_update;

        /* cpu */
        bool has_cpu_shares;
        uint64_t cpu_shares; /* 2..262144 */
        bool has_cpu_quota;
        int64_t cpu_quota; /* microseconds; -1 = unlimited */
        bool has_cpu_period;
        uint64_t cpu_period; /* microseconds, 1000..1000000 */
        bool has_cpu_burst;
        uint64_t cpu_burst;
        bool has_cpu_realtime_runtime;
        int64_t cpu_realtime_runtime;
        bool has_cpu_realtime_period;
        uint64_t cpu_realtime_period;
        char *cpu_cpus; /* cpuset list "0-2,4", validated syntax; NULL if absent */
        char *cpu_mems;
        bool has_cpu_idle;
        int64_t cpu_idle; /* 0 or 1 */

        /* pids */
        bool has_pids_limit;
        int64_t pids_limit; /* <= 0 means unlimited, as runc */

        /* blockIO */
        bool has_blkio_weight;
        uint16_t blkio_weight; /* 10..1000 */
        bool has_blkio_leaf_weight;
        uint16_t blkio_leaf_weight;
        BlkioDeviceWeight *blkio_weight_devices;
        size_t n_blkio_weight_devices;
        BlkioDeviceRate *blkio_throttle[_BLKIO_THROTTLE_MAX];
        size_t n_blkio_throttle[_BLKIO_THROTTLE_MAX];

        HugepageLimit *hugepage_limits;
        size_t n_hugepage_limits;

        /* network (v1 only) */
        bool has_net_class_id;
        uint32_t net_class_id;
        NetPriority *net_priorities;
        size_t n_net_priorities;

        RdmaLimit *rdma;
        size_t n_rdma;

        UnifiedEntry *unified;
        size_t n_unified;

        /* devices: the raw array, converted by devices-bpf.c's device_rules_from_json(). */
        struct json_object *devices; /* borrowed from the parsed document; may be NULL */
} CgroupResources;

/**
 * cgroup_resources_parse() - validate a linux.resources object. @field prefixes messages
 * ("linux.resources" for config.json, "resources" for `update -r`). @obj may be NULL
 * (no resources). The result borrows nothing but `devices` from @obj.
 */
int cgroup_resources_parse(struct json_object *obj, const char *field, CgroupResources **ret,
                           BerthError *err);

CgroupResources *cgroup_resources_free(CgroupResources *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(CgroupResources *, cgroup_resources_free)

/** cgroup_shares_to_weight() - the standard conversion (runc, crun, systemd): 2..262144 -> 1..10000. */
uint64_t cgroup_shares_to_weight(uint64_t shares);

/** cgroup_blkio_weight_to_io_weight() - 10..1000 -> 1..10000. */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight);
