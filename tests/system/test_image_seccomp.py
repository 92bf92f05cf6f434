# SPDX-License-Identifier: LGPL-2.1-or-later
"""`berth run` and seccomp: Docker's default profile by default, `--security-opt seccomp=unconfined`
and `seccomp=PROFILE.json`, and refusals of bad options before anything is made.

A module fixture starts the local registry (registry.py) and pushes one busybox image. Every
test runs with its own --storage inside the test's directory.
"""

import json
import os
import shutil
import tempfile

import pytest

from conftest import BUILD_DIR, skip_or_fail
from registry import TOOLS, Registry, berth_run, build_image, require, run

BERTH = os.path.join(BUILD_DIR, "berth")


@pytest.fixture(scope="module")
def image():
    require(TOOLS, BERTH)
    if os.geteuid() != 0:
        skip_or_fail("berth run needs root")
    root = tempfile.mkdtemp(prefix="berth-seccomp-")
    registry = Registry(root)
    try:
        layout = os.path.join(root, "layout")
        build_image(layout, "base")
        ref = "%s/test/seccomp:base" % registry.host
        run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:%s:base" % layout, "docker://" + ref])
        yield ref
    finally:
        registry.stop()
        shutil.rmtree(root, ignore_errors=True)


def seccomp_mode(storage, image, *opts):
    p = berth_run(storage, "--rm", *opts, image, "busybox", "grep", "^Seccomp:", "/proc/self/status", check=0)
    return p.stdout.split()[1]


def nothing_left(storage):
    for sub in ("containers", "runtime"):
        d = os.path.join(storage, sub)
        if os.path.isdir(d):
            assert [x for x in os.listdir(d) if not x.startswith(".")] == [], sub


def test_default_profile_is_on(image, storage):
    assert seccomp_mode(storage, image) == "2"  # SECCOMP_MODE_FILTER
    assert seccomp_mode(storage, image, "--security-opt", "seccomp=unconfined") == "0"
    assert seccomp_mode(storage, image, "--security-opt", "seccomp:builtin") == "2"
    # Ordinary work goes on under it: fork, exec, files, pipes.
    p = berth_run(storage, "--rm", image, "sh", "-c", "busybox mkdir /x && echo ok | busybox cat", check=0)
    assert p.stdout == "ok\n"


def test_default_profile_denies_new_user_namespace(image, storage):
    """unshare(CLONE_NEWUSER) needs no capability, so only the profile stops it (no CAP_SYS_ADMIN:
    neither unshare nor clone with namespace flags is allowed)."""
    unconfined = berth_run(storage, "--rm", "--security-opt", "seccomp=unconfined", image,
                           "busybox", "unshare", "-U", "busybox", "true")
    if unconfined.returncode != 0:
        skip_or_fail("user namespaces are not available here: %s" % unconfined.stderr.strip())
    p = berth_run(storage, "--rm", image, "busybox", "unshare", "-U", "busybox", "true")
    assert p.returncode != 0
    assert "Operation not permitted" in p.stderr


def test_profile_file(image, storage, ctx):
    """A Docker-format file: "includes" is resolved against the bounding set (CAP_KILL is in
    berth's, CAP_SYS_ADMIN is not)."""
    path = os.path.join(ctx.dir, "profile.json")
    with open(path, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [
                       {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                        "includes": {"caps": ["CAP_KILL"]}},
                       {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                        "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                   ]}, f)
    p = berth_run(storage, "--rm", "--security-opt", "seccomp=" + path, image,
                  "sh", "-c", "busybox mkdir /made; busybox rmdir /nonexistent; echo done")
    assert p.stdout == "done\n", p.stderr
    errors = [line for line in p.stderr.splitlines() if not line.startswith("berth: ")]  # the pull
    assert "mkdir" in errors[0] and "Operation not permitted" in errors[0], p.stderr
    # That rule was left out: rmdir ran and found nothing to remove.
    assert "rmdir" in errors[1] and "No such file or directory" in errors[1], p.stderr
    p = berth_run(storage, "--rm", "--security-opt", "seccomp=unconfined", image,
                  "sh", "-c", "busybox mkdir /made && echo made", check=0)
    assert p.stdout == "made\n"


def test_no_new_privileges_accepted(image, storage):
    p = berth_run(storage, "--rm", "--security-opt", "no-new-privileges", "--security-opt", "no-new-privileges:true",
                  image, "busybox", "grep", "^NoNewPrivs:", "/proc/self/status", check=0)
    assert p.stdout.split() == ["NoNewPrivs:", "1"]


@pytest.mark.parametrize("content,opt,message", [
    pytest.param(None, "apparmor=unconfined", "unknown option", id="unknown-option"),
    pytest.param(None, "seccomp", "unknown option", id="seccomp-without-value"),
    pytest.param(None, "no-new-privileges=false", "always sets no-new-privileges", id="nnp-false"),
    pytest.param(None, "seccomp=/nonexistent/profile.json", "/nonexistent/profile.json", id="missing-file"),
    pytest.param('{"defaultAction": ', "FILE", "not valid JSON", id="truncated-json"),
    pytest.param("[]", "FILE", "must be a JSON object", id="not-an-object"),
    pytest.param('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "exludes": {}}]}', "FILE",
                 'unknown key "exludes"', id="misspelt-key"),
    # What only berth-runtime's parser knows, refused before anything is pulled too.
    pytest.param('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_FOO"}]}',
                 "FILE", 'unknown action "SCMP_ACT_FOO"', id="unknown-action"),
])
def test_bad_security_opt(image, storage, ctx, content, opt, message):
    if content is not None:
        path = os.path.join(ctx.dir, "bad.json")
        with open(path, "w") as f:
            f.write(content)
        opt = "seccomp=" + path
    p = berth_run(storage, "--rm", "--security-opt", opt, image, "busybox", "true")
    assert p.returncode == 125, p.stderr
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("berth: run: --security-opt"), lines[0]
    assert message in lines[0], lines[0]
    if content is not None:
        assert path in lines[0]
    nothing_left(storage)


def test_unreadable_profile(image, storage, ctx):
    path = os.path.join(ctx.dir, "unreadable.json")
    os.mkdir(path)  # a directory: read() fails even for root
    p = berth_run(storage, "--rm", "--security-opt", "seccomp=" + path, image, "busybox", "true")
    assert p.returncode == 125
    assert len(p.stderr.splitlines()) == 1 and path in p.stderr, p.stderr
    nothing_left(storage)
