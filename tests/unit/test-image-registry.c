/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "image/registry.h"

static void test_platform_parse(void **state)
{
        RegistryPlatform p;
        BerthError err = {};

        (void)state;
        assert_int_equal(registry_platform_parse("linux/amd64", &p, &err), 0);
        assert_string_equal(p.os, "linux");
        assert_string_equal(p.architecture, "amd64");
        assert_string_equal(p.variant, "");
        assert_int_equal(registry_platform_parse("linux/arm/v7", &p, &err), 0);
        assert_string_equal(p.architecture, "arm");
        assert_string_equal(p.variant, "v7");

        const char *bad[] = {
                "",           "linux",
                "linux/",     "/amd64",
                "linux/arm/", "linux/arm/v7/x",
                "linux//v7",  "linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                BerthError e = {};

                assert_int_equal(registry_platform_parse(bad[i], &p, &e), -EINVAL);
                assert_non_null(strstr(e.msg, "os/arch"));
        }
}

static void test_platform_host_and_defaults(void **state)
{
        RegistryPullOptions o;

        (void)state;
        registry_pull_options_init(&o);
        assert_string_equal(o.platform.os, "linux");
#if defined(__x86_64__)
        assert_string_equal(o.platform.architecture, "amd64");
#endif
        assert_true(o.tls_verify);
        assert_true(o.max_parallel >= 3);
}

static void check_param(const char *params, const char *key, const char *want)
{
        _cleanup_free_ char *v = registry_challenge_param(params, key);

        if (!want)
                assert_null(v);
        else {
                assert_non_null(v);
                assert_string_equal(v, want);
        }
}

static void test_challenge_param(void **state)
{
        const char *hub = "realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                          "scope=\"repository:library/busybox:pull\"";

        (void)state;
        check_param(hub, "realm", "https://auth.docker.io/token");
        check_param(hub, "service", "registry.docker.io");
        check_param(hub, "scope", "repository:library/busybox:pull");
        check_param(hub, "SERVICE", "registry.docker.io");
        check_param(hub, "error", NULL);
        /* quoted commas, unquoted values, spaces, a key that is a prefix of another */
        check_param("scope=\"repository:a:pull,push\", realm=x", "realm", "x");
        check_param("scope=\"repository:a:pull,push\", realm=x", "scope", "repository:a:pull,push");
        check_param("realmx=\"no\",realm=\"yes\"", "realm", "yes");
        check_param("a=\"unterminated, realm=\"x\"", "realm", NULL);
        check_param("realm=\"unterminated", "realm", NULL);
        check_param("", "realm", NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_platform_parse),
                cmocka_unit_test(test_platform_host_and_defaults),
                cmocka_unit_test(test_challenge_param),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
