# SPDX-License-Identifier: LGPL-2.1-or-later
"""Parts of config.json and of the create/run flags that change what a container sees: --no-pivot,
--preserve-fds, a read-only root, mounts and their options, devices, sysctls, time offsets,
namespaces joined by path; and how `run`, a crowd of `create`s and --log behave.

Each is checked from inside the container with berth-probe, or from the host."""

import errno
import json
import os
import re
import signal
import stat
import subprocess
import threading
import time

import pytest

from conftest import (
    PROBE_IN_CONTAINER,
    Bundle,
    assert_error,
    is_berth,
    mount_point_of,
    proc_state,
    wait_for,
    wait_signal_caught,
)


def host_mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read().splitlines()


def parse_mountinfo(lines):
    """mountinfo lines as dicts: point, root, opts (per mount, a set), fstype, source, super (a set)."""
    mounts = []
    for line in lines:
        left, right = line.split(" - ", 1)
        fields = left.split()
        fstype, source, super_opts = (right.split() + [""])[:3]
        mounts.append(
            {
                "point": mount_point_of(line),
                "root": fields[3],
                "opts": set(fields[5].split(",")),
                "fstype": fstype,
                "source": source,
                "super": set(super_opts.split(",")),
            }
        )
    return mounts


def mount_at(mounts, point):
    """The mount on top at point (the last one listed there)."""
    found = [m for m in mounts if m["point"] == point]
    assert found, "nothing mounted at %s; mounts: %s" % (point, sorted(m["point"] for m in mounts))
    return found[-1]


def run_shell(runtime, bundle, cid, script, *flags, expect_rc=0):
    """`run`s /bin/sh -c script (busybox) and returns the JSON documents its probes printed."""
    bundle.set_args("/bin/sh", "-c", script).save()
    result = runtime("run", *flags, "--bundle", bundle.path, cid)
    assert result.rc == expect_rc, "run %s: rc %d: %s%s" % (cid, result.rc, result.stderr, result.stdout)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def pid_gone(pid):
    return proc_state(pid) in (None, "Z", "X")


# ---------------------------------------------------------------------------------------------
# create/run flags


def test_no_pivot_rootfs_is_root(runtime, bundle, cid):
    marker = "no-pivot-marker"
    with open(os.path.join(bundle.rootfs, marker), "w") as f:
        f.write("here\n")
    before = host_mountinfo()
    ls_root, ls_parent, stat_root, stat_parent, info, mounts = run_shell(
        runtime,
        bundle,
        cid,
        "berth-probe ls / && berth-probe ls /.. && berth-probe stat / && berth-probe stat /.. "
        "&& berth-probe info && berth-probe mounts",
        "--no-pivot",
    )
    assert host_mountinfo() == before
    assert marker in ls_root["entries"] and "usr" in ls_root["entries"]
    # Nothing of the host above the rootfs: / is its own parent, and the bundle is not in sight.
    assert ls_parent["entries"] == ls_root["entries"]
    assert (stat_parent["dev"], stat_parent["ino"]) == (stat_root["dev"], stat_root["ino"])
    assert os.path.basename(bundle.path) not in ls_root["entries"]
    st = os.stat(bundle.rootfs)
    assert stat_root["ino"] == st.st_ino
    assert info["cwd"] == "/"
    assert "/" in {mount_point_of(line) for line in mounts}


@pytest.mark.parametrize("preserve", [2, 0])
def test_preserve_fds_passes_exactly_those(runtime, bundle, cid, ctx, preserve):
    """--preserve-fds N hands the caller's fds 3..3+N-1 to the process, and no other fd gets through
    (a leaked fd to a host directory is how CVE-2024-21626 escaped)."""
    paths = [os.path.join(ctx.dir, name) for name in ("first", "second")]
    for path, data in zip(paths, ("first-file", "second-file")):
        with open(path, "w") as f:
            f.write(data)
    files = [open(path, "rb") for path in paths]
    # A third fd the runtime gets but is not asked to pass on, and one to a host directory.
    extra = [open(paths[0], "rb"), os.open(ctx.dir, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        bundle.set_probe("fds").save()
        fds = [f.fileno() for f in files] + [extra[0].fileno(), extra[1]]
        args = ["run", "--bundle", bundle.path]
        if preserve:
            args += ["--preserve-fds", str(preserve)]
        result = runtime(*args, cid, fds=fds)
    finally:
        for f in files + extra[:1]:
            f.close()
        os.close(extra[1])
    assert result.rc == 0, result.stderr
    seen = {entry["fd"]: entry for entry in json.loads(result.stdout)}
    assert sorted(seen) == list(range(3 + preserve)), seen
    for i in range(preserve):
        entry = seen[3 + i]
        assert entry["type"] == "file"
        assert entry["data"] == ("first-file", "second-file")[i]


def test_exec_preserve_fds(runtime, bundle, cid, ctx):
    runtime.start_sleeper(bundle, cid)
    path = os.path.join(ctx.dir, "passed")
    with open(path, "w") as f:
        f.write("passed-to-exec")
    with open(path, "rb") as passed, open(path, "rb") as not_passed:
        fds = [passed.fileno(), not_passed.fileno()]
        result = runtime("exec", "--preserve-fds", "1", cid, PROBE_IN_CONTAINER, "fds", fds=fds)
    assert result.rc == 0, result.stderr
    seen = {entry["fd"]: entry for entry in json.loads(result.stdout)}
    assert sorted(seen) == [0, 1, 2, 3], seen
    assert seen[3]["data"] == "passed-to-exec"
    runtime.destroy(cid)


def test_relative_pid_file_is_relative_to_the_callers_directory(runtime, bundle, cid, ctx):
    workdir = os.path.join(ctx.dir, "work")
    os.mkdir(workdir)
    bundle.set_probe("sleep", "60").save()
    result = runtime("create", "--bundle", bundle.path, "--pid-file", "init.pid", cid, cwd=workdir)
    try:
        assert result.rc == 0, result.stderr
        assert not os.path.exists(os.path.join(bundle.path, "init.pid"))
        with open(os.path.join(workdir, "init.pid")) as f:
            assert int(f.read()) == runtime.state(cid)["pid"]
    finally:
        runtime.destroy(cid)


def test_readonly_root_with_writable_tmpfs(runtime, bundle, cid):
    bundle.set_readonly(True).add_mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "size=1m"])
    root_write, etc_write, tmp_write, tmp_read = run_shell(
        runtime,
        bundle,
        cid,
        "berth-probe write /newfile x; berth-probe write /etc/hostname x; "
        "berth-probe write /tmp/ok written && berth-probe cat /tmp/ok",
    )
    assert (root_write["ok"], root_write["errno"]) == (False, errno.EROFS), root_write
    assert (etc_write["ok"], etc_write["errno"]) == (False, errno.EROFS), etc_write
    assert tmp_write["ok"] is True
    assert tmp_read["data"] == "written"
    # The read-only root is the container's view only: the rootfs directory itself stays writable.
    assert not os.path.exists(os.path.join(bundle.rootfs, "newfile"))
    with open(os.path.join(bundle.rootfs, "etc", "hostname")) as f:
        assert f.read() == "berth-rootfs\n"


def test_writable_root(runtime, bundle, cid):
    bundle.set_readonly(False)
    (result,) = run_shell(runtime, bundle, cid, "berth-probe write /newfile data")
    assert result["ok"] is True
    with open(os.path.join(bundle.rootfs, "newfile")) as f:
        assert f.read() == "data"


# ---------------------------------------------------------------------------------------------
# mounts


def test_bind_mount_readonly_dir(runtime, bundle, cid, ctx):
    host_dir = os.path.join(ctx.dir, "shared")
    os.makedirs(os.path.join(host_dir, "sub"))
    with open(os.path.join(host_dir, "sub", "file"), "w") as f:
        f.write("from the host")
    bundle.add_mount("/data", "bind", host_dir, ["rbind", "ro"])
    listing, read, write, write_sub, mounts = run_shell(
        runtime,
        bundle,
        cid,
        "berth-probe ls /data; berth-probe cat /data/sub/file; berth-probe write /data/new x; "
        "berth-probe write /data/sub/file changed; berth-probe mounts",
    )
    assert listing["entries"] == ["sub"]
    assert read["data"] == "from the host"
    for w in (write, write_sub):
        assert (w["ok"], w["errno"]) == (False, errno.EROFS), w
    assert "ro" in mount_at(parse_mountinfo(mounts), "/data")["opts"]
    assert sorted(os.listdir(host_dir)) == ["sub"]
    with open(os.path.join(host_dir, "sub", "file")) as f:
        assert f.read() == "from the host"


def test_bind_mount_recursive_readonly_and_flags(runtime, bundle, cid, ctx):
    """"ro" on an rbind makes its top mount read-only and leaves submounts as they are (runc's
    behaviour); "rro" makes the whole tree read-only; nosuid/nodev/noexec show on the bind."""
    source = os.path.join(ctx.dir, "tree")
    sub = os.path.join(source, "sub")
    os.makedirs(sub)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", sub], check=True)
    try:
        bundle.add_mount("/ro", "bind", source, ["rbind", "ro"])
        bundle.add_mount("/rro", "bind", source, ["rbind", "rro"])
        bundle.add_mount("/flags", "bind", source, ["rbind", "nosuid", "nodev", "noexec"])
        ro_top, ro_sub, rro_top, rro_sub, mounts = run_shell(
            runtime,
            bundle,
            cid,
            "berth-probe write /ro/x 1; berth-probe write /ro/sub/x 1; "
            "berth-probe write /rro/x 1; berth-probe write /rro/sub/y 1; berth-probe mounts",
        )
    finally:
        subprocess.run(["umount", "-l", sub], check=True)
    for w in (ro_top, rro_top, rro_sub):
        assert (w["ok"], w["errno"]) == (False, errno.EROFS), w
    assert ro_sub["ok"] is True
    table = parse_mountinfo(mounts)
    assert "ro" in mount_at(table, "/rro/sub")["opts"]
    assert "rw" in mount_at(table, "/ro/sub")["opts"]
    assert {"nosuid", "nodev", "noexec", "rw"} <= mount_at(table, "/flags")["opts"]


def test_bind_mount_writable_dir_writes_through(runtime, bundle, cid, ctx):
    host_dir = os.path.join(ctx.dir, "shared")
    os.mkdir(host_dir)
    bundle.add_mount("/data", "bind", host_dir, ["rbind", "rw"])
    (write,) = run_shell(runtime, bundle, cid, "berth-probe write /data/new from-inside")
    assert write["ok"] is True
    with open(os.path.join(host_dir, "new")) as f:
        assert f.read() == "from-inside"


def test_bind_mount_single_file(runtime, bundle, cid, ctx):
    host_file = os.path.join(ctx.dir, "resolv.conf")
    with open(host_file, "w") as f:
        f.write("nameserver 192.0.2.1\n")
    # Onto a file the rootfs lacks (created) and onto one it has (covered).
    bundle.add_mount("/etc/resolv.conf", "bind", host_file, ["bind", "ro"])
    bundle.add_mount("/etc/hostname", "bind", host_file, ["bind", "ro"])
    new, covered, stat_new, mounts = run_shell(
        runtime,
        bundle,
        cid,
        "berth-probe cat /etc/resolv.conf; berth-probe cat /etc/hostname; "
        "berth-probe stat /etc/resolv.conf; berth-probe mounts",
    )
    assert new["data"] == covered["data"] == "nameserver 192.0.2.1\n"
    assert stat_new["type"] == "file"
    assert stat_new["ino"] == os.stat(host_file).st_ino
    points = {m["point"] for m in parse_mountinfo(mounts)}
    assert {"/etc/resolv.conf", "/etc/hostname"} <= points
    with open(os.path.join(bundle.rootfs, "etc", "hostname")) as f:
        assert f.read() == "berth-rootfs\n"


def test_tmpfs_options_in_mount_table(runtime, bundle, cid):
    bundle.add_mount("/scratch", "tmpfs", "tmpfs", ["nosuid", "nodev", "noexec", "size=1m", "mode=700"])
    mounts, scratch = run_shell(runtime, bundle, cid, "berth-probe mounts; berth-probe stat /scratch")
    m = mount_at(parse_mountinfo(mounts), "/scratch")
    assert m["fstype"] == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= m["opts"], m
    assert {"size=1024k", "mode=700"} <= m["super"], m
    assert scratch["mode"] == "0700" and scratch["type"] == "directory"


def test_mount_through_absolute_symlink_stays_in_rootfs(runtime, bundle, cid, ctx):
    """A symlink in the image pointing at an absolute path is resolved inside the rootfs: the mount
    lands on rootfs/etc, never on the host's /etc (the classic symlink-exchange breakout)."""
    marker = "berth-marker-%s" % ctx.tag
    host_dir = os.path.join(ctx.dir, "payload")
    os.mkdir(host_dir)
    with open(os.path.join(host_dir, marker), "w") as f:
        f.write("payload")
    os.symlink("/etc", os.path.join(bundle.rootfs, "hostetc"))
    bundle.add_mount("/hostetc", "bind", host_dir, ["rbind", "rw"])
    before = host_mountinfo()
    via_etc, via_link, passwd, write, mounts = run_shell(
        runtime,
        bundle,
        cid,
        "berth-probe stat /etc/%s; berth-probe stat /hostetc/%s; berth-probe stat /etc/passwd; "
        "berth-probe write /etc/written x; berth-probe mounts" % (marker, marker),
    )
    # Inside, the rootfs's /etc is covered by the bind: the marker shows and /etc/passwd is gone.
    assert via_etc["ok"] and via_link["ok"]
    assert passwd["ok"] is False
    assert write["ok"] is True
    assert "/etc" in {m["point"] for m in parse_mountinfo(mounts)}
    # The host's /etc and mount table are as they were; the write went to the bind source.
    assert host_mountinfo() == before
    assert not os.path.exists(os.path.join("/etc", marker))
    assert not os.path.exists("/etc/written")
    assert os.path.exists(os.path.join(host_dir, "written"))
    assert os.path.islink(os.path.join(bundle.rootfs, "hostetc"))
    assert os.path.exists(os.path.join(bundle.rootfs, "etc", "passwd"))


@pytest.mark.parametrize("kind", ["tmpfs", "bind"])
def test_mount_destination_with_dotdot_stays_in_rootfs(runtime, bundle, cid, ctx, kind):
    escape = "berth-escape-%s" % ctx.tag
    # Enough ".." to reach the host's / from the rootfs, were they followed outside it.
    destination = "/" + "../" * (bundle.rootfs.count("/") + 2) + escape + "/x"
    if kind == "tmpfs":
        bundle.add_mount(destination, "tmpfs", "tmpfs", ["size=1m"])
    else:
        source = os.path.join(ctx.dir, "src")
        os.mkdir(source)
        bundle.add_mount(destination, "bind", source, ["rbind"])
    mounts, target = run_shell(runtime, bundle, cid, "berth-probe mounts; berth-probe stat /%s/x" % escape)
    assert target["ok"] and target["type"] == "directory"
    assert "/%s/x" % escape in {m["point"] for m in parse_mountinfo(mounts)}
    assert os.path.isdir(os.path.join(bundle.rootfs, escape, "x"))
    for outside in ("/" + escape, os.path.join(os.path.dirname(bundle.rootfs), escape)):
        assert not os.path.exists(outside), outside


# ---------------------------------------------------------------------------------------------
# devices and sysctls


def test_devices_created_with_mode_and_owner(runtime, bundle, cid):
    bundle.config["linux"]["devices"] = [
        {
            "path": "/dev/mynull",
            "type": "c",
            "major": 1,
            "minor": 3,
            "fileMode": 0o640,
            "uid": 1234,
            "gid": 5678,
        },
        {"path": "/dev/berth/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o600},
        {"path": "/dev/myfifo", "type": "p", "fileMode": 0o620, "uid": 7, "gid": 8},
    ]
    mynull, zero, fifo, default_null = run_shell(
        runtime,
        bundle,
        cid,
        "berth-probe stat /dev/mynull; berth-probe stat /dev/berth/zero; berth-probe stat /dev/myfifo; "
        "berth-probe stat /dev/null",
    )
    assert (mynull["type"], mynull["mode"], mynull["uid"], mynull["gid"]) == ("char", "0640", 1234, 5678)
    assert mynull["rdev"] == os.makedev(1, 3)
    assert (zero["type"], zero["mode"], zero["rdev"]) == ("char", "0600", os.makedev(1, 5))
    assert (zero["uid"], zero["gid"]) == (0, 0)
    assert (fifo["type"], fifo["mode"], fifo["uid"], fifo["gid"]) == ("fifo", "0620", 7, 8)
    # The default devices are still there.
    assert (default_null["type"], default_null["rdev"]) == ("char", os.makedev(1, 3))


def test_device_path_with_dotdot_stays_in_rootfs(runtime, bundle, cid, ctx):
    name = "berth-dev-%s" % ctx.tag
    up = "../" * (bundle.rootfs.count("/") + 2)
    bundle.config["linux"]["devices"] = [{"path": "/dev/" + up + name, "type": "c", "major": 1, "minor": 3}]
    (inside,) = run_shell(runtime, bundle, cid, "berth-probe stat /" + name)
    assert inside["ok"] and inside["type"] == "char"
    assert stat.S_ISCHR(os.lstat(os.path.join(bundle.rootfs, name)).st_mode)
    for outside in ("/" + name, "/dev/" + name, os.path.join(os.path.dirname(bundle.rootfs), name)):
        assert not os.path.lexists(outside), outside


def read_host(path):
    with open(path) as f:
        return f.read().strip()


def test_sysctl_in_ipc_namespace(runtime, bundle, cid):
    host_before = read_host("/proc/sys/kernel/shmmax")
    value = "123456789" if host_before != "123456789" else "987654321"
    bundle.config["linux"]["sysctl"] = {"kernel.shmmax": value, "kernel/msgmax": "12345"}
    shmmax, msgmax = run_shell(
        runtime,
        bundle,
        cid,
        "berth-probe cat /proc/sys/kernel/shmmax; berth-probe cat /proc/sys/kernel/msgmax",
    )
    assert shmmax["data"].strip() == value
    assert msgmax["data"].strip() == "12345"
    assert read_host("/proc/sys/kernel/shmmax") == host_before


def test_sysctl_in_network_namespace(runtime, bundle, cid):
    host_before = read_host("/proc/sys/net/ipv4/ip_forward")
    # The opposite of the host's: a new network namespace starts with a copy of the host's value.
    value = "0" if host_before == "1" else "1"
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": value}
    (inside,) = run_shell(runtime, bundle, cid, "berth-probe cat /proc/sys/net/ipv4/ip_forward")
    assert inside["data"].strip() == value
    assert read_host("/proc/sys/net/ipv4/ip_forward") == host_before


def test_sysctl_of_a_shared_namespace_is_refused(runtime, bundle, cid, ctx):
    bundle.remove_namespace("network")
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.save()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert_error(result, "net.ipv4.ip_forward", "network namespace")


# ---------------------------------------------------------------------------------------------
# namespaces


DAY = 86400


def test_time_namespace_offsets(runtime, bundle, cid):
    if not os.path.exists("/proc/self/ns/time"):
        from conftest import skip_or_fail

        skip_or_fail("the kernel has no time namespaces")
    bundle.add_namespace("time")
    bundle.config["linux"]["timeOffsets"] = {
        "boottime": {"secs": 2 * DAY, "nanosecs": 0},
        "monotonic": {"secs": 3 * DAY},
    }
    before = {
        "monotonic": time.clock_gettime(time.CLOCK_MONOTONIC),
        "boottime": time.clock_gettime(time.CLOCK_BOOTTIME),
        "uptime": float(read_host("/proc/uptime").split()[0]),
    }
    clocks, uptime, info = run_shell(
        runtime, bundle, cid, "berth-probe clocks; berth-probe cat /proc/uptime; berth-probe info"
    )
    after = {
        "monotonic": time.clock_gettime(time.CLOCK_MONOTONIC),
        "boottime": time.clock_gettime(time.CLOCK_BOOTTIME),
        "uptime": float(read_host("/proc/uptime").split()[0]),
    }
    inside = {
        "monotonic": clocks["monotonic"],
        "boottime": clocks["boottime"],
        "uptime": float(uptime["data"].split()[0]),
    }
    offsets = {"monotonic": 3 * DAY, "boottime": 2 * DAY, "uptime": 2 * DAY}
    for clock, offset in offsets.items():
        # Whole seconds inside; between the host's readings before and after, shifted.
        assert int(before[clock]) + offset - 1 <= inside[clock] <= after[clock] + offset + 1, (clock, inside)
    assert inside["uptime"] > DAY
    assert info["ns"]["time"] != os.readlink("/proc/self/ns/time")


def test_join_namespaces_of_another_container(runtime, make_bundle, ctx):
    """The pod pattern: a second container joins the first one's network, uts and ipc namespaces
    by path (/proc/PID/ns/...), and sees its hostname and interfaces."""
    first, first_id = make_bundle().set_hostname("pod-infra"), ctx.new_id()
    pid = runtime.start_sleeper(first, first_id)
    second = make_bundle().set_hostname(None)
    for ns_type, proc_name in (("network", "net"), ("uts", "uts"), ("ipc", "ipc")):
        second.add_namespace(ns_type, "/proc/%d/ns/%s" % (pid, proc_name))
    info = runtime.run_probe(second, ctx.new_id(), "info")
    for proc_name in ("net", "uts", "ipc"):
        assert info["ns"][proc_name] == os.readlink("/proc/%d/ns/%s" % (pid, proc_name)), proc_name
        assert info["ns"][proc_name] != os.readlink("/proc/self/ns/" + proc_name), proc_name
    # The namespaces not named by path are the second container's own.
    for proc_name in ("pid", "mnt"):
        assert info["ns"][proc_name] != os.readlink("/proc/%d/ns/%s" % (pid, proc_name)), proc_name
    assert info["hostname"] == "pod-infra"
    assert runtime.run_probe(second, ctx.new_id(), "netifs") == ["lo"]
    runtime.destroy(first_id)


def test_join_namespace_path_of_wrong_type_is_refused(runtime, bundle, cid):
    bundle.add_namespace("uts", "/proc/%d/ns/net" % os.getpid()).set_hostname(None).save()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert_error(result, "/proc/%d/ns/net" % os.getpid(), "not a uts namespace")


# ---------------------------------------------------------------------------------------------
# run, concurrency, logging


def test_run_forwards_sigterm_to_the_container(runtime, bundle, cid):
    bundle.set_probe("signal-exit").save()
    handle = runtime.popen("run", "--bundle", bundle.path, cid)
    wait_for(lambda: runtime("state", cid).rc == 0 and runtime.status(cid) == "running", what="run to start")
    pid = runtime.state(cid)["pid"]
    wait_signal_caught(pid)
    os.kill(handle.proc.pid, signal.SIGTERM)
    result = handle.wait()
    # The container got the TERM (it exits 0 on it and says so), and run returned its exit code.
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout) == {"signal": "SIGTERM"}
    assert pid_gone(pid)
    assert runtime("state", cid).rc != 0


def test_parallel_create_of_one_id(runtime, bundle, cid, ctx):
    n = 8
    # A bundle (and so a cgroup) each, sharing one rootfs: with one cgroup for all, the losers could
    # also trip over the winner's cgroup (see test_duplicate_id_from_the_same_bundle); this is about
    # the id.
    bundles = []
    for i in range(n):
        b = Bundle(os.path.join(ctx.dir, "parallel%d" % i), "%s-p%d" % (bundle.cgroups_path, i))
        os.mkdir(b.path)
        b.set_probe("sleep", "60").config["root"]["path"] = bundle.rootfs
        b.save()
        bundles.append(b)
    pid_files = [os.path.join(ctx.dir, "create%d.pid" % i) for i in range(n)]
    results = [None] * n
    go = threading.Event()

    def create(i):
        go.wait()
        results[i] = runtime("create", "--bundle", bundles[i].path, "--pid-file", pid_files[i], cid)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()

    winners = [i for i, r in enumerate(results) if r.rc == 0]
    assert len(winners) == 1, [(r.rc, r.stderr) for r in results]
    (winner,) = winners
    for i, r in enumerate(results):
        if i != winner:
            assert_error(r, cid, "already exists")
            assert not os.path.exists(pid_files[i])
    state = runtime.state(cid)
    with open(pid_files[winner]) as f:
        assert int(f.read()) == state["pid"]
    assert state["status"] == "created"
    assert os.path.realpath(state["bundle"]) == os.path.realpath(bundles[winner].path)
    assert runtime.list_ids() == [cid]
    runtime.destroy(cid)


def test_duplicate_id_from_the_same_bundle(runtime, bundle, cid, ctx):
    """What a retried create (containerd after a timeout, say) does: same id, same bundle."""
    pid = runtime.create(bundle.set_probe("sleep", "60"), cid)
    try:
        result = runtime("create", "--bundle", bundle.path, "--pid-file", os.path.join(ctx.dir, "again"), cid)
        assert_error(result, cid, "already exists")
        state = runtime.state(cid)
        assert (state["status"], state["pid"]) == ("created", pid)
    finally:
        runtime.destroy(cid)


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def json_log_entries(path):
    entries = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            assert line.endswith("\n"), "line %d of %s is not terminated: %r" % (n, path, line)
            entry = json.loads(line)
            assert isinstance(entry, dict), line
            for key in ("level", "msg", "time"):
                assert isinstance(entry.get(key), str) and entry[key], (key, line)
            assert entry["level"] in ("debug", "info", "warning", "error"), line
            assert RFC3339.match(entry["time"]), line
            entries.append(entry)
    return entries


@pytest.mark.parametrize("where", ["runtime", "container setup"])
def test_log_json_for_failed_create(runtime, bundle, cid, ctx, where):
    log = os.path.join(ctx.dir, "log.json")
    g = ("--log", log, "--log-format", "json")
    if where == "runtime":
        # Fails in the runtime itself, before anything runs.
        missing = os.path.join(bundle.path, "no-such-rootfs")
        bundle.config["root"]["path"] = missing
    else:
        # Fails in the container's init, and travels back over the sync socket.
        missing = os.path.join(ctx.dir, "no-such-source")
        bundle.add_mount("/data", "bind", missing, ["rbind"])
    bundle.save()
    # A call that succeeds first: whatever it logs must be JSON too.
    assert runtime("list", global_args=g).rc == 0
    pid_file = os.path.join(ctx.dir, "p")
    result = runtime("create", "--bundle", bundle.path, "--pid-file", pid_file, cid, global_args=g)
    assert_error(result, cid, missing)
    entries = json_log_entries(log)
    errors = [e for e in entries if e["level"] == "error"]
    assert errors, entries
    assert any(missing in e["msg"] for e in errors), errors
    if is_berth():
        # The --log entry carries the same message as stderr, less the program name.
        assert errors[-1]["msg"] == result.stderr.strip()[len("berth-runtime: ") :]
