/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <unistd.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/seccomp.h>

#include "basic/error.h"
#include "basic/strv.h"
#include "oci/json-walk.h"
#include "basic/fileio.h"
#include "runtime/seccomp-cache.h"
#include "runtime/seccomp.h"

#define FIELD "linux.seccomp"

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

static SeccompPlan *parse_ok(const char *sq)
{
        _cleanup_json_ struct json_object *j = json_from_sq(sq);
        SeccompPlan *p = NULL;
        BerthError err = {0};
        int r;

        r = seccomp_config_parse(j, FIELD, &p, &err);
        if (r < 0)
                fail_msg("unexpected error %d for %s: %s", r, sq, err.msg);
        return p;
}

static void assert_error_code(const char *sq, int code, const char *message)
{
        _cleanup_json_ struct json_object *j = json_from_sq(sq);
        SeccompPlan *p = NULL;
        BerthError err = {0};
        int r;

        r = seccomp_config_parse(j, FIELD, &p, &err);
        if (r >= 0) {
                seccomp_plan_free(p);
                fail_msg("parsed %s, but expected \"%s\"", sq, message);
        }
        assert_null(p);
        assert_int_equal(r, code);
        assert_int_equal(err.code, r);
        assert_string_equal(err.msg, message);
}

static void assert_error(const char *sq, const char *message)
{
        assert_error_code(sq, -EINVAL, message);
}

/* ---- what is parsed ---- */

static void test_absent_means_no_filter(void **state)
{
        SeccompPlan *p = (SeccompPlan *)1;
        BerthError err = {0};

        assert_int_equal(seccomp_config_parse(NULL, FIELD, &p, &err), 0);
        assert_null(p);
        /* runc: neither a default action nor rules is no seccomp at all. */
        assert_null(parse_ok("{}"));
        assert_null(parse_ok("{'syscalls': []}"));
        assert_null(parse_ok("{'architectures': ['SCMP_ARCH_X86'], 'flags': []}"));
}

static void test_default_actions(void **state)
{
        static const struct {
                const char *json;
                uint32_t action;
        } cases[] = {
                {"{'defaultAction': 'SCMP_ACT_ALLOW'}", SCMP_ACT_ALLOW},
                {"{'defaultAction': 'SCMP_ACT_KILL'}", SCMP_ACT_KILL_THREAD}, /* runc's reading */
                {"{'defaultAction': 'SCMP_ACT_KILL_THREAD'}", SCMP_ACT_KILL_THREAD},
                {"{'defaultAction': 'SCMP_ACT_KILL_PROCESS'}", SCMP_ACT_KILL_PROCESS},
                {"{'defaultAction': 'SCMP_ACT_TRAP'}", SCMP_ACT_TRAP},
                {"{'defaultAction': 'SCMP_ACT_LOG'}", SCMP_ACT_LOG},
                {"{'defaultAction': 'SCMP_ACT_ERRNO'}", SCMP_ACT_ERRNO(EPERM)},
                {"{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38}", SCMP_ACT_ERRNO(ENOSYS)},
                {"{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 0}", SCMP_ACT_ERRNO(0)},
                {"{'defaultAction': 'SCMP_ACT_TRACE'}", SCMP_ACT_TRACE(EPERM)},
                {"{'defaultAction': 'SCMP_ACT_TRACE', 'defaultErrnoRet': 65535}", SCMP_ACT_TRACE(65535)},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(seccomp_plan_freep) SeccompPlan *p = parse_ok(cases[i].json);
                assert_non_null(p);
                if (p->default_action != cases[i].action)
                        fail_msg("%s: default action 0x%x, expected 0x%x", cases[i].json, p->default_action,
                                 cases[i].action);
                assert_non_null(p->program);
                assert_true(p->n_program > 0);
                assert_false(p->notify);
        }
}

static const char full[] = "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
                           " 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],"
                           " 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG'],"
                           " 'listenerPath': '/run/agent.sock', 'listenerMetadata': 'meta',"
                           " 'syscalls': ["
                           "   {'names': ['read', 'write', 'exit_group'], 'action': 'SCMP_ACT_ALLOW'},"
                           "   {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
                           "    'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
                           "             {'index': 1, 'value': 2114060288, 'valueTwo': 0, 'op': "
                           "'SCMP_CMP_MASKED_EQ'}]},"
                           "   {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18},"
                           "   {'names': ['ptrace'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 7},"
                           "   {'names': ['chmod'], 'action': 'SCMP_ACT_ERRNO'}]}";

static void test_full_profile(void **state)
{
        _cleanup_(seccomp_plan_freep) SeccompPlan *p = parse_ok(full);

        assert_non_null(p);
        assert_int_equal(p->default_action, SCMP_ACT_ERRNO(1));
        assert_int_equal(p->n_arches, 3);
        assert_int_equal(p->arches[0], SCMP_ARCH_X86_64);
        assert_int_equal(p->arches[1], SCMP_ARCH_X86);
        assert_int_equal(p->arches[2], SCMP_ARCH_AARCH64);
        /* TSYNC is accepted and ignored (single-threaded), LOG goes to seccomp(2). */
        assert_int_equal(p->filter_flags, SECCOMP_FILTER_FLAG_LOG);
        /* Kept, but without a notify rule nothing is ever sent there. */
        assert_string_equal(p->listener_path, "/run/agent.sock");
        assert_string_equal(p->listener_metadata, "meta");
        assert_false(p->notify);

        assert_int_equal(p->n_rules, 5);
        assert_int_equal(strv_length(p->rules[0].names), 3);
        assert_string_equal(p->rules[0].names[2], "exit_group");
        assert_int_equal(p->rules[0].action, SCMP_ACT_ALLOW);
        assert_int_equal(p->rules[0].n_args, 0);
        assert_int_equal(p->rules[1].n_args, 2);
        assert_int_equal(p->rules[1].args[0].index, 0);
        assert_int_equal(p->rules[1].args[0].op, SCMP_CMP_EQ);
        assert_int_equal(p->rules[1].args[1].index, 1);
        assert_int_equal(p->rules[1].args[1].op, SCMP_CMP_MASKED_EQ);
        assert_int_equal(p->rules[1].args[1].value, 2114060288);
        assert_int_equal(p->rules[1].args[1].value_two, 0);
        assert_int_equal(p->rules[2].action, SCMP_ACT_ERRNO(18));
        assert_int_equal(p->rules[3].action, SCMP_ACT_TRACE(7));
        assert_int_equal(p->rules[4].action, SCMP_ACT_ERRNO(EPERM)); /* the default errno is EPERM */
        assert_null(p->skipped_syscalls);
        assert_non_null(p->program);
        assert_true(p->n_program > 3 * 5); /* three architectures, several rules each */
}

static void test_flags(void **state)
{
        _cleanup_(seccomp_plan_freep) SeccompPlan *empty =
                parse_ok("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': []}");
        _cleanup_(seccomp_plan_freep) SeccompPlan *absent = parse_ok("{'defaultAction': 'SCMP_ACT_ALLOW'}");
        _cleanup_(seccomp_plan_freep) SeccompPlan *log =
                parse_ok("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_LOG']}");

        /* An explicit empty list means none; no list at all means runc's default, SPEC_ALLOW, where
         * the kernel has it. */
        assert_int_equal(empty->filter_flags, 0);
        assert_int_equal(absent->filter_flags & ~(unsigned)SECCOMP_FILTER_FLAG_SPEC_ALLOW, 0);
        assert_int_equal(log->filter_flags, SECCOMP_FILTER_FLAG_LOG);

        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_FOO']}",
                     "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': 'SECCOMP_FILTER_FLAG_LOG'}",
                     "linux.seccomp.flags: must be an array");
}

static void test_unknown_syscalls_are_skipped(void **state)
{
        _cleanup_(seccomp_plan_freep) SeccompPlan *p = parse_ok(
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                " {'names': ['getppid', 'berth_no_such_syscall', 'arm_fadvise64_64'], 'action': "
                "'SCMP_ACT_ERRNO'},"
                " {'names': ['berth_no_such_syscall', 'another_unknown_one'], 'action': 'SCMP_ACT_KILL'}]}");

        /* Known to libseccomp for another architecture only is not unknown: it compiles to nothing here. */
        assert_non_null(p);
        assert_int_equal(strv_length(p->skipped_syscalls), 2);
        assert_string_equal(p->skipped_syscalls[0], "berth_no_such_syscall");
        assert_string_equal(p->skipped_syscalls[1], "another_unknown_one");
        assert_int_equal(p->n_rules, 2);
        assert_non_null(p->program);
}

static void test_notify_and_stages(void **state)
{
        _cleanup_(seccomp_plan_freep) SeccompPlan *n = parse_ok(
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock', 'flags': [],"
                " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}");
        _cleanup_(seccomp_plan_freep) SeccompPlan *plain = parse_ok("{'defaultAction': 'SCMP_ACT_ALLOW'}");
        /* A notify rule whose only name is unknown notifies nothing: no listener needed. */
        _cleanup_(seccomp_plan_freep) SeccompPlan *unknown = parse_ok(
                "{'defaultAction': 'SCMP_ACT_ALLOW',"
                " 'syscalls': [{'names': ['berth_no_such_syscall'], 'action': 'SCMP_ACT_NOTIFY'}]}");

        assert_true(n->notify);
        assert_false(unknown->notify);
        assert_int_equal(n->filter_flags, 0);

        assert_int_equal(seccomp_plan_stage(NULL, true, false), SECCOMP_STAGE_NONE);
        assert_int_equal(seccomp_plan_stage(plain, true, false), SECCOMP_STAGE_BEFORE_EXEC);
        assert_int_equal(seccomp_plan_stage(plain, false, false), SECCOMP_STAGE_BEFORE_USER);
        assert_int_equal(seccomp_plan_stage(plain, true, true), SECCOMP_STAGE_BEFORE_EXEC);
        assert_int_equal(seccomp_plan_stage(plain, false, true), SECCOMP_STAGE_BEFORE_USER);
        /* The container's init must hand its listener fd over before READY ... */
        assert_int_equal(seccomp_plan_stage(n, true, false), SECCOMP_STAGE_BEFORE_READY);
        assert_int_equal(seccomp_plan_stage(n, false, false), SECCOMP_STAGE_BEFORE_READY);
        /* ... while exec keeps its sync socket until execve(). */
        assert_int_equal(seccomp_plan_stage(n, true, true), SECCOMP_STAGE_BEFORE_EXEC);
        assert_int_equal(seccomp_plan_stage(n, false, true), SECCOMP_STAGE_BEFORE_USER);
}

static void test_wait_killable_only_with_a_listener(void **state)
{
        static const char *const json[] = {
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock',"
                " 'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],"
                " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}",
        };

        for (size_t i = 0; i < ELEMENTSOF(json); i++) {
                _cleanup_json_ struct json_object *j = json_from_sq(json[i]);
                _cleanup_(seccomp_plan_freep) SeccompPlan *p = NULL;
                BerthError err = {0};
                int r = seccomp_config_parse(j, FIELD, &p, &err);
                if (r == -EOPNOTSUPP) {
                        /* Linux < 5.19 */
                        assert_string_equal(err.msg,
                                            "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV "
                                            "is not supported by this kernel");
                        continue;
                }
                assert_int_equal(r, 0);
                /* The kernel refuses the flag without a listener: only kept with one. */
                assert_int_equal(p->filter_flags, i == 0 ? SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0);
        }
}

/* ---- what is refused ---- */

static void test_actions_refused(void **state)
{
        assert_error("'SCMP_ACT_ALLOW'", "linux.seccomp: must be an object");
        assert_error("{'defaultAction': 'SCMP_ACT_FOO'}",
                     "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"");
        assert_error("{'defaultAction': 1}", "linux.seccomp.defaultAction: must be a string");
        assert_error("{'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW'}]}",
                     "linux.seccomp.defaultAction: is required");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                     " {'names': ['read'], 'action': 'SCMP_ACT_ERRNO'},"
                     " {'names': ['write'], 'action': 'SCMP_ACT_ERRNO'},"
                     " {'names': ['open'], 'action': 'SCMP_ACT_ERRNO'},"
                     " {'names': ['close'], 'action': 'SCMP_ACT_FOO'}]}",
                     "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read']}]}",
                     "linux.seccomp.syscalls[0].action: is required");
        assert_error("{'defaultAction': 'scmp_act_allow'}",
                     "linux.seccomp.defaultAction: unknown action \"scmp_act_allow\"");
}

static void test_errno_refused(void **state)
{
        /* The spec: an errno for an action that takes none is an error. */
        assert_error("{'defaultAction': 'SCMP_ACT_KILL', 'defaultErrnoRet': 1}",
                     "linux.seccomp.defaultErrnoRet: SCMP_ACT_KILL takes no errno (only SCMP_ACT_ERRNO and "
                     "SCMP_ACT_TRACE do)");
        assert_error(
                "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
                " {'names': ['read'], 'action': 'SCMP_ACT_ALLOW', 'errnoRet': 1}]}",
                "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW takes no errno (only SCMP_ACT_ERRNO "
                "and SCMP_ACT_TRACE do)");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                     " {'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 4096}]}",
                     "linux.seccomp.syscalls[0].errnoRet: must be between 0 and 4095");
        assert_error("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': -1}",
                     "linux.seccomp.defaultErrnoRet: must be between 0 and 4095");
        assert_error("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': '1'}",
                     "linux.seccomp.defaultErrnoRet: must be an integer");
        assert_error("{'defaultAction': 'SCMP_ACT_TRACE', 'defaultErrnoRet': 65536}",
                     "linux.seccomp.defaultErrnoRet: must be between 0 and 65535");
}

static void test_names_refused(void **state)
{
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': {}}",
                     "linux.seccomp.syscalls: must be an array");
        assert_error("{'syscalls': 'read'}", "linux.seccomp.syscalls: must be an array");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ['read']}",
                     "linux.seccomp.syscalls[0]: must be an object");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'action': 'SCMP_ACT_ERRNO'}]}",
                     "linux.seccomp.syscalls[0].names: is required");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [], 'action': "
                     "'SCMP_ACT_ERRNO'}]}",
                     "linux.seccomp.syscalls[0].names: must contain at least one name");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                     " {'names': ['read', ''], 'action': 'SCMP_ACT_ERRNO'}]}",
                     "linux.seccomp.syscalls[0].names[1]: must not be empty");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [0], 'action': "
                     "'SCMP_ACT_ERRNO'}]}",
                     "linux.seccomp.syscalls[0].names[0]: must be a string");
}

static void test_args_refused(void **state)
{
#define RULE_WITH_ARGS(args)                                                                                \
        "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['personality'], 'action': "            \
        "'SCMP_ACT_ERRNO', 'args': " args "}]}"

        assert_error(RULE_WITH_ARGS("[{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'},"
                                    " {'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]"),
                     "linux.seccomp.syscalls[0].args[1].index: must be between 0 and 5");
        assert_error(RULE_WITH_ARGS("[{'index': -1, 'value': 1, 'op': 'SCMP_CMP_EQ'}]"),
                     "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5");
        assert_error(RULE_WITH_ARGS("[{'value': 1, 'op': 'SCMP_CMP_EQ'}]"),
                     "linux.seccomp.syscalls[0].args[0].index: is required");
        assert_error(RULE_WITH_ARGS("[{'index': 0, 'op': 'SCMP_CMP_EQ'}]"),
                     "linux.seccomp.syscalls[0].args[0].value: is required");
        assert_error(RULE_WITH_ARGS("[{'index': 0, 'value': -1, 'op': 'SCMP_CMP_EQ'}]"),
                     "linux.seccomp.syscalls[0].args[0].value: must be between 0 and 18446744073709551615");
        assert_error(RULE_WITH_ARGS("[{'index': 0, 'value': 1}]"),
                     "linux.seccomp.syscalls[0].args[0].op: is required");
        assert_error(RULE_WITH_ARGS("[{'index': 0, 'value': 1, 'op': 'SCMP_CMP_FOO'}]"),
                     "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
        assert_error(RULE_WITH_ARGS("[{'index': 0, 'value': 1, 'valueTwo': 'x', 'op': 'SCMP_CMP_EQ'}]"),
                     "linux.seccomp.syscalls[0].args[0].valueTwo: must be an integer");
        assert_error(RULE_WITH_ARGS("[7]"), "linux.seccomp.syscalls[0].args[0]: must be an object");
        assert_error(RULE_WITH_ARGS("{}"), "linux.seccomp.syscalls[0].args: must be an array");
#undef RULE_WITH_ARGS

        /* The largest value there is. */
        _cleanup_(seccomp_plan_freep) SeccompPlan *p = parse_ok(
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['personality'], 'action': "
                "'SCMP_ACT_ERRNO', 'args': [{'index': 5, 'value': 18446744073709551615, 'op': "
                "'SCMP_CMP_NE'}]}]}");
        assert_true(p->rules[0].args[0].value == UINT64_MAX);
}

static void test_arches_refused(void **state)
{
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64', "
                     "'SCMP_ARCH_FOO']}",
                     "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['x86_64']}",
                     "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': 'SCMP_ARCH_X86'}",
                     "linux.seccomp.architectures: must be an array");
}

static void test_listener_refused(void **state)
{
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerMetadata': 'x'}",
                     "linux.seccomp.listenerMetadata: must not be set without listenerPath");
        assert_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': 'agent.sock'}",
                     "linux.seccomp.listenerPath: must be an absolute path, got \"agent.sock\"");
        assert_error_code(
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
                -ENAMETOOLONG, "linux.seccomp.listenerPath: longer than a unix socket path can be (107)");
        assert_error("{'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/run/agent.sock'}",
                     "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
        assert_error(
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
                "'SCMP_ACT_NOTIFY'}]}",
                "linux.seccomp.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY (the listener fd "
                "has to go somewhere)");
        assert_error(
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock', 'syscalls': ["
                " {'names': ['mkdir', 'sendmsg'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for \"sendmsg\": the "
                "container's process needs it to hand the listener fd to the runtime");
}

static void test_field_prefix(void **state)
{
        _cleanup_json_ struct json_object *j = json_from_sq("{'defaultAction': 'SCMP_ACT_NOPE'}");
        SeccompPlan *p = NULL;
        BerthError err = {0};

        assert_int_equal(seccomp_config_parse(j, "x", &p, &err), -EINVAL);
        assert_string_equal(err.msg, "x.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
}

/* ---- the compiled filter, installed in a child (no_new_privs: no privileges needed) ---- */

/* Runs @check in a child that installs @sq's filter first; returns the child's wait status. */
static int run_filtered(const char *sq, int (*check)(void))
{
        _cleanup_(seccomp_plan_freep) SeccompPlan *p = parse_ok(sq);
        int status;

        assert_non_null(p);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BerthError err = {0};
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_plan_load(p, -EBADF, &err) < 0)
                        _exit(100);
                _exit(check());
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

/* Each check returns 0 when all is as expected, else the number of the first surprise. */
static int check_errno_rules(void)
{
        if (syscall(SYS_getppid) != -1 || errno != EXDEV)
                return 1; /* per-rule errnoRet */
        if (syscall(SYS_getuid) != -1 || errno != EPERM)
                return 2; /* SCMP_ACT_ERRNO without errnoRet: EPERM */
        if (syscall(SYS_getpid) < 0)
                return 3; /* the default action */
        return 0;
}

static void test_load_errno_rules(void **state)
{
        int status =
                run_filtered("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': [], 'syscalls': ["
                             " {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18},"
                             " {'names': ['getuid', 'berth_no_such_syscall'], 'action': 'SCMP_ACT_ERRNO'}]}",
                             check_errno_rules);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static int check_arg_rules(void)
{
        if (syscall(SYS_personality, 0xffffffffUL) < 0)
                return 1; /* only querying */
        if (syscall(SYS_personality, 8UL) != -1 || errno != EXDEV)
                return 2; /* args[0] == 8 */
        if (syscall(SYS_personality, 9UL) != -1 || errno != EXDEV)
                return 3; /* two conditions on one argument: either matches (runc) */
        if (syscall(SYS_umask, 0777) != -1 || errno != EACCES)
                return 4; /* (mode & 0700) == 0700 */
        if (syscall(SYS_umask, 0022) < 0)
                return 5;
        return 0;
}

static void test_load_arg_rules(void **state)
{
        int status = run_filtered(
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                " {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18,"
                "  'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'}, {'index': 0, 'value': 9, 'op': "
                "'SCMP_CMP_EQ'}]},"
                " {'names': ['umask'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13,"
                "  'args': [{'index': 0, 'value': 448, 'valueTwo': 448, 'op': 'SCMP_CMP_MASKED_EQ'}]}]}",
                check_arg_rules);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static int check_killed(void)
{
        syscall(SYS_getppid);
        return 0;
}

static void test_load_kill(void **state)
{
        int status = run_filtered("{'defaultAction': 'SCMP_ACT_ALLOW',"
                                  " 'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_KILL'}]}",
                                  check_killed);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* ---- features ---- */

static void test_features(void **state)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        _cleanup_json_ struct json_object *j = NULL;
        struct json_object *v = NULL;
        BerthError err = {0};

        seccomp_features_write(&b);
        assert_false(strbuf_failed(&b));
        if (oci_json_parse(b.ptr, b.len, &j, &err) < 0)
                fail_msg("features not JSON: %s: %s", err.msg, b.ptr);
        assert_true(json_object_object_get_ex(j, "enabled", &v));
        assert_true(json_object_get_boolean(v));
        assert_true(json_object_object_get_ex(j, "actions", &v));
        assert_int_equal(json_object_array_length(v), 9);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "SCMP_ACT_ALLOW");
        assert_true(json_object_object_get_ex(j, "operators", &v));
        assert_int_equal(json_object_array_length(v), 7);
        assert_true(json_object_object_get_ex(j, "archs", &v));
        assert_true(json_object_array_length(v) > 0);
        assert_true(json_object_object_get_ex(j, "knownFlags", &v));
        assert_int_equal(json_object_array_length(v), 4);
        assert_true(json_object_object_get_ex(j, "supportedFlags", &v));
        assert_true(json_object_array_length(v) >= 1); /* TSYNC is always there */
}

/* ---- the cache of compiled programs (seccomp-cache.h) ---- */

static SeccompPlan *parse_cached(int root_fd, const char *sq)
{
        _cleanup_json_ struct json_object *j = json_from_sq(sq);
        SeccompPlan *p = NULL;
        BerthError err = {0};

        if (seccomp_config_parse_cached(j, FIELD, root_fd, &p, &err) < 0)
                fail_msg("unexpected error for %s: %s", sq, err.msg);
        assert_non_null(p);
        return p;
}

static bool same_program(const SeccompPlan *a, const SeccompPlan *b)
{
        return a->n_program == b->n_program &&
               memcmp(a->program, b->program, a->n_program * sizeof(struct sock_filter)) == 0;
}

/* The one file in the cache (asserted), its name in @name. */
static void cache_only_file(int root_fd, char name[static 64])
{
        int fd = openat(root_fd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        size_t n = 0;

        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.') {
                        snprintf(name, 64, "%s", de->d_name);
                        n++;
                }
        closedir(d);
        assert_int_equal(n, 1);
}

static size_t cache_count(int root_fd)
{
        int fd = openat(root_fd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        size_t n = 0;

        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

/* Rewrites the cached file through @edit (the bytes, their length). */
static void cache_edit(int root_fd, void (*edit)(char *data, size_t *len))
{
        _cleanup_free_ char *data = NULL;
        char name[64], path[128];
        size_t len;

        cache_only_file(root_fd, name);
        snprintf(path, sizeof(path), "%s/%s", SECCOMP_CACHE_DIR, name);
        assert_int_equal(read_full_file_at(root_fd, path, 1 << 22, &data, &len), 0);
        edit(data, &len);
        int dfd = openat(root_fd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(write_file_atomic_at(dfd, name, data, len, 0600, 0), 0);
        close(dfd);
}

/* The last instruction (a return) now returns KILL: a program nobody would compile. */
static void edit_program(char *data, size_t *len)
{
        struct sock_filter f = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
        memcpy(data + *len - sizeof(f), &f, sizeof(f));
}

static void edit_key(char *data, size_t *len)
{
        data[0] ^= 0x20; /* "berth seccomp cache" -> "Berth ..." */
}

static void edit_truncate(char *data, size_t *len)
{
        *len = strlen(data) + 1 + 3; /* the key, and 3 bytes of a program */
}

static void test_cache(void **state)
{
        char root[] = "/tmp/berth-seccomp-cache-XXXXXX";
        assert_non_null(mkdtemp(root));
        int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);
        _cleanup_(seccomp_plan_freep) SeccompPlan *fresh = parse_ok(full);
        SeccompPlan *p;

        /* A miss compiles and keeps the program; the next parse reads it back. */
        p = parse_cached(root_fd, full);
        assert_true(same_program(p, fresh));
        seccomp_plan_free(p);
        assert_int_equal(cache_count(root_fd), 1);
        p = parse_cached(root_fd, full);
        assert_true(same_program(p, fresh));
        seccomp_plan_free(p);

        /* The cache is really read: a changed program under the right key is what comes back. */
        cache_edit(root_fd, edit_program);
        p = parse_cached(root_fd, full);
        assert_false(same_program(p, fresh));
        assert_int_equal(p->n_program, fresh->n_program);
        seccomp_plan_free(p);

        /* Another key in the file (a hash collision) or a short program: compiled again, and
         * the file rewritten with the right one. */
        cache_edit(root_fd, edit_key);
        p = parse_cached(root_fd, full);
        assert_true(same_program(p, fresh));
        seccomp_plan_free(p);
        cache_edit(root_fd, edit_truncate);
        p = parse_cached(root_fd, full);
        assert_true(same_program(p, fresh));
        seccomp_plan_free(p);
        cache_edit(root_fd, edit_program);

        /* A cache directory others may write to is not trusted, neither read nor written. */
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/%s", root, SECCOMP_CACHE_DIR);
        assert_int_equal(chmod(dir, 0777), 0);
        p = parse_cached(root_fd, full);
        assert_true(same_program(p, fresh));
        seccomp_plan_free(p);
        assert_int_equal(chmod(dir, 0700), 0);

        /* What changes the program changes the key: one errno more is a second entry. */
        p = parse_cached(root_fd, "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                                  " {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18}]}");
        SeccompPlan *q = parse_cached(
                root_fd, "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                         " {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 19}]}");
        assert_false(same_program(p, q));
        seccomp_plan_free(p);
        seccomp_plan_free(q);
        assert_int_equal(cache_count(root_fd), 3);

        /* Bounded: past SECCOMP_CACHE_MAX_ENTRIES nothing more is kept (and parsing still works). */
        for (unsigned e = 0; e < SECCOMP_CACHE_MAX_ENTRIES + 5; e++) {
                char sq[256];
                snprintf(sq, sizeof(sq),
                         "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                         " {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %u}]}",
                         100 + e);
                seccomp_plan_free(parse_cached(root_fd, sq));
        }
        assert_int_equal(cache_count(root_fd), SECCOMP_CACHE_MAX_ENTRIES);

        close(root_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, root), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_absent_means_no_filter),
                cmocka_unit_test(test_default_actions),
                cmocka_unit_test(test_full_profile),
                cmocka_unit_test(test_flags),
                cmocka_unit_test(test_unknown_syscalls_are_skipped),
                cmocka_unit_test(test_notify_and_stages),
                cmocka_unit_test(test_wait_killable_only_with_a_listener),
                cmocka_unit_test(test_actions_refused),
                cmocka_unit_test(test_errno_refused),
                cmocka_unit_test(test_names_refused),
                cmocka_unit_test(test_args_refused),
                cmocka_unit_test(test_arches_refused),
                cmocka_unit_test(test_listener_refused),
                cmocka_unit_test(test_field_prefix),
                cmocka_unit_test(test_load_errno_rules),
                cmocka_unit_test(test_load_arg_rules),
                cmocka_unit_test(test_load_kill),
                cmocka_unit_test(test_features),
                cmocka_unit_test(test_cache),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
