/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Placement: which node, and which of its GPUs, a job goes to now. Pure and deterministic:
 * integer arithmetic only, and a total order on nodes: for a job that asks for GPUs the fragmented
 * GPUs the node is left with, then the score, then the node index (node name order, since a
 * Cluster is canonical); for a CPU-only job the score, then the node index. docs/scheduler.md,
 * "Placement", gives the formulas.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "jobs.h"

/* A GPU nobody holds. */
#define SCHED_OWNER_NONE SIZE_MAX

typedef enum SchedPolicy {
        SCHED_POLICY_BINPACK, /* best fit: least normalised leftover after placement */
        SCHED_POLICY_SPREAD,  /* worst fit: most normalised free capacity after placement */
        /* baselines for comparison, in baseline.c: exhaustive and topology-unaware */
        SCHED_POLICY_FIRSTFIT,  /* the first fitting node in name order */
        SCHED_POLICY_K8S_LEAST, /* Kubernetes NodeResourcesFit LeastAllocated */
        SCHED_POLICY_K8S_MOST,  /* Kubernetes NodeResourcesFit MostAllocated */
        SCHED_POLICY_NOMAD,     /* Nomad ScoreFitBinPack */
        _SCHED_POLICY_MAX,
        _SCHED_POLICY_INVALID = -EINVAL,
} SchedPolicy;

/* What is free on one node now. Capacities are copied so release can check them. */
typedef struct NodeState {
        uint64_t cpu_millis; /* capacity */
        uint64_t memory_bytes;
        uint64_t free_cpu_millis;
        uint64_t free_memory_bytes;
        size_t *gpu_owner;     /* per GPU (node order): job index, or SCHED_OWNER_NONE */
        uint32_t *gpu_domain;  /* per GPU: index of its NVLink domain, 0 ... n_domains-1 */
        uint32_t *domain_size; /* GPUs per domain */
        uint32_t n_gpus;
        uint32_t n_domains;
        uint32_t n_free_gpus;
        bool up;
} NodeState;

typedef struct SchedIndex SchedIndex;

/* Change a NodeState only through sched_commit(), sched_release() and sched_node_set_up(), which
 * keep the index right. */
typedef struct ClusterState {
        NodeState *nodes; /* parallel to Cluster.nodes */
        size_t n_nodes;
        uint32_t max_node_gpus;
        SchedIndex *index; /* the up nodes by free capacity (index.h), owned */
} ClusterState;

typedef struct Placement {
        size_t node;    /* index into Cluster.nodes */
        uint32_t *gpus; /* n_gpus indexes into that node's gpus, ascending (so by uuid); owned */
        uint32_t n_gpus;
} Placement;

/** sched_policy_to_string() - "binpack", "spread"; NULL when out of range. */
const char *sched_policy_to_string(SchedPolicy p);

/** sched_policy_from_string() - the inverse, or _SCHED_POLICY_INVALID. */
SchedPolicy sched_policy_from_string(const char *s);

/**
 * sched_cluster_state_new() - an empty state for @c: everything free, every node up. On success
 * *@ret owns it (free with sched_cluster_state_free()). Returns 0, -ERANGE (a node with over
 * UINT32_MAX - 1 GPUs) or -ENOMEM.
 */
int sched_cluster_state_new(const Cluster *c, ClusterState **ret);

/** sched_cluster_state_free() - free a ClusterState; accepts NULL, returns NULL. */
ClusterState *sched_cluster_state_free(ClusterState *s);

/**
 * sched_place() - choose where @j goes now under @policy, without changing @s: the node and, when
 * the job asks for GPUs, a set of free GPUs on that node that match gpu_model and gpu_memory,
 * within one NVLink domain when one domain can hold them all, leaving the fewest fragmented GPUs.
 * Among the nodes, a GPU job goes where the fewest fragmented GPUs are left, then by score; a CPU
 * job by score. Down nodes and nodes whose labels do not match the selector are skipped. binpack
 * and spread find the node through the index in @s (O(classes x log nodes) for CPU jobs in
 * realistic clusters, times the GPU signatures present for GPU jobs), with exactly
 * sched_place_scan()'s answer. On success *@ret is filled and owns its gpus array
 * (release with sched_placement_done()). Returns 0, -ENOSPC when nothing fits now, or -ENOMEM.
 */
int sched_place(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy, Placement *ret);

/**
 * sched_place_scan() - the same decision as sched_place() under SCHED_POLICY_BINPACK or
 * SCHED_POLICY_SPREAD, found by looking at every node instead of using the index: O(nodes) per
 * call. It is the reference sched_place() is tested against; the result is always identical.
 */
int sched_place_scan(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy,
                     Placement *ret);

/**
 * sched_commit() - take what @p gives @j from @s, recording @owner (a job index, not
 * SCHED_OWNER_NONE) on each GPU. @p must fit @s now (as sched_place() returned it); anything else
 * is a programming error and asserts.
 */
void sched_commit(ClusterState *s, const Job *j, const Placement *p, size_t owner);

/**
 * sched_release() - give back exactly what sched_commit() took for @j and @p, so commit followed by
 * release leaves @s as it was. Releasing what is not held asserts.
 */
void sched_release(ClusterState *s, const Job *j, const Placement *p);

/**
 * sched_node_set_up() - mark node @i up or down. A down node is never a candidate; what it holds
 * stays held until released. The only way to change NodeState.up, since it keeps the index right.
 */
void sched_node_set_up(ClusterState *s, size_t i, bool up);

/**
 * sched_node_fragmented_gpus() - the free GPUs of node @i stranded in NVLink domains that are
 * partly in use: the GPU fragmentation placement minimises.
 */
uint64_t sched_node_fragmented_gpus(const ClusterState *s, size_t i);

/** sched_placement_done() - free what @p owns and zero it; accepts a zeroed Placement. */
void sched_placement_done(Placement *p);
