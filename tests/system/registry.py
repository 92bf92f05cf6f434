# SPDX-License-Identifier: LGPL-2.1-or-later
"""A local registry for the image tests: Debian's docker-registry on 127.0.0.1 (a free port,
storage in a temp dir, stopped by pid), and a small busybox image built with umoci.

Shared by the test_image_*.py files, with berth_run() for the tests that run containers (in
conftest's `storage`) and run_on_pty() for those that read a terminal.
"""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from conftest import BUILD_DIR

BERTH = os.path.join(BUILD_DIR, "berth")
BUSYBOX = "/bin/busybox"
TOOLS = ("docker-registry", "umoci", "skopeo")


def require(tools, berth):
    """Skip (or fail, where tests must run) unless @tools are installed and @berth is built."""
    from conftest import skip_or_fail

    for tool in tools:
        if not shutil.which(tool):
            skip_or_fail("%s is not installed (scripts/deps.sh)" % tool)
    if not os.path.exists(berth):
        skip_or_fail("%s is not built" % berth)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (cmd, p.returncode, p.stdout, p.stderr))
    return p


def berth_run(storage, *args, check=None, timeout=60, **kw):
    """`berth run --storage STORAGE ARGS...`, text output captured; @check: the status it must exit with."""
    p = subprocess.run([BERTH, "run", "--storage", storage] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)
    if check is not None:
        assert p.returncode == check, "rc %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    return p


class PtyResult:
    pass


def run_on_pty(argv, on=("stdout",), timeout=60):
    """Runs @argv with the streams named in @on ("stdin", "stdout", "stderr") on one new pty and
    the others on pipes (stdin on /dev/null). Returns .returncode, .pty (all the pty showed),
    .stdout and .stderr (the piped ones, else ""), as text."""
    import pty

    primary, secondary = pty.openpty()
    streams = {k: secondary if k in on else (subprocess.DEVNULL if k == "stdin" else subprocess.PIPE)
               for k in ("stdin", "stdout", "stderr")}
    try:
        proc = subprocess.Popen(argv, close_fds=True, **streams)
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO once every holder of the terminal closed it
                break
            if not data:
                break
            chunks.append(data)
        res = PtyResult()
        res.stdout, res.stderr = (proc.stdout.read().decode() if proc.stdout else "",
                                  proc.stderr.read().decode() if proc.stderr else "")
        res.returncode = proc.wait(timeout=timeout)
        res.pty = b"".join(chunks).decode()
        for f in (proc.stdout, proc.stderr):
            if f:
                f.close()
        return res
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    def __init__(self, root, auth=""):
        self.root = root
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        config = os.path.join(root, "config.yml")
        with open(config, "w") as f:
            f.write(
                "version: 0.1\n"
                "log: {level: error}\n"
                "storage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\n"
                "http: {addr: %s}\n" % (os.path.join(root, "data"), self.host)
            )
            f.write(auth)
        self.log = open(os.path.join(root, "registry.log"), "w")
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", config], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen("http://%s/v2/" % self.host, timeout=1).read()
                break
            except urllib.error.HTTPError:
                break  # 401 from a registry with auth: it is up
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("docker-registry did not start")
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def build_image(layout, tag, arch="amd64"):
    """An OCI image DIR:TAG with /bin/busybox and a sh symlink, built with umoci."""
    if not os.path.exists(os.path.join(layout, "index.json")):
        run(["umoci", "init", "--layout", layout])
    image = "%s:%s" % (layout, tag)
    run(["umoci", "new", "--image", image])
    src = tempfile.mkdtemp(prefix="berth-pull-src-")
    try:
        os.makedirs(os.path.join(src, "bin"))
        shutil.copy2(BUSYBOX, os.path.join(src, "bin", "busybox"))
        os.symlink("busybox", os.path.join(src, "bin", "sh"))
        run(["umoci", "insert", "--image", image, os.path.join(src, "bin"), "/bin"])
    finally:
        shutil.rmtree(src)
    run(["umoci", "config", "--image", image, "--architecture", arch, "--os", "linux", "--config.cmd", "/bin/sh"])
