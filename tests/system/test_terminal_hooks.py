# SPDX-License-Identifier: LGPL-2.1-or-later
"""OCI hooks (all six kinds: when they run, what they get, what their failure does) and terminals
(a pty handed over --console-socket, for `create` and for `exec`)."""

import errno
import json
import os
import select
import socket
import sys
import time

import pytest

from conftest import (
    PROBE_IN_CONTAINER,
    WAIT_TIMEOUT,
    assert_error,
    is_berth,
    proc_state,
    wait_for,
)

HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
CREATE_HOOKS = ("prestart", "createRuntime", "createContainer")
START_HOOKS = ("startContainer", "poststart")

# What each kind of hook should find in the state on its stdin.
EXPECTED_STATUS = {
    "prestart": "creating",
    "createRuntime": "creating",
    "createContainer": "creating",
    "startContainer": "created",
    "poststart": "running",
    "poststop": "stopped",
}

# A host hook: records its arguments, environment, the state it was given and where it ran, as one
# JSON line appended to LOG. Python, so that it can look at /proc without a shell's quoting.
HOST_HOOK = """#!{python} -I
import json, os, sys

LOG = {log!r}

def ns(pid, name):
    try:
        return os.readlink("/proc/%s/ns/%s" % (pid, name))
    except OSError:
        return None

def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\\0")[0].decode()
    except OSError:
        return None

text = sys.stdin.read()
record = {{"kind": sys.argv[1], "args": sys.argv[1:], "env": dict(os.environ), "stdin": text}}
state = json.loads(text)
pid = state.get("pid") or 0
record.update(
    mntns=ns("self", "mnt"),
    pidns=ns("self", "pid"),
    utsns=ns("self", "uts"),
    init_alive=pid > 0 and os.path.exists("/proc/%d" % pid),
    init_mntns=ns(pid, "mnt") if pid else None,
    init_pidns=ns(pid, "pid") if pid else None,
    init_exe=cmdline(pid) if pid else None,
)
with open(LOG, "a") as f:
    f.write(json.dumps(record) + "\\n")
"""

# The startContainer hook runs inside the container after pivot_root, so it lives in the rootfs
# and is run by its busybox; it logs into a directory bind-mounted from the host. The state on its
# stdin is JSON already and goes into the record as it is.
CONTAINER_HOOK = """#!/bin/sh
state=$(cat)
pivoted=false
[ -e /hook-rootfs-marker ] && pivoted=true
format='{"kind":"%s","args":["%s","%s"],"env":{"HOOK_KIND":"%s","PATH":"%s","PYTEST":"%s"},'
format="$format"'"hostname":"%s","mntns":"%s","pivoted":%s,"stdin":%s}\\n'
printf "$format" "$1" "$1" "$2" "$HOOK_KIND" "$PATH" "${PYTEST_CURRENT_TEST-}" "$(hostname)" \\
        "$(readlink /proc/self/ns/mnt)" "$pivoted" "$state" >> /hooklog/log
"""


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def kinds(records):
    return [r["kind"] for r in records]


def pid_gone(pid):
    return proc_state(pid) in (None, "Z", "X")


class HookSetup:
    """Every kind of hook in a bundle, each logging to one file (see HOST_HOOK, CONTAINER_HOOK)."""

    def __init__(self, bundle, ctx, startcontainer_delay=0):
        self.dir = os.path.join(ctx.dir, "hooklog")
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "log")
        self.host_hook = write_script(
            os.path.join(ctx.dir, "hook.py"), HOST_HOOK.format(python=sys.executable, log=self.log)
        )
        delay = "sleep %s\n" % startcontainer_delay if startcontainer_delay else ""
        script = CONTAINER_HOOK.replace("state=$(cat)\n", "state=$(cat)\n" + delay)
        write_script(os.path.join(bundle.rootfs, "hook.sh"), script)
        with open(os.path.join(bundle.rootfs, "hook-rootfs-marker"), "w") as f:
            f.write("rootfs\n")
        bundle.add_mount("/hooklog", "bind", self.dir, ["rbind", "rw"])
        bundle.config["hooks"] = {kind: [self.hook(kind)] for kind in HOOK_KINDS}

    def hook(self, kind):
        path = "/hook.sh" if kind == "startContainer" else self.host_hook
        env = ["HOOK_KIND=" + kind]
        if kind == "startContainer":
            env.append("PATH=/bin:/usr/bin")
        return {"path": path, "args": ["argv0-ignored", kind, "two words"], "env": env}

    def records(self):
        return read_log(self.log)


def check_record(record, kind, cid, bundle, pid):
    assert record["kind"] == kind
    # args[0] is the hook's argv[0] (a script's interpreter replaces it); the rest arrive as given.
    assert record["args"] == [kind, "two words"], record
    # The environment is exactly the hook's "env", not the runtime's.
    assert record["env"]["HOOK_KIND"] == kind
    assert not record["env"].get("PYTEST_CURRENT_TEST") and not record["env"].get("PYTEST"), record["env"]
    if kind != "startContainer":
        assert "PATH" not in record["env"], record["env"]
    state = json.loads(record["stdin"]) if isinstance(record["stdin"], str) else record["stdin"]
    assert state["id"] == cid
    assert os.path.realpath(state["bundle"]) == os.path.realpath(bundle.path)
    assert state["ociVersion"].startswith("1.")
    assert state["status"] == EXPECTED_STATUS[kind], (kind, state)
    if kind != "poststop":
        assert state["pid"] == pid, (kind, state)
    return state


# ---------------------------------------------------------------------------------------------
# hooks


def test_hooks_run_in_order_with_state_args_and_env(runtime, bundle, cid, ctx):
    hooks = HookSetup(bundle, ctx)
    bundle.set_hostname("hooked").set_probe("sleep", "60")
    host_mntns = os.readlink("/proc/self/ns/mnt")

    pid = runtime.create(bundle, cid)
    records = hooks.records()
    assert kinds(records) == list(CREATE_HOOKS)
    init_mntns = os.readlink("/proc/%d/ns/mnt" % pid)
    init_pidns = os.readlink("/proc/%d/ns/pid" % pid)
    assert init_mntns != host_mntns
    for record in records:
        check_record(record, record["kind"], cid, bundle, pid)
        # Each ran while the init existed, in its namespaces already.
        assert record["init_alive"] and record["init_mntns"] == init_mntns
    prestart, create_runtime, create_container = records
    # prestart and createRuntime run in the runtime's namespaces ...
    for record in (prestart, create_runtime):
        assert record["mntns"] == host_mntns
        assert record["pidns"] == os.readlink("/proc/self/ns/pid")
    # ... createContainer in the container's (before pivot_root: the host's python was found).
    assert create_container["mntns"] == init_mntns
    assert create_container["pidns"] == init_pidns

    runtime.ok("start", cid)
    # start returns after poststart, which runs once the process was executed, after startContainer.
    records = hooks.records()
    assert kinds(records)[3:] == list(START_HOOKS)
    by_kind = {r["kind"]: r for r in records}
    start_container = by_kind["startContainer"]
    check_record(start_container, "startContainer", cid, bundle, pid)
    # In the container after pivot_root: the rootfs is /, and the hostname is set.
    assert start_container["pivoted"] is True
    assert start_container["hostname"] == "hooked"
    assert start_container["mntns"] == init_mntns
    poststart = by_kind["poststart"]
    check_record(poststart, "poststart", cid, bundle, pid)
    assert poststart["mntns"] == host_mntns

    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert len(hooks.records()) == 5  # poststop waits for delete
    runtime.ok("delete", cid)
    records = hooks.records()
    assert kinds(records)[:3] == list(CREATE_HOOKS) and kinds(records)[5:] == ["poststop"]
    check_record(records[5], "poststop", cid, bundle, pid)
    assert records[5]["mntns"] == host_mntns
    assert pid_gone(pid)


def test_startcontainer_hook_sees_created_status(runtime, bundle, cid, ctx):
    hooks = HookSetup(bundle, ctx)
    bundle.config["hooks"] = {"startContainer": [hooks.hook("startContainer")]}
    pid = runtime.create(bundle.set_probe("sleep", "60"), cid)
    try:
        runtime.ok("start", cid)
        wait_for(hooks.records, what="the startContainer hook")
        (record,) = hooks.records()
        check_record(record, "startContainer", cid, bundle, pid)
    finally:
        runtime.destroy(cid)


def test_poststart_runs_after_the_process_started(runtime, bundle, cid, ctx):
    """The spec: poststart hooks run after the user-specified process was executed, before `start`
    returns. A slow startContainer hook (it runs first, in the container) must not let them run
    early."""
    hooks = HookSetup(bundle, ctx, startcontainer_delay=1)
    bundle.set_probe("sleep", "60")
    pid = runtime.create(bundle, cid)
    runtime.ok("start", cid)
    records = hooks.records()
    try:
        assert kinds(records)[3:] == ["startContainer", "poststart"], kinds(records)
        # The init had become the container's process when poststart looked at it.
        assert records[4]["init_exe"] == PROBE_IN_CONTAINER, records[4]
    finally:
        runtime.destroy(cid)
        wait_for(lambda: pid_gone(pid), what="pid %d to exit" % pid)


@pytest.mark.parametrize("reads_stdin", [True, False])
def test_hook_timeout_fails_create(runtime, bundle, cid, ctx, reads_stdin):
    """A hook past its timeout is killed and create fails. The timeout also holds for a hook that
    never reads its stdin when the state is larger than a pipe holds (big annotations)."""
    record = os.path.join(ctx.dir, "slow")
    read = "cat > %s.state\n" % record if reads_stdin else ""
    hook = write_script(
        os.path.join(ctx.dir, "slow-hook"), "#!/bin/sh\n%secho $$ > %s.pid\nexec sleep 5\n" % (read, record)
    )
    bundle.config["hooks"] = {"prestart": [{"path": hook, "timeout": 1}]}
    if not reads_stdin:
        bundle.config["annotations"] = {"org.example.big": "x" * (256 << 10)}
    bundle.set_probe("sleep", "60").save()
    result = runtime("create", "--bundle", bundle.path, "--pid-file", os.path.join(ctx.dir, "p"), cid)
    assert_error(result, cid, "prestart", hook, "timed out")
    # The hook was killed, the container's init too; no state, no pid file.
    wait_for(lambda: os.path.exists(record + ".pid"), what="the hook to have run")
    with open(record + ".pid") as f:
        hook_pid = int(f.read())
    wait_for(lambda: pid_gone(hook_pid), what="the timed out hook to be gone")
    if reads_stdin:
        with open(record + ".state") as f:
            init_pid = json.load(f)["pid"]
        wait_for(lambda: pid_gone(init_pid), what="the init of the failed container to be gone")
    assert not os.path.exists(os.path.join(ctx.dir, "p"))
    assert runtime("state", cid).rc != 0


def test_missing_hook_binary_is_named(runtime, bundle, cid, ctx):
    missing = os.path.join(ctx.dir, "no-such-hook")
    bundle.config["hooks"] = {"createRuntime": [{"path": missing, "args": ["no-such-hook"]}]}
    bundle.set_probe("sleep", "60").save()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert_error(result, cid, "createRuntime", missing, "No such file or directory")


@pytest.mark.parametrize("kind", CREATE_HOOKS)
def test_failing_create_hook_fails_create(runtime, bundle, cid, ctx, kind):
    hook = write_script(os.path.join(ctx.dir, "failing-hook"), "#!/bin/sh\ncat >/dev/null\nexit 3\n")
    bundle.config["hooks"] = {kind: [{"path": hook}]}
    bundle.set_probe("sleep", "60").save()
    result = runtime("create", "--bundle", bundle.path, "--pid-file", os.path.join(ctx.dir, "p"), cid)
    assert_error(result, cid, kind, hook, "status 3")
    assert not os.path.exists(os.path.join(ctx.dir, "p"))
    assert runtime("state", cid).rc != 0


def test_failing_startcontainer_hook_stops_the_container(runtime, bundle, cid, ctx):
    """The process must not run when a startContainer hook fails; the container ends up stopped."""
    out = os.path.join(ctx.dir, "out")
    os.mkdir(out)
    write_script(os.path.join(bundle.rootfs, "fail.sh"), "#!/bin/sh\nexit 3\n")
    bundle.config["hooks"] = {"startContainer": [{"path": "/fail.sh"}]}
    bundle.add_mount("/out", "bind", out, ["rbind"])
    bundle.set_probe("write", "/out/ran", "yes")
    pid = runtime.create(bundle, cid)
    runtime("start", cid)
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: pid_gone(pid), what="pid %d to exit" % pid)
    assert not os.path.exists(os.path.join(out, "ran"))
    runtime.ok("delete", cid)


@pytest.mark.parametrize("kind", ["poststart", "poststop"])
def test_failing_post_hook_only_warns(runtime, bundle, cid, ctx, kind):
    """A failing poststart or poststop hook is a warning: the verb succeeds, and the hooks after it
    still run (the spec: "the remaining hooks and lifecycle continue as if the hook had
    succeeded")."""
    first = write_script(os.path.join(ctx.dir, "fails-3"), "#!/bin/sh\ncat >/dev/null\nexit 3\n")
    ran = os.path.join(ctx.dir, "second-ran")
    second = write_script(os.path.join(ctx.dir, "works"), "#!/bin/sh\ncat > %s\n" % ran)
    third = write_script(os.path.join(ctx.dir, "fails-4"), "#!/bin/sh\nexit 4\n")
    log = os.path.join(ctx.dir, "log.json")
    g = ("--log", log, "--log-format", "json")
    bundle.config["hooks"] = {kind: [{"path": first}, {"path": second}, {"path": third}]}
    runtime.create(bundle.set_probe("sleep", "60"), cid)
    start = runtime("start", cid, global_args=g)
    assert start.rc == 0, start.stderr
    assert runtime.status(cid) == "running"
    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    delete = runtime("delete", cid, global_args=g)
    assert delete.rc == 0, delete.stderr
    assert runtime("state", cid).rc != 0
    warned = start if kind == "poststart" else delete
    quiet = delete if kind == "poststart" else start
    assert quiet.stderr == ""
    with open(ran) as f:
        assert json.load(f)["id"] == cid
    if is_berth():
        lines = warned.stderr.splitlines()
        assert len(lines) == 1, warned.stderr
        assert lines[0].startswith("berth-runtime: warning: "), lines[0]
        # Every failure is reported, each naming its hook.
        for s in (cid, kind, first, "status 3", third, "status 4"):
            assert s in lines[0], (s, lines[0])
        assert second not in lines[0]
        with open(log) as f:
            entries = [json.loads(line) for line in f]
        assert [e["level"] for e in entries] == ["warning"], entries
        assert first in entries[0]["msg"]


# ---------------------------------------------------------------------------------------------
# terminals


class ConsoleSocket:
    """A listening unix socket for --console-socket; receive_master() takes the pty master sent."""

    def __init__(self, ctx, name="console.sock"):
        self.path = os.path.join(ctx.dir, name)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.sock.settimeout(WAIT_TIMEOUT)

    def receive_master(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(WAIT_TIMEOUT)
            _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
        assert len(fds) == 1, "expected one fd over the console socket, got %r" % fds
        master = fds[0]
        assert os.isatty(master)
        return master

    def close(self):
        self.sock.close()


@pytest.fixture
def console(ctx):
    s = ConsoleSocket(ctx)
    yield s
    s.close()


def read_until_hangup(master, timeout=WAIT_TIMEOUT):
    """Everything the other side writes to the pty until its last holder closes it (EIO)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail("pty not closed after %.0f s; read so far: %r" % (timeout, data))
        ready, _, _ = select.select([master], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError as e:
            if e.errno == errno.EIO:
                return data
            raise
        if not chunk:
            return data
        data += chunk


def parse_pty_output(data):
    """The probe's JSON, written through a pty (which turns \\n into \\r\\n)."""
    text = data.decode().replace("\r\n", "\n")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def check_tty(tty, rows, cols):
    for entry in tty["stdio"]:
        assert entry["isatty"], tty
        assert entry["ttyname"] and entry["ttyname"].startswith("/dev/pts/"), tty
    assert len({e["ttyname"] for e in tty["stdio"]}) == 1, tty
    assert tty["controlling"] and tty["foreground"] and tty["session_leader"], tty
    assert (tty["rows"], tty["cols"]) == (rows, cols)


def test_terminal_over_console_socket(runtime, bundle, cid, ctx, console):
    bundle.set_terminal(True).set_probe("tty")
    bundle.config["process"]["consoleSize"] = {"height": 30, "width": 100}
    bundle.save()
    pid_file = os.path.join(ctx.dir, "p")
    runtime.ok(
        "create", "--bundle", bundle.path, "--console-socket", console.path, "--pid-file", pid_file, cid
    )
    master = console.receive_master()
    try:
        runtime.ok("start", cid)
        output = read_until_hangup(master)
    finally:
        os.close(master)
    (tty,) = parse_pty_output(output)
    check_tty(tty, 30, 100)
    runtime.wait_status(cid, "stopped")
    runtime.ok("delete", cid)


def test_terminal_input_reaches_the_container(runtime, bundle, cid, ctx, console):
    bundle.set_terminal(True).set_args(
        "/bin/sh",
        "-c",
        "read line; echo got:$line; berth-probe stat /dev/console; berth-probe stat /proc/self/fd/0; "
        "berth-probe tty",
    ).save()
    runtime.ok("create", "--bundle", bundle.path, "--console-socket", console.path, cid)
    master = console.receive_master()
    try:
        runtime.ok("start", cid)
        os.write(master, b"hello\n")
        output = read_until_hangup(master).decode().replace("\r\n", "\n")
    finally:
        os.close(master)
    assert "got:hello\n" in output
    console_stat, stdin_stat, tty = [json.loads(line) for line in output.splitlines()[-3:]]
    assert tty["stdio"][0]["isatty"]
    # /dev/console is the container's terminal.
    assert console_stat["type"] == "char" and console_stat["rdev"] == stdin_stat["rdev"]
    runtime.wait_status(cid, "stopped")
    runtime.ok("delete", cid)


@pytest.mark.parametrize("verb", [["create"], ["run", "--detach"]])
def test_terminal_without_console_socket_is_refused(runtime, bundle, cid, ctx, verb):
    bundle.set_terminal(True).set_probe("tty").save()
    result = runtime(*verb, "--bundle", bundle.path, "--pid-file", os.path.join(ctx.dir, "p"), cid)
    assert_error(result, cid, "terminal", "--console-socket")
    assert runtime("state", cid).rc != 0
    assert not os.path.exists(os.path.join(ctx.dir, "p"))


def test_run_terminal_in_foreground_copies_the_pty(runtime, bundle, cid):
    """`run` without --console-socket keeps the pty master and copies it to its own stdout."""
    bundle.set_terminal(True).set_probe("tty")
    bundle.config["process"]["consoleSize"] = {"height": 24, "width": 80}
    bundle.save()
    result = runtime("run", "--bundle", bundle.path, cid)
    assert result.rc == 0, result.stderr
    (tty,) = parse_pty_output(result.stdout.encode())
    check_tty(tty, 24, 80)


@pytest.mark.parametrize("how", ["--tty", "--process"])
def test_exec_terminal_over_console_socket(runtime, bundle, cid, ctx, console, how):
    runtime.start_sleeper(bundle, cid)
    if how == "--tty":
        args = ["--tty", cid, PROBE_IN_CONTAINER, "tty"]
        size = (0, 0)  # no consoleSize: the kernel's default for a new pty
    else:
        process = dict(bundle.config["process"], terminal=True, args=[PROBE_IN_CONTAINER, "tty"])
        process["consoleSize"] = {"height": 50, "width": 132}
        process_file = os.path.join(ctx.dir, "process.json")
        with open(process_file, "w") as f:
            json.dump(process, f)
        args = ["--process", process_file, cid]
        size = (50, 132)
    handle = runtime.popen("exec", "--console-socket", console.path, *args)
    master = console.receive_master()
    try:
        output = read_until_hangup(master)
    finally:
        os.close(master)
    result = handle.wait()
    assert result.rc == 0, result.stderr
    (tty,) = parse_pty_output(output)
    check_tty(tty, *size)
    # Not the init's terminal (it has none): the exec'd process got a pty of its own.
    assert runtime.status(cid) == "running"
    runtime.destroy(cid)


def test_exec_tty_in_foreground_copies_the_pty(runtime, bundle, cid):
    runtime.start_sleeper(bundle, cid)
    result = runtime("exec", "--tty", cid, PROBE_IN_CONTAINER, "tty")
    assert result.rc == 0, result.stderr
    (tty,) = parse_pty_output(result.stdout.encode())
    check_tty(tty, 0, 0)
    # A plain exec next to it has no terminal.
    plain = json.loads(runtime.ok("exec", cid, PROBE_IN_CONTAINER, "tty").stdout)
    assert not any(e["isatty"] for e in plain["stdio"]) and not plain["controlling"]
    runtime.destroy(cid)


def test_exec_detached_terminal_needs_console_socket(runtime, bundle, cid):
    runtime.start_sleeper(bundle, cid)
    result = runtime("exec", "--tty", "--detach", cid, PROBE_IN_CONTAINER, "tty")
    assert_error(result, cid, "--console-socket")
    runtime.destroy(cid)
