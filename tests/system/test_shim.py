# SPDX-License-Identifier: LGPL-2.1-or-later
"""The runtime driven the way containerd's runc shim drives it.

The shim passes `--root DIR --log BUNDLE/log.json --log-format json` before every verb, creates
with `--pid-file BUNDLE/init.pid`, stops with `kill ID 9` and removes with a plain `delete`. When a
call fails it shows the user the error the runtime wrote to the --log file, as JSON."""

import json
import os

import pytest

from conftest import is_berth, proc_starttime, wait_for


def shim_args(bundle):
    return ("--log", os.path.join(bundle.path, "log.json"), "--log-format", "json")


def log_entries(bundle):
    """Every line of the --log file, each of which must be one JSON object."""
    path = os.path.join(bundle.path, "log.json")
    if not os.path.exists(path):
        return []
    entries = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            entry = json.loads(line)
            assert isinstance(entry, dict), line
            entries.append(entry)
    return entries


def test_shim_lifecycle(runtime, bundle, cid):
    g = shim_args(bundle)
    bundle.set_probe("sleep", "60").save()
    pid_file = os.path.join(bundle.path, "init.pid")

    r = runtime("create", "--bundle", bundle.path, "--pid-file", pid_file, cid, global_args=g)
    assert r.rc == 0, r.stderr
    with open(pid_file) as f:
        pid = int(f.read())
    assert proc_starttime(pid) is not None

    assert runtime("start", cid, global_args=g).rc == 0
    r = runtime("state", cid, global_args=g)
    assert r.rc == 0, r.stderr
    state = json.loads(r.stdout)
    assert (state["status"], state["pid"]) == ("running", pid)

    assert runtime("kill", cid, "9", global_args=g).rc == 0
    wait_for(
        lambda: json.loads(runtime("state", cid, global_args=g).stdout)["status"] == "stopped",
        what="container to stop",
    )
    r = runtime("delete", cid, global_args=g)
    assert r.rc == 0, r.stderr
    assert runtime("state", cid, global_args=g).rc != 0

    log_entries(bundle)  # whatever was logged is JSON, line by line


def test_shim_failed_create_logs_json_error(runtime, bundle, cid):
    g = shim_args(bundle)
    missing = os.path.join(bundle.path, "no-such-rootfs")
    bundle.config["root"]["path"] = missing
    bundle.save()

    pid_file = os.path.join(bundle.path, "init.pid")
    r = runtime("create", "--bundle", bundle.path, "--pid-file", pid_file, cid, global_args=g)
    assert r.rc != 0
    entries = log_entries(bundle)
    errors = [e for e in entries if e.get("level") == "error"]
    if not is_berth() and not errors:
        pytest.skip("%s does not log this failure to --log" % os.path.basename(runtime.binary))
    assert errors, "no error entry in the --log file: %r" % entries
    assert all(isinstance(e.get("msg"), str) and e["msg"] for e in errors), errors
    if is_berth():
        # containerd shows this message to the user: it must say what failed.
        assert any(missing in e["msg"] for e in errors), errors
