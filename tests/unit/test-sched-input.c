/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/quantity.h"

#define KI UINT64_C(1024)
#define MI (KI * 1024)
#define GI (MI * 1024)

typedef struct QuantityCase {
        const char *text;
        uint64_t value;
} QuantityCase;

typedef struct ErrorCase {
        const char *text;
        const char *message;
} ErrorCase;

static void test_quantity_cpu(void **state)
{
        static const QuantityCase cases[] = {
                {"2", 2000},      {"500m", 500},
                {"0.5", 500},     {"1.5", 1500},
                {"0.001", 1},     {"100m", 100},
                {"0", 0},         {"0m", 0},
                {".5", 500},      {"5.", 5000},
                {"+1", 1000},     {"1k", 1000000},
                {"1e3", 1000000}, {"1E3", 1000000},
                {"25e-3", 25},    {"2.000000000000000000000000000000", 2000},
                {"0.0010", 1},    {"18446744073709551615m", UINT64_MAX},
                {"007", 7000},    {"1e-3", 1},
                {"0e-99", 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                BerthError err = {};
                uint64_t v = 12345;
                int r = sched_quantity_parse_cpu(cases[i].text, &v, &err);
                if (r < 0)
                        fail_msg("%s: %s", cases[i].text, err.msg);
                if (v != cases[i].value)
                        fail_msg("%s: %" PRIu64 " != %" PRIu64, cases[i].text, v, cases[i].value);
        }
}

static void test_quantity_memory(void **state)
{
        static const QuantityCase cases[] = {
                {"4Gi", 4 * GI},
                {"512Mi", 512 * MI},
                {"1G", 1000000000},
                {"100M", 100000000},
                {"1e3", 1000},
                {"1024", 1024},
                {"1.5Gi", 1610612736},
                {"0.5Ki", 512},
                {"1Ki", 1024},
                {"2Ti", 2 * GI * 1024},
                {"1Pi", GI * MI},
                {"15Ei", 15 * GI * GI},
                {"15.5Ei", 15 * GI * GI + GI * GI / 2},
                {"1E", UINT64_C(1000000000000000000)},
                {"1k", 1000},
                {"1000m", 1},
                {"10e-1", 1},
                {"18446744073709551615", UINT64_MAX},
                {"1.000000000000000000000000Gi", GI},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                BerthError err = {};
                uint64_t v = 12345;
                int r = sched_quantity_parse_memory(cases[i].text, &v, &err);
                if (r < 0)
                        fail_msg("%s: %s", cases[i].text, err.msg);
                if (v != cases[i].value)
                        fail_msg("%s: %" PRIu64 " != %" PRIu64, cases[i].text, v, cases[i].value);
        }
}

#define NOT_A_QUANTITY                                                                                      \
        "not a quantity (expected a number with an optional suffix such as m, k, M, G, Ki, Mi, Gi)"

static void test_quantity_errors(void **state)
{
        static const ErrorCase memory[] = {
                {"", "empty quantity"},
                {"-1", "\"-1\": negative quantity"},
                {"-0.5Gi", "\"-0.5Gi\": negative quantity"},
                {"abc", "\"abc\": " NOT_A_QUANTITY},
                {".", "\".\": " NOT_A_QUANTITY},
                {" 1", "\" 1\": " NOT_A_QUANTITY},
                {"Gi", "\"Gi\": " NOT_A_QUANTITY},
                {"4GB", "\"4GB\": unknown suffix \"GB\""},
                {"4gi", "\"4gi\": unknown suffix \"gi\""},
                {"1 ", "\"1 \": unknown suffix \" \""},
                {"1.2.3", "\"1.2.3\": unknown suffix \".3\""},
                {"1e", "\"1e\": unknown suffix \"e\""},
                {"1e3Gi", "\"1e3Gi\": unknown suffix \"e3Gi\""},
                {"18446744073709551616",
                 "\"18446744073709551616\": too large (over 18446744073709551615 bytes)"},
                {"16Ei", "\"16Ei\": too large (over 18446744073709551615 bytes)"},
                {"1e20", "\"1e20\": too large (over 18446744073709551615 bytes)"},
                {"1e99999", "\"1e99999\": too large (over 18446744073709551615 bytes)"},
                {"99999999999999999999999999999999Ki",
                 "\"99999999999999999999999999999999Ki\": too large (over 18446744073709551615 bytes)"},
                {"1.5", "\"1.5\": not a whole number of bytes"},
                {"100m", "\"100m\": not a whole number of bytes"},
                {"0.3Ki", "\"0.3Ki\": not a whole number of bytes"},
                {"1e-99", "\"1e-99\": not a whole number of bytes"},
        };
        static const ErrorCase cpu[] = {
                {"0.0001", "\"0.0001\": not a whole number of millicores"},
                {"1.5m", "\"1.5m\": not a whole number of millicores"},
                {"18446744073709552",
                 "\"18446744073709552\": too large (over 18446744073709551615 millicores)"},
                {"-500m", "\"-500m\": negative quantity"},
                {"2cores", "\"2cores\": unknown suffix \"cores\""},
        };

        for (size_t i = 0; i < ELEMENTSOF(memory); i++) {
                BerthError err = {};
                uint64_t v = 7;
                int r = sched_quantity_parse_memory(memory[i].text, &v, &err);
                if (r >= 0)
                        fail_msg("%s: accepted as %" PRIu64, memory[i].text, v);
                assert_int_equal(v, 7);
                assert_int_equal(err.code, r);
                assert_string_equal(err.msg, memory[i].message);
        }
        for (size_t i = 0; i < ELEMENTSOF(cpu); i++) {
                BerthError err = {};
                uint64_t v = 7;
                if (sched_quantity_parse_cpu(cpu[i].text, &v, &err) >= 0)
                        fail_msg("%s: accepted as %" PRIu64, cpu[i].text, v);
                assert_string_equal(err.msg, cpu[i].message);
        }
        /* Overflow is -ERANGE, everything else -EINVAL. */
        uint64_t v;
        assert_int_equal(sched_quantity_parse_memory("16Ei", &v, NULL), -ERANGE);
        assert_int_equal(sched_quantity_parse_memory("4GB", &v, NULL), -EINVAL);
        assert_int_equal(sched_quantity_parse_memory(NULL, &v, NULL), -EINVAL);
}

static int quantity_json(const char *json, bool millis, uint64_t *ret, BerthError *err)
{
        struct json_object *o = json_tokener_parse(json);
        int r;

        assert_non_null(o);
        r = sched_quantity_from_json(json_object_array_get_idx(o, 0), millis, ret, err);
        json_object_put(o);
        return r;
}

static void test_quantity_json(void **state)
{
        BerthError err = {};
        uint64_t v;

        assert_int_equal(quantity_json("[2]", true, &v, NULL), 0);
        assert_int_equal(v, 2000);
        assert_int_equal(quantity_json("[0.5]", true, &v, NULL), 0);
        assert_int_equal(v, 500);
        assert_int_equal(quantity_json("[0.1]", true, &v, NULL), 0); /* exact, not 0.1000000000000000055 */
        assert_int_equal(v, 100);
        assert_int_equal(quantity_json("[1e3]", false, &v, NULL), 0);
        assert_int_equal(v, 1000);
        assert_int_equal(quantity_json("[4294967296]", false, &v, NULL), 0);
        assert_int_equal(v, UINT64_C(4294967296));
        assert_int_equal(quantity_json("[\"4Gi\"]", false, &v, NULL), 0);
        assert_int_equal(v, 4 * GI);

        assert_int_equal(quantity_json("[-3]", false, &v, &err), -EINVAL);
        assert_string_equal(err.msg, "-3: negative quantity");
        err = (BerthError){};
        assert_int_equal(quantity_json("[99999999999999999999999]", false, &v, &err), -ERANGE);
        assert_string_equal(err.msg, "18446744073709551615: too large");
        err = (BerthError){};
        assert_int_equal(quantity_json("[true]", false, &v, &err), -EINVAL);
        assert_string_equal(err.msg, "must be a quantity (a string such as \"4Gi\" or a number)");
        err = (BerthError){};
        assert_int_equal(quantity_json("[1.5]", false, &v, &err), -EINVAL);
        assert_string_equal(err.msg, "\"1.5\": not a whole number of bytes");
}

/* Three nodes (0, 4 and 8 GPUs), written in canonical order. */
static const char cluster_sorted[] =
        "{\"nodes\": ["
        " {\"name\": \"cpu-1\", \"cpu\": \"16\", \"memory\": \"64Gi\", \"labels\": {\"pool\": \"cpu\", "
        "\"zone\": \"a\"}},"
        " {\"name\": \"gpu-4\", \"cpu\": 32, \"memory\": \"256Gi\", \"labels\": {\"pool\": \"gpu\"},"
        "  \"gpus\": [{\"uuid\": \"GPU-40\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-41\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-42\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-43\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1}]},"
        " {\"name\": \"gpu-8\", \"cpu\": \"96500m\", \"memory\": 1099511627776,"
        "  \"labels\": {\"pool\": \"gpu\", \"rack\": \"r1\", \"zone\": \"b\"},"
        "  \"gpus\": [{\"uuid\": \"GPU-80\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-81\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-82\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-83\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-84\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-85\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-86\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-87\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1}]}]}";

/* The same cluster with nodes, GPUs and labels shuffled, and quantities written otherwise. */
static const char cluster_shuffled[] =
        "{\"nodes\": ["
        " {\"labels\": {\"zone\": \"b\", \"rack\": \"r1\", \"pool\": \"gpu\"}, \"name\": \"gpu-8\","
        "  \"gpus\": [{\"uuid\": \"GPU-86\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-81\", \"model\": \"H100\", \"memory\": \"81920Mi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-87\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-83\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "            {\"nvlink\": 0, \"memory\": 85899345920, \"model\": \"H100\", \"uuid\": \"GPU-80\"},"
        "            {\"uuid\": \"GPU-85\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-82\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-84\", \"model\": \"H100\", \"memory\": \"80Gi\", \"nvlink\": 1}],"
        "  \"cpu\": 96.5, \"memory\": \"1Ti\"},"
        " {\"name\": \"gpu-4\", \"cpu\": \"32000m\", \"memory\": \"256Gi\", \"labels\": {\"pool\": \"gpu\"},"
        "  \"gpus\": [{\"uuid\": \"GPU-43\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-41\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0},"
        "            {\"uuid\": \"GPU-42\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 1},"
        "            {\"uuid\": \"GPU-40\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0}]},"
        " {\"name\": \"cpu-1\", \"cpu\": \"16\", \"memory\": \"64Gi\", \"gpus\": [],"
        "  \"labels\": {\"zone\": \"a\", \"pool\": \"cpu\"}}]}";

static Cluster *cluster_parse_ok(const char *text)
{
        BerthError err = {};
        Cluster *c = NULL;

        if (sched_cluster_parse(text, &c, &err) < 0)
                fail_msg("cluster refused: %s", err.msg);
        assert_non_null(c);
        return c;
}

static void cluster_assert_equal(const Cluster *a, const Cluster *b)
{
        assert_int_equal(a->n_nodes, b->n_nodes);
        for (size_t i = 0; i < a->n_nodes; i++) {
                const Node *x = &a->nodes[i], *y = &b->nodes[i];
                assert_string_equal(x->name, y->name);
                assert_int_equal(x->cpu_millis, y->cpu_millis);
                assert_int_equal(x->memory_bytes, y->memory_bytes);
                assert_int_equal(x->n_gpus, y->n_gpus);
                for (size_t g = 0; g < x->n_gpus; g++) {
                        assert_string_equal(x->gpus[g].uuid, y->gpus[g].uuid);
                        assert_string_equal(x->gpus[g].model, y->gpus[g].model);
                        assert_int_equal(x->gpus[g].memory_bytes, y->gpus[g].memory_bytes);
                        assert_int_equal(x->gpus[g].nvlink, y->gpus[g].nvlink);
                }
                assert_int_equal(x->n_labels, y->n_labels);
                for (size_t l = 0; l < x->n_labels; l++) {
                        assert_string_equal(x->labels[l].key, y->labels[l].key);
                        assert_string_equal(x->labels[l].value, y->labels[l].value);
                }
        }
}

static void test_cluster_parse(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_parse_ok(cluster_sorted);

        assert_int_equal(c->n_nodes, 3);
        assert_string_equal(c->nodes[0].name, "cpu-1");
        assert_int_equal(c->nodes[0].cpu_millis, 16000);
        assert_int_equal(c->nodes[0].memory_bytes, 64 * GI);
        assert_int_equal(c->nodes[0].n_gpus, 0);
        assert_int_equal(c->nodes[0].n_labels, 2);
        assert_string_equal(c->nodes[1].name, "gpu-4");
        assert_int_equal(c->nodes[1].cpu_millis, 32000);
        assert_int_equal(c->nodes[1].n_gpus, 4);
        assert_string_equal(c->nodes[1].gpus[3].uuid, "GPU-43");
        assert_string_equal(c->nodes[1].gpus[3].model, "L4");
        assert_int_equal(c->nodes[1].gpus[3].memory_bytes, 24 * GI);
        assert_int_equal(c->nodes[1].gpus[3].nvlink, 1);
        assert_int_equal(c->nodes[2].cpu_millis, 96500);
        assert_int_equal(c->nodes[2].memory_bytes, 1024 * GI);
        assert_int_equal(c->nodes[2].n_gpus, 8);
        assert_string_equal(c->nodes[2].labels[1].key, "rack");

        assert_non_null(sched_cluster_find_node(c, "gpu-8"));
        assert_ptr_equal(sched_cluster_find_node(c, "gpu-8"), &c->nodes[2]);
        assert_null(sched_cluster_find_node(c, "gpu-9"));
        assert_string_equal(sched_labels_find(c->nodes[2].labels, c->nodes[2].n_labels, "zone"), "b");
        assert_null(sched_labels_find(c->nodes[2].labels, c->nodes[2].n_labels, "colour"));
        assert_null(sched_labels_find(NULL, 0, "zone"));
}

static void test_cluster_canonical(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *a = cluster_parse_ok(cluster_sorted);
        _cleanup_(sched_cluster_freep) Cluster *b = cluster_parse_ok(cluster_shuffled);

        cluster_assert_equal(a, b);
        /* Byte order, not locale order: "B" < "a". */
        _cleanup_(sched_cluster_freep) Cluster *c =
                cluster_parse_ok("{\"nodes\": [{\"name\": \"a\", \"cpu\": 1, \"memory\": 1}, {\"name\": "
                                 "\"B\", \"cpu\": 1, \"memory\": 1},"
                                 " {\"name\": \"a0\", \"cpu\": 1, \"memory\": 1}, {\"name\": \"A\", "
                                 "\"cpu\": 1, \"memory\": 1}]}");
        assert_string_equal(c->nodes[0].name, "A");
        assert_string_equal(c->nodes[1].name, "B");
        assert_string_equal(c->nodes[2].name, "a");
        assert_string_equal(c->nodes[3].name, "a0");
}

#define N1   "{\"name\": \"n1\", \"cpu\": 1, \"memory\": \"1Gi\""
#define G(u) "{\"uuid\": \"" u "\", \"model\": \"L4\", \"memory\": \"24Gi\", \"nvlink\": 0}"

static void test_cluster_errors(void **state)
{
        static const ErrorCase cases[] = {
                {"", "not valid JSON at byte 0: unexpected end of data"},
                {"{\"nodes\": [", "not valid JSON at byte 11: unexpected end of data"},
                {"{\"nodes\": []} x", "not valid JSON at byte 14: unexpected character"},
                {"{\"nodes\": ['a']}", "not valid JSON at byte 11: unexpected character"},
                {"{\"nodes\": [{\"name\": \"n\", \"cpu\": NaN, \"memory\": 1}]}",
                 "nodes[0].cpu: \"NaN\": " NOT_A_QUANTITY},
                {"[]", "must be an object"},
                {"{}", "nodes: missing"},
                {"{\"nodes\": []}", "nodes: must be a non-empty array"},
                {"{\"nodes\": {}}", "nodes: must be a non-empty array"},
                {"{\"nodes\": [" N1 "}], \"version\": 2}", "version: unknown field"},
                {"{\"nodes\": [" N1 ", \"colour\": \"red\"}]}", "nodes[0].colour: unknown field"},
                {"{\"nodes\": [" N1 "}, " N1 ", \"memory\": 2}]}", "nodes[1].memory: duplicate key"},
                {"{\"nodes\": [" N1 ", \"labels\": {\"a\": \"1\", \"a\": \"2\"}}]}",
                 "nodes[0].labels.a: duplicate key"},
                {"{\"nodes\": [" N1 "}], \"nodes\": [" N1 "}]}", "nodes: duplicate key"},
                {"{\"nodes\": [" N1 "}, 3]}", "nodes[1]: must be an object"},
                {"{\"nodes\": [{\"cpu\": 1, \"memory\": 1}]}", "nodes[0].name: missing"},
                {"{\"nodes\": [{\"name\": \"\", \"cpu\": 1, \"memory\": 1}]}",
                 "nodes[0].name: must not be empty"},
                {"{\"nodes\": [{\"name\": 5, \"cpu\": 1, \"memory\": 1}]}",
                 "nodes[0].name: must be a string"},
                {"{\"nodes\": [{\"name\": \"n\", \"memory\": 1}]}", "nodes[0].cpu: missing"},
                {"{\"nodes\": [{\"name\": \"n\", \"cpu\": 1}]}", "nodes[0].memory: missing"},
                {"{\"nodes\": [{\"name\": \"n\", \"cpu\": \"-1\", \"memory\": 1}]}",
                 "nodes[0].cpu: \"-1\": negative quantity"},
                {"{\"nodes\": [{\"name\": \"n\", \"cpu\": 1, \"memory\": \"4GB\"}]}",
                 "nodes[0].memory: \"4GB\": unknown suffix \"GB\""},
                {"{\"nodes\": [{\"name\": \"n\", \"cpu\": 1, \"memory\": [1]}]}",
                 "nodes[0].memory: must be a quantity (a string such as \"4Gi\" or a number)"},
                {"{\"nodes\": [" N1 ", \"gpus\": {}}]}", "nodes[0].gpus: must be an array"},
                {"{\"nodes\": [" N1 ", \"gpus\": [" G("a") ", 1]}]}", "nodes[0].gpus[1]: must be an object"},
                {"{\"nodes\": [" N1 ", \"gpus\": [{\"uuid\": \"a\", \"model\": \"L4\", \"memory\": 1}]}]}",
                 "nodes[0].gpus[0].nvlink: missing"},
                {"{\"nodes\": [" N1 ", \"gpus\": [{\"uuid\": \"a\", \"memory\": 1, \"nvlink\": 0}]}]}",
                 "nodes[0].gpus[0].model: missing"},
                {"{\"nodes\": [" N1 ", \"gpus\": [{\"model\": \"L4\", \"memory\": 1, \"nvlink\": 0}]}]}",
                 "nodes[0].gpus[0].uuid: missing"},
                {"{\"nodes\": [" N1 ", \"gpus\": [{\"uuid\": \"a\", \"model\": \"L4\", \"nvlink\": 0}]}]}",
                 "nodes[0].gpus[0].memory: missing"},
                {"{\"nodes\": [" N1
                 ", \"gpus\": [" G("a") ", {\"uuid\": \"b\", \"model\": \"L4\", \"memory\": "
                                        "\"0.5\", \"nvlink\": 0}]}]}",
                 "nodes[0].gpus[1].memory: \"0.5\": not a whole number of bytes"},
                {"{\"nodes\": [" N1
                 ", \"gpus\": [{\"uuid\": \"a\", \"model\": \"L4\", \"memory\": 1, \"nvlink\": -1}]}]}",
                 "nodes[0].gpus[0].nvlink: -1 out of range [0, 2147483646]"},
                {"{\"nodes\": [" N1
                 ", \"gpus\": [{\"uuid\": \"a\", \"model\": \"L4\", \"memory\": 1, \"nvlink\": \"0\"}]}]}",
                 "nodes[0].gpus[0].nvlink: must be an integer"},
                {"{\"nodes\": [" N1
                 ", \"gpus\": [{\"uuid\": \"a\", \"model\": \"L4\", \"memory\": 1, \"nvlink\": 0, "
                 "\"mig\": true}]}]}",
                 "nodes[0].gpus[0].mig: unknown field"},
                {"{\"nodes\": [" N1 ", \"labels\": []}]}", "nodes[0].labels: must be an object of strings"},
                {"{\"nodes\": [" N1 ", \"labels\": {\"zone\": 1}}]}",
                 "nodes[0].labels.zone: must be a string"},
                {"{\"nodes\": [" N1 ", \"labels\": {\"\": \"x\"}}]}",
                 "nodes[0].labels: label keys must not be empty"},
                {"{\"nodes\": [" N1 "}, {\"name\": \"n2\", \"cpu\": 1, \"memory\": 1}, " N1 "}]}",
                 "nodes[2].name: duplicate node \"n1\" (also nodes[0])"},
                {"{\"nodes\": [" N1
                 ", \"gpus\": [" G("x") "]}, {\"name\": \"n2\", \"cpu\": 1, \"memory\": 1, "
                                        "\"gpus\": [" G("y") ", " G("x") "]}]}",
                 "nodes[1].gpus[1].uuid: duplicate GPU \"x\" (also nodes[0].gpus[0])"},
                {"{\"nodes\": [" N1 ", \"gpus\": [" G("x") ", " G("x") "]}]}",
                 "nodes[0].gpus[1].uuid: duplicate GPU \"x\" (also nodes[0].gpus[0])"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                BerthError err = {};
                Cluster *c = NULL;
                int r = sched_cluster_parse(cases[i].text, &c, &err);
                if (r >= 0)
                        fail_msg("accepted: %s", cases[i].text);
                assert_null(c);
                assert_int_equal(err.code, r);
                if (!streq(err.msg, cases[i].message))
                        fail_msg("case %zu: \"%s\" != \"%s\"", i, err.msg, cases[i].message);
        }
}

static void test_job_parse(void **state)
{
        BerthError err = {};
        SchedInput in = {};

        assert_int_equal(
                sched_input_parse_line("{\"id\": \"train-1\", \"submit\": 30, \"duration\": 3600, "
                                       "\"priority\": -5, \"cpu\": \"7500m\", \"memory\": \"60Gi\", "
                                       "\"gpus\": 4, \"gpu_model\": \"H100\", \"gpu_memory\": \"40Gi\", "
                                       "\"selector\": {\"zone\": \"b\", \"pool\": \"gpu\"}, "
                                       "\"gang\": \"g1\", \"preemptible\": true}\n",
                                       12, &in, &err),
                0);
        assert_int_equal(in.kind, SCHED_INPUT_JOB);
        assert_string_equal(in.job.id, "train-1");
        assert_int_equal(in.job.submit_sec, 30);
        assert_int_equal(in.job.duration_sec, 3600);
        assert_int_equal(in.job.priority, -5);
        assert_int_equal(in.job.cpu_millis, 7500);
        assert_int_equal(in.job.memory_bytes, 60 * GI);
        assert_int_equal(in.job.n_gpus, 4);
        assert_string_equal(in.job.gpu_model, "H100");
        assert_int_equal(in.job.gpu_memory_bytes, 40 * GI);
        assert_int_equal(in.job.n_selector, 2);
        assert_string_equal(in.job.selector[0].key, "pool");
        assert_string_equal(in.job.selector[1].value, "b");
        assert_string_equal(in.job.gang, "g1");
        assert_true(in.job.preemptible);
        assert_int_equal(in.job.line, 12);
        sched_input_done(&in);
        assert_null(in.job.id);

        assert_int_equal(
                sched_input_parse_line("{\"id\": \"x\", \"submit\": 0, \"duration\": 1, \"priority\": 0, "
                                       "\"cpu\": 1, \"memory\": 1, \"gpus\": 0}",
                                       1, &in, &err),
                0);
        assert_null(in.job.gpu_model);
        assert_null(in.job.gang);
        assert_null(in.job.selector);
        assert_false(in.job.preemptible);
        assert_int_equal(in.job.gpu_memory_bytes, 0);
        sched_input_done(&in);
}

static void test_node_event_parse(void **state)
{
        SchedInput in = {};

        assert_int_equal(
                sched_input_parse_line("{\"event\": \"node_down\", \"node\": \"gpu-8\", \"at\": 100}", 3,
                                       &in, NULL),
                0);
        assert_int_equal(in.kind, SCHED_INPUT_NODE_EVENT);
        assert_int_equal(in.node_event.type, NODE_EVENT_DOWN);
        assert_string_equal(in.node_event.node, "gpu-8");
        assert_int_equal(in.node_event.at_sec, 100);
        assert_int_equal(in.node_event.line, 3);
        sched_input_done(&in);
        assert_int_equal(
                sched_input_parse_line("{\"at\": 0, \"node\": \"a\", \"event\": \"node_up\"}", 4, &in, NULL),
                0);
        assert_int_equal(in.node_event.type, NODE_EVENT_UP);
        sched_input_done(&in);

        assert_string_equal(node_event_type_to_string(NODE_EVENT_UP), "node_up");
        assert_null(node_event_type_to_string(_NODE_EVENT_TYPE_MAX));
        assert_int_equal(node_event_type_from_string("node_down"), NODE_EVENT_DOWN);
        assert_int_equal(node_event_type_from_string("node_gone"), _NODE_EVENT_TYPE_INVALID);
}

#define JOB_BASE                                                                                            \
        "\"id\": \"j\", \"submit\": 0, \"duration\": 10, \"priority\": 1, \"cpu\": 1, \"memory\": \"1Gi\""

static void test_input_errors(void **state)
{
        static const ErrorCase cases[] = {
                {"", "line 7: not valid JSON at byte 0: unexpected end of data"},
                {"{\"id\": ", "line 7: not valid JSON at byte 7: unexpected end of data"},
                {"[1]", "line 7: must be a JSON object"},
                {"{" JOB_BASE ", \"gpus\": 0} {}",
                 "line 7: not valid JSON at byte 94: unexpected character"},
                {"{" JOB_BASE ", \"gpus\": 0, \"gpu\": 1}", "line 7: gpu: unknown field"},
                {"{" JOB_BASE "}", "line 7: gpus: missing"},
                {"{\"submit\": 0}", "line 7: id: missing"},
                {"{\"id\": \"\", \"submit\": 0}", "line 7: id: must not be empty"},
                {"{\"id\": 3}", "line 7: id: must be a string"},
                {"{\"id\": \"j\", \"submit\": -1}", "line 7: submit: -1 out of range [0, 1000000000000000]"},
                {"{\"id\": \"j\", \"submit\": 1.5}", "line 7: submit: must be an integer"},
                {"{\"id\": \"j\", \"submit\": 0, \"duration\": 0}",
                 "line 7: duration: 0 out of range [1, 1000000000000000]"},
                {"{\"id\": \"j\", \"submit\": 0, \"duration\": 1, \"priority\": 99999999999999999999}",
                 "line 7: priority: 18446744073709551615 out of range [-2147483648, 2147483647]"},
                {"{\"id\": \"j\", \"submit\": 0, \"duration\": 1, \"priority\": 0, \"cpu\": \"1.0001\"}",
                 "line 7: cpu: \"1.0001\": not a whole number of millicores"},
                {"{\"id\": \"j\", \"submit\": 0, \"duration\": 1, \"priority\": 0, \"cpu\": 1, \"memory\": "
                 "-1}",
                 "line 7: memory: -1: negative quantity"},
                {"{" JOB_BASE ", \"gpus\": -1}", "line 7: gpus: -1 out of range [0, 65536]"},
                {"{" JOB_BASE ", \"gpus\": 1, \"gpu_memory\": \"80GB\"}",
                 "line 7: gpu_memory: \"80GB\": unknown suffix \"GB\""},
                {"{" JOB_BASE ", \"gpus\": 1, \"gpu_model\": \"\"}", "line 7: gpu_model: must not be empty"},
                {"{" JOB_BASE ", \"gpus\": 0, \"gpu_model\": \"H100\"}",
                 "line 7: gpu_model: set, but the job asks for no GPUs"},
                {"{" JOB_BASE ", \"gpus\": 0, \"gpu_memory\": \"1Gi\"}",
                 "line 7: gpu_memory: set, but the job asks for no GPUs"},
                {"{" JOB_BASE ", \"gpus\": 0, \"preemptible\": 1}",
                 "line 7: preemptible: must be true or false"},
                {"{" JOB_BASE ", \"gpus\": 0, \"selector\": [\"a\"]}",
                 "line 7: selector: must be an object of strings"},
                {"{" JOB_BASE ", \"gpus\": 0, \"selector\": {\"zone\": 1}}",
                 "line 7: selector.zone: must be a string"},
                {"{" JOB_BASE ", \"gpus\": 0, \"gang\": 5}", "line 7: gang: must be a string"},
                {"{\"event\": \"node_gone\", \"node\": \"a\", \"at\": 1}",
                 "line 7: event: \"node_gone\" is not node_down or node_up"},
                {"{\"event\": \"node_up\", \"at\": 1}", "line 7: node: missing"},
                {"{\"event\": \"node_up\", \"node\": \"a\"}", "line 7: at: missing"},
                {"{\"event\": \"node_up\", \"node\": \"a\", \"at\": 1, \"id\": \"j\"}",
                 "line 7: id: unknown field"},
                {"{\"event\": 1, \"node\": \"a\", \"at\": 1}", "line 7: event: must be a string"},
                /* json-c would keep the second value and drop the first without a word */
                {"{" JOB_BASE ", \"gpus\": 0, \"cpu\": 2}", "line 7: cpu: duplicate key"},
                {"{" JOB_BASE
                 ", \"gpus\": 0, \"selector\": {\"zone\": \"a\", \"rack\": \"1\", \"zone\": \"b\"}}",
                 "line 7: selector.zone: duplicate key"},
                {"{\"event\": \"node_up\", \"node\": \"a\", \"at\": 1, \"node\": \"b\"}",
                 "line 7: node: duplicate key"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                BerthError err = {};
                SchedInput in = {};
                int r = sched_input_parse_line(cases[i].text, 7, &in, &err);
                if (r >= 0)
                        fail_msg("accepted: %s", cases[i].text);
                assert_int_equal(err.code, r);
                assert_null(in.job.id);
                if (!streq(err.msg, cases[i].message))
                        fail_msg("case %zu: \"%s\" != \"%s\"", i, err.msg, cases[i].message);
        }
}

static void test_job_id_set(void **state)
{
        _cleanup_(sched_job_id_set_freep) JobIdSet *s = sched_job_id_set_new();
        BerthError err = {};
        char id[32];

        assert_non_null(s);
        assert_int_equal(sched_job_id_set_add(s, "a", 1, &err), 0);
        assert_int_equal(sched_job_id_set_add(s, "b", 2, &err), 0);
        assert_int_equal(sched_job_id_set_add(s, "a", 12, &err), -EEXIST);
        assert_string_equal(err.msg, "line 12: id: duplicate job id \"a\" (first on line 1)");
        /* Enough ids to grow the table several times; every one still found afterwards. */
        for (unsigned i = 0; i < 5000; i++) {
                snprintf(id, sizeof(id), "job-%u", i);
                assert_int_equal(sched_job_id_set_add(s, id, i + 3, NULL), 0);
        }
        assert_int_equal(sched_job_id_set_size(s), 5002);
        for (unsigned i = 0; i < 5000; i += 7) {
                BerthError e = {};
                char want[128];
                snprintf(id, sizeof(id), "job-%u", i);
                assert_int_equal(sched_job_id_set_add(s, id, 9999, &e), -EEXIST);
                snprintf(want, sizeof(want), "line 9999: id: duplicate job id \"%s\" (first on line %u)", id,
                         i + 3);
                assert_string_equal(e.msg, want);
        }
        assert_int_equal(sched_job_id_set_size(s), 5002);
}

static bool fits(const Cluster *c, const char *line)
{
        SchedInput in = {};
        BerthError err = {};
        bool r;

        if (sched_input_parse_line(line, 1, &in, &err) < 0)
                fail_msg("%s", err.msg);
        r = sched_job_fits_some_node(c, &in.job);
        sched_input_done(&in);
        return r;
}

#define JOB(rest) "{\"id\": \"j\", \"submit\": 0, \"duration\": 1, \"priority\": 0, " rest "}"

static void test_job_fits(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_parse_ok(cluster_sorted);

        assert_true(fits(c, JOB("\"cpu\": 16, \"memory\": \"64Gi\", \"gpus\": 0")));
        assert_true(fits(c, JOB("\"cpu\": \"96500m\", \"memory\": \"1Ti\", \"gpus\": 8")));
        assert_false(fits(c, JOB("\"cpu\": \"96501m\", \"memory\": 1, \"gpus\": 0")));
        assert_false(fits(c, JOB("\"cpu\": 1, \"memory\": \"1025Gi\", \"gpus\": 0")));
        assert_false(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 9")));
        assert_true(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 4, \"gpu_model\": \"L4\"")));
        assert_false(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 5, \"gpu_model\": \"L4\"")));
        assert_false(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 1, \"gpu_model\": \"A100\"")));
        assert_true(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 5, \"gpu_memory\": \"25Gi\"")));
        assert_false(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 1, \"gpu_memory\": \"81Gi\"")));
        /* The 4-GPU node alone has L4s; a bigger cpu request than it has rules it out. */
        assert_false(fits(c, JOB("\"cpu\": 33, \"memory\": 1, \"gpus\": 1, \"gpu_model\": \"L4\"")));
        assert_true(
                fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 0, \"selector\": {\"pool\": \"cpu\"}")));
        assert_true(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 0, "
                                "\"selector\": {\"pool\": \"gpu\", \"zone\": \"b\"}")));
        assert_false(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 0, "
                                 "\"selector\": {\"pool\": \"cpu\", \"zone\": \"b\"}")));
        assert_false(
                fits(c, JOB("\"cpu\": 17, \"memory\": 1, \"gpus\": 0, \"selector\": {\"pool\": \"cpu\"}")));
        assert_false(
                fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 0, \"selector\": {\"gpu\": \"yes\"}")));
        assert_true(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 1, \"gpu_model\": \"H100\", "
                                "\"selector\": {\"rack\": \"r1\"}")));
        assert_false(fits(c, JOB("\"cpu\": 1, \"memory\": 1, \"gpus\": 1, \"gpu_model\": \"L4\", "
                                 "\"selector\": {\"rack\": \"r1\"}")));
}

/* cluster_sorted in YAML, shuffled, with quantities written as YAML allows. */
static const char cluster_yaml[] =
        "# a comment\n"
        "nodes:\n"
        "  - name: gpu-8\n"
        "    cpu: 96.5\n"
        "    memory: 1Ti\n"
        "    labels: {zone: b, rack: r1, pool: gpu}\n"
        "    gpus:\n"
        "      - &h100 {uuid: GPU-87, model: H100, memory: 80Gi, nvlink: 1}\n"
        "      - {uuid: GPU-86, model: H100, memory: 80Gi, nvlink: 1}\n"
        "      - {uuid: GPU-85, model: H100, memory: 80Gi, nvlink: 1}\n"
        "      - {uuid: GPU-84, model: H100, memory: 80Gi, nvlink: 1}\n"
        "      - {uuid: GPU-83, model: H100, memory: 80Gi, nvlink: 0}\n"
        "      - {uuid: GPU-82, model: \"H100\", memory: 85899345920, nvlink: 0}\n"
        "      - {uuid: GPU-81, model: H100, memory: 80Gi, nvlink: 0}\n"
        "      - {uuid: 'GPU-80', model: H100, memory: 80Gi, nvlink: 0}\n"
        "  - name: cpu-1\n"
        "    cpu: \"16\"\n"
        "    memory: 64Gi\n"
        "    labels:\n"
        "      zone: a\n"
        "      pool: cpu\n"
        "  - name: gpu-4\n"
        "    cpu: 32000m\n"
        "    memory: 256Gi\n"
        "    labels: {pool: gpu}\n"
        "    gpus:\n"
        "      - {uuid: GPU-40, model: L4, memory: 24Gi, nvlink: 0}\n"
        "      - {uuid: GPU-41, model: L4, memory: 24Gi, nvlink: 0}\n"
        "      - {uuid: GPU-42, model: L4, memory: 24Gi, nvlink: 1}\n"
        "      - {uuid: GPU-43, model: L4, memory: 24Gi, nvlink: 1}\n";

static Cluster *cluster_parse_yaml_ok(const char *text)
{
        BerthError err = {};
        Cluster *c = NULL;

        if (sched_cluster_parse_yaml(text, strlen(text), &c, &err) < 0)
                fail_msg("YAML cluster refused: %s", err.msg);
        return c;
}

static void test_cluster_yaml(void **state)
{
        _cleanup_(sched_cluster_freep) Cluster *a = cluster_parse_ok(cluster_sorted);
        _cleanup_(sched_cluster_freep) Cluster *b = cluster_parse_yaml_ok(cluster_yaml);

        cluster_assert_equal(a, b);

        /* YAML 1.2 core schema: "no" and "on" stay strings, quoted numbers stay strings. */
        _cleanup_(sched_cluster_freep) Cluster *c = cluster_parse_yaml_ok(
                "nodes:\n- name: n\n  cpu: 1\n  memory: 1e3\n  labels: {ssd: no, fast: on, id: '7'}\n");
        assert_int_equal(c->nodes[0].memory_bytes, 1000);
        assert_string_equal(sched_labels_find(c->nodes[0].labels, c->nodes[0].n_labels, "ssd"), "no");
        assert_string_equal(sched_labels_find(c->nodes[0].labels, c->nodes[0].n_labels, "fast"), "on");
        assert_string_equal(sched_labels_find(c->nodes[0].labels, c->nodes[0].n_labels, "id"), "7");
}

static void test_cluster_yaml_errors(void **state)
{
        static const ErrorCase cases[] = {
                {"", "empty YAML document"},
                {"# nothing\n", "empty YAML document"},
                {"nodes: [\n", "line 2, column 1: did not find expected node content"},
                {"nodes:\n  - name: a\n name: b\n", "line 3, column 2: did not find expected key"},
                {"nodes: []\nnodes: []\n", "line 2: duplicate key \"nodes\""},
                {"nodes: []\n---\nnodes: []\n", "line 2: more than one YAML document"},
                {"? [a]\n: 1\n", "line 1: mapping keys must be scalars"},
                {"nodes:\n- {name: n, cpu: 1, memory: 4GB}\n",
                 "nodes[0].memory: \"4GB\": unknown suffix \"GB\""},
                {"nodes:\n- {name: n, cpu: -1, memory: 1}\n", "nodes[0].cpu: -1: negative quantity"},
                {"nodes:\n- {name: n, cpu: 1, memory: 1, gpu: []}\n", "nodes[0].gpu: unknown field"},
                {"nodes:\n- {name: n, cpu: 1, memory: 1, labels: {a: 1}}\n",
                 "nodes[0].labels.a: must be a string"},
                {"nodes:\n- {name: 5, cpu: 1, memory: 1}\n", "nodes[0].name: must be a string"},
                {"nodes:\n- {name: n, cpu: true, memory: 1}\n",
                 "nodes[0].cpu: must be a quantity (a string such as \"500m\" or a number)"},
                {"nodes:\n- {name: ~, cpu: 1, memory: 1}\n", "nodes[0].name: missing"},
                {"- a\n", "must be an object"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                BerthError err = {};
                Cluster *c = NULL;
                int r = sched_cluster_parse_yaml(cases[i].text, strlen(cases[i].text), &c, &err);
                if (r >= 0)
                        fail_msg("accepted: %s", cases[i].text);
                assert_null(c);
                if (!streq(err.msg, cases[i].message))
                        fail_msg("case %zu: \"%s\" != \"%s\"", i, err.msg, cases[i].message);
        }
}

static void test_cluster_yaml_limits(void **state)
{
        _cleanup_free_ char *deep = NULL, *laughs = NULL;
        BerthError err = {};
        Cluster *c = NULL;
        size_t n = 0;

        /* 100 nested flow sequences. */
        deep = malloc(256);
        assert_non_null(deep);
        n = (size_t)snprintf(deep, 256, "nodes: ");
        for (int i = 0; i < 100; i++)
                deep[n++] = '[';
        for (int i = 0; i < 100; i++)
                deep[n++] = ']';
        deep[n] = '\0';
        assert_int_equal(sched_cluster_parse_yaml(deep, n, &c, &err), -E2BIG);
        assert_string_equal(err.msg, "line 1: nested deeper than 64 levels");

        /* "Billion laughs": each level refers to the one before ten times. */
        laughs = malloc(4096);
        assert_non_null(laughs);
        n = (size_t)snprintf(laughs, 4096, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++)
                n += (size_t)snprintf(
                        laughs + n, 4096 - n,
                        "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i,
                        i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        err = (BerthError){};
        assert_int_equal(sched_cluster_parse_yaml(laughs, n, &c, &err), -E2BIG);
        assert_non_null(strstr(err.msg, "aliases expand to more than 4194304 nodes"));
        assert_null(c);
}

static char *example_read(const char *name)
{
        char path[4096];
        char *text = NULL;
        size_t len;

        snprintf(path, sizeof(path), "%s/../../../examples/%s", TEST_DATA_DIR, name);
        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &text, &len) < 0)
                fail_msg("cannot read %s", path);
        return text;
}

/* The examples the docs point at parse, agree with each other, and every job in them could run. */
static void test_examples(void **state)
{
        _cleanup_free_ char *json = example_read("cluster.json"), *yaml = example_read("cluster.yaml");
        _cleanup_free_ char *jobs = example_read("jobs.jsonl");
        _cleanup_(sched_job_id_set_freep) JobIdSet *ids = sched_job_id_set_new();
        _cleanup_(sched_cluster_freep) Cluster *a = cluster_parse_ok(json);
        _cleanup_(sched_cluster_freep) Cluster *b = cluster_parse_yaml_ok(yaml);
        unsigned line_no = 0, n_jobs = 0, n_events = 0, n_gangs = 0, n_preemptible = 0;
        char *save = NULL;

        cluster_assert_equal(a, b);
        for (char *line = strtok_r(jobs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                BerthError err = {};
                SchedInput in = {};

                line_no++;
                if (sched_input_parse_line(line, line_no, &in, &err) < 0)
                        fail_msg("%s", err.msg);
                if (in.kind == SCHED_INPUT_NODE_EVENT) {
                        assert_non_null(sched_cluster_find_node(a, in.node_event.node));
                        n_events++;
                } else {
                        assert_int_equal(sched_job_id_set_add(ids, in.job.id, line_no, &err), 0);
                        assert_true(sched_job_fits_some_node(a, &in.job));
                        n_jobs++;
                        n_gangs += in.job.gang != NULL;
                        n_preemptible += in.job.preemptible;
                }
                sched_input_done(&in);
        }
        assert_true(n_jobs >= 12);
        assert_true(n_events >= 2);
        assert_true(n_gangs >= 2);
        assert_true(n_preemptible >= 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quantity_cpu),        cmocka_unit_test(test_quantity_memory),
                cmocka_unit_test(test_quantity_errors),     cmocka_unit_test(test_quantity_json),
                cmocka_unit_test(test_cluster_parse),       cmocka_unit_test(test_cluster_canonical),
                cmocka_unit_test(test_cluster_errors),      cmocka_unit_test(test_job_parse),
                cmocka_unit_test(test_node_event_parse),    cmocka_unit_test(test_input_errors),
                cmocka_unit_test(test_job_id_set),          cmocka_unit_test(test_job_fits),
                cmocka_unit_test(test_cluster_yaml),        cmocka_unit_test(test_cluster_yaml_errors),
                cmocka_unit_test(test_cluster_yaml_limits), cmocka_unit_test(test_examples),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
