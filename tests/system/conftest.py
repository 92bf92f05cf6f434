# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for berth's system tests.

The tests drive an OCI runtime binary the way a user (or containerd's shim, or conmon) does and
look at the containers from inside with the static helper `berth-probe`.

Environment:
  BERTH_RUNTIME    the runtime under test (default: <repo>/build/berth-runtime). Point it at
                   /usr/sbin/runc to check the tests themselves against a reference runtime.
  BERTH_BUILD_DIR  the meson build dir holding berth-runtime and tests/helpers/berth-probe (default: <repo>/build).
  BERTH_MUST_WORK  when 1, a missing prerequisite fails the suite instead of skipping it.

Every test gets its own directory (bundles, the runtime's --root, captured output). After each
test an autouse fixture checks that nothing leaked -- mounts, container state, processes, cgroups
-- cleans up whatever did, and then fails the test that leaked it.
"""

import collections
import contextlib
import fcntl
import glob
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.path.abspath(os.environ.get("BERTH_BUILD_DIR") or os.path.join(REPO, "build"))
RUNTIME = os.path.abspath(os.environ.get("BERTH_RUNTIME") or os.path.join(BUILD_DIR, "berth-runtime"))
PROBE = os.path.join(BUILD_DIR, "tests", "helpers", "berth-probe")
BUSYBOX = "/bin/busybox"
MUST_WORK = os.environ.get("BERTH_MUST_WORK") == "1"

# Where the probe lives inside every test rootfs.
PROBE_IN_CONTAINER = "/usr/bin/berth-probe"

# Containers go into cgroups of their own, below this parent in every hierarchy; the session tag
# keeps two concurrent runs of the suite apart.
CGROUP_PARENT = "berth-test"
SESSION_TAG = "s%d" % os.getpid()

# Bound on every wait for the runtime or a container. Generous: it only matters when broken.
WAIT_TIMEOUT = 10.0


def is_berth():
    """Whether the runtime under test is berth (and not a reference runtime such as runc).

    Only berth promises the exact shape of its error messages, so tests check those only here."""
    return "berth" in os.path.basename(RUNTIME)


def skip_or_fail(reason):
    """Skips with a reason, or fails when BERTH_MUST_WORK=1 says the machine must have it all."""
    if MUST_WORK:
        pytest.fail(reason + " (and BERTH_MUST_WORK=1)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------------
# Processes


def proc_starttime(pid):
    """The start time (clock ticks since boot) of pid, or None when it does not exist any more."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may hold spaces; the fields after it are plain.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def proc_state(pid):
    """The one-letter state of pid ("R", "S", "Z", ...), or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1]
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def proc_status_field(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].strip()
    return None


def wait_for(predicate, timeout=WAIT_TIMEOUT, interval=0.01, what="condition"):
    """Polls predicate until it returns something true; returns that, or fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)
        interval = min(interval * 2, 0.1)


def wait_signal_caught(pid, signum=signal.SIGTERM):
    """Waits until pid has a handler for signum (SigCgt), e.g. `probe signal-exit` is ready."""

    def caught():
        try:
            return int(proc_status_field(pid, "SigCgt"), 16) & (1 << (signum - 1))
        except (FileNotFoundError, ProcessLookupError, TypeError):
            return False

    wait_for(caught, what="pid %d to catch signal %d" % (pid, signum))


class PidTracker:
    """The container processes a test learned about (from state output and pid files).

    A pid is remembered with its start time, so a recycled pid is never mistaken for ours."""

    def __init__(self):
        self.pids = {}

    def learn(self, pid):
        pid = int(pid)
        if pid <= 0 or pid in self.pids:
            return
        start = proc_starttime(pid)
        if start is not None:
            self.pids[pid] = start

    def alive(self):
        """The learned pids that still run (a zombie has exited and counts as gone)."""
        return [
            pid
            for pid, start in self.pids.items()
            if proc_starttime(pid) == start and proc_state(pid) not in (None, "Z", "X")
        ]

    def kill_all(self):
        for pid in self.alive():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---------------------------------------------------------------------------------------------
# Bundles


def default_spec():
    """The config.json that `runc spec` writes (runc 1.1), as a dict, with terminal false."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": list(caps),
                "effective": list(caps),
                "permitted": list(caps),
                "ambient": list(caps),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


def build_rootfs_template(dest):
    """A minimal rootfs: static busybox with its applet links, berth-probe, a few files in /etc."""
    dirs = ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var")
    for d in dirs:
        os.makedirs(os.path.join(dest, d), mode=0o755, exist_ok=True)
    os.chmod(os.path.join(dest, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(dest, "bin", "busybox"))
    shutil.copy2(PROBE, os.path.join(dest, PROBE_IN_CONTAINER.lstrip("/")))
    os.chmod(os.path.join(dest, PROBE_IN_CONTAINER.lstrip("/")), 0o755)
    # What `busybox --install -s` does, without running busybox: one symlink per applet.
    applets = subprocess.run([BUSYBOX, "--list-full"], check=True, capture_output=True, text=True).stdout
    for rel in applets.split():
        if "/" not in rel or rel == "bin/busybox":
            continue
        link = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(link), mode=0o755, exist_ok=True)
        if not os.path.lexists(link):
            os.symlink("/bin/busybox", link)
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        "etc/group": "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
        "etc/hostname": "berth-rootfs\n",
    }
    for rel, text in files.items():
        with open(os.path.join(dest, rel), "w") as f:
            f.write(text)


class Bundle:
    """An OCI bundle in a test directory: rootfs/ plus a config.json built from `config`.

    The helpers edit `config` in place and return self, so they chain; save() writes it."""

    def __init__(self, path, cgroups_path):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        self.config = default_spec()
        self.config["linux"]["cgroupsPath"] = cgroups_path
        self.cgroups_path = cgroups_path
        self.set_probe("info")

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    def save(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        return self.path

    def __str__(self):
        return self.path

    def __fspath__(self):
        return self.path

    def set_args(self, *args):
        self.config["process"]["args"] = list(args)
        return self

    def set_probe(self, *args):
        """Makes berth-probe (with these arguments) the container's process."""
        return self.set_args(PROBE_IN_CONTAINER, *args)

    def set_env(self, *env):
        self.config["process"]["env"] = list(env)
        return self

    def set_terminal(self, terminal):
        self.config["process"]["terminal"] = terminal
        return self

    def set_readonly(self, readonly):
        self.config["root"]["readonly"] = readonly
        return self

    def set_hostname(self, hostname):
        """Sets the hostname; None removes the field (needed when the UTS namespace is joined)."""
        if hostname is None:
            self.config.pop("hostname", None)
        else:
            self.config["hostname"] = hostname
        return self

    def set_user(self, uid, gid, additional_gids=None):
        user = {"uid": uid, "gid": gid}
        if additional_gids is not None:
            user["additionalGids"] = list(additional_gids)
        self.config["process"]["user"] = user
        return self

    def set_namespaces(self, *namespaces):
        """Each namespace is a type name ("pid") or a dict ({"type": "net", "path": ...})."""
        self.config["linux"]["namespaces"] = [n if isinstance(n, dict) else {"type": n} for n in namespaces]
        return self

    def add_namespace(self, ns_type, path=None):
        """Adds (or replaces) one namespace entry; with path the container joins that namespace."""
        self.remove_namespace(ns_type)
        entry = {"type": ns_type}
        if path is not None:
            entry["path"] = path
        self.config["linux"]["namespaces"].append(entry)
        return self

    def remove_namespace(self, ns_type):
        namespaces = self.config["linux"]["namespaces"]
        self.config["linux"]["namespaces"] = [n for n in namespaces if n["type"] != ns_type]
        return self

    def add_mount(self, destination, mount_type, source, options=None):
        mount = {"destination": destination, "type": mount_type, "source": source}
        if options is not None:
            mount["options"] = list(options)
        self.config["mounts"].append(mount)
        return self

    def remove_mount(self, destination):
        self.config["mounts"] = [m for m in self.config["mounts"] if m["destination"] != destination]
        return self

    def set_id_mappings(self, uid_mappings, gid_mappings=None):
        """Gives the container a user namespace; mappings are (containerID, hostID, size) tuples.

        The rootfs is owned by host root, which is unmapped inside, so it stays world-readable."""

        def convert(mappings):
            return [{"containerID": c, "hostID": h, "size": s} for c, h, s in mappings]

        self.config["linux"]["uidMappings"] = convert(uid_mappings)
        if gid_mappings is None:
            gid_mappings = uid_mappings
        self.config["linux"]["gidMappings"] = convert(gid_mappings)
        self.add_namespace("user")
        return self


# ---------------------------------------------------------------------------------------------
# The runtime


Result = collections.namedtuple("Result", ["rc", "stdout", "stderr"])


class Runtime:
    """Runs the runtime under test with a per-test --root, capturing output into files.

    Output goes to files rather than pipes: a created container inherits the runtime's stdio, and
    a pipe it holds open would make every caller wait for the container to exit."""

    def __init__(self, ctx, root, binary=RUNTIME):
        self.ctx = ctx
        self.binary = binary
        self.root = root
        self.calls = itertools.count()
        os.makedirs(root, mode=0o700, exist_ok=True)

    def argv(self, args, global_args=()):
        return [self.binary, "--root", self.root, *global_args, *[os.fspath(a) for a in args]]

    def _io_files(self):
        n = next(self.calls)
        io_dir = os.path.join(self.ctx.dir, "io")
        os.makedirs(io_dir, exist_ok=True)
        return os.path.join(io_dir, "%03d.out" % n), os.path.join(io_dir, "%03d.err" % n)

    def __call__(self, *args, global_args=(), timeout=30, cwd=None, fds=()):
        """Runs `runtime --root ROOT [global_args] args...`; returns Result(rc, stdout, stderr).

        fds are open files the runtime gets as its fds 3, 4, ... (what --preserve-fds passes on)."""
        argv = self.argv(args, global_args)
        out_path, err_path = self._io_files()
        with open(out_path, "w+b") as out, open(err_path, "w+b") as err:
            with _fds_from_3(argv, fds) as (argv, pass_fds):
                try:
                    proc = subprocess.run(
                        argv,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        timeout=timeout,
                        cwd=cwd,
                        pass_fds=pass_fds,
                    )
                except subprocess.TimeoutExpired:
                    pytest.fail("%s timed out after %d s" % (" ".join(argv), timeout))
        result = Result(proc.returncode, _read_text(out_path), _read_text(err_path))
        self._learn_pids(args, result)
        return result

    def popen(self, *args, global_args=()):
        """Starts the runtime without waiting (e.g. a foreground `run` a test kills from outside).

        Returns a handle whose wait() gives the same Result as a call."""
        argv = self.argv(args, global_args)
        out_path, err_path = self._io_files()
        out, err = open(out_path, "w+b"), open(err_path, "w+b")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.ctx.popens.append(proc)
        runtime = self

        class Handle:
            def __init__(self):
                self.proc = proc

            def wait(self, timeout=WAIT_TIMEOUT):
                try:
                    rc = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pytest.fail("%s did not exit within %.0f s" % (" ".join(argv), timeout))
                finally:
                    out.close()
                    err.close()
                result = Result(rc, _read_text(out_path), _read_text(err_path))
                runtime._learn_pids(args, result)
                return result

        return Handle()

    def _learn_pids(self, args, result):
        args = [os.fspath(a) for a in args]
        if "--pid-file" in args:
            pid_file = args[args.index("--pid-file") + 1]
            try:
                with open(pid_file) as f:
                    self.ctx.pids.learn(int(f.read().strip()))
            except (OSError, ValueError):
                pass
        if args and args[0] == "state" and result.rc == 0:
            try:
                self.ctx.pids.learn(json.loads(result.stdout).get("pid", 0))
            except (ValueError, AttributeError):
                pass

    # Conveniences that assert success; tests of failure call the runtime directly.

    def ok(self, *args, **kwargs):
        result = self(*args, **kwargs)
        command = " ".join(map(os.fspath, args))
        assert result.rc == 0, "%s failed (rc %d): %s" % (command, result.rc, result.stderr)
        return result

    def create(self, bundle, cid, pid_file=None):
        """Creates cid from bundle (saving its config first); returns the container's pid."""
        bundle.save()
        pid_file = pid_file or os.path.join(self.ctx.dir, cid + ".pid")
        self.ok("create", "--bundle", bundle.path, "--pid-file", pid_file, cid)
        with open(pid_file) as f:
            return int(f.read().strip())

    def state(self, cid):
        return json.loads(self.ok("state", cid).stdout)

    def status(self, cid):
        return self.state(cid)["status"]

    def wait_status(self, cid, status, timeout=WAIT_TIMEOUT):
        what = "container %s to be %s" % (cid, status)
        wait_for(lambda: self.status(cid) == status, timeout=timeout, what=what)

    def start_sleeper(self, bundle, cid, *probe_args):
        """Creates and starts a long-running container (`probe sleep 60` unless told otherwise)."""
        bundle.set_probe(*(probe_args or ("sleep", "60")))
        pid = self.create(bundle, cid)
        self.ok("start", cid)
        return pid

    def run_probe(self, bundle, cid, *probe_args):
        """`run`s the probe in the foreground and returns its parsed JSON output."""
        bundle.set_probe(*probe_args).save()
        result = self("run", "--bundle", bundle.path, cid)
        assert result.rc == 0, "run %s failed (rc %d): %s%s" % (cid, result.rc, result.stderr, result.stdout)
        return json.loads(result.stdout)

    def destroy(self, cid):
        """Kills (SIGKILL) and deletes a container, asserting it is gone afterwards."""
        self("kill", cid, "KILL")
        self.ok("delete", "--force", cid)
        assert self("state", cid).rc != 0

    def list_ids(self):
        result = self("list", "-q")
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]


@contextlib.contextmanager
def _fds_from_3(argv, fds):
    """Yields (argv, pass_fds) that start argv with fds as its fds 3, 4, ...

    subprocess's pass_fds keeps an fd's number, so a small Python trampoline moves them into place
    (from copies at 100 and up, which cannot collide with 3..3+N) and then execs argv."""
    if not fds:
        yield argv, ()
        return
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]
    trampoline = (
        "import os, sys\n"
        "high = [int(f) for f in sys.argv[1].split(',')]\n"
        "for i, fd in enumerate(high):\n"
        "    os.dup2(fd, 3 + i)\n"
        "for fd in high:\n"
        "    os.close(fd)\n"
        "os.execv(sys.argv[2], sys.argv[2:])\n"
    )
    try:
        yield [sys.executable, "-I", "-c", trampoline, ",".join(map(str, high)), *argv], tuple(high)
    finally:
        for fd in high:
            os.close(fd)


def _read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# Leak checks


def cgroup_leftovers(tag):
    """Cgroup dirs this session made that still exist, in any hierarchy."""
    found = []
    for parent in glob.glob("/sys/fs/cgroup/*/%s" % CGROUP_PARENT):
        for d in sorted(glob.glob(os.path.join(parent, tag + "-*")), reverse=True):
            if os.path.isdir(d):
                found.append(d)
    return found


def remove_cgroup_tree(path):
    """rmdir a cgroup and its children, deepest first (cgroupfs only lets empty dirs go)."""
    for dirpath, _dirnames, _files in sorted(os.walk(path), key=lambda e: -e[0].count("/")):
        for attempt in range(50):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                # Killed processes may take a moment to leave the cgroup.
                for pid_line in _read_lines(os.path.join(dirpath, "cgroup.procs")):
                    try:
                        os.kill(int(pid_line), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                time.sleep(0.02)


def _read_lines(path):
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return []


def mounts_mentioning(path):
    with open("/proc/self/mountinfo") as f:
        return [line.rstrip("\n") for line in f if path in line]


def mount_point_of(mountinfo_line):
    # Field 5 is the mount point, with space, tab, newline and backslash escaped as \ooo.
    raw = mountinfo_line.split()[4]
    return raw.encode().decode("unicode_escape")


class CaseContext:
    """What one test owns: its directory, the pids it learned, the runtimes and bundles it made."""

    def __init__(self, path, tag):
        self.dir = path
        self.tag = tag
        self.pids = PidTracker()
        self.runtimes = []
        self.popens = []
        self.bundle_count = itertools.count(1)
        self.id_count = itertools.count(1)

    def new_id(self, prefix="c"):
        return "%s%d" % (prefix, next(self.id_count))

    def find_leaks(self):
        leaks = []
        for line in mounts_mentioning(self.dir):
            leaks.append("mount left behind: " + line)
        for runtime in self.runtimes:
            ids = runtime.list_ids() if os.path.isdir(runtime.root) else []
            if ids:
                leaks.append("containers left in %s: %s" % (runtime.root, ", ".join(ids)))
            try:
                # Hidden entries (a lock file, say) are allowed; state of any container is not.
                entries = [e for e in os.listdir(runtime.root) if not e.startswith(".")]
            except FileNotFoundError:
                entries = []
            if entries:
                leaks.append("state left in %s: %s" % (runtime.root, ", ".join(sorted(entries))))
        alive = self.pids.alive()
        if alive:
            leaks.append("container processes still alive: %s" % ", ".join(map(str, alive)))
        for d in cgroup_leftovers(self.tag):
            leaks.append("cgroup left behind: " + d)
        for proc in self.popens:
            if proc.poll() is None:
                leaks.append("runtime process still running: pid %d" % proc.pid)
        return leaks

    def clean_up(self):
        """Stops and removes whatever the test left, in an order that lets each step succeed:
        runtimes, containers (through the runtime), stray processes, mounts, cgroups."""
        for step in (
            self._stop_popens,
            self._delete_containers,
            self._kill_pids,
            self._unmount,
            self._remove_cgroups,
        ):
            try:
                step()
            except BaseException as e:  # pytest.fail raises outside Exception; go on cleaning
                sys.stderr.write("cleanup step %s failed: %r\n" % (step.__name__, e))

    def _stop_popens(self):
        for proc in self.popens:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=WAIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass

    def _delete_containers(self):
        for runtime in self.runtimes:
            if not os.path.isdir(runtime.root):
                continue
            for cid in runtime.list_ids():
                runtime("kill", cid, "KILL", timeout=WAIT_TIMEOUT)
                runtime("delete", "--force", cid, timeout=WAIT_TIMEOUT)

    def _kill_pids(self):
        self.pids.kill_all()
        deadline = time.monotonic() + WAIT_TIMEOUT
        while self.pids.alive() and time.monotonic() < deadline:
            time.sleep(0.02)

    def _unmount(self):
        for line in reversed(mounts_mentioning(self.dir)):
            subprocess.run(["umount", "-l", mount_point_of(line)], capture_output=True)

    def _remove_cgroups(self):
        for d in cgroup_leftovers(self.tag):
            remove_cgroup_tree(d)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def rootfs_template():
    if not os.access(RUNTIME, os.X_OK):
        skip_or_fail("runtime %s not built (set BERTH_RUNTIME to test another one)" % RUNTIME)
    if not os.access(PROBE, os.X_OK):
        skip_or_fail("berth-probe not built: %s (build it or set BERTH_BUILD_DIR)" % PROBE)
    if not os.access(BUSYBOX, os.X_OK):
        skip_or_fail("%s missing (install busybox-static)" % BUSYBOX)
    if os.geteuid() != 0:
        skip_or_fail("system tests need root")
    base = tempfile.mkdtemp(prefix="berth-systest-rootfs-")
    os.chmod(base, 0o755)
    build_rootfs_template(os.path.join(base, "rootfs"))
    yield os.path.join(base, "rootfs")
    shutil.rmtree(base, ignore_errors=True)
    for parent in glob.glob("/sys/fs/cgroup/*/%s" % CGROUP_PARENT):
        try:
            os.rmdir(parent)  # only succeeds once no run of the suite uses it
        except OSError:
            pass


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item, so teardown knows whether the test itself failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture(autouse=True)
def ctx(request):
    """The test's context; after the test, finds leaks, cleans them up, then fails on them."""
    # Not pytest's tmp_path: that is mode 0700, and a container in a user namespace runs as an
    # unprivileged host uid that must reach its rootfs.
    path = tempfile.mkdtemp(prefix="berth-systest-")
    os.chmod(path, 0o755)
    context = CaseContext(path, "%s-%s" % (SESSION_TAG, os.path.basename(path).rsplit("-", 1)[-1]))
    yield context
    leaks = context.find_leaks()
    context.clean_up()
    call = getattr(request.node, "rep_call", None)
    if leaks and call is not None and call.failed:
        # A test that failed half-way leaves its containers behind; that is no news. Say what
        # was cleaned up, but only fail on leaks from tests that otherwise passed.
        sys.stderr.write("cleaned up after failed test:\n  " + "\n  ".join(leaks) + "\n")
        leaks = []
    problems = list(leaks)
    remaining = context.find_leaks()
    if remaining:
        problems.append("still there after cleanup: " + "; ".join(remaining))
    # Never remove a tree that still has something mounted in it: that could be a bind of a
    # host directory.
    if mounts_mentioning(path):
        problems.append("test dir %s kept: it still holds mounts" % path)
    else:
        shutil.rmtree(path, ignore_errors=True)
    if problems:
        pytest.fail("test left things behind:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def runtime(ctx, rootfs_template):
    """The runtime under test with this test's own --root."""
    rt = Runtime(ctx, os.path.join(ctx.dir, "root"))
    ctx.runtimes.append(rt)
    return rt


@pytest.fixture
def make_bundle(ctx, rootfs_template):
    """A factory: make_bundle() returns a fresh Bundle running `berth-probe info`."""

    def make():
        n = next(ctx.bundle_count)
        path = os.path.join(ctx.dir, "bundle%d" % n)
        os.makedirs(path)
        shutil.copytree(rootfs_template, os.path.join(path, "rootfs"), symlinks=True)
        bundle = Bundle(path, "/%s/%s-%d" % (CGROUP_PARENT, ctx.tag, n))
        bundle.save()
        return bundle

    return make


@pytest.fixture
def bundle(make_bundle):
    return make_bundle()


@pytest.fixture
def cid(ctx):
    return ctx.new_id()


@pytest.fixture
def storage(ctx):
    """A store of the test's own for `berth run` (inside the test's directory, so the leak check
    sees any mount left there); afterwards no runtime state may be left in it."""
    d = os.path.join(ctx.dir, "storage")
    yield d
    rt = os.path.join(d, "runtime")
    if os.path.isdir(rt):
        assert [x for x in os.listdir(rt) if not x.startswith(".")] == []


def assert_error(result, *substrings):
    """A failed runtime call: rc != 0 and, for berth, one "berth-runtime: " line on stderr that
    names each of substrings. Other runtimes word their errors their own way."""
    assert result.rc != 0, "expected failure, got rc 0; stdout: %r" % result.stdout
    if not is_berth():
        return
    lines = result.stderr.splitlines()
    assert len(lines) == 1, "expected exactly one line on stderr, got %r" % result.stderr
    assert lines[0].startswith("berth-runtime: "), lines[0]
    for s in substrings:
        assert s in lines[0], "%r not in error message %r" % (s, lines[0])
