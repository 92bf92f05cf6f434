/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <linux/bpf.h>

#include <json-c/json.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "cgroup/devices-bpf.h"

/*
 * The generated programs are checked by running them: a small interpreter for exactly the
 * instructions the generator emits, strict where the kernel's verifier is (no reads of unset
 * registers, loads only from the context, forward jumps inside the program, a set R0 at exit).
 */

#define ANY DEVICE_NUMBER_ANY

typedef struct Vm {
        uint64_t reg[MAX_BPF_REG];
        bool set[MAX_BPF_REG];
        bool ctx[MAX_BPF_REG]; /* holds the context pointer */
} Vm;

static uint64_t vm_read(Vm *vm, int reg)
{
        assert_in_range(reg, 0, MAX_BPF_REG - 1);
        assert_true(vm->set[reg]);
        assert_false(vm->ctx[reg]); /* no arithmetic on the context pointer */
        return vm->reg[reg];
}

static void vm_write(Vm *vm, int reg, uint64_t v)
{
        assert_in_range(reg, 0, BPF_REG_9); /* R10 is the read-only frame pointer */
        vm->reg[reg] = v;
        vm->set[reg] = true;
        vm->ctx[reg] = false;
}

/* Run the program on struct bpf_cgroup_dev_ctx {access_type, major, minor}; returns R0. */
static uint64_t bpf_run(const struct bpf_insn *insns, size_t n, const uint32_t ctx[3])
{
        Vm vm = {0};

        vm.set[BPF_REG_1] = vm.ctx[BPF_REG_1] = true;
        for (size_t pc = 0, steps = 0;; pc++, steps++) {
                assert_true(pc < n);
                assert_true(steps <= n); /* forward jumps only: every instruction at most once */
                const struct bpf_insn *i = &insns[pc];
                uint32_t imm = (uint32_t)i->imm;

                switch (i->code) {
                case BPF_LDX | BPF_W | BPF_MEM:
                        assert_true(vm.set[i->src_reg] && vm.ctx[i->src_reg]);
                        assert_true(i->off == 0 || i->off == 4 || i->off == 8);
                        vm_write(&vm, i->dst_reg, ctx[i->off / 4]); /* zero-extended */
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        vm_write(&vm, i->dst_reg, (uint32_t)vm_read(&vm, i->dst_reg) & imm);
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        assert_true(imm < 32);
                        vm_write(&vm, i->dst_reg, (uint32_t)vm_read(&vm, i->dst_reg) >> imm);
                        break;
                case BPF_ALU | BPF_MOV | BPF_X:
                        vm_write(&vm, i->dst_reg, (uint32_t)vm_read(&vm, i->src_reg));
                        break;
                case BPF_ALU | BPF_MOV | BPF_K:
                        vm_write(&vm, i->dst_reg, imm);
                        break;
                case BPF_JMP | BPF_JNE | BPF_K:
                case BPF_JMP | BPF_JNE | BPF_X:
                case BPF_JMP | BPF_JEQ | BPF_K: {
                        /* 64-bit compare; an immediate is sign-extended, as in the kernel. */
                        uint64_t a = vm_read(&vm, i->dst_reg);
                        uint64_t b = BPF_SRC(i->code) == BPF_K ? (uint64_t)(int64_t)i->imm
                                                               : vm_read(&vm, i->src_reg);
                        assert_true(i->off >= 0);
                        assert_true(pc + 1 + (size_t)i->off < n);
                        if (BPF_OP(i->code) == BPF_JEQ ? a == b : a != b)
                                pc += (size_t)i->off;
                        break;
                }
                case BPF_JMP | BPF_EXIT:
                        return vm_read(&vm, BPF_REG_0);
                default:
                        fail_msg("instruction %zu: unexpected opcode 0x%02x", pc, i->code);
                }
        }
}

static unsigned access_bits(const char *access)
{
        unsigned bits = 0;

        for (const char *c = access; *c; c++)
                bits |= *c == 'r'   ? BPF_DEVCG_ACC_READ
                        : *c == 'w' ? BPF_DEVCG_ACC_WRITE
                                    : BPF_DEVCG_ACC_MKNOD;
        return bits;
}

/* Does the program let @access ("r", "rw", "m") to device @type @major:@minor through? */
static bool program_allows(const struct bpf_insn *insns, size_t n, char type, uint32_t major, uint32_t minor,
                           const char *access)
{
        uint32_t dev = type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        uint32_t ctx[3] = {access_bits(access) << 16 | dev, major, minor};
        uint64_t r0 = bpf_run(insns, n, ctx);

        assert_true(r0 == 0 || r0 == 1);
        return r0 == 1;
}

#define R(allow, type, major, minor, access) ((DeviceRule){allow, type, major, minor, access})

typedef struct Query {
        char type;
        uint32_t major, minor;
        const char *access;
        bool allowed;
} Query;

static void check_queries(const DeviceRule *rules, size_t n, const Query *q, size_t n_q)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        BerthError err = {0};
        size_t n_insns = 0;

        assert_int_equal(devices_bpf_program_build(rules, n, &insns, &n_insns, &err), 0);
        assert_int_equal(err.code, 0);
        for (size_t i = 0; i < n_q; i++)
                if (program_allows(insns, n_insns, q[i].type, q[i].major, q[i].minor, q[i].access) !=
                    q[i].allowed)
                        fail_msg("query %zu (%c %u:%u %s): expected %s", i, q[i].type, q[i].major,
                                 q[i].minor, q[i].access, q[i].allowed ? "allowed" : "denied");
}

#define CHECK(rules, queries) check_queries(rules, ELEMENTSOF(rules), queries, ELEMENTSOF(queries))

static void test_allow_one_device(void **state)
{
        const DeviceRule rules[] = {R(false, 'a', ANY, ANY, "rwm"), R(true, 'c', 1, 3, "rwm")};
        const Query q[] = {
                {'c', 1, 3, "r", true},   {'c', 1, 3, "rw", true}, {'c', 1, 3, "m", true},
                {'c', 1, 3, "rwm", true}, {'c', 1, 5, "r", false}, {'b', 1, 3, "r", false},
                {'c', 3, 1, "r", false},  {'c', 0, 0, "w", false},
        };
        CHECK(rules, q);
}

static void test_no_rules_denies_everything(void **state)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        size_t n = 0;

        assert_int_equal(devices_bpf_program_build(NULL, 0, &insns, &n, NULL), 0);
        assert_false(program_allows(insns, n, 'c', 1, 3, "r"));
        assert_false(program_allows(insns, n, 'b', 8, 0, "m"));
}

static void test_allow_all_and_deny_exceptions(void **state)
{
        const DeviceRule rules[] = {R(true, 'a', ANY, ANY, "rwm"), R(false, 'c', 1, 3, "w")};
        const Query q[] = {
                {'c', 1, 3, "r", true},   {'c', 1, 3, "m", true}, {'c', 1, 3, "w", false},
                {'c', 1, 3, "rw", false}, {'c', 1, 5, "w", true}, {'b', 1, 3, "w", true},
                {'b', 8, 0, "rwm", true},
        };
        CHECK(rules, q);
}

/*
 * access(path, F_OK) on a device asks for no access bits at all. v1 lets it through wherever
 * the device has an allow exception or no deny exception matches; so do we.
 */
static void test_access_without_bits(void **state)
{
        const DeviceRule allow_list[] = {R(false, 'a', ANY, ANY, "rwm"), R(true, 'c', 1, 3, "r")};
        const Query q1[] = {{'c', 1, 3, "", true}, {'c', 1, 5, "", false}};
        CHECK(allow_list, q1);

        const DeviceRule deny_list[] = {R(true, 'a', ANY, ANY, "rwm"), R(false, 'c', 1, 3, "rwm")};
        const Query q2[] = {{'c', 1, 3, "", true}, {'c', 1, 3, "r", false}, {'c', 1, 3, "m", false}};
        CHECK(deny_list, q2);
}

static void test_wildcards(void **state)
{
        const DeviceRule rules[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 136, ANY, "rwm"),
                R(true, 'b', ANY, ANY, "m"),
                R(true, 'c', ANY, 7, "r"),
        };
        const Query q[] = {
                {'c', 136, 0, "rw", true}, {'c', 136, 4, "r", true}, {'c', 137, 0, "r", false},
                {'b', 8, 1, "m", true},    {'b', 8, 1, "r", false},  {'c', 8, 1, "m", false},
                {'c', 99, 7, "r", true},   {'c', 99, 7, "w", false}, {'b', 99, 7, "r", false},
        };
        CHECK(rules, q);
}

static void test_later_rules_win(void **state)
{
        /* deny after allow takes bits away... */
        const DeviceRule deny_after[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 1, 3, "rwm"),
                R(false, 'c', 1, 3, "w"),
        };
        const Query q1[] = {
                {'c', 1, 3, "r", true},
                {'c', 1, 3, "m", true},
                {'c', 1, 3, "w", false},
                {'c', 1, 3, "rw", false},
        };
        CHECK(deny_after, q1);

        /* ...allow after deny gives them back... */
        const DeviceRule allow_after[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(false, 'c', 1, 3, "rwm"),
                R(true, 'c', 1, 3, "r"),
        };
        const Query q2[] = {{'c', 1, 3, "r", true}, {'c', 1, 3, "w", false}};
        CHECK(allow_after, q2);

        /* ...and an "a" rule forgets everything before it. */
        const DeviceRule reset[] = {R(true, 'c', 1, 3, "rwm"), R(false, 'a', ANY, ANY, "rwm")};
        const Query q3[] = {{'c', 1, 3, "r", false}};
        CHECK(reset, q3);

        const DeviceRule reset_to_allow[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 1, 5, "rwm"),
                R(true, 'a', 4, 4, "r"), /* an "a" rule means everything, whatever its numbers */
                R(false, 'c', 1, 3, "r"),
        };
        const Query q4[] = {
                {'c', 1, 5, "rw", true},
                {'c', 1, 3, "r", false},
                {'c', 1, 3, "w", true},
                {'b', 1, 3, "r", true},
        };
        CHECK(reset_to_allow, q4);
}

static void test_access_is_all_or_nothing(void **state)
{
        /* Granted in two rules, the bits merge as in v1: an open for "rw" passes. */
        const DeviceRule merged[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 1, 3, "r"),
                R(true, 'c', 1, 3, "w"),
        };
        const Query q1[] = {{'c', 1, 3, "rw", true}, {'c', 1, 3, "m", false}};
        CHECK(merged, q1);

        /* Granted by two different exceptions, no single one grants both bits: denied. */
        const DeviceRule split[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 1, ANY, "r"),
                R(true, 'c', 1, 3, "w"),
        };
        const Query q2[] = {{'c', 1, 3, "r", true}, {'c', 1, 3, "w", true}, {'c', 1, 3, "rw", false}};
        CHECK(split, q2);
}

static void test_numbers_above_int32(void **state)
{
        const DeviceRule rules[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 4294967295, 2147483648, "r"),
                R(true, 'b', 2147483647, 0, "r"),
        };
        const Query q[] = {
                {'c', 4294967295u, 2147483648u, "r", true},
                {'c', 4294967295u, 0, "r", false},
                {'c', 2147483647, 2147483648u, "r", false},
                {'c', 4294967295u, 2147483647, "r", false},
                {'b', 2147483647, 0, "r", true},
                {'b', 4294967295u, 0, "r", false},
        };
        CHECK(rules, q);
}

static void test_punching_holes_is_refused(void **state)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        BerthError err = {0};
        size_t n = 0;

        const DeviceRule hole[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', ANY, ANY, "rwm"),
                R(false, 'c', 1, 3, "rw"),
        };
        assert_int_equal(devices_bpf_program_build(hole, ELEMENTSOF(hole), &insns, &n, &err), -EINVAL);
        assert_string_equal(
                err.msg,
                "device rule 2 (deny c 1:3 rw): cannot punch a hole in the wildcard rule allow c *:* rwm");
        assert_null(insns);

        const DeviceRule hole_in_deny[] = {
                R(true, 'a', ANY, ANY, "rwm"),
                R(false, 'b', 8, ANY, "rwm"),
                R(true, 'b', 8, 1, "r"),
        };
        err = (BerthError){0};
        assert_int_equal(devices_bpf_program_build(hole_in_deny, ELEMENTSOF(hole_in_deny), &insns, &n, &err),
                         -EINVAL);
        assert_string_equal(
                err.msg,
                "device rule 2 (allow b 8:1 r): cannot punch a hole in the wildcard rule deny b 8:* rwm");

        /* The check the v1 driver runs refuses the same lists. */
        err = (BerthError){0};
        assert_int_equal(device_rules_check(hole, ELEMENTSOF(hole), &err), -EINVAL);
        assert_string_equal(
                err.msg,
                "device rule 2 (deny c 1:3 rw): cannot punch a hole in the wildcard rule allow c *:* rwm");
        assert_int_equal(device_rules_check(device_rules_default, device_rules_default_count, NULL), 0);

        /* No overlap in the access bits, no hole: fine. */
        const DeviceRule disjoint[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', ANY, ANY, "m"),
                R(false, 'c', 1, 3, "r"),
        };
        const Query q[] = {{'c', 1, 3, "m", true}, {'c', 1, 3, "r", false}};
        CHECK(disjoint, q);
}

static void test_invalid_rules(void **state)
{
        const DeviceRule bad[] = {
                R(true, 'x', 1, 3, "r"), R(true, 'c', -5, 3, "r"), R(true, 'c', 1, 4294967296, "r"),
                R(true, 'c', 1, 3, ""),  R(true, 'c', 1, 3, "rx"),
        };
        const char *msgs[] = {
                "device rule 0: unknown type 'x'",
                "device rule 0: device number out of range (-5:3)",
                "device rule 0: device number out of range (1:4294967296)",
                "device rule 0: access must be a combination of r, w, m",
                "device rule 0: access must be a combination of r, w, m",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ struct bpf_insn *insns = NULL;
                BerthError err = {0};
                size_t n = 0;

                assert_int_equal(devices_bpf_program_build(&bad[i], 1, &insns, &n, &err), -EINVAL);
                assert_string_equal(err.msg, msgs[i]);
        }
}

static void test_same_state_same_program(void **state)
{
        const DeviceRule a[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 1, 3, "r"),
                R(true, 'c', 1, 5, "rw"),
        };
        const DeviceRule b[] = {
                R(true, 'b', 7, 7, "rwm"), /* erased by the reset below */
                R(false, 'a', ANY, ANY, "rwm"), R(true, 'c', 1, 5, "w"),
                R(true, 'c', 1, 3, "r"),        R(true, 'c', 1, 5, "r"),
        };
        _cleanup_free_ struct bpf_insn *pa = NULL, *pb = NULL;
        size_t na = 0, nb = 0;

        assert_int_equal(devices_bpf_program_build(a, ELEMENTSOF(a), &pa, &na, NULL), 0);
        assert_int_equal(devices_bpf_program_build(b, ELEMENTSOF(b), &pb, &nb, NULL), 0);
        assert_int_equal(na, nb);
        assert_memory_equal(pa, pb, na * sizeof(struct bpf_insn));
}

/* The defaults appended after a config's usual leading "deny all", as the runtime does. */
static void test_default_rules(void **state)
{
        _cleanup_free_ DeviceRule *rules = calloc(device_rules_default_count + 1, sizeof(DeviceRule));
        const Query q[] = {
                {'c', 1, 3, "rw", true},     /* null */
                {'c', 1, 5, "r", true},      /* zero */
                {'c', 1, 7, "rw", true},     /* full */
                {'c', 1, 8, "r", true},      /* random */
                {'c', 1, 9, "r", true},      /* urandom */
                {'c', 5, 0, "rw", true},     /* tty */
                {'c', 5, 2, "rw", true},     /* ptmx */
                {'c', 136, 3, "rw", true},   /* a pty slave */
                {'c', 10, 200, "rw", true},  /* tun */
                {'c', 42, 42, "m", true},    /* mknod of anything */
                {'b', 8, 0, "m", true},      /* mknod of anything */
                {'b', 8, 0, "r", false},     /* a disk */
                {'c', 5, 1, "rw", false},    /* the host's console */
                {'c', 10, 229, "rw", false}, /* fuse */
                {'c', 1, 1, "r", false},     /* /dev/mem */
                {'c', 4, 0, "w", false},     /* tty0 */
        };

        assert_non_null(rules);
        rules[0] = R(false, 'a', ANY, ANY, "rwm");
        memcpy(rules + 1, device_rules_default, device_rules_default_count * sizeof(DeviceRule));
        check_queries(rules, device_rules_default_count + 1, q, ELEMENTSOF(q));
}

static void test_rule_format(void **state)
{
        char buf[DEVICE_RULE_STRING_MAX];

        assert_string_equal(device_rule_format(&R(true, 'c', 1, 3, "rwm"), buf), "c 1:3 rwm");
        assert_string_equal(device_rule_format(&R(false, 'b', ANY, ANY, "m"), buf), "b *:* m");
        assert_string_equal(device_rule_format(&R(true, 'c', 136, ANY, "rw"), buf), "c 136:* rw");
        assert_string_equal(device_rule_format(&R(true, 'a', 1, 2, "r"), buf), "a *:* rwm");
        assert_string_equal(device_rule_format(&R(true, 'c', 4294967295, 4294967295, "rwm"), buf),
                            "c 4294967295:4294967295 rwm");
}

static void test_json_conversion(void **state)
{
        struct json_object *arr = json_tokener_parse(
                "[{\"allow\": false, \"access\": \"rwm\"},"
                " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"wr\"},"
                " {\"allow\": true, \"type\": \"b\", \"major\": 8, \"access\": \"mr\", \"x-vendor\": 1},"
                " {\"allow\": true, \"type\": \"c\", \"major\": -1, \"minor\": null, \"access\": \"mmm\"},"
                " {\"type\": \"a\", \"access\": \"r\"}]");
        _cleanup_free_ DeviceRule *rules = NULL;
        BerthError err = {0};
        size_t n = 0;

        assert_non_null(arr);
        assert_int_equal(device_rules_from_json(arr, &rules, &n, &err), 0);
        assert_int_equal(n, 5);

        assert_false(rules[0].allow);
        assert_int_equal(rules[0].type, 'a');
        assert_int_equal(rules[0].major, ANY);
        assert_int_equal(rules[0].minor, ANY);
        assert_string_equal(rules[0].access, "rwm");

        assert_true(rules[1].allow);
        assert_int_equal(rules[1].type, 'c');
        assert_int_equal(rules[1].major, 1);
        assert_int_equal(rules[1].minor, 3);
        assert_string_equal(rules[1].access, "rw"); /* canonical order */

        assert_int_equal(rules[2].type, 'b');
        assert_int_equal(rules[2].major, 8);
        assert_int_equal(rules[2].minor, ANY);
        assert_string_equal(rules[2].access, "rm");

        assert_int_equal(rules[3].major, ANY);
        assert_int_equal(rules[3].minor, ANY);
        assert_string_equal(rules[3].access, "m");

        assert_false(rules[4].allow); /* absent allow: deny, as runc and crun read it */
        assert_int_equal(rules[4].type, 'a');

        /* And the rules mean what they say. */
        const Query q[] = {{'c', 1, 3, "rw", true},
                           {'c', 1, 3, "rwm", false},
                           {'b', 8, 3, "r", true},
                           {'b', 8, 3, "w", false},
                           {'c', 7, 7, "m", true}};
        check_queries(rules, 4, q, ELEMENTSOF(q));
        json_object_put(arr);

        /* No array at all: no rules. */
        _cleanup_free_ DeviceRule *none = NULL;
        assert_int_equal(device_rules_from_json(NULL, &none, &n, &err), 0);
        assert_null(none);
        assert_int_equal(n, 0);
}

static void test_json_errors(void **state)
{
        static const struct {
                const char *json;
                const char *msg;
        } cases[] = {
                {"{}", "linux.resources.devices: must be an array"},
                {"[1]", "linux.resources.devices[0]: must be an object"},
                {"[{\"allow\": \"yes\", \"access\": \"r\"}]",
                 "linux.resources.devices[0].allow: must be a boolean"},
                {"[{\"access\": \"r\"}, {\"type\": \"u\", \"access\": \"r\"}]",
                 "linux.resources.devices[1].type: must be one of a, b, c"},
                {"[{\"type\": \"\", \"access\": \"r\"}]",
                 "linux.resources.devices[0].type: must be one of a, b, c"},
                {"[{\"type\": \"cc\", \"access\": \"r\"}]",
                 "linux.resources.devices[0].type: must be one of a, b, c"},
                {"[{\"type\": 99, \"access\": \"r\"}]", "linux.resources.devices[0].type: must be a string"},
                {"[{\"major\": 4294967296, \"access\": \"r\"}]",
                 "linux.resources.devices[0].major: must be between -1 and 4294967295"},
                {"[{\"minor\": -2, \"access\": \"r\"}]",
                 "linux.resources.devices[0].minor: must be between -1 and 4294967295"},
                {"[{\"major\": 1.5, \"access\": \"r\"}]",
                 "linux.resources.devices[0].major: must be an integer"},
                {"[{\"major\": 18446744073709551615, \"access\": \"r\"}]",
                 "linux.resources.devices[0].major: must be between -1 and 4294967295"},
                {"[{\"allow\": true, \"type\": \"c\"}]", "linux.resources.devices[0].access: is required"},
                {"[{\"access\": null}]", "linux.resources.devices[0].access: is required"},
                {"[{\"access\": \"\"}]",
                 "linux.resources.devices[0].access: must be a combination of r, w, m"},
                {"[{\"access\": \"r\"}, {\"access\": \"w\"}, {\"access\": \"rwx\"}]",
                 "linux.resources.devices[2].access: must be a combination of r, w, m"},
                {"[{\"access\": \"R\"}]",
                 "linux.resources.devices[0].access: must be a combination of r, w, m"},
                {"[{\"access\": 7}]", "linux.resources.devices[0].access: must be a string"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct json_object *arr = json_tokener_parse(cases[i].json);
                DeviceRule *rules = NULL;
                BerthError err = {0};
                size_t n = 12345;

                if (!arr)
                        fail_msg("case %zu: bad test JSON", i);
                assert_int_equal(device_rules_from_json(arr, &rules, &n, &err), -EINVAL);
                assert_string_equal(err.msg, cases[i].msg);
                assert_null(rules);
                assert_int_equal(n, 12345);
                json_object_put(arr);
        }

        /* `update --resources` names the field from its own document. */
        struct json_object *arr = json_tokener_parse("[{\"access\": \"q\"}]");
        DeviceRule *rules = NULL;
        BerthError err = {0};
        size_t n = 0;
        assert_int_equal(device_rules_from_json_at(arr, "resources.devices", &rules, &n, &err), -EINVAL);
        assert_string_equal(err.msg, "resources.devices[0].access: must be a combination of r, w, m");
        json_object_put(arr);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_allow_one_device),
                cmocka_unit_test(test_no_rules_denies_everything),
                cmocka_unit_test(test_allow_all_and_deny_exceptions),
                cmocka_unit_test(test_access_without_bits),
                cmocka_unit_test(test_wildcards),
                cmocka_unit_test(test_later_rules_win),
                cmocka_unit_test(test_access_is_all_or_nothing),
                cmocka_unit_test(test_numbers_above_int32),
                cmocka_unit_test(test_punching_holes_is_refused),
                cmocka_unit_test(test_invalid_rules),
                cmocka_unit_test(test_same_state_same_program),
                cmocka_unit_test(test_default_rules),
                cmocka_unit_test(test_rule_format),
                cmocka_unit_test(test_json_conversion),
                cmocka_unit_test(test_json_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
