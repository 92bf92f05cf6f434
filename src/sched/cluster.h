/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The cluster model the scheduler places jobs on, parsed from JSON text and kept in canonical
 * order: nodes by name, a node's GPUs by uuid, labels by key (byte order). Listing nodes, GPUs
 * or labels in another order in the file therefore yields an identical model, which is what
 * makes placements independent of file order.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/strbuf.h"

typedef struct Label {
        char *key;
        char *value;
} Label;

typedef struct Gpu {
        char *uuid;
        char *model;
        uint64_t memory_bytes;
        int32_t nvlink; /* the NVLink domain on its node; GPUs with equal values share one */
} Gpu;

typedef struct Node {
        char *name;
        uint64_t cpu_millis;
        uint64_t memory_bytes;
        Gpu *gpus; /* sorted by uuid */
        size_t n_gpus;
        Label *labels; /* sorted by key */
        size_t n_labels;
} Node;

typedef struct Cluster {
        Node *nodes; /* sorted by name */
        size_t n_nodes;
} Cluster;

/**
 * sched_cluster_parse() - parse a cluster from JSON text:
 * {"nodes": [{"name", "cpu", "memory", "gpus"?: [{"uuid", "model", "memory", "nvlink"}], "labels"?: {k:
 * v}}]}. Refuses unknown fields, missing fields, bad quantities, duplicate node names and GPU uuids
 * (cluster-wide), with the JSON path of the field in @err ("nodes[3].gpus[1].memory: ...";
 * indexes are those of the file). On success *@ret owns a canonical Cluster (free it with
 * sched_cluster_free()). Returns 0, -EINVAL, -ERANGE or -ENOMEM.
 */
int sched_cluster_parse(const char *json_text, Cluster **ret, BerthError *err);

/**
 * sched_cluster_parse_yaml() - the same from @size bytes of YAML (nodes: [...]), converted by
 * sched_yaml_parse() and then validated exactly as JSON is. YAML syntax errors carry the line.
 */
int sched_cluster_parse_yaml(const char *text, size_t size, Cluster **ret, BerthError *err);

/**
 * sched_cluster_format() - append @c as canonical JSON text (one line, no newline): nodes, GPUs
 * and labels in the model's order, cpu as "<millicores>m", memory as a string of whole bytes,
 * empty "gpus" and "labels" left out:
 *   {"nodes":[{"name":"a","cpu":"16000m","memory":"68719476736","labels":{"zone":"a"}}]}
 * sched_cluster_parse() of the text gives an identical Cluster. Check strbuf_failed() on @out.
 */
void sched_cluster_format(const Cluster *c, StrBuf *out);

/** sched_cluster_free() - free a Cluster and all it owns; accepts NULL, returns NULL. */
Cluster *sched_cluster_free(Cluster *c);

/** sched_cluster_find_node() - the node named @name (binary search), or NULL. */
const Node *sched_cluster_find_node(const Cluster *c, const char *name);

/** sched_labels_find() - the value of label @key in a sorted label array, or NULL. */
const char *sched_labels_find(const Label *labels, size_t n_labels, const char *key);

static inline void sched_cluster_freep(Cluster **c)
{
        sched_cluster_free(*c);
}
