# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input fails cleanly: a non-zero exit, one clear line on stderr (berth), nothing left behind.

The leak check that runs after every test makes sure a failed command left no state, mount,
process or cgroup."""

import json
import os

import pytest

from conftest import assert_error


def create(runtime, bundle_path, cid, ctx):
    return runtime("create", "--bundle", bundle_path, "--pid-file", os.path.join(ctx.dir, cid + ".pid"), cid)


def test_missing_bundle(runtime, ctx, cid):
    missing = os.path.join(ctx.dir, "no-such-bundle")
    result = create(runtime, missing, cid, ctx)
    assert_error(result, missing, "No such file or directory")


def test_malformed_json(runtime, bundle, cid, ctx):
    with open(bundle.config_path, "w") as f:
        f.write('{"ociVersion": "1.0.2", "process": {')
    result = create(runtime, bundle.path, cid, ctx)
    assert_error(result, "config.json", "invalid JSON")


def test_empty_args(runtime, bundle, cid, ctx):
    bundle.set_args().save()
    result = create(runtime, bundle.path, cid, ctx)
    assert_error(result, "process.args")


def test_unknown_namespace_type(runtime, bundle, cid, ctx):
    bundle.config["linux"]["namespaces"].append({"type": "bogusns"})
    bundle.save()
    result = create(runtime, bundle.path, cid, ctx)
    assert_error(result, "linux.namespaces[", "bogusns")


def test_missing_rootfs(runtime, bundle, cid, ctx):
    missing = os.path.join(bundle.path, "no-such-rootfs")
    bundle.config["root"]["path"] = missing
    bundle.save()
    result = create(runtime, bundle.path, cid, ctx)
    assert_error(result, missing, "No such file or directory")


def test_duplicate_id(runtime, make_bundle, cid, ctx):
    first, second = make_bundle(), make_bundle()
    pid = runtime.create(first.set_probe("sleep", "60"), cid)
    second.set_probe("sleep", "60").save()
    result = create(runtime, second.path, cid, ctx)
    assert_error(result, cid, "already exists")
    # The first container is untouched.
    state = runtime.state(cid)
    assert (state["status"], state["pid"]) == ("created", pid)
    assert os.path.realpath(state["bundle"]) == os.path.realpath(first.path)
    runtime.destroy(cid)


@pytest.mark.parametrize("bad_id", ["../x", "a/b", ".."])
def test_invalid_container_id(runtime, bundle, ctx, bad_id):
    bundle.set_probe("exit", "0").save()
    result = create(runtime, bundle.path, bad_id, ctx)
    assert_error(result, "invalid container id")
    # Nothing was made next to (or above) the state directory: the test dir holds what it held.
    assert set(os.listdir(ctx.dir)) <= {"root", "io", "bundle1"}


@pytest.mark.parametrize("command", [["state"], ["start"], ["kill"], ["kill", "KILL"], ["delete"]])
def test_unknown_container(runtime, command):
    verb, *rest = command
    result = runtime(verb, "nope", *rest)
    assert_error(result, 'container "nope" does not exist')


def test_start_twice(runtime, bundle, cid):
    runtime.start_sleeper(bundle, cid)
    result = runtime("start", cid)
    assert_error(result, cid, "not in created state")
    assert runtime.status(cid) == "running"
    runtime.destroy(cid)


def test_start_stopped(runtime, bundle, cid):
    runtime.create(bundle.set_probe("exit", "0"), cid)
    runtime.ok("start", cid)
    runtime.wait_status(cid, "stopped")
    result = runtime("start", cid)
    assert_error(result, cid, "not in created state")
    runtime.ok("delete", cid)


def test_delete_running_needs_force(runtime, bundle, cid):
    runtime.start_sleeper(bundle, cid)
    result = runtime("delete", cid)
    assert_error(result, cid, "running", "--force")
    assert runtime.status(cid) == "running"
    runtime.destroy(cid)


def test_unknown_signal(runtime, bundle, cid):
    runtime.start_sleeper(bundle, cid)
    result = runtime("kill", cid, "SIGNOPE")
    assert_error(result, "SIGNOPE")
    assert runtime.status(cid) == "running"
    runtime.destroy(cid)


def test_exec_into_unknown_container(runtime):
    result = runtime("exec", "nope", "/bin/true")
    assert_error(result, 'container "nope" does not exist')


def test_spec_does_not_overwrite(runtime, ctx):
    spec_dir = os.path.join(ctx.dir, "spec")
    os.mkdir(spec_dir)
    with open(os.path.join(spec_dir, "config.json"), "w") as f:
        json.dump({"mine": True}, f)
    result = runtime("spec", cwd=spec_dir)
    assert_error(result, "config.json")
    with open(os.path.join(spec_dir, "config.json")) as f:
        assert json.load(f) == {"mine": True}


def test_console_socket_without_terminal(runtime, bundle, cid, ctx):
    # runc refuses this too: a client waiting on the socket would wait forever.
    bundle.save()
    sock = os.path.join(ctx.dir, "console.sock")
    result = runtime("create", "--bundle", bundle.path, "--console-socket", sock, cid)
    assert_error(result, "--console-socket", "process.terminal is false")
