/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Statistics in the shape of runc's `events --stats` data, from either cgroup version. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/strbuf.h"
#include "cgroup-internal.h"

/* "key value" lines (memory.stat, cpu.stat, ...) -> the value of @key, or 0. */
static uint64_t keyed(const char *text, const char *key)
{
        size_t n = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, n) == 0 && p[n] == ' ')
                        return strtoull(p + n + 1, NULL, 10);
        return 0;
}

static uint64_t read_u64_or_zero(Cgroup *cg, CgroupController c, const char *file)
{
        uint64_t v;
        return cgroup_read_u64(cg, c, file, &v) >= 0 ? v : 0;
}

static void stats_cpu(Cgroup *cg, StrBuf *b)
{
        _cleanup_free_ char *stat = NULL;
        uint64_t total = 0, user = 0, kernel = 0, periods = 0, throttled = 0, throttled_ns = 0;

        if (cg->v1[CG_CPUACCT]) {
                long hz = sysconf(_SC_CLK_TCK);
                total = read_u64_or_zero(cg, CG_CPUACCT, "cpuacct.usage");
                if (cgroup_read_file(cg, CG_CPUACCT, "cpuacct.stat", &stat) >= 0 && hz > 0) {
                        user = keyed(stat, "user") * (1000000000ULL / (uint64_t)hz);
                        kernel = keyed(stat, "system") * (1000000000ULL / (uint64_t)hz);
                }
                free(stat);
                stat = NULL;
                if (cgroup_read_file(cg, CG_CPU, "cpu.stat", &stat) >= 0) {
                        periods = keyed(stat, "nr_periods");
                        throttled = keyed(stat, "nr_throttled");
                        throttled_ns = keyed(stat, "throttled_time");
                }
        } else if (cgroup_read_file(cg, CG_CPU, "cpu.stat", &stat) >= 0) {
                total = keyed(stat, "usage_usec") * 1000;
                user = keyed(stat, "user_usec") * 1000;
                kernel = keyed(stat, "system_usec") * 1000;
                periods = keyed(stat, "nr_periods");
                throttled = keyed(stat, "nr_throttled");
                throttled_ns = keyed(stat, "throttled_usec") * 1000;
        }
        strbuf_printf(b,
                      "\"cpu\":{\"usage\":{\"total\":%" PRIu64 ",\"user\":%" PRIu64 ",\"kernel\":%" PRIu64
                      "},\"throttling\":{\"periods\":%" PRIu64 ",\"throttledPeriods\":%" PRIu64
                      ",\"throttledTime\":%" PRIu64 "}}",
                      total, user, kernel, periods, throttled, throttled_ns);
}

static void stats_memory(Cgroup *cg, StrBuf *b)
{
        _cleanup_free_ char *stat = NULL;
        uint64_t usage, max, limit, failcnt, swap_usage = 0, swap_limit = 0, oom = cgroup_oom_kills(cg);

        if (cg->v1[CG_MEMORY]) {
                usage = read_u64_or_zero(cg, CG_MEMORY, "memory.usage_in_bytes");
                max = read_u64_or_zero(cg, CG_MEMORY, "memory.max_usage_in_bytes");
                limit = read_u64_or_zero(cg, CG_MEMORY, "memory.limit_in_bytes");
                failcnt = read_u64_or_zero(cg, CG_MEMORY, "memory.failcnt");
                swap_usage = read_u64_or_zero(cg, CG_MEMORY, "memory.memsw.usage_in_bytes");
                swap_limit = read_u64_or_zero(cg, CG_MEMORY, "memory.memsw.limit_in_bytes");
        } else {
                _cleanup_free_ char *events = NULL;
                usage = read_u64_or_zero(cg, CG_MEMORY, "memory.current");
                max = read_u64_or_zero(cg, CG_MEMORY, "memory.peak");
                limit = read_u64_or_zero(cg, CG_MEMORY, "memory.max");
                failcnt = cgroup_read_file(cg, CG_MEMORY, "memory.events", &events) >= 0
                                  ? keyed(events, "max")
                                  : 0;
                swap_usage = read_u64_or_zero(cg, CG_MEMORY, "memory.swap.current");
                swap_limit = read_u64_or_zero(cg, CG_MEMORY, "memory.swap.max");
        }
        (void)cgroup_read_file(cg, CG_MEMORY, "memory.stat", &stat);
        strbuf_printf(b,
                      "\"memory\":{\"usage\":{\"usage\":%" PRIu64 ",\"max\":%" PRIu64 ",\"limit\":%" PRIu64
                      ",\"failcnt\":%" PRIu64 "},\"swap\":{\"usage\":%" PRIu64 ",\"limit\":%" PRIu64
                      "},\"cache\":%" PRIu64 ",\"oomKills\":%" PRIu64 "}",
                      usage, max, limit, failcnt, swap_usage, swap_limit,
                      stat ? keyed(stat, cg->v1[CG_MEMORY] ? "cache" : "file") : 0, oom);
}

static void stats_pids(Cgroup *cg, StrBuf *b)
{
        uint64_t current = read_u64_or_zero(cg, CG_PIDS, "pids.current");
        uint64_t limit = read_u64_or_zero(cg, CG_PIDS, "pids.max");
        strbuf_printf(b, "\"pids\":{\"current\":%" PRIu64 ",\"limit\":%" PRIu64 "}", current,
                      limit == UINT64_MAX ? 0 : limit);
}

/* Bytes read and written, summed over devices. */
static void stats_blkio(Cgroup *cg, StrBuf *b)
{
        _cleanup_free_ char *text = NULL;
        uint64_t rbytes = 0, wbytes = 0;

        if (cg->v1[CG_IO]) {
                if (cgroup_read_file(cg, CG_IO, "blkio.throttle.io_service_bytes", &text) >= 0)
                        for (char *s = NULL, *l = strtok_r(text, "\n", &s); l;
                             l = strtok_r(NULL, "\n", &s)) {
                                char op[16];
                                unsigned long long v;
                                if (sscanf(l, "%*s %15s %llu", op, &v) != 2)
                                        continue;
                                if (streq(op, "Read"))
                                        rbytes += v;
                                else if (streq(op, "Write"))
                                        wbytes += v;
                        }
        } else if (cgroup_read_file(cg, CG_IO, "io.stat", &text) >= 0) {
                for (char *p = text; (p = strstr(p, "rbytes=")); p += 7)
                        rbytes += strtoull(p + 7, NULL, 10);
                for (char *p = text; (p = strstr(p, "wbytes=")); p += 7)
                        wbytes += strtoull(p + 7, NULL, 10);
        }
        strbuf_printf(b, "\"blkio\":{\"readBytes\":%" PRIu64 ",\"writeBytes\":%" PRIu64 "}", rbytes, wbytes);
}

char *cgroup_stats_json(Cgroup *cg)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_putc(&b, '{');
        stats_cpu(cg, &b);
        strbuf_putc(&b, ',');
        stats_memory(cg, &b);
        strbuf_putc(&b, ',');
        stats_pids(cg, &b);
        strbuf_putc(&b, ',');
        stats_blkio(cg, &b);
        strbuf_putc(&b, '}');
        return strbuf_steal(&b);
}
