/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include <json-c/json.h>

#include "cgroup/devices-bpf.h"
#include "cgroup/resources.h"
#include "fuzz.h"

void fuzz_check_result(int r, const BerthError *err)
{
        FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)));
        if (r >= 0) {
                FUZZ_CHECK(err->code == 0);
                return;
        }
        /* Input is refused with a message naming the field; nothing else can fail without malloc failing. */
        FUZZ_CHECK(r == -EINVAL || r == -EFBIG);
        FUZZ_CHECK(err->code == r);
        FUZZ_CHECK(err->msg[0] != '\0');
}

static bool cpuset_chars_only(const char *s)
{
        return s[0] && strspn(s, "0123456789,-") == strlen(s);
}

static void check_resources(const CgroupResources *res)
{
        FUZZ_CHECK(!res->has_memory_limit || res->memory_limit == -1 || res->memory_limit > 0);
        FUZZ_CHECK(!res->has_memory_swap || res->memory_swap == -1 || res->memory_swap > 0);
        FUZZ_CHECK(!res->has_memory_swappiness || res->memory_swappiness <= 100);
        if (res->has_cpu_shares) {
                FUZZ_CHECK(res->cpu_shares >= 2 && res->cpu_shares <= 262144);
                uint64_t w = cgroup_shares_to_weight(res->cpu_shares);
                FUZZ_CHECK(w >= 1 && w <= 10000);
        }
        FUZZ_CHECK(!res->has_cpu_quota || res->cpu_quota == -1 || res->cpu_quota >= 1000);
        FUZZ_CHECK(!res->has_cpu_period || (res->cpu_period >= 1000 && res->cpu_period <= 1000000));
        FUZZ_CHECK(!res->cpu_cpus || cpuset_chars_only(res->cpu_cpus));
        FUZZ_CHECK(!res->cpu_mems || cpuset_chars_only(res->cpu_mems));
        FUZZ_CHECK(!res->has_cpu_idle || res->cpu_idle == 0 || res->cpu_idle == 1);
        if (res->has_blkio_weight) {
                FUZZ_CHECK(res->blkio_weight >= 10 && res->blkio_weight <= 1000);
                uint64_t w = cgroup_blkio_weight_to_io_weight(res->blkio_weight);
                FUZZ_CHECK(w >= 1 && w <= 10000);
        }
        for (size_t i = 0; i < res->n_blkio_weight_devices; i++) {
                const BlkioDeviceWeight *d = &res->blkio_weight_devices[i];
                FUZZ_CHECK(d->major >= 0 && d->minor >= 0);
                FUZZ_CHECK(!d->has_weight || (d->weight >= 10 && d->weight <= 1000));
        }
        for (size_t t = 0; t < _BLKIO_THROTTLE_MAX; t++)
                for (size_t i = 0; i < res->n_blkio_throttle[t]; i++)
                        FUZZ_CHECK(res->blkio_throttle[t][i].major >= 0 &&
                                   res->blkio_throttle[t][i].minor >= 0);
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const char *s = res->hugepage_limits[i].page_size;
                size_t n = strlen(s);
                FUZZ_CHECK(n >= 3 && s[n - 1] == 'B' && strchr("KMG", s[n - 2]));
        }
        for (size_t i = 0; i < res->n_net_priorities; i++) {
                const char *s = res->net_priorities[i].name;
                FUZZ_CHECK(s[0] && strlen(s) <= 15 && !strpbrk(s, "/: \t\n"));
        }
        for (size_t i = 0; i < res->n_rdma; i++)
                FUZZ_CHECK(res->rdma[i].device[0] && !strpbrk(res->rdma[i].device, "/= \n"));
        /* These become file names in the container's cgroup directory. */
        for (size_t i = 0; i < res->n_unified; i++) {
                const char *k = res->unified[i].key;
                FUZZ_CHECK(!strchr(k, '/') && !streq(k, ".") && !streq(k, "..") && strchr(k, '.') > k);
                FUZZ_CHECK(res->unified[i].value);
        }
        FUZZ_CHECK(!res->devices || json_object_is_type(res->devices, json_type_array));
}

/* A non-empty subsequence of "rwm": the canonical order that lets equal sets compare equal. */
static bool access_is_canonical(const char *access, size_t size)
{
        const char *order = "rwm";
        size_t n = strnlen(access, size);

        if (n == 0 || n == size)
                return false;
        for (size_t i = 0; i < n; i++) {
                const char *c = strchr(order, access[i]);
                if (!c || access[i] == '\0')
                        return false;
                order = c + 1;
        }
        return true;
}

static void check_rule(const DeviceRule *rule)
{
        char buf[DEVICE_RULE_STRING_MAX];

        FUZZ_CHECK(rule->type == 'a' || rule->type == 'b' || rule->type == 'c');
        FUZZ_CHECK(rule->major >= DEVICE_NUMBER_ANY && rule->major <= (int64_t)UINT32_MAX);
        FUZZ_CHECK(rule->minor >= DEVICE_NUMBER_ANY && rule->minor <= (int64_t)UINT32_MAX);
        FUZZ_CHECK(access_is_canonical(rule->access, sizeof(rule->access)));
        device_rule_format(rule, buf);
        FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)) && buf[0] == rule->type && buf[1] == ' ');
}

/* Every jump lands inside the program and the last instruction returns. */
static void check_program(const struct bpf_insn *insns, size_t n)
{
        FUZZ_CHECK(n >= 2);
        FUZZ_CHECK(insns[n - 1].code == (BPF_JMP | BPF_EXIT));
        for (size_t i = 0; i < n; i++) {
                if (BPF_CLASS(insns[i].code) != BPF_JMP || BPF_OP(insns[i].code) == BPF_EXIT)
                        continue;
                int64_t target = (int64_t)i + 1 + insns[i].off;
                FUZZ_CHECK(insns[i].off >= 0 && target < (int64_t)n);
        }
}

void fuzz_devices(struct json_object *arr)
{
        _cleanup_free_ DeviceRule *rules = NULL, *all = NULL;
        _cleanup_free_ struct bpf_insn *insns = NULL;
        BerthError err = {0}, err_check = {0}, err_build = {0};
        size_t n = 0, n_insns = 0;
        int r;

        r = device_rules_from_json(arr, &rules, &n, &err);
        fuzz_check_result(r, &err);
        if (r < 0)
                return;
        FUZZ_CHECK(n == 0 || rules);
        for (size_t i = 0; i < n; i++)
                check_rule(&rules[i]);

        /* As the runtime builds the list: the config's rules, then the defaults. */
        all = calloc(n + device_rules_default_count, sizeof(DeviceRule));
        FUZZ_CHECK(all);
        if (n > 0)
                memcpy(all, rules, n * sizeof(DeviceRule));
        memcpy(all + n, device_rules_default, device_rules_default_count * sizeof(DeviceRule));
        n += device_rules_default_count;

        /* v1 checks with device_rules_check(), v2 builds the program: they must agree. */
        int r_check = device_rules_check(all, n, &err_check);
        fuzz_check_result(r_check, &err_check);
        int r_build = devices_bpf_program_build(all, n, &insns, &n_insns, &err_build);
        fuzz_check_result(r_build, &err_build);
        FUZZ_CHECK((r_check < 0) == (r_build < 0));
        if (r_build >= 0)
                check_program(insns, n_insns);
        else
                FUZZ_CHECK(streq(err_check.msg, err_build.msg));
}

void fuzz_resources(struct json_object *obj, const char *field)
{
        _cleanup_(cgroup_resources_freep) CgroupResources *res = NULL;
        struct json_object *devices = NULL;
        BerthError err = {0};
        int r;

        r = cgroup_resources_parse(obj, field, &res, &err);
        fuzz_check_result(r, &err);
        if (r >= 0)
                check_resources(res);

        /* The device rules too when the rest was refused: more of the input reaches devices-bpf.c. */
        if (json_object_is_type(obj, json_type_object))
                json_object_object_get_ex(obj, "devices", &devices);
        fuzz_devices(devices);
}
