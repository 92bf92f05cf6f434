/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <zlib.h>
#include <zstd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "unpack.h"

/*
 * Why we decompress ourselves: the diff_id is the SHA-256 of the *uncompressed* tar, and the
 * layer must be read once. libarchive's read callback only sees the compressed bytes and its
 * filters hand the decompressed stream to the tar reader without exposing it. So the read path
 * below reads fd_in (hashing those bytes: the blob digest), inflates gzip with zlib or zstd with
 * libzstd (hashing and counting the output: the diff_id and the size limit, which thus stops a
 * gzip bomb at exactly the limit), and gives libarchive a plain tar with no filter enabled.
 */

#define IN_BUF_SIZE  (256u * 1024u)
#define OUT_BUF_SIZE (1024u * 1024u)

typedef struct Source {
        int fd;
        LayerCompression compression;
        uint8_t *in, *out;
        size_t in_len, in_pos;
        bool in_eof;
        z_stream z;
        bool z_ready, z_member_done, z_padding;
        ZSTD_DStream *zs;
        size_t zs_pending;   /* ZSTD_decompressStream's last hint: 0 at the end of a frame */
        Hasher *blob, *diff; /* blob NULL: the caller hashes the compressed bytes */
        uint64_t compressed, uncompressed, max_uncompressed;
        int error;
        char errmsg[256];
} Source;

static int source_fail(Source *s, int code, const char *msg)
{
        s->error = code;
        snprintf(s->errmsg, sizeof(s->errmsg), "%s", msg);
        return code;
}

static void source_done(Source *s)
{
        if (s->z_ready)
                inflateEnd(&s->z);
        ZSTD_freeDStream(s->zs);
        free(s->in);
        free(s->out);
        hasher_free(s->blob);
        hasher_free(s->diff);
}

/* Make sure unread input is buffered; returns 0, or at end of input 0 with in_eof set. */
static int source_refill(Source *s)
{
        ssize_t n;

        if (s->in_pos < s->in_len || s->in_eof)
                return 0;
        do
                n = read(s->fd, s->in, IN_BUF_SIZE);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return source_fail(s, negative_errno(), "read layer");
        s->in_pos = 0;
        s->in_len = (size_t)n;
        if (n == 0)
                s->in_eof = true;
        if (s->blob)
                hasher_update(s->blob, s->in, (size_t)n);
        s->compressed += (uint64_t)n;
        return 0;
}

static int source_init(Source *s, int fd, LayerCompression c, uint64_t max, bool hash_blob)
{
        *s = (Source){.fd = fd, .compression = c, .max_uncompressed = max};
        s->in = malloc(IN_BUF_SIZE);
        s->out = malloc(OUT_BUF_SIZE);
        s->blob = hash_blob ? hasher_new() : NULL;
        s->diff = hasher_new();
        if (!s->in || !s->out || (hash_blob && !s->blob) || !s->diff)
                return -ENOMEM;
        if (c == LAYER_COMPRESSION_AUTO) {
                /* A short first read (a pipe) must not hide the magic: gather 4 bytes. */
                while (!s->in_eof && s->in_len < 4) {
                        ssize_t n = read(fd, s->in + s->in_len, IN_BUF_SIZE - s->in_len);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return source_fail(s, negative_errno(), "read layer");
                        if (n == 0)
                                s->in_eof = s->in_len == 0;
                        if (s->blob)
                                hasher_update(s->blob, s->in + s->in_len, (size_t)n);
                        s->in_len += (size_t)n;
                        s->compressed += (uint64_t)n;
                        if (n == 0)
                                break;
                }
                static const uint8_t gz[] = {0x1f, 0x8b}, zst[] = {0x28, 0xb5, 0x2f, 0xfd};
                if (s->in_len >= 2 && memcmp(s->in, gz, 2) == 0)
                        c = LAYER_COMPRESSION_GZIP;
                else if (s->in_len >= 4 && memcmp(s->in, zst, 4) == 0)
                        c = LAYER_COMPRESSION_ZSTD;
                else
                        c = LAYER_COMPRESSION_NONE;
                s->compression = c;
        }
        if (c == LAYER_COMPRESSION_GZIP) {
                if (inflateInit2(&s->z, 15 + 16) != Z_OK) /* gzip wrapper only */
                        return -ENOMEM;
                s->z_ready = true;
        } else if (c == LAYER_COMPRESSION_ZSTD) {
                s->zs = ZSTD_createDStream();
                if (!s->zs)
                        return -ENOMEM;
                ZSTD_initDStream(s->zs);
        }
        return 0;
}

static ssize_t source_inflate(Source *s)
{
        for (;;) {
                int r = source_refill(s);
                if (r < 0)
                        return r;
                if (s->in_pos == s->in_len) {
                        if (!s->z_member_done)
                                return source_fail(s, -EBADMSG, "truncated gzip stream");
                        return 0;
                }
                if (s->z_member_done) {
                        /* Zero padding after the last member (tar writers that pad the compressed
                         * stream to a block size) is ignored, as gzip(1) does; anything else must be
                         * another member (pigz, concatenated streams). */
                        while (s->in_pos < s->in_len && s->in[s->in_pos] == 0) {
                                s->in_pos++;
                                s->z_padding = true;
                        }
                        if (s->in_pos == s->in_len)
                                continue;
                        if (s->z_padding)
                                return source_fail(s, -EBADMSG, "garbage after the gzip stream");
                        inflateReset(&s->z);
                        s->z_member_done = false;
                }
                s->z.next_in = s->in + s->in_pos;
                s->z.avail_in = (uInt)(s->in_len - s->in_pos);
                s->z.next_out = s->out;
                s->z.avail_out = OUT_BUF_SIZE;
                int zr = inflate(&s->z, Z_NO_FLUSH);
                s->in_pos = s->in_len - s->z.avail_in;
                if (zr == Z_STREAM_END)
                        s->z_member_done = true;
                else if (zr != Z_OK && zr != Z_BUF_ERROR)
                        return source_fail(s, -EBADMSG, "corrupt gzip stream");
                size_t produced = OUT_BUF_SIZE - s->z.avail_out;
                if (produced > 0)
                        return (ssize_t)produced;
        }
}

static ssize_t source_unzstd(Source *s)
{
        for (;;) {
                int r = source_refill(s);
                if (r < 0)
                        return r;
                if (s->in_pos == s->in_len) {
                        if (s->zs_pending != 0)
                                return source_fail(s, -EBADMSG, "truncated zstd stream");
                        return 0;
                }
                ZSTD_inBuffer ib = {s->in, s->in_len, s->in_pos};
                ZSTD_outBuffer ob = {s->out, OUT_BUF_SIZE, 0};
                size_t zr = ZSTD_decompressStream(s->zs, &ob, &ib);
                if (ZSTD_isError(zr))
                        return source_fail(s, -EBADMSG, "corrupt zstd stream");
                s->in_pos = ib.pos;
                s->zs_pending = zr;
                if (ob.pos > 0)
                        return (ssize_t)ob.pos;
        }
}

/* The next piece of the uncompressed tar in *ret, its length, 0 at the end, or -errno. */
static ssize_t source_read(Source *s, const void **ret)
{
        ssize_t n;

        if (s->error)
                return s->error;
        switch (s->compression) {
        case LAYER_COMPRESSION_GZIP:
                n = source_inflate(s);
                *ret = s->out;
                break;
        case LAYER_COMPRESSION_ZSTD:
                n = source_unzstd(s);
                *ret = s->out;
                break;
        default: {
                int r = source_refill(s);
                if (r < 0)
                        return r;
                n = (ssize_t)(s->in_len - s->in_pos);
                *ret = s->in + s->in_pos;
                s->in_pos = s->in_len;
                break;
        }
        }
        if (n <= 0)
                return n;
        s->uncompressed += (uint64_t)n;
        if (s->max_uncompressed > 0 && s->uncompressed > s->max_uncompressed) {
                char msg[128];
                snprintf(msg, sizeof(msg), "layer exceeds the limit of %" PRIu64 " uncompressed bytes",
                         s->max_uncompressed);
                return source_fail(s, -EFBIG, msg);
        }
        /* Uncompressed, the blob's hash is the diff_id: one pass, unless the caller hashes it. */
        if (s->compression != LAYER_COMPRESSION_NONE || !s->blob)
                hasher_update(s->diff, *ret, (size_t)n);
        return n;
}

static la_ssize_t archive_read_cb(struct archive *a, void *userdata, const void **ret)
{
        Source *s = userdata;
        ssize_t n = source_read(s, ret);

        if (n < 0) {
                archive_set_error(a, (int)-n, "%s", s->errmsg);
                return -1;
        }
        return n;
}

/* Paths this layer created (and their parents), for opaque whiteouts. Open addressing. */
typedef struct PathSet {
        char **slots;
        size_t cap, n;
} PathSet;

static uint64_t path_hash(const char *p, size_t len)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
        return h;
}

static char **pathset_slot(const PathSet *s, const char *p, size_t len)
{
        for (size_t i = path_hash(p, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
                if (!s->slots[i] || (strlen(s->slots[i]) == len && memcmp(s->slots[i], p, len) == 0))
                        return &s->slots[i];
}

static bool pathset_contains(const PathSet *s, const char *p)
{
        return s->cap > 0 && *pathset_slot(s, p, strlen(p));
}

static int pathset_grow(PathSet *s)
{
        PathSet bigger = {.cap = s->cap ? s->cap * 2 : 1024, .n = s->n};
        bigger.slots = calloc(bigger.cap, sizeof(char *));
        if (!bigger.slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
                if (s->slots[i])
                        *pathset_slot(&bigger, s->slots[i], strlen(s->slots[i])) = s->slots[i];
        free(s->slots);
        *s = bigger;
        return 0;
}

/* Adds @p and each parent of it; stops at the first already there (its parents are too). */
static int pathset_add_with_parents(PathSet *s, const char *p)
{
        for (size_t len = strlen(p); len > 0;) {
                if ((s->n + 1) * 2 > s->cap) {
                        int r = pathset_grow(s);
                        if (r < 0)
                                return r;
                }
                char **slot = pathset_slot(s, p, len);
                if (*slot)
                        return 0;
                *slot = strndup(p, len);
                if (!*slot)
                        return -ENOMEM;
                s->n++;
                while (len > 0 && p[len - 1] != '/')
                        len--;
                if (len > 0)
                        len--;
        }
        return 0;
}

/* Adds @p alone: 1 when added, 0 when already there. */
static int pathset_add(PathSet *s, const char *p)
{
        if ((s->n + 1) * 2 > s->cap) {
                int r = pathset_grow(s);
                if (r < 0)
                        return r;
        }
        char **slot = pathset_slot(s, p, strlen(p));
        if (*slot)
                return 0;
        *slot = strdup(p);
        if (!*slot)
                return -ENOMEM;
        s->n++;
        return 1;
}

static void pathset_done(PathSet *s)
{
        for (size_t i = 0; i < s->cap; i++)
                free(s->slots[i]);
        free(s->slots);
}

typedef struct DirTime {
        char *path;
        size_t depth;
        struct timespec ts[2];
} DirTime;

typedef struct Unpacker {
        int root_fd;
        LayerUnpackOptions o;
        struct archive *a;
        Source *src;
        PathSet created;
        PathSet dated;      /* directories in dir_times */
        bool mark_implicit; /* LayerUnpackOptions.list_implicit_dirs applies */
        char **implicit;    /* the directories marked, parents first (a path may repeat) */
        DirTime *dir_times;
        size_t n_dir_times, cap_dir_times;
        uint64_t devices_skipped;
        bool ended_after_data; /* the stream ended after the last file's data, in its padding */
        BerthError *err;
} Unpacker;

/*
 * Lexical normalisation of a tar name: "/" and "./" prefixes, "." and empty components go, ".."
 * removes the previous component; a ".." with nothing left to remove would leave the root and is
 * -EXDEV. "" is the root itself.
 */
static int path_normalize(const char *raw, char **ret)
{
        size_t len = 0;
        char *out = malloc(strlen(raw) + 1);

        if (!out)
                return -ENOMEM;
        for (const char *p = raw; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *end = strchrnul(p, '/');
                size_t k = (size_t)(end - p);
                if (k == 1 && p[0] == '.') {
                } else if (k == 2 && p[0] == '.' && p[1] == '.') {
                        if (len == 0) {
                                free(out);
                                return -EXDEV;
                        }
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                } else {
                        if (len > 0)
                                out[len++] = '/';
                        memcpy(out + len, p, k);
                        len += k;
                }
                p = end;
        }
        out[len] = '\0';
        *ret = out;
        return 0;
}

/* Splits a normalised non-empty path in place: "a/b/c" -> "a/b" and "c"; "c" -> "." and "c". */
static const char *path_split(char *path, const char **ret_base)
{
        char *slash = strrchr(path, '/');
        if (!slash) {
                *ret_base = path;
                return ".";
        }
        *slash = '\0';
        *ret_base = slash + 1;
        return path;
}

static int dir_times_push(Unpacker *u, const char *key, const struct timespec ts[2]);
static int pathset_add(PathSet *s, const char *p);

/* Whether a directory above @path in the lower layer @lower_fd is opaque: overlayfs shows nothing
 * of the layers below there. */
static int lower_parent_opaque(int lower_fd, const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        char v;

        if (!p)
                return -ENOMEM;
        for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
                *slash = '\0';
                _cleanup_close_ int fd = chase_in_root(lower_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                if (fd >= 0 && fgetxattr(fd, "trusted.overlay.opaque", &v, 1) == 1 && v == 'y')
                        return 1;
        }
        return 0;
}

/* The directory @path of the top-most of @lower_fds that has it: 1 with its fd in *@ret_fd, 0 when
 * none has it or one hides it (a whiteout, a file, a symlink, an opaque parent). */
static int lower_dir_find(const int *lower_fds, size_t n_lower_fds, const char *path, int *ret_fd)
{
        for (size_t i = 0; i < n_lower_fds; i++) {
                int fd = chase_in_root(lower_fds[i], path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW), r;

                if (fd >= 0) {
                        *ret_fd = fd;
                        return 1;
                }
                if (fd != -ENOENT)
                        return 0;
                r = lower_parent_opaque(lower_fds[i], path);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return 0;
}

/* Owner (privileged; as it is: the lower was unpacked with the same shift), mode and xattrs
 * (trusted.overlay.* aside) of the directory @lfd onto the directory @dfd. */
static int dir_attrs_copy(int lfd, int dfd, bool privileged, struct stat *ret_st)
{
        _cleanup_free_ char *names = NULL;
        struct stat st;
        ssize_t len;

        if (fstat(lfd, &st) < 0)
                return negative_errno();
        if (privileged && fchown(dfd, st.st_uid, st.st_gid) < 0)
                return negative_errno();
        if (fchmod(dfd, st.st_mode & 07777) < 0)
                return negative_errno();
        len = flistxattr(lfd, NULL, 0);
        if (len > 0) {
                names = malloc((size_t)len);
                if (!names)
                        return -ENOMEM;
                len = flistxattr(lfd, names, (size_t)len);
        }
        for (const char *n = names; len > 0 && n < names + len; n += strlen(n) + 1) {
                _cleanup_free_ char *value = NULL;
                ssize_t k;

                if (strncmp(n, "trusted.overlay.", 16) == 0 ||
                    (strncmp(n, "trusted.", 8) == 0 && !privileged))
                        continue;
                k = fgetxattr(lfd, n, NULL, 0);
                if (k < 0)
                        continue;
                value = malloc((size_t)k + 1);
                if (!value)
                        return -ENOMEM;
                k = fgetxattr(lfd, n, value, (size_t)k);
                if (k >= 0 && fsetxattr(dfd, n, value, (size_t)k, 0) < 0)
                        return negative_errno();
        }
        *ret_st = st;
        return 0;
}

/* The missing directory @path, just made, gets what the top-most lower layer that has it gave it,
 * its times once the layer is written. */
static int dir_copy_from_lower(Unpacker *u, const char *path)
{
        _cleanup_close_ int lfd = -EBADF, dfd = -EBADF;
        struct stat st;
        int r;

        r = lower_dir_find(u->o.lower_fds, u->o.n_lower_fds, path, &lfd);
        if (r <= 0)
                return r;
        dfd = chase_in_root(u->root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (dfd < 0)
                return dfd;
        r = dir_attrs_copy(lfd, dfd, u->o.privileged, &st);
        if (r < 0)
                return r;
        r = pathset_add(&u->dated, path);
        if (r > 0)
                r = dir_times_push(u, path, (const struct timespec[2]){st.st_atim, st.st_mtim});
        return r < 0 ? r : 0;
}

/* The missing directory @path, just made, is marked and listed for layer_implicit_dirs_fix(). */
static int dir_mark_implicit(Unpacker *u, const char *path)
{
        _cleanup_close_ int dfd = chase_in_root(u->root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

        if (dfd < 0)
                return dfd;
        if (fsetxattr(dfd, LAYER_IMPLICIT_XATTR, "1", 1, 0) < 0)
                return negative_errno();
        return strv_extend(&u->implicit, path);
}

/* The parent directory, resolved in the root now (never cached), created when missing. */
static int open_parent(Unpacker *u, const char *dir, bool create)
{
        int fd = chase_in_root(u->root_fd, dir, O_PATH | O_DIRECTORY);
        if (fd == -ENOENT && create) {
                _cleanup_(strv_freep) char **missing = NULL; /* deepest first */
                _cleanup_free_ char *p = NULL;
                int r;

                if ((u->o.n_lower_fds > 0 || u->mark_implicit) && !(p = strdup(dir)))
                        return -ENOMEM;
                while (p) {
                        _cleanup_close_ int e = chase_in_root(u->root_fd, p, O_PATH | O_DIRECTORY);
                        char *slash = strrchr(p, '/');

                        if (e != -ENOENT)
                                break;
                        r = strv_extend(&missing, p);
                        if (r < 0)
                                return r;
                        if (!slash)
                                break;
                        *slash = '\0';
                }
                _cleanup_close_ int made = chase_in_root_create(u->root_fd, dir, CHASE_CREATE_DIR);
                if (made < 0)
                        return made;
                for (size_t n = strv_length(missing); n > 0; n--) {
                        r = u->mark_implicit ? dir_mark_implicit(u, missing[n - 1])
                                             : dir_copy_from_lower(u, missing[n - 1]);
                        if (r < 0)
                                return r;
                }
                fd = chase_in_root(u->root_fd, dir, O_PATH | O_DIRECTORY);
        }
        return fd;
}

static int entry_owner(const Unpacker *u, struct archive_entry *e, uid_t *ret_uid, gid_t *ret_gid)
{
        int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
        uint64_t su, sg;

        if (uid < 0 || gid < 0 || __builtin_add_overflow((uint64_t)uid, (uint64_t)u->o.uid_shift, &su) ||
            __builtin_add_overflow((uint64_t)gid, (uint64_t)u->o.gid_shift, &sg) || su >= UINT32_MAX ||
            sg >= UINT32_MAX)
                return -EOVERFLOW;
        *ret_uid = (uid_t)su;
        *ret_gid = (gid_t)sg;
        return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
        ts[1] = archive_entry_mtime_is_set(e)
                        ? (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)}
                        : (struct timespec){0, UTIME_OMIT};
        ts[0] = archive_entry_atime_is_set(e)
                        ? (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)}
                        : ts[1];
}

/* Owner, then mode (chown clears setuid/setgid), then xattrs, on an fd of the new inode. */
static int apply_meta_fd(Unpacker *u, struct archive_entry *e, int fd, const char *raw)
{
        const char *name;
        const void *value;
        size_t size;

        if (u->o.privileged) {
                uid_t uid;
                gid_t gid;
                int r = entry_owner(u, e, &uid, &gid);
                if (r < 0)
                        return error_setx(u->err, r, "entry \"%s\": owner out of range", raw);
                if (fchown(fd, uid, gid) < 0)
                        return error_set(u->err, negative_errno(), "entry \"%s\": chown", raw);
        }
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": chmod", raw);
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (strncmp(name, "trusted.", 8) == 0 && !u->o.privileged)
                        continue;
                if (strncmp(name, "trusted.berth.", 14) == 0) /* ours (LAYER_IMPLICIT_XATTR) */
                        continue;
                if (fsetxattr(fd, name, value, size, 0) < 0)
                        return error_set(u->err, negative_errno(), "entry \"%s\": set xattr %s", raw, name);
        }
        return 0;
}

/* @key is a normalised path, "." for the root. */
static int dir_times_push(Unpacker *u, const char *key, const struct timespec ts[2])
{
        if (u->n_dir_times == u->cap_dir_times) {
                size_t cap = u->cap_dir_times ? u->cap_dir_times * 2 : 256;
                DirTime *n = reallocarray(u->dir_times, cap, sizeof(DirTime));
                if (!n)
                        return -ENOMEM;
                u->dir_times = n;
                u->cap_dir_times = cap;
        }
        DirTime *d = &u->dir_times[u->n_dir_times];
        d->path = strdup(key);
        if (!d->path)
                return -ENOMEM;
        d->depth = 0;
        for (const char *p = key; *p; p++)
                d->depth += *p == '/';
        d->ts[0] = ts[0];
        d->ts[1] = ts[1];
        u->n_dir_times++;
        return 0;
}

/* The directory entry @e at @path gets its times once the layer is written. */
static int defer_dir_times(Unpacker *u, struct archive_entry *e, const char *path)
{
        const char *key = *path ? path : ".";
        struct timespec ts[2];
        int r;

        entry_times(e, ts);
        r = pathset_add(&u->dated, key);
        if (r < 0)
                return r;
        if (r > 0)
                return dir_times_push(u, key, ts);
        /* Remembered before (a child came first) or named twice: the entry's times win. Rare, so a
         * linear search. */
        for (size_t i = 0; i < u->n_dir_times; i++)
                if (streq(u->dir_times[i].path, key)) {
                        u->dir_times[i].ts[0] = ts[0];
                        u->dir_times[i].ts[1] = ts[1];
                }
        return 0;
}

/*
 * A directory that this layer changes (an entry created or replaced in it, a whiteout or an opaque
 * marker applied to it) but has no entry for keeps the times it had, as umoci and GNU tar leave
 * them: remember them before the change and restore them with the entries' directory times. When
 * @dirpath does not exist yet, the entry's parents are about to be made in its nearest existing
 * ancestor, which is the one that changes. Errors resolving the path are the caller's to report.
 */
static int remember_dir_times(Unpacker *u, const char *dirpath)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *key = *dirpath && !streq(dirpath, ".") ? dirpath : ".";
        struct stat st;
        int r;

        if (pathset_contains(&u->dated, key))
                return 0;
        fd = chase_in_root(u->root_fd, key, O_PATH | O_DIRECTORY);
        if (fd == -ENOENT && !streq(key, ".")) {
                parent = strdup(key);
                if (!parent)
                        return -ENOMEM;
                char *slash = strrchr(parent, '/');
                if (slash)
                        *slash = '\0';
                else
                        parent[0] = '\0';
                return remember_dir_times(u, parent);
        }
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0;
        r = pathset_add(&u->dated, key);
        if (r <= 0)
                return r;
        return dir_times_push(u, key, (const struct timespec[2]){st.st_atim, st.st_mtim});
}

static int write_data(Unpacker *u, int fd, struct archive_entry *e, const char *raw)
{
        uint64_t end = 0;

        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;
                int r = archive_read_data_block(u->a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                /* Every byte of the file arrived and the stream ended where its padding to a
                 * 512-byte block (and the end-of-archive blocks) should follow: the end of the
                 * archive, as Go's archive/tar reads it (umoci 0.4 writes such layers; podman,
                 * containerd and skopeo read them). Data cut short is still refused. */
                if (r < ARCHIVE_WARN && !u->src->error && u->src->in_eof && archive_entry_size_is_set(e) &&
                    end == (uint64_t)archive_entry_size(e)) {
                        u->ended_after_data = true;
                        break;
                }
                if (r < ARCHIVE_WARN) {
                        int code = u->src->error ? u->src->error : -EBADMSG;
                        return error_setx(u->err, code, "entry \"%s\": %s", raw, archive_error_string(u->a));
                }
                for (size_t done = 0; done < size;) {
                        ssize_t k =
                                pwrite(fd, (const uint8_t *)buf + done, size - done, offset + (off_t)done);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return error_set(u->err, negative_errno(), "entry \"%s\": write", raw);
                        done += (size_t)k;
                }
                end = MAX(end, (uint64_t)offset + size);
        }
        /* A sparse file's hole at the end has no data block. */
        if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > end &&
            ftruncate(fd, archive_entry_size(e)) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": truncate", raw);
        return 0;
}

/* Lower-layer content of an opaque directory goes; what this layer put there stays. */
static int opaque_prune(Unpacker *u, int dfd, const char *dirpath, const char *raw)
{
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ char **names = NULL;
        size_t n = 0, cap = 0;
        int r;

        r = remember_dir_times(u, dirpath);
        if (r < 0)
                return error_set(u->err, r, "entry \"%s\"", raw);

        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": open directory", raw);
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return error_set(u->err, -ENOMEM, "entry \"%s\": read directory", raw);
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        char **nn = reallocarray(names, cap, sizeof(char *));
                        if (!nn) {
                                r = -ENOMEM;
                                break;
                        }
                        names = nn;
                }
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *child = NULL;
                if (r >= 0 && asprintf(&child, "%s%s%s", dirpath, *dirpath ? "/" : "", names[i]) < 0) {
                        child = NULL;
                        r = -ENOMEM;
                }
                if (r >= 0) {
                        struct stat st;
                        if (!pathset_contains(&u->created, child))
                                r = rm_rf_at(dirfd(d), names[i]);
                        else if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                                 S_ISDIR(st.st_mode)) {
                                _cleanup_close_ int cfd = openat(
                                        dirfd(d), names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                r = cfd < 0 ? negative_errno() : opaque_prune(u, cfd, child, raw);
                        }
                }
                free(names[i]);
        }
        return r < 0 ? error_set(u->err, r, "entry \"%s\": opaque whiteout", raw) : 0;
}

/* overlayfs's own form: a 0/0 char device hides a lower name, an xattr makes a directory opaque. */
static int unpack_whiteout_overlay(Unpacker *u, const char *dir, const char *name, const char *raw)
{
        _cleanup_close_ int pfd = -EBADF;
        int r;

        r = remember_dir_times(u, dir);
        if (r < 0)
                return error_set(u->err, r, "entry \"%s\"", raw);
        pfd = open_parent(u, dir, true);
        if (pfd < 0)
                return error_set(u->err, pfd, "entry \"%s\": open parent directory", raw);
        if (streq(name, ".wh..opq")) {
                _cleanup_close_ int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return error_set(u->err, negative_errno(), "entry \"%s\": mark directory opaque",
                                         raw);
                return 0;
        }
        r = rm_rf_at(pfd, name);
        if (r < 0 && r != -ENOENT)
                return error_set(u->err, r, "entry \"%s\": remove \"%s\"", raw, name);
        if (mknodat(pfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": create whiteout of \"%s\"", raw,
                                 name);
        return 0;
}

static int unpack_whiteout(Unpacker *u, const char *dir, const char *dirpath, const char *base,
                           const char *raw)
{
        _cleanup_close_ int pfd = -EBADF;
        const char *name = base + strlen(".wh.");
        int r;

        if (streq(name, ".wh..opq") && u->o.whiteouts == LAYER_WHITEOUTS_OVERLAY)
                return unpack_whiteout_overlay(u, dir, name, raw);
        if (streq(name, ".wh..opq")) {
                pfd = chase_in_root(u->root_fd, dir, O_PATH | O_DIRECTORY);
                if (pfd == -ENOENT)
                        return 0;
                if (pfd < 0)
                        return error_set(u->err, pfd, "entry \"%s\": open directory", raw);
                return opaque_prune(u, pfd, dirpath, raw);
        }
        if (!path_is_safe_relative_component(name))
                return error_setx(u->err, -EXDEV, "entry \"%s\": whiteout of \"%s\" refused", raw, name);
        if (strncmp(name, ".wh.", 4) == 0) /* other aufs metadata (.wh..wh.plnk): nothing to apply */
                return 0;
        if (u->o.whiteouts == LAYER_WHITEOUTS_OVERLAY)
                return unpack_whiteout_overlay(u, dir, name, raw);
        pfd = chase_in_root(u->root_fd, dir, O_PATH | O_DIRECTORY);
        if (pfd == -ENOENT)
                return 0;
        if (pfd < 0)
                return error_set(u->err, pfd, "entry \"%s\": open directory", raw);
        r = remember_dir_times(u, dir);
        if (r < 0)
                return error_set(u->err, r, "entry \"%s\"", raw);
        r = rm_rf_at(pfd, name);
        if (r < 0)
                return error_set(u->err, r, "entry \"%s\": remove \"%s\"", raw, name);
        return 0;
}

static int unpack_hardlink(Unpacker *u, int pfd, const char *base, const char *target, const char *raw)
{
        _cleanup_free_ char *t = NULL;
        _cleanup_close_ int tfd = -EBADF;
        const char *tbase;
        struct stat st;
        int r;

        r = path_normalize(target, &t);
        if (r < 0 || !*t)
                return error_setx(u->err, -EXDEV, "entry \"%s\": hardlink target \"%s\" is outside the root",
                                  raw, target);
        const char *tdir = path_split(t, &tbase);
        tfd = chase_in_root(u->root_fd, tdir, O_PATH | O_DIRECTORY);
        if (tfd < 0)
                return error_set(u->err, tfd, "entry \"%s\": hardlink target \"%s\"", raw, target);
        if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": hardlink target \"%s\"", raw,
                                 target);
        if (!S_ISREG(st.st_mode))
                return error_setx(u->err, -EPERM,
                                  "entry \"%s\": hardlink target \"%s\" is not a regular file", raw, target);
        /* No AT_SYMLINK_FOLLOW: the link is to the inode found above, never through a symlink. */
        if (linkat(tfd, tbase, pfd, base, 0) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": link", raw);
        return 0;
}

/* Owner of the node @base in @pfd, when privileged, never through a symlink. */
static int chown_at(Unpacker *u, struct archive_entry *e, int pfd, const char *base, const char *raw)
{
        uid_t uid;
        gid_t gid;
        int r;

        if (!u->o.privileged)
                return 0;
        r = entry_owner(u, e, &uid, &gid);
        if (r < 0)
                return error_setx(u->err, r, "entry \"%s\": owner out of range", raw);
        if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": chown", raw);
        return 0;
}

/* Times of the node @base in @pfd, never through a symlink. */
static int set_times_at(Unpacker *u, struct archive_entry *e, int pfd, const char *base, const char *raw)
{
        struct timespec ts[2];

        entry_times(e, ts);
        if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": set times", raw);
        return 0;
}

static int unpack_special(Unpacker *u, struct archive_entry *e, int pfd, const char *base, const char *raw)
{
        mode_t type = archive_entry_filetype(e);
        int r;

        if (mknodat(pfd, base, type | 0600, archive_entry_rdev(e)) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": mknod", raw);
        /* The node was just made by us in a directory fd we hold: no symlink can be at @base. */
        r = chown_at(u, e, pfd, base, raw);
        if (r < 0)
                return r;
        if (fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": chmod", raw);
        return set_times_at(u, e, pfd, base, raw);
}

static int unpack_symlink(Unpacker *u, struct archive_entry *e, int pfd, const char *base, const char *raw)
{
        const char *target = archive_entry_symlink(e);
        int r;

        if (!target)
                return error_setx(u->err, -EBADMSG, "entry \"%s\": symlink without a target", raw);
        if (symlinkat(target, pfd, base) < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": symlink", raw);
        r = chown_at(u, e, pfd, base, raw);
        if (r < 0)
                return r;
        return set_times_at(u, e, pfd, base, raw);
}

static int unpack_root(Unpacker *u, struct archive_entry *e, const char *raw)
{
        if (archive_entry_filetype(e) != AE_IFDIR || archive_entry_hardlink(e))
                return error_setx(u->err, -EINVAL, "entry \"%s\": names the root but is not a directory",
                                  raw);
        _cleanup_close_ int fd = openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(u->err, negative_errno(), "entry \"%s\": open root", raw);
        int r = apply_meta_fd(u, e, fd, raw);
        if (r < 0)
                return r;
        r = defer_dir_times(u, e, "");
        return r < 0 ? error_set(u->err, r, "entry \"%s\"", raw) : 0;
}

static int unpack_entry(Unpacker *u, struct archive_entry *e)
{
        _cleanup_free_ char *path = NULL, *dirpath = NULL;
        _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
        const char *raw = archive_entry_pathname(e), *base, *hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        struct stat st;
        int r;

        if (!raw)
                return error_setx(u->err, -EBADMSG, "entry without a name");
        if (path_normalize(raw, &path) < 0)
                return error_setx(u->err, -EXDEV, "entry \"%s\": name climbs out of the root", raw);
        if (!*path)
                return unpack_root(u, e, raw);
        dirpath = strdup(path);
        if (!dirpath)
                return -ENOMEM;
        const char *dir = path_split(dirpath, &base);
        const char *dirpath_or_root = streq(dir, ".") ? "" : dirpath;

        if (strncmp(base, ".wh.", 4) == 0)
                return unpack_whiteout(u, dir, dirpath_or_root, base, raw);

        if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK) && !u->o.privileged) {
                u->devices_skipped++;
                return 0;
        }
        r = remember_dir_times(u, dir);
        if (r < 0)
                return error_set(u->err, r, "entry \"%s\"", raw);
        pfd = open_parent(u, dir, true);
        if (pfd < 0)
                return error_set(u->err, pfd, "entry \"%s\": open parent directory", raw);

        bool keep_dir = false;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                keep_dir = !hardlink && type == AE_IFDIR && S_ISDIR(st.st_mode);
                /* Replace, never write through: the old inode may be a symlink or a hardlink. */
                if (!keep_dir && (r = rm_rf_at(pfd, base)) < 0)
                        return error_set(u->err, r, "entry \"%s\": remove what it replaces", raw);
        } else if (errno != ENOENT)
                return error_set(u->err, negative_errno(), "entry \"%s\": stat", raw);

        if (hardlink)
                r = unpack_hardlink(u, pfd, base, hardlink, raw);
        else
                switch (type) {
                case AE_IFREG: {
                        struct timespec ts[2];
                        fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                        if (fd < 0)
                                return error_set(u->err, negative_errno(), "entry \"%s\": create", raw);
                        r = write_data(u, fd, e, raw);
                        if (r >= 0)
                                r = apply_meta_fd(u, e, fd, raw);
                        entry_times(e, ts);
                        if (r >= 0 && futimens(fd, ts) < 0)
                                r = error_set(u->err, negative_errno(), "entry \"%s\": set times", raw);
                        break;
                }
                case AE_IFDIR:
                        if (!keep_dir && mkdirat(pfd, base, 0700) < 0)
                                return error_set(u->err, negative_errno(), "entry \"%s\": mkdir", raw);
                        fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return error_set(u->err, negative_errno(), "entry \"%s\": open", raw);
                        r = apply_meta_fd(u, e, fd, raw);
                        if (r >= 0 && keep_dir && u->mark_implicit &&
                            fremovexattr(fd, LAYER_IMPLICIT_XATTR) < 0 && errno != ENODATA)
                                r = error_set(u->err, negative_errno(), "entry \"%s\": remove xattr", raw);
                        if (r >= 0 && (r = defer_dir_times(u, e, path)) < 0)
                                error_set(u->err, r, "entry \"%s\"", raw);
                        break;
                case AE_IFLNK:
                        r = unpack_symlink(u, e, pfd, base, raw);
                        break;
                case AE_IFIFO:
                case AE_IFCHR:
                case AE_IFBLK:
                        r = unpack_special(u, e, pfd, base, raw);
                        break;
                default:
                        return error_setx(u->err, -EBADMSG, "entry \"%s\": unsupported file type 0%o", raw,
                                          (unsigned)type);
                }
        if (r < 0)
                return r;
        r = pathset_add_with_parents(&u->created, path);
        return r < 0 ? error_set(u->err, r, "entry \"%s\"", raw) : 0;
}

static int compare_depth_desc(const void *a, const void *b)
{
        const DirTime *x = a, *y = b;
        return (x->depth < y->depth) - (x->depth > y->depth);
}

/* Directories' times last, deepest first: writing their children changed them. */
static int apply_dir_times(Unpacker *u)
{
        if (u->n_dir_times == 0)
                return 0;
        qsort(u->dir_times, u->n_dir_times, sizeof(DirTime), compare_depth_desc);
        for (size_t i = 0; i < u->n_dir_times; i++) {
                DirTime *d = &u->dir_times[i];
                _cleanup_close_ int fd =
                        chase_in_root(u->root_fd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                /* Removed or replaced by a later entry: nothing to date. */
                if (fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR)
                        continue;
                if (fd < 0 || futimens(fd, d->ts) < 0)
                        return error_set(u->err, fd < 0 ? fd : negative_errno(),
                                         "directory \"%s\": set times", d->path);
        }
        return 0;
}

LayerCompression layer_compression_from_media_type(const char *media_type)
{
        static const struct {
                const char *suffix;
                LayerCompression c;
        } table[] = {
                {"tar+gzip", LAYER_COMPRESSION_GZIP},
                {"tar.gzip", LAYER_COMPRESSION_GZIP},
                {"tar+zstd", LAYER_COMPRESSION_ZSTD},
                {"tar", LAYER_COMPRESSION_NONE},
        };
        size_t n = media_type ? strlen(media_type) : 0;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                size_t k = strlen(table[i].suffix);
                if (n > k && media_type[n - k - 1] == '.' && streq(media_type + n - k, table[i].suffix))
                        return table[i].c;
        }
        return _LAYER_COMPRESSION_INVALID;
}

static int unpack_all(Unpacker *u)
{
        uint64_t entries = 0;
        int r;

        for (;;) {
                struct archive_entry *e;
                r = archive_read_next_header(u->a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        int code = u->src->error ? u->src->error : -EBADMSG;
                        return error_setx(u->err, code, "layer: %s", archive_error_string(u->a));
                }
                if (u->o.max_entries > 0 && ++entries > u->o.max_entries)
                        return error_setx(u->err, -E2BIG, "layer has more than %" PRIu64 " entries",
                                          u->o.max_entries);
                r = unpack_entry(u, e);
                if (r < 0)
                        return r;
                if (u->ended_after_data)
                        break;
        }
        return apply_dir_times(u);
}

/* The marked directories still marked (made for a parent, never described by an entry), in
 * *@ret, parents first; every mark removed. */
static int implicit_dirs_collect(Unpacker *u, char ***ret)
{
        _cleanup_(strv_freep) char **out = NULL;
        char v;
        int r;

        STRV_FOREACH (p, u->implicit) {
                _cleanup_close_ int fd = chase_in_root(u->root_fd, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

                /* Replaced or removed by a later entry: not ours to fix. */
                if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
                        continue;
                if (fd < 0)
                        return error_set(u->err, fd, "directory \"%s\"", *p);
                if (fgetxattr(fd, LAYER_IMPLICIT_XATTR, &v, 1) < 0) {
                        if (errno == ENODATA)
                                continue; /* an entry described it, or listed twice */
                        return error_set(u->err, negative_errno(), "directory \"%s\": get xattr", *p);
                }
                if (fremovexattr(fd, LAYER_IMPLICIT_XATTR) < 0)
                        return error_set(u->err, negative_errno(), "directory \"%s\": remove xattr", *p);
                r = strv_extend(&out, *p);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

void layer_unpack_result_done(LayerUnpackResult *r)
{
        if (!r)
                return;
        r->implicit_dirs = strv_free(r->implicit_dirs);
}

int layer_implicit_dirs_fix(int root_dirfd, char *const *paths, const int *lower_fds, size_t n_lower_fds,
                            bool privileged, BerthError *err)
{
        for (char *const *p = paths; p && *p; p++) {
                _cleanup_close_ int dfd = -EBADF, lfd = -EBADF;
                struct stat st;
                int r;

                dfd = chase_in_root(root_dirfd, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                if (dfd == -ENOENT || dfd == -ENOTDIR || dfd == -ELOOP)
                        continue;
                if (dfd < 0)
                        return error_set(err, dfd, "directory \"%s\"", *p);
                r = lower_dir_find(lower_fds, n_lower_fds, *p, &lfd);
                if (r < 0)
                        return error_set(err, r, "directory \"%s\"", *p);
                if (r == 0)
                        continue;
                r = dir_attrs_copy(lfd, dfd, privileged, &st);
                if (r >= 0 && futimens(dfd, (const struct timespec[2]){st.st_atim, st.st_mtim}) < 0)
                        r = negative_errno();
                if (r < 0)
                        return error_set(err, r, "directory \"%s\": copy from the layer below", *p);
        }
        return 0;
}

int layer_unpack(int fd_in, int root_dirfd, const LayerUnpackOptions *o, LayerUnpackResult *ret,
                 BerthError *err)
{
        Source src;
        Unpacker u = {.root_fd = root_dirfd, .o = o ? *o : (LayerUnpackOptions){}, .src = &src, .err = err};
        _cleanup_(strv_freep) char **implicit = NULL;
        uint64_t entries = 0;
        int r;

        u.mark_implicit = u.o.list_implicit_dirs && u.o.privileged &&
                          u.o.whiteouts == LAYER_WHITEOUTS_OVERLAY && u.o.n_lower_fds == 0;

        assert(fd_in >= 0 && root_dirfd >= 0);
        r = source_init(&src, fd_in, u.o.compression, u.o.max_uncompressed_bytes, !u.o.skip_blob_digest);
        if (r < 0) {
                error_set(err, r, "layer: %s", src.error ? src.errmsg : "set up decompression");
                goto out;
        }
        u.a = archive_read_new();
        if (!u.a) {
                r = error_set(err, -ENOMEM, "layer");
                goto out;
        }
        archive_read_support_format_tar(u.a);
        if (archive_read_open(u.a, &src, NULL, archive_read_cb, NULL) != ARCHIVE_OK) {
                r = error_setx(err, src.error ? src.error : -EBADMSG, "layer: %s",
                               archive_error_string(u.a));
                goto out;
        }
        r = unpack_all(&u);
        if (r >= 0 && u.mark_implicit)
                r = implicit_dirs_collect(&u, &implicit);
        if (r < 0)
                goto out;
        entries = (uint64_t)archive_file_count(u.a);
        /* The digests cover the whole stream: drain what follows the tar's end blocks. */
        for (;;) {
                const void *buf;
                ssize_t n = source_read(&src, &buf);
                if (n == 0)
                        break;
                if (n < 0) {
                        r = error_setx(err, (int)n, "layer: %s", src.errmsg);
                        goto out;
                }
        }
        *ret = (LayerUnpackResult){
                .compressed_bytes = src.compressed,
                .uncompressed_bytes = src.uncompressed,
                .entries = entries,
                .devices_skipped = u.devices_skipped,
                .implicit_dirs = TAKE_PTR(implicit),
        };
        if (src.blob)
                hasher_final(src.blob, &ret->blob_digest);
        if (src.compression == LAYER_COMPRESSION_NONE && src.blob)
                ret->diff_id = ret->blob_digest;
        else
                hasher_final(src.diff, &ret->diff_id);
        r = 0;
out:
        if (u.a)
                archive_read_free(u.a);
        for (size_t i = 0; i < u.n_dir_times; i++)
                free(u.dir_times[i].path);
        free(u.dir_times);
        pathset_done(&u.created);
        pathset_done(&u.dated);
        strv_free(u.implicit);
        source_done(&src);
        return r;
}
