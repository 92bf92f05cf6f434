/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth sched simulate: read a cluster and a job stream, run the simulation, write decisions,
 * a journal and a summary. The files are read here; src/sched only sees text and structs. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strbuf.h"
#include "sched.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/journal.h"
#include "sched/sim.h"

#define MAX_INPUT_BYTES (UINT64_C(16) << 30)

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: berth sched simulate --cluster FILE --jobs FILE [options]\n\n"
                "Simulate the job stream on the cluster: jobs run for their duration and free what\n"
                "they held. Prints a summary; decisions go to --decisions as JSON lines.\n\n"
                "  --cluster FILE       nodes, JSON (or YAML when the name ends in .yaml or .yml)\n"
                "  --jobs FILE          jobs and node events, one JSON object a line\n"
                "  --policy P           binpack (default), spread; baselines: firstfit, k8s-least,\n"
                "                       k8s-most, nomad-binpack\n"
                "  --decisions FILE     write every decision to FILE\n"
                "  --journal FILE       write inputs and decisions with a hash chain, for 'berth sched "
                "replay'\n"
                "  --until SEC          stop after the scheduling pass at time SEC\n"
                "  --starve-after SEC   give a job blocked this long a reservation (default %" PRIu64 ")\n"
                "  --summary-json       print the summary as one JSON object\n"
                "  --quiet              print no summary\n",
                SIM_STARVE_AFTER_DEFAULT);
}

static uint64_t clock_ns(void *userdata)
{
        struct timespec ts;

        (void)userdata;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_seconds(const char *opt, const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
                fprintf(stderr, "berth: sched simulate: %s: \"%s\" is not a whole number of seconds\n", opt,
                        s);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && streq(s + n - k, suffix);
}

static int load_cluster(const char *path, Cluster **ret)
{
        _cleanup_free_ char *text = NULL;
        BerthError err = {};
        size_t len;
        int r;

        r = read_full_file_at(AT_FDCWD, path, MAX_INPUT_BYTES, &text, &len);
        if (r < 0) {
                fprintf(stderr, "berth: %s: %s\n", path, strerror(-r));
                return r;
        }
        if (has_suffix(path, ".yaml") || has_suffix(path, ".yml"))
                r = sched_cluster_parse_yaml(text, len, ret, &err);
        else
                r = sched_cluster_parse(text, ret, &err);
        if (r < 0)
                fprintf(stderr, "berth: %s: %s\n", path, error_message(&err, r));
        return r;
}

typedef struct Stream {
        char *text;   /* the file, its newlines replaced by NULs */
        char **lines; /* per input: its text, inside @text */
        SchedInput *in;
        size_t n;
} Stream;

static void stream_done(Stream *s)
{
        for (size_t i = 0; i < s->n; i++)
                sched_input_done(&s->in[i]);
        free(s->in);
        free(s->lines);
        free(s->text);
}

static bool blank(const char *s)
{
        return s[strspn(s, " \t\r")] == '\0';
}

static int load_stream(const char *path, Stream *s)
{
        _cleanup_(sched_job_id_set_freep) JobIdSet *ids = sched_job_id_set_new();
        BerthError err = {};
        size_t len, max = 1;
        unsigned line_no = 0;
        int r;

        if (!ids)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, MAX_INPUT_BYTES, &s->text, &len);
        if (r < 0) {
                fprintf(stderr, "berth: %s: %s\n", path, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < len; i++)
                max += s->text[i] == '\n';
        s->in = calloc(max, sizeof(SchedInput));
        s->lines = calloc(max, sizeof(char *));
        if (!s->in || !s->lines)
                return -ENOMEM;
        for (char *p = s->text, *next; p && *p; p = next) {
                char *nl = strchr(p, '\n');

                next = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                line_no++;
                if (blank(p))
                        continue;
                r = sched_input_parse_line(p, line_no, &s->in[s->n], &err);
                if (r < 0) {
                        fprintf(stderr, "berth: %s: %s\n", path, error_message(&err, r));
                        return r;
                }
                s->lines[s->n] = p;
                s->n++;
                if (s->in[s->n - 1].kind == SCHED_INPUT_JOB) {
                        const Job *j = &s->in[s->n - 1].job;
                        r = sched_job_id_set_add(ids, j->id, j->line, &err);
                        if (r < 0) {
                                fprintf(stderr, "berth: %s: %s\n", path, error_message(&err, r));
                                return r;
                        }
                }
        }
        return 0;
}

typedef struct Output {
        const Cluster *c;
        FILE *decisions;
        Journal *journal;
        StrBuf buf;
} Output;

static int output_sink(const SimRecord *r, void *userdata)
{
        Output *o = userdata;
        int k;

        if (o->journal) {
                k = sched_journal_sink(r, o->journal);
                if (k < 0)
                        return k;
        }
        if (!o->decisions || !sched_sim_record_is_decision(r->type))
                return 0;
        o->buf.len = 0;
        sched_sim_record_format(r, o->c, &o->buf);
        strbuf_putc(&o->buf, '\n');
        if (strbuf_failed(&o->buf))
                return -ENOMEM;
        if (fwrite(o->buf.ptr, 1, o->buf.len, o->decisions) != o->buf.len)
                return -errno;
        return 0;
}

static double seconds(uint64_t ns)
{
        return (double)ns / 1e9;
}

static void print_summary_json(const SimSummary *s, const Cluster *c, SchedPolicy policy, uint64_t parse_ns,
                               uint64_t sim_ns)
{
        double per_sec = sim_ns ? (double)s->decisions / seconds(sim_ns) : 0;

        printf("{\"policy\":\"%s\",\"nodes\":%zu,\"jobs\":%" PRIu64 ",\"placed\":%" PRIu64
               ",\"pending\":%" PRIu64 ",\"decisions\":%" PRIu64 ",\"preemptions\":%" PRIu64
               ",\"requeues\":%" PRIu64 ",\"end_time\":%" PRIu64 ",\"wait_mean_sec\":%" PRIu64
               ",\"wait_p99_sec\":%" PRIu64,
               sched_policy_to_string(policy), c->n_nodes, s->jobs, s->placed, s->pending, s->decisions,
               s->preemptions, s->requeues, s->end_time, s->wait_mean_sec, s->wait_p99_sec);
        printf(",\"util_ppm\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", s->util_ppm[0], s->util_ppm[1],
               s->util_ppm[2]);
        printf(",\"stranded_ppm\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", s->stranded_ppm[0],
               s->stranded_ppm[1], s->stranded_ppm[2]);
        printf(",\"stranded_end_ppm\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", s->stranded_end_ppm[0],
               s->stranded_end_ppm[1], s->stranded_end_ppm[2]);
        printf(",\"gpu_fragmented_ppm\":%" PRIu64 ",\"gpu_fragmented_end_ppm\":%" PRIu64
               ",\"nodes_used_end\":%" PRIu64 ",\"attempts_timed\":%" PRIu64
               ",\"decision_ns_total\":%" PRIu64 ",\"decision_ns_p99\":%" PRIu64
               ",\"decision_ns_max\":%" PRIu64
               ",\"parse_sec\":%.6f,\"sim_sec\":%.6f,\"decisions_per_sec\":%.0f}\n",
               s->gpu_fragmented_ppm, s->gpu_fragmented_end_ppm, s->nodes_used_end, s->attempts_timed,
               s->decision_ns_total, s->decision_ns_p99, s->decision_ns_max, seconds(parse_ns),
               seconds(sim_ns), per_sec);
}

static double pct(uint64_t ppm)
{
        return (double)ppm / 1e4;
}

static void print_summary(const SimSummary *s, const Cluster *c, SchedPolicy policy, uint64_t parse_ns,
                          uint64_t sim_ns)
{
        double per_sec = sim_ns ? (double)s->decisions / seconds(sim_ns) : 0;

        printf("policy %s, %zu nodes, %" PRIu64 " jobs: %" PRIu64 " placed, %" PRIu64 " pending (%" PRIu64
               " preemptions, %" PRIu64 " requeues); simulated time %" PRIu64 " s\n",
               sched_policy_to_string(policy), c->n_nodes, s->jobs, s->placed, s->pending, s->preemptions,
               s->requeues, s->end_time);
        printf("wait: mean %" PRIu64 " s, p99 %" PRIu64 " s\n", s->wait_mean_sec, s->wait_p99_sec);
        printf("utilization (time-weighted): cpu %.2f%%, memory %.2f%%, gpus %.2f%%\n", pct(s->util_ppm[0]),
               pct(s->util_ppm[1]), pct(s->util_ppm[2]));
        printf("stranded (time-weighted): cpu %.2f%%, memory %.2f%%, gpus %.2f%%\n", pct(s->stranded_ppm[0]),
               pct(s->stranded_ppm[1]), pct(s->stranded_ppm[2]));
        printf("gpu fragmentation: %.2f%% of GPUs (time-weighted), %.2f%% at the end\n",
               pct(s->gpu_fragmented_ppm), pct(s->gpu_fragmented_end_ppm));
        printf("decisions: %" PRIu64
               " in %.3f s (%.0f decisions/s; parsing %.3f s); attempt p99 %.1f us, max %.1f us\n",
               s->decisions, seconds(sim_ns), per_sec, seconds(parse_ns), (double)s->decision_ns_p99 / 1e3,
               (double)s->decision_ns_max / 1e3);
}

int berth_sched_simulate(int argc, char **argv)
{
        static const struct option options[] = {
                {"cluster", required_argument, NULL, 'c'},
                {"jobs", required_argument, NULL, 'j'},
                {"policy", required_argument, NULL, 'p'},
                {"decisions", required_argument, NULL, 'd'},
                {"journal", required_argument, NULL, 'J'},
                {"until", required_argument, NULL, 'u'},
                {"starve-after", required_argument, NULL, 's'},
                {"summary-json", no_argument, NULL, 'S'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *cluster_path = NULL, *jobs_path = NULL, *decisions_path = NULL, *journal_path = NULL;
        SimOptions so = {
                .policy = SCHED_POLICY_BINPACK,
                .starve_after_sec = SIM_STARVE_AFTER_DEFAULT,
                .until_sec = SIM_UNTIL_END,
                .clock_ns = clock_ns,
        };
        bool json = false, quiet = false;
        _cleanup_(sched_cluster_freep) Cluster *c = NULL;
        _cleanup_(stream_done) Stream stream = {};
        _cleanup_(sched_journal_closep) Journal *journal = NULL;
        SimGang *gangs = NULL;
        size_t n_gangs = 0;
        Output out = {};
        SimSummary sum = {};
        BerthError err = {};
        uint64_t t0, t1, ts, t2;
        int opt, r;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        cluster_path = optarg;
                        break;
                case 'j':
                        jobs_path = optarg;
                        break;
                case 'p':
                        so.policy = sched_policy_from_string(optarg);
                        if (so.policy < 0) {
                                fprintf(stderr,
                                        "berth: sched simulate: --policy: unknown policy \"%s\" (binpack, "
                                        "spread, "
                                        "firstfit, k8s-least, k8s-most, nomad-binpack)\n",
                                        optarg);
                                return 1;
                        }
                        break;
                case 'd':
                        decisions_path = optarg;
                        break;
                case 'J':
                        journal_path = optarg;
                        break;
                case 'u':
                        if (parse_seconds("--until", optarg, &so.until_sec) < 0)
                                return 1;
                        break;
                case 's':
                        if (parse_seconds("--starve-after", optarg, &so.starve_after_sec) < 0)
                                return 1;
                        break;
                case 'S':
                        json = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "berth: sched simulate: unexpected argument \"%s\"\n", argv[optind]);
                return 1;
        }
        if (!cluster_path || !jobs_path) {
                fprintf(stderr, "berth: sched simulate: --cluster and --jobs are required\n");
                return 1;
        }

        t0 = clock_ns(NULL);
        if (load_cluster(cluster_path, &c) < 0 || load_stream(jobs_path, &stream) < 0)
                return 1;
        r = sched_sim_gangs_from_inputs(stream.in, stream.n, &gangs, &n_gangs, &err);
        if (r < 0) {
                fprintf(stderr, "berth: %s: %s\n", jobs_path, error_message(&err, r));
                return 1;
        }
        t1 = clock_ns(NULL);

        out.c = c;
        if (decisions_path) {
                out.decisions = fopen(decisions_path, "we");
                if (!out.decisions) {
                        fprintf(stderr, "berth: %s: %s\n", decisions_path, strerror(errno));
                        sched_sim_gangs_free(gangs, n_gangs);
                        return 1;
                }
                setvbuf(out.decisions, NULL, _IOFBF, 1 << 20);
        }
        if (journal_path) {
                r = sched_journal_create(journal_path, &so, c, gangs, n_gangs,
                                         (const char *const *)stream.lines, &journal, &err);
                if (r < 0)
                        goto fail;
                out.journal = journal;
        }
        ts = clock_ns(NULL);
        r = sched_sim_run(c, stream.in, stream.n, gangs, n_gangs, &so, output_sink, &out, &sum, &err);
        t2 = clock_ns(NULL);
        if (r < 0) {
                /* the inputs are checked before the first record: say which file */
                if (r == -EINVAL)
                        error_prefix(&err, "%s", jobs_path);
                goto fail;
        }
        if (journal) {
                r = sched_journal_close(TAKE_PTR(journal), &err);
                if (r < 0)
                        goto fail;
        }
        if (out.decisions) {
                FILE *f = TAKE_PTR(out.decisions);
                if (fclose(f) != 0) {
                        r = -errno;
                        error_set(&err, r, "write %s", decisions_path);
                        goto fail;
                }
        }
        strbuf_done(&out.buf);
        sched_sim_gangs_free(gangs, n_gangs);
        if (json)
                print_summary_json(&sum, c, so.policy, t1 - t0, t2 - ts);
        else if (!quiet)
                print_summary(&sum, c, so.policy, t1 - t0, t2 - ts);
        return 0;

fail:
        /* leave no half-written output behind */
        fprintf(stderr, "berth: sched simulate: %s\n", error_message(&err, r));
        if (out.decisions)
                fclose(out.decisions);
        if (decisions_path)
                (void)unlink(decisions_path);
        if (journal_path) {
                sched_journal_close(TAKE_PTR(journal), NULL);
                (void)unlink(journal_path);
        }
        strbuf_done(&out.buf);
        sched_sim_gangs_free(gangs, n_gangs);
        return 1;
}
