/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulation's summary, kept incrementally: every change to a node updates its cached
 * stranded and fragmented counts, and time-weighted sums advance with the clock, so nothing
 * scans the cluster per event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "sim-internal.h"

#define PPM UINT64_C(1000000)

int sim_stats_init(Sim *sim)
{
        const Cluster *c = sim->c;
        size_t n_nodes = c->n_nodes ? c->n_nodes : 1;

        for (int d = 0; d < 3; d++)
                sim->min_request[d] = UINT64_MAX;
        for (size_t i = 0; i < sim->n_in; i++) {
                const Job *j;

                if (sim->in[i].kind != SCHED_INPUT_JOB)
                        continue;
                j = &sim->in[i].job;
                sim->sum.jobs++;
                sim->min_request[0] = MIN(sim->min_request[0], j->cpu_millis);
                sim->min_request[1] = MIN(sim->min_request[1], j->memory_bytes);
                sim->min_request[2] = MIN(sim->min_request[2], (uint64_t)j->n_gpus);
        }
        for (size_t i = 0; i < c->n_nodes; i++) {
                sim->capacity[0] += c->nodes[i].cpu_millis;
                sim->capacity[1] += c->nodes[i].memory_bytes;
                sim->capacity[2] += c->nodes[i].n_gpus;
        }
        sim->n_gpus = sim->capacity[2];
        sim->node_stranded = calloc(n_nodes * 3, sizeof(uint64_t));
        sim->node_frag = calloc(n_nodes, sizeof(uint64_t));
        sim->waits = calloc(sim->sum.jobs ? sim->sum.jobs : 1, sizeof(uint64_t));
        if (!sim->node_stranded || !sim->node_frag || !sim->waits)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_nodes; i++)
                sim_stats_node_changed(sim, i);
        return 0;
}

void sim_stats_done(Sim *sim)
{
        free(sim->node_stranded);
        free(sim->node_frag);
        free(sim->waits);
}

void sim_stats_advance(Sim *sim, uint64_t t)
{
        uint64_t dt = t - sim->now;

        /* capacity is only stranded while some job waits for it: idle capacity nobody asks for
         * is just idle */
        for (int d = 0; d < 3; d++) {
                sim->acc_used[d] += (unsigned __int128)sim->used[d] * dt;
                if (sim->n_queued > 0)
                        sim->acc_stranded[d] += (unsigned __int128)sim->stranded[d] * dt;
        }
        sim->acc_frag += (unsigned __int128)sim->fragmented * dt;
        sim->now = t;
}

/*
 * A resource is exhausted on a node when less of it is free than every job of the stream asks
 * for (so a resource some job does without, like GPUs for CPU jobs, never is); the free amounts
 * of the node's other resources are then stranded: no job of the stream could use them there.
 */
void sim_stats_node_changed(Sim *sim, size_t i)
{
        const NodeState *ns = &sim->s->nodes[i];
        uint64_t cap[3] = {ns->cpu_millis, ns->memory_bytes, ns->n_gpus};
        uint64_t free_now[3] = {ns->free_cpu_millis, ns->free_memory_bytes, ns->n_free_gpus};
        bool exhausted[3];
        uint64_t *st = &sim->node_stranded[i * 3];
        uint64_t frag;

        for (int d = 0; d < 3; d++)
                exhausted[d] = cap[d] > 0 && free_now[d] < sim->min_request[d];
        for (int d = 0; d < 3; d++) {
                uint64_t v = 0;

                for (int e = 0; e < 3; e++)
                        if (e != d && exhausted[e])
                                v = free_now[d];
                sim->stranded[d] = sim->stranded[d] - st[d] + v;
                st[d] = v;
        }
        frag = ns->n_gpus > 0 ? sched_node_fragmented_gpus(sim->s, i) : 0;
        sim->fragmented = sim->fragmented - sim->node_frag[i] + frag;
        sim->node_frag[i] = frag;
}

void sim_stats_used(Sim *sim, const Job *j, const Placement *p, bool add)
{
        uint64_t v[3] = {j->cpu_millis, j->memory_bytes, p->n_gpus};

        for (int d = 0; d < 3; d++)
                sim->used[d] = add ? sim->used[d] + v[d] : sim->used[d] - v[d];
}

/* Log-linear buckets: exact below 16 ns, then 16 per power of two (at most 1/16 too high). */
static size_t bucket_of(uint64_t ns)
{
        int msb;

        if (ns < 16)
                return (size_t)ns;
        msb = 63 - __builtin_clzll(ns);
        return (size_t)(msb - 3) * 16 + ((ns >> (msb - 4)) & 15);
}

static uint64_t bucket_top(size_t b)
{
        size_t row = b / 16, sub = b % 16;

        if (row == 0)
                return sub;
        return ((UINT64_C(16) + sub + 1) << (row - 1)) - 1;
}

void sim_stats_attempt(Sim *sim, uint64_t ns)
{
        sim->hist[bucket_of(ns)]++;
        sim->sum.attempts_timed++;
        sim->sum.decision_ns_total += ns;
        if (ns > sim->sum.decision_ns_max)
                sim->sum.decision_ns_max = ns;
}

int sim_stats_placed(Sim *sim, uint64_t wait)
{
        sim->waits[sim->n_waits++] = wait;
        sim->sum.placed++;
        return 0;
}

static int u64_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static uint64_t ppm_of(unsigned __int128 part, unsigned __int128 whole)
{
        return whole ? (uint64_t)(part * PPM / whole) : 0;
}

void sim_stats_finish(Sim *sim)
{
        SimSummary *sum = &sim->sum;
        unsigned __int128 total = 0;
        uint64_t seen = 0;

        sum->end_time = sim->now;
        for (size_t i = 0; i < sim->n_waits; i++)
                total += sim->waits[i];
        if (sim->n_waits > 0) {
                sum->wait_mean_sec = (uint64_t)(total / sim->n_waits);
                qsort(sim->waits, sim->n_waits, sizeof(uint64_t), u64_cmp);
                sum->wait_p99_sec = sim->waits[(sim->n_waits * 99 + 99) / 100 - 1];
        }
        for (int d = 0; d < 3; d++) {
                if (sim->now > 0) {
                        sum->util_ppm[d] =
                                ppm_of(sim->acc_used[d], (unsigned __int128)sim->capacity[d] * sim->now);
                        sum->stranded_ppm[d] =
                                ppm_of(sim->acc_stranded[d], (unsigned __int128)sim->capacity[d] * sim->now);
                } else {
                        sum->util_ppm[d] = ppm_of(sim->used[d], sim->capacity[d]);
                        sum->stranded_ppm[d] = ppm_of(sim->stranded[d], sim->capacity[d]);
                }
                sum->stranded_end_ppm[d] = ppm_of(sim->stranded[d], sim->capacity[d]);
        }
        sum->gpu_fragmented_ppm = sim->now > 0
                                          ? ppm_of(sim->acc_frag, (unsigned __int128)sim->n_gpus * sim->now)
                                          : ppm_of(sim->fragmented, sim->n_gpus);
        sum->gpu_fragmented_end_ppm = ppm_of(sim->fragmented, sim->n_gpus);
        for (size_t i = 0; i < sim->c->n_nodes; i++)
                sum->nodes_used_end += sim->node_head[i] != SIZE_MAX;
        if (sum->attempts_timed > 0)
                for (size_t b = 0; b < ELEMENTSOF(sim->hist); b++) {
                        seen += sim->hist[b];
                        if (seen * 100 >= sum->attempts_timed * 99) {
                                /* a bucket's top can pass the largest time seen */
                                sum->decision_ns_p99 = bucket_top(b) < sum->decision_ns_max
                                                               ? bucket_top(b)
                                                               : sum->decision_ns_max;
                                break;
                        }
                }
}
