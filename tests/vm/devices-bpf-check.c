/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devices-bpf-check: drives devices_bpf_apply() against a real cgroup v2 kernel (the VM of
 * tests/vm/run.sh, see devices-bpf.sh) and checks what processes in the cgroup may open.
 *
 *   devices-bpf-check [CGROUP_DIR]     default /sys/fs/cgroup/berth-devices-check
 *
 * Each probe forks a child that moves itself into the cgroup and tries one open() or mknod(),
 * so the verdicts come from the kernel running our program. Prints "ok - ..." / "FAIL - ..."
 * lines and "N passed, N failed"; exits 1 on any failure, 2 when it cannot set up.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "cgroup/devices-bpf.h"

#define ANY                                  DEVICE_NUMBER_ANY
#define R(allow, type, major, minor, access) ((DeviceRule){allow, type, major, minor, access})

static int passed, failed;

static void check(bool ok, const char *what, const char *detail)
{
        if (ok) {
                passed++;
                printf("ok - %s\n", what);
        } else {
                failed++;
                printf("FAIL - %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
        }
        fflush(stdout);
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
        long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
        return r < 0 ? -errno : (int)r;
}

/* The names of the device programs attached to the cgroup, counted; -errno on failure. */
static int attached(int cg_fd, char names[][BPF_OBJ_NAME_LEN], int max)
{
        uint32_t ids[64];
        union bpf_attr attr;
        int r;

        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)cg_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = ELEMENTSOF(ids);
        r = bpf_call(BPF_PROG_QUERY, &attr);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < attr.query.prog_cnt && (int)i < max; i++) {
                struct bpf_prog_info info = {0};
                union bpf_attr a;
                memset(&a, 0, sizeof(a));
                a.prog_id = ids[i];
                int fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &a);
                if (fd < 0)
                        return fd;
                memset(&a, 0, sizeof(a));
                a.info.bpf_fd = (uint32_t)fd;
                a.info.info_len = sizeof(info);
                a.info.info = (uint64_t)(uintptr_t)&info;
                r = bpf_call(BPF_OBJ_GET_INFO_BY_FD, &a);
                close(fd);
                if (r < 0)
                        return r;
                memcpy(names[i], info.name, BPF_OBJ_NAME_LEN);
                names[i][BPF_OBJ_NAME_LEN - 1] = '\0';
        }
        return (int)attr.query.prog_cnt;
}

static void check_attached(int cg_fd, const char *what, int want_ours, int want_others)
{
        char names[16][BPF_OBJ_NAME_LEN], detail[128];
        int n = attached(cg_fd, names, 16), ours = 0;

        if (n < 0) {
                snprintf(detail, sizeof(detail), "BPF_PROG_QUERY: %s", strerror(-n));
                check(false, what, detail);
                return;
        }
        for (int i = 0; i < n && i < 16; i++)
                if (streq(names[i], DEVICES_BPF_PROG_NAME))
                        ours++;
        snprintf(detail, sizeof(detail), "%d of ours and %d others attached, want %d and %d", ours, n - ours,
                 want_ours, want_others);
        check(ours == want_ours && n - ours == want_others, what, detail);
}

/* A program of somebody else's: allows everything, so it changes no verdict. */
static int load_foreign(const char *name)
{
        struct bpf_insn insns[] = {
                {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1},
                {.code = BPF_JMP | BPF_EXIT},
        };
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = ELEMENTSOF(insns);
        attr.license = (uint64_t)(uintptr_t) "MIT";
        strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
        return bpf_call(BPF_PROG_LOAD, &attr);
}

static int attach_foreign(int cg_fd, int prog_fd, bool detach)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cg_fd;
        attr.attach_bpf_fd = (uint32_t)prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = detach ? 0 : BPF_F_ALLOW_MULTI;
        return bpf_call(detach ? BPF_PROG_DETACH : BPF_PROG_ATTACH, &attr);
}

typedef enum { PROBE_OPEN, PROBE_MKNOD } ProbeKind;

/* In a child inside the cgroup: 0 or the errno of open(@path, @flags) / mknod(@path, @dev). */
static int probe(int cg_fd, ProbeKind kind, const char *path, int flags, mode_t type, dev_t dev)
{
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = openat(cg_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(250);
                if (kind == PROBE_MKNOD) {
                        (void)unlink(path);
                        _exit(mknod(path, type | 0600, dev) < 0 ? errno & 0xff : 0);
                }
                _exit(open(path, flags | O_CLOEXEC) < 0 ? errno & 0xff : 0);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static void expect(int cg_fd, ProbeKind kind, const char *path, int flags, mode_t type, dev_t dev,
                   int want_errno)
{
        char what[160], detail[96];
        int r = probe(cg_fd, kind, path, flags, type, dev);

        if (kind == PROBE_MKNOD)
                snprintf(what, sizeof(what), "mknod %s (%c %u:%u) %s", path, type == S_IFBLK ? 'b' : 'c',
                         major(dev), minor(dev), want_errno ? "is denied" : "works");
        else
                snprintf(what, sizeof(what), "open %s %s %s", path,
                         (flags & O_ACCMODE) == O_RDONLY   ? "r"
                         : (flags & O_ACCMODE) == O_WRONLY ? "w"
                                                           : "rw",
                         want_errno ? "is denied" : "works");
        snprintf(detail, sizeof(detail), "got %s, want %s", r ? strerror(r) : "success",
                 want_errno ? strerror(want_errno) : "success");
        check(r == want_errno, what, detail);
}

static void expect_open(int cg_fd, const char *path, int flags, int want_errno)
{
        expect(cg_fd, PROBE_OPEN, path, flags, 0, 0, want_errno);
}

static void apply(int cg_fd, const char *what, const DeviceRule *rules, size_t n)
{
        BerthError err = {0};
        int r = devices_bpf_apply(cg_fd, rules, n, &err);
        check(r == 0, what, r < 0 ? error_message(&err, r) : NULL);
}

int main(int argc, char **argv)
{
        const char *path = argc > 1 ? argv[1] : "/sys/fs/cgroup/berth-devices-check";
        _cleanup_close_ int cg_fd = -EBADF;
        BerthError err = {0};
        int r;

        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "mkdir %s: %m\n", path);
                return 2;
        }
        cg_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg_fd < 0) {
                fprintf(stderr, "open %s: %m\n", path);
                return 2;
        }

        /* Nothing but /dev/null. */
        const DeviceRule only_null[] = {R(false, 'a', ANY, ANY, "rwm"), R(true, 'c', 1, 3, "rwm")};
        apply(cg_fd, "apply: deny all but /dev/null", only_null, ELEMENTSOF(only_null));
        check_attached(cg_fd, "one program attached", 1, 0);
        expect_open(cg_fd, "/dev/null", O_RDWR, 0);
        expect_open(cg_fd, "/dev/zero", O_RDONLY, EPERM);
        expect_open(cg_fd, "/dev/full", O_WRONLY, EPERM);

        /* update: /dev/zero for reading only. One earlier program: swapped (BPF_F_REPLACE). */
        const DeviceRule zero_ro[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', 1, 3, "rwm"),
                R(true, 'c', 1, 5, "r"),
        };
        apply(cg_fd, "update: allow /dev/zero r", zero_ro, ELEMENTSOF(zero_ro));
        check_attached(cg_fd, "update replaced the program instead of stacking one", 1, 0);
        expect_open(cg_fd, "/dev/null", O_RDWR, 0);
        expect_open(cg_fd, "/dev/zero", O_RDONLY, 0);
        expect_open(cg_fd, "/dev/zero", O_WRONLY, EPERM);
        expect_open(cg_fd, "/dev/zero", O_RDWR, EPERM);

        /* The runtime's list: the config's rules, then the defaults. */
        DeviceRule with_defaults[32];
        size_t n = 0;
        with_defaults[n++] = R(false, 'a', ANY, ANY, "rwm");
        for (size_t i = 0; i < device_rules_default_count; i++)
                with_defaults[n++] = device_rules_default[i];
        apply(cg_fd, "update: deny all + the default rules", with_defaults, n);
        check_attached(cg_fd, "still one program", 1, 0);
        expect_open(cg_fd, "/dev/zero", O_RDWR, 0);
        expect_open(cg_fd, "/dev/full", O_RDWR, 0);
        expect_open(cg_fd, "/dev/urandom", O_RDONLY, 0);
        expect_open(cg_fd, "/dev/kmsg", O_RDONLY, EPERM);
        /* mknod of anything is allowed by default; using the node is not. */
        expect(cg_fd, PROBE_MKNOD, "/tmp/kmsg-node", 0, S_IFCHR, makedev(1, 11), 0);
        expect_open(cg_fd, "/tmp/kmsg-node", O_RDONLY, EPERM);
        expect(cg_fd, PROBE_MKNOD, "/tmp/loop-node", 0, S_IFBLK, makedev(7, 0), 0);
        expect_open(cg_fd, "/tmp/loop-node", O_RDONLY, EPERM);

        /* Deny-list mode: "deny w" also stops an open for reading and writing (v1's rule). */
        const DeviceRule deny_list[] = {R(true, 'a', ANY, ANY, "rwm"), R(false, 'c', 1, 5, "w")};
        apply(cg_fd, "update: allow all but writing /dev/zero", deny_list, ELEMENTSOF(deny_list));
        expect_open(cg_fd, "/dev/zero", O_RDONLY, 0);
        expect_open(cg_fd, "/dev/zero", O_WRONLY, EPERM);
        expect_open(cg_fd, "/dev/zero", O_RDWR, EPERM);
        expect_open(cg_fd, "/dev/kmsg", O_RDONLY, 0);

        /* A refused rule list changes nothing. */
        const DeviceRule hole[] = {
                R(false, 'a', ANY, ANY, "rwm"),
                R(true, 'c', ANY, ANY, "rwm"),
                R(false, 'c', 1, 3, "rw"),
        };
        r = devices_bpf_apply(cg_fd, hole, ELEMENTSOF(hole), &err);
        check(r == -EINVAL && strstr(err.msg, "cannot punch a hole"), "apply refuses a hole in a wildcard",
              error_message(&err, r));
        check_attached(cg_fd, "the refused update left the program alone", 1, 0);
        expect_open(cg_fd, "/dev/zero", O_WRONLY, EPERM);

        /* Others' programs stay; a second one of ours (no atomic swap possible) goes. */
        int foreign = load_foreign("other_devices");
        int stray = load_foreign(DEVICES_BPF_PROG_NAME);
        check(foreign >= 0 && stray >= 0, "load two more programs", foreign < 0 ? strerror(-foreign) : NULL);
        if (foreign >= 0 && stray >= 0) {
                check(attach_foreign(cg_fd, foreign, false) == 0 && attach_foreign(cg_fd, stray, false) == 0,
                      "attach them", NULL);
                check_attached(cg_fd, "two of ours and another attached", 2, 1);
                apply(cg_fd, "update: /dev/null only, again", only_null, ELEMENTSOF(only_null));
                check_attached(cg_fd, "ours replaced, the other kept", 1, 1);
                expect_open(cg_fd, "/dev/null", O_RDWR, 0);
                expect_open(cg_fd, "/dev/zero", O_RDONLY, EPERM);
                check(attach_foreign(cg_fd, foreign, true) == 0, "detach the other program", NULL);
                check_attached(cg_fd, "ours is left", 1, 0);
        }
        safe_close(foreign);
        safe_close(stray);

        /* Not a cgroup. */
        _cleanup_close_ int tmp_fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        err = (BerthError){0};
        r = devices_bpf_apply(tmp_fd, only_null, ELEMENTSOF(only_null), &err);
        printf("# apply on /tmp: %s\n", error_message(&err, r));
        check(r < 0 && err.msg[0], "apply on a directory that is no cgroup fails with a message", NULL);

        unlink("/tmp/kmsg-node");
        unlink("/tmp/loop-node");
        /* The cgroup holds no process now; removing it detaches what is attached. */
        check(rmdir(path) == 0, "remove the cgroup", strerror(errno));

        printf("%d passed, %d failed\n", passed, failed);
        return failed ? 1 : 0;
}
