/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Shared by the fuzz targets (fuzz-*.c) and their corpus replayer (replay.c). A target is built
 * twice: with libFuzzer (tests/fuzz/build.sh, `make fuzz`) and with replay.c's main(), which
 * scripts/test.sh runs over tests/fuzz/corpora/<target>/ under ASan+UBSan.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/error.h"

struct json_object;

/* The libFuzzer entry point: parse @data, check what the API promises, free everything. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise is a crash to libFuzzer and a failed case to the replayer. */
#define FUZZ_CHECK(cond)                                                                                    \
        do {                                                                                                \
                if (!(cond)) {                                                                              \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);            \
                        abort();                                                                            \
                }                                                                                           \
        } while (0)

/**
 * fuzz_check_result() - what every parser promises about its error: on failure @r is negative and
 * @err holds it with a message; on success nothing was left in @err (a stale message would hide the
 * next error, since the innermost one wins).
 */
void fuzz_check_result(int r, const BerthError *err);

/**
 * fuzz_resources() - run a linux.resources value through cgroup_resources_parse() and its "devices"
 * member through device_rules_from_json() and the device filter builder, checking the results.
 * @obj may be NULL or of any type.
 */
void fuzz_resources(struct json_object *obj, const char *field);

/** fuzz_devices() - the same for a linux.resources.devices value alone (NULL: no rules). */
void fuzz_devices(struct json_object *arr);
