/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * YAML text to the json-c tree the JSON parsers walk, so one set of validators serves both
 * formats. Scalars resolve as YAML 1.2's core schema does (so "no" stays a string): plain
 * null/~/empty, true/false, integers and decimals become JSON values (numbers keep their original
 * text, so 0.5 stays exact), everything else, and every quoted scalar, a string.
 */

#include <stddef.h>

#include "basic/error.h"

struct json_object;

/**
 * sched_yaml_parse() - parse one YAML document of @size bytes into *@ret (owned by the caller).
 * Refuses syntax errors ("line 3, column 5: ..."), non-scalar or duplicate mapping keys, more than
 * one document, nesting deeper than 64 and alias expansion past a fixed node budget.
 * Returns 0, -EINVAL, -E2BIG or -ENOMEM.
 */
int sched_yaml_parse(const char *text, size_t size, struct json_object **ret, BerthError *err);
