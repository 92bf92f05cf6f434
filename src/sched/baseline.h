/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Baseline placement policies, the anchors bench/scheduler compares berth's own policies with.
 * They score nodes as the real systems do and are deliberately plain: an exhaustive scan in node
 * name order, and GPUs chosen without regard to NVLink (the lowest-uuid eligible free GPUs, as
 * the Kubernetes device plugin hands them out by default). bench/README.md, "Baselines", has
 * the formulas and their sources.
 */

#include <stdint.h>

#include "cluster.h"
#include "jobs.h"
#include "place.h"

/**
 * sched_place_baseline() - sched_place() for the baseline policies (SCHED_POLICY_FIRSTFIT and
 * above): among the nodes that can take @j now (up, enough free cpu and memory, the selector's
 * labels, enough free GPUs of the job's gpu_model and gpu_memory), the first in name order
 * (firstfit) or the one with the highest score after adding the job (k8s-least, k8s-most,
 * nomad-binpack), ties to the lowest node name. The job's GPUs are the lowest-uuid eligible free
 * GPUs of that node. Changes nothing; on success *@ret is filled and owns its gpus array (release
 * with sched_placement_done()). Returns 0, -ENOSPC when nothing fits now, or -ENOMEM.
 */
int sched_place_baseline(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy,
                         Placement *ret);

/**
 * sched_baseline_k8s_score() - the Kubernetes NodeResourcesFit score (0 ... 100) of node @ns for
 * @j under SCHED_POLICY_K8S_LEAST or SCHED_POLICY_K8S_MOST: per resource, with requested = in use
 * + the job's request, LeastAllocated (allocatable - requested) * 100 / allocatable and
 * MostAllocated requested * 100 / allocatable (integer division), averaged with weight 1 over cpu,
 * memory and, only when the job asks for GPUs and the node has some, GPUs. @ns must fit @j.
 */
int64_t sched_baseline_k8s_score(const NodeState *ns, const Job *j, SchedPolicy policy);

/**
 * sched_baseline_nomad_score() - Nomad's ScoreFitBinPack (0 ... 18) of node @ns for @j:
 * 20 - (10^free_cpu + 10^free_memory), free_x the fraction of the node left after adding the
 * job, clamped to [0, 18]. @ns must fit @j.
 */
double sched_baseline_nomad_score(const NodeState *ns, const Job *j);
