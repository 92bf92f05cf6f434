# SPDX-License-Identifier: LGPL-2.1-or-later
"""`berth pull` and `berth images` against Debian's real docker-registry (issue 6).

A module fixture starts `docker-registry serve` on 127.0.0.1 with storage in a temp dir, builds
a small image from busybox-static with umoci and pushes it with skopeo in OCI format, in Docker
schema 2 format and as a two-platform OCI index. A tiny http.server in the tests plays a
registry that lies about a layer's digest. Every pull goes to a fresh --storage directory.
Retry backoff is made a few milliseconds with BERTH_PULL_RETRY_BASE_MS, so the file stays quick.
"""

import base64
import contextlib
import hashlib
import http.server
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import BUILD_DIR, skip_or_fail, wait_for
from registry import TOOLS, Registry, build_image, free_port, require, run, run_on_pty, sha256_file  # noqa: F401

BERTH = os.path.join(BUILD_DIR, "berth")
BUSYBOX = "/bin/busybox"
RETRY_ATTEMPTS = 5  # REGISTRY_RETRY_ATTEMPTS


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("BERTH_PULL_RETRY_BASE_MS", "5")


def store_blobs(storage):
    """{hex: sha256 of the file} for every blob in the store."""
    d = os.path.join(storage, "blobs", "sha256")
    if not os.path.isdir(d):
        return {}
    return {name: sha256_file(os.path.join(d, name)) for name in sorted(os.listdir(d))}


def store_names(storage):
    p = os.path.join(storage, "names.json")
    if not os.path.exists(p):
        return {}
    with open(p) as f:
        return json.load(f)["names"]


def berth(*args, check=True):
    return run([BERTH] + list(args), check=check)


def layout_manifest(layout, tag):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    raise KeyError(tag)


def add_index(layout, tag, entries):
    """Adds an OCI index blob over existing manifests (tag, platform) and names it @tag."""
    manifests = []
    for t, plat in entries:
        m = dict(layout_manifest(layout, t))
        m.pop("annotations", None)
        m["platform"] = plat
        manifests.append(m)
    blob = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
    ).encode()
    digest = hashlib.sha256(blob).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(blob)
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    index["manifests"].append(
        {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": "sha256:" + digest,
            "size": len(blob),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }
    )
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)


class Env:
    pass


@pytest.fixture(scope="module")
def env():
    require(TOOLS, BERTH)
    root = tempfile.mkdtemp(prefix="berth-pull-")
    e = Env()
    e.root = root
    e.registry = Registry(root)
    try:
        layout = os.path.join(root, "layout")
        build_image(layout, "amd64", "amd64")
        build_image(layout, "arm64", "arm64")
        e.layout = layout
        host = e.registry.host
        push = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        run(push + ["--format", "oci", "oci:%s:amd64" % layout, "docker://%s/test/busybox:oci" % host])
        run(push + ["--format", "v2s2", "oci:%s:amd64" % layout, "docker://%s/test/busybox:docker" % host])
        e.multiarch = None
        try:
            add_index(
                layout,
                "multi",
                [("amd64", {"os": "linux", "architecture": "amd64"}), ("arm64", {"os": "linux", "architecture": "arm64"})],
            )
            p = run(
                push + ["--multi-arch", "all", "oci:%s:multi" % layout, "docker://%s/test/multi:latest" % host],
                check=False,
            )
            if p.returncode == 0:
                e.multiarch = "%s/test/multi:latest" % host
            else:
                e.multiarch_why = p.stderr.strip()
        except (OSError, KeyError, ValueError) as x:
            e.multiarch_why = str(x)
        yield e
    finally:
        e.registry.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def storage():
    d = tempfile.mkdtemp(prefix="berth-pull-store-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def skopeo_raw(ref, *extra):
    return run(["skopeo", "inspect", "--tls-verify=false", "--raw"] + list(extra) + ["docker://" + ref]).stdout


def pulled_digest(out):
    lines = [line for line in out.splitlines() if line.startswith("Digest: ")]
    assert len(lines) == 1, out
    return lines[0].split(" ", 1)[1]


def check_image_blobs(storage, manifest_digest):
    """The manifest, its config and every layer are in the store and hash to their names."""
    blobs = store_blobs(storage)
    for hexd, actual in blobs.items():
        assert hexd == actual, "blob %s has content %s" % (hexd, actual)
    hexd = manifest_digest.split(":", 1)[1]
    assert hexd in blobs
    with open(os.path.join(storage, "blobs", "sha256", hexd)) as f:
        manifest = json.load(f)
    for d in [manifest["config"]] + manifest["layers"]:
        assert d["digest"].split(":", 1)[1] in blobs
    return manifest


def chain_ids(diff_ids):
    """image-spec chain ids (hex) of a config's rootfs.diff_ids."""
    out, parent = [], None
    for d in diff_ids:
        parent = d if parent is None else "sha256:" + hashlib.sha256(("%s %s" % (parent, d)).encode()).hexdigest()
        out.append(parent.split(":", 1)[1])
    return out


def pulled_chain_ids(storage, manifest_digest):
    with open(os.path.join(storage, "blobs", "sha256", manifest_digest.split(":", 1)[1])) as f:
        manifest = json.load(f)
    with open(os.path.join(storage, "blobs", "sha256", manifest["config"]["digest"].split(":", 1)[1])) as f:
        return chain_ids(json.load(f)["rootfs"]["diff_ids"])


def layers_left(storage):
    d = os.path.join(storage, "layers")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def layers_line(out):
    m = re.search(r"^Layers: (\d+) unpacked while downloading, (\d+) unpacked from the store$", out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("tag", ["oci", "docker"])
def test_pull_by_tag(env, storage, tag):
    ref = "%s/test/busybox:%s" % (env.registry.host, tag)
    out = berth("pull", "--storage", storage, ref).stdout
    digest = pulled_digest(out)
    assert "\x1b" not in out  # no progress display when stdout is not a terminal
    raw = skopeo_raw(ref)
    assert "sha256:" + hashlib.sha256(raw.encode()).hexdigest() == digest
    manifest = check_image_blobs(storage, digest)
    # umoci's OCI manifests carry no mediaType; their config descriptor says what they are.
    want = {
        "oci": "application/vnd.oci.image.config.v1+json",
        "docker": "application/vnd.docker.container.image.v1+json",
    }[tag]
    assert manifest["config"]["mediaType"] == want
    config = skopeo_raw(ref, "--config")
    assert manifest["config"]["digest"] == "sha256:" + hashlib.sha256(config.encode()).hexdigest()
    assert store_names(storage) == {ref: digest}


def test_blobs_equal_what_skopeo_saw(env, storage):
    ref = "%s/test/busybox:oci" % env.registry.host
    berth("pull", "--storage", storage, ref)
    out = os.path.join(storage, "..", os.path.basename(storage) + "-skopeo")
    try:
        run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://" + ref, "oci:%s:x" % out])
        theirs = {n: sha256_file(os.path.join(out, "blobs", "sha256", n))
                  for n in os.listdir(os.path.join(out, "blobs", "sha256"))}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert store_blobs(storage) == theirs


def test_pull_by_digest(env, storage):
    ref = "%s/test/busybox:oci" % env.registry.host
    digest = "sha256:" + hashlib.sha256(skopeo_raw(ref).encode()).hexdigest()
    byd = "%s/test/busybox@%s" % (env.registry.host, digest)
    out = berth("pull", "--storage", storage, byd).stdout
    assert pulled_digest(out) == digest
    check_image_blobs(storage, digest)
    assert store_names(storage) == {byd: digest}


def test_pull_by_wrong_digest(env, storage):
    byd = "%s/test/busybox@sha256:%s" % (env.registry.host, "0" * 64)
    p = berth("pull", "--storage", storage, byd, check=False)
    assert p.returncode == 1
    assert "404" in p.stderr and byd in p.stderr
    assert store_blobs(storage) == {} and store_names(storage) == {}


def test_images_lists_sorted(env, storage):
    host = env.registry.host
    d1 = pulled_digest(berth("pull", "--storage", storage, "%s/test/busybox:oci" % host).stdout)
    d2 = pulled_digest(berth("pull", "--storage", storage, "%s/test/busybox:docker" % host).stdout)
    out = berth("images", "--storage", storage).stdout
    assert out.splitlines() == [
        "%s/test/busybox:docker %s" % (host, d2),
        "%s/test/busybox:oci %s" % (host, d1),
    ]
    assert berth("images", "--storage", storage + "-empty").stdout == ""
    shutil.rmtree(storage + "-empty", ignore_errors=True)


def test_pull_twice_downloads_nothing(env, storage):
    ref = "%s/test/busybox:oci" % env.registry.host
    berth("pull", "--storage", storage, ref)
    before = {n: os.stat(os.path.join(storage, "blobs", "sha256", n)).st_ino for n in store_blobs(storage)}
    names = store_names(storage)
    out = berth("pull", "--storage", storage, ref).stdout
    assert "0 blobs downloaded" in out, out
    after = {n: os.stat(os.path.join(storage, "blobs", "sha256", n)).st_ino for n in store_blobs(storage)}
    assert before == after
    assert store_names(storage) == names


def test_quiet_prints_only_digest(env, storage):
    ref = "%s/test/busybox:docker" % env.registry.host
    out = berth("pull", "--quiet", "--storage", storage, ref).stdout
    assert out.strip().startswith("sha256:") and len(out.strip().splitlines()) == 1


def test_bad_reference(storage):
    p = berth("pull", "--storage", storage, "Busybox:latest", check=False)
    assert p.returncode == 1
    assert "must be lowercase" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert store_blobs(storage) == {} and store_names(storage) == {}


def test_missing_tag(env, storage):
    ref = "%s/test/busybox:nope" % env.registry.host
    p = berth("pull", "--storage", storage, ref, check=False)
    assert p.returncode == 1
    msg = p.stderr.strip()
    assert len(msg.splitlines()) == 1, msg
    assert ref in msg and "HTTP 404" in msg and "MANIFEST_UNKNOWN" in msg, msg
    assert store_blobs(storage) == {} and store_names(storage) == {}


def test_registry_down(storage):
    ref = "127.0.0.1:%d/test/busybox:oci" % free_port()
    p = berth("pull", "--storage", storage, ref, check=False)
    assert p.returncode == 1
    assert ref in p.stderr and "onnect" in p.stderr, p.stderr
    assert store_blobs(storage) == {}


def test_multiarch_index(env, storage):
    if env.multiarch is None:
        pytest.skip("skopeo could not push a multi-arch index: %s" % env.multiarch_why)
    amd64 = layout_manifest(env.layout, "amd64")["digest"]
    arm64 = layout_manifest(env.layout, "arm64")["digest"]
    out = berth("pull", "--storage", storage, env.multiarch).stdout
    assert pulled_digest(out) == amd64
    assert "Index: sha256:" in out
    check_image_blobs(storage, amd64)
    assert store_names(storage) == {env.multiarch: amd64}
    index = "sha256:" + hashlib.sha256(skopeo_raw(env.multiarch).encode()).hexdigest()
    assert "Index: %s" % index in out
    byd = env.multiarch.rsplit(":", 1)[0] + "@" + index
    out = berth("pull", "--storage", storage, byd).stdout
    assert pulled_digest(out) == amd64 and "0 blobs downloaded" in out
    assert store_names(storage) == {env.multiarch: amd64, byd: amd64}
    other = storage + "-arm"
    try:
        out = berth("pull", "--storage", other, "--platform", "linux/arm64", env.multiarch).stdout
        assert pulled_digest(out) == arm64
        p = berth("pull", "--storage", other, "--platform", "linux/s390x", env.multiarch, check=False)
        assert p.returncode == 1 and "no manifest for platform linux/s390x" in p.stderr
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_bad_platform(storage):
    p = berth("pull", "--storage", storage, "--platform", "linux", "localhost/x", check=False)
    assert p.returncode == 1 and "os/arch" in p.stderr


# ---- a registry in this process: lies, concurrency ----


def tar_layer(files):
    """An uncompressed layer tar holding @files ({name: bytes}), reproducible (fixed mtimes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class FakeRegistry(http.server.ThreadingHTTPServer):
    """Serves /v2/fake/manifests/<anything> and its blobs from memory.

    mode "digest": a layer whose content is not its digest; "size": a layer longer than its
    descriptor says; "slow": four good layers, each GET held 0.3 s while counting how many
    blob downloads run at once; "truncate": every layer GET dies half way; "resume": the first
    GET of each layer dies half way (advertising Accept-Ranges), later ones honour Range;
    "ignore-range": the same first GET, then a whole 200 whatever the Range; "manifest-503":
    the first manifest GET is a 503; "badtar": the third layer matches its digest but is no tar;
    "diffid": the config's second diff_id is not its layer's. Layers are plain tars holding a
    file "layerN" (a diff_id is its blob's digest). Every blob GET is logged in `gets` as
    (hex, Range)."""

    def __init__(self, mode):
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.mode = mode
        self.blobs = {}
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.gets = []
        self.dropped = set()
        self.manifest_gets = 0
        layers = []
        diff_ids = None
        if mode in ("slow", "truncate", "header", "resume", "ignore-range", "manifest-503", "badtar", "diffid"):
            for i in range(4):
                data = tar_layer({"layer%d" % i: ("layer %d " % i).encode() * 1000})
                if mode == "badtar" and i == 2:
                    data = b"\xff" * 5000  # its digest is right, but it is no tar
                layers.append((self.add(data), len(data)))
            if mode == "diffid":
                diff_ids = [d for d, _ in layers]
                diff_ids[1] = "sha256:" + hashlib.sha256(b"another tar").hexdigest()
        else:
            data = b"not the layer you are looking for" * 100
            claimed = hashlib.sha256(b"something else").hexdigest()
            size = len(data)
            if mode == "size":
                claimed = hashlib.sha256(data).hexdigest()
                size = len(data) - 10
            self.blobs[claimed] = data
            layers.append(("sha256:" + claimed, size))
        # Plain tars: each diff_id is its blob's digest.
        self.config = json.dumps(
            {"architecture": "amd64", "os": "linux",
             "rootfs": {"type": "layers", "diff_ids": diff_ids or [d for d, _ in layers]}}
        )
        config = self.config
        self.manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": self.add(config.encode()),
                    "size": len(config),
                },
                "layers": [
                    {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n} for d, n in layers
                ],
            }
        ).encode()

    def add(self, data):
        h = hashlib.sha256(data).hexdigest()
        self.blobs[h] = data
        return "sha256:" + h


class FakeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = self.server
        if self.path.startswith("/v2/fake/manifests/"):
            with srv.lock:
                srv.manifest_gets += 1
                first = srv.manifest_gets == 1
            if srv.mode == "manifest-503" and first:
                self.send(503, b'{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}', "application/json")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(len(srv.manifest)))
            said = hashlib.sha256(srv.manifest + (b"x" if srv.mode == "header" else b"")).hexdigest()
            self.send_header("Docker-Content-Digest", "sha256:" + said)
            self.end_headers()
            self.wfile.write(srv.manifest)
        elif self.path.startswith("/v2/fake/blobs/sha256:") and self.path.rsplit(":", 1)[1] in srv.blobs:
            hexd = self.path.rsplit(":", 1)[1]
            data = srv.blobs[hexd]
            want = self.headers.get("Range")
            with srv.lock:
                srv.gets.append((hexd, want))
                drop = srv.mode in ("resume", "ignore-range") and len(data) > 1000 and hexd not in srv.dropped
                srv.dropped.add(hexd)
            if drop:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            m = re.fullmatch(r"bytes=(\d+)-", want or "")
            if srv.mode == "resume" and m and int(m.group(1)) < len(data):
                start = int(m.group(1))
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:])
                return
            if srv.mode == "slow" and len(data) > 1000:
                with srv.lock:
                    srv.active += 1
                    srv.max_active = max(srv.max_active, srv.active)
                time.sleep(0.3)
                with srv.lock:
                    srv.active -= 1
            if srv.mode == "truncate" and len(data) > 1000:
                # The registry dies mid-blob: the full length announced, half of it sent.
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.send(200, data)
        else:
            self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}', "application/json")


@contextlib.contextmanager
def fake_registry(mode):
    srv = FakeRegistry(mode)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join()


@pytest.mark.parametrize("mode", ["digest", "size"])
def test_lying_registry(storage, mode):
    with fake_registry(mode) as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = berth("pull", "--storage", storage, ref, check=False)
    assert p.returncode == 1
    msg = p.stderr.strip()
    assert len(msg.splitlines()) == 1, msg
    assert ref in msg and "/v2/fake/blobs/sha256:" in msg
    if mode == "digest":
        assert "content has digest" in msg, msg
    else:
        assert "more bytes than the descriptor" in msg, msg
    # The config was good, but nothing may enter the store when any blob is bad.
    assert store_blobs(storage) == {}
    assert store_names(storage) == {}


def big_blobs(srv):
    return sorted(h for h, data in srv.blobs.items() if len(data) > 1000)


def test_registry_dies_mid_blob(storage):
    with fake_registry("truncate") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = berth("pull", "--storage", storage, ref, check=False)
    assert p.returncode == 1
    msg = p.stderr.strip()
    assert len(msg.splitlines()) == 1 and "/v2/fake/blobs/sha256:" in msg and "partial" in msg, msg
    assert "after %d attempts" % RETRY_ATTEMPTS in msg, msg
    # Retried, but a bounded number of times; the first layer to give up fails the pull.
    tries = [sum(1 for h, _ in srv.gets if h == b) for b in big_blobs(srv)]
    assert max(tries) == RETRY_ATTEMPTS and all(n <= RETRY_ATTEMPTS for n in tries), tries
    assert store_blobs(storage) == {} and store_names(storage) == {}
    assert os.listdir(os.path.join(storage, "tmp")) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_pull_leaves_nothing(storage, sig):
    """Ctrl-C (the signal to berth and its unpacking children, as a terminal sends it) or a
    SIGTERM to berth alone while blobs download: the pull fails with one line, exits as the
    signal would (128 + N), and leaves no blob, name, lock, temporary file or layer directory."""
    with fake_registry("slow") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = subprocess.Popen([BERTH, "pull", "--storage", storage, ref], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            wait_for(lambda: srv.active > 0, what="a blob download under way")
            if os.geteuid() == 0:  # each layer is being unpacked while it downloads
                assert any(x.startswith(".tmp-") for x in layers_left(storage))
            if sig == signal.SIGINT:
                os.killpg(p.pid, sig)
            else:
                os.kill(p.pid, sig)
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert p.returncode == 128 + sig, err
    assert len(err.strip().splitlines()) == 1 and err.strip().endswith("interrupted"), err
    assert store_blobs(storage) == {} and store_names(storage) == {}
    assert layers_left(storage) == []
    for d in ("tmp", "locks"):
        assert not os.path.isdir(os.path.join(storage, d)) or os.listdir(os.path.join(storage, d)) == []
    with pytest.raises(ProcessLookupError):  # the unpacking children are gone too
        os.killpg(p.pid, 0)


def test_retry_backoff_is_exponential_and_bounded(storage, monkeypatch):
    # Waits of 40, 80, 160 and 320 ms between the five attempts: 0.6 s at least, and bounded.
    monkeypatch.setenv("BERTH_PULL_RETRY_BASE_MS", "40")
    with fake_registry("truncate") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        start = time.monotonic()
        p = berth("pull", "--storage", storage, ref, check=False)
        took = time.monotonic() - start
    assert p.returncode == 1 and "after %d attempts" % RETRY_ATTEMPTS in p.stderr, p.stderr
    assert 0.6 <= took < 5, took
    assert store_blobs(storage) == {}


def test_dropped_download_resumes_with_range(storage):
    with fake_registry("resume") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = berth("pull", "--storage", storage, ref)
    check_image_blobs(storage, pulled_digest(p.stdout))
    assert store_names(storage) == {ref: "sha256:" + hashlib.sha256(srv.manifest).hexdigest()}
    for b in big_blobs(srv):
        # The whole blob once, dropped half way, then the rest from exactly where it stopped.
        assert [r for h, r in srv.gets if h == b] == [None, "bytes=%d-" % (len(srv.blobs[b]) // 2)], srv.gets
    assert os.listdir(os.path.join(storage, "tmp")) == []


def test_resume_ignored_by_the_registry_starts_over(storage):
    with fake_registry("ignore-range") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = berth("pull", "--storage", storage, ref)
    check_image_blobs(storage, pulled_digest(p.stdout))
    for b in big_blobs(srv):
        # Asked for the rest, got a 200 with the whole blob: what came before was dropped.
        assert [r for h, r in srv.gets if h == b] == [None, "bytes=%d-" % (len(srv.blobs[b]) // 2)], srv.gets
    assert os.listdir(os.path.join(storage, "tmp")) == []


def test_manifest_retried(storage):
    with fake_registry("manifest-503") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = berth("pull", "--storage", storage, ref)
        assert srv.manifest_gets == 2
    check_image_blobs(storage, pulled_digest(p.stdout))


def test_manifest_not_the_digest_asked_for(storage):
    with fake_registry("slow") as srv:
        ref = "127.0.0.1:%d/fake@sha256:%s" % (srv.server_address[1], "1" * 64)
        p = berth("pull", "--storage", storage, ref, check=False)
    assert p.returncode == 1
    assert "manifest digest is sha256:" in p.stderr and "expected sha256:" + "1" * 64 in p.stderr, p.stderr
    assert store_blobs(storage) == {} and store_names(storage) == {}


def test_manifest_not_the_digest_the_registry_says(storage):
    with fake_registry("header") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = berth("pull", "--storage", storage, ref, check=False)
    assert p.returncode == 1
    assert "Docker-Content-Digest says sha256:" in p.stderr, p.stderr
    assert store_blobs(storage) == {} and store_names(storage) == {}


def test_layers_download_in_parallel(storage):
    with fake_registry("slow") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        out = berth("pull", "--storage", storage, ref).stdout
        assert srv.max_active >= 3, "at most %d layer downloads at once" % srv.max_active
    assert "5 blobs downloaded" in out, out
    check_image_blobs(storage, pulled_digest(out))


def test_progress_on_a_terminal(storage):
    with fake_registry("slow") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = run_on_pty([BERTH, "pull", "--storage", storage, ref])
    assert p.returncode == 0, p.stderr
    out = p.pty
    manifest = json.loads(srv.manifest)
    # A line per layer: bytes done / total, its speed; the config is fetched before, alone.
    for d in manifest["layers"]:
        line = [x for x in out.splitlines() if d["digest"][7:19] in x and "done" in x]
        assert line, out
        assert re.search(r"10\.0 KiB / 10\.0 KiB +[0-9.]+ (B|KiB|MiB)/s  done", line[-1]), line
    total = [x for x in out.splitlines() if "total" in x and "done" in x]
    assert total and re.search(r"40\.0 KiB / 40\.0 KiB +[0-9.]+ (B|KiB|MiB)/s  done", total[-1]), out
    assert "\x1b[2K" in out and "Digest: sha256:" in out


def test_run_shows_its_pull_progress_on_stderr(env, storage):
    """berth run pulling a missing image draws the progress on its stderr when that is a
    terminal; its stdout stays the container's."""
    if os.geteuid() != 0:
        skip_or_fail("berth run needs root")
    ref = "%s/test/busybox:oci" % env.registry.host
    p = run_on_pty([BERTH, "run", "--rm", "--storage", storage, ref, "/bin/busybox", "echo", "hi"],
                   on=("stderr",))
    assert p.returncode == 0 and p.stdout == "hi\n", p.pty
    total = [x for x in p.pty.splitlines() if "total" in x and "done" in x]
    assert total and "\x1b[2K" in p.pty, p.pty


def test_quiet_on_a_terminal_shows_no_progress(storage):
    with fake_registry("slow") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = run_on_pty([BERTH, "pull", "--quiet", "--storage", storage, ref])
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.pty and p.pty.strip().startswith("sha256:"), p.pty


# ---- unpacking while downloading (berth pull as root) ----


def require_root():
    if os.geteuid() != 0:
        skip_or_fail("berth pull unpacks layers only as root")


def test_pull_unpacks_layers_while_downloading(env, storage):
    require_root()
    ref = "%s/test/busybox:oci" % env.registry.host
    out = berth("pull", "--storage", storage, ref).stdout
    digest = pulled_digest(out)
    chains = pulled_chain_ids(storage, digest)
    assert layers_line(out) == (len(chains), 0)
    # Each layer is in place under its chain id, nothing half-made beside it.
    assert layers_left(storage) == sorted(chains)
    top = os.path.join(storage, "layers", chains[-1])
    assert sha256_file(os.path.join(top, "bin", "busybox")) == sha256_file(BUSYBOX)
    assert os.readlink(os.path.join(top, "bin", "sh")) == "busybox"
    assert os.listdir(os.path.join(storage, "tmp")) == []


def test_run_after_pull_unpacks_nothing(env, storage):
    """berth run finds the layers pull made: it does not even need their blobs any more."""
    require_root()
    ref = "%s/test/busybox:oci" % env.registry.host
    digest = pulled_digest(berth("pull", "--storage", storage, ref).stdout)
    chains = pulled_chain_ids(storage, digest)
    before = {c: os.stat(os.path.join(storage, "layers", c)).st_ino for c in chains}
    with open(os.path.join(storage, "blobs", "sha256", digest.split(":", 1)[1])) as f:
        manifest = json.load(f)
    # A layer unpacked again would need its blob: remove them all.
    for layer in manifest["layers"]:
        os.unlink(os.path.join(storage, "blobs", "sha256", layer["digest"].split(":", 1)[1]))
    p = run([BERTH, "run", "--storage", storage, "--rm", ref, "/bin/sh", "-c", "echo ran-$((6*7))"], check=False)
    assert p.returncode == 0 and "ran-42" in p.stdout, p.stdout + p.stderr
    assert {c: os.stat(os.path.join(storage, "layers", c)).st_ino for c in chains} == before


def test_layer_already_unpacked_is_not_unpacked_again(env, storage):
    require_root()
    ref = "%s/test/busybox:oci" % env.registry.host
    digest = pulled_digest(berth("pull", "--storage", storage, ref).stdout)
    chains = pulled_chain_ids(storage, digest)
    inodes = [os.stat(os.path.join(storage, "layers", c)).st_ino for c in chains]
    # The blobs and the name gone, the layer directories kept: downloaded again, not unpacked.
    shutil.rmtree(os.path.join(storage, "blobs"))
    os.unlink(os.path.join(storage, "names.json"))
    out = berth("pull", "--storage", storage, ref).stdout
    assert layers_line(out) == (0, 0), out
    assert [os.stat(os.path.join(storage, "layers", c)).st_ino for c in chains] == inodes
    check_image_blobs(storage, pulled_digest(out))


def test_stored_blob_is_unpacked_from_the_store(env, storage):
    require_root()
    ref = "%s/test/busybox:oci" % env.registry.host
    digest = pulled_digest(berth("pull", "--storage", storage, ref).stdout)
    chains = pulled_chain_ids(storage, digest)
    shutil.rmtree(os.path.join(storage, "layers"))
    out = berth("pull", "--storage", storage, ref).stdout
    assert "0 blobs downloaded" in out and layers_line(out) == (0, len(chains)), out
    assert layers_left(storage) == sorted(chains)


def test_pull_not_as_root_stores_only(storage):
    require_root()
    if not shutil.which("setpriv"):
        skip_or_fail("setpriv (util-linux) is needed to pull as another user")
    os.chown(storage, 65534, 65534)
    with fake_registry("slow") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BERTH, "pull", "--storage", storage,
                 ref], check=False)
    assert p.returncode == 0, p.stderr
    assert "Layers:" not in p.stdout and layers_left(storage) == []
    check_image_blobs(storage, pulled_digest(p.stdout))


def fake_layer_files(storage, srv, manifest_digest):
    """{chain id: {name: content}} of what the fake registry's layers unpacked to."""
    out = {}
    for c in pulled_chain_ids(storage, manifest_digest):
        d = os.path.join(storage, "layers", c)
        out[c] = {}
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                out[c][name] = f.read()
    return out


def check_fake_layers(storage, srv, manifest_digest):
    files = fake_layer_files(storage, srv, manifest_digest)
    assert sorted(files) == layers_left(storage)
    want = [{"layer%d" % i: ("layer %d " % i).encode() * 1000} for i in range(4)]
    assert [files[c] for c in pulled_chain_ids(storage, manifest_digest)] == want


def test_resumed_download_keeps_streaming(storage):
    require_root()
    with fake_registry("resume") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        out = berth("pull", "--storage", storage, ref).stdout
    # Every layer dropped half way and resumed with a 206: still one pass each.
    for b in big_blobs(srv):
        assert [r for h, r in srv.gets if h == b] == [None, "bytes=%d-" % (len(srv.blobs[b]) // 2)], srv.gets
    assert layers_line(out) == (4, 0), out
    check_fake_layers(storage, srv, pulled_digest(out))


def test_download_started_over_unpacks_from_the_store(storage):
    require_root()
    with fake_registry("ignore-range") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        out = berth("pull", "--storage", storage, ref).stdout
    # A 200 to a Range request: the half-unpacked layer is dropped and unpacked afterwards.
    assert layers_line(out) == (0, 4), out
    check_fake_layers(storage, srv, pulled_digest(out))


@pytest.mark.parametrize("mode", ["badtar", "diffid", "truncate"])
def test_failed_unpack_leaves_nothing(storage, mode):
    require_root()
    with fake_registry(mode) as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        p = berth("pull", "--storage", storage, ref, check=False)
    assert p.returncode == 1
    msg = p.stderr.strip()
    assert len(msg.splitlines()) == 1 and ref in msg, msg
    if mode == "badtar":
        assert "layer %s" % big_blobs_in_order(srv)[2] in msg, msg
    elif mode == "diffid":
        assert "diff_id is %s, the image config says" % json.loads(srv.manifest)["layers"][1]["digest"] in msg, msg
    # No layer directory, finished or not, no blob, no name, no temporary file.
    assert layers_left(storage) == []
    assert store_blobs(storage) == {} and store_names(storage) == {}
    assert os.listdir(os.path.join(storage, "tmp")) == []


def big_blobs_in_order(srv):
    return [d["digest"].split(":", 1)[1] for d in json.loads(srv.manifest)["layers"]]


# ---- concurrent pulls ----


def test_concurrent_pulls_download_each_blob_once(storage):
    with fake_registry("slow") as srv:
        ref = "127.0.0.1:%d/fake:latest" % srv.server_address[1]
        procs = [subprocess.Popen([BERTH, "pull", "--storage", storage, ref], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        check_image_blobs(storage, pulled_digest(out))
    # Each layer blob fetched by one of the two; the other waited for it and found it stored.
    gets = [h for h, _ in srv.gets]
    assert {b: gets.count(b) for b in big_blobs(srv)} == {b: 1 for b in big_blobs(srv)}, srv.gets
    assert sum(int(re.search(r"(\d+) already present", out).group(1)) for out, _ in outs) >= 4, outs
    assert not os.path.exists(os.path.join(storage, "locks")) or os.listdir(os.path.join(storage, "locks")) == []
    if os.geteuid() == 0:
        assert len(layers_left(storage)) == 4


# ---- authentication ----


def write_auth_file(path, host, user, password):
    with open(path, "w") as f:
        json.dump({"auths": {host: {"auth": base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}}}, f)


@pytest.fixture(scope="module")
def basic_registry(env):
    """A registry with htpasswd (bcrypt) basic auth holding test/busybox:oci."""
    root = tempfile.mkdtemp(prefix="berth-pull-basic-")
    htpasswd = os.path.join(root, "htpasswd")
    with open(htpasswd, "w") as f:
        f.write(run(["htpasswd", "-Bbn", "berth", "s3cret"]).stdout)
    reg = Registry(root, "auth: {htpasswd: {realm: berth-test, path: %s}}\n" % htpasswd)
    try:
        run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "berth:s3cret",
             "oci:%s:amd64" % env.layout, "docker://%s/test/busybox:oci" % reg.host])
        yield reg
    finally:
        reg.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_basic_auth(basic_registry, storage):
    host = basic_registry.host
    ref = "%s/test/busybox:oci" % host
    authdir = tempfile.mkdtemp(prefix="berth-pull-auth-")
    try:
        env = dict(os.environ, HOME=authdir)
        env.pop("REGISTRY_AUTH_FILE", None)
        p = run([BERTH, "pull", "--storage", storage, ref], check=False, env=env)
        assert p.returncode == 1 and "HTTP 401" in p.stderr and ref in p.stderr, p.stderr
        assert store_blobs(storage) == {}

        wrong = os.path.join(authdir, "wrong.json")
        write_auth_file(wrong, host, "berth", "nope")
        p = run([BERTH, "pull", "--storage", storage, ref], check=False, env=dict(env, REGISTRY_AUTH_FILE=wrong))
        assert p.returncode == 1 and "HTTP 401" in p.stderr, p.stderr

        # REGISTRY_AUTH_FILE, then ~/.docker/config.json
        good = os.path.join(authdir, "auth.json")
        write_auth_file(good, host, "berth", "s3cret")
        p = run([BERTH, "pull", "--storage", storage, ref], check=False, env=dict(env, REGISTRY_AUTH_FILE=good))
        assert p.returncode == 0, p.stderr
        check_image_blobs(storage, pulled_digest(p.stdout))

        os.makedirs(os.path.join(authdir, ".docker"))
        write_auth_file(os.path.join(authdir, ".docker", "config.json"), host, "berth", "s3cret")
        other = storage + "-2"
        p = run([BERTH, "pull", "--storage", other, ref], check=False, env=env)
        shutil.rmtree(other, ignore_errors=True)
        assert p.returncode == 0, p.stderr
    finally:
        shutil.rmtree(authdir, ignore_errors=True)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer(http.server.ThreadingHTTPServer):
    """A bearer token server for docker-registry's `auth: token`: RS256 JWTs with an x5c chain."""

    def __init__(self, root):
        super().__init__(("127.0.0.1", 0), TokenHandler)
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        self.cert = os.path.join(root, "token.crt")
        key = os.path.join(root, "token.key")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", self.cert,
             "-subj", "/CN=berth-token", "-days", "1"])
        with open(key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)
        with open(self.cert, "rb") as f:
            der = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)
        self.x5c = [base64.b64encode(der).decode()]
        self.scopes = []
        self.lifetime = 300  # seconds a token is good for

    def token(self, service, scope):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        if scope:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        # docker-registry accepts a token up to a minute past its "exp" (clock skew leeway).
        exp = now + self.lifetime - (60 if self.lifetime < 60 else 0)
        claims = {"iss": "berth-test-issuer", "sub": "", "aud": service, "exp": exp, "nbf": now - 10,
                  "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing + "." + b64url(sig)


class TokenHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        import urllib.parse

        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        scope = q.get("scope", [""])[0]
        self.server.scopes.append(scope)
        body = json.dumps({"token": self.server.token(q.get("service", [""])[0], scope)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def token_registry(env):
    """A registry with bearer-token auth (a token server in this process) holding test/busybox:oci."""
    if importlib.util.find_spec("cryptography") is None:
        skip_or_fail("python3-cryptography is needed to sign registry tokens")
    root = tempfile.mkdtemp(prefix="berth-pull-token-")
    ts = TokenServer(root)
    t = threading.Thread(target=ts.serve_forever, daemon=True)
    t.start()
    reg = None
    try:
        realm = "http://127.0.0.1:%d/token" % ts.server_address[1]
        reg = Registry(root, "auth: {token: {realm: '%s', service: berth-test, issuer: berth-test-issuer, "
                             "rootcertbundle: %s}}\n" % (realm, ts.cert))
        run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:%s:amd64" % env.layout,
             "docker://%s/test/busybox:oci" % reg.host])
        reg.tokens = ts
        yield reg
    finally:
        if reg:
            reg.stop()
        ts.shutdown()
        ts.server_close()
        t.join()
        shutil.rmtree(root, ignore_errors=True)


def test_bearer_token_auth(token_registry, storage):
    ref = "%s/test/busybox:oci" % token_registry.host
    del token_registry.tokens.scopes[:]
    p = berth("pull", "--storage", storage, ref)
    check_image_blobs(storage, pulled_digest(p.stdout))
    assert token_registry.tokens.scopes == ["repository:test/busybox:pull"]
    # Without a token the registry refuses: the pull above really was authorised.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen("http://%s/v2/test/busybox/manifests/oci" % token_registry.host, timeout=5)
    assert e.value.code == 401


class DelayProxy(http.server.ThreadingHTTPServer):
    """Forwards GETs to @upstream, holding the first GET of each blob @delay seconds before it
    does; logs (path, status) of every blob GET in `log`."""

    def __init__(self, upstream, delay, addr="127.0.0.1"):
        super().__init__((addr, 0), DelayHandler)
        self.upstream = upstream
        self.delay = delay
        self.seen = set()
        self.log = []
        self.lock = threading.Lock()


class DelayHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        import http.client

        srv = self.server
        blob = "/blobs/" in self.path
        with srv.lock:
            first = blob and self.path not in srv.seen
            srv.seen.add(self.path)
        if first:
            time.sleep(srv.delay)
        conn = http.client.HTTPConnection(srv.upstream, timeout=30)
        try:
            conn.request("GET", self.path, headers={k: v for k, v in self.headers.items()
                                                    if k.lower() in ("authorization", "accept", "range")})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if blob:
            with srv.lock:
                srv.log.append((self.path, resp.status))
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("content-type", "www-authenticate", "docker-content-digest", "content-range",
                             "accept-ranges"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def delay_proxy(upstream, delay, addr="127.0.0.1"):
    srv = DelayProxy(upstream, delay, addr)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join()


def test_expired_token_is_refreshed_mid_pull(token_registry, storage):
    """Tokens good for 2 s, every blob held 3 s on its first GET: each arrives with a token that
    has expired, and the pull asks for a new one and tries again."""
    tokens = token_registry.tokens
    del tokens.scopes[:]
    tokens.lifetime = 2
    try:
        with delay_proxy(token_registry.host, 3) as proxy:
            ref = "127.0.0.1:%d/test/busybox:oci" % proxy.server_address[1]
            p = berth("pull", "--storage", storage, ref, check=False)
    finally:
        tokens.lifetime = 300
    assert p.returncode == 0, p.stderr
    check_image_blobs(storage, pulled_digest(p.stdout))
    with open(os.path.join(storage, "blobs", "sha256", pulled_digest(p.stdout).split(":", 1)[1])) as f:
        layers = ["/v2/test/busybox/blobs/" + d["digest"] for d in json.load(f)["layers"]]
    for path in layers:
        # Refused with the stale token, then served with a fresh one.
        assert [st for pth, st in proxy.log if pth == path] == [401, 200], proxy.log
    assert len(tokens.scopes) >= 2 and set(tokens.scopes) == {"repository:test/busybox:pull"}, tokens.scopes


# ---- insecure registries ----


def test_plain_http_only_for_insecure_registries(env, storage, tmp_path):
    """127.0.0.2 is loopback too, but not a name berth trusts with plain HTTP by default."""
    conf = tmp_path / "registries.conf"
    with delay_proxy(env.registry.host, 0, addr="127.0.0.2") as proxy:
        host = "127.0.0.2:%d" % proxy.server_address[1]
        ref = "%s/test/busybox:oci" % host
        e = dict(os.environ, BERTH_REGISTRIES_CONF=str(conf))
        p = run([BERTH, "pull", "--storage", storage, ref], check=False, env=e)
        assert p.returncode == 1 and "https://%s/v2/" % host in p.stderr, p.stderr
        assert "TLS" in p.stderr and "--insecure-registry" in p.stderr, p.stderr
        assert store_names(storage) == {} and proxy.log == []

        p = run([BERTH, "pull", "--storage", storage, "--insecure-registry", host, ref], check=False, env=e)
        assert p.returncode == 0, p.stderr
        check_image_blobs(storage, pulled_digest(p.stdout))
        for bad in ("", "http://%s" % host):
            p = run([BERTH, "pull", "--storage", storage, "--insecure-registry", bad, ref], check=False, env=e)
            assert p.returncode == 1 and "--insecure-registry takes HOST[:PORT]" in p.stderr, p.stderr

        # The file: by host (every port) or host:port; a line it cannot read is an error.
        for line in ("insecure = 127.0.0.2", "insecure = %s" % host):
            conf.write_text("# test\n\n%s\n" % line)
            other = tempfile.mkdtemp(prefix="berth-pull-store-")
            try:
                p = run([BERTH, "pull", "--storage", other, ref], check=False, env=e)
                assert p.returncode == 0, p.stderr
            finally:
                shutil.rmtree(other, ignore_errors=True)
        conf.write_text("insecure: %s\n" % host)
        p = run([BERTH, "pull", "--storage", storage, ref], check=False, env=e)
        assert p.returncode == 1 and "%s:1: expected" % conf in p.stderr, p.stderr


def test_run_pulls_from_insecure_registries_in_the_file(env, storage, tmp_path):
    require_root()
    conf = tmp_path / "registries.conf"
    conf.write_text("insecure = 127.0.0.2\n")
    with delay_proxy(env.registry.host, 0, addr="127.0.0.2") as proxy:
        ref = "127.0.0.2:%d/test/busybox:oci" % proxy.server_address[1]
        e = dict(os.environ, BERTH_REGISTRIES_CONF=str(conf))
        p = run([BERTH, "run", "--storage", storage, "--rm", ref, "/bin/sh", "-c", "echo ran-$((6*7))"],
                check=False, env=e)
        assert p.returncode == 0 and "ran-42" in p.stdout, p.stdout + p.stderr
        conf.write_text("")
        p = run([BERTH, "run", "--storage", storage + "-2", "--rm", ref, "/bin/true"], check=False, env=e)
        shutil.rmtree(storage + "-2", ignore_errors=True)
        assert p.returncode != 0 and "--insecure-registry" in p.stderr, p.stderr
