/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Helpers shared by the scheduler's unit tests (test-sched-*.c), for building clusters, states
 * and jobs in a line. Include after <cmocka.h>: they fail the test on a bad fixture.
 */

#include <stdint.h>

#include "basic/error.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/place.h"

#define MI (UINT64_C(1024) * 1024)
#define GI (MI * 1024)

/* A cluster from JSON that must parse. */
static inline Cluster *cluster_from(const char *json)
{
        BerthError err = {};
        Cluster *c = NULL;

        assert_int_equal(sched_cluster_parse(json, &c, &err), 0);
        return c;
}

/* A state with everything free. */
static inline ClusterState *state_for(const Cluster *c)
{
        ClusterState *s = NULL;

        assert_int_equal(sched_cluster_state_new(c, &s), 0);
        return s;
}

/* A job asking for this much and nothing else. */
static inline Job job(uint64_t cpu_millis, uint64_t memory_bytes, uint32_t n_gpus)
{
        return (Job){.id = (char *)"j",
                     .duration_sec = 1,
                     .cpu_millis = cpu_millis,
                     .memory_bytes = memory_bytes,
                     .n_gpus = n_gpus};
}

/* The node sched_place() picks for @j, which must fit somewhere. */
static inline size_t place_node(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy)
{
        Placement p = {};
        size_t node;

        assert_int_equal(sched_place(c, s, j, policy, &p), 0);
        node = p.node;
        sched_placement_done(&p);
        return node;
}
