/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The simulation on a job stream made of the input's lines, against a fixed small cluster (GPUs
 * of two models in two NVLink domains, labels). Lines that do not parse are skipped, so the
 * fuzzer explores the queue, gangs, preemption and node events rather than the parser. Checked
 * after every record: no node over capacity, every GPU owner a running job, and at the end the
 * state empty again when the simulation ran to its end.
 */

#include <string.h>

#include "fuzz.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/sim.h"

#define MAX_LINES 64

static const char cluster_json[] =
        "{\"nodes\":["
        "{\"name\":\"c1\",\"cpu\":4,\"memory\":\"8Gi\",\"labels\":{\"pool\":\"cpu\"}},"
        "{\"name\":\"c2\",\"cpu\":\"2500m\",\"memory\":\"4Gi\",\"labels\":{\"pool\":\"cpu\"}},"
        "{\"name\":\"g1\",\"cpu\":8,\"memory\":\"16Gi\",\"labels\":{\"pool\":\"gpu\"},\"gpus\":["
        "{\"uuid\":\"G-0\",\"model\":\"A\",\"memory\":\"40Gi\",\"nvlink\":0},"
        "{\"uuid\":\"G-1\",\"model\":\"A\",\"memory\":\"40Gi\",\"nvlink\":0},"
        "{\"uuid\":\"G-2\",\"model\":\"A\",\"memory\":\"80Gi\",\"nvlink\":1},"
        "{\"uuid\":\"G-3\",\"model\":\"A\",\"memory\":\"80Gi\",\"nvlink\":1}]},"
        "{\"name\":\"g2\",\"cpu\":8,\"memory\":\"16Gi\",\"gpus\":["
        "{\"uuid\":\"H-0\",\"model\":\"B\",\"memory\":\"24Gi\",\"nvlink\":0},"
        "{\"uuid\":\"H-1\",\"model\":\"B\",\"memory\":\"24Gi\",\"nvlink\":0}]}]}";

typedef struct Check {
        const SchedInput *in;
        size_t n;
} Check;

static int check_record(const SimRecord *r, void *userdata)
{
        const Check *k = userdata;
        const ClusterState *s = r->state;

        FUZZ_CHECK(r->input < k->n);
        for (size_t i = 0; i < s->n_nodes; i++) {
                const NodeState *ns = &s->nodes[i];
                uint32_t free_gpus = 0;

                FUZZ_CHECK(ns->free_cpu_millis <= ns->cpu_millis);
                FUZZ_CHECK(ns->free_memory_bytes <= ns->memory_bytes);
                for (uint32_t g = 0; g < ns->n_gpus; g++) {
                        size_t owner = ns->gpu_owner[g];

                        free_gpus += owner == SCHED_OWNER_NONE;
                        FUZZ_CHECK(owner == SCHED_OWNER_NONE ||
                                   (owner < k->n && k->in[owner].kind == SCHED_INPUT_JOB));
                }
                FUZZ_CHECK(free_gpus == ns->n_free_gpus);
        }
        return 0;
}

static void run(const Cluster *c, const SchedInput *in, size_t n, uint64_t until, SchedPolicy policy)
{
        SimOptions o = {.policy = policy, .starve_after_sec = 3, .until_sec = until};
        Check k = {in, n};
        SimGang *gangs = NULL;
        size_t n_gangs = 0;
        BerthError err = {};
        SimSummary sum = {};
        int r;

        r = sched_sim_gangs_from_inputs(in, n, &gangs, &n_gangs, &err);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && err.msg[0]);
                return;
        }
        r = sched_sim_run(c, in, n, gangs, n_gangs, &o, check_record, &k, &sum, &err);
        FUZZ_CHECK(r == 0 || (r == -EINVAL && err.msg[0]));
        if (r == 0)
                FUZZ_CHECK(sum.placed + sum.pending <= sum.jobs + sum.requeues + sum.preemptions);
        sched_sim_gangs_free(gangs, n_gangs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        SchedInput in[MAX_LINES] = {};
        BerthError err = {};
        Cluster *c = NULL;
        size_t n = 0;
        char *text, *p, *next;
        unsigned line = 0;

        FUZZ_CHECK(sched_cluster_parse(cluster_json, &c, &err) == 0);
        text = strndup((const char *)data, size);
        FUZZ_CHECK(text);
        for (p = text; p && n < MAX_LINES; p = next) {
                char *nl = strchr(p, '\n');

                next = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                err = (BerthError){};
                if (sched_input_parse_line(p, ++line, &in[n], &err) == 0)
                        n++;
        }
        run(c, in, n, SIM_UNTIL_END, SCHED_POLICY_BINPACK);
        run(c, in, n, 50, SCHED_POLICY_SPREAD);
        for (size_t i = 0; i < n; i++)
                sched_input_done(&in[i]);
        sched_cluster_free(c);
        free(text);
        return 0;
}
