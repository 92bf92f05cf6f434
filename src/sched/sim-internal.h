/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The simulation's state, shared by sim.c (events, queue, placement), sim-preempt.c (preemption
 * and reservations) and sim-stats.c (the summary). Internal to src/sched. */

#include "sim.h"

typedef enum JobPhase {
        JOB_FUTURE,  /* not arrived yet */
        JOB_WAITING, /* arrived, its gang is not complete yet */
        JOB_QUEUED,
        JOB_RUNNING,
        JOB_DONE,  /* finished */
        JOB_NEVER, /* reported pending: will not be placed */
} JobPhase;

/* A queue subtree's summary (see sim-queue.c); for one unit, what it asks for. */
typedef struct QueueAgg {
        uint64_t cpu, mem, gpus; /* least asked in the subtree */
        int64_t max_priority;
        bool fresh; /* holds a unit queued since the last pass */
} QueueAgg;

typedef struct Room {
        uint64_t cpu, mem, gpus;
} Room;

/* The most a unit could find on a node freed since the last pass: as it is, and with every
 * preemptible job gone (for units that may preempt). */
typedef struct QueueBound {
        Room free;
        Room with_victims;
        bool can_preempt;
        int64_t lowest_preemptible;
} QueueBound;

typedef struct JobRun {
        Placement placement; /* while running */
        uint64_t start, end;
        uint64_t first_start;        /* UINT64_MAX until placed once */
        uint64_t queued_since;       /* for the starvation rule */
        size_t gang;                 /* index into Sim.gangs, or SIZE_MAX */
        size_t node_prev, node_next; /* the node's list of running jobs */
        uint32_t gen;                /* bumped when it stops: finish events of older runs are stale */
        uint8_t phase;               /* JobPhase */
        bool in_queue, fresh;        /* a queued unit; queued since the last pass */
        size_t q_left, q_right;      /* the queue treap */
        QueueAgg q_agg;
} JobRun;

typedef struct GangRun {
        const char *name;
        uint32_t size;
        uint32_t arrived;
        size_t *members; /* job indexes, ascending; n_members <= size */
        uint32_t n_members;
        size_t leader; /* the member first in arrival order: the gang's place in the queue */
} GangRun;

typedef struct Ending {
        uint64_t end;
        size_t job;
} Ending;

typedef struct FinishEvent {
        uint64_t end;
        size_t job;
        uint32_t gen;
} FinishEvent;

typedef struct PriorityCount {
        int64_t priority;
        size_t count;
} PriorityCount;

/* A request that failed in this pass: a job asking at least as much, with the same constraints,
 * fails too, so it is not tried again (the state only fills up during a pass). */
typedef struct FailedRequest {
        const Job *job;
        bool masked;
} FailedRequest;

#define SIM_FAILED_CACHE 16

typedef struct Sim {
        const Cluster *c;
        const SchedInput *in;
        size_t n_in;
        const SimOptions *o;
        SimSink sink;
        void *userdata;

        ClusterState *s;
        JobRun *run;   /* per input (unused for node events) */
        size_t *order; /* input indexes by (time, index) */
        size_t next_input;
        GangRun *gangs;
        size_t n_gangs;

        FinishEvent *heap; /* min-heap by (end, job) */
        size_t n_heap, cap_heap;

        size_t q_root; /* the queue treap (sim-queue.c), SIZE_MAX when empty */
        size_t n_queued;
        size_t *fresh; /* units queued since the last round of a pass */
        size_t n_fresh, cap_fresh;
        size_t *dirty; /* nodes that gained free capacity since the last round */
        size_t n_dirty;
        size_t *dirty_now; /* the round's snapshot of them */
        bool *is_dirty;

        size_t *node_head;             /* per node: first running job, or SIZE_MAX */
        uint32_t *node_preemptible;    /* per node: running preemptible jobs */
        uint64_t *preempt_sum;         /* per node: cpu, memory and GPUs they hold (3 each) */
        uint64_t *preempt_bits;        /* a bit per node: node_preemptible > 0 */
        PriorityCount *preempt_levels; /* running preemptible jobs per priority, ascending */
        size_t n_preempt_levels;

        /* the reservation against starvation */
        bool res_active;
        size_t res_job, res_node;
        uint64_t res_start;
        bool res_masked; /* res_node is marked down while jobs behind res_job are tried */

        FailedRequest failed[SIM_FAILED_CACHE];
        size_t n_failed, next_failed;

        uint64_t now;
        uint64_t seq;
        size_t *scratch;   /* n_in entries, for preemption and reservations */
        size_t *victims;   /* n_in entries */
        Ending *endings;   /* n_in entries, for reservations */
        size_t *shape_rep; /* one node per distinct static shape, for "fits some node" */
        size_t n_shapes;
        size_t *node_shape; /* per node: its shape */
        bool *shape_fit;    /* per shape: sim_fit_shapes()'s answer for one job */
        char reason[512];

        /* accounting, sim-stats.c */
        uint64_t min_request[3]; /* smallest request per resource (0 when a job asks none), UINT64_MAX: no
                                    jobs */
        uint64_t capacity[3];
        uint64_t used[3];
        uint64_t *node_stranded; /* per node, 3 each */
        uint64_t *node_frag;
        uint64_t stranded[3];
        uint64_t fragmented;
        uint64_t n_gpus;
        unsigned __int128 acc_used[3], acc_stranded[3], acc_frag;
        uint64_t *waits;
        size_t n_waits;
        uint64_t hist[64 * 16]; /* attempt times in ns, log-linear buckets */
        SimSummary sum;
} Sim;

/* sim.c */
static inline const Job *sim_job(const Sim *sim, size_t i)
{
        return &sim->in[i].job;
}

int sim_emit(Sim *sim, SimRecordType type, size_t job, const Placement *p, const Job *by,
             const char *reason);
void sim_mark_dirty(Sim *sim, size_t node);
int sim_job_start(Sim *sim, size_t j, Placement *p);
void sim_job_stop(Sim *sim, size_t j, Placement *ret);
void sim_set_mask(Sim *sim, bool on);
bool sim_job_fits_static(const Sim *sim, size_t node, const Job *j);
/* For loops over many nodes: whether @j could ever fit each shape, then sim_fits_shape(). */
void sim_fit_shapes(Sim *sim, const Job *j);
static inline bool sim_fits_shape(const Sim *sim, size_t node)
{
        return sim->shape_fit[sim->node_shape[node]];
}

/* Whether some running job could be preempted for @j: one with a lower priority. */
static inline bool sim_can_preempt_some(const Sim *sim, const Job *j)
{
        return sim->n_preempt_levels > 0 && sim->preempt_levels[0].priority < j->priority;
}

/* sim-preempt.c */
int sim_preemptible_started(Sim *sim, size_t j);
void sim_preemptible_stopped(Sim *sim, size_t j);
int sim_try_preempt(Sim *sim, size_t j, bool *ret_placed);
void sim_reserve(Sim *sim, size_t j);

/* sim-queue.c */
int sim_unit_cmp(const Sim *sim, size_t a, size_t b);
int sim_queue_add(Sim *sim, size_t u);
void sim_queue_remove(Sim *sim, size_t u);
void sim_queue_unfresh(Sim *sim, size_t u);
size_t sim_queue_next(Sim *sim, size_t after, const QueueBound *b);
size_t sim_queue_first(const Sim *sim);
size_t sim_queue_after(const Sim *sim, size_t u);

/* sim-stats.c */
int sim_stats_init(Sim *sim);
void sim_stats_done(Sim *sim);
void sim_stats_advance(Sim *sim, uint64_t t);
void sim_stats_node_changed(Sim *sim, size_t node);
void sim_stats_used(Sim *sim, const Job *j, const Placement *p, bool add);
void sim_stats_attempt(Sim *sim, uint64_t ns);
int sim_stats_placed(Sim *sim, uint64_t wait);
void sim_stats_finish(Sim *sim);
