/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "sim-internal.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t input_time(const SchedInput *in)
{
        return in->kind == SCHED_INPUT_JOB ? in->job.submit_sec : in->node_event.at_sec;
}

int sim_emit(Sim *sim, SimRecordType type, size_t job, const Placement *p, const Job *by, const char *reason)
{
        SimRecord r = {
                .type = type,
                .time = sim->now,
                .input = job,
                .job = sim->in[job].kind == SCHED_INPUT_JOB ? &sim->in[job].job : NULL,
                .line = sim->in[job].kind == SCHED_INPUT_JOB ? sim->in[job].job.line
                                                             : sim->in[job].node_event.line,
                .placement = p,
                .by = by,
                .reason = reason,
                .state = sim->s,
        };

        if (sched_sim_record_is_decision(type)) {
                r.seq = ++sim->seq;
                sim->sum.decisions++;
        }
        switch (type) {
        case SIM_RECORD_PREEMPT:
                sim->sum.preemptions++;
                break;
        case SIM_RECORD_REQUEUE:
                sim->sum.requeues++;
                break;
        case SIM_RECORD_PENDING:
                sim->sum.pending++;
                break;
        default:
                break;
        }
        return sim->sink ? sim->sink(&r, sim->userdata) : 0;
}

/* ---- nodes with more free capacity than at the last pass */

void sim_mark_dirty(Sim *sim, size_t node)
{
        if (sim->is_dirty[node])
                return;
        sim->is_dirty[node] = true;
        sim->dirty[sim->n_dirty++] = node;
}

/* ---- running jobs: the finish heap and each node's list */

static bool finish_before(const FinishEvent *a, const FinishEvent *b)
{
        return a->end != b->end ? a->end < b->end : a->job < b->job;
}

static int heap_push(Sim *sim, FinishEvent e)
{
        size_t i;

        if (sim->n_heap == sim->cap_heap) {
                size_t n = sim->cap_heap ? sim->cap_heap * 2 : 64;
                FinishEvent *h = realloc(sim->heap, n * sizeof(FinishEvent));
                if (!h)
                        return -ENOMEM;
                sim->heap = h;
                sim->cap_heap = n;
        }
        i = sim->n_heap++;
        while (i > 0 && finish_before(&e, &sim->heap[(i - 1) / 2])) {
                sim->heap[i] = sim->heap[(i - 1) / 2];
                i = (i - 1) / 2;
        }
        sim->heap[i] = e;
        return 0;
}

static FinishEvent heap_pop(Sim *sim)
{
        FinishEvent top = sim->heap[0], last = sim->heap[--sim->n_heap];
        size_t i = 0;

        for (;;) {
                size_t l = 2 * i + 1, m = i;
                const FinishEvent *best = &last;

                if (l < sim->n_heap && finish_before(&sim->heap[l], best))
                        m = l, best = &sim->heap[l];
                if (l + 1 < sim->n_heap && finish_before(&sim->heap[l + 1], best))
                        m = l + 1;
                if (m == i)
                        break;
                sim->heap[i] = sim->heap[m];
                i = m;
        }
        if (sim->n_heap > 0)
                sim->heap[i] = last;
        return top;
}

static bool counts_as_preemptible(const Sim *sim, size_t j)
{
        return sim_job(sim, j)->preemptible && sim->run[j].gang == SIZE_MAX;
}

void sim_set_mask(Sim *sim, bool on)
{
        if (on == sim->res_masked)
                return;
        assert(sim->res_active);
        sched_node_set_up(sim->s, sim->res_node, !on);
        sim->res_masked = on;
}

/* Jobs behind the reservation that failed only because its node was held back may fit there now. */
static void reservation_drop(Sim *sim)
{
        sim_set_mask(sim, false);
        sim->res_active = false;
        sim_mark_dirty(sim, sim->res_node);
}

int sim_job_start(Sim *sim, size_t j, Placement *p)
{
        JobRun *jr = &sim->run[j];
        const Job *job = sim_job(sim, j);
        size_t node = p->node;
        int r;

        sched_commit(sim->s, job, p, j);
        jr->placement = *p;
        *p = (Placement){};
        jr->phase = JOB_RUNNING;
        jr->start = sim->now;
        jr->end = sat_add(sim->now, job->duration_sec);
        jr->node_prev = SIZE_MAX;
        jr->node_next = sim->node_head[node];
        if (jr->node_next != SIZE_MAX)
                sim->run[jr->node_next].node_prev = j;
        sim->node_head[node] = j;
        if (counts_as_preemptible(sim, j)) {
                r = sim_preemptible_started(sim, j);
                if (r < 0)
                        return r;
        }
        sim_stats_used(sim, job, &jr->placement, true);
        sim_stats_node_changed(sim, node);
        if (jr->first_start == UINT64_MAX) {
                jr->first_start = sim->now;
                r = sim_stats_placed(sim, sim->now - job->submit_sec);
                if (r < 0)
                        return r;
        }
        if (sim->res_active && sim->res_job == j)
                reservation_drop(sim);
        r = heap_push(sim, (FinishEvent){.end = jr->end, .job = j, .gen = jr->gen});
        if (r < 0)
                return r;
        return sim_emit(sim, SIM_RECORD_PLACE, j, &jr->placement, NULL, NULL);
}

void sim_job_stop(Sim *sim, size_t j, Placement *ret)
{
        JobRun *jr = &sim->run[j];
        size_t node = jr->placement.node;

        assert(jr->phase == JOB_RUNNING);
        sched_release(sim->s, sim_job(sim, j), &jr->placement);
        if (jr->node_prev != SIZE_MAX)
                sim->run[jr->node_prev].node_next = jr->node_next;
        else
                sim->node_head[node] = jr->node_next;
        if (jr->node_next != SIZE_MAX)
                sim->run[jr->node_next].node_prev = jr->node_prev;
        if (counts_as_preemptible(sim, j))
                sim_preemptible_stopped(sim, j);
        sim_stats_used(sim, sim_job(sim, j), &jr->placement, false);
        sim_stats_node_changed(sim, node);
        sim_mark_dirty(sim, node);
        jr->gen++;
        jr->phase = JOB_QUEUED;
        *ret = jr->placement;
        jr->placement = (Placement){};
}

/* ---- static fit: nodes grouped by shape, so "could this job ever fit" is not a scan of every node */

static int shape_cmp(const void *a, const void *b, void *userdata)
{
        const Cluster *c = userdata;
        const Node *x = &c->nodes[*(const size_t *)a], *y = &c->nodes[*(const size_t *)b];

        if (x->cpu_millis != y->cpu_millis)
                return x->cpu_millis < y->cpu_millis ? -1 : 1;
        if (x->memory_bytes != y->memory_bytes)
                return x->memory_bytes < y->memory_bytes ? -1 : 1;
        if (x->n_gpus != y->n_gpus)
                return x->n_gpus < y->n_gpus ? -1 : 1;
        if (x->n_labels != y->n_labels)
                return x->n_labels < y->n_labels ? -1 : 1;
        for (size_t i = 0; i < x->n_labels; i++) {
                int k = strcmp(x->labels[i].key, y->labels[i].key);
                if (k == 0)
                        k = strcmp(x->labels[i].value, y->labels[i].value);
                if (k != 0)
                        return k;
        }
        /* GPUs are in uuid order; comparing them in that order only splits a shape that could
         * have been merged, which is safe */
        for (size_t i = 0; i < x->n_gpus; i++) {
                int k = strcmp(x->gpus[i].model, y->gpus[i].model);
                if (k != 0)
                        return k;
                if (x->gpus[i].memory_bytes != y->gpus[i].memory_bytes)
                        return x->gpus[i].memory_bytes < y->gpus[i].memory_bytes ? -1 : 1;
        }
        return 0;
}

static int shapes_init(Sim *sim)
{
        const Cluster *c = sim->c;
        _cleanup_free_ size_t *idx = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(size_t));

        sim->shape_rep = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(size_t));
        sim->node_shape = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(size_t));
        sim->shape_fit = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(bool));
        if (!idx || !sim->shape_rep || !sim->node_shape || !sim->shape_fit)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_nodes; i++)
                idx[i] = i;
        qsort_r(idx, c->n_nodes, sizeof(size_t), shape_cmp, (void *)c);
        for (size_t i = 0; i < c->n_nodes; i++) {
                if (i == 0 || shape_cmp(&idx[i - 1], &idx[i], (void *)c) != 0)
                        sim->shape_rep[sim->n_shapes++] = idx[i];
                sim->node_shape[idx[i]] = sim->n_shapes - 1;
        }
        return 0;
}

static bool job_fits_some_shape(const Sim *sim, const Job *j)
{
        for (size_t i = 0; i < sim->n_shapes; i++)
                if (sched_job_fits_node(&sim->c->nodes[sim->shape_rep[i]], j))
                        return true;
        return false;
}

bool sim_job_fits_static(const Sim *sim, size_t node, const Job *j)
{
        return sched_job_fits_node(&sim->c->nodes[node], j);
}

void sim_fit_shapes(Sim *sim, const Job *j)
{
        for (size_t k = 0; k < sim->n_shapes; k++)
                sim->shape_fit[k] = sched_job_fits_node(&sim->c->nodes[sim->shape_rep[k]], j);
}

/* ---- trying a unit: dominance, placement, preemption */

static bool same_constraints(const Job *a, const Job *b)
{
        if ((a->gpu_model == NULL) != (b->gpu_model == NULL))
                return false;
        if (a->gpu_model && !streq(a->gpu_model, b->gpu_model))
                return false;
        if (a->n_selector != b->n_selector)
                return false;
        for (size_t i = 0; i < a->n_selector; i++)
                if (!streq(a->selector[i].key, b->selector[i].key) ||
                    !streq(a->selector[i].value, b->selector[i].value))
                        return false;
        return true;
}

/* Whether @j must fail since a request no larger in any dimension, with the same constraints and
 * no fewer nodes to choose from, failed in this pass (placement and preemption alike). */
static bool dominated(const Sim *sim, const Job *j, bool masked)
{
        for (size_t i = 0; i < sim->n_failed; i++) {
                const FailedRequest *f = &sim->failed[i];

                if (j->cpu_millis >= f->job->cpu_millis && j->memory_bytes >= f->job->memory_bytes &&
                    j->n_gpus >= f->job->n_gpus && j->gpu_memory_bytes >= f->job->gpu_memory_bytes &&
                    (masked || !f->masked) &&
                    (j->priority <= f->job->priority || !sim_can_preempt_some(sim, j)) &&
                    same_constraints(j, f->job))
                        return true;
        }
        return false;
}

static void remember_failed(Sim *sim, const Job *j, bool masked)
{
        sim->failed[sim->next_failed] = (FailedRequest){.job = j, .masked = masked};
        sim->next_failed = (sim->next_failed + 1) % SIM_FAILED_CACHE;
        if (sim->n_failed < SIM_FAILED_CACHE)
                sim->n_failed++;
}

static int try_job(Sim *sim, size_t u, bool masked, bool *ret_placed)
{
        const Job *j = sim_job(sim, u);
        Placement p = {};
        int r;

        *ret_placed = false;
        if (dominated(sim, j, masked))
                return 0;
        r = sched_place(sim->c, sim->s, j, sim->o->policy, &p);
        if (r == 0) {
                *ret_placed = true;
                return sim_job_start(sim, u, &p);
        }
        if (r != -ENOSPC)
                return r;
        if (sim_can_preempt_some(sim, j)) {
                r = sim_try_preempt(sim, u, ret_placed);
                if (r < 0 || *ret_placed) {
                        /* preemption changed the state: what failed before may fit now */
                        sim->n_failed = 0;
                        return r;
                }
        }
        remember_failed(sim, j, masked);
        return 0;
}

/* A gang: every member still queued placed in index order, or none (what was taken is given
 * back exactly). Gangs neither preempt nor are preempted. */
static int try_gang(Sim *sim, const GangRun *g, bool *ret_placed)
{
        _cleanup_free_ Placement *p = calloc(g->n_members, sizeof(Placement));
        uint32_t n = 0;
        int r = 0;

        *ret_placed = false;
        if (!p)
                return -ENOMEM;
        for (; n < g->n_members; n++) {
                size_t m = g->members[n];

                if (sim->run[m].phase != JOB_QUEUED)
                        continue;
                r = sched_place(sim->c, sim->s, sim_job(sim, m), sim->o->policy, &p[n]);
                if (r < 0)
                        break;
                sched_commit(sim->s, sim_job(sim, m), &p[n], m);
        }
        /* give back what was taken, then start the members for real if all fitted */
        for (uint32_t i = n; i-- > 0;)
                if (sim->run[g->members[i]].phase == JOB_QUEUED)
                        sched_release(sim->s, sim_job(sim, g->members[i]), &p[i]);
        if (r == 0) {
                *ret_placed = true;
                for (uint32_t i = 0; i < g->n_members && r >= 0; i++)
                        if (sim->run[g->members[i]].phase == JOB_QUEUED)
                                r = sim_job_start(sim, g->members[i], &p[i]);
        }
        for (uint32_t i = 0; i < g->n_members; i++)
                sched_placement_done(&p[i]);
        return r == -ENOSPC ? 0 : r;
}

/* Behind the reservation (later in queue order than the job holding it), a unit may not use the
 * reserved node. */
static bool unit_masked(const Sim *sim, size_t u)
{
        return sim->res_active && u != sim->res_job && sim_unit_cmp(sim, sim->res_job, u) < 0;
}

static int try_unit(Sim *sim, size_t u, bool *ret_placed)
{
        const JobRun *jr = &sim->run[u];
        bool masked = unit_masked(sim, u);
        uint64_t t0 = 0;
        int r;

        sim_set_mask(sim, masked);
        if (sim->o->clock_ns)
                t0 = sim->o->clock_ns(sim->o->clock_userdata);
        if (jr->gang != SIZE_MAX)
                r = try_gang(sim, &sim->gangs[jr->gang], ret_placed);
        else
                r = try_job(sim, u, masked, ret_placed);
        if (sim->o->clock_ns)
                sim_stats_attempt(sim, sim->o->clock_ns(sim->o->clock_userdata) - t0);
        return r;
}

/* Give @u, the first blocked job in queue order that is not in a gang, a reservation when it has
 * waited long enough and holds none (or its reserved start has passed without it starting). */
static void consider_reservation(Sim *sim, size_t u)
{
        size_t old_node = sim->res_active ? sim->res_node : SIZE_MAX;

        if (sim->res_active && !(sim->res_job == u && sim->now >= sim->res_start))
                return;
        if (sim->now - sim->run[u].queued_since < sim->o->starve_after_sec)
                return;
        sim_set_mask(sim, false);
        sim_reserve(sim, u);
        if (old_node != SIZE_MAX && (!sim->res_active || sim->res_node != old_node))
                sim_mark_dirty(sim, old_node); /* no longer held back */
}

/* The first queued job not in a gang that has been tried already (so is blocked). */
static void consider_reservation_first(Sim *sim)
{
        for (size_t u = sim_queue_first(sim); u != SIZE_MAX; u = sim_queue_after(sim, u))
                if (sim->run[u].gang == SIZE_MAX) {
                        if (!sim->run[u].fresh)
                                consider_reservation(sim, u);
                        return;
                }
}

/* The most a unit could find on the nodes @d freed since the last round (all of them: the
 * largest free amount of each resource on any one). */
static void round_bound(const Sim *sim, const size_t *d, size_t n, QueueBound *b)
{
        *b = (QueueBound){.can_preempt = sim->n_preempt_levels > 0};
        if (b->can_preempt)
                b->lowest_preemptible = sim->preempt_levels[0].priority;
        for (size_t k = 0; k < n; k++) {
                const NodeState *ns = &sim->s->nodes[d[k]];
                const uint64_t *v = &sim->preempt_sum[d[k] * 3];

                if (!ns->up)
                        continue;
                b->free.cpu = MAX(b->free.cpu, ns->free_cpu_millis);
                b->free.mem = MAX(b->free.mem, ns->free_memory_bytes);
                b->free.gpus = MAX(b->free.gpus, (uint64_t)ns->n_free_gpus);
                b->with_victims.cpu = MAX(b->with_victims.cpu, ns->free_cpu_millis + v[0]);
                b->with_victims.mem = MAX(b->with_victims.mem, ns->free_memory_bytes + v[1]);
                b->with_victims.gpus = MAX(b->with_victims.gpus, ns->n_free_gpus + v[2]);
        }
}

/* Past this many freed nodes a unit is tried without checking each. */
#define ROUND_CHECK_NODES 32

/*
 * Whether unit @u, tried before and blocked, might be placed now: only the nodes freed since
 * then (@d) can have changed in its favour, so one of them must take it, as it is or with
 * preemptible jobs gone when @u may preempt.
 */
static bool unit_may_use(const Sim *sim, size_t u, const size_t *d, size_t n)
{
        const Job *j = sim_job(sim, u);
        bool masked, preempt;

        if (sim->run[u].gang != SIZE_MAX || n > ROUND_CHECK_NODES)
                return n > 0;
        masked = unit_masked(sim, u);
        preempt = sim_can_preempt_some(sim, j);
        for (size_t k = 0; k < n; k++) {
                const NodeState *ns = &sim->s->nodes[d[k]];
                const uint64_t *v = &sim->preempt_sum[d[k] * 3];
                bool room;

                if (!ns->up || (masked && d[k] == sim->res_node))
                        continue;
                room = ns->free_cpu_millis >= j->cpu_millis && ns->free_memory_bytes >= j->memory_bytes &&
                       ns->n_free_gpus >= j->n_gpus;
                if (!room && preempt)
                        room = ns->free_cpu_millis + v[0] >= j->cpu_millis &&
                               ns->free_memory_bytes + v[1] >= j->memory_bytes &&
                               ns->n_free_gpus + v[2] >= j->n_gpus;
                if (room && sim_job_fits_static(sim, d[k], j))
                        return true;
        }
        return false;
}

/*
 * The next unit after @after that may be placed this round: the first in queue order among the
 * fresh ones and, for each freed node, the first that could fit there. One bound per node keeps
 * the queue's summaries sharp (the largest free cpu of one node and the largest free memory of
 * another fit no job together); past ROUND_CHECK_NODES nodes one bound covers them all. A node
 * with no candidate left keeps none for the rest of the round, since its free capacity only
 * shrinks and @after only grows.
 */
static size_t round_next(Sim *sim, size_t after, const size_t *d, size_t n, bool *done)
{
        static const QueueBound fresh_only = {};
        size_t best = sim_queue_next(sim, after, &fresh_only), c;
        QueueBound b;

        if (n > ROUND_CHECK_NODES) {
                round_bound(sim, d, n, &b);
                c = sim_queue_next(sim, after, &b);
                return best == SIZE_MAX || (c != SIZE_MAX && sim_unit_cmp(sim, c, best) < 0) ? c : best;
        }
        for (size_t k = 0; k < n; k++) {
                if (done[k])
                        continue;
                round_bound(sim, &d[k], 1, &b);
                c = sim_queue_next(sim, after, &b);
                if (c == SIZE_MAX)
                        done[k] = true;
                else if (best == SIZE_MAX || sim_unit_cmp(sim, c, best) < 0)
                        best = c;
        }
        return best;
}

/*
 * One scheduling pass at the current time, in rounds. A round visits the queue in order but only
 * the units that are fresh (queued since the last round: arrivals, requeued jobs) or that a node
 * freed since the last round might take: everything else failed against a state that has only
 * filled up since. The queue's summaries skip the rest without looking at it. Evictions during a
 * round free nodes for the next round, until a round frees nothing.
 */
static int pass(Sim *sim)
{
        int r;

        while (sim->n_dirty > 0 || sim->n_fresh > 0) {
                size_t *d = sim->dirty_now, n_d = sim->n_dirty, n_fresh = sim->n_fresh, after = SIZE_MAX, u;
                _cleanup_free_ size_t *fresh = TAKE_PTR(sim->fresh);
                bool done[ROUND_CHECK_NODES] = {};

                /* the round's snapshot; what it frees or queues goes to the next round */
                sim->dirty_now = sim->dirty;
                sim->dirty = d;
                d = sim->dirty_now;
                sim->n_dirty = 0;
                for (size_t k = 0; k < n_d; k++)
                        sim->is_dirty[d[k]] = false;
                sim->n_fresh = sim->cap_fresh = 0;

                consider_reservation_first(sim);
                sim->n_failed = 0;
                while ((u = round_next(sim, after, d, n_d, done)) != SIZE_MAX) {
                        bool placed = false;

                        if (sim->run[u].fresh || unit_may_use(sim, u, d, n_d)) {
                                r = try_unit(sim, u, &placed);
                                if (r < 0) {
                                        sim_set_mask(sim, false);
                                        return r;
                                }
                        }
                        if (placed)
                                sim_queue_remove(sim, u);
                        else
                                after = u;
                }
                sim_set_mask(sim, false);
                for (size_t k = 0; k < n_fresh; k++)
                        sim_queue_unfresh(sim, fresh[k]);
                consider_reservation_first(sim);
        }
        return 0;
}

/* ---- events */

/* Evict @j (and the rest of its gang) and queue it again. */
static int requeue(Sim *sim, size_t j)
{
        const JobRun *jr = &sim->run[j];
        size_t gang = jr->gang;
        int r;

        if (gang == SIZE_MAX) {
                Placement p;

                sim_job_stop(sim, j, &p);
                sim->run[j].queued_since = sim->now;
                r = sim_emit(sim, SIM_RECORD_REQUEUE, j, &p, NULL, NULL);
                sched_placement_done(&p);
                return r < 0 ? r : sim_queue_add(sim, j);
        }
        for (uint32_t i = 0; i < sim->gangs[gang].n_members; i++) {
                size_t m = sim->gangs[gang].members[i];
                Placement p;

                if (sim->run[m].phase != JOB_RUNNING)
                        continue;
                sim_job_stop(sim, m, &p);
                sim->run[m].queued_since = sim->now;
                r = sim_emit(sim, SIM_RECORD_REQUEUE, m, &p, NULL, NULL);
                sched_placement_done(&p);
                if (r < 0)
                        return r;
        }
        return sim_queue_add(sim, sim->gangs[gang].leader);
}

static int size_cmp(const void *a, const void *b)
{
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        return x < y ? -1 : x > y;
}

static int node_event(Sim *sim, const NodeEvent *e)
{
        const Node *node = sched_cluster_find_node(sim->c, e->node);
        size_t i = (size_t)(node - sim->c->nodes), n = 0;
        int r;

        if (e->type == NODE_EVENT_UP) {
                if (!sim->s->nodes[i].up) {
                        sched_node_set_up(sim->s, i, true);
                        sim_mark_dirty(sim, i);
                }
                return 0;
        }
        if (!sim->s->nodes[i].up)
                return 0;
        if (sim->res_active && sim->res_node == i)
                reservation_drop(sim);
        sched_node_set_up(sim->s, i, false);
        for (size_t j = sim->node_head[i]; j != SIZE_MAX; j = sim->run[j].node_next)
                sim->scratch[n++] = j;
        qsort(sim->scratch, n, sizeof(size_t), size_cmp);
        for (size_t k = 0; k < n; k++) {
                if (sim->run[sim->scratch[k]].phase != JOB_RUNNING)
                        continue; /* a gang member already requeued with its gang */
                r = requeue(sim, sim->scratch[k]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int gang_complete(Sim *sim, GangRun *g)
{
        int r;

        for (uint32_t i = 0; i < g->n_members; i++) {
                const Job *m = sim_job(sim, g->members[i]);

                if (job_fits_some_shape(sim, m))
                        continue;
                for (uint32_t k = 0; k < g->n_members; k++) {
                        snprintf(sim->reason, sizeof(sim->reason), "gang member \"%s\" fits no node", m->id);
                        sim->run[g->members[k]].phase = JOB_NEVER;
                        r = sim_emit(sim, SIM_RECORD_PENDING, g->members[k], NULL, NULL, sim->reason);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        for (uint32_t i = 0; i < g->n_members; i++) {
                sim->run[g->members[i]].phase = JOB_QUEUED;
                sim->run[g->members[i]].queued_since = sim->now;
        }
        return sim_queue_add(sim, g->leader);
}

static int arrive(Sim *sim, size_t i)
{
        const SchedInput *in = &sim->in[i];
        JobRun *jr = &sim->run[i];
        int r;

        r = sim_emit(sim, SIM_RECORD_INPUT, i, NULL, NULL, NULL);
        if (r < 0)
                return r;
        if (in->kind == SCHED_INPUT_NODE_EVENT)
                return node_event(sim, &in->node_event);
        if (jr->gang != SIZE_MAX) {
                GangRun *g = &sim->gangs[jr->gang];

                jr->phase = JOB_WAITING;
                if (g->arrived++ == 0)
                        g->leader = i;
                return g->arrived == g->size ? gang_complete(sim, g) : 0;
        }
        if (!job_fits_some_shape(sim, &in->job)) {
                jr->phase = JOB_NEVER;
                return sim_emit(sim, SIM_RECORD_PENDING, i, NULL, NULL, "fits no node");
        }
        jr->phase = JOB_QUEUED;
        jr->queued_since = sim->now;
        return sim_queue_add(sim, i);
}

static int finish_due(Sim *sim)
{
        int r;

        while (sim->n_heap > 0 && sim->heap[0].end == sim->now) {
                FinishEvent e = heap_pop(sim);
                JobRun *jr = &sim->run[e.job];
                Placement p;

                if (jr->phase != JOB_RUNNING || jr->gen != e.gen)
                        continue; /* stopped earlier: a stale event */
                sim_job_stop(sim, e.job, &p);
                jr->phase = JOB_DONE;
                r = sim_emit(sim, SIM_RECORD_FINISH, e.job, &p, NULL, NULL);
                sched_placement_done(&p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Why a queued job was not placed, for its PENDING record at the end. */
static const char *pending_reason(Sim *sim, size_t j, bool stopped_early)
{
        const Job *job = sim_job(sim, j);

        if (stopped_early) {
                snprintf(sim->reason, sizeof(sim->reason), "still queued at the end (until %" PRIu64 ")",
                         sim->o->until_sec);
                return sim->reason;
        }
        for (size_t i = 0; i < sim->c->n_nodes; i++)
                if (sim->s->nodes[i].up && sim_job_fits_static(sim, i, job))
                        return sim->run[j].gang != SIZE_MAX ? "its gang does not fit the cluster together"
                                                            : "not placed";
        return "no node that fits it is up";
}

static int report_pending(Sim *sim, bool stopped_early)
{
        int r;

        for (size_t u = sim_queue_first(sim); u != SIZE_MAX; u = sim_queue_after(sim, u)) {
                const JobRun *jr = &sim->run[u];

                if (jr->gang == SIZE_MAX) {
                        r = sim_emit(sim, SIM_RECORD_PENDING, u, NULL, NULL,
                                     pending_reason(sim, u, stopped_early));
                        if (r < 0)
                                return r;
                        continue;
                }
                for (uint32_t i = 0; i < sim->gangs[jr->gang].n_members; i++) {
                        size_t m = sim->gangs[jr->gang].members[i];

                        if (sim->run[m].phase != JOB_QUEUED)
                                continue;
                        r = sim_emit(sim, SIM_RECORD_PENDING, m, NULL, NULL,
                                     pending_reason(sim, m, stopped_early));
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < sim->n_in; i++) {
                const GangRun *g;

                if (sim->in[i].kind != SCHED_INPUT_JOB || sim->run[i].phase != JOB_WAITING)
                        continue;
                g = &sim->gangs[sim->run[i].gang];
                snprintf(sim->reason, sizeof(sim->reason),
                         "gang incomplete: %" PRIu32 " of %" PRIu32 " members arrived", g->arrived, g->size);
                r = sim_emit(sim, SIM_RECORD_PENDING, i, NULL, NULL, sim->reason);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int order_cmp(const void *a, const void *b, void *userdata)
{
        const SchedInput *in = userdata;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        uint64_t tx = input_time(&in[x]), ty = input_time(&in[y]);

        if (tx != ty)
                return tx < ty ? -1 : 1;
        return x < y ? -1 : x > y;
}

static int run_loop(Sim *sim)
{
        bool stopped_early = false;
        int r;

        for (;;) {
                uint64_t next = UINT64_MAX;
                bool any = false;

                if (sim->next_input < sim->n_in) {
                        next = input_time(&sim->in[sim->order[sim->next_input]]);
                        any = true;
                }
                if (sim->n_heap > 0 && (!any || sim->heap[0].end < next)) {
                        next = sim->heap[0].end;
                        any = true;
                }
                if (!any)
                        break;
                if (next > sim->o->until_sec) {
                        stopped_early = true;
                        break;
                }
                sim_stats_advance(sim, next);
                r = finish_due(sim);
                if (r < 0)
                        return r;
                while (sim->next_input < sim->n_in &&
                       input_time(&sim->in[sim->order[sim->next_input]]) == next) {
                        r = arrive(sim, sim->order[sim->next_input++]);
                        if (r < 0)
                                return r;
                }
                r = pass(sim);
                if (r < 0)
                        return r;
        }
        sim_stats_finish(sim);
        return report_pending(sim, stopped_early);
}

/* ---- setup and checks */

static int gang_find(const SimGang *gangs, size_t n, const char *name)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = strcmp(gangs[mid].name, name);

                if (k == 0)
                        return (int)mid;
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

static int check_inputs(Sim *sim, const SimGang *gangs, size_t n_gangs, BerthError *err)
{
        for (size_t i = 1; i < n_gangs; i++)
                if (strcmp(gangs[i - 1].name, gangs[i].name) >= 0)
                        return error_setx(err, -EINVAL, "gangs: not sorted by name or not unique at \"%s\"",
                                          gangs[i].name);
        for (size_t i = 0; i < n_gangs; i++)
                if (gangs[i].size == 0)
                        return error_setx(err, -EINVAL, "gangs: \"%s\": size 0", gangs[i].name);
        for (size_t i = 0; i < sim->n_in; i++) {
                const SchedInput *in = &sim->in[i];
                GangRun *g;
                int k;

                sim->run[i].gang = SIZE_MAX;
                sim->run[i].first_start = UINT64_MAX;
                if (in->kind == SCHED_INPUT_NODE_EVENT) {
                        if (!sched_cluster_find_node(sim->c, in->node_event.node))
                                return error_setx(err, -EINVAL,
                                                  "line %u: node: no node \"%s\" in the cluster",
                                                  in->node_event.line, in->node_event.node);
                        continue;
                }
                if (!in->job.gang)
                        continue;
                k = gang_find(gangs, n_gangs, in->job.gang);
                if (k < 0)
                        return error_setx(err, -EINVAL, "line %u: gang: \"%s\" is not a declared gang",
                                          in->job.line, in->job.gang);
                g = &sim->gangs[k];
                if (g->n_members == g->size) /* members holds min(size, members in the inputs) */
                        return error_setx(err, -EINVAL,
                                          "line %u: gang: \"%s\" has more than its %" PRIu32 " members",
                                          in->job.line, in->job.gang, g->size);
                if (g->n_members > 0 && sim_job(sim, g->members[0])->priority != in->job.priority)
                        return error_setx(err, -EINVAL,
                                          "line %u: gang: priority %" PRId64 " differs from %" PRId64
                                          " of gang \"%s\" (line %u)",
                                          in->job.line, in->job.priority,
                                          sim_job(sim, g->members[0])->priority, g->name,
                                          sim_job(sim, g->members[0])->line);
                g->members[g->n_members++] = i;
                sim->run[i].gang = (size_t)k;
        }
        return 0;
}

static void sim_done(Sim *sim)
{
        if (sim->run)
                for (size_t i = 0; i < sim->n_in; i++)
                        sched_placement_done(&sim->run[i].placement);
        for (size_t i = 0; i < sim->n_gangs; i++)
                free(sim->gangs[i].members);
        free(sim->gangs);
        free(sim->run);
        free(sim->order);
        free(sim->heap);
        free(sim->fresh);
        free(sim->dirty);
        free(sim->dirty_now);
        free(sim->is_dirty);
        free(sim->node_head);
        free(sim->node_preemptible);
        free(sim->preempt_bits);
        free(sim->preempt_sum);
        free(sim->preempt_levels);
        free(sim->scratch);
        free(sim->victims);
        free(sim->endings);
        free(sim->shape_rep);
        free(sim->node_shape);
        free(sim->shape_fit);
        sim_stats_done(sim);
        sched_cluster_state_free(sim->s);
}

int sched_sim_run(const Cluster *c, const SchedInput *inputs, size_t n, const SimGang *gangs, size_t n_gangs,
                  const SimOptions *o, SimSink sink, void *userdata, SimSummary *ret, BerthError *err)
{
        _cleanup_(sim_done) Sim sim = {
                .c = c,
                .in = inputs,
                .n_in = n,
                .o = o,
                .sink = sink,
                .userdata = userdata,
        };
        size_t n_alloc = n ? n : 1;
        int r;

        assert(c && (inputs || n == 0) && (gangs || n_gangs == 0) && o);
        assert(o->policy >= 0 && o->policy < _SCHED_POLICY_MAX);
        r = sched_cluster_state_new(c, &sim.s);
        if (r < 0)
                return error_set(err, r, "cluster state");
        sim.run = calloc(n_alloc, sizeof(JobRun));
        sim.order = calloc(n_alloc, sizeof(size_t));
        sim.scratch = calloc(n_alloc, sizeof(size_t));
        sim.victims = calloc(n_alloc, sizeof(size_t));
        sim.endings = calloc(n_alloc, sizeof(Ending));
        sim.node_head = malloc((c->n_nodes ? c->n_nodes : 1) * sizeof(size_t));
        sim.node_preemptible = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(uint32_t));
        sim.preempt_bits = calloc(c->n_nodes / 64 + 1, sizeof(uint64_t));
        sim.dirty = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(size_t));
        sim.dirty_now = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(size_t));
        sim.is_dirty = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(bool));
        sim.q_root = SIZE_MAX;
        sim.preempt_sum = calloc((c->n_nodes ? c->n_nodes : 1) * 3, sizeof(uint64_t));
        sim.gangs = calloc(n_gangs ? n_gangs : 1, sizeof(GangRun));
        if (!sim.run || !sim.order || !sim.scratch || !sim.victims || !sim.endings || !sim.node_head ||
            !sim.node_preemptible || !sim.preempt_bits || !sim.preempt_sum || !sim.dirty || !sim.dirty_now ||
            !sim.is_dirty || !sim.gangs)
                return error_set(err, -ENOMEM, "simulation");
        sim.n_gangs = n_gangs;
        for (size_t i = 0; i < n_gangs; i++) {
                sim.gangs[i] = (GangRun){.name = gangs[i].name, .size = gangs[i].size};
                /* no more members than inputs, whatever size a journal claims */
                sim.gangs[i].members = calloc(MAX(MIN((size_t)gangs[i].size, n), (size_t)1), sizeof(size_t));
                if (!sim.gangs[i].members)
                        return error_set(err, -ENOMEM, "simulation");
        }
        for (size_t i = 0; i < c->n_nodes; i++) {
                sim.node_head[i] = SIZE_MAX;
        }
        r = check_inputs(&sim, gangs, n_gangs, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                sim.order[i] = i;
        qsort_r(sim.order, n, sizeof(size_t), order_cmp, (void *)inputs);
        r = shapes_init(&sim);
        if (r < 0)
                return error_set(err, r, "simulation");
        r = sim_stats_init(&sim);
        if (r < 0)
                return error_set(err, r, "simulation");
        r = run_loop(&sim);
        if (r < 0)
                return error_set(err, r, "simulation");
        if (ret)
                *ret = sim.sum;
        return 0;
}
