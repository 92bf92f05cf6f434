/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "basic/error.h"
#include "sched/baseline.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/place.h"
#include "sched-test.h"

static void test_policy_names(void **state)
{
        static const struct {
                SchedPolicy policy;
                const char *name;
        } names[] = {
                {SCHED_POLICY_FIRSTFIT, "firstfit"},
                {SCHED_POLICY_K8S_LEAST, "k8s-least"},
                {SCHED_POLICY_K8S_MOST, "k8s-most"},
                {SCHED_POLICY_NOMAD, "nomad-binpack"},
        };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                assert_string_equal(sched_policy_to_string(names[i].policy), names[i].name);
                assert_int_equal(sched_policy_from_string(names[i].name), names[i].policy);
        }
        assert_true(SCHED_POLICY_FIRSTFIT > SCHED_POLICY_SPREAD);
        assert_int_equal(sched_policy_from_string("nomad"), _SCHED_POLICY_INVALID);
}

/*
 * a: 4 cpu, 16Gi; b: 8 cpu, 8Gi; c: 16 cpu, 64Gi (canonical order 0, 1, 2), all empty.
 *
 * A 2 cpu + 2Gi job. Per resource, requested = in use + the job:
 *   k8s-least, (alloc - req) * 100 / alloc:  a: cpu 50, mem 87 -> 137/2 = 68
 *                                            b: cpu 75, mem 75 -> 75
 *                                            c: cpu 87, mem 96 -> 183/2 = 91   => c
 *   k8s-most, req * 100 / alloc:             a: cpu 50, mem 12 -> 62/2 = 31
 *                                            b: cpu 25, mem 25 -> 25
 *                                            c: cpu 12, mem 3  -> 15/2 = 7     => a
 *   nomad, 20 - (10^free_cpu + 10^free_mem): a: 20 - (10^0.5 + 10^0.875) = 9.3388
 *                                            b: 20 - 2 * 10^0.75        = 8.7532
 *                                            c: 20 - (10^0.875 + 10^0.96875) = 3.1953 => a
 *   firstfit: a.
 * A 6 cpu job does not fit a: firstfit takes b.
 */
static const char three_nodes[] = "{\"nodes\": [{\"name\": \"c\", \"cpu\": 16, \"memory\": \"64Gi\"},"
                                  "{\"name\": \"a\", \"cpu\": 4, \"memory\": \"16Gi\"},"
                                  "{\"name\": \"b\", \"cpu\": 8, \"memory\": \"8Gi\"}]}";

static void test_scores(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(three_nodes);
        ClusterState *s = state_for(c);
        Job j = job(2000, 2 * GI, 0), six = job(6000, GI, 0);

        assert_string_equal(c->nodes[0].name, "a");
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[0], &j, SCHED_POLICY_K8S_LEAST), 68);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[1], &j, SCHED_POLICY_K8S_LEAST), 75);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[2], &j, SCHED_POLICY_K8S_LEAST), 91);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[0], &j, SCHED_POLICY_K8S_MOST), 31);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[1], &j, SCHED_POLICY_K8S_MOST), 25);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[2], &j, SCHED_POLICY_K8S_MOST), 7);
        assert_float_equal(sched_baseline_nomad_score(&s->nodes[0], &j), 9.338780246507062, 1e-9);
        assert_float_equal(sched_baseline_nomad_score(&s->nodes[1], &j), 8.753173496193018, 1e-9);
        assert_float_equal(sched_baseline_nomad_score(&s->nodes[2], &j), 3.195337497378453, 1e-9);

        assert_int_equal(place_node(c, s, &j, SCHED_POLICY_K8S_LEAST), 2);
        assert_int_equal(place_node(c, s, &j, SCHED_POLICY_K8S_MOST), 0);
        assert_int_equal(place_node(c, s, &j, SCHED_POLICY_NOMAD), 0);
        assert_int_equal(place_node(c, s, &j, SCHED_POLICY_FIRSTFIT), 0);
        assert_int_equal(place_node(c, s, &six, SCHED_POLICY_FIRSTFIT), 1);
        sched_cluster_state_free(s);
}

/*
 * A job that fills a node exactly: free 0 and 0, 20 - (1 + 1) = 18, Nomad's cap. On the empty
 * node "a" of three_nodes a 4 cpu + 16Gi job scores 18; k8s-most gives (100 + 100) / 2 = 100 and
 * k8s-least 0.
 */
static void test_full_node(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(three_nodes);
        ClusterState *s = state_for(c);
        Job j = job(4000, 16 * GI, 0);

        assert_float_equal(sched_baseline_nomad_score(&s->nodes[0], &j), 18.0, 1e-12);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[0], &j, SCHED_POLICY_K8S_MOST), 100);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[0], &j, SCHED_POLICY_K8S_LEAST), 0);
        sched_cluster_state_free(s);
}

/*
 * a: 3000m cpu, b: 3001m cpu, both 8Gi. A 1 cpu + 1Gi job: k8s truncates both cpu scores to the
 * same integer (least: 2000 * 100 / 3000 = 66 and 2001 * 100 / 3001 = 66; most: 33 and 33), and
 * memory is equal, so the scores tie and the lower name, a, wins where Kubernetes would pick at
 * random. Nomad's doubles do not tie: a is the fuller, so it wins there too.
 */
static void test_ties(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c =
                cluster_from("{\"nodes\": [{\"name\": \"b\", \"cpu\": \"3001m\", \"memory\": \"8Gi\"},"
                             "{\"name\": \"a\", \"cpu\": \"3000m\", \"memory\": \"8Gi\"}]}");
        ClusterState *s = state_for(c);
        Job j = job(1000, GI, 0);

        assert_int_equal(sched_baseline_k8s_score(&s->nodes[0], &j, SCHED_POLICY_K8S_LEAST),
                         sched_baseline_k8s_score(&s->nodes[1], &j, SCHED_POLICY_K8S_LEAST));
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[0], &j, SCHED_POLICY_K8S_MOST),
                         sched_baseline_k8s_score(&s->nodes[1], &j, SCHED_POLICY_K8S_MOST));
        assert_int_equal(place_node(c, s, &j, SCHED_POLICY_K8S_LEAST), 0);
        assert_int_equal(place_node(c, s, &j, SCHED_POLICY_K8S_MOST), 0);
        assert_int_equal(place_node(c, s, &j, SCHED_POLICY_NOMAD), 0);
        sched_cluster_state_free(s);
}

/*
 * cpu: 16 cpu, 64Gi, no GPUs; gpu: 8 cpu, 32Gi, 4 GPUs g0-g3 (one NVLink domain).
 *
 * A CPU job (2 cpu + 8Gi): Kubernetes skips nvidia.com/gpu for a pod that does not ask for it, so
 * k8s-most sees only cpu and memory: cpu node (12 + 12) / 2 = 12, gpu node (25 + 25) / 2 = 25,
 * and puts the CPU job on the GPU node (berth's binpack counts the idle GPUs as leftover and
 * keeps it on the cpu node). Nomad likewise prefers the fuller gpu node.
 *
 * A 1-GPU job (1 cpu + 1Gi) after 2 GPUs of gpu are taken by a 1 cpu + 1Gi job: only gpu fits; its
 * k8s-most score counts GPUs, (requested 3 of 4): (cpu 2000*100/8000 = 25 + mem 2*100/32 = 6 +
 * gpu 75) / 3 = 35; k8s-least (75 + 93 + 25) / 3 = 64.
 */
static const char cpu_and_gpu[] =
        "{\"nodes\": [{\"name\": \"cpu\", \"cpu\": 16, \"memory\": \"64Gi\"},"
        "{\"name\": \"gpu\", \"cpu\": 8, \"memory\": \"32Gi\", \"gpus\": ["
        "{\"uuid\": \"g0\", \"model\": \"A100\", \"memory\": \"40Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"g1\", \"model\": \"A100\", \"memory\": \"40Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"g2\", \"model\": \"A100\", \"memory\": \"40Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"g3\", \"model\": \"A100\", \"memory\": \"40Gi\", \"nvlink\": 0}]}]}";

static void test_gpu_resource(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(cpu_and_gpu);
        ClusterState *s = state_for(c);
        Job cpu_job = job(2000, 8 * GI, 0), two = job(1000, GI, 2), one = job(1000, GI, 1);
        uint32_t taken[] = {1, 2};
        Placement busy = {.node = 1, .gpus = taken, .n_gpus = 2}, p = {};

        assert_int_equal(sched_baseline_k8s_score(&s->nodes[0], &cpu_job, SCHED_POLICY_K8S_MOST), 12);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[1], &cpu_job, SCHED_POLICY_K8S_MOST), 25);
        assert_int_equal(place_node(c, s, &cpu_job, SCHED_POLICY_K8S_MOST), 1);
        assert_int_equal(place_node(c, s, &cpu_job, SCHED_POLICY_NOMAD), 1);
        assert_int_equal(place_node(c, s, &cpu_job, SCHED_POLICY_K8S_LEAST), 0);
        assert_int_equal(place_node(c, s, &cpu_job, SCHED_POLICY_BINPACK), 0);

        sched_commit(s, &two, &busy, 1);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[1], &one, SCHED_POLICY_K8S_MOST), 35);
        assert_int_equal(sched_baseline_k8s_score(&s->nodes[1], &one, SCHED_POLICY_K8S_LEAST), 64);
        for (SchedPolicy policy = SCHED_POLICY_FIRSTFIT; policy < _SCHED_POLICY_MAX; policy++) {
                /* the lowest free uuids: g0, then g3 */
                assert_int_equal(sched_place(c, s, &one, policy, &p), 0);
                assert_int_equal(p.node, 1);
                assert_int_equal(p.n_gpus, 1);
                assert_int_equal(p.gpus[0], 0);
                sched_placement_done(&p);
                assert_int_equal(sched_place(c, s, &two, policy, &p), 0);
                assert_int_equal(p.gpus[0], 0);
                assert_int_equal(p.gpus[1], 3);
                sched_placement_done(&p);
        }
        sched_cluster_state_free(s);
}

/*
 * Topology-unaware: one node, 8 GPUs g0-g7 in NVLink domains g0-g3 and g4-g7, with g4 and g5
 * taken. berth's binpack gives a 2-GPU job g6, g7 (filling domain 1); every baseline takes the
 * lowest free uuids, g0 and g1, and leaves 4 GPUs fragmented.
 */
static const char eight_gpus[] =
        "{\"nodes\": [{\"name\": \"g\", \"cpu\": 64, \"memory\": \"512Gi\", \"gpus\": ["
        "{\"uuid\": \"g0\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"g1\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"g2\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"g3\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"g4\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "{\"uuid\": \"g5\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "{\"uuid\": \"g6\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "{\"uuid\": \"g7\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1}]}]}";

static void test_topology_unaware(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(eight_gpus);
        ClusterState *s = state_for(c);
        uint32_t taken[] = {4, 5};
        Job two = job(1000, GI, 2), seven = job(1000, GI, 7);
        Placement busy = {.node = 0, .gpus = taken, .n_gpus = 2}, p = {};

        sched_commit(s, &two, &busy, 1);
        assert_int_equal(sched_place(c, s, &two, SCHED_POLICY_BINPACK, &p), 0);
        assert_int_equal(p.gpus[0], 6);
        sched_placement_done(&p);
        for (SchedPolicy policy = SCHED_POLICY_FIRSTFIT; policy < _SCHED_POLICY_MAX; policy++) {
                assert_int_equal(sched_place(c, s, &two, policy, &p), 0);
                assert_int_equal(p.gpus[0], 0);
                assert_int_equal(p.gpus[1], 1);
                sched_commit(s, &two, &p, 2);
                assert_int_equal(sched_node_fragmented_gpus(s, 0), 4);
                sched_release(s, &two, &p);
                sched_placement_done(&p);
                assert_int_equal(sched_place(c, s, &seven, policy, &p), -ENOSPC);
        }
        sched_cluster_state_free(s);
}

/*
 * Filters: b-l4 has L4s (24Gi) and label pool=cpu; a-h100 has H100s (80Gi, uuids h0, h1) and
 * pool=gpu. gpu_model L4 or gpu_memory 40Gi picks one node under every policy; a selector
 * pool=cpu picks b-l4; pool=tpu, a down node, too much cpu or too many GPUs give -ENOSPC.
 */
static const char two_models[] =
        "{\"nodes\": [{\"name\": \"b-l4\", \"cpu\": 8, \"memory\": \"64Gi\", \"labels\": {\"pool\": "
        "\"cpu\"},"
        "\"gpus\": [{\"uuid\": \"l0\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"l1\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1}]},"
        "{\"name\": \"a-h100\", \"cpu\": 8, \"memory\": \"64Gi\", \"labels\": {\"pool\": \"gpu\"},"
        "\"gpus\": [{\"uuid\": \"h1\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "{\"uuid\": \"h0\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0}]}]}";

static void test_filters(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(two_models);
        ClusterState *s = state_for(c);
        Label cpu_pool = {(char *)"pool", (char *)"cpu"}, tpu_pool = {(char *)"pool", (char *)"tpu"};
        Placement p = {};

        for (SchedPolicy policy = SCHED_POLICY_FIRSTFIT; policy < _SCHED_POLICY_MAX; policy++) {
                Job j = job(1000, GI, 1);

                j.gpu_model = (char *)"L4";
                assert_int_equal(place_node(c, s, &j, policy), 1);
                j.gpu_model = NULL;
                j.gpu_memory_bytes = 40 * GI;
                assert_int_equal(sched_place(c, s, &j, policy, &p), 0);
                assert_int_equal(p.node, 0);
                assert_string_equal(c->nodes[0].gpus[p.gpus[0]].uuid, "h0");
                sched_placement_done(&p);
                j.gpu_memory_bytes = 0;
                j.selector = &cpu_pool;
                j.n_selector = 1;
                assert_int_equal(place_node(c, s, &j, policy), 1);
                j.selector = &tpu_pool;
                assert_int_equal(sched_place(c, s, &j, policy, &p), -ENOSPC);
                j.selector = NULL;
                j.n_selector = 0;
                j.n_gpus = 3;
                assert_int_equal(sched_place(c, s, &j, policy, &p), -ENOSPC);
                j.n_gpus = 0;
                j.cpu_millis = 9000;
                assert_int_equal(sched_place(c, s, &j, policy, &p), -ENOSPC);
                j.cpu_millis = 1000;
                s->nodes[0].up = false;
                assert_int_equal(place_node(c, s, &j, policy), 1);
                s->nodes[1].up = false;
                assert_int_equal(sched_place(c, s, &j, policy, &p), -ENOSPC);
                s->nodes[0].up = s->nodes[1].up = true;
        }
        sched_cluster_state_free(s);
}

/*
 * Fill three_nodes (4 + 8 + 16 cpu) with 1 cpu + 1Gi jobs under each baseline: exactly 28 fit
 * (memory 16 + 8 + 64 Gi is not the limit), then -ENOSPC; releasing everything restores the empty
 * state. firstfit fills a, then b, then c, in that order.
 */
static void test_fill(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(three_nodes);
        ClusterState *s = state_for(c);
        Job j = job(1000, GI, 0);

        for (SchedPolicy policy = SCHED_POLICY_FIRSTFIT; policy < _SCHED_POLICY_MAX; policy++) {
                Placement ps[29] = {};
                size_t n = 0;

                while (n < 29 && sched_place(c, s, &j, policy, &ps[n]) == 0) {
                        if (policy == SCHED_POLICY_FIRSTFIT)
                                assert_int_equal(ps[n].node, n < 4 ? 0 : n < 12 ? 1 : 2);
                        sched_commit(s, &j, &ps[n], n);
                        n++;
                }
                assert_int_equal(n, 28);
                for (size_t i = 0; i < n; i++)
                        sched_release(s, &j, &ps[i]);
                for (size_t i = 0; i < c->n_nodes; i++)
                        assert_int_equal(s->nodes[i].free_cpu_millis, s->nodes[i].cpu_millis);
        }
        sched_cluster_state_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_policy_names), cmocka_unit_test(test_scores),
                cmocka_unit_test(test_full_node),    cmocka_unit_test(test_ties),
                cmocka_unit_test(test_gpu_resource), cmocka_unit_test(test_topology_unaware),
                cmocka_unit_test(test_filters),      cmocka_unit_test(test_fill),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
