/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layers unpacked while they download (image_layer_stream_*()): what commits, what leaves nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "image/digest.h"
#include "image/layers.h"

typedef struct Fixture {
        char root[64];
        unsigned char tar[4096];
        size_t tar_len;
        ImageLayer layer;
} Fixture;

static void digest_of(const void *data, size_t n, Digest *ret)
{
        Hasher *h = hasher_new();

        assert_non_null(h);
        hasher_update(h, data, n);
        hasher_final(h, ret);
        hasher_free(h);
}

/* A plain ustar archive holding the regular file @name with @content. */
static size_t tar_one_file(unsigned char *buf, size_t size, const char *name, const char *content)
{
        size_t n = strlen(content), len = 512 + (n + 511) / 512 * 512 + 1024;
        unsigned sum = 0;

        assert_true(len <= size);
        memset(buf, 0, len);
        snprintf((char *)buf, 100, "%s", name);
        snprintf((char *)buf + 100, 8, "%07o", 0644);
        snprintf((char *)buf + 108, 8, "%07o", 0);
        snprintf((char *)buf + 116, 8, "%07o", 0);
        snprintf((char *)buf + 124, 12, "%011zo", n);
        snprintf((char *)buf + 136, 12, "%011o", 1700000000);
        buf[156] = '0';
        memcpy(buf + 257, "ustar", 6);
        memcpy(buf + 263, "00", 2);
        memset(buf + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += buf[i];
        snprintf((char *)buf + 148, 8, "%06o", sum);
        memcpy(buf + 512, content, n);
        return len;
}

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->root, sizeof(f->root), "/tmp/berth-layers-test-XXXXXX");
        assert_non_null(mkdtemp(f->root));
        f->tar_len = tar_one_file(f->tar, sizeof(f->tar), "hello", "hello, layer\n");
        digest_of(f->tar, f->tar_len, &f->layer.blob);
        f->layer.diff_id = f->layer.blob; /* uncompressed: the diff_id is the blob's digest */
        f->layer.chain_id = f->layer.diff_id;
        f->layer.media_type = (char *)"application/vnd.oci.image.layer.v1.tar";
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;

        assert_int_equal(rm_rf_at(AT_FDCWD, f->root), 0);
        free(f);
        return 0;
}

/* The entries of <root>/layers, as one sorted-free string (there is at most one in these tests). */
static void layers_entries(const Fixture *f, char *buf, size_t size)
{
        char path[128];
        struct dirent *de;
        DIR *d;

        buf[0] = 0;
        snprintf(path, sizeof(path), "%s/layers", f->root);
        d = opendir(path);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || strncmp(de->d_name, ".tmp-", 5) == 0)
                        snprintf(buf + strlen(buf), size - strlen(buf), "%s ", de->d_name);
        closedir(d);
}

static void feed(ImageLayerStream *st, const unsigned char *data, size_t n, size_t chunk)
{
        for (size_t off = 0; off < n; off += chunk)
                assert_int_equal(image_layer_stream_write(st, data + off, MIN(chunk, n - off), NULL), 0);
}

static void test_stream_commits(void **state)
{
        Fixture *f = *state;
        ImageLayerStream *st = NULL;
        BerthError err = {};
        char hex[DIGEST_HEX_LEN + 1], path[256], want[128], got[128], *text = NULL;
        size_t len;

        assert_int_equal(image_layer_stream_begin(f->root, &f->layer, &st, &err), 0);
        assert_non_null(st);
        feed(st, f->tar, f->tar_len, 100);
        assert_int_equal(image_layer_stream_finish(st, &f->layer.blob, &err), 0);
        assert_int_equal(image_layer_stream_commit(st, NULL, 0, &err), 0);
        image_layer_stream_free(st);

        snprintf(path, sizeof(path), "%s/layers/%s/hello", f->root, digest_hex(&f->layer.chain_id, hex));
        assert_int_equal(read_full_file_at(AT_FDCWD, path, 1024, &text, &len), 0);
        assert_string_equal(text, "hello, layer\n");
        free(text);
        snprintf(want, sizeof(want), "%s ", hex);
        layers_entries(f, got, sizeof(got));
        assert_string_equal(got, want);

        /* There now: nothing to start. */
        assert_int_equal(image_layer_stream_begin(f->root, &f->layer, &st, &err), 1);
        assert_null(st);
}

/* A parent the layer has no entry for is made at commit as the layer below made it, and no mark
 * is left (the child cannot see the layers below: they may be downloading too). */
static void test_stream_parent_from_lower(void **state)
{
        Fixture *f = *state;
        ImageLayerStream *st = NULL;
        BerthError err = {};
        char hex[DIGEST_HEX_LEN + 1], lower[128], path[256], buf[8];
        struct timespec ts[2] = {{1200000000, 0}, {1200000000, 0}};
        const char *lowers[1] = {lower};
        struct stat s;

        if (geteuid() != 0) {
                print_message("# skip: needs root (owners, trusted.* xattrs)\n");
                skip();
        }
        f->tar_len = tar_one_file(f->tar, sizeof(f->tar), "tmp/x", "x\n");
        digest_of(f->tar, f->tar_len, &f->layer.blob);
        f->layer.diff_id = f->layer.chain_id = f->layer.blob;
        snprintf(lower, sizeof(lower), "%s/lower", f->root);
        assert_int_equal(mkdir(lower, 0755), 0);
        snprintf(path, sizeof(path), "%s/tmp", lower);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(chmod(path, 01777), 0);
        assert_int_equal(chown(path, 1234, 5678), 0);
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);

        assert_int_equal(image_layer_stream_begin(f->root, &f->layer, &st, &err), 0);
        feed(st, f->tar, f->tar_len, 1000);
        assert_int_equal(image_layer_stream_finish(st, &f->layer.blob, &err), 0);
        assert_int_equal(image_layer_stream_commit(st, lowers, 1, &err), 0);
        image_layer_stream_free(st);

        snprintf(path, sizeof(path), "%s/layers/%s/tmp", f->root, digest_hex(&f->layer.chain_id, hex));
        assert_int_equal(stat(path, &s), 0);
        assert_int_equal(s.st_mode & 07777, 01777);
        assert_int_equal(s.st_uid, 1234);
        assert_int_equal(s.st_gid, 5678);
        assert_int_equal(s.st_mtim.tv_sec, 1200000000);
        assert_true(getxattr(path, "trusted.berth.implicit", buf, sizeof(buf)) < 0);
}

/* Each failure leaves no directory, finished or temporary. */
static void check_fails(Fixture *f, const ImageLayer *layer, const unsigned char *data, size_t n, int want,
                        const char *msg)
{
        ImageLayerStream *st = NULL;
        BerthError err = {};
        char got[128];
        Digest fed;
        int r;

        digest_of(data, n, &fed); /* what a pull's store writer computes of the bytes fed */
        assert_int_equal(image_layer_stream_begin(f->root, layer, &st, &err), 0);
        r = 0;
        for (size_t off = 0; r >= 0 && off < n; off += 512)
                r = image_layer_stream_write(st, data + off, MIN((size_t)512, n - off), &err);
        if (r >= 0)
                r = image_layer_stream_finish(st, &fed, &err);
        assert_int_equal(r, want);
        if (msg)
                assert_non_null(strstr(err.msg, msg));
        image_layer_stream_free(st);
        layers_entries(f, got, sizeof(got));
        assert_string_equal(got, "");
}

static void test_stream_wrong_diff_id(void **state)
{
        Fixture *f = *state;
        ImageLayer layer = f->layer;

        digest_of("another", 7, &layer.diff_id);
        layer.chain_id = layer.diff_id;
        check_fails(f, &layer, f->tar, f->tar_len, -EBADMSG, "the image config says");
}

static void test_stream_not_the_blob(void **state)
{
        Fixture *f = *state;
        ImageLayer layer = f->layer;

        digest_of("another", 7, &layer.blob);
        check_fails(f, &layer, f->tar, f->tar_len, -EBADMSG, "not the blob");
}

static void test_stream_not_a_tar(void **state)
{
        Fixture *f = *state;
        unsigned char junk[4096];

        memset(junk, 0xff, sizeof(junk));
        check_fails(f, &f->layer, junk, sizeof(junk), -EBADMSG, NULL);
}

static void test_stream_truncated(void **state)
{
        Fixture *f = *state;

        check_fails(f, &f->layer, f->tar, 300, -EBADMSG, NULL);
}

static void test_stream_abandoned(void **state)
{
        Fixture *f = *state;
        ImageLayerStream *st = NULL;
        char got[128];

        /* Half a layer, then the download fails: the child is killed, its directory removed. */
        assert_int_equal(image_layer_stream_begin(f->root, &f->layer, &st, NULL), 0);
        feed(st, f->tar, 512, 512);
        layers_entries(f, got, sizeof(got));
        assert_int_equal(strncmp(got, ".tmp-", 5), 0);
        image_layer_stream_free(st);
        layers_entries(f, got, sizeof(got));
        assert_string_equal(got, "");
        assert_null(image_layer_stream_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_stream_commits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_parent_from_lower, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_wrong_diff_id, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_not_the_blob, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_not_a_tar, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_truncated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_abandoned, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
