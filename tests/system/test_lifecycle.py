# SPDX-License-Identifier: LGPL-2.1-or-later
"""The container lifecycle through the runtime's command line, as runc's users drive it."""

import json
import os
import threading

import pytest

from conftest import PROBE_IN_CONTAINER, proc_starttime, wait_for, wait_signal_caught


def pid_gone(pid):
    state = None
    try:
        with open("/proc/%d/status" % pid) as f:
            state = next(line.split()[1] for line in f if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_state_transitions(runtime, bundle, cid, ctx):
    pid = runtime.create(bundle.set_probe("signal-exit"), cid)
    state = runtime.state(cid)
    assert state["id"] == cid
    assert state["status"] == "created"
    assert state["pid"] == pid > 0
    assert os.path.realpath(state["bundle"]) == os.path.realpath(bundle.path)
    assert state["ociVersion"]

    runtime.ok("start", cid)
    assert runtime.status(cid) == "running"

    wait_signal_caught(pid)
    runtime.ok("kill", cid, "TERM")
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: pid_gone(pid), what="pid %d to exit" % pid)

    runtime.ok("delete", cid)
    assert runtime("state", cid).rc != 0
    assert runtime.list_ids() == []


def test_pid_file_matches_state_pid(runtime, bundle, cid, ctx):
    pid_file = os.path.join(ctx.dir, "my.pid")
    runtime.create(bundle.set_probe("sleep", "60"), cid, pid_file=pid_file)
    with open(pid_file) as f:
        content = f.read()
    assert content.strip().isdigit()
    assert int(content) == runtime.state(cid)["pid"]
    assert proc_starttime(int(content)) is not None
    runtime.destroy(cid)


@pytest.mark.parametrize("code", [0, 3, 255])
def test_run_returns_exit_code(runtime, bundle, cid, code):
    bundle.set_probe("exit", str(code)).save()
    result = runtime("run", "--bundle", bundle.path, cid)
    assert result.rc == code, result.stderr
    # Without --keep, a foreground run deletes the container when it exits.
    assert runtime("state", cid).rc != 0


def test_run_keep_leaves_stopped_container(runtime, bundle, cid):
    bundle.set_probe("exit", "4").save()
    result = runtime("run", "--keep", "--bundle", bundle.path, cid)
    assert result.rc == 4, result.stderr
    assert runtime.status(cid) == "stopped"
    runtime.ok("delete", cid)


def test_run_killed_by_signal_returns_128_plus_signal(runtime, bundle, cid):
    bundle.set_probe("sleep", "60").save()
    handle = runtime.popen("run", "--bundle", bundle.path, cid)
    wait_for(lambda: runtime("state", cid).rc == 0 and runtime.status(cid) == "running", what="run to start")
    runtime.ok("kill", cid, "9")
    result = handle.wait()
    assert result.rc == 128 + 9, result.stderr
    assert runtime("state", cid).rc != 0


def test_run_detach(runtime, bundle, cid):
    bundle.set_probe("sleep", "60").save()
    runtime.ok("run", "--detach", "--bundle", bundle.path, cid)
    state = runtime.state(cid)
    assert state["status"] == "running"
    assert proc_starttime(state["pid"]) is not None
    runtime.destroy(cid)


@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_forms_of_sigkill(runtime, bundle, cid, sig):
    pid = runtime.start_sleeper(bundle, cid)
    runtime.ok("kill", cid, sig)
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: pid_gone(pid), what="pid %d to exit" % pid)
    runtime.ok("delete", cid)


@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "15", None])
def test_kill_forms_of_sigterm(runtime, bundle, cid, sig):
    # `probe signal-exit` exits 0 on TERM; as pid 1 it would ignore a TERM it has no handler for.
    pid = runtime.start_sleeper(bundle, cid, "signal-exit")
    wait_signal_caught(pid)
    # Without a signal, kill sends SIGTERM.
    runtime.ok("kill", cid, *([sig] if sig else []))
    runtime.wait_status(cid, "stopped")
    runtime.ok("delete", cid)


def test_kill_before_start(runtime, bundle, cid):
    pid = runtime.create(bundle.set_probe("sleep", "60"), cid)
    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: pid_gone(pid), what="pid %d to exit" % pid)
    runtime.ok("delete", cid)
    assert runtime("state", cid).rc != 0


def test_delete_force_running(runtime, bundle, cid):
    pid = runtime.start_sleeper(bundle, cid)
    assert runtime.status(cid) == "running"
    runtime.ok("delete", "--force", cid)
    assert runtime("state", cid).rc != 0
    wait_for(lambda: pid_gone(pid), what="pid %d to exit" % pid)


def test_delete_force_created(runtime, bundle, cid):
    pid = runtime.create(bundle.set_probe("sleep", "60"), cid)
    runtime.ok("delete", "--force", cid)
    assert runtime("state", cid).rc != 0
    wait_for(lambda: pid_gone(pid), what="pid %d to exit" % pid)


def test_delete_stopped(runtime, bundle, cid):
    runtime.create(bundle.set_probe("exit", "0"), cid)
    runtime.ok("start", cid)
    runtime.wait_status(cid, "stopped")
    runtime.ok("delete", cid)
    assert runtime("state", cid).rc != 0
    assert runtime.list_ids() == []


def test_concurrent_state(runtime, bundle, cid):
    pid = runtime.start_sleeper(bundle, cid)
    results, errors = [], []

    def worker():
        try:
            for _ in range(3):
                results.append(runtime("state", cid))
        except BaseException as e:  # pytest.fail raises outside Exception
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 * 3
    for r in results:
        assert r.rc == 0, r.stderr
        state = json.loads(r.stdout)
        assert (state["id"], state["pid"], state["status"]) == (cid, pid, "running")
    runtime.destroy(cid)


def test_list(runtime, make_bundle, ctx):
    created, running = ctx.new_id(), ctx.new_id()
    b1, b2 = make_bundle(), make_bundle()
    runtime.create(b1.set_probe("sleep", "60"), created)
    runtime.start_sleeper(b2, running)

    assert sorted(runtime.list_ids()) == sorted([created, running])

    table = runtime.ok("list").stdout
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:] if line.strip()}
    assert set(rows) == {created, running}

    listed = json.loads(runtime.ok("list", "--format", "json").stdout)
    by_id = {c["id"]: c for c in listed}
    assert set(by_id) == {created, running}
    assert by_id[created]["status"] == "created"
    assert by_id[running]["status"] == "running"
    for c, b in ((created, b1), (running, b2)):
        assert by_id[c]["pid"] == runtime.state(c)["pid"]
        assert os.path.realpath(by_id[c]["bundle"]) == os.path.realpath(b.path)

    runtime.destroy(created)
    runtime.destroy(running)
    assert runtime.list_ids() == []
    assert json.loads(runtime.ok("list", "--format", "json").stdout or "[]") in ([], None)


def test_exec_exit_code_and_pid_namespace(runtime, bundle, cid, ctx):
    pid = runtime.start_sleeper(bundle, cid)

    assert runtime("exec", cid, PROBE_IN_CONTAINER, "exit", "5").rc == 5
    assert runtime("exec", cid, PROBE_IN_CONTAINER, "exit", "0").rc == 0

    pid_file = os.path.join(ctx.dir, "exec.pid")
    result = runtime.ok("exec", "--pid-file", pid_file, cid, PROBE_IN_CONTAINER, "info")
    info = json.loads(result.stdout)
    assert info["ns"]["pid"] == os.readlink("/proc/%d/ns/pid" % pid)
    assert info["ns"]["mnt"] == os.readlink("/proc/%d/ns/mnt" % pid)
    assert info["pid"] != 1
    assert info["ppid"] == 0  # its parent lives outside the container's pid namespace

    # The container's pid 1 and the exec'd process see each other.
    pids = json.loads(runtime.ok("exec", cid, PROBE_IN_CONTAINER, "pids").stdout)
    assert 1 in pids and len(pids) == 2
    runtime.destroy(cid)


def test_exec_env_cwd_and_process_file(runtime, bundle, cid, ctx):
    runtime.start_sleeper(bundle, cid)

    result = runtime.ok("exec", "--env", "BERTH_X=42", "--cwd", "/tmp", cid, PROBE_IN_CONTAINER, "info")
    info = json.loads(result.stdout)
    assert "BERTH_X=42" in info["env"]
    assert info["cwd"] == "/tmp"

    process = dict(bundle.config["process"], args=[PROBE_IN_CONTAINER, "exit", "7"], cwd="/")
    process_file = os.path.join(ctx.dir, "process.json")
    with open(process_file, "w") as f:
        json.dump(process, f)
    assert runtime("exec", "--process", process_file, cid).rc == 7
    runtime.destroy(cid)


def test_exec_detach(runtime, bundle, cid, ctx):
    pid = runtime.start_sleeper(bundle, cid)
    pid_file = os.path.join(ctx.dir, "exec.pid")
    runtime.ok("exec", "--detach", "--pid-file", pid_file, cid, PROBE_IN_CONTAINER, "sleep", "60")
    with open(pid_file) as f:
        exec_pid = int(f.read())
    assert exec_pid != pid
    assert os.readlink("/proc/%d/ns/pid" % exec_pid) == os.readlink("/proc/%d/ns/pid" % pid)
    # Killing the container takes the exec'd process with it (it is in the same pid namespace).
    runtime.destroy(cid)
    wait_for(lambda: pid_gone(exec_pid), what="exec'd pid %d to exit" % exec_pid)


def test_spec_writes_valid_config(runtime, ctx, bundle, cid):
    spec_dir = os.path.join(ctx.dir, "spec")
    os.mkdir(spec_dir)
    runtime.ok("spec", cwd=spec_dir)
    with open(os.path.join(spec_dir, "config.json")) as f:
        config = json.load(f)
    assert config["ociVersion"].startswith("1.")
    assert config["root"]["path"] == "rootfs"
    assert config["process"]["args"]
    assert config["process"]["cwd"] == "/"
    ns_types = {n["type"] for n in config["linux"]["namespaces"]}
    assert {"pid", "mount", "network", "ipc", "uts"} <= ns_types
    assert any(m["destination"] == "/proc" for m in config["mounts"])

    # What `spec` wrote runs, once given a process the test can see and its own cgroup.
    config["process"]["terminal"] = False
    config["process"]["args"] = [PROBE_IN_CONTAINER, "info"]
    config["linux"]["cgroupsPath"] = bundle.cgroups_path
    bundle.config = config
    bundle.save()
    result = runtime("run", "--bundle", bundle.path, cid)
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout)["pid"] == 1


def test_features(runtime):
    features = json.loads(runtime.ok("features").stdout)
    assert isinstance(features, dict)
    for key in ("ociVersionMin", "ociVersionMax"):
        assert isinstance(features[key], str) and features[key].startswith("1."), key


def test_delete_cleans_up_after_a_create_that_was_killed(runtime, bundle, cid, ctx):
    """The runtime dies halfway through create (here: SIGKILL while a prestart hook runs, after
    the cgroup exists and the setup processes were forked). `delete` removes what it left."""
    import signal
    import subprocess

    started = os.path.join(ctx.dir, "hook-started")
    hook = os.path.join(ctx.dir, "slow-hook.sh")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\ntouch %s\nexec sleep 30\n" % started)
    os.chmod(hook, 0o755)
    bundle.set_probe("sleep", "60")
    bundle.config["hooks"] = {"prestart": [{"path": hook}]}
    bundle.save()
    proc = subprocess.Popen(runtime.argv(["create", "--bundle", bundle.path, cid]), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: os.path.exists(started), what="the prestart hook to start")
        cgroup_dirs = [d for d in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup")
                       if os.path.isdir(d + bundle.cgroups_path)]
        assert cgroup_dirs, "the cgroup should exist while create runs"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runtime and its hook, by process group
        proc.wait()
    assert os.path.isdir(os.path.join(runtime.root, cid))
    result = runtime("delete", cid)
    assert result.rc == 0, result.stderr
    assert not os.path.exists(os.path.join(runtime.root, cid))
    for d in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified"):
        assert not os.path.isdir(d + bundle.cgroups_path), d + bundle.cgroups_path
