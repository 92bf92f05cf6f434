/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/strbuf.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/place.h"
#include "sched-test.h"

/*
 * sched_place() answers from the node index; sched_place_scan() looks at every node. They must
 * agree on every query, node and GPUs: that is the whole contract of the index.
 */

/* Both answers for @j under @policy; they must be identical. Returns sched_place()'s result. */
static int place_both(const Cluster *c, const ClusterState *s, const Job *j, SchedPolicy policy,
                      Placement *ret)
{
        Placement a = {}, b = {};
        int ra = sched_place(c, s, j, policy, &a), rb = sched_place_scan(c, s, j, policy, &b);

        assert_int_equal(ra, rb);
        if (ra == 0) {
                assert_int_equal(a.node, b.node);
                assert_int_equal(a.n_gpus, b.n_gpus);
                for (uint32_t g = 0; g < a.n_gpus; g++)
                        assert_int_equal(a.gpus[g], b.gpus[g]);
        }
        sched_placement_done(&b);
        if (ra == 0 && ret)
                *ret = a;
        else
                sched_placement_done(&a);
        return ra;
}

/*
 * Two classes, interleaved in name order: a1 and b2 have 8 cpu and 16Gi, a2 and b1 4 cpu and 8Gi.
 * For 1 cpu + 1Gi on empty nodes the small class scores 2,000,000 - (250,000 + 125,000) =
 * 1,625,000 and the big one 2,000,000 - (125,000 + 62,500) = 1,812,500. binpack takes the lowest
 * score, a2 (index 1); spread scores 3,000,000 minus those (1,375,000 and 1,187,500) and takes
 * the lowest, in the big class: a1 (index 0). With 3 cpu + 1Gi taken on a2, binpack scores it
 * 250,000 + 875,000 - 375,000 = 750,000, still the lowest, and spread 3,000,000 - 1,125,000 +
 * 375,000 = 2,250,000, so spread stays on a1. With a2 down, binpack goes to b1, the other small
 * node.
 */
static void test_classes_and_ties(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c =
                cluster_from("{\"nodes\": [{\"name\": \"a1\", \"cpu\": 8, \"memory\": \"16Gi\"},"
                             "{\"name\": \"b1\", \"cpu\": 4, \"memory\": \"8Gi\"},"
                             "{\"name\": \"a2\", \"cpu\": 4, \"memory\": \"8Gi\"},"
                             "{\"name\": \"b2\", \"cpu\": 8, \"memory\": \"16Gi\"}]}");
        ClusterState *s = state_for(c);
        Job small = job(1000, GI, 0), three = job(3000, GI, 0);
        Placement on_a2 = {.node = 1};

        assert_string_equal(c->nodes[1].name, "a2");
        assert_int_equal(place_node(c, s, &small, SCHED_POLICY_BINPACK), 1);
        assert_int_equal(place_node(c, s, &small, SCHED_POLICY_SPREAD), 0);
        sched_commit(s, &three, &on_a2, 1);
        assert_int_equal(place_node(c, s, &small, SCHED_POLICY_BINPACK), 1);
        /* spread: a2 is now the fullest, a1 still the emptiest */
        assert_int_equal(place_node(c, s, &small, SCHED_POLICY_SPREAD), 0);
        sched_node_set_up(s, 1, false);
        assert_int_equal(place_node(c, s, &small, SCHED_POLICY_BINPACK), 2);
        /* a down node's jobs are released all the same, and it comes back with them gone */
        sched_release(s, &three, &on_a2);
        sched_node_set_up(s, 1, true);
        assert_int_equal(place_node(c, s, &small, SCHED_POLICY_BINPACK), 1);
        sched_cluster_state_free(s);
}

/*
 * Equal scores, decided by fragmentation against the name order, within a class and across two.
 * a and b have 6 GPUs in three NVLink pairs (g0 g1 | g2 g3 | g4 g5); a holds g0 and g2 (two pairs
 * half used: 2 fragmented), b holds g0 and g1 (one pair full: 0). A 2-GPU job fits in one pair on
 * both and the key is the same, but on a it leaves 2 fragmented and on b 0: b, g2 g3.
 * c and d (another class) have 4 GPUs, c as two pairs and d as 1 + 1 + 2; each holds g0. A
 * 2-GPU job on c takes g2 g3 and leaves g1 stranded (1), on d takes g2 g3 and leaves 0: d.
 */
static void test_fragmentation_over_name_order(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(
                "{\"nodes\": ["
                "{\"name\": \"a\", \"cpu\": 8, \"memory\": \"8Gi\", \"gpus\": ["
                "{\"uuid\": \"a0\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"a1\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"a2\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"a3\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"a4\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 2},"
                "{\"uuid\": \"a5\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 2}]},"
                "{\"name\": \"b\", \"cpu\": 8, \"memory\": \"8Gi\", \"gpus\": ["
                "{\"uuid\": \"b0\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"b1\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"b2\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"b3\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"b4\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 2},"
                "{\"uuid\": \"b5\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 2}]},"
                "{\"name\": \"c\", \"cpu\": 8, \"memory\": \"8Gi\", \"gpus\": ["
                "{\"uuid\": \"c0\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"c1\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"c2\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"c3\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1}]},"
                "{\"name\": \"d\", \"cpu\": 8, \"memory\": \"8Gi\", \"gpus\": ["
                "{\"uuid\": \"d0\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"d1\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"d2\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 2},"
                "{\"uuid\": \"d3\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 2}]}]}");
        ClusterState *s = state_for(c);
        Job hold = job(0, 0, 2), hold1 = job(0, 0, 1), two = job(1000, GI, 2);
        Placement p = {}, on_a = {.node = 0, .gpus = (uint32_t[]){0, 2}, .n_gpus = 2},
                  on_b = {.node = 1, .gpus = (uint32_t[]){0, 1}, .n_gpus = 2},
                  on_c = {.node = 2, .gpus = (uint32_t[]){0}, .n_gpus = 1},
                  on_d = {.node = 3, .gpus = (uint32_t[]){0}, .n_gpus = 1};

        sched_commit(s, &hold, &on_a, 1);
        sched_commit(s, &hold, &on_b, 2);
        sched_commit(s, &hold1, &on_c, 3);
        sched_commit(s, &hold1, &on_d, 4);
        assert_int_equal(sched_node_fragmented_gpus(s, 0), 2);
        assert_int_equal(sched_node_fragmented_gpus(s, 1), 0);
        for (int policy = SCHED_POLICY_BINPACK; policy <= SCHED_POLICY_SPREAD; policy++) {
                two.gpu_model = (char *)"H100";
                assert_int_equal(place_both(c, s, &two, policy, &p), 0);
                assert_int_equal(p.node, 1);
                assert_int_equal(p.gpus[0], 2);
                assert_int_equal(p.gpus[1], 3);
                sched_placement_done(&p);
                two.gpu_model = (char *)"L4";
                assert_int_equal(place_both(c, s, &two, policy, &p), 0);
                assert_int_equal(p.node, 3);
                assert_int_equal(p.gpus[0], 2);
                assert_int_equal(p.gpus[1], 3);
                sched_placement_done(&p);
        }
        sched_cluster_state_free(s);
}

/*
 * The trees GPU jobs use order a class's nodes by GPU signature before key and index; CPU jobs
 * must not see that order. n0, n1, n2 have 4 GPUs in two NVLink pairs and 2 of them free: n0 has
 * pair 1 free, n1 pair 0, n2 one of each. A CPU job scores the same on all three and must go to
 * n0 under binpack and spread, whatever order the signatures put them in.
 */
static void test_signature_order(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = NULL;
        StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *text = NULL;
        ClusterState *s;
        Job hold = job(0, 0, 2), cpu_job = job(1000, GI, 0);
        Placement on[3] = {
                {.node = 0, .gpus = (uint32_t[]){0, 1}, .n_gpus = 2},
                {.node = 1, .gpus = (uint32_t[]){2, 3}, .n_gpus = 2},
                {.node = 2, .gpus = (uint32_t[]){0, 2}, .n_gpus = 2},
        };

        strbuf_puts(&b, "{\"nodes\": [");
        for (unsigned i = 0; i < 3; i++) {
                strbuf_printf(&b, "%s{\"name\": \"n%u\", \"cpu\": 8, \"memory\": \"8Gi\", \"gpus\": [",
                              i ? "," : "", i);
                for (unsigned g = 0; g < 4; g++)
                        strbuf_printf(&b,
                                      "%s{\"uuid\": \"u%u-%u\", \"model\": \"L4\", \"memory\": \"24Gi\", "
                                      "\"nvlink\": %u}",
                                      g ? "," : "", i, g, g / 2);
                strbuf_puts(&b, "]}");
        }
        strbuf_puts(&b, "]}");
        text = strbuf_steal(&b);
        assert_non_null(text);
        c = cluster_from(text);
        s = state_for(c);
        for (unsigned i = 0; i < 3; i++)
                sched_commit(s, &hold, &on[i], i + 1);
        assert_int_equal(place_node(c, s, &cpu_job, SCHED_POLICY_BINPACK), 0);
        assert_int_equal(place_node(c, s, &cpu_job, SCHED_POLICY_SPREAD), 0);
        /* and with n0 down, n1 */
        sched_node_set_up(s, 0, false);
        assert_int_equal(place_node(c, s, &cpu_job, SCHED_POLICY_BINPACK), 1);
        sched_cluster_state_free(s);
}

/*
 * One class whose nodes mix models: g0 g1 are A100 (pair 0), g2 g3 H100 (pair 1). Every node has
 * 4 GPUs free, so the count alone passes the index, and a job for 2 H100 must still skip the
 * nodes where the H100 are taken: n0 holds g2 g3, n1 holds g0 g1, so n1 for binpack and spread.
 */
static void test_mixed_models_in_class(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_from(
                "{\"nodes\": ["
                "{\"name\": \"n0\", \"cpu\": 8, \"memory\": \"8Gi\", \"gpus\": ["
                "{\"uuid\": \"g0\", \"model\": \"A100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"g1\", \"model\": \"A100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"g2\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"g3\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1}]},"
                "{\"name\": \"n1\", \"cpu\": 8, \"memory\": \"8Gi\", \"gpus\": ["
                "{\"uuid\": \"h0\", \"model\": \"A100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"h1\", \"model\": \"A100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
                "{\"uuid\": \"h2\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
                "{\"uuid\": \"h3\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1}]}]}");
        ClusterState *s = state_for(c);
        Job hold = job(0, 0, 2), two = job(0, 0, 2);
        Placement p = {}, on_n0 = {.node = 0, .gpus = (uint32_t[]){2, 3}, .n_gpus = 2},
                  on_n1 = {.node = 1, .gpus = (uint32_t[]){0, 1}, .n_gpus = 2};

        sched_commit(s, &hold, &on_n0, 1);
        sched_commit(s, &hold, &on_n1, 2);
        two.gpu_model = (char *)"H100";
        for (int policy = SCHED_POLICY_BINPACK; policy <= SCHED_POLICY_SPREAD; policy++) {
                assert_int_equal(place_both(c, s, &two, policy, &p), 0);
                assert_int_equal(p.node, 1);
                assert_int_equal(p.gpus[0], 2);
                sched_placement_done(&p);
        }
        sched_release(s, &hold, &on_n1);
        sched_commit(s, &hold, &(Placement){.node = 1, .gpus = (uint32_t[]){2, 3}, .n_gpus = 2}, 3);
        assert_int_equal(place_both(c, s, &two, SCHED_POLICY_BINPACK, &p), -ENOSPC);
        sched_cluster_state_free(s);
}

/* splitmix64: a fixed generator, so the seed alone decides every cluster and job. */
static uint64_t rng_next(uint64_t *x)
{
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *x, uint32_t bound)
{
        return (uint32_t)(rng_next(x) % bound);
}

typedef struct NodeKind {
        uint64_t cpu_millis;
        uint64_t memory_mi;
        unsigned n_gpus;
        int nvlink[8];
        bool h100[8];
        bool big_memory[8]; /* 80Gi, else 40Gi */
        char pool, zone;    /* zone 0: no zone label */
} NodeKind;

static void node_kind_random(uint64_t *x, NodeKind *k)
{
        static const uint64_t cpus[] = {4000, 8000, 16000}, memories[] = {8192, 16384, 32768};
        static const unsigned gpu_counts[] = {0, 0, 2, 4, 8};
        bool mixed = rng_below(x, 4) == 0, h100 = rng_below(x, 2), big = rng_below(x, 3) > 0;
        uint32_t layout = rng_below(x, 4);

        *k = (NodeKind){
                .cpu_millis = rng_below(x, 4) ? cpus[rng_below(x, 3)] : 1000 + rng_below(x, 16000),
                .memory_mi = rng_below(x, 4) ? memories[rng_below(x, 3)] : 1024 + rng_below(x, 32768),
                .n_gpus = gpu_counts[rng_below(x, 5)],
                .pool = rng_below(x, 2) ? 'x' : 'y',
                .zone = "\0ab"[rng_below(x, 3)],
        };
        for (unsigned g = 0; g < k->n_gpus; g++) {
                /* whole node, pairs, fours, or domains of uneven size */
                k->nvlink[g] = layout == 0   ? 0
                               : layout == 1 ? (int)g / 2
                               : layout == 2 ? (int)g / 4
                                             : (int)rng_below(x, 3);
                k->h100[g] = mixed ? rng_below(x, 2) : h100;
                k->big_memory[g] = rng_below(x, 8) ? big : !big;
        }
}

static void node_kind_json(StrBuf *b, const NodeKind *k, unsigned i)
{
        strbuf_printf(b, "%s{\"name\": \"n%03u\", \"cpu\": \"%" PRIu64 "m\", \"memory\": \"%" PRIu64 "Mi\"",
                      i ? "," : "", i, k->cpu_millis, k->memory_mi);
        strbuf_printf(b, ", \"labels\": {\"pool\": \"%c\"", k->pool);
        if (k->zone)
                strbuf_printf(b, ", \"zone\": \"%c\"", k->zone);
        strbuf_puts(b, "}, \"gpus\": [");
        for (unsigned g = 0; g < k->n_gpus; g++)
                strbuf_printf(b,
                              "%s{\"uuid\": \"u%03u-%u\", \"model\": \"%s\", \"memory\": \"%uGi\", "
                              "\"nvlink\": %d}",
                              g ? "," : "", i, g, k->h100[g] ? "H100" : "A100", k->big_memory[g] ? 80 : 40,
                              k->nvlink[g]);
        strbuf_puts(b, "]}");
}

/* 1 to 200 nodes, either drawn from a few kinds (realistic: big classes with ties) or each its
 * own kind (every class a single node). */
static Cluster *random_cluster(uint64_t *x, unsigned n_nodes, bool unique)
{
        StrBuf b = STRBUF_INIT;
        NodeKind kinds[4];
        unsigned n_kinds = 1 + rng_below(x, 4);
        Cluster *c;
        char *text;

        for (unsigned i = 0; i < n_kinds; i++)
                node_kind_random(x, &kinds[i]);
        strbuf_puts(&b, "{\"nodes\": [");
        for (unsigned i = 0; i < n_nodes; i++) {
                NodeKind k;

                if (unique)
                        node_kind_random(x, &k);
                else
                        k = kinds[rng_below(x, n_kinds)];
                node_kind_json(&b, &k, i);
        }
        strbuf_puts(&b, "]}");
        text = strbuf_steal(&b);
        assert_non_null(text);
        c = cluster_from(text);
        free(text);
        return c;
}

/* Round sizes, so that many nodes end up with equal keys and the ties are exercised. */
static Job random_job(uint64_t *x)
{
        static Label pool_x[] = {{(char *)"pool", (char *)"x"}}, zone_b[] = {{(char *)"zone", (char *)"b"}},
                     pool_y_zone_a[] = {{(char *)"pool", (char *)"y"}, {(char *)"zone", (char *)"a"}};
        static const uint64_t cpus[] = {0, 500, 1000, 2000, 4000},
                              memories_mi[] = {0, 512, 1024, 4096, 8192};
        static const uint32_t gpu_counts[] = {0, 0, 0, 0, 1, 1, 2, 3, 4, 8};
        Job j = job(rng_below(x, 6) ? cpus[rng_below(x, 5)] : rng_below(x, 9000),
                    (rng_below(x, 6) ? memories_mi[rng_below(x, 5)] : rng_below(x, 10000)) * MI,
                    gpu_counts[rng_below(x, 10)]);
        uint32_t sel = rng_below(x, 20);

        if (j.n_gpus > 0 && rng_below(x, 4) == 0)
                j.gpu_model = (char *)(rng_below(x, 2) ? "A100" : "H100");
        if (j.n_gpus > 0 && rng_below(x, 5) == 0)
                j.gpu_memory_bytes = 60 * GI;
        if (sel < 3) {
                j.selector = sel == 0 ? pool_x : sel == 1 ? zone_b : pool_y_zone_a;
                j.n_selector = sel == 2 ? 2 : 1;
        }
        return j;
}

/*
 * Nodes with 66 GPUs in 33 NVLink pairs: too many to sum up in a 64-bit signature, so the index
 * walks the class node by node in key order there. First by hand: n0 holds g0 and g2 (two half
 * pairs, 2 fragmented), n1 g0 and g1 (a full pair, 0); same key. A 2-GPU job takes a free pair on
 * either, leaving 2 fragmented on n0 and 0 on n1: n1, although it comes later. The empty nodes
 * n2-n4 leave 0 too (a whole free pair) but score worse under binpack; under spread they score
 * better, so n1 only once they are down. Then random GPU jobs against the scan, as in the big
 * test.
 */
static void test_many_gpus(void **state)
{
        StrBuf b = STRBUF_INIT;
        _cleanup_(sched_cluster_freep) Cluster *c = NULL;
        _cleanup_free_ char *text = NULL;
        Placement held[64] = {};
        Job jobs[64];
        uint64_t x = 66;
        size_t n_held = 0;
        ClusterState *s;

        strbuf_puts(&b, "{\"nodes\": [");
        for (unsigned i = 0; i < 5; i++) {
                strbuf_printf(&b, "%s{\"name\": \"n%u\", \"cpu\": 64, \"memory\": \"64Gi\", \"gpus\": [",
                              i ? "," : "", i);
                for (unsigned g = 0; g < 66; g++)
                        strbuf_printf(&b,
                                      "%s{\"uuid\": \"u%u-%02u\", \"model\": \"H100\", \"memory\": "
                                      "\"80Gi\", \"nvlink\": %u}",
                                      g ? "," : "", i, g, g / 2);
                strbuf_puts(&b, "]}");
        }
        strbuf_puts(&b, "]}");
        text = strbuf_steal(&b);
        assert_non_null(text);
        c = cluster_from(text);
        s = state_for(c);
        jobs[0] = jobs[1] = job(0, 0, 2);
        held[0] = (Placement){.node = 0, .gpus = (uint32_t *)calloc(2, sizeof(uint32_t)), .n_gpus = 2};
        held[1] = (Placement){.node = 1, .gpus = (uint32_t *)calloc(2, sizeof(uint32_t)), .n_gpus = 2};
        assert_non_null(held[0].gpus);
        assert_non_null(held[1].gpus);
        held[0].gpus[1] = 2;
        held[1].gpus[1] = 1;
        sched_commit(s, &jobs[0], &held[0], 0);
        sched_commit(s, &jobs[1], &held[1], 1);
        n_held = 2;
        assert_int_equal(place_node(c, s, &jobs[0], SCHED_POLICY_BINPACK), 1);
        /* spread prefers the empty nodes, unless they are down */
        for (size_t i = 2; i < 5; i++)
                sched_node_set_up(s, i, false);
        assert_int_equal(place_node(c, s, &jobs[0], SCHED_POLICY_SPREAD), 1);
        for (size_t i = 2; i < 5; i++)
                sched_node_set_up(s, i, true);
        for (unsigned step = 0; step < 1000; step++) {
                if (n_held == 64 || (n_held > 0 && rng_below(&x, 3) == 0)) {
                        size_t r = rng_below(&x, (uint32_t)n_held);

                        sched_release(s, &jobs[r], &held[r]);
                        sched_placement_done(&held[r]);
                        held[r] = held[--n_held];
                        jobs[r] = jobs[n_held];
                } else {
                        /* no cpu or memory: only the GPUs set keys apart, so they tie often */
                        Job j = job(0, 0, 1 + rng_below(&x, 3));
                        SchedPolicy policy = rng_below(&x, 2) ? SCHED_POLICY_BINPACK : SCHED_POLICY_SPREAD;
                        Placement p = {};

                        (void)place_both(c, s, &j,
                                         policy == SCHED_POLICY_BINPACK ? SCHED_POLICY_SPREAD
                                                                        : SCHED_POLICY_BINPACK,
                                         NULL);
                        if (place_both(c, s, &j, policy, &p) < 0)
                                continue;
                        sched_commit(s, &j, &p, step);
                        jobs[n_held] = j;
                        held[n_held++] = p;
                }
        }
        while (n_held > 0) {
                n_held--;
                sched_release(s, &jobs[n_held], &held[n_held]);
                sched_placement_done(&held[n_held]);
        }
        sched_cluster_state_free(s);
}

typedef struct Running {
        Job job;
        Placement placement;
} Running;

static unsigned n_compared, n_placed, n_nospace;

/* A random run on one cluster: place and commit, release, node down and up, and every placement
 * asked of both policies, each answer checked against the scan. Ends with everything released
 * and every node up: the index must then be as fresh. */
static void cross_check_cluster(uint64_t *x, unsigned n_nodes, bool unique)
{
        _cleanup_(sched_cluster_freep) Cluster *c = random_cluster(x, n_nodes, unique);
        ClusterState *s = state_for(c);
        unsigned steps = 2 * n_nodes + 20;
        _cleanup_free_ Running *run = calloc(steps, sizeof(Running));
        size_t n_run = 0;
        Job probe = job(0, 0, 0);
        size_t first_cpu_node = 0;

        assert_non_null(run);
        for (unsigned step = 0; step < steps; step++) {
                uint32_t what = rng_below(x, 20);

                if (what < 5 && n_run > 0) {
                        size_t r = rng_below(x, (uint32_t)n_run);

                        sched_release(s, &run[r].job, &run[r].placement);
                        sched_placement_done(&run[r].placement);
                        run[r] = run[--n_run];
                } else if (what < 7) {
                        size_t i = rng_below(x, (uint32_t)c->n_nodes);

                        sched_node_set_up(s, i, !s->nodes[i].up);
                } else {
                        Job j = random_job(x);
                        SchedPolicy commit_policy =
                                rng_below(x, 2) ? SCHED_POLICY_BINPACK : SCHED_POLICY_SPREAD;
                        Placement p = {};
                        int r;

                        for (int policy = SCHED_POLICY_BINPACK; policy <= SCHED_POLICY_SPREAD; policy++)
                                if (policy != (int)commit_policy) {
                                        (void)place_both(c, s, &j, policy, NULL);
                                        n_compared++;
                                }
                        r = place_both(c, s, &j, commit_policy, &p);
                        n_compared++;
                        if (r == -ENOSPC) {
                                n_nospace++;
                                continue;
                        }
                        assert_int_equal(r, 0);
                        n_placed++;
                        sched_commit(s, &j, &p, step);
                        run[n_run++] = (Running){.job = j, .placement = p};
                }
        }
        while (n_run > 0) {
                n_run--;
                sched_release(s, &run[n_run].job, &run[n_run].placement);
                sched_placement_done(&run[n_run].placement);
        }
        for (size_t i = 0; i < c->n_nodes; i++)
                sched_node_set_up(s, i, true);
        /* all free and up again, every node scores as when empty: an empty job spreads to the
         * first node, and binpacks to the first without GPUs (free GPUs count as leftover) */
        for (size_t i = c->n_nodes; i-- > 0;)
                if (c->nodes[i].n_gpus == 0)
                        first_cpu_node = i;
        assert_int_equal(place_node(c, s, &probe, SCHED_POLICY_SPREAD), 0);
        assert_int_equal(place_node(c, s, &probe, SCHED_POLICY_BINPACK), first_cpu_node);
        sched_cluster_state_free(s);
}

/* Thousands of clusters, most small (where the edge cases are dense), a quarter up to 200 nodes,
 * half drawn from a few classes and half all unique. */
static void test_cross_check(void **state)
{
        uint64_t x = 20261125;

        for (unsigned i = 0; i < 2000; i++) {
                unsigned n_nodes = 1 + (i % 4 == 0 ? rng_below(&x, 200) : rng_below(&x, 24));

                cross_check_cluster(&x, n_nodes, i % 2 == 1);
        }
        print_message("compared %u, placed %u, no space %u\n", n_compared, n_placed, n_nospace);
        /* worth something only when both outcomes are common */
        assert_true(n_placed > 10000 && n_nospace > 10000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_classes_and_ties),
                cmocka_unit_test(test_fragmentation_over_name_order),
                cmocka_unit_test(test_signature_order),
                cmocka_unit_test(test_mixed_models_in_class),
                cmocka_unit_test(test_many_gpus),
                cmocka_unit_test(test_cross_check),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
