# SPDX-License-Identifier: LGPL-2.1-or-later
"""`berth image load|save|inspect|prune` and `berth rmi` with OCI layouts and archives (issue 6).

A module fixture builds a busybox image with umoci (init/new/insert of /bin/busybox from
busybox-static, config --config.cmd) into an OCI layout, tagged v1, and a second tag v2 with
only a different config, so both share the layer blob. skopeo and umoci read what berth saves.
Every test gets a fresh --storage directory; every temp dir is removed.
"""

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time

import pytest

from conftest import BUILD_DIR, skip_or_fail
from registry import require, run, sha256_file

BERTH = os.path.join(BUILD_DIR, "berth")
BUSYBOX = "/bin/busybox"
TOOLS = ("umoci", "skopeo")


def berth(*args, check=True):
    return run([BERTH] + list(args), check=check)


def store_blobs(storage):
    d = os.path.join(storage, "blobs", "sha256")
    return set(os.listdir(d)) if os.path.isdir(d) else set()


def store_names(storage):
    p = os.path.join(storage, "names.json")
    if not os.path.exists(p):
        return {}
    with open(p) as f:
        return json.load(f)["names"]


def layout_manifest(layout, tag):
    """(manifest digest, manifest JSON) of @tag in an OCI layout."""
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            with open(os.path.join(layout, "blobs", "sha256", m["digest"].split(":")[1])) as f:
                return m["digest"], json.load(f)
    raise KeyError(tag)


def umoci_unpack(image, dest):
    cmd = ["umoci", "unpack"]
    if os.geteuid() != 0:
        cmd.append("--rootless")
    run(cmd + ["--image", image, dest])


@pytest.fixture(scope="module")
def layout():
    require(TOOLS, BERTH)
    if not os.path.exists(BUSYBOX):
        skip_or_fail("busybox-static is not installed")
    root = tempfile.mkdtemp(prefix="berth-layout-")
    try:
        src = os.path.join(root, "src")
        os.makedirs(os.path.join(src, "bin"))
        shutil.copy2(BUSYBOX, os.path.join(src, "bin", "busybox"))
        lay = os.path.join(root, "layout")
        run(["umoci", "init", "--layout", lay])
        run(["umoci", "new", "--image", lay + ":v1"])
        run(["umoci", "insert", "--image", lay + ":v1", os.path.join(src, "bin"), "/bin"])
        run(["umoci", "config", "--image", lay + ":v1", "--config.cmd", "/bin/busybox"])
        # v2: the same layer under another config, so the two images share the layer blob.
        run(["umoci", "config", "--image", lay + ":v1", "--tag", "v2", "--config.cmd", "/bin/true"])
        yield lay
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="berth-layout-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def single_tag_layout(layout, tag, dest):
    """A copy of @layout whose index.json lists only @tag."""
    shutil.copytree(layout, dest)
    p = os.path.join(dest, "index.json")
    with open(p) as f:
        index = json.load(f)
    index["manifests"] = [
        m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag
    ]
    with open(p, "w") as f:
        json.dump(index, f)
    return dest


def load_v1(layout, tmp, storage):
    lay = single_tag_layout(layout, "v1", os.path.join(tmp, "v1"))
    out = berth("image", "load", "--storage", storage, "--dir", lay, "--name", "busybox:v1").stdout
    return out


def test_load_dir_images_inspect(layout, tmp):
    storage = os.path.join(tmp, "store")
    digest, manifest = layout_manifest(layout, "v1")
    out = load_v1(layout, tmp, storage)
    assert "docker.io/library/busybox:v1" in out and digest in out
    images = berth("images", "--storage", storage).stdout
    assert images.strip() == "docker.io/library/busybox:v1 %s" % digest
    info = json.loads(berth("image", "inspect", "--storage", storage, "busybox:v1").stdout)
    assert info["Digest"] == digest
    assert info["ConfigDigest"] == manifest["config"]["digest"]
    assert [l["Digest"] for l in info["Layers"]] == [l["digest"] for l in manifest["layers"]]
    assert info["Os"] == "linux" and info["Architecture"]
    assert info["Config"]["config"]["Cmd"] == ["/bin/busybox"]
    assert info["Size"] == sum(l["size"] for l in manifest["layers"]) + manifest["config"]["size"] + len(
        open(os.path.join(layout, "blobs", "sha256", digest.split(":")[1]), "rb").read()
    )
    # Every blob is in the store and hashes to its name.
    for h in store_blobs(storage):
        assert sha256_file(os.path.join(storage, "blobs", "sha256", h)) == h


def test_load_several_tags_with_name(layout, tmp):
    storage = os.path.join(tmp, "store")
    berth("image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/bb")
    names = store_names(storage)
    assert names == {
        "localhost/bb:v1": layout_manifest(layout, "v1")[0],
        "localhost/bb:v2": layout_manifest(layout, "v2")[0],
    }


def test_load_bare_tag_without_name_refused(layout, tmp):
    storage = os.path.join(tmp, "store")
    p = berth("image", "load", "--storage", storage, "--dir", layout, check=False)
    assert p.returncode == 1
    assert "--name" in p.stderr
    assert store_names(storage) == {} and store_blobs(storage) == set()


def test_save_dir_read_by_skopeo_and_umoci(layout, tmp):
    storage = os.path.join(tmp, "store")
    load_v1(layout, tmp, storage)
    _, manifest = layout_manifest(layout, "v1")
    out = os.path.join(tmp, "out")
    berth("image", "save", "--storage", storage, "--dir", out, "busybox:v1")
    info = json.loads(run(["skopeo", "inspect", "oci:%s:v1" % out]).stdout)
    assert info["Layers"] == [l["digest"] for l in manifest["layers"]]
    bundle = os.path.join(tmp, "bundle")
    umoci_unpack("%s:v1" % out, bundle)
    assert os.path.isfile(os.path.join(bundle, "rootfs", "bin", "busybox"))
    # A layout saved by berth loads back without --name (it carries the full name).
    storage2 = os.path.join(tmp, "store2")
    berth("image", "load", "--storage", storage2, "--dir", out)
    assert store_names(storage2) == store_names(storage)
    # save never writes into a directory that is not empty.
    p = berth("image", "save", "--storage", storage, "--dir", out, "busybox:v1", check=False)
    assert p.returncode == 1 and "not empty" in p.stderr


def test_archive_round_trip(layout, tmp):
    storage = os.path.join(tmp, "store")
    load_v1(layout, tmp, storage)
    digest, manifest = layout_manifest(layout, "v1")
    tar = os.path.join(tmp, "image.tar")
    berth("image", "save", "--storage", storage, "-o", tar, "busybox:v1")
    with tarfile.open(tar) as t:
        names = t.getnames()
    assert "oci-layout" in names and "index.json" in names
    info = json.loads(run(["skopeo", "inspect", "oci-archive:%s:v1" % tar]).stdout)
    assert info["Digest"] == digest
    storage2 = os.path.join(tmp, "store2")
    out = berth("image", "load", "--storage", storage2, "-i", tar).stdout
    assert digest in out
    assert store_names(storage2) == {"docker.io/library/busybox:v1": digest}
    assert store_blobs(storage2) == store_blobs(storage)
    assert os.listdir(os.path.join(storage2, "tmp")) == []


def test_load_what_skopeo_wrote(layout, tmp):
    storage = os.path.join(tmp, "store")
    tar = os.path.join(tmp, "skopeo.tar")
    run(["skopeo", "copy", "--quiet", "oci:%s:v1" % layout, "oci-archive:%s:v1" % tar])
    out = berth("image", "load", "--storage", storage, "-i", tar, "--name", "example.com/team/bb:1.0").stdout
    assert "example.com/team/bb:1.0" in out
    info = json.loads(berth("image", "inspect", "--storage", storage, "example.com/team/bb:1.0").stdout)
    _, manifest = layout_manifest(layout, "v1")
    assert [l["Digest"] for l in info["Layers"]] == [l["digest"] for l in manifest["layers"]]


def test_rmi_keeps_shared_layer(layout, tmp):
    storage = os.path.join(tmp, "store")
    berth("image", "load", "--storage", storage, "--dir", layout, "--name", "bb")
    d1, m1 = layout_manifest(layout, "v1")
    d2, m2 = layout_manifest(layout, "v2")
    layer = m1["layers"][0]["digest"].split(":")[1]
    assert m2["layers"][0]["digest"].split(":")[1] == layer
    before = store_blobs(storage)
    berth("rmi", "--storage", storage, "bb:v1")
    assert store_names(storage) == {"docker.io/library/bb:v2": d2}
    after = store_blobs(storage)
    assert before - after == {d1.split(":")[1], m1["config"]["digest"].split(":")[1]}
    assert layer in after
    # The survivor still saves and unpacks.
    out = os.path.join(tmp, "out")
    berth("image", "save", "--storage", storage, "--dir", out, "bb:v2")
    umoci_unpack("%s:v2" % out, os.path.join(tmp, "bundle"))
    berth("rmi", "--storage", storage, "bb:v2")
    assert store_names(storage) == {} and store_blobs(storage) == set()
    p = berth("rmi", "--storage", storage, "bb:v2", check=False)
    assert p.returncode == 1 and "not in the store" in p.stderr


def test_prune(layout, tmp):
    storage = os.path.join(tmp, "store")
    load_v1(layout, tmp, storage)
    live = store_blobs(storage)
    blobs = os.path.join(storage, "blobs", "sha256")
    old_data, young_data = b"an orphan blob\n", b"a young orphan\n"
    old = hashlib.sha256(old_data).hexdigest()
    young = hashlib.sha256(young_data).hexdigest()
    for h, data in ((old, old_data), (young, young_data)):
        with open(os.path.join(blobs, h), "wb") as f:
            f.write(data)
    hour_ago = time.time() - 3700
    os.utime(os.path.join(blobs, old), (hour_ago, hour_ago))
    leftover = os.path.join(storage, "tmp", "load-old")
    os.mkdir(leftover)
    os.utime(leftover, (hour_ago, hour_ago))
    fresh = os.path.join(storage, "tmp", "blob-fresh")
    open(fresh, "w").close()
    out = berth("image", "prune", "--storage", storage).stdout
    assert "Removed 1 blobs" in out
    assert store_blobs(storage) == live | {young}
    assert not os.path.exists(leftover) and os.path.exists(fresh)
    berth("image", "inspect", "--storage", storage, "busybox:v1")


def test_bad_digest_adds_nothing(layout, tmp):
    storage = os.path.join(tmp, "store")
    lay = single_tag_layout(layout, "v1", os.path.join(tmp, "bad"))
    _, manifest = layout_manifest(lay, "v1")
    p = os.path.join(lay, "blobs", "sha256", manifest["layers"][0]["digest"].split(":")[1])
    with open(p, "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0xFF]))
    r = berth("image", "load", "--storage", storage, "--dir", lay, "--name", "bad", check=False)
    assert r.returncode == 1
    assert "has digest" in r.stderr and manifest["layers"][0]["digest"] in r.stderr
    assert store_names(storage) == {} and store_blobs(storage) == set()


def test_missing_oci_layout(layout, tmp):
    storage = os.path.join(tmp, "store")
    lay = single_tag_layout(layout, "v1", os.path.join(tmp, "nolayout"))
    os.unlink(os.path.join(lay, "oci-layout"))
    r = berth("image", "load", "--storage", storage, "--dir", lay, "--name", "x", check=False)
    assert r.returncode == 1 and "no oci-layout file" in r.stderr
    assert store_names(storage) == {}


@pytest.mark.parametrize("name", ["../x", "/abs", "blobs/../../x", "link"])
def test_archive_escape_refused(tmp, name):
    storage = os.path.join(tmp, "store")
    tar = os.path.join(tmp, "evil.tar")
    with tarfile.open(tar, "w") as t:
        layout = b'{"imageLayoutVersion":"1.0.0"}'
        i = tarfile.TarInfo("oci-layout")
        i.size = len(layout)
        t.addfile(i, io.BytesIO(layout))
        i = tarfile.TarInfo(name)
        if name == "link":
            i.type = tarfile.SYMTYPE
            i.linkname = "/etc"
        else:
            i.size = 1
        t.addfile(i, io.BytesIO(b"x"))
    r = berth("image", "load", "--storage", storage, "-i", tar, "--name", "x", check=False)
    assert r.returncode == 1
    if name == "link":
        # Symlinks are never created (Docker archives' compatibility links are skipped); this
        # archive is then not a layout.
        assert "not an OCI image layout" in r.stderr
    else:
        assert "leaves the archive" in r.stderr
    assert not os.path.exists(os.path.join(tmp, "x")) and not os.path.exists("/abs")
    assert os.listdir(os.path.join(storage, "tmp")) == []


def test_archive_hardlink_refused(tmp):
    storage = os.path.join(tmp, "store")
    tar = os.path.join(tmp, "evil.tar")
    with tarfile.open(tar, "w") as t:
        i = tarfile.TarInfo("oci-layout")
        i.type = tarfile.LNKTYPE
        i.linkname = "/etc/passwd"
        t.addfile(i)
    r = berth("image", "load", "--storage", storage, "-i", tar, "--name", "x", check=False)
    assert r.returncode == 1 and "not a file or a directory" in r.stderr
    assert os.listdir(os.path.join(storage, "tmp")) == []


def test_docker_archive_load(layout, tmp):
    storage = os.path.join(tmp, "store")
    tar = os.path.join(tmp, "docker.tar")
    run(["skopeo", "copy", "--quiet", "oci:%s:v1" % layout, "docker-archive:%s:example.com/bb:dock" % tar])
    out = berth("image", "load", "--storage", storage, "-i", tar).stdout
    assert "example.com/bb:dock" in out
    _, manifest = layout_manifest(layout, "v1")
    info = json.loads(berth("image", "inspect", "--storage", storage, "example.com/bb:dock").stdout)
    # Docker archives hold uncompressed layers: same config, a layer that is the tar itself.
    assert info["ConfigDigest"] == manifest["config"]["digest"]
    with open(os.path.join(layout, "blobs", "sha256", manifest["config"]["digest"].split(":")[1])) as f:
        diff_ids = json.load(f)["rootfs"]["diff_ids"]
    assert [l["Digest"] for l in info["Layers"]] == diff_ids
    out_dir = os.path.join(tmp, "out")
    berth("image", "save", "--storage", storage, "--dir", out_dir, "example.com/bb:dock")
    umoci_unpack("%s:dock" % out_dir, os.path.join(tmp, "bundle"))
    assert os.path.isfile(os.path.join(tmp, "bundle", "rootfs", "bin", "busybox"))
    # Without RepoTags a name must be given.
    tar2 = os.path.join(tmp, "untagged.tar")
    run(["skopeo", "copy", "--quiet", "oci:%s:v1" % layout, "docker-archive:%s" % tar2])
    r = berth("image", "load", "--storage", storage, "-i", tar2, check=False)
    assert r.returncode == 1 and "--name" in r.stderr
    berth("image", "load", "--storage", storage, "-i", tar2, "--name", "untagged")
    assert "docker.io/library/untagged:latest" in store_names(storage)
    assert os.listdir(os.path.join(storage, "tmp")) == []


def test_docker_archive_path_escape(tmp):
    storage = os.path.join(tmp, "store")
    tar = os.path.join(tmp, "evil.tar")
    with tarfile.open(tar, "w") as t:
        m = json.dumps([{"Config": "../../../etc/passwd", "RepoTags": ["x:1"], "Layers": []}]).encode()
        i = tarfile.TarInfo("manifest.json")
        i.size = len(m)
        t.addfile(i, io.BytesIO(m))
    r = berth("image", "load", "--storage", storage, "-i", tar, check=False)
    assert r.returncode == 1 and "outside the archive" in r.stderr
    assert store_blobs(storage) == set() and store_names(storage) == {}


def test_save_unknown_image(tmp):
    if not os.path.exists(BERTH):
        skip_or_fail("%s is not built" % BERTH)
    r = berth("image", "save", "--storage", os.path.join(tmp, "s"), "--dir", os.path.join(tmp, "o"), "nope", check=False)
    assert r.returncode == 1 and "not in the store" in r.stderr


def test_save_docker_archive(layout, tmp):
    storage = os.path.join(tmp, "store")
    load_v1(layout, tmp, storage)
    digest, manifest = layout_manifest(layout, "v1")
    config_digest = manifest["config"]["digest"]
    with open(os.path.join(layout, "blobs", "sha256", config_digest.split(":")[1])) as f:
        diff_ids = json.load(f)["rootfs"]["diff_ids"]
    tar = os.path.join(tmp, "docker.tar")
    berth("image", "save", "--storage", storage, "--format", "docker-archive", "-o", tar, "busybox:v1")
    with tarfile.open(tar) as t:
        names = set(t.getnames())
        entries = json.load(t.extractfile("manifest.json"))
        repositories = json.load(t.extractfile("repositories"))
        layer = t.extractfile(diff_ids[0].split(":")[1] + ".tar").read()
    hexes = [d.split(":")[1] for d in diff_ids]
    assert names == {"manifest.json", "repositories", config_digest.split(":")[1] + ".json"} | {
        h + ".tar" for h in hexes
    }
    assert entries == [
        {
            "Config": config_digest.split(":")[1] + ".json",
            "RepoTags": ["docker.io/library/busybox:v1"],
            "Layers": [h + ".tar" for h in hexes],
        }
    ]
    assert list(repositories) == ["docker.io/library/busybox"] and list(repositories["docker.io/library/busybox"]) == ["v1"]
    # Layers are stored gzip-compressed; the archive holds the uncompressed tar of each diff_id.
    assert hashlib.sha256(layer).hexdigest() == hexes[0]

    # skopeo reads it: the same config (image ID) and diff_ids, and copies it to an OCI layout.
    info = json.loads(run(["skopeo", "inspect", "docker-archive:%s" % tar]).stdout)
    assert info["Layers"] == diff_ids
    raw = json.loads(run(["skopeo", "inspect", "--config", "--raw", "docker-archive:%s" % tar]).stdout)
    assert raw["rootfs"]["diff_ids"] == diff_ids
    oci = os.path.join(tmp, "oci")
    run(["skopeo", "copy", "--quiet", "docker-archive:%s" % tar, "oci:%s:copied" % oci])
    umoci_unpack("%s:copied" % oci, os.path.join(tmp, "bundle"))
    assert os.path.isfile(os.path.join(tmp, "bundle", "rootfs", "bin", "busybox"))

    # podman loads it too, with the same image ID (optional: podman is not a test dependency).
    if shutil.which("podman"):
        pod = ["podman", "--root", os.path.join(tmp, "podman"), "--runroot", os.path.join(tmp, "podman-run"),
               "--storage-driver", "vfs"]
        run(pod + ["load", "-i", tar])
        images = run(pod + ["images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}", "--no-trunc"]).stdout
        assert images.split() == [config_digest, "docker.io/library/busybox:v1"]

    # berth loads it back under its RepoTag with the same image ID (config digest).
    storage2 = os.path.join(tmp, "store2")
    berth("image", "load", "--storage", storage2, "-i", tar)
    info2 = json.loads(berth("image", "inspect", "--storage", storage2, "busybox:v1").stdout)
    assert info2["ConfigDigest"] == config_digest
    assert [l["Digest"] for l in info2["Layers"]] == diff_ids


def test_save_docker_archive_bad_options(layout, tmp):
    storage = os.path.join(tmp, "store")
    load_v1(layout, tmp, storage)
    r = berth("image", "save", "--storage", storage, "--format", "docker-archive", "--dir", os.path.join(tmp, "d"), "busybox:v1", check=False)
    assert r.returncode == 1 and "-o FILE.tar" in r.stderr
    r = berth("image", "save", "--storage", storage, "--format", "tgz", "-o", os.path.join(tmp, "x.tar"), "busybox:v1", check=False)
    assert r.returncode == 1 and "unknown format" in r.stderr
    assert not os.path.exists(os.path.join(tmp, "d")) and not os.path.exists(os.path.join(tmp, "x.tar"))
