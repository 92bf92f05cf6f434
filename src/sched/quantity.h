/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Kubernetes quantities ("500m", "0.5", "4Gi", "1e3") parsed exactly into integers:
 * cpu into millicores, memory into bytes. Integer arithmetic only, so the same text
 * always gives the same number on every machine.
 */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

struct json_object;

/**
 * sched_quantity_parse_cpu() - parse a cpu quantity ("2", "500m", "0.5", "1k") into millicores.
 * Refuses empty text, negatives, unknown suffixes, values over UINT64_MAX millicores and
 * fractions of a millicore. Returns 0, or -EINVAL/-ERANGE with a message in @err that quotes
 * the text (the caller prefixes the field path).
 */
int sched_quantity_parse_cpu(const char *text, uint64_t *ret_millis, BerthError *err);

/**
 * sched_quantity_parse_memory() - parse a memory quantity ("4Gi", "512Mi", "1G", "1e3", "1024")
 * into bytes. Same refusals as sched_quantity_parse_cpu(), with fractions of a byte refused.
 */
int sched_quantity_parse_memory(const char *text, uint64_t *ret_bytes, BerthError *err);

/**
 * sched_quantity_from_json() - a quantity given in JSON, as a string or a number (numbers are
 * parsed from their original text, so 0.5 stays exact). @millis selects cpu (true) or memory.
 * Returns 0, -EINVAL or -ERANGE with a message in @err (no path; the caller adds it).
 */
int sched_quantity_from_json(struct json_object *v, bool millis, uint64_t *ret, BerthError *err);
