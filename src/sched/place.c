/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "baseline.h"
#include "index.h"
#include "place.h"

#define COST_NONE UINT64_MAX

static const char *const sched_policy_table[_SCHED_POLICY_MAX] = {
        [SCHED_POLICY_BINPACK] = "binpack",   [SCHED_POLICY_SPREAD] = "spread",
        [SCHED_POLICY_FIRSTFIT] = "firstfit", [SCHED_POLICY_K8S_LEAST] = "k8s-least",
        [SCHED_POLICY_K8S_MOST] = "k8s-most", [SCHED_POLICY_NOMAD] = "nomad-binpack",
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
        sched_index_free(s->index);
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
        r = sched_index_new(c, s->nodes, &s->index);
        if (r < 0) {
                sched_cluster_state_free(s);
                return r;
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
        void *block;            /* the one allocation the arrays below point into */
        uint64_t *dp, *dp_next; /* swapped as the knapsack advances */
        uint32_t *dom_free;     /* free GPUs per domain */
        uint32_t *dom_elig;     /* free GPUs per domain that match the job's model and memory */
        uint32_t *dom_lo;       /* spanning search: GPUs already chosen per domain */
        uint32_t *dom_hi;       /* ... and the most the domain can still give */
        uint32_t *cand;         /* a candidate set */
        uint32_t *pick;         /* the set chosen on the node being looked at */
        bool *elig;             /* per GPU */
} Scratch;

static void scratch_done(Scratch *w)
{
        free(w->block);
        *w = (Scratch){};
}

/* One block, widest elements first so each array is aligned. */
static int scratch_init(Scratch *w, uint32_t max_gpus, uint32_t k)
{
        size_t n = max_gpus ? max_gpus : 1, m = (size_t)k + 1;
        uint64_t *block = calloc(1, 2 * m * sizeof(uint64_t) + (4 * n + 2 * m) * sizeof(uint32_t) + n);
        uint32_t *u32;

        if (!block)
                return -ENOMEM;
        u32 = (uint32_t *)(block + 2 * m);
        *w = (Scratch){
                .block = block,
                .dp = block,
                .dp_next = block + m,
                .dom_free = u32,
                .dom_elig = u32 + n,
                .dom_lo = u32 + 2 * n,
                .dom_hi = u32 + 3 * n,
                .cand = u32 + 4 * n,
                .pick = u32 + 4 * n + m,
                .elig = (bool *)(u32 + 4 * n + 2 * m),
        };
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

                w->elig[g] = free_gpu && sched_gpu_eligible(&n->gpus[g], j);
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

/* The tree order, and so the key, a job is scored by under @policy. */
static SchedOrder job_order(const Job *j, SchedPolicy policy)
{
        if (policy == SCHED_POLICY_BINPACK)
                return j->n_gpus > 0 ? SCHED_ORDER_BINPACK_GPU : SCHED_ORDER_BINPACK_CPU;
        return j->n_gpus > 0 ? SCHED_ORDER_SPREAD_GPU : SCHED_ORDER_SPREAD_CPU;
}

/* The job's share of a node with these capacities, over the dimensions order @o counts. */
static uint64_t job_share(uint64_t cpu_millis, uint64_t memory_bytes, uint32_t n_gpus, const Job *j,
                          SchedOrder o)
{
        uint64_t sum =
                sched_share_ppm(j->cpu_millis, cpu_millis) + sched_share_ppm(j->memory_bytes, memory_bytes);

        return o == SCHED_ORDER_SPREAD_CPU ? sum : sum + sched_share_ppm(j->n_gpus, n_gpus);
}

/*
 * The score, lower is better under both policies, from the node's key in order @o and the job's
 * share of a node of its class. binpack: free share minus the job's share, summed over cpu,
 * memory and GPUs (0 ... 3,000,000): the fullest fitting node wins and a CPU-only job avoids
 * idle GPU nodes. spread: 3,000,000 minus that (GPUs counted only for GPU jobs, so CPU jobs are
 * not drawn to GPU nodes): the emptiest wins. Shares are rounded down one by one, so within a
 * class the score is the key plus or minus a constant, which is what lets the index find the
 * best node in key order. Never negative: a node that fits has each free share at least the
 * job's.
 */
static uint64_t score_from_key(uint64_t key, uint64_t share, SchedOrder o)
{
        return o == SCHED_ORDER_BINPACK_CPU || o == SCHED_ORDER_BINPACK_GPU ? key - share : key + share;
}

static uint64_t node_score(const NodeState *ns, const Job *j, SchedOrder o)
{
        return score_from_key(sched_node_key(ns, o),
                              job_share(ns->cpu_millis, ns->memory_bytes, ns->n_gpus, j, o), o);
}

static bool node_can_take(const Node *n, const NodeState *ns, const Job *j)
{
        return ns->up && ns->free_cpu_millis >= j->cpu_millis && ns->free_memory_bytes >= j->memory_bytes &&
               ns->n_free_gpus >= j->n_gpus && sched_selector_matches(n, j);
}

/* One placement search: the best candidate so far by (fragmented GPUs after placement, score,
 * node index). A CPU job fragments nothing, so for it that is (score, node index). */
typedef struct Search {
        const Cluster *cluster;
        const ClusterState *state;
        const Job *job;
        Scratch w;
        uint32_t *best_pick; /* GPU jobs, from the first node offered on */
        uint64_t best_score;
        uint64_t best_frag;
        size_t best;
        int error;
} Search;

static void search_done(Search *q)
{
        scratch_done(&q->w);
        free(q->best_pick);
        q->best_pick = NULL;
}

static void search_init(Search *q, const Cluster *c, const ClusterState *s, const Job *j)
{
        *q = (Search){
                .cluster = c,
                .state = s,
                .job = j,
                .best_score = UINT64_MAX,
                .best_frag = UINT64_MAX,
                .best = SIZE_MAX,
        };
}

/* Working memory for the GPU rule, taken only once some node is worth a look: many calls end in
 * -ENOSPC without one, and CPU jobs never need it. */
static int search_alloc(Search *q)
{
        q->best_pick = calloc((size_t)q->job->n_gpus + 1, sizeof(uint32_t));
        if (!q->best_pick || scratch_init(&q->w, q->state->max_node_gpus, q->job->n_gpus) < 0) {
                search_done(q);
                q->error = -ENOMEM;
                return q->error;
        }
        return 0;
}

/* Whether a node scoring @score, @i, can no longer win whatever its GPUs: the best so far leaves
 * no fragmentation and scores better, or as well with a lower index. */
static bool search_beaten(const Search *q, size_t i, uint64_t score)
{
        return q->best_frag == 0 && (score > q->best_score || (score == q->best_score && q->best < i));
}

/* Node @i, which has the free cpu, memory and GPU count and the labels the job needs, scores
 * @score: keep it if it can supply the GPUs and beats the best so far. */
static void search_offer(Search *q, size_t i, uint64_t score)
{
        const Job *j = q->job;
        uint64_t frag = 0;

        if (search_beaten(q, i, score) || q->error < 0)
                return;
        if (j->n_gpus > 0) {
                if (!q->best_pick && search_alloc(q) < 0)
                        return;
                /* pick_in_one_domain() keeps a set only when it is below the one it holds: start
                 * above every real set */
                memset(q->w.pick, 0xff, ((size_t)j->n_gpus + 1) * sizeof(uint32_t));
                frag = node_pick_gpus(&q->cluster->nodes[i], &q->state->nodes[i], j, &q->w, q->w.pick);
                if (frag == COST_NONE)
                        return;
        }
        if (frag > q->best_frag ||
            (frag == q->best_frag && (score > q->best_score || (score == q->best_score && i > q->best))))
                return;
        q->best = i;
        q->best_score = score;
        q->best_frag = frag;
        if (j->n_gpus > 0)
                memcpy(q->best_pick, q->w.pick, (size_t)j->n_gpus * sizeof(uint32_t));
}

/* Hand the best over to *@ret, or -ENOSPC or -ENOMEM; frees what @q holds either way. */
static int search_finish(Search *q, Placement *ret)
{
        if (q->error < 0 || q->best == SIZE_MAX) {
                search_done(q);
                return q->error < 0 ? q->error : -ENOSPC;
        }
        *ret = (Placement){
                .node = q->best,
                .gpus = q->job->n_gpus > 0 ? TAKE_PTR(q->best_pick) : NULL,
                .n_gpus = q->job->n_gpus,
        };
        search_done(q);
        return 0;
}

int sched_place_scan(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy,
                     Placement *ret)
{
        SchedOrder o = job_order(j, policy);
        Search q;

        assert(c && s && j && ret);
        assert(c->n_nodes == s->n_nodes);
        assert(policy == SCHED_POLICY_BINPACK || policy == SCHED_POLICY_SPREAD);
        if (j->n_gpus > s->max_node_gpus)
                return -ENOSPC;
        search_init(&q, c, s, j);
        for (size_t i = 0; i < c->n_nodes; i++)
                if (node_can_take(&c->nodes[i], &s->nodes[i], j))
                        search_offer(&q, i, node_score(&s->nodes[i], j, o));
        return search_finish(&q, ret);
}

/* Whether a node of the class of @n could take @j when empty: the checks every member of a class
 * answers alike (labels, GPU models and memories), done once per class. */
static bool class_may_take(const Node *n, const Job *j)
{
        return sched_job_fits_node(n, j);
}

/*
 * Walk class @k of the index for @j, offering every node that can still win. Fitting nodes come
 * out of a tree in key order, which is score order within a class, ties by node index; in the
 * trees of a grouped class for GPU jobs, signature by signature, each in key order.
 * - A CPU job: the first fitting node is the class's best.
 * - A GPU job in a grouped class: nodes with one signature leave the same fragmentation, so the
 *   first fitting node of each signature is that group's best; the walk offers one node per
 *   signature present among the fitting nodes.
 * - A GPU job in a class without groups: node by node in key order, until the best so far
 *   leaves no fragmentation and the walk has reached its score (nothing later scores better).
 */
static void place_in_class(SchedIndex *x, size_t k, SchedOrder o, const SchedNeed *need, Search *q)
{
        const SchedClass *class = &x->classes[k];
        const Job *j = q->job;
        bool grouped = j->n_gpus > 0 && sched_index_grouped(x, k);
        uint64_t share;
        size_t i;

        /* a tree that is built is the cheapest test: when nothing in the class fits, its root
         * says so at once; one that is not is built only for a class that may take the job */
        if (!class->active[o]) {
                if (!class_may_take(&q->cluster->nodes[class->first_node], j))
                        return;
                sched_index_activate(x, k, o, q->state->nodes);
        }
        i = sched_index_first(x, k, o, need);
        if (i == SCHED_INDEX_NONE || !class_may_take(&q->cluster->nodes[class->first_node], j))
                return;
        share = job_share(class->cpu_millis, class->memory_bytes, class->n_gpus, j, o);
        for (; i != SCHED_INDEX_NONE; i = sched_index_next(x, k, o, need, i, grouped)) {
                uint64_t score = score_from_key(sched_index_key(x, o, i), share, o);

                assert(sched_index_node_current(x, i, &q->state->nodes[i]));
                if (!grouped && search_beaten(q, i, score))
                        return;
                search_offer(q, i, score);
                if (j->n_gpus == 0 || q->error < 0)
                        return;
                /* the same test for the next node, which scores no better and, on a tie, has a
                 * higher index: saves a descent */
                if (!grouped && q->best_frag == 0 &&
                    (q->best_score < score || (q->best_score == score && q->best <= i)))
                        return;
        }
}

int sched_place(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy, Placement *ret)
{
        SchedNeed need;
        Search q;

        assert(c && s && j && ret);
        assert(c->n_nodes == s->n_nodes);
        assert(policy >= 0 && policy < _SCHED_POLICY_MAX);
        if (policy >= SCHED_POLICY_FIRSTFIT)
                return sched_place_baseline(c, s, j, policy, ret);
        if (j->n_gpus > s->max_node_gpus)
                return -ENOSPC;
        assert(s->index);
        need = (SchedNeed){
                .cpu_millis = j->cpu_millis, .memory_bytes = j->memory_bytes, .n_gpus = j->n_gpus};
        search_init(&q, c, s, j);
        for (size_t k = 0; k < s->index->n_classes; k++)
                place_in_class(s->index, k, job_order(j, policy), &need, &q);
        return search_finish(&q, ret);
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
        sched_index_update(s->index, p->node, ns);
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
        sched_index_update(s->index, p->node, ns);
}

void sched_node_set_up(ClusterState *s, size_t i, bool up)
{
        assert(s && i < s->n_nodes);
        if (s->nodes[i].up == up)
                return;
        s->nodes[i].up = up;
        sched_index_update(s->index, i, &s->nodes[i]);
}
