/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Docker's default seccomp profile and the resolution of Docker-format profiles.
 *
 * The table below is moby's profiles/seccomp/default.json at commit 00f3d189e420 (2023: it has
 * the AF_VSOCK socket rule, CAP_BPF and CAP_PERFMON, clock_settime64 and
 * set_mempolicy_home_node), written as berth's own data. It is turned into a Docker-format
 * document and resolved by the same code as a profile file, so the built-in profile and
 * `--security-opt seccomp=default.json` give the same linux.seccomp. Names the installed
 * libseccomp does not know are left in: berth-runtime skips them, as runc does.
 */

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <json-c/json.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "image/json-put.h"
#include "image/seccomp-profile.h"

#define PROFILE_FILE_MAX (1024U * 1024U)
#define EPERM_RET        1  /* defaultErrnoRet */
#define ENOSYS_RET       38 /* clone3 without CAP_SYS_ADMIN: glibc then falls back to clone */
/* CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
 * CLONE_NEWNET: clone may not make namespaces without CAP_SYS_ADMIN. */
#define CLONE_NAMESPACE_MASK UINT64_C(0x7E020000)

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static inline void json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}
#define _cleanup_jsonobj_ _cleanup_(json_putp)

/* The first rule of default.json: allowed whatever the capabilities. */
/* clang-format off */
static const char *const allowed_always[] = {
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
        "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
        "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
        "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
        "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
        "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
        "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
        "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
        "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64",
        "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
        "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
        "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
        "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
        "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
        "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
        "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
        "io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill",
        "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
        "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr",
        "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret",
        "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
        "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
        "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
        "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
        "_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
        "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
        "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
        "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
        "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
        "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
        "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
        "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
        "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
        "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
        "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
        "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
        "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
        "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
        "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
        "wait4", "waitid", "waitpid", "write", "writev", NULL,
};
/* clang-format on */

/*
 * One rule of default.json. Docker's profile never has more than one capability, one argument
 * condition or one minimum kernel in a rule, so one field each is enough here.
 */
typedef struct DefaultRule {
        const char *const *names;
        int errno_ret;                 /* > 0: SCMP_ACT_ERRNO with it; 0: SCMP_ACT_ALLOW */
        const char *with_cap;          /* includes.caps */
        const char *without_cap;       /* excludes.caps */
        const char *const *arches;     /* includes.arches (Docker's names) */
        const char *const *not_arches; /* excludes.arches */
        const char *min_kernel;        /* includes.minKernel */
        const char *arg_op;            /* NULL: no argument condition */
        unsigned arg_index;
        uint64_t arg_value;
} DefaultRule;

static const DefaultRule default_rules[] = {
        {.names = allowed_always},
        /* Before 4.8 ptrace could bypass seccomp (a tracer could change the syscall). */
        {.names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"), .min_kernel = "4.8"},
        /* Not AF_VSOCK (40): its address space is the host's, not the container's. */
        {.names = NAMES("socket"), .arg_op = "SCMP_CMP_NE", .arg_index = 0, .arg_value = 40},
        /* personality(): only PER_LINUX, PER_LINUX32, UNAME26 variants, and the query. */
        {.names = NAMES("personality"), .arg_op = "SCMP_CMP_EQ", .arg_value = 0x0},
        {.names = NAMES("personality"), .arg_op = "SCMP_CMP_EQ", .arg_value = 0x8},
        {.names = NAMES("personality"), .arg_op = "SCMP_CMP_EQ", .arg_value = 0x20000},
        {.names = NAMES("personality"), .arg_op = "SCMP_CMP_EQ", .arg_value = 0x20008},
        {.names = NAMES("personality"), .arg_op = "SCMP_CMP_EQ", .arg_value = 0xffffffff},
        {.names = NAMES("sync_file_range2", "swapcontext"), .arches = NAMES("ppc64le")},
        {.names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                        "cacheflush", "set_tls"),
         .arches = NAMES("arm", "arm64")},
        {.names = NAMES("arch_prctl"), .arches = NAMES("amd64", "x32")},
        {.names = NAMES("modify_ldt"), .arches = NAMES("amd64", "x32", "x86")},
        {.names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
         .arches = NAMES("s390", "s390x")},
        {.names = NAMES("riscv_flush_icache"), .arches = NAMES("riscv64")},
        {.names = NAMES("open_by_handle_at"), .with_cap = "CAP_DAC_READ_SEARCH"},
        {.names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
                        "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
                        "setns", "syslog", "umount", "umount2", "unshare"),
         .with_cap = "CAP_SYS_ADMIN"},
        /* clone without namespace flags; s390 has the flags in the second argument. */
        {.names = NAMES("clone"),
         .without_cap = "CAP_SYS_ADMIN",
         .not_arches = NAMES("s390", "s390x"),
         .arg_op = "SCMP_CMP_MASKED_EQ",
         .arg_index = 0,
         .arg_value = CLONE_NAMESPACE_MASK},
        {.names = NAMES("clone"),
         .without_cap = "CAP_SYS_ADMIN",
         .arches = NAMES("s390", "s390x"),
         .arg_op = "SCMP_CMP_MASKED_EQ",
         .arg_index = 1,
         .arg_value = CLONE_NAMESPACE_MASK},
        /* clone3's flags are behind a pointer seccomp cannot read: ENOSYS, so libc uses clone. */
        {.names = NAMES("clone3"), .errno_ret = ENOSYS_RET, .without_cap = "CAP_SYS_ADMIN"},
        {.names = NAMES("reboot"), .with_cap = "CAP_SYS_BOOT"},
        {.names = NAMES("chroot"), .with_cap = "CAP_SYS_CHROOT"},
        {.names = NAMES("delete_module", "init_module", "finit_module"), .with_cap = "CAP_SYS_MODULE"},
        {.names = NAMES("acct"), .with_cap = "CAP_SYS_PACCT"},
        {.names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
                        "ptrace"),
         .with_cap = "CAP_SYS_PTRACE"},
        {.names = NAMES("iopl", "ioperm"), .with_cap = "CAP_SYS_RAWIO"},
        {.names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"),
         .with_cap = "CAP_SYS_TIME"},
        {.names = NAMES("vhangup"), .with_cap = "CAP_SYS_TTY_CONFIG"},
        {.names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
         .with_cap = "CAP_SYS_NICE"},
        {.names = NAMES("syslog"), .with_cap = "CAP_SYSLOG"},
        {.names = NAMES("bpf"), .with_cap = "CAP_BPF"},
        {.names = NAMES("perf_event_open"), .with_cap = "CAP_PERFMON"},
};

/* default.json's archMap: the native architecture and the ones its kernel also runs. */
static const struct {
        const char *arch;
        const char *const *sub;
} default_arch_map[] = {
        {"SCMP_ARCH_X86_64", NAMES("SCMP_ARCH_X86", "SCMP_ARCH_X32")},
        {"SCMP_ARCH_AARCH64", NAMES("SCMP_ARCH_ARM")},
        {"SCMP_ARCH_MIPS64", NAMES("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32")},
        {"SCMP_ARCH_MIPS64N32", NAMES("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64")},
        {"SCMP_ARCH_MIPSEL64", NAMES("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32")},
        {"SCMP_ARCH_MIPSEL64N32", NAMES("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64")},
        {"SCMP_ARCH_S390X", NAMES("SCMP_ARCH_S390")},
        {"SCMP_ARCH_RISCV64", NULL},
};

void image_seccomp_host_detect(SeccompHost *ret)
{
        struct utsname u;
        SeccompHost h = {};

#if defined(__x86_64__) && !defined(__ILP32__)
        h = (SeccompHost){.arch = "amd64", .scmp_arch = "SCMP_ARCH_X86_64"};
#elif defined(__x86_64__)
        h = (SeccompHost){.arch = "x32", .scmp_arch = "SCMP_ARCH_X32"};
#elif defined(__i386__)
        h = (SeccompHost){.arch = "x86", .scmp_arch = "SCMP_ARCH_X86"};
#elif defined(__aarch64__)
        h = (SeccompHost){.arch = "arm64", .scmp_arch = "SCMP_ARCH_AARCH64"};
#elif defined(__arm__)
        h = (SeccompHost){.arch = "arm", .scmp_arch = "SCMP_ARCH_ARM"};
#elif defined(__s390x__)
        h = (SeccompHost){.arch = "s390x", .scmp_arch = "SCMP_ARCH_S390X"};
#elif defined(__riscv) && __riscv_xlen == 64
        h = (SeccompHost){.arch = "riscv64", .scmp_arch = "SCMP_ARCH_RISCV64"};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        h = (SeccompHost){.arch = "ppc64le", .scmp_arch = "SCMP_ARCH_PPC64LE"};
#endif
        if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &h.kernel_major, &h.kernel_minor) != 2)
                h.kernel_major = h.kernel_minor = 0;
        *ret = h;
}

/* ---- the built-in table as a Docker-format document ---- */

/* out[key] = a new reference to @v; JSON null stays null. */
static int copy(struct json_object *out, const char *key, struct json_object *v)
{
        if (!v)
                return json_object_object_add(out, key, NULL) < 0 ? -ENOMEM : 0;
        return json_put_member(out, key, json_object_get(v));
}

static struct json_object *names_to_json(const char *const *names)
{
        _cleanup_jsonobj_ struct json_object *a = json_object_new_array();

        for (size_t i = 0; a && names && names[i]; i++)
                if (json_put_element(a, json_object_new_string(names[i])) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

/* {"caps": [cap], "arches": [...], "minKernel": "x.y"}, or no member when all are NULL. */
static int add_condition(struct json_object *rule, const char *key, const char *cap,
                         const char *const *arches, const char *min_kernel)
{
        _cleanup_jsonobj_ struct json_object *c = NULL;
        int r = 0;

        if (!cap && !arches && !min_kernel)
                return 0;
        c = json_object_new_object();
        if (!c)
                return -ENOMEM;
        if (cap)
                r = json_put_member(c, "caps", names_to_json(NAMES(cap)));
        if (r >= 0 && arches)
                r = json_put_member(c, "arches", names_to_json(arches));
        if (r >= 0 && min_kernel)
                r = json_put_member(c, "minKernel", json_object_new_string(min_kernel));
        if (r < 0)
                return r;
        return json_put_member(rule, key, TAKE_PTR(c));
}

static int default_rule_to_json(const DefaultRule *d, struct json_object **ret)
{
        _cleanup_jsonobj_ struct json_object *rule = json_object_new_object();
        int r;

        if (!rule)
                return -ENOMEM;
        r = json_put_member(rule, "names", names_to_json(d->names));
        if (r >= 0)
                r = json_put_member(
                        rule, "action",
                        json_object_new_string(d->errno_ret > 0 ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW"));
        if (r >= 0 && d->errno_ret > 0)
                r = json_put_member(rule, "errnoRet", json_object_new_int(d->errno_ret));
        if (r >= 0 && d->arg_op) {
                struct json_object *args = json_object_new_array(), *arg = json_object_new_object();
                if (!args || !arg) {
                        json_putp(&args);
                        json_putp(&arg);
                        return -ENOMEM;
                }
                r = json_put_member(rule, "args", args);
                if (r >= 0)
                        r = json_put_element(args, arg);
                else
                        json_object_put(arg);
                if (r >= 0)
                        r = json_put_member(arg, "index", json_object_new_int((int)d->arg_index));
                if (r >= 0)
                        r = json_put_member(arg, "value", json_object_new_int64((int64_t)d->arg_value));
                if (r >= 0)
                        r = json_put_member(arg, "op", json_object_new_string(d->arg_op));
        }
        if (r >= 0)
                r = add_condition(rule, "includes", d->with_cap, d->arches, d->min_kernel);
        if (r >= 0)
                r = add_condition(rule, "excludes", d->without_cap, d->not_arches, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rule);
        return 0;
}

static int default_profile_docker(struct json_object **ret)
{
        _cleanup_jsonobj_ struct json_object *p = json_object_new_object();
        struct json_object *map = json_object_new_array(), *calls = json_object_new_array();
        int r;

        if (!p) {
                json_putp(&map);
                json_putp(&calls);
                return -ENOMEM;
        }
        /* json_put_member() takes its value even when it fails: p owns map and calls from here on. */
        r = json_put_member(p, "archMap", map);
        if (r >= 0)
                r = json_put_member(p, "syscalls", calls);
        else
                json_putp(&calls);
        if (r >= 0)
                r = json_put_member(p, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"));
        if (r >= 0)
                r = json_put_member(p, "defaultErrnoRet", json_object_new_int(EPERM_RET));
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(default_arch_map); i++) {
                _cleanup_jsonobj_ struct json_object *e = json_object_new_object();
                if (!e)
                        return -ENOMEM;
                r = json_put_member(e, "architecture", json_object_new_string(default_arch_map[i].arch));
                if (r >= 0)
                        r = default_arch_map[i].sub ? json_put_member(e, "subArchitectures",
                                                                      names_to_json(default_arch_map[i].sub))
                                                    : json_object_object_add(e, "subArchitectures", NULL);
                if (r < 0)
                        return -ENOMEM;
                r = json_put_element(map, TAKE_PTR(e));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(default_rules); i++) {
                struct json_object *rule = NULL;
                r = default_rule_to_json(&default_rules[i], &rule);
                if (r >= 0)
                        r = json_put_element(calls, rule);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- resolving a Docker-format profile ---- */

static bool json_strings_contain(struct json_object *a, const char *s)
{
        if (!s)
                return false;
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

/* @v must be an array of strings; NULL (JSON null) counts as empty. */
static int check_strings(struct json_object *v, const char *name, const char *path, BerthError *err)
{
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": %s: must be an array of strings",
                                  name, path);
        for (size_t i = 0; i < json_object_array_length(v); i++)
                if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                        return error_setx(err, -EINVAL, "seccomp profile \"%s\": %s[%zu]: must be a string",
                                          name, path, i);
        return 0;
}

static bool kernel_at_least(const SeccompHost *h, unsigned major, unsigned minor)
{
        return h->kernel_major > major || (h->kernel_major == major && h->kernel_minor >= minor);
}

/*
 * Docker's includes/excludes (moby profiles/seccomp/seccomp_linux.go): includes match when
 * every listed condition holds (the host's arch is listed, every cap is in the bounding set,
 * the kernel is at least minKernel); excludes match when any of them holds.
 */
static int condition_matches(struct json_object *c, bool include, const char *name, const char *path,
                             char *const *bounding, const SeccompHost *h, bool *ret, BerthError *err)
{
        char sub[128];
        bool any = false, all = true;
        int r;

        if (!json_object_is_type(c, json_type_object))
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": %s: must be an object", name, path);
        json_object_object_foreach (c, key, v) {
                snprintf(sub, sizeof(sub), "%s.%s", path, key);
                if (streq(key, "arches") || streq(key, "caps")) {
                        r = check_strings(v, name, sub, err);
                        if (r < 0)
                                return r;
                        size_t n = v ? json_object_array_length(v) : 0;
                        if (n == 0)
                                continue;
                        if (streq(key, "arches")) {
                                bool listed = json_strings_contain(v, h->arch);
                                any = any || listed;
                                all = all && listed;
                                continue;
                        }
                        for (size_t i = 0; i < n; i++) {
                                bool has = strv_contains(
                                        bounding, json_object_get_string(json_object_array_get_idx(v, i)));
                                any = any || has;
                                all = all && has;
                        }
                } else if (streq(key, "minKernel")) {
                        unsigned major, minor = 0;
                        char tail;
                        const char *s =
                                json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                        if (sscanf(s, "%u.%u%c", &major, &minor, &tail) != 2 &&
                            sscanf(s, "%u%c", &major, &tail) != 1)
                                return error_setx(
                                        err, -EINVAL,
                                        "seccomp profile \"%s\": %s: must be a kernel version like "
                                        "\"4.8\"",
                                        name, sub);
                        bool ok = kernel_at_least(h, major, minor);
                        any = any || ok;
                        all = all && ok;
                } else
                        return error_setx(err, -EINVAL,
                                          "seccomp profile \"%s\": %s: unknown key \"%s\" (arches, caps, "
                                          "minKernel)",
                                          name, path, key);
        }
        *ret = include ? all : any;
        return 0;
}

/* One entry of "syscalls": *@ret is the OCI rule, or NULL when this host or bounding set drops it. */
static int resolve_rule(struct json_object *in, size_t index, const char *name, char *const *bounding,
                        const SeccompHost *h, struct json_object **ret, BerthError *err)
{
        static const char *const copied[] = {"names", "action", "errnoRet", "args"};
        _cleanup_jsonobj_ struct json_object *out = NULL;
        char path[64], sub[96];
        bool keep = true, m = false;
        int r;

        snprintf(path, sizeof(path), "syscalls[%zu]", index);
        if (!json_object_is_type(in, json_type_object))
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": %s: must be an object", name, path);
        out = json_object_new_object();
        if (!out)
                return -ENOMEM;
        json_object_object_foreach (in, key, v) {
                bool is_copied = false;
                for (size_t i = 0; i < ELEMENTSOF(copied); i++)
                        is_copied = is_copied || streq(key, copied[i]);
                snprintf(sub, sizeof(sub), "%s.%s", path, key);
                if (is_copied) {
                        r = copy(out, key, v);
                } else if (streq(key, "name")) {
                        /* Docker's older single-name form. */
                        if (json_object_object_get_ex(in, "names", NULL))
                                return error_setx(
                                        err, -EINVAL,
                                        "seccomp profile \"%s\": %s: use either \"name\" or \"names\"", name,
                                        path);
                        if (!json_object_is_type(v, json_type_string))
                                return error_setx(err, -EINVAL,
                                                  "seccomp profile \"%s\": %s: must be a string", name, sub);
                        struct json_object *a = json_object_new_array();
                        r = json_put_member(out, "names", a);
                        if (r >= 0)
                                r = json_put_element(a, json_object_get(v));
                } else if (streq(key, "comment")) {
                        r = 0;
                } else if (streq(key, "includes") || streq(key, "excludes")) {
                        bool include = streq(key, "includes");
                        r = condition_matches(v, include, name, sub, bounding, h, &m, err);
                        if (r >= 0 && m != include)
                                keep = false;
                } else
                        return error_setx(err, -EINVAL,
                                          "seccomp profile \"%s\": %s: unknown key \"%s\" (names, action, "
                                          "errnoRet, args, or Docker's name, comment, includes, excludes)",
                                          name, path, key);
                if (r < 0)
                        return r;
        }
        *ret = keep ? TAKE_PTR(out) : NULL;
        return 0;
}

/* archMap: the entry for this host's architecture gives linux.seccomp.architectures. */
static int resolve_arch_map(struct json_object *map, const char *name, const SeccompHost *h,
                            struct json_object *out, BerthError *err)
{
        _cleanup_jsonobj_ struct json_object *arches = json_object_new_array();
        char path[64];
        int r;

        if (!arches)
                return -ENOMEM;
        if (!json_object_is_type(map, json_type_array))
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": archMap: must be an array", name);
        for (size_t i = 0; i < json_object_array_length(map); i++) {
                struct json_object *e = json_object_array_get_idx(map, i), *arch = NULL, *sub = NULL;
                snprintf(path, sizeof(path), "archMap[%zu]", i);
                if (!json_object_is_type(e, json_type_object) ||
                    !json_object_object_get_ex(e, "architecture", &arch) ||
                    !json_object_is_type(arch, json_type_string))
                        return error_setx(err, -EINVAL,
                                          "seccomp profile \"%s\": %s: must be an object with an "
                                          "\"architecture\" string",
                                          name, path);
                json_object_object_get_ex(e, "subArchitectures", &sub);
                strncat(path, ".subArchitectures", sizeof(path) - strlen(path) - 1);
                r = check_strings(sub, name, path, err);
                if (r < 0)
                        return r;
                if (!h->scmp_arch || !streq(json_object_get_string(arch), h->scmp_arch))
                        continue;
                r = json_put_element(arches, json_object_get(arch));
                for (size_t j = 0; r >= 0 && sub && j < json_object_array_length(sub); j++)
                        r = json_put_element(arches, json_object_get(json_object_array_get_idx(sub, j)));
                if (r < 0)
                        return r;
        }
        if (json_object_array_length(arches) == 0)
                return 0; /* an architecture the map lacks: the native one only */
        return json_put_member(out, "architectures", TAKE_PTR(arches));
}

static int resolve_profile(struct json_object *in, const char *name, char *const *bounding,
                           const SeccompHost *h, struct json_object **ret, BerthError *err)
{
        static const char *const copied[] = {"defaultAction", "defaultErrnoRet", "architectures",
                                             "flags",         "listenerPath",    "listenerMetadata"};
        _cleanup_jsonobj_ struct json_object *out = json_object_new_object();
        struct json_object *map = NULL, *calls = NULL, *action = NULL, *rules;
        int r;

        if (!out)
                return -ENOMEM;
        if (!json_object_is_type(in, json_type_object))
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": must be a JSON object", name);
        json_object_object_foreach (in, key, v) {
                bool is_copied = false;
                for (size_t i = 0; i < ELEMENTSOF(copied); i++)
                        is_copied = is_copied || streq(key, copied[i]);
                if (is_copied) {
                        r = copy(out, key, v);
                        if (r < 0)
                                return r;
                } else if (streq(key, "archMap"))
                        map = v;
                else if (streq(key, "syscalls"))
                        calls = v;
                else
                        return error_setx(err, -EINVAL,
                                          "seccomp profile \"%s\": unknown key \"%s\" (defaultAction, "
                                          "defaultErrnoRet, architectures, archMap, flags, listenerPath, "
                                          "listenerMetadata, syscalls)",
                                          name, key);
        }
        if (!json_object_object_get_ex(in, "defaultAction", &action) || !action)
                return error_setx(err, -EINVAL,
                                  "seccomp profile \"%s\": no defaultAction (for no filter at all, use "
                                  "--security-opt seccomp=unconfined)",
                                  name);
        if (map && json_object_object_get_ex(in, "architectures", NULL))
                return error_setx(err, -EINVAL,
                                  "seccomp profile \"%s\": has both \"architectures\" and \"archMap\"",
                                  name);
        if (map) {
                r = resolve_arch_map(map, name, h, out, err);
                if (r < 0)
                        return r;
        }
        if (calls) {
                if (!json_object_is_type(calls, json_type_array))
                        return error_setx(err, -EINVAL, "seccomp profile \"%s\": syscalls: must be an array",
                                          name);
                rules = json_object_new_array();
                r = json_put_member(out, "syscalls", rules);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(calls); i++) {
                        struct json_object *rule = NULL;
                        r = resolve_rule(json_object_array_get_idx(calls, i), i, name, bounding, h, &rule,
                                         err);
                        if (r >= 0 && rule)
                                r = json_put_element(rules, rule);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int image_seccomp_default_build(char *const *bounding, const SeccompHost *host, struct json_object **ret)
{
        _cleanup_jsonobj_ struct json_object *docker = NULL;
        SeccompHost native;
        BerthError err = {};
        int r;

        assert(ret);
        if (!host) {
                image_seccomp_host_detect(&native);
                host = &native;
        }
        r = default_profile_docker(&docker);
        if (r < 0)
                return r;
        r = resolve_profile(docker, "default", bounding, host, ret, &err);
        /* The table is ours: anything but -ENOMEM is a programming error. */
        assert(r >= 0 || r == -ENOMEM);
        return r;
}

int image_seccomp_profile_read(const char *path, char **ret_text, BerthError *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_jsonobj_ struct json_object *obj = NULL;
        struct json_tokener *tok;
        enum json_tokener_error jerr;
        size_t len = 0;
        int r;

        assert(path);
        assert(ret_text);
        r = read_full_file_at(AT_FDCWD, path, PROFILE_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return error_setx(err, r, "seccomp profile \"%s\": larger than %u bytes", path,
                                  PROFILE_FILE_MAX);
        if (r < 0)
                return error_set(err, r, "seccomp profile \"%s\"", path);
        if (strlen(text) != len)
                return error_setx(err, -EINVAL,
                                  "seccomp profile \"%s\": not valid JSON: contains a NUL byte", path);
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        /* With the NUL, so that the tokener knows where the text ends ("null", "1"). */
        obj = json_tokener_parse_ex(tok, text, (int)len + 1);
        jerr = json_tokener_get_error(tok);
        /* Trailing bytes after the document: only whitespace. */
        size_t end = MIN(json_tokener_get_parse_end(tok), len);
        json_tokener_free(tok);
        if (!obj && jerr == json_tokener_success) /* "null" */
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": must be a JSON object", path);
        if (!obj && (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof))
                return error_setx(err, -EINVAL,
                                  "seccomp profile \"%s\": not valid JSON: unexpected end of file", path);
        if (!obj || jerr != json_tokener_success)
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": not valid JSON at offset %zu: %s",
                                  path, end, json_tokener_error_desc(jerr));
        if (text[end + strspn(text + end, " \t\r\n")] != '\0')
                return error_setx(err, -EINVAL,
                                  "seccomp profile \"%s\": not valid JSON: text after the document", path);
        if (!json_object_is_type(obj, json_type_object))
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": must be a JSON object", path);
        *ret_text = TAKE_PTR(text);
        return 0;
}

int image_seccomp_profile_resolve(const char *text, const char *name, char *const *bounding,
                                  const SeccompHost *host, struct json_object **ret, BerthError *err)
{
        _cleanup_jsonobj_ struct json_object *in = NULL;
        SeccompHost native;

        assert(text);
        assert(ret);
        if (!name)
                name = "(inline)";
        if (!host) {
                image_seccomp_host_detect(&native);
                host = &native;
        }
        in = json_tokener_parse(text);
        if (!in)
                return error_setx(err, -EINVAL, "seccomp profile \"%s\": not valid JSON", name);
        return resolve_profile(in, name, bounding, host, ret, err);
}
