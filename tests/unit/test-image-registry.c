/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strv.h"
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

static void test_insecure_registries(void **state)
{
        char *list[] = {(char *)"127.0.0.2", (char *)"reg.example:5000", (char *)"[fd00::1]", NULL};

        (void)state;
        /* Loopback names always; the list by host (any port) or by host:port. */
        assert_true(registry_is_insecure("localhost", NULL));
        assert_true(registry_is_insecure("localhost:5000", NULL));
        assert_true(registry_is_insecure("127.0.0.1:5000", NULL));
        assert_true(registry_is_insecure("[::1]:5000", NULL));
        assert_false(registry_is_insecure("127.0.0.2:5000", NULL));
        assert_false(registry_is_insecure("localhost.example:5000", NULL));
        assert_false(registry_is_insecure("docker.io", list));
        assert_true(registry_is_insecure("127.0.0.2:5000", list));
        assert_true(registry_is_insecure("127.0.0.2", list));
        assert_true(registry_is_insecure("reg.example:5000", list));
        assert_false(registry_is_insecure("reg.example:5001", list));
        assert_false(registry_is_insecure("reg.example", list));
        assert_true(registry_is_insecure("[fd00::1]:443", list));
        assert_false(registry_is_insecure("127.0.0.20:5000", list));
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void test_conf_load(void **state)
{
        char dir[] = "/tmp/berth-registry-conf-XXXXXX", path[64];
        char **list = NULL;
        BerthError err = {};

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/registries.conf", dir);
        /* No file: no insecure registries. */
        assert_int_equal(registry_conf_load(path, &list, &err), 0);
        assert_non_null(list);
        assert_null(list[0]);
        list = strv_free(list);

        write_file(path,
                   "# plain HTTP registries\n\ninsecure = 127.0.0.2:5000\n  insecure=reg.example \t\r\n");
        assert_int_equal(registry_conf_load(path, &list, &err), 0);
        assert_int_equal(strv_length(list), 2);
        assert_string_equal(list[0], "127.0.0.2:5000");
        assert_string_equal(list[1], "reg.example");
        list = strv_free(list);

        const char *bad[] = {"insecure\n", "secure = x\n", "insecure = \n", "insecure = a b\n",
                             "insecure = http://x\n"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                BerthError e = {};

                write_file(path, bad[i]);
                assert_int_equal(registry_conf_load(path, &list, &e), -EINVAL);
                assert_null(list);
                assert_non_null(strstr(e.msg, ":1: expected"));
        }
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_platform_parse),  cmocka_unit_test(test_platform_host_and_defaults),
                cmocka_unit_test(test_challenge_param), cmocka_unit_test(test_insecure_registries),
                cmocka_unit_test(test_conf_load),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
