/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "basic/macro.h"
#include "image/digest.h"

/* FIPS 180-2's test vectors: "abc", and the empty string. */
#define ABC_HEX   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_hash_and_format(void **state)
{
        _cleanup_(hasher_freep) Hasher *h = hasher_new();
        char buf[DIGEST_STRING_LEN + 1], hex[DIGEST_HEX_LEN + 1];
        Digest d, parsed;
        BerthError err = {};

        (void)state;
        assert_non_null(h);
        hasher_update(h, "a", 1);
        hasher_update(h, "bc", 2);
        hasher_final(h, &d);
        assert_string_equal(digest_format(&d, buf), "sha256:" ABC_HEX);
        assert_string_equal(digest_hex(&d, hex), ABC_HEX);
        assert_int_equal(digest_parse(buf, &parsed, &err), 0);
        assert_true(digest_equal(&d, &parsed));

        /* after a reset the hasher starts over */
        hasher_reset(h);
        hasher_final(h, &d);
        assert_string_equal(digest_format(&d, buf), "sha256:" EMPTY_HEX);
        assert_false(digest_equal(&d, &parsed));
}

static void test_parse_refuses(void **state)
{
        static const struct {
                const char *text, *message;
        } cases[] = {
                {"sha512:" ABC_HEX, "digest \"sha512:" ABC_HEX "\": not sha256:<64 hex digits>"},
                {"sha256:" ABC_HEX "00",
                 "digest \"sha256:" ABC_HEX "00\": expected 64 hex digits after sha256:"},
                {"sha256:abc", "digest \"sha256:abc\": expected 64 hex digits after sha256:"},
                {"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
                 "digest \"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\": not "
                 "lowercase hex"},
                {"", "digest \"\": not sha256:<64 hex digits>"},
                {ABC_HEX, "digest \"" ABC_HEX "\": not sha256:<64 hex digits>"},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                BerthError err = {};
                Digest d;

                assert_int_equal(digest_parse(cases[i].text, &d, &err), -EINVAL);
                assert_string_equal(err.msg, cases[i].message);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hash_and_format),
                cmocka_unit_test(test_parse_refuses),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
