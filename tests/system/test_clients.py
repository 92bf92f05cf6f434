# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real clients driving berth-runtime: Podman (through conmon) and containerd (through ctr and
the runc v2 shim).

The image is made without a registry: an OCI layout holding /bin/busybox, built with umoci.
Podman gets storage of its own (--root/--runroot/--tmpdir); containerd is started by hand with a
config whose root, state, temp dir and sockets all lie in a temp dir, and stopped by pid.
Containers go into cgroups below /berth-test/<test tag>-..., which the leak check of conftest.py
watches; each test also checks that the cgroups the client made for its container are gone.
Each client is skipped (or, under BERTH_MUST_WORK=1, failed) when its binaries are missing;
scripts/deps.sh installs them.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import (
    BUSYBOX,
    CGROUP_PARENT,
    RUNTIME,
    SESSION_TAG,
    mount_point_of,
    mounts_mentioning,
    remove_cgroup_tree,
    skip_or_fail,
    wait_for,
)

CLIENT_TIMEOUT = 60
IMAGE_TAG = "berth"
BUSYBOX_APPLETS = ("sh", "echo", "sleep", "cat", "true", "false")


def need(*binaries):
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        skip_or_fail("%s not installed (scripts/deps.sh installs it)" % ", ".join(missing))


def need_base():
    if not os.access(RUNTIME, os.X_OK):
        skip_or_fail("runtime %s not built" % RUNTIME)
    if not os.access(BUSYBOX, os.X_OK):
        skip_or_fail("%s missing (install busybox-static)" % BUSYBOX)
    if os.geteuid() != 0:
        skip_or_fail("client tests need root")


def run(argv, env=None, timeout=CLIENT_TIMEOUT, check=True):
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(
            "%s exited %d\nstdout: %s\nstderr: %s"
            % (" ".join(argv), result.returncode, result.stdout, result.stderr)
        )
    return result


def unmount_under(path):
    for line in reversed(mounts_mentioning(path)):
        subprocess.run(["umount", "-l", mount_point_of(line)], capture_output=True)


def cgroup_dirs(rel):
    """The dirs of cgroup path rel (absolute, as in /proc/PID/cgroup) that exist, any hierarchy."""
    return [d for d in glob.glob("/sys/fs/cgroup/*" + rel) if os.path.isdir(d)]


def proc_cgroups(pid):
    """The cgroup paths of pid, from /proc/PID/cgroup (v1 controllers only; skip name=, v2 '/')."""
    paths = set()
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers and not controllers.startswith("name="):
                paths.add(path)
    return paths


def expect_cgroups_gone(paths):
    leftovers = []
    for p in paths:
        leftovers += cgroup_dirs(p)
    assert not leftovers, "client/berth left the container's cgroups: %s" % leftovers


@pytest.fixture(scope="module")
def oci_image():
    """An OCI image layout (DIR, TAG) with busybox and a few applet links, made with umoci."""
    need_base()
    need("umoci")
    # Podman names an image pulled from oci:DIR after DIR, so every component of the path must be
    # valid in a reference: lowercase letters and digits, no "-_" (mkdtemp's suffix may give one).
    base = os.path.join(tempfile.gettempdir(), "berth-clients-img-" + os.urandom(6).hex())
    os.mkdir(base, 0o700)
    try:
        src = os.path.join(base, "src")
        os.makedirs(os.path.join(src, "bin"))
        shutil.copy2(BUSYBOX, os.path.join(src, "bin", "busybox"))
        for applet in BUSYBOX_APPLETS:
            os.symlink("busybox", os.path.join(src, "bin", applet))
        layout = os.path.join(base, "layout")
        ref = "%s:%s" % (layout, IMAGE_TAG)
        run(["umoci", "init", "--layout", layout])
        run(["umoci", "new", "--image", ref])
        run(["umoci", "insert", "--image", ref, src, "/"])
        run(["umoci", "config", "--image", ref, "--config.cmd", "sh", "--config.env", "PATH=/bin"])
        yield layout, IMAGE_TAG
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Podman


class Podman:
    def __init__(self, base):
        self.dir = base
        conf = os.path.join(base, "containers.conf")
        with open(conf, "w") as f:
            # Podman's default nofile limit (1048576) is above this host's hard limit of 20000.
            f.write('[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n')
        self.env = dict(os.environ, CONTAINERS_CONF=conf)
        self.image = None

    def argv(self, *args):
        return [
            "podman",
            "--root", os.path.join(self.dir, "root"),
            "--runroot", os.path.join(self.dir, "runroot"),
            "--tmpdir", os.path.join(self.dir, "tmp"),
            "--storage-driver", "overlay",
            "--cgroup-manager=cgroupfs",
            "--events-backend=file",
            "--runtime", RUNTIME,
        ] + list(args)  # fmt: skip

    def __call__(self, *args, check=True):
        return run(self.argv(*args), env=self.env, check=check)

    def run_args(self, ctx, *args):
        """Arguments for `podman run` that keep the container off the network, in a cgroup of
        this test's, and off any registry."""
        return ["run", "--network", "none", "--pull", "never", "--cgroup-parent", podman_parent(ctx)] + list(args)


def podman_parent(ctx):
    return "/%s/%s-podman" % (CGROUP_PARENT, ctx.tag)


@pytest.fixture(scope="module")
def podman(oci_image):
    need("podman", "conmon")
    base = tempfile.mkdtemp(prefix="berth-clients-podman-")
    os.chmod(base, 0o755)
    client = Podman(base)
    try:
        layout, tag = oci_image
        out = client("pull", "-q", "oci:%s:%s" % (layout, tag)).stdout.split()
        assert out, "podman pull printed no image id"
        client.image = out[-1]
        yield client
    finally:
        client("rm", "-a", "-f", "-t", "0", check=False)
        client("system", "reset", "-f", check=False)
        unmount_under(base)
        if not mounts_mentioning(base):
            shutil.rmtree(base, ignore_errors=True)


def podman_done(ctx, podman, container_cgroups=()):
    """After a podman test: no mounts under the storage, the container's cgroups gone. Podman
    leaves conmon's own cgroup (<parent>/conmon) behind by design; remove the parent here."""
    try:
        assert not mounts_mentioning(podman.dir + "/"), "mounts left: %s" % mounts_mentioning(podman.dir + "/")
        expect_cgroups_gone(container_cgroups)
        parent = podman_parent(ctx)
        for d in cgroup_dirs(parent):
            children = sorted(e for e in os.listdir(d) if os.path.isdir(os.path.join(d, e)))
            assert children in ([], ["conmon"]), "cgroups left below %s: %s" % (d, children)
    finally:
        for d in cgroup_dirs(podman_parent(ctx)):
            remove_cgroup_tree(d)


def test_podman_run_rm_echo(ctx, podman):
    result = podman(*podman.run_args(ctx, "--rm", podman.image, "echo", "hello"))
    assert result.stdout == "hello\n"
    assert podman("ps", "-a", "-q").stdout.strip() == ""
    podman_done(ctx, podman)


def test_podman_exit_code(ctx, podman):
    result = podman(*podman.run_args(ctx, "--rm", podman.image, "sh", "-c", "exit 3"), check=False)
    assert result.returncode == 3, result.stderr
    podman_done(ctx, podman)


def test_podman_detached_exec_stop_rm(ctx, podman):
    name = "berth-%s" % ctx.tag
    # A pid 1 that exits on SIGTERM, so `podman stop` needs no SIGKILL.
    script = "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"
    cid = podman(*podman.run_args(ctx, "-d", "--name", name, podman.image, "sh", "-c", script)).stdout.strip()
    cgroups = set()
    try:
        assert cid
        pid = int(podman("inspect", "-f", "{{.State.Pid}}", name).stdout.strip())
        assert pid > 0
        ctx.pids.learn(pid)
        cgroups = proc_cgroups(pid)
        assert cgroups and all(p.startswith(podman_parent(ctx) + "/") for p in cgroups), cgroups

        assert podman("exec", name, "echo", "inside").stdout == "inside\n"
        assert podman("exec", name, "sh", "-c", "exit 4", check=False).returncode == 4
        assert podman("exec", name, "cat", "/proc/1/cmdline").stdout.startswith("sh\0-c\0")

        started = time.monotonic()
        podman("stop", "-t", "10", name)
        assert time.monotonic() - started < 8, "stop needed the SIGKILL fallback"
        state = podman("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name).stdout.split()
        assert state == ["exited", "0"], state
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)
    assert podman("ps", "-a", "-q").stdout.strip() == ""
    podman_done(ctx, podman, cgroups)


# ---------------------------------------------------------------------------------------------
# containerd


class Containerd:
    def __init__(self, base):
        self.dir = base
        self.sock = os.path.join(base, "c.sock")
        self.namespace = "berth-%s" % SESSION_TAG
        self.proc = None
        self.image = "localhost/berth-test:%s" % IMAGE_TAG

    def write_config(self):
        path = os.path.join(self.dir, "config.toml")
        d = self.dir
        with open(path, "w") as f:
            f.write(
                'version = 2\nroot = "%s/root"\nstate = "%s/state"\ntemp = "%s/tmp"\n'
                'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                '[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n'
                '[debug]\n  address = ""\n[metrics]\n  address = ""\n'
                '[plugins."io.containerd.internal.v1.opt"]\n  path = "%s/opt"\n'
                % (d, d, d, self.sock, self.sock, d)
            )
        return path

    def ctr(self, *args, check=True):
        return run(["ctr", "-a", self.sock, "-n", self.namespace] + list(args), check=check)

    def run_args(self, ctx, cid, *args):
        return [
            "run", "--rm", "--runc-binary", RUNTIME, "--cgroup", self.cgroup(ctx, cid), self.image, cid,
        ] + list(args)  # fmt: skip

    def cgroup(self, ctx, cid):
        return "/%s/%s-ctr/%s" % (CGROUP_PARENT, ctx.tag, cid)

    def shims(self):
        """Pids of containerd-shim processes serving our namespace."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and b"containerd-shim" in argv[0] and self.namespace.encode() in argv:
                pids.append(int(entry))
        return pids


@pytest.fixture(scope="module")
def containerd(oci_image):
    need("containerd", "ctr", "containerd-shim-runc-v2", "skopeo")
    base = tempfile.mkdtemp(prefix="berth-ctd-")  # short: the socket path must fit sun_path
    daemon = Containerd(base)
    log = open(os.path.join(base, "containerd.log"), "w")
    try:
        config = daemon.write_config()
        daemon.proc = subprocess.Popen(
            ["containerd", "--config", config], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

        def up():
            if daemon.proc.poll() is not None:
                pytest.fail("containerd exited %d: see %s" % (daemon.proc.returncode, log.name))
            return os.path.exists(daemon.sock) and daemon.ctr("version", check=False).returncode == 0

        wait_for(up, timeout=20, what="containerd to answer on %s" % daemon.sock)
        layout, tag = oci_image
        archive = os.path.join(base, "image.tar")
        run(["skopeo", "copy", "-q", "oci:%s:%s" % (layout, tag), "docker-archive:%s:%s" % (archive, daemon.image)])
        daemon.ctr("images", "import", archive)
        yield daemon
    finally:
        if daemon.proc is not None:
            for cid in daemon.ctr("tasks", "ls", "-q", check=False).stdout.split():
                daemon.ctr("tasks", "kill", "-s", "KILL", cid, check=False)
            for cid in daemon.ctr("containers", "ls", "-q", check=False).stdout.split():
                daemon.ctr("tasks", "delete", "-f", cid, check=False)
                daemon.ctr("containers", "delete", cid, check=False)
            daemon.proc.send_signal(signal.SIGTERM)
            try:
                daemon.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.proc.kill()
                daemon.proc.wait()
        for pid in daemon.shims():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        unmount_under(base)
        if not mounts_mentioning(base):
            shutil.rmtree(base, ignore_errors=True)
        # What the shim writes outside the dirs we gave containerd: the runtime root of our
        # namespace, and (only when empty: other users of containerd may share it) its parents.
        shutil.rmtree("/run/containerd/runc/%s" % daemon.namespace, ignore_errors=True)
        for d in ("/run/containerd/runc", "/run/containerd/fifo", "/run/containerd/s", "/run/containerd"):
            try:
                os.rmdir(d)
            except OSError:
                pass


def containerd_done(ctx, containerd, *cids):
    assert containerd.ctr("containers", "ls", "-q").stdout.strip() == ""
    assert not containerd.shims(), "shims still running: %s" % containerd.shims()
    assert not mounts_mentioning(containerd.dir + "/"), "mounts left: %s" % mounts_mentioning(containerd.dir + "/")
    expect_cgroups_gone([containerd.cgroup(ctx, cid) for cid in cids])
    root = "/run/containerd/runc/%s" % containerd.namespace
    left = os.listdir(root) if os.path.isdir(root) else []
    assert not left, "runtime state left in %s: %s" % (root, left)
    for d in cgroup_dirs("/%s/%s-ctr" % (CGROUP_PARENT, ctx.tag)):
        remove_cgroup_tree(d)


def test_containerd_run_rm_echo(ctx, containerd):
    cid = ctx.new_id("ctr")
    result = containerd.ctr(*containerd.run_args(ctx, cid, "echo", "hello"))
    assert result.stdout == "hello\n"
    containerd_done(ctx, containerd, cid)


def test_containerd_exit_code(ctx, containerd):
    cid = ctx.new_id("ctr")
    result = containerd.ctr(*containerd.run_args(ctx, cid, "sh", "-c", "exit 3"), check=False)
    assert result.returncode == 3, result.stderr
    containerd_done(ctx, containerd, cid)


def test_containerd_shows_berth_error(ctx, containerd):
    """The shim passes berth's --log JSON message on to the user."""
    cid = ctx.new_id("ctr")
    result = containerd.ctr(*containerd.run_args(ctx, cid, "/nonexistent"), check=False)
    assert result.returncode != 0
    assert "/nonexistent" in result.stderr, result.stderr
    containerd.ctr("containers", "delete", cid, check=False)  # ctr keeps it when create fails
    containerd_done(ctx, containerd, cid)


def test_containerd_detached_exec_pause_kill(ctx, containerd):
    """run -d, then exec, ps, pause/resume and kill: the shim's other runtime calls."""
    cid = ctx.new_id("ctr")
    script = "trap 'exit 7' TERM; while :; do sleep 0.1; done"
    args = containerd.run_args(ctx, cid, "sh", "-c", script)
    args[args.index("--rm")] = "-d"
    containerd.ctr(*args)
    cgroups = set()
    try:
        tasks = dict(line.split()[:2] for line in containerd.ctr("tasks", "ls").stdout.splitlines()[1:])
        pid = int(tasks[cid])
        ctx.pids.learn(pid)
        cgroups = proc_cgroups(pid)
        assert cgroups == {containerd.cgroup(ctx, cid)}, cgroups

        result = containerd.ctr("tasks", "exec", "--exec-id", "e1", cid, "echo", "inside")
        assert result.stdout == "inside\n"
        result = containerd.ctr("tasks", "exec", "--exec-id", "e2", cid, "sh", "-c", "exit 5", check=False)
        assert result.returncode == 5, result.stderr
        assert str(pid) in containerd.ctr("tasks", "ps", cid).stdout

        containerd.ctr("tasks", "pause", cid)
        assert "PAUSED" in containerd.ctr("tasks", "ls").stdout
        containerd.ctr("tasks", "resume", cid)
        assert "RUNNING" in containerd.ctr("tasks", "ls").stdout

        containerd.ctr("tasks", "kill", "-s", "TERM", cid)
        wait_for(lambda: "STOPPED" in containerd.ctr("tasks", "ls").stdout, what="task to stop")
        result = containerd.ctr("tasks", "delete", cid)
        # ctr warns about the exit status of the task it deletes.
        assert "exit code 7" in result.stderr, result.stderr
    finally:
        containerd.ctr("tasks", "delete", "-f", cid, check=False)
        containerd.ctr("containers", "delete", cid, check=False)
    containerd_done(ctx, containerd, cid)
