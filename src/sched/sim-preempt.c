/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Preemption (a blocked job evicts preemptible lower-priority jobs) and the reservation that
 * keeps a long-blocked job from starving behind backfilled ones. Both try changes on the real
 * ClusterState and undo them exactly (sched_release() and sched_commit() are inverses), so no
 * copy of the state is made.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "sim-internal.h"

#define PPM UINT64_C(1000000)

static uint64_t share_ppm(uint64_t part, uint64_t whole)
{
        return whole ? (uint64_t)((unsigned __int128)part * PPM / whole) : 0;
}

/* How much of node @ns victim @v holds, in millionths summed over cpu, memory and GPUs. */
static uint64_t victim_size(const Sim *sim, size_t v)
{
        const Job *j = sim_job(sim, v);
        const NodeState *ns = &sim->s->nodes[sim->run[v].placement.node];

        return share_ppm(j->cpu_millis, ns->cpu_millis) + share_ppm(j->memory_bytes, ns->memory_bytes) +
               share_ppm(j->n_gpus, ns->n_gpus);
}

/* Victims are tried lowest priority first, then largest first (fewer victims), then the most
 * recently submitted (highest index) first. */
static int victim_cmp(const void *a, const void *b, void *userdata)
{
        const Sim *sim = userdata;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        const Job *jx = sim_job(sim, x), *jy = sim_job(sim, y);
        uint64_t sx, sy;

        if (jx->priority != jy->priority)
                return jx->priority < jy->priority ? -1 : 1;
        sx = victim_size(sim, x);
        sy = victim_size(sim, y);
        if (sx != sy)
                return sx > sy ? -1 : 1;
        return x > y ? -1 : x < y;
}

/* Room: what a node would have for @j: free cpu, memory, and free GPUs @j may use. */
static bool room_fits(const Room *r, const Job *j)
{
        return r->cpu >= j->cpu_millis && r->mem >= j->memory_bytes && r->gpus >= j->n_gpus;
}

/* @sign 1: what victim @v gives back for @j; -1: take it again. */
static void room_add(const Sim *sim, Room *r, size_t v, const Job *j, int sign)
{
        const Job *jv = sim_job(sim, v);
        const Placement *p = &sim->run[v].placement;
        const Node *node = &sim->c->nodes[p->node];
        uint64_t gpus = 0;

        for (uint32_t g = 0; g < p->n_gpus; g++)
                gpus += sched_gpu_eligible(&node->gpus[p->gpus[g]], j);
        if (sign > 0) {
                r->cpu += jv->cpu_millis;
                r->mem += jv->memory_bytes;
                r->gpus += gpus;
        } else {
                r->cpu -= jv->cpu_millis;
                r->mem -= jv->memory_bytes;
                r->gpus -= gpus;
        }
}

/*
 * The fewest victims on node @i that let @j fit: evict candidates in victim order until it fits,
 * then spare every victim that is not needed (latest first). The set is minimal (no victim can be
 * spared), not necessarily minimum. Counts only, the state is not touched: enough free cpu,
 * memory and usable GPUs is enough, since the GPU rule finds a set whenever enough are free.
 * Returns the number of victims (in sim->scratch[0...n)), or SIZE_MAX when none lets @j fit.
 */
static size_t node_victims(Sim *sim, size_t i, const Job *j)
{
        const Node *node = &sim->c->nodes[i];
        const NodeState *ns = &sim->s->nodes[i];
        size_t *cand = sim->scratch, n = 0, m = 0, kept = 0;
        Room room = {ns->free_cpu_millis, ns->free_memory_bytes, 0};

        for (uint32_t g = 0; g < ns->n_gpus; g++)
                room.gpus += ns->gpu_owner[g] == SCHED_OWNER_NONE && sched_gpu_eligible(&node->gpus[g], j);
        for (size_t v = sim->node_head[i]; v != SIZE_MAX; v = sim->run[v].node_next) {
                const Job *jv = sim_job(sim, v);
                if (jv->preemptible && sim->run[v].gang == SIZE_MAX && jv->priority < j->priority)
                        cand[n++] = v;
        }
        if (n == 0)
                return SIZE_MAX;
        qsort_r(cand, n, sizeof(size_t), victim_cmp, sim);
        while (m < n && !room_fits(&room, j))
                room_add(sim, &room, cand[m++], j, 1);
        if (!room_fits(&room, j))
                return SIZE_MAX;
        for (size_t k = m; k-- > 0;) {
                room_add(sim, &room, cand[k], j, -1);
                if (room_fits(&room, j))
                        cand[k] = SIZE_MAX; /* spared */
                else
                        room_add(sim, &room, cand[k], j, 1);
        }
        for (size_t k = 0; k < m; k++)
                if (cand[k] != SIZE_MAX)
                        cand[kept++] = cand[k];
        return kept;
}

int sim_preemptible_started(Sim *sim, size_t j)
{
        const Job *job = sim_job(sim, j);
        int64_t prio = job->priority;
        size_t node = sim->run[j].placement.node, k = 0;

        sim->preempt_sum[node * 3] += job->cpu_millis;
        sim->preempt_sum[node * 3 + 1] += job->memory_bytes;
        sim->preempt_sum[node * 3 + 2] += job->n_gpus;
        if (sim->node_preemptible[node]++ == 0)
                sim->preempt_bits[node / 64] |= UINT64_C(1) << (node % 64);
        while (k < sim->n_preempt_levels && sim->preempt_levels[k].priority < prio)
                k++;
        if (k < sim->n_preempt_levels && sim->preempt_levels[k].priority == prio) {
                sim->preempt_levels[k].count++;
                return 0;
        }
        /* a new priority level: few exist, so a sorted array is enough */
        PriorityCount *p = realloc(sim->preempt_levels, (sim->n_preempt_levels + 1) * sizeof(PriorityCount));
        if (!p)
                return -ENOMEM;
        sim->preempt_levels = p;
        memmove(p + k + 1, p + k, (sim->n_preempt_levels - k) * sizeof(PriorityCount));
        p[k] = (PriorityCount){prio, 1};
        sim->n_preempt_levels++;
        return 0;
}

void sim_preemptible_stopped(Sim *sim, size_t j)
{
        const Job *job = sim_job(sim, j);
        int64_t prio = job->priority;
        size_t node = sim->run[j].placement.node, k = 0;

        assert(sim->node_preemptible[node] > 0);
        sim->preempt_sum[node * 3] -= job->cpu_millis;
        sim->preempt_sum[node * 3 + 1] -= job->memory_bytes;
        sim->preempt_sum[node * 3 + 2] -= job->n_gpus;
        if (--sim->node_preemptible[node] == 0)
                sim->preempt_bits[node / 64] &= ~(UINT64_C(1) << (node % 64));
        while (sim->preempt_levels[k].priority != prio)
                k++;
        if (--sim->preempt_levels[k].count == 0) {
                memmove(sim->preempt_levels + k, sim->preempt_levels + k + 1,
                        (sim->n_preempt_levels - k - 1) * sizeof(PriorityCount));
                sim->n_preempt_levels--;
        }
}

/* Whether node @i could hold @j even if every preemptible job on it went: a cheap bound first. */
static bool preemption_could_help(const Sim *sim, size_t i, const Job *j)
{
        const NodeState *ns = &sim->s->nodes[i];
        const uint64_t *sum = &sim->preempt_sum[i * 3];

        return ns->up && ns->free_cpu_millis + sum[0] >= j->cpu_millis &&
               ns->free_memory_bytes + sum[1] >= j->memory_bytes && ns->n_free_gpus + sum[2] >= j->n_gpus &&
               sim_fits_shape(sim, i);
}

int sim_try_preempt(Sim *sim, size_t u, bool *ret_placed)
{
        const Job *j = sim_job(sim, u);
        size_t best_node = SIZE_MAX, best_n = SIZE_MAX;
        Placement p = {};
        int r = 0;

        *ret_placed = false;
        sim_fit_shapes(sim, j);
        /* nodes with preemptible jobs, in index order: a strict comparison leaves ties to the
         * lowest, and one victim (the fewest possible, since @j fits nowhere now) ends the search */
        for (size_t w = 0; w < (sim->c->n_nodes + 63) / 64 && best_n > 1; w++)
                for (uint64_t bits = sim->preempt_bits[w]; bits && best_n > 1; bits &= bits - 1) {
                        size_t i = w * 64 + (size_t)__builtin_ctzll(bits), n;

                        if (!preemption_could_help(sim, i, j))
                                continue;
                        n = node_victims(sim, i, j);
                        if (n < best_n) {
                                best_n = n;
                                best_node = i;
                                memcpy(sim->victims, sim->scratch, n * sizeof(size_t));
                        }
                }
        if (best_node == SIZE_MAX)
                return 0;
        for (size_t k = 0; k < best_n; k++) {
                size_t v = sim->victims[k];
                Placement vp;

                sim_job_stop(sim, v, &vp);
                sim->run[v].queued_since = sim->now;
                r = sim_emit(sim, SIM_RECORD_PREEMPT, v, &vp, j, NULL);
                sched_placement_done(&vp);
                if (r < 0)
                        return r;
                r = sim_queue_add(sim, v);
                if (r < 0)
                        return r;
        }
        r = sched_place(sim->c, sim->s, j, sim->o->policy, &p);
        if (r < 0)
                return r;
        assert(p.node == best_node);
        *ret_placed = true;
        return sim_job_start(sim, u, &p);
}

static int ending_cmp(const void *a, const void *b)
{
        const Ending *x = a, *y = b;

        if (x->end != y->end)
                return x->end < y->end ? -1 : 1;
        return x->job < y->job ? -1 : x->job > y->job;
}

/*
 * When node @i, as its running jobs end, can first hold @j, if that is before @limit; UINT64_MAX
 * otherwise. Only jobs ending before @limit can matter, and when all of them together are not
 * enough nothing needs sorting: most nodes are passed over that way once a good one is known.
 */
static uint64_t node_fit_time(Sim *sim, size_t i, const Job *j, uint64_t limit)
{
        const Node *node = &sim->c->nodes[i];
        const NodeState *ns = &sim->s->nodes[i];
        Room room = {ns->free_cpu_millis, ns->free_memory_bytes, 0}, all;
        Ending *e = sim->endings;
        size_t n = 0;

        for (uint32_t g = 0; g < ns->n_gpus; g++)
                room.gpus += ns->gpu_owner[g] == SCHED_OWNER_NONE && sched_gpu_eligible(&node->gpus[g], j);
        if (room_fits(&room, j))
                return sim->now;
        all = room;
        for (size_t v = sim->node_head[i]; v != SIZE_MAX; v = sim->run[v].node_next) {
                if (sim->run[v].end >= limit)
                        continue;
                e[n++] = (Ending){sim->run[v].end, v};
                room_add(sim, &all, v, j, 1);
        }
        if (!room_fits(&all, j))
                return UINT64_MAX;
        qsort(e, n, sizeof(Ending), ending_cmp);
        for (size_t k = 0; k < n; k++) {
                room_add(sim, &room, e[k].job, j, 1);
                if (room_fits(&room, j))
                        return e[k].end;
        }
        return UINT64_MAX; /* not reached: all of them fit */
}

void sim_reserve(Sim *sim, size_t u)
{
        const Job *j = sim_job(sim, u);
        uint64_t best_t = UINT64_MAX;
        size_t best = SIZE_MAX;

        assert(!sim->res_masked);
        sim_fit_shapes(sim, j);
        for (size_t i = 0; i < sim->c->n_nodes; i++) {
                uint64_t t;

                if (!sim->s->nodes[i].up || !sim_fits_shape(sim, i))
                        continue;
                t = node_fit_time(sim, i, j, best_t);
                if (t < best_t) {
                        best_t = t;
                        best = i;
                }
        }
        sim->res_active = best != SIZE_MAX;
        if (!sim->res_active)
                return;
        sim->res_job = u;
        sim->res_node = best;
        sim->res_start = best_t;
}
