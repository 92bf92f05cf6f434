# SPDX-License-Identifier: LGPL-2.1-or-later
"""Resource limits that hold under exhaustion, and the cgroup verbs (events, update, pause,
resume, ps), checked by their effects: the kernel's own counters read from the host, and what
berth-probe sees from inside.

Each test puts a container in its own cgroup (Bundle.cgroups_path, below /berth-test) and
leaves nothing behind: conftest's leak check scans every hierarchy after each test.
"""

import errno
import glob
import json
import os
import subprocess
import time

import pytest

from conftest import (
    WAIT_TIMEOUT,
    assert_error,
    is_berth,
    mount_point_of,
    remove_cgroup_tree,
    skip_or_fail,
    wait_for,
)

MIB = 1 << 20
CGROUP_ROOT = "/sys/fs/cgroup"

# What berth adds to runc's behaviour; a reference runtime skips these.
berth_only = pytest.mark.skipif(not is_berth(), reason="a berth feature runc does not have")


# ---------------------------------------------------------------------------------------------
# The host's cgroups, read directly (never through the runtime under test)


def host_cgroup_mounts():
    """({v1 controller: mount point}, cgroup2 mount point or None) from /proc/self/mountinfo."""
    v1, unified = {}, None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ", 1)[1].split()
            fstype, opts = fields[0], fields[2]
            if fstype == "cgroup2" and unified is None:
                unified = mount_point_of(line)
            elif fstype == "cgroup":
                for opt in opts.split(","):
                    v1.setdefault(opt, mount_point_of(line))
    return v1, unified


def unified_controllers(unified):
    try:
        with open(os.path.join(unified, "cgroup.controllers")) as f:
            return f.read().split()
    except (OSError, TypeError):
        return []


def cgroup_dirs(cgroups_path):
    """Every directory named cgroups_path in any hierarchy: each v1 one, the unified one, and
    named ones like name=systemd (/sys/fs/cgroup/unified/PATH included)."""
    found = set()
    for hierarchy in glob.glob(CGROUP_ROOT + "/*"):
        candidate = hierarchy + cgroups_path
        if os.path.isdir(candidate):
            found.add(candidate)
    v1, unified = host_cgroup_mounts()
    for point in list(v1.values()) + ([unified] if unified else []):
        if os.path.isdir(point + cgroups_path):
            found.add(point + cgroups_path)
    return sorted(found)


def cgroup_file(cgroups_path, controller, v1_name, v2_name=None):
    """The control file of cgroups_path for controller: v1_name in the v1 hierarchy holding the
    controller, else v2_name in the unified hierarchy. Skips when the host has neither."""
    v1, unified = host_cgroup_mounts()
    if controller in v1:
        return os.path.join(v1[controller] + cgroups_path, v1_name)
    if v2_name and controller in unified_controllers(unified):
        return os.path.join(unified + cgroups_path, v2_name)
    skip_or_fail("the host has no %s cgroup controller" % controller)


def read_text(path):
    with open(path) as f:
        return f.read().strip()


def read_int(path):
    text = read_text(path)
    return None if text == "max" else int(text.split()[0])


def keyed(text, key):
    """The value of "key value" in a flat-keyed cgroup file (memory.stat, cpu.stat, ...)."""
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    return None


def memory_usage(cgroups_path):
    return read_int(cgroup_file(cgroups_path, "memory", "memory.usage_in_bytes", "memory.current"))


def oom_kills(cgroups_path):
    text = read_text(cgroup_file(cgroups_path, "memory", "memory.oom_control", "memory.events"))
    return keyed(text, "oom_kill") or 0


def cpu_usage_ns(cgroups_path):
    """Total CPU time of the cgroup: cpuacct.usage on v1, cpu.stat's usage_usec on v2."""
    v1, _ = host_cgroup_mounts()
    if "cpuacct" in v1:
        return read_int(cgroup_file(cgroups_path, "cpuacct", "cpuacct.usage"))
    return keyed(read_text(cgroup_file(cgroups_path, "cpu", "cpu.stat", "cpu.stat")), "usage_usec") * 1000


def host_idle_seconds():
    """CPU-seconds all the host's CPUs spent idle since boot (/proc/stat: idle + iowait)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


def cpu_throttling(cgroups_path):
    """(enforcement periods elapsed, periods in which the quota ran out) from cpu.stat."""
    text = read_text(cgroup_file(cgroups_path, "cpu", "cpu.stat", "cpu.stat"))
    return keyed(text, "nr_periods") or 0, keyed(text, "nr_throttled") or 0


def cgroup_procs(cgroups_path):
    path = cgroup_file(cgroups_path, "pids", "cgroup.procs", "cgroup.procs")
    try:
        return [int(p) for p in read_text(path).split()]
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------------------------------------
# Bundles and output


def set_resources(bundle, **sections):
    """Sets linux.resources.SECTION for each keyword (memory={...}, pids={...}, cpu={...})."""
    bundle.config["linux"].setdefault("resources", {}).update(sections)
    return bundle


def add_caps(bundle, *caps):
    for kind in ("bounding", "effective", "permitted"):
        bundle.config["process"]["capabilities"][kind] += list(caps)
    return bundle


def create_capturing(runtime, ctx, bundle, cid):
    """Creates cid; returns (pid, the file its stdout goes to).

    A created container inherits the runtime's stdio, and the runtime fixture sends every call's
    stdout to its own numbered file, so the newest one after create is the container's."""
    pid = runtime.create(bundle, cid)
    outputs = sorted(glob.glob(os.path.join(ctx.dir, "io", "*.out")))
    return pid, outputs[-1]


def json_lines(path):
    """The complete lines of path that are JSON documents (the probe's stderr progress is not)."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    docs = []
    for line in text.split("\n")[:-1]:  # the last piece may be half written
        try:
            docs.append(json.loads(line))
        except ValueError:
            pass
    return docs


def wait_json(path, what):
    return wait_for(lambda: (json_lines(path) or [None])[0], what=what)


def start_events(runtime, ctx, cid, *flags):
    """Starts `events [flags] cid` in the background; returns (process, stdout path, stderr path).

    The process joins ctx.popens, so the leak check fails a test that leaves it running."""
    n = len(ctx.popens)
    out_path = os.path.join(ctx.dir, "events%d.out" % n)
    err_path = os.path.join(ctx.dir, "events%d.err" % n)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            runtime.argv(["events", *flags, cid]), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
    ctx.popens.append(proc)
    return proc, out_path, err_path


def events_of_type(path, event_type):
    return [e for e in json_lines(path) if e.get("type") == event_type]


def wait_exit(proc, what):
    try:
        return proc.wait(timeout=WAIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("%s did not exit within %.0f s" % (what, WAIT_TIMEOUT))


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def assert_no_cgroup(cgroups_path):
    left = cgroup_dirs(cgroups_path)
    assert not left, "cgroup directories left behind: %s" % left


# ---------------------------------------------------------------------------------------------
# memory


def test_memory_hog_is_oom_killed_and_the_host_is_not(runtime, bundle, cid):
    set_resources(bundle, memory={"limit": 32 * MIB})
    bundle.set_probe("hog", "200M").save()
    result = runtime("run", "--bundle", bundle.path, cid)

    # 137 = 128 + SIGKILL, reported by a runtime that is itself alive (a killed one gives -9).
    assert result.rc == 137, "run: rc %d, stderr %r" % (result.rc, result.stderr[-500:])
    progress = [int(line.split()[1]) for line in result.stderr.splitlines() if line.startswith("hog: ")]
    assert progress, "the hog never allocated: %r" % result.stderr[-500:]
    assert progress[-1] < 32, "the hog got %d MiB past a 32 MiB limit" % progress[-1]
    assert result.stdout == ""  # it never reported success
    if is_berth():
        assert "OOM killer" in result.stderr, result.stderr[-500:]

    # The host goes on: a host process can still allocate and touch a lot more than the limit.
    host = bytearray(256 * MIB)
    host[::4096] = b"\x01" * (len(host) // 4096)
    assert sum(host[:: 1 << 20]) == 256
    del host
    assert_no_cgroup(bundle.cgroups_path)


def test_events_streams_an_oom_event(runtime, bundle, cid, ctx):
    set_resources(bundle, memory={"limit": 32 * MIB})
    bundle.set_probe("hog", "200M")
    pid = runtime.create(bundle, cid)
    events, out, err = start_events(runtime, ctx, cid)
    # The first stats line comes once events is watching, so the OOM cannot slip past it.
    wait_for(lambda: events_of_type(out, "stats"), what="the first line of events")
    runtime.ok("start", cid)

    ooms = wait_for(lambda: events_of_type(out, "oom"), what="an oom event")
    assert ooms[0]["id"] == cid
    assert oom_kills(bundle.cgroups_path) >= 1
    # Killed by the OOM killer, the container stops; berth's events notices and ends.
    if is_berth():
        assert wait_exit(events, "events") == 0, read_text(err)
    else:
        events.terminate()
        wait_exit(events, "events")
    wait_for(lambda: not alive(pid), what="the OOM-killed process to be gone")
    assert runtime.status(cid) == "stopped"
    runtime.ok("delete", cid)
    assert_no_cgroup(bundle.cgroups_path)


@berth_only  # berth's events ends when the container goes
def test_events_reports_no_oom_for_a_delete(runtime, bundle, cid, ctx):
    # cgroup v1 signals the OOM eventfd when the memory cgroup is removed; that is no OOM.
    set_resources(bundle, memory={"limit": 128 * MIB})
    runtime.start_sleeper(bundle, cid)
    events, out, err = start_events(runtime, ctx, cid)
    wait_for(lambda: events_of_type(out, "stats"), what="the first line of events")
    runtime.ok("delete", "--force", cid)
    assert wait_exit(events, "events") == 0, read_text(err)
    assert not events_of_type(out, "oom"), json_lines(out)
    assert_no_cgroup(bundle.cgroups_path)


def test_events_stats_shows_memory_of_a_container_near_its_limit(runtime, bundle, cid, ctx):
    limit = 64 * MIB
    set_resources(bundle, memory={"limit": limit}, pids={"limit": 32})
    bundle.set_probe("hog", "40M", "60")
    _pid, out = create_capturing(runtime, ctx, bundle, cid)
    runtime.ok("start", cid)
    assert wait_json(out, "the hog to allocate 40 MiB")["bytes"] == 40 * MIB

    result = runtime.ok("events", "--stats", cid)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    event = json.loads(lines[0])
    assert event["type"] == "stats" and event["id"] == cid
    memory = event["data"]["memory"]
    assert 40 * MIB <= memory["usage"]["usage"] <= limit, memory
    assert memory["usage"]["limit"] == limit
    assert memory["usage"]["max"] >= memory["usage"]["usage"]
    assert event["data"]["pids"] == {"current": 1, "limit": 32}
    assert event["data"]["cpu"]["usage"]["total"] > 0
    # Still there, not killed: 40 MiB fits.
    assert runtime.status(cid) == "running"
    assert oom_kills(bundle.cgroups_path) == 0
    runtime.destroy(cid)
    assert_no_cgroup(bundle.cgroups_path)


@berth_only  # the memory.soft_limit event
def test_memory_soft_limit_warns_and_does_not_kill(runtime, bundle, cid, ctx):
    soft = 16 * MIB
    set_resources(bundle, memory={"limit": 128 * MIB, "reservation": soft})
    bundle.set_probe("hog", "48M", "60")
    pid, out = create_capturing(runtime, ctx, bundle, cid)
    reservation = cgroup_file(bundle.cgroups_path, "memory", "memory.soft_limit_in_bytes", "memory.low")
    assert read_int(reservation) == soft
    events, events_out, events_err = start_events(runtime, ctx, cid)
    wait_for(lambda: events_of_type(events_out, "stats"), what="the first line of events")
    assert not events_of_type(events_out, "memory.soft_limit")  # not crossed yet
    runtime.ok("start", cid)

    warnings = wait_for(
        lambda: events_of_type(events_out, "memory.soft_limit"), what="a memory.soft_limit event"
    )
    assert warnings[0]["id"] == cid
    assert warnings[0]["data"]["usage"] >= soft
    assert wait_json(out, "the hog to allocate 48 MiB")["bytes"] == 48 * MIB
    # Over the soft limit but under the hard one: nothing is killed.
    assert alive(pid)
    assert runtime.status(cid) == "running"
    assert memory_usage(bundle.cgroups_path) >= 48 * MIB
    assert oom_kills(bundle.cgroups_path) == 0
    assert not events_of_type(events_out, "oom")

    runtime.destroy(cid)
    assert wait_exit(events, "events") == 0, read_text(events_err)
    assert_no_cgroup(bundle.cgroups_path)


# ---------------------------------------------------------------------------------------------
# pids


def test_fork_bomb_stops_at_pids_max(runtime, bundle, cid, ctx):
    limit = 16
    set_resources(bundle, pids={"limit": limit})
    bundle.set_probe("forkbomb")
    pid, out = create_capturing(runtime, ctx, bundle, cid)
    assert read_int(cgroup_file(bundle.cgroups_path, "pids", "pids.max", "pids.max")) == limit
    runtime.ok("start", cid)

    report = wait_json(out, "the fork bomb to report")
    assert report["errno"] == errno.EAGAIN, report  # stopped by the limit, not by its own bound
    # The probe itself plus its children: exactly as many tasks as the limit allows.
    assert 1 + report["forked"] <= limit
    current = read_int(cgroup_file(bundle.cgroups_path, "pids", "pids.current", "pids.current"))
    assert current <= limit
    assert current == 1 + report["forked"]

    # The host still answers while the bomb sits at its limit.
    start = time.monotonic()
    subprocess.run(["/bin/true"], check=True, timeout=5)
    assert time.monotonic() - start < 1.0

    procs = cgroup_procs(bundle.cgroups_path)
    assert pid in procs and len(procs) == current
    runtime.ok("delete", "--force", cid)
    assert [p for p in procs if alive(p)] == []
    assert runtime("state", cid).rc != 0
    assert_no_cgroup(bundle.cgroups_path)


# ---------------------------------------------------------------------------------------------
# cpu


def test_cpu_quota_limits_a_busy_loop_to_half_a_cpu(runtime, bundle, cid):
    set_resources(bundle, cpu={"quota": 50000, "period": 100000})
    runtime.start_sleeper(bundle, cid, "spin", "30")
    assert read_int(cgroup_file(bundle.cgroups_path, "cpu", "cpu.cfs_quota_us", "cpu.max")) == 50000
    assert read_int(cgroup_file(bundle.cgroups_path, "cpu", "cpu.cfs_period_us", "cpu.max")) in (100000, None)

    time.sleep(0.2)  # past the start, into the steady state
    # CPU used over 2 s of wall-clock time, from the kernel's accounting of the cgroup. Above the
    # quota fails at once. Below it, either the quota is too tight or other work on the host held
    # the CPUs: a loop throttled in (nearly) every period used up its quota each time, so the
    # quota is to blame; so it is when the host had a CPU's worth of idle time meanwhile.
    # Otherwise the window is measured again (5 windows at most), and a host that stays that busy
    # skips the test.
    windows, verdict = [], "busy"
    for _ in range(5):
        used0, idle0, t0 = cpu_usage_ns(bundle.cgroups_path), host_idle_seconds(), time.monotonic()
        periods0, throttled0 = cpu_throttling(bundle.cgroups_path)
        time.sleep(2)
        used1, idle1, t1 = cpu_usage_ns(bundle.cgroups_path), host_idle_seconds(), time.monotonic()
        periods1, throttled1 = cpu_throttling(bundle.cgroups_path)
        cpus, idle = (used1 - used0) / ((t1 - t0) * 1e9), (idle1 - idle0) / (t1 - t0)
        throttled = (throttled1 - throttled0) / max(periods1 - periods0, 1)
        window = "%.3f CPUs (throttled in %.0f%% of periods, host idle %.2f)" % (cpus, 100 * throttled, idle)
        windows.append(window)
        if 0.45 <= cpus <= 0.55:
            verdict = "ok"
            break
        if cpus > 0.55 or throttled >= 0.95 or idle >= 1.0:
            verdict = "wrong"
            break
    runtime.destroy(cid)  # before a skip, which would otherwise count it as a leak
    assert_no_cgroup(bundle.cgroups_path)
    assert verdict != "wrong", "under a quota of 0.5 CPUs (+- 10%%) the busy loop used %s" % windows[-1]
    if verdict == "busy":
        skip_or_fail("host too busy to measure a CPU quota: the busy loop used %s" % "; ".join(windows))


def test_cpuset_pins_the_container_to_cpu_0(runtime, bundle, cid):
    set_resources(bundle, cpu={"cpus": "0"})
    status = runtime.run_probe(bundle, cid, "cat", "/proc/self/status")
    fields = dict(line.split(":", 1) for line in status["data"].splitlines() if ":" in line)
    assert fields["Cpus_allowed_list"].strip() == "0"
    assert_no_cgroup(bundle.cgroups_path)


# ---------------------------------------------------------------------------------------------
# devices

# /dev/fuse: a character device anyone may open, and not among the devices every container gets
# (runc's defaults, which berth keeps, allow /dev/zero 1:5, /dev/null, /dev/full, /dev/tty, ...).
FUSE = (10, 229)


def device_bundle(bundle, rules):
    bundle.config["linux"]["resources"]["devices"] = rules
    add_caps(bundle, "CAP_MKNOD")
    # A tmpfs without nodev, so only the device cgroup stands between the process and the node.
    bundle.add_mount("/tmp", "tmpfs", "tmpfs", ["mode=1777"])
    return bundle


def mknod_and_open(runtime, bundle, cid, major, minor):
    """Runs `mknod /tmp/dev c MAJOR MINOR; open /tmp/dev; open /dev/null` in one container."""
    script = (
        "/usr/bin/berth-probe mknod /tmp/dev c %d %d && /usr/bin/berth-probe open /tmp/dev && "
        "/usr/bin/berth-probe open /dev/null" % (major, minor)
    )
    bundle.set_args("/bin/sh", "-c", script).save()
    result = runtime("run", "--bundle", bundle.path, cid)
    assert result.rc == 0, "run failed (rc %d): %s" % (result.rc, result.stderr)
    made, node, null = [json.loads(line) for line in result.stdout.splitlines()]
    assert made["ok"], "mknod failed: %r" % made
    return node, null


def test_device_list_denies_a_node_made_inside(runtime, make_bundle, ctx):
    if not os.path.exists("/dev/fuse") or os.major(os.stat("/dev/fuse").st_rdev) != FUSE[0]:
        skip_or_fail("/dev/fuse (10:229) is missing on this host")
    only_null = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
    ]
    denied = device_bundle(make_bundle(), only_null)
    node, null = mknod_and_open(runtime, denied, ctx.new_id(), *FUSE)
    assert not node["ok"] and node["errno"] == errno.EPERM, node
    assert null["ok"], null

    # The same node opens once the list allows it: the device cgroup was what said no.
    fuse = {"allow": True, "type": "c", "major": FUSE[0], "minor": FUSE[1], "access": "rw"}
    allowed = device_bundle(make_bundle(), only_null + [fuse])
    node, null = mknod_and_open(runtime, allowed, ctx.new_id(), *FUSE)
    assert node["ok"], node
    assert null["ok"], null
    assert_no_cgroup(denied.cgroups_path)
    assert_no_cgroup(allowed.cgroups_path)


# ---------------------------------------------------------------------------------------------
# update


def inside_file(controller, host_file):
    """Where a container with its own cgroup namespace sees host_file, its own control file: at
    the root of /sys/fs/cgroup/CONTROLLER on v1 (one mount per hierarchy), of /sys/fs/cgroup on v2."""
    v1, _ = host_cgroup_mounts()
    name = os.path.basename(host_file)
    return "/sys/fs/cgroup/%s/%s" % (controller, name) if controller in v1 else "/sys/fs/cgroup/" + name


def read_inside(runtime, cid, path):
    """A file read by the probe inside the running container (through exec)."""
    result = runtime.ok("exec", cid, "/usr/bin/berth-probe", "cat", path)
    doc = json.loads(result.stdout)
    assert doc["ok"], doc
    return doc["data"].strip()


def test_update_memory_limit(runtime, bundle, cid):
    set_resources(bundle, memory={"limit": 128 * MIB})
    # Its own cgroup namespace: inside, /sys/fs/cgroup/memory is the container's cgroup.
    bundle.add_namespace("cgroup")
    runtime.start_sleeper(bundle, cid)
    limit_file = cgroup_file(bundle.cgroups_path, "memory", "memory.limit_in_bytes", "memory.max")
    assert read_int(limit_file) == 128 * MIB

    runtime.ok("update", "--memory", "64m", cid)
    assert read_int(limit_file) == 64 * MIB
    assert int(read_inside(runtime, cid, inside_file("memory", limit_file))) == 64 * MIB

    # It takes effect: 96 MiB, fine under the old limit, is now too much.
    result = runtime("exec", cid, "/usr/bin/berth-probe", "hog", "96M")
    assert result.rc == 137, "exec hog: rc %d %s" % (result.rc, result.stderr[-300:])
    assert oom_kills(bundle.cgroups_path) >= 1
    runtime.destroy(cid)
    assert_no_cgroup(bundle.cgroups_path)


def test_update_pids_limit_stops_a_later_fork_bomb(runtime, bundle, cid):
    set_resources(bundle, pids={"limit": 100})
    bundle.add_namespace("cgroup")
    runtime.start_sleeper(bundle, cid)
    pids_max = cgroup_file(bundle.cgroups_path, "pids", "pids.max", "pids.max")
    assert read_int(pids_max) == 100

    runtime.ok("update", "--pids-limit", "10", cid)
    assert read_int(pids_max) == 10
    assert read_inside(runtime, cid, inside_file("pids", pids_max)) == "10"

    # exec's probe forks until it hits the new limit, reports, and exits (its children stay).
    report = json.loads(runtime.ok("exec", cid, "/usr/bin/berth-probe", "forkbomb", "0").stdout)
    assert report["errno"] == errno.EAGAIN, report
    # The sleeper, the forking probe and its children all fit in 10.
    assert 2 + report["forked"] <= 10
    assert read_int(cgroup_file(bundle.cgroups_path, "pids", "pids.current", "pids.current")) <= 10
    runtime.destroy(cid)
    assert_no_cgroup(bundle.cgroups_path)


def test_update_from_a_resources_file(runtime, bundle, cid, ctx):
    set_resources(
        bundle, memory={"limit": 128 * MIB}, pids={"limit": 100}, cpu={"quota": 20000, "period": 100000}
    )
    runtime.start_sleeper(bundle, cid)
    resources = {"memory": {"limit": 48 * MIB}, "pids": {"limit": 20}, "cpu": {"quota": 30000}}
    path = os.path.join(ctx.dir, "resources.json")
    with open(path, "w") as f:
        json.dump(resources, f)
    runtime.ok("update", "-r", path, cid)

    cg = bundle.cgroups_path
    assert read_int(cgroup_file(cg, "memory", "memory.limit_in_bytes", "memory.max")) == 48 * MIB
    assert read_int(cgroup_file(cg, "pids", "pids.max", "pids.max")) == 20
    assert read_int(cgroup_file(cg, "cpu", "cpu.cfs_quota_us", "cpu.max")) == 30000
    # What the update left alone stays.
    assert read_int(cgroup_file(cg, "cpu", "cpu.cfs_period_us", "cpu.max")) in (100000, None)
    # events --stats reads the new limits back.
    stats = json.loads(runtime.ok("events", "--stats", cid).stdout)["data"]
    assert stats["memory"]["usage"]["limit"] == 48 * MIB
    assert stats["pids"]["limit"] == 20
    runtime.destroy(cid)
    assert_no_cgroup(bundle.cgroups_path)


def test_update_check_before_update_refuses_a_limit_below_usage(runtime, bundle, cid, ctx):
    set_resources(bundle, memory={"limit": 128 * MIB})
    runtime.start_sleeper(bundle, cid)
    cg = bundle.cgroups_path
    usage_file = cgroup_file(cg, "memory", "memory.usage_in_bytes", "memory.current")
    assert read_int(usage_file) > 4096
    path = os.path.join(ctx.dir, "resources.json")
    with open(path, "w") as f:
        json.dump({"memory": {"limit": 4096, "checkBeforeUpdate": True}}, f)
    result = runtime("update", "-r", path, cid)
    assert result.rc != 0
    assert "checkBeforeUpdate" in result.stderr and "memory.limit" in result.stderr, result.stderr
    # Refused before anything was written: the old limit holds.
    assert read_int(cgroup_file(cg, "memory", "memory.limit_in_bytes", "memory.max")) == 128 * MIB
    runtime.destroy(cid)
    assert_no_cgroup(bundle.cgroups_path)


# ---------------------------------------------------------------------------------------------
# pause, resume, ps


def read_counter(path):
    try:
        return int(read_text(path))
    except (FileNotFoundError, ValueError):
        return 0


def test_pause_freezes_and_resume_thaws(runtime, bundle, cid, ctx):
    share = os.path.join(ctx.dir, "share")
    os.mkdir(share)
    bundle.add_mount("/share", "bind", share, ["rbind", "rw"])
    pid = runtime.start_sleeper(bundle, cid, "counter", "/share/count")
    count = os.path.join(share, "count")
    first = wait_for(lambda: read_counter(count), what="the counter to start")
    wait_for(lambda: read_counter(count) > first, what="the counter to advance")

    assert json.loads(runtime.ok("ps", "--format", "json", cid).stdout) == [pid]

    runtime.ok("pause", cid)
    assert runtime.status(cid) == "paused"
    frozen = read_counter(count)
    time.sleep(0.5)  # 50 ticks of the counter, were it running
    assert read_counter(count) == frozen
    assert runtime.status(cid) == "paused"
    assert json.loads(runtime.ok("ps", "--format", "json", cid).stdout) == [pid]

    runtime.ok("resume", cid)
    assert runtime.status(cid) == "running"
    wait_for(lambda: read_counter(count) > frozen, what="the counter to advance after resume")
    runtime.destroy(cid)
    assert_no_cgroup(bundle.cgroups_path)


def test_delete_of_a_paused_container(runtime, bundle, cid):
    pid = runtime.start_sleeper(bundle, cid)
    runtime.ok("pause", cid)
    runtime.ok("delete", "--force", cid)
    assert not alive(pid)
    assert_no_cgroup(bundle.cgroups_path)


# ---------------------------------------------------------------------------------------------
# Cgroup directories: made in every hierarchy, gone after delete and after a failed create


def test_cgroup_in_every_hierarchy_and_none_after_delete(runtime, bundle, cid):
    set_resources(bundle, memory={"limit": 64 * MIB}, pids={"limit": 50})
    pid = runtime.start_sleeper(bundle, cid)
    dirs = cgroup_dirs(bundle.cgroups_path)
    v1, unified = host_cgroup_mounts()
    for controller in ("cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio"):
        if controller in v1:
            assert v1[controller] + bundle.cgroups_path in dirs, controller
    if unified:
        assert unified + bundle.cgroups_path in dirs
    # The container's process is in each of them.
    with open("/proc/%d/cgroup" % pid) as f:
        membership = f.read()
    for controller in ("memory", "pids", "freezer"):
        if controller in v1:
            assert any(
                controller in line.split(":")[1].split(",") and line.split(":", 2)[2] == bundle.cgroups_path
                for line in membership.splitlines()
            ), membership

    runtime.ok("delete", "--force", cid)
    assert_no_cgroup(bundle.cgroups_path)


@pytest.mark.parametrize(
    "resources,names",
    [
        ({"cpu": {"cpus": "999"}}, ["linux.resources.cpu.cpus"]),
        ({"network": {"classID": 1048577}}, ["linux.resources.network.classID", "net_cls"]),
        # Refused after other limits were written: what was made until then goes too.
        ({"memory": {"limit": 64 * MIB}, "cpu": {"cpus": "0", "mems": "9"}}, ["linux.resources.cpu.mems"]),
    ],
    ids=["cpuset-999", "net_cls-missing", "mems-9"],
)
def test_failed_create_leaves_no_cgroup(runtime, bundle, cid, resources, names):
    v1, unified = host_cgroup_mounts()
    if "net_cls" in names and ("net_cls" in v1 or "net_cls" in unified_controllers(unified)):
        pytest.skip("this host has net_cls; the missing-controller case needs one without it")
    set_resources(bundle, **resources)
    bundle.save()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert_error(result, *names)
    assert runtime("state", cid).rc != 0
    assert_no_cgroup(bundle.cgroups_path)


# ---------------------------------------------------------------------------------------------
# Cgroup managers and the default path


@berth_only  # --cgroup-manager
def test_cgroup_manager_disabled_creates_no_cgroup(runtime, bundle, cid):
    set_resources(bundle, pids={"limit": 50})
    bundle.set_probe("sleep", "60").save()
    pid_file = os.path.join(bundle.path, "pid")
    disabled = ("--cgroup-manager=disabled",)
    runtime.ok("create", "--bundle", bundle.path, "--pid-file", pid_file, cid, global_args=disabled)
    pid = int(read_text(pid_file))
    runtime.ok("start", cid)
    assert_no_cgroup(bundle.cgroups_path)
    with open("/proc/%d/cgroup" % pid) as f:
        assert bundle.cgroups_path not in f.read()
    with open("/proc/self/cgroup") as f:
        mine = f.read()
    with open("/proc/%d/cgroup" % pid) as f:
        assert f.read() == mine  # where the runtime was: nothing was made or joined
    runtime.destroy(cid)
    assert_no_cgroup(bundle.cgroups_path)


@pytest.mark.parametrize("flag", ["--systemd-cgroup", "--cgroup-manager=systemd"])
def test_systemd_cgroup_driver_is_refused_clearly(runtime, bundle, cid, flag):
    bundle.save()
    result = runtime("create", "--bundle", bundle.path, cid, global_args=(flag,))
    assert_error(result, "systemd")
    assert runtime("state", cid).rc != 0
    assert_no_cgroup(bundle.cgroups_path)


@berth_only  # runc's default is /<id>
def test_default_cgroups_path_is_berth_id(runtime, bundle, ctx):
    cid = "rx-" + ctx.tag  # unique on this host: /berth/<id> is shared by every run of the suite
    default_path = "/berth/" + cid
    del bundle.config["linux"]["cgroupsPath"]
    try:
        assert_no_cgroup(default_path)
        pid = runtime.start_sleeper(bundle, cid)
        v1, unified = host_cgroup_mounts()
        dirs = cgroup_dirs(default_path)
        for point in [v1[c] for c in ("memory", "pids", "cpu", "freezer") if c in v1] + [unified]:
            if point:
                assert point + default_path in dirs, "no cgroup %s in %s: %s" % (default_path, point, dirs)
        assert pid in cgroup_procs(default_path)
        runtime.destroy(cid)
        assert_no_cgroup(default_path)
    finally:
        for d in cgroup_dirs(default_path):
            remove_cgroup_tree(d)


def test_host_cgroup2_root_is_left_as_it_was(runtime, bundle, cid):
    """On a hybrid host the cgroup2 root's subtree_control is the host's: berth must not enable
    controllers there (an earlier berth wrote +hugetlb into it)."""
    roots = [m.split()[4] for m in open("/proc/self/mountinfo") if " - cgroup2 " in m]
    if not roots or roots[0] == "/sys/fs/cgroup":
        pytest.skip("not a hybrid host: the cgroup2 root is the whole hierarchy")
    control = os.path.join(roots[0], "cgroup.subtree_control")
    before = open(control).read()
    result = runtime("run", "--bundle", bundle.set_probe("exit", "0").save(), cid)
    assert result.rc == 0, result.stderr
    assert open(control).read() == before
