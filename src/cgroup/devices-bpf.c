/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "devices-bpf.h"
#include "oci/json-walk.h"

/* The kernel's UAPI names these access bits; keep the short forms local. */
#define ACC_R   BPF_DEVCG_ACC_READ
#define ACC_W   BPF_DEVCG_ACC_WRITE
#define ACC_M   BPF_DEVCG_ACC_MKNOD
#define ACC_RWM (ACC_R | ACC_W | ACC_M)

#define DEVICE_NUMBER_MAX ((int64_t)UINT32_MAX)

/* The verdict programs give each access: the kernel's cgroup device hook reads R0. */
#define VERDICT_DENY  0
#define VERDICT_ALLOW 1

#define ALLOW(t, maj, min, acc)                                                                             \
        {                                                                                                   \
                .allow = true, .type = (t), .major = (maj), .minor = (min), .access = (acc)                 \
        }
#define ANY DEVICE_NUMBER_ANY

/* runc's specconv.AllowedDevices, in its order. */
const DeviceRule device_rules_default[] = {
        ALLOW('c', ANY, ANY, "m"),   /* mknod of anything */
        ALLOW('b', ANY, ANY, "m"),   /* mknod of anything */
        ALLOW('c', 1, 3, "rwm"),     /* /dev/null */
        ALLOW('c', 1, 8, "rwm"),     /* /dev/random */
        ALLOW('c', 1, 7, "rwm"),     /* /dev/full */
        ALLOW('c', 5, 0, "rwm"),     /* /dev/tty */
        ALLOW('c', 1, 5, "rwm"),     /* /dev/zero */
        ALLOW('c', 1, 9, "rwm"),     /* /dev/urandom */
        ALLOW('c', 136, ANY, "rwm"), /* /dev/pts/N */
        ALLOW('c', 5, 2, "rwm"),     /* /dev/pts/ptmx */
        /* Dropped by runc 1.2.0-rc1 and put back (runc#3468): too many setups relied on it. */
        ALLOW('c', 10, 200, "rwm"), /* /dev/net/tun */
};
const size_t device_rules_default_count = ELEMENTSOF(device_rules_default);
#undef ALLOW
#undef ANY

static int access_parse(const char *s, unsigned *ret)
{
        unsigned bits = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++)
                switch (*s) {
                case 'r':
                        bits |= ACC_R;
                        break;
                case 'w':
                        bits |= ACC_W;
                        break;
                case 'm':
                        bits |= ACC_M;
                        break;
                default:
                        return -EINVAL;
                }
        *ret = bits;
        return 0;
}

/* Canonical "rwm" order, so equal access sets compare equal as strings. */
static void access_format(unsigned bits, char buf[static 4])
{
        char *p = buf;

        if (bits & ACC_R)
                *p++ = 'r';
        if (bits & ACC_W)
                *p++ = 'w';
        if (bits & ACC_M)
                *p++ = 'm';
        *p = '\0';
}

static void number_format(int64_t n, char buf[static 12])
{
        if (n == DEVICE_NUMBER_ANY)
                strcpy(buf, "*");
        else
                snprintf(buf, 12, "%" PRId64, n);
}

const char *device_rule_format(const DeviceRule *rule, char buf[static DEVICE_RULE_STRING_MAX])
{
        char major[12], minor[12];

        if (rule->type == 'a') {
                /* v1 reads "a" as everything, whatever follows. */
                snprintf(buf, DEVICE_RULE_STRING_MAX, "a *:* rwm");
                return buf;
        }
        number_format(rule->major, major);
        number_format(rule->minor, minor);
        snprintf(buf, DEVICE_RULE_STRING_MAX, "%c %s:%s %s", rule->type, major, minor, rule->access);
        return buf;
}

static int device_rule_from_json(struct json_object *v, const char *path, DeviceRule *ret, BerthError *err)
{
        _cleanup_free_ char *type = NULL, *access = NULL;
        char field[OCI_JSON_PATH_MAX];
        DeviceRule rule = {.type = 'a', .major = DEVICE_NUMBER_ANY, .minor = DEVICE_NUMBER_ANY};
        unsigned bits;
        int r;

        r = oci_json_check_type(v, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_bool(v, "allow", path, &rule.allow, err);
        if (r < 0)
                return r;

        r = oci_json_get_string(v, "type", false, path, &type, err);
        if (r < 0)
                return r;
        if (type) {
                if (!streq(type, "a") && !streq(type, "b") && !streq(type, "c"))
                        return error_setx(err, -EINVAL, "%s: must be one of a, b, c",
                                          oci_json_path_key(field, path, "type"));
                rule.type = type[0];
        }

        /* -1 is what Docker and containerd write for "*". */
        r = oci_json_get_int64(v, "major", false, DEVICE_NUMBER_ANY, DEVICE_NUMBER_MAX, path, &rule.major,
                               err);
        if (r < 0)
                return r;
        r = oci_json_get_int64(v, "minor", false, DEVICE_NUMBER_ANY, DEVICE_NUMBER_MAX, path, &rule.minor,
                               err);
        if (r < 0)
                return r;

        /* Required, as runc requires it: an empty access would match nothing on v2 and fail on v1. */
        r = oci_json_get_string(v, "access", true, path, &access, err);
        if (r < 0)
                return r;
        if (access_parse(access, &bits) < 0)
                return error_setx(err, -EINVAL, "%s: must be a combination of r, w, m",
                                  oci_json_path_key(field, path, "access"));
        access_format(bits, rule.access);

        *ret = rule;
        return 0;
}

int device_rules_from_json_at(struct json_object *arr, const char *field, DeviceRule **ret, size_t *ret_n,
                              BerthError *err)
{
        _cleanup_free_ DeviceRule *rules = NULL;
        char path[OCI_JSON_PATH_MAX];
        size_t n;
        int r;

        assert(field);

        if (!arr) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        r = oci_json_check_type(arr, json_type_array, field, err);
        if (r < 0)
                return r;

        n = json_object_array_length(arr);
        rules = calloc(n ? n : 1, sizeof(DeviceRule));
        if (!rules)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = device_rule_from_json(json_object_array_get_idx(arr, i),
                                          oci_json_path_index(path, field, i), &rules[i], err);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(rules);
        *ret_n = n;
        return 0;
}

int device_rules_from_json(struct json_object *arr, DeviceRule **ret, size_t *ret_n, BerthError *err)
{
        return device_rules_from_json_at(arr, "linux.resources.devices", ret, ret_n, err);
}

/*
 * The cgroup v1 device controller, emulated as runc's devices emulator does: a default verdict and
 * a set of exceptions, each an exact (type, major, minor) with the access bits that get the other
 * verdict. The program is generated from the final state, so v1 and v2 agree on every rule list.
 */
typedef struct DeviceException {
        char type; /* 'b' or 'c' */
        int64_t major, minor;
        unsigned access;
} DeviceException;

typedef struct DeviceEmulator {
        bool default_allow;
        DeviceException *exceptions;
        size_t n, allocated;
} DeviceEmulator;

static void device_emulator_done(DeviceEmulator *e)
{
        free(e->exceptions);
        *e = (DeviceEmulator){0};
}

static DeviceException *device_emulator_find(DeviceEmulator *e, char type, int64_t major, int64_t minor)
{
        for (size_t i = 0; i < e->n; i++)
                if (e->exceptions[i].type == type && e->exceptions[i].major == major &&
                    e->exceptions[i].minor == minor)
                        return &e->exceptions[i];
        return NULL;
}

static int device_emulator_add(DeviceEmulator *e, const DeviceRule *rule, unsigned access)
{
        DeviceException *ex = device_emulator_find(e, rule->type, rule->major, rule->minor);

        if (ex) {
                ex->access |= access;
                return 0;
        }
        if (e->n == e->allocated) {
                size_t allocated = e->allocated ? e->allocated * 2 : 16;
                DeviceException *a = reallocarray(e->exceptions, allocated, sizeof(DeviceException));
                if (!a)
                        return -ENOMEM;
                e->exceptions = a;
                e->allocated = allocated;
        }
        e->exceptions[e->n++] = (DeviceException){rule->type, rule->major, rule->minor, access};
        return 0;
}

/* "c *:* rwm": the exception in the devices.list syntax. */
static const char *exception_format(const DeviceException *ex, char buf[static DEVICE_RULE_STRING_MAX])
{
        DeviceRule rule = {.type = ex->type, .major = ex->major, .minor = ex->minor};

        access_format(ex->access, rule.access);
        return device_rule_format(&rule, buf);
}

static int device_emulator_remove(DeviceEmulator *e, const DeviceRule *rule, unsigned access, size_t index,
                                  BerthError *err)
{
        /* The wider exceptions that cover this rule's device(s) without being the same exception. */
        const int64_t wider[][2] = {
                {DEVICE_NUMBER_ANY, rule->minor},
                {rule->major, DEVICE_NUMBER_ANY},
                {DEVICE_NUMBER_ANY, DEVICE_NUMBER_ANY},
        };
        DeviceException *ex;

        /*
         * v1 keeps a list of exact exceptions and silently ignores removing a device from a
         * wildcard one; refuse instead of letting the user believe the device is blocked.
         */
        for (size_t i = 0; i < ELEMENTSOF(wider); i++) {
                if (wider[i][0] == rule->major && wider[i][1] == rule->minor)
                        continue;
                ex = device_emulator_find(e, rule->type, wider[i][0], wider[i][1]);
                if (ex && (ex->access & access)) {
                        char r[DEVICE_RULE_STRING_MAX], w[DEVICE_RULE_STRING_MAX];
                        return error_setx(
                                err, -EINVAL,
                                "device rule %zu (%s %s): cannot punch a hole in the wildcard rule %s %s",
                                index, rule->allow ? "allow" : "deny", device_rule_format(rule, r),
                                e->default_allow ? "deny" : "allow", exception_format(ex, w));
                }
        }

        ex = device_emulator_find(e, rule->type, rule->major, rule->minor);
        if (!ex)
                return 0;
        ex->access &= ~access;
        if (ex->access == 0)
                *ex = e->exceptions[--e->n];
        return 0;
}

static int device_rule_check(const DeviceRule *rule, size_t index, unsigned *ret_access, BerthError *err)
{
        char access[sizeof(rule->access) + 1];

        if (rule->type == 'a') {
                *ret_access = ACC_RWM;
                return 0;
        }
        if (rule->type != 'b' && rule->type != 'c')
                return error_setx(err, -EINVAL, "device rule %zu: unknown type '%c'", index, rule->type);
        if (rule->major < DEVICE_NUMBER_ANY || rule->major > DEVICE_NUMBER_MAX ||
            rule->minor < DEVICE_NUMBER_ANY || rule->minor > DEVICE_NUMBER_MAX)
                return error_setx(err, -EINVAL,
                                  "device rule %zu: device number out of range (%" PRId64 ":%" PRId64 ")",
                                  index, rule->major, rule->minor);
        /* Never trust the NUL: the struct may come from anywhere. */
        memcpy(access, rule->access, sizeof(rule->access));
        access[sizeof(rule->access)] = '\0';
        if (access_parse(access, ret_access) < 0)
                return error_setx(err, -EINVAL, "device rule %zu: access must be a combination of r, w, m",
                                  index);
        return 0;
}

static int device_emulator_apply(DeviceEmulator *e, const DeviceRule *rule, size_t index, BerthError *err)
{
        unsigned access = 0;
        int r;

        r = device_rule_check(rule, index, &access, err);
        if (r < 0)
                return r;
        if (rule->type == 'a') {
                e->default_allow = rule->allow;
                e->n = 0;
                return 0;
        }
        if (rule->allow == e->default_allow)
                return device_emulator_remove(e, rule, access, index, err);
        return device_emulator_add(e, rule, access);
}

static int device_emulator_run(DeviceEmulator *e, const DeviceRule *rules, size_t n, BerthError *err)
{
        assert(rules || n == 0);

        for (size_t i = 0; i < n; i++) {
                int r = device_emulator_apply(e, &rules[i], i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int device_rules_check(const DeviceRule *rules, size_t n, BerthError *err)
{
        _cleanup_(device_emulator_done) DeviceEmulator e = {.default_allow = false};

        return device_emulator_run(&e, rules, n, err);
}

/* runc's order (major, minor, type, with "*" first), so the same rules give the same program. */
static int exception_compare(const void *a, const void *b)
{
        const DeviceException *x = a, *y = b;

        if (x->major != y->major)
                return x->major < y->major ? -1 : 1;
        if (x->minor != y->minor)
                return x->minor < y->minor ? -1 : 1;
        return (x->type > y->type) - (x->type < y->type);
}

/* The program: a growing instruction array. */
typedef struct Program {
        struct bpf_insn *insns;
        size_t n, allocated;
} Program;

static void program_done(Program *p)
{
        free(p->insns);
        *p = (Program){0};
}

static int program_append(Program *p, const struct bpf_insn *insns, size_t n)
{
        if (p->allocated - p->n < n) {
                size_t allocated = p->allocated ? p->allocated : 64;
                while (allocated - p->n < n)
                        allocated *= 2;
                struct bpf_insn *a = reallocarray(p->insns, allocated, sizeof(struct bpf_insn));
                if (!a)
                        return -ENOMEM;
                p->insns = a;
                p->allocated = allocated;
        }
        memcpy(p->insns + p->n, insns, n * sizeof(struct bpf_insn));
        p->n += n;
        return 0;
}

#define INSN(c, d, s, o, i)                                                                                 \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off)  INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_IMM(op, dst, i) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, i)
#define MOV32_REG(dst, src)   INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define JNE_IMM(dst, i)       INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, i)
#define JNE_REG(dst, src)     INSN(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0)
#define JEQ_IMM(dst, i)       INSN(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 0, i)
#define EXIT_INSN()           INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/*
 * struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }: the device type is the
 * low 16 bits of access_type, the access bits the high 16. After this, R2 = type, R3 = access,
 * R4 = major, R5 = minor; R1 (the context) becomes scratch.
 */
static const struct bpf_insn program_prologue[] = {
        LDX_W(BPF_REG_2, BPF_REG_1, 0), ALU32_IMM(BPF_AND, BPF_REG_2, 0xFFFF),
        LDX_W(BPF_REG_3, BPF_REG_1, 0), ALU32_IMM(BPF_RSH, BPF_REG_3, 16),
        LDX_W(BPF_REG_4, BPF_REG_1, 4), LDX_W(BPF_REG_5, BPF_REG_1, 8),
};

/*
 * "if (reg != number) goto next block". JNE compares 64 bits with the immediate sign-extended,
 * so a number above INT32_MAX goes through a 32-bit move, which zero-extends as the load did.
 */
static size_t emit_number_check(struct bpf_insn *block, size_t k, int reg, int64_t number)
{
        if (number <= INT32_MAX) {
                block[k] = JNE_IMM(reg, (int32_t)number);
                return k + 1;
        }
        block[k] = ALU32_IMM(BPF_MOV, BPF_REG_1, (int32_t)(uint32_t)number);
        block[k + 1] = JNE_REG(reg, BPF_REG_1);
        return k + 2;
}

/*
 * One exception: every mismatch jumps past the block, a match returns the exception's verdict.
 * Which accesses an exception matches is v1's rule: an allow exception must grant every bit the
 * access asks for, and a deny exception catches an access that asks for any of its bits (so
 * "deny w" stops an open for reading and writing too).
 */
static int program_append_exception(Program *p, const DeviceException *ex, bool deny)
{
        struct bpf_insn block[16];
        size_t k = 0;

        block[k++] = JNE_IMM(BPF_REG_2, ex->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        if (deny) {
                /* if ((access & denied) == 0) goto next; */
                block[k++] = MOV32_REG(BPF_REG_1, BPF_REG_3);
                block[k++] = ALU32_IMM(BPF_AND, BPF_REG_1, (int32_t)ex->access);
                block[k++] = JEQ_IMM(BPF_REG_1, 0);
        } else if (ex->access != ACC_RWM) {
                /* if ((access & granted) != access) goto next; */
                block[k++] = MOV32_REG(BPF_REG_1, BPF_REG_3);
                block[k++] = ALU32_IMM(BPF_AND, BPF_REG_1, (int32_t)ex->access);
                block[k++] = JNE_REG(BPF_REG_1, BPF_REG_3);
        }
        if (ex->major != DEVICE_NUMBER_ANY)
                k = emit_number_check(block, k, BPF_REG_4, ex->major);
        if (ex->minor != DEVICE_NUMBER_ANY)
                k = emit_number_check(block, k, BPF_REG_5, ex->minor);
        block[k++] = ALU32_IMM(BPF_MOV, BPF_REG_0, deny ? VERDICT_DENY : VERDICT_ALLOW);
        block[k++] = EXIT_INSN();
        assert(k <= ELEMENTSOF(block));

        /* Every jump in the block goes to the next block. */
        for (size_t i = 0; i < k; i++)
                if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) != BPF_EXIT)
                        block[i].off = (int16_t)(k - i - 1);
        return program_append(p, block, k);
}

int devices_bpf_program_build(const DeviceRule *rules, size_t n, struct bpf_insn **ret_insns,
                              size_t *ret_count, BerthError *err)
{
        _cleanup_(device_emulator_done) DeviceEmulator e = {.default_allow = false};
        _cleanup_(program_done) Program p = {0};
        int r;

        r = device_emulator_run(&e, rules, n, err);
        if (r < 0)
                return r;
        if (e.n > 0)
                qsort(e.exceptions, e.n, sizeof(DeviceException), exception_compare);

        r = program_append(&p, program_prologue, ELEMENTSOF(program_prologue));
        if (r < 0)
                return r;
        /* The exceptions all give the same verdict, so their order does not change the outcome. */
        for (size_t i = 0; i < e.n; i++) {
                r = program_append_exception(&p, &e.exceptions[i], /* deny= */ e.default_allow);
                if (r < 0)
                        return r;
        }
        const struct bpf_insn tail[] = {
                ALU32_IMM(BPF_MOV, BPF_REG_0, e.default_allow ? VERDICT_ALLOW : VERDICT_DENY),
                EXIT_INSN(),
        };
        r = program_append(&p, tail, ELEMENTSOF(tail));
        if (r < 0)
                return r;

        *ret_insns = TAKE_PTR(p.insns);
        *ret_count = p.n;
        return 0;
}

/*
 * bpf(2) has no libc wrapper; this is the one place that calls it. Returns -errno. Every fd it
 * returns is O_CLOEXEC already: the kernel makes all bpf fds so.
 */
static int bpf_call(int cmd, union bpf_attr *attr)
{
        long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
        return r < 0 ? negative_errno() : (int)r;
}

static uint64_t ptr_to_u64(const void *p)
{
        return (uint64_t)(uintptr_t)p;
}

/* Before 5.11 a program's memory counts against RLIMIT_MEMLOCK, often 64 KiB. Best effort. */
static void memlock_raise(void)
{
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

        if (setrlimit(RLIMIT_MEMLOCK, &rl) == 0)
                return;
        if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_MEMLOCK, &rl);
        }
}

static int program_load(const struct bpf_insn *insns, size_t n, int *ret_fd, BerthError *err)
{
        union bpf_attr attr;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = ptr_to_u64(insns);
        attr.insn_cnt = (uint32_t)n;
        /* Only GPL-only helpers care about the license; this program calls no helper at all. */
        attr.license = ptr_to_u64("LGPL-2.1-or-later");
        strncpy(attr.prog_name, DEVICES_BPF_PROG_NAME, sizeof(attr.prog_name) - 1);

        fd = bpf_call(BPF_PROG_LOAD, &attr);
        if (fd == -EPERM) {
                memlock_raise();
                fd = bpf_call(BPF_PROG_LOAD, &attr);
        }
        if (fd == -EPERM || fd == -ENOMEM || fd == -ENOSYS)
                return error_set(err, fd, "load the device filter");
        if (fd < 0) {
                /* Run the verifier again with a log, for a message that says what it refused. */
                _cleanup_free_ char *log = calloc(1, 65536);
                const char *why = "";
                if (log) {
                        attr.log_level = 1;
                        attr.log_buf = ptr_to_u64(log);
                        attr.log_size = 65536;
                        (void)bpf_call(BPF_PROG_LOAD, &attr);
                        log[65535] = '\0';
                        size_t len = strlen(log);
                        while (len > 0 && log[len - 1] == '\n')
                                log[--len] = '\0';
                        const char *nl = strrchr(log, '\n');
                        why = nl ? nl + 1 : log;
                }
                return error_setx(err, fd, "load the device filter: %s%s%.300s", strerror(-fd),
                                  *why ? ": verifier: " : "", why);
        }
        *ret_fd = fd;
        return 0;
}

/* The ids of the device programs attached to the cgroup itself (not inherited ones). */
static int programs_query(int cgroup_fd, uint32_t **ret_ids, size_t *ret_n, BerthError *err)
{
        _cleanup_free_ uint32_t *ids = NULL;
        uint32_t size = 64;
        union bpf_attr attr;

        for (int attempt = 0;; attempt++) {
                uint32_t *a = reallocarray(ids, size, sizeof(uint32_t));
                if (!a)
                        return -ENOMEM;
                ids = a;
                memset(&attr, 0, sizeof(attr));
                attr.query.target_fd = (uint32_t)cgroup_fd;
                attr.query.attach_type = BPF_CGROUP_DEVICE;
                attr.query.prog_ids = ptr_to_u64(ids);
                attr.query.prog_cnt = size;
                int r = bpf_call(BPF_PROG_QUERY, &attr);
                if (r >= 0)
                        break;
                /* ENOSPC: too small, and prog_cnt now says how many there are. They may keep
                 * changing under us, hence the bound. */
                if (r != -ENOSPC || attempt >= 8 || attr.query.prog_cnt <= size)
                        return error_set(err, r, "list the cgroup's device filters");
                size = attr.query.prog_cnt;
        }
        *ret_ids = TAKE_PTR(ids);
        *ret_n = attr.query.prog_cnt;
        return 0;
}

/*
 * An fd for program @id if it is one of ours, -ENOENT if not (or gone). A program that an LSM
 * keeps from us is not ours either: only privileged programs can be hidden like that.
 */
static int program_open_ours(uint32_t id, int *ret_fd, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct bpf_prog_info info;
        union bpf_attr attr;
        int r;

        memset(&attr, 0, sizeof(attr));
        attr.prog_id = id;
        fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
        if (fd == -ENOENT || fd == -EPERM || fd == -EACCES)
                return -ENOENT;
        if (fd < 0)
                return error_set(err, fd, "open device filter %" PRIu32, id);

        memset(&info, 0, sizeof(info));
        memset(&attr, 0, sizeof(attr));
        attr.info.bpf_fd = (uint32_t)fd;
        attr.info.info_len = sizeof(info);
        attr.info.info = ptr_to_u64(&info);
        r = bpf_call(BPF_OBJ_GET_INFO_BY_FD, &attr);
        if (r < 0)
                return error_set(err, r, "inspect device filter %" PRIu32, id);
        if (info.type != BPF_PROG_TYPE_CGROUP_DEVICE ||
            strncmp(info.name, DEVICES_BPF_PROG_NAME, sizeof(info.name)) != 0)
                return -ENOENT;

        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int program_attach(int cgroup_fd, int prog_fd, int replace_fd)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgroup_fd;
        attr.attach_bpf_fd = (uint32_t)prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (replace_fd >= 0) {
                attr.attach_flags |= BPF_F_REPLACE;
                attr.replace_bpf_fd = (uint32_t)replace_fd;
        }
        return bpf_call(BPF_PROG_ATTACH, &attr);
}

static int program_detach(int cgroup_fd, int prog_fd)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgroup_fd;
        attr.attach_bpf_fd = (uint32_t)prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        return bpf_call(BPF_PROG_DETACH, &attr);
}

/* The fds of our programs attached before this apply. */
typedef struct FdArray {
        int *fds;
        size_t n;
} FdArray;

static void fd_array_done(FdArray *a)
{
        for (size_t i = 0; i < a->n; i++)
                safe_close(a->fds[i]);
        free(a->fds);
        *a = (FdArray){0};
}

static int programs_open_ours(int cgroup_fd, FdArray *ret, BerthError *err)
{
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_(fd_array_done) FdArray old = {0};
        size_t n_ids = 0;
        int r;

        r = programs_query(cgroup_fd, &ids, &n_ids, err);
        if (r < 0)
                return r;
        old.fds = calloc(n_ids ? n_ids : 1, sizeof(int));
        if (!old.fds)
                return -ENOMEM;
        for (size_t i = 0; i < n_ids; i++) {
                r = program_open_ours(ids[i], &old.fds[old.n], err);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                old.n++;
        }
        *ret = old;
        old = (FdArray){0};
        return 0;
}

int devices_bpf_apply(int cgroup_dir_fd, const DeviceRule *rules, size_t n, BerthError *err)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        _cleanup_(fd_array_done) FdArray old = {0};
        _cleanup_close_ int prog_fd = -EBADF;
        size_t n_insns;
        int r;

        assert(cgroup_dir_fd >= 0);

        r = devices_bpf_program_build(rules, n, &insns, &n_insns, err);
        if (r < 0)
                return r;
        r = program_load(insns, n_insns, &prog_fd, err);
        if (r < 0)
                return r;
        r = programs_open_ours(cgroup_dir_fd, &old, err);
        if (r < 0)
                return r;

        /* One of ours: swap it atomically. EINVAL: a kernel before 5.6; ENOENT: it went away. */
        if (old.n == 1) {
                r = program_attach(cgroup_dir_fd, prog_fd, old.fds[0]);
                if (r >= 0)
                        return 0;
                if (r != -EINVAL && r != -ENOENT)
                        return error_set(err, r, "replace the device filter");
        }

        /* Attached, the program lives on in the cgroup; our fd is closed on return. */
        r = program_attach(cgroup_dir_fd, prog_fd, -EBADF);
        if (r < 0)
                return error_set(err, r, "attach the device filter");
        /* The new filter is in place; until the old ones go, an access must pass them all. */
        for (size_t i = 0; i < old.n; i++) {
                r = program_detach(cgroup_dir_fd, old.fds[i]);
                if (r < 0 && r != -ENOENT)
                        return error_set(err, r, "detach the previous device filter");
        }
        return 0;
}
