# SPDX-License-Identifier: LGPL-2.1-or-later
"""The container lifecycle of `berth run` (issue 6): run -d, ps, logs, exec, stop, rm.

A module fixture builds busybox images with umoci (every applet linked, an /etc/passwd, one with
a StopSignal); each test loads them into its own --storage inside the test's directory with
`berth image load`, so the conftest leak check sees any mount left there. Every test ends with
no container directory, runtime state, mount, cgroup, monitor or container process of its own.
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import BUILD_DIR, BUSYBOX, WAIT_TIMEOUT, proc_starttime, skip_or_fail, wait_for
from registry import build_image, require, run, run_on_pty

BERTH = os.path.join(BUILD_DIR, "berth")
IMAGE = "localhost/test/ctr:full"
STOPSIG_IMAGE = "localhost/test/ctr:usr1"


@pytest.fixture(scope="module")
def layout():
    require(("umoci",), BERTH)
    if os.geteuid() != 0:
        skip_or_fail("berth run needs root")
    root = tempfile.mkdtemp(prefix="berth-ctr-")
    try:
        path = os.path.join(root, "layout")
        build_image(path, "base")
        bundle = os.path.join(root, "b")
        run(["umoci", "unpack", "--image", path + ":base", bundle])
        rootfs = os.path.join(bundle, "rootfs")
        applets = run([BUSYBOX, "--list-full"]).stdout.split()
        for rel in applets:
            link = os.path.join(rootfs, rel)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink("/bin/busybox", link)
        os.makedirs(os.path.join(rootfs, "etc"), exist_ok=True)
        with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
        with open(os.path.join(rootfs, "etc", "group"), "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n")
        run(["umoci", "repack", "--image", path + ":full", bundle])
        run(["umoci", "config", "--image", path + ":full", "--tag", "usr1", "--config.stopsignal", "SIGUSR1"])
        with open(os.path.join(path, "index.json")) as f:
            doc = json.load(f)
        # berth takes a full reference from io.containerd.image.name.
        doc["manifests"] = [m for m in doc["manifests"]
                            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") in ("full", "usr1")]
        for m in doc["manifests"]:
            tag = m["annotations"]["org.opencontainers.image.ref.name"]
            m["annotations"]["io.containerd.image.name"] = IMAGE if tag == "full" else STOPSIG_IMAGE
        with open(os.path.join(path, "index.json"), "w") as f:
            json.dump(doc, f)
        yield path
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Store:
    """A test's --storage with the images loaded, and what it started."""

    def __init__(self, ctx, layout):
        self.ctx = ctx
        self.path = os.path.join(ctx.dir, "storage")
        self.ids = []
        p = subprocess.run([BERTH, "image", "load", "--storage", self.path, "--dir", layout],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr

    def berth(self, verb, *args, timeout=60, **kw):
        return subprocess.run([BERTH, verb, "--storage", self.path] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)

    def ok(self, verb, *args, **kw):
        p = self.berth(verb, *args, **kw)
        assert p.returncode == 0, "berth %s %s: rc %d\nstdout: %s\nstderr: %s" % (
            verb, " ".join(args), p.returncode, p.stdout, p.stderr)
        return p

    def name(self, what):
        # Unique on the host: the container's cgroup is /berth/<id>.
        cid = "%s-%s" % (what, self.ctx.tag)
        self.ids.append(cid)
        return cid

    def cdir(self, cid):
        return os.path.join(self.path, "containers", cid)

    def run_detached(self, cid, *cmd, image=IMAGE, extra=()):
        p = self.ok("run", "-d", "--name", cid, *extra, image, *cmd)
        assert p.stdout == cid + "\n"
        self.learn(cid)
        return p

    def learn(self, cid):
        """The monitor's and the init's pids, for the conftest leak check."""
        for name in ("monitor.pid", "init.pid"):
            try:
                with open(os.path.join(self.cdir(cid), name)) as f:
                    self.ctx.pids.learn(int(f.read()))
            except FileNotFoundError:
                pass

    def ps(self, *args):
        """{id: status} from `berth ps`."""
        lines = self.ok("ps", *args).stdout.splitlines()
        assert lines[0].split()[:2] == ["CONTAINER", "ID"], lines
        start = lines[0].index("STATUS")
        return {line.split()[0]: line[start:].strip() for line in lines[1:]}

    def runtime_ids(self):
        d = os.path.join(self.path, "runtime")
        return sorted(x for x in os.listdir(d) if not x.startswith(".")) if os.path.isdir(d) else []

    def containers(self):
        d = os.path.join(self.path, "containers")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def mounts(self):
        with open("/proc/self/mountinfo") as f:
            return [line for line in f if self.path in line]

    def assert_gone(self, cid):
        assert cid not in self.containers()
        assert cid not in self.runtime_ids()
        assert [m for m in self.mounts() if "/containers/%s/" % cid in m] == []
        assert glob.glob("/sys/fs/cgroup/*/berth/%s" % cid) == []


@pytest.fixture
def store(ctx, layout):
    s = Store(ctx, layout)
    yield s
    # Whatever a test left: removed through berth itself, which must then leave nothing.
    left = s.containers()
    if left:
        s.berth("rm", "-f", *left)
    for cid in s.ids:
        s.assert_gone(cid)
    wait_for(lambda: not ctx.pids.alive(), what="monitors and containers to exit")
    assert s.containers() == [] and s.runtime_ids() == [] and s.mounts() == []
    assert left == [], "test left containers: %s" % left


def wait_exited(store, cid):
    return wait_for(lambda: store.ps("-a").get(cid, "").startswith("Exited ("), what="%s to exit" % cid)


def test_detach_ps_exec(store):
    cid = store.name("up")
    store.run_detached(cid, "sleep", "1000")
    assert store.ps()[cid].startswith("Up ")
    assert cid in store.ok("ps", "-q").stdout.split()
    # exec joins the container's pid namespace: its pid 1 is the container's command.
    p = store.ok("exec", cid, "cat", "/proc/1/cmdline")
    assert p.stdout.split("\0")[:2] == ["sleep", "1000"]
    # and sees only the container's processes: the command as 1, itself
    p = store.ok("exec", cid, "ps", "-o", "pid,args")
    rows = [line.split(None, 1) for line in p.stdout.splitlines()[1:]]
    assert rows[0] == ["1", "sleep 1000"] and [r[1] for r in rows[1:]] == ["ps -o pid,args"], p.stdout
    p = store.ok("exec", "-e", "FOO=bar", "-w", "/etc", "-u", "nobody", cid, "sh", "-c",
                 "echo $FOO; pwd; id -u; echo $HOME")
    assert p.stdout.split() == ["bar", "/etc", "65534", "/nonexistent"]
    p = store.berth("exec", cid, "sh", "-c", "exit 7")
    assert p.returncode == 7, p.stderr
    # the container ran on; rm -f ends it and everything it had
    assert store.ps()[cid].startswith("Up ")
    assert store.ok("rm", "-f", cid).stdout == cid + "\n"
    store.assert_gone(cid)


def test_logs_follow_and_tail(store, ctx):
    gate = os.path.join(ctx.dir, "gate")
    os.makedirs(gate)
    cid = store.name("logs")
    store.run_detached(cid, "sh", "-c",
                       "echo one; echo two >&2; while [ ! -e /gate/go ]; do usleep 20000; done; echo three; "
                       "echo four", extra=("-v", "%s:/gate" % gate))
    wait_for(lambda: store.ok("logs", cid).stdout == "one\ntwo\n", what="the first lines")
    assert store.ok("logs", "--tail", "1", cid).stdout == "two\n"
    assert store.ok("logs", "--tail", "0", cid).stdout == ""
    out_path = os.path.join(ctx.dir, "follow.out")
    with open(out_path, "w") as out:
        follow = subprocess.Popen([BERTH, "logs", "--storage", store.path, "-f", cid], stdout=out,
                                  stderr=subprocess.STDOUT)
    ctx.popens.append(follow)

    def followed():
        with open(out_path) as f:
            return f.read()

    wait_for(lambda: followed() == "one\ntwo\n", what="logs -f to print what is there")
    assert follow.poll() is None
    open(os.path.join(gate, "go"), "w").close()
    # The lines written after it started arrive, and -f ends by itself once the container exited.
    assert follow.wait(timeout=WAIT_TIMEOUT) == 0
    assert followed() == "one\ntwo\nthree\nfour\n"
    assert store.ps("-a")[cid].startswith("Exited (0) ")
    assert store.ok("logs", "--tail", "2", cid).stdout == "three\nfour\n"
    assert store.ok("logs", "--tail", "10", cid).stdout == "one\ntwo\nthree\nfour\n"
    store.ok("rm", cid)
    store.assert_gone(cid)


def test_stop_term(store):
    """A command that handles SIGTERM exits by it: its own status, not SIGKILL's."""
    cid = store.name("term")
    store.run_detached(cid, "sh", "-c", "trap 'echo got TERM; exit 3' TERM; echo ready; "
                                        "while :; do usleep 20000; done")
    wait_for(lambda: store.ok("logs", cid).stdout == "ready\n", what="the trap")
    assert store.ok("stop", "-t", "30", cid).stdout == cid + "\n"
    # stop returns once the exit is recorded
    assert store.ps("-a")[cid].startswith("Exited (3) ")
    assert cid not in store.ps()
    assert store.ok("logs", cid).stdout == "ready\ngot TERM\n"
    assert store.runtime_ids() == [] and store.mounts() == []
    store.ok("rm", cid)
    store.assert_gone(cid)


def test_stop_kill_after_timeout(store):
    """sleep as pid 1 has no handler, so the kernel drops SIGTERM: SIGKILL after -t."""
    cid = store.name("kill")
    store.run_detached(cid, "sleep", "1000")
    assert store.ok("stop", "-t", "1", cid).stdout == cid + "\n"
    assert store.ps("-a")[cid].startswith("Exited (137) ")
    # stopping a stopped container is fine, as in Docker
    assert store.ok("stop", cid).stdout == cid + "\n"
    store.ok("rm", cid)
    store.assert_gone(cid)


def test_stop_signal_from_image(store):
    """The image's StopSignal (SIGUSR1 here) is what stop sends first."""
    cid = store.name("usr1")
    store.run_detached(cid, "sh", "-c", "trap 'exit 4' USR1; trap 'exit 5' TERM; echo ready; "
                                        "while :; do usleep 20000; done", image=STOPSIG_IMAGE)
    wait_for(lambda: store.ok("logs", cid).stdout == "ready\n", what="the trap")
    with open(os.path.join(store.cdir(cid), "container.json")) as f:
        assert '"StopSignal": "SIGUSR1"' in f.read()
    store.ok("stop", "-t", "30", cid)
    assert store.ps("-a")[cid].startswith("Exited (4) ")
    store.ok("rm", cid)


def test_rm_running_refused_then_forced(store):
    cid = store.name("busy")
    store.run_detached(cid, "sh", "-c", "echo kept > /kept; sleep 1000")
    wait_for(lambda: os.path.exists(os.path.join(store.cdir(cid), "upper", "kept")), what="the file")
    with open(os.path.join(store.cdir(cid), "init.pid")) as f:
        init = int(f.read())
    before = sorted(os.listdir(store.cdir(cid)))
    p = store.berth("rm", cid)
    assert p.returncode != 0 and p.stdout == ""
    assert p.stderr == "berth: rm %s: container is running (stop it first, or use 'berth rm -f')\n" % cid
    # nothing changed: still running, same files, still mounted
    assert store.ps()[cid].startswith("Up ")
    assert sorted(os.listdir(store.cdir(cid))) == before
    assert store.ok("exec", cid, "cat", "/kept").stdout == "kept\n"
    assert any("/containers/%s/rootfs" % cid in m for m in store.mounts())
    assert glob.glob("/sys/fs/cgroup/*/berth/%s" % cid) != []
    assert store.ok("rm", "-f", cid).stdout == cid + "\n"
    store.assert_gone(cid)
    assert proc_starttime(init) is None


def test_exited_container_listed_then_removed(store):
    cid = store.name("done")
    store.run_detached(cid, "sh", "-c", "echo bye; exit 6")
    wait_exited(store, cid)
    assert store.ps("-a")[cid].startswith("Exited (6) ")
    assert cid not in store.ps()
    # exited: no runtime state, no mount; the directory (and its upper dir) stays for rm
    assert store.runtime_ids() == [] and store.mounts() == []
    p = store.berth("exec", cid, "true")
    assert p.returncode == 125 and p.stderr == "berth: exec %s: container is not running\n" % cid
    assert store.ok("logs", cid).stdout == "bye\n"
    assert store.ok("rm", cid).stdout == cid + "\n"
    store.assert_gone(cid)
    assert cid not in store.ps("-a")


def test_foreground_exit_recorded_and_logged(store):
    """A foreground container's stdout and stderr reach berth run's own, each on its stream, and
    its log too (as Docker keeps one for attached containers); its exit status is recorded."""
    cid = store.name("fg")
    p = store.berth("run", "--name", cid, IMAGE, "sh", "-c", "echo out; echo err >&2; echo out2; exit 5")
    assert p.returncode == 5 and p.stdout == "out\nout2\n" and p.stderr == "err\n", p.stderr
    assert store.ps("-a")[cid].startswith("Exited (5) ")
    assert sorted(store.ok("logs", cid).stdout.splitlines()) == ["err", "out", "out2"]
    store.ok("rm", cid)
    store.assert_gone(cid)


def test_foreground_with_a_terminal_keeps_no_log(store):
    cid = store.name("fgt")
    p = run_on_pty([BERTH, "run", "--storage", store.path, "--name", cid, "-t", IMAGE, "sh", "-c",
                    "echo on-the-terminal"], on=("stdin", "stdout", "stderr"))
    assert "on-the-terminal" in p.pty
    assert p.returncode == 0
    p = store.berth("logs", cid)
    assert p.returncode == 1 and "with a terminal (-t)" in p.stderr, p.stderr
    store.ok("rm", cid)
    store.assert_gone(cid)


def test_stop_foreground(store, ctx):
    """stop and ps work for a container that `berth run` runs in the foreground too."""
    cid = store.name("fgstop")
    proc = subprocess.Popen([BERTH, "run", "--storage", store.path, "--name", cid, IMAGE, "sh", "-c",
                             "echo ready; sleep 1000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ctx.popens.append(proc)
    assert proc.stdout.readline() == "ready\n"
    assert store.ps()[cid].startswith("Up ")
    assert store.ok("stop", "-t", "1", cid).stdout == cid + "\n"
    out, err = proc.communicate(timeout=WAIT_TIMEOUT)
    assert proc.returncode == 137, err
    assert store.ps("-a")[cid].startswith("Exited (137) ")
    assert store.runtime_ids() == [] and store.mounts() == []
    store.ok("rm", cid)
    store.assert_gone(cid)


def test_detach_rm_cleans_up(store):
    cid = store.name("auto")
    store.run_detached(cid, "sh", "-c", "usleep 200000; exit 2", extra=("--rm",))
    wait_for(lambda: cid not in store.containers(), what="%s to remove itself" % cid)
    store.assert_gone(cid)
    assert store.mounts() == []
    wait_for(lambda: not store.ctx.pids.alive(), what="its monitor to exit")


def test_unknown_ids(store):
    for verb in ("stop", "rm", "logs"):
        p = store.berth(verb, "nosuch")
        assert p.returncode == 1 and p.stderr == "berth: %s nosuch: no such container\n" % verb, p.stderr
    p = store.berth("exec", "nosuch", "true")
    assert p.returncode == 125 and p.stderr == "berth: exec nosuch: no such container\n"
    # a path is no container name
    p = store.berth("rm", "../storage")
    assert p.returncode == 1 and "no such container" in p.stderr
    # several ids: the good ones are handled, the status says one failed
    cid = store.name("one")
    store.run_detached(cid, "true")
    wait_exited(store, cid)
    p = store.berth("rm", "nosuch", cid)
    assert p.returncode == 1 and p.stdout == cid + "\n"
    store.assert_gone(cid)


def test_name_collision(store):
    cid = store.name("same")
    store.run_detached(cid, "sh", "-c", "echo first > /first; sleep 1000")
    wait_for(lambda: os.path.exists(os.path.join(store.cdir(cid), "upper", "first")), what="the file")
    with open(os.path.join(store.cdir(cid), "container.json")) as f:
        meta = f.read()
    for flags in ((), ("-d",), ("-d", "--rm"), ("--rm",)):
        p = store.berth("run", *flags, "--name", cid, IMAGE, "true")
        assert p.returncode == 125, p.stderr
        assert "container %s already exists" % cid in p.stderr
    with open(os.path.join(store.cdir(cid), "container.json")) as f:
        assert f.read() == meta
    assert store.ps()[cid].startswith("Up ")
    assert store.ok("exec", cid, "cat", "/first").stdout == "first\n"
    store.ok("rm", "-f", cid)
    store.assert_gone(cid)


def test_detach_failures_leave_nothing(store):
    # a command that does not exist: create fails; the runtime's reason, one line, Docker's 127
    cid = store.name("nocmd")
    p = store.berth("run", "-d", "--name", cid, IMAGE, "/nonexistent")
    assert p.returncode == 127 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "/nonexistent" in p.stderr, p.stderr
    store.assert_gone(cid)
    # an image that is neither in the store nor anywhere to pull from
    from registry import free_port

    ref = "127.0.0.1:%d/no/such:image" % free_port()
    p = store.berth("run", "-d", "--name", store.name("noimg"), ref, "true",
                    env=dict(os.environ, BERTH_PULL_RETRY_BASE_MS="5"))
    assert p.returncode == 125 and p.stdout == "" and ref in p.stderr
    # -d with -t: refused before anything happens
    p = store.berth("run", "-d", "-t", "--name", store.name("dt"), IMAGE, "true")
    assert p.returncode == 125 and "-d and -t" in p.stderr
    assert store.containers() == [] and store.runtime_ids() == [] and store.mounts() == []


def test_exec_detached_and_status(store, ctx):
    cid = store.name("ex")
    store.run_detached(cid, "sleep", "1000")
    store.ok("exec", "-d", cid, "sh", "-c", "echo bg > /bg")
    wait_for(lambda: store.berth("exec", cid, "cat", "/bg").stdout == "bg\n", what="the detached exec")
    # Docker's and Podman's statuses: 127 not found, 126 cannot execute; the command's own passes.
    p = store.berth("exec", cid, "/nonexistent")
    assert p.returncode == 127 and "/nonexistent" in p.stderr, p.stderr
    p = store.berth("exec", cid, "no-such-program")
    assert p.returncode == 127 and "executable file not found" in p.stderr, p.stderr
    p = store.berth("exec", cid, "/bin")
    assert p.returncode == 126 and "Permission denied" in p.stderr, p.stderr
    p = store.berth("exec", cid, "sh", "-c", "echo failing >&2; exit 1")
    assert (p.returncode, p.stderr) == (1, "failing\n")
    # stdin only with -i, as with Docker
    assert store.berth("exec", "-i", cid, "cat", input="piped\n").stdout == "piped\n"
    assert store.berth("exec", cid, "cat", input="piped\n").stdout == ""
    p = store.berth("exec", "-u", "nosuchuser", cid, "true")
    assert p.returncode == 125 and "nosuchuser" in p.stderr
    p = store.berth("exec", "-d", "-t", cid, "true")
    assert p.returncode == 125
    store.ok("stop", "-t", "0", cid)
    assert store.ps("-a")[cid].startswith("Exited (137) ")
    store.ok("rm", cid)
    store.assert_gone(cid)
