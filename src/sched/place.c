/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "place.h"

#define PPM       UINT64_C(1000000)
#define COST_NONE UINT64_MAX

static const char *const sched_policy_table[_SCHED_POLICY_MAX] = {
        [SCHED_POLICY_BINPACK] = "binpack",
        [SCHED_POLICY_SPREAD] = "spread",
};

const char *sched_policy_to_string(SchedPolicy p)
{
        if (p < 0 || p >= _SCHED_POLICY_MAX)
                return NULL;
        return sched_policy_table[p];
}

SchedPolicy sched_policy_from_string(const char *s)
{
        if (!s)
                return _SCHED_POLICY_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(sched_policy_table); i++)
                if (streq(s, sched_policy_table[i]))
                        return (SchedPolicy)i;
        return _SCHED_POLICY_INVALID;
}

static void node_state_done(NodeState *ns)
{
        free(ns->gpu_owner);
        free(ns->gpu_domain);
        free(ns->domain_size);
}

ClusterState *sched_cluster_state_free(ClusterState *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_nodes; i++)
                node_state_done(&s->nodes[i]);
        free(s->nodes);
        free(s);
        return NULL;
}

/* Domains are numbered in order of first appearance among the node's GPUs (uuid order); the
 * numbering never reaches a decision, which depends only on GPU indexes and domain sizes. */
static int node_state_init(const Node *n, NodeState *ns)
{
        if (n->n_gpus >= UINT32_MAX)
                return -ERANGE;
        *ns = (NodeState){
                .cpu_millis = n->cpu_millis,
                .memory_bytes = n->memory_bytes,
                .free_cpu_millis = n->cpu_millis,
                .free_memory_bytes = n->memory_bytes,
                .n_gpus = (uint32_t)n->n_gpus,
                .n_free_gpus = (uint32_t)n->n_gpus,
                .up = true,
        };
        if (n->n_gpus == 0)
                return 0;
        ns->gpu_owner = malloc(n->n_gpus * sizeof(size_t));
        ns->gpu_domain = calloc(n->n_gpus, sizeof(uint32_t));
        ns->domain_size = calloc(n->n_gpus, sizeof(uint32_t));
        if (!ns->gpu_owner || !ns->gpu_domain || !ns->domain_size)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_gpus; i++) {
                size_t first = 0;

                ns->gpu_owner[i] = SCHED_OWNER_NONE;
                while (n->gpus[first].nvlink != n->gpus[i].nvlink)
                        first++;
                ns->gpu_domain[i] = first == i ? ns->n_domains++ : ns->gpu_domain[first];
                ns->domain_size[ns->gpu_domain[i]]++;
        }
        return 0;
}

int sched_cluster_state_new(const Cluster *c, ClusterState **ret)
{
        ClusterState *s;
        int r;

        assert(c);
        assert(ret);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->nodes = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(NodeState));
        if (!s->nodes) {
                free(s);
                return -ENOMEM;
        }
        for (size_t i = 0; i < c->n_nodes; i++) {
                /* count first so a failed init is freed too */
                s->n_nodes = i + 1;
                r = node_state_init(&c->nodes[i], &s->nodes[i]);
                if (r < 0) {
                        sched_cluster_state_free(s);
                        return r;
                }
                if (s->nodes[i].n_gpus > s->max_node_gpus)
                        s->max_node_gpus = s->nodes[i].n_gpus;
        }
        *ret = s;
        return 0;
}

void sched_placement_done(Placement *p)
{
        if (!p)
                return;
        free(p->gpus);
        *p = (Placement){};
}

/*
 * The free GPUs a domain strands when @taken of its @free free GPUs go to a job: none when the
 * domain ends up empty or full (a later job can use it whole, or nothing is left), otherwise all
 * the free GPUs that remain, since a job that wants a whole domain can no longer have it.
 */
static uint64_t domain_fragmented(uint32_t size, uint32_t free_gpus, uint32_t taken)
{
        uint32_t used = size - free_gpus + taken;

        return used > 0 && used < size ? free_gpus - taken : 0;
}

uint64_t sched_node_fragmented_gpus(const ClusterState *s, size_t i)
{
        const NodeState *ns;
        uint64_t sum = 0;

        assert(s && i < s->n_nodes);
        ns = &s->nodes[i];
        for (uint32_t d = 0; d < ns->n_domains; d++) {
                uint32_t free_gpus = 0;

                for (uint32_t g = 0; g < ns->n_gpus; g++)
                        free_gpus += ns->gpu_domain[g] == d && ns->gpu_owner[g] == SCHED_OWNER_NONE;
                sum += domain_fragmented(ns->domain_size[d], free_gpus, 0);
        }
        return sum;
}

/* Working memory for one sched_place() call, sized by the largest node, so the per-node search
 * allocates nothing. */
typedef struct Scratch {
        uint32_t *dom_free; /* free GPUs per domain */
        uint32_t *dom_elig; /* free GPUs per domain that match the job's model and memory */
        uint32_t *dom_lo;   /* spanning search: GPUs already chosen per domain */
        uint32_t *dom_hi;   /* ... and the most the domain can still give */
        bool *elig;         /* per GPU */
        uint32_t *cand;     /* a candidate set */
        uint32_t *pick;     /* the set chosen on the node being looked at */
        uint64_t *dp, *dp_next;
} Scratch;

static void scratch_done(Scratch *w)
{
        free(w->dom_free);
        free(w->dom_elig);
        free(w->dom_lo);
        free(w->dom_hi);
        free(w->elig);
        free(w->cand);
        free(w->pick);
        free(w->dp);
        free(w->dp_next);
}

static int scratch_init(Scratch *w, uint32_t max_gpus, uint32_t k)
{
        size_t n = max_gpus ? max_gpus : 1;

        *w = (Scratch){
                .dom_free = calloc(n, sizeof(uint32_t)),
                .dom_elig = calloc(n, sizeof(uint32_t)),
                .dom_lo = calloc(n, sizeof(uint32_t)),
                .dom_hi = calloc(n, sizeof(uint32_t)),
                .elig = calloc(n, sizeof(bool)),
                .cand = calloc((size_t)k + 1, sizeof(uint32_t)),
                .pick = calloc((size_t)k + 1, sizeof(uint32_t)),
                .dp = calloc((size_t)k + 1, sizeof(uint64_t)),
                .dp_next = calloc((size_t)k + 1, sizeof(uint64_t)),
        };
        if (!w->dom_free || !w->dom_elig || !w->dom_lo || !w->dom_hi || !w->elig || !w->cand || !w->pick ||
            !w->dp || !w->dp_next) {
                scratch_done(w);
                return -ENOMEM;
        }
        return 0;
}

/*
 * The fewest fragmented GPUs over all ways to take exactly @k GPUs, between dom_lo[d] and
 * dom_hi[d] from each domain d; COST_NONE when no way exists. A small knapsack over domains,
 * O(domains * k * GPUs per domain): exact, where a greedy rule can strand a domain.
 */
static uint64_t spanning_min_fragmented(const NodeState *ns, Scratch *w, uint32_t k)
{
        for (uint32_t t = 0; t <= k; t++)
                w->dp[t] = t == 0 ? 0 : COST_NONE;
        for (uint32_t d = 0; d < ns->n_domains; d++) {
                for (uint32_t t = 0; t <= k; t++)
                        w->dp_next[t] = COST_NONE;
                for (uint32_t t = 0; t <= k; t++) {
                        if (w->dp[t] == COST_NONE)
                                continue;
                        for (uint32_t take = w->dom_lo[d]; take <= w->dom_hi[d] && t + take <= k; take++) {
                                uint64_t c = w->dp[t] +
                                             domain_fragmented(ns->domain_size[d], w->dom_free[d], take);
                                if (c < w->dp_next[t + take])
                                        w->dp_next[t + take] = c;
                        }
                }
                uint64_t *t = w->dp;
                w->dp = w->dp_next;
                w->dp_next = t;
        }
        return w->dp[k];
}

/* Lexicographic order of two ascending index sets of @k GPUs: index order is uuid order. */
static int gpu_set_compare(const uint32_t *a, const uint32_t *b, uint32_t k)
{
        for (uint32_t i = 0; i < k; i++)
                if (a[i] != b[i])
                        return a[i] < b[i] ? -1 : 1;
        return 0;
}

/* The best set inside a single domain: fewest fragmented GPUs, then lowest uuids. Which GPUs of a
 * domain are taken does not change its fragmentation, so each domain offers its lowest ones. */
static uint64_t pick_in_one_domain(const NodeState *ns, Scratch *w, uint32_t k, uint64_t base,
                                   uint32_t *ret_pick)
{
        uint64_t best = COST_NONE;

        for (uint32_t d = 0; d < ns->n_domains; d++) {
                uint64_t cost;
                uint32_t n = 0;

                if (w->dom_elig[d] < k)
                        continue;
                cost = base - domain_fragmented(ns->domain_size[d], w->dom_free[d], 0) +
                       domain_fragmented(ns->domain_size[d], w->dom_free[d], k);
                for (uint32_t g = 0; g < ns->n_gpus && n < k; g++)
                        if (w->elig[g] && ns->gpu_domain[g] == d)
                                w->cand[n++] = g;
                if (cost < best || (cost == best && gpu_set_compare(w->cand, ret_pick, k) < 0)) {
                        best = cost;
                        memcpy(ret_pick, w->cand, k * sizeof(uint32_t));
                }
        }
        return best;
}

/* Across domains: the lexicographically lowest set among those with the fewest fragmented GPUs,
 * built GPU by GPU in uuid order, keeping a GPU when an optimal completion still exists. */
static uint64_t pick_spanning(const NodeState *ns, Scratch *w, uint32_t k, uint32_t *ret_pick)
{
        uint64_t opt;
        uint32_t n = 0;

        for (uint32_t d = 0; d < ns->n_domains; d++) {
                w->dom_lo[d] = 0;
                w->dom_hi[d] = w->dom_elig[d];
        }
        opt = spanning_min_fragmented(ns, w, k);
        if (opt == COST_NONE)
                return COST_NONE;
        for (uint32_t g = 0; g < ns->n_gpus && n < k; g++) {
                uint32_t d = ns->gpu_domain[g];

                if (!w->elig[g])
                        continue;
                w->dom_lo[d]++;
                if (spanning_min_fragmented(ns, w, k) == opt)
                        ret_pick[n++] = g;
                else {
                        w->dom_lo[d]--;
                        w->dom_hi[d]--;
                }
        }
        assert(n == k);
        return opt;
}

static bool gpu_eligible(const Gpu *g, const Job *j)
{
        return (!j->gpu_model || streq(j->gpu_model, g->model)) && g->memory_bytes >= j->gpu_memory_bytes;
}

/*
 * Choose @j's GPUs on node @n: within one NVLink domain when one can hold them all, else across
 * domains; in both cases the fewest fragmented GPUs left on the node, then the lowest uuids.
 * Returns the fragmented GPU count after placement, or COST_NONE when the node cannot hold them.
 */
static uint64_t node_pick_gpus(const Node *n, const NodeState *ns, const Job *j, Scratch *w,
                               uint32_t *ret_pick)
{
        uint32_t k = j->n_gpus, total = 0;
        uint64_t base = 0, cost;

        if (ns->n_free_gpus < k)
                return COST_NONE;
        memset(w->dom_free, 0, ns->n_domains * sizeof(uint32_t));
        memset(w->dom_elig, 0, ns->n_domains * sizeof(uint32_t));
        for (uint32_t g = 0; g < ns->n_gpus; g++) {
                bool free_gpu = ns->gpu_owner[g] == SCHED_OWNER_NONE;

                w->elig[g] = free_gpu && gpu_eligible(&n->gpus[g], j);
                w->dom_free[ns->gpu_domain[g]] += free_gpu;
                w->dom_elig[ns->gpu_domain[g]] += w->elig[g];
                total += w->elig[g];
        }
        if (total < k)
                return COST_NONE;
        for (uint32_t d = 0; d < ns->n_domains; d++)
                base += domain_fragmented(ns->domain_size[d], w->dom_free[d], 0);
        cost = pick_in_one_domain(ns, w, k, base, ret_pick);
        if (cost != COST_NONE)
                return cost;
        return pick_spanning(ns, w, k, ret_pick);
}

/* part/whole in millionths, exact in 128 bits; a dimension the node lacks counts as 0. */
static uint64_t share_ppm(uint64_t part, uint64_t whole)
{
        if (whole == 0)
                return 0;
        return (uint64_t)((unsigned __int128)part * PPM / whole);
}

/*
 * The node's score after @j lands, lower is better under both policies. binpack: the normalised
 * leftover summed over cpu, memory and GPUs (0 ... 3,000,000), so the fullest fitting node wins
 * and a CPU-only job avoids idle GPU nodes. spread: 3,000,000 minus the normalised free capacity
 * (GPUs counted only for GPU jobs, so CPU jobs are not drawn to GPU nodes), so the emptiest wins.
 */
static uint64_t node_score(const NodeState *ns, const Job *j, SchedPolicy policy)
{
        uint64_t sum = share_ppm(ns->free_cpu_millis - j->cpu_millis, ns->cpu_millis) +
                       share_ppm(ns->free_memory_bytes - j->memory_bytes, ns->memory_bytes);
        uint64_t gpus = share_ppm(ns->n_free_gpus - j->n_gpus, ns->n_gpus);

        if (policy == SCHED_POLICY_BINPACK)
                return sum + gpus;
        return 3 * PPM - sum - (j->n_gpus > 0 ? gpus : 0);
}

static bool node_selector_matches(const Node *n, const Job *j)
{
        for (size_t i = 0; i < j->n_selector; i++) {
                const char *v = sched_labels_find(n->labels, n->n_labels, j->selector[i].key);
                if (!v || !streq(v, j->selector[i].value))
                        return false;
        }
        return true;
}

static bool node_can_take(const Node *n, const NodeState *ns, const Job *j)
{
        return ns->up && ns->free_cpu_millis >= j->cpu_millis && ns->free_memory_bytes >= j->memory_bytes &&
               ns->n_free_gpus >= j->n_gpus && node_selector_matches(n, j);
}

int sched_place(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy, Placement *ret)
{
        uint64_t best_score = UINT64_MAX, best_frag = UINT64_MAX;
        size_t best = SIZE_MAX;
        _cleanup_free_ uint32_t *best_pick = NULL;
        Scratch w;
        int r;

        assert(c && s && j && ret);
        assert(c->n_nodes == s->n_nodes);
        assert(policy >= 0 && policy < _SCHED_POLICY_MAX);
        if (j->n_gpus > s->max_node_gpus)
                return -ENOSPC;
        best_pick = calloc((size_t)j->n_gpus + 1, sizeof(uint32_t));
        if (!best_pick)
                return -ENOMEM;
        r = scratch_init(&w, s->max_node_gpus, j->n_gpus);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_nodes; i++) {
                const NodeState *ns = &s->nodes[i];
                uint64_t score, frag = 0;

                if (!node_can_take(&c->nodes[i], ns, j))
                        continue;
                score = node_score(ns, j, policy);
                /* nodes come in name order, so a strict comparison leaves ties to the lowest name */
                if (score > best_score)
                        continue;
                if (j->n_gpus > 0) {
                        /* pick_in_one_domain() keeps a set only when it is below the one it
                         * holds: start above every real set */
                        memset(w.pick, 0xff, ((size_t)j->n_gpus + 1) * sizeof(uint32_t));
                        frag = node_pick_gpus(&c->nodes[i], ns, j, &w, w.pick);
                        if (frag == COST_NONE)
                                continue;
                }
                if (score == best_score && frag >= best_frag)
                        continue;
                best = i;
                best_score = score;
                best_frag = frag;
                memcpy(best_pick, w.pick, (size_t)j->n_gpus * sizeof(uint32_t));
        }
        scratch_done(&w);
        if (best == SIZE_MAX)
                return -ENOSPC;
        *ret = (Placement){
                .node = best,
                .gpus = j->n_gpus > 0 ? TAKE_PTR(best_pick) : NULL,
                .n_gpus = j->n_gpus,
        };
        return 0;
}

void sched_commit(ClusterState *s, const Job *j, const Placement *p, size_t owner)
{
        NodeState *ns;

        assert(s && j && p);
        assert(owner != SCHED_OWNER_NONE);
        assert(p->node < s->n_nodes);
        assert(p->n_gpus == j->n_gpus);
        ns = &s->nodes[p->node];
        assert(ns->free_cpu_millis >= j->cpu_millis);
        assert(ns->free_memory_bytes >= j->memory_bytes);
        ns->free_cpu_millis -= j->cpu_millis;
        ns->free_memory_bytes -= j->memory_bytes;
        for (uint32_t i = 0; i < p->n_gpus; i++) {
                assert(p->gpus[i] < ns->n_gpus);
                assert(ns->gpu_owner[p->gpus[i]] == SCHED_OWNER_NONE);
                ns->gpu_owner[p->gpus[i]] = owner;
                ns->n_free_gpus--;
        }
}

void sched_release(ClusterState *s, const Job *j, const Placement *p)
{
        NodeState *ns;

        assert(s && j && p);
        assert(p->node < s->n_nodes);
        assert(p->n_gpus == j->n_gpus);
        ns = &s->nodes[p->node];
        assert(ns->cpu_millis - ns->free_cpu_millis >= j->cpu_millis);
        assert(ns->memory_bytes - ns->free_memory_bytes >= j->memory_bytes);
        ns->free_cpu_millis += j->cpu_millis;
        ns->free_memory_bytes += j->memory_bytes;
        for (uint32_t i = 0; i < p->n_gpus; i++) {
                assert(p->gpus[i] < ns->n_gpus);
                assert(ns->gpu_owner[p->gpus[i]] != SCHED_OWNER_NONE);
                ns->gpu_owner[p->gpus[i]] = SCHED_OWNER_NONE;
                ns->n_free_gpus++;
        }
}
