# SPDX-License-Identifier: LGPL-2.1-or-later
"""One test per known container-runtime escape: each attempts the attack for real and checks that
it fails and that the host is untouched (its files, its mount table, the runtime binary).

  CVE-2024-21626  a leaked host fd as the process's cwd or in its executable's path
  CVE-2019-16884, CVE-2023-27561, CVE-2023-28642
                  a rootfs whose /proc (or /sys) is a symlink; a fake procfs over /proc
  CVE-2021-30465, CVE-2025-31133, CVE-2025-52565, CVE-2025-52881
                  symlinks planted at mount destinations, masked paths, /dev/null, /dev/console;
                  writes to /proc redirected by what is mounted there
  CVE-2019-5736   overwriting the runtime binary through /proc/PID/exe
  CVE-2016-9962   reaching the init (or an exec helper) before it runs the user's program
  CVE-2022-29162  inheritable and ambient capabilities nobody asked for
and the capability, rlimit and oom_score_adj settings those depend on.

The attacks that could damage the runtime binary run a copy of it (the `runtime_copy` fixture),
so a successful attack breaks only that copy. Inside containers, berth-probe does the attacking:
`snoop` grabs other processes' executables and fds, `peek` pokes at one pid, `statfs` tells a real
procfs from a fake one."""

import collections
import hashlib
import json
import os
import resource
import shutil
import stat
import subprocess
import time

import pytest

from conftest import (
    PROBE_IN_CONTAINER,
    RUNTIME,
    WAIT_TIMEOUT,
    Runtime,
    assert_error,
    is_berth,
    mount_point_of,
    proc_state,
    wait_for,
)

PROC_SUPER_MAGIC = 0x9FA0
SYSFS_MAGIC = 0x62656572

# Enough ".." to climb from any test rootfs (or state directory) to the host's /.
UP = "../" * 24

# Capability numbers (capabilities(7)).
CAP_KILL = 5
CAP_NET_BIND_SERVICE = 10
CAP_NET_RAW = 13
CAP_SYS_PTRACE = 19
CAP_SYS_RESOURCE = 24
CAP_AUDIT_WRITE = 29
DEFAULT_CAPS = (1 << CAP_KILL) | (1 << CAP_NET_BIND_SERVICE) | (1 << CAP_AUDIT_WRITE)

# Host files an escape would most likely touch; their checksums must not change.
WATCHED_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hostname", "/etc/hosts", "/bin/busybox")


# ---------------------------------------------------------------------------------------------
# Helpers


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def host_mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read().splitlines()


class HostWatch:
    """A snapshot of what an escape would change on the host: checksums of a few files, the names
    in / and /etc, and the mount table. check() compares with now."""

    def __init__(self):
        self.files = [p for p in WATCHED_FILES if os.path.exists(p)]
        self.before = self.take()

    def take(self):
        return {
            "files": {p: sha256(p) for p in self.files},
            "root": sorted(os.listdir("/")),
            "etc": sorted(os.listdir("/etc")),
            "mounts": host_mountinfo(),
        }

    def check(self):
        now = self.take()
        for key in ("files", "root", "etc"):
            assert now[key] == self.before[key], "host %s changed" % key
        added = sorted(set(now["mounts"]) - set(self.before["mounts"]))
        removed = sorted(set(self.before["mounts"]) - set(now["mounts"]))
        assert not added and not removed, "host mount table changed: +%r -%r" % (added, removed)


def run_shell(runtime, bundle, cid, script, *flags):
    """`run`s /bin/sh -c script (busybox); returns (Result, the JSON documents printed)."""
    bundle.set_args("/bin/sh", "-c", script).save()
    result = runtime("run", *flags, "--bundle", bundle.path, cid)
    docs = []
    for line in result.stdout.splitlines():
        try:
            docs.append(json.loads(line))
        except ValueError:
            pass
    return result, docs


def assert_not_created(*paths):
    """Fails if an escape created any of paths on the host, removing them first."""
    found = [p for p in paths if os.path.lexists(p)]
    for p in found:
        os.unlink(p)
    assert not found, "created on the host: %r" % found


def record_container_mounts(bundle, ctx):
    """Adds a createContainer hook that saves the mount table of the container's mount namespace
    as the runtime left it before pivot_root, with host paths; returns the file it writes.

    After pivot_root whatever was mounted outside the rootfs is gone from sight, so this is the
    one moment a mount that escaped the rootfs can be seen."""
    path = os.path.join(ctx.dir, "container-mountinfo")
    script = "cat /proc/self/mountinfo > '%s'" % path
    hook = {"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["PATH=/usr/bin:/bin"]}
    bundle.config.setdefault("hooks", {}).setdefault("createContainer", []).append(hook)
    return path


def mounts_outside(rootfs, before, mountinfo_file):
    """Mount points the container's namespace has beyond the host's that are not in rootfs."""
    with open(mountinfo_file) as f:
        inside = f.read().splitlines()
    rootfs = os.path.realpath(rootfs)
    added = collections.Counter(map(mount_point_of, inside))
    added.subtract(map(mount_point_of, before))
    return sorted(p for p in added.elements() if p != rootfs and not p.startswith(rootfs + "/"))


def replace_with_symlink(path, target):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def caps_of(*caps):
    names = {
        CAP_KILL: "CAP_KILL",
        CAP_NET_BIND_SERVICE: "CAP_NET_BIND_SERVICE",
        CAP_NET_RAW: "CAP_NET_RAW",
        CAP_SYS_PTRACE: "CAP_SYS_PTRACE",
        CAP_AUDIT_WRITE: "CAP_AUDIT_WRITE",
    }
    return [names[c] for c in caps]


def mask(*caps):
    return sum(1 << c for c in caps)


def pid_gone(pid):
    return proc_state(pid) in (None, "Z", "X")


def own_capabilities():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


@pytest.fixture
def runtime_copy(ctx, rootfs_template):
    """The runtime under test, run from a copy of its binary in the test's directory: an attack on
    the binary that succeeds breaks the copy, not the build."""
    bindir = os.path.join(ctx.dir, "bin")
    os.makedirs(bindir)
    binary = os.path.join(bindir, os.path.basename(RUNTIME))
    shutil.copy2(RUNTIME, binary)
    rt = Runtime(ctx, os.path.join(ctx.dir, "root"), binary=binary)
    ctx.runtimes.append(rt)
    return rt


def host_dir_fds(ctx, n):
    """n open fds on host directories a container must never reach (ctx.dir, /etc, /, ...)."""
    paths = [ctx.dir, "/etc", "/", "/tmp", "/usr", "/var"]
    return [os.open(paths[i % len(paths)], os.O_RDONLY | os.O_DIRECTORY) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# CVE-2024-21626: a host fd reaching the container


def fds_of_process(runtime, bundle, cid, ctx, verb):
    """The fds `berth-probe fds` has when started by `run` or by `exec`, while the runtime itself
    holds fds on host directories (as a careless caller would hand them over)."""
    fds = host_dir_fds(ctx, 3)
    try:
        if verb == "run":
            bundle.set_probe("fds").save()
            result = runtime("run", "--bundle", bundle.path, cid, fds=fds)
        else:
            runtime.start_sleeper(bundle, cid)
            result = runtime("exec", cid, PROBE_IN_CONTAINER, "fds", fds=fds)
            runtime.destroy(cid)
    finally:
        for fd in fds:
            os.close(fd)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("verb", ["run", "exec"])
def test_only_stdio_fds_reach_the_process(runtime, bundle, cid, ctx, verb):
    seen = fds_of_process(runtime, bundle, cid, ctx, verb)
    assert [e["fd"] for e in seen] == [0, 1, 2], seen


@pytest.mark.parametrize("verb", ["run", "exec"])
def test_fds_closed_when_seccomp_denies_close_range(runtime, bundle, cid, ctx, verb):
    """Without no_new_privs the seccomp filter goes on before the user switch, so the fds are
    closed under it: a profile that denies close_range() must not let them through."""
    bundle.config["process"]["noNewPrivileges"] = False
    deny = [{"names": ["close_range"], "action": "SCMP_ACT_ERRNO"}]
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": deny}
    seen = fds_of_process(runtime, bundle, cid, ctx, verb)
    assert [e["fd"] for e in seen] == [0, 1, 2], seen


def check_cwd_refused_or_inside(result, what):
    """A process whose cwd was a leaked fd: refused, or it runs with a cwd inside its root."""
    if result.rc != 0:
        if is_berth():
            assert "cwd" in result.stderr, result.stderr
        assert "berth-probe" not in result.stdout
        return
    info = json.loads(result.stdout)
    # getcwd() fails (glibc: ENOENT, the kernel's "(unreachable)") when the cwd is outside the root.
    assert info["cwd"] is not None and info["cwd"].startswith("/"), "%s: cwd outside the root: %r" % (
        what,
        info["cwd"],
    )


@pytest.mark.parametrize("fd", range(3, 9))
def test_run_cwd_through_proc_self_fd_is_refused(runtime, bundle, cid, ctx, fd):
    bundle.config["process"]["cwd"] = "/proc/self/fd/%d" % fd
    bundle.set_probe("info").save()
    result = runtime("run", "--bundle", bundle.path, cid)
    check_cwd_refused_or_inside(result, "run, cwd fd %d" % fd)


def test_run_cwd_through_a_preserved_host_fd_is_refused(runtime, bundle, cid, ctx):
    """--preserve-fds hands the process a host directory on purpose; it may use it as an fd, but
    the runtime must not make it the cwd (runc refuses a cwd outside the root the same way)."""
    fds = host_dir_fds(ctx, 1)
    bundle.config["process"]["cwd"] = "/proc/self/fd/3"
    bundle.set_probe("info").save()
    try:
        result = runtime("run", "--preserve-fds", "1", "--bundle", bundle.path, cid, fds=fds)
    finally:
        os.close(fds[0])
    check_cwd_refused_or_inside(result, "run --preserve-fds 1")
    if is_berth():
        # The init reports it as it fails to exec (after start), without the verb's prefix.
        assert result.rc != 0, "cwd through a preserved host fd was accepted"
        assert 'process.cwd: "/proc/self/fd/3" is outside the container\'s root' in result.stderr


@pytest.mark.parametrize("how", ["--cwd", "--process"])
def test_exec_cwd_through_proc_self_fd_is_refused(runtime, bundle, cid, ctx, how):
    runtime.start_sleeper(bundle, cid)
    host = HostWatch()
    for fd in range(3, 9):
        cwd = "/proc/self/fd/%d" % fd
        if how == "--cwd":
            result = runtime("exec", "--cwd", cwd, cid, PROBE_IN_CONTAINER, "info")
        else:
            process = dict(bundle.config["process"], cwd=cwd, args=[PROBE_IN_CONTAINER, "info"])
            path = os.path.join(ctx.dir, "process-%d.json" % fd)
            with open(path, "w") as f:
                json.dump(process, f)
            result = runtime("exec", "--process", path, cid)
        check_cwd_refused_or_inside(result, "exec %s %s" % (how, cwd))
    # The attack proper: from a cwd on the host, climb to its / and write there.
    marker = "berth-escape-%s" % ctx.tag
    for fd in range(3, 9):
        script = "cd %s && echo escaped > %s" % (UP, marker)
        runtime("exec", "--cwd", "/proc/self/fd/%d" % fd, cid, "/bin/sh", "-c", script)
    assert_not_created("/" + marker)
    host.check()
    runtime.destroy(cid)


def test_exec_program_through_proc_self_fd_is_refused(runtime, bundle, cid, ctx):
    """args[0] = /proc/self/fd/N/../../bin/busybox would run the host's busybox (and make its
    /proc/PID/exe the host's file, ready to be overwritten): no runtime fd may be open when the
    runtime resolves the program's path."""
    runtime.start_sleeper(bundle, cid)
    for fd in range(3, 9):
        program = "/proc/self/fd/%d/%sbin/busybox" % (fd, UP)
        result = runtime("exec", cid, program, "echo", "escaped")
        assert result.rc != 0 and "escaped" not in result.stdout, "fd %d: ran %s" % (fd, program)
    runtime.destroy(cid)


# ---------------------------------------------------------------------------------------------
# CVE-2019-16884, CVE-2023-27561, CVE-2023-28642: where /proc and /sys are, and what they are


def test_proc_and_sys_are_the_real_filesystems(runtime, bundle, cid):
    result, (proc, self_fd, sys_) = run_shell(
        runtime, bundle, cid, "for p in /proc /proc/self/fd /sys; do berth-probe statfs $p; done"
    )
    assert result.rc == 0, result.stderr
    assert proc["type"] == PROC_SUPER_MAGIC, proc
    assert self_fd["type"] == PROC_SUPER_MAGIC, self_fd
    assert sys_["type"] == SYSFS_MAGIC, sys_


@pytest.mark.parametrize(
    "link, target",
    [
        ("proc", "/tmp"),
        ("proc", "/etc"),
        ("proc", UP + "etc"),
        ("sys", "/etc"),
        ("sys", "../" * 8 + "tmp"),
    ],
    ids=["proc-tmp", "proc-etc", "proc-relative-etc", "sys-etc", "sys-relative-tmp"],
)
def test_symlinked_proc_or_sys_is_refused(runtime, bundle, cid, ctx, link, target):
    """runc followed a /proc symlink in the image and mounted procfs (or sysfs) where it led, so
    the files it later wrote to (/proc/self/attr/..., sysctls) and the masks it applied were not
    procfs's. The mount destination of proc and sysfs must not be a symlink."""
    replace_with_symlink(os.path.join(bundle.rootfs, link), target)
    container_mounts = record_container_mounts(bundle, ctx)
    host = HostWatch()
    bundle.save()
    result = runtime("run", "--bundle", bundle.path, cid)
    host.check()
    if os.path.exists(container_mounts):
        assert mounts_outside(bundle.rootfs, host.before["mounts"], container_mounts) == []
    assert result.rc != 0, "a symlinked /%s was accepted: %s" % (link, result.stdout)
    assert_error(result, cid, '"/%s"' % link, "symlink")


@pytest.mark.parametrize("kind", ["bind", "tmpfs"])
def test_fake_procfs_over_proc_is_refused(runtime, bundle, cid, ctx, kind):
    """Something that is not procfs mounted over /proc after the proc mount: the runtime must not
    take its files for procfs's (masks, sysctls, /proc/self/fd)."""
    fake = os.path.join(ctx.dir, "fakeproc")
    os.makedirs(os.path.join(fake, "sys", "kernel"))
    os.makedirs(os.path.join(fake, "self", "fd"))
    shmmax = os.path.join(fake, "sys", "kernel", "shmmax")
    with open(shmmax, "w") as f:
        f.write("fake\n")
    if kind == "bind":
        bundle.add_mount("/proc", "bind", fake, ["rbind", "rw"])
    else:
        bundle.add_mount("/proc", "tmpfs", "tmpfs", ["size=1m"])
    bundle.config["linux"]["sysctl"] = {"kernel.shmmax": "4242"}
    bundle.set_probe("statfs", "/proc").save()
    result = runtime("run", "--bundle", bundle.path, cid)
    with open(shmmax) as f:
        assert f.read() == "fake\n", "the runtime wrote a sysctl into the fake procfs"
    if is_berth():
        assert_error(result, cid, "/proc", "not procfs")
    elif result.rc == 0:
        assert json.loads(result.stdout)["type"] == PROC_SUPER_MAGIC


@pytest.mark.parametrize("how", ["file", "symlink"])
def test_sysctl_write_is_not_redirected(runtime, bundle, cid, ctx, how):
    """CVE-2025-52881: the runtime's writes to /proc must land in procfs. A host file mounted over
    a sysctl, or a symlink put in its place, must not receive the value."""
    victim_dir = os.path.join(ctx.dir, "victim")
    os.makedirs(victim_dir)
    victim = os.path.join(victim_dir, "file")
    with open(victim, "w") as f:
        f.write("untouched\n")
    if how == "file":
        bundle.add_mount("/proc/sys/kernel/shmmax", "bind", victim, ["bind", "rw"])
    else:
        # /proc/sys/kernel replaced by a directory holding shmmax -> a host file the container has.
        fake = os.path.join(ctx.dir, "fakekernel")
        os.makedirs(fake)
        os.symlink("/victim/file", os.path.join(fake, "shmmax"))
        bundle.add_mount("/victim", "bind", victim_dir, ["rbind", "rw"])
        bundle.add_mount("/proc/sys/kernel", "bind", fake, ["rbind", "rw"])
    bundle.config["linux"]["sysctl"] = {"kernel.shmmax": "4242"}
    bundle.set_probe("info").save()
    result = runtime("run", "--bundle", bundle.path, cid)
    with open(victim) as f:
        assert f.read() == "untouched\n", "a sysctl write was redirected to a host file"
    if is_berth():
        assert_error(result, cid, "kernel.shmmax", "/proc/sys/kernel", "not procfs's own")


# ---------------------------------------------------------------------------------------------
# CVE-2021-30465 and the 2025 runc CVEs: symlinks planted where the runtime mounts or writes


@pytest.mark.parametrize(
    "links, destination",
    [
        ({"hostetc": "/etc"}, "/hostetc"),
        ({"hostetc": UP + "etc"}, "/hostetc"),
        ({"a": "/c", "c": "../" * 6 + "d", "d": UP + "etc"}, "/a"),
        ({"lnk": UP + "tmp"}, "/lnk/" + UP + "etc/sub"),
        ({}, "/" + UP + "etc"),
    ],
    ids=["absolute", "relative", "chained", "symlink-and-dotdot", "dotdot"],
)
@pytest.mark.parametrize("kind", ["bind", "tmpfs"])
def test_symlinked_mount_destination_stays_in_rootfs(runtime, bundle, cid, ctx, links, destination, kind):
    marker = "berth-escape-%s" % ctx.tag
    for name, target in links.items():
        os.symlink(target, os.path.join(bundle.rootfs, name))
    if kind == "bind":
        source = os.path.join(ctx.dir, "volume")
        os.makedirs(source)
        bundle.add_mount(destination, "bind", source, ["rbind", "rw"])
    else:
        bundle.add_mount(destination, "tmpfs", "tmpfs", ["size=1m"])
    container_mounts = record_container_mounts(bundle, ctx)
    host = HostWatch()
    result, docs = run_shell(
        runtime,
        bundle,
        cid,
        "echo escaped > %s/%s; berth-probe mounts" % (destination, marker),
    )
    host.check()
    assert result.rc == 0, result.stderr
    assert mounts_outside(bundle.rootfs, host.before["mounts"], container_mounts) == []
    assert_not_created("/etc/" + marker, "/tmp/" + marker, "/etc/sub/" + marker, "/" + marker)
    if kind == "bind":
        # The write went into the volume, which the container was given.
        assert os.path.exists(os.path.join(ctx.dir, "volume", marker))


@pytest.mark.parametrize("target", ["/", UP, "/etc/" + UP])
@pytest.mark.parametrize("kind", ["bind", "tmpfs"])
def test_mount_destination_resolving_to_the_root_is_refused(runtime, bundle, cid, ctx, target, kind):
    """A destination that the image turned into a symlink to / would put the volume over the whole
    rootfs: pivot_root would then make the volume the container's root, and the options asked for
    (read-only here) end up on the hidden rootfs instead of on the volume."""
    os.symlink(target, os.path.join(bundle.rootfs, "vol"))
    source = os.path.join(ctx.dir, "volume")
    # The volume holds what the container needs to run, as an attacker would arrange.
    shutil.copytree(bundle.rootfs, source, symlinks=True)
    before = sorted(os.listdir(source))
    # Only the volume's own "ro" keeps the writes below out of it.
    bundle.set_readonly(False)
    if kind == "bind":
        bundle.add_mount("/vol", "bind", source, ["rbind", "ro"])
    else:
        bundle.add_mount("/vol", "tmpfs", "tmpfs", ["size=1m"])
    marker = "berth-escape-%s" % ctx.tag
    container_mounts = record_container_mounts(bundle, ctx)
    host = HostWatch()
    script = "echo escaped > /vol/%s; echo escaped > /%s" % (marker, marker)
    result, _ = run_shell(runtime, bundle, cid, script)
    host.check()
    if os.path.exists(container_mounts):
        assert mounts_outside(bundle.rootfs, host.before["mounts"], container_mounts) == []
    assert sorted(os.listdir(source)) == before, "the read-only volume was written to"
    if is_berth():
        assert_error(result, cid, '"/vol"', "root")


def test_planted_dev_null_and_devices_are_replaced(runtime, bundle, cid, ctx):
    """CVE-2025-31133: maskedPaths are masked by bind-mounting /dev/null over them. A /dev/null the
    image made a symlink (to /etc/passwd, or into procfs) must not be the source of those binds,
    and device nodes must not be created through symlinks."""
    # Without a tmpfs on /dev the image's own /dev is what the runtime populates.
    bundle.remove_mount("/dev")
    dev = os.path.join(bundle.rootfs, "dev")
    os.symlink("/etc/passwd", os.path.join(dev, "null"))
    os.symlink("/proc/sys/kernel/hostname", os.path.join(dev, "zero"))
    os.symlink(UP + "etc/group", os.path.join(dev, "full"))
    os.symlink("/etc", os.path.join(dev, "tty"))
    rootfs_files = {p: sha256(os.path.join(bundle.rootfs, p)) for p in ("etc/passwd", "etc/group")}
    host = HostWatch()
    bundle.config["linux"]["maskedPaths"] += ["/etc/hostname", "/masked-link", "/masked-relative"]
    os.symlink("/etc/passwd", os.path.join(bundle.rootfs, "masked-link"))
    os.symlink(UP + "etc/group", os.path.join(bundle.rootfs, "masked-relative"))
    result, docs = run_shell(
        runtime,
        bundle,
        cid,
        "echo x > /dev/null; echo x > /dev/zero; echo x > /dev/full; "
        "berth-probe stat /dev/null; berth-probe stat /dev/zero; berth-probe stat /dev/tty; "
        "berth-probe cat /etc/hostname; berth-probe cat /proc/kcore; berth-probe cat /etc/passwd; "
        "berth-probe cat /etc/group",
    )
    host.check()
    assert result.rc == 0, result.stderr
    null, zero, tty, hostname, kcore, passwd, group = docs
    assert (null["type"], null["rdev"]) == ("char", os.makedev(1, 3)), null
    assert (zero["type"], zero["rdev"]) == ("char", os.makedev(1, 5)), zero
    assert (tty["type"], tty["rdev"]) == ("char", os.makedev(5, 0)), tty
    # The masks are /dev/null: empty, and nothing of what the planted links pointed at.
    assert hostname["ok"] and hostname["size"] == 0, hostname
    assert kcore["ok"] is False or kcore["size"] == 0, kcore
    # Masked paths that are symlinks are not followed: what they point at stays readable.
    assert "root:x:0:0" in passwd["data"] and "root:x:0:" in group["data"]
    for rel, digest in rootfs_files.items():
        assert sha256(os.path.join(bundle.rootfs, rel)) == digest, rel
    for name in ("null", "zero", "full", "tty"):
        assert stat.S_ISCHR(os.lstat(os.path.join(dev, name)).st_mode), name


def test_planted_dev_console_is_not_followed(runtime, bundle, cid, ctx):
    """CVE-2025-52565: the pty is bind-mounted onto /dev/console; a /dev/console the image made a
    symlink must not carry that mount elsewhere (here over /etc/passwd)."""
    bundle.remove_mount("/dev")
    os.symlink("/etc/passwd", os.path.join(bundle.rootfs, "dev", "console"))
    passwd = sha256(os.path.join(bundle.rootfs, "etc", "passwd"))
    host = HostWatch()
    bundle.set_terminal(True)
    script = "berth-probe stat /dev/console && berth-probe stat /etc/passwd && berth-probe mounts"
    result, _ = run_shell(runtime, bundle, cid, script)
    host.check()
    assert result.rc == 0, result.stderr
    # Through a pty every line ends in \r\n; the documents are one per line.
    console, etc_passwd, mounts = [json.loads(line) for line in result.stdout.replace("\r", "").splitlines()]
    assert etc_passwd["type"] == "file" and etc_passwd["rdev"] == 0, etc_passwd
    assert console["type"] == "char", console
    points = {mount_point_of(line) for line in mounts}
    assert "/etc/passwd" not in points and "/dev/console" in points, points
    assert sha256(os.path.join(bundle.rootfs, "etc", "passwd")) == passwd


# ---------------------------------------------------------------------------------------------
# CVE-2019-5736: the runtime binary overwritten through /proc/PID/exe


class Snooper:
    """A container whose process is `berth-probe snoop`: it grabs /proc/PID/exe (O_PATH) of every
    process it may and, once nothing runs that file any more, reopens it for writing and overwrites
    it; it records the fds of other processes it can see too. With ptrace, the container has
    CAP_SYS_PTRACE, which opens even non-dumpable processes to it.

    It is created and started without a runtime process staying behind: while one ran the binary,
    the binary could not be opened for writing (ETXTBSY) and the attack would not be tried."""

    def __init__(self, rt, bundle, cid, ctx, ptrace=False):
        self.rt, self.bundle, self.cid = rt, bundle, cid
        self.digest = sha256(rt.binary)
        self.overwritten = False
        if ptrace:
            for s in ("bounding", "effective", "permitted"):
                bundle.config["process"]["capabilities"][s].append("CAP_SYS_PTRACE")
        self.dir = os.path.join(ctx.dir, "snoop-" + cid)
        os.makedirs(self.dir)
        bundle.add_mount("/snoop", "bind", self.dir, ["rbind", "rw"])
        timeout = int(WAIT_TIMEOUT * 3)
        bundle.set_args("/bin/sh", "-c", "exec berth-probe snoop /snoop %d > /snoop/report.json" % timeout)
        self.pid = rt.create(bundle, cid)
        rt.ok("start", cid)

    def wait_grabbed(self):
        """Waits until the snooper holds some other process's executable."""
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "grabbed")), what="the snooper to grab an exe")

    def stop(self):
        """Ends the snooper (it makes a last attempt at writing first) and returns its report.

        Watches the process from the host rather than asking the runtime, whose binary the
        snooper may just have overwritten; delete() removes the container afterwards."""
        with open(os.path.join(self.dir, "stop"), "w") as f:
            f.write("stop\n")
        wait_for(lambda: pid_gone(self.pid), timeout=WAIT_TIMEOUT * 4, what="the snooper to end")
        self.overwritten = sha256(self.rt.binary) != self.digest
        if self.overwritten:
            shutil.copy2(RUNTIME, self.rt.binary)  # the cleanup after a failed test needs a runtime
        with open(os.path.join(self.dir, "report.json")) as f:
            return json.load(f)

    def delete(self):
        self.rt.ok("delete", "--force", self.cid)


def check_binary_untouched(snooper):
    report = snooper.stop()
    assert not snooper.overwritten, "the runtime binary was overwritten from inside a container: %r" % report
    assert report["written"] == [], report
    snooper.delete()


def add_libraries_of(binary, rootfs):
    """Copies the shared libraries and the loader that binary needs into rootfs, at the same paths:
    an ordinary distribution image has them, and without them the runtime could not run inside."""
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True)
    for line in ldd.stdout.splitlines() if ldd.returncode == 0 else ():
        paths = [w for w in line.split() if w.startswith("/")]
        for path in paths[:1]:
            dest = os.path.join(rootfs, path.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if not os.path.lexists(dest):
                shutil.copy(path, dest)


def blocked_runtime_args(fifo):
    """The runtime as a container's program, via /proc/self/exe, held open: --log names a fifo
    nobody reads yet, so it blocks opening it until the test lets it go."""
    return ["/proc/self/exe", "--log", fifo, "list"]


def release_fifo(path, done):
    """Opens the fifo for reading and closes it until done(): a writer blocked opening it goes on.
    Once is not enough: the snooper may grab the runtime before the runtime reaches its open() of
    the fifo, and a reader that came and went before that open releases nobody."""
    deadline = time.monotonic() + WAIT_TIMEOUT
    while not done() and time.monotonic() < deadline:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        os.close(fd)
        time.sleep(0.02)


@pytest.mark.parametrize("how", ["args", "--process"])
def test_exec_of_proc_self_exe_cannot_overwrite_the_runtime(runtime_copy, bundle, cid, ctx, how):
    """The container has `exec` run /proc/self/exe, the runtime itself, as its program (the
    CVE-2019-5736 entry point), grabs it while it runs and overwrites it after. Only a runtime that
    entered the container from a sealed copy of itself is safe: that copy is what gets grabbed."""
    add_libraries_of(runtime_copy.binary, bundle.rootfs)
    snooper = Snooper(runtime_copy, bundle, cid, ctx)
    fifo = os.path.join(bundle.rootfs, "tmp", "log-fifo")
    os.mkfifo(fifo)
    args = blocked_runtime_args("/tmp/log-fifo")
    if how == "args":
        handle = runtime_copy.popen("exec", cid, *args)
    else:
        process_file = os.path.join(ctx.dir, "process.json")
        with open(process_file, "w") as f:
            json.dump(dict(bundle.config["process"], args=args), f)
        handle = runtime_copy.popen("exec", "--process", process_file, cid)
    snooper.wait_grabbed()
    release_fifo(fifo, lambda: handle.proc.poll() is not None)
    handle.wait()
    check_binary_untouched(snooper)


def test_proc_self_exe_entrypoint_in_a_shared_pid_namespace_cannot_overwrite_the_runtime(
    runtime_copy, make_bundle, ctx
):
    """A second container joins the first one's pid namespace with /proc/self/exe as its
    entrypoint; the first container sees it run, grabs it, and overwrites it after."""
    first, first_id = make_bundle(), ctx.new_id()
    snooper = Snooper(runtime_copy, first, first_id, ctx)
    second, second_id = make_bundle(), ctx.new_id()
    add_libraries_of(runtime_copy.binary, second.rootfs)
    fifo = os.path.join(second.rootfs, "tmp", "log-fifo")
    os.mkfifo(fifo)
    second.set_args(*blocked_runtime_args("/tmp/log-fifo"))
    second.add_namespace("pid", "/proc/%d/ns/pid" % snooper.pid)
    second_pid = runtime_copy.create(second, second_id)
    runtime_copy.ok("start", second_id)
    snooper.wait_grabbed()
    release_fifo(fifo, lambda: pid_gone(second_pid))
    wait_for(lambda: pid_gone(second_pid), what="the second container to end")
    check_binary_untouched(snooper)
    runtime_copy.ok("delete", second_id)


@pytest.mark.parametrize("ptrace", [False, True], ids=["default-caps", "CAP_SYS_PTRACE"])
def test_exec_helpers_cannot_overwrite_the_runtime(runtime_copy, bundle, cid, ctx, ptrace):
    """The runtime's own exec helper is in the container from the moment it forks into its pid
    namespace until it execs the user's program. Non-dumpable, it is out of reach of a default
    container; with CAP_SYS_PTRACE it is not, and only the sealed copy saves the binary."""
    snooper = Snooper(runtime_copy, bundle, cid, ctx, ptrace)
    for _ in range(20):
        runtime_copy("exec", cid, "/bin/true")
    check_binary_untouched(snooper)


# ---------------------------------------------------------------------------------------------
# CVE-2016-9962: the init and the exec helpers before they exec


def test_created_init_is_out_of_reach(runtime, bundle, cid):
    """Before start, the init is the runtime (with its privileges and its fds). A process exec'd
    into the created container must not read its fds, environment or memory, nor ptrace it."""
    pid = runtime.create(bundle.set_probe("sleep", "60"), cid)
    assert runtime.status(cid) == "created"
    result = runtime("exec", cid, PROBE_IN_CONTAINER, "peek", "1")
    assert result.rc == 0, result.stderr
    peek = json.loads(result.stdout)
    for what in ("fd", "environ", "mem", "ptrace", "exe", "cwd", "root"):
        assert peek[what]["ok"] is False, "%s of the created init: %r" % (what, peek)
    assert runtime.status(cid) == "created"
    assert os.path.exists("/proc/%d" % pid)
    runtime.destroy(cid)


@pytest.mark.parametrize(
    "ptrace", [False, True], ids=["default-caps", "CAP_SYS_PTRACE"]
)
def test_exec_helpers_fds_are_out_of_reach(runtime_copy, bundle, cid, ctx, ptrace):
    """While `exec` sets a process up inside the container it is visible there; none of the
    runtime's fds (its --root and state directories) may be open in it by then, or a container
    allowed to look (CAP_SYS_PTRACE) opens /proc/PID/fd/N and is on the host."""
    snooper = Snooper(runtime_copy, bundle, cid, ctx, ptrace)
    for _ in range(30):
        runtime_copy("exec", cid, "/bin/true")
    report = snooper.stop()
    snooper.delete()
    leaked = [f for f in report["fds"] if f["target"].startswith("/") and not f["target"].startswith("/dev/")]
    assert leaked == [], "fds of runtime processes seen from inside: %r" % report["fds"]
    if not ptrace:
        assert report["fds"] == [], report


# ---------------------------------------------------------------------------------------------
# CVE-2022-29162 and the capability sets


@pytest.mark.parametrize("verb", ["run", "exec"])
def test_inheritable_and_ambient_are_empty_unless_asked(runtime, bundle, cid, verb):
    if verb == "run":
        info = runtime.run_probe(bundle, cid, "info")
    else:
        runtime.start_sleeper(bundle, cid)
        info = json.loads(runtime.ok("exec", cid, PROBE_IN_CONTAINER, "info").stdout)
        runtime.destroy(cid)
    assert int(info["cap_inh"], 16) == 0, info
    assert int(info["cap_amb"], 16) == 0, info
    for field in ("cap_bnd", "cap_eff", "cap_prm"):
        assert int(info[field], 16) == DEFAULT_CAPS, (field, info)


def test_exec_cap_is_not_made_inheritable(runtime, bundle, cid):
    runtime.start_sleeper(bundle, cid)
    info = json.loads(runtime.ok("exec", "--cap", "CAP_NET_RAW", cid, PROBE_IN_CONTAINER, "info").stdout)
    runtime.destroy(cid)
    for field in ("cap_bnd", "cap_eff", "cap_prm"):
        assert int(info[field], 16) == DEFAULT_CAPS | mask(CAP_NET_RAW), (field, info)
    assert int(info["cap_inh"], 16) == 0, info
    assert int(info["cap_amb"], 16) == 0, info


@pytest.mark.parametrize("uid", [0, 1000])
def test_all_five_capability_sets_as_configured(runtime, bundle, cid, uid):
    caps = caps_of(CAP_KILL, CAP_NET_BIND_SERVICE, CAP_NET_RAW)
    bundle.config["process"]["capabilities"] = {
        "bounding": caps + caps_of(CAP_AUDIT_WRITE),
        "effective": caps,
        "permitted": caps,
        "inheritable": caps,
        "ambient": caps,
    }
    bundle.set_user(uid, uid)
    info = runtime.run_probe(bundle, cid, "info")
    expected = mask(CAP_KILL, CAP_NET_BIND_SERVICE, CAP_NET_RAW)
    assert int(info["cap_bnd"], 16) == expected | mask(CAP_AUDIT_WRITE), info
    # For uid 1000 the effective and permitted sets survive only because the capabilities are
    # ambient: without the ambient set they would be empty after execve.
    for field in ("cap_eff", "cap_prm", "cap_inh", "cap_amb"):
        assert int(info[field], 16) == expected, (field, info)


@pytest.mark.parametrize("capset", ["bounding", "effective", "inheritable", "permitted", "ambient"])
def test_unknown_capability_is_refused_with_its_name(runtime, bundle, cid, capset):
    bundle.config["process"]["capabilities"].setdefault(capset, []).append("CAP_BERTH_BOGUS")
    bundle.save()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert_error(result, cid, "CAP_BERTH_BOGUS", capset)


def test_exec_unknown_capability_is_refused_with_its_name(runtime, bundle, cid):
    runtime.start_sleeper(bundle, cid)
    result = runtime("exec", "--cap", "CAP_BERTH_BOGUS", cid, PROBE_IN_CONTAINER, "info")
    assert_error(result, cid, "CAP_BERTH_BOGUS")
    runtime.destroy(cid)


def test_rlimit_above_the_hosts_hard_limit_is_a_clear_error(runtime, bundle, cid):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    above = hard + 1
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": above, "soft": above}]
    bundle.set_probe("cat", "/proc/self/limits").save()
    result = runtime("run", "--bundle", bundle.path, cid)
    if own_capabilities() & (1 << CAP_SYS_RESOURCE):
        # Allowed to raise it: then the container gets it.
        assert result.rc == 0, result.stderr
        limits = json.loads(result.stdout)["data"]
        assert "Max open files            %d                 %d" % (above, above) in limits
        return
    assert_error(result, cid, "rlimits[0]", str(above), "own hard limit %d" % hard, "CAP_SYS_RESOURCE")


def test_negative_oom_score_adj_is_a_clear_error(runtime, bundle, cid):
    with open("/proc/self/oom_score_adj") as f:
        current = int(f.read())
    if current <= -1000:
        pytest.skip("oom_score_adj is already -1000 here: nothing lower to ask for")
    wanted = max(-1000, min(current, 0) - 500)
    bundle.config["process"]["oomScoreAdj"] = wanted
    bundle.set_probe("cat", "/proc/self/oom_score_adj").save()
    result = runtime("run", "--bundle", bundle.path, cid)
    if own_capabilities() & (1 << CAP_SYS_RESOURCE):
        assert result.rc == 0, result.stderr
        assert json.loads(result.stdout)["data"].strip() == str(wanted)
        return
    assert_error(result, cid, "oomScoreAdj", str(wanted), "CAP_SYS_RESOURCE")
