/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The node index behind sched_place() (internal to src/sched): nodes grouped into classes with
 * identical static attributes (capacities, GPU models, memories and NVLink layout, labels), and
 * per class one treap per placement order, ordered by a GPU signature, then the node's sort key,
 * then node index, and carrying subtree maxima of free cpu, memory and GPUs, so "the first node
 * in order that has at least this much free" prunes whole subtrees. Within a class a job's score
 * is its sort key plus or minus a term that depends only on the class and the job, so key order
 * is score order there. The trees GPU jobs use group a class's nodes by signature (nodes with one
 * signature are alike for the GPU rule, so they leave the same fragmentation), so the first
 * fitting node of each group is the group's best and the walk goes from group to group; the
 * trees CPU jobs use have no signature, so they are in plain key order. Down nodes are in no
 * tree. docs/scheduler.md, "Placement", has the formulas.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "place.h"

#define SCHED_INDEX_NONE SIZE_MAX
#define SCHED_PPM        UINT64_C(1000000)

/* The orders the trees keep: by signature (GPU orders of grouped classes only, else 0), then
 * lower sort key first, then node index. */
typedef enum SchedOrder {
        SCHED_ORDER_BINPACK_CPU, /* key = free cpu + memory + GPU shares: fullest first */
        SCHED_ORDER_BINPACK_GPU, /* the same key, grouped by signature */
        SCHED_ORDER_SPREAD_GPU,  /* 3,000,000 - (free cpu + memory + GPU shares): emptiest first;
                                    grouped by signature */
        SCHED_ORDER_SPREAD_CPU,  /* 3,000,000 - (free cpu + memory shares): GPUs not counted */
        _SCHED_ORDER_MAX,
} SchedOrder;

/* What a job needs free on a node (GPUs by count; model and memory are checked by the caller). */
typedef struct SchedNeed {
        uint64_t cpu_millis;
        uint64_t memory_bytes;
        uint32_t n_gpus;
} SchedNeed;

/* How a class sums up which of a node's GPUs are free, in SchedTreeLink.signature. */
typedef enum SchedSignature {
        SCHED_SIGNATURE_NONE,   /* always 0: no GPUs, too many to sum up, or nothing to tell apart
                                   (alike GPUs, each its own NVLink domain: never fragmented) */
        SCHED_SIGNATURE_COUNTS, /* free GPUs per NVLink domain, packed: the class's GPUs are all
                                   of one model and memory, so only the counts matter */
        SCHED_SIGNATURE_MASK,   /* bit g: GPU g is free */
} SchedSignature;

typedef struct SchedClass {
        size_t first_node; /* its lowest node index; every member has the same static attributes */
        size_t n_nodes;
        uint64_t cpu_millis; /* the members' capacity */
        uint64_t memory_bytes;
        uint32_t n_gpus;
        SchedSignature signature;
        uint32_t count_bits; /* SCHED_SIGNATURE_COUNTS: bits per domain */
        uint32_t root[_SCHED_ORDER_MAX];
        /* a tree is built the first time a placement asks for it (sched_index_activate()) and
         * kept from then on: a binpack run never pays for the spread trees, and a CPU-only class
         * never for the GPU-job trees */
        bool active[_SCHED_ORDER_MAX];
} SchedClass;

/* One node's place in one tree. */
typedef struct SchedTreeLink {
        uint64_t key;
        uint64_t signature;           /* 0 in the *_CPU trees, which only CPU jobs use */
        uint64_t max_free_cpu_millis; /* over the subtree */
        uint64_t max_free_memory_bytes;
        uint32_t max_free_gpus;
        uint32_t left, right;
} SchedTreeLink;

typedef struct SchedIndexNode {
        uint64_t free_cpu_millis; /* copies of the NodeState, where the trees read them */
        uint64_t free_memory_bytes;
        uint32_t free_gpus;
        uint32_t priority; /* treap heap order, a fixed hash of the node index */
        uint32_t class;
        bool linked; /* in the trees, i.e. up */
} SchedIndexNode;

typedef struct SchedIndex {
        SchedClass *classes;
        size_t n_classes;
        SchedIndexNode *nodes;
        SchedTreeLink *links[_SCHED_ORDER_MAX]; /* per order, parallel to nodes */
        size_t n_nodes;
} SchedIndex;

/** sched_share_ppm() - @part / @whole in millionths, rounded down, exact; 0 when @whole is 0. */
static inline uint64_t sched_share_ppm(uint64_t part, uint64_t whole)
{
        if (whole == 0)
                return 0;
        return (uint64_t)((unsigned __int128)part * SCHED_PPM / whole);
}

/** sched_node_key() - the sort key of node state @ns in order @o (see SchedOrder). */
uint64_t sched_node_key(const NodeState *ns, SchedOrder o);

/**
 * sched_index_new() - group the nodes of @c into classes and index their state @nodes (parallel
 * to c->nodes; up nodes only). On success *@ret owns the index (free with sched_index_free()).
 * Returns 0, -ERANGE (UINT32_MAX nodes or more) or -ENOMEM.
 */
int sched_index_new(const Cluster *c, const NodeState *nodes, SchedIndex **ret);

/** sched_index_free() - free an index; accepts NULL, returns NULL. */
SchedIndex *sched_index_free(SchedIndex *x);

/**
 * sched_index_update() - node @i changed (free capacity or up/down) to @ns: move it in every tree,
 * or take it out when it is down. O(log n) expected.
 */
void sched_index_update(SchedIndex *x, size_t i, const NodeState *ns);

/**
 * sched_index_activate() - build the tree of @class in order @o from the node states @nodes, if
 * it is not built yet; from then on sched_index_update() keeps it. A cache: it changes no answer.
 * O(nodes) the first time, then O(1).
 */
void sched_index_activate(SchedIndex *x, size_t class, SchedOrder o, const NodeState *nodes);

/**
 * sched_index_first() - the first up node of @class in order @o with at least @need free, or
 * SCHED_INDEX_NONE. The tree must be active (sched_index_activate()).
 */
size_t sched_index_first(const SchedIndex *x, size_t class, SchedOrder o, const SchedNeed *need);

/**
 * sched_index_next() - the next such node after node @after (which must be in the trees), or
 * SCHED_INDEX_NONE. With @skip_group, the nodes with the same signature as @after are passed
 * over, so in a grouped class (sched_index_grouped()) the walk goes to the best fitting node of
 * the next signature in a GPU order. Without it, the very next fitting node.
 */
size_t sched_index_next(const SchedIndex *x, size_t class, SchedOrder o, const SchedNeed *need, size_t after,
                        bool skip_group);

/**
 * sched_index_grouped() - whether the GPU-order trees of @class group its nodes by signature:
 * nodes with one signature have the same free GPUs per NVLink domain, and the same eligible ones,
 * so the GPU rule gives each the same fragmentation. Otherwise they are in key order.
 */
static inline bool sched_index_grouped(const SchedIndex *x, size_t class)
{
        return x->classes[class].signature != SCHED_SIGNATURE_NONE;
}

/**
 * sched_index_node_current() - whether what the index holds for node @i matches its state @ns; a
 * check that nothing changed a NodeState behind sched_commit(), sched_release() and
 * sched_node_set_up().
 */
static inline bool sched_index_node_current(const SchedIndex *x, size_t i, const NodeState *ns)
{
        const SchedIndexNode *n = &x->nodes[i];

        return n->linked == ns->up && n->free_cpu_millis == ns->free_cpu_millis &&
               n->free_memory_bytes == ns->free_memory_bytes && n->free_gpus == ns->n_free_gpus;
}

/** sched_index_key() - the sort key node @i (up) has in order @o. */
static inline uint64_t sched_index_key(const SchedIndex *x, SchedOrder o, size_t i)
{
        return x->links[o][i].key;
}
