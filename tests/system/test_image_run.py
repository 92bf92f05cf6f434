# SPDX-License-Identifier: LGPL-2.1-or-later
"""`berth run IMAGE` (issue 6): layers by chain id, an overlay rootfs per container, the bundle
from the image config, berth-runtime in the foreground.

A module fixture starts the local registry (registry.py), builds busybox images with umoci (one
with a second layer holding a whiteout, one with an Entrypoint and Cmd) and pushes them with
skopeo. Every test runs with its own --storage inside the test's directory, so the conftest
leak check sees any mount left there.
"""

import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import BUILD_DIR, skip_or_fail, wait_for
from registry import TOOLS, Registry, berth_run, build_image, free_port, require, run, run_on_pty

BERTH = os.path.join(BUILD_DIR, "berth")


class Env:
    pass


@pytest.fixture(scope="module")
def images():
    require(TOOLS, BERTH)
    if os.geteuid() != 0:
        skip_or_fail("berth run needs root")
    root = tempfile.mkdtemp(prefix="berth-run-")
    e = Env()
    e.registry = Registry(root)
    try:
        layout = os.path.join(root, "layout")
        build_image(layout, "base")
        # A second layer: a file, and a whiteout of /bin/sh (overlay must hide it).
        run(["umoci", "unpack", "--image", layout + ":base", os.path.join(root, "b")])
        with open(os.path.join(root, "b", "rootfs", "hello"), "w") as f:
            f.write("layer two\n")
        os.unlink(os.path.join(root, "b", "rootfs", "bin", "sh"))
        run(["umoci", "repack", "--image", layout + ":two", os.path.join(root, "b")])
        # Entrypoint and Cmd.
        run(["umoci", "config", "--image", layout + ":base", "--tag", "ep",
             "--config.entrypoint", "/bin/busybox", "--config.entrypoint", "echo",
             "--config.cmd", "from-cmd", "--config.env", "FROM_IMAGE=yes"])
        host = e.registry.host
        push = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        for tag in ("base", "two", "ep"):
            run(push + ["oci:%s:%s" % (layout, tag), "docker://%s/test/run:%s" % (host, tag)])
        e.base = "%s/test/run:base" % host
        e.two = "%s/test/run:two" % host
        e.ep = "%s/test/run:ep" % host
        yield e
    finally:
        e.registry.stop()
        shutil.rmtree(root, ignore_errors=True)


def containers(storage):
    d = os.path.join(storage, "containers")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if path in line]


def test_echo_and_cleanup(images, storage):
    p = berth_run(storage, "--rm", images.base, "/bin/busybox", "echo", "hi", check=0)
    assert p.stdout == "hi\n"
    assert containers(storage) == []
    assert mounts_under(storage) == []


def test_exit_code(images, storage):
    berth_run(storage, "--rm", images.base, "sh", "-c", "exit 3", check=3)
    # A relative --storage works too (made absolute before anything is mounted).
    p = subprocess.run([BERTH, "run", "--storage", "storage", "--rm", images.base, "sh", "-c", "exit 4"],
                       cwd=os.path.dirname(storage), capture_output=True, text=True, timeout=60)
    assert p.returncode == 4, p.stderr
    assert containers(storage) == []


@pytest.mark.parametrize("args, status, words", [
    (["no-such-program"], 127, 'exec "no-such-program": executable file not found in $PATH'),
    (["/no/such/program"], 127, 'exec "/no/such/program": No such file or directory'),
    (["/hello"], 126, 'exec "/hello": Permission denied'),  # a 0644 file of the second layer
    (["/bin"], 126, 'exec "/bin": Permission denied'),  # found, then refused by execve()
], ids=["not-in-path", "no-such-path", "not-executable", "a-directory"])
@pytest.mark.parametrize("detach", [False, True], ids=["foreground", "detached"])
def test_exit_status_of_a_program_that_cannot_run(images, storage, args, status, words, detach):
    """Docker's and Podman's statuses: 127 not found, 126 cannot execute, 125 berth's own failure;
    told apart from a container that exits 1 by the runtime's own log, not by guessing."""
    opts = ["-d"] if detach else []
    p = berth_run(storage, "--rm", *opts, images.two, *args)
    if detach and args == ["/bin"]:
        # execve() fails after start: the container ran (and exited 126), as with docker run -d.
        assert p.returncode == 0, p.stderr
        wait_for(lambda: containers(storage) == [], what="the --rm container to go")
    else:
        assert p.returncode == status, "rc %d: %s" % (p.returncode, p.stderr)
        assert words in p.stderr, p.stderr
    assert containers(storage) == []
    assert mounts_under(storage) == []


def test_exit_status_of_a_runtime_failure(images, storage, ctx):
    """A failure of the runtime that is not about the program (here a volume whose host path does
    not exist) is 125; a container exiting 1 stays 1."""
    p = berth_run(storage, "--rm", "-v", "%s/missing:/data" % ctx.dir, images.base, "true")
    assert p.returncode == 125, "rc %d: %s" % (p.returncode, p.stderr)
    assert "missing" in p.stderr, p.stderr
    berth_run(storage, "--rm", images.base, "sh", "-c", "echo error >&2; exit 1", check=1)
    assert containers(storage) == []


def test_stdin_only_with_interactive(images, storage):
    """As with Docker: without -i the container reads /dev/null, with -i it gets berth's stdin."""
    p = berth_run(storage, "--rm", "-i", images.base, "/bin/busybox", "cat", input="from stdin\n", check=0)
    assert p.stdout == "from stdin\n"
    p = berth_run(storage, "--rm", images.base, "/bin/busybox", "cat", input="from stdin\n", check=0)
    assert p.stdout == ""


def test_env_workdir_user(images, storage):
    p = berth_run(storage, "--rm", "-e", "FOO=bar", "-w", "/made/here", "-u", "1000:1001", images.base, "sh", "-c",
                  "echo $FOO; busybox pwd; busybox id -u; busybox id -g", check=0)
    assert p.stdout.split() == ["bar", "/made/here", "1000", "1001"]


def test_entrypoint_cmd_default(images, storage):
    p = berth_run(storage, "--rm", images.ep, check=0)
    assert p.stdout == "from-cmd\n"
    p = berth_run(storage, "--rm", images.ep, "other", "args", check=0)
    assert p.stdout == "other args\n"
    p = berth_run(storage, "--rm", images.ep, "$FROM_IMAGE", check=0)
    assert p.stdout == "$FROM_IMAGE\n"  # no shell: Entrypoint is exec'd as is


def test_volume(images, storage, ctx):
    host = os.path.join(ctx.dir, "vol")
    os.makedirs(host)
    with open(os.path.join(host, "in"), "w") as f:
        f.write("from host\n")
    p = berth_run(storage, "--rm", "-v", "%s:/data" % host, images.base, "sh", "-c",
                  "busybox cat /data/in; echo written > /data/out", check=0)
    assert p.stdout == "from host\n"
    with open(os.path.join(host, "out")) as f:
        assert f.read() == "written\n"
    p = berth_run(storage, "--rm", "-v", "%s:/data:ro" % host, images.base, "sh", "-c",
                  "echo no > /data/ro", check=None)
    assert p.returncode != 0 and "Read-only" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(host, "ro"))


def test_memory_limit(images, storage, ctx):
    """--memory and --pids-limit reach the container's cgroup (read on the host while it runs)."""
    from test_resources import cgroup_file

    gate = os.path.join(ctx.dir, "gate")
    os.makedirs(gate)
    name = "mem-" + ctx.tag
    proc = subprocess.Popen([BERTH, "run", "--storage", storage, "--rm", "--name", name, "--memory", "64m",
                             "--pids-limit", "50", "-v", "%s:/gate" % gate, images.base, "sh", "-c",
                             "while [ ! -e /gate/go ]; do busybox usleep 20000; done"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ctx.popens.append(proc)
    try:
        mem = cgroup_file("/berth/" + name, "memory", "memory.limit_in_bytes", "memory.max")
        pids = cgroup_file("/berth/" + name, "pids", "pids.max", "pids.max")
        wait_for(lambda: os.path.exists(mem) and os.path.exists(pids), what="the container's cgroup")
        with open(mem) as f:
            assert int(f.read()) == 64 << 20
        with open(pids) as f:
            assert int(f.read()) == 50
    finally:
        open(os.path.join(gate, "go"), "w").close()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not os.path.exists(os.path.dirname(mem))


def test_sigterm_forwarded(images, storage, ctx):
    """SIGTERM to berth run reaches the container; --rm still cleans up."""
    import signal

    proc = subprocess.Popen([BERTH, "run", "--storage", storage, "--rm", images.base, "sh", "-c",
                             "trap 'exit 7' TERM; echo ready; while :; do busybox usleep 20000; done"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ctx.popens.append(proc)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 7, err
    assert containers(storage) == [] and mounts_under(storage) == []


def test_layers_unpacked_once(images, storage):
    berth_run(storage, "--rm", images.two, "/bin/busybox", "cat", "/hello", check=0)
    layers = os.path.join(storage, "layers")
    first = {n: os.stat(os.path.join(layers, n)).st_ino for n in os.listdir(layers)}
    assert len(first) == 2 and not any(n.startswith(".") for n in first)
    p = berth_run(storage, "--rm", images.two, "/bin/busybox", "cat", "/hello", check=0)
    assert p.stdout == "layer two\n"
    second = {n: os.stat(os.path.join(layers, n)).st_ino for n in os.listdir(layers)}
    assert first == second
    # The base image shares the first chain id: nothing new is unpacked.
    berth_run(storage, "--rm", images.base, "/bin/busybox", "true", check=0)
    assert {n: os.stat(os.path.join(layers, n)).st_ino for n in os.listdir(layers)} == first


def test_whiteout_hides_lower_file(images, storage):
    p = berth_run(storage, "--rm", images.two, "/bin/busybox", "ls", "/bin", check=0)
    assert p.stdout.split() == ["busybox"]
    # The lower layer still has it: the whiteout lives in the upper chain-id dir only.
    p = berth_run(storage, "--rm", images.base, "/bin/busybox", "ls", "/bin", check=0)
    assert sorted(p.stdout.split()) == ["busybox", "sh"]


def test_keep_without_rm(images, storage):
    p = berth_run(storage, "--name", "kept", images.base, "sh", "-c", "echo x > /made", check=0)
    assert containers(storage) == ["kept"]
    assert mounts_under(storage) == []  # unmounted, upper kept for inspection
    with open(os.path.join(storage, "containers", "kept", "upper", "made")) as f:
        assert f.read() == "x\n"
    p = berth_run(storage, "--name", "kept", images.base, "true", check=125)
    assert "container kept already exists" in p.stderr, p.stderr
    assert os.path.exists(os.path.join(storage, "containers", "kept", "upper", "made"))
    shutil.rmtree(os.path.join(storage, "containers", "kept"))


def test_failed_before_start_leaves_nothing(images, storage):
    """A container that never started (an unknown user) is removed even without --rm."""
    p = berth_run(storage, "--name", "nouser", "-u", "nobody", images.base, "true", check=125)
    assert len(p.stderr.strip().splitlines()) <= 2 and "nobody" in p.stderr, p.stderr
    assert containers(storage) == [] and mounts_under(storage) == []


def test_tty(images, storage):
    """-t gives the container a terminal (berth run's own stdio is a pty here)."""
    p = run_on_pty([BERTH, "run", "--storage", storage, "--rm", "-t", images.base, "sh", "-c",
                    "[ -t 0 ] && [ -t 1 ] && echo tty-yes"], on=("stdin", "stdout"))
    assert p.returncode == 0, p.stderr
    assert "tty-yes" in p.pty


def test_output_reader_going_away(images, storage):
    """berth run copies the container's output to its own; when its reader goes away, the writer
    in the container gets SIGPIPE as if it had written there itself, and berth neither hangs nor
    dies (the container's stderr still arrives)."""
    proc = subprocess.Popen([BERTH, "run", "--rm", "--storage", storage, images.base, "sh", "-c",
                             "busybox yes; echo yes-ended-$? >&2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "y\n"
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 0, err
    assert "yes-ended-141" in err  # 128 + SIGPIPE
    assert containers(storage) == [] and mounts_under(storage) == []


def test_registry_down(storage):
    ref = "127.0.0.1:%d/nothing/here:latest" % free_port()
    p = berth_run(storage, "--rm", ref, check=125)
    lines = [x for x in p.stderr.splitlines() if x.startswith("berth: run")]
    assert len(lines) == 1 and ref in lines[0] and "pull" in lines[0], p.stderr
    assert containers(storage) == []


@pytest.mark.parametrize("spec", ["relative:/x", "/a", "/a:/b:rx", "/a:b"])
def test_bad_volume(images, storage, spec):
    p = berth_run(storage, "--rm", "-v", spec, images.base, "true", check=125)
    assert len(p.stderr.splitlines()) == 1 and spec in p.stderr, p.stderr
    assert containers(storage) == []
    assert mounts_under(storage) == []


def test_bad_options(storage):
    for args in (["--memory", "lots"], ["--network", "bridge"], ["--name", "../x"], ["-e", "=x"], []):
        p = berth_run(storage, *(args + (["img"] if args else [])), check=125)
        assert p.stderr.startswith("berth: run"), p.stderr


def test_copy_without_overlay(images, storage):
    """Where overlayfs is not used, the rootfs is a copy of the flattened layers (whiteouts applied)."""
    env = dict(os.environ, BERTH_NO_OVERLAY="1")
    p = berth_run(storage, "--name", "copy", images.two, "sh", "-c", "true", check=None, env=env)
    # /bin/sh is whited out by the second layer: the copy must not have it.
    assert p.returncode != 0 and "not found" in p.stderr, p.stderr
    p = berth_run(storage, "--rm", images.two, "/bin/busybox", "ls", "/bin", check=0, env=env)
    assert p.stdout.split() == ["busybox"]
    assert os.path.exists(os.path.join(storage, "containers", "copy", "rootfs", "hello"))
    assert mounts_under(storage) == []
    shutil.rmtree(os.path.join(storage, "containers", "copy"))


def sha256_hex(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


def store_blob(storage, data):
    h = sha256_hex(data)
    with open(os.path.join(storage, "blobs", "sha256", h), "wb") as f:
        f.write(data)
    return "sha256:" + h


def read_image(storage, name):
    import json

    with open(os.path.join(storage, "names.json")) as f:
        digest = json.load(f)["names"][name]
    with open(os.path.join(storage, "blobs", "sha256", digest[7:])) as f:
        manifest = json.load(f)
    with open(os.path.join(storage, "blobs", "sha256", manifest["config"]["digest"][7:])) as f:
        config = json.load(f)
    return manifest, config


def test_chain_ids(images, storage):
    """layers/ holds one dir per chain id, named as the image spec computes them."""
    berth_run(storage, "--rm", images.two, "/bin/busybox", "true", check=0)
    _, config = read_image(storage, images.two)
    diff_ids = config["rootfs"]["diff_ids"]
    chain = [diff_ids[0]]
    for d in diff_ids[1:]:
        chain.append("sha256:" + sha256_hex(("%s %s" % (chain[-1], d)).encode()))
    assert sorted(os.listdir(os.path.join(storage, "layers"))) == sorted(c[7:] for c in chain)


def test_diff_id_mismatch(images, storage):
    """A config whose diff_id does not match the layer: an error, and nothing half-unpacked stays."""
    import json

    subprocess.run([BERTH, "pull", "--storage", storage, images.base], check=True, capture_output=True)
    # berth pull (as root) unpacked the good image's layers already: only those may be there.
    layers_before = sorted(os.listdir(os.path.join(storage, "layers"))) if os.geteuid() == 0 else []
    manifest, config = read_image(storage, images.base)
    config["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
    cdata = json.dumps(config).encode()
    manifest["config"] = dict(manifest["config"], digest=store_blob(storage, cdata), size=len(cdata))
    mdigest = store_blob(storage, json.dumps(manifest).encode())
    with open(os.path.join(storage, "names.json")) as f:
        names = json.load(f)
    bad = "127.0.0.1:1/test/bad:latest"
    names["names"][bad] = mdigest
    with open(os.path.join(storage, "names.json"), "w") as f:
        json.dump(names, f)
    p = berth_run(storage, "--rm", bad, "/bin/busybox", "true", check=125)
    assert "diff_id" in p.stderr and len(p.stderr.splitlines()) == 1, p.stderr
    assert sorted(os.listdir(os.path.join(storage, "layers"))) == layers_before
    assert containers(storage) == []
