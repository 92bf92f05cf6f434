/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The scheduler's input parsers on the same bytes: the cluster as JSON and as YAML, one job line,
 * and a cpu and a memory quantity. Whatever is accepted must be a canonical model (nodes sorted
 * and unique, GPUs sorted and unique); whatever is refused must carry a message.
 */

#include <string.h>

#include "fuzz.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/quantity.h"

static void check_refusal(int r, const BerthError *err)
{
        FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)));
        if (r >= 0) {
                FUZZ_CHECK(err->code == 0);
                return;
        }
        FUZZ_CHECK(r == -EINVAL || r == -ERANGE || r == -E2BIG);
        FUZZ_CHECK(err->code == r);
        FUZZ_CHECK(err->msg[0] != '\0');
}

static void check_cluster(int r, Cluster *c, const BerthError *err)
{
        check_refusal(r, err);
        if (r < 0) {
                FUZZ_CHECK(!c);
                return;
        }
        FUZZ_CHECK(c && c->n_nodes > 0);
        for (size_t i = 0; i < c->n_nodes; i++) {
                const Node *n = &c->nodes[i];
                FUZZ_CHECK(i == 0 || strcmp(c->nodes[i - 1].name, n->name) < 0);
                FUZZ_CHECK(sched_cluster_find_node(c, n->name) == n);
                for (size_t g = 1; g < n->n_gpus; g++)
                        FUZZ_CHECK(strcmp(n->gpus[g - 1].uuid, n->gpus[g].uuid) < 0);
                for (size_t l = 1; l < n->n_labels; l++)
                        FUZZ_CHECK(strcmp(n->labels[l - 1].key, n->labels[l].key) < 0);
        }
        sched_cluster_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        BerthError err = {};
        SchedInput in = {};
        Cluster *c = NULL;
        uint64_t v;
        char *text;
        int r;

        text = strndup((const char *)data, size);
        FUZZ_CHECK(text);

        r = sched_cluster_parse(text, &c, &err);
        check_cluster(r, c, &err);
        err = (BerthError){};
        c = NULL;
        r = sched_cluster_parse_yaml((const char *)data, size, &c, &err);
        check_cluster(r, c, &err);

        err = (BerthError){};
        r = sched_input_parse_line(text, 1, &in, &err);
        check_refusal(r, &err);
        if (r >= 0 && in.kind == SCHED_INPUT_JOB)
                FUZZ_CHECK(in.job.id && in.job.id[0] && in.job.duration_sec > 0);
        sched_input_done(&in);

        err = (BerthError){};
        check_refusal(sched_quantity_parse_cpu(text, &v, &err), &err);
        err = (BerthError){};
        check_refusal(sched_quantity_parse_memory(text, &v, &err), &err);
        free(text);
        return 0;
}
