/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The queue: a treap of units (jobs, and gangs by their leader) in queue order, each subtree
 * carrying the least cpu, memory and GPUs any unit in it asks for, the highest priority in it and
 * whether it holds a fresh unit (queued since the last pass). A pass then visits only the units
 * that could use what was freed, in queue order, without walking a long queue of jobs that cannot
 * fit: "the first unit after X that could fit in at most this much" skips every subtree whose
 * least request is too large. Treap priorities are a fixed hash of the unit's index, so the shape
 * (and the cost, never the result) is the same on every run.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "basic/macro.h"
#include "sim-internal.h"

static uint64_t mix(uint64_t x)
{
        x += UINT64_C(0x9e3779b97f4a7c15);
        x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
        return x ^ (x >> 31);
}

int sim_unit_cmp(const Sim *sim, size_t a, size_t b)
{
        const Job *x = sim_job(sim, a), *y = sim_job(sim, b);

        if (x->priority != y->priority)
                return x->priority > y->priority ? -1 : 1;
        if (x->submit_sec != y->submit_sec)
                return x->submit_sec < y->submit_sec ? -1 : 1;
        return a < b ? -1 : a > b;
}

/* What a unit asks for, for pruning: a gang asks for nothing, so it is always visited (its
 * members may land on nodes that were not freed). */
static void unit_request(const Sim *sim, size_t u, QueueAgg *ret)
{
        const Job *j = sim_job(sim, u);

        if (sim->run[u].gang != SIZE_MAX)
                *ret = (QueueAgg){.max_priority = j->priority, .fresh = sim->run[u].fresh};
        else
                *ret = (QueueAgg){
                        .cpu = j->cpu_millis,
                        .mem = j->memory_bytes,
                        .gpus = j->n_gpus,
                        .max_priority = j->priority,
                        .fresh = sim->run[u].fresh,
                };
}

static void pull(Sim *sim, size_t t)
{
        JobRun *jr = &sim->run[t];
        QueueAgg a;

        unit_request(sim, t, &a);
        for (int side = 0; side < 2; side++) {
                size_t c = side ? jr->q_right : jr->q_left;
                const QueueAgg *b;

                if (c == SIZE_MAX)
                        continue;
                b = &sim->run[c].q_agg;
                a.cpu = b->cpu < a.cpu ? b->cpu : a.cpu;
                a.mem = b->mem < a.mem ? b->mem : a.mem;
                a.gpus = b->gpus < a.gpus ? b->gpus : a.gpus;
                a.max_priority = b->max_priority > a.max_priority ? b->max_priority : a.max_priority;
                a.fresh |= b->fresh;
        }
        jr->q_agg = a;
}

/* Split @t into units before @u (*l) and the rest (*r). */
static void split(Sim *sim, size_t t, size_t u, size_t *l, size_t *r)
{
        if (t == SIZE_MAX) {
                *l = *r = SIZE_MAX;
                return;
        }
        if (sim_unit_cmp(sim, t, u) < 0) {
                split(sim, sim->run[t].q_right, u, &sim->run[t].q_right, r);
                *l = t;
        } else {
                split(sim, sim->run[t].q_left, u, l, &sim->run[t].q_left);
                *r = t;
        }
        pull(sim, t);
}

static size_t merge(Sim *sim, size_t l, size_t r)
{
        if (l == SIZE_MAX)
                return r;
        if (r == SIZE_MAX)
                return l;
        if (mix(l) > mix(r)) {
                sim->run[l].q_right = merge(sim, sim->run[l].q_right, r);
                pull(sim, l);
                return l;
        }
        sim->run[r].q_left = merge(sim, l, sim->run[r].q_left);
        pull(sim, r);
        return r;
}

int sim_queue_add(Sim *sim, size_t u)
{
        size_t l, r;

        if (sim->n_fresh == sim->cap_fresh) {
                size_t n = sim->cap_fresh ? sim->cap_fresh * 2 : 64;
                size_t *f = realloc(sim->fresh, n * sizeof(size_t));

                if (!f)
                        return -ENOMEM;
                sim->fresh = f;
                sim->cap_fresh = n;
        }
        sim->fresh[sim->n_fresh++] = u;

        sim->run[u].q_left = sim->run[u].q_right = SIZE_MAX;
        sim->run[u].fresh = true;
        sim->run[u].in_queue = true;
        pull(sim, u);
        split(sim, sim->q_root, u, &l, &r);
        sim->q_root = merge(sim, merge(sim, l, u), r);
        sim->n_queued++;
        return 0;
}

static size_t erase(Sim *sim, size_t t, size_t u)
{
        int k;

        assert(t != SIZE_MAX);
        k = sim_unit_cmp(sim, u, t);
        if (k == 0)
                return merge(sim, sim->run[t].q_left, sim->run[t].q_right);
        if (k < 0)
                sim->run[t].q_left = erase(sim, sim->run[t].q_left, u);
        else
                sim->run[t].q_right = erase(sim, sim->run[t].q_right, u);
        pull(sim, t);
        return t;
}

void sim_queue_remove(Sim *sim, size_t u)
{
        assert(sim->run[u].in_queue);
        sim->q_root = erase(sim, sim->q_root, u);
        sim->run[u].in_queue = false;
        sim->n_queued--;
}

/* Clear @u's fresh mark: walk down to it from the root, then pull on the way back. */
static void unfresh(Sim *sim, size_t t, size_t u)
{
        int k = sim_unit_cmp(sim, u, t);

        if (k < 0)
                unfresh(sim, sim->run[t].q_left, u);
        else if (k > 0)
                unfresh(sim, sim->run[t].q_right, u);
        else
                sim->run[t].fresh = false;
        pull(sim, t);
}

void sim_queue_unfresh(Sim *sim, size_t u)
{
        if (sim->run[u].in_queue && sim->run[u].fresh)
                unfresh(sim, sim->q_root, u);
}

static bool agg_may_fit(const QueueAgg *a, const QueueBound *b)
{
        if (a->fresh)
                return true;
        if (a->cpu <= b->free.cpu && a->mem <= b->free.mem && a->gpus <= b->free.gpus)
                return true;
        return b->can_preempt && a->max_priority > b->lowest_preemptible && a->cpu <= b->with_victims.cpu &&
               a->mem <= b->with_victims.mem && a->gpus <= b->with_victims.gpus;
}

static size_t find(Sim *sim, size_t t, size_t after, const QueueBound *b)
{
        while (t != SIZE_MAX) {
                const JobRun *jr = &sim->run[t];
                QueueAgg own;
                size_t r;

                if (!agg_may_fit(&jr->q_agg, b))
                        return SIZE_MAX;
                if (after != SIZE_MAX && sim_unit_cmp(sim, t, after) <= 0) {
                        t = jr->q_right; /* t and its left subtree are not after @after */
                        continue;
                }
                r = find(sim, jr->q_left, after, b);
                if (r != SIZE_MAX)
                        return r;
                unit_request(sim, t, &own);
                if (agg_may_fit(&own, b))
                        return t;
                t = jr->q_right;
        }
        return SIZE_MAX;
}

size_t sim_queue_next(Sim *sim, size_t after, const QueueBound *b)
{
        return find(sim, sim->q_root, after, b);
}

size_t sim_queue_first(const Sim *sim)
{
        size_t t = sim->q_root;

        if (t == SIZE_MAX)
                return SIZE_MAX;
        while (sim->run[t].q_left != SIZE_MAX)
                t = sim->run[t].q_left;
        return t;
}

static size_t successor(const Sim *sim, size_t u)
{
        size_t t = sim->q_root, best = SIZE_MAX;

        while (t != SIZE_MAX) {
                if (sim_unit_cmp(sim, t, u) > 0) {
                        best = t;
                        t = sim->run[t].q_left;
                } else
                        t = sim->run[t].q_right;
        }
        return best;
}

size_t sim_queue_after(const Sim *sim, size_t u)
{
        return successor(sim, u);
}
