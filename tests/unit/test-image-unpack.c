/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "image/unpack.h"

/* ---- building layers in memory with libarchive's writer ---- */

typedef struct Buf {
        uint8_t *data;
        size_t len, cap;
} Buf;

static la_ssize_t buf_write_cb(struct archive *a, void *userdata, const void *p, size_t n)
{
        Buf *b = userdata;
        if (b->len + n > b->cap) {
                b->cap = MAX(b->cap * 2, b->len + n);
                b->data = realloc(b->data, b->cap);
                assert_non_null(b->data);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return (la_ssize_t)n;
}

typedef enum Filter { FILTER_NONE, FILTER_GZIP, FILTER_ZSTD, FILTER_GZIP_PADDED } Filter;

typedef struct Tar {
        struct archive *a;
        Buf buf;
} Tar;

static void tar_begin(Tar *t, Filter f)
{
        *t = (Tar){.a = archive_write_new()};
        assert_non_null(t->a);
        assert_int_equal(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
        if (f == FILTER_GZIP || f == FILTER_GZIP_PADDED)
                assert_int_equal(archive_write_add_filter_gzip(t->a), ARCHIVE_OK);
        else if (f == FILTER_ZSTD)
                assert_int_equal(archive_write_add_filter_zstd(t->a), ARCHIVE_OK);
        /* libarchive pads its output (after compression) to 10 KiB blocks unless told not to. */
        if (f != FILTER_GZIP_PADDED)
                assert_int_equal(archive_write_set_bytes_in_last_block(t->a, 1), ARCHIVE_OK);
        assert_int_equal(archive_write_open(t->a, &t->buf, NULL, buf_write_cb, NULL), ARCHIVE_OK);
}

static struct archive_entry *entry_new(const char *path, mode_t type, mode_t perm)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, perm);
        archive_entry_set_mtime(e, 1000000000, 0);
        return e;
}

/* Writes and frees @e, with @len bytes of @data for a regular file. */
static void tar_put(Tar *t, struct archive_entry *e, const void *data, size_t len)
{
        if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e))
                archive_entry_set_size(e, (la_int64_t)len);
        assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
        if (len > 0)
                assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
        archive_entry_free(e);
}

static void tar_file(Tar *t, const char *path, const char *content)
{
        tar_put(t, entry_new(path, AE_IFREG, 0644), content, strlen(content));
}

static void tar_dir(Tar *t, const char *path)
{
        tar_put(t, entry_new(path, AE_IFDIR, 0755), NULL, 0);
}

static void tar_symlink(Tar *t, const char *path, const char *target)
{
        struct archive_entry *e = entry_new(path, AE_IFLNK, 0777);
        archive_entry_set_symlink(e, target);
        tar_put(t, e, NULL, 0);
}

static void tar_hardlink(Tar *t, const char *path, const char *target)
{
        struct archive_entry *e = entry_new(path, AE_IFREG, 0644);
        archive_entry_set_hardlink(e, target);
        tar_put(t, e, NULL, 0);
}

/* Finishes the stream; the caller frees t->buf.data. */
static void tar_end(Tar *t)
{
        assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
        archive_write_free(t->a);
        t->a = NULL;
}

/* ---- a temp parent holding the root and a sentinel next to it ---- */

typedef struct Fixture {
        char parent[64];
        char root[96], sentinel[96];
        int root_fd;
} Fixture;

static int fixture_setup(void **state)
{
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        snprintf(f->parent, sizeof(f->parent), "/tmp/berth-unpack-test-XXXXXX");
        assert_non_null(mkdtemp(f->parent));
        snprintf(f->root, sizeof(f->root), "%s/root", f->parent);
        snprintf(f->sentinel, sizeof(f->sentinel), "%s/sentinel", f->parent);
        assert_int_equal(mkdir(f->root, 0755), 0);
        assert_int_equal(mkdir(f->sentinel, 0755), 0);
        int sfd = open(f->sentinel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(sfd >= 0);
        assert_int_equal(write_file_atomic_at(sfd, "keep", "keep", 4, 0644, 0), 0);
        close(sfd);
        f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->root_fd >= 0);
        *state = f;
        return 0;
}

static int fixture_teardown(void **state)
{
        Fixture *f = *state;

        close(f->root_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->parent), 0);
        free(f);
        return 0;
}

static int unpack_buf(Fixture *f, const Buf *b, const LayerUnpackOptions *o, LayerUnpackResult *res,
                      BerthError *err)
{
        LayerUnpackResult dummy;
        int fd = memfd_create("layer", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(loop_write(fd, b->data, b->len), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        int r = layer_unpack(fd, f->root_fd, o, res ? res : &dummy, err);
        close(fd);
        if (r < 0)
                print_message("# unpack: %s\n", err->msg);
        return r;
}

static int unpack_tar(Fixture *f, Tar *t, const LayerUnpackOptions *o, BerthError *err)
{
        tar_end(t);
        int r = unpack_buf(f, &t->buf, o, NULL, err);
        free(t->buf.data);
        return r;
}

static const LayerUnpackOptions privileged = {.privileged = true};

/* Owners and device nodes need root; `make test` runs the unit tests as root. */
static void require_root(void)
{
        if (geteuid() != 0) {
                print_message("# skip: needs root (chown, mknod)\n");
                skip();
        }
}

static bool exists_in_root(Fixture *f, const char *path)
{
        struct stat st;
        return fstatat(f->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The sentinel next to the root still holds exactly "keep" with its content, and the parent holds
 * only root and sentinel. */
static void assert_outside_untouched(Fixture *f)
{
        _cleanup_(closedirp) DIR *d = opendir(f->sentinel);
        char buf[16] = {};
        size_t n = 0;

        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        assert_string_equal(de->d_name, "keep");
                        n++;
                }
        assert_int_equal(n, 1);
        char keep[128];
        snprintf(keep, sizeof(keep), "%s/keep", f->sentinel);
        int fd = open(keep, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof(buf)), 4);
        close(fd);
        assert_string_equal(buf, "keep");

        _cleanup_(closedirp) DIR *p = opendir(f->parent);
        n = 0;
        assert_non_null(p);
        for (struct dirent *de; (de = readdir(p));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        assert_true(streq(de->d_name, "root") || streq(de->d_name, "sentinel"));
                        n++;
                }
        assert_int_equal(n, 2);
}

static void read_in_root(Fixture *f, const char *path, char *buf, size_t size)
{
        int fd = openat(f->root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, size - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        close(fd);
}

/* ---- entry types and metadata ---- */

static void test_types_and_metadata(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        Tar t;
        struct stat st;
        char buf[64];

        require_root();

        tar_begin(&t, FILTER_NONE);
        struct archive_entry *e = entry_new("d", AE_IFDIR, 0750);
        archive_entry_set_mtime(e, 1234567890, 0);
        tar_put(&t, e, NULL, 0);
        e = entry_new("d/f", AE_IFREG, 0640);
        archive_entry_set_mtime(e, 1111111111, 0);
        tar_put(&t, e, "hello", 5);
        e = entry_new("d/suid", AE_IFREG, 04755);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 2000);
        tar_put(&t, e, "x", 1);
        tar_symlink(&t, "d/abs", "/etc/passwd");
        tar_symlink(&t, "d/rel", "../../../outside");
        tar_hardlink(&t, "d/hl", "d/f");
        tar_put(&t, entry_new("fifo", AE_IFIFO, 0600), NULL, 0);
        e = entry_new("null", AE_IFCHR, 0666);
        archive_entry_set_rdev(e, makedev(1, 3));
        tar_put(&t, e, NULL, 0);
        assert_int_equal(unpack_tar(f, &t, &privileged, &err), 0);

        read_in_root(f, "d/f", buf, sizeof(buf));
        assert_string_equal(buf, "hello");
        assert_int_equal(fstatat(f->root_fd, "d/f", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_mtim.tv_sec, 1111111111);
        assert_int_equal(st.st_nlink, 2);
        struct stat hl;
        assert_int_equal(fstatat(f->root_fd, "d/hl", &hl, 0), 0);
        assert_int_equal(hl.st_ino, st.st_ino);

        assert_int_equal(fstatat(f->root_fd, "d/suid", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 04755); /* setuid survives the chown */
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_gid, 2000);

        /* Set last: creating d/f, d/abs... would have moved it otherwise. */
        assert_int_equal(fstatat(f->root_fd, "d", &st, 0), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0750);
        assert_int_equal(st.st_mtim.tv_sec, 1234567890);
        assert_int_equal(st.st_mtim.tv_nsec, 0);

        ssize_t n = readlinkat(f->root_fd, "d/abs", buf, sizeof(buf));
        assert_int_equal(n, strlen("/etc/passwd"));
        assert_memory_equal(buf, "/etc/passwd", (size_t)n);
        n = readlinkat(f->root_fd, "d/rel", buf, sizeof(buf));
        assert_int_equal(n, strlen("../../../outside"));

        assert_int_equal(fstatat(f->root_fd, "fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISFIFO(st.st_mode));
        assert_int_equal(fstatat(f->root_fd, "null", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(1, 3));
        assert_int_equal(st.st_mode & 07777, 0666);
        assert_outside_untouched(f);
}

static void test_unprivileged_skips_devices(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        LayerUnpackResult res;
        Tar t;

        tar_begin(&t, FILTER_NONE);
        struct archive_entry *e = entry_new("null", AE_IFCHR, 0666);
        archive_entry_set_rdev(e, makedev(1, 3));
        tar_put(&t, e, NULL, 0);
        tar_file(&t, "f", "x");
        tar_end(&t);
        assert_int_equal(unpack_buf(f, &t.buf, NULL, &res, &err), 0);
        free(t.buf.data);
        assert_int_equal(res.devices_skipped, 1);
        assert_int_equal(res.entries, 2);
        assert_false(exists_in_root(f, "null"));
        assert_true(exists_in_root(f, "f"));
}

static void test_xattr(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        char probe[128], value[16] = {};
        Tar t;

        snprintf(probe, sizeof(probe), "%s/probe", f->parent);
        int pfd = open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(pfd >= 0);
        int k = fsetxattr(pfd, "user.probe", "1", 1, 0);
        close(pfd);
        unlink(probe);
        if (k < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) {
                print_message("# skip: %s refuses user.* xattrs\n", f->parent);
                skip();
        }
        assert_int_equal(k, 0);

        tar_begin(&t, FILTER_NONE);
        struct archive_entry *e = entry_new("f", AE_IFREG, 0644);
        archive_entry_xattr_add_entry(e, "user.berth", "yes", 3);
        tar_put(&t, e, "x", 1);
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        char path[128];
        snprintf(path, sizeof(path), "%s/f", f->root);
        assert_int_equal(lgetxattr(path, "user.berth", value, sizeof(value)), 3);
        assert_string_equal(value, "yes");
}

static void test_replace_does_not_write_through(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        char buf[16];
        Tar t;

        /* A file that replaces a symlink replaces the symlink, not its target. */
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "target", "old");
        tar_symlink(&t, "lnk", "target");
        tar_file(&t, "lnk", "new");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        read_in_root(f, "target", buf, sizeof(buf));
        assert_string_equal(buf, "old");
        read_in_root(f, "lnk", buf, sizeof(buf));
        assert_string_equal(buf, "new");
}

static void test_uid_shift(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        struct stat st;
        Tar t;

        require_root();

        tar_begin(&t, FILTER_NONE);
        struct archive_entry *e = entry_new("f", AE_IFREG, 02750);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 50);
        tar_put(&t, e, "x", 1);
        e = entry_new("l", AE_IFLNK, 0777);
        archive_entry_set_symlink(e, "f");
        archive_entry_set_uid(e, 7);
        tar_put(&t, e, NULL, 0);
        LayerUnpackOptions o = {.privileged = true, .uid_shift = 100000, .gid_shift = 200000};
        assert_int_equal(unpack_tar(f, &t, &o, &err), 0);
        assert_int_equal(fstatat(f->root_fd, "f", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_uid, 101000);
        assert_int_equal(st.st_gid, 200050);
        assert_int_equal(st.st_mode & 07777, 02750);
        assert_int_equal(fstatat(f->root_fd, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_uid, 100007);

        /* An owner the shift pushes past 2^32 - 2 is refused. */
        tar_begin(&t, FILTER_NONE);
        e = entry_new("g", AE_IFREG, 0644);
        archive_entry_set_uid(e, 4294960000u);
        tar_put(&t, e, "x", 1);
        assert_int_equal(unpack_tar(f, &t, &o, &err), -EOVERFLOW);
}

static void test_pipe_input(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        LayerUnpackResult res;
        int p[2];
        Tar t;

        /* A pipe (the registry stream) instead of a file: no seeking, auto-detected gzip. */
        tar_begin(&t, FILTER_GZIP);
        tar_file(&t, "hello", "world");
        tar_end(&t);
        assert_true(t.buf.len < 4096);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(loop_write(p[1], t.buf.data, t.buf.len), 0);
        close(p[1]);
        assert_int_equal(layer_unpack(p[0], f->root_fd, NULL, &res, &err), 0);
        close(p[0]);
        assert_int_equal(res.compressed_bytes, t.buf.len);
        assert_true(exists_in_root(f, "hello"));
        free(t.buf.data);
}

/* ---- whiteouts ---- */

static bool tree_has_whiteout(int dfd)
{
        DIR *d = fdopendir(dfd);
        bool found = false;

        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d)) && !found;) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (strncmp(de->d_name, ".wh.", 4) == 0)
                        found = true;
                else if (de->d_type == DT_DIR) {
                        int c = openat(dirfd(d), de->d_name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        assert_true(c >= 0);
                        found = tree_has_whiteout(c);
                }
        }
        closedir(d);
        return found;
}

static void test_whiteouts(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        Tar t;

        tar_begin(&t, FILTER_NONE);
        tar_dir(&t, "a");
        tar_file(&t, "a/x", "x");
        tar_file(&t, "a/y", "y");
        tar_dir(&t, "d");
        tar_dir(&t, "d/sub");
        tar_file(&t, "d/sub/file", "f");
        tar_dir(&t, "o");
        tar_file(&t, "o/lower", "l");
        tar_dir(&t, "o/lowerdir");
        tar_file(&t, "o/lowerdir/z", "z");
        tar_dir(&t, "o/kept");
        tar_file(&t, "o/kept/lowerfile", "z");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);

        tar_begin(&t, FILTER_GZIP);
        tar_file(&t, "a/.wh.x", "");
        tar_file(&t, ".wh.d", "");
        tar_file(&t, "a/.wh.missing", "");
        tar_dir(&t, "o");
        tar_file(&t, "o/new", "n");        /* before the marker: stays */
        tar_file(&t, "o/kept/upper", "u"); /* o/kept is in this layer only through its child */
        tar_file(&t, "o/.wh..wh..opq", "");
        tar_file(&t, "o/after", "a"); /* after the marker: stays */
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);

        assert_false(exists_in_root(f, "a/x"));
        assert_true(exists_in_root(f, "a/y"));
        assert_false(exists_in_root(f, "d"));
        assert_false(exists_in_root(f, "o/lower"));
        assert_false(exists_in_root(f, "o/lowerdir"));
        assert_false(exists_in_root(f, "o/kept/lowerfile"));
        assert_true(exists_in_root(f, "o/kept/upper"));
        assert_true(exists_in_root(f, "o/new"));
        assert_true(exists_in_root(f, "o/after"));
        assert_false(tree_has_whiteout(openat(f->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
        assert_outside_untouched(f);
}

/* A per-layer dir for overlayfs keeps whiteouts in overlayfs's own form. */
static void test_whiteouts_overlay(void **state)
{
        static const LayerUnpackOptions overlay = {.privileged = true, .whiteouts = LAYER_WHITEOUTS_OVERLAY};
        Fixture *f = *state;
        BerthError err = {};
        char value[8] = {};
        struct stat st;
        Tar t;

        require_root();
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "a/.wh.x", "");
        tar_file(&t, "gone/.wh.y", ""); /* its directory is not in the layer: made for the whiteout */
        tar_dir(&t, "o");
        tar_file(&t, "o/new", "n");
        tar_file(&t, "o/.wh..wh..opq", "");
        tar_file(&t, "a/.wh..wh.plnk", ""); /* aufs metadata: nothing */
        tar_file(&t, ".wh.top", "");
        assert_int_equal(unpack_tar(f, &t, &overlay, &err), 0);

        assert_int_equal(fstatat(f->root_fd, "a/x", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
        assert_int_equal(fstatat(f->root_fd, "gone/y", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(fstatat(f->root_fd, "top", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
        assert_false(exists_in_root(f, "a/.wh.x"));
        assert_false(exists_in_root(f, "a/.wh.plnk"));
        assert_false(exists_in_root(f, "o/.wh..wh..opq"));
        assert_true(exists_in_root(f, "o/new"));
        int fd = openat(f->root_fd, "o", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fgetxattr(fd, "trusted.overlay.opaque", value, sizeof(value)), 1);
        assert_int_equal(value[0], 'y');
        close(fd);
        fd = openat(f->root_fd, "a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_true(fgetxattr(fd, "trusted.overlay.opaque", value, sizeof(value)) < 0);
        close(fd);

        /* A whiteout that climbs out is refused in this mode too. */
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "a/.wh...", "");
        assert_int_equal(unpack_tar(f, &t, &overlay, &err), -EXDEV);
        assert_outside_untouched(f);
}

/* ---- names ---- */

static void test_root_entries_and_dotdot(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        struct stat st;
        Tar t;

        tar_begin(&t, FILTER_NONE);
        tar_put(&t, entry_new("/", AE_IFDIR, 0711), NULL, 0);
        tar_put(&t, entry_new("./", AE_IFDIR, 0751), NULL, 0);
        tar_file(&t, "./a/../b", "b");
        tar_file(&t, "//c", "c");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        assert_int_equal(fstat(f->root_fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0751);
        assert_int_equal(st.st_mtim.tv_sec, 1000000000);
        assert_true(exists_in_root(f, "b"));
        assert_true(exists_in_root(f, "c"));
        assert_false(exists_in_root(f, "a/../b") && exists_in_root(f, "a"));

        /* A symlink or a file that names the root is refused; the root stays a directory. */
        tar_begin(&t, FILTER_NONE);
        tar_symlink(&t, ".", "/etc");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), -EINVAL);
        err = (BerthError){};
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "a/..", "x");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "a/.."));
        assert_int_equal(fstat(f->root_fd, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_outside_untouched(f);
}

/* ---- containerd's breakout cases (archive/tar_test.go, TestBreakouts) ---- */

static void test_breakout_dotdot(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        Tar t;

        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "../sentinel/evil", "evil");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), -EXDEV);
        assert_non_null(strstr(err.msg, "../sentinel/evil"));

        err = (BerthError){};
        tar_begin(&t, FILTER_NONE);
        tar_dir(&t, "x");
        tar_file(&t, "x/../../sentinel/evil", "evil");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), -EXDEV);
        assert_outside_untouched(f);
}

static void test_breakout_absolute(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        char abs[160];
        Tar t;

        snprintf(abs, sizeof(abs), "%s/evil", f->sentinel);
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, abs, "evil");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        assert_true(exists_in_root(f, abs + 1)); /* inside, under the same name */
        assert_outside_untouched(f);
}

static void test_breakout_symlink_then_file(void **state)
{
        const char *targets[] = {"../sentinel", "../../../../../../sentinel", NULL};
        Fixture *f = *state;
        char abs[160];
        Tar t;

        snprintf(abs, sizeof(abs), "%s", f->sentinel);
        targets[2] = abs;
        for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
                BerthError err = {};
                tar_begin(&t, FILTER_NONE);
                tar_symlink(&t, "lnk", targets[i]);
                tar_file(&t, "lnk/evil", "evil");
                int r = unpack_tar(f, &t, NULL, &err);
                /* The link resolves inside the root, where no "sentinel" exists. */
                assert_true(r < 0);
                assert_non_null(strstr(err.msg, "lnk/evil"));
                assert_outside_untouched(f);
        }
}

static void test_breakout_symlink_to_root(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        Tar t;

        tar_begin(&t, FILTER_NONE);
        tar_symlink(&t, "rootlnk", "/");
        tar_file(&t, "rootlnk/evil", "evil");
        tar_dir(&t, "rootlnk/sentinel");
        tar_file(&t, "rootlnk/sentinel/keep", "overwritten");
        tar_symlink(&t, "up", "..");
        tar_file(&t, "up/up-evil", "evil");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        assert_true(exists_in_root(f, "evil"));
        assert_true(exists_in_root(f, "sentinel/keep"));
        assert_true(exists_in_root(f, "up-evil"));
        assert_outside_untouched(f);
}

static void test_breakout_hardlink(void **state)
{
        Fixture *f = *state;
        char abs[160];
        Tar t;

        snprintf(abs, sizeof(abs), "%s/keep", f->sentinel);
        const char *targets[] = {"../sentinel/keep", abs, "lnk/keep", "abslnk"};
        const int expect[] = {-EXDEV, -ENOENT, -ENOENT, -EPERM};
        for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
                BerthError err = {};
                tar_begin(&t, FILTER_NONE);
                tar_symlink(&t, "lnk", "../sentinel");
                tar_symlink(&t, "abslnk", abs);
                tar_hardlink(&t, "hl", targets[i]);
                assert_int_equal(unpack_tar(f, &t, NULL, &err), expect[i]);
                assert_non_null(strstr(err.msg, "hl"));
                struct stat st;
                assert_int_equal(stat(abs, &st), 0);
                assert_int_equal(st.st_nlink, 1);
                assert_outside_untouched(f);
        }
}

static void test_breakout_symlink_swap(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        Tar t;

        /* A directory, then a symlink of the same name, then a file below it: no cached fd of
         * the old directory may be used, and the new link resolves inside the root. */
        tar_begin(&t, FILTER_NONE);
        tar_dir(&t, "d");
        tar_file(&t, "d/a", "a");
        tar_symlink(&t, "d", "../sentinel");
        tar_file(&t, "d/evil", "evil");
        assert_true(unpack_tar(f, &t, NULL, &err) < 0);
        assert_outside_untouched(f);

        err = (BerthError){};
        tar_begin(&t, FILTER_NONE);
        tar_dir(&t, "inner");
        tar_dir(&t, "e");
        tar_symlink(&t, "e", "/inner");
        tar_file(&t, "e/ok", "ok");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        assert_true(exists_in_root(f, "inner/ok"));
        assert_outside_untouched(f);
}

static void test_breakout_whiteout(void **state)
{
        Fixture *f = *state;
        char abs[160];
        Tar t;

        snprintf(abs, sizeof(abs), "%s", f->sentinel);
        const char *links[] = {"../sentinel", abs, "/"};
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                BerthError err = {};
                tar_begin(&t, FILTER_NONE);
                tar_symlink(&t, "lnk", links[i]);
                tar_file(&t, "lnk/.wh.keep", "");
                tar_file(&t, "lnk/.wh..wh..opq", "");
                assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
                assert_outside_untouched(f);
        }

        const char *bad[] = {".wh...", "a/.wh...", ".wh..", "../.wh.sentinel"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                BerthError err = {};
                tar_begin(&t, FILTER_NONE);
                tar_dir(&t, "a");
                tar_file(&t, bad[i], "");
                assert_true(unpack_tar(f, &t, NULL, &err) < 0);
                assert_non_null(strstr(err.msg, bad[i]));
                assert_outside_untouched(f);
        }
        assert_true(exists_in_root(f, "a"));
}

/* ---- limits, corruption, digests ---- */

static void test_gzip_bomb(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        static uint8_t zeros[1 << 20];
        Tar t;

        tar_begin(&t, FILTER_GZIP);
        struct archive_entry *e = entry_new("bomb", AE_IFREG, 0644);
        archive_entry_set_size(e, 64 << 20);
        assert_int_equal(archive_write_header(t.a, e), ARCHIVE_OK);
        archive_entry_free(e);
        for (int i = 0; i < 64; i++)
                assert_int_equal(archive_write_data(t.a, zeros, sizeof(zeros)), sizeof(zeros));
        tar_end(&t);
        assert_true(t.buf.len < (1 << 20));
        LayerUnpackOptions o = {.max_uncompressed_bytes = 4 << 20};
        assert_int_equal(unpack_buf(f, &t.buf, &o, NULL, &err), -EFBIG);
        assert_non_null(strstr(err.msg, "limit of 4194304 uncompressed bytes"));
        free(t.buf.data);

        err = (BerthError){};
        tar_begin(&t, FILTER_NONE);
        for (int i = 0; i < 10; i++) {
                char name[16];
                snprintf(name, sizeof(name), "f%d", i);
                tar_file(&t, name, "x");
        }
        o = (LayerUnpackOptions){.max_entries = 5};
        tar_end(&t);
        assert_int_equal(unpack_buf(f, &t.buf, &o, NULL, &err), -E2BIG);
        free(t.buf.data);
}

static void test_truncated(void **state)
{
        Fixture *f = *state;
        uint8_t data[200000];
        Filter filters[] = {FILTER_NONE, FILTER_GZIP, FILTER_ZSTD};

        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t)(i * 7919u >> 3);
        for (size_t i = 0; i < ELEMENTSOF(filters); i++) {
                BerthError err = {};
                Tar t;
                tar_begin(&t, filters[i]);
                tar_put(&t, entry_new("big", AE_IFREG, 0644), data, sizeof(data));
                tar_end(&t);
                t.buf.len /= 2;
                int r = unpack_buf(f, &t.buf, NULL, NULL, &err);
                assert_true(r < 0);
                assert_true(err.msg[0] != '\0');
                free(t.buf.data);
        }
}

static void sha256(const Buf *b, Digest *ret)
{
        SHA256(b->data, b->len, ret->bytes);
}

/*
 * A tar whose last member is a regular file may end right after that file's data, without its
 * padding to 512 bytes and without the end-of-archive blocks (umoci 0.4's insert writes such
 * layers): Go's archive/tar reads it as complete, and so does berth. A cut inside the data, on a
 * block boundary or not, or inside a header, is still refused.
 */
static void test_missing_padding_and_end_blocks(void **state)
{
        Fixture *f = *state;
        enum { SIZE = 1000, PAD = 512 - SIZE % 512 };
        static uint8_t data[SIZE];
        Tar t;

        for (size_t i = 0; i < SIZE; i++)
                data[i] = (uint8_t)(i * 31u + 7u);
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "first", "one\n");
        tar_put(&t, entry_new("last", AE_IFREG, 0640), data, SIZE);
        tar_end(&t);
        /* first: header + 1 block; last: header + data + padding; then two zero blocks. */
        size_t data_end = t.buf.len - 1024 - PAD;
        assert_int_equal(data_end, 3 * 512 + SIZE);

        struct {
                size_t len;
                int expect;
        } cases[] = {
                {data_end, 0},                    /* no padding, no end blocks */
                {data_end + PAD / 2, 0},          /* part of the padding */
                {data_end + PAD, 0},              /* padding, no end blocks */
                {data_end + PAD + 512, 0},        /* one of the two end blocks */
                {data_end - 1, -EBADMSG},         /* one byte of data missing */
                {3 * 512 + 512, -EBADMSG},        /* cut inside the data on a block boundary */
                {2 * 512 + 100, -EBADMSG},        /* cut inside the last member's header */
                {data_end + PAD + 100, -EBADMSG}, /* a partial end block, as Go refuses it too */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                BerthError err = {};
                LayerUnpackResult res = {};
                Buf cut = {.data = t.buf.data, .len = cases[i].len};
                Digest want;

                print_message("# cut at %zu\n", cases[i].len);
                assert_int_equal(rm_rf_at(AT_FDCWD, f->root), 0);
                assert_int_equal(mkdir(f->root, 0755), 0);
                close(f->root_fd);
                f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(f->root_fd >= 0);
                int r = unpack_buf(f, &cut, NULL, &res, &err);
                assert_int_equal(r, cases[i].expect);
                if (r < 0)
                        continue;
                uint8_t got[SIZE + 1];
                int fd = openat(f->root_fd, "last", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(read(fd, got, sizeof(got)), SIZE);
                close(fd);
                assert_memory_equal(got, data, SIZE);
                /* The digests are of the bytes as given: nothing is made up. */
                sha256(&cut, &want);
                assert_true(digest_equal(&res.diff_id, &want));
                assert_int_equal(res.uncompressed_bytes, cases[i].len);
                assert_int_equal(res.entries, 2);
        }
        free(t.buf.data);
}

/* In a per-layer (overlay) dir, a parent the layer has no entry for is made as the top-most lower
 * layer that has it made it, so overlayfs does not show a lower /tmp (1777) as 0755. */
static void test_overlay_parent_from_lower(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        char lower[128], upper[128], buf[16];
        struct timespec ts[2] = {{1200000000, 0}, {1200000000, 0}};
        struct stat st;
        Tar t;

        require_root();
        /* Two lowers, top first: the upper one has scratch/ 1777 with xattrs; the bottom one a
         * different scratch/ that must not be used, and private/ 0700 owned by 1234:5678. */
        snprintf(upper, sizeof(upper), "%s/lower-top", f->parent);
        snprintf(lower, sizeof(lower), "%s/lower-bottom", f->parent);
        assert_int_equal(mkdir(upper, 0755), 0);
        assert_int_equal(mkdir(lower, 0755), 0);
        int top = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
            bottom = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(top >= 0 && bottom >= 0);
        assert_int_equal(mkdirat(top, "scratch", 0700), 0);
        assert_int_equal(fchmodat(top, "scratch", 01777, 0), 0);
        int sfd = openat(top, "scratch", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fsetxattr(sfd, "user.kept", "v", 1, 0), 0);
        assert_int_equal(fsetxattr(sfd, "trusted.overlay.opaque", "y", 1, 0), 0);
        assert_int_equal(futimens(sfd, ts), 0);
        close(sfd);
        assert_int_equal(mkdirat(bottom, "scratch", 0711), 0);
        assert_int_equal(mkdirat(bottom, "private", 0700), 0);
        assert_int_equal(fchownat(bottom, "private", 1234, 5678, 0), 0);
        int lowers[] = {top, bottom};
        LayerUnpackOptions o = {
                .privileged = true,
                .whiteouts = LAYER_WHITEOUTS_OVERLAY,
                .lower_fds = lowers,
                .n_lower_fds = 2,
        };

        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "scratch/x", "x");
        tar_file(&t, "private/deeper/y", "y"); /* private/deeper: in no lower, 0755 */
        tar_file(&t, "fresh/z", "z");
        assert_int_equal(unpack_tar(f, &t, &o, &err), 0);
        close(top);
        close(bottom);

        assert_int_equal(fstatat(f->root_fd, "scratch", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 01777);
        assert_int_equal(st.st_mtim.tv_sec, 1200000000);
        int rfd = openat(f->root_fd, "scratch", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fgetxattr(rfd, "user.kept", buf, sizeof(buf)), 1);
        assert_true(fgetxattr(rfd, "trusted.overlay.opaque", buf, sizeof(buf)) < 0); /* never copied */
        close(rfd);
        assert_int_equal(fstatat(f->root_fd, "private", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 5678);
        assert_int_equal(fstatat(f->root_fd, "private/deeper", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(fstatat(f->root_fd, "fresh", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
}

/* The same without the lowers at hand (a pull unpacks its layers at once): the parents made for
 * names are listed, unmarked at the end, and layer_implicit_dirs_fix() gives them what the lowers
 * gave them. A directory an entry describes (before or after a child) is not listed. */
static void test_overlay_parent_listed_then_fixed(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        char lower[128], buf[16];
        struct timespec ts[2] = {{1200000000, 0}, {1200000000, 0}};
        LayerUnpackResult res = {};
        struct stat st;
        Tar t;

        require_root();
        LayerUnpackOptions o = {
                .privileged = true,
                .whiteouts = LAYER_WHITEOUTS_OVERLAY,
                .list_implicit_dirs = true,
        };
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "tmp/x", "x");
        tar_file(&t, "a/b/c", "c");
        tar_dir(&t, "a"); /* described after its child: the entry wins, not listed */
        tar_file(&t, "hidden/y", "y");
        tar_file(&t, "gone/z", "z");
        tar_put(&t, entry_new("gone", AE_IFREG, 0600), "g", 1); /* replaced by a file */
        struct archive_entry *x = entry_new("tricky", AE_IFDIR, 0755);
        archive_entry_xattr_add_entry(x, LAYER_IMPLICIT_XATTR, "1", 1); /* never taken from a tar */
        tar_put(&t, x, NULL, 0);
        tar_end(&t);
        assert_int_equal(unpack_buf(f, &t.buf, &o, &res, &err), 0);
        free(t.buf.data);

        assert_non_null(res.implicit_dirs);
        assert_string_equal(res.implicit_dirs[0], "tmp");
        assert_string_equal(res.implicit_dirs[1], "a/b");
        assert_string_equal(res.implicit_dirs[2], "hidden");
        assert_null(res.implicit_dirs[3]);
        const char *all[] = {"tmp", "a", "a/b", "hidden", "tricky"};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                int dfd = openat(f->root_fd, all[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(dfd >= 0);
                assert_true(fgetxattr(dfd, LAYER_IMPLICIT_XATTR, buf, sizeof(buf)) < 0); /* no mark left */
                close(dfd);
        }

        /* The lowers, top first: the top one hides hidden/ (an opaque parent would too: a/). */
        snprintf(lower, sizeof(lower), "%s/lower", f->parent);
        assert_int_equal(mkdir(lower, 0755), 0);
        int lfd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(lfd >= 0);
        assert_int_equal(mkdirat(lfd, "tmp", 0700), 0);
        assert_int_equal(fchmodat(lfd, "tmp", 01777, 0), 0);
        assert_int_equal(fchownat(lfd, "tmp", 1234, 5678, 0), 0);
        int tfd = openat(lfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fsetxattr(tfd, "user.kept", "v", 1, 0), 0);
        assert_int_equal(futimens(tfd, ts), 0);
        close(tfd);
        assert_int_equal(mkdirat(lfd, "a", 0755), 0);
        assert_int_equal(mkdirat(lfd, "a/b", 0700), 0);
        assert_int_equal(mknodat(lfd, "hidden", S_IFCHR | 0, makedev(0, 0)), 0);
        int lowers[] = {lfd};
        assert_int_equal(layer_implicit_dirs_fix(f->root_fd, res.implicit_dirs, lowers, 1, true, &err), 0);
        layer_unpack_result_done(&res);
        assert_null(res.implicit_dirs);

        assert_int_equal(fstatat(f->root_fd, "tmp", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 01777);
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 5678);
        assert_int_equal(st.st_mtim.tv_sec, 1200000000);
        int rfd = openat(f->root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fgetxattr(rfd, "user.kept", buf, sizeof(buf)), 1);
        close(rfd);
        assert_int_equal(fstatat(f->root_fd, "a/b", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(fstatat(f->root_fd, "hidden", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0755);

        /* An opaque directory in the top lower hides what the lowers below have under it. */
        assert_int_equal(fchmodat(f->root_fd, "a/b", 0755, 0), 0);
        int afd = openat(lfd, "a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(unlinkat(afd, "b", AT_REMOVEDIR), 0);
        assert_int_equal(fsetxattr(afd, "trusted.overlay.opaque", "y", 1, 0), 0);
        close(afd);
        char bottom[160];
        snprintf(bottom, sizeof(bottom), "%s/bottom", f->parent);
        assert_int_equal(mkdir(bottom, 0755), 0);
        int bfd = open(bottom, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(mkdirat(bfd, "a", 0755), 0);
        assert_int_equal(mkdirat(bfd, "a/b", 0711), 0);
        int two[] = {lfd, bfd};
        char *ab[] = {(char *)"a/b", NULL};
        assert_int_equal(layer_implicit_dirs_fix(f->root_fd, ab, two, 2, true, &err), 0);
        assert_int_equal(fstatat(f->root_fd, "a/b", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        close(bfd);
        close(lfd);
}

/* A directory a later layer changes without an entry for it keeps the lower layer's times. */
static void test_lower_dir_times_kept(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        struct stat st;
        Tar t;

        tar_begin(&t, FILTER_NONE);
        tar_dir(&t, "d");
        tar_file(&t, "d/gone", "x");
        tar_dir(&t, "e");
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        tar_begin(&t, FILTER_NONE);
        tar_file(&t, "d/new", "y");
        tar_file(&t, "d/.wh.gone", "");
        tar_file(&t, "e/deeper/file", "z"); /* e/deeper: made by this layer, no entry */
        assert_int_equal(unpack_tar(f, &t, NULL, &err), 0);
        assert_int_equal(fstatat(f->root_fd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mtim.tv_sec, 1000000000);
        assert_int_equal(fstatat(f->root_fd, "e", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mtim.tv_sec, 1000000000);
        assert_false(exists_in_root(f, "d/gone"));
        assert_true(exists_in_root(f, "d/new"));
}

static void build_sample(Tar *t, Filter filter)
{
        static uint8_t data[300000];

        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t)(i * 2654435761u >> 13);
        tar_begin(t, filter);
        tar_dir(t, "etc");
        tar_file(t, "etc/hostname", "berth\n");
        tar_put(t, entry_new("etc/data", AE_IFREG, 0600), data, sizeof(data));
        tar_symlink(t, "etc/link", "hostname");
        tar_end(t);
}

static void test_digests(void **state)
{
        Fixture *f = *state;
        Filter filters[] = {FILTER_NONE, FILTER_GZIP, FILTER_ZSTD};
        Tar plain;
        Digest plain_sha;

        build_sample(&plain, FILTER_NONE);
        sha256(&plain.buf, &plain_sha);
        for (size_t i = 0; i < ELEMENTSOF(filters); i++) {
                BerthError err = {};
                LayerUnpackResult res;
                Digest blob_sha;
                Tar t;
                build_sample(&t, filters[i]);
                sha256(&t.buf, &blob_sha);
                assert_int_equal(unpack_buf(f, &t.buf, NULL, &res, &err), 0);
                assert_true(digest_equal(&res.blob_digest, &blob_sha));
                assert_true(digest_equal(&res.diff_id, &plain_sha));
                assert_int_equal(res.compressed_bytes, t.buf.len);
                assert_int_equal(res.uncompressed_bytes, plain.buf.len);
                assert_int_equal(res.entries, 4);

                /* The caller hashes the blob (a pull): none here, the diff_id all the same. */
                LayerUnpackOptions skip = {.skip_blob_digest = true};
                res = (LayerUnpackResult){};
                assert_int_equal(unpack_buf(f, &t.buf, &skip, &res, &err), 0);
                assert_true(digest_equal(&res.blob_digest, &(Digest){}));
                assert_true(digest_equal(&res.diff_id, &plain_sha));
                assert_int_equal(res.compressed_bytes, t.buf.len);
                free(t.buf.data);
        }
        free(plain.buf.data);

        /* A compressed layer read with its media type's compression gives the same. */
        BerthError err = {};
        LayerUnpackResult res;
        Tar t;
        build_sample(&t, FILTER_ZSTD);
        LayerUnpackOptions o = {
                .compression =
                        layer_compression_from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
        };
        assert_int_equal(o.compression, LAYER_COMPRESSION_ZSTD);
        assert_int_equal(unpack_buf(f, &t.buf, &o, &res, &err), 0);
        assert_true(digest_equal(&res.diff_id, &plain_sha));
        free(t.buf.data);
}

static void test_media_types(void **state)
{
        assert_int_equal(layer_compression_from_media_type("application/vnd.oci.image.layer.v1.tar"),
                         LAYER_COMPRESSION_NONE);
        assert_int_equal(layer_compression_from_media_type("application/vnd.oci.image.layer.v1.tar+gzip"),
                         LAYER_COMPRESSION_GZIP);
        assert_int_equal(
                layer_compression_from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
                LAYER_COMPRESSION_GZIP);
        assert_int_equal(layer_compression_from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
                         LAYER_COMPRESSION_ZSTD);
        assert_int_equal(layer_compression_from_media_type("application/json"), _LAYER_COMPRESSION_INVALID);
        assert_int_equal(layer_compression_from_media_type(NULL), _LAYER_COMPRESSION_INVALID);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_types_and_metadata),
                T(test_unprivileged_skips_devices),
                T(test_xattr),
                T(test_replace_does_not_write_through),
                T(test_uid_shift),
                T(test_pipe_input),
                T(test_whiteouts),
                T(test_whiteouts_overlay),
                T(test_root_entries_and_dotdot),
                T(test_breakout_dotdot),
                T(test_breakout_absolute),
                T(test_breakout_symlink_then_file),
                T(test_breakout_symlink_to_root),
                T(test_breakout_hardlink),
                T(test_breakout_symlink_swap),
                T(test_breakout_whiteout),
                T(test_gzip_bomb),
                T(test_truncated),
                T(test_digests),
                T(test_missing_padding_and_end_blocks),
                T(test_lower_dir_times_kept),
                T(test_overlay_parent_from_lower),
                T(test_overlay_parent_listed_then_fixed),
                cmocka_unit_test(test_media_types),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
