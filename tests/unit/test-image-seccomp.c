/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's default seccomp profile as berth builds it, and Docker-format profile files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "basic/error.h"
#include "basic/strv.h"
#include "image/seccomp-profile.h"
#include "runtime/seccomp.h"

#define CLONE_NAMESPACE_MASK 0x7E020000LL

static const SeccompHost amd64 = {"amd64", "SCMP_ARCH_X86_64", 6, 1};
static const SeccompHost arm64 = {"arm64", "SCMP_ARCH_AARCH64", 6, 1};
static const SeccompHost amd64_old = {"amd64", "SCMP_ARCH_X86_64", 4, 4};
static const SeccompHost unknown_arch = {NULL, NULL, 6, 1};

/* berth's default bounding set (oci/default-spec.c) and Docker's. */
static char *berth_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
static char *docker_caps[] = {"CAP_CHOWN",
                              "CAP_DAC_OVERRIDE",
                              "CAP_FSETID",
                              "CAP_FOWNER",
                              "CAP_MKNOD",
                              "CAP_NET_RAW",
                              "CAP_SETGID",
                              "CAP_SETUID",
                              "CAP_SETFCAP",
                              "CAP_SETPCAP",
                              "CAP_NET_BIND_SERVICE",
                              "CAP_SYS_CHROOT",
                              "CAP_KILL",
                              "CAP_AUDIT_WRITE",
                              NULL};

static struct json_object *build(char **caps, const SeccompHost *host)
{
        struct json_object *p = NULL;

        assert_int_equal(image_seccomp_default_build(caps, host, &p), 0);
        assert_non_null(p);
        return p;
}

static const char *str(struct json_object *o, const char *key)
{
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static bool names_contain(struct json_object *rule, const char *name)
{
        struct json_object *names;

        assert_true(json_object_object_get_ex(rule, "names", &names));
        for (size_t i = 0; i < json_object_array_length(names); i++)
                if (strcmp(json_object_get_string(json_object_array_get_idx(names, i)), name) == 0)
                        return true;
        return false;
}

/* Rules naming @name: how many, how many allow it without argument conditions. */
static size_t rules_for(struct json_object *p, const char *name, size_t *ret_unconditional)
{
        struct json_object *calls;
        size_t n = 0, uncond = 0;

        assert_true(json_object_object_get_ex(p, "syscalls", &calls));
        for (size_t i = 0; i < json_object_array_length(calls); i++) {
                struct json_object *r = json_object_array_get_idx(calls, i);
                if (!names_contain(r, name))
                        continue;
                n++;
                if (strcmp(str(r, "action"), "SCMP_ACT_ALLOW") == 0 &&
                    !json_object_object_get_ex(r, "args", NULL))
                        uncond++;
                /* Docker's own keys never reach config.json. */
                assert_false(json_object_object_get_ex(r, "includes", NULL));
                assert_false(json_object_object_get_ex(r, "excludes", NULL));
                assert_false(json_object_object_get_ex(r, "comment", NULL));
        }
        if (ret_unconditional)
                *ret_unconditional = uncond;
        return n;
}

static bool allowed(struct json_object *p, const char *name)
{
        size_t u;
        rules_for(p, name, &u);
        return u > 0;
}

/* The one rule for @name; fails unless there is exactly one. */
static struct json_object *only_rule(struct json_object *p, const char *name)
{
        struct json_object *calls, *found = NULL;

        assert_int_equal(rules_for(p, name, NULL), 1);
        assert_true(json_object_object_get_ex(p, "syscalls", &calls));
        for (size_t i = 0; i < json_object_array_length(calls); i++)
                if (names_contain(json_object_array_get_idx(calls, i), name))
                        found = json_object_array_get_idx(calls, i);
        return found;
}

static void assert_strings(struct json_object *a, const char *const *want)
{
        size_t n = 0;

        assert_non_null(a);
        while (want[n])
                n++;
        assert_int_equal(json_object_array_length(a), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(json_object_get_string(json_object_array_get_idx(a, i)), want[i]);
}

static void test_default_without_caps(void **state)
{
        struct json_object *p = build(berth_caps, &amd64), *v, *r, *args, *arg;

        assert_string_equal(str(p, "defaultAction"), "SCMP_ACT_ERRNO");
        assert_true(json_object_object_get_ex(p, "defaultErrnoRet", &v));
        assert_int_equal(json_object_get_int(v), EPERM);
        assert_true(json_object_object_get_ex(p, "architectures", &v));
        assert_strings(v, (const char *const[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL});

        static const char *const yes[] = {"read",
                                          "write",
                                          "execve",
                                          "exit_group",
                                          "openat",
                                          "mmap",
                                          "rt_sigreturn",
                                          "wait4",
                                          "arch_prctl",
                                          "modify_ldt",
                                          "ptrace",
                                          "process_vm_readv",
                                          "name_to_handle_at",
                                          "setuid",
                                          "io_uring_setup",
                                          NULL};
        static const char *const no[] = {"mount",
                                         "umount2",
                                         "kexec_load",
                                         "kexec_file_load",
                                         "init_module",
                                         "finit_module",
                                         "delete_module",
                                         "unshare",
                                         "setns",
                                         "chroot",
                                         "reboot",
                                         "bpf",
                                         "perf_event_open",
                                         "open_by_handle_at",
                                         "syslog",
                                         "settimeofday",
                                         "clock_settime",
                                         "acct",
                                         "swapon",
                                         "pivot_root",
                                         "keyctl",
                                         "add_key",
                                         "userfaultfd",
                                         "kcmp",
                                         "iopl",
                                         "vhangup",
                                         "mbind",
                                         "sethostname",
                                         "fsopen",
                                         "open_tree",
                                         "arm_fadvise64_64",
                                         "s390_runtime_instr",
                                         "riscv_flush_icache",
                                         NULL};
        for (size_t i = 0; yes[i]; i++)
                if (!allowed(p, yes[i]))
                        fail_msg("%s should be allowed", yes[i]);
        for (size_t i = 0; no[i]; i++)
                if (rules_for(p, no[i], NULL) != 0)
                        fail_msg("%s should have no rule (the default action denies it)", no[i]);

        /* clone only without namespace flags; clone3 fails with ENOSYS so libc falls back. */
        r = only_rule(p, "clone");
        assert_string_equal(str(r, "action"), "SCMP_ACT_ALLOW");
        assert_true(json_object_object_get_ex(r, "args", &args));
        assert_int_equal(json_object_array_length(args), 1);
        arg = json_object_array_get_idx(args, 0);
        assert_string_equal(str(arg, "op"), "SCMP_CMP_MASKED_EQ");
        assert_true(json_object_object_get_ex(arg, "index", &v));
        assert_int_equal(json_object_get_int(v), 0);
        assert_true(json_object_object_get_ex(arg, "value", &v));
        assert_int_equal(json_object_get_int64(v), CLONE_NAMESPACE_MASK);
        r = only_rule(p, "clone3");
        assert_string_equal(str(r, "action"), "SCMP_ACT_ERRNO");
        assert_true(json_object_object_get_ex(r, "errnoRet", &v));
        assert_int_equal(json_object_get_int(v), ENOSYS);

        /* socket: not AF_VSOCK. personality: five values. */
        r = only_rule(p, "socket");
        assert_true(json_object_object_get_ex(r, "args", &args));
        arg = json_object_array_get_idx(args, 0);
        assert_string_equal(str(arg, "op"), "SCMP_CMP_NE");
        assert_true(json_object_object_get_ex(arg, "value", &v));
        assert_int_equal(json_object_get_int64(v), 40);
        size_t unconditional;
        assert_int_equal(rules_for(p, "personality", &unconditional), 5);
        assert_int_equal(unconditional, 0);
        json_object_put(p);
}

static void test_default_with_sys_admin(void **state)
{
        char *caps[] = {"CAP_KILL", "CAP_SYS_ADMIN", NULL};
        struct json_object *p = build(caps, &amd64);

        /* The namespace rules are gone: clone and clone3 are allowed as they are. */
        assert_int_equal(rules_for(p, "clone", NULL), 1);
        assert_true(allowed(p, "clone"));
        assert_int_equal(rules_for(p, "clone3", NULL), 1);
        assert_true(allowed(p, "clone3"));
        static const char *const yes[] = {"mount", "umount2",         "unshare", "setns",    "sethostname",
                                          "bpf",   "perf_event_open", "fsopen",  "quotactl", "syslog",
                                          NULL};
        for (size_t i = 0; yes[i]; i++)
                if (!allowed(p, yes[i]))
                        fail_msg("%s should be allowed with CAP_SYS_ADMIN", yes[i]);
        assert_false(allowed(p, "init_module"));
        assert_false(allowed(p, "reboot"));
        json_object_put(p);
}

static void test_default_capability_rules(void **state)
{
        const struct {
                const char *cap;
                const char *const *names;
        } cases[] = {
                {"CAP_SYS_PTRACE", (const char *const[]){"kcmp", "pidfd_getfd", "process_madvise", NULL}},
                {"CAP_SYS_MODULE",
                 (const char *const[]){"init_module", "finit_module", "delete_module", NULL}},
                {"CAP_SYS_BOOT", (const char *const[]){"reboot", NULL}},
                {"CAP_SYS_CHROOT", (const char *const[]){"chroot", NULL}},
                {"CAP_SYS_TIME",
                 (const char *const[]){"settimeofday", "clock_settime", "clock_settime64", NULL}},
                {"CAP_SYS_RAWIO", (const char *const[]){"iopl", "ioperm", NULL}},
                {"CAP_SYS_PACCT", (const char *const[]){"acct", NULL}},
                {"CAP_SYS_NICE", (const char *const[]){"mbind", "set_mempolicy", "get_mempolicy", NULL}},
                {"CAP_SYS_TTY_CONFIG", (const char *const[]){"vhangup", NULL}},
                {"CAP_SYSLOG", (const char *const[]){"syslog", NULL}},
                {"CAP_BPF", (const char *const[]){"bpf", NULL}},
                {"CAP_PERFMON", (const char *const[]){"perf_event_open", NULL}},
                {"CAP_DAC_READ_SEARCH", (const char *const[]){"open_by_handle_at", NULL}},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *caps[] = {(char *)cases[i].cap, NULL};
                struct json_object *with = build(caps, &amd64), *without = build(NULL, &amd64);
                for (size_t j = 0; cases[i].names[j]; j++) {
                        if (!allowed(with, cases[i].names[j]))
                                fail_msg("%s: %s should be allowed", cases[i].cap, cases[i].names[j]);
                        if (allowed(without, cases[i].names[j]))
                                fail_msg("%s should not be allowed without %s", cases[i].names[j],
                                         cases[i].cap);
                }
                /* Nothing else changes: CAP_SYS_ADMIN's rules stay out. */
                assert_false(allowed(with, "mount"));
                json_object_put(with);
                json_object_put(without);
        }

        /* Docker's default capabilities add only chroot to what berth's get. */
        struct json_object *d = build(docker_caps, &amd64), *b = build(berth_caps, &amd64), *v;
        assert_true(allowed(d, "chroot"));
        assert_false(allowed(b, "chroot"));
        assert_true(json_object_object_get_ex(d, "syscalls", &v));
        size_t nd = json_object_array_length(v);
        assert_true(json_object_object_get_ex(b, "syscalls", &v));
        assert_int_equal(nd, json_object_array_length(v) + 1);
        json_object_put(d);
        json_object_put(b);
}

static void test_default_arch_and_kernel(void **state)
{
        struct json_object *p, *v;

        p = build(berth_caps, &arm64);
        assert_true(json_object_object_get_ex(p, "architectures", &v));
        assert_strings(v, (const char *const[]){"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL});
        assert_true(allowed(p, "arm_fadvise64_64"));
        assert_true(allowed(p, "set_tls"));
        assert_false(allowed(p, "arch_prctl"));
        assert_false(allowed(p, "modify_ldt"));
        assert_int_equal(rules_for(p, "clone", NULL), 1);
        json_object_put(p);

        /* An architecture berth does not know: the native one only, no arch-specific rules. */
        p = build(berth_caps, &unknown_arch);
        assert_false(json_object_object_get_ex(p, "architectures", NULL));
        assert_false(allowed(p, "arch_prctl"));
        assert_true(allowed(p, "read"));
        json_object_put(p);

        /* Before 4.8 ptrace could get around seccomp: Docker allows it only from 4.8 on. */
        p = build(berth_caps, &amd64_old);
        assert_false(allowed(p, "ptrace"));
        assert_false(allowed(p, "process_vm_writev"));
        json_object_put(p);
}

/* The runtime's own parser and compiler accept the result; unknown names are skipped, not errors. */
static void test_default_compiles(void **state)
{
        char *all[] = {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE",      "CAP_SYS_BOOT",
                       "CAP_SYS_TIME",  "CAP_SYSLOG",     "CAP_SYS_CHROOT",      "CAP_SYS_RAWIO",
                       "CAP_SYS_PACCT", "CAP_SYS_NICE",   "CAP_SYS_RESOURCE",    "CAP_SYS_TTY_CONFIG",
                       "CAP_BPF",       "CAP_PERFMON",    "CAP_DAC_READ_SEARCH", NULL};
        char **sets[] = {NULL, berth_caps, docker_caps, all};

        for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
                struct json_object *p = build(sets[i], NULL);
                SeccompPlan *plan = NULL;
                BerthError err = {0};
                int r = seccomp_config_parse(p, "linux.seccomp", &plan, &err);
                if (r < 0)
                        fail_msg("the default profile does not compile: %s", err.msg);
                assert_non_null(plan);
                assert_true(plan->n_program > 0);
                seccomp_plan_free(plan);
                json_object_put(p);
        }

        /* A name no libseccomp knows does not stop the rest. */
        struct json_object *p = NULL;
        SeccompPlan *plan = NULL;
        BerthError err = {0};
        assert_int_equal(
                image_seccomp_profile_resolve(
                        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
                        "[\"no_such_syscall_in_any_kernel\", \"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
                        "t", NULL, &amd64, &p, &err),
                0);
        assert_int_equal(seccomp_config_parse(p, "linux.seccomp", &plan, &err), 0);
        assert_true(strv_contains(plan->skipped_syscalls, "no_such_syscall_in_any_kernel"));
        seccomp_plan_free(plan);
        json_object_put(p);
}

static void test_docker_format(void **state)
{
        static const char docker[] =
                "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
                " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": "
                "[\"SCMP_ARCH_X86\"]},"
                "               {\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": null}],"
                " \"syscalls\": ["
                "  {\"name\": \"read\", \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"old form\"},"
                "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": "
                "[\"CAP_SYS_ADMIN\"]}},"
                "  {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"caps\": "
                "[\"CAP_KILL\"]}},"
                "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": "
                "\"5.10\"}},"
                "  {\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": "
                "[\"amd64\"]}},"
                "  {\"names\": [\"write\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5,"
                "   \"args\": [{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]}]}";
        struct json_object *p = NULL, *v, *r;
        BerthError err = {0};

        assert_int_equal(image_seccomp_profile_resolve(docker, "d.json", berth_caps, &amd64, &p, &err), 0);
        assert_false(json_object_object_get_ex(p, "archMap", NULL));
        assert_true(json_object_object_get_ex(p, "architectures", &v));
        assert_strings(v, (const char *const[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", NULL});
        assert_true(allowed(p, "read"));
        assert_false(json_object_object_get_ex(only_rule(p, "read"), "name", NULL));
        assert_int_equal(rules_for(p, "mount", NULL), 0);
        assert_int_equal(rules_for(p, "kill", NULL), 0); /* CAP_KILL is in the bounding set */
        assert_true(allowed(p, "ptrace"));
        assert_true(allowed(p, "arch_prctl"));
        r = only_rule(p, "write");
        assert_true(json_object_object_get_ex(r, "errnoRet", &v));
        assert_int_equal(json_object_get_int(v), 5);
        assert_true(json_object_object_get_ex(r, "args", &v));
        json_object_put(p);

        p = NULL;
        assert_int_equal(image_seccomp_profile_resolve(docker, "d.json", NULL, &amd64_old, &p, &err), 0);
        assert_false(allowed(p, "ptrace"));
        assert_true(allowed(p, "kill"));
        json_object_put(p);

        /* arm64: its archMap entry, without sub-architectures. */
        p = NULL;
        assert_int_equal(image_seccomp_profile_resolve(docker, "d.json", NULL, &arm64, &p, &err), 0);
        assert_true(json_object_object_get_ex(p, "architectures", &v));
        assert_strings(v, (const char *const[]){"SCMP_ARCH_AARCH64", NULL});
        assert_false(allowed(p, "arch_prctl"));
        json_object_put(p);

        /* JSON null in a copied key stays null (berth-runtime reads it as absent). */
        p = NULL;
        assert_int_equal(
                image_seccomp_profile_resolve(
                        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": null, \"flags\": null}",
                        "n.json", NULL, &amd64, &p, &err),
                0);
        assert_true(json_object_object_get_ex(p, "architectures", &v));
        assert_null(v);
        json_object_put(p);

        /* The OCI format goes through as it is. */
        static const char oci[] =
                "{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"architectures\": [\"SCMP_ARCH_X86\"],"
                " \"flags\": [], \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";
        struct json_object *want = json_tokener_parse(oci);
        p = NULL;
        assert_int_equal(image_seccomp_profile_resolve(oci, "o.json", NULL, &amd64, &p, &err), 0);
        assert_true(json_object_equal(p, want));
        json_object_put(p);
        json_object_put(want);
}

static void test_bad_profiles(void **state)
{
        static const struct {
                const char *text;
                const char *message;
        } cases[] = {
                {"[]", "must be a JSON object"},
                {"{\"syscalls\": []}", "no defaultAction"},
                {"{\"defaultAction\": null}", "no defaultAction"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAktion\": 1}",
                 "unknown key \"defaultAktion\""},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [], \"archMap\": []}",
                 "both \"architectures\" and \"archMap\""},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"archMap\": [{\"subArchitectures\": []}]}",
                 "archMap[0]: must be an object with an \"architecture\" string"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}", "syscalls: must be an array"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
                 "\"exludes\": {}}]}",
                 "syscalls[0]: unknown key \"exludes\""},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"name\": \"a\", \"names\": "
                 "[\"b\"]}]}",
                 "syscalls[0]: use either \"name\" or \"names\""},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"includes\": "
                 "{\"capabilities\": []}}]}",
                 "syscalls[0].includes: unknown key \"capabilities\""},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"includes\": "
                 "{\"caps\": \"CAP_KILL\"}}]}",
                 "syscalls[0].includes.caps: must be an array of strings"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"excludes\": "
                 "{\"minKernel\": \"four\"}}]}",
                 "syscalls[0].excludes.minKernel: must be a kernel version"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct json_object *p = NULL;
                BerthError err = {0};
                int r = image_seccomp_profile_resolve(cases[i].text, "/x/p.json", NULL, &amd64, &p, &err);
                if (r != -EINVAL || !strstr(err.msg, cases[i].message) || !strstr(err.msg, "\"/x/p.json\""))
                        fail_msg("%s: got %d \"%s\", want \"%s\"", cases[i].text, r, err.msg,
                                 cases[i].message);
                assert_null(p);
        }
}

static void test_profile_file(void **state)
{
        static const struct {
                const char *content; /* NULL: no file */
                const char *message;
        } cases[] = {
                {NULL, "No such file or directory"},
                {"{\"defaultAction\": ", "not valid JSON"},
                {"not json at all", "not valid JSON"},
                {"{} trailing", "not valid JSON"},
                {"[1, 2]", "must be a JSON object"},
                {"\"SCMP_ACT_ALLOW\"", "must be a JSON object"},
                {"null", "must be a JSON object"},
                {"", "not valid JSON: unexpected end of file"},
                {"{\"defaultAction\": ", "not valid JSON: unexpected end of file"},
                {"{\"a\" 1}", "not valid JSON at offset 5"},
        };
        char dir[] = "/tmp/berth-seccomp-test-XXXXXX", path[128];
        char *text = NULL;
        BerthError err = {0};

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/profile.json", dir);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                unlink(path);
                if (cases[i].content) {
                        FILE *f = fopen(path, "we");
                        assert_non_null(f);
                        fputs(cases[i].content, f);
                        assert_int_equal(fclose(f), 0);
                }
                err = (BerthError){0};
                int r = image_seccomp_profile_read(path, &text, &err);
                if (r >= 0 || !strstr(err.msg, path) || !strstr(err.msg, cases[i].message))
                        fail_msg("%s: got %d \"%s\", want \"%s\"", cases[i].content ?: "(none)", r, err.msg,
                                 cases[i].message);
                assert_null(text);
        }
        /* A directory is not a profile either. */
        err = (BerthError){0};
        assert_true(image_seccomp_profile_read(dir, &text, &err) < 0);
        assert_non_null(strstr(err.msg, dir));

        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(" {\"defaultAction\": \"SCMP_ACT_ALLOW\"}\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(image_seccomp_profile_read(path, &text, &err), 0);
        assert_non_null(strstr(text, "SCMP_ACT_ALLOW"));
        free(text);
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_without_caps),
                cmocka_unit_test(test_default_with_sys_admin),
                cmocka_unit_test(test_default_capability_rules),
                cmocka_unit_test(test_default_arch_and_kernel),
                cmocka_unit_test(test_default_compiles),
                cmocka_unit_test(test_docker_format),
                cmocka_unit_test(test_bad_profiles),
                cmocka_unit_test(test_profile_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
