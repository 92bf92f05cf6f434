# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a container can see, checked from inside by berth-probe."""

import ctypes
import ctypes.util
import json
import os
import socket

import pytest

from conftest import mount_point_of

HOST_NAMESPACES = ("pid", "net", "ipc", "uts", "mnt")


def host_mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read().splitlines()


def test_pid_one_and_no_host_process_visible(runtime, bundle, cid):
    pids = runtime.run_probe(bundle, cid, "pids")
    # The probe is the container's only process, and so pid 1 of a fresh pid namespace.
    assert pids == [1]

    info = runtime.run_probe(bundle, cid, "info")
    assert info["pid"] == 1
    assert info["ppid"] == 0


def test_fresh_namespaces_differ_from_hosts(runtime, bundle, cid):
    info = runtime.run_probe(bundle, cid, "info")
    for ns in HOST_NAMESPACES:
        assert info["ns"][ns] != os.readlink("/proc/self/ns/" + ns), ns


def test_own_hostname(runtime, bundle, cid):
    host_before = socket.gethostname()
    bundle.set_hostname("berth-isolated")
    info = runtime.run_probe(bundle, cid, "info")
    assert info["hostname"] == "berth-isolated"
    assert socket.gethostname() == host_before != "berth-isolated"


def test_host_mount_table_unchanged_and_hidden(runtime, bundle, cid):
    before = host_mountinfo()
    inside = runtime.run_probe(bundle, cid, "mounts")
    after = host_mountinfo()
    assert after == before, "host mount table changed: +%s -%s" % (
        sorted(set(after) - set(before)),
        sorted(set(before) - set(after)),
    )

    inside_points = {mount_point_of(line) for line in inside}
    assert "/" in inside_points
    # Every mount inside is the root or one the config asked for (or lies below one of them);
    # nothing else of the host's mount table shows through.
    configured = [m["destination"] for m in bundle.config["mounts"]]
    configured += bundle.config["linux"]["maskedPaths"] + bundle.config["linux"]["readonlyPaths"]
    for point in inside_points - {"/"}:
        assert any(point == d or point.startswith(d.rstrip("/") + "/") for d in configured), point


def test_only_loopback_in_new_network_namespace(runtime, bundle, cid):
    assert runtime.run_probe(bundle, cid, "netifs") == ["lo"]


@pytest.fixture
def host_shm_segment():
    """A SysV shared memory segment on the host, removed afterwards; yields its id."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    ipc_private, ipc_creat, ipc_rmid = 0, 0o1000, 0
    shmid = libc.shmget(ipc_private, 4096, ipc_creat | 0o600)
    assert shmid >= 0, os.strerror(ctypes.get_errno())
    try:
        yield shmid
    finally:
        assert libc.shmctl(shmid, ipc_rmid, None) == 0, os.strerror(ctypes.get_errno())


def test_host_sysv_ipc_invisible(runtime, bundle, cid, host_shm_segment):
    with open("/proc/sysvipc/shm") as f:
        host_ids = [int(line.split()[1]) for line in f.read().splitlines()[1:]]
    assert host_shm_segment in host_ids

    ipc = runtime.run_probe(bundle, cid, "sysvipc")
    assert ipc["shm"] == []
    assert host_shm_segment not in [o["id"] for o in ipc["shm"]]


HOST_UID = 100000


def test_user_namespace_maps_root_to_host_uid(runtime, make_bundle, ctx):
    mapping = [(0, HOST_UID, 65536)]

    inside = make_bundle().set_id_mappings(mapping)
    info = runtime.run_probe(inside, ctx.new_id(), "info")
    assert (info["uid"], info["gid"], info["euid"]) == (0, 0, 0)
    assert info["ns"]["user"] != os.readlink("/proc/self/ns/user")

    # Seen from the host, the same container's root is HOST_UID.
    sleeper, cid = make_bundle().set_id_mappings(mapping), ctx.new_id()
    pid = runtime.start_sleeper(sleeper, cid)
    with open("/proc/%d/uid_map" % pid) as f:
        assert [line.split() for line in f.read().splitlines()] == [["0", str(HOST_UID), "65536"]]
    with open("/proc/%d/status" % pid) as f:
        ids = {line.split(":")[0]: line.split()[1:] for line in f if line.startswith(("Uid:", "Gid:"))}
    assert ids["Uid"] == [str(HOST_UID)] * 4
    assert ids["Gid"] == [str(HOST_UID)] * 4
    assert os.stat("/proc/%d" % pid).st_uid == HOST_UID
    runtime.destroy(cid)


def test_dotdot_of_root_stays_in_rootfs(runtime, bundle, cid):
    bundle.set_args(
        "/bin/sh",
        "-c",
        "berth-probe ls / && berth-probe ls /.. && berth-probe stat / && berth-probe stat /.. "
        "&& cd /.. && berth-probe info",
    )
    bundle.save()
    result = runtime("run", "--bundle", bundle.path, cid)
    assert result.rc == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    ls_root, ls_parent, stat_root, stat_parent, info = outputs
    assert ls_parent["entries"] == ls_root["entries"]
    assert "usr" in ls_root["entries"]
    assert os.path.basename(bundle.path) not in ls_root["entries"]
    assert (stat_parent["dev"], stat_parent["ino"]) == (stat_root["dev"], stat_root["ino"])
    assert info["cwd"] == "/"


def host_ns_path(ns):
    """A path to one of the host's namespaces: pid 1's where this process may open it (on some
    machines pid 1 holds capabilities we lack, which forbids that), else this process's own."""
    path = "/proc/1/ns/" + ns
    try:
        os.close(os.open(path, os.O_RDONLY))
        return path
    except PermissionError:
        return "/proc/%d/ns/%s" % (os.getpid(), ns)


def test_joined_network_namespace_is_hosts(runtime, bundle, cid):
    path = host_ns_path("net")
    bundle.add_namespace("network", path)
    info = runtime.run_probe(bundle, cid, "info")
    assert info["ns"]["net"] == os.readlink(path)
    with open("/proc/net/dev") as f:
        host_ifs = sorted(line.split(":")[0].strip() for line in f.read().splitlines()[2:])
    assert sorted(runtime.run_probe(bundle, cid, "netifs")) == host_ifs


def test_joined_uts_namespace_is_hosts(runtime, bundle, cid):
    # A joined UTS namespace is not the container's to rename: no hostname in the config.
    bundle.add_namespace("uts", "/proc/%d/ns/uts" % os.getpid()).set_hostname(None)
    info = runtime.run_probe(bundle, cid, "info")
    assert info["ns"]["uts"] == os.readlink("/proc/self/ns/uts")
    assert info["hostname"] == socket.gethostname()


def test_only_stdio_fds_reach_the_container(runtime, bundle, cid):
    # A leaked fd is a way out of the container (CVE-2024-21626).
    info = runtime.run_probe(bundle, cid, "info")
    assert info["fds"] == [0, 1, 2]


def test_process_gets_configured_capabilities_and_no_new_privs(runtime, bundle, cid):
    info = runtime.run_probe(bundle, cid, "info")
    # CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29): the default spec's set.
    expected = (1 << 5) | (1 << 10) | (1 << 29)
    for field in ("cap_eff", "cap_prm", "cap_bnd"):
        assert int(info[field], 16) == expected, field
    # The spec also lists them as ambient, but the kernel only lets a capability be ambient when it
    # is inheritable too, and the spec's inheritable set is empty.
    assert int(info["cap_inh"], 16) == 0
    assert int(info["cap_amb"], 16) == 0
    assert info["no_new_privs"] is True
    assert info["uid"] == 0 and info["cwd"] == "/"
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in info["env"]
