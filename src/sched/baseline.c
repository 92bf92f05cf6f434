/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "basic/macro.h"
#include "baseline.h"

/* framework.MaxNodeScore in Kubernetes */
#define K8S_MAX_NODE_SCORE 100

/* Which nodes can take a job is the same rule as place.c's, minus NVLink: kept separate so the
 * baselines never depend on how berth's own policies are indexed or optimised. */
/* The lowest-index (so lowest-uuid) eligible free GPUs of the node, written to @ret_pick when it
 * is not NULL; false when the node has fewer than the job asks. */
static bool node_pick_gpus(const Node *n, const NodeState *ns, const Job *j, uint32_t *ret_pick)
{
        uint32_t k = 0;

        for (uint32_t g = 0; g < ns->n_gpus && k < j->n_gpus; g++) {
                if (ns->gpu_owner[g] != SCHED_OWNER_NONE || !sched_gpu_eligible(&n->gpus[g], j))
                        continue;
                if (ret_pick)
                        ret_pick[k] = g;
                k++;
        }
        return k == j->n_gpus;
}

static bool node_can_take(const Node *n, const NodeState *ns, const Job *j)
{
        return ns->up && ns->free_cpu_millis >= j->cpu_millis && ns->free_memory_bytes >= j->memory_bytes &&
               ns->n_free_gpus >= j->n_gpus && sched_selector_matches(n, j) &&
               (j->n_gpus == 0 || node_pick_gpus(n, ns, j, NULL));
}

/* leastRequestedScore() and mostRequestedScore() of least_allocated.go / most_allocated.go, with
 * requested already including the pod; 128 bits so that bytes * 100 cannot overflow. */
static int64_t k8s_resource_score(uint64_t requested, uint64_t allocatable, SchedPolicy policy)
{
        if (allocatable == 0)
                return 0;
        if (policy == SCHED_POLICY_K8S_LEAST) {
                if (requested > allocatable)
                        return 0;
                return (int64_t)((unsigned __int128)(allocatable - requested) * K8S_MAX_NODE_SCORE /
                                 allocatable);
        }
        if (requested > allocatable)
                requested = allocatable;
        return (int64_t)((unsigned __int128)requested * K8S_MAX_NODE_SCORE / allocatable);
}

int64_t sched_baseline_k8s_score(const NodeState *ns, const Job *j, SchedPolicy policy)
{
        int64_t sum, weights = 2;

        assert(ns && j);
        assert(policy == SCHED_POLICY_K8S_LEAST || policy == SCHED_POLICY_K8S_MOST);
        assert(ns->free_cpu_millis >= j->cpu_millis && ns->free_memory_bytes >= j->memory_bytes);
        assert(ns->n_free_gpus >= j->n_gpus);
        sum = k8s_resource_score(ns->cpu_millis - ns->free_cpu_millis + j->cpu_millis, ns->cpu_millis,
                                 policy) +
              k8s_resource_score(ns->memory_bytes - ns->free_memory_bytes + j->memory_bytes,
                                 ns->memory_bytes, policy);
        /* An extended resource (nvidia.com/gpu) counts only when the pod asks for it and the node
         * has it: calculateResourceAllocatableRequest() returns (0, 0) otherwise and the scorer
         * skips it, weight included. */
        if (j->n_gpus > 0 && ns->n_gpus > 0) {
                sum += k8s_resource_score(ns->n_gpus - ns->n_free_gpus + j->n_gpus, ns->n_gpus, policy);
                weights++;
        }
        return sum / weights;
}

/* 10^x for x in [0, 1] without libm, so the baseline is the same on every libc: e^(x ln 10) by a
 * Taylor series on a sixteenth of the argument, squared four times (relative error below 2e-14). */
static double pow10_unit(double x)
{
        const double ln10 = 2.302585092994045684;
        double y = x * ln10 / 16, term = 1, sum = 1;

        for (int i = 1; i <= 14; i++) {
                term *= y / i;
                sum += term;
        }
        for (int i = 0; i < 4; i++)
                sum *= sum;
        return sum;
}

double sched_baseline_nomad_score(const NodeState *ns, const Job *j)
{
        double free_cpu, free_mem, score;

        assert(ns && j);
        assert(ns->free_cpu_millis >= j->cpu_millis && ns->free_memory_bytes >= j->memory_bytes);
        /* computeFreePercentage(): 1 - used / capacity, with the job counted as used */
        free_cpu =
                ns->cpu_millis ? (double)(ns->free_cpu_millis - j->cpu_millis) / (double)ns->cpu_millis : 0;
        free_mem = ns->memory_bytes
                           ? (double)(ns->free_memory_bytes - j->memory_bytes) / (double)ns->memory_bytes
                           : 0;
        score = 20.0 - (pow10_unit(free_cpu) + pow10_unit(free_mem));
        if (score > 18.0)
                score = 18.0;
        else if (score < 0)
                score = 0;
        return score;
}

int sched_place_baseline(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy,
                         Placement *ret)
{
        size_t best = SIZE_MAX;
        int64_t best_k8s = INT64_MIN;
        double best_nomad = -1;
        uint32_t *gpus = NULL;

        assert(c && s && j && ret);
        assert(c->n_nodes == s->n_nodes);
        assert(policy >= SCHED_POLICY_FIRSTFIT && policy < _SCHED_POLICY_MAX);
        for (size_t i = 0; i < c->n_nodes; i++) {
                const NodeState *ns = &s->nodes[i];

                if (!node_can_take(&c->nodes[i], ns, j))
                        continue;
                /* nodes come in name order: a strict comparison leaves ties to the lowest name */
                if (policy == SCHED_POLICY_FIRSTFIT) {
                        best = i;
                        break;
                }
                if (policy == SCHED_POLICY_NOMAD) {
                        double score = sched_baseline_nomad_score(ns, j);
                        if (score > best_nomad) {
                                best = i;
                                best_nomad = score;
                        }
                } else {
                        int64_t score = sched_baseline_k8s_score(ns, j, policy);
                        if (score > best_k8s) {
                                best = i;
                                best_k8s = score;
                        }
                }
        }
        if (best == SIZE_MAX)
                return -ENOSPC;
        if (j->n_gpus > 0) {
                bool ok;

                gpus = malloc(j->n_gpus * sizeof(uint32_t));
                if (!gpus)
                        return -ENOMEM;
                ok = node_pick_gpus(&c->nodes[best], &s->nodes[best], j, gpus);
                assert(ok);
                (void)ok;
        }
        *ret = (Placement){
                .node = best,
                .gpus = gpus,
                .n_gpus = j->n_gpus,
        };
        return 0;
}
