/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/scheduler/gen: a seeded generator of a cluster (JSON) and a job stream (JSON lines) for
 * `berth sched simulate`. Integer arithmetic and its own PRNG (splitmix64 seeding xoshiro256**)
 * only, so the same arguments give byte-identical files on every machine.
 *
 *   gen --nodes N --jobs M --seed S [--at-zero] [--load F] [--mix mixed|uniform]
 *       --cluster OUT --jobs-out OUT
 *
 * It prints one JSON object on stdout: the totals of what the jobs ask and, for --mix uniform,
 * the lower bound on the nodes that can hold them all (bench/README.md, "bench/scheduler").
 *
 * Nodes (--mix mixed, the default), in a repeating pattern of 20 so the shares are exact:
 *   12 of 20  CPU only   64 cores,  256Gi
 *    4 of 20  4 GPUs     64 cores,  512Gi: A100 40Gi in one NVLink domain
 *    1 of 20  4 GPUs     64 cores,  512Gi: L4 24Gi on PCIe, each GPU its own domain
 *    3 of 20  8 GPUs    128 cores, 1024Gi: H100 80Gi in two NVLink domains of 4
 * --mix uniform makes every node the 8-GPU kind (the packing-quality runs, where the lower bound
 * max over resources of ceil(total demand / node capacity) holds for any packing). Labels: zone a/b.
 *
 * Jobs. The shapes follow what the published traces report, qualitatively; the numbers are ours:
 * - Google Borg 2019 (Tirmazi et al., "Borg: the Next Generation", EuroSys 2020): most jobs ask
 *   for a small fraction of a machine, and a heavy tail of large jobs holds most of the
 *   resources. Here 90% are CPU jobs: 60% of them under one core (100m-1000m) and mostly under
 *   1Gi, 30% 1.5-4 cores, 8% 6-16 cores, 2% 24-64 cores; memory = cores x a per-core ratio of
 *   0.5-8Gi (at least 128Mi, at most 256Gi).
 * - Microsoft Philly (Jeon et al., "Analysis of Large-Scale Multi-Tenant GPU Clusters for DNN
 *   Training Workloads", USENIX ATC 2019) and Alibaba PAI (Weng et al., "MLaaS in the Wild",
 *   NSDI 2022): most GPU jobs use one GPU, a minority 2, 4 or 8, and distributed jobs span nodes.
 *   Here 10% are GPU jobs: 1 GPU 70%, 2 GPUs 12%, 4 GPUs 10%, 8 GPUs 8%; 4-16 cores and 16-96Gi
 *   per GPU; some ask a model (H100, A100, L4) or gpu_memory 40Gi; 1 in 50 8-GPU jobs starts a
 *   gang of 2-4 such jobs.
 * - Durations: heavy-tailed, roughly log-normal (all three traces): log-uniform within
 *   half-decade buckets from 10 s to 3 x 10^5 s, bucket weights bell-shaped around 15-50 minutes
 *   for CPU jobs and one to three hours for GPU jobs.
 * - Priorities 0 (60%, 70% of them preemptible), 100 (30%), 200 (8%), 1000 (2%), as Borg's tiers
 *   (free/best-effort batch, mid, production, monitoring) in spirit; gangs use 100.
 * - 2% of CPU jobs select zone=a.
 * - Arrivals: gaps uniform in [0, 2 x mean], the mean set so that the offered load (sum of
 *   demand x duration over the span, divided by the cluster's capacity) of the busiest resource
 *   is --load (default 0.9). --at-zero puts every submit at 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MI UINT64_C(1048576)
#define GI (MI * 1024)

typedef struct Rng {
        uint64_t s[4];
} Rng;

static uint64_t splitmix64(uint64_t *x)
{
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void rng_seed(Rng *r, uint64_t seed, uint64_t stream)
{
        uint64_t x = seed ^ (stream * UINT64_C(0xd1342543de82ef95));

        for (int i = 0; i < 4; i++)
                r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rng_next(Rng *r)
{
        uint64_t result = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

        r->s[2] ^= r->s[0];
        r->s[3] ^= r->s[1];
        r->s[1] ^= r->s[2];
        r->s[0] ^= r->s[3];
        r->s[2] ^= t;
        r->s[3] = rotl(r->s[3], 45);
        return result;
}

/* uniform in [0, n), n > 0 (multiply-shift; the bias is below 2^-40 for our n) */
static uint64_t rng_below(Rng *r, uint64_t n)
{
        return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static uint64_t rng_range(Rng *r, uint64_t lo, uint64_t hi)
{
        return lo + rng_below(r, hi - lo + 1);
}

/* percent chance */
static bool rng_pct(Rng *r, unsigned pct)
{
        return rng_below(r, 100) < pct;
}

typedef struct Weighted {
        uint64_t value;
        unsigned weight;
} Weighted;

static uint64_t rng_pick(Rng *r, const Weighted *t, size_t n)
{
        unsigned total = 0, x;

        for (size_t i = 0; i < n; i++)
                total += t[i].weight;
        x = (unsigned)rng_below(r, total);
        for (size_t i = 0; i < n; i++) {
                if (x < t[i].weight)
                        return t[i].value;
                x -= t[i].weight;
        }
        abort();
}

#define PICK(r, t) rng_pick((r), (t), sizeof(t) / sizeof((t)[0]))

static uint64_t isqrt64(uint64_t n)
{
        uint64_t x = n, y = (x + 1) / 2;

        if (n < 2)
                return n;
        while (y < x) {
                x = y;
                y = (x + n / x) / 2;
        }
        return x;
}

/* Log-uniform in [lo, hi) (density 1/x) with integers only: 16 geometric steps lo * q^k,
 * q = (hi/lo)^(1/16) in 28-bit fixed point by four integer square roots, uniform within a step. */
#define FIX 28
static uint64_t rng_log_uniform(Rng *r, uint64_t lo, uint64_t hi)
{
        uint64_t q = (hi << FIX) / lo, k = rng_below(r, 16), a = lo << FIX, b;

        for (int i = 0; i < 4; i++)
                q = isqrt64(q << FIX);
        for (uint64_t i = 0; i < k; i++)
                a = (uint64_t)(((unsigned __int128)a * q) >> FIX);
        b = (uint64_t)(((unsigned __int128)a * q) >> FIX);
        a >>= FIX;
        b >>= FIX;
        if (b > hi)
                b = hi;
        if (b <= a)
                b = a + 1;
        return rng_range(r, a, b - 1);
}

typedef enum NodeKind {
        NODE_CPU,
        NODE_A100X4,
        NODE_L4X4,
        NODE_H100X8,
} NodeKind;

static const struct {
        const char *model;
        uint64_t cpu_millis, memory_bytes, gpu_memory_bytes;
        unsigned n_gpus, per_domain;
} kinds[] = {
        [NODE_CPU] = {NULL, 64000, 256 * GI, 0, 0, 0},
        [NODE_A100X4] = {"A100", 64000, 512 * GI, 40 * GI, 4, 4},
        [NODE_L4X4] = {"L4", 64000, 512 * GI, 24 * GI, 4, 1},
        [NODE_H100X8] = {"H100", 128000, 1024 * GI, 80 * GI, 8, 4},
};

static NodeKind node_kind(uint64_t i, bool uniform)
{
        uint64_t k = i % 20;

        if (uniform)
                return NODE_H100X8;
        if (k < 12)
                return NODE_CPU;
        if (k < 17)
                return k == 14 ? NODE_L4X4 : NODE_A100X4;
        return NODE_H100X8;
}

typedef struct GenJob {
        uint64_t cpu_millis, memory_bytes, duration, submit;
        const char *gpu_model;
        uint64_t gpu_memory_bytes;
        int32_t priority;
        uint32_t gang; /* 0: none, else gang number */
        uint8_t n_gpus;
        bool preemptible, zone_a;
} GenJob;

static const Weighted cpu_small[] = {
        {100, 20}, {200, 15}, {250, 15}, {300, 5}, {400, 5}, {500, 20}, {750, 8}, {1000, 12},
};
static const Weighted cpu_medium[] = {{1500, 20}, {2000, 35}, {3000, 15}, {4000, 30}};
static const Weighted cpu_large[] = {{6000, 20}, {8000, 40}, {12000, 15}, {16000, 25}};
static const Weighted cpu_huge[] = {{24000, 30}, {32000, 40}, {48000, 15}, {64000, 15}};
/* MiB of memory per core */
static const Weighted mem_per_core[] = {{512, 20}, {1024, 30}, {2048, 25}, {4096, 18}, {8192, 7}};
static const Weighted gpu_count[] = {{1, 70}, {2, 12}, {4, 10}, {8, 8}};
static const Weighted cpu_per_gpu[] = {{4000, 30}, {6000, 20}, {8000, 30}, {12000, 15}, {16000, 5}};
static const Weighted gib_per_gpu[] = {{16, 25}, {32, 35}, {64, 30}, {96, 10}};
static const Weighted priorities[] = {{0, 60}, {100, 30}, {200, 8}, {1000, 2}};
/* durations: a bucket [bucket_lo[b], bucket_lo[b + 1]) by weight, then log-uniform inside it */
static const uint64_t bucket_lo[] = {10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000, 300000};
static const Weighted cpu_duration[] = {{0, 2},  {1, 5},  {2, 10}, {3, 16}, {4, 20},
                                        {5, 19}, {6, 14}, {7, 9},  {8, 5}};
static const Weighted gpu_duration[] = {{1, 3}, {2, 7}, {3, 14}, {4, 20}, {5, 22}, {6, 18}, {7, 11}, {8, 5}};

static uint64_t duration_from(Rng *r, const Weighted *t, size_t n)
{
        uint64_t b = rng_pick(r, t, n);

        return rng_log_uniform(r, bucket_lo[b], bucket_lo[b + 1]);
}

static void gen_cpu_job(Rng *r, GenJob *j)
{
        unsigned size = (unsigned)rng_below(r, 100);
        uint64_t mem;

        if (size < 60)
                j->cpu_millis = PICK(r, cpu_small);
        else if (size < 90)
                j->cpu_millis = PICK(r, cpu_medium);
        else if (size < 98)
                j->cpu_millis = PICK(r, cpu_large);
        else
                j->cpu_millis = PICK(r, cpu_huge);
        /* small jobs: mostly under 1Gi */
        mem = j->cpu_millis * PICK(r, mem_per_core) / 1000 * MI;
        if (mem < 128 * MI)
                mem = 128 * MI;
        if (mem > 256 * GI)
                mem = 256 * GI;
        j->memory_bytes = mem;
        j->duration = duration_from(r, cpu_duration, sizeof(cpu_duration) / sizeof(cpu_duration[0]));
        j->zone_a = rng_pct(r, 2);
}

static void gen_gpu_job(Rng *r, GenJob *j, bool uniform)
{
        unsigned m = (unsigned)rng_below(r, 100);

        j->n_gpus = (uint8_t)PICK(r, gpu_count);
        j->cpu_millis = j->n_gpus * PICK(r, cpu_per_gpu);
        if (j->cpu_millis > 64000 && j->n_gpus < 8)
                j->cpu_millis = 64000;
        j->memory_bytes = j->n_gpus * PICK(r, gib_per_gpu) * GI;
        if (j->memory_bytes > 512 * GI && j->n_gpus < 8)
                j->memory_bytes = 512 * GI;
        /* models: H100 on 8-GPU nodes only, A100 on 4-GPU nodes, L4 for 1-2 GPU inference */
        if (m < 20)
                j->gpu_model = "H100";
        else if (m < 30 && j->n_gpus <= 4)
                j->gpu_model = "A100";
        else if (m < 40 && j->n_gpus <= 2)
                j->gpu_model = "L4";
        else if (m < 50)
                j->gpu_memory_bytes = 40 * GI;
        if (uniform && j->gpu_model)
                j->gpu_model = "H100";
        j->duration = duration_from(r, gpu_duration, sizeof(gpu_duration) / sizeof(gpu_duration[0]));
}

static int write_cluster(const char *path, uint64_t n_nodes, bool uniform)
{
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fputs("{\"nodes\": [\n", f);
        for (uint64_t i = 0; i < n_nodes; i++) {
                NodeKind k = node_kind(i, uniform);

                fprintf(f,
                        "{\"name\": \"n%06" PRIu64 "\", \"cpu\": \"%" PRIu64 "m\", \"memory\": \"%" PRIu64
                        "Gi\", "
                        "\"labels\": {\"zone\": \"%c\"}",
                        i, kinds[k].cpu_millis, kinds[k].memory_bytes / GI, i % 2 ? 'b' : 'a');
                if (kinds[k].n_gpus > 0) {
                        fputs(", \"gpus\": [", f);
                        for (unsigned g = 0; g < kinds[k].n_gpus; g++)
                                fprintf(f,
                                        "%s{\"uuid\": \"GPU-%06" PRIu64 "-%u\", \"model\": \"%s\", "
                                        "\"memory\": \"%" PRIu64 "Gi\", \"nvlink\": %u}",
                                        g ? ", " : "", i, g, kinds[k].model, kinds[k].gpu_memory_bytes / GI,
                                        g / kinds[k].per_domain);
                        fputs("]", f);
                }
                fprintf(f, "}%s\n", i + 1 < n_nodes ? "," : "");
        }
        fputs("]}\n", f);
        if (fclose(f) != 0)
                return -errno;
        return 0;
}

static void write_job(FILE *f, uint64_t i, const GenJob *j)
{
        fprintf(f,
                "{\"id\":\"j%07" PRIu64 "\",\"submit\":%" PRIu64 ",\"duration\":%" PRIu64
                ",\"priority\":%" PRId32 ",\"cpu\":\"%" PRIu64 "m\",\"memory\":\"%" PRIu64
                "Mi\",\"gpus\":%u",
                i, j->submit, j->duration, j->priority, j->cpu_millis, j->memory_bytes / MI, j->n_gpus);
        if (j->gpu_model)
                fprintf(f, ",\"gpu_model\":\"%s\"", j->gpu_model);
        if (j->gpu_memory_bytes)
                fprintf(f, ",\"gpu_memory\":\"%" PRIu64 "Gi\"", j->gpu_memory_bytes / GI);
        if (j->zone_a)
                fputs(",\"selector\":{\"zone\":\"a\"}", f);
        if (j->gang)
                fprintf(f, ",\"gang\":\"g%05" PRIu32 "\"", j->gang);
        if (j->preemptible)
                fputs(",\"preemptible\":true", f);
        fputs("}\n", f);
}

static void usage(void)
{
        fputs("usage: gen --nodes N --jobs M --seed S [--at-zero] [--load F] [--mix mixed|uniform]\n"
              "           --cluster OUT --jobs-out OUT\n",
              stderr);
        exit(2);
}

static uint64_t parse_u64(const char *s)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || *s == '-')
                usage();
        return v;
}

/* --load as a fraction with up to 6 decimals, kept in millionths */
static uint64_t parse_ppm(const char *s)
{
        uint64_t whole = 0, frac = 0, scale = 1000000;
        const char *p = s;

        for (; *p >= '0' && *p <= '9'; p++)
                whole = whole * 10 + (uint64_t)(*p - '0');
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
                        scale /= 10;
                        frac += (uint64_t)(*p - '0') * scale;
                }
        if (*p || p == s || whole > 100)
                usage();
        return whole * 1000000 + frac;
}

int main(int argc, char **argv)
{
        uint64_t n_nodes = 0, n_jobs = 0, seed = 0, load_ppm = 900000;
        const char *cluster_path = NULL, *jobs_path = NULL;
        bool at_zero = false, uniform = false, have_seed = false;
        unsigned __int128 work[3] = {0}, capacity[3] = {0};
        uint64_t demand[3] = {0}, gangs = 0, gang_jobs = 0, span = 0, t = 0, gap_max_usec;
        GenJob *jobs;
        Rng r_jobs, r_arrivals;
        FILE *f;
        int r;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--at-zero")) {
                        at_zero = true;
                        continue;
                }
                if (!v)
                        usage();
                i++;
                if (!strcmp(a, "--nodes"))
                        n_nodes = parse_u64(v);
                else if (!strcmp(a, "--jobs"))
                        n_jobs = parse_u64(v);
                else if (!strcmp(a, "--seed")) {
                        seed = parse_u64(v);
                        have_seed = true;
                } else if (!strcmp(a, "--load"))
                        load_ppm = parse_ppm(v);
                else if (!strcmp(a, "--mix")) {
                        if (strcmp(v, "mixed") && strcmp(v, "uniform"))
                                usage();
                        uniform = !strcmp(v, "uniform");
                } else if (!strcmp(a, "--cluster"))
                        cluster_path = v;
                else if (!strcmp(a, "--jobs-out"))
                        jobs_path = v;
                else
                        usage();
        }
        if (!n_nodes || !n_jobs || !have_seed || !cluster_path || !jobs_path || load_ppm == 0)
                usage();

        r = write_cluster(cluster_path, n_nodes, uniform);
        if (r < 0) {
                fprintf(stderr, "gen: %s: %s\n", cluster_path, strerror(-r));
                return 1;
        }
        for (uint64_t i = 0; i < n_nodes; i++) {
                NodeKind k = node_kind(i, uniform);

                capacity[0] += kinds[k].cpu_millis;
                capacity[1] += kinds[k].memory_bytes;
                capacity[2] += kinds[k].n_gpus;
        }

        /* The jobs depend on the seed and --mix only (not on --nodes), so a smaller cluster can be
         * given exactly the same jobs. */
        jobs = calloc(n_jobs, sizeof(GenJob));
        if (!jobs) {
                fputs("gen: out of memory\n", stderr);
                return 1;
        }
        rng_seed(&r_jobs, seed, 1);
        rng_seed(&r_arrivals, seed, 2);
        for (uint64_t i = 0; i < n_jobs; i++) {
                GenJob *j = &jobs[i];

                if (rng_pct(&r_jobs, 10))
                        gen_gpu_job(&r_jobs, j, uniform);
                else
                        gen_cpu_job(&r_jobs, j);
                j->priority = (int32_t)PICK(&r_jobs, priorities);
                j->preemptible = j->priority == 0 && rng_pct(&r_jobs, 70);
                /* a distributed job: a gang of 2-4 copies of this 8-GPU job, same priority */
                if (j->n_gpus == 8 && rng_pct(&r_jobs, 2) && i + 1 < n_jobs) {
                        uint64_t members = rng_range(&r_jobs, 2, 4);

                        if (members > n_jobs - i)
                                members = n_jobs - i;
                        gangs++;
                        j->priority = 100;
                        j->preemptible = false;
                        j->gang = (uint32_t)gangs;
                        for (uint64_t m = 1; m < members; m++)
                                jobs[i + m] = *j;
                        gang_jobs += members;
                        i += members - 1;
                }
        }
        for (uint64_t i = 0; i < n_jobs; i++) {
                const GenJob *j = &jobs[i];

                demand[0] += j->cpu_millis;
                demand[1] += j->memory_bytes;
                demand[2] += j->n_gpus;
                work[0] += (unsigned __int128)j->cpu_millis * j->duration;
                work[1] += (unsigned __int128)j->memory_bytes * j->duration;
                work[2] += (unsigned __int128)j->n_gpus * j->duration;
        }
        /* span = max over resources of work / (load x capacity) */
        for (int d = 0; d < 3; d++) {
                unsigned __int128 s;

                if (capacity[d] == 0)
                        continue;
                s = work[d] * 1000000 / ((unsigned __int128)load_ppm * capacity[d]);
                if (s > span)
                        span = (uint64_t)s;
        }
        /* in microseconds, so that short mean gaps are not rounded away */
        gap_max_usec = (uint64_t)((unsigned __int128)span * 2000000 / n_jobs);
        for (uint64_t i = 0; i < n_jobs; i++) {
                /* gang members arrive together */
                if (!at_zero && (i == 0 || !jobs[i].gang || jobs[i].gang != jobs[i - 1].gang))
                        t += rng_below(&r_arrivals, gap_max_usec + 1);
                jobs[i].submit = at_zero ? 0 : t / 1000000;
        }

        f = fopen(jobs_path, "we");
        if (!f) {
                fprintf(stderr, "gen: %s: %s\n", jobs_path, strerror(errno));
                return 1;
        }
        for (uint64_t i = 0; i < n_jobs; i++)
                write_job(f, i, &jobs[i]);
        if (fclose(f) != 0) {
                fprintf(stderr, "gen: %s: %s\n", jobs_path, strerror(errno));
                return 1;
        }

        printf("{\"nodes\": %" PRIu64 ", \"jobs\": %" PRIu64 ", \"seed\": %" PRIu64 ", \"mix\": \"%s\", "
               "\"gangs\": %" PRIu64 ", \"gang_jobs\": %" PRIu64 ", \"span_sec\": %" PRIu64 ", "
               "\"last_submit\": %" PRIu64 ", \"demand\": {\"cpu_millis\": %" PRIu64
               ", \"memory_bytes\": %" PRIu64 ", \"gpus\": %" PRIu64
               "}, \"capacity\": {\"cpu_millis\": %" PRIu64 ", \"memory_bytes\": %" PRIu64
               ", \"gpus\": %" PRIu64 "}",
               n_nodes, n_jobs, seed, uniform ? "uniform" : "mixed", gangs, gang_jobs, span,
               jobs[n_jobs - 1].submit, demand[0], demand[1], demand[2], (uint64_t)capacity[0],
               (uint64_t)capacity[1], (uint64_t)capacity[2]);
        printf(", \"offered_load_ppm\": {");
        for (int d = 0; d < 3; d++)
                printf("%s\"%s\": %" PRIu64, d ? ", " : "", (const char *[]){"cpu", "memory", "gpus"}[d],
                       capacity[d] && span ? (uint64_t)(work[d] * 1000000 / (capacity[d] * span)) : 0);
        printf("}");
        if (uniform) {
                const uint64_t cap[3] = {kinds[NODE_H100X8].cpu_millis, kinds[NODE_H100X8].memory_bytes,
                                         kinds[NODE_H100X8].n_gpus};
                uint64_t bound = 0, b[3];

                for (int d = 0; d < 3; d++) {
                        b[d] = (demand[d] + cap[d] - 1) / cap[d];
                        if (b[d] > bound)
                                bound = b[d];
                }
                printf(", \"node\": {\"cpu_millis\": %" PRIu64 ", \"memory_bytes\": %" PRIu64
                       ", \"gpus\": %" PRIu64 "}, \"bound_by\": {\"cpu\": %" PRIu64 ", \"memory\": %" PRIu64
                       ", \"gpus\": %" PRIu64 "}, \"bound_nodes\": %" PRIu64,
                       cap[0], cap[1], cap[2], b[0], b[1], b[2], bound);
        }
        puts("}");
        free(jobs);
        return 0;
}
