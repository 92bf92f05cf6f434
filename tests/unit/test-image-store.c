/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "image/store.h"

typedef struct Fixture {
        char root[64];
        Store *store;
} Fixture;

static int setup_flags(void **state, StoreOpenFlags flags)
{
        Fixture *f = calloc(1, sizeof(*f));
        BerthError err = {0};

        assert_non_null(f);
        snprintf(f->root, sizeof(f->root), "/tmp/berth-store-test-XXXXXX");
        assert_non_null(mkdtemp(f->root));
        assert_int_equal(store_open_flags(f->root, flags, &f->store, &err), 0);
        *state = f;
        return 0;
}

static int setup(void **state)
{
        return setup_flags(state, 0);
}

/* The same blob tests through named temporary files, the path for filesystems without O_TMPFILE. */
static int setup_named(void **state)
{
        return setup_flags(state, STORE_NO_TMPFILE);
}

static int teardown(void **state)
{
        Fixture *f = *state;

        store_free(f->store);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->root), 0);
        free(f);
        return 0;
}

static void digest_of(const void *data, size_t n, Digest *ret)
{
        Hasher *h = hasher_new();

        assert_non_null(h);
        hasher_update(h, data, n);
        hasher_final(h, ret);
        hasher_free(h);
}

/* Number of entries in root/sub, "." and ".." not counted. */
static size_t count_entries(const char *root, const char *sub)
{
        _cleanup_(closedirp) DIR *d = NULL;
        char path[256];
        size_t n = 0;

        snprintf(path, sizeof(path), "%s/%s", root, sub);
        d = opendir(path);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

static void test_blob_round_trip(void **state)
{
        Fixture *f = *state;
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;
        static const char part1[] = "hello, ", part2[] = "world\n";
        char text[] = "hello, world\n", buf[64], hex[DIGEST_HEX_LEN + 1], path[256];
        _cleanup_close_ int fd = -EBADF;
        BerthError err = {0};
        uint64_t size;
        struct stat st;
        Digest d;

        digest_of(text, strlen(text), &d);
        assert_int_equal(store_blob_exists(f->store, &d), 0);
        assert_int_equal(store_blob_writer_begin(f->store, (int64_t)strlen(text), &w, &err), 0);
        assert_int_equal(store_blob_writer_write(w, part1, strlen(part1), &err), 0);
        assert_int_equal(store_blob_writer_write(w, part2, strlen(part2), &err), 0);
        assert_int_equal(store_blob_writer_size(w), strlen(text));
        assert_int_equal(store_blob_writer_commit(w, &d, &err), 0);

        assert_int_equal(store_blob_exists(f->store, &d), 1);
        assert_int_equal(store_blob_size(f->store, &d, &size, &err), 0);
        assert_int_equal(size, strlen(text));
        assert_int_equal(store_blob_open(f->store, &d, &fd, &err), 0);
        assert_int_equal(loop_read(fd, buf, sizeof(buf)), (ssize_t)strlen(text));
        assert_memory_equal(buf, text, strlen(text));
        assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);

        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->root, digest_hex(&d, hex));
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(count_entries(f->root, "tmp"), 0);
}

/* A pull checks every blob before it commits any: the digest first, then a commit that does not
 * hash again and still refuses another digest. */
static void test_blob_digest_then_commit(void **state)
{
        Fixture *f = *state;
        StoreBlobWriter *w = NULL;
        static const char text[] = "checked before commit\n";
        BerthError err = {0};
        Digest d, got, other;

        digest_of(text, strlen(text), &d);
        digest_of("other", 5, &other);
        assert_int_equal(store_blob_writer_begin(f->store, (int64_t)strlen(text), &w, &err), 0);
        assert_int_equal(store_blob_writer_write(w, text, strlen(text), &err), 0);
        assert_int_equal(store_blob_writer_digest(w, &got), 0);
        assert_true(digest_equal(&got, &d));
        assert_int_equal(store_blob_writer_digest(w, &got), 0); /* the same, once more */
        assert_true(digest_equal(&got, &d));
        assert_int_equal(store_blob_writer_commit(w, &other, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "digest mismatch"));
        assert_int_equal(store_blob_exists(f->store, &other), 0);
        w = store_blob_writer_free(w);

        assert_int_equal(store_blob_writer_begin(f->store, (int64_t)strlen(text), &w, &err), 0);
        assert_int_equal(store_blob_writer_write(w, text, strlen(text), &err), 0);
        assert_int_equal(store_blob_writer_digest(w, &got), 0);
        assert_int_equal(store_blob_writer_commit(w, &d, &err), 0);
        assert_int_equal(store_blob_exists(f->store, &d), 1);
        store_blob_writer_free(w);
        assert_int_equal(count_entries(f->root, "tmp"), 0);
}

static void test_blob_unknown_size(void **state)
{
        Fixture *f = *state;
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;
        _cleanup_free_ char *big = malloc(1 << 20);
        BerthError err = {0};
        uint64_t size;
        Digest d;

        assert_non_null(big);
        for (size_t i = 0; i < (1u << 20); i++)
                big[i] = (char)(i * 7);
        digest_of(big, 1 << 20, &d);
        assert_int_equal(store_blob_writer_begin(f->store, -1, &w, &err), 0);
        for (size_t off = 0; off < (1u << 20); off += 4096)
                assert_int_equal(store_blob_writer_write(w, big + off, 4096, &err), 0);
        assert_int_equal(store_blob_writer_commit(w, &d, &err), 0);
        assert_int_equal(store_blob_size(f->store, &d, &size, &err), 0);
        assert_int_equal(size, 1 << 20);
}

static void test_blob_wrong_digest(void **state)
{
        Fixture *f = *state;
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;
        BerthError err = {0};
        Digest claimed, actual;
        int fd = -EBADF;

        digest_of("expected", 8, &claimed);
        digest_of("tampered", 8, &actual);
        assert_int_equal(store_blob_writer_begin(f->store, 8, &w, &err), 0);
        assert_int_equal(store_blob_writer_write(w, "tampered", 8, &err), 0);
        assert_int_equal(store_blob_writer_commit(w, &claimed, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "digest mismatch"));

        assert_int_equal(store_blob_exists(f->store, &claimed), 0);
        assert_int_equal(store_blob_exists(f->store, &actual), 0);
        assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
        assert_int_equal(count_entries(f->root, "tmp"), 0);
        err = (BerthError){0};
        assert_int_equal(store_blob_open(f->store, &claimed, &fd, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "open blob sha256:"));
        assert_int_equal(fd, -EBADF);

        /* A dead writer refuses more work. */
        err = (BerthError){0};
        assert_int_equal(store_blob_writer_write(w, "x", 1, &err), -EBADMSG);
}

static void test_blob_size_lies(void **state)
{
        Fixture *f = *state;
        BerthError err = {0};
        Digest d;

        /* More bytes than announced fails at once. */
        {
                _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;

                digest_of("0123456789", 10, &d);
                assert_int_equal(store_blob_writer_begin(f->store, 5, &w, &err), 0);
                assert_int_equal(store_blob_writer_write(w, "0123", 4, &err), 0);
                assert_int_equal(store_blob_writer_write(w, "456789", 6, &err), -EFBIG);
                assert_non_null(strstr(err.msg, "more than the announced 5 bytes"));
                err = (BerthError){0};
                assert_int_equal(store_blob_writer_commit(w, &d, &err), -EFBIG);
                assert_int_equal(count_entries(f->root, "tmp"), 0);
        }
        /* Fewer bytes than announced fails at commit, even with the right digest. */
        {
                _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;

                err = (BerthError){0};
                assert_int_equal(store_blob_writer_begin(f->store, 11, &w, &err), 0);
                assert_int_equal(store_blob_writer_write(w, "0123456789", 10, &err), 0);
                assert_int_equal(store_blob_writer_commit(w, &d, &err), -EBADMSG);
                assert_non_null(strstr(err.msg, "size mismatch: got 10 bytes, expected 11"));
        }
        assert_int_equal(store_blob_exists(f->store, &d), 0);
        assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
        assert_int_equal(count_entries(f->root, "tmp"), 0);
}

static void test_blob_already_present(void **state)
{
        Fixture *f = *state;
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w1 = NULL, *w2 = NULL, *w3 = NULL;
        char hex[DIGEST_HEX_LEN + 1], path[256];
        BerthError err = {0};
        struct stat st1, st2;
        Digest d;

        digest_of("same", 4, &d);
        /* Two writers of one digest, as two concurrent pulls: both succeed, one file remains. */
        assert_int_equal(store_blob_writer_begin(f->store, 4, &w1, &err), 0);
        assert_int_equal(store_blob_writer_begin(f->store, 4, &w2, &err), 0);
        assert_int_equal(store_blob_writer_write(w1, "same", 4, &err), 0);
        assert_int_equal(store_blob_writer_write(w2, "same", 4, &err), 0);
        assert_int_equal(store_blob_writer_commit(w1, &d, &err), 0);
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->root, digest_hex(&d, hex));
        assert_int_equal(stat(path, &st1), 0);
        assert_int_equal(store_blob_writer_commit(w2, &d, &err), 1);
        assert_int_equal(stat(path, &st2), 0);
        assert_int_equal(st1.st_ino, st2.st_ino); /* not rewritten */

        /* A later writer of it too. */
        assert_int_equal(store_blob_writer_begin(f->store, -1, &w3, &err), 0);
        assert_int_equal(store_blob_writer_write(w3, "same", 4, &err), 0);
        assert_int_equal(store_blob_writer_commit(w3, &d, &err), 1);
        assert_int_equal(stat(path, &st2), 0);
        assert_int_equal(st1.st_ino, st2.st_ino);
        assert_int_equal(count_entries(f->root, "blobs/sha256"), 1);
        assert_int_equal(count_entries(f->root, "tmp"), 0);
}

static void test_blob_writer_abandoned(void **state)
{
        Fixture *f = *state;
        StoreBlobWriter *w = NULL;
        BerthError err = {0};
        pid_t pid;
        int status;

        /* Freed without commit: nothing anywhere. */
        assert_int_equal(store_blob_writer_begin(f->store, -1, &w, &err), 0);
        assert_int_equal(store_blob_writer_write(w, "partial", 7, &err), 0);
        w = store_blob_writer_free(w);
        assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
        assert_int_equal(count_entries(f->root, "tmp"), 0);

        /* A process that dies mid-write (O_TMPFILE: the kernel drops the unnamed file). */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                StoreBlobWriter *cw = NULL;

                if (store_blob_writer_begin(f->store, 100, &cw, NULL) < 0 ||
                    store_blob_writer_write(cw, "partial", 7, NULL) < 0)
                        _exit(1);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
}

static void test_names(void **state)
{
        Fixture *f = *state;
        _cleanup_strv_free_ char **list = NULL;
        BerthError err = {0};
        Digest a, b, got;

        digest_of("a", 1, &a);
        digest_of("b", 1, &b);

        assert_int_equal(store_names_list(f->store, &list, &err), 0);
        assert_non_null(list);
        assert_int_equal(strv_length(list), 0);
        list = strv_free(list);

        assert_int_equal(store_name_get(f->store, "docker.io/library/busybox:latest", &got, &err), -ENOENT);
        assert_string_equal(err.msg, "image \"docker.io/library/busybox:latest\": not in the store");

        assert_int_equal(store_name_set(f->store, "docker.io/library/busybox:latest", &a, &err), 0);
        assert_int_equal(store_name_set(f->store, "ghcr.io/a/b:v1", &b, &err), 0);
        assert_int_equal(store_name_set(f->store, "docker.io/library/alpine:3", &b, &err), 0);
        assert_int_equal(store_name_get(f->store, "docker.io/library/busybox:latest", &got, &err), 0);
        assert_true(digest_equal(&got, &a));

        /* Replace. */
        assert_int_equal(store_name_set(f->store, "docker.io/library/busybox:latest", &b, &err), 0);
        assert_int_equal(store_name_get(f->store, "docker.io/library/busybox:latest", &got, &err), 0);
        assert_true(digest_equal(&got, &b));

        /* Persistence across reopen. */
        f->store = store_free(f->store);
        assert_int_equal(store_open(f->root, &f->store, &err), 0);
        assert_int_equal(store_names_list(f->store, &list, &err), 0);
        assert_int_equal(strv_length(list), 3);
        assert_string_equal(list[0], "docker.io/library/alpine:3");
        assert_string_equal(list[1], "docker.io/library/busybox:latest");
        assert_string_equal(list[2], "ghcr.io/a/b:v1");
        list = strv_free(list);

        assert_int_equal(store_name_remove(f->store, "ghcr.io/a/b:v1", &err), 0);
        err = (BerthError){0};
        assert_int_equal(store_name_remove(f->store, "ghcr.io/a/b:v1", &err), -ENOENT);
        assert_int_equal(store_name_get(f->store, "ghcr.io/a/b:v1", &got, NULL), -ENOENT);
        assert_int_equal(store_names_list(f->store, &list, &err), 0);
        assert_int_equal(strv_length(list), 2);

        err = (BerthError){0};
        assert_int_equal(store_name_set(f->store, "", &a, &err), -EINVAL);
        assert_int_equal(store_name_set(f->store, "a\nb", &a, &err), -EINVAL);
}

static void test_names_concurrent(void **state)
{
        Fixture *f = *state;
        _cleanup_strv_free_ char **list = NULL;
        BerthError err = {0};
        enum { WRITERS = 4, EACH = 10 };
        pid_t pids[WRITERS];

        /* Each process opens its own store and adds its names: the lock keeps every update. */
        for (int i = 0; i < WRITERS; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        Store *s = NULL;

                        if (store_open(f->root, &s, NULL) < 0)
                                _exit(1);
                        for (int j = 0; j < EACH; j++) {
                                char name[64];
                                Digest d;

                                snprintf(name, sizeof(name), "localhost/w%d:t%d", i, j);
                                digest_of(name, strlen(name), &d);
                                if (store_name_set(s, name, &d, NULL) < 0)
                                        _exit(1);
                        }
                        store_free(s);
                        _exit(0);
                }
        }
        for (int i = 0; i < WRITERS; i++) {
                int status;

                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        assert_int_equal(store_names_list(f->store, &list, &err), 0);
        assert_int_equal(strv_length(list), WRITERS * EACH);
}

static void test_names_corrupt(void **state)
{
        Fixture *f = *state;
        BerthError err = {0};
        char path[256];
        Digest d;
        FILE *fp;

        snprintf(path, sizeof(path), "%s/names.json", f->root);
        fp = fopen(path, "we");
        assert_non_null(fp);
        fputs("{\"names\": {\"x\": \"sha256:nothex\"}}", fp);
        fclose(fp);
        assert_int_equal(store_name_get(f->store, "x", &d, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "names.json\": \"x\": not a digest"));
}

static void put_blob(Store *s, const char *text, Digest *ret)
{
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;
        BerthError err = {0};

        digest_of(text, strlen(text), ret);
        assert_int_equal(store_blob_writer_begin(s, (int64_t)strlen(text), &w, &err), 0);
        assert_int_equal(store_blob_writer_write(w, text, strlen(text), &err), 0);
        assert_int_equal(store_blob_writer_commit(w, ret, &err), 0);
}

static void test_blobs_list_read_remove(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ Digest *list = NULL;
        _cleanup_free_ char *bytes = NULL;
        char path[256];
        BerthError err = {0};
        Digest a, b;
        int64_t mtime;
        size_t n = 99, len;

        assert_int_equal(store_blobs_list(f->store, &list, &n, &err), 0);
        assert_int_equal(n, 0);
        put_blob(f->store, "blob a\n", &a);
        put_blob(f->store, "blob b\n", &b);
        /* A stray file that is not a digest is not listed. */
        snprintf(path, sizeof(path), "%s/blobs/sha256/not-a-digest", f->root);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        assert_int_equal(access(path, F_OK), 0);
        assert_int_equal(store_blobs_list(f->store, &list, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_true((digest_equal(&list[0], &a) && digest_equal(&list[1], &b)) ||
                    (digest_equal(&list[0], &b) && digest_equal(&list[1], &a)));

        assert_int_equal(store_blob_read(f->store, &a, 1024, &bytes, &len, &err), 0);
        assert_string_equal(bytes, "blob a\n");
        assert_int_equal(len, 7);
        assert_int_equal(store_blob_mtime(f->store, &a, &mtime, &err), 0);
        assert_true(mtime > 0);

        assert_int_equal(store_blob_remove(f->store, &a, &err), 0);
        assert_int_equal(store_blob_exists(f->store, &a), 0);
        assert_int_equal(store_blob_exists(f->store, &b), 1);
        assert_int_equal(store_blob_remove(f->store, &a, NULL), -ENOENT);
        assert_int_equal(store_blob_read(f->store, &a, 1024, &bytes, &len, NULL), -ENOENT);
        assert_int_equal(store_blob_mtime(f->store, &a, &mtime, NULL), -ENOENT);
        assert_string_equal(store_root(f->store), f->root);
}

static void test_tmp_prune(void **state)
{
        Fixture *f = *state;
        struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
        char path[256];
        BerthError err = {0};

        snprintf(path, sizeof(path), "%s/tmp/old-dir", f->root);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/tmp/old-dir/file", f->root);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/tmp/old-dir", f->root);
        assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
        snprintf(path, sizeof(path), "%s/tmp/blob-old", f->root);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
        snprintf(path, sizeof(path), "%s/tmp/blob-new", f->root);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));

        assert_int_equal(store_tmp_prune(f->store, 3600, &err), 2);
        assert_int_equal(count_entries(f->root, "tmp"), 1);
        assert_int_equal(access(path, F_OK), 0);
        assert_int_equal(store_tmp_prune(f->store, 3600, &err), 0);
}

static void test_blob_lock(void **state)
{
        Fixture *f = *state;
        BerthError err = {0};
        char hex[DIGEST_HEX_LEN + 1], path[256], got = 0;
        struct pollfd pfd;
        int fd = -EBADF, pipefd[2], status;
        pid_t pid;
        Digest d;

        digest_of("locked", 6, &d);
        snprintf(path, sizeof(path), "%s/locks/%s", f->root, digest_hex(&d, hex));
        assert_int_equal(store_blob_lock(f->store, &d, &fd, &err), 0);
        assert_true(fd >= 0);
        assert_int_equal(access(path, F_OK), 0);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);

        /* Another process (its own store handle) waits for the lock... */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                Store *s = NULL;
                int cfd = -EBADF;

                /* flock() belongs to the open file: our copy of the parent's fd would hold it too. */
                close(fd);
                if (store_open(f->root, &s, NULL) < 0 || store_blob_lock(s, &d, &cfd, NULL) < 0)
                        _exit(1);
                /* ...and holds the one file at the path, not the one unlinked under it. */
                if (write(pipefd[1], access(path, F_OK) == 0 ? "y" : "n", 1) != 1)
                        _exit(1);
                store_blob_unlock(s, &d, cfd);
                store_free(s);
                _exit(0);
        }
        close(pipefd[1]);
        pfd = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 300), 0); /* still waiting while we hold it */
        store_blob_unlock(f->store, &d, fd);
        assert_int_equal(read(pipefd[0], &got, 1), 1);
        assert_int_equal(got, 'y');
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(pipefd[0]);
        /* Nothing is left behind, and the lock can be taken again. */
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(store_blob_lock(f->store, &d, &fd, &err), 0);
        store_blob_unlock(f->store, &d, fd);
        store_blob_unlock(f->store, &d, -EBADF);
}

static void gc_wait_note(void *userdata)
{
        int fd = *(int *)userdata;

        if (write(fd, "w", 1) != 1)
                _exit(1);
}

/* Shared holders never wait for each other; an exclusive one says it waits (on_wait), then gets
 * the lock once the shared holders let go. */
static void test_gc_lock(void **state)
{
        Fixture *f = *state;
        BerthError err = {};
        int fd = -EBADF, pipefd[2], status;
        char got[2];
        pid_t pid;

        assert_int_equal(store_gc_lock(f->store, false, NULL, NULL, &fd, &err), 0);
        assert_true(fd >= 0);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                Store *s = NULL;
                int sh = -EBADF, ex = -EBADF;

                close(fd); /* flock() belongs to the open file: our copy would hold it too */
                close(pipefd[0]);
                if (store_open(f->root, &s, NULL) < 0 ||
                    store_gc_lock(s, false, gc_wait_note, &pipefd[1], &sh, NULL) < 0)
                        _exit(1);
                close(sh);
                if (write(pipefd[1], "s", 1) != 1 ||
                    store_gc_lock(s, true, gc_wait_note, &pipefd[1], &ex, NULL) < 0 ||
                    write(pipefd[1], "x", 1) != 1)
                        _exit(1);
                close(ex);
                store_free(s);
                _exit(0);
        }
        close(pipefd[1]);
        /* "s": the shared lock came at once (no "w" before it); then "w": waiting for ours. */
        assert_int_equal(read(pipefd[0], &got[0], 1), 1);
        assert_int_equal(read(pipefd[0], &got[1], 1), 1);
        assert_memory_equal(got, "sw", 2);
        close(fd);
        assert_int_equal(read(pipefd[0], got, 1), 1);
        assert_int_equal(got[0], 'x');
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(pipefd[0]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_blob_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_digest_then_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_digest_then_commit, setup_named, teardown),
                cmocka_unit_test_setup_teardown(test_blob_unknown_size, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_wrong_digest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_size_lies, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_already_present, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_writer_abandoned, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_round_trip, setup_named, teardown),
                cmocka_unit_test_setup_teardown(test_blob_wrong_digest, setup_named, teardown),
                cmocka_unit_test_setup_teardown(test_blob_size_lies, setup_named, teardown),
                cmocka_unit_test_setup_teardown(test_blob_already_present, setup_named, teardown),
                cmocka_unit_test_setup_teardown(test_blob_writer_abandoned, setup_named, teardown),
                cmocka_unit_test_setup_teardown(test_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names_concurrent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names_corrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blobs_list_read_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blobs_list_read_remove, setup_named, teardown),
                cmocka_unit_test_setup_teardown(test_tmp_prune, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_lock, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gc_lock, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
