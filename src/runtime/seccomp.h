/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * linux.seccomp from config.json: parsed, validated and compiled to a BPF program by the
 * runtime before anything exists (a plan), then installed by the container's process with one
 * seccomp(2) call. See docs/seccomp.md for when the filter is loaded and why.
 *
 * This header deliberately does not include libseccomp's <seccomp.h>: actions and operators
 * are kept as the numbers libseccomp gives them (SCMP_ACT_*, SCMP_CMP_*).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/strbuf.h"

struct json_object;
struct sock_filter;

typedef struct SeccompArg {
        unsigned index;     /* 0..5 */
        int op;             /* enum scmp_compare */
        uint64_t value;     /* SCMP_CMP_MASKED_EQ: the mask */
        uint64_t value_two; /* SCMP_CMP_MASKED_EQ: the value the masked argument must equal */
} SeccompArg;

/* One entry of linux.seccomp.syscalls, as written (names libseccomp does not know included). */
typedef struct SeccompRule {
        char **names;    /* non-empty */
        uint32_t action; /* SCMP_ACT_*, errno or trace data included */
        SeccompArg *args;
        size_t n_args;
} SeccompRule;

typedef struct SeccompPlan {
        uint32_t default_action; /* SCMP_ACT_*, errno or trace data included */
        uint32_t *arches;        /* SCMP_ARCH_* tokens added to the native one */
        size_t n_arches;
        SeccompRule *rules;
        size_t n_rules;
        char **skipped_syscalls; /* names libseccomp does not know: left out, as runc does */
        bool notify;             /* a rule uses SCMP_ACT_NOTIFY: the load yields a listener fd */
        char *listener_path;     /* absolute; only used with notify */
        char *listener_metadata;
        unsigned filter_flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2), NEW_LISTENER not included */

        /* The compiled filter: what the container's process installs. */
        struct sock_filter *program;
        size_t n_program;
} SeccompPlan;

SeccompPlan *seccomp_plan_free(SeccompPlan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompPlan *, seccomp_plan_free)

/**
 * seccomp_config_parse() - parse, validate and compile linux.seccomp (@obj, whose field path is
 * @field, e.g. "linux.seccomp"). @obj NULL, or an object with neither defaultAction nor syscalls
 * (runc's reading), means no filter: *@ret is set to NULL. Errors name the field:
 *   linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"
 * Returns -EINVAL for a wrong config, -EOPNOTSUPP for something this kernel or libseccomp
 * lacks, -ENOMEM. Unknown syscall names are no error: they are listed in skipped_syscalls and
 * logged at debug level.
 */
int seccomp_config_parse(struct json_object *obj, const char *field, SeccompPlan **ret, BerthError *err);

/**
 * seccomp_config_parse_cached() - seccomp_config_parse(), with the compiled program taken from,
 * or kept in, the cache under the state root @cache_root_fd (seccomp-cache.h); -EBADF: none.
 */
int seccomp_config_parse_cached(struct json_object *obj, const char *field, int cache_root_fd,
                                SeccompPlan **ret, BerthError *err);

/* When a process installs its filter, relative to the last steps before execve(). */
typedef enum SeccompStage {
        SECCOMP_STAGE_NONE,         /* no filter */
        SECCOMP_STAGE_BEFORE_READY, /* container init with a listener: while `create` still listens */
        SECCOMP_STAGE_BEFORE_USER, /* without no_new_privs: needs CAP_SYS_ADMIN, so before the user switch */
        SECCOMP_STAGE_BEFORE_EXEC, /* with no_new_privs: last, in process_exec() right before execve() */
        _SECCOMP_STAGE_MAX,
} SeccompStage;

/**
 * seccomp_plan_stage() - when the process of @p loads the filter (runc's order); @for_exec is
 * true for `exec`, whose sync socket stays open until execve() so its listener fd can go late.
 */
SeccompStage seccomp_plan_stage(const SeccompPlan *p, bool no_new_privileges, bool for_exec);

/**
 * seccomp_plan_load() - install the compiled filter in the calling process (child side). The
 * caller has set no_new_privs or holds CAP_SYS_ADMIN. With notify, the listener fd goes to the
 * runtime as SYNC_SECCOMP_FD over @sync_fd and is closed here.
 */
int seccomp_plan_load(const SeccompPlan *p, int sync_fd, BerthError *err);

/**
 * seccomp_listener_send() - runtime side: connect to @p->listener_path (AF_UNIX, SOCK_STREAM)
 * and send the container process state {"ociVersion","fds":["seccompFd"],"pid","metadata",
 * "state"} with @notify_fd attached (SCM_RIGHTS), then close the connection. @state_json is
 * the container's state document. Does not close @notify_fd.
 */
int seccomp_listener_send(const SeccompPlan *p, int notify_fd, pid_t pid, const char *state_json,
                          BerthError *err);

/**
 * seccomp_features_write() - append the "seccomp" object of `features` to @b: enabled, the
 * actions, operators and architectures known, knownFlags and the supportedFlags of this kernel.
 */
void seccomp_features_write(StrBuf *b);
