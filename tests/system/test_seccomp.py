# SPDX-License-Identifier: LGPL-2.1-or-later
"""linux.seccomp: the filter a container's processes run under.

The probe makes one raw system call (`berth-probe syscall NAME ARGS...`) and reports its return
value and errno, so each test asks the kernel directly what the filter lets through. The notify
tests play the seccomp agent: they listen on listenerPath, receive the listener fd with the
container process state, and answer the container's system calls with the seccomp ioctls."""

import errno
import fcntl
import glob
import json
import os
import platform
import re
import select
import signal
import socket
import struct

import pytest

from conftest import PROBE_IN_CONTAINER, WAIT_TIMEOUT, assert_error, is_berth, proc_state

SIGSYS_EXIT = 128 + signal.SIGSYS

# <linux/seccomp.h>: _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp).
SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
NOTIF = struct.Struct("=QIIiIQ6Q")  # id, pid, flags, data.nr, data.arch, data.ip, data.args[6]
NOTIF_RESP = struct.Struct("=QqiI")  # id, val, error, flags

SYSCALL_NUMBERS = {"x86_64": {"mkdir": 83, "getppid": 110}, "aarch64": {"mkdirat": 34, "getppid": 173}}


def allow_all_but(*denied):
    """A profile that allows every system call but the ones it lists (those fail with EPERM)."""
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": list(denied), "action": "SCMP_ACT_ERRNO"}]}


def with_seccomp(bundle, seccomp):
    bundle.config["linux"]["seccomp"] = seccomp
    return bundle


def run_syscall(runtime, bundle, cid, *call):
    """`run`s `berth-probe syscall CALL...`; returns (exit status, the probe's JSON or None)."""
    bundle.set_probe("syscall", *call).save()
    result = runtime("run", "--bundle", bundle.path, cid)
    try:
        return result.rc, json.loads(result.stdout)
    except ValueError:
        return result.rc, None


def exec_syscall(runtime, cid, *call, exec_args=()):
    result = runtime("exec", *exec_args, cid, PROBE_IN_CONTAINER, "syscall", *call)
    return result.rc, json.loads(result.stdout)


def mkdir_call():
    """A harmless call to notify on: mkdir where the architecture has it, else mkdirat."""
    if platform.machine() == "x86_64":
        return "mkdir", ("mkdir", "/tmp/notified", "0755")
    return "mkdirat", ("mkdirat", "-100", "/tmp/notified", "0755")


def test_errno_rules(runtime, bundle, cid):
    with_seccomp(
        bundle,
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV},
                {"names": ["getuid"], "action": "SCMP_ACT_ERRNO"},
            ],
        },
    )
    rc, out = run_syscall(runtime, bundle, cid, "getppid")
    assert (rc, out["ret"], out["errno"]) == (1, -1, errno.EXDEV)
    rc, out = run_syscall(runtime, bundle, cid, "getuid")
    assert (rc, out["errno"]) == (1, errno.EPERM)  # no errnoRet: EPERM
    rc, out = run_syscall(runtime, bundle, cid, "getpid")
    assert (rc, out["ret"]) == (0, 1)

    info = runtime.run_probe(bundle, cid, "info")
    assert info["seccomp"] == 2  # SECCOMP_MODE_FILTER
    assert info["no_new_privs"] is True

    # One compilation for the four containers: the program is kept under --root (seccomp-cache.h),
    # where `list` does not take it for a container.
    cache = os.path.join(runtime.root, ".seccomp-cache")
    entries = os.listdir(cache)
    assert len(entries) == 1
    with open(os.path.join(cache, entries[0]), "rb") as f:
        assert f.read().startswith(b"berth seccomp cache 1\nlibseccomp ")
    assert runtime.list_ids() == []


def syscall_names():
    """Every system call name of this machine (from the kernel headers), or a skip."""
    if platform.machine() != "x86_64":
        pytest.skip("the allow-list test reads x86_64 syscall names from the kernel headers")
    headers = glob.glob("/usr/include/*/asm/unistd_64.h") + glob.glob("/usr/include/asm/unistd_64.h")
    if not headers:
        pytest.skip("no asm/unistd_64.h to read syscall names from (install linux-libc-dev)")
    with open(headers[0]) as f:
        return sorted(set(re.findall(r"^#define __NR_(\w+)\s+\d+", f.read(), re.M)))


def test_default_errno_ret_and_unknown_names(runtime, bundle, cid):
    """An allow-list: everything but getppid. The default action's errno is defaultErrnoRet; a name
    libseccomp does not know is skipped (as runc does) and the container still runs."""
    allowed = [n for n in syscall_names() if n != "getppid"] + ["berth_no_such_syscall"]
    with_seccomp(
        bundle,
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": errno.EXDEV,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}],
        },
    )
    bundle.set_probe("syscall", "getppid").save()
    result = runtime("run", "--bundle", bundle.path, cid, global_args=("--debug",))
    out = json.loads(result.stdout)
    assert (result.rc, out["errno"]) == (1, errno.EXDEV)
    if is_berth():
        assert 'unknown syscall "berth_no_such_syscall" skipped' in result.stderr
    rc, out = run_syscall(runtime, bundle, cid, "getpid")
    assert (rc, out["ret"]) == (0, 1)


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"])
def test_kill_and_trap_end_with_sigsys(runtime, bundle, cid, action):
    with_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getppid"], "action": action}]})
    rc, out = run_syscall(runtime, bundle, cid, "getppid")
    assert rc == SIGSYS_EXIT and out is None
    rc, out = run_syscall(runtime, bundle, cid, "getpid")
    assert rc == 0


def test_argument_rules(runtime, bundle, cid):
    """A rule with args matches only those arguments: personality(8) is refused, querying the
    personality (0xffffffff) is not; chmod with the set-uid bit is refused, without it not."""
    chmod = "chmod" if platform.machine() == "x86_64" else "fchmodat"
    with_seccomp(
        bundle,
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {
                    "names": ["personality"],
                    "action": "SCMP_ACT_ERRNO",
                    "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
                },
                {
                    "names": [chmod],
                    "action": "SCMP_ACT_ERRNO",
                    "errnoRet": errno.EACCES,
                    "args": [
                        {
                            "index": 1 if chmod == "chmod" else 2,
                            "value": 0o4000,
                            "valueTwo": 0o4000,
                            "op": "SCMP_CMP_MASKED_EQ",
                        }
                    ],
                },
            ],
        },
    )
    rc, out = run_syscall(runtime, bundle, cid, "personality", "8")
    assert (rc, out["errno"]) == (1, errno.EPERM)
    rc, out = run_syscall(runtime, bundle, cid, "personality", "0xffffffff")
    assert rc == 0 and out["ret"] >= 0

    prefix = () if chmod == "chmod" else ("-100",)  # AT_FDCWD
    rc, out = run_syscall(runtime, bundle, cid, chmod, *prefix, "/dev/shm", "04777")
    assert (rc, out["errno"]) == (1, errno.EACCES)
    rc, out = run_syscall(runtime, bundle, cid, chmod, *prefix, "/dev/shm", "01777")
    assert (rc, out["ret"]) == (0, 0)


def test_exec_gets_the_containers_filter(runtime, bundle, cid, ctx):
    """exec'd processes run under the container's filter, whether no_new_privs is set or not
    (without it the filter goes on before the capabilities are dropped)."""
    rule = {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV}
    with_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]})
    runtime.start_sleeper(bundle, cid)

    rc, out = exec_syscall(runtime, cid, "getppid")
    assert (rc, out["errno"]) == (1, errno.EXDEV)
    info = json.loads(runtime.ok("exec", cid, PROBE_IN_CONTAINER, "info").stdout)
    assert info["seccomp"] == 2

    process = dict(
        bundle.config["process"],
        args=[PROBE_IN_CONTAINER, "syscall", "getppid"],
        noNewPrivileges=False,
        user={"uid": 1000, "gid": 1000},
    )
    process_file = os.path.join(ctx.dir, "process.json")
    with open(process_file, "w") as f:
        json.dump(process, f)
    result = runtime("exec", "--process", process_file, cid)
    assert (result.rc, json.loads(result.stdout)["errno"]) == (1, errno.EXDEV)
    runtime.destroy(cid)


@pytest.mark.parametrize("no_new_privs", [True, False])
def test_unprivileged_user(runtime, bundle, cid, no_new_privs):
    """A non-root process gets its filter either way: with no_new_privs it is loaded last, without
    it before the user switch, while the capability to load it is still there."""
    bundle.config["process"]["noNewPrivileges"] = no_new_privs
    bundle.set_user(1000, 1000)
    with_seccomp(bundle, allow_all_but("getppid"))
    info = runtime.run_probe(bundle, cid, "info")
    assert (info["uid"], info["seccomp"], info["no_new_privs"]) == (1000, 2, no_new_privs)
    rc, out = run_syscall(runtime, bundle, cid, "getppid")
    assert (rc, out["errno"]) == (1, errno.EPERM)


@pytest.mark.parametrize(
    "seccomp, message",
    [
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_FOO"}]},
            'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_FOO"',
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {"names": ["getppid"], "action": "SCMP_ACT_ERRNO"},
                    {
                        "names": ["personality"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [
                            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                            {"index": 6, "value": 1, "op": "SCMP_CMP_EQ"},
                        ],
                    },
                ],
            },
            "linux.seccomp.syscalls[1].args[1].index: must be between 0 and 5",
        ),
        ({"defaultAction": "SCMP_ACT_NOPE"}, 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"'),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]},
            'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_VAX"',
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]},
            "linux.seccomp.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY",
        ),
        (
            {"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1},
            "linux.seccomp.defaultErrnoRet: SCMP_ACT_KILL takes no errno",
        ),
    ],
)
def test_bad_seccomp_fails_create(runtime, bundle, cid, ctx, seccomp, message):
    with_seccomp(bundle, seccomp).set_probe("sleep", "60").save()
    result = runtime("create", "--bundle", bundle.path, "--pid-file", os.path.join(ctx.dir, "pid"), cid)
    assert_error(result, message)
    assert runtime.list_ids() == []
    assert not os.path.exists(os.path.join(ctx.dir, "pid"))


def test_features_report_seccomp(runtime):
    seccomp = json.loads(runtime.ok("features").stdout)["linux"]["seccomp"]
    assert seccomp["enabled"] is True
    assert {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_NOTIFY"} <= set(seccomp["actions"])
    assert "SCMP_CMP_MASKED_EQ" in seccomp["operators"]
    native = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}.get(platform.machine())
    if native:
        assert native in seccomp["archs"]
    assert set(seccomp["supportedFlags"]) <= set(seccomp["knownFlags"])
    assert "SECCOMP_FILTER_FLAG_LOG" in seccomp["knownFlags"]


# ---------------------------------------------------------------------------------------------
# SCMP_ACT_NOTIFY: the test is the seccomp agent


class Agent:
    """Listens on listenerPath; each connection brings a listener fd and the process state."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(WAIT_TIMEOUT)

    def accept(self):
        """Returns (the process state as a dict, the listener fd)."""
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(WAIT_TIMEOUT)
            data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 4)
            while True:
                more = conn.recv(65536)
                if not more:
                    break
                data += more
        assert len(fds) == 1, "expected one fd, got %r" % (fds,)
        for fd in fds:
            os.set_inheritable(fd, False)
        assert os.readlink("/proc/self/fd/%d" % fds[0]) == "anon_inode:seccomp notify"
        return json.loads(data), fds[0]

    def close(self):
        self.sock.close()


@pytest.fixture
def agent(ctx):
    a = Agent(os.path.join(ctx.dir, "agent.sock"))
    yield a
    a.close()


def notify_profile(agent, name):
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": agent.path,
        "listenerMetadata": "berth-test-metadata",
        "syscalls": [{"names": [name], "action": "SCMP_ACT_NOTIFY"}],
    }


def receive_notification(fd):
    """Waits for a notification on the listener fd; returns (id, pid, syscall number)."""
    readable, _, _ = select.select([fd], [], [], WAIT_TIMEOUT)
    assert readable, "no seccomp notification within %d s" % WAIT_TIMEOUT
    buf = bytearray(NOTIF.size)  # the kernel wants it zeroed
    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
    notif_id, pid, _flags, nr, _arch, _ip, *_args = NOTIF.unpack(buf)
    return notif_id, pid, nr


def respond(fd, notif_id, val=0, error=0):
    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(NOTIF_RESP.pack(notif_id, val, error, 0)), True)


def assert_process_state(state, cid, bundle, status):
    assert state["ociVersion"].startswith("1.")
    assert state["fds"] == ["seccompFd"]
    assert state["metadata"] == "berth-test-metadata"
    assert state["state"]["id"] == cid
    assert state["state"]["status"] == status
    assert os.path.realpath(state["state"]["bundle"]) == os.path.realpath(bundle.path)


def test_notify_agent_answers(runtime, bundle, cid, agent):
    """The agent gets the listener fd and the state while the container is created; the
    container's mkdir waits for the agent's answer, and returns what the agent says."""
    name, call = mkdir_call()
    with_seccomp(bundle, notify_profile(agent, name)).set_probe("syscall", *call).save()
    run = runtime.popen("run", "--bundle", bundle.path, cid)

    state, fd = agent.accept()
    try:
        assert_process_state(state, cid, bundle, "creating")
        assert state["pid"] == state["state"]["pid"]
        runtime.ctx.pids.learn(state["pid"])

        notif_id, pid, nr = receive_notification(fd)
        assert pid == state["pid"]  # the container's init, as the agent (and the runtime) see it
        if platform.machine() in SYSCALL_NUMBERS:
            assert nr == SYSCALL_NUMBERS[platform.machine()][name]
        # The system call waits for us.
        assert proc_state(pid) in ("S", "D")
        assert run.proc.poll() is None
        respond(fd, notif_id, val=42)
    finally:
        os.close(fd)
    result = run.wait()
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout) == {"name": name, "ret": 42, "errno": 0}


def test_notify_blocks_until_the_agent_lets_go(runtime, bundle, cid, agent):
    """Without an answer the system call waits; once every copy of the listener fd is closed, it
    fails with ENOSYS."""
    name, call = mkdir_call()
    with_seccomp(bundle, notify_profile(agent, name)).set_probe("syscall", *call).save()
    run = runtime.popen("run", "--bundle", bundle.path, cid)

    state, fd = agent.accept()
    runtime.ctx.pids.learn(state["pid"])
    try:
        readable, _, _ = select.select([fd], [], [], WAIT_TIMEOUT)
        assert readable, "no seccomp notification"
        assert proc_state(state["pid"]) in ("S", "D")
        assert run.proc.poll() is None
    finally:
        os.close(fd)
    result = run.wait()
    assert result.rc == 1
    assert json.loads(result.stdout)["errno"] == errno.ENOSYS


def test_notify_exec(runtime, bundle, cid, agent, ctx):
    """exec'd processes get a listener of their own, sent with the state of the running container
    and the exec'd process's pid."""
    name, call = mkdir_call()
    with_seccomp(bundle, notify_profile(agent, name))
    init_pid = runtime.start_sleeper(bundle, cid)
    state, init_fd = agent.accept()
    os.close(init_fd)
    assert state["pid"] == init_pid

    exec_run = runtime.popen("exec", cid, PROBE_IN_CONTAINER, "syscall", *call)
    state, fd = agent.accept()
    try:
        assert_process_state(state, cid, bundle, "running")
        assert state["state"]["pid"] == init_pid
        assert state["pid"] != init_pid
        runtime.ctx.pids.learn(state["pid"])
        notif_id, pid, _nr = receive_notification(fd)
        assert pid == state["pid"]
        respond(fd, notif_id, val=7)
    finally:
        os.close(fd)
    result = exec_run.wait()
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout)["ret"] == 7
    runtime.destroy(cid)


def test_notify_without_an_agent_fails_create(runtime, bundle, cid, ctx):
    """The spec: if sending to listenerPath fails, the runtime generates an error."""
    missing = os.path.join(ctx.dir, "no-agent.sock")
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": missing,
        "syscalls": [{"names": [mkdir_call()[0]], "action": "SCMP_ACT_NOTIFY"}],
    }
    with_seccomp(bundle, profile).set_probe("sleep", "60").save()
    result = runtime("create", "--bundle", bundle.path, cid)
    assert_error(result, "linux.seccomp.listenerPath", missing, "No such file or directory")
    assert runtime.list_ids() == []
