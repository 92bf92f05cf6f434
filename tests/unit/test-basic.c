/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/chase.h"
#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "basic/strv.h"

static void test_strbuf_json_escapes(void **state)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_put_json_string(&b, "a\"b\\c\nd\x01");
        assert_false(strbuf_failed(&b));
        assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\nd\\u0001\"");
}

static void test_strbuf_printf_grows(void **state)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        for (int i = 0; i < 1000; i++)
                strbuf_printf(&b, "%d,", i);
        assert_false(strbuf_failed(&b));
        assert_int_equal(strncmp(b.ptr, "0,1,2,", 6), 0);
        assert_int_equal(b.ptr[b.len - 1], ',');
        _cleanup_free_ char *s = strbuf_steal(&b);
        assert_non_null(s);
        assert_null(b.ptr);
}

static void test_strv_env(void **state)
{
        _cleanup_strv_free_ char **env = NULL;

        assert_int_equal(strv_extend(&env, "PATH=/bin"), 0);
        assert_int_equal(strv_env_set(&env, "HOME=/root"), 0);
        assert_int_equal(strv_env_set(&env, "PATH=/usr/bin"), 0);
        assert_int_equal(strv_length(env), 2);
        assert_string_equal(strv_env_get(env, "PATH"), "/usr/bin");
        assert_null(strv_env_get(env, "PAT"));
        assert_true(strv_contains(env, "HOME=/root"));
}

static void test_error_keeps_innermost(void **state)
{
        BerthError err = {0};

        assert_int_equal(error_set(&err, -ENOENT, "open \"%s\"", "/x"), -ENOENT);
        error_set(&err, -EIO, "outer");
        assert_string_equal(err.msg, "open \"/x\": No such file or directory");
        error_prefix(&err, "create %s: ", "c1");
        assert_string_equal(err.msg, "create c1: open \"/x\": No such file or directory");
        assert_int_equal(err.code, -ENOENT);
}

static void test_atomic_write_and_rm_rf(void **state)
{
        char dir[] = "/tmp/berth-unit-XXXXXX";
        _cleanup_free_ char *data = NULL;
        size_t len;

        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(write_file_atomic_at(dfd, "state.json", "{}", 2, 0600, WRITE_FILE_SYNC), 0);
        assert_int_equal(read_full_file_at(dfd, "state.json", 1024, &data, &len), 0);
        assert_int_equal(len, 2);
        assert_string_equal(data, "{}");
        assert_int_equal(read_full_file_at(dfd, "state.json", 1, &data, &len), -EFBIG);
        assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
        int sfd = openat(dfd, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(sfd >= 0);
        assert_int_equal(write_file_atomic_at(sfd, "f", "x", 1, 0600, 0), 0);
        close(sfd);
        close(dfd);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
        struct stat st;
        assert_int_equal(stat(dir, &st), -1);
}

/* Symlinks to "/", with "..", and chained: all resolve inside the root (CVE-2021-30465). */
static void test_chase_stays_in_root(void **state)
{
        char dir[] = "/tmp/berth-unit-XXXXXX";
        struct stat want, got;

        assert_non_null(mkdtemp(dir));
        int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(mkdirat(dfd, "etc", 0755), 0);
        assert_int_equal(symlinkat("/", dfd, "abs"), 0);
        assert_int_equal(symlinkat("../../../../../../../..", dfd, "up"), 0);
        assert_int_equal(symlinkat("up/abs/up/etc", dfd, "chain"), 0);
        assert_int_equal(fstatat(dfd, "etc", &want, 0), 0);
        const char *const paths[] = {"/abs/etc", "up/etc", "/chain", "/../../etc", "/etc/../../etc"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                int fd = chase_in_root(root, paths[i], O_PATH);
                assert_true(fd >= 0);
                assert_int_equal(fstat(fd, &got), 0);
                assert_true(got.st_dev == want.st_dev && got.st_ino == want.st_ino);
                close(fd);
        }
        /* What is missing is created under the root, however the path climbs. */
        int fd = chase_in_root_create(root, "/up/abs/made/sub", CHASE_CREATE_DIR);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(fstatat(dfd, "made/sub", &got, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(got.st_mode));
        close(dfd);
        close(root);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
}

/* procfs_open() stays in /proc's procfs: no way out by "..", nor by a magic link. */
static void test_procfs_open(void **state)
{
        int fd = procfs_open("self/status", O_RDONLY);
        assert_true(fd >= 0);
        close(fd);
        fd = procfs_open("self/fd", O_PATH | O_DIRECTORY);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(procfs_open("../etc/passwd", O_RDONLY), -EXDEV);
        assert_int_equal(procfs_open("self/root/etc/passwd", O_RDONLY), -ELOOP);
        assert_int_equal(procfs_open("self/cwd", O_PATH), -ELOOP);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strbuf_json_escapes),
                cmocka_unit_test(test_strbuf_printf_grows),
                cmocka_unit_test(test_strv_env),
                cmocka_unit_test(test_error_keeps_innermost),
                cmocka_unit_test(test_atomic_write_and_rm_rf),
                cmocka_unit_test(test_chase_stays_in_root),
                cmocka_unit_test(test_procfs_open),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
