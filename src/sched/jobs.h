/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The scheduler's input stream: JSON lines, each a job or a node event, in submission order.
 * The caller splits the lines and passes each with its 1-based number, which every message
 * starts with ("line 12: gpu_memory: ...").
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "cluster.h"

typedef struct Job {
        char *id;
        uint64_t submit_sec;
        uint64_t duration_sec; /* > 0 */
        int64_t priority;      /* higher first */
        uint64_t cpu_millis;
        uint64_t memory_bytes;
        uint32_t n_gpus;
        char *gpu_model;           /* NULL: any model */
        uint64_t gpu_memory_bytes; /* per GPU; 0: any */
        Label *selector;           /* sorted by key */
        size_t n_selector;
        char *gang; /* NULL: not in a gang */
        bool preemptible;
        unsigned line;
} Job;

typedef enum NodeEventType {
        NODE_EVENT_DOWN,
        NODE_EVENT_UP,
        _NODE_EVENT_TYPE_MAX,
        _NODE_EVENT_TYPE_INVALID = -EINVAL,
} NodeEventType;

typedef struct NodeEvent {
        NodeEventType type;
        char *node;
        uint64_t at_sec;
        unsigned line;
} NodeEvent;

typedef enum SchedInputKind {
        SCHED_INPUT_JOB,
        SCHED_INPUT_NODE_EVENT,
        _SCHED_INPUT_KIND_MAX,
        _SCHED_INPUT_KIND_INVALID = -EINVAL,
} SchedInputKind;

typedef struct SchedInput {
        SchedInputKind kind;
        union {
                Job job;              /* kind == SCHED_INPUT_JOB */
                NodeEvent node_event; /* kind == SCHED_INPUT_NODE_EVENT */
        };
} SchedInput;

/** node_event_type_to_string() - "node_down", "node_up"; NULL when out of range. */
const char *node_event_type_to_string(NodeEventType t);

/** node_event_type_from_string() - the inverse, or _NODE_EVENT_TYPE_INVALID. */
NodeEventType node_event_type_from_string(const char *s);

/**
 * sched_input_parse_line() - parse one line: a job {"id", "submit", "duration", "priority", "cpu",
 * "memory", "gpus", "gpu_model"?, "gpu_memory"?, "selector"?, "gang"?, "preemptible"?} or, when it
 * has an "event" field, a node event {"event": "node_down"|"node_up", "node", "at"}. Unknown and
 * missing fields, bad quantities and out-of-range integers are refused with "line N: field: why".
 * On success *@ret is filled and owns its strings (release with sched_input_done()).
 * Returns 0, -EINVAL, -ERANGE or -ENOMEM.
 */
int sched_input_parse_line(const char *line, unsigned line_no, SchedInput *ret, BerthError *err);

/** sched_input_done() - free what @in owns and zero it; accepts an zeroed SchedInput. */
void sched_input_done(SchedInput *in);

/**
 * sched_job_fits_some_node() - whether some node of @c could ever hold @job on its own, when empty:
 * enough cpu and memory, every selector label equal, and at least job->n_gpus GPUs of the model
 * and memory asked. Pure; a job for which this is false can never be placed.
 */
bool sched_job_fits_some_node(const Cluster *c, const Job *job);

/** sched_job_fits_node() - the same test for one node. */
bool sched_job_fits_node(const Node *n, const Job *job);

/** sched_selector_matches() - whether node @n has every label of @job's selector, with its value. */
bool sched_selector_matches(const Node *n, const Job *job);

/** sched_gpu_eligible() - whether GPU @g is of @job's gpu_model (if any) with at least its gpu_memory. */
bool sched_gpu_eligible(const Gpu *g, const Job *job);

/*
 * The job ids seen so far, to refuse duplicates. An open-addressing hash table with a fixed
 * hash (FNV-1a): lookups are O(1) and, since nothing iterates it, its layout cannot leak into
 * any decision.
 */
typedef struct JobIdSet JobIdSet;

/** sched_job_id_set_new() - an empty set, or NULL when out of memory. */
JobIdSet *sched_job_id_set_new(void);

/** sched_job_id_set_free() - free the set; accepts NULL, returns NULL. */
JobIdSet *sched_job_id_set_free(JobIdSet *s);

/**
 * sched_job_id_set_add() - add @id first seen on @line. Returns 0, -EEXIST with
 * "line N: id: duplicate job id "x" (first on line M)" in @err, or -ENOMEM. @id is copied.
 */
int sched_job_id_set_add(JobIdSet *s, const char *id, unsigned line, BerthError *err);

/** sched_job_id_set_size() - how many ids the set holds. */
size_t sched_job_id_set_size(const JobIdSet *s);

static inline void sched_job_id_set_freep(JobIdSet **s)
{
        sched_job_id_set_free(*s);
}
