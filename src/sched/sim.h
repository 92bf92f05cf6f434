/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The scheduler over time: a discrete-event simulation of a queue by priority with backfill, one
 * reservation against starvation, gangs, preemption and node events. Pure like the rest of
 * src/sched: the caller reads files, formats output and (optionally) supplies a clock. Every
 * record the simulation produces goes to a sink, in order; the same inputs always give the same
 * records. docs/scheduler.md, "Over time", has the rules.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/strbuf.h"
#include "cluster.h"
#include "jobs.h"
#include "place.h"

/* No time limit: run until every job has ended or can never be placed. */
#define SIM_UNTIL_END UINT64_MAX

/* A blocked job waiting this long (seconds) gets a reservation unless told otherwise. */
#define SIM_STARVE_AFTER_DEFAULT UINT64_C(600)

typedef struct SimOptions {
        SchedPolicy policy;
        uint64_t starve_after_sec; /* see SIM_STARVE_AFTER_DEFAULT */
        uint64_t until_sec;        /* stop after the pass at this time; SIM_UNTIL_END */
        /* Optional: a monotonic clock in ns. When set, the time each placement attempt takes is
         * measured for SimSummary.decision_ns_*; the records never depend on it. */
        uint64_t (*clock_ns)(void *userdata);
        void *clock_userdata;
} SimOptions;

/* A gang and how many jobs it has: a gang is placed once all its members have arrived. The caller
 * passes the sizes (sched_sim_gangs_from_inputs() derives them) so that a prefix of the inputs
 * behaves exactly as the whole up to where it stops: a journal records them in its header. */
typedef struct SimGang {
        char *name;
        uint32_t size;
} SimGang;

typedef enum SimRecordType {
        SIM_RECORD_INPUT,   /* an input taken in at .time (a job arrives, a node event happens) */
        SIM_RECORD_PLACE,   /* decision: .job placed on .placement */
        SIM_RECORD_PREEMPT, /* decision: .job evicted from .placement for .by, and requeued */
        SIM_RECORD_REQUEUE, /* decision: .job evicted from .placement since its node (or a gang
                               member's node) went down, and requeued */
        SIM_RECORD_PENDING, /* decision: .job not placed, .reason says why (at arrival when it fits
                               no node; at the end for the jobs still queued) */
        SIM_RECORD_FINISH,  /* .job ended after its duration and freed .placement (not a decision) */
        _SIM_RECORD_TYPE_MAX,
} SimRecordType;

typedef struct SimRecord {
        SimRecordType type;
        uint64_t seq;               /* decisions are numbered 1, 2, ...; 0 for INPUT and FINISH */
        uint64_t time;              /* seconds */
        size_t input;               /* index into the inputs: the input, or the job the record is about */
        unsigned line;              /* that input's line */
        const Job *job;             /* NULL for a node event INPUT */
        const Placement *placement; /* PLACE, PREEMPT, REQUEUE, FINISH */
        const Job *by;              /* PREEMPT */
        const char *reason;         /* PENDING */
        const ClusterState *state;  /* the state right after the record (for checks) */
} SimRecord;

/* Returns 0 to go on, or a negative errno which stops the simulation and is returned by it. */
typedef int (*SimSink)(const SimRecord *r, void *userdata);

typedef struct SimSummary {
        uint64_t jobs;          /* job inputs */
        uint64_t placed;        /* jobs placed at least once (one may be pending again at the end) */
        uint64_t pending;       /* jobs never placed (PENDING records at the end or arrival) */
        uint64_t decisions;     /* decision records */
        uint64_t preemptions;   /* PREEMPT records */
        uint64_t requeues;      /* REQUEUE records */
        uint64_t end_time;      /* time of the last event */
        uint64_t wait_mean_sec; /* first placement - submit, over placed jobs (rounded down) */
        uint64_t wait_p99_sec;  /* nearest rank */
        /* Time-weighted means over [0, end_time] in millionths of the cluster's capacity (of the
         * nodes that have the resource): in use; and free but stranded while some job waits in
         * the queue (free on a node where another resource has less free than every job of the
         * stream asks for, so that no job of the stream could use it there). */
        uint64_t util_ppm[3];     /* cpu, memory, gpus */
        uint64_t stranded_ppm[3]; /* cpu, memory, gpus */
        /* GPUs free but in a partly used NVLink domain, in millionths of all GPUs: time-weighted
         * mean, and at the end of the last pass. */
        uint64_t gpu_fragmented_ppm;
        uint64_t gpu_fragmented_end_ppm;
        /* the state after the last pass: nodes running something, stranded resources (ppm) */
        uint64_t nodes_used_end;
        uint64_t stranded_end_ppm[3];
        /* with SimOptions.clock_ns: placement attempts timed, their total, p99 and max (ns) */
        uint64_t attempts_timed;
        uint64_t decision_ns_total;
        uint64_t decision_ns_p99;
        uint64_t decision_ns_max;
} SimSummary;

/**
 * sched_sim_gangs_from_inputs() - the gangs named by the jobs in @inputs, sorted by name, with
 * their member counts. Checks that members agree on priority ("line N: gang: ..." in @err).
 * On success *@ret (free with sched_sim_gangs_free()) and *@n_ret are set.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int sched_sim_gangs_from_inputs(const SchedInput *inputs, size_t n, SimGang **ret, size_t *n_ret,
                                BerthError *err);

/** sched_sim_gangs_free() - free what sched_sim_gangs_from_inputs() returned; accepts NULL. */
void sched_sim_gangs_free(SimGang *g, size_t n);

/**
 * sched_sim_run() - simulate @inputs (jobs and node events, taken in order of their time, then
 * of their index) on @c under @o, sending every record to @sink. Checks the inputs first, before
 * any record: node events must name nodes of @c, gang members must be in @gangs and agree on
 * priority ("line N: field: why" in @err). Returns 0 with *@ret filled (when @ret is not NULL),
 * -EINVAL for bad input, -ENOMEM, or what @sink returned.
 */
int sched_sim_run(const Cluster *c, const SchedInput *inputs, size_t n, const SimGang *gangs, size_t n_gangs,
                  const SimOptions *o, SimSink sink, void *userdata, SimSummary *ret, BerthError *err);

/** sched_sim_record_is_decision() - whether records of type @t are decisions (numbered, journalled). */
bool sched_sim_record_is_decision(SimRecordType t);

/**
 * sched_sim_record_format() - the canonical JSON text of decision @r (no newline), as written to
 * --decisions files and journals:
 *   {"seq":1,"time":0,"job":"a","node":"n1","gpus":["GPU-0"]}
 *   {"seq":2,"time":9,"job":"b","node":"n1","gpus":[],"preempted_by":"c"}
 *   {"seq":3,"time":9,"job":"d","node":"n2","gpus":[],"requeued":"node_down"}
 *   {"seq":4,"time":20,"job":"e","pending":"fits no node"}
 * Appends to @out (check strbuf_failed()).
 */
void sched_sim_record_format(const SimRecord *r, const Cluster *c, StrBuf *out);
