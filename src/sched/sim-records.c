/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulation's records as text, and the gangs of an input stream. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "sim.h"

bool sched_sim_record_is_decision(SimRecordType t)
{
        return t == SIM_RECORD_PLACE || t == SIM_RECORD_PREEMPT || t == SIM_RECORD_REQUEUE ||
               t == SIM_RECORD_PENDING;
}

void sched_sim_record_format(const SimRecord *r, const Cluster *c, StrBuf *out)
{
        assert(r && c && out && r->job);
        assert(sched_sim_record_is_decision(r->type));
        strbuf_printf(out, "{\"seq\":%" PRIu64 ",\"time\":%" PRIu64 ",\"job\":", r->seq, r->time);
        strbuf_put_json_string(out, r->job->id);
        if (r->type == SIM_RECORD_PENDING) {
                strbuf_puts(out, ",\"pending\":");
                strbuf_put_json_string(out, r->reason);
                strbuf_putc(out, '}');
                return;
        }
        assert(r->placement && r->placement->node < c->n_nodes);
        strbuf_puts(out, ",\"node\":");
        strbuf_put_json_string(out, c->nodes[r->placement->node].name);
        strbuf_puts(out, ",\"gpus\":[");
        for (uint32_t i = 0; i < r->placement->n_gpus; i++) {
                if (i > 0)
                        strbuf_putc(out, ',');
                strbuf_put_json_string(out, c->nodes[r->placement->node].gpus[r->placement->gpus[i]].uuid);
        }
        strbuf_putc(out, ']');
        if (r->type == SIM_RECORD_PREEMPT) {
                strbuf_puts(out, ",\"preempted_by\":");
                strbuf_put_json_string(out, r->by->id);
        } else if (r->type == SIM_RECORD_REQUEUE)
                strbuf_puts(out, ",\"requeued\":\"node_down\"");
        strbuf_putc(out, '}');
}

void sched_sim_gangs_free(SimGang *g, size_t n)
{
        if (!g)
                return;
        for (size_t i = 0; i < n; i++)
                free(g[i].name);
        free(g);
}

typedef struct Member {
        const char *gang;
        size_t input;
} Member;

static int member_cmp(const void *a, const void *b)
{
        const Member *x = a, *y = b;
        int k = strcmp(x->gang, y->gang);

        if (k != 0)
                return k;
        return x->input < y->input ? -1 : x->input > y->input;
}

int sched_sim_gangs_from_inputs(const SchedInput *inputs, size_t n, SimGang **ret, size_t *n_ret,
                                BerthError *err)
{
        _cleanup_free_ Member *m = NULL;
        SimGang *g = NULL;
        size_t n_m = 0, n_g = 0;

        assert(ret && n_ret);
        for (size_t i = 0; i < n; i++)
                n_m += inputs[i].kind == SCHED_INPUT_JOB && inputs[i].job.gang;
        m = calloc(n_m ? n_m : 1, sizeof(Member));
        g = calloc(n_m ? n_m : 1, sizeof(SimGang));
        if (!m || !g) {
                free(g);
                return error_set(err, -ENOMEM, "gangs");
        }
        n_m = 0;
        for (size_t i = 0; i < n; i++)
                if (inputs[i].kind == SCHED_INPUT_JOB && inputs[i].job.gang)
                        m[n_m++] = (Member){inputs[i].job.gang, i};
        qsort(m, n_m, sizeof(Member), member_cmp);
        for (size_t k = 0; k < n_m; k++) {
                const Job *j = &inputs[m[k].input].job;

                if (k > 0 && streq(m[k - 1].gang, m[k].gang)) {
                        const Job *first = &inputs[m[k - (g[n_g - 1].size)].input].job;

                        if (first->priority != j->priority) {
                                sched_sim_gangs_free(g, n_g);
                                return error_setx(err, -EINVAL,
                                                  "line %u: gang: priority %" PRId64 " differs from %" PRId64
                                                  " of gang \"%s\" (line %u)",
                                                  j->line, j->priority, first->priority, j->gang,
                                                  first->line);
                        }
                        g[n_g - 1].size++;
                        continue;
                }
                g[n_g].name = strdup(m[k].gang);
                if (!g[n_g].name) {
                        sched_sim_gangs_free(g, n_g);
                        return error_set(err, -ENOMEM, "gangs");
                }
                g[n_g++].size = 1;
        }
        *ret = g;
        *n_ret = n_g;
        return 0;
}
