/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "basic/error.h"
#include "cgroup/resources.h"
#include "oci/json-walk.h"

#define FIELD "linux.resources"

/* Tests write JSON with single quotes, which this turns into double quotes. */
static struct json_object *json_from_sq(const char *sq)
{
        _cleanup_free_ char *text = strdup(sq);
        struct json_object *j = NULL;
        BerthError err = {0};

        assert_non_null(text);
        for (char *p = text; *p; p++)
                if (*p == '\'')
                        *p = '"';
        if (oci_json_parse(text, strlen(text), &j, &err) < 0)
                fail_msg("bad test JSON %s: %s", text, err.msg);
        return j;
}

/* The result borrows devices from *ret_json: declare the JSON first so it is released last. */
static CgroupResources *parse_ok_field(const char *sq, const char *field, struct json_object **ret_json)
{
        CgroupResources *res = NULL;
        BerthError err = {0};
        int r;

        *ret_json = json_from_sq(sq);
        r = cgroup_resources_parse(*ret_json, field, &res, &err);
        if (r < 0)
                fail_msg("unexpected error %d: %s", r, err.msg);
        assert_non_null(res);
        return res;
}

static CgroupResources *parse_ok(const char *sq, struct json_object **ret_json)
{
        return parse_ok_field(sq, FIELD, ret_json);
}

static void assert_error_field(const char *sq, const char *field, const char *message)
{
        _cleanup_json_ struct json_object *j = json_from_sq(sq);
        CgroupResources *res = NULL;
        BerthError err = {0};
        int r;

        r = cgroup_resources_parse(j, field, &res, &err);
        if (r >= 0) {
                cgroup_resources_free(res);
                fail_msg("parsed %s, but expected \"%s\"", sq, message);
        }
        assert_null(res);
        assert_int_equal(r, -EINVAL);
        assert_int_equal(err.code, r);
        assert_string_equal(err.msg, message);
}

static void assert_error(const char *sq, const char *message)
{
        assert_error_field(sq, FIELD, message);
}

/* ---- a complete object ---- */

static const char full_resources[] =
        "{'devices': [{'allow': false, 'access': 'rwm'}, {'allow': true, 'type': 'c', 'major': 1, 'minor': "
        "3}],"
        " 'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': 1073741824, 'kernel': -1,"
        "   'kernelTCP': 1048576, 'swappiness': 60, 'disableOOMKiller': true, 'useHierarchy': true,"
        "   'checkBeforeUpdate': true},"
        " 'cpu': {'shares': 1024, 'quota': 50000, 'burst': 10000, 'period': 100000,"
        "   'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '0-3,6', 'mems': '0,1', 'idle': "
        "1},"
        " 'pids': {'limit': 32},"
        " 'blockIO': {'weight': 500, 'leafWeight': 300,"
        "   'weightDevice': [{'major': 8, 'minor': 0, 'weight': 600, 'leafWeight': 100},"
        "                    {'major': 8, 'minor': 16, 'weight': 700}],"
        "   'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 104857600}],"
        "   'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': 52428800}],"
        "   'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 1000}],"
        "   'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 500},"
        "                               {'major': 253, 'minor': 1, 'rate': 300}]},"
        " 'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200}, {'pageSize': '1GB', 'limit': 0}],"
        " 'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500},"
        "                                               {'name': 'lo', 'priority': 0}]},"
        " 'rdma': {'mlx5_1': {'hcaHandles': 3, 'hcaObjects': 10000}, 'mlx4_0': {'hcaObjects': 1000}},"
        " 'unified': {'memory.high': '1073741824', 'io.max': '8:0 rbps=1048576\\n8:16 wbps=2097152'}}";

static void test_full_memory_cpu_pids(void **state)
{
        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r = parse_ok(full_resources, &j);

        assert_true(r->has_memory_limit);
        assert_int_equal(r->memory_limit, 536870912);
        assert_true(r->has_memory_reservation);
        assert_int_equal(r->memory_reservation, 268435456);
        assert_true(r->has_memory_swap);
        assert_int_equal(r->memory_swap, 1073741824);
        assert_true(r->has_memory_swappiness);
        assert_int_equal(r->memory_swappiness, 60);
        assert_true(r->has_disable_oom_killer);
        assert_true(r->disable_oom_killer);
        assert_true(r->check_before_update);

        assert_true(r->has_cpu_shares);
        assert_int_equal(r->cpu_shares, 1024);
        assert_true(r->has_cpu_quota);
        assert_int_equal(r->cpu_quota, 50000);
        assert_true(r->has_cpu_burst);
        assert_int_equal(r->cpu_burst, 10000);
        assert_true(r->has_cpu_period);
        assert_int_equal(r->cpu_period, 100000);
        assert_true(r->has_cpu_realtime_runtime);
        assert_int_equal(r->cpu_realtime_runtime, 950000);
        assert_true(r->has_cpu_realtime_period);
        assert_int_equal(r->cpu_realtime_period, 1000000);
        assert_string_equal(r->cpu_cpus, "0-3,6");
        assert_string_equal(r->cpu_mems, "0,1");
        assert_true(r->has_cpu_idle);
        assert_int_equal(r->cpu_idle, 1);

        assert_true(r->has_pids_limit);
        assert_int_equal(r->pids_limit, 32);

        /* Borrowed, not copied. */
        struct json_object *devices = NULL;
        assert_true(json_object_object_get_ex(j, "devices", &devices));
        assert_ptr_equal(r->devices, devices);
        assert_int_equal(json_object_array_length(r->devices), 2);
}

static void test_full_blkio(void **state)
{
        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r = parse_ok(full_resources, &j);

        assert_true(r->has_blkio_weight);
        assert_int_equal(r->blkio_weight, 500);
        assert_true(r->has_blkio_leaf_weight);
        assert_int_equal(r->blkio_leaf_weight, 300);

        assert_int_equal(r->n_blkio_weight_devices, 2);
        assert_int_equal(r->blkio_weight_devices[0].major, 8);
        assert_int_equal(r->blkio_weight_devices[0].minor, 0);
        assert_true(r->blkio_weight_devices[0].has_weight);
        assert_int_equal(r->blkio_weight_devices[0].weight, 600);
        assert_true(r->blkio_weight_devices[0].has_leaf_weight);
        assert_int_equal(r->blkio_weight_devices[0].leaf_weight, 100);
        assert_int_equal(r->blkio_weight_devices[1].minor, 16);
        assert_true(r->blkio_weight_devices[1].has_weight);
        assert_int_equal(r->blkio_weight_devices[1].weight, 700);
        assert_false(r->blkio_weight_devices[1].has_leaf_weight);

        assert_int_equal(r->n_blkio_throttle[BLKIO_THROTTLE_READ_BPS], 1);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_READ_BPS][0].major, 8);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_READ_BPS][0].minor, 0);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_READ_BPS][0].rate, 104857600);
        assert_int_equal(r->n_blkio_throttle[BLKIO_THROTTLE_WRITE_BPS], 1);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_WRITE_BPS][0].rate, 52428800);
        assert_int_equal(r->n_blkio_throttle[BLKIO_THROTTLE_READ_IOPS], 1);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_READ_IOPS][0].rate, 1000);
        assert_int_equal(r->n_blkio_throttle[BLKIO_THROTTLE_WRITE_IOPS], 2);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_WRITE_IOPS][0].rate, 500);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_WRITE_IOPS][1].major, 253);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_WRITE_IOPS][1].minor, 1);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_WRITE_IOPS][1].rate, 300);
}

static void test_full_hugepages_network_rdma_unified(void **state)
{
        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r = parse_ok(full_resources, &j);

        assert_int_equal(r->n_hugepage_limits, 2);
        assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
        assert_int_equal(r->hugepage_limits[0].limit, 209715200);
        assert_string_equal(r->hugepage_limits[1].page_size, "1GB");
        assert_int_equal(r->hugepage_limits[1].limit, 0);

        assert_true(r->has_net_class_id);
        assert_int_equal(r->net_class_id, 1048577);
        assert_int_equal(r->n_net_priorities, 2);
        assert_string_equal(r->net_priorities[0].name, "eth0");
        assert_int_equal(r->net_priorities[0].priority, 500);
        assert_string_equal(r->net_priorities[1].name, "lo");
        assert_int_equal(r->net_priorities[1].priority, 0);

        /* Document order. */
        assert_int_equal(r->n_rdma, 2);
        assert_string_equal(r->rdma[0].device, "mlx5_1");
        assert_true(r->rdma[0].has_hca_handles);
        assert_int_equal(r->rdma[0].hca_handles, 3);
        assert_true(r->rdma[0].has_hca_objects);
        assert_int_equal(r->rdma[0].hca_objects, 10000);
        assert_string_equal(r->rdma[1].device, "mlx4_0");
        assert_false(r->rdma[1].has_hca_handles);
        assert_true(r->rdma[1].has_hca_objects);
        assert_int_equal(r->rdma[1].hca_objects, 1000);

        assert_int_equal(r->n_unified, 2);
        assert_string_equal(r->unified[0].key, "memory.high");
        assert_string_equal(r->unified[0].value, "1073741824");
        assert_string_equal(r->unified[1].key, "io.max");
        assert_string_equal(r->unified[1].value, "8:0 rbps=1048576\n8:16 wbps=2097152");
}

static void assert_all_unset(const CgroupResources *r)
{
        assert_false(r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap ||
                     r->has_memory_swappiness || r->has_disable_oom_killer || r->check_before_update);
        assert_false(r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period || r->has_cpu_burst ||
                     r->has_cpu_realtime_runtime || r->has_cpu_realtime_period || r->has_cpu_idle);
        assert_null(r->cpu_cpus);
        assert_null(r->cpu_mems);
        assert_false(r->has_pids_limit);
        assert_false(r->has_blkio_weight || r->has_blkio_leaf_weight);
        assert_int_equal(r->n_blkio_weight_devices, 0);
        for (int t = 0; t < _BLKIO_THROTTLE_MAX; t++)
                assert_int_equal(r->n_blkio_throttle[t], 0);
        assert_int_equal(r->n_hugepage_limits, 0);
        assert_false(r->has_net_class_id);
        assert_int_equal(r->n_net_priorities, 0);
        assert_int_equal(r->n_rdma, 0);
        assert_int_equal(r->n_unified, 0);
        assert_null(r->devices);
}

static void test_absent_and_empty(void **state)
{
        _cleanup_(cgroup_resources_freep) CgroupResources *none = NULL;
        BerthError err = {0};

        assert_int_equal(cgroup_resources_parse(NULL, FIELD, &none, &err), 0);
        assert_non_null(none);
        assert_all_unset(none);

        _cleanup_json_ struct json_object *j1 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *empty = parse_ok("{}", &j1);
        assert_all_unset(empty);

        /* Empty sections, null members and empty arrays and maps are "not set" too. */
        _cleanup_json_ struct json_object *j2 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *sections =
                parse_ok("{'memory': {'limit': null}, 'cpu': {'cpus': ''}, 'pids': {}, 'blockIO': "
                         "{'weightDevice': []},"
                         " 'hugepageLimits': [], 'network': {}, 'rdma': {}, 'unified': {}, 'devices': null}",
                         &j2);
        assert_all_unset(sections);

        /* Unknown members are ignored, as everywhere in the spec. */
        _cleanup_json_ struct json_object *j3 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *unknown =
                parse_ok("{'misc': {'x': 1}, 'memory': {'future': 'x'}, 'oomScoreAdj': 5}", &j3);
        assert_all_unset(unknown);
}

static void test_wrong_types(void **state)
{
        assert_error("[]", "linux.resources: must be an object");
        assert_error("{'memory': []}", "linux.resources.memory: must be an object");
        assert_error("{'cpu': 1}", "linux.resources.cpu: must be an object");
        assert_error("{'pids': 'x'}", "linux.resources.pids: must be an object");
        assert_error("{'blockIO': true}", "linux.resources.blockIO: must be an object");
        assert_error("{'hugepageLimits': {}}", "linux.resources.hugepageLimits: must be an array");
        assert_error("{'network': []}", "linux.resources.network: must be an object");
        assert_error("{'rdma': []}", "linux.resources.rdma: must be an object");
        assert_error("{'unified': []}", "linux.resources.unified: must be an object");
        assert_error("{'devices': {}}", "linux.resources.devices: must be an array");

        assert_error("{'memory': {'limit': '1G'}}", "linux.resources.memory.limit: must be an integer");
        assert_error("{'memory': {'limit': 1.5}}", "linux.resources.memory.limit: must be an integer");
        assert_error("{'memory': {'kernel': 'x'}}", "linux.resources.memory.kernel: must be an integer");
        assert_error("{'memory': {'kernelTCP': true}}",
                     "linux.resources.memory.kernelTCP: must be an integer");
        assert_error("{'memory': {'useHierarchy': 1}}",
                     "linux.resources.memory.useHierarchy: must be a boolean");
        assert_error("{'memory': {'disableOOMKiller': 'yes'}}",
                     "linux.resources.memory.disableOOMKiller: must be a boolean");
        assert_error("{'memory': {'checkBeforeUpdate': 0}}",
                     "linux.resources.memory.checkBeforeUpdate: must be a boolean");
        assert_error("{'cpu': {'cpus': 3}}", "linux.resources.cpu.cpus: must be a string");
        assert_error("{'cpu': {'shares': '1024'}}", "linux.resources.cpu.shares: must be an integer");
        assert_error("{'pids': {'limit': false}}", "linux.resources.pids.limit: must be an integer");
        assert_error("{'blockIO': {'weightDevice': {}}}",
                     "linux.resources.blockIO.weightDevice: must be an array");
        assert_error("{'blockIO': {'weightDevice': [1]}}",
                     "linux.resources.blockIO.weightDevice[0]: must be an object");
        assert_error("{'blockIO': {'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0}, []]}}",
                     "linux.resources.blockIO.throttleWriteIOPSDevice[1]: must be an object");
        assert_error("{'hugepageLimits': ['2MB']}", "linux.resources.hugepageLimits[0]: must be an object");
        assert_error("{'network': {'priorities': [{'name': 'lo', 'priority': '1'}]}}",
                     "linux.resources.network.priorities[0].priority: must be an integer");
        assert_error("{'cpu': {'cpus': '0\\u0000'}}",
                     "linux.resources.cpu.cpus: must not contain NUL characters");
}

/* ---- memory ---- */

static void test_memory_rules(void **state)
{
        assert_error("{'memory': {'limit': -2}}",
                     "linux.resources.memory.limit: must be -1 or a positive number of bytes");
        assert_error("{'memory': {'reservation': -1024}}",
                     "linux.resources.memory.reservation: must be -1 or a positive number of bytes");
        assert_error("{'memory': {'swap': -9223372036854775808}}",
                     "linux.resources.memory.swap: must be -1 or a positive number of bytes");
        assert_error("{'memory': {'limit': 18446744073709551615}}",
                     "linux.resources.memory.limit: must be between -9223372036854775808 and "
                     "9223372036854775807");
        assert_error("{'memory': {'limit': 1048576, 'swap': 1048575}}",
                     "linux.resources.memory.swap: must be at least memory.limit");
        assert_error("{'memory': {'swappiness': 101}}",
                     "linux.resources.memory.swappiness: must be between 0 and 100");
        assert_error("{'memory': {'swappiness': -1}}",
                     "linux.resources.memory.swappiness: must be between 0 and 100");

        /* -1 is unlimited; 0 is "not set" (runc); swap may equal the limit, or come alone (update). */
        _cleanup_json_ struct json_object *j1 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r1 =
                parse_ok("{'memory': {'limit': -1, 'reservation': 0, 'swap': 0, 'swappiness': 0, "
                         "'disableOOMKiller': false}}",
                         &j1);
        assert_true(r1->has_memory_limit);
        assert_int_equal(r1->memory_limit, -1);
        assert_false(r1->has_memory_reservation);
        assert_false(r1->has_memory_swap);
        assert_true(r1->has_memory_swappiness);
        assert_int_equal(r1->memory_swappiness, 0);
        assert_true(r1->has_disable_oom_killer);
        assert_false(r1->disable_oom_killer);
        assert_false(r1->check_before_update);

        _cleanup_json_ struct json_object *j2 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r2 =
                parse_ok("{'memory': {'limit': 0, 'swap': 1048576, 'reservation': -1}}", &j2);
        assert_false(r2->has_memory_limit);
        assert_true(r2->has_memory_swap);
        assert_int_equal(r2->memory_swap, 1048576);
        assert_true(r2->has_memory_reservation);
        assert_int_equal(r2->memory_reservation, -1);

        _cleanup_json_ struct json_object *j3 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r3 =
                parse_ok("{'memory': {'limit': 1048576, 'swap': 1048576}}", &j3);
        assert_int_equal(r3->memory_swap, r3->memory_limit);

        _cleanup_json_ struct json_object *j4 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r4 =
                parse_ok("{'memory': {'limit': 1048576, 'swap': -1}}", &j4);
        assert_int_equal(r4->memory_swap, -1);
}

/* ---- cpu ---- */

static void test_cpu_rules(void **state)
{
        assert_error("{'cpu': {'shares': 1}}", "linux.resources.cpu.shares: must be between 2 and 262144");
        assert_error("{'cpu': {'shares': 262145}}",
                     "linux.resources.cpu.shares: must be between 2 and 262144");
        assert_error("{'cpu': {'shares': -1024}}",
                     "linux.resources.cpu.shares: must be between 2 and 262144");
        assert_error("{'cpu': {'period': 999}}",
                     "linux.resources.cpu.period: must be between 1000 and 1000000");
        assert_error("{'cpu': {'period': 1000001}}",
                     "linux.resources.cpu.period: must be between 1000 and 1000000");
        assert_error("{'cpu': {'quota': 999}}",
                     "linux.resources.cpu.quota: must be -1 or at least 1000 microseconds");
        assert_error("{'cpu': {'quota': -2}}",
                     "linux.resources.cpu.quota: must be -1 or at least 1000 microseconds");
        assert_error("{'cpu': {'quota': 10000, 'burst': 10001}}",
                     "linux.resources.cpu.burst: must be at most cpu.quota");
        assert_error("{'cpu': {'burst': -1}}",
                     "linux.resources.cpu.burst: must be between 0 and 18446744073709551615");
        assert_error("{'cpu': {'realtimeRuntime': -2}}",
                     "linux.resources.cpu.realtimeRuntime: must be between -1 and 9223372036854775807");
        assert_error("{'cpu': {'realtimeRuntime': 1000001, 'realtimePeriod': 1000000}}",
                     "linux.resources.cpu.realtimeRuntime: must be at most cpu.realtimePeriod");
        assert_error("{'cpu': {'realtimePeriod': 18446744073709552}}",
                     "linux.resources.cpu.realtimePeriod: must be between 1 and 18446744073709551");
        assert_error("{'cpu': {'idle': 2}}", "linux.resources.cpu.idle: must be between 0 and 1");
        assert_error("{'cpu': {'idle': -1}}", "linux.resources.cpu.idle: must be between 0 and 1");

        /* The bounds themselves, -1 and "not set" zeros. */
        _cleanup_json_ struct json_object *j1 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r1 = parse_ok(
                "{'cpu': {'shares': 2, 'period': 1000, 'quota': -1, 'burst': 5000000, 'realtimeRuntime': -1,"
                " 'realtimePeriod': 1000, 'idle': 0}}",
                &j1);
        assert_int_equal(r1->cpu_shares, 2);
        assert_int_equal(r1->cpu_period, 1000);
        assert_true(r1->has_cpu_quota);
        assert_int_equal(r1->cpu_quota, -1);
        assert_int_equal(r1->cpu_burst, 5000000);
        assert_int_equal(r1->cpu_realtime_runtime, -1);
        assert_int_equal(r1->cpu_realtime_period, 1000);
        assert_true(r1->has_cpu_idle);
        assert_int_equal(r1->cpu_idle, 0);

        _cleanup_json_ struct json_object *j2 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r2 = parse_ok(
                "{'cpu': {'shares': 0, 'period': 0, 'quota': 0, 'realtimeRuntime': 0, 'realtimePeriod': 0,"
                " 'burst': 0}}",
                &j2);
        assert_false(r2->has_cpu_shares);
        assert_false(r2->has_cpu_period);
        assert_false(r2->has_cpu_quota);
        assert_false(r2->has_cpu_realtime_runtime);
        assert_false(r2->has_cpu_realtime_period);
        assert_true(r2->has_cpu_burst); /* 0 is a real burst: none */
        assert_int_equal(r2->cpu_burst, 0);

        _cleanup_json_ struct json_object *j3 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r3 = parse_ok(
                "{'cpu': {'shares': 262144, 'period': 1000000, 'quota': 1000, 'burst': 1000}}", &j3);
        assert_int_equal(r3->cpu_shares, 262144);
        assert_int_equal(r3->cpu_period, 1000000);
        assert_int_equal(r3->cpu_quota, 1000);
        assert_int_equal(r3->cpu_burst, 1000);
}

static void assert_cpus_ok(const char *list)
{
        char sq[128];
        snprintf(sq, sizeof(sq), "{'cpu': {'cpus': '%s', 'mems': '%s'}}", list, list);

        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r = parse_ok(sq, &j);
        assert_string_equal(r->cpu_cpus, list);
        assert_string_equal(r->cpu_mems, list);
}

static void assert_cpus_bad(const char *list)
{
        char sq[128], msg[256];

        snprintf(sq, sizeof(sq), "{'cpu': {'cpus': '%s'}}", list);
        snprintf(msg, sizeof(msg), "linux.resources.cpu.cpus: invalid cpu list \"%s\"", list);
        assert_error(sq, msg);
        snprintf(sq, sizeof(sq), "{'cpu': {'mems': '%s'}}", list);
        snprintf(msg, sizeof(msg), "linux.resources.cpu.mems: invalid memory node list \"%s\"", list);
        assert_error(sq, msg);
}

static void test_cpuset_lists(void **state)
{
        assert_cpus_ok("0");
        assert_cpus_ok("0-3");
        assert_cpus_ok("1-1");
        assert_cpus_ok("0,2,4-7");
        assert_cpus_ok("8-15,0-3");
        assert_cpus_ok("4294967295");

        assert_cpus_bad("x");
        assert_cpus_bad("-1");
        assert_cpus_bad("1-");
        assert_cpus_bad("3-1");
        assert_cpus_bad("0,");
        assert_cpus_bad(",0");
        assert_cpus_bad("0,,1");
        assert_cpus_bad("0 1");
        assert_cpus_bad(" 0");
        assert_cpus_bad("0-1-2");
        assert_cpus_bad("0x1");
        assert_cpus_bad("4294967296");
        assert_cpus_bad("99999999999999999999999");
}

/* ---- pids ---- */

static void test_pids(void **state)
{
        /* Every int64 is accepted: <= 0 is unlimited to the drivers, as in runc. */
        _cleanup_json_ struct json_object *j1 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r1 = parse_ok("{'pids': {'limit': -1}}", &j1);
        assert_true(r1->has_pids_limit);
        assert_int_equal(r1->pids_limit, -1);

        _cleanup_json_ struct json_object *j2 = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r2 = parse_ok("{'pids': {'limit': 0}}", &j2);
        assert_true(r2->has_pids_limit);
        assert_int_equal(r2->pids_limit, 0);

        assert_error(
                "{'pids': {'limit': 9223372036854775808}}",
                "linux.resources.pids.limit: must be between -9223372036854775808 and 9223372036854775807");
}

/* ---- blockIO ---- */

static void test_blkio_rules(void **state)
{
        assert_error("{'blockIO': {'weight': 9}}",
                     "linux.resources.blockIO.weight: must be between 10 and 1000");
        assert_error("{'blockIO': {'weight': 1001}}",
                     "linux.resources.blockIO.weight: must be between 10 and 1000");
        assert_error("{'blockIO': {'weight': -10}}",
                     "linux.resources.blockIO.weight: must be between 10 and 1000");
        assert_error("{'blockIO': {'leafWeight': 65546}}",
                     "linux.resources.blockIO.leafWeight: must be between 10 and 1000");
        assert_error("{'blockIO': {'weightDevice': [{'minor': 0, 'weight': 100}]}}",
                     "linux.resources.blockIO.weightDevice[0].major: is required");
        assert_error("{'blockIO': {'weightDevice': [{'major': 8, 'weight': 100}]}}",
                     "linux.resources.blockIO.weightDevice[0].minor: is required");
        assert_error("{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}, {'major': 8, 'minor': 1, "
                     "'weight': 5}]}}",
                     "linux.resources.blockIO.weightDevice[1].weight: must be between 10 and 1000");
        assert_error("{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0, 'leafWeight': 2000}]}}",
                     "linux.resources.blockIO.weightDevice[0].leafWeight: must be between 10 and 1000");
        assert_error("{'blockIO': {'weightDevice': [{'major': 4096, 'minor': 0}]}}",
                     "linux.resources.blockIO.weightDevice[0].major: must be between 0 and 4095");
        assert_error(
                "{'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1},"
                " {'major': 8, 'minor': -1, 'rate': 1}]}}",
                "linux.resources.blockIO.throttleReadBpsDevice[1].minor: must be between 0 and 1048575");
        assert_error("{'blockIO': {'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': -1}]}}",
                     "linux.resources.blockIO.throttleWriteBpsDevice[0].rate: must be between 0 and "
                     "18446744073709551615");
        assert_error("{'blockIO': {'throttleReadIOPSDevice': [{'minor': 0, 'rate': 1}]}}",
                     "linux.resources.blockIO.throttleReadIOPSDevice[0].major: is required");
        assert_error("{'blockIO': {'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': '1'}]}}",
                     "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: must be an integer");

        /* Bounds; 0 weights are "not set"; a missing rate is 0, as in the Go types. */
        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r = parse_ok(
                "{'blockIO': {'weight': 10, 'leafWeight': 0, 'weightDevice': [{'major': 4095, 'minor': "
                "1048575,"
                " 'weight': 0, 'leafWeight': 1000}], 'throttleReadBpsDevice': [{'major': 8, 'minor': 0}]}}",
                &j);
        assert_true(r->has_blkio_weight);
        assert_int_equal(r->blkio_weight, 10);
        assert_false(r->has_blkio_leaf_weight);
        assert_int_equal(r->n_blkio_weight_devices, 1);
        assert_int_equal(r->blkio_weight_devices[0].major, 4095);
        assert_int_equal(r->blkio_weight_devices[0].minor, 1048575);
        assert_false(r->blkio_weight_devices[0].has_weight);
        assert_true(r->blkio_weight_devices[0].has_leaf_weight);
        assert_int_equal(r->blkio_weight_devices[0].leaf_weight, 1000);
        assert_int_equal(r->n_blkio_throttle[BLKIO_THROTTLE_READ_BPS], 1);
        assert_int_equal(r->blkio_throttle[BLKIO_THROTTLE_READ_BPS][0].rate, 0);
        assert_int_equal(r->n_blkio_throttle[BLKIO_THROTTLE_WRITE_BPS], 0);
        assert_null(r->blkio_throttle[BLKIO_THROTTLE_WRITE_BPS]);
}

/* ---- hugepageLimits ---- */

static void assert_page_size_bad(const char *size)
{
        char sq[128], msg[256];

        snprintf(sq, sizeof(sq), "{'hugepageLimits': [{'pageSize': '%s', 'limit': 1}]}", size);
        snprintf(msg, sizeof(msg), "linux.resources.hugepageLimits[0].pageSize: invalid page size \"%s\"",
                 size);
        assert_error(sq, msg);
}

static void test_hugepages(void **state)
{
        assert_page_size_bad("3XB");
        assert_page_size_bad("");
        assert_page_size_bad("MB");
        assert_page_size_bad("2M");
        assert_page_size_bad("2mb");
        assert_page_size_bad("2MBB");
        assert_page_size_bad("02MB");
        assert_page_size_bad("0KB");
        assert_page_size_bad("2 MB");
        assert_page_size_bad("1234567890KB");
        assert_page_size_bad("../x");

        assert_error("{'hugepageLimits': [{'limit': 1}]}",
                     "linux.resources.hugepageLimits[0].pageSize: is required");
        assert_error("{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}, {'pageSize': '1GB'}]}",
                     "linux.resources.hugepageLimits[1].limit: is required");
        assert_error("{'hugepageLimits': [{'pageSize': '2MB', 'limit': -1}]}",
                     "linux.resources.hugepageLimits[0].limit: must be between 0 and 18446744073709551615");

        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r =
                parse_ok("{'hugepageLimits': [{'pageSize': '64KB', 'limit': 18446744073709551615}, "
                         "{'pageSize': '32MB',"
                         " 'limit': 1}, {'pageSize': '16GB', 'limit': 2}]}",
                         &j);
        assert_int_equal(r->n_hugepage_limits, 3);
        assert_string_equal(r->hugepage_limits[0].page_size, "64KB");
        assert_true(r->hugepage_limits[0].limit == UINT64_MAX);
        assert_string_equal(r->hugepage_limits[1].page_size, "32MB");
        assert_string_equal(r->hugepage_limits[2].page_size, "16GB");
}

/* ---- network, rdma ---- */

static void test_network(void **state)
{
        assert_error("{'network': {'classID': -1}}",
                     "linux.resources.network.classID: must be between 1 and 4294967295");
        assert_error("{'network': {'classID': 4294967296}}",
                     "linux.resources.network.classID: must be between 1 and 4294967295");
        assert_error("{'network': {'priorities': {}}}",
                     "linux.resources.network.priorities: must be an array");
        assert_error("{'network': {'priorities': [{'priority': 1}]}}",
                     "linux.resources.network.priorities[0].name: is required");
        assert_error("{'network': {'priorities': [{'name': 'eth0'}]}}",
                     "linux.resources.network.priorities[0].priority: is required");
        assert_error("{'network': {'priorities': [{'name': 'eth0', 'priority': 4294967296}]}}",
                     "linux.resources.network.priorities[0].priority: must be between 0 and 4294967295");
        assert_error("{'network': {'priorities': [{'name': 'eth0', 'priority': 1}, {'name': 'eth 1', "
                     "'priority': 1}]}}",
                     "linux.resources.network.priorities[1].name: invalid interface name \"eth 1\"");
        assert_error("{'network': {'priorities': [{'name': '', 'priority': 1}]}}",
                     "linux.resources.network.priorities[0].name: invalid interface name \"\"");
        assert_error("{'network': {'priorities': [{'name': 'a/b', 'priority': 1}]}}",
                     "linux.resources.network.priorities[0].name: invalid interface name \"a/b\"");
        assert_error("{'network': {'priorities': [{'name': '..', 'priority': 1}]}}",
                     "linux.resources.network.priorities[0].name: invalid interface name \"..\"");
        assert_error("{'network': {'priorities': [{'name': 'eth0\\n1 2', 'priority': 1}]}}",
                     "linux.resources.network.priorities[0].name: invalid interface name \"eth0\n1 2\"");
        assert_error(
                "{'network': {'priorities': [{'name': '0123456789abcdef', 'priority': 1}]}}",
                "linux.resources.network.priorities[0].name: invalid interface name \"0123456789abcdef\"");

        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r =
                parse_ok("{'network': {'classID': 0, 'priorities': [{'name': '0123456789abcde', 'priority': "
                         "4294967295}]}}",
                         &j);
        assert_false(r->has_net_class_id);
        assert_int_equal(r->n_net_priorities, 1);
        assert_string_equal(r->net_priorities[0].name, "0123456789abcde");
        assert_int_equal(r->net_priorities[0].priority, UINT32_MAX);
}

static void test_rdma(void **state)
{
        assert_error("{'rdma': {'mlx5_1': {'hcaHandles': 1}, 'a b': {}}}",
                     "linux.resources.rdma[\"a b\"]: invalid device name");
        assert_error("{'rdma': {'': {}}}", "linux.resources.rdma[\"\"]: invalid device name");
        assert_error("{'rdma': {'x=1': {}}}", "linux.resources.rdma[\"x=1\"]: invalid device name");
        assert_error("{'rdma': {'mlx5_1': 3}}", "linux.resources.rdma[\"mlx5_1\"]: must be an object");
        assert_error("{'rdma': {'mlx5_1': null}}", "linux.resources.rdma[\"mlx5_1\"]: must be an object");
        assert_error("{'rdma': {'mlx5_1': {'hcaHandles': 4294967296}}}",
                     "linux.resources.rdma[\"mlx5_1\"].hcaHandles: must be between 0 and 4294967295");
        assert_error("{'rdma': {'mlx5_1': {'hcaObjects': -1}}}",
                     "linux.resources.rdma[\"mlx5_1\"].hcaObjects: must be between 0 and 4294967295");

        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r =
                parse_ok("{'rdma': {'rxe0': {}, 'mlx5_0': {'hcaHandles': 0}}}", &j);
        assert_int_equal(r->n_rdma, 2);
        assert_string_equal(r->rdma[0].device, "rxe0");
        assert_false(r->rdma[0].has_hca_handles);
        assert_false(r->rdma[0].has_hca_objects);
        assert_true(r->rdma[1].has_hca_handles);
        assert_int_equal(r->rdma[1].hca_handles, 0);
}

/* ---- unified ---- */

static void test_unified(void **state)
{
        assert_error("{'unified': {'a/b': '1'}}", "linux.resources.unified[\"a/b\"]: invalid key");
        assert_error("{'unified': {'memory.high': '1', '../memory.max': '1'}}",
                     "linux.resources.unified[\"../memory.max\"]: invalid key");
        assert_error("{'unified': {'': '1'}}", "linux.resources.unified[\"\"]: invalid key");
        assert_error("{'unified': {'.': '1'}}", "linux.resources.unified[\".\"]: invalid key");
        assert_error("{'unified': {'..': '1'}}", "linux.resources.unified[\"..\"]: invalid key");
        assert_error("{'unified': {'memory': '1'}}", "linux.resources.unified[\"memory\"]: invalid key");
        assert_error("{'unified': {'.high': '1'}}", "linux.resources.unified[\".high\"]: invalid key");
        assert_error("{'unified': {'memory.': '1'}}", "linux.resources.unified[\"memory.\"]: invalid key");
        assert_error("{'unified': {'memory.max': 1}}",
                     "linux.resources.unified[\"memory.max\"]: must be a string");
        assert_error("{'unified': {'memory.max': null}}",
                     "linux.resources.unified[\"memory.max\"]: must be a string");
        assert_error("{'unified': {'memory.max': '1\\u0000'}}",
                     "linux.resources.unified[\"memory.max\"]: must not contain NUL characters");

        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r =
                parse_ok("{'unified': {'cgroup.freeze': '0', 'memory.oom.group': '1', 'pids.max': ''}}", &j);
        assert_int_equal(r->n_unified, 3);
        assert_string_equal(r->unified[0].key, "cgroup.freeze");
        assert_string_equal(r->unified[0].value, "0");
        assert_string_equal(r->unified[1].key, "memory.oom.group");
        assert_string_equal(r->unified[2].key, "pids.max");
        assert_string_equal(r->unified[2].value, "");
}

/* ---- the field prefix (`update -r`) ---- */

static void test_field_prefix(void **state)
{
        assert_error_field("{'cpu': {'shares': 1}}", "resources",
                           "resources.cpu.shares: must be between 2 and 262144");
        assert_error_field("{'unified': {'x': ''}}", "resources", "resources.unified[\"x\"]: invalid key");
        assert_error_field("5", "resources", "resources: must be an object");

        _cleanup_json_ struct json_object *j = NULL;
        _cleanup_(cgroup_resources_freep) CgroupResources *r =
                parse_ok_field("{'memory': {'limit': 4194304}}", "resources", &j);
        assert_int_equal(r->memory_limit, 4194304);
}

/* Failures after arrays and strings were allocated must release them (ASan checks). */
static void test_late_errors_release_everything(void **state)
{
        assert_error(
                "{'cpu': {'cpus': '0-1', 'mems': '0'}, 'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}],"
                " 'network': {'priorities': [{'name': 'lo', 'priority': 1}]},"
                " 'rdma': {'mlx5_0': {'hcaHandles': 1}}, 'unified': {'memory.max': '1', 'bad': '1'}}",
                "linux.resources.unified[\"bad\"]: invalid key");
        assert_error("{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}],"
                     " 'throttleReadBpsDevice': [{'major': 8, 'minor': 0}],"
                     " 'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0}, {'major': 8}]}}",
                     "linux.resources.blockIO.throttleWriteIOPSDevice[1].minor: is required");
        assert_error("{'unified': {'memory.max': '1'}, 'devices': 1}",
                     "linux.resources.devices: must be an array");
        assert_error(
                "{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}, {'pageSize': '2XB', 'limit': 1}]}",
                "linux.resources.hugepageLimits[1].pageSize: invalid page size \"2XB\"");
        assert_error("{'network': {'priorities': [{'name': 'lo', 'priority': 1}, {'name': 'a:b', "
                     "'priority': 1}]}}",
                     "linux.resources.network.priorities[1].name: invalid interface name \"a:b\"");
}

/* ---- conversions ---- */

static void test_shares_to_weight(void **state)
{
        assert_int_equal(cgroup_shares_to_weight(0), 0);
        assert_int_equal(cgroup_shares_to_weight(2), 1);
        assert_int_equal(cgroup_shares_to_weight(1024), 39); /* 1 + 1022 * 9999 / 262142 = 1 + 38 */
        assert_int_equal(cgroup_shares_to_weight(262144), 10000);
        /* Clamped as the kernel clamps shares. */
        assert_int_equal(cgroup_shares_to_weight(1), 1);
        assert_int_equal(cgroup_shares_to_weight(1000000), 10000);
        assert_int_equal(cgroup_shares_to_weight(UINT64_MAX), 10000);
        for (uint64_t s = 2; s < 262144; s += 97)
                assert_true(cgroup_shares_to_weight(s) <= cgroup_shares_to_weight(s + 97));
}

static void test_blkio_weight_to_io_weight(void **state)
{
        assert_int_equal(cgroup_blkio_weight_to_io_weight(0), 0);
        assert_int_equal(cgroup_blkio_weight_to_io_weight(10), 1);
        assert_int_equal(cgroup_blkio_weight_to_io_weight(100), 910);  /* 1 + 90 * 9999 / 990 = 1 + 909 */
        assert_int_equal(cgroup_blkio_weight_to_io_weight(500), 4950); /* 1 + 490 * 9999 / 990 = 1 + 4949 */
        assert_int_equal(cgroup_blkio_weight_to_io_weight(1000), 10000);
        assert_int_equal(cgroup_blkio_weight_to_io_weight(5), 1);
        assert_int_equal(cgroup_blkio_weight_to_io_weight(UINT64_MAX), 10000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_memory_cpu_pids),
                cmocka_unit_test(test_full_blkio),
                cmocka_unit_test(test_full_hugepages_network_rdma_unified),
                cmocka_unit_test(test_absent_and_empty),
                cmocka_unit_test(test_wrong_types),
                cmocka_unit_test(test_memory_rules),
                cmocka_unit_test(test_cpu_rules),
                cmocka_unit_test(test_cpuset_lists),
                cmocka_unit_test(test_pids),
                cmocka_unit_test(test_blkio_rules),
                cmocka_unit_test(test_hugepages),
                cmocka_unit_test(test_network),
                cmocka_unit_test(test_rdma),
                cmocka_unit_test(test_unified),
                cmocka_unit_test(test_field_prefix),
                cmocka_unit_test(test_late_errors_release_everything),
                cmocka_unit_test(test_shares_to_weight),
                cmocka_unit_test(test_blkio_weight_to_io_weight),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
