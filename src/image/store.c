/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "store.h"

#define NAMES_FILE      "names.json"
#define NAMES_LOCK_FILE "names.lock"
#define NAMES_MAX_BYTES (64u * 1024 * 1024)

struct Store {
        char *root;
        int root_fd;
        int blobs_fd; /* blobs/sha256 */
        int tmp_fd;
        StoreOpenFlags flags;
};

struct StoreBlobWriter {
        Store *store;
        int fd;
        char *tmp_name; /* NULL for an O_TMPFILE file, which has no name to clean up */
        Hasher *hasher;
        int64_t expected_size;
        uint64_t written;
        int error; /* the first failure; the writer is dead after it */
        bool committed;
        bool hashed; /* the hash is finished: digest holds it (store_blob_writer_digest()) */
        Digest digest;
};

static void json_object_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_put_ _cleanup_(json_object_putp)

Store *store_free(Store *s)
{
        if (!s)
                return NULL;
        safe_close(s->root_fd);
        safe_close(s->blobs_fd);
        safe_close(s->tmp_fd);
        free(s->root);
        return mfree(s);
}

static int store_open_subdir(Store *s, const char *name, int *ret_fd, BerthError *err)
{
        int fd;

        if (mkdirat(s->root_fd, name, 0700) < 0 && errno != EEXIST)
                return error_set(err, negative_errno(), "create \"%s/%s\"", s->root, name);
        if (!ret_fd)
                return 0;
        fd = openat(s->root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, negative_errno(), "open \"%s/%s\"", s->root, name);
        *ret_fd = fd;
        return 0;
}

int store_open_flags(const char *root, StoreOpenFlags flags, Store **ret, BerthError *err)
{
        _cleanup_(store_freep) Store *s = NULL;
        int r;

        assert(root && ret);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->root_fd = s->blobs_fd = s->tmp_fd = -EBADF;
        s->flags = flags;
        s->root = strdup(root);
        if (!s->root)
                return -ENOMEM;

        r = mkdir_p(root, 0700);
        if (r < 0)
                return error_set(err, r, "create store \"%s\"", root);
        s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
                return error_set(err, negative_errno(), "open store \"%s\"", root);
        r = store_open_subdir(s, "blobs", NULL, err);
        if (r >= 0)
                r = store_open_subdir(s, "blobs/sha256", &s->blobs_fd, err);
        if (r >= 0)
                r = store_open_subdir(s, "tmp", &s->tmp_fd, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int store_open(const char *root, Store **ret, BerthError *err)
{
        return store_open_flags(root, 0, ret, err);
}

/* ---- blobs ---- */

/* A unique name in tmp/, for filesystems without O_TMPFILE. */
static int blob_temp_create(Store *s, char **ret_name, int *ret_fd)
{
        for (int attempt = 0; attempt < 16; attempt++) {
                _cleanup_free_ char *name = NULL;
                uint64_t rnd;
                int fd;

                if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                        return negative_errno();
                if (asprintf(&name, "blob-%d-%016" PRIx64, (int)getpid(), rnd) < 0)
                        return -ENOMEM;
                fd = openat(s->tmp_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0)
                        return negative_errno();
                *ret_name = TAKE_PTR(name);
                *ret_fd = fd;
                return 0;
        }
        return -EEXIST;
}

int store_blob_writer_begin(Store *s, int64_t expected_size, StoreBlobWriter **ret, BerthError *err)
{
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;

        assert(s && ret);
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->store = s;
        w->expected_size = expected_size;
        w->hasher = hasher_new();
        if (!w->hasher)
                return -ENOMEM;

        if (s->flags & STORE_NO_TMPFILE) {
                w->fd = -EBADF;
                errno = EOPNOTSUPP;
        } else
                w->fd = openat(s->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (w->fd < 0) {
                int r;

                /* EISDIR: a kernel before 3.11; EOPNOTSUPP: a filesystem without O_TMPFILE. */
                if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                        return error_set(err, negative_errno(), "create temporary blob in \"%s/tmp\"",
                                         s->root);
                r = blob_temp_create(s, &w->tmp_name, &w->fd);
                if (r < 0)
                        return error_set(err, r, "create temporary blob in \"%s/tmp\"", s->root);
        }
        *ret = TAKE_PTR(w);
        return 0;
}

/* Close and remove the temporary file; the writer is finished afterwards. */
static void blob_writer_discard(StoreBlobWriter *w)
{
        if (w->tmp_name) {
                (void)unlinkat(w->store->tmp_fd, w->tmp_name, 0);
                w->tmp_name = mfree(w->tmp_name);
        }
        w->fd = safe_close(w->fd);
}

StoreBlobWriter *store_blob_writer_free(StoreBlobWriter *w)
{
        if (!w)
                return NULL;
        blob_writer_discard(w);
        hasher_free(w->hasher);
        return mfree(w);
}

static int blob_writer_fail(StoreBlobWriter *w, int code)
{
        w->error = code;
        blob_writer_discard(w);
        return code;
}

int store_blob_writer_write(StoreBlobWriter *w, const void *data, size_t n, BerthError *err)
{
        uint64_t total;
        int r;

        assert(w && (data || n == 0));
        if (w->error < 0)
                return error_setx(err, w->error, "blob writer: write after an earlier failure");
        assert(!w->committed && !w->hashed);
        if (__builtin_add_overflow(w->written, (uint64_t)n, &total) ||
            (w->expected_size >= 0 && total > (uint64_t)w->expected_size))
                return error_setx(err, blob_writer_fail(w, -EFBIG),
                                  "blob: more than the announced %" PRId64 " bytes", w->expected_size);
        r = loop_write(w->fd, data, n);
        if (r < 0)
                return error_set(err, blob_writer_fail(w, r), "write temporary blob in \"%s/tmp\"",
                                 w->store->root);
        hasher_update(w->hasher, data, n);
        w->written = total;
        return 0;
}

uint64_t store_blob_writer_size(const StoreBlobWriter *w)
{
        return w->written;
}

int store_blob_writer_digest(StoreBlobWriter *w, Digest *ret)
{
        assert(w && !w->committed);
        if (w->error < 0)
                return -EBADMSG;
        if (!w->hashed) {
                hasher_final(w->hasher, &w->digest);
                w->hashed = true;
        }
        *ret = w->digest;
        return 0;
}

/* Give the verified temporary file its name in blobs/; 1 when the blob was already there. */
static int blob_writer_link(StoreBlobWriter *w, const char *hex)
{
        Store *s = w->store;
        char proc[64];
        int r;

        if (w->tmp_name)
                r = linkat(s->tmp_fd, w->tmp_name, s->blobs_fd, hex, 0);
        else {
                /* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc path does not. */
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
                r = linkat(AT_FDCWD, proc, s->blobs_fd, hex, AT_SYMLINK_FOLLOW);
                if (r < 0 && errno == ENOENT)
                        r = linkat(w->fd, "", s->blobs_fd, hex, AT_EMPTY_PATH);
        }
        if (r < 0)
                return errno == EEXIST ? 1 : negative_errno();
        if (fsync(s->blobs_fd) < 0) {
                r = negative_errno();
                (void)unlinkat(s->blobs_fd, hex, 0);
                return r;
        }
        return 0;
}

int store_blob_writer_commit(StoreBlobWriter *w, const Digest *expected, BerthError *err)
{
        char want[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1], hex[DIGEST_HEX_LEN + 1];
        Digest actual;
        int r;

        assert(w && expected);
        digest_format(expected, want);
        if (w->error < 0)
                return error_setx(err, w->error, "blob %s: commit after an earlier failure", want);
        assert(!w->committed);

        if (w->expected_size >= 0 && w->written != (uint64_t)w->expected_size)
                return error_setx(err, blob_writer_fail(w, -EBADMSG),
                                  "blob %s: size mismatch: got %" PRIu64 " bytes, expected %" PRId64, want,
                                  w->written, w->expected_size);
        r = store_blob_writer_digest(w, &actual);
        if (r < 0)
                return error_setx(err, r, "blob %s: commit after an earlier failure", want);
        if (!digest_equal(&actual, expected))
                return error_setx(err, blob_writer_fail(w, -EBADMSG),
                                  "blob %s: digest mismatch: content is %s", want,
                                  digest_format(&actual, got));
        if (fsync(w->fd) < 0)
                return error_set(err, blob_writer_fail(w, negative_errno()), "blob %s: fsync", want);

        r = blob_writer_link(w, digest_hex(expected, hex));
        if (r < 0)
                return error_set(err, blob_writer_fail(w, r), "blob %s: link into \"%s/blobs/sha256\"", want,
                                 w->store->root);
        w->committed = true;
        blob_writer_discard(w);
        return r;
}

int store_blob_exists(Store *s, const Digest *d)
{
        char hex[DIGEST_HEX_LEN + 1];
        struct stat st;

        assert(s && d);
        if (fstatat(s->blobs_fd, digest_hex(d, hex), &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return S_ISREG(st.st_mode) ? 1 : -EUCLEAN;
}

int store_blob_lock(Store *s, const Digest *d, int *ret_fd, BerthError *err)
{
        char hex[DIGEST_HEX_LEN + 1], name[sizeof("locks/") + DIGEST_HEX_LEN];
        int r;

        r = store_open_subdir(s, "locks", NULL, err);
        if (r < 0)
                return r;
        (void)snprintf(name, sizeof(name), "locks/%s", digest_hex(d, hex));
        /* The holder unlinks the file before it unlocks: a lock on a file no longer at the path
         * (or another file there now) guards nothing, so take the one that is there. */
        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st_fd, st_path;

                fd = openat(s->root_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return error_set(err, negative_errno(), "open \"%s/%s\"", s->root, name);
                while (flock(fd, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return error_set(err, negative_errno(), "lock \"%s/%s\"", s->root, name);
                if (fstat(fd, &st_fd) < 0)
                        return error_set(err, negative_errno(), "stat \"%s/%s\"", s->root, name);
                if (fstatat(s->root_fd, name, &st_path, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return error_set(err, negative_errno(), "stat \"%s/%s\"", s->root, name);
                }
                if (st_fd.st_dev != st_path.st_dev || st_fd.st_ino != st_path.st_ino)
                        continue;
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
}

int store_gc_lock(Store *s, bool exclusive, void (*on_wait)(void *userdata), void *userdata, int *ret_fd,
                  BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        int op = exclusive ? LOCK_EX : LOCK_SH;

        /* Never unlinked (unlike the blob locks): every holder locks the same inode. */
        fd = openat(s->root_fd, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return error_set(err, negative_errno(), "open \"%s/gc.lock\"", s->root);
        if (flock(fd, op | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return error_set(err, negative_errno(), "lock \"%s/gc.lock\"", s->root);
                if (on_wait)
                        on_wait(userdata);
                while (flock(fd, op) < 0)
                        if (errno != EINTR)
                                return error_set(err, negative_errno(), "lock \"%s/gc.lock\"", s->root);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void store_blob_unlock(Store *s, const Digest *d, int fd)
{
        char hex[DIGEST_HEX_LEN + 1], name[sizeof("locks/") + DIGEST_HEX_LEN];

        if (fd < 0)
                return;
        (void)snprintf(name, sizeof(name), "locks/%s", digest_hex(d, hex));
        (void)unlinkat(s->root_fd, name, 0);
        safe_close(fd);
}

int store_blob_open(Store *s, const Digest *d, int *ret_fd, BerthError *err)
{
        char hex[DIGEST_HEX_LEN + 1], buf[DIGEST_STRING_LEN + 1];
        int fd;

        assert(s && d && ret_fd);
        fd = openat(s->blobs_fd, digest_hex(d, hex), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, negative_errno(), "open blob %s in \"%s\"", digest_format(d, buf),
                                 s->root);
        *ret_fd = fd;
        return 0;
}

/* lstat() of blob @d, for the size and mtime getters. */
static int blob_stat(Store *s, const Digest *d, struct stat *ret, BerthError *err)
{
        char hex[DIGEST_HEX_LEN + 1], buf[DIGEST_STRING_LEN + 1];

        if (fstatat(s->blobs_fd, digest_hex(d, hex), ret, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, negative_errno(), "stat blob %s in \"%s\"", digest_format(d, buf),
                                 s->root);
        return 0;
}

int store_blob_size(Store *s, const Digest *d, uint64_t *ret, BerthError *err)
{
        char buf[DIGEST_STRING_LEN + 1];
        struct stat st;
        int r;

        assert(s && d && ret);
        r = blob_stat(s, d, &st, err);
        if (r < 0)
                return r;
        if (!S_ISREG(st.st_mode))
                return error_setx(err, -EUCLEAN, "blob %s in \"%s\": not a regular file",
                                  digest_format(d, buf), s->root);
        *ret = (uint64_t)st.st_size;
        return 0;
}

/* A stream over directory @dir_fd, "@root/@sub" of the store, on an fd of its own. */
static int store_dir_open(Store *s, int dir_fd, const char *sub, DIR **ret, BerthError *err)
{
        DIR *d;
        int fd;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, negative_errno(), "open \"%s/%s\"", s->root, sub);
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();

                safe_close(fd);
                return error_set(err, r, "open \"%s/%s\"", s->root, sub);
        }
        *ret = d;
        return 0;
}

int store_blobs_list(Store *s, Digest **ret, size_t *ret_n, BerthError *err)
{
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ Digest *list = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r;

        assert(s && ret && ret_n);
        r = store_dir_open(s, s->blobs_fd, "blobs/sha256", &d, err);
        if (r < 0)
                return r;
        errno = 0;
        while ((de = readdir(d))) {
                char text[DIGEST_STRING_LEN + 1];
                Digest dg;

                if (strlen(de->d_name) != DIGEST_HEX_LEN)
                        continue;
                snprintf(text, sizeof(text), "sha256:%s", de->d_name);
                if (digest_parse(text, &dg, NULL) < 0)
                        continue;
                if (n == cap) {
                        Digest *p;

                        cap = cap ? cap * 2 : 64;
                        p = reallocarray(list, cap, sizeof(Digest));
                        if (!p)
                                return -ENOMEM;
                        list = p;
                }
                list[n++] = dg;
                errno = 0;
        }
        if (errno != 0)
                return error_set(err, negative_errno(), "read \"%s/blobs/sha256\"", s->root);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int store_blob_mtime(Store *s, const Digest *d, int64_t *ret, BerthError *err)
{
        struct stat st;
        int r;

        assert(s && d && ret);
        r = blob_stat(s, d, &st, err);
        if (r < 0)
                return r;
        *ret = (int64_t)st.st_mtime;
        return 0;
}

int store_blob_remove(Store *s, const Digest *d, BerthError *err)
{
        char hex[DIGEST_HEX_LEN + 1], buf[DIGEST_STRING_LEN + 1];

        assert(s && d);
        if (unlinkat(s->blobs_fd, digest_hex(d, hex), 0) < 0)
                return error_set(err, negative_errno(), "remove blob %s in \"%s\"", digest_format(d, buf),
                                 s->root);
        return 0;
}

int store_tmp_prune(Store *s, int64_t older_than_sec, BerthError *err)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        time_t now = time(NULL);
        int r, removed = 0;

        assert(s);
        r = store_dir_open(s, s->tmp_fd, "tmp", &d, err);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(s->tmp_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* gone meanwhile */
                if ((int64_t)(now - st.st_mtime) <= older_than_sec)
                        continue;
                r = rm_rf_at(s->tmp_fd, de->d_name);
                if (r < 0 && r != -ENOENT)
                        return error_set(err, r, "remove \"%s/tmp/%s\"", s->root, de->d_name);
                removed++;
        }
        return removed;
}

int store_blob_read(Store *s, const Digest *d, size_t max_bytes, char **ret, size_t *ret_len,
                    BerthError *err)
{
        char hex[DIGEST_HEX_LEN + 1], buf[DIGEST_STRING_LEN + 1];
        int r;

        assert(s && d && ret && ret_len);
        r = read_full_file_at(s->blobs_fd, digest_hex(d, hex), max_bytes, ret, ret_len);
        if (r < 0)
                return error_set(err, r, "read blob %s in \"%s\"", digest_format(d, buf), s->root);
        return 0;
}

const char *store_root(const Store *s)
{
        return s->root;
}

/* ---- names ---- */

static int names_lock(Store *s, int operation, int *ret_fd, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;

        fd = openat(s->root_fd, NAMES_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_set(err, negative_errno(), "open \"%s/" NAMES_LOCK_FILE "\"", s->root);
        while (flock(fd, operation) < 0)
                if (errno != EINTR)
                        return error_set(err, negative_errno(), "lock \"%s/" NAMES_LOCK_FILE "\"", s->root);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* names.json: {"names": {"<canonical reference>": "sha256:<hex>", ...}}. Missing means empty. */
static int names_load(Store *s, json_object **ret_root, json_object **ret_names, BerthError *err)
{
        _cleanup_json_put_ json_object *root = NULL;
        _cleanup_free_ char *text = NULL;
        json_object *names = NULL;
        size_t len = 0;
        int r;

        r = read_full_file_at(s->root_fd, NAMES_FILE, NAMES_MAX_BYTES, &text, &len);
        if (r == -ENOENT) {
                root = json_object_new_object();
                names = json_object_new_object();
                if (!root || !names || json_object_object_add(root, "names", names) < 0) {
                        json_object_put(names);
                        return -ENOMEM;
                }
        } else if (r < 0)
                return error_set(err, r, "read \"%s/" NAMES_FILE "\"", s->root);
        else {
                root = json_tokener_parse(text);
                if (!root || !json_object_is_type(root, json_type_object) ||
                    !json_object_object_get_ex(root, "names", &names) ||
                    !json_object_is_type(names, json_type_object))
                        return error_setx(err, -EBADMSG,
                                          "\"%s/" NAMES_FILE "\": not a {\"names\": {...}} object", s->root);
                json_object_object_foreach (names, key, val) {
                        Digest d;

                        if (!json_object_is_type(val, json_type_string) ||
                            digest_parse(json_object_get_string(val), &d, NULL) < 0)
                                return error_setx(err, -EBADMSG,
                                                  "\"%s/" NAMES_FILE "\": \"%.300s\": not a digest", s->root,
                                                  key);
                }
        }
        *ret_names = names;
        *ret_root = TAKE_PTR(root);
        return 0;
}

static int names_save(Store *s, json_object *root, BerthError *err)
{
        const char *text;
        size_t len;
        int r;

        text = json_object_to_json_string_length(
                root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!text)
                return -ENOMEM;
        r = write_file_atomic_at(s->root_fd, NAMES_FILE, text, len, 0600, WRITE_FILE_SYNC);
        if (r < 0)
                return error_set(err, r, "write \"%s/" NAMES_FILE "\"", s->root);
        /* The rename is durable only once the directory is. */
        if (fsync(s->root_fd) < 0)
                return error_set(err, negative_errno(), "fsync \"%s\"", s->root);
        return 0;
}

/* Lock the names (@operation: LOCK_SH or LOCK_EX), then load them; the lock is the caller's to hold. */
static int names_lock_load(Store *s, int operation, int *ret_lock_fd, json_object **ret_root,
                           json_object **ret_names, BerthError *err)
{
        _cleanup_close_ int lock_fd = -EBADF;
        int r;

        r = names_lock(s, operation, &lock_fd, err);
        if (r < 0)
                return r;
        r = names_load(s, ret_root, ret_names, err);
        if (r < 0)
                return r;
        *ret_lock_fd = TAKE_FD(lock_fd);
        return 0;
}

static int name_check(const char *name, BerthError *err)
{
        if (name[0] == '\0')
                return error_setx(err, -EINVAL, "image name must not be empty");
        for (const char *c = name; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return error_setx(err, -EINVAL, "image name \"%.300s\": contains control characters",
                                          name);
        return 0;
}

int store_name_set(Store *s, const char *name, const Digest *d, BerthError *err)
{
        _cleanup_json_put_ json_object *root = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        char buf[DIGEST_STRING_LEN + 1];
        json_object *names, *value;
        int r;

        assert(s && name && d);
        r = name_check(name, err);
        if (r < 0)
                return r;
        r = names_lock_load(s, LOCK_EX, &lock_fd, &root, &names, err);
        if (r < 0)
                return r;
        value = json_object_new_string(digest_format(d, buf));
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(names, name, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return names_save(s, root, err);
}

int store_name_get(Store *s, const char *name, Digest *ret, BerthError *err)
{
        _cleanup_json_put_ json_object *root = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        json_object *names, *value;
        int r;

        assert(s && name && ret);
        r = names_lock_load(s, LOCK_SH, &lock_fd, &root, &names, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(names, name, &value))
                return error_setx(err, -ENOENT, "image \"%.300s\": not in the store", name);
        return digest_parse(json_object_get_string(value), ret, err);
}

int store_name_remove(Store *s, const char *name, BerthError *err)
{
        _cleanup_json_put_ json_object *root = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        json_object *names;
        int r;

        assert(s && name);
        r = names_lock_load(s, LOCK_EX, &lock_fd, &root, &names, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(names, name, NULL))
                return error_setx(err, -ENOENT, "image \"%.300s\": not in the store", name);
        json_object_object_del(names, name);
        return names_save(s, root, err);
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_names_list(Store *s, char ***ret, BerthError *err)
{
        _cleanup_json_put_ json_object *root = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        _cleanup_strv_free_ char **list = NULL;
        json_object *names;
        size_t n = 0;
        int r;

        assert(s && ret);
        r = names_lock_load(s, LOCK_SH, &lock_fd, &root, &names, err);
        if (r < 0)
                return r;
        list = calloc((size_t)json_object_object_length(names) + 1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        json_object_object_foreach (names, key, val) {
                (void)val;
                list[n] = strdup(key);
                if (!list[n])
                        return -ENOMEM;
                n++;
        }
        qsort(list, n, sizeof(char *), compare_strings);
        *ret = TAKE_PTR(list);
        return 0;
}
