/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Property tests for the scheduler over time: thousands of random clusters and job streams from a
 * seeded generator (splitmix64, integers only), written as cluster JSON and job JSON-lines text so
 * the real parsers read them. A checker sink follows every record of the simulation and checks it
 * against what it tracks on its own: capacity, GPU owners, exact release, placements that satisfy
 * the job, gangs all or nothing, and the order of records. Every case runs twice and once more
 * from a shuffled cluster file, and the decisions must be byte-identical. Journals of random runs
 * load and replay identically, also when cut at any byte. Tampered records show that each check
 * can fail.
 *
 * A failure names its seed; BERTH_PROPS_SEED=N runs only case N of the property loop and prints it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strbuf.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/journal.h"
#include "sched/place.h"
#include "sched/sim.h"

/* Fewer cases under the sanitizers, which run about ten times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
#define N_SIM_SEEDS        1500
#define N_JOURNAL_SEEDS    100
#define N_TRUNC_EVERY_BYTE 5
#define N_TRUNC_SAMPLED    8
#else
#define N_SIM_SEEDS        4000
#define N_JOURNAL_SEEDS    300
#define N_TRUNC_EVERY_BYTE 12
#define N_TRUNC_SAMPLED    20
#endif

#define MAX_NODES     12
#define MAX_NODE_GPUS 8
#define MAX_LINES     80
#define LINE_SIZE     512

/* ---- splitmix64 */

typedef struct Rng {
        uint64_t s;
} Rng;

static uint64_t rng_next(Rng *r)
{
        uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static uint32_t rng_below(Rng *r, uint32_t n)
{
        assert_true(n > 0);
        return (uint32_t)(rng_next(r) % n);
}

static uint32_t rng_range(Rng *r, uint32_t lo, uint32_t hi)
{
        return lo + rng_below(r, hi - lo + 1);
}

static bool rng_chance(Rng *r, uint32_t percent)
{
        return rng_below(r, 100) < percent;
}

/* ---- the generated case, as data; text is written from it */

static const char *const gpu_models[] = {"A100", "L4"};
static const char *const label_keys[] = {"pool", "tier", "zone"};
static const char *const label_values[] = {"a", "b", "c"};

typedef struct GenGpu {
        unsigned id; /* uuid "GPU-<node>-<id>" */
        const char *model;
        unsigned memory_gi;
        unsigned nvlink;
} GenGpu;

typedef struct GenNode {
        char name[8];
        unsigned cpu_millis;
        unsigned memory_mi;
        GenGpu gpus[MAX_NODE_GPUS];
        unsigned n_gpus;
        const char *label_value[ELEMENTSOF(label_keys)]; /* NULL: no such label */
} GenNode;

typedef struct Case {
        uint64_t seed;
        GenNode nodes[MAX_NODES];
        unsigned n_nodes;
        unsigned max_cpu_millis, max_memory_mi, n_gpu_nodes;
        char lines[MAX_LINES][LINE_SIZE];
        unsigned n_lines;
        unsigned n_gangs;
        uint64_t last_submit;
        SimOptions o;
} Case;

static void gen_node(Rng *r, GenNode *n, unsigned i)
{
        static const char letters[] = "aBcDeF";

        *n = (GenNode){};
        assert_true(snprintf(n->name, sizeof(n->name), "%c%u", letters[rng_below(r, 6)], i) <
                    (int)sizeof(n->name));
        n->cpu_millis = rng_range(r, 2, 32) * 1000 + (rng_chance(r, 20) ? 500 : 0);
        n->memory_mi = rng_range(r, 2, 64) * 1024 + (rng_chance(r, 20) ? 512 : 0);
        for (size_t k = 0; k < ELEMENTSOF(label_keys); k++)
                if (rng_chance(r, 50))
                        n->label_value[k] = label_values[rng_below(r, ELEMENTSOF(label_values))];
        if (rng_chance(r, 50)) {
                unsigned n_domains = rng_range(r, 1, 3), n_models = rng_range(r, 1, 2);
                unsigned first_model = rng_below(r, 2);

                n->n_gpus = rng_range(r, 2, MAX_NODE_GPUS);
                for (unsigned g = 0; g < n->n_gpus; g++) {
                        const char *model = gpu_models[(first_model + rng_below(r, n_models)) % 2];

                        n->gpus[g] = (GenGpu){
                                .id = g,
                                .model = model,
                                .memory_gi = streq(model, "L4") ? 24 : (rng_chance(r, 50) ? 40 : 80),
                                /* domains named by sparse values, not 0...n-1 */
                                .nvlink = rng_below(r, n_domains) * 3,
                        };
                }
        }
}

static void gen_cluster(Rng *r, Case *k)
{
        k->n_nodes = rng_range(r, 1, MAX_NODES);
        for (unsigned i = 0; i < k->n_nodes; i++) {
                GenNode *n = &k->nodes[i];

                gen_node(r, n, i);
                if (n->cpu_millis > k->max_cpu_millis)
                        k->max_cpu_millis = n->cpu_millis;
                if (n->memory_mi > k->max_memory_mi)
                        k->max_memory_mi = n->memory_mi;
                k->n_gpu_nodes += n->n_gpus > 0;
        }
}

/* A size that often does not fit: mostly small, sometimes up to the largest node and beyond. */
static unsigned gen_size(Rng *r, unsigned max, unsigned unit)
{
        uint32_t p = rng_below(r, 100);

        if (p < 50)
                return rng_range(r, 1, 8) * unit / 4;
        if (p < 93)
                return rng_range(r, 1, max / 2 > 1 ? max / 2 : 1);
        return rng_range(r, max / 2 > 1 ? max / 2 : 1, max + max / 10);
}

static char *gen_line(Case *k)
{
        assert_true(k->n_lines < MAX_LINES);
        return k->lines[k->n_lines++];
}

/* Mostly labels of some node (so that they match it), sometimes any. */
static void gen_selector(Rng *r, const Case *k, StrBuf *b)
{
        const GenNode *n = &k->nodes[rng_below(r, k->n_nodes)];
        bool any = rng_chance(r, 20), first = true;

        for (size_t key = 0; key < ELEMENTSOF(label_keys); key++) {
                const char *v = n->label_value[key];

                if (any && rng_chance(r, 40))
                        v = label_values[rng_below(r, ELEMENTSOF(label_values))];
                if (!v || rng_chance(r, 50))
                        continue;
                strbuf_printf(b, "%s\"%s\":\"%s\"", first ? ",\"selector\":{" : ",", label_keys[key], v);
                first = false;
        }
        if (!first)
                strbuf_putc(b, '}');
}

/* GPUs mostly as some GPU node has them, sometimes any. */
static void gen_gpus(Rng *r, const Case *k, StrBuf *b)
{
        const GenNode *n = &k->nodes[rng_below(r, k->n_nodes)];
        const GenGpu *g;
        bool any = rng_chance(r, 15);
        unsigned count;

        while (n->n_gpus == 0)
                n = &k->nodes[rng_below(r, k->n_nodes)];
        g = &n->gpus[rng_below(r, n->n_gpus)];
        count = any ? rng_range(r, 1, MAX_NODE_GPUS) : rng_range(r, 1, n->n_gpus < 4 ? n->n_gpus : 4);
        strbuf_printf(b, ",\"gpus\":%u", count);
        if (rng_chance(r, 30))
                strbuf_printf(b, ",\"gpu_model\":\"%s\"", any ? gpu_models[rng_below(r, 2)] : g->model);
        if (rng_chance(r, 25))
                strbuf_printf(b, ",\"gpu_memory\":\"%uGi\"", any ? 60 : g->memory_gi / rng_range(r, 1, 2));
}

/* One job line; @gang NULL for none (gang members ask for less, so that gangs often fit). */
static void gen_job(Rng *r, Case *k, const char *id, uint64_t submit, int64_t priority, const char *gang)
{
        StrBuf b = STRBUF_INIT;
        unsigned cpu = gen_size(r, k->max_cpu_millis / (gang ? 3 : 1), 1000);
        unsigned mem = gen_size(r, k->max_memory_mi / (gang ? 3 : 1), 1024);
        char *line;

        strbuf_printf(&b, "{\"id\":\"%s\",\"submit\":%" PRIu64 ",\"duration\":%u,\"priority\":%" PRId64, id,
                      submit, rng_range(r, 1, 50), priority);
        if (cpu % 1000 == 0 && rng_chance(r, 50))
                strbuf_printf(&b, ",\"cpu\":%u", cpu / 1000);
        else
                strbuf_printf(&b, ",\"cpu\":\"%um\"", cpu);
        if (rng_chance(r, 50))
                strbuf_printf(&b, ",\"memory\":\"%uMi\"", mem);
        else
                strbuf_printf(&b, ",\"memory\":%" PRIu64, (uint64_t)mem << 20);
        if (k->n_gpu_nodes > 0 && rng_chance(r, 40))
                gen_gpus(r, k, &b);
        else
                strbuf_puts(&b, ",\"gpus\":0");
        if (rng_chance(r, 20))
                gen_selector(r, k, &b);
        if (gang)
                strbuf_printf(&b, ",\"gang\":\"%s\"", gang);
        else if (rng_chance(r, 25))
                strbuf_puts(&b, ",\"preemptible\":true");
        strbuf_putc(&b, '}');
        assert_false(strbuf_failed(&b));
        assert_true(b.len < LINE_SIZE);
        line = gen_line(k);
        memcpy(line, b.ptr, b.len + 1);
        strbuf_done(&b);
}

static void gen_jobs(Rng *r, Case *k)
{
        static const int64_t priorities[] = {-1, 0, 0, 2, 5};
        unsigned n_jobs = rng_range(r, 1, 60), id = 0;
        uint64_t t = 0;

        while (id < n_jobs && k->n_lines + 3 < MAX_LINES - 4) {
                int64_t prio = priorities[rng_below(r, ELEMENTSOF(priorities))];
                uint64_t submit;
                char name[16];

                if (!rng_chance(r, 50))
                        t += rng_range(r, 1, 8);
                /* now and then a line out of time order */
                submit = rng_chance(r, 10) ? rng_below(r, (uint32_t)t + 1) : t;
                if (rng_chance(r, 7)) {
                        unsigned size = rng_range(r, 2, 3);
                        char gang[16];

                        snprintf(gang, sizeof(gang), "g%u", k->n_gangs++);
                        for (unsigned m = 0; m < size; m++) {
                                snprintf(name, sizeof(name), "j%u", id++);
                                gen_job(r, k, name, submit + rng_below(r, 3), prio, gang);
                        }
                } else {
                        snprintf(name, sizeof(name), "j%u", id++);
                        gen_job(r, k, name, submit, prio, NULL);
                }
                if (t > k->last_submit)
                        k->last_submit = t;
        }
}

static void gen_node_events(Rng *r, Case *k)
{
        unsigned n_events = rng_chance(r, 30) ? rng_range(r, 1, 4) : 0;

        for (unsigned e = 0; e < n_events; e++) {
                char name[sizeof(k->nodes[0].name)], *line;
                unsigned at = rng_below(r, (uint32_t)k->last_submit + 30);

                memcpy(name, k->nodes[rng_below(r, k->n_nodes)].name, sizeof(name));
                line = gen_line(k);
                /* at a random position among the lines: the simulation orders by time, then line */
                snprintf(line, LINE_SIZE, "{\"event\":\"%s\",\"node\":\"%s\",\"at\":%u}",
                         rng_chance(r, 60) ? "node_down" : "node_up", name, at);
                for (unsigned p = k->n_lines - 1, to = rng_below(r, k->n_lines); p > to; p--) {
                        char tmp[LINE_SIZE];

                        memcpy(tmp, k->lines[p], LINE_SIZE);
                        memcpy(k->lines[p], k->lines[p - 1], LINE_SIZE);
                        memcpy(k->lines[p - 1], tmp, LINE_SIZE);
                }
        }
}

static void case_generate(uint64_t seed, Case *k)
{
        static const uint64_t starve[] = {0, 1, 2, 5, 20, 600};
        Rng r = {seed};

        *k = (Case){.seed = seed};
        gen_cluster(&r, k);
        gen_jobs(&r, k);
        gen_node_events(&r, k);
        k->o = (SimOptions){
                .policy = rng_chance(&r, 50) ? SCHED_POLICY_BINPACK : SCHED_POLICY_SPREAD,
                .starve_after_sec = starve[rng_below(&r, ELEMENTSOF(starve))],
                .until_sec =
                        rng_chance(&r, 20) ? rng_below(&r, (uint32_t)k->last_submit + 40) : SIM_UNTIL_END,
        };
}

/* ---- cluster text: nodes, GPUs and labels in an order and with quantity spellings chosen by @shuffle
 * (0: as generated, plain spellings) */

static void shuffle_order(Rng *r, unsigned *order, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                order[i] = i;
        if (!r)
                return;
        for (unsigned i = n; i > 1; i--) {
                unsigned j = rng_below(r, i), t = order[i - 1];

                order[i - 1] = order[j];
                order[j] = t;
        }
}

static void write_cpu(StrBuf *b, Rng *r, unsigned millis)
{
        uint32_t how = r ? rng_below(r, 3) : 0;

        if (millis % 1000 == 0 && how == 0)
                strbuf_printf(b, "%u", millis / 1000);
        else if (millis % 1000 == 0 && how == 1)
                strbuf_printf(b, "\"%u\"", millis / 1000);
        else if (millis % 1000 == 500 && how != 2)
                strbuf_printf(b, "\"%u.5\"", millis / 1000);
        else
                strbuf_printf(b, "\"%um\"", millis);
}

static void write_memory_mi(StrBuf *b, Rng *r, uint64_t mi)
{
        uint32_t how = r ? rng_below(r, 3) : 0;

        if (mi % 1024 == 0 && how == 0)
                strbuf_printf(b, "\"%" PRIu64 "Gi\"", mi / 1024);
        else if (how == 1)
                strbuf_printf(b, "%" PRIu64, mi << 20);
        else
                strbuf_printf(b, "\"%" PRIu64 "Mi\"", mi);
}

static void write_node(StrBuf *b, Rng *r, const GenNode *n)
{
        unsigned order[MAX_NODE_GPUS], lorder[ELEMENTSOF(label_keys)];
        bool first = true;

        strbuf_printf(b, "{\"name\":\"%s\",\"cpu\":", n->name);
        write_cpu(b, r, n->cpu_millis);
        strbuf_puts(b, ",\"memory\":");
        write_memory_mi(b, r, n->memory_mi);
        if (n->n_gpus > 0 || (r && rng_chance(r, 30))) {
                strbuf_puts(b, ",\"gpus\":[");
                shuffle_order(r, order, n->n_gpus);
                for (unsigned g = 0; g < n->n_gpus; g++) {
                        const GenGpu *gpu = &n->gpus[order[g]];

                        strbuf_printf(b,
                                      "%s{\"uuid\":\"GPU-%s-%u\",\"model\":\"%s\",\"memory\":", g ? "," : "",
                                      n->name, gpu->id, gpu->model);
                        write_memory_mi(b, r, (uint64_t)gpu->memory_gi * 1024);
                        strbuf_printf(b, ",\"nvlink\":%u}", gpu->nvlink);
                }
                strbuf_putc(b, ']');
        }
        shuffle_order(r, lorder, ELEMENTSOF(label_keys));
        for (size_t i = 0; i < ELEMENTSOF(label_keys); i++) {
                size_t key = lorder[i];

                if (!n->label_value[key])
                        continue;
                strbuf_printf(b, "%s\"%s\":\"%s\"", first ? ",\"labels\":{" : ",", label_keys[key],
                              n->label_value[key]);
                first = false;
        }
        if (!first)
                strbuf_putc(b, '}');
        strbuf_putc(b, '}');
}

static char *cluster_text(const Case *k, uint64_t shuffle)
{
        Rng rng = {shuffle}, *r = shuffle ? &rng : NULL;
        unsigned order[MAX_NODES];
        StrBuf b = STRBUF_INIT;

        shuffle_order(r, order, k->n_nodes);
        strbuf_puts(&b, "{\"nodes\":[");
        for (unsigned i = 0; i < k->n_nodes; i++) {
                if (i > 0)
                        strbuf_putc(&b, ',');
                write_node(&b, r, &k->nodes[order[i]]);
        }
        strbuf_puts(&b, "]}");
        assert_false(strbuf_failed(&b));
        return strbuf_steal(&b);
}

/* ---- a case parsed by the real parsers */

typedef struct Parsed {
        Cluster *c;
        SchedInput in[MAX_LINES];
        const char *raw[MAX_LINES];
        size_t n;
        SimGang *gangs;
        size_t n_gangs;
} Parsed;

static void parsed_load(Parsed *p, uint64_t seed, const char *cluster, const char (*lines)[LINE_SIZE],
                        size_t n_lines)
{
        BerthError err = {};

        *p = (Parsed){};
        if (sched_cluster_parse(cluster, &p->c, &err) < 0)
                fail_msg("seed %" PRIu64 ": cluster: %s\n%s", seed, err.msg, cluster);
        assert_true(p->c->n_nodes <= MAX_NODES);
        for (size_t i = 0; i < p->c->n_nodes; i++)
                assert_true(p->c->nodes[i].n_gpus <= MAX_NODE_GPUS);
        assert_true(n_lines <= MAX_LINES);
        for (; p->n < n_lines; p->n++) {
                p->raw[p->n] = lines[p->n];
                if (sched_input_parse_line(lines[p->n], (unsigned)p->n + 1, &p->in[p->n], &err) < 0)
                        fail_msg("seed %" PRIu64 ": line %zu: %s\n%s", seed, p->n + 1, err.msg, lines[p->n]);
        }
        if (sched_sim_gangs_from_inputs(p->in, p->n, &p->gangs, &p->n_gangs, &err) < 0)
                fail_msg("seed %" PRIu64 ": gangs: %s", seed, err.msg);
}

static void parsed_done(Parsed *p)
{
        for (size_t i = 0; i < p->n; i++)
                sched_input_done(&p->in[i]);
        sched_sim_gangs_free(p->gangs, p->n_gangs);
        sched_cluster_free(p->c);
        *p = (Parsed){};
}

/* ---- the checker: a sink that tracks every job on its own and checks each record and the state after
 * it */

typedef enum TrackPhase {
        T_FUTURE, /* no INPUT record yet */
        T_QUEUED, /* arrived, not running: waiting for its gang, queued, or evicted */
        T_RUNNING,
        T_DONE,
        T_NEVER, /* reported pending */
} TrackPhase;

static const char *const phase_names[] = {"future", "queued", "running", "done", "pending"};
static const char *const record_names[] = {"INPUT", "PLACE", "PREEMPT", "REQUEUE", "PENDING", "FINISH"};

typedef struct Track {
        TrackPhase phase;
        bool placed_once;
        uint64_t start;
        size_t node;
        uint32_t gpus[MAX_NODE_GPUS];
        uint32_t n_gpus;
        size_t gang; /* the lowest input index of its gang, or SIZE_MAX */
} Track;

typedef struct Counts {
        uint64_t cases, cases_until, runs, records, places, preempts, requeues, finishes, pendings;
        uint64_t gang_places, node_events, fresh_checks;
} Counts;

typedef struct Checker {
        uint64_t seed;
        const char *run; /* which run of the case, for messages */
        const Cluster *c;
        const SchedInput *in;
        size_t n;
        const SimOptions *o;
        ClusterState *fresh;
        Track t[MAX_LINES];
        bool down[MAX_NODES];
        /* the records that must come next: the rest of a gang placed or requeued together */
        size_t expect[MAX_LINES];
        size_t n_expect;
        SimRecordType expect_type;
        const Job *expect_by;  /* after PREEMPT: more victims of it, then its PLACE */
        bool prev_may_requeue; /* the previous record was a node_down INPUT or a REQUEUE */
        bool continues;        /* this record was one that had to come next */
        uint64_t time, seq, records;
        uint64_t inputs, preempts, requeues, pendings;
        size_t running;
        bool fresh_after_last; /* the last record left nothing running and the state as new */
        Counts *counts;
        StrBuf text;      /* every record, for determinism */
        StrBuf decisions; /* decision records, one a line, as journals hold them */
        char fail[2048];
} Checker;

static int check_fail(Checker *ck, const SimRecord *r, const char *fmt, ...) _printf_(3, 4);

static int check_fail(Checker *ck, const SimRecord *r, const char *fmt, ...)
{
        va_list ap;
        int n = 0;

        if (ck->fail[0])
                return -EPROTO; /* the first failure is the telling one */
        if (r)
                n = snprintf(ck->fail, sizeof(ck->fail),
                             "seed %" PRIu64 " (%s run), record %" PRIu64 " %s %s at %" PRIu64 ": ",
                             ck->seed, ck->run, ck->records + 1,
                             r->type < _SIM_RECORD_TYPE_MAX ? record_names[r->type] : "?",
                             r->job ? r->job->id : "(node event)", r->time);
        else
                n = snprintf(ck->fail, sizeof(ck->fail), "seed %" PRIu64 " (%s run), at the end: ", ck->seed,
                             ck->run);
        if (n < 0 || (size_t)n >= sizeof(ck->fail))
                n = 0;
        va_start(ap, fmt);
        (void)vsnprintf(ck->fail + n, sizeof(ck->fail) - (size_t)n, fmt, ap);
        va_end(ap);
        return -EPROTO;
}

static void checker_init(Checker *ck, const Parsed *p, const SimOptions *o, uint64_t seed, const char *run,
                         Counts *counts)
{
        *ck = (Checker){
                .seed = seed,
                .run = run,
                .c = p->c,
                .in = p->in,
                .n = p->n,
                .o = o,
                .counts = counts,
        };
        assert_int_equal(sched_cluster_state_new(p->c, &ck->fresh), 0);
        for (size_t i = 0; i < p->n; i++) {
                ck->t[i] = (Track){.gang = SIZE_MAX};
                if (p->in[i].kind != SCHED_INPUT_JOB || !p->in[i].job.gang)
                        continue;
                for (size_t k = 0; k <= i; k++)
                        if (p->in[k].kind == SCHED_INPUT_JOB && p->in[k].job.gang &&
                            streq(p->in[k].job.gang, p->in[i].job.gang)) {
                                ck->t[i].gang = k;
                                break;
                        }
        }
}

static void checker_done(Checker *ck)
{
        sched_cluster_state_free(ck->fresh);
        strbuf_done(&ck->text);
        strbuf_done(&ck->decisions);
}

static const Job *ck_job(const Checker *ck, size_t i)
{
        return ck->in[i].kind == SCHED_INPUT_JOB ? &ck->in[i].job : NULL;
}

static bool same_placement(const Track *t, const Placement *p)
{
        return p->node == t->node && p->n_gpus == t->n_gpus &&
               (p->n_gpus == 0 || memcmp(p->gpus, t->gpus, p->n_gpus * sizeof(uint32_t)) == 0);
}

/* Time, numbering, which job the record is about, and the records that must come next. */
static int check_order(Checker *ck, const SimRecord *r)
{
        ck->continues = false;
        if (r->type >= _SIM_RECORD_TYPE_MAX)
                return check_fail(ck, r, "unknown record type %d", (int)r->type);
        if (r->time < ck->time)
                return check_fail(ck, r, "time goes back from %" PRIu64, ck->time);
        if (sched_sim_record_is_decision(r->type) ? r->seq != ck->seq + 1 : r->seq != 0)
                return check_fail(ck, r, "seq %" PRIu64 " after %" PRIu64, r->seq, ck->seq);
        if (r->input >= ck->n || !r->state || r->state->n_nodes != ck->c->n_nodes)
                return check_fail(ck, r, "input %zu or state out of range", r->input);
        if (r->job != ck_job(ck, r->input) || (!r->job && r->type != SIM_RECORD_INPUT))
                return check_fail(ck, r, "job pointer is not input %zu's", r->input);
        if (ck->n_expect > 0) {
                size_t k = 0;

                while (k < ck->n_expect && ck->expect[k] != r->input)
                        k++;
                if (r->type != ck->expect_type || k == ck->n_expect)
                        return check_fail(ck, r, "gang split: %s of gang member %s must come next",
                                          record_names[ck->expect_type], ck_job(ck, ck->expect[0])->id);
                ck->expect[k] = ck->expect[--ck->n_expect];
                ck->continues = true;
        }
        if (ck->expect_by) {
                if (r->type == SIM_RECORD_PLACE && r->job == ck->expect_by)
                        ck->expect_by = NULL;
                else if (r->type != SIM_RECORD_PREEMPT || r->by != ck->expect_by)
                        return check_fail(ck, r, "preemptor %s not placed right after its victims",
                                          ck->expect_by->id);
        }
        if (r->type == SIM_RECORD_REQUEUE && !ck->prev_may_requeue)
                return check_fail(ck, r, "REQUEUE not right after a node_down or another REQUEUE");
        ck->time = r->time;
        if (sched_sim_record_is_decision(r->type))
                ck->seq = r->seq;
        return 0;
}

/* The node and GPUs of @p satisfy @j: node up, capacity, GPU count, model, memory, selector. */
static int check_satisfies(Checker *ck, const SimRecord *r, const Job *j, const Placement *p)
{
        const Node *node;

        if (p->node >= ck->c->n_nodes)
                return check_fail(ck, r, "node %zu out of range", p->node);
        node = &ck->c->nodes[p->node];
        if (ck->down[p->node])
                return check_fail(ck, r, "placed on %s, which is down", node->name);
        if (j->cpu_millis > node->cpu_millis || j->memory_bytes > node->memory_bytes)
                return check_fail(ck, r, "%s is too small for the job", node->name);
        if (p->n_gpus != j->n_gpus)
                return check_fail(ck, r, "%" PRIu32 " GPUs for a job asking %" PRIu32, p->n_gpus, j->n_gpus);
        for (uint32_t g = 0; g < p->n_gpus; g++) {
                const Gpu *gpu;

                if (p->gpus[g] >= node->n_gpus || (g > 0 && p->gpus[g] <= p->gpus[g - 1]))
                        return check_fail(ck, r, "GPU indexes not ascending within %s", node->name);
                gpu = &node->gpus[p->gpus[g]];
                if (j->gpu_model && !streq(j->gpu_model, gpu->model))
                        return check_fail(ck, r, "%s is a %s, not a %s", gpu->uuid, gpu->model,
                                          j->gpu_model);
                if (gpu->memory_bytes < j->gpu_memory_bytes)
                        return check_fail(ck, r, "%s has too little memory", gpu->uuid);
        }
        for (size_t s = 0; s < j->n_selector; s++) {
                const char *v = sched_labels_find(node->labels, node->n_labels, j->selector[s].key);

                if (!v || !streq(v, j->selector[s].value))
                        return check_fail(ck, r, "%s lacks %s=%s", node->name, j->selector[s].key,
                                          j->selector[s].value);
        }
        return 0;
}

static int on_input(Checker *ck, const SimRecord *r)
{
        const SchedInput *in = &ck->in[r->input];
        Track *t = &ck->t[r->input];

        if (t->phase != T_FUTURE)
                return check_fail(ck, r, "input taken twice");
        if (in->kind == SCHED_INPUT_NODE_EVENT) {
                const Node *node = sched_cluster_find_node(ck->c, in->node_event.node);

                if (r->time != in->node_event.at_sec || !node)
                        return check_fail(ck, r, "node event at the wrong time or for no node");
                ck->down[node - ck->c->nodes] = in->node_event.type == NODE_EVENT_DOWN;
                ck->counts->node_events++;
        } else if (r->time != in->job.submit_sec)
                return check_fail(ck, r, "arrives at %" PRIu64 ", submitted at %" PRIu64, r->time,
                                  in->job.submit_sec);
        t->phase = in->kind == SCHED_INPUT_JOB ? T_QUEUED : T_DONE;
        ck->inputs++;
        return 0;
}

static int on_place(Checker *ck, const SimRecord *r)
{
        Track *t = &ck->t[r->input];
        const Placement *p = r->placement;
        int k;

        if (t->phase != T_QUEUED)
                return check_fail(ck, r, "PLACE of a job that is %s", phase_names[t->phase]);
        if (!p || p->n_gpus > MAX_NODE_GPUS)
                return check_fail(ck, r, "no placement");
        k = check_satisfies(ck, r, r->job, p);
        if (k < 0)
                return k;
        if (t->gang != SIZE_MAX && !ck->continues) {
                /* the first member placed: every other member still queued must follow */
                for (size_t i = t->gang; i < ck->n; i++) {
                        if (ck->t[i].gang != t->gang || i == r->input)
                                continue;
                        if (ck->t[i].phase == T_FUTURE)
                                return check_fail(ck, r, "gang placed before member %s arrived",
                                                  ck_job(ck, i)->id);
                        if (ck->t[i].phase == T_QUEUED)
                                ck->expect[ck->n_expect++] = i;
                }
                ck->expect_type = SIM_RECORD_PLACE;
                ck->counts->gang_places++;
        }
        t->phase = T_RUNNING;
        t->placed_once = true;
        t->start = r->time;
        t->node = p->node;
        t->n_gpus = p->n_gpus;
        if (p->n_gpus > 0)
                memcpy(t->gpus, p->gpus, p->n_gpus * sizeof(uint32_t));
        ck->running++;
        ck->counts->places++;
        return 0;
}

/* Whether gang @gang has a member running on a node that is down. */
static bool gang_on_down_node(const Checker *ck, size_t gang)
{
        for (size_t i = gang; i < ck->n; i++)
                if (ck->t[i].gang == gang && ck->t[i].phase == T_RUNNING && ck->down[ck->t[i].node])
                        return true;
        return false;
}

/* PREEMPT, REQUEUE, FINISH: a running job leaves with the placement it got. */
static int on_stop(Checker *ck, const SimRecord *r)
{
        Track *t = &ck->t[r->input];
        const Job *j = r->job;

        if (t->phase != T_RUNNING)
                return check_fail(ck, r, "%s of a job that is %s", record_names[r->type],
                                  phase_names[t->phase]);
        if (!r->placement || !same_placement(t, r->placement))
                return check_fail(ck, r, "placement differs from the one it got");
        if (r->type == SIM_RECORD_FINISH && r->time != t->start + j->duration_sec)
                return check_fail(ck, r, "started at %" PRIu64 ", ran %" PRIu64 " s, ends at %" PRIu64,
                                  t->start, j->duration_sec, r->time);
        if (r->type == SIM_RECORD_PREEMPT) {
                const Job *by = r->by;

                if (!by || by < &ck->in[0].job || by > &ck->in[ck->n - 1].job)
                        return check_fail(ck, r, "preempted by no job of the input");
                if (!j->preemptible || j->gang || by->gang || by->priority <= j->priority)
                        return check_fail(ck, r, "may not be preempted by %s", by->id);
                ck->expect_by = by;
                ck->preempts++;
                ck->counts->preempts++;
        }
        if (r->type == SIM_RECORD_REQUEUE) {
                if (!ck->continues && !ck->down[t->node] &&
                    (t->gang == SIZE_MAX || !gang_on_down_node(ck, t->gang)))
                        return check_fail(ck, r, "requeued, but neither its node nor its gang's is down");
                if (t->gang != SIZE_MAX && !ck->continues) {
                        for (size_t i = t->gang; i < ck->n; i++)
                                if (ck->t[i].gang == t->gang && i != r->input && ck->t[i].phase == T_RUNNING)
                                        ck->expect[ck->n_expect++] = i;
                        ck->expect_type = SIM_RECORD_REQUEUE;
                }
                ck->requeues++;
                ck->counts->requeues++;
        }
        t->phase = r->type == SIM_RECORD_FINISH ? T_DONE : T_QUEUED;
        ck->running--;
        if (r->type == SIM_RECORD_FINISH)
                ck->counts->finishes++;
        return 0;
}

static int on_pending(Checker *ck, const SimRecord *r)
{
        Track *t = &ck->t[r->input];

        if (t->phase != T_QUEUED)
                return check_fail(ck, r, "PENDING of a job that is %s", phase_names[t->phase]);
        if (!r->reason)
                return check_fail(ck, r, "PENDING without a reason");
        if (streq(r->reason, "fits no node") && sched_job_fits_some_node(ck->c, r->job))
                return check_fail(ck, r, "\"fits no node\", but it fits some node");
        t->phase = T_NEVER;
        ck->pendings++;
        ck->counts->pendings++;
        return 0;
}

/* Whether @s equals a new state for the cluster in everything but up/down flags: what every job took
 * was given back exactly. */
static bool state_is_fresh(const ClusterState *s, const ClusterState *fresh)
{
        if (s->n_nodes != fresh->n_nodes || s->max_node_gpus != fresh->max_node_gpus)
                return false;
        for (size_t i = 0; i < s->n_nodes; i++) {
                const NodeState *a = &s->nodes[i], *b = &fresh->nodes[i];

                if (a->cpu_millis != b->cpu_millis || a->memory_bytes != b->memory_bytes ||
                    a->free_cpu_millis != b->free_cpu_millis ||
                    a->free_memory_bytes != b->free_memory_bytes || a->n_gpus != b->n_gpus ||
                    a->n_domains != b->n_domains || a->n_free_gpus != b->n_free_gpus)
                        return false;
                for (uint32_t g = 0; g < a->n_gpus; g++)
                        if (a->gpu_owner[g] != b->gpu_owner[g] || a->gpu_domain[g] != b->gpu_domain[g])
                                return false;
                for (uint32_t d = 0; d < a->n_domains; d++)
                        if (a->domain_size[d] != b->domain_size[d])
                                return false;
        }
        return true;
}

/* Each node's state against what the jobs tracked as running on it hold. */
static int check_node(Checker *ck, const SimRecord *r, size_t i, uint64_t used_cpu, uint64_t used_mem,
                      const size_t *holder)
{
        const Node *node = &ck->c->nodes[i];
        const NodeState *ns = &r->state->nodes[i];
        uint32_t n_free = 0;

        if (ns->cpu_millis != node->cpu_millis || ns->memory_bytes != node->memory_bytes ||
            ns->n_gpus != node->n_gpus)
                return check_fail(ck, r, "%s: capacities differ from the cluster's", node->name);
        if (used_cpu > node->cpu_millis || used_mem > node->memory_bytes)
                return check_fail(
                        ck, r, "%s: over capacity: cpu %" PRIu64 "/%" PRIu64 ", memory %" PRIu64 "/%" PRIu64,
                        node->name, used_cpu, node->cpu_millis, used_mem, node->memory_bytes);
        if (ns->free_cpu_millis > ns->cpu_millis || ns->free_memory_bytes > ns->memory_bytes)
                return check_fail(ck, r, "%s: more free than capacity", node->name);
        if (ns->free_cpu_millis != node->cpu_millis - used_cpu)
                return check_fail(ck, r, "%s: free cpu %" PRIu64 ", but running jobs leave %" PRIu64,
                                  node->name, ns->free_cpu_millis, node->cpu_millis - used_cpu);
        if (ns->free_memory_bytes != node->memory_bytes - used_mem)
                return check_fail(ck, r, "%s: free memory %" PRIu64 ", but running jobs leave %" PRIu64,
                                  node->name, ns->free_memory_bytes, node->memory_bytes - used_mem);
        for (uint32_t g = 0; g < ns->n_gpus; g++) {
                if (ns->gpu_owner[g] != holder[g])
                        return check_fail(
                                ck, r, "%s: owner of %s is %s, expected %s", node->name, node->gpus[g].uuid,
                                ns->gpu_owner[g] == SCHED_OWNER_NONE ? "none"
                                : ns->gpu_owner[g] < ck->n && ck_job(ck, ns->gpu_owner[g])
                                        ? ck_job(ck, ns->gpu_owner[g])->id
                                        : "not a job",
                                holder[g] == SCHED_OWNER_NONE ? "none" : ck_job(ck, holder[g])->id);
                n_free += ns->gpu_owner[g] == SCHED_OWNER_NONE;
        }
        if (ns->n_free_gpus != n_free)
                return check_fail(ck, r, "%s: n_free_gpus %" PRIu32 ", %" PRIu32 " GPUs have no owner",
                                  node->name, ns->n_free_gpus, n_free);
        return 0;
}

/* The gangs: between records that must come together, every member not finished or given up is
 * running, or none is. */
static int check_gangs(Checker *ck, const SimRecord *r)
{
        uint8_t live[MAX_LINES] = {}, running[MAX_LINES] = {};

        if (ck->n_expect > 0)
                return 0;
        for (size_t i = 0; i < ck->n; i++) {
                const Track *t = &ck->t[i];

                if (t->gang == SIZE_MAX || t->phase == T_FUTURE || t->phase == T_DONE || t->phase == T_NEVER)
                        continue;
                live[t->gang]++;
                running[t->gang] += t->phase == T_RUNNING;
        }
        for (size_t g = 0; g < ck->n; g++)
                if (running[g] > 0 && running[g] != live[g])
                        return check_fail(ck, r, "gang %s: %u of %u members running", ck_job(ck, g)->gang,
                                          running[g], live[g]);
        return 0;
}

static bool is_node_down(const Checker *ck, const SimRecord *r)
{
        return r->type == SIM_RECORD_INPUT && ck->in[r->input].kind == SCHED_INPUT_NODE_EVENT &&
               ck->in[r->input].node_event.type == NODE_EVENT_DOWN;
}

static int check_state(Checker *ck, const SimRecord *r)
{
        uint64_t used_cpu[MAX_NODES] = {}, used_mem[MAX_NODES] = {};
        size_t holder[MAX_NODES][MAX_NODE_GPUS];
        bool may_hold_down = r->type == SIM_RECORD_REQUEUE || is_node_down(ck, r);
        int k;

        for (size_t i = 0; i < ck->c->n_nodes; i++)
                for (size_t g = 0; g < MAX_NODE_GPUS; g++)
                        holder[i][g] = SCHED_OWNER_NONE;
        for (size_t j = 0; j < ck->n; j++) {
                const Track *t = &ck->t[j];

                if (t->phase != T_RUNNING)
                        continue;
                if (ck->down[t->node] && !may_hold_down)
                        return check_fail(ck, r, "%s still runs on %s, which is down", ck_job(ck, j)->id,
                                          ck->c->nodes[t->node].name);
                used_cpu[t->node] += ck_job(ck, j)->cpu_millis;
                used_mem[t->node] += ck_job(ck, j)->memory_bytes;
                for (uint32_t g = 0; g < t->n_gpus; g++) {
                        if (holder[t->node][t->gpus[g]] != SCHED_OWNER_NONE)
                                return check_fail(ck, r, "%s held by %s and %s",
                                                  ck->c->nodes[t->node].gpus[t->gpus[g]].uuid,
                                                  ck_job(ck, holder[t->node][t->gpus[g]])->id,
                                                  ck_job(ck, j)->id);
                        holder[t->node][t->gpus[g]] = j;
                }
        }
        for (size_t i = 0; i < ck->c->n_nodes; i++) {
                k = check_node(ck, r, i, used_cpu[i], used_mem[i], holder[i]);
                if (k < 0)
                        return k;
        }
        k = check_gangs(ck, r);
        if (k < 0)
                return k;
        ck->fresh_after_last = ck->running == 0;
        if (ck->running == 0) {
                if (!state_is_fresh(r->state, ck->fresh))
                        return check_fail(ck, r, "nothing runs, but the state is not as new");
                ck->counts->fresh_checks++;
        }
        return 0;
}

static void record_text(Checker *ck, const SimRecord *r)
{
        if (sched_sim_record_is_decision(r->type)) {
                sched_sim_record_format(r, ck->c, &ck->text);
                strbuf_putc(&ck->text, '\n');
                sched_sim_record_format(r, ck->c, &ck->decisions);
                strbuf_putc(&ck->decisions, '\n');
        } else if (r->type == SIM_RECORD_INPUT)
                strbuf_printf(&ck->text, "input %zu at %" PRIu64 "\n", r->input, r->time);
        else
                strbuf_printf(&ck->text, "finish %s at %" PRIu64 "\n", r->job->id, r->time);
}

static int checker_sink(const SimRecord *r, void *userdata)
{
        Checker *ck = userdata;
        int k;

        k = check_order(ck, r);
        if (k < 0)
                return k;
        switch (r->type) {
        case SIM_RECORD_INPUT:
                k = on_input(ck, r);
                break;
        case SIM_RECORD_PLACE:
                k = on_place(ck, r);
                break;
        case SIM_RECORD_PREEMPT:
        case SIM_RECORD_REQUEUE:
        case SIM_RECORD_FINISH:
                k = on_stop(ck, r);
                break;
        case SIM_RECORD_PENDING:
                k = on_pending(ck, r);
                break;
        default:
                break;
        }
        if (k < 0)
                return k;
        k = check_state(ck, r);
        if (k < 0)
                return k;
        ck->prev_may_requeue = r->type == SIM_RECORD_REQUEUE || is_node_down(ck, r);
        record_text(ck, r);
        ck->records++;
        ck->counts->records++;
        return 0;
}

/* After the simulation: nothing left half done, every job accounted for, the summary agrees. */
static int checker_end(Checker *ck, const SimSummary *sum)
{
        uint64_t placed = 0;

        if (ck->n_expect > 0 || ck->expect_by)
                return check_fail(ck, NULL, "the records end inside a gang or a preemption");
        for (size_t i = 0; i < ck->n; i++) {
                const Track *t = &ck->t[i];
                const Job *j = ck_job(ck, i);

                if (!j)
                        continue;
                placed += t->placed_once;
                if (t->phase == T_QUEUED)
                        return check_fail(ck, NULL, "%s still queued but not reported pending", j->id);
                if (ck->o->until_sec == SIM_UNTIL_END && t->phase != T_DONE && t->phase != T_NEVER)
                        return check_fail(ck, NULL, "%s is %s, neither finished nor pending", j->id,
                                          phase_names[t->phase]);
                if ((t->phase == T_FUTURE) != (j->submit_sec > ck->o->until_sec))
                        return check_fail(ck, NULL, "%s is %s with --until %" PRIu64, j->id,
                                          phase_names[t->phase], ck->o->until_sec);
        }
        if (ck->o->until_sec == SIM_UNTIL_END && !ck->fresh_after_last)
                return check_fail(ck, NULL, "the last record leaves something held");
        if (sum->decisions != ck->seq || sum->preemptions != ck->preempts || sum->requeues != ck->requeues ||
            sum->pending != ck->pendings || sum->placed != placed)
                return check_fail(ck, NULL, "summary disagrees with the records");
        if (strbuf_failed(&ck->text) || strbuf_failed(&ck->decisions))
                return check_fail(ck, NULL, "out of memory");
        return 0;
}

/* ---- running cases */

/* Simulate @p under @o through the checker, wrapped by @sink (NULL: the checker itself). Returns the
 * checker's verdict: 0, or -EPROTO with ck->fail set. The caller calls checker_done(). */
static int simulate_checked(Checker *ck, const Parsed *p, const SimOptions *o, SimSink sink, void *userdata)
{
        BerthError err = {};
        SimSummary sum = {};
        int r;

        r = sched_sim_run(p->c, p->in, p->n, p->gangs, p->n_gangs, o, sink ? sink : checker_sink,
                          sink ? userdata : ck, &sum, &err);
        if (r == -EPROTO && ck->fail[0])
                return r;
        if (r < 0)
                fail_msg("seed %" PRIu64 ": simulation: %s", ck->seed, err.msg);
        ck->counts->runs++;
        return checker_end(ck, &sum);
}

/* The first line where @a and @b differ, for messages. */
static void fail_texts_differ(uint64_t seed, const char *what, const char *a, const char *b)
{
        size_t line = 1, i = 0, start = 0;

        while (a[i] && a[i] == b[i]) {
                if (a[i] == '\n') {
                        line++;
                        start = i + 1;
                }
                i++;
        }
        fail_msg("seed %" PRIu64 ": %s: records differ at line %zu:\n  %.*s\n  %.*s", seed, what, line,
                 (int)strcspn(a + start, "\n"), a + start, (int)strcspn(b + start, "\n"), b + start);
}

/* One run of case @k from @cluster text, checked; returns the text of its records (free it). */
static char *case_run(const Case *k, const char *cluster, const char *run, Counts *counts)
{
        Parsed p;
        Checker ck;
        char *text;

        parsed_load(&p, k->seed, cluster, k->lines, k->n_lines);
        checker_init(&ck, &p, &k->o, k->seed, run, counts);
        if (simulate_checked(&ck, &p, &k->o, NULL, NULL) < 0)
                fail_msg("%s", ck.fail);
        text = strbuf_steal(&ck.text);
        assert_non_null(text);
        checker_done(&ck);
        parsed_done(&p);
        return text;
}

static void print_case(const Case *k)
{
        _cleanup_free_ char *cluster = cluster_text(k, 0);

        printf("# seed %" PRIu64 ": policy %s, starve_after %" PRIu64 ", until %" PRIu64 "\n# %s\n", k->seed,
               sched_policy_to_string(k->o.policy), k->o.starve_after_sec, k->o.until_sec, cluster);
        for (unsigned i = 0; i < k->n_lines; i++)
                printf("# %s\n", k->lines[i]);
}

/*
 * Every record of thousands of random runs is checked (capacity, GPU owners, exact release, placements
 * that satisfy their job, gangs all or nothing, record order), and each case gives byte-identical
 * records when run again and when its cluster file lists nodes, GPUs and labels in another order with
 * other spellings of the same quantities.
 */
static void test_sim_properties(void **state)
{
        _cleanup_free_ Case *k = malloc(sizeof(Case));
        const char *only = getenv("BERTH_PROPS_SEED");
        uint64_t first = 1, last = N_SIM_SEEDS, identical = 0;
        Counts counts = {};

        (void)state;
        assert_non_null(k);
        if (only) {
                char *end;

                errno = 0;
                first = last = strtoull(only, &end, 10);
                if (errno != 0 || end == only || *end != '\0')
                        fail_msg("BERTH_PROPS_SEED=%s: not a number", only);
                case_generate(first, k);
                print_case(k);
        }
        for (uint64_t seed = first; seed <= last; seed++) {
                _cleanup_free_ char *plain = NULL, *shuffled = NULL, *a = NULL, *b = NULL, *c = NULL;

                case_generate(seed, k);
                plain = cluster_text(k, 0);
                shuffled = cluster_text(k, seed * UINT64_C(0x2545f4914f6cdd1d) + 1);
                a = case_run(k, plain, "first", &counts);
                b = case_run(k, plain, "second", &counts);
                c = case_run(k, shuffled, "shuffled", &counts);
                if (!streq(a, b))
                        fail_texts_differ(seed, "run twice", a, b);
                if (!streq(a, c))
                        fail_texts_differ(seed, "shuffled cluster file", a, c);
                identical++;
                counts.cases++;
                counts.cases_until += k->o.until_sec != SIM_UNTIL_END;
        }
        printf("# capacity, single GPU owners, record order: checked after each of %" PRIu64
               " records of %" PRIu64 " runs (%" PRIu64 " cases, %" PRIu64 " with --until, %" PRIu64
               " node events)\n",
               counts.records, counts.runs, counts.cases, counts.cases_until, counts.node_events);
        printf("# placements satisfy their job (node up, cpu, memory, GPU count, model, memory, selector): "
               "%" PRIu64 "\n",
               counts.places);
        printf("# exact release: %" PRIu64 " finishes, %" PRIu64 " preemptions, %" PRIu64
               " requeues; %" PRIu64 " states with nothing running equal to a new state\n",
               counts.finishes, counts.preempts, counts.requeues, counts.fresh_checks);
        printf("# gangs all or nothing: %" PRIu64 " gang placements\n", counts.gang_places);
        printf("# every job finished or reported pending: %" PRIu64 " runs to the end, %" PRIu64
               " pending\n",
               counts.runs - 3 * counts.cases_until, counts.pendings);
        printf("# determinism: %" PRIu64 " cases identical run twice and from a shuffled cluster file\n",
               identical);
}

/* ---- journals: written during a checked run, loaded and replayed, whole and cut at any byte */

/* Journals go to a directory of their own, removed after the tests also when one fails. */
static char tmpdir[] = "/tmp/test-sched-props.XXXXXX";

static int tmpdir_setup(void **state)
{
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
        return rm_rf_at(AT_FDCWD, tmpdir);
}

static void tmp_path(char path[static PATH_MAX], const char *name)
{
        assert_true(snprintf(path, PATH_MAX, "%s/%s", tmpdir, name) < PATH_MAX);
}

typedef struct JournalRun {
        Checker *ck;
        Journal *j;
} JournalRun;

static int journal_run_sink(const SimRecord *r, void *userdata)
{
        JournalRun *jr = userdata;
        int k = checker_sink(r, jr->ck);

        return k < 0 ? k : sched_journal_sink(r, jr->j);
}

/* What a journal holds, line by line, for the expected result of loading a prefix of it. */
typedef struct JournalLines {
        const char *data;
        size_t len;
        size_t n;          /* whole lines */
        size_t *end;       /* per line: the offset of its newline */
        size_t *decisions; /* per line: decision records up to and including it */
        const char **text; /* per decision: its text as the simulation formatted it */
        size_t *text_len;
} JournalLines;

static void journal_lines_init(JournalLines *jl, const char *data, size_t len, const char *decisions)
{
        size_t n_dec = 0;

        *jl = (JournalLines){.data = data, .len = len};
        jl->end = calloc(len + 1, sizeof(size_t));
        jl->decisions = calloc(len + 1, sizeof(size_t));
        jl->text = calloc(len + 1, sizeof(char *));
        jl->text_len = calloc(len + 1, sizeof(size_t));
        assert_true(jl->end && jl->decisions && jl->text && jl->text_len);
        for (size_t i = 0, start = 0; i < len; i++) {
                if (data[i] != '\n')
                        continue;
                n_dec += jl->n > 0 && strncmp(data + start, "{\"seq\":", 7) == 0;
                jl->end[jl->n] = i;
                jl->decisions[jl->n++] = n_dec;
                start = i + 1;
        }
        n_dec = 0;
        for (const char *d = decisions, *nl; *d; d = nl + 1) {
                nl = strchr(d, '\n');
                assert_non_null(nl);
                assert_true(n_dec <= len);
                jl->text[n_dec] = d;
                jl->text_len[n_dec++] = (size_t)(nl - d);
        }
}

static void journal_lines_done(JournalLines *jl)
{
        free(jl->end);
        free(jl->decisions);
        free(jl->text);
        free(jl->text_len);
}

/* Load the journal at @path, whose first @cut bytes are those of @jl, and replay it. */
static void journal_check_prefix(const JournalLines *jl, const char *path, size_t cut, uint64_t seed)
{
        _cleanup_(sched_journal_contents_done) JournalContents jc = {};
        JournalReplayResult res = {};
        BerthError err = {};
        size_t whole = 0, kept, decisions;

        while (whole < jl->n && jl->end[whole] < cut)
                whole++;
        kept = whole ? jl->end[whole - 1] + 1 : 0;
        decisions = whole ? jl->decisions[whole - 1] : 0;
        if (sched_journal_load(path, &jc, &err) < 0)
                fail_msg("seed %" PRIu64 ", cut at %zu of %zu: load: %s", seed, cut, jl->len, err.msg);
        if (jc.has_header != (whole > 0) || jc.records != whole || jc.bytes_kept != kept ||
            jc.bytes_cut != cut - kept || jc.n_decisions != decisions ||
            jc.n_inputs != (whole ? whole - 1 - decisions : 0))
                fail_msg("seed %" PRIu64 ", cut at %zu of %zu: kept %" PRIu64 " records, %" PRIu64
                         " bytes (%" PRIu64 " cut), %zu decisions, %zu inputs; expected %zu, %zu, %zu",
                         seed, cut, jl->len, jc.records, jc.bytes_kept, jc.bytes_cut, jc.n_decisions,
                         jc.n_inputs, whole, kept, decisions);
        for (size_t i = 0; i < decisions; i++)
                if (strlen(jc.decisions[i].text) != jl->text_len[i] ||
                    memcmp(jc.decisions[i].text, jl->text[i], jl->text_len[i]) != 0)
                        fail_msg("seed %" PRIu64 ", cut at %zu: decision %zu is %s", seed, cut, i + 1,
                                 jc.decisions[i].text);
        if (sched_journal_replay(&jc, &res, &err) < 0)
                fail_msg("seed %" PRIu64 ", cut at %zu: replay: %s", seed, cut, err.msg);
        if (!res.identical || res.decisions != decisions)
                fail_msg("seed %" PRIu64 ", cut at %zu: replay %s after %" PRIu64 " of %zu decisions: %s\n"
                         "  journal: %s\n  replay:  %s",
                         seed, cut, res.identical ? "identical" : "differs", res.decisions, decisions,
                         res.why ? res.why : "", res.expected ? res.expected : "", res.got ? res.got : "");
        sched_journal_replay_result_done(&res);
}

/* Write the journal of a checked run of @k to @path. Returns the checked run's decisions (free them). */
static char *journal_write(const Case *k, const char *path, Counts *counts)
{
        _cleanup_free_ char *cluster = cluster_text(k, 0);
        JournalRun jr = {};
        BerthError err = {};
        Checker ck;
        Parsed p;
        char *decisions;
        int r;

        parsed_load(&p, k->seed, cluster, k->lines, k->n_lines);
        checker_init(&ck, &p, &k->o, k->seed, "journalled", counts);
        jr.ck = &ck;
        if (sched_journal_create(path, &k->o, p.c, p.gangs, p.n_gangs, p.raw, &jr.j, &err) < 0)
                fail_msg("seed %" PRIu64 ": %s", k->seed, err.msg);
        r = simulate_checked(&ck, &p, &k->o, journal_run_sink, &jr);
        if (r < 0) {
                sched_journal_closep(&jr.j);
                fail_msg("%s", ck.fail);
        }
        if (sched_journal_close(jr.j, &err) < 0)
                fail_msg("seed %" PRIu64 ": %s", k->seed, err.msg);
        decisions = strbuf_steal(&ck.decisions);
        assert_non_null(decisions);
        checker_done(&ck);
        parsed_done(&p);
        return decisions;
}

/* Cut the journal at @path, @len bytes, at @cuts (descending) and check each prefix. */
static void journal_check_cuts(const JournalLines *jl, const char *path, const size_t *cuts, size_t n_cuts,
                               uint64_t seed)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        for (size_t i = 0; i < n_cuts; i++) {
                assert_true(i == 0 || cuts[i] < cuts[i - 1]);
                assert_int_equal(ftruncate(fd, (off_t)cuts[i]), 0);
                journal_check_prefix(jl, path, cuts[i], seed);
        }
}

static int size_desc(const void *a, const void *b)
{
        size_t x = *(const size_t *)a, y = *(const size_t *)b;

        return x > y ? -1 : x < y;
}

/* Every byte for small journals; for long ones the bytes around every record boundary and random ones. */
static size_t journal_cuts(const JournalLines *jl, bool every_byte, Rng *r, size_t *cuts)
{
        size_t n = 0, w = 0;

        if (every_byte) {
                for (size_t c = jl->len + 1; c-- > 0;)
                        cuts[n++] = c;
                return n;
        }
        cuts[n++] = jl->len;
        for (size_t i = 0; i < jl->n; i++)
                for (size_t d = 0; d < 5; d++)
                        if (jl->end[i] + d >= 2 && jl->end[i] + d - 2 < jl->len)
                                cuts[n++] = jl->end[i] + d - 2;
        for (size_t i = 0; i < 64; i++)
                cuts[n++] = rng_below(r, (uint32_t)jl->len + 1);
        qsort(cuts, n, sizeof(size_t), size_desc);
        for (size_t i = 0; i < n; i++)
                if (w == 0 || cuts[i] != cuts[w - 1])
                        cuts[w++] = cuts[i];
        return w;
}

typedef struct JournalStats {
        uint64_t whole, decisions, every, bytes_every, sampled, cuts;
} JournalStats;

/* Write the journal of @k at @path, load and replay it whole and then, until enough were, cut at every
 * byte (small journals, or all when @every_byte) or at sampled bytes (long ones). */
static void journal_check(const Case *k, const char *path, bool every_byte, Rng *rng, JournalStats *st)
{
        _cleanup_free_ char *text = NULL, *data = NULL;
        _cleanup_free_ size_t *cuts = NULL;
        Counts counts = {};
        JournalLines jl;
        size_t len, n_cuts;
        bool cut_every_byte, cut_sampled;

        text = journal_write(k, path, &counts);
        assert_int_equal(read_full_file_at(AT_FDCWD, path, (size_t)1 << 26, &data, &len), 0);
        journal_lines_init(&jl, data, len, text);
        journal_check_prefix(&jl, path, len, k->seed);
        st->whole++;
        st->decisions += jl.n ? jl.decisions[jl.n - 1] : 0;
        cut_every_byte = every_byte || (len <= 4000 && st->every < N_TRUNC_EVERY_BYTE);
        cut_sampled = len > 4000 && st->sampled < N_TRUNC_SAMPLED;
        if (cut_every_byte || cut_sampled) {
                cuts = calloc(len + 1 + jl.n * 5 + 64, sizeof(size_t));
                assert_non_null(cuts);
                n_cuts = journal_cuts(&jl, cut_every_byte, rng, cuts);
                journal_check_cuts(&jl, path, cuts, n_cuts, k->seed);
                st->cuts += n_cuts;
                st->every += cut_every_byte;
                st->bytes_every += cut_every_byte ? len : 0;
                st->sampled += !cut_every_byte;
        }
        journal_lines_done(&jl);
}

/*
 * A journal that ends before every member of a gang was taken in (here --until stops before the second
 * arrives; a cut can do the same) replays: the simulation once refused a gang larger than its inputs
 * ("gangs: \"g\": bad size 2").
 */
static void journal_check_gang_prefix(const char *path, Rng *rng, JournalStats *st)
{
        _cleanup_free_ Case *k = calloc(1, sizeof(Case));
        static const char *const lines[] = {
                "{\"id\":\"x\",\"submit\":0,\"duration\":1,\"priority\":0,\"cpu\":1,\"memory\":1,\"gpus\":0,"
                "\"gang\":\"g\"}",
                "{\"id\":\"y\",\"submit\":10,\"duration\":1,\"priority\":0,\"cpu\":1,\"memory\":1,\"gpus\":"
                "0,"
                "\"gang\":\"g\"}",
        };

        assert_non_null(k);
        k->nodes[0] = (GenNode){.name = "a", .cpu_millis = 1000, .memory_mi = 1};
        k->n_nodes = 1;
        for (size_t i = 0; i < ELEMENTSOF(lines); i++)
                snprintf(k->lines[k->n_lines++], LINE_SIZE, "%s", lines[i]);
        k->o = (SimOptions){.policy = SCHED_POLICY_BINPACK, .starve_after_sec = 600, .until_sec = 5};
        journal_check(k, path, true, rng, st);
        k->o.until_sec = SIM_UNTIL_END;
        journal_check(k, path, true, rng, st);
}

/*
 * The journal of a random run replays identically with all its decisions; cut at any byte, it loads
 * as exactly the whole records before the cut, and replays identically up to its last one.
 */
static void test_journal_replay(void **state)
{
        _cleanup_free_ Case *k = malloc(sizeof(Case));
        char path[PATH_MAX];
        JournalStats st = {};
        Rng rng = {42};

        (void)state;
        assert_non_null(k);
        tmp_path(path, "journal");
        journal_check_gang_prefix(path, &rng, &st);
        for (uint64_t seed = 1; seed <= N_JOURNAL_SEEDS; seed++) {
                case_generate(seed + 1000000, k);
                journal_check(k, path, false, &rng, &st);
        }
        printf("# journal replay: %" PRIu64 " journals (%" PRIu64 " decisions) loaded and replayed\n",
               st.whole, st.decisions);
        printf("# journal cuts: %" PRIu64 " prefixes loaded and replayed: every byte of %" PRIu64
               " journals (%" PRIu64 " bytes), around every record and at random bytes of %" PRIu64
               " more\n",
               st.cuts, st.every, st.bytes_every, st.sampled);
}

/* ---- each check can fail: a hand-made run whose records are tampered with on the way to the checker */

/* "a" has two GPUs of different models and zone=a, "b" none and zone=b. Under binpack: j1 takes
 * GPU-a0 on a, j2 and s go to b, huge fits no node, the gang g1 g2 starts at 20; p goes to b and q to
 * a at 30, u preempts p at 31; p runs again at 36, is requeued when b goes down at 40 (w runs beside q
 * on a at 42) and placed again when b is back at 45. */
#define TAMPER_CLUSTER                                                                                      \
        "{\"nodes\":[{\"name\":\"b\",\"cpu\":4,\"memory\":\"8Gi\",\"labels\":{\"zone\":\"b\"}},"            \
        "{\"name\":\"a\",\"cpu\":4,\"memory\":\"8Gi\",\"labels\":{\"zone\":\"a\"},\"gpus\":["               \
        "{\"uuid\":\"GPU-a0\",\"model\":\"A100\",\"memory\":\"80Gi\",\"nvlink\":0},"                        \
        "{\"uuid\":\"GPU-a1\",\"model\":\"L4\",\"memory\":\"24Gi\",\"nvlink\":0}]}]}"
#define TJOB(id, submit, dur, prio, cpu, more)                                                              \
        "{\"id\":\"" id "\",\"submit\":" #submit ",\"duration\":" #dur ",\"priority\":" #prio               \
        ",\"cpu\":" #cpu ",\"memory\":\"1Gi\"" more "}"

static const char tamper_lines[][LINE_SIZE] = {
        TJOB("j1", 0, 10, 0, 3, ",\"gpus\":1,\"gpu_model\":\"A100\""),
        TJOB("j2", 0, 10, 0, 3, ",\"gpus\":0"),
        TJOB("s", 1, 5, 0, 1, ",\"gpus\":0,\"selector\":{\"zone\":\"b\"}"),
        TJOB("huge", 1, 1, 0, 64, ",\"gpus\":0"),
        TJOB("g1", 20, 5, 0, 1, ",\"gpus\":0,\"gang\":\"g\""),
        TJOB("g2", 20, 5, 0, 1, ",\"gpus\":0,\"gang\":\"g\""),
        TJOB("p", 30, 20, 0, 3, ",\"gpus\":0,\"preemptible\":true"),
        TJOB("q", 30, 20, 0, 3, ",\"gpus\":0"),
        TJOB("u", 31, 5, 5, 2, ",\"gpus\":0"),
        TJOB("w", 42, 1, 0, 1, ",\"gpus\":0"),
        "{\"event\":\"node_down\",\"node\":\"b\",\"at\":40}",
        "{\"event\":\"node_up\",\"node\":\"b\",\"at\":45}",
};

typedef enum TamperKind {
        TAMPER_NONE,
        TAMPER_FREE_CPU,       /* state: a millicore less free than the running jobs leave */
        TAMPER_GPU_OWNER,      /* state: a held GPU without owner */
        TAMPER_N_FREE_GPUS,    /* state: n_free_gpus one too many */
        TAMPER_NOT_FRESH,      /* state: nothing runs, but max_node_gpus differs */
        TAMPER_OVER_CAPACITY,  /* PLACE on a node that is already too full */
        TAMPER_WRONG_MODEL,    /* PLACE on a GPU of another model */
        TAMPER_SELECTOR,       /* PLACE on a node without the selected label */
        TAMPER_NODE_DOWN,      /* PLACE on a node that went down */
        TAMPER_PLACE_TWICE,    /* PLACE of a running job */
        TAMPER_DROP_FINISH,    /* what a job held is freed without a FINISH */
        TAMPER_FINISH_OTHER,   /* FINISH with another placement than the job got */
        TAMPER_FINISH_LATE,    /* FINISH after the duration */
        TAMPER_GANG_SPLIT,     /* one gang member placed without the other */
        TAMPER_PREEMPT_BY,     /* preempted by a job of equal priority */
        TAMPER_NO_PREEMPTOR,   /* victims evicted, preemptor not placed */
        TAMPER_DROP_NODE_DOWN, /* REQUEUE without a node going down */
        TAMPER_DROP_REQUEUE,   /* a job left running on a down node */
        TAMPER_DROP_PENDING,   /* a job neither placed nor reported pending */
        TAMPER_SEQ,            /* decisions numbered with a gap */
} TamperKind;

typedef struct Tamper {
        TamperKind kind;
        Checker *ck;
        const Parsed *p;
        uint64_t dropped; /* decisions */
        ClusterState state;
        NodeState nodes[MAX_NODES];
        size_t owners[MAX_NODE_GPUS];
        Placement placement;
        uint32_t gpus[MAX_NODE_GPUS];
} Tamper;

static bool record_is(const SimRecord *r, SimRecordType type, const char *id)
{
        return r->type == type && r->job && streq(r->job->id, id);
}

/* A copy of the record's state to change; node @node's GPU owners copied too. */
static NodeState *tamper_state(Tamper *t, SimRecord *x, size_t node)
{
        NodeState *ns;

        t->state = *x->state;
        memcpy(t->nodes, x->state->nodes, x->state->n_nodes * sizeof(NodeState));
        t->state.nodes = t->nodes;
        ns = &t->nodes[node];
        if (ns->n_gpus > 0)
                memcpy(t->owners, ns->gpu_owner, ns->n_gpus * sizeof(size_t));
        ns->gpu_owner = t->owners;
        x->state = &t->state;
        return ns;
}

/* A copy of the record's placement to change. */
static Placement *tamper_placement(Tamper *t, SimRecord *x)
{
        t->placement = *x->placement;
        if (x->placement->n_gpus > 0)
                memcpy(t->gpus, x->placement->gpus, x->placement->n_gpus * sizeof(uint32_t));
        t->placement.gpus = t->gpus;
        x->placement = &t->placement;
        return &t->placement;
}

static const Job *tamper_job(const Tamper *t, const char *id)
{
        for (size_t i = 0; i < t->p->n; i++)
                if (t->p->in[i].kind == SCHED_INPUT_JOB && streq(t->p->in[i].job.id, id))
                        return &t->p->in[i].job;
        fail_msg("no job %s", id);
        return NULL;
}

/* Changes @x; returns false to drop it. */
static bool tamper_record(Tamper *t, SimRecord *x)
{
        size_t a = sched_cluster_find_node(t->p->c, "a") - t->p->c->nodes;

        switch (t->kind) {
        case TAMPER_FREE_CPU:
                if (record_is(x, SIM_RECORD_PLACE, "j1"))
                        tamper_state(t, x, a)->free_cpu_millis--;
                break;
        case TAMPER_GPU_OWNER:
                if (record_is(x, SIM_RECORD_PLACE, "j1")) {
                        NodeState *ns = tamper_state(t, x, a);
                        ns->gpu_owner[0] = SCHED_OWNER_NONE;
                        ns->n_free_gpus++;
                }
                break;
        case TAMPER_N_FREE_GPUS:
                if (record_is(x, SIM_RECORD_PLACE, "j1"))
                        tamper_state(t, x, a)->n_free_gpus++;
                break;
        case TAMPER_NOT_FRESH:
                if (record_is(x, SIM_RECORD_FINISH, "g2")) {
                        tamper_state(t, x, a);
                        t->state.max_node_gpus++;
                }
                break;
        case TAMPER_OVER_CAPACITY:
                if (record_is(x, SIM_RECORD_PLACE, "j2"))
                        tamper_placement(t, x)->node = a;
                break;
        case TAMPER_WRONG_MODEL:
                if (record_is(x, SIM_RECORD_PLACE, "j1"))
                        tamper_placement(t, x)->gpus[0] = 1;
                break;
        case TAMPER_SELECTOR:
                if (record_is(x, SIM_RECORD_PLACE, "s"))
                        tamper_placement(t, x)->node = a;
                break;
        case TAMPER_NODE_DOWN:
                if (record_is(x, SIM_RECORD_PLACE, "j2"))
                        t->ck->down[x->placement->node] = true;
                break;
        case TAMPER_DROP_FINISH:
                return !record_is(x, SIM_RECORD_FINISH, "j1");
        case TAMPER_FINISH_OTHER:
                if (record_is(x, SIM_RECORD_FINISH, "j1"))
                        tamper_placement(t, x)->gpus[0] = 1;
                break;
        case TAMPER_FINISH_LATE:
                if (record_is(x, SIM_RECORD_FINISH, "j1"))
                        x->time++;
                break;
        case TAMPER_GANG_SPLIT:
                return !record_is(x, SIM_RECORD_PLACE, "g2");
        case TAMPER_PREEMPT_BY:
                if (record_is(x, SIM_RECORD_PREEMPT, "p"))
                        x->by = tamper_job(t, "q");
                break;
        case TAMPER_NO_PREEMPTOR:
                return !(x->type == SIM_RECORD_PLACE && x->time == 31);
        case TAMPER_DROP_NODE_DOWN:
                return !(x->type == SIM_RECORD_INPUT && !x->job && x->time == 40);
        case TAMPER_DROP_REQUEUE:
                return x->type != SIM_RECORD_REQUEUE;
        case TAMPER_DROP_PENDING:
                return !record_is(x, SIM_RECORD_PENDING, "huge");
        case TAMPER_SEQ:
                if (sched_sim_record_is_decision(x->type) && x->seq >= 3)
                        x->seq++;
                break;
        default:
                break;
        }
        return true;
}

static int tamper_sink(const SimRecord *r, void *userdata)
{
        Tamper *t = userdata;
        SimRecord x = *r;
        int k;

        if (!tamper_record(t, &x)) {
                t->dropped += sched_sim_record_is_decision(x.type);
                return 0;
        }
        if (sched_sim_record_is_decision(x.type))
                x.seq -= t->dropped; /* no gap where a decision was dropped */
        k = checker_sink(&x, t->ck);
        if (k < 0 || t->kind != TAMPER_PLACE_TWICE || !record_is(r, SIM_RECORD_PLACE, "j2"))
                return k;
        t->ck->seq--; /* the same record again, as if it were the next */
        return checker_sink(&x, t->ck);
}

static void test_checks_can_fail(void **state)
{
        static const struct {
                TamperKind kind;
                const char *expect;
        } cases[] = {
                {TAMPER_NONE, NULL},
                {TAMPER_FREE_CPU, "a: free cpu 999, but running jobs leave 1000"},
                {TAMPER_GPU_OWNER, "a: owner of GPU-a0 is none, expected j1"},
                {TAMPER_N_FREE_GPUS, "a: n_free_gpus 2, 1 GPUs have no owner"},
                {TAMPER_NOT_FRESH, "nothing runs, but the state is not as new"},
                {TAMPER_OVER_CAPACITY, "a: over capacity: cpu 6000/4000"},
                {TAMPER_WRONG_MODEL, "GPU-a1 is a L4, not a A100"},
                {TAMPER_SELECTOR, "a lacks zone=b"},
                {TAMPER_NODE_DOWN, "placed on b, which is down"},
                {TAMPER_PLACE_TWICE, "PLACE of a job that is running"},
                {TAMPER_DROP_FINISH, "a: free cpu 4000, but running jobs leave 1000"},
                {TAMPER_FINISH_OTHER, "placement differs from the one it got"},
                {TAMPER_FINISH_LATE, "started at 0, ran 10 s, ends at 11"},
                {TAMPER_GANG_SPLIT, "gang split: PLACE of gang member g2 must come next"},
                {TAMPER_PREEMPT_BY, "may not be preempted by q"},
                {TAMPER_NO_PREEMPTOR, "preemptor u not placed right after its victims"},
                {TAMPER_DROP_NODE_DOWN, "REQUEUE not right after a node_down"},
                {TAMPER_DROP_REQUEUE, "p still runs on b, which is down"},
                {TAMPER_DROP_PENDING, "huge still queued but not reported pending"},
                {TAMPER_SEQ, "seq 4 after 2"},
        };
        SimOptions o = {.policy = SCHED_POLICY_BINPACK, .starve_after_sec = 600, .until_sec = SIM_UNTIL_END};
        Counts counts = {};

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Parsed p;
                Checker ck;
                Tamper t = {.kind = cases[i].kind, .ck = &ck, .p = &p};
                int r;

                parsed_load(&p, 0, TAMPER_CLUSTER, tamper_lines, ELEMENTSOF(tamper_lines));
                checker_init(&ck, &p, &o, 0, "tampered", &counts);
                r = simulate_checked(&ck, &p, &o, tamper_sink, &t);
                if (!cases[i].expect && r < 0)
                        fail_msg("untampered: %s", ck.fail);
                if (cases[i].expect && (r != -EPROTO || !strstr(ck.fail, cases[i].expect)))
                        fail_msg("tamper %zu: expected \"%s\", got \"%s\"", i, cases[i].expect, ck.fail);
                checker_done(&ck);
                parsed_done(&p);
        }
        printf("# checks can fail: %zu tampered runs each caught by the check meant to catch it\n",
               ELEMENTSOF(cases) - 1);
}

/* A journal whose fourth decision names another node than the simulation chose: it loads (its hashes are
 * right), and replay finds the difference there. */
typedef struct JournalTamper {
        Journal *j;
        StrBuf text;
} JournalTamper;

static int journal_tamper_sink(const SimRecord *r, void *userdata)
{
        JournalTamper *jt = userdata;
        char *node;

        if (!sched_sim_record_is_decision(r->type) || r->seq != 4)
                return sched_journal_sink(r, jt->j);
        jt->text.len = 0;
        sched_sim_record_format(r, sched_journal_cluster(jt->j), &jt->text);
        assert_false(strbuf_failed(&jt->text));
        node = strstr(jt->text.ptr, "\"node\":\"b\"");
        assert_non_null(node);
        node[8] = 'a';
        return sched_journal_append_decision(jt->j, jt->text.ptr, jt->text.len);
}

static void test_journal_replay_can_fail(void **state)
{
        char path[PATH_MAX];
        _cleanup_(sched_journal_contents_done) JournalContents jc = {};
        SimOptions o = {.policy = SCHED_POLICY_BINPACK, .starve_after_sec = 600, .until_sec = SIM_UNTIL_END};
        JournalTamper jt = {.text = STRBUF_INIT};
        JournalReplayResult res = {};
        BerthError err = {};
        Parsed p;

        (void)state;
        tmp_path(path, "tampered");
        parsed_load(&p, 0, TAMPER_CLUSTER, tamper_lines, ELEMENTSOF(tamper_lines));
        assert_int_equal(sched_journal_create(path, &o, p.c, p.gangs, p.n_gangs, p.raw, &jt.j, &err), 0);
        assert_int_equal(
                sched_sim_run(p.c, p.in, p.n, p.gangs, p.n_gangs, &o, journal_tamper_sink, &jt, NULL, &err),
                0);
        assert_int_equal(sched_journal_close(jt.j, &err), 0);
        assert_int_equal(sched_journal_load(path, &jc, &err), 0);
        assert_int_equal(sched_journal_replay(&jc, &res, &err), 0);
        assert_false(res.identical);
        assert_int_equal(res.seq, 4);
        assert_string_equal(res.why, "node differs");
        printf("# journal replay can fail: a changed decision is found: %s at seq %" PRIu64 "\n", res.why,
               res.seq);
        sched_journal_replay_result_done(&res);
        strbuf_done(&jt.text);
        parsed_done(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sim_properties),
                cmocka_unit_test(test_checks_can_fail),
                cmocka_unit_test(test_journal_replay),
                cmocka_unit_test(test_journal_replay_can_fail),
        };

        return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
