# SPDX-License-Identifier: LGPL-2.1-or-later
"""Garbage collection of unpacked layers (<storage>/layers/<chainid>) by `berth rmi` and
`berth image prune` (issue 6).

Three images in one OCI layout built with umoci: base (busybox), and a and b, each base plus a
small layer of its own added with `umoci raw add-layer`, so a and b share base's layer. A
container of a is kept (no --rm); its `layers` file says which chain ids it uses.
"""

import fcntl
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

from conftest import BUILD_DIR, skip_or_fail, wait_for
from registry import build_image, require, run

BERTH = os.path.join(BUILD_DIR, "berth")
TOOLS = ("umoci",)


def small_layer(path, name):
    with tarfile.open(path, "w") as t:
        data = (name + "\n").encode()
        i = tarfile.TarInfo(name)
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))


@pytest.fixture(scope="module")
def layout():
    require(TOOLS, BERTH)
    if os.geteuid() != 0:
        skip_or_fail("berth run needs root")
    root = tempfile.mkdtemp(prefix="berth-gc-")
    try:
        lay = os.path.join(root, "layout")
        build_image(lay, "base")
        for tag in ("a", "b"):
            tar = os.path.join(root, tag + ".tar")
            small_layer(tar, "only-in-" + tag)
            run(["umoci", "raw", "add-layer", "--image", lay + ":base", "--tag", tag, tar])
        yield lay
    finally:
        shutil.rmtree(root, ignore_errors=True)


def berth(*args, check=True):
    return run([BERTH] + list(args), check=check)


def layer_dirs(storage):
    d = os.path.join(storage, "layers")
    return set(os.listdir(d)) if os.path.isdir(d) else set()


def chain_ids(storage, ref):
    """The chain-id hexes of @ref's layers, bottom first, from `berth image inspect`."""
    info = json.loads(berth("image", "inspect", "--storage", storage, ref).stdout)
    ids, chain = [], None
    for d in info["Config"]["rootfs"]["diff_ids"]:
        chain = d if chain is None else "sha256:" + hashlib.sha256(("%s %s" % (chain, d)).encode()).hexdigest()
        ids.append(chain.split(":")[1])
    return ids


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if path in line]


def test_rmi_and_prune_remove_unused_layers(layout, ctx):
    storage = os.path.join(ctx.dir, "storage")
    berth("image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/gc")
    base, a = chain_ids(storage, "localhost/gc:a")
    base_b, b = chain_ids(storage, "localhost/gc:b")
    assert base == base_b and a != b
    berth("run", "--storage", storage, "--name", "keep", "localhost/gc:a", "/bin/busybox", "true")
    berth("run", "--storage", storage, "--rm", "localhost/gc:b", "/bin/busybox", "true")
    assert layer_dirs(storage) == {base, a, b}
    with open(os.path.join(storage, "containers", "keep", "layers")) as f:
        assert f.read() == "%s\n%s\n" % (base, a)

    # b's own layer goes; the shared one stays (a's name and the container use it).
    out = berth("rmi", "--storage", storage, "localhost/gc:b").stdout
    assert "Removed 1 unpacked layers" in out
    assert layer_dirs(storage) == {base, a}
    # a's name goes, but the container still uses both of its layers; base is named too.
    out = berth("rmi", "--storage", storage, "localhost/gc:a", "localhost/gc:base").stdout
    assert "Removed 0 unpacked layers" in out
    assert layer_dirs(storage) == {base, a}

    # Leftovers: an interrupted unpack an hour old goes, a fresh one (a pull may be unpacking) stays,
    # an interrupted GC's directory goes.
    layers = os.path.join(storage, "layers")
    old_tmp, new_tmp, gc_left = (os.path.join(layers, n) for n in (".tmp-%s-old" % b, ".tmp-%s-new" % b, ".gc-%s-1" % b))
    for d in (old_tmp, new_tmp, gc_left):
        os.makedirs(os.path.join(d, "sub"))
    hour_ago = time.time() - 2 * 3600
    os.utime(old_tmp, (hour_ago, hour_ago))
    # A container directory without a layers file (an older berth's, or one being made) keeps all.
    legacy = os.path.join(storage, "containers", "legacy")
    os.makedirs(legacy)
    out = berth("image", "prune", "--storage", storage).stdout
    assert "Removed 0 unpacked layers" in out
    assert {base, a} <= layer_dirs(storage)
    os.rmdir(legacy)

    # Once the container is removed, prune removes what nothing uses.
    assert mounts_under(storage) == []
    berth("rm", "--storage", storage, "keep")
    assert not os.path.exists(os.path.join(storage, "containers", "keep"))
    out = berth("image", "prune", "--storage", storage).stdout
    assert "Removed 2 unpacked layers" in out
    assert layer_dirs(storage) == {os.path.basename(new_tmp)}


def test_prune_keeps_layers_of_named_images(layout, ctx):
    storage = os.path.join(ctx.dir, "storage")
    berth("image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/gc")
    berth("run", "--storage", storage, "--rm", "localhost/gc:a", "/bin/busybox", "true")
    before = layer_dirs(storage)
    assert len(before) == 2
    out = berth("image", "prune", "--storage", storage).stdout
    assert "Removed 0 unpacked layers" in out
    assert layer_dirs(storage) == before
    # A second run after rmi and prune unpacks again and works.
    berth("rmi", "--storage", storage, "localhost/gc:a", "localhost/gc:b")
    assert layer_dirs(storage) == {chain_ids(storage, "localhost/gc:base")[0]}
    berth("rmi", "--storage", storage, "localhost/gc:base")
    assert layer_dirs(storage) == set()


# ---- the GC lock (<storage>/gc.lock): shared by pull, load and run, exclusive by rmi and prune ----


def gc_lock(storage, op):
    """The store's GC lock taken as berth takes it (flock on <storage>/gc.lock); close to release."""
    f = open(os.path.join(storage, "gc.lock"), "a+")
    fcntl.flock(f, op)
    return f


def waits_on_flock(pid, path):
    """Whether @pid is blocked in flock() on @path (a "->" entry of /proc/locks)."""
    ino = os.stat(path).st_ino
    with open("/proc/locks") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 5 and fields[1] == "->" and fields[5] == str(pid):
                if int(fields[6].split(":")[2]) == ino:
                    return True
    return False


def test_gc_waits_for_a_shared_holder(layout, ctx):
    """A pull or run between finding a layer and relying on it holds the lock shared: rmi (and
    prune) wait for it, saying so, and remove nothing meanwhile."""
    storage = os.path.join(ctx.dir, "storage")
    berth("image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/gc")
    berth("run", "--storage", storage, "--rm", "localhost/gc:a", "/bin/busybox", "true")
    before = layer_dirs(storage)
    assert len(before) == 2
    holder = gc_lock(storage, fcntl.LOCK_SH)
    p = subprocess.Popen([BERTH, "rmi", "--storage", storage, "localhost/gc:a", "localhost/gc:b", "localhost/gc:base"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        assert "rmi: waiting for the pulls, loads and runs using the store to finish" in line
        assert p.poll() is None
        assert layer_dirs(storage) == before
        assert "localhost/gc:a" in berth("images", "--storage", storage).stdout
        # Other shared holders (a run) go on meanwhile.
        berth("run", "--storage", storage, "--rm", "localhost/gc:b", "/bin/busybox", "true")
        holder.close()
        out, err = p.communicate(timeout=60)
    finally:
        holder.close()
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 0, err
    assert "Removed 3 unpacked layers" in out
    assert layer_dirs(storage) == set()


def test_run_waits_for_gc(layout, ctx):
    """While GC holds the lock, a run does not look for its layers: it waits, then finds (and
    unpacks again) whatever the GC left, and runs."""
    storage = os.path.join(ctx.dir, "storage")
    berth("image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/gc")
    berth("run", "--storage", storage, "--rm", "localhost/gc:a", "/bin/busybox", "true")
    base, a = chain_ids(storage, "localhost/gc:a")
    gc = gc_lock(storage, fcntl.LOCK_EX)
    p = subprocess.Popen([BERTH, "run", "--storage", storage, "--rm", "localhost/gc:a", "/bin/busybox", "echo", "ran"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: waits_on_flock(p.pid, os.path.join(storage, "gc.lock")), what="berth run to wait for gc.lock")
        # What a GC does to a layer directory meanwhile: renamed away, then removed.
        os.rename(os.path.join(storage, "layers", a), os.path.join(storage, "layers", ".gc-%s-1" % a))
        shutil.rmtree(os.path.join(storage, "layers", ".gc-%s-1" % a))
        gc.close()
        out, err = p.communicate(timeout=60)
    finally:
        gc.close()
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 0, err
    assert out == "ran\n"
    assert layer_dirs(storage) == {base, a}
    assert mounts_under(storage) == []
