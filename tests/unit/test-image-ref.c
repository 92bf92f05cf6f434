/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "image/reference.h"

#define HEX  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DGST "sha256:" HEX

typedef struct Accepted {
        const char *input;
        const char *canonical;
        const char *endpoint;
        const char *repository;
        const char *tag; /* NULL: none */
        bool has_digest;
} Accepted;

static const Accepted accepted[] = {
        {"busybox", "docker.io/library/busybox:latest", "registry-1.docker.io", "library/busybox", "latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36", "registry-1.docker.io", "library/busybox",
         "1.36"},
        {"user/app", "docker.io/user/app:latest", "registry-1.docker.io", "user/app", "latest"},
        {"docker.io/busybox", "docker.io/library/busybox:latest", "registry-1.docker.io", "library/busybox",
         "latest"},
        {"index.docker.io/library/busybox:tag", "docker.io/library/busybox:tag", "registry-1.docker.io",
         "library/busybox", "tag"},
        {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "registry-1.docker.io",
         "library/busybox", "latest"},
        {"localhost/x", "localhost/x:latest", "localhost", "x", "latest"},
        {"localhost:5000/repo:tag", "localhost:5000/repo:tag", "localhost:5000", "repo", "tag"},
        {"registry.example.com:8443/a/b/c:v1.0-rc_1", "registry.example.com:8443/a/b/c:v1.0-rc_1",
         "registry.example.com:8443", "a/b/c", "v1.0-rc_1"},
        {"ghcr.io/a/b@" DGST, "ghcr.io/a/b@" DGST, "ghcr.io", "a/b", NULL, true},
        {"repo:tag@" DGST, "docker.io/library/repo:tag@" DGST, "registry-1.docker.io", "library/repo", "tag",
         true},
        {"quay.io/a__b/c-d.e_f", "quay.io/a__b/c-d.e_f:latest", "quay.io", "a__b/c-d.e_f", "latest"},
        {"a--b/c", "docker.io/a--b/c:latest", "registry-1.docker.io", "a--b/c", "latest"},
        {"127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000", "x", "latest"},
        {"[::1]:5000/x:y", "[::1]:5000/x:y", "[::1]:5000", "x", "y"},
        /* Docker reads a lone "host:port" as repository "host" with tag "port". */
        {"localhost:5000", "docker.io/library/localhost:5000", "registry-1.docker.io", "library/localhost",
         "5000"},
        {"My.Registry.io/app", "My.Registry.io/app:latest", "My.Registry.io", "app", "latest"},
        {"x:_T.a-g", "docker.io/library/x:_T.a-g", "registry-1.docker.io", "library/x", "_T.a-g"},
};

typedef struct Refused {
        const char *input;
        const char *message;
} Refused;

static const Refused refused[] = {
        {"", "\"\": empty image reference"},
        {"Busybox", "\"Busybox\": repository name must be lowercase"},
        {"docker.io/User/app", "\"docker.io/User/app\": repository name must be lowercase"},
        {"busybox:", "\"busybox:\": invalid tag \"\""},
        {"busybox:-x", "\"busybox:-x\": invalid tag \"-x\""},
        {"busybox:a+b", "\"busybox:a+b\": invalid tag \"a+b\""},
        {"a/-b", "\"a/-b\": invalid repository name component \"-b\""},
        {"a/b_", "\"a/b_\": invalid repository name component \"b_\""},
        {"a/b___c", "\"a/b___c\": invalid repository name component \"b___c\""},
        {"a//b", "\"a//b\": invalid repository name component \"\""},
        {"ghcr.io/", "\"ghcr.io/\": invalid repository name component \"\""},
        {"ghcr.io/a b", "\"ghcr.io/a b\": invalid repository name component \"a b\""},
        {":tag", "\":tag\": repository name must not be empty"},
        {"-host.io/x", "\"-host.io/x\": invalid registry \"-host.io\""},
        {"host:abc/x", "\"host:abc/x\": invalid registry \"host:abc\""},
        {"host..io/x", "\"host..io/x\": invalid registry \"host..io\""},
        {"busybox@sha256:abc",
         "\"busybox@sha256:abc\": digest \"sha256:abc\": expected 64 hex digits after sha256:"},
        {"busybox@md5:abc", "\"busybox@md5:abc\": digest \"md5:abc\": not sha256:<64 hex digits>"},
        {HEX, "\"" HEX "\": cannot use a 64-digit hexadecimal string as a repository name"},
};

static void test_accepted(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(accepted); i++) {
                const Accepted *a = &accepted[i];
                _cleanup_(image_reference_freep) ImageReference *ref = NULL;
                _cleanup_free_ char *s = NULL;
                BerthError err = {0};
                int r;

                r = image_reference_parse(a->input, &ref, &err);
                if (r < 0)
                        fail_msg("%s: %s", a->input, err.msg);
                s = image_reference_format(ref);
                assert_non_null(s);
                assert_string_equal(s, a->canonical);
                assert_string_equal(ref->endpoint, a->endpoint);
                assert_string_equal(ref->repository, a->repository);
                if (a->tag)
                        assert_string_equal(ref->tag, a->tag);
                else
                        assert_null(ref->tag);
                assert_int_equal(ref->has_digest, a->has_digest);

                /* The canonical form is a fixed point. */
                _cleanup_(image_reference_freep) ImageReference *again = NULL;
                _cleanup_free_ char *s2 = NULL;
                assert_int_equal(image_reference_parse(s, &again, &err), 0);
                s2 = image_reference_format(again);
                assert_string_equal(s2, s);
        }
}

static void test_refused(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                ImageReference *ref = NULL;
                BerthError err = {0};

                assert_int_equal(image_reference_parse(refused[i].input, &ref, &err), -EINVAL);
                assert_null(ref);
                assert_string_equal(err.msg, refused[i].message);
        }
}

static void test_digest_kept(void **state)
{
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *name = NULL;
        char buf[DIGEST_STRING_LEN + 1];

        assert_int_equal(image_reference_parse("localhost:5000/app:v1@" DGST, &ref, NULL), 0);
        assert_true(ref->has_digest);
        assert_string_equal(digest_format(&ref->digest, buf), DGST);
        assert_string_equal(ref->tag, "v1");
        name = image_reference_name(ref);
        assert_string_equal(name, "localhost:5000/app");
}

static void test_canonical(void **state)
{
        BerthError err = {};
        char *text = NULL;

        (void)state;
        assert_int_equal(image_reference_canonical("busybox", &text, &err), 0);
        assert_string_equal(text, "docker.io/library/busybox:latest");
        free(text);
        text = NULL;
        assert_int_equal(image_reference_canonical("Busybox", &text, &err), -EINVAL);
        assert_null(text);
        assert_string_equal(err.msg, "\"Busybox\": repository name must be lowercase");
}

static void test_length_limits(void **state)
{
        char tag[200], longname[300];
        ImageReference *ref = NULL;
        BerthError err = {0};

        /* A tag of 128 characters is the longest. */
        memset(tag, 0, sizeof(tag));
        memcpy(tag, "x:", 2);
        memset(tag + 2, 't', 128);
        assert_int_equal(image_reference_parse(tag, &ref, NULL), 0);
        ref = image_reference_free(ref);
        tag[2 + 128] = 't';
        assert_int_equal(image_reference_parse(tag, &ref, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "invalid tag"));

        /* "docker.io/" + "a/" + 243 = 255 characters: the limit. */
        memset(longname, 0, sizeof(longname));
        memcpy(longname, "a/", 2);
        memset(longname + 2, 'b', 243);
        assert_int_equal(image_reference_parse(longname, &ref, NULL), 0);
        ref = image_reference_free(ref);
        longname[2 + 243] = 'b';
        err = (BerthError){0};
        assert_int_equal(image_reference_parse(longname, &ref, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "repository name must not be longer than 255 characters"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_accepted),    cmocka_unit_test(test_refused),
                cmocka_unit_test(test_digest_kept), cmocka_unit_test(test_length_limits),
                cmocka_unit_test(test_canonical),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
