/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulation on small hand-made cases whose right answer is worked out in each test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/strbuf.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/sim.h"

typedef struct Run {
        Cluster *c;
        SchedInput in[64];
        size_t n;
        SimGang *gangs;
        size_t n_gangs;
        StrBuf out;    /* the decisions, one a line */
        StrBuf finish; /* "time job" of FINISH records */
        SimSummary sum;
        BerthError err;
} Run;

static int sink(const SimRecord *r, void *userdata)
{
        Run *run = userdata;

        if (r->type == SIM_RECORD_FINISH) {
                strbuf_printf(&run->finish, "%llu %s\n", (unsigned long long)r->time, r->job->id);
                return 0;
        }
        if (!sched_sim_record_is_decision(r->type))
                return 0;
        sched_sim_record_format(r, run->c, &run->out);
        strbuf_putc(&run->out, '\n');
        return 0;
}

/* Parse @cluster and the NULL-ended @lines, simulate under @policy; returns sched_sim_run()'s result. */
static int simulate(Run *run, const char *cluster, const char *const *lines, SchedPolicy policy,
                    uint64_t starve_after, uint64_t until)
{
        SimOptions o = {.policy = policy, .starve_after_sec = starve_after, .until_sec = until};

        memset(run, 0, sizeof(*run));
        assert_int_equal(sched_cluster_parse(cluster, &run->c, &run->err), 0);
        for (; lines[run->n]; run->n++) {
                int r = sched_input_parse_line(lines[run->n], (unsigned)run->n + 1, &run->in[run->n],
                                               &run->err);
                if (r < 0)
                        fail_msg("line %zu: %s", run->n + 1, run->err.msg);
        }
        assert_int_equal(sched_sim_gangs_from_inputs(run->in, run->n, &run->gangs, &run->n_gangs, &run->err),
                         0);
        return sched_sim_run(run->c, run->in, run->n, run->gangs, run->n_gangs, &o, sink, run, &run->sum,
                             &run->err);
}

static void run_done(Run *run)
{
        for (size_t i = 0; i < run->n; i++)
                sched_input_done(&run->in[i]);
        sched_sim_gangs_free(run->gangs, run->n_gangs);
        sched_cluster_free(run->c);
        strbuf_done(&run->out);
        strbuf_done(&run->finish);
}

static void assert_decisions(Run *run, const char *expected)
{
        assert_false(strbuf_failed(&run->out));
        if (!run->out.ptr || strcmp(run->out.ptr, expected) != 0)
                fail_msg("decisions:\n%s\nexpected:\n%s", run->out.ptr ? run->out.ptr : "", expected);
}

#define TWO_NODES                                                                                           \
        "{\"nodes\":[{\"name\":\"a\",\"cpu\":4,\"memory\":\"8Gi\"},{\"name\":\"b\",\"cpu\":4,\"memory\":"   \
        "\"8Gi\"}]}"
#define ONE_NODE "{\"nodes\":[{\"name\":\"a\",\"cpu\":4,\"memory\":\"8Gi\"}]}"

#define JOB(id, submit, dur, prio, cpu)                                                                     \
        "{\"id\":\"" id "\",\"submit\":" #submit ",\"duration\":" #dur ",\"priority\":" #prio               \
        ",\"cpu\":" #cpu ",\"memory\":\"1Gi\",\"gpus\":0}"

/* Higher priority first; FIFO within a priority; jobs end after their duration and free what they
 * held, so the next one starts then. */
static void test_priority_then_fifo(void **state)
{
        Run run;
        const char *lines[] = {
                JOB("low", 0, 10, 0, 4),
                JOB("high", 0, 10, 5, 4),
                JOB("high2", 0, 10, 5, 4),
                NULL,
        };

        (void)state;
        assert_int_equal(simulate(&run, ONE_NODE, lines, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"high\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":10,\"job\":\"high2\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":20,\"job\":\"low\",\"node\":\"a\",\"gpus\":[]}\n");
        assert_string_equal(run.finish.ptr, "10 high\n20 high2\n30 low\n");
        assert_int_equal(run.sum.placed, 3);
        assert_int_equal(run.sum.pending, 0);
        assert_int_equal(run.sum.end_time, 30);
        /* waits 0, 10, 20: mean 10, p99 (nearest rank) 20 */
        assert_int_equal(run.sum.wait_mean_sec, 10);
        assert_int_equal(run.sum.wait_p99_sec, 20);
        /* 4 of 4 cpus busy for all 30 s */
        assert_int_equal(run.sum.util_ppm[0], 1000000);
        run_done(&run);
}

/* A big job that does not fit does not block a small one behind it (backfill). */
static void test_backfill(void **state)
{
        Run run;
        const char *lines[] = {
                JOB("first", 0, 100, 0, 3),
                JOB("big", 1, 10, 0, 2),
                JOB("small", 2, 10, 0, 1),
                NULL,
        };

        (void)state;
        assert_int_equal(simulate(&run, ONE_NODE, lines, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"first\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":2,\"job\":\"small\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":100,\"job\":\"big\",\"node\":\"a\",\"gpus\":[]}\n");
        run_done(&run);
}

/*
 * Starvation: "big" (2 cpus) waits while a stream of 1-cpu jobs, each fitting in what is free,
 * would keep the node busy forever. After starve_after (5 s) it gets a reservation on "a" from the
 * time enough ends there (t=10, when "first" ends); later short jobs that would still run then may
 * not use "a", so "big" starts at 10.
 */
static void test_reservation_stops_starvation(void **state)
{
        Run run;
        const char *lines[] = {
                JOB("first", 0, 10, 0, 3),
                JOB("big", 1, 10, 0, 2),
                JOB("s1", 2, 9, 0, 1),  /* backfilled at 2 (big has waited 1 s < 5) */
                JOB("s2", 11, 9, 0, 1), /* after big started: fits beside it */
                NULL,
        };
        const char *starving[] = {
                JOB("first", 0, 10, 0, 3),
                JOB("big", 1, 10, 0, 2),
                JOB("s1", 7, 20, 0, 1), /* big has waited 6 s: reservation, s1 would end after 10 */
                NULL,
        };

        (void)state;
        assert_int_equal(simulate(&run, ONE_NODE, lines, SCHED_POLICY_BINPACK, 5, SIM_UNTIL_END), 0);
        /* s1 took the last cpu at 2 and ends at 11; first ends at 10: 3 free, big fits at 10 */
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"first\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":2,\"job\":\"s1\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":10,\"job\":\"big\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":4,\"time\":11,\"job\":\"s2\",\"node\":\"a\",\"gpus\":[]}\n");
        run_done(&run);

        /* without the reservation s1 would take the free cpu at 7 and run to 27; with it, s1 waits
         * for big (10 to 20) and starts at 10 beside it (1 + 2 <= 4 once first is gone) */
        assert_int_equal(simulate(&run, ONE_NODE, starving, SCHED_POLICY_BINPACK, 5, SIM_UNTIL_END), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"first\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":10,\"job\":\"big\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":10,\"job\":\"s1\",\"node\":\"a\",\"gpus\":[]}\n");
        run_done(&run);

        /* the same with a long starve_after: s1 is backfilled at 7 */
        assert_int_equal(simulate(&run, ONE_NODE, starving, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"first\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":7,\"job\":\"s1\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":10,\"job\":\"big\",\"node\":\"a\",\"gpus\":[]}\n");
        run_done(&run);
}

/* A gang is placed all together or not at all; a member that cannot be placed holds back the rest,
 * and a gang is only tried once every member has arrived. */
static void test_gang_all_or_nothing(void **state)
{
        Run run;
        const char *lines[] = {
                "{\"id\":\"g1\",\"submit\":0,\"duration\":10,\"priority\":0,\"cpu\":3,\"memory\":\"1Gi\","
                "\"gpus\":0,\"gang\":\"g\"}",
                "{\"id\":\"g2\",\"submit\":0,\"duration\":10,\"priority\":0,\"cpu\":3,\"memory\":\"1Gi\","
                "\"gpus\":0,\"gang\":\"g\"}",
                "{\"id\":\"g3\",\"submit\":3,\"duration\":10,\"priority\":0,\"cpu\":3,\"memory\":\"1Gi\","
                "\"gpus\":0,\"gang\":\"g\"}",
                JOB("other", 1, 5, 0, 2),
                NULL,
        };

        (void)state;
        /* two nodes of 4 cpus: three 3-cpu members never fit together */
        assert_int_equal(simulate(&run, TWO_NODES, lines, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END), 0);
        assert_decisions(&run,
                         "{\"seq\":1,\"time\":1,\"job\":\"other\",\"node\":\"a\",\"gpus\":[]}\n"
                         "{\"seq\":2,\"time\":6,\"job\":\"g1\",\"pending\":\"its gang does not fit the "
                         "cluster together\"}\n"
                         "{\"seq\":3,\"time\":6,\"job\":\"g2\",\"pending\":\"its gang does not fit the "
                         "cluster together\"}\n"
                         "{\"seq\":4,\"time\":6,\"job\":\"g3\",\"pending\":\"its gang does not fit the "
                         "cluster together\"}\n");
        assert_int_equal(run.sum.placed, 1);
        run_done(&run);

        /* the first two alone (until 2, before g3 arrives): incomplete, nothing placed for them */
        assert_int_equal(simulate(&run, TWO_NODES, lines, SCHED_POLICY_BINPACK, 1000, 2), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":1,\"job\":\"other\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":1,\"job\":\"g1\",\"pending\":\"gang incomplete: 2 of 3 "
                               "members arrived\"}\n"
                               "{\"seq\":3,\"time\":1,\"job\":\"g2\",\"pending\":\"gang incomplete: 2 of 3 "
                               "members arrived\"}\n");
        run_done(&run);
}

static void test_gang_placed_together(void **state)
{
        Run run;
        const char *lines[] = {
                JOB("x", 0, 5, 0, 2),
                "{\"id\":\"g1\",\"submit\":1,\"duration\":10,\"priority\":0,\"cpu\":3,\"memory\":\"1Gi\","
                "\"gpus\":0,\"gang\":\"g\"}",
                "{\"id\":\"g2\",\"submit\":2,\"duration\":10,\"priority\":0,\"cpu\":3,\"memory\":\"1Gi\","
                "\"gpus\":0,\"gang\":\"g\"}",
                NULL,
        };

        (void)state;
        /* x holds 2 cpus of "a" until 5: g1 alone would fit on b, but not both: both start at 5 */
        assert_int_equal(simulate(&run, TWO_NODES, lines, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"x\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":5,\"job\":\"g1\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":5,\"job\":\"g2\",\"node\":\"b\",\"gpus\":[]}\n");
        run_done(&run);
}

/* A higher-priority job evicts preemptible lower-priority ones: as few as possible (the single
 * 2-cpu victim rather than two 1-cpu ones), and never a non-preemptible or equal-priority job. */
static void test_preemption_fewest_victims(void **state)
{
        Run run;
        const char *lines[] = {
                "{\"id\":\"p1\",\"submit\":0,\"duration\":100,\"priority\":0,\"cpu\":1,\"memory\":\"1Gi\","
                "\"gpus\":0,\"preemptible\":true}",
                "{\"id\":\"p2\",\"submit\":0,\"duration\":100,\"priority\":0,\"cpu\":1,\"memory\":\"1Gi\","
                "\"gpus\":0,\"preemptible\":true}",
                "{\"id\":\"p3\",\"submit\":0,\"duration\":100,\"priority\":0,\"cpu\":2,\"memory\":\"1Gi\","
                "\"gpus\":0,\"preemptible\":true}",
                JOB("keep", 0, 100, 0, 4),
                JOB("urgent", 5, 10, 9, 2),
                NULL,
        };

        (void)state;
        /* binpack fills a with p1 p2 p3, keep goes to b. urgent needs 2 cpus: p3 alone is evicted,
         * not p1 and p2, and not keep (not preemptible); p3 runs again when urgent ends. */
        assert_int_equal(simulate(&run, TWO_NODES, lines, SCHED_POLICY_BINPACK, 1000, 20), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"p1\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":0,\"job\":\"p2\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":0,\"job\":\"p3\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":4,\"time\":0,\"job\":\"keep\",\"node\":\"b\",\"gpus\":[]}\n"
                               "{\"seq\":5,\"time\":5,\"job\":\"p3\",\"node\":\"a\",\"gpus\":[],\"preempted_"
                               "by\":\"urgent\"}\n"
                               "{\"seq\":6,\"time\":5,\"job\":\"urgent\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":7,\"time\":15,\"job\":\"p3\",\"node\":\"a\",\"gpus\":[]}\n");
        assert_int_equal(run.sum.preemptions, 1);
        run_done(&run);
}

/* A node going down requeues what ran there (in job order); back up, it takes jobs again. */
static void test_node_down_requeues(void **state)
{
        Run run;
        const char *lines[] = {
                JOB("j1", 0, 100, 0, 4),
                JOB("j2", 0, 100, 0, 4),
                "{\"event\":\"node_down\",\"node\":\"b\",\"at\":10}",
                "{\"event\":\"node_up\",\"node\":\"b\",\"at\":20}",
                NULL,
        };

        (void)state;
        assert_int_equal(simulate(&run, TWO_NODES, lines, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"j1\",\"node\":\"a\",\"gpus\":[]}\n"
                               "{\"seq\":2,\"time\":0,\"job\":\"j2\",\"node\":\"b\",\"gpus\":[]}\n"
                               "{\"seq\":3,\"time\":10,\"job\":\"j2\",\"node\":\"b\",\"gpus\":[],"
                               "\"requeued\":\"node_down\"}\n"
                               "{\"seq\":4,\"time\":20,\"job\":\"j2\",\"node\":\"b\",\"gpus\":[]}\n");
        assert_int_equal(run.sum.requeues, 1);
        /* j2 waited 0 s before its first start */
        assert_int_equal(run.sum.wait_mean_sec, 0);
        run_done(&run);
}

/* A job no node could ever hold is reported at once; the inputs are checked before anything runs. */
static void test_pending_and_bad_input(void **state)
{
        Run run;
        const char *lines[] = {
                JOB("huge", 0, 1, 0, 64),
                JOB("ok", 0, 1, 0, 1),
                NULL,
        };
        const char *bad_node[] = {
                JOB("ok", 0, 1, 0, 1),
                "{\"event\":\"node_down\",\"node\":\"zz\",\"at\":1}",
                NULL,
        };

        (void)state;
        assert_int_equal(simulate(&run, ONE_NODE, lines, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END), 0);
        assert_decisions(&run, "{\"seq\":1,\"time\":0,\"job\":\"huge\",\"pending\":\"fits no node\"}\n"
                               "{\"seq\":2,\"time\":0,\"job\":\"ok\",\"node\":\"a\",\"gpus\":[]}\n");
        assert_int_equal(run.sum.pending, 1);
        run_done(&run);

        assert_int_equal(simulate(&run, ONE_NODE, bad_node, SCHED_POLICY_BINPACK, 1000, SIM_UNTIL_END),
                         -EINVAL);
        assert_string_equal(run.err.msg, "line 2: node: no node \"zz\" in the cluster");
        assert_null(run.out.ptr);
        run_done(&run);
}

static void test_gang_priorities_must_agree(void **state)
{
        Run run = {};
        const char *lines[] = {
                "{\"id\":\"g1\",\"submit\":0,\"duration\":1,\"priority\":0,\"cpu\":1,\"memory\":1,\"gpus\":"
                "0,"
                "\"gang\":\"g\"}",
                "{\"id\":\"g2\",\"submit\":0,\"duration\":1,\"priority\":3,\"cpu\":1,\"memory\":1,\"gpus\":"
                "0,"
                "\"gang\":\"g\"}",
        };

        (void)state;
        for (size_t i = 0; i < 2; i++)
                assert_int_equal(sched_input_parse_line(lines[i], (unsigned)i + 1, &run.in[i], &run.err), 0);
        assert_int_equal(sched_sim_gangs_from_inputs(run.in, 2, &run.gangs, &run.n_gangs, &run.err),
                         -EINVAL);
        assert_string_equal(run.err.msg, "line 2: gang: priority 3 differs from 0 of gang \"g\" (line 1)");
        run.n = 2;
        run_done(&run);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_priority_then_fifo),
                cmocka_unit_test(test_backfill),
                cmocka_unit_test(test_reservation_stops_starvation),
                cmocka_unit_test(test_gang_all_or_nothing),
                cmocka_unit_test(test_gang_placed_together),
                cmocka_unit_test(test_preemption_fewest_victims),
                cmocka_unit_test(test_node_down_requeues),
                cmocka_unit_test(test_pending_and_bad_input),
                cmocka_unit_test(test_gang_priorities_must_agree),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
