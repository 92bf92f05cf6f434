/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * linux.seccomp: validation follows the runtime-spec (config-linux.md "Seccomp") and runc
 * (libcontainer/specconv SetupSeccomp, libcontainer/seccomp): KILL means KILL_THREAD, a rule
 * whose action is the default action is left out, an unknown syscall name is skipped, and
 * without "flags" SPEC_ALLOW is set where the kernel has it. Unlike runc, everything is
 * checked and compiled in the runtime before the container exists; the container's process
 * only hands the finished BPF program to seccomp(2).
 */

#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "oci/json-walk.h"
#include "basic/socket-util.h"
#include "seccomp-cache.h"
#include "seccomp.h"
#include "sync.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define SECCOMP_ARGS_MAX 6    /* a syscall has at most six arguments */
#define ERRNO_MAX        4095 /* the kernel turns anything larger into 4095 */
#define TRACE_DATA_MAX   0xffff
#define OPTIMIZE_ABOVE   32 /* runc: libseccomp's binary tree only pays off for longer lists */

typedef enum ActionData {
        ACTION_DATA_NONE,
        ACTION_DATA_ERRNO, /* the low 16 bits are the errno the syscall fails with */
        ACTION_DATA_TRACE, /* ... the message a ptrace tracer gets */
} ActionData;

/* Sorted by name: `features` lists them in this order. */
static const struct {
        const char *name;
        uint32_t action;
        ActionData data;
        unsigned api_level; /* libseccomp's API level that has it (kernel and library) */
} actions[] = {
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ACTION_DATA_NONE, 1},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), ACTION_DATA_ERRNO, 1},
        {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, ACTION_DATA_NONE, 1},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ACTION_DATA_NONE, 3},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ACTION_DATA_NONE, 1},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG, ACTION_DATA_NONE, 3},
        {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ACTION_DATA_NONE, 5},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), ACTION_DATA_TRACE, 1},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, ACTION_DATA_NONE, 1},
};

static const struct {
        const char *name;
        enum scmp_compare op;
} operators[] = {
        {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
        {"SCMP_CMP_NE", SCMP_CMP_NE},
};

/* Every SCMP_ARCH_* some libseccomp knows, sorted; `features` lists those this one resolves. */
static const char *const arch_names[] = {
        "SCMP_ARCH_AARCH64",  "SCMP_ARCH_ARM",         "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
        "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_PPC",      "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",     "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_S390",     "SCMP_ARCH_S390X",       "SCMP_ARCH_SH",          "SCMP_ARCH_SHEB",
        "SCMP_ARCH_X32",      "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",
};

/* runc's order. TSYNC is accepted and ignored, as runc does: the process is single-threaded. */
static const struct {
        const char *name;
        unsigned flag;
} filter_flags[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", 0},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
        {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
        {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/* The kernel checks the flags before it reads the program: EFAULT means it knows them all. */
static bool kernel_has_filter_flag(unsigned flag)
{
        if (flag == 0)
                return true;
        /* WAIT_KILLABLE_RECV is refused (EINVAL) without a listener. */
        if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
                flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

static uint32_t arch_resolve(const char *name)
{
        char lower[32];
        size_t i;

        if (strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(lower))
                return 0;
        for (i = 0; name[10 + i]; i++) {
                char c = name[10 + i];
                lower[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        lower[i] = '\0';
        return seccomp_arch_resolve_name(lower);
}

SeccompPlan *seccomp_plan_free(SeccompPlan *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; p->rules && i < p->n_rules; i++) {
                strv_free(p->rules[i].names);
                free(p->rules[i].args);
        }
        free(p->rules);
        free(p->arches);
        strv_free(p->skipped_syscalls);
        free(p->listener_path);
        free(p->listener_metadata);
        free(p->program);
        free(p);
        return NULL;
}

/* An action named by @action_key and the errno (or trace data) named by @errno_key of @obj. */
static int parse_action(struct json_object *obj, const char *action_key, const char *errno_key,
                        const char *parent, uint32_t *ret, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        _cleanup_free_ char *name = NULL;
        struct json_object *v = NULL;
        uint64_t data = EPERM;
        size_t a;
        int r;

        r = oci_json_get_string(obj, action_key, true, parent, &name, err);
        if (r < 0)
                return r;
        oci_json_path_key(path, parent, action_key);
        for (a = 0; a < ELEMENTSOF(actions); a++)
                if (streq(actions[a].name, name))
                        break;
        if (a == ELEMENTSOF(actions))
                return error_setx(err, -EINVAL, "%s: unknown action \"%s\"", path, name);
        if (seccomp_api_get() < actions[a].api_level)
                return error_setx(err, -EOPNOTSUPP,
                                  "%s: %s is not supported by this kernel and libseccomp %u.%u.%u "
                                  "(API level %u, it needs %u)",
                                  path, name, seccomp_version()->major, seccomp_version()->minor,
                                  seccomp_version()->micro, seccomp_api_get(), actions[a].api_level);

        r = oci_json_member(obj, errno_key, json_type_int, false, parent, &v, err);
        if (r < 0)
                return r;
        oci_json_path_key(epath, parent, errno_key);
        if (r > 0) {
                /* The spec: "When the action doesn't support an errno, the runtime MUST ... fail." */
                if (actions[a].data == ACTION_DATA_NONE)
                        return error_setx(
                                err, -EINVAL,
                                "%s: %s takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)", epath,
                                name);
                r = oci_json_value_uint64(v, epath, 0,
                                          actions[a].data == ACTION_DATA_ERRNO ? ERRNO_MAX : TRACE_DATA_MAX,
                                          &data, err);
                if (r < 0)
                        return r;
        }
        *ret = actions[a].action | (actions[a].data != ACTION_DATA_NONE ? (uint32_t)data : 0);
        return 0;
}

static int parse_arch(struct json_object *obj, const char *parent, SeccompPlan *p, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = oci_json_get_strv(obj, "architectures", false, parent, &names, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, parent, "architectures");
        p->arches = calloc(strv_length(names) + 1, sizeof(uint32_t));
        if (!p->arches)
                return -ENOMEM;
        STRV_FOREACH (n, names) {
                uint32_t token = arch_resolve(*n);
                if (token == 0)
                        return error_setx(err, -EINVAL, "%s: unknown architecture \"%s\"",
                                          oci_json_path_index(epath, path, (size_t)(n - names)), *n);
                p->arches[p->n_arches++] = token;
        }
        return 0;
}

static int parse_flags(struct json_object *obj, const char *parent, SeccompPlan *p, bool *ret_wait_killable,
                       BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = oci_json_get_strv(obj, "flags", false, parent, &names, err);
        if (r < 0)
                return r;
        if (r == 0) {
                /* runc: no "flags" at all (not even []) means SPEC_ALLOW where the kernel has it. */
                if (kernel_has_filter_flag(SECCOMP_FILTER_FLAG_SPEC_ALLOW))
                        p->filter_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                return 0;
        }
        oci_json_path_key(path, parent, "flags");
        STRV_FOREACH (n, names) {
                size_t f;
                oci_json_path_index(epath, path, (size_t)(n - names));
                for (f = 0; f < ELEMENTSOF(filter_flags); f++)
                        if (streq(filter_flags[f].name, *n))
                                break;
                if (f == ELEMENTSOF(filter_flags))
                        return error_setx(err, -EINVAL, "%s: unknown flag \"%s\"", epath, *n);
                if (!kernel_has_filter_flag(filter_flags[f].flag))
                        return error_setx(err, -EOPNOTSUPP, "%s: %s is not supported by this kernel", epath,
                                          *n);
                /* Only meaningful (and only accepted by the kernel) with a listener: decided later. */
                if (filter_flags[f].flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
                        *ret_wait_killable = true;
                else
                        p->filter_flags |= filter_flags[f].flag;
        }
        return 0;
}

static int parse_arg(struct json_object *obj, const char *path, SeccompArg *ret, BerthError *err)
{
        _cleanup_free_ char *op = NULL;
        uint64_t index = 0;
        size_t o;
        int r;

        r = oci_json_check_type(obj, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(obj, "index", true, 0, SECCOMP_ARGS_MAX - 1, path, &index, err);
        if (r < 0)
                return r;
        ret->index = (unsigned)index;
        r = oci_json_get_uint64(obj, "value", true, 0, UINT64_MAX, path, &ret->value, err);
        if (r < 0)
                return r;
        r = oci_json_get_uint64(obj, "valueTwo", false, 0, UINT64_MAX, path, &ret->value_two, err);
        if (r < 0)
                return r;
        r = oci_json_get_string(obj, "op", true, path, &op, err);
        if (r < 0)
                return r;
        for (o = 0; o < ELEMENTSOF(operators); o++)
                if (streq(operators[o].name, op))
                        break;
        if (o == ELEMENTSOF(operators))
                return error_setx(err, -EINVAL, "%s.op: unknown operator \"%s\"", path, op);
        ret->op = (int)operators[o].op;
        return 0;
}

static int parse_rule(struct json_object *obj, const char *path, SeccompPlan *p, SeccompRule *rule,
                      BerthError *err)
{
        char npath[OCI_JSON_PATH_MAX], apath[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *args = NULL;
        int r;

        r = oci_json_check_type(obj, json_type_object, path, err);
        if (r < 0)
                return r;
        r = oci_json_get_strv(obj, "names", true, path, &rule->names, err);
        if (r < 0)
                return r;
        oci_json_path_key(npath, path, "names");
        if (!rule->names[0])
                return error_setx(err, -EINVAL, "%s: must contain at least one name", npath);
        r = parse_action(obj, "action", "errnoRet", path, &rule->action, err);
        if (r < 0)
                return r;
        STRV_FOREACH (n, rule->names) {
                oci_json_path_index(epath, npath, (size_t)(n - rule->names));
                if (!**n)
                        return error_setx(err, -EINVAL, "%s: must not be empty", epath);
                /* The init hands its listener fd to the runtime with sendmsg(): it must not wait on it. */
                if (rule->action == SCMP_ACT_NOTIFY && streq(*n, "sendmsg"))
                        return error_setx(
                                err, -EINVAL,
                                "%s: SCMP_ACT_NOTIFY cannot be used for \"sendmsg\": the container's "
                                "process needs it to hand the listener fd to the runtime",
                                epath);
                if (seccomp_syscall_resolve_name(*n) == __NR_SCMP_ERROR) {
                        /* runc: a name unknown here is most likely a syscall newer than libseccomp. */
                        log_debug("%s: unknown syscall \"%s\" skipped", epath, *n);
                        if (!strv_contains(p->skipped_syscalls, *n) &&
                            strv_extend(&p->skipped_syscalls, *n) < 0)
                                return -ENOMEM;
                } else if (rule->action == SCMP_ACT_NOTIFY)
                        p->notify = true;
        }

        r = oci_json_member(obj, "args", json_type_array, false, path, &args, err);
        if (r <= 0)
                return r;
        oci_json_path_key(apath, path, "args");
        size_t n = json_object_array_length(args);
        rule->args = calloc(n + 1, sizeof(SeccompArg));
        if (!rule->args)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = parse_arg(json_object_array_get_idx(args, i), oci_json_path_index(epath, apath, i),
                              &rule->args[rule->n_args], err);
                if (r < 0)
                        return r;
                rule->n_args++;
        }
        return 0;
}

static int parse_rules(struct json_object *obj, const char *parent, SeccompPlan *p, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX], epath[OCI_JSON_PATH_MAX];
        struct json_object *syscalls = NULL;
        int r;

        r = oci_json_member(obj, "syscalls", json_type_array, false, parent, &syscalls, err);
        if (r <= 0)
                return r;
        oci_json_path_key(path, parent, "syscalls");
        size_t n = json_object_array_length(syscalls);
        p->rules = calloc(n + 1, sizeof(SeccompRule));
        if (!p->rules)
                return -ENOMEM;
        p->n_rules = n; /* zeroed: the destructor copes with whatever is filled in */
        for (size_t i = 0; i < n; i++) {
                r = parse_rule(json_object_array_get_idx(syscalls, i), oci_json_path_index(epath, path, i),
                               p, &p->rules[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_listener(struct json_object *obj, const char *parent, SeccompPlan *p, BerthError *err)
{
        char path[OCI_JSON_PATH_MAX];
        int r;

        r = oci_json_get_string(obj, "listenerPath", false, parent, &p->listener_path, err);
        if (r < 0)
                return r;
        oci_json_path_key(path, parent, "listenerPath");
        if (p->listener_path) {
                if (p->listener_path[0] != '/')
                        return error_setx(err, -EINVAL, "%s: must be an absolute path, got \"%s\"", path,
                                          p->listener_path);
                if (strlen(p->listener_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
                        return error_setx(err, -ENAMETOOLONG,
                                          "%s: longer than a unix socket path can be (%zu)", path,
                                          sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
        }
        r = oci_json_get_string(obj, "listenerMetadata", false, parent, &p->listener_metadata, err);
        if (r < 0)
                return r;
        if (p->listener_metadata && !p->listener_path)
                return error_setx(err, -EINVAL, "%s.listenerMetadata: must not be set without listenerPath",
                                  parent);
        return 0;
}

static inline void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

/* runc's matchCall(): conditions on distinct arguments make one rule (all must match); two on
 * the same argument make one rule each (any may match), which libseccomp could not express. */
static int rule_add(scmp_filter_ctx ctx, const SeccompRule *rule, int nr)
{
        struct scmp_arg_cmp conds[SECCOMP_ARGS_MAX];
        bool seen[SECCOMP_ARGS_MAX] = {false}, repeated = false;

        for (size_t i = 0; i < rule->n_args; i++) {
                repeated = repeated || seen[rule->args[i].index];
                seen[rule->args[i].index] = true;
        }
        if (!repeated) {
                for (size_t i = 0; i < rule->n_args; i++)
                        conds[i] = (struct scmp_arg_cmp){rule->args[i].index,
                                                         (enum scmp_compare)rule->args[i].op,
                                                         rule->args[i].value, rule->args[i].value_two};
                return seccomp_rule_add_array(ctx, rule->action, nr, (unsigned)rule->n_args, conds);
        }
        for (size_t i = 0; i < rule->n_args; i++) {
                conds[0] = (struct scmp_arg_cmp){rule->args[i].index, (enum scmp_compare)rule->args[i].op,
                                                 rule->args[i].value, rule->args[i].value_two};
                int r = seccomp_rule_add_array(ctx, rule->action, nr, 1, conds);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int export_program(scmp_filter_ctx ctx, const char *field, SeccompPlan *p, BerthError *err)
{
        _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        struct stat st;
        int r;

        if (fd < 0)
                return error_set(err, negative_errno(), "%s: memfd for the compiled filter", field);
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return error_set(err, r, "%s: compile the filter", field);
        if (fstat(fd, &st) < 0)
                return error_set(err, negative_errno(), "%s: compiled filter", field);
        size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
        if (n == 0 || (size_t)st.st_size % sizeof(struct sock_filter) != 0)
                return error_setx(err, -EIO, "%s: libseccomp produced a malformed filter", field);
        if (n > BPF_MAXINSNS)
                return error_setx(err, -E2BIG,
                                  "%s: the filter compiles to %zu BPF instructions, more than the kernel's "
                                  "limit of %d",
                                  field, n, BPF_MAXINSNS);
        p->program = calloc(n, sizeof(struct sock_filter));
        if (!p->program)
                return -ENOMEM;
        for (size_t done = 0; done < (size_t)st.st_size;) {
                ssize_t k = pread(fd, (char *)p->program + done, (size_t)st.st_size - done, (off_t)done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return error_set(err, k < 0 ? negative_errno() : -EIO,
                                         "%s: read the compiled filter", field);
                done += (size_t)k;
        }
        p->n_program = n;
        return 0;
}

/* Everything the compiled program depends on, as text: the cache key (seccomp-cache.h). The
 * rules are listed as plan_compile() hands them to libseccomp: with syscall numbers, without
 * the unknown names and the rules whose action is the default one. NULL when out of memory. */
static char *plan_cache_key(const SeccompPlan *p, bool optimize)
{
        const struct scmp_version *v = seccomp_version();
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_printf(&b, "berth seccomp cache 1\nlibseccomp %u.%u.%u api %u native %u\n", v->major,
                      v->minor, v->micro, seccomp_api_get(), seccomp_arch_native());
        strbuf_printf(&b, "default %u optimize %d\narches", p->default_action, optimize);
        for (size_t i = 0; i < p->n_arches; i++)
                strbuf_printf(&b, " %u", p->arches[i]);
        for (size_t i = 0; i < p->n_rules; i++) {
                const SeccompRule *rule = &p->rules[i];
                if (rule->action == p->default_action)
                        continue;
                strbuf_printf(&b, "\nrule %u", rule->action);
                for (size_t k = 0; k < rule->n_args; k++)
                        strbuf_printf(&b, " %u:%d:%" PRIu64 ":%" PRIu64, rule->args[k].index,
                                      rule->args[k].op, rule->args[k].value, rule->args[k].value_two);
                strbuf_puts(&b, " calls");
                STRV_FOREACH (n, rule->names) {
                        int nr = seccomp_syscall_resolve_name(*n);
                        if (nr != __NR_SCMP_ERROR)
                                strbuf_printf(&b, " %d", nr);
                }
        }
        strbuf_putc(&b, '\n');
        return strbuf_failed(&b) ? NULL : strbuf_steal(&b);
}

static int plan_compile(SeccompPlan *p, const char *field, int cache_root_fd, BerthError *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_free_ char *key = NULL;
        char path[OCI_JSON_PATH_MAX];
        size_t n_calls = 0;
        int r;

        for (size_t i = 0; i < p->n_rules; i++)
                n_calls += strv_length(p->rules[i].names);
        if (cache_root_fd >= 0) {
                key = plan_cache_key(p, n_calls > OPTIMIZE_ABOVE);
                if (key && seccomp_cache_get(cache_root_fd, key, &p->program, &p->n_program) > 0)
                        return 0;
        }

        ctx = seccomp_init(p->default_action);
        if (!ctx)
                return error_setx(err, -EINVAL, "%s.defaultAction: libseccomp refused action 0x%x", field,
                                  p->default_action);
        /* no_new_privs is the process's setting (process.noNewPrivileges), not the filter's. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return error_set(err, r, "%s: set filter attributes", field);
        for (size_t i = 0; i < p->n_arches; i++) {
                r = seccomp_arch_add(ctx, p->arches[i]);
                if (r < 0 && r != -EEXIST)
                        return error_set(err, r, "%s.architectures[%zu]: add to the filter", field, i);
        }
        if (n_calls > OPTIMIZE_ABOVE)
                (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* older libseccomp: linear */

        for (size_t i = 0; i < p->n_rules; i++) {
                const SeccompRule *rule = &p->rules[i];
                /* runc: redundant, and libseccomp refuses a rule with the default action. */
                if (rule->action == p->default_action)
                        continue;
                STRV_FOREACH (n, rule->names) {
                        int nr = seccomp_syscall_resolve_name(*n);
                        if (nr == __NR_SCMP_ERROR)
                                continue;
                        r = rule_add(ctx, rule, nr);
                        if (r < 0) {
                                snprintf(path, sizeof(path), "%s.syscalls[%zu]", field, i);
                                return error_set(err, r, "%s: add rule for \"%s\"", path, *n);
                        }
                }
        }
        r = export_program(ctx, field, p, err);
        if (r < 0)
                return r;
        if (key)
                seccomp_cache_put(cache_root_fd, key, p->program, p->n_program);
        return 0;
}

int seccomp_config_parse_cached(struct json_object *obj, const char *field, int cache_root_fd,
                                SeccompPlan **ret, BerthError *err)
{
        _cleanup_(seccomp_plan_freep) SeccompPlan *p = NULL;
        struct json_object *v = NULL;
        bool wait_killable = false;
        int r;

        if (!obj) {
                *ret = NULL;
                return 0;
        }
        r = oci_json_check_type(obj, json_type_object, field, err);
        if (r < 0)
                return r;
        /* runc: neither a default action nor rules means no seccomp at all. */
        if (!json_object_object_get_ex(obj, "defaultAction", &v) || !v) {
                struct json_object *calls = NULL;
                r = oci_json_member(obj, "syscalls", json_type_array, false, field, &calls, err);
                if (r < 0)
                        return r;
                if (r == 0 || json_object_array_length(calls) == 0) {
                        *ret = NULL;
                        return 0;
                }
        }

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        r = parse_action(obj, "defaultAction", "defaultErrnoRet", field, &p->default_action, err);
        if (r < 0)
                return r;
        /* runc: the listener fd could never reach the runtime if every syscall waited on it. */
        if (p->default_action == SCMP_ACT_NOTIFY)
                return error_setx(err, -EINVAL,
                                  "%s.defaultAction: SCMP_ACT_NOTIFY cannot be the default action", field);
        r = parse_arch(obj, field, p, err);
        if (r >= 0)
                r = parse_flags(obj, field, p, &wait_killable, err);
        if (r >= 0)
                r = parse_listener(obj, field, p, err);
        if (r >= 0)
                r = parse_rules(obj, field, p, err);
        if (r < 0)
                return r;
        if (p->notify && !p->listener_path)
                return error_setx(
                        err, -EINVAL,
                        "%s.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY (the listener "
                        "fd has to go somewhere)",
                        field);
        if (p->notify && wait_killable)
                p->filter_flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        r = plan_compile(p, field, cache_root_fd, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int seccomp_config_parse(struct json_object *obj, const char *field, SeccompPlan **ret, BerthError *err)
{
        return seccomp_config_parse_cached(obj, field, -EBADF, ret, err);
}

SeccompStage seccomp_plan_stage(const SeccompPlan *p, bool no_new_privileges, bool for_exec)
{
        if (!p)
                return SECCOMP_STAGE_NONE;
        /* The container's init has closed its sync socket long before execve(): `create` must
         * get the listener fd while it is still there, i.e. before READY. */
        if (p->notify && !for_exec)
                return SECCOMP_STAGE_BEFORE_READY;
        /* Without no_new_privs the kernel wants CAP_SYS_ADMIN, which the user switch drops. */
        if (!no_new_privileges)
                return SECCOMP_STAGE_BEFORE_USER;
        return SECCOMP_STAGE_BEFORE_EXEC;
}

int seccomp_plan_load(const SeccompPlan *p, int sync_fd, BerthError *err)
{
        struct sock_fprog prog = {.len = (unsigned short)p->n_program, .filter = p->program};
        unsigned flags = p->filter_flags | (p->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
        int r;

        int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        if (fd < 0)
                return error_set(err, negative_errno(), "linux.seccomp: load the filter");
        if (!p->notify)
                return 0;
        /* The listener fd is O_CLOEXEC from the kernel. */
        r = sync_send(sync_fd, SYNC_SECCOMP_FD, 0, NULL, fd);
        safe_close(fd);
        if (r < 0)
                return error_set(err, r, "linux.seccomp: hand the listener fd to the runtime");
        return 0;
}

static char *process_state_json(const SeccompPlan *p, pid_t pid, const char *state_json)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_printf(&b, "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":%d,", (int)pid);
        if (p->listener_metadata) {
                strbuf_puts(&b, "\"metadata\":");
                strbuf_put_json_string(&b, p->listener_metadata);
                strbuf_putc(&b, ',');
        }
        strbuf_printf(&b, "\"state\":%s}", state_json);
        return strbuf_steal(&b);
}

int seccomp_listener_send(const SeccompPlan *p, int notify_fd, pid_t pid, const char *state_json,
                          BerthError *err)
{
        _cleanup_free_ char *payload = process_state_json(p, pid, state_json);
        _cleanup_close_ int sock = -EBADF;
        int r;

        if (!payload)
                return -ENOMEM;
        r = socket_connect_unix(p->listener_path, &sock);
        if (r < 0)
                return error_set(err, r, "linux.seccomp.listenerPath: connect to \"%s\"", p->listener_path);
        /* The spec: the fds go with the first sendmsg() only. */
        r = socket_send_all_with_fd(sock, payload, strlen(payload), notify_fd);
        if (r < 0)
                return error_set(err, r, "linux.seccomp.listenerPath: send the seccomp fd to \"%s\"",
                                 p->listener_path);
        return 0;
}

static void put_string_list(StrBuf *b, const char *key, const char *const *names, const bool *include,
                            size_t n)
{
        bool first = true;

        strbuf_printf(b, "      \"%s\": [", key);
        for (size_t i = 0; i < n; i++) {
                if (include && !include[i])
                        continue;
                strbuf_printf(b, "%s\"%s\"", first ? "" : ", ", names[i]);
                first = false;
        }
        strbuf_puts(b, "]");
}

void seccomp_features_write(StrBuf *b)
{
        const char *names[ELEMENTSOF(arch_names)];
        bool include[ELEMENTSOF(arch_names)];

        strbuf_puts(b, "{\n      \"enabled\": true,\n");
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                names[i] = actions[i].name;
        put_string_list(b, "actions", names, NULL, ELEMENTSOF(actions));
        strbuf_puts(b, ",\n");
        for (size_t i = 0; i < ELEMENTSOF(operators); i++)
                names[i] = operators[i].name;
        put_string_list(b, "operators", names, NULL, ELEMENTSOF(operators));
        strbuf_puts(b, ",\n");
        for (size_t i = 0; i < ELEMENTSOF(arch_names); i++)
                include[i] = arch_resolve(arch_names[i]) != 0;
        put_string_list(b, "archs", arch_names, include, ELEMENTSOF(arch_names));
        strbuf_puts(b, ",\n");
        for (size_t i = 0; i < ELEMENTSOF(filter_flags); i++) {
                names[i] = filter_flags[i].name;
                include[i] = kernel_has_filter_flag(filter_flags[i].flag);
        }
        put_string_list(b, "knownFlags", names, NULL, ELEMENTSOF(filter_flags));
        strbuf_puts(b, ",\n");
        put_string_list(b, "supportedFlags", names, include, ELEMENTSOF(filter_flags));
        strbuf_puts(b, "\n    }");
}
