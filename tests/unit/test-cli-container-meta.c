/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container.json and exit.json of `berth run` containers (src/cli/berth/container-meta.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "cli/berth/container-meta.h"

typedef struct Fixture {
        char dir[64];
        int fd;
} Fixture;

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/berth-meta-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;

        close(f->fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->dir), 0);
        free(f);
        return 0;
}

static const char bundle_config[] =
        "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\"],\"cwd\":\"/\"},"
        "\"annotations\":{\"org.opencontainers.image.stopSignal\":\"SIGQUIT\"}}";

static void test_meta_roundtrip(void **state)
{
        Fixture *f = *state;
        ContainerMeta m = {.created = 1700000000, .auto_remove = true}, back = {};

        m.id = strdup("web-1");
        m.image = strdup("localhost:5000/app:v\"1");
        m.image_digest = strdup("sha256:0123");
        assert_int_equal(container_meta_from_bundle(&m, bundle_config), 0);
        assert_int_equal(strv_length(m.command), 3);
        assert_string_equal(m.command[2], "echo \"hi\"");
        assert_string_equal(m.stop_signal, "SIGQUIT");
        assert_int_equal(container_meta_write(f->fd, &m), 0);

        assert_int_equal(container_meta_read(f->fd, &back), 0);
        assert_string_equal(back.id, "web-1");
        assert_string_equal(back.image, "localhost:5000/app:v\"1");
        assert_string_equal(back.image_digest, "sha256:0123");
        assert_int_equal(strv_length(back.command), 3);
        assert_string_equal(back.command[2], "echo \"hi\"");
        assert_string_equal(back.stop_signal, "SIGQUIT");
        assert_int_equal(back.created, 1700000000);
        assert_true(back.auto_remove);
        assert_false(back.detached);
        container_meta_done(&m);
        container_meta_done(&back);
}

static void test_meta_without_stop_signal(void **state)
{
        Fixture *f = *state;
        ContainerMeta m = {.created = 1, .detached = true}, back = {};

        m.id = strdup("a");
        m.image = strdup("b");
        m.image_digest = strdup("c");
        assert_int_equal(container_meta_from_bundle(&m, "{\"process\":{\"args\":[]}}"), 0);
        assert_int_equal(strv_length(m.command), 0);
        assert_null(m.stop_signal);
        assert_int_equal(container_meta_write(f->fd, &m), 0);
        assert_int_equal(container_meta_read(f->fd, &back), 0);
        assert_null(back.stop_signal);
        assert_true(back.detached);
        assert_non_null(back.command);
        assert_null(back.command[0]);
        container_meta_done(&m);
        container_meta_done(&back);
}

static void test_meta_bad(void **state)
{
        Fixture *f = *state;
        ContainerMeta m = {};

        assert_int_equal(container_meta_from_bundle(&m, "{\"process\":{}}"), -EBADMSG);
        assert_int_equal(container_meta_from_bundle(&m, "{\"process\":{\"args\":[1]}}"), -EBADMSG);
        assert_int_equal(container_meta_from_bundle(&m, "not json"), -EBADMSG);
        assert_int_equal(container_meta_read(f->fd, &m), -ENOENT);
        assert_int_equal(write_file_atomic_at(f->fd, CONTAINER_META_FILE, "[]", 2, 0644, 0), 0);
        assert_int_equal(container_meta_read(f->fd, &m), -EBADMSG);
        /* Everything there but a Created that is no time. */
        static const char bad_time[] = "{\"Id\":\"a\",\"Image\":\"b\",\"ImageDigest\":\"c\",\"Command\":[],"
                                       "\"Created\":\"yesterday\"}";
        assert_int_equal(
                write_file_atomic_at(f->fd, CONTAINER_META_FILE, bad_time, strlen(bad_time), 0644, 0), 0);
        assert_int_equal(container_meta_read(f->fd, &m), -EBADMSG);
        container_meta_done(&m);
}

static void test_exit_record(void **state)
{
        Fixture *f = *state;
        time_t before = time(NULL), finished;
        int code;

        assert_int_equal(container_exit_read(f->fd, &code, &finished), -ENOENT);
        assert_int_equal(container_exit_write(f->fd, 137), 0);
        assert_int_equal(container_exit_read(f->fd, &code, &finished), 0);
        assert_int_equal(code, 137);
        assert_true(finished >= before && finished <= time(NULL));
}

static void test_rfc3339(void **state)
{
        time_t t;

        (void)state;
        assert_int_equal(rfc3339_parse("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(rfc3339_parse("2023-11-14T22:13:20.123456789Z", &t), 0);
        assert_int_equal(t, 1700000000);
        assert_int_equal(rfc3339_parse("2023-11-14T22:13:20", &t), -EINVAL);
        assert_int_equal(rfc3339_parse("2023-11-14T22:13:20+01:00", &t), -EINVAL);
        assert_int_equal(rfc3339_parse("2023-11-14", &t), -EINVAL);
        assert_int_equal(rfc3339_parse("", &t), -EINVAL);
}

static void test_dir_lock(void **state)
{
        Fixture *f = *state;
        int other = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(other >= 0);
        assert_int_equal(container_dir_lock(f->fd, LOCK_EX, 0), 0);
        /* Another open file description: held means held, also after a short wait. */
        assert_int_equal(container_dir_lock(other, LOCK_SH, 0), -EWOULDBLOCK);
        assert_int_equal(container_dir_lock(other, LOCK_EX, 50), -EWOULDBLOCK);
        assert_int_equal(flock(f->fd, LOCK_UN), 0);
        assert_int_equal(container_dir_lock(other, LOCK_SH, 0), 0);
        close(other);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_meta_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_meta_without_stop_signal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_meta_bad, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exit_record, setup, teardown),
                cmocka_unit_test(test_rfc3339),
                cmocka_unit_test_setup_teardown(test_dir_lock, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
