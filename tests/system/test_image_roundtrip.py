# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth's flattened rootfs equals umoci's for the same image (issue 6).

A busybox image built with umoci (registry.build_image) gets two more layers written by hand with
Python's tarfile and added verbatim with `umoci raw add-layer`: a lower one, and an awkward one
on top with odd modes (setuid, setgid, sticky, 0000), owners other than root, relative, absolute,
dangling and long symlinks, hardlinks, a fifo, a character device, user.* and trusted.* xattrs
(PAX SCHILY.xattr), names longer than 100 characters, sub-second mtimes, empty directories, a
whiteout of a lower file and an opaque directory. `umoci unpack` and `berth image unpack` each
flatten it, and the two trees are compared entry by entry: type, mode, owner, size and content,
link target, device number, xattrs (security.selinux aside), hardlink groups and mtimes.

Directory mtimes are compared too, except for directories no tar entry describes (the parents of
LONG_DIR, made by both unpackers when the first child arrives, so each carries its run's time)
and the root itself (not walked: umoci makes the bundle's rootfs/, berth makes DIR). The one
difference this found, a lower directory's mtime changed by a later layer's whiteout, was fixed
in berth (unpack.c keeps the times of directories a layer changes without an entry for them).

Also: umoci 0.4's insert writes a layer without the last file's tar padding and end blocks, which
berth reads as Go's archive/tar does; a layer cut inside the data is refused by both.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile

import pytest

from conftest import BUILD_DIR, skip_or_fail
from registry import build_image, require, run

BERTH = os.path.join(BUILD_DIR, "berth")
TOOLS = ("umoci",)
LONG_DIR = "deep/" + "d" * 60 + "/" + "e" * 60  # a path of more than 100 characters
IMPLICIT_DIRS = ("deep", "deep/" + "d" * 60)
MTIME = 1600000000.25  # a float: tarfile writes it as a PAX mtime with the fraction


def entry(name, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, data=b"", link="", xattrs=None, mtime=MTIME, dev=None):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.mode = mode
    i.uid, i.gid = uid, gid
    i.mtime = mtime
    i.linkname = link
    if kind == tarfile.REGTYPE:
        i.size = len(data)
    if dev:
        i.devmajor, i.devminor = dev
    if xattrs:
        i.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    return i, io.BytesIO(data) if kind == tarfile.REGTYPE else None


def write_layer(path, entries):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for i, data in entries:
            t.addfile(i, data)


def lower_layer():
    return [
        entry("etc", tarfile.DIRTYPE, 0o755),
        entry("etc/gone", data=b"whited out above\n"),
        entry("etc/kept", data=b"stays\n"),
        entry("opq", tarfile.DIRTYPE, 0o755),
        entry("opq/old", data=b"hidden by the opaque dir\n"),
        entry("opq/olddir", tarfile.DIRTYPE, 0o755),
        entry("opq/olddir/f", data=b"also hidden\n"),
        entry("replaced", data=b"a file in the lower layer, a directory above\n"),
    ]


def awkward_layer():
    return [
        entry("odd", tarfile.DIRTYPE, 0o755, mtime=1500000000),
        entry("odd/setuid", mode=0o4755, data=b"#!/bin/sh\n"),
        entry("odd/setgid", mode=0o2711, uid=1234, gid=5678, data=b"g\n"),
        entry("odd/zero", mode=0o000, data=b"no access\n"),
        entry("odd/sticky", tarfile.DIRTYPE, 0o1777),
        entry("odd/sgid-dir", tarfile.DIRTYPE, 0o2775, uid=1234, gid=5678),
        entry("odd/private", tarfile.DIRTYPE, 0o700, uid=1234, gid=5678),
        entry("odd/private/owned", mode=0o640, uid=1234, gid=5678, data=b"mine\n"),
        entry("odd/empty", tarfile.DIRTYPE, 0o755),
        entry("odd/empty-zero", tarfile.DIRTYPE, 0o000),
        entry("links", tarfile.DIRTYPE, 0o755),
        entry("links/rel", tarfile.SYMTYPE, 0o777, link="../bin/busybox"),
        entry("links/abs", tarfile.SYMTYPE, 0o777, link="/bin/busybox"),
        entry("links/dangling", tarfile.SYMTYPE, 0o777, link="/nonexistent/target"),
        entry("links/owned", tarfile.SYMTYPE, 0o777, uid=1234, gid=5678, link="rel"),
        entry("links/long", tarfile.SYMTYPE, 0o777, link="/" + LONG_DIR + "/file"),
        entry("links/data", data=b"linked three times\n", mode=0o600, uid=1234, gid=5678),
        entry("links/hard1", tarfile.LNKTYPE, link="links/data"),
        entry("links/hard2", tarfile.LNKTYPE, link="links/data"),
        entry("special", tarfile.DIRTYPE, 0o755),
        entry("special/fifo", tarfile.FIFOTYPE, 0o620, uid=1234, gid=5678),
        entry("special/null", tarfile.CHRTYPE, 0o666, dev=(1, 3)),
        entry("special/blk", tarfile.BLKTYPE, 0o600, dev=(7, 200)),
        entry("xattr", tarfile.DIRTYPE, 0o755, xattrs={"user.dir": "on a directory"}),
        entry("xattr/file", data=b"x\n", xattrs={"user.one": "1", "user.two": "a longer value", "trusted.berth": "t"}),
        entry(LONG_DIR, tarfile.DIRTYPE, 0o755),
        entry(LONG_DIR + "/file", data=b"at the end of a long path\n"),
        entry(LONG_DIR + "/" + "n" * 120, data=b"a long base name\n"),
        entry("etc/.wh.gone", data=b""),
        entry("etc/added", data=b"in a lower directory this layer has no entry for\n"),
        entry("opq", tarfile.DIRTYPE, 0o750),
        entry("opq/.wh..wh..opq", data=b""),
        entry("opq/new", data=b"this layer's own\n"),
        entry("replaced", tarfile.DIRTYPE, 0o755),
        entry("replaced/inside", data=b"a file in the directory\n"),
        entry("big", data=os.urandom(300000), mode=0o644),
        entry("nanos", data=b"t\n", mtime=1234567890.123456789),
        # The last entry a regular file: Python pads it and writes the end blocks.
        entry("last", data=b"the last entry\n", mode=0o444),
    ]


def tree(root):
    """{relative path: (type, mode, uid, gid, what, xattrs, mtime_ns)} and the hardlink groups."""
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            if stat.S_ISREG(kind):
                with open(p, "rb") as f:
                    what = (st.st_size, hashlib.sha256(f.read()).hexdigest())
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif stat.S_ISLNK(kind):
                what = os.readlink(p)
            elif stat.S_ISCHR(kind) or stat.S_ISBLK(kind):
                what = (os.major(st.st_rdev), os.minor(st.st_rdev))
            else:
                what = None
            try:
                names = os.listxattr(p, follow_symlinks=False)
            except OSError:
                names = []
            xattrs = {n: os.getxattr(p, n, follow_symlinks=False) for n in names if n != "security.selinux"}
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, what, xattrs, st.st_mtime_ns)
    groups = sorted(sorted(g) for g in inodes.values() if len(g) > 1)
    return out, groups


@pytest.fixture(scope="module")
def image():
    require(TOOLS, BERTH)
    if os.geteuid() != 0:
        skip_or_fail("the round trip needs root (owners, devices, trusted.* xattrs)")
    root = tempfile.mkdtemp(prefix="berth-roundtrip-")
    try:
        layout = os.path.join(root, "layout")
        build_image(layout, "rt")
        for name, entries in (("lower.tar", lower_layer()), ("awkward.tar", awkward_layer())):
            path = os.path.join(root, name)
            write_layer(path, entries)
            run(["umoci", "raw", "add-layer", "--image", layout + ":rt", path])
        yield root, layout
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_unpack_equals_umoci(image):
    root, layout = image
    work = tempfile.mkdtemp(prefix="berth-roundtrip-test-", dir=root)
    storage = os.path.join(work, "store")
    bundle = os.path.join(work, "bundle")
    mine = os.path.join(work, "berth-rootfs")
    run(["umoci", "unpack", "--image", layout + ":rt", bundle])
    run([BERTH, "image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/rt:1"])
    run([BERTH, "image", "unpack", "--storage", storage, "localhost/rt:1", mine])

    theirs, their_links = tree(os.path.join(bundle, "rootfs"))
    ours, our_links = tree(mine)
    assert sorted(ours) == sorted(theirs)
    # The one expected difference: directories no tar entry describes (the parents of LONG_DIR)
    # are made by both unpackers when their first child arrives, so they carry the time of the
    # unpack, which differs between the two runs. Everything else about them must agree.
    for p in IMPLICIT_DIRS:
        assert ours[p][:6] == theirs[p][:6] == (stat.S_IFDIR, 0o755, 0, 0, None, {})
        ours[p] = theirs[p] = ours[p][:6]
    diffs = [(p, ours[p], theirs[p]) for p in sorted(ours) if ours[p] != theirs[p]]
    assert diffs == [], "\n".join(map(repr, diffs))
    assert our_links == their_links == [["links/data", "links/hard1", "links/hard2"]]

    # What the layers say, checked once on berth's tree (the comparison covers umoci's).
    assert not os.path.lexists(os.path.join(mine, "etc/gone"))
    assert os.listdir(os.path.join(mine, "opq")) == ["new"]
    assert ours["odd/setuid"][1] == 0o4755 and ours["odd/sticky"][1] == 0o1777
    assert ours["odd/private/owned"][2:4] == (1234, 5678)
    assert ours["links/owned"][2:4] == (1234, 5678)
    assert ours["special/null"][4] == (1, 3)
    assert ours["xattr/file"][5] == {"user.one": b"1", "user.two": b"a longer value", "trusted.berth": b"t"}
    assert ours["nanos"][6] % 10**9 != 0
    assert ours["odd"][6] == 1500000000 * 10**9
    # A directory changed by a later layer without an entry of its own keeps the lower layer's time.
    assert ours["etc"][6] == 1600000000250000000


def layer_tars(layout, tag):
    """The uncompressed tar of each layer of @tag, bottom first."""
    with open(os.path.join(layout, "index.json")) as f:
        (desc,) = [m for m in json.load(f)["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag]
    with open(os.path.join(layout, "blobs", "sha256", desc["digest"].split(":")[1])) as f:
        manifest = json.load(f)
    out = []
    for layer in manifest["layers"]:
        with open(os.path.join(layout, "blobs", "sha256", layer["digest"].split(":")[1]), "rb") as f:
            data = f.read()
        out.append(gzip.decompress(data) if layer["mediaType"].endswith("+gzip") else data)
    return out


def test_umoci_insert_layer_without_padding(image):
    """umoci 0.4's insert ends a layer whose last entry is a regular file right after its data:
    no padding to 512 bytes, no end-of-archive blocks. Go's archive/tar (umoci, podman,
    containerd, skopeo) reads that as the end of the archive; GNU tar calls it truncated. berth
    reads it as Go does, and a layer cut inside the data is refused by both."""
    root, _ = image
    work = tempfile.mkdtemp(prefix="berth-roundtrip-test-", dir=root)
    layout = os.path.join(work, "layout")
    src = os.path.join(work, "src", "d")
    os.makedirs(src)
    with open(os.path.join(src, "file"), "wb") as f:
        f.write(os.urandom(1000))
    run(["umoci", "init", "--layout", layout])
    run(["umoci", "new", "--image", layout + ":ok"])
    run(["umoci", "insert", "--image", layout + ":ok", src, "/d"])
    (tar,) = layer_tars(layout, "ok")
    assert len(tar) % 512 != 0, "umoci now pads its layers; this test is moot"
    p = subprocess.run(["tar", "-tf", "-"], input=tar, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert p.returncode != 0 and b"Unexpected EOF" in p.stderr

    storage = os.path.join(work, "store")
    run([BERTH, "image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/ok:1"])
    mine = os.path.join(work, "berth-rootfs")
    run([BERTH, "image", "unpack", "--storage", storage, "localhost/ok:1", mine])
    run(["umoci", "unpack", "--image", layout + ":ok", os.path.join(work, "bundle")])
    assert tree(mine) == tree(os.path.join(work, "bundle", "rootfs"))

    # The same layer cut 100 bytes before the end of the file's data: refused by umoci and berth.
    cut = os.path.join(work, "cut.tar")
    with open(cut, "wb") as f:
        f.write(tar[: len(tar) - 100])
    run(["umoci", "new", "--image", layout + ":cut"])
    run(["umoci", "raw", "add-layer", "--image", layout + ":cut", cut])
    p = run(["umoci", "unpack", "--image", layout + ":cut", os.path.join(work, "bundle-cut")], check=False)
    assert p.returncode != 0 and "unexpected EOF" in p.stderr
    run([BERTH, "image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/ok"])
    p = run([BERTH, "image", "unpack", "--storage", storage, "localhost/ok:cut", os.path.join(work, "cut")], check=False)
    assert p.returncode == 1 and "Truncated tar archive" in p.stderr
    assert not os.path.exists(os.path.join(work, "cut"))
