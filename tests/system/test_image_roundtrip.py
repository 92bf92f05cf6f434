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

Overlay parents: two more layers on top (tag `parents`), a lower one with /tmp 1777 and /a 0750
1234:5678 (with a user.* xattr), and an upper one adding /tmp/x and /a/b/c with no entries for
their parents. Inside a `berth run` container (overlayfs over the per-layer dirs) /tmp and /a must
be what the lower made them, both after `berth image load` (the layers unpacked by `berth run`,
each on top of the dirs below it) and after `berth pull` (the layers unpacked while they download,
at once, and fixed up at commit). The whole overlay rootfs of a running container is compared with
umoci's tree too, as the flattened copy is.
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
from registry import Registry, build_image, require, run

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


def parents_lower_layer():
    return [
        entry("tmp", tarfile.DIRTYPE, 0o1777, mtime=1500000000),
        entry("a", tarfile.DIRTYPE, 0o750, uid=1234, gid=5678, xattrs={"user.a": "kept"}, mtime=1500000001),
    ]


def parents_upper_layer():
    # No entries for tmp, a or a/b: the unpacker makes them.
    return [entry("tmp/x", data=b"x\n"), entry("a/b/c", data=b"c\n")]


PARENTS_IMPLICIT_DIRS = ("a/b",)  # in no lower layer: 0755 root, the time of the unpack
# umoci gives the directory it makes a/b in the time of the unpack (it restores the times of the
# directories entries are added to, not of those it makes a missing parent in); berth keeps the
# lower layer's, in the flattened copy and the overlay alike.
UMOCI_RETIMED_DIRS = ("a",)


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


# ---- overlay parents ----


def berth_run_stat(storage, image, *paths):
    """{path: (mode, uid, gid, mtime)} as a container of @image sees them."""
    p = run([BERTH, "run", "--rm", "--storage", storage, image, "/bin/busybox", "stat", "-c", "%n %a %u %g %Y"]
            + list(paths))
    out = {}
    for line in p.stdout.splitlines():
        name, mode, uid, gid, mtime = line.split()
        out[name] = (int(mode, 8), int(uid), int(gid), int(mtime))
    return out


def no_marks_left(storage):
    """No directory under layers/ carries the unpacker's trusted.berth.implicit mark."""
    for dirpath, dirnames, _ in os.walk(os.path.join(storage, "layers")):
        for d in dirnames + ["."]:
            names = os.listxattr(os.path.join(dirpath, d), follow_symlinks=False)
            assert "trusted.berth.implicit" not in names, os.path.join(dirpath, d)


def overlay_tree_equals_umoci(root, storage, image):
    """The overlay rootfs of a running container of @image, walked from the host, against umoci's
    and against berth's flattened copy (`berth image unpack`)."""
    flat = os.path.join(storage, "..", "flat")
    run([BERTH, "image", "unpack", "--storage", storage, image, flat])
    flattened, flat_links = tree(flat)
    p = run([BERTH, "run", "-d", "--storage", storage, image, "/bin/busybox", "sleep", "600"])
    cid = p.stdout.strip()
    try:
        rootfs = os.path.join(storage, "containers", cid, "rootfs")
        assert os.path.ismount(rootfs)
        ours, our_links = tree(rootfs)
    finally:
        run([BERTH, "rm", "-f", "--storage", storage, cid])
    theirs, their_links = tree(os.path.join(root, "parents-bundle", "rootfs"))
    # The runtime's mount points, made in the upper dir.
    extra = set(ours) - set(theirs)
    assert extra <= {"dev", "proc", "sys"}, extra
    for p in extra:
        del ours[p]
    assert sorted(ours) == sorted(theirs)
    for p in IMPLICIT_DIRS + PARENTS_IMPLICIT_DIRS:
        assert ours[p][:6] == theirs[p][:6] == flattened[p][:6] == (stat.S_IFDIR, 0o755, 0, 0, None, {})
        ours[p] = theirs[p] = flattened[p] = ours[p][:6]
    diffs = [(p, ours[p], flattened[p]) for p in sorted(ours) if ours[p] != flattened[p]]
    assert diffs == [], "\n".join(map(repr, diffs))
    assert our_links == flat_links
    for p in UMOCI_RETIMED_DIRS:
        assert ours[p][:6] == theirs[p][:6]
        ours[p] = theirs[p] = ours[p][:6]
    diffs = [(p, ours[p], theirs[p]) for p in sorted(ours) if ours[p] != theirs[p]]
    assert diffs == [], "\n".join(map(repr, diffs))
    assert our_links == their_links


def check_parents(root, storage, image):
    # (/a/b is beyond the container's reach: /a is 0750 and it has no CAP_DAC_OVERRIDE.)
    seen = berth_run_stat(storage, image, "/tmp", "/a")
    assert seen["/tmp"] == (0o1777, 0, 0, 1500000000)
    assert seen["/a"] == (0o750, 1234, 5678, 1500000001)
    no_marks_left(storage)
    overlay_tree_equals_umoci(root, storage, image)


@pytest.fixture(scope="module")
def parents_image(image):
    """rt and the two parents layers on top, alone in a layout of its own, and umoci's unpack of it."""
    root, layout = image
    playout = os.path.join(root, "parents-layout")
    shutil.copytree(layout, playout)
    for name, entries, image_from in (
        ("parents-lower.tar", parents_lower_layer(), "rt"),
        ("parents-upper.tar", parents_upper_layer(), "parents"),
    ):
        path = os.path.join(root, name)
        write_layer(path, entries)
        run(["umoci", "raw", "add-layer", "--image", playout + ":" + image_from, "--tag", "parents", path])
    run(["umoci", "rm", "--image", playout + ":rt"])
    run(["umoci", "unpack", "--image", playout + ":parents", os.path.join(root, "parents-bundle")])
    return root, playout


def test_overlay_parents_after_load(parents_image, ctx):
    """berth run unpacks each layer on top of the dirs of the layers below it."""
    root, layout = parents_image
    storage = os.path.join(ctx.dir, "store")
    run([BERTH, "image", "load", "--storage", storage, "--dir", layout, "--name", "localhost/parents:1"])
    check_parents(root, storage, "localhost/parents:1")


def test_overlay_parents_after_pull(parents_image, ctx):
    """berth pull unpacks the layers at once while they download; the parents are fixed at commit."""
    require(("docker-registry", "skopeo"), BERTH)
    root, layout = parents_image
    reg = Registry(tempfile.mkdtemp(prefix="registry-", dir=root))
    try:
        ref = "%s/test/parents:1" % reg.host
        run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:%s:parents" % layout, "docker://" + ref])
        storage = os.path.join(ctx.dir, "store")
        p = run([BERTH, "pull", "--storage", storage, ref])
        assert "0 unpacked from the store" in p.stdout, p.stdout
        check_parents(root, storage, ref)
    finally:
        reg.stop()
